//! The state every handler receives: configuration, stores and the clock, built once per process.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, ConfigError, LogFormat};
use crate::contact::{Contact, ContactId, ContactProfile};
use crate::mail::{MailError, Mailer};
use crate::oidc::sealed_token::TokenKeyCache;
use crate::oidc::signer::SignerCache;
use crate::password::PasswordHash;
use crate::secret::SecretString;
use crate::store::{Retention, StoreError, Stores};

pub struct AppState {
    pub config: Config,
    pub stores: Stores,
    pub clock: Arc<dyn Clock>,
    /// The ID token signer, read from the secret store at most once a minute.
    pub signer: SignerCache,
    /// The access and refresh tokens' key, derived once from the secret that holds it.
    pub token_keys: TokenKeyCache,
    pub mailer: Mailer,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot open storage: {0}")]
    Store(#[from] StoreError),
    #[error("cannot create the first administrator: {0}")]
    Bootstrap(String),
    #[error("mail: {0}")]
    Mail(#[from] MailError),
}

impl AppState {
    pub async fn new(config: Config, clock: Arc<dyn Clock>) -> Result<Self, StartupError> {
        let stores = Stores::open(&config.backend, Retention::default()).await?.with_secret_cache(clock.clone());
        let mailer = Mailer::from_config(&config).await?;
        Ok(Self { config, stores, clock, signer: SignerCache::default(), token_keys: TokenKeyCache::default(), mailer })
    }

    pub async fn from_env() -> Result<Self, StartupError> {
        Self::new(Config::from_env()?, Arc::new(SystemClock)).await
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }
}

/// How the first administrator came to be, for the start-up banner.
#[derive(Debug)]
pub enum FirstAdmin {
    /// Already there: nothing to print.
    Existing,
    /// Created with the password from `GATEHOUSE_ADMIN_PASSWORD`.
    CreatedWithConfiguredPassword,
    /// Created with a generated password, shown once.
    CreatedWithGeneratedPassword(SecretString),
}

/// Creates the first system administrator unless a contact with that username exists.
pub async fn ensure_first_admin(state: &AppState) -> Result<FirstAdmin, StartupError> {
    if state.stores.contacts.find_by_username(&state.config.admin_username).await?.is_some() {
        return Ok(FirstAdmin::Existing);
    }
    create_first_admin(state, state.config.admin_password.as_ref()).await
}

/// Creates the first administrator, whom the caller found missing, with `password` or a
/// generated one; another instance creating them meanwhile is no error.
async fn create_first_admin(state: &AppState, password: Option<&SecretString>) -> Result<FirstAdmin, StartupError> {
    let config = &state.config;
    let (password, outcome) = match password {
        Some(p) => (p.clone(), FirstAdmin::CreatedWithConfiguredPassword),
        None => {
            let p = SecretString::generate(24).map_err(|e| StartupError::Bootstrap(e.to_string()))?;
            (p.clone(), FirstAdmin::CreatedWithGeneratedPassword(p))
        }
    };
    let hash = tokio::task::spawn_blocking(move || PasswordHash::create(&password))
        .await
        .map_err(|e| StartupError::Bootstrap(e.to_string()))?
        .map_err(|e| StartupError::Bootstrap(e.to_string()))?;
    let now = state.now();
    let admin = Contact {
        id: ContactId::new_random(),
        profile: ContactProfile {
            username: config.admin_username.clone(),
            email: String::new(),
            first_name: "System".into(),
            last_name: "Administrator".into(),
            is_staff: true,
            is_sysadmin: true,
            status: "A".into(),
            member_type: "STAFF".into(),
            roles: vec!["SysAdmin".into()],
            attributes: Default::default(),
            external_id: None,
        },
        password_hash: Some(hash),
        password_reset: None,
        mfa: None,
        created_at: now,
        updated_at: now,
        revision: 0,
    };
    match state.stores.contacts.insert(&admin).await {
        Ok(()) => Ok(outcome),
        // Another instance starting at the same moment won the race.
        Err(StoreError::Conflict(_)) => Ok(FirstAdmin::Existing),
        Err(e) => Err(e.into()),
    }
}

/// The first administrator under Lambda, where nobody reads a start-up banner: unless that
/// administrator exists, creates them with the password kept in the secret `name` (relative to
/// the secret prefix; the SAM template generates `admin-password`). The secret is read only
/// while the administrator is missing.
pub async fn ensure_first_admin_from_secret(state: &AppState, name: &str) -> Result<FirstAdmin, StartupError> {
    if state.stores.contacts.find_by_username(&state.config.admin_username).await?.is_some() {
        return Ok(FirstAdmin::Existing);
    }
    let password =
        state.stores.secrets.get(name).await?.ok_or_else(|| {
            StartupError::Bootstrap(format!("the administrator password secret `{name}` does not exist"))
        })?;
    if password.expose().chars().count() < crate::password::MIN_LENGTH {
        return Err(StartupError::Bootstrap(format!(
            "the administrator password in secret `{name}` must be at least {} characters",
            crate::password::MIN_LENGTH
        )));
    }
    let outcome = create_first_admin(state, Some(&password)).await?;
    if matches!(outcome, FirstAdmin::CreatedWithConfiguredPassword) {
        tracing::info!(username = %state.config.admin_username, secret = name, "first administrator created");
    }
    Ok(outcome)
}

/// Libraries that log whole requests and responses at trace level: DynamoDB items with
/// password hashes, reset tickets and session CSRF tokens. They never log below debug here,
/// whatever `RUST_LOG` asks for.
const BODY_LOGGING_TARGETS: &[&str] = &[
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http",
    "aws_smithy_http_client",
    "aws_smithy_types",
    "aws_runtime",
    "aws_sigv4",
    "aws_config",
    "aws_sdk_dynamodb",
    "aws_sdk_secretsmanager",
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
    "rustls",
    "openidconnect",
];

/// Readable logs locally, JSON under Lambda (CloudWatch). `RUST_LOG` filters by level and
/// target (`info`, `warn,gatehouse=debug`); not by span or field, which would link a regex engine
/// into every Lambda package for a feature nobody set.
pub fn init_tracing(format: &LogFormat) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::filter::{FilterExt as _, LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let requested = std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    // An event must pass both: what RUST_LOG asks for, and the cap on body-logging libraries.
    let capped = BODY_LOGGING_TARGETS
        .iter()
        .fold(Targets::new().with_default(LevelFilter::TRACE), |t, target| t.with_target(*target, LevelFilter::DEBUG));
    let filter = requested.and(capped);
    let layer = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer().json().with_current_span(false).without_time().boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer().boxed(),
    };
    let _ = tracing_subscriber::registry().with(layer.with_filter(filter)).try_init();
}
