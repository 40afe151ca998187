//! Outgoing mail. Every message goes through [`send`], which records it in the outbox;
//! delivery by Amazon SES would sit behind the same function as a later step.

use time::OffsetDateTime;

use crate::outbox::Mail;
use crate::secret::random_alphanumeric;
use crate::store::{StoreError, StoreResult, Stores};

pub async fn send(stores: &Stores, now: OffsetDateTime, to: &str, subject: &str, body: &str) -> StoreResult<()> {
    let mail = Mail {
        id: random_alphanumeric(16).map_err(StoreError::backend)?,
        to: to.to_owned(),
        subject: subject.to_owned(),
        body: body.to_owned(),
        sent_at: now,
    };
    stores.outbox.push(&mail).await?;
    tracing::info!(subject, "mail queued in the outbox");
    Ok(())
}
