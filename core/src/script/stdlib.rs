//! The functions every script can use. [`FUNCTIONS`] documents them (it generates the
//! reference in `docs/scripting.md`); [`register`] installs them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rhai::{Array, Dynamic, Engine, EvalAltResult, FnPtr, Map as RhaiMap, NativeCallContext};
use serde_json::Value;

use super::{throw, throw_script, Host};
use crate::download::DownloadOptions;
use crate::meeting::{Capability, Meeting, Room, Verb};
use crate::{Error, Vendor};

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// One documented script function.
#[derive(Debug)]
pub struct FnDoc {
    /// How it is called.
    pub signature: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// A short example (compiled by the tests).
    pub example: &'static str,
}

/// Every function meetkit adds to Rhai, in the order of the reference.
pub static FUNCTIONS: &[FnDoc] = &[
    FnDoc {
        signature: "vendor(name) -> vendor handle",
        summary:
            "A handle on one vendor of the run's profile (`avd`, `kedacom`, `vmr`, `netease`); fails if the profile \
                  has no connection for it. `v.name` is the vendor id.",
        example: r#"let avd = vendor("avd");"#,
    },
    FnDoc {
        signature: "v.call(endpoint_id, #{params}) -> map",
        summary:
            "Call one endpoint of the vendor's table (ids as in `meetkit endpoints`). Parameters are checked first; \
                  the result is the vendor's payload without its envelope. Errors are thrown as maps \
                  `#{vendor, endpoint, code, message, retryable, kind, detail}`.",
        example: r#"let room = vendor("avd").call("room.create", #{ room_id: "weekly", user_id: "ops" });"#,
    },
    FnDoc {
        signature: "sleep(seconds)",
        summary: "Wait (int or float seconds, at most a day). Cancellable.",
        example: "sleep(0.5);",
    },
    FnDoc {
        signature: "now() -> float",
        summary: "Seconds since the Unix epoch, with fractions.",
        example: "let started = now();",
    },
    FnDoc {
        signature: "wait_until(|| condition, timeout_secs, interval_secs) -> value",
        summary: "Call the closure every `interval_secs` until it returns something other than `false` or `()`, and \
                  return that value; throws a `timeout` error map after `timeout_secs`.",
        example: r#"let status = wait_until(|| {
    let s = vendor("avd").call("device.get_invite_status", #{ call_id: "c1" });
    if s.invite_status.to_string() == "1" { s }
}, 30, 0.5);"#,
    },
    FnDoc {
        signature: "wait_event(vendor, type, timeout_secs) -> #{vendor, type, data, received_at_ms}",
        summary: "The next event of `type` (`\"*\"` for any) from a vendor with events (vmr's event stream, NetEase \
                  callbacks). Subscribes on first use; events of other types are kept for later waits. Throws a \
                  `timeout` error map when none arrives in time.",
        example: r#"let ev = wait_event("vmr", "participant_create", 10);
print(ev.data);"#,
    },
    FnDoc {
        signature: "download(url[, subdir[, #{size, md5, file_name, vendor}]]) -> #{path, file_name, bytes, md5}",
        summary: "Stream a file into the run's `--out` directory (or a relative sub-directory of it): resumes after a \
                  dropped or stalled connection or a 5xx answer, checks size and checksum, never leaves a partial \
                  file, refuses `..`, absolute paths and symlinks leading out of `--out` before creating anything. \
                  Pass what the vendor's listing says — `size` (bytes), `md5` (hex) — so that a wrong body is \
                  refused (without them only the server's own Content-Length and Content-MD5 are checked), and \
                  `vendor` (the listing's vendor, named in errors; none for a bare URL).",
        example: r#"let f = download("http://127.0.0.1:8100/attachment?file=/rec/a.mp4", "room1", #{ size: 1024, vendor: "avd" });
print(`${f.file_name}: ${f.bytes} bytes`);"#,
    },
    FnDoc {
        signature: "parallel([closures]) -> [#{ok, value, error}]",
        summary: "Run independent closures concurrently (at most 16 at a time) and collect, in order, each one's \
                  value (`ok: true`) or error map (`ok: false`). Branches may share captured vendor and meeting \
                  handles; each branch works on its own copy of the variables it captured, so assign results \
                  by returning them, not by changing a captured variable.",
        example: r#"let avd = vendor("avd");
let results = parallel([
    || avd.call("room.read", #{ room_id: "a" }),
    || avd.call("room.read", #{ room_id: "b" }),
]);
for r in results { if !r.ok { print(r.error.message); } }"#,
    },
    FnDoc {
        signature: "retry(|| body, attempts, backoff_secs[, any_error]) -> value",
        summary: "Call the closure until it succeeds, at most `attempts` times, waiting `backoff_secs`, then twice as \
                  long, ... between attempts; rethrows the last error. Only errors with `retryable: true` are \
                  retried (a vendor that is busy, a connection refused before sending) — never an error whose \
                  outcome is unknown, a parameter error or a vendor refusal. `any_error: true` retries every \
                  error the body throws (also `fail()`); cancellation and limits are never retried. To retry a \
                  create safely, look the object up first (see the tutorial).",
        example: r#"let rooms = retry(|| vendor("avd").call("room.list"), 3, 1.0);"#,
    },
    FnDoc {
        signature: "on_exit(|| cleanup)",
        summary: "Register a block that runs when the script ends — normally, with an error, or cancelled by Ctrl-C — \
                  last registered first, with its own time budget (60 s). Use it to stop recordings and end sessions. \
                  A block that fails does not stop the others; the first failure is the run's error (naming the \
                  line that registered the block and the line where it failed), later ones are logged.",
        example: r#"let avd = vendor("avd");
on_exit(|| avd.call("room.mix_record.stop", #{ room_id: "weekly" }));"#,
    },
    FnDoc {
        signature: "meeting(vendor) -> meeting handle",
        summary: "The unified meeting API on one vendor (`avd`, `kedacom`, `vmr`, `netease`): the same verbs \
                  everywhere (`meetkit capabilities` shows how each vendor does them). Rooms are maps \
                  `#{handle, vendor, id, secondary_id, name, raw}`; every verb takes a room map or its `handle` \
                  string (handles round-trip across runs). A verb the vendor cannot do throws, before any request, \
                  an error map of kind `unsupported` whose `hint` names the nearest vendor endpoint. `m.vendor` is \
                  the vendor id.",
        example: r#"let m = meeting("avd");
print(m.vendor);"#,
    },
    FnDoc {
        signature: "m.can(verb) -> bool",
        summary: "Whether the vendor can do a verb (`create_room`, `schedule`, `start`, `invite`, `participants`, \
                  `mute`, `unmute`, `start_recording`, `stop_recording`, `recordings`, `download_recordings`, \
                  `start_live`, `stop_live`, `end`).",
        example: r#"let m = meeting("netease");
if !m.can("invite") { print(m.capabilities().invite.hint); }"#,
    },
    FnDoc {
        signature: "m.capabilities() -> #{verb: #{supported, endpoints, note, hint, options, ignored}}",
        summary: "The vendor's capability table: for each verb whether it is supported, the endpoint ids it calls and \
                  what differs (`note`), or what to do instead (`hint`); for create_room and schedule the portable \
                  options it uses (`options`) and those it ignores, with why (`ignored`, option -> reason).",
        example: r#"for verb in meeting("kedacom").capabilities().keys() { print(verb); }"#,
    },
    FnDoc {
        signature: "m.create_room(#{name, ...}) -> room",
        summary: "Create a room usable now. The options are the same on every vendor: `name` (required), `id`, \
                  `minutes`, `invite: [addresses]`, `record: true`, `live: true`, `host`. One the vendor cannot use \
                  is ignored with one warning per process (`m.capabilities().create_room.ignored` says which and \
                  why: e.g. only avd takes `id`, only kedacom fixes `invite`/`record`/`live` at creation, only \
                  netease takes `host`); any other key is an error naming the valid ones.",
        example: r#"let room = meeting("avd").create_room(#{ name: "Weekly sync" });
print(room.handle);"#,
    },
    FnDoc {
        signature: "m.schedule(#{name, start, minutes, ...}) -> room",
        summary: "Book a meeting: `start` in Unix seconds (required), `minutes` long, plus the options of \
                  create_room (ignored the same way where the vendor cannot use them).",
        example: r#"let room = meeting("kedacom").schedule(#{ name: "Review", start: now() + 3600, minutes: 30 });"#,
    },
    FnDoc {
        signature: "m.start(room)",
        summary: "Start a booked meeting (kedacom) or admit the guests waiting for a host (vmr).",
        example: r#"meeting("kedacom").start("kedacom:123456:m-1");"#,
    },
    FnDoc {
        signature: "m.invite(room, address[, timeout_secs]) -> participant",
        summary: "Call a device (`sip:1001@10.0.0.5`, `h323:...`) into the meeting and wait until it is connected \
                  (default 60 s). A participant is `#{id, name, muted, raw}`.",
        example: r#"let m = meeting("avd");
let room = m.create_room(#{ name: "lab" });
let device = m.invite(room, "sip:1001@10.0.0.5", 30);"#,
    },
    FnDoc {
        signature: "m.participants(room) -> [participant]",
        summary: "Who is in the meeting: `#{id, name, muted, raw}` each (`muted` is `()` where the vendor does not \
                  say).",
        example: r#"for p in meeting("vmr").participants(room) { print(p.name); }"#,
    },
    FnDoc {
        signature: "m.mute(room, participant) / m.unmute(room, participant)",
        summary: "Mute or unmute one participant's audio (a participant map or its `id`).",
        example: r#"let m = meeting("vmr");
for p in m.participants(room) { m.mute(room, p); }"#,
    },
    FnDoc {
        signature: "m.start_recording(room) -> map",
        summary: "Start recording; returns the vendor's answer (its recording id, where it has one).",
        example: r#"meeting("avd").start_recording(room);"#,
    },
    FnDoc {
        signature: "m.stop_recording(room) -> [recording]",
        summary: "Stop recording; returns the files where the vendor says at once (avd), else `[]` — list them with \
                  `recordings` once published. A recording is `#{url, file_name, size, md5, raw}`.",
        example: r#"let files = meeting("avd").stop_recording(room);"#,
    },
    FnDoc {
        signature: "m.recordings(room) -> [recording]",
        summary: "The meeting's recordings, `[]` while the vendor has not published them (poll with `wait_until`). \
                  `size` and `md5` are set where the vendor gives exact ones.",
        example: r#"let m = meeting("netease");
let files = wait_until(|| { let r = m.recordings(room); if r.len() > 0 { r } }, 120, 1.0);"#,
    },
    FnDoc {
        signature: "m.download_recordings(room[, subdir[, timeout_secs]]) -> [#{path, file_name, bytes, md5}]",
        summary: "Download every recording into the run's `--out` directory (or a relative sub-directory), with \
                  the same checks and sandbox as `download`, plus the vendor's size and MD5 where it gives them. \
                  On netease, which publishes recordings only after the meeting ends, it first waits for them \
                  (default 300 s) and throws a `timeout` error naming the room if none come.",
        example: r#"for f in meeting("netease").download_recordings(room, "weekly", 600) { print(f.path); }"#,
    },
    FnDoc {
        signature: "m.start_live(room, push_url) -> map / m.stop_live(room)",
        summary: "Start a live stream to an RTMP push URL, or stop it.",
        example: r#"let m = meeting("avd");
m.start_live(room, "rtmp://live.example.com/app/key");
m.stop_live(room);"#,
    },
    FnDoc {
        signature: "m.end(room)",
        summary: "End the meeting (everyone is disconnected). Ending a meeting that has already ended is not an \
                  error, on every vendor.",
        example: r#"meeting("avd").end(room);"#,
    },
    FnDoc {
        signature: "json_string(value) -> string",
        summary: "A value as JSON text.",
        example: r#"print(json_string(#{ a: 1, b: [true, ()] }));"#,
    },
    FnDoc {
        signature: "json_parse(text) -> value",
        summary: "JSON text as a value (maps, arrays, strings, numbers, booleans, `()` for null).",
        example: r#"let v = json_parse("{\"a\": [1, 2]}");"#,
    },
    FnDoc {
        signature: "env(name) -> string or ()",
        summary: "An environment variable, or `()` when unset. Only variables named `MEETKIT_SCRIPT_*` and those \
                  the run allows (`meetkit run --env NAME`, Python `env_allow=[...]`, C `\"env_allow\"`) can be \
                  read; any other name is an error saying how to allow it. Names that look secret (containing \
                  key, secret, token, password, auth, sign, ...) are refused even then: scripts never see \
                  credentials.",
        example: r#"let site = env("MEETKIT_SCRIPT_SITE") ?? "lab";"#,
    },
    FnDoc {
        signature: "log_info(text) / log_warn(text)",
        summary: "A log line (shown with `meetkit -v`).",
        example: r#"log_info("recording started");"#,
    },
    FnDoc {
        signature: "fail(message)",
        summary: "Stop the script with an error: uncaught, it ends the run with `message`; caught, it is the \
                  error map of every other error, with `kind: \"script\"`, `code: \"fail\"` and `message`.",
        example: r#"fail("the device never answered");"#,
    },
];

/// `v.call(id[, #{params}])` on a vendor handle: call one endpoint of the vendor's table.
fn call_endpoint(host: &Host, vendor: Vendor, args: &mut [&mut Dynamic]) -> RhaiResult<Dynamic> {
    let usage = || format!("{vendor}.call(endpoint_id, #{{ params }}): see `meetkit endpoints {vendor}` for the ids");
    let id = match args.first() {
        Some(a) if a.is_string() => a.to_string(),
        Some(a) => {
            return Err(throw_script(
                "invalid_argument",
                format!("{}; the endpoint id must be a string, got {}", usage(), a.type_name()),
            ))
        }
        None => return Err(throw_script("invalid_argument", format!("{}; the endpoint id is missing", usage()))),
    };
    let params: Value = match args.get(1) {
        None => Value::Null,
        Some(a) if a.is_map() => rhai::serde::from_dynamic(a)?,
        Some(a) if a.is_unit() => Value::Null,
        Some(a) => {
            return Err(throw_script(
                "invalid_argument",
                format!("{}; the parameters must be a map, got {}", usage(), a.type_name()),
            ))
        }
    };
    if args.len() > 2 {
        return Err(throw_script(
            "invalid_argument",
            format!("{}; expected at most 2 arguments, got {}", usage(), args.len()),
        ));
    }
    let client = host.client.clone();
    let value = host.block_on_call(async move { client.call(vendor, &id, params).await }).map_err(throw)?;
    rhai::serde::to_dynamic(value)
}

/// The doc comment of the function named `name` (for editors' definition files).
fn comments(name: &str) -> Vec<String> {
    FUNCTIONS
        .iter()
        .filter(|f| {
            let sig = f.signature;
            sig.starts_with(&format!("{name}("))
                || sig.contains(&format!(" / {name}("))
                || sig.starts_with(&format!("m.{name}("))
                || sig.contains(&format!(" / m.{name}("))
        })
        .map(|f| {
            let mut c = format!("/// {}\n///\n/// ```rhai", f.summary);
            for line in f.example.lines() {
                c.push_str(&format!("\n/// {line}"));
            }
            c.push_str("\n/// ```");
            c
        })
        .collect()
}

/// The registration of the function `name` with typed parameter info (`["name: type", ...,
/// "return type"]`) and the doc comment from [`FUNCTIONS`], so definition files read well.
fn registration(name: &str, params: &[&str]) -> rhai::FuncRegistration {
    rhai::FuncRegistration::new(name).with_params_info(params).with_comments(comments(name))
}

/// Register a function with [`registration`] (a macro: the function's generic bounds name
/// Rhai types that only its unstable `internals` feature exports).
macro_rules! reg {
    ($engine:expr, $name:expr, $params:expr, $func:expr $(,)?) => {
        registration($name, $params).register_into_engine($engine, $func)
    };
}

/// Install every function of [`FUNCTIONS`] into `engine`.
pub(crate) fn register(engine: &mut Engine, host: &Arc<Host>) {
    // A vendor handle is a native function pointer named after the vendor: Rhai reserves
    // `.call(...)` for function pointers, and this is what makes `v.call(id, #{..})` work.
    // `v.name` is the vendor id.
    let h = host.clone();
    reg!(engine, "vendor", &["name: String", "Fn"], move |name: &str| -> RhaiResult<FnPtr> {
        let vendor: Vendor = name.parse().map_err(throw)?;
        h.client.require(vendor).map_err(throw)?;
        let host = h.clone();
        #[allow(deprecated)] // "volatile", not deprecated; Rhai is pinned to one minor version.
        FnPtr::from_fn(vendor.as_str(), move |_ctx, args| call_endpoint(&host, vendor, args))
    });

    let h = host.clone();
    reg!(engine, "sleep", &["seconds: float", "()"], move |secs: rhai::FLOAT| sleep(&h, secs));
    let h = host.clone();
    reg!(engine, "sleep", &["seconds: int", "()"], move |secs: rhai::INT| sleep(&h, secs as f64));
    reg!(engine, "now", &["float"], || -> rhai::FLOAT {
        SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or_default()
    });

    let h = host.clone();
    let params = ["condition: Fn", "timeout_secs: float", "interval_secs: float", "?"];
    reg!(engine, "wait_until", &params, move |ctx: NativeCallContext,
                                              f: FnPtr,
                                              timeout: Dynamic,
                                              interval: Dynamic| {
        wait_until(
            &h,
            &ctx,
            &f,
            timeout_seconds(&timeout, "wait_until timeout")?,
            seconds(&interval, "wait_until interval")?,
        )
    });
    let h = host.clone();
    let params = ["vendor: String", "type: String", "timeout_secs: float", "Map"];
    reg!(engine, "wait_event", &params, move |vendor: &str, kind: &str, timeout: Dynamic| {
        wait_event(&h, vendor, kind, timeout_seconds(&timeout, "wait_event timeout")?)
    });

    let h = host.clone();
    reg!(engine, "download", &["url: String", "Map"], move |url: &str| download(&h, url, "", None));
    let h = host.clone();
    reg!(engine, "download", &["url: String", "subdir: String", "Map"], move |url: &str, dir: &str| {
        download(&h, url, dir, None)
    });
    let h = host.clone();
    let params = ["url: String", "subdir: String", "checks: Map", "Map"];
    reg!(engine, "download", &params, move |url: &str, dir: &str, checks: RhaiMap| download(
        &h,
        url,
        dir,
        Some(checks)
    ));

    let h = host.clone();
    reg!(engine, "parallel", &["closures: Array", "Array"], move |ctx: NativeCallContext, blocks: Array| {
        parallel(&h, &ctx, blocks)
    });
    let h = host.clone();
    let params = ["body: Fn", "attempts: int", "backoff_secs: float", "?"];
    reg!(engine, "retry", &params, move |ctx: NativeCallContext, f: FnPtr, attempts: rhai::INT, backoff: Dynamic| {
        retry(&h, &ctx, &f, attempts, seconds(&backoff, "retry backoff")?, false)
    });
    let h = host.clone();
    let params = ["body: Fn", "attempts: int", "backoff_secs: float", "any_error: bool", "?"];
    reg!(engine, "retry", &params, move |ctx: NativeCallContext,
                                         f: FnPtr,
                                         attempts: rhai::INT,
                                         backoff: Dynamic,
                                         any_error: bool| {
        retry(&h, &ctx, &f, attempts, seconds(&backoff, "retry backoff")?, any_error)
    },);
    let h = host.clone();
    reg!(engine, "on_exit", &["cleanup: Fn", "()"], move |ctx: NativeCallContext, f: FnPtr| {
        h.on_exit.lock().unwrap_or_else(|p| p.into_inner()).push((f, ctx.call_position()));
    });

    register_meeting(engine, host);

    reg!(engine, "json_string", &["value: ?", "String"], |v: Dynamic| -> RhaiResult<String> {
        let value: Value = rhai::serde::from_dynamic(&v)?;
        Ok(value.to_string())
    });
    reg!(engine, "json_parse", &["text: String", "?"], |text: &str| -> RhaiResult<Dynamic> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("json_parse: {e}"))?;
        rhai::serde::to_dynamic(value)
    });
    let h = host.clone();
    reg!(engine, "env", &["name: String", "?"], move |name: &str| -> RhaiResult<Dynamic> {
        env_allowed(name, &h.options.env_allow)?;
        Ok(std::env::var(name).map(Dynamic::from).unwrap_or(Dynamic::UNIT))
    });
    reg!(engine, "log_info", &["text: String", "()"], |text: &str| tracing::info!(target: "meetkit::script", "{text}"));
    reg!(engine, "log_warn", &["text: String", "()"], |text: &str| tracing::warn!(target: "meetkit::script", "{text}"));
    reg!(engine, "fail", &["message: String", "()"], |message: &str| -> RhaiResult<()> {
        Err(throw_script("fail", message))
    });
}

/// The prefix of the environment variables every script may read.
pub const ENV_PREFIX: &str = "MEETKIT_SCRIPT_";

/// Whether `env(name)` may read `name`: named `MEETKIT_SCRIPT_*` or allowed by the run
/// (`--env NAME`), and not looking like a secret either way.
fn env_allowed(name: &str, allow: &[String]) -> Result<(), String> {
    if crate::secret::is_sensitive(name) {
        return Err(format!("env(\"{name}\"): the name looks like a secret, and scripts never see secrets"));
    }
    if name.starts_with(ENV_PREFIX) && name.len() > ENV_PREFIX.len() || allow.iter().any(|a| a == name) {
        return Ok(());
    }
    Err(format!(
        "env(\"{name}\"): the run does not allow this variable; scripts read only variables named \
         {ENV_PREFIX}* and those the run allows: `meetkit run --env {name}` (Python \
         run_script(env_allow=[\"{name}\"]), C \"env_allow\": [\"{name}\"])"
    ))
}

/// An int or float number of seconds, between 0 and a day.
fn seconds(v: &Dynamic, what: &str) -> RhaiResult<f64> {
    let secs = if let Ok(i) = v.as_int() {
        i as f64
    } else if let Ok(f) = v.as_float() {
        f
    } else {
        return Err(throw_script(
            "invalid_argument",
            format!("{what} must be a number of seconds, got {}", v.type_name()),
        ));
    };
    if !(0.0..=86_400.0).contains(&secs) {
        return Err(throw_script(
            "invalid_argument",
            format!("{what} must be between 0 and 86400 seconds, got {secs}"),
        ));
    }
    Ok(secs)
}

/// A timeout in seconds: as [`seconds`], but zero is an error too (a zero timeout would fail
/// at once, never a useful wait).
fn timeout_seconds(v: &Dynamic, what: &str) -> RhaiResult<f64> {
    let secs = seconds(v, what)?;
    if secs == 0.0 {
        return Err(throw_script(
            "invalid_argument",
            format!("{what} must be greater than 0 seconds (at most 86400), got 0"),
        ));
    }
    Ok(secs)
}

fn sleep(host: &Host, secs: f64) -> RhaiResult<()> {
    let secs = seconds(&Dynamic::from_float(secs), "sleep")?;
    host.block_on(async move {
        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
        Ok(())
    })
    .map_err(throw)
}

/// A script helper's timeout (no vendor involved), as a catchable error map of kind `timeout`.
fn timeout_error(what: &str, after: f64) -> Box<EvalAltResult> {
    let mut m = RhaiMap::new();
    let message = format!("{what}: timed out after {after}s");
    m.insert("vendor".into(), Dynamic::UNIT);
    m.insert("endpoint".into(), Dynamic::UNIT);
    m.insert("code".into(), "timeout".into());
    m.insert("message".into(), message.clone().into());
    m.insert("retryable".into(), true.into());
    m.insert("kind".into(), "timeout".into());
    m.insert("detail".into(), message.into());
    Box::new(EvalAltResult::ErrorRuntime(m.into(), rhai::Position::NONE))
}

fn wait_until(host: &Host, ctx: &NativeCallContext, f: &FnPtr, timeout: f64, interval: f64) -> RhaiResult<Dynamic> {
    let deadline = std::time::Instant::now() + Duration::from_secs_f64(timeout);
    loop {
        let value: Dynamic = f.call_within_context(ctx, ())?;
        let done = !(value.is_unit() || value.as_bool() == Ok(false));
        if done {
            return Ok(value);
        }
        if std::time::Instant::now() + Duration::from_secs_f64(interval) > deadline {
            return Err(timeout_error("wait_until", timeout));
        }
        sleep(host, interval)?;
    }
}

fn retry(
    host: &Host,
    ctx: &NativeCallContext,
    f: &FnPtr,
    attempts: rhai::INT,
    backoff: f64,
    any_error: bool,
) -> RhaiResult<Dynamic> {
    if !(1..=100).contains(&attempts) {
        return Err(throw_script(
            "invalid_argument",
            format!("retry: attempts must be between 1 and 100, got {attempts}"),
        ));
    }
    let mut delay = backoff;
    for attempt in 1..=attempts {
        match f.call_within_context::<Dynamic>(ctx, ()) {
            Ok(v) => return Ok(v),
            Err(e) if attempt == attempts || !is_retryable_failure(&e, any_error) => return Err(e),
            Err(e) => {
                tracing::info!(target: "meetkit::script", attempt, error = %e, "retry: attempt failed");
                sleep(host, delay.min(86_400.0))?;
                delay *= 2.0;
            }
        }
    }
    unreachable!("the last attempt returns")
}

/// Whether `retry` may run the body again after `e`: only errors that say `retryable: true`,
/// or (with `any_error`) everything but cancellation and the script's own limits.
fn is_retryable_failure(e: &EvalAltResult, any_error: bool) -> bool {
    match e {
        EvalAltResult::ErrorTerminated(..) | EvalAltResult::ErrorTooManyOperations(..) => false,
        EvalAltResult::ErrorRuntime(v, _) => match v.read_lock::<RhaiMap>() {
            Some(m) => {
                let kind = m.get("kind").map(|k| k.to_string());
                if matches!(kind.as_deref(), Some("cancelled" | "time_limit")) {
                    return false;
                }
                any_error || m.get("retryable").and_then(|r| r.as_bool().ok()).unwrap_or(false)
            }
            None => any_error,
        },
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _) => is_retryable_failure(inner, any_error),
        _ => any_error,
    }
}

const PARALLEL_WIDTH: usize = 16;

fn parallel(host: &Host, ctx: &NativeCallContext, blocks: Array) -> RhaiResult<Array> {
    let blocks: Vec<FnPtr> = blocks
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            b.try_cast_result::<FnPtr>().map_err(|b| {
                throw_script("invalid_argument", format!("parallel: item {i} is a {}, not a closure", b.type_name()))
            })
        })
        .collect::<Result<_, _>>()?;
    // A closure's captured variables are shared (locked) values: branches that use the same
    // captured vendor or meeting handle at once would collide on its lock ("Data race
    // detected"). Each branch gets its own copy of what it captured instead; assignments to
    // captured variables inside a branch are therefore not seen outside it (documented).
    let blocks: Vec<FnPtr> = blocks
        .into_iter()
        .map(|mut f| {
            let own: Vec<Dynamic> = f.iter_curry().map(Dynamic::flatten_clone).collect();
            f.set_curry(own);
            f
        })
        .collect();
    let mut results = Array::with_capacity(blocks.len());
    let budget = host.budget.as_ref();
    for chunk in blocks.chunks(PARALLEL_WIDTH) {
        let outcomes: Vec<RhaiResult<Dynamic>> = std::thread::scope(|s| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|f| {
                    s.spawn(move || {
                        // A branch's allocations are charged to the run, like the script's.
                        let _charging = budget.map(|b| b.enter());
                        f.call_within_context::<Dynamic>(ctx, ())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(throw_script("panic", "parallel: a block panicked"))))
                .collect()
        });
        for outcome in outcomes {
            let mut m = RhaiMap::new();
            match outcome {
                Ok(v) => {
                    m.insert("ok".into(), true.into());
                    m.insert("value".into(), v);
                    m.insert("error".into(), Dynamic::UNIT);
                }
                Err(e) if !is_retryable_failure(&e, true) => return Err(e),
                Err(e) => {
                    m.insert("ok".into(), false.into());
                    m.insert("value".into(), Dynamic::UNIT);
                    m.insert("error".into(), super::caught_value(*e, &None));
                }
            }
            results.push(m.into());
        }
    }
    Ok(results)
}

