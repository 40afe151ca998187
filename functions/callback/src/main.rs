//! The callback Lambda.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    gatehouse::lambda::run(|state, req| async move { gatehouse_callback::handle(&state, req).await }).await
}
