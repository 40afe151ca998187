//! Benchmark: what the admin's contact search and log search read on DynamoDB (moto) with a
//! large directory and a long log. It fills fresh tables through the store (default 50,000
//! contacts and 500,000 log entries over the 90-day retention), then runs each search through
//! the recording proxy and prints, per search: the calls, round trips, items returned, items
//! DynamoDB evaluated (`ScannedCount`, and the keys a BatchGetItem asked for) and read units
//! (priced by `capacity`, as moto's own figures are placeholders). Not run in CI.
//!
//! `eval "$(bash tests/support/moto.sh start)"; cargo run --release -p gatehouse-tests --bin bench-search -- [contacts] [log entries]`

use std::sync::Arc;
use std::time::Instant;

use gatehouse::config::AwsSettings;
use gatehouse::contact::{Contact, ContactId, ContactProfile};
use gatehouse::contact_search::{ContactCursor, ContactSearch};
use gatehouse::event_log::{Level, LogEntry, LogFilter};
use gatehouse::store::{Retention, Stores, aws};
use gatehouse_tests::aws_proxy::{AwsProxy, Call, round_trips};
use gatehouse_tests::capacity::consumed;
use time::{Duration, OffsetDateTime};
use tokio::sync::Semaphore;

const SURNAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Smithson",
    "Smithers",
    "Goldsmith",
    "Okafor",
    "Kowalski",
];
const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Chris",
    "Karen",
    "Ana",
    "Wei",
    "Amara",
];
const MESSAGES: &[&str] = &[
    "Redirecting to the OpenID provider",
    "ID token verified",
    "Authorization code issued",
    "Tokens issued",
    "Refresh token rotated",
    "Userinfo served",
];

/// A small deterministic generator: the same data on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % below as u64) as usize
    }
}

fn contact(n: usize, rng: &mut Lcg, now: OffsetDateTime) -> Contact {
    let first = FIRST_NAMES[rng.next(FIRST_NAMES.len())];
    let last = SURNAMES[rng.next(SURNAMES.len())];
    let username = format!("{}{}{n}", first[..1].to_lowercase(), last.to_lowercase());
    Contact {
        id: ContactId::new_random(),
        profile: ContactProfile {
            username: username.clone(),
            email: format!("{}.{}{n}@example.org", first.to_lowercase(), last.to_lowercase()),
            first_name: first.into(),
            last_name: last.into(),
            is_staff: n.is_multiple_of(50),
            is_sysadmin: false,
            status: "A".into(),
            member_type: "REG".into(),
            roles: vec!["Member".into()],
            attributes: Default::default(),
            external_id: None,
        },
        password_hash: None,
        password_reset: None,
        mfa: None,
        created_at: now,
        updated_at: now,
        revision: 0,
    }
}

fn log_entry(n: usize, total: usize, rng: &mut Lcg, now: OffsetDateTime) -> LogEntry {
    // Spread evenly over the retention, newest last; one rare error a day or so.
    let age = Duration::seconds((89 * 86_400) as i64 * (total - n) as i64 / total as i64);
    let level = match rng.next(1000) {
        0..=4 => Level::Error,
        5..=80 => Level::Warning,
        _ => Level::Info,
    };
    let message = if n == total / 3 { "the needle" } else { MESSAGES[rng.next(MESSAGES.len())] };
    let details = serde_json::json!({ "client_id": format!("app-{}", rng.next(40)), "n": n });
    LogEntry { id: format!("e{n:07}"), level, message: message.into(), details, occurred_at: now - age }
}

/// Runs `make(i)` for 0..count, `width` at a time, printing progress.
async fn fill<F>(what: &str, count: usize, width: usize, make: impl Fn(usize) -> F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(width));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..count {
        let permit = permits.clone().acquire_owned().await.expect("semaphore");
        let job = make(i);
        tasks.spawn(async move {
            job.await;
            drop(permit);
        });
        while tasks.try_join_next().is_some() {}
        if (i + 1).is_multiple_of(50_000) {
            eprintln!("  {what}: {} of {count} after {:.0} s", i + 1, started.elapsed().as_secs_f64());
        }
    }
    while tasks.join_next().await.is_some() {}
    eprintln!("  {what}: {count} in {:.0} s", started.elapsed().as_secs_f64());
}

