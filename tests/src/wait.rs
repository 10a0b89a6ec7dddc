//! Bounded waits, on conditions and on processes: a regression makes a test fail after the
//! limit, never hang, and no test sleeps a fixed time hoping that something has happened
//! meanwhile.

use std::process::{Child, Command, Output};
use std::sync::mpsc;
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

/// How long one run of a program (the `migrate` binary, a database client) may take before
/// the test gives up on it: far more than any run needs, so only a hang reaches it.
pub const PROCESS_LIMIT: Duration = Duration::from_secs(180);

/// Waits for `child` as [`std::process::Child::wait_with_output`] does, at most `limit`:
/// past it the process is killed and the test fails naming `what`.
#[track_caller]
pub fn output_within(child: Child, limit: Duration, what: &str) -> Output {
    let pid = child.id();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match finished.recv_timeout(limit) {
        Ok(output) => output.unwrap_or_else(|e| panic!("waiting for {what}: {e}")),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("{what} did not finish within {limit:?}; it was killed")
        }
    }
}
