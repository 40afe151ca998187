//! The OIDC log: every request to and from the provider, every decision and every error,
//! with secrets and tokens redacted, kept for the stores' retention, filtered by administrators.
//! Writing an entry is a service (`services::log`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::secret::random_alphanumeric;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Debug,
    Info,
    Warning,
    Error,
}

impl Level {
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "debug" => Self::Debug,
            "info" => Self::Info,
            "warning" => Self::Warning,
            "error" => Self::Error,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    pub id: String,
    pub level: Level,
    pub message: String,
    pub details: Value,
    #[serde(with = "time::serde::timestamp")]
    pub occurred_at: OffsetDateTime,
}

impl LogEntry {
    pub fn new(level: Level, message: impl Into<String>, mut details: Value, now: OffsetDateTime) -> Self {
        redact(&mut details);
        Self {
            id: random_alphanumeric(16).unwrap_or_default(),
            level,
            message: message.into(),
            details,
            occurred_at: now,
        }
    }

    /// The key both backends order by: time, then id.
    pub fn sort_key(&self) -> String {
        format!("{:012}#{}", self.occurred_at.unix_timestamp(), self.id)
    }
}

/// What an administrator asks for on the Logs tab.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// This level and above.
    pub level: Option<Level>,
    pub contains: Option<String>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
    /// Entries strictly older than this sort key (the previous page's last).
    pub before: Option<String>,
    pub limit: usize,
}

impl LogFilter {
    /// Entries one search reads at most, matching or not, so that a rare match costs a page's
    /// worth of reads and not the whole retention: the page then says how far back it looked.
    pub fn read_budget(&self) -> usize {
        // Without text, and with a level that has a view of its own in both stores (warnings
        // and errors; debug is everything), every entry read matches: a page reads a page.
        if self.contains.is_none() && self.level != Some(Level::Info) {
            return self.limit.max(1);
        }
        crate::paging::read_budget(self.limit)
    }

    pub fn matches(&self, entry: &LogEntry) -> bool {
        self.level.is_none_or(|l| entry.level >= l)
            && self.from.is_none_or(|f| entry.occurred_at >= f)
            && self.to.is_none_or(|t| entry.occurred_at <= t)
            && self.before.as_deref().is_none_or(|b| entry.sort_key().as_str() < b)
            && self.contains.as_deref().is_none_or(|text| {
                let text = text.to_lowercase();
                entry.message.to_lowercase().contains(&text) || entry.details.to_string().to_lowercase().contains(&text)
            })
    }
}

/// One page of a log search, newest first, and the cursor of the next (older) page: set when
/// the search stopped before the end of the period, because the page was full or because it
/// read its budget of entries first (then the page may hold few matches, or none).
#[derive(Debug, Default)]
pub struct LogPage {
    pub entries: Vec<LogEntry>,
    pub next_before: Option<String>,
}

impl LogPage {
    /// The time of the oldest entry the search read, when it stopped early.
    pub fn searched_back_to(&self) -> Option<OffsetDateTime> {
        let seconds = self.next_before.as_deref()?.get(..12)?.parse().ok()?;
        OffsetDateTime::from_unix_timestamp(seconds).ok()
    }
}

/// Collects a page from the entries a backend reads, newest first.
pub struct LogSearch<'a> {
    filter: &'a LogFilter,
    page: LogPage,
    read: usize,
    budget: usize,
}

impl<'a> LogSearch<'a> {
    pub fn new(filter: &'a LogFilter) -> Self {
        Self { filter, page: LogPage::default(), read: 0, budget: filter.read_budget() }
    }

    /// Entries the search may still read.
    pub fn unread_budget(&self) -> usize {
        self.budget.saturating_sub(self.read)
    }

    /// From here on the search reads entries its level has no view of (those from before the
    /// views began): most will not match, so it may read as much as a text search.
    pub fn reads_unviewed(&mut self) {
        self.budget = self.budget.max(crate::paging::read_budget(self.filter.limit));
    }

    /// Takes the next entry read; true when the search has read enough.
    pub fn take(&mut self, entry: LogEntry) -> bool {
        self.read += 1;
        let key = entry.sort_key();
        if self.filter.matches(&entry) {
            self.page.entries.push(entry);
        }
        let done = self.page.entries.len() >= self.filter.limit || self.unread_budget() == 0;
        if done {
            self.page.next_before = Some(key);
        }
        done
    }

    /// Whether the page is full or the budget read.
    pub fn is_done(&self) -> bool {
        self.page.next_before.is_some()
    }

    pub fn finish(self) -> LogPage {
        self.page
    }
}

const SECRET_KEYS: &[&str] = &[
    "client_secret",
    "secret",
    "password",
    "code",
    "code_verifier",
    "id_token",
    "access_token",
    "refresh_token",
    "authorization",
    "assertion",
    "pkce_verifier",
    "state",
    "nonce",
];

/// Replaces the value of every secret-looking key, at any depth.
pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if SECRET_KEYS.contains(&key.to_lowercase().as_str()) && !v.is_null() {
                    *v = Value::String("<redacted>".into());
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let mut v =
            json!({"client_secret": "s3", "nested": [{"code": "abc", "email": "a@b.org"}], "id_token": "x.y.z"});
        redact(&mut v);
        assert_eq!(
            v,
            json!({"client_secret": "<redacted>", "nested": [{"code": "<redacted>", "email": "a@b.org"}], "id_token": "<redacted>"})
        );
    }
}
