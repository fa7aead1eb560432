//! One meeting API across the vendors: the same verbs on AVD, Kedacom, vmr and NetEase.
//!
//! [`Meeting`] maps each [`Verb`] to the vendor's endpoints (see [`capabilities`]); a verb
//! a vendor cannot do fails *before any call* with [`Error::Unsupported`] naming the
//! nearest vendor-specific endpoint — never a silent no-op. Results are vendor-neutral
//! ([`Room`], [`Participant`], [`Recording`]) and keep the vendor's raw JSON. Room ids are
//! handles (`avd:weekly`, ...) that round-trip: a handle printed by one run can be used by
//! the next.
//!
//! Each vendor implements the API once — the `VendorMeeting` trait of `api.rs` — in its own
//! file (`avd.rs`, `kedacom.rs`, `vmr.rs`, `netease.rs`): its capability table, the portable
//! options it ignores, its handle format and the code of every verb it supports; a verb it
//! cannot do keeps the trait's default, which refuses with the table's hint. [`Meeting`]
//! checks and dispatches without knowing any vendor.

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

mod api;
mod avd;
mod kedacom;
mod netease;
mod options;
mod vmr;

use options::RoomOptions;
pub use options::{room_option_names, ROOM_OPTIONS};

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

/// One row of a vendor's capability table as every surface shows it — `meetkit capabilities
/// --output json`, Rhai `m.capabilities()`, Python `meetkit.capabilities()`, C
/// `meetkit_meeting_capabilities` — all through [`capabilities_json`], so the field names are
/// the same everywhere: `supported`, `endpoints` (the endpoint ids the verb calls, in order),
/// `note` (what differs on this vendor), `hint` (null when supported: what to use instead),
/// `options` (the portable options the verb uses) and `ignored` (option → why, for those it
/// ignores).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CapabilityRow {
    /// The verb (the key of the row in [`capabilities_json`], not a field).
    #[serde(skip)]
    pub verb: Verb,
    /// Whether the vendor can do the verb.
    pub supported: bool,
    /// Endpoint ids the verb calls, in order (empty when unsupported).
    pub endpoints: &'static [&'static str],
    /// What differs on this vendor (empty when nothing, or unsupported).
    pub note: &'static str,
    /// What to do instead, naming the nearest endpoint (`None` when supported).
    pub hint: Option<&'static str>,
    /// The portable options the verb uses on this vendor ([`used_options`]).
    pub options: Vec<&'static str>,
    /// The portable options it ignores, with why ([`ignored_options`]); a JSON object.
    #[serde(serialize_with = "pairs_as_map")]
    pub ignored: &'static [(&'static str, &'static str)],
}

impl CapabilityRow {
    /// The row of `verb` in `vendor`'s table.
    pub fn of(vendor: Vendor, verb: Verb) -> CapabilityRow {
        let (supported, endpoints, note, hint) = match capability(vendor, verb) {
            Capability::Supported { endpoints, note } => (true, endpoints, note, None),
            Capability::Unsupported { hint } => (false, &[][..], "", Some(hint)),
        };
        let (options, ignored) = (used_options(vendor, verb), ignored_options(vendor, verb));
        CapabilityRow { verb, supported, endpoints, note, hint, options, ignored }
    }
}

fn pairs_as_map<S: serde::Serializer>(pairs: &&[(&str, &str)], s: S) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(pairs.len()))?;
    for (k, v) in pairs.iter() {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

/// `vendor`'s capability table as one JSON object, a [`CapabilityRow`] per verb keyed by the
/// verb's name, in documentation order: the one shape every surface shows.
pub fn capabilities_json(vendor: Vendor) -> Value {
    Value::Object(
        Verb::ALL
            .iter()
            .map(|verb| {
                (verb.as_str().to_string(), serde_json::to_value(CapabilityRow::of(vendor, *verb)).unwrap_or_default())
            })
            .collect(),
    )
}

/// The capability of `vendor` for `verb`.
pub fn capability(vendor: Vendor, verb: Verb) -> Capability {
    capabilities(vendor).iter().find(|(v, _)| *v == verb).map(|(_, c)| *c).unwrap_or(Capability::Unsupported {
        hint: "this verb is missing from the vendor's capability table; use the vendor's endpoints directly",
    })
}

/// The capability table of one vendor, one row per verb.
pub fn capabilities(vendor: Vendor) -> &'static [(Verb, Capability)] {
    api::of(vendor).map_or(&[], |v| v.table())
}

/// The portable options (of [`ROOM_OPTIONS`]) that `vendor` ignores for `verb`, each with why:
/// given, they are dropped with one warning per process. Empty for a verb the vendor cannot
/// do and for verbs without options.
pub fn ignored_options(vendor: Vendor, verb: Verb) -> &'static [(&'static str, &'static str)] {
    if !matches!(verb, Verb::CreateRoom | Verb::Schedule) || !capability(vendor, verb).is_supported() {
        return &[];
    }
    api::of(vendor).map_or(&[], |v| v.ignores())
}

