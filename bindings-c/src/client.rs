//! `meetkit_client`: calls, scripts and downloads.

use std::ffi::{c_char, c_void};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use meetkit::client::ClientOptions;
use meetkit::config::Profile;
use meetkit::download::{DownloadOptions, Progress};
#[cfg(feature = "script")]
use meetkit::script::ScriptOptions;
use meetkit::{Client, Error, Vendor};
use serde_json::Value;

use crate::boundary::{guard, out_arg, Failure};
use crate::error::meetkit_error;
use crate::handles::{self, Object};
use crate::meetkit_status;
use crate::runtime::block_on;
use crate::strings::{arg, json_arg, opt_arg, to_c};

/// A connection to every vendor of one profile (opaque). Thread-safe: any number of threads
/// may make calls on one client at the same time; tokens and sessions are shared. Created
/// by `meetkit_client_new` or `meetkit_client_open_profile`, owned by the caller, freed with
/// `meetkit_client_free`.
pub struct meetkit_client {
    _opaque: [u8; 0],
}

/// What a `meetkit_client` handle stands for.
pub(crate) struct ClientObject {
    pub(crate) client: Client,
}

const TYPE: &str = "meetkit_client";

fn lookup(client: *const meetkit_client) -> Result<Arc<ClientObject>, Failure> {
    match handles::get(client as usize, TYPE)? {
        Object::Client(c) => Ok(c),
        _ => unreachable!("handles::get checks the type"),
    }
}

/// Looks the client up for a call (shared with the events module).
pub(crate) fn client_of(client: *const meetkit_client) -> Result<Client, Failure> {
    lookup(client).map(|c| c.client.clone())
}

/// How long `meetkit_client_free` waits for the client's server-side sessions to end.
const FREE_CLOSE_TIMEOUT_MS: u32 = 5000;

fn register(profile: &Profile, options: ClientOptions) -> Result<*mut meetkit_client, Failure> {
    register_journaled(profile, options, None, false)
}

/// A client, recording its calls in the run journal at `journal` when given (one run, ended
/// by `meetkit_client_free`); its results keep their secret fields only if `allow_secrets`.
fn register_journaled(
    profile: &Profile,
    options: ClientOptions,
    journal: Option<PathBuf>,
    allow_secrets: bool,
) -> Result<*mut meetkit_client, Failure> {
    #[cfg_attr(not(feature = "journal"), allow(unused_mut))]
    let mut client = Client::from_profile_with(profile, options)?.with_secrets(allow_secrets);
    if let Some(path) = journal {
        #[cfg(feature = "journal")]
        {
            let run = meetkit::journal::Journal::open(&path)?.begin_run("C client", client.profile_name(), "c")?;
            client = client.with_journal(run);
        }
        #[cfg(not(feature = "journal"))]
        return Err(Error::config(format!(
            "options_json: \"journal\": {}: this libmeetkit was built without the run journal (SQLite); rebuild it \
             with `bindings-c/install.sh PREFIX --features journal`, or leave the option out",
            Value::String(path.display().to_string())
        ))
        .into());
    }
    Ok(handles::insert(Object::Client(Arc::new(ClientObject { client }))) as *mut meetkit_client)
}

/// The client options of `meetkit_client_new_with_options` (`{"capture": "traffic.har"}`).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionsJson {
    capture: Option<PathBuf>,
    journal: Option<PathBuf>,
    #[serde(default)]
    allow_secrets: bool,
}

fn client_options(value: Value) -> Result<(ClientOptions, Option<PathBuf>, bool), Failure> {
    let value = Value::Object(object_or_null(value, "options_json")?);
    let options: OptionsJson = serde_json::from_value(value)
        .map_err(|e| Error::config(format!("options_json: {e} (known: capture, journal, allow_secrets)")))?;
    Ok((ClientOptions { capture: options.capture }, options.journal, options.allow_secrets))
}

