//! `meetkit.Client` and what it hands out: vendor handles, endpoint descriptions,
//! downloads with progress, event streams.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use futures::StreamExt;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use meetkit::client::{ClientOptions, WeakClient};
use meetkit::config::Profile;
use meetkit::download::DownloadOptions;
use meetkit::{EndpointSpec, Vendor};

use crate::convert::{from_py, to_py, Json};
use crate::errors::{py_err, py_err_attached};
use crate::wait;

/// A client for every vendor of one profile. Thread-safe; calls may run concurrently.
#[pyclass(module = "meetkit", frozen)]
pub(crate) struct Client {
    pub(crate) inner: meetkit::Client,
}

/// How long ending a client's sessions may take when it is garbage-collected or the
/// interpreter exits.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Every client created from Python that may still be alive, for the exit hook.
static LIVE: Mutex<Vec<WeakClient>> = Mutex::new(Vec::new());

/// Set by the exit hook: clients collected after it need no closing (it closed them all).
static EXITING: AtomicBool = AtomicBool::new(false);

impl Client {
    /// The client of a profile, with an optional HAR capture file. Its results show secret
    /// fields as `***` until `with_secrets(true)`. Its sessions are ended by
    /// `close()`, `with`, garbage collection or interpreter exit, whichever comes first.
    pub(crate) fn from_profile(py: Python<'_>, profile: &Profile, capture: Option<PathBuf>) -> PyResult<Client> {
        let inner =
            meetkit::Client::from_profile_with(profile, ClientOptions { capture }).map_err(|e| py_err(py, e))?;
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(WeakClient::is_alive);
        live.push(inner.downgrade());
        Ok(Client { inner: inner.with_secrets(false) })
    }
}

/// A collected client ends its sessions (bounded by [`CLOSE_TIMEOUT`]): pyo3 objects may be
/// collected at any time, so this is the finalizer; `close()` and `with` are the explicit ways.
impl Drop for Client {
    fn drop(&mut self) {
        if !EXITING.load(Ordering::SeqCst) {
            close_quietly(vec![self.inner.clone()]);
        }
    }
}

/// Ends the sessions of `clients` (concurrently, at most [`CLOSE_TIMEOUT`]). Errors are
/// dropped: there is no caller left to raise them to (a server already gone, say), and the
/// server expires what could not be ended. Blocks with the GIL released, unless called on one
/// of meetkit's runtime threads (a callback), where it cannot block: there the closing runs
/// in the background.
fn close_quietly(clients: Vec<meetkit::Client>) {
    let closing = async move {
        let all = futures::future::join_all(clients.iter().map(|c| c.close()));
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, all).await;
    };
    if tokio::runtime::Handle::try_current().is_ok() {
        crate::runtime().spawn(closing);
        return;
    }
    Python::attach(|py| py.detach(|| crate::runtime().block_on(closing)));
}

/// The `atexit` hook: ends the sessions of every client still alive (`close()` never
/// called), at most [`CLOSE_TIMEOUT`] in all, before the interpreter goes away.
#[pyfunction]
pub(crate) fn _close_clients_at_exit() {
    EXITING.store(true, Ordering::SeqCst);
    let live: Vec<meetkit::Client> =
        LIVE.lock().unwrap_or_else(|e| e.into_inner()).drain(..).filter_map(|w| w.upgrade()).collect();
    if !live.is_empty() {
        close_quietly(live);
    }
}

/// `text` as a Python string literal, for reprs.
pub(crate) fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

pub(crate) fn vendor_of(py: Python<'_>, name: &str) -> PyResult<Vendor> {
    name.parse::<Vendor>().map_err(|e| py_err(py, e))
}

fn params_of(params: Option<&Bound<'_, PyAny>>) -> PyResult<Value> {
    params.map_or(Ok(Value::Null), |p| from_py(p, "params"))
}

/// Blocking call shared by `Client.call` and `VendorHandle.call`.
fn call_blocking(
    py: Python<'_>,
    client: &meetkit::Client,
    vendor: Vendor,
    endpoint_id: String,
    params: Value,
) -> PyResult<Py<PyAny>> {
    let client = client.clone();
    let result = wait(py, async move { client.call(vendor, &endpoint_id, params).await })?;
    match result {
        Ok(value) => Ok(to_py(py, &value)?.unbind()),
        Err(e) => Err(py_err(py, e)),
    }
}

