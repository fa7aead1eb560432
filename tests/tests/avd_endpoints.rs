//! Every endpoint of the AVD table, called by the client against the AVD simulator over real
//! HTTP while one meeting runs its course: token, licence and system info; room CRUD; a SIP
//! camera called in and controlled; participants listed and kicked; a mixed recording started,
//! re-laid-out, polled while the virtual clock advances, stopped, its files found by every
//! listing endpoint and transcoded; mixed live, live, AVC and desktop recording; a media player
//! driven through its states with an uploaded mp4; the chat log; the meeting's statistics and
//! close; SIP gateways and accounts; and the recordings deleted again.
//!
//! Each call asserts what a user would notice (ids reused by later calls, statuses moving,
//! files listed, values round-tripping, payloads without the `ret`/`code`/`msg` envelope) and,
//! wherever the doc shows one, the vendor's documented error. The test ends by checking that
//! the server answered every id of the table, so a new table row without a test fails here.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;

use meetkit::{Client, Error, Vendor};
use meetkit_sim::{SimOptions, Simulator};
use serde_json::{json, Value};

/// The meeting room of the scenario.
const BOARD: &str = "20240901001";
/// A room that is defined but never holds a meeting.
const STANDBY: &str = "20240901002";
/// A room that does not exist.
const NOWHERE: &str = "99999999999";

/// The simulator and its admin API (`{avd_base_url}/_sim/...`).
struct Sim {
    sim: Simulator,
    http: reqwest::Client,
}

impl Sim {
    async fn start() -> Sim {
        let sim = Simulator::start(SimOptions::default()).await.expect("simulator starts");
        Sim { sim, http: reqwest::Client::new() }
    }

    fn base(&self) -> String {
        self.sim.avd_base_url()
    }

    fn client(&self) -> Client {
        Client::from_profile(&common::fast_profile(&self.sim.profile())).unwrap()
    }

    async fn admin(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        common::admin(&self.http, &self.base(), method, path, body).await
    }

    /// Move the virtual clock forward.
    async fn advance(&self, seconds: f64) {
        self.admin(reqwest::Method::POST, "clock/advance", json!({ "seconds": seconds })).await;
    }

    /// Virtual Unix time, whole seconds.
    async fn now(&self) -> i64 {
        let clock = self.admin(reqwest::Method::GET, "clock", Value::Null).await;
        clock["now"].as_f64().unwrap().floor() as i64
    }

    /// Someone joins through the SDK (`type`: web, ios, ...).
    async fn join(&self, room: &str, user_id: &str, user_name: &str, kind: &str) {
        let body = json!({ "user_id": user_id, "user_name": user_name, "type": kind });
        self.admin(reqwest::Method::POST, &format!("avd/rooms/{room}/join"), body).await;
    }

    /// Someone writes in the meeting chat.
    async fn chat(&self, room: &str, from_id: &str, message: &str) {
        let body = json!({ "from_id": from_id, "message": message });
        self.admin(reqwest::Method::POST, &format!("avd/rooms/{room}/chat"), body).await;
    }

    /// The simulator's state dump (`avd` part).
    async fn state(&self) -> Value {
        self.admin(reqwest::Method::GET, "state", Value::Null).await["avd"].clone()
    }

    /// `GET` a URL the API handed out: (status, body).
    async fn fetch(&self, url: &str) -> (u16, Vec<u8>) {
        let resp = self.http.get(url).send().await.unwrap();
        (resp.status().as_u16(), resp.bytes().await.unwrap().to_vec())
    }
}

/// The client, remembering which endpoint ids the server answered (a payload or a vendor error).
struct Avd {
    client: Client,
    answered: Mutex<BTreeSet<String>>,
}

impl Avd {
    async fn call(&self, id: &str, params: Value) -> meetkit::Result<Value> {
        let result = self.client.call("avd", id, params).await;
        if matches!(result, Ok(_) | Err(Error::Api { .. })) {
            self.answered.lock().unwrap().insert(id.to_owned());
        }
        result
    }

    /// A successful call: its payload, an object stripped of the vendor's envelope.
    async fn ok(&self, id: &str, params: Value) -> Value {
        let payload = self.call(id, params).await.unwrap_or_else(|e| panic!("{id}: {e:?}"));
        let object = payload.as_object().unwrap_or_else(|| panic!("{id}: payload is not an object: {payload}"));
        for key in ["ret", "code", "msg"] {
            assert!(!object.contains_key(key), "{id}: envelope field `{key}` left in the payload {payload}");
        }
        payload
    }

    /// A call the vendor refuses: (code, message).
    async fn err(&self, id: &str, params: Value) -> (String, String) {
        match self.call(id, params).await {
            Err(Error::Api { vendor, endpoint, code, message, .. }) => {
                assert_eq!((vendor, endpoint.as_str()), (Vendor::Avd, id));
                (code, message)
            }
            other => panic!("{id}: expected a vendor error, got {other:?}"),
        }
    }

    /// The code of a call the vendor refuses.
    async fn code(&self, id: &str, params: Value) -> String {
        self.err(id, params).await.0
    }

    /// Who is in the board meeting (`room.participate.list`).
    async fn participants(&self) -> Vec<Value> {
        let list = self.ok("room.participate.list", json!({ "room_id": BOARD })).await;
        list["participates"].as_array().unwrap().clone()
    }
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("expected a string, got {v}")).to_owned()
}

/// One participant of a `room.participate.list` answer.
fn person<'a>(people: &'a [Value], user_id: &str) -> &'a Value {
    people.iter().find(|p| p["user_id"] == user_id).unwrap_or_else(|| panic!("{user_id} not in {people:?}"))
}

/// The camera stream id of a participant (what layouts and AVC calls name).
fn video_id(people: &[Value], user_id: &str) -> String {
    text(&person(people, user_id)["videos"][0]["id"])
}

/// The text at `key` of every item (`download_url`, `user_id`, ...).
fn values_of(items: &[Value], key: &str) -> BTreeSet<String> {
    items.iter().map(|f| text(&f[key])).collect()
}

/// The server path in an `/attachment?file=<path>` URL.
fn server_path(download_url: &str) -> String {
    let url = reqwest::Url::parse(download_url).unwrap_or_else(|e| panic!("{download_url}: {e}"));
    assert_eq!(url.path(), "/attachment", "{download_url}");
    url.query_pairs().find(|(k, _)| k == "file").map(|(_, v)| v.into_owned()).expect("file=")
}

/// `"5.004s"` as seconds.
fn seconds(duration: &Value) -> f64 {
    text(duration).trim_end_matches('s').parse().unwrap_or_else(|e| panic!("{duration}: {e}"))
}

/// A device invited into the board meeting.
struct Device {
    call_id: String,
    user_id: String,
}

