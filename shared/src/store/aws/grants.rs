//! Codes, tokens, revoked families and consents in the ephemeral table. Single-use items are
//! spent with one conditional update, so two racing requests get exactly one success.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use time::OffsetDateTime;

use super::ephemeral::EphemeralTable;
use super::issuance::{
    EXPIRES_AT, SESSION_GRANTS, SPEND_CONDITION, SPEND_UPDATE, Spending, USED_BY, session_grants_key,
};
use super::{
    DOC, Item, MAX_ATTEMPTS, is_condition_failure, number, number_attribute, sdk_error, string, string_attribute,
};
use crate::contact::ContactId;
use crate::grants::{AuthCode, Consent, FamilyId, Issuance, Redeemed, SessionGrant, Stored, TokenGrant};

use crate::registration::ClientId;
use crate::secret::TokenDigest;
use crate::store::records::{access_key, code_key, from_json, refresh_key, ticket_from_json, ticket_key, to_json};
use crate::store::{GrantStore, StoreError, StoreResult};
use crate::ticket::{Ticket, TicketKind};

impl EphemeralTable {
    async fn put_expiring(&self, pk: String, doc: String, expires_at: OffsetDateTime) -> StoreResult<()> {
        self.put_item_expiring(pk, doc, expires_at, Put::OnlyNew).await
    }

    async fn put_item_expiring(
        &self,
        pk: String,
        doc: String,
        expires_at: OffsetDateTime,
        put: Put,
    ) -> StoreResult<()> {
        let mut request =
            self.client.put_item().table_name(&self.table).set_item(Some(self.expiring_item(pk, doc, expires_at)));
        if put == Put::OnlyNew {
            request =
                request.condition_expression("attribute_not_exists(#pk)").expression_attribute_names("#pk", self.pk());
        }
        request.send().await.map_err(|e| sdk_error("PutItem", &self.table, e))?;
        Ok(())
    }

    /// Marks an unused, unexpired item used by `marker` and returns its record; otherwise
    /// says who used it first (`Err(Some(marker))`) or that there is none (`Err(None)`).
    async fn spend(
        &self,
        pk: String,
        marker: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Result<String, Option<String>>> {
        let spend = Spending::new(self.pk(), marker, now);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(self.pk(), string(pk.clone()))
            .update_expression(SPEND_UPDATE)
            .condition_expression(SPEND_CONDITION)
            .set_expression_attribute_names(Some(spend.names))
            .set_expression_attribute_values(Some(spend.values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => {
                let item =
                    output.attributes.ok_or_else(|| StoreError::Backend("UpdateItem returned nothing".into()))?;
                Ok(Ok(string_attribute(&item, DOC)?.to_owned()))
            }
            Err(e) if is_condition_failure(&e) => {
                let Some(item) = self.get_item(pk).await? else { return Ok(Err(None)) };
                if number_attribute(&item, EXPIRES_AT)? <= now.unix_timestamp() {
                    return Ok(Err(None));
                }
                Ok(Err(string_attribute(&item, USED_BY).ok().map(str::to_owned)))
            }
            Err(e) => Err(sdk_error("UpdateItem", &self.table, e)),
        }
    }

    /// An item that says only "until `until`" (a revocation), replacing any under `pk`.
    async fn put_until(&self, pk: String, until: OffsetDateTime) -> StoreResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(self.pk(), string(pk))
            .item(EXPIRES_AT, number(until.unix_timestamp()))
            .send()
            .await
            .map_err(|e| sdk_error("PutItem", &self.table, e))?;
        Ok(())
    }

    /// The item under `pk` unless it expired (spent or not).
    async fn live_item(&self, pk: String, now: OffsetDateTime) -> StoreResult<Option<Item>> {
        let Some(item) = self.get_item(pk).await? else { return Ok(None) };
        Ok((number_attribute(&item, EXPIRES_AT)? > now.unix_timestamp()).then_some(item))
    }

    /// A member's consents, one item per member: `client_id` → consent.
    async fn consents(&self, contact: ContactId) -> StoreResult<(Option<Item>, BTreeMap<String, Consent>)> {
        let item = self.get_item(consent_key(contact)).await?;
        let map = match &item {
            Some(item) => from_json(string_attribute(item, DOC)?)?,
            None => BTreeMap::new(),
        };
        Ok((item, map))
    }

    /// Rewrites a member's consents if nobody changed them since `before` was read.
    async fn replace_consents(
        &self,
        contact: ContactId,
        before: Option<&Item>,
        after: &BTreeMap<String, Consent>,
    ) -> StoreResult<bool> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(self.pk(), string(consent_key(contact)))
            .item(DOC, string(to_json(after)?));
        put = match before {
            None => put.condition_expression("attribute_not_exists(#pk)").expression_attribute_names("#pk", self.pk()),
            Some(item) => put
                .condition_expression("#doc = :old")
                .expression_attribute_names("#doc", DOC)
                .expression_attribute_values(":old", string(string_attribute(item, DOC)?)),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(sdk_error("PutItem", &self.table, e)),
        }
    }

