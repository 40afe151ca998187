//! Multi-factor authentication on both backends: a member sets up an authenticator app on their
//! account page (QR code and key, confirmed with a first code), then signs in with password and
//! code; a code works once, a recovery code once; the password grant is refused; turning it off
//! needs a current code. Where MFA is required, staff set it up at their next sign-in; an
//! administrator's reset (logged) sends them through it again. OIDC and MFA exclude each other
//! through the admin API. The codes are computed here from the key the page prints, as an
//! authenticator app would.

use std::sync::Arc;

use base64::Engine as _;
use gatehouse::clock::{Clock as _, ManualClock};
use gatehouse_tests::{
    ADMIN_PASSWORD, Client, Kind, MEMBER_PASSWORD, TestServer, add_member, hidden_inputs, location, register_app,
    start, start_fresh,
};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use totp_rs::{Builder, Secret};

/// Five seconds into a 30-second step, so a test's few seconds stay in it.
fn clock() -> Arc<ManualClock> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    Arc::new(ManualClock::new(OffsetDateTime::from_unix_timestamp(now - now % 30 + 5).unwrap()))
}

async fn server(kind: Kind, clock: Arc<ManualClock>) -> TestServer {
    start_fresh(kind, clock, |_| {}).await
}

/// The code an authenticator app shows for `key` (base32, as the page prints it) at `at`.
fn code_at(key: &str, at: OffsetDateTime) -> String {
    let secret = Secret::try_from_base32(key.replace(' ', "")).unwrap();
    let totp = Builder::new().with_secret(secret).build().unwrap();
    totp.generate(u64::try_from(at.unix_timestamp()).unwrap()).to_string()
}

/// Another six digits than `code`.
fn not(code: &str) -> String {
    format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000)
}

fn key_on(page: &str) -> String {
    let start = page.find("id=\"totp-secret\">").expect("the set-up page prints the key") + 17;
    page[start..start + page[start..].find('<').unwrap()].replace(' ', "")
}

fn recovery_codes_on(page: &str) -> Vec<String> {
    let list = &page[page.find("id=\"recovery-codes\"").expect("recovery codes are shown")..];
    let list = &list[..list.find("</ul>").unwrap()];
    list.split("<code>").skip(1).map(|c| c[..c.find('<').unwrap()].to_owned()).collect()
}

async fn set_mfa(admin: &Client, level: &str) {
    let (status, saved) = admin.put("/admin/api/oidc-settings", &json!({"mode": "disabled", "mfa": level})).await;
    assert_eq!((status, saved["mfa"].as_str()), (200, Some(level)), "{saved}");
}

/// The password step in a fresh browser: the response's status and page.
async fn password_step(server: &TestServer, username: &str, password: &str) -> (Client, u16, String) {
    let mut client = Client::new(server);
    let response = client.sign_in(username, password).await;
    let status = response.status().as_u16();
    (client, status, response.text().await.unwrap())
}

/// Posts `code` to the step `page` shows.
async fn submit_code(client: &Client, page: &str, code: &str) -> reqwest::Response {
    let mut form = hidden_inputs(page);
    assert!(form.iter().any(|(name, _)| name == "second_factor"), "a second step: {page}");
    form.push(("code".into(), code.into()));
    client.http.post(client.url("/signin")).form(&form).send().await.unwrap()
}

async fn signed_in(client: &Client) -> bool {
    client.get_raw("/account").await.status() == 200
}