/// One vendor's event subscription (opened on the first `wait_event`) and the events that
/// arrived but were not waited for yet. Each vendor has its own, behind its own lock: a
/// `parallel` branch waiting on one vendor never holds up a wait on another.
#[derive(Default)]
pub(crate) struct EventBuffer {
    stream: Option<crate::events::EventStream>,
    pending: std::collections::VecDeque<crate::events::Event>,
}

fn wait_event(host: &Host, vendor: &str, kind: &str, timeout: f64) -> RhaiResult<RhaiMap> {
    use futures::StreamExt;
    let vendor: Vendor = vendor.parse().map_err(throw)?;
    let matches = |e: &crate::events::Event| kind == "*" || e.kind == kind;
    let slot = host.events.lock().unwrap_or_else(|p| p.into_inner()).entry(vendor).or_default().clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(timeout);
    let timed_out =
        || Error::Timeout { vendor, endpoint: format!("wait_event({kind})"), after: Duration::from_secs_f64(timeout) };
    loop {
        // A vendor's stream has one reader at a time; the lock is given up after each event,
        // so another wait on the same vendor finds what this one put aside.
        let mut buffer = host
            .block_on(async {
                tokio::time::timeout_at(deadline, slot.clone().lock_owned()).await.map_err(|_| timed_out())
            })
            .map_err(throw)?;
        if let Some(i) = buffer.pending.iter().position(matches) {
            return Ok(event_map(&buffer.pending.remove(i).expect("position is valid")));
        }
        if buffer.stream.is_none() {
            let client = host.client.clone();
            let stream = host.block_on_call(async move { client.events(vendor, Value::Null).await }).map_err(throw)?;
            buffer.stream = Some(stream);
        }
        let next = host.block_on(async {
            let stream = buffer.stream.as_mut().expect("opened above");
            tokio::time::timeout_at(deadline, stream.next()).await.map_err(|_| timed_out())
        });
        match next.map_err(throw)? {
            Some(Ok(event)) if matches(&event) => return Ok(event_map(&event)),
            Some(Ok(event)) => buffer.pending.push_back(event),
            Some(Err(e)) => return Err(throw(e)),
            None => {
                buffer.stream = None;
                return Err(throw(Error::Transport {
                    vendor,
                    endpoint: format!("wait_event({kind})"),
                    message: "the event stream ended".into(),
                    before_send: false,
                }));
            }
        }
    }
}

