//! vmr admin routes under `/_sim/vmr/` (served on both apiServer and
//! mcuHost): token expiry, event-stream drops, endpoints joining / leaving
//! by themselves, dial-out outcomes, speakers, presentations, sub-call
//! hang-ups.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

use super::state::{uuid4, Participant, Role, VmrState};
use super::Vmr;

/// Routes (state: the vmr simulator).
pub(crate) fn routes() -> Router<Arc<Vmr>> {
    Router::new()
        .route("/_sim/vmr/tokens/expire", post(expire_tokens))
        .route("/_sim/vmr/events/drop", post(drop_streams))
        .route("/_sim/vmr/rooms/{room}/join", post(join))
        .route("/_sim/vmr/rooms/{room}/participants/{uuid}/{action}", post(participant_action))
        .route("/_sim/vmr/rooms/{room}/presentation/{action}", post(presentation))
        .route("/_sim/vmr/calls/{call_uuid}/disconnect", post(call_disconnect))
}

fn fail(status: StatusCode, msg: &str) -> Response {
    (status, Json(json!({"ok": false, "error": msg}))).into_response()
}

fn parse<T: for<'de> Deserialize<'de> + Default>(body: &Bytes) -> Result<T, Box<Response>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| Box::new(fail(StatusCode::BAD_REQUEST, &e.to_string())))
}

fn room_id(st: &VmrState, room: &str) -> Result<String, Box<Response>> {
    st.resolve(room).ok_or_else(|| Box::new(fail(StatusCode::NOT_FOUND, "no such room")))
}

/// Every session's token (current and previous) expires now; the
/// sessions end at once (their participants leave).
async fn expire_tokens(State(vmr): State<Arc<Vmr>>) -> Json<Value> {
    let n = vmr.with_state(|st, now| {
        for s in st.sessions.values_mut() {
            s.expires = s.expires.min(now);
            s.previous = None;
        }
        let n = st.sessions.len();
        st.tick(now);
        n
    });
    Json(json!({"ok": true, "expired": n}))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DropBody {
    /// Keep cutting every open stream every this many milliseconds (real time: a network
    /// fault) ...
    every_ms: Option<u64>,
    /// ... for this many seconds (default 5, at most 300); the schedule then ends by itself.
    for_secs: Option<f64>,
    /// End a running schedule now.
    #[serde(default)]
    stop: bool,
}

/// Cut every open event stream's connection now; with `every_ms`, keep doing so on a schedule
/// (a new schedule or `stop` ends the previous one). The number of connections cut so far is
/// `event_stream_drops` in `/_sim/state`.
async fn drop_streams(State(vmr): State<Arc<Vmr>>, body: Bytes) -> Response {
    let b: DropBody = match parse(&body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    // Under the state lock, like the schedule's check: once this returns, an older schedule
    // cuts nothing more.
    let (generation, n) = vmr.with_state(|st, _| {
        let generation = vmr.drop_schedule.fetch_add(1, Ordering::SeqCst) + 1;
        (generation, if b.stop { 0 } else { st.drop_streams() })
    });
    if b.stop {
        return Json(json!({"ok": true, "dropped": 0})).into_response();
    }
    let Some(every_ms) = b.every_ms else {
        return Json(json!({"ok": true, "dropped": n})).into_response();
    };
    if every_ms == 0 {
        return fail(StatusCode::BAD_REQUEST, "every_ms must be at least 1");
    }
    let for_secs = b.for_secs.unwrap_or(5.0);
    if !(0.0..=300.0).contains(&for_secs) {
        return fail(StatusCode::BAD_REQUEST, "for_secs must be between 0 and 300");
    }
    let weak = Arc::downgrade(&vmr);
    let every = Duration::from_millis(every_ms);
    let until = tokio::time::Instant::now() + Duration::from_secs_f64(for_secs);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            if tick.tick().await > until {
                break;
            }
            let Some(vmr) = weak.upgrade() else { break };
            let current = vmr.with_state(|st, _| {
                let current = vmr.drop_schedule.load(Ordering::SeqCst) == generation;
                if current {
                    st.drop_streams();
                }
                current
            });
            if !current {
                break;
            }
        }
    });
    Json(json!({"ok": true, "dropped": n, "every_ms": every_ms, "for_secs": for_secs})).into_response()
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct JoinBody {
    display_name: Option<String>,
    /// chair | guest (default guest).
    role: Option<String>,
    /// Default sip.
    protocol: Option<String>,
    uri: Option<String>,
    #[serde(default)]
    audio_only: bool,
}

