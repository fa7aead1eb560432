//! Every example script in `scripts/` runs through `meetkit run --sim` and prints what
//! `scripts/expected/<name>.txt` says: each expected line (with `*` matching anything)
//! must appear in stdout, in order. A script without an expected file fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// `line` matches `pattern`, where `*` stands for any text.
fn matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || line.len() < first.len() + if parts.len() > 1 { last.len() } else { 0 } {
        return false;
    }
    if parts.len() == 1 {
        return line == pattern;
    }
    let mut rest = &line[first.len()..];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

fn run_example(name: &str, extra: &[&str]) {
    run_example_as(name, name, extra)
}

/// Run `scripts/<script>.rhai`, checking the output against `scripts/expected/<name>.txt`.
fn run_example_as(name: &str, script: &str, extra: &[&str]) {
    let expected_path = repo().join("scripts/expected").join(format!("{name}.txt"));
    let expected = std::fs::read_to_string(&expected_path)
        .unwrap_or_else(|_| panic!("{} is missing: every example needs its expected output", expected_path.display()));
    let out_dir = tempfile::tempdir().unwrap();
    let mut args = vec!["run", "--sim", "--out", out_dir.path().to_str().unwrap()];
    args.extend_from_slice(extra);
    let script = format!("scripts/{script}.rhai");
    args.push(&script);
    // Never a background simulator a developer left running (`meetkit sim start`).
    let out = Command::new(env!("CARGO_BIN_EXE_meetkit"))
        .args(&args)
        .current_dir(repo())
        .env("MEETKIT_SIM_DIR", std::env::temp_dir().join("meetkit-tests-no-background-sim"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{name} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let mut lines = stdout.lines();
    for want in expected.lines().filter(|l| !l.trim().is_empty()) {
        assert!(lines.any(|got| matches(want, got)), "{name}: no line matching {want:?} (in order) in:\n{stdout}");
    }
}

#[test]
fn the_glob_matcher() {
    assert!(matches("a * b", "a xyz b"));
    assert!(matches("a*", "abc") && matches("*c", "abc") && matches("abc", "abc"));
    assert!(!matches("a * b", "a xyz c") && !matches("abc", "abcd") && !matches("a*b*c", "acb"));
}

#[test]
fn every_example_script_has_expected_output() {
    for entry in std::fs::read_dir(repo().join("scripts")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rhai") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let expected = repo().join("scripts/expected");
            let per_vendor = ["avd", "kedacom", "vmr", "netease"].map(|v| expected.join(format!("{name}.{v}.txt")));
            assert!(
                expected.join(format!("{name}.txt")).exists() || per_vendor.iter().all(|p| p.exists()),
                "{name} has no expected output"
            );
        }
    }
}

#[test]
fn avd_record_meeting() {
    run_example("avd_record_meeting", &["--set", "record_seconds=1"]);
}

#[test]
fn kedacom_book_and_run() {
    run_example("kedacom_book_and_run", &[]);
}

#[test]
fn vmr_moderate_and_record() {
    run_example("vmr_moderate_and_record", &["--set", "record_seconds=1"]);
}

#[test]
fn netease_meeting_lifecycle() {
    run_example("netease_meeting_lifecycle", &[]);
}

#[test]
fn netease_to_avd_replay() {
    run_example("netease_to_avd_replay", &[]);
}

#[test]
fn record_meeting_runs_unchanged_on_every_vendor() {
    for vendor in ["avd", "kedacom", "vmr", "netease"] {
        let set = format!("vendor={vendor}");
        run_example_as(
            &format!("record_meeting.{vendor}"),
            "record_meeting",
            &["--set", &set, "--set", "record_seconds=1"],
        );
    }
}
