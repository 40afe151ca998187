//! The sign-in throttle holds under concurrency and is per account and per source address:
//! racing requests check at most the limit's worth of passwords, and failures for made-up
//! names lock out neither the real users of a client nor other addresses.

use gatehouse::local_signin::{MAX_FAILURES, MAX_SOURCE_FAILURES};
use gatehouse_tests::{ADMIN_PASSWORD, Client, MEMBER_PASSWORD, TestServer, add_member, both_backends, form_value};

const RACERS: usize = 25;

/// A password grant for the admin client from `source` (a loopback address of our choosing).
async fn admin_grant(server: &TestServer, source: &str, username: &str, password: &str) -> u16 {
    grant_at(server.url.clone(), source, username.to_owned(), password.to_owned()).await
}

async fn grant_at(base: String, source: &str, username: String, password: String) -> u16 {
    let http = reqwest::Client::builder().local_address(source.parse::<std::net::IpAddr>().ok()).build().unwrap();
    let response = http
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "gatehouse-admin"),
            ("username", username.as_str()),
            ("password", password.as_str()),
            ("scope", "admin"),
        ])
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

both_backends!(racing_sign_ins_check_at_most_the_limit, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    add_member(&admin, "racer", "A").await;
    let client = Client::new(&server);
    let page = client.get_raw("/signin").await.text().await.unwrap();
    let csrf = form_value(&page, "csrf_token").unwrap();
    let attempts = (0..RACERS).map(|i| {
        let password = if i == RACERS - 1 { MEMBER_PASSWORD.to_owned() } else { format!("wrong-password-{i:03}") };
        let (http, url, csrf) = (client.http.clone(), client.url("/signin"), csrf.clone());
        async move {
            let form = [("csrf_token", csrf.as_str()), ("username", "racer"), ("password", password.as_str())];
            http.post(url).form(&form).send().await.unwrap().status().as_u16()
        }
    });
    let statuses = all_at_once(attempts).await;
    let checked = statuses.iter().filter(|s| **s != 429).count();
    assert!(checked <= MAX_FAILURES as usize, "{checked} passwords were checked: {statuses:?}");
    assert!(statuses.iter().all(|s| matches!(s, 401 | 429 | 303)), "{statuses:?}");
});

both_backends!(racing_password_grants_check_at_most_the_limit, |server: TestServer| async move {
    let attempts = (0..RACERS).map(|i| {
        let password = if i == RACERS - 1 { ADMIN_PASSWORD.to_owned() } else { format!("wrong-password-{i:03}") };
        grant_at(server.url.clone(), "127.0.0.1", "admin".to_owned(), password)
    });
    let statuses = all_at_once(attempts).await;
    let checked = statuses.iter().filter(|s| **s != 429).count();
    assert!(checked <= MAX_FAILURES as usize, "{checked} passwords were checked: {statuses:?}");
});

both_backends!(made_up_names_lock_out_only_their_source, |server: TestServer| async move {
    // The attacker at 127.0.0.2 tries many names until its address is throttled.
    for i in 0..MAX_SOURCE_FAILURES {
        let status = admin_grant(&server, "127.0.0.2", &format!("nobody-{i}"), "guess-password-1").await;
        assert_eq!(status, 400, "attempt {i}");
    }
    assert_eq!(
        admin_grant(&server, "127.0.0.2", "nobody-else", "guess-password-1").await,
        429,
        "the source is throttled"
    );
    // The real administrator, elsewhere, is not.
    assert_eq!(admin_grant(&server, "127.0.0.3", "admin", ADMIN_PASSWORD).await, 200);
});

/// Runs the attempts concurrently; their statuses in no particular order.
async fn all_at_once<F>(attempts: impl Iterator<Item = F>) -> Vec<u16>
where
    F: std::future::Future<Output = u16> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for attempt in attempts {
        set.spawn(attempt);
    }
    set.join_all().await
}
