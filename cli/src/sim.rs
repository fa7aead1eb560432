//! `meetkit sim`: the simulators in the foreground, or one in the background that `--sim`
//! commands share (`meetkit sim start|stop|status`).
//!
//! The background simulator is `meetkit sim --background-child DIR` re-executed in a session
//! of its own, stdin closed, stdout and stderr in `DIR/sim.log`. It holds an exclusive
//! `flock` on `DIR/sim.lock` for its whole life, so "running" means "the lock is held": a
//! process that died, even by SIGKILL, has released it, and a reused pid is never taken for
//! it. Once it serves it writes `DIR/profile.json` (the profile line, usable with
//! `--profile-json`) and `DIR/state.json` (pid, ports, started_at, ...), and removes both
//! when it stops. DIR is `$MEETKIT_SIM_DIR`, else `$XDG_STATE_HOME/meetkit/sim`, else
//! `~/.local/state/meetkit/sim` (beside the run journal).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use meetkit::Error;
use meetkit_sim::{SimOptions, Simulator};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{Output, Signal};

const STATE: &str = "state.json";
const PROFILE: &str = "profile.json";
const LOG: &str = "sim.log";
const LOCK: &str = "sim.lock";
/// The hidden flag `meetkit sim start` re-executes `meetkit sim` with.
const CHILD_FLAG: &str = "--background-child";
/// How long `meetkit sim start` waits for the background simulator to answer.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a command waits for a simulator that holds its lock but has not written its state.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `meetkit sim stop` waits after SIGKILL.
const KILL_TIMEOUT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(50);

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct SimArgs {
    #[command(subcommand)]
    command: Option<SimCommand>,
    #[command(flatten)]
    serve: ServeArgs,
    /// Serve as the background simulator of DIR (what `meetkit sim start` runs).
    #[arg(long = "background-child", hide = true, value_name = "DIR")]
    background_child: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub(crate) struct ServeArgs {
    /// First port to bind (avd on N, the other servers on N+1 to N+5); default: free ports
    /// chosen by the OS.
    #[arg(long, value_name = "N")]
    port_base: Option<u16>,
    /// Accept only the one reading of each ambiguous vendor doc line that meetkit's client
    /// sends (docs/assumptions.md lists them) — what meetkit's own tests and a fresh `--sim`
    /// use. Without it the simulator is lenient and accepts every plausible reading, for
    /// pointing your own code at it.
    #[arg(long)]
    strict: bool,
    /// Serve HTTPS with a certificate from a CA generated at start; the profile then names
    /// the CA's PEM file as transport.ca_cert (removed when the simulator stops). NetEase
    /// callbacks to your receiver stay plain HTTP.
    #[arg(long)]
    tls: bool,
}

impl ServeArgs {
    fn options(&self, base: SimOptions) -> SimOptions {
        SimOptions { port_base: self.port_base, strict: self.strict, tls: self.tls, ..base }
    }
}

#[derive(Subcommand, Debug)]
enum SimCommand {
    /// Start the simulators in the background; `--sim` commands then use them, so
    /// consecutive commands share their state.
    #[command(after_help = "\
The simulator runs detached (its own session, output in <dir>/sim.log) until
`meetkit sim stop`. It is wired like a fresh `--sim`: NetEase callbacks go to the receiver its
profile names (netease.callback_listen), and also to the receiver of each `run --sim` and
`webhook --sim` while it runs; recordings appear 3 s after a NetEase meeting ends.
Its profile is <dir>/profile.json (for --profile-json, or for your own code), its pid, ports
and start time <dir>/state.json. <dir> is $MEETKIT_SIM_DIR, else $XDG_STATE_HOME/meetkit/sim,
else ~/.local/state/meetkit/sim. Only one runs per <dir>: a second start is refused.

Examples:
  meetkit sim start
  meetkit call --sim avd room.create -p room_id=r1 -p user_id=ops
  meetkit call --sim avd room.read -p room_id=r1        # the same simulator: r1 exists
  meetkit sim stop
  MEETKIT_SIM_DIR=/tmp/sim2 meetkit sim start --port-base 8200 --strict")]
    Start(ServeArgs),
    /// Stop the background simulator: SIGTERM, then SIGKILL after --timeout.
    #[command(after_help = "\
Exits 0 when the simulator stopped or none was running (a state file left by a simulator that
died is removed).")]
    Stop {
        /// Seconds to wait for a graceful stop before SIGKILL.
        #[arg(long, value_name = "SECS", default_value_t = 10.0)]
        timeout: f64,
    },
    /// Whether the background simulator is running, and where: its pid, URLs, profile, log.
    #[command(after_help = "\
Exits 0 when it runs and answers, 1 when it does not (a state file left by a simulator that
died is removed). --output json prints {\"running\": ..., \"dir\": ..., \"pid\": ..., \"servers\": [...]}.")]
    Status,
}

