//! The AVD client against the AVD simulator over real HTTP: auth lifecycle, retries,
//! errors, downloads and the record workflow script.

mod common;

use common::api_code;
use std::sync::Arc;

use meetkit::config::Profile;
use meetkit::download::DownloadOptions;
use meetkit::script::ScriptOptions;
use meetkit::{Client, Error};
use meetkit_sim::{SimOptions, Simulator};
use serde_json::{json, Value};

struct Sim {
    sim: Simulator,
    http: reqwest::Client,
}

impl Sim {
    async fn start() -> Sim {
        let sim = Simulator::start(SimOptions::default()).await.expect("simulator starts");
        Sim { sim, http: reqwest::Client::new() }
    }

    fn client(&self) -> Client {
        self.client_with(|_| {})
    }

    fn client_with(&self, tweak: impl FnOnce(&mut Profile)) -> Client {
        let mut profile = common::fast_profile(&self.sim.profile());
        tweak(&mut profile);
        Client::from_profile(&profile).unwrap()
    }

    async fn admin(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        common::admin(&self.http, &self.sim.avd_base_url(), method, path, body).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.admin(reqwest::Method::POST, path, body).await
    }

    /// How many vendor requests the simulator has seen for `path`.
    async fn hits(&self, path: &str) -> u64 {
        let stats = self.admin(reqwest::Method::GET, "stats", Value::Null).await;
        stats["requests"][path].as_u64().unwrap_or(0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_calls_share_one_token_and_one_refresh_assumption_avd_token_renewal() {
    let sim = Sim::start().await;
    let client = sim.client();
    let calls = (0..40).map(|i| {
        let c = client.clone();
        async move { c.call("avd", "room.create", json!({"room_id": format!("r{i}"), "user_id": "ops"})).await }
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(sim.hits("/sdkapi/v2/app/get_token").await, 1, "one token for 40 concurrent calls");

    sim.post("avd/tokens/expire", json!({})).await;
    let calls = (0..40).map(|i| {
        let c = client.clone();
        async move { c.call("avd", "room.read", json!({"room_id": format!("r{i}")})).await }
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(sim.hits("/sdkapi/v2/app/get_token").await, 2, "one refresh after the token expired");
    // Each call is resent at most once; calls that started after the renewal needed no resend.
    let reads = sim.hits("/sdkapi/v2/room/read").await;
    assert!((41..=80).contains(&reads), "{reads} requests for 40 reads");
}

#[tokio::test]
async fn wrong_credentials_are_an_auth_error_without_the_secret() {
    let sim = Sim::start().await;
    let client = sim.client_with(|p| p.avd.as_mut().unwrap().secret_key = meetkit::secret::Secret::new("wrong-secret"));
    let err = client.call("avd", "room.list", Value::Null).await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("wrong-secret"), "{text}");
    assert!(text.contains("app.get_token refused"), "{text}");
}

#[tokio::test]
async fn documented_errors_come_back_typed() {
    let sim = Sim::start().await;
    let client = sim.client();
    client.call("avd", "room.create", json!({"room_id": "dup", "user_id": "ops"})).await.unwrap();
    let err = client.call("avd", "room.create", json!({"room_id": "dup", "user_id": "ops"})).await.unwrap_err();
    match &err {
        Error::Api { vendor, endpoint, code, meaning, .. } => {
            assert_eq!((vendor.as_str(), endpoint.as_str(), code.as_str()), ("avd", "room.create", "40005"));
            assert!(meaning.unwrap().contains("already exists"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(api_code(client.call("avd", "room.read", json!({"room_id": "none"})).await), "40004");
    // The `code` envelope: closing a room nobody is in.
    assert_eq!(api_code(client.call("avd", "room.close", json!({"room_id": "dup"})).await), "41005");
}

#[tokio::test]
async fn invalid_params_are_rejected_before_sending() {
    let sim = Sim::start().await;
    let client = sim.client();
    let err = client.call("avd", "room.create", json!({"room_id": "x"})).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidParams { param, .. } if param == "user_id"), "{err:?}");
    let err =
        client.call("avd", "room.create", json!({"room_id": "x", "user_id": "o", "enable_auto_avc": "yes"})).await;
    assert!(matches!(err, Err(Error::InvalidParams { .. })));
    let err = client.call("avd", "room.mix_record.start", json!({"room_id": "x", "videos": "{broken"})).await;
    assert!(matches!(err, Err(Error::InvalidParams { .. })));
    assert!(matches!(client.call("avd", "rooms.list", Value::Null).await, Err(Error::UnknownEndpoint { .. })));
    assert_eq!(sim.hits("/sdkapi/v2/app/get_token").await, 0, "nothing was sent");
}

#[tokio::test]
async fn reads_are_retried_on_5xx_but_creates_are_not_assumption_avd_retries() {
    let sim = Sim::start().await;
    let client = sim.client();
    client.call("avd", "room.create", json!({"room_id": "r", "user_id": "ops"})).await.unwrap();

    sim.post("faults", json!({"error_rate": 1.0, "error_status": 503, "paths": ["/sdkapi/v2/room/read"], "count": 2}))
        .await;
    let room = client.call("avd", "room.read", json!({"room_id": "r"})).await.unwrap();
    assert!(room.get("data").is_some(), "{room}");
    assert_eq!(sim.hits("/sdkapi/v2/room/read").await, 3);

    sim.post(
        "faults",
        json!({"error_rate": 1.0, "error_status": 503, "paths": ["/sdkapi/v2/room/create"], "count": 1}),
    )
    .await;
    let err = client.call("avd", "room.create", json!({"room_id": "r2", "user_id": "ops"})).await.unwrap_err();
    assert!(matches!(err, Error::Http { status: 503, .. }), "{err:?}");
    assert_eq!(sim.hits("/sdkapi/v2/room/create").await, 2, "the create was not resent");
    // It really was not created, so creating it now works.
    client.call("avd", "room.create", json!({"room_id": "r2", "user_id": "ops"})).await.unwrap();
}

#[tokio::test]
async fn dropped_and_malformed_answers_are_outcome_unknown_and_decode_errors_assumption_avd_retries() {
    let sim = Sim::start().await;
    let client = sim.client();
    client.call("avd", "room.list", Value::Null).await.unwrap();

    sim.post("faults", json!({"drop_rate": 1.0, "paths": ["/sdkapi/v2/room/create"], "count": 1})).await;
    let err = client.call("avd", "room.create", json!({"room_id": "d", "user_id": "ops"})).await.unwrap_err();
    // The request reached the server and its answer was lost: the create may have happened.
    assert!(matches!(err, Error::OutcomeUnknown { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(sim.hits("/sdkapi/v2/room/create").await, 1, "not resent");

    sim.post("faults", json!({"malformed_rate": 1.0, "paths": ["/sdkapi/v2/room/list"], "count": 5})).await;
    let err = client.call("avd", "room.list", Value::Null).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");

    sim.post("faults", json!({"error_rate": 1.0, "error_code": 41001, "paths": ["/sdkapi/v2/room/list"], "count": 1}))
        .await;
    sim.admin(reqwest::Method::DELETE, "faults", Value::Null).await;
    client.call("avd", "room.list", Value::Null).await.unwrap();
}

/// Drive a device into a room and record for two (virtual) seconds; returns the stop payload's
/// files.
async fn record(sim: &Sim, client: &Client, room: &str) -> Vec<Value> {
    client.call("avd", "room.create", json!({"room_id": room, "user_id": "ops"})).await.unwrap();
    let call = client
        .call("avd", "device.call", json!({"room_id": room, "name": "d", "url": "sip:1@10.0.0.5"}))
        .await
        .unwrap();
    // Past the simulator's 1 s invite delay: the device is connected.
    sim.sim.advance_clock(std::time::Duration::from_secs(2));
    let s = client.call("avd", "device.get_invite_status", json!({"call_id": call["call_id"]})).await.unwrap();
    assert_eq!(s["invite_status"].to_string().trim_matches('"'), "1", "{s}");
    let rec = client.call("avd", "room.mix_record.start", json!({"room_id": room})).await.unwrap();
    assert_eq!(api_code(client.call("avd", "room.mix_record.start", json!({"room_id": room})).await), "40040");
    sim.sim.advance_clock(std::time::Duration::from_secs(2));
    let stopped = client
        .call("avd", "room.mix_record.stop", json!({"room_id": room, "record_id": rec["record_id"]}))
        .await
        .unwrap();
    stopped["data"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn recordings_download_with_resume_after_a_dropped_connection_assumption_avd_download_range() {
    let sim = Sim::start().await;
    let client = sim.client();
    let files = record(&sim, &client, "dl").await;
    assert!(!files.is_empty());
    let url = files[0]["download_url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&sim.sim.avd_base_url()), "attachment URL points at the configured host: {url}");

    let dir = tempfile::tempdir().unwrap();
    let clean = client.download(&url, &dir.path().join("a"), DownloadOptions::default()).await.unwrap();

    sim.post("faults", json!({"drop_after_bytes": 1000, "paths": ["/attachment"], "count": 1})).await;
    let resumed = client.download(&url, &dir.path().join("b"), DownloadOptions::default()).await.unwrap();
    assert_eq!(resumed.resumed, 1, "one resume with Range");
    assert_eq!((resumed.bytes, &resumed.md5), (clean.bytes, &clean.md5));
    assert_eq!(std::fs::read(&resumed.path).unwrap(), std::fs::read(&clean.path).unwrap());

    // The simulator's own record of the file agrees on size and checksum.
    let state = sim.admin(reqwest::Method::GET, "state", Value::Null).await.to_string();
    assert!(state.contains(&clean.md5), "md5 {} not in the simulator state", clean.md5);
}

#[tokio::test]
async fn a_failed_download_leaves_no_file() {
    let sim = Sim::start().await;
    let client = sim.client();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/attachment?file=/nope/missing.mp4", sim.sim.avd_base_url());
    let err = client.download(&url, dir.path(), DownloadOptions::default()).await.unwrap_err();
    assert_eq!((err.kind(), err.vendor_code().as_deref(), err.vendor()), ("http", Some("404"), None), "{err:?}");

    let files = record(&sim, &client, "bad-md5").await;
    let url = files[0]["download_url"].as_str().unwrap();
    let opts = DownloadOptions { expected_md5: Some("0".repeat(32)), ..DownloadOptions::default() };
    let err = client.download(url, dir.path(), opts).await.unwrap_err();
    assert!(matches!(err, Error::Integrity { what: "md5", .. }), "{err:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing left behind");
}

fn run_script(client: &Client, source: &str, out: &std::path::Path) -> meetkit::Result<Value> {
    let printed = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = printed.clone();
    let options = ScriptOptions {
        out_dir: out.to_path_buf(),
        print: Arc::new(move |s| sink.lock().unwrap().push(s.to_string())),
        ..ScriptOptions::default()
    };
    meetkit::script::run_source(source, Some("test.rhai"), client, tokio::runtime::Handle::current(), options)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_record_workflow_script_leaves_the_recording_on_disk() {
    let sim = Sim::start().await;
    let client = sim.client();
    let dir = tempfile::tempdir().unwrap();
    let script =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/avd_record_meeting.rhai")).unwrap();
    let source = format!("let record_seconds = 1;\nlet room_id = \"wf\";\n{script}");
    let (c, out) = (client.clone(), dir.path().to_path_buf());
    let result = tokio::task::spawn_blocking(move || run_script(&c, &source, &out)).await.unwrap().unwrap();
    assert_eq!(result["room_id"], "wf");
    let files = result["files"].as_array().unwrap();
    assert!(!files.is_empty());
    let mut total = 0;
    for f in files {
        total += std::fs::metadata(dir.path().join(f.as_str().unwrap())).unwrap().len();
    }
    assert_eq!(json!(total), result["bytes"]);
    // The meeting was closed at the end.
    assert_eq!(api_code(client.call("avd", "room.close", json!({"room_id": "wf"})).await), "41005");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_errors_are_catchable_maps() {
    let sim = Sim::start().await;
    let client = sim.client();
    let dir = tempfile::tempdir().unwrap();
    let source = r#"
        let avd = vendor("avd");
        let caught = ();
        try { avd.call("room.read", #{ room_id: "missing" }); } catch (e) {
            caught = #{ vendor: e.vendor, endpoint: e.endpoint, code: e.code, message: e.message, retryable: e.retryable };
        }
        caught
    "#;
    let (c, out) = (client.clone(), dir.path().to_path_buf());
    let v = tokio::task::spawn_blocking(move || run_script(&c, source, &out)).await.unwrap().unwrap();
    assert_eq!(v["vendor"], "avd");
    assert_eq!(v["endpoint"], "room.read");
    assert_eq!(v["code"], "40004");
    assert_eq!(v["retryable"], false);
    assert!(v["message"].as_str().unwrap().contains("room"), "{v}");

    let (c, out) = (client.clone(), dir.path().to_path_buf());
    let err = tokio::task::spawn_blocking(move || {
        run_script(&c, "let x = 1;\ndownload(\"http://x/a\", \"../escape\");", &out)
    })
    .await
    .unwrap()
    .unwrap_err();
    assert!(err.to_string().contains("test.rhai:2:") && err.to_string().contains("without `..`"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_events_of_a_vendor_without_events_is_a_clear_catchable_error() {
    let sim = Sim::start().await;
    let client = sim.client();
    let dir = tempfile::tempdir().unwrap();
    let source = r#"
        let caught = ();
        try { wait_event("avd", "anything", 1); } catch (e) { caught = e.message; }
        caught
    "#;
    let (c, out) = (client.clone(), dir.path().to_path_buf());
    let v = tokio::task::spawn_blocking(move || run_script(&c, source, &out)).await.unwrap().unwrap();
    assert!(v.as_str().unwrap().contains("sends no events"), "{v}");
}

#[tokio::test]
async fn get_statistic_on_an_unknown_room_is_not_mistaken_for_an_expired_token_assumption_avd_statistic_40003() {
    let sim = Sim::start().await;
    let client = sim.client();
    let err = client
        .call("avd", "room.get_statistic", json!({"room_id": "nope", "start_time": 0, "end_time": 10}))
        .await
        .unwrap_err();
    match &err {
        Error::Api { code, meaning, .. } => {
            assert_eq!(code, "40003");
            assert!(meaning.unwrap().starts_with("Room id does not exist"), "{err}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.hits("/sdkapi/v2/room/get_statistic").await, 1, "not resent");
    assert_eq!(sim.hits("/sdkapi/v2/app/get_token").await, 1, "no token renewal");
}

/// Accept on `listener` and forward every connection to `target` byte for byte: a second
/// port serving the same files, as the doc's `/room/record/get` example serves attachments
/// from `:9609` while the API answers on `:9610`.
async fn forward(listener: tokio::net::TcpListener, target: String) {
    while let Ok((mut inbound, _)) = listener.accept().await {
        let target = target.clone();
        tokio::spawn(async move {
            if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}

#[tokio::test]
async fn attachment_urls_are_used_as_the_server_gives_them_unless_rewriting_is_configured_assumption_avd_attachment_urls(
) {
    let file_port = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let file_base = format!("http://{}", file_port.local_addr().unwrap());
    let avd = meetkit_sim::AvdOptions { attachment_base: Some(file_base.clone()), ..Default::default() };
    let sim = Simulator::start(SimOptions { avd, ..Default::default() }).await.unwrap();
    let api_base = sim.avd_base_url();
    tokio::spawn(forward(file_port, api_base.trim_start_matches("http://").to_string()));
    let sim = Sim { sim, http: reqwest::Client::new() };

    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    std::fs::write(&clip, vec![9u8; 4096]).unwrap();
    let upload = json!({"file": clip.to_str().unwrap()});

    // Default: the URL names the file port the server reported, and downloads from there.
    let client = sim.client();
    let url =
        client.call("avd", "uploadfile", upload.clone()).await.unwrap()["download_url"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("{file_base}/attachment?file=/opt/3tee/resources/clip.mp4"));
    let got = client.download(&url, &dir.path().join("a"), DownloadOptions::default()).await.unwrap();
    assert_eq!(got.bytes, 4096);

    // `rewrite_attachment_urls = true`: re-pointed at base_url's host and port.
    let rewriting = sim.client_with(|p| p.avd.as_mut().unwrap().rewrite_attachment_urls = true);
    let url = rewriting.call("avd", "uploadfile", upload).await.unwrap()["download_url"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("{api_base}/attachment?file=/opt/3tee/resources/clip.mp4"));
    let got = rewriting.download(&url, &dir.path().join("b"), DownloadOptions::default()).await.unwrap();
    assert_eq!(got.bytes, 4096);
}

#[tokio::test]
async fn numbers_for_string_parameters_are_sent_as_their_text_assumption_common_param_types() {
    let sim = Sim::start().await;
    let client = sim.client();
    let created = client.call("avd", "room.create", json!({"room_id": 2024, "user_id": 42})).await.unwrap();
    assert_eq!(created, json!({"room_id": "2024"}));
    // Text given for int/bool parameters is converted, and the strict simulator accepts it.
    let listed = client
        .call("avd", "room.get_statistic", json!({"room_id": 2024, "start_time": "0", "end_time": "1"}))
        .await
        .unwrap();
    assert!(listed.is_object(), "{listed}");
    let upd = json!({"room_id": "2024", "enable_auto_avc": "true"});
    assert_eq!(client.call("avd", "room.update", upd).await.unwrap(), json!({}));
    let read = client.call("avd", "room.read", json!({"room_id": "2024"})).await.unwrap();
    assert_eq!((&read["data"]["user_id"], &read["data"]["enable_auto_avc"]), (&json!("42"), &json!(true)));
    // What cannot be converted is refused before sending, naming the parameter and type.
    let before = sim.hits("/sdkapi/v2/room/update").await;
    let err = client.call("avd", "room.update", json!({"room_id": 2024.5})).await.unwrap_err();
    assert!(err.to_string().contains("`room_id`: expected string, got float (2024.5)"), "{err}");
    assert!(matches!(err, Error::InvalidParams { .. }));
    assert_eq!(sim.hits("/sdkapi/v2/room/update").await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rhai_integers_are_accepted_for_string_parameters_assumption_common_param_types() {
    let sim = Sim::start().await;
    let client = sim.client();
    let dir = tempfile::tempdir().unwrap();
    let source = r#"
        let avd = vendor("avd");
        let room_id = 2024;
        let created = avd.call("room.create", #{ room_id: room_id, user_id: 7, enable_auto_avc: "true" });
        let read = avd.call("room.read", #{ room_id: room_id });
        let refused = ();
        try { avd.call("room.read", #{ room_id: 20.5 }); } catch (e) { refused = e.message; }
        #{ created: created.room_id, owner: read.data.user_id, avc: read.data.enable_auto_avc, refused: refused }
    "#;
    let (c, out) = (client.clone(), dir.path().to_path_buf());
    let v = tokio::task::spawn_blocking(move || run_script(&c, source, &out)).await.unwrap().unwrap();
    assert_eq!((&v["created"], &v["owner"], &v["avc"]), (&json!("2024"), &json!("7"), &json!(true)), "{v}");
    let refused = v["refused"].as_str().unwrap_or_default();
    assert!(refused.contains("`room_id`") && refused.contains("expected string, got float"), "{v}");
}

/// A token that stays refused after one renewal is an authentication error (exit code 5),
/// not a vendor error, and no second renewal is tried.
#[tokio::test]
async fn a_token_refused_again_after_renewal_is_an_auth_error_assumption_avd_token_renewal() {
    let sim = Sim::start().await;
    let client = sim.client();
    client.call("avd", "room.create", json!({"room_id": "t", "user_id": "ops"})).await.unwrap();
    let tokens_before = sim.hits("/sdkapi/v2/app/get_token").await;
    sim.post("faults", json!({"error_code": 40003, "paths": ["/sdkapi/v2/room/read"], "count": 2})).await;
    let err = client.call("avd", "room.read", json!({"room_id": "t"})).await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert!(err.to_string().contains("refused again"), "{err}");
    assert_eq!(sim.hits("/sdkapi/v2/app/get_token").await, tokens_before + 1, "exactly one renewal");
    // Once the server accepts tokens again, calls work.
    client.call("avd", "room.read", json!({"room_id": "t"})).await.unwrap();
}
