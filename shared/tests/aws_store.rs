//! The shared store suite against the AWS backend, on a local moto server. Start it first:
//!
//!     eval "$(tests/support/moto.sh start)"
//!     cargo test -p gatehouse --test aws_store
//!
//! Every check gets fresh tables and secrets under a random prefix.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_config::{Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::types::TimeToLiveStatus;
use gatehouse::clock::SystemClock;
use gatehouse::config::{AwsSettings, Backend};
use gatehouse::contact::{Contact, ContactId, ContactProfile};
use gatehouse::contact_search::ContactSearch;
use gatehouse::secret::{SecretString, random_alphanumeric};
use gatehouse::store::aws::{open_with_config, schema};
use gatehouse::store::{Retention, StoreError, Stores, Taken, suite};
use time::OffsetDateTime;

const ENDPOINT_VAR: &str = "GATEHOUSE_TEST_AWS_ENDPOINT";

fn endpoint() -> String {
    match std::env::var(ENDPOINT_VAR) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "{ENDPOINT_VAR} is not set. These tests need a local moto server: run \
             `eval \"$(tests/support/moto.sh start)\"` from the repository root, then rerun."
        ),
    }
}

/// moto accepts any credentials; static ones keep the test independent of the environment.
async fn sdk_config(endpoint: &str) -> SdkConfig {
    gatehouse::aws_sdk::sdk_loader()
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "gatehouse-tests"))
        .load()
        .await
}

/// Settings naming tables and secrets no other test uses.
fn fresh_settings(endpoint: &str) -> AwsSettings {
    let run = random_alphanumeric(12).unwrap();
    AwsSettings {
        table_prefix: format!("gatehouse-test-{run}-"),
        secret_prefix: format!("gatehouse-test/{run}/"),
        endpoint_url: Some(endpoint.to_owned()),
        backfill_listings: false,
    }
}

struct Fixture {
    sdk_config: SdkConfig,
    settings: AwsSettings,
    stores: Stores,
}

impl Fixture {
    async fn new() -> Self {
        let endpoint = endpoint();
        let sdk_config = sdk_config(&endpoint).await;
        let settings = fresh_settings(&endpoint);
        schema::create_tables(&dynamo(&sdk_config), &settings.table_prefix).await.unwrap();
        let stores = open_with_config(&sdk_config, &settings, Retention::default());
        Self { sdk_config, settings, stores }
    }

    /// Drops the tables so a long-running moto does not accumulate them.
    async fn drop_tables(self) {
        let client = dynamo(&self.sdk_config);
        for spec in schema::TABLES {
            client.delete_table().table_name(spec.table_name(&self.settings.table_prefix)).send().await.unwrap();
        }
    }
}

fn dynamo(sdk_config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(sdk_config)
}

#[tokio::test]
async fn aws_backend_passes_the_store_suite() {
    for (name, check) in suite::ALL {
        eprintln!("store suite: {name}");
        let fixture = Fixture::new().await;
        // As the functions open them: secrets kept per process.
        check(&fixture.stores.clone().with_secret_cache(Arc::new(SystemClock))).await;
        fixture.drop_tables().await;
    }
}

#[tokio::test]
async fn refresh_tokens_stored_before_they_were_sealed_still_work() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let fixture = Fixture::new().await;
    let client = dynamo(&fixture.sdk_config);
    let table = schema::EPHEMERAL.table_name(&fixture.settings.table_prefix);
    // The item as releases before sealed refresh tokens wrote it.
    let write = async |digest: gatehouse::secret::TokenDigest, grant: gatehouse::grants::TokenGrant| {
        client
            .put_item()
            .table_name(&table)
            .item(schema::EPHEMERAL.partition_key, AttributeValue::S(format!("refresh#{}", digest.as_str())))
            .item("doc", AttributeValue::S(serde_json::to_string(&grant).unwrap()))
            .item("expires_at", AttributeValue::N(grant.expires_at.unix_timestamp().to_string()))
            .send()
            .await
            .unwrap();
    };
    suite::stored_refresh_tokens(&fixture.stores, write).await;
    fixture.drop_tables().await;
}

