//! Each function's router, in-process, driven by real API Gateway HTTP API (v2) event JSON:
//! the same path a request takes under Lambda, minus the runtime.

use std::sync::Arc;

use gatehouse::app::{AppState, ensure_first_admin};
use gatehouse::clock::SystemClock;
use gatehouse::session::Session;
use gatehouse::web::SharedState;
use gatehouse_tests::{Kind, config_for, fresh_backend};
use lambda_http::http::{HeaderMap, StatusCode};
use tower::ServiceExt as _;

async fn state() -> SharedState {
    let state = AppState::new(config_for(fresh_backend(Kind::Embedded).await), Arc::new(SystemClock)).await.unwrap();
    ensure_first_admin(&state).await.unwrap();
    Arc::new(state)
}

fn event(name: &str) -> lambda_http::Request {
    let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
    let json = std::fs::read_to_string(&path).unwrap();
    lambda_http::request::from_str(&json).unwrap_or_else(|e| panic!("{name} is not an API Gateway event: {e}"))
}

/// A function's answer, read whole.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn status(&self) -> StatusCode {
        self.status
    }

    fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

/// Runs one event through a function's router as `lambda_http::run` would.
async fn invoke(router: fn(SharedState) -> axum::Router, state: &SharedState, req: lambda_http::Request) -> Reply {
    let response = gatehouse::web::app(router(state.clone())).oneshot(req).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    Reply { status: parts.status, headers: parts.headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

fn body_text(response: &Reply) -> String {
    response.body.clone()
}

fn header<'a>(response: &'a Reply, name: &str) -> &'a str {
    response.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

#[tokio::test]
async fn signin_redirect_serves_the_form_and_refuses_a_forged_post() {
    let state = state().await;
    let page = invoke(gatehouse_signin_redirect::router, &state, event("signin-get.json")).await;
    assert_eq!(page.status(), 200);
    assert!(header(&page, "content-type").starts_with("text/html"));
    assert!(header(&page, "content-security-policy").contains("frame-ancestors 'none'"));
    assert!(body_text(&page).contains(r#"name="return_to" value="/admin""#), "return_to is carried through the form");
    assert!(header(&page, "set-cookie").contains("HttpOnly"));

    let forged = invoke(gatehouse_signin_redirect::router, &state, event("signin-post-without-csrf.json")).await;
    assert_eq!(forged.status(), 403);
}

#[tokio::test]
async fn admin_refuses_strangers_and_accepts_a_session_cookie_from_the_v2_cookies_array() {
    let state = state().await;
    let api = invoke(gatehouse_admin::router, &state, event("admin-api-registrations-get.json")).await;
    assert_eq!(api.status(), 401);
    assert_eq!(header(&api, "content-type"), "application/json");

    let page = invoke(gatehouse_admin::router, &state, event("admin-page-get.json")).await;
    assert_eq!(page.status(), 303);
    assert_eq!(header(&page, "location"), "/signin?return_to=%2Fadmin%2Fregistrations");

    let admin = state.stores.contacts.find_by_username("admin").await.unwrap().unwrap();
    let (session, token) = Session::start(&admin, state.now(), Default::default()).unwrap();
    state.stores.sessions.insert(&session).await.unwrap();
    let raw =
        std::fs::read_to_string(format!("{}/events/admin-api-registrations-get.json", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
    let raw = raw.replace("gatehouse_session=not-a-session", &format!("gatehouse_session={}", token.expose()));
    let signed_in = invoke(gatehouse_admin::router, &state, lambda_http::request::from_str(&raw).unwrap()).await;
    assert_eq!(signed_in.status(), 200, "{}", body_text(&signed_in));
    assert_eq!(body_text(&signed_in), r#"{"registrations":[],"next_cursor":null}"#);
}

#[tokio::test]
async fn protocol_functions_answer_their_events() {
    let state = state().await;
    let discovery = invoke(gatehouse_discovery::router, &state, event("discovery-get.json")).await;
    assert_eq!(discovery.status(), 200);
    let metadata: serde_json::Value = serde_json::from_str(&body_text(&discovery)).unwrap();
    assert_eq!(metadata["issuer"], state.config.issuer_str());
    let jwks = invoke(gatehouse_discovery::router, &state, event("jwks-get.json")).await;
    assert_eq!((jwks.status().as_u16(), body_text(&jwks).as_str()), (200, r#"{"keys":[]}"#), "HS512 publishes no keys");

    let authorize = invoke(gatehouse_authorize::router, &state, event("authorize-get.json")).await;
    assert_eq!(authorize.status(), 400, "an unknown client gets an error page");
    assert!(authorize.headers().get("location").is_none(), "and no redirect");
    assert!(header(&authorize, "content-type").starts_with("text/html"));

    let token = invoke(gatehouse_token::router, &state, event("token-post.json")).await;
    assert_eq!(token.status(), 401);
    assert_eq!(header(&token, "cache-control"), "no-store");
    assert!(body_text(&token).contains(r#""error":"invalid_client""#));

    let userinfo = invoke(gatehouse_userinfo::router, &state, event("userinfo-get.json")).await;
    assert_eq!(userinfo.status(), 401);
    assert!(header(&userinfo, "www-authenticate").contains(r#"error="invalid_token""#));

    let callback = invoke(gatehouse_callback::router, &state, event("callback-get.json")).await;
    assert_eq!(callback.status(), 403, "a callback with a state Gatehouse never issued is refused");
    assert!(body_text(&callback).contains("not valid any more"));
}
