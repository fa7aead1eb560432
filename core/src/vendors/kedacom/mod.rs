//! Kedacom meeting management (会管API V6.1.0.4, vendor doc 001, API level 3).
//!
//! * Requests ([`endpoints`] drives them): `GET` with the parameters and `account_token`
//!   in the query string; `POST` as a form with `account_token` and `params` = the JSON
//!   text of the endpoint's body fields; `meeting_files.upload` as multipart with the file
//!   in field `file`; `DELETE` as DELETE, or as `POST` with `_method=DELETE` when the
//!   profile sets `delete_via_post`. Path keys are percent-encoded (`123#456` → `123%23456`).
//! * Before sending: the table's checks, then Kedacom's own ([`validate`]: enums, ISO 8601
//!   times, conditional requirements, upload type and size) and the server's API level
//!   (`version.get`, read once) against the endpoint's minimum ([`endpoints::MIN_API_LEVELS`]).
//! * Auth ([`auth`]): doc 001 has no login flow; meetkit follows Kedacom's published one and
//!   makes every part of it a profile option (`token_path`, `login_path`, `heartbeat_path`,
//!   `heartbeat_secs`, `expiry_codes`, or a ready `account_token`). Login lazily, the
//!   `SSO_COOKIE_KEY` cookie sent on every request, a heartbeat task while the client is in
//!   use, one single-flight re-login on expiry (HTTP 401, or a code listed in `expiry_codes`).
//! * Responses ([`envelope`]): `{success, error_code, description, ...}`; the payload is
//!   returned as the server sent it, minus the envelope. Relative `file_url`s of meeting
//!   files are made absolute against `base_url` so they can be downloaded directly.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::FutureExt;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::endpoint::{EndpointSpec, HttpMethod};
use crate::json::as_int;
use crate::secret::Secret;
use crate::transport::Transport;
use crate::vendors::toolkit::{split, AutoIn, BaseUrl, CredentialCache};
use crate::vendors::VendorApi;
use crate::{Error, Result, Vendor};

pub mod auth;
pub mod endpoints;
pub mod envelope;
pub mod lifecycle;
pub mod validate;

pub use endpoints::ENDPOINTS;

use auth::Session;

/// A Kedacom connection in a profile (`[profiles.<name>.kedacom]`).
///
/// Doc 001 does not describe how to log in. The defaults follow Kedacom's published flow (see
/// [`auth`] and docs/assumptions.md); every path, the heartbeat and what counts as expiry can
/// be changed for a gateway that differs, or the login skipped with a ready `account_token`.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KedacomConfig {
    /// Server root, e.g. `https://kedacom.example.com` (meetkit adds `/api/...`).
    pub base_url: String,
    /// OAuth consumer key for the token request (`token_path`). Required unless
    /// `account_token` is set.
    #[serde(default)]
    pub consumer_key: Option<String>,
    /// OAuth consumer secret. Never printed. Required unless `account_token` is set.
    #[serde(default)]
    pub consumer_secret: Option<Secret>,
    /// Login user name. Required unless `account_token` is set or `login_path` is empty.
    #[serde(default)]
    pub username: Option<String>,
    /// Login password. Never printed. Required unless `account_token` is set or `login_path`
    /// is empty.
    #[serde(default)]
    pub password: Option<Secret>,
    /// A ready `account_token` (e.g. from an SSO portal). Never printed. When set, meetkit sends
    /// no token or login request and sends no cookie; when the server says the token expired,
    /// calls fail with an authentication error (there is nothing to log in with).
    #[serde(default)]
    pub account_token: Option<Secret>,
    /// Path of the token request (form `oauth_consumer_key`, `oauth_consumer_secret` →
    /// `account_token`); default `/api/v1/system/token`.
    #[serde(default = "default_token_path")]
    pub token_path: String,
    /// Path of the login request (form `account_token`, `username`, `password`; sets the
    /// `SSO_COOKIE_KEY` cookie); default `/api/v1/system/login`. Empty: no login step (the
    /// token alone authenticates).
    #[serde(default = "default_login_path")]
    pub login_path: String,
    /// Path of the keep-alive `POST`, `{account_token}` standing for the token (a whole path
    /// segment that follows a segment naming a token, so logs can redact it); default
    /// `/api/v1/system/token/{account_token}/heartbeat`. Empty: no heartbeat.
    #[serde(default = "default_heartbeat_path")]
    pub heartbeat_path: String,
    /// Error codes (the envelope's `error_code`) that mean the session expired, besides HTTP
    /// 401 which always does: meetkit logs in again once and resends. Default none (doc 001
    /// documents no error codes).
    #[serde(default)]
    pub expiry_codes: Vec<String>,
    /// Send DELETE as `POST` with `_method=DELETE` (for gateways that refuse DELETE).
    #[serde(default)]
    pub delete_via_post: bool,
    /// Seconds between keep-alive heartbeats while the client is in use (default 600; the
    /// meetkit simulator drops a token after 30 idle minutes).
    #[serde(default = "default_heartbeat_secs")]
    pub heartbeat_secs: f64,
    /// Stop the heartbeat after this many seconds without a call (default 1800); the next
    /// call restarts it, logging in again if the server has dropped the token meanwhile.
    #[serde(default = "default_idle_timeout_secs")]
    pub idle_timeout_secs: f64,
}

