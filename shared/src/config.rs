//! Configuration from `GATEHOUSE_*` environment variables: the same names locally and in Lambda.

use std::net::SocketAddr;
use std::path::PathBuf;

use url::Url;

use crate::secret::SecretString;

/// A bad or missing setting, naming the variable so the operator can fix it.
#[derive(Debug, thiserror::Error)]
#[error("configuration error in {var}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub reason: String,
}

fn bad(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError { var, reason: reason.into() }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where data and secrets live.
#[derive(Debug, Clone)]
pub enum Backend {
    /// SQLite and a 0600 secrets file in one directory: the default for `cargo run`.
    Embedded { data_dir: PathBuf },
    /// DynamoDB and Secrets Manager.
    Aws(AwsSettings),
}

#[derive(Debug, Clone)]
pub struct AwsSettings {
    /// Every table is named `<table_prefix><suffix>`, e.g. `gatehouse-contacts`.
    pub table_prefix: String,
    /// Every secret is named `<secret_prefix><name>`, e.g. `gatehouse/client/<id>`.
    pub secret_prefix: String,
    /// Sends every AWS call to this URL instead of AWS (local tests against moto).
    pub endpoint_url: Option<String>,
    /// Gives items saved before the listing indexes their keys at start-up, once per stack
    /// (`GATEHOUSE_BACKFILL_LISTINGS=true`: the admin function, the only one that lists).
    pub backfill_listings: bool,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// The public base URL; the OpenID issuer.
    pub issuer: Url,
    pub org_name: String,
    pub admin_username: String,
    pub admin_password: Option<SecretString>,
    pub backend: Backend,
    pub log_format: LogFormat,
    pub mail: MailSettings,
}

/// How mail leaves (see `mail::Mailer`): SMTP when a URL is given, else SES on the AWS backend.
#[derive(Debug, Clone, Default)]
pub struct MailSettings {
    /// The sender, e.g. `Example Association <no-reply@example.org>`; for SES a verified identity.
    pub from: Option<String>,
    /// `smtp://user:password@host:587?tls=required` (STARTTLS) or `smtps://…:465` (TLS).
    pub smtp_url: Option<SecretString>,
    /// A PEM certificate authority to trust for the SMTP relay besides the public ones.
    pub smtp_ca_file: Option<PathBuf>,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let listen = match get("GATEHOUSE_LISTEN") {
            Some(v) => v
                .parse::<SocketAddr>()
                .map_err(|_| bad("GATEHOUSE_LISTEN", format!("`{v}` is not an address like 127.0.0.1:8080")))?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };

        let issuer = match get("GATEHOUSE_ISSUER") {
            Some(v) => parse_issuer(&v)?,
            None => parse_issuer(&format!("http://{listen}"))?,
        };

        let org_name = get("GATEHOUSE_ORG_NAME").unwrap_or_else(|| "Gatehouse".to_owned());
        let admin_username = get("GATEHOUSE_ADMIN_USERNAME").unwrap_or_else(|| "admin".to_owned());
        if admin_username.chars().any(char::is_whitespace) {
            return Err(bad("GATEHOUSE_ADMIN_USERNAME", "must not contain spaces"));
        }
        let admin_password = match get("GATEHOUSE_ADMIN_PASSWORD") {
            Some(v) if v.chars().count() < crate::password::MIN_LENGTH => {
                return Err(bad(
                    "GATEHOUSE_ADMIN_PASSWORD",
                    format!("must be at least {} characters", crate::password::MIN_LENGTH),
                ));
            }
            other => other.map(SecretString::new),
        };

        let backend = match get("GATEHOUSE_BACKEND").as_deref() {
            None | Some("embedded") => Backend::Embedded {
                data_dir: PathBuf::from(get("GATEHOUSE_DATA_DIR").unwrap_or_else(|| "./.gatehouse".to_owned())),
            },
            Some("aws") => Backend::Aws(AwsSettings {
                table_prefix: get("GATEHOUSE_TABLE_PREFIX").unwrap_or_else(|| "gatehouse-".to_owned()),
                secret_prefix: get("GATEHOUSE_SECRET_PREFIX").unwrap_or_else(|| "gatehouse/".to_owned()),
                endpoint_url: match get("GATEHOUSE_AWS_ENDPOINT_URL") {
                    Some(v) => Some(
                        Url::parse(&v)
                            .map_err(|e| bad("GATEHOUSE_AWS_ENDPOINT_URL", format!("`{v}`: {e}")))?
                            .to_string(),
                    ),
                    None => None,
                },
                backfill_listings: match get("GATEHOUSE_BACKFILL_LISTINGS").as_deref() {
                    None | Some("false") => false,
                    Some("true") => true,
                    Some(other) => {
                        return Err(bad(
                            "GATEHOUSE_BACKFILL_LISTINGS",
                            format!("`{other}` is neither `true` nor `false`"),
                        ));
                    }
                },
            }),
            Some(other) => {
                return Err(bad("GATEHOUSE_BACKEND", format!("`{other}` is neither `embedded` nor `aws`")));
            }
        };

        let log_format = match get("GATEHOUSE_LOG_FORMAT").as_deref() {
            Some("json") => LogFormat::Json,
            Some("text") => LogFormat::Text,
            None if lookup("AWS_LAMBDA_FUNCTION_NAME").is_some() => LogFormat::Json,
            None => LogFormat::Text,
            Some(other) => {
                return Err(bad("GATEHOUSE_LOG_FORMAT", format!("`{other}` is neither `json` nor `text`")));
            }
        };

        let from = get("GATEHOUSE_MAIL_FROM").filter(|v| !v.trim().is_empty());
        if let Some(from) = &from
            && !from.contains('@')
        {
            return Err(bad("GATEHOUSE_MAIL_FROM", format!("`{from}` is not an email address")));
        }
        let mail = MailSettings {
            from,
            smtp_url: get("GATEHOUSE_SMTP_URL").filter(|v| !v.trim().is_empty()).map(SecretString::new),
            smtp_ca_file: get("GATEHOUSE_SMTP_CA_FILE").map(PathBuf::from),
        };

        Ok(Self { listen, issuer, org_name, admin_username, admin_password, backend, log_format, mail })
    }

    /// Cookies get the `Secure` flag and the `__Host-` prefix only over https.
    pub fn is_https(&self) -> bool {
        self.issuer.scheme() == "https"
    }

    /// The issuer as the exact string placed in tokens and metadata (no trailing slash).
    pub fn issuer_str(&self) -> &str {
        self.issuer.as_str().trim_end_matches('/')
    }

    /// An absolute URL on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer_str(), path)
    }
}

