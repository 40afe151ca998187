//! Mail that really leaves: a forgot-password request sends exactly one message (through the
//! SMTP sink on the embedded backend, through SES on moto on the AWS backend) whose link works
//! once, for 30 minutes, only while it is the newest and the password unchanged; the delivery
//! log never holds a body or link; a failed send changes nothing the person sees; the forms are
//! rate limited.

use std::sync::Arc;

use gatehouse::clock::ManualClock;
use gatehouse_tests::mailbox::{Received, sent_to};
use gatehouse_tests::{Client, Kind, TestServer, form_value, fresh_backend, start_fresh, start_with};
use serde_json::json;
use time::{Duration, OffsetDateTime};

const EMAIL: &str = "bsmith@example.org";

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(OffsetDateTime::now_utc()))
}

async fn server(kind: Kind, clock: Arc<ManualClock>) -> TestServer {
    start_fresh(kind, clock, |_| {}).await
}

async fn add_bob(server: &TestServer) -> Client {
    let admin = Client::admin(server).await;
    let bob = json!({
        "username": "bsmith", "email": EMAIL, "first_name": "Bob", "last_name": "Smith",
        "is_staff": false, "is_sysadmin": false, "password": "bob-password-123",
    });
    let (status, created) = admin.post("/admin/api/contacts", &bob).await;
    assert_eq!(status, 201, "{created}");
    admin
}

