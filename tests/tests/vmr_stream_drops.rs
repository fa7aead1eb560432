//! The vmr event stream while the simulator cuts it every 50 ms: reconnects resume by
//! re-syncing the roster, so every participant join, change and leave of the run is delivered
//! exactly once, in order per participant; and the moderate-and-record workflow passes under
//! the same fault.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use meetkit::events::{Event, EventStream};
use meetkit::script::ScriptOptions;
use meetkit::Client;
use meetkit_sim::{SimOptions, Simulator, VmrOptions};
use serde_json::{json, Value};
use tokio::sync::watch;

struct Sim {
    sim: Simulator,
    http: reqwest::Client,
}

impl Sim {
    async fn start(vmr: VmrOptions) -> Sim {
        let sim = Simulator::start(SimOptions { vmr, ..SimOptions::default() }).await.expect("simulator starts");
        Sim { sim, http: reqwest::Client::new() }
    }

    fn client(&self) -> Client {
        Client::from_profile(&common::fast_profile(&self.sim.profile())).unwrap()
    }

    /// POST an admin route of the meeting node.
    async fn post(&self, path: &str, body: Value) -> Value {
        common::admin(&self.http, &self.sim.vmr_mcu_base_url(), reqwest::Method::POST, path, body).await
    }

    async fn state(&self) -> Value {
        common::admin(&self.http, &self.sim.vmr_base_url(), reqwest::Method::GET, "state", Value::Null).await
    }

    /// Requests the meeting node has seen whose path ends with `suffix`.
    async fn mcu_hits(&self, suffix: &str) -> u64 {
        let stats =
            common::admin(&self.http, &self.sim.vmr_mcu_base_url(), reqwest::Method::GET, "stats", Value::Null).await;
        let requests = stats["requests"].as_object().cloned().unwrap_or_default();
        requests.iter().filter(|(path, _)| path.ends_with(suffix)).map(|(_, n)| n.as_u64().unwrap_or(0)).sum()
    }

    /// Cut every event stream every 50 ms until [`Sim::stop_drops`] (the schedule's own end,
    /// 120 s, is only a bound).
    async fn drop_every_50_ms(&self) {
        let answer = self.post("vmr/events/drop", json!({"every_ms": 50, "for_secs": 120})).await;
        assert_eq!(answer["every_ms"], 50, "{answer}");
    }

    /// Stop the drops; how many connections were cut.
    async fn stop_drops(&self) -> u64 {
        self.post("vmr/events/drop", json!({"stop": true})).await;
        self.state().await["event_stream_drops"].as_u64().unwrap()
    }

    /// A participant dials in by itself; its uuid.
    async fn join(&self, name: &str) -> String {
        let joined = self.post("vmr/rooms/1061/join", json!({"display_name": name})).await;
        assert_eq!(joined["service_type"], "conference", "{joined}");
        joined["uuid"].as_str().unwrap().to_string()
    }

    async fn leave(&self, uuid: &str) {
        self.post(&format!("vmr/rooms/1061/participants/{uuid}/leave"), json!({})).await;
    }
}

/// Everything a subscription delivers, collected in the background.
struct Collector {
    events: Arc<Mutex<Vec<Event>>>,
    count: watch::Receiver<usize>,
}

impl Collector {
    fn start(mut stream: EventStream) -> Collector {
        let events = Arc::new(Mutex::new(Vec::new()));
        let (tx, count) = watch::channel(0);
        let sink = events.clone();
        tokio::spawn(async move {
            while let Some(item) = stream.next().await {
                let event = item.expect("the stream yields no error");
                let n = {
                    let mut events = sink.lock().unwrap();
                    events.push(event);
                    events.len()
                };
                let _ = tx.send(n);
            }
        });
        Collector { events, count }
    }

    /// Wait until `done` holds for the events delivered so far (20 s: a bound against hanging,
    /// not a timing assertion).
    async fn until(&mut self, what: &str, done: impl Fn(&[Event]) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if done(&self.events.lock().unwrap()) {
                return;
            }
            let changed = tokio::time::timeout_at(deadline, self.count.changed()).await;
            changed.unwrap_or_else(|_| panic!("{what}: not delivered")).expect("collector alive");
        }
    }

    fn snapshot(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }
}

