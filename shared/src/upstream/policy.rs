//! Who signs in how, per the mode and "Require OIDC for" (the seed's rules).

use crate::contact::Contact;

use super::settings::{Mode, RequireFor, UpstreamSettings};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Straight to the provider.
    Provider,
    /// The local password form.
    Password,
    /// Both: system administrators always, staff in Test mode (the seed's Figure 3).
    Choice,
}

fn must_use_provider(settings: &UpstreamSettings, contact: &Contact) -> bool {
    let p = &contact.profile;
    p.is_staff || settings.require_for == RequireFor::StaffAndPublic
}

/// After the email step: where this person goes next. Someone unknown goes to the provider,
/// which may create them just in time.
pub fn next_step(settings: &UpstreamSettings, contact: Option<&Contact>) -> NextStep {
    match (settings.mode, contact) {
        (Mode::Disabled, _) => NextStep::Password,
        (_, None) => NextStep::Provider,
        (_, Some(c)) if c.profile.is_sysadmin => NextStep::Choice,
        (Mode::Test, Some(c)) if must_use_provider(settings, c) => NextStep::Choice,
        (Mode::Enabled, Some(c)) if must_use_provider(settings, c) => NextStep::Provider,
        (_, Some(_)) => NextStep::Password,
    }
}

/// Whether a local password may sign this contact in (sign-in page, ROPC, admin tokens).
/// With OIDC Enabled, staff who are not system administrators — and everyone under
/// "Staff & Public Users" — must use the provider.
pub fn password_allowed(settings: &UpstreamSettings, contact: &Contact) -> bool {
    settings.mode != Mode::Enabled || contact.profile.is_sysadmin || !must_use_provider(settings, contact)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::{ContactId, ContactProfile};

    fn contact(staff: bool, sysadmin: bool) -> Contact {
        let now = time::OffsetDateTime::UNIX_EPOCH;
        Contact {
            id: ContactId::new_random(),
            profile: ContactProfile {
                username: "u".into(),
                email: String::new(),
                first_name: String::new(),
                last_name: String::new(),
                is_staff: staff || sysadmin,
                is_sysadmin: sysadmin,
                status: "A".into(),
                member_type: String::new(),
                roles: vec![],
                attributes: Default::default(),
                external_id: None,
            },
            password_hash: None,
            password_reset: None,
            mfa: None,
            created_at: now,
            updated_at: now,
            revision: 0,
        }
    }

    fn settings(mode: Mode, require_for: RequireFor) -> UpstreamSettings {
        UpstreamSettings { mode, require_for, ..Default::default() }
    }

    #[test]
    fn the_seed_rules() {
        let (staff, admin, public) = (contact(true, false), contact(true, true), contact(false, false));
        let enabled = settings(Mode::Enabled, RequireFor::Staff);
        assert_eq!(next_step(&enabled, Some(&staff)), NextStep::Provider);
        assert_eq!(next_step(&enabled, Some(&admin)), NextStep::Choice);
        assert_eq!(next_step(&enabled, Some(&public)), NextStep::Password, "Staff Only: public users keep passwords");
        assert_eq!(next_step(&enabled, None), NextStep::Provider);
        assert!(
            !password_allowed(&enabled, &staff)
                && password_allowed(&enabled, &admin)
                && password_allowed(&enabled, &public)
        );
        let test = settings(Mode::Test, RequireFor::Staff);
        assert_eq!(next_step(&test, Some(&staff)), NextStep::Choice, "Test mode: staff may choose");
        assert!(password_allowed(&test, &staff));
        let everyone = settings(Mode::Enabled, RequireFor::StaffAndPublic);
        assert_eq!(next_step(&everyone, Some(&public)), NextStep::Provider);
        assert!(!password_allowed(&everyone, &public));
        assert_eq!(next_step(&settings(Mode::Disabled, RequireFor::Staff), Some(&staff)), NextStep::Password);
    }
}
