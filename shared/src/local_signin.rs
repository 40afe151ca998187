//! Signing in with a local username (or email) and password, throttled per account and per
//! source address. The account's attempt is counted before its password is checked, so
//! however many requests race, at most [`MAX_FAILURES`] passwords are checked per window.

use std::net::IpAddr;

use time::{Duration, OffsetDateTime};

use crate::app::AppState;
use crate::contact::Contact;
use crate::password;
use crate::store::{StoreError, Stores};

/// After this many attempts without a success in [`FAILURE_WINDOW`] the account refuses
/// passwords until the window ends.
pub const MAX_FAILURES: u32 = 5;
pub const FAILURE_WINDOW: Duration = Duration::minutes(15);
/// One source address guessing across many accounts (or many unknown names) is stopped after
/// this many failures per window; other addresses, and the accounts themselves, are not.
pub const MAX_SOURCE_FAILURES: u32 = 50;

#[derive(Debug, thiserror::Error)]
pub enum SigninError {
    /// Unknown user, wrong password or no password set: deliberately one answer.
    #[error("the username or password is incorrect")]
    InvalidCredentials,
    #[error("too many failed attempts")]
    Throttled { until: OffsetDateTime },
    /// An email that more than one contact has: no password is checked (only a username can
    /// tell them apart).
    #[error("the email belongs to more than one account")]
    Ambiguous,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a typed username or email names.
#[derive(Debug, Clone)]
pub enum Lookup {
    Found(Box<Contact>),
    /// An email that more than one contact has: only the username can tell them apart.
    Ambiguous,
    NotFound,
}

impl Lookup {
    pub fn found(self) -> Option<Contact> {
        match self {
            Self::Found(contact) => Some(*contact),
            Self::Ambiguous | Self::NotFound => None,
        }
    }
}

/// A username, or an email that belongs to exactly one contact; never a guess between two.
pub async fn find_contact(state: &AppState, identifier: &str) -> Result<Lookup, StoreError> {
    let identifier = identifier.trim();
    if identifier.is_empty() {
        return Ok(Lookup::NotFound);
    }
    if let Some(contact) = state.stores.contacts.find_by_username(identifier).await? {
        return Ok(Lookup::Found(Box::new(contact)));
    }
    if !identifier.contains('@') {
        return Ok(Lookup::NotFound);
    }
    let mut matches = state.stores.contacts.find_by_email(identifier).await?;
    Ok(match matches.len() {
        0 => Lookup::NotFound,
        1 => matches.pop().map_or(Lookup::NotFound, |c| Lookup::Found(Box::new(c))),
        _ => Lookup::Ambiguous,
    })
}

/// The throttle key for an account: its id when known, else the name typed, so probing
/// unknown names is throttled the same way.
fn throttle_key(contact: Option<&Contact>, identifier: &str) -> String {
    match contact {
        Some(c) => format!("signin:{}", c.id),
        None => format!("signin:unknown:{}", crate::contact::normalize_key(identifier)),
    }
}

/// One counted attempt at an account's password or second-factor code.
pub struct Attempt {
    key: String,
    number: u32,
}

/// Counts an attempt before its check, so racing requests each get their own number; refuses
/// once the window holds more than [`MAX_FAILURES`].
async fn count_attempt(stores: &Stores, key: String, now: OffsetDateTime) -> Result<Attempt, SigninError> {
    let number = stores.throttle.record_failure(&key, now, FAILURE_WINDOW).await?;
    if number > MAX_FAILURES {
        let until = stores.throttle.failures(&key, now).await?.map_or(now + FAILURE_WINDOW, |(_, until)| until);
        return Err(SigninError::Throttled { until });
    }
    Ok(Attempt { key, number })
}

/// A second-factor code for `contact` is about to be checked: it counts against the same
/// throttle as the account's passwords.
pub async fn count_code_attempt(
    stores: &Stores,
    contact: &Contact,
    now: OffsetDateTime,
) -> Result<Attempt, SigninError> {
    count_attempt(stores, throttle_key(Some(contact), ""), now).await
}

/// The attempt succeeded: the failures before it no longer count.
pub async fn attempt_succeeded(stores: &Stores, attempt: &Attempt) -> Result<(), StoreError> {
    stores.throttle.clear(&attempt.key, attempt.number).await
}

fn source_key(source: IpAddr) -> String {
    format!("signin-source:{source}")
}

/// Checks `password` for the account `identifier` names. `named` looks that account up (as
/// [`find_contact`] does); it runs beside the read of the source address's failures, one round
/// trip for both on DynamoDB. `source` is the client's address (API Gateway's source IP on
/// Lambda, the peer locally), when known.
pub async fn verify_password(
    state: &AppState,
    identifier: &str,
    named: impl Future<Output = Result<Lookup, StoreError>>,
    password: &str,
    source: Option<IpAddr>,
    now: OffsetDateTime,
) -> Result<Contact, SigninError> {
    let throttle = &state.stores.throttle;
    let source_failures = async {
        match source {
            Some(source) => throttle.failures(&source_key(source), now).await,
            None => Ok(None),
        }
    };
    let (named, source_failures) = tokio::try_join!(named, source_failures)?;
    if let Some((failures, until)) = source_failures
        && failures >= MAX_SOURCE_FAILURES
    {
        return Err(SigninError::Throttled { until });
    }
    let contact = match named {
        Lookup::Ambiguous => return Err(SigninError::Ambiguous),
        named => named.found(),
    };
    let Attempt { key, number: attempt } =
        count_attempt(&state.stores, throttle_key(contact.as_ref(), identifier), now).await?;
    let hash = contact.as_ref().and_then(|c| c.password_hash.clone());
    let presented = password.to_owned();
    // argon2 is CPU-bound for tens of milliseconds: keep it off the async workers.
    let verified = tokio::task::spawn_blocking(move || match hash {
        Some(hash) => hash.verify(&presented),
        None => {
            password::verify_against_nothing(&presented);
            false
        }
    })
    .await
    .unwrap_or(false);
    match contact {
        Some(contact) if verified => {
            throttle.clear(&key, attempt).await?;
            Ok(contact)
        }
        _ => {
            if let Some(source) = source {
                throttle.record_failure(&source_key(source), now, FAILURE_WINDOW).await?;
            }
            tracing::info!(attempt, "password sign-in failed");
            Err(SigninError::InvalidCredentials)
        }
    }
}
