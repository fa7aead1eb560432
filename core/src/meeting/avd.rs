//! 3tee AVD: rooms are created by id and open when someone joins; devices are called in,
//! recordings and live streams are mixed server-side.

use std::time::Duration;

use serde_json::{json, Value};

use super::api::{Fut, VendorMeeting};
use super::{items, text_of, Capability, Meeting, Participant, Recording, Room, RoomOptions, Verb};
use crate::{Error, Result, Vendor};
use Capability::{Supported as S, Unsupported as U};

const TABLE: &[(Verb, Capability)] = &[
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

/// The portable options AVD cannot use, with why.
const IGNORES: &[(&str, &str)] = &[
    ("minutes", "an AVD room has no length: it stays usable until it is ended (room.close)"),
    ("invite", "AVD calls devices into an existing room: use invite (device.call) after create_room"),
    ("record", "AVD records on request: use start_recording (room.mix_record.start) once the meeting is open"),
    ("live", "AVD streams on request: use start_live (room.mix_live.start) with a push URL"),
    ("host", "an AVD room has no host account (room.create's user_id is meetkit's own)"),
];

/// 3tee AVD's implementation of the meeting API.
#[derive(Debug)]
pub(super) struct Avd;

impl VendorMeeting for Avd {
    fn vendor(&self) -> Vendor {
        Vendor::Avd
    }
    fn table(&self) -> &'static [(Verb, Capability)] {
        TABLE
    }
    fn ignores(&self) -> &'static [(&'static str, &'static str)] {
        IGNORES
    }
    fn handle_format(&self) -> (usize, &'static str) {
        (1, "avd:<room_id>")
    }
    fn create_room<'a>(&'a self, m: &'a Meeting, options: &'a RoomOptions) -> Fut<'a, Room> {
        Box::pin(create_room(m, options))
    }
    fn invite<'a>(
        &'a self,
        m: &'a Meeting,
        room: &'a Room,
        address: &'a str,
        timeout: Duration,
    ) -> Fut<'a, Participant> {
        Box::pin(invite(m, room, address, timeout))
    }
    fn participants<'a>(&'a self, m: &'a Meeting, room: &'a Room) -> Fut<'a, Vec<Participant>> {
        Box::pin(participants(m, room))
    }
    fn set_muted<'a>(&'a self, m: &'a Meeting, room: &'a Room, participant: &'a str, mute: bool) -> Fut<'a, ()> {
        let id = if mute { "device.audio.mute" } else { "device.audio.unmute" };
        Box::pin(async move { m.call(id, json!({"room_id": room.id, "user_id": participant})).await.map(drop) })
    }
    fn start_recording<'a>(&'a self, m: &'a Meeting, room: &'a Room) -> Fut<'a, Value> {
        Box::pin(m.call("room.mix_record.start", json!({"room_id": room.id})))
    }
    fn stop_recording<'a>(&'a self, m: &'a Meeting, room: &'a Room) -> Fut<'a, Vec<Recording>> {
        Box::pin(stop_recording(m, room))
    }
    fn recordings<'a>(&'a self, m: &'a Meeting, room: &'a Room) -> Fut<'a, Vec<Recording>> {
        Box::pin(recordings(m, room))
    }
    fn recordings_to_download<'a>(&'a self, m: &'a Meeting, room: &'a Room, _: Duration) -> Fut<'a, Vec<Recording>> {
        Box::pin(recordings(m, room))
    }
    fn start_live<'a>(&'a self, m: &'a Meeting, room: &'a Room, push_url: &'a str) -> Fut<'a, Value> {
        Box::pin(m.call("room.mix_live.start", json!({"room_id": room.id, "push_url": push_url})))
    }
    fn stop_live<'a>(&'a self, m: &'a Meeting, room: &'a Room) -> Fut<'a, ()> {
        Box::pin(async move { m.call("room.mix_live.stop", json!({"room_id": room.id})).await.map(drop) })
    }
    fn end<'a>(&'a self, m: &'a Meeting, room: &'a Room) -> Fut<'a, ()> {
        Box::pin(end(m, room))
    }
}

