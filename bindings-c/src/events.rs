//! `meetkit_subscription`: vendor events delivered to a C callback on a meetkit thread.

use std::ffi::{c_char, c_void, CString};
use std::sync::{Arc, Mutex};
use std::thread::{JoinHandle, ThreadId};

use futures::StreamExt;
use meetkit::events::{Event, EventStream};
use meetkit::{Error, Vendor};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::boundary::{guard, guard_or, out_arg, Failure};
use crate::client::{client_of, meetkit_client, UserData};
use crate::error::meetkit_error;
use crate::handles::{self, Object};
use crate::meetkit_status;
use crate::runtime::{block_on, runtime};
use crate::strings::{arg, json_arg};

/// Receives one event as JSON text:
/// `{"vendor": "vmr", "type": "participant_create", "data": {...}, "received_at_ms": 1700000000000}`.
/// When the source ends, a last call has `"type": "meetkit.end"`; when it fails for good
/// (after its own reconnect attempts), a last call has `"type": "meetkit.error"` and
/// `"error": {"status": <meetkit_status>, "kind": "transport", "message": "..."}`.
/// `event_json` is owned by meetkit and valid only during the call (do not free it).
/// Called on a meetkit thread (one per subscription, so calls of one subscription never
/// overlap); it may call any meetkit function, including `meetkit_events_unsubscribe`.
pub type meetkit_event_callback = Option<unsafe extern "C" fn(event_json: *const c_char, userdata: *mut c_void)>;

/// A live event subscription (opaque). Created by `meetkit_events_subscribe`, owned by the
/// caller, ended and freed with `meetkit_events_unsubscribe`.
pub struct meetkit_subscription {
    _opaque: [u8; 0],
}

/// What a `meetkit_subscription` handle stands for.
pub(crate) struct SubscriptionObject {
    stop: CancellationToken,
    thread: Mutex<Option<JoinHandle<()>>>,
    thread_id: ThreadId,
}

const TYPE: &str = "meetkit_subscription";

/// Subscribes to a vendor's events (vmr's event stream, NetEase's callbacks); `params_json`
/// selects the source as the vendor documents (NULL: none). Blocking until the
/// subscription is established; `timeout_ms` limits that (0: no limit). Then `callback`
/// receives each event with `userdata` on a meetkit thread until
/// `meetkit_events_unsubscribe`.
///
/// On success `*out` receives the subscription, owned by the caller (end it with
/// `meetkit_events_unsubscribe`). Errors: `MEETKIT_CONFIG` for a vendor that sends no
/// events (`avd`, `kedacom`) or has no connection in the profile, and for `netease` in a
/// library built without the `webhook` feature (`MEETKIT_FEATURE_WEBHOOK`: NetEase's events
/// arrive as HTTP callbacks, which need its callback receiver); the vendor's own errors, and
/// the argument errors (`callback` NULL: `MEETKIT_NULL_ARGUMENT`).
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `callback` is safe to call with `userdata`
/// from another thread; `out` and `err` are NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_events_subscribe(
    client: *const meetkit_client,
    vendor: *const c_char,
    params_json: *const c_char,
    callback: meetkit_event_callback,
    userdata: *mut c_void,
    timeout_ms: u32,
    out: *mut *mut meetkit_subscription,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard(err, || {
            out_arg(out, "out")?;
            let client = client_of(client)?;
            let vendor: Vendor = arg(vendor, "vendor")?.parse()?;
            let params = json_arg(params_json, "params_json", true)?;
            let Some(callback) = callback else {
                return Err(Failure::binding(meetkit_status::MEETKIT_NULL_ARGUMENT, "argument `callback` is NULL"));
            };
            let on_timeout = move |after| Error::Timeout { vendor, endpoint: "events".into(), after };
            let stream = block_on(timeout_ms, on_timeout, async move { client.events(vendor, params).await })?;
            let object = dispatch(vendor, stream, callback, UserData(userdata))?;
            *out = handles::insert(Object::Subscription(Arc::new(object))) as *mut meetkit_subscription;
            Ok(())
        })
    }
}

/// Ends a subscription and frees it. When this returns, no callback of the subscription is
/// running and none will run again (it waits for a callback in progress to return). Called
/// from inside the subscription's own callback, it cannot wait for that call; no further
/// call is made after it returns. NULL is accepted (`MEETKIT_OK`); a freed or unknown handle
/// returns `MEETKIT_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn meetkit_events_unsubscribe(subscription: *mut meetkit_subscription) -> meetkit_status {
    guard_or(meetkit_status::MEETKIT_PANIC, || {
        if subscription.is_null() {
            return meetkit_status::MEETKIT_OK;
        }
        match handles::remove(subscription as usize, TYPE) {
            Ok(Object::Subscription(s)) => {
                s.stop_and_wait();
                meetkit_status::MEETKIT_OK
            }
            Ok(_) => unreachable!("handles::remove checks the type"),
            Err(f) => f.status(),
        }
    })
}

impl SubscriptionObject {
    fn stop_and_wait(&self) {
        self.stop.cancel();
        if std::thread::current().id() == self.thread_id {
            // Inside our own callback: the loop sees the cancellation when the callback returns.
            return;
        }
        if let Some(thread) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = thread.join();
        }
    }
}

