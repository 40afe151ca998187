//! The token Lambda.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    gatehouse::lambda::run(|state, req| async move { gatehouse_token::handle(&state, req).await }).await
}
