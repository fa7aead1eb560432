//! The one HTTP transport every vendor shares.
//!
//! One `reqwest::Client` (connection pool, TLS with an optional custom CA, opt-in
//! insecure mode), per-request timeouts, limits on what is in flight, and the retry policy:
//!
//! * a connection that failed before the request was sent is always retried;
//! * timeouts, 5xx, 408 and 429 answers, and bodies cut off mid-way are retried only
//!   for endpoints marked idempotent in their table, with exponential backoff and
//!   full jitter, honouring `Retry-After`;
//! * anything else is returned at once — a create/start is never resent blindly.
//!
//! Log lines carry the vendor, endpoint id, method and path (segments after a
//! sensitive-looking one, such as a token in the path, redacted); never query strings,
//! headers or bodies (they hold tokens and keys).
//!
//! TLS: `ca_cert` adds a CA to trust (a private deployment, `meetkit sim --tls`). A server
//! certificate that is not trusted is a [`Error::Config`] naming the vendor, the endpoint and
//! the fix, never retried and never silently accepted; `insecure = true` turns checking off
//! and says so in one WARN line per process.
//!
//! Pool and limits: every [`Transport`] of a process built with the same connection settings
//! (timeouts, CA, `insecure`, limits) shares one connection pool and one set of limits, so a
//! program holding thousands of clients (one per vmr room, say) opens no more connections and
//! builds no more TLS configurations than one client would. At most `max_connections` requests
//! per vendor are in flight at once, and at most `max_downloads` downloads per vendor
//! ([`Transport::download_slot`]); more wait for a free slot, unsent (so waiting can never make
//! an outcome unknown). The wait is not part of `request_timeout_secs`.
//!
//! Two HTTP paths: API calls go straight over hyper-util's pooled HTTP/1.1 client
//! (`transport/direct.rs`: reqwest's per-request layers cost about a third of a small call),
//! with the same TLS trust, connect timeout and headers; vendors still build each request with
//! reqwest's builder. Calls stay on reqwest when a proxy variable is set (`HTTP_PROXY`,
//! `HTTPS_PROXY`, `ALL_PROXY`), with `insecure = true`, or when the stall limit is shorter than
//! the whole-request limit. Downloads and event streams always use reqwest. On both paths an API
//! call **does not follow redirects**: a 3xx is an [`Error::Http`] naming where it points (a
//! followed 301/302 would resend a POST as a GET); downloads follow them.
//!
//! With a [`Capture`] attached ([`Transport::with_capture`]) every attempt is also recorded,
//! redacted, as one HAR entry (see [`crate::capture`]).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use tokio::sync::Semaphore;

use crate::capture::{Body, Capture, Exchange, ResponseRecord};
use crate::{Error, Result, Vendor};

mod direct;
use direct::{DirectClient, DirectError};

/// The `User-Agent` of every request.
const USER_AGENT_VALUE: &str = concat!("meetkit/", env!("CARGO_PKG_VERSION"));

/// Timeouts, retries and TLS. Every field has a default and a config key under
/// `[profiles.<name>.transport]` in `meetkit.toml`.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TransportConfig {
    /// Seconds to establish a connection (default 10).
    pub connect_timeout_secs: f64,
    /// Seconds for a whole request, response body included (default 30).
    pub request_timeout_secs: f64,
    /// Seconds a response may stay silent — no headers yet, or no body bytes since the last
    /// ones — before it is given up as stalled (default 60). Applies to every API call and to
    /// every download (which has no whole-request limit: a recording may take hours); a stalled
    /// download is resumed like a dropped one. vmr's event stream reconnects after this long
    /// without a byte.
    pub read_timeout_secs: f64,
    /// Attempts in all, first one included (default 3; 1 disables retries).
    pub max_attempts: u32,
    /// First backoff delay in milliseconds (default 200); doubles each retry.
    pub backoff_base_ms: u64,
    /// Backoff cap in milliseconds (default 5000), also the cap for `Retry-After`.
    pub backoff_max_ms: u64,
    /// A PEM file with extra CA certificates to trust (private deployments).
    pub ca_cert: Option<PathBuf>,
    /// Accept any TLS certificate. Only for lab servers with self-signed certs.
    pub insecure: bool,
    /// Requests to one vendor in flight at once, per process (default 100, like httpx); more
    /// wait, unsent, for a free slot. Shared by every client with the same transport settings,
    /// so it also bounds the connections a program opens to a vendor.
    pub max_connections: u32,
    /// Downloads from one vendor (bare URLs count as one more) in progress at once, per process
    /// (default 16); more wait before opening their file or a connection.
    pub max_downloads: u32,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            connect_timeout_secs: 10.0,
            request_timeout_secs: 30.0,
            read_timeout_secs: 60.0,
            max_attempts: 3,
            backoff_base_ms: 200,
            backoff_max_ms: 5000,
            ca_cert: None,
            insecure: false,
            max_connections: 100,
            max_downloads: 16,
        }
    }
}