type Callback = unsafe extern "C" fn(*const c_char, *mut c_void);

/// Starts the thread that pulls events from `stream` and hands them to `callback`.
fn dispatch(
    vendor: Vendor,
    mut stream: EventStream,
    callback: Callback,
    userdata: UserData,
) -> Result<SubscriptionObject, Failure> {
    let rt = runtime()?;
    let stop = CancellationToken::new();
    let token = stop.clone();
    let deliver = move |event: serde_json::Value| {
        let ud = userdata;
        let text = CString::new(event.to_string()).expect("JSON text has no NUL");
        // SAFETY: the caller passed a callback that accepts its userdata on this thread.
        unsafe { callback(text.as_ptr(), ud.0) }
    };
    let thread = std::thread::Builder::new()
        .name("meetkit-events".into())
        .spawn(move || {
            loop {
                let next = rt.block_on(async {
                    tokio::select! {
                        biased;
                        _ = token.cancelled() => None,
                        item = stream.next() => Some(item),
                    }
                });
                let Some(item) = next else { break };
                if token.is_cancelled() {
                    break;
                }
                let last = !matches!(item, Some(Ok(_)));
                deliver(match item {
                    Some(Ok(event)) => event_json(&event),
                    Some(Err(e)) => {
                        let failure = Failure::from(e);
                        json!({"vendor": vendor.as_str(), "type": "meetkit.error", "error": {
                            "status": failure.status() as i32,
                            "kind": match &failure { Failure::Core(e) => e.kind(), Failure::Binding { .. } => "other" },
                            "message": failure.message(),
                        }})
                    }
                    None => json!({"vendor": vendor.as_str(), "type": "meetkit.end"}),
                });
                if last {
                    break;
                }
            }
            // Dropping the stream may close connections: do it inside the runtime.
            let _enter = rt.enter();
            drop(stream);
        })
        .map_err(|e| Failure::binding(meetkit_status::MEETKIT_OTHER, format!("cannot start the events thread: {e}")))?;
    let thread_id = thread.thread().id();
    Ok(SubscriptionObject { stop, thread: Mutex::new(Some(thread)), thread_id })
}

fn event_json(event: &Event) -> serde_json::Value {
    serde_json::to_value(event).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, SystemTime};

    struct Seen {
        calls: AtomicUsize,
        last: Mutex<String>,
    }

    unsafe extern "C" fn record(event_json: *const c_char, userdata: *mut c_void) {
        // SAFETY: the pointers are this test's own, valid and NUL-terminated where strings; each is freed once.
        unsafe {
            let seen = &*(userdata as *const Seen);
            *seen.last.lock().unwrap() = std::ffi::CStr::from_ptr(event_json).to_str().unwrap().to_string();
            seen.calls.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn event(n: u64) -> meetkit::Result<Event> {
        Ok(Event {
            vendor: Vendor::Vmr,
            kind: "participant_create".into(),
            data: json!({"n": n}),
            received_at: SystemTime::now(),
        })
    }

    #[test]
    fn events_reach_the_callback_and_none_after_unsubscribe() {
        let seen = Arc::new(Seen { calls: AtomicUsize::new(0), last: Mutex::default() });
        // An endless source: one event every millisecond.
        let stream = futures::stream::unfold(0u64, |n| async move {
            tokio::time::sleep(Duration::from_millis(1)).await;
            Some((event(n), n + 1))
        })
        .boxed();
        let ud = UserData(Arc::as_ptr(&seen) as *mut c_void);
        let sub = dispatch(Vendor::Vmr, stream, record, ud).unwrap();
        while seen.calls.load(Ordering::SeqCst) < 3 {
            std::thread::sleep(Duration::from_millis(1));
        }
        sub.stop_and_wait();
        let after = seen.calls.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(seen.calls.load(Ordering::SeqCst), after, "a callback ran after unsubscribe returned");
        let last: serde_json::Value = serde_json::from_str(&seen.last.lock().unwrap()).unwrap();
        assert_eq!(last["vendor"], "vmr");
        assert_eq!(last["type"], "participant_create");
        assert!(last["data"]["n"].is_u64());
    }

    #[test]
    fn a_failing_source_ends_with_an_error_event() {
        let seen = Arc::new(Seen { calls: AtomicUsize::new(0), last: Mutex::default() });
        let failure = Error::Timeout { vendor: Vendor::Vmr, endpoint: "events".into(), after: Duration::from_secs(1) };
        let stream = futures::stream::iter(vec![event(0), Err(failure)]).boxed();
        let ud = UserData(Arc::as_ptr(&seen) as *mut c_void);
        let sub = dispatch(Vendor::Vmr, stream, record, ud).unwrap();
        sub.thread.lock().unwrap().take().unwrap().join().unwrap();
        assert_eq!(seen.calls.load(Ordering::SeqCst), 2);
        let last: serde_json::Value = serde_json::from_str(&seen.last.lock().unwrap()).unwrap();
        assert_eq!(last["type"], "meetkit.error");
        assert_eq!(last["error"]["status"], meetkit_status::MEETKIT_TIMEOUT as i32);
        assert_eq!(last["error"]["kind"], "timeout");
    }
}
