//! Figure 6: downloading one large AVD recording from the simulator, meetkit (streamed to
//! disk, size and MD5 checked) against `curl -o`.

use std::path::Path;
use std::time::Instant;

use meetkit::download::DownloadOptions;
use meetkit::meeting::Meeting;
use meetkit::{Client, Vendor};
use serde_json::Map;

use crate::report::{best_of, Row};
use crate::simproc::SimProcess;

/// The AVD simulator's recording rate (its default, `AvdOptions::record_bytes_per_second`).
const AVD_BYTES_PER_SECOND: u64 = 32 * 1024;

pub async fn figure(client: &Client, sim: &SimProcess, bytes: u64, rounds: usize, work: &Path) -> Row {
    // A recording of `bytes`: record for bytes / rate seconds of the simulator's virtual time.
    let m = Meeting::new(client, Vendor::Avd).expect("AVD configured");
    let mut options = Map::new();
    options.insert("name".into(), "bench download".into());
    let room = m.create_room(&options).await.expect("create room");
    // A mixed recording needs the room open: call a device in first.
    m.invite(&room, "sip:1001@10.0.0.5", std::time::Duration::from_secs(60)).await.expect("invite");
    m.start_recording(&room).await.expect("start recording");
    let http = reqwest::Client::new();
    sim.advance_clock(&http, (bytes / AVD_BYTES_PER_SECOND) as f64).await;
    let files = m.stop_recording(&room).await.expect("stop recording");
    // AVD lists sizes rounded (file_size "1024.00MB"): the warm-up tells the exact size.
    let file = files.into_iter().next().expect("a recording file");
    let dir = work.join("download");
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join(&file.file_name);

    // Warm-up: the simulator computes the file's MD5 (for Content-MD5) on the first request.
    curl(&file.url, &target).await;
    let size = std::fs::metadata(&target).unwrap().len();
    assert!(size >= bytes, "a {size}-byte recording, expected {bytes}");

    let (m_rate, c_rate) = best_of(rounds, || async {
        let _ = std::fs::remove_file(&target);
        let t = Instant::now();
        let opts = DownloadOptions {
            expected_size: Some(size),
            file_name: Some(file.file_name.clone()),
            ..Default::default()
        };
        let done = client.download(&file.url, &dir, opts).await.expect("meetkit download");
        let m = done.bytes as f64 / t.elapsed().as_secs_f64();
        std::fs::remove_file(&done.path).unwrap();
        let t = Instant::now();
        curl(&file.url, &target).await;
        let c = size as f64 / t.elapsed().as_secs_f64();
        assert_eq!(std::fs::metadata(&target).unwrap().len(), size, "curl got the whole file");
        std::fs::remove_file(&target).unwrap();
        (m, c)
    })
    .await;
    let _ = m.end(&room).await;
    let mib = |r: f64| r / (1024.0 * 1024.0);
    let mut row = Row::rates(
        format!("6. download one {} MiB recording (AVD), to disk", size / (1024 * 1024)),
        m_rate,
        "curl -o",
        c_rate,
        0.9,
    );
    row.meetkit = format!("{:.0} MiB/s ({:.2} s)", mib(m_rate), size as f64 / m_rate);
    row.baseline = format!("curl -o: {:.0} MiB/s ({:.2} s)", mib(c_rate), size as f64 / c_rate);
    row
}

async fn curl(url: &str, to: &Path) {
    let status = tokio::process::Command::new("curl")
        .args(["--silent", "--show-error", "--fail", "--output"])
        .arg(to)
        .arg(url)
        .status()
        .await
        .expect("run curl");
    assert!(status.success(), "curl {url}: {status}");
}
