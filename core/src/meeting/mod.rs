//! One meeting API across the vendors: the same verbs on AVD, Kedacom, vmr and NetEase.
//!
//! [`Meeting`] maps each [`Verb`] to the vendor's endpoints (see [`capabilities`]); a verb
//! a vendor cannot do fails *before any call* with [`Error::Unsupported`] naming the
//! nearest vendor-specific endpoint — never a silent no-op. Results are vendor-neutral
//! ([`Room`], [`Participant`], [`Recording`]) and keep the vendor's raw JSON. Room ids are
//! handles (`avd:weekly`, ...) that round-trip: a handle printed by one run can be used by
//! the next.
//!
//! Each vendor's mapping lives in its own file (`avd.rs`, `kedacom.rs`, `vmr.rs`,
//! `netease.rs`): its capability table and the code of every verb it supports.

use crate::json::text as text_of;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::download::{DownloadOptions, Downloaded};
use crate::{Client, Error, Result, Vendor};

mod avd;
mod kedacom;
mod netease;
mod vmr;

/// The verbs of the unified API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::EnumCount)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    /// Create a room that can be used now.
    CreateRoom,
    /// Book a meeting for later.
    Schedule,
    /// Start a created or booked meeting.
    Start,
    /// Call a device (SIP/H.323 address) into the meeting.
    Invite,
    /// List who is in the meeting.
    Participants,
    /// Mute a participant's audio.
    Mute,
    /// Unmute a participant's audio.
    Unmute,
    /// Start recording the meeting.
    StartRecording,
    /// Stop recording.
    StopRecording,
    /// List the meeting's recordings.
    Recordings,
    /// Download every recording into a directory.
    DownloadRecordings,
    /// Start a live stream to a push URL.
    StartLive,
    /// Stop the live stream.
    StopLive,
    /// End the meeting.
    End,
}

impl Verb {
    /// Every verb, in documentation order.
    pub const ALL: [Verb; 14] = [
        Verb::CreateRoom,
        Verb::Schedule,
        Verb::Start,
        Verb::Invite,
        Verb::Participants,
        Verb::Mute,
        Verb::Unmute,
        Verb::StartRecording,
        Verb::StopRecording,
        Verb::Recordings,
        Verb::DownloadRecordings,
        Verb::StartLive,
        Verb::StopLive,
        Verb::End,
    ];

    /// The verb's name in scripts and bindings (`create_room`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::CreateRoom => "create_room",
            Verb::Schedule => "schedule",
            Verb::Start => "start",
            Verb::Invite => "invite",
            Verb::Participants => "participants",
            Verb::Mute => "mute",
            Verb::Unmute => "unmute",
            Verb::StartRecording => "start_recording",
            Verb::StopRecording => "stop_recording",
            Verb::Recordings => "recordings",
            Verb::DownloadRecordings => "download_recordings",
            Verb::StartLive => "start_live",
            Verb::StopLive => "stop_live",
            Verb::End => "end",
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Verb {
    type Err = Error;
    /// A verb by its script name (`start_recording`); an unknown name lists the valid ones.
    fn from_str(s: &str) -> Result<Verb> {
        Verb::ALL.into_iter().find(|v| v.as_str() == s.trim()).ok_or_else(|| {
            let names: Vec<&str> = Verb::ALL.iter().map(|v| v.as_str()).collect();
            Error::config(format!("unknown meeting verb `{s}`: expected one of {}", names.join(", ")))
        })
    }
}

/// How a vendor does a verb.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    /// Supported, by these endpoints; `note` says what differs from the other vendors.
    Supported {
        /// Endpoint ids the verb calls, in order.
        endpoints: &'static [&'static str],
        /// What differs on this vendor (empty when nothing).
        note: &'static str,
    },
    /// Not possible on this vendor; `hint` names the nearest vendor-specific endpoint.
    Unsupported {
        /// What to do instead.
        hint: &'static str,
    },
}

impl Capability {
    /// True for [`Capability::Supported`].
    pub fn is_supported(&self) -> bool {
        matches!(self, Capability::Supported { .. })
    }
}

/// The capability of `vendor` for `verb`.
pub fn capability(vendor: Vendor, verb: Verb) -> Capability {
    capabilities(vendor).iter().find(|(v, _)| *v == verb).map(|(_, c)| *c).unwrap_or(Capability::Unsupported {
        hint: "this verb is missing from the vendor's capability table; use the vendor's endpoints directly",
    })
}

