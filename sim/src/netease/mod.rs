//! Simulator of the NetEase Meeting REST API (`/v1/account/*`,
//! `/v1/meeting/anonymousJoinInfo`, `/v2/meeting/*`), written from the
//! vendor doc, plus signed outgoing callbacks.
//!
//! Every endpoint is `POST` with a JSON body. Every request must carry
//! `AppKey`, `Nonce`, `CurTime` (epoch seconds) and `CheckSum` =
//! sha1(AppSecret + Nonce + CurTime). Answers are always HTTP 200 (the doc
//! documents no error statuses) with the common response
//! `{code, msg, requestId, costTime, ret}` and the doc's deviations:
//!
//! - success carries no `msg` (the record/list example, the only standard
//!   success example, has none);
//! - edit / cancel / deleteBy*: success is just `{"code":200}`, errors
//!   `{"code","msg"}` (their examples);
//! - updateToken / updateShortId: no `ret`;
//! - record/list: `ret` is an array; anonymousJoinInfo repeats code/msg
//!   inside `ret`.
//!
//! Signature checks (the doc names no codes): a missing or malformed
//! signature header (AppKey, Nonce of 1-128 characters, CurTime as an
//! integer, CheckSum) is 302 非法header; a wrong AppKey or CheckSum, or a
//! CurTime more than 60 s away from the REAL clock, is 401 请求未通过验证.
//! The real clock is used on purpose: clients sign with their system
//! clock, and advancing the virtual clock (to reach a scheduled start)
//! must not make them stale. A `Content-Type` charset other than UTF-8 is
//! 303; a body that is not a JSON object is 300 (an empty body counts as
//! `{}`).
//!
//! Strict mode (the default; `docs/assumptions.md`, NetEase entries) also
//! refuses what the doc leaves open but meetkit never sends: a CheckSum
//! with uppercase hex digits (the doc says lowercase; 401), a Nonce already
//! used within the CurTime window (a replay; 401), and a missing or
//! non-`application/json` Content-Type (302 非法header). Lenient mode
//! accepts all three.

mod admin;
mod callbacks;
mod errors;
mod files;
mod handlers;
mod params;
mod sign;
mod state;

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::common::{Backend, Clock};
use crate::NeteaseOptions;
use errors::{ApiError, ApiResult};
use params::Body;
use state::State;

/// Accepted distance between `CurTime` and the server clock (doc: more
/// than one minute is a signature-expired error; exactly 60 s passes).
const MAX_SKEW_SECS: i64 = 60;

/// Everything a handler may touch while holding the state lock.
pub(crate) struct Ctx<'a> {
    /// The state (already ticked to `now`).
    pub st: &'a mut State,
    /// Virtual time of this request.
    pub now: f64,
    /// Simulator options.
    pub opts: &'a NeteaseOptions,
    /// Root URL for produced download URLs.
    pub base: &'a str,
    /// Request headers.
    pub headers: &'a HeaderMap,
    /// Raw request body.
    pub raw: &'a [u8],
}

/// An endpoint handler: the `ret` value (`Null` for none).
type Handler = fn(&mut Ctx<'_>, &Body<'_>) -> ApiResult<Value>;

/// How an endpoint wraps its answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Envelope {
    /// `{code, requestId, costTime, ret}`; errors `{code, msg, requestId, costTime}`.
    Common,
    /// Like `Common` without `ret` (updateToken / updateShortId).
    NoRet,
    /// `{"code":200}`; errors `{code, msg}` (edit / cancel / deleteBy*).
    Bare,
}

struct Endpoint {
    /// Catalog id.
    id: &'static str,
    path: &'static str,
    envelope: Envelope,
    handler: Handler,
}

const fn ep(id: &'static str, path: &'static str, envelope: Envelope, handler: Handler) -> Endpoint {
    Endpoint { id, path, envelope, handler }
}

/// The 15 documented endpoints.
static ENDPOINTS: &[Endpoint] = &[
    ep("account.create", "/v1/account/create", Envelope::Common, handlers::account_create),
    ep("account.get_by_im_accid", "/v1/account/getByImAccid", Envelope::Common, handlers::account_get_by_im_accid),
    ep(
        "account.get_by_account_id",
        "/v1/account/getByAccountId",
        Envelope::Common,
        handlers::account_get_by_account_id,
    ),
    ep("account.update_token", "/v1/account/updateToken", Envelope::NoRet, handlers::account_update_token),
    ep("account.update_short_id", "/v1/account/updateShortId", Envelope::NoRet, handlers::account_update_short_id),
    ep("meeting.create", "/v2/meeting/create", Envelope::Common, handlers::meeting_create),
    ep("meeting.anonymous_join_info", "/v1/meeting/anonymousJoinInfo", Envelope::Common, handlers::anonymous_join_info),
    ep("meeting.get", "/v2/meeting/get", Envelope::Common, handlers::meeting_get),
    ep("meeting.update", "/v2/meeting/edit", Envelope::Bare, handlers::meeting_update),
    ep("meeting.cancel", "/v2/meeting/cancel", Envelope::Bare, handlers::meeting_cancel),
    ep("meeting.end_by_unique_id", "/v2/meeting/deleteByMeetingUniqueId", Envelope::Bare, handlers::end_by_unique_id),
    ep("meeting.end_by_meeting_id", "/v2/meeting/deleteByMeetingId", Envelope::Bare, handlers::end_by_meeting_id),
    ep("meeting.end_by_short_id", "/v2/meeting/deleteByMeetingShortId", Envelope::Bare, handlers::end_by_short_id),
    ep("meeting.record_list", "/v2/meeting/record/list", Envelope::Common, handlers::record_list),
    ep("meeting.list", "/v2/meeting/list", Envelope::Common, handlers::meeting_list),
];

