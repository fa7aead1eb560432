//! `meetkit`: run meeting workflows, call vendor endpoints, serve the simulators.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use meetkit::config::Profile;
use meetkit::script::{Limits, ScriptOptions};
use meetkit::{Client, Error, Vendor};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

mod profile;
mod sim;

const AFTER_HELP: &str = "\
Exit codes: 0 ok, 1 `sim status`: no simulator running (or not answering), 2 usage or invalid parameters, 3 the vendor answered with an error,
4 network/HTTP/timeout, 5 authentication, 6 script error, 7 configuration, 8 file or
integrity error, 9 `run --max-memory` exceeded, 124 `run --timeout` reached, 130 interrupted (SIGINT/Ctrl-C), 143
terminated (SIGTERM), 129 hung up (SIGHUP). An error a script does not catch keeps its
category (an uncaught vendor error exits 3, bad credentials 5).

On SIGINT, SIGTERM or SIGHUP meetkit stops the work in flight, runs the script's on_exit
blocks (bounded by --grace), ends every vendor session it opened, then exits; a second
signal exits at once.

Profiles come from --config FILE, $MEETKIT_CONFIG or ./meetkit.toml; MEETKIT_<VENDOR>_*
variables override them (e.g. MEETKIT_AVD_BASE_URL, MEETKIT_AVD_ACCESS_KEY,
MEETKIT_AVD_SECRET_KEY). --sim needs no configuration at all.";