/// Posts a forgot form; returns the status and the page.
async fn forgot(server: &TestServer, which: &str, typed: &str) -> (u16, String) {
    let client = Client::new(server);
    let page = client.get_raw(&format!("/signin/forgot-{which}")).await.text().await.unwrap();
    let csrf = form_value(&page, "csrf_token").unwrap();
    let response = client
        .http
        .post(client.url(&format!("/signin/forgot-{which}")))
        .form(&[("csrf_token", csrf.as_str()), ("email", typed)])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// Opens a reset link and sets `password`; returns the status of the POST.
async fn use_link(server: &TestServer, link: &str, password: &str) -> u16 {
    let client = Client::new(server);
    let path = &link[link.find("/signin/reset").unwrap()..];
    let page = client.get_raw(path).await.text().await.unwrap();
    let (token, csrf) = (form_value(&page, "token").unwrap(), form_value(&page, "csrf_token").unwrap());
    let response = client
        .http
        .post(client.url("/signin/reset"))
        .form(&[("csrf_token", csrf.as_str()), ("token", token.as_str()), ("password", password)])
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

async fn mails(server: &TestServer, count: usize) -> Vec<Received> {
    // SES and the sink both answer before Gatehouse's page does: nothing to wait for.
    let received = sent_to(server, EMAIL).await;
    assert_eq!(received.len(), count, "{received:?}");
    received
}

async fn reset_links_work_once_for_30_minutes_and_only_the_newest(kind: Kind) {
    let clock = clock();
    let server = server(kind, clock.clone()).await;
    let admin = add_bob(&server).await;

    let (status, page) = forgot(&server, "password", "bsmith").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("If an account matches"), "{page}");
    let (_, unknown) = forgot(&server, "password", "ghost@example.org").await;
    assert!(unknown.contains("If an account matches"), "the same answer for unknown accounts");
    let first = mails(&server, 1).await.remove(0);
    assert!(first.subject.contains("Reset your Example Association password"), "{first:?}");
    let link = first.reset_link().expect("the message has a reset link");
    assert!(link.starts_with(&server.url), "{link}");

    assert_eq!(use_link(&server, &link, "brand-new-password-1").await, 200);
    assert_eq!(use_link(&server, &link, "another-password-22").await, 400, "the link works once");
    assert_eq!(Client::new(&server).sign_in("bsmith", "brand-new-password-1").await.status(), 303);

    // A newer link replaces the older one.
    forgot(&server, "password", EMAIL).await;
    forgot(&server, "password", EMAIL).await;
    let received = mails(&server, 3).await;
    let (older, newer) = (received[1].reset_link().unwrap(), received[2].reset_link().unwrap());
    assert_eq!(use_link(&server, &older, "older-link-password-1").await, 400, "replaced by a newer one");
    // A password change ends the newest one too.
    let (_, contacts) = admin.get("/admin/api/contacts?search=bsmith").await;
    let id = contacts["contacts"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) =
        admin.post(&format!("/admin/api/contacts/{id}/password"), &json!({"password": "set-by-admin-123"})).await;
    assert_eq!(status, 204);
    assert_eq!(use_link(&server, &newer, "newer-link-password-1").await, 400, "the password changed since");

    // Thirty minutes, then the link is dead.
    forgot(&server, "password", EMAIL).await;
    let latest = mails(&server, 4).await[3].reset_link().unwrap();
    clock.advance(Duration::minutes(31));
    assert_eq!(use_link(&server, &latest, "too-late-password-1").await, 400, "expired");
    assert_eq!(Client::new(&server).sign_in("bsmith", "set-by-admin-123").await.status(), 303);

    // The delivery log: to, subject, status, message id; never a body or a link.
    let (_, outbox) = admin.get("/admin/api/outbox").await;
    let entries = outbox["mails"].as_array().unwrap();
    assert_eq!(entries.len(), 4, "{outbox}");
    for entry in entries {
        assert_eq!((entry["to"].as_str(), entry["status"].as_str()), (Some(EMAIL), Some("sent")), "{entry}");
        assert!(entry["provider_message_id"].as_str().is_some_and(|id| !id.is_empty()), "{entry}");
        assert_eq!(entry["transport"], if kind == Kind::Aws { "ses" } else { "smtp" });
    }
    let text = outbox.to_string();
    assert!(!text.contains("token") && !text.contains("/signin/reset") && !text.contains("body"), "{text}");
    // A page at a time, newest first, each mail once.
    let mut paged = Vec::new();
    let mut path = "/admin/api/outbox?limit=3".to_owned();
    loop {
        let (_, page) = admin.get(&path).await;
        paged.extend(page["mails"].as_array().unwrap().iter().map(|m| m["id"].clone()));
        let Some(before) = page["next_before"].as_str() else { break };
        let before: String = url::form_urlencoded::byte_serialize(before.as_bytes()).collect();
        path = format!("/admin/api/outbox?limit=3&before={before}");
    }
    assert_eq!(paged, entries.iter().map(|m| m["id"].clone()).collect::<Vec<_>>());
    let (status, error) = admin.get("/admin/api/outbox?before=nonsense").await;
    assert_eq!((status, error["field"].as_str()), (422, Some("before")), "{error}");
    let page = admin.get_raw("/admin/outbox").await.text().await.unwrap();
    assert!(page.contains("Reset your Example Association password") && !page.contains("/signin/reset"));

    // Forgot username: the username, in text and HTML.
    forgot(&server, "username", "BSMITH@example.org").await;
    let username = mails(&server, 5).await.remove(4);
    assert!(username.subject.contains("username") && username.content.contains("bsmith"), "{username:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_links_embedded() {
    reset_links_work_once_for_30_minutes_and_only_the_newest(Kind::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_links_aws() {
    reset_links_work_once_for_30_minutes_and_only_the_newest(Kind::Aws).await;
}

async fn a_failed_send_changes_nothing_the_person_sees(kind: Kind) {
    // Embedded: a relay that is not there. AWS: a sender SES never verified.
    let backend = fresh_backend(kind).await;
    let aws = kind == Kind::Aws;
    let server = start_with(backend, clock(), |config| {
        if aws {
            config.mail.from = Some("unverified-sender@example.org".into());
        } else {
            config.mail.smtp_url = Some(gatehouse::secret::SecretString::new("smtp://127.0.0.1:9"));
            config.mail.smtp_ca_file = None;
        }
    })
    .await;
    let admin = add_bob(&server).await;
    let (status, page) = forgot(&server, "password", EMAIL).await;
    assert_eq!(status, 200);
    assert!(page.contains("If an account matches"), "the same neutral page");
    let (_, outbox) = admin.get("/admin/api/outbox").await;
    let entry = &outbox["mails"][0];
    assert_eq!((entry["status"].as_str(), entry["attempts"].as_u64()), (Some("failed"), Some(3)), "{outbox}");
    assert!(entry["error"].as_str().is_some_and(|e| !e.is_empty() && !e.contains("token")), "{entry}");
    assert_eq!(sent_to(&server, EMAIL).await.len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_send_embedded() {
    a_failed_send_changes_nothing_the_person_sees(Kind::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_send_aws() {
    a_failed_send_changes_nothing_the_person_sees(Kind::Aws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forgot_forms_are_rate_limited_per_address() {
    let server = server(Kind::Embedded, clock()).await;
    add_bob(&server).await;
    for _ in 0..5 {
        assert_eq!(forgot(&server, "username", EMAIL).await.0, 200);
    }
    let (status, page) = forgot(&server, "username", EMAIL).await;
    assert_eq!(status, 429, "{page}");
    assert!(page.contains("Too many requests"));
    assert_eq!(sent_to(&server, EMAIL).await.len(), 5, "nothing sent past the limit");
    assert_eq!(forgot(&server, "username", "someone-else@example.org").await.0, 200, "other addresses go on");
}
