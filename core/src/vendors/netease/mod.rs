//! NetEase Meeting (网易会议 Server REST API, vendor doc 004).
//!
//! * Requests: `POST {base_url}{path}` with a compact JSON body and
//!   `Content-Type: application/json;charset=utf-8`. Every request is signed with the headers
//!   `AppKey`, a fresh random `Nonce`, `CurTime` (UNIX seconds) and `CheckSum =
//!   sha1(AppSecret + Nonce + CurTime)` (see [`sign`]); there is no token to keep.
//!   `meeting.anonymous_join_info` also sends `authorization = md5(body + "@163")`, `clientType`
//!   and `deviceId` headers.
//! * Responses: see [`envelope`]. A refused signature (code 401) is an [`Error::Auth`] that says
//!   whether the clock is off, by how much (CurTime sent vs the server's `Date`), or that the
//!   server sent no `Date` to tell.
//! * Callbacks: see [`webhook`]; [`crate::Client::events`] starts the receiver on the profile's
//!   `callback_listen` and streams verified, deduplicated events (kinds are the doc's msgType
//!   names, `MEETING_ROOM_START` ... `MEETING_RECORDING`; data is the callback body). The
//!   receiver is an HTTP server, built only with the crate's `webhook` feature (on by default);
//!   without it the callback settings are still checked, and events are a config error.
//! * Meeting states: [`model::MeetingStatus`]; typed callbacks: [`model::CallbackEvent`].

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use futures::FutureExt;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::endpoint::EndpointSpec;
use crate::events::EventStream;
use crate::secret::Secret;
use crate::transport::{RawResponse, Transport};
use crate::vendors::toolkit::{split, AutoIn, BaseUrl};
use crate::vendors::VendorApi;
use crate::{Error, Result, Vendor};

pub mod endpoints;
pub mod envelope;
pub mod lifecycle;
pub mod model;
pub mod sign;
#[cfg(feature = "webhook")]
pub mod webhook;

pub use endpoints::ENDPOINTS;
pub use model::{CallbackEvent, MeetingStatus};
#[cfg(feature = "webhook")]
pub use webhook::{CallbackClock, CallbackConfig, CallbackReceiver, RunningReceiver, ServeLimits};

/// The doc: "if CurTime differs from the server's time by more than 1 minute, the signature expires".
const SKEW_LIMIT_SECS: i64 = 60;

/// A NetEase connection in a profile (`[profiles.<name>.netease]`).
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NeteaseConfig {
    /// API root, e.g. `https://meeting-api.netease.im`.
    pub base_url: String,
    /// The AppKey.
    pub app_key: String,
    /// The AppSecret. Never printed.
    pub app_secret: Secret,
    /// Where the callback receiver listens, e.g. `127.0.0.1:8788` (needed for events).
    #[serde(default)]
    pub callback_listen: Option<String>,
    /// The receiver's path (default `/netease/callback`); the callback URL is
    /// `http://<callback_listen><callback_path>` as seen from NetEase.
    #[serde(default = "default_callback_path")]
    pub callback_path: String,
    /// Callbacks whose `CurTime` is more than this many seconds old are refused (default 10800,
    /// 3 h: the doc resends after 2 s, 4 s, 6 s, 1 h and 1 h and does not say a resend is signed
    /// anew, so the last resend may carry a `CurTime` 2 h 0 m 12 s old). Delivered events are
    /// remembered at least this long to drop their resends. 1 to 2592000 (30 days). See
    /// docs/assumptions.md `netease.callback_window`.
    #[serde(default = "default_callback_max_age")]
    pub callback_max_age_secs: u64,
    /// Connections the callback receiver serves at once (default 256); more wait until one
    /// closes. `meetkit webhook --max-connections` overrides it.
    #[serde(default)]
    pub callback_max_connections: Option<usize>,
    /// Seconds a connection to the callback receiver may take to send its request headers
    /// before it is closed (default 10). `meetkit webhook --header-timeout` overrides it.
    #[serde(default)]
    pub callback_header_timeout_secs: Option<f64>,
    /// Seconds a callback's body may take to arrive before the answer is 408 (default 30).
    /// `meetkit webhook --body-timeout` overrides it.
    #[serde(default)]
    pub callback_body_timeout_secs: Option<f64>,
}

