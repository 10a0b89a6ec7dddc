//! Bounded waits on conditions: a regression makes a test fail after the limit, never hang,
//! and no test sleeps a fixed time hoping that something has happened meanwhile.

use std::time::{Duration, Instant};

/// How long a test waits for something that normally takes milliseconds.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// How often a condition is checked again.
const POLL: Duration = Duration::from_millis(10);

/// Checks `condition` until it holds; panics naming `what` when it still does not after
/// `limit`.
#[track_caller]
pub fn wait_until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "gave up after {limit:?} waiting for {what}"
        );
        std::thread::sleep(POLL);
    }
}

/// [`wait_until`] for a condition that must be awaited.
pub async fn wait_until_async<F, Fut>(what: &str, limit: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !condition().await {
        assert!(
            Instant::now() < deadline,
            "gave up after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}
