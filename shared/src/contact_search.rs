//! Finding contacts: by the start of their username, last name or email, a page at a time.
//!
//! Both backends read the same way. Each way is an ordered index of one key: usernames
//! first, then last names, then emails, each by (key, contact id). A contact found along a
//! later way but matching an earlier one was listed already and is skipped, so the pages hold
//! each match once without remembering what they showed. A page reads at most its size in
//! contacts, and passes over at most [`PASS_OVER_BUDGET`] entries of contacts listed already;
//! its cursor says where the next one starts.

use crate::contact::{Contact, ContactId, normalize_key};

/// One of the keys a search matches by prefix, in the order the results come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SearchWay {
    Username,
    LastName,
    Email,
}

impl SearchWay {
    const ALL: [Self; 3] = [Self::Username, Self::LastName, Self::Email];

    fn letter(self) -> char {
        match self {
            Self::Username => 'u',
            Self::LastName => 'n',
            Self::Email => 'e',
        }
    }

    /// The contact's key along this way, lowercased; `None` when it has none (no last name,
    /// no email), which keeps it out of that way.
    pub fn key_of(self, contact: &Contact) -> Option<String> {
        match self {
            Self::Username => Some(contact.username_key()),
            Self::LastName => Some(search_key(&contact.profile.last_name)).filter(|k| !k.is_empty()),
            // Plausible emails are at most 254 characters and hold no control characters.
            Self::Email => contact.email_key(),
        }
    }
}

/// Characters of a last name a search matches the start of. Names from an upstream provider
/// are not length-checked, and a DynamoDB sort key holds at most 1,024 bytes.
const SEARCH_KEY_CHARS: usize = 200;

/// A last name as its way sorts it: lowercased, without control characters, cut.
fn search_key(value: &str) -> String {
    normalize_key(value).chars().filter(|c| !c.is_control()).take(SEARCH_KEY_CHARS).collect()
}

/// Where a page ended: after this contact along this way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactCursor {
    pub way: SearchWay,
    pub key: String,
    pub id: ContactId,
}

impl ContactCursor {
    /// An opaque text for a link or an API answer.
    pub fn encode(&self) -> String {
        format!("{}.{}.{}", self.way.letter(), self.id, self.key)
    }

    pub fn parse(text: &str) -> Option<Self> {
        let (letter, rest) = text.split_once('.')?;
        let (id, key) = rest.split_once('.')?;
        // A key is a lowercased username, last name or email: never empty, never long (and
        // DynamoDB refuses an empty or over-long key with a server error).
        if key.is_empty() || key.len() > 512 || key.contains('\u{1}') {
            return None;
        }
        let way = SearchWay::ALL.into_iter().find(|w| letter.len() == 1 && letter.starts_with(w.letter()))?;
        Some(Self { way, key: key.to_owned(), id: ContactId::parse(id)? })
    }
}

/// What an administrator typed into the contacts search, lowercased and trimmed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactSearch {
    prefix: String,
}

impl ContactSearch {
    pub fn new(text: &str) -> Self {
        Self { prefix: normalize_key(text) }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn is_everyone(&self) -> bool {
        self.prefix.is_empty()
    }

    /// The ways still to read after `after`, its own first. Everyone has a username, so a
    /// blank search reads only that way.
    pub fn ways_from(&self, after: Option<&ContactCursor>) -> impl Iterator<Item = SearchWay> + use<> {
        let first = after.map_or(SearchWay::Username, |c| c.way);
        let last = if self.is_everyone() { SearchWay::Username } else { SearchWay::Email };
        SearchWay::ALL.into_iter().filter(move |w| *w >= first && *w <= last)
    }

    /// Where reading along `way` starts: after the cursor when it is on this way, else at
    /// the prefix (the empty id sorts before every contact's).
    pub fn start(&self, way: SearchWay, after: Option<&ContactCursor>) -> (String, Option<ContactId>) {
        match after.filter(|c| c.way == way) {
            Some(cursor) => (cursor.key.clone(), Some(cursor.id)),
            None => (self.prefix.clone(), None),
        }
    }

    /// Whether `key`, read along an index in order, is past the matches.
    pub fn is_past(&self, key: &str) -> bool {
        !key.starts_with(&self.prefix)
    }

    /// Whether the contact, read along `way`, belongs on the page: it matches along `way`
    /// and along no earlier way (where it was listed already).
    pub fn keeps(&self, way: SearchWay, contact: &Contact) -> bool {
        let matches = |w: SearchWay| w.key_of(contact).is_some_and(|k| k.starts_with(&self.prefix));
        matches(way) && SearchWay::ALL.into_iter().take_while(|w| *w < way).all(|w| !matches(w))
    }
}

/// One page of contacts, and the cursor of the next page when the search stopped early
/// (the page was full, or it passed over its budget of contacts listed already: then it may
/// hold fewer, or none).
#[derive(Debug, Default)]
pub struct ContactPage {
    pub contacts: Vec<Contact>,
    pub next: Option<ContactCursor>,
}

/// Index entries of contacts an earlier way listed that one page passes over at most. On
/// DynamoDB they are small markers a filter drops (about 100 bytes each), so passing over all
/// of them reads about 100 KB; a page still ends, with a cursor, however many there are.
pub const PASS_OVER_BUDGET: usize = 1000;

/// Collects a page from the contacts a backend reads, way by way, in each way's order.
pub struct ContactListing {
    limit: usize,
    page: ContactPage,
    passed_over: usize,
}

impl ContactListing {
    pub fn new(limit: usize) -> Self {
        Self { limit: limit.max(1), page: ContactPage::default(), passed_over: 0 }
    }