impl Device {
    fn in_board(&self) -> Value {
        json!({ "room_id": BOARD, "user_id": self.user_id })
    }
}

/// A stopped mixed recording and the files `room.mix_record.stop` reported.
struct Recording {
    record_id: String,
    files: Vec<Value>,
}

impl Recording {
    /// Server path of the mixed (whole-meeting) file of `file_type`.
    fn mixed(&self, file_type: &str) -> String {
        let prefix = format!("{BOARD}-{}-", self.record_id);
        let file = self.files.iter().find(|f| f["file_type"] == file_type && text(&f["name"]).starts_with(&prefix));
        server_path(&text(&file.unwrap_or_else(|| panic!("no mixed {file_type} in {:?}", self.files))["download_url"]))
    }

    /// Download URLs of the files of `file_type`.
    fn urls_of(&self, file_type: &str) -> BTreeSet<String> {
        self.files.iter().filter(|f| f["file_type"] == file_type).map(|f| text(&f["download_url"])).collect()
    }
}

#[tokio::test]
async fn every_avd_endpoint_answers_in_a_meeting_life() {
    let sim = Sim::start().await;
    let avd = Avd { client: sim.client(), answered: Mutex::new(BTreeSet::new()) };
    let dir = tempfile::tempdir().unwrap();

    system_and_licences(&sim, &avd).await;
    room_definitions(&avd).await;
    let joined_at = sim.now().await;
    let device = meeting_with_a_device(&sim, &avd).await;
    let recording = mixed_recording(&sim, &avd, &device).await;
    recording_files(&sim, &avd, &recording).await;
    lives_and_avc(&avd, &device).await;
    desktop_recording(&sim, &avd).await;
    media_player(&sim, &avd, &recording, dir.path()).await;
    chat_log(&sim, &avd).await;
    end_of_meeting(&sim, &avd, &device, joined_at).await;
    sip_gateways_and_accounts(&avd).await;
    deletions(&sim, &avd, &recording).await;

    let table: BTreeSet<String> =
        meetkit::vendors::endpoints(Vendor::Avd).iter().map(|spec| spec.id.to_owned()).collect();
    assert_eq!(table.len(), 69, "the AVD table has 69 endpoints");
    let answered = avd.answered.lock().unwrap().clone();
    let untested: Vec<&String> = table.difference(&answered).collect();
    assert!(untested.is_empty(), "endpoints of the table this test never got an answer from: {untested:?}");
    assert_eq!(answered, table);
}

/// Token, licence counters of an idle server, system info, file permits.
async fn system_and_licences(sim: &Sim, avd: &Avd) {
    let token = avd.ok("app.get_token", json!({})).await;
    assert!(token["token"].as_str().is_some_and(|t| !t.is_empty()), "{token}");
    assert_eq!(token.as_object().unwrap().len(), 1, "only the token: {token}");
    let wrong = json!({ "access_key": "sim-access-key", "secret_key": "not-the-secret" });
    // The endpoint's own failure example (not the appendix's 40001).
    assert_eq!(avd.err("app.get_token", wrong).await, ("401".into(), "授权错误!".into()));

    let licence = avd.ok("app.get_licence_info", Value::Null).await;
    assert_eq!(licence["active_usernum"], 0, "{licence}");
    assert!(licence["max_users"].as_i64().is_some_and(|n| n > 0), "{licence}");
    // access_key defaults to the profile's.
    let online = avd.ok("app.get_key_licence", json!({})).await;
    assert_eq!((&online["usernum"], &online["detail"]), (&json!(0), &json!({})), "{online}");
    let elsewhere = avd.ok("app.get_key_licence", json!({ "access_key": "another-tenant" })).await;
    assert_eq!(elsewhere["usernum"], 0);

    let info = avd.ok("app.get_system_info", Value::Null).await;
    let sys_info = text(&info["sys_info"]);
    assert!(sys_info.len() > 128 && sys_info.chars().all(|c| c.is_ascii_hexdigit()), "{sys_info}");
    assert_eq!(avd.ok("app.get_system_info", Value::Null).await, info, "the system info is stable");

    // A licence certificate is '$'-separated hex blocks (the doc's example has three).
    let cert = format!("{}${}${}", &sys_info[..64], &sys_info[64..128], &sys_info[128..]);
    assert_eq!(avd.ok("app.apply_file_permit", json!({ "licence_cert": cert })).await, json!({}));
    assert_eq!(sim.state().await["file_permits"], 1);
    assert_eq!(avd.code("app.apply_file_permit", json!({ "licence_cert": "not a certificate" })).await, "40002");
    assert_eq!(avd.ok("app.delete_file_permit", json!({ "licence_cert": cert })).await, json!({}));
    assert_eq!(sim.state().await["file_permits"], 0);
    // Appendix 40072 "no licence info".
    assert_eq!(avd.code("app.delete_file_permit", json!({ "licence_cert": cert })).await, "40072");
}

/// Room CRUD before anyone joins.
async fn room_definitions(avd: &Avd) {
    let board = json!({
        "room_id": BOARD, "user_id": "alice", "topic": "Quarterly board",
        "enable_voice_activated": true, "resolution": "1280*720",
    });
    assert_eq!(avd.ok("room.create", board).await, json!({ "room_id": BOARD }));
    let again = json!({ "room_id": BOARD, "user_id": "bob" });
    assert_eq!(avd.err("room.create", again).await, ("40005".into(), "room_id exists".into()));
    avd.ok("room.create", json!({ "room_id": STANDBY, "user_id": "ops" })).await;

    let read = avd.ok("room.read", json!({ "room_id": BOARD })).await;
    let expected = json!({
        "topic": "Quarterly board", "user_id": "alice", "enable_voice_activated": true,
        "enable_auto_cloud_recording": false, "enable_auto_avc": false,
    });
    assert_eq!(read["data"], expected);
    let update = json!({
        "room_id": BOARD, "topic": "Quarterly board (Q3)", "user_id": "bob", "enable_auto_cloud_recording": true,
    });
    assert_eq!(avd.ok("room.update", update).await, json!({}));
    let read = avd.ok("room.read", json!({ "room_id": BOARD })).await;
    assert_eq!(read["data"]["topic"], "Quarterly board (Q3)");
    assert_eq!(read["data"]["user_id"], "bob");
    assert_eq!(read["data"]["enable_auto_cloud_recording"], true);
    assert_eq!(read["data"]["enable_voice_activated"], true, "settings not updated are kept");

    assert_eq!(avd.code("room.update", json!({ "room_id": NOWHERE, "topic": "x" })).await, "40004");
    assert_eq!(avd.code("room.read", json!({ "room_id": NOWHERE })).await, "40004");
    // room_id omitted: the server generates one and returns it. A numeric id is sent as its text.
    let generated = text(&avd.ok("room.create", json!({ "user_id": "ops" })).await["room_id"]);
    assert!(generated.len() == 11 && generated.bytes().all(|b| b.is_ascii_digit()), "{generated}");
    assert_eq!(avd.ok("room.read", json!({ "room_id": generated })).await["data"]["user_id"], "ops");
    assert_eq!(avd.ok("room.create", json!({ "room_id": 12345, "user_id": 7 })).await, json!({ "room_id": "12345" }));
    assert_eq!(avd.ok("room.read", json!({ "room_id": "12345" })).await["data"]["user_id"], "7");
    for id in [generated.as_str(), "12345"] {
        assert_eq!(avd.ok("room.del", json!({ "room_id": id })).await, json!({}));
    }
    avd.ok("room.create", json!({ "room_id": "scratch", "user_id": "ops" })).await;
    assert_eq!(avd.ok("room.del", json!({ "room_id": "scratch" })).await, json!({}));
    assert_eq!(avd.code("room.read", json!({ "room_id": "scratch" })).await, "40004");
    assert_eq!(avd.code("room.del", json!({ "room_id": "scratch" })).await, "40004");

    // Nobody joined yet: no meeting is in progress (the `code` envelope's 41005).
    assert_eq!(avd.ok("room.list", Value::Null).await, json!({ "rooms": [] }));
    assert_eq!(avd.code("room.close", json!({ "room_id": BOARD })).await, "41005");
    assert_eq!(avd.code("room.participate.list", json!({ "room_id": BOARD })).await, "41005");
}

