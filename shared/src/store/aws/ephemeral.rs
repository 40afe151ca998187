//! Sessions and throttle windows in one table whose items DynamoDB deletes after
//! `expires_at`. Deletion comes late (up to days), so every read checks expiry itself.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use time::{Duration, OffsetDateTime};

use super::{DOC, Item, MAX_ATTEMPTS, number, number_attribute, schema, sdk_error, string, string_attribute};
use crate::clock::from_unix;
use crate::contact::ContactId;
use crate::secret::TokenDigest;
use crate::session::Session;
use crate::store::records::{SessionRecord, from_json, to_json};
use crate::store::{Retention, SessionStore, StoreError, StoreResult, ThrottleStore};

const PK: &str = schema::EPHEMERAL.partition_key;
/// Epoch seconds: when a session ends or a throttle window closes. Also the TTL attribute.
const EXPIRES_AT: &str = "expires_at";
const FAILURES: &str = "failures";

pub struct EphemeralTable {
    pub client: Client,
    pub table: String,
    pub retention: Retention,
}

fn session_key(id: &TokenDigest) -> String {
    format!("session#{}", id.as_str())
}

fn throttle_key(key: &str) -> String {
    format!("throttle#{key}")
}

impl EphemeralTable {
    pub(super) fn pk(&self) -> &'static str {
        PK
    }

    pub(super) async fn get_item(&self, pk: String) -> StoreResult<Option<Item>> {
        super::get_item(&self.client, &self.table, PK, pk).await
    }

    pub(super) async fn delete_item(&self, pk: String) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, string(pk))
            .send()
            .await
            .map_err(|e| sdk_error("DeleteItem", &self.table, e))?;
        Ok(())
    }

    /// Adds one failure to a live window; `None` when there is no live window.
    async fn count_in_live_window(&self, pk: &str, now: i64) -> StoreResult<Option<u32>> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, string(pk))
            .update_expression("SET #failures = #failures + :one")
            .condition_expression("#expires_at > :now")
            .expression_attribute_names("#failures", FAILURES)
            .expression_attribute_names("#expires_at", EXPIRES_AT)
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(":now", number(now))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match result {
            Ok(output) => failures_after(&output).map(Some),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(None),
            Err(e) => Err(sdk_error("UpdateItem", &self.table, e)),
        }
    }

    /// Starts a window at one failure unless a live window exists; returns whether it did.
    async fn start_window(&self, pk: &str, now: i64, ends: i64) -> StoreResult<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, string(pk))
            .update_expression("SET #failures = :one, #expires_at = :ends")
            .condition_expression("attribute_not_exists(#pk) OR #expires_at <= :now")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#failures", FAILURES)
            .expression_attribute_names("#expires_at", EXPIRES_AT)
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(":now", number(now))
            .expression_attribute_values(":ends", number(ends))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(sdk_error("UpdateItem", &self.table, e)),
        }
    }
}

fn failures_after(output: &UpdateItemOutput) -> StoreResult<u32> {
    let attributes =
        output.attributes().ok_or_else(|| StoreError::Backend("UpdateItem returned no attributes".into()))?;
    let failures = number_attribute(attributes, FAILURES)?;
    Ok(u32::try_from(failures).unwrap_or(u32::MAX))
}

