//! One suite every backend must pass. Each check starts from an empty store.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime, macros::datetime};

use super::*;
use crate::contact::ContactProfile;
use crate::contact_search::ContactSearch;
use crate::mfa::MfaEnrolment;
use crate::password::PasswordHash;
use crate::query::{Column, ContactField, QueryKind};
use crate::registration::{GrantType, IdTokenHmacKey, NoAccessMapping, RedirectUrl, RegistrationSettings, RoleFormat};
use crate::seal::Sealed;
use crate::secret::OpaqueToken;
use crate::session::SignInMethod;
use crate::ticket::{Ticket, TicketKind};

const T0: OffsetDateTime = datetime!(2026-01-01 12:00 UTC);

mod grants;
mod logs;
mod search;

pub use grants::{code, stored_refresh_tokens};

/// A contact with every field set (also for backends' own tests).
pub fn contact(username: &str, email: &str) -> Contact {
    Contact {
        id: ContactId::new_random(),
        profile: ContactProfile {
            username: username.to_owned(),
            email: email.to_owned(),
            first_name: "Bob".into(),
            last_name: "Smith".into(),
            is_staff: false,
            is_sysadmin: false,
            status: "A".into(),
            member_type: "REG".into(),
            roles: vec!["Volunteer".into(), "Staff".into()],
            attributes: BTreeMap::from([("company".to_owned(), "Acme".to_owned())]),
            external_id: None,
        },
        password_hash: Some(PasswordHash::from_stored("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into())),
        password_reset: None,
        mfa: None,
        created_at: T0,
        updated_at: T0,
        revision: 0,
    }
}

pub async fn contacts(stores: &Stores) {
    let store = &stores.contacts;
    let bob = contact("bsmith", "Bob.Smith@Example.org");
    store.insert(&bob).await.unwrap();
    assert_eq!(store.get(bob.id).await.unwrap().as_ref(), Some(&bob), "a contact reads back as written");
    let mut enrolled = Contact {
        mfa: Some(MfaEnrolment {
            secret: Sealed::from_presented("c2VhbGVk"),
            recovery_codes: vec![OpaqueToken::generate().unwrap().digest()],
            last_step: 59_000_000,
            enrolled_at: T0,
        }),
        ..bob.clone()
    };
    store.update(&mut enrolled).await.unwrap();
    assert_eq!(enrolled.revision, 1, "an update advances the revision");
    assert_eq!(store.get(bob.id).await.unwrap().as_ref(), Some(&enrolled), "the second factor is kept");
    // A change made from the copy read before the update would undo it: refused, nothing written.
    let mut stale = Contact { mfa: None, ..bob.clone() };
    assert!(matches!(store.update(&mut stale).await, Err(StoreError::Stale)), "an older revision is refused");
    assert_eq!(stale.revision, 0, "a refused update leaves the copy's revision");
    assert_eq!(store.get(bob.id).await.unwrap().as_ref(), Some(&enrolled), "a refused update changes nothing");
    let mut bob = Contact { mfa: None, ..enrolled.clone() };
    store.update(&mut bob).await.unwrap();
    assert_eq!(store.get(bob.id).await.unwrap().map(|c| c.revision), Some(2));
    assert_eq!(store.find_by_username("BSMITH").await.unwrap().map(|c| c.id), Some(bob.id), "usernames ignore case");
    assert_eq!(store.find_by_email("bob.smith@example.org").await.unwrap().len(), 1, "emails ignore case");
    assert!(store.find_by_username("nobody").await.unwrap().is_none());
    assert!(store.get(ContactId::new_random()).await.unwrap().is_none());

    let twin = contact("BSmith", "other@example.org");
    let taken = store.insert(&twin).await;
    assert!(matches!(taken, Err(StoreError::Conflict(Taken::Username(_)))), "username taken in any case: {taken:?}");
    assert!(store.get(twin.id).await.unwrap().is_none(), "a refused insert stores nothing");

    let mut alice = contact("alice", "bob.smith@example.org");
    alice.profile.external_id = Some("ext-1".into());
    store.insert(&alice).await.unwrap();
    assert_eq!(store.find_by_email("BOB.SMITH@example.org").await.unwrap().len(), 2, "an email may be shared");
    let mut ext_twin = contact("carol", "");
    ext_twin.profile.external_id = Some("ext-1".into());
    let taken = store.insert(&ext_twin).await;
    assert!(matches!(taken, Err(StoreError::Conflict(Taken::ExternalId(_)))), "external ids are unique: {taken:?}");
    assert_eq!(store.find_by_external_id("ext-1").await.unwrap().map(|c| c.id), Some(alice.id));
    assert!(store.find_by_external_id("EXT-1").await.unwrap().is_none(), "external ids match exactly");

    let mut renamed = bob.clone();
    renamed.profile.username = "robert".into();
    renamed.profile.email = "robert@example.org".into();
    renamed.updated_at = T0 + Duration::minutes(1);
    store.update(&mut renamed).await.unwrap();
    assert!(store.find_by_username("bsmith").await.unwrap().is_none(), "the old username is released");
    assert_eq!(store.find_by_username("Robert").await.unwrap().as_ref(), Some(&renamed));
    assert_eq!(store.find_by_email("bob.smith@example.org").await.unwrap().len(), 1, "the old email is unindexed");
    store.insert(&contact("bsmith", "")).await.unwrap();

    let mut clash = renamed.clone();
    clash.profile.username = "ALICE".into();
    assert!(matches!(store.update(&mut clash).await, Err(StoreError::Conflict(Taken::Username(_)))));
    assert_eq!(store.get(bob.id).await.unwrap().as_ref(), Some(&renamed), "a refused update changes nothing");

    assert!(matches!(store.update(&mut contact("ghost", "")).await, Err(StoreError::NotFound)));

    let everyone = ContactSearch::new("");
    let all = store.list(&everyone, None, 100).await.unwrap();
    let names: Vec<_> = all.contacts.iter().map(|c| c.profile.username.as_str()).collect();
    assert_eq!(names, ["alice", "bsmith", "robert"], "listed by username");
    assert!(all.next.is_none(), "nothing more");
    let found = store.list(&ContactSearch::new(" ROBERT@"), None, 100).await.unwrap().contacts;
    assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), [bob.id], "the start of an email, in any case");
    assert_eq!(store.list(&everyone, None, 2).await.unwrap().contacts.len(), 2, "limit is honoured");

    assert!(store.delete(alice.id).await.unwrap());
    assert!(!store.delete(alice.id).await.unwrap());
    assert!(store.find_by_username("alice").await.unwrap().is_none());
    store.insert(&ext_twin).await.unwrap();
}