/// `meetkit sim ...`.
pub(crate) async fn sim(args: SimArgs, output: Output, verbose: u8) -> meetkit::Result<ExitCode> {
    if let Some(dir) = &args.background_child {
        serve_background(dir, &args.serve).await?;
        return Ok(ExitCode::SUCCESS);
    }
    match args.command {
        None => foreground(&args.serve).await.map(|()| ExitCode::SUCCESS),
        Some(SimCommand::Start(serve)) => start(&sim_dir(), &serve, output, verbose).await,
        Some(SimCommand::Stop { timeout }) => stop(&sim_dir(), crate::seconds_arg("--timeout", timeout)?, output).await,
        Some(SimCommand::Status) => status(&sim_dir(), output).await,
    }
}

/// Where the background simulator keeps its state (absolute).
pub(crate) fn sim_dir() -> PathBuf {
    let dir = std::env::var_os("MEETKIT_SIM_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| meetkit::journal::state_dir().join("sim"));
    std::path::absolute(&dir).unwrap_or(dir)
}

/// `meetkit sim` in the foreground, until a signal.
async fn foreground(serve: &ServeArgs) -> meetkit::Result<()> {
    let sim = Simulator::start(serve.options(SimOptions::default())).await.map_err(cannot_start)?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", sim.profile());
        let _ = out.flush();
    }
    eprintln!(
        "meetkit sim: avd {}, kedacom {}, vmr {} (mcuHost {}), netease {} — admin API under <url>/_sim/; Ctrl-C to stop",
        sim.avd_base_url(),
        sim.kedacom_base_url(),
        sim.vmr_base_url(),
        sim.vmr_mcu_base_url(),
        sim.netease_base_url()
    );
    let _ = Signal::next().await;
    sim.shutdown().await;
    Ok(())
}

fn io_error(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
    Error::Io { path: path.into(), source }
}

fn cannot_start(e: std::io::Error) -> Error {
    Error::config(format!("cannot start the simulator: {e}"))
}

/// What `DIR/state.json` holds.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub(crate) struct State {
    pid: u32,
    /// Seconds since the Unix epoch.
    started_at: f64,
    version: String,
    strict: bool,
    tls: bool,
    servers: Vec<Server>,
    /// Where the simulator sends NetEase callbacks (the profile's netease.callback_listen).
    netease_callback_listen: String,
    /// The CA's PEM file under --tls.
    ca_cert: Option<PathBuf>,
    profile: PathBuf,
    log: PathBuf,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct Server {
    name: String,
    url: String,
    port: u16,
}

impl State {
    fn url(&self, name: &str) -> &str {
        self.servers.iter().find(|s| s.name == name).map_or("", |s| s.url.as_str())
    }
}

/// What a state folder holds.
enum Found {
    Nothing,
    /// State files without a simulator holding the lock: one that died.
    Stale(Option<State>),
    /// The lock is held, the state not written yet.
    Starting,
    Running(State),
}

