//! The vendor-neutral `/_sim/` admin routes and the fault-injection
//! middleware wrapped around every vendor route.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};

use super::faults::{FaultSpec, Terminal};
use super::server::ConnKill;
use super::Plumbing;

/// Prefix of the admin API; never counted, never faulted.
pub(crate) const ADMIN_PREFIX: &str = "/_sim";

/// Combine a vendor router (which may carry its own `/_sim/<vendor>/...`
/// routes) with the shared admin routes and the fault middleware.
pub(crate) fn build_app(vendor: Router, plumbing: Arc<Plumbing>) -> Router {
    let admin = Router::new()
        .route("/_sim/health", get(|| async { Json(json!({"ok": true})) }))
        .route("/_sim/reset", post(reset))
        .route("/_sim/clock", get(clock_now))
        .route("/_sim/clock/advance", post(clock_advance))
        .route("/_sim/state", get(state))
        .route("/_sim/stats", get(stats).delete(stats_clear))
        .route("/_sim/faults", get(faults_list).post(faults_arm).delete(faults_clear))
        .with_state(plumbing.clone());
    vendor.merge(admin).layer(middleware::from_fn_with_state(plumbing, fault_layer))
}

fn admin_error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({"ok": false, "error": msg.into()}))).into_response()
}

async fn reset(State(p): State<Arc<Plumbing>>) -> Json<Value> {
    p.backend.reset();
    p.faults.clear();
    p.stats.clear();
    Json(json!({"ok": true}))
}

async fn clock_now(State(p): State<Arc<Plumbing>>) -> Json<Value> {
    Json(json!({"now": p.clock.now(), "offset_seconds": p.clock.offset()}))
}

#[derive(Deserialize)]
struct Advance {
    seconds: f64,
}

async fn clock_advance(State(p): State<Arc<Plumbing>>, body: Bytes) -> Response {
    let Ok(Advance { seconds }) = serde_json::from_slice::<Advance>(&body) else {
        return admin_error(StatusCode::BAD_REQUEST, "expected {\"seconds\": number}");
    };
    if !seconds.is_finite() || seconds < 0.0 {
        return admin_error(StatusCode::BAD_REQUEST, "seconds must be finite and >= 0");
    }
    p.clock.advance(seconds);
    Json(json!({"ok": true, "now": p.clock.now(), "offset_seconds": p.clock.offset()})).into_response()
}

async fn state(State(p): State<Arc<Plumbing>>) -> Json<Value> {
    Json(p.backend.dump_state())
}

async fn stats(State(p): State<Arc<Plumbing>>) -> Json<Value> {
    Json(json!({"requests": p.stats.snapshot()}))
}

async fn stats_clear(State(p): State<Arc<Plumbing>>) -> Json<Value> {
    p.stats.clear();
    Json(json!({"ok": true}))
}

async fn faults_list(State(p): State<Arc<Plumbing>>) -> Json<Value> {
    Json(json!({"faults": p.faults.list()}))
}

async fn faults_arm(State(p): State<Arc<Plumbing>>, body: Bytes) -> Response {
    let spec: FaultSpec = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => return admin_error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    if let Err(e) = spec.validate() {
        return admin_error(StatusCode::BAD_REQUEST, e);
    }
    p.faults.arm(spec);
    Json(json!({"ok": true})).into_response()
}

async fn faults_clear(State(p): State<Arc<Plumbing>>) -> Json<Value> {
    p.faults.clear();
    Json(json!({"ok": true}))
}

/// Counts vendor requests and applies armed faults to them.
async fn fault_layer(State(p): State<Arc<Plumbing>>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path == ADMIN_PREFIX || path.starts_with("/_sim/") {
        return next.run(req).await;
    }
    p.stats.hit(&path);
    let decision = p.faults.decide(&path);
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    match decision.terminal {
        Some(Terminal::Drop) => {
            if let Some(kill) = req.extensions().get::<ConnKill>() {
                kill.0.notify_one();
                // The connection task drops this future together with the socket.
                std::future::pending::<()>().await;
            }
            // Not served by our accept loop: best effort, a body that fails at once.
            return truncated(Response::new(Body::empty()), 0);
        }
        Some(Terminal::Status(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let body = format!(
                "<html><head><title>{status}</title></head><body><center><h1>{status}</h1></center></body></html>\n"
            );
            let mut response = (status, [(header::CONTENT_TYPE, "text/html")], body).into_response();
            if let Some(ra) = decision.retry_after.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                response.headers_mut().insert(header::RETRY_AFTER, ra);
            }
            return response;
        }
        Some(Terminal::Code(code)) => return Json(p.backend.fault_body(code)).into_response(),
        Some(Terminal::Malformed) => {
            return (
                [(header::CONTENT_TYPE, "application/json")],
                "{\"ret\":0,\"msg\":\"success\",\"data\":[{\"room_id\":",
            )
                .into_response();
        }
        None => {}
    }
    if decision.ignore_range {
        req.headers_mut().remove(header::RANGE);
        req.headers_mut().remove(header::IF_RANGE);
    }
    let mut response = next.run(req).await;
    if let Some(ct) = decision.content_type.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
        response.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    if let Some((n, pause)) = decision.stall {
        response = stalled(response, n, pause);
    }
    match decision.truncate_after {
        Some(n) => truncated(response, n),
        None => response,
    }
}

/// Send the first `after` body bytes, then nothing for `pause`, then the rest.
fn stalled(response: Response, after: u64, pause: std::time::Duration) -> Response {
    let (parts, body) = response.into_parts();
    let stream = futures::stream::once(async move {
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
        let cut = (after as usize).min(bytes.len());
        (bytes.slice(..cut), bytes.slice(cut..))
    })
    .flat_map(move |(head, tail)| {
        let head = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(head) });
        let tail = futures::stream::once(async move {
            tokio::time::sleep(pause).await;
            Ok::<Bytes, std::io::Error>(tail)
        });
        head.chain(tail)
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

/// Keep the status and headers (including Content-Length) but yield only
/// the first `limit` body bytes, then fail the body so hyper cuts the
/// connection.
fn truncated(response: Response, limit: u64) -> Response {
    let (mut parts, body) = response.into_parts();
    if !parts.headers.contains_key(header::CONTENT_LENGTH) {
        // Make sure the client can tell the body is short.
        parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("1048576"));
    }
    let head = body.into_data_stream().scan(limit, |left, chunk| {
        let out = match chunk {
            Ok(chunk) if *left > 0 => {
                let take = (chunk.len() as u64).min(*left) as usize;
                *left -= take as u64;
                Some(Ok::<Bytes, std::io::Error>(chunk.slice(..take)))
            }
            _ => None,
        };
        futures::future::ready(out)
    });
    let cut = futures::stream::once(async {
        // Give hyper time to flush what was sent before failing the body;
        // an immediate error would abort the connection with the data
        // still buffered.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "simulated connection drop"))
    });
    Response::from_parts(parts, Body::from_stream(head.chain(cut)))
}
