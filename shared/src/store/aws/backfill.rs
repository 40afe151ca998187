//! Items saved before the listing indexes existed have no `listing` attribute (contacts no
//! `username_key` either), so the admin lists, which read those indexes, would leave them out.
//! [`run`] adds what they lack, once per stack: it reads each table a page at a time (the one
//! Scan Gatehouse makes, at start-up and never on a request), updates only items that still
//! lack the attribute, and then writes a marker that later start-ups find with one GetItem.
//! Log entries and mail are not backfilled: they expire by TTL within their retention.
//! A second pass, with its own marker, gives contacts saved before the prefix search their
//! search markers (`contact_index`). During a deployment a version from before the markers may
//! still serve a while and save contacts without theirs, so that pass runs once more at the
//! first start an hour or more after it (`SEARCH_RECHECKED`).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use time::{Duration, OffsetDateTime};

use super::schema::{self, LISTED, LISTING, TableSpec};
use super::{Item, get_item, number, number_attribute, sdk_error, string, string_attribute};
use crate::contact::Contact;
use crate::store::StoreResult;
use crate::store::records::{ContactRecord, from_json};

/// The markers' keys in the contacts table (no contact, username or external id looks like them).
const LISTINGS_DONE: &str = "meta#listing-backfill-1";
const SEARCH_DONE: &str = "meta#search-backfill-1";
const SEARCH_RECHECKED: &str = "meta#search-backfill-2";
/// On a marker: when its pass finished (markers written before this was recorded have none).
const DONE_AT: &str = "done_at";
/// How long after the search-marker pass it runs again: longer than a deployment lets
/// instances of the version before it serve.
const DEPLOYMENT_WINDOW: Duration = Duration::hours(1);

/// Backfills the stack's tables unless that was done before; returns how many items it updated.
/// Also records when the log's level views began (`timeline`), the first time.
pub async fn run(client: &Client, prefix: &str, now: OffsetDateTime) -> StoreResult<usize> {
    super::timeline::start_log_views(client, &schema::EPHEMERAL.table_name(prefix), now).await?;
    let contacts = schema::CONTACTS.table_name(prefix);
    let mut updated = 0;
    if !done(client, &contacts, LISTINGS_DONE).await? {
        for spec in [schema::CONTACTS, schema::QUERIES, schema::REGISTRATIONS] {
            updated += backfill_table(client, &spec, prefix).await?;
        }
        mark_done(client, &contacts, LISTINGS_DONE, now).await?;
    }
    if !done(client, &contacts, SEARCH_RECHECKED).await? {
        let marker = get_item(client, &contacts, schema::CONTACTS.partition_key, SEARCH_DONE.to_owned()).await?;
        // A marker recorded by a version that kept no time: that pass was in an earlier deployment.
        let last = marker.map(|marker| {
            number_attribute(&marker, DONE_AT).map_or(OffsetDateTime::UNIX_EPOCH, crate::clock::from_unix)
        });
        match last {
            None => {
                updated += super::contact_index::backfill(client, &contacts, None).await?;
                mark_done(client, &contacts, SEARCH_DONE, now).await?;
            }
            // Only what changed since the first pass began (its time, less a margin for clocks).
            Some(at) if now - at >= DEPLOYMENT_WINDOW => {
                let since = at - DEPLOYMENT_WINDOW;
                updated += super::contact_index::backfill(client, &contacts, Some(since)).await?;
                mark_done(client, &contacts, SEARCH_RECHECKED, now).await?;
            }
            Some(_) => {}
        }
    }
    Ok(updated)
}

async fn done(client: &Client, table: &str, marker: &str) -> StoreResult<bool> {
    Ok(get_item(client, table, schema::CONTACTS.partition_key, marker.to_owned()).await?.is_some())
}

async fn mark_done(client: &Client, table: &str, marker: &str, now: OffsetDateTime) -> StoreResult<()> {
    client
        .put_item()
        .table_name(table)
        .item(schema::CONTACTS.partition_key, string(marker))
        .item(DONE_AT, number(now.unix_timestamp()))
        .send()
        .await
        .map_err(|e| sdk_error("PutItem", table, e))?;
    Ok(())
}

async fn backfill_table(client: &Client, spec: &TableSpec, prefix: &str) -> StoreResult<usize> {
    let table = spec.table_name(prefix);
    let key = spec.partition_key;
    let mut updated = 0;
    let mut start: Option<Item> = None;
    loop {
        let page = client
            .scan()
            .table_name(&table)
            .filter_expression("attribute_not_exists(#listing)")
            .expression_attribute_names("#listing", LISTING)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| sdk_error("Scan", &table, e))?;
        for item in page.items() {
            if let Some(extra) = listing_attributes(spec, item)? {
                updated += usize::from(add_listing(client, &table, key, item, extra).await?);
            }
        }
        match page.last_evaluated_key {
            Some(next) if !next.is_empty() => start = Some(next),
            _ => return Ok(updated),
        }
    }
}

/// What a listed item of `spec` carries besides `listing`; `None` for items that are not
/// listed (the contacts table's username and external-id markers, the marker above).
fn listing_attributes(spec: &TableSpec, item: &Item) -> StoreResult<Option<Vec<(&'static str, String)>>> {
    if *spec != schema::CONTACTS {
        return Ok(Some(Vec::new()));
    }
    let is_contact =
        item.get(spec.partition_key).and_then(|v| v.as_s().ok()).is_some_and(|k| k.starts_with("contact#"));
    if !is_contact {
        return Ok(None);
    }
    let contact = from_json::<ContactRecord>(string_attribute(item, super::DOC)?).map(Contact::from)?;
    Ok(Some(vec![("username_key", contact.username_key())]))
}

/// Adds `listing` (and `extra`) unless the item changed meanwhile: a save in between already
/// wrote them, and a deleted item stays deleted. True when this updated it.
async fn add_listing(
    client: &Client,
    table: &str,
    key: &str,
    item: &Item,
    extra: Vec<(&'static str, String)>,
) -> StoreResult<bool> {
    let Some(id) = item.get(key).cloned() else { return Ok(false) };
    let mut update = String::from("SET #listing = :listed");
    let mut request = client
        .update_item()
        .table_name(table)
        .key(key, id)
        .condition_expression("attribute_exists(#key) AND attribute_not_exists(#listing)")
        .expression_attribute_names("#key", key)
        .expression_attribute_names("#listing", LISTING)
        .expression_attribute_values(":listed", string(LISTED));
    for (i, (name, value)) in extra.into_iter().enumerate() {
        update.push_str(&format!(", #a{i} = :v{i}"));
        request = request
            .expression_attribute_names(format!("#a{i}"), name)
            .expression_attribute_values(format!(":v{i}"), AttributeValue::S(value));
    }
    match request.update_expression(update).send().await {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
        Err(e) => Err(sdk_error("UpdateItem", table, e)),
    }
}
