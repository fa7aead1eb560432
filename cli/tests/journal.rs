//! The run journal end to end: a run killed with SIGKILL mid-recording is listed as
//! `interrupted`, `meetkit runs show` says what it left running, `meetkit runs cleanup` stops
//! it (and only with --end-rooms ends rooms), and a second cleanup sends nothing.

mod common;

use std::process::Stdio;

use common::{eventually, finish, signal, text, Sim};
use serde_json::Value;

fn json_of(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}\n{}", text(&out.stdout), text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

/// Requests the AVD simulator has served so far, all paths together.
fn avd_requests(sim: &Sim) -> u64 {
    let url = format!("{}/_sim/stats", sim.sim().avd_base_url());
    let stats: Value = sim.runtime.block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() });
    stats["requests"].as_object().map_or(0, |m| m.values().filter_map(Value::as_u64).sum())
}

fn avd_running(sim: &Sim) -> (usize, usize, bool) {
    let state = sim.avd_state();
    let recording = state["avd"]["recordings"].as_array().unwrap().iter().filter(|r| r["stopped"].is_null()).count();
    let in_call = state["avd"]["sessions"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
        .flat_map(|s| s["participants"].as_array().cloned().unwrap_or_default())
        .filter(|p| !p["call_id"].is_null())
        .count();
    let open = state["avd"]["rooms"].as_array().unwrap().iter().any(|r| r["open"] == true);
    (recording, in_call, open)
}

#[test]
fn a_killed_avd_run_is_interrupted_and_cleanup_stops_what_it_left() {
    let sim = Sim::start();
    let script = sim.script(
        "record.rhai",
        r#"
let avd = vendor("avd");
avd.call("room.create", #{ room_id: "journal-1", user_id: "ops" });
let invite = avd.call("device.call", #{ room_id: "journal-1", name: "dev", url: "sip:1001@10.0.0.5" });
let id = invite.call_id;
wait_until(|| avd.call("device.get_invite_status", #{ call_id: id }).invite_status.to_string() == "1", 30, 0.1);
avd.call("room.mix_record.start", #{ room_id: "journal-1" });
sleep(600);
"#,
    );
    let child = sim.command(&["run", &script]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    eventually("the recording to start", || avd_running(&sim).0 == 1);
    signal(&child, "KILL");
    let _ = finish(child);
    assert_eq!(avd_running(&sim), (1, 1, true), "the killed run left its recording and device call");

    let journal = sim.journal().display().to_string();
    let runs = json_of(&sim.plain(&["runs", "list", "--journal", &journal, "--output", "json"]));
    let run = &runs[0];
    assert_eq!(run["status"], "interrupted", "{runs}");
    assert_eq!(run["left_running"], 3, "room, device call and recording: {runs}");
    let id = run["id"].as_str().unwrap().to_string();

    let shown = json_of(&sim.plain(&["runs", "show", &id, "--journal", &journal, "--output", "json"]));
    let kinds: Vec<&str> = shown["resources"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["room", "device_call", "recording"], "{shown}");
    assert!(shown["calls"].as_array().unwrap().len() >= 4, "{shown}");
    let table = text(&sim.plain(&["runs", "show", &id, "--journal", &journal]).stdout);
    assert!(table.contains("RUNNING") && table.contains("room.mix_record.stop"), "{table}");

    // --dry-run sends nothing.
    let before = avd_requests(&sim);
    let dry = json_of(&sim.plain(&["runs", "cleanup", &id, "--journal", &journal, "--dry-run", "--output", "json"]));
    let outcomes: Vec<&str> = dry.as_array().unwrap().iter().map(|s| s["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["would_stop", "would_stop", "kept"], "{dry}");
    assert_eq!(avd_requests(&sim), before, "a dry run sent requests");
    assert_eq!(avd_running(&sim), (1, 1, true));

    // The cleanup, with the profile the run used (found in the journal).
    let done = json_of(&sim.plain(&["runs", "cleanup", &id, "--journal", &journal, "--output", "json"]));
    let outcomes: Vec<&str> = done.as_array().unwrap().iter().map(|s| s["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["stopped", "stopped", "kept"], "{done}");
    let (recording, in_call, _) = avd_running(&sim);
    assert_eq!((recording, in_call), (0, 0), "{}", sim.avd_state());
    let rooms = sim.avd_state()["avd"]["rooms"].clone();
    assert!(rooms.to_string().contains("journal-1"), "the room is kept without --end-rooms: {rooms}");

    // A second cleanup sends nothing.
    let before = avd_requests(&sim);
    let again = sim.plain(&["runs", "cleanup", &id, "--journal", &journal]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(text(&again.stdout).contains("kept"), "{}", text(&again.stdout));
    assert_eq!(avd_requests(&sim), before, "a second cleanup sent requests");

    // --end-rooms closes the room; then nothing is left at all.
    let ended =
        json_of(&sim.plain(&["runs", "cleanup", &id, "--journal", &journal, "--end-rooms", "--output", "json"]));
    // Nobody is in the room any more, so closing it finds nothing open: done either way.
    assert!(["stopped", "already_stopped"].contains(&ended[0]["outcome"].as_str().unwrap()), "{ended}");
    assert_eq!(avd_running(&sim), (0, 0, false), "{}", sim.avd_state());
    let last = sim.plain(&["runs", "cleanup", &id, "--journal", &journal, "--end-rooms"]);
    assert!(text(&last.stdout).contains("nothing left running"), "{}", text(&last.stdout));
    let runs = json_of(&sim.plain(&["runs", "list", "--journal", &journal, "--output", "json"]));
    assert_eq!(runs[0]["left_running"], 0, "{runs}");
}

#[test]
fn a_run_that_ends_normally_is_ok_and_a_failed_one_says_how_to_clean_up() {
    let sim = Sim::start();
    let script = sim.script(
        "ok.rhai",
        r#"
let avd = vendor("avd");
avd.call("room.create", #{ room_id: "journal-2", user_id: "ops" });
avd.call("room.del", #{ room_id: "journal-2" });
"#,
    );
    let out = sim.run(&["run", &script]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let journal = sim.journal().display().to_string();
    let runs = json_of(&sim.plain(&["runs", "list", "--journal", &journal, "--output", "json"]));
    assert_eq!((runs[0]["status"].as_str(), runs[0]["left_running"].as_u64()), (Some("ok"), Some(0)), "{runs}");
    // A failed run says how to clean up.
    let bad = sim.script(
        "bad.rhai",
        "let avd = vendor(\"avd\");\navd.call(\"room.create\", #{ room_id: \"journal-3\", user_id: \"ops\" });\nfail(\"broken\");\n",
    );
    let out = sim.run(&["run", &bad]);
    assert_eq!(out.status.code(), Some(6));
    assert!(text(&out.stderr).contains("meetkit runs cleanup"), "{}", text(&out.stderr));
    let runs = json_of(&sim.plain(&["runs", "list", "--journal", &journal, "--output", "json"]));
    assert_eq!(runs[0]["status"], "failed", "{runs}");
    assert!(runs[0]["error"].as_str().unwrap().contains("broken"), "{runs}");
}

#[test]
fn the_example_workflow_journals_its_downloads_and_stops_everything_it_started() {
    let sim = Sim::start();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/avd_record_meeting.rhai");
    let out = sim.dir.path().join("rec");
    let run = sim.run(&["run", "--out", out.to_str().unwrap(), script.to_str().unwrap()]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let journal = sim.journal().display().to_string();
    let runs = json_of(&sim.plain(&["runs", "list", "--journal", &journal, "--output", "json"]));
    let id = runs[0]["id"].as_str().unwrap();
    let shown = json_of(&sim.plain(&["runs", "show", id, "--journal", &journal, "--output", "json"]));
    let files = shown["files"].as_array().unwrap();
    assert!(!files.is_empty(), "{shown}");
    for f in files {
        let path = std::path::Path::new(f["path"].as_str().unwrap());
        assert_eq!(std::fs::metadata(path).unwrap().len(), f["size"].as_u64().unwrap(), "{f}");
        assert_eq!(f["md5"].as_str().unwrap().len(), 32, "{f}");
    }
    // The recording it started was stopped by the run itself.
    let recording = shown["resources"].as_array().unwrap().iter().find(|r| r["kind"] == "recording").unwrap().clone();
    assert_eq!(recording["stopped_by"], "run", "{shown}");
}

/// vmr: a run killed while it holds a host session, a dialled device and a recording. The
/// cleanup closes the recording, hangs up the device and removes the dead run's host
/// participant, so the room holds nothing of meetkit's.
#[test]
fn a_killed_vmr_run_leaves_nothing_after_cleanup() {
    let sim = Sim::start();
    let script = sim.script(
        "vmr.rhai",
        r#"
let vmr = vendor("vmr");
let room = vmr.call("meet.check_join", #{}).results;
vmr.call("conference.dial", #{ role: "guest", destination: "sip:2001@10.0.0.9", protocol: "sip" });
vmr.call("record.open", #{ conferenceKey: room.sipkey });
print("ready");
sleep(600);
"#,
    );
    let child = sim.command(&["run", &script]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    eventually("the vmr recording to start", || sim.running("vmr").iter().any(|r| r.starts_with("recording")));
    signal(&child, "KILL");
    let _ = finish(child);
    let left = sim.running("vmr");
    assert!(left.iter().any(|r| r.starts_with("session")) && left.len() >= 3, "{left:?}");

    let journal = sim.journal().display().to_string();
    let runs = json_of(&sim.plain(&["runs", "list", "--journal", &journal, "--output", "json"]));
    assert_eq!(runs[0]["status"], "interrupted", "{runs}");
    let id = runs[0]["id"].as_str().unwrap().to_string();
    let shown = json_of(&sim.plain(&["runs", "show", &id, "--journal", &journal, "--output", "json"]));
    let kinds: Vec<&str> = shown["resources"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"session") && kinds.contains(&"device_call") && kinds.contains(&"recording"), "{shown}");

    let done = json_of(&sim.plain(&["runs", "cleanup", &id, "--journal", &journal, "--output", "json"]));
    assert!(done.as_array().unwrap().iter().all(|s| s["outcome"] != "failed"), "{done}");
    let left = sim.running("vmr");
    assert!(left.is_empty(), "after cleanup: {left:?}\n{done}");
    let again = json_of(&sim.plain(&["runs", "cleanup", &id, "--journal", &journal, "--output", "json"]));
    assert_eq!(again, serde_json::json!([]), "a second cleanup found work: {again}");
}
