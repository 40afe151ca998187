//! `/admin/queries`: the saved queries (the seed's IQAs) that registrations read profiles
//! and roles from, with Validate and a preview for one username.

use axum::Router;
use axum::routing::get;
use gatehouse::query::{
    CONTACT_FIELDS, ColumnDraft, PARAMETER, QueryDefinition, QueryDraft, QueryKind, QueryPath, SavedQuery, kind_name,
};
use gatehouse::validation::Invalid;
use gatehouse::web::error::PageError;
use gatehouse::web::request::Params;
use gatehouse::web::response::see_other;
use gatehouse::web::{Response, SharedState, StatusCode};
use maud::{Markup, html};

use super::{
    Confirm, CsrfForm, Ctx, FormError, NoFields, RawForm, Section, admin_page, confirm_page, count_text, csrf_input,
    delete_link, edit_link, encode, error_summary, field_error, list_href, pager, readonly_field, required,
    required_label, revision_input, search_form, text_field, textarea_field,
};
use crate::service::AdminError;
use crate::service::queries::{self as service, Preview};
use crate::service::short_list::page_of;

/// The form's fields as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct QueryForm {
    path: String,
    kind: String,
    columns: String,
    username: String,
    /// The revision the edit form was opened at (none on the add form).
    revision: Option<u64>,
}

impl QueryForm {
    fn from_params(p: &Params) -> Self {
        Self {
            path: p.text("path").to_owned(),
            kind: p.text("kind").to_owned(),
            columns: p.text("columns").to_owned(),
            username: p.text("username").to_owned(),
            revision: p.text("revision").parse().ok(),
        }
    }

    fn from_query(q: &SavedQuery) -> Self {
        let columns = q.columns.iter().map(|c| format!("{} AS {}", c.source.name(), c.alias)).collect::<Vec<_>>();
        Self {
            path: q.path.to_string(),
            kind: kind_name(q.kind).to_owned(),
            columns: columns.join("\n"),
            username: String::new(),
            revision: Some(q.revision),
        }
    }

    fn kind(&self) -> Result<QueryKind, Invalid> {
        match self.kind.as_str() {
            "profile" => Ok(QueryKind::Profile),
            "role" => Ok(QueryKind::Role),
            "" => Err(Invalid::new("kind", "choose Profile or Role")),
            other => Err(Invalid::new("kind", format!("`{other}` is not a kind of query"))),
        }
    }

    fn draft_of(&self, kind: QueryKind) -> QueryDraft {
        let columns = parse_columns(&self.columns).into_iter().map(|(_, c)| c).collect();
        QueryDraft { path: self.path.clone(), kind, parameter: PARAMETER.to_owned(), columns, revision: self.revision }
    }

    #[cfg(test)]
    fn draft(&self) -> Result<QueryDraft, Invalid> {
        self.kind().map(|kind| self.draft_of(kind))
    }

    /// The draft and its checked definition, or every problem of the form at once.
    fn checked(&self) -> Result<(QueryDraft, QueryDefinition), Vec<Invalid>> {
        let (kind, mut problems) = match self.kind() {
            Ok(kind) => (kind, Vec::new()),
            // The rest is still checked (as a profile query), so every problem shows at once.
            Err(invalid) => (QueryKind::Profile, vec![invalid]),
        };
        let draft = self.draft_of(kind);
        match draft.validate_all() {
            Ok(definition) if problems.is_empty() => Ok((draft, definition)),
            Ok(_) => Err(problems),
            Err(more) => {
                problems.extend(more);
                Err(problems)
            }
        }
    }

    /// A field's label for error messages; a column's error names its line.
    fn label(&self, field: &str) -> String {
        if let Some(rest) = field.strip_prefix("columns[") {
            let index = rest.split(']').next().and_then(|i| i.parse::<usize>().ok());
            let lines = parse_columns(&self.columns);
            if let Some((line, _)) = index.and_then(|i| lines.get(i)) {
                return format!("Columns, line {line}");
            }
        }
        match field {
            "path" => "Path",
            "kind" => "Kind",
            "parameter" => "Parameter",
            "columns" => "Columns",
            "username" => "Preview for username",
            other => other,
        }
        .to_owned()
    }
}

/// One column per non-blank line, `source AS alias` or just `source`, with its 1-based line number.
fn parse_columns(text: &str) -> Vec<(usize, ColumnDraft)> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            let line = line.trim();
            // ASCII lowercasing keeps byte offsets, so the position is valid in `line`.
            let (source, alias) = match line.to_ascii_lowercase().find(" as ") {
                Some(at) => (line[..at].trim(), line[at + 4..].trim()),
                None => (line, ""),
            };
            (index + 1, ColumnDraft { source: source.to_owned(), alias: alias.to_owned() })
        })
        .collect()
}