/// Alice and Carol join, a SIP camera is called in and controlled, Carol is kicked.
async fn meeting_with_a_device(sim: &Sim, avd: &Avd) -> Device {
    sim.join(BOARD, "alice", "Alice", "web").await;
    sim.join(BOARD, "carol", "Carol", "ios").await;
    let rooms = avd.ok("room.list", Value::Null).await;
    let rooms = rooms["rooms"].as_array().unwrap();
    assert_eq!(rooms.len(), 1, "{rooms:?}");
    assert_eq!(rooms[0]["room_id"], BOARD);
    assert!(rooms[0]["create_time"].as_i64().is_some_and(|t| t > 1_600_000_000), "{rooms:?}");
    assert_eq!(
        values_of(rooms[0]["users"].as_array().unwrap(), "user_id"),
        BTreeSet::from(["alice".into(), "carol".into()])
    );

    let camera = |room: &str, url: &str| json!({ "room_id": room, "name": "Lobby camera", "url": url });
    assert_eq!(avd.code("device.call", camera(NOWHERE, "sip:1001@10.0.0.5")).await, "40004");
    // Appendix 40032 "invalid address": no scheme.
    assert_eq!(avd.code("device.call", camera(BOARD, "1001@10.0.0.5")).await, "40032");
    let mut params = camera(BOARD, "sip:1001@10.0.0.5");
    params["resolution_rate"] = json!("1280");
    params["frame_rate"] = json!(25);
    let call = avd.ok("device.call", params).await;
    let device = Device { call_id: text(&call["call_id"]), user_id: text(&call["user_id"]) };
    let status = || avd.ok("device.get_invite_status", json!({ "call_id": device.call_id }));
    assert_eq!(status().await["invite_status"], 0, "inviting");
    sim.advance(1.5).await;
    assert_eq!(status().await["invite_status"], 1, "in the call");
    assert_eq!(avd.code("device.get_invite_status", json!({ "call_id": "no-such-call" })).await, "40037");
    // Appendix 40031 "user is in room": the same device user called again.
    let mut again = camera(BOARD, "sip:1001@10.0.0.5");
    again["user_id"] = json!(device.user_id);
    assert_eq!(avd.code("device.call", again).await, "40031");

    let people = avd.participants().await;
    assert_eq!(people.len(), 3);
    let cam = person(&people, &device.user_id);
    assert_eq!((&cam["type"], &cam["user_name"]), (&json!("sip"), &json!("Lobby camera")));
    let stream_status = |people: &[Value], kind: &str| person(people, &device.user_id)[kind][0]["status"].clone();
    assert_eq!(stream_status(&people, "videos"), "published");
    assert_eq!(stream_status(&people, "audios"), "published");

    for (id, kind, expected) in [
        ("device.video.close", "videos", "init"),
        ("device.video.open", "videos", "published"),
        ("device.audio.mute", "audios", "init"),
        ("device.audio.unmute", "audios", "published"),
    ] {
        assert_eq!(avd.ok(id, device.in_board()).await, json!({}));
        assert_eq!(stream_status(&avd.participants().await, kind), expected, "after {id}");
    }
    let focused = |state: Value| {
        let people = state["sessions"][BOARD]["participants"].as_array().unwrap().clone();
        person(&people, &device.user_id)["focused"].as_bool().unwrap()
    };
    avd.ok("device.video.focus", device.in_board()).await;
    assert!(focused(sim.state().await));
    avd.ok("device.video.unfocus", device.in_board()).await;
    assert!(!focused(sim.state().await));
    // Alice came through the SDK, she was never invited: the doc's 40033.
    let alice = json!({ "room_id": BOARD, "user_id": "alice" });
    assert_eq!(avd.err("device.video.focus", alice).await, ("40033".into(), "no invite info for this user_id".into()));
    let alice = json!({ "room_id": BOARD, "user_id": "alice" });
    assert_eq!(avd.code("device.video.unfocus", alice).await, "40033");
    let elsewhere = json!({ "room_id": NOWHERE, "user_id": device.user_id });
    assert_eq!(avd.code("device.audio.mute", elsewhere).await, "40004");

    let carol = json!({ "room_id": BOARD, "user_id": "carol" });
    assert_eq!(avd.ok("room.participate.kick", carol.clone()).await, json!({}));
    let people = avd.participants().await;
    assert!(people.iter().all(|p| p["user_id"] != "carol"), "{people:?}");
    // Appendix 40008 "user not in room", in the `code` envelope.
    assert_eq!(avd.code("room.participate.kick", carol).await, "40008");
    let nowhere = json!({ "room_id": NOWHERE, "user_id": "alice" });
    assert_eq!(avd.err("room.participate.kick", nowhere).await, ("40004".into(), "no such room_id".into()));
    device
}

