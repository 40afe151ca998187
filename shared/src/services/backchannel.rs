//! Delivering back-channel logout tokens: a POST of `logout_token=<JWT>` to the app's URL,
//! each attempt bounded in time, retried a few times with a growing pause, every attempt and
//! failure in the OIDC log. It runs as its own task, so a slow or dead app never holds up the
//! member's sign-out for longer than [`DELIVERY_WAIT`] (see [`wait_briefly`]).

use std::time::Duration;

use serde_json::json;
use tokio::task::JoinHandle;

use crate::app::AppState;
use crate::event_log::Level;
use crate::outbound_http;
use crate::registration::ClientId;
use crate::services::log;

/// Attempts per notice, the time each may take, and the pause before the first retry (doubled after).
pub const ATTEMPTS: u32 = 3;
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
pub const FIRST_PAUSE: Duration = Duration::from_millis(500);

/// How long a sign-out waits for its notices before answering. On Lambda the environment is
/// frozen once the response is sent, so a delivery still running then may only finish at the
/// next invocation; waiting this long lets healthy apps be told at once.
pub const DELIVERY_WAIT: Duration = Duration::from_secs(1);

/// Starts delivering `token` to `url`; the handle says when it is done.
pub fn deliver(state: &AppState, client_id: ClientId, url: String, token: String) -> JoinHandle<()> {
    let stores = state.stores.clone();
    let clock = state.clock.clone();
    tokio::spawn(async move {
        let mut pause = FIRST_PAUSE;
        for attempt in 1..=ATTEMPTS {
            let outcome = send(&url, &token).await;
            let now = clock.now();
            let details =
                json!({ "client_id": client_id, "url": url, "attempt": attempt, "outcome": outcome.as_ref().err() });
            match outcome {
                Ok(()) => {
                    log::record(&stores, now, Level::Info, "back-channel logout delivered", details).await;
                    return;
                }
                Err(_) if attempt < ATTEMPTS => {
                    log::record(&stores, now, Level::Warning, "back-channel logout attempt failed", details).await;
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                Err(_) => {
                    log::record(&stores, now, Level::Error, "back-channel logout failed; giving up", details).await;
                }
            }
        }
    })
}

/// Waits for `deliveries` up to [`DELIVERY_WAIT`] in all; what is still running goes on alone.
pub async fn wait_briefly(deliveries: Vec<JoinHandle<()>>) {
    let deadline = tokio::time::Instant::now() + DELIVERY_WAIT;
    for delivery in deliveries {
        if tokio::time::timeout_at(deadline, delivery).await.is_err() {
            return;
        }
    }
}

async fn send(url: &str, token: &str) -> Result<(), String> {
    // A JWT is base64url and dots: nothing to escape in the form body.
    let request = openidconnect::http::Request::post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cache-control", "no-store")
        .body(format!("logout_token={token}").into_bytes())
        .map_err(|e| format!("request failed: {e}"))?;
    let response = outbound_http::send(request, ATTEMPT_TIMEOUT).await.map_err(|e| format!("request failed: {e}"))?;
    match response.status().as_u16() {
        200 | 204 => Ok(()),
        status => Err(format!("the app answered {status}")),
    }
}