struct Measured {
    name: String,
    returned: usize,
    more: bool,
    calls: Vec<Call>,
    /// Items the code before cursors and budgets read for the same answer.
    before: usize,
}

fn print(rows: &[Measured]) {
    println!(
        "| search | returned | next page | calls | round trips | items evaluated | read units | before: items read |"
    );
    println!("|---|---:|---|---:|---:|---:|---:|---:|");
    for row in rows {
        // ScannedCount of each Query, and the keys each BatchGetItem asked for.
        let evaluated: u64 = row
            .calls
            .iter()
            .map(|c| {
                c.response["ScannedCount"].as_u64().unwrap_or(0)
                    + c.request["RequestItems"].as_object().map_or(0, |tables| {
                        tables.values().map(|t| t["Keys"].as_array().map_or(0, Vec::len) as u64).sum()
                    })
            })
            .sum();
        let units: f64 = row.calls.iter().map(|c| consumed(c).read).sum();
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.1} | {} |",
            row.name,
            row.returned,
            if row.more { "yes" } else { "no" },
            row.calls.len(),
            round_trips(&row.calls),
            evaluated,
            units,
            row.before
        );
    }
}

/// What the contacts page read before: the `by_username` index in pages of 100, filtered by
/// "username, email or name contains", until 10,000 matches (to count them) or the end.
fn contact_reads_before(sorted: &[Contact], text: &str) -> usize {
    let text = text.to_lowercase();
    let mut matches = 0;
    for (read, c) in sorted.iter().enumerate() {
        let p = &c.profile;
        let haystack = format!("{}\n{}\n{}\n{}", p.username, p.email, p.first_name, p.last_name).to_lowercase();
        matches += usize::from(haystack.contains(&text));
        if matches == 10_000 {
            return (read + 1).div_ceil(100) * 100;
        }
    }
    sorted.len()
}