/// meetkit: automate meetings on 3tee AVD, Kedacom, vmr and NetEase from Rhai scripts.
#[derive(Parser, Debug)]
#[command(name = "meetkit", version, after_help = AFTER_HELP, propagate_version = true)]
struct Cli {
    /// Log what meetkit does (-v info, -vv debug, -vvv trace); logs never contain secrets.
    ///
    /// -v prints one line per HTTP request (vendor, endpoint, method, path, status, milliseconds,
    /// attempt); -vv adds the request and response bodies, redacted and truncated; -vvv adds the
    /// HTTP library's internals. MEETKIT_LOG (a tracing filter, e.g. `meetkit=debug`) overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// `text` for people (coloured only on a terminal without NO_COLOR), `json` (one object
    /// per line) for log shippers.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// `table` for people, `json` for programs: results as one JSON document on stdout and
    /// errors as one JSON object on stderr ({"error": {kind, code, message, vendor, endpoint,
    /// retryable, detail}}). `run --output json` prints the script's return value.
    #[arg(long, global = true, value_enum, default_value_t = Output::Table)]
    output: Output,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a Rhai workflow script.
    #[command(after_help = "\
Examples:
  meetkit run --sim scripts/avd_record_meeting.rhai
  meetkit run --profile lab --out ./rec --set room_id=weekly scripts/avd_record_meeting.rhai

In the script: vendor(\"avd\").call(\"room.create\", #{...}), sleep(s), download(url, dir),
print(...); API errors are catchable maps #{vendor, endpoint, code, message, retryable}.")]
    Run(RunArgs),
    /// Call one endpoint and print its JSON result.
    #[command(after_help = "\
Examples:
  meetkit call --sim avd room.create --params '{\"room_id\": \"r1\", \"user_id\": \"ops\"}'
  meetkit call --profile lab avd room.read -p room_id=r1
  meetkit call avd app.get_system_info      # profile from ./meetkit.toml or MEETKIT_AVD_*

The result (the vendor's payload without its envelope) goes to stdout as JSON; errors go to
stderr with the vendor, endpoint, code and message.")]
    Call(CallArgs),
    /// List endpoint ids (or write the Markdown reference).
    #[command(after_help = "\
Examples:
  meetkit endpoints                 # every vendor
  meetkit endpoints avd             # one vendor
  meetkit endpoints avd room.create # one endpoint: method, path, parameters, response fields, example
  meetkit endpoints --output json   # every endpoint with its parameters and response fields, for programs
  meetkit endpoints --markdown > docs/endpoints.md")]
    Endpoints(EndpointsArgs),
    /// Show how each vendor does the verbs of the unified meeting API (`meeting(vendor)` in scripts).
    #[command(after_help = "\
Examples:
  meetkit capabilities                 # every vendor, verb by verb
  meetkit capabilities netease
  meetkit capabilities --markdown      # the verbs x vendors table of docs/vendors.md")]
    Capabilities(CapabilitiesArgs),
    /// Write Rhai definition files for editor autocompletion, and the script reference.
    #[command(
        name = "script-api",
        after_help = "\
Examples:
  meetkit script-api --out .rhai-defs      # *.d.rhai files for editors with Rhai support
  meetkit script-api --markdown            # the function reference of docs/scripting.md"
    )]
    ScriptApi(ScriptApiArgs),
    /// Serve the vendor simulators on loopback until interrupted, or in the background
    /// (`start`, `stop`, `status`) for `--sim` commands to share.
    #[command(after_help = "\
`meetkit sim` (foreground) prints one JSON line first: per vendor its base_url and the
credentials it accepts, in the shape of a profile, e.g.
{\"avd\": {\"base_url\": \"http://127.0.0.1:8100\", \"access_key\": ...}}.
Save it and use it with `meetkit call --profile-json FILE` or in a meetkit.toml profile.
Admin and fault injection: POST <base_url>/_sim/faults, /_sim/clock/advance, ...

`meetkit sim start` runs the simulators in the background instead; every `--sim` command then
uses them, so consecutive commands share rooms, meetings and recordings. Its state (pid, ports,
profile.json, sim.log) is in $MEETKIT_SIM_DIR, else $XDG_STATE_HOME/meetkit/sim, else
~/.local/state/meetkit/sim.

Examples:
  meetkit sim --port-base 8100
  meetkit sim start && meetkit sim status
  meetkit sim stop")]
    Sim(sim::SimArgs),
    /// Receive a vendor's callbacks (NetEase) and print each verified event as one JSON line.
    #[command(after_help = "\
Each verified, deduplicated callback is printed to stdout as one JSON line:
  {\"vendor\": \"netease\", \"type\": \"MEETING_ROOM_START\", \"data\": {\"msgType\": 1, \"msgBody\": {...}}, \"received_at_ms\": ...}
Callbacks with a missing or bad CheckSum are refused (401), and so is a CurTime more than
3 hours old (or more than 300 s ahead): NetEase resends an unanswered callback after 2 s, 4 s,
6 s, 1 h and 1 h and may repeat the first attempt's CurTime, so the last resend can be 2 hours
old. Change the window with `callback_max_age_secs` in the profile's [netease] section. Resends
of an event already printed (remembered for at least the window) are answered 200 and not
printed again.

Examples:
  meetkit webhook netease --port 8788 --profile prod     # callback URL: http://<host>:8788/netease/callback
  meetkit webhook netease --port 8788 --bind 0.0.0.0 --profile prod
  meetkit webhook netease --port 8788 --sim               # the simulator calls back here")]
    Webhook(WebhookArgs),
    /// What past `meetkit run`s did and left running, from the run journal; stop it.
    #[command(after_help = "\
Every `meetkit run` records in the run journal (SQLite; default
$XDG_STATE_HOME/meetkit/runs.db, or --journal / $MEETKIT_JOURNAL) its calls, what each call
started (rooms, meetings, recordings, lives, device calls, vmr host sessions) and whether it was
stopped, and the files it downloaded. A run whose process died (kill -9, power loss) is listed
as `interrupted`.

Examples:
  meetkit runs list
  meetkit runs show 1765071000123-3f2a9c01
  meetkit runs cleanup 1765071000123-3f2a9c01 --dry-run
  meetkit runs cleanup 1765071000123-3f2a9c01                 # stop recordings, lives, device calls, sessions
  meetkit runs cleanup 1765071000123-3f2a9c01 --end-rooms     # ... and end the rooms and meetings it created
  meetkit runs list --output json

cleanup uses the profile the run used (its name, or its --profile-json file) unless you give
--profile/--config/--profile-json; it is idempotent: what is stopped is not touched again.")]
    Runs(RunsArgs),
    /// Which profiles exist, what one holds (secrets masked), every field meetkit reads.
    #[command(after_help = "\
Examples:
  meetkit profile list
  meetkit profile show lab                  # every field, where it came from, secrets masked
  meetkit profile show lab --output json
  meetkit profile reference > docs/profile.md")]
    Profile(profile::ProfileArgs),
    /// Check that a profile works: per vendor, reachability and TLS, one authenticated call,
    /// clock skew, API level (Kedacom); each failure with its fix. Exits non-zero on a failure.
    #[command(after_help = "\
Examples:
  meetkit doctor                       # the default profile
  meetkit doctor --profile lab
  meetkit doctor --sim                 # the simulators, as a smoke test
  meetkit doctor --profile lab --output json

Exit codes: 0 every check passed; 5 credentials refused; 4 a server unreachable; 7 the profile
or TLS trust is wrong. Secrets are never printed.")]
    Doctor(Target),
    /// Print a shell completion script.
    #[command(after_help = "\
Examples:
  meetkit completions bash > ~/.local/share/bash-completion/completions/meetkit
  meetkit completions zsh > \"${fpath[1]}/_meetkit\"
  meetkit completions fish > ~/.config/fish/completions/meetkit.fish
  meetkit completions powershell >> $PROFILE")]
    Completions {
        /// bash, zsh, fish, powershell or elvish.
        shell: clap_complete::Shell,
    },
}

/// How log lines are written to stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Args, Debug)]
struct RunsArgs {
    #[command(subcommand)]
    command: RunsCommand,
    /// The run journal (default: $MEETKIT_JOURNAL, else $XDG_STATE_HOME/meetkit/runs.db).
    #[arg(long, global = true, value_name = "FILE")]
    journal: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum RunsCommand {
    /// Every run, newest first, with its status and how much it left running.
    List,
    /// One run: its calls, what it started and whether that was stopped, its files.
    Show {
        /// The run id (from `meetkit runs list`).
        id: String,
    },
    /// Stop what a run left running (recordings, lives, device calls, sessions).
    Cleanup {
        /// The run id (from `meetkit runs list`).
        id: String,
        /// Also end the rooms and meetings the run created.
        #[arg(long)]
        end_rooms: bool,
        /// Only list what would be stopped.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        target: Target,
    },
}

/// How a command prints its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Output {
    /// Aligned text for people.
    Table,
    /// One JSON document for programs.
    Json,
}

#[derive(Args, Debug)]
struct Target {
    /// Use the built-in simulators; no account needed. Uses the simulator started by
    /// `meetkit sim start` if one is running (so consecutive commands share its state), else a
    /// fresh one in-process that forgets everything when the command ends (-v says which).
    #[arg(long, conflicts_with_all = ["profile", "profile_json"])]
    sim: bool,
    /// Profile name in the config file.
    #[arg(long, env = "MEETKIT_PROFILE")]
    profile: Option<String>,
    /// Config file (default: $MEETKIT_CONFIG, else ./meetkit.toml).
    #[arg(long, env = "MEETKIT_CONFIG")]
    config: Option<PathBuf>,
    /// A profile as a JSON file (the line `meetkit sim` prints).
    #[arg(long, value_name = "FILE")]
    profile_json: Option<PathBuf>,
    /// Record every request and response (retries, auth calls, downloads without their bodies,
    /// incoming callbacks) into FILE as HAR 1.2, every secret redacted; open it in a HAR viewer.
    #[arg(long, value_name = "FILE")]
    capture: Option<PathBuf>,
}

impl Target {
    fn client_options(&self) -> meetkit::client::ClientOptions {
        meetkit::client::ClientOptions { capture: self.capture.clone() }
    }
}

#[derive(Args, Debug)]
struct RunArgs {
    /// The .rhai script.
    script: PathBuf,
    #[command(flatten)]
    target: Target,
    /// Directory that download() writes into.
    #[arg(long, default_value = "recordings")]
    out: PathBuf,
    /// A script variable, NAME=VALUE (VALUE is JSON if it parses, so `n=5` is an int; else a string).
    /// An endpoint's string parameter given such an int sends its decimal text. Repeatable.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// Stop the script after this many seconds (its on_exit blocks still run); exit code 124.
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// After a signal (or --timeout), how long the on_exit blocks may run before meetkit
    /// gives up on them and exits.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    grace: f64,
    /// The run journal to record this run in (default: $MEETKIT_JOURNAL, else
    /// $XDG_STATE_HOME/meetkit/runs.db); see `meetkit runs`.
    #[arg(long, value_name = "FILE", conflicts_with = "no_journal")]
    journal: Option<PathBuf>,
    /// Do not record this run in the run journal.
    #[arg(long)]
    no_journal: bool,
    /// Heap memory the script may use in all, parallel branches included (units K, M, G);
    /// past it the script stops (its on_exit blocks still run); exit code 9.
    #[arg(long, value_name = "SIZE", default_value = "512M")]
    max_memory: String,
    /// An environment variable the script may read with env(NAME), besides those named
    /// MEETKIT_SCRIPT_*. Repeatable.
    #[arg(long = "env", value_name = "NAME")]
    env: Vec<String>,
    /// Let the script see secrets in results (tokens, passwords, PINs, keys); without it
    /// they read `***`.
    #[arg(long)]
    allow_secrets: bool,
}

#[derive(Args, Debug)]
struct CallArgs {
    /// Vendor id: avd, kedacom, vmr, netease.
    vendor: String,
    /// Endpoint id, e.g. room.create (see `meetkit endpoints`).
    endpoint: String,
    /// Parameters as one JSON object: inline, `@FILE` to read it from a file, or `-` to read
    /// it from stdin.
    #[arg(long, value_name = "JSON|@FILE|-")]
    params: Option<String>,
    /// One parameter, KEY=VALUE. VALUE is typed by the endpoint table: text for string parameters
    /// (`room_id=0012` stays "0012"), converted for int/number/bool ones, JSON for object/array
    /// ones. Repeatable.
    #[arg(short = 'p', long = "param", value_name = "KEY=VALUE")]
    param: Vec<String>,
    /// Print secrets in the result (tokens, passwords, PINs, keys); without it they print as `***`.
    #[arg(long)]
    allow_secrets: bool,
    #[command(flatten)]
    target: Target,
}

#[derive(Args, Debug)]
struct EndpointsArgs {
    /// Only this vendor.
    vendor: Option<String>,
    /// One endpoint of that vendor, in full: method, path, parameters, response fields and the
    /// vendor doc's example response.
    endpoint: Option<String>,
    /// Write the Markdown reference instead of the list.
    #[arg(long)]
    markdown: bool,
}

#[derive(Args, Debug)]
struct CapabilitiesArgs {
    /// Only this vendor.
    vendor: Option<String>,
    /// Print the Markdown table instead.
    #[arg(long)]
    markdown: bool,
}

#[derive(Args, Debug)]
struct ScriptApiArgs {
    /// Directory to write the definition files into.
    #[arg(long, value_name = "DIR", required_unless_present = "markdown")]
    out: Option<PathBuf>,
    /// Print the Markdown function reference instead.
    #[arg(long)]
    markdown: bool,
}

#[derive(Args, Debug)]
struct WebhookArgs {
    /// Vendor id; only netease sends callbacks.
    vendor: String,
    /// Port to receive callbacks on.
    #[arg(long, default_value_t = 8788)]
    port: u16,
    /// Address to bind; use 0.0.0.0 to accept callbacks from other machines.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Connections served at once; more wait until one closes (default: the profile's
    /// callback_max_connections, else 256).
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
    /// Seconds a connection may take to send its request headers before it is closed
    /// (default: the profile's callback_header_timeout_secs, else 10).
    #[arg(long, value_name = "SECS")]
    header_timeout: Option<f64>,
    /// Seconds a callback body may take to arrive before the answer is 408 (default: the
    /// profile's callback_body_timeout_secs, else 30).
    #[arg(long, value_name = "SECS")]
    body_timeout: Option<f64>,
    /// Remember delivered callbacks in this SQLite file, so a resend or replay after a
    /// restart is not printed again (default: the run journal, $MEETKIT_JOURNAL, else
    /// $XDG_STATE_HOME/meetkit/runs.db).
    #[arg(long, value_name = "FILE", conflicts_with = "no_journal")]
    journal: Option<PathBuf>,
    /// Remember delivered callbacks in memory only (a restart forgets them).
    #[arg(long)]
    no_journal: bool,
    #[command(flatten)]
    target: Target,
}

/// Counts each script run's allocations, for `run --max-memory`.
#[global_allocator]
static ALLOC: meetkit::memory::CountingAlloc = meetkit::memory::CountingAlloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose, cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("meetkit").build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let output = cli.output;
    let result = runtime.block_on(dispatch(cli.command, output, cli.verbose));
    // Scripts may leave blocking threads sleeping; do not wait for them.
    runtime.shutdown_timeout(Duration::from_millis(100));
    match result {
        Ok(code) => code,
        Err(e) => {
            report(&e, output);
            ExitCode::from(exit_code(&e))
        }
    }
}

async fn dispatch(command: Command, output: Output, verbose: u8) -> meetkit::Result<ExitCode> {
    Signal::install();
    if let Command::Sim(args) = command {
        return sim::sim(args, output, verbose).await;
    }
    let done = match command {
        Command::Run(args) => run(args, output).await,
        Command::Call(args) => call(args).await,
        Command::Endpoints(args) => endpoints(args, output),
        Command::Capabilities(args) => capabilities(args, output),
        Command::ScriptApi(args) => script_api(args),
        Command::Sim(_) => unreachable!("handled above"),
        Command::Webhook(args) => webhook(args).await,
        Command::Runs(args) => runs(args, output).await,
        Command::Profile(args) => profile::profile(args, output),
        Command::Doctor(target) => doctor(target, output).await,
        Command::Completions { shell } => {
            use clap::CommandFactory;
            // Generated into memory: clap_complete panics when its writer fails (`| head`).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "meetkit", &mut script);
            let _ = std::io::stdout().lock().write_all(&script);
            Ok(())
        }
    };
    done.map(|()| ExitCode::SUCCESS)
}

/// A client for the chosen target; with --sim, the simulator it uses (an in-process one must
/// outlive the client).
async fn connect(target: &Target) -> meetkit::Result<(Client, Option<sim::SimInUse>)> {
    connect_with(target, None).await
}

/// [`connect`], choosing where NetEase callbacks are received (`host:port`). With --sim the
/// receiver address (a free loopback port unless given) becomes the profile's
/// `netease.callback_listen` and the simulator's callback URL, so `wait_event("netease", ...)`
/// and `meetkit webhook --sim` get the simulator's callbacks (a background simulator is
/// pointed there until [`sim::SimInUse::release`]). For other targets a given address
/// overrides the profile's `callback_listen`.
async fn connect_with(
    target: &Target,
    netease_listen: Option<String>,
) -> meetkit::Result<(Client, Option<sim::SimInUse>)> {
    let (profile, sim) = target_profile(target, netease_listen).await?;
    Ok((Client::from_profile_with(&profile, target.client_options())?, sim))
}

/// The profile `target` names (with --sim: the background simulator's, else a fresh one's).
async fn target_profile(
    target: &Target,
    netease_listen: Option<String>,
) -> meetkit::Result<(Profile, Option<sim::SimInUse>)> {
    if target.sim {
        let (value, sim) = sim::for_target(netease_listen).await?;
        return Ok((Profile::from_json("sim", &value)?, Some(sim)));
    }
    let profile = match &target.profile_json {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::config(format!("--profile-json {}: {e}", path.display())))?;
            let value: Value = serde_json::from_str(text.lines().next().unwrap_or_default())
                .map_err(|e| Error::config(format!("--profile-json {}: not JSON: {e}", path.display())))?;
            Profile::from_json(&path.display().to_string(), &value)?
        }
        None => Profile::load(target.config.as_deref(), target.profile.as_deref())?,
    };
    let mut profile = profile;
    if let (Some(listen), Some(netease)) = (netease_listen, profile.netease.as_mut()) {
        netease.callback_listen = Some(listen);
    }
    Ok((profile, None))
}

