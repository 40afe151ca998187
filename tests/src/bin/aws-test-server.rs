//! Gatehouse on the AWS backend for the HTTP suites: fresh tables and secrets of its own on
//! the moto server the test script started (`GATEHOUSE_TEST_AWS_ENDPOINT`). Prints
//! `READY <url>` once it answers; the administrator's password is `ADMIN_PASSWORD` of the
//! test library. Runs until killed.

use gatehouse_tests::{Kind, start};

#[tokio::main]
async fn main() {
    gatehouse::app::init_tracing(&gatehouse::config::LogFormat::Text);
    let server = start(Kind::Aws).await;
    println!("READY {}", server.url);
    std::future::pending::<()>().await;
    drop(server);
}
