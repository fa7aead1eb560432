//! The vmr event subscription: `GET https://mcuHost/api/services/{room}/events?token=...`, a
//! server-sent event stream (the doc calls it a GET that "subscribes"; the framing is not
//! stated — SSE is what the API it mirrors uses).
//!
//! One hub per room. The first `events()` call (or an explicit `events.subscribe`) opens the
//! stream and returns once the server has answered, so every event from that moment on is
//! kept: events that arrive before anyone consumes them wait in the subscriber's unbounded
//! queue (or, after `events.subscribe` with nobody listening yet, in a backlog handed to the
//! first subscriber). A dropped or ended stream is reopened with the session's CURRENT token
//! (refreshed in the meantime), sending `Last-Event-ID` when the server gave ids; after
//! [`MAX_RECONNECTS`] failed attempts in a row the stream yields the error and ends. Closing
//! the client ends every stream.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

use futures::channel::mpsc;
use futures::StreamExt;
use serde_json::{Map, Value};

use super::event::payload;
use super::sse::{SseMessage, SseParser};
use super::{session, Inner, ENDPOINTS};
use crate::events::{Event, EventStream};
use crate::secret::Secret;
use crate::{Error, Result, Vendor};

/// Failed reconnection attempts in a row before the stream gives up.
pub const MAX_RECONNECTS: u32 = 8;

/// Events kept for the first subscriber after an explicit `events.subscribe`.
const BACKLOG_LIMIT: usize = 10_000;

type Item = Result<Event>;

/// One room's event fan-out.
#[derive(Debug)]
pub struct Hub {
    room: String,
    state: Mutex<HubState>,
    task: Mutex<Option<tokio::task::AbortHandle>>,
}

#[derive(Debug)]
struct HubState {
    subscribers: Vec<mpsc::UnboundedSender<Item>>,
    /// `Some` until the first subscriber arrives.
    backlog: Option<VecDeque<Item>>,
    finished: bool,
}

impl Hub {
    fn new(room: &str) -> Hub {
        Hub {
            room: room.to_string(),
            state: Mutex::new(HubState { subscribers: Vec::new(), backlog: Some(VecDeque::new()), finished: false }),
            task: Mutex::new(None),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new subscriber: the backlog (if this is the first one), then every later event.
    fn subscribe(&self) -> EventStream {
        let (tx, rx) = mpsc::unbounded();
        let mut state = self.lock();
        if let Some(backlog) = state.backlog.take() {
            for item in backlog {
                let _ = tx.unbounded_send(item);
            }
        }
        state.subscribers.push(tx);
        rx.boxed()
    }

    fn is_finished(&self) -> bool {
        self.lock().finished
    }

    /// Hand `item` to every subscriber; false when nobody will ever read it (stop the pump).
    fn deliver(&self, item: Item) -> bool {
        let mut state = self.lock();
        if let Some(backlog) = &mut state.backlog {
            if backlog.len() >= BACKLOG_LIMIT {
                backlog.pop_front();
                tracing::warn!(room = %self.room, "vmr events: backlog full, dropping the oldest event");
            }
            backlog.push_back(item);
            return true;
        }
        state.subscribers.retain(|tx| !tx.is_closed());
        for tx in &state.subscribers {
            let cloned = match &item {
                Ok(e) => Ok(e.clone()),
                Err(e) => Err(Error::Transport {
                    vendor: Vendor::Vmr,
                    endpoint: "events.subscribe".into(),
                    message: e.to_string(),
                    before_send: false,
                }),
            };
            let _ = tx.unbounded_send(cloned);
        }
        if state.subscribers.is_empty() {
            state.finished = true;
        }
        !state.finished
    }

    fn finish(&self) {
        let mut state = self.lock();
        state.finished = true;
        state.subscribers.clear();
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        if let Some(h) = self.task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            h.abort();
        }
    }
}

impl Inner {
    /// The hub of `room`, opening the stream if there is none; with `with_subscriber`, also a
    /// new subscriber's stream.
    pub(super) async fn subscribe(
        self: &Arc<Self>,
        room: &str,
        with_subscriber: bool,
    ) -> Result<(Arc<Hub>, Option<EventStream>)> {
        let mut hubs = self.hubs.lock().await;
        if let Some(hub) = hubs.get(room).filter(|h| !h.is_finished()) {
            let stream = with_subscriber.then(|| hub.subscribe());
            return Ok((hub.clone(), stream));
        }
        let response = self.open_stream(room, None).await?;
        let hub = Arc::new(Hub::new(room));
        let stream = with_subscriber.then(|| hub.subscribe());
        let task = tokio::spawn(pump(Arc::downgrade(self), Arc::downgrade(&hub), response, self.idle_limit()));
        *hub.task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task.abort_handle());
        hubs.insert(room.to_string(), hub.clone());
        Ok((hub, stream))
    }

