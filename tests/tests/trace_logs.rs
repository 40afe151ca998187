//! Even at `RUST_LOG=trace`, the logs carry no secrets: the server process, on the AWS backend
//! (where the SDK would otherwise log request and response bodies), signs in, creates a member
//! with a password and mails a reset link; neither hashes, CSRF tokens nor the link appear.

use std::time::Duration;

use gatehouse_tests::{ADMIN_PASSWORD, Client, add_member, aws_endpoint, form_value, fresh_aws, server_binary};

#[tokio::test]
async fn trace_logs_carry_no_secrets() {
    let binary = server_binary();
    let settings = fresh_aws().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let log_path = std::env::temp_dir().join(format!("gatehouse-trace-{port}.log"));
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = tokio::process::Command::new(&binary)
        .env("RUST_LOG", "trace")
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_BACKEND", "aws")
        .env("GATEHOUSE_TABLE_PREFIX", &settings.table_prefix)
        .env("GATEHOUSE_SECRET_PREFIX", &settings.secret_prefix)
        .env("GATEHOUSE_AWS_ENDPOINT_URL", aws_endpoint())
        .env("GATEHOUSE_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .stdout(log.try_clone().unwrap())
        .stderr(log.try_clone().unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut up = false;
    for _ in 0..100 {
        if reqwest::get(format!("{base}/signin")).await.is_ok_and(|r| r.status() == 200) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server did not start; see {}", log_path.display());

    let admin = Client::admin_at(&base, ADMIN_PASSWORD).await;
    let csrf = admin.csrf.clone().unwrap();
    add_member(&admin, "tracy", "A").await;
    let client = Client::at(&base);
    let page = client.get_raw("/signin/forgot-password").await.text().await.unwrap();
    let form_csrf = form_value(&page, "csrf_token").unwrap();
    let sent = client
        .http
        .post(client.url("/signin/forgot-password"))
        .form(&[("csrf_token", form_csrf.as_str()), ("email", "tracy@example.org")])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    child.kill().await.unwrap();

    let logged = std::fs::read_to_string(&log_path).unwrap();
    assert!(logged.lines().count() > 50, "trace logging was on");
    assert!(!logged.contains("$argon2"), "a password hash was logged");
    assert!(!logged.contains(&csrf), "a session's CSRF token was logged");
    assert!(!logged.contains("/signin/reset?token="), "a reset link was logged");
    std::fs::remove_file(&log_path).unwrap();
}
