//! meetkit from code that blocks: the C library, the Python package, a plain thread.
//!
//! meetkit is async inside. A caller that is not (a C function, a Python method with the GIL
//! released) needs a runtime to block on, and a long piece of work — a whole script — that it
//! can wait for in slices, so that it can notice Ctrl-C between slices and cancel. Both live
//! here once, so that every surface behaves the same:
//!
//! - [`runtime`]: the process's shared multi-thread runtime, started on first use;
//! - [`on_runtime`]: run blocking work that needs the runtime, also from a thread that is
//!   already inside it (a meetkit callback calling back into meetkit);
//! - [`ScriptRun`] (feature `script`): a script on its own thread, cancellable, waited for
//!   with or without a time slice.

use std::sync::OnceLock;

use tokio::runtime::Runtime;

use crate::{Error, Result};

static RUNTIME: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();

/// The shared multi-thread runtime (threads named `meetkit`), started on first use; it lives
/// until the process exits.
pub fn runtime() -> Result<&'static Runtime> {
    let rt = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("meetkit")
            .build()
            .map_err(|e| format!("cannot start meetkit's async runtime: {e}"))
    });
    rt.as_ref().map_err(|e| Error::config(e.clone()))
}

/// Run blocking `work` that needs the runtime (`block_on`, a script) on the calling thread.
/// A thread that is already inside a runtime cannot block on one, so the work then moves to a
/// helper thread while the caller waits; a panic in `work` is resumed in the caller.
pub fn on_runtime<T: Send>(work: impl FnOnce(&'static Runtime) -> T + Send) -> Result<T> {
    let rt = runtime()?;
    if tokio::runtime::Handle::try_current().is_err() {
        return Ok(work(rt));
    }
    std::thread::scope(|s| match s.spawn(|| work(rt)).join() {
        Ok(v) => Ok(v),
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

#[cfg(feature = "script")]
pub use script_run::ScriptRun;

#[cfg(feature = "script")]
mod script_run {
    use std::path::PathBuf;
    use std::sync::mpsc;
    use std::time::Duration;

    use serde_json::Value;
    use tokio_util::sync::CancellationToken;

    use crate::script::ScriptOptions;
    use crate::{Client, Error, Result};

    /// A script running on its own thread (named `meetkit-script`: scripts never run on a
    /// runtime worker). Cancel it with [`ScriptRun::cancel`] — its `on_exit` blocks still run,
    /// within their own limit — and collect its result with [`ScriptRun::wait`] or, to stay
    /// responsive to signals, [`ScriptRun::wait_for`] in a loop.
    pub struct ScriptRun {
        cancel: CancellationToken,
        // Behind a lock so a run can be waited for from another thread (Python waits with
        // the GIL released).
        done: std::sync::Mutex<mpsc::Receiver<Result<Value>>>,
    }

    impl ScriptRun {
        /// Start the script file `path` with `client` on `runtime`. `options.cancel` is the
        /// token [`ScriptRun::cancel`] trips.
        pub fn start_file(
            path: PathBuf,
            client: Client,
            runtime: tokio::runtime::Handle,
            options: ScriptOptions,
        ) -> Result<ScriptRun> {
            let cancel = options.cancel.clone();
            let (tx, done) = mpsc::sync_channel(1);
            std::thread::Builder::new()
                .name("meetkit-script".into())
                .spawn(move || {
                    let _ = tx.send(crate::script::run_file(&path, &client, runtime, options));
                })
                .map_err(|e| Error::config(format!("cannot start the script thread: {e}")))?;
            Ok(ScriptRun { cancel, done: std::sync::Mutex::new(done) })
        }

        /// Stop the script: what runs now ends, `on_exit` blocks run.
        pub fn cancel(&self) {
            self.cancel.cancel();
        }

        /// The script's result if it ends within `slice`; `None` while it still runs.
        pub fn wait_for(&self, slice: Duration) -> Option<Result<Value>> {
            match self.done.lock().unwrap_or_else(|p| p.into_inner()).recv_timeout(slice) {
                Ok(result) => Some(result),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => Some(Err(thread_failed())),
            }
        }

        /// Block until the script ends and return its result.
        pub fn wait(self) -> Result<Value> {
            let done = self.done.into_inner().unwrap_or_else(|p| p.into_inner());
            done.recv().unwrap_or_else(|_| Err(thread_failed()))
        }
    }

    /// The script thread ended without a result: it panicked (the panic message is on stderr).
    fn thread_failed() -> Error {
        Error::Script {
            message: "the script thread failed (a panic; see stderr)".into(),
            file: None,
            line: None,
            column: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_runtime_works_from_inside_the_runtime_too() {
        let outside = on_runtime(|rt| rt.block_on(async { 1 + 1 })).unwrap();
        let inside = runtime().unwrap().block_on(async { on_runtime(|rt| rt.block_on(async { 40 + 2 })).unwrap() });
        assert_eq!((outside, inside), (2, 42));
    }
}
