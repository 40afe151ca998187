//! Benchmark: memory and CPU of password checks. Hashes one password, then verifies it
//! `rounds` times (default 200) on the blocking pool, several at a time as concurrent sign-ins
//! would, and prints RSS before and after and CPU per verification, then the reference C
//! implementation's CPU per hash at the same parameters (`tests/bench/argon2_reference.py`)
//! and the ratio. Not run in CI.
//!
//! `cargo run --release -p gatehouse-tests --bin bench-password -- [rounds]` (the dev profile
//! optimises the argon2 crate too, so `cargo run -p …` measures the same hashing code).

use std::time::Instant;

use gatehouse::password::PasswordHash;
use gatehouse::secret::SecretString;
use gatehouse_tests::memory_of;

/// The reference C implementation's CPU per hash for `hashes` hashes: one (name, ms) per build
/// its script measures.
fn reference(hashes: usize) -> Result<Vec<(String, f64)>, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/argon2_reference.py");
    let output = std::process::Command::new("python3")
        .arg(script)
        .arg(hashes.to_string())
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    // "reference C argon2id, <build>: <ms> ms CPU per hash over <n>"
    let parsed = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.strip_prefix("reference C argon2id, ")?.split_once(": ")?;
            Some((name.to_owned(), rest.split(' ').next()?.parse().ok()?))
        })
        .collect();
    Ok(parsed)
}

fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// Median, lowest and highest of per-round samples.
fn summary(samples: &[f64]) -> String {
    let (low, high) = samples.iter().fold((f64::MAX, f64::MIN), |(l, h), &x| (l.min(x), h.max(x)));
    format!("{:.2} ms ({low:.2}–{high:.2})", median(samples))
}

/// CPU time of this process in microseconds (user + system, from /proc/self/stat ticks).
fn cpu_micros() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks * 10_000.0
}

/// Rounds of ours then the reference, so that load from elsewhere on the machine falls on both.
const ROUNDS: usize = 5;

#[tokio::main]
async fn main() {
    let checks: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let per_round = checks.div_ceil(ROUNDS);
    let idle = memory_of("self");
    let hash = PasswordHash::create(&SecretString::new("correct horse battery staple")).unwrap();
    let (mut ours, mut references) = (Vec::new(), std::collections::BTreeMap::<String, Vec<f64>>::new());
    let wall = Instant::now();
    for _ in 0..ROUNDS {
        let cpu = cpu_micros();
        let mut batch = Vec::new();
        for i in 0..per_round {
            let hash = hash.clone();
            // Every seventh is a wrong password: a failed check costs the same.
            let presented = if i % 7 == 0 { "wrong horse battery staple" } else { "correct horse battery staple" };
            batch.push(tokio::task::spawn_blocking(move || assert_eq!(hash.verify(presented), i % 7 != 0)));
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
        ours.push((cpu_micros() - cpu) / per_round as f64 / 1000.0);
        match reference(per_round) {
            Ok(measured) => measured.into_iter().for_each(|(name, ms)| references.entry(name).or_default().push(ms)),
            Err(e) => eprintln!("reference not measured: {e}"),
        }
    }
    println!(
        "argon2id m=19456 t=2 p=1, CPU per verification, median of {ROUNDS} rounds of {per_round} (lowest–highest), {:.1} s:",
        wall.elapsed().as_secs_f64()
    );
    println!("  gatehouse: {}", summary(&ours));
    for (name, samples) in &references {
        println!(
            "  reference C, {name}: {}  (gatehouse / it: {:.2})",
            summary(samples),
            median(&ours) / median(samples)
        );
    }
    println!("memory: {idle} idle; {} after {} verifications", memory_of("self"), per_round * ROUNDS);
}
