//! The operator's day with the `meetkit` binary: verbosity and log formats, parameters from
//! files and stdin, shell completions, profiles and `doctor`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meetkit"));
    cmd.args(args)
        .current_dir(repo())
        .env("MEETKIT_JOURNAL", std::env::temp_dir().join("meetkit-operator-tests-runs.db"))
        .env_remove("MEETKIT_CONFIG")
        .env_remove("MEETKIT_PROFILE")
        // Never a background simulator a developer left running (`meetkit sim start`).
        .env("MEETKIT_SIM_DIR", std::env::temp_dir().join("meetkit-tests-no-background-sim"))
        .env_remove("MEETKIT_LOG")
        .env_remove("NO_COLOR");
    cmd
}

fn meetkit(args: &[&str]) -> Output {
    command(args).output().expect("meetkit runs")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const CREATE: &[&str] = &["call", "--sim", "avd", "room.create", "-p", "room_id=v1", "-p", "user_id=ops"];

#[test]
fn one_verbose_prints_one_line_per_http_request_without_colour() {
    let quiet = meetkit(CREATE);
    assert!(quiet.status.success(), "{}", text(&quiet.stderr));
    assert_eq!(text(&quiet.stderr), "", "no -v: nothing on stderr");

    let mut args = vec!["-v"];
    args.extend_from_slice(CREATE);
    let out = meetkit(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains(" http ")).collect();
    // The token request, then the call itself.
    assert_eq!(lines.len(), 2, "{stderr}");
    let call = lines[1];
    for field in [
        "vendor=avd",
        "endpoint=\"room.create\"",
        "method=GET",
        "path=\"/sdkapi/v2/room/create\"",
        "status=200",
        "attempt=1",
    ] {
        assert!(call.contains(field), "{field} missing in {call}");
    }
    assert!(call.contains("elapsed_ms="), "{call}");
    assert!(!stderr.contains('\u{1b}'), "stderr is not a terminal: no colour escapes\n{stderr:?}");
}

#[test]
fn log_format_json_writes_one_object_per_line() {
    let mut args = vec!["-v", "--log-format", "json"];
    args.extend_from_slice(CREATE);
    let out = meetkit(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<Value> = text(&out.stderr)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let call = lines.iter().find(|l| l["fields"]["endpoint"] == "room.create").expect("a line for the call");
    assert_eq!(call["fields"]["status"], 200);
    assert_eq!(call["level"], "INFO");
}

#[test]
fn params_come_from_a_file_or_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("params.json");
    std::fs::write(&file, r#"{"room_id": "from-file", "user_id": "ops"}"#).unwrap();
    let at = format!("@{}", file.display());
    let out = meetkit(&["call", "--sim", "avd", "room.create", "--params", &at]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["room_id"], "from-file");

    let mut child = command(&["call", "--sim", "avd", "room.create", "--params", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(br#"{"room_id": "from-stdin", "user_id": "ops"}"#).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["room_id"], "from-stdin");

    let missing = dir.path().join("nope.json");
    let out = meetkit(&["call", "--sim", "avd", "room.create", "--params", &format!("@{}", missing.display())]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("nope.json"), "{}", text(&out.stderr));
}

#[test]
fn completions_for_every_shell_name_the_commands() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = meetkit(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        for word in ["meetkit", "run", "call", "runs", "profile-json"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let out = meetkit(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

const LAB: &str = "default_profile = \"lab\"
[profiles.lab.avd]
base_url = \"http://a.invalid\"
access_key = \"ak\"
secret_key = \"TOPSECRET-SK\"

[profiles.lab.kedacom]
base_url = \"http://k.invalid\"
heartbeat_secs = \"30\"

[profiles.other.netease]
base_url = \"http://n.invalid\"
app_key = \"k\"
app_secret = \"TOPSECRET-NE\"
";

#[test]
fn profile_list_and_show_mask_secrets_and_point_at_the_broken_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("meetkit.toml");
    std::fs::write(&cfg, LAB).unwrap();
    let cfg = cfg.to_str().unwrap();

    let out = meetkit(&["profile", "list", "--config", cfg]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    assert!(listing.contains("* lab") && listing.contains("  other"), "{listing}");

    let out = meetkit(&["profile", "show", "lab", "--config", cfg, "--output", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!all.contains("TOPSECRET"), "{all}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sections"]["avd"]["fields"]["secret_key"]["value"], "***");
    let error = v["sections"]["kedacom"]["error"].as_str().unwrap();
    assert!(error.contains("meetkit.toml:9: [profiles.lab.kedacom] heartbeat_secs"), "{error}");

    // The broken kedacom section fails kedacom calls (exit 7, the same words), not avd's checks.
    let out = meetkit(&["call", "kedacom", "booked_confs.get", "-p", "conf_id=1", "--config", cfg]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("meetkit.toml:9: [profiles.lab.kedacom] heartbeat_secs"));
    let out = meetkit(&["call", "avd", "app.get_system_info", "--config", cfg]);
    assert_eq!(out.status.code(), Some(4), "avd is configured; its server does not exist: {}", text(&out.stderr));
}

#[test]
fn the_profile_reference_in_docs_is_current() {
    let out = meetkit(&["profile", "reference"]);
    assert!(out.status.success());
    let generated = text(&out.stdout);
    let committed = std::fs::read_to_string(repo().join("docs/profile.md")).unwrap();
    assert!(
        committed == generated,
        "docs/profile.md is stale: run `cargo run -p meetkit-cli -- profile reference > docs/profile.md`"
    );
    for var in ["MEETKIT_VMR_MCU_SCHEME", "MEETKIT_TRANSPORT_BACKOFF_MAX_MS", "MEETKIT_AVD_REWRITE_ATTACHMENT_URLS"] {
        assert!(generated.contains(var), "{var}");
    }
}

#[test]
fn endpoints_and_capabilities_for_programs_and_one_endpoint_whole() {
    let out = meetkit(&["endpoints", "--output", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let all: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let listed = text(&meetkit(&["endpoints"]).stdout).lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(all.len(), listed);
    let create = all.iter().find(|e| e["vendor"] == "avd" && e["id"] == "room.create").unwrap();
    assert_eq!((create["method"].as_str(), create["path"].as_str()), (Some("GET"), Some("/room/create")));
    assert!(create["params"].as_array().unwrap().iter().any(|p| p["name"] == "user_id" && p["required"] == true));

    let out = meetkit(&["endpoints", "avd", "room.create"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let page = text(&out.stdout);
    assert!(page.contains("GET `/room/create`") && page.contains("| `user_id` | string | required"), "{page}");
    // The response fields and the doc's example: `download_url` without trial and error.
    let out = meetkit(&["endpoints", "avd", "room.mix_record.get"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let page = text(&out.stdout);
    assert!(page.contains("| `data[].download_url` | string |"), "{page}");
    assert!(page.contains("Example response (from the vendor doc)"), "{page}");
    assert!(page.contains("\"download_url\": \"https://avd.nice2meet.cn:9610/attachment?"), "{page}");
    let out = meetkit(&["endpoints", "avd", "room.mix_record.get", "--output", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let get: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fields = get["response"].as_array().unwrap();
    assert!(fields.iter().any(|f| f["path"] == "data[].download_url" && f["type"] == "string"), "{get}");
    assert_eq!(get["examples"][0]["kind"], "success");
    assert!(get["examples"][0]["text"].as_str().unwrap().contains("download_url"), "{get}");
    // A parsable example comes as JSON too; an endpoint without one says so.
    let out = meetkit(&["endpoints", "avd", "room.create", "--output", "json"]);
    let create: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(create["examples"][0]["json"]["room_id"], "12345123456");
    let out = meetkit(&["endpoints", "netease", "account.create"]);
    assert!(text(&out.stdout).contains("The docs give no example response."), "{}", text(&out.stdout));

    let out = meetkit(&["endpoints", "avd", "room.creat"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("did you mean `room.create`"), "{}", text(&out.stderr));

    let out = meetkit(&["capabilities", "--output", "json"]);
    assert!(out.status.success());
    let caps: Value = serde_json::from_slice(&out.stdout).unwrap();
    for vendor in ["avd", "kedacom", "vmr", "netease"] {
        assert!(caps[vendor].as_object().is_some_and(|m| !m.is_empty()), "{vendor}");
    }
}

#[test]
fn output_json_errors_are_one_object_and_run_prints_the_return_value() {
    let out = meetkit(&["call", "--sim", "avd", "room.create", "-p", "topic=x", "--output", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let e: Value = serde_json::from_str(&stderr).unwrap();
    assert_eq!(e["error"]["kind"], "invalid_params");
    assert_eq!((e["error"]["vendor"].as_str(), e["error"]["endpoint"].as_str()), (Some("avd"), Some("room.create")));
    assert_eq!(e["error"]["retryable"], false);

    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("r.rhai");
    std::fs::write(&script, "let r = vendor(\"avd\").call(\"room.create\", #{ user_id: \"ops\", room_id: \"j1\" });\n#{ room: r.room_id, n: 2 }\n").unwrap();
    let out = meetkit(&["run", "--sim", "--no-journal", "--output", "json", script.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, serde_json::json!({"room": "j1", "n": 2}));

    std::fs::write(&script, "vendor(\"avd\").call(\"room.read\", #{ room_id: \"nope\" })\n").unwrap();
    let out = meetkit(&["run", "--sim", "--no-journal", "--output", "json", script.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let e: Value = serde_json::from_str(text(&out.stderr).lines().last().unwrap()).unwrap();
    assert_eq!((e["error"]["kind"].as_str(), e["error"]["vendor"].as_str()), (Some("api"), Some("avd")));
}

#[test]
fn two_verbose_adds_redacted_bodies() {
    let mut args = vec!["-vv"];
    args.extend_from_slice(CREATE);
    let out = meetkit(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let request = stderr
        .lines()
        .find(|l| l.contains("http request") && l.contains(r#"endpoint="room.create" method"#))
        .expect("request line");
    assert!(request.contains("token=***") && request.contains("room_id=v1"), "{request}");
    let token = stderr
        .lines()
        .find(|l| l.contains("http response") && l.contains(r#"endpoint="app.get_token" status"#))
        .expect("token line");
    assert!(token.contains(r#"\"token\":\"***\""#), "the issued token is redacted: {token}");
    let created =
        stderr.lines().find(|l| l.contains("http response") && l.contains(r#"endpoint="room.create" status"#)).unwrap();
    assert!(created.contains(r#"\"room_id\":\"v1\""#), "{created}");
    // One -v has no bodies.
    let mut args = vec!["-v"];
    args.extend_from_slice(CREATE);
    assert!(!text(&meetkit(&args).stderr).contains("http response"));
}
