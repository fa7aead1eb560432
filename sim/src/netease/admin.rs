//! NetEase admin routes under `/_sim/netease/`: the callback target and
//! log, and what meeting clients would do (open the room, join, leave,
//! host ends).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

use super::state::{reason, IN_MEETING, NOT_START};
use super::Netease;

/// Routes (state: the NetEase simulator).
pub(crate) fn routes() -> Router<Arc<Netease>> {
    Router::new()
        .route("/_sim/netease/callback_url", post(set_callback_url))
        .route("/_sim/netease/callbacks", get(callbacks))
        .route("/_sim/netease/receivers/attach", post(attach))
        .route("/_sim/netease/receivers/detach", post(detach))
        .route("/_sim/netease/meetings/{uid}/start", post(start))
        .route("/_sim/netease/meetings/{uid}/join", post(join))
        .route("/_sim/netease/meetings/{uid}/leave", post(leave))
        .route("/_sim/netease/meetings/{uid}/end", post(end))
}

fn fail(status: StatusCode, msg: &str) -> Response {
    (status, Json(json!({"ok": false, "error": msg}))).into_response()
}

fn parse<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, Box<Response>> {
    let body: &[u8] = if body.is_empty() { b"{}" } else { body };
    serde_json::from_slice(body).map_err(|e| Box::new(fail(StatusCode::BAD_REQUEST, &e.to_string())))
}

#[derive(Deserialize)]
struct UrlBody {
    url: Option<String>,
}

/// `POST /_sim/netease/callback_url {"url": "http://..." | null}`.
async fn set_callback_url(State(ne): State<Arc<Netease>>, body: Bytes) -> Response {
    let b: UrlBody = match parse(&body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let url = b.url.filter(|u| !u.is_empty());
    if url.as_deref().is_some_and(|u| url::Url::parse(u).is_err()) {
        return fail(StatusCode::BAD_REQUEST, "url must be an absolute URL");
    }
    ne.callbacks.set_url(url.clone());
    Json(json!({"ok": true, "url": url})).into_response()
}

/// The `url` of an attach or detach body: present and absolute.
fn receiver_url(body: &Bytes) -> Result<String, Box<Response>> {
    let b: UrlBody = parse(body)?;
    match b.url.filter(|u| !u.is_empty()) {
        Some(u) if url::Url::parse(&u).is_ok() => Ok(u),
        _ => Err(Box::new(fail(StatusCode::BAD_REQUEST, "url must be an absolute URL"))),
    }
}

/// `POST /_sim/netease/receivers/attach {"url"}`: every later event is also delivered there.
async fn attach(State(ne): State<Arc<Netease>>, body: Bytes) -> Response {
    match receiver_url(&body) {
        Ok(url) => Json(json!({"ok": true, "receivers": ne.callbacks.attach(url)})).into_response(),
        Err(r) => *r,
    }
}

/// `POST /_sim/netease/receivers/detach {"url"}`: no later event goes there.
async fn detach(State(ne): State<Arc<Netease>>, body: Bytes) -> Response {
    match receiver_url(&body) {
        Ok(url) => {
            let (detached, receivers) = ne.callbacks.detach(&url);
            Json(json!({"ok": true, "detached": detached, "receivers": receivers})).into_response()
        }
        Err(r) => *r,
    }
}

/// `GET /_sim/netease/callbacks`.
async fn callbacks(State(ne): State<Arc<Netease>>) -> Json<Value> {
    Json(ne.callbacks.list())
}

/// Status of a meeting, or a 404 answer.
fn status_of(ne: &Netease, uid: u64) -> Result<u8, Box<Response>> {
    ne.with_state(|st, _| st.meetings.get(&uid).map(|m| m.status))
        .ok_or_else(|| Box::new(fail(StatusCode::NOT_FOUND, "no such meetingUniqueId")))
}

/// `POST /_sim/netease/meetings/{uid}/start`: open the AV room now
/// (status 1 -> 2, callback 1).
async fn start(State(ne): State<Arc<Netease>>, Path(uid): Path<u64>) -> Response {
    match status_of(&ne, uid) {
        Err(r) => *r,
        Ok(NOT_START) => {
            ne.with_state(|st, now| st.start_room(uid, now));
            Json(json!({"ok": true, "status": IN_MEETING})).into_response()
        }
        Ok(_) => fail(StatusCode::CONFLICT, "meeting is not in status 1 (NOT_START)"),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MemberBody {
    account_id: String,
    device_id: Option<String>,
}

/// `POST /_sim/netease/meetings/{uid}/join {"accountId", "deviceId"?}`:
/// opens the room if needed (callback 1), then callback 5.
async fn join(State(ne): State<Arc<Netease>>, Path(uid): Path<u64>, body: Bytes) -> Response {
    let b: MemberBody = match parse(&body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    if b.account_id.is_empty() {
        return fail(StatusCode::BAD_REQUEST, "accountId must not be empty");
    }
    if let Err(r) = status_of(&ne, uid) {
        return *r;
    }
    let device = b.device_id.unwrap_or_else(|| format!("sim-device-{}", b.account_id));
    match ne.with_state(|st, now| st.join(uid, &b.account_id, &device, now)) {
        Some(room_uid) => Json(json!({"ok": true, "roomUid": room_uid})).into_response(),
        None => fail(StatusCode::CONFLICT, "meeting is over"),
    }
}

/// `POST /_sim/netease/meetings/{uid}/leave {"accountId"}`: callback 6;
/// the last member leaving ends the meeting (callback 3, reason 2).
async fn leave(State(ne): State<Arc<Netease>>, Path(uid): Path<u64>, body: Bytes) -> Response {
    let b: MemberBody = match parse(&body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    if let Err(r) = status_of(&ne, uid) {
        return *r;
    }
    if ne.with_state(|st, now| st.leave(uid, &b.account_id, now, &ne.opts)) {
        Json(json!({"ok": true})).into_response()
    } else {
        fail(StatusCode::CONFLICT, "member is not in the meeting")
    }
}

#[derive(Deserialize)]
struct EndBody {
    reason: Option<u8>,
}

/// `POST /_sim/netease/meetings/{uid}/end {"reason": 1|2|3}` (default 1,
/// host ended): an in-progress meeting ends (callback 3).
async fn end(State(ne): State<Arc<Netease>>, Path(uid): Path<u64>, body: Bytes) -> Response {
    let b: EndBody = match parse(&body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let why = b.reason.unwrap_or(reason::HOST);
    if !(1..=3).contains(&why) {
        return fail(StatusCode::BAD_REQUEST, "reason must be 1, 2 or 3");
    }
    match status_of(&ne, uid) {
        Err(r) => *r,
        Ok(IN_MEETING) => {
            ne.with_state(|st, now| st.end(uid, now, why, false, &ne.opts));
            Json(json!({"ok": true})).into_response()
        }
        Ok(_) => fail(StatusCode::CONFLICT, "meeting is not in progress"),
    }
}
