//! `/admin/api/signing`: which algorithm signs ID tokens, and key rotation.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use gatehouse::oidc::signing::SigningAlgorithm;
use gatehouse::web::SharedState;
use gatehouse::web::extract::JsonBody;
use gatehouse::web::response::ok_json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::ApiResult;
use super::views::SigningView;
use crate::auth::SysAdmin;
use crate::service::signing as service;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/admin/api/signing", get(read).put(set_algorithm))
        .route("/admin/api/signing/rotate", post(rotate))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SigningInput)]
pub struct SigningBody {
    /// `HS512`, `ES256` (recommended for new deployments), `EdDSA`, `RS256` or `RS512`.
    #[schema(value_type = String)]
    algorithm: SigningAlgorithm,
}

#[utoipa::path(get, path = "/admin/api/signing", tag = "signing", responses((status = 200, body = SigningView)))]
async fn read(_: SysAdmin, State(state): State<SharedState>) -> ApiResult {
    Ok(ok_json(&SigningView::from(&service::get(&state).await?)))
}

#[utoipa::path(put, path = "/admin/api/signing", tag = "signing", request_body = SigningBody,
    responses((status = 200, body = SigningView)))]
async fn set_algorithm(
    _: SysAdmin,
    State(state): State<SharedState>,
    JsonBody(body): JsonBody<SigningBody>,
) -> ApiResult {
    Ok(ok_json(&SigningView::from(&service::set_algorithm(&state, body.algorithm, state.now()).await?)))
}

#[utoipa::path(post, path = "/admin/api/signing/rotate", tag = "signing",
    responses((status = 200, body = SigningView), (status = 409, description = "HS512 has no key to rotate")))]
async fn rotate(_: SysAdmin, State(state): State<SharedState>) -> ApiResult {
    Ok(ok_json(&SigningView::from(&service::rotate(&state, state.now()).await?)))
}
