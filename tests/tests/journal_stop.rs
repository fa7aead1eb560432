//! `journal::stop_resources`: what one process journaled (and handed on, as a Temporal
//! activity's heartbeat does) is stopped by another client, idempotently, with no journal.

mod common;

use meetkit::journal::{self, Journal, ResourceRecord};
use meetkit::{Client, Vendor};
use meetkit_sim::{SimOptions, Simulator};
use serde_json::{json, Value};

#[tokio::test]
async fn resources_handed_to_another_client_are_stopped_once_and_found_gone_after() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let profile = common::fast_profile(&sim.profile());
    let dir = tempfile::tempdir().unwrap();

    // The first "worker": a journaled client that starts a room, a device call and a recording.
    let journal = Journal::open(&dir.path().join("runs.db")).unwrap();
    let run = journal.begin_run("worker", "sim", "sim").unwrap();
    let first = Client::from_profile(&profile).unwrap().with_journal(run.clone());
    first.call(Vendor::Avd, "room.create", json!({"room_id": "handed", "user_id": "ops"})).await.unwrap();
    let call = first
        .call(Vendor::Avd, "device.call", json!({"room_id": "handed", "name": "d", "url": "sip:1001@10.0.0.5"}))
        .await
        .unwrap();
    // The room opens when the device has joined: past the invite delay on the virtual clock.
    sim.advance_clock(SimOptions::default().avd.invite_delay * 2);
    let status = first.call(Vendor::Avd, "device.get_invite_status", json!({"call_id": call["call_id"]})).await;
    assert_eq!(status.unwrap()["invite_status"].to_string().trim_matches('"'), "1");
    first.call(Vendor::Avd, "room.mix_record.start", json!({"room_id": "handed"})).await.unwrap();
    let open = journal.run(run.id()).unwrap().resources;
    assert_eq!(open.len(), 3, "{open:?}");

    // Handed on as JSON (a heartbeat), read back, stopped by a fresh client without a journal.
    let wire: Value = serde_json::to_value(&open).unwrap();
    let handed: Vec<ResourceRecord> = serde_json::from_value(wire).unwrap();
    let second = Client::from_profile(&profile).unwrap();
    let steps = journal::stop_resources(&second, handed.clone(), true, false).await.unwrap();
    let done: Vec<(&str, &str)> = steps.iter().map(|s| (s.resource.kind.as_str(), s.outcome)).collect();
    // The room closes by itself when its last participant (the device) is kicked: either way it is done.
    assert_eq!(done[..2], [("device_call", "stopped"), ("recording", "stopped")]);
    assert_eq!(done[2].0, "room");
    assert!(["stopped", "already_stopped"].contains(&done[2].1), "{steps:?}");
    let state = second.call(Vendor::Avd, "room.list", Value::Null).await.unwrap();
    assert!(!state.to_string().contains("handed"), "the room is still open: {state}");

    // A second compensation (a retry on yet another worker) finds everything gone, and fails nothing.
    let again = journal::stop_resources(&second, handed, true, false).await.unwrap();
    assert!(again.iter().all(|s| s.outcome == "already_stopped"), "{again:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_dry_run_and_rooms_kept_without_end_rooms_send_nothing() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let client = Client::from_profile(&common::fast_profile(&sim.profile())).unwrap();
    let room: ResourceRecord = serde_json::from_value(json!({
        "vendor": "avd", "kind": "room", "start_endpoint": "room.create",
        "stop_endpoint": "room.close", "stop_params": {"room_id": "never-made"}
    }))
    .unwrap();
    let stopped: ResourceRecord = serde_json::from_value(json!({
        "vendor": "avd", "kind": "recording", "start_endpoint": "room.mix_record.start",
        "stop_endpoint": "room.mix_record.stop", "stop_params": {"room_id": "x"}, "stopped_at": 1.0
    }))
    .unwrap();
    let kept = journal::stop_resources(&client, vec![room.clone(), stopped.clone()], false, false).await.unwrap();
    assert_eq!(kept.iter().map(|s| s.outcome).collect::<Vec<_>>(), ["kept"], "a stopped record is skipped");
    let dry = journal::stop_resources(&client, vec![room], true, true).await.unwrap();
    assert_eq!(dry[0].outcome, "would_stop");
    let http = reqwest::Client::new();
    let stats = common::admin(&http, &sim.avd_base_url(), reqwest::Method::GET, "stats", Value::Null).await;
    assert!(!stats.to_string().contains("/room/close"), "nothing was sent: {stats}");
    sim.shutdown().await;
}
