//! Admin input is bounded: oversized lists get a 422 naming the field (nothing is stored) and
//! an oversized JSON body a 413, answered at once, while the server keeps answering others.

use std::time::{Duration, Instant};

use gatehouse_tests::{Client, Kind, ensure_queries, start};
use serde_json::json;

#[tokio::test]
async fn oversized_admin_input_is_refused_quickly_and_changes_nothing() {
    let server = start(Kind::Embedded).await;
    let admin = Client::admin(&server).await;
    ensure_queries(&admin).await;

    let urls: Vec<String> = (0..51).map(|i| format!("https://app.example/cb/{i}")).collect();
    let registration = json!({"name": "Many URLs", "redirect_urls": urls, "profile_query": "$/SSO/ProfileData",
        "role_query": "$/SSO/RoleData", "role_format": "array"});
    let (status, body) = admin.post("/admin/api/registrations", &registration).await;
    assert_eq!((status, body["field"].as_str()), (422, Some("redirect_urls")), "{body}");
    assert!(body["error"].as_str().unwrap().contains("at most 50"), "{body}");
    let (_, list) = admin.get("/admin/api/registrations").await;
    assert_eq!(list["registrations"].as_array().unwrap().len(), 0, "nothing was stored");

    let columns: Vec<_> = (0..101).map(|i| json!({"source": "username", "alias": format!("c{i}")})).collect();
    let query = json!({"path": "$/Big/Query", "kind": "profile", "columns": columns});
    let (status, body) = admin.post("/admin/api/queries", &query).await;
    assert_eq!((status, body["field"].as_str()), (422, Some("columns")), "{body}");

    let started = Instant::now();
    let huge: Vec<String> = (0..200_000).map(|i| format!("https://app.example/cb/{i}")).collect();
    let huge = json!({"name": "Huge", "redirect_urls": huge});
    let (status, body) = admin.post("/admin/api/registrations", &huge).await;
    assert_eq!(status, 413, "{body}");
    assert!(started.elapsed() < Duration::from_secs(5), "refused after {:?}", started.elapsed());
    assert_eq!(admin.get("/.well-known/openid-configuration").await.0, 200, "the server still answers");
}
