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
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use serde_json::Value;
use tokio::sync::mpsc;

use super::room::{authorize, Caller, RoomError};
use super::state::{sse_frame, Frame, Stream, VmrState};
use super::Vmr;

/// The `token` query values to try. The doc's tokens already contain `%2B`
/// / `%3D` (and may contain a space), and the doc does not say how
/// `?token=<token_id>` is encoded. meetkit form-encodes the token as issued
/// (`application/x-www-form-urlencoded`, as any URL query builder does), so
/// the value form-decoded once is the token: strict mode accepts only that.
/// Lenient mode also accepts the token sent raw (already "URL-safe") and
/// percent-decoded with `+` kept.
pub(crate) fn query_tokens(query: Option<&str>, strict: bool) -> Vec<String> {
    let mut out = Vec::new();
    for pair in query.unwrap_or_default().split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == "token" {
            let plus_as_space = v.replace('+', " ");
            out.push(percent_decode_str(&plus_as_space).decode_utf8_lossy().into_owned());
            if !strict {
                out.push(v.to_owned());
                // Raw `+` kept as `+` (not form-decoded to a space).
                out.push(percent_decode_str(v).decode_utf8_lossy().into_owned());
            }
        }
    }
    out
}

/// Strict mode: the subscriber must ask for `text/event-stream` (the doc
/// does not name the framing; meetkit reads server-sent events and says so
/// in `Accept`). Lenient mode serves the same stream to any `Accept`.
fn accepts_sse(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("text/event-stream"))
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
    headers: HeaderMap,
) -> Response {
    if vmr.strict && !accepts_sse(&headers) {
        let body =
            serde_json::json!({"status": "failed", "result": "Not acceptable: this stream is text/event-stream"});
        return (StatusCode::NOT_ACCEPTABLE, axum::Json(body)).into_response();
    }
    let tokens = query_tokens(query.as_deref(), vmr.strict);
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
