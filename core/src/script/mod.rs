//! The Rhai workflow runtime behind `meetkit run`.
//!
//! A script talks to vendors through handles generated from the endpoint tables:
//!
//! ```rhai
//! let avd = vendor("avd");
//! let room = avd.call("room.create", #{ room_id: "weekly", user_id: "ops" });
//! try {
//!     avd.call("room.create", #{ room_id: "weekly", user_id: "ops" });
//! } catch (e) {
//!     print(`${e.vendor} ${e.endpoint} failed with ${e.code}: ${e.message}`);
//! }
//! ```
//!
//! Scripts run on a plain thread (never a tokio worker); every vendor call enters
//! the shared runtime with `block_on`. Limits (operations, call depth, sizes,
//! wall-clock time) are explicit and the same in debug and release builds; a run
//! can be cancelled through [`ScriptOptions::cancel`]. Scripts cannot start
//! processes and write files only under [`ScriptOptions::out_dir`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rhai::{Dynamic, Engine, EvalAltResult, Position, Scope};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::download::Progress;
use crate::{Client, Error, Result};

mod stdlib;

/// Resource limits of one run.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Rhai operations (default 50 million).
    pub max_operations: u64,
    /// Function call depth (default 64).
    pub max_call_depth: usize,
    /// Longest string in bytes (default 16 MiB).
    pub max_string_size: usize,
    /// Largest array (default 100,000 items).
    pub max_array_size: usize,
    /// Largest map (default 100,000 entries).
    pub max_map_size: usize,
    /// Wall-clock time for the whole run (default none).
    pub timeout: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 50_000_000,
            max_call_depth: 64,
            max_string_size: 16 << 20,
            max_array_size: 100_000,
            max_map_size: 100_000,
            timeout: None,
        }
    }
}

/// Called for every download progress update of a script.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;
/// Receives the script's `print` output.
pub type PrintFn = Arc<dyn Fn(&str) + Send + Sync>;

/// How to run a script.
#[derive(Clone)]
pub struct ScriptOptions {
    /// Where `download` writes (created on demand). Default `./recordings`.
    pub out_dir: PathBuf,
    /// Script variables (`--set name=value`), visible as globals.
    pub vars: Map<String, Value>,
    /// Resource limits.
    pub limits: Limits,
    /// Cancel the run from outside (Ctrl-C).
    pub cancel: CancellationToken,
    /// Download progress sink (the CLI draws bars with it).
    pub progress: Option<ProgressFn>,
    /// Where `print` goes (default: stdout).
    pub print: PrintFn,
}

impl Default for ScriptOptions {
    fn default() -> Self {
        ScriptOptions {
            out_dir: PathBuf::from("recordings"),
            vars: Map::new(),
            limits: Limits::default(),
            cancel: CancellationToken::new(),
            progress: None,
            print: Arc::new(|s| println!("{s}")),
        }
    }
}

impl std::fmt::Debug for ScriptOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptOptions")
            .field("out_dir", &self.out_dir)
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// What the runtime needs at call time, shared by all registered functions.
#[derive(Clone)]
pub(crate) struct Host {
    pub client: Client,
    pub runtime: tokio::runtime::Handle,
    pub options: ScriptOptions,
    /// Event subscriptions opened by `wait_event`, per vendor, with the events that
    /// arrived but were not waited for yet.
    pub events: Arc<std::sync::Mutex<std::collections::HashMap<crate::Vendor, stdlib::EventBuffer>>>,
}

impl Host {
    /// Run a future to completion on the shared runtime, aborting it if the run is cancelled.
    pub fn block_on<T>(&self, fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        let cancel = self.options.cancel.clone();
        self.runtime.block_on(async move {
            tokio::select! {
                r = fut => r,
                _ = cancel.cancelled() => Err(Error::Cancelled { reason: "the run was cancelled".into() }),
            }
        })
    }
}

/// Run the script file at `path`. Blocking: call it from a plain thread (or
/// `spawn_blocking`), never from inside an async task. Returns the script's last
/// value as JSON.
pub fn run_file(
    path: &Path,
    client: &Client,
    runtime: tokio::runtime::Handle,
    options: ScriptOptions,
) -> Result<Value> {
    let source = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    run_source(&source, Some(&path.display().to_string()), client, runtime, options)
}

