//! `meetkit-bench`: meetkit's cost against hand-written HTTP, Python HTTP clients and curl,
//! measured in the same run and reported as ratios, so a noisy machine still gives comparable
//! answers. `bench/run.sh` builds everything it needs and runs it; BENCHMARKS.md has the table.
//!
//! ```text
//! bench/run.sh            # the full run, release build, simulator pinned to its own core
//! bench/run.sh --smoke    # every figure with tiny counts, debug build, no thresholds (CI)
//! ```
//!
//! The simulator runs in a child process (`meetkit-bench sim`) with no latency and no faults;
//! figures measured in other processes (C, Python, start-up, the 10,000-workflow fan-out, the
//! idle client) are run as children too. Each figure runs meetkit and its baseline back to back for several
//! short rounds and keeps the median of each side.

mod calls;
mod download;
mod external;
mod fanout;
mod footprint;
mod report;
mod simproc;
mod tls;

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use meetkit::config::Profile;
use meetkit::Client;
use serde_json::json;

use report::Row;
use simproc::SimProcess;

#[derive(Parser)]
#[command(version, about = "meetkit's cost against raw HTTP, Python clients and curl, as ratios")]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    all: AllArgs,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the simulators with the benchmark options; prints one JSON line, stops at stdin EOF.
    Sim {
        /// First port (default: free ports).
        #[arg(long)]
        port_base: Option<u16>,
        /// Serve HTTPS (the simulator's own CA, named in the profile's `transport.ca_cert`).
        #[arg(long)]
        tls: bool,
        /// Extra vmr rooms, one per concurrent vmr workflow of figure 5.
        #[arg(long, default_value_t = 300)]
        vmr_rooms: usize,
    },
    /// Run N concurrent canonical workflows (figure 5) and print one JSON line.
    Fanout {
        /// The JSON line `meetkit-bench sim` printed, saved to a file.
        #[arg(long)]
        sim: PathBuf,
        /// Number of workflows, spread over the four vendors.
        #[arg(long, default_value_t = 1000)]
        workflows: usize,
        /// Where the recordings are downloaded.
        #[arg(long)]
        out: PathBuf,
        /// Stop each workflow once its recordings are listed (no download): meetkit's own
        /// per-workflow memory, without the recordings held on their way to the disk.
        #[arg(long)]
        no_download: bool,
    },
    /// One side of figure 1 alone, for a profiler: `calls` calls, `in_flight` at once, through
    /// meetkit or the hand-written reqwest loop; prints calls/s. E.g. under
    /// `perf record -g -- meetkit-bench loop --sim F --side raw --vendor avd`.
    Loop {
        /// The JSON line `meetkit-bench sim` printed, saved to a file.
        #[arg(long)]
        sim: PathBuf,
        /// Which side of the figure.
        #[arg(long, value_enum)]
        side: Side,
        /// Which call.
        #[arg(long, value_enum, default_value = "avd")]
        vendor: calls::LoopVendor,
        /// Calls in all.
        #[arg(long, default_value_t = 20_000)]
        calls: usize,
        /// Calls in flight at once.
        #[arg(long, default_value_t = 64)]
        in_flight: usize,
    },
    /// Build a client for every vendor and print its RSS, idle and after one call each (figure 10).
    Idle {
        /// The JSON line `meetkit-bench sim` printed, saved to a file.
        #[arg(long)]
        sim: PathBuf,
    },
}

/// A side of figure 1.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Side {
    /// `Client::call`.
    Meetkit,
    /// Hand-written reqwest (+ sha1).
    Raw,
}

