//! Benchmark: what the embedded store's request-path operations cost as the grants table
//! grows. For each table size it fills the table with refresh tokens (half of them expired long
//! ago, as a busy site's spent tokens are), then times code issuance + exchange, a refresh
//! (spend the old token, store the new refresh and access tokens) and a session lookup, and
//! prints wall and CPU microseconds per operation. Not run in CI.
//!
//! `cargo run --release -p gatehouse-tests --bin bench-store -- [ops] [sizes...]`
//! (defaults: 2000 operations at 5000 and 300000 rows).

use std::time::Instant;

use gatehouse::contact::ContactId;
use gatehouse::grants::{AuthCode, FamilyId, GrantClient, Redeemed, TokenGrant};
use gatehouse::registration::ClientId;
use gatehouse::scope::Scopes;
use gatehouse::secret::{OpaqueToken, SecretString};
use gatehouse::session::Session;
use gatehouse::store::{Retention, Stores, embedded};
use time::{Duration, OffsetDateTime};

/// CPU time of this process's live threads, in microseconds: the sum of each thread's
/// nanosecond run time from /proc/self/task/*/schedstat (finer than /proc/self/stat's ticks).
fn cpu_micros() -> f64 {
    let mut nanos = 0u64;
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task").flatten() {
        if let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) {
            nanos += stat.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    nanos as f64 / 1000.0
}

fn grant(now: OffsetDateTime, expires_at: OffsetDateTime) -> TokenGrant {
    TokenGrant {
        client_id: GrantClient::Admin,
        contact_id: ContactId::new_random(),
        scope: Scopes::parse("openid offline_access"),
        family: FamilyId::generate().unwrap(),
        auth_time: now,
        expires_at,
        public_client: false,
        credential: Default::default(),
        sid: Some("sid".into()),
    }
}

fn code(now: OffsetDateTime) -> AuthCode {
    AuthCode {
        client_id: ClientId::new_random(),
        contact_id: ContactId::new_random(),
        redirect_uri: "https://app.example/cb".into(),
        redirect_uri_sent: true,
        scope: Scopes::parse("openid profile"),
        nonce: Some("n".into()),
        code_challenge: None,
        auth_time: now,
        sid: "sid".into(),
        expires_at: now + gatehouse::grants::CODE_LIFETIME,
    }
}

/// Runs `op` `ops` times and prints wall and CPU microseconds per run.
async fn measure<F, Fut>(label: &str, rows: usize, ops: usize, mut op: F) -> f64
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (wall, cpu) = (Instant::now(), cpu_micros());
    for i in 0..ops {
        op(i).await;
    }
    let per_cpu = (cpu_micros() - cpu) / ops as f64;
    let per_wall = wall.elapsed().as_secs_f64() * 1e6 / ops as f64;
    println!("{rows:>8} rows  {label:<28} {per_wall:>8.1} µs wall  {per_cpu:>8.1} µs CPU");
    per_cpu
}

async fn run(rows: usize, ops: usize) -> Vec<f64> {
    let dir = std::env::temp_dir().join(format!("gatehouse-bench-store-{rows}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let stores: Stores = embedded::open(&dir, Retention::default()).unwrap();
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let grants = &stores.grants;
    for i in 0..rows {
        let expires_at = if i % 2 == 0 { now - Duration::days(2) } else { now + Duration::days(30) };
        grants.put_refresh_token(&OpaqueToken::generate().unwrap().digest(), &grant(now, expires_at)).await.unwrap();
    }
    let mut costs = Vec::new();
    let codes: Vec<_> = (0..ops).map(|_| OpaqueToken::generate().unwrap().digest()).collect();
    costs.push(
        measure("put_code (issue a code)", rows, ops, |i| {
            let code_digest = codes[i].clone();
            async move { grants.put_code(&code_digest, &code(now)).await.unwrap() }
        })
        .await,
    );
    costs.push(
        measure("redeem_code", rows, ops, |i| {
            let code_digest = codes[i].clone();
            async move {
                let family = FamilyId::generate().unwrap();
                assert!(matches!(grants.redeem_code(&code_digest, &family, now).await.unwrap(), Redeemed::Fresh(_)));
            }
        })
        .await,
    );
    let mut current = OpaqueToken::generate().unwrap().digest();
    grants.put_refresh_token(&current, &grant(now, now + Duration::days(30))).await.unwrap();
    let tokens: Vec<_> = (0..ops).map(|_| OpaqueToken::generate().unwrap().digest()).collect();
    let accesses: Vec<_> = (0..ops).map(|_| OpaqueToken::generate().unwrap().digest()).collect();
    costs.push(
        measure("refresh (spend + 2 puts)", rows, ops, |i| {
            let old = std::mem::replace(&mut current, tokens[i].clone());
            let (next, access) = (tokens[i].clone(), accesses[i].clone());
            async move {
                let Redeemed::Fresh(g) = grants.redeem_refresh_token(&old, now).await.unwrap() else { panic!("spent") };
                grants.put_refresh_token(&next, &g).await.unwrap();
                grants.put_access_token(&access, &g).await.unwrap();
            }
        })
        .await,
    );
    let session = Session {
        id: OpaqueToken::generate().unwrap().digest(),
        contact_id: ContactId::new_random(),
        csrf_token: SecretString::new("csrf"),
        auth_time: now,
        expires_at: now + Duration::hours(8),
        credential: Default::default(),
    };
    stores.sessions.insert(&session).await.unwrap();
    costs.push(
        measure("session lookup", rows, ops, |_| {
            let stores = &stores;
            let id = session.id.clone();
            async move { assert!(stores.sessions.get(&id, now).await.unwrap().is_some()) }
        })
        .await,
    );
    drop(stores);
    let _ = std::fs::remove_dir_all(&dir);
    costs
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let ops: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let mut sizes: Vec<usize> = args.filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![5_000, 300_000];
    }
    let results: Vec<Vec<f64>> = {
        let mut all = Vec::new();
        for rows in &sizes {
            all.push(run(*rows, ops).await);
        }
        all
    };
    if let (Some(small), Some(large)) = (results.first(), results.last()) {
        let labels = ["put_code", "redeem_code", "refresh", "session lookup"];
        println!("CPU per operation, {} rows vs {} rows:", sizes[0], sizes[sizes.len() - 1]);
        for ((label, a), b) in labels.iter().zip(small).zip(large) {
            println!("  {label:<16} {:>6.2}×", b / a);
        }
    }
}
