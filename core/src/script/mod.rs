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
//! Scripts run on a plain thread (never a tokio worker); every vendor call enters the
//! shared runtime with `block_on`. Limits (operations, call depth, sizes, wall-clock
//! time) are explicit and the same in debug and release builds; a run can be cancelled
//! through [`ScriptOptions::cancel`]. Scripts cannot start processes, import modules,
//! `eval` strings or read secrets from the environment, and write files only under
//! [`ScriptOptions::out_dir`]. `on_exit` blocks run after the script, even when it failed
//! or was cancelled, with a fresh time budget of their own.
//!
//! Every function is listed in [`stdlib::FUNCTIONS`], which also generates the reference
//! in `docs/scripting.md`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use rhai::{Dynamic, Engine, EvalAltResult, FnPtr, Position, Scope, AST};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::download::Progress;
use crate::error::Uncaught;
use crate::{Client, Error, Result};

mod docs;
pub mod stdlib;

pub use docs::{reference_markdown, write_definitions};

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
    /// Wall-clock time for the script (default none).
    pub timeout: Option<Duration>,
    /// Wall-clock time for all `on_exit` blocks together (default 60 s).
    pub cleanup_timeout: Duration,
    /// Heap memory for the whole run, `parallel` branches included, in bytes (`--max-memory`).
    /// Default [`crate::memory::DEFAULT_MAX_MEMORY`] when [`crate::memory::CountingAlloc`] is
    /// the global allocator, else none; a budget given without that allocator is a `config`
    /// error. Past it the script stops with [`Error::MemoryLimit`]; `on_exit` blocks get
    /// [`crate::memory::Budget::cleanup_headroom`] more.
    pub max_memory: Option<u64>,
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
            cleanup_timeout: Duration::from_secs(60),
            max_memory: crate::memory::counting().then_some(crate::memory::DEFAULT_MAX_MEMORY),
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
    /// Cancel the run from outside (Ctrl-C). `on_exit` blocks still run.
    pub cancel: CancellationToken,
    /// Download progress sink (the CLI draws bars with it).
    pub progress: Option<ProgressFn>,
    /// Where `print` goes (default: stdout).
    pub print: PrintFn,
    /// Environment variables `env()` may read besides those named `MEETKIT_SCRIPT_*`
    /// (`meetkit run --env NAME`).
    pub env_allow: Vec<String>,
    /// Whether `v.call(...)` results keep their secret fields (tokens, passwords, PINs, keys).
    /// Default `false`: the script sees them as `***` (see [`crate::Client::with_secrets`]).
    pub allow_secrets: bool,
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
            env_allow: Vec::new(),
            allow_secrets: false,
        }
    }
}

impl std::fmt::Debug for ScriptOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptOptions")
            .field("out_dir", &self.out_dir)
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("limits", &self.limits)
            .field("env_allow", &self.env_allow)
            .field("allow_secrets", &self.allow_secrets)
            .finish_non_exhaustive()
    }
}

/// The phase a run is in: its cancellation token and wall-clock deadline. The cleanup
/// phase (`on_exit` blocks) gets a fresh token and deadline so it runs after Ctrl-C.
struct Phase {
    cancel: CancellationToken,
    deadline: Option<Instant>,
    cleanup: bool,
}

/// What the runtime needs at call time, shared by all registered functions.
pub(crate) struct Host {
    pub client: Client,
    pub runtime: tokio::runtime::Handle,
    pub options: ScriptOptions,
    phase: RwLock<Phase>,
    /// The operation count at which a stop was first seen (0: none yet).
    stop_seen_at: std::sync::atomic::AtomicU64,
    /// Event subscriptions opened by `wait_event`, per vendor, with the events that
    /// arrived but were not waited for yet.
    pub events: Mutex<std::collections::HashMap<crate::Vendor, Arc<tokio::sync::Mutex<stdlib::EventBuffer>>>>,
    /// `on_exit` blocks, in registration order, each with the line that registered it.
    pub on_exit: Mutex<Vec<(FnPtr, Position)>>,
    /// The run's memory budget, charged on the script thread and its `parallel` branches.
    pub budget: Option<Arc<crate::memory::Budget>>,
    /// What the run used when it first went over its budget (0: it has not).
    memory_seen: std::sync::atomic::AtomicU64,
}

