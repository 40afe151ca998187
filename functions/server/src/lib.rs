//! Every function's routes on one local port: the same routers Lambda runs, merged, behind
//! connection limits (Lambda has API Gateway in front; a local server has only itself).

mod guard;

pub use guard::Limits;

use std::net::SocketAddr;

use axum::Router;
use axum::ServiceExt;
use gatehouse::web::SharedState;
use tokio::net::TcpListener;

/// Threads for blocking work: the embedded store's calls (`block_in_place`, which hands the
/// worker's queue to one of these) and password hashes. Both wait on one lock (the database's,
/// one hash at a time), so more threads add no throughput; uncapped, a burst of concurrent
/// requests left hundreds of them behind, each with its stack and a malloc arena.
const MAX_BLOCKING_THREADS: usize = 16;

/// The server's runtime: a worker per core, at most [`MAX_BLOCKING_THREADS`] blocking threads.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().max_blocking_threads(MAX_BLOCKING_THREADS).build()
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