/// The portable options `vendor` uses for `verb`: those of the verb it does not ignore. Empty
/// for a verb the vendor cannot do and for verbs without options.
pub fn used_options(vendor: Vendor, verb: Verb) -> Vec<&'static str> {
    if !matches!(verb, Verb::CreateRoom | Verb::Schedule) || !capability(vendor, verb).is_supported() {
        return Vec::new();
    }
    let ignored = ignored_options(vendor, verb);
    room_option_names(verb).into_iter().filter(|o| !ignored.iter().any(|(i, _)| i == o)).collect()
}

/// Characters escaped in a handle's parts: `%` and `:` (the separator), plus controls.
const HANDLE_PART: &AsciiSet = &CONTROLS.add(b'%').add(b':');

/// How many id parts a vendor's handle carries after `<vendor>:`, and its format.
fn handle_parts(vendor: Vendor) -> (usize, &'static str) {
    api::of(vendor).map_or((1, "<vendor>:<id>"), |v| v.handle_format())
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
    /// The vendor's implementation.
    api: &'static dyn api::VendorMeeting,
    /// Recording ids started through this value, per room handle (vmr lists files by them).
    record_ids: Arc<Mutex<HashMap<String, Vec<String>>>>,
}

impl Meeting {
    /// The unified API for `vendor`; fails if the client has no connection for it.
    pub fn new(client: &Client, vendor: Vendor) -> Result<Meeting> {
        client.require(vendor)?;
        let api = api::of(vendor)
            .ok_or_else(|| Error::config(format!("{vendor} has no implementation of the unified meeting API")))?;
        Ok(Meeting { client: client.clone(), vendor, api, record_ids: Arc::default() })
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
            Capability::Unsupported { .. } => Err(api::unsupported(self.vendor, verb)),
        }
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

    /// Create a room usable now. `options` are the portable ones of [`ROOM_OPTIONS`] but
    /// `start`: `name` (required), `id`, `minutes`, `invite`, `record`, `live`, `host`. One this
    /// vendor cannot use is ignored with one warning per process (see [`ignored_options`]); a
    /// key that is no portable option is an error naming the valid ones.
    pub async fn create_room(&self, options: &Map<String, Value>) -> Result<Room> {
        self.check(Verb::CreateRoom)?;
        let options = RoomOptions::parse(self.vendor, Verb::CreateRoom, options, self.api.ignores())?;
        self.api.create_room(self, &options).await
    }

    /// Book a meeting for later: the options of [`Meeting::create_room`] plus `start` (Unix
    /// seconds, required).
    pub async fn schedule(&self, options: &Map<String, Value>) -> Result<Room> {
        self.check(Verb::Schedule)?;
        let options = RoomOptions::parse(self.vendor, Verb::Schedule, options, self.api.ignores())?;
        self.api.schedule(self, &options).await
    }

    /// Start a created or booked meeting.
    pub async fn start(&self, room: &Room) -> Result<()> {
        self.check_room(Verb::Start, room)?;
        self.api.start(self, room).await
    }

    /// Call a device (a SIP/H.323 address such as `sip:1001@10.0.0.5`) into the meeting and
    /// wait until it is connected (at most `timeout`).
    pub async fn invite(&self, room: &Room, address: &str, timeout: Duration) -> Result<Participant> {
        self.check_room(Verb::Invite, room)?;
        check_timeout(self.vendor, Verb::Invite, timeout)?;
        self.api.invite(self, room, address, timeout).await
    }

    /// Who is in the meeting.
    pub async fn participants(&self, room: &Room) -> Result<Vec<Participant>> {
        self.check_room(Verb::Participants, room)?;
        self.api.participants(self, room).await
    }

    /// Mute (or, with `mute = false`, unmute) one participant's audio.
    pub async fn set_muted(&self, room: &Room, participant_id: &str, mute: bool) -> Result<()> {
        self.check_room(if mute { Verb::Mute } else { Verb::Unmute }, room)?;
        self.api.set_muted(self, room, participant_id, mute).await
    }

    /// Start recording; returns the vendor's answer (its recording id, where it has one).
    pub async fn start_recording(&self, room: &Room) -> Result<Value> {
        self.check_room(Verb::StartRecording, room)?;
        self.api.start_recording(self, room).await
    }

    /// Stop recording; returns the files it produced where the vendor says at once (AVD),
    /// else an empty list (call [`Meeting::recordings`] once they are published).
    pub async fn stop_recording(&self, room: &Room) -> Result<Vec<Recording>> {
        self.check_room(Verb::StopRecording, room)?;
        self.api.stop_recording(self, room).await
    }

    /// The meeting's recordings (empty while the vendor has not published them yet).
    pub async fn recordings(&self, room: &Room) -> Result<Vec<Recording>> {
        self.check_room(Verb::Recordings, room)?;
        self.api.recordings(self, room).await
    }

