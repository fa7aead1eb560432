//! The Kedacom client against the Kedacom simulator over real HTTP: every endpoint of the
//! table, the login / keep-alive / re-login lifecycle, retries, typed errors and the
//! book-and-run workflow script.

mod common;

use common::api_code;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use meetkit::config::Profile;
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
        Self::start_with(SimOptions::default()).await
    }

    async fn start_with(options: SimOptions) -> Sim {
        let sim = Simulator::start(options).await.expect("simulator starts");
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
        common::admin(&self.http, &self.sim.kedacom_base_url(), method, path, body).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.admin(reqwest::Method::POST, path, body).await
    }

    async fn stats(&self) -> serde_json::Map<String, Value> {
        let stats = self.admin(reqwest::Method::GET, "stats", Value::Null).await;
        stats["requests"].as_object().cloned().unwrap_or_default()
    }

    /// How many vendor requests the simulator has seen for exactly `path`.
    async fn hits(&self, path: &str) -> u64 {
        self.stats().await.get(path).and_then(Value::as_u64).unwrap_or(0)
    }

    /// Heartbeats seen, whatever the token in their path.
    async fn heartbeats(&self) -> u64 {
        self.stats().await.iter().filter(|(p, _)| p.ends_with("/heartbeat")).filter_map(|(_, n)| n.as_u64()).sum()
    }

    async fn advance(&self, seconds: f64) {
        self.post("clock/advance", json!({ "seconds": seconds })).await;
    }
}

/// A full virtual meeting room body (the doc's required fields).
fn vmr_body(name: &str) -> Value {
    json!({
        "name": name, "max_join_mt": 8, "force_mute": 0, "preoccupy_resource": 0, "bitrate": 2048,
        "video_formats": [{"format": 4, "resolution": 12, "frame": 30, "bitrate": 2048}]
    })
}