/// What the Validate button found: the checked definition, and the preview when a username was given.
struct Validation {
    definition: QueryDefinition,
    preview: Option<Result<Preview, String>>,
}

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/admin/queries", get(list))
        .route("/admin/queries/new", get(new_form).post(create))
        .route("/admin/queries/edit", get(edit_form).post(update))
        .route("/admin/queries/delete", get(delete_form).post(delete))
}

async fn new_form(ctx: Ctx) -> Response {
    let form = QueryForm { kind: "profile".into(), ..QueryForm::default() };
    show(&ctx, StatusCode::OK, &form, None, None, None)
}

async fn create(ctx: Ctx, RawForm(params): RawForm) -> Result<Response, PageError> {
    submit(&ctx, &params, None).await
}

async fn edit_form(ctx: Ctx) -> Result<Response, PageError> {
    let query = service::get(&ctx.state, &path_param(&ctx)?).await?;
    Ok(show(&ctx, StatusCode::OK, &QueryForm::from_query(&query), Some(&query), None, None))
}

async fn update(ctx: Ctx, RawForm(params): RawForm) -> Result<Response, PageError> {
    let query = service::get(&ctx.state, &path_param(&ctx)?).await?;
    submit(&ctx, &params, Some(&query)).await
}

async fn delete_form(ctx: Ctx) -> Result<Response, PageError> {
    let query = service::get(&ctx.state, &path_param(&ctx)?).await?;
    Ok(confirm_delete(&ctx, StatusCode::OK, &query.path, None))
}

async fn delete(ctx: Ctx, _: CsrfForm<NoFields>) -> Result<Response, PageError> {
    let path = path_param(&ctx)?;
    match service::delete(&ctx.state, &path).await {
        Ok(()) => Ok(see_other("/admin/queries?done=query-deleted")),
        Err(AdminError::Conflict(message)) => Ok(confirm_delete(&ctx, StatusCode::CONFLICT, &path, Some(&message))),
        Err(e) => Err(e.into()),
    }
}

fn path_param(ctx: &Ctx) -> Result<QueryPath, PageError> {
    QueryPath::parse("path", ctx.query().text("path")).map_err(|_| AdminError::NotFound("query").into())
}

fn edit_href(path: &QueryPath) -> String {
    format!("/admin/queries/edit?path={}", encode(path.as_str()))
}

/// Queries shown on one page of the list.
const PER_PAGE: usize = 50;

async fn list(ctx: Ctx) -> Result<Response, PageError> {
    let ctx = &ctx;
    let search = ctx.query().text("search").trim().to_lowercase();
    let after = ctx.query().non_empty("after").map(str::to_owned);
    let all = service::list(&ctx.state).await?;
    let total = all.len();
    // A few dozen queries at most: filtered here, by path or column alias.
    let matching: Vec<_> = all
        .into_iter()
        .filter(|q| {
            search.is_empty()
                || q.path.as_str().to_lowercase().contains(&search)
                || q.columns.iter().any(|c| c.alias.to_lowercase().contains(&search))
        })
        .collect();
    let shown = matching.len();
    let page = page_of(matching, |q| q.path.as_str().to_owned(), after.as_deref(), PER_PAGE);
    let queries = &page.items;
    let body = html! {
        div.actions {
            h1 { "Queries" }
            a.button href="/admin/queries/new" { "Add query" }
        }
        p.hint { "Each query takes one parameter, the username of the user signing in, and returns contact fields as named columns. App registrations use a profile query and a role query." }
        @if total == 0 {
            div.card { p { "There are no queries yet." } }
        } @else {
            (search_form("/admin/queries", &search, "Path or column name"))
            p role="status" { (count_text(shown, total, ("query", "queries"), !search.is_empty())) }
            div.table-scroll {
                table.stack {
                    thead { tr { th { "Path" } th { "Kind" } th { "Columns" } th { span.hint { "Actions" } } } }
                    tbody {
                        @for q in queries {
                            tr {
                                td.mono data-label="Path" { a href=(edit_href(&q.path)) { (q.path) } }
                                td data-label="Kind" { (kind_name(q.kind)) }
                                td.mono data-label="Columns" { (q.columns.iter().map(|c| c.alias.as_str()).collect::<Vec<_>>().join(", ")) }
                                td.icons {
                                    (edit_link(&edit_href(&q.path), q.path.as_str())) " "
                                    (delete_link(&format!("/admin/queries/delete?path={}", encode(q.path.as_str())), q.path.as_str()))
                                }
                            }
                        }
                    }
                }
            }
        }
        (pager(
            "Pages of queries",
            after.is_some().then(|| list_href("/admin/queries", &search, None)).as_deref(),
            page.next.as_deref().map(|next| list_href("/admin/queries", &search, Some(next))).as_deref(),
        ))
    };
    Ok(admin_page(ctx, StatusCode::OK, Section::Queries, "Queries", body))
}