fn read_state(dir: &Path) -> Option<State> {
    let text = std::fs::read_to_string(dir.join(STATE)).ok()?;
    serde_json::from_str(&text).ok()
}

fn find(dir: &Path) -> meetkit::Result<Found> {
    let held = os::lock_held(&dir.join(LOCK)).map_err(|e| io_error(dir.join(LOCK), e))?;
    let state = read_state(dir);
    let files = [STATE, PROFILE].iter().any(|f| dir.join(f).exists());
    Ok(match (held, state) {
        (true, Some(s)) => Found::Running(s),
        (true, None) => Found::Starting,
        (false, s) if files => Found::Stale(s),
        (false, _) => Found::Nothing,
    })
}

/// [`find`], waiting (bounded) while a simulator is starting.
async fn settle(dir: &Path) -> meetkit::Result<Found> {
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    loop {
        match find(dir)? {
            Found::Starting if Instant::now() < deadline => tokio::time::sleep(POLL).await,
            Found::Starting => {
                return Err(Error::config(format!(
                    "a simulator holds {} but wrote no {STATE} within {} s; see {} (or `meetkit sim stop`)",
                    dir.join(LOCK).display(),
                    SETTLE_TIMEOUT.as_secs(),
                    dir.join(LOG).display()
                )))
            }
            found => return Ok(found),
        }
    }
}

/// Remove the state files (and, for a simulator that could not clean up, its CA folder).
fn remove_state(dir: &Path, state: Option<&State>) {
    let _ = std::fs::remove_file(dir.join(STATE));
    let _ = std::fs::remove_file(dir.join(PROFILE));
    let ca_dir = state.and_then(|s| s.ca_cert.as_deref()).and_then(Path::parent);
    if let Some(ca_dir) =
        ca_dir.filter(|d| d.file_name().is_some_and(|n| n.to_string_lossy().starts_with("meetkit-sim-")))
    {
        let _ = std::fs::remove_dir_all(ca_dir);
    }
}

fn remove_stale(dir: &Path, state: Option<State>) -> Option<u32> {
    remove_state(dir, state.as_ref());
    state.map(|s| s.pid)
}

/// What a folder without a running simulator needs: a dead one's state removed (its pid).
fn clear_stale(dir: &Path, found: Found) -> Option<u32> {
    match found {
        Found::Stale(s) => remove_stale(dir, s),
        _ => None,
    }
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Create (or empty) a file only its owner can read.
fn private_file(path: &Path) -> meetkit::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|e| io_error(path, e))
}

/// Write a file only its owner can read (the profile holds the simulator's credentials).
fn write_private(path: &Path, text: &str) -> meetkit::Result<()> {
    private_file(path)?.write_all(text.as_bytes()).map_err(|e| io_error(path, e))
}

fn create_dir(dir: &Path) -> meetkit::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| io_error(dir, e))
}

