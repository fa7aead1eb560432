//! Figure 10: footprint — the stripped sizes of the `meetkit` binary and `libmeetkit.so` as
//! this run built them, the wheel's file size, and the memory of an idle client (a child
//! process, `meetkit-bench idle`, that builds one `Client` for all four vendors and makes no
//! call; then one cheap call per vendor).

use std::path::Path;
use std::process::Command;

use meetkit::config::Profile;
use meetkit::Client;
use serde_json::{json, Value};

use crate::report::Row;
use crate::simproc::rss;

/// `meetkit-bench idle`: print one JSON line with this process's resident set size (VmRSS, bytes)
/// before building a client, after building one `Client` for every vendor of the profile in
/// `sim_line` (no call), and after one call per vendor.
pub async fn idle(sim_line: &Path) {
    let sim: Value = serde_json::from_slice(&std::fs::read(sim_line).expect("read the simulator line")).unwrap();
    let before = rss();
    let client = Client::from_profile(&Profile::from_json("bench", &sim["profile"]).unwrap()).unwrap();
    let built = rss();
    let vendors = client.vendors().len();
    for (vendor, id, params) in [
        ("avd", "room.list", Value::Null),
        ("kedacom", "meetings.list", json!({})),
        ("vmr", "conference.status", json!({})),
        ("netease", "meeting.list", json!({})),
    ] {
        client.call(vendor, id, params).await.unwrap_or_else(|e| panic!("{vendor} {id}: {e}"));
    }
    let called = rss();
    // 1,000 more clients of the same profile, kept alive: what each further client costs.
    let more: Vec<Client> = (0..1000)
        .map(|_| Client::from_profile(&Profile::from_json("bench", &sim["profile"]).unwrap()).unwrap())
        .collect();
    let thousand = rss();
    drop(more);
    println!(
        "{}",
        json!({"vendors": vendors, "rss_start": before, "rss_client": built, "rss_after_calls": called, "rss_1000_more": thousand})
    );
}

/// The rows of figure 10. `meetkit_bin` and `lib` are the release builds of this run (stripped
/// into `work` here), `wheel` the wheel `bench/run.sh` built; `sim_line` as for the fan-out.
pub async fn figures(meetkit_bin: &Path, lib: &Path, wheel: Option<&Path>, sim_line: &Path, work: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    for (what, file) in [("`meetkit` (the CLI)", meetkit_bin), ("`libmeetkit.so` (default features)", lib)] {
        let stripped = work.join(format!("stripped-{}", file.file_name().unwrap().to_string_lossy()));
        let ok =
            Command::new("strip").arg("-o").arg(&stripped).arg(file).status().map(|s| s.success()).unwrap_or(false);
        let row = match (ok, std::fs::metadata(&stripped), std::fs::metadata(file)) {
            (true, Ok(s), Ok(u)) => Row::info(
                format!("10. size of {what}, stripped"),
                format!("{:.2} MB ({} B)", s.len() as f64 / 1e6, s.len()),
                format!("{:.1} MB as built ({}); `strip -o`", u.len() as f64 / 1e6, file.display()),
            ),
            _ => Row::info(format!("10. size of {what}"), "skipped", format!("cannot strip {}", file.display())),
        };
        rows.push(row);
    }
    rows.push(match wheel.map(|w| (w, std::fs::metadata(w))) {
        Some((w, Ok(m))) => Row::info(
            "10. size of the wheel",
            format!("{:.2} MB ({} B)", m.len() as f64 / 1e6, m.len()),
            format!("{}", w.file_name().unwrap_or_default().to_string_lossy()),
        ),
        _ => Row::info("10. size of the wheel", "skipped", "no --wheel"),
    });

    let out = tokio::process::Command::new(std::env::current_exe().unwrap())
        .arg("idle")
        .arg("--sim")
        .arg(sim_line)
        .output()
        .await
        .expect("run meetkit-bench idle");
    assert!(out.status.success(), "idle client failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("idle JSON");
    let mib = |k: &str| v[k].as_f64().unwrap_or(0.0) / 1048576.0;
    rows.push(Row::info(
        format!("10. memory of an idle client ({} vendors, no call)", v["vendors"]),
        format!("{:.1} MiB RSS (+{:.1} MiB for the client)", mib("rss_client"), mib("rss_client") - mib("rss_start")),
        format!(
            "VmRSS of the same process (the binary, a tokio runtime) at {:.1} MiB before the client",
            mib("rss_start")
        ),
    ));
    rows.push(Row::info(
        "10. … after one call per vendor",
        format!("{:.1} MiB RSS (+{:.1} MiB)", mib("rss_after_calls"), mib("rss_after_calls") - mib("rss_client")),
        "a pooled connection, a token or session per vendor",
    ));
    rows.push(Row::info(
        "10. … each further client of the same profile (1,000 built)",
        format!("{:.1} KiB", (mib("rss_1000_more") - mib("rss_after_calls")) * 1024.0 / 1000.0),
        "VmRSS growth / 1,000",
    ));
    rows
}
