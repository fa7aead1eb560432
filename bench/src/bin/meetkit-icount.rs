//! `meetkit-icount`: the instruction count of meetkit's per-call CPU path for each vendor — the
//! regression guard of issue 21 item 4. No network: one call's worth of work, done in-process on
//! a documented example, counted by valgrind's callgrind (instruction counts, unlike wall time,
//! barely move with the machine's load).
//!
//! ```text
//! meetkit-icount                      # every vendor under callgrind, a table of instructions per call
//! meetkit-icount --baseline F         # ... and fail when a vendor's count exceeds F's by more than 25 %
//! meetkit-icount --write-baseline F   # record the counts in F (JSON, one entry per build profile)
//! meetkit-icount once <vendor> <n>    # the scenario n times, no valgrind (what callgrind runs)
//! ```
//!
//! Each vendor's scenario is the CPU part of one `Client::call` of a read endpoint:
//!
//! * parameter validation and normalisation (`EndpointSpec::normalize`, the endpoint table);
//! * request building: the parameter split of the vendor toolkit (path, query, headers, body),
//!   the URL, the vendor's authentication (AVD `token` query, Kedacom `account_token`, vmr `token`
//!   header, NetEase `AppKey`/`Nonce`/`CurTime`/`CheckSum` with the real sha1 `request_checksum`
//!   and a JSON body) and `reqwest::RequestBuilder::build` — the same calls, in the same order, as
//!   the vendor module makes (the vendor modules keep their request builders private);
//! * envelope decoding of the vendor's documented success example (`core/src/vendors/<vendor>/
//!   testdata/doc_examples.json`, compiled in, sent compact) with the vendor's own `envelope` module, and the
//!   result redaction `Client::call` applies.
//!
//! Per-call figures are differences: the scenario run `1 + N` times minus run once, divided by
//! N, so process start-up, the first call's lazy initialisation and valgrind's own start cancel.

use std::path::{Path, PathBuf};
use std::process::Command;

use meetkit::transport::RawResponse;
use meetkit::vendors::toolkit::{split, AutoIn};
use meetkit::{Client, Vendor};
use serde_json::{json, Map, Value};

const AVD_EXAMPLES: &str = include_str!("../../../core/src/vendors/avd/testdata/doc_examples.json");
const KEDACOM_EXAMPLES: &str = include_str!("../../../core/src/vendors/kedacom/testdata/doc_examples.json");
const VMR_EXAMPLES: &str = include_str!("../../../core/src/vendors/vmr/testdata/doc_examples.json");
const NETEASE_EXAMPLES: &str = include_str!("../../../core/src/vendors/netease/testdata/doc_examples.json");

/// Fail the baseline check when a count grows by more than this (per cent).
const DEFAULT_MAX_INCREASE: f64 = 25.0;

/// One vendor's scenario: the endpoint, its parameters and the documented answer.
struct Scenario {
    vendor: Vendor,
    endpoint: &'static str,
    params: Value,
    response: Vec<u8>,
}

impl Scenario {
    fn of(vendor: Vendor) -> Scenario {
        let (endpoint, params, examples, kind) = match vendor {
            Vendor::Avd => ("room.list", json!({}), AVD_EXAMPLES, "success"),
            Vendor::Kedacom => ("meetings.get", json!({"meeting_id": "123321"}), KEDACOM_EXAMPLES, "response"),
            Vendor::Vmr => ("conference.status", json!({"room": "1000@example.com"}), VMR_EXAMPLES, "success"),
            Vendor::Netease => {
                ("meeting.record_list", json!({"meetingUniqueId": 12345678}), NETEASE_EXAMPLES, "success")
            }
        };
        Scenario { vendor, endpoint, params, response: example(examples, endpoint, kind) }
    }

