//! Test harness: a real Gatehouse server on a free loopback port, on either storage
//! backend, and an HTTP client that signs in the way a browser does.

pub mod aws_proxy;
pub mod capacity;
pub mod mailbox;
pub mod runtime_api;

use std::path::PathBuf;
use std::sync::Arc;

use gatehouse::app::{AppState, ensure_first_admin};
use gatehouse::clock::{Clock, SystemClock};
use gatehouse::config::{AwsSettings, Backend, Config};
use gatehouse::secret::random_alphanumeric;
use reqwest::redirect::Policy;
use serde_json::Value;

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Embedded,
    Aws,
}

/// A running server. Dropping it stops the server task, and removes the backend's data when
/// the server was started on a fresh backend of its own ([`start_fresh`]).
pub struct TestServer {
    pub url: String,
    pub state: Arc<AppState>,
    pub backend: Backend,
    task: tokio::task::JoinHandle<()>,
    owns_backend: bool,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
        if self.owns_backend {
            remove_backend(&self.backend);
        }
    }
}

/// Deletes a backend's tables or directory. moto copies every table it holds on each
/// TransactWriteItems, so tables left behind slowed each later test's transactions until they
/// timed out. On a thread of its own: a drop cannot await, and may run inside a runtime.
fn remove_backend(backend: &Backend) {
    match backend {
        Backend::Embedded { data_dir } => {
            let _ = std::fs::remove_dir_all(data_dir);
        }
        Backend::Aws(settings) => {
            let prefix = settings.table_prefix.clone();
            let endpoint = aws_endpoint();
            let removal = std::thread::spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
                runtime.block_on(async {
                    let sdk = gatehouse::aws_sdk::sdk_loader().endpoint_url(endpoint).load().await;
                    let client = aws_sdk_dynamodb::Client::new(&sdk);
                    for spec in gatehouse::store::aws::schema::TABLES {
                        let _ = client.delete_table().table_name(spec.table_name(&prefix)).send().await;
                    }
                });
            });
            let _ = removal.join();
        }
    }
}

/// The moto endpoint the test script started; the AWS tests cannot run without it.
pub fn aws_endpoint() -> String {
    std::env::var("GATEHOUSE_TEST_AWS_ENDPOINT").unwrap_or_else(|_| {
        panic!("GATEHOUSE_TEST_AWS_ENDPOINT is not set: run the tests through scripts/test.sh (it starts moto)")
    })
}

/// A backend of `kind` with nothing in it.
pub async fn fresh_backend(kind: Kind) -> Backend {
    match kind {
        Kind::Embedded => Backend::Embedded { data_dir: temp_dir(&random_alphanumeric(10).unwrap().to_lowercase()) },
        Kind::Aws => Backend::Aws(fresh_aws().await),
    }
}

/// Empty tables and a secret prefix of their own on the moto server.
pub async fn fresh_aws() -> AwsSettings {
    let unique = random_alphanumeric(10).unwrap().to_lowercase();
    let settings = AwsSettings {
        table_prefix: format!("t{unique}-"),
        secret_prefix: format!("s{unique}/"),
        endpoint_url: Some(aws_endpoint()),
        backfill_listings: false,
    };
    create_aws_tables(&settings).await;
    settings
}

/// The local server's debug binary, which `scripts/test.sh` builds before the tests run;
/// panics saying so when it is missing.
pub fn server_binary() -> PathBuf {
    let binary = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/gatehouse-server");
    assert!(binary.exists(), "build the server first (`cargo build --workspace --bins`, as scripts/test.sh does)");
    binary
}

pub fn temp_dir(unique: &str) -> PathBuf {
    std::env::temp_dir().join(format!("gatehouse-e2e-{unique}"))
}

/// Creates the tables the SAM template declares, from the same definitions.
pub async fn create_aws_tables(settings: &AwsSettings) {
    let endpoint = settings.endpoint_url.clone().unwrap_or_default();
    let sdk = gatehouse::aws_sdk::sdk_loader().endpoint_url(endpoint).load().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    gatehouse::store::aws::schema::create_tables(&client, &settings.table_prefix).await.unwrap();
}