async fn create_room(m: &Meeting, options: &RoomOptions) -> Result<Room> {
    let name = options.name.clone();
    let id = options.id.clone().unwrap_or_else(|| slug(&name));
    let raw = m.call("room.create", json!({"room_id": id, "user_id": "meetkit", "topic": name})).await?;
    let id = raw["room_id"].as_str().map(str::to_string).unwrap_or(id);
    Ok(Room::new(m.vendor, id, None, Some(name), raw))
}

async fn invite(m: &Meeting, room: &Room, address: &str, timeout: Duration) -> Result<Participant> {
    let call = m.call("device.call", json!({"room_id": room.id, "name": address, "url": address})).await?;
    let call_id = call["call_id"].clone();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let status = m.call("device.get_invite_status", json!({"call_id": call_id})).await?;
        match status["invite_status"].to_string().trim_matches('"') {
            "1" => break,
            "0" if tokio::time::Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(250)).await,
            other => {
                return Err(Error::Api {
                    vendor: m.vendor,
                    endpoint: "device.get_invite_status".into(),
                    code: format!("invite_status {other}"),
                    message: format!("{address} did not join {} (invite_status {other})", room.handle),
                    meaning: Some("0 inviting, 1 in call, 2 hung up, 3 invite failed"),
                    request_id: None,
                    retryable: false,
                })
            }
        }
    }
    Ok(Participant { id: text_of(&call["user_id"]), name: address.to_string(), muted: Some(false), raw: call })
}

async fn participants(m: &Meeting, room: &Room) -> Result<Vec<Participant>> {
    let raw = m.call("room.participate.list", json!({"room_id": room.id})).await?;
    Ok(items(&raw["participates"])
        .map(|p| Participant {
            id: text_of(&p["user_id"]),
            name: text_of(&p["user_name"]),
            muted: None,
            raw: p.clone(),
        })
        .collect())
}

async fn stop_recording(m: &Meeting, room: &Room) -> Result<Vec<Recording>> {
    let raw = m.call("room.mix_record.stop", json!({"room_id": room.id})).await?;
    Ok(items(&raw["data"]).filter_map(recording).collect())
}

/// Close the room. A room that is not open answers one of room.close's "gone" codes of the
/// lifecycle table (40004 no such room, 40009 not open, or — the doc's own failure example of
/// room.close — 41005 "room not found or opened"): already ended, so ending it again succeeds.
/// 41005 is also the appendix's generic "internal error", so here only with that message.
async fn end(m: &Meeting, room: &Room) -> Result<()> {
    let endpoint = "room.close";
    match m.call(endpoint, json!({"room_id": room.id})).await {
        Err(e) if crate::lifecycle::says_gone(m.vendor, endpoint, &e) && !generic_internal_error(&e) => {
            tracing::debug!(vendor = "avd", room = room.handle.as_str(), "already ended: {e}");
            Ok(())
        }
        other => other.map(drop),
    }
}

/// AVD's 41005 without "not found": the appendix's generic internal error, not a closed room.
fn generic_internal_error(e: &Error) -> bool {
    matches!(e, Error::Api { code, message, .. } if code == "41005" && !message.to_ascii_lowercase().contains("not found"))
}

/// Each recording's transcoded files where there are some, else the recording itself.
async fn recordings(m: &Meeting, room: &Room) -> Result<Vec<Recording>> {
    let raw = m.call("room.mix_record.get", json!({"room_id": room.id})).await?;
    let mut out = Vec::new();
    for item in items(&raw["data"]) {
        let transcoded: Vec<Recording> = items(&item["transcode_files"]).filter_map(recording).collect();
        if transcoded.is_empty() {
            out.extend(recording(item));
        } else {
            out.extend(transcoded);
        }
    }
    Ok(out)
}

fn recording(v: &Value) -> Option<Recording> {
    Some(Recording::at(v["download_url"].as_str()?, v["name"].as_str(), v))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("Weekly Sync (ops)"), "weekly-sync-ops");
        assert_eq!(slug("周会"), "meetkit-room");
    }
}
