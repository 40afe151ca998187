//! The OpenID Provider over HTTP, on both storage backends: the member journey, tokens,
//! userinfo, and a negative test for every protocol rule.

use gatehouse_tests::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde_json::{Value, json};

fn verify_hs512(app: &App, id_token: &str, issuer: &str) -> Value {
    let mut validation = Validation::new(Algorithm::HS512);
    validation.set_audience(&[&app.client_id]);
    validation.set_issuer(&[issuer]);
    decode::<Value>(id_token, &DecodingKey::from_secret(app.signing_key.as_bytes()), &validation).unwrap().claims
}

/// A clock the test moves, starting now (whole seconds, as the system clock reads).
fn manual_clock() -> std::sync::Arc<gatehouse::clock::ManualClock> {
    std::sync::Arc::new(gatehouse::clock::ManualClock::new(
        time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap(),
    ))
}

both_backends!(member_journey_code_flow_userinfo_and_refresh, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Example App Solutions", &[], "array").await;
    let sub = add_member(&admin, "bsmith", "A").await;

    let member = Client::new(&server);
    let first = member.get_raw(&authorize_url(&app, &[])).await;
    assert_eq!(first.status(), 303);
    let signin = member.get_raw(&location(&first)).await.text().await.unwrap();
    assert!(signin.contains("Sign in to continue to: <strong>Example App Solutions</strong>"), "{signin}");

    let (member, tokens) = code_flow_tokens(&server, &app, "bsmith").await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["refresh_token"].is_string(), "offline_access gives a refresh token");
    let claims = verify_hs512(&app, tokens["id_token"].as_str().unwrap(), &server.url);
    assert_eq!(claims["sub"], sub.as_str());
    assert_eq!(claims["nonce"], "n-456");
    assert_eq!(claims["given_name"], "Bob");
    assert_eq!(claims["member_type"], "REG", "ID token additional profile field");
    assert!(claims["auth_time"].is_i64() && claims["at_hash"].is_string() && claims["sid"].is_string());

    let (status, profile) = member.userinfo(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["sub"], sub.as_str());
    assert_eq!(profile["given_name"], "Bob");
    assert_eq!(profile["address"]["locality"], "Leeds", "dotted aliases nest");
    assert_eq!(profile["roles"], json!(["Staff", "Volunteer"]));
    let posted = member
        .http
        .post(member.url("/userinfo"))
        .form(&[("access_token", tokens["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200, "userinfo accepts the token in a POST body");

    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, renewed) = member.token(&app, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!(status, 200, "{renewed}");
    assert_ne!(renewed["refresh_token"], tokens["refresh_token"], "refresh tokens rotate");
    let (status, widened) = member
        .token(
            &app,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", renewed["refresh_token"].as_str().unwrap()),
                ("scope", "openid admin email phone"),
            ],
        )
        .await;
    assert_eq!((status, widened["error"].as_str()), (400, Some("invalid_scope")), "{widened}");

    let (status, replay) = member.token(&app, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!((status, replay["error"].as_str()), (400, Some("invalid_grant")));
    let (status, _) = member.userinfo(renewed["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 401, "a replayed refresh token revokes its whole family");

    let mut again = Client::new(&server);
    let answer = again.authorize(&authorize_url(&app, &[]), "bsmith").await;
    assert!(location(&answer).starts_with(&app.redirect_uri), "consent is remembered: no consent page the second time");
});

both_backends!(redirect_uris_must_match_exactly_and_errors_never_redirect_elsewhere, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Strict App", &[], "array").await;
    let member = Client::new(&server);
    for bad in [
        "",
        "https://APP.example.org/sso/callback",
        "https://app.example.org/sso/callback/extra",
        "https://app.example.org/sso/callback?x=1",
        "https://app.example.org/sso/../sso/callback",
        "https://evil@app.example.org/sso/callback",
        "https://evil.example/sso/callback",
        "javascript:alert(1)",
    ] {
        let response = member.get_raw(&authorize_url(&app, &[("redirect_uri", bad)])).await;
        assert_eq!(response.status(), 400, "{bad:?}");
        assert!(response.headers().get("location").is_none(), "{bad:?} must not redirect");
    }
    let unknown = App { client_id: "00000000-0000-4000-8000-000000000000".into(), ..app };
    assert_eq!(member.get_raw(&authorize_url(&unknown, &[])).await.status(), 400, "unknown client");
});

both_backends!(authorization_errors_go_back_to_the_client, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Errors App", &[], "csv").await;
    let member = Client::new(&server);
    for (extra, error) in [
        (vec![("response_type", "token")], "unsupported_response_type"),
        (vec![("response_type", "id_token")], "unauthorized_client"),
        (vec![("scope", "profile")], "invalid_scope"),
        (vec![("code_challenge", "abc"), ("code_challenge_method", "plain")], "invalid_request"),
        (vec![("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")], "invalid_request"),
        (vec![("prompt", "none")], "login_required"),
    ] {
        let response = member.get_raw(&authorize_url(&app, &extra)).await;
        assert_eq!(response.status(), 303, "{extra:?}");
        let target = location(&response);
        assert!(target.starts_with(&app.redirect_uri), "{target}");
        let implicit = extra.iter().any(|(k, v)| *k == "response_type" && v.contains("id_token"));
        let params = url_params(&target, implicit);
        assert_eq!(params["error"], error, "{extra:?}: implicit errors travel in the fragment");
        assert_eq!(params["state"], "st-123");
        assert_eq!(params["iss"], server.url);
    }
    let implicit_app = register_app(&admin, "Implicit App", &["implicit"], "array").await;
    let response = member.get_raw(&authorize_url(&implicit_app, &[("response_type", "id_token"), ("nonce", "")])).await;
    let params = url_params(&location(&response), true);
    assert_eq!(params["error"], "invalid_request", "implicit needs a nonce, answered in the fragment");
});

both_backends!(codes_are_single_use_bound_and_pkce_checked, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Code App", &[], "array").await;
    let other = register_app(&admin, "Other App", &[], "array").await;
    add_member(&admin, "bsmith", "A").await;
    let mut member = Client::new(&server);
    let (verifier, challenge) = pkce_pair();
    let pkce = [("code_challenge", challenge.as_str()), ("code_challenge_method", "S256")];
    let code_for = |response: reqwest::Response| url_params(&location(&response), false)["code"].clone();

    // Reuse revokes what the first redemption issued.
    let code = code_for(member.authorize(&authorize_url(&app, &pkce), "bsmith").await);
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", app.redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, tokens) = member.token(&app, &exchange).await;
    assert_eq!(status, 200);
    assert_eq!(member.userinfo(tokens["access_token"].as_str().unwrap()).await.0, 200);
    let (status, reuse) = member.token(&app, &exchange).await;
    assert_eq!((status, reuse["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(
        member.userinfo(tokens["access_token"].as_str().unwrap()).await.0,
        401,
        "reuse revoked the first tokens"
    );
    let (status, _) = member
        .token(&app, &[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())])
        .await;
    assert_eq!(status, 400, "and the refresh token too");

    // Two redemptions at once: exactly one wins.
    let code = code_for(member.authorize(&authorize_url(&app, &pkce), "bsmith").await);
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", app.redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let (a, b) = tokio::join!(member.token(&app, &exchange), member.token(&app, &exchange));
    assert_eq!([a.0, b.0].iter().filter(|s| **s == 200).count(), 1, "{a:?} {b:?}");

    for (extra, form_extra, why) in [
        (true, vec![("code_verifier", "")], "verifier missing"),
        (true, vec![("code_verifier", "x".repeat(50).leak() as &str)], "verifier wrong"),
        (false, vec![("code_verifier", verifier.as_str())], "verifier without a challenge"),
        (true, vec![("redirect_uri", "https://app.example.org/other")], "other redirect URI"),
    ] {
        let start = if extra { authorize_url(&app, &pkce) } else { authorize_url(&app, &[]) };
        let code = code_for(member.authorize(&start, "bsmith").await);
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", app.redirect_uri.as_str()),
            ("code_verifier", verifier.as_str()),
        ];
        for (k, v) in &form_extra {
            form.retain(|(name, _)| name != k);
            if !v.is_empty() {
                form.push((k, v));
            }
        }
        let (status, body) = member.token(&app, &form).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{why}: {body}");
    }

    let code = code_for(member.authorize(&authorize_url(&app, &[]), "bsmith").await);
    let (status, body) = member
        .token(
            &other,
            &[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", app.redirect_uri.as_str()),
            ],
        )
        .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "a code is bound to its client");

    let code = code_for(member.authorize(&authorize_url(&app, &[]), "bsmith").await);
    let (status, body) = member.token(&app, &[("grant_type", "authorization_code"), ("code", code.as_str())]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "redirect_uri must be repeated when it was sent"
    );

    let wrong_secret = App { client_secret: "x".repeat(64), ..app };
    let (status, body) = member
        .token(&wrong_secret, &[("grant_type", "authorization_code"), ("code", "whatever"), ("redirect_uri", "x")])
        .await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_expire_after_sixty_seconds() {
    let clock = manual_clock();
    let server = start_fresh(Kind::Embedded, clock.clone(), |_| {}).await;
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Slow App", &[], "array").await;
    add_member(&admin, "bsmith", "A").await;
    let mut member = Client::new(&server);
    let answer = member.authorize(&authorize_url(&app, &[]), "bsmith").await;
    let code = url_params(&location(&answer), false)["code"].clone();
    clock.advance(time::Duration::seconds(61));
    let (status, body) = member
        .token(&app, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &app.redirect_uri)])
        .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
}

