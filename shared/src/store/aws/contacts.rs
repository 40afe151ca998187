//! Contacts. Besides each contact's item (`contact#<id>`), the table holds one marker item
//! per claimed username (`username#<lowercased username>`) and external id
//! (`external#<external id>`), each naming its contact. Every write changes the contact and
//! its markers in one transaction whose conditions refuse a marker that exists, so a username
//! or external id can never be claimed twice, even by racing writers. Contact items (not
//! markers) carry `listing` and `username_key`, so the list reads the `by_username` index in
//! username order, a page at a time; the search markers of `contact_index` share that index.

use async_trait::async_trait;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};

use super::contact_index::{ContactsTable, contact_key, decode};
use super::{DOC, Item, MAX_ATTEMPTS, back_off, schema, sdk_error, string, string_attribute};
use crate::contact::{Contact, ContactId, normalize_key};
use crate::contact_search::{ContactCursor, ContactPage, ContactSearch};
use crate::store::records::{ContactRecord, from_json, to_json};
use crate::store::{ContactStore, StoreError, StoreResult, Taken};

const PK: &str = schema::CONTACTS.partition_key;
const EMAIL_KEY: &str = schema::CONTACTS_BY_EMAIL.partition_key;
const USERNAME_KEY: &str = super::contact_index::SORT;
/// On a marker: the id of the contact that holds the username or external id.
const CONTACT_ID: &str = "contact_id";

fn username_key(username_key: &str) -> String {
    format!("username#{username_key}")
}

fn external_key(external_id: &str) -> String {
    format!("external#{external_id}")
}

/// What one action in a contact transaction does, to explain why the transaction failed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Writes or deletes the contact's own item.
    Contact,
    ClaimUsername,
    ClaimExternalId,
    /// Deletes a marker the contact no longer needs.
    Release,
    /// Puts or deletes a search marker (`contact_index`), unconditionally.
    SearchMarker,
}

/// Why a contact transaction was refused.
enum Refusal {
    /// The contact's item was not as the condition expected (absent, present, or changed).
    ContactCondition,
    UsernameTaken,
    ExternalIdTaken,
    /// Another transaction touched the same items at the same time: try again.
    Contended,
    Failed(StoreError),
}

impl ContactsTable {
    async fn get_item(&self, pk: String) -> StoreResult<Option<Item>> {
        super::get_item(&self.client, &self.table, PK, pk).await
    }

    /// Puts `item` on condition that no item has its key.
    fn put_new(&self, item: Item) -> StoreResult<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .build()
            .map_err(StoreError::backend)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Puts a marker for `pk` naming `contact`, on condition that no such marker exists.
    fn claim(&self, pk: String, contact: ContactId) -> StoreResult<TransactWriteItem> {
        let item = Item::from([(PK.to_owned(), string(pk)), (CONTACT_ID.to_owned(), string(contact.to_string()))]);
        self.put_new(item)
    }

