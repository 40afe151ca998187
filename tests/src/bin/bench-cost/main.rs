//! Benchmark: what one sign-in costs on AWS. Each function's binary runs as under Lambda (our
//! Runtime API emulator, the template's environment, behind the HTTP API stand-in) on moto, each
//! behind its own recording proxy, so every AWS call is counted for the function that made it.
//! A sign-in is one authorization-code flow (authorize, the sign-in page and a password, consent
//! the first time, the code at /token with client_secret_basic and PKCE, userinfo) and one
//! refresh. Prints per function: invocations, DynamoDB requests and request units (priced by
//! item size, see `gatehouse_tests::capacity`), Secrets Manager reads, CPU per invocation
//! (all the process's threads, from `/proc`), the modelled billed milliseconds; then what 1M
//! sign-ins cost at us-east-1 list prices next to Amazon Cognito for the same users.
//!
//! `cargo build --profile perf --bins -p gatehouse-tests -p gatehouse-signin-redirect
//! -p gatehouse-authorize -p gatehouse-token -p gatehouse-userinfo -p gatehouse-admin`, then
//! `eval "$(bash tests/support/moto.sh start)"; target/perf/bench-cost [flows] [binaries dir]`
//! (the binaries default to those beside this one).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gatehouse::secret::SecretString;
use gatehouse_tests::aws_proxy::{AwsProxy, round_trips};
use gatehouse_tests::capacity::{Capacity, consumed};
use gatehouse_tests::runtime_api::{
    ADMIN_PASSWORD_SECRET, Gateway, LambdaProcess, RuntimeApi, function_binary, template_environment,
};
use gatehouse_tests::{Client, add_member, authorize_url, fresh_aws, location, pkce_pair, register_app, url_params};
use tokio::net::TcpListener;

mod report;

/// The functions a sign-in uses, and the admin one that sets the stack up.
const FLOW: [&str; 4] = ["authorize", "signin-redirect", "token", "userinfo"];
const ADMIN_PASSWORD: &str = "bench-cost-admin-password-0123456789";

mod model {
    //! The cost model's assumptions and prices (us-east-1 list prices as published on
    //! aws.amazon.com/<service>/pricing, read 2026-12-02; Cognito's as transcribed 2026-09-20).
    pub const DYNAMODB_LATENCY_MS: f64 = 5.0;
    pub const SECRETS_LATENCY_MS: f64 = 20.0;
    /// Lambda gives a function one full vCPU at 1,769 MB and a share in proportion below.
    pub const FULL_CPU_MB: f64 = 1769.0;
    pub const LAMBDA_PER_REQUEST: f64 = 0.20 / 1e6;
    pub const LAMBDA_ARM_PER_GB_S: f64 = 0.000_013_333_4;
    pub const LAMBDA_X86_PER_GB_S: f64 = 0.000_016_666_7;
    pub const HTTP_API_PER_REQUEST: f64 = 1.00 / 1e6;
    pub const DYNAMODB_PER_RRU: f64 = 0.125 / 1e6;
    pub const DYNAMODB_PER_WRU: f64 = 0.625 / 1e6;
    pub const SECRETS_PER_CALL: f64 = 0.05 / 1e4;
    pub const SECRETS_PER_SECRET_MONTH: f64 = 0.40;
    /// A 30-day month: how often a warm instance reads each secret (once a minute).
    pub const MINUTES_A_MONTH: f64 = 43_200.0;
    pub const SIGN_INS: f64 = 1e6;
    pub const SIGN_INS_PER_USER: f64 = 10.0;
    pub const COGNITO_FREE_MAU: f64 = 10_000.0;
    pub const COGNITO_ESSENTIALS_PER_MAU: f64 = 0.015;
    /// Lite's rate from 10,001 to 100,000 MAUs.
    pub const COGNITO_LITE_PER_MAU: f64 = 0.0055;
}