/// What a request produced: status, headers and the whole body.
#[derive(Debug)]
pub struct RawResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl RawResponse {
    /// An [`Error::Http`] describing this response (first 200 characters of the body, its
    /// secrets hidden by [`crate::secret::redact_body`]).
    pub fn http_error(&self, vendor: Vendor, endpoint: &str) -> Error {
        Error::Http {
            vendor,
            endpoint: endpoint.to_string(),
            status: self.status,
            body: crate::secret::redact_body(&self.body, 200),
        }
    }
}

/// The shared HTTP client plus the retry policy.
#[derive(Clone, Debug)]
pub struct Transport {
    pool: Arc<Pool>,
    config: TransportConfig,
    capture: Option<Arc<Capture>>,
}

/// One connection pool and its limits, shared by every [`Transport`] of the process built with
/// the same [`PoolKey`].
struct Pool {
    /// Builds every API call's request. Sends them when `direct` is `None`: then without
    /// following redirects, and with the stall limit (`read_timeout_secs`) only when it is
    /// shorter than the whole-request limit, which otherwise covers it.
    calls_http: reqwest::Client,
    /// API calls straight over hyper-util (see [`direct`]), where nothing needs reqwest's path;
    /// `calls_http` then only builds the requests.
    direct: Option<DirectClient>,
    /// For downloads and event streams, which have no whole-request limit: with the stall limit.
    http: reqwest::Client,
    /// Requests in flight, per vendor.
    calls: [Semaphore; Vendor::COUNT],
    /// Downloads in progress, per vendor, and the last for bare URLs.
    downloads: [Arc<Semaphore>; Vendor::COUNT + 1],
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").finish_non_exhaustive()
    }
}

/// What makes two transports' pools interchangeable: every setting the `reqwest::Client` is
/// built from (the CA by its contents), and the limits.
#[derive(Clone, PartialEq, Eq, Hash)]
struct PoolKey {
    connect_timeout: u64,
    read_timeout: u64,
    /// Whether API calls need the stall limit: it is shorter than the whole-request limit.
    calls_stall: bool,
    ca_pem: Option<Vec<u8>>,
    insecure: bool,
    max_connections: u32,
    max_downloads: u32,
}

/// The pools of the process; an entry goes once no transport holds its pool.
static POOLS: std::sync::LazyLock<std::sync::Mutex<HashMap<PoolKey, Weak<Pool>>>> =
    std::sync::LazyLock::new(Default::default);

/// A slot of [`Transport::download_slot`]: the download may run while it is held.
pub type DownloadSlot = tokio::sync::OwnedSemaphorePermit;

/// How much of a request or response body `-vv` logs (characters, after redaction).
pub const BODY_LOG_CHARS: usize = 2000;

