//! Multi-factor authentication: the organisation's setting, a member's enrolment (a sealed TOTP
//! secret and the digests of their recovery codes), and what signing in asks of whom.

use serde::{Deserialize, Serialize};
use subtle::{Choice, ConstantTimeEq};
use time::OffsetDateTime;

use crate::seal::Sealed;
use crate::secret::{OpaqueToken, RandomError, TokenDigest, random_from};

/// The administrator's MFA setting. OIDC and MFA exclude each other: while OIDC is on, this is `Off`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MfaPolicy {
    /// Nobody is asked for a second factor, and nobody can enrol.
    #[default]
    Off,
    /// Members may enrol on their account page; those who did are asked at sign-in.
    Optional,
    /// As optional, and staff without a second factor set one up at their next sign-in.
    RequiredForStaff,
    /// Everyone without a second factor sets one up at their next sign-in.
    RequiredForEveryone,
}

impl MfaPolicy {
    pub fn is_on(self) -> bool {
        self != Self::Off
    }

    /// Whether someone must have a second factor.
    pub fn requires(self, is_staff: bool) -> bool {
        match self {
            Self::Off | Self::Optional => false,
            Self::RequiredForStaff => is_staff,
            Self::RequiredForEveryone => true,
        }
    }

    /// What a correct password leads to for someone enrolled or not (`Contact::after_password`).
    pub fn after_password(self, enrolled: bool, is_staff: bool) -> AfterPassword {
        match (self.is_on(), enrolled, self.requires(is_staff)) {
            (false, _, _) => AfterPassword::SignedIn,
            (true, true, _) => AfterPassword::Code,
            (true, false, true) => AfterPassword::Enrol,
            (true, false, false) => AfterPassword::SignedIn,
        }
    }
}

/// The step after a correct password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterPassword {
    SignedIn,
    /// Enrolled: a code from the app or a recovery code.
    Code,
    /// Required but not enrolled: set up the app first.
    Enrol,
}

/// A member's second factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaEnrolment {
    /// The TOTP secret, sealed for this contact (`services::mfa`).
    pub secret: Sealed,
    /// Digests of the recovery codes not used yet.
    pub recovery_codes: Vec<TokenDigest>,
    /// The last time step whose code was accepted: that code and older ones never work again.
    pub last_step: u64,
    #[serde(with = "time::serde::timestamp")]
    pub enrolled_at: OffsetDateTime,
}

/// How many recovery codes an enrolment gets.
pub const RECOVERY_CODES: usize = 10;
/// Letters and digits that cannot be mistaken for one another.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// A recovery code as shown once to the member (e.g. `k7m2p-q9xra`); only its digest is kept.
pub struct RecoveryCode(String);

impl RecoveryCode {
    pub fn generate() -> Result<Self, RandomError> {
        let text = random_from(RECOVERY_ALPHABET, 10)?;
        Ok(Self(format!("{}-{}", &text[..5], &text[5..])))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn digest(&self) -> TokenDigest {
        recovery_digest(&self.0)
    }
}

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(<redacted>)")
    }
}

/// The digest of a typed recovery code, ignoring case, spaces and dashes.
fn recovery_digest(typed: &str) -> TokenDigest {
    let normal: String =
        typed.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_lowercase).collect();
    OpaqueToken::from_presented(normal).digest()
}

/// Ten fresh codes, and their digests to store.
pub fn recovery_codes() -> Result<(Vec<RecoveryCode>, Vec<TokenDigest>), RandomError> {
    let codes = (0..RECOVERY_CODES).map(|_| RecoveryCode::generate()).collect::<Result<Vec<_>, _>>()?;
    let digests = codes.iter().map(RecoveryCode::digest).collect();
    Ok((codes, digests))
}

impl MfaEnrolment {
    /// The position of the unused recovery code `typed` matches. Every stored digest is
    /// compared, in constant time, whatever matched.
    pub fn recovery_code_index(&self, typed: &str) -> Option<usize> {
        let presented = recovery_digest(typed);
        let mut found = None;
        for (index, digest) in self.recovery_codes.iter().enumerate() {
            let matches: Choice = digest.as_str().as_bytes().ct_eq(presented.as_str().as_bytes());
            if bool::from(matches) {
                found = Some(index);
            }
        }
        found
    }
}

/// Whether a typed code looks like an app's six digits (else it is taken as a recovery code).
pub fn is_app_code(typed: &str) -> bool {
    let digits: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_is_asked_what_after_the_password() {
        use AfterPassword::*;
        assert_eq!(MfaPolicy::Off.after_password(true, true), SignedIn, "off asks nobody, enrolled or not");
        assert_eq!(MfaPolicy::Optional.after_password(true, false), Code);
        assert_eq!(MfaPolicy::Optional.after_password(false, true), SignedIn);
        assert_eq!(MfaPolicy::RequiredForStaff.after_password(false, true), Enrol);
        assert_eq!(MfaPolicy::RequiredForStaff.after_password(false, false), SignedIn);
        assert_eq!(MfaPolicy::RequiredForEveryone.after_password(false, false), Enrol);
    }

    #[test]
    fn recovery_codes_match_once_typed_loosely() {
        let (codes, digests) = recovery_codes().unwrap();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let enrolment = MfaEnrolment {
            secret: Sealed::from_presented("x"),
            recovery_codes: digests,
            last_step: 0,
            enrolled_at: OffsetDateTime::UNIX_EPOCH,
        };
        let third = codes[2].expose();
        assert_eq!(third.len(), 11);
        assert_eq!(enrolment.recovery_code_index(third), Some(2));
        assert_eq!(enrolment.recovery_code_index(&third.to_uppercase().replace('-', " ")), Some(2));
        assert_eq!(enrolment.recovery_code_index("aaaaa-aaaaa"), None);
        assert!(!format!("{:?}", codes[0]).contains(codes[0].expose()));
        assert!(is_app_code("123 456") && !is_app_code(third));
    }
}
