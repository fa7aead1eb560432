//! The NetEase callback receiver (doc 004, 消息抄送).
//!
//! NetEase POSTs `{msgType, msgBody}` to the customer's callback URL with the headers `AppKey`,
//! `Nonce`, `CurTime` (milliseconds) and `CheckSum = sha1(appSecret + nonce + curTime +
//! md5_hex(body))`, and resends after 2 s, 4 s, 6 s, 1 h and 1 h while the answer is not HTTP 200.
//!
//! [`CallbackReceiver`] is that endpoint. Mount [`CallbackReceiver::router`] in your own axum
//! app, or let [`CallbackReceiver::serve`] bind it. For each request it:
//!
//! 1. verifies `AppKey` and `CheckSum` on the raw body bytes — missing or wrong: **401**;
//! 2. rejects a `CurTime` older than `max_age` (default 3 h) or more than 300 s ahead of this
//!    machine's clock: **401**. The doc does not say whether a resend is signed anew; if NetEase
//!    reuses the first attempt's `CurTime`, the 1 h resends arrive with a `CurTime` 1 h and 2 h
//!    old (2 + 4 + 6 + 3600 + 3600 s after the first attempt), so the window must cover 2 h 0 m 12 s
//!    or a lost event is refused for good. `max_age` is `[profiles.P.netease] callback_max_age_secs`;
//! 3. rejects a body that is not `{msgType: int, msgBody: {...}}`: **400**;
//! 4. answers **200** at once to a resend of an event already delivered (same body content,
//!    whatever its nonce and time), so each event reaches the consumer once; delivered events are
//!    remembered for `dedup_window`, never less than `max_age` (older entries are pruned, so
//!    memory stays bounded by the events of one window);
//! 5. otherwise hands the event to the buffered channel behind [`CallbackReceiver::events`] and
//!    answers **200** only once it is queued (**503** if the buffer stays full, so NetEase resends).
//!
//! Fit for the internet:
//!
//! * [`CallbackReceiver::serve`] reads request headers within `header_read_timeout` (default
//!   10 s; hyper's own timer, the connection is closed after it) and serves at most
//!   `max_connections` connections at once (default 256; further ones wait in the listen
//!   backlog until one closes);
//! * the body must arrive within `body_read_timeout` (default 30 s; **408** otherwise) and be at
//!   most [`MAX_CALLBACK_BODY`] bytes (**413**), in [`router`](CallbackReceiver::router) too;
//! * with a journal attached ([`CallbackReceiver::set_dedup_journal`], with the crate's `journal`
//!   feature; `meetkit webhook` and `meetkit run` use the run journal's file) delivered events
//!   are remembered in its SQLite
//!   table `callback_dedup` for the whole window (scoped by AppKey and listening address), so a
//!   resend or replay after a restart on the same address is not delivered again;
//! * refused requests (401) are logged at most once per `warn_interval` (default 10 s), each
//!   line with the number refused since the previous one.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
#[cfg(feature = "journal")]
use std::sync::RwLock;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Router;
use futures::Stream;
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::model::{kind_of, CallbackEvent};
use super::sign;
use crate::events::{Event, EventStream};
#[cfg(feature = "journal")]
use crate::journal::Journal;
use crate::secret::Secret;
use crate::{Error, Result, Vendor};

pub use super::DEFAULT_CALLBACK_MAX_AGE;

/// How far ahead of the receiver's clock a `CurTime` may be (clock skew between NetEase and
/// this machine); capped by `max_age`.
pub const MAX_FUTURE_SKEW: Duration = Duration::from_secs(300);

/// The largest callback body the receiver reads (1 MiB; the doc's callbacks are a few hundred
/// bytes). Larger: **413**.
pub const MAX_CALLBACK_BODY: usize = 1 << 20;

/// Where the receiver reads the current time. The default is the system clock; a test driving
/// a simulator's virtual clock passes one that follows it ([`CallbackClock::from_fn`]).
#[derive(Clone)]
pub struct CallbackClock(Arc<dyn Fn() -> SystemTime + Send + Sync>);

impl CallbackClock {
    /// The system clock.
    pub fn system() -> Self {
        CallbackClock(Arc::new(SystemTime::now))
    }

    /// A clock reading `now`.
    pub fn from_fn(now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        CallbackClock(Arc::new(now))
    }

    /// The current time in UNIX milliseconds.
    pub fn now_ms(&self) -> i64 {
        (self.0)().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
    }

    /// The current time.
    pub fn now(&self) -> SystemTime {
        (self.0)()
    }
}

impl Default for CallbackClock {
    fn default() -> Self {
        Self::system()
    }
}

impl std::fmt::Debug for CallbackClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallbackClock")
    }
}

