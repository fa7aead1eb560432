//! Outgoing signed callbacks (消息抄送) with the doc's resend schedule.
//!
//! Every event is POSTed to the callback URL configured when it happened
//! with headers AppKey, Nonce (16 random hex characters), CurTime (epoch
//! MILLISECONDS at signing: the receiver compares it with its own clock)
//! and CheckSum = sha1(appSecret + nonce + curTime + md5(body)). A status
//! other than 200, a connection error or a timeout (10 s) is a failure and
//! the delivery is resent after the next interval of the schedule (default
//! 2 s, 4 s, 6 s, 1 h, 1 h; each measured from the previous attempt, the
//! doc does not say) until one attempt gets 200 or the schedule is
//! exhausted.
//!
//! Timing follows the VIRTUAL clock: a resend is due when the virtual
//! clock reaches the previous attempt's virtual time plus the interval
//! times `callback_time_scale`, so `POST /_sim/clock/advance` brings the
//! 1 h resends at once (the wait is re-checked at least every 50 ms).
//!
//! Signing of resends (the doc does not say whether a resend is signed
//! anew): with `resign_resends` false (the default) every resend carries
//! the first attempt's Nonce, CurTime and CheckSum; with true each attempt
//! gets a fresh Nonce and a CurTime of its own signing moment. The first
//! attempt's CurTime is the real wall clock; a resigned resend's CurTime is
//! that plus the virtual time elapsed since the first attempt, so after a
//! clock advance it is as much later as the virtual clock says.
//!
//! A single dispatcher makes the first attempts in event order; resends
//! run in their own tasks. `reset` forgets every delivery and stops
//! pending resends.
//!
//! Attached receivers (a harness feature, not NetEase's: its console
//! takes one callback URL per app). Besides the callback URL, each
//! receiver attached with `POST /_sim/netease/receivers/attach` gets every
//! later event as a delivery of its own (own attempts and resends), until
//! it is detached; its deliveries still pending then end as `detached`.
//! Several commands sharing one background simulator each attach their
//! own receiver, so none takes another's events. Attachments survive
//! `reset`: they belong to the processes listening, not to the vendor's
//! state.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::sign::callback_checksum;
use super::state::Event;
use crate::NeteaseOptions;

/// Timeout of one delivery attempt.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// No callback URL was set when the event happened.
    Skipped,
    /// Waiting for its first attempt or a resend.
    Pending,
    /// An attempt got HTTP 200.
    Delivered,
    /// The schedule is exhausted.
    Failed,
    /// Its receiver was detached before it got through: no more attempts.
    Detached,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::Skipped => "skipped",
            Status::Pending => "pending",
            Status::Delivered => "delivered",
            Status::Failed => "failed",
            Status::Detached => "detached",
        }
    }
}

/// One POST of a delivery.
#[derive(Debug, Clone)]
struct Attempt {
    nonce: String,
    cur_time: String,
    check_sum: String,
    http_status: Option<u16>,
    error: Option<String>,
    /// Virtual time of the attempt.
    at: f64,
}

/// The first attempt's signature and when it was made.
#[derive(Debug, Clone)]
struct FirstSigning {
    nonce: String,
    cur_time_ms: u128,
    check_sum: String,
    /// Virtual time of the first attempt.
    at: f64,
}

#[derive(Debug, Clone)]
struct Delivery {
    id: u64,
    msg_type: u8,
    body: String,
    url: Option<String>,
    /// Virtual time of the event.
    event_at: f64,
    status: Status,
    attempts: Vec<Attempt>,
    first: Option<FirstSigning>,
}

#[derive(Debug, Default)]
struct Inner {
    url: Option<String>,
    /// Attached receivers, in attach order, each once.
    receivers: Vec<String>,
    deliveries: Vec<Delivery>,
    next_id: u64,
    /// Bumped by reset; resends of an older generation stop.
    generation: u64,
}

/// The callback log and sender.
pub(crate) struct Callbacks {
    opts: NeteaseOptions,
    inner: Mutex<Inner>,
    tx: mpsc::UnboundedSender<(u64, u64)>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<(u64, u64)>>>,
    http: reqwest::Client,
}

fn real_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default()
}

