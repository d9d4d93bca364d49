//! The accept loop: HTTP/1.1 connections served by hyper with a header-read
//! timeout, an idle timeout and connection limits (global and per client
//! address), WebSocket upgrades, and graceful shutdown.
//!
//! - A connection over `--max-connections` or `--max-connections-per-address`
//!   is closed as soon as it is accepted, before a byte is read: refusing must
//!   cost less than serving. Its place comes back when the connection (or the
//!   WebSocket it became) closes.
//! - hyper's `header_read_timeout` starts when it begins waiting for a request
//!   head (hyper 1.x `proto/h1/conn.rs`, `poll_read_head`): on a new connection
//!   and again after each response on a kept-alive one, so it bounds both a
//!   half-sent request and the wait for the next one. HTTP/1 only: the `auto`
//!   builder first reads the HTTP/2 preface with no time limit at all.
//! - The idle timeout closes a connection on which no request is being handled
//!   and no byte has moved for that long (a client that stops reading a large
//!   response, or any keep-alive longer than the setting).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;

use super::slots::{Full, Slot, Slots};
use crate::config::LimitArgs;

/// What the accept loop needs to know.
#[derive(Debug, Clone)]
pub struct ConnLimits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub max_connections_per_address: usize,
}

impl From<&LimitArgs> for ConnLimits {
    fn from(l: &LimitArgs) -> Self {
        Self {
            header_read_timeout: l.header_read_timeout,
            idle_timeout: l.idle_timeout,
            max_connections: l.max_connections,
            max_connections_per_address: l.max_connections_per_address,
        }
    }
}

/// Serve `router` on `listener` until `stop` is cancelled; then stop accepting
/// (the listener is closed), let each connection finish the request it is
/// handling, and return when all have closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnLimits,
    stop: CancellationToken,
) {
    let slots = Slots::new(limits.max_connections, limits.max_connections_per_address);
    let connections = TaskTracker::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let builder = Arc::new(builder);
    loop {
        let (stream, peer) = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors or a connection reset while
                    // queued: keep accepting, after a breath.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let slot = match slots.take(peer.ip()) {
            Ok(slot) => slot,
            Err(full) => {
                refuse(stream, peer, full);
                continue;
            }
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        connections.spawn(serve_connection(
            builder.clone(),
            stream,
            peer,
            slot,
            router.clone(),
            limits.idle_timeout,
            stop.clone(),
        ));
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

fn refuse(stream: TcpStream, peer: SocketAddr, full: Full) {
    let which = match full {
        Full::Everyone => "the server's",
        Full::Address => "this address's",
    };
    tracing::warn!(%peer, "connection refused: {which} connection limit is reached");
    drop(stream);
}

/// When a connection last did something, and how many requests it is handling.
struct Activity {
    start: Instant,
    /// Milliseconds from `start` to the last byte read or written, or the
    /// last request finished.
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// A request being handled: the connection is not idle meanwhile.
struct Handling(Arc<Activity>);

impl Handling {
    fn new(a: &Arc<Activity>) -> Self {
        a.in_flight.fetch_add(1, Ordering::Relaxed);
        Self(a.clone())
    }
}

impl Drop for Handling {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Resolves when the connection has been idle for `timeout`.
async fn idle(activity: &Activity, timeout: Duration) {
    loop {
        tokio::time::sleep_until(activity.last() + timeout).await;
        if activity.in_flight.load(Ordering::Relaxed) > 0 {
            // A handler is working (it has its own time limit); look again later.
            tokio::time::sleep(timeout).await;
            continue;
        }
        if activity.last().elapsed() >= timeout {
            return;
        }
    }
}

async fn serve_connection(
    builder: Arc<hyper::server::conn::http1::Builder>,
    stream: TcpStream,
    peer: SocketAddr,
    slot: Slot,
    router: Router,
    idle_timeout: Duration,
    stop: CancellationToken,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
        _slot: slot,
    });
    let per_request = activity.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let handling = Handling::new(&per_request);
        let router = router.clone();
        async move {
            let res = router.oneshot(req).await;
            drop(handling);
            res
        }
    });
    let conn = builder.serve_connection(io, service).with_upgrades();
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            res = conn.as_mut() => {
                if let Err(e) = res {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                break;
            }
            () = stop.cancelled(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            () = idle(&activity, idle_timeout) => {
                tracing::debug!(%peer, "closing an idle connection");
                break;
            }
        }
    }
}

/// A TCP stream that notes when bytes move, and holds its connection's place
/// for as long as it lives (a WebSocket keeps the stream after the upgrade).
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
    _slot: Slot,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        res
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        res
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        res
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
