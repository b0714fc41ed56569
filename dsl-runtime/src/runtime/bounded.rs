//! Queues bounded in bytes between the event loop and the connection
//! tasks, and a rate limit for the warnings their overflows cause.
//!
//! The event loop never blocks on a socket: it hands frames to a
//! connection's writer through a [`ByteQueue`]. The queue counts the bytes
//! it holds; a send that would go over the limit is refused
//! ([`SendError::Full`]), and the caller decides what overflow means — a slow client
//! is disconnected, a slow peer is waited for or reconnected (see
//! [`crate::runtime::transport`]). Nothing is dropped silently.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// Something with a size in bytes.
pub trait HasBytes {
    /// Bytes it holds.
    fn bytes(&self) -> usize;
}

impl HasBytes for Vec<u8> {
    fn bytes(&self) -> usize {
        self.len()
    }
}

/// The sending side of a queue bounded in bytes.
pub struct ByteQueue<T> {
    tx: UnboundedSender<T>,
    queued: Arc<AtomicUsize>,
    limit: usize,
}

impl<T> Clone for ByteQueue<T> {
    fn clone(&self) -> Self {
        ByteQueue {
            tx: self.tx.clone(),
            queued: self.queued.clone(),
            limit: self.limit,
        }
    }
}

impl<T> std::fmt::Debug for ByteQueue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByteQueue")
            .field("queued", &self.queued.load(Ordering::Relaxed))
            .field("limit", &self.limit)
            .finish()
    }
}

/// The receiving side.
pub struct ByteReceiver<T> {
    rx: UnboundedReceiver<T>,
    queued: Arc<AtomicUsize>,
}

/// A send refused because the queue is full (or its receiver is gone).
#[derive(Debug)]
pub enum SendError<T> {
    /// Over the byte limit: the item is handed back.
    Full(T),
    /// The receiver is gone.
    Closed,
}

/// A queue holding at most `limit` bytes (one item is always let through
/// when the queue is empty, however large, so a frame at the size limit is
/// never stuck).
pub fn byte_queue<T: HasBytes>(limit: usize) -> (ByteQueue<T>, ByteReceiver<T>) {
    let (tx, rx) = unbounded_channel();
    let queued = Arc::new(AtomicUsize::new(0));
    (
        ByteQueue {
            tx,
            queued: queued.clone(),
            limit,
        },
        ByteReceiver { rx, queued },
    )
}

impl<T: HasBytes> ByteQueue<T> {
    /// Queues `item` unless that would pass the limit.
    pub fn try_send(&self, item: T) -> Result<(), SendError<T>> {
        let n = item.bytes();
        let before = self.queued.fetch_add(n, Ordering::AcqRel);
        if before > 0 && before + n > self.limit {
            self.queued.fetch_sub(n, Ordering::AcqRel);
            return Err(SendError::Full(item));
        }
        if self.tx.send(item).is_err() {
            self.queued.fetch_sub(n, Ordering::AcqRel);
            return Err(SendError::Closed);
        }
        Ok(())
    }

    /// Queues `item` whatever the limit (for the few frames that must not
    /// be refused, bounded by their own count: a welcome, a requeued delay).
    pub fn force(&self, item: T) -> Result<(), SendError<T>> {
        let n = item.bytes();
        self.queued.fetch_add(n, Ordering::AcqRel);
        self.tx.send(item).map_err(|_| {
            self.queued.fetch_sub(n, Ordering::AcqRel);
            SendError::Closed
        })
    }

    /// Bytes queued now.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    /// The byte limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Whether the receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

impl<T: HasBytes> ByteReceiver<T> {
    /// The next item, waiting for one; `None` once every sender is gone.
    pub async fn recv(&mut self) -> Option<T> {
        let item = self.rx.recv().await?;
        self.queued.fetch_sub(item.bytes(), Ordering::AcqRel);
        Some(item)
    }

    /// The next item if one is waiting.
    pub fn try_recv(&mut self) -> Option<T> {
        let item = self.rx.try_recv().ok()?;
        self.queued.fetch_sub(item.bytes(), Ordering::AcqRel);
        Some(item)
    }

