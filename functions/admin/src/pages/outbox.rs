//! `/admin/outbox`: the delivery log of the mail Gatehouse sent (password resets, usernames, the
//! OIDC "forgot" email), newest first: to whom, what, whether it left. Never the body.

use axum::Router;
use axum::routing::get;
use gatehouse::mail::Transport;
use gatehouse::outbox::{Delivery, Mail};
use gatehouse::web::error::PageError;
use gatehouse::web::{Response, SharedState, StatusCode};
use maud::html;

use super::{Ctx, Section, admin_page, encode};

fn status(mail: &Mail) -> String {
    let attempts = if mail.attempts > 1 { format!(" after {} attempts", mail.attempts) } else { String::new() };
    match (&mail.delivery, mail.transport) {
        (Delivery::Sent { .. }, Transport::Console) => "Printed on the server's console (no mail configured)".into(),
        (Delivery::Sent { .. }, Transport::Ses) => format!("Sent by Amazon SES{attempts}"),
        (Delivery::Sent { .. }, _) => format!("Sent by SMTP{attempts}"),
        (Delivery::Failed { error }, _) => format!("Not sent{attempts}: {error}"),
        (Delivery::Recorded, _) => "Recorded only (before mail was sent)".into(),
    }
}

const SHOWN: usize = 100;

pub fn routes() -> Router<SharedState> {
    Router::new().route("/admin/outbox", get(list))
}

async fn list(ctx: Ctx) -> Result<Response, PageError> {
    let ctx = &ctx;
    let before = ctx.query().non_empty("before").map(str::to_owned);
    let page = crate::service::outbox::recent(&ctx.state, before.as_deref(), SHOWN, ctx.now).await?;
    let mails = &page.mails;
    let body = html! {
        h1 { "Outbox" }
        p.hint { "The mail Gatehouse sent in the past " (ctx.state.stores.retention.outbox.whole_days()) " days, newest first, " (SHOWN) " to a page. Bodies are not kept: they hold links that sign people in." }
        @if mails.is_empty() {
            div.card { p { @if before.is_some() { "No older mail." } @else { "No mail has been sent yet." } } }
        } @else {
            div.table-scroll { table.stack {
                thead { tr { th { "Sent (UTC)" } th { "To" } th { "Subject" } th { "Status" } th { "Message ID" } } }
                tbody {
                    @for mail in mails {
                        tr {
                            td.mono data-label="Sent (UTC)" { (gatehouse::clock::rfc3339(mail.sent_at)) }
                            td data-label="To" { (mail.to) }
                            td data-label="Subject" { (mail.subject) }
                            td data-label="Status" { (status(mail)) }
                            td.mono data-label="Message ID" { @if let Delivery::Sent { provider_message_id: Some(id) } = &mail.delivery { (id) } }
                        }
                    }
                }
            } }
        }
        @if before.is_some() || page.next_before.is_some() {
            nav.pager aria-label="Pages of the outbox" {
                @if before.is_some() { a href="/admin/outbox" { "← Newest" } }
                @if let Some(next) = &page.next_before {
                    a href=(format!("/admin/outbox?before={}", encode(next))) rel="next" { "Older mail →" }
                }
            }
        }
    };
    Ok(admin_page(ctx, StatusCode::OK, Section::Outbox, "Outbox", body))
}