/// The default `token_path`.
pub const DEFAULT_TOKEN_PATH: &str = "/api/v1/system/token";
/// The default `login_path`.
pub const DEFAULT_LOGIN_PATH: &str = "/api/v1/system/login";
/// The default `heartbeat_path`.
pub const DEFAULT_HEARTBEAT_PATH: &str = "/api/v1/system/token/{account_token}/heartbeat";

fn default_token_path() -> String {
    DEFAULT_TOKEN_PATH.to_string()
}

fn default_login_path() -> String {
    DEFAULT_LOGIN_PATH.to_string()
}

fn default_heartbeat_path() -> String {
    DEFAULT_HEARTBEAT_PATH.to_string()
}

fn default_heartbeat_secs() -> f64 {
    600.0
}

fn default_idle_timeout_secs() -> f64 {
    1800.0
}

impl KedacomConfig {
    /// A profile section with the defaults: `base_url` and nothing else (set the credentials or
    /// `account_token` before use).
    pub fn new(base_url: impl Into<String>) -> Self {
        KedacomConfig {
            base_url: base_url.into(),
            consumer_key: None,
            consumer_secret: None,
            username: None,
            password: None,
            account_token: None,
            token_path: default_token_path(),
            login_path: default_login_path(),
            heartbeat_path: default_heartbeat_path(),
            expiry_codes: Vec::new(),
            delete_via_post: false,
            heartbeat_secs: default_heartbeat_secs(),
            idle_timeout_secs: default_idle_timeout_secs(),
        }
    }

    /// Check the auth options: credentials or a token, well-formed paths.
    fn check(&self) -> Result<()> {
        let set = |v: Option<&str>| v.is_some_and(|v| !v.trim().is_empty());
        if !set(self.account_token.as_ref().map(Secret::expose)) {
            let mut missing = Vec::new();
            if !set(self.consumer_key.as_deref()) {
                missing.push("consumer_key");
            }
            if !set(self.consumer_secret.as_ref().map(Secret::expose)) {
                missing.push("consumer_secret");
            }
            if !self.login_path.is_empty() {
                if !set(self.username.as_deref()) {
                    missing.push("username");
                }
                if !set(self.password.as_ref().map(Secret::expose)) {
                    missing.push("password");
                }
            }
            if !missing.is_empty() {
                return Err(Error::config(format!(
                    "the kedacom profile needs either account_token (a ready token) or consumer_key, consumer_secret, \
                     username and password to log in; missing: {}",
                    missing.join(", ")
                )));
            }
        }
        for (name, path) in [
            ("token_path", &self.token_path),
            ("login_path", &self.login_path),
            ("heartbeat_path", &self.heartbeat_path),
        ] {
            if !path.is_empty() && !path.starts_with('/') {
                return Err(Error::config(format!("kedacom.{name} `{path}` must start with `/` (or be empty)")));
            }
        }
        if self.token_path.is_empty() && self.account_token.is_none() {
            return Err(Error::config("kedacom.token_path must not be empty unless account_token is set"));
        }
        if !self.heartbeat_path.is_empty() {
            let segments: Vec<&str> = self.heartbeat_path.split('/').collect();
            for (i, seg) in segments.iter().enumerate() {
                if seg.contains("{account_token}") {
                    let redactable = *seg == "{account_token}"
                        && i > 0
                        && !segments[i - 1].is_empty()
                        && crate::secret::is_sensitive(segments[i - 1]);
                    if !redactable {
                        return Err(Error::config(format!(
                            "kedacom.heartbeat_path `{}`: {{account_token}} must be a whole segment right after a \
                             segment naming a token (e.g. /gw/token/{{account_token}}/keepalive), so that logs can \
                             redact it",
                            self.heartbeat_path
                        )));
                    }
                }
            }
        }
        if self.expiry_codes.iter().any(|c| c.trim().is_empty()) {
            return Err(Error::config("kedacom.expiry_codes must not contain an empty code"));
        }
        Ok(())
    }
}

