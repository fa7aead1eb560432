//! The vmr event subscription: `GET https://mcuHost/api/services/{room}/events?token=...`, a
//! server-sent event stream (the doc calls it a GET that "subscribes"; the framing is not
//! stated — SSE is what the API it mirrors uses).
//!
//! One hub per room. The first `events()` call (or an explicit `events.subscribe`) opens the
//! stream and returns once the server has answered, so every event from that moment on is
//! kept: events that arrive before anyone consumes them wait in the subscriber's unbounded
//! queue (or, after `events.subscribe` with nobody listening yet, in a backlog handed to the
//! first subscriber).
//!
//! The stream follows the room's managed session and NEVER opens a session by itself:
//!
//! * A dropped or ended connection is reopened with that session's CURRENT token (refreshed
//!   in the meantime, or the session a call opened to replace a refused one), sending
//!   `Last-Event-ID` when the server gave ids; after [`MAX_RECONNECTS`] failed attempts in a
//!   row the stream yields the error and ends.
//! * It ends — with a final event of type [`DISCONNECTED`], data `{"reason", "room"}` — when
//!   the server sends `disconnect` (our participant was removed), when meetkit's own
//!   participant is deleted (`participant_delete` of its uuid), after `conference.disconnect`,
//!   `session.end` or `participant.disconnect` of our own participant through this client,
//!   when the session's token is refused on reconnect or refresh, and when the client is
//!   closed. The next *call* may open a new session; the stream does not.
//! * The roster the server replays on every (re)connect — the events between
//!   `participant_sync_begin` and `participant_sync_end` — carries `"replay": true` in its
//!   data (an object). Subscribers get the replayed entries only when they ask
//!   (`events({"replay": true})`); by default (what the script's `wait_event` uses) they are
//!   left out, so a replayed participant never looks like a join. The two sync markers
//!   themselves are always delivered.
//! * Resume: the doc gives events no ids, so a reconnect cannot ask for what it missed (it
//!   still sends `Last-Event-ID` if a server sends ids). Instead each replayed roster is
//!   compared with the participants delivered so far ([`super::resync`]): joins, changes and
//!   leaves that happened while the connection was down are delivered once, as
//!   `participant_create` / `participant_update` / `participant_delete` with `"resync": true`;
//!   what was already delivered is only replayed. Other events sent while it was down are lost.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

use futures::channel::mpsc;
use futures::StreamExt;
use serde_json::{json, Map, Value};

use super::event::payload;
use super::resync::Roster;
use super::sse::{SseMessage, SseParser};
use super::{session, Inner, ENDPOINTS};
use crate::events::{Event, EventStream};
use crate::secret::Secret;
use crate::{Error, Result, Vendor};

/// Failed reconnection attempts in a row before the stream gives up.
pub const MAX_RECONNECTS: u32 = 8;

/// The type of the final event of a stream whose session ended (`{"reason", "room"}`).
pub const DISCONNECTED: &str = "disconnected";

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
    /// Each subscriber and whether it wants replayed roster entries.
    subscribers: Vec<(mpsc::UnboundedSender<Item>, bool)>,
    /// `Some` until the first subscriber arrives: (item, is a replayed entry).
    backlog: Option<VecDeque<(Item, bool)>>,
    finished: bool,
}