fn default_callback_path() -> String {
    "/netease/callback".to_string()
}

/// The largest `callback_max_age_secs`: 30 days (the doc's resends end after about 2 hours).
const MAX_CALLBACK_MAX_AGE_SECS: u64 = 30 * 86_400;

/// The default callback window: 3 h covers the doc's resend schedule (2 s, 4 s, 6 s, 1 h, 1 h:
/// the last resend comes 2 h 0 m 12 s after the first attempt) even when a resend carries the
/// first attempt's `CurTime`. (Also `webhook::DEFAULT_CALLBACK_MAX_AGE`.)
pub const DEFAULT_CALLBACK_MAX_AGE: Duration = Duration::from_secs(3 * 3600);

fn default_callback_max_age() -> u64 {
    DEFAULT_CALLBACK_MAX_AGE.as_secs()
}

/// The documented meaning of a NetEase error code (the doc's 59-row error table).
pub fn error_meaning(code: &str) -> Option<&'static str> {
    let code: i64 = code.trim().parse().ok()?;
    endpoints::ERROR_CODES.iter().find(|(c, _, _)| *c == code).map(|(_, _, meaning)| *meaning)
}

/// The cheap authenticated call `meetkit doctor` makes. List meetings: a signed request, so it proves app_key/app_secret and the clock.
pub const HEALTH_CHECK: &str = "meeting.list";

/// NetEase codes that may pass when tried again later: internal error, rate limited, busy.
pub const RETRYABLE_CODES: &[&str] = &["501", "510", "512"];

/// Build the NetEase client for a profile section.
pub(crate) fn connect(config: NeteaseConfig, transport: Arc<Transport>) -> Result<Arc<dyn VendorApi>> {
    Ok(Arc::new(NeteaseClient::new(config, transport)?))
}

/// The NetEase client: signs and sends requests from the endpoint table, owns the callback receiver.
#[derive(Debug)]
pub struct NeteaseClient {
    config: NeteaseConfig,
    base: BaseUrl,
    transport: Arc<Transport>,
    #[cfg(feature = "webhook")]
    receiver: CallbackReceiver,
    #[cfg(feature = "webhook")]
    running: tokio::sync::Mutex<Option<RunningReceiver>>,
}

impl NeteaseClient {
    /// Connect (lazily: nothing is sent or bound until used).
    pub fn new(config: NeteaseConfig, transport: Arc<Transport>) -> Result<Self> {
        let base = BaseUrl::from_profile("netease.base_url", &config.base_url, None, "https://meeting-api.netease.im")?;
        if config.app_key.is_empty() || config.app_secret.is_empty() {
            return Err(Error::config("netease.app_key and netease.app_secret must not be empty"));
        }
        // Checked with or without the receiver (the `webhook` feature): a profile is valid
        // or not whichever build reads it.
        if !(1..=MAX_CALLBACK_MAX_AGE_SECS).contains(&config.callback_max_age_secs) {
            return Err(Error::config(format!(
                "netease.callback_max_age_secs = {}: expected 1 to {MAX_CALLBACK_MAX_AGE_SECS} seconds (default 10800, 3 hours)",
                config.callback_max_age_secs
            )));
        }
        let header_timeout = config
            .callback_header_timeout_secs
            .map(|s| receiver_secs("netease.callback_header_timeout_secs", s))
            .transpose()?;
        let body_timeout = config
            .callback_body_timeout_secs
            .map(|s| receiver_secs("netease.callback_body_timeout_secs", s))
            .transpose()?;
        #[cfg(feature = "webhook")]
        let receiver = {
            let mut cb = CallbackConfig::new(config.app_key.clone(), config.app_secret.clone());
            cb.max_age = Duration::from_secs(config.callback_max_age_secs);
            cb.dedup_window = cb.dedup_window.max(cb.max_age);
            if let Some(n) = config.callback_max_connections {
                cb.max_connections = n;
            }
            cb.header_read_timeout = header_timeout.unwrap_or(cb.header_read_timeout);
            cb.body_read_timeout = body_timeout.unwrap_or(cb.body_read_timeout);
            CallbackReceiver::new(cb)
        };
        #[cfg(not(feature = "webhook"))]
        let _ = (header_timeout, body_timeout);
        Ok(NeteaseClient {
            #[cfg(feature = "webhook")]
            receiver,
            config,
            base,
            transport,
            #[cfg(feature = "webhook")]
            running: tokio::sync::Mutex::new(None),
        })
    }

