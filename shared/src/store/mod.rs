//! Storage behind small traits returning our own types. Two backends implement them:
//! [`embedded`] (SQLite + a 0600 secrets file) and [`aws`] (DynamoDB + Secrets Manager).
//! Both pass the one suite in [`suite`].

use std::sync::Arc;

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use crate::clock::Clock;
use crate::config::Backend;
use crate::contact::{Contact, ContactId};
use crate::contact_search::{ContactCursor, ContactPage, ContactSearch};
use crate::event_log::{LogEntry, LogFilter, LogPage};
use crate::grants::{AuthCode, Consent, FamilyId, Issuance, Redeemed, SessionGrant, Stored, TokenGrant};
use crate::outbox::{Mail, OutboxPage};
use crate::query::{QueryPath, SavedQuery};
use crate::registration::{ClientId, ClientSecrets, Registration};
use crate::secret::{SecretString, TokenDigest};
use crate::session::Session;
use crate::ticket::{Ticket, TicketKind};

pub mod aws;
#[cfg(feature = "embedded")]
pub mod embedded;
#[cfg(feature = "embedded")]
mod private_files;
pub(crate) mod records;
pub mod secret_cache;
#[cfg(feature = "test-suite")]
pub mod suite;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value is taken. `web::error` puts it into words for the user.
    #[error("already taken: {0:?}")]
    Conflict(Taken),
    #[error("not found")]
    NotFound,
    /// An update was made from an older copy: the item was written since it was read.
    #[error("written since it was read")]
    Stale,
    /// The backend failed. The text is for logs only, never for a response.
    #[error("storage failed: {0}")]
    Backend(String),
    /// The backend could not be reached in time; trying again later may work. Logs only.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    pub fn backend(e: impl std::fmt::Display) -> Self {
        Self::Backend(e.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The unique value a refused write found taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// A contact's username, in any case.
    Username(String),
    /// A contact's link to an upstream identity.
    ExternalId(String),
    ContactId(ContactId),
    Path(QueryPath),
    ClientId(ClientId),
    /// A code or token digest: random, so taken only by a bug.
    Token,
}

#[async_trait]
pub trait ContactStore: Send + Sync {
    /// Fails with `Conflict` when the username (any case) or external id is taken.
    async fn insert(&self, contact: &Contact) -> StoreResult<()>;
    async fn get(&self, id: ContactId) -> StoreResult<Option<Contact>>;
    async fn find_by_username(&self, username: &str) -> StoreResult<Option<Contact>>;
    /// The contact linked to an upstream identity (exact match), through its unique index.
    async fn find_by_external_id(&self, external_id: &str) -> StoreResult<Option<Contact>>;
    /// Every contact with this email (any case), through an index.
    async fn find_by_email(&self, email: &str) -> StoreResult<Vec<Contact>>;
    /// Replaces the contact as read at `contact.revision` and advances that revision; `Stale`
    /// when the contact was written since, `NotFound` if it is gone, `Conflict` as for insert.
    async fn update(&self, contact: &mut Contact) -> StoreResult<()>;
    /// Returns whether there was such a contact.
    async fn delete(&self, id: ContactId) -> StoreResult<bool>;
    /// A page of at most `limit` contacts whose username, last name or email starts with the
    /// search (usernames' matches first), after `after`; see [`crate::contact_search`].
    async fn list(
        &self,
        search: &ContactSearch,
        after: Option<&ContactCursor>,
        limit: usize,
    ) -> StoreResult<ContactPage>;
}

#[async_trait]
pub trait QueryStore: Send + Sync {
    /// Fails with `Conflict` when the path exists.
    async fn insert(&self, query: &SavedQuery) -> StoreResult<()>;
    async fn get(&self, path: &QueryPath) -> StoreResult<Option<SavedQuery>>;
    /// Replaces the query as read at `query.revision` and advances that revision; `Stale` when
    /// it was written since, `NotFound` if it is gone.
    async fn update(&self, query: &mut SavedQuery) -> StoreResult<()>;
    async fn delete(&self, path: &QueryPath) -> StoreResult<bool>;
    async fn list(&self) -> StoreResult<Vec<SavedQuery>>;
}

#[async_trait]
pub trait RegistrationStore: Send + Sync {
    async fn insert(&self, registration: &Registration) -> StoreResult<()>;
    async fn get(&self, client_id: ClientId) -> StoreResult<Option<Registration>>;
    /// Replaces the registration as read at `registration.revision` and advances that revision;
    /// `Stale` when it was written since, `NotFound` if it is gone.
    async fn update(&self, registration: &mut Registration) -> StoreResult<()>;
    async fn delete(&self, client_id: ClientId) -> StoreResult<bool>;
    async fn list(&self) -> StoreResult<Vec<Registration>>;
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn insert(&self, session: &Session) -> StoreResult<()>;
    /// The session, unless it has expired at `now` (expiry is checked on read; TTL deletes late).
    async fn get(&self, id: &TokenDigest, now: OffsetDateTime) -> StoreResult<Option<Session>>;
    async fn delete(&self, id: &TokenDigest) -> StoreResult<()>;
    /// The contact's live sessions, oldest first (through a per-contact record, never a scan).
    async fn list_for_contact(&self, contact: ContactId, now: OffsetDateTime) -> StoreResult<Vec<Session>>;
}