/// The NetEase simulator: options, clock, state and callback sender.
pub(crate) struct Netease {
    pub(crate) opts: NeteaseOptions,
    base_url: String,
    clock: Arc<Clock>,
    state: Mutex<State>,
    pub(crate) callbacks: Arc<callbacks::Callbacks>,
    /// Strict mode: accept only the one reading of the docs that meetkit sends
    /// (see `docs/assumptions.md`); lenient mode accepts every plausible one.
    pub(crate) strict: bool,
    /// Nonces of accepted requests (strict mode refuses a replay).
    nonces: Mutex<NonceLog>,
}

/// Nonces seen with their (real) arrival second, kept for as long as a
/// CurTime stays acceptable.
#[derive(Default)]
struct NonceLog {
    seen: HashSet<String>,
    order: VecDeque<(i64, String)>,
}

impl NonceLog {
    /// Record `nonce` at `now`; false when it was used within the window.
    fn fresh(&mut self, nonce: &str, now: i64) -> bool {
        while let Some((at, _)) = self.order.front() {
            if now - *at <= 2 * MAX_SKEW_SECS {
                break;
            }
            if let Some((_, n)) = self.order.pop_front() {
                self.seen.remove(&n);
            }
        }
        if !self.seen.insert(nonce.to_owned()) {
            return false;
        }
        self.order.push_back((now, nonce.to_owned()));
        true
    }
}

impl Netease {
    /// A fresh simulator serving at `base_url`.
    pub(crate) fn new(opts: NeteaseOptions, clock: Arc<Clock>, base_url: String, strict: bool) -> Self {
        let callbacks = Arc::new(callbacks::Callbacks::new(opts.clone()));
        Netease {
            opts,
            base_url,
            clock,
            state: Mutex::new(State::default()),
            callbacks,
            strict,
            nonces: Mutex::new(NonceLog::default()),
        }
    }

    /// Run `f` on the state ticked to the current virtual time; callbacks
    /// produced (by the tick or by `f`) are queued for delivery.
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&mut State, f64) -> R) -> R {
        let now = self.clock.now();
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.tick(now, &self.opts, &self.base_url);
        let r = f(&mut st, now);
        st.tick(now, &self.opts, &self.base_url);
        let events = std::mem::take(&mut st.events);
        if !events.is_empty() {
            self.callbacks.enqueue(events);
        }
        r
    }

    /// Background work: the callback dispatcher and a ticker that applies
    /// time-based transitions (and so emits their callbacks) without
    /// waiting for a request. Both stop with `stop`.
    pub(crate) fn spawn_workers(self: &Arc<Self>, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
        let clock = self.clock.clone();
        let dispatcher = callbacks::spawn(self.callbacks.clone(), Arc::new(move || clock.now()), stop.clone());
        let me = self.clone();
        let mut stop = stop;
        let ticker = tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_millis(50));
            loop {
                tokio::select! {
                    _ = every.tick() => me.with_state(|_, _| ()),
                    _ = stop.wait_for(|s| *s) => break,
                }
            }
        });
        vec![dispatcher, ticker]
    }
}

impl Backend for Netease {
    fn reset(&self) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = State::default();
        *self.nonces.lock().unwrap_or_else(|e| e.into_inner()) = NonceLog::default();
        self.callbacks.reset();
    }

    fn dump_state(&self) -> Value {
        let mut v = self.with_state(|st, _| st.dump());
        v["callbackUrl"] = self.callbacks.list()["callbackUrl"].clone();
        v
    }

    fn fault_body(&self, code: i64) -> Value {
        json!({"code": code, "msg": errors::code_msg(code), "requestId": request_id(), "costTime": "0ms"})
    }
}

/// Routes of the NetEase server (API, recording files, admin).
pub(crate) fn router(ne: Arc<Netease>) -> Router {
    Router::new()
        .route("/v1/{*path}", any(api))
        .route("/v2/{*path}", any(api))
        .route("/vod/{uid}/{filename}", get(files::download))
        .merge(admin::routes())
        .with_state(ne)
}

/// `mc_` + 12 digits, like the doc's `mc_932241123450`.
fn request_id() -> String {
    format!("mc_{}", state::digits(12))
}

fn real_now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