/// The server's settings: its own sender address; mail through the SMTP sink on the embedded
/// backend (when the test script started one) and through SES (moto) on the AWS backend.
pub fn config_for(backend: Backend) -> Config {
    let mut config = Config::from_lookup(|_| None).unwrap();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.admin_password = Some(gatehouse::secret::SecretString::new(ADMIN_PASSWORD));
    config.org_name = "Example Association".into();
    config.mail.from = Some(format!("gatehouse-{}@example.org", random_alphanumeric(10).unwrap().to_lowercase()));
    if matches!(backend, Backend::Embedded { .. })
        && let Ok(url) = std::env::var("GATEHOUSE_TEST_SMTP_URL")
    {
        config.mail.smtp_url = Some(gatehouse::secret::SecretString::new(url));
        config.mail.smtp_ca_file = std::env::var_os("GATEHOUSE_TEST_SMTP_CA").map(Into::into);
    }
    config.backend = backend;
    config
}

/// SES sends only from a verified identity: moto marks a created one verified.
async fn verify_sender(settings: &AwsSettings, from: &str) {
    let endpoint = settings.endpoint_url.clone().unwrap_or_default();
    let sdk = gatehouse::aws_sdk::sdk_loader().endpoint_url(endpoint).load().await;
    aws_sdk_sesv2::Client::new(&sdk).create_email_identity().email_identity(from).send().await.unwrap();
}

pub async fn start(kind: Kind) -> TestServer {
    start_fresh(kind, Arc::new(SystemClock), |_| {}).await
}

/// A server on a fresh backend of `kind` that goes with it: its data is removed when the server
/// is dropped. The settings are changed by `configure` first.
pub async fn start_fresh(kind: Kind, clock: Arc<dyn Clock>, configure: impl FnOnce(&mut Config)) -> TestServer {
    let mut server = start_with(fresh_backend(kind).await, clock, configure).await;
    server.owns_backend = true;
    server
}

/// Starts a server on `backend` (reusing it keeps the data: a restart).
pub async fn start_on(backend: Backend, clock: Arc<dyn Clock>) -> TestServer {
    start_with(backend, clock, |_| {}).await
}

/// Like [`start_on`], with the settings changed by `configure` first.
pub async fn start_with(backend: Backend, clock: Arc<dyn Clock>, configure: impl FnOnce(&mut Config)) -> TestServer {
    let mut config = config_for(backend.clone());
    if let (Backend::Aws(settings), Some(from)) = (&backend, &config.mail.from) {
        verify_sender(settings, from).await;
    }
    configure(&mut config);
    let listener = gatehouse_server::bind(config.listen).await.unwrap();
    let addr = listener.local_addr().unwrap();
    config.issuer = format!("http://{addr}").parse().unwrap();
    let state = Arc::new(AppState::new(config, clock).await.unwrap());
    ensure_first_admin(&state).await.unwrap();
    let task = tokio::spawn(gatehouse_server::serve(state.clone(), listener));
    TestServer { url: format!("http://{addr}"), state, backend, task, owns_backend: false }
}

/// A browser-like client: keeps cookies, does not follow redirects.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: Option<String>,
}

/// The value of `<input ... name="NAME" value="...">` in a page.
pub fn form_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].replace("&amp;", "&").replace("&quot;", "\""))
}

impl Client {
    pub fn new(server: &TestServer) -> Self {
        Self::at(&server.url)
    }

