//! The signin-redirect Lambda.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    gatehouse::lambda::run(gatehouse_signin_redirect::router).await
}
