//! Searches that read a bounded number of items per page, whatever the size of the table.

/// Items one page of a search reads at most, kept or not: four pages' worth, 100 to 1,000.
/// A rare match then costs a bounded read, and the page's cursor goes on from where it stopped.
pub fn read_budget(page: usize) -> usize {
    page.saturating_mul(4).clamp(100, 1000)
}

/// Whether `text` can be the cursor of a list ordered by time (the log, the outbox): a sort
/// key, `<epoch seconds, 12 digits>#<id>`. Anything else is refused before it reaches a store
/// (DynamoDB would refuse an over-long key condition with a server error).
pub fn is_time_cursor(text: &str) -> bool {
    let Some((seconds, id)) = text.split_once('#') else { return false };
    seconds.len() == 12
        && seconds.bytes().all(|b| b.is_ascii_digit())
        && (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_cursors_are_sort_keys_and_nothing_else() {
        assert!(is_time_cursor("001764720000#AbC123xyz"));
        for bad in ["", "#a", "1764720000#a", "001764720000#", "001764720000#a b", "00176472000x#a"] {
            assert!(!is_time_cursor(bad), "{bad}");
        }
        assert!(!is_time_cursor(&format!("001764720000#{}", "a".repeat(65))));
    }
}