/// How the receiver checks and buffers callbacks.
#[derive(Clone, Debug)]
pub struct CallbackConfig {
    /// The AppKey callbacks must carry.
    pub app_key: String,
    /// The AppSecret that signs them. Never printed.
    pub app_secret: Secret,
    /// Callbacks whose `CurTime` is older than this are rejected (default
    /// [`DEFAULT_CALLBACK_MAX_AGE`], 3 h); so are those more than [`MAX_FUTURE_SKEW`] (or
    /// `max_age`, if smaller) ahead.
    pub max_age: Duration,
    /// How long a delivered event is remembered to drop its resends (default 3 h; the receiver
    /// never remembers for less than `max_age`, so a resend it accepts is always recognised).
    pub dedup_window: Duration,
    /// Events queued before anyone reads them (default 4096).
    pub buffer: usize,
    /// How long a request waits for room in a full buffer before answering 503 (default 5 s).
    pub handoff_timeout: Duration,
    /// The clock `CurTime` and the dedup window are measured with (default: the system clock).
    pub clock: CallbackClock,
    /// [`CallbackReceiver::serve`]: a connection whose request headers are not complete this
    /// long after it opened (or after its previous answer) is closed (default 10 s).
    pub header_read_timeout: Duration,
    /// A request body must be complete this long after its handler starts, else **408**
    /// (default 30 s).
    pub body_read_timeout: Duration,
    /// [`CallbackReceiver::serve`]: connections served at once (default 256); more wait in the
    /// listen backlog until one closes.
    pub max_connections: usize,
    /// At most one WARN line about refused requests per this interval (default 10 s), with
    /// the count refused since the previous line.
    pub warn_interval: Duration,
}

impl CallbackConfig {
    /// Defaults for everything but the credentials: 3 h `max_age`, 3 h dedup window,
    /// 4096 buffered events, 5 s hand-off timeout, the system clock.
    pub fn new(app_key: impl Into<String>, app_secret: Secret) -> Self {
        CallbackConfig {
            app_key: app_key.into(),
            app_secret,
            max_age: DEFAULT_CALLBACK_MAX_AGE,
            dedup_window: Duration::from_secs(3 * 3600),
            buffer: 4096,
            handoff_timeout: Duration::from_secs(5),
            clock: CallbackClock::system(),
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            max_connections: 256,
            warn_interval: Duration::from_secs(10),
        }
    }

    /// How long delivered events are remembered: `dedup_window`, at least `max_age`.
    pub fn effective_dedup_window(&self) -> Duration {
        self.dedup_window.max(self.max_age)
    }
}

/// Counters of what the receiver did, for tests and diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallbackStats {
    /// Events delivered to the channel.
    pub delivered: u64,
    /// Resends answered 200 without delivering again.
    pub duplicates: u64,
    /// Requests refused with 401 (missing/bad signature, wrong AppKey, stale CurTime).
    pub unauthorized: u64,
    /// Signed requests whose body was not a callback (400).
    pub malformed: u64,
    /// Requests whose body did not arrive in time (408) or was too large (413).
    pub body_refused: u64,
}

/// The callback receiver: verification, deduplication and a buffered event channel.
/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct CallbackReceiver {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for CallbackReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackReceiver").field("config", &self.shared.config).field("stats", &self.stats()).finish()
    }
}

struct Shared {
    config: CallbackConfig,
    tx: mpsc::Sender<Event>,
    rx: Mutex<Option<mpsc::Receiver<Event>>>,
    dedup: Mutex<Dedup>,
    /// Where delivered events are also remembered, across restarts.
    #[cfg(feature = "journal")]
    store: RwLock<Option<Arc<Journal>>>,
    /// The address [`CallbackReceiver::serve`] listens on (the port it got, for port 0): part
    /// of the journal's dedup scope.
    #[cfg(feature = "journal")]
    listen: RwLock<Option<String>>,
    warnings: Mutex<WarnGate>,
    delivered: AtomicU64,
    duplicates: AtomicU64,
    unauthorized: AtomicU64,
    malformed: AtomicU64,
    body_refused: AtomicU64,
}

/// Refused requests since the last WARN line, so a flood of them writes one line per interval.
#[derive(Default)]
struct WarnGate {
    last_line: Option<Instant>,
    pending: u64,
    last_reason: String,
}

impl Shared {
    /// Count a refused request; write a WARN line if none was written in the last interval.
    fn refused(&self, reason: &str) {
        self.unauthorized.fetch_add(1, Ordering::Relaxed);
        let mut gate = self.warnings.lock().unwrap_or_else(|e| e.into_inner());
        gate.pending += 1;
        reason.clone_into(&mut gate.last_reason);
        if self.due(&gate) {
            Self::report(&mut gate);
        }
    }

    /// Write the pending count (if any) when the interval has passed, or at once if `now`.
    fn flush_warnings(&self, now: bool) {
        let mut gate = self.warnings.lock().unwrap_or_else(|e| e.into_inner());
        if gate.pending > 0 && (now || self.due(&gate)) {
            Self::report(&mut gate);
        }
    }

    fn due(&self, gate: &WarnGate) -> bool {
        match gate.last_line {
            Some(at) => at.elapsed() >= self.config.warn_interval,
            None => true,
        }
    }

    fn report(gate: &mut WarnGate) {
        tracing::warn!(
            "netease callback receiver: {} request(s) refused since the last report (last: {})",
            gate.pending,
            gate.last_reason
        );
        gate.pending = 0;
        gate.last_line = Some(Instant::now());
    }

    /// The dedup scope in the journal: one per AppKey and listening address. A receiver
    /// restarted on its address shares what the previous one delivered; two receivers on
    /// different addresses (two consumers the events are fanned out to) each deliver every
    /// event once. A receiver only mounted with [`CallbackReceiver::router`]: per AppKey.
    #[cfg(feature = "journal")]
    fn scope(&self) -> String {
        match &*self.listen.read().unwrap_or_else(|e| e.into_inner()) {
            Some(listen) => format!("netease:{}@{listen}", self.config.app_key),
            None => format!("netease:{}", self.config.app_key),
        }
    }

