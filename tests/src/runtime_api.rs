//! A function's bootstrap binary run as under AWS Lambda, on this machine:
//!
//! - [`RuntimeApi`]: our Lambda Runtime API on loopback (`invocation/next`, `.../response`,
//!   `.../error`, `init/error`), which the binary polls exactly as it polls Lambda's;
//! - [`LambdaProcess`]: the binary started with the environment Lambda gives a function;
//! - [`v2_event`] / [`HttpResponse::from_v2`]: API Gateway HTTP API (payload 2.0) events and what
//!   API Gateway makes of the answers (`cookies` become `Set-Cookie` headers);
//! - [`Gateway`]: an HTTP front door that routes by the route table as the deployed HTTP API
//!   does, so a browser-like client can walk a whole sign-in through the separate processes.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use gatehouse::config::AwsSettings;
use gatehouse::routes::{ROUTES, Route};
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

const RUNTIME: &str = "/2018-06-01/runtime";
/// How long a function may take to answer one invocation before the caller gives up.
pub const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);

/// What a function answered to one invocation.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// `POST .../invocation/{id}/response`: the handler's result document.
    Response(Value),
    /// `POST .../invocation/{id}/error`: the error document and its error-type header.
    Error { body: Value, error_type: Option<String> },
}

struct Pending {
    id: String,
    event: Value,
    reply: oneshot::Sender<Outcome>,
}

struct Shared {
    function_arn: String,
    queue: Mutex<VecDeque<Pending>>,
    queued: Notify,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    first_next: OnceLock<Instant>,
    init_error: Mutex<Option<Value>>,
    next_id: AtomicU64,
}

/// The Runtime API one function instance polls. Dropping it stops the server.
pub struct RuntimeApi {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type HttpResult = Result<hyper::Response<Full<Bytes>>, Infallible>;

fn reply(status: u16, body: &Value) -> HttpResult {
    let mut response = hyper::Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("application/json"));
    Ok(response)
}

fn epoch_ms(at: SystemTime) -> u128 {
    at.duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default()
}