impl Transport {
    /// Build the client from its configuration.
    pub fn new(config: TransportConfig) -> Result<Self> {
        for (field, value) in [
            ("connect_timeout_secs", config.connect_timeout_secs),
            ("request_timeout_secs", config.request_timeout_secs),
            ("read_timeout_secs", config.read_timeout_secs),
        ] {
            if !(value.is_finite() && value > 0.0 && value <= 86_400.0) {
                return Err(Error::config(format!(
                    "transport.{field} = {value}: expected a number of seconds greater than 0 and at most 86400"
                )));
            }
        }
        if config.max_attempts == 0 {
            return Err(Error::config("transport.max_attempts = 0: expected at least 1 (1 disables retries)"));
        }
        for (field, value) in [("max_connections", config.max_connections), ("max_downloads", config.max_downloads)] {
            if value == 0 || value as usize > Semaphore::MAX_PERMITS {
                return Err(Error::config(format!("transport.{field} = {value}: expected at least 1")));
            }
        }
        if config.insecure {
            warn_insecure(&INSECURE_WARNED);
        }
        let ca_pem = match &config.ca_cert {
            Some(path) => Some(std::fs::read(path).map_err(|e| {
                Error::config(format!("transport.ca_cert {}: cannot read the CA file: {e}", path.display()))
            })?),
            None => None,
        };
        let key = PoolKey {
            connect_timeout: config.connect_timeout_secs.to_bits(),
            read_timeout: config.read_timeout_secs.to_bits(),
            calls_stall: config.read_timeout_secs < config.request_timeout_secs,
            ca_pem,
            insecure: config.insecure,
            max_connections: config.max_connections,
            max_downloads: config.max_downloads,
        };
        let mut pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pool) = pools.get(&key).and_then(Weak::upgrade) {
            return Ok(Transport { pool, config, capture: None });
        }
        let ca_pem = key.ca_pem.as_deref();
        let http = build_http(&config, ca_pem, true, reqwest::redirect::Policy::default())?;
        // The stall limit (shorter than the whole-request one) is reqwest's to keep.
        let direct = if direct::usable(&config, |name| std::env::var(name).ok()) && !key.calls_stall {
            Some(DirectClient::new(&config, ca_pem)?)
        } else {
            None
        };
        let pool = Arc::new(Pool {
            // With the direct path it only builds requests (any client's builder will do);
            // else it sends them, never following redirects (see `send`; downloads do).
            calls_http: match direct {
                Some(_) => http.clone(),
                None => build_http(&config, ca_pem, key.calls_stall, reqwest::redirect::Policy::none())?,
            },
            direct,
            http,
            calls: std::array::from_fn(|_| Semaphore::new(config.max_connections as usize)),
            downloads: std::array::from_fn(|_| Arc::new(Semaphore::new(config.max_downloads as usize))),
        });
        pools.retain(|_, p| p.strong_count() > 0);
        pools.insert(key, Arc::downgrade(&pool));
        Ok(Transport { pool, config, capture: None })
    }

    /// Waits for a free download slot of `vendor` (`None`: a bare URL) under
    /// `transport.max_downloads`; the download runs while the slot is held.
    pub async fn download_slot(&self, vendor: Option<Vendor>) -> DownloadSlot {
        let slots = &self.pool.downloads[vendor.map_or(Vendor::COUNT, Vendor::index)];
        // Never closed: acquiring can only wait.
        Arc::clone(slots).acquire_owned().await.expect("download slots are never closed")
    }

    /// This transport, recording every attempt into `capture` (`None`: no recording).
    pub fn with_capture(mut self, capture: Option<Arc<Capture>>) -> Self {
        self.capture = capture;
        self
    }

    /// The capture attached with [`with_capture`](Self::with_capture), if any.
    pub fn capture(&self) -> Option<&Arc<Capture>> {
        self.capture.as_ref()
    }

    /// The underlying client for streaming downloads and event streams: it gives a response up
    /// after `read_timeout_secs` of silence, and has no whole-request limit.
    pub fn http(&self) -> &reqwest::Client {
        &self.pool.http
    }

    /// The configuration in force.
    pub fn config(&self) -> &TransportConfig {
        &self.config
    }

    /// Send a request built by `build` (called again for each attempt) and read its
    /// whole body, retrying as the module documentation says. Any HTTP status is
    /// returned as a [`RawResponse`] once retries are exhausted; the vendor module
    /// decides what a status means.
    pub async fn send<F>(&self, vendor: Vendor, endpoint: &str, idempotent: bool, build: F) -> Result<RawResponse>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    {
        let timeout = secs(self.config.request_timeout_secs);
        let attempts = self.config.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            // Waiting here sends nothing: the request stays unbuilt and unsent until a slot is
            // free, and its time limits start once it has one.
            let slot = self.pool.calls[vendor.index()].acquire().await.expect("call slots are never closed");
            let started = Instant::now();
            let builder = build(&self.pool.calls_http);
            // The direct path runs the whole exchange under its own deadline.
            let builder = if self.pool.direct.is_some() { builder } else { builder.timeout(timeout) };
            let request = builder.build().map_err(|e| Error::Transport {
                vendor,
                endpoint: endpoint.to_string(),
                message: format!("cannot build request: {}", e.without_url()),
                before_send: true,
            })?;
            // The redacted path is only worth building when request lines are written (-v).
            let path = if tracing::enabled!(tracing::Level::INFO) {
                crate::secret::redact_path(request.url().path())
            } else {
                String::new()
            };
            let method = request.method().clone();
            // -vv: the request's query and body, redacted and cut to BODY_LOG_CHARS.
            if tracing::enabled!(tracing::Level::DEBUG) {
                let query = request.url().query().map(|_| crate::secret::redact_url(request.url().as_str()));
                let body =
                    request.body().and_then(|b| b.as_bytes()).map(|b| crate::secret::redact_body(b, BODY_LOG_CHARS));
                tracing::debug!(%vendor, endpoint, %method, path, attempt, url = query.as_deref().unwrap_or(""), body = body.as_deref().unwrap_or(""), "http request");
            }
            let mut record = self.capture.as_ref().map(|c| {
                let comment = format!("{vendor} {endpoint} (attempt {attempt} of {attempts})");
                (c, Exchange::of_request(&request, Some(comment)))
            });
            let outcome = match &self.pool.direct {
                Some(direct) => direct.exchange(request, timeout, started).await,
                None => reqwest_exchange(&self.pool.calls_http, request, started).await,
            };
            if let Some((_, ex)) = &mut record {
                match &outcome {
                    Ok(answer) => ex.record_answer(answer, started),
                    Err(e) => {
                        ex.wait_ms = started.elapsed().as_secs_f64() * 1000.0;
                        ex.error = Some(e.capture_text());
                    }
                }
            }
            let outcome =
                outcome.and_then(|a| a.body.map(|body| RawResponse { status: a.status, headers: a.headers, body }));
            drop(slot);
            if let Some((capture, ex)) = record {
                capture.record(ex);
            }
            let elapsed_ms = started.elapsed().as_millis() as u64;
            let last = attempt >= attempts;
            match outcome {
                Ok(resp) => {
                    tracing::info!(%vendor, endpoint, %method, path, status = resp.status, elapsed_ms, attempt, "http");
                    if tracing::enabled!(tracing::Level::DEBUG) {
                        let body = crate::secret::redact_body(&resp.body, BODY_LOG_CHARS);
                        tracing::debug!(%vendor, endpoint, status = resp.status, attempt, body, "http response");
                    }
                    if (300..400).contains(&resp.status) && resp.status != 304 {
                        return Err(redirected(vendor, endpoint, &resp));
                    }
                    let retry_status = resp.status >= 500 || resp.status == 408 || resp.status == 429;
                    if retry_status && idempotent && !last {
                        let delay = retry_after(&resp.headers).unwrap_or_else(|| self.backoff(attempt));
                        tracing::warn!(%vendor, endpoint, status = resp.status, attempt, ?delay, "retrying");
                        tokio::time::sleep(delay.min(Duration::from_millis(self.config.backoff_max_ms))).await;
                        continue;
                    }
                    return Ok(resp);
                }
                Err(e) => {
                    if let Some(problem) = e.certificate_problem() {
                        // Trying again cannot help, and falling back to plain HTTP or to no
                        // checking would defeat TLS: say what to configure.
                        return Err(untrusted_certificate(vendor, endpoint, &problem));
                    }
                    let before_send = e.is_connect();
                    tracing::info!(%vendor, endpoint, %method, path, elapsed_ms, attempt, error = %e, "http failed");
                    if (before_send || idempotent) && !last {
                        let delay = self.backoff(attempt);
                        tracing::warn!(%vendor, endpoint, attempt, ?delay, before_send, "retrying after transport error");
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    if !before_send && !idempotent {
                        // The request may have reached the server and been acted on.
                        let what = if e.is_timeout() {
                            format!("no answer within {}s", timeout.as_secs_f64())
                        } else {
                            e.describe()
                        };
                        return Err(Error::OutcomeUnknown { vendor, endpoint: endpoint.to_string(), message: what });
                    }
                    if e.is_timeout() {
                        // The whole-request limit, or the stall limit hit before it.
                        let read = secs(self.config.read_timeout_secs);
                        let after = if read < timeout && started.elapsed() < timeout { read } else { timeout };
                        return Err(Error::Timeout { vendor, endpoint: endpoint.to_string(), after });
                    }
                    return Err(Error::Transport {
                        vendor,
                        endpoint: endpoint.to_string(),
                        message: e.describe(),
                        before_send,
                    });
                }
            }
        }
    }

    /// Exponential backoff with full jitter for retry number `attempt` (1-based).
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.config.backoff_base_ms.saturating_mul(1 << (attempt - 1).min(16));
        let cap = exp.min(self.config.backoff_max_ms).max(1);
        Duration::from_millis(rand::random_range(cap / 2..=cap))
    }
}

