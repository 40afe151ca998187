//! Benchmark: CPU per ID token signature for each algorithm with the process's cached signer,
//! next to what RS256 cost before the key was kept parsed (`jsonwebtoken::encode` with an
//! `EncodingKey` from PEM re-parses the RSA key on every call). Not run in CI.
//!
//! `cargo run --release -p gatehouse-tests --bin bench-signing -- [signatures]`

use std::time::Instant;

use gatehouse::oidc::rsa_key::{self, ParseRsa};
use gatehouse::oidc::signer::Signer;
use gatehouse::oidc::signing::{SigningAlgorithm, SigningConfig};
use gatehouse::secret::SecretString;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;
use time::OffsetDateTime;

fn per_call(count: u32, mut f: impl FnMut()) -> f64 {
    f();
    let started = Instant::now();
    for _ in 0..count {
        f();
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(count)
}

fn main() {
    let count: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(500);
    let now = OffsetDateTime::now_utc();
    let claims = json!({ "iss": "https://sso.example.org", "sub": "0b8f", "aud": "app", "exp": 4_102_444_800i64,
        "iat": 1_767_268_800i64, "nonce": "n-123", "given_name": "Bob", "family_name": "Smith" });
    let hmac = SecretString::new("k".repeat(64));
    for algorithm in SigningAlgorithm::ALL {
        let mut config = SigningConfig::default();
        config.set_algorithm(algorithm, now).unwrap();
        let rsa = matches!(algorithm, SigningAlgorithm::RS256 | SigningAlgorithm::RS512);
        let parsers: &[(&str, ParseRsa)] =
            if rsa { &[("AWS-LC", rsa_key::aws_lc), ("ring", rsa_key::ring)] } else { &[("", rsa_key::ring)] };
        for (library, parse) in parsers {
            let signer = Signer::new(&config, *parse).unwrap();
            let micros = per_call(count, || {
                signer.sign(&claims, Some(&hmac)).unwrap();
            });
            println!("{:<6} cached signer {library:<8} {micros:>8.1} µs per token", algorithm.name());
        }
        if algorithm == SigningAlgorithm::RS256 {
            let pem = config.active_key().unwrap().private_pem.expose().to_owned();
            let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
            let header = Header::new(jsonwebtoken::Algorithm::RS256);
            let micros = per_call(count, || {
                jsonwebtoken::encode(&header, &claims, &key).unwrap();
            });
            println!("RS256  jsonwebtoken::encode       {micros:>8.1} µs per token (before: parses the key each time)");
        }
    }
}
