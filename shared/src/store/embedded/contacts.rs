//! Contacts in SQLite: one row each, with the keys the lookups and the search read indexed.

use async_trait::async_trait;
use rusqlite::{Connection, params};

use super::{Database, conflict_or, db_err};
use crate::contact::{Contact, ContactId, normalize_key};
use crate::contact_search::{ContactCursor, ContactListing, ContactPage, ContactSearch, SearchWay};
use crate::store::records::{ContactRecord, from_json, to_json};
use crate::store::{ContactStore, StoreResult, Taken};

fn contact_conflict(contact: &Contact) -> impl Fn(&str) -> Taken + '_ {
    move |message: &str| {
        if message.contains("external_id") {
            Taken::ExternalId(contact.profile.external_id.clone().unwrap_or_default())
        } else if message.contains("username_key") {
            Taken::Username(contact.profile.username.clone())
        } else {
            Taken::ContactId(contact.id)
        }
    }
}

fn decode(doc: &str) -> StoreResult<Contact> {
    from_json::<ContactRecord>(doc).map(Contact::from)
}

/// Databases from before the prefix search (user_version 4) had a `search` column of text to
/// look into and no last-name key: the key is filled from each contact's document and the
/// column dropped, in one transaction, before the schema adds the indexes.
pub(super) fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let has = |column: &str| -> rusqlite::Result<bool> {
        conn.query_row("SELECT count(*) FROM pragma_table_info('contacts') WHERE name = ?1", [column], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| n > 0)
    };
    if !has("search")? {
        return Ok(());
    }
    let tx = conn.unchecked_transaction()?;
    tx.execute_batch(
        "ALTER TABLE contacts ADD COLUMN last_name_key TEXT;
         ALTER TABLE contacts DROP COLUMN search;
         DROP INDEX IF EXISTS contacts_by_email;",
    )?;
    let rows: Vec<(String, String)> = tx
        .prepare("SELECT id, doc FROM contacts")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = tx.prepare("UPDATE contacts SET last_name_key = ?2 WHERE id = ?1")?;
    for (id, doc) in rows {
        let key = decode(&doc).ok().and_then(|c| SearchWay::LastName.key_of(&c));
        update.execute(params![id, key])?;
    }
    drop(update);
    tx.commit()
}

/// Runs `sql` with the contact's row: its id (?1), the keys its lookups and search read (?2 to
/// ?5) and its document (?6).
fn write_row(db: &Database, sql: &str, contact: &Contact) -> StoreResult<usize> {
    let doc = to_json(&ContactRecord::from(contact))?;
    let row = params![
        contact.id.to_string(),
        contact.username_key(),
        contact.email_key(),
        SearchWay::LastName.key_of(contact),
        contact.profile.external_id,
        doc
    ];
    db.with(|c| {
        // Forgotten, written or not (a refused update may have been overtaken): see `memo.rs`.
        db.contacts.forget(&contact.id);
        c.prepare_cached(sql)?.execute(row)
    })
    .map_err(|e| conflict_or(e, contact_conflict(contact)))
}

/// The statement that reads `way` in order from a (key, id) position.
fn along(way: SearchWay) -> &'static str {
    match way {
        SearchWay::Username => {
            "SELECT username_key, doc FROM contacts WHERE (username_key, id) > (?1, ?2) ORDER BY username_key, id"
        }
        SearchWay::LastName => {
            "SELECT last_name_key, doc FROM contacts WHERE (last_name_key, id) > (?1, ?2) ORDER BY last_name_key, id"
        }
        SearchWay::Email => {
            "SELECT email_key, doc FROM contacts WHERE (email_key, id) > (?1, ?2) ORDER BY email_key, id"
        }
    }
}

#[async_trait]
impl ContactStore for Database {
    async fn insert(&self, contact: &Contact) -> StoreResult<()> {
        write_row(
            self,
            "INSERT INTO contacts (id, username_key, email_key, last_name_key, external_id, doc)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            contact,
        )
        .map(drop)
    }

    async fn get(&self, id: ContactId) -> StoreResult<Option<Contact>> {
        self.remembered(&self.contacts, &id, "SELECT doc FROM contacts WHERE id = ?1", id.to_string(), decode)
    }

    async fn find_by_username(&self, username: &str) -> StoreResult<Option<Contact>> {
        let doc = self.doc("SELECT doc FROM contacts WHERE username_key = ?1", [normalize_key(username)])?;
        doc.as_deref().map(decode).transpose()
    }

    async fn find_by_external_id(&self, external_id: &str) -> StoreResult<Option<Contact>> {
        self.doc("SELECT doc FROM contacts WHERE external_id = ?1", [external_id])?.as_deref().map(decode).transpose()
    }

    async fn find_by_email(&self, email: &str) -> StoreResult<Vec<Contact>> {
        let docs =
            self.docs("SELECT doc FROM contacts WHERE email_key = ?1 ORDER BY username_key", [normalize_key(email)])?;
        docs.iter().map(|d| decode(d)).collect()
    }

    async fn update(&self, contact: &mut Contact) -> StoreResult<()> {
        let next = contact.next_revision();
        // Only over the revision the change was made from (documents from before revisions
        // were counted have none: revision 0).
        let changed = write_row(
            self,
            "UPDATE contacts SET username_key = ?2, email_key = ?3, last_name_key = ?4, external_id = ?5, doc = ?6
             WHERE id = ?1 AND coalesce(json_extract(doc, '$.revision'), 0) = json_extract(?6, '$.revision') - 1",
            &next,
        )?;
        if changed == 1 {
            *contact = next;
            return Ok(());
        }
        match self.get(contact.id).await? {
            Some(_) => Err(crate::store::StoreError::Stale),
            None => Err(crate::store::StoreError::NotFound),
        }
    }

    async fn delete(&self, id: ContactId) -> StoreResult<bool> {
        let changed = self
            .with(|c| {
                self.contacts.forget(&id);
                c.prepare_cached("DELETE FROM contacts WHERE id = ?1")?.execute([id.to_string()])
            })
            .map_err(db_err)?;
        Ok(changed > 0)
    }

    async fn list(
        &self,
        search: &ContactSearch,
        after: Option<&ContactCursor>,
        limit: usize,
    ) -> StoreResult<ContactPage> {
        let mut listing = ContactListing::new(limit);
        self.with(|c| {
            for way in search.ways_from(after) {
                let (key, id) = search.start(way, after);
                let mut statement = c.prepare_cached(along(way)).map_err(db_err)?;
                let mut rows =
                    statement.query(params![key, id.map(|id| id.to_string()).unwrap_or_default()]).map_err(db_err)?;
                while let Some(row) = rows.next().map_err(db_err)? {
                    let key: String = row.get(0).map_err(db_err)?;
                    if search.is_past(&key) {
                        break;
                    }
                    let doc: String = row.get(1).map_err(db_err)?;
                    let contact = decode(&doc)?;
                    let done = if search.keeps(way, &contact) {
                        listing.take(way, contact)
                    } else {
                        listing.pass_over(1, Some(ContactCursor { way, key, id: contact.id }))
                    };
                    if done {
                        return Ok(());
                    }
                }
            }
            Ok(())
        })?;
        Ok(listing.finish())
    }
}
