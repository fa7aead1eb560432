//! Vendor events (vmr's server-sent event stream, NetEase's callbacks) in one shape.

use std::time::SystemTime;

use futures::stream::BoxStream;
use serde_json::Value;

use crate::{Result, Vendor};

/// One event from a vendor.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Who sent it.
    pub vendor: Vendor,
    /// The vendor's event type, e.g. `participant_create` (vmr) or `meeting.start` (NetEase).
    pub kind: String,
    /// The event's payload as the vendor sent it.
    pub data: Value,
    /// When meetkit received it.
    pub received_at: SystemTime,
}

/// A stream of events; it ends when the source is closed, and yields an error when the
/// source fails for good (after its own reconnect attempts).
pub type EventStream = BoxStream<'static, Result<Event>>;
