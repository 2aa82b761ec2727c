//! Each `/ws` client's bounded send queue and the task that writes it to the
//! socket. A client that stops reading can hold neither memory nor the
//! server thread: the queue holds at most [`SEND_QUEUE`] messages (the
//! producer never waits on it), and a write that does not complete within
//! the idle timeout ends the connection. Either way the client is dropped
//! with a [`DropReason`] that the log names.

use axum::extract::ws::Message;
use futures_util::{Sink, SinkExt};
use std::fmt;
use std::time::Duration;
use tokio::sync::mpsc;

/// Messages a client may have waiting before it is dropped. A status push
/// a second plus bursts of events: a reading client stays far below it.
pub const SEND_QUEUE: usize = 256;

/// Why the server ended a WebSocket connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// [`SEND_QUEUE`] messages were waiting: the client does not read.
    QueueFull,
    /// A write did not complete within `ops.idle_timeout_ms`.
    WriteStalled,
    /// Nothing came from the client (not even a pong) for `ops.idle_timeout_ms`.
    Idle,
    /// The socket failed or the client closed it.
    Closed,
    /// A frame over the size limit, or one that is not WebSocket.
    BadFrame,
    /// A token that matches none, or none sent in time when one is needed.
    Denied,
    /// The server is stopping.
    Shutdown,
}

impl DropReason {
    /// The close frame's code (RFC 6455 section 7.4.1).
    pub fn close_code(self) -> u16 {
        match self {
            DropReason::Shutdown => 1001,
            DropReason::BadFrame => 1009,
            DropReason::Denied | DropReason::QueueFull => 1008,
            DropReason::Idle | DropReason::WriteStalled | DropReason::Closed => 1000,
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DropReason::QueueFull => "send queue full: the client does not read what it is sent",
            DropReason::WriteStalled => {
                "a write stalled for `ops.idle_timeout_ms`: the client does not read"
            }
            DropReason::Idle => "nothing received (not even a pong) for `ops.idle_timeout_ms`",
            DropReason::Closed => "closed",
            DropReason::BadFrame => "a frame over the size limit or not WebSocket",
            DropReason::Denied => "no valid token",
            DropReason::Shutdown => "the server is stopping",
        })
    }
}

/// The producer's end: never waits.
pub struct Outgoing(mpsc::Sender<Message>);

impl Outgoing {
    /// A queue of `capacity` messages and its receiving end for [`write_all`].
    pub fn bounded(capacity: usize) -> (Outgoing, mpsc::Receiver<Message>) {
        let (tx, rx) = mpsc::channel(capacity);
        (Outgoing(tx), rx)
    }

    /// Queues `message`, or says why the client must be dropped.
    pub fn push(&self, message: Message) -> Result<(), DropReason> {
        self.0.try_send(message).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => DropReason::QueueFull,
            mpsc::error::TrySendError::Closed(_) => DropReason::Closed,
        })
    }
}

/// Writes queued messages until the queue closes or a write fails or takes
/// longer than `stall`; a close message is the last one written.
pub async fn write_all<S>(
    mut queue: mpsc::Receiver<Message>,
    mut sink: S,
    stall: Duration,
) -> DropReason
where
    S: Sink<Message> + Unpin,
{
    while let Some(message) = queue.recv().await {
        let last = matches!(message, Message::Close(_));
        match tokio::time::timeout(stall, sink.send(message)).await {
            Err(_) => return DropReason::WriteStalled,
            Ok(Err(_)) => return DropReason::Closed,
            Ok(Ok(())) if last => return DropReason::Closed,
            Ok(Ok(())) => {}
        }
    }
    DropReason::Closed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// A client that never reads: its socket never takes another byte.
    struct NeverReady;

    impl Sink<Message> for NeverReady {
        type Error = std::io::Error;
        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Pending
        }
        fn start_send(self: Pin<&mut Self>, _: Message) -> Result<(), Self::Error> {
            Ok(())
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Pending
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Pending
        }
    }

    #[test]
    fn issue_17_a_client_that_never_reads_fills_its_queue_and_is_dropped() {
        let (out, _rx) = Outgoing::bounded(4);
        for _ in 0..4 {
            out.push(Message::Text("x".into())).unwrap();
        }
        assert_eq!(
            out.push(Message::Text("one more".into())),
            Err(DropReason::QueueFull)
        );
        assert_eq!(DropReason::QueueFull.close_code(), 1008);
    }

    #[test]
    fn issue_17_a_write_that_stalls_ends_the_writer() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (out, rx) = Outgoing::bounded(4);
        out.push(Message::Text("x".into())).unwrap();
        let reason = runtime.block_on(write_all(rx, NeverReady, Duration::from_millis(50)));
        assert_eq!(reason, DropReason::WriteStalled);
        // The writer is gone: the producer sees a closed queue, not a wait.
        assert_eq!(out.push(Message::Text("y".into())), Err(DropReason::Closed));
    }
}
