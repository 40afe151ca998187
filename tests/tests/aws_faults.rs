//! DynamoDB and Secrets Manager behind a proxy that fails chosen operations: admin actions on
//! credentials leave no half-state (a failed regeneration keeps the old secret in force and
//! can simply be retried; a deletion whose credential cannot be deleted still deletes, and the
//! sweep removes the credential left behind); a token response whose write fails stores
//! nothing, so the refresh token or code it would have spent still works. The sweep, on both
//! backends, removes only credentials without a registration. Secrets Manager is read at most
//! once a minute per instance.

use std::sync::Arc;

use gatehouse::clock::{ManualClock, SystemClock};
use gatehouse::config::{AwsSettings, Backend};
use gatehouse::registration::ClientId;
use gatehouse::secret::SecretString;
use gatehouse::services::secrets::{ORPHAN_GRACE, SweepMoment, sweep_orphan_client_secrets};
use gatehouse::store::client_secret_name;
use gatehouse::store::secret_cache::{SECRET_TTL, SETTLE};
use gatehouse_tests::aws_proxy::AwsProxy;
use gatehouse_tests::{
    App, Client, TestServer, add_member, authorize_url, both_backends, code_flow_tokens, fresh_aws, location,
    register_app, start_on, url_params,
};

/// Fresh tables on moto, reached through a proxy that records calls and fails chosen ones.
async fn behind_proxy() -> (AwsSettings, AwsProxy) {
    let mut settings = fresh_aws().await;
    let proxy = AwsProxy::start(settings.endpoint_url.clone().unwrap()).await;
    settings.endpoint_url = Some(proxy.url.clone());
    (settings, proxy)
}

/// DynamoDB's writes; Secrets Manager keeps working, as when only DynamoDB is sick.
const WRITES: [&str; 3] =
    ["DynamoDB_20120810.PutItem", "DynamoDB_20120810.UpdateItem", "DynamoDB_20120810.TransactWriteItems"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_actions_leave_no_half_state_when_writes_fail() {
    let (settings, proxy) = behind_proxy().await;
    let failing = proxy.failing.clone();
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
    assert!(stores.secrets.get(&client_secret_name(id)).await.unwrap().is_some(), "left behind");
    let now = server.state.now();
    assert_eq!(sweep_orphan_client_secrets(stores, now, SweepMoment::Running).await.unwrap(), 0, "too young");
    let later = now + ORPHAN_GRACE + time::Duration::seconds(1);
    assert_eq!(sweep_orphan_client_secrets(stores, later, SweepMoment::Running).await.unwrap(), 1);
    assert!(stores.secrets.get(&client_secret_name(id)).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_whose_write_fails_spends_nothing() {
    let (settings, proxy) = behind_proxy().await;
    let failing = proxy.failing.clone();
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
    assert!(stores.secrets.get(&client_secret_name(lost)).await.unwrap().is_none(), "the orphan went");
    assert!(stores.secrets.get(&client_secret_name(kept)).await.unwrap().is_some(), "the registered app's stayed");
    assert_eq!(sweep_orphan_client_secrets(stores, later, SweepMoment::StartUp).await.unwrap(), 0);
});

const GET_SECRET: &str = "secretsmanager.GetSecretValue";

/// Secrets Manager through the real SDK, with the proxy counting its reads: a warm instance
/// reads each secret at most once a minute of its clock, a flood of wrong client secrets reads
/// nothing, and a client secret regenerated by another instance is accepted at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_instance_reads_each_secret_at_most_once_a_minute() {
    let (settings, proxy) = behind_proxy().await;
    let start = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let server = start_on(Backend::Aws(settings.clone()), clock.clone()).await;
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Cached", &[], "array").await;
    add_member(&admin, "cached", "A").await;
    let mut member = Client::new(&server);
    member.code_flow(&app, "cached").await;

    let warm = proxy.count(GET_SECRET);
    for _ in 0..3 {
        member.code_flow(&app, "cached").await;
    }
    assert_eq!(proxy.count(GET_SECRET), warm, "warm flows read no secret");
    let wrong = App { client_secret: "not-the-secret".into(), ..app.clone() };
    for _ in 0..10 {
        let (status, _) = member.token(&wrong, &[("grant_type", "authorization_code"), ("code", "x")]).await;
        assert_eq!(status, 401);
    }
    assert_eq!(proxy.count(GET_SECRET), warm, "wrong client secrets read nothing");

    clock.advance(SECRET_TTL);
    member.code_flow(&app, "cached").await;
    let minute_later = proxy.count(GET_SECRET);
    assert!(minute_later > warm, "a minute later the secrets are read again");
    member.code_flow(&app, "cached").await;
    assert_eq!(proxy.count(GET_SECRET), minute_later, "and then kept again");

    // Another instance (its own cache, the same clock) regenerates the client secret.
    let other = start_on(Backend::Aws(settings), clock.clone()).await;
    let other_admin = Client::admin(&other).await;
    let path = format!("/admin/api/registrations/{}/regenerate-secret", app.client_id);
    let (status, regenerated) = other_admin.post(&path, &serde_json::json!({})).await;
    assert_eq!(status, 200, "{regenerated}");
    let rotated = App { client_secret: regenerated["client_secret"].as_str().unwrap().to_owned(), ..app.clone() };
    let (status, _) = member.token(&app, &[("grant_type", "authorization_code"), ("code", "x")]).await;
    assert_eq!(status, 401, "the old secret is refused at once");
    let answer = member.authorize(&authorize_url(&rotated, &[]), "cached").await;
    let code = url_params(&location(&answer), false)["code"].clone();
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", &rotated.redirect_uri)];
    let (status, tokens) = member.token(&rotated, &form).await;
    assert_eq!(status, 200, "the new secret is accepted at once: {tokens}");

    // A second change within the same second (the record's stamp unchanged): this instance may
    // have read between the record's write and the credential's, so it reads again once the
    // stamp is SETTLE old. Client authentication passing shows as 400 (a bad code), not 401.
    let stores = &other.state.stores;
    let registration = stores.registrations.get(ClientId::parse(&app.client_id).unwrap()).await.unwrap().unwrap();
    let mut credentials = stores.client_secrets(&registration).await.unwrap().unwrap();
    credentials.client_secret = SecretString::new("changed-again-in-the-same-second");
    stores.put_client_secrets(registration.client_id, &credentials).await.unwrap();
    let again = App { client_secret: "changed-again-in-the-same-second".into(), ..app.clone() };
    let bad_code = [("grant_type", "authorization_code"), ("code", "x")];
    assert_eq!(member.token(&again, &bad_code).await.0, 401, "still the read made as of this stamp");
    clock.advance(SETTLE);
    assert_eq!(member.token(&again, &bad_code).await.0, 400, "read again once the stamp has settled");
}
