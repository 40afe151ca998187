//! The embedded backend: one SQLite file and a 0600 secrets file in a data directory.
//!
//! Calls run inline under a mutex: on a local file they take microseconds, well below
//! what a hop to a blocking thread pool would cost, and this backend serves one process.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension as _, params};
use time::{Duration, OffsetDateTime};

use super::records::{
    ContactRecord, QueryRecord, RegistrationRecord, SessionRecord, from_json, ticket_from_json, ticket_key, to_json,
};
use super::*;
use crate::contact::normalize_key;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS contacts (
    id TEXT PRIMARY KEY,
    username_key TEXT NOT NULL UNIQUE,
    email_key TEXT,
    external_id TEXT UNIQUE,
    search TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS contacts_by_email ON contacts(email_key);
CREATE TABLE IF NOT EXISTS queries (path TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS registrations (client_id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS throttle (key TEXT PRIMARY KEY, failures INTEGER NOT NULL, window_ends INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS grants (key TEXT PRIMARY KEY, doc TEXT NOT NULL, used_by TEXT, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS revoked_families (family TEXT PRIMARY KEY, until INTEGER NOT NULL);
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
CREATE TABLE IF NOT EXISTS event_log (sort_key TEXT PRIMARY KEY, occurred_at INTEGER NOT NULL, doc TEXT NOT NULL);
PRAGMA user_version = 3;
";

/// Opens (creating when needed) the database and secrets file in `data_dir`.
pub fn open(data_dir: &Path, retention: Retention) -> StoreResult<Stores> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data_dir)
        .map_err(|e| StoreError::Backend(format!("cannot create data directory {}: {e}", data_dir.display())))?;
    let db_path = data_dir.join("gatehouse.sqlite3");
    super::private_files::prepare(data_dir, &db_path)
        .map_err(|e| StoreError::Backend(format!("cannot secure {}: {e}", db_path.display())))?;
    let conn = Connection::open(&db_path).map_err(StoreError::backend)?;
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;")
        .map_err(StoreError::backend)?;
    conn.execute_batch(SCHEMA).map_err(StoreError::backend)?;
    let db = Arc::new(Database { conn: Mutex::new(conn), retention });
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

pub struct Database {
    conn: Mutex<Connection>,
    retention: Retention,
}

impl Database {
    /// The `doc` of the one row `sql` finds, if any.
    fn doc(&self, sql: &str, params: impl rusqlite::Params) -> StoreResult<Option<String>> {
        self.conn().query_row(sql, params, |r| r.get(0)).optional().map_err(db_err)
    }

    /// The `doc` of every row `sql` finds, in its order.
    fn docs(&self, sql: &str, params: impl rusqlite::Params) -> StoreResult<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(sql).map_err(db_err)?;
        stmt.query_map(params, |r| r.get(0)).and_then(Iterator::collect).map_err(db_err)
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        match self.conn.lock() {
            Ok(guard) => guard,
            // A panic mid-statement leaves SQLite consistent (the statement rolled back).
            Err(poisoned) => poisoned.into_inner(),
        }
    }
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

fn contact_conflict(contact: &Contact) -> impl Fn(&str) -> Taken + '_ {
    move |message: &str| {
        if message.contains("external_id") {
            Taken::ExternalId(contact.profile.external_id.clone().unwrap_or_default())
        } else if message.contains("username_key") {
            Taken::Username(contact.profile.username.clone())
        } else {
            Taken::ContactId(contact.id)
        }
    }
}

fn search_text(contact: &Contact) -> String {
    let p = &contact.profile;
    normalize_key(&format!("{}\n{}\n{}\n{}", p.username, p.email, p.first_name, p.last_name))
}

fn decode<R, T>(docs: Vec<String>) -> StoreResult<Vec<T>>
where
    R: for<'de> serde::Deserialize<'de>,
    T: TryFrom<R, Error = StoreError>,
{
    docs.iter().map(|d| from_json::<R>(d).and_then(T::try_from)).collect()
}

#[async_trait]
impl ContactStore for Database {
    async fn insert(&self, contact: &Contact) -> StoreResult<()> {
        let doc = to_json(&ContactRecord::from(contact))?;
        self.conn()
            .execute(
                "INSERT INTO contacts (id, username_key, email_key, external_id, search, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    contact.id.to_string(),
                    contact.username_key(),
                    contact.email_key(),
                    contact.profile.external_id,
                    search_text(contact),
                    doc
                ],
            )
            .map(drop)
            .map_err(|e| conflict_or(e, contact_conflict(contact)))
    }

    async fn get(&self, id: ContactId) -> StoreResult<Option<Contact>> {
        let doc: Option<String> = self.doc("SELECT doc FROM contacts WHERE id = ?1", [id.to_string()])?;
        doc.map(|d| from_json::<ContactRecord>(&d).map(Contact::from)).transpose()
    }

    async fn find_by_username(&self, username: &str) -> StoreResult<Option<Contact>> {
        let doc: Option<String> =
            self.doc("SELECT doc FROM contacts WHERE username_key = ?1", [normalize_key(username)])?;
        doc.map(|d| from_json::<ContactRecord>(&d).map(Contact::from)).transpose()
    }

    async fn find_by_external_id(&self, external_id: &str) -> StoreResult<Option<Contact>> {
        let doc: Option<String> = self.doc("SELECT doc FROM contacts WHERE external_id = ?1", [external_id])?;
        doc.map(|d| from_json::<ContactRecord>(&d).map(Contact::from)).transpose()
    }

    async fn find_by_email(&self, email: &str) -> StoreResult<Vec<Contact>> {
        let docs =
            self.docs("SELECT doc FROM contacts WHERE email_key = ?1 ORDER BY username_key", [normalize_key(email)])?;
        docs.iter().map(|d| from_json::<ContactRecord>(d).map(Contact::from)).collect()
    }

    async fn update(&self, contact: &Contact) -> StoreResult<()> {
        let doc = to_json(&ContactRecord::from(contact))?;
        let changed = self
            .conn()
            .execute(
                "UPDATE contacts SET username_key = ?2, email_key = ?3, external_id = ?4, search = ?5, doc = ?6 WHERE id = ?1",
                params![
                    contact.id.to_string(),
                    contact.username_key(),
                    contact.email_key(),
                    contact.profile.external_id,
                    search_text(contact),
                    doc
                ],
            )
            .map_err(|e| conflict_or(e, contact_conflict(contact)))?;
        if changed == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn delete(&self, id: ContactId) -> StoreResult<bool> {
        let changed = self.conn().execute("DELETE FROM contacts WHERE id = ?1", [id.to_string()]).map_err(db_err)?;
        Ok(changed > 0)
    }

    async fn list(&self, search: &str, limit: usize) -> StoreResult<Vec<Contact>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT doc FROM contacts WHERE instr(search, ?1) > 0 ORDER BY username_key LIMIT ?2")
            .map_err(db_err)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let docs = stmt
            .query_map(params![normalize_key(search), limit], |r| r.get::<_, String>(0))
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(db_err)?;
        docs.iter().map(|d| from_json::<ContactRecord>(d).map(Contact::from)).collect()
    }
}

#[async_trait]
impl QueryStore for Database {
    async fn insert(&self, query: &SavedQuery) -> StoreResult<()> {
        let doc = to_json(&QueryRecord::from(query))?;
        self.conn()
            .execute("INSERT INTO queries (path, doc) VALUES (?1, ?2)", params![query.path.as_str(), doc])
            .map(drop)
            .map_err(|e| conflict_or(e, |_| Taken::Path(query.path.clone())))
    }

    async fn get(&self, path: &QueryPath) -> StoreResult<Option<SavedQuery>> {
        let doc: Option<String> = self.doc("SELECT doc FROM queries WHERE path = ?1", [path.as_str()])?;
        doc.map(|d| from_json::<QueryRecord>(&d).and_then(SavedQuery::try_from)).transpose()
    }

    async fn update(&self, query: &SavedQuery) -> StoreResult<()> {
        let doc = to_json(&QueryRecord::from(query))?;
        let changed = self
            .conn()
            .execute("UPDATE queries SET doc = ?2 WHERE path = ?1", params![query.path.as_str(), doc])
            .map_err(db_err)?;
        if changed == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn delete(&self, path: &QueryPath) -> StoreResult<bool> {
        Ok(self.conn().execute("DELETE FROM queries WHERE path = ?1", [path.as_str()]).map_err(db_err)? > 0)
    }

    async fn list(&self) -> StoreResult<Vec<SavedQuery>> {
        let docs = self.docs("SELECT doc FROM queries ORDER BY path", [])?;
        decode::<QueryRecord, SavedQuery>(docs)
    }
}

#[async_trait]
impl RegistrationStore for Database {
    async fn insert(&self, registration: &Registration) -> StoreResult<()> {
        let doc = to_json(&RegistrationRecord::from(registration))?;
        self.conn()
            .execute(
                "INSERT INTO registrations (client_id, doc) VALUES (?1, ?2)",
                params![registration.client_id.to_string(), doc],
            )
            .map(drop)
            .map_err(|e| conflict_or(e, |_| Taken::ClientId(registration.client_id)))
    }

    async fn get(&self, client_id: ClientId) -> StoreResult<Option<Registration>> {
        let doc: Option<String> =
            self.doc("SELECT doc FROM registrations WHERE client_id = ?1", [client_id.to_string()])?;
        doc.map(|d| from_json::<RegistrationRecord>(&d).and_then(Registration::try_from)).transpose()
    }

    async fn update(&self, registration: &Registration) -> StoreResult<()> {
        let doc = to_json(&RegistrationRecord::from(registration))?;
        let changed = self
            .conn()
            .execute(
                "UPDATE registrations SET doc = ?2 WHERE client_id = ?1",
                params![registration.client_id.to_string(), doc],
            )
            .map_err(db_err)?;
        if changed == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn delete(&self, client_id: ClientId) -> StoreResult<bool> {
        Ok(self
            .conn()
            .execute("DELETE FROM registrations WHERE client_id = ?1", [client_id.to_string()])
            .map_err(db_err)?
            > 0)
    }

    async fn list(&self) -> StoreResult<Vec<Registration>> {
        let docs = self.docs("SELECT doc FROM registrations", [])?;
        let mut list = decode::<RegistrationRecord, Registration>(docs)?;
        list.sort_by_key(|a| a.settings.name.to_lowercase());
        Ok(list)
    }
}

#[async_trait]
impl SessionStore for Database {
    async fn insert(&self, session: &Session) -> StoreResult<()> {
        let doc = to_json(&SessionRecord::from(session))?;
        let conn = self.conn();
        // Sweep expired sessions here so the table does not grow without bound.
        conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [session.auth_time.unix_timestamp()])
            .map_err(db_err)?;
        conn.execute(
            "INSERT INTO sessions (id, expires_at, doc) VALUES (?1, ?2, ?3)",
            params![session.id.as_str(), session.expires_at.unix_timestamp(), doc],
        )
        .map(drop)
        .map_err(db_err)
    }

    async fn get(&self, id: &TokenDigest, now: OffsetDateTime) -> StoreResult<Option<Session>> {
        let doc: Option<String> = self.doc("SELECT doc FROM sessions WHERE id = ?1", [id.as_str()])?;
        let session = doc.map(|d| from_json::<SessionRecord>(&d).map(Session::from)).transpose()?;
        Ok(session.filter(|s| s.is_live(now)))
    }

    async fn delete(&self, id: &TokenDigest) -> StoreResult<()> {
        self.conn().execute("DELETE FROM sessions WHERE id = ?1", [id.as_str()]).map(drop).map_err(db_err)
    }

    async fn list_for_contact(&self, contact: ContactId, now: OffsetDateTime) -> StoreResult<Vec<Session>> {
        let docs = self.docs(
            "SELECT doc FROM sessions WHERE json_extract(doc, '$.contact_id') = ?1 AND expires_at > ?2",
            params![contact.to_string(), now.unix_timestamp()],
        )?;
        let mut sessions =
            docs.iter().map(|d| from_json::<SessionRecord>(d).map(Session::from)).collect::<StoreResult<Vec<_>>>()?;
        sessions.retain(|s| s.is_live(now));
        sessions.sort_by_key(|s| (s.auth_time, s.id.as_str().to_owned()));
        Ok(sessions)
    }
}

#[async_trait]
impl ThrottleStore for Database {
    async fn record_failure(&self, key: &str, now: OffsetDateTime, window: Duration) -> StoreResult<u32> {
        let now_s = now.unix_timestamp();
        let ends = (now + window).unix_timestamp();
        // One statement, so two racing failures both count.
        let failures: i64 = self
            .conn()
            .query_row(
                "INSERT INTO throttle (key, failures, window_ends) VALUES (?1, 1, ?3)
                 ON CONFLICT(key) DO UPDATE SET
                   failures = CASE WHEN window_ends <= ?2 THEN 1 ELSE failures + 1 END,
                   window_ends = CASE WHEN window_ends <= ?2 THEN ?3 ELSE window_ends END
                 RETURNING failures",
                params![key, now_s, ends],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        Ok(u32::try_from(failures).unwrap_or(u32::MAX))
    }

    async fn failures(&self, key: &str, now: OffsetDateTime) -> StoreResult<Option<(u32, OffsetDateTime)>> {
        let row: Option<(i64, i64)> = self
            .conn()
            .query_row("SELECT failures, window_ends FROM throttle WHERE key = ?1", [key], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(db_err)?;
        Ok(row
            .filter(|(_, ends)| *ends > now.unix_timestamp())
            .map(|(n, ends)| (u32::try_from(n).unwrap_or(u32::MAX), crate::clock::from_unix(ends))))
    }

    async fn clear(&self, key: &str, count: u32) -> StoreResult<()> {
        self.conn()
            .execute("DELETE FROM throttle WHERE key = ?1 AND failures = ?2", params![key, count])
            .map(drop)
            .map_err(db_err)
    }
}

impl Database {
    fn put_grant<T: serde::Serialize>(&self, key: &str, grant: &T, expires_at: OffsetDateTime) -> StoreResult<()> {
        let doc = to_json(grant)?;
        self.conn()
            .execute(
                "INSERT INTO grants (key, doc, used_by, expires_at) VALUES (?1, ?2, NULL, ?3)",
                params![key, doc, expires_at.unix_timestamp()],
            )
            .map(drop)
            .map_err(|e| conflict_or(e, |_| Taken::Token))
    }

    /// Marks the item used by `marker` if it is unused and unexpired; else says why not.
    fn spend(&self, key: &str, marker: &str, now: OffsetDateTime) -> StoreResult<Result<String, Option<String>>> {
        let conn = self.conn();
        let fresh: Option<String> = conn
            .query_row(
                "UPDATE grants SET used_by = ?2 WHERE key = ?1 AND used_by IS NULL AND expires_at > ?3 RETURNING doc",
                params![key, marker, now.unix_timestamp()],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?;
        if let Some(doc) = fresh {
            return Ok(Ok(doc));
        }
        let used: Option<Option<String>> = conn
            .query_row(
                "SELECT used_by FROM grants WHERE key = ?1 AND expires_at > ?2",
                params![key, now.unix_timestamp()],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?;
        Ok(Err(used.flatten()))
    }
}

#[async_trait]
impl GrantStore for Database {
    async fn put_code(&self, code: &TokenDigest, grant: &AuthCode) -> StoreResult<()> {
        // Sweep what expired over an hour ago (codes live a minute, so this is about "now"),
        // keeping the table bounded; spent items stay until then to recognise replays.
        let long_ago = grant.expires_at - crate::grants::CODE_LIFETIME - time::Duration::hours(1);
        let conn = self.conn();
        conn.execute("DELETE FROM grants WHERE expires_at <= ?1", [long_ago.unix_timestamp()]).map_err(db_err)?;
        conn.execute("DELETE FROM revoked_families WHERE until <= ?1", [long_ago.unix_timestamp()]).map_err(db_err)?;
        conn.execute("DELETE FROM session_grants WHERE expires_at <= ?1", [long_ago.unix_timestamp()])
            .map_err(db_err)?;
        drop(conn);
        self.put_grant(&format!("code#{}", code.as_str()), grant, grant.expires_at)
    }

    async fn redeem_code(
        &self,
        code: &TokenDigest,
        family: &FamilyId,
        now: OffsetDateTime,
    ) -> StoreResult<Redeemed<AuthCode>> {
        let key = format!("code#{}", code.as_str());
        Ok(match self.spend(&key, family.as_str(), now)? {
            Ok(doc) => Redeemed::Fresh(from_json(&doc)?),
            Err(Some(first)) => Redeemed::Replayed {
                family: Some(serde_json::from_value(serde_json::Value::String(first)).map_err(StoreError::backend)?),
            },
            Err(None) => Redeemed::Unknown,
        })
    }

    async fn put_access_token(&self, token: &TokenDigest, grant: &TokenGrant) -> StoreResult<()> {
        self.put_grant(&format!("access#{}", token.as_str()), grant, grant.expires_at)
    }

    async fn get_access_token(&self, token: &TokenDigest, now: OffsetDateTime) -> StoreResult<Option<TokenGrant>> {
        let doc: Option<String> = self.doc(
            "SELECT doc FROM grants WHERE key = ?1 AND expires_at > ?2",
            params![format!("access#{}", token.as_str()), now.unix_timestamp()],
        )?;
        doc.map(|d| from_json(&d)).transpose()
    }

    async fn delete_access_token(&self, token: &TokenDigest) -> StoreResult<()> {
        self.conn()
            .execute("DELETE FROM grants WHERE key = ?1", [format!("access#{}", token.as_str())])
            .map(drop)
            .map_err(db_err)
    }

    async fn get_refresh_token(&self, token: &TokenDigest, now: OffsetDateTime) -> StoreResult<Option<TokenGrant>> {
        let doc: Option<String> = self.doc(
            "SELECT doc FROM grants WHERE key = ?1 AND used_by IS NULL AND expires_at > ?2",
            params![format!("refresh#{}", token.as_str()), now.unix_timestamp()],
        )?;
        doc.map(|d| from_json(&d)).transpose()
    }

    async fn put_refresh_token(&self, token: &TokenDigest, grant: &TokenGrant) -> StoreResult<()> {
        self.put_grant(&format!("refresh#{}", token.as_str()), grant, grant.expires_at)
    }

    async fn redeem_refresh_token(
        &self,
        token: &TokenDigest,
        now: OffsetDateTime,
    ) -> StoreResult<Redeemed<TokenGrant>> {
        let key = format!("refresh#{}", token.as_str());
        Ok(match self.spend(&key, "spent", now)? {
            Ok(doc) => Redeemed::Fresh(from_json(&doc)?),
            Err(Some(_)) => {
                let doc = self
                    .doc("SELECT doc FROM grants WHERE key = ?1", [&key])?
                    .ok_or_else(|| StoreError::Backend("spent refresh token vanished".into()))?;
                Redeemed::Replayed { family: Some(from_json::<TokenGrant>(&doc)?.family) }
            }
            Err(None) => Redeemed::Unknown,
        })
    }

    async fn revoke_family(&self, family: &FamilyId, until: OffsetDateTime) -> StoreResult<()> {
        self.conn()
            .execute(
                "INSERT INTO revoked_families (family, until) VALUES (?1, ?2)
                 ON CONFLICT(family) DO UPDATE SET until = max(until, excluded.until)",
                params![family.as_str(), until.unix_timestamp()],
            )
            .map(drop)
            .map_err(db_err)
    }

    async fn is_family_revoked(&self, family: &FamilyId, now: OffsetDateTime) -> StoreResult<bool> {
        let found: Option<i64> = self
            .conn()
            .query_row(
                "SELECT 1 FROM revoked_families WHERE family = ?1 AND until > ?2",
                params![family.as_str(), now.unix_timestamp()],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map_err(db_err)?;
        Ok(found.is_some())
    }

    async fn add_session_grant(&self, sid: &str, grant: &SessionGrant, expires_at: OffsetDateTime) -> StoreResult<()> {
        self.conn()
            .execute(
                "INSERT INTO session_grants (sid, client_id, family, expires_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(sid, client_id, family) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)",
                params![sid, grant.client_id.to_string(), grant.family.as_str(), expires_at.unix_timestamp()],
            )
            .map(drop)
            .map_err(db_err)
    }

    async fn session_grants(&self, sid: &str, now: OffsetDateTime) -> StoreResult<Vec<SessionGrant>> {
        let conn = self.conn();
        let mut statement = conn
            .prepare(
                "SELECT client_id, family FROM session_grants WHERE sid = ?1 AND expires_at > ?2
                 ORDER BY client_id, family",
            )
            .map_err(db_err)?;
        let rows = statement
            .query_map(params![sid, now.unix_timestamp()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(db_err)?;
        let mut grants = Vec::new();
        for row in rows {
            let (client_id, family) = row.map_err(db_err)?;
            let client_id = ClientId::parse(&client_id)
                .ok_or_else(|| StoreError::Backend(format!("stored client id `{client_id}` is not one")))?;
            grants.push(SessionGrant { client_id, family: FamilyId::from_stored(family) });
        }
        Ok(grants)
    }

    async fn get_consent(&self, contact: ContactId, client_id: ClientId) -> StoreResult<Option<Consent>> {
        let doc: Option<String> = self.doc(
            "SELECT doc FROM consents WHERE contact_id = ?1 AND client_id = ?2",
            params![contact.to_string(), client_id.to_string()],
        )?;
        doc.map(|d| from_json(&d)).transpose()
    }

    async fn put_consent(&self, consent: &Consent) -> StoreResult<()> {
        let doc = to_json(consent)?;
        self.conn()
            .execute(
                "INSERT INTO consents (contact_id, client_id, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT(contact_id, client_id) DO UPDATE SET doc = excluded.doc",
                params![consent.contact_id.to_string(), consent.client_id.to_string(), doc],
            )
            .map(drop)
            .map_err(db_err)
    }

    async fn delete_consent(&self, contact: ContactId, client_id: ClientId) -> StoreResult<()> {
        self.conn()
            .execute(
                "DELETE FROM consents WHERE contact_id = ?1 AND client_id = ?2",
                params![contact.to_string(), client_id.to_string()],
            )
            .map(drop)
            .map_err(db_err)
    }

    async fn put_ticket(&self, key: &TokenDigest, ticket: &Ticket, expires_at: OffsetDateTime) -> StoreResult<()> {
        self.conn()
            .execute(
                "INSERT OR REPLACE INTO grants (key, doc, used_by, expires_at) VALUES (?1, ?2, NULL, ?3)",
                params![ticket_key(ticket.kind(), key), to_json(ticket)?, expires_at.unix_timestamp()],
            )
            .map(drop)
            .map_err(db_err)
    }

    async fn take_ticket(
        &self,
        kind: TicketKind,
        key: &TokenDigest,
        now: OffsetDateTime,
    ) -> StoreResult<Option<Ticket>> {
        Ok(self.spend(&ticket_key(kind, key), "taken", now)?.ok().and_then(|doc| ticket_from_json(kind, &doc)))
    }

    async fn list_consents(&self, contact: ContactId) -> StoreResult<Vec<Consent>> {
        let docs =
            self.docs("SELECT doc FROM consents WHERE contact_id = ?1 ORDER BY client_id", [contact.to_string()])?;
        docs.iter().map(|d| from_json(d)).collect()
    }
}

#[async_trait]
impl LogStore for Database {
    async fn append(&self, entry: &LogEntry) -> StoreResult<()> {
        let conn = self.conn();
        let expired = (entry.occurred_at - self.retention.log).unix_timestamp();
        conn.execute("DELETE FROM event_log WHERE occurred_at < ?1", [expired]).map_err(db_err)?;
        conn.execute(
            "INSERT INTO event_log (sort_key, occurred_at, doc) VALUES (?1, ?2, ?3)",
            params![entry.sort_key(), entry.occurred_at.unix_timestamp(), to_json(entry)?],
        )
        .map(drop)
        .map_err(db_err)
    }

    async fn search(&self, filter: &LogFilter, now: OffsetDateTime) -> StoreResult<Vec<LogEntry>> {
        let oldest = (now - self.retention.log).unix_timestamp();
        let from = filter.from.map_or(oldest, |f| f.unix_timestamp().max(oldest));
        let to = filter.to.map_or(i64::MAX, |t| t.unix_timestamp());
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT doc FROM event_log WHERE occurred_at >= ?1 AND occurred_at <= ?2 ORDER BY sort_key DESC")
            .map_err(db_err)?;
        let mut rows = stmt.query(params![from, to]).map_err(db_err)?;
        let mut out = Vec::new();
        while out.len() < filter.limit {
            let Some(row) = rows.next().map_err(db_err)? else { break };
            let doc: String = row.get(0).map_err(db_err)?;
            let entry: LogEntry = from_json(&doc)?;
            if filter.matches(&entry) {
                out.push(entry);
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl OutboxStore for Database {
    async fn push(&self, mail: &Mail) -> StoreResult<()> {
        let conn = self.conn();
        let expired = (mail.sent_at - self.retention.outbox).unix_timestamp();
        conn.execute("DELETE FROM outbox WHERE sent_at < ?1", [expired]).map_err(db_err)?;
        conn.execute(
            "INSERT INTO outbox (sort_key, sent_at, doc) VALUES (?1, ?2, ?3)",
            params![mail.sort_key(), mail.sent_at.unix_timestamp(), to_json(mail)?],
        )
        .map(drop)
        .map_err(db_err)
    }

    async fn recent(&self, limit: usize, now: OffsetDateTime) -> StoreResult<Vec<Mail>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT doc FROM outbox WHERE sent_at >= ?1 ORDER BY sort_key DESC LIMIT ?2")
            .map_err(db_err)?;
        let oldest = (now - self.retention.outbox).unix_timestamp();
        let docs: Vec<String> = stmt
            .query_map(params![oldest, i64::try_from(limit).unwrap_or(i64::MAX)], |r| r.get(0))
            .and_then(Iterator::collect)
            .map_err(db_err)?;
        docs.iter().map(|d| from_json(d)).collect()
    }
}

/// Secrets as a JSON object in a file only the owner can read, rewritten atomically.
pub struct SecretsFile {
    path: PathBuf,
    values: Mutex<BTreeMap<String, SecretString>>,
}

impl SecretsFile {
    pub fn open(path: PathBuf) -> StoreResult<Self> {
        let values = match fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| StoreError::Backend(format!("secrets file {} is unreadable: {e}", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => {
                return Err(StoreError::Backend(format!("cannot read {}: {e}", path.display())));
            }
        };
        Ok(Self { path, values: Mutex::new(values) })
    }

    fn values(&self) -> MutexGuard<'_, BTreeMap<String, SecretString>> {
        match self.values.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Writes a temporary 0600 file and renames it over the old one: a crash leaves either.
    fn persist(&self, values: &BTreeMap<String, SecretString>) -> StoreResult<()> {
        let tmp = self.path.with_extension("json.tmp");
        let json = serde_json::to_vec_pretty(values).map_err(StoreError::backend)?;
        let write = || -> std::io::Result<()> {
            let mut file = fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
            file.write_all(&json)?;
            file.sync_all()?;
            fs::rename(&tmp, &self.path)
        };
        write().map_err(|e| StoreError::Backend(format!("cannot write {}: {e}", self.path.display())))
    }
}

#[async_trait]
impl SecretStore for SecretsFile {
    async fn get(&self, name: &str) -> StoreResult<Option<SecretString>> {
        Ok(self.values().get(name).cloned())
    }

    async fn put(&self, name: &str, value: &SecretString) -> StoreResult<()> {
        let mut values = self.values();
        let mut next = values.clone();
        next.insert(name.to_owned(), value.clone());
        self.persist(&next)?;
        *values = next;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> StoreResult<Vec<super::SecretEntry>> {
        let values = self.values();
        let names = values.keys().filter(|name| name.starts_with(prefix));
        Ok(names.map(|name| super::SecretEntry { name: name.clone(), created_at: None }).collect())
    }

    async fn delete(&self, name: &str) -> StoreResult<()> {
        let mut values = self.values();
        if values.contains_key(name) {
            let mut next = values.clone();
            next.remove(name);
            self.persist(&next)?;
            *values = next;
        }
        Ok(())
    }
}
