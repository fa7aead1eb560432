//! The vendor docs' own examples, replayed against meetkit's client without the simulator.
//!
//! `tests/testdata/doc_examples/<vendor>.json` holds every request example of the vendor's docs
//! (as the doc shows it, normalised, with the normalisation recorded) and every success and
//! failure response example. For each request example the client is called with the
//! parameters a caller would pass, and the request it sends to a capture server is compared with
//! the example: method, path, query, body and non-secret headers (secrets: presence only). For
//! each response example the capture server serves it and the decoded result must be the
//! documented payload (envelope stripped) or the typed error with the documented code.
//!
//! The test data, per vendor (`{vendor, doc, requests: [...], responses: [...]}`):
//!
//! * a request: `id` (`<endpoint>#<example>`), `endpoint`, `doc_ref` (doc number, quoted heading,
//!   line), `raw` (the example as the doc prints it), `normalised` (the URL or JSON it means),
//!   `normalisation` (every change made, in words), the documented `method`, `path`, `query`
//!   (decoded), `secret_query` (compared by presence), `body` (`null` = none; `{kind: json,
//!   value}`, `{kind: form, fields, secret_fields, json_fields}` (a form field holding JSON
//!   text), `{kind: multipart, fields}`, `{kind: none}`, `{kind: unchecked}` when the example shows no
//!   body; json bodies may name `secret_fields`), `headers` (lower-case name → value),
//!   `secret_headers`, and `params`: what a caller passes to produce it (`@name`: a test file).
//!   Values the example does not show (path keys, vmr room and participant) are the doc's own
//!   example values elsewhere, named in `normalisation`.
//! * a response: `id`, `endpoint`, `kind` (`success`/`error`), `doc_ref`, `raw`, `normalised`,
//!   `normalisation`, `http_status`, `expect` (`{payload}` = the documented payload without its
//!   envelope, or `{error: {kind: api, code, message}}`), `raw_expect` (`same`: the raw text must
//!   decode the same, it only has quirks meetkit reads leniently — trailing commas, `//`
//!   comments, U+00A0; `same_or_decode_error`: text no server sends — page breaks, hard-wrapped
//!   strings, curly quotes, placeholders — may instead give a typed `Decode` error), and
//!   optionally `params` for the call (else the endpoint's request example's).
//!
//! Differences are failures unless listed in `known_differences.json`; a listed difference that
//! no longer occurs is a failure too, naming the entries to delete. Each test prints
//! `doc examples: <vendor>: N requests, M responses checked; K known differences` (run with
//! `-- --nocapture`) and writes it to `target/doc_examples_summary/<vendor>.txt`.

mod doc_examples {
    pub mod capture;
}

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use doc_examples::capture::{to_text, AuthAnswers, CaptureServer, Captured, Programmed, KEDACOM_COOKIE, KEDACOM_TOKEN};
use meetkit::config::Profile;
use meetkit::{Client, Error};
use serde_json::{json, Map, Value};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/doc_examples");

/// The AVD credentials of the doc's own get_token example.
const AVD_ACCESS_KEY: &str = "demo_access";
const NETEASE_APP_KEY: &str = "doc-app-key";
const NETEASE_APP_SECRET: &str = "doc-app-secret";
const VMR_ROOM: &str = "zjvmr@myvmr.cn";

