//! Which function serves which route: the list the SAM template's routes are checked against
//! (tests/tests/deploy.rs), and the function routers too (tests/tests/routes.rs), so none drifts.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Discovery,
    SigninRedirect,
    Callback,
    Authorize,
    Token,
    Userinfo,
    Admin,
}

impl Function {
    /// The crate directory under `functions/` and the Lambda's logical name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Discovery => "discovery",
            Self::SigninRedirect => "signin-redirect",
            Self::Callback => "callback",
            Self::Authorize => "authorize",
            Self::Token => "token",
            Self::Userinfo => "userinfo",
            Self::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// `GET`, `POST` or `ANY`.
    pub method: &'static str,
    /// An API Gateway route path; `{proxy+}` matches one or more segments.
    pub path: &'static str,
    pub function: Function,
}

const fn route(method: &'static str, path: &'static str, function: Function) -> Route {
    Route { method, path, function }
}

pub const ROUTES: &[Route] = &[
    route("GET", "/.well-known/openid-configuration", Function::Discovery),
    route("GET", "/jwks", Function::Discovery),
    route("GET", "/favicon.ico", Function::Discovery),
    route("GET", "/assets/gatehouse.js", Function::Discovery),
    route("GET", "/", Function::SigninRedirect),
    route("GET", "/signin", Function::SigninRedirect),
    route("POST", "/signin", Function::SigninRedirect),
    route("GET", "/signout", Function::SigninRedirect),
    route("POST", "/signout", Function::SigninRedirect),
    route("GET", "/signout/done", Function::SigninRedirect),
    route("GET", "/signin/forgot-username", Function::SigninRedirect),
    route("POST", "/signin/forgot-username", Function::SigninRedirect),
    route("GET", "/signin/forgot-password", Function::SigninRedirect),
    route("POST", "/signin/forgot-password", Function::SigninRedirect),
    route("GET", "/signin/reset", Function::SigninRedirect),
    route("POST", "/signin/reset", Function::SigninRedirect),
    route("GET", "/account", Function::SigninRedirect),
    route("POST", "/account/consents/withdraw", Function::SigninRedirect),
    route("GET", "/account/mfa", Function::SigninRedirect),
    route("POST", "/account/mfa", Function::SigninRedirect),
    route("POST", "/account/mfa/disable", Function::SigninRedirect),
    route("GET", "/callback", Function::Callback),
    route("POST", "/callback", Function::Callback),
    route("POST", "/callback/link", Function::Callback),
    route("GET", "/callback/logout", Function::Callback),
    route("GET", "/authorize", Function::Authorize),
    route("POST", "/authorize", Function::Authorize),
    route("POST", "/authorize/consent", Function::Authorize),
    route("POST", "/token", Function::Token),
    route("POST", "/token/revoke", Function::Token),
    route("POST", "/token/introspect", Function::Token),
    route("GET", "/userinfo", Function::Userinfo),
    route("POST", "/userinfo", Function::Userinfo),
    route("ANY", "/admin", Function::Admin),
    route("ANY", "/admin/{proxy+}", Function::Admin),
];
