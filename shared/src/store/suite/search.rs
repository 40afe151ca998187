//! The contact search: prefixes along three ways, pages that hold each match once.

use std::collections::BTreeMap;

use super::contact;
use crate::contact::{Contact, ContactId};
use crate::contact_search::{ContactCursor, ContactSearch};
use crate::store::Stores;

fn named(username: &str, last_name: &str, email: &str) -> Contact {
    let mut c = contact(username, email);
    c.profile.last_name = last_name.into();
    c
}

fn usernames(contacts: &[Contact]) -> Vec<&str> {
    contacts.iter().map(|c| c.profile.username.as_str()).collect()
}

pub async fn contact_search(stores: &Stores) {
    let store = &stores.contacts;
    let mut people = vec![
        named("smithy", "Jones", "j@example.org"),
        named("ann", "Smith", "ann@example.org"),
        named("bo", "Smithson", "smith@example.org"),
        named("cy", "Brown", "SMITH.cy@example.org"),
        named("dee", "Smith-Jones", ""),
        named("eve", "Goldsmith", "eve@smithery.example"),
    ];
    for c in &people {
        store.insert(c).await.unwrap();
    }
    let search = ContactSearch::new("Smith");
    let found = store.list(&search, None, 50).await.unwrap();
    assert_eq!(
        usernames(&found.contacts),
        ["smithy", "ann", "dee", "bo", "cy"],
        "usernames first, then last names, then emails (bo by his last name, not again by email); \
         only starts match"
    );
    assert!(found.next.is_none());

    // A new last name moves a contact between ways; deleting one takes it out of all.
    people[3].profile.last_name = "Smithers".into();
    people[3].profile.email = "cy@example.org".into();
    store.update(&mut people[3]).await.unwrap();
    people[0].profile.last_name = String::new();
    store.update(&mut people[0]).await.unwrap();
    assert!(store.delete(people[2].id).await.unwrap());
    let found = store.list(&search, None, 50).await.unwrap();
    assert_eq!(usernames(&found.contacts), ["smithy", "ann", "dee", "cy"]);
    let brown = store.list(&ContactSearch::new("brown"), None, 50).await.unwrap();
    assert!(brown.contacts.is_empty(), "the old last name is forgotten");
    let nobody = store.list(&ContactSearch::new("smithson"), None, 50).await.unwrap();
    assert!(nobody.contacts.is_empty(), "a deleted contact is found no way");
    assert_eq!(usernames(&store.list(&ContactSearch::new("ANN@"), None, 5).await.unwrap().contacts), ["ann"]);
}

/// Pages of `search`, `limit` each, until no cursor; after each page, `added(round)` (if
/// any) is inserted.
async fn every_page(
    stores: &Stores,
    search: &ContactSearch,
    limit: usize,
    added: Option<fn(usize) -> Contact>,
) -> (Vec<ContactId>, usize) {
    let (mut seen, mut empty_pages) = (Vec::new(), 0);
    let mut after: Option<ContactCursor> = None;
    for round in 0.. {
        let page = stores.contacts.list(search, after.as_ref(), limit).await.unwrap();
        assert!(page.contacts.len() <= limit);
        empty_pages += usize::from(page.contacts.is_empty() && page.next.is_some());
        seen.extend(page.contacts.iter().map(|c| c.id));
        if let Some(added) = added {
            stores.contacts.insert(&added(round)).await.unwrap();
        }
        let Some(next) = page.next else { break };
        after = Some(ContactCursor::parse(&next.encode()).expect("a cursor reads back"));
    }
    (seen, empty_pages)
}

/// Paging returns every contact exactly once while others are added, also where most of what
/// a later way reads was listed by an earlier one (those are passed over; `contact_search`'s
/// own tests show a page ending at its budget of them).
pub async fn contact_pages(stores: &Stores) {
    let store = &stores.contacts;
    let mut originals = Vec::new();
    for n in 0..110 {
        originals.push(named(&format!("zed{n:03}"), "Zed", ""));
    }
    originals.push(named("other", "Zedd", ""));
    originals.push(named("qq", "Q", "ZED@example.org"));
    for c in &originals {
        store.insert(c).await.unwrap();
    }
    let added = |round: usize| named(&format!("zed{round:03}-new"), "", "");
    let (seen, empty_pages) = every_page(stores, &ContactSearch::new("zed"), 10, Some(added)).await;
    let mut counts: BTreeMap<ContactId, usize> = BTreeMap::new();
    for id in &seen {
        *counts.entry(*id).or_default() += 1;
    }
    assert!(counts.values().all(|n| *n == 1), "no contact twice");
    assert!(originals.iter().all(|c| counts.contains_key(&c.id)), "every contact there from the start");
    assert_eq!(empty_pages, 0, "110 contacts listed already are passed over within one page");

    let (everyone, _) = every_page(stores, &ContactSearch::new(""), 7, None).await;
    assert!(seen.iter().all(|id| everyone.contains(id)), "a blank search lists everyone");
    let unique: std::collections::BTreeSet<_> = everyone.iter().collect();
    assert_eq!(unique.len(), everyone.len(), "a blank search pages through everyone once");
}
