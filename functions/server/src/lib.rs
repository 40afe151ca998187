//! Every function's routes on one local port: the same handlers Lambda runs, behind a
//! small hyper server, dispatched with the shared route table.

use std::net::SocketAddr;
use std::sync::Arc;

use gatehouse::app::AppState;
use gatehouse::routes::{Function, resolve};
use gatehouse::web::error::ApiError;
use gatehouse::web::{Body, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

/// API Gateway's payload limit; larger bodies are refused the same way locally.
const MAX_BODY: usize = 6 * 1024 * 1024;

/// Sends a request to the function that owns its route.
pub async fn dispatch(state: &AppState, req: Request) -> Response {
    let method = req.method().as_str().to_owned();
    let path = gatehouse::web::request::path(&req).to_owned();
    match resolve(&method, &path) {
        None => ApiError::not_found("this address").into_response(),
        Some((_, false)) => ApiError::method_not_allowed().into_response(),
        Some((function, true)) => match function {
            Function::Discovery => gatehouse_discovery::handle(state, req).await,
            Function::SigninRedirect => gatehouse_signin_redirect::handle(state, req).await,
            Function::Callback => gatehouse_callback::handle(state, req).await,
            Function::Authorize => gatehouse_authorize::handle(state, req).await,
            Function::Token => gatehouse_token::handle(state, req).await,
            Function::Userinfo => gatehouse_userinfo::handle(state, req).await,
            Function::Admin => gatehouse_admin::handle(state, req).await,
        },
    }
}

async fn to_lambda_request(req: hyper::Request<Incoming>) -> Result<Request, Response> {
    let (parts, body) = req.into_parts();
    let bytes = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "the request body is too large")
                .into_response());
        }
    };
    let body = if bytes.is_empty() { Body::Empty } else { Body::Binary(bytes.to_vec()) };
    Ok(Request::from_parts(parts, body))
}

fn to_hyper_response(response: Response) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bytes) => Bytes::from(bytes),
        _ => Bytes::new(),
    };
    hyper::Response::from_parts(parts, Full::new(bytes))
}

/// Serves until the process ends. Each connection gets its own task.
pub async fn serve(state: Arc<AppState>, listener: TcpListener) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: hyper::Request<Incoming>| {
                let state = state.clone();
                async move {
                    let response = match to_lambda_request(req).await {
                        Ok(req) => dispatch(&state, req).await,
                        Err(response) => response,
                    };
                    Ok::<_, std::convert::Infallible>(to_hyper_response(response))
                }
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            if let Err(e) = builder.serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}

/// Binds the configured address; port 0 picks a free one (tests).
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}
