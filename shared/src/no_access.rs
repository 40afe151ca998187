//! The No Access page's contact line: what a member refused an app is told to do, and where
//! to ask. Set by the administrator; without it the page names the organisation.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::validation::{Invalid, Problems, first, optional_text};

/// Where the line is kept (in the secret store, like the provider settings).
pub const SECRET_NAME: &str = "no-access-contact";

/// The line, checked. An empty `text` means the page's default sentence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactLine {
    pub text: String,
    /// An `https://` page or a `mailto:` address; empty for none.
    pub link_url: String,
    /// The link's words; the address itself when empty.
    pub link_text: String,
}

impl ContactLine {
    /// The link's words as shown.
    pub fn link_words(&self) -> &str {
        if self.link_text.is_empty() { self.link_url.trim_start_matches("mailto:") } else { &self.link_text }
    }

    /// Checks every field at once; nothing is kept from a line with problems.
    pub fn checked(text: &str, link_url: &str, link_text: &str) -> Result<Self, Vec<Invalid>> {
        let mut p = Problems::default();
        let text = p.check(optional_text("text", text, 300));
        let link_url = p.check(link(link_url));
        let link_text = p.check(optional_text("link_text", link_text, 100));
        if let Some(words) = &link_text
            && !words.is_empty()
            && link_url.as_deref() == Some("")
        {
            p.push(Invalid::new("link_url", "give the address the link text leads to"));
        }
        match (text, link_url, link_text) {
            (Some(text), Some(link_url), Some(link_text)) if p.is_empty() => Ok(Self { text, link_url, link_text }),
            _ => Err(p.into_vec()),
        }
    }

    /// Like [`Self::checked`], reporting the first problem.
    pub fn parse(text: &str, link_url: &str, link_text: &str) -> Result<Self, Invalid> {
        Self::checked(text, link_url, link_text).map_err(first)
    }
}

fn link(value: &str) -> Result<String, Invalid> {
    let value = optional_text("link_url", value, 500)?;
    if value.is_empty() {
        return Ok(value);
    }
    let url = Url::parse(&value).map_err(|_| Invalid::new("link_url", format!("`{value}` is not an address")))?;
    match url.scheme() {
        "https" => Ok(url.to_string()),
        "mailto" if url.path().contains('@') => Ok(url.to_string()),
        _ => Err(Invalid::new(
            "link_url",
            format!("`{value}` must be an https:// page or a mailto: address, e.g. mailto:membership@example.org"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_https_pages_or_mail_addresses() {
        let line = ContactLine::parse("Questions? Ask us.", "mailto:help@example.org", "").unwrap();
        assert_eq!(line.link_words(), "help@example.org");
        assert!(ContactLine::parse("", "https://example.org/help", "Help").is_ok());
        assert_eq!(ContactLine::parse("", "http://example.org", "").unwrap_err().field, "link_url");
        assert_eq!(ContactLine::parse("", "javascript:alert(1)", "").unwrap_err().field, "link_url");
        assert_eq!(ContactLine::parse("", "", "Help").unwrap_err().field, "link_url");
        assert_eq!(ContactLine::parse("", "", "").unwrap(), ContactLine::default());
    }

    #[test]
    fn every_problem_at_once() {
        let long = "x".repeat(301);
        let fields: Vec<_> =
            ContactLine::checked(&long, "ftp://x", "").unwrap_err().into_iter().map(|i| i.field).collect();
        assert_eq!(fields, ["text", "link_url"]);
    }
}
