//! The admin: web pages under `/admin` and a JSON API under `/admin/api/`, for system
//! administrators only.

mod api;
mod auth;
mod pages;
pub mod service;

use axum::Router;
use axum::extract::State;
use axum::routing::any;
use gatehouse::web::extract::Req;
use gatehouse::web::request::path;
use gatehouse::web::{Response, SharedState};

pub fn router(state: SharedState) -> Router {
    Router::new().route("/admin", any(handle)).route("/admin/{*rest}", any(handle)).with_state(state)
}

async fn handle(State(state): State<SharedState>, Req(req): Req) -> Response {
    let state = &*state;
    let path = path(&req).to_owned();
    match path.strip_prefix("/admin/api/") {
        Some(rest) => api::handle(state, &req, rest).await,
        None => pages::handle(state, &req, &path).await,
    }
}