fn event_map(e: &crate::events::Event) -> RhaiMap {
    // The one serialised form of an event (see `Event`'s `Serialize`).
    rhai::serde::to_dynamic(e).ok().and_then(|d| d.try_cast::<RhaiMap>()).unwrap_or_default()
}

/// The directory a download into `dir` writes to: checked to be inside `--out` (symlinks
/// resolved) before anything is created, then created.
fn download_dir(host: &Host, dir: &str, vendor: Option<Vendor>) -> RhaiResult<PathBuf> {
    // Scripts often name the out dir itself ("recordings/"): treat that as the out dir.
    let out = &host.options.out_dir;
    let dir = match out.file_name().and_then(|n| n.to_str()) {
        Some(name) if dir.trim_end_matches('/') == name => "",
        _ => dir,
    };
    crate::download::dir_inside(out, dir, vendor).map_err(throw)
}

/// Download options with the run's progress sink and cancellation.
fn download_options(host: &Host) -> DownloadOptions {
    let progress = host.options.progress.clone();
    DownloadOptions {
        progress: progress.map(|p| {
            Arc::new(move |pr: crate::download::Progress| -> bool {
                p(&pr);
                true
            }) as _
        }),
        cancel: Some(host.cancel_token()),
        ..DownloadOptions::default()
    }
}

