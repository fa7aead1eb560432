//! Documented vmr behaviour (apiServer + mcuHost), exercised over HTTP
//! against a started simulator.

mod common;

use std::time::Duration;

use base64::Engine;
use futures::StreamExt;
use md5::{Digest, Md5};
use meetkit_sim::{SimOptions, Simulator, VmrOptions};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A started simulator with the vmr base URLs.
struct Vmr {
    sim: Simulator,
    http: reqwest::Client,
    api: String,
    mcu: String,
    /// The second meeting node (`guests@sim.vmr` / 1062 lives there).
    mcu2: String,
}

impl Vmr {
    async fn start() -> Vmr {
        Vmr::start_with(VmrOptions::default()).await
    }

    async fn start_with(vmr: VmrOptions) -> Vmr {
        let sim = Simulator::start(SimOptions { vmr, ..Default::default() }).await.expect("start");
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
        Vmr { api: sim.vmr_base_url(), mcu: sim.vmr_mcu_base_url(), mcu2: sim.vmr_mcu2_base_url(), sim, http }
    }

    /// A lenient simulator (`strict: false`).
    async fn lenient() -> Vmr {
        let sim = Simulator::start(SimOptions { strict: false, ..Default::default() }).await.expect("start");
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
        Vmr { api: sim.vmr_base_url(), mcu: sim.vmr_mcu_base_url(), mcu2: sim.vmr_mcu2_base_url(), sim, http }
    }

    /// The meeting node of a seeded room (what checkJoin reports for it).
    fn base(&self, room: &str) -> &str {
        if matches!(room, "1062" | "guests@sim.vmr") {
            &self.mcu2
        } else {
            &self.mcu
        }
    }

    /// POST a room command; (HTTP status, JSON answer).
    async fn room_post(&self, room: &str, cmd: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        let mut req = self.http.post(format!("{}/api/services/{room}/{cmd}", self.base(room))).json(&body);
        if let Some(t) = token {
            req = req.header("token", t);
        }
        let resp = req.send().await.expect("send");
        (resp.status(), resp.json().await.expect("json"))
    }

    async fn room_get(&self, room: &str, cmd: &str, token: &str) -> (StatusCode, Value) {
        let resp = self
            .http
            .get(format!("{}/api/services/{room}/{cmd}", self.base(room)))
            .header("token", token)
            .send()
            .await
            .expect("send");
        (resp.status(), resp.json().await.expect("json"))
    }

    /// POST a participant command; (HTTP status, JSON answer).
    async fn part(&self, room: &str, uuid: &str, cmd: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.room_post(room, &format!("participants/{uuid}/{cmd}"), Some(token), body).await
    }

    /// new_session; (token, participant_uuid).
    async fn session(&self, room: &str, pin: Option<&str>, name: &str) -> (String, String) {
        let mut req = self
            .http
            .post(format!("{}/api/services/{room}/new_session", self.base(room)))
            .json(&json!({"display_name": name, "hideme": "no"}));
        if let Some(p) = pin {
            req = req.header("pin", p);
        }
        let v: Value = req.send().await.expect("send").json().await.expect("json");
        assert_eq!(v["status"], "success", "{v}");
        (
            v["result"]["token"].as_str().unwrap().to_owned(),
            v["result"]["participant_uuid"].as_str().unwrap().to_owned(),
        )
    }

