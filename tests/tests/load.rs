//! Under load with faults: 1,000 concurrent canonical workflows (room → device → record →
//! stop → end → download; 250 per vendor, each step where the vendor can do it) against the
//! simulators with 5 % of all requests faulted (2.5 % answered 503, 2.5 % cut off before the
//! answer). Every workflow ends in success or a typed error; each is journaled; after
//! `journal::cleanup` of the failed ones the simulators show nothing recording, no device in a
//! call, no meeting or conference running, no host session — and no create done twice.
//! The figures (how many failed, with which errors) go to RELIABILITY.md when
//! `MEETKIT_UPDATE_DOCS=1`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use meetkit::config::Profile;
use meetkit::download::DownloadOptions;
use meetkit::journal::{self, Journal, RunStatus};
use meetkit::meeting::{Meeting, Verb};
use meetkit::{Client, Vendor};
use meetkit_sim::{SimOptions, Simulator, VmrRoomSeed};
use serde_json::{json, Map, Value};

const WORKFLOWS: usize = 1000;
const VENDORS: [Vendor; Vendor::COUNT] = Vendor::ALL;

fn options() -> SimOptions {
    let mut opts = SimOptions::default();
    opts.netease.record_delay = Duration::from_secs(1);
    opts.kedacom.resources_per_size = 10_000;
    let template = opts.vmr.rooms[0].clone();
    opts.vmr.rooms.extend((0..WORKFLOWS / 4).map(|i| VmrRoomSeed {
        alias: format!("load{i}@sim.vmr"),
        id: format!("{}", 60_000 + i),
        name: format!("load room {i}"),
        host_pin: format!("{:06}", 200_000 + i),
        ..template.clone()
    }));
    opts
}

/// The points where every workflow waits for the others while the test moves the simulators'
/// virtual clock: recordings run two seconds, NetEase publishes its recordings (one second after
/// the end), all without waiting in real time.
struct Ticks(tokio::sync::Barrier);

impl Ticks {
    fn new() -> Self {
        Ticks(tokio::sync::Barrier::new(WORKFLOWS + 1))
    }

    /// A workflow's side: arrive, then go on once the clock has moved.
    async fn wait(&self) {
        self.0.wait().await;
        self.0.wait().await;
    }

    /// The test's side: once every workflow has arrived, move the clock by `by`, let them go on.
    async fn advance(&self, sim: &Simulator, by: Duration) {
        self.0.wait().await;
        sim.advance_clock(by);
        self.0.wait().await;
    }
}

/// One canonical workflow through the unified meeting API. Every workflow passes both clock
/// ticks, whether its steps failed or not.
async fn workflow(client: &Client, vendor: Vendor, i: usize, dir: &Path, ticks: &Ticks) -> meetkit::Result<()> {
    let begun = async {
        let m = Meeting::new(client, vendor)?;
        let mut options = Map::new();
        options.insert("name".into(), json!(format!("load workflow {i}")));
        let room = m.create_room(&options).await?;
        let recording = async {
            if m.can(Verb::Invite) {
                m.invite(&room, "sip:1001@10.0.0.5", Duration::from_secs(60)).await?;
            }
            if m.can(Verb::StartRecording) {
                m.start_recording(&room).await?;
            }
            Ok::<_, meetkit::Error>(())
        }
        .await;
        Ok::<_, meetkit::Error>((m, room, recording))
    }
    .await;
    ticks.wait().await; // the recording runs
    let ended = match begun {
        Ok((m, room, recording)) => {
            let stopped = match recording {
                Ok(()) if m.can(Verb::StopRecording) => m.stop_recording(&room).await.map(drop),
                other => other,
            };
            let ended = m.end(&room).await;
            stopped.and(ended).map(|()| (m, room))
        }
        Err(e) => Err(e),
    };
    ticks.wait().await; // the recordings are published
    let (m, room) = ended?;
    if m.can(Verb::DownloadRecordings) {
        m.download_recordings(&room, dir, DownloadOptions::default()).await?;
    }
    Ok(())
}

