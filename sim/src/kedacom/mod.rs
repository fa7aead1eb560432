//! Simulator of the Kedacom meeting-management API (会管API V6.1.0.4,
//! `/api/v1/mc/*`, `/api/mc/version`) plus the login flow the doc leaves
//! out (`/api/v1/system/*`, after Kedacom's published flow).
//!
//! # Transport
//!
//! GET parameters come from the query string. POST bodies are
//! `application/x-www-form-urlencoded` with `account_token` and `params`
//! (the URL-encoded JSON text of the request object); like servlet
//! request parameters, query-string values are merged in. The file upload
//! is `multipart/form-data` with the file in part `file` (`account_token`
//! as another part or in the query). Deletes are `DELETE` (parameters in
//! the query or a form body) or `POST` with `_method=DELETE`. Path keys
//! are percent-decoded (`/booked_confs/123%23456` addresses `123#456`).
//! Every answer is HTTP 200 with a flat JSON object: `{"success": 1,
//! ...payload}` or `{"success": 0, "error_code", "description"}`.
//!
//! # Login lifecycle
//!
//! 1. `POST /api/v1/system/token` (`oauth_consumer_key`,
//!    `oauth_consumer_secret`) -> `{"success": 1, "account_token"}`.
//! 2. `POST /api/v1/system/login` (`account_token`, `username`,
//!    `password`) -> `{"success": 1, "username", "moid"}` and
//!    `Set-Cookie: SSO_COOKIE_KEY=...`.
//! 3. `POST /api/v1/system/token/{account_token}/heartbeat` keeps the
//!    token alive; `POST /api/v1/system/logout` ends the session.
//!
//! The three paths are [`crate::KedacomOptions`] fields (a deployment's
//! gateway may use others: the flow is not in doc 001). A token expires
//! after [`crate::KedacomOptions::token_idle_timeout`] of virtual time
//! without a successful use (any authenticated call or heartbeat). Every
//! `/api/v1/mc/*` call needs a live `account_token` and the
//! `SSO_COOKIE_KEY` cookie of the login made with that token; a token
//! issued out of band (`POST /_sim/kedacom/tokens`) is logged in already
//! and needs no cookie.
//!
//! Expiry (10002, 10004) is answered with HTTP 401 and the failure
//! envelope, unless [`crate::KedacomOptions::expiry_code`] names a code to
//! answer with HTTP 200 instead: meetkit's assumption for a flow the doc
//! does not describe (see `docs/assumptions.md`, `kedacom.expiry_codes`).
//!
//! # Strict and lenient readings (doc 001 leaves them open)
//!
//! | point | strict (meetkit's reading) | lenient adds |
//! |---|---|---|
//! | POST body | form field `params` = JSON text | a JSON body as the `params` object; `params` in the query string |
//! | integer flags/enums | JSON integers | numeric strings (`"1"`) and booleans |
//! | DELETE parameters | query string (`account_token`) | a form body |
//! | `_method=DELETE` | a field of the POST form | in the query string |
//! | heartbeat | `POST` | `GET` |
//!
//! # Error codes (the doc has no table; these are the simulator's)
//!
//! | code  | meaning |
//! |-------|---------|
//! | 10001 | wrong `oauth_consumer_key` / `oauth_consumer_secret` |
//! | 10002 | `account_token` missing, unknown, idle-expired or logged out |
//! | 10003 | wrong `username` / `password` |
//! | 10004 | `SSO_COOKIE_KEY` cookie missing or not the one of this token's login |
//! | 10005 | administrator permission required (meeting room areas) |
//! | 10006 | endpoint's minimum API level above the server's `api_level` |
//! | 20001 | required parameter or `params` field missing |
//! | 20002 | invalid parameter: wrong JSON type (flags/enums are integers), undocumented enum value, too long, not ISO 8601 with offset, unknown `platform_id`, bad paging value |
//! | 20003 | `params` is not a JSON object |
//! | 30001 | no booked conference with this `conf_id` |
//! | 30002 | no meeting with this `meeting_id` |
//! | 30003 | no running conference with this `conf_id` |
//! | 30004 | no virtual meeting room with this id (guests: or not a guest room) |
//! | 30005 | no meeting room area with this id |
//! | 30006 | no meeting file with this id |
//! | 30007 | no conference template with this id (or not usable by this user) |
//! | 30008 | virtual meeting room in use (start a second conference, delete) |
//! | 30009 | booked conference already started (update, delete, start early) |
//! | 30010 | no free conference resource of this `max_join_mt` |
//! | 30011 | booked `start_time` in the past |
//! | 30012 | conference type impossible on this platform (`enable_rtc` 1 without RTC) |
//! | 40001 | uploaded file larger than 20 MB |
//! | 40002 | the meeting already has 10 files |
//! | 40003 | file type not one of the 13 documented types |
//! | 40004 | not multipart with exactly one `file` part |
//!
//! # Decisions where the doc is silent
//!
//! - Booked conferences are listed by `booked_confs.*` while booked or
//!   running; they start by themselves at `start_time` and end at
//!   start + `duration` minutes (0 = permanent). Ended meetings stay in
//!   `meetings.*` with state 3. Time windows match by overlap.
//! - `create_type` 5 accepts the booked conference's `conf_id` or
//!   `meeting_id` as `template_id`; `create_type` 4 runs the conference
//!   under the room's `e164` as `conf_id`.
//! - Templates (API not in the doc) are seeded: public `sim-public-template`
//!   and the admin's personal `sim-personal-template`.
//! - The simulated platform has port permission and supports RTC (unless
//!   `platform_rtc` is off) and SFU: `conf_type` 4 resolves to a port
//!   conference (1) with RTC unless only RTC terminals and no RTC
//!   (then SFU, 2); H.265 and SM1/SM4 turn RTC off.
//! - Meeting files are served at `file_url` = `/files/meeting/{file_id}/{name}`
//!   (relative, as the doc says), without auth, with Content-Length,
//!   Content-MD5 and Range support.
//!
//! # Admin routes
//!
//! - `POST /_sim/kedacom/tokens/expire`: expire every token now.
//! - `POST /_sim/kedacom/booked_confs`: seed a booked conference without
//!   validation (any `start_time`, optional fixed `conf_id`/`meeting_id`).

