//! What every admin list has: a search box, a pager, counts, and its rows' edit and delete links.

use maud::{Markup, html};

use super::encode;

/// A list's search box: a GET form back to `action` with `?search=`.
pub fn search_form(action: &str, search: &str, hint: &str) -> Markup {
    html! {
        form.search method="get" action=(action) role="search" {
            label for="search" { "Search" }
            input id="search" type="text" name="search" value=(search) aria-describedby="search-hint";
            button.secondary type="submit" { "Search" }
            @if !search.is_empty() { a href=(action) { "Show all" } }
            span.hint #search-hint { (hint) }
        }
    }
}

/// "← First page" (when not on it) and "Next page →" (when there is one) under a list.
pub fn pager(label: &str, first: Option<&str>, next: Option<&str>) -> Markup {
    html! {
        @if first.is_some() || next.is_some() {
            nav.pager aria-label=(label) {
                @if let Some(href) = first { a href=(href) { "← First page" } }
                @if let Some(href) = next { a href=(href) rel="next" { "Next page →" } }
            }
        }
    }
}

/// The list at `path` with `search` (when any) and, when `after` is given, from the page after it.
pub fn list_href(path: &str, search: &str, after: Option<&str>) -> String {
    let mut query = Vec::new();
    if !search.is_empty() {
        query.push(format!("search={}", encode(search)));
    }
    if let Some(after) = after {
        query.push(format!("after={}", encode(after)));
    }
    if query.is_empty() { path.to_owned() } else { format!("{path}?{}", query.join("&")) }
}

/// "3 app registrations." or "2 of 3 app registrations match.", from the (singular, plural) noun.
pub fn count_text(shown: usize, total: usize, (one, many): (&str, &str), searching: bool) -> String {
    let noun = if total == 1 { one } else { many };
    if searching { format!("{shown} of {total} {noun} match.") } else { format!("{total} {noun}.") }
}

/// The pencil link to a thing's edit page.
pub fn edit_link(href: &str, name: &str) -> Markup {
    html! {
        a.button.secondary href=(href) aria-label=(format!("Edit {name}")) title="Edit" {
            span aria-hidden="true" { "✎" } " Edit"
        }
    }
}

/// The link to a thing's delete confirmation: a visible word, since an emoji icon is a blank
/// square where no emoji font is installed.
pub fn delete_link(href: &str, name: &str) -> Markup {
    html! {
        a.button.secondary.danger-text href=(href) aria-label=(format!("Delete {name}")) { "Delete" }
    }
}
