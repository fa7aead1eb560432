//! The unified meeting API is portable in the hands of a `meetkit run` user: the README's
//! `meeting(vendor)` snippet runs as written on all four vendors, options a vendor cannot use
//! are ignored with one warning per process, typos are errors, and `meetkit capabilities`
//! says what each vendor uses and ignores.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `meetkit <args>` in `dir`, with a journal of its own and no ambient configuration.
fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meetkit"));
    cmd.args(args)
        .current_dir(dir)
        .env("MEETKIT_JOURNAL", dir.join("runs.db"))
        .env("MEETKIT_SIM_DIR", dir.join("no-background-sim"))
        .env_remove("MEETKIT_CONFIG")
        .env_remove("MEETKIT_PROFILE")
        .env_remove("MEETKIT_LOG")
        .env("NO_COLOR", "1");
    cmd
}

/// The first Rhai block of README.md's "One meeting API across vendors" section.
fn readme_snippet() -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let section = readme.split("### One meeting API across vendors").nth(1).expect("the README section");
    let block = section.split("```rhai\n").nth(1).expect("a rhai block in the section");
    block.split("```").next().unwrap().to_string()
}

fn files_in(dir: &Path) -> Vec<(String, u64)> {
    let mut files: Vec<(String, u64)> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.metadata().unwrap().len()))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn the_readme_meeting_snippet_runs_as_written_on_every_vendor() {
    let snippet = readme_snippet();
    assert!(snippet.contains("meeting(vendor)"), "{snippet}");
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("snippet.rhai"), &snippet).unwrap();
    // The four runs at once (each starts its own simulator); then each is checked.
    let runs: Vec<(&str, PathBuf, std::process::Child)> = ["avd", "kedacom", "vmr", "netease"]
        .into_iter()
        .map(|vendor| {
            let out = work.path().join(format!("out-{vendor}"));
            let set = format!("vendor={vendor}");
            let args = ["run", "--sim", "--out", out.to_str().unwrap(), "--set", &set, "snippet.rhai"];
            let child = command(work.path(), &args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("meetkit runs");
            (vendor, out, child)
        })
        .collect();
    for (vendor, out, child) in runs {
        let output: Output = child.wait_with_output().unwrap();
        let stderr = text(&output.stderr);
        assert!(output.status.success(), "{vendor}: {stderr}");
        assert!(!stderr.contains("WARN"), "{vendor}: the snippet warns: {stderr}");
        let files = files_in(&out);
        match vendor {
            // Kedacom cannot list recordings: the snippet skips the download.
            "kedacom" => assert!(files.is_empty(), "{vendor}: {files:?}"),
            // NetEase publishes a mixed mp4 and aac after the end; the download waited for them.
            "netease" => {
                assert_eq!(files.len(), 2, "{vendor}: {files:?}");
                assert!(files.iter().all(|(_, len)| *len > 0), "{vendor}: {files:?}");
            }
            _ => assert!(!files.is_empty() && files.iter().all(|(_, len)| *len > 0), "{vendor}: {files:?}"),
        }
    }
}

#[test]
fn an_option_a_vendor_cannot_use_is_ignored_with_one_warning_per_process() {
    let work = tempfile::tempdir().unwrap();
    let script = r#"
        let a = meeting("avd").create_room(#{ name: "first", minutes: 30 });
        // A second handle and a second room: still no second warning for minutes.
        let b = meeting("avd").create_room(#{ name: "second", minutes: 45, record: true });
        let v = meeting("vmr").create_room(#{ name: "lab", minutes: 30 });
        [a.handle, b.handle, v.handle]
    "#;
    std::fs::write(work.path().join("s.rhai"), script).unwrap();
    let out = command(work.path(), &["run", "--sim", "--output", "json", "s.rhai"]).output().unwrap();
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let handles: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(handles[0], "avd:first");
    assert_eq!(handles[1], "avd:second");
    assert!(handles[2].as_str().unwrap().starts_with("vmr:"), "{handles}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("WARN")).collect();
    let about = |needle: &str| warnings.iter().filter(|l| l.contains(needle)).count();
    assert_eq!(about("avd create_room: option `minutes` ignored"), 1, "{stderr}");
    assert_eq!(about("avd create_room: option `record` ignored"), 1, "{stderr}");
    assert_eq!(about("vmr create_room: option `minutes` ignored"), 1, "{stderr}");
    assert_eq!(warnings.len(), 3, "{stderr}");
    // The warning says why and where to look.
    let minutes = warnings.iter().find(|l| l.contains("avd create_room: option `minutes`")).unwrap();
    assert!(minutes.contains("an AVD room has no length") && minutes.contains("meetkit capabilities avd"), "{minutes}");
}

#[test]
fn an_option_that_is_no_option_is_an_error_naming_it_and_the_valid_ones() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("s.rhai"), r#"meeting("vmr").create_room(#{ nmae: "typo" });"#).unwrap();
    let out = command(work.path(), &["run", "--sim", "s.rhai"]).output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for part in
        ["vmr meeting.create_room", "`nmae`", "did you mean `name`?", "name, id, minutes, invite, record, live, host"]
    {
        assert!(stderr.contains(part), "{part} missing: {stderr}");
    }
}

#[test]
fn capabilities_list_the_options_each_vendor_uses_and_ignores() {
    let work = tempfile::tempdir().unwrap();
    let out = command(work.path(), &["capabilities", "--output", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let caps: Value = serde_json::from_slice(&out.stdout).unwrap();
    let create = |v: &str| caps[v]["create_room"].clone();
    assert_eq!(create("avd")["options"], serde_json::json!(["name", "id"]));
    assert!(create("avd")["ignored"]["minutes"].as_str().unwrap().contains("no length"));
    assert_eq!(create("kedacom")["options"], serde_json::json!(["name", "minutes", "invite", "record", "live"]));
    assert!(create("kedacom")["ignored"]["host"].is_string());
    assert_eq!(create("netease")["options"], serde_json::json!(["name", "minutes", "host"]));
    assert!(caps["netease"]["schedule"]["options"].as_array().unwrap().contains(&"start".into()));
    // A verb without options, and one the vendor cannot do, list none.
    assert_eq!(caps["avd"]["end"]["options"], serde_json::json!([]));
    assert_eq!(caps["avd"]["schedule"]["ignored"], serde_json::json!({}));
    assert!(caps["avd"]["schedule"]["hint"].is_string() && caps["avd"]["end"]["hint"].is_null());

    let out = command(work.path(), &["capabilities", "vmr"]).output().unwrap();
    let page = text(&out.stdout);
    assert!(page.contains("options: name") && page.contains("ignores minutes: a vmr room is provisioned"), "{page}");
}
