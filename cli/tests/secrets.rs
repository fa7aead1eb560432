//! No secret reaches anything a user can read: every example workflow in `scripts/` runs
//! through `meetkit -vvv run` (trace level) against the simulator, with a traffic capture and
//! a run journal, and none of the profile's secrets (keys, AppSecret, passwords, the host PIN)
//! nor any token the servers handed out appears in stdout, stderr, the capture, the journal
//! or the downloaded files. The servers sit behind a recording proxy, so the test knows
//! every token they issued. `--allow-secrets` does show them (the check can fail).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use meetkit_sim::{SimOptions, Simulator};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Everything the proxies saw: request paths and headers, response headers and text bodies.
type Seen = Arc<Mutex<Vec<String>>>;

#[derive(Clone)]
struct Proxy {
    target: String,
    /// Simulator `host:port` → proxy `host:port`, applied to every text answer (vmr's
    /// checkJoin names the mcuHost; download links name the file server).
    rewrites: Arc<Mutex<Vec<(String, String)>>>,
    seen: Seen,
}

async fn forward(
    axum::extract::State(p): axum::extract::State<Proxy>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use futures::StreamExt;
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 << 20).await.unwrap();
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut seen = format!("{} {path}\n{:?}\n{}\n", parts.method, parts.headers, String::from_utf8_lossy(&body));
    let mut out = reqwest::Client::new().request(parts.method.clone(), format!("{}{path}", p.target)).body(body);
    for (name, value) in parts.headers.iter().filter(|(n, _)| *n != "host" && *n != "content-length") {
        out = out.header(name, value);
    }
    let answer = out.send().await.unwrap();
    let status = answer.status();
    let mut headers = answer.headers().clone();
    headers.remove("content-length");
    headers.remove("transfer-encoding");
    seen.push_str(&format!("{headers:?}\n"));
    let streamed = headers.get("content-type").is_some_and(|v| v.to_str().unwrap_or("").contains("event-stream"));
    let body = if streamed {
        axum::body::Body::from_stream(answer.bytes_stream().map(|c| c.map_err(std::io::Error::other)))
    } else {
        let bytes = answer.bytes().await.unwrap();
        match String::from_utf8(bytes.to_vec()) {
            Ok(mut text) => {
                seen.push_str(&text);
                for (from, to) in p.rewrites.lock().unwrap().iter() {
                    text = text.replace(from.as_str(), to);
                }
                axum::body::Body::from(text)
            }
            Err(_) => axum::body::Body::from(bytes),
        }
    };
    p.seen.lock().unwrap().push(seen);
    let mut response = axum::response::Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// The simulator, one recording proxy per listener, and a profile pointing at the proxies.
struct World {
    runtime: tokio::runtime::Runtime,
    sim: Option<Simulator>,
    seen: Seen,
    dir: tempfile::TempDir,
    profile: PathBuf,
    /// The profile's secret values.
    secrets: Vec<String>,
}

impl World {
    fn start() -> World {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (sim, mut profile) =
            runtime.block_on(Simulator::start_wired(SimOptions::wired(), None)).expect("simulator starts");
        let seen = Seen::default();
        let rewrites = Arc::new(Mutex::new(Vec::new()));
        let upstreams = [
            sim.avd_base_url(),
            sim.kedacom_base_url(),
            sim.netease_base_url(),
            sim.vmr_base_url(),
            sim.vmr_mcu_base_url(),
            sim.vmr_mcu2_base_url(),
        ];
        let mut proxied = Vec::new();
        for target in upstreams {
            let proxy = Proxy { target: target.clone(), rewrites: rewrites.clone(), seen: seen.clone() };
            let url = runtime.block_on(async {
                let app = axum::Router::new().fallback(forward).with_state(proxy);
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let url = format!("http://{}", listener.local_addr().unwrap());
                tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
                url
            });
            let host = |u: &str| u.trim_end_matches('/').rsplit("//").next().unwrap().to_string();
            rewrites.lock().unwrap().push((host(&target), host(&url)));
            proxied.push((target, url));
        }
        let mut text = profile.to_string();
        for (target, url) in &proxied {
            text = text.replace(target.trim_end_matches('/'), url);
        }
        profile = serde_json::from_str(&text).unwrap();
        let fields = [
            ("avd", "secret_key"),
            ("kedacom", "consumer_secret"),
            ("kedacom", "password"),
            ("vmr", "auth"),
            ("vmr", "password"),
            ("netease", "app_secret"),
        ];
        let secrets = fields.iter().map(|(v, f)| profile[v][f].as_str().unwrap().to_string()).collect::<Vec<_>>();
        assert!(secrets.iter().all(|s| s.len() >= 6), "{secrets:?}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profile.json");
        std::fs::write(&path, profile.to_string()).unwrap();
        World { runtime, sim: Some(sim), seen, dir, profile: path, secrets }
    }

