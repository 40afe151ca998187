//! The tables: per function, then per million sign-ins, in Markdown (the README shows them).

use std::collections::BTreeMap;

use crate::model::*;
use crate::{FLOW, Usage};

pub struct Run {
    /// How many warm sign-ins `warm` and `warm_refresh` sum.
    pub flows: usize,
    pub first: BTreeMap<&'static str, Usage>,
    pub first_refresh: Usage,
    pub warm: BTreeMap<&'static str, Usage>,
    pub warm_refresh: Usage,
    pub memory: BTreeMap<&'static str, f64>,
    pub secrets_stored: usize,
}

/// One line of the first table: a function's part of one warm sign-in.
struct Row {
    label: String,
    memory_mb: f64,
    invocations: f64,
    reads: f64,
    writes: f64,
    round_trips: f64,
    read_units: f64,
    write_units: f64,
    secret_reads: f64,
    first_secret_reads: usize,
    cpu_ms: f64,
    /// Per invocation: CPU at the memory's share of a vCPU, plus the AWS calls' waits.
    billed_ms: f64,
    /// Secrets this function read in the whole run: what a warm instance reads each minute.
    distinct_secrets: usize,
}

impl Row {
    fn new(label: &str, memory_mb: f64, warm: &Usage, first: &Usage, flows: usize) -> Self {
        let n = flows as f64;
        let invocations = warm.invocations as f64 / n;
        let per_call = |x: f64| if invocations > 0.0 { x / n / invocations } else { 0.0 };
        let cpu_ms = per_call(warm.cpu_ns as f64 / 1e6);
        let waits = per_call(warm.round_trips as f64) * DYNAMODB_LATENCY_MS
            + per_call(warm.secret_reads as f64) * SECRETS_LATENCY_MS;
        let billed_ms = (cpu_ms * (FULL_CPU_MB / memory_mb).max(1.0) + waits).ceil();
        let mut secrets = warm.secrets_read.clone();
        secrets.extend(first.secrets_read.iter().cloned());
        Self {
            label: label.to_owned(),
            memory_mb,
            invocations,
            reads: warm.reads as f64 / n,
            writes: warm.writes as f64 / n,
            round_trips: warm.round_trips as f64 / n,
            read_units: warm.capacity.read / n,
            write_units: warm.capacity.write / n,
            secret_reads: warm.secret_reads as f64 / n,
            first_secret_reads: first.secret_reads,
            cpu_ms,
            billed_ms,
            distinct_secrets: secrets.len(),
        }
    }

    fn gb_seconds(&self) -> f64 {
        self.billed_ms / 1000.0 * self.invocations * self.memory_mb / 1024.0
    }

    /// Secrets Manager reads a month: per request, or once a minute per secret on a warm
    /// instance (one per function: 1M sign-ins a month is about 0.4 a second), whichever is more.
    fn secret_calls_a_month(&self) -> f64 {
        (self.secret_reads * SIGN_INS).max(self.distinct_secrets as f64 * MINUTES_A_MONTH)
    }
}

