//! How mail leaves: Amazon SES (`SendEmail`), an SMTP relay (STARTTLS or TLS, with
//! authentication), or, for `cargo run` with nothing configured, the console. One attempt per
//! call; retrying and the delivery log are `services::mail`'s.

#[cfg(feature = "mail")]
use std::time::Duration;

#[cfg(feature = "mail")]
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message as SesMessage};
#[cfg(feature = "mail")]
use lettre::message::{Mailbox, MultiPart};
#[cfg(feature = "mail")]
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
#[cfg(feature = "mail")]
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::config::{Backend, Config};

/// One message, in plain text and HTML.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Bodies carry links that sign people in: never in `Debug` output.
impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message").field("to", &self.to).field("subject", &self.subject).finish_non_exhaustive()
    }
}

/// Which way mail leaves, as the delivery log names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    Ses,
    Smtp,
    /// Printed on the console (local development, nothing configured).
    Console,
    /// Not configured: nothing can be sent.
    None,
    /// Recorded by an earlier version, which kept mail in the outbox without sending it.
    #[default]
    Outbox,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The mail settings cannot work; found at start-up.
    #[error("{0}")]
    Config(String),
    /// This attempt failed; the text names the cause, never the body.
    #[error("{0}")]
    Send(String),
}

enum Way {
    #[cfg(feature = "mail")]
    Ses {
        client: aws_sdk_sesv2::Client,
        from: String,
    },
    #[cfg(feature = "mail")]
    Smtp {
        transport: Box<AsyncSmtpTransport<Tokio1Executor>>,
        from: Mailbox,
        host: String,
    },
    Console,
    None,
}

pub struct Mailer {
    way: Way,
}

/// How long one SMTP conversation may take.
#[cfg(feature = "mail")]
const SMTP_TIMEOUT: Duration = Duration::from_secs(5);

impl Mailer {
    /// SMTP when `GATEHOUSE_SMTP_URL` is set; else SES on the AWS backend with a sender; else
    /// the console for the embedded backend (`cargo run`); else nothing.
    pub async fn from_config(config: &Config) -> Result<Self, MailError> {
        let mail = &config.mail;
        #[cfg(feature = "mail")]
        let way = match (&mail.smtp_url, &config.backend, &mail.from) {
            (Some(url), _, from) => {
                let from = from.as_deref().ok_or_else(|| {
                    MailError::Config("GATEHOUSE_SMTP_URL needs GATEHOUSE_MAIL_FROM (the sender address)".into())
                })?;
                smtp(url.expose(), mail.smtp_ca_file.as_deref(), from)?
            }
            (None, Backend::Aws(aws), Some(from)) => ses(aws, from).await,
            (None, Backend::Embedded { .. }, _) => Way::Console,
            (None, Backend::Aws(_), None) => Way::None,
        };
        // A function built without mail (all but sign-in) must not be configured to send.
        #[cfg(not(feature = "mail"))]
        let way = match (&mail.smtp_url, &config.backend, &mail.from) {
            (None, Backend::Embedded { .. }, _) => Way::Console,
            (None, Backend::Aws(_), None) => Way::None,
            _ => return Err(MailError::Config("this function is built without mail (feature `mail`)".into())),
        };
        Ok(Self { way })
    }

    pub fn transport(&self) -> Transport {
        match self.way {
            #[cfg(feature = "mail")]
            Way::Ses { .. } => Transport::Ses,
            #[cfg(feature = "mail")]
            Way::Smtp { .. } => Transport::Smtp,
            Way::Console => Transport::Console,
            Way::None => Transport::None,
        }
    }

    /// One attempt; the provider's message id when it gives one.
    #[cfg_attr(not(feature = "mail"), allow(unused_variables))]
    pub async fn send(&self, id: &str, message: &Message) -> Result<Option<String>, MailError> {
        match &self.way {
            #[cfg(feature = "mail")]
            Way::Ses { client, from } => send_ses(client, from, message).await.map(Some),
            #[cfg(feature = "mail")]
            Way::Smtp { transport, from, host } => send_smtp(transport, from, host, id, message).await.map(Some),
            Way::Console => {
                // Local development only: the person reading the console is the developer.
                println!(
                    "\n--- mail (not sent: no GATEHOUSE_SMTP_URL) ---\nTo: {}\nSubject: {}\n\n{}\n---",
                    message.to, message.subject, message.text
                );
                Ok(None)
            }
            Way::None => Err(MailError::Send(
                "no mail transport is configured (set GATEHOUSE_MAIL_FROM for SES, or GATEHOUSE_SMTP_URL)".into(),
            )),
        }
    }
}