pub fn saved_query(path: &str, kind: QueryKind) -> SavedQuery {
    SavedQuery {
        path: QueryPath::parse("path", path).unwrap(),
        kind,
        columns: vec![
            Column { source: ContactField::FirstName, alias: "given_name".into() },
            Column { source: ContactField::Attribute("company".into()), alias: "org.name".into() },
        ],
        created_at: T0,
        updated_at: T0,
        revision: 0,
    }
}

pub async fn queries(stores: &Stores) {
    let store = &stores.queries;
    let q = saved_query("$/SSO/ProfileData", QueryKind::Profile);
    store.insert(&q).await.unwrap();
    assert_eq!(store.get(&q.path).await.unwrap().as_ref(), Some(&q));
    assert!(matches!(store.insert(&q).await, Err(StoreError::Conflict(Taken::Path(p))) if p == q.path));
    let mut changed = q.clone();
    changed.columns.pop();
    changed.updated_at = T0 + Duration::hours(1);
    store.update(&mut changed).await.unwrap();
    assert_eq!(changed.revision, 1, "an update advances the revision");
    assert_eq!(store.get(&q.path).await.unwrap().as_ref(), Some(&changed));
    // A change made from the copy read before that update is refused and changes nothing.
    let mut stale = q.clone();
    stale.kind = QueryKind::Role;
    assert!(matches!(store.update(&mut stale).await, Err(StoreError::Stale)), "an older revision is refused");
    assert_eq!(stale.revision, 0, "a refused update leaves the revision as it was");
    assert_eq!(store.get(&q.path).await.unwrap().as_ref(), Some(&changed));
    let mut ghost = saved_query("$/Nope", QueryKind::Role);
    assert!(matches!(store.update(&mut ghost).await, Err(StoreError::NotFound)));
    store.insert(&saved_query("$/SSO/A", QueryKind::Role)).await.unwrap();
    let paths: Vec<_> = store.list().await.unwrap().into_iter().map(|q| q.path.to_string()).collect();
    assert_eq!(paths, ["$/SSO/A", "$/SSO/ProfileData"]);
    assert!(store.delete(&q.path).await.unwrap());
    assert!(!store.delete(&q.path).await.unwrap());
    assert!(store.get(&q.path).await.unwrap().is_none());
}