fn load(name: &str) -> Value {
    let path = format!("{DATA}/{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("`{key}` missing in {v}"))
}

/// One difference between a doc example and what meetkit does.
#[derive(Clone, Debug)]
struct Diff {
    endpoint: String,
    example: String,
    field: String,
    detail: String,
}

struct Run {
    vendor: &'static str,
    server: CaptureServer,
    client: Client,
    data: Value,
    diffs: Vec<Diff>,
    files: tempfile::TempDir,
    requests: usize,
    responses: usize,
}

impl Run {
    async fn new(vendor: &'static str) -> Run {
        let data = load(&format!("{vendor}.json"));
        assert_eq!(s(&data, "vendor"), vendor);
        let find = |id: &str| -> Option<&Value> { data["responses"].as_array()?.iter().find(|r| r["id"] == id) };
        let mut answers = AuthAnswers::default();
        if vendor == "avd" {
            // The doc's get_token success example, as the doc shows it (trailing comma included).
            answers.avd_get_token = find("app.get_token#success").map(|r| s(r, "raw").to_string());
        }
        let server = CaptureServer::start(AuthAnswers::default()).await;
        if vendor == "vmr" {
            // checkJoin's example (normalised: its placeholders are not JSON) with mcuHost = this server.
            let mut check_join = find("meet.check_join#success").unwrap()["normalised"].clone();
            check_join["results"]["mcuHost"] = json!(server.addr.to_string());
            answers.vmr_check_join = Some(to_text(&check_join));
            answers.vmr_new_session = find("session.new#success").map(|r| to_text(&r["normalised"]));
            answers.vmr_refresh_session = find("session.refresh#success").map(|r| to_text(&r["normalised"]));
        }
        server.set_answers(answers);
        let base = server.base();
        let section = match vendor {
            "avd" => json!({"base_url": base, "access_key": AVD_ACCESS_KEY, "secret_key": "demo_secret"}),
            "kedacom" => {
                json!({"base_url": base, "consumer_key": "doc-consumer", "consumer_secret": "doc-consumer-secret",
                                "username": "doc-user", "password": "doc-password"})
            }
            // auth 800: the doc's private-cloud example; the PIN 123456: new_session's header example.
            "vmr" => json!({"api_server": base, "auth": "800", "account": VMR_ROOM, "password": "123456",
                            "display_name": "jiang", "mcu_scheme": "http"}),
            "netease" => json!({"base_url": base, "app_key": NETEASE_APP_KEY, "app_secret": NETEASE_APP_SECRET}),
            _ => unreachable!(),
        };
        let profile_json = json!({vendor: section, "transport": {"max_attempts": 1}});
        let client = Client::from_profile(&Profile::from_json("docex", &profile_json).unwrap()).unwrap();
        let files = tempfile::tempdir().unwrap();
        // The upload example's file (AVD accepts png/jpg/mp3/mp4/avi): a few bytes are enough.
        std::fs::write(files.path().join("test.jpg"), b"\xff\xd8\xff\xe0doc-example\xff\xd9").unwrap();
        // Kedacom's meeting_files.upload (file_type 1 = txt).
        std::fs::write(files.path().join("test.txt"), b"doc example\n").unwrap();
        Run { vendor, server, client, data, diffs: Vec::new(), files, requests: 0, responses: 0 }
    }

    fn diff(&mut self, endpoint: &str, example: &str, field: impl Into<String>, detail: impl Into<String>) {
        self.diffs.push(Diff {
            endpoint: endpoint.into(),
            example: example.into(),
            field: field.into(),
            detail: detail.into(),
        });
    }

    /// The parameters as the client takes them: `@name` file references become paths.
    fn params(&self, params: &Value) -> Value {
        let mut out = Map::new();
        for (k, v) in params.as_object().into_iter().flatten() {
            let v = match v.as_str().and_then(|t| t.strip_prefix('@')) {
                Some(file) => json!(self.files.path().join(file).to_string_lossy()),
                None => v.clone(),
            };
            out.insert(k.clone(), v);
        }
        Value::Object(out)
    }

    /// What the capture server answers to a request example: the endpoint's success example
    /// when the doc has one, else the vendor's plain success envelope.
    fn answer_for_request(&self, endpoint: &str) -> Vec<u8> {
        let success = self.data["responses"].as_array().unwrap().iter().find(|r| {
            r["endpoint"] == endpoint && r["kind"] == "success" && r.get("expect").unwrap()["payload"] != Value::Null
        });
        if let Some(r) = success {
            return to_text(&r["normalised"]).into_bytes();
        }
        let plain = match self.vendor {
            "avd" => json!({"ret": 0, "msg": "success"}),
            "kedacom" => json!({"success": 1}),
            "vmr" if endpoint.starts_with("record.") || endpoint.starts_with("live.") => {
                json!({"code": "200", "data": null, "message": null, "state": 1})
            }
            "vmr" => json!({"status": "success", "result": true}),
            _ => json!({"code": 200}),
        };
        to_text(&plain).into_bytes()
    }

    async fn check_requests(&mut self) {
        let examples = self.data["requests"].as_array().cloned().unwrap_or_default();
        for ex in &examples {
            let endpoint = s(ex, "endpoint");
            let example = s(ex, "id").split('#').nth(1).unwrap().to_string();
            let body = self.answer_for_request(endpoint);
            self.server.program(Programmed {
                own_path: s(ex, "path").to_string(),
                status: 200,
                body,
                content_type: "application/json; charset=utf-8",
            });
            let params = self.params(&ex["params"]);
            let result = self.client.call(self.vendor, endpoint, params).await;
            self.requests += 1;
            if let Err(e) = &result {
                let field = if matches!(e, Error::InvalidParams { .. }) { "params" } else { "call" };
                self.diff(endpoint, &example, field, e.to_string());
                if field == "params" {
                    continue;
                }
            }
            let Some(captured) = self.server.last_request().or_else(|| self.server.last_any()) else {
                self.diff(endpoint, &example, "request", "no request reached the server");
                continue;
            };
            // The token the auth answer handed out: AVD get_token's, vmr new_session's.
            let issued_token = self.data["responses"]
                .as_array()
                .and_then(|rs| {
                    rs.iter().find(|r| r["id"] == "app.get_token#success" || r["id"] == "session.new#success")
                })
                .and_then(|r| r["normalised"]["token"].as_str().or(r["normalised"]["result"]["token"].as_str()))
                .map(str::to_string);
            for (field, detail) in compare_request(self.vendor, ex, &captured, issued_token.as_deref()) {
                self.diff(endpoint, &example, field, detail);
            }
        }
    }

    async fn check_responses(&mut self) {
        let examples = self.data["responses"].as_array().cloned().unwrap_or_default();
        let requests = self.data["requests"].as_array().cloned().unwrap_or_default();
        for ex in &examples {
            let endpoint = s(ex, "endpoint");
            let example = s(ex, "id").split('#').nth(1).unwrap().to_string();
            let params = match ex.get("params") {
                Some(p) => p.clone(),
                None => requests
                    .iter()
                    .find(|r| r["endpoint"] == endpoint)
                    .map(|r| r["params"].clone())
                    .unwrap_or(json!({})),
            };
            let params = self.params(&params);
            let own_path = requests
                .iter()
                .find(|r| r["endpoint"] == endpoint)
                .map(|r| s(r, "path").to_string())
                .unwrap_or_else(|| own_path_of(self.vendor, endpoint));
            let normalised = to_text(&ex["normalised"]).into_bytes();
            let expect = &ex["expect"];
            // The normalised example must decode to the documented payload / error.
            self.server.program(Programmed {
                own_path: own_path.clone(),
                status: ex["http_status"].as_u64().unwrap_or(200) as u16,
                body: normalised.clone(),
                content_type: "application/json; charset=utf-8",
            });
            let outcome = self.client.call(self.vendor, endpoint, params.clone()).await;
            self.responses += 1;
            if let Err(e @ Error::InvalidParams { .. }) = &outcome {
                // The example's parameters are refused before anything is sent: nothing to decode.
                self.diff(endpoint, &example, "params", e.to_string());
                continue;
            }
            if let Some(detail) = check_outcome(self.vendor, endpoint, expect, &outcome) {
                self.diff(endpoint, &example, if expect.get("error").is_some() { "error" } else { "payload" }, detail);
            }
            // The doc's raw text, when it differs: the same outcome, or (for text no server would
            // send: page breaks, curly quotes, placeholders) at least a typed Decode error.
            let raw = s(ex, "raw").as_bytes().to_vec();
            if serde_json::from_slice::<Value>(&raw).ok().as_ref() == Some(&ex["normalised"]) {
                continue;
            }
            self.server.program(Programmed {
                own_path,
                status: ex["http_status"].as_u64().unwrap_or(200) as u16,
                body: raw,
                content_type: "application/json; charset=utf-8",
            });
            let outcome = self.client.call(self.vendor, endpoint, params).await;
            let tolerant = s(ex, "raw_expect") == "same_or_decode_error";
            if tolerant && matches!(&outcome, Err(Error::Decode { .. })) {
                continue;
            }
            if let Some(detail) = check_outcome(self.vendor, endpoint, expect, &outcome) {
                self.diff(endpoint, &example, "raw", format!("served as the doc shows it: {detail}"));
            }
        }
    }

    /// AVD's get_token failure example as the answer of the token fetch that precedes a call:
    /// the call fails with [`Error::Auth`] quoting the doc's code, and nothing else is sent.
    async fn check_avd_token_refusal(&mut self) {
        let refusal = self.data["responses"].as_array().unwrap().iter().find(|r| r["id"] == "app.get_token#error");
        let Some(refusal) = refusal.cloned() else { return };
        let code = s(&refusal["expect"]["error"], "code").to_string();
        self.server
            .set_answers(AuthAnswers { avd_get_token: Some(s(&refusal, "raw").to_string()), ..Default::default() });
        let profile = json!({"avd": {"base_url": self.server.base(), "access_key": AVD_ACCESS_KEY,
                                     "secret_key": "demo_secret"}, "transport": {"max_attempts": 1}});
        let fresh = Client::from_profile(&Profile::from_json("docex", &profile).unwrap()).unwrap();
        self.server.program(Programmed {
            own_path: "/sdkapi/v2/room/create".into(),
            status: 200,
            body: self.answer_for_request("room.create"),
            content_type: "application/json; charset=utf-8",
        });
        let outcome = fresh.call("avd", "room.create", json!({"room_id": "12345123456", "user_id": "10"})).await;
        self.responses += 1;
        let ok = matches!(&outcome, Err(Error::Auth { message, .. }) if message.contains(&format!("error {code}")));
        if !ok || self.server.last_request().is_some() {
            let detail =
                format!("expected Error::Auth quoting error {code} and no room.create request, got {outcome:?}");
            self.diff("app.get_token", "error", "auth", detail);
        }
    }

    /// Compare with the known differences; panic with what to add or delete.
    fn finish(self) {
        let known = load("known_differences.json");
        let known: Vec<&Value> = known.as_array().unwrap().iter().filter(|k| k["vendor"] == self.vendor).collect();
        for k in &known {
            for key in ["vendor", "endpoint", "example", "field", "reason"] {
                assert!(
                    k[key].as_str().is_some_and(|t| !t.is_empty()),
                    "known_differences.json: `{key}` missing in {k}"
                );
            }
        }
        let key = |e: &str, x: &str, f: &str| (e.to_string(), x.to_string(), f.to_string());
        let occurring: BTreeSet<(String, String, String)> =
            self.diffs.iter().map(|d| key(&d.endpoint, &d.example, &d.field)).collect();
        let listed: BTreeSet<(String, String, String)> =
            known.iter().map(|k| key(s(k, "endpoint"), s(k, "example"), s(k, "field"))).collect();
        let summary = format!(
            "doc examples: {}: {} requests, {} responses checked; {} known differences",
            self.vendor,
            self.requests,
            self.responses,
            listed.len()
        );
        println!("{summary}");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/doc_examples_summary");
        if std::fs::create_dir_all(&dir).is_ok() {
            let _ = std::fs::write(dir.join(format!("{}.txt", self.vendor)), format!("{summary}\n"));
        }
        let mut unexpected: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
        for d in &self.diffs {
            let k = key(&d.endpoint, &d.example, &d.field);
            if !listed.contains(&k) {
                unexpected.entry(k).or_default().push(d.detail.clone());
            }
        }
        let stale: Vec<&&Value> = known
            .iter()
            .filter(|k| !occurring.contains(&key(s(k, "endpoint"), s(k, "example"), s(k, "field"))))
            .collect();
        let mut message = String::new();
        if !unexpected.is_empty() {
            message.push_str(&format!(
                "{} difference(s) between the {} doc examples and meetkit are not in \
                 tests/testdata/doc_examples/known_differences.json (fix the client, or list them with a reason):\n",
                unexpected.len(),
                self.vendor
            ));
            for ((endpoint, example, field), details) in &unexpected {
                let entry = json!({"vendor": self.vendor, "endpoint": endpoint, "example": example, "field": field,
                                   "reason": "<why>"});
                message.push_str(&format!("  {entry}\n      {}\n", details.join("\n      ")));
            }
        }
        if !stale.is_empty() {
            message.push_str(&format!(
                "{} listed difference(s) of {} no longer occur: delete these entries from \
                 tests/testdata/doc_examples/known_differences.json:\n",
                stale.len(),
                self.vendor
            ));
            for k in stale {
                message.push_str(&format!("  {}\n", to_text(k)));
            }
        }
        assert!(message.is_empty(), "{summary}\n{message}");
        eprintln!("{summary}");
    }
}

/// The path of an endpoint that has no request example (its response examples still need the
/// example's own path so the capture server does not take it for an auth call).
fn own_path_of(vendor: &str, endpoint: &str) -> String {
    let spec = Client::spec(vendor.parse().unwrap(), endpoint).unwrap();
    let path = spec.path.replace("{room}", VMR_ROOM);
    match vendor {
        "avd" if endpoint == "uploadfile" => "/uploadfile".into(),
        "avd" => format!("/sdkapi/v2{path}"),
        _ => path,
    }
}

/// Some(detail) when `outcome` is not what the example documents.
fn check_outcome(vendor: &str, endpoint: &str, expect: &Value, outcome: &meetkit::Result<Value>) -> Option<String> {
    if let Some(err) = expect.get("error") {
        let code = s(err, "code");
        return match outcome {
            Err(Error::Api { vendor: v, endpoint: e, code: c, message, .. })
                if v.as_str() == vendor && e == endpoint && c == code =>
            {
                match err["message"].as_str() {
                    Some(m) if m != message => Some(format!("message {message:?}, the doc's is {m:?}")),
                    _ => None,
                }
            }
            // AVD 40003 ("access token invalid") on a call: meetkit renews the token once and
            // sends the call again; refused again (as this example server always answers), it
            // is an authentication error naming the code and the doc's message.
            Err(Error::Auth { vendor: v, message })
                if vendor == "avd" && code == "40003" && v.as_str() == vendor && message.contains("40003") =>
            {
                match err["message"].as_str() {
                    Some(m) if !message.contains(m) => Some(format!("message {message:?} lacks the doc's {m:?}")),
                    _ => None,
                }
            }
            other => Some(format!("expected Error::Api {vendor} {endpoint} code {code}, got {other:?}")),
        };
    }
    let payload = &expect["payload"];
    match outcome {
        Ok(v) if v == payload => None,
        Ok(v) => Some(format!("payload {}; the doc's is {}", to_text(v), to_text(payload))),
        Err(e) => Some(format!("expected the payload {}, got the error {e}", to_text(payload))),
    }
}

/// The query string as name → values (form-urlencoded decoding, as servers read it).
fn query_map(q: Option<&str>) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(q.unwrap_or("").as_bytes()) {
        out.entry(k.into_owned()).or_default().push(v.into_owned());
    }
    out
}

