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

const AFTER_HELP: &str = "\
Exit codes: 0 ok, 2 usage or invalid parameters, 3 the vendor answered with an error,
4 network/HTTP/timeout, 5 authentication, 6 script error, 7 configuration, 8 file or
integrity error, 130 cancelled (Ctrl-C).

Profiles come from --config FILE, $MEETKIT_CONFIG or ./meetkit.toml; MEETKIT_<VENDOR>_*
variables override them (e.g. MEETKIT_AVD_BASE_URL, MEETKIT_AVD_ACCESS_KEY,
MEETKIT_AVD_SECRET_KEY). --sim needs no configuration at all.";

/// meetkit: automate meetings on 3tee AVD, Kedacom, vmr and NetEase from Rhai scripts.
#[derive(Parser, Debug)]
#[command(name = "meetkit", version, after_help = AFTER_HELP, propagate_version = true)]
struct Cli {
    /// Log what meetkit does (-v info, -vv debug, -vvv trace); logs never contain secrets.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
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
    /// Serve the vendor simulators on loopback until interrupted.
    #[command(after_help = "\
Prints one JSON line first: per vendor its base_url and the credentials it accepts, in the
shape of a profile, e.g. {\"avd\": {\"base_url\": \"http://127.0.0.1:8100\", \"access_key\": ...}}.
Save it and use it with `meetkit call --profile-json FILE` or in a meetkit.toml profile.
Admin and fault injection: POST <base_url>/_sim/faults, /_sim/clock/advance, ...

Example:
  meetkit sim --port-base 8100")]
    Sim(SimArgs),
    /// Receive a vendor's callbacks (NetEase) and print each verified event as one JSON line.
    #[command(after_help = "\
Each verified, deduplicated callback is printed to stdout as one JSON line:
  {\"vendor\": \"netease\", \"type\": \"MEETING_ROOM_START\", \"data\": {\"msgType\": 1, \"msgBody\": {...}}, \"received_at_ms\": ...}
Callbacks with a missing or bad CheckSum or a stale CurTime are refused (401); resends of an
event already printed are answered 200 and not printed again.

Examples:
  meetkit webhook netease --port 8788 --profile prod     # callback URL: http://<host>:8788/netease/callback
  meetkit webhook netease --port 8788 --bind 0.0.0.0 --profile prod
  meetkit webhook netease --port 8788 --sim               # the simulator calls back here")]
    Webhook(WebhookArgs),
}

#[derive(Args, Debug)]
struct Target {
    /// Use the built-in simulators (started in-process); no account needed.
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
    /// A script variable, NAME=VALUE (VALUE is JSON if it parses, else a string). Repeatable.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// Stop the script after this many seconds.
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
}

#[derive(Args, Debug)]
struct CallArgs {
    /// Vendor id: avd, kedacom, vmr, netease.
    vendor: String,
    /// Endpoint id, e.g. room.create (see `meetkit endpoints`).
    endpoint: String,
    /// Parameters as one JSON object.
    #[arg(long, value_name = "JSON")]
    params: Option<String>,
    /// One parameter, KEY=VALUE (VALUE is JSON if it parses, else a string). Repeatable.
    #[arg(short = 'p', long = "param", value_name = "KEY=VALUE")]
    param: Vec<String>,
    #[command(flatten)]
    target: Target,
}

#[derive(Args, Debug)]
struct EndpointsArgs {
    /// Only this vendor.
    vendor: Option<String>,
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
struct SimArgs {
    /// First port to bind (avd on N); default: free ports chosen by the OS.
    #[arg(long, value_name = "N")]
    port_base: Option<u16>,
    /// Accept only the one reading of each ambiguous vendor doc line that meetkit's client
    /// sends (docs/assumptions.md lists them) — what meetkit's own tests and `--sim` use.
    /// Without it the simulator is lenient and accepts every plausible reading, for pointing
    /// your own code at it.
    #[arg(long)]
    strict: bool,
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
    #[command(flatten)]
    target: Target,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("meetkit").build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(dispatch(cli.command));
    // Scripts may leave blocking threads sleeping; do not wait for them.
    runtime.shutdown_timeout(Duration::from_millis(100));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::from(exit_code(&e))
        }
    }
}

async fn dispatch(command: Command) -> meetkit::Result<()> {
    match command {
        Command::Run(args) => run(args).await,
        Command::Call(args) => call(args).await,
        Command::Endpoints(args) => endpoints(args),
        Command::Capabilities(args) => capabilities(args),
        Command::ScriptApi(args) => script_api(args),
        Command::Sim(args) => sim(args).await,
        Command::Webhook(args) => webhook(args).await,
    }
}

/// A client for the chosen target; with --sim, the simulator that must outlive it.
async fn connect(target: &Target) -> meetkit::Result<(Client, Option<meetkit_sim::Simulator>)> {
    connect_with(target, None).await
}

/// [`connect`], choosing where NetEase callbacks are received (`host:port`). With --sim the
/// receiver address (a free loopback port unless given) becomes the profile's
/// `netease.callback_listen` and the simulator's callback URL, so `wait_event("netease", ...)`
/// and `meetkit webhook --sim` get the simulator's callbacks. For other targets a given address
/// overrides the profile's `callback_listen`.
async fn connect_with(
    target: &Target,
    netease_listen: Option<String>,
) -> meetkit::Result<(Client, Option<meetkit_sim::Simulator>)> {
    if target.sim {
        let listen = match netease_listen {
            Some(l) => l,
            None => free_loopback_port()?,
        };
        let callback_path = "/netease/callback";
        let mut options = meetkit_sim::SimOptions::default();
        options.netease.callback_url = Some(format!("http://{}{callback_path}", loopback(&listen)));
        // Recordings appear a few seconds after a NetEase meeting ends, not a minute, so
        // --sim workflows finish quickly.
        options.netease.record_delay = Duration::from_secs(3);
        let sim = meetkit_sim::Simulator::start(options)
            .await
            .map_err(|e| Error::config(format!("cannot start the simulator: {e}")))?;
        let mut value = sim.profile();
        if let Some(netease) = value.get_mut("netease").and_then(Value::as_object_mut) {
            netease.insert("callback_listen".into(), Value::String(listen));
            netease.insert("callback_path".into(), Value::String(callback_path.into()));
        }
        let profile = Profile::from_json("sim", &value)?;
        return Ok((Client::from_profile_with(&profile, target.client_options())?, Some(sim)));
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
    Ok((Client::from_profile_with(&profile, target.client_options())?, None))
}

/// `127.0.0.1:<a port the OS says is free>` (it could be taken again before the receiver binds it;
/// the receiver then reports the address in use).
fn free_loopback_port() -> meetkit::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::config(format!("cannot find a free port for the netease callback receiver: {e}")))?;
    let addr = listener.local_addr().map_err(|e| Error::config(format!("netease callback receiver: {e}")))?;
    Ok(addr.to_string())
}

