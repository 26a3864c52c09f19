//! Request bodies read under a cap, refused politely.
//!
//! A body over its route's cap is refused with 413, but the refusal is only readable by a client
//! that is not still writing: a server that answers and closes while the client sends the rest
//! makes the client see a broken pipe or a reset instead of the answer. So the excess is read and
//! discarded (constant memory, at most [`DRAIN_BYTES`] and [`DRAIN_TIME`]) before answering; a
//! body declared larger than that is refused at once and the connection closed. A client that
//! sent `Expect: 100-continue` has not sent its body yet and gets the answer at once.

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use poem::http::{HeaderMap, header};

/// The most of a refused body read and thrown away so the client sees the 413.
pub const DRAIN_BYTES: u64 = 8 * 1024 * 1024;
/// The longest time spent discarding a refused body.
pub const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Why a body was not read.
#[derive(Debug, thiserror::Error)]
pub enum BodyReadError {
    /// Longer than the cap (declared or streamed).
    #[error("the body is larger than {limit} bytes")]
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The connection failed while reading.
    #[error("cannot read the body: {0}")]
    Unreadable(#[source] std::io::Error),
}

/// The declared `Content-Length`, if any.
pub fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// Reads `body`, at most `limit` bytes. A larger declared length is refused before buffering
/// anything; a streamed body is counted as it arrives, and nothing past the cap is kept.
pub async fn read_limited(
    headers: &HeaderMap,
    body: poem::Body,
    limit: usize,
) -> Result<Bytes, BodyReadError> {
    let too_large = BodyReadError::TooLarge { limit };
    let mut stream = body.into_bytes_stream();
    let waits_to_continue = headers
        .get(header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    if let Some(n) = declared_length(headers).filter(|&n| n > limit as u64) {
        if !waits_to_continue && n <= limit as u64 + DRAIN_BYTES {
            drain(&mut stream, n).await;
        }
        return Err(too_large);
    }
    let mut data = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(BodyReadError::Unreadable)?;
        if data.len() + chunk.len() > limit {
            drain(&mut stream, limit as u64 + DRAIN_BYTES).await;
            return Err(too_large);
        }
        data.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(data))
}

/// Reads and discards at most `at_most` bytes of the rest of `stream`, within [`DRAIN_TIME`].
async fn drain<S>(stream: &mut S, at_most: u64)
where
    S: futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Unpin,
{
    let discard = async {
        let mut seen = 0u64;
        while let Some(Ok(chunk)) = stream.next().await {
            seen += chunk.len() as u64;
            if seen >= at_most {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, discard).await;
}
