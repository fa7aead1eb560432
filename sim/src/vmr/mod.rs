//! Simulator of the vmr cloud APIs, written from the vendor docs:
//!
//! - **apiServer**: `POST /api/v3/meet/checkJoin.shtml` (envelope
//!   `{code: "200", timeStamp, results}`) and the supplementary recording /
//!   live API `POST /meeting/{openRecord,closeRecord,getRecords,
//!   delRecordFile,openLive,closeLive}` (header `auth`, envelope
//!   `{code, data, message, state}`, always HTTP 200), plus the produced
//!   record files under `/records/...` and live pages under `/live/...`.
//! - **mcuHost**: the room API under `/api/services/<room>/...` (room as
//!   address `name@domain`, raw or `%40`, or numeric id), envelope
//!   `{status: "success", result}`; failures (undocumented) are
//!   `{status: "failed", result: "<message>"}` with HTTP 400 (bad
//!   parameters), 403 (missing/invalid/expired token, wrong PIN, caller not
//!   a host) or 404 (unknown room or participant); the event stream
//!   `GET /api/services/<room>/events?token=` (text/event-stream).
//!
//! Both servers share one state and carry the `/_sim/vmr/...` admin routes.

mod admin;
mod api;
mod events;
mod room;
pub(crate) mod state;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use axum::extract::State;
use axum::routing::{any, get, post};
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::common::{Backend, Clock};
use crate::VmrOptions;
use state::VmrState;

/// The vmr simulator: options, clock and the state both servers share.
pub(crate) struct Vmr {
    pub(crate) opts: VmrOptions,
    clock: Arc<Clock>,
    /// `http://host:port` of apiServer.
    pub(crate) api_base: String,
    /// `host:port` of each meeting node (mcuHost), as checkJoin reports it
    /// for the rooms on that node (the doc's placeholder "xxx.xxx.cn" is a
    /// bare host, no scheme). Node 0 first.
    pub(crate) mcu_hosts: Vec<String>,
    state: Mutex<VmrState>,
    /// Strict mode: accept only the one reading of the docs that meetkit sends
    /// (see `docs/assumptions.md`); lenient mode accepts every plausible one.
    pub(crate) strict: bool,
    /// The generation of the event-stream drop schedule (`/_sim/vmr/events/drop` with
    /// `every_ms`): a schedule runs while it is the current one; reset ends it.
    pub(crate) drop_schedule: AtomicU64,
}

impl Vmr {
    /// A fresh simulator with the seeded rooms.
    pub(crate) fn new(
        opts: VmrOptions,
        clock: Arc<Clock>,
        api_base: String,
        mcu_hosts: Vec<String>,
        strict: bool,
    ) -> Self {
        let state = Mutex::new(VmrState::new(&opts));
        Vmr { opts, clock, api_base, mcu_hosts, state, strict, drop_schedule: AtomicU64::new(0) }
    }

    /// `host:port` of meeting node `node` (the last node for an index past the end).
    pub(crate) fn mcu_host(&self, node: usize) -> &str {
        self.mcu_hosts.get(node).or(self.mcu_hosts.last()).map_or("127.0.0.1", String::as_str)
    }

    /// The node a room lives on (the last node for an index past the end).
    pub(crate) fn node_of(&self, seed_node: usize) -> usize {
        seed_node.min(self.mcu_hosts.len().saturating_sub(1))
    }

    /// Run `f` on the state, ticked to the current virtual time.
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&mut VmrState, f64) -> R) -> R {
        let now = self.clock.now();
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.tick(now);
        f(&mut st, now)
    }

    fn reset(&self) {
        self.drop_schedule.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for s in &st.streams {
            let _ = s.tx.send(state::Frame::Close);
        }
        *st = VmrState::new(&self.opts);
    }

    fn dump(&self) -> Value {
        self.with_state(|st, now| dump_state(st, now))
    }

    /// Token lifetime as new_session/refresh_session write it (`"120"`).
    pub(crate) fn expires_str(&self) -> String {
        self.opts.token_ttl.as_secs().to_string()
    }
}

/// The apiServer face of the simulator (its own fault envelope).
pub(crate) struct ApiServer(pub(crate) Arc<Vmr>);

/// The mcuHost face of the simulator (its own fault envelope).
pub(crate) struct McuHost(pub(crate) Arc<Vmr>);

impl Backend for ApiServer {
    fn reset(&self) {
        self.0.reset();
    }

    fn dump_state(&self) -> Value {
        self.0.dump()
    }

    fn fault_body(&self, code: i64) -> Value {
        json!({"code": code.to_string(), "data": null, "message": api::code_message(&code.to_string()), "state": 0})
    }
}

impl Backend for McuHost {
    fn reset(&self) {
        self.0.reset();
    }

    fn dump_state(&self) -> Value {
        self.0.dump()
    }

    fn fault_body(&self, code: i64) -> Value {
        json!({"status": "failed", "result": format!("error {code}")})
    }
}

/// Routes of apiServer (checkJoin, supplementary API, files, admin).
pub(crate) fn api_router(vmr: Arc<Vmr>) -> Router {
    Router::new()
        .route("/api/v3/meet/checkJoin.shtml", post(api::check_join))
        .route("/meeting/{op}", any(api::meeting))
        .route("/records/{*path}", get(api::download))
        .route("/live/{id}", get(api::live_page))
        .merge(admin::routes())
        .with_state(vmr)
}

