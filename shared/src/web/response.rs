//! Building responses, with the security headers every response carries.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use maud::Markup;
use serde::Serialize;

use super::layout;
use super::{Response, StatusCode};

fn base(status: StatusCode, content_type: &'static str, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub fn json_response<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_string(value) {
        Ok(text) => base(status, "application/json", Body::from(text)),
        Err(e) => {
            tracing::error!(error = %e, "response serialisation failed");
            base(StatusCode::INTERNAL_SERVER_ERROR, "application/json", Body::from(r#"{"error":"internal"}"#))
        }
    }
}

/// JSON that is already text (e.g. a document made at build time).
pub fn json_text(status: StatusCode, text: &'static str) -> Response {
    base(status, "application/json", Body::from(text))
}

pub fn ok_json<T: Serialize + ?Sized>(value: &T) -> Response {
    json_response(StatusCode::OK, value)
}

pub fn no_content() -> Response {
    let mut response = base(StatusCode::NO_CONTENT, "text/plain", Body::empty());
    response.headers_mut().remove(header::CONTENT_TYPE);
    response
}

/// A full HTML page in the common layout.
pub fn html_page(status: StatusCode, title: &str, body: Markup) -> Response {
    html(status, layout::page(title, body))
}

/// An HTML document, never framed, scripts and styles only the layout's own.
pub fn html(status: StatusCode, document: Markup) -> Response {
    let mut response = base(status, "text/html; charset=utf-8", Body::from(document.into_string()));
    if let Ok(csp) = HeaderValue::from_str(&layout::content_security_policy()) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response.headers_mut().insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// 303 See Other: after a POST the browser follows with a GET.
pub fn see_other(location: &str) -> Response {
    let mut response = base(StatusCode::SEE_OTHER, "text/plain", Body::empty());
    match HeaderValue::from_str(location) {
        Ok(value) => {
            response.headers_mut().insert(header::LOCATION, value);
        }
        Err(_) => {
            tracing::error!("refused to redirect to a location with invalid characters");
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        }
    }
    response
}

pub fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
