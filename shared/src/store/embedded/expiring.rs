//! What expires: sessions, throttle windows, codes and tokens, the log and the outbox. Reads
//! check expiry themselves; [`maintenance`](super::maintenance) removes expired rows later.

use async_trait::async_trait;
use rusqlite::params;
use time::{Duration, OffsetDateTime};

use super::issuance::Found;
use super::{Database, conflict_or, db_err, value};
use crate::contact::ContactId;
use crate::event_log::{Level, LogEntry, LogFilter, LogPage, LogSearch};
use crate::grants::{AuthCode, Consent, FamilyId, Issuance, Redeemed, SessionGrant, Stored, TokenGrant};
use crate::outbox::{Mail, OutboxPage};
use crate::registration::ClientId;
use crate::secret::TokenDigest;
use crate::session::Session;
use crate::store::records::{
    SessionRecord, access_key, code_key, from_json, refresh_key, ticket_from_json, ticket_key, to_json,
};
use crate::store::{GrantStore, LogStore, OutboxStore, SessionStore, StoreError, StoreResult, Taken, ThrottleStore};
use crate::ticket::{Ticket, TicketKind};

#[async_trait]
impl SessionStore for Database {
    async fn insert(&self, session: &Session) -> StoreResult<()> {
        self.saw(session.auth_time);
        let doc = to_json(&SessionRecord::from(session))?;
        self.execute(
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
        self.execute("DELETE FROM sessions WHERE id = ?1", [id.as_str()]).map(drop).map_err(db_err)
    }

    async fn list_for_contact(&self, contact: ContactId, now: OffsetDateTime) -> StoreResult<Vec<Session>> {
        // The expression is the one `sessions_by_contact` indexes.
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
        self.saw(now);
        let now_s = now.unix_timestamp();
        let ends = (now + window).unix_timestamp();
        // One statement, so two racing failures both count.
        let failures: Option<i64> = self.value(
            "INSERT INTO throttle (key, failures, window_ends) VALUES (?1, 1, ?3)
             ON CONFLICT(key) DO UPDATE SET
               failures = CASE WHEN window_ends <= ?2 THEN 1 ELSE failures + 1 END,
               window_ends = CASE WHEN window_ends <= ?2 THEN ?3 ELSE window_ends END
             RETURNING failures",
            params![key, now_s, ends],
        )?;
        let failures = failures.ok_or_else(|| StoreError::Backend("the throttle upsert returned nothing".into()))?;
        Ok(u32::try_from(failures).unwrap_or(u32::MAX))
    }

    async fn failures(&self, key: &str, now: OffsetDateTime) -> StoreResult<Option<(u32, OffsetDateTime)>> {
        let row: Option<(i64, i64)> = self
            .with(|c| {
                use rusqlite::OptionalExtension as _;
                c.prepare_cached("SELECT failures, window_ends FROM throttle WHERE key = ?1")?
                    .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(db_err)?;
        Ok(row
            .filter(|(_, ends)| *ends > now.unix_timestamp())
            .map(|(n, ends)| (u32::try_from(n).unwrap_or(u32::MAX), crate::clock::from_unix(ends))))
    }

    async fn clear(&self, key: &str, count: u32) -> StoreResult<()> {
        self.execute("DELETE FROM throttle WHERE key = ?1 AND failures = ?2", params![key, count])
            .map(drop)
            .map_err(db_err)
    }
}

impl Database {
    fn put_grant<T: serde::Serialize>(&self, key: &str, grant: &T, expires_at: OffsetDateTime) -> StoreResult<()> {
        let doc = to_json(grant)?;
        self.execute(
            "INSERT INTO grants (key, doc, used_by, expires_at) VALUES (?1, ?2, NULL, ?3)",
            params![key, doc, expires_at.unix_timestamp()],
        )
        .map(drop)
        .map_err(|e| conflict_or(e, |_| Taken::Token))
    }

    /// Marks the item used by `marker` if it is unused and unexpired; else says why not.
    fn spend(&self, key: &str, marker: &str, now: OffsetDateTime) -> StoreResult<Result<String, Option<String>>> {
        self.saw(now);
        let now = now.unix_timestamp();
        self.with(|c| {
            let fresh: Option<String> = value(
                c,
                "UPDATE grants SET used_by = ?2 WHERE key = ?1 AND used_by IS NULL AND expires_at > ?3 RETURNING doc",
                params![key, marker, now],
            )?;
            if let Some(doc) = fresh {
                return Ok(Ok(doc));
            }
            let used: Option<Option<String>> =
                value(c, "SELECT used_by FROM grants WHERE key = ?1 AND expires_at > ?2", params![key, now])?;
            Ok(Err(used.flatten()))
        })
        .map_err(db_err)
    }

    /// Whether `sql` (a `SELECT 1` binding a key as ?1 and the time as ?2) finds a row still
    /// live at `now`: a revocation, or a spent token's record.
    fn is_live(&self, sql: &str, key: &str, now: OffsetDateTime) -> StoreResult<bool> {
        let found: Option<i64> = self.value(sql, params![key, now.unix_timestamp()])?;
        Ok(found.is_some())
    }
}

/// What marks a revoked access token's row, the only row an access token has.
const REVOKED_ACCESS: &str = "revoked";

#[async_trait]
impl GrantStore for Database {
    async fn put_code(&self, code: &TokenDigest, grant: &AuthCode) -> StoreResult<()> {
        self.saw(grant.expires_at - crate::grants::CODE_LIFETIME);
        self.put_grant(&code_key(code), grant, grant.expires_at)
    }

    async fn redeem_code(
        &self,
        code: &TokenDigest,
        family: &FamilyId,
        now: OffsetDateTime,
    ) -> StoreResult<Redeemed<AuthCode>> {
        Ok(match self.spend(&code_key(code), family.as_str(), now)? {
            Ok(doc) => Redeemed::Fresh(from_json(&doc)?),
            Err(Some(first)) => Redeemed::Replayed {
                family: Some(serde_json::from_value(serde_json::Value::String(first)).map_err(StoreError::backend)?),
            },
            Err(None) => Redeemed::Unknown,
        })
    }

    async fn find_code(&self, code: &TokenDigest, now: OffsetDateTime) -> StoreResult<Redeemed<AuthCode>> {
        Ok(match self.find_grant(&code_key(code), now)? {
            None => Redeemed::Unknown,
            Some(Found { doc, used_by: None }) => Redeemed::Fresh(from_json(&doc)?),
            Some(Found { used_by: Some(first), .. }) => {
                Redeemed::Replayed { family: Some(FamilyId::from_stored(first)) }
            }
        })
    }

    async fn store_issuance(&self, issuance: &Issuance<'_>, now: OffsetDateTime) -> StoreResult<Stored> {
        self.write_issuance(issuance, now)
    }

    async fn revoke_access_token(&self, token: &TokenDigest, until: OffsetDateTime) -> StoreResult<()> {
        // A spent row under the token's key: the sweep removes it like any other past `until`.
        self.execute(
            "INSERT INTO grants (key, doc, used_by, expires_at) VALUES (?1, '', ?2, ?3) ON CONFLICT(key) DO NOTHING",
            params![access_key(token), REVOKED_ACCESS, until.unix_timestamp()],
        )
        .map(drop)
        .map_err(db_err)
    }

    async fn is_access_token_revoked(&self, token: &TokenDigest, now: OffsetDateTime) -> StoreResult<bool> {
        self.is_live("SELECT 1 FROM grants WHERE key = ?1 AND expires_at > ?2", &access_key(token), now)
    }

    async fn is_refresh_token_spent(
        &self,
        token: &TokenDigest,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        if until <= now {
            return Ok(false);
        }
        let sql = "SELECT 1 FROM spent_refresh_tokens WHERE until = ?1 AND key = ?2";
        let found: Option<i64> = self.value(sql, params![until.unix_timestamp(), token.as_str()])?;
        Ok(found.is_some())
    }

    async fn find_refresh_token(&self, token: &TokenDigest, now: OffsetDateTime) -> StoreResult<Redeemed<TokenGrant>> {
        Ok(match self.find_grant(&refresh_key(token), now)? {
            None => Redeemed::Unknown,
            Some(Found { doc, used_by: None }) => Redeemed::Fresh(from_json(&doc)?),
            Some(Found { doc, used_by: Some(_) }) => {
                Redeemed::Replayed { family: Some(from_json::<TokenGrant>(&doc)?.family) }
            }
        })
    }

    async fn get_refresh_token(&self, token: &TokenDigest, now: OffsetDateTime) -> StoreResult<Option<TokenGrant>> {
        let doc: Option<String> = self.doc(
            "SELECT doc FROM grants WHERE key = ?1 AND used_by IS NULL AND expires_at > ?2",
            params![refresh_key(token), now.unix_timestamp()],
        )?;
        doc.map(|d| from_json(&d)).transpose()
    }

    async fn revoke_family(&self, family: &FamilyId, until: OffsetDateTime) -> StoreResult<()> {
        self.execute(
            "INSERT INTO revoked_families (family, until) VALUES (?1, ?2)
             ON CONFLICT(family) DO UPDATE SET until = max(until, excluded.until)",
            params![family.as_str(), until.unix_timestamp()],
        )
        .map(drop)
        .map_err(db_err)
    }

    async fn is_family_revoked(&self, family: &FamilyId, now: OffsetDateTime) -> StoreResult<bool> {
        self.is_live("SELECT 1 FROM revoked_families WHERE family = ?1 AND until > ?2", family.as_str(), now)
    }

    async fn session_grants(&self, sid: &str, now: OffsetDateTime) -> StoreResult<Vec<SessionGrant>> {
        let rows: Vec<(String, String)> = self
            .with(|c| {
                c.prepare_cached(
                    "SELECT client_id, family FROM session_grants WHERE sid = ?1 AND expires_at > ?2
                     ORDER BY client_id, family",
                )?
                .query_map(params![sid, now.unix_timestamp()], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<(String, String)>>>()
            })
            .map_err(db_err)?;
        rows.into_iter()
            .map(|(client_id, family)| {
                let client_id = ClientId::parse(&client_id)
                    .ok_or_else(|| StoreError::Backend(format!("stored client id `{client_id}` is not one")))?;
                Ok(SessionGrant { client_id, family: FamilyId::from_stored(family) })
            })
            .collect()
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
        self.execute(
            "INSERT INTO consents (contact_id, client_id, doc) VALUES (?1, ?2, ?3)
             ON CONFLICT(contact_id, client_id) DO UPDATE SET doc = excluded.doc",
            params![consent.contact_id.to_string(), consent.client_id.to_string(), doc],
        )
        .map(drop)
        .map_err(db_err)
    }

    async fn delete_consent(&self, contact: ContactId, client_id: ClientId) -> StoreResult<()> {
        self.execute(
            "DELETE FROM consents WHERE contact_id = ?1 AND client_id = ?2",
            params![contact.to_string(), client_id.to_string()],
        )
        .map(drop)
        .map_err(db_err)
    }

    async fn put_ticket(&self, key: &TokenDigest, ticket: &Ticket, expires_at: OffsetDateTime) -> StoreResult<()> {
        self.execute(
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

/// A level as the `level` column holds it, in severity order.
fn level_rank(level: Level) -> i64 {
    match level {
        Level::Debug => 0,
        Level::Info => 1,
        Level::Warning => 2,
        Level::Error => 3,
    }
}

/// Databases from before the level views (user_version 4) have no `level` column: it is
/// added and filled from each entry's document, in one transaction, before the schema adds
/// the views' indexes.
pub(super) fn migrate(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    let has_level: i64 =
        conn.query_row("SELECT count(*) FROM pragma_table_info('event_log') WHERE name = 'level'", [], |r| r.get(0))?;
    let has_table: i64 =
        conn.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'event_log'", [], |r| {
            r.get(0)
        })?;
    if has_level > 0 || has_table == 0 {
        return Ok(());
    }
    let tx = conn.unchecked_transaction()?;
    tx.execute_batch(
        "ALTER TABLE event_log ADD COLUMN level INTEGER NOT NULL DEFAULT 1;
         UPDATE event_log SET level = CASE json_extract(doc, '$.level')
             WHEN 'debug' THEN 0 WHEN 'warning' THEN 2 WHEN 'error' THEN 3 ELSE 1 END;",
    )?;
    tx.commit()
}

#[async_trait]
impl LogStore for Database {
    async fn append(&self, entry: &LogEntry) -> StoreResult<()> {
        self.saw(entry.occurred_at);
        self.execute(
            "INSERT INTO event_log (sort_key, occurred_at, level, doc) VALUES (?1, ?2, ?3, ?4)",
            params![entry.sort_key(), entry.occurred_at.unix_timestamp(), level_rank(entry.level), to_json(entry)?],
        )
        .map(drop)
        .map_err(db_err)
    }

    async fn search(&self, filter: &LogFilter, now: OffsetDateTime) -> StoreResult<LogPage> {
        let oldest = (now - self.retention.log).unix_timestamp();
        let from = filter.from.map_or(oldest, |f| f.unix_timestamp().max(oldest));
        let to = filter.to.map_or(i64::MAX, |t| t.unix_timestamp());
        // Sort keys start with the zero-padded time, so the range and the page cursor are key
        // ranges: newest first along the primary key, reading no further than a page needs.
        let from_key = format!("{from:012}");
        let mut to_key = format!("{to:012}$");
        if let Some(before) = filter.before.as_ref().filter(|b| **b < to_key) {
            to_key.clone_from(before);
        }
        // A level with a view reads its partial index: only matches.
        let sql = match filter.level {
            Some(Level::Error) => {
                "SELECT doc FROM event_log WHERE level >= 3 AND sort_key >= ?1 AND sort_key < ?2 ORDER BY sort_key DESC"
            }
            Some(Level::Warning) => {
                "SELECT doc FROM event_log WHERE level >= 2 AND sort_key >= ?1 AND sort_key < ?2 ORDER BY sort_key DESC"
            }
            Some(Level::Info | Level::Debug) | None => {
                "SELECT doc FROM event_log WHERE sort_key >= ?1 AND sort_key < ?2 ORDER BY sort_key DESC"
            }
        };
        self.with(|c| {
            let mut stmt = c.prepare_cached(sql).map_err(db_err)?;
            let mut rows = stmt.query(params![from_key, to_key]).map_err(db_err)?;
            let mut search = LogSearch::new(filter);
            while let Some(row) = rows.next().map_err(db_err)? {
                let doc: String = row.get(0).map_err(db_err)?;
                if search.take(from_json(&doc)?) {
                    break;
                }
            }
            Ok(search.finish())
        })
    }
}

#[async_trait]
impl OutboxStore for Database {
    async fn push(&self, mail: &Mail) -> StoreResult<()> {
        self.saw(mail.sent_at);
        self.execute(
            "INSERT INTO outbox (sort_key, sent_at, doc) VALUES (?1, ?2, ?3)",
            params![mail.sort_key(), mail.sent_at.unix_timestamp(), to_json(mail)?],
        )
        .map(drop)
        .map_err(db_err)
    }

    async fn recent(&self, before: Option<&str>, limit: usize, now: OffsetDateTime) -> StoreResult<OutboxPage> {
        let oldest = (now - self.retention.outbox).unix_timestamp();
        // Sort keys are digits and an id: "~" sorts after every one of them.
        let docs = self.docs(
            "SELECT doc FROM outbox WHERE sent_at >= ?1 AND sort_key < ?2 ORDER BY sort_key DESC LIMIT ?3",
            params![oldest, before.unwrap_or("~"), i64::try_from(limit).unwrap_or(i64::MAX)],
        )?;
        let mails = docs.iter().map(|d| from_json(d)).collect::<StoreResult<Vec<Mail>>>()?;
        Ok(OutboxPage::new(mails, limit))
    }
}