/// A mixed recording: start, status polled while the clock advances, layouts updated, stop.
async fn mixed_recording(sim: &Sim, avd: &Avd, device: &Device) -> Recording {
    let people = avd.participants().await;
    let (alice_video, camera_video) = (video_id(&people, "alice"), video_id(&people, &device.user_id));
    let side_by_side = json!([
        { "video_name": alice_video, "zorder": 0, "x": 0, "y": 0, "w": 0.5, "h": 1 },
        { "video_name": camera_video, "zorder": 1, "x": 0.5, "y": 0, "w": 0.5, "h": 1 },
    ]);
    assert_eq!(avd.code("room.record.status", json!({ "record_id": "0".repeat(32) })).await, "40090");
    let relayout = json!({ "room_id": BOARD, "videos": side_by_side });
    assert_eq!(
        avd.err("room.mix_record.update_layout", relayout).await,
        ("40041".into(), "room hasn't start mix_record".into())
    );
    // Appendix 40009: the standby room holds no meeting.
    assert_eq!(avd.code("room.mix_record.start", json!({ "room_id": STANDBY })).await, "40009");

    let start = json!({
        "room_id": BOARD, "name": "board-q3", "user_id": "alice", "enable_audio_record": true,
        "enable_individual_record": true, "videos": side_by_side,
    });
    let record_id = text(&avd.ok("room.mix_record.start", start).await["record_id"]);
    assert_eq!(avd.code("room.mix_record.start", json!({ "room_id": BOARD })).await, "40040");
    let status = || avd.ok("room.record.status", json!({ "record_id": record_id }));
    assert_eq!(status().await["record_status"], 0, "started");

    // The recorder takes a seat next to Alice and the camera.
    assert_eq!(avd.ok("app.get_licence_info", Value::Null).await["active_usernum"], 3);
    let online = avd.ok("app.get_key_licence", json!({})).await;
    assert_eq!(online["usernum"], 3, "{online}");
    for (terminal, n) in [("avd_record", 1), ("web", 1), ("sip", 1)] {
        assert_eq!(online["detail"][terminal]["count"], n, "{terminal}: {online}");
    }

    sim.advance(2.0).await;
    assert_eq!(status().await["record_status"], 1, "recording");
    let camera_first = json!([
        { "video_name": camera_video, "zorder": 0, "x": 0, "y": 0, "w": 1, "h": 1 },
        { "video_name": alice_video, "zorder": 1, "x": 0.75, "y": 0.75, "w": 0.25, "h": 0.25 },
    ]);
    let relayout = json!({ "room_id": BOARD, "videos": camera_first });
    assert_eq!(avd.ok("room.mix_record.update_layout", relayout).await, json!({}));
    let stereo = json!([{ "user_id": "alice", "channel": 1 }, { "user_id": device.user_id, "channel": 2 }]);
    let audio = json!({ "room_id": BOARD, "record_id": record_id, "audio_mixer_users": stereo });
    assert_eq!(avd.ok("room.mix_record.update_audio_layout", audio).await, json!({}));
    let state = sim.state().await;
    let settings =
        &state["recordings"].as_array().unwrap().iter().find(|r| r["record_id"] == record_id).unwrap()["settings"];
    // The layout arrived with each item's `zorder` also as `order` (the name the endpoint's
    // example uses); the strict simulator refuses an item with only one of them.
    let mut sent = camera_first.clone();
    for item in sent.as_array_mut().unwrap() {
        item["order"] = item["zorder"].clone();
    }
    assert_eq!((&settings["videos"], &settings["audio_mixer_users"]), (&sent, &stereo));
    // Given as JSON text with the example's `order`, it is sent with `zorder` as well.
    let text_layout = r#"[{"video_name": "x_video1", "order": 2, "x": 0, "y": 0, "w": 1, "h": 1}]"#;
    let relayout = json!({ "room_id": BOARD, "videos": text_layout });
    assert_eq!(avd.ok("room.mix_record.update_layout", relayout).await, json!({}));
    let state = sim.state().await;
    let settings =
        &state["recordings"].as_array().unwrap().iter().find(|r| r["record_id"] == record_id).unwrap()["settings"];
    assert_eq!(settings["videos"][0]["zorder"], 2, "{settings}");
    assert_eq!(settings["videos"][0]["order"], 2, "{settings}");
    let unknown = json!({ "room_id": BOARD, "record_id": "f".repeat(32), "audio_mixer_users": stereo });
    assert_eq!(avd.code("room.mix_record.update_audio_layout", unknown).await, "40090");

    sim.advance(3.0).await;
    let stop = json!({ "room_id": BOARD, "record_id": record_id });
    let stopped = avd.ok("room.mix_record.stop", stop.clone()).await;
    let files = stopped["data"].as_array().unwrap().clone();
    assert_eq!(status().await["record_status"], 2, "stopped");
    assert_eq!(avd.code("room.mix_record.stop", stop).await, "40041");
    let relayout = json!({ "room_id": BOARD, "videos": camera_first });
    assert_eq!(avd.code("room.mix_record.update_layout", relayout).await, "40041");
    let audio = json!({ "room_id": BOARD, "audio_mixer_users": stereo });
    assert_eq!(avd.code("room.mix_record.update_audio_layout", audio).await, "40041");

    // Mixed <room>-<record>-<time>.mp4/.mp3 plus per-user <name>_<id>_v1.mp4/_a1.mp3.
    let names: BTreeSet<String> = values_of(&files, "name");
    let mixed = names.iter().filter(|n| n.starts_with(&format!("{BOARD}-{record_id}-"))).count();
    assert_eq!(mixed, 2, "{names:?}");
    for split in ["Alice_alice_v1.mp4".to_string(), "Alice_alice_a1.mp3".into()] {
        assert!(names.contains(&split), "{split} not in {names:?}");
    }
    assert!(names.contains(&format!("Lobby camera_{}_v1.mp4", device.user_id)), "{names:?}");
    assert_eq!(files.len(), 6, "{names:?}");
    for f in &files {
        assert_eq!(f["room_id"], BOARD);
        assert!(text(&f["download_url"]).starts_with(&format!("{}/attachment?file=", sim.base())), "{f}");
        assert!(seconds(&f["duration"]) >= 5.0, "5 virtual seconds were recorded: {f}");
    }
    let recording = Recording { record_id, files };
    let mp4 = recording.urls_of("mp4").into_iter().next().unwrap();
    let (status, body) = sim.fetch(&mp4).await;
    assert_eq!(status, 200);
    assert!(body.len() > 100_000, "{} bytes for 5 s of video", body.len());
    recording
}