/// The address a local sender reaches `listen` at: `0.0.0.0:N`/`[::]:N` become loopback.
fn loopback(listen: &str) -> String {
    match listen.rsplit_once(':') {
        Some(("0.0.0.0", port)) => format!("127.0.0.1:{port}"),
        Some(("[::]", port)) => format!("[::1]:{port}"),
        _ => listen.to_string(),
    }
}

async fn call(args: CallArgs) -> meetkit::Result<()> {
    let vendor: Vendor = args.vendor.parse()?;
    // Check the id and parameters before starting anything.
    let spec = Client::spec(vendor, &args.endpoint)?;
    let mut params = match &args.params {
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
        params.insert(k, v);
    }
    let params = Value::Object(params);
    spec.validate(&params)?;
    let (client, _sim) = connect(&args.target).await?;
    let result = client.call(vendor, spec.id, params).await?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", serde_json::to_string_pretty(&result).unwrap_or_default());
    Ok(())
}

fn endpoints(args: EndpointsArgs) -> meetkit::Result<()> {
    let vendors: Vec<Vendor> = match &args.vendor {
        Some(v) => vec![v.parse()?],
        None => Vendor::ALL.to_vec(),
    };
    let mut out = std::io::stdout().lock();
    if args.markdown {
        let only: Vec<Vendor> = if args.vendor.is_some() { vendors } else { Vec::new() };
        let _ = write!(out, "{}", meetkit::reference::markdown(&only));
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

fn capabilities(args: CapabilitiesArgs) -> meetkit::Result<()> {
    use meetkit::meeting::{capabilities_markdown_for, capability, Capability, Verb};
    let vendors: Vec<Vendor> = match &args.vendor {
        Some(v) => vec![v.parse()?],
        None => Vendor::ALL.to_vec(),
    };
    let mut out = std::io::stdout().lock();
    if args.markdown {
        let _ = write!(out, "{}", capabilities_markdown_for(&vendors));
        return Ok(());
    }
    let width = Verb::ALL.iter().map(|v| v.as_str().len()).max().unwrap_or(0);
    for (i, v) in vendors.into_iter().enumerate() {
        if i > 0 {
            let _ = writeln!(out);
        }
        let _ = writeln!(out, "# {v}: {}", v.title());
        for verb in Verb::ALL {
            let line = match capability(v, verb) {
                Capability::Supported { endpoints, note: "" } => {
                    format!("yes  {}", endpoints.join(" -> "))
                }
                Capability::Supported { endpoints, note } => format!("yes  {} — {note}", endpoints.join(" -> ")),
                Capability::Unsupported { hint } => format!("no   {hint}"),
            };
            let _ = writeln!(out, "{:width$}  {line}", verb.as_str());
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

async fn sim(args: SimArgs) -> meetkit::Result<()> {
    let options = meetkit_sim::SimOptions { port_base: args.port_base, strict: args.strict, ..Default::default() };
    let sim = meetkit_sim::Simulator::start(options)
        .await
        .map_err(|e| Error::config(format!("cannot start the simulator: {e}")))?;
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
    let _ = tokio::signal::ctrl_c().await;
    sim.shutdown().await;
    Ok(())
}

async fn webhook(args: WebhookArgs) -> meetkit::Result<()> {
    use futures::StreamExt;
    let vendor: Vendor = args.vendor.parse()?;
    if vendor != Vendor::Netease {
        return Err(Error::config(format!("{vendor} sends no callbacks; `meetkit webhook` serves netease only")));
    }
    let listen = format!("{}:{}", args.bind, args.port);
    let (client, sim) = connect_with(&args.target, Some(listen.clone())).await?;
    let mut events = client.events(vendor, serde_json::json!({ "listen": listen })).await?;
    if let Some(sim) = &sim {
        eprintln!(
            "meetkit webhook: simulator at {} (admin: {}/_sim/netease/...); profile: {}",
            sim.netease_base_url(),
            sim.netease_base_url(),
            sim.profile()
        );
    }
    eprintln!("meetkit webhook: receiving netease callbacks on {listen} — Ctrl-C to stop");
    loop {
        let next = tokio::select! {
            e = events.next() => e,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let Some(event) = next else { return Ok(()) };
        let event = event?;
        let received_at_ms =
            event.received_at.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or_default();
        let line = serde_json::json!({
            "vendor": event.vendor.as_str(),
            "type": event.kind,
            "data": event.data,
            "received_at_ms": received_at_ms,
        });
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

async fn run(args: RunArgs) -> meetkit::Result<()> {
    let mut vars = Map::new();
    for kv in &args.set {
        let (k, v) = split_assignment(kv, "--set")?;
        vars.insert(k, v);
    }
    if !args.script.is_file() {
        return Err(Error::Io {
            path: args.script.clone(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "script not found"),
        });
    }
    let (client, _sim) = connect(&args.target).await?;
    let cancel = CancellationToken::new();
    let options = ScriptOptions {
        out_dir: args.out.clone(),
        vars,
        limits: Limits { timeout: args.timeout.map(Duration::from_secs_f64), ..Limits::default() },
        cancel: cancel.clone(),
        progress: Some(progress_bars()),
        ..ScriptOptions::default()
    };
    let runtime = tokio::runtime::Handle::current();
    let script = args.script.clone();
    let task = tokio::task::spawn_blocking(move || meetkit::script::run_file(&script, &client, runtime, options));
    tokio::pin!(task);
    let outcome = tokio::select! {
        r = &mut task => r,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("\ncancelling… (on_exit blocks still run; Ctrl-C again to quit at once)");
            cancel.cancel();
            tokio::spawn(async {
                let _ = tokio::signal::ctrl_c().await;
                std::process::exit(130);
            });
            task.await
        }
    };
    outcome.map_err(|e| Error::Script {
        message: format!("the script thread failed: {e}"),
        file: None,
        line: None,
        column: None,
    })??;
    Ok(())
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

fn split_assignment(kv: &str, flag: &str) -> meetkit::Result<(String, Value)> {
    let (k, v) = kv
        .split_once('=')
        .filter(|(k, _)| !k.trim().is_empty())
        .ok_or_else(|| Error::config(format!("{flag} {kv}: expected NAME=VALUE")))?;
    let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()));
    Ok((k.trim().to_string(), value))
}

fn report(e: &Error) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {e}");
    if let Error::Api { vendor, endpoint, code, message, meaning, request_id } = e {
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

fn exit_code(e: &Error) -> u8 {
    match e {
        Error::InvalidParams { .. } | Error::UnknownEndpoint { .. } | Error::Unsupported { .. } => 2,
        Error::Api { .. } => 3,
        Error::Transport { .. } | Error::Timeout { .. } | Error::Http { .. } | Error::Decode { .. } => 4,
        Error::Auth { .. } => 5,
        Error::Script { .. } => 6,
        Error::Config { .. } => 7,
        Error::Integrity { .. } | Error::Io { .. } => 8,
        Error::Cancelled { .. } => 130,
        _ => 1,
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "meetkit=info,info",
        2 => "meetkit=debug,info",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MEETKIT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
