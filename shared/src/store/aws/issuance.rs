//! A token response's writes as one DynamoDB transaction (TransactWriteItems): the spend's
//! condition and the session's note succeed together or not at all. A refresh (which notes
//! nothing) is one conditional PutItem: half the write units of a transaction.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use time::OffsetDateTime;

use super::ephemeral::EphemeralTable;
use super::{DOC, Item, MAX_ATTEMPTS, is_condition_failure, number, sdk_error, string};
use crate::grants::{Issuance, Spend, Stored};
use crate::store::records::{SPENT_REFRESH, code_key, refresh_key};
use crate::store::{StoreError, StoreResult};

pub(super) const EXPIRES_AT: &str = "expires_at";
pub(super) const USED_BY: &str = "used_by";
pub(super) const SESSION_GRANTS: &str = "grants";
/// Spending a single-use item: it must exist, be unused and unexpired; it is marked used by
/// `:marker`. One definition for the lone spend and the spend inside an issuance.
pub(super) const SPEND_UPDATE: &str = "SET #used_by = :marker";
pub(super) const SPEND_CONDITION: &str =
    "attribute_exists(#pk) AND attribute_not_exists(#used_by) AND #expires_at > :now";

/// The names and values [`SPEND_UPDATE`] and [`SPEND_CONDITION`] refer to.
pub(super) struct Spending {
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

impl Spending {
    pub fn new(pk: &str, marker: &str, now: OffsetDateTime) -> Self {
        let names = [("#pk", pk), ("#used_by", USED_BY), ("#expires_at", EXPIRES_AT)];
        Self {
            names: names.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
            values: HashMap::from([
                (":marker".to_owned(), string(marker)),
                (":now".to_owned(), number(now.unix_timestamp())),
            ]),
        }
    }
}

pub(super) fn session_grants_key(sid: &str) -> String {
    format!("sessiongrants#{sid}")
}

impl EphemeralTable {
    pub(super) async fn write_issuance(&self, issuance: &Issuance<'_>, now: OffsetDateTime) -> StoreResult<Stored> {
        let spends = !matches!(issuance.spends, Spend::Nothing);
        if let (Spend::SealedRefreshToken { token, until }, None) = (issuance.spends, issuance.session) {
            return self.record_spent(refresh_key(token), until).await;
        }
        let items = self.issuance_items(issuance, now)?;
        if items.is_empty() {
            // No spend and no session note: the tokens are sealed, nothing is stored (and
            // TransactWriteItems refuses an empty list).
            return Ok(Stored::Written);
        }
        for attempt in 0..MAX_ATTEMPTS {
            let err = match self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await {
                Ok(_) => return Ok(Stored::Written),
                Err(err) => err,
            };
            let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = err.as_service_error() else {
                return Err(sdk_error("TransactWriteItems", &self.table, err));
            };
            // One reason per item, in order: the spend is the first when there is one.
            let codes: Vec<&str> =
                cancelled.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None")).collect();
            match codes.first() {
                Some(&"ConditionalCheckFailed") if spends => return Ok(Stored::AlreadySpent),
                // Two responses for one session at once touch its note: try again.
                _ if codes.contains(&"TransactionConflict") => super::back_off(attempt).await,
                _ => {
                    return Err(StoreError::Backend(format!(
                        "TransactWriteItems on {} was cancelled ({})",
                        self.table,
                        codes.join(", ")
                    )));
                }
            }
        }
        Err(StoreError::Backend(format!("token issuance on {} kept conflicting", self.table)))
    }

    fn issuance_items(&self, issuance: &Issuance<'_>, now: OffsetDateTime) -> StoreResult<Vec<TransactWriteItem>> {
        let mut items = Vec::with_capacity(4);
        let spent = match issuance.spends {
            Spend::Nothing => None,
            Spend::Code { code, family } => Some((code_key(code), family.as_str())),
            Spend::StoredRefreshToken(token) => Some((refresh_key(token), SPENT_REFRESH)),
            Spend::SealedRefreshToken { token, until } => {
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(self.spent_item(refresh_key(token), until)))
                    .condition_expression("attribute_not_exists(#pk)")
                    .expression_attribute_names("#pk", self.pk())
                    .build()
                    .map_err(StoreError::backend)?;
                items.push(TransactWriteItem::builder().put(put).build());
                None
            }
        };
        if let Some((pk, marker)) = spent {
            let spend = Spending::new(self.pk(), marker, now);
            let update = Update::builder()
                .table_name(&self.table)
                .key(self.pk(), string(pk))
                .update_expression(SPEND_UPDATE)
                .condition_expression(SPEND_CONDITION)
                .set_expression_attribute_names(Some(spend.names))
                .set_expression_attribute_values(Some(spend.values))
                .build()
                .map_err(StoreError::backend)?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        if let Some((sid, grant, until)) = issuance.session {
            // One item per session; ADD to a string set keeps every app that got tokens.
            let entry = format!("{} {}", grant.client_id, grant.family.as_str());
            let update = Update::builder()
                .table_name(&self.table)
                .key(self.pk(), string(session_grants_key(sid)))
                .update_expression("ADD #grants :entry SET #expires_at = :expires_at")
                .expression_attribute_names("#grants", SESSION_GRANTS)
                .expression_attribute_names("#expires_at", EXPIRES_AT)
                .expression_attribute_values(":entry", AttributeValue::Ss(vec![entry]))
                .expression_attribute_values(":expires_at", number(until.unix_timestamp()))
                .build()
                .map_err(StoreError::backend)?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        Ok(items)
    }

    /// An item that lives until `expires_at` (the table's TTL attribute) and keeps `doc`.
    pub(super) fn expiring_item(&self, pk: String, doc: String, expires_at: OffsetDateTime) -> Item {
        Item::from([
            (self.pk().to_owned(), string(pk)),
            (DOC.to_owned(), string(doc)),
            (EXPIRES_AT.to_owned(), number(expires_at.unix_timestamp())),
        ])
    }

    /// What a spent sealed refresh token leaves: its key, marked spent, until it expires.
    fn spent_item(&self, pk: String, until: OffsetDateTime) -> Item {
        Item::from([
            (self.pk().to_owned(), string(pk)),
            (USED_BY.to_owned(), string(SPENT_REFRESH)),
            (EXPIRES_AT.to_owned(), number(until.unix_timestamp())),
        ])
    }

    /// Spends a sealed refresh token alone: one conditional PutItem.
    async fn record_spent(&self, pk: String, until: OffsetDateTime) -> StoreResult<Stored> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.spent_item(pk, until)))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", self.pk())
            .send()
            .await;
        match result {
            Ok(_) => Ok(Stored::Written),
            Err(e) if is_condition_failure(&e) => Ok(Stored::AlreadySpent),
            Err(e) => Err(sdk_error("PutItem", &self.table, e)),
        }
    }
}
