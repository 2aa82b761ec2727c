//! The accept loop and each connection, with the limits `axum::serve` lacks:
//! at most `ops.max_connections` at once (one more is answered `503` and
//! closed at once, holding no descriptor), a request head within
//! `ops.header_timeout_ms` of the server waiting for one (slowloris, and
//! silent connections), and no connection on which nothing moved for
//! `ops.idle_timeout_ms`. HTTP/1.1 through hyper, the routes through axum.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower_service::Service;

/// How long open connections get to finish after a stop, before they are cut.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// A failed `accept` (out of descriptors, say) is retried after this, not in
/// a busy loop; it is logged at most once a second.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The limits every connection is served under.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections at once (already held under the descriptor budget).
    pub max_connections: usize,
    /// Time to send a whole request head, from when the server waits for one.
    pub header_timeout: Duration,
    /// Time without a byte either way before a connection is closed.
    pub idle_timeout: Duration,
}

/// Counters `/status` shows in `connections` of its `ops` object.
#[derive(Debug, Default)]
pub struct ConnectionCounters {
    /// Connections open now.
    pub open: AtomicU64,
    /// Connections refused because `max_connections` were open.
    pub refused: AtomicU64,
    /// Connections closed for sending no whole request head in time, or for
    /// moving no byte for `idle_timeout`.
    pub timed_out: AtomicU64,
}

/// Serves `app` on `listener` until `shutdown` turns true, then gives open
/// connections [`SHUTDOWN_GRACE`] to finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    counters: Arc<ConnectionCounters>,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let busy = busy_answer(limits.max_connections);
    let mut accept_warned: Option<Instant> = None;
    let mut refuse_warned: Option<Instant> = None;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stopping| *stopping) => break,
        };
        match accepted {
            Ok((stream, remote)) => match Arc::clone(&slots).try_acquire_owned() {
                Ok(slot) => {
                    counters.open.fetch_add(1, Ordering::Relaxed);
                    let connection = Connection {
                        app: app.clone(),
                        remote,
                        limits,
                        counters: Arc::clone(&counters),
                        shutdown: shutdown.clone(),
                        hold: Arc::new(ConnectionHold {
                            _slot: slot,
                            counters: Arc::clone(&counters),
                        }),
                    };
                    tokio::spawn(connection.run(stream));
                }
                Err(_) => {
                    counters.refused.fetch_add(1, Ordering::Relaxed);
                    refuse(stream, &busy);
                    if once_a_second(&mut refuse_warned) {
                        tracing::warn!(
                            max = limits.max_connections, %remote,
                            refused_total = counters.refused.load(Ordering::Relaxed),
                            "ops API: connection refused, the maximum is open (`ops.max_connections`)"
                        );
                    }
                }
            },
            Err(e) => {
                if once_a_second(&mut accept_warned) {
                    tracing::warn!(error = %e, "ops API cannot accept a connection; retrying");
                }
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
    drop(listener);
    // Every connection holds a slot: all slots back means all closed.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(SHUTDOWN_GRACE, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(
            "ops API: connections still open {SHUTDOWN_GRACE:?} after stop; closing them"
        );
    }
}

fn once_a_second(last: &mut Option<Instant>) -> bool {
    let due = last.is_none_or(|at| at.elapsed() >= Duration::from_secs(1));
    if due {
        *last = Some(Instant::now());
    }
    due
}

