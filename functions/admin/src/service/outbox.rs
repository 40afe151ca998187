//! The mail Gatehouse sent, newest first (delivery by SES would come after this outbox).

use gatehouse::app::AppState;
use gatehouse::outbox::Mail;
use time::OffsetDateTime;

use super::AdminResult;

pub async fn recent(state: &AppState, limit: usize, now: OffsetDateTime) -> AdminResult<Vec<Mail>> {
    Ok(state.stores.outbox.recent(limit, now).await?)
}