/// The capability table of one vendor, one row per verb.
pub fn capabilities(vendor: Vendor) -> &'static [(Verb, Capability)] {
    match vendor {
        Vendor::Avd => avd::TABLE,
        Vendor::Kedacom => kedacom::TABLE,
        Vendor::Vmr => vmr::TABLE,
        Vendor::Netease => netease::TABLE,
    }
}

/// Characters escaped in a handle's parts: `%` and `:` (the separator), plus controls.
const HANDLE_PART: &AsciiSet = &CONTROLS.add(b'%').add(b':');

/// How many id parts a vendor's handle carries after `<vendor>:`.
fn handle_parts(vendor: Vendor) -> (usize, &'static str) {
    match vendor {
        Vendor::Avd => (1, "avd:<room_id>"),
        Vendor::Kedacom => (2, "kedacom:<conf_id>:<meeting_id>"),
        Vendor::Vmr => (2, "vmr:<conferenceKey>:<room>"),
        Vendor::Netease => (2, "netease:<meetingUniqueId>:<meetingId>"),
    }
}

/// A meeting room, by handle.
///
/// The handle is `<vendor>:<id>[:<secondary_id>]`, each part with `%` and `:` percent-encoded
/// (`%25`, `%3A`) so any vendor id round-trips through [`Room::from_handle`]:
///
/// | vendor | handle | `id` is used by | `secondary_id` is used by |
/// |---|---|---|---|
/// | avd | `avd:<room_id>` | every verb | — |
/// | kedacom | `kedacom:<conf_id>:<meeting_id>` | `start`, `end` (`confs.*`) | `participants` (`meetings.get`) |
/// | vmr | `vmr:<conferenceKey>:<room>` | `record.*` (the room's short number) | room calls (`/api/services/{room}`) |
/// | netease | `netease:<meetingUniqueId>:<meetingId>` | every verb | the number people dial (informational) |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Room {
    /// The vendor-neutral handle (see the table above); round-trips through [`Room::from_handle`].
    pub handle: String,
    /// The vendor.
    pub vendor: Vendor,
    /// The vendor's own id of the room or meeting (the handle's first part).
    pub id: String,
    /// The second id some vendors need (the handle's second part), see the table above.
    #[serde(default)]
    pub secondary_id: Option<String>,
    /// The name given at creation, when known.
    pub name: Option<String>,
    /// The vendor's raw answer that produced this room (`null` for a parsed handle).
    pub raw: Value,
}

impl Room {
    fn new(vendor: Vendor, id: String, secondary_id: Option<String>, name: Option<String>, raw: Value) -> Room {
        let mut handle = format!("{vendor}:{}", utf8_percent_encode(&id, HANDLE_PART));
        if let Some(s) = &secondary_id {
            handle.push(':');
            handle.extend(utf8_percent_encode(s, HANDLE_PART));
        }
        Room { handle, vendor, id, secondary_id, name, raw }
    }

    /// Parse a handle printed by an earlier run (`avd:weekly`, `kedacom:123%23456:m-1`).
    pub fn from_handle(handle: &str) -> Result<Room> {
        let bad = |why: String| Error::config(format!("`{handle}` is not a room handle: {why}"));
        let (vendor, rest) = handle.split_once(':').ok_or_else(|| bad("expected <vendor>:<id>".into()))?;
        let vendor: Vendor = vendor.parse()?;
        let (count, format) = handle_parts(vendor);
        let parts: Vec<String> =
            rest.split(':').map(|p| percent_decode_str(p).decode_utf8_lossy().into_owned()).collect();
        if parts.len() != count || parts.iter().any(String::is_empty) {
            return Err(bad(format!("{vendor} handles look like {format}")));
        }
        let mut parts = parts.into_iter();
        let id = parts.next().unwrap_or_default();
        Ok(Room::new(vendor, id, parts.next(), None, Value::Null))
    }

    /// The second id, which this vendor's handles always carry (see [`Room`]).
    fn secondary(&self) -> Result<&str> {
        self.secondary_id.as_deref().filter(|s| !s.is_empty()).ok_or_else(|| {
            Error::config(format!(
                "room {} has no second id; {} handles look like {}",
                self.handle,
                self.vendor,
                handle_parts(self.vendor).1
            ))
        })
    }
}