async fn admin(base: &str, path: &str, body: Value) {
    let r = reqwest::Client::new().post(format!("{base}{path}")).json(&body).send().await.unwrap();
    assert!(r.status().is_success());
}

/// What the simulators still have running (see cli/tests/common for the same check per vendor).
async fn running(sim: &Simulator) -> Vec<String> {
    let get = |base: String| async move {
        reqwest::get(format!("{base}/_sim/state")).await.unwrap().json::<Value>().await.unwrap()
    };
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let mut out = Vec::new();
    let avd = get(sim.avd_base_url()).await;
    let avd = avd.get("avd").unwrap_or(&avd);
    out.extend(
        list(&avd["recordings"])
            .iter()
            .filter(|r| r["stopped"].is_null())
            .map(|r| format!("avd recording {}", r["record_id"])),
    );
    for (room, s) in avd["sessions"].as_object().cloned().unwrap_or_default() {
        out.extend(
            list(&s["participants"])
                .iter()
                .filter(|p| !p["call_id"].is_null())
                .map(|p| format!("avd device {} in {room}", p["user_id"])),
        );
    }
    let ked = get(sim.kedacom_base_url()).await;
    let ked = ked.get("kedacom").unwrap_or(&ked);
    out.extend(
        list(&ked["meetings"])
            .iter()
            .filter(|m| m["state"] == 2)
            .map(|m| format!("kedacom conference {}", m["conf_id"])),
    );
    let ne = get(sim.netease_base_url()).await;
    let ne = ne.get("netease").unwrap_or(&ne);
    out.extend(
        list(&ne["meetings"])
            .iter()
            .filter(|m| m["roomStarted"] == true && m["roomEnded"] != true)
            .map(|m| format!("netease meeting {}", m["meetingUniqueId"])),
    );
    for base in [sim.vmr_mcu_base_url(), sim.vmr_mcu2_base_url()] {
        let vmr = get(base).await;
        let vmr = vmr.get("vmr").unwrap_or(&vmr).clone();
        out.extend(list(&vmr["sessions"]).iter().map(|s| format!("vmr session in {}", s["room"])));
        for r in list(&vmr["rooms"]) {
            out.extend(
                list(&r["participants"])
                    .iter()
                    .filter(|p| p["call_direction"] == "out")
                    .map(|p| format!("vmr dialled {}", p["uri"])),
            );
            if !r["recording"].is_null() {
                out.push(format!("vmr recording in {}", r["alias"]));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_workflows_with_five_percent_faults_leave_nothing_after_cleanup_assumption_common_lifecycle() {
    let opts = options();
    let rooms: Vec<(String, String)> =
        opts.vmr.rooms.iter().skip(3).map(|r| (r.alias.clone(), r.host_pin.clone())).collect();
    let sim = Simulator::start(opts).await.unwrap();
    let profile = sim.profile();
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(&dir.path().join("runs.db")).unwrap();
    let shared = Client::from_profile(&Profile::from_json("load", &profile).unwrap()).unwrap();

    let servers = [
        sim.avd_base_url(),
        sim.kedacom_base_url(),
        sim.vmr_base_url(),
        sim.vmr_mcu_base_url(),
        sim.netease_base_url(),
    ];
    for (i, base) in servers.iter().enumerate() {
        admin(base, "/_sim/faults", json!({"error_rate": 0.025, "error_status": 503, "seed": 10 + i})).await;
        admin(base, "/_sim/faults", json!({"drop_rate": 0.025, "seed": 20 + i})).await;
    }

    let ticks = std::sync::Arc::new(Ticks::new());
    let mut tasks = Vec::with_capacity(WORKFLOWS);
    for i in 0..WORKFLOWS {
        let vendor = VENDORS[i % VENDORS.len()];
        let client = if vendor == Vendor::Vmr {
            let (account, pin) = &rooms[(i / VENDORS.len()) % rooms.len()];
            let mut vmr = profile["vmr"].clone();
            vmr["account"] = json!(account);
            vmr["password"] = json!(pin);
            Client::from_profile(&Profile::from_json("load-vmr", &json!({"vmr": vmr})).unwrap()).unwrap()
        } else {
            shared.clone()
        };
        let run = journal.begin_run(&format!("workflow-{i}"), "load", "test").unwrap();
        let client = client.with_journal(run.clone());
        let out = dir.path().join(i.to_string());
        let ticks = ticks.clone();
        tasks.push(tokio::spawn(async move {
            let r = workflow(&client, vendor, i, &out, &ticks).await;
            let _ = client.close().await;
            run.finish(r.as_ref().err());
            (vendor, run.id().to_string(), client, r)
        }));
    }
    ticks.advance(&sim, Duration::from_secs(2)).await;
    ticks.advance(&sim, Duration::from_secs(2)).await;
    let mut failed = Vec::new();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for t in tasks {
        let (vendor, id, client, r) = t.await.expect("a workflow task panicked");
        if let Err(e) = r {
            assert!(meetkit::Error::KINDS.contains(&e.kind()), "untyped error {e:?}");
            assert_eq!(e.vendor(), Some(vendor), "{e}");
            *kinds.entry(format!("{vendor} {}", e.kind())).or_default() += 1;
            failed.push((id, client));
        }
    }
    assert!(failed.len() < WORKFLOWS / 2, "{} of {WORKFLOWS} failed: {kinds:?}", failed.len());

    // The faults stop; the failed runs are cleaned up from the journal.
    for base in &servers {
        reqwest::Client::new().delete(format!("{base}/_sim/faults")).send().await.unwrap();
    }
    let mut cleanup_failures = Vec::new();
    for (id, client) in &failed {
        let client = client.clone();
        for step in journal::cleanup(&journal, &client, id, true, false).await.unwrap() {
            if step.outcome == "failed" {
                cleanup_failures.push(format!("{} {} {:?}", step.resource.vendor, step.resource.kind, step.detail));
            }
        }
        let _ = client.close().await;
    }
    assert!(cleanup_failures.is_empty(), "{cleanup_failures:?}");
    let left = running(&sim).await;
    assert!(left.is_empty(), "left running after cleanup: {left:?}");
    let runs = journal.runs().unwrap();
    assert_eq!(runs.len(), WORKFLOWS);
    assert!(runs.iter().all(|r| r.status != RunStatus::Running && r.status != RunStatus::Interrupted));

    // No create done twice: the simulators hold at most one room/meeting per workflow.
    let avd: Value = reqwest::get(format!("{}/_sim/state", sim.avd_base_url())).await.unwrap().json().await.unwrap();
    let avd_rooms = avd["avd"]["rooms"].as_array().map_or(0, Vec::len);
    assert!(avd_rooms <= WORKFLOWS / 4, "{avd_rooms} AVD rooms for {} workflows", WORKFLOWS / 4);
    let ne: Value = reqwest::get(format!("{}/_sim/state", sim.netease_base_url())).await.unwrap().json().await.unwrap();
    let ne_meetings = ne["netease"]["meetings"].as_array().map_or(0, Vec::len);
    assert!(ne_meetings <= WORKFLOWS / 4, "{ne_meetings} NetEase meetings for {} workflows", WORKFLOWS / 4);
    sim.shutdown().await;

    let mut report = format!(
        "{WORKFLOWS} workflows, 5 % of requests faulted: {} succeeded, {} ended in a typed error, all \
         cleaned up from the journal.\n\n| vendor and error kind | workflows |\n|---|---|\n",
        WORKFLOWS - failed.len(),
        failed.len()
    );
    for (k, n) in &kinds {
        report.push_str(&format!("| {k} | {n} |\n"));
    }
    println!("{report}");
    if std::env::var_os("MEETKIT_UPDATE_DOCS").is_some() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../RELIABILITY.md");
        let text = std::fs::read_to_string(&path).unwrap();
        let (head, rest) = text.split_once("<!-- load:start -->\n").expect("load start marker");
        let (_, tail) = rest.split_once("<!-- load:end -->").expect("load end marker");
        std::fs::write(&path, format!("{head}<!-- load:start -->\n{report}<!-- load:end -->{tail}")).unwrap();
    }
}