/// A JSON value that must be an object (or null) for `what`, as a config error otherwise.
fn object_or_null(value: Value, what: &str) -> Result<serde_json::Map<String, Value>, Failure> {
    match value {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Default::default()),
        other => Err(Error::config(format!("{what} must be a JSON object, not `{other}`")).into()),
    }
}

/// Creates a client from a profile as JSON text: the shape `meetkit sim` prints and a
/// `meetkit.toml` profile has, e.g.
/// `{"avd": {"base_url": "http://127.0.0.1:8100", "access_key": "...", "secret_key": "..."},
///   "transport": {"request_timeout_secs": 30}}`.
/// Environment variables are not applied. Nothing is sent until the first call.
///
/// On success `*out` receives a new client the caller owns (free it with
/// `meetkit_client_free`). Errors: `MEETKIT_NULL_ARGUMENT`, `MEETKIT_INVALID_UTF8`,
/// `MEETKIT_INVALID_JSON` (not JSON), `MEETKIT_CONFIG` (JSON of the wrong shape).
///
/// # Safety
/// `profile_json` is NULL or a NUL-terminated string; `out` and `err` are NULL or valid
/// for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_client_new(
    profile_json: *const c_char,
    out: *mut *mut meetkit_client,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard(err, || {
            out_arg(out, "out")?;
            let value = json_arg(profile_json, "profile_json", false)?;
            let profile = Profile::from_json("json", &value)?;
            *out = register(&profile, ClientOptions::default())?;
            Ok(())
        })
    }
}

/// `meetkit_client_new` with client options as a JSON object (NULL or `"null"`: none):
///
/// * `"capture": "traffic.har"` — record every request and response of this client (calls
///   and their retries, auth calls, download attempts without their bodies, incoming NetEase
///   callbacks) into that file as HAR 1.2, with every secret (keys, tokens, cookies,
///   signatures, PINs, passwords) replaced by `<redacted>`. The file is created (truncated)
///   now and is a complete HAR document after every entry.
/// * `"journal": "runs.db"` — record this client's calls, what each started (rooms,
///   recordings, device calls, sessions, ...) and whether it was stopped, and its downloads,
///   in that run journal (SQLite), as one run ended by `meetkit_client_free`; if the process
///   dies, `meetkit runs cleanup ID` stops what it left running. Only in a library built
///   with the `journal` feature (`MEETKIT_FEATURE_JOURNAL`); elsewhere it is `MEETKIT_CONFIG`.
/// * `"allow_secrets": true` — results (and scripts run with this client) keep their secret
///   fields as the server sent them: AVD's `app.get_token` token, vmr's session token and
///   `meet.check_join` host PIN, NetEase's `accountToken`, Kedacom conference passwords, ...
///   By default (and for every other way of creating a client) they read `"***"`; meetkit's
///   own authentication always uses the real values.
///
/// On success `*out` receives a new client the caller owns (free it with
/// `meetkit_client_free`). Errors: as `meetkit_client_new`, plus `MEETKIT_CONFIG` (an
/// unknown option or a value of the wrong type) and `MEETKIT_IO` (the capture file cannot be
/// created).
///
/// # Safety
/// `profile_json` and `options_json` are NULL or NUL-terminated strings; `out` and `err` are
/// NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_client_new_with_options(
    profile_json: *const c_char,
    options_json: *const c_char,
    out: *mut *mut meetkit_client,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard(err, || {
            out_arg(out, "out")?;
            let value = json_arg(profile_json, "profile_json", false)?;
            let (options, journal, allow_secrets) = client_options(json_arg(options_json, "options_json", true)?)?;
            let profile = Profile::from_json("json", &value)?;
            *out = register_journaled(&profile, options, journal, allow_secrets)?;
            Ok(())
        })
    }
}