    #[cfg(feature = "journal")]
    fn journal(&self) -> Option<Arc<Journal>> {
        self.store.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Keys of delivered events (with when they were delivered, UNIX ms on the receiver's clock)
/// and of events being handed over.
#[derive(Default)]
struct Dedup {
    seen: HashMap<String, i64>,
    order: VecDeque<(i64, String)>,
    pending: HashSet<String>,
}

impl Dedup {
    /// Forget events delivered `window` or longer before `now_ms`.
    fn prune(&mut self, now_ms: i64, window: Duration) {
        while let Some((at, _)) = self.order.front() {
            if now_ms.saturating_sub(*at) < i64::try_from(window.as_millis()).unwrap_or(i64::MAX) {
                break;
            }
            if let Some((_, key)) = self.order.pop_front() {
                self.seen.remove(&key);
            }
        }
    }
}

impl CallbackReceiver {
    /// A receiver; events are buffered from now on, until [`events`](Self::events) reads them.
    pub fn new(config: CallbackConfig) -> Self {
        let (tx, rx) = mpsc::channel(config.buffer.max(1));
        CallbackReceiver {
            shared: Arc::new(Shared {
                config,
                tx,
                rx: Mutex::new(Some(rx)),
                dedup: Mutex::default(),
                #[cfg(feature = "journal")]
                store: RwLock::new(None),
                #[cfg(feature = "journal")]
                listen: RwLock::new(None),
                warnings: Mutex::default(),
                delivered: AtomicU64::new(0),
                duplicates: AtomicU64::new(0),
                unauthorized: AtomicU64::new(0),
                malformed: AtomicU64::new(0),
                body_refused: AtomicU64::new(0),
            }),
        }
    }

    /// Remember delivered events in `journal` too (its `callback_dedup` table), so a resend
    /// or a replay arriving after a restart, within the window, is answered 200 and not
    /// delivered again. `None`: in memory only.
    #[cfg(feature = "journal")]
    pub fn set_dedup_journal(&self, journal: Option<Arc<Journal>>) {
        *self.shared.store.write().unwrap_or_else(|e| e.into_inner()) = journal;
    }

    /// The journal delivered events are remembered in, if any.
    #[cfg(feature = "journal")]
    pub fn dedup_journal(&self) -> Option<Arc<Journal>> {
        self.shared.journal()
    }

    /// An axum router answering `POST {path}`; mount or nest it in your own app.
    pub fn router(&self, path: &str) -> Router {
        let path = if path.starts_with('/') { path.to_string() } else { format!("/{path}") };
        Router::new().route(&path, axum::routing::post(handle)).with_state(self.shared.clone())
    }

    /// Bind `addr` (e.g. `127.0.0.1:8788`, port 0 for any) and serve [`router`](Self::router)
    /// at `path` until the returned handle is stopped or dropped.
    ///
    /// Headers must arrive within `header_read_timeout`, and at most `max_connections`
    /// connections are served at once (see the module documentation).
    pub async fn serve(&self, addr: &str, path: &str) -> Result<RunningReceiver> {
        self.serve_with(addr, path, ServeLimits::default()).await
    }

    /// [`serve`](Self::serve) with some of the configured limits replaced (e.g. from
    /// `meetkit webhook --max-connections`).
    pub async fn serve_with(&self, addr: &str, path: &str, limits: ServeLimits) -> Result<RunningReceiver> {
        let config = &self.shared.config;
        let header_timeout = limits.header_read_timeout.unwrap_or(config.header_read_timeout);
        let body_timeout = limits.body_read_timeout.unwrap_or(config.body_read_timeout);
        let max_connections = limits.max_connections.unwrap_or(config.max_connections);
        if max_connections == 0 || header_timeout.is_zero() || body_timeout.is_zero() {
            return Err(Error::config(
                "netease callback receiver: max connections, header read timeout and body read timeout must be \
                 positive (profile options callback_max_connections, callback_header_timeout_secs, \
                 callback_body_timeout_secs)",
            ));
        }
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Error::config(format!("netease callback receiver: cannot listen on {addr}: {e}")))?;
        let local = listener.local_addr().map_err(|e| Error::config(format!("netease callback receiver: {e}")))?;
        #[cfg(feature = "journal")]
        {
            let listen = if addr.ends_with(":0") { local.to_string() } else { addr.to_string() };
            *self.shared.listen.write().unwrap_or_else(|e| e.into_inner()) = Some(listen);
        }
        let cancel = CancellationToken::new();
        let mut app = self.router(path).layer(axum::Extension(BodyTimeout(body_timeout)));
        if let Some(capture) = crate::capture::current() {
            app = capture.record_incoming(app);
        }
        let accept = accept_loop(listener, app, self.shared.clone(), header_timeout, max_connections, cancel.clone());
        let task = tokio::spawn(accept);
        let path = if path.starts_with('/') { path.to_string() } else { format!("/{path}") };
        tracing::info!(%local, path, "netease callback receiver listening");
        Ok(RunningReceiver { addr: local, path, cancel, task: Some(task) })
    }

    /// The stream of verified, deduplicated events, starting with those buffered since the
    /// receiver was created. One reader at a time: a second call while a stream is alive is an
    /// error; dropping the stream keeps undelivered events for the next call.
    pub fn events(&self) -> Result<EventStream> {
        let rx = self
            .shared
            .rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(|| Error::config("netease callbacks are already being read by another subscriber"))?;
        Ok(Box::pin(Subscription { rx: Some(rx), home: Arc::downgrade(&self.shared) }))
    }

    /// What the receiver has done so far.
    pub fn stats(&self) -> CallbackStats {
        let s = &self.shared;
        CallbackStats {
            delivered: s.delivered.load(Ordering::Relaxed),
            duplicates: s.duplicates.load(Ordering::Relaxed),
            unauthorized: s.unauthorized.load(Ordering::Relaxed),
            malformed: s.malformed.load(Ordering::Relaxed),
            body_refused: s.body_refused.load(Ordering::Relaxed),
        }
    }
}

/// Limits of [`CallbackReceiver::serve_with`]; `None` keeps the [`CallbackConfig`] value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServeLimits {
    /// Replaces [`CallbackConfig::header_read_timeout`].
    pub header_read_timeout: Option<Duration>,
    /// Replaces [`CallbackConfig::body_read_timeout`].
    pub body_read_timeout: Option<Duration>,
    /// Replaces [`CallbackConfig::max_connections`].
    pub max_connections: Option<usize>,
}

/// The body read timeout [`CallbackReceiver::serve_with`] gives its router's handler.
#[derive(Clone, Copy)]
struct BodyTimeout(Duration);

/// Accept connections while fewer than `max_connections` are open, serve each with hyper
/// (header read timeout on hyper's tokio timer), and on `cancel` stop accepting, let open
/// exchanges finish (at most 5 s) and write the last count of refused requests.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    app: Router,
    shared: Arc<Shared>,
    header_timeout: Duration,
    max_connections: usize,
    cancel: CancellationToken,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt as _;