/// Someone (or some device) in a meeting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    /// The vendor's participant id (what mute/unmute take).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Audio muted, when the vendor says.
    pub muted: Option<bool>,
    /// The vendor's raw JSON.
    pub raw: Value,
}

/// One recording file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// Where to download it.
    pub url: String,
    /// File name.
    pub file_name: String,
    /// Exact size in bytes, when the vendor gives it.
    pub size: Option<u64>,
    /// MD5 (hex), when the vendor gives it.
    pub md5: Option<String>,
    /// The vendor's raw JSON.
    pub raw: Value,
}

impl Recording {
    /// A recording at `url`, named by `name` or else by the URL.
    fn at(url: &str, name: Option<&str>, raw: &Value) -> Recording {
        let file_name = name
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .or_else(|| crate::download::file_name_from_url(url))
            .unwrap_or_else(|| "recording".into());
        Recording { url: url.to_string(), file_name, size: None, md5: None, raw: raw.clone() }
    }
}

/// The unified meeting API on one vendor of a client.
#[derive(Clone, Debug)]
pub struct Meeting {
    client: Client,
    vendor: Vendor,
    /// Recording ids started through this value, per room handle (vmr lists files by them).
    record_ids: Arc<Mutex<HashMap<String, Vec<String>>>>,
}

impl Meeting {
    /// The unified API for `vendor`; fails if the client has no connection for it.
    pub fn new(client: &Client, vendor: Vendor) -> Result<Meeting> {
        client.require(vendor)?;
        Ok(Meeting { client: client.clone(), vendor, record_ids: Arc::default() })
    }

    /// The vendor.
    pub fn vendor(&self) -> Vendor {
        self.vendor
    }

    /// True when this vendor can do `verb`.
    pub fn can(&self, verb: Verb) -> bool {
        capability(self.vendor, verb).is_supported()
    }

    /// `Err(Unsupported)` before any call when the vendor cannot do `verb`.
    fn check(&self, verb: Verb) -> Result<()> {
        match capability(self.vendor, verb) {
            Capability::Supported { .. } => Ok(()),
            Capability::Unsupported { .. } => Err(self.refuse(verb)),
        }
    }

    /// The [`Error::Unsupported`] of `verb` on this vendor.
    fn refuse(&self, verb: Verb) -> Error {
        let hint = match capability(self.vendor, verb) {
            Capability::Unsupported { hint } => hint,
            Capability::Supported { .. } => "the capability table and the mapping disagree; please report this",
        };
        Error::Unsupported { vendor: self.vendor, verb: verb.as_str(), hint: hint.to_string() }
    }

    /// Check the verb, then that `room` is this vendor's.
    fn check_room(&self, verb: Verb, room: &Room) -> Result<()> {
        self.check(verb)?;
        if room.vendor != self.vendor {
            return Err(Error::config(format!(
                "room {} belongs to {}, not {}: use meeting(\"{}\")",
                room.handle, room.vendor, self.vendor, room.vendor
            )));
        }
        Ok(())
    }

