//! Benchmark: the median time of one full authorization-code flow (authorize → sign in →
//! consent → token → userinfo) and of the token request alone, for HS512 and RS256, against a
//! Gatehouse server started from the given binary (build it with `--release`). First it prints
//! the server's memory (VmRSS and its peak VmHWM) idle and after 200 password sign-ins through
//! the sign-in form, eight browsers at a time.
//!
//! `cargo run --release -p gatehouse-tests --bin bench-flow -- target/release/gatehouse-server [rounds] [embedded|aws]`
//!
//! With `aws` the server runs on DynamoDB and Secrets Manager at `GATEHOUSE_TEST_AWS_ENDPOINT`
//! (`eval "$(tests/support/moto.sh start)"` first), which shows what each store call costs.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gatehouse::config::Backend;
use gatehouse_tests::{
    Client, Kind, add_member, authorize_url, fresh_backend, location, memory_of, pkce_pair, register_app, url_params,
};
use serde_json::json;

const PASSWORD: &str = "bench-admin-password";
/// Password sign-ins before the second memory reading, and how many browsers make them at once.
const SIGN_INS: usize = 200;
const BROWSERS: usize = 8;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// `SIGN_INS` authorization flows, each signing in with the password through the form (a fresh
/// browser every time, so no session is reused), `BROWSERS` members at a time (one account
/// each: an account's attempts in flight are capped).
async fn sign_ins(admin: &Client, base: &str, app: &gatehouse_tests::App) {
    for browser in 0..BROWSERS {
        add_member(admin, &format!("memory{browser}"), "A").await;
    }
    let urls: Vec<String> = (0..SIGN_INS)
        .map(|_| authorize_url(app, &[("code_challenge", &pkce_pair().1), ("code_challenge_method", "S256")]))
        .collect();
    let browsers: Vec<_> = urls
        .chunks(SIGN_INS.div_ceil(BROWSERS))
        .enumerate()
        .map(|(browser, urls)| {
            let (base, urls, member) = (base.to_owned(), urls.to_vec(), format!("memory{browser}"));
            tokio::spawn(async move {
                for url in urls {
                    let answer = Client::at(&base).authorize(&url, &member).await;
                    assert!(url_params(&location(&answer), false).contains_key("code"));
                }
            })
        })
        .collect();
    for browser in browsers {
        browser.await.expect("a browser finished");
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let binary = args.next().expect("usage: bench-flow <gatehouse-server binary> [rounds]");
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(50);
    let kind = match args.next().as_deref() {
        None | Some("embedded") => Kind::Embedded,
        Some("aws") => Kind::Aws,
        Some(other) => panic!("backend `{other}` is neither `embedded` nor `aws`"),
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut command = Command::new(&binary);
    command
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_ADMIN_PASSWORD", PASSWORD)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null());
    let backend = fresh_backend(kind).await;
    match &backend {
        Backend::Embedded { data_dir } => command.env("GATEHOUSE_DATA_DIR", data_dir),
        Backend::Aws(aws) => command
            .env("GATEHOUSE_BACKEND", "aws")
            .env("GATEHOUSE_TABLE_PREFIX", &aws.table_prefix)
            .env("GATEHOUSE_SECRET_PREFIX", &aws.secret_prefix)
            .env("GATEHOUSE_AWS_ENDPOINT_URL", aws.endpoint_url.as_deref().unwrap_or_default()),
    };
    let server = Server(command.spawn().expect("start the server"));
    let pid = server.0.id();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{base}/signin")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let idle = memory_of(&pid.to_string());
    let admin = Client::admin_at(&base, PASSWORD).await;
    add_member(&admin, "bench", "A").await;
    let app = register_app(&admin, "Bench memory", &[], "array").await;
    let started = Instant::now();
    sign_ins(&admin, &base, &app).await;
    println!("server memory idle: {idle}");
    println!(
        "after {SIGN_INS} password sign-ins ({BROWSERS} browsers at a time, {:.1} s): {}",
        started.elapsed().as_secs_f64(),
        memory_of(&pid.to_string())
    );
    println!("{rounds} rounds each, server {binary}, {backend:?} storage");
    println!("{:<8} {:>22} {:>16}", "signing", "full flow (median)", "token (median)");
    for algorithm in ["HS512", "RS256"] {
        assert_eq!(admin.put("/admin/api/signing", &json!({ "algorithm": algorithm })).await.0, 200);
        let app = register_app(&admin, &format!("Bench {algorithm}"), &[], "array").await;
        let (mut flows, mut tokens) = (Vec::new(), Vec::new());
        for round in 0..rounds + 3 {
            let mut member = Client::at(&base);
            let (verifier, challenge) = pkce_pair();
            let started = Instant::now();
            let answer = member
                .authorize(
                    &authorize_url(&app, &[("code_challenge", &challenge), ("code_challenge_method", "S256")]),
                    "bench",
                )
                .await;
            let code = url_params(&location(&answer), false)["code"].clone();
            let token_started = Instant::now();
            let form = [
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", app.redirect_uri.as_str()),
                ("code_verifier", verifier.as_str()),
            ];
            let (status, body) = member.token(&app, &form).await;
            let token_time = token_started.elapsed();
            assert_eq!(status, 200, "{body}");
            let (status, _) = member.userinfo(body["access_token"].as_str().unwrap_or_default()).await;
            assert_eq!(status, 200);
            // The first rounds warm connections and caches.
            if round >= 3 {
                flows.push(started.elapsed());
                tokens.push(token_time);
            }
        }
        println!("{:<8} {:>22} {:>16}", algorithm, ms(median(flows)), ms(median(tokens)));
    }
}
