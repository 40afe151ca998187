//! The OIDC log and the outbox in the ephemeral table, read newest first through the `by_time`
//! index: each item carries a month partition (`bucket`, e.g. `log#2026-12`) and a time-ordered
//! `sort_key`, and DynamoDB's TTL removes it after the retention.
//!
//! Warnings and errors are rare, and the level filter is the one administrators use most, so
//! each is also written to a view of its own (`log-warning#<month>` holds warnings and errors,
//! `log-error#<month>` errors): a level filter is then a Query that reads only matches. The
//! views began when this version first started (`VIEWS_SINCE`, written by the backfill); a
//! search reaching further back goes on in the whole log, filtered, within its read budget.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use time::OffsetDateTime;

use super::ephemeral::EphemeralTable;
use super::issuance::EXPIRES_AT;
use super::{DOC, Item, number, number_attribute, sdk_error, string, string_attribute};
use crate::event_log::{Level, LogEntry, LogFilter, LogPage, LogSearch};
use crate::outbox::{Mail, OutboxPage};
use crate::store::records::{from_json, to_json};
use crate::store::{LogStore, OutboxStore, StoreError, StoreResult};

/// The time index's attributes, and the kinds of item in it.
const BUCKET: &str = super::schema::EPHEMERAL_BY_TIME.partition_key;
const SORT_KEY: &str = "sort_key";
const LOG: &str = "log";
const LOG_WARNINGS: &str = "log-warning";
const LOG_ERRORS: &str = "log-error";
const MAIL: &str = "mail";
/// Items one Query of the time index reads at most.
const TIME_PAGE: i32 = 100;
/// The item saying when the level views began (`since`, epoch seconds); no TTL.
const VIEWS_SINCE: &str = "meta#log-views-since";
const SINCE: &str = "since";

/// The month partition of the time index that an item of `kind` at `at` is in.
fn bucket(kind: &str, at: OffsetDateTime) -> String {
    format!("{kind}#{:04}-{:02}", at.year(), u8::from(at.month()))
}

/// The kinds of item an entry is written as: the log, and the views of its level and above.
fn log_kinds(level: Level) -> &'static [&'static str] {
    match level {
        Level::Error => &[LOG, LOG_WARNINGS, LOG_ERRORS],
        Level::Warning => &[LOG, LOG_WARNINGS],
        Level::Info | Level::Debug => &[LOG],
    }
}

/// The kind a search for `level` and above reads: a view when there is one.
fn log_view(level: Option<Level>) -> &'static str {
    match level {
        Some(Level::Error) => LOG_ERRORS,
        Some(Level::Warning) => LOG_WARNINGS,
        Some(Level::Info | Level::Debug) | None => LOG,
    }
}

/// The time a sort key (`<epoch seconds, 12 digits>#<id>`) starts with.
fn time_of(sort_key: &str) -> Option<OffsetDateTime> {
    sort_key.get(..12)?.parse().ok().and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
}

fn key_at(at: OffsetDateTime) -> String {
    format!("{:012}", at.unix_timestamp())
}

/// Records when the level views began, unless that was recorded before (once per stack, by
/// the start-up backfill). A read first: every later cold start finds the record with half a
/// read unit, where a refused conditional write would cost a write unit.
pub(super) async fn start_log_views(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let pk = super::schema::EPHEMERAL.partition_key;
    if super::get_item(client, table, pk, VIEWS_SINCE.to_owned()).await?.is_some() {
        return Ok(());
    }
    // Another instance starting at the same moment may write it first: the earlier time stays.
    let put = client
        .put_item()
        .table_name(table)
        .item(pk, string(VIEWS_SINCE))
        .item(SINCE, number(now.unix_timestamp()))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", pk);
    match put.send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(()),
        Err(e) => Err(sdk_error("PutItem", table, e)),
    }
}