fn downloaded_map(done: &crate::download::Downloaded) -> RhaiMap {
    let mut m = RhaiMap::new();
    m.insert("path".into(), done.path.display().to_string().into());
    let name = done.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    m.insert("file_name".into(), name.into());
    m.insert("bytes".into(), (done.bytes as rhai::INT).into());
    m.insert("md5".into(), done.md5.clone().into());
    m
}

fn download(host: &Host, url: &str, dir: &str, checks: Option<RhaiMap>) -> RhaiResult<RhaiMap> {
    let mut options = download_options(host);
    if let Some(checks) = checks {
        download_checks(&mut options, checks)?;
    }
    let target = download_dir(host, dir, options.vendor)?;
    let (client, url) = (host.client.clone(), url.to_string());
    let done = host.block_on(async move { client.download(&url, &target, options).await }).map_err(throw)?;
    Ok(downloaded_map(&done))
}

/// The third argument of `download`: what the vendor's listing says about the file.
fn download_checks(options: &mut DownloadOptions, checks: RhaiMap) -> RhaiResult<()> {
    let bad = |key: &str, want: &str, got: &Dynamic| -> Box<EvalAltResult> {
        throw_script("invalid_argument", format!("download: `{key}` must be {want}, got {}", got.type_name()))
    };
    for (key, value) in checks {
        let text = || value.clone().into_string().ok().filter(|s| !s.is_empty());
        match key.as_str() {
            _ if value.is_unit() => {}
            "size" => {
                // A JSON number may arrive as an int or (vmr's `double` fileSize) a float.
                let size = match (value.as_int(), value.as_float()) {
                    (Ok(n), _) => u64::try_from(n).ok(),
                    (_, Ok(f)) if f >= 0.0 && f.fract() == 0.0 && f < 9.0e15 => Some(f as u64),
                    _ => text().and_then(|s| s.trim().parse().ok()),
                };
                options.expected_size = Some(size.ok_or_else(|| bad("size", "a byte count", &value))?);
            }
            "md5" => options.expected_md5 = Some(text().ok_or_else(|| bad("md5", "32 hex digits", &value))?),
            "file_name" => options.file_name = Some(text().ok_or_else(|| bad("file_name", "a name", &value))?),
            "vendor" => {
                let name = text().ok_or_else(|| bad("vendor", "a vendor id", &value))?;
                options.vendor = Some(name.parse::<Vendor>().map_err(throw)?);
            }
            other => {
                return Err(throw_script(
                    "invalid_argument",
                    format!("download: unknown key `{other}` (expected size, md5, file_name, vendor)"),
                ))
            }
        }
    }
    Ok(())
}