/// The whole table (the default command).
#[derive(Args)]
struct AllArgs {
    /// Tiny counts and one round: checks the harness works; the figures mean nothing.
    #[arg(long)]
    smoke: bool,
    /// Calls per round of a figure (default 3000; smoke 20).
    #[arg(long)]
    calls: Option<usize>,
    /// Rounds per figure, each running meetkit and its baseline back to back; the median of
    /// each side counts (default 7; smoke 1).
    #[arg(long)]
    rounds: Option<usize>,
    /// Run the simulator on this CPU (taskset); pin this process elsewhere yourself.
    #[arg(long)]
    sim_cpu: Option<usize>,
    /// Python interpreter with meetkit, requests and httpx installed (figure 3; skipped without).
    #[arg(long)]
    python: Option<PathBuf>,
    /// The compiled bench/c/call_rate.c (figure 4; skipped without).
    #[arg(long)]
    c_bench: Option<PathBuf>,
    /// hyperfine (figure 7; skipped without).
    #[arg(long)]
    hyperfine: Option<PathBuf>,
    /// The meetkit CLI binary (default: next to this one).
    #[arg(long)]
    meetkit: Option<PathBuf>,
    /// Size of the download of figure 6, in MiB (default 1024; smoke 8).
    #[arg(long)]
    download_mib: Option<u64>,
    /// Concurrent workflows of figure 5 (default 10000; smoke 40).
    #[arg(long)]
    workflows: Option<usize>,
    /// The Python fan-out of figure 5: workflows in one `asyncio.gather` (default 1000; smoke 8).
    #[arg(long)]
    py_workflows: Option<usize>,
    /// The wheel whose size figure 10 reports.
    #[arg(long)]
    wheel: Option<PathBuf>,
    /// Scratch directory (default target/bench-work).
    #[arg(long)]
    work: Option<PathBuf>,
    /// Only these figures, e.g. `--only 1,6` (default: all ten).
    #[arg(long, value_delimiter = ',')]
    only: Vec<u8>,
    /// Also write the table to this file.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let cli = Cli::parse();
    match cli.cmd {
        Some(Cmd::Sim { port_base, tls, vmr_rooms }) => simproc::serve(port_base, tls, vmr_rooms).await,
        Some(Cmd::Fanout { sim, workflows, out, no_download }) => {
            fanout::run(&sim, workflows, &out, !no_download).await
        }
        Some(Cmd::Idle { sim }) => footprint::idle(&sim).await,
        Some(Cmd::Loop { sim, side, vendor, calls, in_flight }) => {
            let line: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&sim).expect("read the simulator line"))
                    .expect("the simulator line is JSON");
            let rate = match side {
                Side::Meetkit => {
                    let profile = meetkit::config::Profile::from_json("bench", &line["profile"]).expect("profile");
                    let client = meetkit::Client::from_profile(&profile).expect("client");
                    calls::meetkit_loop(&client, vendor, 1, 1).await; // the token, outside the count
                    calls::meetkit_loop(&client, vendor, calls, in_flight).await
                }
                Side::Raw => calls::RawLoop::new(&line["profile"]).await.run(vendor, calls, in_flight).await,
            };
            println!("{rate:.0} calls/s");
        }
        None => all(cli.all).await,
    }
}

