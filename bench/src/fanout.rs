//! Figure 5: 10,000 concurrent canonical workflows (`--workflows`) — room → device → record →
//! stop → end → download the recordings — spread over the four vendors, each step only where
//! the vendor can do it (the unified meeting API's capability table decides, as in
//! scripts/record_meeting.rhai).
//!
//! Runs in its own process (`meetkit-bench fanout`) so its peak RSS is meetkit's alone.

use std::path::Path;
use std::time::{Duration, Instant};

use meetkit::config::Profile;
use meetkit::download::DownloadOptions;
use meetkit::meeting::{Meeting, Verb};
use meetkit::{Client, Vendor};
use serde_json::{json, Map, Value};

use crate::simproc::peak_rss;

const VENDORS: [Vendor; Vendor::COUNT] = Vendor::ALL;

/// `meetkit-bench fanout`: run `workflows` workflows at once against the simulator described
/// by `sim_line` (the JSON line of `meetkit-bench sim`), downloading into `out`; print one
/// JSON line of results. Without `download`, each workflow stops once its recordings are listed.
pub async fn run(sim_line: &Path, workflows: usize, out: &Path, download: bool) {
    let sim: Value = serde_json::from_slice(&std::fs::read(sim_line).expect("read the simulator line")).unwrap();
    let profile = &sim["profile"];
    let shared = Client::from_profile(&Profile::from_json("bench", profile).unwrap()).unwrap();
    let vmr_rooms = sim["vmr_rooms"].as_array().cloned().unwrap_or_default();

    let started = Instant::now();
    let mut tasks = Vec::with_capacity(workflows);
    for i in 0..workflows {
        let vendor = VENDORS[i % VENDORS.len()];
        // vmr logs in per room: a client of its own for each vmr workflow.
        let client = if vendor == Vendor::Vmr {
            let room = &vmr_rooms[(i / VENDORS.len()) % vmr_rooms.len()];
            let mut vmr = profile["vmr"].clone();
            vmr["account"] = room["account"].clone();
            vmr["password"] = room["password"].clone();
            Client::from_profile(&Profile::from_json("bench-vmr", &json!({"vmr": vmr})).unwrap()).unwrap()
        } else {
            shared.clone()
        };
        let dir = out.join(i.to_string());
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let r = workflow(&client, vendor, i, &dir, download).await;
            (vendor, t.elapsed(), r)
        }));
    }
    let (mut latencies, mut errors, mut files, mut bytes) = (Vec::new(), Vec::new(), 0u64, 0u64);
    for task in tasks {
        let (vendor, took, result) = task.await.expect("workflow task");
        match result {
            Ok((n, b)) => {
                latencies.push(took);
                files += n;
                bytes += b;
            }
            Err(e) => errors.push(format!("{}: {e}", vendor.as_str())),
        }
    }
    let wall = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies.get(((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1)).copied();
    let ms = |d: Option<Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    errors.sort();
    errors.dedup();
    println!(
        "{}",
        json!({
            "workflows": workflows,
            "completed": latencies.len(),
            "errors": errors.iter().take(5).collect::<Vec<_>>(),
            "wall_s": wall.as_secs_f64(),
            "p50_ms": ms(pct(0.50)),
            "p99_ms": ms(pct(0.99)),
            "files": files,
            "bytes": bytes,
            "peak_rss": peak_rss(),
        })
    );
}

/// One canonical workflow; returns (files downloaded, bytes), or without `download` (files
/// listed, 0).
async fn workflow(
    client: &Client,
    vendor: Vendor,
    i: usize,
    dir: &Path,
    download: bool,
) -> meetkit::Result<(u64, u64)> {
    let m = Meeting::new(client, vendor)?;
    let mut options = Map::new();
    options.insert("name".into(), json!(format!("bench workflow {i}")));
    let room = m.create_room(&options).await?;
    let result = async {
        if m.can(Verb::Invite) {
            m.invite(&room, "sip:1001@10.0.0.5", Duration::from_secs(60)).await?;
        }
        if m.can(Verb::StartRecording) {
            m.start_recording(&room).await?;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        if m.can(Verb::StopRecording) {
            m.stop_recording(&room).await?;
        }
        Ok::<_, meetkit::Error>(())
    }
    .await;
    let ended = m.end(&room).await;
    result?;
    ended?;
    if !m.can(Verb::DownloadRecordings) {
        return Ok((0, 0));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    let listed = loop {
        let listed = m.recordings(&room).await?;
        if !listed.is_empty() {
            break listed;
        }
        if Instant::now() > deadline {
            return Err(meetkit::Error::Timeout {
                vendor,
                endpoint: "recordings".into(),
                after: Duration::from_secs(120),
            });
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    if !download {
        return Ok((listed.len() as u64, 0));
    }
    let done = m.download_recordings(&room, dir, DownloadOptions::default()).await?;
    Ok((done.len() as u64, done.iter().map(|d| d.bytes).sum()))
}
