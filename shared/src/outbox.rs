//! Mail that was sent, as the outbox keeps it. Sending it is a service (`services::mail`).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    #[serde(with = "time::serde::timestamp")]
    pub sent_at: OffsetDateTime,
}

impl Mail {
    pub fn sort_key(&self) -> String {
        format!("{:012}#{}", self.sent_at.unix_timestamp(), self.id)
    }
}
