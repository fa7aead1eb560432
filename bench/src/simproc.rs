//! The simulator under benchmark: served by a child process (`meetkit-bench sim`), optionally
//! pinned to its own core with `taskset`, so its CPU time is measured apart from the clients'.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use meetkit_sim::{SimOptions, Simulator, VmrRoomSeed};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The simulator options of every benchmark: no latency, no faults (the defaults), plus
/// enough capacity for the concurrent workflows of figure 5 (vmr logs in per room, so each
/// concurrent vmr workflow needs a room of its own: `vmr_rooms` extra rooms) and recordings
/// that publish quickly.
pub fn options(vmr_rooms: usize) -> SimOptions {
    let mut opts = SimOptions::default();
    // Recordings appear 1 s (virtual) after a NetEase meeting ends instead of 60 s.
    opts.netease.record_delay = Duration::from_secs(1);
    // Licences: the default 10 per size would refuse the thousands of concurrent Kedacom meetings.
    opts.kedacom.resources_per_size = 100_000;
    let template = opts.vmr.rooms[0].clone();
    opts.vmr.rooms.extend((0..vmr_rooms).map(|i| VmrRoomSeed {
        alias: format!("bench{i}@sim.vmr"),
        id: format!("{}", 50_000 + i),
        name: format!("bench room {i}"),
        host_pin: format!("{:06}", 100_000 + i),
        ..template.clone()
    }));
    opts
}

/// `meetkit-bench sim`: serve [`options`] (over TLS with `tls`, its CA in the profile's
/// `transport.ca_cert`) and print one JSON line
/// `{"profile": {...}, "vmr_rooms": [{"account", "password"}], "admin_urls": [...]}`; stop when
/// stdin closes.
pub async fn serve(port_base: Option<u16>, tls: bool, vmr_rooms: usize) {
    let mut opts = options(vmr_rooms);
    opts.port_base = port_base;
    opts.tls = tls;
    let sim = Simulator::start(opts.clone()).await.expect("start the simulators");
    let rooms: Vec<Value> =
        opts.vmr.rooms.iter().skip(3).map(|r| json!({"account": r.alias, "password": r.host_pin})).collect();
    let admin = [
        sim.avd_base_url(),
        sim.kedacom_base_url(),
        sim.vmr_base_url(),
        sim.vmr_mcu_base_url(),
        sim.netease_base_url(),
    ];
    println!("{}", json!({"profile": sim.profile(), "vmr_rooms": rooms, "admin_urls": admin}));
    // The parent holds our stdin; when it exits (or is killed) the pipe closes and we stop.
    let mut line = String::new();
    let mut stdin = BufReader::new(tokio::io::stdin());
    while stdin.read_line(&mut line).await.map(|n| n > 0).unwrap_or(false) {
        line.clear();
    }
    sim.shutdown().await;
}

/// A running simulator child.
pub struct SimProcess {
    child: Child,
    /// The profile (the line `meetkit sim` prints), with the vendors' base URLs.
    pub profile: Value,
    /// Accounts of the extra vmr rooms.
    pub vmr_rooms: Vec<Value>,
    /// Where [`SimProcess::profile`] is saved, for child processes.
    pub profile_path: PathBuf,
    /// Base URL of every server, vmr's mcuHost included (for `/_sim/` admin calls).
    admin_urls: Vec<String>,
}

impl SimProcess {
    /// Start `meetkit-bench sim <extra>` (e.g. `--tls`, `--vmr-rooms N`), on core `cpu` when
    /// given, saving its profile as `work/<profile_file>`.
    pub async fn start_with(cpu: Option<usize>, work: &Path, profile_file: &str, extra: &[String]) -> SimProcess {
        let exe = std::env::current_exe().expect("own path");
        let mut cmd = match cpu {
            Some(cpu) => {
                let mut c = Command::new("taskset");
                c.arg("-c").arg(cpu.to_string()).arg(exe);
                c
            }
            None => Command::new(exe),
        };
        let mut child = cmd
            .arg("sim")
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn the simulator process");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = lines.next_line().await.expect("read the simulator's profile").expect("simulator exited");
        let v: Value = serde_json::from_str(&first).expect("simulator profile JSON");
        let profile_path = work.join(profile_file);
        std::fs::write(&profile_path, v["profile"].to_string()).expect("write profile.json");
        SimProcess {
            child,
            profile: v["profile"].clone(),
            vmr_rooms: v["vmr_rooms"].as_array().cloned().unwrap_or_default(),
            profile_path,
            admin_urls: v["admin_urls"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|u| u.as_str().map(str::to_string))
                .collect(),
        }
    }

    /// CPU time (user + system) the simulator process has used so far.
    pub fn cpu_time(&self) -> Duration {
        self.child.id().map(cpu_time_of).unwrap_or_default()
    }

    /// Total requests the servers have answered (from `/_sim/stats`).
    pub async fn requests_served(&self, http: &reqwest::Client) -> u64 {
        let mut total = 0;
        for url in &self.admin_urls {
            let v: Value = http.get(format!("{url}/_sim/stats")).send().await.unwrap().json().await.unwrap();
            total += v["requests"].as_object().map_or(0, |m| m.values().filter_map(Value::as_u64).sum::<u64>());
        }
        total
    }

    /// Advance the simulators' shared virtual clock.
    pub async fn advance_clock(&self, http: &reqwest::Client, seconds: f64) {
        let url = self.profile["avd"]["base_url"].as_str().unwrap();
        let r = http.post(format!("{url}/_sim/clock/advance")).json(&json!({"seconds": seconds})).send().await.unwrap();
        assert!(r.status().is_success(), "clock advance: {}", r.status());
    }
}

/// CPU time (user + system) of process `pid`, from `/proc/<pid>/stat`.
pub fn cpu_time_of(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may contain spaces) start at state (field 3).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 =
        f.get(11).and_then(|u| u.parse().ok()).unwrap_or(0) + f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0);
    Duration::from_secs_f64(ticks as f64 / CLOCK_TICKS_PER_SECOND)
}

/// sysconf(_SC_CLK_TCK): 100 on every Linux this runs on.
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

/// Peak resident set size of this process (VmHWM), in bytes.
pub fn peak_rss() -> u64 {
    status_kb("VmHWM:") * 1024
}

/// Current resident set size of this process (VmRSS), in bytes.
pub fn rss() -> u64 {
    status_kb("VmRSS:") * 1024
}

/// A `kB` field of `/proc/self/status` (0 when absent).
fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
}
