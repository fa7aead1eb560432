//! The example workflows leave nothing running however they are stopped: each is run once to
//! learn its steps (the lines it prints), then again and again, stopped with SIGTERM right
//! after each step, against a simulator that outlives the run; afterwards the simulator must
//! show no recording, live, device call, started meeting or host session of the run.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use common::{eventually, signal, Sim};

fn script(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts").join(name).display().to_string()
}

/// Run `name` with `args`, stop it with SIGTERM after its `step`-th printed line (`None`: let it
/// finish), and return the exit code and its output.
fn run_until(sim: &Sim, name: &str, args: &[&str], step: Option<usize>) -> (Option<i32>, Vec<String>, String) {
    let out = sim.dir.path().join("out");
    let path = script(name);
    let mut all = vec!["run", "--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    all.push(&path);
    let mut child = sim.command(&all).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let lines = lines.clone();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        })
    };
    if let Some(step) = step {
        eventually(&format!("{name} to print {step} line(s)"), || {
            lines.lock().unwrap().len() >= step || child.try_wait().unwrap().is_some()
        });
        if child.try_wait().unwrap().is_none() {
            signal(&child, "TERM");
        }
    }
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    let lines = lines.lock().unwrap().clone();
    (status.code(), lines, err)
}

fn stopped_at_every_step(name: &str, vendor: &str, args: &[&str]) {
    stopped_at_every_step_of(name, &[vendor], args)
}

/// What the vendors' simulators still have running.
fn running(sim: &Sim, vendors: &[&str]) -> Vec<String> {
    vendors.iter().flat_map(|v| sim.running(v)).collect()
}

fn stopped_at_every_step_of(name: &str, vendors: &[&str], args: &[&str]) {
    let sim = Sim::start();
    let (code, lines, err) = run_until(&sim, name, args, None);
    assert_eq!(code, Some(0), "{name}: {err}");
    assert!(running(&sim, vendors).is_empty(), "{name} left running: {:?}", running(&sim, vendors));
    let steps = lines.iter().filter(|l| !l.starts_with("cleanup:")).count();
    assert!(steps >= 3, "{name} printed only {lines:?}");
    for step in 1..steps {
        let sim = Sim::start();
        let (code, lines, err) = run_until(&sim, name, args, Some(step));
        assert!(matches!(code, Some(143) | Some(0)), "{name} stopped after step {step}: exit {code:?}\n{}", err);
        let left = running(&sim, vendors);
        assert!(
            left.is_empty(),
            "{name} stopped after step {step} ({:?}) left running: {left:?}\n{}\n{err}",
            lines.get(step - 1),
            lines.join("\n")
        );
    }
}

#[test]
fn avd_record_meeting_leaves_nothing_running_when_stopped_at_any_step() {
    stopped_at_every_step("avd_record_meeting.rhai", "avd", &["--set", "record_seconds=1"]);
}

#[test]
fn kedacom_book_and_run_leaves_nothing_running_when_stopped_at_any_step() {
    let agenda = script("fixtures/agenda.txt");
    stopped_at_every_step("kedacom_book_and_run.rhai", "kedacom", &["--set", &format!("file={agenda}")]);
}

#[test]
fn netease_meeting_lifecycle_leaves_nothing_running_when_stopped_at_any_step() {
    stopped_at_every_step("netease_meeting_lifecycle.rhai", "netease", &[]);
}

#[test]
fn vmr_moderate_and_record_leaves_nothing_running_when_stopped_at_any_step() {
    stopped_at_every_step("vmr_moderate_and_record.rhai", "vmr", &["--set", "record_seconds=1"]);
}

#[test]
fn record_meeting_leaves_nothing_running_on_any_vendor_when_stopped_at_any_step() {
    for vendor in ["avd", "kedacom", "vmr", "netease"] {
        stopped_at_every_step(
            "record_meeting.rhai",
            vendor,
            &["--set", &format!("vendor={vendor}"), "--set", "record_seconds=1"],
        );
    }
}

#[test]
fn netease_to_avd_replay_leaves_nothing_running_when_stopped_at_any_step() {
    stopped_at_every_step_of("netease_to_avd_replay.rhai", &["netease", "avd"], &[]);
}