    /// Contacts the page still has room for.
    pub fn room(&self) -> usize {
        self.limit.saturating_sub(self.page.contacts.len())
    }

    /// How many index entries to read next along `way`: the page's room, and along the later
    /// ways as many again to pass over, more as the page passes over more (so that a way
    /// whose entries all go on the page is not read a thousand at a time), up to the budget.
    pub fn wanted(&self, way: SearchWay) -> usize {
        let room = self.room();
        match way {
            SearchWay::Username => room,
            SearchWay::LastName | SearchWay::Email => {
                let left = PASS_OVER_BUDGET.saturating_sub(self.passed_over);
                room + left.min(room + 2 * self.passed_over)
            }
        }
    }

    /// Takes a contact the page keeps, read along `way`; true when the page is full.
    pub fn take(&mut self, way: SearchWay, contact: Contact) -> bool {
        let cursor = way.key_of(&contact).map(|key| ContactCursor { way, key, id: contact.id });
        self.page.contacts.push(contact);
        let full = self.room() == 0;
        if full {
            self.page.next = cursor;
        }
        full
    }

    /// Passes over `count` entries of contacts listed already, the last of them at `last`;
    /// true when the page has passed over all it may (it then ends at `last`).
    pub fn pass_over(&mut self, count: usize, last: Option<ContactCursor>) -> bool {
        self.passed_over += count;
        let spent = self.passed_over >= PASS_OVER_BUDGET && last.is_some();
        if spent {
            self.page.next = last;
        }
        spent
    }

    pub fn finish(self) -> ContactPage {
        self.page
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_what_they_did_not_write() {
        let id = ContactId::new_random();
        let cursor = ContactCursor { way: SearchWay::Email, key: "ann.lee@x.org".into(), id };
        assert_eq!(ContactCursor::parse(&cursor.encode()), Some(cursor));
        let dotted = ContactCursor { way: SearchWay::LastName, key: "st. john".into(), id };
        assert_eq!(ContactCursor::parse(&dotted.encode()), Some(dotted), "the key may hold dots");
        let long = format!("u.{{id}}.{}", "k".repeat(513));
        for bad in ["", "u", "x.{id}.k", "uu.{id}.k", "u.not-an-id.k", "u.{id}", "u.{id}.", long.as_str()] {
            assert_eq!(ContactCursor::parse(&bad.replace("{id}", &id.to_string())), None, "{bad}");
        }
    }

    #[test]
    fn search_keys_are_short_and_plain() {
        let key = search_key(&format!(" Van\u{1}{} ", "X".repeat(5000)));
        assert!(key.starts_with("vanxxx") && key.chars().count() == SEARCH_KEY_CHARS, "{key}");
    }

    #[test]
    fn a_blank_search_reads_usernames_only_and_a_cursor_skips_finished_ways() {
        let all: Vec<_> = ContactSearch::new("  ").ways_from(None).collect();
        assert_eq!(all, [SearchWay::Username]);
        let search = ContactSearch::new("Sm");
        assert_eq!(search.prefix(), "sm");
        let cursor = ContactCursor { way: SearchWay::LastName, key: "smith".into(), id: ContactId::new_random() };
        assert_eq!(search.ways_from(Some(&cursor)).collect::<Vec<_>>(), [SearchWay::LastName, SearchWay::Email]);
        assert_eq!(search.start(SearchWay::LastName, Some(&cursor)), ("smith".into(), Some(cursor.id)));
        assert_eq!(search.start(SearchWay::Email, Some(&cursor)), ("sm".into(), None));
    }

    #[test]
    fn a_page_ends_when_full_or_when_it_has_passed_over_its_budget() {
        let cursor = |n: u8| ContactCursor { way: SearchWay::Email, key: format!("k{n}"), id: ContactId::new_random() };
        let mut listing = ContactListing::new(3);
        assert_eq!(listing.wanted(SearchWay::Username), 3);
        assert_eq!(listing.wanted(SearchWay::Email), 6, "the room, and as many again to pass over");
        assert!(!listing.pass_over(10, Some(cursor(1))));
        assert_eq!(listing.wanted(SearchWay::Email), 3 + 3 + 20, "more after passing over some");
        assert!(!listing.pass_over(PASS_OVER_BUDGET - 11, Some(cursor(1))));
        assert!(!listing.pass_over(5, None), "the end of a way is no place to stop at");
        assert_eq!(listing.wanted(SearchWay::Email), 3, "only the room is left to read");
        let last = cursor(2);
        assert!(listing.pass_over(1, Some(last.clone())));
        let page = listing.finish();
        assert!(page.contacts.is_empty());
        assert_eq!(page.next, Some(last), "the next page starts after the last entry passed over");
    }
}
