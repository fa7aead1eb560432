//! NetEase Meeting: the server API books and ends meetings and lists their recordings;
//! everything in between (joining, muting, recording) happens in NetEase clients. Meetings
//! record automatically (when recording is enabled for the app) and the files are published
//! after the meeting ends.

use serde_json::{json, Map, Value};

use super::{items, minutes, now_secs, text, text_of, Capability, Meeting, Recording, Room, Verb};
use crate::{Error, Result};
use Capability::{Supported as S, Unsupported as U};

pub(super) const TABLE: &[(Verb, Capability)] = &[
    (
        Verb::CreateRoom,
        S {
            endpoints: &["account.create", "meeting.create"],
            note: "a meeting (type 3) from now for `minutes` (default 60), hosted by `host` (an accountId; default \
                   a new account); its room opens when the host joins (no REST call opens it)",
        },
    ),
    (
        Verb::Schedule,
        S { endpoints: &["account.create", "meeting.create"], note: "type 3 with startTime/endTime in ms" },
    ),
    (
        Verb::Start,
        U {
            hint: "no NetEase REST call starts a meeting: its room opens when the host joins from a NetEase client \
                   (callback MEETING_ROOM_START; wait_event(\"netease\", \"MEETING_ROOM_START\", ...))",
        },
    ),
    (
        Verb::Invite,
        U {
            hint: "NetEase cannot call devices: people join from a NetEase client, guests with the credentials of \
                   meeting.anonymous_join_info",
        },
    ),
    (
        Verb::Participants,
        U {
            hint: "the NetEase server API has no participant list: follow the MEETING_JOIN / MEETING_LEAVE callbacks \
                   (wait_event(\"netease\", \"MEETING_JOIN\", ...))",
        },
    ),
    (
        Verb::Mute,
        U {
            hint: "NetEase has no per-participant control in the server API: meeting.create / meeting.update \
                   settings.controls (type audio, attendeeOff 1) mutes attendees as they join",
        },
    ),
    (
        Verb::Unmute,
        U {
            hint: "NetEase has no per-participant control in the server API: meeting.update settings.controls \
                   (allowSelfOn true) lets attendees unmute themselves",
        },
    ),
    (
        Verb::StartRecording,
        U {
            hint: "NetEase records automatically (when recording is enabled for the app); the files appear in \
                   meeting.record_list after the meeting ends",
        },
    ),
    (
        Verb::StopRecording,
        U { hint: "a NetEase recording stops when the meeting ends: use end (meeting.end_by_unique_id)" },
    ),
    (
        Verb::Recordings,
        S {
            endpoints: &["meeting.record_list"],
            note: "empty until the meeting has ended and NetEase has published the files; exact sizes and MD5s",
        },
    ),
    (
        Verb::DownloadRecordings,
        S { endpoints: &["meeting.record_list"], note: "then streams each file, size- and MD5-checked" },
    ),
    (
        Verb::StartLive,
        U {
            hint: "the NetEase server API has no live streaming; recordings of interactive live streams (flv) appear \
                   in meeting.record_list",
        },
    ),
    (
        Verb::StopLive,
        U { hint: "the NetEase server API has no live streaming (see meeting.record_list for flv files)" },
    ),
    (
        Verb::End,
        S {
            endpoints: &["meeting.end_by_unique_id"],
            note: "callback MEETING_ROOM_END; recordings are published afterwards",
        },
    ),
];

pub(super) async fn create_room(m: &Meeting, name: String, options: &Map<String, Value>) -> Result<Room> {
    schedule_at(m, Verb::CreateRoom, name, now_secs(), options).await
}

pub(super) async fn schedule(m: &Meeting, name: String, start: f64, options: &Map<String, Value>) -> Result<Room> {
    schedule_at(m, Verb::Schedule, name, start, options).await
}

/// A type-3 meeting (random number, scheduled): unlike type 1 it carries the start and
/// length asked for.
async fn schedule_at(m: &Meeting, verb: Verb, name: String, start: f64, options: &Map<String, Value>) -> Result<Room> {
    let length = minutes(m.vendor, verb, options, 60)?;
    let host = match text(options, "host") {
        Some(h) => h,
        None => {
            let account = m.call("account.create", json!({})).await?;
            text_of(&account["accountId"])
        }
    };
    let start_ms = (start * 1000.0) as i64;
    let raw = m
        .call(
            "meeting.create",
            json!({
                "host": host, "type": 3, "subject": name,
                "startTime": start_ms, "endTime": start_ms + length as i64 * 60_000,
            }),
        )
        .await?;
    let unique = text_of(&raw["meetingUniqueId"]);
    let number = text_of(&raw["meetingId"]);
    if unique.is_empty() || number.is_empty() {
        return Err(Error::Decode {
            vendor: m.vendor,
            endpoint: "meeting.create".into(),
            message: "the answer has no meetingUniqueId / meetingId".into(),
        });
    }
    Ok(Room::new(m.vendor, unique, Some(number), Some(name), raw))
}

/// meetingUniqueId is a Long on the wire.
fn unique_id(m: &Meeting, room: &Room) -> Result<Value> {
    room.id.parse::<u64>().map(Value::from).map_err(|_| Error::InvalidParams {
        vendor: m.vendor,
        endpoint: "meeting".into(),
        param: "meetingUniqueId".into(),
        reason: format!("`{}` (from {}) is not a number", room.id, room.handle),
    })
}

pub(super) async fn recordings(m: &Meeting, room: &Room) -> Result<Vec<Recording>> {
    let raw = m.call("meeting.record_list", json!({"meetingUniqueId": unique_id(m, room)?})).await?;
    let mut out = Vec::new();
    for item in items(&raw) {
        // The doc's field table nests the file under fileInfo; its example is flat.
        let f = if item["fileInfo"].is_object() { &item["fileInfo"] } else { item };
        let Some(url) = f["url"].as_str() else { continue };
        let mut r = Recording::at(url, f["filename"].as_str(), item);
        r.size = f["size"].as_u64().or_else(|| f["size"].as_str().and_then(|s| s.parse().ok()));
        r.md5 = f["md5"]
            .as_str()
            .filter(|s| s.len() == 32 && s.chars().all(|c| c.is_ascii_hexdigit()))
            .map(str::to_lowercase);
        out.push(r);
    }
    Ok(out)
}

pub(super) async fn end(m: &Meeting, room: &Room) -> Result<()> {
    m.call("meeting.end_by_unique_id", json!({"meetingUniqueId": unique_id(m, room)?})).await.map(drop)
}
