//! The mail a test server sent, read where it arrived: the SMTP sink's files (embedded
//! backend, `tests/support/smtp.sh`) or moto's record of SES `SendEmail` calls (AWS backend).
//! Each server has a sender address of its own, so parallel tests never see each other's mail.

use gatehouse::config::Backend;
use serde_json::Value;

use crate::{TestServer, aws_endpoint};

/// Where the SMTP sink writes what it accepts (`GATEHOUSE_TEST_MAILDIR`), when it runs.
pub fn maildir() -> Option<std::path::PathBuf> {
    std::env::var_os("GATEHOUSE_TEST_MAILDIR").map(Into::into)
}

/// One message as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: String,
    pub subject: String,
    /// The whole decoded message (SMTP) or its HTML body (SES).
    pub content: String,
}

impl Received {
    /// The password reset link in the message.
    pub fn reset_link(&self) -> Option<String> {
        let start = self.content.find("http")?;
        let found = self.content[start..].find("/signin/reset?token=").map(|i| start + i)?;
        let begin = self.content[..found].rfind("http")?;
        let end = self.content[found..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || "-_/:.?=&;%".contains(c)))
            .map_or(self.content.len(), |i| found + i);
        Some(self.content[begin..end].replace("&amp;", "&"))
    }
}

/// Everything the server sent to `to`, oldest first.
pub async fn sent_to(server: &TestServer, to: &str) -> Vec<Received> {
    let from = server.state.config.mail.from.clone().unwrap_or_default();
    match &server.backend {
        Backend::Aws(_) => ses_messages(&from, to).await,
        Backend::Embedded { .. } => smtp_messages(&from, to),
    }
}

async fn ses_messages(from: &str, to: &str) -> Vec<Received> {
    let data: Value =
        reqwest::get(format!("{}/moto-api/data.json", aws_endpoint())).await.unwrap().json().await.unwrap();
    let messages = data["ses"]["Message"].as_array().cloned().unwrap_or_default();
    messages
        .iter()
        .filter(|m| m["source"] == from)
        .filter(|m| m["destinations"]["ToAddresses"].as_array().is_some_and(|a| a.iter().any(|t| t == to)))
        .map(|m| Received {
            to: to.to_owned(),
            subject: m["subject"].as_str().unwrap_or_default().to_owned(),
            content: m["body"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

fn smtp_messages(from: &str, to: &str) -> Vec<Received> {
    let dir = maildir().expect("GATEHOUSE_TEST_MAILDIR is not set: run the tests through scripts/test.sh");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().filter_map(Result::ok).map(|e| e.path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
    files.sort();
    files
        .iter()
        .filter_map(|path| {
            let raw = std::fs::read_to_string(path).ok()?;
            let header = |name: &str| {
                raw.lines()
                    .take_while(|l| !l.is_empty())
                    .find_map(|l| l.strip_prefix(name))
                    .map(|v| v.trim().to_owned())
            };
            let envelope_to = header("X-Envelope-To:")?;
            let sender = header("From:")?;
            (envelope_to == to && sender.contains(from)).then(|| Received {
                to: envelope_to,
                subject: header("Subject:").unwrap_or_default(),
                content: quoted_printable(&raw),
            })
        })
        .collect()
}

/// Undoes quoted-printable (soft line breaks and `=XX`), which lettre uses for long lines.
fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