    /// Puts the contact's item; `only_if` is `None` for a new contact (it must not exist),
    /// or the stored document it must still have.
    fn put_contact(&self, contact: &Contact, doc: &str, only_if: Option<&str>) -> StoreResult<TransactWriteItem> {
        let mut item = Item::from([
            (PK.to_owned(), string(contact_key(contact.id))),
            (DOC.to_owned(), string(doc)),
            (schema::LISTING.to_owned(), string(schema::LISTED)),
            (USERNAME_KEY.to_owned(), string(contact.username_key())),
        ]);
        // An empty key is not allowed in an index, and an unset one keeps the contact out of it.
        if let Some(email) = contact.email_key() {
            item.insert(EMAIL_KEY.to_owned(), string(email));
        }
        let Some(old_doc) = only_if else {
            return self.put_new(item);
        };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_exists(#pk) AND #doc = :old_doc")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#doc", DOC)
            .expression_attribute_values(":old_doc", string(old_doc))
            .build()
            .map_err(StoreError::backend)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Deletes the contact's item if it still has `old_doc`.
    fn delete_contact(&self, id: ContactId, old_doc: &str) -> StoreResult<TransactWriteItem> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .key(PK, string(contact_key(id)))
            .condition_expression("#doc = :old_doc")
            .expression_attribute_names("#doc", DOC)
            .expression_attribute_values(":old_doc", string(old_doc))
            .build()
            .map_err(StoreError::backend)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    async fn transact(&self, actions: Vec<(Role, TransactWriteItem)>) -> Result<(), Refusal> {
        let (roles, items): (Vec<Role>, Vec<TransactWriteItem>) = actions.into_iter().unzip();
        let err = match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => return Ok(()),
            Err(err) => err,
        };
        let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = err.as_service_error() else {
            return Err(Refusal::Failed(sdk_error("TransactWriteItems", &self.table, err)));
        };
        // One reason per action, in order; "None" for the actions that were fine.
        let codes: Vec<&str> = cancelled.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None")).collect();
        Err(refusal(&roles, &codes).unwrap_or_else(|| {
            Refusal::Failed(StoreError::Backend(format!(
                "TransactWriteItems on {} was cancelled ({}): {}",
                self.table,
                codes.join(", "),
                DisplayErrorContext(&err)
            )))
        }))
    }

    /// The contact's item and its decoded contact.
    async fn current(&self, id: ContactId) -> StoreResult<Option<(String, Contact)>> {
        let Some(item) = self.get_item(contact_key(id)).await? else {
            return Ok(None);
        };
        let doc = string_attribute(&item, DOC)?.to_owned();
        let contact = from_json::<ContactRecord>(&doc).map(Contact::from)?;
        Ok(Some((doc, contact)))
    }

    /// What inserting `contact` writes: the contact, its claims and its search markers.
    fn insert_actions(&self, contact: &Contact) -> StoreResult<Vec<(Role, TransactWriteItem)>> {
        let doc = to_json(&ContactRecord::from(contact))?;
        let mut actions = vec![
            (Role::Contact, self.put_contact(contact, &doc, None)?),
            (Role::ClaimUsername, self.claim(username_key(&contact.username_key()), contact.id)?),
        ];
        if let Some(external_id) = &contact.profile.external_id {
            actions.push((Role::ClaimExternalId, self.claim(external_key(external_id), contact.id)?));
        }
        actions.extend(self.marker_writes(None, Some(contact))?.into_iter().map(|w| (Role::SearchMarker, w)));
        Ok(actions)
    }

    /// The items inserting `contact` writes (for `bulk`).
    #[cfg(feature = "test-suite")]
    pub(super) fn insert_items(&self, contact: &Contact) -> StoreResult<Vec<Item>> {
        let actions = self.insert_actions(contact)?;
        Ok(actions.into_iter().filter_map(|(_, action)| action.put.map(|put| put.item)).collect())
    }

    fn taken(contact: &Contact, refusal: &Refusal) -> Option<StoreError> {
        match refusal {
            Refusal::UsernameTaken => Some(StoreError::Conflict(Taken::Username(contact.profile.username.clone()))),
            Refusal::ExternalIdTaken => {
                Some(StoreError::Conflict(Taken::ExternalId(contact.profile.external_id.clone().unwrap_or_default())))
            }
            _ => None,
        }
    }
}

/// Explains a cancelled transaction from its per-action reason codes; `None` when the
/// codes say nothing this module handles (throttling, validation...).
fn refusal(roles: &[Role], codes: &[&str]) -> Option<Refusal> {
    for (role, code) in roles.iter().zip(codes) {
        if *code == "ConditionalCheckFailed" {
            match role {
                Role::Contact => return Some(Refusal::ContactCondition),
                Role::ClaimUsername => return Some(Refusal::UsernameTaken),
                Role::ClaimExternalId => return Some(Refusal::ExternalIdTaken),
                // These carry no condition; a failure there is not ours to explain.
                Role::Release | Role::SearchMarker => {}
            }
        }
    }
    codes.contains(&"TransactionConflict").then_some(Refusal::Contended)
}

fn gave_up(action: &str, id: ContactId) -> StoreError {
    StoreError::Backend(format!("{action} of contact {id} kept racing other writes for {MAX_ATTEMPTS} attempts"))
}

#[async_trait]
impl ContactStore for ContactsTable {
    async fn insert(&self, contact: &Contact) -> StoreResult<()> {
        let actions = self.insert_actions(contact)?;
        for attempt in 0..MAX_ATTEMPTS {
            let refusal = match self.transact(actions.clone()).await {
                Ok(()) => return Ok(()),
                Err(refusal) => refusal,
            };
            if let Some(conflict) = Self::taken(contact, &refusal) {
                return Err(conflict);
            }
            match refusal {
                Refusal::ContactCondition => {
                    return Err(StoreError::Conflict(Taken::ContactId(contact.id)));
                }
                Refusal::Failed(e) => return Err(e),
                _ => back_off(attempt).await,
            }
        }
        Err(gave_up("insert", contact.id))
    }

    async fn get(&self, id: ContactId) -> StoreResult<Option<Contact>> {
        self.get_item(contact_key(id)).await?.map(|item| decode(&item)).transpose()
    }

    async fn find_by_username(&self, username: &str) -> StoreResult<Option<Contact>> {
        let Some(marker) = self.get_item(username_key(&normalize_key(username))).await? else {
            return Ok(None);
        };
        let id = string_attribute(&marker, CONTACT_ID)?;
        let id = ContactId::parse(id)
            .ok_or_else(|| StoreError::Backend(format!("username marker names a bad contact id `{id}`")))?;
        self.get(id).await
    }

    async fn find_by_external_id(&self, external_id: &str) -> StoreResult<Option<Contact>> {
        let Some(marker) = self.get_item(external_key(external_id)).await? else {
            return Ok(None);
        };
        let id = string_attribute(&marker, CONTACT_ID)?;
        let id = ContactId::parse(id)
            .ok_or_else(|| StoreError::Backend(format!("external id marker names a bad contact id `{id}`")))?;
        self.get(id).await
    }

