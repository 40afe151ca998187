//! What the admin can do, shared by the JSON API and the web pages.

pub mod contacts;
pub mod oidc;
pub mod outbox;
pub mod queries;
pub mod registrations;
pub mod sessions;
pub mod short_list;
pub mod signing;

use gatehouse::secret::RandomError;
use gatehouse::store::StoreError;
use gatehouse::validation::Invalid;
use gatehouse::web::StatusCode;
use gatehouse::web::error::{ApiError, PageError};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request clashes with what is stored; the text says how.
    #[error("{0}")]
    Conflict(String),
    /// A change made from revision `from` of an item that is now at `current`; `differs`
    /// names the fields where the stored item and the change disagree. Nothing was saved.
    #[error("changed since revision {from}")]
    Stale { from: u64, current: u64, differs: Vec<&'static str> },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error("password hashing failed")]
    Hash,
    /// Already logged where it happened; the answer says only that it failed.
    #[error("internal error")]
    Internal,
}

pub type AdminResult<T> = Result<T, AdminError>;

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Invalid(invalid) => invalid.into(),
            AdminError::NotFound(what) => ApiError::not_found(what),
            AdminError::Conflict(message) => ApiError::conflict(message),
            AdminError::Stale { from, current, differs } => ApiError::conflict(format!(
                "it changed since revision {from} and is now at revision {current} (where it differs from this \
                 change: {}); nothing was saved: read it again, or send revision {current} to replace it with this change",
                if differs.is_empty() { "nowhere".to_owned() } else { differs.join(", ") }
            )),
            AdminError::Store(store) => store.into(),
            AdminError::Random(random) => random.into(),
            AdminError::Hash => {
                tracing::error!("password hashing failed");
                ApiError::internal()
            }
            AdminError::Internal => ApiError::internal(),
        }
    }
}

impl From<AdminError> for PageError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Invalid(invalid) => {
                PageError::new(StatusCode::UNPROCESSABLE_ENTITY, "Please check the form", invalid.to_string())
            }
            AdminError::NotFound(what) => {
                PageError::new(StatusCode::NOT_FOUND, "Not found", format!("The {what} does not exist (any more)."))
            }
            AdminError::Conflict(message) => PageError::new(StatusCode::CONFLICT, "Cannot do that", message),
            AdminError::Stale { .. } => PageError::new(StatusCode::CONFLICT, "Changed meanwhile", CHANGED_MEANWHILE),
            AdminError::Store(store) => store.into(),
            AdminError::Random(random) => random.into(),
            AdminError::Hash | AdminError::Internal => PageError::internal(),
        }
    }
}

/// Refuses a change made from revision `from` (when the change names one) of an item now at
/// `current`; `differs` names the fields where they disagree, computed only then.
pub(crate) fn unchanged_since(
    from: Option<u64>,
    current: u64,
    differs: impl FnOnce() -> Vec<&'static str>,
) -> AdminResult<()> {
    match from {
        Some(from) if from != current => Err(AdminError::Stale { from, current, differs: differs() }),
        _ => Ok(()),
    }
}

/// A write lost a race with another: nothing of this one was saved.
pub(crate) const CHANGED_MEANWHILE: &str =
    "it was changed by someone else at the same moment, and nothing was saved: reload it and make the change again";

/// Maps a store conflict to the admin's message, and other store errors through.
pub(crate) fn conflict(e: StoreError) -> AdminError {
    match e {
        StoreError::Conflict(what) => AdminError::Conflict(format!("{what} is already taken")),
        StoreError::Stale => AdminError::Conflict(CHANGED_MEANWHILE.into()),
        other => AdminError::Store(other),
    }
}