    /// A client for a server at `base` (e.g. one started as a separate process).
    pub fn at(base: &str) -> Self {
        let http = reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap();
        Self { http, base: base.to_owned(), csrf: None }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Signs in through the form; returns the response to the POST.
    pub async fn sign_in(&mut self, username: &str, password: &str) -> reqwest::Response {
        let page = self.http.get(self.url("/signin")).send().await.unwrap().text().await.unwrap();
        let csrf = form_value(&page, "csrf_token").expect("sign-in form has a CSRF token");
        self.http
            .post(self.url("/signin"))
            .form(&[("csrf_token", csrf.as_str()), ("username", username), ("password", password)])
            .send()
            .await
            .unwrap()
    }

    /// Signs in as the first administrator and reads the API's CSRF token.
    pub async fn admin(server: &TestServer) -> Self {
        Self::admin_at(&server.url, ADMIN_PASSWORD).await
    }

    pub async fn admin_at(base: &str, password: &str) -> Self {
        let mut client = Self::at(base);
        let response = client.sign_in("admin", password).await;
        assert_eq!(response.status(), 303, "admin sign-in");
        let session: Value =
            client.http.get(client.url("/admin/api/session")).send().await.unwrap().json().await.unwrap();
        client.csrf = session["csrf_token"].as_str().map(str::to_owned);
        client
    }

    fn with_csrf(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.csrf {
            Some(token) => builder.header("x-csrf-token", token),
            None => builder,
        }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        into_json(self.http.get(self.url(path)).send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        into_json(self.with_csrf(self.http.post(self.url(path))).json(body).send().await.unwrap()).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        into_json(self.with_csrf(self.http.put(self.url(path))).json(body).send().await.unwrap()).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        into_json(self.with_csrf(self.http.delete(self.url(path))).send().await.unwrap()).await
    }
}

async fn into_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Runs an async test body once per backend: `both_backends!(name, |server| async move { .. })`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                let server = $crate::start($crate::Kind::Embedded).await;
                ($body)(server).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn aws() {
                let server = $crate::start($crate::Kind::Aws).await;
                ($body)(server).await;
            }
        }
    };
}

/// `<input type="hidden" name=".." value="..">` pairs of a page, unescaped.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in html.split("<input type=\"hidden\" name=\"").skip(1) {
        let Some((name, rest)) = chunk.split_once('"') else { continue };
        let value = rest
            .strip_prefix(" value=\"")
            .and_then(|v| v.split_once('"'))
            .map(|(v, _)| unescape(v))
            .unwrap_or_default();
        out.push((name.to_owned(), value));
    }
    out
}

fn unescape(value: &str) -> String {
    value.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

pub fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

/// The query (or fragment) parameters of a URL.
pub fn url_params(url: &str, fragment: bool) -> std::collections::HashMap<String, String> {
    let parsed = url::Url::parse(url).unwrap_or_else(|e| panic!("not a URL: {url}: {e}"));
    let part = if fragment {
        parsed.fragment().unwrap_or_default().to_owned()
    } else {
        parsed.query().unwrap_or_default().to_owned()
    };
    url::form_urlencoded::parse(part.as_bytes()).into_owned().collect()
}

/// A registered client app with its credentials, made through the admin API.
#[derive(Clone)]
pub struct App {
    pub client_id: String,
    pub client_secret: String,
    pub signing_key: String,
    pub redirect_uri: String,
    pub name: String,
}

/// Creates the standard profile and role queries if they are missing.
pub async fn ensure_queries(admin: &Client) {
    let (status, _) = admin.get("/admin/api/queries/$/SSO/ProfileData").await;
    if status == 200 {
        return;
    }
    let profile = serde_json::json!({"path": "$/SSO/ProfileData", "kind": "profile", "columns": [
        {"source": "first_name", "alias": "given_name"}, {"source": "last_name", "alias": "family_name"},
        {"source": "email", "alias": "email"}, {"source": "member_type", "alias": "member_type"},
        {"source": "status", "alias": "AccessRestrictionCode"}, {"source": "attributes.city", "alias": "address.locality"}]});
    assert_eq!(admin.post("/admin/api/queries", &profile).await.0, 201);
    let roles = serde_json::json!({"path": "$/SSO/RoleData", "kind": "role", "columns": [{"source": "roles", "alias": "Role"}]});
    assert_eq!(admin.post("/admin/api/queries", &roles).await.0, 201);
}

pub async fn register_app(admin: &Client, name: &str, grant_types: &[&str], role_format: &str) -> App {
    ensure_queries(admin).await;
    let redirect_uri = "https://app.example.org/sso/callback".to_owned();
    let body = serde_json::json!({
        "name": name, "redirect_urls": [redirect_uri, "https://app.example.org/other"],
        "profile_query": "$/SSO/ProfileData", "role_query": "$/SSO/RoleData", "role_format": role_format,
        "id_token_fields": ["member_type"], "no_access_mapping": "S\nI|https://example.org/reactivate",
        "grant_types": grant_types,
    });
    let (status, created) = admin.post("/admin/api/registrations", &body).await;
    assert_eq!(status, 201, "{created}");
    App {
        client_id: created["client_id"].as_str().unwrap().to_owned(),
        client_secret: created["client_secret"].as_str().unwrap().to_owned(),
        signing_key: created["jwt_signing_key"].as_str().unwrap_or_default().to_owned(),
        redirect_uri,
        name: name.to_owned(),
    }
}

/// Changes `app`'s registration through the admin API: the settings `register_app` gave it,
/// with `changes` on top. Returns the status and the answer.
pub async fn edit_registration(admin: &Client, app: &App, changes: Value) -> (u16, Value) {
    let path = format!("/admin/api/registrations/{}", app.client_id);
    let (_, current) = admin.get(&path).await;
    let mut body = serde_json::json!({
        "name": current["name"], "redirect_urls": current["redirect_urls"],
        "profile_query": current["profile_query"], "role_query": current["role_query"],
        "role_format": current["role_format"], "id_token_fields": current["id_token_fields"],
        "no_access_mapping": current["no_access_mapping"], "grant_types": [],
    });
    for (field, value) in changes.as_object().expect("changes are a JSON object") {
        body[field] = value.clone();
    }
    admin.put(&path, &body).await
}

/// A registered app whose back-channel logout URL is `url`.
pub async fn notified_app(admin: &Client, name: &str, url: &str) -> App {
    let app = register_app(admin, name, &[], "array").await;
    let (status, updated) = edit_registration(admin, &app, serde_json::json!({ "backchannel_logout_url": url })).await;
    assert_eq!((status, updated["backchannel_logout_url"].as_str()), (200, Some(url)), "{updated}");
    app
}

/// A small HTTP receiver on a free loopback port: every body POSTed to the returned URL
/// arrives on the channel (an app's back-channel logout endpoint).
pub async fn post_receiver() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use axum::extract::State;
    use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
    let (sender, bodies) = unbounded_channel();
    let app = axum::Router::new()
        .route(
            "/receiver",
            axum::routing::post(|State(sender): State<UnboundedSender<String>>, body: String| async move {
                sender.send(body).unwrap();
                axum::http::StatusCode::OK
            }),
        )
        .with_state(sender);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/receiver", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, bodies)
}