    /// Options a vendor does not use are refused rather than ignored.
    fn known_options(&self, verb: Verb, options: &Map<String, Value>) -> Result<()> {
        let known: &[&str] = match (self.vendor, verb) {
            (Vendor::Avd, _) => &["name", "id"],
            (Vendor::Kedacom, Verb::Schedule) => &["name", "start", "minutes", "invite", "record", "live"],
            (Vendor::Kedacom, _) => &["name", "minutes", "invite", "record", "live"],
            (Vendor::Vmr, _) => &["name"],
            (Vendor::Netease, Verb::Schedule) => &["name", "start", "minutes", "host"],
            (Vendor::Netease, _) => &["name", "minutes", "host"],
        };
        match options.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(invalid(
                self.vendor,
                verb,
                k,
                &format!("not an option of {} {verb}; it takes {}", self.vendor, known.join(", ")),
            )),
            None => Ok(()),
        }
    }

    async fn call(&self, id: &str, params: Value) -> Result<Value> {
        self.client.call(self.vendor, id, params).await
    }

    fn remember_recording(&self, room: &Room, record_id: String) {
        let mut ids = self.record_ids.lock().unwrap_or_else(|p| p.into_inner());
        ids.entry(room.handle.clone()).or_default().push(record_id);
    }

    fn recordings_started(&self, room: &Room) -> Vec<String> {
        let ids = self.record_ids.lock().unwrap_or_else(|p| p.into_inner());
        ids.get(&room.handle).cloned().unwrap_or_default()
    }

    /// Create a room usable now. `options`: `name` (required) and, per vendor, `id` (avd room
    /// id), `minutes` (kedacom, netease), `invite` / `record` / `live` (kedacom: devices to call
    /// and recording or live streaming, fixed at creation), `host` (netease accountId).
    pub async fn create_room(&self, options: &Map<String, Value>) -> Result<Room> {
        self.check(Verb::CreateRoom)?;
        self.known_options(Verb::CreateRoom, options)?;
        let name = text(options, "name").ok_or_else(|| invalid(self.vendor, Verb::CreateRoom, "name", "required"))?;
        match self.vendor {
            Vendor::Avd => avd::create_room(self, name, options).await,
            Vendor::Kedacom => kedacom::create_room(self, name, options).await,
            Vendor::Vmr => vmr::create_room(self, name).await,
            Vendor::Netease => netease::create_room(self, name, options).await,
        }
    }

    /// Book a meeting for later. `options`: `name`, `start` (Unix seconds), `minutes`, and the
    /// vendor's `create_room` options.
    pub async fn schedule(&self, options: &Map<String, Value>) -> Result<Room> {
        self.check(Verb::Schedule)?;
        self.known_options(Verb::Schedule, options)?;
        let name = text(options, "name").ok_or_else(|| invalid(self.vendor, Verb::Schedule, "name", "required"))?;
        let start = options
            .get("start")
            .and_then(Value::as_f64)
            .ok_or_else(|| invalid(self.vendor, Verb::Schedule, "start", "required: Unix seconds"))?;
        if !(0.0..=MAX_UNIX_SECS).contains(&start) {
            return Err(invalid(
                self.vendor,
                Verb::Schedule,
                "start",
                "Unix seconds between 0 and 253402300799 (9999)",
            ));
        }
        match self.vendor {
            Vendor::Kedacom => kedacom::schedule(self, name, start, options).await,
            Vendor::Netease => netease::schedule(self, name, start, options).await,
            Vendor::Avd | Vendor::Vmr => Err(self.refuse(Verb::Schedule)),
        }
    }

    /// Start a created or booked meeting.
    pub async fn start(&self, room: &Room) -> Result<()> {
        self.check_room(Verb::Start, room)?;
        match self.vendor {
            Vendor::Kedacom => kedacom::start(self, room).await,
            Vendor::Vmr => self.call("conference.start", vmr::on(room, Map::new())?).await.map(drop),
            Vendor::Avd | Vendor::Netease => Err(self.refuse(Verb::Start)),
        }
    }

    /// Call a device (a SIP/H.323 address such as `sip:1001@10.0.0.5`) into the meeting and
    /// wait until it is connected (at most `timeout`).
    pub async fn invite(&self, room: &Room, address: &str, timeout: Duration) -> Result<Participant> {
        self.check_room(Verb::Invite, room)?;
        if timeout.is_zero() || timeout > Duration::from_secs(86_400) {
            let why = format!("greater than 0 and at most 86400 seconds, got {}s", timeout.as_secs_f64());
            return Err(invalid(self.vendor, Verb::Invite, "timeout", &why));
        }
        match self.vendor {
            Vendor::Avd => avd::invite(self, room, address, timeout).await,
            Vendor::Vmr => vmr::invite(self, room, address, timeout).await,
            Vendor::Kedacom | Vendor::Netease => Err(self.refuse(Verb::Invite)),
        }
    }

    /// Who is in the meeting.
    pub async fn participants(&self, room: &Room) -> Result<Vec<Participant>> {
        self.check_room(Verb::Participants, room)?;
        match self.vendor {
            Vendor::Avd => avd::participants(self, room).await,
            Vendor::Kedacom => kedacom::participants(self, room).await,
            Vendor::Vmr => vmr::participants(self, room).await,
            Vendor::Netease => Err(self.refuse(Verb::Participants)),
        }
    }

    /// Mute (or, with `mute = false`, unmute) one participant's audio.
    pub async fn set_muted(&self, room: &Room, participant_id: &str, mute: bool) -> Result<()> {
        let verb = if mute { Verb::Mute } else { Verb::Unmute };
        self.check_room(verb, room)?;
        match self.vendor {
            Vendor::Avd => {
                let id = if mute { "device.audio.mute" } else { "device.audio.unmute" };
                self.call(id, serde_json::json!({"room_id": room.id, "user_id": participant_id})).await.map(drop)
            }
            Vendor::Vmr => {
                let id = if mute { "participant.mute" } else { "participant.unmute" };
                let params = vmr::on(room, obj_map([("uuid", participant_id.into())]))?;
                self.call(id, params).await.map(drop)
            }
            Vendor::Kedacom | Vendor::Netease => Err(self.refuse(verb)),
        }
    }

    /// Start recording; returns the vendor's answer (its recording id, where it has one).
    pub async fn start_recording(&self, room: &Room) -> Result<Value> {
        self.check_room(Verb::StartRecording, room)?;
        match self.vendor {
            Vendor::Avd => self.call("room.mix_record.start", serde_json::json!({"room_id": room.id})).await,
            Vendor::Vmr => vmr::start_recording(self, room).await,
            Vendor::Kedacom | Vendor::Netease => Err(self.refuse(Verb::StartRecording)),
        }
    }

    /// Stop recording; returns the files it produced where the vendor says at once (AVD),
    /// else an empty list (call [`Meeting::recordings`] once they are published).
    pub async fn stop_recording(&self, room: &Room) -> Result<Vec<Recording>> {
        self.check_room(Verb::StopRecording, room)?;
        match self.vendor {
            Vendor::Avd => avd::stop_recording(self, room).await,
            Vendor::Vmr => {
                self.call("record.close", obj([("conferenceKey", room.id.clone().into())])).await?;
                Ok(Vec::new())
            }
            Vendor::Kedacom | Vendor::Netease => Err(self.refuse(Verb::StopRecording)),
        }
    }

    /// The meeting's recordings (empty while the vendor has not published them yet).
    pub async fn recordings(&self, room: &Room) -> Result<Vec<Recording>> {
        self.check_room(Verb::Recordings, room)?;
        match self.vendor {
            Vendor::Avd => avd::recordings(self, room).await,
            Vendor::Vmr => vmr::recordings(self, room).await,
            Vendor::Netease => netease::recordings(self, room).await,
            Vendor::Kedacom => Err(self.refuse(Verb::Recordings)),
        }
    }

    /// Download every recording into `dir`, checking size and checksum where the vendor gives them.
    pub async fn download_recordings(
        &self,
        room: &Room,
        dir: &Path,
        options: DownloadOptions,
    ) -> Result<Vec<Downloaded>> {
        self.check_room(Verb::DownloadRecordings, room)?;
        let mut done = Vec::new();
        for r in self.recordings(room).await? {
            let opts = DownloadOptions {
                file_name: Some(r.file_name.clone()),
                expected_size: r.size,
                expected_md5: r.md5.clone(),
                vendor: Some(self.vendor),
                ..options.clone()
            };
            done.push(self.client.download(&r.url, dir, opts).await?);
        }
        Ok(done)
    }

    /// Start a live stream to `push_url` (rtmp://...).
    pub async fn start_live(&self, room: &Room, push_url: &str) -> Result<Value> {
        self.check_room(Verb::StartLive, room)?;
        match self.vendor {
            Vendor::Avd => {
                self.call("room.mix_live.start", serde_json::json!({"room_id": room.id, "push_url": push_url})).await
            }
            Vendor::Vmr => vmr::start_live(self, room, push_url).await,
            Vendor::Kedacom | Vendor::Netease => Err(self.refuse(Verb::StartLive)),
        }
    }

    /// Stop the live stream.
    pub async fn stop_live(&self, room: &Room) -> Result<()> {
        self.check_room(Verb::StopLive, room)?;
        match self.vendor {
            Vendor::Avd => self.call("room.mix_live.stop", serde_json::json!({"room_id": room.id})).await.map(drop),
            Vendor::Vmr => vmr::stop_live(self, room).await,
            Vendor::Kedacom | Vendor::Netease => Err(self.refuse(Verb::StopLive)),
        }
    }

    /// End the meeting (everyone is disconnected).
    pub async fn end(&self, room: &Room) -> Result<()> {
        self.check_room(Verb::End, room)?;
        match self.vendor {
            Vendor::Avd => self.call("room.close", serde_json::json!({"room_id": room.id})).await.map(drop),
            Vendor::Kedacom => self.call("confs.end", obj([("conf_id", room.id.clone().into())])).await.map(drop),
            Vendor::Vmr => vmr::end(self, room).await,
            Vendor::Netease => netease::end(self, room).await,
        }
    }
}

