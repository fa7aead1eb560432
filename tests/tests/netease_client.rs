//! The NetEase client against the NetEase simulator over real HTTP: every endpoint, request
//! signing, retries, typed errors, the callback receiver (good, forged, lost-answer resends) and
//! the lifecycle workflow script with its recordings really downloaded.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use meetkit::config::Profile;
use meetkit::events::Event;
use meetkit::script::ScriptOptions;
use meetkit::secret::Secret;
use meetkit::vendors::netease::{
    CallbackClock, CallbackConfig, CallbackEvent, CallbackReceiver, MeetingStatus, ENDPOINTS,
};
use meetkit::{Client, Error, Vendor};
use meetkit_sim::{NeteaseOptions, SimOptions, Simulator};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Sim {
    sim: Simulator,
    http: reqwest::Client,
}

/// A free loopback `host:port`.
fn free_addr() -> String {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string()
}

impl Sim {
    /// A simulator whose callbacks go to `callback_url`, resends 100x faster, recordings 1 s after the end.
    async fn start(callback_url: Option<String>) -> Sim {
        let netease = NeteaseOptions {
            callback_url,
            callback_time_scale: 0.01,
            record_delay: Duration::from_secs(1),
            ..NeteaseOptions::default()
        };
        Sim::start_with(netease).await
    }

    async fn start_with(netease: NeteaseOptions) -> Sim {
        let sim = Simulator::start(SimOptions { netease, ..SimOptions::default() }).await.expect("simulator starts");
        Sim { sim, http: reqwest::Client::new() }
    }

    fn profile(&self, tweak: impl FnOnce(&mut Value)) -> Profile {
        let mut value = self.sim.profile();
        tweak(&mut value["netease"]);
        common::fast_profile(&value)
    }

    fn client(&self) -> Client {
        Client::from_profile(&self.profile(|_| {})).unwrap()
    }

    async fn admin(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        common::admin(&self.http, &self.sim.netease_base_url(), method, path, body).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.admin(reqwest::Method::POST, path, body).await
    }

    async fn hits(&self, path: &str) -> u64 {
        let stats = self.admin(reqwest::Method::GET, "stats", Value::Null).await;
        stats["requests"][path].as_u64().unwrap_or(0)
    }
}

/// Records which endpoint ids were called, so the test can prove it covered the table.
struct Caller {
    client: Client,
    called: Mutex<BTreeSet<&'static str>>,
}

impl Caller {
    async fn call(&self, id: &str, params: Value) -> Result<Value, Error> {
        let spec = Client::spec(Vendor::Netease, id).unwrap();
        self.called.lock().unwrap().insert(spec.id);
        self.client.call("netease", id, params).await
    }
}

