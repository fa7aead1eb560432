//! Traffic capture: every HTTP exchange meetkit makes or receives, as a HAR 1.2 file with
//! every secret redacted, so a user with a real account can show what their server answered.
//!
//! Attach a capture with [`crate::Client::from_profile_with`] and
//! [`ClientOptions::capture`](crate::client::ClientOptions::capture) (`meetkit call|run|webhook
//! --capture FILE`, `Client(capture=...)` in Python, `{"capture": ...}` in C). What is recorded,
//! one HAR entry each:
//!
//! * every attempt of every request through [`crate::transport::Transport`] — vendor calls,
//!   auth calls (token fetches, logins, heartbeats), session ends; retries are separate entries
//!   and the entry's `comment` names the vendor, endpoint and attempt;
//! * every attempt of a download ([`crate::Client::download`]): headers and status, and the
//!   number of bytes received — the body itself is never stored;
//! * every callback the NetEase receiver gets (request received, response sent).
//!
//! Bodies larger than [`MAX_BODY_BYTES`], streamed bodies (multipart uploads) and binary
//! bodies are not stored either: the entry records their size and says so in a `comment`.
//!
//! ## Redaction
//!
//! Nothing secret is written. Replaced by [`REDACTED`]:
//!
//! * values of query parameters, form fields and JSON fields (at any depth) whose name looks
//!   secret ([`crate::secret::is_sensitive`]: token, key, secret, password/passwd/pwd,
//!   *pin, checksum, sign/signature, auth, credential, cookie);
//! * values of such headers (`Authorization`, `Cookie`, `Set-Cookie`, `token`, `CheckSum`,
//!   `AppKey`, ...) and every cookie value;
//! * path segments that follow a secret-looking segment (`/system/token/<token>/heartbeat`);
//! * URL user info;
//! * every literal secret value, wherever it occurs (URLs, header values, bodies, also
//!   percent- or JSON-encoded): the profile's secrets (registered by the client) and every
//!   value met in a field named like a token, secret, password, pin, signature, auth or cookie
//!   (tokens learned at run time: the AVD token, the vmr session token, Kedacom's
//!   `account_token` and its login cookie) — learned values are redacted in every later entry.
//!
//! ## Writing
//!
//! The file is created (truncated) when the capture is opened and is a complete, valid HAR
//! document from then on: each entry is written, together with the closing `]}}`, over the
//! previous closing bytes in one write. So the file is valid after every entry, on every exit
//! path, including a crash between entries; a process killed in the middle of that one write
//! can leave the last entry cut off. Entries appear in the order exchanges finish. A write
//! error is logged once (a warning naming the file) and stops the capture; the calls
//! themselves never fail because of it.

use std::fs::File;
use std::future::Future;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use reqwest::header::HeaderMap;
use serde_json::{json, Map, Value};

use crate::secret::is_sensitive;
use crate::{Error, Result};

/// What every secret is replaced by.
pub const REDACTED: &str = "<redacted>";

/// Bodies larger than this are not stored (their size is).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Learned values shorter than this are not redacted as literals (they would mangle
/// unrelated text); the field they were found in is redacted all the same.
const MIN_LEARNED_LEN: usize = 6;

/// The bytes that close the document after the last entry.
const TAIL: &str = "\n]}}\n";

/// Parts of field names whose values are remembered as secrets to redact everywhere
/// (`key` alone is not one: access keys and app keys are identifiers).
const LEARNED_PARTS: &[&str] =
    &["token", "secret", "sign", "password", "passwd", "pwd", "auth", "credential", "checksum", "cookie"];

/// A HAR 1.2 file being written. Shared by a client's transport, downloads and callback
/// receiver; cheap to share behind an `Arc`.
pub struct Capture {
    path: PathBuf,
    writer: Mutex<Writer>,
    /// Literal secret values (and their encoded forms), longest first.
    secrets: RwLock<Vec<String>>,
}

struct Writer {
    file: Option<File>,
    /// Where the closing bytes start: the next entry is written there.
    end: u64,
    entries: usize,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture").field("path", &self.path).field("entries", &self.entries()).finish()
    }
}