/// Two processes on one AWS backend, as the admin and token Lambdas are: the token process keeps
/// its parsed signer for a minute, then follows the admin's change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_follows_a_signing_change_within_a_minute() {
    let clock = manual_clock();
    let backend = fresh_backend(Kind::Aws).await;
    let admin_process = start_on(backend.clone(), clock.clone()).await;
    let token_process = start_on(backend, clock.clone()).await;
    let admin = Client::admin(&admin_process).await;
    let app = register_app(&admin, "Two Process App", &[], "array").await;
    add_member(&admin, "bsmith", "A").await;
    let alg = |tokens: &Value| jsonwebtoken::decode_header(tokens["id_token"].as_str().unwrap()).unwrap().alg;

    let (_, tokens) = code_flow_tokens(&token_process, &app, "bsmith").await;
    assert_eq!(alg(&tokens), Algorithm::HS512);
    assert_eq!(admin.put("/admin/api/signing", &json!({"algorithm": "RS256"})).await.0, 200);
    clock.advance(time::Duration::seconds(59));
    let (_, tokens) = code_flow_tokens(&token_process, &app, "bsmith").await;
    assert_eq!(alg(&tokens), Algorithm::HS512, "the cached signer still serves");
    verify_hs512(&app, tokens["id_token"].as_str().unwrap(), &token_process.url);

    clock.advance(time::Duration::seconds(1));
    let (member, tokens) = code_flow_tokens(&token_process, &app, "bsmith").await;
    let header = jsonwebtoken::decode_header(tokens["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(header.alg, Algorithm::RS256, "a minute later the token process reads the secret again");
    let (_, jwks) = member.get("/jwks").await;
    assert!(jwks["keys"].as_array().unwrap().iter().any(|k| k["kid"].as_str() == header.kid.as_deref()));
}

both_backends!(refresh_tokens_are_bound_to_their_client, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Refresh App", &[], "array").await;
    let other = register_app(&admin, "Thief App", &[], "array").await;
    add_member(&admin, "bsmith", "A").await;
    let (member, tokens) = code_flow_tokens(&server, &app, "bsmith").await;
    let (status, body) = member
        .token(&other, &[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())])
        .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
});

