//! The page layout. Styles are inline and allowed by their hash, so pages need no CDN
//! and the Content-Security-Policy can forbid everything else, scripts included.

use std::sync::OnceLock;

use base64::Engine as _;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::{Digest, Sha256};

const STYLE: &str = r#"
:root { --ink: #1d2430; --muted: #5b6575; --line: #d7dce4; --accent: #1f5fbf; --danger: #b3261e; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
header.top { background: #fff; border-bottom: 1px solid var(--line); padding: .75rem 1.5rem; display: flex; gap: 1.5rem; align-items: center; }
header.top .brand { font-weight: 700; }
header.top nav a { margin-right: 1rem; }
header.top form { margin-left: auto; }
main { max-width: 60rem; margin: 2rem auto; padding: 0 1.5rem; }
main.narrow { max-width: 28rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1.5rem; margin-bottom: 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
a { color: var(--accent); }
label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
.hint { color: var(--muted); font-size: .875rem; margin: .25rem 0; }
input[type=text], input[type=email], input[type=password], input[type=url], select, textarea {
  width: 100%; padding: .5rem .6rem; border: 1px solid var(--line); border-radius: 6px; font: inherit; background: #fff; }
textarea { min-height: 5rem; font-family: ui-monospace, monospace; }
input[readonly] { background: var(--bg); font-family: ui-monospace, monospace; }
.check { font-weight: 400; display: flex; gap: .5rem; align-items: center; margin: .35rem 0; }
button, .button { display: inline-block; padding: .5rem 1rem; border: 1px solid var(--accent); border-radius: 6px;
  background: var(--accent); color: #fff; font: inherit; cursor: pointer; text-decoration: none; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.danger, .button.danger { background: var(--danger); border-color: var(--danger); color: #fff; }
.button.danger-text { color: var(--danger); border-color: var(--danger); }
button.link { background: none; border: none; color: var(--accent); padding: 0; text-decoration: underline; }
.actions { display: flex; gap: .75rem; margin-top: 1.5rem; align-items: center; flex-wrap: wrap; }
table { width: 100%; border-collapse: collapse; background: #fff; }
th, td { text-align: left; padding: .5rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .8rem; text-transform: uppercase; color: var(--muted); }
td.icons { white-space: nowrap; width: 1%; }
td.icons form { display: inline; }
.error-message, .flash.error { color: var(--danger); }
.flash { padding: .75rem 1rem; border-radius: 6px; background: #e8f1fd; margin-bottom: 1rem; }
.flash.error { background: #fde9e7; }
.warning { border-left: 4px solid var(--danger); padding: .5rem .75rem; background: #fff5f4; margin: .75rem 0; }
code, .mono { font-family: ui-monospace, monospace; font-size: .9em; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
dl.fields dt { font-weight: 600; margin-top: .75rem; }
dl.fields dd { margin: 0; }
"#;

fn style_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes())))
}

/// No scripts, no plugins, no framing; only the layout's own style block.
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src 'sha256-{}'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
        style_hash()
    )
}

/// A whole document around `body`.
pub fn document(title: &str, header: Option<Markup>, main_class: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                @if let Some(header) = header { (header) }
                main class=(main_class) { (body) }
            }
        }
    }
}

/// A simple page for people who are signing in or being told something.
pub fn page(title: &str, body: Markup) -> Markup {
    document(title, None, "narrow", html! { div.card { (body) } })
}
