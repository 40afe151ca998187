//! The contact search on DynamoDB: Queries on the contacts table's `by_username` index.
//!
//! Contact items are that index's `all` partition, by username. Each contact also has a
//! small marker item per other way it can be found by (last name, email) that puts it in the
//! same index under another partition: `listing` names the way and the sort key is
//! `<key>\u{1}<contact id>` (U+0001 sorts below any character a name holds, so the order is
//! (key, id), as on the embedded backend). One index serves the three ways, so no index had
//! to be added, which CloudFormation allows only one at a time. A marker also carries the keys
//! of the ways before its own, so that a Query's filter drops the markers of contacts an
//! earlier way listed without reading those contacts. The markers are written in the same
//! transactions as their contact, and rewritten only when one of their keys changes.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{KeysAndAttributes, TransactWriteItem};

use super::{DOC, Item, back_off, schema, sdk_error, string, string_attribute};
use crate::contact::{Contact, ContactId};
use crate::contact_search::{ContactCursor, ContactListing, ContactPage, ContactSearch, SearchWay};
use crate::store::records::{ContactRecord, from_json};
use crate::store::{StoreError, StoreResult};

const PK: &str = schema::CONTACTS.partition_key;
pub(super) const SORT: &str = "username_key";
/// On a marker: the id of the contact it stands for.
const CONTACT_ID: &str = "contact_id";
/// On a marker: the contact's keys along the earlier ways, for the filter.
const EARLIER_USERNAME: &str = "earlier_username";
const EARLIER_LAST_NAME: &str = "earlier_last_name";
/// Index entries one Query reads at most (markers are about 100 bytes).
const QUERY_PAGE: usize = 1000;
/// The ways that have markers (usernames are the contact items themselves).
pub(super) const MARKED: [SearchWay; 2] = [SearchWay::LastName, SearchWay::Email];

/// The contacts table: `contacts` writes and reads contacts, this module their search.
pub struct ContactsTable {
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
}

pub(super) fn contact_key(id: impl std::fmt::Display) -> String {
    format!("contact#{id}")
}

/// The index partition of `way`.
fn partition(way: SearchWay) -> &'static str {
    match way {
        SearchWay::Username => schema::LISTED,
        SearchWay::LastName => "last_name",
        SearchWay::Email => "email",
    }
}

fn marker_pk(way: SearchWay, id: ContactId) -> String {
    format!("search#{}#{id}", partition(way))
}

fn sort_value(way: SearchWay, key: &str, id: ContactId) -> String {
    match way {
        SearchWay::Username => key.to_owned(),
        _ => format!("{key}\u{1}{id}"),
    }
}

/// The index's key of the item after which a page goes on.
fn start_key(cursor: &ContactCursor) -> Item {
    let pk = match cursor.way {
        SearchWay::Username => contact_key(cursor.id),
        way => marker_pk(way, cursor.id),
    };
    Item::from([
        (PK.to_owned(), string(pk)),
        (schema::LISTING.to_owned(), string(partition(cursor.way))),
        (SORT.to_owned(), string(sort_value(cursor.way, &cursor.key, cursor.id))),
    ])
}

/// The contact's marker along `way`, if it has a key there.
fn marker(way: SearchWay, contact: &Contact) -> Option<Item> {
    let key = way.key_of(contact)?;
    let mut item = Item::from([
        (PK.to_owned(), string(marker_pk(way, contact.id))),
        (schema::LISTING.to_owned(), string(partition(way))),
        (SORT.to_owned(), string(sort_value(way, &key, contact.id))),
        (CONTACT_ID.to_owned(), string(contact.id.to_string())),
        (EARLIER_USERNAME.to_owned(), string(contact.username_key())),
    ]);
    if way == SearchWay::Email
        && let Some(last_name) = SearchWay::LastName.key_of(contact)
    {
        item.insert(EARLIER_LAST_NAME.to_owned(), string(last_name));
    }
    Some(item)
}

/// The cursor of the index entry whose key `key` is (a page's LastEvaluatedKey).
fn cursor_at(way: SearchWay, key: &Item) -> Option<ContactCursor> {
    let sort = key.get(SORT)?.as_s().ok()?;
    let (key, id) = match way {
        SearchWay::Username => {
            let pk = key.get(PK)?.as_s().ok()?;
            (sort.clone(), ContactId::parse(pk.strip_prefix("contact#")?)?)
        }
        _ => {
            let (key, id) = sort.rsplit_once('\u{1}')?;
            (key.to_owned(), ContactId::parse(id)?)
        }
    };
    Some(ContactCursor { way, key, id })
}

