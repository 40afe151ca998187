//! Running a function under the Lambda runtime: configuration, tracing and state built once
//! per cold start, then every invocation goes to the function's router.
//!
//! Each function's `main` runs on tokio's current-thread runtime: an instance serves one
//! invocation at a time, so a second worker thread would only add wake-ups between threads
//! (bench-cost: a quarter more CPU per invocation, which Lambda bills). Password hashing
//! still goes to the blocking pool.

use std::sync::Arc;

use lambda_http::Error;

use crate::app::{AppState, ensure_first_admin_from_secret};
use crate::clock::SystemClock;
use crate::config::Config;
use crate::web::SharedState;

/// Names the secret (relative to `GATEHOUSE_SECRET_PREFIX`) holding the first administrator's
/// password. Where set on the sign-in function, it creates that administrator, if missing, as
/// each instance starts.
pub const ADMIN_PASSWORD_SECRET_VAR: &str = "GATEHOUSE_ADMIN_PASSWORD_SECRET";

/// Builds the state from the environment and runs `router` under the Lambda runtime.
pub async fn run(router: fn(SharedState) -> axum::Router) -> Result<(), Error> {
    serve(router, Arc::new(start().await?)).await
}

/// [`run`], with `setup` changing the state before the first request (e.g. the token
/// function's RSA signer).
pub async fn run_with(router: fn(SharedState) -> axum::Router, setup: fn(&mut AppState)) -> Result<(), Error> {
    let mut state = start().await?;
    setup(&mut state);
    serve(router, Arc::new(state)).await
}

/// [`run`] for the sign-in function, which also creates the first administrator (see
/// [`ADMIN_PASSWORD_SECRET_VAR`]). Only it does: the others then link no password hashing
/// they never use. The check runs beside the runtime, not before it: it is a DynamoDB round
/// trip (5 ms of init against moto) that nearly always finds the administrator there, and the
/// first request needs none of it. A failure (no such secret, too short a password, storage
/// down) still stops the instance, as a failed init did: Lambda reports it and the next instance
/// tries again.
pub async fn run_creating_first_admin(router: fn(SharedState) -> axum::Router) -> Result<(), Error> {
    let state = Arc::new(start().await?);
    if let Some(secret) = std::env::var(ADMIN_PASSWORD_SECRET_VAR).ok().filter(|v| !v.trim().is_empty()) {
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(e) = ensure_first_admin_from_secret(&state, &secret).await {
                tracing::error!(error = %e, "the first administrator could not be created; stopping");
                std::process::exit(1);
            }
        });
    }
    serve(router, state).await
}

async fn start() -> Result<AppState, Error> {
    let config = Config::from_env()?;
    crate::app::init_tracing(&config.log_format);
    Ok(AppState::new(config, Arc::new(SystemClock)).await?)
}

async fn serve(router: fn(SharedState) -> axum::Router, state: SharedState) -> Result<(), Error> {
    lambda_http::run(crate::web::app(router(state))).await
}