mod admin;
mod confs;
mod errors;
mod files;
mod params;
mod rooms;
mod schema;
mod state;
mod system;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::common::{Backend, Clock};
use crate::KedacomOptions;
use errors::{ApiError, ApiResult};
use params::Params;
use state::{Ids, KedacomState, User};

/// Payload fields of a successful answer (merged beside `success`).
pub(crate) type Payload = Map<String, Value>;

/// Turn a `json!({...})` object literal into a [`Payload`].
pub(crate) fn payload(v: Value) -> Payload {
    match v {
        Value::Object(m) => m,
        other => panic!("payload must be an object, got {other}"),
    }
}

/// `{"description": "success"}` for updates and deletes.
pub(crate) fn done() -> Payload {
    payload(json!({"description": "success"}))
}

/// An uploaded file part.
pub(crate) struct Upload {
    /// Client file name (last path component).
    pub name: String,
    /// Content.
    pub data: Bytes,
}

/// One decoded request.
pub(crate) struct Req {
    /// Query string and form fields.
    pub params: Params,
    /// Percent-decoded path key (`{conf_id}`, `{id}`, ...).
    pub key: String,
    /// `file` parts of a multipart upload.
    pub files: Vec<Upload>,
    /// Lenient mode: integer fields of `params` may come as numeric strings or booleans.
    pub lenient: bool,
}

impl Req {
    /// The `params` JSON object; in lenient mode its integer fields (per `schema`) sent as
    /// numeric strings or booleans are turned into integers first.
    pub(crate) fn json_params(&self, schema: &[params::F]) -> ApiResult<Map<String, Value>> {
        let mut obj = self.params.json_params()?;
        if self.lenient {
            params::coerce_ints(schema, &mut obj);
        }
        Ok(obj)
    }
}

/// Everything a handler may touch while holding the state lock.
pub(crate) struct Ctx<'a> {
    /// The state (ticked to `now`).
    pub st: &'a mut KedacomState,
    /// Virtual time of this request.
    pub now: f64,
    /// The logged-in user.
    pub user: User,
    /// Options and ids.
    pub k: &'a Kedacom,
}