fn is_participant_event(e: &Event) -> bool {
    matches!(e.kind.as_str(), "participant_create" | "participant_update" | "participant_delete")
}

/// The participant events delivered for `uuid`, in order: (kind, is_muted).
fn history(events: &[Event], uuid: &str) -> Vec<(String, Option<String>)> {
    events
        .iter()
        .filter(|e| is_participant_event(e) && e.data["uuid"] == uuid)
        .map(|e| (e.kind.clone(), e.data["is_muted"].as_str().map(str::to_string)))
        .collect()
}

fn delivered(events: &[Event], kind: &str, uuid: &str) -> bool {
    events.iter().any(|e| e.kind == kind && e.data["uuid"] == uuid)
}

fn muted(events: &[Event], uuid: &str) -> bool {
    events.iter().any(|e| e.data["uuid"] == uuid && e.data["is_muted"] == "YES")
}

/// Participants join, are muted and leave while the stream is cut every 50 ms. One at a time
/// (each step delivered before the next): each participant's events are exactly create, update
/// (muted), delete. In bursts (joins and mutes at once, then leaves at once, while the stream
/// may be down): each participant is created once, its mute arrives once (in the create or as
/// one update after it), each leave once, last. A participant that joins and leaves entirely
/// while the stream is down cannot be recovered without event ids: it is delivered wholly or
/// not at all. At the end the roster the events describe is the server's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_roster_event_is_delivered_once_while_the_stream_drops_every_50_ms_assumption_vmr_event_resume() {
    let sim = Sim::start(VmrOptions::default()).await;
    let client = sim.client();
    let mut c = Collector::start(client.events("vmr", json!({})).await.unwrap());
    c.until("the first roster", |ev| ev.iter().any(|e| e.kind == "participant_sync_end")).await;
    sim.drop_every_50_ms().await;

    // Rounds of events until the stream has been cut 40 times (several seconds under the
    // fault), at most 60 rounds.
    let mut one_by_one = Vec::new();
    let mut burst = Vec::new();
    let mut flashes = Vec::new();
    for round in 0..60 {
        if sim.state().await["event_stream_drops"].as_u64().unwrap() >= 40 {
            break;
        }
        for i in 0..2 {
            let uuid = sim.join(&format!("Single {round}.{i}")).await;
            c.until("a join", |ev| delivered(ev, "participant_create", &uuid)).await;
            client.call("vmr", "participant.mute", json!({"uuid": uuid})).await.unwrap();
            c.until("a mute", |ev| muted(ev, &uuid)).await;
            sim.leave(&uuid).await;
            c.until("a leave", |ev| delivered(ev, "participant_delete", &uuid)).await;
            one_by_one.push(uuid);
        }
        let mut this_burst = Vec::new();
        for i in 0..4 {
            this_burst.push(sim.join(&format!("Burst {round}.{i}")).await);
        }
        for uuid in &this_burst {
            client.call("vmr", "participant.mute", json!({"uuid": uuid})).await.unwrap();
        }
        c.until("the burst's joins and mutes", |ev| {
            this_burst.iter().all(|u| delivered(ev, "participant_create", u) && muted(ev, u))
        })
        .await;
        for uuid in &this_burst[..2] {
            sim.leave(uuid).await;
        }
        // Flashes: in and out at once, maybe entirely while the stream is down.
        for i in 0..2 {
            let uuid = sim.join(&format!("Flash {round}.{i}")).await;
            sim.leave(&uuid).await;
            flashes.push(uuid);
        }
        c.until("the burst's leaves", |ev| this_burst[..2].iter().all(|u| delivered(ev, "participant_delete", u)))
            .await;
        burst.extend(this_burst.iter().enumerate().map(|(i, u)| (u.clone(), i < 2)));
    }

    let cut = sim.stop_drops().await;
    // A join delivered after the drops stopped: the connection it came on is no longer cut (a
    // service_update, which no re-sync recovers, would be lost while the client waits to
    // reconnect). Then a last event on it: everything before it has been delivered.
    let last = sim.join("Last").await;
    c.until("a join after the drops", |ev| delivered(ev, "participant_create", &last)).await;
    client.call("vmr", "conference.lock", json!({})).await.unwrap();
    c.until("the lock", |ev| ev.iter().any(|e| e.kind == "service_update" && e.data["locked"] == true)).await;
    let events = c.snapshot();

    // The run was under the fault: many connections cut, one reconnect per cut.
    assert!(cut >= 40, "connections cut: {cut}");
    assert!(sim.mcu_hits("/events").await > cut, "one connection plus one per cut");
    assert!(
        events.iter().any(|e| is_participant_event(e) && e.data["resync"] == true),
        "some changes happened while the stream was down and were re-synced"
    );
    assert!(events.iter().all(|e| e.data.get("replay").is_none()), "replayed entries are left out by default");

    let create = |muted: &str| ("participant_create".to_string(), Some(muted.to_string()));
    let update = |muted: &str| ("participant_update".to_string(), Some(muted.to_string()));
    let delete = ("participant_delete".to_string(), None);
    for uuid in &one_by_one {
        assert_eq!(history(&events, uuid), [create("NO"), update("YES"), delete.clone()], "{uuid}");
    }
    for (uuid, left) in &burst {
        let h = history(&events, uuid);
        // Joined unmuted, then muted: the create shows either state (a join and its mute may
        // both fall while the stream is down); an update only if it was created unmuted.
        let expected_head =
            if h.first() == Some(&create("NO")) { vec![create("NO"), update("YES")] } else { vec![create("YES")] };
        let mut expected = expected_head;
        if *left {
            expected.push(delete.clone());
        }
        assert_eq!(h, expected, "{uuid}");
    }

    // A participant that joined and left while the stream was down cannot be seen in any
    // roster: it is either not delivered at all, or its join and its leave are, once each.
    for uuid in &flashes {
        let h = history(&events, uuid);
        assert!(h.is_empty() || h == [create("NO"), delete.clone()], "{uuid}: {h:?}");
    }

    // The roster the events describe is the server's.
    let mut roster = BTreeMap::new();
    for e in events.iter().filter(|e| is_participant_event(e)) {
        let uuid = e.data["uuid"].as_str().unwrap().to_string();
        if e.kind == "participant_delete" {
            assert!(roster.remove(&uuid).is_some(), "a leave of a participant not delivered: {uuid}");
        } else {
            roster.insert(uuid, e.data["is_muted"].clone());
        }
    }
    let state = sim.state().await;
    let server: BTreeMap<String, Value> = state["rooms"][0]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["hidden"] == false && p["protocol"] != "api")
        .map(|p| (p["uuid"].as_str().unwrap().to_string(), p["is_muted"].clone()))
        .collect();
    assert_eq!(roster, server);
    client.close().await.unwrap();
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