/// The `503` a connection over the maximum gets, in the shape of every
/// other error answer.
fn busy_answer(max: usize) -> Vec<u8> {
    let body = serde_json::json!({
        "error": format!("the ops API is serving its maximum of {max} connections"),
        "hint": "try again shortly; `ops.max_connections` sets the maximum",
        "status": 503,
    })
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Answers `busy` if the socket takes it at once, and closes: no task, no
/// buffer, no descriptor kept.
fn refuse(stream: TcpStream, busy: &[u8]) {
    // Read what already arrived, so the close is not a reset that could
    // destroy the answer before the client reads it.
    let mut sink = [0u8; 2048];
    let _ = stream.try_read(&mut sink);
    let _ = stream.try_write(busy);
}

struct Connection {
    app: Router,
    remote: SocketAddr,
    limits: ConnectionLimits,
    counters: Arc<ConnectionCounters>,
    shutdown: watch::Receiver<bool>,
    /// The connection's slot, shared with an upgraded connection's handler.
    hold: Arc<ConnectionHold>,
}

/// A connection's slot of `ops.max_connections` and its place in the `open`
/// count. A WebSocket upgrade ends hyper's connection but not the socket:
/// its handler keeps a clone (from the request's extensions), so the slot
/// comes back only when the last user of the socket is gone.
pub struct ConnectionHold {
    _slot: OwnedSemaphorePermit,
    counters: Arc<ConnectionCounters>,
}

impl Drop for ConnectionHold {
    fn drop(&mut self) {
        self.counters.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Connection {
    async fn run(mut self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let started = Instant::now();
        let activity = Arc::new(AtomicU64::new(0));
        let io = TokioIo::new(Watched {
            stream,
            started,
            activity: Arc::clone(&activity),
        });
        // Requests whose answer is being computed: a reload that compiles
        // for a minute moves no byte, and must not count as idle.
        let in_flight = Arc::new(AtomicU64::new(0));
        let (app, remote, busy) = (self.app.clone(), self.remote, Arc::clone(&in_flight));
        let hold = Arc::clone(&self.hold);
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(remote));
            request.extensions_mut().insert(Arc::clone(&hold));
            let busy = InFlight::enter(&busy);
            // A router is always ready: calling it without `poll_ready` is allowed.
            let answer = app.clone().call(request);
            async move {
                let answer = answer.await;
                drop(busy);
                answer
            }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.limits.header_timeout)
            .keep_alive(true);
        // Upgrades: `/ws` (the dashboard's WebSocket) takes the socket over.
        let connection = builder.serve_connection(io, service).with_upgrades();
        tokio::pin!(connection);
        let mut stopping = false;
        loop {
            let last = Duration::from_millis(activity.load(Ordering::Relaxed));
            let idle_until =
                tokio::time::Instant::from_std(started + last + self.limits.idle_timeout);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        if e.is_timeout() {
                            self.counters.timed_out.fetch_add(1, Ordering::Relaxed);
                        }
                        tracing::debug!(error = %e, remote = %self.remote, "ops API connection ended");
                    }
                    break;
                }
                _ = self.shutdown.wait_for(|s| *s), if !stopping => {
                    stopping = true;
                    connection.as_mut().graceful_shutdown();
                }
                _ = tokio::time::sleep_until(idle_until) => {
                    if in_flight.load(Ordering::Relaxed) > 0 {
                        Watched::moved_at(started, &activity);
                        continue;
                    }
                    let now = Duration::from_millis(activity.load(Ordering::Relaxed));
                    if now == last {
                        self.counters.timed_out.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(remote = %self.remote, "ops API connection idle for `ops.idle_timeout_ms`; closed");
                        break;
                    }
                }
            }
        }
    }
}

/// Counts a request from its head to its answer's head (not its body: an
/// event stream's bytes are watched by [`Watched`]).
struct InFlight(Arc<AtomicU64>);

impl InFlight {
    fn enter(count: &Arc<AtomicU64>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(Arc::clone(count))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The socket, noting when bytes last moved either way (ms since `started`).
struct Watched {
    stream: TcpStream,
    started: Instant,
    activity: Arc<AtomicU64>,
}

impl Watched {
    fn moved(&self) {
        Self::moved_at(self.started, &self.activity);
    }

    fn moved_at(started: Instant, activity: &AtomicU64) {
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        activity.store(ms, Ordering::Relaxed);
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.moved();
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write(cx, data);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.moved();
        }
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write_vectored(cx, data);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.moved();
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;

    /// Regression (hardening issue, item 14): a client that asks for an
    /// endless answer and stops reading held its connection (and the
    /// server's buffers) forever. Once no byte has moved for the idle
    /// timeout, the server closes it.
    #[test]
    fn regression_13_14_a_client_that_stops_reading_is_closed_after_the_idle_timeout() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let counters = Arc::new(ConnectionCounters::default());
        let (stop, stopping) = watch::channel(false);
        let app = Router::new().route(
            "/endless",
            get(|| async {
                let chunk = axum::body::Bytes::from(vec![b'x'; 64 * 1024]);
                axum::body::Body::from_stream(futures_util::stream::repeat_with(move || {
                    Ok::<_, std::convert::Infallible>(chunk.clone())
                }))
            }),
        );
        let limits = ConnectionLimits {
            max_connections: 4,
            header_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_millis(300),
        };
        let server = {
            let counters = Arc::clone(&counters);
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener).unwrap();
                    serve(listener, app, limits, counters, stopping).await;
                });
            })
        };
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        std::io::Write::write_all(&mut client, b"GET /endless HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        // The client never reads: the buffers fill, then nothing moves.
        let started = Instant::now();
        while counters.timed_out.load(Ordering::Relaxed) == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the stalled connection was never closed"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("stalled connection closed after {:?}", started.elapsed());
        assert_eq!(counters.timed_out.load(Ordering::Relaxed), 1);
        let deadline = Instant::now() + Duration::from_secs(60);
        while counters.open.load(Ordering::Relaxed) != 0 {
            assert!(Instant::now() < deadline, "the connection stayed counted");
            std::thread::sleep(Duration::from_millis(20));
        }
        stop.send(true).unwrap();
        server.join().unwrap();
        drop(client);
    }
}
