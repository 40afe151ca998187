//! RP-Initiated Logout 1.0 requests to `/signout`: parsed and checked before anything changes.
//! A bad hint or an unregistered `post_logout_redirect_uri` gets an error page, never a redirect.

use gatehouse::app::AppState;
use gatehouse::registration::{ClientId, Registration};
use gatehouse::services::id_token_hint::{self, Hint, HintError};
use gatehouse::web::error::PageError;
use gatehouse::web::request::Params;
use gatehouse::web::session::SignedIn;
use time::OffsetDateTime;
use url::Url;

/// A checked logout request.
pub struct LogoutRequest {
    /// The app named by the hint or `client_id`.
    pub registration: Option<Registration>,
    pub hint: Option<Hint>,
    /// A registered post-logout URL (with `state` added) to send the browser to afterwards.
    pub return_to: Option<Url>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

/// Whether `params` carry any RP-Initiated Logout parameter (a plain sign-out has none).
pub fn is_rp_request(params: &Params) -> bool {
    ["id_token_hint", "post_logout_redirect_uri", "client_id", "state", "logout_hint"].iter().any(|n| params.has(n))
}

fn refuse(message: impl Into<String>) -> PageError {
    PageError::bad_request(message)
}

pub async fn parse(state: &AppState, params: &Params, now: OffsetDateTime) -> Result<LogoutRequest, PageError> {
    for name in ["id_token_hint", "post_logout_redirect_uri", "client_id", "state", "logout_hint"] {
        if params.is_repeated(name) {
            return Err(refuse(format!("The sign-out request repeats {name}.")));
        }
    }
    let hint = match params.get("id_token_hint").filter(|h| !h.is_empty()) {
        None => None,
        Some(token) => match id_token_hint::verify(&state.stores, state.config.issuer_str(), token, now).await {
            Ok(hint) => Some(hint),
            Err(HintError::Store(e)) => return Err(e.into()),
            Err(HintError::Invalid(why)) => {
                tracing::warn!(reason = why, "RP-initiated logout refused: bad id_token_hint");
                return Err(refuse("The app's sign-out request is not valid (its id_token_hint was not accepted)."));
            }
        },
    };
    let registration = match (params.get("client_id").filter(|c| !c.is_empty()), &hint) {
        (Some(id), Some(hint)) => {
            if ClientId::parse(id) != Some(hint.registration.client_id) {
                tracing::warn!(
                    client_id = id,
                    "RP-initiated logout refused: client_id differs from the hint's audience"
                );
                return Err(refuse("The sign-out request's client_id does not match its id_token_hint."));
            }
            Some(hint.registration.clone())
        }
        (None, Some(hint)) => Some(hint.registration.clone()),
        (Some(id), None) => {
            let found = match ClientId::parse(id) {
                Some(id) => state.stores.registrations.get(id).await?,
                None => None,
            };
            Some(found.ok_or_else(|| refuse("The sign-out request names an unknown app."))?)
        }
        (None, None) => None,
    };
    let state_param = params.get("state").map(str::to_owned);
    let post_logout = params.get("post_logout_redirect_uri").filter(|u| !u.is_empty()).map(str::to_owned);
    let return_to = match &post_logout {
        None => None,
        Some(uri) => Some(return_url(registration.as_ref(), uri, state_param.as_deref())?),
    };
    Ok(LogoutRequest { registration, hint, return_to, post_logout_redirect_uri: post_logout, state: state_param })
}

/// The registered post-logout URL `uri` (exact match) with `state` added.
pub fn return_url(registration: Option<&Registration>, uri: &str, state: Option<&str>) -> Result<Url, PageError> {
    let Some(registration) = registration else {
        return Err(refuse("post_logout_redirect_uri needs an id_token_hint or client_id naming the app."));
    };
    if !registration.settings.post_logout_redirect_urls.iter().any(|u| u.as_str() == uri) {
        tracing::warn!(client_id = %registration.client_id, "RP-initiated logout refused: unregistered post_logout_redirect_uri");
        return Err(refuse("The app asked to return to an address it has not registered for after sign-out."));
    }
    let mut url = Url::parse(uri).map_err(|_| refuse("post_logout_redirect_uri is not a URL."))?;
    if let Some(state) = state {
        url.query_pairs_mut().append_pair("state", state);
    }
    Ok(url)
}

impl LogoutRequest {
    /// The hint names the member's current session: sign out without asking.
    pub fn confirms(&self, user: &SignedIn) -> bool {
        self.hint
            .as_ref()
            .is_some_and(|h| h.sub == user.contact.id && h.sid.as_deref().is_some_and(|sid| sid == user.session.sid()))
    }
}