async fn all(a: AllArgs) {
    let smoke = a.smoke;
    let n = a.calls.unwrap_or(if smoke { 20 } else { 3000 });
    let rounds = a.rounds.unwrap_or(if smoke { 1 } else { 7 });
    let work = a.work.clone().unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-work"));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("create the work directory");
    let step = |what: &str| eprintln!("meetkit-bench: {what}");

    let workflows = a.workflows.unwrap_or(if smoke { 40 } else { 10_000 });
    let py_workflows = a.py_workflows.unwrap_or(if smoke { 8 } else { 1000 });
    // One vmr room per concurrent vmr workflow (a quarter of them).
    let vmr_rooms = workflows.max(py_workflows).div_ceil(4);
    let sim_args = ["--vmr-rooms".to_string(), vmr_rooms.to_string()];
    let sim = SimProcess::start_with(a.sim_cpu, &work, "profile.json", &sim_args).await;
    let profile = Profile::from_json("bench", &sim.profile).expect("profile");
    let client = Client::from_profile(&profile).expect("client");
    client.call("avd", "room.list", serde_json::Value::Null).await.expect("warm-up");
    let mut rows: Vec<Row> = Vec::new();
    let wanted = |figure: u8| a.only.is_empty() || a.only.contains(&figure);

    if wanted(1) || wanted(2) {
        step("1-2: calls against raw reqwest, Rhai against Rust");
        rows.extend(calls::figures(&client, &sim, n, rounds).await);
    }

    if wanted(3) {
        step("3: Python against requests and httpx");
        match &a.python {
            Some(python) => {
                let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/call_rate.py");
                rows.extend(external::python_figures(python, &script, &sim.profile_path, n.min(3000), rounds.min(3)));
            }
            None => rows.push(Row::info("3. Python", "skipped", "no --python")),
        }
    }

    if wanted(4) {
        step("4: C against Rust");
        match &a.c_bench {
            Some(c) => rows.push(external::c_figure(c, &sim.profile_path, &client, n, rounds).await),
            None => rows.push(Row::info("4. C", "skipped", "no --c-bench")),
        }
    }

    if wanted(5) {
        step("5: concurrent canonical workflows over the four vendors");
        rows.extend(fanout_figures(&sim, workflows, &work).await);
        match &a.python {
            Some(python) => {
                rows.extend(external::python_fanout(
                    python,
                    &sim_line(&sim, &work),
                    py_workflows,
                    &work.join("py-fanout"),
                ));
            }
            None => rows.push(Row::info("5. Python fan-out", "skipped", "no --python")),
        }
    }

    if wanted(6) {
        step("6: a large download against curl");
        let mib = a.download_mib.unwrap_or(if smoke { 8 } else { 1024 });
        rows.extend(download::figure(&client, &sim, mib * 1024 * 1024, rounds.min(3), &work).await);
    }

    if wanted(7) {
        step("7: start-up");
        match &a.hyperfine {
            Some(h) => rows.extend(startup(h, &a, &sim, &work, if smoke { 3 } else { 30 })),
            None => rows.push(Row::info("7. start-up", "skipped", "no --hyperfine")),
        }
    }

    if wanted(8) {
        step("8: simulator capacity per vendor");
        rows.extend(calls::capacity(&client, &sim, if smoke { 50 } else { n * 2 }).await);
    }

    if wanted(9) {
        step("9: AVD calls over TLS against raw reqwest, handshakes per 1,000 calls");
        let tls_sim = SimProcess::start_with(a.sim_cpu, &work, "profile-tls.json", &["--tls".to_string()]).await;
        rows.extend(tls::figures(&tls_sim, n, rounds, if smoke { 20 } else { 1000 }).await);
    }

    if wanted(10) {
        step("10: footprint (stripped sizes, idle client)");
        let meetkit = a.meetkit.clone().unwrap_or_else(|| std::env::current_exe().unwrap().with_file_name("meetkit"));
        let lib = meetkit.with_file_name("libmeetkit.so");
        rows.extend(footprint::figures(&meetkit, &lib, a.wheel.as_deref(), &sim_line(&sim, &work), &work).await);
    }

    let table = report::table(&rows);
    println!("{table}");
    if smoke {
        println!("(smoke run: {n} calls per figure, {rounds} round(s); the figures mean nothing)");
    }
    if let Some(out) = &a.out {
        std::fs::write(out, &table).expect("write --out");
    }
    let _ = std::fs::remove_dir_all(&work);
}

/// The simulator's profile and vmr rooms saved for child processes (`work/sim.json`).
fn sim_line(sim: &SimProcess, work: &Path) -> PathBuf {
    let line = work.join("sim.json");
    std::fs::write(&line, json!({"profile": sim.profile, "vmr_rooms": sim.vmr_rooms}).to_string()).unwrap();
    line
}

