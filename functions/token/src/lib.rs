//! The token function. Its protocol endpoints arrive with the OpenID Provider work;
//! until then it answers that nothing is served here.

use gatehouse::app::AppState;
use gatehouse::web::error::ApiError;
use gatehouse::web::{Request, Response};

pub async fn handle(_state: &AppState, _req: Request) -> Response {
    ApiError::not_found("this endpoint").into_response()
}