    async fn change_consents(
        &self,
        contact: ContactId,
        change: impl Fn(&mut BTreeMap<String, Consent>),
    ) -> StoreResult<()> {
        for attempt in 0..MAX_ATTEMPTS {
            let (item, mut map) = self.consents(contact).await?;
            change(&mut map);
            if self.replace_consents(contact, item.as_ref(), &map).await? {
                return Ok(());
            }
            super::back_off(attempt).await;
        }
        Err(StoreError::Backend(format!("consents of {contact} kept changing under {MAX_ATTEMPTS} attempts")))
    }
}

fn consent_key(contact: ContactId) -> String {
    format!("consents#{contact}")
}

#[async_trait]
impl GrantStore for EphemeralTable {
    async fn put_code(&self, code: &TokenDigest, grant: &AuthCode) -> StoreResult<()> {
        self.put_expiring(code_key(code), to_json(grant)?, grant.expires_at).await
    }

    async fn redeem_code(
        &self,
        code: &TokenDigest,
        family: &FamilyId,
        now: OffsetDateTime,
    ) -> StoreResult<Redeemed<AuthCode>> {
        Ok(match self.spend(code_key(code), family.as_str(), now).await? {
            Ok(doc) => Redeemed::Fresh(from_json(&doc)?),
            Err(Some(first)) => Redeemed::Replayed { family: Some(FamilyId::from_stored(first)) },
            Err(None) => Redeemed::Unknown,
        })
    }

    async fn find_code(&self, code: &TokenDigest, now: OffsetDateTime) -> StoreResult<Redeemed<AuthCode>> {
        let Some(item) = self.live_item(code_key(code), now).await? else { return Ok(Redeemed::Unknown) };
        Ok(match item.get(USED_BY) {
            None => Redeemed::Fresh(from_json(string_attribute(&item, DOC)?)?),
            Some(_) => {
                Redeemed::Replayed { family: Some(FamilyId::from_stored(string_attribute(&item, USED_BY)?.into())) }
            }
        })
    }

    async fn store_issuance(&self, issuance: &Issuance<'_>, now: OffsetDateTime) -> StoreResult<Stored> {
        self.write_issuance(issuance, now).await
    }

    async fn revoke_access_token(&self, token: &TokenDigest, until: OffsetDateTime) -> StoreResult<()> {
        // Kept until the token would have expired; the table's TTL removes it afterwards.
        self.put_until(access_key(token), until).await
    }

    async fn is_access_token_revoked(&self, token: &TokenDigest, now: OffsetDateTime) -> StoreResult<bool> {
        Ok(self.live_item(access_key(token), now).await?.is_some())
    }

    async fn is_refresh_token_spent(
        &self,
        token: &TokenDigest,
        _until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        Ok(self.live_item(refresh_key(token), now).await?.is_some())
    }

