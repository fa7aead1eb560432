//! Figure 9: AVD `room.list` over TLS — the simulator in TLS mode (`meetkit-bench sim --tls`,
//! its own CA trusted by both sides: meetkit through the profile's `transport.ca_cert`, the raw
//! loop through `add_root_certificate`) — meetkit against hand-written reqwest, sequential and
//! 64 in flight; and how many TLS handshakes each side makes per 1,000 calls.
//!
//! Handshakes are counted as accepted TCP connections: every connection to an HTTPS server
//! starts with a handshake (the simulator offers only HTTP/1.1, so no connection carries two
//! requests at once). The counting is a separate pass through a small TCP proxy in this
//! process, so the proxy's copying never touches the timed rounds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use meetkit::config::Profile;
use meetkit::Client;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};

use crate::calls::{avd_token, rate};
use crate::report::{median_of, Row};
use crate::simproc::SimProcess;

/// The rows of figure 9 against `sim` (started with `--tls`): `n` calls per round, `rounds`
/// rounds, and `count_calls` calls per side for the handshake count.
pub async fn figures(sim: &SimProcess, n: usize, rounds: usize, count_calls: usize) -> Vec<Row> {
    let p = &sim.profile;
    let avd_url = p["avd"]["base_url"].as_str().expect("avd base_url").to_string();
    assert!(avd_url.starts_with("https://"), "figure 9 needs the simulator in TLS mode, got {avd_url}");
    let ca = std::fs::read(p["transport"]["ca_cert"].as_str().expect("transport.ca_cert in the TLS profile"))
        .expect("read the simulator's CA");
    let raw_client = || {
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("the simulator's CA PEM"))
            .build()
            .expect("reqwest client with the simulator's CA")
    };
    let meetkit_client =
        |profile: &Value| Client::from_profile(&Profile::from_json("bench-tls", profile).unwrap()).unwrap();

    let raw = raw_client();
    let token = avd_token(&raw, p).await;
    let client = meetkit_client(p);
    client.call("avd", "room.list", Value::Null).await.expect("meetkit over TLS");

    let mut rows = Vec::new();
    for in_flight in [1usize, 64] {
        let (m, b) = median_of(rounds, || async {
            let m = meetkit_avd_rate(&client, n, in_flight).await;
            let b = raw_avd_rate(&raw, &avd_url, &token, n, in_flight).await;
            (m, b)
        })
        .await;
        let how = if in_flight == 1 { "sequential" } else { "64 in flight" };
        rows.push(Row::rates(
            format!("9. TLS: AVD `room.list` (token cached), {how}"),
            m,
            "raw reqwest, same TLS",
            b,
            0.9,
        ));
    }

    // Handshakes: a fresh client per side and pace, its connections counted at a proxy.
    let proxy = CountingProxy::start(&avd_url).await;
    let mut counts = Vec::new();
    for in_flight in [1usize, 64] {
        let mut profile = p.clone();
        profile["avd"]["base_url"] = Value::String(proxy.url.clone());
        let fresh = meetkit_client(&profile);
        let before = proxy.accepted();
        meetkit_avd_rate(&fresh, count_calls, in_flight).await;
        let m = proxy.accepted() - before;
        let before = proxy.accepted();
        raw_avd_rate(&raw_client(), &proxy.url, &token, count_calls, in_flight).await;
        let b = proxy.accepted() - before;
        counts.push((in_flight, m, b));
    }
    let per_1000 = |k: u64| k as f64 * 1000.0 / count_calls as f64;
    let show = |side: fn(&(usize, u64, u64)) -> u64| {
        counts
            .iter()
            .map(|c| format!("{:.0} {}", per_1000(side(c)), if c.0 == 1 { "sequential" } else { "at 64 in flight" }))
            .collect::<Vec<_>>()
            .join(", ")
    };
    rows.push(Row::info(
        "9. … TLS handshakes per 1,000 calls (new connections, fresh client)",
        format!("meetkit: {}", show(|c| c.1)),
        format!(
            "raw reqwest: {} ({count_calls} calls per side and pace; meetkit's count includes its token call)",
            show(|c| c.2)
        ),
    ));
    rows
}

/// `n` meetkit `room.list` calls, `in_flight` at once; calls per second.
async fn meetkit_avd_rate(client: &Client, n: usize, in_flight: usize) -> f64 {
    let c = client.clone();
    rate(n, in_flight, move |_| {
        let c = c.clone();
        async move {
            c.call("avd", "room.list", Value::Null).await.expect("meetkit call over TLS");
        }
    })
    .await
}

/// `n` hand-written `GET /sdkapi/v2/room/list?token=` calls, `in_flight` at once; calls per second.
async fn raw_avd_rate(raw: &reqwest::Client, base_url: &str, token: &str, n: usize, in_flight: usize) -> f64 {
    let (raw, url, token) = (raw.clone(), format!("{base_url}/sdkapi/v2/room/list"), token.to_string());
    rate(n, in_flight, move |_| {
        let (r, url, t) = (raw.clone(), url.clone(), token.clone());
        async move {
            let v: Value = r.get(url).query(&[("token", t)]).send().await.unwrap().json().await.unwrap();
            assert_eq!(v["ret"], 0, "{v}");
        }
    })
    .await
}

/// A TCP proxy on 127.0.0.1 in front of one server, counting the connections it accepts.
/// TLS passes through untouched (the simulator's certificate names 127.0.0.1, whatever the port).
struct CountingProxy {
    url: String,
    accepted: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl CountingProxy {
    async fn start(upstream_url: &str) -> CountingProxy {
        let upstream =
            upstream_url.split_once("://").map_or(upstream_url, |(_, rest)| rest).trim_end_matches('/').to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the counting proxy");
        let url = format!("https://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicU64::new(0));
        let count = accepted.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::Relaxed);
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                        let _ = inbound.set_nodelay(true);
                        let _ = outbound.set_nodelay(true);
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        CountingProxy { url, accepted, task }
    }

    fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
