//! The discovery Lambda.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    gatehouse::lambda::run(|state, req| async move { gatehouse_discovery::handle(&state, req).await }).await
}
