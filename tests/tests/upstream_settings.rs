//! The relying-party side that needs no provider: settings validation, the email-first
//! screen, password rules, the forgot forms with the outbox, and the OIDC log API.

use gatehouse_tests::mailbox::sent_to;
use gatehouse_tests::*;
use serde_json::{Value, json};

fn entra(mode: &str) -> Value {
    json!({
        "mode": mode, "provider": "entra", "name": "ASI OpenID Connect", "client_id": "entra-client",
        "tenant": "ae2d240f-abc1", "authority_url": "http://127.0.0.1:9/ae2d240f-abc1/v2.0",
        "claim_type": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role", "claim_value": "iMIS_OIDC_Access",
        "require_for": "staff", "login_hint": true,
    })
}

both_backends!(settings_are_validated_and_an_unreachable_provider_is_refused, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let (status, settings) = admin.get("/admin/api/oidc-settings").await;
    assert_eq!((status, settings["mode"].as_str()), (200, Some("disabled")));
    for (change, field) in [
        (json!({"mode": "enabled"}), "confirm"),
        (json!({"provider": null}), "provider"),
        (json!({"tenant": ""}), "tenant"),
        (json!({"claim_type": "https://schemas.microsoft.com/ws/2008/06/identity/claims/role"}), "claim_type"),
        (json!({"claim_value": ""}), "claim_value"),
        (json!({"mfa": "optional"}), "mfa"),
        (json!({}), "authority_url"),
    ] {
        let mut body = entra("test");
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, error) = admin.put("/admin/api/oidc-settings", &body).await;
        assert_eq!((status, error["field"].as_str()), (422, Some(field)), "{change}: {error}");
    }
    let (_, after) = admin.get("/admin/api/oidc-settings").await;
    assert_eq!(after["mode"], "disabled", "nothing was saved");
    let (_, logs) = admin.get("/admin/api/logs?level=error&contains=discovery").await;
    assert!(!logs["entries"].as_array().unwrap().is_empty(), "the failed discovery is in the OIDC log: {logs}");
    assert_eq!(admin.get("/admin/api/logs?level=loud").await.0, 422);
    assert_eq!(admin.get("/admin/api/logs?from=yesterday").await.0, 422);
    let (status, error) = admin.get(&format!("/admin/api/logs?before={}", "9".repeat(2000))).await;
    assert_eq!((status, error["field"].as_str()), (422, Some("before")), "a cursor the log never wrote: {error}");
    let (status, error) = admin.get("/admin/api/logs?from=2026-11-23&to=2026-11-22").await;
    assert_eq!((status, error["field"].as_str()), (422, Some("to")), "a period that ends before it starts: {error}");
    assert_eq!(admin.get("/admin/api/logs?from=2026-11-23&to=2026-11-23").await.0, 200, "one day");
    let (status, _) = admin.put("/admin/api/oidc-settings", &json!({"mode": "disabled", "mfa": "always"})).await;
    assert_eq!(status, 400, "an MFA level that does not exist");
    let (status, saved) = admin.put("/admin/api/oidc-settings", &json!({"mode": "disabled", "mfa": "optional"})).await;
    assert_eq!((status, saved["mfa"].as_str()), (200, Some("optional")), "MFA can be enabled while OIDC is off");
});

both_backends!(forgot_password_mails_a_single_use_reset_link, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    add_member(&admin, "bsmith", "A").await;
    let client = Client::new(&server);
    let page = client.get_raw("/signin/forgot-password").await.text().await.unwrap();
    let csrf = form_value(&page, "csrf_token").unwrap();
    let sent = client
        .http
        .post(client.url("/signin/forgot-password"))
        .form(&[("csrf_token", csrf.as_str()), ("email", "bsmith@example.org")])
        .send()
        .await
        .unwrap();
    assert!(sent.text().await.unwrap().contains("If an account matches"));
    let unknown = client
        .http
        .post(client.url("/signin/forgot-password"))
        .form(&[("csrf_token", csrf.as_str()), ("email", "ghost@example.org")])
        .send()
        .await
        .unwrap();
    assert!(unknown.text().await.unwrap().contains("If an account matches"), "the same answer for unknown accounts");
    let (_, outbox) = admin.get("/admin/api/outbox").await;
    let mails = outbox["mails"].as_array().unwrap();
    assert_eq!(mails.len(), 1, "{outbox}");
    assert_eq!(mails[0]["to"], "bsmith@example.org");
    let received = sent_to(&server, "bsmith@example.org").await;
    let link = received[0].reset_link().unwrap();
    let reset_page = client.get_raw(&link[link.find("/signin/reset").unwrap()..]).await.text().await.unwrap();
    let token = form_value(&reset_page, "token").unwrap();
    let csrf = form_value(&reset_page, "csrf_token").unwrap();
    let reset = |password: &'static str| {
        let (client, token, csrf) = (&client, token.clone(), csrf.clone());
        async move {
            client
                .http
                .post(client.url("/signin/reset"))
                .form(&[("csrf_token", csrf.as_str()), ("token", token.as_str()), ("password", password)])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(reset("short").await, 422, "a weak password is refused and the link still works");
    assert_eq!(reset("brand-new-password-1").await, 200);
    assert_eq!(reset("another-password-22").await, 400, "the link works once");
    assert_eq!(Client::new(&server).sign_in("bsmith", "brand-new-password-1").await.status(), 303);
    let (_, outbox) = admin.get("/admin/api/outbox").await;
    assert_eq!(outbox["mails"].as_array().unwrap().len(), 1, "no mail for unknown accounts");

    let page = client.get_raw("/signin/forgot-username").await.text().await.unwrap();
    let csrf = form_value(&page, "csrf_token").unwrap();
    client
        .http
        .post(client.url("/signin/forgot-username"))
        .form(&[("csrf_token", csrf.as_str()), ("email", "BSMITH@example.org")])
        .send()
        .await
        .unwrap();
    let received = sent_to(&server, "bsmith@example.org").await;
    assert!(received.last().unwrap().content.contains("Your username at Example Association is"), "{received:?}");
    assert!(received.last().unwrap().content.contains("bsmith"), "the username is mailed");
});
