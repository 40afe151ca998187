//! Saved queries and registrations: one item per record, keyed by one string attribute, and
//! listed through an index whose one partition holds every item in key order.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::schema::{IndexSpec, LISTED, LISTING};
use super::{DOC, Item, sdk_error, string, string_attribute};
use crate::query::{QueryPath, SavedQuery};
use crate::registration::{ClientId, Registration};
use crate::store::records::{QueryRecord, RegistrationRecord, from_json, to_json};
use crate::store::{QueryStore, RegistrationStore, StoreError, StoreResult, Taken};

/// The item's revision beside its document, so a condition can compare it (items written
/// before revisions were counted have none: revision 0).
const REVISION: &str = "revision";

/// A table of `{<key>: <id>, doc: <record JSON>, revision: <n>}` items.
pub struct DocumentTable {
    pub client: Client,
    pub table: String,
    pub key: &'static str,
    /// The index that lists every item.
    pub listing: IndexSpec,
}

impl DocumentTable {
    /// Adds the item; `Conflict(taken)` when its key exists.
    async fn insert(&self, id: &str, doc: String, taken: impl FnOnce() -> Taken) -> StoreResult<()> {
        let put = self.put(id, doc, 0).condition_expression("attribute_not_exists(#key)");
        self.put_if(put, || StoreError::Conflict(taken())).await
    }

    async fn get(&self, id: &str) -> StoreResult<Option<String>> {
        let item = super::get_item(&self.client, &self.table, self.key, id.to_owned()).await?;
        item.map(|item| string_attribute(&item, DOC).map(str::to_owned)).transpose()
    }

    /// Replaces the item (`doc` is the record at revision `from + 1`) if it is still at
    /// revision `from`: `Stale` if it was written since, `NotFound` when there is none.
    async fn update(&self, id: &str, doc: String, from: u64) -> StoreResult<()> {
        let condition = if from == 0 {
            "attribute_exists(#key) AND (attribute_not_exists(#revision) OR #revision = :from)"
        } else {
            "attribute_exists(#key) AND #revision = :from"
        };
        let put = self
            .put(id, doc, from + 1)
            .condition_expression(condition)
            .expression_attribute_names("#revision", REVISION)
            .expression_attribute_values(":from", AttributeValue::N(from.to_string()));
        match self.put_if(put, || StoreError::Stale).await {
            Err(StoreError::Stale) if self.get(id).await?.is_none() => Err(StoreError::NotFound),
            other => other,
        }
    }

    /// The PutItem of the whole item; its condition names the key `#key`.
    fn put(&self, id: &str, doc: String, revision: u64) -> PutItemFluentBuilder {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(self.key, string(id))
            .item(DOC, string(doc))
            .item(REVISION, AttributeValue::N(revision.to_string()))
            .item(LISTING, string(LISTED))
            .expression_attribute_names("#key", self.key)
    }

    /// Sends `put`; a failed condition is `refused()`.
    async fn put_if(&self, put: PutItemFluentBuilder, refused: impl FnOnce() -> StoreError) -> StoreResult<()> {
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Err(refused()),
            Err(e) => Err(sdk_error("PutItem", &self.table, e)),
        }
    }

    /// Returns whether there was such an item.
    async fn delete(&self, id: &str) -> StoreResult<bool> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(self.key, string(id))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteItem", &self.table, e))?;
        Ok(output.attributes().is_some_and(|old| !old.is_empty()))
    }

    /// Every record, in key order, a page of the listing index at a time.
    async fn all_docs(&self) -> StoreResult<Vec<String>> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(self.listing.name)
            .key_condition_expression("#listing = :listed")
            .expression_attribute_names("#listing", LISTING)
            .expression_attribute_values(":listed", string(LISTED))
            .into_paginator()
            .send();
        let mut docs = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("Query", &self.table, e))?;
            for item in page.items() {
                docs.push(doc_of(item)?);
            }
        }
        Ok(docs)
    }
}

fn doc_of(item: &Item) -> StoreResult<String> {
    string_attribute(item, DOC).map(str::to_owned)
}

pub struct QueriesTable(pub DocumentTable);

fn decode_query(doc: &str) -> StoreResult<SavedQuery> {
    from_json::<QueryRecord>(doc).and_then(SavedQuery::try_from)
}

#[async_trait]
impl QueryStore for QueriesTable {
    async fn insert(&self, query: &SavedQuery) -> StoreResult<()> {
        let doc = to_json(&QueryRecord::from(query))?;
        self.0.insert(query.path.as_str(), doc, || Taken::Path(query.path.clone())).await
    }

    async fn get(&self, path: &QueryPath) -> StoreResult<Option<SavedQuery>> {
        self.0.get(path.as_str()).await?.map(|doc| decode_query(&doc)).transpose()
    }

    async fn update(&self, query: &mut SavedQuery) -> StoreResult<()> {
        let next = query.next_revision();
        self.0.update(query.path.as_str(), to_json(&QueryRecord::from(&next))?, query.revision).await?;
        *query = next;
        Ok(())
    }

    async fn delete(&self, path: &QueryPath) -> StoreResult<bool> {
        self.0.delete(path.as_str()).await
    }

    async fn list(&self) -> StoreResult<Vec<SavedQuery>> {
        let mut queries =
            self.0.all_docs().await?.iter().map(|doc| decode_query(doc)).collect::<StoreResult<Vec<_>>>()?;
        queries.sort_by(|a, b| a.path.as_str().cmp(b.path.as_str()));
        Ok(queries)
    }
}

pub struct RegistrationsTable(pub DocumentTable);

fn decode_registration(doc: &str) -> StoreResult<Registration> {
    from_json::<RegistrationRecord>(doc).and_then(Registration::try_from)
}

#[async_trait]
impl RegistrationStore for RegistrationsTable {
    async fn insert(&self, registration: &Registration) -> StoreResult<()> {
        let doc = to_json(&RegistrationRecord::from(registration))?;
        let id = registration.client_id.to_string();
        self.0.insert(&id, doc, || Taken::ClientId(registration.client_id)).await
    }

    async fn get(&self, client_id: ClientId) -> StoreResult<Option<Registration>> {
        self.0.get(&client_id.to_string()).await?.map(|doc| decode_registration(&doc)).transpose()
    }

    async fn update(&self, registration: &mut Registration) -> StoreResult<()> {
        let next = registration.next_revision();
        let doc = to_json(&RegistrationRecord::from(&next))?;
        self.0.update(&registration.client_id.to_string(), doc, registration.revision).await?;
        *registration = next;
        Ok(())
    }

    async fn delete(&self, client_id: ClientId) -> StoreResult<bool> {
        self.0.delete(&client_id.to_string()).await
    }

    async fn list(&self) -> StoreResult<Vec<Registration>> {
        let mut registrations =
            self.0.all_docs().await?.iter().map(|doc| decode_registration(doc)).collect::<StoreResult<Vec<_>>>()?;
        registrations.sort_by_cached_key(|r| r.settings.name.to_lowercase());
        Ok(registrations)
    }
}
