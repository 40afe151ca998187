//! `/admin/api/queries`. A query is addressed by its path: `/admin/api/queries/$/SSO/ProfileData`.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use gatehouse::query::{ColumnDraft, QueryDraft, QueryKind, QueryPath};
use gatehouse::validation::Invalid;
use gatehouse::web::SharedState;
use gatehouse::web::error::ApiError;
use gatehouse::web::extract::{JsonBody, Req};
use gatehouse::web::request::query;
use gatehouse::web::response::{no_content, ok_json};
use serde::Deserialize;
use utoipa::ToSchema;

use super::schemas::{ColumnInput, QueryInput};
use super::views::{QueryList, QueryView, ValidationView};
use super::{ApiResult, created};
use crate::auth::SysAdmin;
use crate::service::queries as service;
use crate::service::short_list::page_of;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/admin/api/queries", get(list).post(create))
        .route("/admin/api/queries/validate", post(validate))
        .route("/admin/api/queries/{*path}", get(read).put(update).delete(delete))
}

/// Either a whole definition to check, or the path of a saved query; `username` adds a preview.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ValidateInput)]
pub struct ValidateBody {
    path: String,
    #[schema(value_type = Option<String>)]
    kind: Option<QueryKind>,
    parameter: Option<String>,
    #[schema(value_type = Option<Vec<ColumnInput>>)]
    columns: Option<Vec<ColumnDraft>>,
    username: Option<String>,
}

/// The path arrives percent-decoded; a path that is not a query path names no query.
fn query_path(decoded: &str) -> Result<QueryPath, ApiError> {
    QueryPath::parse("path", decoded).map_err(|_| ApiError::not_found("query"))
}

#[utoipa::path(get, path = "/admin/api/queries", tag = "queries",
    params(
        ("after" = Option<String>, Query, description = "The previous page's next_cursor"),
        ("limit" = Option<u32>, Query, description = "1 to 200, 100 by default"),
    ),
    responses((status = 200, body = QueryList)))]
async fn list(_: SysAdmin, State(state): State<SharedState>, Req(req): Req) -> ApiResult {
    let params = query(&req);
    let after = params.non_empty("after");
    let limit = params.page_size(100, 200);
    let page = page_of(service::list(&state).await?, |q| q.path.as_str().to_owned(), after, limit);
    Ok(ok_json(&QueryList { queries: page.items.iter().map(QueryView::from).collect(), next_cursor: page.next }))
}

#[utoipa::path(post, path = "/admin/api/queries", tag = "queries", request_body = QueryInput,
    responses((status = 201, body = QueryView)))]
async fn create(_: SysAdmin, State(state): State<SharedState>, JsonBody(draft): JsonBody<QueryDraft>) -> ApiResult {
    Ok(created(&QueryView::from(&service::create(&state, &draft, state.now()).await?)))
}

#[utoipa::path(get, path = "/admin/api/queries/{path}", tag = "queries",
    params(("path" = String, Path, description = "The query's path, e.g. $/SSO/ProfileData")),
    responses((status = 200, body = QueryView)))]
async fn read(_: SysAdmin, State(state): State<SharedState>, Path(path): Path<String>) -> ApiResult {
    Ok(ok_json(&QueryView::from(&service::get(&state, &query_path(&path)?).await?)))
}

#[utoipa::path(put, path = "/admin/api/queries/{path}", tag = "queries",
    params(("path" = String, Path)), request_body = QueryInput, responses((status = 200, body = QueryView)))]
async fn update(
    _: SysAdmin,
    State(state): State<SharedState>,
    Path(path): Path<String>,
    JsonBody(draft): JsonBody<QueryDraft>,
) -> ApiResult {
    let path = query_path(&path)?;
    Ok(ok_json(&QueryView::from(&service::update(&state, &path, &draft, state.now()).await?)))
}

#[utoipa::path(delete, path = "/admin/api/queries/{path}", tag = "queries",
    params(("path" = String, Path)), responses((status = 204)))]
async fn delete(_: SysAdmin, State(state): State<SharedState>, Path(path): Path<String>) -> ApiResult {
    service::delete(&state, &query_path(&path)?).await?;
    Ok(no_content())
}

#[utoipa::path(post, path = "/admin/api/queries/validate", tag = "queries", request_body = ValidateBody,
    responses((status = 200, body = ValidationView)))]
async fn validate(_: SysAdmin, State(state): State<SharedState>, JsonBody(body): JsonBody<ValidateBody>) -> ApiResult {
    let definition = match body.columns {
        Some(columns) => {
            let kind = body.kind.ok_or_else(|| ApiError::from(Invalid::new("kind", "choose `profile` or `role`")))?;
            let parameter = body.parameter.unwrap_or_else(|| gatehouse::query::PARAMETER.to_owned());
            QueryDraft { path: body.path, kind, parameter, columns, revision: None }.validate()?
        }
        None => {
            let path = QueryPath::parse("path", &body.path)?;
            service::get(&state, &path).await?.definition()
        }
    };
    let preview = match body.username.filter(|u| !u.trim().is_empty()) {
        Some(username) => {
            let preview = service::preview(&state, &definition, &username).await?;
            Some((username, preview))
        }
        None => None,
    };
    Ok(ok_json(&ValidationView::new(&definition, preview)))
}