/// The background simulator itself: lock, serve, write the state, wait for a signal, clean up.
async fn serve_background(dir: &Path, serve: &ServeArgs) -> meetkit::Result<()> {
    create_dir(dir)?;
    let lock_path = dir.join(LOCK);
    let lock = os::open_lock(&lock_path).map_err(|e| io_error(&lock_path, e))?;
    // Readers hold the lock shared for a moment: only a lock held for 2 s is another simulator.
    let deadline = Instant::now() + Duration::from_secs(2);
    while !os::try_lock_exclusive(&lock).map_err(|e| io_error(&lock_path, e))? {
        if Instant::now() >= deadline {
            return Err(Error::config(format!(
                "another simulator holds {}: `meetkit sim status` shows it",
                lock_path.display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Anything left by a simulator that was killed.
    remove_stale(dir, read_state(dir));
    let (sim, profile) =
        Simulator::start_wired(serve.options(SimOptions::wired()), None).await.map_err(cannot_start)?;
    let profile_path = dir.join(PROFILE);
    write_private(&profile_path, &format!("{profile}\n"))?;
    let port = |url: &str| url.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let servers = [
        ("avd", sim.avd_base_url()),
        ("kedacom", sim.kedacom_base_url()),
        ("vmr", sim.vmr_base_url()),
        ("vmr_mcu", sim.vmr_mcu_base_url()),
        ("vmr_mcu2", sim.vmr_mcu2_base_url()),
        ("netease", sim.netease_base_url()),
    ]
    .map(|(name, url)| Server { name: name.into(), port: port(&url), url })
    .to_vec();
    let state = State {
        pid: std::process::id(),
        started_at: now(),
        version: env!("CARGO_PKG_VERSION").into(),
        strict: serve.strict,
        tls: serve.tls,
        servers,
        netease_callback_listen: profile["netease"]["callback_listen"].as_str().unwrap_or_default().into(),
        ca_cert: sim.ca_cert_path().map(Path::to_path_buf),
        profile: profile_path,
        log: dir.join(LOG),
    };
    let tmp = dir.join(format!("{STATE}.tmp"));
    write_private(&tmp, &serde_json::to_string_pretty(&state).unwrap_or_default())?;
    std::fs::rename(&tmp, dir.join(STATE)).map_err(|e| io_error(dir.join(STATE), e))?;
    eprintln!(
        "meetkit sim (background, pid {}): avd {}, kedacom {}, vmr {}, netease {}; state in {} — `meetkit sim stop` stops it",
        state.pid,
        state.url("avd"),
        state.url("kedacom"),
        state.url("vmr"),
        state.url("netease"),
        dir.display()
    );
    let signal = Signal::next().await;
    eprintln!("meetkit sim: {} received, stopping", signal.name());
    sim.shutdown().await;
    // Only this simulator's files: a successor cannot have taken the lock yet.
    remove_state(dir, None);
    drop(lock);
    Ok(())
}

/// A client of the simulator's admin API (trusting its CA under --tls).
fn admin_client(state: &State) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(5)).no_proxy();
    if let Some(ca) = &state.ca_cert {
        let pem = std::fs::read(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
        let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| format!("{}: {e}", ca.display()))?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build().map_err(|e| e.to_string())
}

/// `GET <avd>/_sim/health` answers `{"ok": true}`.
async fn health(state: &State) -> Result<(), String> {
    let url = format!("{}/_sim/health", state.url("avd"));
    let answer = admin_client(state)?.get(&url).send().await.map_err(|e| format!("{url}: {e}"))?;
    let status = answer.status();
    let body: Value = answer.json().await.unwrap_or_default();
    match body["ok"].as_bool() {
        Some(true) if status.is_success() => Ok(()),
        _ => Err(format!("{url}: HTTP {status} {body}")),
    }
}

/// Attach (`"attach"`) or detach (`"detach"`) a NetEase callback receiver of this command at
/// the background simulator: while attached, it gets every NetEase event as a delivery of its
/// own, beside the simulator's callback URL and any other command's receiver.
async fn receiver(state: &State, action: &str, url: &str) -> meetkit::Result<()> {
    let admin = format!("{}/_sim/netease/receivers/{action}", state.url("netease"));
    let sent = async {
        let answer =
            admin_client(state)?.post(&admin).json(&json!({ "url": url })).send().await.map_err(|e| e.to_string())?;
        match answer.status().is_success() {
            true => Ok(()),
            false => Err(format!("HTTP {}", answer.status())),
        }
    };
    sent.await.map_err(|e: String| {
        Error::config(format!(
            "the simulator of `meetkit sim start` (pid {}) did not {action} the NetEase receiver {url} at {admin}: {e}",
            state.pid
        ))
    })
}

/// The last lines of the log, for a start that failed.
fn log_tail(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join(LOG)).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join("\n")
}

/// `meetkit sim start`.
async fn start(dir: &Path, serve: &ServeArgs, output: Output, verbose: u8) -> meetkit::Result<ExitCode> {
    create_dir(dir)?;
    match settle(dir).await? {
        Found::Running(s) => {
            return Err(Error::config(format!(
                "a simulator from `meetkit sim start` is already running: pid {}, avd {}, profile {}. \
                 Stop it with `meetkit sim stop`, or set MEETKIT_SIM_DIR to another folder to run a second one",
                s.pid,
                s.url("avd"),
                s.profile.display()
            )))
        }
        Found::Stale(s) => {
            if let Some(pid) = remove_stale(dir, s) {
                eprintln!("meetkit sim: removed the state of a simulator that is gone (pid {pid})");
            }
        }
        Found::Nothing | Found::Starting => {}
    }
    let log_path = dir.join(LOG);
    let log = private_file(&log_path)?;
    let exe = std::env::current_exe().map_err(|e| Error::config(format!("cannot find meetkit's own program: {e}")))?;
    let mut command = std::process::Command::new(exe);
    for _ in 0..verbose {
        command.arg("-v");
    }
    command.arg("sim").arg(CHILD_FLAG).arg(dir);
    if let Some(n) = serve.port_base {
        command.arg("--port-base").arg(n.to_string());
    }
    if serve.strict {
        command.arg("--strict");
    }
    if serve.tls {
        command.arg("--tls");
    }
    let err_log = log.try_clone().map_err(|e| io_error(&log_path, e))?;
    command.stdin(std::process::Stdio::null()).stdout(log).stderr(err_log);
    os::detach(&mut command);
    let mut child =
        command.spawn().map_err(|e| Error::config(format!("cannot start the background simulator: {e}")))?;
    let deadline = Instant::now() + START_TIMEOUT;
    let state = loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(Error::config(format!(
                "the background simulator stopped before it served ({status}):\n{}\n(log: {})",
                log_tail(dir),
                log_path.display()
            )));
        }
        let answered = match read_state(dir).filter(|s| s.pid == child.id()) {
            Some(s) => health(&s).await.map(|()| s),
            None => Err("no state yet".to_string()),
        };
        match answered {
            Ok(s) => break s,
            Err(e) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::config(format!(
                    "the background simulator did not answer within {} s ({e}); it was killed. Log: {}",
                    START_TIMEOUT.as_secs(),
                    log_path.display()
                )));
            }
            Err(_) => tokio::time::sleep(POLL).await,
        }
    };
    print_running(dir, &state, true, &[], output);
    Ok(ExitCode::SUCCESS)
}

