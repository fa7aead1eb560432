//! `meetkit.Meeting` (`client.meeting(vendor)`): the core's unified meeting API, verb for verb,
//! and its values `meetkit.Room`, `meetkit.Participant` and `meetkit.Recording`.
//!
//! Every verb is one core call: the capability check (a verb the vendor cannot do raises
//! `meetkit.Unsupported` before any request), the vendor mapping and the option checks all
//! live in `meetkit::meeting`. Blocking verbs wait through [`crate::wait`] (GIL released,
//! Ctrl-C checked); the `a...` variants return awaitables running on the same runtime.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyInt, PyString};
use serde_json::{Map, Value};

use meetkit::download::DownloadOptions;
use meetkit::meeting::{self as core, Verb};
use meetkit::Vendor;

use crate::client::{quote, vendor_of, Downloaded, ProgressArg, ProgressSink};
use crate::convert::{from_py, to_py, Json};
use crate::errors::{py_err, py_err_attached};
use crate::wait;

/// Wait for a core future (GIL released, Ctrl-C checked) and map its error.
fn block<T: Send + 'static>(
    py: Python<'_>,
    fut: impl Future<Output = meetkit::Result<T>> + Send + 'static,
) -> PyResult<T> {
    wait(py, fut)?.map_err(|e| py_err(py, e))
}

/// A core future as an awaitable on meetkit's runtime.
fn awaitable<'py, T>(
    py: Python<'py>,
    fut: impl Future<Output = meetkit::Result<T>> + Send + 'static,
) -> PyResult<Bound<'py, PyAny>>
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    pyo3_async_runtimes::tokio::future_into_py(py, async move { fut.await.map_err(py_err_attached) })
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "object".into())
}

/// A `room` argument: a [`Room`] or a handle string (`"avd:weekly"`).
fn room_of(py: Python<'_>, room: &Bound<'_, PyAny>) -> PyResult<core::Room> {
    if let Ok(r) = room.cast::<Room>() {
        return Ok(r.get().inner.clone());
    }
    if let Ok(handle) = room.cast::<PyString>() {
        return core::Room::from_handle(&handle.to_cow()?).map_err(|e| py_err(py, e));
    }
    Err(PyTypeError::new_err(format!(
        "room must be a meetkit.Room or a handle string such as \"avd:weekly\", got {}",
        type_name(room)
    )))
}

/// A `participant_id` argument: a string or a [`Participant`].
fn participant_of(participant: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(p) = participant.cast::<Participant>() {
        return Ok(p.get().inner.id.clone());
    }
    participant.extract::<String>().map_err(|_| {
        PyTypeError::new_err(format!(
            "participant_id must be a str or a meetkit.Participant, got {}",
            type_name(participant)
        ))
    })
}

/// One option value as JSON; a `datetime` (anything with `timestamp()` that is not a number)
/// becomes its Unix seconds, which is what `start` takes.
fn option_value(key: &str, value: &Bound<'_, PyAny>) -> PyResult<Value> {
    let number = value.is_instance_of::<PyInt>() || value.is_instance_of::<PyFloat>();
    if !number && value.hasattr("timestamp")? {
        return from_py(&value.call_method0("timestamp")?, key);
    }
    from_py(value, key)
}

/// The options of `create_room` / `schedule`: `(name, **options)` or `({...}, **options)`.
fn options_of(first: Option<&Bound<'_, PyAny>>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Map<String, Value>> {
    let mut options = Map::new();
    let mut named = false;
    if let Some(first) = first.filter(|f| !f.is_none()) {
        if let Ok(name) = first.cast::<PyString>() {
            options.insert("name".into(), Value::String(name.to_cow()?.into_owned()));
            named = true;
        } else if let Ok(dict) = first.cast::<PyDict>() {
            add_options(&mut options, dict)?;
        } else {
            return Err(PyTypeError::new_err(format!(
                "the first argument is the room name (str) or a dict of options, got {}",
                type_name(first)
            )));
        }
    }
    if let Some(kwargs) = kwargs {
        if named && kwargs.contains("name")? {
            return Err(PyTypeError::new_err("name given twice (positionally and as name=)"));
        }
        add_options(&mut options, kwargs)?;
    }
    Ok(options)
}

fn add_options(options: &mut Map<String, Value>, dict: &Bound<'_, PyDict>) -> PyResult<()> {
    for (k, v) in dict.iter() {
        let key: String = k
            .extract()
            .map_err(|_| PyTypeError::new_err(format!("option names must be str, got {}", type_name(&k))))?;
        let value = option_value(&key, &v)?;
        options.insert(key, value);
    }
    Ok(())
}

