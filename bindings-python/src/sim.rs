//! `meetkit.Simulator`: every vendor simulator, in-process, on meetkit's runtime.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use pyo3::exceptions::{PyOSError, PyRuntimeError};
use pyo3::prelude::*;
use serde_json::Value;

use meetkit::config::Profile;

use crate::client::Client;
use crate::convert::to_py;
use crate::wait;

/// Where the simulator POSTs NetEase callbacks on the client's receiver (as `meetkit --sim`).
const CALLBACK_PATH: &str = "/netease/callback";

/// `127.0.0.1:<a port the OS says is free>` for the NetEase callback receiver (it could be
/// taken again before the receiver binds it; `events("netease")` then reports the address in use).
fn free_loopback_port() -> PyResult<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| PyOSError::new_err(format!("cannot find a free port for the netease callback receiver: {e}")))?;
    let addr = listener.local_addr().map_err(|e| PyOSError::new_err(format!("netease callback receiver: {e}")))?;
    Ok(addr.to_string())
}

/// Simulated servers of all four vendors on 127.0.0.1 (ephemeral ports), for notebooks and
/// tests with no vendor account. Stops on `close()`, at the end of a `with` block, or when
/// garbage-collected.
#[pyclass(module = "meetkit", frozen)]
pub(crate) struct Simulator {
    running: Mutex<Option<meetkit_sim::Simulator>>,
    profile: Value,
    urls: Vec<(&'static str, String)>,
}

impl Simulator {
    fn url(&self, name: &str) -> String {
        self.urls.iter().find(|(n, _)| *n == name).map(|(_, u)| u.clone()).unwrap_or_default()
    }
}

#[pymethods]
impl Simulator {
    /// Start the simulators, wired as `meetkit --sim` wires them: NetEase callbacks go to a
    /// free loopback port that the profile's `netease.callback_listen` names (so
    /// `client.events("netease")` receives them), and NetEase recordings appear 3 s after a
    /// meeting ends.
    #[new]
    fn new(py: Python<'_>) -> PyResult<Simulator> {
        let listen = free_loopback_port()?;
        let mut options = meetkit_sim::SimOptions::default();
        options.netease.callback_url = Some(format!("http://{listen}{CALLBACK_PATH}"));
        options.netease.record_delay = Duration::from_secs(3);
        let sim = wait(py, meetkit_sim::Simulator::start(options))?
            .map_err(|e| PyOSError::new_err(format!("cannot start the simulator: {e}")))?;
        let mut profile = sim.profile();
        if let Some(netease) = profile.get_mut("netease").and_then(Value::as_object_mut) {
            netease.insert("callback_listen".into(), Value::String(listen));
            netease.insert("callback_path".into(), Value::String(CALLBACK_PATH.into()));
        }
        let urls = vec![
            ("avd", sim.avd_base_url()),
            ("kedacom", sim.kedacom_base_url()),
            ("vmr", sim.vmr_base_url()),
            ("vmr_mcu", sim.vmr_mcu_base_url()),
            ("netease", sim.netease_base_url()),
        ];
        Ok(Simulator { profile, running: Mutex::new(Some(sim)), urls })
    }

    /// The connection profile (a `meetkit.ProfileDict`, whose repr hides secrets):
    /// `Client(profile_dict=sim.profile)` talks to this simulator.
    #[getter]
    fn profile<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let dict = to_py(py, &self.profile)?;
        py.import("meetkit._profile")?.getattr("ProfileDict")?.call1((dict,))
    }

    /// A client of this simulator (profile name `sim`); `capture`: a HAR file to record into;
    /// `allow_secrets`: results keep their secret fields (else `***`).
    #[pyo3(signature = (*, capture=None, allow_secrets=false))]
    fn client(&self, py: Python<'_>, capture: Option<PathBuf>, allow_secrets: bool) -> PyResult<Client> {
        let profile = Profile::from_json("sim", &self.profile).map_err(|e| crate::errors::py_err(py, e))?;
        let mut client = Client::from_profile(py, &profile, capture)?;
        client.inner = client.inner.with_secrets(allow_secrets);
        Ok(client)
    }

    /// Root URL of the AVD server (admin API under `/_sim/`).
    #[getter]
    fn avd_base_url(&self) -> String {
        self.url("avd")
    }
    /// Root URL of the Kedacom server.
    #[getter]
    fn kedacom_base_url(&self) -> String {
        self.url("kedacom")
    }
    /// Root URL of the vmr apiServer.
    #[getter]
    fn vmr_base_url(&self) -> String {
        self.url("vmr")
    }
    /// Root URL of the vmr mcuHost.
    #[getter]
    fn vmr_mcu_base_url(&self) -> String {
        self.url("vmr_mcu")
    }
    /// Root URL of the NetEase server.
    #[getter]
    fn netease_base_url(&self) -> String {
        self.url("netease")
    }

    /// Whether the servers are still running.
    #[getter]
    fn running(&self) -> bool {
        self.running.lock().is_ok_and(|r| r.is_some())
    }

    /// Stop the servers and wait until they are down. Safe to call twice.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let sim = self.running.lock().map_err(|_| PyRuntimeError::new_err("simulator state poisoned"))?.take();
        if let Some(sim) = sim {
            wait(py, sim.shutdown())?;
        }
        Ok(())
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
        let state = if self.running() { "running" } else { "closed" };
        let urls: Vec<String> = self.urls.iter().map(|(n, u)| format!("{n}={u}")).collect();
        format!("<meetkit.Simulator {state} {}>", urls.join(" "))
    }
}
