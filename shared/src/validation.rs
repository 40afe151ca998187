//! The domain's answer to bad input: which field, and what is wrong with it.

/// Input that breaks a rule. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Every problem of a form, instead of only the first, so a page can show them all at once.
#[derive(Debug, Default)]
pub struct Problems(Vec<Invalid>);

impl Problems {
    /// The value, or `None` with its problem kept.
    pub fn check<T>(&mut self, result: Result<T, Invalid>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(invalid) => {
                self.0.push(invalid);
                None
            }
        }
    }

    pub fn push(&mut self, invalid: Invalid) {
        self.0.push(invalid);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems, in the order they were found.
    pub fn into_vec(self) -> Vec<Invalid> {
        self.0
    }
}

/// The first of a form's problems, for callers that report one.
pub fn first(mut problems: Vec<Invalid>) -> Invalid {
    if problems.is_empty() { Invalid::new("", "is invalid") } else { problems.swap_remove(0) }
}

/// Refuses a list longer than `max`: lists are bounded so one request cannot cost seconds of
/// work or a stored record megabytes.
pub fn at_most<T>(field: &str, items: &[T], max: usize) -> Result<(), Invalid> {
    if items.len() > max {
        return Err(Invalid::new(field, format!("at most {max} entries are allowed, not {}", items.len())));
    }
    Ok(())
}

/// Trims a required text field and refuses it when empty or too long.
pub fn required_text(field: &str, value: &str, max: usize) -> Result<String, Invalid> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Invalid::new(field, "is required"));
    }
    optional_text(field, value, max)
}

/// Trims an optional text field and refuses it when too long or containing control characters.
pub fn optional_text(field: &str, value: &str, max: usize) -> Result<String, Invalid> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(Invalid::new(field, format!("must be at most {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(Invalid::new(field, "must not contain control characters"));
    }
    Ok(value.to_owned())
}
