//! The vmr client against the vmr simulator over real HTTP: every endpoint, the session
//! lifecycle (refresh across many token lifetimes, lost tokens, close), the event stream
//! (typed events, dropped streams), retries, typed errors, and the workflow script.

mod common;

use common::api_code;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use meetkit::config::Profile;
use meetkit::events::{Event, EventStream};
use meetkit::script::ScriptOptions;
use meetkit::vendors::vmr::event::{VmrEvent, VmrEventKind};
use meetkit::{Client, Error, Vendor};
use meetkit_sim::{SimOptions, Simulator, VmrOptions};
use serde_json::{json, Value};

struct Sim {
    sim: Simulator,
    http: reqwest::Client,
}

impl Sim {
    async fn start() -> Sim {
        Self::start_with(VmrOptions::default()).await
    }

    async fn start_with(vmr: VmrOptions) -> Sim {
        let sim = Simulator::start(SimOptions { vmr, ..SimOptions::default() }).await.expect("simulator starts");
        Sim { sim, http: reqwest::Client::new() }
    }

    fn client(&self) -> Client {
        self.client_with(|_| {})
    }

    /// The simulator's profile (its `mcu_scheme` is http: mcuHost is served over plain HTTP).
    fn client_with(&self, tweak: impl FnOnce(&mut Profile)) -> Client {
        let mut profile = common::fast_profile(&self.sim.profile());
        tweak(&mut profile);
        Client::from_profile(&profile).unwrap()
    }

    async fn admin(&self, base: &str, method: reqwest::Method, path: &str, body: Value) -> Value {
        common::admin(&self.http, base, method, path, body).await
    }

    /// POST an admin route of the meeting node.
    async fn post(&self, path: &str, body: Value) -> Value {
        self.admin(&self.sim.vmr_mcu_base_url(), reqwest::Method::POST, path, body).await
    }

    /// Requests the meeting node has seen whose path ends with `suffix`.
    async fn mcu_hits(&self, suffix: &str) -> u64 {
        let stats = self.admin(&self.sim.vmr_mcu_base_url(), reqwest::Method::GET, "stats", Value::Null).await;
        let requests = stats["requests"].as_object().cloned().unwrap_or_default();
        requests.iter().filter(|(path, _)| path.ends_with(suffix)).map(|(_, n)| n.as_u64().unwrap_or(0)).sum()
    }

    /// Requests both meeting nodes have seen whose path ends with `suffix`.
    async fn node_hits(&self, suffix: &str) -> u64 {
        let mut n = 0;
        for base in [self.sim.vmr_mcu_base_url(), self.sim.vmr_mcu2_base_url()] {
            let stats = self.admin(&base, reqwest::Method::GET, "stats", Value::Null).await;
            let requests = stats["requests"].as_object().cloned().unwrap_or_default();
            n +=
                requests.iter().filter(|(p, _)| p.ends_with(suffix)).map(|(_, n)| n.as_u64().unwrap_or(0)).sum::<u64>();
        }
        n
    }

    /// The simulator's `/_sim/state`.
    async fn state(&self) -> Value {
        self.admin(&self.sim.vmr_base_url(), reqwest::Method::GET, "state", Value::Null).await
    }

    /// Requests apiServer has seen whose path ends with `suffix`.
    async fn api_hits(&self, suffix: &str) -> u64 {
        let stats = self.admin(&self.sim.vmr_base_url(), reqwest::Method::GET, "stats", Value::Null).await;
        let requests = stats["requests"].as_object().cloned().unwrap_or_default();
        requests.iter().filter(|(path, _)| path.ends_with(suffix)).map(|(_, n)| n.as_u64().unwrap_or(0)).sum()
    }
}

/// Calls every id it is asked for and remembers which.
struct Recorder {
    client: Client,
    called: BTreeSet<&'static str>,
}

impl Recorder {
    async fn call(&mut self, id: &'static str, params: Value) -> meetkit::Result<Value> {
        self.called.insert(id);
        self.client.call("vmr", id, params).await
    }