impl Capture {
    /// Create (or truncate) `path` and write an empty HAR log into it.
    ///
    /// Errors: [`Error::Io`] naming the file when it cannot be created or written.
    pub fn create(path: impl AsRef<Path>) -> Result<Arc<Capture>> {
        let path = path.as_ref().to_path_buf();
        let mut file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        let head = json!({
            "version": "1.2",
            "creator": {"name": "meetkit", "version": env!("CARGO_PKG_VERSION")},
            "pages": [],
            "comment": format!(
                "Captured by meetkit; secrets (keys, tokens, cookies, signatures, PINs, passwords) are replaced by {REDACTED}."
            ),
        });
        // `{"log":{...,"entries":[` + TAIL, with the entries going in between.
        let head = head.to_string();
        let head = format!("{{\"log\":{},\"entries\":[", &head[..head.len() - 1]);
        file.write_all(head.as_bytes())
            .and_then(|()| file.write_all(TAIL.as_bytes()))
            .map_err(|e| Error::io(&path, e))?;
        let writer = Writer { file: Some(file), end: head.len() as u64, entries: 0 };
        Ok(Arc::new(Capture { path, writer: Mutex::new(writer), secrets: RwLock::default() }))
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many entries were written so far.
    pub fn entries(&self) -> usize {
        self.writer.lock().unwrap_or_else(|e| e.into_inner()).entries
    }

    /// Redact `value` wherever it occurs in later entries (as is, percent-encoded and
    /// JSON-escaped). The client registers its profile's secrets this way; call it for any
    /// other value that must not appear. Empty values are ignored.
    pub fn redact_value(&self, value: &str) {
        if value.is_empty() {
            return;
        }
        let mut forms = vec![value.to_string()];
        forms.push(percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string());
        forms.push(url::form_urlencoded::byte_serialize(value.as_bytes()).collect());
        let escaped = Value::String(value.to_string()).to_string();
        forms.push(escaped[1..escaped.len() - 1].to_string());
        let mut secrets = self.secrets.write().unwrap_or_else(|e| e.into_inner());
        let mut added = false;
        for form in forms {
            if !secrets.contains(&form) {
                secrets.push(form);
                added = true;
            }
        }
        if added {
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Learn the secrets of an exchange, redact it and append it to the file.
    pub(crate) fn record(&self, exchange: Exchange) {
        self.learn(&exchange);
        let entry = self.entry(&exchange).to_string();
        let mut guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let w = &mut *guard;
        let Some(file) = w.file.as_mut() else { return };
        let separator = if w.entries == 0 { "\n" } else { ",\n" };
        let mut chunk = String::with_capacity(separator.len() + entry.len() + TAIL.len());
        chunk.push_str(separator);
        chunk.push_str(&entry);
        chunk.push_str(TAIL);
        let written = file.seek(SeekFrom::Start(w.end)).and_then(|_| file.write_all(chunk.as_bytes()));
        match written {
            Ok(()) => {
                w.end += (separator.len() + entry.len()) as u64;
                w.entries += 1;
            }
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "capture: cannot write; capture stopped");
                w.file = None;
            }
        }
    }

    /// Remember the values of secret-named fields of `exchange` as literals to redact.
    fn learn(&self, ex: &Exchange) {
        let mut found = Vec::new();
        if let Ok(url) = url::Url::parse(&ex.url) {
            for (k, v) in url.query_pairs() {
                if learnable(&k) {
                    found.push(v.into_owned());
                }
            }
            let mut previous = false;
            for segment in url.path_segments().into_iter().flatten() {
                let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
                if previous {
                    found.push(decoded.to_string());
                }
                previous = learnable(&decoded);
            }
        }
        let mut headers: Vec<&HeaderMap> = vec![&ex.request_headers];
        if let Some(r) = &ex.response {
            headers.push(&r.headers);
        }
        for map in headers {
            for (name, value) in map {
                let Ok(value) = value.to_str() else { continue };
                let name = name.as_str();
                if name.eq_ignore_ascii_case("cookie") || name.eq_ignore_ascii_case("set-cookie") {
                    found.extend(cookies(name, value).into_iter().map(|(_, v)| v.to_string()));
                } else if learnable(name) {
                    found.push(value.to_string());
                    if let Some((_, credential)) = value.split_once(' ') {
                        found.push(credential.trim().to_string());
                    }
                }
            }
        }
        let mut bodies: Vec<(&Body, &HeaderMap)> = vec![(&ex.request_body, &ex.request_headers)];
        if let Some(r) = &ex.response {
            bodies.push((&r.body, &r.headers));
        }
        for (body, headers) in bodies {
            let Body::Bytes(bytes) = body else { continue };
            match parse_body(bytes, headers) {
                Parsed::Json(v) => learn_json(&v, false, &mut found),
                Parsed::Form(pairs) => {
                    found.extend(pairs.into_iter().filter(|(k, _)| learnable(k)).map(|(_, v)| v));
                }
                Parsed::Text(_) | Parsed::Binary => {}
            }
        }
        for value in found {
            let value = value.trim();
            if value.chars().count() >= MIN_LEARNED_LEN && value != REDACTED {
                self.redact_value(value);
            }
        }
    }

    /// `text` with every literal secret replaced.
    fn scrub(&self, text: &str) -> String {
        let secrets = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        let mut out = text.to_string();
        for s in secrets.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), REDACTED);
            }
        }
        out
    }

    /// The HAR entry of `ex`, redacted.
    fn entry(&self, ex: &Exchange) -> Value {
        let (url, query) = self.redact_url(&ex.url);
        let mut comments: Vec<String> = ex.comment.iter().cloned().collect();
        let mut request = json!({
            "method": ex.method,
            "url": url,
            "httpVersion": ex.request_version,
            "cookies": self.cookies_json(&ex.request_headers, "cookie"),
            "headers": self.headers_json(&ex.request_headers),
            "queryString": query,
            "headersSize": -1,
            "bodySize": ex.request_body.size().map_or(-1, |s| s as i64),
        });
        if let Some(post) = self.body_json(&ex.request_body, &ex.request_headers, true, &mut comments) {
            request["postData"] = post;
        }
        let response = match &ex.response {
            Some(r) => {
                let mut content = self
                    .body_json(&r.body, &r.headers, false, &mut comments)
                    .unwrap_or_else(|| json!({"size": 0, "mimeType": mime(&r.headers)}));
                if let Body::NotStored { why, .. } = &r.body {
                    content["comment"] = Value::String(why.to_string());
                }
                json!({
                    "status": r.status,
                    "statusText": reqwest::StatusCode::from_u16(r.status)
                        .ok()
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or(""),
                    "httpVersion": r.version,
                    "cookies": self.cookies_json(&r.headers, "set-cookie"),
                    "headers": self.headers_json(&r.headers),
                    "content": content,
                    "redirectURL": r.headers.get("location").and_then(|v| v.to_str().ok()).map(|v| self.redact_url(v).0).unwrap_or_default(),
                    "headersSize": -1,
                    "bodySize": r.body.size().map_or(-1, |s| s as i64),
                })
            }
            // No answer: HAR has no place for that but a status 0 response (as browsers write it).
            None => json!({
                "status": 0,
                "statusText": "",
                "httpVersion": "",
                "cookies": [],
                "headers": [],
                "content": {"size": 0, "mimeType": ""},
                "redirectURL": "",
                "headersSize": -1,
                "bodySize": -1,
            }),
        };
        let mut entry = json!({
            "startedDateTime": iso8601(ex.started),
            "time": ex.wait_ms + ex.receive_ms,
            "request": request,
            "response": response,
            "cache": {},
            "timings": {"send": 0, "wait": ex.wait_ms, "receive": ex.receive_ms},
        });
        if let Some(error) = &ex.error {
            entry["_error"] = Value::String(self.scrub(error));
            comments.push(format!("no response: {}", self.scrub(error)));
        }
        if !comments.is_empty() {
            entry["comment"] = Value::String(comments.join("; "));
        }
        entry
    }

    /// The redacted URL and its `queryString` array.
    fn redact_url(&self, raw: &str) -> (String, Value) {
        let Ok(mut url) = url::Url::parse(raw) else { return (self.scrub(raw), json!([])) };
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.set_fragment(None);
        let base = &url[..url::Position::BeforePath];
        let mut previous = false;
        let path: Vec<&str> = url
            .path()
            .split('/')
            .map(|segment| {
                let out = if previous && !segment.is_empty() { REDACTED } else { segment };
                let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
                previous = !segment.is_empty() && is_sensitive(&decoded);
                out
            })
            .collect();
        let mut text = format!("{base}{}", path.join("/"));
        let mut query = Vec::new();
        if let Some(q) = url.query() {
            let pairs: Vec<String> = q
                .split('&')
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    let name = decode_form(k);
                    let (shown, value) = if is_sensitive(&name) {
                        (format!("{k}={REDACTED}"), REDACTED.to_string())
                    } else {
                        (pair.to_string(), self.scrub(&decode_form(v)))
                    };
                    query.push(json!({"name": self.scrub(&name), "value": value}));
                    shown
                })
                .collect();
            text.push('?');
            text.push_str(&pairs.join("&"));
        }
        (self.scrub(&text), Value::Array(query))
    }

    fn headers_json(&self, headers: &HeaderMap) -> Value {
        headers
            .iter()
            .map(|(name, value)| {
                let value = if secret_header(name.as_str()) {
                    REDACTED.to_string()
                } else {
                    self.scrub(&String::from_utf8_lossy(value.as_bytes()))
                };
                json!({"name": name.as_str(), "value": value})
            })
            .collect()
    }

    /// The cookies of every `header` (`cookie` or `set-cookie`) line, values redacted.
    fn cookies_json(&self, headers: &HeaderMap, header: &str) -> Value {
        headers
            .get_all(header)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| cookies(header, v))
            .map(|(name, _)| json!({"name": self.scrub(name), "value": REDACTED}))
            .collect()
    }

    /// `postData` (request) or `content` (response) of a body, redacted; `None` for no body.
    fn body_json(&self, body: &Body, headers: &HeaderMap, request: bool, comments: &mut Vec<String>) -> Option<Value> {
        let mime = mime(headers);
        let (size, text, params) = match body {
            Body::Empty if request => return None,
            Body::Empty => (0, None, None),
            Body::NotStored { size, why } => {
                comments.push(match size {
                    Some(n) => format!("{} body: {why} ({n} bytes)", if request { "request" } else { "response" }),
                    None => format!("{} body: {why}", if request { "request" } else { "response" }),
                });
                (size.unwrap_or(0), None, None)
            }
            Body::Bytes(bytes) => {
                let size = bytes.len() as u64;
                match parse_body(bytes, headers) {
                    Parsed::Json(mut v) => {
                        redact_json(&mut v);
                        (size, Some(self.scrub(&v.to_string())), None)
                    }
                    Parsed::Form(pairs) => {
                        let mut shown = Vec::new();
                        let mut params = Vec::new();
                        for (k, v) in pairs {
                            let v = if is_sensitive(&k) { REDACTED.to_string() } else { v };
                            shown.push(format!(
                                "{}={}",
                                url::form_urlencoded::byte_serialize(k.as_bytes()).collect::<String>(),
                                if v == REDACTED {
                                    REDACTED.to_string()
                                } else {
                                    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
                                }
                            ));
                            params.push(json!({"name": self.scrub(&k), "value": self.scrub(&v)}));
                        }
                        (size, Some(self.scrub(&shown.join("&"))), Some(params))
                    }
                    Parsed::Text(t) => (size, Some(self.scrub(&t)), None),
                    Parsed::Binary => {
                        let side = if request { "request" } else { "response" };
                        comments.push(format!("{side} body: binary, not stored ({size} bytes)"));
                        (size, None, None)
                    }
                }
            }
        };
        let mut out = if request { json!({"mimeType": mime}) } else { json!({"size": size, "mimeType": mime}) };
        match (request, text) {
            (true, text) => {
                out["text"] = Value::String(text.unwrap_or_default());
                if let Some(p) = params {
                    out["params"] = Value::Array(p);
                }
            }
            (false, Some(text)) => out["text"] = Value::String(text),
            (false, None) => {}
        }
        Some(out)
    }
}