/// A `meeting(vendor)` handle: the unified meeting API of one vendor, in a script.
#[derive(Clone)]
pub(crate) struct MeetingHandle {
    meeting: Meeting,
    host: Arc<Host>,
}

impl MeetingHandle {
    /// Run one verb on the shared runtime; errors become catchable maps (with `hint` when unsupported).
    fn run<T>(&self, fut: impl std::future::Future<Output = crate::Result<T>>) -> RhaiResult<T> {
        self.host.block_on_call(fut).map_err(throw_meeting)
    }
}

/// [`throw`], plus the hint of an [`Error::Unsupported`] as `hint`.
fn throw_meeting(e: Error) -> Box<EvalAltResult> {
    let mut map = super::error_map(&e);
    if let Error::Unsupported { hint, .. } = &e {
        map.insert("hint".into(), hint.clone().into());
    }
    Box::new(EvalAltResult::ErrorRuntime(map.into(), rhai::Position::NONE))
}

/// A room argument: a room map (its `handle`) or a handle string.
fn room_arg(v: &Dynamic) -> RhaiResult<Room> {
    let handle = if let Some(map) = v.read_lock::<RhaiMap>() {
        map.get("handle").filter(|h| h.is_string()).map(|h| h.to_string())
    } else if v.is_string() {
        Some(v.to_string())
    } else {
        None
    };
    let handle = handle.ok_or_else(|| {
        throw_script(
            "invalid_argument",
            format!(
                "expected a room (a map with `handle`, or a handle string like \"avd:weekly\"), got {}",
                v.type_name()
            ),
        )
    })?;
    Room::from_handle(&handle).map_err(throw)
}

