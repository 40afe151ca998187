//! Benchmark: each function's cold start as a Lambda, against our Runtime API emulator and the
//! AWS backend on moto. For every run, a first invocation is queued before the process starts
//! (as an invocation waits on a cold start in Lambda); measured are the time from process start
//! to its first `next` call (init), to its first response, the same request once warm, and its
//! peak RSS (`VmHWM`). Prints a table of medians. Numbers exclude the TLS handshakes to real AWS endpoints (moto is plain
//! HTTP on loopback).
//!
//! `bash tests/bench/cold_start.sh [runs]` (starts moto; needs scripts/build-lambdas.sh first), or
//! `cargo run -p gatehouse-tests --bin cold-start -- <dir with <name>/bootstrap> [runs]`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gatehouse::config::AwsSettings;
use gatehouse::secret::SecretString;
use gatehouse_tests::fresh_aws;
use gatehouse_tests::runtime_api::{
    ADMIN_PASSWORD_SECRET, LambdaProcess, Outcome, RuntimeApi, template_environment, v2_event,
};
use serde_json::Value;

const FUNCTIONS: [&str; 7] = ["discovery", "signin-redirect", "callback", "authorize", "token", "userinfo", "admin"];

/// A typical first request for each function; each makes at least one AWS call.
fn first_event(name: &str) -> Value {
    let headers = |extra: &[(&str, &str)]| -> Vec<(String, String)> {
        let mut all = vec![("host".to_owned(), "abc123.execute-api.us-east-1.amazonaws.com".to_owned())];
        all.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        all
    };
    let unknown_client = "3f1c2a4e-0000-4000-8000-000000000000";
    match name {
        "discovery" => v2_event("GET", "/jwks", &headers(&[]), b""),
        "signin-redirect" => v2_event("GET", "/signin", &headers(&[]), b""),
        "callback" => v2_event("GET", "/callback?code=x&state=y", &headers(&[]), b""),
        "authorize" => v2_event(
            "GET",
            &format!(
                "/authorize?response_type=code&client_id={unknown_client}&redirect_uri=https%3A%2F%2Fapp.example.org%2Fcb"
            ),
            &headers(&[]),
            b"",
        ),
        "token" => v2_event(
            "POST",
            "/token",
            &headers(&[("content-type", "application/x-www-form-urlencoded")]),
            format!("grant_type=authorization_code&code=x&client_id={unknown_client}&client_secret=y").as_bytes(),
        ),
        "userinfo" => v2_event("GET", "/userinfo", &headers(&[("authorization", "Bearer not-a-token")]), b""),
        _ => v2_event("GET", "/admin/api/registrations", &headers(&[("authorization", "Bearer not-a-token")]), b""),
    }
}

struct Sample {
    init: Duration,
    first_response: Duration,
    /// The same request again, on the now warm process: what the first one paid extra for is
    /// the cold SDK clients and connections.
    warm: Duration,
    peak_rss_kib: u64,
}

async fn cold_start(binary: &Path, name: &str, settings: &AwsSettings, log: PathBuf) -> Result<Sample, String> {
    let api = RuntimeApi::start(name).await.map_err(|e| e.to_string())?;
    let outcome = api.enqueue(first_event(name));
    let env = template_environment(name, settings, "https://sso.example.org");
    let process = LambdaProcess::spawn(api, binary, name, &env, log).map_err(|e| format!("{name}: {e}"))?;
    let answer = process.await_outcome(outcome).await?;
    let answered = Instant::now();
    if let Outcome::Error { body, .. } = answer {
        return Err(format!("{name} answered an error: {body}"));
    }
    let init = process.api.first_next().ok_or("no next call")?.duration_since(process.spawned_at);
    let again = Instant::now();
    process.invoke(first_event(name)).await?;
    let warm = again.elapsed();
    let peak_rss_kib = process.peak_rss_kib().unwrap_or_default();
    Ok(Sample { init, first_response: answered.duration_since(process.spawned_at), warm, peak_rss_kib })
}

fn median<T: Copy + Ord>(mut values: Vec<T>) -> T {
    values.sort();
    values[values.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "target/lambda".to_owned()));
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5).max(1);

    let settings = fresh_aws().await;
    let stores = gatehouse::store::aws::open(&settings, gatehouse::store::Retention::default()).await;
    stores.secrets.put(ADMIN_PASSWORD_SECRET, &SecretString::new("cold-start-admin-password")).await.unwrap();
    let logs =
        std::env::temp_dir().join(format!("gatehouse-cold-start-{}", settings.table_prefix.trim_end_matches('-')));

    println!("cold starts of {}/<function>/bootstrap, median of {runs} runs after one warm-up", dir.display());
    println!(
        "{:<16} {:>9} {:>9} {:>13} {:>12} {:>14}",
        "function", "size MiB", "init ms", "1st resp. ms", "warm ms", "peak RSS MiB"
    );
    for name in FUNCTIONS {
        let binary = dir.join(name).join("bootstrap");
        let Ok(meta) = std::fs::metadata(&binary) else {
            println!("{name:<16} missing: {} (run scripts/build-lambdas.sh)", binary.display());
            continue;
        };
        let mut samples = Vec::new();
        // The warm-up also creates the first administrator (an Argon2 hash) once.
        for run in 0..=runs {
            let log = logs.join(format!("{name}-{run}.log"));
            match cold_start(&binary, name, &settings, log).await {
                Ok(sample) if run > 0 => samples.push(sample),
                Ok(_) => {}
                Err(e) => {
                    eprintln!("{e}");
                    std::process::exit(1);
                }
            }
        }
        let size = meta.len() as f64 / 1_048_576.0;
        let init = median(samples.iter().map(|s| s.init).collect());
        let first = median(samples.iter().map(|s| s.first_response).collect());
        let warm = median(samples.iter().map(|s| s.warm).collect());
        let rss = median(samples.iter().map(|s| s.peak_rss_kib).collect()) as f64 / 1024.0;
        println!("{name:<16} {size:>9.1} {:>9} {:>13} {:>12} {rss:>14.1}", ms(init), ms(first), ms(warm));
    }
}