/// Error codes with a known meaning: none. Doc 001 has no error-code table and none of its
/// (empty) failure examples shows a code; the codes the meetkit simulator uses are its own
/// and are not presented as Kedacom's.
pub static ERROR_CODES: &[(&str, &str)] = &[];

/// The documented meaning of a Kedacom error code.
pub fn error_meaning(code: &str) -> Option<&'static str> {
    ERROR_CODES.iter().find(|(c, _)| *c == code.trim()).map(|(_, m)| *m)
}

/// File types `meeting_files.upload` accepts: the doc's `file_type` codes 1-13.
pub const UPLOAD_EXTENSIONS: &[&str] =
    &["txt", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "pdf", "rar", "zip", "jpg", "png", "bmp"];

/// The doc's per-file limit for `meeting_files.upload` ("每个文件不超过20M"), read as MiB.
pub const UPLOAD_MAX_BYTES: u64 = 20 * 1024 * 1024;

/// Everything but RFC 3986 unreserved characters is encoded in the heartbeat's token segment.
const TOKEN_SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The cheap authenticated call `meetkit doctor` makes. List the platforms the user may use: needs the token and the login.
pub const HEALTH_CHECK: &str = "platforms.list";

/// Kedacom documents no error codes, so none is known to pass when tried again.
pub const RETRYABLE_CODES: &[&str] = &[];

/// Build the Kedacom client for a profile section.
pub(crate) fn connect(config: KedacomConfig, transport: Arc<Transport>) -> Result<Arc<dyn VendorApi>> {
    for (field, value) in [("heartbeat_secs", config.heartbeat_secs), ("idle_timeout_secs", config.idle_timeout_secs)] {
        if !(value.is_finite() && value > 0.0 && value <= 7.0 * 86_400.0) {
            return Err(Error::config(format!(
                "kedacom.{field} = {value}: expected a number of seconds greater than 0 and at most 604800"
            )));
        }
    }
    Ok(Arc::new(KedacomClient::new(config, transport)?))
}

/// The Kedacom client: builds requests from the endpoint table, keeps the session alive.
#[derive(Debug)]
pub struct KedacomClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: KedacomConfig,
    /// `base_url`; paths from the table are appended.
    base: BaseUrl,
    transport: Arc<Transport>,
    /// The login session, shared by every call; one re-login for everyone on expiry.
    auth: CredentialCache<Session>,
    api_level: tokio::sync::OnceCell<i64>,
    last_used: Mutex<Instant>,
    heartbeat: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl KedacomClient {
    /// Connect (lazily: nothing is sent until the first call).
    pub fn new(config: KedacomConfig, transport: Arc<Transport>) -> Result<Self> {
        let base = BaseUrl::from_profile(
            "kedacom.base_url",
            &config.base_url,
            Some("/api/v1/mc"),
            "https://kedacom.example.com",
        )?;
        config.check()?;
        if !(config.heartbeat_secs > 0.0 && config.idle_timeout_secs > 0.0) {
            return Err(Error::config("kedacom.heartbeat_secs and idle_timeout_secs must be positive"));
        }
        Ok(KedacomClient {
            inner: Arc::new(Inner {
                config,
                base,
                transport,
                auth: CredentialCache::new("kedacom session"),
                api_level: tokio::sync::OnceCell::new(),
                last_used: Mutex::new(Instant::now()),
                heartbeat: Mutex::new(None),
            }),
        })
    }

    /// The server root all URLs are built on (no trailing slash).
    pub fn base(&self) -> &str {
        self.inner.base.as_str()
    }
}

