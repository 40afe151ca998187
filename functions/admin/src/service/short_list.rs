//! Pages of the short lists (app registrations, saved queries): an organisation has dozens of
//! each, which one Query reads whole, so they are sorted and cut here. Only the page is shown,
//! and only the page's registrations have their secrets read.

/// One page of a short list, and the cursor of the next page when more remain.
#[derive(Debug)]
pub struct ShortPage<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// The items after the cursor `after` in the order of `key` (which must be unique), at most
/// `limit`. The cursor is the last item's key, so a page stays right when items before it are
/// added or deleted.
pub fn page_of<T>(mut items: Vec<T>, key: impl Fn(&T) -> String, after: Option<&str>, limit: usize) -> ShortPage<T> {
    items.sort_by_cached_key(&key);
    let start = after.map_or(0, |after| items.partition_point(|item| key(item).as_str() <= after));
    let mut items: Vec<T> = items.into_iter().skip(start).collect();
    let more = items.len() > limit;
    items.truncate(limit);
    let next = items.last().filter(|_| more).map(&key);
    ShortPage { items, next }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_the_key_and_survive_changes_before_them() {
        let names = vec!["d", "a", "c", "b", "e"];
        let first = page_of(names.clone(), |s| (*s).to_owned(), None, 2);
        assert_eq!((first.items.as_slice(), first.next.as_deref()), (&["a", "b"][..], Some("b")));
        let fewer: Vec<_> = names.iter().copied().filter(|n| *n != "a").collect();
        let second = page_of(fewer, |s| (*s).to_owned(), first.next.as_deref(), 2);
        assert_eq!((second.items.as_slice(), second.next.as_deref()), (&["c", "d"][..], Some("d")));
        let last = page_of(names, |s| (*s).to_owned(), second.next.as_deref(), 2);
        assert_eq!((last.items.as_slice(), last.next), (&["e"][..], None));
    }
}
