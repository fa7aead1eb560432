//! One meeting API across the vendors: the same verbs on AVD, Kedacom, vmr and NetEase.
//!
//! [`Meeting`] maps each [`Verb`] to the vendor's endpoints (see [`capabilities`]); a verb
//! a vendor cannot do fails *before any call* with [`Error::Unsupported`] naming the
//! nearest vendor-specific endpoint — never a silent no-op. Results are vendor-neutral
//! ([`Room`], [`Participant`], [`Recording`]) and keep the vendor's raw JSON. Room ids are
//! handles (`avd:weekly`, ...) that round-trip: a handle printed by one run can be used by
//! the next.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::download::{DownloadOptions, Downloaded};
use crate::{Client, Error, Result, Vendor};

/// The verbs of the unified API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// The capability of `vendor` for `verb`.
pub fn capability(vendor: Vendor, verb: Verb) -> Capability {
    capabilities(vendor).iter().find(|(v, _)| *v == verb).map(|(_, c)| *c).unwrap_or(Capability::Unsupported {
        hint: "this vendor's unified meeting support has not landed yet; use its endpoints directly",
    })
}

/// The capability table of one vendor, one row per verb.
pub fn capabilities(vendor: Vendor) -> &'static [(Verb, Capability)] {
    match vendor {
        Vendor::Avd => AVD,
        Vendor::Kedacom | Vendor::Vmr | Vendor::Netease => &[],
    }
}

use Capability::{Supported as S, Unsupported as U};

const AVD: &[(Verb, Capability)] = &[
    (
        Verb::CreateRoom,
        S { endpoints: &["room.create"], note: "the room id is the name, made URL-safe, unless `id` is given" },
    ),
    (Verb::Schedule, U { hint: "AVD has no scheduling: room.create makes a room usable at once" }),
    (Verb::Start, U { hint: "an AVD meeting opens when the first participant joins: use invite (device.call)" }),
    (
        Verb::Invite,
        S {
            endpoints: &["device.call", "device.get_invite_status"],
            note: "waits until the device is connected (invite_status 1)",
        },
    ),
    (Verb::Participants, S { endpoints: &["room.participate.list"], note: "" }),
    (Verb::Mute, S { endpoints: &["device.audio.mute"], note: "invited devices only" }),
    (Verb::Unmute, S { endpoints: &["device.audio.unmute"], note: "invited devices only" }),
    (
        Verb::StartRecording,
        S { endpoints: &["room.mix_record.start"], note: "a mixed (composited) recording; the meeting must be open" },
    ),
    (Verb::StopRecording, S { endpoints: &["room.mix_record.stop"], note: "returns the produced files" }),
    (
        Verb::Recordings,
        S {
            endpoints: &["room.mix_record.get"],
            note: "sizes are the server's approximations (\"3.4M\"); no checksums",
        },
    ),
    (Verb::DownloadRecordings, S { endpoints: &["room.mix_record.get"], note: "then streams each file" }),
    (Verb::StartLive, S { endpoints: &["room.mix_live.start"], note: "a mixed live stream" }),
    (Verb::StopLive, S { endpoints: &["room.mix_live.stop"], note: "" }),
    (Verb::End, S { endpoints: &["room.close"], note: "hangs up devices and stops recordings" }),
];

/// A meeting room, by handle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Room {
    /// The vendor-neutral handle: `<vendor>:<key>`; round-trips through [`Room::from_handle`].
    pub handle: String,
    /// The vendor.
    pub vendor: Vendor,
    /// The vendor's own id of the room or meeting.
    pub id: String,
    /// The name given at creation, when known.
    pub name: Option<String>,
    /// The vendor's raw answer that produced this room (`null` for a parsed handle).
    pub raw: Value,
}

impl Room {
    fn new(vendor: Vendor, id: String, name: Option<String>, raw: Value) -> Room {
        Room { handle: format!("{vendor}:{id}"), vendor, id, name, raw }
    }

