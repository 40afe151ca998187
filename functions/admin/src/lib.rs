//! The admin: web pages under `/admin` and a JSON API under `/admin/api/`, for system
//! administrators only.

mod api;
mod auth;
mod pages;
pub mod service;

use gatehouse::app::AppState;
use gatehouse::web::request::path;
use gatehouse::web::{Request, Response};

pub async fn handle(state: &AppState, req: Request) -> Response {
    let path = path(&req).to_owned();
    match path.strip_prefix("/admin/api/") {
        Some(rest) => api::handle(state, &req, rest).await,
        None => pages::handle(state, &req, &path).await,
    }
}
