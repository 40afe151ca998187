//! The DynamoDB tables, as data: the code, `create_tables` and the SAM template all follow
//! [`TABLES`]. Every key is a string, no table has a sort key, billing is on demand and every
//! index projects all attributes. Every list an admin page shows is a Query on an index (never
//! a Scan): a constant `listing` partition ordered by the sort key, or, for the log and the
//! outbox, a month's partition ordered by time.

use aws_sdk_dynamodb::error::DisplayErrorContext;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters as _;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification, TimeToLiveStatus,
};

use super::sdk_error;
use crate::store::{StoreError, StoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSpec {
    /// Appended to the table prefix to name the table.
    pub suffix: &'static str,
    /// The string partition key.
    pub partition_key: &'static str,
    pub indexes: &'static [IndexSpec],
    /// A number attribute holding epoch seconds after which DynamoDB may delete the item.
    pub ttl_attribute: Option<&'static str>,
}

/// A global secondary index with a string partition key and maybe a string sort key,
/// projecting all attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSpec {
    pub name: &'static str,
    pub partition_key: &'static str,
    pub sort_key: Option<&'static str>,
}

/// The partition key of the listing indexes; every listed item has it, set to [`LISTED`].
pub const LISTING: &str = "listing";
pub const LISTED: &str = "all";

impl TableSpec {
    pub fn table_name(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.suffix)
    }
}

/// Contacts (`contact#<id>`) and the markers that keep usernames and external ids unique
/// (`username#<lowercased username>`, `external#<external id>`).
pub const CONTACTS: TableSpec = TableSpec {
    suffix: "contacts",
    partition_key: "pk",
    indexes: &[CONTACTS_BY_EMAIL, CONTACTS_BY_USERNAME],
    ttl_attribute: None,
};

/// Contacts by lowercased email; sparse, as contacts without an email have no `email_key`.
pub const CONTACTS_BY_EMAIL: IndexSpec = IndexSpec { name: "by_email", partition_key: "email_key", sort_key: None };

/// Every contact by lowercased username (markers have no `listing`, so they stay out).
pub const CONTACTS_BY_USERNAME: IndexSpec =
    IndexSpec { name: "by_username", partition_key: LISTING, sort_key: Some("username_key") };

pub const QUERIES: TableSpec =
    TableSpec { suffix: "queries", partition_key: "path", indexes: &[QUERIES_BY_PATH], ttl_attribute: None };

pub const QUERIES_BY_PATH: IndexSpec = IndexSpec { name: "by_path", partition_key: LISTING, sort_key: Some("path") };

pub const REGISTRATIONS: TableSpec = TableSpec {
    suffix: "registrations",
    partition_key: "client_id",
    indexes: &[REGISTRATIONS_BY_ID],
    ttl_attribute: None,
};

pub const REGISTRATIONS_BY_ID: IndexSpec =
    IndexSpec { name: "by_client_id", partition_key: LISTING, sort_key: Some("client_id") };

/// Short-lived items that expire: sessions (`session#<digest>`), throttle windows
/// (`throttle#<key>`), codes and tokens, the log and the outbox.
pub const EPHEMERAL: TableSpec = TableSpec {
    suffix: "ephemeral",
    partition_key: "pk",
    indexes: &[EPHEMERAL_BY_TIME],
    ttl_attribute: Some("expires_at"),
};

/// Log entries and mail by month (`bucket` = `log#2026-01`), newest first by their sort key
/// (zero-padded epoch seconds, then id). Sparse: only those items have a `bucket`.
pub const EPHEMERAL_BY_TIME: IndexSpec =
    IndexSpec { name: "by_time", partition_key: "bucket", sort_key: Some("sort_key") };

pub const TABLES: &[TableSpec] = &[CONTACTS, QUERIES, REGISTRATIONS, EPHEMERAL];

/// How long to wait for a new table to become active.
const CREATE_TIMEOUT: Duration = Duration::from_secs(300);

/// Creates every table in [`TABLES`] under `prefix` and enables TTL where specified.
/// Tables that already exist are kept, so this can run again safely.
pub async fn create_tables(client: &Client, prefix: &str) -> Result<(), StoreError> {
    for spec in TABLES {
        create_table(client, spec, prefix).await?;
    }
    Ok(())
}

async fn create_table(client: &Client, spec: &TableSpec, prefix: &str) -> StoreResult<()> {
    let table = spec.table_name(prefix);
    let mut key_attributes = vec![spec.partition_key];
    for attribute in spec.indexes.iter().flat_map(|i| std::iter::once(i.partition_key).chain(i.sort_key)) {
        if !key_attributes.contains(&attribute) {
            key_attributes.push(attribute);
        }
    }
    let definitions = key_attributes
        .into_iter()
        .map(|name| AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::backend)?;
    let indexes = spec
        .indexes
        .iter()
        .map(|index| {
            GlobalSecondaryIndex::builder()
                .index_name(index.name)
                .set_key_schema(Some(index_keys(index)?))
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .map_err(StoreError::backend)
        })
        .collect::<StoreResult<Vec<_>>>()?;

    let created = client
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(definitions))
        .key_schema(hash_key(spec.partition_key)?)
        .set_global_secondary_indexes((!indexes.is_empty()).then_some(indexes))
        .send()
        .await;
    match created {
        Ok(_) => {}
        // The table exists already: keep it.
        Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => {}
        Err(e) => return Err(sdk_error("CreateTable", &table, e)),
    }
    // TTL can be set only on an active table.
    client
        .wait_until_table_exists()
        .table_name(&table)
        .wait(CREATE_TIMEOUT)
        .await
        .map_err(|e| StoreError::Backend(format!("waiting for table {table} failed: {}", DisplayErrorContext(&e))))?;
    if let Some(attribute) = spec.ttl_attribute {
        enable_ttl(client, &table, attribute).await?;
    }
    Ok(())
}

fn index_keys(index: &IndexSpec) -> StoreResult<Vec<KeySchemaElement>> {
    let mut keys = vec![hash_key(index.partition_key)?];
    if let Some(sort_key) = index.sort_key {
        keys.push(
            KeySchemaElement::builder()
                .attribute_name(sort_key)
                .key_type(KeyType::Range)
                .build()
                .map_err(StoreError::backend)?,
        );
    }
    Ok(keys)
}

fn hash_key(attribute: &str) -> StoreResult<KeySchemaElement> {
    KeySchemaElement::builder().attribute_name(attribute).key_type(KeyType::Hash).build().map_err(StoreError::backend)
}

async fn enable_ttl(client: &Client, table: &str, attribute: &str) -> StoreResult<()> {
    let current = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeTimeToLive", table, e))?;
    let status = current.time_to_live_description().and_then(|d| d.time_to_live_status());
    // Enabling twice is an error, so only a disabled table is changed.
    if matches!(status, Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)) {
        return Ok(());
    }
    let specification = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name(attribute)
        .build()
        .map_err(StoreError::backend)?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(specification)
        .send()
        .await
        .map_err(|e| sdk_error("UpdateTimeToLive", table, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_distinct_and_valid() {
        let names: Vec<_> = TABLES.iter().map(|t| t.table_name("gatehouse-")).collect();
        for (i, name) in names.iter().enumerate() {
            assert!(!names[..i].contains(name), "{name} is defined twice");
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)),
                "{name} has a character DynamoDB refuses"
            );
        }
    }
}
