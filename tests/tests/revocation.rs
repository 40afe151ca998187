//! Token revocation (RFC 7009) and introspection (RFC 7662) over HTTP, on both backends:
//! the owning client revokes and inspects its tokens; no other client can do either.

use gatehouse_tests::*;
use serde_json::Value;

/// POST to `path` as `app` (HTTP Basic), answering the status and JSON body.
async fn call(client: &Client, path: &str, app: &App, form: &[(&str, &str)]) -> (u16, Value) {
    let response =
        client.http.post(client.url(path)).basic_auth(&app.client_id, Some(&app.client_secret)).form(form).send().await;
    let response = response.unwrap();
    assert_eq!(response.headers().get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"), "{path}");
    let status = response.status().as_u16();
    (status, serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null))
}

fn text<'a>(tokens: &'a Value, name: &str) -> &'a str {
    tokens[name].as_str().unwrap()
}

both_backends!(revoking_a_refresh_token_ends_its_family, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Revoking App", &[], "array").await;
    let sub = add_member(&admin, "rvk", "A").await;
    let (member, tokens) = code_flow_tokens(&server, &app, "rvk").await;
    let (access, refresh) = (text(&tokens, "access_token"), text(&tokens, "refresh_token"));

    let (status, seen) = call(&member, "/token/introspect", &app, &[("token", refresh)]).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["active"], true);
    assert_eq!(seen["token_type"], "refresh_token");
    assert_eq!(seen["client_id"], app.client_id.as_str());
    assert_eq!(seen["aud"], app.client_id.as_str());
    assert_eq!(seen["sub"], sub.as_str());
    assert_eq!(seen["username"], "rvk");
    assert_eq!(seen["iss"], server.url.as_str());
    assert!(seen["scope"].as_str().unwrap().contains("offline_access"), "{seen}");
    assert!(seen["exp"].as_i64().unwrap() > seen["iat"].as_i64().unwrap());

    let (status, seen) =
        call(&member, "/token/introspect", &app, &[("token", access), ("token_type_hint", "access_token")]).await;
    assert_eq!((status, &seen["active"], &seen["token_type"]), (200, &Value::Bool(true), &Value::from("Bearer")));

    let (status, body) =
        call(&member, "/token/revoke", &app, &[("token", refresh), ("token_type_hint", "refresh_token")]).await;
    assert_eq!((status, body), (200, serde_json::json!({})));
    for token in [refresh, access] {
        let (status, seen) = call(&member, "/token/introspect", &app, &[("token", token)]).await;
        assert_eq!((status, seen), (200, serde_json::json!({"active": false})), "the whole family is revoked");
    }
    let (status, refused) = member.token(&app, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_grant")), "a revoked refresh token fails");
    assert_eq!(member.userinfo(access).await.0, 401, "the family's access token stops working");

    let (status, body) = call(&member, "/token/revoke", &app, &[("token", refresh)]).await;
    assert_eq!((status, body), (200, serde_json::json!({})), "revoking twice is fine");
    let (status, _) = call(&member, "/token/revoke", &app, &[("token", "never-issued")]).await;
    assert_eq!(status, 200, "unknown tokens answer 200 (RFC 7009 §2.2)");
});

both_backends!(revoking_an_access_token_leaves_the_refresh_token, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Access Revoker", &[], "array").await;
    add_member(&admin, "acc", "A").await;
    let (member, tokens) = code_flow_tokens(&server, &app, "acc").await;
    let access = text(&tokens, "access_token");
    assert_eq!(member.userinfo(access).await.0, 200);
    let (status, _) = call(&member, "/token/revoke", &app, &[("token", access)]).await;
    assert_eq!(status, 200);
    assert_eq!(member.userinfo(access).await.0, 401, "a revoked access token stops working");
    let (status, seen) = call(&member, "/token/introspect", &app, &[("token", access)]).await;
    assert_eq!((status, &seen["active"]), (200, &Value::Bool(false)));
    let refresh = text(&tokens, "refresh_token");
    let (status, renewed) = member.token(&app, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!(status, 200, "the refresh token still works: {renewed}");
});

