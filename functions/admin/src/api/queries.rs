//! `/admin/api/queries`. A query is addressed by its path: `/admin/api/queries/$/SSO/ProfileData`.

use gatehouse::app::AppState;
use gatehouse::query::{ColumnDraft, QueryDraft, QueryKind, QueryPath, SavedQuery, kind_name};
use gatehouse::web::error::ApiError;
use gatehouse::web::request::json;
use gatehouse::web::response::{no_content, ok_json};
use gatehouse::web::{Method, Request, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::created;
use crate::service::queries::{self as service, Preview};

pub fn view(q: &SavedQuery) -> Value {
    let draft = q.draft();
    json!({
        "path": draft.path,
        "kind": draft.kind,
        "parameter": draft.parameter,
        "columns": draft.columns,
        "created_at": gatehouse::clock::rfc3339(q.created_at),
        "updated_at": gatehouse::clock::rfc3339(q.updated_at),
    })
}

/// Either a whole definition to check, or the path of a saved query; `username` adds a preview.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidateBody {
    path: String,
    kind: Option<QueryKind>,
    parameter: Option<String>,
    columns: Option<Vec<ColumnDraft>>,
    username: Option<String>,
}

fn decode_path(encoded: &str) -> Result<QueryPath, ApiError> {
    let decoded = url::form_urlencoded::parse(format!("p={}", encoded.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    QueryPath::parse("path", &decoded).map_err(|_| ApiError::not_found("query"))
}

pub async fn route(state: &AppState, req: &Request, rest: &str, now: OffsetDateTime) -> Result<Response, ApiError> {
    match (req.method(), rest) {
        (&Method::GET, "") => {
            let list = service::list(state).await?;
            Ok(ok_json(&json!({ "queries": list.iter().map(view).collect::<Vec<_>>() })))
        }
        (&Method::POST, "") => {
            let draft: QueryDraft = json(req)?;
            Ok(created(&view(&service::create(state, &draft, now).await?)))
        }
        (&Method::POST, "validate") => validate(state, json(req)?).await,
        (_, "" | "validate") => Err(ApiError::method_not_allowed()),
        (&Method::GET, path) => Ok(ok_json(&view(&service::get(state, &decode_path(path)?).await?))),
        (&Method::PUT, path) => {
            let path = decode_path(path)?;
            let draft: QueryDraft = json(req)?;
            Ok(ok_json(&view(&service::update(state, &path, &draft, now).await?)))
        }
        (&Method::DELETE, path) => {
            service::delete(state, &decode_path(path)?).await?;
            Ok(no_content())
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

async fn validate(state: &AppState, body: ValidateBody) -> Result<Response, ApiError> {
    let definition = match body.columns {
        Some(columns) => {
            let kind = body.kind.ok_or_else(|| {
                ApiError::from(gatehouse::validation::Invalid::new("kind", "choose `profile` or `role`"))
            })?;
            let parameter = body.parameter.unwrap_or_else(|| gatehouse::query::PARAMETER.to_owned());
            QueryDraft { path: body.path, kind, parameter, columns }.validate()?
        }
        None => {
            let path = QueryPath::parse("path", &body.path)?;
            service::get(state, &path).await?.definition()
        }
    };
    let mut out = json!({
        "path": definition.path,
        "kind": kind_name(definition.kind),
        "parameter": gatehouse::query::PARAMETER,
        "parameters": [{ "name": gatehouse::query::PARAMETER, "required": true }],
        "columns": definition.columns.iter().map(|c| json!({ "source": c.source.name(), "alias": c.alias })).collect::<Vec<_>>(),
    });
    if let Some(username) = body.username.filter(|u| !u.trim().is_empty()) {
        out["preview"] = match service::preview(state, &definition, &username).await? {
            Preview::Profile(row) => json!({ "username": username, "row": row }),
            Preview::Roles(rows) => json!({ "username": username, "rows": rows }),
        };
    }
    Ok(ok_json(&out))
}
