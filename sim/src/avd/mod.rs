//! Simulator of the 3tee AVD server API (`/sdkapi/v2`, `/uploadfile`,
//! `/attachment`, `/videoPlayer`), written from the vendor doc.
//!
//! The doc allows GET or POST for every `/sdkapi/v2` endpoint and shows only GET
//! examples with every parameter (token included) in the query string. Strict mode
//! (the default) accepts exactly that, as meetkit sends it: GET with query parameters
//! (POST answers 405). Lenient mode also accepts POST, with parameters in the query
//! string and/or an `application/x-www-form-urlencoded` body.
//! Answers are always HTTP 200 with the endpoint's documented envelope:
//! `{"ret", "msg", ...}` for most, `{"code": 200|err, "msg"}` for
//! `/room/close` and `/room/participate/{kick,list}`, a bare object of
//! counters for a successful `/room/get_statistic`, and no `msg` on a
//! successful `/app/get_token`.
//!
//! Where the doc contradicts itself, the rule is: an endpoint's own
//! failure example wins for the situation it shows (it is a captured
//! server reply); appendix codes cover situations no example shows.

mod admin;
mod app;
mod device;
mod errors;
pub(crate) mod files;
mod live;
mod media;
mod params;
mod recording;
mod rooms;
mod sip;
pub(crate) mod state;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde_json::{Map, Value};

use crate::common::{Backend, Clock};
use crate::AvdOptions;
use errors::{ApiError, ApiResult};
use params::Params;
use state::{AvdState, Ids};

/// Prefix of every API endpoint.
const API_PREFIX: &str = "/sdkapi/v2";

/// Payload fields of a successful answer (merged into the envelope).
pub(crate) type Payload = Map<String, Value>;

/// Turn a `json!({...})` object literal into a [`Payload`].
pub(crate) fn payload(v: Value) -> Payload {
    match v {
        Value::Object(m) => m,
        other => panic!("payload must be an object, got {other}"),
    }
}

/// Everything a handler may touch while holding the state lock.
pub(crate) struct Ctx<'a> {
    /// The state (already ticked to `now`).
    pub st: &'a mut AvdState,
    /// Virtual time of this request.
    pub now: f64,
    /// Root URL as the client reached the server (for produced URLs).
    pub base: &'a str,
    /// Options and id source.
    pub avd: &'a Avd,
}

impl Ctx<'_> {
    /// Room definition must exist (40004 otherwise).
    pub(crate) fn room(&self, room_id: &str) -> ApiResult<&state::RoomDef> {
        self.st.rooms.get(room_id).ok_or_else(ApiError::no_room)
    }

    /// Room must exist (40004) and hold a meeting (40009).
    pub(crate) fn open_room(&self, room_id: &str) -> ApiResult<()> {
        self.room(room_id)?;
        if self.st.is_open(room_id) {
            Ok(())
        } else {
            Err(ApiError::room_not_open())
        }
    }
}

