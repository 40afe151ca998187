//! Which function serves which route. The local server dispatches with this table, and the
//! SAM template's routes are checked against it so neither drifts.

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
    route("GET", "/", Function::SigninRedirect),
    route("GET", "/signin", Function::SigninRedirect),
    route("POST", "/signin", Function::SigninRedirect),
    route("GET", "/signout", Function::SigninRedirect),
    route("POST", "/signout", Function::SigninRedirect),
    route("GET", "/signin/forgot-username", Function::SigninRedirect),
    route("POST", "/signin/forgot-username", Function::SigninRedirect),
    route("GET", "/signin/forgot-password", Function::SigninRedirect),
    route("POST", "/signin/forgot-password", Function::SigninRedirect),
    route("GET", "/signin/reset", Function::SigninRedirect),
    route("POST", "/signin/reset", Function::SigninRedirect),
    route("GET", "/account", Function::SigninRedirect),
    route("POST", "/account/consents/withdraw", Function::SigninRedirect),
    route("GET", "/callback", Function::Callback),
    route("POST", "/callback", Function::Callback),
    route("GET", "/authorize", Function::Authorize),
    route("POST", "/authorize", Function::Authorize),
    route("POST", "/authorize/consent", Function::Authorize),
    route("POST", "/token", Function::Token),
    route("GET", "/userinfo", Function::Userinfo),
    route("POST", "/userinfo", Function::Userinfo),
    route("ANY", "/admin", Function::Admin),
    route("ANY", "/admin/{proxy+}", Function::Admin),
];

impl Route {
    fn matches_path(&self, path: &str) -> bool {
        match self.path.strip_suffix("{proxy+}") {
            Some(prefix) => path.strip_prefix(prefix).is_some_and(|rest| !rest.is_empty()),
            None => self.path == path,
        }
    }

    fn matches_method(&self, method: &str) -> bool {
        self.method == "ANY" || self.method == method || (self.method == "GET" && method == "HEAD")
    }
}

/// The function serving `path`, and whether it accepts `method` there (else 405).
pub fn resolve(method: &str, path: &str) -> Option<(Function, bool)> {
    let mut on_path = ROUTES.iter().filter(|r| r.matches_path(path)).peekable();
    let function = on_path.peek()?.function;
    let allowed = on_path.any(|r| r.matches_method(method));
    Some((function, allowed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_exact_and_proxy_routes() {
        assert_eq!(resolve("GET", "/signin"), Some((Function::SigninRedirect, true)));
        assert_eq!(resolve("DELETE", "/signin"), Some((Function::SigninRedirect, false)));
        assert_eq!(resolve("DELETE", "/admin/api/contacts/x"), Some((Function::Admin, true)));
        assert_eq!(resolve("GET", "/admin"), Some((Function::Admin, true)));
        assert_eq!(resolve("GET", "/nowhere"), None);
        assert_eq!(resolve("GET", "/adminx"), None);
    }
}