fn copy(item: &Item) -> Item {
    match item {
        Ok(e) => Ok(e.clone()),
        Err(e) => Err(Error::Transport {
            vendor: Vendor::Vmr,
            endpoint: "events.subscribe".into(),
            message: e.to_string(),
            before_send: false,
        }),
    }
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

    /// A new subscriber: the backlog (if this is the first one), then every later event;
    /// replayed roster entries only with `replay`.
    fn subscribe(&self, replay: bool) -> EventStream {
        let (tx, rx) = mpsc::unbounded();
        let mut state = self.lock();
        if let Some(backlog) = state.backlog.take() {
            for (item, replayed) in backlog {
                if replay || !replayed {
                    let _ = tx.unbounded_send(item);
                }
            }
        }
        if !state.finished {
            state.subscribers.push((tx, replay));
        }
        rx.boxed()
    }

    fn is_finished(&self) -> bool {
        self.lock().finished
    }

    /// Finished, and its backlog was never handed out (a subscriber should still get it).
    fn has_unclaimed_backlog(&self) -> bool {
        let state = self.lock();
        state.finished && state.backlog.as_ref().is_some_and(|b| !b.is_empty())
    }

    /// Hand `item` to every subscriber (`replayed`: only to those that asked for the replay);
    /// false when nobody will ever read it (stop the pump).
    fn deliver(&self, item: Item, replayed: bool) -> bool {
        let mut state = self.lock();
        if state.finished {
            return false;
        }
        if let Some(backlog) = &mut state.backlog {
            if backlog.len() >= BACKLOG_LIMIT {
                backlog.pop_front();
                tracing::warn!(room = %self.room, "vmr events: backlog full, dropping the oldest event");
            }
            backlog.push_back((item, replayed));
            return true;
        }
        state.subscribers.retain(|(tx, _)| !tx.is_closed());
        for (tx, replay) in &state.subscribers {
            if *replay || !replayed {
                let _ = tx.unbounded_send(copy(&item));
            }
        }
        if state.subscribers.is_empty() {
            state.finished = true;
        }
        !state.finished
    }

    /// Yield the error and end (the stream failed for good).
    fn fail(&self, e: Error) {
        self.deliver(Err(e), false);
        self.finish();
    }

    /// End the stream with a final [`DISCONNECTED`] event carrying `reason`; false if it had
    /// ended already (only the first reason is delivered).
    pub(super) fn close_with(&self, reason: &str) -> bool {
        {
            let mut state = self.lock();
            if state.finished {
                return false;
            }
            let event = Event {
                vendor: Vendor::Vmr,
                kind: DISCONNECTED.into(),
                data: json!({"reason": reason, "room": self.room}),
                received_at: SystemTime::now(),
            };
            tracing::debug!(room = %self.room, reason, "vmr events: stream ends");
            if let Some(backlog) = &mut state.backlog {
                backlog.push_back((Ok(event), false));
            } else {
                for (tx, _) in &state.subscribers {
                    let _ = tx.unbounded_send(Ok(event.clone()));
                }
            }
            state.finished = true;
            state.subscribers.clear();
        }
        if let Some(h) = self.task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            h.abort();
        }
        true
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
    /// The hub of `room`, opening the stream if there is none; with `Some(replay)`, also a
    /// new subscriber's stream (replayed roster entries included with `true`).
    pub(super) async fn subscribe(
        self: &Arc<Self>,
        room: &str,
        subscriber: Option<bool>,
    ) -> Result<(Arc<Hub>, Option<EventStream>)> {
        let mut hubs = self.hubs.lock().await;
        if let Some(hub) = hubs.get(room) {
            if !hub.is_finished() {
                let stream = subscriber.map(|replay| hub.subscribe(replay));
                return Ok((hub.clone(), stream));
            }
            // A stream that ended before anyone listened: its events (and its final
            // `disconnected`) go to the first subscriber, and that stream ends there.
            if let (Some(replay), true) = (subscriber, hub.has_unclaimed_backlog()) {
                let hub = hubs.remove(room).expect("present");
                let stream = hub.subscribe(replay);
                return Ok((hub, Some(stream)));
            }
        }
        let (response, epoch) = self.open_stream(room).await?;
        let hub = Arc::new(Hub::new(room));
        let stream = subscriber.map(|replay| hub.subscribe(replay));
        let task = tokio::spawn(pump(Arc::downgrade(self), Arc::downgrade(&hub), response, epoch, self.idle_limit()));
        *hub.task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task.abort_handle());
        hubs.insert(room.to_string(), hub.clone());
        Ok((hub, stream))
    }

    /// End `room`'s event stream with a final `disconnected` event (if it is open).
    pub(super) async fn close_hub(&self, room: &str, reason: &str) {
        let hub = self.hubs.lock().await.get(room).cloned();
        if let Some(hub) = hub {
            hub.close_with(reason);
        }
    }

    /// No bytes at all (not even keep-alives) for this long: the connection is presumed dead.
    fn idle_limit(&self) -> Duration {
        Duration::from_secs_f64((self.transport.config().request_timeout_secs * 4.0).max(10.0))
    }

    /// Open the stream for a subscriber (a call: may open a session, a refused token gets one
    /// new session); the response and the epoch of the session it was opened with.
    async fn open_stream(self: &Arc<Self>, room: &str) -> Result<(reqwest::Response, u64)> {
        let session = self.session(room);
        let token = self.token(&session).await?;
        match self.get_events(room, &token.secret, None).await {
            Err(e) if session::is_rejection(&e) => {
                tracing::debug!(room, "vmr events: token refused, opening a new session once");
                let fresh = self.renew(&session, &token).await?;
                Ok((self.get_events(room, &fresh.secret, None).await?, fresh.epoch))
            }
            other => Ok((other?, token.epoch)),
        }
    }

    async fn get_events(&self, room: &str, token: &Secret, last_id: Option<&str>) -> Result<reqwest::Response> {
        let spec = ENDPOINTS.iter().find(|e| e.id == "events.subscribe").expect("in the table");
        let root = self.mcu_root(room).await?;
        let mut params = Map::new();
        params.insert("room".into(), Value::String(room.to_string()));
        let mut url = root.join_url(&spec.render_path(&mut params)?)?;
        url.query_pairs_mut().append_pair("token", token.expose());
        let mut request = self.transport.http().get(url).header(reqwest::header::ACCEPT, "text/event-stream");
        if let Some(id) = last_id {
            request = request.header("Last-Event-ID", id);
        }
        let transport_error = |e: reqwest::Error| Error::Transport {
            vendor: Vendor::Vmr,
            endpoint: spec.id.into(),
            before_send: e.is_connect(),
            message: e.without_url().to_string(),
        };
        let request = request.build().map_err(transport_error)?;
        // The connection goes into a --capture file (request, status, headers; the stream itself
        // is not stored), like every other request.
        let mut record = crate::capture::DownloadRecord::start_stream(self.transport.capture(), &request);
        let response = self.transport.http().execute(request).await.map_err(transport_error)?;
        record.response(&response);
        drop(record);
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

/// What one received event means for the stream.
enum Verdict {
    /// Deliver it and go on.
    Deliver,
    /// The connection belongs to a session a call has replaced: drop the event, reconnect.
    Replaced,
    /// Deliver it, then end the stream with this reason.
    End(String),
}

/// Read the stream, hand events to the hub, reconnect after drops — always with the room's
/// current session, never a new one.
async fn pump(inner: Weak<Inner>, hub: Weak<Hub>, first: reqwest::Response, first_epoch: u64, idle: Duration) {
    let Some(room) = hub.upgrade().map(|h| h.room.clone()) else { return };
    let mut parser = SseParser::new();
    let mut roster = Roster::new();
    let mut response = Some((first, first_epoch));
    let mut failures = 0u32;
    loop {
        if let Some((resp, epoch)) = response.take() {
            let mut body = resp.bytes_stream();
            'read: loop {
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
                for (event, replayed) in parser.feed(&chunk).into_iter().flat_map(|m| to_events(m, &mut roster)) {
                    let verdict = judge(&inner, &room, epoch, &event);
                    let Some(hub) = hub.upgrade() else { return };
                    match verdict {
                        Verdict::Replaced => {
                            tracing::debug!(room, "vmr events: the session was replaced; following the new one");
                            break 'read;
                        }
                        Verdict::Deliver => {
                            if !hub.deliver(Ok(event), replayed) {
                                return;
                            }
                        }
                        Verdict::End(reason) => {
                            hub.deliver(Ok(event), replayed);
                            if let Some(client) = inner.upgrade() {
                                client.session(&room).forget(Some(epoch));
                            }
                            hub.close_with(&reason);
                            return;
                        }
                    }
                }
            }
            parser.reset();
            roster.connection_lost();
        }
        let delay = parser.retry().unwrap_or_else(|| backoff(failures));
        tokio::time::sleep(delay).await;
        let (Some(client), Some(h)) = (inner.upgrade(), hub.upgrade()) else { return };
        if h.is_finished() {
            return;
        }
        let session = client.session(&room);
        let Some(token) = client.token_without_new_session(&session).await else {
            h.close_with("the session ended (ended, expired or refused); the stream does not open a new one");
            return;
        };
        match client.get_events(&room, &token.secret, parser.last_id()).await {
            Ok(resp) => {
                tracing::debug!(room, "vmr events: reconnected");
                response = Some((resp, token.epoch));
            }
            Err(e) if session::is_rejection(&e) => {
                session.forget(Some(token.epoch));
                h.close_with(&format!("the server refused the session's token on reconnect: {e}"));
                return;
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(room, error = %e, failures, "vmr events: reconnect failed");
                if failures >= MAX_RECONNECTS {
                    h.fail(e);
                    return;
                }
            }
        }
    }
}

