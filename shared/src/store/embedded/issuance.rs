//! A token response's writes in one SQLite transaction, and the look-ups that precede it.

use rusqlite::{OptionalExtension as _, params};
use time::OffsetDateTime;

use super::{Database, conflict_or, db_err};
use crate::grants::{Issuance, Spend, Stored};
use crate::store::records::{SPENT_REFRESH, code_key, refresh_key, to_json};
use crate::store::{StoreResult, Taken};

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
        let refresh = issuance.refresh_token.map(|(token, grant)| to_json(grant).map(|doc| (token, grant, doc)));
        let refresh = refresh.transpose()?;
        let (spent_key, marker) = match issuance.spends {
            Spend::Nothing => (None, ""),
            Spend::Code { code, family } => (Some(code_key(code)), family.as_str()),
            Spend::RefreshToken(token) => (Some(refresh_key(token)), SPENT_REFRESH),
        };
        self.with(|c| {
            // Dropped without commit (an early return, an error) it rolls back: nothing is written.
            let tx = c.unchecked_transaction()?;
            if let Some(key) = &spent_key {
                let spent = tx
                    .prepare_cached(
                        "UPDATE grants SET used_by = ?2 WHERE key = ?1 AND used_by IS NULL AND expires_at > ?3",
                    )?
                    .execute(params![key, marker, now.unix_timestamp()])?;
                if spent == 0 {
                    return Ok(Stored::AlreadySpent);
                }
            }
            if let Some((token, grant, doc)) = &refresh {
                tx.prepare_cached("INSERT INTO grants (key, doc, used_by, expires_at) VALUES (?1, ?2, NULL, ?3)")?
                    .execute(params![refresh_key(token), doc, grant.expires_at.unix_timestamp()])?;
            }
            if let Some((sid, grant, until)) = issuance.session {
                tx.prepare_cached(
                    "INSERT INTO session_grants (sid, client_id, family, expires_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(sid, client_id, family) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)",
                )?
                .execute(params![sid, grant.client_id.to_string(), grant.family.as_str(), until.unix_timestamp()])?;
            }
            tx.commit()?;
            Ok(Stored::Written)
        })
        .map_err(|e| conflict_or(e, |_| Taken::Token))
    }
}