fn parse_issuer(value: &str) -> Result<Url, ConfigError> {
    const VAR: &str = "GATEHOUSE_ISSUER";
    let url = Url::parse(value).map_err(|e| bad(VAR, format!("`{value}` is not a URL: {e}")))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(VAR, "must not have a query or fragment"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if crate::registration::is_loopback(&url) => Ok(url),
        "http" => Err(bad(VAR, "must use https (plain http is allowed only for loopback addresses)")),
        other => Err(bad(VAR, format!("scheme `{other}` is not http(s)"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_are_local() {
        let c = config(&[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.issuer_str(), "http://127.0.0.1:8080");
        assert_eq!(c.admin_username, "admin");
        assert!(matches!(c.backend, Backend::Embedded { .. }));
        assert!(!c.is_https());
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (var, value) in [
            ("GATEHOUSE_LISTEN", "nowhere"),
            ("GATEHOUSE_ISSUER", "http://example.org"),
            ("GATEHOUSE_ISSUER", "https://example.org/?x=1"),
            ("GATEHOUSE_BACKEND", "mongo"),
            ("GATEHOUSE_LOG_FORMAT", "xml"),
            ("GATEHOUSE_ADMIN_PASSWORD", "short"),
            ("GATEHOUSE_ADMIN_USERNAME", "two words"),
        ] {
            let err = config(&[(var, value)]).unwrap_err();
            assert_eq!(err.var, var, "{value}");
            assert!(err.to_string().contains(var));
        }
    }

    #[test]
    fn aws_backend_reads_names_and_endpoint() {
        let c = config(&[
            ("GATEHOUSE_BACKEND", "aws"),
            ("GATEHOUSE_TABLE_PREFIX", "t-"),
            ("GATEHOUSE_AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
            ("GATEHOUSE_ISSUER", "https://sso.example.org"),
        ])
        .unwrap();
        assert!(c.is_https());
        let Backend::Aws(aws) = c.backend else { panic!("expected aws") };
        assert_eq!(aws.table_prefix, "t-");
        assert_eq!(aws.endpoint_url.as_deref(), Some("http://127.0.0.1:5000/"));
    }
}