/// An endpoint handler.
type Handler = fn(&mut Ctx<'_>, &Req) -> ApiResult<Payload>;

struct Endpoint {
    /// Catalog id (for logs and the docs).
    #[allow(dead_code)]
    id: &'static str,
    method: Method,
    /// First path segment after `/api/v1/mc/`.
    resource: &'static str,
    /// Has a `/{key}` segment.
    keyed: bool,
    min_api_level: i64,
    admin_only: bool,
    handler: Handler,
}

const fn ep(
    id: &'static str,
    method: Method,
    resource: &'static str,
    keyed: bool,
    min_api_level: i64,
    handler: Handler,
) -> Endpoint {
    Endpoint { id, method, resource, keyed, min_api_level, admin_only: false, handler }
}

const fn admin_ep(id: &'static str, method: Method, keyed: bool, handler: Handler) -> Endpoint {
    Endpoint { id, method, resource: "meeting_room_areas", keyed, min_api_level: 1, admin_only: true, handler }
}

/// The 24 `/api/v1/mc/*` endpoints (`version.get` is served on its own).
static ENDPOINTS: &[Endpoint] = &[
    ep("booked_confs.list", Method::GET, "booked_confs", false, 1, confs::booked_list),
    ep("booked_confs.get", Method::GET, "booked_confs", true, 1, confs::booked_get),
    ep("booked_confs.create", Method::POST, "booked_confs", false, 3, confs::booked_create),
    ep("booked_confs.update", Method::POST, "booked_confs", true, 3, confs::booked_update),
    ep("booked_confs.delete", Method::DELETE, "booked_confs", true, 3, confs::booked_delete),
    ep("meetings.list", Method::GET, "meetings", false, 2, confs::meetings_list),
    ep("meetings.get", Method::GET, "meetings", true, 2, confs::meetings_get),
    ep("confs.create", Method::POST, "confs", false, 1, confs::conf_create),
    ep("confs.end", Method::DELETE, "confs", true, 1, confs::conf_end),
    ep("valid_conf_name.get", Method::GET, "valid_conf_name", false, 3, confs::valid_conf_name),
    ep("virtual_meeting_rooms.create", Method::POST, "virtual_meeting_rooms", false, 1, rooms::vmr_create),
    ep("virtual_meeting_rooms.update", Method::POST, "virtual_meeting_rooms", true, 1, rooms::vmr_update),
    ep("virtual_meeting_rooms.delete", Method::DELETE, "virtual_meeting_rooms", true, 1, rooms::vmr_delete),
    ep("virtual_meeting_rooms.list", Method::GET, "virtual_meeting_rooms", false, 1, rooms::vmr_list),
    ep("virtual_meeting_rooms.get", Method::GET, "virtual_meeting_rooms", true, 1, rooms::vmr_get),
    ep("resources.get", Method::GET, "resources", false, 1, rooms::resources),
    ep("platforms.list", Method::GET, "platforms", false, 1, rooms::platforms),
    ep("meeting_room_areas.list", Method::GET, "meeting_room_areas", false, 1, rooms::area_list),
    admin_ep("meeting_room_areas.create", Method::POST, false, rooms::area_create),
    admin_ep("meeting_room_areas.update", Method::POST, true, rooms::area_update),
    admin_ep("meeting_room_areas.delete", Method::DELETE, true, rooms::area_delete),
    ep("meeting_files.upload", Method::POST, "meeting_files", true, 1, files::upload),
    ep("meeting_files.delete", Method::DELETE, "meeting_files", true, 1, files::delete),
    ep("meeting_files.list", Method::GET, "meeting_files", true, 1, files::list),
];

/// Largest accepted request body (the upload limit is 20 MB; bigger
/// bodies up to this size get error 40001, beyond it HTTP 413).
const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// The Kedacom simulator: options, clock and state.
pub(crate) struct Kedacom {
    pub(crate) opts: KedacomOptions,
    clock: Arc<Clock>,
    pub(crate) ids: Ids,
    state: Mutex<KedacomState>,
    /// Strict mode: accept only the one reading of the docs that meetkit sends
    /// (see `docs/assumptions.md`); lenient mode accepts every plausible one.
    pub(crate) strict: bool,
}

impl Kedacom {
    /// A fresh simulator (templates seeded).
    pub(crate) fn new(opts: KedacomOptions, clock: Arc<Clock>, strict: bool) -> Self {
        let k = Kedacom { opts, clock, ids: Ids::default(), state: Mutex::new(KedacomState::default()), strict };
        k.reset();
        k
    }

    /// Run `f` on the state, ticked to the current virtual time.
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&mut KedacomState, f64) -> R) -> R {
        let now = self.clock.now();
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.tick(now);
        f(&mut st, now)
    }

    /// The answer to a handler result; expiry (10002, 10004) as configured
    /// by `expiry_code` (default HTTP 401 with the failure envelope).
    pub(crate) fn answer(&self, result: ApiResult<Payload>) -> Response {
        match result {
            Err(e) if e.code == errors::TOKEN_INVALID || e.code == errors::NOT_LOGGED_IN => match self.opts.expiry_code
            {
                None => (StatusCode::UNAUTHORIZED, Json(e.body())).into_response(),
                Some(code) => Json(ApiError { code, description: e.description }.body()).into_response(),
            },
            other => answer(other),
        }
    }

    /// Idle timeout in seconds.
    pub(crate) fn idle_timeout(&self) -> f64 {
        self.opts.token_idle_timeout.as_secs_f64()
    }

    /// The account `username`/`password` log in as.
    pub(crate) fn account(&self, username: &str, password: &str) -> Option<User> {
        let o = &self.opts;
        if username == o.username && password == o.password {
            Some(User::new(username, true))
        } else if username == o.guest_username && password == o.guest_password {
            Some(User::new(username, false))
        } else {
            None
        }
    }
}

