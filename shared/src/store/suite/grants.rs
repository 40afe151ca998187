//! Codes, consents, token families, sessions' notes and spent tokens.

use time::{Duration, OffsetDateTime};

use super::T0;
use crate::grants::{
    AuthCode, Consent, FamilyId, GrantClient, Issuance, Redeemed, SessionGrant, Spend, Stored, TokenGrant,
};
use crate::password::PasswordHash;
use crate::scope::Scopes;
use crate::secret::OpaqueToken;
use crate::session::SignInMethod;
use crate::store::*;

/// A code with every field set, expiring at `expires_at` (also for the store benchmark).
pub fn code(expires_at: OffsetDateTime) -> AuthCode {
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
