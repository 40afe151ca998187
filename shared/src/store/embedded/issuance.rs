//! A token response's writes in one SQLite transaction, and the look-ups that precede it.

use rusqlite::{OptionalExtension as _, params};
use time::OffsetDateTime;

use super::{Database, db_err};
use crate::grants::{Issuance, Spend, Stored};
use crate::store::StoreResult;
use crate::store::records::{SPENT_REFRESH, code_key, refresh_key};

/// A single-use row as found: its document and, once spent, what spent it.
pub(super) struct Found {
    pub doc: String,
    pub used_by: Option<String>,
}

impl Database {
    /// The live row under `key`, spent or not.
    pub(super) fn find_grant(&self, key: &str, now: OffsetDateTime) -> StoreResult<Option<Found>> {
        self.with(|c| {
            c.prepare_cached("SELECT doc, used_by FROM grants WHERE key = ?1 AND expires_at > ?2")?
                .query_row(params![key, now.unix_timestamp()], |r| Ok(Found { doc: r.get(0)?, used_by: r.get(1)? }))
                .optional()
        })
        .map_err(db_err)
    }

    pub(super) fn write_issuance(&self, issuance: &Issuance<'_>, now: OffsetDateTime) -> StoreResult<Stored> {
        self.saw(now);
        self.with(|c| {
            // Alone, the spend is its own (autocommit) transaction; with the session's note,
            // both are one. Dropped without commit (an early return, an error) it rolls back.
            let tx = issuance.session.is_some().then(|| c.unchecked_transaction()).transpose()?;
            if spend(c, issuance.spends, now)? == 0 {
                return Ok(Stored::AlreadySpent);
            }
            if let Some((sid, grant, until)) = issuance.session {
                c.prepare_cached(
                    "INSERT INTO session_grants (sid, client_id, family, expires_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(sid, client_id, family) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)",
                )?
                .execute(params![sid, grant.client_id.to_string(), grant.family.as_str(), until.unix_timestamp()])?;
            }
            if let Some(tx) = tx {
                tx.commit()?;
            }
            Ok(Stored::Written)
        })
        .map_err(db_err)
    }
}

/// Spends what an issuance spends: the rows changed, 0 when it was spent (or expired) before.
/// Spending nothing changes nothing and counts as done.
fn spend(c: &rusqlite::Connection, spends: Spend<'_>, now: OffsetDateTime) -> rusqlite::Result<usize> {
    let mark = |key: String, marker: &str| {
        c.prepare_cached("UPDATE grants SET used_by = ?2 WHERE key = ?1 AND used_by IS NULL AND expires_at > ?3")?
            .execute(params![key, marker, now.unix_timestamp()])
    };
    match spends {
        Spend::Nothing => Ok(1),
        Spend::Code { code, family } => mark(code_key(code), family.as_str()),
        Spend::StoredRefreshToken(token) => mark(refresh_key(token), SPENT_REFRESH),
        // A row keyed by the token's expiry and digest: a second spend conflicts and inserts
        // nothing. The sweep removes it once the token has expired.
        Spend::SealedRefreshToken { token, until } => c
            .prepare_cached("INSERT INTO spent_refresh_tokens (until, key) VALUES (?1, ?2) ON CONFLICT DO NOTHING")?
            .execute(params![until.unix_timestamp(), token.as_str()]),
    }
}

/// Moves the spent refresh tokens of a version 6 database (`spent_tokens`, keyed by digest)
/// into `spent_refresh_tokens`, in one transaction: a token spent before the upgrade stays
/// spent after it.
pub(super) fn migrate(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    let old: i64 =
        conn.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'spent_tokens'", [], |r| {
            r.get(0)
        })?;
    if old == 0 {
        return Ok(());
    }
    let tx = conn.unchecked_transaction()?;
    tx.execute_batch(
        "INSERT INTO spent_refresh_tokens (until, key) SELECT until, key FROM spent_tokens WHERE true
             ON CONFLICT DO NOTHING;
         DROP TABLE spent_tokens;",
    )?;
    tx.commit()
}