fn id_token_claims(tokens: &Value) -> Value {
    let payload = tokens["id_token"].as_str().unwrap().split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Sets up the app on `/account/mfa` for a signed-in member; returns the key and recovery codes.
async fn enrol_on_account_page(member: &Client, now: OffsetDateTime) -> (String, Vec<String>) {
    let page = member.get_raw("/account/mfa").await.text().await.unwrap();
    assert!(page.contains("src=\"data:image/svg+xml;base64,"), "a QR code rendered as SVG");
    let key = key_on(&page);
    let post = |code: String| {
        let mut form = hidden_inputs(&page);
        form.push(("code".into(), code));
        member.http.post(member.url("/account/mfa")).form(&form).send()
    };
    let wrong = post(not(&code_at(&key, now))).await.unwrap();
    assert_eq!(wrong.status(), 422, "a wrong first code enrols nothing");
    let done = post(code_at(&key, now)).await.unwrap();
    assert_eq!(done.status(), 200);
    let codes = recovery_codes_on(&done.text().await.unwrap());
    assert_eq!(codes.len(), 10);
    (key, codes)
}

async fn member_enrols_and_signs_in_with_each_code_once(kind: Kind) {
    let clock = clock();
    let server = server(kind, clock.clone()).await;
    let admin = Client::admin(&server).await;
    set_mfa(&admin, "optional").await;
    let id = add_member(&admin, "bsmith", "A").await;
    add_member(&admin, "plain", "A").await;
    let app = register_app(&admin, "MFA App", &["password_confidential"], "array").await;

    let (mut member, status, _) = password_step(&server, "bsmith", MEMBER_PASSWORD).await;
    assert_eq!(status, 303, "optional and not set up: the password is enough");
    let account = member.get_raw("/account").await.text().await.unwrap();
    assert!(account.contains("Set up two-step verification"), "{account}");
    let (key, recovery) = enrol_on_account_page(&member, clock.now()).await;
    assert_eq!(admin.get(&format!("/admin/api/contacts/{id}")).await.1["mfa_enrolled"], true);
    let tokens = member.code_flow(&app, "bsmith").await;
    assert_eq!(id_token_claims(&tokens)["amr"], json!(["pwd"]), "that session began with the password alone");

    // The password alone no longer starts a session.
    let (browser, status, page) = password_step(&server, "bsmith", MEMBER_PASSWORD).await;
    assert_eq!(status, 200, "the second step: {page}");
    assert!(!signed_in(&browser).await, "no session before the second factor");
    let replay = submit_code(&browser, &page, &code_at(&key, clock.now())).await;
    assert_eq!(replay.status(), 401, "the code that confirmed the set-up is spent");
    let page = replay.text().await.unwrap();
    clock.advance(Duration::seconds(30));
    let code = code_at(&key, clock.now());
    let done = submit_code(&browser, &page, &code).await;
    assert_eq!((done.status().as_u16(), location(&done)), (303, "/account".to_owned()));
    assert!(signed_in(&browser).await);
    let again = submit_code(&browser, &page, &code).await;
    assert_eq!(again.status(), 400, "each step's form is used once");

    let (mut other, _, page) = password_step(&server, "bsmith", MEMBER_PASSWORD).await;
    let replayed = submit_code(&other, &page, &code).await;
    assert_eq!(replayed.status(), 401, "a code works once, in any browser");
    let page = replayed.text().await.unwrap();
    let page = submit_code(&other, &page, &recovery[0].to_uppercase()).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("You have 9 left"));
    assert!(signed_in(&other).await, "a recovery code signs in");
    let tokens = other.code_flow(&app, "bsmith").await;
    assert_eq!(id_token_claims(&tokens)["amr"], json!(["pwd", "otp", "mfa"]));
    let (_, _, page) = password_step(&server, "bsmith", MEMBER_PASSWORD).await;
    let (third, _, own_page) = password_step(&server, "bsmith", MEMBER_PASSWORD).await;
    let mut form: Vec<(String, String)> =
        hidden_inputs(&own_page).into_iter().filter(|(name, _)| name == "csrf_token").collect();
    form.extend(hidden_inputs(&page).into_iter().filter(|(name, _)| name == "second_factor"));
    form.push(("code".into(), recovery[1].clone()));
    let stolen = third.http.post(third.url("/signin")).form(&form).send().await.unwrap();
    assert_eq!(stolen.status(), 400, "the step belongs to the browser that entered the password");
    let (browser, _, page) = password_step(&server, "bsmith", MEMBER_PASSWORD).await;
    assert_eq!(submit_code(&browser, &page, &recovery[0]).await.status(), 401, "a recovery code works once");

    // The same code sent twice at once, from two browsers: exactly one signs in. (Each part
    // starts a fresh throttle window: racing attempts may leave failures counted.)
    clock.advance(Duration::minutes(16));
    let racing = code_at(&key, clock.now());
    let ((first, first_page), (second, second_page)) = tokio::join!(
        async {
            let (browser, _, page) = password_step(&server, "bsmith", MEMBER_PASSWORD).await;
            (browser, page)
        },
        async {
            let (browser, _, page) = password_step(&server, "bsmith", MEMBER_PASSWORD).await;
            (browser, page)
        },
    );
    let (a, b) = tokio::join!(submit_code(&first, &first_page, &racing), submit_code(&second, &second_page, &racing));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [303, 401], "a code works once, even when sent twice at the same moment");
    clock.advance(Duration::minutes(16));

    // One step late or early is accepted (clocks drift); two are not.
    let (browser, _, page) = password_step(&server, "bsmith", MEMBER_PASSWORD).await;
    let late = submit_code(&browser, &page, &code_at(&key, clock.now() + Duration::seconds(60))).await;
    assert_eq!(late.status(), 401, "two steps ahead");
    let page = late.text().await.unwrap();
    assert_eq!(submit_code(&browser, &page, &code_at(&key, clock.now() + Duration::seconds(30))).await.status(), 303);

    let password = [("grant_type", "password"), ("username", "bsmith"), ("password", MEMBER_PASSWORD)];
    let (status, refused) = member.token(&app, &password).await;
    assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_grant")), "{refused}");
    assert!(refused["error_description"].as_str().unwrap().contains("multi-factor"), "{refused}");
    let plain = [("grant_type", "password"), ("username", "plain"), ("password", MEMBER_PASSWORD), ("scope", "openid")];
    let (status, tokens) = member.token(&app, &plain).await;
    assert_eq!((status, id_token_claims(&tokens)["amr"].clone()), (200, json!(["pwd"])), "{tokens}");

    // Turning it off needs a current code.
    clock.advance(Duration::seconds(60));
    let account = member.get_raw("/account").await.text().await.unwrap();
    let off = |code: String| {
        let mut form = hidden_inputs(&account);
        form.retain(|(name, _)| name == "csrf_token");
        form.truncate(1);
        form.push(("code".into(), code));
        member.http.post(member.url("/account/mfa/disable")).form(&form).send()
    };
    let wrong = off(not(&code_at(&key, clock.now()))).await.unwrap();
    assert_eq!(location(&wrong), "/account?mfa=wrong-code");
    let turned_off = off(code_at(&key, clock.now())).await.unwrap();
    assert_eq!(location(&turned_off), "/account?mfa=off");
    assert_eq!(password_step(&server, "bsmith", MEMBER_PASSWORD).await.1, 303, "the password is enough again");
    let (_, log) = admin.get("/admin/api/logs?contains=Second%20factor").await;
    assert!(log.to_string().contains("Second factor turned off"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_codes_embedded() {
    member_enrols_and_signs_in_with_each_code_once(Kind::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_codes_aws() {
    member_enrols_and_signs_in_with_each_code_once(Kind::Aws).await;
}

async fn required_for_staff_with_an_admin_reset(kind: Kind) {
    let clock = clock();
    let server = server(kind, clock.clone()).await;
    let admin = Client::admin(&server).await;
    set_mfa(&admin, "required_for_staff").await;
    add_member(&admin, "member", "A").await;
    let staff =
        json!({"username": "sstaff", "email": "sstaff@example.org", "is_staff": true, "password": MEMBER_PASSWORD});
    let (status, created) = admin.post("/admin/api/contacts", &staff).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();

    assert_eq!(password_step(&server, "member", MEMBER_PASSWORD).await.1, 303, "members are not required");
    let (browser, status, page) = password_step(&server, "sstaff", MEMBER_PASSWORD).await;
    assert_eq!(status, 200);
    assert!(page.contains("Set up two-step verification") && page.contains("data:image/svg+xml;base64,"));
    assert!(!signed_in(&browser).await, "no session before the set-up is confirmed");
    let key = key_on(&page);
    let done = submit_code(&browser, &page, &code_at(&key, clock.now())).await;
    assert_eq!(done.status(), 200);
    assert_eq!(recovery_codes_on(&done.text().await.unwrap()).len(), 10);
    assert!(signed_in(&browser).await);

    // The first administrator is staff too: their password grant is refused, with a reason.
    let response = browser
        .http
        .post(browser.url("/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "gatehouse-admin"),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
            ("scope", "admin"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let refused: Value = response.json().await.unwrap();
    assert_eq!(refused["error"], "invalid_grant", "{refused}");

    // An administrator resets it on the contact's page (confirming first) ...
    let contact_page = admin.get_raw(&format!("/admin/contacts/{id}")).await.text().await.unwrap();
    assert!(contact_page.contains("10 recovery codes left"), "the contact's page says it is set up");
    let confirm = admin.get_raw(&format!("/admin/contacts/{id}/mfa/reset")).await.text().await.unwrap();
    assert!(confirm.contains("Reset two-step verification?"), "{confirm}");
    // The page's header has a sign-out form with the same token: post it once.
    let form = [hidden_inputs(&confirm).into_iter().find(|(name, _)| name == "csrf_token").unwrap()];
    let reset =
        admin.http.post(admin.url(&format!("/admin/contacts/{id}/mfa/reset"))).form(&form).send().await.unwrap();
    assert_eq!(reset.status(), 303, "{:?}", reset.text().await);
    assert_eq!(location(&reset), format!("/admin/contacts/{id}?done=mfa-reset"));
    assert_eq!(admin.get(&format!("/admin/api/contacts/{id}")).await.1["mfa_enrolled"], false);
    let (browser, _, page) = password_step(&server, "sstaff", MEMBER_PASSWORD).await;
    let second_key = key_on(&page);
    assert_ne!(second_key, key, "a reset means a new app set-up");
    assert_eq!(submit_code(&browser, &page, &code_at(&second_key, clock.now())).await.status(), 200);
    let key = second_key;

    // ... or through the API.
    let (status, reset) = admin.delete(&format!("/admin/api/contacts/{id}/mfa")).await;
    assert_eq!((status, reset["mfa_enrolled"].as_bool()), (200, Some(false)), "{reset}");
    let (_, log) = admin.get("/admin/api/logs?contains=reset%20by%20an%20administrator").await;
    assert!(log.to_string().contains("\"by\":\"admin\""), "the reset is logged with who did it: {log}");
    let (browser, status, page) = password_step(&server, "sstaff", MEMBER_PASSWORD).await;
    assert_eq!(status, 200);
    assert_ne!(key_on(&page), key, "a reset means a new app set-up");

    // Codes count against the password throttle.
    let mut page = page;
    for _ in 0..4 {
        let wrong = submit_code(&browser, &page, "000000").await;
        assert_eq!(wrong.status(), 401);
        page = wrong.text().await.unwrap();
    }
    let fifth = submit_code(&browser, &page, "000000").await;
    assert_eq!(fifth.status(), 401);
    let page = fifth.text().await.unwrap();
    let last = submit_code(&browser, &page, &code_at(&key_on(&page), clock.now())).await;
    assert_eq!(last.status(), 429, "six attempts in the window: even a right code waits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_embedded() {
    required_for_staff_with_an_admin_reset(Kind::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_aws() {
    required_for_staff_with_an_admin_reset(Kind::Aws).await;
}

/// OIDC settings whose provider is another Gatehouse (its discovery answers as Entra ID's would).
fn oidc(provider: &TestServer, mode: &str, mfa: &str) -> Value {
    json!({
        "mode": mode, "provider": "entra", "client_id": "c", "tenant": "t", "authority_url": provider.url,
        "claim_type": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role", "claim_value": "Staff",
        "mfa": mfa,
    })
}

async fn oidc_and_mfa_exclude_each_other(kind: Kind) {
    let (server, provider) = tokio::join!(start(kind), start(Kind::Embedded));
    let admin = Client::admin(&server).await;
    let (status, error) = admin.put("/admin/api/oidc-settings", &oidc(&provider, "test", "optional")).await;
    assert_eq!((status, error["field"].as_str()), (422, Some("mfa")), "both at once: {error}");

    set_mfa(&admin, "optional").await;
    let (status, error) = admin.put("/admin/api/oidc-settings", &oidc(&provider, "test", "optional")).await;
    assert_eq!((status, error["field"].as_str()), (422, Some("confirm_switch")), "{error}");
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("If OIDC is enabled or in test mode, then MFA is automatically disabled")
    );
    let mut confirmed = oidc(&provider, "test", "optional");
    confirmed["confirm_switch"] = json!(true);
    let (status, saved) = admin.put("/admin/api/oidc-settings", &confirmed).await;
    assert_eq!((status, saved["mode"].as_str(), saved["mfa"].as_str()), (200, Some("test"), Some("off")), "{saved}");

    let (status, error) =
        admin.put("/admin/api/oidc-settings", &oidc(&provider, "test", "required_for_everyone")).await;
    assert_eq!((status, error["field"].as_str()), (422, Some("confirm_switch")), "{error}");
    assert!(error["error"].as_str().unwrap().contains("If MFA is enabled, then OIDC is disabled"));
    let mut confirmed = oidc(&provider, "test", "required_for_everyone");
    confirmed["confirm_switch"] = json!(true);
    let (status, saved) = admin.put("/admin/api/oidc-settings", &confirmed).await;
    let expected = (200, Some("disabled"), Some("required_for_everyone"));
    assert_eq!((status, saved["mode"].as_str(), saved["mfa"].as_str()), expected, "{saved}");
    assert_eq!(saved["client_id"], "c", "the provider's settings are kept for later");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exclusive_embedded() {
    oidc_and_mfa_exclude_each_other(Kind::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exclusive_aws() {
    oidc_and_mfa_exclude_each_other(Kind::Aws).await;
}