/// Run script source text; `name` is used in error positions.
pub fn run_source(
    source: &str,
    name: Option<&str>,
    client: &Client,
    runtime: tokio::runtime::Handle,
    options: ScriptOptions,
) -> Result<Value> {
    let host = Host { client: client.clone(), runtime, options, events: Arc::default() };
    let engine = build_engine(&host);
    let file = name.map(str::to_string);
    let ast = engine.compile(source).map_err(|e| {
        let pos = e.position();
        script_error(e.to_string(), &file, pos)
    })?;
    let mut scope = Scope::new();
    for (k, v) in &host.options.vars {
        let value = rhai::serde::to_dynamic(v).map_err(|e| Error::config(format!("--set {k}: {e}")))?;
        scope.push(k.clone(), value);
    }
    let result = engine.eval_ast_with_scope::<Dynamic>(&mut scope, &ast);
    match result {
        Ok(v) => rhai::serde::from_dynamic::<Value>(&v).or(Ok(Value::String(v.to_string()))),
        Err(e) => Err(convert_error(*e, &file, &host)),
    }
}

fn build_engine(host: &Host) -> Engine {
    let mut engine = Engine::new();
    let l = &host.options.limits;
    engine
        .set_max_operations(l.max_operations)
        .set_max_call_levels(l.max_call_depth)
        .set_max_string_size(l.max_string_size)
        .set_max_array_size(l.max_array_size)
        .set_max_map_size(l.max_map_size)
        .set_max_expr_depths(128, 64);
    let (started, timeout, cancel) = (Instant::now(), l.timeout, host.options.cancel.clone());
    engine.on_progress(move |_| {
        if cancel.is_cancelled() {
            return Some("cancelled".into());
        }
        match timeout {
            Some(t) if started.elapsed() > t => Some("timeout".into()),
            _ => None,
        }
    });
    let print = host.options.print.clone();
    engine.on_print(move |s| print(s));
    engine.on_debug(|s, _, pos| tracing::debug!(target: "meetkit::script", %pos, "{s}"));
    stdlib::register(&mut engine, host);
    engine
}

/// A meetkit error as the catchable map scripts see:
/// `#{vendor, endpoint, code, message, retryable, kind, detail}`.
pub(crate) fn error_map(e: &Error) -> rhai::Map {
    let mut m = rhai::Map::new();
    let text = |s: Option<String>| s.map(Dynamic::from).unwrap_or(Dynamic::UNIT);
    m.insert("vendor".into(), text(e.vendor().map(|v| v.to_string())));
    m.insert("endpoint".into(), text(e.endpoint().map(str::to_string)));
    m.insert("code".into(), text(e.vendor_code().or_else(|| Some(e.code().to_string()))));
    let message = match e {
        Error::Api { message, .. } => message.clone(),
        other => other.to_string(),
    };
    m.insert("message".into(), message.into());
    m.insert("retryable".into(), e.is_retryable().into());
    m.insert("kind".into(), e.code().into());
    m.insert("detail".into(), e.to_string().into());
    m
}

/// A meetkit error thrown into the script (catchable with `try`/`catch`).
pub(crate) fn throw(e: Error) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(error_map(&e).into(), Position::NONE))
}

fn script_error(message: String, file: &Option<String>, pos: Position) -> Error {
    Error::Script { message, file: file.clone(), line: pos.line(), column: pos.position() }
}

/// An uncaught Rhai error → [`Error`]: cancellation and limits keep their meaning,
/// thrown meetkit errors keep their text, and the position of the script is attached.
fn convert_error(e: EvalAltResult, file: &Option<String>, host: &Host) -> Error {
    let pos = e.position();
    match e {
        EvalAltResult::ErrorTerminated(reason, _) => {
            if host.options.cancel.is_cancelled() {
                Error::Cancelled { reason: "the run was cancelled".into() }
            } else {
                let reason = reason.into_string().unwrap_or_default();
                let limit = host.options.limits.timeout.map(|t| format!(" ({}s)", t.as_secs_f64())).unwrap_or_default();
                script_error(format!("script stopped: {reason}: wall-clock limit{limit} exceeded"), file, pos)
            }
        }
        EvalAltResult::ErrorRuntime(value, _) => {
            let text = match value.read_lock::<rhai::Map>() {
                Some(map) => match map.get("kind").map(|k| k.to_string()) {
                    Some(k) if k == "cancelled" => return Error::Cancelled { reason: "the run was cancelled".into() },
                    _ => map.get("detail").map(|d| d.to_string()).unwrap_or_else(|| format!("{map:?}")),
                },
                None => format!("uncaught: {value}"),
            };
            script_error(text, file, pos)
        }
        EvalAltResult::ErrorInFunctionCall(name, src, inner, _) => {
            let inner = convert_error(*inner, file, host);
            match inner {
                Error::Script { message, .. } => script_error(format!("in `{name}`{src}: {message}"), file, pos),
                other => other,
            }
        }
        other => {
            let mut message = other.to_string();
            // Rhai appends " (line l, position c)"; we print the position ourselves.
            if let Some(i) = message.rfind(" (line ") {
                message.truncate(i);
            }
            script_error(message, file, pos)
        }
    }
}
