//! AVD-specific admin routes under `/_sim/avd/`: token expiry, people
//! joining and leaving meetings (what SDK clients would do), chat
//! messages, remote device hang-up.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;

use super::state::{CallState, ChatMessage, Joiner};
use super::Avd;

/// Routes (state: the AVD simulator).
pub(crate) fn routes() -> Router<Arc<Avd>> {
    Router::new()
        .route("/_sim/avd/tokens/expire", post(expire_tokens))
        .route("/_sim/avd/rooms/{room_id}/join", post(join))
        .route("/_sim/avd/rooms/{room_id}/leave", post(leave))
        .route("/_sim/avd/rooms/{room_id}/chat", post(chat))
        .route("/_sim/avd/calls/{call_id}/hangup", post(hangup))
}

fn fail(status: StatusCode, msg: &str) -> Response {
    (status, Json(json!({"ok": false, "error": msg}))).into_response()
}

fn parse<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| Box::new(fail(StatusCode::BAD_REQUEST, &e.to_string())))
}

async fn expire_tokens(State(avd): State<Arc<Avd>>) -> Json<serde_json::Value> {
    let n = avd.with_state(|st, now| {
        for exp in st.tokens.values_mut() {
            *exp = exp.min(now);
        }
        st.tokens.len()
    });
    Json(json!({"ok": true, "expired": n}))
}

#[derive(Deserialize)]
struct JoinBody {
    user_id: String,
    user_name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

async fn join(State(avd): State<Arc<Avd>>, Path(room_id): Path<String>, body: Bytes) -> Response {
    let b: JoinBody = match parse(&body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    if b.user_id.is_empty() {
        return fail(StatusCode::BAD_REQUEST, "user_id must not be empty");
    }
    avd.with_state(|st, now| {
        if !st.rooms.contains_key(&room_id) {
            return fail(StatusCode::NOT_FOUND, "no such room");
        }
        let node_id = st.join(
            &room_id,
            Joiner {
                user_name: b.user_name.unwrap_or_else(|| b.user_id.clone()),
                user_id: b.user_id,
                kind: b.kind.unwrap_or_else(|| "web".into()),
                call_id: None,
            },
            now,
        );
        Json(json!({"ok": true, "node_id": node_id})).into_response()
    })
}

#[derive(Deserialize)]
struct LeaveBody {
    user_id: String,
}

async fn leave(State(avd): State<Arc<Avd>>, Path(room_id): Path<String>, body: Bytes) -> Response {
    let b: LeaveBody = match parse(&body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    avd.with_state(|st, now| match st.leave(&room_id, &b.user_id, now) {
        Some(_) => Json(json!({"ok": true})).into_response(),
        None => fail(StatusCode::NOT_FOUND, "user not in room"),
    })
}

#[derive(Deserialize)]
struct ChatBody {
    from_id: String,
    message: String,
    from_name: Option<String>,
}

async fn chat(State(avd): State<Arc<Avd>>, Path(room_id): Path<String>, body: Bytes) -> Response {
    let b: ChatBody = match parse(&body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    avd.with_state(|st, now| {
        if !st.rooms.contains_key(&room_id) {
            return fail(StatusCode::NOT_FOUND, "no such room");
        }
        let session = st.sessions.get(&room_id);
        let session_id = (session.map_or(now, |s| s.create_time).floor() as i64).to_string();
        let from_name = b
            .from_name
            .or_else(|| session?.participants.iter().find(|u| u.user_id == b.from_id).map(|u| u.user_name.clone()))
            .unwrap_or_else(|| b.from_id.clone());
        st.next_chat_id += 1;
        let id = st.next_chat_id;
        st.chat.push(ChatMessage {
            id,
            room_id,
            session_id,
            from_id: b.from_id,
            from_name,
            message: b.message,
            timestamp: now.floor() as i64,
        });
        Json(json!({"ok": true, "id": id})).into_response()
    })
}

/// The device hangs up by itself (invite_status 2).
async fn hangup(State(avd): State<Arc<Avd>>, Path(call_id): Path<String>) -> Response {
    avd.with_state(|st, now| {
        let Some(call) = st.calls.get(&call_id).cloned() else {
            return fail(StatusCode::NOT_FOUND, "no such call");
        };
        match call.state {
            CallState::InCall => {
                st.leave(&call.room_id, &call.user_id, now);
            }
            CallState::Inviting => {
                if let Some(c) = st.calls.get_mut(&call_id) {
                    c.state = CallState::HungUp;
                }
            }
            _ => return fail(StatusCode::CONFLICT, "call already ended"),
        }
        Json(json!({"ok": true})).into_response()
    })
}