pub fn print(run: &Run) {
    let memory = |name: &str| run.memory.get(name).copied().unwrap_or(FULL_CPU_MB);
    let mut rows: Vec<Row> = FLOW
        .iter()
        .map(|&name| {
            let warm = run.warm.get(name).cloned().unwrap_or_default();
            let first = run.first.get(name).cloned().unwrap_or_default();
            Row::new(name, memory(name), &warm, &first, run.flows)
        })
        .collect();
    rows.push(Row::new("token (refresh)", memory("token"), &run.warm_refresh, &run.first_refresh, run.flows));
    rows.retain(|row| row.invocations > 0.0);

    println!(
        "One sign-in (authorization-code flow with a password, then one refresh), mean of {} warm runs; \
         Secrets Manager reads of the first run on fresh instances in parentheses.\n",
        run.flows
    );
    println!(
        "| function | memory | invocations | DynamoDB reads / writes | round trips | RRU | WRU | GetSecretValue | CPU ms / invocation | billed ms / invocation |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for row in &rows {
        println!(
            "| {} | {} MB | {:.0} | {:.1} / {:.1} | {:.1} | {:.1} | {:.1} | {:.1} ({}) | {:.2} | {:.0} |",
            row.label,
            row.memory_mb,
            row.invocations,
            row.reads,
            row.writes,
            row.round_trips,
            row.read_units,
            row.write_units,
            row.secret_reads,
            row.first_secret_reads,
            row.cpu_ms,
            row.billed_ms
        );
    }
    let sum = |f: fn(&Row) -> f64| rows.iter().map(f).sum::<f64>();
    let first_total: usize = rows.iter().map(|r| r.first_secret_reads).sum();
    println!(
        "| **total** | | {:.0} | {:.1} / {:.1} | {:.1} | {:.1} | {:.1} | {:.1} ({first_total}) | | {:.0} ms |",
        sum(|r| r.invocations),
        sum(|r| r.reads),
        sum(|r| r.writes),
        sum(|r| r.round_trips),
        sum(|r| r.read_units),
        sum(|r| r.write_units),
        sum(|r| r.secret_reads),
        sum(|r| r.billed_ms * r.invocations),
    );

    let invocations = sum(|r| r.invocations) * SIGN_INS;
    let gb_seconds = sum(Row::gb_seconds) * SIGN_INS;
    let secret_calls = sum(Row::secret_calls_a_month);
    let users = SIGN_INS / SIGN_INS_PER_USER;
    let lines = [
        ("Lambda requests", format!("{:.1}M", invocations / 1e6), invocations * LAMBDA_PER_REQUEST),
        ("Lambda duration, arm64", format!("{gb_seconds:.0} GB-s"), gb_seconds * LAMBDA_ARM_PER_GB_S),
        ("API Gateway HTTP API", format!("{:.1}M requests", invocations / 1e6), invocations * HTTP_API_PER_REQUEST),
        (
            "DynamoDB reads (on demand)",
            format!("{:.1}M RRU", sum(|r| r.read_units)),
            sum(|r| r.read_units) * SIGN_INS * DYNAMODB_PER_RRU,
        ),
        (
            "DynamoDB writes (on demand)",
            format!("{:.1}M WRU", sum(|r| r.write_units)),
            sum(|r| r.write_units) * SIGN_INS * DYNAMODB_PER_WRU,
        ),
        ("Secrets Manager calls", format!("{:.0}k", secret_calls / 1e3), secret_calls * SECRETS_PER_CALL),
        (
            "Secrets Manager storage",
            format!("{} secrets", run.secrets_stored),
            run.secrets_stored as f64 * SECRETS_PER_SECRET_MONTH,
        ),
    ];
    let total: f64 = lines.iter().map(|(_, _, cost)| cost).sum();
    println!(
        "\n1M sign-ins a month ({users:.0} monthly active users signing in {SIGN_INS_PER_USER} times each), us-east-1 list prices, no free tiers:\n"
    );
    println!("| item | quantity | USD |");
    println!("|---|---|---|");
    for (item, quantity, cost) in &lines {
        println!("| {item} | {quantity} | {cost:.2} |");
    }
    println!("| **Gatehouse total** (Lambda arm64) | | **{total:.2}** |");
    let x86 = total + gb_seconds * (LAMBDA_X86_PER_GB_S - LAMBDA_ARM_PER_GB_S);
    println!("| Gatehouse total with Lambda x86_64 (the template's default) | | {x86:.2} |");
    let paid = (users - COGNITO_FREE_MAU).max(0.0);
    println!(
        "| Amazon Cognito Essentials ({paid:.0} MAU above 10,000 free × ${COGNITO_ESSENTIALS_PER_MAU}) | | {:.2} |",
        paid * COGNITO_ESSENTIALS_PER_MAU
    );
    println!(
        "| Amazon Cognito Lite ({paid:.0} MAU above 10,000 free × ${COGNITO_LITE_PER_MAU}) | | {:.2} |",
        paid * COGNITO_LITE_PER_MAU
    );
}