pub fn registration(name: &str) -> Registration {
    Registration {
        client_id: ClientId::new_random(),
        settings: RegistrationSettings {
            name: name.to_owned(),
            redirect_urls: vec![RedirectUrl::parse("r", "https://app.example/cb").unwrap()],
            post_logout_redirect_urls: vec![RedirectUrl::parse("l", "https://app.example/bye").unwrap()],
            backchannel_logout_url: Some(RedirectUrl::parse("b", "https://app.example/backchannel").unwrap()),
            profile_query: QueryPath::parse("p", "$/SSO/ProfileData").unwrap(),
            id_token_fields: vec!["given_name".into()],
            role_query: QueryPath::parse("r", "$/SSO/RoleData").unwrap(),
            role_format: RoleFormat::Csv,
            no_access_mapping: NoAccessMapping::parse("S\nI|https://example.org/reactivate").unwrap(),
            grant_types: vec![GrantType::AuthorizationCode, GrantType::PasswordPublic],
            // Not the default, so the round trip shows the setting is kept.
            id_token_hmac_key: IdTokenHmacKey::ClientSecret,
        },
        created_at: T0,
        updated_at: T0,
        revision: 0,
    }
}

pub async fn registrations(stores: &Stores) {
    let store = &stores.registrations;
    let r = registration("Zeta App");
    store.insert(&r).await.unwrap();
    assert_eq!(store.get(r.client_id).await.unwrap().as_ref(), Some(&r));
    assert!(matches!(store.insert(&r).await, Err(StoreError::Conflict(Taken::ClientId(id))) if id == r.client_id));
    let mut changed = r.clone();
    changed.settings.name = "Zeta App 2".into();
    store.update(&mut changed).await.unwrap();
    assert_eq!(changed.revision, 1, "an update advances the revision");
    assert_eq!(store.get(r.client_id).await.unwrap().as_ref(), Some(&changed));
    let mut again = changed.clone();
    again.settings.name = "Zeta App 3".into();
    store.update(&mut again).await.unwrap();
    assert_eq!(again.revision, 2);
    // Changes made from copies read before those updates are refused and change nothing.
    for older in [&r, &changed] {
        let mut stale = older.clone();
        stale.settings.redirect_urls.clear();
        assert!(matches!(store.update(&mut stale).await, Err(StoreError::Stale)), "an older revision is refused");
        assert_eq!(stale.revision, older.revision);
    }
    assert_eq!(store.get(r.client_id).await.unwrap().as_ref(), Some(&again));
    let mut ghost = registration("ghost");
    assert!(matches!(store.update(&mut ghost).await, Err(StoreError::NotFound)));
    store.insert(&registration("alpha app")).await.unwrap();
    let names: Vec<_> = store.list().await.unwrap().into_iter().map(|r| r.settings.name).collect();
    assert_eq!(names, ["alpha app", "Zeta App 3"], "listed by name, ignoring case");
    assert!(store.delete(r.client_id).await.unwrap());
    assert!(store.get(r.client_id).await.unwrap().is_none());
    assert!(!store.delete(r.client_id).await.unwrap());
}