#[async_trait]
impl SessionStore for EphemeralTable {
    async fn insert(&self, session: &Session) -> StoreResult<()> {
        let doc = to_json(&SessionRecord::from(session))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .item(PK, string(session_key(&session.id)))
            .item(DOC, string(doc))
            .item(EXPIRES_AT, number(session.expires_at.unix_timestamp()))
            .send()
            .await
            .map_err(|e| sdk_error("PutItem", &self.table, e))?;
        // Every session lasts as long, so the newest one's end is the record's.
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, string(contact_sessions_key(session.contact_id)))
            .update_expression("ADD #ids :id SET #expires_at = :expires_at")
            .expression_attribute_names("#ids", SESSION_IDS)
            .expression_attribute_names("#expires_at", EXPIRES_AT)
            .expression_attribute_values(":id", AttributeValue::Ss(vec![session.id.as_str().to_owned()]))
            .expression_attribute_values(":expires_at", number(session.expires_at.unix_timestamp()))
            .send()
            .await
            .map_err(|e| sdk_error("UpdateItem", &self.table, e))?;
        Ok(())
    }

    async fn get(&self, id: &TokenDigest, now: OffsetDateTime) -> StoreResult<Option<Session>> {
        let Some(item) = self.get_item(session_key(id)).await? else {
            return Ok(None);
        };
        let session = Session::from(from_json::<SessionRecord>(string_attribute(&item, DOC)?)?);
        Ok(session.is_live(now).then_some(session))
    }

    async fn delete(&self, id: &TokenDigest) -> StoreResult<()> {
        self.delete_item(session_key(id)).await
    }

    async fn list_for_contact(&self, contact: ContactId, now: OffsetDateTime) -> StoreResult<Vec<Session>> {
        let Some(item) = self.get_item(contact_sessions_key(contact)).await? else { return Ok(Vec::new()) };
        let Some(AttributeValue::Ss(ids)) = item.get(SESSION_IDS) else { return Ok(Vec::new()) };
        let mut sessions = Vec::new();
        // Ended sessions stay listed until the record expires; reading each skips them.
        for id in ids {
            if let Some(session) = self.get(&TokenDigest::from_stored(id.clone()), now).await? {
                sessions.push(session);
            }
        }
        sessions.sort_by_key(|s| (s.auth_time, s.id.as_str().to_owned()));
        Ok(sessions)
    }
}

/// A contact's session ids (a string set, added to atomically), for listing them without a scan.
fn contact_sessions_key(contact: ContactId) -> String {
    format!("contactsessions#{contact}")
}

const SESSION_IDS: &str = "sessions";

#[async_trait]
impl ThrottleStore for EphemeralTable {
    async fn record_failure(&self, key: &str, now: OffsetDateTime, window: Duration) -> StoreResult<u32> {
        let pk = throttle_key(key);
        let now_s = now.unix_timestamp();
        let ends = (now + window).unix_timestamp();
        // Each step is one conditional write, so racing failures all count: either one
        // joins the live window, or exactly one starts the next window and the rest join it.
        for _ in 0..MAX_ATTEMPTS {
            if let Some(failures) = self.count_in_live_window(&pk, now_s).await? {
                return Ok(failures);
            }
            if self.start_window(&pk, now_s, ends).await? {
                return Ok(1);
            }
        }
        Err(StoreError::Backend(format!("throttle window for {key} kept changing under {MAX_ATTEMPTS} attempts")))
    }

    async fn failures(&self, key: &str, now: OffsetDateTime) -> StoreResult<Option<(u32, OffsetDateTime)>> {
        let Some(item) = self.get_item(throttle_key(key)).await? else {
            return Ok(None);
        };
        let ends = number_attribute(&item, EXPIRES_AT)?;
        if ends <= now.unix_timestamp() {
            return Ok(None);
        }
        let failures = number_attribute(&item, FAILURES)?;
        Ok(Some((u32::try_from(failures).unwrap_or(u32::MAX), from_unix(ends))))
    }

    async fn clear(&self, key: &str, count: u32) -> StoreResult<()> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, string(throttle_key(key)))
            .condition_expression("#failures = :count")
            .expression_attribute_names("#failures", FAILURES)
            .expression_attribute_values(":count", number(i64::from(count)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Another attempt counted since: the window stays.
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(sdk_error("DeleteItem", &self.table, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_the_tables_ttl_attribute() {
        assert_eq!(schema::EPHEMERAL.ttl_attribute, Some(EXPIRES_AT));
    }
}
