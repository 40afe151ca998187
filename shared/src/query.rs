//! Saved queries: Gatehouse's stand-in for the seed's IQA. A query takes one parameter,
//! the username, and maps contact fields to aliased columns.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::contact::Contact;
use crate::validation::{Invalid, Problems, at_most, first};

/// A query's path, e.g. `$/SSO/ProfileData`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct QueryPath(String);

impl QueryPath {
    pub fn parse(field: &str, value: &str) -> Result<Self, Invalid> {
        let value = value.trim();
        let Some(rest) = value.strip_prefix("$/") else {
            return Err(Invalid::new(field, format!("`{value}` must be a fully qualified path starting with $/")));
        };
        if value.len() > 250 {
            return Err(Invalid::new(field, "must be at most 250 characters"));
        }
        let segments_ok = rest.split('/').all(|s| {
            !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '))
        });
        if !segments_ok || rest.split('/').any(|s| s == "." || s == "..") {
            return Err(Invalid::new(
                field,
                format!("`{value}` must be $/ followed by /-separated names of letters, digits, spaces, _, - or ."),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for QueryPath {
    type Error = Invalid;
    fn try_from(value: String) -> Result<Self, Invalid> {
        Self::parse("path", &value)
    }
}

impl From<QueryPath> for String {
    fn from(p: QueryPath) -> Self {
        p.0
    }
}

impl fmt::Display for QueryPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryKind {
    /// One row of profile fields for the user.
    Profile,
    /// One column; one row per role.
    Role,
}

/// Where a column's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactField {
    Id,
    Username,
    Email,
    FirstName,
    LastName,
    FullName,
    Status,
    MemberType,
    IsStaff,
    IsSysadmin,
    Roles,
    ExternalId,
    /// `attributes.<name>`: a free-form attribute; absent on a contact reads as null.
    Attribute(String),
}

/// The built-in sources, as the admin lists them.
pub const CONTACT_FIELDS: &[&str] = &[
    "id",
    "username",
    "email",
    "first_name",
    "last_name",
    "full_name",
    "status",
    "member_type",
    "is_staff",
    "is_sysadmin",
    "roles",
    "external_id",
];

impl ContactField {
    pub fn parse(value: &str) -> Result<Self, String> {
        Ok(match value {
            "id" => Self::Id,
            "username" => Self::Username,
            "email" => Self::Email,
            "first_name" => Self::FirstName,
            "last_name" => Self::LastName,
            "full_name" => Self::FullName,
            "status" => Self::Status,
            "member_type" => Self::MemberType,
            "is_staff" => Self::IsStaff,
            "is_sysadmin" => Self::IsSysadmin,
            "roles" => Self::Roles,
            "external_id" => Self::ExternalId,
            other => match other.strip_prefix("attributes.") {
                Some(name)
                    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
                {
                    Self::Attribute(name.to_owned())
                }
                _ => {
                    return Err(format!(
                        "unknown source `{other}`: use one of {} or attributes.<name>",
                        CONTACT_FIELDS.join(", ")
                    ));
                }
            },
        })
    }

    pub fn name(&self) -> String {
        match self {
            Self::Attribute(name) => format!("attributes.{name}"),
            other => CONTACT_FIELDS[other.index()].to_owned(),
        }
    }

    fn index(&self) -> usize {
        match self {
            Self::Id => 0,
            Self::Username => 1,
            Self::Email => 2,
            Self::FirstName => 3,
            Self::LastName => 4,
            Self::FullName => 5,
            Self::Status => 6,
            Self::MemberType => 7,
            Self::IsStaff => 8,
            Self::IsSysadmin => 9,
            Self::Roles => 10,
            Self::ExternalId => 11,
            Self::Attribute(_) => usize::MAX,
        }
    }

    /// The value for one contact. Empty text reads as null, as an empty database column would.
    pub fn value(&self, contact: &Contact) -> serde_json::Value {
        use serde_json::Value;
        let p = &contact.profile;
        let text = |s: &str| {
            if s.is_empty() { Value::Null } else { Value::String(s.to_owned()) }
        };
        match self {
            Self::Id => Value::String(contact.id.to_string()),
            Self::Username => text(&p.username),
            Self::Email => text(&p.email),
            Self::FirstName => text(&p.first_name),
            Self::LastName => text(&p.last_name),
            Self::FullName => text(format!("{} {}", p.first_name, p.last_name).trim()),
            Self::Status => text(&p.status),
            Self::MemberType => text(&p.member_type),
            Self::IsStaff => Value::Bool(p.is_staff),
            Self::IsSysadmin => Value::Bool(p.is_sysadmin),
            Self::Roles => Value::Array(p.roles.iter().cloned().map(Value::String).collect()),
            Self::ExternalId => p.external_id.as_deref().map_or(Value::Null, text),
            Self::Attribute(name) => p.attributes.get(name).map_or(Value::Null, |v| text(v)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub source: ContactField,
    pub alias: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedQuery {
    pub path: QueryPath,
    pub kind: QueryKind,
    pub columns: Vec<Column>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// How many times the stored query has been written over (see `Registration::revision`).
    pub revision: u64,
}

/// The single parameter every query takes.
pub const PARAMETER: &str = "username";

/// A query as written through the admin, before validation.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QueryDraft {
    pub path: String,
    pub kind: QueryKind,
    #[serde(default = "default_parameter")]
    pub parameter: String,
    pub columns: Vec<ColumnDraft>,
    /// On an update, the revision the change was made from: refused if the query was written
    /// since. Without it the change applies to the query as it is now.
    #[serde(default)]
    pub revision: Option<u64>,
}

fn default_parameter() -> String {
    PARAMETER.to_owned()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnDraft {
    pub source: String,
    pub alias: String,
}

/// A query's definition, checked: what the admin's Validate button shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryDefinition {
    pub path: QueryPath,
    pub kind: QueryKind,
    pub columns: Vec<Column>,
}

/// A query reads at most this many columns.
pub const MAX_COLUMNS: usize = 100;

impl QueryDraft {
    pub fn validate(&self) -> Result<QueryDefinition, Invalid> {
        self.validate_all().map_err(first)
    }

    /// Like [`Self::validate`], with every problem found (each column's included).
    pub fn validate_all(&self) -> Result<QueryDefinition, Vec<Invalid>> {
        let mut p = Problems::default();
        let path = p.check(QueryPath::parse("path", &self.path));
        if self.parameter.trim() != PARAMETER {
            p.push(Invalid::new(
                "parameter",
                format!(
                    "a query takes exactly one parameter, `{PARAMETER}`; `{}` is not supported",
                    self.parameter.trim()
                ),
            ));
        }
        if self.columns.is_empty() {
            p.push(Invalid::new("columns", "a query needs at least one column"));
        }
        p.check(at_most("columns", &self.columns, MAX_COLUMNS));
        if self.kind == QueryKind::Role && self.columns.len() > 1 {
            p.push(Invalid::new("columns", "a role query must have exactly one column"));
        }
        let mut columns: Vec<Column> = Vec::with_capacity(self.columns.len());
        for (i, draft) in self.columns.iter().enumerate().take(MAX_COLUMNS) {
            if let Some(column) = p.check(check_column(i, draft, &columns)) {
                columns.push(column);
            }
        }
        match path {
            Some(path) if p.is_empty() => Ok(QueryDefinition { path, kind: self.kind, columns }),
            _ => Err(p.into_vec()),
        }
    }
}

/// Column `i`, checked against the ones before it.
fn check_column(i: usize, draft: &ColumnDraft, before: &[Column]) -> Result<Column, Invalid> {
    let field = format!("columns[{i}]");
    let source = ContactField::parse(draft.source.trim()).map_err(|m| Invalid::new(format!("{field}.source"), m))?;
    let alias = draft.alias.trim();
    let alias = if alias.is_empty() { source.name() } else { alias.to_owned() };
    check_alias(&alias).map_err(|m| Invalid::new(format!("{field}.alias"), m))?;
    if before.iter().any(|c| c.alias == alias) {
        return Err(Invalid::new(format!("{field}.alias"), format!("alias `{alias}` is used twice")));
    }
    if let Some(parent) = before.iter().find(|c| is_nested_under(&c.alias, &alias) || is_nested_under(&alias, &c.alias))
    {
        return Err(Invalid::new(
            format!("{field}.alias"),
            format!("alias `{alias}` clashes with `{}`: one cannot be both a value and an object", parent.alias),
        ));
    }
    Ok(Column { source, alias })
}

fn is_nested_under(child: &str, parent: &str) -> bool {
    child.strip_prefix(parent).is_some_and(|rest| rest.starts_with('.'))
}

fn check_alias(alias: &str) -> Result<(), String> {
    if alias.len() > 100 {
        return Err("must be at most 100 characters".into());
    }
    let ok = alias
        .split('.')
        .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
    if ok {
        Ok(())
    } else {
        Err(format!("`{alias}` must be names of letters, digits, _ or -, optionally joined by dots"))
    }
}

/// Why running a query produced no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error("query {0} does not exist")]
    NoSuchQuery(String),
    #[error("query {path} is a {actual} query, not a {expected} query")]
    WrongKind { path: String, expected: &'static str, actual: &'static str },
    #[error("query {path} returned no row for username `{username}`: it must return exactly one")]
    NoRow { path: String, username: String },
}

pub fn kind_name(kind: QueryKind) -> &'static str {
    match kind {
        QueryKind::Profile => "profile",
        QueryKind::Role => "role",
    }
}

/// One profile row: (alias, value) in column order.
pub type ProfileRow = Vec<(String, serde_json::Value)>;

impl QueryDefinition {
    /// A profile query's single row for this contact.
    pub fn profile_row(&self, contact: &Contact) -> ProfileRow {
        self.columns.iter().map(|c| (c.alias.clone(), c.source.value(contact))).collect()
    }

    /// A role query's rows: one per value of its single column.
    pub fn role_rows(&self, contact: &Contact) -> Vec<String> {
        let Some(column) = self.columns.first() else {
            return Vec::new();
        };
        match column.source.value(contact) {
            serde_json::Value::Array(items) => {
                items.into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
            }
            serde_json::Value::String(s) => vec![s],
            serde_json::Value::Bool(b) => vec![b.to_string()],
            _ => Vec::new(),
        }
    }
}

impl SavedQuery {
    /// The query as the next update stores it.
    pub fn next_revision(&self) -> Self {
        Self { revision: self.revision + 1, ..self.clone() }
    }

    pub fn definition(&self) -> QueryDefinition {
        QueryDefinition { path: self.path.clone(), kind: self.kind, columns: self.columns.clone() }
    }

    pub fn expect_kind(&self, expected: QueryKind) -> Result<(), RunError> {
        if self.kind == expected {
            Ok(())
        } else {
            Err(RunError::WrongKind {
                path: self.path.to_string(),
                expected: kind_name(expected),
                actual: kind_name(self.kind),
            })
        }
    }

    pub fn draft(&self) -> QueryDraft {
        QueryDraft {
            path: self.path.to_string(),
            kind: self.kind,
            parameter: PARAMETER.to_owned(),
            columns: self
                .columns
                .iter()
                .map(|c| ColumnDraft { source: c.source.name(), alias: c.alias.clone() })
                .collect(),
            revision: Some(self.revision),
        }
    }
}

/// Turns a profile row into a JSON object; a dotted alias such as `address.locality` builds nesting.
pub fn nest(row: &ProfileRow) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    for (alias, value) in row {
        let mut target = &mut out;
        let mut parts = alias.split('.').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                target.insert(part.to_owned(), value.clone());
                break;
            }
            let entry = target.entry(part.to_owned()).or_insert_with(|| serde_json::Value::Object(Default::default()));
            if !entry.is_object() {
                *entry = serde_json::Value::Object(Default::default());
            }
            match entry {
                serde_json::Value::Object(map) => target = map,
                _ => break,
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn draft(kind: QueryKind, columns: &[(&str, &str)]) -> QueryDraft {
        QueryDraft {
            path: "$/SSO/ProfileData".into(),
            kind,
            parameter: "username".into(),
            columns: columns.iter().map(|(s, a)| ColumnDraft { source: (*s).into(), alias: (*a).into() }).collect(),
            revision: None,
        }
    }

    #[test]
    fn paths_must_be_fully_qualified() {
        assert!(QueryPath::parse("p", "$/SSO/ProfileData").is_ok());
        for bad in ["SSO/Profile", "$/", "$//x", "$/a/../b", "$/a?b", "/SSO/x"] {
            assert!(QueryPath::parse("p", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn validation_names_the_bad_column() {
        let err = draft(QueryKind::Profile, &[("first_name", "given_name"), ("nope", "x")]).validate().unwrap_err();
        assert_eq!(err.field, "columns[1].source");
        let err = draft(QueryKind::Profile, &[("first_name", "a"), ("last_name", "a")]).validate().unwrap_err();
        assert_eq!(err.field, "columns[1].alias");
        let err = draft(QueryKind::Profile, &[("first_name", "a"), ("last_name", "a.b")]).validate().unwrap_err();
        assert!(err.message.contains("clashes"));
        let err = draft(QueryKind::Role, &[("roles", "Role"), ("status", "s")]).validate().unwrap_err();
        assert_eq!(err.field, "columns");
        let mut d = draft(QueryKind::Profile, &[("email", "")]);
        d.parameter = "id".into();
        assert_eq!(d.validate().unwrap_err().field, "parameter");
    }

    #[test]
    fn empty_alias_defaults_to_source_name() {
        let def = draft(QueryKind::Profile, &[("attributes.company", "")]).validate().unwrap();
        assert_eq!(def.columns[0].alias, "attributes.company");
    }

    #[test]
    fn dotted_aliases_nest() {
        let row = vec![
            ("given_name".to_owned(), json!("Bob")),
            ("address.locality".to_owned(), json!("Leeds")),
            ("address.country".to_owned(), json!("UK")),
        ];
        assert_eq!(
            serde_json::Value::Object(nest(&row)),
            json!({"given_name": "Bob", "address": {"locality": "Leeds", "country": "UK"}})
        );
    }
}