pub async fn sessions(stores: &Stores) {
    let store = &stores.sessions;
    let (session, token) =
        Session::start(&contact("sam", "sam@example.org"), T0, SignInMethod::PasswordAndCode).unwrap();
    assert_ne!(session.credential, Default::default(), "a password sign-in carries its stamp");
    store.insert(&session).await.unwrap();
    assert_eq!(store.get(&token.digest(), T0).await.unwrap().as_ref(), Some(&session), "stamp and method included");
    assert!(store.get(&OpaqueToken::generate().unwrap().digest(), T0).await.unwrap().is_none());
    assert!(
        store.get(&token.digest(), session.expires_at).await.unwrap().is_none(),
        "an expired session is not returned even before the backend deletes it"
    );
    store.delete(&token.digest()).await.unwrap();
    assert!(store.get(&token.digest(), T0).await.unwrap().is_none());

    let sam = contact("sam2", "sam2@example.org");
    let later = T0 + Duration::hours(1);
    let (first, first_token) = Session::start(&sam, T0, SignInMethod::Password).unwrap();
    let (second, _) = Session::start(&sam, later, SignInMethod::provider(None)).unwrap();
    let (other, _) = Session::start(&contact("tom", "tom@example.org"), T0, SignInMethod::Password).unwrap();
    let (a, b, c) = tokio::join!(store.insert(&second), store.insert(&first), store.insert(&other));
    a.unwrap();
    b.unwrap();
    c.unwrap();
    assert!(store.list_for_contact(ContactId::new_random(), later).await.unwrap().is_empty());
    assert_eq!(
        store.list_for_contact(sam.id, later).await.unwrap(),
        vec![first.clone(), second.clone()],
        "a contact's sessions, oldest first, racing inserts included"
    );
    store.delete(&first_token.digest()).await.unwrap();
    assert_eq!(store.list_for_contact(sam.id, later).await.unwrap(), vec![second.clone()], "ended ones go");
    assert_eq!(store.list_for_contact(other.contact_id, later).await.unwrap(), vec![other]);
    assert!(store.list_for_contact(sam.id, second.expires_at).await.unwrap().is_empty(), "expired ones go");
}

pub async fn throttle(stores: &Stores) {
    let store = &stores.throttle;
    let window = Duration::minutes(15);
    assert!(store.failures("acct", T0).await.unwrap().is_none());
    assert_eq!(store.record_failure("acct", T0, window).await.unwrap(), 1);
    assert_eq!(store.record_failure("acct", T0 + Duration::minutes(1), window).await.unwrap(), 2);
    assert_eq!(store.failures("acct", T0 + Duration::minutes(2)).await.unwrap(), Some((2, T0 + window)));
    assert!(store.failures("other", T0).await.unwrap().is_none(), "keys are separate");
    assert!(store.failures("acct", T0 + window).await.unwrap().is_none(), "the window ends");
    assert_eq!(store.record_failure("acct", T0 + window, window).await.unwrap(), 1, "a new window starts at one");
    assert_eq!(store.record_failure("acct", T0 + window, window).await.unwrap(), 2);
    store.clear("acct", 1).await.unwrap();
    assert_eq!(
        store.failures("acct", T0 + window).await.unwrap(),
        Some((2, T0 + window + window)),
        "an attempt counted after the one that succeeded keeps the window"
    );
    store.clear("acct", 2).await.unwrap();
    assert!(store.failures("acct", T0 + window).await.unwrap().is_none());
}

pub async fn secrets(stores: &Stores) {
    let store = &stores.secrets;
    assert!(store.get("x/one").await.unwrap().is_none());
    store.put("x/one", &SecretString::new("first")).await.unwrap();
    assert_eq!(store.get("x/one").await.unwrap().map(|s| s.expose().to_owned()).as_deref(), Some("first"));
    store.put("x/one", &SecretString::new("second")).await.unwrap();
    assert_eq!(store.get("x/one").await.unwrap().map(|s| s.expose().to_owned()).as_deref(), Some("second"));
    store.delete("x/one").await.unwrap();
    assert!(store.get("x/one").await.unwrap().is_none());
    store.delete("x/one").await.unwrap();

    let app = registration("Secrets");
    let creds = ClientSecrets::generate().unwrap();
    stores.put_client_secrets(app.client_id, &creds).await.unwrap();
    assert_eq!(stores.client_secrets(&app).await.unwrap(), Some(creds));
    // Written through these stores, a new credential is read at once, even at the same stamp.
    let regenerated = ClientSecrets::generate().unwrap();
    stores.put_client_secrets(app.client_id, &regenerated).await.unwrap();
    assert_eq!(stores.client_secrets(&app).await.unwrap(), Some(regenerated));
    stores.delete_client_secrets(app.client_id).await.unwrap();
    assert!(stores.client_secrets(&app).await.unwrap().is_none());
}