impl Host {
    pub(crate) fn new(client: Client, runtime: tokio::runtime::Handle, options: ScriptOptions) -> Arc<Host> {
        let budget = options.limits.max_memory.map(crate::memory::Budget::new);
        let phase = Phase {
            cancel: options.cancel.clone(),
            deadline: options.limits.timeout.map(|t| Instant::now() + t),
            cleanup: false,
        };
        Arc::new(Host {
            client: client.with_secrets(options.allow_secrets),
            runtime,
            options,
            phase: RwLock::new(phase),
            stop_seen_at: Default::default(),
            events: Mutex::default(),
            on_exit: Mutex::default(),
            budget,
            memory_seen: Default::default(),
        })
    }

    /// The current phase's cancellation token.
    pub fn cancel_token(&self) -> CancellationToken {
        self.phase.read().unwrap_or_else(|p| p.into_inner()).cancel.clone()
    }

    /// Why the script must stop now, if it must (cancelled, or past its deadline).
    fn must_stop(&self) -> Option<&'static str> {
        let phase = self.phase.read().unwrap_or_else(|p| p.into_inner());
        if phase.cancel.is_cancelled() {
            Some("cancelled")
        } else if phase.deadline.is_some_and(|d| Instant::now() > d) {
            Some(if phase.cleanup { "cleanup timeout" } else { "timeout" })
        } else {
            None
        }
    }

    /// [`Host::must_stop`] for the operation counter (`ops` operations so far): once a stop
    /// is seen, the script may run [`STOP_GRACE_OPS`] more operations — the statements
    /// after a call that was in flight, which record what it started (`running.x = ...`) or
    /// register an `on_exit` — but cannot start another call or sleep (those fail at once).
    fn must_stop_at(&self, ops: u64) -> Option<&'static str> {
        use std::sync::atomic::Ordering;
        let why = self.must_stop()?;
        let seen = match self.stop_seen_at.compare_exchange(0, ops.max(1), Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => ops.max(1),
            Err(seen) => seen,
        };
        (ops.saturating_sub(seen) >= STOP_GRACE_OPS).then_some(why)
    }

    /// Whether the run is over its memory budget (checked at every operation, on every
    /// thread of the run). Not graced like a stop: the memory is in use now.
    fn over_budget(&self) -> bool {
        use std::sync::atomic::Ordering;
        match &self.budget {
            Some(b) if b.exceeded() => {
                let _ = self.memory_seen.compare_exchange(0, b.used().max(1), Ordering::SeqCst, Ordering::SeqCst);
                true
            }
            _ => false,
        }
    }

    /// The memory error of a run that went over its budget.
    fn memory_error(&self, file: &Option<String>, pos: Position) -> Error {
        let used = self.memory_seen.load(std::sync::atomic::Ordering::SeqCst);
        let limit = self.budget.as_ref().map_or(0, |b| b.limit());
        Error::MemoryLimit { limit, used, file: file.clone(), line: pos.line(), column: pos.position() }
    }

    /// Run a future to completion on the shared runtime, aborting it when the run is
    /// cancelled or its deadline passes.
    pub fn block_on<T>(&self, fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        self.block_on_settling(fut, Duration::ZERO)
    }

    /// [`Host::block_on`] for a vendor call: when the run is stopped while the call is in
    /// flight, the call may finish for up to [`CALL_SETTLE`], so that what it started on the
    /// server is known (recorded in the journal, its session registered and ended) instead
    /// of abandoned half-way; its result reaches the script, which stops a few statements
    /// later (no further call starts).
    pub fn block_on_call<T>(&self, fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        self.block_on_settling(fut, CALL_SETTLE)
    }

    fn block_on_settling<T>(&self, fut: impl std::future::Future<Output = Result<T>>, settle: Duration) -> Result<T> {
        let (cancel, deadline, cleanup) = {
            let p = self.phase.read().unwrap_or_else(|p| p.into_inner());
            (p.cancel.clone(), p.deadline, p.cleanup)
        };
        let limit = if cleanup { Some(self.options.limits.cleanup_timeout) } else { self.options.limits.timeout };
        // Stopped already: nothing new starts (the script is only finishing its statements).
        if cancel.is_cancelled() {
            return Err(Error::Cancelled { reason: "the run was cancelled".into() });
        }
        if let (Some(d), false, Some(limit)) = (deadline, cleanup, limit) {
            if Instant::now() > d {
                return Err(Error::TimeLimit { limit, file: None, line: None, column: None });
            }
        }
        self.runtime.block_on(async move {
            let expired = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::pin!(fut);
            let stop = tokio::select! {
                r = &mut fut => return r,
                _ = cancel.cancelled() => Error::Cancelled { reason: "the run was cancelled".into() },
                _ = expired => match (cleanup, limit) {
                    (false, Some(limit)) => Error::TimeLimit { limit, file: None, line: None, column: None },
                    _ => Error::Script { message: time_limit_message(cleanup, limit), file: None, line: None, column: None },
                },
            };
            // A call in flight finishes (bounded) and its result reaches the script, which then
            // has a few statements' grace to record it before it stops (see `must_stop_at`).
            if !settle.is_zero() {
                if let Ok(r) = tokio::time::timeout(settle, &mut fut).await {
                    return r;
                }
            }
            Err(stop)
        })
    }
}