impl Backend for Kedacom {
    fn reset(&self) {
        let mut st = KedacomState::default();
        confs::seed_templates(&mut st, &self.opts.username);
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = st;
    }

    fn dump_state(&self) -> Value {
        let idle = self.idle_timeout();
        self.with_state(|st, now| st.dump(now, idle))
    }

    fn fault_body(&self, code: i64) -> Value {
        ApiError::new(code).body()
    }
}

/// Routes of the Kedacom server (API, login, files, `/_sim/kedacom/` admin).
pub(crate) fn router(k: Arc<Kedacom>) -> Router {
    Router::new()
        .route("/api/mc/version", get(version))
        .route("/api/v1/mc/{resource}", any(collection))
        .route("/api/v1/mc/{resource}/{key}", any(item))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .merge(system::routes(&k.opts))
        .merge(files::routes())
        .merge(admin::routes())
        .with_state(k)
}

/// The JSON answer of a handler result.
pub(crate) fn answer(result: ApiResult<Payload>) -> Response {
    match result {
        Ok(p) => {
            let mut body = Map::new();
            body.insert("success".into(), 1.into());
            body.extend(p);
            Json(Value::Object(body)).into_response()
        }
        Err(e) => Json(e.body()).into_response(),
    }
}

/// `GET /api/mc/version` (no parameters, no auth).
async fn version(State(k): State<Arc<Kedacom>>) -> Response {
    answer(Ok(payload(json!({"version": "V6.1.0.4.0.20211123", "api_level": k.opts.api_level}))))
}

async fn collection(State(k): State<Arc<Kedacom>>, Path(resource): Path<String>, req: Request) -> Response {
    serve(k, resource, None, req).await
}

async fn item(State(k): State<Arc<Kedacom>>, Path((resource, key)): Path<(String, String)>, req: Request) -> Response {
    serve(k, resource, Some(key), req).await
}

fn content_type(headers: &HeaderMap) -> &str {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// The `SSO_COOKIE_KEY` cookie of a request.
pub(crate) fn sso_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == "SSO_COOKIE_KEY")
        .map(|(_, value)| value.trim().to_owned())
}