/// The example workflow (dial a device, wait for its join and answer, moderate, record,
/// download) while every event stream is cut every 50 ms from before it subscribes to after
/// it ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_moderate_and_record_workflow_passes_while_the_stream_drops_every_50_ms_assumption_vmr_event_resume() {
    let sim = Sim::start(VmrOptions::default()).await;
    let client = sim.client();
    let dir = tempfile::tempdir().unwrap();
    let script =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/vmr_moderate_and_record.rhai"))
            .unwrap();
    let source = format!("let record_seconds = 1;\nlet device = \"sip:2002@10.0.0.6\";\n{script}");
    sim.drop_every_50_ms().await;
    let (c, out) = (client.clone(), dir.path().to_path_buf());
    let result = tokio::task::spawn_blocking(move || run_script(&c, &source, &out)).await.unwrap();
    let cut = sim.stop_drops().await;
    let result = result.unwrap_or_else(|e| panic!("the workflow failed under the fault ({cut} cuts): {e}"));
    assert!(cut >= 10, "connections cut: {cut}");
    assert_eq!(result["room"], "1061");
    let files = result["files"].as_array().unwrap();
    assert!(!files.is_empty(), "{result}");
    let total: u64 = files.iter().map(|f| std::fs::metadata(dir.path().join(f.as_str().unwrap())).unwrap().len()).sum();
    assert_eq!(json!(total), result["bytes"]);
    assert!(total > 0);
    // The stream never opened a session of its own, however often it reconnected.
    assert_eq!(sim.mcu_hits("/new_session").await, 1);
    let state = sim.state().await;
    assert_eq!(state["sessions"], json!([]), "{state}");
    assert_eq!(state["rooms"][0]["participants"], json!([]), "{state}");
}
