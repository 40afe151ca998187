//! Time-based one-time passwords (RFC 6238: HMAC-SHA-1, six digits, 30-second steps, one step
//! either side), as every authenticator app computes them, and the enrolment QR code.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;
use totp_rs::{Builder, Secret, Totp};

use crate::secret::{RandomError, random_bytes};

/// 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;

/// A member's TOTP secret. `Debug` never shows it.
#[derive(Clone)]
pub struct TotpSecret(Vec<u8>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl TotpSecret {
    pub fn generate() -> Result<Self, RandomError> {
        Ok(Self(random_bytes::<SECRET_BYTES>()?.to_vec()))
    }

    /// A secret opened from storage; `None` when it is shorter than RFC 4226's 128 bits.
    pub fn from_bytes(bytes: Vec<u8>) -> Option<Self> {
        (bytes.len() >= 16).then_some(Self(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret as authenticator apps take it typed in: base32, in groups of four.
    pub fn base32_grouped(&self) -> String {
        let text = Secret::from(self.0.clone()).to_base32();
        text.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
    }

    fn totp(&self, issuer: &str, account: &str) -> Option<Totp> {
        // `:` separates issuer and account in the otpauth label, so neither may contain one.
        let clean = |text: &str| text.replace(':', " ").trim().to_owned();
        let account = Some(clean(account)).filter(|a| !a.is_empty()).unwrap_or_else(|| "account".to_owned());
        Builder::new()
            .with_secret(Secret::from(self.0.clone()))
            .with_issuer(Some(clean(issuer)).filter(|i| !i.is_empty()))
            .with_account_name(account)
            .build()
            .ok()
    }

    /// The `otpauth://totp/...` URI the QR code carries.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> Option<String> {
        self.totp(issuer, account)?.to_url().ok()
    }

    /// The time step a presented code belongs to (now, or one step either side), compared in
    /// constant time; `None` when it matches none.
    pub fn matching_step(&self, code: &str, now: OffsetDateTime) -> Option<u64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let time = u64::try_from(now.unix_timestamp()).ok()?;
        self.totp("", "account")?.check(&code, time)
    }

    /// The code for `now`, for tests and the admin's own checks.
    pub fn code_at(&self, now: OffsetDateTime) -> Option<String> {
        let time = u64::try_from(now.unix_timestamp()).ok()?;
        Some(self.totp("", "account")?.generate(time).to_string())
    }
}

/// The QR code of `text` as an `<img>` source: an SVG data URI (the page's CSP allows `data:`
/// images and nothing scripted).
pub fn qr_data_uri(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(220, 220).quiet_zone(true).build();
    Some(format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(seconds).unwrap()
    }

    #[test]
    fn rfc_6238_test_vector() {
        // RFC 6238 Appendix B, SHA-1 seed "12345678901234567890": T = 59 gives 94287082 (8 digits),
        // whose last six are 287082.
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
        assert_eq!(secret.code_at(at(59)).unwrap(), "287082");
        assert_eq!(secret.matching_step("287082", at(59)), Some(1));
        assert_eq!(secret.matching_step("287 082", at(75)), Some(1), "one step late is accepted");
        assert_eq!(secret.matching_step("287082", at(120)), None, "two steps late is not");
        assert_eq!(secret.matching_step("28708", at(59)), None);
        assert_eq!(secret.matching_step("abcdef", at(59)), None);
    }

    #[test]
    fn the_uri_names_issuer_and_account_and_the_secret_prints_in_groups() {
        let secret = TotpSecret::generate().unwrap();
        let uri = secret.otpauth_uri("Org: Example", "bob").unwrap();
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains("bob"));
        let grouped = secret.base32_grouped();
        assert_eq!(grouped.replace(' ', "").len(), 32);
        assert!(!format!("{secret:?}").contains(&grouped[..4]));
        assert!(qr_data_uri(&uri).unwrap().starts_with("data:image/svg+xml;base64,"));
    }
}