    fn meetkit(&self, args: &[&str], dir: &Path) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_meetkit"))
            .args(args)
            .current_dir(repo())
            .env("MEETKIT_JOURNAL", dir.join("runs.db"))
            .env_remove("MEETKIT_LOG")
            .env_remove("MEETKIT_CONFIG")
            .env_remove("MEETKIT_PROFILE")
            .output()
            .expect("meetkit runs");
        let _ = &self.dir;
        out
    }

    /// Every token, session key and cookie the servers handed out or were sent so far.
    fn issued(&self) -> Vec<String> {
        let seen = self.seen.lock().unwrap();
        let mut out = Vec::new();
        for exchange in seen.iter() {
            for line in exchange.lines() {
                if let Ok(json) = serde_json::from_str::<Value>(line.trim()) {
                    token_values(&json, false, &mut out);
                }
            }
            // Tokens as the client sends them back: query parameters, path segments, headers.
            for (name, sep) in
                [("token=", '&'), ("account_token/", '/'), ("\"token\": \"", '"'), ("SSO_COOKIE_KEY=", ';')]
            {
                for part in exchange.split(name).skip(1) {
                    let value: String = part.chars().take_while(|c| *c != sep && !c.is_whitespace()).collect();
                    out.push(value.trim_matches('"').to_string());
                }
            }
            for part in exchange.split("\"set-cookie\": \"").skip(1) {
                let cookie: String = part.chars().take_while(|c| *c != ';' && *c != '"').collect();
                if let Some((_, value)) = cookie.split_once('=') {
                    out.push(value.to_string());
                }
            }
        }
        out.retain(|t| t.len() >= 8 && t != "<redacted>");
        out.sort();
        out.dedup();
        out
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.runtime.block_on(sim.shutdown());
        }
    }
}

/// Values of token-, cookie- and checksum-named fields (`token`, `accountToken`, `imToken`, ...).
fn token_values(v: &Value, inside: bool, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, v)| {
            let k = k.to_ascii_lowercase();
            let named = ["token", "cookie", "checksum"].iter().any(|p| k.contains(p));
            token_values(v, inside || named, out)
        }),
        Value::Array(items) => items.iter().for_each(|v| token_values(v, inside, out)),
        Value::String(s) if inside => out.push(s.clone()),
        _ => {}
    }
}

/// Every file under `dir`, as text (binary files lossily: a secret would still show).
fn files_text(dir: &Path, out: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_text(&path, out);
        } else {
            out.push_str(&format!("\n== {}\n", path.display()));
            out.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
        }
    }
}

