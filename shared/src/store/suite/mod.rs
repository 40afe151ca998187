//! One suite every backend must pass. Each check starts from an empty store.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime, macros::datetime};

use super::*;
use crate::contact::ContactProfile;
use crate::contact_search::ContactSearch;
use crate::grants::{
    AuthCode, Consent, FamilyId, GrantClient, Issuance, Redeemed, SessionGrant, Spend, Stored, TokenGrant,
};
use crate::mfa::MfaEnrolment;
use crate::password::PasswordHash;
use crate::query::{Column, ContactField, QueryKind};
use crate::registration::{GrantType, IdTokenHmacKey, NoAccessMapping, RedirectUrl, RegistrationSettings, RoleFormat};
use crate::scope::Scopes;
use crate::seal::Sealed;
use crate::secret::OpaqueToken;
use crate::session::SignInMethod;
use crate::ticket::{Ticket, TicketKind};

const T0: OffsetDateTime = datetime!(2026-01-01 12:00 UTC);

mod search;

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

fn code(expires_at: OffsetDateTime) -> AuthCode {
    AuthCode {
        client_id: ClientId::new_random(),
        contact_id: ContactId::new_random(),
        redirect_uri: "https://app.example/cb".into(),
        redirect_uri_sent: true,
        scope: Scopes::parse("openid profile"),
        nonce: Some("n".into()),
        code_challenge: None,
        auth_time: T0,
        sid: "sid".into(),
        expires_at,
        method: SignInMethod::PasswordAndCode,
    }
}

