//! The fault matrix: every vendor, on a create and on a read, through every fault a network
//! or a server can throw at it. Each cell must end in transparent recovery or a typed error
//! (never a hang: the transport's timeouts bound every call), and no create is ever sent
//! twice. The matrix as this test produces it is in RELIABILITY.md (checked here; regenerate
//! with `MEETKIT_UPDATE_DOCS=1 cargo test -p meetkit-tests --test fault_matrix`).

use std::path::Path;

use meetkit::config::Profile;
use meetkit::Client;
use meetkit_sim::{SimOptions, Simulator};
use serde_json::{json, Value};

/// One vendor's pair of calls.
struct Subject {
    vendor: &'static str,
    create: (&'static str, fn(usize) -> Value),
    read: (&'static str, Value),
    /// Admin base URL of the server that serves these endpoints.
    server: fn(&Simulator) -> String,
    /// Where a token/session can be expired, if the vendor has one.
    expire: Option<&'static str>,
}

fn subjects() -> Vec<Subject> {
    vec![
        Subject {
            vendor: "avd",
            create: ("room.create", |n| json!({"room_id": format!("fm-{n}"), "user_id": "ops"})),
            read: ("room.read", json!({"room_id": "fm-seed"})),
            server: |s| s.avd_base_url(),
            expire: Some("/_sim/avd/tokens/expire"),
        },
        Subject {
            vendor: "kedacom",
            create: ("virtual_meeting_rooms.create", |n| {
                json!({
                    "name": format!("fm room {n}"), "max_join_mt": 8, "force_mute": 0, "preoccupy_resource": 0,
                    "video_formats": [{"format": 4, "resolution": 12, "frame": 30, "bitrate": 2048}],
                })
            }),
            read: ("virtual_meeting_rooms.list", json!({})),
            server: |s| s.kedacom_base_url(),
            expire: Some("/_sim/kedacom/tokens/expire"),
        },
        Subject {
            vendor: "vmr",
            create: (
                "conference.dial",
                |n| json!({"role": "guest", "destination": format!("sip:{n}@10.0.0.9"), "protocol": "sip"}),
            ),
            read: ("conference.status", json!({})),
            server: |s| s.vmr_mcu_base_url(),
            expire: Some("/_sim/vmr/tokens/expire"),
        },
        Subject {
            vendor: "netease",
            create: ("account.create", |n| json!({"shortId": format!("{}", 700_000 + n)})),
            read: ("meeting.list", json!({})),
            server: |s| s.netease_base_url(),
            expire: None,
        },
    ]
}

/// The faults of the matrix: a name and the `/_sim/faults` spec (paths added per call).
fn faults() -> Vec<(&'static str, Value)> {
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + std::time::Duration::from_secs(1));
    vec![
        ("latency past the timeout", json!({"latency_ms": 1500})),
        ("HTTP 500", json!({"error_status": 500})),
        ("HTTP 503", json!({"error_status": 503})),
        ("429, Retry-After seconds", json!({"error_status": 429, "retry_after": "0"})),
        ("429, Retry-After HTTP-date", json!({"error_status": 429, "retry_after": date})),
        ("reset before the answer", json!({"drop_rate": 1.0})),
        ("reset mid-body", json!({"drop_after_bytes": 5})),
        ("malformed JSON", json!({"malformed_rate": 1.0})),
        ("wrong content type", json!({"content_type": "text/html"})),
        ("stalled body", json!({"stall_after_bytes": 5, "stall_ms": 1500})),
    ]
}

async fn post(url: String, body: Value) {
    let r = reqwest::Client::new().post(url).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap_or_default());
}

async fn stats(base: &str) -> Value {
    reqwest::get(format!("{base}/_sim/stats")).await.unwrap().json::<Value>().await.unwrap()["requests"].clone()
}

/// The paths of requests made since `before`.
fn new_paths(before: &Value, after: &Value) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for (path, n) in after.as_object().into_iter().flatten() {
        let was = before.get(path).and_then(Value::as_u64).unwrap_or(0);
        let now = n.as_u64().unwrap_or(0);
        if now > was {
            out.push((path.clone(), now - was));
        }
    }
    out
}

