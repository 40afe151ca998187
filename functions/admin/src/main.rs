//! The admin Lambda.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    gatehouse::lambda::run(gatehouse_admin::router_with_upkeep).await
}
