//! The admin's web pages (server-rendered, no scripts).

use gatehouse::app::AppState;
use gatehouse::web::error::PageError;
use gatehouse::web::response::{html_page, see_other};
use gatehouse::web::session::signed_in;
use gatehouse::web::{Request, Response, StatusCode};
use maud::html;

pub async fn handle(state: &AppState, req: &Request, path: &str) -> Response {
    let now = state.now();
    let user = match signed_in(state, req, now).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return see_other(&format!(
                "/signin?return_to={}",
                url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>()
            ));
        }
        Err(e) => return PageError::from(e).into_response(),
    };
    if !user.contact.profile.is_sysadmin {
        return PageError::new(
            StatusCode::FORBIDDEN,
            "No access",
            "Only system administrators may use the administration.",
        )
        .into_response();
    }
    html_page(StatusCode::OK, "Administration", html! { h1 { "Administration" } })
}