both_backends!(no_access_mapping_denies_or_redirects, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Members Only", &["password_confidential"], "array").await;
    add_member(&admin, "suspended", "S").await;
    add_member(&admin, "inactive", "I").await;
    let mut member = Client::new(&server);
    let response = member.authorize(&authorize_url(&app, &[]), "suspended").await;
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("does not have access to"), "the built-in No Access page");
    let mut member = Client::new(&server);
    let response = member.authorize(&authorize_url(&app, &[]), "inactive").await;
    assert_eq!(location(&response), "https://example.org/reactivate", "a mapped code redirects");
    let (status, body) = member
        .token(&app, &[("grant_type", "password"), ("username", "suspended"), ("password", MEMBER_PASSWORD)])
        .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "ROPC checks No Access too");
});

both_backends!(password_grants_only_where_enabled, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    add_member(&admin, "bsmith", "A").await;
    let none = register_app(&admin, "No ROPC", &[], "array").await;
    let confidential = register_app(&admin, "ROPC Confidential", &["password_confidential"], "array").await;
    let public = register_app(&admin, "ROPC Public", &["password_public"], "csv").await;
    let client = Client::new(&server);
    let password =
        [("grant_type", "password"), ("username", "bsmith"), ("password", MEMBER_PASSWORD), ("scope", "openid roles")];

    let (status, body) = client.token(&none, &password).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unauthorized_client")));
    let (status, body) = client.token(&confidential, &password).await;
    assert_eq!(status, 200, "{body}");
    let (_, profile) = client.userinfo(body["access_token"].as_str().unwrap()).await;
    assert_eq!(profile["roles"], json!(["Staff", "Volunteer"]));
    let mut public_form = password.to_vec();
    public_form.push(("client_id", public.client_id.as_str()));
    let response = client.http.post(client.url("/token")).form(&public_form).send().await.unwrap();
    let body: Value = response.json().await.unwrap();
    assert!(body["access_token"].is_string(), "public ROPC needs only the client id: {body}");
    let (_, profile) = client.userinfo(body["access_token"].as_str().unwrap()).await;
    assert_eq!(profile["roles"], "Staff,Volunteer", "csv role format");
    let mut confidential_form = password.to_vec();
    confidential_form.push(("client_id", confidential.client_id.as_str()));
    let response = client.http.post(client.url("/token")).form(&confidential_form).send().await.unwrap();
    assert_eq!(response.status(), 401, "confidential ROPC without the secret");
    let (status, body) = client
        .token(&confidential, &[("grant_type", "password"), ("username", "bsmith"), ("password", "wrong-password-1")])
        .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
});