    /// No bytes at all (not even keep-alives) for this long: the connection is presumed dead.
    fn idle_limit(&self) -> Duration {
        Duration::from_secs_f64((self.transport.config().request_timeout_secs * 4.0).max(10.0))
    }

    /// Open the stream with the session's current token; a refused token gets one new session.
    async fn open_stream(self: &Arc<Self>, room: &str, last_id: Option<&str>) -> Result<reqwest::Response> {
        let session = self.session(room);
        let token = self.token(&session).await?;
        match self.get_events(room, &token, last_id).await {
            Err(e) if session::is_rejection(&e) => {
                tracing::debug!(room, "vmr events: token refused, opening a new session once");
                let fresh = self.renew(&session, &token).await?;
                self.get_events(room, &fresh, last_id).await
            }
            other => other,
        }
    }

    async fn get_events(&self, room: &str, token: &Secret, last_id: Option<&str>) -> Result<reqwest::Response> {
        let spec = ENDPOINTS.iter().find(|e| e.id == "events.subscribe").expect("in the table");
        let root = self.mcu_root().await?;
        let mut params = Map::new();
        params.insert("room".into(), Value::String(room.to_string()));
        let mut url = super::join(&root, &spec.render_path(&mut params)?)?;
        url.query_pairs_mut().append_pair("token", token.expose());
        let mut request = self.transport.http().get(url).header(reqwest::header::ACCEPT, "text/event-stream");
        if let Some(id) = last_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.map_err(|e| Error::Transport {
            vendor: Vendor::Vmr,
            endpoint: spec.id.into(),
            before_send: e.is_connect(),
            message: e.without_url().to_string(),
        })?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap_or_default();
        let raw = crate::transport::RawResponse { status, headers, body };
        Err(super::envelope::decode_room(spec, &raw).err().unwrap_or_else(|| raw.http_error(Vendor::Vmr, spec.id)))
    }
}

/// Read the stream, hand events to the hub, reconnect after drops.
async fn pump(inner: Weak<Inner>, hub: Weak<Hub>, first: reqwest::Response, idle: Duration) {
    let Some(room) = hub.upgrade().map(|h| h.room.clone()) else { return };
    let mut parser = SseParser::new();
    let mut response = Some(first);
    let mut failures = 0u32;
    loop {
        if let Some(resp) = response.take() {
            let mut body = resp.bytes_stream();
            loop {
                let chunk = match tokio::time::timeout(idle, body.next()).await {
                    Ok(Some(Ok(chunk))) => chunk,
                    Ok(Some(Err(e))) => {
                        tracing::debug!(room, error = %e.without_url(), "vmr events: stream dropped");
                        break;
                    }
                    Ok(None) => {
                        tracing::debug!(room, "vmr events: stream ended by the server");
                        break;
                    }
                    Err(_) => {
                        tracing::debug!(room, ?idle, "vmr events: stream idle, reconnecting");
                        break;
                    }
                };
                failures = 0;
                for message in parser.feed(&chunk) {
                    let Some(hub) = hub.upgrade() else { return };
                    if !hub.deliver(Ok(to_event(message))) {
                        return;
                    }
                }
            }
            parser.reset();
        }
        let delay = parser.retry().unwrap_or_else(|| backoff(failures));
        tokio::time::sleep(delay).await;
        let (Some(client), Some(h)) = (inner.upgrade(), hub.upgrade()) else { return };
        if h.is_finished() {
            return;
        }
        drop(h);
        match client.open_stream(&room, parser.last_id()).await {
            Ok(resp) => {
                tracing::debug!(room, "vmr events: reconnected");
                response = Some(resp);
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(room, error = %e, failures, "vmr events: reconnect failed");
                if failures >= MAX_RECONNECTS {
                    if let Some(hub) = hub.upgrade() {
                        hub.deliver(Err(e));
                        hub.finish();
                    }
                    return;
                }
            }
        }
    }
}

/// 100 ms after a drop, doubling per failed attempt, at most 5 s.
fn backoff(failures: u32) -> Duration {
    Duration::from_millis((100u64 << failures.min(6)).min(5000))
}

fn to_event(message: SseMessage) -> Event {
    Event {
        vendor: Vendor::Vmr,
        kind: message.event.trim().to_ascii_lowercase(),
        data: payload(&message.data),
        received_at: SystemTime::now(),
    }
}
