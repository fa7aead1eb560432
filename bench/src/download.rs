//! Figure 6: downloading one large AVD recording from the simulator to disk, meetkit against
//! curl: with its MD5 check against `curl -o` + `md5sum` (the same guarantee), and with
//! `checksum: false` against `curl -o` alone.

use std::path::Path;
use std::time::Instant;

use meetkit::download::DownloadOptions;
use meetkit::meeting::Meeting;
use meetkit::{Client, Vendor};
use serde_json::Map;

use crate::report::Row;
use crate::simproc::SimProcess;

/// The AVD simulator's recording rate (its default, `AvdOptions::record_bytes_per_second`).
const AVD_BYTES_PER_SECOND: u64 = 32 * 1024;

pub async fn figure(client: &Client, sim: &SimProcess, bytes: u64, rounds: usize, work: &Path) -> Vec<Row> {
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

    // Seconds per side; the fastest of `rounds` counts (few, long rounds).
    let (mut verified, mut unverified, mut curl_s, mut curl_md5sum_s) = (f64::MAX, f64::MAX, f64::MAX, f64::MAX);
    for _ in 0..rounds.max(1) {
        for checksum in [true, false] {
            let t = Instant::now();
            let opts = DownloadOptions { file_name: Some(file.file_name.clone()), checksum, ..Default::default() };
            let done = client.download(&file.url, &dir, opts).await.expect("meetkit download");
            let took = t.elapsed().as_secs_f64();
            assert_eq!(done.bytes, size);
            std::fs::remove_file(&done.path).unwrap();
            if checksum {
                verified = verified.min(took);
            } else {
                unverified = unverified.min(took);
            }
        }
        let t = Instant::now();
        curl(&file.url, &target).await;
        let fetched = t.elapsed().as_secs_f64();
        assert_eq!(std::fs::metadata(&target).unwrap().len(), size, "curl got the whole file");
        let status = tokio::process::Command::new("md5sum").arg(&target).stdout(std::process::Stdio::null()).status();
        assert!(status.await.expect("run md5sum").success());
        curl_s = curl_s.min(fetched);
        curl_md5sum_s = curl_md5sum_s.min(t.elapsed().as_secs_f64());
        std::fs::remove_file(&target).unwrap();
    }
    let _ = m.end(&room).await;
    let mib = size / (1024 * 1024);
    let row = |what: &str, m: f64, base: &str, b: f64| {
        let mut row =
            Row::rates(format!("6. download one {mib} MiB recording (AVD), {what}"), 1.0 / m, base, 1.0 / b, 0.9);
        let rate = |secs: f64| format!("{:.0} MiB/s ({secs:.2} s)", mib as f64 / secs);
        row.meetkit = rate(m);
        row.baseline = format!("{base}: {}", rate(b));
        row
    };
    vec![
        row("size and MD5 checked", verified, "`curl -o` then `md5sum`", curl_md5sum_s),
        row("size checked, `checksum: false`", unverified, "`curl -o`", curl_s),
    ]
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