/// The request signature rule (see the module doc for the codes).
fn check_signature(ne: &Netease, headers: &HeaderMap) -> ApiResult<()> {
    let opts = &ne.opts;
    let get = |name: &str| header_str(headers, name).ok_or_else(|| ApiError::detail(302, name));
    let (app_key, nonce, cur_time, check_sum) = (get("AppKey")?, get("Nonce")?, get("CurTime")?, get("CheckSum")?);
    if nonce.chars().count() > 128 {
        return Err(ApiError::detail(302, "Nonce"));
    }
    let cur: i64 = cur_time.parse().map_err(|_| ApiError::detail(302, "CurTime"))?;
    if app_key != opts.app_key {
        return Err(ApiError::detail(401, "AppKey"));
    }
    let expected = sign::request_checksum(&opts.app_secret, nonce, cur_time);
    if !sign::checksum_matches(check_sum, &expected) {
        return Err(ApiError::detail(401, "CheckSum"));
    }
    // The doc: "16进制字符(String，小写)"; lenient mode takes either case.
    if ne.strict && check_sum != expected {
        return Err(ApiError::detail(401, "CheckSum must be lowercase hex"));
    }
    let now = real_now_secs();
    if (cur - now).abs() > MAX_SKEW_SECS {
        return Err(ApiError::detail(401, "CurTime expired"));
    }
    if ne.strict && !ne.nonces.lock().unwrap_or_else(|e| e.into_inner()).fresh(nonce, now) {
        return Err(ApiError::detail(401, "Nonce already used"));
    }
    Ok(())
}

/// Strict mode: the doc's `Content-Type: application/json` is required.
fn check_content_type(ne: &Netease, headers: &HeaderMap) -> ApiResult<()> {
    if !ne.strict {
        return Ok(());
    }
    let ct = header_str(headers, header::CONTENT_TYPE.as_str()).unwrap_or_default();
    let mime = ct.split(';').next().unwrap_or_default().trim();
    if mime.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(ApiError::detail(302, "Content-Type must be application/json"))
    }
}

/// 303 when the request declares a charset other than UTF-8.
fn check_charset(headers: &HeaderMap) -> ApiResult<()> {
    let Some(ct) = header_str(headers, header::CONTENT_TYPE.as_str()) else { return Ok(()) };
    for part in ct.split(';').skip(1) {
        if let Some((k, v)) = part.split_once('=') {
            let v = v.trim().trim_matches('"');
            if k.trim().eq_ignore_ascii_case("charset")
                && !v.eq_ignore_ascii_case("utf-8")
                && !v.eq_ignore_ascii_case("utf8")
            {
                return Err(ApiError::new(303));
            }
        }
    }
    Ok(())
}

fn envelope(kind: Envelope, result: ApiResult<Value>, started: Instant) -> Value {
    let mut body = Map::new();
    let cost = format!("{}ms", started.elapsed().as_millis());
    match result {
        Err(e) => {
            body.insert("code".into(), e.code.into());
            body.insert("msg".into(), e.msg.into());
            if kind != Envelope::Bare {
                body.insert("requestId".into(), request_id().into());
                body.insert("costTime".into(), cost.into());
            }
        }
        Ok(ret) => {
            body.insert("code".into(), 200.into());
            if kind != Envelope::Bare {
                body.insert("requestId".into(), request_id().into());
                body.insert("costTime".into(), cost.into());
            }
            if kind == Envelope::Common {
                body.insert("ret".into(), ret);
            }
        }
    }
    Value::Object(body)
}

/// `POST /v1/...`, `POST /v2/...`.
async fn api(AxState(ne): AxState<Arc<Netease>>, method: Method, uri: Uri, headers: HeaderMap, raw: Bytes) -> Response {
    let started = Instant::now();
    let Some(endpoint) = ENDPOINTS.iter().find(|e| e.path == uri.path()) else {
        return (StatusCode::NOT_FOUND, Json(json!({"code": 404, "msg": "Not Found"}))).into_response();
    };
    if method != Method::POST {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "POST")]).into_response();
    }
    tracing::debug!(endpoint = endpoint.id, "netease request");
    let result = check_signature(&ne, &headers)
        .and_then(|()| check_content_type(&ne, &headers))
        .and_then(|()| check_charset(&headers))
        .and_then(|()| {
            let parsed: Value = if raw.iter().all(u8::is_ascii_whitespace) {
                json!({})
            } else {
                serde_json::from_slice(&raw).map_err(|_| ApiError::detail(300, "body is not JSON"))?
            };
            let obj = parsed.as_object().ok_or_else(|| ApiError::detail(300, "body is not a JSON object"))?;
            ne.with_state(|st, now| {
                let mut ctx = Ctx { st, now, opts: &ne.opts, base: &ne.base_url, headers: &headers, raw: &raw };
                (endpoint.handler)(&mut ctx, &Body(obj))
            })
        });
    let mut resp = Json(envelope(endpoint.envelope, result, started)).into_response();
    // The doc's answers: `application/json; charset=utf-8`.
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json; charset=utf-8"));
    resp
}
