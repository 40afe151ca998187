//! The signin-redirect Lambda.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    gatehouse::lambda::run_creating_first_admin(gatehouse_signin_redirect::router).await
}