    /// The API root requests go to (no trailing slash).
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// The callback receiver (buffering since this client was built); mount its router yourself
    /// or let [`crate::Client::events`] serve it on `callback_listen`.
    #[cfg(feature = "webhook")]
    pub fn callback_receiver(&self) -> &CallbackReceiver {
        &self.receiver
    }

    async fn call_spec(&self, spec: &'static EndpointSpec, params: Map<String, Value>) -> Result<Value> {
        check_params(spec, &params)?;
        let split = split(spec, params, AutoIn::Body)?;
        let mut headers = split.headers;
        let json = Value::Object(split.body).to_string();
        if spec.id == "meeting.anonymous_join_info" {
            headers.push(("authorization".into(), sign::anonymous_authorization(&json)));
        }
        let url = self.base.join_url(&split.path)?;
        let body = bytes::Bytes::from(json);
        let sent_cur_time = AtomicI64::new(0);
        let resp = self
            .transport
            .send(Vendor::Netease, spec.id, spec.idempotent, |c| {
                // A fresh nonce and time for every attempt.
                let nonce = sign::nonce();
                let now = unix_secs();
                sent_cur_time.store(now, Ordering::Relaxed);
                let cur_time = now.to_string();
                let checksum = sign::request_checksum(self.config.app_secret.expose(), &nonce, &cur_time);
                let mut rb = c
                    .post(url.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/json;charset=utf-8")
                    .header("AppKey", &self.config.app_key)
                    .header("Nonce", nonce)
                    .header("CurTime", cur_time)
                    .header("CheckSum", checksum);
                for (k, v) in &headers {
                    rb = rb.header(k.as_str(), v);
                }
                rb.body(body.clone())
            })
            .await?;
        // Parsed once: the signature check and the decoding share it.
        let env = envelope::Envelope::parse(&resp.body);
        if let Some(env) = env.as_ref().filter(|e| e.code == 401) {
            return Err(signature_refused(spec, env, &resp, sent_cur_time.load(Ordering::Relaxed)));
        }
        envelope::decode_parsed(spec, &resp, env)
    }

    /// Without the callback receiver there is nothing to receive NetEase's events with.
    #[cfg(not(feature = "webhook"))]
    async fn subscribe(&self, _params: Map<String, Value>) -> Result<EventStream> {
        Err(Error::config(
            "netease events: this build of meetkit has no callback receiver (NetEase sends its events as HTTP \
             callbacks): rebuild with the `webhook` feature (the C library: bindings-c/install.sh PREFIX --features \
             webhook; Rust: meetkit-core's `webhook` feature, on by default)",
        ))
    }

    #[cfg(feature = "webhook")]
    async fn subscribe(&self, params: Map<String, Value>) -> Result<EventStream> {
        let listen = match params.get("listen") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(Error::config(format!("netease events: `listen` must be a string, got {other}")))
            }
            None => self.config.callback_listen.clone(),
        };
        let limits = ServeLimits {
            header_read_timeout: param_secs(&params, "header_timeout_secs")?,
            body_read_timeout: param_secs(&params, "body_timeout_secs")?,
            max_connections: match params.get("max_connections") {
                None | Some(Value::Null) => None,
                Some(v) => Some(v.as_u64().filter(|n| *n > 0).ok_or_else(|| {
                    Error::config(format!("netease events: `max_connections` must be a positive integer, got {v}"))
                })? as usize),
            },
        };
        match params.get("dedup_journal") {
            None | Some(Value::Null) => {}
            #[cfg(feature = "journal")]
            Some(Value::String(path)) => {
                let journal = crate::journal::Journal::open(std::path::Path::new(path))?;
                self.receiver.set_dedup_journal(Some(journal));
            }
            #[cfg(not(feature = "journal"))]
            Some(Value::String(path)) => {
                return Err(Error::config(format!(
                    "netease events: `dedup_journal` = {path:?}: this build of meetkit has no run journal (SQLite); \
                     rebuild with the `journal` feature (the C library: bindings-c/install.sh PREFIX --features \
                     webhook,journal), or leave `dedup_journal` out to de-duplicate in memory"
                )))
            }
            Some(other) => {
                return Err(Error::config(format!("netease events: `dedup_journal` must be a file path, got {other}")))
            }
        }
        let mut running = self.running.lock().await;
        if running.is_none() {
            let addr = listen.ok_or_else(|| {
                Error::config(
                    "netease events need a callback receiver: set callback_listen (e.g. \"127.0.0.1:8788\") in the \
                     profile's [netease] section or pass {\"listen\": ...}",
                )
            })?;
            let r = self.receiver.serve_with(&addr, &self.config.callback_path, limits).await?;
            tracing::info!(url = %r.url(), "netease callbacks: point NetEase's callback URL here");
            *running = Some(r);
        }
        drop(running);
        self.receiver.events()
    }
}

