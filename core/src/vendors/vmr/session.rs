//! vmr room sessions (doc 003, 访问控制 API).
//!
//! * `session.new` (header `pin` = the profile's password, body `display_name`) answers a
//!   token and `expires` — the string `"120"` (seconds). meetkit opens one session per room
//!   lazily, on the first room call, and shares it between all concurrent calls.
//! * The token is refreshed (`session.refresh`) at half its lifetime, by a background task for
//!   as long as the session exists (so an idle script waiting for events keeps it) and, as a
//!   backstop, by any call that finds it due. A failed refresh falls back to a new session.
//! * A token the server refuses (HTTP 401/403 without an envelope, an error code 401, or an
//!   error message that mentions the token — the failure format is undocumented) gets exactly
//!   one new session for all the callers refused with it (single-flight), and each resends once.
//! * `session.end` when the client is closed or dropped; its answer is ignored (doc:
//!   应忽略所有应答).
//! * Explicit calls by id return the raw `result`: `session.new` installs the new session as the
//!   room's managed one (ending the previous one), `session.refresh` refreshes it, `session.end`
//!   ends it (the next room call opens a new one).

use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::{envelope, Inner, ENDPOINTS};
use crate::endpoint::EndpointSpec;
use crate::secret::Secret;
use crate::{Error, Result, Vendor};

/// The lifetime assumed when `expires` is missing or unreadable (the doc's two minutes).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(120);

/// A token and when it was issued.
#[derive(Clone, Debug)]
pub struct Token {
    /// The token.
    pub secret: Secret,
    /// When meetkit received it.
    pub issued: Instant,
    /// `expires` as a duration.
    pub lifetime: Duration,
}

impl Token {
    /// Read `result.token` and `result.expires` (a string or a number of seconds).
    pub fn from_result(result: &Value) -> Option<Token> {
        let secret = result.get("token").and_then(Value::as_str).filter(|t| !t.is_empty())?;
        let secs = match result.get("expires") {
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            Some(Value::Number(n)) => n.as_f64(),
            _ => None,
        };
        let lifetime = secs.filter(|s| *s > 0.0).map(Duration::from_secs_f64).unwrap_or(DEFAULT_LIFETIME);
        Some(Token { secret: Secret::new(secret), issued: Instant::now(), lifetime })
    }

    /// When it should be refreshed: half its lifetime after issue.
    pub fn refresh_due(&self) -> Instant {
        self.issued + self.lifetime / 2
    }

    fn expired(&self) -> bool {
        self.issued.elapsed() >= self.lifetime
    }
}

/// One room's managed session.
#[derive(Debug)]
pub struct Session {
    room: String,
    current: RwLock<Option<Token>>,
    /// Held while a session is opened, refreshed or ended: those are single-flight.
    flight: tokio::sync::Mutex<()>,
    refresher: Mutex<Option<tokio::task::AbortHandle>>,
}

impl Session {
    fn new(room: &str) -> Self {
        Session {
            room: room.to_string(),
            current: RwLock::new(None),
            flight: Default::default(),
            refresher: Mutex::new(None),
        }
    }

    /// The room.
    pub fn room(&self) -> &str {
        &self.room
    }

    /// The current token, if a session is open.
    pub fn current(&self) -> Option<Token> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn replace(&self, token: Option<Token>) -> Option<Token> {
        std::mem::replace(&mut *self.current.write().unwrap_or_else(|p| p.into_inner()), token)
    }

    fn stop_refresher(&self) {
        if let Some(h) = self.refresher.lock().unwrap_or_else(|p| p.into_inner()).take() {
            h.abort();
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stop_refresher();
    }
}

/// Did the server refuse the token (as opposed to refusing the request)?
pub fn is_rejection(e: &Error) -> bool {
    match e {
        Error::Http { status, .. } => *status == 401 || *status == 403,
        Error::Api { code, message, .. } => code == "401" || message.to_ascii_lowercase().contains("token"),
        _ => false,
    }
}

fn spec(id: &str) -> &'static EndpointSpec {
    ENDPOINTS.iter().find(|e| e.id == id).expect("session endpoints are in the table")
}

impl Inner {
    /// The managed session of `room` (created empty on first use).
    pub(super) fn session(&self, room: &str) -> Arc<Session> {
        let mut map = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(room.to_string()).or_insert_with(|| Arc::new(Session::new(room))).clone()
    }