/// `meetkit doctor`: every check of every configured vendor; fails when one fails.
async fn doctor(target: Target, output: Output) -> meetkit::Result<()> {
    let (profile, _sim) = target_profile(&target, None).await?;
    let client = Client::from_profile_with(&profile, target.client_options())?;
    let checks = tokio::select! {
        c = meetkit::doctor::doctor(&profile, &client) => c,
        signal = Signal::next() => return Err(signal.cancelled()),
    };
    close(&client).await;
    let mut out = std::io::stdout().lock();
    match output {
        Output::Json => {
            let v = serde_json::json!({"profile": profile.name, "ok": checks.iter().all(|c| c.ok), "checks": checks});
            let _ = writeln!(out, "{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        Output::Table => {
            let _ = writeln!(out, "profile {}", profile.name);
            if checks.is_empty() {
                let _ = writeln!(out, "  no vendor is configured: see `meetkit profile show` and docs/profile.md");
            }
            for c in &checks {
                let mark = if c.ok { "ok  " } else { "FAIL" };
                let _ = writeln!(out, "{mark} {:<8} {:<9} {} ({} ms)", c.vendor.as_str(), c.check, c.detail, c.ms);
                if let Some(fix) = &c.fix {
                    let _ = writeln!(out, "     fix: {fix}");
                }
            }
        }
    }
    let _ = out.flush();
    match checks.iter().find(|c| !c.ok) {
        None if checks.is_empty() => Err(Error::config("no vendor is configured in this profile")),
        None => Ok(()),
        Some(first) => {
            let failed = checks.iter().filter(|c| !c.ok).count();
            let message =
                format!("{failed} check(s) failed; the first: {} {}: {}", first.vendor, first.check, first.detail);
            // The exit code follows the first failure's kind (5 credentials, 4 network, 7 configuration).
            Err(match first.kind {
                Some("auth") => Error::Auth { vendor: first.vendor, message },
                Some("transport" | "timeout") => {
                    Error::Transport { vendor: first.vendor, endpoint: "doctor".into(), message, before_send: true }
                }
                _ => Error::config(message),
            })
        }
    }
}

async fn call(args: CallArgs) -> meetkit::Result<()> {
    let vendor: Vendor = args.vendor.parse()?;
    // Check the id and parameters before starting anything.
    let spec = Client::spec(vendor, &args.endpoint)?;
    let params_text = args.params.as_deref().map(params_source).transpose()?;
    let mut params = match &params_text {
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => m,
            Ok(_) | Err(_) => {
                return Err(Error::InvalidParams {
                    vendor,
                    endpoint: spec.id.into(),
                    param: "--params".into(),
                    reason: format!(
                        "expected a JSON object like '{{\"room_id\": \"r1\"}}'; signature: {}",
                        spec.signature()
                    ),
                })
            }
        },
        None => Map::new(),
    };
    for kv in &args.param {
        let (k, v) = split_assignment(kv, "-p")?;
        let v = param_value(spec, &k, v);
        params.insert(k, v);
    }
    let params = Value::Object(params);
    spec.validate(&params)?;
    let (client, _sim) = connect(&args.target).await?;
    let caller = client.with_secrets(args.allow_secrets);
    let result = tokio::select! {
        r = caller.call(vendor, spec.id, params) => r,
        signal = Signal::next() => Err(signal.cancelled()),
    };
    // End every session the call opened (vmr), whatever happened, before the process goes.
    close(&client).await;
    let result = result?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", serde_json::to_string_pretty(&result).unwrap_or_default());
    Ok(())
}

