//! Figures measured in other processes: the C library (3, via bench/c/call_rate.c), the
//! Python package against requests and httpx (4, via bench/python/call_rate.py), the Python
//! fan-out of figure 5 (bench/python/fanout.py) and whole-process start-up with hyperfine (7).

use std::path::Path;
use std::process::Command;

use meetkit::Client;
use serde_json::Value;

use crate::calls::{meetkit_loop, LoopVendor};
use crate::report::{median_of, Row};

/// Run `cmd`, expect one JSON object on its last stdout line.
fn json_of(cmd: &mut Command) -> Value {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{cmd:?} printed {last:?}: {e}"))
}

/// Figure 4: `meetkit_call` from C against `Client::call` from Rust, sequential AVD calls.
///
/// Sequential calls take ~0.1 ms each, so a round of `n` calls lasts a third of a second and
/// one process's luck (where its two threads land, a neighbour's burst) moved single rounds
/// by ±7 %: each side makes `3 n` calls per round, and the sides take turns going first.
pub async fn c_figure(c_bench: &Path, profile: &Path, client: &Client, n: usize, rounds: usize) -> Row {
    let calls = 3 * n;
    let round = std::sync::atomic::AtomicUsize::new(0);
    let (c, r) = median_of(rounds, || async {
        let c_side = || json_of(Command::new(c_bench).arg(profile).arg(calls.to_string()))["calls_per_sec"].as_f64();
        if round.fetch_add(1, std::sync::atomic::Ordering::Relaxed).is_multiple_of(2) {
            let c = c_side().expect("calls_per_sec");
            (c, meetkit_loop(client, LoopVendor::Avd, calls, 1).await)
        } else {
            let r = meetkit_loop(client, LoopVendor::Avd, calls, 1).await;
            (c_side().expect("calls_per_sec"), r)
        }
    })
    .await;
    Row::rates("4. C `meetkit_call` (AVD `room.list`), sequential", c, "Rust `Client::call`", r, 0.95)
}

/// Figure 3: `meetkit.Client.call` against requests and httpx, the same signed NetEase
/// `meeting.list` calls, with 1 and 16 threads.
pub fn python_figures(python: &Path, script: &Path, profile: &Path, n: usize, rounds: usize) -> Vec<Row> {
    let rate = |client: &str, threads: usize| {
        let v = json_of(Command::new(python).arg(script).args(["--profile"]).arg(profile).args([
            "--client",
            client,
            "--threads",
            &threads.to_string(),
            "--calls",
            &n.to_string(),
        ]));
        v["calls_per_sec"].as_f64().expect("calls_per_sec")
    };
    let mut rows = Vec::new();
    for threads in [1usize, 16] {
        let (mut m, mut rq, mut hx) = (0.0f64, 0.0f64, 0.0f64);
        for _ in 0..rounds.max(1) {
            m = m.max(rate("meetkit", threads));
            rq = rq.max(rate("requests", threads));
            hx = hx.max(rate("httpx", threads));
        }
        let t = if threads == 1 { "1 thread" } else { "16 threads" };
        let target = if threads == 16 { 3.0 } else { 0.0 };
        rows.push(Row::rates(format!("3. Python `Client.call` (NetEase signed), {t}"), m, "requests", rq, target));
        rows.push(Row::rates(format!("3. Python `Client.call` (NetEase signed), {t}"), m, "httpx", hx, 0.0));
    }
    rows
}

/// Figure 7: whole-process start-up with hyperfine: `(name, command, target in ms)`.
pub fn startup_figures(
    hyperfine: &Path,
    commands: &[(&str, String, Option<f64>)],
    runs: usize,
    work: &Path,
) -> Vec<Row> {
    let export = work.join("hyperfine.json");
    let mut cmd = Command::new(hyperfine);
    cmd.args(["--warmup", "3", "--runs", &runs.to_string(), "--shell=none", "--style", "none", "--export-json"])
        .arg(&export);
    for (_, c, _) in commands {
        cmd.arg(c);
    }
    let out = cmd.output().expect("run hyperfine");
    assert!(out.status.success(), "hyperfine failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&std::fs::read(&export).unwrap()).unwrap();
    let results = v["results"].as_array().cloned().unwrap_or_default();
    commands
        .iter()
        .zip(results)
        .map(|((name, _, target), r)| {
            let ms = |k: &str| r[k].as_f64().unwrap_or(0.0) * 1000.0;
            let row = Row::info(
                format!("7. start-up: {name}"),
                format!("{:.1} ms ± {:.1}", ms("mean"), ms("stddev")),
                format!("min {:.1} ms, {runs} runs (hyperfine)", ms("min")),
            );
            match target {
                Some(t) => row.with_target(format!("< {t:.0} ms"), ms("mean") < *t),
                None => row,
            }
        })
        .collect()
}

/// Figure 5 from Python: one `asyncio.gather` of `workflows` `meeting()` workflows
/// (bench/python/fanout.py) in its own interpreter, with its peak RSS.
pub fn python_fanout(python: &Path, sim_line: &Path, workflows: usize, out: &Path) -> Vec<Row> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/fanout.py");
    let v = json_of(
        Command::new(python)
            .arg(script)
            .arg("--sim")
            .arg(sim_line)
            .args(["--workflows", &workflows.to_string(), "--out"])
            .arg(out),
    );
    let completed = v["completed"].as_u64().unwrap_or(0) as usize;
    let errors = v["errors"].as_array().map_or(0, Vec::len);
    if errors > 0 {
        eprintln!("meetkit-bench: Python fan-out errors: {}", v["errors"]);
    }
    let f = |k: &str| v[k].as_f64().unwrap_or(0.0);
    vec![
        Row::info(
            format!("5. Python: `asyncio.gather` of {workflows} `meeting()` workflows: completed"),
            format!("{completed} of {workflows}"),
            format!(
                "{:.2} s wall; p50 {:.0} ms, p99 {:.0} ms; {} files, {:.1} MiB",
                f("wall_s"),
                f("p50_ms"),
                f("p99_ms"),
                v["files"],
                f("bytes") / 1048576.0
            ),
        )
        .with_target("all, no error", completed == workflows && errors == 0),
        Row::info("5. … peak RSS of the Python process", format!("{:.1} MiB", f("peak_rss") / 1048576.0), "VmHWM"),
    ]
}
