//! Fault injection and request statistics (vendor-neutral plumbing),
//! exercised on the AVD server.

mod common;

use std::time::{Duration, Instant};

use base64::Engine;
use common::{ret, Env};
use futures::StreamExt;
use md5::{Digest, Md5};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn arm(env: &Env, spec: Value) {
    let (s, v) = env.admin("/_sim/faults", spec).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

async fn list_rooms(env: &Env, t: &str) -> reqwest::Result<reqwest::Response> {
    env.http.get(format!("{}/sdkapi/v2/room/list", env.base)).query(&[("token", t)]).send().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_invented_stats_count_every_vendor_request() {
    let env = Env::start().await;
    let calls = (0..50).map(|_| env.token());
    let tokens = futures::future::join_all(calls).await;
    assert_eq!(tokens.len(), 50);
    env.call(&tokens[0], "/room/list", &[]).await;
    env.admin_get("/_sim/health").await;
    let stats = env.admin_get("/_sim/stats").await;
    assert_eq!(stats, json!({"requests": {"/sdkapi/v2/app/get_token": 50, "/sdkapi/v2/room/list": 1}}));
    env.admin("/_sim/reset", json!({})).await;
    assert_eq!(env.admin_get("/_sim/stats").await, json!({"requests": {}}));
}

#[tokio::test]
async fn sim_invented_error_status_hits_exactly_the_next_request() {
    let env = Env::start().await;
    let t = env.token().await;
    arm(&env, json!({"error_status": 503, "count": 1})).await;
    let first = list_rooms(&env, &t).await.unwrap();
    assert_eq!(first.status(), StatusCode::SERVICE_UNAVAILABLE);
    let second = list_rooms(&env, &t).await.unwrap();
    assert_eq!(second.status(), StatusCode::OK);
    // Faulted requests are counted too; admin calls never are.
    let stats = env.admin_get("/_sim/stats").await;
    assert_eq!(stats["requests"]["/sdkapi/v2/room/list"], 2);
}

#[tokio::test]
async fn sim_invented_error_code_uses_vendor_envelope_and_paths_filter() {
    let env = Env::start().await;
    arm(&env, json!({"error_code": 41001, "paths": ["/sdkapi/v2/room/"]})).await;
    let t = env.token().await; // /app/get_token is not matched
    for _ in 0..2 {
        let v: Value = list_rooms(&env, &t).await.unwrap().json().await.unwrap();
        assert_eq!(v, json!({"ret": 41001, "msg": "redis error"}));
    }
    // Never applied to the admin API.
    assert_eq!(env.admin_get("/_sim/health").await, json!({"ok": true}));
    let (s, _) = env.admin("/_sim/faults", json!({"bogus": 1})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let cleared = env.http.delete(format!("{}/_sim/faults", env.base)).send().await.unwrap();
    assert_eq!(cleared.status(), StatusCode::OK);
    let v: Value = list_rooms(&env, &t).await.unwrap().json().await.unwrap();
    assert_eq!(ret(&v), 0);
}

#[tokio::test]
async fn sim_invented_drop_closes_the_connection_without_answer() {
    let env = Env::start().await;
    let t = env.token().await;
    arm(&env, json!({"drop_rate": 1.0, "count": 1})).await;
    let err = list_rooms(&env, &t).await.expect_err("dropped");
    assert!(!err.is_timeout(), "{err}");
    assert_eq!(list_rooms(&env, &t).await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn sim_invented_malformed_and_latency() {
    let env = Env::start().await;
    let t = env.token().await;
    arm(&env, json!({"malformed_rate": 1.0, "count": 1})).await;
    let resp = list_rooms(&env, &t).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");

    // Latency is real time by nature (it delays a real answer): at least its 300 ms.
    arm(&env, json!({"latency_ms": 300, "count": 1})).await;
    let started = Instant::now();
    assert_eq!(list_rooms(&env, &t).await.unwrap().status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));
    // Used up by that request: nothing is armed for the next one.
    assert_eq!(env.admin_get("/_sim/faults").await, json!({"faults": []}));
    assert_eq!(list_rooms(&env, &t).await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn sim_invented_seeded_rates_are_deterministic() {
    let env = Env::start().await;
    let t = env.token().await;
    let mut runs = Vec::new();
    for _ in 0..2 {
        env.http.delete(format!("{}/_sim/faults", env.base)).send().await.unwrap();
        arm(&env, json!({"error_status": 500, "error_rate": 0.5, "seed": 42})).await;
        let mut pattern = Vec::new();
        for _ in 0..24 {
            pattern.push(list_rooms(&env, &t).await.unwrap().status() == StatusCode::OK);
        }
        runs.push(pattern);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].iter().any(|ok| *ok) && runs[0].iter().any(|ok| !*ok));
}

#[tokio::test]
async fn sim_invented_drop_after_bytes_then_resume_with_range() {
    let env = Env::start().await;
    let t = env.token().await;
    env.create_room(&t, "1").await;
    env.join("1", "u", "web").await;
    let start = env.call(&t, "/room/mix_record/start", &[("room_id", "1")]).await;
    assert_eq!(ret(&start), 0);
    env.advance(10.0).await;
    let stop = env.call(&t, "/room/mix_record/stop", &[("room_id", "1")]).await;
    let url = stop["data"][0]["download_url"].as_str().unwrap().to_owned();

    arm(&env, json!({"drop_after_bytes": 100000, "paths": ["/attachment"], "count": 1})).await;
    let resp = env.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let total: usize = resp.headers()["content-length"].to_str().unwrap().parse().unwrap();
    let full_md5 = resp.headers()["content-md5"].to_str().unwrap().to_owned();
    let mut got = Vec::new();
    let mut body = resp.bytes_stream();
    let mut failed = false;
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(c) => got.extend_from_slice(&c),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    assert!(failed, "body must be cut");
    assert_eq!(got.len(), 100000);
    assert!(got.len() < total);

    let rest = env.http.get(&url).header("Range", format!("bytes={}-", got.len())).send().await.unwrap();
    assert_eq!(rest.status(), StatusCode::PARTIAL_CONTENT);
    got.extend_from_slice(&rest.bytes().await.unwrap());
    assert_eq!(got.len(), total);
    let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(&got));
    assert_eq!(md5, full_md5);
}

/// `Simulator::advance_clock` (for Rust tests) moves the one clock every vendor server reads,
/// like `POST /_sim/clock/advance`; simulator-only: no vendor has a clock to move.
#[tokio::test]
async fn sim_invented_advance_clock_moves_every_server() {
    let env = Env::start().await;
    env.sim.advance_clock(Duration::from_secs(3600));
    env.advance(1.5).await;
    let sim = &env.sim;
    for base in [sim.avd_base_url(), sim.kedacom_base_url(), sim.vmr_mcu_base_url(), sim.netease_base_url()] {
        let clock: Value = env.http.get(format!("{base}/_sim/clock")).send().await.unwrap().json().await.unwrap();
        assert_eq!(clock["offset_seconds"], 3601.5, "{base}");
    }
    // Virtual time the vendors see: an AVD token (2 h) still works, then expires.
    let t = env.token().await;
    assert_eq!(ret(&env.call(&t, "/room/list", &[]).await), 0);
    env.sim.advance_clock(Duration::from_secs(2 * 3600));
    assert_eq!(ret(&env.call(&t, "/room/list", &[]).await), 40003, "expired after 2 virtual hours");
}
