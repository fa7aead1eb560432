//! `meetkit-bench`: meetkit's cost against hand-written HTTP, measured in the same run and
//! reported as ratios, so a noisy machine still gives comparable answers.
//!
//! ```text
//! cargo run --release -p meetkit-bench            # the full run (bench/run.sh)
//! cargo run -p meetkit-bench -- --smoke           # a few iterations, no thresholds (CI)
//! ```
//!
//! Each figure runs meetkit and its baseline alternately, three rounds each, and keeps the
//! best round of each (the least disturbed by other load). Everything talks to the built-in
//! simulators on loopback with no latency and no faults.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::stream::{self, StreamExt};
use meetkit::config::Profile;
use meetkit::Client;
use meetkit_sim::{SimOptions, Simulator};
use serde_json::{json, Value};
use sha1::{Digest, Sha1};

/// One measured figure: meetkit's throughput against its baseline's.
struct Figure {
    name: &'static str,
    meetkit: f64,
    baseline: f64,
    baseline_name: &'static str,
    target: f64,
}

impl Figure {
    fn ratio(&self) -> f64 {
        self.meetkit / self.baseline
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    // `--calls N` overrides the count (e.g. for a profile under callgrind).
    let args: Vec<String> = std::env::args().collect();
    let calls = args.iter().position(|a| a == "--calls").and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok());
    let n: usize = calls.unwrap_or(if smoke { 20 } else { 2000 });
    let rounds = if smoke { 1 } else { 3 };

    let sim = Simulator::start(SimOptions::default()).await.expect("simulator");
    let client = Client::from_profile(&Profile::from_json("sim", &sim.profile()).unwrap()).unwrap();
    let raw = reqwest::Client::new();
    client.call("avd", "room.list", Value::Null).await.expect("warm-up");
    let token = avd_token(&raw, &sim).await;
    let profile = sim.profile();
    let (ne_url, ne_key, ne_secret) = (
        profile["netease"]["base_url"].as_str().unwrap().to_string(),
        profile["netease"]["app_key"].as_str().unwrap().to_string(),
        profile["netease"]["app_secret"].as_str().unwrap().to_string(),
    );

    let mut figures = Vec::new();
    for in_flight in [1usize, 64] {
        let (m, b) = best_of(rounds, || async {
            let c = client.clone();
            let m = rate(n, in_flight, move |_| {
                let c = c.clone();
                async move {
                    c.call("avd", "room.list", Value::Null).await.expect("meetkit call");
                }
            })
            .await;
            let (r, base, t) = (raw.clone(), sim.avd_base_url(), token.clone());
            let b = rate(n, in_flight, move |_| {
                let (r, url, t) = (r.clone(), format!("{base}/sdkapi/v2/room/list"), t.clone());
                async move {
                    let v: Value = r.get(url).query(&[("token", t)]).send().await.unwrap().json().await.unwrap();
                    assert_eq!(v["ret"], 0);
                }
            })
            .await;
            (m, b)
        })
        .await;
        figures.push(Figure {
            name: if in_flight == 1 { "AVD call, sequential" } else { "AVD call, 64 in flight" },
            meetkit: m,
            baseline: b,
            baseline_name: "raw reqwest",
            target: 0.9,
        });

        let (m, b) = best_of(rounds, || async {
            let c = client.clone();
            let m = rate(n, in_flight, move |_| {
                let c = c.clone();
                async move {
                    c.call("netease", "meeting.list", json!({})).await.expect("meetkit call");
                }
            })
            .await;
            let (r, url, key, secret) = (raw.clone(), ne_url.clone(), ne_key.clone(), ne_secret.clone());
            let b = rate(n, in_flight, move |_| {
                let (r, url, key, secret) = (r.clone(), url.clone(), key.clone(), secret.clone());
                async move {
                    let nonce = format!("{:08}", rand::random_range(0..100_000_000u32));
                    let cur = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs().to_string();
                    let sum = hex::encode(Sha1::digest(format!("{secret}{nonce}{cur}").as_bytes()));
                    let v: Value = r
                        .post(format!("{url}/v2/meeting/list"))
                        .header("AppKey", key)
                        .header("Nonce", nonce)
                        .header("CurTime", cur)
                        .header("CheckSum", sum)
                        .json(&json!({}))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    assert_eq!(v["code"], 200, "{v}");
                }
            })
            .await;
            (m, b)
        })
        .await;
        figures.push(Figure {
            name: if in_flight == 1 { "NetEase signed call, sequential" } else { "NetEase signed call, 64 in flight" },
            meetkit: m,
            baseline: b,
            baseline_name: "raw reqwest + sha1",
            target: 0.9,
        });
    }

    // Script overhead: a Rhai loop of calls against the same calls from Rust.
    let script_n = n.min(500);
    let (m, b) = best_of(rounds, || async {
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
        let c = client.clone();
        let b = rate(script_n, 1, move |_| {
            let c = c.clone();
            async move {
                c.call("avd", "room.list", Value::Null).await.unwrap();
            }
        })
        .await;
        (m, b)
    })
    .await;
    figures.push(Figure {
        name: "Rhai loop of AVD calls",
        meetkit: m,
        baseline: b,
        baseline_name: "the same calls from Rust",
        target: 0.8,
    });

    println!("| figure | meetkit (calls/s) | baseline | baseline (calls/s) | ratio | target |");
    println!("|---|---|---|---|---|---|");
    for f in &figures {
        println!(
            "| {} | {:.0} | {} | {:.0} | {:.2} | ≥ {:.2}{} |",
            f.name,
            f.meetkit,
            f.baseline_name,
            f.baseline,
            f.ratio(),
            f.target,
            if f.ratio() >= f.target { "" } else { " (below)" }
        );
    }
    let capacity = figures.iter().map(|f| f.baseline).fold(0.0, f64::max);
    println!("\nhighest rate seen: {capacity:.0} requests/s (a lower bound on the simulators' capacity)");
    if smoke {
        println!("(smoke run: {n} calls per figure, one round; the figures are not meaningful)");
    }
    sim.shutdown().await;
}

/// `n` operations with at most `in_flight` at once; returns operations per second.
async fn rate<F, Fut>(n: usize, in_flight: usize, op: F) -> f64
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let started = Instant::now();
    stream::iter(0..n).map(op).buffer_unordered(in_flight).collect::<Vec<()>>().await;
    n as f64 / started.elapsed().max(Duration::from_micros(1)).as_secs_f64()
}

/// The best (meetkit, baseline) rates over `rounds` alternating rounds.
async fn best_of<F, Fut>(rounds: usize, round: F) -> (f64, f64)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = (f64, f64)>,
{
    let (mut m, mut b) = (0.0f64, 0.0f64);
    for _ in 0..rounds {
        let (rm, rb) = round().await;
        m = m.max(rm);
        b = b.max(rb);
    }
    (m, b)
}

/// A token fetched by hand, for the raw baseline.
async fn avd_token(raw: &reqwest::Client, sim: &Simulator) -> String {
    let p = sim.profile();
    let v: Value = raw
        .get(format!("{}/sdkapi/v2/app/get_token", sim.avd_base_url()))
        .query(&[
            ("access_key", p["avd"]["access_key"].as_str().unwrap()),
            ("secret_key", p["avd"]["secret_key"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["token"].as_str().expect("token").to_string()
}