/// How long ending the sessions of a client may take when meetkit exits.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// End every vendor session `client` opened (vmr host sessions), bounded by
/// [`CLOSE_TIMEOUT`]; failures are logged, never fatal (the work itself is done).
async fn close(client: &Client) {
    match tokio::time::timeout(CLOSE_TIMEOUT, client.close()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "ending the vendor sessions failed"),
        Err(_) => tracing::warn!("ending the vendor sessions took longer than {CLOSE_TIMEOUT:?}; gave up"),
    }
}

/// The signals meetkit stops on: each ends the work in flight, runs cleanup and exits with
/// 128 + the signal number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signal {
    Interrupt,
    Terminate,
    HangUp,
}

/// The signal streams, created once when meetkit starts so that a signal arriving before
/// anyone waits for it is still seen (and does not kill the process before cleanup).
#[cfg(unix)]
static SIGNALS: std::sync::OnceLock<tokio::sync::Mutex<[Option<tokio::signal::unix::Signal>; 3]>> =
    std::sync::OnceLock::new();

/// The signal that stopped the command, if one did.
static STOPPED_BY: std::sync::OnceLock<Signal> = std::sync::OnceLock::new();

impl Signal {
    /// Start catching SIGINT, SIGTERM and SIGHUP (call once, inside the runtime).
    fn install() {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let streams = [
                signal(SignalKind::interrupt()).ok(),
                signal(SignalKind::terminate()).ok(),
                signal(SignalKind::hangup()).ok(),
            ];
            let _ = SIGNALS.set(tokio::sync::Mutex::new(streams));
        }
    }

    /// The next SIGINT, SIGTERM or SIGHUP (only Ctrl-C where the others do not exist).
    async fn next() -> Signal {
        #[cfg(unix)]
        if let Some(signals) = SIGNALS.get() {
            async fn recv(s: Option<&mut tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            let mut guard = signals.lock().await;
            let [int, term, hup] = &mut *guard;
            return tokio::select! {
                _ = recv(int.as_mut()) => Signal::Interrupt,
                _ = recv(term.as_mut()) => Signal::Terminate,
                _ = recv(hup.as_mut()) => Signal::HangUp,
            };
        }
        let _ = tokio::signal::ctrl_c().await;
        Signal::Interrupt
    }

    fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
            Signal::HangUp => "SIGHUP",
        }
    }

    /// The exit code: 128 + the signal number.
    fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
            Signal::HangUp => 129,
        }
    }

    /// The error a command ends with when this signal stopped it; the exit code follows the
    /// signal ([`exit_code`]).
    fn cancelled(self) -> Error {
        let _ = STOPPED_BY.set(self);
        Error::Cancelled { reason: format!("{} received", self.name()) }
    }
}