impl RuntimeApi {
    /// Serves the Runtime API for the function `function_name` on a free loopback port.
    pub async fn start(function_name: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{function_name}"),
            queue: Mutex::new(VecDeque::new()),
            queued: Notify::new(),
            in_flight: Mutex::new(HashMap::new()),
            first_next: OnceLock::new(),
            init_error: Mutex::new(None),
            next_id: AtomicU64::new(1),
        });
        let task = tokio::spawn(serve(listener, shared.clone()));
        Ok(Self { addr, shared, task })
    }

    /// Queues an invocation with `event`; the receiver gets the function's answer.
    pub fn enqueue(&self, event: Value) -> oneshot::Receiver<Outcome> {
        let (reply, outcome) = oneshot::channel();
        let n = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let id = format!("8476a536-e9f4-11e8-9739-{n:012x}");
        lock(&self.shared.queue).push_back(Pending { id, event, reply });
        self.shared.queued.notify_one();
        outcome
    }

    /// How many invocations were queued so far.
    pub fn invocations(&self) -> u64 {
        self.shared.next_id.load(Ordering::Relaxed) - 1
    }

    /// When the function first asked for an invocation: the end of its initialisation.
    pub fn first_next(&self) -> Option<Instant> {
        self.shared.first_next.get().copied()
    }

    /// What the function reported to `init/error`, if it did.
    pub fn init_error(&self) -> Option<Value> {
        lock(&self.shared.init_error).clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle_runtime(shared.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn handle_runtime(shared: Arc<Shared>, req: hyper::Request<Incoming>) -> HttpResult {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let error_type =
        req.headers().get("lambda-runtime-function-error-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = match req.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return reply(400, &json!({"errorMessage": e.to_string(), "errorType": "InvalidBody"})),
    };
    let document = serde_json::from_slice::<Value>(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    let Some(rest) = path.strip_prefix(RUNTIME) else {
        return reply(404, &json!({"errorMessage": "unknown path", "errorType": "NotFound"}));
    };
    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["invocation", "next"]) => {
            shared.first_next.get_or_init(Instant::now);
            let pending = loop {
                if let Some(pending) = lock(&shared.queue).pop_front() {
                    break pending;
                }
                shared.queued.notified().await;
            };
            lock(&shared.in_flight).insert(pending.id.clone(), pending.reply);
            let deadline = epoch_ms(SystemTime::now() + INVOKE_TIMEOUT);
            let mut response = hyper::Response::new(Full::new(Bytes::from(pending.event.to_string())));
            let headers = response.headers_mut();
            let values = [
                ("content-type", "application/json".to_owned()),
                ("lambda-runtime-aws-request-id", pending.id),
                ("lambda-runtime-deadline-ms", deadline.to_string()),
                ("lambda-runtime-invoked-function-arn", shared.function_arn.clone()),
                ("lambda-runtime-trace-id", "Root=1-6560f0a1-1a2b3c4d5e6f7a8b9c0d1e2f;Sampled=0".to_owned()),
            ];
            for (name, value) in values {
                if let Ok(value) = hyper::header::HeaderValue::from_str(&value) {
                    headers.insert(name, value);
                }
            }
            Ok(response)
        }
        ("POST", ["invocation", id, kind @ ("response" | "error")]) => {
            let Some(waiting) = lock(&shared.in_flight).remove(*id) else {
                return reply(400, &json!({"errorMessage": "no such invocation", "errorType": "InvalidRequestID"}));
            };
            let outcome = if *kind == "response" {
                Outcome::Response(document)
            } else {
                Outcome::Error { body: document, error_type }
            };
            let _ = waiting.send(outcome);
            reply(202, &json!({"status": "OK"}))
        }
        ("POST", ["init", "error"]) => {
            *lock(&shared.init_error) = Some(document);
            reply(202, &json!({"status": "OK"}))
        }
        _ => reply(404, &json!({"errorMessage": "unknown path", "errorType": "NotFound"})),
    }
}

/// A function's binary running against its own [`RuntimeApi`]. Dropping it kills the process.
pub struct LambdaProcess {
    pub name: String,
    pub api: RuntimeApi,
    pub spawned_at: Instant,
    pub log: PathBuf,
    child: Mutex<Child>,
}

impl Drop for LambdaProcess {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The variables Lambda sets for a function (with the credentials and region passed through),
/// for a function named `name` whose Runtime API is `api`.
pub fn lambda_environment(name: &str, api: &RuntimeApi, memory_mb: u32) -> Vec<(String, String)> {
    let var = |key: &str, default: &str| std::env::var(key).unwrap_or_else(|_| default.to_owned());
    let region = var("AWS_REGION", "us-east-1");
    vec![
        ("AWS_LAMBDA_RUNTIME_API".into(), api.addr.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME".into(), name.into()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), memory_mb.to_string()),
        ("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME".into(), format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME".into(), "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef".into()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE".into(), "on-demand".into()),
        ("_HANDLER".into(), "bootstrap".into()),
        ("TZ".into(), ":UTC".into()),
        ("LANG".into(), "en_US.UTF-8".into()),
        ("PATH".into(), "/usr/local/bin:/usr/bin/:/bin".into()),
        ("AWS_REGION".into(), region.clone()),
        ("AWS_DEFAULT_REGION".into(), region),
        ("AWS_ACCESS_KEY_ID".into(), var("AWS_ACCESS_KEY_ID", "testing")),
        ("AWS_SECRET_ACCESS_KEY".into(), var("AWS_SECRET_ACCESS_KEY", "testing")),
    ]
}

/// The secret (relative to the secret prefix) in which the SAM template generates the first
/// administrator's password, as `GATEHOUSE_ADMIN_PASSWORD_SECRET` names it to signin-redirect.
pub const ADMIN_PASSWORD_SECRET: &str = "admin-password";

/// The variables infra/template.yaml gives the function `name` (its Globals and the function's
/// own), for a stack whose tables and secrets `settings` names and whose issuer is `issuer`.
pub fn template_environment(name: &str, settings: &AwsSettings, issuer: &str) -> Vec<(String, String)> {
    let mut env = vec![
        ("GATEHOUSE_BACKEND".to_owned(), "aws".to_owned()),
        ("GATEHOUSE_TABLE_PREFIX".to_owned(), settings.table_prefix.clone()),
        ("GATEHOUSE_SECRET_PREFIX".to_owned(), settings.secret_prefix.clone()),
        ("GATEHOUSE_ISSUER".to_owned(), issuer.to_owned()),
        ("GATEHOUSE_ORG_NAME".to_owned(), "Example Association".to_owned()),
        ("GATEHOUSE_ADMIN_USERNAME".to_owned(), "admin".to_owned()),
        ("GATEHOUSE_LOG_FORMAT".to_owned(), "json".to_owned()),
        ("RUST_LOG".to_owned(), "info".to_owned()),
    ];
    if let Some(endpoint) = &settings.endpoint_url {
        env.push(("GATEHOUSE_AWS_ENDPOINT_URL".to_owned(), endpoint.clone()));
    }
    if name == "signin-redirect" {
        env.push((gatehouse::lambda::ADMIN_PASSWORD_SECRET_VAR.to_owned(), ADMIN_PASSWORD_SECRET.to_owned()));
    }
    env
}

impl LambdaProcess {
    /// Starts `binary` as the function `name` polling `api`, with Lambda's environment
    /// ([`lambda_environment`], nothing inherited) plus `env`. Its output goes to `log`.
    pub fn spawn(
        api: RuntimeApi,
        binary: &Path,
        name: &str,
        env: &[(String, String)],
        log: PathBuf,
    ) -> std::io::Result<Self> {
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let out = std::fs::File::create(&log)?;
        let err = out.try_clone()?;
        let mut command = Command::new(binary);
        command.env_clear().envs(lambda_environment(name, &api, 256)).envs(env.iter().cloned());
        if let Some(dir) = binary.parent() {
            command.env("LAMBDA_TASK_ROOT", dir);
        }
        let spawned_at = Instant::now();
        let child = command.stdin(Stdio::null()).stdout(out).stderr(err).spawn()?;
        Ok(Self { name: name.to_owned(), api, spawned_at, log, child: Mutex::new(child) })
    }

    pub fn pid(&self) -> u32 {
        lock(&self.child).id()
    }

    /// The exit status, if the process has ended.
    pub fn exited(&self) -> Option<ExitStatus> {
        lock(&self.child).try_wait().ok().flatten()
    }

    /// Waits up to `timeout` for the process to end.
    pub async fn wait_exit(&self, timeout: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + timeout;
        while Instant::now() < until {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    /// Waits up to `timeout` for the function's first `next` call: the end of its init.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<Duration, String> {
        let until = Instant::now() + timeout;
        loop {
            if let Some(at) = self.api.first_next() {
                return Ok(at.duration_since(self.spawned_at));
            }
            if let Some(status) = self.exited() {
                return Err(self.failure(&format!("exited during init ({status})")));
            }
            if Instant::now() >= until {
                return Err(self.failure("did not ask for an invocation in time"));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Invokes the function with `event` and waits for its answer.
    pub async fn invoke(&self, event: Value) -> Result<Outcome, String> {
        let outcome = self.api.enqueue(event);
        self.await_outcome(outcome).await
    }

    /// Waits for an invocation queued with [`RuntimeApi::enqueue`], watching the process.
    pub async fn await_outcome(&self, mut outcome: oneshot::Receiver<Outcome>) -> Result<Outcome, String> {
        let until = Instant::now() + INVOKE_TIMEOUT;
        loop {
            match tokio::time::timeout(Duration::from_millis(50), &mut outcome).await {
                Ok(Ok(outcome)) => return Ok(outcome),
                Ok(Err(_)) => return Err(self.failure("the runtime API dropped the invocation")),
                Err(_) => {}
            }
            if let Some(status) = self.exited() {
                return Err(self.failure(&format!("exited ({status}) before answering")));
            }
            if Instant::now() >= until {
                return Err(self.failure("did not answer in time"));
            }
        }
    }

    /// Invokes with an HTTP API event and returns what API Gateway would send the client.
    pub async fn http(&self, event: Value) -> Result<HttpResponse, String> {
        match self.invoke(event).await? {
            Outcome::Response(document) => HttpResponse::from_v2(&document),
            Outcome::Error { body, error_type } => {
                Err(self.failure(&format!("answered an error ({error_type:?}): {body}")))
            }
        }
    }

    /// Peak resident memory so far, in KiB (`VmHWM`), while the process lives.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// The process's output so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn failure(&self, what: &str) -> String {
        let output = self.output();
        let tail: Vec<&str> = output.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect();
        format!("function {} {what}; its output ({}):\n{}", self.name, self.log.display(), tail.join("\n"))
    }
}

/// The route of the table that API Gateway would pick for `method` `path`: an exact path before
/// a greedy `{proxy+}`, the method's own route before `ANY`.
pub fn route_for(method: &str, path: &str) -> Option<&'static Route> {
    let exact = |r: &&Route| r.path == path;
    let greedy = |r: &&Route| {
        r.path
            .strip_suffix("{proxy+}")
            .and_then(|prefix| path.strip_prefix(prefix))
            .is_some_and(|rest| !rest.is_empty())
    };
    let by_method = |candidates: Vec<&'static Route>| {
        candidates
            .iter()
            .find(|r| r.method == method)
            .or_else(|| candidates.iter().find(|r| r.method == "ANY"))
            .copied()
    };
    by_method(ROUTES.iter().filter(exact).collect()).or_else(|| by_method(ROUTES.iter().filter(greedy).collect()))
}

/// Whether API Gateway passes a body of this content type as text (else base64).
fn is_text(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence.starts_with("text/")
        || ["application/json", "application/javascript", "application/xml"].contains(&essence.as_str())
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
}

fn joined(values: &[String]) -> Value {
    Value::String(values.join(","))
}

/// The API Gateway HTTP API (payload format 2.0) event for a request, as the deployed API sends
/// it to the function whose route matched: cookies in `cookies`, other headers lowercased with
/// repeated ones joined by commas, the query raw and parsed, the body as text or base64.
pub fn v2_event(method: &str, path_and_query: &str, headers: &[(String, String)], body: &[u8]) -> Value {
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let route = route_for(method, path);
    let route_key = route.map_or_else(|| "$default".to_owned(), |r| format!("{} {}", r.method, r.path));

    let mut header_values: Vec<(String, Vec<String>)> = Vec::new();
    let mut cookies = Vec::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        if name == "cookie" {
            cookies.extend(value.split(';').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned));
            continue;
        }
        match header_values.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value.clone()),
            None => header_values.push((name, vec![value.clone()])),
        }
    }
    let header = |name: &str| header_values.iter().find(|(n, _)| n == name).and_then(|(_, v)| v.first().cloned());
    let host = header("host").unwrap_or_else(|| "abc123.execute-api.us-east-1.amazonaws.com".to_owned());
    let user_agent = header("user-agent").unwrap_or_default();
    let text = header("content-type").is_some_and(|t| is_text(&t));
    let header_map: Map<String, Value> = header_values.iter().map(|(n, v)| (n.clone(), joined(v))).collect();

    let mut parameters: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match parameters.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value.into_owned()),
            None => parameters.push((name.into_owned(), vec![value.into_owned()])),
        }
    }
    let now = SystemTime::now();
    let request_id = format!("{:x}", epoch_ms(now));

    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": header_map,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": host,
            "domainPrefix": host.split('.').next().unwrap_or_default(),
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": user_agent,
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": time::OffsetDateTime::now_utc()
                .format(time::macros::format_description!(
                    "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
                ))
                .unwrap_or_default(),
            "timeEpoch": epoch_ms(now) as u64,
        },
        "isBase64Encoded": false,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !parameters.is_empty() {
        let map: Map<String, Value> = parameters.iter().map(|(n, v)| (n.clone(), joined(v))).collect();
        event["queryStringParameters"] = Value::Object(map);
    }
    if let Some(proxy) = route.and_then(|r| r.path.strip_suffix("{proxy+}")).and_then(|p| path.strip_prefix(p)) {
        event["pathParameters"] = json!({ "proxy": proxy });
    }
    if !body.is_empty() {
        match (text, std::str::from_utf8(body)) {
            (true, Ok(text)) => event["body"] = json!(text),
            _ => {
                event["body"] = json!(STANDARD.encode(body));
                event["isBase64Encoded"] = json!(true);
            }
        }
    }
    event
}

