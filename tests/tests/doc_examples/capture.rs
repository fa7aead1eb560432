//! A capture server for the doc-example tests: it records every request meetkit sends and
//! answers with the response the test programmed (a vendor doc's example). Requests of the
//! auth flows (AVD `app.get_token`, Kedacom token/login/heartbeat/version, vmr checkJoin and
//! session calls) are answered by fixed rules and marked `auth`, unless the example under
//! test is that auth call itself.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// One request as it arrived.
#[derive(Clone, Debug)]
pub struct Captured {
    pub method: String,
    /// The path as sent (percent-encoding kept).
    pub path: String,
    /// The raw query string (`None` when there is no `?`).
    pub query: Option<String>,
    /// Header names in lower case, values as text.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// Answered by an auth rule (not the request of the example under test).
    pub auth: bool,
}

impl Captured {
    /// The first value of a header (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }
}

/// The answer for the request under test.
#[derive(Clone, Debug)]
pub struct Programmed {
    /// The example's own path: a request to it is never treated as an auth request.
    pub own_path: String,
    pub status: u16,
    pub body: Vec<u8>,
    pub content_type: &'static str,
}

/// The fixed answers of the auth flows (bodies from the docs where the docs have them).
#[derive(Clone, Debug, Default)]
pub struct AuthAnswers {
    pub avd_get_token: Option<String>,
    pub vmr_check_join: Option<String>,
    pub vmr_new_session: Option<String>,
    pub vmr_refresh_session: Option<String>,
}

struct Inner {
    captured: Mutex<Vec<Captured>>,
    programmed: Mutex<Option<Programmed>>,
    answers: Mutex<AuthAnswers>,
}

/// A running capture server on 127.0.0.1.
#[derive(Clone)]
pub struct CaptureServer {
    inner: Arc<Inner>,
    pub addr: SocketAddr,
}

/// The Kedacom login's `account_token` and cookie (the doc has no login section; the values
/// are the test's).
pub const KEDACOM_TOKEN: &str = "doc-account-token";
pub const KEDACOM_COOKIE: &str = "SSO_COOKIE_KEY=doc-sso";

impl CaptureServer {
    pub async fn start(answers: AuthAnswers) -> CaptureServer {
        let inner =
            Arc::new(Inner { captured: Mutex::default(), programmed: Mutex::default(), answers: Mutex::new(answers) });
        let app = axum::Router::new().fallback(handle).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        CaptureServer { inner, addr }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replace the auth answers (vmr's checkJoin answer names this server's address).
    pub fn set_answers(&self, answers: AuthAnswers) {
        *self.inner.answers.lock().unwrap() = answers;
    }

    /// Forget what was captured and answer the next requests with `p`.
    pub fn program(&self, p: Programmed) {
        self.inner.captured.lock().unwrap().clear();
        *self.inner.programmed.lock().unwrap() = Some(p);
    }

    /// The last captured request that is not an auth request.
    pub fn last_request(&self) -> Option<Captured> {
        self.inner.captured.lock().unwrap().iter().rev().find(|c| !c.auth).cloned()
    }

    /// The last captured request of any kind (when the client sent the example's request to an
    /// auth path, it was taken for an auth request).
    pub fn last_any(&self) -> Option<Captured> {
        self.inner.captured.lock().unwrap().last().cloned()
    }
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let programmed = inner.programmed.lock().unwrap().clone();
    let own = programmed.as_ref().is_some_and(|p| p.own_path == path);
    let answers = inner.answers.lock().unwrap().clone();
    let auth_answer = if own { None } else { auth_answer(&answers, &path) };
    let captured = Captured {
        method: method.to_string(),
        path: path.clone(),
        query: uri.query().map(str::to_string),
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_ascii_lowercase(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body,
        auth: auth_answer.is_some(),
    };
    inner.captured.lock().unwrap().push(captured);
    if let Some(resp) = auth_answer {
        return resp;
    }
    match programmed {
        Some(p) => {
            let status = StatusCode::from_u16(p.status).unwrap();
            (status, [(axum::http::header::CONTENT_TYPE, p.content_type)], p.body).into_response()
        }
        None => (StatusCode::NOT_FOUND, "nothing programmed").into_response(),
    }
}

fn json(body: String) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json; charset=utf-8")], body).into_response()
}

fn auth_answer(a: &AuthAnswers, path: &str) -> Option<Response> {
    let kedacom_ok = || json(r#"{"success": 1}"#.to_string());
    match path {
        "/sdkapi/v2/app/get_token" => a.avd_get_token.clone().map(json),
        "/api/v1/system/token" => Some(json(format!(r#"{{"success": 1, "account_token": "{KEDACOM_TOKEN}"}}"#))),
        "/api/v1/system/login" => {
            let cookie = format!("{KEDACOM_COOKIE}; Path=/; HttpOnly");
            Some(([(axum::http::header::SET_COOKIE, cookie)], kedacom_ok()).into_response())
        }
        // Doc 001's header: 会管API V6.1.0.4, API level 3.
        "/api/mc/version" => Some(json(r#"{"success": 1, "version": "V6.1.0.4", "api_level": 3}"#.to_string())),
        "/api/v3/meet/checkJoin.shtml" => a.vmr_check_join.clone().map(json),
        p if p.starts_with("/api/v1/system/token/") && p.ends_with("/heartbeat") => Some(kedacom_ok()),
        p if p.starts_with("/api/services/") && p.ends_with("/new_session") => a.vmr_new_session.clone().map(json),
        p if p.starts_with("/api/services/") && p.ends_with("/refresh_session") => {
            a.vmr_refresh_session.clone().map(json)
        }
        // Doc 003: "应忽略所有应答" (ignore end_session's answer).
        p if p.starts_with("/api/services/") && p.ends_with("/end_session") => {
            Some(json(r#"{"status": "success", "result": true}"#.to_string()))
        }
        _ => None,
    }
}

/// `value` as compact JSON text.
pub fn to_text(value: &Value) -> String {
    serde_json::to_string(value).unwrap()
}