/// Which of the request paths a call made is the endpoint's own (its table path, whose
/// `{placeholders}` match any segment, at the end of the request path).
fn path_of(vendor: &str, endpoint: &str, paths: Vec<(String, u64)>) -> String {
    let spec = Client::spec(vendor.parse().unwrap(), endpoint).unwrap();
    let want: Vec<&str> = spec.path.trim_matches('/').split('/').collect();
    paths
        .into_iter()
        .map(|(p, _)| p)
        .find(|p| {
            let got: Vec<&str> = p.trim_matches('/').split('/').collect();
            got.len() >= want.len()
                && got[got.len() - want.len()..].iter().zip(&want).all(|(g, w)| w.starts_with('{') || g == w)
        })
        .unwrap_or_else(|| panic!("{vendor} {endpoint}: no request to {}", spec.path))
}

fn outcome(r: &meetkit::Result<Value>, attempts: u64) -> String {
    match r {
        Ok(_) if attempts > 1 => format!("recovered ({attempts} attempts)"),
        Ok(_) => "ok (1 attempt)".to_string(),
        Err(e) => format!("error `{}`", e.kind()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_vendor_recovers_or_fails_typed_and_never_sends_a_create_twice_assumption_common_retries() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let mut profile = sim.profile();
    profile["transport"] = json!({"request_timeout_secs": 1.0, "backoff_base_ms": 5, "backoff_max_ms": 50});
    let client = Client::from_profile(&Profile::from_json("sim", &profile).unwrap()).unwrap();
    client.call("avd", "room.create", json!({"room_id": "fm-seed", "user_id": "ops"})).await.unwrap();

    let mut table = String::from("| vendor | fault | create | read |\n|---|---|---|---|\n");
    let mut n = 0;
    for s in subjects() {
        let base = (s.server)(&sim);
        // Learn each call's path (and open sessions) with one clean call each.
        n += 1;
        let before = stats(&base).await;
        client.call(s.vendor, s.create.0, (s.create.1)(n)).await.unwrap_or_else(|e| panic!("{}: {e}", s.vendor));
        let create_path = path_of(s.vendor, s.create.0, new_paths(&before, &stats(&base).await));
        let before = stats(&base).await;
        client.call(s.vendor, s.read.0, s.read.1.clone()).await.unwrap_or_else(|e| panic!("{}: {e}", s.vendor));
        let read_path = path_of(s.vendor, s.read.0, new_paths(&before, &stats(&base).await));

        let mut cells: Vec<(String, Value)> = faults().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        if s.expire.is_some() {
            cells.push(("token/session expired".to_string(), Value::Null));
        }
        for (fault, spec) in cells {
            let mut row = Vec::new();
            for (kind, path) in [("create", &create_path), ("read", &read_path)] {
                n += 1;
                match (&spec, s.expire) {
                    (Value::Null, Some(expire)) => post(format!("{base}{expire}"), json!({})).await,
                    _ => {
                        let mut spec = spec.clone();
                        spec["paths"] = json!([path]);
                        spec["count"] = json!(1);
                        post(format!("{base}/_sim/faults"), spec).await;
                    }
                }
                let before = stats(&base).await;
                let result = match kind {
                    "create" => client.call(s.vendor, s.create.0, (s.create.1)(n)).await,
                    _ => client.call(s.vendor, s.read.0, s.read.1.clone()).await,
                };
                reqwest::Client::new().delete(format!("{base}/_sim/faults")).send().await.unwrap();
                let sent =
                    new_paths(&before, &stats(&base).await).into_iter().find(|(p, _)| p == path).map_or(0, |(_, k)| k);
                let cell = format!("{} {kind} / {fault}", s.vendor);
                if kind == "create" && spec.is_null() {
                    // Refused for its token, not acted on: sent again once with the new one.
                    assert!(sent <= 2 && result.is_ok(), "{cell}: sent {sent} times: {result:?}");
                } else if kind == "create" {
                    assert_eq!(sent, 1, "{cell}: the create was sent {sent} times ({result:?})");
                }
                match &result {
                    Ok(_) => {}
                    Err(e) => {
                        // A typed error naming the vendor and the endpoint.
                        assert_eq!(e.vendor().map(|v| v.to_string()).as_deref(), Some(s.vendor), "{cell}: {e:?}");
                        let transient = !matches!(fault.as_str(), "malformed JSON" | "wrong content type");
                        if kind == "read" && transient {
                            panic!("{cell}: a read must recover from a passing fault, got {e}");
                        }
                        if kind == "create" && fault.starts_with("reset") || fault.starts_with("stalled") {
                            assert_eq!(e.kind(), "outcome_unknown", "{cell}: {e}");
                            assert!(!e.is_retryable(), "{cell}");
                        }
                    }
                }
                row.push(outcome(&result, sent));
            }
            table.push_str(&format!("| {} | {fault} | {} | {} |\n", s.vendor, row[0], row[1]));
        }
    }
    sim.shutdown().await;

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../RELIABILITY.md");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    const START: &str = "<!-- fault-matrix:start -->\n";
    const END: &str = "<!-- fault-matrix:end -->";
    let (head, rest) = text.split_once(START).expect("RELIABILITY.md has the fault-matrix start marker");
    let (_, tail) = rest.split_once(END).expect("RELIABILITY.md has the fault-matrix end marker");
    let fresh = format!("{head}{START}{table}{END}{tail}");
    if std::env::var_os("MEETKIT_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    assert!(
        text == fresh,
        "RELIABILITY.md's fault matrix differs from what this test produced:\n{table}\nregenerate with \
         `MEETKIT_UPDATE_DOCS=1 cargo test -p meetkit-tests --test fault_matrix`"
    );
}

/// The documented pattern: a create wrapped in `retry()` whose answer is lost after the server
/// made the object. `retry()` does not resend it (the error is `outcome_unknown`, not
/// retryable), so exactly one object exists afterwards, on every vendor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_never_duplicates_a_create_whose_answer_was_lost_assumption_common_retries() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let client = Client::from_profile(&Profile::from_json("sim", &sim.profile()).unwrap()).unwrap();
    for (i, s) in subjects().into_iter().enumerate() {
        let base = (s.server)(&sim);
        // A clean call first: it opens sessions and tells the endpoint's path.
        let before = stats(&base).await;
        client.call(s.vendor, s.create.0, (s.create.1)(1000 + i)).await.unwrap();
        let path = path_of(s.vendor, s.create.0, new_paths(&before, &stats(&base).await));
        post(format!("{base}/_sim/faults"), json!({"drop_after_bytes": 5, "paths": [path], "count": 1})).await;
        let params = (s.create.1)(2000 + i);
        let source = format!(
            "let v = vendor(\"{}\");\nlet k = \"no error\";\ntry {{ retry(|| v.call(\"{}\", {}), 5, 0.01); }} catch (e) {{ k = e.kind; }}\nk",
            s.vendor,
            s.create.0,
            rhai_map(&params)
        );
        let before = stats(&base).await;
        let (c, handle) = (client.clone(), tokio::runtime::Handle::current());
        let kind = tokio::task::spawn_blocking(move || {
            meetkit::script::run_source(&source, Some("retry.rhai"), &c, handle, Default::default())
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(kind, json!("outcome_unknown"), "{}", s.vendor);
        let sent: u64 =
            new_paths(&before, &stats(&base).await).into_iter().filter(|(p, _)| *p == path).map(|(_, n)| n).sum();
        assert_eq!(sent, 1, "{}: the create reached the server {sent} times", s.vendor);
    }
    sim.shutdown().await;
}

/// A JSON object as a Rhai object map literal.
fn rhai_map(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let fields: Vec<String> = m.iter().map(|(k, v)| format!("{k}: {}", rhai_map(v))).collect();
            format!("#{{ {} }}", fields.join(", "))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(rhai_map).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}