/// The termination reason of a script over its memory budget.
const MEMORY_STOP: &str = "memory limit";

/// How long a vendor call in flight may finish after the run was stopped.
pub const CALL_SETTLE: Duration = Duration::from_secs(5);

/// How many operations a script may still run after a stop (to record what the call in
/// flight started); no call or sleep starts meanwhile.
pub const STOP_GRACE_OPS: u64 = 10_000;

fn time_limit_message(cleanup: bool, limit: Option<Duration>) -> String {
    let secs = limit.map_or(0.0, |t| t.as_secs_f64());
    if cleanup {
        format!("script stopped: on_exit blocks reached their time limit of {secs}s")
    } else {
        format!("script stopped: time limit of {secs}s reached (--timeout)")
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
    if options.limits.max_memory.is_some() && !crate::memory::counting() {
        return Err(Error::config(
            "a script memory budget (max_memory) needs meetkit::memory::CountingAlloc as the program's global \
             allocator; declare it, or run without a budget",
        ));
    }
    let host = Host::new(client.clone(), runtime, options);
    // Everything the run allocates on this thread from here on is charged to its budget.
    let _charging = host.budget.as_ref().map(|b| b.enter());
    let mut engine = build_engine(&host);
    let file = name.map(str::to_string);
    complete_caught_errors(&mut engine, source, &file);
    let ast = engine.compile(source).map_err(|e| {
        let pos = e.position();
        let mut message = e.to_string();
        strip_position(&mut message);
        script_error(message, &file, pos)
    })?;
    let mut scope = Scope::new();
    for (k, v) in &host.options.vars {
        let value = rhai::serde::to_dynamic(v).map_err(|e| Error::config(format!("--set {k}: {e}")))?;
        scope.push(k.clone(), value);
    }
    let result = engine
        .eval_ast_with_scope::<Dynamic>(&mut scope, &ast)
        .map_err(|e| convert_error(*e, &file, &host))
        .map(|v| rhai::serde::from_dynamic::<Value>(&v).unwrap_or_else(|_| Value::String(v.to_string())));
    // The script's variables are gone once it ended (`on_exit` blocks keep what they
    // captured): free them before cleanup, which also gets some headroom above the budget.
    drop(scope);
    if let Some(b) = &host.budget {
        let limit = host.options.limits.max_memory.unwrap_or_default();
        b.set_limit(limit.saturating_add(crate::memory::Budget::cleanup_headroom(limit)));
    }
    let mut cleanup = run_on_exit(&engine, &ast, &host, &file).into_iter();
    // Each failure is reported once: the run's error if it is the first thing that went
    // wrong, else a warning.
    let result = match (result, cleanup.next()) {
        (Ok(v), None) => Ok(v),
        (Ok(_), Some(c)) => Err(c),
        (Err(e), None) => Err(e),
        (Err(e), Some(c)) => {
            tracing::warn!(target: "meetkit::script", error = %c, "after the script failed");
            Err(e)
        }
    };
    for c in cleanup {
        tracing::warn!(target: "meetkit::script", error = %c, "also");
    }
    result
}

/// Run the `on_exit` blocks, last registered first, each even if an earlier one failed;
/// the failures, in the order they happened. Each names the line that registered the block
/// and the line where it failed.
fn run_on_exit(engine: &Engine, ast: &AST, host: &Host, file: &Option<String>) -> Vec<Error> {
    let blocks = std::mem::take(&mut *host.on_exit.lock().unwrap_or_else(|p| p.into_inner()));
    if blocks.is_empty() {
        return Vec::new();
    }
    host.stop_seen_at.store(0, std::sync::atomic::Ordering::SeqCst);
    host.memory_seen.store(0, std::sync::atomic::Ordering::SeqCst);
    *host.phase.write().unwrap_or_else(|p| p.into_inner()) = Phase {
        cancel: CancellationToken::new(),
        deadline: Some(Instant::now() + host.options.limits.cleanup_timeout),
        cleanup: true,
    };
    let mut failures = Vec::new();
    for (block, registered) in blocks.iter().rev() {
        if let Err(e) = block.call::<Dynamic>(engine, ast, ()) {
            let e = convert_error(*e, file, host);
            let at = registered.line().map(|l| format!(" registered at line {l}")).unwrap_or_default();
            failures.push(match e {
                Error::Script { message, line, column, .. } => Error::Script {
                    message: format!("the on_exit block{at} failed: {message}"),
                    file: file.clone(),
                    line,
                    column,
                },
                Error::Uncaught(mut u) => {
                    u.detail = format!("the on_exit block{at} failed: {}", u.detail);
                    Error::Uncaught(u)
                }
                other => other,
            });
        }
    }
    failures
}

fn build_engine(host: &Arc<Host>) -> Engine {
    let mut engine = Engine::new();
    let l = &host.options.limits;
    engine
        .set_max_operations(l.max_operations)
        .set_max_call_levels(l.max_call_depth)
        .set_max_string_size(l.max_string_size)
        .set_max_array_size(l.max_array_size)
        .set_max_map_size(l.max_map_size)
        .set_max_expr_depths(128, 64)
        .set_max_modules(0)
        .set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new());
    engine.disable_symbol("eval");
    let h = host.clone();
    engine.on_progress(move |ops| {
        if h.over_budget() {
            return Some(Dynamic::from(MEMORY_STOP));
        }
        h.must_stop_at(ops).map(Dynamic::from)
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
    // The same map as every other surface (Error::to_json); absent vendor/endpoint are `()`.
    let fields = match e.to_json() {
        serde_json::Value::Object(fields) => fields,
        _ => serde_json::Map::new(),
    };
    fields
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => Dynamic::from(s),
                serde_json::Value::Bool(b) => Dynamic::from(b),
                _ => Dynamic::UNIT,
            };
            (k.into(), v)
        })
        .collect()
}

