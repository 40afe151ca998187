//! The admin Lambda.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    gatehouse::lambda::run(gatehouse_admin::router_with_upkeep).await
}
