//! `GET /api/services/<room>/events?token=<token>`: the room's event
//! stream. The doc does not name the framing; it is served as
//! `text/event-stream`: `event: <name>` then one or more `data: <json>`
//! lines (joined with `\n`), then a blank line; events without a payload
//! ("消息体: 无") carry `data: null`. Keep-alive comments (`: keepalive`)
//! go out every `VmrOptions::keepalive_interval`.
//!
//! On connect the stream sends `participant_sync_begin`, one
//! `participant_create` per visible participant, `participant_sync_end`.
//! The stream follows its session: it gets `disconnect {reason}` and ends
//! when the session's participant is removed (kicked, conference
//! disconnect, end_session, token expiry). Token refreshes do not affect
//! an open stream.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use serde_json::Value;
use tokio::sync::mpsc;

use super::room::{authorize, Caller, RoomError};
use super::state::{sse_frame, Frame, Stream, VmrState};
use super::Vmr;

/// The `token` query values as sent and percent-decoded. The doc's tokens
/// already contain `%2B` / `%3D`, so a client may send them raw or encode
/// them once more: both forms are accepted.
pub(crate) fn query_tokens(query: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    for pair in query.unwrap_or_default().split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == "token" {
            out.push(v.to_owned());
            let plus_as_space = v.replace('+', " ");
            let decoded = percent_decode_str(&plus_as_space).decode_utf8_lossy().into_owned();
            out.push(decoded);
            // Raw `+` kept as `+` (not form-decoded to a space).
            out.push(percent_decode_str(v).decode_utf8_lossy().into_owned());
        }
    }
    out
}

/// Authorize with a token from the query string (any accepted form).
pub(crate) fn authorize_query(st: &VmrState, room: &str, tokens: &[String], now: f64) -> Result<Caller, RoomError> {
    let mut last = RoomError::invalid_token();
    if tokens.is_empty() {
        return authorize(st, room, None, now);
    }
    for t in tokens {
        match authorize(st, room, Some(t), now) {
            Ok(c) => return Ok(c),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Subscribe to the room's events.
pub(crate) async fn subscribe(
    State(vmr): State<Arc<Vmr>>,
    Path(room): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let tokens = query_tokens(query.as_deref());
    let (tx, rx) = mpsc::unbounded_channel();
    let registered = vmr.with_state(|st, now| {
        let caller = authorize_query(st, &room, &tokens, now)?;
        let r = st.room(&caller.room);
        let mut sync = sse_frame("participant_sync_begin", &Value::Null);
        for p in r.participants_json() {
            sync.push_str(&sse_frame("participant_create", &p));
        }
        sync.push_str(&sse_frame("participant_sync_end", &Value::Null));
        let _ = tx.send(Frame::Data(sync));
        st.streams.push(Stream { room: caller.room, session: caller.session, tx });
        Ok::<_, RoomError>(())
    });
    if let Err(e) = registered {
        return e.into_response();
    }
    let period = vmr.opts.keepalive_interval.max(std::time::Duration::from_millis(10));
    let keepalive = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let body = futures::stream::unfold((rx, keepalive, false), |(mut rx, mut keepalive, done)| async move {
        if done {
            return None;
        }
        tokio::select! {
            frame = rx.recv() => match frame {
                Some(Frame::Data(s)) => Some((Ok(Bytes::from(s)), (rx, keepalive, false))),
                Some(Frame::Abort) => Some((
                    Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "event stream dropped")),
                    (rx, keepalive, true),
                )),
                Some(Frame::Close) | None => None,
            },
            _ = keepalive.tick() => Some((Ok(Bytes::from_static(b": keepalive\n\n")), (rx, keepalive, false))),
        }
    });
    let mut resp = Response::new(Body::from_stream(body));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}
