//! Connection limits for the local server, as an axum `Listener`: at most `max_connections`
//! open at once (the rest wait in the kernel's backlog), and each connection must finish
//! sending a request within `request_timeout` of the previous answer (or of being accepted):
//! idle, half-sent headers and short bodies are closed instead of holding a descriptor.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// Descriptors kept free for files, the database and outgoing connections.
const RESERVED_DESCRIPTORS: u64 = 64;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_connections: 512, request_timeout: Duration::from_secs(30) }
    }
}

impl Limits {
    /// `GATEHOUSE_MAX_CONNECTIONS` and `GATEHOUSE_REQUEST_TIMEOUT_SECS`, else the defaults.
    pub fn from_env() -> Result<Self, String> {
        let mut limits = Self::default();
        if let Some(value) = env_number("GATEHOUSE_MAX_CONNECTIONS")? {
            limits.max_connections = usize::try_from(value).map_err(|e| e.to_string())?;
        }
        if let Some(value) = env_number("GATEHOUSE_REQUEST_TIMEOUT_SECS")? {
            limits.request_timeout = Duration::from_secs(value);
        }
        Ok(limits)
    }

    /// Never more connections than the process may open descriptors for.
    pub fn within_descriptor_limit(self) -> Self {
        let soft = rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft).unwrap_or(u64::MAX);
        let room = usize::try_from(soft.saturating_sub(RESERVED_DESCRIPTORS)).unwrap_or(usize::MAX).max(1);
        Self { max_connections: self.max_connections.min(room), ..self }
    }
}

fn env_number(name: &str) -> Result<Option<u64>, String> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => match value.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(format!("{name} must be a positive whole number, not {value:?}")),
        },
        _ => Ok(None),
    }
}

pub struct GuardedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
    request_timeout: Duration,
}

impl GuardedListener {
    pub fn new(inner: TcpListener, limits: Limits) -> Self {
        let limits = limits.within_descriptor_limit();
        Self {
            inner,
            permits: Arc::new(Semaphore::new(limits.max_connections)),
            request_timeout: limits.request_timeout,
        }
    }
}

impl Listener for GuardedListener {
    type Io = GuardedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let permit = match self.permits.clone().acquire_owned().await {
            Ok(permit) => permit,
            // The semaphore is never closed; if it were, accept nothing more.
            Err(_) => match std::future::pending::<Infallible>().await {},
        };
        // axum's own listener backs off and logs at most once a second on accept errors.
        let (stream, addr) = Listener::accept(&mut self.inner).await;
        let deadline = Box::pin(tokio::time::sleep(self.request_timeout));
        (GuardedStream { stream, deadline, timeout: self.request_timeout, _permit: permit }, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection holding one permit, whose reads fail once the request deadline has passed.
pub struct GuardedStream {
    stream: TcpStream,
    deadline: Pin<Box<Sleep>>,
    timeout: Duration,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for GuardedStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the request took too long to arrive")));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write(cx, buf);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            // An answer went out: the next request gets a full period from here.
            let next = Instant::now() + self.timeout;
            self.deadline.as_mut().reset(next);
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The peer address of an accepted connection, for `ConnectInfo`.
#[derive(Debug, Clone, Copy)]
pub struct Peer(SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, GuardedListener>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, GuardedListener>) -> Self {
        Self(*stream.remote_addr())
    }
}

/// Hands the peer to the handlers the way they read it on every platform.
pub async fn with_peer(
    axum::extract::ConnectInfo(Peer(addr)): axum::extract::ConnectInfo<Peer>,
    mut req: axum::extract::Request,
) -> axum::extract::Request {
    req.extensions_mut().insert(gatehouse::web::request::PeerAddr(addr));
    req
}