/// Awaitable call shared by `Client.acall` and `VendorHandle.acall`.
fn call_async<'py>(
    py: Python<'py>,
    client: &meetkit::Client,
    vendor: Vendor,
    endpoint_id: String,
    params: Value,
) -> PyResult<Bound<'py, PyAny>> {
    let client = client.clone();
    pyo3_async_runtimes::tokio::future_into_py(py, async move {
        client.call(vendor, &endpoint_id, params).await.map(Json).map_err(py_err_attached)
    })
}

fn endpoints_of(vendor: Vendor) -> Vec<Endpoint> {
    meetkit::Client::endpoints(vendor).iter().map(|spec| Endpoint { spec }).collect()
}

#[pymethods]
impl Client {
    /// `Client(profile=None, *, config=None, profile_dict=None, capture=None, journal=None,
    /// allow_secrets=False)`; see the stubs.
    #[new]
    #[pyo3(signature = (profile=None, *, config=None, profile_dict=None, capture=None, journal=None, allow_secrets=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        profile: Option<String>,
        config: Option<PathBuf>,
        profile_dict: Option<&Bound<'_, PyAny>>,
        capture: Option<PathBuf>,
        journal: Option<PathBuf>,
        allow_secrets: bool,
    ) -> PyResult<Client> {
        let profile = match profile_dict {
            Some(dict) => {
                if config.is_some() {
                    return Err(PyValueError::new_err("give either `config` or `profile_dict`, not both"));
                }
                let value = from_py(dict, "profile_dict")?;
                Profile::from_json(profile.as_deref().unwrap_or("dict"), &value)
            }
            // Same lookup as the CLI: explicit file, MEETKIT_CONFIG, ./meetkit.toml, then the
            // environment variables alone.
            None => Profile::load(config.as_deref(), profile.as_deref()),
        }
        .map_err(|e| py_err(py, e))?;
        let mut client = Client::from_profile(py, &profile, capture)?;
        client.inner = client.inner.with_secrets(allow_secrets);
        let Some(path) = journal else { return Ok(client) };
        // Every call of this client (and what it starts and stops) goes into the run journal,
        // as one run that ends when the client is closed.
        let journal = meetkit::journal::Journal::open(&path).map_err(|e| py_err(py, e))?;
        let run =
            journal.begin_run("python Client", client.inner.profile_name(), "python").map_err(|e| py_err(py, e))?;
        Ok(Client { inner: client.inner.with_journal(run) })
    }

    /// The profile's name.
    #[getter]
    fn profile_name(&self) -> &str {
        self.inner.profile_name()
    }

    /// Whether results show secret fields (tokens, passwords, PINs, keys) as they are
    /// (`allow_secrets=True`) rather than as `***`.
    #[getter]
    fn allow_secrets(&self) -> bool {
        self.inner.secrets_allowed()
    }

    /// The HAR file this client writes (`capture=`), or None.
    #[getter]
    fn capture(&self) -> Option<PathBuf> {
        self.inner.capture().map(|c| c.path().to_path_buf())
    }

    /// The vendors this client has connections for.
    #[getter]
    fn vendors(&self) -> Vec<&'static str> {
        self.inner.vendors().into_iter().map(Vendor::as_str).collect()
    }

    /// Call one endpoint and wait for its result (the vendor's payload as plain Python data).
    #[pyo3(signature = (vendor, endpoint_id, params=None))]
    fn call(
        &self,
        py: Python<'_>,
        vendor: &str,
        endpoint_id: String,
        params: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let vendor = vendor_of(py, vendor)?;
        call_blocking(py, &self.inner, vendor, endpoint_id, params_of(params)?)
    }

    /// Call one endpoint; returns an awaitable (runs on meetkit's runtime).
    #[pyo3(signature = (vendor, endpoint_id, params=None))]
    fn acall<'py>(
        &self,
        py: Python<'py>,
        vendor: &str,
        endpoint_id: String,
        params: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let vendor = vendor_of(py, vendor)?;
        call_async(py, &self.inner, vendor, endpoint_id, params_of(params)?)
    }

    /// A handle on one vendor of this client (fails if the profile has no such connection).
    fn vendor(&self, py: Python<'_>, name: &str) -> PyResult<VendorHandle> {
        let vendor = vendor_of(py, name)?;
        self.inner.require(vendor).map_err(|e| py_err(py, e))?;
        Ok(VendorHandle { client: self.inner.clone(), vendor })
    }

    /// The endpoint table of a vendor.
    fn endpoints(&self, py: Python<'_>, vendor: &str) -> PyResult<Vec<Endpoint>> {
        Ok(endpoints_of(vendor_of(py, vendor)?))
    }

    /// Download `url` into `dir`: streamed, resumed, size/MD5-checked, renamed atomically.
    /// `checksum=False` skips the MD5 (the size is still checked).
    #[pyo3(signature = (url, dir, *, progress=ProgressArg::Flag(true), file_name=None, expected_size=None, expected_md5=None, overwrite=true, checksum=true))]
    #[allow(clippy::too_many_arguments)]
    fn download(
        &self,
        py: Python<'_>,
        url: String,
        dir: PathBuf,
        progress: ProgressArg<'_>,
        file_name: Option<String>,
        expected_size: Option<u64>,
        expected_md5: Option<String>,
        overwrite: bool,
        checksum: bool,
    ) -> PyResult<Downloaded> {
        let sink = ProgressSink::new(py, progress)?;
        let options = DownloadOptions {
            file_name,
            expected_size,
            expected_md5,
            overwrite,
            checksum,
            progress: sink.as_ref().map(|s| s.callback(py)),
            ..DownloadOptions::default()
        };
        let client = self.inner.clone();
        let result = wait(py, async move { client.download(&url, &dir, options).await });
        if let Some(sink) = &sink {
            sink.finish(py)?;
        }
        let result = result?;
        // An exception raised by the progress callback wins over the cancellation it caused.
        if let Some(err) = sink.as_ref().and_then(ProgressSink::take_error) {
            return Err(err);
        }
        let got = result.map_err(|e| py_err(py, e))?;
        Ok(Downloaded::from(got))
    }

    /// Subscribe to a vendor's events; iterate the result. Vendors without events raise.
    #[pyo3(signature = (vendor, params=None))]
    fn events(&self, py: Python<'_>, vendor: &str, params: Option<&Bound<'_, PyAny>>) -> PyResult<EventStream> {
        let vendor = vendor_of(py, vendor)?;
        let params = params_of(params)?;
        let client = self.inner.clone();
        let stream = wait(py, async move { client.events(vendor, params).await })?.map_err(|e| py_err(py, e))?;
        Ok(EventStream { stream: Arc::new(tokio::sync::Mutex::new(Some(stream))), closed: CancellationToken::new() })
    }

    /// The unified meeting API on one vendor (fails if the profile has no such connection).
    fn meeting(&self, py: Python<'_>, vendor: &str) -> PyResult<crate::meeting::Meeting> {
        crate::meeting::Meeting::new(py, &self.inner, vendor_of(py, vendor)?)
    }

    /// Release every vendor's server-side sessions (later calls open new ones).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let client = self.inner.clone();
        let closed = wait(py, async move { client.close().await })?.map_err(|e| py_err(py, e));
        if let Some(run) = self.inner.journal() {
            // The run is over; each call's own outcome is in the journal already.
            run.finish(None);
        }
        closed
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: Option<&Bound<'_, PyAny>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        let vendors: Vec<String> = self.vendors().into_iter().map(quote).collect();
        format!("<meetkit.Client profile={} vendors=[{}]>", quote(self.inner.profile_name()), vendors.join(", "))
    }
}

