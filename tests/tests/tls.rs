//! The simulator over HTTPS (`SimOptions::tls`, `meetkit sim --tls`): every vendor is called
//! through its CA (`transport.ca_cert` from the simulator's profile), vmr's mcuHost and event
//! stream included; a client that does not trust the CA gets a typed config error naming the
//! vendor, the endpoint and the fix, is not retried and never falls back to plain HTTP;
//! `insecure = true` works, with one warning per process (checked through the CLI).

mod common;

use std::process::Command;
use std::time::Duration;

use futures::StreamExt;
use meetkit::config::Profile;
use meetkit::{Client, Error};
use meetkit_sim::{SimOptions, Simulator};
use serde_json::{json, Value};

async fn tls_sim() -> Simulator {
    Simulator::start(SimOptions { tls: true, ..SimOptions::default() }).await.expect("simulator starts")
}

/// Requests a simulator server has answered, all paths together (read over HTTPS with its CA).
async fn served(http: &reqwest::Client, base: &str) -> u64 {
    let stats: Value = http.get(format!("{base}/_sim/stats")).send().await.unwrap().json().await.unwrap();
    stats["requests"].as_object().map_or(0, |m| m.values().filter_map(Value::as_u64).sum())
}

fn trusting(sim: &Simulator) -> reqwest::Client {
    let pem = std::fs::read(sim.ca_cert_path().unwrap()).unwrap();
    let ca = reqwest::Certificate::from_pem(&pem).unwrap();
    reqwest::Client::builder().add_root_certificate(ca).build().unwrap()
}

#[tokio::test]
async fn every_vendor_is_called_over_https_with_the_simulators_ca() {
    let sim = tls_sim().await;
    let profile = sim.profile();
    for url in [&profile["avd"]["base_url"], &profile["kedacom"]["base_url"], &profile["netease"]["base_url"]] {
        assert!(url.as_str().unwrap().starts_with("https://127.0.0.1:"), "{url}");
    }
    assert!(profile["vmr"]["api_server"].as_str().unwrap().starts_with("https://"));
    assert_eq!(profile["vmr"]["mcu_scheme"], "https");
    let ca = profile["transport"]["ca_cert"].as_str().expect("the profile names the CA").to_owned();
    assert!(std::fs::read_to_string(&ca).unwrap().starts_with("-----BEGIN CERTIFICATE-----"));

    let client = Client::from_profile(&common::fast_profile(&profile)).unwrap();
    client.call("avd", "room.create", json!({"room_id": "tls-room", "user_id": "ops"})).await.unwrap();
    client.call("avd", "room.read", json!({"room_id": "tls-room"})).await.unwrap();
    client.call("kedacom", "version.get", json!({})).await.unwrap();
    client.call("netease", "account.create", json!({"shortId": "4321"})).await.unwrap();
    client.call("vmr", "meet.check_join", json!({})).await.unwrap();
    client.call("vmr", "conference.status", json!({})).await.unwrap();
    // The mcuHost's event stream (server-sent events) over TLS too.
    let mut events = client.events("vmr", json!({})).await.unwrap();
    let http = trusting(&sim);
    let join = format!("{}/_sim/vmr/rooms/meetkit@sim.vmr/join", sim.vmr_mcu_base_url());
    let joined = http.post(join).json(&json!({"display_name": "tls guest"})).send().await.unwrap();
    assert!(joined.status().is_success(), "{}", joined.status());
    let first = tokio::time::timeout(Duration::from_secs(30), events.next()).await.expect("an event").unwrap();
    assert!(first.is_ok(), "{first:?}");
    drop(events);
    client.close().await.unwrap();

    // Every server answered over TLS (the plain-HTTP port is the same port: nothing else listens).
    for base in [sim.avd_base_url(), sim.kedacom_base_url(), sim.netease_base_url(), sim.vmr_mcu_base_url()] {
        assert!(served(&http, &base).await > 0, "{base}");
    }
    let plain = base_as_http(&sim.avd_base_url());
    assert!(reqwest::get(format!("{plain}/_sim/health")).await.is_err(), "plain HTTP answered on the TLS port");
    let ca_file = sim.ca_cert_path().unwrap().to_path_buf();
    sim.shutdown().await;
    assert!(!ca_file.exists(), "the CA file is removed when the simulator stops");
}

fn base_as_http(base: &str) -> String {
    base.replacen("https://", "http://", 1)
}

#[tokio::test]
async fn a_client_without_the_ca_gets_a_clear_config_error_and_is_not_retried() {
    let sim = tls_sim().await;
    let http = trusting(&sim);
    let mut value = sim.profile();
    value.as_object_mut().unwrap().remove("transport");
    let client = Client::from_profile(&common::fast_profile(&value)).unwrap();
    let before = served(&http, &sim.netease_base_url()).await;
    let err = client.call("netease", "account.create", json!({"shortId": "4321"})).await.unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    assert_eq!(err.kind(), "config");
    assert!(!err.is_retryable());
    let text = err.to_string();
    for part in ["netease account.create", "not trusted", "ca_cert", "transport", "insecure = true"] {
        assert!(text.contains(part), "`{part}` missing from: {text}");
    }
    assert!(!text.contains("sim-app-secret"), "{text}");
    // The handshake failed, so the simulator served nothing (no fallback to HTTP, no retry that got through).
    assert_eq!(served(&http, &sim.netease_base_url()).await, before);

    // Another CA (a second simulator's) is refused the same way: trusting *a* CA is not enough.
    let other = tls_sim().await;
    value["transport"] = json!({"ca_cert": other.ca_cert_path().unwrap()});
    let client = Client::from_profile(&common::fast_profile(&value)).unwrap();
    let err = client.call("avd", "room.create", json!({"room_id": "x", "user_id": "ops"})).await.unwrap_err();
    assert!(matches!(err, Error::Config { .. }) && err.to_string().contains("avd"), "{err:?}");

    // insecure = true: accepted without the CA.
    value["transport"] = json!({"insecure": true});
    let client = Client::from_profile(&Profile::from_json("sim", &value).unwrap()).unwrap();
    client.call("kedacom", "version.get", json!({})).await.unwrap();
    client.close().await.unwrap();
}

/// `meetkit call` with `insecure = true` against the TLS simulator: the call succeeds, and the
/// warning is written once even though the run talks to two vendors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_works_and_warns_once_per_run() {
    let sim = tls_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let mut value = sim.profile();
    value["transport"] = json!({"insecure": true});
    let profile = dir.path().join("profile.json");
    std::fs::write(&profile, value.to_string()).unwrap();
    let script = dir.path().join("two.rhai");
    std::fs::write(
        &script,
        "vendor(\"kedacom\").call(\"version.get\", #{});\nvendor(\"avd\").call(\"room.list\", #{});\n",
    )
    .unwrap();
    let bin = meetkit_bin();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .args(["run", script.to_str().unwrap(), "--no-journal", "--profile-json", profile.to_str().unwrap()])
            .env_remove("MEETKIT_LOG")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr.matches("transport.insecure = true").count(), 1, "{stderr}");
    sim.shutdown().await;
}

/// The `meetkit` binary of this build (built first; a no-op when fresh).
fn meetkit_bin() -> std::path::PathBuf {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let mut build = Command::new(env!("CARGO"));
    build.args(["build", "--quiet", "-p", "meetkit-cli", "--bin", "meetkit"]).current_dir(&repo);
    if !cfg!(debug_assertions) {
        build.arg("--release");
    }
    assert!(build.status().unwrap().success(), "cargo build -p meetkit-cli failed");
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join(format!("meetkit{}", std::env::consts::EXE_SUFFIX))
}