/// Equal as text, or as JSON when both sides are JSON text (AVD's JSON-valued parameters).
fn same_text(a: &str, b: &str) -> bool {
    a == b
        || matches!((serde_json::from_str::<Value>(a), serde_json::from_str::<Value>(b)),
                    (Ok(x), Ok(y)) if x == y && (x.is_object() || x.is_array()))
}

fn compare_fields(prefix: &str, expected: &Value, actual: &Value, out: &mut Vec<(String, String)>) {
    match (expected.as_object(), actual.as_object()) {
        (Some(e), Some(a)) => {
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) if av == ev => {}
                    Some(av) => out.push((
                        format!("{prefix}.{k}"),
                        format!("sent {}, the doc shows {}", to_text(av), to_text(ev)),
                    )),
                    None => out.push((format!("{prefix}.{k}"), format!("not sent; the doc shows {}", to_text(ev)))),
                }
            }
            for (k, av) in a {
                if !e.contains_key(k) {
                    out.push((
                        format!("{prefix}.{k}"),
                        format!("sent {} but the doc's example has no `{k}`", to_text(av)),
                    ));
                }
            }
        }
        _ if expected == actual => {}
        _ => out.push((prefix.to_string(), format!("sent {}, the doc shows {}", to_text(actual), to_text(expected)))),
    }
}