/// `client.vendor("avd")`: calls without repeating the vendor.
#[pyclass(module = "meetkit", name = "Vendor", frozen)]
pub(crate) struct VendorHandle {
    client: meetkit::Client,
    vendor: Vendor,
}

#[pymethods]
impl VendorHandle {
    /// The vendor id (`avd`, ...).
    #[getter]
    fn name(&self) -> &'static str {
        self.vendor.as_str()
    }

    /// Call one endpoint of this vendor and wait for its result.
    #[pyo3(signature = (endpoint_id, params=None))]
    fn call(&self, py: Python<'_>, endpoint_id: String, params: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        call_blocking(py, &self.client, self.vendor, endpoint_id, params_of(params)?)
    }

    /// Call one endpoint of this vendor; returns an awaitable.
    #[pyo3(signature = (endpoint_id, params=None))]
    fn acall<'py>(
        &self,
        py: Python<'py>,
        endpoint_id: String,
        params: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        call_async(py, &self.client, self.vendor, endpoint_id, params_of(params)?)
    }

    /// This vendor's endpoint table.
    fn endpoints(&self) -> Vec<Endpoint> {
        endpoints_of(self.vendor)
    }

    fn __repr__(&self) -> String {
        format!("<meetkit.Vendor {} profile={}>", self.vendor, quote(self.client.profile_name()))
    }
}

