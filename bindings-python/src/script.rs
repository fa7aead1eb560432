//! `meetkit.run_script`: a Rhai workflow on a plain thread, cancellable with Ctrl-C.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use meetkit::config::Profile;
use meetkit::script::{Limits, ScriptOptions};

use crate::client::Client;
use crate::convert::{from_py, to_py};
use crate::errors;
use crate::{runtime, TICK};

/// A switch that cancels a run from another thread or task: `run_script(..., cancel=token)`
/// stops when `token.cancel()` is called (its `on_exit` blocks still run) and raises
/// `meetkit.CancelledError`. One token may serve several runs; a cancelled token stays so.
#[pyclass(module = "meetkit", frozen)]
pub(crate) struct CancelToken {
    inner: CancellationToken,
}

#[pymethods]
impl CancelToken {
    #[new]
    fn new() -> Self {
        CancelToken { inner: CancellationToken::new() }
    }

    /// Cancel every run given this token (now, or as soon as it starts).
    fn cancel(&self) {
        self.inner.cancel();
    }

    /// Whether `cancel()` was called.
    #[getter]
    fn cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }

    fn __repr__(&self) -> String {
        format!("CancelToken(cancelled={})", if self.inner.is_cancelled() { "True" } else { "False" })
    }
}

/// Run the Rhai script at `path` and return its last value as plain Python data.
///
/// The script's `print` goes to `sys.stdout`. Ctrl-C cancels the run (its `on_exit`
/// blocks still run) and raises `KeyboardInterrupt`; so does `cancel.cancel()` from another
/// thread (a run on `asyncio.to_thread`, a Temporal activity), raising `CancelledError`. The run is recorded in the run journal
/// (`journal=None`: the default one, as `meetkit run`; a path: that file; `False`: none).
/// `max_memory` is the run's heap budget (bytes, or text with a unit like `"256M"`; default
/// 512 MiB); `env_allow` names the environment variables `env()` may read besides
/// `MEETKIT_SCRIPT_*`. The script sees secret result fields only with `allow_secrets=True`
/// (`None`: as the client's `allow_secrets`).
#[pyfunction]
#[allow(clippy::too_many_arguments)] // Python keyword arguments, each optional.
#[pyo3(signature = (path, client=None, vars=None, out=PathBuf::from("recordings"), timeout=None, journal=None, max_memory=None, env_allow=None, allow_secrets=None, cancel=None))]
pub(crate) fn run_script(
    py: Python<'_>,
    path: PathBuf,
    client: Option<&Bound<'_, Client>>,
    vars: Option<&Bound<'_, PyAny>>,
    out: PathBuf,
    timeout: Option<f64>,
    journal: Option<&Bound<'_, PyAny>>,
    max_memory: Option<&Bound<'_, PyAny>>,
    env_allow: Option<Vec<String>>,
    allow_secrets: Option<bool>,
    cancel: Option<&Bound<'_, CancelToken>>,
) -> PyResult<Py<PyAny>> {
    let max_memory = match max_memory {
        None => meetkit::memory::DEFAULT_MAX_MEMORY,
        Some(m) if m.is_instance_of::<pyo3::types::PyString>() => {
            meetkit::memory::parse_size(&m.extract::<String>()?, "max_memory").map_err(|e| errors::py_err(py, e))?
        }
        Some(m) => match m.extract::<i64>() {
            Ok(n) if n > 0 => n as u64,
            _ => {
                return Err(pyo3::exceptions::PyValueError::new_err(
                    "max_memory must be a positive number of bytes or a size like \"256M\"",
                ))
            }
        },
    };
    let journal_path = match journal {
        None => Some(meetkit::journal::Journal::default_path()),
        Some(j) if j.is_instance_of::<pyo3::types::PyBool>() => {
            j.extract::<bool>()?.then(meetkit::journal::Journal::default_path)
        }
        Some(j) => Some(j.extract::<PathBuf>().map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err("journal must be a path, None (the default journal) or False (none)")
        })?),
    };
    // A client made here for the run is closed (its sessions ended) when `owned` drops.
    let owned = match client {
        Some(_) => None,
        None => {
            let profile = Profile::load(None, None).map_err(|e| errors::py_err(py, e))?;
            Some(Client::from_profile(py, &profile, None)?)
        }
    };
    let client = match (client, &owned) {
        (Some(c), _) => c.get().inner.clone(),
        (None, Some(o)) => o.inner.clone(),
        (None, None) => unreachable!("a client was made above"),
    };
    let allow_secrets = allow_secrets.unwrap_or(client.secrets_allowed());
    let run = match &journal_path {
        Some(p) => {
            let journal = meetkit::journal::Journal::open(p).map_err(|e| errors::py_err(py, e))?;
            Some(
                journal
                    .begin_run(&path.display().to_string(), client.profile_name(), "python")
                    .map_err(|e| errors::py_err(py, e))?,
            )
        }
        None => None,
    };
    let client = match &run {
        Some(run) => client.with_journal(run.clone()),
        None => client,
    };
    let vars = match vars.map(|v| from_py(v, "vars")).transpose()? {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(pyo3::exceptions::PyTypeError::new_err("vars must be a dict")),
    };
    let timeout = match timeout {
        Some(t) if !(t.is_finite() && t > 0.0) => {
            return Err(pyo3::exceptions::PyValueError::new_err("timeout must be a positive number of seconds"))
        }
        t => t.map(Duration::from_secs_f64),
    };
    let options = ScriptOptions {
        out_dir: out,
        vars,
        limits: Limits { timeout, max_memory: Some(max_memory), ..Limits::default() },
        env_allow: env_allow.unwrap_or_default(),
        print: Arc::new(|line: &str| {
            Python::attach(|py| {
                let _ = py
                    .import("sys")
                    .and_then(|sys| sys.getattr("stdout")?.call_method1("write", (format!("{line}\n"),)));
            })
        }),
        allow_secrets,
        // A child: Ctrl-C cancels this run, not the caller's token.
        cancel: cancel.map(|c| c.get().inner.child_token()).unwrap_or_default(),
        ..ScriptOptions::default()
    };
    let script = meetkit::blocking::ScriptRun::start_file(path, client, runtime().handle().clone(), options)
        .map_err(|e| errors::py_err(py, e))?;
    let mut interrupted: Option<PyErr> = None;
    let result = loop {
        if let Some(result) = py.detach(|| script.wait_for(TICK)) {
            break result;
        }
        if interrupted.is_none() {
            if let Err(e) = py.check_signals() {
                // Cancel, then keep waiting: on_exit blocks clean up (bounded by their limit).
                script.cancel();
                interrupted = Some(e);
            }
        }
    };
    if let Some(run) = &run {
        let cancelled = meetkit::Error::Cancelled { reason: "KeyboardInterrupt".into() };
        run.finish(if interrupted.is_some() { Some(&cancelled) } else { result.as_ref().err() });
    }
    if let Some(e) = interrupted {
        return Err(e);
    }
    match result {
        Ok(value) => Ok(to_py(py, &value)?.unbind()),
        Err(e) => Err(errors::py_err(py, e)),
    }
}
