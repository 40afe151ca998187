//! One server per data directory: the embedded store holds its database for as long as the
//! process runs (SQLite's `unix-excl` locking), so a second server on the same directory stops
//! at once with a message saying why, instead of two processes writing one file; once the
//! first stops, the directory is free again.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use gatehouse_tests::{ADMIN_PASSWORD, server_binary};
use tokio::process::{Child, Command};

fn server(data_dir: &Path, port: u16) -> Command {
    let mut command = Command::new(server_binary());
    command
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_DATA_DIR", data_dir)
        .env("GATEHOUSE_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts a server and waits until it answers.
async fn started(data_dir: &Path) -> Child {
    let port = free_port();
    let child = server(data_dir, port).spawn().unwrap();
    for _ in 0..100 {
        if reqwest::get(format!("http://127.0.0.1:{port}/signin")).await.is_ok_and(|r| r.status() == 200) {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server on {} did not start", data_dir.display());
}

#[tokio::test]
async fn a_second_server_on_the_same_data_directory_stops_with_a_reason() {
    assert!(
        server_binary().exists(),
        "build the server first (`cargo build --workspace --bins`, as scripts/test.sh does)"
    );
    let data_dir = std::env::temp_dir().join(format!("gatehouse-lock-{}", free_port()));
    let mut first = started(&data_dir).await;

    let second = server(&data_dir, free_port()).spawn().unwrap();
    let out = tokio::time::timeout(Duration::from_secs(20), second.wait_with_output())
        .await
        .expect("the second server stops by itself")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the second server must not run: {stderr}");
    assert!(stderr.contains("is in use by another process"), "says why: {stderr}");
    assert!(stderr.contains("gatehouse.sqlite3"), "names the file: {stderr}");
    assert!(first.try_wait().unwrap().is_none(), "the first server runs on undisturbed");

    first.kill().await.unwrap();
    let mut again = started(&data_dir).await;
    again.kill().await.unwrap();
    std::fs::remove_dir_all(&data_dir).unwrap();
}
