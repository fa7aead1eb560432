//! `meetkit sim start|stop|status`: a background simulator that consecutive `--sim` commands
//! share, run as real processes with a state folder of the test's own (`MEETKIT_SIM_DIR`).

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::{eventually, text};
use serde_json::Value;

/// A temporary state folder, journal and working folder; stops what it started when dropped.
struct Bg {
    dir: tempfile::TempDir,
}

impl Bg {
    fn new() -> Bg {
        Bg { dir: tempfile::tempdir().unwrap() }
    }

    fn sim_dir(&self) -> PathBuf {
        self.dir.path().join("sim")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_meetkit"));
        c.args(args)
            .current_dir(self.dir.path())
            .env("MEETKIT_SIM_DIR", self.sim_dir())
            .env("MEETKIT_JOURNAL", self.dir.path().join("runs.db"))
            .env_remove("MEETKIT_CONFIG")
            .env_remove("MEETKIT_PROFILE")
            .env_remove("MEETKIT_LOG");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("meetkit runs")
    }

    fn state(&self) -> Option<Value> {
        let text = std::fs::read_to_string(self.sim_dir().join("state.json")).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn pid(&self) -> u32 {
        self.state().expect("state.json")["pid"].as_u64().unwrap() as u32
    }

    fn start(&self) -> u32 {
        let out = self.run(&["sim", "start"]);
        assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
        self.pid()
    }
}

impl Drop for Bg {
    fn drop(&mut self) {
        if let Some(state) = self.state() {
            let _ = self.run(&["sim", "stop", "--timeout", "2"]);
            // A simulator the stop could not end must not outlive the test.
            if let Some(pid) = state["pid"].as_u64().filter(|p| alive(*p as u32)) {
                let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            }
        }
    }
}

/// Whether `pid` is a live process (a zombie waiting for its parent is not).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

fn kill(pid: u32, signal: &str) {
    assert!(Command::new("kill").args([&format!("-{signal}"), &pid.to_string()]).status().unwrap().success());
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

#[test]
fn consecutive_sim_commands_share_the_background_simulator_until_it_stops() {
    let bg = Bg::new();
    let status = bg.run(&["sim", "status"]);
    assert_eq!(status.status.code(), Some(1), "nothing runs yet: {}", text(&status.stdout));
    assert!(text(&status.stdout).contains("not running"), "{}", text(&status.stdout));

    let pid = bg.start();
    assert!(alive(pid));
    let state = bg.state().unwrap();
    let avd = state["servers"][0]["url"].as_str().unwrap().to_string();
    assert!(avd.starts_with("http://127.0.0.1:"), "{state}");
    assert_eq!(state["servers"][0]["port"].as_u64().map(|p| p.to_string()), avd.rsplit(':').next().map(String::from));
    let profile: Value =
        serde_json::from_str(&std::fs::read_to_string(bg.sim_dir().join("profile.json")).unwrap()).unwrap();
    assert_eq!(profile["avd"]["base_url"], avd.as_str());

    let create = bg.run(&["-v", "call", "--sim", "avd", "room.create", "-p", "room_id=bg1", "-p", "user_id=bg-owner"]);
    assert!(create.status.success(), "{}", text(&create.stderr));
    assert!(
        text(&create.stderr).contains("the simulator of `meetkit sim start`"),
        "-v says which simulator: {}",
        text(&create.stderr)
    );
    let read = bg.run(&["call", "--sim", "avd", "room.read", "-p", "room_id=bg1"]);
    assert!(read.status.success(), "the second command sees the first one's room: {}", text(&read.stderr));
    assert_eq!(json(&read)["data"]["user_id"], "bg-owner");

    // A script run shares it too, and the journal says which simulator the run used.
    let script = bg.dir.path().join("read.rhai");
    std::fs::write(&script, r#"vendor("avd").call("room.read", #{ room_id: "bg1" }).data.user_id"#).unwrap();
    let run = bg.run(&["--output", "json", "run", "--sim", script.to_str().unwrap()]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert_eq!(json(&run), "bg-owner");
    let runs = json(&bg.run(&["runs", "list", "--output", "json"]));
    assert_eq!(runs[0]["profile_source"], format!("sim:{}", bg.sim_dir().display()));

    let status = bg.run(&["sim", "status", "--output", "json"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));
    let status = json(&status);
    assert_eq!(status["running"], true);
    assert_eq!(status["answering"], true);
    assert_eq!(status["pid"], pid);
    let table = text(&bg.run(&["sim", "status"]).stdout);
    assert!(table.contains(&format!("running: pid {pid}")) && table.contains(&avd), "{table}");

    let stop = bg.run(&["sim", "stop"]);
    assert_eq!(stop.status.code(), Some(0), "{}", text(&stop.stderr));
    assert!(text(&stop.stdout).contains(&format!("(pid {pid}) stopped")), "{}", text(&stop.stdout));
    eventually("the simulator process to end", || !alive(pid));
    assert!(!bg.sim_dir().join("state.json").exists() && !bg.sim_dir().join("profile.json").exists());
    let status = bg.run(&["sim", "status", "--output", "json"]);
    assert_eq!(status.status.code(), Some(1));
    assert_eq!(json(&status)["running"], false);
    assert!(nothing_listens(&avd), "nothing answers at {avd} any more");

    // Without it, --sim starts a fresh simulator that has no such room (and -v says so).
    let read = bg.run(&["-v", "call", "--sim", "avd", "room.read", "-p", "room_id=bg1"]);
    assert_eq!(read.status.code(), Some(3), "{}", text(&read.stderr));
    assert!(text(&read.stderr).contains("a fresh one"), "{}", text(&read.stderr));

    // Stopping again is not an error.
    let again = bg.run(&["sim", "stop"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(text(&again.stdout).contains("was running"), "{}", text(&again.stdout));
}

/// Nothing accepts connections at `url` (`http://host:port`).
fn nothing_listens(url: &str) -> bool {
    std::net::TcpStream::connect(url.trim_start_matches("http://")).is_err()
}

#[test]
fn a_second_start_is_refused_and_names_the_running_one() {
    let bg = Bg::new();
    let pid = bg.start();
    let second = bg.run(&["sim", "start"]);
    assert_eq!(second.status.code(), Some(7), "{}", text(&second.stdout));
    let err = text(&second.stderr);
    assert!(err.contains("already running") && err.contains(&format!("pid {pid}")), "{err}");
    assert!(err.contains("meetkit sim stop") && err.contains("MEETKIT_SIM_DIR"), "{err}");
    assert!(err.contains(&bg.sim_dir().join("profile.json").display().to_string()), "{err}");
    assert_eq!(bg.pid(), pid, "the running one's state is untouched");
    assert!(alive(pid));
}

#[test]
fn the_state_of_a_killed_simulator_is_detected_and_removed() {
    let bg = Bg::new();
    let pid = bg.start();
    kill(pid, "KILL");
    eventually("the killed simulator to end", || !alive(pid));
    assert!(bg.sim_dir().join("state.json").exists(), "a killed simulator cannot clean up");

    // A --sim command does not take the dead simulator for a running one.
    let call = bg.run(&["call", "--sim", "avd", "room.create", "-p", "room_id=x", "-p", "user_id=ops"]);
    assert!(call.status.success(), "{}", text(&call.stderr));

    let status = bg.run(&["sim", "status"]);
    assert_eq!(status.status.code(), Some(1));
    let out = text(&status.stdout);
    assert!(out.contains("not running") && out.contains(&format!("removed the state left by pid {pid}")), "{out}");
    assert!(!bg.sim_dir().join("state.json").exists() && !bg.sim_dir().join("profile.json").exists());
}

#[test]
fn start_replaces_a_stale_state_file() {
    let bg = Bg::new();
    // The state of a process that is gone: a finished child's pid, no lock held.
    let mut gone = Command::new("true").spawn().unwrap();
    let gone_pid = gone.id();
    gone.wait().unwrap();
    std::fs::create_dir_all(bg.sim_dir()).unwrap();
    let stale = serde_json::json!({
        "pid": gone_pid, "started_at": 1.0, "version": "0.0.0", "strict": false, "tls": false,
        "servers": [{"name": "avd", "url": "http://127.0.0.1:9", "port": 9}],
        "netease_callback_listen": "127.0.0.1:9", "ca_cert": null,
        "profile": bg.sim_dir().join("profile.json"), "log": bg.sim_dir().join("sim.log"),
    });
    std::fs::write(bg.sim_dir().join("state.json"), stale.to_string()).unwrap();
    std::fs::write(bg.sim_dir().join("profile.json"), r#"{"avd": {"base_url": "http://127.0.0.1:9"}}"#).unwrap();

    let start = bg.run(&["sim", "start"]);
    assert_eq!(start.status.code(), Some(0), "{}", text(&start.stderr));
    assert!(
        text(&start.stderr).contains(&format!("removed the state of a simulator that is gone (pid {gone_pid})")),
        "{}",
        text(&start.stderr)
    );
    let pid = bg.pid();
    assert_ne!(pid, gone_pid);
    let read = bg.run(&["call", "--sim", "avd", "room.create", "-p", "room_id=s1", "-p", "user_id=ops"]);
    assert!(read.status.success(), "the new simulator serves, not the stale profile: {}", text(&read.stderr));
}

#[test]
fn stop_kills_a_simulator_that_does_not_stop_in_time() {
    let bg = Bg::new();
    let pid = bg.start();
    // A stopped process cannot act on SIGTERM; only SIGKILL ends it.
    kill(pid, "STOP");
    let stop = bg.run(&["sim", "stop", "--timeout", "0.5"]);
    assert_eq!(stop.status.code(), Some(0), "{}", text(&stop.stderr));
    assert!(text(&stop.stdout).contains("killed (SIGKILL)"), "{}", text(&stop.stdout));
    eventually("the killed simulator to end", || !alive(pid));
    assert!(!bg.sim_dir().join("state.json").exists());
    assert_eq!(bg.run(&["sim", "status"]).status.code(), Some(1));
}

#[test]
fn commands_sharing_the_background_simulator_each_get_every_netease_callback() {
    let bg = Bg::new();
    bg.start();
    let state = bg.state().unwrap();
    let own_receiver = state["netease_callback_listen"].as_str().unwrap().to_string();
    let netease = state["servers"].as_array().unwrap().iter().find(|s| s["name"] == "netease").unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let callbacks = || -> Value {
        let url = format!("{netease}/_sim/netease/callbacks");
        runtime.block_on(async { reqwest_get(&url).await })
    };
    let free_port = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let (port_a, port_b) = (free_port(), free_port());
    let webhook = |port: &str| {
        bg.command(&["webhook", "netease", "--port", port, "--sim", "--no-journal"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (webhook_a, webhook_b) = (webhook(&port_a), webhook(&port_b));
    let url_of = |port: &str| format!("http://127.0.0.1:{port}/netease/callback");
    eventually("both webhooks to attach their receivers", || {
        let receivers = callbacks()["receivers"].clone();
        let has = |port: &str| receivers.as_array().is_some_and(|r| r.contains(&Value::String(url_of(port))));
        has(&port_a) && has(&port_b)
    });
    assert_eq!(callbacks()["callbackUrl"], format!("http://{own_receiver}/netease/callback"), "not taken over");
    let status = json(&bg.run(&["sim", "status", "--output", "json"]));
    assert_eq!(status["netease_receivers"].as_array().map(Vec::len), Some(2), "{status}");
    let table = text(&bg.run(&["sim", "status"]).stdout);
    assert!(table.contains(&format!("and to {}", url_of(&port_a))), "{table}");

    // Two runs at once, each waiting for its own meeting's MEETING_ROOM_START: each receives
    // on a port of its own (before, both took the simulator's one receiver address).
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/netease_meeting_lifecycle.rhai");
    let run = |subject: &str| {
        bg.command(&[
            "run",
            "--sim",
            "--output",
            "json",
            "--set",
            "start_in=1",
            "--set",
            &format!("subject={subject}"),
            "--out",
            subject,
            script.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
    };
    let (run_a, run_b) = (run("run-a"), run("run-b"));
    let mut uids = Vec::new();
    for child in [run_a, run_b] {
        let (code, out, err) = common::finish(child);
        assert_eq!(code, Some(0), "{err}");
        // The script's print lines, then the value as JSON.
        let last = out.lines().last().unwrap_or_default();
        let value: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert!(value["files"].as_i64().unwrap() > 0, "{value}");
        uids.push(value["meetingUniqueId"].clone());
    }

    // Both webhooks got both meetings' start, while the runs got theirs.
    for child in [webhook_a, webhook_b] {
        common::signal(&child, "INT");
        let (code, out, err) = common::finish(child);
        assert_eq!(code, Some(0), "{err}");
        assert!(err.contains("the simulator of `meetkit sim start`"), "{err}");
        let started: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|e| e["data"]["msgType"] == 1)
            .map(|e| e["data"]["msgBody"]["meetingUniqueId"].clone())
            .collect();
        for uid in &uids {
            assert!(started.contains(uid), "meeting {uid} started, webhook saw {started:?}");
        }
    }
    assert_eq!(callbacks()["receivers"], serde_json::json!([]), "every command detached on its way out");
}

async fn reqwest_get(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

#[test]
fn runs_cleanup_uses_the_background_simulator_a_run_used() {
    let bg = Bg::new();
    bg.start();
    let script = bg.dir.path().join("leave.rhai");
    std::fs::write(
        &script,
        r#"vendor("avd").call("room.create", #{ room_id: "left-1", user_id: "ops" }); fail("stop here");"#,
    )
    .unwrap();
    let run = bg.run(&["run", "--sim", script.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(6), "{}", text(&run.stderr));
    let runs = json(&bg.run(&["runs", "list", "--output", "json"]));
    let id = runs[0]["id"].as_str().unwrap().to_string();
    assert_eq!(runs[0]["left_running"], 1, "{runs}");

    // The journal's `sim:<dir>` leads cleanup to the simulator that still holds the room.
    let cleanup = bg.run(&["runs", "cleanup", &id, "--end-rooms", "--output", "json"]);
    assert!(cleanup.status.success(), "{}", text(&cleanup.stderr));
    let steps = json(&cleanup);
    assert_eq!(steps[0]["resource"]["kind"], "room", "{steps}");
    assert_ne!(steps[0]["outcome"], "failed", "{steps}");

    // Once that simulator is gone, cleanup says there is nothing to stop there.
    assert!(bg.run(&["sim", "stop"]).status.success());
    let gone = bg.run(&["runs", "cleanup", &id]);
    assert_eq!(gone.status.code(), Some(7), "{}", text(&gone.stdout));
    let err = text(&gone.stderr);
    assert!(err.contains("no longer running") && err.contains(&bg.sim_dir().display().to_string()), "{err}");
}