/// A JSON object from pairs.
fn obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(obj_map(pairs))
}

/// A JSON map from pairs.
fn obj_map<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn items(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array().into_iter().flatten()
}

fn text(m: &Map<String, Value>, key: &str) -> Option<String> {
    m.get(key).filter(|v| !v.is_null()).map(text_of)
}

/// The last second of the year 9999, the latest `start` a schedule accepts.
const MAX_UNIX_SECS: f64 = 253_402_300_799.0;

/// The longest meeting `minutes` may ask for: a year.
const MAX_MINUTES: f64 = 366.0 * 24.0 * 60.0;

/// `options.minutes` as whole minutes (default `default`), at least 1 and at most a year.
fn minutes(vendor: Vendor, verb: Verb, options: &Map<String, Value>, default: u64) -> Result<u64> {
    match options.get("minutes") {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_f64()
            .filter(|m| (1.0..=MAX_MINUTES).contains(m))
            .map(|m| m.round() as u64)
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

/// Seconds since the Unix epoch.
fn now_secs() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or_default()
}

fn invalid(vendor: Vendor, verb: Verb, param: &str, reason: &str) -> Error {
    Error::InvalidParams { vendor, endpoint: format!("meeting.{verb}"), param: param.into(), reason: reason.into() }
}

/// Markdown table of verbs × vendors (`docs/vendors.md`), generated from the capability tables.
pub fn capabilities_markdown() -> String {
    capabilities_markdown_for(&Vendor::ALL)
}

/// Markdown table of verbs × the given vendors, generated from the capability tables.
pub fn capabilities_markdown_for(vendors: &[Vendor]) -> String {
    let mut out = String::from("| verb |");
    for v in vendors {
        out.push_str(&format!(" {v} |"));
    }
    out.push_str("\n|---|");
    for _ in vendors {
        out.push_str("---|");
    }
    out.push('\n');
    for verb in Verb::ALL {
        out.push_str(&format!("| `{verb}` |"));
        for v in vendors {
            let cell = match capability(*v, verb) {
                Capability::Supported { endpoints, note } => {
                    let eps: Vec<String> = endpoints.iter().map(|e| format!("`{e}`")).collect();
                    if note.is_empty() {
                        eps.join(" → ")
                    } else {
                        format!("{} — {note}", eps.join(" → "))
                    }
                }
                Capability::Unsupported { hint } => format!("✗ {hint}"),
            };
            out.push_str(&format!(" {} |", cell.replace('|', "\\|")));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `minutes: 1e15` overflowed NetEase's end time (a panic, found in the audit for the fuzz
    /// targets); a start or length out of range is now refused before anything is sent.
    #[tokio::test]
    async fn schedule_refuses_out_of_range_start_and_minutes() {
        let profile = crate::config::Profile::from_json(
            "t",
            &serde_json::json!({
                "kedacom": {"base_url": "http://127.0.0.1:9", "account_token": "t"},
                "netease": {"base_url": "http://127.0.0.1:9", "app_key": "k", "app_secret": "s"}
            }),
        )
        .unwrap();
        let client = Client::from_profile(&profile).unwrap();
        for vendor in [Vendor::Kedacom, Vendor::Netease] {
            let m = Meeting::new(&client, vendor).unwrap();
            for (options, param) in [
                (serde_json::json!({"name": "x", "start": 1.7e9, "minutes": 1e15, "host": "h"}), "minutes"),
                (serde_json::json!({"name": "x", "start": 1.7e9, "minutes": 0.5, "host": "h"}), "minutes"),
                (serde_json::json!({"name": "x", "start": 1e300, "minutes": 30, "host": "h"}), "start"),
                (serde_json::json!({"name": "x", "start": -1, "minutes": 30, "host": "h"}), "start"),
            ] {
                let options = options.as_object().unwrap().clone();
                let options = if vendor == Vendor::Kedacom {
                    options.into_iter().filter(|(k, _)| k != "host").collect()
                } else {
                    options
                };
                let e = m.schedule(&options).await.unwrap_err();
                assert!(matches!(&e, Error::InvalidParams { param: p, .. } if p == param), "{vendor}: {e}");
            }
        }
    }

    /// A huge invite timeout (from Python's float seconds) overflowed the deadline instant.
    #[tokio::test]
    async fn invite_refuses_a_zero_or_huge_timeout() {
        let profile = crate::config::Profile::from_json(
            "t",
            &serde_json::json!({"avd": {"base_url": "http://127.0.0.1:9", "access_key": "k", "secret_key": "s"}}),
        )
        .unwrap();
        let m = Meeting::new(&Client::from_profile(&profile).unwrap(), Vendor::Avd).unwrap();
        let room = Room::from_handle("avd:r1").unwrap();
        for timeout in [Duration::ZERO, Duration::from_secs(u64::MAX), Duration::from_secs(86_401)] {
            let e = m.invite(&room, "sip:1001@10.0.0.5", timeout).await.unwrap_err();
            assert!(matches!(&e, Error::InvalidParams { param, .. } if param == "timeout"), "{timeout:?}: {e}");
        }
    }

    #[test]
    fn handles_round_trip() {
        let r = Room::from_handle("avd:weekly-sync").unwrap();
        assert_eq!((r.vendor, r.id.as_str(), r.handle.as_str()), (Vendor::Avd, "weekly-sync", "avd:weekly-sync"));
        assert!(Room::from_handle("weekly").is_err());
        assert!(Room::from_handle("zoom:x").is_err());
        assert!(Room::from_handle("avd:").is_err());
        assert!(Room::from_handle("avd:a:b").is_err(), "avd handles have one part");
    }

    #[test]
    fn two_part_handles_round_trip_per_vendor() {
        let cases = [
            (Vendor::Kedacom, "123#456", "m-1"),
            (Vendor::Vmr, "1866", "room@vmr.example.com"),
            (Vendor::Netease, "110119120", "123456789"),
            (Vendor::Kedacom, "odd:id%", "x:y"),
        ];
        for (vendor, id, second) in cases {
            let made = Room::new(vendor, id.into(), Some(second.into()), Some("n".into()), Value::Null);
            let parsed = Room::from_handle(&made.handle).unwrap();
            assert_eq!((parsed.vendor, parsed.id.as_str()), (vendor, id), "{}", made.handle);
            assert_eq!(parsed.secondary_id.as_deref(), Some(second), "{}", made.handle);
            assert_eq!(parsed.handle, made.handle);
            // A one-part handle is refused for these vendors, naming the format.
            let first = made.handle.split(':').nth(1).unwrap();
            let e = Room::from_handle(&format!("{vendor}:{first}")).unwrap_err().to_string();
            assert!(e.contains(handle_parts(vendor).1), "{e}");
        }
        assert_eq!(
            Room::new(Vendor::Kedacom, "a:b".into(), Some("c%d".into()), None, Value::Null).handle,
            "kedacom:a%3Ab:c%25d"
        );
    }

    #[test]
    fn every_vendor_row_covers_every_verb_once() {
        for v in Vendor::ALL {
            let table = capabilities(v);
            for verb in Verb::ALL {
                assert_eq!(table.iter().filter(|(x, _)| *x == verb).count(), 1, "{v} {verb}");
            }
            for (verb, c) in table {
                match c {
                    Capability::Supported { endpoints, .. } => {
                        assert!(!endpoints.is_empty(), "{v} {verb}");
                        for e in *endpoints {
                            assert!(Client::spec(v, e).is_ok(), "{v}: {e} is not in the endpoint table");
                        }
                    }
                    Capability::Unsupported { hint } => {
                        let names_endpoint = crate::vendors::endpoints(v).iter().any(|e| hint.contains(e.id))
                            || hint.contains("callback")
                            || hint.contains("client");
                        assert!(names_endpoint, "{v} {verb}: the hint names no endpoint: {hint}");
                    }
                }
            }
        }
    }

    #[test]
    fn verbs_parse_by_name() {
        for verb in Verb::ALL {
            assert_eq!(verb.as_str().parse::<Verb>().unwrap(), verb);
        }
        assert!("record".parse::<Verb>().unwrap_err().to_string().contains("start_recording"));
    }

    #[test]
    fn markdown_has_a_row_per_verb_and_a_column_per_vendor() {
        let md = capabilities_markdown();
        assert_eq!(md.lines().count(), 2 + Verb::ALL.len());
        assert!(md.starts_with("| verb | avd | kedacom | vmr | netease |"));
        assert!(capabilities_markdown_for(&[Vendor::Vmr]).starts_with("| verb | vmr |\n|---|---|\n"));
    }
}