/// The error for an API call answered with a redirect. API calls do not follow redirects: a
/// 301/302/303 would resend a POST (a create, a start) as a GET without its body, and the
/// profile's base URL, not a hop on every call, is where a moved server is configured.
fn redirected(vendor: Vendor, endpoint: &str, resp: &RawResponse) -> Error {
    let location = resp.headers.get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("nowhere");
    Error::Http {
        vendor,
        endpoint: endpoint.to_string(),
        status: resp.status,
        body: format!(
            "redirected to {}; meetkit does not follow redirects of API calls (a POST would be resent as a GET): \
             set the profile's base URL to the address it points to",
            crate::secret::redact_url(location)
        ),
    }
}

/// Why an attempt got no whole answer, on either path.
#[derive(Debug)]
enum Failed {
    /// reqwest's path: the error without its URL, and its text for a capture (URL redacted).
    Reqwest(reqwest::Error, String),
    /// The direct path.
    Direct(DirectError),
}

impl Failed {
    /// A reqwest error: its URL removed (it may hold a token), its capture text kept.
    fn reqwest(e: reqwest::Error) -> Failed {
        let shown = describe_ref(&e);
        Failed::Reqwest(e.without_url(), shown)
    }

    /// The text a capture records (a reqwest error names its URL, redacted).
    fn capture_text(&self) -> String {
        match self {
            Failed::Reqwest(_, shown) => shown.clone(),
            Failed::Direct(e) => e.describe(),
        }
    }

