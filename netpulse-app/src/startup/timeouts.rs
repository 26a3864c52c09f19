//! Connection timeouts, applied to every accepted socket: a client has
//! [`Timeouts::header_read`] from the first byte of a request to the end of its head (request
//! line and headers), and a connection that stays silent for [`Timeouts::idle`] (keep-alive
//! between requests, a stalled body) is closed. Half-open and slow-drip sockets therefore cannot
//! pile up.
//!
//! poem's server offers only an inactivity timeout, so both are enforced here, on the socket:
//! [`TimedIo`] watches the bytes read for the blank line that ends a request head. An HTTP/2
//! (prior knowledge) connection gets only the idle timeout.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// The default time a client has to send a request's head.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The default time a connection may stay silent.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a client may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From the first byte of a request to the end of its headers.
    pub header_read: Duration,
    /// Without any byte read or written.
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            header_read: DEFAULT_HEADER_READ_TIMEOUT,
            idle: DEFAULT_IDLE_TIMEOUT,
        }
    }
}

/// An acceptor whose sockets enforce [`Timeouts`].
#[derive(Debug)]
pub struct TimeoutAcceptor<A> {
    inner: A,
    timeouts: Timeouts,
}

impl<A> TimeoutAcceptor<A> {
    /// Wraps `inner`.
    pub fn new(inner: A, timeouts: Timeouts) -> Self {
        Self { inner, timeouts }
    }
}

impl<A: Acceptor> Acceptor for TimeoutAcceptor<A> {
    type Io = TimedIo<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (io, local, remote, scheme) = self.inner.accept().await?;
        Ok((TimedIo::new(io, self.timeouts), local, remote, scheme))
    }
}

/// Where a connection is in its request cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Between requests (or before the first): the idle timeout runs.
    Waiting,
    /// A request head is arriving: the header-read timeout runs.
    Head,
    /// The head is in; the body or the answer is under way: the idle timeout runs.
    Busy,
    /// HTTP/2 prior knowledge: heads are not tracked; the idle timeout runs.
    Http2,
}

/// A socket that fails its reads once the client took too long (see the module docs).
#[derive(Debug)]
pub struct TimedIo<T> {
    inner: T,
    timeouts: Timeouts,
    phase: Phase,
    fresh: bool,
    head_start: Instant,
    last_activity: Instant,
    /// The last two bytes of the head read so far (a head end can straddle two reads).
    tail: Vec<u8>,
    timer: Pin<Box<Sleep>>,
}

impl<T> TimedIo<T> {
    fn new(inner: T, timeouts: Timeouts) -> Self {
        let now = Instant::now();
        Self {
            inner,
            timeouts,
            phase: Phase::Waiting,
            fresh: true,
            head_start: now,
            last_activity: now,
            tail: Vec::with_capacity(4),
            timer: Box::pin(tokio::time::sleep_until(now + timeouts.idle)),
        }
    }

    fn deadline(&self) -> Instant {
        match self.phase {
            Phase::Head => self.head_start + self.timeouts.header_read,
            _ => self.last_activity + self.timeouts.idle,
        }
    }

    /// Whether the current deadline has passed; otherwise the timer wakes `cx` at it. The timer
    /// is moved later only when it fires (activity does not re-arm it).
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            if self.timer.as_mut().poll(cx).is_pending() {
                return false;
            }
            let deadline = self.deadline();
            if deadline <= Instant::now() {
                return true;
            }
            self.timer.as_mut().reset(deadline);
        }
    }

    fn on_read(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let now = Instant::now();
        self.last_activity = now;
        if std::mem::take(&mut self.fresh) && data.starts_with(b"PRI ") {
            self.phase = Phase::Http2;
            return;
        }
        if self.phase == Phase::Waiting {
            self.phase = Phase::Head;
            self.head_start = now;
            self.tail.clear();
            let deadline = self.deadline();
            self.timer.as_mut().reset(deadline);
        }
        if self.phase == Phase::Head {
            let mut seen = std::mem::take(&mut self.tail);
            seen.extend_from_slice(&data[..data.len().min(2)]);
            if ends_head(&seen) || ends_head(data) {
                self.phase = Phase::Busy;
            } else {
                let keep = data.len().saturating_sub(2);
                seen.clear();
                seen.extend_from_slice(&data[keep..]);
                self.tail = seen;
            }
        }
    }

    fn on_write(&mut self, written: usize) {
        if written > 0 {
            self.last_activity = Instant::now();
            if matches!(self.phase, Phase::Head | Phase::Busy) {
                self.phase = Phase::Waiting;
            }
        }
    }
}

/// Whether `bytes` hold the blank line ending a head (`\r\n\r\n`, or bare `\n\n`).
fn ends_head(bytes: &[u8]) -> bool {
    bytes.windows(2).any(|w| w == b"\n\n") || bytes.windows(3).any(|w| w == b"\n\r\n")
}

fn timed_out() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the client took too long (header read or idle timeout)",
    )
}

impl<T: AsyncRead + Unpin> AsyncRead for TimedIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                this.on_read(&buf.filled()[before..]);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending if this.expired(cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TimedIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            this.on_write(n);
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            this.on_write(n);
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn head_ends_at_a_blank_line() {
        assert!(super::ends_head(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
        assert!(super::ends_head(b"GET / HTTP/1.1\nHost: a\n\n"));
        assert!(!super::ends_head(b"GET / HTTP/1.1\r\nHost: a\r\n"));
    }
}