impl ContactsTable {
    /// Deletes the item `pk`, unconditionally.
    pub(super) fn delete(&self, pk: String) -> StoreResult<TransactWriteItem> {
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .key(PK, string(pk))
            .build()
            .map_err(StoreError::backend)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// What a write of `new` (`None`: a deletion) does to the markers `old` had: puts the
    /// ones that changed, deletes the ones it no longer has.
    pub(super) fn marker_writes(
        &self,
        old: Option<&Contact>,
        new: Option<&Contact>,
    ) -> StoreResult<Vec<TransactWriteItem>> {
        let mut writes = Vec::new();
        for way in MARKED {
            let old_marker = old.and_then(|c| marker(way, c));
            let new_marker = new.and_then(|c| marker(way, c));
            if old_marker == new_marker {
                continue;
            }
            match (new_marker, old) {
                (Some(item), _) => {
                    let put = aws_sdk_dynamodb::types::Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(item))
                        .build()
                        .map_err(StoreError::backend)?;
                    writes.push(TransactWriteItem::builder().put(put).build());
                }
                (None, Some(contact)) => writes.push(self.delete(marker_pk(way, contact.id))?),
                (None, None) => {}
            }
        }
        Ok(writes)
    }

    pub(super) async fn search(
        &self,
        search: &ContactSearch,
        after: Option<&ContactCursor>,
        limit: usize,
    ) -> StoreResult<ContactPage> {
        let mut listing = ContactListing::new(limit);
        for way in search.ways_from(after) {
            let mut start = after.filter(|c| c.way == way).map(start_key);
            loop {
                let output = self.query_way(search, way, listing.wanted(way), start.take()).await?;
                // More may match than the page has room for: the rest are read again next page.
                // A page's room at a time, as a marker may turn out to be passed over.
                let mut items = output.items();
                while !items.is_empty() {
                    let (these, rest) = items.split_at(listing.room().min(items.len()));
                    items = rest;
                    let contacts = match way {
                        SearchWay::Username => these.iter().map(decode).collect::<StoreResult<_>>()?,
                        _ => self.contacts_of(way, these).await?,
                    };
                    for contact in contacts {
                        if listing.take(way, contact) {
                            return Ok(listing.finish());
                        }
                    }
                }
                let dropped = usize::try_from(output.scanned_count() - output.count()).unwrap_or(0);
                let last = output.last_evaluated_key.filter(|key| !key.is_empty());
                if listing.pass_over(dropped, last.as_ref().and_then(|key| cursor_at(way, key))) {
                    return Ok(listing.finish());
                }
                match last {
                    Some(key) => start = Some(key),
                    None => break,
                }
            }
        }
        Ok(listing.finish())
    }

    /// One Query along `way` of up to `wanted` index entries (at least one, at most a Query
    /// page), after `start`; along the later ways, the markers of contacts an earlier way
    /// listed are filtered out.
    async fn query_way(
        &self,
        search: &ContactSearch,
        way: SearchWay,
        wanted: usize,
        start: Option<Item>,
    ) -> StoreResult<aws_sdk_dynamodb::operation::query::QueryOutput> {
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(schema::CONTACTS_BY_USERNAME.name)
            .expression_attribute_names("#listing", schema::LISTING)
            .expression_attribute_values(":way", string(partition(way)))
            .limit(i32::try_from(wanted.clamp(1, QUERY_PAGE)).unwrap_or(1))
            .set_exclusive_start_key(start);
        if search.is_everyone() {
            // Only the usernames are read: everyone has one.
            request = request.key_condition_expression("#listing = :way");
        } else {
            request = request
                .key_condition_expression("#listing = :way AND begins_with(#sort, :prefix)")
                .expression_attribute_names("#sort", SORT)
                .expression_attribute_values(":prefix", string(search.prefix()));
        }
        request = match way {
            SearchWay::Username => request,
            SearchWay::LastName => request
                .filter_expression("NOT begins_with(#username, :prefix)")
                .expression_attribute_names("#username", EARLIER_USERNAME),
            SearchWay::Email => request
                .filter_expression(
                    "NOT begins_with(#username, :prefix) \
                     AND (attribute_not_exists(#last_name) OR NOT begins_with(#last_name, :prefix))",
                )
                .expression_attribute_names("#username", EARLIER_USERNAME)
                .expression_attribute_names("#last_name", EARLIER_LAST_NAME),
        };
        request.send().await.map_err(|e| sdk_error("Query", &self.table, e))
    }

    /// The contacts `markers` stand for, in the markers' order, read together; a contact
    /// deleted since its marker was read is left out.
    async fn contacts_of(&self, way: SearchWay, markers: &[Item]) -> StoreResult<Vec<Contact>> {
        if markers.is_empty() {
            return Ok(Vec::new());
        }
        let ids = markers.iter().map(|m| string_attribute(m, CONTACT_ID)).collect::<StoreResult<Vec<_>>>()?;
        let mut found: HashMap<String, Contact> = HashMap::new();
        // BatchGetItem takes at most 100 keys.
        for chunk in ids.chunks(100) {
            self.batch_get(chunk, &mut found).await?;
        }
        // A marker that no longer matches its contact (written over by a version from before the
        // markers, during a deployment) would list the contact under a key it no longer has,
        // and end a page on a cursor elsewhere in the order: such markers are passed over.
        let matches = |marker: &Item, contact: &Contact| {
            let key = way.key_of(contact).map(|key| sort_value(way, &key, contact.id));
            key.as_deref().is_some_and(|key| string_attribute(marker, SORT).is_ok_and(|sort| sort == key))
        };
        Ok(ids
            .iter()
            .zip(markers)
            .filter_map(|(id, marker)| found.remove(*id).filter(|contact| matches(marker, contact)))
            .collect())
    }