/// Creates a client from a profile of a `meetkit.toml` file, the way the CLI does:
/// `config_path` (NULL: `$MEETKIT_CONFIG`, else `./meetkit.toml` if present) and `name`
/// (NULL: `$MEETKIT_PROFILE`, else the file's `default_profile`, else its only profile,
/// else a profile from `MEETKIT_<VENDOR>_<FIELD>` variables alone). Environment variables
/// override the file.
///
/// On success `*out` receives a new client the caller owns (free it with
/// `meetkit_client_free`). Errors: `MEETKIT_NULL_ARGUMENT` (`out`), `MEETKIT_INVALID_UTF8`,
/// `MEETKIT_CONFIG`, `MEETKIT_IO` (an explicit file that cannot be read).
///
/// # Safety
/// `config_path` and `name` are NULL or NUL-terminated strings; `out` and `err` are NULL
/// or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_client_open_profile(
    config_path: *const c_char,
    name: *const c_char,
    out: *mut *mut meetkit_client,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard(err, || {
            out_arg(out, "out")?;
            let path = opt_arg(config_path, "config_path")?.map(Path::new);
            let name = opt_arg(name, "name")?;
            let profile = Profile::load(path, name)?;
            *out = register(&profile, ClientOptions::default())?;
            Ok(())
        })
    }
}

/// Ends the client's server-side sessions (vmr's session, Kedacom's login), as
/// `meetkit_client_close` does, then frees it. Blocking: the ending waits at most 5 seconds
/// (`meetkit_client_close` first chooses another limit); a session that cannot be ended then
/// expires on the server. Calls already running on the client on other threads finish
/// normally. NULL is accepted (`MEETKIT_OK`); a freed or unknown handle returns
/// `MEETKIT_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn meetkit_client_free(client: *mut meetkit_client) -> meetkit_status {
    crate::boundary::guard_or(meetkit_status::MEETKIT_PANIC, || {
        if client.is_null() {
            return meetkit_status::MEETKIT_OK;
        }
        match handles::remove(client as usize, TYPE) {
            Ok(Object::Client(object)) => {
                let client = object.client.clone();
                let on_timeout = |after| Error::Timeout { vendor: Vendor::Vmr, endpoint: "close".into(), after };
                // The handle is gone either way: an error here (a server already down) is not
                // the caller's to handle, and the server expires what was not ended.
                let _ = block_on(FREE_CLOSE_TIMEOUT_MS, on_timeout, async move { client.close().await });
                #[cfg(feature = "journal")]
                if let Some(run) = object.client.journal() {
                    run.finish(None);
                }
                meetkit_status::MEETKIT_OK
            }
            Ok(_) => unreachable!("handles::remove checks the type"),
            Err(f) => f.status(),
        }
    })
}

/// Ends every vendor's server-side session (vmr's session, Kedacom's login); the client
/// stays usable and opens new sessions on the next call. Blocking; `timeout_ms` limits it
/// (0: no limit). Returns the first error after trying every vendor.
///
/// # Safety
/// `err` is NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_client_close(
    client: *const meetkit_client,
    timeout_ms: u32,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard(err, || {
            let client = client_of(client)?;
            let on_timeout = |after| Error::Timeout { vendor: Vendor::Avd, endpoint: "close".into(), after };
            block_on(timeout_ms, on_timeout, async move { client.close().await })
        })
    }
}

/// Calls one endpoint: `vendor` is `"avd"`, `"kedacom"`, `"vmr"` or `"netease"`;
/// `endpoint_id` is the catalog id (`"room.create"`); `params_json` is a JSON object of
/// parameters (NULL or `"null"`: none). Parameters are validated against the endpoint
/// table before anything is sent. Blocking; `timeout_ms` limits the whole call, retries
/// included (0: only the profile's transport timeouts apply).
///
/// On success `*result_json` receives the vendor's payload (without its envelope) as JSON
/// text, owned by the caller (free it with `meetkit_string_free`). Errors: any status.
/// Thread-safe: many threads may call this on one client at once.
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `result_json` and `err` are NULL or valid
/// for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_call(
    client: *const meetkit_client,
    vendor: *const c_char,
    endpoint_id: *const c_char,
    params_json: *const c_char,
    timeout_ms: u32,
    result_json: *mut *mut c_char,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard(err, || {
            out_arg(result_json, "result_json")?;
            let client = client_of(client)?;
            let vendor: Vendor = arg(vendor, "vendor")?.parse()?;
            let endpoint = arg(endpoint_id, "endpoint_id")?.to_string();
            let params = json_arg(params_json, "params_json", true)?;
            let name = endpoint.clone();
            let on_timeout = move |after| Error::Timeout { vendor, endpoint: name, after };
            let value = block_on(timeout_ms, on_timeout, async move { client.call(vendor, &endpoint, params).await })?;
            *result_json = to_c(value.to_string());
            Ok(())
        })
    }
}

