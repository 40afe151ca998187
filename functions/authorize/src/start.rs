//! `/authorize`: check the client and request, make sure the member is signed in (recently
//! enough), check No Access, then ask for consent or answer at once.

use axum::extract::State;
use gatehouse::app::AppState;
use gatehouse::grants::FamilyId;
use gatehouse::oidc::error::{ErrorCode, OAuthError};
use gatehouse::oidc::issue::{self, Authorization, IssueError, IssueOptions, Profile};
use gatehouse::oidc::request::{self, AuthorizationRequest, ResponseType, UnsafeRequest};
use gatehouse::registration::Registration;
use gatehouse::secret::OpaqueToken;
use gatehouse::web::SharedState;
use gatehouse::web::error::PageError;
use gatehouse::web::extract::Req;
use gatehouse::web::request::{Params, form, query};
use gatehouse::web::response::{html_page, see_other};
use gatehouse::web::session::{SignedIn, signed_in};
use gatehouse::web::{Method, Request, Response, StatusCode};
use maud::html;
use time::OffsetDateTime;

use crate::{consent, redirect};

/// A request that passed every check up to consent.
pub(crate) struct Checked {
    pub registration: Registration,
    pub request: AuthorizationRequest,
    pub user: SignedIn,
    pub profile: Profile,
}

pub(crate) enum Step {
    /// Answered already (an error sent back, a sign-in, a No Access page).
    Done(Response),
    Continue(Box<Checked>),
}

pub async fn authorize(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    let (state, req, now) = (&*state, &req, state.now());
    let params = if *req.method() == Method::POST { form(req) } else { query(req) };
    let checked = match evaluate(state, req, &params, now).await? {
        Step::Done(response) => return Ok(response),
        Step::Continue(checked) => checked,
    };
    let consent = state.stores.grants.get_consent(checked.user.contact.id, checked.registration.client_id).await?;
    let covered = consent.is_some_and(|c| checked.request.scope.is_subset(&c.scope));
    let r = &checked.request;
    if covered && !r.prompt.consent {
        return issue(state, &checked, now).await;
    }
    if r.prompt.none {
        let error = OAuthError::new(ErrorCode::ConsentRequired, "the member has not consented to this application");
        return Ok(redirect::error(state, r.redirect_uri.as_str(), r.response_type, r.state.as_deref(), &error));
    }
    Ok(consent::page(state, &checked, &params))
}

fn unsafe_page(e: UnsafeRequest) -> PageError {
    PageError::new(StatusCode::BAD_REQUEST, "This sign-in link is not valid", e.to_string())
}

/// Every check up to consent, shared by the first request and the consent decision.
pub(crate) async fn evaluate(
    state: &AppState,
    req: &Request,
    params: &Params,
    now: OffsetDateTime,
) -> Result<Step, PageError> {
    let client_id =
        request::client_id(params).map_err(unsafe_page)?.ok_or_else(|| unsafe_page(UnsafeRequest::UnknownClient))?;
    let registration =
        state.stores.registrations.get(client_id).await?.ok_or_else(|| unsafe_page(UnsafeRequest::UnknownClient))?;
    let redirect_uri = request::redirect_uri(params, &registration).map_err(unsafe_page)?;
    let request = match AuthorizationRequest::parse(params, &registration, redirect_uri.clone()) {
        Ok(request) => request,
        Err(error) => {
            let response_type = if params.text("response_type").contains("id_token") {
                ResponseType::IdToken
            } else {
                ResponseType::Code
            };
            return Ok(Step::Done(redirect::error(
                state,
                redirect_uri.as_str(),
                response_type,
                params.get("state"),
                &error,
            )));
        }
    };
    let back = |error: OAuthError| {
        Step::Done(redirect::error(
            state,
            request.redirect_uri.as_str(),
            request.response_type,
            request.state.as_deref(),
            &error,
        ))
    };

    let user = match signed_in(state, req, now).await? {
        Some(user) if !needs_login(&request, &user, now) => user,
        _ if request.prompt.none => {
            return Ok(back(OAuthError::new(ErrorCode::LoginRequired, "the member must sign in")));
        }
        user => return Ok(Step::Done(see_other(&signin_url(params, user.is_some(), now)))),
    };

    let profile = match Profile::load(state, &registration, &user.contact).await {
        Ok(profile) => profile,
        Err(e) => return Ok(back(server_error(e))),
    };
    if let Some(rule) = profile.denied_by(&registration) {
        tracing::info!(client_id = %registration.client_id, contact = %user.contact.id, code = %rule.code, "no access");
        return Ok(Step::Done(match &rule.redirect {
            Some(url) => see_other(url.as_str()),
            None => no_access_page(state, &registration),
        }));
    }
    Ok(Step::Continue(Box::new(Checked { registration, request, user, profile })))
}

