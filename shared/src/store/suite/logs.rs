//! The OIDC log: filters, newest first, pages, retention, and bounded reads.

use time::Duration;

use super::T0;
use crate::store::*;

pub async fn event_log(stores: &Stores) {
    use crate::event_log::{Level, LogEntry, LogFilter};
    let entry = |n: i64, level: Level, message: &str| LogEntry {
        id: format!("e{n}"),
        level,
        message: message.into(),
        details: serde_json::json!({ "n": n }),
        occurred_at: T0 + Duration::minutes(n),
    };
    stores.logs.append(&entry(1, Level::Info, "Redirecting to the OpenID provider")).await.unwrap();
    stores.logs.append(&entry(2, Level::Error, "The OpenID provider returned an error")).await.unwrap();
    stores.logs.append(&entry(3, Level::Info, "ID token verified")).await.unwrap();
    let now = T0 + Duration::hours(1);
    let all = stores.logs.search(&LogFilter { limit: 10, ..Default::default() }, now).await.unwrap().entries;
    assert_eq!(all.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["e3", "e2", "e1"], "newest first");
    let errors = stores
        .logs
        .search(&LogFilter { level: Some(Level::Warning), limit: 10, ..Default::default() }, now)
        .await
        .unwrap()
        .entries;
    assert_eq!(errors.len(), 1);
    let text = LogFilter { contains: Some("PROVIDER".into()), limit: 10, ..Default::default() };
    assert_eq!(stores.logs.search(&text, now).await.unwrap().entries.len(), 2, "message contains, any case");
    let between = LogFilter {
        from: Some(T0 + Duration::minutes(2)),
        to: Some(T0 + Duration::minutes(3)),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(stores.logs.search(&between, now).await.unwrap().entries.len(), 2);
    let page = LogFilter { limit: 2, ..Default::default() };
    let first = stores.logs.search(&page, now).await.unwrap().entries;
    let rest = LogFilter { before: Some(first[1].sort_key()), ..page };
    assert_eq!(
        stores.logs.search(&rest, now).await.unwrap().entries.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["e1"],
        "paged"
    );
    // Paging with the cursor while newer entries arrive: every older entry exactly once.
    for n in 10..35 {
        stores.logs.append(&entry(n, Level::Info, "paged entry")).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor = LogFilter { contains: Some("paged".into()), limit: 10, ..Default::default() };
    for round in 0.. {
        let page = stores.logs.search(&cursor, now).await.unwrap();
        stores.logs.append(&entry(40 + round, Level::Info, "paged entry, newer")).await.unwrap();
        seen.extend(page.entries.iter().map(|e| e.id.clone()));
        let Some(next) = page.next_before else { break };
        cursor.before = Some(next);
    }
    let expected: Vec<String> = (10..35).rev().map(|n| format!("e{n}")).collect();
    assert_eq!(seen, expected, "each entry once, newest first, across pages");
    let much_later = T0 + stores.retention.log + Duration::hours(1);
    assert!(
        stores
            .logs
            .search(&LogFilter { limit: 10, ..Default::default() }, much_later)
            .await
            .unwrap()
            .entries
            .is_empty(),
        "retention"
    );
    log_search_reads_a_bounded_number_of_entries(stores).await;
    a_level_search_reads_only_its_level(stores).await;
}

/// Warnings and errors have views of their own: among many other entries, a level search
/// fills its pages reading nothing else (its budget is the page).
async fn a_level_search_reads_only_its_level(stores: &Stores) {
    use crate::event_log::{Level, LogEntry, LogFilter};
    let at = |n: i64| T0 + Duration::days(3) + Duration::seconds(n);
    let entry = |n: i64, level: Level| LogEntry {
        id: format!("v{n:04}"),
        level,
        message: format!("entry {n}"),
        details: serde_json::Value::Null,
        occurred_at: at(n),
    };
    for n in 0..250 {
        let level = match n {
            10 | 120 | 240 => Level::Error,
            50 | 200 => Level::Warning,
            _ => Level::Info,
        };
        stores.logs.append(&entry(n, level)).await.unwrap();
    }
    let now = at(300);
    let mut errors = LogFilter { level: Some(Level::Error), limit: 2, from: Some(at(0)), ..Default::default() };
    assert_eq!(errors.read_budget(), 2, "a page's worth");
    let first = stores.logs.search(&errors, now).await.unwrap();
    let ids = |page: &crate::event_log::LogPage| page.entries.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&first), ["v0240", "v0120"], "two errors, 130 entries apart, on one page");
    errors.before = first.next_before;
    let second = stores.logs.search(&errors, now).await.unwrap();
    assert_eq!(ids(&second), ["v0010"]);
    assert_eq!(second.next_before, None);
    let warnings = LogFilter { level: Some(Level::Warning), limit: 10, from: Some(at(0)), ..Default::default() };
    let found = stores.logs.search(&warnings, now).await.unwrap();
    assert_eq!(ids(&found), ["v0240", "v0200", "v0120", "v0050", "v0010"], "warnings and errors, newest first");
}

/// A rare match costs a page's worth of reads: the search stops after its budget, says how far
/// back it looked, and the cursor goes on from there.
async fn log_search_reads_a_bounded_number_of_entries(stores: &Stores) {
    use crate::event_log::{Level, LogEntry, LogFilter};
    let at = |n: i64| T0 + Duration::days(1) + Duration::seconds(n);
    let entry = |n: i64, message: &str| LogEntry {
        id: format!("b{n:04}"),
        level: Level::Info,
        message: message.into(),
        details: serde_json::Value::Null,
        occurred_at: at(n),
    };
    stores.logs.append(&entry(0, "the needle")).await.unwrap();
    let mut filter = LogFilter { contains: Some("needle".into()), limit: 10, from: Some(at(0)), ..Default::default() };
    let budget = filter.read_budget();
    assert!(budget > filter.limit, "a text search reads more than a page to fill one");
    let hay = i64::try_from(budget).unwrap() + 20;
    for n in 1..=hay {
        stores.logs.append(&entry(n, "hay")).await.unwrap();
    }
    let now = at(hay) + Duration::minutes(1);
    let first = stores.logs.search(&filter, now).await.unwrap();
    assert!(first.entries.is_empty(), "the budget ran out among the newer entries");
    let back_to = first.searched_back_to().expect("a cursor to go on with");
    assert_eq!(back_to, at(hay + 1 - i64::try_from(budget).unwrap()), "read exactly the budget, newest first");
    filter.before = first.next_before;
    let second = stores.logs.search(&filter, now).await.unwrap();
    assert_eq!(second.entries.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(), ["the needle"]);
    assert_eq!(second.next_before, None, "the period is searched to its start");
}