impl VendorApi for NeteaseClient {
    fn call<'a>(&'a self, spec: &'static EndpointSpec, params: Map<String, Value>) -> BoxFuture<'a, Result<Value>> {
        self.call_spec(spec, params).boxed()
    }

    fn events(&self, params: Map<String, Value>) -> BoxFuture<'_, Result<EventStream>> {
        self.subscribe(params).boxed()
    }
}

/// A positive number of seconds for a receiver limit, or a config error naming `field`.
fn receiver_secs(field: &str, secs: f64) -> Result<Duration> {
    match secs.is_finite() && secs > 0.0 && secs <= 86_400.0 {
        true => Ok(Duration::from_secs_f64(secs)),
        false => Err(Error::config(format!("{field} = {secs}: expected seconds greater than 0 and at most 86400"))),
    }
}

/// An optional seconds parameter of `events("netease", ...)`.
#[cfg(feature = "webhook")]
fn param_secs(params: &Map<String, Value>, name: &str) -> Result<Option<Duration>> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_f64() {
            Some(s) => receiver_secs(&format!("netease events `{name}`"), s).map(Some),
            None => Err(Error::config(format!("netease events: `{name}` must be a number of seconds, got {v}"))),
        },
    }
}

fn unix_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// A 401 answer: the signature was refused. Say whether the clock is the cause and by how much.
fn signature_refused(spec: &EndpointSpec, env: &envelope::Envelope, resp: &RawResponse, sent: i64) -> Error {
    let msg = env.msg.clone().unwrap_or_default();
    let rid = env.request_id.as_ref().map(|r| format!(", requestId {r}")).unwrap_or_default();
    let server = resp
        .headers
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|d| sign::parse_http_date(d).map(|secs| (d.to_string(), secs)));
    let mentions_time = ["过期", "expire", "curtime", "time"].iter().any(|w| msg.to_lowercase().contains(w));
    let head = format!("{} refused the request signature (error 401: {msg}{rid})", spec.id);
    let detail = match server {
        Some((date, server_secs)) => {
            let skew = sent - server_secs;
            let direction = if skew > 0 { "ahead of" } else { "behind" };
            if skew.abs() > SKEW_LIMIT_SECS {
                format!(
                    "clock skew: CurTime sent was {sent}, the server's Date was {date} ({server_secs}), so this \
                     machine's clock is {} s {direction} the server's; NetEase allows 1 minute — fix the clock",
                    skew.abs()
                )
            } else {
                format!(
                    "not clock skew: CurTime sent ({sent}) is within {} s of the server's Date ({date}); check the \
                     profile's netease.app_key and netease.app_secret",
                    skew.abs()
                )
            }
        }
        None if mentions_time => format!(
            "clock skew (the message says the signature expired): CurTime sent was {sent}; the server sent no Date \
             header, so the skew cannot be measured; NetEase allows 1 minute — check this machine's clock"
        ),
        None => format!(
            "the server sent no Date header, so clock skew (CurTime sent: {sent}; NetEase allows 1 minute) cannot be \
             told apart from wrong credentials; check this machine's clock and the profile's netease.app_key/app_secret"
        ),
    };
    Error::Auth { vendor: Vendor::Netease, message: format!("{head}: {detail}") }
}