    /// Empties the queue; returns how many items and bytes it held.
    pub fn discard(&mut self) -> (u64, u64) {
        let (mut items, mut bytes) = (0, 0);
        while let Some(item) = self.try_recv() {
            items += 1;
            bytes += item.bytes() as u64;
        }
        (items, bytes)
    }
}

/// A byte budget shared by a node's connection readers: a reader takes
/// credit for each frame before handing it to the event loop and the
/// event gives it back when the loop is done with it. When the loop falls
/// behind, readers wait instead of buffering, so the sockets' own windows
/// push back on the senders.
#[derive(Debug, Clone)]
pub struct Budget {
    sem: Arc<tokio::sync::Semaphore>,
    total: usize,
}

/// Credit held by one event against a [`Budget`]; dropping it gives it back.
#[derive(Debug, Default)]
pub struct Credit(#[allow(dead_code)] Option<tokio::sync::OwnedSemaphorePermit>); // held for its drop

impl Credit {
    /// No credit: for events that did not come from a socket.
    pub fn none() -> Self {
        Credit(None)
    }
}

impl Budget {
    /// A budget of `bytes`.
    pub fn new(bytes: usize) -> Self {
        let total = bytes.clamp(1, u32::MAX as usize);
        Budget {
            sem: Arc::new(tokio::sync::Semaphore::new(total)),
            total,
        }
    }

    /// Takes credit for `bytes` (at most the whole budget), waiting while
    /// the budget is spent. Returns the credit and whether it had to wait.
    pub async fn take(&self, bytes: usize) -> (Credit, bool) {
        let n = bytes.clamp(1, self.total) as u32;
        if let Ok(p) = self.sem.clone().try_acquire_many_owned(n) {
            return (Credit(Some(p)), false);
        }
        match self.sem.clone().acquire_many_owned(n).await {
            Ok(p) => (Credit(Some(p)), true),
            Err(_) => (Credit(None), true), // never closed
        }
    }

    /// Bytes of credit out now.
    pub fn in_use(&self) -> usize {
        self.total - self.sem.available_permits()
    }
}

/// A warning that repeats under attack or overload: at most
/// [`RateLimited::BURST`] are logged per second, and the next one logged
/// says how many were held back. A few distinct failures are all seen; a
/// flood costs the log a few lines a second, however fast it comes.
#[derive(Debug, Default)]
pub struct RateLimited {
    window: std::sync::Mutex<Window>,
}

#[derive(Debug, Default)]
struct Window {
    /// When the current one-second window opened (`None` before the first).
    start: Option<Instant>,
    /// Warnings logged in it.
    logged: u32,
    /// Warnings held back since the last one logged.
    suppressed: u64,
}

impl RateLimited {
    /// Warnings logged per window.
    pub const BURST: u32 = 10;
    const PERIOD: Duration = Duration::from_secs(1);

    /// Whether to log now; if so, also how many were held back since the
    /// last one.
    pub fn admit(&self) -> Option<u64> {
        let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if w.start
            .is_none_or(|s| now.duration_since(s) >= Self::PERIOD)
        {
            w.start = Some(now);
            w.logged = 0;
        }
        if w.logged >= Self::BURST {
            w.suppressed += 1;
            return None;
        }
        w.logged += 1;
        Some(std::mem::take(&mut w.suppressed))
    }
}

/// Logs a warning through a [`RateLimited`] gate, saying how many similar
/// warnings were held back.
#[macro_export]
#[doc(hidden)]
macro_rules! __warn_limited {
    ($gate:expr, $($arg:tt)+) => {
        if let Some(held) = $gate.admit() {
            if held > 0 {
                tracing::warn!(suppressed = held, $($arg)+);
            } else {
                tracing::warn!($($arg)+);
            }
        }
    };
}
pub use crate::__warn_limited as warn_limited;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_refuses_past_its_byte_limit_and_frees_on_receive() {
        let (tx, mut rx) = byte_queue::<Vec<u8>>(10);
        tx.try_send(vec![0; 30]).unwrap(); // empty: one item always passes
        assert!(matches!(tx.try_send(vec![0; 1]), Err(SendError::Full(_))));
        assert_eq!(rx.try_recv().map(|v| v.len()), Some(30));
        tx.try_send(vec![0; 6]).unwrap();
        tx.try_send(vec![0; 4]).unwrap();
        assert!(matches!(tx.try_send(vec![0; 1]), Err(SendError::Full(_))));
        assert_eq!(rx.discard(), (2, 10));
        assert_eq!(tx.queued(), 0);
        drop(rx);
        assert!(matches!(tx.try_send(vec![0; 1]), Err(SendError::Closed)));
    }

    #[test]
    fn a_rate_limited_warning_passes_a_burst_a_second_then_counts_the_rest() {
        let gate = RateLimited::default();
        for _ in 0..RateLimited::BURST {
            assert_eq!(gate.admit(), Some(0));
        }
        for _ in 0..1000 {
            assert_eq!(gate.admit(), None);
        }
        std::thread::sleep(RateLimited::PERIOD);
        assert_eq!(gate.admit(), Some(1000), "the held-back count is reported");
        assert_eq!(gate.admit(), Some(0));
    }
}