    /// POST a supplementary call with the given auth.
    async fn meeting(&self, op: &str, auth: &str, body: Value) -> Value {
        let resp = self
            .http
            .post(format!("{}/meeting/{op}", self.api))
            .header("auth", auth)
            .json(&body)
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), StatusCode::OK, "{op}");
        resp.json().await.expect("json")
    }

    async fn admin(&self, base: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let resp = self.http.post(format!("{base}{path}")).json(&body).send().await.expect("send");
        (resp.status(), resp.json().await.unwrap_or(Value::Null))
    }

    async fn state(&self) -> Value {
        self.http.get(format!("{}/_sim/state", self.api)).send().await.expect("send").json().await.expect("json")
    }

    async fn advance(&self, seconds: f64) {
        let (s, _) = self.admin(&self.api, "/_sim/clock/advance", json!({ "seconds": seconds })).await;
        assert_eq!(s, StatusCode::OK);
    }

    async fn events(&self, room: &str, token: &str) -> Events {
        let url = format!("{}/api/services/{room}/events?token={}", self.base(room), urlencode(token));
        let resp = self
            .http
            .get(url)
            .header("accept", "text/event-stream")
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .expect("events");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        Events { stream: Box::pin(resp.bytes_stream()), buf: String::new(), comments: 0 }
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

type ByteStream = std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

/// A parsed SSE stream.
struct Events {
    stream: ByteStream,
    buf: String,
    comments: usize,
}

enum Next {
    Event(String, Value),
    End,
    Error,
}

impl Events {
    /// One whole block off the buffer: `Some(Some(event))`, `Some(None)` for a block without an
    /// event (its comments counted), `None` when no whole block is buffered yet.
    fn block(&mut self) -> Option<Option<(String, Value)>> {
        let pos = self.buf.find("\n\n")?;
        let block: String = self.buf.drain(..pos + 2).collect();
        let mut name = String::new();
        let mut data = Vec::new();
        for line in block.lines() {
            if line.starts_with(':') {
                self.comments += 1;
            } else if let Some(n) = line.strip_prefix("event: ") {
                name = n.to_owned();
            } else if let Some(d) = line.strip_prefix("data: ") {
                data.push(d);
            }
        }
        if name.is_empty() {
            return Some(None);
        }
        let value = serde_json::from_str(&data.join("\n")).expect("event data is JSON");
        Some(Some((name, value)))
    }

    /// Read more of the stream; `Some` when it ended or failed. A minute of silence fails the
    /// test as hung.
    async fn fill(&mut self) -> Option<Next> {
        match tokio::time::timeout(Duration::from_secs(60), self.stream.next()).await {
            Ok(Some(Ok(chunk))) => {
                self.buf.push_str(std::str::from_utf8(&chunk).expect("utf8"));
                None
            }
            Ok(Some(Err(_))) => Some(Next::Error),
            Ok(None) => Some(Next::End),
            Err(_) => panic!("hung: nothing on the event stream for a minute"),
        }
    }

    /// Next event (comments counted and skipped), end of stream or error.
    async fn next(&mut self) -> Next {
        loop {
            match self.block() {
                Some(Some((name, value))) => return Next::Event(name, value),
                Some(None) => continue,
                None => {}
            }
            if let Some(end) = self.fill().await {
                return end;
            }
        }
    }

    /// Read until `n` keep-alive comments have come in all (events on the way are skipped).
    async fn comments_at_least(&mut self, n: usize) {
        while self.comments < n {
            if self.block().is_none() && self.fill().await.is_some() {
                panic!("the stream ended after {} keep-alive comments", self.comments);
            }
        }
    }

    /// Skip to the next event called `name`; its data.
    async fn until(&mut self, name: &str) -> Value {
        loop {
            match self.next().await {
                Next::Event(n, v) if n == name => return v,
                Next::Event(..) => {}
                Next::End | Next::Error => panic!("stream ended before {name}"),
            }
        }
    }
}

#[tokio::test]
async fn profile_ports_and_check_join() {
    let (sim, base) = common::start_on_fixed_ports(SimOptions::default()).await;
    let port = base + 2;
    assert_eq!(sim.vmr_base_url(), format!("http://127.0.0.1:{port}"));
    assert_eq!(sim.vmr_mcu_base_url(), format!("http://127.0.0.1:{}", port + 1));
    let p = sim.profile()["vmr"].clone();
    assert_eq!(
        p,
        json!({"api_server": sim.vmr_base_url(), "auth": "sim-vmr-auth", "account": "meetkit@sim.vmr",
               "password": "123456", "display_name": "meetkit", "mcu_scheme": "http"})
    );
    let http = reqwest::Client::new();
    let check = |body: Value| {
        let http = http.clone();
        let url = format!("{}/api/v3/meet/checkJoin.shtml", sim.vmr_base_url());
        async move { http.post(url).json(&body).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let ok = check(json!({"joinAccount": "meetkit@sim.vmr", "joinPwd": "123456", "participantName": "Ann"})).await;
    assert_eq!(ok["code"], "200");
    let ts = ok["timeStamp"].as_str().unwrap();
    assert_eq!(ts.len(), 19, "{ts}");
    assert_eq!(&ts[4..5], "-");
    assert_eq!(&ts[13..14], ":");
    let r = &ok["results"];
    assert_eq!(r["mcuHost"], format!("127.0.0.1:{}", port + 1));
    assert_eq!(r["roleType"], "host");
    assert_eq!(r["sipkey"], "1061");
    assert_eq!(r["alias"], "meetkit@sim.vmr");
    assert_eq!(r["isDot"], false);
    assert_eq!(r["isRecord"], true);
    assert_eq!(r["companyId"], 52);
    assert_eq!(r["allowGuest"], "yes");
    // By numeric id, guest PIN of the second room.
    let guest = check(json!({"joinAccount": "1062", "joinPwd": "1111", "participantName": "Bo"})).await;
    assert_eq!(guest["results"]["roleType"], "guest");
    assert_eq!(guest["results"]["isLive"], false);
    let wrong = check(json!({"joinAccount": "1062", "joinPwd": "0000", "participantName": "Bo"})).await;
    assert_eq!(wrong["code"], "403");
    assert_eq!(wrong["results"], Value::Null);
    let nopin = check(json!({"joinAccount": "1062", "participantName": "Bo"})).await;
    assert_eq!(nopin["code"], "403");
    let unknown = check(json!({"joinAccount": "nobody@sim.vmr", "participantName": "Bo"})).await;
    assert_eq!(unknown["code"], "200008");
    let missing = check(json!({"joinAccount": "1061"})).await;
    assert_eq!(missing["code"], "400");
    sim.shutdown().await;
}

#[tokio::test]
async fn sessions_tokens_refresh_and_expiry() {
    let v = Vmr::start().await;
    // Raw '@' and the numeric id name the same room ('%40': lenient only, see below).
    let resp: Value = v
        .http
        .post(format!("{}/api/services/meetkit@sim.vmr/new_session", v.mcu))
        .header("pin", "123456")
        .json(&json!({"display_name": "Host", "hideme": "no"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(resp["status"], "success");
    let res = &resp["result"];
    assert_eq!(res["expires"], "120");
    assert_eq!(res["role"], "HOST");
    assert_eq!(res["service_type"], "conference");
    assert_eq!(res["current_service_type"], "conference");
    assert_eq!(res["version"]["version_id"], "3");
    let token = res["token"].as_str().unwrap().to_owned();
    let (s, st) = v.room_get("meetkit@sim.vmr", "service_status", &token).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        st,
        json!({"status": "success", "result": {"guests_muted": false, "locked": false, "started": true, "whiteboard": false}})
    );
    assert_eq!(v.room_get("1061", "service_status", &token).await.0, StatusCode::OK);
    // `Token` (capital) is the same header.
    let cap =
        v.http.get(format!("{}/api/services/1061/participants", v.mcu)).header("Token", &token).send().await.unwrap();
    assert_eq!(cap.status(), StatusCode::OK);
    // A token is bound to its room.
    assert_eq!(v.room_get("1062", "service_status", &token).await.0, StatusCode::FORBIDDEN);

    // PIN handling.
    let (s, body) = v.room_post("1061", "new_session", None, json!({"display_name": "g"})).await;
    assert_eq!((s, body["result"]["role"].clone()), (StatusCode::OK, json!("GUEST")), "no guest PIN set: {body}");
    let mut wrong = v.http.post(format!("{}/api/services/1061/new_session", v.mcu)).header("pin", "999");
    wrong = wrong.json(&json!({"display_name": "g"}));
    let w = wrong.send().await.unwrap();
    assert_eq!(w.status(), StatusCode::FORBIDDEN);
    assert_eq!(w.json::<Value>().await.unwrap(), json!({"status": "failed", "result": "Invalid PIN"}));
    assert_eq!(v.room_post("1062", "new_session", None, json!({"display_name": "g"})).await.0, StatusCode::FORBIDDEN);
    let nowhere = v.room_post("nowhere@sim.vmr", "new_session", None, json!({"display_name": "g"})).await;
    assert_eq!(nowhere.0, StatusCode::NOT_FOUND);
    let maybe = json!({"display_name": "g", "hideme": "maybe"});
    assert_eq!(v.room_post("1061", "new_session", None, maybe).await.0, StatusCode::BAD_REQUEST);

    // Missing / unknown token.
    assert_eq!(
        v.room_post("1061", "lock", None, json!({})).await,
        (StatusCode::FORBIDDEN, json!({"status": "failed", "result": "Invalid token"}))
    );
    assert_eq!(v.room_post("1061", "lock", Some("bogus"), json!({})).await.0, StatusCode::FORBIDDEN);

    // Refresh: new token; the old one works for the 5 s grace only.
    let (s, r) = v.room_post("1061", "refresh_session", Some(&token), json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(r["result"]["expires"], "120");
    assert_eq!(r["result"]["role"], "HOST");
    let fresh = r["result"]["token"].as_str().unwrap().to_owned();
    assert_ne!(fresh, token);
    assert_eq!(v.room_get("1061", "service_status", &token).await.0, StatusCode::OK);
    v.advance(6.0).await;
    assert_eq!(v.room_get("1061", "service_status", &token).await.0, StatusCode::FORBIDDEN);
    assert_eq!(v.room_get("1061", "service_status", &fresh).await.0, StatusCode::OK);

    // Expiry after 120 s of virtual time; the session's participant leaves.
    v.advance(110.0).await;
    assert_eq!(v.room_get("1061", "service_status", &fresh).await.0, StatusCode::OK);
    v.advance(5.0).await;
    assert_eq!(v.room_get("1061", "service_status", &fresh).await.0, StatusCode::FORBIDDEN);

    // end_session invalidates at once.
    let (t2, _) = v.session("1061", Some("123456"), "Again").await;
    assert_eq!(v.room_post("1061", "end_session", Some(&t2), json!({})).await.0, StatusCode::OK);
    assert_eq!(v.room_get("1061", "participants", &t2).await.0, StatusCode::FORBIDDEN);

    // Admin: expire every token now.
    let (t3, _) = v.session("1061", Some("123456"), "Third").await;
    let (s, e) = v.admin(&v.mcu, "/_sim/vmr/tokens/expire", json!({})).await;
    assert_eq!((s, e["ok"].clone()), (StatusCode::OK, json!(true)));
    assert_eq!(v.room_get("1061", "participants", &t3).await.0, StatusCode::FORBIDDEN);
    v.sim.shutdown().await;
}

#[tokio::test]
async fn conference_control_emits_events() {
    let v = Vmr::start_with(VmrOptions { keepalive_interval: Duration::from_millis(150), ..Default::default() }).await;
    let (host, host_uuid) = v.session("meetkit@sim.vmr", Some("123456"), "Host").await;
    let mut ev = v.events("meetkit@sim.vmr", &host).await;
    assert!(matches!(ev.next().await, Next::Event(n, Value::Null) if n == "participant_sync_begin"));
    let me = ev.until("participant_create").await;
    assert_eq!(me["uuid"], host_uuid.as_str());
    assert_eq!(me["protocol"], "api");
    assert_eq!(me["role"], "chair");
    assert_eq!(me["has_media"], false);
    assert_eq!(me["api_url"], format!("/participants/{host_uuid}"));
    ev.until("participant_sync_end").await;

    // dial: connecting at once, conference once answered (2 s virtual).
    let (s, d) = v
        .room_post("1061", "dial", Some(&host), json!({"role": "guest", "destination": "bob@example.com", "protocol": "sip", "source_display_name": "Alice"}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let bob = d["result"][0].as_str().unwrap().to_owned();
    let created = ev.until("participant_create").await;
    assert_eq!((created["uuid"].as_str(), created["service_type"].as_str()), (Some(bob.as_str()), Some("connecting")));
    assert_eq!(created["call_direction"], "out");
    v.advance(2.5).await;
    let upd = ev.until("participant_update").await;
    assert_eq!((upd["uuid"].as_str(), upd["service_type"].as_str()), (Some(bob.as_str()), Some("conference")));
    assert_eq!(
        v.room_post("1061", "dial", Some(&host), json!({"role": "guest", "protocol": "sip"})).await.0,
        StatusCode::BAD_REQUEST
    );

    // lock → service_update; a guest joining by itself waits until admitted.
    let (s, l) = v.room_post("1061", "lock", Some(&host), json!({})).await;
    assert_eq!((s, l), (StatusCode::OK, json!({"status": "success", "result": true})));
    assert_eq!(ev.until("service_update").await, json!({"locked": true, "guests_muted": false}));
    let (_, j) = v.admin(&v.mcu, "/_sim/vmr/rooms/1061/join", json!({"display_name": "Carol"})).await;
    assert_eq!(j["service_type"], "waiting_room");
    let carol = j["uuid"].as_str().unwrap().to_owned();
    assert_eq!(ev.until("participant_create").await["service_type"], "waiting_room");
    assert_eq!(v.part("1061", &carol, "unlock", &host, json!({})).await.1["result"], true);
    assert_eq!(ev.until("participant_update").await["service_type"], "conference");
    v.room_post("1061", "unlock", Some(&host), json!({})).await;
    assert_eq!(ev.until("service_update").await["locked"], false);

    // Participant commands change the participant object.
    v.part("1061", &bob, "mute", &host, json!({})).await;
    assert_eq!(ev.until("participant_update").await["is_muted"], "YES");
    v.part("1061", &bob, "denyrxpresentation", &host, json!({})).await;
    assert_eq!(ev.until("participant_update").await["rx_presentation_policy"], "DENY");
    v.part("1061", &bob, "spotlighton", &host, json!({})).await;
    assert!(ev.until("participant_update").await["spotlight"].as_i64().unwrap() > 1_600_000_000);
    let stage = ev.until("stage").await;
    assert_eq!(stage[0], json!({"stage_index": 0, "participant_uuid": bob, "vad": 0}));
    assert_eq!(ev.until("layout").await["participants"][0], bob.as_str());
    v.part("1061", &carol, "role", &host, json!({"role": "chair"})).await;
    assert_eq!(ev.until("participant_update").await["role"], "chair");
    assert_eq!(v.part("1061", &carol, "role", &host, json!({"role": "boss"})).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(v.part("1061", "no-such-uuid", "mute", &host, json!({})).await.0, StatusCode::NOT_FOUND);
    v.admin(&v.mcu, &format!("/_sim/vmr/rooms/1061/participants/{bob}/speak"), json!({})).await;
    assert_eq!(ev.until("stage").await[0]["vad"], 100);

    // muteguests: current guests muted, later guests too.
    v.room_post("1061", "muteguests", Some(&host), json!({})).await;
    assert_eq!(ev.until("service_update").await, json!({"locked": false, "guests_muted": true}));
    let (_, j2) = v.admin(&v.mcu, "/_sim/vmr/rooms/1061/join", json!({"display_name": "Dan"})).await;
    let dan = j2["uuid"].as_str().unwrap().to_owned();
    assert_eq!(ev.until("participant_create").await["is_muted"], "YES");
    v.room_post("1061", "unmuteguests", Some(&host), json!({})).await;
    assert_eq!(ev.until("service_update").await["guests_muted"], false);

    // message: result is the string "true"; everybody gets the event.
    let (s, m) =
        v.room_post("1061", "message", Some(&host), json!({"type": "text/plain", "payload": "Hello World"})).await;
    assert_eq!((s, m), (StatusCode::OK, json!({"status": "success", "result": "true"})));
    assert_eq!(
        ev.until("message").await,
        json!({"origin": "Host", "uuid": host_uuid, "type": "text/plain", "payload": "Hello World"})
    );

    // override_layout answers the participant list and emits layout.
    let layouts = json!({"layouts": [
        {"audience": "hosts", "actors": [], "vad_backfill": true, "layout": "2:21", "plus_n": "auto", "actors_overlay_text": "auto"},
        {"audience": "", "actors": [], "vad_backfill": true, "layout": "1:7", "plus_n": "auto", "actors_overlay_text": "auto"}]});
    let (s, o) = v.room_post("1061", "override_layout", Some(&host), layouts).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(o["result"].as_array().unwrap().len(), 4);
    assert_eq!(ev.until("layout").await["view"], "2:21");
    let bad = json!({"layouts": [{"audience": "hosts", "actors": [bob], "layout": "1:7", "plus_n": "auto"}]});
    assert_eq!(v.room_post("1061", "override_layout", Some(&host), bad).await.0, StatusCode::BAD_REQUEST);

    // Sub-calls.
    let (s, c) = v.part("1061", &bob, "calls", &host, json!({"call_type": "WEBRTC", "sdp": "v=0\r\n"})).await;
    assert_eq!(s, StatusCode::OK);
    assert!(c["result"]["sdp"].as_str().unwrap().starts_with("v=0"));
    let (_, rtmp) = v.part("1061", &bob, "calls", &host, json!({"call_type": "RTMP", "streaming": true})).await;
    let call = rtmp["result"]["call_uuid"].as_str().unwrap().to_owned();
    assert!(rtmp["result"]["url"].as_str().unwrap().starts_with("rtmp://"));
    assert!(rtmp["result"]["secure_url"].as_str().unwrap().ends_with(&call));
    assert_eq!(v.part("1061", &bob, "calls", &host, json!({"call_type": "FAX"})).await.0, StatusCode::BAD_REQUEST);
    v.admin(&v.mcu, &format!("/_sim/vmr/calls/{call}/disconnect"), json!({"reason": "screen share ended"})).await;
    assert_eq!(ev.until("call_disconnected").await, json!({"call_uuid": call, "reason": "screen share ended"}));
    assert_eq!(v.part("1061", &bob, "dtmf", &host, json!({"digits": "123#"})).await.1["result"], true);

    // Presentation: start / frame (JPEG) / stop.
    let jpeg_url = format!("{}/api/services/1061/presentation.jpeg", v.mcu);
    assert_eq!(v.http.get(&jpeg_url).header("token", &host).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    v.admin(&v.mcu, "/_sim/vmr/rooms/1061/presentation/start", json!({"uuid": bob})).await;
    assert_eq!(
        ev.until("presentation_start").await,
        json!({"presenter_name": "bob@example.com", "presenter_uri": "bob@example.com"})
    );
    assert_eq!(ev.until("participant_update").await["is_presenting"], "YES");
    v.admin(&v.mcu, "/_sim/vmr/rooms/1061/presentation/frame", json!({})).await;
    assert_eq!(ev.until("presentation_frame").await, Value::Null);
    let jpeg = v.http.get(&jpeg_url).header("token", &host).send().await.unwrap();
    assert_eq!(jpeg.status(), StatusCode::OK);
    assert_eq!(jpeg.headers()["content-type"], "image/jpeg");
    let bytes = jpeg.bytes().await.unwrap();
    assert_eq!(&bytes[..3], &[0xFF, 0xD8, 0xFF]);
    assert_eq!(&bytes[bytes.len() - 2..], &[0xFF, 0xD9]);
    assert_eq!(v.http.get(&jpeg_url).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    v.admin(&v.mcu, "/_sim/vmr/rooms/1061/presentation/stop", json!({})).await;
    ev.until("presentation_stop").await;

    // The participant list; kicking one → participant_delete.
    let (_, list) = v.room_get("1061", "participants", &host).await;
    assert_eq!(list["result"].as_array().unwrap().len(), 4);
    v.part("1061", &dan, "disconnect", &host, json!({})).await;
    assert_eq!(ev.until("participant_delete").await, json!({"uuid": dan}));

    // Conference disconnect: our own stream gets `disconnect` and ends.
    assert_eq!(v.room_post("1061", "disconnect", Some(&host), json!({})).await.1["result"], true);
    assert_eq!(ev.until("disconnect").await, json!({"reason": "API initiated conference disconnect"}));
    assert!(matches!(ev.next().await, Next::End));
    assert_eq!(v.room_get("1061", "participants", &host).await.0, StatusCode::FORBIDDEN);
    v.sim.shutdown().await;
}

#[tokio::test]
async fn keepalive_and_stream_drop() {
    let v = Vmr::start_with(VmrOptions { keepalive_interval: Duration::from_millis(100), ..Default::default() }).await;
    let (host, _) = v.session("1061", Some("123456"), "Host").await;
    let mut ev = v.events("1061", &host).await;
    ev.until("participant_sync_end").await;
    // Keep-alive comments come on the server's own (real-time) timer: wait for two.
    ev.comments_at_least(2).await;
    v.room_post("1061", "lock", Some(&host), json!({})).await;
    ev.until("service_update").await;
    let (s, d) = v.admin(&v.api, "/_sim/vmr/events/drop", json!({})).await;
    assert_eq!((s, d["dropped"].clone()), (StatusCode::OK, json!(1)));
    assert!(matches!(ev.next().await, Next::Error | Next::End));
    // The session survives; a new stream can be opened.
    let url = format!("{}/api/services/1061/events?token={}", v.mcu, urlencode(&host));
    let sse = |u: String| v.http.get(u).header("accept", "text/event-stream").send();
    assert_eq!(sse(url).await.unwrap().status(), StatusCode::OK);
    let bad = format!("{}/api/services/1061/events?token=nope", v.mcu);
    assert_eq!(sse(bad).await.unwrap().status(), StatusCode::FORBIDDEN);
    v.sim.shutdown().await;
}

/// `events/drop {"every_ms", "for_secs"}` keeps cutting every stream (each one opened meanwhile
/// too) until `stop`; each new connection still starts with the roster sync.
#[tokio::test]
async fn sim_invented_scheduled_stream_drops_until_stopped() {
    let v = Vmr::start().await;
    let (host, _) = v.session("1061", Some("123456"), "Host").await;
    let (s, d) = v.admin(&v.api, "/_sim/vmr/events/drop", json!({"every_ms": 0})).await;
    assert_eq!((s, d["ok"].clone()), (StatusCode::BAD_REQUEST, json!(false)));
    let (s, d) = v.admin(&v.api, "/_sim/vmr/events/drop", json!({"every_ms": 20, "for_secs": 120})).await;
    assert_eq!((s, d["for_secs"].clone()), (StatusCode::OK, json!(120.0)));
    for _ in 0..3 {
        let mut ev = v.events("1061", &host).await;
        ev.until("participant_sync_end").await;
        while let Next::Event(..) = ev.next().await {}
    }
    let (_, d) = v.admin(&v.api, "/_sim/vmr/events/drop", json!({"stop": true})).await;
    assert_eq!(d["dropped"], 0);
    let drops = v.state().await["event_stream_drops"].as_u64().unwrap();
    assert!(drops >= 3, "{drops}");
    // Stopped: a new stream lives through an event, and nothing more was cut.
    let mut ev = v.events("1061", &host).await;
    ev.until("participant_sync_end").await;
    v.room_post("1061", "lock", Some(&host), json!({})).await;
    assert_eq!(ev.until("service_update").await["locked"], true);
    assert_eq!(v.state().await["event_stream_drops"].as_u64(), Some(drops));
    drop(ev);
    v.sim.shutdown().await;
}

#[tokio::test]
async fn guests_wait_for_host_and_permissions() {
    let v = Vmr::start().await;
    let resp: Value = v
        .http
        .post(format!("{}/api/services/guests@sim.vmr/new_session", v.mcu2))
        .header("pin", "1111")
        .json(&json!({"display_name": "Guest"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(resp["result"]["role"], "GUEST");
    assert_eq!(resp["result"]["current_service_type"], "waiting_room");
    let guest = resp["result"]["token"].as_str().unwrap().to_owned();
    let guest_uuid = resp["result"]["participant_uuid"].as_str().unwrap().to_owned();
    // Guests may not use host commands.
    let (s, b) = v.room_post("1062", "lock", Some(&guest), json!({})).await;
    assert_eq!((s, b["status"].clone()), (StatusCode::FORBIDDEN, json!("failed")));
    assert_eq!(v.room_post("1062", "dial", Some(&guest), json!({})).await.0, StatusCode::FORBIDDEN);
    assert_eq!(v.room_get("1062", "service_status", &guest).await.1["result"]["started"], false);
    // A hidden host (hideme) starts the meeting and is not listed.
    let hidden: Value = v
        .http
        .post(format!("{}/api/services/1062/new_session", v.mcu2))
        .header("pin", "654321")
        .json(&json!({"display_name": "Ghost", "hideme": "yes"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let host = hidden["result"]["token"].as_str().unwrap().to_owned();
    let (_, list) = v.room_get("1062", "participants", &host).await;
    let list = list["result"].as_array().unwrap().clone();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["uuid"], guest_uuid.as_str());
    assert_eq!(list[0]["service_type"], "conference");
    assert_eq!(v.room_post("1062", "start_service", Some(&host), json!({})).await.1["result"], true);
    // Transfer: the target room's PIN for the role is checked.
    let wrong = json!({"role": "chair", "conference_alias": "1061", "pin": "0"});
    assert_eq!(v.part("1062", &guest_uuid, "transfer", &host, wrong).await.0, StatusCode::FORBIDDEN);
    let nowhere = json!({"role": "guest", "conference_alias": "nowhere@sim.vmr"});
    assert_eq!(v.part("1062", &guest_uuid, "transfer", &host, nowhere).await.0, StatusCode::NOT_FOUND);
    // To the first room as guest (no guest PIN there).
    let body = json!({"role": "guest", "conference_alias": "meetkit@sim.vmr"});
    assert_eq!(v.part("1062", &guest_uuid, "transfer", &host, body).await.0, StatusCode::OK);
    assert_eq!(v.room_get("1062", "participants", &host).await.1["result"], json!([]));
    assert_eq!(v.room_get("1061", "participants", &guest).await.1["result"][0]["uuid"], guest_uuid.as_str());
    // A guest may not transfer anybody.
    let own = json!({"role": "guest", "conference_alias": "1062", "pin": "1111"});
    assert_eq!(v.part("1061", &guest_uuid, "transfer", &guest, own).await.0, StatusCode::FORBIDDEN);
    v.sim.shutdown().await;
}

#[tokio::test]
async fn dial_outcomes_follow_the_clock() {
    let v = Vmr::start().await;
    let (host, _) = v.session("1061", Some("123456"), "Host").await;
    let dial = |dest: &'static str| {
        let body = json!({"role": "guest", "destination": dest, "protocol": "h323"});
        v.room_post("1061", "dial", Some(&host), body)
    };
    let quiet = dial("noanswer@example.com").await.1["result"][0].as_str().unwrap().to_owned();
    let busy = dial("busy@example.com").await.1["result"][0].as_str().unwrap().to_owned();
    let ok = dial("carol@example.com").await.1["result"][0].as_str().unwrap().to_owned();
    let kinds = |list: &Value| -> Vec<(String, String)> {
        list["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["uuid"].as_str().unwrap().to_owned(), p["service_type"].as_str().unwrap().to_owned()))
            .collect()
    };
    let all = kinds(&v.room_get("1061", "participants", &host).await.1);
    assert!(all.contains(&(quiet.clone(), "connecting".into())));
    v.advance(3.0).await;
    let all = kinds(&v.room_get("1061", "participants", &host).await.1);
    assert!(all.contains(&(ok.clone(), "conference".into())));
    assert!(!all.iter().any(|(u, _)| *u == busy), "rejected call removed");
    assert!(all.contains(&(quiet.clone(), "connecting".into())));
    v.advance(28.0).await;
    let all = kinds(&v.room_get("1061", "participants", &host).await.1);
    assert!(!all.iter().any(|(u, _)| *u == quiet), "unanswered after 30 s removed");
    // Admin: answer a ringing call at once.
    let manual = dial("noanswer-2@example.com").await.1["result"][0].as_str().unwrap().to_owned();
    let (s, _) = v.admin(&v.mcu, &format!("/_sim/vmr/rooms/1061/participants/{manual}/answer"), json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let all = kinds(&v.room_get("1061", "participants", &host).await.1);
    assert!(all.contains(&(manual, "conference".into())));
    v.sim.shutdown().await;
}

#[tokio::test]
async fn recordings_files_and_live() {
    let v = Vmr::start().await;
    let auth = "sim-vmr-auth";
    let code = |x: &Value| x["code"].as_str().unwrap().to_owned();
    assert_eq!(code(&v.meeting("openRecord", "wrong", json!({"conferenceKey": "1061"})).await), "403");
    let r = v.meeting("openRecord", auth, json!({"conferenceKey": "1061"})).await;
    assert_eq!(r, json!({"code": "200006", "data": null, "message": "该会议还未开启", "state": 0}));
    assert_eq!(code(&v.meeting("openRecord", auth, json!({"conferenceKey": "4242"})).await), "200008");
    assert_eq!(code(&v.meeting("openRecord", auth, json!({"conferenceKey": "1063"})).await), "200001");
    assert_eq!(code(&v.meeting("openRecord", auth, json!({"conferenceKey": "1062"})).await), "200004");
    assert_eq!(code(&v.meeting("openLive", auth, json!({"conferenceKey": "1062"})).await), "200005");
    assert_eq!(code(&v.meeting("openRecord", auth, json!({})).await), "400");
    assert_eq!(code(&v.meeting("closeRecord", auth, json!({"conferenceKey": "1061"})).await), "200007");

    let (host, _) = v.session("1061", Some("123456"), "Host").await;
    let open = v.meeting("openRecord", auth, json!({"conferenceKey": "1061"})).await;
    assert_eq!(
        (open["code"].clone(), open["state"].clone(), open["message"].clone()),
        (json!("200"), json!(1), Value::Null)
    );
    let record_id = open["data"]["recordId"].as_str().unwrap().to_owned();
    assert_eq!(code(&v.meeting("openRecord", auth, json!({"conferenceKey": "1061"})).await), "200003");
    assert_eq!(v.meeting("getRecords", auth, json!({"recordId": record_id})).await["data"], json!([]));
    v.advance(10.0).await;
    let close = v.meeting("closeRecord", auth, json!({"conferenceKey": "meetkit@sim.vmr"})).await;
    assert_eq!(close["data"]["recordId"], record_id.as_str());
    assert_eq!(code(&v.meeting("getRecords", "sim-vmr-other-auth", json!({"recordId": record_id})).await), "200001");
    let files = v.meeting("getRecords", auth, json!({"recordId": record_id, "origin": "https://apiServer"})).await;
    let f = files["data"][0].clone();
    assert_eq!(files["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        (f["recordId"].as_str(), f["conferenceKey"].as_str(), f["entId"].as_i64()),
        (Some(record_id.as_str()), Some("1061"), Some(52))
    );
    let size = f["fileSize"].as_u64().unwrap();
    assert!((10 * 32 * 1024..=11 * 32 * 1024).contains(&size), "{size}");
    assert_eq!(f["startTime"].as_str().unwrap().len(), 19);

    // Download: bytes match Content-Length, Content-MD5 and /_sim/state.
    let url = f["downUrl"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&v.api));
    let resp = v.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-length"], size.to_string().as_str());
    let md5_header = resp.headers()["content-md5"].to_str().unwrap().to_owned();
    let body = resp.bytes().await.unwrap();
    assert_eq!(body.len() as u64, size);
    let digest = Md5::digest(&body);
    assert_eq!(md5_header, base64::engine::general_purpose::STANDARD.encode(digest));
    let state: Value = v.http.get(format!("{}/_sim/state", v.mcu)).send().await.unwrap().json().await.unwrap();
    let rec =
        state["recordings"].as_array().unwrap().iter().find(|r| r["record_id"] == record_id.as_str()).unwrap().clone();
    assert_eq!(rec["files"][0]["md5"], hex::encode(digest));
    assert_eq!(rec["files"][0]["size"], size);
    let part = v.http.get(&url).header("range", "bytes=100-199").send().await.unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.headers()["content-range"], format!("bytes 100-199/{size}").as_str());
    assert_eq!(part.bytes().await.unwrap(), body.slice(100..200));
    let unsigned = url.split('?').next().unwrap().to_owned();
    assert_eq!(v.http.get(unsigned).send().await.unwrap().status(), StatusCode::FORBIDDEN);

    // Delete: gone from getRecords and from the server.
    let del = v.meeting("delRecordFile", auth, json!({"recordId": record_id})).await;
    assert_eq!(del, json!({"code": "200", "data": {"recordId": record_id}, "message": null, "state": 1}));
    assert_eq!(code(&v.meeting("getRecords", auth, json!({"recordId": record_id})).await), "400");
    assert_eq!(v.http.get(&url).send().await.unwrap().status(), StatusCode::NOT_FOUND);

    // Live.
    let live = v.meeting("openLive", auth, json!({"conferenceKey": "1061"})).await;
    let liveurl = live["data"]["liveurl"].as_str().unwrap().to_owned();
    assert_eq!(v.http.get(&liveurl).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(code(&v.meeting("openLive", auth, json!({"conferenceKey": "1061"})).await), "200002");
    let closed = v.meeting("closeLive", auth, json!({"conferenceKey": "1061"})).await;
    assert_eq!(closed, json!({"code": "200", "message": null, "state": 1}));
    assert_eq!(code(&v.meeting("closeLive", auth, json!({"conferenceKey": "1061"})).await), "400");
    assert_eq!(v.http.get(&liveurl).send().await.unwrap().status(), StatusCode::NOT_FOUND);

    // A recording running when the meeting ends is closed with its files.
    let open = v.meeting("openRecord", auth, json!({"conferenceKey": "1061"})).await;
    let second = open["data"]["recordId"].as_str().unwrap().to_owned();
    v.advance(4.0).await;
    v.room_post("1061", "end_session", Some(&host), json!({})).await;
    let files = v.meeting("getRecords", auth, json!({"recordId": second})).await;
    assert_eq!(files["data"].as_array().unwrap().len(), 1);
    v.sim.shutdown().await;
}

#[tokio::test]
async fn sim_invented_faults_use_each_servers_envelope() {
    let v = Vmr::start().await;
    let (s, _) = v.admin(&v.mcu, "/_sim/faults", json!({"error_code": 500, "count": 1})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = v.room_post("1061", "new_session", None, json!({"display_name": "x"})).await;
    assert_eq!((s, b), (StatusCode::OK, json!({"status": "failed", "result": "error 500"})));
    assert_eq!(v.room_post("1061", "new_session", None, json!({"display_name": "x"})).await.1["status"], "success");
    v.admin(&v.api, "/_sim/faults", json!({"error_code": 500, "count": 1, "paths": ["/meeting/"]})).await;
    let f = v.meeting("openLive", "sim-vmr-auth", json!({"conferenceKey": "1061"})).await;
    assert_eq!(f, json!({"code": "500", "data": null, "message": "服务器内部错误，无法完成请求。", "state": 0}));
    // reset on either port wipes the shared state.
    let (s, _) = v.admin(&v.api, "/_sim/reset", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let state: Value = v.http.get(format!("{}/_sim/state", v.mcu)).send().await.unwrap().json().await.unwrap();
    assert_eq!(state["sessions"], json!([]));
    v.sim.shutdown().await;
}

/// The alternative readings of what the docs leave open, each sent to `v`: (what, accepted?).
/// meetkit's own reading of each is accepted by both modes (checked alongside).
async fn alternative_readings(v: &Vmr) -> Vec<(&'static str, bool)> {
    let mut out = Vec::new();
    let check_join = format!("{}/api/v3/meet/checkJoin.shtml", v.api);
    let fields = [("joinAccount", "1061"), ("joinPwd", "123456"), ("participantName", "Al")];
    let code = |v: Value| v["code"].as_str().unwrap_or_default().to_owned();
    // checkJoin: JSON (meetkit) / form / query.
    let json_ok =
        v.http.post(&check_join).json(&json!({"joinAccount": "1061", "joinPwd": "123456", "participantName": "Al"}));
    assert_eq!(code(json_ok.send().await.unwrap().json().await.unwrap()), "200");
    let form = v.http.post(&check_join).form(&fields).send().await.unwrap().json().await.unwrap();
    out.push(("checkJoin form body", code(form) == "200"));
    let query = v.http.post(&check_join).query(&fields).send().await.unwrap().json().await.unwrap();
    out.push(("checkJoin query string", code(query) == "200"));
    // Supplementary API: form body (the room is not started: 200006 means the body was read).
    let open = v
        .http
        .post(format!("{}/meeting/openRecord", v.api))
        .header("auth", "sim-vmr-auth")
        .form(&[("conferenceKey", "1061")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    out.push(("openRecord form body", code(open) == "200006"));
    // new_session without display_name.
    out.push((
        "new_session without display_name",
        v.room_post("1061", "new_session", None, json!({})).await.0 == StatusCode::OK,
    ));
    // A host session whose token needs URL encoding (contains %2B / %3D).
    let (mut token, mut me) = v.session("1061", Some("123456"), "Host").await;
    for _ in 0..40 {
        if token.contains('%') {
            break;
        }
        (token, me) = v.session("1061", Some("123456"), "Host").await;
    }
    assert!(token.contains('%'), "no token with an escape in 40 sessions");
    let events = |t: &str, accept: bool| {
        let mut req = v.http.get(format!("{}/api/services/1061/events?token={t}", v.mcu));
        if accept {
            req = req.header("accept", "text/event-stream");
        }
        req.timeout(Duration::from_secs(2)).send()
    };
    assert_eq!(events(&urlencode(&token), true).await.unwrap().status(), StatusCode::OK, "meetkit's form");
    out.push(("events token sent raw", events(&token, true).await.unwrap().status() == StatusCode::OK));
    out.push(("events without Accept", events(&urlencode(&token), false).await.unwrap().status() == StatusCode::OK));
    // Room address with %40.
    out.push((
        "room written meetkit%40sim.vmr",
        v.room_get("meetkit%40sim.vmr", "service_status", &token).await.0 == StatusCode::OK,
    ));
    // dtmf: {"digits"} (meetkit) / any object.
    assert_eq!(v.part("1061", &me, "dtmf", &token, json!({"digits": "12#"})).await.0, StatusCode::OK);
    out.push((
        "dtmf without digits",
        v.part("1061", &me, "dtmf", &token, json!({"seq": "1"})).await.0 == StatusCode::OK,
    ));
    // presentation.jpeg with ?token= (no presentation: 404 means the token was accepted).
    let jpeg = v
        .http
        .get(format!("{}/api/services/1061/presentation.jpeg?token={}", v.mcu, urlencode(&token)))
        .send()
        .await
        .unwrap();
    out.push(("presentation.jpeg ?token=", jpeg.status() == StatusCode::NOT_FOUND));
    out
}

/// Strict mode (the default) refuses every reading meetkit does not send; lenient mode
/// accepts them all.
#[tokio::test]
async fn strict_refuses_and_lenient_accepts_the_other_readings_assumptions_vmr() {
    let strict = Vmr::start().await;
    let lenient = Vmr::lenient().await;
    let refused = alternative_readings(&strict).await;
    let accepted = alternative_readings(&lenient).await;
    assert_eq!(refused.len(), 9);
    for ((what, s), (_, l)) in refused.iter().zip(&accepted) {
        assert!(!s, "strict accepted: {what}");
        assert!(l, "lenient refused: {what}");
    }
    strict.sim.shutdown().await;
    lenient.sim.shutdown().await;
}

/// Each room is served by its own meeting node, the one checkJoin reports for it; the other
/// node does not know the room.
#[tokio::test]
async fn rooms_live_on_their_own_meeting_node() {
    let v = Vmr::start().await;
    let check = |account: &str, pwd: &str| {
        v.http
            .post(format!("{}/api/v3/meet/checkJoin.shtml", v.api))
            .json(&json!({"joinAccount": account, "joinPwd": pwd, "participantName": "Al"}))
            .send()
    };
    let first: Value = check("1061", "123456").await.unwrap().json().await.unwrap();
    let second: Value = check("guests@sim.vmr", "654321").await.unwrap().json().await.unwrap();
    assert_eq!(format!("http://{}", first["results"]["mcuHost"].as_str().unwrap()), v.mcu);
    assert_eq!(format!("http://{}", second["results"]["mcuHost"].as_str().unwrap()), v.mcu2);
    assert_ne!(v.mcu, v.mcu2);
    let new_session = |base: &str, room: &str, pin: &str| {
        v.http
            .post(format!("{base}/api/services/{room}/new_session"))
            .header("pin", pin)
            .json(&json!({"display_name": "Al"}))
            .send()
    };
    let wrong_node = new_session(&v.mcu, "guests@sim.vmr", "654321").await.unwrap();
    assert_eq!(wrong_node.status(), StatusCode::NOT_FOUND);
    assert_eq!(new_session(&v.mcu2, "1061", "123456").await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(new_session(&v.mcu2, "guests@sim.vmr", "654321").await.unwrap().status(), StatusCode::OK);
    assert_eq!(new_session(&v.mcu, "1061", "123456").await.unwrap().status(), StatusCode::OK);
    // Both nodes show the one shared state.
    let state: Value = v.http.get(format!("{}/_sim/state", v.mcu2)).send().await.unwrap().json().await.unwrap();
    assert_eq!(state["sessions"].as_array().unwrap().len(), 2);
    v.sim.shutdown().await;
}
