//! `meetkit.Simulator`: every vendor simulator, in-process, on meetkit's runtime.

use std::path::PathBuf;
use std::sync::Mutex;

use pyo3::exceptions::{PyOSError, PyRuntimeError};
use pyo3::prelude::*;
use serde_json::Value;

use meetkit::config::Profile;
use meetkit::Error;

use crate::client::Client;
use crate::convert::{from_py, to_py};
use crate::wait;

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
    /// free loopback port (or `netease={"callback_listen": "host:port"}`) that the profile's
    /// `netease.callback_listen` names, so `client.events("netease")` receives them, and
    /// NetEase recordings appear 3 s after a meeting ends.
    ///
    /// Keywords: `strict` (default True: accept only the reading of each ambiguous vendor doc
    /// line that meetkit sends), `tls` (HTTPS with a CA generated at start; the profile's
    /// `transport.ca_cert` names it), `host` (default "127.0.0.1"), `port_base` (AVD on it,
    /// the other servers on the next five ports; default: free ports), and one dict per
    /// vendor with the keys of C's `meetkit_sim_start` (e.g. `avd={"invite_delay_ms": 300}`,
    /// `netease={"record_delay_secs": 1}`, `vmr={"dial_answer_delay_ms": 100}`,
    /// `kedacom={"api_level": 2}`). A wrong option raises `meetkit.ConfigError` naming it.
    #[new]
    #[pyo3(signature = (*, strict=true, tls=false, host=None, port_base=None, avd=None, netease=None, vmr=None, kedacom=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        strict: bool,
        tls: bool,
        host: Option<String>,
        port_base: Option<u16>,
        avd: Option<&Bound<'_, PyAny>>,
        netease: Option<&Bound<'_, PyAny>>,
        vmr: Option<&Bound<'_, PyAny>>,
        kedacom: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Simulator> {
        let mut options = serde_json::json!({ "strict": strict, "tls": tls, "port_base": port_base });
        if let Some(host) = host {
            options["host"] = Value::String(host);
        }
        for (name, section) in [("avd", avd), ("netease", netease), ("vmr", vmr), ("kedacom", kedacom)] {
            if let Some(section) = section {
                options[name] = from_py(section, name)?;
            }
        }
        let config = |e: String| crate::errors::py_err(py, Error::config(format!("meetkit.Simulator: {e}")));
        let wired = meetkit_sim::WiredOptions::from_json(&options).map_err(config)?;
        let (sim, profile) = wait(py, meetkit_sim::Simulator::start_wired(wired.options, wired.netease_listen))?
            .map_err(|e| PyOSError::new_err(format!("cannot start the simulator: {e}")))?;
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