/// The stopped recording as every listing endpoint shows it; transcoding.
async fn recording_files(sim: &Sim, avd: &Avd, rec: &Recording) {
    let all = values_of(&rec.files, "download_url");
    let (mp4, mp3) = (rec.urls_of("mp4"), rec.urls_of("mp3"));

    let got = avd.ok("room.mix_record.get", json!({ "room_id": BOARD })).await;
    let entry = got["data"].as_array().unwrap().iter().find(|r| r["record_id"] == rec.record_id.as_str()).unwrap();
    assert_eq!(entry["name"], "board-q3");
    assert_eq!(values_of(entry["transcode_files"].as_array().unwrap(), "download_url"), all);
    for (record_type, expected) in [(1, &mp4), (2, &mp3)] {
        let params = json!({ "room_id": BOARD, "record_type": record_type, "record_id": rec.record_id });
        let got = avd.ok("room.mix_record.get", params).await;
        assert_eq!(&values_of(got["data"][0]["transcode_files"].as_array().unwrap(), "download_url"), expected);
    }
    let unknown = json!({ "room_id": BOARD, "record_id": "f".repeat(32) });
    assert_eq!(avd.code("room.mix_record.get", unknown).await, "40090");
    assert_eq!(avd.code("room.mix_record.get", json!({ "room_id": NOWHERE })).await, "40004");

    let audio = avd.ok("room.record.get", json!({ "room_id": BOARD })).await;
    assert_eq!(values_of(audio["data"].as_array().unwrap(), "download_url"), mp3);
    assert_eq!(avd.code("room.record.get", json!({ "room_id": NOWHERE })).await, "40004");

    let now = sim.now().await;
    // Both bounds are Unix timestamps passed as strings (the doc's table).
    let range = |from: i64, to: i64| {
        let (from, to) = (from.to_string(), to.to_string());
        json!({ "room_id": BOARD, "record_start_time": from, "record_end_time": to })
    };
    let found = avd.ok("room.get_record", range(now - 3600, now + 60)).await;
    let found = found["record_files"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((&found[0]["record_id"], &found[0]["creator_id"]), (&json!(rec.record_id), &json!("alice")));
    let listed: BTreeSet<String> =
        found[0]["transcode_files"]["down_url"].as_array().unwrap().iter().map(text).collect();
    assert_eq!(listed, all);
    let yesterday = avd.ok("room.get_record", range(now - 2 * 86400, now - 86400)).await;
    assert_eq!(yesterday["record_files"], json!([]));
    let mut by_mallory = range(now - 3600, now + 60);
    by_mallory["record_creator_id"] = json!("mallory");
    assert_eq!(avd.ok("room.get_record", by_mallory).await["record_files"], json!([]));
    let mut elsewhere = range(now - 3600, now + 60);
    elsewhere["room_id"] = json!(NOWHERE);
    assert_eq!(avd.code("room.get_record", elsewhere).await, "40004");

    let everything = avd.ok("room.get_record_list", Value::Null).await;
    let ids = values_of(everything["data"].as_array().unwrap(), "record_id");
    assert_eq!(ids, BTreeSet::from([rec.record_id.clone()]));

    let this = json!({ "room_id": BOARD, "record_id": rec.record_id });
    let transcode = || avd.ok("transcode.query", this.clone());
    assert_eq!(transcode().await["status"], 0, "not transcoded");
    assert_eq!(avd.ok("room.record.transfer", this.clone()).await, json!({}));
    assert_eq!(transcode().await["status"], 1, "transcoding");
    sim.advance(2.5).await;
    assert_eq!(transcode().await["status"], 2, "done");
    let unknown = json!({ "room_id": BOARD, "record_id": "f".repeat(32) });
    assert_eq!(avd.code("room.record.transfer", unknown.clone()).await, "40090");
    assert_eq!(avd.code("transcode.query", unknown).await, "40090");
}

/// Mixed live, focus-user live and composited video (AVC).
async fn lives_and_avc(avd: &Avd, device: &Device) {
    let people = avd.participants().await;
    let (alice_video, camera_video) = (video_id(&people, "alice"), video_id(&people, &device.user_id));

    let push = "rtmp://live.example.com/app/board";
    let grid = json!([{ "video_name": alice_video, "zorder": 0, "x": 0, "y": 0, "w": 1, "h": 1 }]);
    let live = json!({ "room_id": BOARD, "push_url": push, "videos": grid });
    assert_eq!(avd.ok("room.mix_live.start", live.clone()).await, json!({}));
    assert_eq!(avd.code("room.mix_live.start", live).await, "40040");
    // One mixed record or live at a time (appendix 40040).
    assert_eq!(avd.code("room.mix_record.start", json!({ "room_id": BOARD })).await, "40040");
    assert_eq!(avd.ok("room.mix_live.stop", json!({ "room_id": BOARD })).await, json!({ "data": {} }));
    assert_eq!(avd.code("room.mix_live.stop", json!({ "room_id": BOARD })).await, "40041");
    assert_eq!(
        avd.err("room.mix_live.stop", json!({ "room_id": NOWHERE })).await,
        ("40004".into(), "no such room".into())
    );

    let hls = "https://live.example.com/board.m3u8";
    let focus = |user: &str| json!({ "room_id": BOARD, "user_id": user, "push_url": push, "hls_url": hls });
    // Carol was kicked.
    assert_eq!(avd.code("room.live.start", focus("carol")).await, "40008");
    assert_eq!(avd.ok("room.live.start", focus("alice")).await, json!({}));
    assert_eq!(avd.code("room.live.start", focus("alice")).await, "40060");
    assert_eq!(avd.ok("room.live.stop", json!({ "room_id": BOARD })).await, json!({}));
    assert_eq!(avd.code("room.live.stop", json!({ "room_id": BOARD })).await, "40065");
    assert_eq!(avd.code("room.live.stop", json!({ "room_id": STANDBY })).await, "40061");

    let board = json!({ "room_id": BOARD });
    assert_eq!(avd.code("room.avc.get_avc_setting", board.clone()).await, "40051");
    assert_eq!(avd.code("room.avc.stop", board.clone()).await, "40051");
    assert_eq!(avd.code("room.avc.stop", json!({ "room_id": NOWHERE })).await, "40004");
    assert_eq!(avd.code("room.avc.start", json!({ "room_id": STANDBY })).await, "40009");
    let start = json!({
        "room_id": BOARD, "layout_mode": 2, "video_name": "board-avc", "video_resolution": "1280*720",
        "video_framerate": 15, "max_video_number": "4",
    });
    assert_eq!(avd.ok("room.avc.start", start).await, json!({}));
    assert_eq!(avd.code("room.avc.start", board.clone()).await, "40050");
    // The doc's sequence for a speaker layout: start -> update_layout -> select_media.
    let main = json!({ "room_id": BOARD, "main_video_resource_id": alice_video, "layout_mode": 2 });
    assert_eq!(avd.ok("room.avc.update_layout", main).await, json!({}));
    let selected = json!([
        { "video_name": alice_video, "zorder": 0, "x": 0, "y": 0, "w": 0.75, "h": 1 },
        { "video_name": camera_video, "zorder": 1, "x": 0.75, "y": 0, "w": 0.25, "h": 0.25 },
    ]);
    let select = json!({ "room_id": BOARD, "videos": selected, "layout_mode": 0 });
    assert_eq!(avd.ok("room.avc.select_media", select).await, json!({}));
    let focus = json!({ "room_id": BOARD, "resource_id": camera_video });
    assert_eq!(avd.ok("room.avc.set_focus_video", focus).await, json!({}));

    let setting = avd.ok("room.avc.get_avc_setting", board.clone()).await["data"].clone();
    assert_eq!(setting["room_id"], BOARD);
    assert_eq!(setting["layoutMode"], "Outgoing_View_Layout_Auto_Orato", "layout_mode 2 is the speaker layout");
    assert_eq!((&setting["view_width"], &setting["view_height"]), (&json!(1280), &json!(720)));
    assert_eq!((&setting["view_fps"], &setting["exporter_name"]), (&json!(15), &json!("board-avc")));
    let shown: BTreeSet<String> = setting["videos"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(shown, BTreeSet::from([alice_video, camera_video]));

    assert_eq!(avd.ok("room.avc.stop", board.clone()).await, json!({}));
    assert_eq!(avd.code("room.avc.get_avc_setting", board).await, "40051");
    let focus = json!({ "room_id": BOARD, "resource_id": "x" });
    assert_eq!(avd.code("room.avc.set_focus_video", focus).await, "40051");
    let select = json!({ "room_id": NOWHERE, "videos": [] });
    assert_eq!(avd.code("room.avc.select_media", select).await, "40004");
    let main = json!({ "room_id": STANDBY, "main_video_resource_id": "x" });
    assert_eq!(avd.code("room.avc.update_layout", main).await, "40051");
}

/// A desktop recording, fetched back by its name.
async fn desktop_recording(sim: &Sim, avd: &Avd) {
    let board = json!({ "room_id": BOARD });
    assert_eq!(avd.code("room.desktop_record.stop", board.clone()).await, "40041");
    let start = json!({ "room_id": BOARD, "name": "slides", "enable_realtime_transcode": false });
    assert_eq!(avd.ok("room.desktop_record.start", start.clone()).await, json!({}));
    assert_eq!(avd.code("room.desktop_record.start", start).await, "40040");
    sim.advance(2.0).await;
    assert_eq!(avd.ok("room.desktop_record.stop", board.clone()).await, json!({}));
    assert_eq!(avd.code("room.desktop_record.stop", board).await, "40041");

    let got = avd.ok("room.desktop_record.get", json!({ "room_id": BOARD, "name": "slides" })).await;
    let files = got["data"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!((&files[0]["name"], &files[0]["file_type"]), (&json!("slides"), &json!("mp4")));
    assert!(seconds(&files[0]["duration"]) >= 2.0, "{files:?}");
    let (status, _) = sim.fetch(&text(&files[0]["download_url"])).await;
    assert_eq!(status, 200);
    let other = avd.ok("room.desktop_record.get", json!({ "room_id": BOARD, "name": "whiteboard" })).await;
    assert_eq!(other["data"], json!([]));
    let elsewhere = json!({ "room_id": NOWHERE, "name": "slides" });
    assert_eq!(avd.code("room.desktop_record.get", elsewhere).await, "40004");
    let listed = avd.ok("room.get_record_list", Value::Null).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 2, "the mixed and the desktop recording");
}

/// An uploaded mp4 played in the meeting: play, pause, resume, switch, finish, replay, stop.
async fn media_player(sim: &Sim, avd: &Avd, rec: &Recording, dir: &Path) {
    let intro = dir.join("intro.mp4");
    let bytes: Vec<u8> = (0..96 * 1024u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&intro, &bytes).unwrap();
    let uploaded = avd.ok("uploadfile", json!({ "file": intro.to_str().unwrap() })).await;
    let url = text(&uploaded["download_url"]);
    assert!(url.starts_with(&sim.base()), "{url}");
    let intro_path = server_path(&url);
    assert_eq!(intro_path, "/opt/3tee/resources/intro.mp4", "the doc's default upload directory");
    assert_eq!(sim.fetch(&url).await, (200, bytes), "the uploaded bytes come back");
    // `path` and `storage_only_cluster` travel in the query string (the strict simulator
    // refuses them as multipart fields).
    let custom = json!({ "file": intro.to_str().unwrap(), "path": "/opt/3tee/media", "storage_only_cluster": "false" });
    let custom = avd.ok("uploadfile", custom).await;
    assert_eq!(server_path(&text(&custom["download_url"])), "/opt/3tee/media/intro.mp4");
    let plugin = dir.join("plugin.crx");
    std::fs::write(&plugin, b"crx").unwrap();
    let refused = avd.err("uploadfile", json!({ "file": plugin.to_str().unwrap() })).await;
    assert_eq!(refused, ("10911".into(), "not support file type: crx".into()), "the doc's failure example");

    assert_eq!(avd.code("media.create", json!({ "room_id": STANDBY, "name": "intro" })).await, "40009");
    let created = avd.ok("media.create", json!({ "room_id": BOARD, "name": "intro", "user_id": "alice" })).await;
    let play_id = text(&created["play_id"]);
    assert_eq!(avd.code("media.create", json!({ "room_id": BOARD, "name": "intro" })).await, "40080");
    let player = json!({ "room_id": BOARD, "play_id": play_id });
    let with = |extra: Value| {
        let mut p = player.clone();
        p.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        p
    };
    let info = |url: &str| avd.ok("media.get_media_info", with(json!({ "url": url })));
    let status = |v: &Value| v["data"][0]["status"].clone();

    assert_eq!(avd.code("media.pause", player.clone()).await, "40082", "nothing is playing");
    assert_eq!(avd.code("media.play", with(json!({ "url": "/opt/3tee/resources/none.mp4" }))).await, "40084");
    let played = avd.ok("media.play", with(json!({ "url": intro_path, "name": "realtime_play" }))).await;
    assert_eq!((&played["data"]["has_video"], &played["data"]["has_audio"]), (&json!(1), &json!(1)));
    assert!(played["data"]["duration"].as_i64().is_some_and(|ms| ms > 0), "{played}");
    let playing = info(&intro_path).await;
    let entry = &playing["data"][0];
    assert_eq!(
        (&entry["play_id"], &entry["name"], &entry["user_id"]),
        (&json!(play_id), &json!("intro"), &json!("alice"))
    );
    assert_eq!(
        (&entry["play_files"][0]["url"], &entry["play_files"][0]["play_count"]),
        (&json!(intro_path), &json!(1))
    );

    assert_eq!(avd.ok("media.pause", player.clone()).await, json!({}));
    let paused = status(&info(&intro_path).await);
    assert_ne!(paused, status(&playing), "pausing changes the player status");
    // A paused player does not run out, however long it waits.
    sim.advance(30.0).await;
    assert_eq!(status(&info(&intro_path).await), paused);
    assert_eq!(avd.code("media.pause", player.clone()).await, "40082");
    assert_eq!(avd.ok("media.resume", player.clone()).await, json!({}));
    assert_eq!(status(&info(&intro_path).await), status(&playing));
    assert_eq!(avd.code("media.resume", player.clone()).await, "40082", "already playing");
    assert_eq!(avd.code("media.replay", player.clone()).await, "40082", "playback has not finished");

    // Switch to the recorded meeting: its duration is what was recorded.
    let recorded = rec.mixed("mp4");
    let switched = avd.ok("media.switch", with(json!({ "url": recorded }))).await;
    let ms = switched["data"]["duration"].as_i64().unwrap();
    assert!((5000..6000).contains(&ms), "{switched}");
    sim.advance(ms as f64 / 1000.0 + 1.0).await;
    // The only example shows 2 for a player whose file has been played.
    assert_eq!(status(&info(&recorded).await), 2, "finished");
    let replayed = avd.ok("media.replay", player.clone()).await;
    assert_eq!(replayed["data"]["duration"], ms, "the last file again");
    let again = info(&recorded).await;
    assert_eq!(again["data"][0]["play_files"][0]["play_count"], 2);
    assert_eq!(status(&again), status(&playing));

    assert_eq!(avd.ok("media.stop", player.clone()).await, json!({}));
    assert_eq!(avd.code("media.get_media_info", with(json!({ "url": recorded }))).await, "40081");
    assert_eq!(avd.code("media.stop", player.clone()).await, "40081");
    assert_eq!(avd.code("media.resume", player.clone()).await, "40081");
    assert_eq!(avd.code("media.switch", with(json!({ "url": intro_path }))).await, "40081");
}

/// What was said in the meeting.
async fn chat_log(sim: &Sim, avd: &Avd) {
    sim.chat(BOARD, "alice", "Welcome to the Q3 board").await;
    sim.advance(2.0).await;
    let said_at = sim.now().await;
    sim.chat(BOARD, "bob", "Numbers are on slide 4").await;

    let log = avd.ok("room.get_chat_message_log", json!({ "room_id": BOARD })).await;
    let sessions = log["data"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "one meeting: {log}");
    let rooms = avd.ok("room.list", Value::Null).await;
    assert_eq!(sessions[0]["session_id"], rooms["rooms"][0]["create_time"].to_string(), "the meeting's start");
    let messages = sessions[0]["messages"].as_array().unwrap();
    let said: Vec<(String, String)> = messages.iter().map(|m| (text(&m["fromId"]), text(&m["message"]))).collect();
    let expected = [("alice", "Welcome to the Q3 board"), ("bob", "Numbers are on slide 4")]
        .map(|(who, what)| (who.to_string(), what.to_string()));
    assert_eq!(said, expected);
    assert_eq!(messages[0]["fromName"], "Alice", "the sender's name in the meeting");
    assert!(messages.iter().all(|m| m["room_id"] == BOARD));

    let alice = avd.ok("room.get_chat_message_log", json!({ "room_id": BOARD, "fromId": "alice" })).await;
    assert_eq!(alice["data"][0]["messages"].as_array().unwrap().len(), 1);
    let later = avd.ok("room.get_chat_message_log", json!({ "room_id": BOARD, "start_time": said_at })).await;
    let later = later["data"][0]["messages"].as_array().unwrap();
    assert_eq!((later.len(), &later[0]["fromId"]), (1, &json!("bob")), "{later:?}");
    let before = json!({ "room_id": BOARD, "end_time": said_at - 3600 });
    assert_eq!(avd.ok("room.get_chat_message_log", before).await["data"], json!([]));
    assert_eq!(avd.code("room.get_chat_message_log", json!({ "room_id": NOWHERE })).await, "40004");
}

/// The camera is hung up, the meeting closed and its statistics read.
async fn end_of_meeting(sim: &Sim, avd: &Avd, device: &Device, joined_at: i64) {
    let kicked = avd.ok("device.kick", device.in_board()).await;
    assert_eq!(kicked, json!({ "call_id": device.call_id, "user_id": device.user_id }));
    let status = avd.ok("device.get_invite_status", json!({ "call_id": device.call_id })).await;
    assert_eq!(status["invite_status"], 2, "hung up");
    assert_eq!(avd.code("device.kick", device.in_board()).await, "40008");
    assert_eq!(avd.code("device.video.open", device.in_board()).await, "40008");
    let elsewhere = json!({ "room_id": NOWHERE, "user_id": device.user_id });
    assert_eq!(avd.code("device.video.close", elsewhere.clone()).await, "40004");
    assert_eq!(avd.code("device.audio.unmute", elsewhere.clone()).await, "40004");
    assert_eq!(avd.code("device.kick", elsewhere).await, "40004");
    assert_eq!(avd.participants().await.len(), 1, "Alice is left");

    assert_eq!(avd.ok("room.close", json!({ "room_id": BOARD })).await, json!({}));
    let closed_at = sim.now().await;
    assert_eq!(avd.ok("room.list", Value::Null).await, json!({ "rooms": [] }));
    assert_eq!(avd.code("room.participate.list", json!({ "room_id": BOARD })).await, "41005");
    assert_eq!(
        avd.err("room.close", json!({ "room_id": BOARD })).await.1,
        "Internal server error:room not found or opened"
    );

    let period = |from: i64, to: i64| json!({ "room_id": BOARD, "start_time": from, "end_time": to });
    let stats = avd.ok("room.get_statistic", period(joined_at - 60, closed_at + 60)).await;
    let counters = [("meeting_total", 1), ("user_cnt", 3), ("web_cnt", 1), ("ios_cnt", 1), ("other_cnt", 1)];
    for (name, n) in counters {
        assert_eq!(stats[name], n, "{name}: {stats}");
    }
    for name in ["pc_cnt", "android_cnt", "box_cnt"] {
        assert_eq!(stats[name], 0, "{name}: {stats}");
    }
    let total = stats["time_total"].as_i64().unwrap();
    assert!((total - (closed_at - joined_at)).abs() <= 2, "{total} s for a meeting of {} s", closed_at - joined_at);
    let before = avd.ok("room.get_statistic", period(joined_at - 7200, joined_at - 3600)).await;
    assert_eq!((&before["meeting_total"], &before["user_cnt"]), (&json!(0), &json!(0)));
    // The endpoint's own failure example: 40003 "no such room_id" for an unknown room.
    let unknown = json!({ "room_id": NOWHERE, "start_time": joined_at, "end_time": closed_at });
    assert_eq!(avd.err("room.get_statistic", unknown).await, ("40003".into(), "no such room_id".into()));
}

/// SIP gateways and the accounts on them.
async fn sip_gateways_and_accounts(avd: &Avd) {
    let hq = avd.ok("sip.gate.create", json!({ "name": "hq", "url": "10.0.0.9:5060" })).await;
    let hq_id = hq["gate_id"].as_i64().unwrap();
    assert_eq!((&hq["name"], &hq["url"]), (&json!("hq"), &json!("10.0.0.9:5060")));
    let clash = json!({ "name": "hq-2", "url": "10.0.0.9:5060" });
    assert_eq!(avd.err("sip.gate.create", clash).await, ("40019".into(), "sip gate url exists".into()));
    let branch = avd.ok("sip.gate.create", json!({ "name": "branch", "url": "10.0.1.9:5060" })).await;
    let branch_id = branch["gate_id"].as_i64().unwrap();
    assert_ne!(hq_id, branch_id);

    let moved = json!({ "sip_gate_id": hq_id, "name": "hq-main", "url": "10.0.0.10:5060" });
    assert_eq!(avd.ok("sip.gate.update", moved).await, json!({}));
    let read = avd.ok("sip.gate.read", json!({ "sip_gate_id": hq_id })).await;
    assert_eq!(read, json!({ "id": hq_id, "name": "hq-main", "url": "10.0.0.10:5060" }));
    let onto_branch = json!({ "sip_gate_id": hq_id, "name": "hq-main", "url": "10.0.1.9:5060" });
    assert_eq!(avd.code("sip.gate.update", onto_branch).await, "40019");
    let unknown = json!({ "sip_gate_id": 9999, "name": "x", "url": "10.9.9.9:5060" });
    assert_eq!(avd.code("sip.gate.update", unknown).await, "40020");
    assert_eq!(avd.err("sip.gate.read", json!({ "sip_gate_id": 9999 })).await.1, "no such sip_gate_id");
    let gates = avd.ok("sip.gate.list", Value::Null).await;
    let expected = json!([
        { "gate_id": hq_id, "name": "hq-main", "url": "10.0.0.10:5060" },
        { "gate_id": branch_id, "name": "branch", "url": "10.0.1.9:5060" },
    ]);
    assert_eq!(gates["sip_gates"], expected);

    let reception = json!({ "name": "reception", "password": "s3cret", "number": "8001", "sip_gate_id": hq_id });
    let account = avd.ok("sip.account.create", reception.clone()).await;
    let account_id = account["account_id"].as_i64().unwrap();
    assert_eq!((&account["name"], &account["sip_gate_id"]), (&json!("reception"), &json!(hq_id)));
    let mut orphan = reception.clone();
    orphan["sip_gate_id"] = json!(9999);
    assert_eq!(avd.err("sip.account.create", orphan).await, ("40020".into(), "no such sip_gate".into()));
    let mut same_number = reception;
    same_number["sip_gate_id"] = json!(branch_id);
    assert_eq!(avd.code("sip.account.create", same_number).await, "40021");

    let renamed = json!({ "account_id": account_id, "name": "front desk", "password": "n3w", "number": "8002" });
    assert_eq!(avd.ok("sip.account.update", renamed).await, json!({}));
    let read = avd.ok("sip.account.read", json!({ "account_id": account_id, "sip_gate_id": hq_id })).await;
    assert_eq!((&read["account_id"], &read["gate_id"]), (&json!(account_id), &json!(hq_id)));
    assert_eq!(
        (&read["name"], &read["phone_number"], &read["password"]),
        (&json!("front desk"), &json!("8002"), &json!("n3w"))
    );
    let unknown = json!({ "account_id": 9999, "name": "x", "password": "x", "number": "9" });
    assert_eq!(avd.err("sip.account.update", unknown).await, ("40022".into(), "no such account_id".into()));
    let gone = json!({ "account_id": account_id, "sip_gate_id": hq_id });
    assert_eq!(avd.ok("sip.account.del", json!({ "account_id": account_id })).await, json!({}));
    assert_eq!(avd.code("sip.account.read", gone).await, "40022");
    assert_eq!(avd.code("sip.account.del", json!({ "account_id": account_id })).await, "40022");

    for id in [branch_id, hq_id] {
        assert_eq!(avd.ok("sip.gate.del", json!({ "sip_gate_id": id })).await, json!({}));
        assert_eq!(avd.code("sip.gate.del", json!({ "sip_gate_id": id })).await, "40020");
    }
    assert_eq!(avd.ok("sip.gate.list", Value::Null).await, json!({ "sip_gates": [] }));
}

/// One file deleted, then every recording of the room, then the rooms.
async fn deletions(sim: &Sim, avd: &Avd, rec: &Recording) {
    let mp3 = rec.urls_of("mp3");
    let doomed = mp3.iter().next().unwrap().clone();
    let one = json!({ "room_id": BOARD, "url": server_path(&doomed) });
    assert_eq!(avd.ok("room.delete_record", one.clone()).await, json!({}));
    let audio = avd.ok("room.record.get", json!({ "room_id": BOARD })).await;
    let left = values_of(audio["data"].as_array().unwrap(), "download_url");
    let kept: BTreeSet<String> = mp3.iter().filter(|u| **u != doomed).cloned().collect();
    assert_eq!(left, kept);
    assert_eq!(sim.fetch(&doomed).await.0, 404);
    assert_eq!(avd.err("room.delete_record", one).await, ("40094".into(), "no such record".into()));
    let nowhere = json!({ "room_id": NOWHERE, "url": "/home/data/x.mp4" });
    assert_eq!(avd.code("room.delete_record", nowhere).await, "40004");

    assert_eq!(avd.ok("room.del_record", json!({ "room_id": BOARD })).await, json!({}));
    assert_eq!(avd.ok("room.get_record_list", Value::Null).await, json!({ "data": [] }));
    assert_eq!(avd.ok("room.mix_record.get", json!({ "room_id": BOARD })).await, json!({ "data": [] }));
    let slides = avd.ok("room.desktop_record.get", json!({ "room_id": BOARD, "name": "slides" })).await;
    assert_eq!(slides, json!({ "data": [] }));
    let transcode = json!({ "room_id": BOARD, "record_id": rec.record_id });
    assert_eq!(avd.code("transcode.query", transcode).await, "40090");
    for url in rec.urls_of("mp4") {
        assert_eq!(sim.fetch(&url).await.0, 404, "{url} was deleted");
    }
    assert_eq!(avd.code("room.del_record", json!({ "room_id": NOWHERE })).await, "40004");

    for room in [BOARD, STANDBY] {
        assert_eq!(avd.ok("room.del", json!({ "room_id": room })).await, json!({}));
        assert_eq!(avd.code("room.read", json!({ "room_id": room })).await, "40004");
    }
    assert!(sim.state().await["rooms"].as_array().unwrap().is_empty());
}
