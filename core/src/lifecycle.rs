//! What a call starts, and how to stop it again.
//!
//! Each vendor has one table ([`rows`]) saying, for every endpoint that creates or starts
//! something that keeps running (a room, a recording, a live stream, a device call, a
//! meeting), which endpoint stops it and with which parameters, taken from the starting
//! call's parameters or its result. The run journal ([`crate::journal`]) uses it to record
//! what a run left running, and `meetkit runs cleanup` to stop it.

use serde_json::{Map, Value};

use crate::Vendor;

/// What kind of thing a call started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceKind {
    /// A room (AVD room, Kedacom virtual meeting room): ended only with `--end-rooms`.
    Room,
    /// A meeting or conference (NetEase meeting, Kedacom conference): ended only with `--end-rooms`.
    Meeting,
    /// A recording.
    Recording,
    /// A live stream.
    Live,
    /// A device or participant called into a meeting.
    DeviceCall,
    /// A media player or composited-video mode running in a room.
    Media,
    /// A host session held by meetkit (vmr).
    Session,
}

impl ResourceKind {
    /// The name used in the journal and the CLI: `room`, `meeting`, `recording`, `live`,
    /// `device_call`, `media`, `session`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Room => "room",
            ResourceKind::Meeting => "meeting",
            ResourceKind::Recording => "recording",
            ResourceKind::Live => "live",
            ResourceKind::DeviceCall => "device_call",
            ResourceKind::Media => "media",
            ResourceKind::Session => "session",
        }
    }

    /// Rooms and meetings are ended only when asked (`--end-rooms`): people may still use them.
    pub fn is_room(self) -> bool {
        matches!(self, ResourceKind::Room | ResourceKind::Meeting)
    }

    /// The kind named `name` ([`ResourceKind::as_str`]).
    pub fn named(name: &str) -> Option<ResourceKind> {
        [
            ResourceKind::Room,
            ResourceKind::Meeting,
            ResourceKind::Recording,
            ResourceKind::Live,
            ResourceKind::DeviceCall,
            ResourceKind::Media,
            ResourceKind::Session,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }
}

/// Where a parameter of the stopping call comes from.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    /// The starting call's parameter of this name.
    Param(&'static str),
    /// The starting call's result, at this JSON pointer (`/record_id`, `/0`).
    Result(&'static str),
    /// The parameter if the call had it, else the result at the pointer.
    ParamOrResult(&'static str, &'static str),
}

/// One row: `start` starts a `kind`; `stop` with `stop_params` stops it.
#[derive(Debug)]
pub struct Lifecycle {
    /// What it is.
    pub kind: ResourceKind,
    /// The endpoint id that creates or starts it.
    pub start: &'static str,
    /// The endpoint id that stops or ends it.
    pub stop: &'static str,
    /// The stopping call's parameters and where each comes from. A parameter whose source
    /// has no value is left out (the vendor's default applies, e.g. vmr's own room).
    pub stop_params: &'static [(&'static str, Source)],
    /// Vendor codes with which `stop` says the thing is already stopped or gone.
    pub gone_codes: &'static [&'static str],
    /// Other endpoints that also end it when called with the same parameters (deleting a
    /// room ends it as well as closing it).
    pub also_stopped_by: &'static [&'static str],
}

impl Lifecycle {
    /// The stopping call's parameters for a start call with `params` that returned `result`.
    pub fn stop_call(&self, params: &Map<String, Value>, result: &Value) -> Map<String, Value> {
        let mut out = Map::new();
        for (name, source) in self.stop_params {
            let value = match source {
                Source::Param(p) => params.get(*p).cloned(),
                Source::Result(ptr) => result.pointer(ptr).cloned(),
                Source::ParamOrResult(p, ptr) => params.get(*p).cloned().or_else(|| result.pointer(ptr).cloned()),
            };
            if let Some(v) = value.filter(|v| !v.is_null()) {
                out.insert(name.to_string(), v);
            }
        }
        out
    }
}

/// The lifecycle table of `vendor`.
pub fn rows(vendor: Vendor) -> &'static [Lifecycle] {
    match vendor {
        Vendor::Avd => crate::vendors::avd::lifecycle::LIFECYCLE,
        Vendor::Kedacom => crate::vendors::kedacom::lifecycle::LIFECYCLE,
        Vendor::Vmr => crate::vendors::vmr::lifecycle::LIFECYCLE,
        Vendor::Netease => crate::vendors::netease::lifecycle::LIFECYCLE,
    }
}

/// The row whose `start` is `endpoint`, if the endpoint starts something.
pub fn started_by(vendor: Vendor, endpoint: &str) -> Option<&'static Lifecycle> {
    rows(vendor).iter().find(|r| r.start == endpoint)
}

/// The rows that `endpoint` stops (as their `stop` or one of their `also_stopped_by`).
pub fn stopped_by(vendor: Vendor, endpoint: &str) -> impl Iterator<Item = &'static Lifecycle> + '_ {
    rows(vendor).iter().filter(move |r| r.stop == endpoint || r.also_stopped_by.contains(&endpoint))
}

/// Whether `error`, answered by `endpoint`, says that what the endpoint stops is already
/// stopped or gone (one of the rows' `gone_codes`).
pub fn says_gone(vendor: Vendor, endpoint: &str, error: &crate::Error) -> bool {
    error.vendor_code().is_some_and(|code| code_says_gone(vendor, endpoint, &code))
}

/// [`says_gone`] for a vendor code alone (what a journal or another process kept of an error).
pub fn code_says_gone(vendor: Vendor, endpoint: &str, code: &str) -> bool {
    stopped_by(vendor, endpoint).any(|r| r.gone_codes.contains(&code))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row names real endpoints, and every stop parameter is a parameter of `stop`.
    #[test]
    fn rows_name_real_endpoints_and_parameters() {
        for vendor in Vendor::ALL {
            for row in rows(vendor) {
                let start = crate::Client::spec(vendor, row.start).unwrap_or_else(|e| panic!("{e}"));
                let stop = crate::Client::spec(vendor, row.stop).unwrap_or_else(|e| panic!("{e}"));
                for other in row.also_stopped_by {
                    let also = crate::Client::spec(vendor, other).unwrap_or_else(|e| panic!("{e}"));
                    for (name, _) in row.stop_params {
                        assert!(also.params.iter().any(|p| p.name == *name), "{vendor} {other}: no parameter {name}");
                    }
                }
                assert!(
                    !start.idempotent || row.kind == ResourceKind::Session,
                    "{vendor} {}: a start is not idempotent",
                    row.start
                );
                for (name, source) in row.stop_params {
                    assert!(stop.params.iter().any(|p| p.name == *name), "{vendor} {}: no parameter {name}", row.stop);
                    if let Source::Param(p) | Source::ParamOrResult(p, _) = source {
                        assert!(start.params.iter().any(|x| x.name == *p), "{vendor} {}: no parameter {p}", row.start);
                    }
                }
            }
        }
    }

    #[test]
    fn stop_call_takes_params_then_result() {
        let row = started_by(Vendor::Avd, "room.mix_record.start").unwrap();
        let params = serde_json::json!({"room_id": "r1"});
        let stop = row.stop_call(params.as_object().unwrap(), &serde_json::json!({"record_id": "x"}));
        assert_eq!(Value::Object(stop), serde_json::json!({"room_id": "r1"}));
        let row = started_by(Vendor::Vmr, "conference.dial").unwrap();
        let stop = row.stop_call(&Map::new(), &serde_json::json!(["uuid-1"]));
        assert_eq!(Value::Object(stop), serde_json::json!({"uuid": "uuid-1"}));
    }
}
