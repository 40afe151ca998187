//! The AWS backend: DynamoDB for records, Secrets Manager for secrets.
//!
//! Each item keeps its record (the [`records`](super::records) shape) as a JSON string in
//! `doc`, next to the few attributes that are keys or indexed. Reads of single items are
//! strongly consistent, so a write is visible to the next read as in the embedded backend;
//! lists and the email lookup go through indexes, which are eventually consistent, as every
//! DynamoDB index is. No request scans a table.
//!
//! Expressions always name attributes through `#` placeholders: some plain names (`path`)
//! are DynamoDB reserved words.

use std::collections::HashMap;
use std::sync::Arc;

use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;

use super::{Retention, StoreError, StoreResult, Stores};
use crate::aws_sdk::sdk_config;
use crate::config::AwsSettings;

pub mod backfill;
#[cfg(feature = "test-suite")]
pub mod bulk;
mod contact_index;
mod contacts;
mod documents;
mod ephemeral;
mod grants;
mod issuance;
pub mod schema;
mod secrets;
mod timeline;

/// Opens the stores with [`sdk_config`], sending calls to `endpoint_url` when set.
pub async fn open(settings: &AwsSettings, retention: Retention) -> Stores {
    let sdk_config = sdk_config(settings.endpoint_url.as_deref()).await;
    if settings.backfill_listings {
        // Once per stack, off the request path: items saved before the listing indexes.
        let client = aws_sdk_dynamodb::Client::new(&bounded(&sdk_config));
        let prefix = settings.table_prefix.clone();
        tokio::spawn(async move {
            let now = crate::clock::Clock::now(&crate::clock::SystemClock);
            match backfill::run(&client, &prefix, now).await {
                Ok(0) => {}
                Ok(updated) => tracing::info!(updated, "listing indexes backfilled"),
                Err(e) => {
                    tracing::warn!(error = %e, "backfilling the listing indexes failed; the next start tries again")
                }
            }
        });
    }
    open_with_config(&sdk_config, settings, retention)
}

/// Opens the stores on an already loaded configuration (tests pass static credentials).
/// Tables must exist: see [`schema::create_tables`].
pub fn open_with_config(sdk_config: &SdkConfig, settings: &AwsSettings, retention: Retention) -> Stores {
    stores_on(&bounded(sdk_config), settings, retention)
}

/// The stores without the request timeouts, for benchmarks on moto, whose Queries read the
/// whole table and take seconds at 50,000 contacts.
#[cfg(feature = "test-suite")]
pub fn open_patiently(sdk_config: &SdkConfig, settings: &AwsSettings, retention: Retention) -> Stores {
    stores_on(sdk_config, settings, retention)
}

fn stores_on(sdk_config: &SdkConfig, settings: &AwsSettings, retention: Retention) -> Stores {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk_config);
    let prefix = &settings.table_prefix;
    let documents = |spec: &schema::TableSpec, listing: schema::IndexSpec| documents::DocumentTable {
        client: dynamo.clone(),
        table: spec.table_name(prefix),
        key: spec.partition_key,
        listing,
    };
    let ephemeral = Arc::new(ephemeral::EphemeralTable {
        client: dynamo.clone(),
        table: schema::EPHEMERAL.table_name(prefix),
        retention,
    });
    Stores {
        retention,
        contacts: Arc::new(contact_index::ContactsTable {
            client: dynamo.clone(),
            table: schema::CONTACTS.table_name(prefix),
        }),
        queries: Arc::new(documents::QueriesTable(documents(&schema::QUERIES, schema::QUERIES_BY_PATH))),
        registrations: Arc::new(documents::RegistrationsTable(documents(
            &schema::REGISTRATIONS,
            schema::REGISTRATIONS_BY_ID,
        ))),
        sessions: ephemeral.clone(),
        throttle: ephemeral.clone(),
        grants: ephemeral.clone(),
        logs: ephemeral.clone(),
        outbox: ephemeral,
        secrets: Arc::new(secrets::SecretsManager {
            client: aws_sdk_secretsmanager::Client::new(sdk_config),
            prefix: settings.secret_prefix.clone(),
        }),
    }
}

/// Every call is bounded, so a hung or unreachable endpoint becomes a clear "temporarily
/// unavailable" within a few seconds instead of holding the request (and a Lambda) until its
/// own timeout. Sized for Lambda behind API Gateway: three attempts, 6 s in all.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(6);
const SDK_MAX_ATTEMPTS: u32 = 3;

fn bounded(sdk_config: &SdkConfig) -> SdkConfig {
    sdk_config
        .to_builder()
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(SDK_MAX_ATTEMPTS))
        .build()
}

/// How many times a write that lost a race is tried again before giving up.
const MAX_ATTEMPTS: u32 = 8;

/// A short, growing pause before trying a contended write again.
async fn back_off(attempt: u32) {
    tokio::time::sleep(std::time::Duration::from_millis(20 * u64::from(attempt + 1))).await;
}

type Item = HashMap<String, AttributeValue>;

/// The attribute every item keeps its record in.
const DOC: &str = "doc";

fn string(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn number(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn string_attribute<'a>(item: &'a Item, name: &str) -> StoreResult<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value),
        _ => Err(StoreError::Backend(format!("stored item has no string attribute `{name}`"))),
    }
}

fn number_attribute(item: &Item, name: &str) -> StoreResult<i64> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => {
            value.parse().map_err(|_| StoreError::Backend(format!("stored attribute `{name}` is not an integer")))
        }
        _ => Err(StoreError::Backend(format!("stored item has no number attribute `{name}`"))),
    }
}

/// The item whose partition key `key` is `value`, read strongly consistent.
async fn get_item(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &str,
    value: String,
) -> StoreResult<Option<Item>> {
    let output = client
        .get_item()
        .table_name(table)
        .key(key, string(value))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| sdk_error("GetItem", table, e))?;
    Ok(output.item)
}

/// Whether a conditional write was refused because its condition did not hold.
fn is_condition_failure<E>(e: &aws_sdk_dynamodb::error::SdkError<E>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error().and_then(|s| s.code()) == Some("ConditionalCheckFailedException")
}

/// An SDK failure as a store error naming the call and its target, with the full cause chain:
/// `Unavailable` when AWS could not be reached or answered "slow down" after the retries,
/// `Backend` for everything else.
fn sdk_error<E, R>(action: &str, target: &str, err: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    let detail = format!("{action} on {target} failed: {}", DisplayErrorContext(&err));
    let unavailable = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(service) => matches!(
            service.err().code(),
            Some(
                "ThrottlingException"
                    | "ProvisionedThroughputExceededException"
                    | "RequestLimitExceeded"
                    | "InternalServerError"
                    | "InternalServiceError"
                    | "ServiceUnavailable"
            )
        ),
        _ => false,
    };
    if unavailable { StoreError::Unavailable(detail) } else { StoreError::Backend(detail) }
}