fn endpoints(args: EndpointsArgs, output: Output) -> meetkit::Result<()> {
    let vendors: Vec<Vendor> = match &args.vendor {
        Some(v) => vec![v.parse()?],
        None => Vendor::ALL.to_vec(),
    };
    let mut out = std::io::stdout().lock();
    if let (Some(id), [vendor]) = (&args.endpoint, vendors.as_slice()) {
        let spec = Client::spec(*vendor, id)?;
        match output {
            Output::Json => {
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&meetkit::reference::endpoint_json(spec)).unwrap_or_default()
                );
            }
            Output::Table => {
                let _ = write!(out, "{}", meetkit::reference::endpoint_markdown(spec));
            }
        }
        return Ok(());
    }
    if args.markdown {
        let only: Vec<Vendor> = if args.vendor.is_some() { vendors } else { Vec::new() };
        let _ = write!(out, "{}", meetkit::reference::markdown(&only));
        return Ok(());
    }
    if output == Output::Json {
        let all: Vec<Value> =
            vendors.iter().flat_map(|v| Client::endpoints(*v)).map(meetkit::reference::endpoint_json).collect();
        let _ = writeln!(out, "{}", serde_json::to_string_pretty(&all).unwrap_or_default());
        return Ok(());
    }
    for v in vendors {
        let table = Client::endpoints(v);
        if table.is_empty() {
            let _ = writeln!(out, "# {v}: {} — not supported by this build yet", v.title());
            continue;
        }
        let _ = writeln!(out, "# {v}: {} — {} endpoints", v.title(), table.len());
        let width = table.iter().map(|e| e.id.len()).max().unwrap_or(0);
        for e in table {
            let _ = writeln!(out, "{:width$}  {}", e.id, e.summary);
        }
    }
    Ok(())
}

fn capabilities(args: CapabilitiesArgs, output: Output) -> meetkit::Result<()> {
    use meetkit::meeting::{capabilities_json, capabilities_markdown_for, CapabilityRow, Verb};
    let vendors: Vec<Vendor> = match &args.vendor {
        Some(v) => vec![v.parse()?],
        None => Vendor::ALL.to_vec(),
    };
    let mut out = std::io::stdout().lock();
    if args.markdown {
        let _ = write!(out, "{}", capabilities_markdown_for(&vendors));
        return Ok(());
    }
    if output == Output::Json {
        let all: serde_json::Map<String, Value> =
            vendors.iter().map(|v| (v.as_str().to_string(), capabilities_json(*v))).collect();
        let _ = writeln!(out, "{}", serde_json::to_string_pretty(&all).unwrap_or_default());
        return Ok(());
    }
    let width = Verb::ALL.iter().map(|v| v.as_str().len()).max().unwrap_or(0);
    let pad = " ".repeat(width + 2);
    for (i, v) in vendors.into_iter().enumerate() {
        if i > 0 {
            let _ = writeln!(out);
        }
        let _ = writeln!(out, "# {v}: {}", v.title());
        for verb in Verb::ALL {
            let row = CapabilityRow::of(v, verb);
            let line = match (row.hint, row.note) {
                (Some(hint), _) => format!("no   {hint}"),
                (None, "") => format!("yes  {}", row.endpoints.join(" -> ")),
                (None, note) => format!("yes  {} — {note}", row.endpoints.join(" -> ")),
            };
            let _ = writeln!(out, "{:width$}  {line}", verb.as_str());
            if !row.options.is_empty() {
                let _ = writeln!(out, "{pad}     options: {}", row.options.join(", "));
            }
            for (option, why) in row.ignored {
                let _ = writeln!(out, "{pad}     ignores {option}: {why}");
            }
        }
    }
    Ok(())
}

fn script_api(args: ScriptApiArgs) -> meetkit::Result<()> {
    if args.markdown {
        print!("{}", meetkit::script::reference_markdown());
        return Ok(());
    }
    let dir = args.out.unwrap_or_else(|| PathBuf::from("."));
    let files = meetkit::script::write_definitions(&dir)?;
    for f in files {
        println!("{}", f.display());
    }
    Ok(())
}

async fn webhook(args: WebhookArgs) -> meetkit::Result<()> {
    let vendor: Vendor = args.vendor.parse()?;
    if vendor != Vendor::Netease {
        return Err(Error::config(format!("{vendor} sends no callbacks; `meetkit webhook` serves netease only")));
    }
    let listen = format!("{}:{}", args.bind, args.port);
    let dedup_journal = match args.no_journal {
        true => None,
        false => Some(open_journal(args.journal.as_deref())?.path().display().to_string()),
    };
    let (client, sim) = connect_with(&args.target, Some(listen.clone())).await?;
    let outcome = serve_webhook(&args, &client, sim.as_ref(), listen, dedup_journal).await;
    close(&client).await;
    if let Some(sim) = sim {
        sim.release().await;
    }
    outcome
}

