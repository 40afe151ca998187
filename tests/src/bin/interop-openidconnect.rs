//! Interoperability: the Rust `openidconnect` crate (4.1), unchanged, as the relying party
//! against a running Gatehouse — the third client of `tests/interop/run.sh`.
//!
//! `GATEHOUSE_URL=http://127.0.0.1:8080 GATEHOUSE_ADMIN_PASSWORD=... interop-openidconnect`
//!
//! Prints TAP lines and the `# pass N` / `# fail N` totals that `scripts/test.sh` counts; exits
//! non-zero when a case fails. The signing algorithm is global server state: the cases run one
//! after another, each sets what it needs, and HS512 (the default) is restored at the end.

use gatehouse::secret::random_alphanumeric;
use gatehouse_tests::{Client, add_member, ensure_queries, location, url_params};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenVerifier, CoreJsonWebKey, CoreJwsSigningAlgorithm,
    CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, JsonWebKey as _, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse as _, reqwest,
};
use serde_json::json;

/// Which key the test registration's HS512 ID tokens use, and how the app verifies them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verify {
    /// `client.id_token_verifier()` as it comes (the client secret for HS512, `/jwks` for RSA).
    Defaults,
    /// The seed's separate JWT signing key: the verifier built by hand with that key.
    SeedKey,
}

struct Env {
    base: String,
    admin: Client,
}

fn http() -> reqwest::Client {
    // The crate's advice: no redirects from the provider's endpoints.
    reqwest::ClientBuilder::new().redirect(reqwest::redirect::Policy::none()).build().expect("HTTP client")
}

async fn set_signing(env: &Env, algorithm: &str) {
    let (status, view) = env.admin.put("/admin/api/signing", &json!({ "algorithm": algorithm })).await;
    assert_eq!((status, view["algorithm"].as_str()), (200, Some(algorithm)), "{view}");
}

async fn discover(env: &Env) -> CoreProviderMetadata {
    let issuer = IssuerUrl::new(env.base.clone()).expect("issuer URL");
    CoreProviderMetadata::discover_async(issuer, &http()).await.expect("discovery")
}

async fn discovery_lists_the_configured_algorithm(env: &Env) {
    for (algorithm, expected) in
        [("RS256", CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256), ("HS512", CoreJwsSigningAlgorithm::HmacSha512)]
    {
        set_signing(env, algorithm).await;
        let metadata = discover(env).await;
        assert_eq!(metadata.issuer().as_str(), env.base);
        assert_eq!(metadata.id_token_signing_alg_values_supported(), &vec![expected], "{algorithm}");
    }
}

