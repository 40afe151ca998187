//! The userinfo Lambda.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    gatehouse::lambda::run(|state, req| async move { gatehouse_userinfo::handle(&state, req).await }).await
}