/// An endpoint dials into the room by itself (call_direction "in"); it
/// lands in the conference or the waiting room like any joiner.
async fn join(State(vmr): State<Arc<Vmr>>, Path(room): Path<String>, body: Bytes) -> Response {
    let b: JoinBody = match parse(&body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let Some(role) = Role::parse(b.role.as_deref().unwrap_or("guest")) else {
        return fail(StatusCode::BAD_REQUEST, "role must be chair or guest");
    };
    vmr.with_state(|st, now| {
        let room = match room_id(st, &room) {
            Ok(r) => r,
            Err(r) => return *r,
        };
        let uuid = uuid4();
        let name = b.display_name.unwrap_or_else(|| "Endpoint".into());
        let uri = b.uri.unwrap_or_else(|| format!("sip:{}@sim.endpoint", name.to_lowercase().replace(' ', ".")));
        let mut p =
            Participant::endpoint(uuid.clone(), name, role, b.protocol.unwrap_or_else(|| "sip".into()), uri, now);
        p.audio_only = b.audio_only;
        p.service_type = st.landing(&room, role);
        let service_type = p.service_type;
        st.add_participant(&room, p);
        Json(json!({"ok": true, "uuid": uuid, "service_type": service_type})).into_response()
    })
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    reason: Option<String>,
}

/// `leave` (hang up by itself), `answer` / `reject` (a ringing dial-out),
/// `speak` (becomes the active speaker: stage with vad 100).
async fn participant_action(
    State(vmr): State<Arc<Vmr>>,
    Path((room, uuid, action)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let b: ReasonBody = match parse(&body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    vmr.with_state(|st, now| {
        let room = match room_id(st, &room) {
            Ok(r) => r,
            Err(r) => return *r,
        };
        let Some(p) = st.room(&room).participant(&uuid) else {
            return fail(StatusCode::NOT_FOUND, "no such participant");
        };
        let ringing = p.ringing.is_some();
        match action.as_str() {
            "leave" => {
                let reason = b.reason.unwrap_or_else(|| "Participant hung up".into());
                st.remove_participant(&room, &uuid, &reason, now);
            }
            "answer" | "reject" if !ringing => return fail(StatusCode::CONFLICT, "participant is not ringing"),
            "answer" => {
                if let Some(r) = st.room_mut(&room).participant_mut(&uuid).and_then(|p| p.ringing.as_mut()) {
                    r.outcome = super::state::DialOutcome::AnswerAt(now);
                }
                st.tick(now);
            }
            "reject" => {
                if let Some(r) = st.room_mut(&room).participant_mut(&uuid).and_then(|p| p.ringing.as_mut()) {
                    r.outcome = super::state::DialOutcome::RejectAt(now);
                }
                st.tick(now);
            }
            "speak" => st.emit_stage(&room, Some(&uuid)),
            _ => return fail(StatusCode::NOT_FOUND, "unknown action (leave, answer, reject, speak)"),
        }
        Json(json!({"ok": true})).into_response()
    })
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PresentBody {
    uuid: Option<String>,
}

/// `start {uuid}` (presentation_start, presenter is_presenting YES),
/// `frame` (presentation_frame; presentation.jpeg serves it), `stop`.
async fn presentation(
    State(vmr): State<Arc<Vmr>>,
    Path((room, action)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let b: PresentBody = match parse(&body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    vmr.with_state(|st, _| {
        let room = match room_id(st, &room) {
            Ok(r) => r,
            Err(r) => return *r,
        };
        match action.as_str() {
            "start" => {
                let Some(uuid) = b.uuid else {
                    return fail(StatusCode::BAD_REQUEST, "uuid required");
                };
                let r = st.room_mut(&room);
                let Some(p) = r.participant(&uuid) else {
                    return fail(StatusCode::NOT_FOUND, "no such participant");
                };
                let data = json!({"presenter_name": p.display_name, "presenter_uri": p.uri});
                let previous = r.presenter.replace(uuid.clone());
                r.frames = 0;
                if let Some(prev) = previous.filter(|p| *p != uuid) {
                    if let Some(pp) = r.participant_mut(&prev) {
                        pp.presenting = false;
                    }
                    st.emit_update(&room, &prev);
                }
                if let Some(p) = st.room_mut(&room).participant_mut(&uuid) {
                    p.presenting = true;
                }
                st.emit(&room, "presentation_start", &data);
                st.emit_update(&room, &uuid);
            }
            "frame" => {
                let r = st.room_mut(&room);
                if r.presenter.is_none() {
                    return fail(StatusCode::CONFLICT, "no presentation in progress");
                }
                r.frames += 1;
                st.emit(&room, "presentation_frame", &Value::Null);
            }
            "stop" => {
                let r = st.room_mut(&room);
                let Some(uuid) = r.presenter.take() else {
                    return fail(StatusCode::CONFLICT, "no presentation in progress");
                };
                r.frames = 0;
                if let Some(p) = r.participant_mut(&uuid) {
                    p.presenting = false;
                }
                st.emit(&room, "presentation_stop", &Value::Null);
                st.emit_update(&room, &uuid);
            }
            _ => return fail(StatusCode::NOT_FOUND, "unknown action (start, frame, stop)"),
        }
        Json(json!({"ok": true})).into_response()
    })
}

/// A sub-call ends by itself: call_disconnected {call_uuid, reason}.
async fn call_disconnect(State(vmr): State<Arc<Vmr>>, Path(call_uuid): Path<String>, body: Bytes) -> Response {
    let b: ReasonBody = match parse(&body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let reason = b.reason.unwrap_or_else(|| "Call disconnected".into());
    if vmr.with_state(|st, _| st.end_call(&call_uuid, &reason)) {
        Json(json!({"ok": true})).into_response()
    } else {
        fail(StatusCode::NOT_FOUND, "no such call")
    }
}
