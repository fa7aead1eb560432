//! Every exit path of the `meetkit` binary ends what meetkit started: vmr host sessions are
//! ended after `call`, after `run` (success, script error, `--timeout`, SIGTERM, SIGHUP,
//! SIGINT), and exit codes keep their category. The simulator runs in this test process, so
//! its state outlives each `meetkit` process.

mod common;

use std::process::{Command, Stdio};

use common::{eventually, finish, signal, text, Sim};
use serde_json::Value;

#[test]
fn ten_calls_in_a_row_leave_no_vmr_session_behind() {
    let sim = Sim::start();
    for i in 0..10 {
        let out = sim.run(&["call", "vmr", "conference.status"]);
        assert!(out.status.success(), "call {i}: {}", text(&out.stderr));
        assert_eq!(sim.meetkit_left_in_vmr(), (0, 0), "after call {i}: {}", sim.vmr_state());
    }
    // A failing call ends its session too.
    let out = sim.run(&["call", "vmr", "participant.mute", "-p", "participant_uuid=nobody"]);
    assert!(!out.status.success());
    assert_eq!(sim.meetkit_left_in_vmr(), (0, 0), "after a failed call: {}", sim.vmr_state());
}

#[test]
fn run_ends_vmr_sessions_on_success_script_error_and_timeout() {
    let sim = Sim::start();
    let ok = sim.script("ok.rhai", "vendor(\"vmr\").call(\"conference.status\", #{});\n");
    let out = sim.run(&["run", &ok]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(sim.meetkit_left_in_vmr(), (0, 0), "after success: {}", sim.vmr_state());

    let bad = sim.script("bad.rhai", "vendor(\"vmr\").call(\"conference.status\", #{});\nfail(\"broken\");\n");
    let out = sim.run(&["run", &bad]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    assert_eq!(sim.meetkit_left_in_vmr(), (0, 0), "after a script error: {}", sim.vmr_state());

    let slow = sim.script(
        "slow.rhai",
        "vendor(\"vmr\").call(\"conference.status\", #{});\non_exit(|| print(\"cleaned up\"));\nsleep(600);\n",
    );
    let out = sim.run(&["run", "--timeout", "1", &slow]);
    assert_eq!(out.status.code(), Some(124), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("cleaned up"), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("time limit of 1s"), "{}", text(&out.stderr));
    assert_eq!(sim.meetkit_left_in_vmr(), (0, 0), "after --timeout: {}", sim.vmr_state());
}

/// SIGTERM, SIGHUP and SIGINT during a script: on_exit runs (it stops the AVD recording the
/// script started), the vmr session is ended, and the exit code names the signal.
#[test]
fn every_signal_runs_on_exit_and_ends_sessions() {
    for (sig, code) in [("TERM", 143), ("HUP", 129), ("INT", 130)] {
        let sim = Sim::start();
        let room = format!("sig-{}", sig.to_lowercase());
        let script = sim.script(
            "signal.rhai",
            &format!(
                r#"
let avd = vendor("avd");
avd.call("room.create", #{{ room_id: "{room}", user_id: "ops" }});
let invite = avd.call("device.call", #{{ room_id: "{room}", name: "dev", url: "sip:1001@10.0.0.5" }});
let id = invite.call_id;
wait_until(|| avd.call("device.get_invite_status", #{{ call_id: id }}).invite_status.to_string() == "1", 30, 0.1);
avd.call("room.mix_record.start", #{{ room_id: "{room}" }});
on_exit(|| {{
    vendor("avd").call("room.mix_record.stop", #{{ room_id: "{room}" }});
    print("stopped the recording");
}});
vendor("vmr").call("conference.status", #{{}});
print("ready");
sleep(600);
"#
            ),
        );
        let child = sim.command(&["run", &script]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        eventually("the script to hold a vmr session", || sim.meetkit_left_in_vmr().0 > 0);
        signal(&child, sig);
        let (status, out, err) = finish(child);
        assert_eq!(status, Some(code), "SIG{sig}: {err}");
        assert!(out.contains("stopped the recording"), "SIG{sig}: on_exit did not run:\n{out}\n{err}");
        assert_eq!(sim.meetkit_left_in_vmr(), (0, 0), "SIG{sig}: {}", sim.vmr_state());
        let avd = sim.avd_state();
        let recordings = avd["avd"]["recordings"].as_array().cloned().unwrap_or_default();
        assert_eq!(recordings.len(), 1, "SIG{sig}: {avd}");
        assert!(!recordings[0]["stopped"].is_null(), "SIG{sig}: the recording is still running: {avd}");
    }
}

#[test]
fn exit_codes_keep_their_category() {
    let sim = Sim::start();
    // An uncaught vendor error is a vendor error (3), not a script error.
    let s = sim.script("api.rhai", "vendor(\"avd\").call(\"room.read\", #{ room_id: \"nope\" });\n");
    let out = sim.run(&["run", &s]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("api.rhai:1:"), "{}", text(&out.stderr));
    // Bad credentials are 5, from a script too.
    let mut profile: Value = serde_json::from_str(&std::fs::read_to_string(&sim.profile).unwrap()).unwrap();
    profile["avd"]["secret_key"] = "wrong".into();
    let bad = sim.dir.path().join("bad-profile.json");
    std::fs::write(&bad, profile.to_string()).unwrap();
    let s = sim.script("auth.rhai", "vendor(\"avd\").call(\"room.read\", #{ room_id: \"x\" });\n");
    let out = Command::new(env!("CARGO_BIN_EXE_meetkit"))
        .args(["run", &s, "--profile-json"])
        .arg(&bad)
        .current_dir(sim.dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    // Unusable --timeout values are refused, never a panic.
    for t in ["NaN", "inf", "-1", "0", "1e300"] {
        let out = sim.run(&["run", &format!("--timeout={t}"), &s]);
        assert_eq!(out.status.code(), Some(7), "--timeout {t}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("--timeout"), "{}", text(&out.stderr));
    }
}