impl Callbacks {
    /// A log with the configured default URL.
    pub(crate) fn new(opts: NeteaseOptions) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let http = reqwest::Client::builder().timeout(ATTEMPT_TIMEOUT).build().expect("http client");
        let inner = Inner { url: opts.callback_url.clone(), ..Default::default() };
        Callbacks { opts, inner: Mutex::new(inner), tx, rx: Mutex::new(Some(rx)), http }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replace (or clear) the target URL for later events.
    pub(crate) fn set_url(&self, url: Option<String>) {
        self.lock().url = url;
    }

    /// Attach a receiver (a second attach of the same URL changes nothing); the receivers.
    pub(crate) fn attach(&self, url: String) -> Vec<String> {
        let mut inner = self.lock();
        if !inner.receivers.contains(&url) {
            inner.receivers.push(url);
        }
        inner.receivers.clone()
    }

    /// Detach a receiver: whether it was attached, and the receivers left. Its deliveries
    /// still pending are marked `detached` and get no further attempt.
    pub(crate) fn detach(&self, url: &str) -> (bool, Vec<String>) {
        let mut inner = self.lock();
        let before = inner.receivers.len();
        inner.receivers.retain(|r| r != url);
        let detached = inner.receivers.len() != before;
        if detached {
            for d in
                inner.deliveries.iter_mut().filter(|d| d.status == Status::Pending && d.url.as_deref() == Some(url))
            {
                d.status = Status::Detached;
            }
        }
        (detached, inner.receivers.clone())
    }

    /// Forget every delivery, stop resends, restore the default URL (attached receivers stay).
    pub(crate) fn reset(&self) {
        let mut inner = self.lock();
        inner.deliveries.clear();
        inner.generation += 1;
        inner.url = self.opts.callback_url.clone();
    }

    /// Log events (in order) and queue them for delivery.
    pub(crate) fn enqueue(&self, events: Vec<Event>) {
        let mut inner = self.lock();
        for event in events {
            let body = event.to_json();
            // The callback URL's delivery (skipped without one), then one per attached receiver.
            let targets: Vec<Option<String>> =
                std::iter::once(inner.url.clone()).chain(inner.receivers.iter().cloned().map(Some)).collect();
            for url in targets {
                inner.next_id += 1;
                let id = inner.next_id;
                let status = if url.is_some() { Status::Pending } else { Status::Skipped };
                inner.deliveries.push(Delivery {
                    id,
                    msg_type: event.msg_type,
                    body: body.clone(),
                    url,
                    event_at: event.at,
                    status,
                    attempts: Vec::new(),
                    first: None,
                });
                if status == Status::Pending {
                    let _ = self.tx.send((id, inner.generation));
                }
            }
        }
    }

    /// `GET /_sim/netease/callbacks`.
    pub(crate) fn list(&self) -> Value {
        let inner = self.lock();
        let deliveries: Vec<Value> = inner
            .deliveries
            .iter()
            .map(|d| {
                let attempts: Vec<Value> = d
                    .attempts
                    .iter()
                    .map(|a| {
                        json!({"nonce": a.nonce, "curTime": a.cur_time, "checkSum": a.check_sum,
                               "httpStatus": a.http_status, "error": a.error, "at": a.at})
                    })
                    .collect();
                json!({
                    "id": d.id, "msgType": d.msg_type, "url": d.url, "status": d.status.name(),
                    "eventAt": d.event_at,
                    "body": serde_json::from_str::<Value>(&d.body).unwrap_or(Value::Null),
                    "attempts": attempts,
                })
            })
            .collect();
        json!({"callbackUrl": inner.url, "receivers": inner.receivers, "deliveries": deliveries})
    }