/// Read the parameters of a form (or, for uploads, multipart) request.
/// `Err` is a finished response (body too large, unreadable). Strict mode
/// takes `params` and `_method` only from a POST form, and a DELETE's
/// parameters only from the query string; lenient mode merges the query
/// string with any form body and reads a JSON body as `params`.
async fn read_request(method: &Method, req: Request, strict: bool) -> Result<(Params, Vec<Upload>), Response> {
    let mut params = Params::parse(req.uri().query(), None);
    if *method == Method::GET || (strict && *method == Method::DELETE) {
        return Ok((params, Vec::new()));
    }
    if strict {
        params.remove("params");
        params.remove("_method");
    }
    let ctype = content_type(req.headers()).to_ascii_lowercase();
    let too_large = || (StatusCode::PAYLOAD_TOO_LARGE, "413 Request Entity Too Large\n").into_response();
    if ctype.starts_with("multipart/form-data") {
        let mut files = Vec::new();
        let Ok(mut multipart) = axum::extract::Multipart::from_request(req, &()).await else {
            return Ok((params, files));
        };
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
                Err(_) => break,
            };
            let name = field.name().unwrap_or_default().to_owned();
            let file_name = field.file_name().map(|f| f.rsplit(['/', '\\']).next().unwrap_or_default().to_owned());
            let data = match field.bytes().await {
                Ok(d) => d,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
                Err(_) => break,
            };
            match (name.as_str(), file_name) {
                ("file", Some(file_name)) => files.push(Upload { name: file_name, data }),
                (_, _) => params.extend([(name, String::from_utf8_lossy(&data).into_owned())]),
            }
        }
        return Ok((params, files));
    }
    let body = match Bytes::from_request(req, &()).await {
        Ok(b) => b,
        Err(_) => return Err(too_large()),
    };
    if ctype.starts_with("application/x-www-form-urlencoded") {
        params.extend(url::form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())));
    } else if !strict && ctype.starts_with("application/json") {
        if let Ok(Value::Object(_)) = serde_json::from_slice::<Value>(&body) {
            params.extend([("params".to_owned(), String::from_utf8_lossy(&body).into_owned())]);
        }
    }
    Ok((params, Vec::new()))
}

/// Check the token (10002) and its login cookie (10004); returns the
/// logged-in user and marks the token used.
pub(crate) fn authenticate(
    st: &mut KedacomState,
    now: f64,
    idle: f64,
    token: Option<&str>,
    cookie: Option<&str>,
) -> ApiResult<User> {
    let rec = token
        .and_then(|t| st.tokens.get_mut(t))
        .filter(|r| now - r.last_used < idle)
        .ok_or_else(|| ApiError::new(errors::TOKEN_INVALID))?;
    let user = match (&rec.user, &rec.cookie, cookie) {
        // Issued out of band, logged in already: no cookie to match.
        (Some(user), None, _) => user.clone(),
        (Some(user), Some(expected), Some(got)) if expected == got => user.clone(),
        _ => return Err(ApiError::new(errors::NOT_LOGGED_IN)),
    };
    rec.last_used = now;
    Ok(user)
}

async fn serve(k: Arc<Kedacom>, resource: String, key: Option<String>, req: Request) -> Response {
    let method = req.method().clone();
    if ![Method::GET, Method::POST, Method::DELETE].contains(&method) {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let cookie = sso_cookie(req.headers());
    let (params, files) = match read_request(&method, req, k.strict).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    // The doc's override: POST with `_method=DELETE` is a DELETE.
    let method = match params.get("_method") {
        Some(m) if method == Method::POST && m.eq_ignore_ascii_case("DELETE") => Method::DELETE,
        _ => method,
    };
    let Some(endpoint) =
        ENDPOINTS.iter().find(|e| e.method == method && e.resource == resource && e.keyed == key.is_some())
    else {
        return (StatusCode::NOT_FOUND, "404 Not Found\n").into_response();
    };
    let request = Req { params, key: key.unwrap_or_default(), files, lenient: !k.strict };
    let idle = k.idle_timeout();
    let result = k.with_state(|st, now| {
        let user = authenticate(st, now, idle, request.params.get("account_token"), cookie.as_deref())?;
        if endpoint.min_api_level > k.opts.api_level {
            return Err(ApiError::new(errors::API_LEVEL));
        }
        if endpoint.admin_only && !user.admin {
            return Err(ApiError::new(errors::NOT_ADMIN));
        }
        let mut ctx = Ctx { st, now, user, k: &k };
        (endpoint.handler)(&mut ctx, &request)
    });
    k.answer(result)
}
