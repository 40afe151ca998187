//! Outbound HTTP(S): the upstream provider's discovery document, keys and token endpoint, and
//! apps' back-channel logout URLs. It rides on the hyper client that the AWS SDKs link anyway:
//! one HTTP stack and one TLS library per package, and the system's trust store read once per
//! process. Proxies come from `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY`, as with other tools.
//!
//! Redirects are never followed: a provider or app could otherwise send our requests anywhere
//! (SSRF). Each exchange, the answer's body included, is bounded in time, and the body in size.

use std::sync::OnceLock;
use std::time::Duration;

use aws_smithy_http_client::Connector;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_runtime_api::client::http::HttpConnector as _;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use openidconnect::http;

/// The most an answer may hold. Discovery documents and key sets are a few kilobytes; a
/// hostile or broken server must not make us buffer more.
pub const MAX_BODY: usize = 1 << 20;

/// Why an exchange failed, with the causes (for the OIDC log; never shown to people as is).
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("no complete answer within {} s", .0.as_secs_f32())]
    TimedOut(Duration),
    #[error("the request could not be made: {0}")]
    Invalid(String),
    #[error("{0}")]
    Failed(String),
    #[error("the answer is larger than {MAX_BODY} bytes")]
    TooLarge,
}

fn connector() -> &'static Connector {
    static CONNECTOR: OnceLock<Connector> = OnceLock::new();
    CONNECTOR.get_or_init(|| {
        Connector::builder().proxy_config(ProxyConfig::from_env()).tls_provider(crate::aws_sdk::tls_provider()).build()
    })
}

/// Sends `request` and reads its whole answer, all within `timeout`. Any status is an answer.
pub async fn send(request: http::Request<Vec<u8>>, timeout: Duration) -> Result<http::Response<Vec<u8>>, HttpError> {
    tokio::time::timeout(timeout, exchange(request)).await.map_err(|_| HttpError::TimedOut(timeout))?
}

async fn exchange(request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, HttpError> {
    let request = HttpRequest::try_from(request.map(SdkBody::from)).map_err(|e| HttpError::Invalid(error_chain(&e)))?;
    let response = connector().call(request).await.map_err(|e| HttpError::Failed(error_chain(&e)))?;
    let (parts, body) = response.try_into_http1x().map_err(|e| HttpError::Failed(error_chain(&e)))?.into_parts();
    let body =
        Limited::new(body, MAX_BODY).collect().await.map_err(|e| match e.downcast_ref::<LengthLimitError>() {
            Some(_) => HttpError::TooLarge,
            None => HttpError::Failed(error_chain(e.as_ref())),
        })?;
    Ok(http::Response::from_parts(parts, body.to_bytes().to_vec()))
}

/// An error with its causes: the connector's own message omits them ("io error").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpListener;

    use super::*;

    /// A server that answers every connection with `answer` (after `delay`), and the URL to it.
    async fn server(answer: Vec<u8>, delay: Duration) -> String {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let answer = answer.clone();
                tokio::spawn(async move {
                    let mut request = [0; 4096];
                    let _ = socket.read(&mut request).await;
                    tokio::time::sleep(delay).await;
                    let _ = socket.write_all(&answer).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        format!("http://{address}/")
    }

    fn get(url: &str) -> http::Request<Vec<u8>> {
        http::Request::get(url).body(Vec::new()).unwrap()
    }

    #[tokio::test]
    async fn an_answer_comes_back_whole_with_its_status() {
        let url = server(b"HTTP/1.1 404 Not Found\r\ncontent-length: 5\r\n\r\nnope!".to_vec(), Duration::ZERO).await;
        let response = send(get(&url), Duration::from_secs(5)).await.unwrap();
        assert_eq!(response.status(), 404);
        assert_eq!(response.body(), b"nope!");
    }

    #[tokio::test]
    async fn a_redirect_is_returned_not_followed() {
        let answer = b"HTTP/1.1 302 Found\r\nlocation: http://169.254.169.254/\r\ncontent-length: 0\r\n\r\n";
        let url = server(answer.to_vec(), Duration::ZERO).await;
        let response = send(get(&url), Duration::from_secs(5)).await.unwrap();
        assert_eq!(response.status(), 302);
    }

    #[tokio::test]
    async fn a_slow_server_times_out() {
        let url = server(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".to_vec(), Duration::from_secs(5)).await;
        let error = send(get(&url), Duration::from_millis(200)).await.unwrap_err();
        assert!(matches!(error, HttpError::TimedOut(_)), "{error}");
    }

    #[tokio::test]
    async fn an_oversized_answer_is_refused() {
        let mut answer = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", MAX_BODY + 1).into_bytes();
        answer.resize(answer.len() + MAX_BODY + 1, b'x');
        let url = server(answer, Duration::ZERO).await;
        let error = send(get(&url), Duration::from_secs(5)).await.unwrap_err();
        assert!(matches!(error, HttpError::TooLarge), "{error}");
    }

    #[tokio::test]
    async fn a_closed_port_fails_with_its_cause() {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        drop(listener);
        let error = send(get(&url), Duration::from_secs(5)).await.unwrap_err();
        assert!(matches!(error, HttpError::Failed(_)), "{error}");
        assert!(error.to_string().to_lowercase().contains("refused"), "{error}");
    }
}