/// Does `event`, received on a connection of session `epoch`, end the stream?
fn judge(inner: &Weak<Inner>, room: &str, epoch: u64, event: &Event) -> Verdict {
    let current = inner.upgrade().and_then(|c| c.session(room).current());
    match event.kind.as_str() {
        "disconnect" => {
            if current.as_ref().is_some_and(|t| t.epoch != epoch) {
                return Verdict::Replaced;
            }
            let reason = event.data.get("reason").and_then(Value::as_str).unwrap_or("disconnect");
            Verdict::End(format!("disconnect: {reason}"))
        }
        "participant_delete" => {
            let uuid = event.data.get("uuid").and_then(Value::as_str);
            let ours = current.filter(|t| t.epoch == epoch).and_then(|t| t.participant.clone());
            if uuid.is_some() && uuid == ours.as_deref() {
                Verdict::End("meetkit's own participant was removed".into())
            } else {
                Verdict::Deliver
            }
        }
        _ => Verdict::Deliver,
    }
}

/// 100 ms after a drop, doubling per failed attempt, at most 5 s.
fn backoff(failures: u32) -> Duration {
    Duration::from_millis((100u64 << failures.min(6)).min(5000))
}

/// The events to deliver for `message`, after the roster's resync (see [`super::resync`]):
/// each with whether it is a replayed roster entry.
fn to_events(message: SseMessage, roster: &mut Roster) -> Vec<(Event, bool)> {
    let kind = message.event.trim().to_ascii_lowercase();
    let received_at = SystemTime::now();
    roster
        .apply(&kind, payload(&message.data))
        .into_iter()
        .map(|e| (Event { vendor: Vendor::Vmr, kind: e.kind, data: e.data, received_at }, e.replayed))
        .collect()
}