    /// A valid token for `session`: the cached one, a refreshed one when due, or a new session.
    pub(super) async fn token(self: &Arc<Self>, session: &Arc<Session>) -> Result<Secret> {
        if let Some(t) = session.current() {
            if Instant::now() < t.refresh_due() {
                return Ok(t.secret);
            }
        }
        let _flight = session.flight.lock().await;
        match session.current() {
            Some(t) if Instant::now() < t.refresh_due() => return Ok(t.secret),
            Some(t) => match self.refresh(&session.room, &t.secret).await {
                Ok((fresh, _)) => {
                    tracing::debug!(room = %session.room, "vmr: session refreshed");
                    session.replace(Some(fresh.clone()));
                    return Ok(fresh.secret);
                }
                Err(e) if !t.expired() && !is_rejection(&e) => {
                    tracing::warn!(error = %e, "vmr: refresh_session failed; the token is still valid, retrying later");
                    return Ok(t.secret);
                }
                Err(e) => tracing::warn!(error = %e, "vmr: refresh_session failed; opening a new session"),
            },
            None => {}
        }
        let fresh = self.open_managed(session).await?;
        Ok(fresh.secret)
    }

    /// Replace `stale` (the token a call was refused with) by a new session's token, unless
    /// another caller already did: many callers refused at once cause one `session.new`.
    pub(super) async fn renew(self: &Arc<Self>, session: &Arc<Session>, stale: &Secret) -> Result<Secret> {
        let _flight = session.flight.lock().await;
        if let Some(t) = session.current() {
            if &t.secret != stale {
                return Ok(t.secret);
            }
        }
        Ok(self.open_managed(session).await?.secret)
    }

    /// `session.new` with the profile's pin and display name; installed as `session`'s token.
    /// Called with the flight lock held.
    async fn open_managed(self: &Arc<Self>, session: &Arc<Session>) -> Result<Token> {
        let (token, _) = self.open(&session.room, Map::new()).await.map_err(|e| match e {
            Error::Api { code, message, .. } => Error::Auth {
                vendor: Vendor::Vmr,
                message: format!(
                    "session.new refused room `{}`: error {code}: {message} (check the vmr password of the profile)",
                    session.room
                ),
            },
            Error::Http { status, body, .. } => Error::Auth {
                vendor: Vendor::Vmr,
                message: format!("session.new refused room `{}`: HTTP {status} {body}", session.room),
            },
            other => other,
        })?;
        tracing::debug!(room = %session.room, lifetime = ?token.lifetime, "vmr: new session");
        session.replace(Some(token.clone()));
        self.ensure_refresher(session);
        Ok(token)
    }

    /// Send `session.new` (pin and display_name default to the profile's); the token and raw result.
    async fn open(&self, room: &str, mut params: Map<String, Value>) -> Result<(Token, Value)> {
        let spec = spec("session.new");
        if !self.config.password.is_empty() {
            params.entry("pin").or_insert_with(|| Value::String(self.config.password.expose().to_string()));
        }
        params.entry("display_name").or_insert_with(|| Value::String(self.config.display_name.clone()));
        params.insert("room".into(), Value::String(room.to_string()));
        let resp = self.send_room(spec, &params, None).await?;
        let result = envelope::decode_room(spec, &resp)?;
        let token = Token::from_result(&result).ok_or_else(|| Error::Decode {
            vendor: Vendor::Vmr,
            endpoint: spec.id.into(),
            message: "result has no token".into(),
        })?;
        Ok((token, result))
    }

    /// Send `session.refresh` with `token`; the new token and raw result.
    async fn refresh(&self, room: &str, token: &Secret) -> Result<(Token, Value)> {
        let spec = spec("session.refresh");
        let mut params = Map::new();
        params.insert("room".into(), Value::String(room.to_string()));
        let resp = self.send_room(spec, &params, Some(token)).await?;
        let result = envelope::decode_room(spec, &resp)?;
        let fresh = Token::from_result(&result).ok_or_else(|| Error::Decode {
            vendor: Vendor::Vmr,
            endpoint: spec.id.into(),
            message: "result has no token".into(),
        })?;
        Ok((fresh, result))
    }

    /// Send `session.end` with `token`; the answer is ignored (doc), so only its decoded
    /// `result` (or `null`) is returned.
    async fn end(&self, room: &str, token: &Secret) -> Value {
        let spec = spec("session.end");
        let mut params = Map::new();
        params.insert("room".into(), Value::String(room.to_string()));
        match self.send_room(spec, &params, Some(token)).await {
            Ok(resp) => envelope::decode_room(spec, &resp).unwrap_or(Value::Null),
            Err(e) => {
                tracing::debug!(error = %e, "vmr: end_session failed (ignored)");
                Value::Null
            }
        }
    }

