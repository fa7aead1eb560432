//! Kedacom-specific admin routes under `/_sim/kedacom/`: expire every
//! token now; seed a booked conference without validation (e.g. the doc's
//! `conf_id` "123#456", or a start in the past).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::confs::seed_booked;
use super::state::{TokenRec, User};
use super::Kedacom;

/// Routes (state: the Kedacom simulator).
pub(crate) fn routes() -> Router<Arc<Kedacom>> {
    Router::new()
        .route("/_sim/kedacom/tokens/expire", post(expire_tokens))
        .route("/_sim/kedacom/tokens", post(issue_token))
        .route("/_sim/kedacom/booked_confs", post(seed))
}

fn fail(status: StatusCode, msg: &str) -> Response {
    (status, Json(json!({"ok": false, "error": msg}))).into_response()
}

async fn expire_tokens(State(k): State<Arc<Kedacom>>) -> Json<Value> {
    let n = k.with_state(|st, _| {
        let n = st.tokens.len();
        st.tokens.clear();
        n
    });
    Json(json!({"ok": true, "expired": n}))
}

/// A token issued out of band (as a gateway or SSO portal would), already
/// logged in as `username` (default the administrator); it needs no login
/// cookie. Body `{"username"?: "..."}` naming the administrator or guest.
async fn issue_token(State(k): State<Arc<Kedacom>>, body: Bytes) -> Response {
    let obj = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Map<String, Value>>(&body) {
            Ok(o) => o,
            Err(_) => return fail(StatusCode::BAD_REQUEST, "expected a JSON object"),
        }
    };
    let username = obj.get("username").and_then(Value::as_str).unwrap_or(&k.opts.username).to_owned();
    let user = if username == k.opts.username {
        User::new(&username, true)
    } else if username == k.opts.guest_username {
        User::new(&username, false)
    } else {
        return fail(StatusCode::BAD_REQUEST, "unknown username");
    };
    let token = k.ids.hex32("token");
    k.with_state(|st, now| {
        st.tokens.insert(token.clone(), TokenRec { last_used: now, user: Some(user), cookie: None });
    });
    Json(json!({"ok": true, "account_token": token, "username": username})).into_response()
}

async fn seed(State(k): State<Arc<Kedacom>>, body: Bytes) -> Response {
    let Ok(obj) = serde_json::from_slice::<Map<String, Value>>(&body) else {
        return fail(StatusCode::BAD_REQUEST, "expected a JSON object");
    };
    match k.with_state(|st, now| seed_booked(st, &k, now, obj)) {
        Ok((conf_id, meeting_id)) => {
            Json(json!({"ok": true, "conf_id": conf_id, "meeting_id": meeting_id})).into_response()
        }
        Err(e) => fail(StatusCode::BAD_REQUEST, &e),
    }
}
