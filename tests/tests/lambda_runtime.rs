//! Each function's binary run as under AWS Lambda: started with `AWS_LAMBDA_RUNTIME_API` pointing
//! at our Runtime API emulator (`gatehouse_tests::runtime_api`), configured as the SAM template
//! configures it, on the AWS backend against moto, and fed real API Gateway HTTP API (v2) events.
//! Then one whole sign-in to a client app through the seven functions, each its own process,
//! behind a stand-in for the deployed HTTP API.
//!
//! The binaries are the debug ones `cargo build --workspace --bins` leaves beside this test
//! (scripts/test.sh builds them first), or the `cargo lambda build` bootstraps when
//! `GATEHOUSE_LAMBDA_BOOTSTRAPS=target/lambda` is set.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use gatehouse::config::AwsSettings;
use gatehouse::secret::SecretString;
use gatehouse::store::Stores;
use gatehouse_tests::runtime_api::{
    ADMIN_PASSWORD_SECRET, Gateway, HttpResponse, LambdaProcess, Outcome, RuntimeApi, function_binary,
    template_environment, v2_event,
};
use gatehouse_tests::{Client, add_member, authorize_url, fresh_aws, location, pkce_pair, register_app, url_params};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde_json::{Value, json};
use tokio::net::TcpListener;

const FUNCTIONS: [&str; 7] = ["discovery", "signin-redirect", "callback", "authorize", "token", "userinfo", "admin"];
/// What the SAM template's generated secret holds.
const ADMIN_PASSWORD: &str = "generated-admin-password-0123456789";
const READY: Duration = Duration::from_secs(30);

/// A fresh stack's worth of AWS resources in moto, and the issuer URL the functions get.
struct Stack {
    settings: AwsSettings,
    stores: Stores,
    issuer: String,
    listener: Option<TcpListener>,
}

async fn stack() -> Stack {
    let settings = fresh_aws().await;
    let stores = gatehouse::store::aws::open(&settings, gatehouse::store::Retention::default()).await;
    stores.secrets.put(ADMIN_PASSWORD_SECRET, &SecretString::new(ADMIN_PASSWORD)).await.unwrap();
    // The API's address is the issuer, so it is bound before the functions start.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    Stack { settings, stores, issuer, listener: Some(listener) }
}

impl Stack {
    /// Starts the function `name` with the template's environment, `overrides` replacing values.
    async fn spawn(&self, name: &str, overrides: &[(&str, &str)]) -> LambdaProcess {
        let binary = function_binary(name);
        assert!(
            binary.exists(),
            "{} is missing: build the functions first (`cargo build --workspace --bins`, as scripts/test.sh does)",
            binary.display()
        );
        let mut env = template_environment(name, &self.settings, &self.issuer);
        for (key, value) in overrides {
            env.retain(|(k, _)| k != key);
            env.push(((*key).to_owned(), (*value).to_owned()));
        }
        let log = work_dir().join(format!("{}{name}.log", self.settings.table_prefix));
        LambdaProcess::spawn(RuntimeApi::start(name).await.unwrap(), &binary, name, &env, log).unwrap()
    }

    /// Starts the function `name` and waits until it asks for its first invocation.
    async fn start(&self, name: &str) -> LambdaProcess {
        let function = self.spawn(name, &[]).await;
        function.wait_ready(READY).await.unwrap_or_else(|e| panic!("{e}"));
        function
    }
}

fn work_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".work/lambda-runtime")
}

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut all = vec![
        ("host".to_owned(), "abc123.execute-api.us-east-1.amazonaws.com".to_owned()),
        ("user-agent".to_owned(), "curl/8.5.0".to_owned()),
        ("x-forwarded-proto".to_owned(), "https".to_owned()),
    ];
    all.extend(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    all
}

fn get(path: &str) -> Value {
    v2_event("GET", path, &headers(&[("accept", "*/*")]), b"")
}

fn post_form(path: &str, body: &str) -> Value {
    v2_event("POST", path, &headers(&[("content-type", "application/x-www-form-urlencoded")]), body.as_bytes())
}

/// The function's raw payload 2.0 answer.
async fn raw(function: &LambdaProcess, event: Value) -> Value {
    match function.invoke(event).await.unwrap_or_else(|e| panic!("{e}")) {
        Outcome::Response(document) => document,
        Outcome::Error { body, error_type } => panic!("{} answered an error ({error_type:?}): {body}", function.name),
    }
}