#[cfg(feature = "mail")]
async fn ses(aws: &crate::config::AwsSettings, from: &str) -> Way {
    let sdk = crate::aws_sdk::sdk_config(aws.endpoint_url.as_deref()).await;
    let settings = aws_sdk_sesv2::config::Builder::from(&sdk)
        .timeout_config(
            aws_sdk_sesv2::config::timeout::TimeoutConfig::builder().operation_timeout(Duration::from_secs(6)).build(),
        )
        .build();
    Way::Ses { client: aws_sdk_sesv2::Client::from_conf(settings), from: from.to_owned() }
}

#[cfg(feature = "mail")]
fn smtp(url: &str, ca_file: Option<&std::path::Path>, from: &str) -> Result<Way, MailError> {
    let bad = |e: &dyn std::fmt::Display| MailError::Config(format!("GATEHOUSE_SMTP_URL: {e}"));
    let parsed = url::Url::parse(url).map_err(|e| bad(&e))?;
    let host = parsed.host_str().ok_or_else(|| bad(&"it names no host"))?.to_owned();
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| bad(&e))?;
    if let Some(ca_file) = ca_file {
        // A relay with a private certificate authority (or the test suite's own sink).
        let pem = std::fs::read(ca_file)
            .map_err(|e| MailError::Config(format!("GATEHOUSE_SMTP_CA_FILE {}: {e}", ca_file.display())))?;
        let certificate = Certificate::from_pem(&pem).map_err(|e| bad(&e))?;
        let parameters =
            TlsParameters::builder(host.clone()).add_root_certificate(certificate).build().map_err(|e| bad(&e))?;
        let tls_mode = parsed.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
        builder = builder.tls(match (parsed.scheme(), tls_mode.as_deref()) {
            ("smtps", _) => Tls::Wrapper(parameters),
            (_, Some("required")) => Tls::Required(parameters),
            (_, Some("opportunistic")) => Tls::Opportunistic(parameters),
            _ => return Err(bad(&"a CA file needs TLS: use smtps:// or ?tls=required")),
        });
    }
    let from: Mailbox = from.parse().map_err(|e| MailError::Config(format!("GATEHOUSE_MAIL_FROM: {e}")))?;
    Ok(Way::Smtp { transport: Box::new(builder.timeout(Some(SMTP_TIMEOUT)).build()), from, host })
}

#[cfg(feature = "mail")]
async fn send_ses(client: &aws_sdk_sesv2::Client, from: &str, message: &Message) -> Result<String, MailError> {
    let content = |data: &str| Content::builder().data(data).charset("UTF-8").build();
    let failed = |e: &dyn std::fmt::Display| MailError::Send(format!("SES: {e}"));
    let subject = content(&message.subject).map_err(|e| failed(&e))?;
    let body = Body::builder()
        .text(content(&message.text).map_err(|e| failed(&e))?)
        .html(content(&message.html).map_err(|e| failed(&e))?)
        .build();
    let simple = SesMessage::builder().subject(subject).body(body).build();
    let answer = client
        .send_email()
        .from_email_address(from)
        .destination(Destination::builder().to_addresses(&message.to).build())
        .content(EmailContent::builder().simple(simple).build())
        .send()
        .await
        .map_err(|e| failed(&aws_sdk_sesv2::error::DisplayErrorContext(e)))?;
    Ok(answer.message_id().unwrap_or_default().to_owned())
}

#[cfg(feature = "mail")]
async fn send_smtp(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    host: &str,
    id: &str,
    message: &Message,
) -> Result<String, MailError> {
    let failed = |e: &dyn std::fmt::Display| MailError::Send(format!("SMTP: {e}"));
    let to: Mailbox = message.to.parse().map_err(|e| failed(&e))?;
    let message_id = format!("<{id}@{host}>");
    let email = lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&message.subject)
        .message_id(Some(message_id.clone()))
        .multipart(MultiPart::alternative_plain_html(message.text.clone(), message.html.clone()))
        .map_err(|e| failed(&e))?;
    transport.send(email).await.map_err(|e| failed(&e))?;
    Ok(message_id)
}
