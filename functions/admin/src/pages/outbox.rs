//! `/admin/outbox`: the mail Gatehouse sent (password resets, the OIDC "forgot" email), newest
//! first. Delivery by Amazon SES would sit behind the same outbox.

use axum::Router;
use axum::routing::get;
use gatehouse::web::error::PageError;
use gatehouse::web::{Response, SharedState, StatusCode};
use maud::html;

use super::{Ctx, Section, admin_page};

const SHOWN: usize = 100;

pub fn routes() -> Router<SharedState> {
    Router::new().route("/admin/outbox", get(list))
}

async fn list(ctx: Ctx) -> Result<Response, PageError> {
    let ctx = &ctx;
    let mails = crate::service::outbox::recent(&ctx.state, SHOWN, ctx.now).await?;
    let body = html! {
        h1 { "Outbox" }
        p.hint { "The mail Gatehouse sent, newest first (the last " (SHOWN) " messages of the past " (ctx.state.stores.retention.outbox.whole_days()) " days)." }
        @if mails.is_empty() {
            div.card { p { "No mail has been sent yet." } }
        } @else {
            table {
                thead { tr { th { "Sent (UTC)" } th { "To" } th { "Subject" } th { "Body" } } }
                tbody {
                    @for mail in &mails {
                        tr {
                            td.mono { (gatehouse::clock::rfc3339(mail.sent_at)) }
                            td { (mail.to) }
                            td { (mail.subject) }
                            td { pre.mono { (mail.body) } }
                        }
                    }
                }
            }
        }
    };
    Ok(admin_page(ctx, StatusCode::OK, Section::Outbox, "Outbox", body))
}