    async fn find_refresh_token(&self, token: &TokenDigest, now: OffsetDateTime) -> StoreResult<Redeemed<TokenGrant>> {
        let Some(item) = self.live_item(refresh_key(token), now).await? else { return Ok(Redeemed::Unknown) };
        let grant: TokenGrant = from_json(string_attribute(&item, DOC)?)?;
        Ok(if item.contains_key(USED_BY) {
            Redeemed::Replayed { family: Some(grant.family) }
        } else {
            Redeemed::Fresh(grant)
        })
    }

    async fn get_refresh_token(&self, token: &TokenDigest, now: OffsetDateTime) -> StoreResult<Option<TokenGrant>> {
        let Some(item) = self.get_item(refresh_key(token)).await? else { return Ok(None) };
        if number_attribute(&item, EXPIRES_AT)? <= now.unix_timestamp() || item.contains_key(USED_BY) {
            return Ok(None);
        }
        from_json(string_attribute(&item, DOC)?).map(Some)
    }

    async fn revoke_family(&self, family: &FamilyId, until: OffsetDateTime) -> StoreResult<()> {
        self.put_until(format!("family#{}", family.as_str()), until).await
    }

    async fn is_family_revoked(&self, family: &FamilyId, now: OffsetDateTime) -> StoreResult<bool> {
        let Some(item) = self.get_item(format!("family#{}", family.as_str())).await? else { return Ok(false) };
        Ok(number_attribute(&item, EXPIRES_AT)? > now.unix_timestamp())
    }

    async fn session_grants(&self, sid: &str, now: OffsetDateTime) -> StoreResult<Vec<SessionGrant>> {
        let Some(item) = self.get_item(session_grants_key(sid)).await? else { return Ok(Vec::new()) };
        if number_attribute(&item, EXPIRES_AT)? <= now.unix_timestamp() {
            return Ok(Vec::new());
        }
        let Some(AttributeValue::Ss(entries)) = item.get(SESSION_GRANTS) else { return Ok(Vec::new()) };
        let mut grants = Vec::new();
        for entry in entries {
            let parsed = entry.split_once(' ').and_then(|(client, family)| {
                Some(SessionGrant { client_id: ClientId::parse(client)?, family: FamilyId::from_stored(family.into()) })
            });
            grants.push(parsed.ok_or_else(|| StoreError::Backend(format!("stored session grant `{entry}` is bad")))?);
        }
        grants.sort();
        grants.dedup();
        Ok(grants)
    }

    async fn get_consent(&self, contact: ContactId, client_id: ClientId) -> StoreResult<Option<Consent>> {
        Ok(self.consents(contact).await?.1.remove(&client_id.to_string()))
    }

    async fn put_consent(&self, consent: &Consent) -> StoreResult<()> {
        self.change_consents(consent.contact_id, |map| {
            map.insert(consent.client_id.to_string(), consent.clone());
        })
        .await
    }

    async fn delete_consent(&self, contact: ContactId, client_id: ClientId) -> StoreResult<()> {
        self.change_consents(contact, |map| {
            map.remove(&client_id.to_string());
        })
        .await
    }

    async fn put_ticket(&self, key: &TokenDigest, ticket: &Ticket, expires_at: OffsetDateTime) -> StoreResult<()> {
        self.put_item_expiring(ticket_key(ticket.kind(), key), to_json(ticket)?, expires_at, Put::Replacing).await
    }

    async fn take_ticket(
        &self,
        kind: TicketKind,
        key: &TokenDigest,
        now: OffsetDateTime,
    ) -> StoreResult<Option<Ticket>> {
        Ok(self.spend(ticket_key(kind, key), "taken", now).await?.ok().and_then(|doc| ticket_from_json(kind, &doc)))
    }

    async fn list_consents(&self, contact: ContactId) -> StoreResult<Vec<Consent>> {
        Ok(self.consents(contact).await?.1.into_values().collect())
    }
}

/// Whether a put may replace an item under the same key: codes and tokens never do (their keys
/// are fresh random values, so a clash is a fault); tickets do (see `GrantStore::put_ticket`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Put {
    OnlyNew,
    Replacing,
}