both_backends!(deleting_a_registration_ends_its_sso_at_once, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Doomed App", &[], "array").await;
    add_member(&admin, "bsmith", "A").await;
    let (member, tokens) = code_flow_tokens(&server, &app, "bsmith").await;
    assert_eq!(admin.delete(&format!("/admin/api/registrations/{}", app.client_id)).await.0, 204);
    let (status, _) = member.userinfo(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 401);
    let response = member
        .http
        .get(member.url("/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("www-authenticate").unwrap().to_str().unwrap().contains("invalid_token"));
    let (status, _) = member
        .token(&app, &[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())])
        .await;
    assert_eq!(status, 401, "the client itself is gone");
    assert_eq!(member.get_raw(&authorize_url(&app, &[])).await.status(), 400);
});

both_backends!(rs256_tokens_verify_through_jwks_and_rotation_keeps_old_keys, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let (status, signing) = admin.put("/admin/api/signing", &json!({"algorithm": "RS256"})).await;
    assert_eq!(status, 200, "{signing}");
    let app = register_app(&admin, "RSA App", &[], "array").await;
    assert!(app.signing_key.is_empty(), "the HS512 key is hidden while RS256 signs");
    add_member(&admin, "bsmith", "A").await;
    let (member, tokens) = code_flow_tokens(&server, &app, "bsmith").await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let (_, metadata) = member.get("/.well-known/openid-configuration").await;
    assert_eq!(metadata["issuer"], server.url);
    assert_eq!(metadata["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(metadata["authorization_response_iss_parameter_supported"], true);
    let (_, jwks) = member.get("/jwks").await;
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"].as_str() == header.kid.as_deref()).unwrap();
    assert_eq!((jwk["use"].as_str(), jwk["alg"].as_str()), (Some("sig"), Some("RS256")));
    assert!(jwk.get("d").is_none(), "public keys only");
    let key = DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[&app.client_id]);
    assert!(decode::<Value>(id_token, &key, &validation).is_ok());

    let (status, rotated) = admin.post("/admin/api/signing/rotate", &json!({})).await;
    assert_eq!(status, 200, "{rotated}");
    let (_, jwks) = member.get("/jwks").await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2, "the previous key stays published");
    assert_eq!(admin.put("/admin/api/signing", &json!({"algorithm": "HS512"})).await.0, 200);
    assert_eq!(admin.post("/admin/api/signing/rotate", &json!({})).await.0, 409, "HS512 keys belong to registrations");
});

