//! Benchmark: what the embedded store's request-path operations cost as the grants table
//! grows. For each table size it fills the table with spent refresh tokens (half of them
//! expired long ago), then times code issuance + exchange, a refresh (record the sealed token
//! spent: the new tokens are sealed, not stored) and a session lookup, and prints wall and CPU
//! microseconds per operation. Not run in CI.
//!
//! `cargo run -p gatehouse-tests --bin bench-store -- [ops] [rounds] [sizes...]`
//! (defaults: 2000 operations, 5 rounds, at 5000 and 300000 rows; SQLite is optimised in the
//! dev profile too, see Cargo.toml).

use std::time::Instant;

use gatehouse::contact::ContactId;
use gatehouse::grants::{CODE_LIFETIME, FamilyId, Issuance, Redeemed, Spend, Stored};
use gatehouse::secret::{OpaqueToken, SecretString};
use gatehouse::session::{Session, SignInMethod};
use gatehouse::store::suite::code;
use gatehouse::store::{GrantStore as _, Retention, Stores, embedded};
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

/// Runs `op` `ops` times and returns CPU microseconds per run.
async fn measure<F, Fut>(ops: usize, mut op: F) -> f64
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let cpu = cpu_micros();
    for i in 0..ops {
        op(i).await;
    }
    (cpu_micros() - cpu) / ops as f64
}

/// The refresh: one write, recording the sealed token spent (the new tokens carry their grants
/// and are not stored).
const LABELS: [&str; 4] = ["put_code (issue a code)", "redeem_code", "refresh (one write)", "session lookup"];

/// A store filled with `rows` spent refresh tokens, half of them expired, swept as the maintenance
/// thread would (timed: that cost is off the request path).
async fn filled(rows: usize, now: OffsetDateTime) -> (std::path::PathBuf, Stores, Session) {
    let dir = std::env::temp_dir().join(format!("gatehouse-bench-store-{rows}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = embedded::Database::open(&dir, Retention::default()).unwrap();
    for i in 0..rows {
        // The live half was issued over the last 30 days, so it expires over the next 30, as a
        // site's spent tokens do; a refresh now records a token expiring after all of them.
        let issued_ago = Duration::days(30) * (i as f64 / rows as f64);
        let expires_at = if i % 2 == 0 { now - Duration::days(2) } else { now + Duration::days(30) - issued_ago };
        let token = OpaqueToken::generate().unwrap().digest();
        let issuance =
            Issuance { spends: Spend::SealedRefreshToken { token: &token, until: expires_at }, session: None };
        db.store_issuance(&issuance, now - Duration::days(3)).await.unwrap();
    }
    // A request tells the store the time; then sweep the expired half as the thread does.
    db.put_code(&OpaqueToken::generate().unwrap().digest(), &code(now + CODE_LIFETIME)).await.unwrap();
    let (started, mut batches) = (Instant::now(), 0);
    while embedded::maintenance::sweep(&db, embedded::maintenance::BATCH).unwrap() > 0 {
        batches += 1;
    }
    if batches > 0 {
        let each = started.elapsed().as_secs_f64() * 1e3 / f64::from(batches);
        println!(
            "{rows:>8} rows: swept the expired half in {batches} batches of ≤{}, {each:.2} ms each (off the request path)",
            embedded::maintenance::BATCH
        );
    }
    drop(db);
    let stores = embedded::open(&dir, Retention::default()).unwrap();
    let session = Session {
        id: OpaqueToken::generate().unwrap().digest(),
        contact_id: ContactId::new_random(),
        csrf_token: SecretString::new("csrf"),
        auth_time: now,
        expires_at: now + Duration::hours(8),
        credential: Default::default(),
        method: SignInMethod::Password,
    };
    stores.sessions.insert(&session).await.unwrap();
    (dir, stores, session)
}

/// One round of each operation, `ops` times each; CPU µs per operation, in LABELS order.
async fn round(stores: &Stores, session: &Session, now: OffsetDateTime, ops: usize) -> [f64; 4] {
    let grants = &stores.grants;
    let codes: Vec<_> = (0..ops).map(|_| OpaqueToken::generate().unwrap().digest()).collect();
    let put_code = measure(ops, |i| {
        let digest = codes[i].clone();
        async move { grants.put_code(&digest, &code(now + CODE_LIFETIME)).await.unwrap() }
    })
    .await;
    let redeem_code = measure(ops, |i| {
        let digest = codes[i].clone();
        async move {
            let family = FamilyId::generate().unwrap();
            assert!(matches!(grants.redeem_code(&digest, &family, now).await.unwrap(), Redeemed::Fresh(_)));
        }
    })
    .await;
    let tokens: Vec<_> = (0..ops).map(|_| OpaqueToken::generate().unwrap().digest()).collect();
    let until = now + Duration::days(30);
    let refresh = measure(ops, |i| {
        let token = tokens[i].clone();
        async move {
            let issuance = Issuance { spends: Spend::SealedRefreshToken { token: &token, until }, session: None };
            assert_eq!(grants.store_issuance(&issuance, now).await.unwrap(), Stored::Written);
        }
    })
    .await;
    let lookup = measure(ops, |_| {
        let id = session.id.clone();
        async move { assert!(stores.sessions.get(&id, now).await.unwrap().is_some()) }
    })
    .await;
    [put_code, redeem_code, refresh, lookup]
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let ops: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let mut sizes: Vec<usize> = args.filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![5_000, 300_000];
    }
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let mut stores = Vec::new();
    for rows in &sizes {
        stores.push(filled(*rows, now).await);
    }
    // Interleaved rounds, so load on the machine falls on every size alike; medians reported.
    let mut samples: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); LABELS.len()]; sizes.len()];
    for _ in 0..rounds {
        for (s, (_, store, session)) in stores.iter().enumerate() {
            for (o, cost) in round(store, session, now, ops).await.into_iter().enumerate() {
                samples[s][o].push(cost);
            }
        }
    }
    println!("CPU µs per operation (median of {rounds} interleaved rounds of {ops}):");
    print!("{:<28}", "");
    for rows in &sizes {
        print!("{:>12}", format!("{rows} rows"));
    }
    println!("{:>10}", "ratio");
    for (o, label) in LABELS.iter().enumerate() {
        let medians: Vec<f64> = samples.iter().map(|s| median(s[o].clone())).collect();
        print!("{label:<28}");
        for m in &medians {
            print!("{m:>12.1}");
        }
        println!("{:>9.2}×", medians[medians.len() - 1] / medians[0]);
    }
    for (dir, store, _) in stores {
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }
}