async fn http(function: &LambdaProcess, event: Value) -> HttpResponse {
    function.http(event).await.unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_function_answers_api_gateway_v2_events_through_the_runtime_api() {
    let stack = stack().await;
    let mut running = HashMap::new();
    for name in FUNCTIONS {
        running.insert(name, stack.start(name).await);
    }
    let f = |name: &str| &running[name];

    // signin-redirect creates the first administrator beside its runtime, after init.
    let mut admin = None;
    for _ in 0..200 {
        admin = stack.stores.contacts.find_by_username("admin").await.unwrap();
        if admin.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let admin = admin.expect("signin-redirect created the first administrator as it started");
    assert!(admin.profile.is_sysadmin);

    // discovery: the metadata names the configured issuer; HS512 publishes no keys.
    let metadata = http(f("discovery"), get("/.well-known/openid-configuration")).await;
    assert_eq!(metadata.status, 200);
    assert_eq!(metadata.header("content-type"), Some("application/json"));
    assert_eq!(metadata.header("cache-control"), Some("public, max-age=300"));
    assert_eq!(metadata.json()["issuer"], stack.issuer.as_str());
    assert_eq!(metadata.json()["token_endpoint"], format!("{}/token", stack.issuer));
    let jwks = http(f("discovery"), get("/jwks")).await;
    assert_eq!((jwks.status, jwks.text().as_str()), (200, r#"{"keys":[]}"#));

    // signin-redirect: the login CSRF cookie leaves in the v2 `cookies` array, not in headers,
    // and API Gateway turns it into Set-Cookie.
    let document = raw(f("signin-redirect"), get("/signin?return_to=%2Fadmin")).await;
    assert_eq!(document["statusCode"], 200);
    let cookies = document["cookies"].as_array().expect("Set-Cookie goes to the cookies array");
    assert!(!cookies.is_empty() && cookies.iter().all(|c| c.as_str().unwrap().contains("HttpOnly")), "{cookies:?}");
    assert!(document["headers"].get("set-cookie").is_none(), "no Set-Cookie header beside the array");
    let page = HttpResponse::from_v2(&document).unwrap();
    assert_eq!(page.header_all("set-cookie").len(), cookies.len());
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.text().contains(r#"name="return_to" value="/admin""#));
    let forged = http(f("signin-redirect"), post_form("/signin", "username=admin&password=x")).await;
    assert_eq!(forged.status, 403, "a form post without the CSRF token is refused");

    // callback: an answer to no sign-in Gatehouse started is refused (404 until the upstream
    // sign-in lands), and signs nobody in.
    let callback = http(f("callback"), get("/callback?code=x&state=y")).await;
    assert!(matches!(callback.status, 400 | 403 | 404), "{}: {}", callback.status, callback.text());
    assert!(callback.header_all("set-cookie").iter().all(|c| !c.starts_with("gatehouse_session=")));

    // authorize: a request without a client gets an error page, never a redirect.
    let authorize = http(f("authorize"), get("/authorize?response_type=code")).await;
    assert_eq!(authorize.status, 400);
    assert!(authorize.header("content-type").unwrap().starts_with("text/html"));

    // token: a form body (base64 in the event, as API Gateway sends it) without a known client.
    let event = post_form("/token", "grant_type=authorization_code&code=nope&client_id=unknown");
    assert_eq!(event["isBase64Encoded"], true);
    let token = http(f("token"), event).await;
    assert!(matches!(token.status, 400 | 401), "{}", token.text());
    assert_eq!(token.header("cache-control"), Some("no-store"));
    assert!(token.json()["error"].is_string());

    // userinfo: no token, a Bearer challenge.
    let userinfo = http(f("userinfo"), get("/userinfo")).await;
    assert_eq!(userinfo.status, 401);
    assert!(userinfo.header("www-authenticate").unwrap_or_default().starts_with("Bearer"));

    // admin: the API refuses strangers with JSON; pages send them to sign in.
    let api = http(f("admin"), get("/admin/api/registrations")).await;
    assert_eq!((api.status, api.header("content-type")), (401, Some("application/json")));
    let page = http(f("admin"), get("/admin/registrations")).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.header("location"), Some("/signin?return_to=%2Fadmin%2Fregistrations"));

    // An event that is no HTTP API event goes to `.../error`, and the function carries on.
    match f("discovery").invoke(json!({"detail-type": "Scheduled Event"})).await.unwrap() {
        Outcome::Error { body, error_type } => {
            assert!(body["errorType"].is_string() && body["errorMessage"].is_string(), "{body}");
            assert!(error_type.is_some(), "the error type header is set");
        }
        Outcome::Response(document) => panic!("a non-HTTP event was answered: {document}"),
    }
    assert_eq!(http(f("discovery"), get("/jwks")).await.status, 200, "still serving after an error");

    for (name, function) in &running {
        assert!(function.exited().is_none(), "{name} is still running");
        assert!(function.api.init_error().is_none(), "{name} reported no init error");
        let kib = function.peak_rss_kib().unwrap_or_default();
        assert!(kib > 0, "{name}: peak RSS is readable");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_configuration_stops_the_function() {
    let stack = stack().await;
    let bad_issuer = stack.spawn("discovery", &[("GATEHOUSE_ISSUER", "http://sso.example.org")]).await;
    let error = bad_issuer.wait_ready(READY).await.unwrap_err();
    assert!(error.contains("exited during init"), "{error}");
    assert!(bad_issuer.output().contains("GATEHOUSE_ISSUER"), "the log names the variable: {}", bad_issuer.output());
    assert!(!bad_issuer.exited().unwrap().success());

    let var = gatehouse::lambda::ADMIN_PASSWORD_SECRET_VAR;
    // The first administrator is checked beside the runtime, after init: a missing secret
    // stops the instance all the same.
    let no_secret = stack.spawn("signin-redirect", &[(var, "no-such-secret")]).await;
    let status = no_secret.wait_exit(READY).await.expect("the instance stops");
    assert!(!status.success());
    let output = no_secret.output();
    assert!(output.contains("no-such-secret"), "the log names the missing secret: {output}");
    assert!(stack.stores.contacts.find_by_username("admin").await.unwrap().is_none());
}

/// A client that presents `token` as a bearer token (the admin API needs no CSRF token then).
fn bearer_client(base: &str, token: &str) -> Client {
    let mut default_headers = reqwest::header::HeaderMap::new();
    default_headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    let http = reqwest::Client::builder()
        .default_headers(default_headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Client { http, base: base.to_owned(), csrf: None }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_whole_sign_in_to_a_client_app_through_the_seven_functions() {
    let mut stack = stack().await;
    let mut functions = HashMap::new();
    for name in FUNCTIONS {
        functions.insert(name, Arc::new(stack.start(name).await));
    }
    let gateway = Gateway::serve(stack.listener.take().unwrap(), functions.clone()).unwrap();
    assert_eq!(gateway.url, stack.issuer);

    // token: the built-in gatehouse-admin client's password grant, with the generated password.
    let anonymous = Client::at(&gateway.url);
    let form = [
        ("grant_type", "password"),
        ("client_id", "gatehouse-admin"),
        ("username", "admin"),
        ("password", ADMIN_PASSWORD),
        ("scope", "admin"),
    ];
    let response = anonymous.http.post(anonymous.url("/token")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let granted: Value = response.json().await.unwrap();
    let admin = bearer_client(&gateway.url, granted["access_token"].as_str().unwrap());

    // admin: queries, a contact and a registration, with that bearer token.
    let app = register_app(&admin, "Flow App", &[], "array").await;
    let sub = add_member(&admin, "bsmith", "A").await;

    // authorize → signin-redirect (form, credentials, session cookie) → authorize → consent → code.
    let mut member = Client::at(&gateway.url);
    let first = member.get_raw(&authorize_url(&app, &[])).await;
    assert_eq!(first.status(), 303);
    assert!(location(&first).starts_with("/signin?"), "{}", location(&first));
    let (verifier, challenge) = pkce_pair();
    let start = authorize_url(&app, &[("code_challenge", &challenge), ("code_challenge_method", "S256")]);
    let answer = member.authorize(&start, "bsmith").await;
    assert_eq!(answer.status(), 303);
    let redirect = location(&answer);
    assert!(redirect.starts_with(&app.redirect_uri), "{redirect}");
    let params = url_params(&redirect, false);
    assert_eq!(params["state"], "st-123");
    assert_eq!(params["iss"], stack.issuer);

    // token: the code for tokens.
    let (status, tokens) = member
        .token(
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", &params["code"]),
                ("redirect_uri", &app.redirect_uri),
                ("code_verifier", &verifier),
            ],
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    let mut validation = Validation::new(Algorithm::HS512);
    validation.set_audience(&[&app.client_id]);
    validation.set_issuer(&[&stack.issuer]);
    let id_token = tokens["id_token"].as_str().unwrap();
    let claims =
        decode::<Value>(id_token, &DecodingKey::from_secret(app.signing_key.as_bytes()), &validation).unwrap().claims;
    assert_eq!(claims["sub"], sub.as_str());
    assert_eq!(claims["nonce"], "n-456");
    assert_eq!(claims["given_name"], "Bob");

    // userinfo: the member's profile for that access token.
    let (status, profile) = member.userinfo(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["sub"], sub.as_str());
    assert_eq!(profile["email"], "bsmith@example.org");
    assert_eq!(profile["roles"], json!(["Staff", "Volunteer"]));

    // discovery: what a client app reads first, at the same address.
    let (status, metadata) = member.get("/.well-known/openid-configuration").await;
    assert_eq!((status, metadata["issuer"].as_str()), (200, Some(stack.issuer.as_str())));
    let (status, jwks) = member.get("/jwks").await;
    assert_eq!((status, jwks), (200, json!({"keys": []})));

    // signin-redirect: the member's account page lists the consent just given.
    let account = member.get_raw("/account").await;
    assert_eq!(account.status(), 200);
    assert!(account.text().await.unwrap().contains("Flow App"));

    // callback: refuses an answer to no sign-in it started (404 until the upstream sign-in lands).
    let (status, _) = member.get("/callback?code=x&state=y").await;
    assert!(matches!(status, 400 | 403 | 404), "{status}");
    // A path no route matches gets API Gateway's own answer, from no function.
    let (status, body) = member.get("/nowhere").await;
    assert_eq!((status, body), (404, json!({"message": "Not Found"})));

    drop(gateway);
    for (name, function) in functions {
        assert!(function.exited().is_none(), "{name} ran throughout");
    }
}
