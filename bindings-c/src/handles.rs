//! The registry of live handles.
//!
//! A handle given to C (`meetkit_client *`, `meetkit_sim *`, `meetkit_subscription *`,
//! `meetkit_meeting *`, `meetkit_cancel_token *`, `meetkit_error *`) is not the address of anything: it is a number from a counter that
//! never repeats, shaped like an aligned pointer, and the registry maps it to the object.
//! A freed handle is gone from the registry for good, so a double free, a use after free,
//! a made-up pointer or a handle of the wrong type is reported as
//! `MEETKIT_INVALID_HANDLE` instead of touching freed memory. Lookups clone an `Arc` and
//! release the lock at once, so calls on one handle run in parallel, and a handle freed
//! while a call on it is in flight stays alive until that call returns.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use crate::boundary::Failure;
use crate::meetkit_status;

/// The first handle value, and the step between handles (16 keeps them pointer-aligned).
const FIRST: usize = 0x10_0000;
const STEP: usize = 16;

/// An object reachable from C.
#[derive(Clone)]
pub(crate) enum Object {
    Client(Arc<crate::client::ClientObject>),
    #[cfg(feature = "sim")]
    Sim(Arc<crate::sim::SimObject>),
    Subscription(Arc<crate::events::SubscriptionObject>),
    Meeting(Arc<crate::meeting::MeetingObject>),
    #[cfg(feature = "script")]
    CancelToken(Arc<crate::cancel::CancelObject>),
    Error(Arc<Failure>),
}

impl Object {
    fn type_name(&self) -> &'static str {
        match self {
            Object::Client(_) => "meetkit_client",
            #[cfg(feature = "sim")]
            Object::Sim(_) => "meetkit_sim",
            Object::Subscription(_) => "meetkit_subscription",
            Object::Meeting(_) => "meetkit_meeting",
            #[cfg(feature = "script")]
            Object::CancelToken(_) => "meetkit_cancel_token",
            Object::Error(_) => "meetkit_error",
        }
    }
}

struct Registry {
    next: usize,
    live: HashMap<usize, Object>,
}

static REGISTRY: LazyLock<Mutex<Registry>> =
    LazyLock::new(|| Mutex::new(Registry { next: FIRST, live: HashMap::new() }));

fn registry() -> MutexGuard<'static, Registry> {
    // A panic while the lock is held cannot leave the map half-updated (single inserts and
    // removes), so a poisoned lock is still consistent.
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// Registers `object` and returns its handle value.
pub(crate) fn insert(object: Object) -> usize {
    let mut r = registry();
    let id = r.next;
    r.next += STEP;
    r.live.insert(id, object);
    id
}

/// The live object behind `handle` (cloned), or the error saying why there is none.
pub(crate) fn get(handle: usize, expected: &'static str) -> Result<Object, Failure> {
    if handle == 0 {
        return Err(Failure::binding(meetkit_status::MEETKIT_NULL_ARGUMENT, format!("the {expected} handle is NULL")));
    }
    match registry().live.get(&handle) {
        Some(o) if o.type_name() == expected => Ok(o.clone()),
        Some(o) => Err(invalid(expected, &format!("it is a {}", o.type_name()))),
        None => Err(invalid(expected, "it was freed already, or was never returned by meetkit")),
    }
}

/// Unregisters `handle` and returns its object; the handle is invalid from now on.
pub(crate) fn remove(handle: usize, expected: &'static str) -> Result<Object, Failure> {
    let mut r = registry();
    match r.live.get(&handle) {
        Some(o) if o.type_name() == expected => Ok(r.live.remove(&handle).expect("present")),
        Some(o) => Err(invalid(expected, &format!("it is a {}", o.type_name()))),
        None => Err(invalid(expected, "it was freed already, or was never returned by meetkit")),
    }
}

/// How many handles are live.
pub(crate) fn live_count() -> usize {
    registry().live.len()
}

fn invalid(expected: &str, why: &str) -> Failure {
    Failure::binding(meetkit_status::MEETKIT_INVALID_HANDLE, format!("invalid {expected} handle: {why}"))
}