/// A meetkit error thrown into the script (catchable with `try`/`catch`).
pub(crate) fn throw(e: Error) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(error_map(&e).into(), Position::NONE))
}

/// An error of the script itself — a bad argument to a meetkit function (`code:
/// "invalid_argument"`) or `fail(message)` (`code: "fail"`) — thrown as the same map as every
/// other error: kind `script`, no vendor or endpoint, not retryable.
pub(crate) fn throw_script(code: &str, message: impl Into<String>) -> Box<EvalAltResult> {
    let mut map = error_map(&Error::Script { message: message.into(), file: None, line: None, column: None });
    map.insert("code".into(), code.into());
    Box::new(EvalAltResult::ErrorRuntime(map.into(), Position::NONE))
}

/// Whether `map` is the map Rhai makes for one of its own errors in a `catch` (`#{error:
/// "ErrorArithmetic", message, line, position, ...}`) and not yet meetkit's shape.
fn is_rhai_error_map(map: &rhai::Map) -> bool {
    !map.contains_key("kind")
        && map.contains_key("message")
        && map
            .get("error")
            .and_then(|e| e.read_lock::<rhai::ImmutableString>().map(|s| s.starts_with("Error")))
            .unwrap_or(false)
}

/// Give a Rhai error map (see [`is_rhai_error_map`]) the keys of every meetkit error: kind
/// `script`, `code` the Rhai error in snake case (`arithmetic`, `function_not_found`,
/// `array_bounds`, ...), vendor and endpoint `()`, `retryable: false`, `detail` naming the
/// script line, and `column`. Rhai's own details (`line`, `position`, `function`, ...) stay.
///
/// An error inside a function or closure the `try` block called comes as Rhai's
/// `ErrorInFunctionCall` (`code: "in_function_call"`): its `message` is then the inner error's
/// first line, and `line`/`column` where that inner error happened.
fn complete_rhai_error_map(map: &mut rhai::Map, file: &Option<String>) {
    let variant = map.get("error").map(|e| e.to_string()).unwrap_or_default();
    let mut message = map.get("message").map(|m| m.to_string()).unwrap_or_default();
    let number = |k: &str| map.get(k).and_then(|v| v.as_int().ok()).and_then(|n| usize::try_from(n).ok());
    let (mut line, mut column) = (number("line"), number("position"));
    if variant == "ErrorInFunctionCall" {
        // "Division by zero: 1 / 0 (line 10, position 18)\nin closure call"
        let first = message.lines().next().unwrap_or_default().to_string();
        message = first.clone();
        if let Some(i) = first.rfind(" (line ") {
            let at: Vec<usize> =
                first[i..].split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
            if let [l, c] = at[..] {
                (line, column) = (Some(l), Some(c));
                message.truncate(i);
            }
        }
    }
    let mut complete = error_map(&Error::Script { message: message.clone(), file: file.clone(), line, column });
    complete.insert("code".into(), rhai_error_code(&variant).into());
    // `detail` says where; `message` is the sentence alone, as for every other error.
    complete.insert("message".into(), message.into());
    for (k, n) in [("line", line), ("column", column), ("position", column)] {
        if let Some(n) = n {
            complete.insert(k.into(), (n as rhai::INT).into());
        }
    }
    // A closure's internal name (`anon$19aa...`) means nothing to the script's author.
    if map.get("function").is_some_and(|f| f.to_string().starts_with("anon$")) {
        map.insert("function".into(), Dynamic::UNIT);
    }
    map.extend(complete);
}