/// `meetkit sim stop`.
async fn stop(dir: &Path, timeout: Duration, output: Output) -> meetkit::Result<ExitCode> {
    let state = match settle(dir).await? {
        Found::Running(s) => s,
        found => {
            let stale = clear_stale(dir, found);
            let note = stale.map(|pid| format!("; removed the state left by pid {pid}")).unwrap_or_default();
            say(
                output,
                &format!("no simulator from `meetkit sim start` was running in {}{note}", dir.display()),
                json!({"stopped": false, "running": false, "dir": dir, "stale_pid": stale}),
            );
            return Ok(ExitCode::SUCCESS);
        }
    };
    let lock = dir.join(LOCK);
    if !os::looks_like_ours(state.pid) {
        return Err(Error::config(format!(
            "{} names pid {}, which is not a background meetkit simulator; not signalled. Find the process \
             holding {} (e.g. `fuser {}`) and stop it",
            dir.join(STATE).display(),
            state.pid,
            lock.display(),
            lock.display()
        )));
    }
    os::signal(state.pid, os::Kill::Term)
        .map_err(|e| Error::config(format!("cannot signal pid {}: {e}", state.pid)))?;
    let graceful = released(&lock, timeout).await;
    if !graceful {
        os::signal(state.pid, os::Kill::Kill)
            .map_err(|e| Error::config(format!("cannot SIGKILL pid {}: {e}", state.pid)))?;
        if !released(&lock, KILL_TIMEOUT).await {
            return Err(Error::config(format!(
                "pid {} still holds {} {} s after SIGKILL",
                state.pid,
                lock.display(),
                KILL_TIMEOUT.as_secs()
            )));
        }
    }
    remove_state(dir, Some(&state));
    let how = match graceful {
        true => "stopped".to_string(),
        false => format!("killed (SIGKILL) after it did not stop within {} s", timeout.as_secs_f64()),
    };
    say(
        output,
        &format!("meetkit sim: the simulator (pid {}) {how}", state.pid),
        json!({"stopped": true, "graceful": graceful, "pid": state.pid, "dir": dir}),
    );
    Ok(ExitCode::SUCCESS)
}

