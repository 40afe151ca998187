//! The embedded backend: one SQLite file and a 0600 secrets file in a data directory.
//!
//! One connection behind a mutex serves the requests. A call holds it for microseconds, but
//! it is still a blocking wait, so on a multi-threaded runtime it runs through
//! `block_in_place` and the worker's other tasks move on meanwhile. Statements are prepared
//! once and cached. Expired rows and WAL checkpoints are [`maintenance`]'s work, on its own
//! thread in small batches, never a request's.

use std::fs;
use std::os::unix::fs::DirBuilderExt as _;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension as _};

use super::records::from_json;
use super::*;

mod contacts;
mod documents;
mod expiring;
mod issuance;
pub mod maintenance;
mod memo;
mod secrets_file;

pub use secrets_file::SecretsFile;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS contacts (
    id TEXT PRIMARY KEY,
    username_key TEXT NOT NULL UNIQUE,
    email_key TEXT,
    last_name_key TEXT,
    external_id TEXT UNIQUE,
    doc TEXT NOT NULL
);
-- The ways a contact search reads, each in (key, id) order (contact_search).
CREATE INDEX IF NOT EXISTS contacts_by_username ON contacts(username_key, id);
CREATE INDEX IF NOT EXISTS contacts_by_last_name ON contacts(last_name_key, id);
CREATE INDEX IF NOT EXISTS contacts_by_email_then_id ON contacts(email_key, id);
CREATE TABLE IF NOT EXISTS queries (path TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS registrations (client_id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS throttle (key TEXT PRIMARY KEY, failures INTEGER NOT NULL, window_ends INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS grants (key TEXT PRIMARY KEY, doc TEXT NOT NULL, used_by TEXT, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS revoked_families (family TEXT PRIMARY KEY, until INTEGER NOT NULL);
-- Sealed refresh tokens once spent, until they expire: the one row a refresh writes. Keyed by
-- expiry first (the token carries it, so a look-up knows it) and without a rowid, the key's
-- b-tree is the table and its own expiry index: an insert touches one page, near the end,
-- where a row keyed by digest with an expiry index touched two (and a row of `grants` three).
CREATE TABLE IF NOT EXISTS spent_refresh_tokens (
    until INTEGER NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (until, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS session_grants (
    sid TEXT NOT NULL,
    client_id TEXT NOT NULL,
    family TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (sid, client_id, family)
);
CREATE TABLE IF NOT EXISTS consents (
    contact_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (contact_id, client_id)
);
CREATE TABLE IF NOT EXISTS outbox (sort_key TEXT PRIMARY KEY, sent_at INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS event_log (
    sort_key TEXT PRIMARY KEY,
    occurred_at INTEGER NOT NULL,
    level INTEGER NOT NULL DEFAULT 1,
    doc TEXT NOT NULL
);
-- What the sweeps and the per-contact session list look up: each an index, never a table scan.
CREATE INDEX IF NOT EXISTS grants_by_expiry ON grants(expires_at);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions(expires_at);
CREATE INDEX IF NOT EXISTS sessions_by_contact ON sessions(json_extract(doc, '$.contact_id'));
CREATE INDEX IF NOT EXISTS throttle_by_window ON throttle(window_ends);
CREATE INDEX IF NOT EXISTS revoked_families_by_until ON revoked_families(until);
CREATE INDEX IF NOT EXISTS session_grants_by_expiry ON session_grants(expires_at);
CREATE INDEX IF NOT EXISTS outbox_by_time ON outbox(sent_at);
CREATE INDEX IF NOT EXISTS event_log_by_time ON event_log(occurred_at);
-- The log's level views (see expiring.rs): warnings and errors, and errors, newest first.
CREATE INDEX IF NOT EXISTS event_log_warnings ON event_log(sort_key) WHERE level >= 2;
CREATE INDEX IF NOT EXISTS event_log_errors ON event_log(sort_key) WHERE level >= 3;
PRAGMA user_version = 7;
";

/// Distinct statements this backend runs, with room to spare: all stay prepared.
const STATEMENT_CACHE: usize = 96;

/// Opens (creating when needed) the database and secrets file in `data_dir`, and starts
/// the maintenance thread that lives as long as the stores.
pub fn open(data_dir: &Path, retention: Retention) -> StoreResult<Stores> {
    let db = Arc::new(Database::open(data_dir, retention)?);
    maintenance::start(Arc::downgrade(&db), data_dir.join(DB_FILE));
    let secrets = Arc::new(SecretsFile::open(data_dir.join("secrets.json"))?);
    Ok(Stores {
        retention,
        contacts: db.clone(),
        queries: db.clone(),
        registrations: db.clone(),
        sessions: db.clone(),
        throttle: db.clone(),
        grants: db.clone(),
        logs: db.clone(),
        outbox: db,
        secrets,
    })
}

const DB_FILE: &str = "gatehouse.sqlite3";
/// How many registrations and queries (each) are kept decoded: every one a site has, usually.
const DOCUMENTS_REMEMBERED: usize = 4096;
/// How many contacts are kept decoded (about a kilobyte each): the members active lately.
const CONTACTS_REMEMBERED: usize = 1024;

pub struct Database {
    conn: Mutex<Connection>,
    registrations: memo::Memo<ClientId, Registration>,
    queries: memo::Memo<QueryPath, SavedQuery>,
    contacts: memo::Memo<ContactId, Contact>,
    retention: Retention,
    /// The latest time (unix seconds) a request passed in: the sweeps' "now", so that time
    /// stays a parameter of the requests and a test's clock governs expiry as it does reads.
    latest: AtomicI64,
}

impl Database {
    /// The database in `data_dir`, without the maintenance thread (tests sweep by hand).
    pub fn open(data_dir: &Path, retention: Retention) -> StoreResult<Self> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(data_dir)
            .map_err(|e| StoreError::Backend(format!("cannot create data directory {}: {e}", data_dir.display())))?;
        let db_path = data_dir.join(DB_FILE);
        super::private_files::prepare(data_dir, &db_path)
            .map_err(|e| StoreError::Backend(format!("cannot secure {}: {e}", db_path.display())))?;
        let conn = open_connection(&db_path).map_err(StoreError::backend)?;
        // Checkpoints are the maintenance thread's (wal_autocheckpoint = 0): never inline.
        // The first statement takes the process's lock on the file: another process holding
        // it is the one error worth its own message.
        conn.execute_batch(
            "PRAGMA busy_timeout = 1000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
             PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;",
        )
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::Backend(format!(
                    "{} is in use by another process (another Gatehouse on the same data directory?)",
                    db_path.display()
                ))
            }
            _ => StoreError::backend(e),
        })?;
        contacts::migrate(&conn).map_err(StoreError::backend)?;
        expiring::migrate(&conn).map_err(StoreError::backend)?;
        conn.execute_batch(SCHEMA).map_err(StoreError::backend)?;
        issuance::migrate(&conn).map_err(StoreError::backend)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(Self {
            conn: Mutex::new(conn),
            registrations: memo::Memo::new(DOCUMENTS_REMEMBERED),
            queries: memo::Memo::new(DOCUMENTS_REMEMBERED),
            contacts: memo::Memo::new(CONTACTS_REMEMBERED),
            retention,
            latest: AtomicI64::new(i64::MIN),
        })
    }

    /// Runs `f` on the connection. A free connection is taken at once (a call holds it for
    /// microseconds); waiting for a busy one is a blocking wait, so on a multi-threaded
    /// runtime the worker hands its other tasks on first. Handing them on costs thread
    /// wake-ups, which is why the uncontended call does not.
    fn with<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        match self.conn.try_lock() {
            Ok(conn) => return f(&conn),
            Err(std::sync::TryLockError::Poisoned(poisoned)) => return f(&poisoned.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => {}
        }
        let run = || f(&self.conn());
        match tokio::runtime::Handle::try_current() {
            Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(run)
            }
            _ => run(),
        }
    }

    /// Runs one cached statement; callers map the error (some into `Conflict`).
    fn execute(&self, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
        self.with(|c| c.prepare_cached(sql)?.execute(params))
    }

    /// The first column of the one row `sql` finds, if any.
    fn value<T: rusqlite::types::FromSql>(&self, sql: &str, params: impl rusqlite::Params) -> StoreResult<Option<T>> {
        self.with(|c| value(c, sql, params)).map_err(db_err)
    }

    /// The `doc` of the one row `sql` finds, if any.
    fn doc(&self, sql: &str, params: impl rusqlite::Params) -> StoreResult<Option<String>> {
        self.value(sql, params)
    }

    /// The `doc` of every row `sql` finds, in its order.
    fn docs(&self, sql: &str, params: impl rusqlite::Params) -> StoreResult<Vec<String>> {
        self.with(|c| {
            c.prepare_cached(sql)?.query_map(params, |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()
        })
        .map_err(db_err)
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        match self.conn.lock() {
            Ok(guard) => guard,
            // A panic mid-statement leaves SQLite consistent (the statement rolled back).
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Notes a time a request passed in, for the sweeps.
    fn saw(&self, now: time::OffsetDateTime) {
        self.latest.fetch_max(now.unix_timestamp(), Ordering::Relaxed);
    }
}

/// A connection to the database file through SQLite's `unix-excl` VFS: the process takes one
/// lock on the file at its first statement and holds it, so every later transaction's locking
/// (and the WAL index, kept in memory) is settled inside the process with no `fcntl` call,
/// while the maintenance connection still checkpoints beside the requests'. Another process
/// cannot open the database meanwhile, which the single-writer design assumes anyway. Every
/// connection to the file in this process must be opened here: a plain one would take and
/// drop POSIX locks that are the process's own.
pub fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    use rusqlite::OpenFlags;
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    Connection::open_with_flags_and_vfs(path, flags, c"unix-excl")
}

/// The first column of the one row `sql` finds on `conn`, if any.
fn value<T: rusqlite::types::FromSql>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Option<T>> {
    conn.prepare_cached(sql)?.query_row(params, |r| r.get(0)).optional()
}

fn db_err(e: rusqlite::Error) -> StoreError {
    StoreError::backend(e)
}

/// Maps a UNIQUE violation to a `Conflict` naming what is taken; `describe` gets SQLite's
/// message, which names the violated column.
fn conflict_or(e: rusqlite::Error, describe: impl Fn(&str) -> Taken) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(err, Some(message)) if err.code == rusqlite::ErrorCode::ConstraintViolation => {
            StoreError::Conflict(describe(message))
        }
        _ => db_err(e),
    }
}

fn decode<R, T>(docs: Vec<String>) -> StoreResult<Vec<T>>
where
    R: for<'de> serde::Deserialize<'de>,
    T: TryFrom<R, Error = StoreError>,
{
    docs.iter().map(|d| from_json::<R>(d).and_then(T::try_from)).collect()
}