/// An endpoint handler.
type Handler = fn(&mut Ctx<'_>, &Params) -> ApiResult<Payload>;

/// How an endpoint wraps its answers.
#[derive(Clone, Copy)]
enum Envelope {
    /// `{"ret": 0, "msg": "success", ...payload}`; errors `{"ret", "msg"}`.
    Ret,
    /// Like `Ret` with a specific success msg (`/device/call`'s "successs").
    RetMsg(&'static str),
    /// `{"ret": 0, ...payload}` without msg (`/app/get_token`).
    RetNoMsg,
    /// `{"code": 200, "msg": "success", ...}`; errors `{"code", "msg"}`.
    Code,
    /// Success is the bare payload; errors `{"ret", "msg"}`.
    Bare,
}

struct Endpoint {
    path: &'static str,
    envelope: Envelope,
    /// Requires a valid `token`.
    auth: bool,
    handler: Handler,
}

const fn ep(path: &'static str, envelope: Envelope, handler: Handler) -> Endpoint {
    Endpoint { path, envelope, auth: true, handler }
}

/// Every documented `/sdkapi/v2` endpoint.
static ENDPOINTS: &[Endpoint] = &[
    // Rooms.
    ep("/room/create", Envelope::Ret, rooms::create),
    ep("/room/update", Envelope::Ret, rooms::update),
    ep("/room/del", Envelope::Ret, rooms::del),
    ep("/room/read", Envelope::Ret, rooms::read),
    ep("/room/close", Envelope::Code, rooms::close),
    ep("/room/get_statistic", Envelope::Bare, rooms::get_statistic),
    ep("/room/participate/kick", Envelope::Code, rooms::kick),
    ep("/room/participate/list", Envelope::Code, rooms::participants),
    ep("/room/list", Envelope::Ret, rooms::list),
    ep("/room/get_chat_message_log", Envelope::Ret, rooms::chat_log),
    // Recordings.
    ep("/room/mix_record/start", Envelope::Ret, recording::mix_start),
    ep("/room/mix_record/stop", Envelope::Ret, recording::mix_stop),
    ep("/room/mix_record/get", Envelope::Ret, recording::mix_get),
    ep("/room/mix_record/update_layout", Envelope::Ret, recording::update_layout),
    ep("/room/mix_record/update_audio_layout", Envelope::Ret, recording::update_audio_layout),
    ep("/room/record/status", Envelope::Ret, recording::status),
    ep("/room/record/get", Envelope::Ret, recording::audio_get),
    ep("/room/get_record", Envelope::Ret, recording::get_record),
    ep("/room/get_record_list", Envelope::Ret, recording::get_record_list),
    ep("/room/desktop_record/start", Envelope::Ret, recording::desktop_start),
    ep("/room/desktop_record/stop", Envelope::Ret, recording::desktop_stop),
    ep("/room/desktop_record/get", Envelope::Ret, recording::desktop_get),
    ep("/room/record/transfer", Envelope::Ret, recording::transfer),
    ep("/transcode/query", Envelope::Ret, recording::transcode_query),
    ep("/room/del_record", Envelope::Ret, recording::del_record),
    ep("/room/delete_record", Envelope::Ret, recording::delete_record),
    // Lives and AVC.
    ep("/room/mix_live/start", Envelope::Ret, live::mix_live_start),
    ep("/room/mix_live/stop", Envelope::Ret, live::mix_live_stop),
    ep("/room/live/start", Envelope::Ret, live::live_start),
    ep("/room/live/stop", Envelope::Ret, live::live_stop),
    ep("/room/avc/start", Envelope::Ret, live::avc_start),
    ep("/room/avc/stop", Envelope::Ret, live::avc_stop),
    ep("/room/avc/select_media", Envelope::Ret, live::avc_select_media),
    ep("/room/avc/set_focus_video", Envelope::Ret, live::avc_set_focus_video),
    ep("/room/avc/update_layout", Envelope::Ret, live::avc_update_layout),
    ep("/room/avc/get_avc_setting", Envelope::Ret, live::avc_get_setting),
    // Media players.
    ep("/media/create", Envelope::Ret, media::create),
    ep("/media/play", Envelope::Ret, media::play),
    ep("/media/stop", Envelope::Ret, media::stop),
    ep("/media/pause", Envelope::Ret, media::pause),
    ep("/media/resume", Envelope::Ret, media::resume),
    ep("/media/replay", Envelope::Ret, media::replay),
    ep("/media/switch", Envelope::Ret, media::switch),
    ep("/media/get_media_info", Envelope::Ret, media::get_media_info),
    // Application / licence.
    Endpoint { path: "/app/get_token", envelope: Envelope::RetNoMsg, auth: false, handler: app::get_token },
    ep("/app/get_licence_info", Envelope::Ret, app::get_licence_info),
    ep("/app/get_system_info", Envelope::Ret, app::get_system_info),
    ep("/app/apply_file_permit", Envelope::Ret, app::apply_file_permit),
    ep("/app/delete_file_permit", Envelope::Ret, app::delete_file_permit),
    ep("/app/get_key_licence", Envelope::Ret, app::get_key_licence),
    // SIP.
    ep("/sip/gate/create", Envelope::Ret, sip::gate_create),
    ep("/sip/gate/update", Envelope::Ret, sip::gate_update),
    ep("/sip/gate/read", Envelope::Ret, sip::gate_read),
    ep("/sip/gate/del", Envelope::Ret, sip::gate_del),
    ep("/sip/gate/list", Envelope::Ret, sip::gate_list),
    ep("/sip/account/create", Envelope::Ret, sip::account_create),
    ep("/sip/account/update", Envelope::Ret, sip::account_update),
    ep("/sip/account/read", Envelope::Ret, sip::account_read),
    ep("/sip/account/del", Envelope::Ret, sip::account_del),
    // Devices.
    ep("/device/call", Envelope::RetMsg("successs"), device::call),
    ep("/device/kick", Envelope::Ret, device::kick),
    ep("/device/video/focus", Envelope::Ret, device::video_focus),
    ep("/device/video/unfocus", Envelope::Ret, device::video_unfocus),
    ep("/device/video/close", Envelope::Ret, device::video_close),
    ep("/device/video/open", Envelope::Ret, device::video_open),
    ep("/device/audio/mute", Envelope::Ret, device::audio_mute),
    ep("/device/audio/unmute", Envelope::Ret, device::audio_unmute),
    ep("/device/get_invite_status", Envelope::Ret, device::get_invite_status),
];

/// The AVD simulator: options, clock and state.
pub(crate) struct Avd {
    pub(crate) opts: AvdOptions,
    /// `http://host:port` of the bound listener.
    pub(crate) base_url: String,
    clock: Arc<Clock>,
    pub(crate) ids: Ids,
    state: Mutex<AvdState>,
    /// Strict mode: accept only the one reading of the docs that meetkit sends
    /// (see `docs/assumptions.md`); lenient mode accepts every plausible one.
    pub(crate) strict: bool,
}

impl Avd {
    /// A fresh simulator.
    pub(crate) fn new(opts: AvdOptions, clock: Arc<Clock>, base_url: String, strict: bool) -> Self {
        Avd { opts, base_url, clock, ids: Ids::default(), state: Mutex::new(AvdState::default()), strict }
    }

    /// Run `f` on the state, ticked to the current virtual time.
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&mut AvdState, f64) -> R) -> R {
        let now = self.clock.now();
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.tick(now);
        f(&mut st, now)
    }
}

