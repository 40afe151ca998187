//! What the second-factor screens share: setting up an authenticator app (the QR code and the
//! key as text) and the recovery codes, shown once.

use gatehouse::contact::Contact;
use gatehouse::mfa::RecoveryCode;
use gatehouse::totp::{TotpSecret, qr_data_uri};
use maud::{Markup, html};

/// The set-up steps and the form confirming them with a first code.
pub fn setup_form(
    org: &str,
    contact: &Contact,
    secret: &TotpSecret,
    action: &str,
    hidden: Markup,
    error: Option<&str>,
) -> Markup {
    let qr = secret.otpauth_uri(org, &contact.profile.username).as_deref().and_then(qr_data_uri);
    html! {
        ol {
            li { "Open an authenticator app on your phone (for example Microsoft Authenticator, Google Authenticator or 1Password) and add an account." }
            li { "Scan this QR code, or type the key below instead." }
            li { "Enter the 6-digit code the app then shows." }
        }
        @if let Some(qr) = qr {
            img.qr src=(qr) width="220" height="220" alt="QR code that adds your account to an authenticator app";
        }
        p { "Key: " code #totp-secret { (secret.base32_grouped()) } }
        p.hint { "Time-based, 6 digits, a new code every 30 seconds. Keep this key to yourself." }
        @if let Some(error) = error { p.flash.error role="alert" { (error) } }
        form method="post" action=(action) {
            (hidden)
            label for="code" { "Code from the app" }
            input #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required autofocus
                spellcheck="false";
            div.actions { button type="submit" { "Turn on two-step verification" } }
        }
    }
}

/// The recovery codes, once: each signs in once in place of the app's code.
pub fn recovery_codes(codes: &[RecoveryCode], continue_to: &str) -> Markup {
    html! {
        h1 { "Save your recovery codes" }
        p.flash role="status" { "Two-step verification is on." }
        p {
            "If you lose your phone, each of these codes signs you in once instead of a code from the app. "
            strong { "They are shown only now:" } " print them or keep them in a password manager."
        }
        ul.recovery-codes #recovery-codes {
            @for code in codes { li { code { (code.expose()) } } }
        }
        div.actions { a.button href=(continue_to) { "I have saved them, continue" } }
    }
}

/// "Try again in N minute(s)" for a throttled account.
pub fn retry_message(until: time::OffsetDateTime, now: time::OffsetDateTime) -> String {
    let minutes = ((until - now).whole_seconds() + 59) / 60;
    format!("Too many failed attempts. Try again in {minutes} minute(s).")
}
