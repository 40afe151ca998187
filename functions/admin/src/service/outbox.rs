//! The mail Gatehouse sent, newest first (delivery by SES would come after this outbox).

use gatehouse::app::AppState;
use gatehouse::outbox::OutboxPage;
use time::OffsetDateTime;

use super::AdminResult;

/// A page of the mail sent, newest first, older than `before` (a previous page's cursor).
pub async fn recent(
    state: &AppState,
    before: Option<&str>,
    limit: usize,
    now: OffsetDateTime,
) -> AdminResult<OutboxPage> {
    Ok(state.stores.outbox.recent(before, limit, now).await?)
}
