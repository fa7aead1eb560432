//! vmr room sessions (doc 003, 访问控制 API).
//!
//! * `session.new` (header `pin` = the room's PIN: `pins[room]`, else the profile's password;
//!   body `display_name`) answers a token and `expires` — the string `"120"` (seconds). meetkit
//!   opens one session per room lazily, on the first call to that room, and shares it between
//!   all concurrent calls to it.
//! * The token is refreshed (`session.refresh`) at half its lifetime, by a background task for
//!   as long as the session exists (so an idle script waiting for events keeps it) and, as a
//!   backstop, by any call that finds it due. A failed refresh falls back to a new session.
//! * A token the server refuses (HTTP 401/403 without an envelope, an error code 401, or an
//!   error message that mentions the token — the failure format is undocumented) gets exactly
//!   one new session for all the callers refused with it (single-flight), and each resends
//!   once. The refused token's session is then ended (best effort, bounded by
//!   [`END_TIMEOUT`]): a refusal does not prove the server dropped it.
//! * `close` (what `Client::close()` runs) ends EVERY session meetkit opened,
//!   concurrently, each `session.end` sent and awaited but bounded by [`END_TIMEOUT`]; it is
//!   idempotent. Dropping the client ends what is still open in the background, as a last
//!   resort only. `session.end`'s answer is ignored (doc: 应忽略所有应答).
//! * Explicit calls by id return the raw `result`: `session.new` installs the new session as the
//!   room's managed one (ending the previous one), `session.refresh` refreshes it, `session.end`
//!   ends it (the next room call opens a new one).
//! * Every session has an epoch (a process-wide counter), kept across refreshes: the event
//!   stream uses it to tell "my session was replaced by a call" from "my session is gone".
//! * The token itself lives in a [`CredentialCache`] per room (due at half its lifetime,
//!   [`Margin::Part`]`(2)`); opening, refreshing and ending a session hold its flight lock, so
//!   each happens once however many calls need it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::{envelope, Inner, ENDPOINTS};
use crate::endpoint::EndpointSpec;
use crate::secret::Secret;
use crate::vendors::toolkit::{CredentialCache, Flight, Fresh, Margin};
use crate::{Error, Result, Vendor};

/// The lifetime assumed when `expires` is missing or unreadable (the doc's two minutes).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(120);

/// How long one `session.end` may take when meetkit ends a session (close, renewal).
pub const END_TIMEOUT: Duration = Duration::from_secs(2);

static EPOCHS: AtomicU64 = AtomicU64::new(1);

/// A session token. Two tokens are equal when their secrets are: a call refused with a token
/// the cache no longer holds does not renew the session.
#[derive(Clone, Debug)]
pub struct Token {
    /// The token.
    pub secret: Secret,
    /// `expires` as a duration.
    pub lifetime: Duration,
    /// The session's participant (`participant_uuid` of new_session), kept across refreshes.
    pub participant: Option<String>,
    /// The session this token belongs to (same across refreshes, new for every new session).
    pub epoch: u64,
}

impl Token {
    /// Read `result.token` and `result.expires` (a string or a number of seconds) of a NEW
    /// session (a new epoch; `participant_uuid` kept).
    pub fn from_result(result: &Value) -> Option<Token> {
        let participant = result.get("participant_uuid").and_then(Value::as_str).map(str::to_string);
        Self::read(result, participant, EPOCHS.fetch_add(1, Ordering::Relaxed))
    }

    /// The token of a refresh of `self`'s session.
    fn refreshed(&self, result: &Value) -> Option<Token> {
        Self::read(result, self.participant.clone(), self.epoch)
    }

    fn read(result: &Value, participant: Option<String>, epoch: u64) -> Option<Token> {
        let secret = result.get("token").and_then(Value::as_str).filter(|t| !t.is_empty())?;
        let secs = match result.get("expires") {
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            Some(Value::Number(n)) => n.as_f64(),
            _ => None,
        };
        // A lifetime the server states absurdly (0, negative, NaN, 1e300) falls back to the
        // doc's 120 s rather than panicking or never refreshing.
        let lifetime = secs
            .filter(|s| *s > 0.0 && *s <= 86_400.0)
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .unwrap_or(DEFAULT_LIFETIME);
        Some(Token { secret: Secret::new(secret), lifetime, participant, epoch })
    }

    /// The token for the cache: it expires after its lifetime.
    fn into_fresh(self) -> Fresh<Token> {
        let lifetime = self.lifetime;
        Fresh::expiring(self, lifetime)
    }
}

impl PartialEq for Token {
    fn eq(&self, other: &Self) -> bool {
        self.secret == other.secret
    }
}

/// One room's managed session.
#[derive(Debug)]
pub struct Session {
    room: String,
    /// The token; its flight lock is held while a session is opened, refreshed or ended.
    cache: CredentialCache<Token>,
    refresher: Mutex<Option<tokio::task::AbortHandle>>,
}