/// Runs a Rhai workflow script file (the language of `meetkit run`) with this client.
/// `vars_json` is a JSON object of script variables (NULL: none), like `--set`; `out_dir`
/// is where the script's `download` writes (NULL: `./recordings`); `timeout_ms` is the
/// script's wall-clock limit (0: none), reported as `MEETKIT_SCRIPT` like the CLI's
/// `--timeout`. The script's `print` goes to standard output. The script sees secret result
/// fields only if the client was created with `"allow_secrets": true`. Blocking.
///
/// On success `*result_json` receives the script's last value as JSON text, owned by the
/// caller (free it with `meetkit_string_free`). Errors: `MEETKIT_SCRIPT` for a script error
/// (syntax, runtime, `fail()`, its time limit); an error the script did not catch keeps its
/// category (`MEETKIT_API` with `meetkit_error_vendor_code`, `MEETKIT_AUTH`,
/// `MEETKIT_OUTCOME_UNKNOWN`, ...) and its message carries the vendor's text and the script
/// position, as in the CLI; `MEETKIT_IO` (unreadable file), `MEETKIT_CONFIG` (`vars_json`
/// not an object), `MEETKIT_CANCELLED`, and the argument errors.
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `result_json` and `err` are NULL or valid
/// for writing one pointer.
#[cfg(feature = "script")]
#[no_mangle]
pub unsafe extern "C" fn meetkit_run_script(
    client: *const meetkit_client,
    path: *const c_char,
    vars_json: *const c_char,
    out_dir: *const c_char,
    timeout_ms: u32,
    result_json: *mut *mut c_char,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard(err, || {
            out_arg(result_json, "result_json")?;
            let client = client_of(client)?;
            let path = PathBuf::from(arg(path, "path")?);
            let vars = object_or_null(json_arg(vars_json, "vars_json", true)?, "vars_json")?;
            let mut options = ScriptOptions { vars, ..ScriptOptions::default() };
            if let Some(dir) = opt_arg(out_dir, "out_dir")? {
                options.out_dir = PathBuf::from(dir);
            }
            if timeout_ms > 0 {
                options.limits.timeout = Some(std::time::Duration::from_millis(timeout_ms.into()));
            }
            run_script_into(&client, &path, options, result_json)
        })
    }
}

/// Runs the script at `path` and stores its last value, as JSON text, in `*result_json`. The
/// script sees secret result fields only if the client allows them.
///
/// # Safety
/// `result_json` is valid for writing one pointer (checked with `out_arg` by the caller).
#[cfg(feature = "script")]
unsafe fn run_script_into(
    client: &Client,
    path: &Path,
    options: ScriptOptions,
    result_json: *mut *mut c_char,
) -> Result<(), Failure> {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        let rt = crate::runtime::runtime()?;
        let options = ScriptOptions { allow_secrets: client.secrets_allowed(), ..options };
        let run =
            meetkit::blocking::ScriptRun::start_file(path.to_path_buf(), client.clone(), rt.handle().clone(), options)?;
        let value = run.wait()?;
        *result_json = to_c(value.to_string());
        Ok(())
    }
}

