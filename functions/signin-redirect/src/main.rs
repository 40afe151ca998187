//! The signin-redirect Lambda: sign-in and sign-out screens.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    gatehouse::lambda::run(|state, req| async move { gatehouse_signin_redirect::handle(&state, req).await }).await
}