/// Figure 5 in a child process (so the peak RSS is the workflows' alone).
async fn fanout_figures(sim: &SimProcess, workflows: usize, work: &Path) -> Vec<Row> {
    let line = sim_line(sim, work);
    let http = reqwest::Client::new();
    let served = sim.requests_served(&http).await;
    let cpu = sim.cpu_time();
    let t = Instant::now();
    let out = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["fanout", "--workflows", &workflows.to_string(), "--sim"])
        .arg(&line)
        .arg("--out")
        .arg(work.join("fanout"))
        .output()
        .await
        .expect("run the fan-out");
    let wall = t.elapsed().as_secs_f64();
    assert!(out.status.success(), "fan-out failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("fan-out JSON");
    let requests = sim.requests_served(&http).await - served;
    let sim_busy = (sim.cpu_time() - cpu).as_secs_f64() / wall;
    let completed = v["completed"].as_u64().unwrap_or(0) as usize;
    let errors = v["errors"].as_array().map(|e| e.len()).unwrap_or(0);
    let rss_mib = v["peak_rss"].as_f64().unwrap_or(0.0) / (1024.0 * 1024.0);
    if errors > 0 {
        eprintln!("meetkit-bench: fan-out errors: {}", v["errors"]);
    }
    vec![
        Row::info(
            format!("5. {workflows} concurrent workflows: completed"),
            format!("{completed} of {workflows}"),
            format!("{} files, {:.1} MiB downloaded", v["files"], v["bytes"].as_f64().unwrap_or(0.0) / 1048576.0),
        )
        .with_target("all, no error", completed == workflows && errors == 0),
        Row::info(
            "5. … wall time, workflow latency",
            format!(
                "{:.2} s wall; p50 {:.0} ms, p99 {:.0} ms",
                v["wall_s"].as_f64().unwrap_or(0.0),
                v["p50_ms"].as_f64().unwrap_or(0.0),
                v["p99_ms"].as_f64().unwrap_or(0.0)
            ),
            "each workflow holds its recording 1 s and waits for its vendor's (simulated) devices and files",
        ),
        Row::info(
            "5. … requests",
            format!("{requests} requests, {:.0} req/s", requests as f64 / v["wall_s"].as_f64().unwrap_or(wall)),
            format!("simulator CPU {:.0} % of one core", sim_busy * 100.0),
        ),
        Row::info("5. … peak RSS of the fan-out process", format!("{rss_mib:.1} MiB"), "VmHWM")
            .with_target("< 300 MB", rss_mib * 1048576.0 < 300e6),
    ]
}

/// Figure 7 commands.
fn startup(hyperfine: &Path, a: &AllArgs, sim: &SimProcess, work: &Path, runs: usize) -> Vec<Row> {
    let meetkit = a.meetkit.clone().unwrap_or_else(|| std::env::current_exe().unwrap().with_file_name("meetkit"));
    let script = work.join("one.rhai");
    std::fs::write(&script, "let avd = vendor(\"avd\");\navd.call(\"room.list\");\n").unwrap();
    let m = meetkit.display();
    let (p, s, o) = (sim.profile_path.display(), script.display(), work.join("startup-out").display().to_string());
    let mut commands = vec![
        ("`meetkit --version`", format!("{m} --version"), None),
        (
            "`meetkit run` of a one-call script (server already running)",
            format!("{m} run --profile-json {p} --out {o} {s}"),
            Some(50.0),
        ),
        (
            "`meetkit run --sim` of the same script (starts all simulators in-process)",
            format!("{m} run --sim --out {o} {s}"),
            None,
        ),
    ];
    if let Some(py) = &a.python {
        commands.push((
            "`python3 -c \"import requests\"`, for scale",
            format!("{} -c \"import requests\"", py.display()),
            None,
        ));
    }
    external::startup_figures(hyperfine, &commands, runs, work)
}
