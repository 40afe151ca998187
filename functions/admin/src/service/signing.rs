//! Which algorithm signs ID tokens, and key rotation.

use gatehouse::app::AppState;
use gatehouse::oidc::signing::{SigningAlgorithm, SigningConfig, SigningError};
use gatehouse::services::signing::{save_signing_config, signing_config};
use time::OffsetDateTime;

use super::{AdminError, AdminResult};

pub async fn get(state: &AppState) -> AdminResult<SigningConfig> {
    Ok(signing_config(&state.stores).await?)
}

/// A key operation that cannot go ahead is a conflict; anything else is our fault.
fn signing_error(e: SigningError) -> AdminError {
    match e {
        SigningError::NoActiveKey(message) => AdminError::Conflict(message.to_owned()),
        other => {
            tracing::error!(error = %other, "signing key operation failed");
            AdminError::Internal
        }
    }
}

pub async fn set_algorithm(
    state: &AppState,
    algorithm: SigningAlgorithm,
    now: OffsetDateTime,
) -> AdminResult<SigningConfig> {
    let mut config = signing_config(&state.stores).await?;
    config.set_algorithm(algorithm, now).map_err(signing_error)?;
    save_signing_config(&state.stores, &state.signer, &config).await?;
    tracing::info!(algorithm = algorithm.name(), "signing algorithm set");
    Ok(config)
}

pub async fn rotate(state: &AppState, now: OffsetDateTime) -> AdminResult<SigningConfig> {
    let mut config = signing_config(&state.stores).await?;
    config.rotate(now).map_err(signing_error)?;
    save_signing_config(&state.stores, &state.signer, &config).await?;
    tracing::info!("signing key rotated");
    Ok(config)
}