/// The options of `meetkit_run_script_with_options`.
#[cfg(feature = "script")]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RunOptions {
    #[serde(default)]
    vars: Value,
    out_dir: Option<PathBuf>,
    #[serde(default)]
    timeout_ms: u64,
    max_memory: Option<Value>,
    #[serde(default)]
    env_allow: Vec<String>,
}

/// `options_json` → the script options it describes.
#[cfg(feature = "script")]
fn run_options(value: Value) -> Result<ScriptOptions, Failure> {
    let value = Value::Object(object_or_null(value, "options_json")?);
    let known = "known: vars, out_dir, timeout_ms, max_memory, env_allow";
    let o: RunOptions =
        serde_json::from_value(value).map_err(|e| Error::config(format!("options_json: {e} ({known})")))?;
    let mut options = ScriptOptions { vars: object_or_null(o.vars, "vars")?, ..ScriptOptions::default() };
    if let Some(dir) = o.out_dir {
        options.out_dir = dir;
    }
    if o.timeout_ms > 0 {
        options.limits.timeout = Some(std::time::Duration::from_millis(o.timeout_ms));
    }
    options.limits.max_memory = Some(match o.max_memory {
        None | Some(Value::Null) => meetkit::memory::DEFAULT_MAX_MEMORY,
        Some(Value::String(s)) => meetkit::memory::parse_size(&s, "max_memory")?,
        Some(Value::Number(n)) => n.as_u64().filter(|n| *n > 0).ok_or_else(|| {
            Error::config(format!("max_memory: {n} is not a positive number of bytes (or give a size like \"256M\")"))
        })?,
        Some(other) => {
            return Err(Error::config(format!("max_memory: expected bytes or a size like \"256M\", got {other}")).into())
        }
    });
    options.env_allow = o.env_allow;
    Ok(options)
}

/// `meetkit_run_script` with its options as a JSON object (NULL or `"null"`: defaults):
/// `"vars"` (an object of script variables), `"out_dir"` (default `./recordings`),
/// `"timeout_ms"` (0: none), `"max_memory"` (the run's heap budget, `parallel` branches
/// included: bytes, or a size like `"256M"`; default 512 MiB) and `"env_allow"` (names of the
/// environment variables the script's `env()` may read besides `MEETKIT_SCRIPT_*`).
///
/// Errors: as `meetkit_run_script`, plus `MEETKIT_MEMORY_LIMIT` when the script went over its
/// budget (it was stopped; its `on_exit` blocks ran) and `MEETKIT_CONFIG` for an unknown
/// option or a bad value.
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `result_json` and `err` are NULL or valid
/// for writing one pointer.
#[cfg(feature = "script")]
#[no_mangle]
pub unsafe extern "C" fn meetkit_run_script_with_options(
    client: *const meetkit_client,
    path: *const c_char,
    options_json: *const c_char,
    result_json: *mut *mut c_char,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: the same contract as `meetkit_run_script_cancellable`'s, whose NULL token is none.
    unsafe { meetkit_run_script_cancellable(client, path, options_json, std::ptr::null(), result_json, err) }
}

/// `meetkit_run_script_with_options` that another thread can stop: `meetkit_cancel_token_cancel`
/// on `cancel` (NULL: none) stops the script, its `on_exit` blocks run (the cleanup it wrote:
/// stop the recording, end the room), and this returns `MEETKIT_CANCELLED`. For a device that
/// shuts down while a workflow runs, rather than leave what it started running.
///
/// Errors: as `meetkit_run_script_with_options`, plus `MEETKIT_CANCELLED`, and
/// `MEETKIT_INVALID_HANDLE` for a freed or unknown `cancel`.
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `result_json` and `err` are NULL or valid
/// for writing one pointer.
#[cfg(feature = "script")]
#[no_mangle]
pub unsafe extern "C" fn meetkit_run_script_cancellable(
    client: *const meetkit_client,
    path: *const c_char,
    options_json: *const c_char,
    cancel: *const crate::cancel::meetkit_cancel_token,
    result_json: *mut *mut c_char,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard(err, || {
            out_arg(result_json, "result_json")?;
            let client = client_of(client)?;
            let path = PathBuf::from(arg(path, "path")?);
            let mut options = run_options(json_arg(options_json, "options_json", true)?)?;
            if !cancel.is_null() {
                options.cancel = crate::cancel::token_of(cancel)?.child_token();
            }
            run_script_into(&client, &path, options, result_json)
        })
    }
}