/// Saves the form, or with the Validate button only checks it (and previews it for a username).
async fn submit(ctx: &Ctx, params: &Params, existing: Option<&SavedQuery>) -> Result<Response, PageError> {
    let mut form = QueryForm::from_params(params);
    if let Some(q) = existing {
        // The path is the query's identity: it comes from the address, not the form.
        form.path = q.path.to_string();
    }
    let (draft, definition) = match form.checked() {
        Ok(checked) => checked,
        Err(problems) => {
            return Ok(show(ctx, StatusCode::OK, &form, existing, Some(&FormError::all(problems)), None));
        }
    };
    if params.has("validate") {
        let preview = match form.username.trim() {
            "" => None,
            username => match service::preview(&ctx.state, &definition, username).await {
                Ok(preview) => Some(Ok(preview)),
                Err(AdminError::Invalid(invalid)) => Some(Err(invalid.message)),
                Err(other) => return Err(other.into()),
            },
        };
        let status = if matches!(preview, Some(Err(_))) { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
        let validation = Validation { definition, preview };
        return Ok(show(ctx, status, &form, existing, None, Some(&validation)));
    }
    let saved = match existing {
        None => service::create(&ctx.state, &draft, ctx.now).await.map(|_| "query-created"),
        Some(q) => service::update(&ctx.state, &q.path, &draft, ctx.now).await.map(|_| "query-saved"),
    };
    match saved {
        Ok(done) => Ok(see_other(&format!("/admin/queries?done={done}"))),
        Err(AdminError::Stale { current, differs, .. }) => {
            // What was typed stays, now over the stored revision: saving again keeps it.
            let form = QueryForm { revision: Some(current), ..form };
            let error = FormError::changed_since_opened("query", &differs, |field| form.label(field));
            Ok(show(ctx, StatusCode::OK, &form, existing, Some(&error), None))
        }
        Err(e) => Ok(show(ctx, StatusCode::OK, &form, existing, Some(&FormError::from_admin(e)?), None)),
    }
}

fn show(
    ctx: &Ctx,
    status: StatusCode,
    f: &QueryForm,
    existing: Option<&SavedQuery>,
    error: Option<&FormError>,
    validation: Option<&Validation>,
) -> Response {
    let status = error.map_or(status, |e| e.status);
    let e = error;
    let (title, action) = match existing {
        Some(q) => (format!("Edit query {}", q.path), edit_href(&q.path)),
        None => ("Add query".to_owned(), "/admin/queries/new".to_owned()),
    };
    let sources = format!("{}, attributes.<name>", CONTACT_FIELDS.join(", "));
    let body = html! {
        p { a href="/admin/queries" { "← Queries" } }
        h1 { (title) }
        (error_summary(e, |field| f.label(field)))
        form.card method="post" action=(action) {
            (csrf_input(ctx))
            (revision_input(f.revision))
            // Enter in a text field saves: the first submit button is the form's default.
            input type="submit" value="Save" hidden tabindex="-1" aria-hidden="true";
            @match existing {
                Some(q) => (readonly_field("path", "Path", q.path.as_str(), html! {
                    p.hint { "A query's path cannot be changed; to rename it, add a new query." }
                })),
                None => (text_field("path", required("Path"), &f.path, "text", html! {
                    p.hint { "A fully qualified path starting with $/, e.g. $/SSO/ProfileData." }
                }, e)),
            }
            div #kind role="radiogroup" aria-labelledby="kind-label" {
                (required_label(html! { label id="kind-label" { "Kind" } }))
                label.check { input type="radio" name="kind" value="profile" checked[f.kind == "profile"]; "Profile" span.hint { "(exactly one row of profile fields for the user)" } }
                label.check { input type="radio" name="kind" value="role" checked[f.kind == "role"]; "Role" span.hint { "(exactly one column; one row per role)" } }
                (field_error(e, "kind"))
            }
            label { "Parameter" }
            p { span.mono { (PARAMETER) } span.hint { " (required): the username of the user signing in. Every query takes exactly this one parameter." } }
            (field_error(e, "parameter"))
            (textarea_field("columns", required("Columns"), &f.columns, 6, html! {
                p.hint { "One column per line: " span.mono { "source AS alias" } ", e.g. " span.mono { "first_name AS given_name" } ". Without " span.mono { "AS alias" } " the column is named after its source. A dotted alias such as " span.mono { "address.locality" } " builds a nested object." }
                p.hint { "Valid sources: " span.mono { (sources) } "." }
                p.hint { "For an app's No Access Mapping, a profile query returns " span.mono { "status AS AccessRestrictionCode" } "; a role query has one column, e.g. " span.mono { "roles AS role" } "." }
            }, e))
            (text_field("username", "Preview for username", &f.username, "text", html! {
                p.hint { "Optional. With a username, Validate also runs the query for that contact." }
            }, e))
            @if let Some(v) = validation { (validation_result(v, &f.username)) }
            div.actions {
                button.secondary type="submit" name="validate" value="1" { "Validate" }
                button type="submit" { @if existing.is_some() { "Save" } @else { "Add query" } }
                a href="/admin/queries" { "Cancel" }
            }
        }
    };
    admin_page(ctx, status, Section::Queries, &title, body)
}