fn contact(username: &str, external_id: Option<&str>) -> Contact {
    let at = OffsetDateTime::from_unix_timestamp(1_767_268_800).unwrap();
    Contact {
        id: ContactId::new_random(),
        profile: ContactProfile {
            username: username.to_owned(),
            email: format!("{username}@example.org"),
            first_name: "Race".into(),
            last_name: "Runner".into(),
            is_staff: false,
            is_sysadmin: false,
            status: "A".into(),
            member_type: "REG".into(),
            roles: vec![],
            attributes: BTreeMap::new(),
            external_id: external_id.map(str::to_owned),
        },
        password_hash: None,
        password_reset: None,
        mfa: None,
        created_at: at,
        updated_at: at,
        revision: 0,
    }
}

/// Exactly one of two results is Ok; the other is a Conflict on what `taken` accepts.
fn assert_one_winner(results: [&Result<(), StoreError>; 2], taken: fn(&Taken) -> bool) -> usize {
    let winners: Vec<usize> = (0..2).filter(|&i| results[i].is_ok()).collect();
    assert_eq!(winners.len(), 1, "exactly one racer wins: {results:?}");
    let loser = results[1 - winners[0]];
    assert!(
        matches!(loser, Err(StoreError::Conflict(what)) if taken(what)),
        "the other is told what is taken: {loser:?}"
    );
    winners[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_inserts_of_one_username_admit_exactly_one() {
    let fixture = Fixture::new().await;
    let contacts = &fixture.stores.contacts;
    // Several rounds, so the two writes do overlap at least sometimes.
    for round in 0..8 {
        let first = contact(&format!("racer{round}"), None);
        let second = contact(&format!("RACER{round}"), None);
        let (a, b) = tokio::join!(contacts.insert(&first), contacts.insert(&second));
        let winner = assert_one_winner([&a, &b], |t| matches!(t, Taken::Username(_)));
        let expected = [first.id, second.id][winner];
        let stored = contacts.find_by_username(&format!("Racer{round}")).await.unwrap();
        assert_eq!(stored.map(|c| c.id), Some(expected));
        let loser = [first.id, second.id][1 - winner];
        assert!(contacts.get(loser).await.unwrap().is_none(), "the loser stored nothing");
    }

    let first = contact("ext-a", Some("shared-ext"));
    let second = contact("ext-b", Some("shared-ext"));
    let (a, b) = tokio::join!(contacts.insert(&first), contacts.insert(&second));
    assert_one_winner([&a, &b], |t| matches!(t, Taken::ExternalId(_)));
    let loser = if a.is_ok() { &second } else { &first };
    assert!(
        contacts.find_by_username(&loser.profile.username).await.unwrap().is_none(),
        "a refused insert releases nothing it claimed"
    );
    fixture.drop_tables().await;
}

#[tokio::test]
async fn create_tables_is_repeatable_and_enables_ttl() {
    let fixture = Fixture::new().await;
    let client = dynamo(&fixture.sdk_config);
    schema::create_tables(&client, &fixture.settings.table_prefix).await.unwrap();
    for spec in schema::TABLES {
        let ttl = client
            .describe_time_to_live()
            .table_name(spec.table_name(&fixture.settings.table_prefix))
            .send()
            .await
            .unwrap();
        let description = ttl.time_to_live_description().unwrap();
        match spec.ttl_attribute {
            Some(attribute) => {
                assert_eq!(description.time_to_live_status(), Some(&TimeToLiveStatus::Enabled), "{}", spec.suffix);
                assert_eq!(description.attribute_name(), Some(attribute));
            }
            None => assert_ne!(description.time_to_live_status(), Some(&TimeToLiveStatus::Enabled), "{}", spec.suffix),
        }
    }
    fixture.drop_tables().await;
}

/// `Stores::open` as the functions call it: credentials and region from the environment,
/// which `tests/support/moto.sh start` exports.
#[tokio::test]
async fn stores_open_uses_the_environment_and_endpoint() {
    let endpoint = endpoint();
    for var in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] {
        assert!(
            std::env::var(var).is_ok_and(|v| !v.is_empty()),
            "{var} is not set: run `eval \"$(tests/support/moto.sh start)\"`, which exports it"
        );
    }
    let settings = fresh_settings(&endpoint);
    let stores = Stores::open(&Backend::Aws(settings.clone()), Retention::default()).await.unwrap();
    stores.secrets.put("open/check", &SecretString::new("value")).await.unwrap();
    // The same secret, read through a client built from static settings: one server.
    let direct = open_with_config(&sdk_config(&endpoint).await, &settings, Retention::default());
    assert_eq!(
        direct.secrets.get("open/check").await.unwrap().map(|s| s.expose().to_owned()).as_deref(),
        Some("value")
    );
    stores.secrets.delete("open/check").await.unwrap();
}

/// DynamoDB returns at most 1 MB per scan or query page; big items force several pages.
#[tokio::test]
async fn scans_and_queries_follow_every_page() {
    let fixture = Fixture::new().await;
    let padding = "x".repeat(150_000);
    let count = 10;
    for i in 0..count {
        let mut big = contact(&format!("big{i:02}"), None);
        big.profile.email = "shared@example.org".into();
        big.profile.attributes.insert("padding".into(), padding.clone());
        fixture.stores.contacts.insert(&big).await.unwrap();
    }
    let table = schema::CONTACTS.table_name(&fixture.settings.table_prefix);
    let client = dynamo(&fixture.sdk_config);
    let first_scan = client.scan().table_name(&table).send().await.unwrap();
    assert!(
        first_scan.last_evaluated_key().is_some(),
        "the table needs more than one scan page for this test to mean anything"
    );
    let first_query = client
        .query()
        .table_name(&table)
        .index_name(schema::CONTACTS_BY_EMAIL.name)
        .key_condition_expression("email_key = :e")
        .expression_attribute_values(":e", aws_sdk_dynamodb::types::AttributeValue::S("shared@example.org".into()))
        .send()
        .await
        .unwrap();
    assert!(first_query.last_evaluated_key().is_some());
    let listed = fixture.stores.contacts.list(&ContactSearch::new(""), None, 100).await.unwrap().contacts;
    let names: Vec<_> = listed.iter().map(|c| c.profile.username.clone()).collect();
    let expected: Vec<_> = (0..count).map(|i| format!("big{i:02}")).collect();
    assert_eq!(names, expected, "every page is read, in username order");
    let big0 = fixture.stores.contacts.list(&ContactSearch::new("BIG0"), None, 3).await.unwrap();
    assert_eq!(big0.contacts.len(), 3);
    assert_eq!(fixture.stores.contacts.find_by_email("Shared@Example.org").await.unwrap().len(), count);
    fixture.drop_tables().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_failures_all_count() {
    let fixture = Fixture::new().await;
    let throttle = &fixture.stores.throttle;
    let now = OffsetDateTime::now_utc();
    let window = time::Duration::minutes(15);
    let (a, b, c, d) = tokio::join!(
        throttle.record_failure("acct", now, window),
        throttle.record_failure("acct", now, window),
        throttle.record_failure("acct", now, window),
        throttle.record_failure("acct", now, window),
    );
    let mut counts = [a.unwrap(), b.unwrap(), c.unwrap(), d.unwrap()];
    counts.sort_unstable();
    assert_eq!(counts, [1, 2, 3, 4], "each failure counted once");
    let (failures, _) = throttle.failures("acct", now).await.unwrap().unwrap();
    assert_eq!(failures, 4);
    fixture.drop_tables().await;
}

#[tokio::test]
async fn updates_move_external_id_claims() {
    let fixture = Fixture::new().await;
    let contacts = &fixture.stores.contacts;
    let mut first = contact("first", Some("ext-old"));
    contacts.insert(&first).await.unwrap();

    first.profile.external_id = Some("ext-new".into());
    contacts.update(&mut first).await.unwrap();
    let other = contact("other", Some("ext-old"));
    contacts.insert(&other).await.expect("the old external id is released");
    let thief = contact("thief", Some("ext-new"));
    assert!(
        matches!(contacts.insert(&thief).await, Err(StoreError::Conflict(Taken::ExternalId(t))) if t == "ext-new"),
        "the new external id is claimed"
    );

    first.profile.external_id = None;
    contacts.update(&mut first).await.unwrap();
    contacts.insert(&thief).await.expect("clearing an external id releases it");

    let mut renamed = first.clone();
    renamed.profile.username = "FIRST".into();
    contacts.update(&mut renamed).await.expect("a change of case keeps the username");
    assert_eq!(contacts.find_by_username("first").await.unwrap(), Some(renamed));
    fixture.drop_tables().await;
}

/// A version from before the search markers, still running during a deployment, writes a
/// contact without its markers: a marker that no longer matches its contact is passed over,
/// and pages of a search still list each contact that matches once, in order.
#[tokio::test]
async fn a_marker_an_older_version_left_behind_is_passed_over() {
    use aws_sdk_dynamodb::types::AttributeValue::S;
    let fixture = Fixture::new().await;
    let contacts = &fixture.stores.contacts;
    let mut people = Vec::new();
    for n in 0..6 {
        let mut person = contact(&format!("p{n}"), None);
        person.profile.last_name = "Brown".into();
        contacts.insert(&person).await.unwrap();
        people.push(person);
    }
    // Two of them renamed Green by an older version: the item says Green, the marker Brown.
    let client = dynamo(&fixture.sdk_config);
    let table = schema::CONTACTS.table_name(&fixture.settings.table_prefix);
    for renamed in [&people[1], &people[4]] {
        let key = S(format!("contact#{}", renamed.id));
        let item = client.get_item().table_name(&table).key("pk", key.clone()).send().await.unwrap().item.unwrap();
        let doc = item["doc"].as_s().unwrap().replace(r#""last_name":"Brown""#, r#""last_name":"Green""#);
        let write = client.update_item().table_name(&table).key("pk", key).update_expression("SET #doc = :doc");
        write
            .expression_attribute_names("#doc", "doc")
            .expression_attribute_values(":doc", S(doc))
            .send()
            .await
            .unwrap();
    }
    let search = ContactSearch::new("brown");
    let (mut seen, mut after) = (Vec::new(), None);
    loop {
        let page = contacts.list(&search, after.as_ref(), 2).await.unwrap();
        assert!(page.contacts.iter().all(|c| c.profile.last_name == "Brown"), "{:?}", page.contacts);
        seen.extend(page.contacts.iter().map(|c| c.id));
        let Some(next) = page.next else { break };
        after = Some(next);
    }
    let mut expected: Vec<ContactId> = [0, 2, 3, 5].iter().map(|n| people[*n].id).collect();
    expected.sort_by_key(ToString::to_string);
    assert_eq!(seen, expected, "each Brown once, in id order (the key is the same), the Greens passed over");
    fixture.drop_tables().await;
}

/// Items saved before the listing indexes lack their attributes, and contacts saved before the
/// prefix search their search markers: the backfill adds them once, and the admin lists and
/// searches show those items again.
/// A saved query and a registration, stored, to be made to look as an older Gatehouse left them.
async fn old_documents(stores: &Stores) -> (gatehouse::query::SavedQuery, gatehouse::registration::Registration) {
    let query = suite::saved_query("$/Old/Profile", gatehouse::query::QueryKind::Profile);
    stores.queries.insert(&query).await.unwrap();
    let registration = suite::registration("Old App");
    stores.registrations.insert(&registration).await.unwrap();
    (query, registration)
}

#[tokio::test]
async fn the_backfill_lists_items_saved_before_the_listing_indexes() {
    use gatehouse::store::aws::backfill;
    let fixture = Fixture::new().await;
    let stores = &fixture.stores;
    let old = contact("Before-Indexes", None);
    stores.contacts.insert(&old).await.unwrap();
    let (_, registration) = old_documents(stores).await;
    // What an item saved by an older Gatehouse looks like: no listing attributes.
    let client = dynamo(&fixture.sdk_config);
    let prefix = &fixture.settings.table_prefix;
    for (spec, key, value) in [
        (schema::CONTACTS, "pk", format!("contact#{}", old.id)),
        (schema::QUERIES, "path", "$/Old/Profile".to_owned()),
        (schema::REGISTRATIONS, "client_id", registration.client_id.to_string()),
    ] {
        client
            .update_item()
            .table_name(spec.table_name(prefix))
            .key(key, aws_sdk_dynamodb::types::AttributeValue::S(value))
            .update_expression(if spec == schema::CONTACTS { "REMOVE listing, username_key" } else { "REMOVE listing" })
            .send()
            .await
            .unwrap();
    }
    for marker in ["last_name", "email"] {
        let key = aws_sdk_dynamodb::types::AttributeValue::S(format!("search#{marker}#{}", old.id));
        let gone = client.delete_item().table_name(schema::CONTACTS.table_name(prefix)).key("pk", key);
        assert!(
            gone.return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld).send().await.unwrap().attributes.is_some()
        );
    }
    let by_last_name = ContactSearch::new("runner");
    assert!(stores.contacts.list(&by_last_name, None, 10).await.unwrap().contacts.is_empty(), "no search markers");
    let everyone = ContactSearch::new("");
    assert!(stores.contacts.list(&everyone, None, 10).await.unwrap().contacts.is_empty(), "not listed yet");
    assert!(stores.queries.list().await.unwrap().is_empty());
    assert!(stores.registrations.list().await.unwrap().is_empty());

    assert_eq!(
        backfill::run(&client, prefix, OffsetDateTime::now_utc()).await.unwrap(),
        4,
        "one contact (twice), one query, one registration"
    );
    let before = stores.contacts.list(&ContactSearch::new("before"), None, 10).await.unwrap();
    assert_eq!(before.contacts, vec![old.clone()]);
    let runner = stores.contacts.list(&by_last_name, None, 10).await.unwrap();
    assert_eq!(runner.contacts, vec![old.clone()], "found by last name again");
    let by_email = stores.contacts.list(&ContactSearch::new("before-indexes@"), None, 10).await.unwrap();
    assert_eq!(by_email.contacts.len(), 1, "and by email");
    assert_eq!(stores.queries.list().await.unwrap().len(), 1);
    assert_eq!(stores.registrations.list().await.unwrap().len(), 1);
    assert_eq!(stores.contacts.find_by_username("before-indexes").await.unwrap(), Some(old), "markers untouched");
    let first_pass = OffsetDateTime::now_utc();
    assert_eq!(backfill::run(&client, prefix, first_pass).await.unwrap(), 0, "once per stack");

    // A version from before the search markers, still serving during the deployment, saves a
    // contact without them: the pass runs once more an hour on, for the contacts changed since.
    let late = Contact { created_at: first_pass, updated_at: first_pass, ..contact("late-comer", None) };
    stores.contacts.insert(&late).await.unwrap();
    for marker in ["last_name", "email"] {
        let key = aws_sdk_dynamodb::types::AttributeValue::S(format!("search#{marker}#{}", late.id));
        client.delete_item().table_name(schema::CONTACTS.table_name(prefix)).key("pk", key).send().await.unwrap();
    }
    let in_ten_minutes = first_pass + time::Duration::minutes(10);
    assert_eq!(backfill::run(&client, prefix, in_ten_minutes).await.unwrap(), 0, "not while the deployment may last");
    assert_eq!(stores.contacts.list(&by_last_name, None, 10).await.unwrap().contacts.len(), 1);
    let in_an_hour = first_pass + time::Duration::minutes(61);
    assert_eq!(backfill::run(&client, prefix, in_an_hour).await.unwrap(), 1, "only the contact changed since");
    assert_eq!(stores.contacts.list(&by_last_name, None, 10).await.unwrap().contacts.len(), 2, "found by last name");
    let later = first_pass + time::Duration::hours(3);
    assert_eq!(backfill::run(&client, prefix, later).await.unwrap(), 0, "then never again");
    fixture.drop_tables().await;
}

/// Registrations and queries saved before revisions were counted (no `revision` attribute, none
/// in the document) are at revision 0: an update from a copy read then is made, and one from a
/// copy older than that update is refused.
#[tokio::test]
async fn documents_saved_before_revisions_are_at_revision_zero() {
    use gatehouse::query::QueryKind;
    let fixture = Fixture::new().await;
    let stores = &fixture.stores;
    let (query, registration) = old_documents(stores).await;
    let client = dynamo(&fixture.sdk_config);
    let prefix = &fixture.settings.table_prefix;
    for (spec, key, value) in [
        (schema::QUERIES, "path", query.path.to_string()),
        (schema::REGISTRATIONS, "client_id", registration.client_id.to_string()),
    ] {
        client
            .update_item()
            .table_name(spec.table_name(prefix))
            .key(key, aws_sdk_dynamodb::types::AttributeValue::S(value))
            .update_expression("REMOVE revision")
            .condition_expression("attribute_exists(revision)")
            .send()
            .await
            .unwrap();
    }
    let mut changed = registration.clone();
    changed.settings.name = "Old App, renamed".into();
    stores.registrations.update(&mut changed).await.unwrap();
    assert_eq!(stores.registrations.get(registration.client_id).await.unwrap(), Some(changed.clone()));
    let mut stale = registration.clone();
    assert!(matches!(stores.registrations.update(&mut stale).await, Err(StoreError::Stale)));
    let mut changed = query.clone();
    changed.kind = QueryKind::Role;
    stores.queries.update(&mut changed).await.unwrap();
    assert_eq!(changed.revision, 1);
    let mut stale = query.clone();
    assert!(matches!(stores.queries.update(&mut stale).await, Err(StoreError::Stale)));
    assert_eq!(stores.queries.get(&query.path).await.unwrap(), Some(changed));
    fixture.drop_tables().await;
}

/// Entries written before the log's level views began (by an older Gatehouse) are still found
/// by a level search: once past the views' start it goes on in the whole log, filtered.
#[tokio::test]
async fn a_level_search_reaches_entries_from_before_the_views() {
    use gatehouse::event_log::{Level, LogEntry, LogFilter};
    use gatehouse::store::aws::backfill;
    let fixture = Fixture::new().await;
    let logs = &fixture.stores.logs;
    let t0 = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() - time::Duration::days(2);
    let entry = |n: i64, level: Level| LogEntry {
        id: format!("x{n:02}"),
        level,
        message: format!("entry {n}"),
        details: serde_json::Value::Null,
        occurred_at: t0 + time::Duration::minutes(n),
    };
    let old = entry(0, Level::Error);
    logs.append(&old).await.unwrap();
    // What an older Gatehouse wrote: the entry in the log, in no view.
    let client = dynamo(&fixture.sdk_config);
    let table = schema::EPHEMERAL.table_name(&fixture.settings.table_prefix);
    for view in ["log-warning", "log-error"] {
        let key = aws_sdk_dynamodb::types::AttributeValue::S(format!("{view}#{}", old.sort_key()));
        client.delete_item().table_name(&table).key("pk", key).send().await.unwrap();
    }
    for n in 1..6 {
        logs.append(&entry(n, Level::Info)).await.unwrap();
    }
    backfill::run(&client, &fixture.settings.table_prefix, t0 + time::Duration::minutes(10)).await.unwrap();
    let new = entry(20, Level::Error);
    logs.append(&new).await.unwrap();
    logs.append(&entry(21, Level::Warning)).await.unwrap();
    let now = t0 + time::Duration::hours(1);
    let ids = |entries: &[LogEntry]| entries.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    let errors = LogFilter { level: Some(Level::Error), limit: 10, ..Default::default() };
    assert_eq!(ids(&logs.search(&errors, now).await.unwrap().entries), ["x20", "x00"]);
    let one = LogFilter { limit: 1, ..errors };
    let first = logs.search(&one, now).await.unwrap();
    assert_eq!(ids(&first.entries), ["x20"]);
    let rest = LogFilter { before: first.next_before, ..one };
    let second = logs.search(&rest, now).await.unwrap();
    assert_eq!(ids(&second.entries), ["x00"], "the page after goes on below the views' start");
    let warnings = LogFilter { level: Some(Level::Warning), limit: 10, ..Default::default() };
    assert_eq!(ids(&logs.search(&warnings, now).await.unwrap().entries), ["x21", "x20", "x00"]);
    fixture.drop_tables().await;
}
