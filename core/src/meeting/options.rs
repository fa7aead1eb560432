//! The portable options of `create_room` and `schedule`.
//!
//! Every vendor takes the same option names ([`ROOM_OPTIONS`]), checked the same way, so a
//! script that passes a wrong value fails the same on every vendor. An option a vendor cannot
//! use is ignored — never an error — and said once per process with a `tracing` warning naming
//! the vendor, verb, option and why; each vendor lists those in its capability table
//! ([`ignored_options`], `meetkit capabilities`). A key that is no portable option (a typo such as
//! `nmae`) is an error naming it and the valid ones.
//!
//! Once per *process*, not per [`super::Meeting`]: scripts make a new meeting handle with each
//! `meeting(vendor)`, and a long-running program would otherwise repeat the same warning.

use std::sync::Mutex;

use serde_json::{Map, Value};

use super::{invalid, Verb};
use crate::json::text as text_of;
use crate::{Result, Vendor};

/// The options `create_room` and `schedule` take on every vendor, with what each means.
/// `start` is `schedule`'s only.
pub const ROOM_OPTIONS: &[(&str, &str)] = &[
    ("name", "the room's name or subject (required)"),
    ("id", "the room id to use, where the vendor lets the caller choose it"),
    ("start", "schedule only: when the meeting starts, in Unix seconds (required)"),
    ("minutes", "how long the meeting lasts, in minutes"),
    ("invite", "devices to call in: an address or a list of addresses"),
    ("record", "record the meeting (true/false)"),
    ("live", "stream the meeting live (true/false)"),
    ("host", "the account that hosts the meeting"),
];

/// The names of the portable options of `verb` (`start` is `schedule`'s only).
pub fn room_option_names(verb: Verb) -> Vec<&'static str> {
    ROOM_OPTIONS.iter().map(|(name, _)| *name).filter(|name| *name != "start" || verb == Verb::Schedule).collect()
}

/// The last second of the year 9999, the latest `start` a schedule accepts.
const MAX_UNIX_SECS: f64 = 253_402_300_799.0;

/// The longest meeting `minutes` may ask for: a year.
const MAX_MINUTES: f64 = 366.0 * 24.0 * 60.0;

/// The portable options after checking, without those the vendor ignores.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct RoomOptions {
    /// `name`.
    pub name: String,
    /// `id`.
    pub id: Option<String>,
    /// `start`, Unix seconds (`schedule` only, where it is required).
    pub start: Option<f64>,
    /// `minutes`, whole minutes between 1 and a year.
    pub minutes: Option<u64>,
    /// `invite`.
    pub invite: Vec<String>,
    /// `record`.
    pub record: bool,
    /// `live`.
    pub live: bool,
    /// `host`.
    pub host: Option<String>,
}

impl RoomOptions {
    /// Check `options` for `verb` the same way on every vendor, then drop (with one warning
    /// each per process) those in `ignores`, the vendor's `(option, why)` list.
    pub(super) fn parse(
        vendor: Vendor,
        verb: Verb,
        options: &Map<String, Value>,
        ignores: &[(&'static str, &'static str)],
    ) -> Result<RoomOptions> {
        let valid = room_option_names(verb);
        if let Some(key) = options.keys().find(|k| !valid.contains(&k.as_str())) {
            let reason = if key == "start" {
                "create_room makes a room usable now: book one for later with schedule, which takes `start`".into()
            } else {
                let close = crate::endpoint::closest(key, &valid, 1);
                let hint = close.first().map(|c| format!("did you mean `{c}`? ")).unwrap_or_default();
                format!("not an option of {verb}: {hint}the options are {}", valid.join(", "))
            };
            return Err(invalid(vendor, verb, key, &reason));
        }
        let given = |key: &str| options.get(key).is_some_and(|v| !v.is_null());
        let text = |key: &str| -> Result<Option<String>> {
            match options.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v @ (Value::String(_) | Value::Number(_))) => Ok(Some(text_of(v)).filter(|s| !s.is_empty())),
                Some(_) => Err(invalid(vendor, verb, key, "a string")),
            }
        };
        let mut out = RoomOptions {
            name: text("name")?.ok_or_else(|| invalid(vendor, verb, "name", "required"))?,
            id: text("id")?,
            start: None,
            minutes: minutes(vendor, verb, options)?,
            invite: strings(vendor, verb, options, "invite")?,
            record: flag(vendor, verb, options, "record")?,
            live: flag(vendor, verb, options, "live")?,
            host: text("host")?,
        };
        if verb == Verb::Schedule {
            let start = options
                .get("start")
                .and_then(Value::as_f64)
                .ok_or_else(|| invalid(vendor, verb, "start", "required: Unix seconds"))?;
            if !(0.0..=MAX_UNIX_SECS).contains(&start) {
                return Err(invalid(vendor, verb, "start", "Unix seconds between 0 and 253402300799 (9999)"));
            }
            out.start = Some(start);
        }
        for (option, why) in ignores {
            if given(option) {
                warn_ignored(vendor, verb, option, why);
                out.clear(option);
            }
        }
        Ok(out)
    }

    /// Forget `option` (set it to its default).
    fn clear(&mut self, option: &str) {
        match option {
            "id" => self.id = None,
            "start" => self.start = None,
            "minutes" => self.minutes = None,
            "invite" => self.invite.clear(),
            "record" => self.record = false,
            "live" => self.live = false,
            "host" => self.host = None,
            _ => {}
        }
    }
}

/// `options.minutes` as whole minutes, at least 1 and at most a year.
fn minutes(vendor: Vendor, verb: Verb, options: &Map<String, Value>) -> Result<Option<u64>> {
    match options.get("minutes") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|m| (1.0..=MAX_MINUTES).contains(m))
            .map(|m| Some(m.round() as u64))
            .ok_or_else(|| invalid(vendor, verb, "minutes", "a number of minutes, at least 1 and at most 527040")),
    }
}

/// `options[key]` as a list of strings: one string, or an array of strings.
fn strings(vendor: Vendor, verb: Verb, options: &Map<String, Value>, key: &str) -> Result<Vec<String>> {
    match options.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(|| invalid(vendor, verb, key, "a list of strings")))
            .collect(),
        Some(_) => Err(invalid(vendor, verb, key, "a string or a list of strings")),
    }
}

/// `options[key]` as a flag (`true`/`false`), default false.
fn flag(vendor: Vendor, verb: Verb, options: &Map<String, Value>, key: &str) -> Result<bool> {
    match options.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(invalid(vendor, verb, key, "true or false")),
    }
}

/// The (vendor, verb, option) triples already warned about in this process.
static WARNED: Mutex<Vec<(Vendor, Verb, &'static str)>> = Mutex::new(Vec::new());

/// Warn that `vendor` ignores `option` of `verb`, the first time in this process.
fn warn_ignored(vendor: Vendor, verb: Verb, option: &'static str, why: &str) {
    let mut warned = WARNED.lock().unwrap_or_else(|p| p.into_inner());
    if warned.contains(&(vendor, verb, option)) {
        return;
    }
    warned.push((vendor, verb, option));
    drop(warned);
    tracing::warn!(
        vendor = vendor.as_str(),
        verb = verb.as_str(),
        option,
        "{vendor} {verb}: option `{option}` ignored: {why} (said once per process; `meetkit capabilities {vendor}` \
         lists the options each vendor ignores)"
    );
}