fn sha1_hex(text: &str) -> String {
    use sha1::Digest;
    hex::encode(sha1::Sha1::digest(text.as_bytes()))
}

fn md5_hex(text: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(text))
}

/// Every difference between a request example and the captured request, as (field, detail).
fn compare_request(vendor: &str, ex: &Value, c: &Captured, issued_token: Option<&str>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if c.method != s(ex, "method") {
        out.push(("method".into(), format!("sent {}, the doc shows {}", c.method, s(ex, "method"))));
    }
    if c.path != s(ex, "path") {
        out.push(("path".into(), format!("sent {}, the doc shows {}", c.path, s(ex, "path"))));
    }
    // Query: every documented parameter with its value; secrets present; nothing else.
    let query = query_map(c.query.as_deref());
    let secret_query: Vec<&str> = ex["secret_query"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for name in &secret_query {
        if !query.get(*name).is_some_and(|v| v.iter().any(|x| !x.is_empty())) {
            out.push((format!("query.{name}"), "missing (a secret: only its presence is checked)".into()));
        }
    }
    // `query: null`: where the parameters travel is not documented (Kedacom's DELETE, upload).
    let unchecked = Map::new();
    let expected_query = ex["query"].as_object().unwrap_or(&unchecked);
    let query_checked = !ex["query"].is_null();
    for (k, v) in expected_query {
        let want = v.as_str().unwrap();
        match query.get(k) {
            Some(got) if got.len() == 1 && same_text(&got[0], want) => {}
            Some(got) => out.push((format!("query.{k}"), format!("sent {got:?}, the doc shows {want:?}"))),
            None => out.push((format!("query.{k}"), format!("not sent; the doc shows {want:?}"))),
        }
    }
    for (k, v) in &query {
        if query_checked && !expected_query.contains_key(k) && !secret_query.contains(&k.as_str()) {
            out.push((format!("query.{k}"), format!("sent {v:?} but the doc's example has no `{k}`")));
        }
    }
    // Token values are the ones the auth answers handed out.
    let first = |name: &str| query.get(name).map(|v| v[0].as_str());
    if vendor == "avd" && secret_query.contains(&"token") && first("token") != issued_token {
        out.push(("query.token".into(), "not the token app.get_token answered".into()));
    }
    if vendor == "avd" && secret_query.contains(&"access_key") && first("access_key") != Some(AVD_ACCESS_KEY) {
        out.push(("query.access_key".into(), "not the profile's access_key".into()));
    }
    // Body.
    let content_type = c.header("content-type").unwrap_or("").to_string();
    match ex["body"].get("kind").and_then(Value::as_str) {
        None | Some("none") => {
            if !c.body.is_empty() {
                out.push((
                    "body".into(),
                    format!("sent a body ({}) where the doc shows none", String::from_utf8_lossy(&c.body)),
                ));
            }
        }
        Some("json") => match serde_json::from_slice::<Value>(&c.body) {
            Ok(mut v) => {
                // Secret fields (vmr checkJoin's joinPwd): present, then out of the comparison.
                for name in ex["body"]["secret_fields"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                    match v.as_object_mut().and_then(|m| m.remove(name)) {
                        Some(Value::String(t)) if !t.is_empty() => {}
                        _ => out
                            .push((format!("body.{name}"), "missing (a secret: only its presence is checked)".into())),
                    }
                }
                compare_fields("body", &ex["body"]["value"], &v, &mut out)
            }
            Err(e) => out.push(("body".into(), format!("not JSON ({e}): {}", String::from_utf8_lossy(&c.body)))),
        },
        Some("unchecked") => {}
        Some("form") => {
            let form = query_map(Some(&String::from_utf8_lossy(&c.body)));
            let b = &ex["body"];
            let secret: Vec<&str> = b["secret_fields"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
            for name in &secret {
                match form.get(*name) {
                    Some(v) if !v[0].is_empty() => {
                        if *name == "account_token" && v[0] != KEDACOM_TOKEN {
                            out.push(("body.account_token".into(), "not the token the login answered".into()));
                        }
                    }
                    _ => out.push((format!("body.{name}"), "missing (a secret: only its presence is checked)".into())),
                }
            }
            let json_fields = b["json_fields"].as_object().unwrap();
            for (name, want) in json_fields {
                match form.get(name).and_then(|v| serde_json::from_str::<Value>(&v[0]).ok()) {
                    Some(got) => compare_fields(&format!("body.{name}"), want, &got, &mut out),
                    None => {
                        out.push((format!("body.{name}"), format!("missing or not JSON text: {:?}", form.get(name))))
                    }
                }
            }
            let plain = b["fields"].as_object().unwrap();
            for (k, v) in &form {
                if !json_fields.contains_key(k)
                    && !secret.contains(&k.as_str())
                    && plain.get(k).and_then(Value::as_str) != Some(&v[0])
                {
                    out.push((format!("body.{k}"), format!("sent {v:?} but the doc's example has no `{k}`")));
                }
            }
        }
        Some("multipart") => {
            if !content_type.starts_with("multipart/form-data") {
                out.push((
                    "header.content-type".into(),
                    format!("sent {content_type:?}, expected multipart/form-data"),
                ));
            }
            let text = String::from_utf8_lossy(&c.body);
            for f in ex["body"]["fields"].as_array().unwrap().iter().filter_map(Value::as_str) {
                if !text.contains(&format!("name=\"{f}\"")) {
                    out.push((format!("body.{f}"), "no multipart part of that name".into()));
                }
            }
        }
        Some(other) => panic!("unknown body kind {other}"),
    }
    // Headers: the documented non-secret ones by value, the secret ones by presence.
    let squash = |t: &str| t.to_ascii_lowercase().replace(' ', "");
    for (name, want) in ex["headers"].as_object().unwrap() {
        let want = want.as_str().unwrap();
        match c.header(name) {
            Some(got) if squash(got) == squash(want) => {}
            Some(got) => out.push((format!("header.{name}"), format!("sent {got:?}, the doc shows {want:?}"))),
            None => out.push((format!("header.{name}"), format!("not sent; the doc shows {want:?}"))),
        }
    }
    for name in ex["secret_headers"].as_array().unwrap().iter().filter_map(Value::as_str) {
        if c.header(name).is_none_or(str::is_empty) {
            out.push((format!("header.{name}"), "missing (a secret: only its presence is checked)".into()));
        }
    }
    match vendor {
        "netease" => {
            let nonce = c.header("nonce").unwrap_or("");
            let cur_time = c.header("curtime").unwrap_or("");
            let checksum = c.header("checksum").unwrap_or("");
            if cur_time.is_empty() || !cur_time.bytes().all(|b| b.is_ascii_digit()) {
                out.push(("header.curtime".into(), format!("{cur_time:?} is not UNIX seconds")));
            }
            let well_formed =
                checksum.len() == 40 && checksum.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !well_formed || checksum != sha1_hex(&format!("{NETEASE_APP_SECRET}{nonce}{cur_time}")) {
                out.push(("header.checksum".into(), "not lowercase-hex SHA1(AppSecret + Nonce + CurTime)".into()));
            }
            if s(ex, "endpoint") == "meeting.anonymous_join_info" {
                let mut signed = c.body.to_vec();
                signed.extend_from_slice(b"@163");
                if c.header("authorization") != Some(md5_hex(&signed).as_str()) {
                    out.push(("header.authorization".into(), "not md5(body + \"@163\")".into()));
                }
            }
        }
        // The token new_session's doc example hands out (it contains a space and %-escapes).
        "vmr" if c.header("token").is_some() && c.header("token") != issued_token => {
            out.push(("header.token".into(), "not the token new_session answered".into()));
        }
        "kedacom"
            if s(ex, "endpoint") != "version.get"
                && !c.header("cookie").is_some_and(|v| v.contains(KEDACOM_COOKIE)) =>
        {
            out.push(("header.cookie".into(), "the login's SSO_COOKIE_KEY cookie is not sent".into()));
        }
        _ => {}
    }
    out
}

async fn run(vendor: &'static str) {
    let mut run = Run::new(vendor).await;
    run.check_requests().await;
    run.check_responses().await;
    if vendor == "avd" {
        run.check_avd_token_refusal().await;
    }
    run.finish();
}

#[tokio::test]
async fn avd_doc_examples() {
    run("avd").await;
}

#[tokio::test]
async fn kedacom_doc_examples() {
    run("kedacom").await;
}

#[tokio::test]
async fn vmr_doc_examples() {
    run("vmr").await;
}

#[tokio::test]
async fn netease_doc_examples() {
    run("netease").await;
}

/// The test data is what the module doc says: every example has its doc reference, raw text,
/// normalised form and normalisation notes; every known difference names a real example.
#[test]
fn testdata_is_complete() {
    let mut ids = BTreeSet::new();
    for vendor in ["avd", "kedacom", "vmr", "netease"] {
        let data = load(&format!("{vendor}.json"));
        for kind in ["requests", "responses"] {
            for ex in data[kind].as_array().unwrap() {
                for key in ["id", "endpoint", "doc_ref", "raw"] {
                    assert!(ex[key].as_str().is_some_and(|t| !t.is_empty()), "{vendor} {kind}: `{key}` in {ex}");
                }
                assert!(ex["normalisation"].is_array() && ex.get("normalised").is_some(), "{vendor}: {}", ex["id"]);
                Client::spec(vendor.parse().unwrap(), s(ex, "endpoint")).unwrap();
                let (endpoint, example) = s(ex, "id").split_once('#').unwrap();
                assert_eq!(endpoint, s(ex, "endpoint"));
                assert!(
                    ids.insert((vendor, endpoint.to_string(), example.to_string())),
                    "duplicate {vendor} {}",
                    ex["id"]
                );
            }
        }
    }
    for k in load("known_differences.json").as_array().unwrap() {
        let key = (s(k, "vendor"), s(k, "endpoint").to_string(), s(k, "example").to_string());
        let vendor = ["avd", "kedacom", "vmr", "netease"].into_iter().find(|v| *v == key.0).expect("vendor");
        assert!(ids.contains(&(vendor, key.1.clone(), key.2.clone())), "known_differences.json names no example: {k}");
    }
}