    async fn ok(&mut self, id: &'static str, params: Value) -> Value {
        self.call(id, params.clone()).await.unwrap_or_else(|e| panic!("{id}({params}): {e}"))
    }
}

/// The next event of `kind` whose payload satisfies `pred` (others are skipped).
async fn wait_for(stream: &mut EventStream, kind: &str, pred: impl Fn(&Value) -> bool) -> Event {
    common::within(&format!("{kind} event"), async {
        loop {
            let event = stream.next().await.expect("stream open").unwrap();
            if event.kind == kind && pred(&event.data) {
                return event;
            }
        }
    })
    .await
}

/// The stream's next event or its end (`None`); one of them must come, so a stream that stays
/// open but quiet fails the test instead of hanging it.
async fn next_or_end(stream: &mut EventStream) -> Option<meetkit::Result<Event>> {
    common::within("event or end of the event stream", stream.next()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_endpoint_answers_against_the_simulator() {
    let sim = Sim::start_with(VmrOptions { dial_answer_delay: Duration::from_millis(300), ..Default::default() }).await;
    let client = sim.client();
    let mut r = Recorder { client: client.clone(), called: BTreeSet::new() };

    // Join check and an explicit host session (raw results).
    let joined = r.ok("meet.check_join", json!({})).await;
    let room = joined["results"].clone();
    assert_eq!((room["sipkey"].as_str(), room["alias"].as_str()), (Some("1061"), Some("meetkit@sim.vmr")));
    let session = r.ok("session.new", json!({"display_name": "moderator", "hideme": "no"})).await;
    assert_eq!(session["role"], "HOST");
    assert_eq!(session["expires"], "120");
    let me = session["participant_uuid"].as_str().unwrap().to_string();
    let refreshed = r.ok("session.refresh", json!({})).await;
    assert_ne!(refreshed["token"], session["token"]);

    // Events from now on.
    assert_eq!(r.ok("events.subscribe", json!({})).await["subscribed"], true);
    let mut events = client.events("vmr", json!({})).await.unwrap();

    // Conference control.
    let status = r.ok("conference.status", json!({})).await;
    assert_eq!(status["locked"], false);
    assert_eq!(r.ok("conference.start", json!({})).await, json!(true));
    assert_eq!(r.ok("conference.lock", json!({})).await, json!(true));
    let update = wait_for(&mut events, "service_update", |d| d["locked"] == true).await;
    assert!(matches!(VmrEvent::from_event(&update).kind, VmrEventKind::ServiceUpdate(_)));
    // While locked, a guest dialling in waits until a host lets it in.
    let waiting = sim.post("vmr/rooms/1061/join", json!({"display_name": "Late Guest"})).await;
    let waiting_uuid = waiting["uuid"].as_str().unwrap().to_string();
    assert_eq!(waiting["service_type"], "waiting_room");
    assert_eq!(r.ok("participant.unlock", json!({"uuid": waiting_uuid})).await, json!(true));
    wait_for(&mut events, "participant_update", |d| {
        d["uuid"] == waiting_uuid.as_str() && d["service_type"] == "conference"
    })
    .await;
    r.ok("conference.unlock", json!({})).await;

    // Dial a SIP device: connecting, then in the conference.
    let dialled =
        r.ok("conference.dial", json!({"role": "guest", "destination": "sip:1001@10.0.0.5", "protocol": "sip"})).await;
    let device = dialled[0].as_str().unwrap().to_string();
    let created = wait_for(&mut events, "participant_create", |d| d["uuid"] == device.as_str()).await;
    match VmrEvent::from_event(&created).kind {
        VmrEventKind::ParticipantCreate(p) => assert_eq!(p.uuid.as_deref(), Some(device.as_str())),
        other => panic!("{other:?}"),
    }
    wait_for(&mut events, "participant_update", |d| d["uuid"] == device.as_str() && d["service_type"] == "conference")
        .await;
    let list = r.ok("conference.participants", json!({})).await;
    assert!(list.as_array().unwrap().iter().any(|p| p["uuid"] == device.as_str()), "{list}");

    r.ok("conference.mute_guests", json!({})).await;
    assert_eq!(r.ok("conference.status", json!({})).await["guests_muted"], true);
    r.ok("conference.unmute_guests", json!({})).await;
    r.ok("conference.message", json!({"type": "text/plain", "payload": "hello from meetkit"})).await;
    let message = wait_for(&mut events, "message", |d| d["payload"] == "hello from meetkit").await;
    assert!(matches!(VmrEvent::from_event(&message).kind, VmrEventKind::Message(_)));
    let layout = json!({"layouts": [
        {"audience": "hosts", "actors": [device], "vad_backfill": true, "layout": "1:7", "plus_n": "off", "actors_overlay_text": "auto"},
        {"audience": "", "actors": [], "vad_backfill": false, "layout": "1:0", "plus_n": "auto", "actors_overlay_text": "auto"}
    ]});
    r.ok("conference.override_layout", layout).await;

    // Participant control on the device.
    let p = |extra: Value| {
        let mut m = json!({"uuid": device});
        m.as_object_mut().unwrap().extend(extra.as_object().cloned().unwrap_or_default());
        m
    };
    assert_eq!(r.ok("participant.mute", p(json!({}))).await, json!(true));
    wait_for(&mut events, "participant_update", |d| d["uuid"] == device.as_str() && d["is_muted"] == "YES").await;
    r.ok("participant.unmute", p(json!({}))).await;
    r.ok("participant.deny_rx_presentation", p(json!({}))).await;
    r.ok("participant.allow_rx_presentation", p(json!({}))).await;
    r.ok("participant.spotlight_on", p(json!({}))).await;
    r.ok("participant.spotlight_off", p(json!({}))).await;
    r.ok("participant.role", p(json!({"role": "chair"}))).await;
    r.ok("participant.dtmf", p(json!({"digits": "1234#"}))).await;
    let call = r.ok("participant.calls", p(json!({"call_type": "RTMP", "streaming": true}))).await;
    assert!(call["call_uuid"].is_string(), "{call}");

    // Presentation: a frame becomes available as presentation.jpeg.
    sim.post("vmr/rooms/1061/presentation/start", json!({"uuid": device})).await;
    sim.post("vmr/rooms/1061/presentation/frame", json!({})).await;
    wait_for(&mut events, "presentation_frame", |_| true).await;
    let jpeg = r.ok("presentation.jpeg", json!({})).await;
    assert!(jpeg["size"].as_u64().unwrap() > 0, "{jpeg}");
    assert!(jpeg["content_type"].as_str().unwrap().starts_with("image/"), "{jpeg}");

    // Recording and live streaming (supplementary API).
    let rec = r.ok("record.open", json!({"conferenceKey": "1061"})).await;
    let record_id = rec["recordId"].as_str().unwrap().to_string();
    assert_eq!(api_code(r.call("record.open", json!({"conferenceKey": "1061"})).await), "200003");
    sim.sim.advance_clock(Duration::from_secs(2));
    assert_eq!(r.ok("record.close", json!({"conferenceKey": "1061"})).await["recordId"], record_id.as_str());
    assert_eq!(api_code(r.call("record.close", json!({"conferenceKey": "1061"})).await), "200007");
    let files = r.ok("record.files", json!({"recordId": record_id})).await;
    let url = files[0]["downUrl"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let got = client.download(&url, dir.path(), Default::default()).await.unwrap();
    assert!(got.bytes > 0);
    r.ok("record.delete", json!({"recordId": record_id})).await;
    let live = r.ok("live.open", json!({"conferenceKey": "1061"})).await;
    assert!(live["liveurl"].is_string(), "{live}");
    assert_eq!(api_code(r.call("live.open", json!({"conferenceKey": "1061"})).await), "200002");
    r.ok("live.close", json!({"conferenceKey": "1061"})).await;
    assert_eq!(api_code(r.call("record.open", json!({"conferenceKey": "1062"})).await), "200004");
    assert_eq!(api_code(r.call("live.open", json!({"conferenceKey": "1062"})).await), "200005");
    assert_eq!(api_code(r.call("record.open", json!({"conferenceKey": "1063"})).await), "200001");

    // Transfer the late guest to the other room, disconnect the device, then everyone.
    r.ok(
        "participant.transfer",
        json!({"uuid": waiting_uuid, "role": "guest", "conference_alias": "guests@sim.vmr", "pin": "1111"}),
    )
    .await;
    r.ok("participant.disconnect", p(json!({}))).await;
    wait_for(&mut events, "participant_delete", |d| d["uuid"] == device.as_str()).await;
    r.ok("conference.disconnect", json!({})).await;
    r.ok("session.end", json!({})).await;
    assert_ne!(me, device);

    let table: BTreeSet<&str> = Client::endpoints(Vendor::Vmr).iter().map(|e| e.id).collect();
    assert_eq!(r.called, table, "every endpoint id called");
    client.close().await.unwrap();
}

/// Tokens living 2 s: 4 callers keep one session busy for 3.5 lifetimes, with an idle gap
/// longer than a lifetime, and an event stream open all along: no call fails and one session
/// serves everything.
///
/// Real time, 7 s: meetkit refreshes the session on its own tokio timer (assumption
/// `vmr.session_refresh`), which the simulator's virtual clock cannot drive.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_session_outlives_several_token_lifetimes_assumption_vmr_session_refresh() {
    let sim = Sim::start_with(VmrOptions {
        token_ttl: Duration::from_secs(2),
        refresh_grace: Duration::from_millis(100),
        ..Default::default()
    })
    .await;
    let client = sim.client();
    let mut events = client.events("vmr", json!({})).await.unwrap();
    let started = tokio::time::Instant::now();
    // Busy until 3 s, idle until 5.5 s (longer than a token lifetime), busy until 7 s.
    let (idle_from, idle_until, end) = (Duration::from_secs(3), Duration::from_millis(5500), Duration::from_secs(7));
    let workers: Vec<_> = (0..4)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move {
                let (mut before, mut after) = (0, 0);
                loop {
                    let elapsed = started.elapsed();
                    if elapsed >= end {
                        return (before, after);
                    }
                    if elapsed >= idle_from && elapsed < idle_until {
                        tokio::time::sleep_until(started + idle_until).await;
                        continue;
                    }
                    c.call("vmr", "conference.status", json!({})).await.unwrap_or_else(|e| panic!("worker {i}: {e}"));
                    *if elapsed < idle_from { &mut before } else { &mut after } += 1;
                    tokio::time::sleep(Duration::from_millis(150)).await;
                }
            })
        })
        .collect();
    for w in workers {
        let (before, after) = w.await.unwrap();
        assert!(before > 0 && after > 0, "each worker called before and after the idle gap: {before}, {after}");
    }
    assert_eq!(sim.mcu_hits("/new_session").await, 1, "one session for the whole run");
    // One token cannot span the 7 s: at least 3 refreshes kept the session alive.
    assert!(sim.mcu_hits("/refresh_session").await >= 3, "refreshed before each token expired");
    // The event stream still delivers.
    client.call("vmr", "conference.lock", json!({})).await.unwrap();
    wait_for(&mut events, "service_update", |d| d["locked"] == true).await;
    client.close().await.unwrap();
    assert_eq!(sim.mcu_hits("/end_session").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expired_tokens_get_one_new_session_for_all_callers_assumption_vmr_token_refused() {
    let sim = Sim::start().await;
    let client = sim.client();
    let calls = (0..40).map(|_| {
        let c = client.clone();
        async move { c.call("vmr", "conference.status", json!({})).await }
    });
    for res in futures::future::join_all(calls).await {
        res.unwrap();
    }
    assert_eq!(sim.api_hits("/checkJoin.shtml").await, 1, "one join check");
    assert_eq!(sim.mcu_hits("/new_session").await, 1, "one session for 40 concurrent calls");

    sim.post("vmr/tokens/expire", json!({})).await;
    let calls = (0..40).map(|_| {
        let c = client.clone();
        async move { c.call("vmr", "conference.status", json!({})).await }
    });
    for res in futures::future::join_all(calls).await {
        res.unwrap();
    }
    assert_eq!(sim.mcu_hits("/new_session").await, 2, "one new session for 40 refused callers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dropped_event_streams_reconnect_assumption_vmr_reconnect_policy() {
    let sim = Sim::start().await;
    let client = sim.client();
    let mut events = client.events("vmr", json!({})).await.unwrap();
    for round in 0..3 {
        let dropped = sim.post("vmr/events/drop", json!({})).await;
        assert_eq!(dropped["dropped"], 1, "round {round}");
        // Events between the drop and the reconnect are lost (assumption vmr.event_resume):
        // lock only once the new stream is registered at the server.
        common::wait_until("the event stream to reconnect", || async {
            (sim.state().await["event_streams"] == 1).then_some(())
        })
        .await;
        let (lock, locked) = if round % 2 == 0 { ("conference.lock", true) } else { ("conference.unlock", false) };
        client.call("vmr", lock, json!({})).await.unwrap();
        wait_for(&mut events, "service_update", |d| d["locked"] == locked).await;
    }
    assert_eq!(sim.mcu_hits("/events").await, 4, "one connection plus one per drop");
    client.close().await.unwrap();
    let last = wait_for(&mut events, "disconnected", |_| true).await;
    assert_eq!(last.data["reason"], "client closed");
    assert!(next_or_end(&mut events).await.is_none(), "closing the client ends the stream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_only_where_safe_assumption_common_retries() {
    let sim = Sim::start().await;
    let client = sim.client();
    client.call("vmr", "conference.status", json!({})).await.unwrap();
    let fault = |path: &str| json!({"error_status": 503, "count": 1, "paths": [path]});
    sim.post("faults", fault("/api/services/meetkit@sim.vmr/service_status")).await;
    client.call("vmr", "conference.status", json!({})).await.unwrap();
    assert_eq!(sim.mcu_hits("/service_status").await, 3, "a read is resent after a 503");

    sim.post("faults", fault("/api/services/meetkit@sim.vmr/dial")).await;
    let err = client
        .call("vmr", "conference.dial", json!({"role": "guest", "destination": "sip:9@x", "protocol": "sip"}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Http { status: 503, .. }), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(sim.mcu_hits("/dial").await, 1, "a dial is never resent blindly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_typed() {
    let sim = Sim::start().await;
    let wrong = sim.client_with(|p| p.vmr.as_mut().unwrap().password = meetkit::secret::Secret::new("000000"));
    let err = wrong.call("vmr", "conference.status", json!({})).await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert!(!err.to_string().contains("000000"), "{err}");

    let bad_auth = sim.client_with(|p| p.vmr.as_mut().unwrap().auth = meetkit::secret::Secret::new("nope"));
    match bad_auth.call("vmr", "record.open", json!({"conferenceKey": "1061"})).await {
        Err(Error::Api { code, meaning: Some(meaning), .. }) => {
            assert_eq!(code, "403");
            assert!(meaning.contains("auth"), "{meaning}");
        }
        other => panic!("{other:?}"),
    }

    let client = sim.client();
    match client.call("vmr", "record.open", json!({"conferenceKey": "1062"})).await {
        Err(e @ Error::Api { .. }) => assert!(e.to_string().contains("not allowed to record"), "{e}"),
        other => panic!("{other:?}"),
    }
    let err = client.call("vmr", "participant.mute", json!({})).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidParams { param, .. } if param == "uuid"), "{err}");
    let err = client.call("vmr", "conference.mute", json!({})).await.unwrap_err();
    assert!(err.to_string().contains("did you mean"), "{err}");
    let err = client.call("vmr", "participant.mute", json!({"uuid": "no-such-participant"})).await.unwrap_err();
    assert!(matches!(err, Error::Api { .. } | Error::Http { .. }), "{err:?}");
}

fn run_script(client: &Client, source: &str, out: &std::path::Path) -> meetkit::Result<Value> {
    let options = ScriptOptions { out_dir: out.to_path_buf(), print: Arc::new(|_| {}), ..ScriptOptions::default() };
    meetkit::script::run_source(
        source,
        Some("vmr_moderate_and_record.rhai"),
        client,
        tokio::runtime::Handle::current(),
        options,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_moderate_and_record_workflow_leaves_the_files_on_disk() {
    let sim = Sim::start().await;
    let client = sim.client();
    let dir = tempfile::tempdir().unwrap();
    let script =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/vmr_moderate_and_record.rhai"))
            .unwrap();
    let source = format!("let record_seconds = 1;\nlet device = \"sip:2002@10.0.0.6\";\n{script}");
    let (c, out) = (client.clone(), dir.path().to_path_buf());
    let result = tokio::task::spawn_blocking(move || run_script(&c, &source, &out)).await.unwrap().unwrap();
    assert_eq!(result["room"], "1061");
    let files = result["files"].as_array().unwrap();
    assert!(!files.is_empty());
    let mut total = 0;
    for f in files {
        total += std::fs::metadata(dir.path().join(f.as_str().unwrap())).unwrap().len();
    }
    assert!(total > 0);
    assert_eq!(json!(total), result["bytes"]);
    // Everyone was disconnected (meetkit's session with them) and nothing rejoined: the script's
    // one session, the room empty and not started.
    assert!(sim.mcu_hits("/disconnect").await >= 1);
    assert_eq!(sim.mcu_hits("/new_session").await, 1, "no new session after conference.disconnect");
    let state = sim.state().await;
    assert_eq!(state["sessions"], json!([]), "{state}");
    assert_eq!(state["rooms"][0]["started"], false, "{state}");
    assert_eq!(state["rooms"][0]["participants"], json!([]), "{state}");
    let list = client.call("vmr", "conference.participants", json!({})).await.unwrap();
    assert!(!list.as_array().unwrap().iter().any(|p| p["uuid"] == result["device_uuid"]), "{list}");
}

/// The meetkit (api) participants in every room of `/_sim/state`.
fn api_participants(state: &Value) -> Vec<Value> {
    let rooms = state["rooms"].as_array().unwrap();
    rooms
        .iter()
        .flat_map(|r| r["participants"].as_array().unwrap().clone())
        .filter(|p| p["protocol"] == "api")
        .collect()
}

fn with_pin(room: &str, pin: &str) -> impl FnOnce(&mut Profile) {
    let (room, pin) = (room.to_string(), pin.to_string());
    move |p| {
        p.vmr.as_mut().unwrap().pins.insert(room, meetkit::secret::Secret::new(pin));
    }
}

/// close() ends every session meetkit opened — two rooms on two meeting nodes, one with an
/// event stream — and ends the stream with `disconnected`; a second close sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_ends_every_session_in_every_room_assumption_vmr_session_end() {
    let sim = Sim::start().await;
    let client = sim.client_with(with_pin("guests@sim.vmr", "654321"));
    client.call("vmr", "conference.status", json!({})).await.unwrap();
    let other = client.call("vmr", "conference.status", json!({"room": "guests@sim.vmr"})).await.unwrap();
    assert_eq!(other["started"], true, "a host session in the second room");
    let mut events = client.events("vmr", json!({"room": "guests@sim.vmr"})).await.unwrap();
    let state = sim.state().await;
    assert_eq!(state["sessions"].as_array().unwrap().len(), 2, "{state}");
    assert_eq!(api_participants(&state).len(), 2, "{state}");
    assert_eq!(sim.api_hits("/checkJoin.shtml").await, 2, "one check_join per room");

    client.close().await.unwrap();
    let state = sim.state().await;
    assert_eq!(state["sessions"], json!([]), "{state}");
    assert_eq!(api_participants(&state), Vec::<Value>::new(), "{state}");
    assert_eq!(sim.node_hits("/end_session").await, 2);
    let last = wait_for(&mut events, "disconnected", |_| true).await;
    assert_eq!(
        (last.data["reason"].as_str(), last.data["room"].as_str()),
        (Some("client closed"), Some("guests@sim.vmr"))
    );
    assert!(next_or_end(&mut events).await.is_none());

    client.close().await.unwrap();
    assert_eq!(sim.node_hits("/end_session").await, 2, "close is idempotent");
}

/// A room other than the profile's account goes to ITS meeting node with ITS PIN (`pins`);
/// without a `pins` entry the password is tried and the Auth error names the room and `pins`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_room_uses_its_own_node_and_pin_assumption_vmr_pins() {
    let sim = Sim::start().await;
    let plain = sim.client();
    plain.call("vmr", "conference.status", json!({})).await.unwrap();
    let err = plain.call("vmr", "conference.status", json!({"room": "guests@sim.vmr"})).await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("guests@sim.vmr") && text.contains("pins"), "{text}");
    assert!(!text.contains("123456"), "no PIN in errors: {text}");

    // Keyed by number too; the room lives on the second node, which only it reaches.
    let client = sim.client_with(with_pin("1062", "654321"));
    client.call("vmr", "conference.lock", json!({"room": "1062"})).await.unwrap();
    client.call("vmr", "conference.lock", json!({})).await.unwrap();
    let state = sim.state().await;
    let locked: Vec<&str> = state["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["locked"] == true)
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(locked, ["1061", "1062"]);
    let second = sim.admin(&sim.sim.vmr_mcu2_base_url(), reqwest::Method::GET, "stats", Value::Null).await;
    let on_second: u64 = second["requests"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(p, _)| p.contains("/1062/"))
        .map(|(_, n)| n.as_u64().unwrap())
        .sum();
    assert!(on_second >= 2, "new_session and lock of 1062 went to its node: {second}");
    client.close().await.unwrap();
    plain.close().await.unwrap();
    assert_eq!(sim.state().await["sessions"], json!([]));
}

/// A token refused by the server gets a new session, and the refused one is ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewal_after_a_refused_token_ends_the_old_session_assumption_vmr_token_refused() {
    let sim = Sim::start().await;
    let client = sim.client();
    client.call("vmr", "conference.status", json!({})).await.unwrap();
    let before = sim.state().await["sessions"][0]["participant_uuid"].clone();
    // The server refuses the (still valid) token once.
    sim.post(
        "faults",
        json!({"error_status": 401, "count": 1, "paths": ["/api/services/meetkit@sim.vmr/service_status"]}),
    )
    .await;
    client.call("vmr", "conference.status", json!({})).await.unwrap();
    assert_eq!(sim.mcu_hits("/new_session").await, 2);
    assert_eq!(sim.mcu_hits("/end_session").await, 1, "the refused session was ended");
    let state = sim.state().await;
    let sessions = state["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{state}");
    assert_ne!(sessions[0]["participant_uuid"], before, "the old session is the one ended");
    assert_eq!(api_participants(&state).len(), 1, "{state}");
    client.close().await.unwrap();
}

/// conference.disconnect, or meetkit's participant removed by someone else: the event stream
/// ends with `disconnected` and opens nothing — no reconnect, no new session, the room stays
/// ended. The next call may open a session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_never_rejoins_assumption_vmr_reconnect_policy() {
    let sim = Sim::start().await;
    let client = sim.client();
    let mut events = client.events("vmr", json!({})).await.unwrap();
    client.call("vmr", "conference.disconnect", json!({})).await.unwrap();
    let last = wait_for(&mut events, "disconnected", |_| true).await;
    assert!(!last.data["reason"].as_str().unwrap().is_empty(), "{last:?}");
    assert!(next_or_end(&mut events).await.is_none());
    assert_eq!((sim.mcu_hits("/new_session").await, sim.mcu_hits("/events").await), (1, 1));
    let state = sim.state().await;
    assert_eq!((state["sessions"].clone(), state["rooms"][0]["started"].clone()), (json!([]), json!(false)), "{state}");
    // session.end after that has nothing to end.
    assert_eq!(client.call("vmr", "session.end", json!({})).await.unwrap(), Value::Null);
    assert_eq!(sim.mcu_hits("/new_session").await, 1);

    // Kicked by someone else (here: the participant hangs up on the node).
    let ours = client.call("vmr", "session.new", json!({"display_name": "meetkit"})).await.unwrap();
    let uuid = ours["participant_uuid"].as_str().unwrap().to_string();
    let mut events = client.events("vmr", json!({})).await.unwrap();
    sim.post(&format!("vmr/rooms/1061/participants/{uuid}/leave"), json!({"reason": "Kicked by a host"})).await;
    let kinds: Vec<String> = {
        let mut kinds = Vec::new();
        while let Some(e) = next_or_end(&mut events).await {
            let e = e.unwrap();
            if e.kind.starts_with("disconnect") {
                kinds.push(format!("{} {}", e.kind, e.data["reason"].as_str().unwrap_or_default()));
            }
        }
        kinds
    };
    assert_eq!(kinds, ["disconnect Kicked by a host", "disconnected disconnect: Kicked by a host"]);
    assert_eq!(sim.mcu_hits("/new_session").await, 2, "the stream opened no session");
    assert_eq!(sim.state().await["sessions"], json!([]));
    client.call("vmr", "conference.status", json!({})).await.unwrap();
    assert_eq!(sim.mcu_hits("/new_session").await, 3, "a call may");
    client.close().await.unwrap();
}

/// The roster replayed on connect is marked `replay: true` (when asked for) and the script's
/// `wait_event(.., "participant_create", ..)` returns the next real join, not a replayed one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_roster_is_not_a_join_assumption_vmr_roster_replay() {
    let sim = Sim::start().await;
    let client = sim.client();
    let early = sim.post("vmr/rooms/1061/join", json!({"display_name": "Early"})).await;
    let early = early["uuid"].as_str().unwrap().to_string();
    let watcher = sim.client();
    let mut all = watcher.events("vmr", json!({"replay": true})).await.unwrap();
    let replayed = wait_for(&mut all, "participant_create", |d| d["uuid"] == early.as_str()).await;
    assert_eq!(replayed.data["replay"], true);
    watcher.close().await.unwrap();

    // The script subscribes before dialling: the backlog starts with the replayed roster
    // (Early first), then the dialled device's join.

    let source = r#"
        let vmr = vendor("vmr");
        vmr.call("events.subscribe", #{});
        let dialled = vmr.call("conference.dial", #{ role: "guest", destination: "sip:5@10.0.0.9", protocol: "sip" });
        let ev = wait_event("vmr", "participant_create", 10);
        #{ joined: ev.data.uuid, dialled: dialled[0] }
    "#;
    let (c, dir) = (client.clone(), tempfile::tempdir().unwrap());
    let out = dir.path().to_path_buf();
    let result = tokio::task::spawn_blocking(move || run_script(&c, source, &out)).await.unwrap().unwrap();
    assert_eq!(result["joined"], result["dialled"], "{result}");
    client.close().await.unwrap();
}

/// `parallel` branches waiting on different vendors' events do not wait for each other: one
/// branch waits for a vmr join while the other first waits on another vendor (which has no
/// events and fails at once) and then dials the device that joins. With one lock for every
/// vendor's subscription, the second wait queued behind the first, the dial never happened
/// and the first branch timed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_waits_on_different_vendors_do_not_serialise() {
    let sim = Sim::start().await;
    let client = sim.client();
    let source = r#"
        let vmr = vendor("vmr");
        // Subscribe first, so the join below cannot happen before anyone listens.
        try { wait_event("vmr", "no_such_event", 0.2); } catch (e) {}
        let rs = parallel([
            || wait_event("vmr", "participant_create", 20),
            || {
                try { wait_event("avd", "anything", 20); } catch (e) {}
                vmr.call("conference.dial", #{ role: "guest", destination: "sip:5@10.0.0.9", protocol: "sip" })
            },
        ]);
        #{ waited: rs[0], dialled: rs[1] }
    "#;
    let (c, dir) = (client.clone(), tempfile::tempdir().unwrap());
    let out = dir.path().to_path_buf();
    let result = tokio::task::spawn_blocking(move || run_script(&c, source, &out)).await.unwrap().unwrap();
    assert_eq!(result["waited"]["ok"], true, "{result}");
    assert_eq!(result["waited"]["value"]["data"]["uuid"], result["dialled"]["value"][0], "{result}");
    client.close().await.unwrap();
}