fn api(r: Result<Value, Error>) -> (String, Option<&'static str>, Option<String>) {
    match r {
        Err(Error::Api { code, meaning, request_id, .. }) => (code, meaning, request_id),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn uid(meeting: &Value) -> i64 {
    meeting["meetingUniqueId"].as_i64().unwrap_or_else(|| panic!("no meetingUniqueId in {meeting}"))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_endpoint_against_the_simulator() {
    let sim = Sim::start(None).await;
    let c = Caller { client: sim.client(), called: Mutex::default() };

    // Accounts.
    let host = c.call("account.create", json!({"shortId": "4321"})).await.unwrap();
    let account_id = host["accountId"].as_str().unwrap().to_string();
    assert_eq!(host["shortId"], "4321");
    let reused = c.call("account.create", json!({"imAccid": "im-reused", "imToken": "tok"})).await.unwrap();
    let by_im = c.call("account.get_by_im_accid", json!({"imAccid": "im-reused"})).await.unwrap();
    assert_eq!(by_im["accountId"], reused["accountId"]);
    let by_id = c.call("account.get_by_account_id", json!({"accountId": account_id})).await.unwrap();
    assert_eq!(by_id["personalMeetingId"], host["personalMeetingId"]);
    c.call("account.update_token", json!({"accountId": account_id, "accountToken": "fresh-token"})).await.unwrap();
    let after = c.call("account.get_by_account_id", json!({"accountId": account_id})).await.unwrap();
    assert_eq!(after["accountToken"], "fresh-token");
    c.call("account.update_short_id", json!({"accountId": account_id, "shortId": "5678"})).await.unwrap();
    let after = c.call("account.get_by_account_id", json!({"accountId": account_id})).await.unwrap();
    assert_eq!(after["shortId"], "5678");
    let (code, meaning, _) = api(c.call("account.get_by_account_id", json!({"accountId": "nobody"})).await);
    assert_eq!((code.as_str(), meaning), ("1014", Some("Account does not exist")));

    // Meetings: instant (1), personal (2), scheduled (3), with the doc's nested settings.
    let settings = json!({
        "scene": {"roleTypes": [{"roleType": 2, "maxCount": 1}, {"roleType": 1, "maxCount": 1}]},
        "controls": [{"type": "audio", "attendeeOff": 1}, {"type": "video", "attendeeOff": 2}]
    });
    let instant = c
        .call("meeting.create", json!({"host": account_id, "type": 1, "subject": "随机会议", "settings": settings}))
        .await
        .unwrap();
    assert_eq!(MeetingStatus::of(&instant), Some(MeetingStatus::NotStart));
    assert_eq!(instant["meetingId"].as_str().unwrap().len(), 9, "{instant}");
    let personal =
        c.call("meeting.create", json!({"host": account_id, "type": "2", "subject": "personal"})).await.unwrap();
    let start = now_ms() + 3_600_000;
    let scheduled = c
        .call(
            "meeting.create",
            json!({"host": account_id, "type": 3, "subject": "weekly", "startTime": start, "endTime": start + 3_600_000}),
        )
        .await
        .unwrap();
    let read = c.call("meeting.get", json!({"meetingUniqueId": uid(&scheduled)})).await.unwrap();
    assert_eq!((read["subject"].as_str(), MeetingStatus::of(&read)), (Some("weekly"), Some(MeetingStatus::NotStart)));
    c.call(
        "meeting.update",
        json!({"meetingUniqueId": uid(&scheduled), "subject": "weekly (moved)", "password": "123"}),
    )
    .await
    .unwrap();
    let read = c.call("meeting.get", json!({"meetingUniqueId": uid(&scheduled)})).await.unwrap();
    assert_eq!(read["subject"], "weekly (moved)");
    let list = c.call("meeting.list", json!({"pageIndex": 0, "pageSize": 20, "statusList": [1, 2]})).await.unwrap();
    assert!(list.to_string().contains(&uid(&scheduled).to_string()), "{list}");

    // Anonymous join (extra headers: authorization, clientType, deviceId).
    let join = c
        .call(
            "meeting.anonymous_join_info",
            json!({"clientType": 6, "deviceId": "dev-1", "meetingId": instant["meetingId"], "nickName": "guest", "video": 1, "audio": 2}),
        )
        .await
        .unwrap();
    assert_eq!(join["meetingUniqueId"].as_i64(), Some(uid(&instant)), "{join}");

    // Cancel the scheduled one; end the others by each kind of id.
    c.call("meeting.cancel", json!({"meetingUniqueId": uid(&scheduled)})).await.unwrap();
    let read = c.call("meeting.get", json!({"meetingUniqueId": uid(&scheduled)})).await.unwrap();
    assert_eq!(MeetingStatus::of(&read), Some(MeetingStatus::Canceled));
    sim.post(&format!("netease/meetings/{}/start", uid(&instant)), json!({})).await;
    let running = c.call("meeting.get", json!({"meetingUniqueId": uid(&instant)})).await.unwrap();
    assert_eq!(MeetingStatus::of(&running), Some(MeetingStatus::InMeeting));
    c.call("meeting.end_by_meeting_id", json!({"meetingId": instant["meetingId"]})).await.unwrap();
    let ended = c.call("meeting.get", json!({"meetingUniqueId": uid(&instant)})).await.unwrap();
    assert_eq!(MeetingStatus::of(&ended), Some(MeetingStatus::Ended));
    let (code, _, _) = api(c.call("meeting.end_by_unique_id", json!({"meetingUniqueId": uid(&instant)})).await);
    assert_eq!(code, "2021", "ending an ended meeting");

    sim.post(&format!("netease/meetings/{}/start", uid(&personal)), json!({})).await;
    assert_eq!(personal["shortId"], "5678", "a personal meeting takes its host's short number");
    c.call("meeting.end_by_short_id", json!({"shortId": "5678"})).await.unwrap();
    let m = c.call("meeting.get", json!({"meetingUniqueId": uid(&personal)})).await.unwrap();
    assert_eq!(MeetingStatus::of(&m), Some(MeetingStatus::Ended));
    let other = c.call("meeting.create", json!({"host": account_id, "type": 1, "subject": "third"})).await.unwrap();
    sim.post(&format!("netease/meetings/{}/start", uid(&other)), json!({})).await;
    c.call("meeting.end_by_unique_id", json!({"meetingUniqueId": uid(&other), "recycle": true})).await.unwrap();
    let m = c.call("meeting.get", json!({"meetingUniqueId": uid(&other)})).await.unwrap();
    assert_eq!(MeetingStatus::of(&m), Some(MeetingStatus::Recycled));

    // Recordings of the first meeting appear after the end (1 s here, in virtual time).
    sim.sim.advance_clock(Duration::from_secs(2));
    let files = c.call("meeting.record_list", json!({"meetingUniqueId": uid(&instant)})).await.unwrap();
    assert!(files.as_array().is_some_and(|f| !f.is_empty()), "recordings listed after the delay: {files}");
    let dir = tempfile::tempdir().unwrap();
    for f in files.as_array().unwrap() {
        let url = f["url"].as_str().unwrap();
        let got = c.client.download(url, dir.path(), Default::default()).await.unwrap();
        assert!(got.bytes > 0 && got.path.exists(), "{f}");
        assert_eq!(Some(got.md5.as_str()), f["md5"].as_str(), "{f}");
    }

    // Errors keep the request id; the table's every id was called.
    let (code, meaning, request_id) = api(c.call("meeting.get", json!({"meetingUniqueId": 987654321})).await);
    assert_eq!((code.as_str(), meaning), ("2000", Some("Meeting does not exist")));
    assert!(request_id.is_some_and(|r| !r.is_empty()));
    let table: BTreeSet<&str> = ENDPOINTS.iter().map(|e| e.id).collect();
    assert_eq!(*c.called.lock().unwrap(), table);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_are_checked_by_the_simulator() {
    let sim = Sim::start(None).await;
    sim.client().call("netease", "meeting.list", json!({})).await.unwrap();
    // Wrong secret: an auth error that rules out the clock (the simulator sends a Date header).
    let bad = Client::from_profile(&sim.profile(|n| n["app_secret"] = json!("not-the-secret"))).unwrap();
    let err = bad.call("netease", "meeting.list", json!({})).await.unwrap_err();
    match &err {
        Error::Auth { vendor: Vendor::Netease, message } => {
            assert!(message.contains("error 401") && message.contains("not clock skew"), "{message}")
        }
        other => panic!("expected an auth error, got {other:?}"),
    }
    assert!(!err.to_string().contains("not-the-secret"));
    let bad = Client::from_profile(&sim.profile(|n| n["app_key"] = json!("someone-else"))).unwrap();
    assert!(matches!(bad.call("netease", "meeting.list", json!({})).await, Err(Error::Auth { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_only_where_safe_assumption_common_retries() {
    let sim = Sim::start(None).await;
    let client = sim.client();
    let account = client.call("netease", "account.create", json!({})).await.unwrap();
    let fault =
        |path: &str, count: u32| json!({"error_rate": 1.0, "error_status": 503, "paths": [path], "count": count});

    sim.post("faults", fault("/v1/account/getByAccountId", 2)).await;
    client.call("netease", "account.get_by_account_id", json!({"accountId": account["accountId"]})).await.unwrap();
    assert_eq!(sim.hits("/v1/account/getByAccountId").await, 3, "a read is retried");

    sim.post("faults", fault("/v2/meeting/create", 1)).await;
    let params = json!({"host": account["accountId"], "type": 1, "subject": "once"});
    let err = client.call("netease", "meeting.create", params.clone()).await.unwrap_err();
    assert!(matches!(err, Error::Http { status: 503, .. }), "{err:?}");
    assert_eq!(sim.hits("/v2/meeting/create").await, 1, "a create is not resent");
    client.call("netease", "meeting.create", params).await.unwrap();

    sim.post("faults", json!({"drop_rate": 1.0, "paths": ["/v2/meeting/cancel"], "count": 1})).await;
    let err = client.call("netease", "meeting.cancel", json!({"meetingUniqueId": 1})).await.unwrap_err();
    assert!(matches!(err, Error::OutcomeUnknown { .. }), "{err:?}");
    assert_eq!(sim.hits("/v2/meeting/cancel").await, 1);

    sim.post("faults", json!({"malformed_rate": 1.0, "paths": ["/v2/meeting/list"], "count": 5})).await;
    assert!(matches!(client.call("netease", "meeting.list", json!({})).await, Err(Error::Decode { .. })));
    sim.admin(reqwest::Method::DELETE, "faults", Value::Null).await;

    // Invalid parameters never reach the server.
    let before = sim.hits("/v2/meeting/create").await;
    let err = client.call("netease", "meeting.create", json!({"host": "h", "type": 3, "subject": "s"})).await;
    assert!(matches!(err, Err(Error::InvalidParams { ref param, .. }) if param == "startTime"), "{err:?}");
    assert_eq!(sim.hits("/v2/meeting/create").await, before);
}

/// What [`gated_proxy`] does with one callback attempt.
#[derive(Clone, Copy, Debug)]
enum Gate {
    /// Answer 503 without forwarding (the callback is lost on the way).
    Refuse,
    /// Forward, then answer 500 whatever the receiver said (its answer is lost on the way back).
    LoseAnswer,
    /// Forward and pass the receiver's answer back.
    Pass,
}

/// One request the proxy saw: its signature headers and body.
#[derive(Clone, Debug)]
struct Seen {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// A loopback proxy in front of the receiver, deciding per attempt (from the attempt's body)
/// whether the attempt or its answer is lost, as a flaky network would. Returns its URL, the
/// receiver's statuses of forwarded attempts, and every attempt seen.
async fn gated_proxy(
    target: String,
    decide: impl Fn(&[u8]) -> Gate + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<u16>>>, Arc<Mutex<Vec<Seen>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let statuses: Arc<Mutex<Vec<u16>>> = Arc::default();
    let seen_all: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let (st, all) = (statuses.clone(), seen_all.clone());
    let decide = Arc::new(decide);
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let (target, st, all, decide) = (target.clone(), st.clone(), all.clone(), decide.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, content_length) = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_string();
                        let len = head
                            .lines()
                            .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")))
                            .and_then(|(_, v)| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        break (i + 4, len);
                    }
                };
                while buf.len() < head_end + content_length {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let body = buf[head_end..head_end + content_length].to_vec();
                let headers: Vec<(String, String)> = head
                    .lines()
                    .skip(1)
                    .filter_map(|line| line.split_once(':'))
                    .filter(|(k, _)| {
                        ["appkey", "nonce", "curtime", "checksum", "content-type"]
                            .contains(&k.trim().to_lowercase().as_str())
                    })
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    .collect();
                all.lock().unwrap().push(Seen { headers: headers.clone(), body: body.clone() });
                let gate = decide(&body);
                let answer = match gate {
                    Gate::Refuse => 503,
                    Gate::LoseAnswer | Gate::Pass => {
                        let mut req = reqwest::Client::new().post(&target).body(body);
                        for (k, v) in &headers {
                            req = req.header(k, v);
                        }
                        let status = req.send().await.map(|r| r.status().as_u16()).unwrap_or(502);
                        st.lock().unwrap().push(status);
                        if matches!(gate, Gate::LoseAnswer) {
                            500
                        } else {
                            status
                        }
                    }
                };
                let reply = format!("HTTP/1.1 {answer} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = sock.write_all(reply.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (format!("http://{addr}/netease/callback"), statuses, seen_all)
}

/// A proxy that loses the receiver's answer to the first attempt of every callback (answering
/// 500 instead): NetEase then resends an event the receiver already delivered.
async fn lossy_proxy(target: String) -> (String, Arc<Mutex<Vec<u16>>>) {
    let seen_bodies: Mutex<BTreeSet<Vec<u8>>> = Mutex::default();
    let (url, statuses, _) = gated_proxy(target, move |body| {
        if seen_bodies.lock().unwrap().insert(body.to_vec()) {
            Gate::LoseAnswer
        } else {
            Gate::Pass
        }
    })
    .await;
    (url, statuses)
}

async fn next_event(events: &mut meetkit::events::EventStream) -> Event {
    common::within("callback event", events.next()).await.unwrap().unwrap()
}

/// The events already delivered to `events` and not yet read (none pending is an empty list).
fn buffered(events: &mut meetkit::events::EventStream) -> Vec<Event> {
    std::iter::from_fn(|| events.next().now_or_never().flatten()).map(|e| e.unwrap()).collect()
}

/// Wait until the simulator has finished every callback delivery (an attempt answered 200, or
/// resends used up): from then on every event the receiver accepted is in its stream.
async fn settled(sim: &Sim) -> Value {
    common::wait_until("every callback delivery to finish", || async {
        let log = sim.admin(reqwest::Method::GET, "netease/callbacks", Value::Null).await;
        let done = log["deliveries"].as_array().unwrap().iter().all(|d| d["status"] != "pending");
        done.then_some(log)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn callbacks_from_the_simulator_are_verified_and_delivered_once_assumption_netease_callback_dedup() {
    // The receiver, as the client starts it (Client::events), behind a proxy that loses answers.
    let listen = free_addr();
    let (proxy_url, statuses) = lossy_proxy(format!("http://{listen}/netease/callback")).await;
    let sim = Sim::start(Some(proxy_url)).await;
    let client = Client::from_profile(&sim.profile(|n| n["callback_listen"] = json!(listen))).unwrap();
    let mut events = client.events("netease", Value::Null).await.unwrap();

    let account = client.call("netease", "account.create", json!({})).await.unwrap();
    let meeting = client
        .call("netease", "meeting.create", json!({"host": account["accountId"], "type": 1, "subject": "callbacks"}))
        .await
        .unwrap();
    let id = uid(&meeting);
    sim.post(&format!("netease/meetings/{id}/join"), json!({"accountId": account["accountId"], "deviceId": "d1"}))
        .await;
    sim.post(&format!("netease/meetings/{id}/leave"), json!({"accountId": account["accountId"]})).await;

    // Room start (1), join (5), leave (6), and the room end (3, reason 2: everyone left): each once.
    let mut kinds = Vec::new();
    for _ in 0..4 {
        let ev = next_event(&mut events).await;
        let typed = CallbackEvent::from_event(&ev).unwrap();
        assert_eq!(typed.meeting_unique_id(), Some(id));
        if let CallbackEvent::MeetingRoomEnd(m) = &typed {
            assert_eq!(m.reason, Some(2));
        }
        kinds.push(ev.kind);
    }
    assert_eq!(kinds, ["MEETING_ROOM_START", "MEETING_JOIN", "MEETING_LEAVE", "MEETING_ROOM_END"]);
    // Then the recordings (msgType 7), then nothing more — although every callback was sent twice.
    let rec = next_event(&mut events).await;
    assert_eq!(rec.kind, "MEETING_RECORDING");
    let log = settled(&sim).await;
    for ev in buffered(&mut events) {
        assert_eq!(ev.kind, "MEETING_RECORDING", "only further recording files may follow");
    }
    let statuses = statuses.lock().unwrap().clone();
    assert!(statuses.len() >= 10 && statuses.iter().all(|s| *s == 200), "each callback was resent: {statuses:?}");
    assert!(log.to_string().contains("500"), "the simulator saw the lost answers: {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_callbacks_are_refused() {
    // A receiver that knows another secret than the one the simulator signs with.
    let receiver = CallbackReceiver::new(CallbackConfig::new("sim-app-key", Secret::new("another-secret")));
    let running = receiver.serve("127.0.0.1:0", "/cb").await.unwrap();
    let sim = Sim::start(Some(running.url())).await;
    let client = sim.client();
    let account = client.call("netease", "account.create", json!({})).await.unwrap();
    let meeting = client
        .call("netease", "meeting.create", json!({"host": account["accountId"], "type": 1, "subject": "forged"}))
        .await
        .unwrap();
    sim.post(&format!("netease/meetings/{}/start", uid(&meeting)), json!({})).await;
    common::wait_until("two refused callbacks", || async { (receiver.stats().unauthorized >= 2).then_some(()) }).await;
    let stats = receiver.stats();
    assert!(stats.unauthorized >= 2 && stats.delivered == 0, "{stats:?}");
    let mut events = receiver.events().unwrap();
    assert!(buffered(&mut events).is_empty(), "nothing delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lifecycle_workflow_script() {
    let listen = free_addr();
    let sim = Sim::start(Some(format!("http://{listen}/netease/callback"))).await;
    let client = Client::from_profile(&sim.profile(|n| n["callback_listen"] = json!(listen))).unwrap();
    let out = tempfile::tempdir().unwrap();
    let options = ScriptOptions {
        out_dir: out.path().to_path_buf(),
        vars: json!({"start_in": 2, "record_timeout": 30, "start_timeout": 30}).as_object().unwrap().clone(),
        ..ScriptOptions::default()
    };
    let source = include_str!("../../scripts/netease_meeting_lifecycle.rhai");
    let runtime = tokio::runtime::Handle::current();
    let result = tokio::task::spawn_blocking(move || {
        meetkit::script::run_source(source, Some("netease_meeting_lifecycle.rhai"), &client, runtime, options)
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("script failed: {e}"));
    let uid = result["meetingUniqueId"].as_i64().unwrap();
    assert!(result["files"].as_i64().unwrap() >= 1 && result["bytes"].as_i64().unwrap() > 0, "{result}");
    let dir = out.path().join(format!("netease-{uid}"));
    let on_disk: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).collect();
    assert_eq!(on_disk.len() as i64, result["files"].as_i64().unwrap());
    assert_eq!(on_disk.iter().sum::<u64>() as i64, result["bytes"].as_i64().unwrap());
}

/// A receiver whose clock follows the simulator's virtual clock: the test moves both together.
struct VirtualTime {
    offset_ms: Arc<std::sync::atomic::AtomicU64>,
}

impl VirtualTime {
    fn new() -> Self {
        VirtualTime { offset_ms: Arc::default() }
    }

    fn clock(&self) -> CallbackClock {
        let offset = self.offset_ms.clone();
        CallbackClock::from_fn(move || {
            std::time::SystemTime::now() + Duration::from_millis(offset.load(std::sync::atomic::Ordering::SeqCst))
        })
    }

    /// Advance the simulator's clock and the receiver's by `secs`.
    async fn advance(&self, sim: &Sim, secs: u64) {
        self.offset_ms.fetch_add(secs * 1000, std::sync::atomic::Ordering::SeqCst);
        sim.post("clock/advance", json!({"seconds": secs})).await;
    }
}

/// The simulator's attempts of its (only) callback delivery.
async fn attempts(sim: &Sim) -> Vec<Value> {
    let log = sim.admin(reqwest::Method::GET, "netease/callbacks", Value::Null).await;
    log["deliveries"][0]["attempts"].as_array().cloned().unwrap_or_default()
}

/// Wait until the simulator has made `n` attempts (its sender works in the background); exactly
/// `n`, not more.
async fn wait_attempts(sim: &Sim, n: usize) -> Vec<Value> {
    let got = common::wait_until(&format!("callback attempt {n}"), || async {
        let got = attempts(sim).await;
        (got.len() >= n).then_some(got)
    })
    .await;
    assert_eq!(got.len(), n, "attempts: {got:?}");
    got
}

/// A simulator with the doc's resend schedule in virtual time, resends repeating the first
/// signature (the default), calling back through a proxy that loses the first four attempts
/// (first + the 2 s, 4 s and 6 s resends) and the answer to the fifth (the first 1 h resend);
/// one meeting cancelled (one MEETING_CANCEL event); the first four attempts made.
async fn lost_event(receiver_url: String, time: &VirtualTime) -> (Sim, Arc<Mutex<Vec<u16>>>, Arc<Mutex<Vec<Seen>>>) {
    let n = std::sync::atomic::AtomicUsize::new(0);
    let (proxy_url, statuses, seen) =
        gated_proxy(receiver_url, move |_| match n.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
            0..=3 => Gate::Refuse,
            4 => Gate::LoseAnswer,
            _ => Gate::Pass,
        })
        .await;
    let netease = NeteaseOptions { callback_url: Some(proxy_url), ..NeteaseOptions::default() };
    assert!(!netease.resign_resends, "the default repeats the first attempt's signature");
    let sim = Sim::start_with(netease).await;
    let client = sim.client();
    let account = client.call("netease", "account.create", json!({})).await.unwrap();
    let meeting = client
        .call("netease", "meeting.create", json!({"host": account["accountId"], "type": 1, "subject": "lost"}))
        .await
        .unwrap();
    client.call("netease", "meeting.cancel", json!({"meetingUniqueId": uid(&meeting)})).await.unwrap();
    wait_attempts(&sim, 1).await;
    for (n, secs) in [(2, 2), (3, 4), (4, 6)] {
        time.advance(&sim, secs).await;
        wait_attempts(&sim, n).await;
    }
    (sim, statuses, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_callback_is_accepted_from_the_one_hour_resends_exactly_once_assumption_netease_callback_window() {
    let time = VirtualTime::new();
    let mut cfg = CallbackConfig::new("sim-app-key", Secret::new("sim-app-secret"));
    cfg.clock = time.clock();
    assert_eq!(cfg.max_age, Duration::from_secs(3 * 3600), "the default window");
    let receiver = CallbackReceiver::new(cfg);
    let running = receiver.serve("127.0.0.1:0", "/netease/callback").await.unwrap();
    let (sim, statuses, seen) = lost_event(running.url(), &time).await;
    assert_eq!(receiver.stats().delivered, 0, "nothing reached the receiver yet");

    // The 4th resend, 1 h later, still with the first attempt's CurTime (1 h 12 s old): accepted.
    time.advance(&sim, 3600).await;
    let got = wait_attempts(&sim, 5).await;
    let first_cur: i64 = got[0]["curTime"].as_str().unwrap().parse().unwrap();
    assert_eq!(got[4]["curTime"], got[0]["curTime"]);
    let mut events = receiver.events().unwrap();
    let ev = next_event(&mut events).await;
    assert_eq!(ev.kind, "MEETING_CANCEL");
    assert_eq!(statuses.lock().unwrap().clone(), [200], "accepted; its answer was lost on the way back");
    // The 5th resend (2 h 0 m 12 s after the first attempt): answered 200 as a duplicate, not delivered again.
    time.advance(&sim, 3600).await;
    let got = wait_attempts(&sim, 6).await;
    assert_eq!((got[5]["curTime"].clone(), got[5]["httpStatus"].clone()), (got[0]["curTime"].clone(), json!(200)));
    assert_eq!(receiver.stats().delivered, 1);
    assert_eq!(receiver.stats().duplicates, 1);
    assert!(buffered(&mut events).is_empty(), "exactly once");
    let log = sim.admin(reqwest::Method::GET, "netease/callbacks", Value::Null).await;
    assert_eq!(log["deliveries"][0]["status"], "delivered");

    // The same signed callback once the window (3 h since its CurTime) has passed: refused.
    time.advance(&sim, 3 * 3600 - 7212 + 1).await;
    let last = seen.lock().unwrap().last().cloned().unwrap();
    let mut req = reqwest::Client::new().post(running.url()).body(last.body.clone());
    for (k, v) in &last.headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.text().await.unwrap().contains("stale CurTime"));
    let age_ms = time.clock().now_ms() - first_cur;
    assert!(age_ms > 3 * 3600 * 1000, "{age_ms}");
    assert_eq!(receiver.stats().delivered, 1);
}

/// With the old 300 s window the two 1 h resends of a lost event are refused and the event is
/// lost for good: what the 3 h default prevents.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_five_minute_window_loses_the_event_for_good_assumption_netease_callback_window() {
    let time = VirtualTime::new();
    let mut cfg = CallbackConfig::new("sim-app-key", Secret::new("sim-app-secret"));
    cfg.clock = time.clock();
    cfg.max_age = Duration::from_secs(300);
    let receiver = CallbackReceiver::new(cfg);
    let running = receiver.serve("127.0.0.1:0", "/netease/callback").await.unwrap();
    let (sim, statuses, _) = lost_event(running.url(), &time).await;
    for n in [5, 6] {
        time.advance(&sim, 3600).await;
        wait_attempts(&sim, n).await;
    }
    assert_eq!(statuses.lock().unwrap().clone(), [401, 401]);
    let log = sim.admin(reqwest::Method::GET, "netease/callbacks", Value::Null).await;
    assert_eq!(log["deliveries"][0]["status"], "failed");
    assert_eq!((receiver.stats().delivered, receiver.stats().unauthorized), (0, 2));
}