fn verb_of(py: Python<'_>, verb: &str) -> PyResult<Verb> {
    verb.parse::<Verb>().map_err(|e| py_err(py, e))
}

/// `Meeting.download_recordings`'s default `timeout` (300.0) is the core's.
const _: () = assert!(core::RECORDINGS_TIMEOUT.as_secs() == 300);

/// The capability table of `vendor` as `{verb: {"supported", "endpoints", "note", "hint",
/// "options", "ignored"}}` (the one shape of `meetkit::meeting::capabilities_json`).
fn capabilities_dict(py: Python<'_>, vendor: Vendor) -> PyResult<Bound<'_, PyDict>> {
    Ok(to_py(py, &core::capabilities_json(vendor))?.cast_into::<PyDict>()?)
}

/// `meetkit.capabilities(vendor)`: how `vendor` does each verb of the meeting API.
#[pyfunction]
pub(crate) fn capabilities<'py>(py: Python<'py>, vendor: &str) -> PyResult<Bound<'py, PyDict>> {
    capabilities_dict(py, vendor_of(py, vendor)?)
}

/// The unified meeting API on one vendor of a client (`client.meeting("avd")`).
#[pyclass(module = "meetkit", frozen)]
pub(crate) struct Meeting {
    inner: core::Meeting,
    client: meetkit::Client,
}

impl Meeting {
    /// The meeting API of `vendor`; fails if the client has no connection for it.
    pub(crate) fn new(py: Python<'_>, client: &meetkit::Client, vendor: Vendor) -> PyResult<Meeting> {
        let inner = core::Meeting::new(client, vendor).map_err(|e| py_err(py, e))?;
        Ok(Meeting { inner, client: client.clone() })
    }

    fn create_room_fut(&self, options: Map<String, Value>) -> impl Future<Output = meetkit::Result<Room>> {
        let m = self.inner.clone();
        async move { m.create_room(&options).await.map(Room::from) }
    }

    fn schedule_fut(&self, options: Map<String, Value>) -> impl Future<Output = meetkit::Result<Room>> {
        let m = self.inner.clone();
        async move { m.schedule(&options).await.map(Room::from) }
    }

    fn start_fut(&self, room: core::Room) -> impl Future<Output = meetkit::Result<()>> {
        let m = self.inner.clone();
        async move { m.start(&room).await }
    }

    fn invite_fut(
        &self,
        room: core::Room,
        address: String,
        timeout: Option<f64>,
    ) -> PyResult<impl Future<Output = meetkit::Result<Participant>>> {
        let timeout = match timeout {
            None => meetkit::meeting::INVITE_TIMEOUT,
            Some(t) => Duration::try_from_secs_f64(t)
                .map_err(|_| PyValueError::new_err(format!("timeout must be a number of seconds >= 0, got {t}")))?,
        };
        let m = self.inner.clone();
        Ok(async move { m.invite(&room, &address, timeout).await.map(Participant::from) })
    }

    fn participants_fut(&self, room: core::Room) -> impl Future<Output = meetkit::Result<Vec<Participant>>> {
        let m = self.inner.clone();
        async move { m.participants(&room).await.map(|ps| ps.into_iter().map(Participant::from).collect()) }
    }

    fn set_muted_fut(&self, room: core::Room, id: String, mute: bool) -> impl Future<Output = meetkit::Result<()>> {
        let m = self.inner.clone();
        async move { m.set_muted(&room, &id, mute).await }
    }

    fn start_recording_fut(&self, room: core::Room) -> impl Future<Output = meetkit::Result<Json>> {
        let m = self.inner.clone();
        async move { m.start_recording(&room).await.map(Json) }
    }

    fn stop_recording_fut(&self, room: core::Room) -> impl Future<Output = meetkit::Result<Vec<Recording>>> {
        let m = self.inner.clone();
        async move { m.stop_recording(&room).await.map(recordings) }
    }

    fn recordings_fut(&self, room: core::Room) -> impl Future<Output = meetkit::Result<Vec<Recording>>> {
        let m = self.inner.clone();
        async move { m.recordings(&room).await.map(recordings) }
    }

    fn start_live_fut(&self, room: core::Room, push_url: String) -> impl Future<Output = meetkit::Result<Json>> {
        let m = self.inner.clone();
        async move { m.start_live(&room, &push_url).await.map(Json) }
    }

    fn stop_live_fut(&self, room: core::Room) -> impl Future<Output = meetkit::Result<()>> {
        let m = self.inner.clone();
        async move { m.stop_live(&room).await }
    }

