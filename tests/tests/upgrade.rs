//! What a deployment keeps across an upgrade: refresh tokens issued before they were sealed
//! (opaque, with a stored row) still refresh once, their successors are sealed, and a replay
//! of the old one still revokes the family.

use gatehouse::config::Backend;
use gatehouse::grants::TokenGrant;
use gatehouse::oidc::sealed_token::TokenUse;
use gatehouse::secret::OpaqueToken;
use gatehouse::services::sealed_tokens;
use gatehouse_tests::*;

/// Stores `grant` under a new opaque refresh token, as releases before sealed refresh tokens
/// did, and returns the token.
async fn stored_refresh_token(server: &TestServer, grant: &TokenGrant) -> String {
    let token = OpaqueToken::generate().unwrap();
    let key = format!("refresh#{}", token.digest().as_str());
    let doc = serde_json::to_string(grant).unwrap();
    let expires_at = grant.expires_at.unix_timestamp().to_string();
    match &server.backend {
        Backend::Embedded { data_dir } => {
            let db = gatehouse::store::embedded::open_connection(&data_dir.join("gatehouse.sqlite3")).unwrap();
            let sql = "INSERT INTO grants (key, doc, used_by, expires_at) VALUES (?1, ?2, NULL, CAST(?3 AS INTEGER))";
            db.execute(sql, [key, doc, expires_at]).unwrap();
        }
        Backend::Aws(settings) => {
            use aws_sdk_dynamodb::types::AttributeValue;
            let sdk = gatehouse::aws_sdk::sdk_loader().endpoint_url(aws_endpoint()).load().await;
            let table = gatehouse::store::aws::schema::EPHEMERAL;
            aws_sdk_dynamodb::Client::new(&sdk)
                .put_item()
                .table_name(table.table_name(&settings.table_prefix))
                .item(table.partition_key, AttributeValue::S(key))
                .item("doc", AttributeValue::S(doc))
                .item("expires_at", AttributeValue::N(expires_at))
                .send()
                .await
                .unwrap();
        }
    }
    token.expose().to_owned()
}

both_backends!(a_refresh_token_stored_before_the_upgrade_still_refreshes_once, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Upgraded App", &[], "array").await;
    add_member(&admin, "upg", "A").await;
    let (member, tokens) = code_flow_tokens(&server, &app, "upg").await;
    let sealed = tokens["refresh_token"].as_str().unwrap();
    assert!(sealed.starts_with("gr1."), "refresh tokens are sealed: {sealed}");
    let now = server.state.now();
    let grant = sealed_tokens::open(&server.state, TokenUse::Refresh, sealed, now).await.unwrap().unwrap();
    let old = stored_refresh_token(&server, &grant).await;

    let refresh = |token: String| {
        let (member, app) = (&member, &app);
        async move { member.token(app, &[("grant_type", "refresh_token"), ("refresh_token", &token)]).await }
    };
    let (status, renewed) = refresh(old.clone()).await;
    assert_eq!(status, 200, "{renewed}");
    let successor = renewed["refresh_token"].as_str().unwrap().to_owned();
    assert!(successor.starts_with("gr1."), "its successor is sealed");
    assert_eq!(member.userinfo(renewed["access_token"].as_str().unwrap()).await.0, 200);

    let (status, replayed) = refresh(old).await;
    assert_eq!((status, replayed["error"].as_str()), (400, Some("invalid_grant")), "spent: {replayed}");
    let (status, revoked) = refresh(successor).await;
    assert_eq!((status, revoked["error"].as_str()), (400, Some("invalid_grant")), "the replay revoked the family");
    let (status, _) = refresh(sealed.to_owned()).await;
    assert_eq!(status, 400, "the family's other tokens too");
});