    /// Start the background refresher of `session` unless it runs.
    fn ensure_refresher(self: &Arc<Self>, session: &Arc<Session>) {
        let mut slot = session.refresher.lock().unwrap_or_else(|p| p.into_inner());
        if slot.as_ref().is_some_and(|h| !h.is_finished()) {
            return;
        }
        let (inner, weak_session) = (Arc::downgrade(self), Arc::downgrade(session));
        *slot = Some(tokio::spawn(refresher(inner, weak_session)).abort_handle());
    }

    /// Explicit `session.new`: the raw result; the new session becomes the room's managed one.
    pub(super) async fn explicit_new(self: &Arc<Self>, room: &str, params: Map<String, Value>) -> Result<Value> {
        let session = self.session(room);
        let _flight = session.flight.lock().await;
        let (token, raw) = self.open(room, params).await?;
        let previous = session.replace(Some(token));
        self.ensure_refresher(&session);
        if let Some(old) = previous {
            self.end(room, &old.secret).await;
        }
        Ok(raw)
    }

    /// Explicit `session.refresh` of the managed session (opened first if there is none).
    pub(super) async fn explicit_refresh(self: &Arc<Self>, room: &str) -> Result<Value> {
        let session = self.session(room);
        self.token(&session).await?;
        let _flight = session.flight.lock().await;
        let current = match session.current() {
            Some(t) => t,
            None => return Err(Error::Auth { vendor: Vendor::Vmr, message: "the session was ended meanwhile".into() }),
        };
        let (fresh, raw) = self.refresh(room, &current.secret).await?;
        session.replace(Some(fresh));
        Ok(raw)
    }

    /// Explicit `session.end` of the managed session: its (ignored) answer, `null` if none was open.
    pub(super) async fn explicit_end(self: &Arc<Self>, room: &str) -> Result<Value> {
        let session = self.session(room);
        let _flight = session.flight.lock().await;
        session.stop_refresher();
        match session.replace(None) {
            Some(t) => Ok(self.end(room, &t.secret).await),
            None => Ok(Value::Null),
        }
    }

    /// Stop the event streams and end every session. Later calls open new sessions.
    pub(super) async fn close(&self) -> Result<()> {
        self.hubs.lock().await.clear();
        let sessions: Vec<Arc<Session>> =
            self.sessions.lock().unwrap_or_else(|p| p.into_inner()).drain().map(|(_, s)| s).collect();
        for session in sessions {
            let _flight = session.flight.lock().await;
            session.stop_refresher();
            if let Some(t) = session.replace(None) {
                self.end(&session.room, &t.secret).await;
                tracing::debug!(room = %session.room, "vmr: session ended");
            }
        }
        Ok(())
    }
}

/// Keep `session` fresh: wake at half its token's lifetime and refresh, until the session or
/// the client is gone.
async fn refresher(inner: Weak<Inner>, session: Weak<Session>) {
    let mut not_before = Instant::now();
    loop {
        let due = match session.upgrade().and_then(|s| s.current()) {
            Some(t) => t.refresh_due(),
            None => return,
        };
        tokio::time::sleep_until(due.max(not_before).into()).await;
        let (Some(inner), Some(session)) = (inner.upgrade(), session.upgrade()) else { return };
        let Some(lifetime) = session.current().map(|t| t.lifetime) else { return };
        if let Err(e) = inner.token(&session).await {
            tracing::warn!(error = %e, room = %session.room, "vmr: keeping the session alive failed");
        }
        not_before = Instant::now() + (lifetime / 4).min(Duration::from_secs(1));
    }
}

impl Drop for Inner {
    /// End the sessions still open, in the background (the doc ignores end_session's answer).
    fn drop(&mut self) {
        let sessions: Vec<Arc<Session>> =
            self.sessions.get_mut().unwrap_or_else(|p| p.into_inner()).drain().map(|(_, s)| s).collect();
        let open: Vec<(String, Secret)> = sessions
            .iter()
            .filter_map(|s| {
                s.stop_refresher();
                s.replace(None).map(|t| (s.room.clone(), t.secret))
            })
            .collect();
        let Some(root) = self.mcu.get_mut().clone() else { return };
        if open.is_empty() {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            tracing::debug!("vmr: client dropped outside a runtime; sessions expire on their own");
            return;
        };
        let transport = self.transport.clone();
        handle.spawn(async move {
            let spec = spec("session.end");
            for (room, token) in open {
                let mut params = Map::new();
                params.insert("room".into(), Value::String(room));
                let Ok(url) = spec.render_path(&mut params).and_then(|path| super::join(&root, &path)) else {
                    continue;
                };
                let _ = transport
                    .send(Vendor::Vmr, spec.id, false, |c| c.post(url.clone()).header("token", token.expose()))
                    .await;
            }
        });
    }
}
