//! Form fields and their errors: labelled inputs that point to what is wrong with them, and
//! the summary at the top of a form that failed.

use gatehouse::validation::Invalid;
use gatehouse::web::StatusCode;
use gatehouse::web::error::PageError;
use maud::{Markup, html};

use super::sentence;
use crate::service::AdminError;

/// A failed save: what is wrong, field by field. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    pub status: StatusCode,
    /// At least one; a problem without a field is about the form as a whole.
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: Option<String>,
    pub message: String,
}

impl FormError {
    pub fn invalid(invalid: Invalid) -> Self {
        Self::all(vec![invalid])
    }

    /// Every problem of the form, shown at once.
    pub fn all(problems: Vec<Invalid>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            problems: problems.into_iter().map(|i| Problem { field: Some(i.field), message: i.message }).collect(),
        }
    }

    /// One problem with the whole form: it clashes with what is stored.
    pub fn conflict(message: String) -> Self {
        Self { status: StatusCode::CONFLICT, problems: vec![Problem { field: None, message }] }
    }

    /// A save refused because `what` ("contact") was changed since its form was opened;
    /// `differs` names the fields that now differ from the form, by the form's `label`s.
    pub fn changed_since_opened(what: &str, differs: &[&str], label: impl Fn(&str) -> String) -> Self {
        let fields = differs.iter().map(|f| label(f)).collect::<Vec<_>>().join(", ");
        let differs = if fields.is_empty() {
            String::new()
        } else {
            format!(" It now differs from what you typed in: {fields}.")
        };
        Self::conflict(format!(
            "Someone else changed this {what} since you opened it.{differs} \
             Save again to keep what you typed, or reload the page to start from the saved {what}."
        ))
    }

    /// Errors the person can fix in the form; anything else becomes an error page.
    pub fn from_admin(e: AdminError) -> Result<Self, PageError> {
        match e {
            AdminError::Invalid(invalid) => Ok(Self::invalid(invalid)),
            AdminError::Conflict(message) => Ok(Self::conflict(message)),
            other => Err(other.into()),
        }
    }

    /// The same problems, all said to be about `field` (a card with one input).
    pub fn about(&self, field: &str) -> Self {
        let problems = self.problems.iter().map(|p| Problem { field: Some(field.to_owned()), ..p.clone() }).collect();
        Self { status: self.status, problems }
    }

    /// Whether an error is about `name` (or one of its elements, as `name[2]` or `name[2].alias`).
    pub fn is_for(&self, name: &str) -> bool {
        self.messages_for(name).next().is_some()
    }

    fn messages_for<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.problems.iter().filter(move |p| p.is_for(name)).map(|p| p.message.as_str())
    }
}

impl Problem {
    fn is_for(&self, name: &str) -> bool {
        self.field.as_deref().is_some_and(|f| {
            f == name || f.strip_prefix(name).is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
        })
    }
}

/// The element a field's error links to: the field itself (`name` of `name[2].alias`).
fn field_anchor(field: &str) -> &str {
    field.split(['[', '.']).next().unwrap_or(field)
}

