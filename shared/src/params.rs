//! Query strings and form bodies as ordered `name=value` pairs: parsed once at the edge and
//! read by the protocol code below it, so it sits beneath both.

/// Decoded `name=value` pairs from a query string or a form body, in order.
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(encoded: &str) -> Self {
        Self(url::form_urlencoded::parse(encoded.as_bytes()).into_owned().collect())
    }

    /// The value of a parameter that appears once. A repeated one reads as absent,
    /// so `a=1&a=2` cannot smuggle a second value past a check.
    pub fn get<'a>(&'a self, name: &str) -> Option<&'a str> {
        let mut values = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
        match (values.next(), values.next()) {
            (Some(v), None) => Some(v),
            _ => None,
        }
    }

    /// The value, or "" when absent.
    pub fn text<'a>(&'a self, name: &str) -> &'a str {
        self.get(name).unwrap_or_default()
    }

    /// The value when present and not empty: an empty cursor means the first page.
    pub fn non_empty<'a>(&'a self, name: &str) -> Option<&'a str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// `limit` as a page size: `default` when absent or not a number, held within 1..=`max`.
    pub fn page_size(&self, default: usize, max: usize) -> usize {
        self.text("limit").parse().unwrap_or(default).clamp(1, max)
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn is_repeated(&self, name: &str) -> bool {
        self.all(name).count() > 1
    }

    /// Every pair, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn has(&self, name: &str) -> bool {
        self.all(name).next().is_some()
    }
}
