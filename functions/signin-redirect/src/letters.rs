//! The mail the forgot forms send, in plain text and HTML, signed with the organisation's name.

use gatehouse::mail::Message;
use maud::{Markup, html};

fn letter(to: &str, subject: &str, org: &str, text: String, html_body: Markup) -> Message {
    let html = html! {
        (maud::DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (subject) } }
            body style="font-family: sans-serif; line-height: 1.5; color: #1b1f24;" {
                (html_body)
                p style="color: #57606a;" { "— " (org) }
            }
        }
    };
    Message {
        to: to.to_owned(),
        subject: subject.to_owned(),
        text: format!("{text}\n\n-- \n{org}\n"),
        html: html.into_string(),
    }
}

pub fn username(to: &str, org: &str, username: &str) -> Message {
    let text = format!("Your username at {org} is: {username}\n\nIf you did not ask for this, ignore this email.");
    let body = html! {
        p { "Your username at " (org) " is: " strong { (username) } }
        p { "If you did not ask for this, ignore this email." }
    };
    letter(to, &format!("Your {org} username"), org, text, body)
}

pub fn reset(to: &str, org: &str, username: &str, link: &str, minutes: i64) -> Message {
    let text = format!(
        "To choose a new password for {username}, open this link within {minutes} minutes:\n\n{link}\n\n\
         The link works once, and only the newest one you asked for. If you did not ask for this, ignore this email: your password stays as it is."
    );
    let body = html! {
        p { "To choose a new password for " strong { (username) } ", open this link within " (minutes) " minutes:" }
        p { a href=(link) { "Choose a new password" } }
        p style="font-size: 0.9em;" { "Or copy this address into your browser: " br; (link) }
        p { "The link works once, and only the newest one you asked for. If you did not ask for this, ignore this email: your password stays as it is." }
    };
    letter(to, &format!("Reset your {org} password"), org, text, body)
}

/// The administrator's message for staff while OIDC is on (the seed's "Email body").
pub fn staff_sign_in(to: &str, org: &str, subject: &str, body_text: &str) -> Message {
    let body = html! {
        @for paragraph in body_text.split("\n\n") {
            p { @for (i, line) in paragraph.lines().enumerate() { @if i > 0 { br; } (line) } }
        }
    };
    letter(to, subject, org, body_text.to_owned(), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_escape_what_they_quote_and_carry_the_organisation() {
        let m = reset(
            "a@example.org",
            "Example <Assoc>",
            "bob<script>",
            "https://sso.example.org/signin/reset?token=x&y",
            30,
        );
        assert!(m.text.contains("https://sso.example.org/signin/reset?token=x&y") && m.text.contains("30 minutes"));
        assert!(m.html.contains("bob&lt;script&gt;") && !m.html.contains("<script>"));
        assert!(m.html.contains("token=x&amp;y"));
        assert!(m.subject.contains("Example <Assoc>") && m.text.ends_with("Example <Assoc>\n"));
        assert!(!format!("{m:?}").contains("token"), "Debug leaves the body out");
        let staff = staff_sign_in("s@example.org", "Org", "Forgot my password", "Sign in at\nhttps://staff\n\nThanks");
        assert!(staff.html.contains("Sign in at<br>https://staff") && staff.html.matches("<p>").count() >= 2);
    }
}
