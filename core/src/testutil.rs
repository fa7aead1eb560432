//! Helpers for the unit tests that talk to an in-process fake server in real time.

use std::time::Duration;

/// How long a test waits for the client's background work (a heartbeat, a reconnect, a
/// session ended after a drop) before calling it a hang. Generous on purpose: it bounds a hang,
/// it is not a claim about speed, so a busy machine never trips it.
pub(crate) const HANG: Duration = Duration::from_secs(60);

/// Poll `cond` until it holds, failing with "hung: `what`" after [`HANG`].
pub(crate) async fn until(what: &str, cond: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + HANG;
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "hung: still waiting for {what} after {HANG:?}");
        // The poll interval of a wait for background work, not a wait for time to pass.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Await `fut`, failing with "hung: `what`" if it has not finished within [`HANG`].
pub(crate) async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(HANG, fut).await.unwrap_or_else(|_| panic!("hung: no {what} after {HANG:?}"))
}
