//! Answering an authorization the member allowed: a code, or implicit tokens, sent back to
//! the client's redirect URI.

use gatehouse::app::AppState;
use gatehouse::grants::{FamilyId, Spend};
use gatehouse::oidc::request::ResponseType;
use gatehouse::services::issue::{self, Authorization, IssueOptions};
use gatehouse::web::Response;
use gatehouse::web::error::PageError;
use gatehouse::web::session::SignedIn;
use time::OffsetDateTime;

use crate::check::Checked;

/// Answers the client: a code, or implicit tokens.
pub(crate) async fn answer(state: &AppState, checked: &Checked, now: OffsetDateTime) -> Result<Response, PageError> {
    let r = &checked.request;
    let auth = Authorization {
        registration: &checked.registration,
        contact: &checked.user.contact,
        scope: r.scope.clone(),
        nonce: r.nonce.clone(),
        auth_time: checked.user.session.auth_time,
        sid: Some(session_id(&checked.user)),
        method: checked.user.session.method.clone(),
    };
    let answer = match r.response_type {
        ResponseType::Code => {
            issue::issue_code(state, &auth, r.redirect_uri.as_str(), r.redirect_uri_sent, r.code_challenge.clone(), now)
                .await
                .map(|code| vec![("code".to_owned(), code.expose().to_owned())])
        }
        ResponseType::IdToken => issue::id_token(state, &auth, None, None, Some(&checked.profile), now)
            .await
            .map(|id_token| vec![("id_token".to_owned(), id_token)]),
        ResponseType::IdTokenToken => {
            let options = IssueOptions {
                family: FamilyId::generate()?,
                spends: Spend::Nothing,
                with_refresh: false,
                public_client: false,
                with_id_token: true,
                code: None,
                profile: Some(&checked.profile),
            };
            issue::issue_tokens(state, &auth, options, now).await.map(|tokens| {
                vec![
                    ("access_token".to_owned(), tokens.access_token.expose().to_owned()),
                    ("token_type".to_owned(), "Bearer".to_owned()),
                    ("expires_in".to_owned(), tokens.expires_in.to_string()),
                    ("id_token".to_owned(), tokens.id_token.unwrap_or_default()),
                    ("scope".to_owned(), tokens.scope.to_string()),
                ]
            })
        }
    };
    Ok(match answer {
        Ok(params) => {
            tracing::info!(client_id = %checked.registration.client_id, contact = %checked.user.contact.id, "authorized");
            let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            checked.reply.with(&pairs)
        }
        Err(e) => checked.reply.error(&crate::reply::server_error(e)),
    })
}

/// The session as the client sees it (`sid`): derived from, but not revealing, the session key.
fn session_id(user: &SignedIn) -> String {
    user.session.sid()
}