/// What the functions used between two snapshots.
#[derive(Debug, Clone, Default)]
struct Usage {
    invocations: u64,
    cpu_ns: u64,
    reads: usize,
    writes: usize,
    /// DynamoDB calls counted once per group made concurrently: what the function waits for.
    round_trips: usize,
    capacity: Capacity,
    secret_reads: usize,
    secrets_read: BTreeSet<String>,
}

impl Usage {
    fn add(&mut self, other: &Usage) {
        self.invocations += other.invocations;
        self.cpu_ns += other.cpu_ns;
        self.reads += other.reads;
        self.writes += other.writes;
        self.round_trips += other.round_trips;
        self.capacity += other.capacity;
        self.secret_reads += other.secret_reads;
        self.secrets_read.extend(other.secrets_read.iter().cloned());
    }
}

struct Function {
    name: &'static str,
    process: Arc<LambdaProcess>,
    proxy: AwsProxy,
    memory_mb: f64,
    /// Invocations and CPU at the last snapshot.
    seen: (u64, u64),
}

impl Function {
    /// What it used since the last call.
    fn usage(&mut self) -> Usage {
        let mut usage = Usage::default();
        let now = (self.process.api.invocations(), cpu_ns(self.process.pid()));
        (usage.invocations, usage.cpu_ns) = (now.0 - self.seen.0, now.1 - self.seen.1);
        self.seen = now;
        let calls = self.proxy.take();
        usage.round_trips = round_trips(calls.iter().filter(|c| c.target.starts_with("DynamoDB_20120810.")));
        for call in calls {
            if call.target == "secretsmanager.GetSecretValue" {
                usage.secret_reads += 1;
                usage.secrets_read.insert(call.request["SecretId"].as_str().unwrap_or_default().to_owned());
            } else if let Some(op) = call.target.strip_prefix("DynamoDB_20120810.") {
                if matches!(op, "GetItem" | "Query" | "Scan" | "BatchGetItem" | "TransactGetItems") {
                    usage.reads += 1;
                } else {
                    usage.writes += 1;
                }
                usage.capacity += consumed(&call);
            }
        }
        usage
    }
}