pub async fn tickets_and_outbox(stores: &Stores) {
    let grants = &stores.grants;
    let key = OpaqueToken::generate().unwrap().digest();
    let reset = Ticket::Reset { contact_id: ContactId::new_random(), credential: Default::default() };
    grants.put_ticket(&key, &reset, T0 + Duration::minutes(10)).await.unwrap();
    assert!(grants.take_ticket(TicketKind::Login, &key, T0).await.unwrap().is_none(), "kinds are separate");
    assert_eq!(grants.take_ticket(TicketKind::Reset, &key, T0).await.unwrap(), Some(reset.clone()));
    assert!(grants.take_ticket(TicketKind::Reset, &key, T0).await.unwrap().is_none(), "a ticket is taken once");
    grants.put_ticket(&key, &reset, T0 + Duration::minutes(10)).await.unwrap();
    assert_eq!(
        grants.take_ticket(TicketKind::Reset, &key, T0).await.unwrap(),
        Some(reset.clone()),
        "put again: replaced"
    );
    let late = OpaqueToken::generate().unwrap().digest();
    grants.put_ticket(&late, &reset, T0 + Duration::minutes(10)).await.unwrap();
    let taken = grants.take_ticket(TicketKind::Reset, &late, T0 + Duration::minutes(10)).await.unwrap();
    assert!(taken.is_none(), "expired");

    let mail = |n: i64, subject: &str| crate::outbox::Mail {
        id: format!("m{n}"),
        to: "a@example.org".into(),
        subject: subject.into(),
        transport: crate::mail::Transport::Smtp,
        delivery: crate::outbox::Delivery::Sent { provider_message_id: Some(format!("<m{n}@relay>")) },
        attempts: 1,
        sent_at: T0 + Duration::seconds(n),
    };
    stores.outbox.push(&mail(1, "first")).await.unwrap();
    stores.outbox.push(&mail(2, "second")).await.unwrap();
    let recent = stores.outbox.recent(None, 10, T0 + Duration::minutes(1)).await.unwrap().mails;
    assert_eq!(recent.iter().map(|m| m.subject.as_str()).collect::<Vec<_>>(), ["second", "first"], "newest first");
    assert_eq!(recent[0], mail(2, "second"), "the delivery status round-trips");
    let first = stores.outbox.recent(None, 1, T0 + Duration::minutes(1)).await.unwrap();
    assert_eq!(first.mails, [mail(2, "second")]);
    let older = stores.outbox.recent(first.next_before.as_deref(), 1, T0 + Duration::minutes(1)).await.unwrap();
    assert_eq!(older.mails.iter().map(|m| m.subject.as_str()).collect::<Vec<_>>(), ["first"], "the next page, older");
    let none = stores.outbox.recent(older.next_before.as_deref(), 1, T0 + Duration::minutes(1)).await.unwrap();
    assert!(none.mails.is_empty() && none.next_before.is_none());
}

/// One check of the suite, run against fresh stores.
pub type Check = for<'a> fn(&'a Stores) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;

/// Every check in turn; a backend's test opens fresh stores for each.
pub const ALL: &[(&str, Check)] = &[
    ("contacts", |s| Box::pin(contacts(s))),
    ("contact_search", |s| Box::pin(search::contact_search(s))),
    ("contact_pages", |s| Box::pin(search::contact_pages(s))),
    ("queries", |s| Box::pin(queries(s))),
    ("registrations", |s| Box::pin(registrations(s))),
    ("sessions", |s| Box::pin(sessions(s))),
    ("throttle", |s| Box::pin(throttle(s))),
    ("secrets", |s| Box::pin(secrets(s))),
    ("grants", |s| Box::pin(grants::grants(s))),
    ("tickets_and_outbox", |s| Box::pin(tickets_and_outbox(s))),
    ("event_log", |s| Box::pin(logs::event_log(s))),
];
