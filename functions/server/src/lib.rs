//! Every function's routes on one local port: the same routers Lambda runs, merged, behind
//! connection limits (Lambda has API Gateway in front; a local server has only itself).

mod guard;

pub use guard::Limits;

use std::net::SocketAddr;

use axum::Router;
use axum::ServiceExt;
use gatehouse::web::SharedState;
use tokio::net::TcpListener;

/// Threads for blocking work: password hashes (one at a time under a lock, so more threads
/// add no throughput; uncapped, a burst of sign-ins left hundreds of them behind, each with
/// its stack and a malloc arena).
const MAX_BLOCKING_THREADS: usize = 16;

/// The server's runtime: one thread, as on Lambda, and at most [`MAX_BLOCKING_THREADS`]
/// blocking threads. The embedded store runs its statements on one connection under a lock,
/// so a second worker added no throughput there, only thread wake-ups: measured side by side
/// (`tests/bench/ab.mjs`), one thread took an HS512 refresh from 135-140 to 120-125 µs of CPU
/// at concurrency 1 and from 95-100 to 80-85 µs at 32 (p99 17-18 to 12-13 ms), and an RS256
/// refresh from 325 to 285 µs at 32 (p99 45 to 25 ms, p50 6.6 to 9.0 ms: signing has one
/// core).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().max_blocking_threads(MAX_BLOCKING_THREADS).build()
}

/// All seven functions' routes; anything else is a JSON 404.
pub fn router(state: SharedState) -> Router {
    Router::new()
        .merge(gatehouse_discovery::router(state.clone()))
        .merge(gatehouse_signin_redirect::router(state.clone()))
        .merge(gatehouse_callback::router(state.clone()))
        .merge(gatehouse_authorize::router(state.clone()))
        .merge(gatehouse_token::router(state.clone()))
        .merge(gatehouse_userinfo::router(state.clone()))
        .merge(gatehouse_admin::router(state))
        .fallback(gatehouse::web::error::not_found)
}

/// Serves until the process ends, with the default limits.
pub async fn serve(state: SharedState, listener: TcpListener) {
    serve_with(state, listener, Limits::default()).await;
}

pub async fn serve_with(state: SharedState, listener: TcpListener, limits: Limits) {
    let app = gatehouse::web::app(router(state).layer(axum::middleware::map_request(guard::with_peer)));
    let listener = guard::GuardedListener::new(listener, limits);
    if let Err(e) = axum::serve(
        listener,
        ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<guard::Peer>(app),
    )
    .await
    {
        tracing::error!(error = %e, "the server stopped");
    }
}

/// Binds the configured address; port 0 picks a free one (tests).
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}