/// CPU time of every thread of the process, in ns (`/proc/<pid>/task/*/schedstat`).
fn cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return 0 };
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok())
        .filter_map(|line| line.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// The function's memory in infra/template.yaml (its own `MemorySize`, else the Globals').
fn template_memory_mb(name: &str) -> f64 {
    let template = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml"))
        .expect("read infra/template.yaml");
    let size = |line: &str| line.trim().strip_prefix("MemorySize:").and_then(|v| v.trim().parse::<f64>().ok());
    let global = template.lines().find_map(size).expect("a global MemorySize");
    let mut functions = template.split("Type: AWS::Serverless::Function").skip(1);
    let own = functions
        .find(|f| f.lines().any(|l| l.trim() == format!("Binary: {name}")))
        // The function's own lines are indented deeper than the next resource's name.
        .and_then(|f| f.lines().skip(1).take_while(|l| l.starts_with("    ") || l.trim().is_empty()).find_map(size));
    own.unwrap_or(global)
}

async fn start_function(
    name: &'static str,
    settings: &gatehouse::config::AwsSettings,
    issuer: &str,
    binaries: Option<&Path>,
    log_dir: &Path,
) -> Function {
    let proxy = AwsProxy::start(settings.endpoint_url.clone().expect("the moto endpoint")).await;
    let mut own = settings.clone();
    own.endpoint_url = Some(proxy.url.clone());
    let binary = binaries.map_or_else(|| function_binary(name), |dir| dir.join(name));
    let env = template_environment(name, &own, issuer);
    let api = RuntimeApi::start(name).await.unwrap();
    let log = log_dir.join(format!("{name}.log"));
    let process = LambdaProcess::spawn(api, &binary, name, &env, log).expect("start the function");
    process.wait_ready(std::time::Duration::from_secs(30)).await.unwrap_or_else(|e| panic!("{e}"));
    let memory_mb = template_memory_mb(name);
    Function { name, process: Arc::new(process), proxy, memory_mb, seen: (0, 0) }
}

/// One sign-in's flow (as `member`, in a fresh browser) and one refresh; what each function used.
async fn sign_in(
    base: &str,
    app: &gatehouse_tests::App,
    functions: &mut [Function],
) -> (BTreeMap<&'static str, Usage>, Usage) {
    let mut browser = Client::at(base);
    let (verifier, challenge) = pkce_pair();
    let start = authorize_url(app, &[("code_challenge", &challenge), ("code_challenge_method", "S256")]);
    let answer = browser.authorize(&start, "member").await;
    let code = url_params(&location(&answer), false)["code"].clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", app.redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, tokens) = browser.token(app, &form).await;
    assert_eq!(status, 200, "{tokens}");
    let (status, _) = browser.userinfo(tokens["access_token"].as_str().unwrap_or_default()).await;
    assert_eq!(status, 200);
    let flow = functions.iter_mut().map(|f| (f.name, f.usage())).collect();
    let refresh_token = tokens["refresh_token"].as_str().expect("a refresh token (offline_access)");
    let (status, body) = browser.token(app, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]).await;
    assert_eq!(status, 200, "{body}");
    let mut refresh = Usage::default();
    for function in functions.iter_mut() {
        refresh.add(&function.usage());
    }
    (flow, refresh)
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let flows: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(20).max(2);
    let binaries = args.next().map(PathBuf::from);
    let settings = fresh_aws().await;
    let stores = gatehouse::store::aws::open(&settings, gatehouse::store::Retention::default()).await;
    stores.secrets.put(ADMIN_PASSWORD_SECRET, &SecretString::new(ADMIN_PASSWORD)).await.unwrap();
    let log_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(".work/bench-cost").join(&settings.table_prefix);

    // The stack, set up through the admin function: an app and a member.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let issuer = format!("http://{addr}");
    let mut setup = HashMap::new();
    for name in FLOW.into_iter().chain(["admin"]) {
        let function = start_function(name, &settings, &issuer, binaries.as_deref(), &log_dir).await;
        setup.insert(name, function.process.clone());
    }
    let gateway = Gateway::serve(listener, setup.clone()).unwrap();
    // The sign-in function creates the first administrator beside its runtime, after start-up:
    // a sign-in made at once (no person types that fast) could look for them before they exist.
    for _ in 0..500 {
        if stores.contacts.find_by_username("admin").await.unwrap().is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let admin = Client::admin_at(&issuer, ADMIN_PASSWORD).await;
    let app = register_app(&admin, "Bench cost", &[], "array").await;
    add_member(&admin, "member", "A").await;
    drop((gateway, admin, setup));

    // Fresh instances for the flows, so the first flow is what a cold instance does.
    let mut functions = Vec::new();
    for name in FLOW {
        functions.push(start_function(name, &settings, &issuer, binaries.as_deref(), &log_dir).await);
    }
    let routes = functions.iter().map(|f| (f.name, f.process.clone())).collect();
    let listener = TcpListener::bind(addr).await.expect("the issuer's address again");
    let _gateway = Gateway::serve(listener, routes).unwrap();
    for function in &mut functions {
        function.usage();
    }
    let (first, first_refresh) = sign_in(&issuer, &app, &mut functions).await;
    let mut warm: BTreeMap<&'static str, Usage> = BTreeMap::new();
    let mut warm_refresh = Usage::default();
    for _ in 1..flows {
        let (flow, refresh) = sign_in(&issuer, &app, &mut functions).await;
        for (name, usage) in flow {
            warm.entry(name).or_default().add(&usage);
        }
        warm_refresh.add(&refresh);
    }
    let secrets_stored = stores.secrets.list("").await.unwrap().len();
    let memory: BTreeMap<&str, f64> = functions.iter().map(|f| (f.name, f.memory_mb)).collect();
    report::print(&report::Run { flows: flows - 1, first, first_refresh, warm, warm_refresh, memory, secrets_stored });
}