/// What a log search read before: newest first, in pages of the page size, until the page
/// was full or the period ended.
fn log_reads_before(entries: usize, now: OffsetDateTime, filter: &LogFilter) -> usize {
    let mut found = 0;
    let mut read: usize = 0;
    for n in (0..entries).rev() {
        let entry = log_entry(n, entries, &mut Lcg(n as u64 * 2 + 1), now);
        if filter.to.is_some_and(|to| entry.occurred_at > to) {
            continue; // outside the Query's key range: not read
        }
        if filter.from.is_some_and(|from| entry.occurred_at < from) {
            break;
        }
        read += 1;
        found += usize::from(filter.matches(&entry));
        if found == filter.limit {
            break;
        }
    }
    read.div_ceil(filter.limit) * filter.limit
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let contacts: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(50_000);
    let entries: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(500_000);
    let moto = gatehouse_tests::aws_endpoint();
    let settings = gatehouse_tests::fresh_aws().await;
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).expect("whole seconds");
    let sdk = gatehouse::aws_sdk::sdk_loader().endpoint_url(&moto).load().await;
    eprintln!("filling {} with {contacts} contacts and {entries} log entries", settings.table_prefix);
    let mut rng = Lcg(7);
    let people: Vec<Contact> = (0..contacts).map(|n| contact(n, &mut rng, now)).collect();
    let people = Arc::new(people);
    let chunks = contacts.div_ceil(100);
    let (sdk_for_load, prefix, list) = (sdk.clone(), settings.table_prefix.clone(), people.clone());
    fill("contacts (a hundred a task)", chunks, 4, move |i| {
        let (sdk, prefix, list) = (sdk_for_load.clone(), prefix.clone(), list.clone());
        async move {
            let chunk = &list[i * 100..((i + 1) * 100).min(list.len())];
            aws::bulk::load_contacts(&sdk, &prefix, chunk).await.expect("load contacts");
        }
    })
    .await;
    let (sdk_for_load, prefix) = (sdk.clone(), settings.table_prefix.clone());
    fill("log entries (a thousand a task)", entries.div_ceil(1000), 4, move |i| {
        let (sdk, prefix) = (sdk_for_load.clone(), prefix.clone());
        let batch: Vec<LogEntry> = (i * 1000..((i + 1) * 1000).min(entries))
            .map(|n| log_entry(n, entries, &mut Lcg(n as u64 * 2 + 1), now))
            .collect();
        async move {
            aws::bulk::load_log_entries(&sdk, &prefix, Retention::default(), &batch).await.expect("load log entries");
        }
    })
    .await;

    let proxy = AwsProxy::start(moto).await;
    let proxied = AwsSettings { endpoint_url: Some(proxy.url.clone()), ..settings.clone() };
    let sdk = gatehouse::aws_sdk::sdk_loader().endpoint_url(&proxy.url).load().await;
    // Patiently: moto reads a whole table for each Query (seconds at this size; DynamoDB reads
    // only what it returns), so its times say nothing, and the store's timeouts would fire.
    let stores: Stores = aws::open_patiently(&sdk, &proxied, Retention::default());
    let rare = &people[contacts / 2];
    let mut sorted = people.to_vec();
    sorted.sort_by_cached_key(Contact::username_key);

    let mut rows = Vec::new();
    let searches = [
        ("contacts: everyone, first page".to_owned(), ""),
        ("contacts: `smi` (usernames, then last names, then emails)".to_owned(), "smi"),
        (format!("contacts: one username `{}`", rare.profile.username), rare.profile.username.as_str()),
        (format!("contacts: one email `{}`", rare.profile.email), rare.profile.email.as_str()),
        ("contacts: last name `okafor`".to_owned(), "okafor"),
        ("contacts: nothing matches `zzz`".to_owned(), "zzz"),
    ];
    for (name, text) in searches {
        let search = ContactSearch::new(text);
        let page = stores.contacts.list(&search, None, 50).await.expect("contact search");
        let before = contact_reads_before(&sorted, text);
        rows.push(Measured {
            name,
            returned: page.contacts.len(),
            more: page.next.is_some(),
            calls: proxy.take(),
            before,
        });
        // The second page of the busiest search: as cheap as the first.
        if text == "smi"
            && let Some(next) = page.next
        {
            let after = ContactCursor::parse(&next.encode());
            let page = stores.contacts.list(&search, after.as_ref(), 50).await.expect("second page");
            let (calls, name) = (proxy.take(), "contacts: `smi`, second page".into());
            rows.push(Measured { name, returned: page.contacts.len(), more: page.next.is_some(), calls, before });
        }
    }
    let filters = [
        ("log: newest 50", LogFilter { limit: 50, ..Default::default() }),
        ("log: errors", LogFilter { level: Some(Level::Error), limit: 50, ..Default::default() }),
        ("log: warnings and errors", LogFilter { level: Some(Level::Warning), limit: 50, ..Default::default() }),
        (
            "log: contains `needle` (one entry, 60 days back)",
            LogFilter { contains: Some("needle".into()), limit: 50, ..Default::default() },
        ),
        (
            "log: one day, 30 days back",
            LogFilter {
                from: Some(now - Duration::days(31)),
                to: Some(now - Duration::days(30)),
                limit: 50,
                ..Default::default()
            },
        ),
    ];
    for (name, filter) in filters {
        let page = stores.logs.search(&filter, now).await.expect("log search");
        let more = page.next_before.is_some();
        let before = log_reads_before(entries, now, &filter);
        rows.push(Measured { name: name.into(), returned: page.entries.len(), more, calls: proxy.take(), before });
    }
    println!("\n{contacts} contacts, {entries} log entries, pages of 50.\n");
    print(&rows);
    println!(
        "\nItems evaluated: each Query's ScannedCount plus the keys each BatchGetItem asked for. Read units: \
         priced from item sizes (tests/src/capacity.rs). Before: what the code before paging cursors and \
         read budgets read for the same page, counted on the same data (its loops, replayed without moto)."
    );
}
