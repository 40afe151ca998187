//! The delivery log: what mail Gatehouse sent, to whom, and whether it left. Never the body,
//! which may hold a link that signs someone in. Sending is a service (`services::mail`).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::mail::Transport;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub id: String,
    pub to: String,
    pub subject: String,
    #[serde(default)]
    pub transport: Transport,
    #[serde(default)]
    pub delivery: Delivery,
    /// How many times sending was tried.
    pub attempts: u32,
    #[serde(with = "time::serde::timestamp")]
    pub sent_at: OffsetDateTime,
}

/// Whether the message left, as the transport answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Delivery {
    /// Accepted by SES or the SMTP relay (or printed on the console), with its message id.
    Sent { provider_message_id: Option<String> },
    /// Every attempt failed; why, without the body.
    Failed { error: String },
    /// Kept in the outbox by an earlier version that sent nothing.
    #[default]
    Recorded,
}

impl Mail {
    pub fn sort_key(&self) -> String {
        format!("{:012}#{}", self.sent_at.unix_timestamp(), self.id)
    }
}

/// A page of the outbox, newest first, and the cursor of the next (older) page: the last
/// mail's sort key when the page is full.
#[derive(Debug, Default)]
pub struct OutboxPage {
    pub mails: Vec<Mail>,
    pub next_before: Option<String>,
}

impl OutboxPage {
    pub fn new(mails: Vec<Mail>, limit: usize) -> Self {
        let next_before = mails.last().filter(|_| mails.len() >= limit).map(Mail::sort_key);
        Self { mails, next_before }
    }
}