/// One call, ready to be (re)built for any session.
struct Prepared {
    spec: &'static EndpointSpec,
    url: url::Url,
    wire: Wire,
}

enum Wire {
    /// Query parameters besides `account_token`.
    Get(Vec<(String, String)>),
    /// The `params` JSON text.
    Post(String),
    /// The file's bytes and name.
    Upload(Bytes, String),
    Delete,
    DeleteViaPost,
}

impl Prepared {
    fn build(&self, c: &reqwest::Client, session: Option<&Session>) -> reqwest::RequestBuilder {
        let token = session.map(|s| s.token.expose().to_string()).unwrap_or_default();
        let auth = [("account_token", token.as_str())];
        let rb = match &self.wire {
            Wire::Get(query) => {
                let rb = c.get(self.url.clone());
                let rb = if session.is_some() { rb.query(&auth) } else { rb };
                rb.query(query)
            }
            Wire::Post(json) => {
                c.post(self.url.clone()).form(&[("account_token", token.as_str()), ("params", json.as_str())])
            }
            // Doc: where account_token goes for the upload is not stated; it is sent both
            // in the query string and as a multipart field.
            Wire::Upload(bytes, name) => {
                let part = reqwest::multipart::Part::stream_with_length(bytes.clone(), bytes.len() as u64)
                    .file_name(name.clone());
                let form = reqwest::multipart::Form::new().text("account_token", token.clone()).part("file", part);
                c.post(self.url.clone()).query(&auth).multipart(form)
            }
            // Doc: DELETE's account_token is a "request parameter" (query or body not
            // stated); it is sent in both.
            Wire::Delete => c.delete(self.url.clone()).query(&auth).form(&auth),
            Wire::DeleteViaPost => {
                c.post(self.url.clone()).form(&[("_method", "DELETE"), ("account_token", token.as_str())])
            }
        };
        match session.and_then(|s| s.cookie.as_ref()) {
            Some(cookie) => rb.header(reqwest::header::COOKIE, cookie.expose()),
            None => rb,
        }
    }
}

impl Inner {
    async fn call_spec(self: &Arc<Self>, spec: &'static EndpointSpec, params: Map<String, Value>) -> Result<Value> {
        if spec.id == "version.get" {
            let payload = self.fetch_version().await?;
            if let Some(level) = payload.get("api_level").and_then(as_int) {
                let _ = self.api_level.set(level);
            }
            return Ok(Value::Object(payload));
        }
        validate::check(spec, &params)?;
        self.check_api_level(spec).await?;
        let prepared = self.prepare(spec, params).await?;
        *self.last_used.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        let session = self.auth.get(|| self.login()).await?;
        self.ensure_heartbeat();
        match self.send(&prepared, &session).await {
            (true, Err(e)) if self.config.account_token.is_some() => Err(Error::Auth {
                vendor: Vendor::Kedacom,
                message: format!(
                    "{} refused the profile's account_token as expired ({}); meetkit cannot log in without \
                     consumer_key, consumer_secret, username and password: set a new account_token",
                    spec.id,
                    expiry_reason(&e)
                ),
            }),
            (true, Err(e)) => {
                tracing::debug!(endpoint = spec.id, error = %e, "kedacom: session expired, logging in again once");
                let fresh = self.auth.renew(&session, || self.login()).await?;
                self.send(&prepared, &fresh).await.1
            }
            (_, result) => result,
        }
    }