    /// Parse a handle printed by an earlier run (`avd:weekly`).
    pub fn from_handle(handle: &str) -> Result<Room> {
        let (vendor, id) = handle
            .split_once(':')
            .filter(|(_, id)| !id.is_empty())
            .ok_or_else(|| Error::config(format!("`{handle}` is not a room handle; expected <vendor>:<id>")))?;
        Ok(Room::new(vendor.parse()?, id.to_string(), None, Value::Null))
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

/// The unified meeting API on one vendor of a client.
#[derive(Clone, Debug)]
pub struct Meeting {
    client: Client,
    vendor: Vendor,
}

impl Meeting {
    /// The unified API for `vendor`; fails if the client has no connection for it.
    pub fn new(client: &Client, vendor: Vendor) -> Result<Meeting> {
        client.require(vendor)?;
        Ok(Meeting { client: client.clone(), vendor })
    }

    /// The vendor.
    pub fn vendor(&self) -> Vendor {
        self.vendor
    }

    /// `Err(Unsupported)` before any call when the vendor cannot do `verb`.
    fn check(&self, verb: Verb) -> Result<()> {
        match capability(self.vendor, verb) {
            Capability::Supported { .. } => Ok(()),
            Capability::Unsupported { hint } => {
                Err(Error::Unsupported { vendor: self.vendor, verb: verb.as_str(), hint: hint.to_string() })
            }
        }
    }

    fn room_of(&self, room: &Room) -> Result<()> {
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

    /// Create a room usable now. `options`: `name` (required), `id` (optional vendor id).
    pub async fn create_room(&self, options: &Map<String, Value>) -> Result<Room> {
        self.check(Verb::CreateRoom)?;
        let name = text(options, "name").ok_or_else(|| invalid(self.vendor, Verb::CreateRoom, "name", "required"))?;
        match self.vendor {
            Vendor::Avd => {
                let id = text(options, "id").unwrap_or_else(|| slug(&name));
                let raw = self.call("room.create", json!({"room_id": id, "user_id": "meetkit", "topic": name})).await?;
                let id = raw["room_id"].as_str().map(str::to_string).unwrap_or(id);
                Ok(Room::new(self.vendor, id, Some(name), raw))
            }
            _ => unreachable!("checked by the capability table"),
        }
    }

    /// Book a meeting for later. `options`: `name`, `start` (Unix seconds), `minutes`.
    pub async fn schedule(&self, options: &Map<String, Value>) -> Result<Room> {
        self.check(Verb::Schedule)?;
        let _ = options;
        unreachable!("no vendor supports schedule yet; the capability table rejects it")
    }

    /// Start a created or booked meeting.
    pub async fn start(&self, room: &Room) -> Result<()> {
        self.check(Verb::Start)?;
        self.room_of(room)?;
        unreachable!("no vendor supports start yet; the capability table rejects it")
    }

    /// Call a device (a SIP/H.323 address such as `sip:1001@10.0.0.5`) into the meeting and
    /// wait until it is connected (at most `timeout`).
    pub async fn invite(&self, room: &Room, address: &str, timeout: Duration) -> Result<Participant> {
        self.check(Verb::Invite)?;
        self.room_of(room)?;
        match self.vendor {
            Vendor::Avd => {
                let call =
                    self.call("device.call", json!({"room_id": room.id, "name": address, "url": address})).await?;
                let call_id = call["call_id"].clone();
                let deadline = tokio::time::Instant::now() + timeout;
                loop {
                    let status = self.call("device.get_invite_status", json!({"call_id": call_id})).await?;
                    match status["invite_status"].to_string().trim_matches('"') {
                        "1" => break,
                        "0" if tokio::time::Instant::now() < deadline => {
                            tokio::time::sleep(Duration::from_millis(250)).await
                        }
                        other => {
                            return Err(Error::Api {
                                vendor: self.vendor,
                                endpoint: "device.get_invite_status".into(),
                                code: format!("invite_status {other}"),
                                message: format!("{address} did not join {} (invite_status {other})", room.handle),
                                meaning: Some("0 inviting, 1 in call, 2 hung up, 3 invite failed"),
                                request_id: None,
                            })
                        }
                    }
                }
                Ok(Participant {
                    id: text_of(&call["user_id"]),
                    name: address.to_string(),
                    muted: Some(false),
                    raw: call,
                })
            }
            _ => unreachable!("checked by the capability table"),
        }
    }

    /// Who is in the meeting.
    pub async fn participants(&self, room: &Room) -> Result<Vec<Participant>> {
        self.check(Verb::Participants)?;
        self.room_of(room)?;
        match self.vendor {
            Vendor::Avd => {
                let raw = self.call("room.participate.list", json!({"room_id": room.id})).await?;
                Ok(items(&raw["participates"])
                    .map(|p| Participant {
                        id: text_of(&p["user_id"]),
                        name: text_of(&p["user_name"]),
                        muted: None,
                        raw: p.clone(),
                    })
                    .collect())
            }
            _ => unreachable!("checked by the capability table"),
        }
    }

    /// Mute (or, with `mute = false`, unmute) one participant's audio.
    pub async fn set_muted(&self, room: &Room, participant_id: &str, mute: bool) -> Result<()> {
        self.check(if mute { Verb::Mute } else { Verb::Unmute })?;
        self.room_of(room)?;
        match self.vendor {
            Vendor::Avd => {
                let id = if mute { "device.audio.mute" } else { "device.audio.unmute" };
                self.call(id, json!({"room_id": room.id, "user_id": participant_id})).await.map(drop)
            }
            _ => unreachable!("checked by the capability table"),
        }
    }

    /// Start recording.
    pub async fn start_recording(&self, room: &Room) -> Result<Value> {
        self.check(Verb::StartRecording)?;
        self.room_of(room)?;
        match self.vendor {
            Vendor::Avd => self.call("room.mix_record.start", json!({"room_id": room.id})).await,
            _ => unreachable!("checked by the capability table"),
        }
    }

    /// Stop recording; returns the files it produced, where the vendor says at once.
    pub async fn stop_recording(&self, room: &Room) -> Result<Vec<Recording>> {
        self.check(Verb::StopRecording)?;
        self.room_of(room)?;
        match self.vendor {
            Vendor::Avd => {
                let raw = self.call("room.mix_record.stop", json!({"room_id": room.id})).await?;
                Ok(items(&raw["data"]).filter_map(avd_recording).collect())
            }
            _ => unreachable!("checked by the capability table"),
        }
    }

    /// The meeting's recordings.
    pub async fn recordings(&self, room: &Room) -> Result<Vec<Recording>> {
        self.check(Verb::Recordings)?;
        self.room_of(room)?;
        match self.vendor {
            Vendor::Avd => {
                let raw = self.call("room.mix_record.get", json!({"room_id": room.id})).await?;
                let mut out = Vec::new();
                for item in items(&raw["data"]) {
                    let transcoded: Vec<Recording> =
                        items(&item["transcode_files"]).filter_map(avd_recording).collect();
                    if transcoded.is_empty() {
                        out.extend(avd_recording(item));
                    } else {
                        out.extend(transcoded);
                    }
                }
                Ok(out)
            }
            _ => unreachable!("checked by the capability table"),
        }
    }

    /// Download every recording into `dir`, checking size and checksum where the vendor gives them.
    pub async fn download_recordings(
        &self,
        room: &Room,
        dir: &Path,
        options: DownloadOptions,
    ) -> Result<Vec<Downloaded>> {
        self.check(Verb::DownloadRecordings)?;
        let mut done = Vec::new();
        for r in self.recordings(room).await? {
            let opts = DownloadOptions {
                file_name: Some(r.file_name.clone()),
                expected_size: r.size,
                expected_md5: r.md5.clone(),
                vendor: self.vendor,
                ..options.clone()
            };
            done.push(self.client.download(&r.url, dir, opts).await?);
        }
        Ok(done)
    }

    /// Start a live stream to `push_url` (rtmp://...).
    pub async fn start_live(&self, room: &Room, push_url: &str) -> Result<Value> {
        self.check(Verb::StartLive)?;
        self.room_of(room)?;
        match self.vendor {
            Vendor::Avd => self.call("room.mix_live.start", json!({"room_id": room.id, "push_url": push_url})).await,
            _ => unreachable!("checked by the capability table"),
        }
    }

    /// Stop the live stream.
    pub async fn stop_live(&self, room: &Room) -> Result<()> {
        self.check(Verb::StopLive)?;
        self.room_of(room)?;
        match self.vendor {
            Vendor::Avd => self.call("room.mix_live.stop", json!({"room_id": room.id})).await.map(drop),
            _ => unreachable!("checked by the capability table"),
        }
    }

    /// End the meeting (everyone is disconnected).
    pub async fn end(&self, room: &Room) -> Result<()> {
        self.check(Verb::End)?;
        self.room_of(room)?;
        match self.vendor {
            Vendor::Avd => self.call("room.close", json!({"room_id": room.id})).await.map(drop),
            _ => unreachable!("checked by the capability table"),
        }
    }
}

fn avd_recording(v: &Value) -> Option<Recording> {
    let url = v["download_url"].as_str()?.to_string();
    let file_name = v["name"]
        .as_str()
        .map(str::to_string)
        .or_else(|| crate::download::file_name_from_url(&url))
        .unwrap_or_else(|| "recording".into());
    Some(Recording { url, file_name, size: None, md5: None, raw: v.clone() })
}

fn items(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array().into_iter().flatten()
}

fn text(m: &Map<String, Value>, key: &str) -> Option<String> {
    m.get(key).filter(|v| !v.is_null()).map(text_of)
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A name made into a conservative id: ASCII letters, digits and `-`.
fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if s.is_empty() {
        "meetkit-room".into()
    } else {
        s
    }
}

fn invalid(vendor: Vendor, verb: Verb, param: &str, reason: &str) -> Error {
    Error::InvalidParams { vendor, endpoint: format!("meeting.{verb}"), param: param.into(), reason: reason.into() }
}

/// Markdown table of verbs × vendors (`docs/vendors.md`), generated from the capability tables.
pub fn capabilities_markdown() -> String {
    let mut out = String::from("| verb |");
    for v in Vendor::ALL {
        out.push_str(&format!(" {v} |"));
    }
    out.push_str("\n|---|");
    for _ in Vendor::ALL {
        out.push_str("---|");
    }
    out.push('\n');
    for verb in Verb::ALL {
        out.push_str(&format!("| `{verb}` |"));
        for v in Vendor::ALL {
            let cell = match capability(v, verb) {
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

    #[test]
    fn handles_round_trip() {
        let r = Room::from_handle("avd:weekly-sync").unwrap();
        assert_eq!((r.vendor, r.id.as_str(), r.handle.as_str()), (Vendor::Avd, "weekly-sync", "avd:weekly-sync"));
        assert!(Room::from_handle("weekly").is_err());
        assert!(Room::from_handle("zoom:x").is_err());
    }

    #[test]
    fn every_vendor_row_covers_every_verb_once() {
        for v in Vendor::ALL {
            let table = capabilities(v);
            if table.is_empty() {
                continue;
            }
            for verb in Verb::ALL {
                assert_eq!(table.iter().filter(|(x, _)| *x == verb).count(), 1, "{v} {verb}");
            }
            for (_, c) in table {
                if let Capability::Supported { endpoints, .. } = c {
                    for e in *endpoints {
                        assert!(Client::spec(v, e).is_ok(), "{v}: {e} is not in the endpoint table");
                    }
                }
            }
        }
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Weekly Sync (ops)"), "weekly-sync-ops");
        assert_eq!(slug("周会"), "meetkit-room");
    }
}
