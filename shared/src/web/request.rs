//! Reading requests: query strings, form bodies, JSON bodies, cookies, bearer tokens.

use axum::http::header;
use base64::Engine as _;
use serde::de::DeserializeOwned;

pub use crate::params::Params;

use super::Request;
use super::error::ApiError;

pub fn query(req: &Request) -> Params {
    Params::parse(req.uri().query().unwrap_or_default())
}

pub fn body_bytes(req: &Request) -> &[u8] {
    req.body().as_ref()
}

fn content_type(req: &Request) -> &str {
    req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

fn media_type_is(req: &Request, expected: &str) -> bool {
    content_type(req).split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case(expected))
}

/// An `application/x-www-form-urlencoded` body; anything else reads as no parameters.
pub fn form(req: &Request) -> Params {
    if media_type_is(req, "application/x-www-form-urlencoded") {
        Params::parse(&String::from_utf8_lossy(body_bytes(req)))
    } else {
        Params::default()
    }
}

pub fn is_form(req: &Request) -> bool {
    media_type_is(req, "application/x-www-form-urlencoded")
}

/// A JSON body, refused with a clear message when it is not JSON or not the expected shape.
pub fn json<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    if !media_type_is(req, "application/json") {
        return Err(ApiError::bad_request("invalid_request", "send a JSON body with Content-Type: application/json"));
    }
    serde_json::from_slice(body_bytes(req))
        .map_err(|e| ApiError::bad_request("invalid_json", format!("the body is not valid: {e}")))
}

pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// A cookie's value. API Gateway v2 passes cookies joined into one `Cookie` header.
pub fn cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The token of an `Authorization: Bearer` header.
pub fn bearer_token(req: &Request) -> Option<&str> {
    let value = header(req, header::AUTHORIZATION.as_str())?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// HTTP Basic credentials (RFC 6749 §2.3.1 form-encodes each part before base64).
pub fn basic_credentials(req: &Request) -> Option<(String, String)> {
    let value = header(req, header::AUTHORIZATION.as_str())?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, pass) = decoded.split_once(':')?;
    let unescape =
        |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Some((unescape(user)?, unescape(pass)?))
}

/// The client's address: API Gateway's source IP under Lambda, the TCP peer on the local
/// server. Forwarded-for headers are not trusted: anyone can send them.
pub fn source_ip(req: &Request) -> Option<std::net::IpAddr> {
    use lambda_http::request::RequestContext;
    if let Some(RequestContext::ApiGatewayV2(context)) = req.extensions().get::<RequestContext>() {
        return context.http.source_ip.as_deref().and_then(|ip| ip.parse().ok());
    }
    req.extensions().get::<PeerAddr>().map(|peer| peer.0.ip())
}

/// The TCP peer of a connection the local server accepted, set as a request extension.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// The request path without a trailing slash (except for `/` itself).
pub fn path(req: &Request) -> &str {
    let path = req.uri().path();
    if path.len() > 1 { path.trim_end_matches('/') } else { path }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_read_as_absent() {
        let p = Params::parse("a=1&a=2&b=x%20y");
        assert_eq!(p.get("a"), None);
        assert!(p.is_repeated("a"));
        assert_eq!(p.get("b"), Some("x y"));
    }

    #[test]
    fn cookies_and_credentials() {
        let req = axum::http::Request::builder()
            .header("cookie", "a=1; gatehouse_session=abc")
            .header("authorization", "Basic dXNlciUzQTE6cGFzcw==")
            .body(bytes::Bytes::new())
            .unwrap();
        assert_eq!(cookie(&req, "gatehouse_session"), Some("abc"));
        assert_eq!(basic_credentials(&req), Some(("user:1".to_owned(), "pass".to_owned())));
    }
}

/// A `return_to` that stays on this site: an absolute path, not `//host` or `/\host`.
pub fn same_origin_path(value: &str) -> Option<&str> {
    let ok = value.starts_with('/')
        && !value.starts_with("//")
        && !value.starts_with("/\\")
        && value.len() <= 2048
        && !value.chars().any(|c| c.is_control() || c == '\\');
    ok.then_some(value)
}

#[cfg(test)]
mod return_to_tests {
    #[test]
    fn only_local_paths_pass() {
        use super::same_origin_path as ok;
        assert_eq!(ok("/authorize?client_id=1"), Some("/authorize?client_id=1"));
        for bad in ["https://evil.example/", "//evil.example", "/\\evil.example", "evil", "/a\r\nb", ""] {
            assert_eq!(ok(bad), None, "{bad:?}");
        }
    }
}

/// Form-urlencodes one value for a query string.
pub fn url_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