/// Routes of meeting node `node` (room API, events, presentation frames,
/// admin). A room that lives on another node is not found here (404, as
/// for an unknown room): clients must use the mcuHost checkJoin gave for
/// that room (doc: mcuHost 为目标会议节点地址，后续会议请求请使用该地址).
pub(crate) fn mcu_router(vmr: Arc<Vmr>, node: usize) -> Router {
    let rooms = Router::new()
        .route("/api/services/{room}/events", get(events::subscribe))
        .route("/api/services/{room}/presentation.jpeg", get(room::presentation_jpeg))
        .route("/api/services/{room}/{cmd}", any(room::room_command))
        .route("/api/services/{room}/participants/{uuid}/{cmd}", any(room::participant_command))
        .route_layer(axum::middleware::from_fn_with_state((vmr.clone(), node), on_this_node));
    rooms.merge(admin::routes()).with_state(vmr)
}

/// Refuse a room call for a room on another node.
async fn on_this_node(
    State((vmr, node)): State<(Arc<Vmr>, usize)>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = request.uri().path().to_owned();
    let room = path.strip_prefix("/api/services/").and_then(|r| r.split('/').next()).unwrap_or_default();
    // The doc writes the address raw (`.../services/zjvmr@myvmr.cn/new_session`) and meetkit
    // sends it so: strict refuses `%40`; lenient accepts either form.
    if vmr.strict && room.to_ascii_lowercase().contains("%40") {
        let body = json!({"status": "failed", "result": "Conference not found (write the address with a raw @)"});
        return (axum::http::StatusCode::NOT_FOUND, axum::Json(body)).into_response();
    }
    let room = percent_encoding::percent_decode_str(room).decode_utf8_lossy().into_owned();
    let elsewhere =
        vmr.with_state(|st, _| st.resolve(&room).is_some_and(|id| vmr.node_of(st.room(&id).seed.node) != node));
    if elsewhere {
        let body = json!({"status": "failed", "result": "Conference not found"});
        return (axum::http::StatusCode::NOT_FOUND, axum::Json(body)).into_response();
    }
    next.run(request).await
}

/// Apply time-driven transitions every 100 ms of real time so open event
/// streams see them without any request; stops with the simulator.
pub(crate) fn spawn_ticker(vmr: &Arc<Vmr>, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    let weak: Weak<Vmr> = Arc::downgrade(vmr);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                _ = every.tick() => {
                    let Some(vmr) = weak.upgrade() else { break };
                    vmr.with_state(|_, _| ());
                }
                _ = stop.wait_for(|s| *s) => break,
            }
        }
    })
}

fn dump_state(st: &VmrState, now: f64) -> Value {
    let rooms: Vec<Value> = st
        .rooms
        .values()
        .map(|r| {
            json!({
                "alias": r.seed.alias, "id": r.seed.id, "name": r.seed.name,
                "has_guest_pin": r.seed.guest_pin.is_some(),
                "allow_record": r.seed.allow_record, "allow_live": r.seed.allow_live,
                "locked": r.locked, "guests_muted": r.guests_muted, "started": r.started,
                "participants": r.participants.iter().map(|p| {
                    let mut v = p.to_json(&r.seed.alias);
                    v["hidden"] = p.hidden.into();
                    v
                }).collect::<Vec<_>>(),
                "layouts": r.layouts.iter().map(|l| json!({
                    "audience": l.audience, "layout": l.layout, "actors": l.actors,
                    "vad_backfill": l.vad_backfill, "plus_n": l.plus_n,
                })).collect::<Vec<_>>(),
                "presenter": r.presenter, "frames": r.frames,
                "recording": r.recording.as_ref().map(|a| json!({"record_id": a.record_id, "since": a.start})),
                "live": r.live.is_some(),
            })
        })
        .collect();
    let sessions: Vec<Value> = st
        .sessions
        .values()
        .map(|s| json!({"room": s.room, "participant_uuid": s.participant, "expires_in": s.expires - now}))
        .collect();
    let recordings: Vec<Value> = st
        .recordings
        .values()
        .map(|r| {
            json!({
                "record_id": r.record_id, "room": r.room, "conference_key": r.conference_key,
                "start": r.start, "stop": r.stop,
                "files": r.files.iter().map(|f| json!({
                    "path": f.path, "size": f.body.len(), "md5": hex::encode(f.body.md5()),
                    "start": f.start, "stop": f.stop,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let calls: Vec<Value> = st
        .calls
        .iter()
        .map(|c| json!({"call_uuid": c.call_uuid, "room": c.room, "participant_uuid": c.participant, "call_type": c.call_type}))
        .collect();
    let log: Vec<Value> = st
        .log
        .iter()
        .map(|l| json!({"room": l.room, "from": l.from, "kind": l.kind, "body": l.body, "at": l.at}))
        .collect();
    json!({
        "rooms": rooms,
        "sessions": sessions,
        "event_streams": st.streams.len(),
        "event_stream_drops": st.stream_drops,
        "calls": calls,
        "recordings": recordings,
        "log": log,
    })
}
