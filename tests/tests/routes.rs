//! `gatehouse::routes::ROUTES` is the list the SAM template is checked against; these tests
//! check it against the routers: each entry is answered by its function's router (not 404) and
//! by no other function's, and each path accepts exactly the methods the list gives it.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use gatehouse::app::AppState;
use gatehouse::clock::SystemClock;
use gatehouse::routes::{Function, ROUTES, Route};
use gatehouse::web::SharedState;
use gatehouse_tests::{Kind, config_for, fresh_backend};
use tower::ServiceExt as _;

async fn state() -> SharedState {
    Arc::new(AppState::new(config_for(fresh_backend(Kind::Embedded).await), Arc::new(SystemClock)).await.unwrap())
}

fn router_of(function: Function) -> fn(SharedState) -> axum::Router {
    match function {
        Function::Discovery => gatehouse_discovery::router,
        Function::SigninRedirect => gatehouse_signin_redirect::router,
        Function::Callback => gatehouse_callback::router,
        Function::Authorize => gatehouse_authorize::router,
        Function::Token => gatehouse_token::router,
        Function::Userinfo => gatehouse_userinfo::router,
        Function::Admin => gatehouse_admin::router,
    }
}

const FUNCTIONS: [Function; 7] = [
    Function::Discovery,
    Function::SigninRedirect,
    Function::Callback,
    Function::Authorize,
    Function::Token,
    Function::Userinfo,
    Function::Admin,
];

/// A concrete path for a route: `{proxy+}` becomes a real admin API path.
fn concrete(route: &Route) -> String {
    route.path.replace("{proxy+}", "api/session")
}

async fn status(router: axum::Router, method: &str, path: &str) -> StatusCode {
    let req = Request::builder().method(method).uri(path).body(Body::empty()).unwrap();
    gatehouse::web::app(router).oneshot(req).await.unwrap().status()
}

#[tokio::test]
async fn every_route_is_answered_by_its_own_function_and_no_other() {
    let state = state().await;
    for route in ROUTES {
        let method = if route.method == "ANY" { "GET" } else { route.method };
        let path = concrete(route);
        for function in FUNCTIONS {
            let got = status(router_of(function)(state.clone()), method, &path).await;
            if function == route.function {
                assert_ne!(got, StatusCode::NOT_FOUND, "{method} {path} is not answered by {}", function.name());
                assert_ne!(got, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} refuses its method");
            } else {
                assert_eq!(got, StatusCode::NOT_FOUND, "{method} {path} is also answered by {}", function.name());
            }
        }
    }
}

#[tokio::test]
async fn each_path_accepts_exactly_the_listed_methods() {
    let state = state().await;
    let merged = gatehouse_server::router(state);
    for route in ROUTES.iter().filter(|r| r.method != "ANY") {
        let listed: Vec<&str> = ROUTES.iter().filter(|r| r.path == route.path).map(|r| r.method).collect();
        for method in [Method::GET, Method::POST, Method::PUT, Method::DELETE] {
            let got = status(merged.clone(), method.as_str(), route.path).await;
            let allowed = listed.contains(&method.as_str());
            assert_eq!(
                got != StatusCode::METHOD_NOT_ALLOWED,
                allowed,
                "{method} {} answered {got}, listed methods {listed:?}",
                route.path
            );
        }
    }
}

#[tokio::test]
async fn paths_outside_the_list_are_not_found() {
    let merged = gatehouse_server::router(state().await);
    for path in ["/nowhere", "/adminx", "/token/x", "/.well-known/other", "/jwks/1", "/signin/other", "/callbacks"] {
        assert_eq!(status(merged.clone(), "GET", path).await, StatusCode::NOT_FOUND, "{path}");
    }
}