/// The receiving part of `meetkit webhook`: events to standard output until a signal, the end of
/// the stream or its error.
async fn serve_webhook(
    args: &WebhookArgs,
    client: &Client,
    sim: Option<&sim::SimInUse>,
    listen: String,
    dedup_journal: Option<String>,
) -> meetkit::Result<()> {
    use futures::StreamExt;
    let params = serde_json::json!({
        "listen": listen,
        "dedup_journal": dedup_journal,
        "max_connections": args.max_connections,
        "header_timeout_secs": args.header_timeout,
        "body_timeout_secs": args.body_timeout,
    });
    let mut events = client.events(Vendor::Netease, params).await?;
    if let Some(sim) = sim {
        eprintln!("meetkit webhook: {}", sim.describe());
    }
    eprintln!("meetkit webhook: receiving netease callbacks on {listen} — Ctrl-C to stop");
    let outcome = loop {
        let next = tokio::select! {
            e = events.next() => e,
            _ = Signal::next() => break Ok(()),
        };
        let Some(event) = next else { break Ok(()) };
        let event = match event {
            Ok(event) => event,
            Err(e) => break Err(e),
        };
        let line = serde_json::to_value(&event).unwrap_or_default();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    drop(events);
    outcome
}

async fn run(args: RunArgs, output: Output) -> meetkit::Result<()> {
    let mut vars = Map::new();
    for kv in &args.set {
        let (k, v) = split_assignment(kv, "--set")?;
        vars.insert(k, json_or_text(v));
    }
    if !args.script.is_file() {
        return Err(Error::Io {
            path: args.script.clone(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "script not found"),
        });
    }
    let grace = seconds_arg("--grace", args.grace)?;
    let timeout = args.timeout.map(|t| seconds_arg("--timeout", t)).transpose()?;
    let max_memory = meetkit::memory::parse_size(&args.max_memory, "--max-memory")?;
    let journal = match args.no_journal {
        true => None,
        false => Some(open_journal(args.journal.as_deref())?),
    };
    let limits = Limits { timeout, cleanup_timeout: grace, max_memory: Some(max_memory), ..Limits::default() };
    // With --sim the run receives NetEase callbacks on a port of its own: a background
    // simulator shared with other commands delivers every event to each of them.
    let listen = if args.target.sim { Some(sim::free_loopback()?) } else { None };
    let (client, sim) = connect_with(&args.target, listen).await?;
    let result = run_connected(&args, output, client, sim.as_ref(), journal, vars, limits).await;
    if let Some(sim) = sim {
        sim.release().await;
    }
    result
}

/// The part of `meetkit run` after connecting: the script under the run journal, Ctrl-C, the
/// result. Every way out of it comes back to [`run`], which releases the simulator.
async fn run_connected(
    args: &RunArgs,
    output: Output,
    client: Client,
    sim: Option<&sim::SimInUse>,
    journal: Option<Arc<meetkit::journal::Journal>>,
    vars: Map<String, Value>,
    limits: Limits,
) -> meetkit::Result<()> {
    let grace = limits.cleanup_timeout;
    let run_journal = match &journal {
        Some(j) => Some(j.begin_run(
            &args.script.display().to_string(),
            client.profile_name(),
            &profile_source(&args.target, sim),
        )?),
        None => None,
    };
    if let Some(rj) = &run_journal {
        tracing::info!(run = rj.id(), journal = %rj.journal().path().display(), "run journal");
    }
    let client = match &run_journal {
        Some(rj) => client.with_journal(rj.clone()),
        None => client,
    };
    let cancel = CancellationToken::new();
    let options = ScriptOptions {
        out_dir: args.out.clone(),
        vars,
        limits,
        cancel: cancel.clone(),
        progress: Some(progress_bars()),
        env_allow: args.env.clone(),
        allow_secrets: args.allow_secrets,
        ..ScriptOptions::default()
    };
    let runtime = tokio::runtime::Handle::current();
    let script = args.script.clone();
    let script_client = client.clone();
    let script_run = meetkit::blocking::ScriptRun::start_file(script, script_client, runtime, options)?;
    let task = tokio::task::spawn_blocking(move || script_run.wait());
    tokio::pin!(task);
    let mut signalled = None;
    let outcome = tokio::select! {
        r = &mut task => r,
        signal = Signal::next() => {
            signalled = Some(signal);
            eprintln!(
                "\n{}: stopping… (on_exit blocks run for at most {}s, then vendor sessions are ended; \
                 a second signal exits at once)",
                signal.name(),
                grace.as_secs_f64()
            );
            cancel.cancel();
            tokio::spawn(async move {
                let second = Signal::next().await;
                eprintln!("{}: exiting at once", second.name());
                std::process::exit(i32::from(signal.exit_code()));
            });
            // on_exit blocks have `grace`; ending the sessions has CLOSE_TIMEOUT on top.
            match tokio::time::timeout(grace + Duration::from_secs(1), &mut task).await {
                Ok(r) => r,
                Err(_) => {
                    eprintln!("{}: on_exit blocks did not finish within --grace {}s", signal.name(), grace.as_secs_f64());
                    Ok(Err(signal.cancelled()))
                }
            }
        }
    };
    close(&client).await;
    let result = outcome
        .map_err(|e| Error::Script {
            message: format!("the script thread failed: {e}"),
            file: None,
            line: None,
            column: None,
        })
        .and_then(|r| r)
        .map(|value| {
            if output == Output::Json {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", serde_json::to_string(&value).unwrap_or_default());
            }
        });
    let result = match signalled {
        Some(signal) => Err(signal.cancelled()),
        None => result,
    };
    if let Some(rj) = &run_journal {
        rj.finish(result.as_ref().err());
        // Only a failed run reads the journal back, to say what it may have left running.
        let left = match result {
            Err(_) => rj.journal().run(rj.id()).map(|d| d.run.left_running).unwrap_or(0),
            Ok(()) => 0,
        };
        if left > 0 {
            eprintln!(
                "run {}: {left} thing(s) it started may still be running; `meetkit runs show {}` lists them, \
                 `meetkit runs cleanup {}` stops them",
                rj.id(),
                rj.id(),
                rj.id()
            );
        }
    }
    result
}

/// Open the run journal at `path`, or the default one.
fn open_journal(path: Option<&std::path::Path>) -> meetkit::Result<Arc<meetkit::journal::Journal>> {
    let path = path.map(PathBuf::from).unwrap_or_else(meetkit::journal::Journal::default_path);
    meetkit::journal::Journal::open(&path).map_err(|e| match e {
        Error::Config { message } => {
            Error::config(format!("{message} (give another file with --journal, or run with --no-journal)"))
        }
        other => other,
    })
}

/// Where a target's profile comes from, as the journal records it (never a secret):
/// `sim` (a fresh simulator), `sim:<dir>` (the one `meetkit sim start` runs from dir),
/// `json:<absolute file>`, or `config`.
fn profile_source(target: &Target, sim: Option<&sim::SimInUse>) -> String {
    if let Some(sim) = sim {
        return sim.journal_source();
    }
    match &target.profile_json {
        Some(p) => format!("json:{}", std::path::absolute(p).unwrap_or_else(|_| p.clone()).display()),
        None => "config".into(),
    }
}

async fn runs(args: RunsArgs, output: Output) -> meetkit::Result<()> {
    use meetkit::journal::{self, RunDetail, RunSummary};
    let journal = open_journal(args.journal.as_deref())?;
    let json = output == Output::Json;
    let mut out = std::io::stdout().lock();
    let when =
        |t: f64| httpdate::fmt_http_date(std::time::UNIX_EPOCH + Duration::try_from_secs_f64(t).unwrap_or_default());
    match args.command {
        RunsCommand::List => {
            let list: Vec<RunSummary> = journal.runs()?;
            if json {
                let _ = writeln!(out, "{}", serde_json::to_string_pretty(&list).unwrap_or_default());
                return Ok(());
            }
            if list.is_empty() {
                let _ = writeln!(out, "no runs in {}", journal.path().display());
                return Ok(());
            }
            let _ = writeln!(
                out,
                "{:<20} {:<11} {:<29} {:>5} {:>5}  script (profile)",
                "id", "status", "started", "calls", "left"
            );
            for r in list {
                let _ = writeln!(
                    out,
                    "{:<20} {:<11} {:<29} {:>5} {:>5}  {} ({})",
                    r.id,
                    r.status.as_str(),
                    when(r.started_at),
                    r.calls,
                    r.left_running,
                    r.script,
                    r.profile
                );
            }
        }
        RunsCommand::Show { id } => {
            let d: RunDetail = journal.run(&id)?;
            if json {
                let _ = writeln!(out, "{}", serde_json::to_string_pretty(&d).unwrap_or_default());
                return Ok(());
            }
            let r = &d.run;
            let _ = writeln!(
                out,
                "run {} — {} ({} {}), pid {}",
                r.id,
                r.status.as_str(),
                r.profile,
                r.profile_source,
                r.pid
            );
            let _ = writeln!(out, "script:  {}", r.script);
            let _ = writeln!(out, "started: {}", when(r.started_at));
            if let Some(e) = r.ended_at {
                let _ = writeln!(out, "ended:   {}", when(e));
            }
            if let Some(e) = &r.error {
                let _ = writeln!(out, "error:   {e}");
            }
            let _ = writeln!(out, "\ncalls ({}):", d.calls.len());
            for c in &d.calls {
                let code = c.code.as_deref().map(|c| format!(" {c}")).unwrap_or_default();
                let _ =
                    writeln!(out, "  {:<8} {:<32} {}{code} {:.0} ms", c.vendor, c.endpoint, c.outcome, c.duration_ms);
            }
            let _ = writeln!(out, "\nstarted ({}, {} still running):", d.resources.len(), r.left_running);
            for x in &d.resources {
                let state = match (&x.stopped_by, x.stopped_at) {
                    (Some(by), Some(_)) => format!("stopped ({by})"),
                    _ => "RUNNING".to_string(),
                };
                let _ = writeln!(
                    out,
                    "  {:<8} {:<12} {:<16} by {:<28} stop: {} {}",
                    x.vendor,
                    x.kind,
                    state,
                    x.start_endpoint,
                    x.stop_endpoint,
                    serde_json::Value::Object(x.stop_params.clone())
                );
            }
            let _ = writeln!(out, "\nfiles ({}):", d.files.len());
            for f in &d.files {
                let _ = writeln!(out, "  {} {} bytes {}", f.path, f.size, f.md5.as_deref().unwrap_or(""));
            }
        }
        RunsCommand::Cleanup { id, end_rooms, dry_run, target } => {
            let run = journal.run(&id)?.run;
            let client = cleanup_client(&run, &target).await?;
            let steps = journal::cleanup(&journal, &client, &id, end_rooms, dry_run).await;
            close(&client).await;
            let steps = steps?;
            if json {
                let _ = writeln!(out, "{}", serde_json::to_string_pretty(&steps).unwrap_or_default());
            } else if steps.is_empty() {
                let _ = writeln!(out, "run {id}: nothing left running");
            } else {
                for s in &steps {
                    let x = &s.resource;
                    let detail = s.detail.as_deref().map(|d| format!(" — {d}")).unwrap_or_default();
                    let _ = writeln!(
                        out,
                        "{:<15} {:<8} {:<12} {} {}{detail}",
                        s.outcome,
                        x.vendor,
                        x.kind,
                        x.stop_endpoint,
                        serde_json::Value::Object(x.stop_params.clone())
                    );
                }
                if steps.iter().any(|s| s.outcome == "kept") {
                    let _ = writeln!(out, "(rooms and meetings are kept; --end-rooms ends them)");
                }
            }
            if let Some(failed) = steps.iter().find(|s| s.outcome == "failed") {
                return Err(Error::config(format!(
                    "run {id}: could not stop {} {} ({}); run the cleanup again when the server answers",
                    failed.resource.vendor,
                    failed.resource.kind,
                    failed.detail.as_deref().unwrap_or("")
                )));
            }
        }
    }
    Ok(())
}

/// A client for the servers a journaled run used: the given target, else the run's profile.
async fn cleanup_client(run: &meetkit::journal::RunSummary, target: &Target) -> meetkit::Result<Client> {
    if target.sim {
        if sim::background(&sim::sim_dir()).await?.is_none() {
            return Err(Error::config(
                "--sim: no simulator from `meetkit sim start` is running, and a fresh one is empty: give the \
                 profile the run used (or none: its own is used)",
            ));
        }
        return Ok(connect(target).await?.0);
    }
    if target.profile.is_some() || target.profile_json.is_some() || target.config.is_some() {
        return Ok(connect(target).await?.0);
    }
    match run.profile_source.as_str() {
        "sim" => Err(Error::config(format!(
            "run {} used the in-process simulator (--sim), which ended with it: nothing is left running",
            run.id
        ))),
        source if source.starts_with("sim:") => {
            let dir = PathBuf::from(&source["sim:".len()..]);
            match sim::background(&dir).await? {
                Some((_, profile)) => {
                    Ok(Client::from_profile_with(&Profile::from_json("sim", &profile)?, target.client_options())?)
                }
                None => Err(Error::config(format!(
                    "run {} used the simulator of `meetkit sim start` in {}, which is no longer running: \
                     nothing it started is left",
                    run.id,
                    dir.display()
                ))),
            }
        }
        source => {
            let target = Target {
                sim: false,
                profile: source.strip_prefix("json:").is_none().then(|| run.profile.clone()).filter(|p| p != "env"),
                config: None,
                profile_json: source.strip_prefix("json:").map(PathBuf::from),
                capture: target.capture.clone(),
            };
            Ok(connect(&target).await?.0)
        }
    }
}

/// A number of seconds from the command line: finite, positive and at most a year.
fn seconds_arg(flag: &str, secs: f64) -> meetkit::Result<Duration> {
    if !(secs.is_finite() && secs > 0.0 && secs <= 365.0 * 86_400.0) {
        return Err(Error::config(format!(
            "{flag} {secs}: expected a number of seconds greater than 0 and at most 31536000"
        )));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| Error::config(format!("{flag} {secs}: {e}")))
}

/// One indicatif bar per file being downloaded (hidden when stderr is not a terminal).
fn progress_bars() -> meetkit::script::ProgressFn {
    let multi = MultiProgress::new();
    let bars: Arc<Mutex<HashMap<String, ProgressBar>>> = Arc::default();
    let style = ProgressStyle::with_template("{msg:30!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    Arc::new(move |p| {
        let mut bars = bars.lock().unwrap_or_else(|e| e.into_inner());
        let bar = bars.entry(p.file_name.clone()).or_insert_with(|| {
            let b = multi.add(ProgressBar::new(p.total.unwrap_or(0)));
            b.set_style(style.clone());
            b.set_message(p.file_name.clone());
            b
        });
        if let Some(total) = p.total {
            bar.set_length(total);
        }
        bar.set_position(p.downloaded);
        if p.total.is_some_and(|t| p.downloaded >= t) {
            bar.finish();
        }
    })
}