impl Backend for Avd {
    fn reset(&self) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = AvdState::default();
    }

    fn dump_state(&self) -> Value {
        self.with_state(|st, now| st.dump(now))
    }

    fn fault_body(&self, code: i64) -> Value {
        serde_json::json!({"ret": code, "msg": errors::appendix_msg(code)})
    }
}

/// Routes of the AVD server (API, files, `/_sim/avd/` admin).
pub(crate) fn router(avd: Arc<Avd>) -> Router {
    Router::new()
        .route("/sdkapi/v2/{*path}", any(sdkapi))
        .route("/attachment", get(files::attachment))
        .route("/videoPlayer", get(files::video_player))
        .route("/videoPlayer/", get(files::video_player))
        .route("/uploadfile", post(files::upload).layer(DefaultBodyLimit::max(files::BODY_LIMIT)))
        .merge(admin::routes())
        .with_state(avd)
}

/// Check the `token` parameter (missing, unknown or expired: 40003).
fn check_token(ctx: &Ctx<'_>, params: &Params) -> ApiResult<()> {
    let token = params.get("token").ok_or_else(ApiError::token_invalid)?;
    match ctx.st.tokens.get(token) {
        Some(expires) if *expires > ctx.now => Ok(()),
        _ => Err(ApiError::token_invalid()),
    }
}

fn envelope(kind: Envelope, result: ApiResult<Payload>) -> Value {
    let mut body = Map::new();
    match (kind, result) {
        (Envelope::Code, Err(e)) => {
            body.insert("code".into(), e.code.into());
            body.insert("msg".into(), e.msg.into());
        }
        (_, Err(e)) => {
            body.insert("ret".into(), e.code.into());
            body.insert("msg".into(), e.msg.into());
        }
        (Envelope::Bare, Ok(p)) => return Value::Object(p),
        (kind, Ok(p)) => {
            match kind {
                Envelope::Code => body.insert("code".into(), 200.into()),
                _ => body.insert("ret".into(), 0.into()),
            };
            match kind {
                Envelope::RetNoMsg => {}
                Envelope::RetMsg(msg) => {
                    body.insert("msg".into(), msg.into());
                }
                _ => {
                    body.insert("msg".into(), "success".into());
                }
            }
            body.extend(p);
        }
    }
    Value::Object(body)
}

/// `GET|POST /sdkapi/v2/<endpoint>`.
async fn sdkapi(State(avd): State<Arc<Avd>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let allowed = method == Method::GET || (method == Method::POST && !avd.strict);
    if !allowed {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, if avd.strict { "GET" } else { "GET, POST" })])
            .into_response();
    }
    let path = uri.path().strip_prefix(API_PREFIX).unwrap_or_default();
    let Some(endpoint) = ENDPOINTS.iter().find(|e| e.path == path) else {
        return (StatusCode::NOT_FOUND, "404 page not found\n").into_response();
    };
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let form = (method == Method::POST && is_form).then_some(&body[..]);
    let params = Params::parse(uri.query(), form, avd.strict);
    let base = files::file_base(&avd, &headers);
    let result = avd.with_state(|st, now| {
        let mut ctx = Ctx { st, now, base: &base, avd: &avd };
        if endpoint.auth {
            check_token(&ctx, &params)?;
        }
        (endpoint.handler)(&mut ctx, &params)
    });
    Json(envelope(endpoint.envelope, result)).into_response()
}
