//! Filling a benchmark's tables fast: the items the store's own writes would make, 25 to a
//! BatchWriteItem, without their conditions or transactions (moto copies every table on each
//! transaction, so 50,000 contact inserts one by one would take hours). Test builds only.

use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};

use super::contact_index::ContactsTable;
use super::ephemeral::EphemeralTable;
use super::{Item, schema, sdk_error};
use crate::contact::Contact;
use crate::event_log::LogEntry;
use crate::store::{Retention, StoreError, StoreResult};

/// Writes `contacts` as inserts would. They must be new and their usernames distinct.
pub async fn load_contacts(sdk_config: &SdkConfig, table_prefix: &str, contacts: &[Contact]) -> StoreResult<()> {
    let client = Client::new(sdk_config);
    let table = ContactsTable { client: client.clone(), table: schema::CONTACTS.table_name(table_prefix) };
    let mut items = Vec::new();
    for contact in contacts {
        items.extend(table.insert_items(contact)?);
    }
    put_all(&client, &table.table, items).await
}

/// Writes `entries` as appends would.
pub async fn load_log_entries(
    sdk_config: &SdkConfig,
    table_prefix: &str,
    retention: Retention,
    entries: &[LogEntry],
) -> StoreResult<()> {
    let client = Client::new(sdk_config);
    let table = EphemeralTable { client: client.clone(), table: schema::EPHEMERAL.table_name(table_prefix), retention };
    let mut items = Vec::new();
    for entry in entries {
        items.extend(table.log_items(entry)?);
    }
    put_all(&client, &table.table, items).await
}

async fn put_all(client: &Client, table: &str, items: Vec<Item>) -> StoreResult<()> {
    for chunk in items.chunks(25) {
        let mut writes = Vec::new();
        for item in chunk {
            let put = PutRequest::builder().set_item(Some(item.clone())).build().map_err(StoreError::backend)?;
            writes.push(WriteRequest::builder().put_request(put).build());
        }
        let mut pending = Some(writes);
        while let Some(writes) = pending.take().filter(|w| !w.is_empty()) {
            let output = client
                .batch_write_item()
                .request_items(table, writes)
                .send()
                .await
                .map_err(|e| sdk_error("BatchWriteItem", table, e))?;
            pending = output.unprocessed_items.and_then(|mut u| u.remove(table));
        }
    }
    Ok(())
}
