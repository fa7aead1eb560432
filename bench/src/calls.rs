//! Figures 1, 2, 4 (the Rust side) and 8: meetkit's calls against hand-written reqwest, a Rhai
//! loop against Rust, and what the simulator serves per vendor.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::stream::{self, StreamExt};
use meetkit::Client;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};

use crate::report::{median_of, Row};
use crate::simproc::SimProcess;

/// `n` operations with at most `in_flight` at once; returns operations per second.
pub async fn rate<F, Fut>(n: usize, in_flight: usize, op: F) -> f64
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let started = Instant::now();
    stream::iter(0..n).map(op).buffer_unordered(in_flight).collect::<Vec<()>>().await;
    n as f64 / started.elapsed().max(Duration::from_micros(1)).as_secs_f64()
}

/// The vendors of figure 1: the AVD token call and the NetEase signed call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LoopVendor {
    /// AVD `room.list`, the token cached.
    Avd,
    /// NetEase `meeting.list`, signed.
    Netease,
}

/// `n` calls of `vendor`'s figure-1 endpoint through meetkit, `in_flight` at once; calls/s.
pub async fn meetkit_loop(client: &Client, vendor: LoopVendor, n: usize, in_flight: usize) -> f64 {
    let c = client.clone();
    rate(n, in_flight, move |_| {
        let c = c.clone();
        async move {
            match vendor {
                LoopVendor::Avd => c.call("avd", "room.list", Value::Null).await,
                LoopVendor::Netease => c.call("netease", "meeting.list", json!({})).await,
            }
            .expect("meetkit call");
        }
    })
    .await
}

/// The hand-written reqwest (+ sha1) side of figure 1, for the simulator of `profile`.
#[derive(Clone)]
pub struct RawLoop {
    http: reqwest::Client,
    avd_url: String,
    avd_token: String,
    netease: (String, String, String),
}

impl RawLoop {
    /// Fetches the AVD token by hand.
    pub async fn new(profile: &Value) -> RawLoop {
        let http = reqwest::Client::new();
        let avd_token = avd_token(&http, profile).await;
        RawLoop {
            avd_url: format!("{}/sdkapi/v2/room/list", profile["avd"]["base_url"].as_str().unwrap()),
            avd_token,
            netease: (
                profile["netease"]["base_url"].as_str().unwrap().to_string(),
                profile["netease"]["app_key"].as_str().unwrap().to_string(),
                profile["netease"]["app_secret"].as_str().unwrap().to_string(),
            ),
            http,
        }
    }

    /// `n` calls, `in_flight` at once; calls/s.
    pub async fn run(&self, vendor: LoopVendor, n: usize, in_flight: usize) -> f64 {
        rate(n, in_flight, move |_| async move {
            match vendor {
                LoopVendor::Avd => self.avd().await,
                LoopVendor::Netease => self.netease().await,
            }
        })
        .await
    }

    async fn avd(&self) {
        let r = self.http.get(&self.avd_url).query(&[("token", &self.avd_token)]).send().await.unwrap();
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["ret"], 0, "{v}");
    }

    async fn netease(&self) {
        let (url, key, secret) = &self.netease;
        // Never reused within a run: the strict simulator refuses a replayed Nonce.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nonce = format!(
            "{:04x}{:012}",
            std::process::id() & 0xffff,
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let cur = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs().to_string();
        let sum = hex::encode(Sha1::digest(format!("{secret}{nonce}{cur}").as_bytes()));
        let v = self
            .http
            .post(format!("{url}/v2/meeting/list"))
            .header("AppKey", key)
            .header("Nonce", nonce)
            .header("CurTime", cur)
            .header("CheckSum", sum)
            .json(&json!({}));
        let v = answer(v).await;
        assert_eq!(v["code"], 200, "{v}");
    }
}