fn token_grant(family: &FamilyId, expires_at: OffsetDateTime) -> TokenGrant {
    TokenGrant {
        // The admin client's id is no UUID: its grants must round-trip too.
        client_id: GrantClient::Admin,
        contact_id: ContactId::new_random(),
        scope: Scopes::parse("openid offline_access"),
        family: family.clone(),
        auth_time: T0,
        expires_at,
        public_client: false,
        credential: PasswordHash::from_stored("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()).stamp(),
        sid: Some("session-id".into()),
        method: SignInMethod::Provider { amr: vec!["pwd".into(), "mfa".into()] },
    }
}

fn digest() -> TokenDigest {
    OpaqueToken::generate().unwrap().digest()
}

/// Stores one token response (its access token is not stored): maybe a refresh token for
/// `grant` and a session's note, spending `spends`.
async fn issue_at(
    store: &Arc<dyn GrantStore>,
    spends: Spend<'_>,
    session: Option<(&str, &SessionGrant, OffsetDateTime)>,
    now: OffsetDateTime,
) -> StoreResult<Stored> {
    store.store_issuance(&Issuance { spends, session }, now).await
}

async fn issue(store: &Arc<dyn GrantStore>, spends: Spend<'_>) -> StoreResult<Stored> {
    issue_at(store, spends, None, T0).await
}

/// Tokens issued in session `sid`, noting `note` there until `until`.
async fn noted(
    store: &Arc<dyn GrantStore>,
    sid: &str,
    note: &SessionGrant,
    until: OffsetDateTime,
) -> StoreResult<Stored> {
    issue_at(store, Spend::Nothing, Some((sid, note, until)), T0).await
}

pub async fn grants(stores: &Stores) {
    let store = &stores.grants;
    let (f1, f2) = (FamilyId::generate().unwrap(), FamilyId::generate().unwrap());
    let c = OpaqueToken::generate().unwrap().digest();
    let issued = code(T0 + Duration::seconds(60));
    store.put_code(&c, &issued).await.unwrap();
    assert_eq!(store.redeem_code(&c, &f1, T0).await.unwrap(), Redeemed::Fresh(issued.clone()));
    assert_eq!(
        store.redeem_code(&c, &f2, T0).await.unwrap(),
        Redeemed::Replayed { family: Some(f1.clone()) },
        "a code is single use and remembers its first family"
    );
    let late = OpaqueToken::generate().unwrap().digest();
    store.put_code(&late, &issued).await.unwrap();
    assert_eq!(
        store.redeem_code(&late, &f1, T0 + Duration::seconds(60)).await.unwrap(),
        Redeemed::Unknown,
        "expired codes are refused on read"
    );
    let missing = OpaqueToken::generate().unwrap().digest();
    assert_eq!(store.redeem_code(&missing, &f1, T0).await.unwrap(), Redeemed::Unknown);

    let raced = OpaqueToken::generate().unwrap().digest();
    store.put_code(&raced, &issued).await.unwrap();
    let (a, b) = tokio::join!(store.redeem_code(&raced, &f1, T0), store.redeem_code(&raced, &f2, T0));
    let fresh = [a.unwrap(), b.unwrap()].iter().filter(|r| matches!(r, Redeemed::Fresh(_))).count();
    assert_eq!(fresh, 1, "two racing redemptions: exactly one succeeds");

    let found = OpaqueToken::generate().unwrap().digest();
    store.put_code(&found, &issued).await.unwrap();
    assert_eq!(store.find_code(&found, T0).await.unwrap(), Redeemed::Fresh(issued.clone()), "looked up");
    assert_eq!(store.find_code(&found, T0).await.unwrap(), Redeemed::Fresh(issued.clone()), "not spent by it");
    assert_eq!(store.find_code(&found, T0 + Duration::seconds(60)).await.unwrap(), Redeemed::Unknown, "expired");
    assert_eq!(store.find_code(&c, T0).await.unwrap(), Redeemed::Replayed { family: Some(f1.clone()) });

    assert_eq!(issue(store, Spend::Nothing).await.unwrap(), Stored::Written, "nothing to store");
    // Access tokens are not stored; their revocations are, until the token would expire.
    let (access, other_access) = (digest(), digest());
    assert!(!store.is_access_token_revoked(&access, T0).await.unwrap());
    store.revoke_access_token(&access, T0 + Duration::hours(1)).await.unwrap();
    assert!(store.is_access_token_revoked(&access, T0).await.unwrap(), "revoked");
    assert!(!store.is_access_token_revoked(&other_access, T0).await.unwrap(), "only that one");
    store.revoke_access_token(&access, T0 + Duration::hours(1)).await.unwrap();
    let later = T0 + Duration::minutes(59);
    assert!(store.is_access_token_revoked(&access, later).await.unwrap(), "revoking twice is harmless");
    let gone = T0 + Duration::hours(1);
    assert!(!store.is_access_token_revoked(&access, gone).await.unwrap(), "forgotten once the token expired");

    // Sealed refresh tokens are not stored either: spending one records it, until it expires.
    let (refresh, until) = (digest(), T0 + Duration::hours(1));
    let spend = Spend::SealedRefreshToken { token: &refresh, until };
    assert!(!store.is_refresh_token_spent(&refresh, until, T0).await.unwrap(), "never spent");
    assert_eq!(issue(store, spend).await.unwrap(), Stored::Written);
    assert!(store.is_refresh_token_spent(&refresh, until, T0).await.unwrap(), "spent");
    assert!(!store.is_access_token_revoked(&refresh, T0).await.unwrap(), "kinds are kept apart");
    // Spending it again writes nothing at all, the session's note included.
    let note = SessionGrant { client_id: ClientId::new_random(), family: f1.clone() };
    let session = Some(("sid-late", &note, T0 + Duration::hours(8)));
    assert_eq!(issue_at(store, spend, session, T0).await.unwrap(), Stored::AlreadySpent);
    assert!(store.session_grants("sid-late", T0).await.unwrap().is_empty(), "nothing half-written");
    assert!(!store.is_refresh_token_spent(&refresh, until, until).await.unwrap(), "forgotten once the token expired");
    // With the session's note, both are written.
    let noted_refresh = digest();
    let spend = Spend::SealedRefreshToken { token: &noted_refresh, until };
    assert_eq!(issue_at(store, spend, session, T0).await.unwrap(), Stored::Written);
    assert!(store.is_refresh_token_spent(&noted_refresh, until, T0).await.unwrap());
    assert_eq!(store.session_grants("sid-late", T0).await.unwrap(), vec![note.clone()]);
    // Racing rotations of one token: exactly one is stored.
    let raced = digest();
    let spend = Spend::SealedRefreshToken { token: &raced, until };
    let (a, b) = tokio::join!(issue(store, spend), issue(store, spend));
    let written = [a.unwrap(), b.unwrap()].iter().filter(|s| **s == Stored::Written).count();
    assert_eq!(written, 1, "two racing rotations: exactly one succeeds");
    // A code is spent the same way, marked with the family its tokens belong to.
    let exchanged = digest();
    store.put_code(&exchanged, &issued).await.unwrap();
    let spends = Spend::Code { code: &exchanged, family: &f2 };
    assert_eq!(issue(store, spends).await.unwrap(), Stored::Written);
    assert_eq!(store.find_code(&exchanged, T0).await.unwrap(), Redeemed::Replayed { family: Some(f2.clone()) });
    assert_eq!(issue(store, spends).await.unwrap(), Stored::AlreadySpent);

    assert!(!store.is_family_revoked(&f1, T0).await.unwrap());
    store.revoke_family(&f1, T0 + Duration::days(30)).await.unwrap();
    assert!(store.is_family_revoked(&f1, T0).await.unwrap());
    assert!(!store.is_family_revoked(&f2, T0).await.unwrap(), "families are separate");
    assert!(
        !store.is_family_revoked(&f1, T0 + Duration::days(30)).await.unwrap(),
        "revocation outlives the tokens, then goes"
    );

    let (sid, other_sid) = ("sid-one", "sid-two");
    assert!(store.session_grants(sid, T0).await.unwrap().is_empty(), "a session with nothing issued");
    let (a, b) = (ClientId::new_random(), ClientId::new_random());
    let until = T0 + Duration::hours(8);
    let first = SessionGrant { client_id: a, family: f1.clone() };
    let second = SessionGrant { client_id: b, family: f2.clone() };
    let (x, y) = tokio::join!(noted(store, sid, &first, until), noted(store, sid, &second, until));
    assert_eq!((x.unwrap(), y.unwrap()), (Stored::Written, Stored::Written));
    noted(store, sid, &first, until).await.unwrap();
    noted(store, other_sid, &second, until).await.unwrap();
    let mut expected = vec![first.clone(), second.clone()];
    expected.sort();
    assert_eq!(store.session_grants(sid, T0).await.unwrap(), expected, "racing additions both kept, each once");
    assert_eq!(store.session_grants(other_sid, T0).await.unwrap(), vec![second], "sessions are separate");
    assert!(store.session_grants(sid, until).await.unwrap().is_empty(), "gone when the session ends");

    let member = ContactId::new_random();
    let (app, other_app) = (ClientId::new_random(), ClientId::new_random());
    assert!(store.get_consent(member, app).await.unwrap().is_none());
    let consent = Consent { contact_id: member, client_id: app, scope: Scopes::parse("openid"), granted_at: T0 };
    store.put_consent(&consent).await.unwrap();
    let wider = Consent { scope: Scopes::parse("openid email"), ..consent.clone() };
    store.put_consent(&wider).await.unwrap();
    store.put_consent(&Consent { client_id: other_app, ..consent.clone() }).await.unwrap();
    assert_eq!(store.get_consent(member, app).await.unwrap(), Some(wider), "a new consent replaces the old");
    assert_eq!(store.list_consents(member).await.unwrap().len(), 2);
    assert!(store.list_consents(ContactId::new_random()).await.unwrap().is_empty());
    store.delete_consent(member, app).await.unwrap();
    assert!(store.get_consent(member, app).await.unwrap().is_none(), "consent can be withdrawn");
    assert_eq!(store.list_consents(member).await.unwrap().len(), 1);
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

pub async fn event_log(stores: &Stores) {
    use crate::event_log::{Level, LogEntry, LogFilter};
    let entry = |n: i64, level: Level, message: &str| LogEntry {
        id: format!("e{n}"),
        level,
        message: message.into(),
        details: serde_json::json!({ "n": n }),
        occurred_at: T0 + Duration::minutes(n),
    };
    stores.logs.append(&entry(1, Level::Info, "Redirecting to the OpenID provider")).await.unwrap();
    stores.logs.append(&entry(2, Level::Error, "The OpenID provider returned an error")).await.unwrap();
    stores.logs.append(&entry(3, Level::Info, "ID token verified")).await.unwrap();
    let now = T0 + Duration::hours(1);
    let all = stores.logs.search(&LogFilter { limit: 10, ..Default::default() }, now).await.unwrap().entries;
    assert_eq!(all.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["e3", "e2", "e1"], "newest first");
    let errors = stores
        .logs
        .search(&LogFilter { level: Some(Level::Warning), limit: 10, ..Default::default() }, now)
        .await
        .unwrap()
        .entries;
    assert_eq!(errors.len(), 1);
    let text = LogFilter { contains: Some("PROVIDER".into()), limit: 10, ..Default::default() };
    assert_eq!(stores.logs.search(&text, now).await.unwrap().entries.len(), 2, "message contains, any case");
    let between = LogFilter {
        from: Some(T0 + Duration::minutes(2)),
        to: Some(T0 + Duration::minutes(3)),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(stores.logs.search(&between, now).await.unwrap().entries.len(), 2);
    let page = LogFilter { limit: 2, ..Default::default() };
    let first = stores.logs.search(&page, now).await.unwrap().entries;
    let rest = LogFilter { before: Some(first[1].sort_key()), ..page };
    assert_eq!(
        stores.logs.search(&rest, now).await.unwrap().entries.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["e1"],
        "paged"
    );
    // Paging with the cursor while newer entries arrive: every older entry exactly once.
    for n in 10..35 {
        stores.logs.append(&entry(n, Level::Info, "paged entry")).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor = LogFilter { contains: Some("paged".into()), limit: 10, ..Default::default() };
    for round in 0.. {
        let page = stores.logs.search(&cursor, now).await.unwrap();
        stores.logs.append(&entry(40 + round, Level::Info, "paged entry, newer")).await.unwrap();
        seen.extend(page.entries.iter().map(|e| e.id.clone()));
        let Some(next) = page.next_before else { break };
        cursor.before = Some(next);
    }
    let expected: Vec<String> = (10..35).rev().map(|n| format!("e{n}")).collect();
    assert_eq!(seen, expected, "each entry once, newest first, across pages");
    let much_later = T0 + stores.retention.log + Duration::hours(1);
    assert!(
        stores
            .logs
            .search(&LogFilter { limit: 10, ..Default::default() }, much_later)
            .await
            .unwrap()
            .entries
            .is_empty(),
        "retention"
    );
    log_search_reads_a_bounded_number_of_entries(stores).await;
    a_level_search_reads_only_its_level(stores).await;
}

/// Warnings and errors have views of their own: among many other entries, a level search
/// fills its pages reading nothing else (its budget is the page).
async fn a_level_search_reads_only_its_level(stores: &Stores) {
    use crate::event_log::{Level, LogEntry, LogFilter};
    let at = |n: i64| T0 + Duration::days(3) + Duration::seconds(n);
    let entry = |n: i64, level: Level| LogEntry {
        id: format!("v{n:04}"),
        level,
        message: format!("entry {n}"),
        details: serde_json::Value::Null,
        occurred_at: at(n),
    };
    for n in 0..250 {
        let level = match n {
            10 | 120 | 240 => Level::Error,
            50 | 200 => Level::Warning,
            _ => Level::Info,
        };
        stores.logs.append(&entry(n, level)).await.unwrap();
    }
    let now = at(300);
    let mut errors = LogFilter { level: Some(Level::Error), limit: 2, from: Some(at(0)), ..Default::default() };
    assert_eq!(errors.read_budget(), 2, "a page's worth");
    let first = stores.logs.search(&errors, now).await.unwrap();
    let ids = |page: &crate::event_log::LogPage| page.entries.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&first), ["v0240", "v0120"], "two errors, 130 entries apart, on one page");
    errors.before = first.next_before;
    let second = stores.logs.search(&errors, now).await.unwrap();
    assert_eq!(ids(&second), ["v0010"]);
    assert_eq!(second.next_before, None);
    let warnings = LogFilter { level: Some(Level::Warning), limit: 10, from: Some(at(0)), ..Default::default() };
    let found = stores.logs.search(&warnings, now).await.unwrap();
    assert_eq!(ids(&found), ["v0240", "v0200", "v0120", "v0050", "v0010"], "warnings and errors, newest first");
}

/// A rare match costs a page's worth of reads: the search stops after its budget, says how far
/// back it looked, and the cursor goes on from there.
async fn log_search_reads_a_bounded_number_of_entries(stores: &Stores) {
    use crate::event_log::{Level, LogEntry, LogFilter};
    let at = |n: i64| T0 + Duration::days(1) + Duration::seconds(n);
    let entry = |n: i64, message: &str| LogEntry {
        id: format!("b{n:04}"),
        level: Level::Info,
        message: message.into(),
        details: serde_json::Value::Null,
        occurred_at: at(n),
    };
    stores.logs.append(&entry(0, "the needle")).await.unwrap();
    let mut filter = LogFilter { contains: Some("needle".into()), limit: 10, from: Some(at(0)), ..Default::default() };
    let budget = filter.read_budget();
    assert!(budget > filter.limit, "a text search reads more than a page to fill one");
    let hay = i64::try_from(budget).unwrap() + 20;
    for n in 1..=hay {
        stores.logs.append(&entry(n, "hay")).await.unwrap();
    }
    let now = at(hay) + Duration::minutes(1);
    let first = stores.logs.search(&filter, now).await.unwrap();
    assert!(first.entries.is_empty(), "the budget ran out among the newer entries");
    let back_to = first.searched_back_to().expect("a cursor to go on with");
    assert_eq!(back_to, at(hay + 1 - i64::try_from(budget).unwrap()), "read exactly the budget, newest first");
    filter.before = first.next_before;
    let second = stores.logs.search(&filter, now).await.unwrap();
    assert_eq!(second.entries.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(), ["the needle"]);
    assert_eq!(second.next_before, None, "the period is searched to its start");
}

/// One check of the suite, run against fresh stores.
pub type Check = for<'a> fn(&'a Stores) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;

/// Refresh tokens issued before they were sealed are stored rows. The backend's own test
/// writes them as those releases did (`write(digest, grant)`); they are found, spent and
/// replayed as before.
pub async fn stored_refresh_tokens(stores: &Stores, write: impl AsyncFn(TokenDigest, TokenGrant)) {
    let store = &stores.grants;
    let family = FamilyId::generate().unwrap();
    let grant = token_grant(&family, T0 + Duration::hours(1));
    let refresh = digest();
    assert_eq!(store.get_refresh_token(&refresh, T0).await.unwrap(), None, "never issued");
    assert_eq!(store.find_refresh_token(&refresh, T0).await.unwrap(), Redeemed::Unknown);
    write(refresh.clone(), grant.clone()).await;
    assert_eq!(store.get_refresh_token(&refresh, T0).await.unwrap(), Some(grant.clone()), "read without spending");
    assert_eq!(store.find_refresh_token(&refresh, T0).await.unwrap(), Redeemed::Fresh(grant.clone()), "still unspent");
    let later = T0 + Duration::hours(1);
    assert_eq!(store.get_refresh_token(&refresh, later).await.unwrap(), None, "expired");
    assert_eq!(store.find_refresh_token(&refresh, later).await.unwrap(), Redeemed::Unknown);

    // Rotation spends the row; a replay finds the family to revoke.
    assert_eq!(issue(store, Spend::StoredRefreshToken(&refresh)).await.unwrap(), Stored::Written);
    let replayed = Redeemed::Replayed { family: Some(family.clone()) };
    assert_eq!(store.find_refresh_token(&refresh, T0).await.unwrap(), replayed);
    assert_eq!(store.get_refresh_token(&refresh, T0).await.unwrap(), None, "a spent refresh token is not live");
    // Spending it again, or an expired one, writes nothing at all.
    let note = SessionGrant { client_id: ClientId::new_random(), family: family.clone() };
    let session = Some(("sid-stored", &note, T0 + Duration::hours(8)));
    let again = issue_at(store, Spend::StoredRefreshToken(&refresh), session, T0);
    assert_eq!(again.await.unwrap(), Stored::AlreadySpent);
    let next = digest();
    write(next.clone(), grant.clone()).await;
    let expired = issue_at(store, Spend::StoredRefreshToken(&next), session, later);
    assert_eq!(expired.await.unwrap(), Stored::AlreadySpent);
    assert!(store.session_grants("sid-stored", T0).await.unwrap().is_empty(), "nothing half-written");
    assert_eq!(store.find_refresh_token(&next, T0).await.unwrap(), Redeemed::Fresh(grant.clone()), "still unspent");
    // Racing rotations of one token: exactly one is stored.
    let spend = Spend::StoredRefreshToken(&next);
    let (a, b) = tokio::join!(issue(store, spend), issue(store, spend));
    let written = [a.unwrap(), b.unwrap()].iter().filter(|s| **s == Stored::Written).count();
    assert_eq!(written, 1, "two racing rotations: exactly one succeeds");
}

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
    ("grants", |s| Box::pin(grants(s))),
    ("tickets_and_outbox", |s| Box::pin(tickets_and_outbox(s))),
    ("event_log", |s| Box::pin(event_log(s))),
];