/// Code flow with PKCE through Gatehouse's sign-in and consent forms, the exchange with
/// client_secret_basic, the ID token with nonce, and userinfo.
async fn code_flow(env: &Env, hmac_key: &str, verify: Verify) {
    let run = random_alphanumeric(10).expect("random");
    let username = format!("rs-oidc-{run}");
    let member_id = add_member(&env.admin, &username, "A").await;
    ensure_queries(&env.admin).await;
    let redirect_uri = format!("http://127.0.0.1:9/{run}/callback");
    let (status, registration) = env
        .admin
        .post(
            "/admin/api/registrations",
            &json!({
                "name": format!("Rust openidconnect {run}"), "redirect_urls": [redirect_uri],
                "profile_query": "$/SSO/ProfileData", "role_query": "$/SSO/RoleData", "role_format": "array",
                "grant_types": [], "id_token_hmac_key": hmac_key,
            }),
        )
        .await;
    assert_eq!(status, 201, "{registration}");
    let field = |name: &str| registration[name].as_str().unwrap_or_default().to_owned();

    let http = http();
    let metadata = discover(env).await;
    let client = CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new(field("client_id")),
        Some(ClientSecret::new(field("client_secret"))),
    )
    .set_redirect_uri(RedirectUrl::new(redirect_uri).expect("redirect URL"));
    let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();

    let mut browser = Client::at(&env.base);
    let callback = location(&browser.authorize(url.as_str(), &username).await);
    let params = url_params(&callback, false);
    assert_eq!(params.get("state"), Some(state.secret()), "{callback}");
    let code = params.get("code").unwrap_or_else(|| panic!("no code in {callback}")).clone();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .expect("token endpoint from discovery")
        .set_pkce_verifier(pkce_verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("an ID token");
    let seed_key_verifier;
    let (verifier, hmac_key) = match verify {
        Verify::Defaults => (client.id_token_verifier(), field("client_secret")),
        Verify::SeedKey => {
            // Standard libraries key HS512 by the client secret (OIDC Core §10.1): the default
            // verifier refuses the seed's separate key, which needs this verifier instead.
            assert!(id_token.claims(&client.id_token_verifier(), &nonce).is_err(), "the default verifier refuses");
            let (status, current) = env.admin.get(&format!("/admin/api/registrations/{}", field("client_id"))).await;
            assert_eq!(status, 200);
            let key = current["jwt_signing_key"].as_str().expect("jwt_signing_key shown for HS512").to_owned();
            seed_key_verifier = CoreIdTokenVerifier::new_confidential_client(
                client.client_id().clone(),
                ClientSecret::new(key.clone()),
                metadata.issuer().clone(),
                metadata.jwks().clone(),
            )
            .set_allowed_algs([CoreJwsSigningAlgorithm::HmacSha512]);
            (seed_key_verifier.clone(), key)
        }
    };
    let claims = id_token.claims(&verifier, &nonce).expect("the ID token verifies");
    assert_eq!(claims.subject().as_str(), member_id);
    assert_eq!(claims.nonce().map(|n| n.secret()), Some(nonce.secret()));
    // signing_key() looks in the JWKS only: an HMAC key is given as a symmetric JWK.
    let alg = id_token.signing_alg().expect("alg");
    let symmetric = CoreJsonWebKey::new_symmetric(hmac_key.into_bytes());
    let key = match alg {
        CoreJwsSigningAlgorithm::HmacSha512 => &symmetric,
        _ => id_token.signing_key(&verifier).expect("the key from /jwks"),
    };
    let at_hash = AccessTokenHash::from_token(tokens.access_token(), alg, key).expect("at_hash computed");
    assert_eq!(claims.access_token_hash(), Some(&at_hash));

    let info: openidconnect::core::CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), Some(claims.subject().clone()))
        .expect("userinfo endpoint from discovery")
        .request_async(&http)
        .await
        .expect("userinfo");
    let given = info.given_name().and_then(|n| n.get(None)).map(|n| n.as_str());
    assert_eq!(given, Some("Bob"));
    assert_eq!(info.email().map(|e| e.as_str()), Some(format!("{username}@example.org").as_str()));
}

#[tokio::main]
async fn main() {
    let base = std::env::var("GATEHOUSE_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let base = base.trim_end_matches('/').to_owned();
    let password = std::env::var("GATEHOUSE_ADMIN_PASSWORD").expect("GATEHOUSE_ADMIN_PASSWORD");
    let env = std::sync::Arc::new(Env { admin: Client::admin_at(&base, &password).await, base });

    type Case = fn(std::sync::Arc<Env>) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;
    let cases: [(&str, Case); 4] = [
        ("discovery lists only the configured signing algorithm", |env| {
            Box::pin(async move { discovery_lists_the_configured_algorithm(&env).await })
        }),
        ("RS256: code + PKCE, client_secret_basic, default verifier with nonce, userinfo", |env| {
            Box::pin(async move {
                set_signing(&env, "RS256").await;
                code_flow(&env, "jwt_signing_key", Verify::Defaults).await
            })
        }),
        ("HS512 keyed by the client secret: the default verifier, unchanged", |env| {
            Box::pin(async move {
                set_signing(&env, "HS512").await;
                code_flow(&env, "client_secret", Verify::Defaults).await
            })
        }),
        ("HS512 with the seed's JWT signing key: the hand-built verifier", |env| {
            Box::pin(async move {
                set_signing(&env, "HS512").await;
                code_flow(&env, "jwt_signing_key", Verify::SeedKey).await
            })
        }),
    ];

    // One diagnostic line per failure instead of a backtrace.
    std::panic::set_hook(Box::new(|info| eprintln!("# {}", info.to_string().replace('\n', " "))));
    println!("TAP version 13\n1..{}", cases.len());
    let (mut pass, mut fail) = (0, 0);
    for (number, (name, case)) in cases.iter().enumerate() {
        // A failed assertion panics inside the task: that case fails, the others still run.
        match tokio::spawn(case(env.clone())).await {
            Ok(()) => {
                pass += 1;
                println!("ok {} - {name}", number + 1);
            }
            Err(_) => {
                fail += 1;
                println!("not ok {} - {name}", number + 1);
            }
        }
    }
    // The other suites share this server and expect the default.
    set_signing(&env, "HS512").await;
    println!("# pass {pass}\n# fail {fail}");
    std::process::exit(if fail == 0 { 0 } else { 1 });
}
