//! Test harness: a real Gatehouse server on a free loopback port, on either storage
//! backend, and an HTTP client that signs in the way a browser does.

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

/// A running server. Dropping it stops the server task.
pub struct TestServer {
    pub url: String,
    pub state: Arc<AppState>,
    pub backend: Backend,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
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
    let unique = random_alphanumeric(10).unwrap().to_lowercase();
    match kind {
        Kind::Embedded => Backend::Embedded { data_dir: temp_dir(&unique) },
        Kind::Aws => {
            let settings = AwsSettings {
                table_prefix: format!("t{unique}-"),
                secret_prefix: format!("s{unique}/"),
                endpoint_url: Some(aws_endpoint()),
            };
            create_aws_tables(&settings).await;
            Backend::Aws(settings)
        }
    }
}

pub fn temp_dir(unique: &str) -> PathBuf {
    std::env::temp_dir().join(format!("gatehouse-e2e-{unique}"))
}

/// Creates the tables the SAM template declares, from the same definitions.
pub async fn create_aws_tables(settings: &AwsSettings) {
    let endpoint = settings.endpoint_url.clone().unwrap_or_default();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).endpoint_url(endpoint).load().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    gatehouse::store::aws::schema::create_tables(&client, &settings.table_prefix).await.unwrap();
}

pub fn config_for(backend: Backend) -> Config {
    let mut config = Config::from_lookup(|_| None).unwrap();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.admin_password = Some(gatehouse::secret::SecretString::new(ADMIN_PASSWORD));
    config.org_name = "Example Association".into();
    config.backend = backend;
    config
}

pub async fn start(kind: Kind) -> TestServer {
    start_on(fresh_backend(kind).await, Arc::new(SystemClock)).await
}

/// Starts a server on `backend` (reusing it keeps the data: a restart).
pub async fn start_on(backend: Backend, clock: Arc<dyn Clock>) -> TestServer {
    let mut config = config_for(backend.clone());
    let listener = gatehouse_server::bind(config.listen).await.unwrap();
    let addr = listener.local_addr().unwrap();
    config.issuer = format!("http://{addr}").parse().unwrap();
    let state = Arc::new(AppState::new(config, clock).await.unwrap());
    ensure_first_admin(&state).await.unwrap();
    let task = tokio::spawn(gatehouse_server::serve(state.clone(), listener));
    TestServer { url: format!("http://{addr}"), state, backend, task }
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
        let http = reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap();
        Self { http, base: server.url.clone(), csrf: None }
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
        let mut client = Self::new(server);
        let response = client.sign_in("admin", ADMIN_PASSWORD).await;
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