    async fn find_by_email(&self, email: &str) -> StoreResult<Vec<Contact>> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(schema::CONTACTS_BY_EMAIL.name)
            .key_condition_expression("#email_key = :email_key")
            .expression_attribute_names("#email_key", EMAIL_KEY)
            .expression_attribute_values(":email_key", string(normalize_key(email)))
            .into_paginator()
            .send();
        let mut contacts = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("Query", &self.table, e))?;
            for item in page.items() {
                contacts.push(decode(item)?);
            }
        }
        contacts.sort_by_cached_key(Contact::username_key);
        Ok(contacts)
    }

    async fn update(&self, contact: &mut Contact) -> StoreResult<()> {
        let next = contact.next_revision();
        let doc = to_json(&ContactRecord::from(&next))?;
        for attempt in 0..MAX_ATTEMPTS {
            let Some((old_doc, old)) = self.current(contact.id).await? else {
                return Err(StoreError::NotFound);
            };
            if old.revision != contact.revision {
                return Err(StoreError::Stale);
            }
            // The condition on the old document guarantees the markers released are its own,
            // and that it is still the revision the change was made from.
            let mut actions = vec![(Role::Contact, self.put_contact(&next, &doc, Some(&old_doc))?)];
            let (old_username, new_username) = (old.username_key(), contact.username_key());
            if old_username != new_username {
                actions.push((Role::Release, self.delete(username_key(&old_username))?));
                actions.push((Role::ClaimUsername, self.claim(username_key(&new_username), contact.id)?));
            }
            let (old_external, new_external) = (&old.profile.external_id, &contact.profile.external_id);
            if old_external != new_external {
                if let Some(old_external) = old_external {
                    actions.push((Role::Release, self.delete(external_key(old_external))?));
                }
                if let Some(new_external) = new_external {
                    actions.push((Role::ClaimExternalId, self.claim(external_key(new_external), contact.id)?));
                }
            }
            actions.extend(self.marker_writes(Some(&old), Some(&next))?.into_iter().map(|w| (Role::SearchMarker, w)));
            let refusal = match self.transact(actions).await {
                Ok(()) => {
                    *contact = next;
                    return Ok(());
                }
                Err(refusal) => refusal,
            };
            if let Some(conflict) = Self::taken(contact, &refusal) {
                return Err(conflict);
            }
            match refusal {
                Refusal::Failed(e) => return Err(e),
                // Changed or deleted since we read it: read again.
                _ => back_off(attempt).await,
            }
        }
        Err(gave_up("update", contact.id))
    }

    async fn delete(&self, id: ContactId) -> StoreResult<bool> {
        for attempt in 0..MAX_ATTEMPTS {
            let Some((old_doc, old)) = self.current(id).await? else {
                return Ok(false);
            };
            let mut actions = vec![
                (Role::Contact, self.delete_contact(id, &old_doc)?),
                (Role::Release, self.delete(username_key(&old.username_key()))?),
            ];
            if let Some(external_id) = &old.profile.external_id {
                actions.push((Role::Release, self.delete(external_key(external_id))?));
            }
            actions.extend(self.marker_writes(Some(&old), None)?.into_iter().map(|w| (Role::SearchMarker, w)));
            match self.transact(actions).await {
                Ok(()) => return Ok(true),
                Err(Refusal::Failed(e)) => return Err(e),
                Err(_) => back_off(attempt).await,
            }
        }
        Err(gave_up("delete", id))
    }

    async fn list(
        &self,
        search: &ContactSearch,
        after: Option<&ContactCursor>,
        limit: usize,
    ) -> StoreResult<ContactPage> {
        self.search(search, after, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explain(roles: &[Role], codes: &[&str]) -> &'static str {
        match refusal(roles, codes) {
            Some(Refusal::ContactCondition) => "contact",
            Some(Refusal::UsernameTaken) => "username",
            Some(Refusal::ExternalIdTaken) => "external id",
            Some(Refusal::Contended) => "contended",
            Some(Refusal::Failed(_)) | None => "unexplained",
        }
    }

    #[test]
    fn cancellations_name_the_failed_condition() {
        let insert = [Role::Contact, Role::ClaimUsername, Role::ClaimExternalId];
        assert_eq!(explain(&insert, &["None", "ConditionalCheckFailed", "None"]), "username");
        assert_eq!(explain(&insert, &["None", "None", "ConditionalCheckFailed"]), "external id");
        assert_eq!(explain(&insert, &["ConditionalCheckFailed", "None", "None"]), "contact");
        assert_eq!(
            explain(&insert, &["TransactionConflict", "None", "None"]),
            "contended",
            "a race with another transaction is retried"
        );
        assert_eq!(
            explain(&insert, &["None", "TransactionConflict", "ConditionalCheckFailed"]),
            "external id",
            "a definite refusal wins over contention"
        );
        assert_eq!(explain(&insert, &["ThrottlingError", "None", "None"]), "unexplained");
    }
}