both_backends!(another_client_can_neither_revoke_nor_introspect, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Owner App", &[], "array").await;
    let other = register_app(&admin, "Other App", &[], "array").await;
    add_member(&admin, "own", "A").await;
    let (member, tokens) = code_flow_tokens(&server, &app, "own").await;
    let (access, refresh) = (text(&tokens, "access_token"), text(&tokens, "refresh_token"));

    for token in [access, refresh] {
        let (status, seen) = call(&member, "/token/introspect", &other, &[("token", token)]).await;
        assert_eq!((status, seen), (200, serde_json::json!({"active": false})), "another client learns nothing");
        let (status, refused) = call(&member, "/token/revoke", &other, &[("token", token)]).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("unauthorized_client")), "{refused}");
    }
    assert_eq!(member.userinfo(access).await.0, 200, "another client's revocation changed nothing");
    let (_, seen) = call(&member, "/token/introspect", &app, &[("token", refresh)]).await;
    assert_eq!(seen["active"], true, "nor did it touch the refresh token");

    let wrong_secret = App { client_secret: "wrong".into(), ..other };
    for path in ["/token/introspect", "/token/revoke"] {
        let (status, refused) = call(&member, path, &wrong_secret, &[("token", access)]).await;
        assert_eq!((status, refused["error"].as_str()), (401, Some("invalid_client")), "{path}");
    }
    let unauthenticated =
        member.http.post(member.url("/token/introspect")).form(&[("token", access), ("client_id", &app.client_id)]);
    let response = unauthenticated.send().await.unwrap();
    assert_eq!(response.status(), 401, "introspection needs client authentication");
    assert_eq!(member.userinfo(access).await.0, 200);
});

both_backends!(bad_revocation_and_introspection_requests_are_refused, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Careless App", &[], "array").await;
    let member = Client::new(&server);
    for path in ["/token/introspect", "/token/revoke"] {
        let (status, refused) = call(&member, path, &app, &[]).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_request")), "{path}: no token");
        let (status, refused) = call(&member, path, &app, &[("token", "a"), ("token", "b")]).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_request")), "{path}: repeated");
    }
    let hint = [("token", "x"), ("token_type_hint", "id_token")];
    let (status, refused) = call(&member, "/token/revoke", &app, &hint).await;
    assert_eq!((status, refused["error"].as_str()), (400, Some("unsupported_token_type")));
    let (status, refused) = call(&member, "/token/introspect", &app, &hint).await;
    assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_request")));
    let discovery: Value = member.get_raw("/.well-known/openid-configuration").await.json().await.unwrap();
    assert_eq!(discovery["revocation_endpoint"], format!("{}/token/revoke", server.url));
    assert_eq!(discovery["introspection_endpoint"], format!("{}/token/introspect", server.url));
});

both_backends!(an_access_token_changed_by_one_character_is_refused, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Tamper Check", &[], "array").await;
    add_member(&admin, "tam", "T").await;
    let (member, tokens) = code_flow_tokens(&server, &app, "tam").await;
    let access = text(&tokens, "access_token");
    assert!(access.starts_with("ga1."), "the access token carries its grant sealed: {access}");
    assert_eq!(member.userinfo(access).await.0, 200);
    // Flip one character in the middle (the ciphertext) and one at the end (the tag).
    for at in [access.len() / 2, access.len() - 1] {
        let mut changed = access.as_bytes().to_vec();
        changed[at] = if changed[at] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(changed).unwrap();
        assert_eq!(member.userinfo(&changed).await.0, 401, "changed at {at}");
        let (status, seen) = call(&member, "/token/introspect", &app, &[("token", &changed)]).await;
        assert_eq!((status, seen), (200, serde_json::json!({"active": false})), "changed at {at}");
    }
    let (status, _) = call(&member, "/token/revoke", &app, &[("token", "ga1.AAAA")]).await;
    assert_eq!(status, 200, "a malformed one is an unknown token (RFC 7009 §2.2)");
    assert_eq!(member.userinfo(access).await.0, 200, "the real one is untouched");
});

both_backends!(replacing_the_token_key_ends_every_earlier_token_at_once, |server: TestServer| async move {
    use gatehouse::secret::SecretString;
    use gatehouse::services::sealed_tokens::KEY_SECRET_NAME;

    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Rekeyed App", &[], "array").await;
    add_member(&admin, "rky", "A").await;
    let (member, tokens) = code_flow_tokens(&server, &app, "rky").await;
    let (access, refresh) = (text(&tokens, "access_token"), text(&tokens, "refresh_token"));
    assert_eq!(member.userinfo(access).await.0, 200);

    // What an operator's rotation does; this process's write forgets its copy of the secret,
    // so the key derived from the old one must not outlive it.
    let replacement = SecretString::new("replacement-token-key-".repeat(4));
    server.state.stores.secrets.put(KEY_SECRET_NAME, &replacement).await.unwrap();
    assert_eq!(member.userinfo(access).await.0, 401, "an access token sealed under the old key");
    let (status, refused) = member.token(&app, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_grant")), "a refresh token too: {refused}");
    let (status, seen) = call(&member, "/token/introspect", &app, &[("token", access)]).await;
    assert_eq!((status, seen), (200, serde_json::json!({"active": false})));

    let (member, tokens) = code_flow_tokens(&server, &app, "rky").await;
    assert_eq!(member.userinfo(text(&tokens, "access_token")).await.0, 200, "tokens sealed under the new key work");
    let (status, renewed) =
        member.token(&app, &[("grant_type", "refresh_token"), ("refresh_token", text(&tokens, "refresh_token"))]).await;
    assert_eq!(status, 200, "{renewed}");
});
