//! The page layout. Styles are inline and allowed by their hash, and the one script is a
//! same-origin file ([`SCRIPT_PATH`]), so pages need no CDN and the Content-Security-Policy
//! can forbid everything else. Every page works without the script.

use std::sync::OnceLock;

use base64::Engine as _;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::{Digest, Sha256};

const STYLE: &str = r#"
:root { --ink: #1d2430; --muted: #5b6575; --line: #d7dce4; --accent: #1f5fbf; --danger: #b3261e; --bg: #f6f7f9; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
header.top { background: #fff; border-bottom: 1px solid var(--line); padding: .75rem 1.5rem; display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; }
header.top .brand { font-weight: 700; }
header.top nav { display: flex; flex-wrap: wrap; gap: .25rem 1rem; }
header.top form { margin-left: auto; display: flex; gap: .5rem; align-items: center; }
main { max-width: 60rem; margin: 2rem auto; padding: 0 1.5rem; overflow-wrap: break-word; }
.mono, code, .breakable, .field-row input { overflow-wrap: anywhere; }
main.narrow { max-width: 28rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1.5rem; margin-bottom: 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
h3 { font-size: 1rem; margin: 1.25rem 0 .25rem; }
.card > h2:first-child, .card > :first-child > h2:first-child { margin-top: 0; }
a { color: var(--accent); }
label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
.hint { color: var(--muted); font-size: .875rem; margin: .25rem 0; }
input[type=text], input[type=email], input[type=password], input[type=url], select, textarea {
  width: 100%; padding: .5rem .6rem; border: 1px solid var(--line); border-radius: 6px; font: inherit; background: #fff; }
textarea { min-height: 5rem; font-family: ui-monospace, monospace; }
input[readonly] { background: var(--bg); font-family: ui-monospace, monospace; }
.check { font-weight: 400; display: flex; gap: .5rem; align-items: center; margin: .35rem 0; }
.check input[type=text], .check input[type=password], .check input[type=url], .check select { flex: 1 1 12rem; min-width: 0; }
.field-row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
.field-row input, .field-row select { flex: 1 1 14rem; min-width: 0; width: auto; }
.required { color: var(--danger); font-size: .875rem; }
.label-row { display: flex; flex-wrap: wrap; gap: .4rem; align-items: baseline; margin: 1rem 0 .25rem; }
.label-row label { margin: 0; }
button, .button { display: inline-block; padding: .5rem 1rem; border: 1px solid var(--accent); border-radius: 6px;
  background: var(--accent); color: #fff; font: inherit; cursor: pointer; text-decoration: none; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.danger, .button.danger { background: var(--danger); border-color: var(--danger); color: #fff; }
.button.danger-text { color: var(--danger); border-color: var(--danger); }
button.link { background: none; border: none; color: var(--accent); padding: 0; text-decoration: underline; }
.actions { display: flex; gap: .75rem; margin-top: 1.5rem; align-items: center; flex-wrap: wrap; }
.table-scroll { overflow-x: auto; max-width: 100%; }
table { width: 100%; border-collapse: collapse; background: #fff; }
td.mono.nowrap, .nowrap { white-space: nowrap; overflow-wrap: normal; }
th, td { text-align: left; padding: .5rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .8rem; text-transform: uppercase; color: var(--muted); }
td.icons { white-space: nowrap; width: 1%; }
td.icons form { display: inline; }
.error-message, .flash.error { color: var(--danger); }
.flash { padding: .75rem 1rem; border-radius: 6px; background: #e8f1fd; margin-bottom: 1rem; }
.flash.error { background: #fde9e7; }
.error-summary:focus { outline: 3px solid var(--danger); outline-offset: 2px; }
.error-summary ul { margin: .5rem 0 0; padding-left: 1.25rem; }
.error-summary a { color: var(--danger); }
.credentials { border: 2px solid var(--accent); }
.search { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: 1rem 0; }
.search input { flex: 1 1 12rem; width: auto; min-width: 0; }
.pager { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; margin: 1rem 0; }
.warning { border-left: 4px solid var(--danger); padding: .5rem .75rem; background: #fff5f4; margin: .75rem 0; }
code, .mono { font-family: ui-monospace, monospace; font-size: .9em; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
dl.fields dt { font-weight: 600; margin-top: .75rem; }
dl.fields dd { margin: 0; }
@media (max-width: 40rem) {
  header.top { padding: .5rem 1rem; }
  header.top form { margin-left: 0; }
  main { margin: 1rem auto; padding: 0 .75rem; }
  .card { padding: 1rem; }
  table.stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; width: 100%; }
  table.stack tr { border-bottom: 2px solid var(--line); padding: .5rem 0; }
  table.stack td { border: none; padding: .2rem .6rem; }
  table.stack td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; color: var(--muted); }
  td.icons { width: auto; }
}
"#;

/// Where the script is served (same origin; the Content-Security-Policy allows only it).
pub const SCRIPT_PATH: &str = "/assets/gatehouse.js";

/// The script: copy buttons, show/hide of secrets, focus on error summaries, provider fields.
pub const SCRIPT: &str = include_str!("assets/gatehouse.js");

fn style_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes())))
}

/// No plugins, no framing; only the layout's own style block and the site's own script.
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'sha256-{}'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
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
                script src=(SCRIPT_PATH) defer {}
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