/// A full booked conference body starting at `start_time`.
fn booking(name: &str, start_time: &str) -> Value {
    json!({
        "name": name, "start_time": start_time, "duration": 60, "bitrate": 2048,
        "closed_conf": 0, "safe_conf": 0, "encrypted_type": 0, "encrypted_key": "", "conf_type": 0,
        "call_mode": 2, "call_times": 3, "call_interval": 20, "mute": 0, "force_mute": 0, "silence": 0,
        "video_quality": 0, "dual_mode": 1, "voice_activity_detection": 0, "cascade_mode": 0,
        "cascade_upload": 0, "cascade_return": 0, "cascade_return_para": 0, "public_conf": 0,
        "max_join_mt": 8, "auto_end": 0, "preoccupy_resource": 0, "one_reforming": 0,
        "video_formats": [{"format": 4, "resolution": 12, "frame": 30, "bitrate": 2048}]
    })
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

/// Calls endpoints and remembers which ids were called.
struct Caller {
    client: Client,
    called: BTreeSet<&'static str>,
}

impl Caller {
    async fn call(&mut self, id: &'static str, params: Value) -> Result<Value, Error> {
        self.called.insert(id);
        self.client.call("kedacom", id, params).await
    }

    async fn ok(&mut self, id: &'static str, params: Value) -> Value {
        self.call(id, params).await.unwrap_or_else(|e| panic!("{id}: {e}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_is_callable_in_one_meetings_life() {
    let sim = Sim::start().await;
    let mut k = Caller { client: sim.client(), called: BTreeSet::new() };
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/fixtures/agenda.txt");

    let version = k.ok("version.get", json!({})).await;
    assert_eq!(version["api_level"], 3, "{version}");
    let resources = k.ok("resources.get", json!({})).await;
    assert!(resources["resources"].is_array(), "{resources}");
    let platforms = k.ok("platforms.list", json!({})).await;
    assert!(platforms["platforms"].is_array(), "{platforms}");

    // Meeting room areas (administrator only; the simulator's default login is its admin).
    let area = k.ok("meeting_room_areas.create", json!({"area": "Floor 1"})).await;
    let area_id = area["id"].as_str().unwrap().to_string();
    k.ok("meeting_room_areas.update", json!({"id": area_id, "area": "Floor 2"})).await;
    let areas = k.ok("meeting_room_areas.list", json!({"count": 0})).await;
    assert!(areas["total"].as_u64().unwrap() >= 1, "{areas}");
    assert!(areas.to_string().contains("Floor 2"), "{areas}");
    k.ok("meeting_room_areas.delete", json!({"id": area_id})).await;

    // A virtual meeting room.
    let room = k.ok("virtual_meeting_rooms.create", vmr_body("Room A")).await;
    let room_id = room["id"].as_str().unwrap().to_string();
    k.ok("virtual_meeting_rooms.update", with(vmr_body("Room A+"), "id", json!(room_id))).await;
    let got = k.ok("virtual_meeting_rooms.get", json!({"id": room_id})).await;
    assert_eq!(got["name"], "Room A+");
    let rooms = k.ok("virtual_meeting_rooms.list", json!({"count": 0, "order": 1})).await;
    assert_eq!(rooms["total"], 1, "{rooms}");
    assert_eq!(rooms["virtual_meeting_rooms"].as_array().unwrap().len(), 1);

    // Booked conferences: one to run, one to change and cancel.
    let start = "2030-07-24T15:30:00+08:00";
    let check = k
        .ok(
            "valid_conf_name.get",
            json!({"conf_name": "Weekly", "start_time": start, "end_time": "2030-07-24T16:30:00+08:00"}),
        )
        .await;
    assert_eq!(check["result"], 1);
    let weekly = k.ok("booked_confs.create", booking("Weekly", start)).await;
    let (conf_id, meeting_id) = (weekly["conf_id"].as_str().unwrap(), weekly["meeting_id"].as_str().unwrap());
    let check = k
        .ok(
            "valid_conf_name.get",
            json!({"conf_name": "Weekly", "start_time": start, "end_time": "2030-07-24T16:30:00+08:00"}),
        )
        .await;
    assert_eq!(check["result"], 0, "the name is taken now");
    let other = k.ok("booked_confs.create", booking("Other", "2030-07-25T09:00:00+08:00")).await;
    let other_id = other["conf_id"].as_str().unwrap();
    let moved = k.ok("booked_confs.update", with(booking("Other moved", start), "conf_id", json!(other_id))).await;
    assert!(moved.get("conf_id").is_some(), "update returns the ids: {moved}");
    let other_id = moved["conf_id"].as_str().unwrap().to_string();
    let booked = k.ok("booked_confs.list", json!({"start_time": "2030-01-01T00:00:00+08:00", "count": 0})).await;
    assert_eq!(booked["total"], 2, "{booked}");
    let got = k.ok("booked_confs.get", json!({"conf_id": conf_id})).await;
    assert_eq!(got["name"], "Weekly");
    let got = k.ok("booked_confs.get", json!({"conf_id": other_id})).await;
    assert_eq!(got["name"], "Other moved");
    k.ok("booked_confs.delete", json!({"conf_id": other_id})).await;
    assert!(matches!(k.call("booked_confs.get", json!({"conf_id": other_id})).await, Err(Error::Api { .. })));
    let meeting = k.ok("meetings.get", json!({"meeting_id": meeting_id})).await;
    assert_eq!(meeting["state"], 1, "booked: {meeting}");

    // Start it early, share a file, end it.
    let conf = k.ok("confs.create", json!({"create_type": 5, "template_id": conf_id})).await;
    let (conf_id, meeting_id) = (
        conf["conf_id"].as_str().unwrap_or(conf_id).to_string(),
        conf["meeting_id"].as_str().unwrap_or(meeting_id).to_string(),
    );
    let running = k.ok("meetings.list", json!({"state": 2, "start_time": "2000-01-01T00:00:00Z", "count": 0})).await;
    assert!(running["total"].as_u64().unwrap() >= 1, "{running}");
    assert!(running.to_string().contains(&meeting_id), "{running}");
    let up = k.ok("meeting_files.upload", json!({"meeting_id": meeting_id, "file": fixture})).await;
    let file_id = up["meeting_file"]["file_id"].as_str().unwrap().to_string();
    assert_eq!(up["meeting_file"]["file_name"], "agenda.txt");
    let files = k.ok("meeting_files.list", json!({"meeting_id": meeting_id})).await;
    assert_eq!(files["total"], 1, "{files}");
    let url = files["meeting_files"][0]["file_url"].as_str().unwrap();
    assert!(url.starts_with("http://"), "file_url resolved against base_url: {url}");
    let body = reqwest::get(url).await.unwrap().bytes().await.unwrap();
    assert_eq!(&body[..], &std::fs::read(fixture).unwrap()[..]);
    k.ok("meeting_files.delete", json!({"file_id": file_id})).await;
    let files = k.ok("meeting_files.list", json!({"meeting_id": meeting_id})).await;
    assert_eq!(files["total"], 0, "{files}");
    k.ok("confs.end", json!({"conf_id": conf_id})).await;
    let meeting = k.ok("meetings.get", json!({"meeting_id": meeting_id})).await;
    assert_eq!(meeting["state"], 3, "ended: {meeting}");
    // Ending twice is the vendor's error, not a success.
    assert!(matches!(k.call("confs.end", json!({"conf_id": conf_id})).await, Err(Error::Api { .. })));

    k.ok("virtual_meeting_rooms.delete", json!({"id": room_id})).await;
    assert!(matches!(k.call("virtual_meeting_rooms.get", json!({"id": room_id})).await, Err(Error::Api { .. })));

    let table: BTreeSet<&str> = Client::endpoints(meetkit::Vendor::Kedacom).iter().map(|e| e.id).collect();
    assert_eq!(k.called, table, "every endpoint id of the table was called");
    // One login for the whole life.
    assert_eq!(sim.hits("/api/v1/system/token").await, 1);
    assert_eq!(sim.hits("/api/v1/system/login").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_conf_id_with_a_hash_arrives_intact() {
    let sim = Sim::start().await;
    let seeded = sim
        .post(
            "kedacom/booked_confs",
            json!({"conf_id": "123#456", "name": "test1", "start_time": "2030-11-11T15:30:00+08:00", "duration": 240}),
        )
        .await;
    assert_eq!(seeded["conf_id"], "123#456");
    let client = sim.client();
    let got = client.call("kedacom", "booked_confs.get", json!({"conf_id": "123#456"})).await.unwrap();
    assert_eq!(got["conf_id"], "123#456");
    assert_eq!(got["end_time"], "2030-11-11T19:30:00+08:00");
    assert_eq!(sim.hits("/api/v1/mc/booked_confs/123%23456").await, 1);
    // A window with a `+` offset in the query string finds it (the seed starts in the future:
    // the simulator ends a booking whose time has passed).
    let listed = client
        .call(
            "kedacom",
            "booked_confs.list",
            json!({"start_time": "2030-11-11T00:00:00+08:00", "end_time": "2030-11-12T00:00:00+08:00"}),
        )
        .await
        .unwrap();
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["booked_confs"][0]["conf_id"], "123#456");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn login_is_lazy_and_many_concurrent_calls_on_an_expired_token_log_in_once_assumption_kedacom_login_flow() {
    let sim = Sim::start().await;
    let client = sim.client();
    assert_eq!(sim.hits("/api/v1/system/token").await, 0, "nothing sent before the first call");
    let calls = (0..40).map(|_| {
        let c = client.clone();
        async move { c.call("kedacom", "platforms.list", json!({})).await }
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(sim.hits("/api/v1/system/token").await, 1, "one token for 40 concurrent calls");
    assert_eq!(sim.hits("/api/v1/system/login").await, 1);

    let expired = sim.post("kedacom/tokens/expire", json!({})).await;
    assert_eq!(expired["expired"], 1);
    let calls = (0..40).map(|i| {
        let c = client.clone();
        async move {
            let id = if i % 2 == 0 { "resources.get" } else { "virtual_meeting_rooms.list" };
            c.call("kedacom", id, json!({})).await
        }
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(sim.hits("/api/v1/system/token").await, 2, "exactly one re-login");
    assert_eq!(sim.hits("/api/v1/system/login").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_calls_behind_a_wrong_password_make_one_login_meetkit_policy() {
    let sim = Sim::start().await;
    let bad = sim.client_with(|p| p.kedacom.as_mut().unwrap().password = Some(meetkit::secret::Secret::new("hunter2")));
    // The refused login is answered 300 ms late: the window in which all 40 calls, started at
    // once, are waiting for it (a call that starts after the refusal rightly tries again, and
    // on a loaded machine a call's first poll can come after a loopback login's answer).
    sim.admin(
        reqwest::Method::POST,
        "faults",
        json!({"latency_ms": 300, "paths": ["/api/v1/system/login"], "count": 1}),
    )
    .await;
    let calls = (0..40).map(|_| {
        let c = bad.clone();
        async move { c.call("kedacom", "platforms.list", json!({})).await }
    });
    for r in futures::future::join_all(calls).await {
        let e = r.unwrap_err();
        assert!(matches!(e, Error::Auth { .. }) && e.to_string().contains("system.login"), "{e:?}");
    }
    // A server that locks an account after a few failed logins sees one, not forty.
    assert_eq!(sim.hits("/api/v1/system/login").await, 1);
    // The next call, started after the refusal, tries again.
    bad.call("kedacom", "platforms.list", json!({})).await.unwrap_err();
    assert_eq!(sim.hits("/api/v1/system/login").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_heartbeat_keeps_the_token_alive_while_in_use_and_stops_on_close_assumption_kedacom_heartbeat() {
    let sim = Sim::start().await;
    let client = sim.client_with(|p| p.kedacom.as_mut().unwrap().heartbeat_secs = 0.1);
    client.call("kedacom", "platforms.list", json!({})).await.unwrap();
    // 40 virtual minutes pass in two steps, each followed by heartbeats: the server's 30-minute
    // idle timeout never fires.
    for _ in 0..2 {
        sim.advance(20.0 * 60.0).await;
        let before = sim.heartbeats().await;
        common::wait_until("a heartbeat", || async { (sim.heartbeats().await > before).then_some(()) }).await;
    }
    client.call("kedacom", "platforms.list", json!({})).await.unwrap();
    assert_eq!(sim.hits("/api/v1/system/token").await, 1, "kept alive, no second login");

    client.close().await.unwrap();
    let beats = sim.heartbeats().await;
    // Real time: the heartbeat runs on meetkit's own timer, not the simulator's clock; four of
    // its 0.1 s intervals pass without one.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(sim.heartbeats().await, beats, "no heartbeat after close");
    // Without heartbeats the server drops the token after 30 idle minutes; calls log in again.
    sim.advance(31.0 * 60.0).await;
    client.call("kedacom", "platforms.list", json!({})).await.unwrap();
    assert_eq!(sim.hits("/api/v1/system/token").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_client_lets_the_token_expire_and_logs_in_again_on_next_use_assumption_kedacom_heartbeat() {
    let sim = Sim::start().await;
    let client = sim.client();
    client.call("kedacom", "resources.get", json!({})).await.unwrap();
    sim.advance(31.0 * 60.0).await;
    client.call("kedacom", "resources.get", json!({})).await.unwrap();
    assert_eq!(sim.hits("/api/v1/system/token").await, 2, "expired by idleness: one re-login");
    assert_eq!(sim.hits("/api/v1/mc/resources").await, 3, "the refused call was sent again once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_reads_and_updates_are_retried_assumption_common_retries() {
    let sim = Sim::start().await;
    let client = sim.client();
    client.call("kedacom", "platforms.list", json!({})).await.unwrap();

    sim.post("faults", json!({"error_status": 503, "count": 2, "paths": ["/api/v1/mc/platforms"]})).await;
    client.call("kedacom", "platforms.list", json!({})).await.unwrap();
    assert_eq!(sim.hits("/api/v1/mc/platforms").await, 1 + 3, "a read is retried after 503s");

    sim.post("faults", json!({"error_status": 503, "count": 1, "paths": ["/api/v1/mc/virtual_meeting_rooms"]})).await;
    let e = client.call("kedacom", "virtual_meeting_rooms.create", vmr_body("R")).await.unwrap_err();
    assert!(matches!(e, Error::Http { status: 503, .. }), "{e:?}");
    assert_eq!(sim.hits("/api/v1/mc/virtual_meeting_rooms").await, 1, "a create is sent once");
    let rooms = client.call("kedacom", "virtual_meeting_rooms.list", json!({})).await.unwrap();
    assert_eq!(rooms["total"], 0, "nothing was created twice: {rooms}");

    sim.post("faults", json!({"drop_rate": 1.0, "count": 1, "paths": ["/api/v1/mc/confs"]})).await;
    let e = client.call("kedacom", "confs.create", json!({"create_type": 4, "template_id": "x"})).await.unwrap_err();
    assert!(matches!(e, Error::OutcomeUnknown { .. }), "{e:?}");
    assert_eq!(sim.hits("/api/v1/mc/confs").await, 1, "a start is never resent blindly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_typed() {
    let sim = Sim::start().await;
    let client = sim.client();
    // The vendor's error for a conference that does not exist.
    match client.call("kedacom", "booked_confs.get", json!({"conf_id": "nope"})).await {
        Err(Error::Api { vendor, endpoint, code, message, .. }) => {
            assert_eq!((vendor, endpoint.as_str()), (meetkit::Vendor::Kedacom, "booked_confs.get"));
            assert!(!code.is_empty() && !message.is_empty(), "{code} {message}");
        }
        other => panic!("{other:?}"),
    }
    // Refused before sending: enum, ISO 8601, conditional requirement, upload type.
    let before = sim.stats().await;
    let invalid = |r: Result<Value, Error>| match r {
        Err(Error::InvalidParams { param, .. }) => param,
        other => panic!("expected InvalidParams, got {other:?}"),
    };
    assert_eq!(invalid(client.call("kedacom", "meetings.list", json!({"state": 5})).await), "state");
    let bad_time = booking("x", "2030-07-24 15:30");
    assert_eq!(invalid(client.call("kedacom", "booked_confs.create", bad_time).await), "start_time");
    let bad_enum = with(booking("x", "2030-07-24T15:30:00+08:00"), "call_mode", json!(1));
    assert_eq!(invalid(client.call("kedacom", "booked_confs.create", bad_enum).await), "call_mode");
    assert_eq!(invalid(client.call("kedacom", "confs.create", json!({"create_type": 4})).await), "template_id");
    let readme = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let upload = json!({"meeting_id": "1", "file": readme});
    assert_eq!(invalid(client.call("kedacom", "meeting_files.upload", upload).await), "file");
    assert_eq!(sim.stats().await, before, "nothing was sent");
    // The table's own checks: unknown ids, flags as integers.
    assert!(matches!(client.call("kedacom", "confs.stop", json!({})).await, Err(Error::UnknownEndpoint { .. })));

    // Wrong credentials: an auth error naming the step, never the secret.
    let bad = sim.client_with(|p| p.kedacom.as_mut().unwrap().password = Some(meetkit::secret::Secret::new("hunter2")));
    let e = bad.call("kedacom", "platforms.list", json!({})).await.unwrap_err();
    assert!(matches!(e, Error::Auth { .. }), "{e:?}");
    let text = format!("{e} {e:?}");
    assert!(text.contains("system.login") && !text.contains("hunter2"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_above_the_servers_api_level_are_refused_before_sending_assumption_kedacom_api_level_check() {
    let mut options = SimOptions::default();
    options.kedacom.api_level = 2;
    let sim = Sim::start_with(options).await;
    let client = sim.client();
    let e = client.call("kedacom", "booked_confs.create", booking("x", "2030-07-24T15:30:00+08:00")).await.unwrap_err();
    assert!(e.to_string().contains("needs API level 3, but the server reports API level 2"), "{e}");
    assert!(client.call("kedacom", "valid_conf_name.get", json!({"conf_name": "x"})).await.is_err());
    client.call("kedacom", "meetings.list", json!({})).await.unwrap();
    assert_eq!(sim.hits("/api/v1/mc/booked_confs").await, 0);
    assert_eq!(sim.hits("/api/v1/mc/valid_conf_name").await, 0);
    assert_eq!(sim.hits("/api/mc/version").await, 1, "the level is read once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_can_travel_as_post_with_a_method_override_assumption_kedacom_delete_encoding() {
    let sim = Sim::start().await;
    let client = sim.client_with(|p| p.kedacom.as_mut().unwrap().delete_via_post = true);
    let room = client.call("kedacom", "virtual_meeting_rooms.create", vmr_body("R")).await.unwrap();
    let id = room["id"].as_str().unwrap();
    client.call("kedacom", "virtual_meeting_rooms.delete", json!({"id": id})).await.unwrap();
    let rooms = client.call("kedacom", "virtual_meeting_rooms.list", json!({})).await.unwrap();
    assert_eq!(rooms["total"], 0, "deleted, not updated: {rooms}");
    assert!(!api_code(client.call("kedacom", "virtual_meeting_rooms.delete", json!({"id": id})).await).is_empty());
}

fn run_script(client: &Client, source: &str, vars: Value, out: &std::path::Path) -> meetkit::Result<Value> {
    let printed = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = printed.clone();
    let options = ScriptOptions {
        out_dir: out.to_path_buf(),
        vars: vars.as_object().cloned().unwrap_or_default(),
        print: Arc::new(move |s| sink.lock().unwrap().push(s.to_string())),
        ..ScriptOptions::default()
    };
    let result = meetkit::script::run_source(
        source,
        Some("kedacom_book_and_run.rhai"),
        client,
        tokio::runtime::Handle::current(),
        options,
    );
    let printed = printed.lock().unwrap();
    assert!(result.is_err() || printed.last().is_some_and(|l| l.starts_with("summary: ")), "{printed:?}");
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_book_and_run_workflow_leaves_the_meeting_file_on_disk() {
    let sim = Sim::start().await;
    let client = sim.client();
    let dir = tempfile::tempdir().unwrap();
    let script =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/kedacom_book_and_run.rhai")).unwrap();
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/fixtures/agenda.txt");
    let vars = json!({"file": fixture, "conf_name": "Quarterly review", "duration": 30});
    let (c, out) = (client.clone(), dir.path().to_path_buf());
    let result = tokio::task::spawn_blocking(move || run_script(&c, &script, vars, &out)).await.unwrap().unwrap();
    assert_eq!(result["name"], "Quarterly review");
    assert_eq!(result["files"], json!(["agenda.txt"]));
    assert_eq!(result["state"], 3);
    assert_eq!(result["final_state"], "ended");
    let saved = std::fs::read(dir.path().join("meeting_files/agenda.txt")).unwrap();
    assert_eq!(saved, std::fs::read(fixture).unwrap());
    assert_eq!(result["bytes"], json!(saved.len()));
    // The conference really ended and the room the script created is gone again.
    let meeting = client.call("kedacom", "meetings.get", json!({"meeting_id": result["meeting_id"]})).await.unwrap();
    assert_eq!(meeting["state"], 3);
    let rooms = client.call("kedacom", "virtual_meeting_rooms.list", json!({})).await.unwrap();
    assert_eq!(rooms["total"], 0, "{rooms}");
}

/// A profile with a ready `account_token` (here issued by the simulator out of band, as an SSO
/// portal would): no token or login request, no cookie; an expired token is an auth error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ready_account_token_replaces_the_login_assumption_kedacom_account_token() {
    let sim = Sim::start().await;
    let issued = sim.post("kedacom/tokens", json!({})).await;
    let token = issued["account_token"].as_str().unwrap().to_string();
    let client = sim.client_with(|p| {
        let k = p.kedacom.as_mut().unwrap();
        k.account_token = Some(meetkit::secret::Secret::new(token.clone()));
        (k.consumer_key, k.consumer_secret, k.username, k.password) = (None, None, None, None);
    });
    client.call("kedacom", "platforms.list", json!({})).await.unwrap();
    client.call("kedacom", "virtual_meeting_rooms.create", vmr_body("Token room")).await.unwrap();
    assert_eq!(sim.hits("/api/v1/system/token").await + sim.hits("/api/v1/system/login").await, 0);

    sim.post("kedacom/tokens/expire", json!({})).await;
    let e = client.call("kedacom", "platforms.list", json!({})).await.unwrap_err();
    assert!(matches!(e, Error::Auth { .. }) && e.to_string().contains("set a new account_token"), "{e}");
    assert!(!e.to_string().contains(&token));
    assert_eq!(sim.hits("/api/v1/system/token").await, 0, "nothing to log in with");
}

/// A gateway on other paths: the simulator is configured with them, the client follows its profile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_follows_the_profile_login_paths_assumption_kedacom_login_flow() {
    let kedacom = meetkit_sim::KedacomOptions {
        token_path: "/gw/oauth/token".into(),
        login_path: "/gw/session".into(),
        heartbeat_path: "/gw/token/{account_token}/keepalive".into(),
        ..Default::default()
    };
    let sim = Sim::start_with(SimOptions { kedacom, ..SimOptions::default() }).await;
    // The defaults do not reach this gateway.
    let e = sim.client().call("kedacom", "platforms.list", json!({})).await.unwrap_err();
    assert!(matches!(e, Error::Http { status: 404, .. } | Error::Auth { .. }), "{e:?}");
    let client = sim.client_with(|p| {
        let k = p.kedacom.as_mut().unwrap();
        k.token_path = "/gw/oauth/token".into();
        k.login_path = "/gw/session".into();
        k.heartbeat_path = "/gw/token/{account_token}/keepalive".into();
        k.heartbeat_secs = 0.1;
    });
    client.call("kedacom", "platforms.list", json!({})).await.unwrap();
    assert_eq!((sim.hits("/gw/oauth/token").await, sim.hits("/gw/session").await), (1, 1));
    common::wait_until("a heartbeat on the profile's path", || async {
        sim.stats().await.keys().any(|p| p.starts_with("/gw/token/") && p.ends_with("/keepalive")).then_some(())
    })
    .await;
    client.close().await.unwrap();
}

/// Expiry answered with a code (a gateway that does so): re-login only when the profile lists
/// the code; HTTP 401 (the simulator's default) always counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_by_a_listed_code_or_by_http_401_assumption_kedacom_expiry_codes() {
    let kedacom = meetkit_sim::KedacomOptions { expiry_code: Some(10002), ..Default::default() };
    let sim = Sim::start_with(SimOptions { kedacom, ..SimOptions::default() }).await;
    let unlisted = sim.client();
    let listed = sim.client_with(|p| p.kedacom.as_mut().unwrap().expiry_codes = vec!["10002".into()]);
    for c in [&unlisted, &listed] {
        c.call("kedacom", "resources.get", json!({})).await.unwrap();
    }
    sim.post("kedacom/tokens/expire", json!({})).await;
    assert_eq!(api_code(unlisted.call("kedacom", "resources.get", json!({})).await), "10002");
    listed.call("kedacom", "resources.get", json!({})).await.unwrap();
    assert_eq!(sim.hits("/api/v1/system/token").await, 3, "two logins, one re-login by the listed code");

    let sim = Sim::start().await;
    let client = sim.client();
    client.call("kedacom", "resources.get", json!({})).await.unwrap();
    sim.post("kedacom/tokens/expire", json!({})).await;
    client.call("kedacom", "resources.get", json!({})).await.unwrap();
    assert_eq!(sim.hits("/api/v1/system/token").await, 2, "HTTP 401: one re-login");
    assert_eq!(sim.hits("/api/v1/mc/resources").await, 3);
}

/// A gateway whose token alone authenticates (no login step, no heartbeat): `login_path` and
/// `heartbeat_path` empty in the profile; the client then needs no username or password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_only_gateway_needs_no_login_step_assumption_kedacom_login_flow() {
    let kedacom =
        meetkit_sim::KedacomOptions { login_path: String::new(), heartbeat_path: String::new(), ..Default::default() };
    let sim = Sim::start_with(SimOptions { kedacom, ..SimOptions::default() }).await;
    // The default flow's login request finds no route.
    let e = sim.client().call("kedacom", "platforms.list", json!({})).await.unwrap_err();
    assert!(matches!(e, Error::Auth { .. }) && e.to_string().contains("system.login"), "{e}");
    let client = sim.client_with(|p| {
        let k = p.kedacom.as_mut().unwrap();
        (k.login_path, k.heartbeat_path, k.username, k.password) = (String::new(), String::new(), None, None);
        k.heartbeat_secs = 0.05;
    });
    client.call("kedacom", "platforms.list", json!({})).await.unwrap();
    sim.post("kedacom/tokens/expire", json!({})).await;
    client.call("kedacom", "resources.get", json!({})).await.unwrap();
    assert_eq!(sim.hits("/api/v1/system/token").await, 3, "one token each for the two clients, one renewal");
    assert_eq!(sim.hits("/api/v1/system/login").await, 1, "only the default client tried to log in");
    assert_eq!(sim.heartbeats().await, 0, "no heartbeat path, no heartbeat");
}
