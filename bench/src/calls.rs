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

/// `n` sequential `room.list` calls through meetkit; calls per second (the Rust side of the
/// C comparison and the baseline of the Rhai loop).
pub async fn meetkit_sequential(client: &Client, n: usize) -> f64 {
    let c = client.clone();
    rate(n, 1, move |_| {
        let c = c.clone();
        async move {
            c.call("avd", "room.list", Value::Null).await.expect("meetkit call");
        }
    })
    .await
}

/// Figures 1 and 2: meetkit against raw reqwest (AVD token call, NetEase signed call;
/// sequential and 64 in flight) and a Rhai loop against the same calls from Rust.
pub async fn figures(client: &Client, sim: &SimProcess, n: usize, rounds: usize) -> Vec<Row> {
    let raw = reqwest::Client::new();
    let p = &sim.profile;
    let avd_url = p["avd"]["base_url"].as_str().unwrap().to_string();
    let token = avd_token(&raw, p).await;
    let ne = (
        p["netease"]["base_url"].as_str().unwrap().to_string(),
        p["netease"]["app_key"].as_str().unwrap().to_string(),
        p["netease"]["app_secret"].as_str().unwrap().to_string(),
    );
    let mut rows = Vec::new();
    for in_flight in [1usize, 64] {
        let (m, b) = median_of(rounds, || async {
            let c = client.clone();
            let m = rate(n, in_flight, move |_| {
                let c = c.clone();
                async move {
                    c.call("avd", "room.list", Value::Null).await.expect("meetkit call");
                }
            })
            .await;
            let (r, url, t) = (raw.clone(), format!("{avd_url}/sdkapi/v2/room/list"), token.clone());
            let b = rate(n, in_flight, move |_| {
                let (r, url, t) = (r.clone(), url.clone(), t.clone());
                async move {
                    let v: Value = r.get(url).query(&[("token", t)]).send().await.unwrap().json().await.unwrap();
                    assert_eq!(v["ret"], 0, "{v}");
                }
            })
            .await;
            (m, b)
        })
        .await;
        let how = if in_flight == 1 { "sequential" } else { "64 in flight" };
        rows.push(Row::rates(format!("1. AVD `room.list` (token cached), {how}"), m, "raw reqwest", b, 0.9));

        let (m, b) = median_of(rounds, || async {
            let c = client.clone();
            let m = rate(n, in_flight, move |_| {
                let c = c.clone();
                async move {
                    c.call("netease", "meeting.list", json!({})).await.expect("meetkit call");
                }
            })
            .await;
            let (r, ne) = (raw.clone(), ne.clone());
            let b = rate(n, in_flight, move |_| {
                let (r, (url, key, secret)) = (r.clone(), ne.clone());
                async move {
                    // Never reused within a run: the strict simulator refuses a replayed Nonce.
                    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                    let nonce = format!(
                        "{:04x}{:012}",
                        std::process::id() & 0xffff,
                        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    );
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
        rows.push(Row::rates(format!("1. NetEase `meeting.list` (signed), {how}"), m, "raw reqwest + sha1", b, 0.9));
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
        (m, meetkit_sequential(client, script_n).await)
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
    let v: Value = raw
        .get(format!("{}/sdkapi/v2/app/get_token", p["avd"]["base_url"].as_str().unwrap()))
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
