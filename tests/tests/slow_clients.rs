//! The local server under clients that connect and then send slowly or nothing at all: they
//! are closed after the request timeout, and the server keeps answering everyone else even
//! when they outnumber its connection cap.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gatehouse::app::AppState;
use gatehouse::clock::SystemClock;
use gatehouse_server::Limits;
use gatehouse_tests::{Kind, config_for, fresh_backend};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_secs(1);

async fn server(max_connections: usize) -> String {
    let config = config_for(fresh_backend(Kind::Embedded).await);
    let listener = gatehouse_server::bind(config.listen).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = Arc::new(AppState::new(config, Arc::new(SystemClock)).await.unwrap());
    let limits = Limits { max_connections, request_timeout: TIMEOUT };
    tokio::spawn(gatehouse_server::serve_with(state, listener, limits));
    addr.to_string()
}

/// Sends `head` and waits for the server to close the connection; returns how long it took.
async fn closed_after(addr: &str, head: &[u8]) -> Duration {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head).await.unwrap();
    let mut buf = Vec::new();
    // Whatever the server says (nothing, or an error status), it must then close.
    let read = tokio::time::timeout(TIMEOUT * 5, stream.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the connection was still open after {:?}", TIMEOUT * 5);
    started.elapsed()
}

#[tokio::test]
async fn idle_and_half_sent_requests_are_closed_within_the_timeout() {
    let addr = server(64).await;
    let idle = closed_after(&addr, b"").await;
    let half_headers = closed_after(&addr, b"GET /signin HTTP/1.1\r\nHost: x\r\n").await;
    let short_body =
        closed_after(&addr, b"POST /signin HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nusername=a").await;
    for (what, took) in [("idle", idle), ("half-sent headers", half_headers), ("short body", short_body)] {
        assert!(took >= TIMEOUT / 2 && took < TIMEOUT * 4, "{what} closed after {took:?}");
    }
}

#[tokio::test]
async fn the_server_keeps_answering_while_idle_connections_exceed_its_cap() {
    let addr = server(8).await;
    let mut idle = Vec::new();
    for _ in 0..24 {
        idle.push(TcpStream::connect(&addr).await.unwrap());
    }
    let started = Instant::now();
    let response = reqwest::get(format!("http://{addr}/signin")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() < TIMEOUT * 5, "answered only after {:?}", started.elapsed());
    drop(idle);
}

#[tokio::test]
async fn a_connection_in_use_stays_open_across_requests() {
    let addr = server(8).await;
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let response = client.get(format!("http://{addr}/signin")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        tokio::time::sleep(TIMEOUT / 4).await;
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let addr = server(8).await;
    let body = vec![b'a'; gatehouse::web::extract::MAX_BODY + 1];
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert!(response.text().await.unwrap().contains("too_large"));
}
