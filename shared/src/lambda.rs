//! Running a function under the Lambda runtime: configuration, tracing and state built once,
//! then every invocation goes to the function's handler.

use std::future::Future;
use std::sync::Arc;

use lambda_http::{Error, service_fn};

use crate::app::{AppState, ensure_first_admin_from_secret};
use crate::clock::SystemClock;
use crate::config::Config;
use crate::web::{Request, Response};

/// Names the secret (relative to `GATEHOUSE_SECRET_PREFIX`) holding the first administrator's
/// password. Where set, the function creates that administrator at cold start if missing.
pub const ADMIN_PASSWORD_SECRET_VAR: &str = "GATEHOUSE_ADMIN_PASSWORD_SECRET";

pub async fn run<F, Fut>(handler: F) -> Result<(), Error>
where
    F: Fn(Arc<AppState>, Request) -> Fut,
    Fut: Future<Output = Response> + Send,
{
    let config = Config::from_env()?;
    crate::app::init_tracing(&config.log_format);
    let mut state = AppState::new(config, Arc::new(SystemClock)).await?;
    if let Some(secret) = std::env::var(ADMIN_PASSWORD_SECRET_VAR).ok().filter(|v| !v.trim().is_empty()) {
        ensure_first_admin_from_secret(&mut state, &secret).await?;
    }
    let state = Arc::new(state);
    lambda_http::run(service_fn(|req| {
        let response = handler(state.clone(), req);
        async move { Ok::<_, Error>(response.await) }
    }))
    .await
}