#[async_trait]
impl LogStore for EphemeralTable {
    async fn append(&self, entry: &LogEntry) -> StoreResult<()> {
        let mut items = self.log_items(entry)?;
        if items.len() == 1 {
            let put = self.client.put_item().table_name(&self.table).set_item(items.pop());
            put.send().await.map_err(|e| sdk_error("PutItem", &self.table, e))?;
            return Ok(());
        }
        // All views or none.
        let mut writes = Vec::new();
        for item in items {
            let put = Put::builder().table_name(&self.table).set_item(Some(item)).build();
            writes.push(TransactWriteItem::builder().put(put.map_err(StoreError::backend)?).build());
        }
        let write = self.client.transact_write_items().set_transact_items(Some(writes));
        write.send().await.map_err(|e| sdk_error("TransactWriteItems", &self.table, e))?;
        Ok(())
    }

    async fn search(&self, filter: &LogFilter, now: OffsetDateTime) -> StoreResult<LogPage> {
        let oldest = now - self.retention.log;
        let from = filter.from.map_or(oldest, |f| f.max(oldest));
        let mut newest = filter.to.unwrap_or(now);
        let mut upper = format!("{:012}$", filter.to.map_or(i64::MAX, |t| t.unix_timestamp()));
        if let Some(before) = filter.before.as_ref().filter(|b| **b < upper) {
            upper.clone_from(before);
            newest = time_of(before).map_or(newest, |at| at.min(newest));
        }
        let mut reader = LogReader { search: LogSearch::new(filter), cursor: filter.before.as_deref() };
        let view = log_view(filter.level);
        let since = if view == LOG { None } else { self.log_views_since().await? };
        let view_from = since.map_or(from, |since| since.max(from));
        self.newest_first(view, (view_from, newest), upper.clone(), &mut reader).await?;
        if let Some(since) = since.filter(|since| *since > from && !reader.search.is_done()) {
            // Entries from before the views: from the whole log, below the views' start.
            let below = key_at(since).min(upper);
            reader.search.reads_unviewed();
            self.newest_first(LOG, (from, since.min(newest)), below, &mut reader).await?;
        }
        Ok(reader.search.finish())
    }
}

#[async_trait]
impl OutboxStore for EphemeralTable {
    async fn push(&self, mail: &Mail) -> StoreResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(self.pk(), string(format!("{MAIL}#{}", mail.sort_key())))
            .item(DOC, string(to_json(mail)?))
            .item(BUCKET, string(bucket(MAIL, mail.sent_at)))
            .item(SORT_KEY, string(mail.sort_key()))
            .item(EXPIRES_AT, number((mail.sent_at + self.retention.outbox).unix_timestamp()))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", self.pk())
            .send()
            .await
            .map_err(|e| sdk_error("PutItem", &self.table, e))?;
        Ok(())
    }

    async fn recent(&self, before: Option<&str>, limit: usize, now: OffsetDateTime) -> StoreResult<OutboxPage> {
        let mut reader = MailReader { mails: Vec::new(), limit, cursor: before };
        let newest = before.and_then(time_of).map_or(now, |at| at.min(now));
        if limit > 0 {
            let upper = before.map_or_else(|| format!("{:012}$", i64::MAX), str::to_owned);
            self.newest_first(MAIL, (now - self.retention.outbox, newest), upper, &mut reader).await?;
        }
        Ok(OutboxPage::new(reader.mails, limit))
    }
}

/// What `newest_first` feeds the items it reads to.
trait Reader: Send {
    /// Takes an item's document; true when the reader has enough.
    fn take(&mut self, doc: &str) -> StoreResult<bool>;
    /// How many more items the reader may read.
    fn budget(&self) -> usize;
}

struct LogReader<'a> {
    search: LogSearch<'a>,
    /// The previous page's last entry, which the Query's BETWEEN reads again.
    cursor: Option<&'a str>,
}

impl Reader for LogReader<'_> {
    fn take(&mut self, doc: &str) -> StoreResult<bool> {
        let entry: LogEntry = from_json(doc)?;
        let shown = self.cursor.is_some_and(|b| entry.sort_key() == b);
        Ok(!shown && self.search.take(entry))
    }

    fn budget(&self) -> usize {
        self.search.unread_budget()
    }
}