/// One row of a vendor's endpoint table.
#[pyclass(module = "meetkit", frozen)]
pub(crate) struct Endpoint {
    spec: &'static EndpointSpec,
}

#[pymethods]
impl Endpoint {
    /// The vendor id.
    #[getter]
    fn vendor(&self) -> &'static str {
        self.spec.vendor.as_str()
    }
    /// The public endpoint id, e.g. `room.mix_record.start`.
    #[getter]
    fn id(&self) -> &'static str {
        self.spec.id
    }
    /// `GET`, `POST` or `DELETE`.
    #[getter]
    fn method(&self) -> &'static str {
        self.spec.method.as_str()
    }
    /// The path under the vendor's base URL.
    #[getter]
    fn path(&self) -> &'static str {
        self.spec.path
    }
    /// One line from the vendor doc.
    #[getter]
    fn summary(&self) -> &'static str {
        self.spec.summary
    }
    /// `room.create(user_id: string, room_id: string, topic?: string, ...)`.
    #[getter]
    fn signature(&self) -> String {
        self.spec.signature()
    }
    /// Safe to resend after a timeout or 5xx.
    #[getter]
    fn idempotent(&self) -> bool {
        self.spec.idempotent
    }
    /// The parameters: dicts with `name`, `type`, `required`, `doc`.
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for p in self.spec.params {
            let d = PyDict::new(py);
            d.set_item("name", p.name)?;
            d.set_item("type", p.ty.as_str())?;
            d.set_item("required", p.required)?;
            d.set_item("doc", p.doc)?;
            list.append(d)?;
        }
        Ok(list)
    }
    /// The fields of a successful response body as the vendor sends it, envelope included:
    /// dicts with `path` (`data[].download_url`; `""` for a body that is not JSON), `type`, `doc`.
    #[getter]
    fn response<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for f in self.spec.response {
            let d = PyDict::new(py);
            d.set_item("path", f.path)?;
            d.set_item("type", f.ty.as_str())?;
            d.set_item("doc", f.doc)?;
            list.append(d)?;
        }
        Ok(list)
    }
    fn __repr__(&self) -> String {
        format!("<meetkit.Endpoint {} {}: {}>", self.spec.vendor, self.spec.signature(), self.spec.summary)
    }
}

/// A completed, verified download.
#[pyclass(module = "meetkit", frozen, get_all)]
pub(crate) struct Downloaded {
    /// Where the file is.
    path: PathBuf,
    /// Its size in bytes.
    bytes: u64,
    /// Its MD5, lowercase hex.
    md5: String,
    /// How many times the transfer was resumed.
    resumed: u32,
}

impl From<meetkit::download::Downloaded> for Downloaded {
    fn from(got: meetkit::download::Downloaded) -> Downloaded {
        Downloaded { path: got.path, bytes: got.bytes, md5: got.md5, resumed: got.resumed }
    }
}

#[pymethods]
impl Downloaded {
    fn __repr__(&self) -> String {
        format!("<meetkit.Downloaded {} bytes={} md5={}>", self.path.display(), self.bytes, self.md5)
    }
}

/// A download progress snapshot, passed to `progress` callables.
#[pyclass(module = "meetkit", frozen, get_all)]
pub(crate) struct Progress {
    /// The final file name.
    file_name: String,
    /// Bytes written so far.
    downloaded: u64,
    /// The full size, once known.
    total: Option<u64>,
    /// Resumes/restarts so far.
    resumed: u32,
}

#[pymethods]
impl Progress {
    fn __repr__(&self) -> String {
        let total = self.total.map_or("?".to_string(), |t| t.to_string());
        format!("<meetkit.Progress {} {}/{}>", self.file_name, self.downloaded, total)
    }
}

/// The `progress` argument of `download`: a flag or a callable.
#[derive(FromPyObject)]
pub(crate) enum ProgressArg<'py> {
    Flag(bool),
    Callable(Bound<'py, PyAny>),
}

/// A Python progress callable seen from the download task; remembers an exception it raised.
pub(crate) struct ProgressSink {
    callable: Py<PyAny>,
    /// The default (tqdm) sink: has a `close()` to call when the download ends.
    closes: bool,
    error: Arc<Mutex<Option<PyErr>>>,
}