    /// Fail before sending when the server's API level is below the endpoint's minimum.
    async fn check_api_level(&self, spec: &'static EndpointSpec) -> Result<()> {
        let Some((_, min)) = endpoints::MIN_API_LEVELS.iter().find(|(id, _)| *id == spec.id) else { return Ok(()) };
        let level = *self
            .api_level
            .get_or_try_init(|| async {
                let payload = self.fetch_version().await?;
                payload.get("api_level").and_then(as_int).ok_or_else(|| Error::Decode {
                    vendor: Vendor::Kedacom,
                    endpoint: "version.get".into(),
                    message: "the answer has no integer `api_level`".into(),
                })
            })
            .await?;
        if level < *min {
            return Err(Error::config(format!(
                "kedacom {} needs API level {min}, but the server reports API level {level} (version.get); \
                 this server does not offer it",
                spec.id
            )));
        }
        Ok(())
    }

    async fn fetch_version(&self) -> Result<Map<String, Value>> {
        let spec = crate::endpoint::lookup(Vendor::Kedacom, ENDPOINTS, "version.get")?;
        let prepared = Prepared { spec, url: self.base.join_url(spec.path)?, wire: Wire::Get(Vec::new()) };
        let resp = self.transport.send(Vendor::Kedacom, spec.id, true, |c| prepared.build(c, None)).await?;
        envelope::decode(spec.id, &resp)
    }

    /// The table marks every parameter `Path`, `Query` (GETs) or `Body` (POSTs: the fields of
    /// the `params` form field); a DELETE has only its path.
    async fn prepare(&self, spec: &'static EndpointSpec, params: Map<String, Value>) -> Result<Prepared> {
        let split = split(spec, params, AutoIn::ByMethod)?;
        let url = self.base.join_url(&split.path)?;
        let wire = match spec.method {
            HttpMethod::Get => Wire::Get(split.query),
            HttpMethod::Delete if self.config.delete_via_post => Wire::DeleteViaPost,
            HttpMethod::Delete => Wire::Delete,
            HttpMethod::Post if spec.params.iter().any(|p| p.ty == crate::ParamType::File) => {
                let (bytes, name) = read_upload(spec, &split.body).await?;
                Wire::Upload(bytes, name)
            }
            HttpMethod::Post => Wire::Post(Value::Object(split.body).to_string()),
        };
        Ok(Prepared { spec, url, wire })
    }

    /// Send once with `session`. The flag says whether the answer means the session expired.
    async fn send(&self, p: &Prepared, session: &Session) -> (bool, Result<Value>) {
        let resp = match self
            .transport
            .send(Vendor::Kedacom, p.spec.id, p.spec.idempotent, |c| p.build(c, Some(session)))
            .await
        {
            Ok(r) => r,
            Err(e) => return (false, Err(e)),
        };
        let decoded = envelope::decode(p.spec.id, &resp);
        let expired = resp.status == 401
            || decoded.as_ref().err().is_some_and(|e| auth::is_expired(e, &self.config.expiry_codes));
        let result = decoded.map(|mut payload| {
            if p.spec.id.starts_with("meeting_files.") {
                resolve_file_urls(&mut payload, &self.base);
            }
            Value::Object(payload)
        });
        (expired, result)
    }