/// The text of `--params`: inline JSON, `@FILE`, or `-` for stdin.
fn params_source(arg: &str) -> meetkit::Result<String> {
    use std::io::Read;
    if arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Error::config(format!("--params -: cannot read stdin: {e}")))?;
        return Ok(text);
    }
    match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).map_err(|e| Error::config(format!("--params @{path}: {e}"))),
        None => Ok(arg.to_string()),
    }
}

/// `NAME=VALUE` split into the trimmed name and the value's text, as typed.
fn split_assignment<'a>(kv: &'a str, flag: &str) -> meetkit::Result<(String, &'a str)> {
    let (k, v) = kv
        .split_once('=')
        .filter(|(k, _)| !k.trim().is_empty())
        .ok_or_else(|| Error::config(format!("{flag} {kv}: expected NAME=VALUE")))?;
    Ok((k.trim().to_string(), v))
}

/// A `-p` value typed by the endpoint table: JSON for object/array (and untyped) parameters,
/// text for everything else. The core's normalisation then converts text given for an
/// int/number/bool parameter (`-p replay_times=3`) and refuses what does not convert, so
/// `-p room_id=0012` stays "0012" and `-p pin=123456` stays a string where the table says so.
fn param_value(spec: &meetkit::endpoint::EndpointSpec, name: &str, text: &str) -> Value {
    use meetkit::endpoint::ParamType;
    match spec.param(name).map(|p| p.ty) {
        Some(ParamType::Object | ParamType::Array | ParamType::Any) => json_or_text(text),
        _ => Value::String(text.to_string()),
    }
}

