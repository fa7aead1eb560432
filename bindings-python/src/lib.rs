//! `meetkit._meetkit`: the native half of the Python package `meetkit`.
//!
//! A thin layer over `meetkit-core` (and `meetkit-sim` for `meetkit.Simulator`): every
//! behaviour lives in the core; this crate only converts values, maps errors and waits.
//!
//! * One multi-thread tokio runtime serves the whole module ([`runtime`]); it is also the
//!   runtime of the awaitables (`pyo3-async-runtimes`), so `acall` never touches the
//!   caller's event loop beyond resolving its future.
//! * Every blocking wait ([`wait`]) runs the future on that runtime, releases the GIL and
//!   checks for signals every [`TICK`], so Ctrl-C raises `KeyboardInterrupt` promptly and
//!   drops (cancels) the work in flight.
//! * Exceptions are the classes of `meetkit.errors`, created once by Python; [`errors`]
//!   maps each `meetkit::Error` variant onto one of them.

use std::future::Future;
use std::sync::mpsc;
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

mod client;
mod convert;
mod errors;
mod journal;
mod meeting;
mod script;
mod sim;

/// How often a blocking wait wakes up to check for Ctrl-C.
const TICK: Duration = Duration::from_millis(100);

/// The process's one tokio runtime (`meetkit::blocking::runtime`, built on first use).
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    meetkit::blocking::runtime().expect("meetkit: cannot start the tokio runtime")
}

/// Aborts a spawned task when dropped: an interrupted wait cancels its work.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Run `fut` on the module runtime and wait for it with the GIL released, checking for
/// signals every [`TICK`]. A pending `KeyboardInterrupt` (or any exception a signal handler
/// raises) is returned at once and the future is dropped, which cancels the request in flight.
pub(crate) fn wait<R: Send + 'static>(py: Python<'_>, fut: impl Future<Output = R> + Send + 'static) -> PyResult<R> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(PyRuntimeError::new_err(
            "meetkit: blocking calls cannot be made from a meetkit callback; use the async API (acall) instead",
        ));
    }
    let (tx, rx) = mpsc::sync_channel(1);
    let task = runtime().spawn(async move {
        let _ = tx.send(fut.await);
    });
    let _abort = AbortOnDrop(task.abort_handle());
    let mut rx = rx;
    loop {
        let (got, back) = py.detach(move || (rx.recv_timeout(TICK), rx));
        rx = back;
        match got {
            Ok(r) => return Ok(r),
            Err(mpsc::RecvTimeoutError::Timeout) => py.check_signals()?,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err("meetkit: internal task failed (panic); see stderr"))
            }
        }
    }
}

/// The native module. Import `meetkit`, not this.
/// Counts each script run's allocations, for `run_script(max_memory=...)`.
#[global_allocator]
static ALLOC: meetkit::memory::CountingAlloc = meetkit::memory::CountingAlloc;

#[pymodule]
fn _meetkit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Awaitables run on the same runtime as blocking calls. Err means it was set already
    // (a second interpreter in the same process), which is the same runtime.
    let _ = pyo3_async_runtimes::tokio::init_with_runtime(runtime());
    m.add_class::<client::Client>()?;
    m.add_class::<client::VendorHandle>()?;
    m.add_class::<client::Endpoint>()?;
    m.add_class::<client::Downloaded>()?;
    m.add_class::<client::Progress>()?;
    m.add_class::<client::Event>()?;
    m.add_class::<client::EventStream>()?;
    m.add_class::<meeting::Meeting>()?;
    m.add_class::<meeting::Room>()?;
    m.add_class::<meeting::Participant>()?;
    m.add_class::<meeting::Recording>()?;
    m.add_class::<sim::Simulator>()?;
    m.add_class::<script::CancelToken>()?;
    m.add_function(wrap_pyfunction!(script::run_script, m)?)?;
    m.add_function(wrap_pyfunction!(convert::redact, m)?)?;
    m.add_function(wrap_pyfunction!(meeting::capabilities, m)?)?;
    m.add_function(wrap_pyfunction!(journal::journal_runs, m)?)?;
    m.add_function(wrap_pyfunction!(journal::journal_run, m)?)?;
    m.add_function(wrap_pyfunction!(journal::cleanup_run, m)?)?;
    m.add_function(wrap_pyfunction!(journal::stop_resources, m)?)?;
    m.add_function(wrap_pyfunction!(journal::stop_says_gone, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // Clients never closed end their sessions before the interpreter goes away (objects still
    // alive at exit are not reliably collected, so their finalizers cannot be relied upon).
    let at_exit = wrap_pyfunction!(client::_close_clients_at_exit, m)?;
    m.py().import("atexit")?.call_method1("register", (at_exit,))?;
    Ok(())
}