/// Download progress: `done` bytes of `total` (0 while the server has not announced a
/// size). Return true to go on, false to cancel the download (`MEETKIT_CANCELLED`). Called
/// on the thread that called `meetkit_download`, at the start, as bytes arrive (at most
/// every 100 ms or 256 KiB) and once at the end.
pub type meetkit_progress_callback = Option<unsafe extern "C" fn(done: u64, total: u64, userdata: *mut c_void) -> bool>;

/// Download options reporting progress to the C callback `progress` (NULL: none).
///
/// # Safety
/// `progress` is NULL or a function safe to call from meetkit's threads with `userdata`.
pub(crate) unsafe fn download_options(progress: meetkit_progress_callback, userdata: *mut c_void) -> DownloadOptions {
    let mut options = DownloadOptions::default();
    if let Some(callback) = progress {
        let userdata = UserData(userdata);
        options.progress = Some(Arc::new(move |p: Progress| {
            let ud = userdata;
            // SAFETY: the caller of `download_options` vouched for `callback` with its own userdata.
            unsafe { callback(p.downloaded, p.total.unwrap_or(0), ud.0) }
        }));
    }
    options
}

/// Passes the caller's `userdata` to the callback's thread; the caller vouches for it.
#[derive(Clone, Copy)]
pub(crate) struct UserData(pub(crate) *mut c_void);
// SAFETY: the header documents that userdata is used on meetkit's threads; the caller
// guarantees that is safe for whatever it points to.
unsafe impl Send for UserData {}
// SAFETY: as for `Send`: sharing the pointer is the caller's documented guarantee.
unsafe impl Sync for UserData {}

/// Downloads `url` into the directory `dir` (created if missing): streamed to a temporary
/// file, resumed after a dropped connection, checked against the announced size and
/// `Content-MD5`, then renamed into place; on any failure nothing is left behind.
/// `progress` (may be NULL) receives `userdata` and can cancel. Blocking; `timeout_ms`
/// limits the whole download (0: none).
///
/// On success `*path_out` receives the file's path, owned by the caller (free it with
/// `meetkit_string_free`). Errors: `MEETKIT_INVALID_PARAMS` (bad URL), `MEETKIT_HTTP`,
/// `MEETKIT_TRANSPORT`, `MEETKIT_TIMEOUT`, `MEETKIT_INTEGRITY`, `MEETKIT_CANCELLED`,
/// `MEETKIT_IO`, and the argument errors.
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `progress` is NULL or a function safe to
/// call with `userdata`; `path_out` and `err` are NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_download(
    client: *const meetkit_client,
    url: *const c_char,
    dir: *const c_char,
    progress: meetkit_progress_callback,
    userdata: *mut c_void,
    timeout_ms: u32,
    path_out: *mut *mut c_char,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard(err, || {
            out_arg(path_out, "path_out")?;
            let client = client_of(client)?;
            let url = arg(url, "url")?.to_string();
            let dir = PathBuf::from(arg(dir, "dir")?);
            // This function's contract: `progress` is NULL or safe to call from meetkit's
            // threads with `userdata`.
            let options = download_options(progress, userdata);
            let shown = url.clone();
            let on_timeout = move |after| meetkit::download::timed_out(&shown, None, after);
            let done = block_on(timeout_ms, on_timeout, async move { client.download(&url, &dir, options).await })?;
            *path_out = to_c(done.path.to_string_lossy().into_owned());
            Ok(())
        })
    }
}
