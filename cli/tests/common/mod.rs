//! A simulator in the test process (its state outlives each `meetkit` process) and helpers
//! to run the `meetkit` binary against it.

#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use meetkit_sim::{SimOptions, Simulator};
use serde_json::Value;

pub struct Sim {
    pub runtime: tokio::runtime::Runtime,
    sim: Option<Simulator>,
    pub dir: tempfile::TempDir,
    pub profile: PathBuf,
}

impl Sim {
    pub fn start() -> Sim {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (sim, profile_json) =
            runtime.block_on(Simulator::start_wired(SimOptions::wired(), None)).expect("simulator starts");
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("profile.json");
        std::fs::write(&profile, profile_json.to_string()).unwrap();
        Sim { runtime, sim: Some(sim), dir, profile }
    }

    /// The run journal every command of this test writes to.
    pub fn journal(&self) -> PathBuf {
        self.dir.path().join("runs.db")
    }

    pub fn sim(&self) -> &Simulator {
        self.sim.as_ref().unwrap()
    }

    pub fn vmr_state(&self) -> Value {
        let url = format!("{}/_sim/state", self.sim().vmr_mcu_base_url());
        self.runtime.block_on(async { reqwest::get(url).await.unwrap().json::<Value>().await.unwrap() })
    }

    /// `/_sim/state` of a vendor's server, without the vendor key around it.
    pub fn state_of(&self, vendor: &str) -> Value {
        let sim = self.sim();
        let base = match vendor {
            "avd" => sim.avd_base_url(),
            "kedacom" => sim.kedacom_base_url(),
            "vmr" => sim.vmr_mcu_base_url(),
            _ => sim.netease_base_url(),
        };
        let url = format!("{base}/_sim/state");
        let state: Value = self.runtime.block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() });
        state.get(vendor).cloned().unwrap_or(state)
    }

    /// What a vendor's simulator still has running that a script started: recordings, lives,
    /// device calls, started meetings and conferences, host sessions. Empty: nothing.
    pub fn running(&self, vendor: &str) -> Vec<String> {
        let st = self.state_of(vendor);
        let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
        let mut out = Vec::new();
        match vendor {
            "avd" => {
                for r in list(&st["recordings"]).iter().filter(|r| r["stopped"].is_null()) {
                    out.push(format!("recording {}", r["record_id"]));
                }
                for (room, s) in st["sessions"].as_object().cloned().unwrap_or_default() {
                    for p in list(&s["participants"]).iter().filter(|p| !p["call_id"].is_null()) {
                        out.push(format!("device {} in {room}", p["user_id"]));
                    }
                }
                for p in list(&st["players"]).iter().filter(|p| p["state"] == "playing" || p["state"] == "paused") {
                    out.push(format!("media player {} in {}", p["play_id"], p["room_id"]));
                }
                for r in list(&st["rooms"]).iter().filter(|r| r["open"] == true) {
                    out.push(format!("open room {}", r["room_id"]));
                }
            }
            "kedacom" => {
                for m in list(&st["meetings"]).iter().filter(|m| m["state"] == 2) {
                    out.push(format!("conference {}", m["conf_id"]));
                }
            }
            "netease" => {
                for m in list(&st["meetings"]).iter().filter(|m| m["roomStarted"] == true && m["roomEnded"] != true) {
                    out.push(format!("meeting {}", m["meetingUniqueId"]));
                }
            }
            _ => {
                for s in list(&st["sessions"]) {
                    out.push(format!("session {}", s["participant_uuid"]));
                }
                for c in list(&st["calls"]) {
                    out.push(format!("call {}", c["call_uuid"]));
                }
                for r in list(&st["rooms"]) {
                    for p in list(&r["participants"]).iter().filter(|p| p["call_direction"] == "out") {
                        out.push(format!("dialled {} in {}", p["uri"], r["alias"]));
                    }
                    if !r["recording"].is_null() {
                        out.push(format!("recording in {}", r["alias"]));
                    }
                    if r["live"] == true {
                        out.push(format!("live in {}", r["alias"]));
                    }
                }
            }
        }
        out
    }

    pub fn avd_state(&self) -> Value {
        let url = format!("{}/_sim/state", self.sim().avd_base_url());
        self.runtime.block_on(async { reqwest::get(url).await.unwrap().json::<Value>().await.unwrap() })
    }

    /// `meetkit <args>` with this simulator's profile.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_meetkit"));
        c.args(args)
            .arg("--profile-json")
            .arg(&self.profile)
            .current_dir(self.dir.path())
            .env("MEETKIT_JOURNAL", self.journal())
            .env("MEETKIT_SIM_DIR", std::env::temp_dir().join("meetkit-tests-no-background-sim"))
            .env_remove("MEETKIT_CONFIG")
            .env_remove("MEETKIT_PROFILE");
        c
    }

    /// `meetkit <args>` with only this test's journal (no profile).
    pub fn plain(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_meetkit"))
            .args(args)
            .current_dir(self.dir.path())
            .env("MEETKIT_JOURNAL", self.journal())
            .env("MEETKIT_SIM_DIR", std::env::temp_dir().join("meetkit-tests-no-background-sim"))
            .env_remove("MEETKIT_CONFIG")
            .env_remove("MEETKIT_PROFILE")
            .output()
            .expect("meetkit runs")
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("meetkit runs")
    }

    pub fn script(&self, name: &str, source: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, source).unwrap();
        path.display().to_string()
    }

    /// Sessions the simulator still holds, and participants named like meetkit's hosts.
    pub fn meetkit_left_in_vmr(&self) -> (usize, usize) {
        let state = self.vmr_state();
        let sessions = state["sessions"].as_array().map_or(0, Vec::len);
        let hosts = state["rooms"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r["participants"].as_array().into_iter().flatten())
            .filter(|p| p.to_string().contains("meetkit"))
            .count();
        (sessions, hosts)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.runtime.block_on(sim.shutdown());
        }
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Wait until `cond` holds, polling the simulator; a minute without it fails the test as hung
/// (a bound on a hang, not a claim about speed).
pub fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(60), "hung: still waiting for {what} after a minute");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn signal(child: &Child, name: &str) {
    let status = Command::new("kill").args([&format!("-{name}"), &child.id().to_string()]).status().unwrap();
    assert!(status.success(), "kill -{name}");
}

pub fn finish(mut child: Child) -> (Option<i32>, String, String) {
    let status = child.wait().unwrap();
    let mut out = String::new();
    let mut err = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (status.code(), out, err)
}