    let permits = Arc::new(tokio::sync::Semaphore::new(max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(header_timeout).keep_alive(true);
    let mut tick = tokio::time::interval(shared.config.warn_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let permit = loop {
            tokio::select! {
                p = permits.clone().acquire_owned() => break p.ok(),
                _ = tick.tick() => shared.flush_warnings(false),
                _ = cancel.cancelled() => break None,
            }
        };
        let Some(permit) = permit else { break };
        let accepted = loop {
            tokio::select! {
                a = listener.accept() => break Some(a),
                _ = tick.tick() => shared.flush_warnings(false),
                _ = cancel.cancelled() => break None,
            }
        };
        let Some(accepted) = accepted else { break };
        let (stream, _peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: wait a moment instead of spinning.
                tracing::debug!(error = %e, "netease callback receiver: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            app.clone().oneshot(req.map(Body::new))
        });
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await.is_err() {
        tracing::debug!("netease callback receiver: connections still open after 5 s, closing them");
    }
    shared.flush_warnings(true);
}

/// A receiver bound to a socket; stops serving when [`stop`](Self::stop)ped or dropped.
#[derive(Debug)]
pub struct RunningReceiver {
    addr: SocketAddr,
    path: String,
    cancel: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningReceiver {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to give NetEase as callbackUrl, e.g. `http://127.0.0.1:8788/netease/callback`.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.path)
    }

    /// Stop accepting callbacks.
    pub fn stop(&self) {
        self.cancel.cancel();
    }

    /// Stop accepting callbacks and wait until open exchanges have finished (at most 5 s) and
    /// the last count of refused requests is written.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningReceiver {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// The reading end; gives its channel back to the receiver when dropped.
struct Subscription {
    rx: Option<mpsc::Receiver<Event>>,
    home: Weak<Shared>,
}

impl Stream for Subscription {
    type Item = Result<Event>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.rx.as_mut() {
            Some(rx) => rx.poll_recv(cx).map(|o| o.map(Ok)),
            None => Poll::Ready(None),
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let (Some(rx), Some(home)) = (self.rx.take(), self.home.upgrade()) {
            *home.rx.lock().unwrap_or_else(|e| e.into_inner()) = Some(rx);
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> (StatusCode, String) {
    let config = &shared.config;
    let (parts, body) = request.into_parts();
    let body_timeout = parts.extensions.get::<BodyTimeout>().map_or(config.body_read_timeout, |t| t.0);
    let headers = parts.headers;
    let body = match tokio::time::timeout(body_timeout, axum::body::to_bytes(body, MAX_CALLBACK_BODY)).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => {
            shared.body_refused.fetch_add(1, Ordering::Relaxed);
            let too_large = std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            return match too_large {
                true => (StatusCode::PAYLOAD_TOO_LARGE, format!("body larger than {MAX_CALLBACK_BODY} bytes")),
                false => (StatusCode::BAD_REQUEST, format!("body could not be read: {e}")),
            };
        }
        Err(_) => {
            shared.body_refused.fetch_add(1, Ordering::Relaxed);
            return (StatusCode::REQUEST_TIMEOUT, format!("body not complete within {} s", body_timeout.as_secs_f64()));
        }
    };
    let unauthorized = |why: String| {
        shared.refused(&why);
        (StatusCode::UNAUTHORIZED, why)
    };
    let (Some(app_key), Some(nonce), Some(cur_time), Some(checksum)) = (
        header(&headers, "AppKey"),
        header(&headers, "Nonce"),
        header(&headers, "CurTime"),
        header(&headers, "CheckSum"),
    ) else {
        return unauthorized("missing AppKey, Nonce, CurTime or CheckSum header".into());
    };
    if app_key != config.app_key {
        return unauthorized("unknown AppKey".into());
    }
    let expected = sign::callback_checksum(config.app_secret.expose(), nonce, cur_time, &body);
    if !sign::digest_eq(&expected, checksum) {
        return unauthorized("bad CheckSum".into());
    }
    let Ok(sent_ms) = cur_time.parse::<i64>() else {
        return unauthorized("CurTime is not a number of milliseconds".into());
    };
    let now_ms = config.clock.now_ms();
    let age_ms = now_ms.saturating_sub(sent_ms);
    let ahead = MAX_FUTURE_SKEW.min(config.max_age);
    if age_ms > i64::try_from(config.max_age.as_millis()).unwrap_or(i64::MAX) {
        return unauthorized(format!(
            "stale CurTime: {} s behind this receiver's clock (window {} s, profile option callback_max_age_secs)",
            age_ms / 1000,
            config.max_age.as_secs()
        ));
    }
    if age_ms.saturating_neg() > ahead.as_millis() as i64 {
        return unauthorized(format!(
            "CurTime {} s ahead of this receiver's clock (at most {} s allowed)",
            -age_ms / 1000,
            ahead.as_secs()
        ));
    }
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            shared.malformed.fetch_add(1, Ordering::Relaxed);
            return (StatusCode::BAD_REQUEST, format!("body is not JSON: {e}"));
        }
    };
    let msg_type = parsed.get("msgType").and_then(crate::json::as_int);
    let (Some(msg_type), true) = (msg_type, parsed.get("msgBody").is_some_and(Value::is_object)) else {
        shared.malformed.fetch_add(1, Ordering::Relaxed);
        return (StatusCode::BAD_REQUEST, "expected {msgType: int, msgBody: {...}}".into());
    };
    if let Err(e) = CallbackEvent::from_body(&parsed) {
        // Delivered anyway (the raw body is the event); the consumer may still make use of it.
        tracing::warn!(error = %e, "netease callback does not match the documented fields");
    }

    let key = dedup_key(&parsed);
    #[cfg(feature = "journal")]
    let window_ms = config.effective_dedup_window().as_millis() as i64;
    #[cfg(feature = "journal")]
    let journal = shared.journal();
    // Delivered before this receiver started (or by another one on the same journal)?
    #[cfg(feature = "journal")]
    let stored = match &journal {
        Some(j) => j.callback_seen(&shared.scope(), &key, now_ms.saturating_sub(window_ms)).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "netease callback dedup journal unreadable; delivering");
            false
        }),
        None => false,
    };
    #[cfg(not(feature = "journal"))]
    let stored = false;
    {
        let mut dedup = shared.dedup.lock().unwrap_or_else(|e| e.into_inner());
        dedup.prune(now_ms, config.effective_dedup_window());
        if stored || dedup.seen.contains_key(&key) {
            shared.duplicates.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(msg_type, "netease callback resend dropped (already delivered)");
            return (StatusCode::OK, "duplicate".into());
        }
        if !dedup.pending.insert(key.clone()) {
            // The same event is being handed over by a concurrent request: let NetEase resend.
            return (StatusCode::SERVICE_UNAVAILABLE, "the same event is being delivered".into());
        }
    }
    let event =
        Event { vendor: Vendor::Netease, kind: kind_of(msg_type), data: parsed, received_at: config.clock.now() };
    let sent = tokio::time::timeout(config.handoff_timeout, shared.tx.send(event)).await;
    let mut dedup = shared.dedup.lock().unwrap_or_else(|e| e.into_inner());
    dedup.pending.remove(&key);
    match sent {
        Ok(Ok(())) => {
            let now = config.clock.now_ms();
            #[cfg(feature = "journal")]
            if let Some(j) = &journal {
                if let Err(e) = j.callback_delivered(&shared.scope(), &key, now, now.saturating_sub(window_ms)) {
                    tracing::warn!(
                        error = %e,
                        "netease callback dedup journal not written; a replay after a restart would be delivered again"
                    );
                }
            }
            dedup.seen.insert(key.clone(), now);
            dedup.order.push_back((now, key));
            shared.delivered.fetch_add(1, Ordering::Relaxed);
            (StatusCode::OK, "ok".into())
        }
        _ => {
            tracing::warn!(msg_type, "netease callback not delivered: the event buffer is full");
            (StatusCode::SERVICE_UNAVAILABLE, "event buffer full, resend later".into())
        }
    }
}