/// One HTTP exchange as it happened, before redaction.
pub(crate) struct Exchange {
    pub(crate) started: SystemTime,
    pub(crate) method: String,
    pub(crate) url: String,
    pub(crate) request_version: String,
    pub(crate) request_headers: HeaderMap,
    pub(crate) request_body: Body,
    pub(crate) response: Option<ResponseRecord>,
    /// Milliseconds until the response headers arrived.
    pub(crate) wait_ms: f64,
    /// Milliseconds reading the body.
    pub(crate) receive_ms: f64,
    /// Why there is no response.
    pub(crate) error: Option<String>,
    pub(crate) comment: Option<String>,
}

/// The answer of an [`Exchange`].
pub(crate) struct ResponseRecord {
    pub(crate) status: u16,
    pub(crate) version: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Body,
}

/// A body as recorded.
pub(crate) enum Body {
    Empty,
    Bytes(Bytes),
    NotStored { size: Option<u64>, why: &'static str },
}

impl Body {
    /// `bytes`, or a note of its size when it is larger than [`MAX_BODY_BYTES`].
    pub(crate) fn of(bytes: &[u8]) -> Body {
        match bytes.len() {
            0 => Body::Empty,
            n if n > MAX_BODY_BYTES => Body::NotStored { size: Some(n as u64), why: "larger than 1 MiB, not stored" },
            _ => Body::Bytes(Bytes::copy_from_slice(bytes)),
        }
    }