/// Figures 1 and 2: meetkit against raw reqwest (AVD token call, NetEase signed call;
/// sequential and 64 in flight) and a Rhai loop against the same calls from Rust.
pub async fn figures(client: &Client, sim: &SimProcess, n: usize, rounds: usize) -> Vec<Row> {
    let raw = RawLoop::new(&sim.profile).await;
    let mut rows = Vec::new();
    for in_flight in [1usize, 64] {
        let how = if in_flight == 1 { "sequential" } else { "64 in flight" };
        for (vendor, figure, baseline) in [
            (LoopVendor::Avd, "AVD `room.list` (token cached)", "raw reqwest"),
            (LoopVendor::Netease, "NetEase `meeting.list` (signed)", "raw reqwest + sha1"),
        ] {
            let (m, b) = median_of(rounds, || async {
                (meetkit_loop(client, vendor, n, in_flight).await, raw.run(vendor, n, in_flight).await)
            })
            .await;
            // Issue 21: at parity (0.95) when 64 are in flight; 0.9 sequential, as before.
            let target = if in_flight == 1 { 0.9 } else { 0.95 };
            rows.push(Row::rates(format!("1. {figure}, {how}"), m, baseline, b, target));
        }
    }

    // 2. A Rhai loop of calls against the same calls from Rust.
    let script_n = n.min(1000);
    let (m, b) = median_of(rounds, || async {
        let c = client.clone();
        let handle = tokio::runtime::Handle::current();
        let source = format!("let avd = vendor(\"avd\"); for i in 0..{script_n} {{ avd.call(\"room.list\"); }}");
        let started = Instant::now();
        tokio::task::spawn_blocking(move || {
            meetkit::script::run_source(&source, None, &c, handle, Default::default()).expect("script")
        })
        .await
        .unwrap();
        let m = script_n as f64 / started.elapsed().as_secs_f64();
        (m, meetkit_loop(client, LoopVendor::Avd, script_n, 1).await)
    })
    .await;
    rows.push(Row::rates("2. Rhai loop of AVD calls", m, "the same calls from Rust", b, 0.8));
    rows
}

/// Figure 8: requests/s the simulator serves per vendor, 128 calls in flight from meetkit
/// (on the other core when pinned), with the simulator's CPU use while it did.
pub async fn capacity(client: &Client, sim: &SimProcess, n: usize) -> Vec<Row> {
    let cheap: [(&str, &str, Value); 4] = [
        ("avd", "room.list", Value::Null),
        ("kedacom", "meetings.list", json!({})),
        ("vmr", "conference.status", json!({})),
        ("netease", "meeting.list", json!({})),
    ];
    let mut rows = Vec::new();
    for (vendor, id, params) in cheap {
        client.call(vendor, id, params.clone()).await.unwrap_or_else(|e| panic!("{vendor} {id}: {e}"));
        let cpu0 = sim.cpu_time();
        let started = Instant::now();
        let c = client.clone();
        let r = rate(n, 128, move |_| {
            let (c, params) = (c.clone(), params.clone());
            async move {
                c.call(vendor, id, params).await.expect("capacity call");
            }
        })
        .await;
        let busy = (sim.cpu_time() - cpu0).as_secs_f64() / started.elapsed().as_secs_f64();
        rows.push(Row::info(
            format!("8. simulator capacity: {vendor} `{id}`, 128 in flight"),
            format!("{r:.0} req/s"),
            format!(
                "simulator CPU {:.0} % of one core: ≈ {:.0} req/s per simulator core",
                busy * 100.0,
                r / busy.max(0.01)
            ),
        ));
    }
    rows
}

/// A token fetched by hand, for the raw baseline.
pub async fn avd_token(raw: &reqwest::Client, p: &Value) -> String {
    let v = answer(raw.get(format!("{}/sdkapi/v2/app/get_token", p["avd"]["base_url"].as_str().unwrap())).query(&[
        ("access_key", p["avd"]["access_key"].as_str().unwrap()),
        ("secret_key", p["avd"]["secret_key"].as_str().unwrap()),
    ]))
    .await;
    v["token"].as_str().expect("token").to_string()
}

/// Sends a hand-written request and parses its JSON answer (the baseline's whole work).
async fn answer(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}