    /// Download every recording into `dir`, checking size and checksum where the vendor gives
    /// them. On NetEase, which publishes recordings only after a meeting ends, this waits for
    /// them at most [`RECORDINGS_TIMEOUT`] (see [`Meeting::download_recordings_within`]).
    pub async fn download_recordings(
        &self,
        room: &Room,
        dir: &Path,
        options: DownloadOptions,
    ) -> Result<Vec<Downloaded>> {
        self.download_recordings_within(room, dir, options, RECORDINGS_TIMEOUT).await
    }

    /// [`Meeting::download_recordings`], waiting at most `timeout` (more than 0, at most a day)
    /// for the recordings a vendor publishes later: on NetEase until `meeting.record_list` lists
    /// the meeting's files and the list stops growing, else [`Error::NotReady`] naming the room
    /// and what is missing — never an empty list for recordings still to come. Other vendors
    /// list their recordings at once and do not wait.
    pub async fn download_recordings_within(
        &self,
        room: &Room,
        dir: &Path,
        options: DownloadOptions,
        timeout: Duration,
    ) -> Result<Vec<Downloaded>> {
        self.check_room(Verb::DownloadRecordings, room)?;
        check_timeout(self.vendor, Verb::DownloadRecordings, timeout)?;
        let mut done = Vec::new();
        for r in self.api.recordings_to_download(self, room, timeout).await? {
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
        self.api.start_live(self, room, push_url).await
    }

    /// Stop the live stream.
    pub async fn stop_live(&self, room: &Room) -> Result<()> {
        self.check_room(Verb::StopLive, room)?;
        self.api.stop_live(self, room).await
    }

    /// End the meeting (everyone is disconnected). Idempotent: a meeting that has already
    /// ended (or that the vendor no longer knows, where its docs say that is what an ended
    /// one answers) is not an error — see docs/assumptions.md (`*.end_idempotent`).
    pub async fn end(&self, room: &Room) -> Result<()> {
        self.check_room(Verb::End, room)?;
        self.api.end(self, room).await
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

/// How long [`Meeting::download_recordings`] waits for recordings a vendor publishes later.
pub const RECORDINGS_TIMEOUT: Duration = Duration::from_secs(300);

/// How long `invite` waits for a device to answer when the caller gives no timeout — the
/// same on every surface (Rhai `m.invite(room, address)`, Python `invite(room, address)`, C
/// `timeout_ms = 0`).
pub const INVITE_TIMEOUT: Duration = Duration::from_secs(60);

/// A wait of a verb: more than 0 and at most a day.
fn check_timeout(vendor: Vendor, verb: Verb, timeout: Duration) -> Result<()> {
    if timeout.is_zero() || timeout > Duration::from_secs(86_400) {
        let why = format!("greater than 0 and at most 86400 seconds, got {}s", timeout.as_secs_f64());
        return Err(invalid(vendor, verb, "timeout", &why));
    }
    Ok(())
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
    let mut out = table_head("verb", vendors);
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
    out.push_str(&options_markdown_for(vendors));
    out
}

/// The head of a Markdown table: `first`, then a column per vendor.
fn table_head(first: &str, vendors: &[Vendor]) -> String {
    let names: Vec<&str> = vendors.iter().map(|v| v.as_str()).collect();
    format!("| {first} | {} |\n|---|{}\n", names.join(" | "), "---|".repeat(vendors.len()))
}

/// Markdown table of the portable options of `create_room`/`schedule` × the given vendors:
/// `✓` where the vendor uses the option, else why it ignores it.
fn options_markdown_for(vendors: &[Vendor]) -> String {
    let mut out = String::from(
        "\nOptions of `create_room` and `schedule` (an ignored one is dropped with one warning per process; \
         any other key is an error):\n\n",
    );
    out.push_str(&table_head("option", vendors));
    for (option, _) in ROOM_OPTIONS {
        out.push_str(&format!("| `{option}` |"));
        for v in vendors {
            let verbs = [Verb::CreateRoom, Verb::Schedule];
            let used = verbs.iter().any(|verb| used_options(*v, *verb).contains(option));
            let why = verbs.iter().flat_map(|verb| ignored_options(*v, *verb)).find(|(o, _)| o == option);
            let cell = match (used, why) {
                (true, _) => "✓".to_string(),
                (false, Some((_, why))) => format!("ignored: {why}"),
                (false, None) => "— (no `schedule`)".to_string(),
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
        assert_eq!(md.lines().count(), 2 + Verb::ALL.len() + 5 + ROOM_OPTIONS.len());
        assert!(md.starts_with("| verb | avd | kedacom | vmr | netease |"));
        assert!(capabilities_markdown_for(&[Vendor::Vmr]).starts_with("| verb | vmr |\n|---|---|\n"));
    }
}
