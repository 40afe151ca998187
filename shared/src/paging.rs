//! Searches that read a bounded number of items per page, whatever the size of the table.

/// Items one page of a search reads at most, kept or not: four pages' worth, 100 to 1,000.
/// A rare match then costs a bounded read, and the page's cursor goes on from where it stopped.
pub fn read_budget(page: usize) -> usize {
    page.saturating_mul(4).clamp(100, 1000)
}
