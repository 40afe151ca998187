//! The admin Lambda: administration pages and JSON API.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    gatehouse::lambda::run(|state, req| async move { gatehouse_admin::handle(&state, req).await }).await
}