    fn end_fut(&self, room: core::Room) -> impl Future<Output = meetkit::Result<()>> {
        let m = self.inner.clone();
        async move { m.end(&room).await }
    }
}

fn recordings(files: Vec<core::Recording>) -> Vec<Recording> {
    files.into_iter().map(Recording::from).collect()
}

#[pymethods]
impl Meeting {
    /// The vendor id (`avd`, ...).
    #[getter]
    fn vendor(&self) -> &'static str {
        self.inner.vendor().as_str()
    }

    /// True when this vendor can do `verb` (`"invite"`, `"start_recording"`, ...).
    fn can(&self, py: Python<'_>, verb: &str) -> PyResult<bool> {
        Ok(self.inner.can(verb_of(py, verb)?))
    }

    /// How this vendor does each verb: `{verb: {"supported", "endpoints", "note", "hint",
    /// "options", "ignored"}}`.
    fn capabilities<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        capabilities_dict(py, self.inner.vendor())
    }

    /// Create a room usable now: `create_room("Weekly", minutes=30)` or `create_room({...})`.
    #[pyo3(signature = (name=None, /, **options))]
    fn create_room(
        &self,
        py: Python<'_>,
        name: Option<&Bound<'_, PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Room> {
        block(py, self.create_room_fut(options_of(name, options)?))
    }

    /// `create_room` as an awaitable.
    #[pyo3(signature = (name=None, /, **options))]
    fn acreate_room<'py>(
        &self,
        py: Python<'py>,
        name: Option<&Bound<'py, PyAny>>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.create_room_fut(options_of(name, options)?))
    }

    /// Book a meeting for later: `schedule("Review", start=<Unix seconds or datetime>, minutes=30)`.
    #[pyo3(signature = (name=None, /, **options))]
    fn schedule(
        &self,
        py: Python<'_>,
        name: Option<&Bound<'_, PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Room> {
        block(py, self.schedule_fut(options_of(name, options)?))
    }

    /// `schedule` as an awaitable.
    #[pyo3(signature = (name=None, /, **options))]
    fn aschedule<'py>(
        &self,
        py: Python<'py>,
        name: Option<&Bound<'py, PyAny>>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.schedule_fut(options_of(name, options)?))
    }

    /// Start a created or booked meeting.
    fn start(&self, py: Python<'_>, room: &Bound<'_, PyAny>) -> PyResult<()> {
        block(py, self.start_fut(room_of(py, room)?))
    }

    /// `start` as an awaitable.
    fn astart<'py>(&self, py: Python<'py>, room: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.start_fut(room_of(py, room)?))
    }

    /// Call a device (`sip:1001@10.0.0.5`) in and wait until it is connected (at most `timeout`
    /// s; default 60, as in scripts and C).
    #[pyo3(signature = (room, address, timeout=None))]
    fn invite(
        &self,
        py: Python<'_>,
        room: &Bound<'_, PyAny>,
        address: String,
        timeout: Option<f64>,
    ) -> PyResult<Participant> {
        block(py, self.invite_fut(room_of(py, room)?, address, timeout)?)
    }

    /// `invite` as an awaitable.
    #[pyo3(signature = (room, address, timeout=None))]
    fn ainvite<'py>(
        &self,
        py: Python<'py>,
        room: &Bound<'py, PyAny>,
        address: String,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.invite_fut(room_of(py, room)?, address, timeout)?)
    }

    /// Who is in the meeting.
    fn participants(&self, py: Python<'_>, room: &Bound<'_, PyAny>) -> PyResult<Vec<Participant>> {
        block(py, self.participants_fut(room_of(py, room)?))
    }

    /// `participants` as an awaitable.
    fn aparticipants<'py>(&self, py: Python<'py>, room: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.participants_fut(room_of(py, room)?))
    }

    /// Mute one participant's audio (`participant_id`: an id or a `Participant`).
    fn mute(&self, py: Python<'_>, room: &Bound<'_, PyAny>, participant_id: &Bound<'_, PyAny>) -> PyResult<()> {
        block(py, self.set_muted_fut(room_of(py, room)?, participant_of(participant_id)?, true))
    }

    /// `mute` as an awaitable.
    fn amute<'py>(
        &self,
        py: Python<'py>,
        room: &Bound<'py, PyAny>,
        participant_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.set_muted_fut(room_of(py, room)?, participant_of(participant_id)?, true))
    }

    /// Unmute one participant's audio.
    fn unmute(&self, py: Python<'_>, room: &Bound<'_, PyAny>, participant_id: &Bound<'_, PyAny>) -> PyResult<()> {
        block(py, self.set_muted_fut(room_of(py, room)?, participant_of(participant_id)?, false))
    }

    /// `unmute` as an awaitable.
    fn aunmute<'py>(
        &self,
        py: Python<'py>,
        room: &Bound<'py, PyAny>,
        participant_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.set_muted_fut(room_of(py, room)?, participant_of(participant_id)?, false))
    }

    /// Start recording; the vendor's answer (its recording id, where it has one).
    fn start_recording(&self, py: Python<'_>, room: &Bound<'_, PyAny>) -> PyResult<Json> {
        block(py, self.start_recording_fut(room_of(py, room)?))
    }

    /// `start_recording` as an awaitable.
    fn astart_recording<'py>(&self, py: Python<'py>, room: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.start_recording_fut(room_of(py, room)?))
    }

    /// Stop recording; the files where the vendor says at once (AVD), else `[]`.
    fn stop_recording(&self, py: Python<'_>, room: &Bound<'_, PyAny>) -> PyResult<Vec<Recording>> {
        block(py, self.stop_recording_fut(room_of(py, room)?))
    }

    /// `stop_recording` as an awaitable.
    fn astop_recording<'py>(&self, py: Python<'py>, room: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.stop_recording_fut(room_of(py, room)?))
    }

    /// The meeting's recordings (empty while the vendor has not published them).
    fn recordings(&self, py: Python<'_>, room: &Bound<'_, PyAny>) -> PyResult<Vec<Recording>> {
        block(py, self.recordings_fut(room_of(py, room)?))
    }

    /// `recordings` as an awaitable.
    fn arecordings<'py>(&self, py: Python<'py>, room: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.recordings_fut(room_of(py, room)?))
    }

    /// Download every recording into `dir` (size/MD5-checked where the vendor gives them). On
    /// NetEase, which publishes recordings only after the meeting ends, it first waits for them
    /// at most `timeout` seconds (default 300) and raises `meetkit.TimeoutError` if none come.
    // The default `timeout` is the core's RECORDINGS_TIMEOUT, written out so that Python's
    // signature shows it (checked below).
    #[pyo3(signature = (room, dir, *, progress=ProgressArg::Flag(true), overwrite=true, timeout=300.0))]
    fn download_recordings(
        &self,
        py: Python<'_>,
        room: &Bound<'_, PyAny>,
        dir: PathBuf,
        progress: ProgressArg<'_>,
        overwrite: bool,
        timeout: f64,
    ) -> PyResult<Vec<Downloaded>> {
        let room = room_of(py, room)?;
        let timeout = Duration::try_from_secs_f64(timeout)
            .map_err(|_| PyValueError::new_err(format!("timeout must be a number of seconds > 0, got {timeout}")))?;
        let sink = ProgressSink::new(py, progress)?;
        let options = DownloadOptions {
            overwrite,
            progress: sink.as_ref().map(|s| s.callback(py)),
            ..DownloadOptions::default()
        };
        let m = self.inner.clone();
        let result = wait(py, async move { m.download_recordings_within(&room, &dir, options, timeout).await });
        if let Some(sink) = &sink {
            sink.finish(py)?;
        }
        let result = result?;
        // An exception raised by the progress callback wins over the cancellation it caused.
        if let Some(err) = sink.as_ref().and_then(ProgressSink::take_error) {
            return Err(err);
        }
        let done = result.map_err(|e| py_err(py, e))?;
        Ok(done.into_iter().map(Downloaded::from).collect())
    }

    /// Start a live stream to `push_url` (`rtmp://...`); the vendor's answer.
    fn start_live(&self, py: Python<'_>, room: &Bound<'_, PyAny>, push_url: String) -> PyResult<Json> {
        block(py, self.start_live_fut(room_of(py, room)?, push_url))
    }

    /// `start_live` as an awaitable.
    fn astart_live<'py>(
        &self,
        py: Python<'py>,
        room: &Bound<'py, PyAny>,
        push_url: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.start_live_fut(room_of(py, room)?, push_url))
    }

    /// Stop the live stream.
    fn stop_live(&self, py: Python<'_>, room: &Bound<'_, PyAny>) -> PyResult<()> {
        block(py, self.stop_live_fut(room_of(py, room)?))
    }

    /// `stop_live` as an awaitable.
    fn astop_live<'py>(&self, py: Python<'py>, room: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.stop_live_fut(room_of(py, room)?))
    }

    /// End the meeting (everyone is disconnected).
    fn end(&self, py: Python<'_>, room: &Bound<'_, PyAny>) -> PyResult<()> {
        block(py, self.end_fut(room_of(py, room)?))
    }

    /// `end` as an awaitable.
    fn aend<'py>(&self, py: Python<'py>, room: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, self.end_fut(room_of(py, room)?))
    }

    fn __repr__(&self) -> String {
        format!("<meetkit.Meeting {} profile={}>", self.inner.vendor(), quote(self.client.profile_name()))
    }
}