fn validation_result(v: &Validation, username: &str) -> Markup {
    let def = &v.definition;
    html! {
        div.flash role="status" {
            strong { span.mono { (def.path) } " is a valid " (kind_name(def.kind)) " query." }
            dl.fields {
                dt { "Parameter" }
                dd { span.mono { (PARAMETER) } " (required)" }
                dt { "Columns" }
                dd { ul { @for c in &def.columns { li { span.mono { (c.alias) } " from " span.mono { (c.source.name()) } } } } }
                @if let Some(preview) = &v.preview {
                    dt { "Preview for username " span.mono { (username.trim()) } }
                    dd {
                        @match preview {
                            Ok(Preview::Profile(row)) => {
                                pre.mono { (serde_json::to_string_pretty(&serde_json::Value::Object(row.clone())).unwrap_or_default()) }
                            }
                            Ok(Preview::Roles(rows)) if rows.is_empty() => { "No rows: this contact has no roles." }
                            Ok(Preview::Roles(rows)) => { ul { @for role in rows { li.mono { (role) } } } }
                            Err(message) => { p.error-message role="alert" { (message) } }
                        }
                    }
                }
            }
        }
    }
}

fn confirm_delete(ctx: &Ctx, status: StatusCode, path: &QueryPath, error: Option<&str>) -> Response {
    let action = format!("/admin/queries/delete?path={}", encode(path.as_str()));
    let message = html! {
        p { "Delete the query " span.mono { (path) } "?" }
        p.hint { "A query that an app registration uses cannot be deleted; change that registration first." }
    };
    let confirm = Confirm {
        section: Section::Queries,
        title: "Delete query",
        message,
        action: &action,
        button: "Delete",
        cancel: "/admin/queries",
        error,
    };
    confirm_page(ctx, status, confirm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_source_as_alias_lines() {
        let parsed = parse_columns("first_name AS given_name\n\n  email\r\nstatus as AccessRestrictionCode\n");
        let got: Vec<_> = parsed.iter().map(|(n, c)| (*n, c.source.as_str(), c.alias.as_str())).collect();
        assert_eq!(got, [(1, "first_name", "given_name"), (3, "email", ""), (4, "status", "AccessRestrictionCode")]);
    }

    #[test]
    fn column_errors_name_the_line() {
        let form = QueryForm {
            path: "$/SSO/ProfileData".into(),
            kind: "profile".into(),
            columns: "first_name AS given_name\n\nnope AS x".into(),
            username: String::new(),
            revision: None,
        };
        let err = form.draft().unwrap().validate().unwrap_err();
        assert_eq!(err.field, "columns[1].source");
        assert_eq!(form.label(&err.field), "Columns, line 3");
    }

    #[test]
    fn a_saved_query_round_trips_through_the_form() {
        let form = QueryForm {
            path: "$/SSO/RoleData".into(),
            kind: "role".into(),
            columns: "roles AS role".into(),
            username: String::new(),
            revision: None,
        };
        let def = form.draft().unwrap().validate().unwrap();
        let now = time::OffsetDateTime::UNIX_EPOCH;
        let saved = SavedQuery {
            path: def.path.clone(),
            kind: def.kind,
            columns: def.columns.clone(),
            created_at: now,
            updated_at: now,
            revision: 0,
        };
        assert_eq!(QueryForm::from_query(&saved).draft().unwrap().validate().unwrap(), def);
        let missing = QueryForm { kind: String::new(), ..form };
        assert_eq!(missing.draft().unwrap_err().field, "kind");
    }

    #[test]
    fn every_problem_shows_at_once() {
        let form = QueryForm {
            path: "nope".into(),
            kind: String::new(),
            columns: "nope\nfirst_name AS bad alias".into(),
            username: String::new(),
            revision: None,
        };
        let fields: Vec<_> = form.checked().unwrap_err().into_iter().map(|i| i.field).collect();
        assert_eq!(fields, ["kind", "path", "columns[0].source", "columns[1].alias"]);
    }
}
