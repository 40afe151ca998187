//! The mail Gatehouse sent, newest first (delivery by SES would come after this outbox).

use gatehouse::app::AppState;
use gatehouse::outbox::OutboxPage;
use time::OffsetDateTime;

use gatehouse::validation::Invalid;

use super::AdminResult;

/// A page of the mail sent, newest first, older than `before` (a previous page's cursor).
pub async fn recent(
    state: &AppState,
    before: Option<&str>,
    limit: usize,
    now: OffsetDateTime,
) -> AdminResult<OutboxPage> {
    if before.is_some_and(|b| !gatehouse::paging::is_time_cursor(b)) {
        return Err(Invalid::new("before", "is not the cursor of a page of the outbox; start from the newest").into());
    }
    Ok(state.stores.outbox.recent(before, limit, now).await?)
}