    /// One call's CPU work; returns the decoded, redacted payload.
    fn call(&self, http: &reqwest::Client) -> Value {
        let vendor = self.vendor;
        let spec = Client::spec(vendor, self.endpoint).expect("endpoint in the table");
        let params = match spec.normalize(self.params.clone()).expect("valid parameters") {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let request = match vendor {
            Vendor::Avd => {
                let split = split(spec, params, AutoIn::Query).expect("split");
                let url = format!("http://127.0.0.1:8080/sdkapi/v2{}", split.path);
                let mut query: Vec<(String, String)> = Vec::with_capacity(split.query.len() + 1);
                query.push(("token".into(), "0123456789abcdef0123456789abcdef".to_string()));
                query.extend(split.query);
                http.get(&url).query(&query)
            }
            Vendor::Kedacom => {
                let split = split(spec, params, AutoIn::ByMethod).expect("split");
                let url = format!("http://127.0.0.1:8081{}", split.path);
                let token = "0123456789abcdef0123456789abcdef".to_string();
                http.get(&url).query(&[("account_token", token.as_str())]).query(&split.query)
            }
            Vendor::Vmr => {
                let split = split(spec, params, AutoIn::ByMethod).expect("split");
                let url = reqwest::Url::parse("http://127.0.0.1:8082/").unwrap().join(&split.path).expect("url");
                let mut headers = reqwest::header::HeaderMap::new();
                let mut token = reqwest::header::HeaderValue::from_str("0123456789abcdef").unwrap();
                token.set_sensitive(true);
                headers.insert("token", token);
                let rb = http.get(url).headers(headers.clone());
                if split.query.is_empty() {
                    rb
                } else {
                    rb.query(&split.query)
                }
            }
            Vendor::Netease => {
                let split = split(spec, params, AutoIn::Body).expect("split");
                let json = Value::Object(split.body).to_string();
                let url = format!("http://127.0.0.1:8083{}", split.path);
                let body = reqwest::Body::from(json);
                let nonce = meetkit::vendors::netease::sign::nonce();
                let cur_time = 1_700_000_000_i64.to_string();
                let checksum = meetkit::vendors::netease::sign::request_checksum("app-secret", &nonce, &cur_time);
                http.post(&url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json;charset=utf-8")
                    .header("AppKey", "app-key")
                    .header("Nonce", nonce)
                    .header("CurTime", cur_time)
                    .header("CheckSum", checksum)
                    .body(body)
            }
        };
        let request = request.timeout(std::time::Duration::from_secs(30)).build().expect("request");
        std::hint::black_box(&request);
        let resp =
            RawResponse { status: 200, headers: reqwest::header::HeaderMap::new(), body: self.response.clone().into() };
        let mut value = match vendor {
            Vendor::Avd => {
                let mut v = Value::Object(meetkit::vendors::avd::envelope::decode(spec, &resp).expect("decode"));
                let base = reqwest::Url::parse("http://127.0.0.1:8080/").unwrap();
                meetkit::vendors::avd::envelope::resolve_attachment_urls(&mut v, &base, false);
                v
            }
            Vendor::Kedacom => {
                Value::Object(meetkit::vendors::kedacom::envelope::decode(spec.id, &resp).expect("decode"))
            }
            Vendor::Vmr => meetkit::vendors::vmr::envelope::decode_room(spec, &resp).expect("decode"),
            Vendor::Netease => meetkit::vendors::netease::envelope::decode(spec, &resp).expect("decode"),
        };
        meetkit::secret::redact_result(vendor, spec.id, &mut value);
        value
    }
}

/// The body of the documented example of `endpoint` of the given kind.
fn example(examples: &str, endpoint: &str, kind: &str) -> Vec<u8> {
    let all: Vec<Value> = serde_json::from_str(examples).expect("doc_examples.json is JSON");
    let found = all
        .iter()
        .find(|e| e["endpoint"] == endpoint && e["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} example of {endpoint}"));
    // The first JSON value of the example, sent compact as a server would (AVD's room.list
    // example in the doc has a stray closing brace after it).
    let body = match &found["body"] {
        Value::String(s) => serde_json::Deserializer::from_str(s)
            .into_iter::<Value>()
            .next()
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("the {kind} example of {endpoint} is not JSON")),
        other => other.clone(),
    };
    body.to_string().into_bytes()
}

fn usage() -> ! {
    eprintln!(
        "usage: meetkit-icount [--calls N] [--baseline FILE [--max-increase PCT]] [--write-baseline FILE]\n       \
         meetkit-icount once <vendor> <n>"
    );
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("once") {
        let (Some(vendor), Some(n)) = (args.get(1), args.get(2).and_then(|n| n.parse::<usize>().ok())) else { usage() };
        let vendor: Vendor = vendor.parse().unwrap_or_else(|e| panic!("{e}"));
        let scenario = Scenario::of(vendor);
        let http = reqwest::Client::new();
        for _ in 0..n {
            std::hint::black_box(scenario.call(&http));
        }
        return;
    }
    let mut calls = 20usize;
    let mut baseline: Option<PathBuf> = None;
    let mut write: Option<PathBuf> = None;
    let mut max_increase = DEFAULT_MAX_INCREASE;
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--calls" => calls = it.next().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or_else(|| usage()),
            "--baseline" => baseline = Some(it.next().unwrap_or_else(|| usage()).into()),
            "--write-baseline" => write = Some(it.next().unwrap_or_else(|| usage()).into()),
            "--max-increase" => max_increase = it.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| usage()),
            _ => usage(),
        }
    }
    let exe = std::env::current_exe().expect("own path");
    let dir = std::env::temp_dir().join(format!("meetkit-icount-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    println!("instructions per call (callgrind, {profile} build, ({} calls - 1 call) / {calls}):", calls + 1);
    println!("{:<8} {:<20} {:>12}", "vendor", "endpoint", "instructions");
    let mut counts = Map::new();
    for vendor in Vendor::ALL {
        let one = callgrind(&exe, &dir, vendor, 1);
        let many = callgrind(&exe, &dir, vendor, calls + 1);
        let per_call = many.saturating_sub(one) / calls as u64;
        let endpoint = Scenario::of(vendor).endpoint;
        println!("{:<8} {:<20} {:>12}", vendor.as_str(), endpoint, per_call);
        counts.insert(vendor.as_str().into(), json!(per_call));
    }
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(path) = write {
        // One entry per build profile; the other profile's entry is kept.
        let mut all = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str::<Map<String, Value>>(&t).ok())
            .unwrap_or_default();
        all.insert(profile.into(), Value::Object(counts.clone()));
        let text = serde_json::to_string_pretty(&all).unwrap();
        std::fs::write(&path, text + "\n").unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        println!("baseline ({profile}) written to {}", path.display());
    }
    if let Some(path) = baseline {
        if !check(&path, profile, &counts, max_increase) {
            std::process::exit(1);
        }
    }
}

