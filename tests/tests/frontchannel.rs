//! Front-channel logout from the upstream provider (`/callback/logout`, OpenID Front-Channel
//! Logout 1.0), on both backends: the Gatehouse session recorded for the provider's `iss` and
//! `sid` ends; other values change nothing; only this page may be framed, by the provider only.

use gatehouse::contact::ContactId;
use gatehouse::services::logout::upstream_session_key;
use gatehouse::ticket::Ticket;
use gatehouse_tests::*;

const ISSUER: &str = "https://login.example.com/tenant-1/v2.0";

fn logout_path(iss: &str, sid: &str) -> String {
    let query =
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs([("iss", iss), ("sid", sid)]).finish();
    format!("/callback/logout?{query}")
}

both_backends!(the_providers_front_channel_logout_ends_the_session, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let id = ContactId::parse(&add_member(&admin, "staff1", "A").await).unwrap();
    let mut member = Client::new(&server);
    assert_eq!(member.sign_in("staff1", MEMBER_PASSWORD).await.status(), 303);
    assert_eq!(member.get_raw("/account").await.status(), 200);
    // What the callback records when the provider's ID token carries `sid`.
    let stores = &server.state.stores;
    let session = stores.sessions.list_for_contact(id, server.state.now()).await.unwrap().remove(0);
    let ticket = Ticket::UpstreamSession { session: session.id.clone() };
    stores.grants.put_ticket(&upstream_session_key(ISSUER, "up-sid-1"), &ticket, session.expires_at).await.unwrap();

    let frame = Client::new(&server);
    for (iss, sid) in [(ISSUER, "another-sid"), ("https://evil.example/v2.0", "up-sid-1")] {
        assert_eq!(frame.get_raw(&logout_path(iss, sid)).await.status(), 200, "{iss} {sid}");
        assert_eq!(member.get_raw("/account").await.status(), 200, "{iss} {sid}: nothing ends");
    }
    assert_eq!(frame.get_raw("/callback/logout?iss=x").await.status(), 400, "sid is required");

    let answer = frame.get_raw(&logout_path(ISSUER, "up-sid-1")).await;
    assert_eq!(answer.status(), 200);
    let csp = answer.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(
        csp.contains("frame-ancestors https://login.example.com") && !csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(answer.headers().get("x-frame-options").is_none());
    assert_eq!(member.get_raw("/account").await.status(), 303, "the session ended");

    let signin = frame.get_raw("/signin").await;
    let csp = signin.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "other pages are never framed: {csp}");
});
