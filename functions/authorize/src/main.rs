//! The authorize Lambda.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    gatehouse::lambda::run(gatehouse_authorize::router).await
}