/// `ErrorArrayBounds` → `array_bounds`.
fn rhai_error_code(variant: &str) -> String {
    let mut code = String::new();
    for (i, ch) in variant.trim_start_matches("Error").chars().enumerate() {
        if ch.is_ascii_uppercase() && i > 0 {
            code.push('_');
        }
        code.push(ch.to_ascii_lowercase());
    }
    if code.is_empty() {
        "script".into()
    } else {
        code
    }
}

/// A Rhai error that a `parallel` branch ended with, as the map `catch` would have given
/// (a thrown value as thrown; Rhai's own errors completed like [`complete_rhai_error_map`]).
pub(crate) fn caught_value(e: EvalAltResult, file: &Option<String>) -> Dynamic {
    match e {
        EvalAltResult::ErrorRuntime(v, _) => v,
        // A branch is a closure: what failed inside it is the error.
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _) => caught_value(*inner, file),
        other => {
            // As Rhai's `catch` would build it (see `complete_rhai_error_map`).
            let pos = other.position();
            let debug = format!("{other:?}");
            let variant = debug.split(|c: char| !c.is_ascii_alphanumeric()).next().unwrap_or_default();
            let mut message = other.to_string();
            strip_position(&mut message);
            let mut map = rhai::Map::new();
            map.insert("error".into(), variant.into());
            map.insert("message".into(), message.into());
            if let (Some(line), Some(column)) = (pos.line(), pos.position()) {
                map.insert("line".into(), (line as rhai::INT).into());
                map.insert("position".into(), (column as rhai::INT).into());
            }
            complete_rhai_error_map(&mut map, file);
            map.into()
        }
    }
}