/// An HTTP response as API Gateway returns it to the client.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    /// Lowercase names; `set-cookie` once per cookie.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// API Gateway's reading of a payload 2.0 answer: each of `cookies` becomes a `Set-Cookie`
    /// header, and a base64 body is decoded.
    pub fn from_v2(document: &Value) -> Result<Self, String> {
        let status = document["statusCode"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .ok_or_else(|| format!("no statusCode in {document}"))?;
        let mut headers = Vec::new();
        if let Some(map) = document["headers"].as_object() {
            for (name, value) in map {
                let value = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
                headers.push((name.to_ascii_lowercase(), value));
            }
        }
        if let Some(cookies) = document["cookies"].as_array() {
            for cookie in cookies.iter().filter_map(Value::as_str) {
                headers.push(("set-cookie".to_owned(), cookie.to_owned()));
            }
        }
        let text = document["body"].as_str().unwrap_or_default();
        let body = if document["isBase64Encoded"].as_bool().unwrap_or(false) {
            STANDARD.decode(text).map_err(|e| format!("body is not base64: {e}"))?
        } else {
            text.as_bytes().to_vec()
        };
        Ok(Self { status, headers, body })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// The deployed HTTP API's stand-in: takes HTTP requests on loopback, turns each into the v2
/// event of its route, invokes that route's function process, and answers with what API Gateway
/// would. A request no route matches gets API Gateway's own 404.
pub struct Gateway {
    pub url: String,
    task: JoinHandle<()>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Gateway {
    /// Serves on `listener`, sending each route's requests to `functions[route.function.name()]`.
    pub fn serve(listener: TcpListener, functions: HashMap<&'static str, Arc<LambdaProcess>>) -> std::io::Result<Self> {
        let url = format!("http://{}", listener.local_addr()?);
        let functions = Arc::new(functions);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let functions = functions.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| forward(functions.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { url, task })
    }
}

async fn forward(
    functions: Arc<HashMap<&'static str, Arc<LambdaProcess>>>,
    req: hyper::Request<Incoming>,
) -> HttpResult {
    let method = req.method().as_str().to_owned();
    let path_and_query = req.uri().path_and_query().map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
        .collect();
    let Ok(body) = req.into_body().collect().await.map(|c| c.to_bytes()) else {
        return reply(400, &json!({"message": "Bad Request"}));
    };
    let path = path_and_query.split('?').next().unwrap_or_default();
    let Some(function) = route_for(&method, path).and_then(|route| functions.get(route.function.name())) else {
        return reply(404, &json!({"message": "Not Found"}));
    };
    let answer = function.http(v2_event(&method, &path_and_query, &headers, &body)).await;
    let Ok(answer) = answer else {
        return reply(500, &json!({"message": "Internal Server Error"}));
    };
    let mut response = hyper::Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() = hyper::StatusCode::from_u16(answer.status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) =
            (hyper::header::HeaderName::from_bytes(name.as_bytes()), hyper::header::HeaderValue::from_str(&value))
        {
            response.headers_mut().append(name, value);
        }
    }
    Ok(response)
}

/// Where the function binaries are: `GATEHOUSE_LAMBDA_BOOTSTRAPS` names a directory laid out as
/// `cargo lambda build` leaves it (`<dir>/<name>/bootstrap`); otherwise the `<name>` binaries
/// beside the running test's own target directory (`cargo build --workspace --bins`).
pub fn function_binary(name: &str) -> PathBuf {
    if let Ok(dir) = std::env::var("GATEHOUSE_LAMBDA_BOOTSTRAPS") {
        return PathBuf::from(dir).join(name).join("bootstrap");
    }
    let exe = std::env::current_exe().unwrap_or_default();
    // target/<profile>/deps/<test binary> for a test; target/<profile>/<binary> for a bin.
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join(name)
}