/// Compare `counts` with the baseline file; true when every vendor is within `max_increase` %.
fn check(path: &Path, profile: &str, counts: &Map<String, Value>, max_increase: f64) -> bool {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let base: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if !base[profile].is_object() {
        println!("baseline {} has no {profile} figures: not compared", path.display());
        return true;
    }
    let mut ok = true;
    for (vendor, count) in counts {
        let now = count.as_u64().unwrap_or(0) as f64;
        let Some(was) = base[profile][vendor].as_u64() else {
            println!("{vendor}: not in the baseline {}", path.display());
            continue;
        };
        let change = (now / was as f64 - 1.0) * 100.0;
        let verdict = if change > max_increase { "REGRESSION" } else { "ok" };
        println!("{vendor:<8} {now:>12} vs baseline {was:>12} ({change:+.1} %) {verdict}");
        if change > max_increase {
            ok = false;
        }
    }
    if !ok {
        println!(
            "per-call instructions grew by more than {max_increase} %: find the new cost with \
             `valgrind --tool=callgrind {} once <vendor> 100` and callgrind_annotate, or if it is \
             intended, re-record with --write-baseline {}",
            std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
            path.display()
        );
    }
    ok
}

/// Total instructions of `exe once <vendor> <n>` under callgrind.
fn callgrind(exe: &Path, dir: &Path, vendor: Vendor, n: usize) -> u64 {
    let out = dir.join(format!("callgrind.{}.{n}", vendor.as_str()));
    let status = Command::new("valgrind")
        .args(["--tool=callgrind", "--quiet"])
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(exe)
        .args(["once", vendor.as_str(), &n.to_string()])
        .status()
        .unwrap_or_else(|e| panic!("cannot run valgrind ({e}): install it (apt-get install valgrind)"));
    assert!(status.success(), "valgrind --tool=callgrind {} once {vendor} {n}: {status}", exe.display());
    let text = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    text.lines()
        .find_map(|l| l.strip_prefix("summary:").or_else(|| l.strip_prefix("totals:")))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("{}: no instruction total", out.display()))
}
