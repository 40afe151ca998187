//! The shared store suite against the embedded backend (SQLite + secrets file).

use std::os::unix::fs::PermissionsExt as _;

use std::sync::Arc;

use gatehouse::clock::SystemClock;
use gatehouse::config::Backend;
use gatehouse::store::{Retention, Stores, suite};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gatehouse-test-{name}-{}", uuid_like()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn uuid_like() -> String {
    gatehouse::secret::random_alphanumeric(12).unwrap()
}

#[tokio::test]
async fn embedded_backend_passes_the_store_suite() {
    for (name, check) in suite::ALL {
        let dir = temp_dir(name);
        let stores = Stores::open(&Backend::Embedded { data_dir: dir.clone() }, Retention::default()).await.unwrap();
        // As the server opens them: secrets kept per process.
        check(&stores.with_secret_cache(Arc::new(SystemClock))).await;
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[tokio::test]
async fn refresh_tokens_stored_before_they_were_sealed_still_work() {
    let dir = temp_dir("stored-refresh");
    let stores = Stores::open(&Backend::Embedded { data_dir: dir.clone() }, Retention::default()).await.unwrap();
    let writer = gatehouse::store::embedded::open_connection(&dir.join("gatehouse.sqlite3")).unwrap();
    // The row as releases before sealed refresh tokens wrote it.
    let write = async |digest: gatehouse::secret::TokenDigest, grant: gatehouse::grants::TokenGrant| {
        let row = rusqlite::params![
            format!("refresh#{}", digest.as_str()),
            serde_json::to_string(&grant).unwrap(),
            grant.expires_at.unix_timestamp()
        ];
        writer.execute("INSERT INTO grants (key, doc, used_by, expires_at) VALUES (?1, ?2, NULL, ?3)", row).unwrap();
    };
    suite::stored_refresh_tokens(&stores, write).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn secrets_file_is_private_and_survives_reopening() {
    let dir = temp_dir("reopen");
    let backend = Backend::Embedded { data_dir: dir.clone() };
    let stores = Stores::open(&backend, Retention::default()).await.unwrap();
    stores.secrets.put("k", &gatehouse::secret::SecretString::new("v")).await.unwrap();
    drop(stores);
    let mode = std::fs::metadata(dir.join("secrets.json")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let reopened = Stores::open(&backend, Retention::default()).await.unwrap();
    assert_eq!(reopened.secrets.get("k").await.unwrap().unwrap().expose(), "v");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn expired_rows_go_in_bounded_batches_and_live_ones_stay() {
    use gatehouse::grants::{Issuance, Spend};
    use gatehouse::secret::TokenDigest;
    use gatehouse::store::GrantStore as _;
    use gatehouse::store::embedded::{Database, maintenance};
    use time::{Duration, macros::datetime};

    let dir = temp_dir("sweep");
    let db = Database::open(&dir, Retention::default()).unwrap();
    let t0 = datetime!(2026-01-01 12:00 UTC);
    let spend = async |token: &TokenDigest, until, now| {
        let issuance = Issuance { spends: Spend::SealedRefreshToken { token, until }, session: None };
        db.store_issuance(&issuance, now).await.unwrap();
    };
    assert_eq!(maintenance::sweep(&db, 256).unwrap(), 0, "before any request there is no `now` to sweep by");
    let expired = 600;
    for _ in 0..expired {
        spend(&gatehouse::secret::OpaqueToken::generate().unwrap().digest(), t0, t0).await;
    }
    let live = gatehouse::secret::OpaqueToken::generate().unwrap().digest();
    // A request two hours later: the expired tokens are past the hour spent items are kept.
    let later = t0 + Duration::hours(2);
    spend(&live, t0 + Duration::days(30), later).await;
    assert!(db.is_refresh_token_spent(&live, t0 + Duration::days(30), later).await.unwrap());
    let batches: Vec<usize> =
        std::iter::from_fn(|| Some(maintenance::sweep(&db, 256).unwrap())).take_while(|removed| *removed > 0).collect();
    assert_eq!(batches, [256, 256, 88], "each call removes at most one batch");
    assert!(
        db.is_refresh_token_spent(&live, t0 + Duration::days(30), later).await.unwrap(),
        "the live token's record stays"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_wal_starts_again_after_each_checkpoint_although_requests_read_meanwhile() {
    use gatehouse::grants::{Issuance, Spend};
    use gatehouse::store::GrantStore as _;
    use gatehouse::store::embedded::{Database, maintenance};
    use time::{Duration, macros::datetime};

    let t0 = datetime!(2026-01-01 12:00 UTC);
    let write = async |db: &Database, n: usize| {
        for _ in 0..n {
            let token = gatehouse::secret::OpaqueToken::generate().unwrap().digest();
            let spends = Spend::SealedRefreshToken { token: &token, until: t0 + Duration::hours(1) };
            db.store_issuance(&Issuance { spends, session: None }, t0).await.unwrap();
        }
    };
    // One maintenance tick while the requests go on: a request is reading when the checkpoint
    // runs, and another writes before it ends, so the checkpoint cannot copy the newest writes.
    let wal_after_a_busy_tick = async |finish: bool| {
        let dir = temp_dir("wal");
        let db = Database::open(&dir, Retention::default()).unwrap();
        let path = dir.join("gatehouse.sqlite3");
        write(&db, 300).await;
        let full = std::fs::metadata(path.with_extension("sqlite3-wal")).unwrap().len();
        let reader = gatehouse::store::embedded::open_connection(&path).unwrap();
        reader.execute_batch("BEGIN; SELECT count(*) FROM grants;").unwrap();
        write(&db, 10).await;
        maintenance::checkpoint(&mut None, &path).unwrap();
        reader.execute_batch("COMMIT").unwrap();
        if finish {
            maintenance::finish_checkpoint(&db).unwrap();
        }
        write(&db, 300).await;
        let after = std::fs::metadata(path.with_extension("sqlite3-wal")).unwrap().len();
        drop((reader, db));
        std::fs::remove_dir_all(&dir).unwrap();
        (full, after)
    };
    let (full, after) = wal_after_a_busy_tick(false).await;
    assert!(after > full * 3 / 2, "without finishing, the WAL grows on ({full} -> {after} bytes)");
    let (full, after) = wal_after_a_busy_tick(true).await;
    // As many writes again, on a larger table, take a few more pages than the first ones.
    assert!(after < full * 5 / 4, "finished, the next writes start the WAL again ({full} -> {after} bytes)");
}

/// A database from before the prefix search and the log's level views (user_version 4: a
/// `search` column, no last-name key, no log level column) opens with its contacts findable
/// by last name and its log entries by level, and nothing lost.
#[tokio::test]
async fn a_version_4_database_gains_the_last_name_key_and_log_levels() {
    use gatehouse::contact_search::ContactSearch;
    use gatehouse::event_log::{Level, LogEntry, LogFilter};
    let dir = temp_dir("migrate");
    let backend = Backend::Embedded { data_dir: dir.clone() };
    let stores = Stores::open(&backend, Retention::default()).await.unwrap();
    let mut ann = suite::contact("ann", "ann@example.org");
    ann.profile.last_name = "Lee".into();
    stores.contacts.insert(&ann).await.unwrap();
    let now = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let error = LogEntry::new(Level::Error, "it broke", serde_json::Value::Null, now);
    stores.logs.append(&error).await.unwrap();
    stores.logs.append(&LogEntry::new(Level::Info, "fine", serde_json::Value::Null, now)).await.unwrap();
    drop(stores);
    let old = gatehouse::store::embedded::open_connection(&dir.join("gatehouse.sqlite3")).unwrap();
    old.execute_batch(
        "DROP INDEX event_log_warnings; DROP INDEX event_log_errors; ALTER TABLE event_log DROP COLUMN level;
         DROP INDEX contacts_by_last_name; DROP INDEX contacts_by_email_then_id; DROP INDEX contacts_by_username;
         ALTER TABLE contacts DROP COLUMN last_name_key;
         ALTER TABLE contacts ADD COLUMN search TEXT NOT NULL DEFAULT 'ann\nann@example.org';
         CREATE INDEX contacts_by_email ON contacts(email_key);
         PRAGMA user_version = 4;",
    )
    .unwrap();
    drop(old);

    let stores = Stores::open(&backend, Retention::default()).await.unwrap();
    let found = stores.contacts.list(&ContactSearch::new("le"), None, 10).await.unwrap();
    assert_eq!(found.contacts, vec![ann.clone()], "found by last name");
    let mut bo = suite::contact("bo", "");
    bo.profile.last_name = "Lewis".into();
    stores.contacts.insert(&bo).await.expect("the dropped column is not needed");
    let found = stores.contacts.list(&ContactSearch::new("le"), None, 10).await.unwrap();
    assert_eq!(found.contacts.len(), 2);
    let errors = LogFilter { level: Some(Level::Error), limit: 10, ..Default::default() };
    let found = stores.logs.search(&errors, now + time::Duration::minutes(1)).await.unwrap();
    assert_eq!(found.entries, vec![error], "the entry's level is read from its document");
    drop(stores);
    let reopened = gatehouse::store::embedded::open_connection(&dir.join("gatehouse.sqlite3")).unwrap();
    let version: i64 = reopened.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, 7);
    drop(reopened);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A version 6 database kept spent refresh tokens keyed by digest (`spent_tokens`); opened by
/// this release, they move to `spent_refresh_tokens` and a token spent before stays spent.
#[tokio::test]
async fn a_version_6_database_keeps_its_spent_refresh_tokens() {
    use gatehouse::grants::{Issuance, Spend, Stored};
    use gatehouse::store::GrantStore as _;
    use gatehouse::store::embedded::Database;
    use time::{Duration, macros::datetime};

    let dir = temp_dir("migrate-spent");
    let now = datetime!(2026-01-01 12:00 UTC);
    let until = now + Duration::days(30);
    let (spent, unspent) = (digest(), digest());
    drop(Database::open(&dir, Retention::default()).unwrap());
    let old = gatehouse::store::embedded::open_connection(&dir.join("gatehouse.sqlite3")).unwrap();
    old.execute_batch(
        "DROP TABLE spent_refresh_tokens;
         CREATE TABLE spent_tokens (key TEXT PRIMARY KEY, until INTEGER NOT NULL) WITHOUT ROWID;
         CREATE INDEX spent_tokens_by_until ON spent_tokens(until);
         PRAGMA user_version = 6;",
    )
    .unwrap();
    old.execute(
        "INSERT INTO spent_tokens (key, until) VALUES (?1, ?2)",
        rusqlite::params![spent.as_str(), until.unix_timestamp()],
    )
    .unwrap();
    drop(old);

    let db = Database::open(&dir, Retention::default()).unwrap();
    assert!(db.is_refresh_token_spent(&spent, until, now).await.unwrap(), "spent before, spent after");
    assert!(!db.is_refresh_token_spent(&unspent, until, now).await.unwrap());
    let again = Issuance { spends: Spend::SealedRefreshToken { token: &spent, until }, session: None };
    assert_eq!(db.store_issuance(&again, now).await.unwrap(), Stored::AlreadySpent, "a replay is still caught");
    let first = Issuance { spends: Spend::SealedRefreshToken { token: &unspent, until }, session: None };
    assert_eq!(db.store_issuance(&first, now).await.unwrap(), Stored::Written);
    drop(db);
    let reopened = gatehouse::store::embedded::open_connection(&dir.join("gatehouse.sqlite3")).unwrap();
    let tables: i64 = reopened
        .query_row("SELECT count(*) FROM sqlite_master WHERE name LIKE 'spent_tokens%'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 0, "the old table and its index are gone");
    drop(reopened);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn digest() -> gatehouse::secret::TokenDigest {
    gatehouse::secret::OpaqueToken::generate().unwrap().digest()
}

/// A token response's writes are one transaction: when the session's note cannot be written,
/// the spend is undone with it, so the token can still be used (and no replay is recorded).
#[tokio::test]
async fn a_write_that_fails_half_way_leaves_the_token_unspent() {
    use gatehouse::grants::{FamilyId, Issuance, SessionGrant, Spend, Stored};
    use gatehouse::registration::ClientId;
    use gatehouse::store::GrantStore as _;
    use gatehouse::store::embedded::Database;
    use time::{Duration, macros::datetime};

    let dir = temp_dir("half-way");
    let db = Database::open(&dir, Retention::default()).unwrap();
    let now = datetime!(2026-01-01 12:00 UTC);
    let (token, until) = (digest(), now + Duration::days(30));
    let note = SessionGrant { client_id: ClientId::new_random(), family: FamilyId::generate().unwrap() };
    let issuance = Issuance {
        spends: Spend::SealedRefreshToken { token: &token, until },
        session: Some(("sid", &note, now + Duration::hours(8))),
    };
    // Another connection of this process makes the note's insert fail after the spend ran.
    let sabotage = gatehouse::store::embedded::open_connection(&dir.join("gatehouse.sqlite3")).unwrap();
    sabotage
        .execute_batch(
            "CREATE TRIGGER refuse_notes BEFORE INSERT ON session_grants BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
        )
        .unwrap();
    assert!(db.store_issuance(&issuance, now).await.is_err(), "the failure is reported");
    assert!(!db.is_refresh_token_spent(&token, until, now).await.unwrap(), "the spend was rolled back");
    assert!(db.session_grants("sid", now).await.unwrap().is_empty());

    sabotage.execute_batch("DROP TRIGGER refuse_notes").unwrap();
    assert_eq!(db.store_issuance(&issuance, now).await.unwrap(), Stored::Written, "the token still spends");
    assert!(db.is_refresh_token_spent(&token, until, now).await.unwrap());
    assert_eq!(db.session_grants("sid", now).await.unwrap(), vec![note]);
    drop((sabotage, db));
    std::fs::remove_dir_all(&dir).unwrap();
}