    /// Reads the contacts with `ids` into `found`, asking again for any DynamoDB left unread.
    async fn batch_get(&self, ids: &[&str], found: &mut HashMap<String, Contact>) -> StoreResult<()> {
        let keys = ids.iter().map(|id| Item::from([(PK.to_owned(), string(contact_key(id)))])).collect();
        let mut pending = Some(KeysAndAttributes::builder().set_keys(Some(keys)).build().map_err(StoreError::backend)?);
        for attempt in 0.. {
            let Some(keys) = pending.take() else { break };
            if attempt > 0 {
                back_off(attempt.min(super::MAX_ATTEMPTS)).await;
            }
            let output = self
                .client
                .batch_get_item()
                .request_items(&self.table, keys)
                .send()
                .await
                .map_err(|e| sdk_error("BatchGetItem", &self.table, e))?;
            for item in output.responses.as_ref().and_then(|r| r.get(&self.table)).into_iter().flatten() {
                let contact = decode(item)?;
                found.insert(contact.id.to_string(), contact);
            }
            // Keys DynamoDB did not get to (throttling, size): asked for again.
            pending = output.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).filter(|k| !k.keys().is_empty());
            if attempt >= super::MAX_ATTEMPTS && pending.is_some() {
                return Err(StoreError::Unavailable(format!("BatchGetItem on {} left keys unread", self.table)));
            }
        }
        Ok(())
    }
}

/// Gives every contact the search markers it lacks (contacts saved before the search had
/// none), or only those changed `since` then: a page of the table at a time, each contact's
/// markers written on condition that it is unchanged since read (a change writes its own).
/// Returns how many contacts it marked.
pub(super) async fn backfill(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    since: Option<time::OffsetDateTime>,
) -> StoreResult<usize> {
    let contacts = ContactsTable { client: client.clone(), table: table.to_owned() };
    let mut marked = 0;
    let mut start: Option<Item> = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .filter_expression("begins_with(#pk, :contact)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":contact", string("contact#"))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| sdk_error("Scan", table, e))?;
        for item in page.items() {
            if since.is_some_and(|since| decode(item).is_ok_and(|contact| contact.updated_at < since)) {
                continue;
            }
            marked += usize::from(contacts.mark(item).await?);
        }
        match page.last_evaluated_key {
            Some(next) if !next.is_empty() => start = Some(next),
            _ => return Ok(marked),
        }
    }
}

impl ContactsTable {
    /// Writes the markers of the contact `item` holds, if it has any, on condition that it is
    /// unchanged; a contact changed meanwhile is read again (an update that keeps the last
    /// name and email writes no markers, so skipping it would leave it without).
    async fn mark(&self, item: &Item) -> StoreResult<bool> {
        let mut item = item.clone();
        for attempt in 0..super::MAX_ATTEMPTS {
            let contact = decode(&item)?;
            let mut writes = self.marker_writes(None, Some(&contact))?;
            if writes.is_empty() {
                return Ok(false);
            }
            let unchanged = aws_sdk_dynamodb::types::ConditionCheck::builder()
                .table_name(&self.table)
                .key(PK, string(contact_key(contact.id)))
                .condition_expression("#doc = :doc")
                .expression_attribute_names("#doc", DOC)
                .expression_attribute_values(":doc", string(string_attribute(&item, DOC)?))
                .build()
                .map_err(StoreError::backend)?;
            writes.push(TransactWriteItem::builder().condition_check(unchanged).build());
            match self.client.transact_write_items().set_transact_items(Some(writes)).send().await {
                Ok(_) => return Ok(true),
                Err(e) if e.as_service_error().is_some_and(|e| e.is_transaction_canceled_exception()) => {}
                Err(e) => return Err(sdk_error("TransactWriteItems", &self.table, e)),
            }
            back_off(attempt).await;
            match super::get_item(&self.client, &self.table, PK, contact_key(contact.id)).await? {
                Some(current) => item = current,
                None => return Ok(false),
            }
        }
        Err(StoreError::Backend(format!("search markers of a contact in {} kept racing other writes", self.table)))
    }
}

pub(super) fn decode(item: &Item) -> StoreResult<Contact> {
    from_json::<ContactRecord>(string_attribute(item, DOC)?).map(Contact::from)
}
