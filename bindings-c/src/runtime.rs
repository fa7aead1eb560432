//! The one multi-thread tokio runtime of the library, and how blocking calls use it.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::runtime::Runtime;

use crate::boundary::Failure;
use crate::meetkit_status;

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

/// The shared runtime, started on first use; it lives until the process exits.
pub(crate) fn runtime() -> Result<&'static Runtime, Failure> {
    let rt = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("meetkit")
            .build()
            .map_err(|e| format!("cannot start meetkit's async runtime: {e}"))
    });
    rt.as_ref().map_err(|e| Failure::binding(meetkit_status::MEETKIT_OTHER, e.clone()))
}

/// Runs a blocking piece of work that needs the runtime (`block_on`, a script) on the
/// calling thread. A thread that is already inside the runtime (a meetkit callback calling
/// back into meetkit) cannot block on it, so the work then moves to a helper thread while
/// the caller waits.
pub(crate) fn blocking<T: Send>(work: impl FnOnce(&'static Runtime) -> T + Send) -> Result<T, Failure> {
    let rt = runtime()?;
    if tokio::runtime::Handle::try_current().is_err() {
        return Ok(work(rt));
    }
    std::thread::scope(|s| match s.spawn(|| work(rt)).join() {
        Ok(v) => Ok(v),
        Err(panic) => std::panic::resume_unwind(panic),
    })
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
