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
            AdminError::Store(store) => store.into(),
            AdminError::Random(random) => random.into(),
            AdminError::Hash | AdminError::Internal => PageError::internal(),
        }
    }
}

/// Maps a store conflict to the admin's message, and other store errors through.
pub(crate) fn conflict(e: StoreError) -> AdminError {
    match e {
        StoreError::Conflict(what) => AdminError::Conflict(format!("{what} is already taken")),
        other => AdminError::Store(other),
    }
}