/// A participant argument: a participant map (its `id`) or an id.
fn participant_arg(v: &Dynamic) -> RhaiResult<String> {
    if let Some(map) = v.read_lock::<RhaiMap>() {
        if let Some(id) = map.get("id").filter(|id| !id.is_unit()) {
            return Ok(id.to_string());
        }
    } else if v.is_string() || v.is_int() {
        return Ok(v.to_string());
    }
    Err(throw_script(
        "invalid_argument",
        format!("expected a participant (a map with `id`, or an id), got {}", v.type_name()),
    ))
}

fn options_arg(map: RhaiMap) -> RhaiResult<serde_json::Map<String, Value>> {
    match rhai::serde::from_dynamic::<Value>(&map.into())? {
        Value::Object(m) => Ok(m),
        _ => Ok(serde_json::Map::new()),
    }
}

fn to_dyn<T: serde::Serialize>(value: &T) -> RhaiResult<Dynamic> {
    rhai::serde::to_dynamic(value)
}

fn verb_arg(verb: &str) -> RhaiResult<Verb> {
    verb.parse().map_err(throw)
}

/// The capability table of a vendor as a script map (the one shape of
/// [`crate::meeting::capabilities_json`]; `hint` is `()` when supported).
fn capabilities_map(vendor: Vendor) -> RhaiResult<Dynamic> {
    to_dyn(&crate::meeting::capabilities_json(vendor))
}