impl Session {
    fn new(room: &str) -> Self {
        Session {
            room: room.to_string(),
            cache: CredentialCache::with_margin("vmr session token", Margin::Part(2)),
            refresher: Mutex::new(None),
        }
    }

    /// The room.
    pub fn room(&self) -> &str {
        &self.room
    }

    /// The current token, if a session is open.
    pub fn current(&self) -> Option<Arc<Token>> {
        self.cache.current()
    }

    /// Forget the session of `epoch` (any session with `None`) if it is still the current one.
    pub(super) fn forget(&self, epoch: Option<u64>) -> Option<Arc<Token>> {
        let gone = self.cache.take_if(|t| epoch.is_none_or(|e| t.epoch == e));
        if gone.is_some() {
            self.stop_refresher();
        }
        gone
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
    /// The sessions open now: `(room, participant uuid)` (for the run journal).
    #[cfg_attr(not(feature = "journal"), allow(dead_code))]
    pub(super) fn open_sessions(&self) -> Vec<(String, String)> {
        let map = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        map.values()
            .filter_map(|s| s.current().and_then(|t| t.participant.clone()).map(|p| (s.room().to_string(), p)))
            .collect()
    }

    /// The managed session of `room` (created empty on first use).
    pub(super) fn session(&self, room: &str) -> Arc<Session> {
        let mut map = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(room.to_string()).or_insert_with(|| Arc::new(Session::new(room))).clone()
    }

    /// A valid token for `session`: the cached one, a refreshed one when due, or a new session.
    pub(super) async fn token(self: &Arc<Self>, session: &Arc<Session>) -> Result<Arc<Token>> {
        if let Some(t) = session.cache.fresh() {
            return Ok(t);
        }
        let mut flight = session.cache.lock().await;
        match self.refresh_due(session, &mut flight).await {
            Some(Ok(t)) => return Ok(t),
            Some(Err(e)) => tracing::warn!(error = %e, "vmr: refresh_session failed; opening a new session"),
            None => {}
        }
        self.open_managed(session, &mut flight).await
    }

    /// The current session's token, refreshed if due, WITHOUT ever opening a new session (the
    /// event stream's reconnect). `None`: no session, or the server refused its token.
    pub(super) async fn token_without_new_session(self: &Arc<Self>, session: &Arc<Session>) -> Option<Arc<Token>> {
        if let Some(t) = session.cache.fresh() {
            return Some(t);
        }
        let current = session.current()?;
        let mut flight = session.cache.lock().await;
        match self.refresh_due(session, &mut flight).await {
            Some(Ok(t)) => Some(t),
            Some(Err(e)) => {
                tracing::debug!(error = %e, room = %session.room, "vmr: the session's token was refused");
                session.forget(Some(current.epoch));
                None
            }
            None => None,
        }
    }

    /// With the flight lock held: the current token if fresh, refreshed if due. `None`: no
    /// session; `Some(Err)`: the refresh failed and the token is refused or expired.
    async fn refresh_due(&self, session: &Session, flight: &mut Flight<'_, Token>) -> Option<Result<Arc<Token>>> {
        let t = flight.current()?;
        if let Some(fresh) = flight.fresh() {
            return Some(Ok(fresh));
        }
        match self.refresh(&session.room, &t).await {
            Ok((fresh, _)) => {
                tracing::debug!(room = %session.room, "vmr: session refreshed");
                Some(Ok(flight.store(fresh.into_fresh())))
            }
            Err(e) if !session.cache.is_expired() && !is_rejection(&e) => {
                tracing::warn!(error = %e, "vmr: refresh_session failed; the token is still valid, retrying later");
                Some(Ok(t))
            }
            Err(e) => Some(Err(e)),
        }
    }

    /// Replace `stale` (the token a call was refused with) by a new session's token, unless
    /// another caller already did: many callers refused at once cause one `session.new`. The
    /// stale token's session is then ended (best effort, bounded; its failure is ignored).
    pub(super) async fn renew(self: &Arc<Self>, session: &Arc<Session>, stale: &Token) -> Result<Arc<Token>> {
        let fresh = {
            let mut flight = session.cache.lock().await;
            if let Some(t) = flight.current() {
                if *t != *stale {
                    return Ok(t);
                }
            }
            self.open_managed(session, &mut flight).await?
        };
        tracing::debug!(room = %session.room, "vmr: ending the session whose token was refused");
        let _ = tokio::time::timeout(END_TIMEOUT, self.end(&session.room, &stale.secret)).await;
        Ok(fresh)
    }

    /// `session.new` with the room's PIN and the display name; installed as `session`'s token
    /// through the flight lock `flight` holds.
    async fn open_managed(
        self: &Arc<Self>,
        session: &Arc<Session>,
        flight: &mut Flight<'_, Token>,
    ) -> Result<Arc<Token>> {
        let room = &session.room;
        let (token, _) = self.open(room, Map::new()).await.map_err(|e| match e {
            Error::Api { code, message, .. } => Error::Auth {
                vendor: Vendor::Vmr,
                message: format!(
                    "session.new refused room `{room}`: error {code}: {message} ({})",
                    self.pin_hint(room)
                ),
            },
            Error::Http { status, body, .. } => Error::Auth {
                vendor: Vendor::Vmr,
                message: format!("session.new refused room `{room}`: HTTP {status} {body} ({})", self.pin_hint(room)),
            },
            other => other,
        })?;
        tracing::debug!(room = %session.room, lifetime = ?token.lifetime, "vmr: new session");
        let token = flight.store(token.into_fresh());
        self.ensure_refresher(session);
        Ok(token)
    }

    /// Send `session.new` (pin and display_name default to the room's PIN and the profile's
    /// name); the token and raw result.
    async fn open(&self, room: &str, mut params: Map<String, Value>) -> Result<(Token, Value)> {
        let spec = spec("session.new");
        if let Some(pin) = self.pin(room) {
            params.entry("pin").or_insert_with(|| Value::String(pin.expose().to_string()));
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

    /// Send `session.refresh` with `token`; the new token (same session) and raw result.
    async fn refresh(&self, room: &str, token: &Token) -> Result<(Token, Value)> {
        let spec = spec("session.refresh");
        let mut params = Map::new();
        params.insert("room".into(), Value::String(room.to_string()));
        let resp = self.send_room(spec, &params, Some(&token.secret)).await?;
        let result = envelope::decode_room(spec, &resp)?;
        let fresh = token.refreshed(&result).ok_or_else(|| Error::Decode {
            vendor: Vendor::Vmr,
            endpoint: spec.id.into(),
            message: "result has no token".into(),
        })?;
        Ok((fresh, result))
    }

    /// Send `session.end` with `token`; the answer is ignored (doc), so only its decoded
    /// `result` (or `null`) is returned.
    async fn end(&self, room: &str, token: &Secret) -> Value {
        self.end_reported(room, token).await.unwrap_or_else(|e| {
            tracing::debug!(error = %e, "vmr: end_session failed (ignored)");
            Value::Null
        })
    }

    /// `end_session`; an error when the request did not get through (transport, HTTP 5xx):
    /// the session may still be open. Any answer of the server (also a refused token) means
    /// it is gone.
    async fn end_reported(&self, room: &str, token: &Secret) -> Result<Value> {
        let spec = spec("session.end");
        let mut params = Map::new();
        params.insert("room".into(), Value::String(room.to_string()));
        let resp = self.send_room(spec, &params, Some(token)).await?;
        if resp.status >= 500 {
            return Err(resp.http_error(Vendor::Vmr, spec.id));
        }
        Ok(envelope::decode_room(spec, &resp).unwrap_or(Value::Null))
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
        let previous = {
            let mut flight = session.cache.lock().await;
            let (token, raw) = self.open(room, params).await?;
            let previous = flight.replace(token.into_fresh());
            self.ensure_refresher(&session);
            (previous, raw)
        };
        if let Some(old) = previous.0 {
            let _ = tokio::time::timeout(END_TIMEOUT, self.end(room, &old.secret)).await;
        }
        Ok(previous.1)
    }

    /// Explicit `session.refresh` of the managed session (opened first if there is none).
    pub(super) async fn explicit_refresh(self: &Arc<Self>, room: &str) -> Result<Value> {
        let session = self.session(room);
        self.token(&session).await?;
        let mut flight = session.cache.lock().await;
        let current = match flight.current() {
            Some(t) => t,
            None => return Err(Error::Auth { vendor: Vendor::Vmr, message: "the session was ended meanwhile".into() }),
        };
        let (fresh, raw) = self.refresh(room, &current).await?;
        flight.store(fresh.into_fresh());
        Ok(raw)
    }

    /// Explicit `session.end` of the managed session: its (ignored) answer, `null` if none was
    /// open. The room's event stream ends with a `disconnected` event.
    pub(super) async fn explicit_end(self: &Arc<Self>, room: &str) -> Result<Value> {
        let session = self.session(room);
        let ended = {
            let _flight = session.cache.lock().await;
            session.forget(None)
        };
        let answer = match ended {
            Some(t) => tokio::time::timeout(END_TIMEOUT, self.end(room, &t.secret)).await.unwrap_or(Value::Null),
            None => Value::Null,
        };
        self.close_hub(room, "session.end").await;
        Ok(answer)
    }

    /// The server removed meetkit's participant of `room` (`epoch`'s session, or whichever is
    /// current with `None`): forget the session without ending it, end the room's event stream.
    pub(super) async fn session_gone(&self, room: &str, epoch: Option<u64>, reason: &str) {
        if let Some(session) = self.sessions.lock().unwrap_or_else(|p| p.into_inner()).get(room) {
            session.forget(epoch);
        }
        self.close_hub(room, reason).await;
    }

    /// Stop the event streams (each ends with a `disconnected` event) and end every session
    /// meetkit opened: concurrently, each `session.end` awaited and bounded by [`END_TIMEOUT`].
    /// Idempotent; later calls open new sessions.
    pub(super) async fn close(&self) -> Result<()> {
        let hubs: Vec<Arc<super::stream::Hub>> = match tokio::time::timeout(END_TIMEOUT, self.hubs.lock()).await {
            Ok(mut hubs) => hubs.drain().map(|(_, h)| h).collect(),
            Err(_) => {
                tracing::warn!("vmr: an event stream is still being opened; closing without waiting for it");
                Vec::new()
            }
        };
        for hub in hubs {
            hub.close_with("client closed");
        }
        let sessions: Vec<Arc<Session>> =
            self.sessions.lock().unwrap_or_else(|p| p.into_inner()).drain().map(|(_, s)| s).collect();
        let ends = sessions.into_iter().map(|session| async move {
            // A session being opened right now: wait for it (bounded), then end whatever is current.
            let _flight = tokio::time::timeout(END_TIMEOUT, session.cache.lock()).await;
            let Some(t) = session.forget(None) else { return Ok(()) };
            match tokio::time::timeout(END_TIMEOUT, self.end_reported(&session.room, &t.secret)).await {
                Ok(Ok(_)) => {
                    tracing::debug!(room = %session.room, "vmr: session ended");
                    Ok(())
                }
                Ok(Err(e)) => {
                    tracing::warn!(room = %session.room, error = %e, "vmr: end_session failed; the session expires on its own");
                    Err(e)
                }
                Err(_) => {
                    tracing::warn!(room = %session.room, "vmr: end_session timed out; the session expires on its own");
                    Err(Error::Timeout { vendor: Vendor::Vmr, endpoint: "session.end".into(), after: END_TIMEOUT })
                }
            }
        });
        // Every session is tried; the first failure is reported (a run journal then keeps the
        // session as possibly open, for a cleanup to end).
        futures::future::join_all(ends).await.into_iter().collect::<Result<Vec<()>>>().map(|_| ())
    }
}

/// Keep `session` fresh: wake at half its token's lifetime and refresh, until the session or
/// the client is gone. A refused refresh forgets the session (no new one is opened).
async fn refresher(inner: Weak<Inner>, session: Weak<Session>) {
    let mut not_before = Instant::now();
    loop {
        let Some(due) = session.upgrade().and_then(|s| s.cache.renew_at()) else { return };
        tokio::time::sleep_until(due.max(not_before).into()).await;
        let (Some(inner), Some(session)) = (inner.upgrade(), session.upgrade()) else { return };
        let Some(lifetime) = session.current().map(|t| t.lifetime) else { return };
        // Never a new session from here: a session the server dropped stays dropped until a call.
        if inner.token_without_new_session(&session).await.is_none() && session.current().is_none() {
            tracing::warn!(room = %session.room, "vmr: the server refused the session's token; it is gone");
            inner.close_hub(&session.room, "the session's token was refused").await;
            return;
        }
        not_before = Instant::now() + (lifetime / 4).min(Duration::from_secs(1));
    }
}

impl Drop for Inner {
    /// Last resort: end the sessions still open, in the background (the doc ignores
    /// end_session's answer). [`Inner::close`] is what callers rely on.
    fn drop(&mut self) {
        let sessions: Vec<Arc<Session>> =
            self.sessions.get_mut().unwrap_or_else(|p| p.into_inner()).drain().map(|(_, s)| s).collect();
        let open: Vec<(String, Secret, crate::vendors::toolkit::BaseUrl)> = sessions
            .iter()
            .filter_map(|s| {
                let token = s.forget(None)?;
                let root = self.known_root(&s.room)?;
                Some((s.room.clone(), token.secret.clone(), root))
            })
            .collect();
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
            let ends = open.into_iter().map(|(room, token, root)| {
                let transport = transport.clone();
                async move {
                    let mut params = Map::new();
                    params.insert("room".into(), Value::String(room));
                    let Ok(url) = spec.render_path(&mut params).and_then(|path| root.join_url(&path)) else {
                        return;
                    };
                    let send = transport
                        .send(Vendor::Vmr, spec.id, false, |c| c.post(url.clone()).header("token", token.expose()));
                    let _ = tokio::time::timeout(END_TIMEOUT, send).await;
                }
            });
            futures::future::join_all(ends).await;
        });
    }
}
