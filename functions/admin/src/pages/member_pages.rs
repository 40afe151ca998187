//! `/admin/member-pages`: what the member-facing pages say that the organisation chooses:
//! the No Access page's contact line (text and link).

use axum::Router;
use axum::routing::get;
use gatehouse::no_access::{self, ContactLine};
use gatehouse::services::settings;
use gatehouse::web::error::PageError;
use gatehouse::web::response::see_other;
use gatehouse::web::{Response, SharedState, StatusCode};
use maud::html;

use super::{Ctx, FormError, RawForm, Section, admin_page, csrf_input, error_summary, text_field, textarea_field};

pub fn routes() -> Router<SharedState> {
    Router::new().route("/admin/member-pages", get(read).post(save))
}

fn label(field: &str) -> String {
    match field {
        "text" => "Contact text",
        "link_url" => "Contact link address",
        "link_text" => "Contact link text",
        other => other,
    }
    .to_owned()
}

async fn read(ctx: Ctx) -> Result<Response, PageError> {
    let line: ContactLine = settings::load(&ctx.state.stores, no_access::SECRET_NAME).await?;
    Ok(show(&ctx, &line, None))
}

async fn save(ctx: Ctx, RawForm(params): RawForm) -> Result<Response, PageError> {
    let (text, link_url, link_text) = (params.text("text"), params.text("link_url"), params.text("link_text"));
    match ContactLine::checked(text, link_url, link_text) {
        Ok(line) => {
            settings::save(&ctx.state.stores, no_access::SECRET_NAME, &line).await?;
            Ok(see_other("/admin/member-pages?done=member-pages-saved"))
        }
        Err(problems) => {
            // Shown as typed.
            let typed = ContactLine { text: text.into(), link_url: link_url.into(), link_text: link_text.into() };
            Ok(show(&ctx, &typed, Some(&FormError::all(problems))))
        }
    }
}

fn show(ctx: &Ctx, line: &ContactLine, e: Option<&FormError>) -> Response {
    let org = &ctx.state.config.org_name;
    let status = e.map_or(StatusCode::OK, |e| e.status);
    let body = html! {
        h1 { "Member pages" }
        p.hint { "What members see on the pages the organisation words itself." }
        (error_summary(e, label))
        form.card method="post" action="/admin/member-pages" {
            (csrf_input(ctx))
            h2 { "No Access page" }
            p.hint { "Shown to a member whose account may not use an app (its No Access Mapping). Tell them whom to ask." }
            (textarea_field("text", "Contact text", &line.text, 2, html! {
                p.hint { "Optional. Example: Questions about your membership? Contact the membership team." }
                p.hint { "Left blank, the page says: " em { "If you think this is a mistake, please contact " (org) "." } }
            }, e))
            (text_field("link_url", "Contact link address", &line.link_url, "text", html! {
                p.hint { "Optional: an https:// page or a mailto: address. Example: mailto:membership@example.org" }
            }, e))
            (text_field("link_text", "Contact link text", &line.link_text, "text", html! {
                p.hint { "Optional: the link's words; the address itself when blank. Example: Email the membership team" }
            }, e))
            div.actions {
                button type="submit" { "Save" }
                a href="/admin/member-pages" { "Cancel" }
            }
        }
    };
    admin_page(ctx, status, Section::MemberPages, "Member pages", body)
}