    /// Kedacom's published login flow (see [`auth`]), on the profile's paths; or the profile's
    /// ready `account_token`.
    async fn login(&self) -> Result<Session> {
        let c = &self.config;
        if let Some(token) = &c.account_token {
            return Ok(Session { token: token.clone(), cookie: None });
        }
        let (key, secret) = (c.consumer_key.as_deref().unwrap_or_default(), c.consumer_secret.as_ref());
        let url = self.base.join(&c.token_path);
        let form =
            [("oauth_consumer_key", key), ("oauth_consumer_secret", secret.map(Secret::expose).unwrap_or_default())];
        let resp = self.transport.send(Vendor::Kedacom, "system.token", true, |h| h.post(&url).form(&form)).await?;
        let payload = envelope::decode("system.token", &resp).map_err(|e| refused("system.token", e))?;
        let token = match payload.get("account_token").and_then(Value::as_str) {
            Some(t) if !t.is_empty() => t.to_string(),
            _ => {
                return Err(Error::Auth {
                    vendor: Vendor::Kedacom,
                    message: format!("POST {} answered without an account_token", c.token_path),
                })
            }
        };
        let cookie = auth::merge_cookies(None, &resp.headers);
        if c.login_path.is_empty() {
            return Ok(Session { token: Secret::new(token), cookie: cookie.map(Secret::new) });
        }
        let url = self.base.join(&c.login_path);
        let (username, password) = (c.username.as_deref().unwrap_or_default(), c.password.as_ref());
        let form = [
            ("account_token", token.as_str()),
            ("username", username),
            ("password", password.map(Secret::expose).unwrap_or_default()),
        ];
        let resp = self
            .transport
            .send(Vendor::Kedacom, "system.login", true, |h| {
                let rb = h.post(&url).form(&form);
                match &cookie {
                    Some(cookie) => rb.header(reqwest::header::COOKIE, cookie),
                    None => rb,
                }
            })
            .await?;
        envelope::decode("system.login", &resp).map_err(|e| refused("system.login", e))?;
        let cookie = auth::merge_cookies(cookie.as_deref(), &resp.headers);
        if !cookie.as_deref().is_some_and(|c| c.contains("SSO_COOKIE_KEY=")) {
            tracing::debug!("kedacom: the login answer set no SSO_COOKIE_KEY cookie; continuing with the token only");
        }
        Ok(Session { token: Secret::new(token), cookie: cookie.map(Secret::new) })
    }

    /// `POST {heartbeat_path}` (the token in its `{account_token}` segment and in the form)
    /// through the transport (whose logs redact the token segment of the path); a failed
    /// heartbeat is tried again at the next tick. The first element says whether the answer
    /// means the session expired.
    async fn heartbeat(&self, session: &Session) -> (bool, Result<()>) {
        let token = session.token.expose();
        let segment = percent_encoding::utf8_percent_encode(token, TOKEN_SEGMENT).to_string();
        let url = self.base.join(&self.config.heartbeat_path.replace("{account_token}", &segment));
        let resp = match self
            .transport
            .send(Vendor::Kedacom, "system.heartbeat", true, |c| {
                let rb = c.post(&url).form(&[("account_token", token)]);
                match &session.cookie {
                    Some(cookie) => rb.header(reqwest::header::COOKIE, cookie.expose()),
                    None => rb,
                }
            })
            .await
        {
            Ok(r) => r,
            Err(e) => return (false, Err(e)),
        };
        let decoded = envelope::decode("system.heartbeat", &resp).map(|_| ());
        let expired = resp.status == 401
            || decoded.as_ref().err().is_some_and(|e| auth::is_expired(e, &self.config.expiry_codes));
        (expired, decoded)
    }

    /// Start the heartbeat task unless it runs. It holds only a weak reference, so
    /// dropping the client ends it; it also ends after `idle_timeout_secs` without calls.
    fn ensure_heartbeat(self: &Arc<Self>) {
        if self.config.heartbeat_path.is_empty() {
            return;
        }
        let mut slot = self.heartbeat.lock().unwrap_or_else(|p| p.into_inner());
        if slot.as_ref().is_some_and(|h| !h.is_finished()) {
            return;
        }
        // Checked when the client was built (see `connect`).
        let every = Duration::try_from_secs_f64(self.config.heartbeat_secs).unwrap_or(Duration::from_secs(600));
        let idle = Duration::try_from_secs_f64(self.config.idle_timeout_secs).unwrap_or(Duration::from_secs(1800));
        *slot = Some(tokio::spawn(heartbeat_loop(Arc::downgrade(self), every, idle)));
    }

