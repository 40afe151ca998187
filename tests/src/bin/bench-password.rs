//! Benchmark: memory and CPU of password checks. Hashes one password, then verifies it
//! `rounds` times (default 200) on the blocking pool, several at a time as concurrent sign-ins
//! would, and prints RSS before and after and CPU per verification. Compare the CPU with the
//! reference C implementation: `python3 tests/bench/argon2_reference.py`. Not run in CI.
//!
//! `cargo run --release -p gatehouse-tests --bin bench-password -- [rounds]`

use std::time::Instant;

use gatehouse::password::PasswordHash;
use gatehouse::secret::SecretString;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS");
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("VmRSS in kB")
}

/// CPU time of this process in microseconds (user + system, from /proc/self/stat ticks).
fn cpu_micros() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks * 10_000.0
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let idle = rss_kib();
    let hash = PasswordHash::create(&SecretString::new("correct horse battery staple")).unwrap();
    let (cpu, wall) = (cpu_micros(), Instant::now());
    let mut batch = Vec::new();
    for i in 0..rounds {
        let hash = hash.clone();
        batch.push(tokio::task::spawn_blocking(move || {
            assert!(hash.verify("correct horse battery staple"));
            assert!(i % 7 != 0 || !hash.verify("wrong horse battery staple"));
        }));
        // Eight sign-ins in flight at a time, each on its own blocking thread.
        if batch.len() == 8 {
            for task in batch.drain(..) {
                task.await.unwrap();
            }
        }
    }
    for task in batch {
        task.await.unwrap();
    }
    let checks = rounds + rounds.div_ceil(7);
    let per = (cpu_micros() - cpu) / checks as f64 / 1000.0;
    println!(
        "argon2id m=19456 t=2 p=1: {checks} verifications, {per:.2} ms CPU each, {:.1} s wall",
        wall.elapsed().as_secs_f64()
    );
    println!("RSS: {:.1} MiB idle, {:.1} MiB after", idle as f64 / 1024.0, rss_kib() as f64 / 1024.0);
}