/// `meeting(vendor)` and the methods of its handle.
fn register_meeting(engine: &mut Engine, host: &Arc<Host>) {
    engine.register_type_with_name::<MeetingHandle>("Meeting");
    engine.register_get("vendor", |m: &mut MeetingHandle| m.meeting.vendor().to_string());
    let h = host.clone();
    reg!(engine, "meeting", &["vendor: String", "Meeting"], move |name: &str| -> RhaiResult<MeetingHandle> {
        let vendor: Vendor = name.parse().map_err(throw)?;
        let meeting = Meeting::new(&h.client, vendor).map_err(throw)?;
        Ok(MeetingHandle { meeting, host: h.clone() })
    });
    reg!(engine, "can", &["m: Meeting", "verb: String", "bool"], |m: &mut MeetingHandle, verb: &str| {
        verb_arg(verb).map(|v| m.meeting.can(v))
    });
    reg!(engine, "capabilities", &["m: Meeting", "Map"], |m: &mut MeetingHandle| capabilities_map(m.meeting.vendor()));

    let room_verb = ["m: Meeting", "room: ?", "Map"];
    reg!(engine, "create_room", &["m: Meeting", "options: Map", "Map"], |m: &mut MeetingHandle, o: RhaiMap| {
        let (meeting, options) = (m.meeting.clone(), options_arg(o)?);
        to_dyn(&m.run(async move { meeting.create_room(&options).await })?)
    });
    reg!(engine, "schedule", &["m: Meeting", "options: Map", "Map"], |m: &mut MeetingHandle, o: RhaiMap| {
        let (meeting, options) = (m.meeting.clone(), options_arg(o)?);
        to_dyn(&m.run(async move { meeting.schedule(&options).await })?)
    });
    reg!(engine, "start", &["m: Meeting", "room: ?", "()"], |m: &mut MeetingHandle, room: Dynamic| {
        let (meeting, room) = (m.meeting.clone(), room_arg(&room)?);
        m.run(async move { meeting.start(&room).await })
    });
    fn invite(m: &mut MeetingHandle, room: Dynamic, address: &str, timeout: f64) -> RhaiResult<Dynamic> {
        let (meeting, room, address) = (m.meeting.clone(), room_arg(&room)?, address.to_string());
        let timeout = Duration::from_secs_f64(timeout);
        to_dyn(&m.run(async move { meeting.invite(&room, &address, timeout).await })?)
    }
    let params = ["m: Meeting", "room: ?", "address: String", "Map"];
    reg!(engine, "invite", &params, |m: &mut MeetingHandle, room: Dynamic, address: &str| {
        invite(m, room, address, crate::meeting::INVITE_TIMEOUT.as_secs_f64())
    });
    let params = ["m: Meeting", "room: ?", "address: String", "timeout_secs: float", "Map"];
    reg!(engine, "invite", &params, |m: &mut MeetingHandle, room: Dynamic, address: &str, t: Dynamic| {
        invite(m, room, address, timeout_seconds(&t, "invite timeout")?)
    });
    reg!(engine, "participants", &["m: Meeting", "room: ?", "Array"], |m: &mut MeetingHandle, room: Dynamic| {
        let (meeting, room) = (m.meeting.clone(), room_arg(&room)?);
        to_dyn(&m.run(async move { meeting.participants(&room).await })?)
    });
    for (name, mute) in [("mute", true), ("unmute", false)] {
        let params = ["m: Meeting", "room: ?", "participant: ?", "()"];
        reg!(engine, name, &params, move |m: &mut MeetingHandle, room: Dynamic, who: Dynamic| {
            let (meeting, room, who) = (m.meeting.clone(), room_arg(&room)?, participant_arg(&who)?);
            m.run(async move { meeting.set_muted(&room, &who, mute).await })
        });
    }
    reg!(engine, "start_recording", &room_verb, |m: &mut MeetingHandle, room: Dynamic| {
        let (meeting, room) = (m.meeting.clone(), room_arg(&room)?);
        to_dyn(&m.run(async move { meeting.start_recording(&room).await })?)
    });
    let list_verb = ["m: Meeting", "room: ?", "Array"];
    reg!(engine, "stop_recording", &list_verb, |m: &mut MeetingHandle, room: Dynamic| {
        let (meeting, room) = (m.meeting.clone(), room_arg(&room)?);
        to_dyn(&m.run(async move { meeting.stop_recording(&room).await })?)
    });
    reg!(engine, "recordings", &list_verb, |m: &mut MeetingHandle, room: Dynamic| {
        let (meeting, room) = (m.meeting.clone(), room_arg(&room)?);
        to_dyn(&m.run(async move { meeting.recordings(&room).await })?)
    });
    fn download_recordings(m: &mut MeetingHandle, room: Dynamic, dir: &str, timeout: f64) -> RhaiResult<Array> {
        let (meeting, room) = (m.meeting.clone(), room_arg(&room)?);
        // Refuse an unsupported verb before touching the out directory.
        if let Capability::Unsupported { hint } = crate::meeting::capability(meeting.vendor(), Verb::DownloadRecordings)
        {
            let verb = Verb::DownloadRecordings.as_str();
            return Err(throw_meeting(Error::Unsupported { vendor: meeting.vendor(), verb, hint: hint.to_string() }));
        }
        let (target, options) = (download_dir(&m.host, dir, Some(meeting.vendor()))?, download_options(&m.host));
        let timeout = Duration::from_secs_f64(timeout);
        let done = m.run(async move { meeting.download_recordings_within(&room, &target, options, timeout).await })?;
        Ok(done.iter().map(|d| Dynamic::from(downloaded_map(d))).collect())
    }
    reg!(engine, "download_recordings", &list_verb, |m: &mut MeetingHandle, room: Dynamic| {
        download_recordings(m, room, "", crate::meeting::RECORDINGS_TIMEOUT.as_secs_f64())
    });
    let params = ["m: Meeting", "room: ?", "subdir: String", "Array"];
    reg!(engine, "download_recordings", &params, |m: &mut MeetingHandle, room: Dynamic, dir: &str| {
        download_recordings(m, room, dir, crate::meeting::RECORDINGS_TIMEOUT.as_secs_f64())
    });
    let params = ["m: Meeting", "room: ?", "subdir: String", "timeout_secs: float", "Array"];
    reg!(engine, "download_recordings", &params, |m: &mut MeetingHandle, room: Dynamic, dir: &str, t: Dynamic| {
        download_recordings(m, room, dir, timeout_seconds(&t, "download_recordings timeout")?)
    });
    let params = ["m: Meeting", "room: ?", "push_url: String", "Map"];
    reg!(engine, "start_live", &params, |m: &mut MeetingHandle, room: Dynamic, url: &str| {
        let (meeting, room, url) = (m.meeting.clone(), room_arg(&room)?, url.to_string());
        to_dyn(&m.run(async move { meeting.start_live(&room, &url).await })?)
    });
    reg!(engine, "stop_live", &["m: Meeting", "room: ?", "()"], |m: &mut MeetingHandle, room: Dynamic| {
        let (meeting, room) = (m.meeting.clone(), room_arg(&room)?);
        m.run(async move { meeting.stop_live(&room).await })
    });
    reg!(engine, "end", &["m: Meeting", "room: ?", "()"], |m: &mut MeetingHandle, room: Dynamic| {
        let (meeting, room) = (m.meeting.clone(), room_arg(&room)?);
        m.run(async move { meeting.end(&room).await })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_reads_only_the_prefix_and_allowed_names() {
        let allow = vec!["SITE_NAME".to_string()];
        assert!(env_allowed("MEETKIT_SCRIPT_SITE", &[]).is_ok());
        assert!(env_allowed("SITE_NAME", &allow).is_ok());
        let refused = env_allowed("DATABASE_URL", &allow).unwrap_err();
        assert!(refused.contains("--env DATABASE_URL") && refused.contains("env_allow"), "{refused}");
        assert!(env_allowed("SITE_NAME", &[]).is_err());
        assert!(env_allowed("MEETKIT_SCRIPT_", &[]).is_err());
        assert!(env_allowed("MEETKIT_AVD_SECRET_KEY", &[]).is_err());
        // Secret-looking names stay refused, with the prefix or allowed by the run.
        let allow = vec!["API_TOKEN".to_string()];
        assert!(env_allowed("API_TOKEN", &allow).unwrap_err().contains("looks like a secret"));
        assert!(env_allowed("MEETKIT_SCRIPT_PASSWORD", &[]).unwrap_err().contains("looks like a secret"));
    }

    #[test]
    fn seconds_refuse_nan_negative_and_huge_and_timeouts_refuse_zero() {
        for bad in [f64::NAN, f64::INFINITY, -1.0, 86_400.5, 1e300] {
            let e = seconds(&Dynamic::from_float(bad), "sleep").unwrap_err().to_string();
            assert!(e.contains("sleep must be between 0 and 86400"), "{bad}: {e}");
        }
        assert_eq!(seconds(&Dynamic::from_int(0), "sleep").unwrap(), 0.0);
        let e = timeout_seconds(&Dynamic::from_int(0), "wait_until timeout").unwrap_err().to_string();
        assert!(e.contains("wait_until timeout must be greater than 0"), "{e}");
        assert!(timeout_seconds(&Dynamic::from_int(-3), "wait_event timeout").is_err());
        assert_eq!(timeout_seconds(&Dynamic::from_float(0.5), "invite timeout").unwrap(), 0.5);
    }

    #[test]
    fn every_documented_example_compiles() {
        let engine = Engine::new();
        for f in FUNCTIONS {
            engine.compile(f.example).unwrap_or_else(|e| panic!("{}: {e}", f.signature));
        }
    }
}
