//! The one multi-thread tokio runtime of the library, and how blocking calls use it.

use std::future::Future;
use std::time::Duration;

use tokio::runtime::Runtime;

use crate::boundary::Failure;
use crate::meetkit_status;

/// The shared runtime (`meetkit::blocking::runtime`), started on first use.
pub(crate) fn runtime() -> Result<&'static Runtime, Failure> {
    meetkit::blocking::runtime().map_err(|e| Failure::binding(meetkit_status::MEETKIT_OTHER, e.to_string()))
}

/// Runs a blocking piece of work that needs the runtime (`block_on`, a script) through
/// `meetkit::blocking::on_runtime`: on the calling thread, or on a helper thread when the
/// caller is already inside the runtime (a meetkit callback calling back into meetkit).
pub(crate) fn blocking<T: Send>(work: impl FnOnce(&'static Runtime) -> T + Send) -> Result<T, Failure> {
    meetkit::blocking::on_runtime(work).map_err(|e| Failure::binding(meetkit_status::MEETKIT_OTHER, e.to_string()))
}

/// Runs `fut` to completion on the shared runtime, giving up after `timeout_ms`
/// milliseconds (0: no limit) with the error `on_timeout` builds.
pub(crate) fn block_on<T: Send>(
    timeout_ms: u32,
    on_timeout: impl FnOnce(Duration) -> meetkit::Error + Send,
    fut: impl Future<Output = meetkit::Result<T>> + Send,
) -> Result<T, Failure> {
    blocking(|rt| {
        rt.block_on(async move {
            if timeout_ms == 0 {
                return fut.await;
            }
            let limit = Duration::from_millis(timeout_ms.into());
            tokio::time::timeout(limit, fut).await.unwrap_or_else(|_| Err(on_timeout(limit)))
        })
    })?
    .map_err(Failure::from)
}