/// A resend carries the same event with a new nonce and time: key on the body's content,
/// with object keys sorted so a re-serialised body still matches.
fn dedup_key(body: &Value) -> String {
    fn canonical(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                Value::Object(keys.into_iter().map(|k| (k.clone(), canonical(&m[k]))).collect::<Map<_, _>>())
            }
            Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
            other => other.clone(),
        }
    }
    sign::md5_hex(canonical(body).to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{FutureExt, StreamExt};
    use serde_json::json;

    const SECRET: &str = "c8b1f7e0a5d94e2b9f3a";

    fn now_ms() -> i64 {
        CallbackClock::system().now_ms()
    }

    async fn start(config: CallbackConfig) -> (CallbackReceiver, RunningReceiver) {
        let rx = CallbackReceiver::new(config);
        let running = rx.serve("127.0.0.1:0", "/netease/callback").await.unwrap();
        (rx, running)
    }

    fn config() -> CallbackConfig {
        CallbackConfig::new("app-key", Secret::new(SECRET))
    }

    /// POST `body` signed with `secret` at `cur_time_ms`; returns the status.
    async fn post(url: &str, body: &str, secret: &str, cur_time_ms: i64) -> u16 {
        let nonce = sign::nonce();
        let cur = cur_time_ms.to_string();
        let sum = sign::callback_checksum(secret, &nonce, &cur, body.as_bytes());
        reqwest::Client::new()
            .post(url)
            .header("Content-Type", "application/json;charset=utf-8")
            .header("AppKey", "app-key")
            .header("Nonce", nonce)
            .header("CurTime", cur)
            .header("CheckSum", sum)
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    fn body(msg_type: i64, unique: i64) -> String {
        json!({"msgType": msg_type, "msgBody": {"meetingUniqueId": unique, "meetingId": "123456789", "time": 1}})
            .to_string()
    }

    #[tokio::test]
    async fn good_forged_stale_and_repeated_callbacks() {
        let (rx, running) = start(config()).await;
        let url = running.url();
        let now = now_ms();
        assert_eq!(post(&url, &body(1, 7), SECRET, now).await, 200);
        // NetEase's resends: same body, new nonce and time; and re-serialised with other key order.
        assert_eq!(post(&url, &body(1, 7), SECRET, now + 2000).await, 200);
        let reordered = r#"{"msgBody":{"time":1,"meetingId":"123456789","meetingUniqueId":7},"msgType":1}"#;
        assert_eq!(post(&url, reordered, SECRET, now).await, 200);
        // Forged (wrong secret), older than the 3 h window, more than 300 s ahead, unsigned.
        assert_eq!(post(&url, &body(3, 7), "not-the-secret", now).await, 401);
        assert_eq!(post(&url, &body(3, 7), SECRET, now - 3 * 3_600_000 - 1000).await, 401);
        assert_eq!(post(&url, &body(3, 7), SECRET, now + 301_000).await, 401);
        let status = reqwest::Client::new().post(&url).body(body(3, 7)).send().await.unwrap().status();
        assert_eq!(status, 401);
        // A second, different event, signed 2 h ago (a 1 h resend carrying the first attempt's CurTime).
        assert_eq!(post(&url, &body(3, 7), SECRET, now - 2 * 3_600_000).await, 200);
        // Signed but not a callback.
        assert_eq!(post(&url, "[1]", SECRET, now).await, 400);

        let mut events = rx.events().unwrap();
        let first = events.next().await.unwrap().unwrap();
        assert_eq!(
            (first.kind.as_str(), first.data["msgBody"]["meetingUniqueId"].clone()),
            ("MEETING_ROOM_START", json!(7))
        );
        let second = events.next().await.unwrap().unwrap();
        assert_eq!(second.kind, "MEETING_ROOM_END");
        // Every post was answered, and an event is queued before its answer: nothing more is coming.
        assert!(events.next().now_or_never().is_none(), "exactly two events");
        assert_eq!(
            rx.stats(),
            CallbackStats { delivered: 2, duplicates: 2, unauthorized: 4, malformed: 1, body_refused: 0 }
        );
    }

    #[tokio::test]
    async fn the_doc_vector_is_accepted_with_a_wide_window() {
        let mut cfg = config();
        cfg.max_age = Duration::from_secs(u32::MAX as u64);
        let (rx, running) = start(cfg).await;
        let body = "{\"msgType\":3,\"msgBody\":{\"type\":1,\"meetingId\":\"123456789\",\"meetingUniqueId\":26775,\
                    \"subject\":\"周会\",\"time\":1605857677012,\"reason\":4}}";
        let status = reqwest::Client::new()
            .post(running.url())
            .header("AppKey", "app-key")
            .header("Nonce", "a8f3c2d1")
            .header("CurTime", "1605857677012")
            .header("CheckSum", "0e1919c33c552474badc0350fc31fcc6d400ddaa")
            .body(body)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
        let ev = rx.events().unwrap().next().await.unwrap().unwrap();
        match CallbackEvent::from_event(&ev).unwrap() {
            CallbackEvent::MeetingRoomEnd(m) => assert_eq!((m.subject.as_deref(), m.reason), (Some("周会"), Some(4))),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn full_buffer_answers_503_and_the_resend_is_delivered_later() {
        let mut cfg = config();
        cfg.buffer = 1;
        cfg.handoff_timeout = Duration::from_millis(50);
        let (rx, running) = start(cfg).await;
        let url = running.url();
        assert_eq!(post(&url, &body(5, 1), SECRET, now_ms()).await, 200);
        assert_eq!(post(&url, &body(6, 1), SECRET, now_ms()).await, 503, "no room: NetEase must resend");
        let mut events = rx.events().unwrap();
        assert_eq!(events.next().await.unwrap().unwrap().kind, "MEETING_JOIN");
        assert_eq!(post(&url, &body(6, 1), SECRET, now_ms()).await, 200, "the resend is not a duplicate");
        assert_eq!(events.next().await.unwrap().unwrap().kind, "MEETING_LEAVE");
    }

    #[tokio::test]
    async fn one_subscriber_at_a_time_and_events_survive_a_dropped_stream() {
        let (rx, running) = start(config()).await;
        let events = rx.events().unwrap();
        assert!(rx.events().is_err());
        drop(events);
        assert_eq!(post(&running.url(), &body(2, 9), SECRET, now_ms()).await, 200);
        let ev = rx.events().unwrap().next().await.unwrap().unwrap();
        assert_eq!(ev.kind, "MEETING_CANCEL");
        running.stop();
    }

    #[test]
    fn expired_keys_are_forgotten() {
        let mut d = Dedup::default();
        let now = now_ms();
        let old = now - 10_000;
        d.seen.insert("k".into(), old);
        d.order.push_back((old, "k".into()));
        d.prune(now, Duration::from_secs(60));
        assert!(d.seen.contains_key("k"));
        d.prune(now, Duration::from_secs(5));
        assert!(d.seen.is_empty() && d.order.is_empty());
    }

    #[test]
    fn dedup_never_forgets_sooner_than_the_window() {
        let mut cfg = config();
        cfg.dedup_window = Duration::from_secs(60);
        assert_eq!(cfg.effective_dedup_window(), DEFAULT_CALLBACK_MAX_AGE);
        cfg.max_age = Duration::from_secs(30);
        assert_eq!(cfg.effective_dedup_window(), Duration::from_secs(60));
    }

    /// A receiver on a clock the test moves: the window and the dedup memory follow it.
    #[tokio::test]
    async fn window_and_dedup_follow_the_receiver_clock() {
        let offset = Arc::new(std::sync::atomic::AtomicI64::new(0));
        let mut cfg = config();
        let o = offset.clone();
        cfg.clock =
            CallbackClock::from_fn(move || SystemTime::now() + Duration::from_millis(o.load(Ordering::SeqCst) as u64));
        let (rx, running) = start(cfg).await;
        let url = running.url();
        let t0 = now_ms();
        assert_eq!(post(&url, &body(1, 1), SECRET, t0).await, 200);
        // 2 h later on the receiver's clock, the last resend with the first CurTime: a duplicate.
        offset.store(2 * 3_600_000 + 12_000, Ordering::SeqCst);
        assert_eq!(post(&url, &body(1, 1), SECRET, t0).await, 200);
        assert_eq!(rx.stats().duplicates, 1);
        // Past the window: the same CurTime is refused, and the delivered key has been pruned.
        offset.store(3 * 3_600_000 + 1000, Ordering::SeqCst);
        assert_eq!(post(&url, &body(1, 1), SECRET, t0).await, 401);
        assert_eq!(post(&url, &body(2, 1), SECRET, t0 + 3 * 3_600_000).await, 200);
        assert_eq!(rx.shared.dedup.lock().unwrap().seen.len(), 1, "the first event's key was pruned");
        let mut events = rx.events().unwrap();
        assert_eq!(events.next().await.unwrap().unwrap().kind, "MEETING_ROOM_START");
        assert_eq!(events.next().await.unwrap().unwrap().kind, "MEETING_CANCEL");
    }

    /// Open a raw connection and send `bytes` without finishing the request.
    async fn raw(addr: SocketAddr, bytes: &[u8]) -> tokio::net::TcpStream {
        use tokio::io::AsyncWriteExt;
        let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
        sock.write_all(bytes).await.unwrap();
        sock
    }

    /// Everything the server sends until it closes the connection (a server that never closes
    /// fails the test instead of hanging it).
    async fn read_until_closed(sock: &mut tokio::net::TcpStream) -> String {
        use tokio::io::AsyncReadExt;
        let mut out = Vec::new();
        crate::testutil::within("close of the connection by the receiver", sock.read_to_end(&mut out)).await.ok();
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test]
    async fn half_sent_headers_and_bodies_are_dropped_after_their_timeouts() {
        let mut cfg = config();
        cfg.header_read_timeout = Duration::from_millis(200);
        cfg.body_read_timeout = Duration::from_millis(200);
        let (rx, running) = start(cfg).await;
        let addr = running.local_addr();
        // Headers never finished: the connection is closed without an answer.
        let mut half = raw(addr, b"POST /netease/callback HTTP/1.1\r\nHost: x\r\nAppKey: app-key\r\n").await;
        let answer = read_until_closed(&mut half).await;
        assert!(!answer.contains("200"), "{answer}");
        // Headers complete, body cut short: 408, then closed.
        let mut slow =
            raw(addr, b"POST /netease/callback HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"msgType\"").await;
        let answer = read_until_closed(&mut slow).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert_eq!(rx.stats().body_refused, 1);
        // The receiver still serves well-behaved senders.
        assert_eq!(post(&running.url(), &body(1, 3), SECRET, now_ms()).await, 200);
    }

    #[tokio::test]
    async fn connections_over_the_cap_wait_until_one_closes() {
        let mut cfg = config();
        cfg.max_connections = 1;
        let (_rx, running) = start(cfg).await;
        let idle = raw(running.local_addr(), b"").await;
        let url = running.url();
        let waiting = tokio::spawn(async move { post(&url, &body(1, 4), SECRET, now_ms()).await });
        // Real time: a wait that should not end can only be watched for a while.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "a second connection was served while the cap was taken");
        drop(idle);
        assert_eq!(waiting.await.unwrap(), 200);
    }

    #[cfg(feature = "journal")]
    #[tokio::test]
    async fn a_replay_after_a_restart_is_not_delivered_again_with_a_journal() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(&dir.path().join("runs.db")).unwrap();
        let sent = now_ms();
        let first = CallbackReceiver::new(config());
        first.set_dedup_journal(Some(journal.clone()));
        let running = first.serve("127.0.0.1:0", "/cb").await.unwrap();
        assert_eq!(post(&running.url(), &body(1, 11), SECRET, sent).await, 200);
        assert_eq!(first.events().unwrap().next().await.unwrap().unwrap().kind, "MEETING_ROOM_START");
        let addr = running.local_addr().to_string();
        running.shutdown().await;
        drop(first);

        // A new receiver (a restart) on the same file and address: the captured callback
        // replayed is a duplicate.
        let second = CallbackReceiver::new(config());
        second.set_dedup_journal(Some(Journal::open(&dir.path().join("runs.db")).unwrap()));
        let running = second.serve(&addr, "/cb").await.unwrap();
        assert_eq!(post(&running.url(), &body(1, 11), SECRET, sent).await, 200);
        assert_eq!(second.stats().duplicates, 1);
        assert_eq!(second.stats().delivered, 0);
        let mut events = second.events().unwrap();
        assert!(events.next().now_or_never().is_none(), "delivered again");
        drop(events);

        // A second consumer on another address (a fan-out, like two commands sharing a
        // simulator) delivers the event too: the dedup scope includes the listening address.
        let other = CallbackReceiver::new(config());
        other.set_dedup_journal(Some(Journal::open(&dir.path().join("runs.db")).unwrap()));
        let running = other.serve("127.0.0.1:0", "/cb").await.unwrap();
        assert_eq!(post(&running.url(), &body(1, 11), SECRET, sent).await, 200);
        assert_eq!(other.stats().delivered, 1, "another consumer's event is not a duplicate of this one");

        // Without the journal, a restarted receiver has no memory: the same replay is delivered.
        let forgetful = CallbackReceiver::new(config());
        let running = forgetful.serve("127.0.0.1:0", "/cb").await.unwrap();
        assert_eq!(post(&running.url(), &body(1, 11), SECRET, sent).await, 200);
        assert_eq!(forgetful.stats().delivered, 1);
    }

    #[cfg(feature = "journal")]
    #[test]
    fn the_journal_forgets_callbacks_outside_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(&dir.path().join("runs.db")).unwrap();
        j.callback_delivered("netease:a", "k1", 1_000, 0).unwrap();
        assert!(j.callback_seen("netease:a", "k1", 500).unwrap());
        assert!(!j.callback_seen("netease:a", "k1", 1_001).unwrap(), "delivered before the window");
        assert!(!j.callback_seen("netease:b", "k1", 0).unwrap(), "another AppKey's callback");
        // A later delivery prunes what fell out of the window.
        j.callback_delivered("netease:a", "k2", 50_000, 10_000).unwrap();
        assert!(!j.callback_seen("netease:a", "k1", 0).unwrap());
        assert!(j.callback_seen("netease:a", "k2", 0).unwrap());
    }

    /// A writer collecting what a tracing subscriber writes.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A flood of unsigned requests writes one WARN line per interval, each with its count.
    /// (A current-thread runtime: the receiver's tasks log through this thread's subscriber.)
    #[tokio::test(flavor = "current_thread")]
    async fn refused_requests_are_reported_with_counts_not_one_line_each() {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let mut cfg = config();
        cfg.warn_interval = Duration::from_secs(3600);
        let (rx, running) = start(cfg).await;
        let client = reqwest::Client::new();
        for _ in 0..300 {
            let status = client.post(running.url()).body("{}").send().await.unwrap().status();
            assert_eq!(status, 401);
        }
        running.shutdown().await;
        assert_eq!(rx.stats().unauthorized, 300);
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let warns: Vec<&str> = text.lines().filter(|l| l.contains("WARN")).collect();
        assert_eq!(warns.len(), 2, "{text}");
        assert!(warns[0].contains("1 request(s) refused since the last report"), "{}", warns[0]);
        assert!(warns[1].contains("299 request(s) refused since the last report"), "{}", warns[1]);
        assert!(warns[1].contains("missing AppKey"), "{}", warns[1]);
    }

    #[test]
    fn refusals_after_the_interval_start_a_new_line() {
        let mut cfg = config();
        cfg.warn_interval = Duration::ZERO;
        let rx = CallbackReceiver::new(cfg);
        for _ in 0..3 {
            rx.shared.refused("bad CheckSum");
        }
        let gate = rx.shared.warnings.lock().unwrap();
        assert_eq!(gate.pending, 0, "each refusal past the interval was reported");
        assert!(gate.last_line.is_some());
    }
}