/// Wait (at most `timeout`) until no process holds the lock.
async fn released(lock: &Path, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if !os::lock_held(lock).unwrap_or(true) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// `meetkit sim status`.
async fn status(dir: &Path, output: Output) -> meetkit::Result<ExitCode> {
    match settle(dir).await? {
        Found::Running(s) => {
            let answering = health(&s).await;
            let receivers = match answering {
                Ok(()) => attached_receivers(&s).await,
                Err(_) => Vec::new(),
            };
            print_running(dir, &s, answering.is_ok(), &receivers, output);
            if let Err(e) = answering {
                eprintln!("meetkit sim: pid {} runs but does not answer: {e}; `meetkit sim stop` stops it", s.pid);
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
        found => {
            let stale = clear_stale(dir, found);
            let note =
                stale.map(|pid| format!(" (removed the state left by pid {pid}, which is gone)")).unwrap_or_default();
            say(
                output,
                &format!("not running: no simulator from `meetkit sim start` in {}{note}", dir.display()),
                json!({"running": false, "dir": dir, "stale_pid": stale}),
            );
            Ok(ExitCode::from(1))
        }
    }
}

fn say(output: Output, text: &str, value: Value) {
    let mut out = std::io::stdout().lock();
    let _ = match output {
        Output::Json => writeln!(out, "{}", serde_json::to_string_pretty(&value).unwrap_or_default()),
        Output::Table => writeln!(out, "{text}"),
    };
}

/// The NetEase receivers commands have attached to the simulator (none if it does not say).
async fn attached_receivers(state: &State) -> Vec<String> {
    let url = format!("{}/_sim/netease/callbacks", state.url("netease"));
    let Ok(client) = admin_client(state) else { return Vec::new() };
    let Ok(answer) = client.get(&url).send().await else { return Vec::new() };
    let body: Value = answer.json().await.unwrap_or_default();
    body["receivers"]
        .as_array()
        .map(|r| r.iter().filter_map(|u| u.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

fn print_running(dir: &Path, s: &State, answering: bool, receivers: &[String], output: Output) {
    let mut out = std::io::stdout().lock();
    if output == Output::Json {
        let mut v = serde_json::to_value(s).unwrap_or_default();
        if let Some(map) = v.as_object_mut() {
            map.insert("running".into(), Value::Bool(true));
            map.insert("answering".into(), Value::Bool(answering));
            map.insert("netease_receivers".into(), json!(receivers));
            map.insert("dir".into(), json!(dir));
        }
        let _ = writeln!(out, "{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return;
    }
    let since = httpdate::fmt_http_date(UNIX_EPOCH + Duration::try_from_secs_f64(s.started_at).unwrap_or_default());
    let mode = format!("{}, {}", if s.strict { "strict" } else { "lenient" }, if s.tls { "https" } else { "http" });
    let _ = writeln!(out, "running: pid {}, since {since} ({mode})", s.pid);
    for server in &s.servers {
        let _ = writeln!(out, "  {:<9} {}", server.name, server.url);
    }
    let _ = writeln!(out, "  netease callbacks to http://{}", s.netease_callback_listen);
    for receiver in receivers {
        let _ = writeln!(out, "    and to {receiver} (a running command's receiver)");
    }
    let _ = writeln!(out, "profile: {}", s.profile.display());
    let _ = writeln!(out, "log:     {}", s.log.display());
    let _ = writeln!(out, "`--sim` commands use it; `meetkit sim stop` stops it.");
}

/// The simulator a `--sim` command uses.
pub(crate) enum SimInUse {
    /// Started in-process for this command; gone with it.
    Fresh(Box<Simulator>),
    /// The one `meetkit sim start` runs from `dir`.
    Background {
        dir: PathBuf,
        state: State,
        /// This command's NetEase receiver, attached to the simulator until
        /// [`SimInUse::release`].
        receiver: Option<String>,
    },
}

impl SimInUse {
    /// How the run journal records the profile's source: `sim` or `sim:<dir>`.
    pub(crate) fn journal_source(&self) -> String {
        match self {
            SimInUse::Fresh(_) => "sim".into(),
            SimInUse::Background { dir, .. } => format!("sim:{}", dir.display()),
        }
    }

    /// One line for `meetkit webhook --sim`.
    pub(crate) fn describe(&self) -> String {
        match self {
            SimInUse::Fresh(sim) => format!(
                "a fresh simulator at {} (admin: {}/_sim/netease/...); profile: {}",
                sim.netease_base_url(),
                sim.netease_base_url(),
                sim.profile()
            ),
            SimInUse::Background { state, .. } => format!(
                "the simulator of `meetkit sim start` (pid {}) at {} (admin: {}/_sim/netease/...); its NetEase \
                 callbacks also come here until this command ends; profile: {}",
                state.pid,
                state.url("netease"),
                state.url("netease"),
                state.profile.display()
            ),
        }
    }

    /// Give back what the command borrowed: detach its NetEase receiver from a background
    /// simulator. Call it on every way out of a command that passed a receiver address to
    /// [`for_target`]; one that never runs (a second signal's immediate exit) leaves a receiver
    /// attached whose deliveries are refused, harmless to the other commands.
    pub(crate) async fn release(self) {
        if let SimInUse::Background { state, receiver: Some(url), .. } = &self {
            if let Err(e) = receiver(state, "detach", url).await {
                tracing::warn!(error = %e, "could not detach this command's NetEase receiver");
            }
        }
    }
}

/// A free loopback `host:port` for this command's NetEase receiver.
pub(crate) fn free_loopback() -> meetkit::Result<String> {
    std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.to_string())
        .map_err(|e| Error::config(format!("cannot find a free loopback port for the NetEase receiver: {e}")))
}

/// The running background simulator of `dir` and its profile, if one runs.
pub(crate) async fn background(dir: &Path) -> meetkit::Result<Option<(State, Value)>> {
    let state = match settle(dir).await? {
        Found::Running(s) => s,
        _ => return Ok(None),
    };
    let text = std::fs::read_to_string(&state.profile).map_err(|e| io_error(&state.profile, e))?;
    let profile = serde_json::from_str(text.trim())
        .map_err(|e| Error::config(format!("{}: not a profile: {e}", state.profile.display())))?;
    Ok(Some((state, profile)))
}

/// The profile `--sim` uses: the background simulator's when `meetkit sim start` runs one,
/// else a fresh in-process one's. `netease_listen`: where this command receives NetEase
/// callbacks. A fresh simulator sends them there; a background one gets it attached as a
/// receiver of its own (until [`SimInUse::release`]), so commands sharing the simulator each get
/// every event and none takes another's.
pub(crate) async fn for_target(netease_listen: Option<String>) -> meetkit::Result<(Value, SimInUse)> {
    let dir = sim_dir();
    if let Some((state, mut profile)) = background(&dir).await? {
        tracing::info!(pid = state.pid, dir = %dir.display(), "--sim: the simulator of `meetkit sim start`");
        let mut attached = None;
        if let Some(listen) = netease_listen {
            let url = meetkit_sim::netease_callback_url(&listen);
            receiver(&state, "attach", &url).await?;
            if let Some(netease) = profile.get_mut("netease").and_then(Value::as_object_mut) {
                netease.insert("callback_listen".into(), Value::String(listen));
            }
            attached = Some(url);
        }
        return Ok((profile, SimInUse::Background { dir, state, receiver: attached }));
    }
    tracing::info!(
        dir = %dir.display(),
        "--sim: no simulator from `meetkit sim start` is running; a fresh one, gone when this command ends"
    );
    let (sim, profile) = Simulator::start_wired(SimOptions::wired(), netease_listen).await.map_err(cannot_start)?;
    Ok((profile, SimInUse::Fresh(Box::new(sim))))
}

#[cfg(unix)]
mod os {
    //! The Unix calls of the background simulator: flock, setsid, kill.

    use std::fs::File;
    use std::io;
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::process::CommandExt;
    use std::path::Path;

    pub(super) fn open_lock(path: &Path) -> io::Result<File> {
        std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o600).open(path)
    }

    fn try_flock(file: &File, operation: libc::c_int) -> io::Result<bool> {
        // SAFETY: flock on a descriptor the File owns; no memory is passed.
        let r = unsafe { libc::flock(file.as_raw_fd(), operation | libc::LOCK_NB) };
        if r == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EWOULDBLOCK) => Ok(false),
            _ => Err(e),
        }
    }

    /// Take the lock for this process's life (released when the process ends).
    pub(super) fn try_lock_exclusive(file: &File) -> io::Result<bool> {
        try_flock(file, libc::LOCK_EX)
    }

    /// Whether a process holds the lock at `path` (a missing file: no).
    pub(super) fn lock_held(path: &Path) -> io::Result<bool> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        // Taken shared for a moment and released when `file` closes.
        Ok(!try_flock(&file, libc::LOCK_SH)?)
    }

    /// Run the command in a session of its own: no controlling terminal, so neither Ctrl-C
    /// nor closing the terminal reaches it.
    pub(super) fn detach(command: &mut std::process::Command) {
        // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
        unsafe {
            command.pre_exec(|| match libc::setsid() {
                -1 => Err(io::Error::last_os_error()),
                _ => Ok(()),
            });
        }
    }

    pub(super) enum Kill {
        Term,
        Kill,
    }

    pub(super) fn signal(pid: u32, kill: Kill) -> io::Result<()> {
        let signal = match kill {
            Kill::Term => libc::SIGTERM,
            Kill::Kill => libc::SIGKILL,
        };
        let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: kill takes plain integers.
        match unsafe { libc::kill(pid, signal) } {
            0 => Ok(()),
            _ => Err(io::Error::last_os_error()),
        }
    }

    /// Whether `pid` runs `meetkit sim --background-child` (where /proc tells; else assumed).
    pub(super) fn looks_like_ours(pid: u32) -> bool {
        match std::fs::read(format!("/proc/{pid}/cmdline")) {
            Ok(cmdline) => cmdline.split(|b| *b == 0).any(|arg| arg == super::CHILD_FLAG.as_bytes()),
            Err(_) => !Path::new("/proc/self").exists(),
        }
    }
}

#[cfg(not(unix))]
mod os {
    //! Without Unix there is no background simulator: every call says so.

    use std::fs::File;
    use std::io;
    use std::path::Path;

    fn unsupported() -> io::Error {
        io::Error::new(io::ErrorKind::Unsupported, "`meetkit sim start` needs a Unix system; run `meetkit sim`")
    }

    pub(super) fn open_lock(_: &Path) -> io::Result<File> {
        Err(unsupported())
    }
    pub(super) fn try_lock_exclusive(_: &File) -> io::Result<bool> {
        Err(unsupported())
    }
    /// No background simulator can run, so none holds a lock.
    pub(super) fn lock_held(_: &Path) -> io::Result<bool> {
        Ok(false)
    }
    pub(super) fn detach(_: &mut std::process::Command) {}
    pub(super) enum Kill {
        Term,
        Kill,
    }
    pub(super) fn signal(_: u32, _: Kill) -> io::Result<()> {
        Err(unsupported())
    }
    pub(super) fn looks_like_ours(_: u32) -> bool {
        false
    }
}