/// Counts failures per key (an account, a client) in a fixed window.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// Records one failure and returns the failures in the current window, this one included.
    async fn record_failure(&self, key: &str, now: OffsetDateTime, window: Duration) -> StoreResult<u32>;
    /// Failures in the current window, and when that window ends.
    async fn failures(&self, key: &str, now: OffsetDateTime) -> StoreResult<Option<(u32, OffsetDateTime)>>;
    /// Ends the window if it still holds exactly `count` attempts: a success clears the
    /// failures before it, but not attempts that raced in after it (those stay counted).
    async fn clear(&self, key: &str, count: u32) -> StoreResult<()>;
}

/// Codes, tokens, token families and consents. Single-use items are spent with a
/// conditional write, so two racing requests get exactly one `Fresh`.
#[async_trait]
pub trait GrantStore: Send + Sync {
    async fn put_code(&self, code: &TokenDigest, grant: &AuthCode) -> StoreResult<()>;
    /// Spends the code, recording `family` as what its use issued (a failed exchange burns it;
    /// a successful one spends it in its [`store_issuance`](Self::store_issuance)).
    async fn redeem_code(
        &self,
        code: &TokenDigest,
        family: &FamilyId,
        now: OffsetDateTime,
    ) -> StoreResult<Redeemed<AuthCode>>;
    /// Looks an authorization code up without spending it.
    async fn find_code(&self, code: &TokenDigest, now: OffsetDateTime) -> StoreResult<Redeemed<AuthCode>>;
    /// Stores a token response: spends what it spends (if still unused and live) and writes
    /// the session's note, in one transaction: all of it or nothing.
    async fn store_issuance(&self, issuance: &Issuance<'_>, now: OffsetDateTime) -> StoreResult<Stored>;
    /// Ends one access token before `until`, its expiry. Access tokens carry their grant
    /// sealed (`oidc::access_token`) and are not stored, so what is stored is their revocation.
    async fn revoke_access_token(&self, token: &TokenDigest, until: OffsetDateTime) -> StoreResult<()>;
    /// Whether the access token was revoked (and would still be live).
    async fn is_access_token_revoked(&self, token: &TokenDigest, now: OffsetDateTime) -> StoreResult<bool>;
    /// Whether the sealed refresh token, expiring at `until`, was spent (and would still be
    /// live). Its issuance spends it ([`Spend::SealedRefreshToken`](crate::grants::Spend)),
    /// with the same `until`, which a backend may key the record by.
    async fn is_refresh_token_spent(
        &self,
        token: &TokenDigest,
        until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Looks a stored refresh token (one issued before they were sealed) up without spending
    /// it (its issuance spends it).
    async fn find_refresh_token(&self, token: &TokenDigest, now: OffsetDateTime) -> StoreResult<Redeemed<TokenGrant>>;
    /// A stored refresh token's grant without spending it, unless it is expired or spent.
    async fn get_refresh_token(&self, token: &TokenDigest, now: OffsetDateTime) -> StoreResult<Option<TokenGrant>>;
    /// Every token of the family stops working, until `until` (past their lifetimes).
    async fn revoke_family(&self, family: &FamilyId, until: OffsetDateTime) -> StoreResult<()>;
    async fn is_family_revoked(&self, family: &FamilyId, now: OffsetDateTime) -> StoreResult<bool>;
    /// What apps got in the session, each once, sorted; empty when nothing or expired.
    async fn session_grants(&self, sid: &str, now: OffsetDateTime) -> StoreResult<Vec<SessionGrant>>;
    async fn get_consent(&self, contact: ContactId, client_id: ClientId) -> StoreResult<Option<Consent>>;
    async fn put_consent(&self, consent: &Consent) -> StoreResult<()>;
    async fn delete_consent(&self, contact: ContactId, client_id: ClientId) -> StoreResult<()>;
    async fn list_consents(&self, contact: ContactId) -> StoreResult<Vec<Consent>>;
    /// A single-use ticket (a login transaction, a password reset), keyed by its kind and the
    /// digest of the value handed out. It replaces any ticket of that kind and key, taken or
    /// not: a provider session that signs in again points at the newest Gatehouse session.
    async fn put_ticket(&self, key: &TokenDigest, ticket: &Ticket, expires_at: OffsetDateTime) -> StoreResult<()>;
    /// Takes it once: a replay, an expired ticket, or one of another kind finds nothing.
    async fn take_ticket(
        &self,
        kind: TicketKind,
        key: &TokenDigest,
        now: OffsetDateTime,
    ) -> StoreResult<Option<Ticket>>;
}

/// Mail that was sent: the outbox, which operators (and tests) can read.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    async fn push(&self, mail: &Mail) -> StoreResult<()>;
    /// The newest first.
    async fn recent(&self, before: Option<&str>, limit: usize, now: OffsetDateTime) -> StoreResult<OutboxPage>;
}

/// The OIDC log.
#[async_trait]
pub trait LogStore: Send + Sync {
    async fn append(&self, entry: &LogEntry) -> StoreResult<()>;
    /// Matching entries, newest first, at most `filter.limit`, reading at most
    /// `filter.read_budget()` entries; the page's cursor says where to go on.
    async fn search(&self, filter: &LogFilter, now: OffsetDateTime) -> StoreResult<LogPage>;
}

/// Named secrets. Names are relative; each backend adds its own prefix.
#[async_trait]
pub trait SecretStore: Send + Sync {
    async fn get(&self, name: &str) -> StoreResult<Option<SecretString>>;
    /// The secret as it is since `stamp`, when its owner's record (read anyway) says when it
    /// last changed: a store that keeps reads serves an older read only if it was made as of
    /// the same stamp. See [`secret_cache`].
    async fn get_as_of(&self, name: &str, stamp: OffsetDateTime) -> StoreResult<Option<SecretString>> {
        let _ = stamp;
        self.get(name).await
    }
    /// Creates or replaces.
    async fn put(&self, name: &str, value: &SecretString) -> StoreResult<()>;
    async fn delete(&self, name: &str) -> StoreResult<()>;
    /// The secrets whose names start with `prefix`.
    async fn list(&self, prefix: &str) -> StoreResult<Vec<SecretEntry>>;
}

/// A stored secret's (relative) name, and when it was created where the backend knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretEntry {
    pub name: String,
    pub created_at: Option<OffsetDateTime>,
}

