//! The unified meeting API end to end against the simulators: every supported verb of every
//! vendor over real HTTP, every unsupported cell refused before any request, and the canonical
//! `scripts/record_meeting.rhai` producing real files on every vendor that can record.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use meetkit::config::Profile;
use meetkit::download::DownloadOptions;
use meetkit::meeting::{capabilities, Capability, Meeting, Room, Verb};
use meetkit::script::ScriptOptions;
use meetkit::{Client, Error, Vendor};
use meetkit_sim::{SimOptions, Simulator};
use serde_json::{json, Map, Value};

const DEVICE: &str = "sip:1001@10.0.0.5";

async fn sim() -> (Simulator, Client) {
    let mut options = SimOptions::default();
    options.netease.record_delay = Duration::from_secs(1);
    options.vmr.dial_answer_delay = Duration::from_millis(300);
    let sim = Simulator::start(options).await.unwrap();
    let client = Client::from_profile(&Profile::from_json("sim", &sim.profile()).unwrap()).unwrap();
    (sim, client)
}

/// Every server of the simulator (the vmr apiServer and meeting node are separate).
fn servers(sim: &Simulator) -> [String; 5] {
    [sim.avd_base_url(), sim.kedacom_base_url(), sim.vmr_base_url(), sim.vmr_mcu_base_url(), sim.netease_base_url()]
}

/// Requests seen by all servers since the last [`clear_stats`].
async fn request_count(sim: &Simulator) -> u64 {
    let mut n = 0;
    for base in servers(sim) {
        let stats: Value = reqwest::get(format!("{base}/_sim/stats")).await.unwrap().json().await.unwrap();
        n += stats["requests"].as_object().unwrap().values().filter_map(Value::as_u64).sum::<u64>();
    }
    n
}

async fn clear_stats(sim: &Simulator) {
    for base in servers(sim) {
        let resp = reqwest::Client::new().delete(format!("{base}/_sim/stats")).send().await.unwrap();
        assert!(resp.status().is_success());
    }
}