    fn stop_heartbeat(&self) {
        if let Some(h) = self.heartbeat.lock().unwrap_or_else(|p| p.into_inner()).take() {
            h.abort();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop_heartbeat();
    }
}

async fn heartbeat_loop(inner: Weak<Inner>, every: Duration, idle: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let Some(inner) = inner.upgrade() else { return };
        let idle_for = inner.last_used.lock().unwrap_or_else(|p| p.into_inner()).elapsed();
        if idle_for >= idle {
            tracing::debug!(?idle_for, "kedacom: client idle, heartbeat stopped");
            return;
        }
        let Some(session) = inner.auth.current() else { return };
        match inner.heartbeat(&session).await {
            (_, Ok(())) => tracing::debug!("kedacom: heartbeat ok"),
            (true, Err(e)) => {
                tracing::debug!(error = %e, "kedacom: heartbeat found the session expired; next call logs in");
                inner.auth.invalidate(&session);
                return;
            }
            (false, Err(e)) => tracing::warn!(error = %e, "kedacom: heartbeat failed; retrying at the next tick"),
        }
    }
}

/// What an expiry answer said (HTTP status or code), for messages.
fn expiry_reason(e: &Error) -> String {
    match e {
        Error::Api { code, message, .. } => format!("error {code}: {message}"),
        Error::Http { status, .. } => format!("HTTP {status}"),
        other => other.to_string(),
    }
}

/// A login step's refusal as an [`Error::Auth`] (never with the credentials).
fn refused(step: &str, e: Error) -> Error {
    let what = match &e {
        Error::Api { code, message, .. } => format!("error {code}: {message}"),
        Error::Http { status, .. } => format!("HTTP {status}"),
        _ => return e,
    };
    Error::Auth {
        vendor: Vendor::Kedacom,
        message: format!(
            "{step} refused the login: {what} (check consumer_key, consumer_secret, username and password of the \
             kedacom profile)"
        ),
    }
}

/// The file of `meeting_files.upload`, checked against the doc's limits (one file of a
/// listed type, at most 20 MB) before anything is sent.
async fn read_upload(spec: &'static EndpointSpec, params: &Map<String, Value>) -> Result<(Bytes, String)> {
    let invalid = |reason: String| Error::InvalidParams {
        vendor: Vendor::Kedacom,
        endpoint: spec.id.to_string(),
        param: "file".into(),
        reason,
    };
    let path = std::path::Path::new(params.get("file").and_then(Value::as_str).unwrap_or_default());
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    if !UPLOAD_EXTENSIONS.contains(&ext.as_str()) {
        return Err(invalid(format!(
            "`{name}`: the server takes only {} files (doc: file_type)",
            UPLOAD_EXTENSIONS.join(", ")
        )));
    }
    let meta = tokio::fs::metadata(path).await.map_err(|e| Error::io(path, e))?;
    if meta.len() > UPLOAD_MAX_BYTES {
        return Err(invalid(format!("`{name}` is {} bytes; the doc's limit is 20 MB per file", meta.len())));
    }
    let bytes = tokio::fs::read(path).await.map_err(|e| Error::io(path, e))?;
    Ok((Bytes::from(bytes), name))
}

/// Make every relative `file_url` (doc: 文件相对路径, "relative path of the file") absolute
/// against `base`.
fn resolve_file_urls(value: &mut Map<String, Value>, base: &BaseUrl) {
    fn walk(v: &mut Value, base: &BaseUrl) {
        match v {
            Value::Object(m) => {
                for (k, v) in m.iter_mut() {
                    match v {
                        Value::String(s) if k == "file_url" && !s.is_empty() && !s.contains("://") => {
                            *s = base.join(s);
                        }
                        other => walk(other, base),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, base)),
            _ => {}
        }
    }
    value.values_mut().for_each(|v| walk(v, base));
}

impl VendorApi for KedacomClient {
    fn call<'a>(&'a self, spec: &'static EndpointSpec, params: Map<String, Value>) -> BoxFuture<'a, Result<Value>> {
        self.inner.call_spec(spec, params).boxed()
    }

    /// Stops the heartbeat and forgets the session (the doc and Kedacom's flow give no
    /// logout endpoint meetkit relies on); the next call logs in again.
    fn close(&self) -> BoxFuture<'_, Result<()>> {
        self.inner.stop_heartbeat();
        self.inner.auth.clear();
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests;
