//! `--capture FILE`: every example workflow, `call` and `webhook` run through the `meetkit`
//! binary write a HAR 1.2 file that validates against the HAR 1.2 schema
//! (`tests/testdata/har-1.2.schema.json`) and holds none of the profile's secrets, nor any
//! value of a token-, password-, signature- or cookie-named field.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use meetkit_sim::{SimOptions, Simulator};
use serde_json::{json, Value};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The `meetkit` binary of this build, built first (a no-op when it is fresh) so the test
/// never runs a stale one.
fn meetkit_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let mut build = Command::new(env!("CARGO"));
        build.args(["build", "--quiet", "-p", "meetkit-cli", "--bin", "meetkit"]).current_dir(repo());
        if !cfg!(debug_assertions) {
            build.arg("--release");
        }
        let status = build.status().expect("cannot run cargo to build the meetkit binary");
        assert!(status.success(), "cargo build -p meetkit-cli failed");
        // Test executables live in target/<profile>/deps/, the binary in target/<profile>/.
        let exe = std::env::current_exe().unwrap();
        let bin = exe.parent().unwrap().parent().unwrap().join(format!("meetkit{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.is_file(), "{} is missing", bin.display());
        bin
    })
}

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let text = std::fs::read_to_string(repo().join("tests/testdata/har-1.2.schema.json")).unwrap();
        jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
    })
}

/// The secrets of the simulator's profile (what `--sim` uses): not the identifiers
/// (access key, app key, consumer key, user name, room account).
fn sim_secrets() -> &'static [String] {
    static S: OnceLock<Vec<String>> = OnceLock::new();
    S.get_or_init(|| {
        // On a thread of its own: the first caller may be inside a runtime.
        let profile = std::thread::spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let sim = Simulator::start(SimOptions::default()).await.unwrap();
                let p = sim.profile();
                sim.shutdown().await;
                p
            })
        })
        .join()
        .unwrap();
        let fields = [
            ("avd", "secret_key"),
            ("kedacom", "consumer_secret"),
            ("kedacom", "password"),
            ("vmr", "auth"),
            ("vmr", "password"),
            ("netease", "app_secret"),
        ];
        fields.iter().map(|(v, f)| profile[v][f].as_str().unwrap().to_string()).filter(|s| !s.is_empty()).collect()
    })
}

/// Names whose values are secret (mirrors the capture's rules, written independently).
fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with("pin")
        || ["token", "secret", "password", "passwd", "pwd", "checksum", "sign", "auth", "cookie", "credential"]
            .iter()
            .any(|p| n.contains(p))
}

/// Values of secret-named JSON fields, at any depth, that are not redacted.
fn unredacted_json(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let here = format!("{path}.{k}");
                if secret_name(k) && !v.is_null() && v != "<redacted>" {
                    out.push(format!("{here} = {v}"));
                }
                unredacted_json(v, &here, out);
            }
        }
        Value::Array(items) => {
            items.iter().enumerate().for_each(|(i, v)| unredacted_json(v, &format!("{path}[{i}]"), out))
        }
        _ => {}
    }
}

/// Reads and checks a capture: schema-valid, no profile secret anywhere, every secret-named
/// header, cookie, query parameter, form field and JSON field redacted. Returns the log.
fn check_har(path: &Path, what: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{what}: {}: {e}", path.display()));
    let har: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: not JSON: {e}"));
    let errors: Vec<String> =
        validator().iter_errors(&har).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{what}: not valid HAR 1.2:\n{}", errors.join("\n"));
    for secret in sim_secrets() {
        assert!(!text.contains(secret.as_str()), "{what}: the capture holds the secret {secret:?}");
    }
    let mut leaks = Vec::new();
    for (i, e) in har["log"]["entries"].as_array().unwrap().iter().enumerate() {
        let lists: [(&str, &[&str]); 2] =
            [("request", &["headers", "cookies", "queryString"]), ("response", &["headers", "cookies"])];
        for (side, lists) in lists {
            for &list in lists {
                for nv in e[side][list].as_array().unwrap() {
                    let (name, value) = (nv["name"].as_str().unwrap(), nv["value"].as_str().unwrap());
                    let secret = list == "cookies" || secret_name(name);
                    if secret && value != "<redacted>" {
                        leaks.push(format!("entry {i} {side}.{list} {name} = {value}"));
                    }
                }
            }
        }
        for nv in e["request"]["postData"]["params"].as_array().into_iter().flatten() {
            if secret_name(nv["name"].as_str().unwrap()) && nv["value"] != "<redacted>" {
                leaks.push(format!("entry {i} form field {nv}"));
            }
        }
        for (side, body) in
            [("request", &e["request"]["postData"]["text"]), ("response", &e["response"]["content"]["text"])]
        {
            if let Some(json) = body.as_str().and_then(|t| serde_json::from_str::<Value>(t).ok()) {
                unredacted_json(&json, &format!("entry {i} {side} body"), &mut leaks);
            }
        }
    }
    assert!(leaks.is_empty(), "{what}: unredacted secrets:\n{}", leaks.join("\n"));
    har
}

