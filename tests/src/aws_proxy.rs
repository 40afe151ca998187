//! A proxy in front of moto that sees every AWS call a Gatehouse process makes: it fails the
//! operations (by `X-Amz-Target`) listed in `failing` with AWS's "internal server error", and
//! records the others. For a DynamoDB write it also reads, straight from moto, the items the
//! write touches before and after it, so the write's capacity can be priced by item size.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// One call that reached moto.
#[derive(Debug, Clone)]
pub struct Call {
    /// `X-Amz-Target`, e.g. `DynamoDB_20120810.GetItem` or `secretsmanager.GetSecretValue`.
    pub target: String,
    pub request: Value,
    pub response: Value,
    /// For DynamoDB writes: each touched item (table, before, after), in request order.
    pub touched: Vec<Touched>,
    /// When the call arrived and when its answer went back: calls whose spans overlap were
    /// made concurrently, and wait for one round trip between them.
    pub span: (Instant, Instant),
}

#[derive(Debug, Clone)]
pub struct Touched {
    pub table: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

#[derive(Clone)]
pub struct AwsProxy {
    pub url: String,
    pub failing: Arc<Mutex<HashSet<&'static str>>>,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl AwsProxy {
    /// Listens on a free loopback port and forwards to `upstream` (moto).
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Self {
            url: format!("http://{}", listener.local_addr().unwrap()),
            failing: Arc::default(),
            calls: Arc::default(),
        };
        let shared = Arc::new(Shared { upstream, http: reqwest::Client::new(), proxy: proxy.clone() });
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| shared.clone().forward(req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        proxy
    }

    /// The calls recorded so far, and forgets them.
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }

    /// How many recorded calls had `target`.
    pub fn count(&self, target: &str) -> usize {
        self.calls.lock().unwrap().iter().filter(|c| c.target == target).count()
    }
}

struct Shared {
    upstream: String,
    http: reqwest::Client,
    proxy: AwsProxy,
}

/// The headers a raw call to moto needs (moto takes the account from the credentials' key id).
type Headers = Vec<(String, String)>;

impl Shared {
    async fn forward(
        self: Arc<Self>,
        req: hyper::Request<Incoming>,
    ) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
        let arrived = Instant::now();
        let target = req.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        if self.proxy.failing.lock().unwrap().contains(target.as_str()) {
            let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected"}"#;
            let response = hyper::Response::builder()
                .status(500)
                .header("content-type", "application/x-amz-json-1.0")
                .header("x-amzn-errortype", "InternalServerError")
                .body(Full::new(Bytes::from(body)))
                .unwrap();
            return Ok(response);
        }
        let (parts, body) = req.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let headers: Headers = parts
            .headers
            .iter()
            .filter(|(name, _)| *name != "host" && *name != "content-length")
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
            .collect();
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let keys = written_keys(&target, &request);
        let mut before = Vec::new();
        for (table, key) in &keys {
            before.push(self.item(&headers, table, key).await);
        }
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut outgoing = self.http.request(parts.method, format!("{}{path}", self.upstream)).body(body);
        for (name, value) in &headers {
            outgoing = outgoing.header(name, value);
        }
        let answer = outgoing.send().await.unwrap();
        let mut response = hyper::Response::builder().status(answer.status().as_u16());
        for (name, value) in answer.headers() {
            if name != "transfer-encoding" && name != "content-length" {
                response = response.header(name, value);
            }
        }
        let answer = answer.bytes().await.unwrap();
        let mut touched = Vec::new();
        for ((table, key), before) in keys.iter().zip(before) {
            touched.push(Touched { table: table.clone(), before, after: self.item(&headers, table, key).await });
        }
        if !target.is_empty() {
            let response = serde_json::from_slice(&answer).unwrap_or(Value::Null);
            let span = (arrived, Instant::now());
            self.proxy.calls.lock().unwrap().push(Call { target, request, response, touched, span });
        }
        Ok(response.body(Full::new(answer)).unwrap())
    }

    /// The item under `key`, read from moto directly (strongly consistent, not recorded).
    async fn item(&self, headers: &Headers, table: &str, key: &Value) -> Option<Value> {
        let mut call =
            self.http.post(&self.upstream).json(&json!({"TableName": table, "Key": key, "ConsistentRead": true}));
        for (name, value) in headers {
            if name != "x-amz-target" && name != "content-type" {
                call = call.header(name, value);
            }
        }
        let call = call
            .header("x-amz-target", "DynamoDB_20120810.GetItem")
            .header("content-type", "application/x-amz-json-1.0");
        let answer: Value = call.send().await.ok()?.json().await.ok()?;
        answer.get("Item").cloned()
    }
}

/// How many round trips `calls` waited for: calls whose spans overlap (made concurrently)
/// count as one.
pub fn round_trips<'a>(calls: impl IntoIterator<Item = &'a Call>) -> usize {
    let mut spans: Vec<_> = calls.into_iter().map(|c| c.span).collect();
    spans.sort();
    let mut trips = 0;
    let mut open_until: Option<Instant> = None;
    for (start, end) in spans {
        match open_until {
            Some(until) if start < until => open_until = Some(until.max(end)),
            _ => {
                trips += 1;
                open_until = Some(end);
            }
        }
    }
    trips
}

/// The (table, key) of every item a DynamoDB write request touches.
fn written_keys(target: &str, request: &Value) -> Vec<(String, Value)> {
    let one = |op: &Value| -> Option<(String, Value)> {
        let table = op["TableName"].as_str()?.to_owned();
        let key = match op.get("Key") {
            Some(key) => key.clone(),
            None => {
                let item = op.get("Item")?;
                let name = partition_key(&table)?;
                json!({ name: item.get(name)? })
            }
        };
        Some((table, key))
    };
    match target.strip_prefix("DynamoDB_20120810.") {
        Some("PutItem" | "UpdateItem" | "DeleteItem") => one(request).into_iter().collect(),
        Some("TransactWriteItems") => request["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|action| action.as_object()?.values().next().and_then(one))
            .collect(),
        _ => Vec::new(),
    }
}

/// The partition key of a table, from the schema every table follows (none has a sort key).
pub fn partition_key(table: &str) -> Option<&'static str> {
    gatehouse::store::aws::schema::TABLES.iter().find(|t| table.ends_with(t.suffix)).map(|t| t.partition_key)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn call(from_ms: u64, to_ms: u64, origin: Instant) -> Call {
        let at = |ms| origin + Duration::from_millis(ms);
        Call {
            target: String::new(),
            request: Value::Null,
            response: Value::Null,
            touched: Vec::new(),
            span: (at(from_ms), at(to_ms)),
        }
    }

    #[test]
    fn overlapping_calls_are_one_round_trip() {
        let t = Instant::now();
        assert_eq!(round_trips(&[]), 0);
        let one_after_another = [call(0, 5, t), call(6, 10, t), call(11, 12, t)];
        assert_eq!(round_trips(&one_after_another), 3);
        let two_then_three = [call(0, 5, t), call(1, 6, t), call(7, 10, t), call(8, 9, t), call(9, 12, t)];
        assert_eq!(round_trips(&two_then_three), 2);
    }
}