    fn size(&self) -> Option<u64> {
        match self {
            Body::Empty => Some(0),
            Body::Bytes(b) => Some(b.len() as u64),
            Body::NotStored { size, .. } => *size,
        }
    }
}

impl Exchange {
    /// An exchange starting now with `request` (body copied unless streamed).
    pub(crate) fn of_request(request: &reqwest::Request, comment: Option<String>) -> Exchange {
        let request_body = match request.body() {
            None => Body::Empty,
            Some(b) => match b.as_bytes() {
                Some(bytes) => Body::of(bytes),
                None => Body::NotStored { size: None, why: "streamed (e.g. a multipart upload), not stored" },
            },
        };
        Exchange {
            started: SystemTime::now(),
            method: request.method().to_string(),
            url: request.url().to_string(),
            request_version: format!("{:?}", request.version()),
            request_headers: request.headers().clone(),
            request_body,
            response: None,
            wait_ms: 0.0,
            receive_ms: 0.0,
            error: None,
            comment,
        }
    }
}

/// Milliseconds since `t`, as HAR wants them.
pub(crate) fn ms_since(t: Instant) -> f64 {
    (t.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

tokio::task_local! {
    static CURRENT: Arc<Capture>;
}

/// Run `fut` with `capture` as the capture of downloads and callback receivers it starts.
pub(crate) async fn scope<F: Future>(capture: Option<Arc<Capture>>, fut: F) -> F::Output {
    match capture {
        Some(c) => CURRENT.scope(c, fut).await,
        None => fut.await,
    }
}

/// The capture of the current [`scope`], if any.
pub(crate) fn current() -> Option<Arc<Capture>> {
    CURRENT.try_with(Arc::clone).ok()
}

/// One download attempt being recorded (a no-op outside a capture [`scope`]); the entry is
/// written when it is dropped, whatever path the attempt took.
pub(crate) struct DownloadRecord {
    capture: Option<(Arc<Capture>, Exchange, Instant)>,
    received: u64,
    why: &'static str,
}

impl DownloadRecord {
    /// Start recording `request`.
    pub(crate) fn start(request: &reqwest::Request) -> DownloadRecord {
        let capture = current().map(|c| (c, Exchange::of_request(request, Some("download".into())), Instant::now()));
        DownloadRecord { capture, received: 0, why: "download, not stored" }
    }

    /// Start recording `request` of a streamed response (an event stream) in `capture`; the
    /// entry (request, status, headers; no body) is written when this record is dropped.
    pub(crate) fn start_stream(capture: Option<&Arc<Capture>>, request: &reqwest::Request) -> DownloadRecord {
        let capture =
            capture.map(|c| (c.clone(), Exchange::of_request(request, Some("event stream".into())), Instant::now()));
        DownloadRecord { capture, received: 0, why: "event stream, not stored" }
    }

    /// The response headers arrived.
    pub(crate) fn response(&mut self, response: &reqwest::Response) {
        if let Some((_, ex, t0)) = &mut self.capture {
            ex.wait_ms = ms_since(*t0);
            ex.response = Some(ResponseRecord {
                status: response.status().as_u16(),
                version: format!("{:?}", response.version()),
                headers: response.headers().clone(),
                body: Body::Empty,
            });
        }
    }

    /// `n` more body bytes arrived.
    pub(crate) fn received(&mut self, n: usize) {
        self.received += n as u64;
    }
}

impl Drop for DownloadRecord {
    fn drop(&mut self) {
        let Some((capture, mut ex, t0)) = self.capture.take() else { return };
        match &mut ex.response {
            Some(r) => {
                ex.receive_ms = (ms_since(t0) - ex.wait_ms).max(0.0);
                r.body = Body::NotStored { size: Some(self.received), why: self.why };
            }
            None => {
                ex.wait_ms = ms_since(t0);
                ex.error = Some("the request failed before a response arrived".into());
            }
        }
        capture.record(ex);
    }
}

#[cfg(feature = "webhook")]
impl Capture {
    /// `router` with every request it answers recorded (the NetEase callback receiver).
    pub(crate) fn record_incoming(self: &Arc<Self>, router: axum::Router) -> axum::Router {
        router.layer(axum::middleware::from_fn_with_state(self.clone(), incoming))
    }
}

/// Largest incoming body the recording layer reads (as axum's default body limit).
#[cfg(feature = "webhook")]
const MAX_INCOMING_BYTES: usize = 2 << 20;

#[cfg(feature = "webhook")]
async fn incoming(
    axum::extract::State(capture): axum::extract::State<Arc<Capture>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let t0 = Instant::now();
    let started = SystemTime::now();
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_INCOMING_BYTES).await else {
        return axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let host = parts.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let mut ex = Exchange {
        started,
        method: parts.method.to_string(),
        url: format!("http://{host}{}", parts.uri),
        request_version: format!("{:?}", parts.version),
        request_headers: parts.headers.clone(),
        request_body: Body::of(&body),
        response: None,
        wait_ms: 0.0,
        receive_ms: 0.0,
        error: None,
        comment: Some("received: an incoming callback (the request came in, the response went out)".into()),
    };
    let response = next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(body))).await;
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    ex.wait_ms = ms_since(t0);
    ex.response = Some(ResponseRecord {
        status: parts.status.as_u16(),
        version: format!("{:?}", parts.version),
        headers: parts.headers.clone(),
        body: Body::of(&body),
    });
    capture.record(ex);
    axum::response::Response::from_parts(parts, axum::body::Body::from(body))
}

/// Whether values of a field of this name are remembered as literal secrets.
fn learnable(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.ends_with("pin") || LEARNED_PARTS.iter().any(|p| name.contains(p))
}

/// Whether a header's whole value is secret.
fn secret_header(name: &str) -> bool {
    is_sensitive(name) || name.to_ascii_lowercase().contains("cookie")
}

/// `(name, value)` of each cookie of a `Cookie` or `Set-Cookie` header value.
fn cookies<'a>(header: &str, value: &'a str) -> Vec<(&'a str, &'a str)> {
    let parts: Vec<&str> = if header.eq_ignore_ascii_case("set-cookie") {
        value.split(';').take(1).collect()
    } else {
        value.split(';').collect()
    };
    parts.into_iter().filter_map(|c| c.split_once('=')).map(|(n, v)| (n.trim(), v.trim().trim_matches('"'))).collect()
}