both_backends!(discovery_lists_only_the_configured_algorithm, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    for algorithm in ["RS512", "RS256", "ES256", "EdDSA", "HS512"] {
        assert_eq!(admin.put("/admin/api/signing", &json!({"algorithm": algorithm})).await.0, 200);
        let response = admin.get_raw("/.well-known/openid-configuration").await;
        let cache = response.headers().get("cache-control").and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(cache.as_deref(), Some("public, max-age=300"));
        let metadata: Value = response.json().await.unwrap();
        assert_eq!(metadata["id_token_signing_alg_values_supported"], json!([algorithm]));
    }
});

both_backends!(hs512_keyed_by_the_client_secret_follows_it, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Library App", &[], "array").await;
    add_member(&admin, "bsmith", "A").await;
    let url = format!("/admin/api/registrations/{}", app.client_id);
    let (_, mut body) = admin.get(&url).await;
    for computed in
        ["client_id", "client_secret", "jwt_signing_key", "ignored_id_token_fields", "created_at", "updated_at"]
    {
        body.as_object_mut().unwrap().remove(computed);
    }
    body["id_token_hmac_key"] = json!("client_secret");
    assert_eq!(admin.put(&url, &body).await.0, 200);
    let secret_keyed = App { signing_key: app.client_secret.clone(), ..app };
    let (_, tokens) = code_flow_tokens(&server, &secret_keyed, "bsmith").await;
    assert_eq!(verify_hs512(&secret_keyed, tokens["id_token"].as_str().unwrap(), &server.url)["nonce"], "n-456");

    let (_, regenerated) = admin.post(&format!("{url}/regenerate-secret"), &json!({})).await;
    let secret = regenerated["client_secret"].as_str().unwrap().to_owned();
    let rekeyed = App { client_secret: secret.clone(), signing_key: secret, ..secret_keyed };
    let (_, tokens) = code_flow_tokens(&server, &rekeyed, "bsmith").await;
    // verify_hs512 checks the signature with the new secret.
    assert_eq!(verify_hs512(&rekeyed, tokens["id_token"].as_str().unwrap(), &server.url)["nonce"], "n-456");
});

both_backends!(admin_api_accepts_gatehouse_admin_bearer_tokens_for_sysadmins_only, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    add_member(&admin, "bsmith", "A").await;
    let client = Client::new(&server);
    let grant = |username: &'static str, password: &'static str| {
        let client = &client;
        async move {
            let form = [
                ("grant_type", "password"),
                ("client_id", "gatehouse-admin"),
                ("username", username),
                ("password", password),
                ("scope", "admin"),
            ];
            let response = client.http.post(client.url("/token")).form(&form).send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = grant("admin", ADMIN_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let response = client.http.get(client.url("/admin/api/registrations")).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let response = client
        .http
        .post(client.url("/admin/api/contacts"))
        .bearer_auth(token)
        .json(&json!({"username": "viatoken"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "bearer writes need no CSRF token");
    let (status, body) = grant("bsmith", MEMBER_PASSWORD).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "members get no admin token");
    let response = client.http.get(client.url("/admin/api/registrations")).bearer_auth("forged").send().await.unwrap();
    assert_eq!(response.status(), 401);
});

both_backends!(prompt_login_and_max_age_force_a_fresh_sign_in, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Fresh App", &[], "array").await;
    add_member(&admin, "bsmith", "A").await;
    let mut member = Client::new(&server);
    member.authorize(&authorize_url(&app, &[]), "bsmith").await;
    let response = member.get_raw(&authorize_url(&app, &[("prompt", "login")])).await;
    assert!(location(&response).starts_with("/signin?"), "prompt=login asks again");
    assert!(location(&response).contains("force=1"));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let response = member.get_raw(&authorize_url(&app, &[("max_age", "0")])).await;
    assert!(location(&response).starts_with("/signin?"), "max_age=0 asks again");
    let answer = member.authorize(&authorize_url(&app, &[("prompt", "login")]), "bsmith").await;
    assert!(
        location(&answer).starts_with(&app.redirect_uri),
        "and a fresh sign-in completes it: {}",
        location(&answer)
    );
    let response = member.get_raw(&authorize_url(&app, &[("prompt", "consent")])).await;
    assert_eq!(response.status(), 200, "prompt=consent asks for consent again");
});

both_backends!(prompt_consent_still_asks_after_signing_in, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Asking App", &[], "array").await;
    add_member(&admin, "asked", "A").await;
    Client::new(&server).authorize(&authorize_url(&app, &[]), "asked").await;
    // Another browser, not signed in: the sign-in comes first, and then the consent page
    // the app asked for, although the member consented before.
    let member = Client::new(&server);
    let to_signin = member.get_raw(&authorize_url(&app, &[("prompt", "consent")])).await;
    let page = member.get_raw(&location(&to_signin)).await.text().await.unwrap();
    let mut form = hidden_inputs(&page);
    form.extend([("username".into(), "asked".into()), ("password".into(), MEMBER_PASSWORD.into())]);
    let signed = member.http.post(member.url("/signin")).form(&form).send().await.unwrap();
    assert_eq!(signed.status(), 303);
    let back = member.get_raw(&location(&signed)).await;
    assert_eq!(back.status(), 200, "prompt=consent survives the sign-in");
    assert!(back.text().await.unwrap().contains("to access the following information from your account at"));
});

both_backends!(members_can_withdraw_consent, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Consent App", &[], "array").await;
    add_member(&admin, "bsmith", "A").await;
    let mut member = Client::new(&server);
    member.authorize(&authorize_url(&app, &[]), "bsmith").await;
    let account = member.get_raw("/account").await.text().await.unwrap();
    assert!(account.contains("Consent App"), "the account page lists the app");
    let inputs = hidden_inputs(&account);
    let first = |name: &str| inputs.iter().find(|(n, _)| n == name).cloned().unwrap();
    let form = [first("csrf_token"), first("client_id")];
    let withdrawn = member.http.post(member.url("/account/consents/withdraw")).form(&form).send().await.unwrap();
    assert_eq!(withdrawn.status(), 303);
    let account = member.get_raw("/account").await.text().await.unwrap();
    assert!(!account.contains("Consent App"));
    let response = member.get_raw(&authorize_url(&app, &[])).await;
    assert_eq!(response.status(), 200, "consent is asked again");
});

