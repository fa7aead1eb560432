//! The run journal from Python: read runs, stop what a run (or a record handed on by another
//! process) left running. Thin: every behaviour is `meetkit::journal`'s.

use std::path::PathBuf;

use pyo3::prelude::*;
use serde_json::Value;

use meetkit::journal::{self, Journal, ResourceRecord};

use crate::client::{vendor_of, Client};
use crate::convert::{from_py, to_py};
use crate::errors::py_err;
use crate::wait;

/// A journal value (serialized with `serde_json::to_value`) as plain Python data.
fn plain(py: Python<'_>, json: serde_json::Result<Value>) -> PyResult<Bound<'_, PyAny>> {
    to_py(py, &json.map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?)
}

/// Every run of the journal at `path`, newest first, as dicts (`id`, `script`, `profile`,
/// `status`, `calls`, `left_running`, ...). Runs whose process died read `interrupted`.
#[pyfunction]
pub(crate) fn journal_runs<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyAny>> {
    let journal = Journal::open(&path).map_err(|e| py_err(py, e))?;
    let runs = journal.runs().map_err(|e| py_err(py, e))?;
    plain(py, serde_json::to_value(&runs))
}

/// One run of the journal at `path` with its `calls`, `resources` (what it started, each with
/// the call that stops it and whether it was stopped) and `files`, as a dict.
#[pyfunction]
pub(crate) fn journal_run<'py>(py: Python<'py>, path: PathBuf, run_id: &str) -> PyResult<Bound<'py, PyAny>> {
    let journal = Journal::open(&path).map_err(|e| py_err(py, e))?;
    let run = journal.run(run_id).map_err(|e| py_err(py, e))?;
    plain(py, serde_json::to_value(&run))
}

/// Stop what run `run_id` of the journal at `path` left running, through `client` (as
/// `meetkit runs cleanup`): one dict per resource with its `outcome` (`stopped`,
/// `already_stopped`, `failed`, `kept`, `would_stop`) and `detail`.
#[pyfunction]
#[pyo3(signature = (client, path, run_id, *, end_rooms=false, dry_run=false))]
pub(crate) fn cleanup_run<'py>(
    py: Python<'py>,
    client: &Bound<'py, Client>,
    path: PathBuf,
    run_id: String,
    end_rooms: bool,
    dry_run: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let journal = Journal::open(&path).map_err(|e| py_err(py, e))?;
    let client = client.get().inner.clone();
    let steps = wait(py, async move { journal::cleanup(&journal, &client, &run_id, end_rooms, dry_run).await })?
        .map_err(|e| py_err(py, e))?;
    plain(py, serde_json::to_value(&steps))
}

/// Stop `resources` (dicts of a journal run's `resources` shape, e.g. carried in a Temporal
/// heartbeat from another process) through `client`; records already stopped are skipped,
/// rooms are ended only with `end_rooms`, a stop the vendor answers "nothing to stop" is
/// `already_stopped`. Returns one dict per resource, as `cleanup_run`.
#[pyfunction]
#[pyo3(signature = (client, resources, *, end_rooms=false, dry_run=false))]
pub(crate) fn stop_resources<'py>(
    py: Python<'py>,
    client: &Bound<'py, Client>,
    resources: &Bound<'py, PyAny>,
    end_rooms: bool,
    dry_run: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let value: Value = from_py(resources, "resources")?;
    let records: Vec<ResourceRecord> = serde_json::from_value(value).map_err(|e| {
        pyo3::exceptions::PyValueError::new_err(format!(
            "resources: {e}; expected a list of dicts with vendor, kind, start_endpoint, stop_endpoint and \
             stop_params (a journal run's `resources`)"
        ))
    })?;
    let client = client.get().inner.clone();
    let steps = wait(py, async move { journal::stop_resources(&client, records, end_rooms, dry_run).await })?
        .map_err(|e| py_err(py, e))?;
    plain(py, serde_json::to_value(&steps))
}

/// Whether vendor `code`, answered by `vendor`'s stopping `endpoint`, means there was nothing
/// (left) to stop (the lifecycle table's "gone" codes): a repeated stop is then done.
#[pyfunction]
pub(crate) fn stop_says_gone(py: Python<'_>, vendor: &str, endpoint: &str, code: &str) -> PyResult<bool> {
    Ok(journal::stop_says_gone(vendor_of(py, vendor)?, endpoint, code))
}