/// A meeting room by handle (`avd:weekly`, `kedacom:<conf_id>:<meeting_id>`, ...). Every verb
/// also takes the handle string, so a handle printed by one run works in the next.
#[pyclass(module = "meetkit", frozen)]
pub(crate) struct Room {
    inner: core::Room,
}

impl From<core::Room> for Room {
    fn from(inner: core::Room) -> Room {
        Room { inner }
    }
}

#[pymethods]
impl Room {
    /// Parse a handle printed by an earlier run.
    #[staticmethod]
    fn from_handle(py: Python<'_>, handle: &str) -> PyResult<Room> {
        core::Room::from_handle(handle).map(Room::from).map_err(|e| py_err(py, e))
    }
    /// `<vendor>:<id>[:<secondary_id>]`, parts percent-encoded.
    #[getter]
    fn handle(&self) -> &str {
        &self.inner.handle
    }
    /// The vendor id.
    #[getter]
    fn vendor(&self) -> &'static str {
        self.inner.vendor.as_str()
    }
    /// The vendor's id of the room or meeting.
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }
    /// The second id Kedacom, vmr and NetEase handles carry.
    #[getter]
    fn secondary_id(&self) -> Option<&str> {
        self.inner.secondary_id.as_deref()
    }
    /// The name given at creation, when known.
    #[getter]
    fn name(&self) -> Option<&str> {
        self.inner.name.as_deref()
    }
    /// The vendor's raw answer that produced the room (`None` for a parsed handle).
    #[getter]
    fn raw<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.raw)
    }
    fn __str__(&self) -> &str {
        &self.inner.handle
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Room>().is_ok_and(|o| o.get().inner.handle == self.inner.handle)
    }
    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.inner.handle.hash(&mut h);
        h.finish()
    }
    fn __repr__(&self) -> String {
        match &self.inner.name {
            Some(name) => format!("<meetkit.Room {} name={}>", self.inner.handle, quote(name)),
            None => format!("<meetkit.Room {}>", self.inner.handle),
        }
    }
}

