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

impl Event {
    /// When meetkit received it, in milliseconds since the Unix epoch.
    pub fn received_at_ms(&self) -> u64 {
        self.received_at.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or_default()
    }
}

/// An event as every surface shows it — `meetkit webhook`'s JSON lines, a script's
/// `wait_event` map, C's event callback, Python's `Event.to_dict()`:
/// `{"vendor": "vmr", "type": "participant_create", "data": {...}, "received_at_ms": 1700000000000}`.
impl serde::Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Event", 4)?;
        s.serialize_field("vendor", self.vendor.as_str())?;
        s.serialize_field("type", &self.kind)?;
        s.serialize_field("data", &self.data)?;
        s.serialize_field("received_at_ms", &self.received_at_ms())?;
        s.end()
    }
}

/// A stream of events; it ends when the source is closed, and yields an error when the
/// source fails for good (after its own reconnect attempts).
pub type EventStream = BoxStream<'static, Result<Event>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_serialises_with_type_and_milliseconds() {
        let event = Event {
            vendor: Vendor::Vmr,
            kind: "participant_create".into(),
            data: serde_json::json!({"uuid": "u1"}),
            received_at: SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123),
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({"vendor": "vmr", "type": "participant_create", "data": {"uuid": "u1"},
                               "received_at_ms": 1_700_000_000_123u64})
        );
    }
}