pub const MEMBER_PASSWORD: &str = "member-password-123";

/// A member contact with a password; `status` drives the No Access Mapping.
pub async fn add_member(admin: &Client, username: &str, status: &str) -> String {
    let body = serde_json::json!({"username": username, "email": format!("{username}@example.org"), "first_name": "Bob",
        "last_name": "Smith", "status": status, "member_type": "REG", "roles": ["Staff", "Volunteer"],
        "attributes": {"city": "Leeds"}, "password": MEMBER_PASSWORD});
    let (status, created) = admin.post("/admin/api/contacts", &body).await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().unwrap().to_owned()
}

/// The authorize URL for `app` with `extra` parameters (which override the defaults).
pub fn authorize_url(app: &App, extra: &[(&str, &str)]) -> String {
    let mut params: Vec<(String, String)> = vec![
        ("response_type".into(), "code".into()),
        ("client_id".into(), app.client_id.clone()),
        ("redirect_uri".into(), app.redirect_uri.clone()),
        ("scope".into(), "openid profile email roles offline_access".into()),
        ("state".into(), "st-123".into()),
        ("nonce".into(), "n-456".into()),
    ];
    for (k, v) in extra {
        params.retain(|(name, _)| name != k);
        if !v.is_empty() {
            params.push(((*k).into(), (*v).into()));
        }
    }
    let query: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    format!("/authorize?{query}")
}

impl Client {
    pub async fn get_raw(&self, path_or_url: &str) -> reqwest::Response {
        let url = if path_or_url.starts_with("http") { path_or_url.to_owned() } else { self.url(path_or_url) };
        self.http.get(url).send().await.unwrap()
    }

    /// The whole code flow as `username` in this browser: `/authorize` (signing in and
    /// allowing consent as needed), then the code at `/token`. Returns the token answer.
    pub async fn code_flow(&mut self, app: &App, username: &str) -> Value {
        let answer = self.authorize(&authorize_url(app, &[]), username).await;
        let params = url_params(&location(&answer), false);
        let form = [
            ("grant_type", "authorization_code"),
            ("code", params["code"].as_str()),
            ("redirect_uri", &app.redirect_uri),
        ];
        let (status, tokens) = self.token(app, &form).await;
        assert_eq!(status, 200, "{tokens}");
        tokens
    }