/// A sign-in that does not satisfy the request must be repeated. After Gatehouse sent the
/// member to sign in (`login_after`), only that fresh sign-in counts.
fn needs_login(request: &AuthorizationRequest, user: &SignedIn, now: OffsetDateTime) -> bool {
    let auth_time = user.session.auth_time.unix_timestamp();
    match request.login_after {
        Some(after) => auth_time < after,
        None => request.prompt.login || request.max_age.is_some_and(|max| now.unix_timestamp() - auth_time > max),
    }
}

/// The sign-in page, coming back to this request. `prompt=login` and `max_age` become
/// `login_after`, so the fresh sign-in satisfies them and the loop ends.
fn signin_url(params: &Params, signed_in: bool, now: OffsetDateTime) -> String {
    let mut back = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params.pairs() {
        match name {
            "prompt" | "login_after" | "csrf_token" | "decision" => {}
            _ => {
                back.append_pair(name, value);
            }
        }
    }
    back.append_pair("login_after", &now.unix_timestamp().to_string());
    let return_to = format!("/authorize?{}", back.finish());
    let mut signin = url::form_urlencoded::Serializer::new(String::new());
    signin.append_pair("return_to", &return_to);
    if let Some(hint) = params.get("login_hint") {
        signin.append_pair("login_hint", hint);
    }
    if signed_in {
        signin.append_pair("force", "1");
    }
    format!("/signin?{}", signin.finish())
}

fn server_error(e: IssueError) -> OAuthError {
    tracing::error!(error = %e, "cannot complete the authorization");
    OAuthError::new(
        ErrorCode::ServerError,
        "the application's sign-in is not configured correctly; an administrator has been told",
    )
}

fn no_access_page(state: &AppState, registration: &Registration) -> Response {
    let body = html! {
        h1 { "No access" }
        p { "Your account at " (state.config.org_name) " does not have access to " strong { (registration.settings.name) } "." }
        p.hint { "If you think this is a mistake, please contact " (state.config.org_name) "." }
    };
    html_page(StatusCode::FORBIDDEN, "No access", body)
}

/// Answers the client: a code, or implicit tokens.
pub(crate) async fn issue(state: &AppState, checked: &Checked, now: OffsetDateTime) -> Result<Response, PageError> {
    let r = &checked.request;
    let auth = Authorization {
        registration: &checked.registration,
        contact: &checked.user.contact,
        scope: r.scope.clone(),
        nonce: r.nonce.clone(),
        auth_time: checked.user.session.auth_time,
        sid: Some(session_id(&checked.user)),
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
            redirect::to_client(state, r.redirect_uri.as_str(), r.response_type, r.state.as_deref(), &pairs)
        }
        Err(e) => {
            redirect::error(state, r.redirect_uri.as_str(), r.response_type, r.state.as_deref(), &server_error(e))
        }
    })
}

/// The session as the client sees it (`sid`): derived from, but not revealing, the session key.
fn session_id(user: &SignedIn) -> String {
    OpaqueToken::from_presented(user.session.id.as_str()).digest().as_str()[..22].to_owned()
}