    /// The request never reached the server.
    fn is_connect(&self) -> bool {
        match self {
            Failed::Reqwest(e, _) => e.is_connect(),
            Failed::Direct(e) => e.is_connect(),
        }
    }

    /// A time limit ran out.
    fn is_timeout(&self) -> bool {
        match self {
            Failed::Reqwest(e, _) => e.is_timeout(),
            Failed::Direct(e) => e.is_timeout(),
        }
    }

    /// The error with its causes (no URL).
    fn describe(&self) -> String {
        match self {
            Failed::Reqwest(e, _) => crate::error::error_chain(e),
            Failed::Direct(e) => e.describe(),
        }
    }

    /// The TLS certificate problem behind it, if that is what failed it.
    fn certificate_problem(&self) -> Option<String> {
        match self {
            Failed::Reqwest(e, _) => cert_error_in(e, 0),
            Failed::Direct(e) => e.as_error().and_then(|e| cert_error_in(e, 0)),
        }
    }
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Exchange {
    /// Records `answer` (its body, or that it was cut off), its request sent at `started`.
    fn record_answer(&mut self, answer: &Answer, started: Instant) {
        self.wait_ms = answer.waited.as_secs_f64() * 1000.0;
        self.receive_ms = (started.elapsed() - answer.waited).as_secs_f64() * 1000.0;
        let body = match &answer.body {
            Ok(b) => Body::of(b),
            Err(_) => Body::NotStored { size: None, why: "cut off: the body could not be read" },
        };
        let (status, headers) = (answer.status, answer.headers.clone());
        self.response = Some(ResponseRecord { status, version: format!("{:?}", answer.version), headers, body });
    }
}

/// What an attempt received, on either path: status, version, headers, the time to the
/// headers, and the body (or why it was cut off).
struct Answer {
    status: u16,
    version: http::Version,
    headers: HeaderMap,
    waited: Duration,
    body: std::result::Result<Bytes, Failed>,
}

/// One attempt on reqwest's path (its timeouts are set on the request).
async fn reqwest_exchange(
    http: &reqwest::Client,
    request: reqwest::Request,
    started: Instant,
) -> std::result::Result<Answer, Failed> {
    let mut resp = http.execute(request).await.map_err(Failed::reqwest)?;
    let (status, version) = (resp.status().as_u16(), resp.version());
    let headers = std::mem::take(resp.headers_mut());
    let waited = started.elapsed();
    let body = resp.bytes().await.map_err(Failed::reqwest);
    Ok(Answer { status, version, headers, waited, body })
}

/// The `reqwest::Client` for `config`, trusting the CAs of `ca_pem` (read from `config.ca_cert`),
/// with the stall limit `read_timeout_secs` when `stall`, following redirects as `redirect` says.
fn build_http(
    config: &TransportConfig,
    ca_pem: Option<&[u8]>,
    stall: bool,
    redirect: reqwest::redirect::Policy,
) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .redirect(redirect)
        .user_agent(USER_AGENT_VALUE)
        .connect_timeout(secs(config.connect_timeout_secs))
        .danger_accept_invalid_certs(config.insecure);
    if stall {
        builder = builder.read_timeout(secs(config.read_timeout_secs));
    }
    if let (Some(pem), Some(path)) = (ca_pem, &config.ca_cert) {
        for cert in reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| Error::config(format!("transport.ca_cert {}: not a PEM bundle: {e}", path.display())))?
        {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))
}

/// Whether the insecure-mode warning was written in this process.
static INSECURE_WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Write the insecure-mode WARN line unless `written` says it was; true when written now.
fn warn_insecure(written: &std::sync::atomic::AtomicBool) -> bool {
    if written.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return false;
    }
    tracing::warn!(
        "transport.insecure = true: TLS certificates are not checked (anyone on the network path can read and \
         change the traffic); trust the server's CA with transport.ca_cert instead"
    );
    true
}

/// A certificate error of rustls in `err`'s chain of causes. An `io::Error`'s `source` skips
/// the error it wraps (and TLS errors come wrapped in one or two), so those are opened too.
fn cert_error_in(err: &(dyn std::error::Error + 'static), depth: usize) -> Option<String> {
    let mut cause = Some(err);
    while let Some(err) = cause {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            if let rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented = tls {
                return Some(tls.to_string());
            }
        }
        if let Some(inner) = err.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            if depth < 8 {
                if let Some(found) = cert_error_in(inner, depth + 1) {
                    return Some(found);
                }
            }
        }
        cause = err.source();
    }
    None
}

