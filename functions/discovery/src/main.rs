//! The discovery Lambda.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    gatehouse::lambda::run(gatehouse_discovery::router).await
}
