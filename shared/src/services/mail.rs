//! Sending mail: a few attempts through the configured transport, then one entry in the
//! delivery log (recipient, subject, status, the provider's message id — never the body, which
//! may hold a link that signs someone in). Failures are logged without the body too.

use std::time::Duration;

use time::OffsetDateTime;

use crate::mail::{Mailer, Message};
use crate::outbox::{Delivery, Mail};
use crate::secret::random_alphanumeric;
use crate::store::{StoreError, StoreResult, Stores};

/// Attempts per message, and the pause before each retry.
const ATTEMPTS: u32 = 3;
const BACKOFF: [Duration; 2] = [Duration::from_millis(200), Duration::from_millis(800)];

/// Sends `message` and records the outcome. A failed send is not an error for the caller (the
/// person sees the same neutral page either way); it is in the delivery log and the logs.
pub async fn send(stores: &Stores, mailer: &Mailer, now: OffsetDateTime, message: &Message) -> StoreResult<Mail> {
    let id = random_alphanumeric(16).map_err(StoreError::backend)?;
    let mut attempts = 0;
    let outcome = loop {
        attempts += 1;
        match mailer.send(&id, message).await {
            Ok(provider_id) => break Ok(provider_id),
            Err(e) if attempts >= ATTEMPTS => break Err(e.to_string()),
            Err(e) => {
                tracing::warn!(attempt = attempts, error = %e, subject = message.subject, "mail not sent; retrying");
                if let Some(pause) = BACKOFF.get(attempts as usize - 1) {
                    tokio::time::sleep(*pause).await;
                }
            }
        }
    };
    let delivery = match outcome {
        Ok(provider_message_id) => Delivery::Sent { provider_message_id },
        Err(error) => {
            tracing::error!(error, attempts, subject = message.subject, "mail could not be sent");
            Delivery::Failed { error }
        }
    };
    let mail = Mail {
        id,
        to: message.to.clone(),
        subject: message.subject.clone(),
        transport: mailer.transport(),
        delivery,
        attempts,
        sent_at: now,
    };
    stores.outbox.push(&mail).await?;
    Ok(mail)
}