/// The error for a server certificate this transport does not trust.
fn untrusted_certificate(vendor: Vendor, endpoint: &str, problem: &str) -> Error {
    Error::config(format!(
        "{vendor} {endpoint}: the server's TLS certificate is not trusted ({problem}); set ca_cert = \
         \"/path/to/ca.pem\" (the CA that signed it; `meetkit sim --tls` prints its own in the profile line) under \
         [profiles.<name>.transport], or insecure = true for a lab server only"
    ))
}

/// Seconds from a checked configuration value (see [`Transport::new`]).
fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(Duration::from_secs(30))
}

/// `Retry-After`, in seconds or as an HTTP-date (a date in the past means now).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(std::time::SystemTime::now()).unwrap_or_default())
}

/// A reqwest error with its causes, its URL (which may hold a token) redacted.
fn describe_ref(e: &reqwest::Error) -> String {
    let mut text = crate::error::error_chain(e);
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), &crate::secret::redact_url(url.as_str()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn the_insecure_warning_is_written_once() {
        let written = std::sync::atomic::AtomicBool::new(false);
        assert!(warn_insecure(&written));
        assert!(!warn_insecure(&written));
        assert!(!warn_insecure(&written));
    }

    #[test]
    fn unusable_timeouts_are_config_errors_naming_the_field() {
        for bad in [f64::NAN, f64::INFINITY, -1.0, 0.0, 1e300] {
            let config = TransportConfig { request_timeout_secs: bad, ..Default::default() };
            let e = Transport::new(config).unwrap_err();
            assert!(matches!(e, Error::Config { .. }) && e.to_string().contains("request_timeout_secs"), "{e}");
        }
        let e = Transport::new(TransportConfig { connect_timeout_secs: 1e300, ..Default::default() }).unwrap_err();
        assert!(e.to_string().contains("connect_timeout_secs"), "{e}");
        for bad in [f64::NAN, 0.0, -3.0, 1e9] {
            let e = Transport::new(TransportConfig { read_timeout_secs: bad, ..Default::default() }).unwrap_err();
            assert!(matches!(e, Error::Config { .. }) && e.to_string().contains("read_timeout_secs"), "{e}");
        }
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let mut h = HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(30));
        h.insert(reqwest::header::RETRY_AFTER, later.parse().unwrap());
        let d = retry_after(&h).unwrap();
        assert!(d > Duration::from_secs(25) && d <= Duration::from_secs(30), "{d:?}");
        h.insert(reqwest::header::RETRY_AFTER, "Mon, 01 Jan 2001 00:00:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(reqwest::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    /// A server that reads the request, then closes the connection without answering.
    async fn hang_up() -> (String, Arc<AtomicUsize>) {
        let hits = Arc::new(AtomicUsize::new(0));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/x", listener.local_addr().unwrap());
        let h = hits.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                h.fetch_add(1, Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = tokio::io::AsyncReadExt::read(&mut sock, &mut buf).await;
                drop(sock);
            }
        });
        (url, hits)
    }

    #[tokio::test]
    async fn a_lost_answer_to_a_create_is_outcome_unknown_and_not_resent() {
        let (url, hits) = hang_up().await;
        let err = fast().send(Vendor::Avd, "room.create", false, |c| c.post(&url)).await.unwrap_err();
        assert!(matches!(err, Error::OutcomeUnknown { .. }), "{err:?}");
        assert_eq!(err.kind(), "outcome_unknown");
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("the server may have done it"), "{err}");
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        // A read is retried, then reported as a transport error.
        let err = fast().send(Vendor::Avd, "room.read", true, |c| c.get(&url)).await.unwrap_err();
        assert!(matches!(err, Error::Transport { before_send: false, .. }), "{err:?}");
        assert_eq!(hits.load(Ordering::SeqCst), 4);
    }
    use std::sync::Arc;

    /// Serves `app` on a free loopback port; returns its `/x` URL.
    async fn serve(app: axum::Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/x", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    /// A server whose `/x` answers its n-th request (from 0) with `answer(n)`; returns the URL
    /// and the count of requests.
    async fn counting<R: axum::response::IntoResponse>(
        answer: impl Fn(usize) -> R + Clone + Send + Sync + 'static,
    ) -> (String, Arc<AtomicUsize>) {
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        let app = axum::Router::new().route(
            "/x",
            axum::routing::any(move || {
                let (h, answer) = (h.clone(), answer.clone());
                async move { answer(h.fetch_add(1, Ordering::SeqCst)) }
            }),
        );
        (serve(app).await, hits)
    }

    /// A server answering 503 to the first `fail` requests, then 200 "ok".
    async fn flaky(fail: usize) -> (String, Arc<AtomicUsize>) {
        counting(move |n| {
            if n < fail {
                (axum::http::StatusCode::SERVICE_UNAVAILABLE, "busy")
            } else {
                (axum::http::StatusCode::OK, "ok")
            }
        })
        .await
    }

    fn fast() -> Transport {
        Transport::new(TransportConfig { backoff_base_ms: 1, backoff_max_ms: 5, ..Default::default() }).unwrap()
    }

    #[tokio::test]
    async fn idempotent_requests_are_retried_on_5xx() {
        let (url, hits) = flaky(2).await;
        let resp = fast().send(Vendor::Avd, "room.read", true, |c| c.get(&url)).await.unwrap();
        assert_eq!((resp.status, &resp.body[..]), (200, &b"ok"[..]));
        assert_eq!(hits.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn non_idempotent_requests_are_sent_once() {
        let (url, hits) = flaky(2).await;
        let resp = fast().send(Vendor::Avd, "room.create", false, |c| c.get(&url)).await.unwrap();
        assert_eq!(resp.status, 503);
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn attempts_are_bounded() {
        let (url, hits) = flaky(100).await;
        let resp = fast().send(Vendor::Avd, "room.read", true, |c| c.get(&url)).await.unwrap();
        assert_eq!(resp.status, 503);
        assert_eq!(hits.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_capture_gets_one_entry_per_attempt_redacted() {
        let (url, _hits) = flaky(2).await;
        let dir = tempfile::tempdir().unwrap();
        let capture = crate::capture::Capture::create(dir.path().join("t.har")).unwrap();
        let t = fast().with_capture(Some(capture.clone()));
        let secret_url = format!("{url}?room=r1&token=SECRET");
        t.send(Vendor::Avd, "room.read", true, |c| c.get(&secret_url)).await.unwrap();
        // A refused connection is an entry too, with status 0 and the error.
        let port = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
        let dead = format!("http://127.0.0.1:{port}/x?token=SECRET");
        let one = Transport { config: TransportConfig { max_attempts: 1, ..t.config().clone() }, ..t.clone() };
        one.send(Vendor::Avd, "room.create", false, |c| c.get(&dead)).await.unwrap_err();
        let text = std::fs::read_to_string(capture.path()).unwrap();
        assert!(!text.contains("SECRET"), "{text}");
        let log: serde_json::Value = serde_json::from_str(&text).unwrap();
        let entries = log["log"]["entries"].as_array().unwrap();
        let got: Vec<(u64, &str)> = entries
            .iter()
            .map(|e| (e["response"]["status"].as_u64().unwrap(), e["comment"].as_str().unwrap()))
            .collect();
        assert_eq!(got[0], (503, "avd room.read (attempt 1 of 3)"));
        assert_eq!(got[1], (503, "avd room.read (attempt 2 of 3)"));
        assert_eq!(got[2], (200, "avd room.read (attempt 3 of 3)"));
        assert_eq!(entries[2]["response"]["content"]["text"], "ok");
        assert!(got[3].1.starts_with("avd room.create (attempt 1 of 1); no response: "), "{}", got[3].1);
        assert_eq!(got[3].0, 0);
    }

    #[tokio::test]
    async fn a_response_that_stalls_after_its_headers_times_out_on_the_read_limit() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/x", listener.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = tokio::io::AsyncReadExt::read(&mut sock, &mut buf).await;
                    let head = b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"a\":";
                    let _ = tokio::io::AsyncWriteExt::write_all(&mut sock, head).await;
                    // Never send the rest; keep the connection open until the client gives up.
                    let _ = tokio::io::AsyncReadExt::read(&mut sock, &mut buf).await;
                });
            }
        });
        let config = TransportConfig { read_timeout_secs: 0.2, max_attempts: 1, ..Default::default() };
        let err = Transport::new(config).unwrap().send(Vendor::Vmr, "room.read", true, |c| c.get(&url)).await;
        match err.unwrap_err() {
            Error::Timeout { vendor: Vendor::Vmr, endpoint, after } => {
                assert_eq!((endpoint.as_str(), after), ("room.read", Duration::from_millis(200)));
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn refused_connections_are_retried_then_reported_without_query() {
        // Bind then drop: nothing listens on this port any more.
        let port = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
        let url = format!("http://127.0.0.1:{port}/x?token=SECRET");
        let err = fast().send(Vendor::Avd, "room.create", false, |c| c.get(&url)).await.unwrap_err();
        match &err {
            Error::Transport { before_send, .. } => assert!(*before_send),
            other => panic!("expected a transport error, got {other:?}"),
        }
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }

    /// A server that holds every request until `release` has a permit for it, counting the
    /// requests it holds at once (now, most).
    async fn holding() -> (String, Arc<Semaphore>, Arc<(AtomicUsize, AtomicUsize)>) {
        let release = Arc::new(Semaphore::new(0));
        let held = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
        let (r, h) = (release.clone(), held.clone());
        let app = axum::Router::new().route(
            "/x",
            axum::routing::any(move || {
                let (r, h) = (r.clone(), h.clone());
                async move {
                    let now = h.0.fetch_add(1, Ordering::SeqCst) + 1;
                    h.1.fetch_max(now, Ordering::SeqCst);
                    r.acquire().await.unwrap().forget();
                    h.0.fetch_sub(1, Ordering::SeqCst);
                    "ok"
                }
            }),
        );
        let url = serve(app).await;
        (url, release, held)
    }

    #[tokio::test]
    async fn requests_beyond_max_connections_wait_unsent_across_every_transport_of_the_pool_meetkit_policy() {
        let (url, release, held) = holding().await;
        let config = TransportConfig { max_connections: 2, ..Default::default() };
        // Two transports built alike share one pool and one limit.
        let (a, b) = (Transport::new(config.clone()).unwrap(), Transport::new(config).unwrap());
        let mut calls = Vec::new();
        for i in 0..6 {
            let t = if i % 2 == 0 { a.clone() } else { b.clone() };
            let url = url.clone();
            calls.push(tokio::spawn(async move { t.send(Vendor::Avd, "room.create", false, |c| c.post(&url)).await }));
        }
        crate::testutil::until("two AVD requests held", || held.0.load(Ordering::SeqCst) == 2).await;
        // Another vendor has slots of its own.
        let other = {
            let (a, url) = (a.clone(), url.clone());
            tokio::spawn(async move { a.send(Vendor::Kedacom, "x", false, |c| c.post(&url)).await })
        };
        crate::testutil::until("the Kedacom request held too", || held.0.load(Ordering::SeqCst) == 3).await;
        release.add_permits(7);
        for call in calls {
            assert_eq!(call.await.unwrap().unwrap().status, 200);
        }
        assert_eq!(other.await.unwrap().unwrap().status, 200);
        // Never more than two AVD requests and the Kedacom one at once.
        assert_eq!(held.1.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn transports_with_other_settings_have_pools_of_their_own() {
        let one = TransportConfig { max_connections: 1, ..Default::default() };
        let (a, b) = (Transport::new(one.clone()).unwrap(), Transport::new(one.clone()).unwrap());
        assert!(Arc::ptr_eq(&a.pool, &b.pool));
        let c = Transport::new(TransportConfig { insecure: true, ..one.clone() }).unwrap();
        let d = Transport::new(TransportConfig { read_timeout_secs: 5.0, ..one }).unwrap();
        assert!(!Arc::ptr_eq(&a.pool, &c.pool) && !Arc::ptr_eq(&a.pool, &d.pool));
        // The per-request settings (timeouts of a whole request, retries) do not split the pool.
        let e = Transport::new(TransportConfig {
            max_attempts: 1,
            request_timeout_secs: 3.0,
            max_connections: 1,
            ..Default::default()
        })
        .unwrap();
        assert!(Arc::ptr_eq(&a.pool, &e.pool));
        for (field, config) in [
            ("max_connections", TransportConfig { max_connections: 0, ..Default::default() }),
            ("max_downloads", TransportConfig { max_downloads: 0, ..Default::default() }),
        ] {
            let e = Transport::new(config).unwrap_err();
            assert!(matches!(e, Error::Config { .. }) && e.to_string().contains(field), "{e}");
        }
    }

    #[tokio::test]
    async fn a_redirect_of_an_api_call_is_an_http_error_naming_where_not_followed_meetkit_policy() {
        let (url, hits) = counting(|_| {
            (axum::http::StatusCode::FOUND, [("location", "https://moved.example.com/x?token=s3cret")], "")
        })
        .await;
        for config in [TransportConfig::default(), TransportConfig { read_timeout_secs: 5.0, ..Default::default() }] {
            // The second setting keeps calls on reqwest's path (a stall limit shorter than the
            // whole-request one): both paths refuse to follow.
            let e = Transport::new(config)
                .unwrap()
                .send(Vendor::Avd, "room.create", false, |c| c.post(&url))
                .await
                .unwrap_err();
            match &e {
                Error::Http { status: 302, body, .. } => {
                    assert!(
                        body.contains("redirected to https://moved.example.com/x") && !body.contains("s3cret"),
                        "{body}"
                    )
                }
                other => panic!("expected an HTTP 302 error, got {other:?}"),
            }
        }
        assert_eq!(hits.load(Ordering::SeqCst), 2, "each call sent once, the redirect not followed");
    }
}