impl ProgressSink {
    /// `False`/`None`: no progress; `True`: `meetkit._progress.default_progress()` (tqdm when
    /// installed and interactive, else nothing); a callable: called with a `Progress`.
    pub(crate) fn new(py: Python<'_>, progress: ProgressArg<'_>) -> PyResult<Option<ProgressSink>> {
        let error = Arc::new(Mutex::new(None));
        match progress {
            ProgressArg::Flag(false) => Ok(None),
            ProgressArg::Flag(true) => {
                let made = py.import("meetkit._progress")?.call_method0("default_progress")?;
                Ok((!made.is_none()).then(|| ProgressSink { callable: made.unbind(), closes: true, error }))
            }
            ProgressArg::Callable(c) if c.is_none() => Ok(None),
            ProgressArg::Callable(c) if c.is_callable() => {
                Ok(Some(ProgressSink { callable: c.unbind(), closes: false, error }))
            }
            ProgressArg::Callable(_) => {
                Err(pyo3::exceptions::PyTypeError::new_err("progress must be True, False, None or a callable"))
            }
        }
    }

    pub(crate) fn callback(&self, py: Python<'_>) -> meetkit::download::ProgressCallback {
        let callable = self.callable.clone_ref(py);
        let error = self.error.clone();
        Arc::new(move |p: meetkit::download::Progress| {
            Python::attach(|py| {
                let snapshot =
                    Progress { file_name: p.file_name, downloaded: p.downloaded, total: p.total, resumed: p.resumed };
                match callable.call1(py, (snapshot,)) {
                    // Only an explicit False cancels.
                    Ok(answer) => !answer.bind(py).cast::<pyo3::types::PyBool>().is_ok_and(|b| !b.is_true()),
                    Err(e) => {
                        *error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                        false
                    }
                }
            })
        })
    }

    pub(crate) fn finish(&self, py: Python<'_>) -> PyResult<()> {
        if self.closes {
            self.callable.call_method0(py, "close")?;
        }
        Ok(())
    }

    pub(crate) fn take_error(&self) -> Option<PyErr> {
        self.error.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// One vendor event.
#[pyclass(module = "meetkit", frozen)]
pub(crate) struct Event {
    event: meetkit::events::Event,
}

#[pymethods]
impl Event {
    /// The vendor id.
    #[getter]
    fn vendor(&self) -> &'static str {
        self.event.vendor.as_str()
    }
    /// The vendor's event type (`participant_create`, `MEETING_ROOM_START`, ...): the `type`
    /// of every other surface (scripts, `meetkit webhook`, C, ``to_dict()``).
    #[getter(r#type)]
    fn event_type(&self) -> &str {
        &self.event.kind
    }
    /// The same as ``type`` (the name before meetkit used one name on every surface).
    #[getter]
    fn kind(&self) -> &str {
        &self.event.kind
    }
    /// The event as every surface shows it: ``{"vendor", "type", "data", "received_at_ms"}``.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &serde_json::to_value(&self.event).unwrap_or_default())
    }
    /// The payload as plain Python data.
    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.event.data)
    }
    /// When meetkit received it (seconds since the epoch).
    #[getter]
    fn received_at(&self) -> f64 {
        self.event.received_at.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
    }
    fn __repr__(&self) -> String {
        format!("<meetkit.Event {} {}>", self.event.vendor, self.event.kind)
    }
}

type SharedStream = Arc<tokio::sync::Mutex<Option<meetkit::events::EventStream>>>;

/// An iterator over a vendor's events; ends when the source closes.
#[pyclass(module = "meetkit", frozen)]
pub(crate) struct EventStream {
    stream: SharedStream,
    /// Cancelled by `close()`: ends a `__next__` waiting in another thread.
    closed: CancellationToken,
}

#[pymethods]
impl EventStream {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Event>> {
        let (stream, closed) = (self.stream.clone(), self.closed.clone());
        let next = wait(py, async move {
            let next = async {
                let mut guard = stream.lock().await;
                match guard.as_mut() {
                    Some(s) => s.next().await,
                    None => None,
                }
            };
            tokio::select! {
                _ = closed.cancelled() => None,
                next = next => next,
            }
        })?;
        match next {
            Some(Ok(event)) => Ok(Some(Event { event })),
            Some(Err(e)) => Err(py_err(py, e)),
            None => Ok(None),
        }
    }

    /// Stop listening; an iteration waiting in another thread ends (`StopIteration`).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.closed.cancel();
        let stream = self.stream.clone();
        wait(py, async move {
            stream.lock().await.take();
        })
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: Option<&Bound<'_, PyAny>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }
}