fn options(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// The recordings the vendor lists for `room`, which must be some: callers first advance the
/// simulator's virtual clock past any publishing delay.
async fn published(m: &Meeting, room: &Room) -> Vec<meetkit::meeting::Recording> {
    let files = m.recordings(room).await.unwrap();
    assert!(!files.is_empty(), "{}: no recordings listed", room.handle);
    files
}

fn assert_on_disk(done: &[meetkit::download::Downloaded], dir: &Path) {
    assert!(!done.is_empty());
    for d in done {
        assert!(d.path.starts_with(dir), "{}", d.path.display());
        let body = std::fs::read(&d.path).unwrap();
        assert_eq!(body.len() as u64, d.bytes);
        assert!(d.bytes > 0);
        assert_eq!(hex::encode(<md5::Md5 as md5::Digest>::digest(&body)), d.md5);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avd_does_every_verb_it_claims() {
    let (sim, client) = sim().await;
    let m = Meeting::new(&client, Vendor::Avd).unwrap();
    let room = m.create_room(&options(json!({"name": "Weekly Sync"}))).await.unwrap();
    assert_eq!(room.handle, "avd:weekly-sync");
    assert_eq!(Room::from_handle(&room.handle).unwrap().id, room.id);
    let device = m.invite(&room, DEVICE, Duration::from_secs(10)).await.unwrap();
    let people = m.participants(&room).await.unwrap();
    assert!(people.iter().any(|p| p.id == device.id), "{people:?}");
    m.set_muted(&room, &device.id, true).await.unwrap();
    m.set_muted(&room, &device.id, false).await.unwrap();
    m.start_recording(&room).await.unwrap();
    sim.advance_clock(Duration::from_secs(2));
    let stopped = m.stop_recording(&room).await.unwrap();
    assert!(!stopped.is_empty(), "stop_recording returns the produced files");
    m.start_live(&room, "rtmp://live.example.com/app/key").await.unwrap();
    m.stop_live(&room).await.unwrap();
    // A handle parsed from text works like the original room.
    let again = Room::from_handle(&room.handle).unwrap();
    let files = published(&m, &again).await;
    assert!(files.iter().all(|f| f.size.is_none() && f.md5.is_none()), "AVD sizes are approximations");
    let dir = tempfile::tempdir().unwrap();
    let done = m.download_recordings(&again, dir.path(), DownloadOptions::default()).await.unwrap();
    assert_eq!(done.len(), files.len());
    assert_on_disk(&done, dir.path());
    m.end(&again).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kedacom_creates_with_devices_books_starts_and_ends() {
    let (_sim, client) = sim().await;
    let m = Meeting::new(&client, Vendor::Kedacom).unwrap();
    let room = m
        .create_room(&options(json!({"name": "meetkit instant", "invite": [DEVICE, "h323:10.0.0.7"], "record": true})))
        .await
        .unwrap();
    let parsed = Room::from_handle(&room.handle).unwrap();
    assert_eq!((parsed.id.as_str(), parsed.secondary_id.as_deref()), (room.id.as_str(), room.secondary_id.as_deref()));
    let people = m.participants(&parsed).await.unwrap();
    let accounts: Vec<&str> = people.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(accounts, ["1001@10.0.0.5", "10.0.0.7"], "{people:?}");
    let meeting = client.call("kedacom", "meetings.get", json!({"meeting_id": room.secondary_id})).await.unwrap();
    assert_eq!(meeting["state"], 2, "running: {meeting}");
    m.end(&parsed).await.unwrap();
    let meeting = client.call("kedacom", "meetings.get", json!({"meeting_id": room.secondary_id})).await.unwrap();
    assert_eq!(meeting["state"], 3, "ended: {meeting}");

    // Book, start early, end.
    let start = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 7200;
    let booked = m.schedule(&options(json!({"name": "meetkit booked", "start": start, "minutes": 30}))).await.unwrap();
    let state = |r: &Room| {
        let (client, id) = (client.clone(), r.secondary_id.clone());
        async move { client.call("kedacom", "meetings.get", json!({"meeting_id": id})).await.unwrap()["state"].clone() }
    };
    assert_eq!(state(&booked).await, 1, "booked");
    m.start(&Room::from_handle(&booked.handle).unwrap()).await.unwrap();
    assert_eq!(state(&booked).await, 2, "started");
    m.end(&booked).await.unwrap();
    assert_eq!(state(&booked).await, 3, "ended");

    // A portable option Kedacom cannot use is ignored (the room is made without it); a key that
    // is no option at all is refused, naming it and the valid ones.
    let hosted = m.create_room(&options(json!({"name": "hosted", "host": "h"}))).await.unwrap();
    m.end(&hosted).await.unwrap();
    let e = m.create_room(&options(json!({"name": "x", "hots": "h"}))).await.unwrap_err();
    assert!(matches!(&e, Error::InvalidParams { param, .. } if param == "hots"), "{e}");
    assert!(e.to_string().contains("did you mean `host`?"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vmr_moderates_records_and_streams_the_profile_room() {
    let (sim, client) = sim().await;
    let m = Meeting::new(&client, Vendor::Vmr).unwrap();
    let room = m.create_room(&options(json!({"name": "lab"}))).await.unwrap();
    let room = Room::from_handle(&room.handle).unwrap();
    assert!(room.secondary_id.is_some());
    m.start(&room).await.unwrap();
    let device = m.invite(&room, DEVICE, Duration::from_secs(10)).await.unwrap();
    assert_eq!(device.raw["service_type"], "conference");
    m.set_muted(&room, &device.id, true).await.unwrap();
    let muted =
        |people: Vec<meetkit::meeting::Participant>| people.into_iter().find(|p| p.id == device.id).unwrap().muted;
    assert_eq!(muted(m.participants(&room).await.unwrap()), Some(true));
    m.set_muted(&room, &device.id, false).await.unwrap();
    assert_eq!(muted(m.participants(&room).await.unwrap()), Some(false));

    // Another Meeting never saw a recordId, and says so rather than listing nothing.
    let other = Meeting::new(&client, Vendor::Vmr).unwrap();
    assert!(other.recordings(&room).await.unwrap_err().to_string().contains("record.files"));

    let started = m.start_recording(&room).await.unwrap();
    assert!(started["recordId"].is_string(), "{started}");
    sim.advance_clock(Duration::from_secs(2));
    assert!(m.stop_recording(&room).await.unwrap().is_empty());
    let files = published(&m, &room).await;
    assert!(files.iter().all(|f| f.size.is_some()), "getRecords gives exact sizes: {files:?}");
    let dir = tempfile::tempdir().unwrap();
    let done = m.download_recordings(&room, dir.path(), DownloadOptions::default()).await.unwrap();
    assert_on_disk(&done, dir.path());
    assert_eq!(
        done.iter().map(|d| d.bytes).collect::<Vec<_>>(),
        files.iter().map(|f| f.size.unwrap()).collect::<Vec<_>>()
    );

    m.start_live(&room, "rtmp://live.example.com/app/key").await.unwrap();
    let streaming = |people: &[meetkit::meeting::Participant]| {
        people.iter().filter(|p| p.raw["is_streaming_conference"] == true).count()
    };
    assert_eq!(streaming(&m.participants(&room).await.unwrap()), 1);
    m.stop_live(&room).await.unwrap();
    assert_eq!(streaming(&m.participants(&room).await.unwrap()), 0);
    assert!(matches!(m.stop_live(&room).await, Err(Error::InvalidParams { .. })), "nothing to stop is an error");
    m.end(&room).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netease_publishes_recordings_after_the_end() {
    let (sim, client) = sim().await;
    let m = Meeting::new(&client, Vendor::Netease).unwrap();
    let room = m.create_room(&options(json!({"name": "meetkit netease", "minutes": 30}))).await.unwrap();
    let room = Room::from_handle(&room.handle).unwrap();
    let read = client.call("netease", "meeting.get", json!({"meetingUniqueId": room.id.parse::<u64>().unwrap()})).await;
    assert_eq!(read.unwrap()["meetingId"].as_str(), room.secondary_id.as_deref());
    // Longer than the 1 s publishing delay: still nothing while the meeting runs.
    sim.advance_clock(Duration::from_secs(2));
    assert!(m.recordings(&room).await.unwrap().is_empty(), "nothing is published while the meeting runs");
    m.end(&room).await.unwrap();
    sim.advance_clock(Duration::from_secs(2));
    let files = published(&m, &room).await;
    assert!(files.iter().all(|f| f.size.is_some() && f.md5.is_some()), "record_list gives size and md5: {files:?}");
    let dir = tempfile::tempdir().unwrap();
    let done = m.download_recordings(&room, dir.path(), DownloadOptions::default()).await.unwrap();
    assert_on_disk(&done, dir.path());
    for (d, f) in done.iter().zip(&files) {
        assert_eq!((Some(d.bytes), Some(&d.md5)), (f.size, f.md5.as_ref()));
    }

    // A booked meeting for later, hosted by an existing account.
    let host = client.call("netease", "account.create", json!({})).await.unwrap()["accountId"].clone();
    let start = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 3600;
    let booked = m.schedule(&options(json!({"name": "later", "start": start, "host": host}))).await.unwrap();
    let read = client.call("netease", "meeting.get", json!({"meetingUniqueId": booked.raw["meetingUniqueId"]})).await;
    let read = read.unwrap();
    assert_eq!((read["status"].as_i64(), read["startTime"].as_u64()), (Some(1), Some(start * 1000)));
    m.end(&booked).await.unwrap();
}

/// Call `verb` with plausible arguments; only the capability check should answer.
async fn attempt(m: &Meeting, verb: Verb, room: &Room) -> meetkit::Result<()> {
    let opts = options(json!({"name": "x", "start": 2_000_000_000}));
    let dir = std::env::temp_dir();
    match verb {
        Verb::CreateRoom => m.create_room(&opts).await.map(drop),
        Verb::Schedule => m.schedule(&opts).await.map(drop),
        Verb::Start => m.start(room).await,
        Verb::Invite => m.invite(room, DEVICE, Duration::from_secs(1)).await.map(drop),
        Verb::Participants => m.participants(room).await.map(drop),
        Verb::Mute => m.set_muted(room, "p1", true).await,
        Verb::Unmute => m.set_muted(room, "p1", false).await,
        Verb::StartRecording => m.start_recording(room).await.map(drop),
        Verb::StopRecording => m.stop_recording(room).await.map(drop),
        Verb::Recordings => m.recordings(room).await.map(drop),
        Verb::DownloadRecordings => m.download_recordings(room, &dir, DownloadOptions::default()).await.map(drop),
        Verb::StartLive => m.start_live(room, "rtmp://live.example.com/app/key").await.map(drop),
        Verb::StopLive => m.stop_live(room).await,
        Verb::End => m.end(room).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_unsupported_cell_fails_before_any_request_with_its_hint() {
    let (sim, client) = sim().await;
    let rooms = ["avd:r1", "kedacom:5550001:10000001", "vmr:1061:meetkit@sim.vmr", "netease:1234:123456789"];
    let mut refused = 0;
    for (vendor, handle) in Vendor::ALL.into_iter().zip(rooms) {
        let m = Meeting::new(&client, vendor).unwrap();
        let room = Room::from_handle(handle).unwrap();
        for (verb, cap) in capabilities(vendor) {
            let Capability::Unsupported { hint } = cap else { continue };
            clear_stats(&sim).await;
            assert!(!m.can(*verb));
            match attempt(&m, *verb, &room).await {
                Err(Error::Unsupported { vendor: v, verb: name, hint: h }) => {
                    assert_eq!((v, name, h.as_str()), (vendor, verb.as_str(), *hint));
                }
                other => panic!("{vendor} {verb}: expected Unsupported, got {other:?}"),
            }
            assert_eq!(request_count(&sim).await, 0, "{vendor} {verb} sent a request");
            refused += 1;
        }
    }
    assert!(refused >= 20, "only {refused} unsupported cells");
}

/// Run `source` on a blocking thread with `vars`; returns the result and what it printed.
async fn run_script(client: &Client, source: &str, out: &Path, vars: Value) -> (meetkit::Result<Value>, Vec<String>) {
    let printed = Arc::new(Mutex::new(Vec::new()));
    let sink = printed.clone();
    let options = ScriptOptions {
        out_dir: out.to_path_buf(),
        vars: vars.as_object().unwrap().clone(),
        print: Arc::new(move |s| sink.lock().unwrap().push(s.to_string())),
        ..ScriptOptions::default()
    };
    let (client, source) = (client.clone(), source.to_string());
    let handle = tokio::runtime::Handle::current();
    let result = tokio::task::spawn_blocking(move || {
        meetkit::script::run_source(&source, Some("record_meeting.rhai"), &client, handle, options)
    })
    .await
    .unwrap();
    let printed = printed.lock().unwrap().clone();
    (result, printed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_meeting_script_runs_unchanged_on_every_vendor() {
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/record_meeting.rhai")).unwrap();
    for vendor in Vendor::ALL {
        let (_sim, client) = sim().await;
        let out = tempfile::tempdir().unwrap();
        let vars = json!({"vendor": vendor.as_str(), "record_seconds": 1, "record_timeout": 30});
        let (result, printed) = run_script(&client, &source, out.path(), vars).await;
        let result = result.unwrap_or_else(|e| panic!("{vendor}: {e}\n{}", printed.join("\n")));
        let summary = printed.iter().find(|l| l.starts_with("summary: ")).unwrap_or_else(|| panic!("{printed:?}"));
        let files: Vec<String> =
            result["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect();
        let on_disk: Vec<String> = std::fs::read_dir(out.path())
            .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let bytes: u64 = files.iter().map(|f| std::fs::metadata(out.path().join(f)).unwrap().len()).sum();
        assert_eq!(result["bytes"].as_u64(), Some(bytes), "{vendor}");
        let mut sorted = on_disk.clone();
        sorted.sort();
        let mut expected = files.clone();
        expected.sort();
        assert_eq!(sorted, expected, "{vendor}: the files on disk are the ones reported");
        let skipped: Vec<&str> = result["skipped"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        match vendor {
            Vendor::Avd | Vendor::Vmr => {
                assert!(!files.is_empty() && bytes > 0, "{vendor}: {summary}");
                assert!(skipped.is_empty(), "{vendor}: {skipped:?}");
            }
            Vendor::Netease => {
                assert_eq!(files.len(), 2, "mixed mp4 + aac: {summary}");
                assert_eq!(skipped, ["invite", "start_recording", "stop_recording"]);
            }
            Vendor::Kedacom => {
                assert!(files.is_empty(), "{summary}");
                assert_eq!(skipped, ["invite", "start_recording", "stop_recording", "download_recordings"]);
                // The hint is printed instead of failing.
                assert!(printed.iter().any(|l| l.contains("invite_members")), "{printed:?}");
            }
        }
        assert!(summary.contains(&format!("{} file(s)", files.len())), "{summary}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_catch_unsupported_verbs_with_the_hint_and_take_handles() {
    let (sim, client) = sim().await;
    let out = tempfile::tempdir().unwrap();
    let source = r#"
        let m = meeting("netease");
        let caught = #{};
        try { m.invite("netease:1:2", "sip:1@h"); } catch (e) { caught = e; }
        let k = meeting("kedacom");
        let room = k.create_room(#{ name: "s", invite: "sip:1001@10.0.0.5" });
        let people = k.participants(room.handle);
        k.end(room);
        #{ kind: caught.kind, hint: caught.hint, can: m.can("recordings"), cannot: m.can("mute"),
           caps: m.capabilities().invite.supported, people: people.len(),
           uses: m.capabilities().create_room.options, ignores: m.capabilities().create_room.ignored.invite }
    "#;
    clear_stats(&sim).await;
    let (result, printed) = run_script(&client, source, out.path(), json!({})).await;
    let result = result.unwrap_or_else(|e| panic!("{e}\n{printed:?}"));
    assert_eq!(result["kind"], "unsupported");
    assert!(result["hint"].as_str().unwrap().contains("meeting.anonymous_join_info"), "{result}");
    assert_eq!(
        (result["can"].as_bool(), result["cannot"].as_bool(), result["caps"].as_bool()),
        (Some(true), Some(false), Some(false))
    );
    assert_eq!(result["people"], 1);
    // The one capability row shape (as `meetkit capabilities --output json`), options included.
    assert_eq!(result["uses"], json!(["name", "minutes", "host"]));
    assert!(result["ignores"].as_str().unwrap().contains("cannot call devices"), "{result}");
    // An out-of-sandbox subdir is refused for download_recordings too.
    let (r, _) =
        run_script(&client, r#"meeting("avd").download_recordings("avd:x", "../up")"#, out.path(), json!({})).await;
    assert!(r.unwrap_err().to_string().contains("relative to the run's out directory"));
}

/// Advance the simulator's virtual clock (all vendors share it).
async fn advance(sim: &Simulator, seconds: f64) {
    let url = format!("{}/_sim/clock/advance", sim.netease_base_url());
    let resp = reqwest::Client::new().post(url).json(&json!({ "seconds": seconds })).send().await.unwrap();
    assert!(resp.status().is_success());
}

/// A room of `vendor` that is running: AVD's opens when a device joins.
async fn running_room(m: &Meeting) -> Room {
    let room = m.create_room(&options(json!({"name": "end twice"}))).await.unwrap();
    if m.vendor() == Vendor::Avd {
        m.invite(&room, DEVICE, Duration::from_secs(10)).await.unwrap();
    }
    room
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_twice_succeeds_on_every_vendor_and_the_meeting_stays_ended() {
    let (sim, client) = sim().await;
    for vendor in Vendor::ALL {
        let m = Meeting::new(&client, vendor).unwrap();
        let room = running_room(&m).await;
        m.end(&room).await.unwrap_or_else(|e| panic!("{vendor}: first end: {e}"));
        // Through a handle parsed from text too, as a later run would.
        let again = Room::from_handle(&room.handle).unwrap();
        m.end(&again).await.unwrap_or_else(|e| panic!("{vendor}: second end: {e}"));
        m.end(&again).await.unwrap_or_else(|e| panic!("{vendor}: third end: {e}"));
        match vendor {
            Vendor::Avd => {
                let state: Value =
                    reqwest::get(format!("{}/_sim/state", sim.avd_base_url())).await.unwrap().json().await.unwrap();
                let state = state.get("avd").unwrap_or(&state);
                let rooms = state["rooms"].as_array().unwrap();
                let r = rooms.iter().find(|r| r["room_id"] == room.id.as_str()).unwrap();
                assert_eq!(r["open"], false, "{r}");
            }
            Vendor::Kedacom => {
                let meeting =
                    client.call("kedacom", "meetings.get", json!({"meeting_id": room.secondary_id})).await.unwrap();
                assert_eq!(meeting["state"], 3, "{meeting}");
            }
            Vendor::Netease => {
                let id = room.id.parse::<u64>().unwrap();
                let meeting = client.call("netease", "meeting.get", json!({"meetingUniqueId": id})).await.unwrap();
                assert_eq!(meeting["status"], 3, "{meeting}");
            }
            Vendor::Vmr => {
                // Only the control session `participants` itself opened is there.
                let people = m.participants(&again).await.unwrap();
                assert!(people.iter().all(|p| p.raw["protocol"] == "api"), "everyone was disconnected: {people:?}");
            }
        }
    }
    // Ending is idempotent, not blind: a Kedacom conference that never existed is still an error.
    let m = Meeting::new(&client, Vendor::Kedacom).unwrap();
    let e = m.end(&Room::from_handle("kedacom:9999999:99999999").unwrap()).await.unwrap_err();
    assert!(matches!(&e, Error::Api { endpoint, .. } if endpoint == "confs.end"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portable_options_are_ignored_where_unusable_and_typos_are_refused() {
    let (sim, client) = sim().await;
    // minutes (and the other portable options) on vendors that cannot use them: a room, not an error.
    let avd = Meeting::new(&client, Vendor::Avd).unwrap();
    let all = json!({"name": "Portable", "minutes": 30, "invite": DEVICE, "record": true, "live": false, "host": "h"});
    let room = avd.create_room(&options(all.clone())).await.unwrap();
    assert_eq!(room.handle, "avd:portable");
    let vmr = Meeting::new(&client, Vendor::Vmr).unwrap();
    let room = vmr.create_room(&options(json!({"name": "lab", "minutes": 30, "id": "other"}))).await.unwrap();
    assert!(room.handle.starts_with("vmr:"), "{}", room.handle);
    // An ignored option is not sent: AVD's room.create got only what AVD uses.
    clear_stats(&sim).await;
    avd.create_room(&options(json!({"name": "Second", "minutes": 5}))).await.unwrap();
    assert_eq!(request_count(&sim).await, 1);

    for vendor in Vendor::ALL {
        let m = Meeting::new(&client, vendor).unwrap();
        clear_stats(&sim).await;
        let e = m.create_room(&options(json!({"nmae": "typo"}))).await.unwrap_err();
        match &e {
            Error::InvalidParams { param, reason, .. } => {
                assert_eq!(param, "nmae", "{vendor}");
                assert!(reason.contains("did you mean `name`?"), "{vendor}: {reason}");
                assert!(reason.contains("name, id, minutes, invite, record, live, host"), "{vendor}: {reason}");
            }
            other => panic!("{vendor}: {other:?}"),
        }
        // `start` belongs to schedule; a wrong value fails the same on every vendor.
        let e = m.create_room(&options(json!({"name": "x", "start": 2_000_000_000}))).await.unwrap_err();
        assert!(e.to_string().contains("book one for later with schedule"), "{vendor}: {e}");
        let e = m.create_room(&options(json!({"name": "x", "minutes": 0}))).await.unwrap_err();
        assert!(matches!(&e, Error::InvalidParams { param, .. } if param == "minutes"), "{vendor}: {e}");
        let e = m.create_room(&options(json!({"name": "x", "record": "yes"}))).await.unwrap_err();
        assert!(matches!(&e, Error::InvalidParams { param, .. } if param == "record"), "{vendor}: {e}");
        assert_eq!(request_count(&sim).await, 0, "{vendor}: a refused option sent a request");
    }
}

/// A simulator whose NetEase publishes recordings `delay` (virtual time) after a meeting ends,
/// and the meeting API on it.
async fn netease_with_record_delay(delay: Duration) -> (Simulator, Meeting) {
    let mut sim_options = SimOptions::default();
    sim_options.netease.record_delay = delay;
    let sim = Simulator::start(sim_options).await.unwrap();
    let client = Client::from_profile(&Profile::from_json("sim", &sim.profile()).unwrap()).unwrap();
    (sim, Meeting::new(&client, Vendor::Netease).unwrap())
}

/// NetEase publishes recordings a while (virtual time) after the end: `download_recordings`
/// right after `end` waits for them instead of returning nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netease_download_right_after_end_waits_for_the_recordings() {
    let (sim, m) = netease_with_record_delay(Duration::from_secs(60)).await;
    let room = m.create_room(&options(json!({"name": "wait for files"}))).await.unwrap();
    m.end(&room).await.unwrap();
    assert!(m.recordings(&room).await.unwrap().is_empty(), "nothing is published at the end");

    let dir = tempfile::tempdir().unwrap();
    let download = {
        let (m, room, dir) = (m.clone(), room.clone(), dir.path().to_path_buf());
        tokio::spawn(async move {
            m.download_recordings_within(&room, &dir, DownloadOptions::default(), Duration::from_secs(120)).await
        })
    };
    // The recording delay passes on the simulator's clock while the download waits.
    advance(&sim, 61.0).await;
    let done = download.await.unwrap().unwrap();
    assert_eq!(done.len(), 2, "mixed mp4 + aac: {done:?}");
    assert_on_disk(&done, dir.path());
    let files = m.recordings(&room).await.unwrap();
    for (d, f) in done.iter().zip(&files) {
        assert_eq!((Some(d.bytes), Some(&d.md5)), (f.size, f.md5.as_ref()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netease_download_times_out_naming_the_room_when_nothing_is_published() {
    let (_sim, m) = netease_with_record_delay(Duration::from_secs(3600)).await;
    let room = m.create_room(&options(json!({"name": "never published"}))).await.unwrap();
    m.end(&room).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let e = m
        .download_recordings_within(&room, dir.path(), DownloadOptions::default(), Duration::from_secs(1))
        .await
        .unwrap_err();
    match &e {
        Error::NotReady { vendor, endpoint, after, waiting_for } => {
            assert_eq!(
                (*vendor, endpoint.as_str(), *after),
                (Vendor::Netease, "meeting.record_list", Duration::from_secs(1))
            );
            assert!(waiting_for.contains(&room.handle), "{waiting_for}");
            assert!(waiting_for.contains("the meeting has ended"), "{waiting_for}");
        }
        other => panic!("expected NotReady, got {other:?}"),
    }
    assert_eq!(e.kind(), "timeout");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "nothing was downloaded");
    // A meeting still running says to end it first.
    let running = m.create_room(&options(json!({"name": "still running"}))).await.unwrap();
    let e = m
        .download_recordings_within(&running, dir.path(), DownloadOptions::default(), Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("end it first"), "{e}");
    m.end(&running).await.unwrap();
}