/// How long the stores keep what they only keep for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// The OIDC log.
    pub log: Duration,
    /// Mail that was sent.
    pub outbox: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self { log: Duration::days(90), outbox: Duration::days(30) }
    }
}

/// Every store the functions use, chosen by configuration.
#[derive(Clone)]
pub struct Stores {
    /// What `logs` and `outbox` were opened with, for pages that say how far back they go.
    pub retention: Retention,
    pub contacts: Arc<dyn ContactStore>,
    pub queries: Arc<dyn QueryStore>,
    pub registrations: Arc<dyn RegistrationStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub throttle: Arc<dyn ThrottleStore>,
    pub grants: Arc<dyn GrantStore>,
    pub logs: Arc<dyn LogStore>,
    pub outbox: Arc<dyn OutboxStore>,
    pub secrets: Arc<dyn SecretStore>,
}

impl Stores {
    pub async fn open(backend: &Backend, retention: Retention) -> StoreResult<Self> {
        match backend {
            #[cfg(feature = "embedded")]
            Backend::Embedded { data_dir } => embedded::open(data_dir, retention),
            // The Lambda functions are built without SQLite (they run on DynamoDB).
            #[cfg(not(feature = "embedded"))]
            Backend::Embedded { .. } => Err(StoreError::Backend(
                "this build has no embedded store (feature `embedded`): set GATEHOUSE_BACKEND=aws".into(),
            )),
            Backend::Aws(settings) => Ok(aws::open(settings, retention).await),
        }
    }

    /// The same stores, with secrets kept per process for a minute ([`secret_cache`]) by `clock`.
    pub fn with_secret_cache(mut self, clock: Arc<dyn Clock>) -> Self {
        self.secrets = Arc::new(secret_cache::CachedSecrets::new(self.secrets, clock));
        self
    }

    /// The registration's client secret and JWT signing key, as of its last change: every
    /// credential change stamps the registration's `updated_at`.
    pub async fn client_secrets(&self, registration: &Registration) -> StoreResult<Option<ClientSecrets>> {
        let name = client_secret_name(registration.client_id);
        match self.secrets.get_as_of(&name, registration.updated_at).await? {
            None => Ok(None),
            Some(json) => serde_json::from_str(json.expose()).map(Some).map_err(StoreError::backend),
        }
    }

    pub async fn put_client_secrets(&self, client_id: ClientId, secrets: &ClientSecrets) -> StoreResult<()> {
        let json = serde_json::to_string(secrets).map_err(StoreError::backend)?;
        self.secrets.put(&client_secret_name(client_id), &SecretString::new(json)).await
    }

    pub async fn delete_client_secrets(&self, client_id: ClientId) -> StoreResult<()> {
        self.secrets.delete(&client_secret_name(client_id)).await
    }
}

/// One secret per registration holds both of its credentials.
pub fn client_secret_name(client_id: ClientId) -> String {
    format!("client/{client_id}")
}