fn mime(headers: &HeaderMap) -> String {
    headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}

fn decode_form(s: &str) -> String {
    url::form_urlencoded::parse(format!("{s}=").as_bytes()).next().map(|(k, _)| k.into_owned()).unwrap_or_default()
}

enum Parsed {
    Json(Value),
    Form(Vec<(String, String)>),
    Text(String),
    Binary,
}

fn parse_body(bytes: &[u8], headers: &HeaderMap) -> Parsed {
    let Ok(text) = std::str::from_utf8(bytes) else { return Parsed::Binary };
    let mime = mime(headers).to_ascii_lowercase();
    let trimmed = text.trim_start();
    if mime.contains("json") || trimmed.starts_with('{') || trimmed.starts_with('[') {
        if let Ok(v) = serde_json::from_str::<Value>(text) {
            return Parsed::Json(v);
        }
    }
    if mime.contains("x-www-form-urlencoded") {
        return Parsed::Form(url::form_urlencoded::parse(bytes).into_owned().collect());
    }
    Parsed::Text(text.to_string())
}

/// Replace the value of every secret-named field, at any depth.
fn redact_json(v: &mut Value) {
    match v {
        Value::Object(map) => redact_map(map),
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

fn redact_map(map: &mut Map<String, Value>) {
    for (k, v) in map.iter_mut() {
        if is_sensitive(k) && !v.is_null() {
            *v = Value::String(REDACTED.into());
        } else {
            redact_json(v);
        }
    }
}

/// Collect the scalar values under secret-named fields (`inside`: under one already).
fn learn_json(v: &Value, inside: bool, found: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                learn_json(v, inside || learnable(k), found);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| learn_json(i, inside, found)),
        Value::String(s) if inside => found.push(s.clone()),
        Value::Number(n) if inside => found.push(n.to_string()),
        // A URL in a body (a download link): its signature or token parameters are secrets too.
        Value::String(s) if s.contains("://") && s.contains('?') => {
            if let Ok(url) = url::Url::parse(s) {
                found.extend(url.query_pairs().filter(|(k, _)| learnable(k)).map(|(_, v)| v.into_owned()));
            }
        }
        _ => {}
    }
}

