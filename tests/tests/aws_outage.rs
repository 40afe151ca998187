//! AWS endpoints that accept connections and never answer: every request still gets an answer
//! within the SDK's bounds — 503 and a page for people, `temporarily_unavailable` for the
//! protocol and the admin API — instead of hanging until Lambda's own timeout.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gatehouse::app::AppState;
use gatehouse::clock::SystemClock;
use gatehouse::config::Backend;
use gatehouse_tests::{config_for, fresh_aws};
use tokio::net::TcpListener;

/// Accepts connections and holds them open, reading nothing and answering nothing.
async fn hanging_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    format!("http://{addr}")
}

/// The SDK's bound (6 s per operation) plus room for a request that makes two calls.
const ANSWER_WITHIN: Duration = Duration::from_secs(15);

#[tokio::test]
async fn a_hung_aws_endpoint_gives_clear_503s_within_seconds() {
    let mut settings = fresh_aws().await;
    settings.endpoint_url = Some(hanging_endpoint().await);
    let config = config_for(Backend::Aws(settings));
    let listener = gatehouse_server::bind(config.listen).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::new(AppState::new(config, Arc::new(SystemClock)).await.unwrap());
    tokio::spawn(gatehouse_server::serve(state, listener));
    let http = reqwest::Client::new();

    let started = Instant::now();
    let (jwks, signin, token, admin) = tokio::join!(
        http.get(format!("{base}/jwks")).send(),
        http.get(format!("{base}/signin")).send(),
        http.post(format!("{base}/token"))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "gatehouse-admin"),
                ("username", "a"),
                ("password", "b"),
                ("scope", "admin")
            ])
            .send(),
        http.get(format!("{base}/admin/api/registrations")).bearer_auth("some-token").send(),
    );
    assert!(started.elapsed() < ANSWER_WITHIN, "answers took {:?}", started.elapsed());

    let jwks = jwks.unwrap();
    assert_eq!(jwks.status(), 503);
    assert!(jwks.text().await.unwrap().contains("temporarily_unavailable"));

    let signin = signin.unwrap();
    assert_eq!(signin.status(), 503);
    assert!(signin.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(signin.text().await.unwrap().contains("Temporarily unavailable"));

    let token = token.unwrap();
    let status = token.status();
    let body: serde_json::Value = token.json().await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable");

    let admin = admin.unwrap();
    assert_eq!(admin.status(), 503);
    let body: serde_json::Value = admin.json().await.unwrap();
    assert_eq!(body["code"], "temporarily_unavailable");
}