/// `text` as JSON if it parses, else as a string (script variables have no table).
fn json_or_text(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

fn report(e: &Error, output: Output) {
    let mut err = std::io::stderr().lock();
    if output == Output::Json {
        let _ = writeln!(err, "{}", serde_json::json!({ "error": e.to_json() }));
        return;
    }
    let _ = writeln!(err, "error: {e}");
    if let Error::Api { vendor, endpoint, code, message, meaning, request_id, .. } = e {
        let _ =
            writeln!(err, "  vendor:   {vendor}\n  endpoint: {endpoint}\n  code:     {code}\n  message:  {message}");
        if let Some(m) = meaning {
            let _ = writeln!(err, "  meaning:  {m}");
        }
        if let Some(r) = request_id {
            let _ = writeln!(err, "  request:  {r}");
        }
    }
}

/// The exit code of an error, by its kind (an error a script did not catch keeps its kind).
fn exit_code(e: &Error) -> u8 {
    if let Error::Cancelled { .. } = e {
        return STOPPED_BY.get().map_or(130, |s| s.exit_code());
    }
    // HTTP 401/403 means the credentials were refused, whichever vendor answered.
    if e.kind() == "http" && matches!(e.vendor_code().as_deref(), Some("401" | "403")) {
        return 5;
    }
    match e.kind() {
        "invalid_params" | "unknown_endpoint" | "unsupported" => 2,
        "api" => 3,
        "transport" | "timeout" | "outcome_unknown" | "http" | "decode" => 4,
        "auth" => 5,
        "script" => 6,
        "config" => 7,
        "integrity" | "io" => 8,
        "time_limit" => 124,
        "memory_limit" => 9,
        "cancelled" => 130,
        _ => 1,
    }
}

fn init_tracing(verbose: u8, format: LogFormat) {
    use std::io::IsTerminal;
    let default = match verbose {
        0 => "warn",
        1 => "meetkit=info,warn",
        2 => "meetkit=debug,warn",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MEETKIT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| meetkit::secret::RedactingWriter(std::io::stderr()));
    let _ = match format {
        LogFormat::Text => builder.with_ansi(colour).try_init(),
        LogFormat::Json => builder.json().with_current_span(false).try_init(),
    };
}