/// Someone (or some device) in a meeting.
#[pyclass(module = "meetkit", frozen)]
pub(crate) struct Participant {
    inner: core::Participant,
}

impl From<core::Participant> for Participant {
    fn from(inner: core::Participant) -> Participant {
        Participant { inner }
    }
}

#[pymethods]
impl Participant {
    /// The vendor's participant id (what `mute`/`unmute` take).
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }
    /// Display name.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    /// Audio muted, when the vendor says.
    #[getter]
    fn muted(&self) -> Option<bool> {
        self.inner.muted
    }
    /// The vendor's raw JSON.
    #[getter]
    fn raw<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.raw)
    }
    fn __repr__(&self) -> String {
        let muted = self.inner.muted.map_or("?", |m| if m { "yes" } else { "no" });
        format!("<meetkit.Participant {} name={} muted={muted}>", quote(&self.inner.id), quote(&self.inner.name))
    }
}

/// One recording file.
#[pyclass(module = "meetkit", frozen)]
pub(crate) struct Recording {
    inner: core::Recording,
}

impl From<core::Recording> for Recording {
    fn from(inner: core::Recording) -> Recording {
        Recording { inner }
    }
}

#[pymethods]
impl Recording {
    /// Where to download it.
    #[getter]
    fn url(&self) -> &str {
        &self.inner.url
    }
    /// File name.
    #[getter]
    fn file_name(&self) -> &str {
        &self.inner.file_name
    }
    /// Exact size in bytes, when the vendor gives it.
    #[getter]
    fn size(&self) -> Option<u64> {
        self.inner.size
    }
    /// MD5 (hex), when the vendor gives it.
    #[getter]
    fn md5(&self) -> Option<&str> {
        self.inner.md5.as_deref()
    }
    /// The vendor's raw JSON.
    #[getter]
    fn raw<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.raw)
    }
    fn __repr__(&self) -> String {
        let size = self.inner.size.map_or("?".to_string(), |s| s.to_string());
        format!("<meetkit.Recording {} size={size}>", quote(&self.inner.file_name))
    }
}