/// Checks the table cannot express, done before anything is sent.
fn check_params(spec: &EndpointSpec, params: &Map<String, Value>) -> Result<()> {
    let invalid = |param: &str, reason: String| Error::InvalidParams {
        vendor: Vendor::Netease,
        endpoint: spec.id.to_string(),
        param: param.to_string(),
        reason,
    };
    let int = |name: &str| params.get(name).and_then(crate::json::as_int);
    // `type`: the doc declares String, its example sends 1; either way it must be 1, 2 or 3.
    if let Some(t) = params.get("type").filter(|v| !v.is_null()) {
        let ok = matches!(t, Value::Number(_) | Value::String(_)) && matches!(crate::json::as_int(t), Some(1..=3));
        if !ok {
            return Err(invalid("type", format!("expected meeting type 1, 2 or 3 (number or string), got {t}")));
        }
    }
    if let Some(subject) = params.get("subject").and_then(Value::as_str) {
        let n = subject.chars().count();
        if n == 0 || n > 30 {
            return Err(invalid("subject", format!("must be 1 to 30 characters, got {n}")));
        }
    }
    if spec.id == "meeting.create" && int("type") == Some(3) {
        for name in ["startTime", "endTime"] {
            if int(name).is_none() {
                return Err(invalid(name, "required for a scheduled meeting (type 3), epoch milliseconds".into()));
            }
        }
    }
    if let (Some(start), Some(end)) = (int("startTime"), int("endTime")) {
        if end != -1 && end <= start {
            return Err(invalid("endTime", format!("must be after startTime ({start}) or -1 (unlimited), got {end}")));
        }
    }
    // "4-8位" (4-8 digits) for an account's personal short number; meeting short numbers are not constrained.
    if let Some(short) = params.get("shortId").and_then(Value::as_str).filter(|_| spec.id.starts_with("account.")) {
        if !(4..=8).contains(&short.len()) || !short.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("shortId", format!("expected a short number of 4-8 digits, got {short:?}")));
        }
    }
    if let Some(size) = int("pageSize") {
        if !(1..=100).contains(&size) {
            return Err(invalid("pageSize", format!("must be 1 to 100, got {size}")));
        }
    }
    if int("pageIndex").is_some_and(|i| i < 0) {
        return Err(invalid("pageIndex", "must be 0 or more".into()));
    }
    if let Some(list) = params.get("statusList").and_then(Value::as_array) {
        if let Some(bad) = list.iter().find(|s| !matches!(crate::json::as_int(s), Some(1..=5)) || !s.is_number()) {
            return Err(invalid("statusList", format!("expected meeting status codes 1-5, got {bad}")));
        }
    }
    for name in ["video", "audio"] {
        if spec.id == "meeting.anonymous_join_info" && !matches!(int(name), Some(1 | 2)) {
            return Err(invalid(name, "expected 1 (on) or 2 (off)".into()));
        }
    }
    if let Some(t) = int("clientType") {
        if !(1..=8).contains(&t) {
            return Err(invalid(
                "clientType",
                format!("expected 1-8 (TV, iOS, Android, PC, Mac, Web, SIP, Linux), got {t}"),
            ));
        }
    }
    if let Some(nick) = params.get("nickName").and_then(Value::as_str) {
        let n = nick.chars().count();
        if n == 0 || n > 10 || !nick.chars().all(char::is_alphanumeric) {
            return Err(invalid("nickName", "expected 1 to 10 Chinese characters, letters or digits".into()));
        }
    }
    if let Some(controls) = params.get("settings").and_then(|s| s.get("controls")).and_then(Value::as_array) {
        for (i, c) in controls.iter().enumerate() {
            if let Some(t) = c.get("type").and_then(Value::as_str) {
                if t != "audio" && t != "video" {
                    return Err(invalid(
                        &format!("settings.controls[{i}].type"),
                        format!("expected audio or video, got {t:?}"),
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