    /// One signed POST; true on HTTP 200. `None` when the delivery is gone
    /// (reset).
    async fn attempt(&self, id: u64, generation: u64, virtual_now: f64) -> Option<bool> {
        let (url, body, first) = {
            let inner = self.lock();
            if inner.generation != generation {
                return None;
            }
            let d = inner.deliveries.iter().find(|d| d.id == id && d.status == Status::Pending)?;
            (d.url.clone()?, d.body.clone(), d.first.clone())
        };
        let (nonce, cur_time, check_sum) = match &first {
            Some(f) if !self.opts.resign_resends => (f.nonce.clone(), f.cur_time_ms.to_string(), f.check_sum.clone()),
            _ => {
                let nonce = hex::encode(rand::rng().random::<[u8; 8]>());
                let cur_time_ms = match &first {
                    Some(f) => f.cur_time_ms + ((virtual_now - f.at).max(0.0) * 1000.0).round() as u128,
                    None => real_ms(),
                };
                let cur_time = cur_time_ms.to_string();
                let check_sum = callback_checksum(&self.opts.app_secret, &nonce, &cur_time, body.as_bytes());
                (nonce, cur_time, check_sum)
            }
        };
        let result = self
            .http
            .post(&url)
            .header("Content-Type", "application/json;charset=utf-8")
            .header("AppKey", &self.opts.app_key)
            .header("Nonce", &nonce)
            .header("CurTime", &cur_time)
            .header("CheckSum", &check_sum)
            .body(body)
            .send()
            .await;
        let (http_status, error) = match result {
            Ok(resp) => (Some(resp.status().as_u16()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let ok = http_status == Some(200);
        let mut inner = self.lock();
        if inner.generation != generation {
            return None;
        }
        let d = inner.deliveries.iter_mut().find(|d| d.id == id)?;
        if d.first.is_none() {
            let cur_time_ms = cur_time.parse().unwrap_or_default();
            d.first =
                Some(FirstSigning { nonce: nonce.clone(), cur_time_ms, check_sum: check_sum.clone(), at: virtual_now });
        }
        d.attempts.push(Attempt { nonce, cur_time, check_sum, http_status, error, at: virtual_now });
        if ok {
            d.status = Status::Delivered;
        } else if d.attempts.len() > self.opts.callback_schedule.len() {
            d.status = Status::Failed;
        }
        Some(ok)
    }
}

/// Scaled (virtual-time) wait before resend `i`.
fn resend_delay(opts: &NeteaseOptions, i: usize) -> Duration {
    let scale = if opts.callback_time_scale.is_finite() && opts.callback_time_scale >= 0.0 {
        opts.callback_time_scale
    } else {
        1.0
    };
    opts.callback_schedule[i].mul_f64(scale)
}

/// Longest real-time sleep between two looks at the virtual clock.
const CLOCK_POLL: Duration = Duration::from_millis(50);

/// Wait until the virtual clock reaches `due` (seconds); false when stopped.
async fn wait_virtual(
    due: f64,
    virtual_now: &(dyn Fn() -> f64 + Send + Sync),
    stop: &mut watch::Receiver<bool>,
) -> bool {
    loop {
        let remaining = due - virtual_now();
        if remaining <= 0.0 {
            return true;
        }
        let nap = Duration::from_secs_f64(remaining).min(CLOCK_POLL);
        tokio::select! {
            _ = tokio::time::sleep(nap) => {}
            _ = stop.wait_for(|s| *s) => return false,
        }
    }
}

/// Start the dispatcher; it and the resend tasks stop with `stop`.
/// `virtual_now` reads the simulator's virtual clock.
pub(crate) fn spawn(
    callbacks: Arc<Callbacks>,
    virtual_now: Arc<dyn Fn() -> f64 + Send + Sync>,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let mut rx = callbacks.rx.lock().unwrap_or_else(|e| e.into_inner()).take().expect("dispatcher started once");
    tokio::spawn(async move {
        loop {
            let (id, generation) = tokio::select! {
                next = rx.recv() => match next { Some(job) => job, None => break },
                _ = stop.wait_for(|s| *s) => break,
            };
            let mut last = virtual_now();
            if callbacks.attempt(id, generation, last).await != Some(false) {
                continue;
            }
            let (callbacks, virtual_now, mut stop) = (callbacks.clone(), virtual_now.clone(), stop.clone());
            tokio::spawn(async move {
                for i in 0..callbacks.opts.callback_schedule.len() {
                    let due = last + resend_delay(&callbacks.opts, i).as_secs_f64();
                    if !wait_virtual(due, virtual_now.as_ref(), &mut stop).await {
                        return;
                    }
                    last = virtual_now();
                    if callbacks.attempt(id, generation, last).await != Some(false) {
                        return;
                    }
                }
            });
        }
    })
}