    /// Runs `/authorize` to the end as a member: signs in when asked, allows consent when asked.
    /// Returns the final redirect to the client (or whatever non-Gatehouse answer ended it).
    pub async fn authorize(&mut self, start: &str, username: &str) -> reqwest::Response {
        let mut next = start.to_owned();
        for _ in 0..6 {
            let response = self.get_raw(&next).await;
            if response.status() == 303 {
                let target = location(&response);
                if target.starts_with("/signin") {
                    let page = self.get_raw(&target).await.text().await.unwrap();
                    let mut form = hidden_inputs(&page);
                    form.push(("username".into(), username.into()));
                    form.push(("password".into(), MEMBER_PASSWORD.into()));
                    let signed = self.http.post(self.url("/signin")).form(&form).send().await.unwrap();
                    assert_eq!(signed.status(), 303, "sign-in");
                    next = location(&signed);
                    continue;
                }
                return response;
            }
            if response.status() == 200 {
                let page = response.text().await.unwrap();
                assert!(
                    page.contains("to access the following information from your account at"),
                    "consent page: {page}"
                );
                let mut form = hidden_inputs(&page);
                form.push(("decision".into(), "allow".into()));
                return self.http.post(self.url("/authorize/consent")).form(&form).send().await.unwrap();
            }
            return response;
        }
        panic!("authorization did not finish")
    }

    /// POST /token with HTTP Basic client authentication.
    pub async fn token(&self, app: &App, form: &[(&str, &str)]) -> (u16, Value) {
        self.send_token(self.token_post(app).form(form)).await
    }

    /// [`Self::token`] with a body already form-encoded, for a test that picks the encoding.
    pub async fn token_body(&self, app: &App, body: String) -> (u16, Value) {
        self.send_token(self.token_post(app).header("content-type", "application/x-www-form-urlencoded").body(body))
            .await
    }

    fn token_post(&self, app: &App) -> reqwest::RequestBuilder {
        self.http.post(self.url("/token")).basic_auth(&app.client_id, Some(&app.client_secret))
    }

    async fn send_token(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.unwrap();
        assert_eq!(response.headers().get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
        into_json(response).await
    }

    pub async fn userinfo(&self, access_token: &str) -> (u16, Value) {
        into_json(self.http.get(self.url("/userinfo")).bearer_auth(access_token).send().await.unwrap()).await
    }
}

/// Runs the code flow with PKCE for `username` in a new browser and exchanges the code,
/// checking the redirect on the way (303, `state`, and the RFC 9207 `iss`).
pub async fn code_flow_tokens(server: &TestServer, app: &App, username: &str) -> (Client, Value) {
    let mut member = Client::new(server);
    let (verifier, challenge) = pkce_pair();
    let start = authorize_url(app, &[("code_challenge", &challenge), ("code_challenge_method", "S256")]);
    let answer = member.authorize(&start, username).await;
    assert_eq!(answer.status(), 303);
    let params = url_params(&location(&answer), false);
    assert_eq!(params["state"], "st-123");
    assert_eq!(params["iss"], server.url, "RFC 9207 issuer in the response");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", params["code"].as_str()),
        ("redirect_uri", app.redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, tokens) = member.token(app, &form).await;
    assert_eq!(status, 200, "{tokens}");
    (member, tokens)
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce_pair() -> (String, String) {
    use base64::Engine as _;
    use sha2::Digest as _;
    let verifier = random_alphanumeric(64).unwrap();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// A process's resident memory now and at its peak, from `/proc/<pid>/status` (`pid` may be
/// `self`): "VmRSS x MiB, VmHWM y MiB". For the benchmarks.
pub fn memory_of(pid: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/<pid>/status");
    let mib = |key: &str| {
        let line = status.lines().find(|l| l.starts_with(key)).expect("a memory line");
        line.split_whitespace().nth(1).and_then(|kib| kib.parse::<f64>().ok()).expect("kB") / 1024.0
    };
    format!("VmRSS {:.1} MiB, VmHWM {:.1} MiB", mib("VmRSS:"), mib("VmHWM:"))
}
