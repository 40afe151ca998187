//! `/admin/oidc/logs`: the OpenID Connect page's Logs tab. Every request to and from the
//! provider, every decision and every error, filtered by level, "message contains" and an
//! occurred-between range, newest first, paged with "Search older entries" (each search reads
//! a bounded number of entries, see `LogFilter::read_budget`).

use axum::Router;
use axum::routing::get;
use gatehouse::event_log::{Level, LogEntry, LogPage};
use gatehouse::web::error::PageError;
use gatehouse::web::request::Params;
use gatehouse::web::{Response, SharedState, StatusCode};
use maud::{Markup, html};

use super::oidc::{Tab, tabs};
use super::{Ctx, FormError, Section, admin_page, encode, error_summary, field_error};
use crate::service::oidc::{log_filter, logs};

const LEVELS: &[Level] = &[Level::Debug, Level::Info, Level::Warning, Level::Error];

fn label(field: &str) -> String {
    match field {
        "level" => "Level",
        "contains" => "Message contains",
        "from" => "Occurred between (from)",
        "to" => "Occurred between (to)",
        other => other,
    }
    .to_owned()
}

pub fn routes() -> Router<SharedState> {
    Router::new().route("/admin/oidc/logs", get(search))
}

async fn search(ctx: Ctx) -> Result<Response, PageError> {
    let params = ctx.query();
    let filter = match log_filter(params) {
        Ok(filter) => filter,
        Err(invalid) => {
            let error = FormError::invalid(invalid);
            let body = page(params, Some(&error), None);
            return Ok(admin_page(&ctx, error.status, Section::Oidc, "OpenID Connect logs", body));
        }
    };
    let found = logs(&ctx.state, &filter, ctx.now).await?;
    let body = page(params, None, Some(&found));
    Ok(admin_page(&ctx, StatusCode::OK, Section::Oidc, "OpenID Connect logs", body))
}

/// The filter form, then the entries (none when the filter was refused).
fn page(params: &Params, error: Option<&FormError>, found: Option<&LogPage>) -> Markup {
    let level = params.text("level");
    html! {
        h1 { "OpenID Connect" }
        (tabs(Tab::Logs))
        p.hint { "Any activity through the OIDC service is logged and only available to system administrators. The logs contain detailed information about requests that are sent or received through the service, or any error messages (secrets and tokens are redacted)." }
        (error_summary(error, label))
        form.card method="get" action="/admin/oidc/logs" role="search" {
            label for="level" { "Level" }
            select id="level" name="level" aria-describedby="level-hint" {
                option value="" selected[level.is_empty()] { "All" }
                @for l in LEVELS { option value=(l.as_str()) selected[level == l.as_str()] { (l.as_str()) } }
            }
            p.hint id="level-hint" { "A level shows its entries and the more severe ones." }
            (field_error(error, "level"))
            label for="contains" { "Message contains" }
            input id="contains" type="text" name="contains" value=(params.text("contains"));
            div role="group" aria-labelledby="between-label" {
                label id="between-label" { "Occurred between" }
                div.check {
                    input id="from" type="date" name="from" value=(params.text("from")) aria-label="Occurred from";
                    span { "and" }
                    input id="to" type="date" name="to" value=(params.text("to")) aria-label="Occurred to";
                }
                (field_error(error, "from"))
                (field_error(error, "to"))
            }
            div.actions {
                button type="submit" { "Find" }
                a href="/admin/oidc/logs" { "Clear" }
            }
        }
        @if let Some(found) = found {
            @if found.entries.is_empty() {
                div.card {
                    p role="status" {
                        @if let Some(at) = found.searched_back_to() {
                            "No match among the entries back to " (gatehouse::clock::rfc3339(at)) "."
                        } @else { "No log entries match." }
                    }
                }
            } @else {
                (table(&found.entries))
            }
            @if let Some(before) = &found.next_before {
                p {
                    @if let Some(at) = found.searched_back_to().filter(|_| !found.entries.is_empty()) {
                        "Searched back to " (gatehouse::clock::rfc3339(at)) ". "
                    }
                    a href=(older_link(params, before)) { "Search older entries" }
                }
            }
        }
    }
}

fn table(entries: &[LogEntry]) -> Markup {
    html! {
        div.table-scroll { table.stack {
            thead { tr { th { "Time (UTC)" } th { "Level" } th { "Message" } th { "Details" } } }
            tbody {
                @for entry in entries {
                    tr {
                        td.mono data-label="Time (UTC)" { (gatehouse::clock::rfc3339(entry.occurred_at)) }
                        td data-label="Level" { (entry.level.as_str()) }
                        td data-label="Message" { (entry.message) }
                        td data-label="Details" {
                            @if !entry.details.is_null() {
                                pre.mono { (serde_json::to_string_pretty(&entry.details).unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        } }
    }
}

/// The same search, one page further back.
fn older_link(params: &Params, before: &str) -> String {
    let mut query: Vec<String> = params
        .pairs()
        .filter(|(name, value)| matches!(*name, "level" | "contains" | "from" | "to" | "limit") && !value.is_empty())
        .map(|(name, value)| format!("{name}={}", encode(value)))
        .collect();
    query.push(format!("before={}", encode(before)));
    format!("/admin/oidc/logs?{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_entries_keep_the_filter_and_replace_the_page() {
        let params = Params::parse("level=error&contains=a+b&before=old&from=&csrf_token=x");
        assert_eq!(
            older_link(&params, "000000000001#id"),
            "/admin/oidc/logs?level=error&contains=a+b&before=000000000001%23id"
        );
    }
}
