//! Outgoing mail. Every message goes through [`send`], which records it in the outbox;
//! delivery by Amazon SES would sit behind the same function as a later step.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::app::AppState;
use crate::secret::random_alphanumeric;
use crate::store::StoreResult;

/// How long the outbox keeps what was sent.
pub const OUTBOX_RETENTION: Duration = Duration::days(30);

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

pub async fn send(state: &AppState, to: &str, subject: &str, body: &str) -> StoreResult<()> {
    let mail = Mail {
        id: random_alphanumeric(16).map_err(crate::store::StoreError::backend)?,
        to: to.to_owned(),
        subject: subject.to_owned(),
        body: body.to_owned(),
        sent_at: state.now(),
    };
    state.stores.outbox.push(&mail).await?;
    tracing::info!(subject, "mail queued in the outbox");
    Ok(())
}