#[test]
fn no_example_workflow_shows_a_secret_even_at_trace_level() {
    let world = World::start();
    let mut runs = Vec::new();
    for entry in std::fs::read_dir(repo().join("scripts")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rhai") {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "record_meeting" {
            for vendor in ["avd", "kedacom", "vmr", "netease"] {
                runs.push((format!("{name}.{vendor}"), path.clone(), vec![format!("vendor={vendor}")]));
            }
        } else {
            runs.push((name, path, Vec::new()));
        }
    }
    assert!(runs.len() >= 9, "{runs:?}");
    let mut outputs = Vec::new();
    for (name, script, sets) in &runs {
        let dir = tempfile::tempdir().unwrap();
        let (out, har) = (dir.path().join("out"), dir.path().join("run.har"));
        let mut args = vec!["-vvv", "run", "--profile-json", world.profile.to_str().unwrap()];
        args.extend(["--out", out.to_str().unwrap(), "--capture", har.to_str().unwrap()]);
        args.extend(["--set", "record_seconds=1"]);
        for set in sets {
            args.extend(["--set", set]);
        }
        args.push(script.to_str().unwrap());
        let run = world.meetkit(&args, dir.path());
        let (stdout, stderr) = (String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
        assert!(run.status.success(), "{name} failed:\n{stdout}\n{stderr}");
        assert!(stderr.contains("TRACE"), "{name}: not run at trace level:\n{stderr}");
        let journal = world.meetkit(&["runs", "list", "--output", "json"], dir.path());
        let mut text = format!("{stdout}\n{stderr}\n{}", String::from_utf8_lossy(&journal.stdout));
        files_text(dir.path(), &mut text);
        assert!(text.contains("\"log\"") && text.contains("runs.db"), "{name}: no capture or journal");
        outputs.push((name.clone(), text));
    }
    // A control: the same check finds the secrets of a script allowed to print them.
    let dir = tempfile::tempdir().unwrap();
    let leak = dir.path().join("leak.rhai");
    let source = r#"print(vendor("avd").call("app.get_token", #{}).token);
print(vendor("vmr").call("meet.check_join", #{}).results.password);"#;
    std::fs::write(&leak, source).unwrap();
    let args = ["-vvv", "run", "--allow-secrets", "--profile-json", world.profile.to_str().unwrap()];
    let control = world.meetkit(&[&args[..], &[leak.to_str().unwrap()]].concat(), dir.path());
    assert!(control.status.success(), "{}", String::from_utf8_lossy(&control.stderr));
    outputs.push(("(control)".into(), String::from_utf8_lossy(&control.stdout).into_owned()));

    let issued = world.issued();
    // Every vendor's auth token (AVD, Kedacom, vmr session) and NetEase's account tokens.
    assert!(issued.len() >= 4, "the proxy saw too few tokens: {issued:?}");
    let mut found = Vec::new();
    for (name, text) in &outputs {
        for secret in world.secrets.iter().chain(&issued) {
            if text.contains(secret.as_str()) {
                found.push(format!("{name}: {secret:?}"));
            }
        }
    }
    let pin = &world.secrets[4];
    let control: Vec<&String> = found.iter().filter(|f| f.starts_with("(control)")).collect();
    assert!(control.len() == 2 && control.iter().any(|f| f.contains(pin.as_str())), "{found:?}");
    assert_eq!(found.len(), 2, "secrets in the output of example workflows: {found:?}");
}

#[test]
fn allow_secrets_shows_what_is_otherwise_redacted() {
    let world = World::start();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("token.rhai");
    std::fs::write(
        &script,
        r#"print(`token=${vendor("avd").call("app.get_token", #{}).token}`);
print(`pin=${vendor("vmr").call("meet.check_join", #{}).results.password}`);
print(`short=${vendor("vmr").call("meet.check_join", #{}).results.sipkey}`);
print(`account=${vendor("netease").call("account.create", #{}).accountToken}`);"#,
    )
    .unwrap();
    let profile = world.profile.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "--no-journal", "--profile-json", profile];
        args.extend_from_slice(extra);
        args.push(script.to_str().unwrap());
        let out = world.meetkit(&args, dir.path());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let redacted = run(&[]);
    assert!(redacted.contains("token=***\npin=***\nshort=1061\naccount=***"), "{redacted}");
    let shown = run(&["--allow-secrets"]);
    let pin = &world.secrets[4];
    assert!(shown.contains(&format!("pin={pin}")), "{shown}");
    let token = shown.lines().find_map(|l| l.strip_prefix("token=")).unwrap();
    let account = shown.lines().find_map(|l| l.strip_prefix("account=")).unwrap();
    let issued = world.issued();
    assert!(issued.iter().any(|t| t == token) && issued.iter().any(|t| t == account), "{shown}\n{issued:?}");

    // `meetkit call` likewise.
    let call = |extra: &[&str]| {
        let mut args = vec!["call", "--profile-json", profile, "avd", "app.get_token"];
        args.extend_from_slice(extra);
        let out = world.meetkit(&args, dir.path());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["token"].as_str().unwrap().to_string()
    };
    assert_eq!(call(&[]), "***");
    let token = call(&["--allow-secrets"]);
    assert!(world.issued().contains(&token), "{token}");
}