fn entries(har: &Value) -> &Vec<Value> {
    har["log"]["entries"].as_array().unwrap()
}

fn comments(har: &Value) -> Vec<&str> {
    entries(har).iter().map(|e| e["comment"].as_str().unwrap_or("")).collect()
}

/// `meetkit run --sim --capture FILE scripts/<script>.rhai extra...`; returns the checked log.
fn run_workflow(script: &str, extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("capture.har");
    let out_dir = dir.path().join("out");
    let mut args = vec!["run", "--sim", "--out", out_dir.to_str().unwrap(), "--capture", har.to_str().unwrap()];
    args.extend_from_slice(extra);
    let script_path = format!("scripts/{script}.rhai");
    args.push(&script_path);
    let out = Command::new(meetkit_bin())
        .env("MEETKIT_SIM_DIR", std::env::temp_dir().join("meetkit-tests-no-background-sim"))
        .args(&args)
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script} {extra:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    check_har(&har, &format!("{script} {extra:?}"))
}

#[test]
fn every_example_workflow_writes_a_valid_har_without_secrets() {
    let mut scripts: Vec<String> = std::fs::read_dir(repo().join("scripts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rhai"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    scripts.sort();
    assert!(scripts.len() >= 6, "{scripts:?}");
    let mut downloads = 0;
    let mut callbacks = 0;
    for script in &scripts {
        // The canonical workflow takes the vendor as a variable: capture it on every vendor.
        let vendors: &[&str] = if script == "record_meeting" { &["avd", "kedacom", "vmr", "netease"] } else { &[""] };
        for vendor in vendors {
            let set_vendor = format!("vendor={vendor}");
            let mut extra = vec!["--set", "record_seconds=1"];
            if !vendor.is_empty() {
                extra.extend(["--set", &set_vendor]);
            }
            let har = run_workflow(script, &extra);
            let comments = comments(&har);
            assert!(comments.len() >= 3, "{script} {vendor}: only {} entries", comments.len());
            downloads += comments.iter().filter(|c| c.starts_with("download")).count();
            callbacks += comments.iter().filter(|c| c.starts_with("received")).count();
        }
    }
    // Downloads and incoming NetEase callbacks are recorded too, not only calls.
    assert!(downloads >= 5, "{downloads} download entries");
    assert!(callbacks >= 2, "{callbacks} callback entries");
}

#[test]
fn auth_calls_and_the_calls_after_them_are_recorded_with_tokens_redacted() {
    let har = run_workflow("avd_record_meeting", &["--set", "record_seconds=1"]);
    let all = entries(&har);
    assert!(all[0]["comment"].as_str().unwrap().starts_with("avd app.get_token (attempt 1"), "{}", all[0]);
    assert_eq!(all[0]["response"]["status"], 200);
    let body: Value = serde_json::from_str(all[0]["response"]["content"]["text"].as_str().unwrap()).unwrap();
    assert_eq!(body["token"], "<redacted>");
    let create = &all[1];
    assert!(create["request"]["url"].as_str().unwrap().contains("token=<redacted>"), "{create}");
    let room_id = create["request"]["queryString"].as_array().unwrap().iter().find(|q| q["name"] == "room_id").unwrap();
    assert_eq!(room_id["value"], "meetkit-demo");
    // The download entry: status and size, no body.
    let download = all.iter().find(|e| e["comment"].as_str().unwrap().starts_with("download")).unwrap();
    assert_eq!(download["response"]["status"], 200);
    assert!(download["response"]["content"]["size"].as_u64().unwrap() > 0);
    assert!(download["response"]["content"].get("text").is_none());
}

#[test]
fn call_writes_a_capture_and_a_failed_call_still_leaves_a_valid_one() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("call.har");
    let run = |endpoint: &str, params: Value| {
        Command::new(meetkit_bin())
            .env("MEETKIT_SIM_DIR", std::env::temp_dir().join("meetkit-tests-no-background-sim"))
            .args(["call", "--sim", "--capture", har.to_str().unwrap(), "avd", endpoint])
            .args(["--params", &params.to_string()])
            .output()
            .unwrap()
    };
    let out = run("room.create", json!({"room_id": "r1", "user_id": "ops"}));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = check_har(&har, "call room.create");
    assert_eq!(comments(&log).len(), 2, "{:?}", comments(&log));
    // room.read of a room that does not exist: the vendor error exits 3, the capture is complete.
    let out = run("room.read", json!({"room_id": "r1"}));
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let log = check_har(&har, "call room.read");
    let last = entries(&log).last().unwrap();
    assert!(last["comment"].as_str().unwrap().starts_with("avd room.read"), "{last}");
    assert!(last["response"]["content"]["text"].as_str().unwrap().contains("ret"), "{last}");
}

#[test]
fn an_unwritable_capture_file_is_a_file_error() {
    let out = Command::new(meetkit_bin())
        .env("MEETKIT_SIM_DIR", std::env::temp_dir().join("meetkit-tests-no-background-sim"))
        .args(["call", "--sim", "--capture", "/nonexistent-dir/x.har", "avd", "app.get_system_info"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(8), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent-dir/x.har"));
}

/// Kills the child when dropped, so a failed assertion never leaves a receiver running.
struct Reaper(std::process::Child);
impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn webhook_records_each_callback_and_the_file_survives_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("webhook.har");
    let profile = dir.path().join("profile.json");
    let (app_key, app_secret) = ("hook-app-key", "hook-app-secret-value");
    let line = json!({"netease": {"base_url": "http://127.0.0.1:9", "app_key": app_key, "app_secret": app_secret}});
    std::fs::write(&profile, line.to_string()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(meetkit_bin())
        .env("MEETKIT_SIM_DIR", std::env::temp_dir().join("meetkit-tests-no-background-sim"))
        .args(["webhook", "netease", "--port", &port.to_string(), "--profile-json", profile.to_str().unwrap()])
        .args(["--capture", har.to_str().unwrap()])
        .env("MEETKIT_JOURNAL", dir.path().join("runs.db"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Reaper(child);
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let url = format!("http://127.0.0.1:{port}/netease/callback");
    let body = json!({"msgType": 1, "msgBody": {"meetingUniqueId": 7, "meetingId": "123", "type": 3}}).to_string();
    let send = |checksum: Option<&str>| {
        let cur_time =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis().to_string();
        let nonce = "n0nce";
        let good = meetkit::vendors::netease::sign::callback_checksum(app_secret, nonce, &cur_time, body.as_bytes());
        let checksum = checksum.unwrap_or(&good).to_string();
        let (url, body) = (url.clone(), body.clone());
        rt.block_on(async move {
            // The receiver may still be binding its port: retry the connection for a while.
            let started = Instant::now();
            loop {
                let sent = reqwest::Client::new()
                    .post(&url)
                    .header("AppKey", app_key)
                    .header("Nonce", nonce)
                    .header("CurTime", &cur_time)
                    .header("CheckSum", &checksum)
                    .body(body.clone())
                    .send()
                    .await;
                match sent {
                    Ok(r) => return r.status().as_u16(),
                    Err(e) if e.is_connect() && started.elapsed() < Duration::from_secs(30) => {
                        tokio::time::sleep(Duration::from_millis(50)).await
                    }
                    Err(e) => panic!("cannot reach the receiver: {e}"),
                }
            }
        })
    };
    assert_eq!(send(None), 200);
    let mut printed = String::new();
    stdout.read_line(&mut printed).unwrap();
    assert!(printed.contains("\"MEETING_") || printed.contains("\"type\""), "{printed}");
    assert_eq!(send(Some("0000")), 401);

    // Both callbacks are entries; the receiver records after answering, so wait for the file.
    let started = Instant::now();
    let log = loop {
        let log: Value = serde_json::from_str(&std::fs::read_to_string(&har).unwrap()).unwrap();
        if entries(&log).len() >= 2 || started.elapsed() > Duration::from_secs(30) {
            break log;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Killed without any chance to clean up: the file is still a complete HAR document.
    drop(child);
    let log_after_kill = check_har(&har, "webhook");
    assert_eq!(log_after_kill, log);
    let text = std::fs::read_to_string(&har).unwrap();
    assert!(!text.contains(app_secret) && !text.contains(app_key), "{text}");
    let all = entries(&log);
    assert_eq!(all.len(), 2, "{log}");
    assert_eq!((all[0]["response"]["status"].as_u64(), all[1]["response"]["status"].as_u64()), (Some(200), Some(401)));
    assert_eq!(all[0]["request"]["method"], "POST");
    assert_eq!(all[0]["request"]["postData"]["text"], body);
    let checksum = all[0]["request"]["headers"].as_array().unwrap().iter().find(|h| h["name"] == "checksum").unwrap();
    assert_eq!(checksum["value"], "<redacted>");
}

/// A forwarding proxy in front of one simulator listener that keeps every raw exchange, so
/// the test knows the tokens the server handed out. Text answers are rewritten with
/// `rewrites` (vmr's check_join names the mcuHost, which must be proxied too); event
/// streams pass through unrecorded.
#[derive(Clone)]
struct Proxy {
    target: String,
    rewrites: Vec<(String, String)>,
    seen: std::sync::Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, axum::http::HeaderMap, String)>>>,
}

async fn start_proxy(target: String, rewrites: Vec<(String, String)>) -> (String, Proxy) {
    let proxy = Proxy { target, rewrites, seen: Default::default() };
    let app = axum::Router::new().fallback(forward).with_state(proxy.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, proxy)
}

async fn forward(
    axum::extract::State(p): axum::extract::State<Proxy>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use futures::StreamExt;
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 << 20).await.unwrap();
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut out = reqwest::Client::new().request(parts.method.clone(), format!("{}{path}", p.target)).body(body);
    for (name, value) in parts.headers.iter().filter(|(n, _)| *n != "host" && *n != "content-length") {
        out = out.header(name, value);
    }
    let answer = out.send().await.unwrap();
    let status = answer.status();
    let mut headers = answer.headers().clone();
    headers.remove("content-length");
    headers.remove("transfer-encoding");
    let streamed = headers.get("content-type").is_some_and(|v| v.to_str().unwrap_or("").contains("event-stream"));
    let body = if streamed {
        axum::body::Body::from_stream(answer.bytes_stream().map(|c| c.map_err(std::io::Error::other)))
    } else {
        match String::from_utf8(answer.bytes().await.unwrap().to_vec()) {
            Ok(mut text) => {
                for (from, to) in &p.rewrites {
                    text = text.replace(from.as_str(), to);
                }
                p.seen.lock().unwrap().push((parts.headers.clone(), headers.clone(), text.clone()));
                axum::body::Body::from(text)
            }
            // Recordings and other binary bodies pass through untouched.
            Err(binary) => axum::body::Body::from(binary.into_bytes()),
        }
    };
    let mut response = axum::response::Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// Values of token-, password-, secret-, signature-, auth- and cookie-named JSON fields.
fn token_values(v: &Value, inside: bool, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, v)| {
            let k = k.to_ascii_lowercase();
            let named = ["token", "password", "secret", "sign", "auth", "cookie"].iter().any(|p| k.contains(p));
            token_values(v, inside || named, out)
        }),
        Value::Array(items) => items.iter().for_each(|v| token_values(v, inside, out)),
        Value::String(s) if inside => out.push(s.clone()),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_handed_out_at_run_time_never_reach_the_capture() {
    let listen = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let mut options = SimOptions::default();
    options.netease.callback_url = Some(format!("http://{listen}/netease/callback"));
    options.netease.record_delay = Duration::from_secs(3);
    let sim = Simulator::start(options).await.unwrap();
    let mcu = sim.vmr_mcu_base_url();
    let (mcu_proxy, mcu_seen) = start_proxy(mcu.clone(), vec![]).await;
    let host = |url: &str| url.trim_start_matches("http://").to_string();
    let proxies = [
        ("avd", "base_url", start_proxy(sim.avd_base_url(), vec![]).await),
        ("kedacom", "base_url", start_proxy(sim.kedacom_base_url(), vec![]).await),
        ("vmr", "api_server", start_proxy(sim.vmr_base_url(), vec![(host(&mcu), host(&mcu_proxy))]).await),
        ("netease", "base_url", start_proxy(sim.netease_base_url(), vec![]).await),
    ];
    let mut profile = sim.profile();
    for (vendor, field, (url, _)) in &proxies {
        profile[vendor][field] = Value::String(url.clone());
    }
    profile["netease"]["callback_listen"] = json!(listen);
    profile["netease"]["callback_path"] = json!("/netease/callback");
    let dir = tempfile::tempdir().unwrap();
    let profile_path = dir.path().join("profile.json");
    std::fs::write(&profile_path, profile.to_string()).unwrap();

    let mut captures = String::new();
    for script in ["avd_record_meeting", "kedacom_book_and_run", "vmr_moderate_and_record", "netease_meeting_lifecycle"]
    {
        let har = dir.path().join(format!("{script}.har"));
        let args: Vec<String> = [
            "run",
            "--profile-json",
            profile_path.to_str().unwrap(),
            "--capture",
            har.to_str().unwrap(),
            "--out",
            dir.path().join("out").to_str().unwrap(),
            "--set",
            "record_seconds=1",
            &format!("scripts/{script}.rhai"),
        ]
        .map(String::from)
        .to_vec();
        let out = tokio::task::spawn_blocking(move || {
            Command::new(meetkit_bin())
                .env("MEETKIT_SIM_DIR", std::env::temp_dir().join("meetkit-tests-no-background-sim"))
                .args(&args)
                .current_dir(repo())
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
        check_har(&har, script);
        captures.push_str(&std::fs::read_to_string(&har).unwrap());
    }

    // Every token the servers handed out or were sent, as the proxies saw them in the clear.
    let mut per_vendor = Vec::new();
    let seen = proxies.iter().map(|(v, _, (_, p))| (*v, p)).chain([("vmr", &mcu_seen)]);
    for (vendor, proxy) in seen {
        let mut tokens = Vec::new();
        for (request_headers, response_headers, body) in proxy.seen.lock().unwrap().iter() {
            for (name, value) in request_headers.iter().chain(response_headers.iter()) {
                if ["token", "cookie", "set-cookie"].contains(&name.as_str()) {
                    tokens.push(value.to_str().unwrap().split(';').next().unwrap().to_string());
                }
            }
            if let Ok(json) = serde_json::from_str::<Value>(body) {
                token_values(&json, false, &mut tokens);
            }
        }
        tokens.retain(|t| t.len() >= 6 && !sim_secrets().contains(t));
        for token in &tokens {
            assert!(!captures.contains(token.as_str()), "{vendor}: the token {token:?} is in a capture");
        }
        per_vendor.push((vendor, tokens.len()));
    }
    // The proxies did see tokens of every vendor: the AVD token, Kedacom's account_token and
    // login cookie, the vmr session token (on the mcuHost), NetEase's accountToken.
    for vendor in ["avd", "kedacom", "vmr", "netease"] {
        let n: usize = per_vendor.iter().filter(|(v, _)| *v == vendor).map(|(_, n)| n).sum();
        assert!(n > 0, "no {vendor} token seen: {per_vendor:?}");
    }
    sim.shutdown().await;
}
