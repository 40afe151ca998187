//! DynamoDB and Secrets Manager behind a proxy that fails chosen operations: admin actions on
//! credentials leave no half-state (a failed regeneration keeps the old secret in force and
//! can simply be retried; a deletion whose credential cannot be deleted still deletes, and the
//! sweep removes the credential left behind); a token response whose write fails stores
//! nothing, so the refresh token or code it would have spent still works. The sweep, on both
//! backends, removes only credentials without a registration.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use gatehouse::clock::SystemClock;
use gatehouse::config::Backend;
use gatehouse::registration::ClientId;
use gatehouse::services::secrets::{ORPHAN_GRACE, SweepMoment, sweep_orphan_client_secrets};
use gatehouse_tests::{
    Client, TestServer, add_member, both_backends, code_flow_tokens, fresh_aws, register_app, start_on,
};
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

type Failing = Arc<Mutex<HashSet<&'static str>>>;

/// Forwards to moto, except operations (by `X-Amz-Target`) listed in `failing`, which get
/// AWS's "internal server error" answer.
async fn faulty_proxy(upstream: String, failing: Failing) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let http = reqwest::Client::new();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (upstream, failing, http) = (upstream.clone(), failing.clone(), http.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req| forward(req, upstream.clone(), failing.clone(), http.clone()));
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    format!("http://{addr}")
}

async fn forward(
    req: hyper::Request<Incoming>,
    upstream: String,
    failing: Failing,
    http: reqwest::Client,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let target = req.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    if failing.lock().unwrap().contains(target.as_str()) {
        let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected"}"#;
        let response = hyper::Response::builder()
            .status(500)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amzn-errortype", "InternalServerError")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        return Ok(response);
    }
    let (parts, body) = req.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let url = format!("{upstream}{}", parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let mut outgoing = http.request(parts.method, url).body(body);
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = outgoing.send().await.unwrap();
    let mut response = hyper::Response::builder().status(answer.status().as_u16());
    for (name, value) in answer.headers() {
        if name != "transfer-encoding" && name != "content-length" {
            response = response.header(name, value);
        }
    }
    Ok(response.body(Full::new(answer.bytes().await.unwrap())).unwrap())
}

/// DynamoDB's writes; Secrets Manager keeps working, as when only DynamoDB is sick.
const WRITES: [&str; 3] =
    ["DynamoDB_20120810.PutItem", "DynamoDB_20120810.UpdateItem", "DynamoDB_20120810.TransactWriteItems"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_actions_leave_no_half_state_when_writes_fail() {
    let mut settings = fresh_aws().await;
    let failing: Failing = Arc::default();
    settings.endpoint_url = Some(faulty_proxy(settings.endpoint_url.clone().unwrap(), failing.clone()).await);
    let server = start_on(Backend::Aws(settings), Arc::new(SystemClock)).await;
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Faulty", &[], "array").await;
    let path = format!("/admin/api/registrations/{}", app.client_id);

    // The record's write fails: the answer is an error, and the old secret is still the one.
    failing.lock().unwrap().extend(WRITES);
    let (status, body) = admin.post(&format!("{path}/regenerate-secret"), &serde_json::json!({})).await;
    assert!(status >= 500, "{status} {body}");
    failing.lock().unwrap().clear();
    let (_, shown) = admin.get(&path).await;
    assert_eq!(shown["client_secret"], app.client_secret.as_str(), "the old secret is still in force");

    // Retrying succeeds.
    let (status, regenerated) = admin.post(&format!("{path}/regenerate-secret"), &serde_json::json!({})).await;
    assert_eq!(status, 200, "{regenerated}");
    assert_ne!(regenerated["client_secret"], app.client_secret.as_str());
    let (_, shown) = admin.get(&path).await;
    assert_eq!(shown["client_secret"], regenerated["client_secret"], "what was shown is what is stored");

    // The credential cannot be deleted: the registration still goes, and says so.
    failing.lock().unwrap().insert("secretsmanager.DeleteSecret");
    let (status, body) = admin.delete(&path).await;
    assert_eq!(status, 204, "{body}");
    failing.lock().unwrap().clear();
    assert_eq!(admin.get(&path).await.0, 404);

    // The credential left behind is swept once it is older than the grace period.
    let stores = &server.state.stores;
    let id = ClientId::parse(&app.client_id).unwrap();
    assert!(stores.client_secrets(id).await.unwrap().is_some(), "left behind");
    let now = server.state.now();
    assert_eq!(sweep_orphan_client_secrets(stores, now, SweepMoment::Running).await.unwrap(), 0, "too young");
    let later = now + ORPHAN_GRACE + time::Duration::seconds(1);
    assert_eq!(sweep_orphan_client_secrets(stores, later, SweepMoment::Running).await.unwrap(), 1);
    assert!(stores.client_secrets(id).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_whose_write_fails_spends_nothing() {
    let mut settings = fresh_aws().await;
    let failing: Failing = Arc::default();
    settings.endpoint_url = Some(faulty_proxy(settings.endpoint_url.clone().unwrap(), failing.clone()).await);
    let server = start_on(Backend::Aws(settings), Arc::new(SystemClock)).await;
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Rotating", &[], "array").await;
    add_member(&admin, "rotating", "A").await;
    let (member, tokens) = code_flow_tokens(&server, &app, "rotating").await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];

    // The new tokens' write fails: an error, and the old refresh token is not spent.
    failing.lock().unwrap().extend(WRITES);
    let (status, body) = member.token(&app, &form).await;
    assert!(status >= 500, "{status} {body}");
    failing.lock().unwrap().clear();

    let (status, renewed) = member.token(&app, &form).await;
    assert_eq!(status, 200, "the refresh token still works: {renewed}");
    let (status, replayed) = member.token(&app, &form).await;
    assert_eq!((status, replayed["error"].as_str()), (400, Some("invalid_grant")), "and rotates once it did");
}

both_backends!(the_sweep_removes_only_credentials_without_a_registration, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let kept = register_app(&admin, "Kept", &[], "array").await;
    let lost = register_app(&admin, "Lost", &[], "array").await;
    let stores = &server.state.stores;
    let (kept, lost) = (ClientId::parse(&kept.client_id).unwrap(), ClientId::parse(&lost.client_id).unwrap());
    // A crash between the credential and the record leaves this state.
    assert!(stores.registrations.delete(lost).await.unwrap());

    let later = server.state.now() + ORPHAN_GRACE + time::Duration::seconds(1);
    assert_eq!(sweep_orphan_client_secrets(stores, later, SweepMoment::StartUp).await.unwrap(), 1);
    assert!(stores.client_secrets(lost).await.unwrap().is_none(), "the orphan went");
    assert!(stores.client_secrets(kept).await.unwrap().is_some(), "the registered app's stayed");
    assert_eq!(sweep_orphan_client_secrets(stores, later, SweepMoment::StartUp).await.unwrap(), 0);
});