struct MailReader<'a> {
    mails: Vec<Mail>,
    limit: usize,
    /// The previous page's last mail, which the Query's BETWEEN reads again.
    cursor: Option<&'a str>,
}

impl Reader for MailReader<'_> {
    fn take(&mut self, doc: &str) -> StoreResult<bool> {
        let mail: Mail = from_json(doc)?;
        if self.cursor.is_none_or(|c| mail.sort_key() != c) {
            self.mails.push(mail);
        }
        Ok(self.mails.len() >= self.limit)
    }

    fn budget(&self) -> usize {
        self.limit.saturating_sub(self.mails.len())
    }
}

impl EphemeralTable {
    /// The items an entry is written as: in the log, and in the views of its level and above.
    pub(super) fn log_items(&self, entry: &LogEntry) -> StoreResult<Vec<Item>> {
        let doc = to_json(entry)?;
        let item = |kind: &str| {
            Item::from([
                (self.pk().to_owned(), string(format!("{kind}#{}", entry.sort_key()))),
                (DOC.to_owned(), string(doc.clone())),
                (BUCKET.to_owned(), string(bucket(kind, entry.occurred_at))),
                (SORT_KEY.to_owned(), string(entry.sort_key())),
                (EXPIRES_AT.to_owned(), number((entry.occurred_at + self.retention.log).unix_timestamp())),
            ])
        };
        Ok(log_kinds(entry.level).iter().map(|kind| item(kind)).collect())
    }

    /// When the level views began; `None` before the backfill first ran (then every entry
    /// this version wrote is in them, and the older ones are not searched by level).
    async fn log_views_since(&self) -> StoreResult<Option<OffsetDateTime>> {
        let Some(item) = self.get_item(VIEWS_SINCE.to_owned()).await? else { return Ok(None) };
        let since = number_attribute(&item, SINCE)?;
        Ok(Some(crate::clock::from_unix(since)))
    }

    /// Feeds `reader` the records of `kind` with sort keys from `from` up to `upper`, newest
    /// first, month by month from `newest`'s back to `from`'s, until it has enough or has read
    /// its budget: each Query asks for no more than what is left of that.
    async fn newest_first(
        &self,
        kind: &str,
        (from, newest): (OffsetDateTime, OffsetDateTime),
        upper: String,
        reader: &mut impl Reader,
    ) -> StoreResult<()> {
        let lower = key_at(from);
        if upper < lower || newest < from {
            return Ok(());
        }
        let mut month = newest;
        let first_month = bucket(kind, from);
        loop {
            let partition = bucket(kind, month);
            let mut start = None;
            loop {
                if reader.budget() == 0 {
                    return Ok(());
                }
                let output = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(super::schema::EPHEMERAL_BY_TIME.name)
                    .key_condition_expression("#bucket = :bucket AND #sort_key BETWEEN :lower AND :upper")
                    .expression_attribute_names("#bucket", BUCKET)
                    .expression_attribute_names("#sort_key", SORT_KEY)
                    .expression_attribute_values(":bucket", string(partition.clone()))
                    .expression_attribute_values(":lower", string(lower.clone()))
                    .expression_attribute_values(":upper", string(upper.clone()))
                    .scan_index_forward(false)
                    .limit(i32::try_from(reader.budget()).unwrap_or(TIME_PAGE).clamp(1, TIME_PAGE))
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(|e| sdk_error("Query", &self.table, e))?;
                for item in output.items() {
                    if reader.take(string_attribute(item, DOC)?)? {
                        return Ok(());
                    }
                }
                match output.last_evaluated_key {
                    Some(key) if !key.is_empty() => start = Some(key),
                    _ => break,
                }
            }
            if partition <= first_month {
                return Ok(());
            }
            month = start_of_previous_month(month);
        }
    }
}

/// Some instant in the month before `at`'s.
fn start_of_previous_month(at: OffsetDateTime) -> OffsetDateTime {
    let first = at.replace_day(1).unwrap_or(at).replace_time(time::Time::MIDNIGHT);
    first - time::Duration::days(1)
}