/// The summary at the top of a form that failed: every problem, each linking to its field
/// (the label, then the message). The script moves the focus here.
pub fn error_summary(error: Option<&FormError>, label: impl Fn(&str) -> String) -> Markup {
    html! {
        @if let Some(e) = error {
            div.flash.error.error-summary role="alert" tabindex="-1" aria-labelledby="error-summary-title" autofocus {
                strong #error-summary-title {
                    "Nothing was saved. "
                    @match e.problems.len() {
                        0 | 1 => "Fix this problem:",
                        n => { "Fix these " (n) " problems:" }
                    }
                }
                ul {
                    @for problem in &e.problems {
                        li {
                            @match &problem.field {
                                Some(field) if !field.is_empty() => {
                                    a href=(format!("#{}", field_anchor(field))) { (label(field)) ": " (problem.message) }
                                }
                                _ => (sentence(&problem.message)),
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The errors under a field, if any are about that field.
pub fn field_error(error: Option<&FormError>, name: &str) -> Markup {
    html! {
        @if let Some(e) = error.filter(|e| e.is_for(name)) {
            p.error-message id=(format!("{name}-error")) {
                @for (i, message) in e.messages_for(name).enumerate() {
                    @if i > 0 { br; }
                    (sentence(message))
                }
            }
        }
    }
}

/// A field's label: its text, and whether the form needs it.
pub struct Label<'a> {
    pub text: &'a str,
    pub required: bool,
}

impl<'a> From<&'a str> for Label<'a> {
    fn from(text: &'a str) -> Self {
        Self { text, required: false }
    }
}

/// The label of a field the form needs (marked, and `aria-required`).
pub fn required(text: &str) -> Label<'_> {
    Label { text, required: true }
}

fn label_element(name: &str, label: &Label<'_>) -> Markup {
    html! {
        @if label.required {
            (required_label(html! { label for=(name) { (label.text) } }))
        } @else {
            label for=(name) { (label.text) }
        }
    }
}

/// A label with the visible "(required)" beside it, outside the label so the field's name stays
/// its label alone (the field itself carries `aria-required`).
pub fn required_label(label: Markup) -> Markup {
    html! {
        div.label-row {
            (label)
            span.required aria-hidden="true" { "(required)" }
        }
    }
}

/// The `aria-describedby` of an input: its error, when it has one.
fn described_by(error: Option<&FormError>, name: &str) -> Option<String> {
    error.filter(|e| e.is_for(name)).map(|_| format!("{name}-error"))
}

/// A labelled one-line text input named and identified by `name`, with hints under it.
pub fn text_field<'a>(
    name: &str,
    label: impl Into<Label<'a>>,
    value: &str,
    kind: &str,
    hints: Markup,
    error: Option<&FormError>,
) -> Markup {
    let label = label.into();
    let invalid = error.is_some_and(|e| e.is_for(name));
    html! {
        (label_element(name, &label))
        input id=(name) type=(kind) name=(name) value=(value) aria-invalid=[invalid.then_some("true")]
            aria-required=[label.required.then_some("true")] aria-describedby=[described_by(error, name)];
        (field_error(error, name))
        (hints)
    }
}

/// A labelled textarea named and identified by `name`.
pub fn textarea_field<'a>(
    name: &str,
    label: impl Into<Label<'a>>,
    value: &str,
    rows: u8,
    hints: Markup,
    error: Option<&FormError>,
) -> Markup {
    let label = label.into();
    let invalid = error.is_some_and(|e| e.is_for(name));
    html! {
        (label_element(name, &label))
        textarea id=(name) name=(name) rows=(rows) aria-invalid=[invalid.then_some("true")]
            aria-required=[label.required.then_some("true")] aria-describedby=[described_by(error, name)] { (value) }
        (field_error(error, name))
        (hints)
    }
}

/// A labelled value that cannot be changed here (not submitted with the form).
pub fn readonly_field(id: &str, label: &str, value: &str, hints: Markup) -> Markup {
    html! {
        label for=(id) { (label) }
        input id=(id) type="text" value=(value) readonly;
        (hints)
    }
}

/// A value to hand on (a credential, a URL), read-only, with a Copy button; `masked` values
/// also get Show (the script masks them; without it they show as text and Copy is hidden).
/// `extra` follows the buttons (say a Regenerate link).
pub fn copy_field(id: &str, label: &str, value: &str, masked: bool, extra: Markup) -> Markup {
    html! {
        label for=(id) { (label) }
        div.field-row {
            input id=(id) type="text" value=(value) readonly spellcheck="false" autocomplete="off" data-mask[masked];
            @if masked {
                button.secondary type="button" data-reveal aria-controls=(id) hidden data-needs-script {
                    span data-word { "Show" } span.visually-hidden { " " (label) }
                }
            }
            button.secondary type="button" data-copy aria-controls=(id) hidden data-needs-script {
                "Copy" span.visually-hidden { " " (label) }
            }
            (extra)
        }
        p.hint id=(format!("{id}-status")) role="status" aria-live="polite" data-copy-status {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_errors_match_their_field_and_its_elements() {
        let e = FormError::invalid(Invalid::new("redirect_urls[1]", "bad"));
        assert!(e.is_for("redirect_urls"));
        assert!(!e.is_for("redirect"));
        let e = FormError::invalid(Invalid::new("columns[0].alias", "bad"));
        assert!(e.is_for("columns"));
        assert!(!FormError::invalid(Invalid::new("name", "x")).is_for("names"));
        assert_eq!(field_anchor("columns[0].alias"), "columns");
    }

    #[test]
    fn the_summary_lists_every_problem_and_links_to_its_field() {
        let e = FormError::all(vec![Invalid::new("name", "is required"), Invalid::new("redirect_urls[0]", "bad")]);
        let summary = error_summary(Some(&e), |f| f.to_uppercase()).into_string();
        assert!(summary.contains("Fix these 2 problems"), "{summary}");
        assert!(summary.contains(r##"<a href="#name">NAME: is required</a>"##), "{summary}");
        assert!(summary.contains(r##"<a href="#redirect_urls">REDIRECT_URLS[0]: bad</a>"##), "{summary}");
        let field = text_field("name", required("Name"), "", "text", html! {}, Some(&e)).into_string();
        assert!(field.contains(r#"aria-describedby="name-error""#), "{field}");
        assert!(field.contains(r#"aria-invalid="true""#) && field.contains(r#"aria-required="true""#), "{field}");
    }
}