/// `t` as ISO 8601 in UTC with milliseconds, e.g. `2026-12-07T01:36:59.123Z`.
fn iso8601(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use std::time::Duration;

    fn read(c: &Capture) -> Value {
        serde_json::from_str(&std::fs::read_to_string(c.path()).unwrap()).unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn exchange(url: &str, req: HeaderMap, body: &str, resp: Option<(HeaderMap, &str)>) -> Exchange {
        Exchange {
            started: UNIX_EPOCH + Duration::from_millis(1_733_535_419_123),
            method: "POST".into(),
            url: url.into(),
            request_version: "HTTP/1.1".into(),
            request_headers: req,
            request_body: Body::of(body.as_bytes()),
            response: resp.map(|(headers, body)| ResponseRecord {
                status: 200,
                version: "HTTP/1.1".into(),
                headers,
                body: Body::of(body.as_bytes()),
            }),
            wait_ms: 1.5,
            receive_ms: 0.5,
            error: None,
            comment: Some("avd room.create (attempt 1)".into()),
        }
    }

    #[test]
    fn dates_are_iso8601_utc() {
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(UNIX_EPOCH + Duration::from_millis(1_733_535_419_123)), "2024-12-07T01:36:59.123Z");
        assert_eq!(iso8601(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn the_file_is_valid_har_before_and_after_each_entry() {
        let dir = tempfile::tempdir().unwrap();
        let c = Capture::create(dir.path().join("x.har")).unwrap();
        let empty = read(&c);
        assert_eq!(empty["log"]["version"], "1.2");
        assert_eq!(empty["log"]["entries"], json!([]));
        for i in 0..3 {
            c.record(exchange(&format!("http://h/a?i={i}"), HeaderMap::new(), "", None));
            let log = read(&c);
            assert_eq!(log["log"]["entries"].as_array().unwrap().len(), i + 1);
        }
        let log = read(&c);
        let e = &log["log"]["entries"][2];
        assert_eq!(e["request"]["url"], "http://h/a?i=2");
        assert_eq!(e["response"]["status"], 0);
        assert_eq!(e["startedDateTime"], "2024-12-07T01:36:59.123Z");
        assert_eq!(c.entries(), 3);
    }

    #[test]
    fn secrets_are_redacted_by_name_and_by_value() {
        const RESPONSE: &str =
            r#"{"ret":0,"data":{"token":"tok-123456789","nested":[{"account_token":"acc-987654321"}]}}"#;
        let dir = tempfile::tempdir().unwrap();
        let c = Capture::create(dir.path().join("x.har")).unwrap();
        c.redact_value("pro/file+secret");
        // The token is learned from the response ...
        c.record(exchange(
            "http://user:pw@h/sdkapi/v2/app/get_token?access_key=ak&secret_key=pro%2Ffile%2Bsecret",
            headers(&[("content-type", "application/x-www-form-urlencoded"), ("cookie", "SSO=c00kie-value; b=2")]),
            "password=hunter2hunter2&user=ops&note=pro%2Ffile%2Bsecret",
            Some((
                headers(&[("content-type", "application/json"), ("set-cookie", "SSO=c00kie-value; Path=/")]),
                RESPONSE,
            )),
        ));
        // ... and redacted wherever it appears later, even in a field with an innocent name.
        // A signed link in a body: its signature is redacted in the body and in the later request.
        c.record(exchange(
            "http://h/records",
            HeaderMap::new(),
            "",
            Some((headers(&[]), r#"{"url":"http://h/f.mp4?a=1&sign=s1gnature-xyz"}"#)),
        ));
        c.record(exchange("http://h/f.mp4?a=1&x=s1gnature-xyz", HeaderMap::new(), "", None));
        c.record(exchange(
            "http://h/api/v1/system/token/acc-987654321/heartbeat?room=r1",
            headers(&[("token", "tok-123456789"), ("x-echo", "tok-123456789")]),
            r#"{"echo":"tok-123456789","pin":"1234","room":"r1"}"#,
            Some((headers(&[]), "plain text mentioning pro/file+secret and acc-987654321")),
        ));
        let text = std::fs::read_to_string(c.path()).unwrap();
        for secret in [
            "pro/file+secret",
            "pro%2Ffile%2Bsecret",
            "hunter2",
            "tok-123456789",
            "acc-987654321",
            "c00kie-value",
            "1234\"",
            ":pw@",
            "s1gnature-xyz",
        ] {
            assert!(!text.contains(secret), "{secret} leaked:\n{text}");
        }
        let log: Value = serde_json::from_str(&text).unwrap();
        let first = &log["log"]["entries"][0];
        assert_eq!(
            first["request"]["url"],
            "http://h/sdkapi/v2/app/get_token?access_key=<redacted>&secret_key=<redacted>"
        );
        assert_eq!(first["request"]["queryString"][1], json!({"name": "secret_key", "value": REDACTED}));
        assert_eq!(
            first["request"]["cookies"],
            json!([{"name": "SSO", "value": REDACTED}, {"name": "b", "value": REDACTED}])
        );
        assert_eq!(first["request"]["postData"]["params"][1], json!({"name": "user", "value": "ops"}));
        assert_eq!(first["response"]["content"]["size"], RESPONSE.len());
        assert_eq!(
            log["log"]["entries"][1]["response"]["content"]["text"],
            r#"{"url":"http://h/f.mp4?a=1&sign=<redacted>"}"#
        );
        assert_eq!(log["log"]["entries"][2]["request"]["url"], "http://h/f.mp4?a=1&x=<redacted>");
        let second = &log["log"]["entries"][3];
        assert_eq!(second["request"]["url"], "http://h/api/v1/system/token/<redacted>/heartbeat?room=r1");
        assert_eq!(second["request"]["postData"]["text"], r#"{"echo":"<redacted>","pin":"<redacted>","room":"r1"}"#);
        assert_eq!(second["request"]["headers"][1], json!({"name": "x-echo", "value": REDACTED}));
        assert_eq!(second["comment"], "avd room.create (attempt 1)");
    }

    #[test]
    fn large_and_binary_bodies_are_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let c = Capture::create(dir.path().join("x.har")).unwrap();
        let mut ex = exchange("http://h/f", HeaderMap::new(), "", None);
        ex.response = Some(ResponseRecord {
            status: 200,
            version: "HTTP/1.1".into(),
            headers: HeaderMap::new(),
            body: Body::of(&vec![b'a'; MAX_BODY_BYTES + 1]),
        });
        ex.request_body = Body::Bytes(Bytes::from_static(&[0xff, 0xfe, 0x00]));
        c.record(ex);
        let log = read(&c);
        let e = &log["log"]["entries"][0];
        assert_eq!(e["response"]["content"]["size"], MAX_BODY_BYTES as u64 + 1);
        assert!(e["response"]["content"].get("text").is_none());
        assert_eq!(e["request"]["bodySize"], 3);
        let comment = e["comment"].as_str().unwrap();
        assert!(comment.contains("binary, not stored (3 bytes)") && comment.contains("larger than 1 MiB"), "{comment}");
    }

    #[test]
    fn short_learned_values_are_not_literals_but_profile_values_are() {
        let dir = tempfile::tempdir().unwrap();
        let c = Capture::create(dir.path().join("x.har")).unwrap();
        c.redact_value("4321");
        c.record(exchange("http://h/a", HeaderMap::new(), r#"{"token":"ab1"}"#, None));
        c.record(exchange("http://h/b?x=ab1&y=98765432100", HeaderMap::new(), "", None));
        let log = read(&c);
        assert_eq!(log["log"]["entries"][1]["request"]["url"], "http://h/b?x=ab1&y=98765<redacted>00");
    }
}
