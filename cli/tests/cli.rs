//! The `meetkit` binary, end to end, against the in-process simulator (`--sim`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn meetkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meetkit"))
        .args(args)
        .current_dir(repo())
        .env("MEETKIT_JOURNAL", std::env::temp_dir().join("meetkit-cli-tests-runs.db"))
        // Never a background simulator a developer left running (`meetkit sim start`).
        .env("MEETKIT_SIM_DIR", std::env::temp_dir().join("meetkit-tests-no-background-sim"))
        .env_remove("MEETKIT_CONFIG")
        .env_remove("MEETKIT_PROFILE")
        .output()
        .expect("meetkit runs")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn help_explains_every_command_with_examples() {
    let out = meetkit(&["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for cmd in ["run", "call", "endpoints", "sim", "Exit codes"] {
        assert!(help.contains(cmd), "--help lacks {cmd}:\n{help}");
    }
    for cmd in ["run", "call", "endpoints", "sim"] {
        let out = meetkit(&[cmd, "--help"]);
        assert!(out.status.success(), "{cmd} --help");
        assert!(text(&out.stdout).contains("Example"), "{cmd} --help has no example");
    }
}

#[test]
fn endpoints_lists_all_69_avd_ids() {
    let out = meetkit(&["endpoints", "avd"]);
    assert!(out.status.success());
    let listing = text(&out.stdout);
    assert!(listing.starts_with("# avd: 3tee AVD — 69 endpoints"), "{listing}");
    assert_eq!(listing.lines().count(), 70);
    assert!(listing.lines().any(|l| l.starts_with("room.mix_record.start ")));
}

#[test]
fn call_prints_the_decoded_result() {
    let out =
        meetkit(&["call", "--sim", "avd", "room.create", "--params", r#"{"room_id": "cli-1", "user_id": "ops"}"#]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["room_id"], "cli-1");
    assert!(v.get("ret").is_none(), "envelope must be stripped: {v}");
}

#[test]
fn api_errors_exit_3_with_vendor_code_and_message() {
    let out = meetkit(&["call", "--sim", "avd", "room.read", "-p", "room_id=does-not-exist"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("avd room.read: error 40004"), "{err}");
    assert!(err.contains("vendor:   avd") && err.contains("code:     40004"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn invalid_params_and_unknown_ids_exit_2_before_sending() {
    let out = meetkit(&["call", "avd", "room.create", "--params", r#"{"room_id": "r1"}"#]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("invalid parameter `user_id`") && err.contains("required"), "{err}");

    let out = meetkit(&["call", "avd", "room.creat"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("did you mean `room.create`"), "{}", text(&out.stderr));

    let out = meetkit(&["call", "avd", "room.update", "-p", "room_id=1", "-p", "enable_auto_avc=yes"]);
    assert_eq!(out.status.code(), Some(2), "`yes` is not a bool: {}", text(&out.stderr));
    assert!(text(&out.stderr).contains("`enable_auto_avc`: expected bool, got string"), "{}", text(&out.stderr));
}

#[test]
fn p_values_are_typed_by_the_endpoint_table() {
    let out = meetkit(&["call", "--sim", "avd", "room.create", "-p", "room_id=12345", "-p", "user_id=ops"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["room_id"], "12345", "a string parameter keeps its digits as text");

    // Leading zeros survive; int and bool parameters are converted from their text.
    let out = meetkit(&[
        "call",
        "--sim",
        "avd",
        "room.create",
        "-p",
        "room_id=0012",
        "-p",
        "user_id=007",
        "-p",
        "enable_auto_avc=true",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["room_id"], "0012");
    let out = meetkit(&["call", "--sim", "avd", "room.get_statistic", "-p", "room_id=1", "-p", "start_time=0"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("`end_time`: required int parameter is missing"), "{}", text(&out.stderr));
    let out = meetkit(&["call", "--sim", "avd", "room.get_statistic", "-p", "room_id=1", "-p", "start_time=x"]);
    assert!(text(&out.stderr).contains("`start_time`: expected int, got string (\"x\")"), "{}", text(&out.stderr));
    // JSON-valued parameters still take JSON text.
    let out = meetkit(&["call", "--sim", "avd", "room.mix_record.start", "-p", "room_id=1", "-p", "videos={broken"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn set_numbers_work_for_string_parameters_in_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("rec");
    let out = meetkit(&[
        "run",
        "--sim",
        "--out",
        out_dir.to_str().unwrap(),
        "--set",
        "room_id=2024",
        "--set",
        "record_seconds=1",
        "scripts/avd_record_meeting.rhai",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{}", text(&out.stderr));
    assert!(stdout.contains("room 2024: created") && stdout.contains("summary: room 2024,"), "{stdout}");
}

#[test]
fn missing_profile_is_a_config_error_that_says_how_to_fix_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_meetkit"))
        .args(["call", "avd", "room.list"])
        .current_dir(dir.path())
        .env_remove("MEETKIT_CONFIG")
        .env_remove("MEETKIT_AVD_BASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7));
    let err = text(&out.stderr);
    assert!(err.contains("MEETKIT_AVD_") && err.contains("--sim"), "{err}");
}

#[test]
fn verbose_logs_never_show_secrets() {
    let out = meetkit(&["-vvv", "call", "--sim", "avd", "room.list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("room.list"), "expected trace output:\n{err}");
    assert!(!err.contains("sim-secret-key"), "secret_key leaked:\n{err}");
    // -vv and up show request URLs, with every token value redacted.
    assert!(err.match_indices("token=").all(|(i, _)| err[i + 6..].starts_with("***")), "token leaked:\n{err}");
}

#[test]
fn sim_prints_a_profile_line_first() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meetkit"))
        .args(["sim"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let v: Value = serde_json::from_str(&line).expect("first line is JSON");
    let avd = &v["avd"];
    assert!(avd["base_url"].as_str().unwrap().starts_with("http://127.0.0.1:"), "{v}");
    assert!(avd["access_key"].is_string() && avd["secret_key"].is_string(), "{v}");
}

#[test]
fn run_records_a_meeting_and_leaves_real_files() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("rec");
    let out = meetkit(&[
        "run",
        "--sim",
        "--out",
        out_dir.to_str().unwrap(),
        "--set",
        "record_seconds=1",
        "scripts/avd_record_meeting.rhai",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{}", text(&out.stderr));
    assert!(stdout.contains("summary: room meetkit-demo"), "{stdout}");
    let files: Vec<_> = std::fs::read_dir(&out_dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(!files.is_empty(), "no files downloaded");
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy();
        assert!(!name.ends_with(".part") && !name.starts_with('.'), "partial file left: {name}");
        assert!(std::fs::metadata(f).unwrap().len() > 0, "{name} is empty");
        assert!(stdout.contains(&*name), "{name} not in the summary:\n{stdout}");
    }
}

#[test]
fn uncaught_vendor_errors_exit_3_with_position_and_vendor_message() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("bad.rhai");
    std::fs::write(&script, "let avd = vendor(\"avd\");\n\navd.call(\"room.read\", #{ room_id: \"nope\" });\n")
        .unwrap();
    let out = meetkit(&["run", "--sim", script.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(err.contains("bad.rhai:3:"), "{err}");
    assert!(err.contains("avd room.read: error 40004"), "{err}");
}

/// The README's exit-code table and `meetkit --help` list the same codes (the behaviour of
/// each is tested in exit_paths.rs and journal.rs).
#[test]
fn readme_exit_code_table_matches_help() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let mut table: Vec<u32> = readme
        .lines()
        .skip_while(|l| !l.starts_with("| exit code |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .flat_map(|l| {
            l.split('|')
                .nth(1)
                .unwrap_or_default()
                .split('/')
                .map(|c| c.trim().parse::<u32>().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    table.sort_unstable();
    assert_eq!(table, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 124, 129, 130, 143]);
    let help = text(&meetkit(&["--help"]).stdout);
    let codes = help.split("Exit codes:").nth(1).unwrap().split("\n\n").next().unwrap().replace('\n', " ");
    for code in table {
        assert!(codes.contains(&format!("{code} ")), "--help's exit codes lack {code}:\n{codes}");
    }
}