/// The names scripts give caught errors (`catch (e)`), found in the source text. A name
/// found in a string or comment only costs a lookup.
fn catch_variables(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = source;
    while let Some(i) = rest.find("catch") {
        let before_ok = rest[..i].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        rest = &rest[i + "catch".len()..];
        let Some(inner) = rest.trim_start().strip_prefix('(') else { continue };
        let name: String = inner.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if before_ok && !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// Rhai makes its own map for its own errors (division by zero, a missing function, an
/// index out of bounds) when a `catch` catches one, with none of the keys every other error
/// has. The first time the script reads its catch variable, that map is completed in place
/// (see [`complete_rhai_error_map`]), so `e.kind`, `e.code`, `e.retryable` ... hold for every
/// error a script can catch.
fn complete_caught_errors(engine: &mut Engine, source: &str, file: &Option<String>) {
    let names = catch_variables(source);
    if names.is_empty() {
        return;
    }
    let file = file.clone();
    #[allow(deprecated)] // `on_var` is stable API that Rhai calls volatile, not deprecated.
    engine.on_var(move |name, _, mut ctx| {
        if names.iter().any(|n| n == name) {
            if let Some(value) = ctx.scope_mut().get_mut(name) {
                if let Some(mut map) = value.write_lock::<rhai::Map>() {
                    if is_rhai_error_map(&map) {
                        complete_rhai_error_map(&mut map, &file);
                    }
                }
            }
        }
        Ok(None)
    });
}

fn time_limit_error(limit: Duration, file: &Option<String>, pos: Position) -> Error {
    Error::TimeLimit { limit, file: file.clone(), line: pos.line(), column: pos.position() }
}

fn script_error(message: String, file: &Option<String>, pos: Position) -> Error {
    Error::Script { message, file: file.clone(), line: pos.line(), column: pos.position() }
}

/// Rhai appends " (line l, position c)" to messages; meetkit prints positions itself.
fn strip_position(message: &mut String) {
    if let Some(i) = message.rfind(" (line ") {
        message.truncate(i);
    }
}

/// An uncaught Rhai error → [`Error`]: cancellation and limits keep their meaning,
/// thrown meetkit errors keep their text, and the position of the script is attached.
fn convert_error(e: EvalAltResult, file: &Option<String>, host: &Host) -> Error {
    let pos = e.position();
    match e {
        EvalAltResult::ErrorTerminated(reason, _) => {
            let reason = reason.into_string().unwrap_or_default();
            if reason == "cancelled" {
                return Error::Cancelled { reason: "the run was cancelled".into() };
            }
            if reason == MEMORY_STOP {
                return host.memory_error(file, pos);
            }
            match (reason.as_str(), host.options.limits.timeout) {
                ("timeout", Some(limit)) => time_limit_error(limit, file, pos),
                ("cleanup timeout", _) => {
                    script_error(time_limit_message(true, Some(host.options.limits.cleanup_timeout)), file, pos)
                }
                _ => script_error(time_limit_message(false, host.options.limits.timeout), file, pos),
            }
        }
        EvalAltResult::ErrorTooManyOperations(_) => script_error(
            format!("script stopped: more than {} operations (a runaway loop?)", host.options.limits.max_operations),
            file,
            pos,
        ),
        EvalAltResult::ErrorRuntime(value, _) => {
            let text = match value.read_lock::<rhai::Map>() {
                Some(map) => {
                    let field = |k: &str| map.get(k).filter(|v| !v.is_unit()).map(|v| v.to_string());
                    let detail = field("detail").unwrap_or_else(|| format!("uncaught: {map:?}"));
                    match field("kind").as_deref().and_then(Error::kind_named) {
                        Some("cancelled") => {
                            let reason = field("message").unwrap_or_default();
                            return Error::Cancelled { reason: reason.trim_start_matches("cancelled: ").to_string() };
                        }
                        Some("time_limit") if host.options.limits.timeout.is_some() => {
                            return time_limit_error(host.options.limits.timeout.unwrap_or_default(), file, pos);
                        }
                        Some(kind) if kind != "script" => {
                            return Error::Uncaught(Box::new(Uncaught {
                                kind,
                                vendor: field("vendor").and_then(|v| v.parse().ok()),
                                endpoint: field("endpoint"),
                                vendor_code: field("code").filter(|c| c != kind),
                                retryable: map.get("retryable").and_then(|r| r.as_bool().ok()).unwrap_or(false),
                                detail,
                                file: file.clone(),
                                line: pos.line(),
                                column: pos.position(),
                            }));
                        }
                        _ => detail,
                    }
                }
                None => value.to_string(),
            };
            script_error(text, file, pos)
        }
        EvalAltResult::ErrorInFunctionCall(name, src, inner, _) => match convert_error(*inner, file, host) {
            Error::Script { message, line, column, .. } => {
                // A closure's name (`anon$92b6e5bb...`) means nothing to the script's author.
                let message = match name.starts_with("anon$") {
                    true => message,
                    false => format!("in `{name}`{src}: {message}"),
                };
                let mut e = script_error(message, file, pos);
                if let Error::Script { line: l, column: c, .. } = &mut e {
                    if l.is_none() {
                        (*l, *c) = (line, column);
                    }
                }
                e
            }
            Error::Uncaught(mut u) => {
                if u.line.is_none() {
                    (u.file, u.line, u.column) = (file.clone(), pos.line(), pos.position());
                }
                Error::Uncaught(u)
            }
            Error::TimeLimit { line: None, limit, .. } => time_limit_error(limit, file, pos),
            Error::MemoryLimit { line: None, .. } => host.memory_error(file, pos),
            other => other,
        },
        other => {
            let mut message = other.to_string();
            strip_position(&mut message);
            script_error(message, file, pos)
        }
    }
}