both_backends!(malformed_token_requests_get_rfc6749_errors_and_spend_nothing, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Form App", &[], "array").await;
    add_member(&admin, "fform", "A").await;
    let (member, tokens) = code_flow_tokens(&server, &app, "fform").await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    // Each: the form, the error it gets, and what its description names.
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: [Case; 6] = [
        (&[("grant_type", "device_code"), ("refresh_token", refresh)], "unsupported_grant_type", "not supported"),
        (&[("grant_type", "")], "unsupported_grant_type", "not supported"),
        (&[("refresh_token", refresh)], "invalid_request", "grant_type"),
        (&[("grant_type", "refresh_token")], "invalid_request", "refresh_token"),
        (&[("grant_type", "authorization_code"), ("redirect_uri", &app.redirect_uri)], "invalid_request", "code"),
        (
            &[("grant_type", "refresh_token"), ("refresh_token", refresh), ("refresh_token", refresh)],
            "invalid_request",
            "refresh_token is repeated",
        ),
    ];
    for (form, error, says) in cases {
        let (status, answer) = member.token(&app, form).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some(error)), "{form:?}: {answer}");
        let description = answer["error_description"].as_str().unwrap();
        assert!(description.contains(says), "{form:?}: {description}");
    }
    // None of those spent the token; values arrive decoded once (`+` and `%20` are spaces).
    let (status, renewed) = member
        .token(&app, &[("grant_type", "refresh_token"), ("refresh_token", refresh), ("scope", "openid email")])
        .await;
    assert_eq!(status, 200, "{renewed}");
    let scope_of = |answer: &Value| {
        let mut names: Vec<String> =
            answer["scope"].as_str().unwrap_or_default().split(' ').map(str::to_owned).collect();
        names.sort();
        names
    };
    assert_eq!(scope_of(&renewed), ["email", "openid"], "{renewed}");
    let body = format!(
        "grant_type=refresh%5Ftoken&scope=openid%20email&refresh_token={}",
        renewed["refresh_token"].as_str().unwrap()
    );
    let (status, again) = member.token_body(&app, body).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(scope_of(&again), ["email", "openid"], "{again}");
});
