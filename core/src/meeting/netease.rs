//! NetEase Meeting: the server API books and ends meetings and lists their recordings;
//! everything in between (joining, muting, recording) happens in NetEase clients. Meetings
//! record automatically (when recording is enabled for the app) and the files are published
//! after the meeting ends.

use std::time::Duration;

use serde_json::{json, Value};

use super::api::{Fut, VendorMeeting};
use super::{items, now_secs, text_of, Capability, Meeting, Recording, Room, RoomOptions, Verb};
use crate::{Error, Result, Vendor};
use Capability::{Supported as S, Unsupported as U};

const TABLE: &[(Verb, Capability)] = &[
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
        S {
            endpoints: &["meeting.record_list"],
            note: "waits (at most `timeout`, default 300 s) until the list has the files NetEase publishes after the \
                   end and stops growing, then streams each file, size- and MD5-checked",
        },
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

/// The portable options NetEase cannot use, with why.
const IGNORES: &[(&str, &str)] = &[
    ("id", "NetEase numbers meetings itself (the meetingUniqueId and meetingId meeting.create answers)"),
    (
        "invite",
        "NetEase cannot call devices: people join from NetEase clients (guests with meeting.anonymous_join_info)",
    ),
    ("record", "NetEase records every meeting when recording is enabled for the app, not per meeting"),
    ("live", "the NetEase server API has no live streaming"),
];

/// NetEase's implementation of the meeting API.
#[derive(Debug)]
pub(super) struct Netease;

impl VendorMeeting for Netease {
    fn vendor(&self) -> Vendor {
        Vendor::Netease
    }
    fn table(&self) -> &'static [(Verb, Capability)] {
        TABLE
    }
    fn ignores(&self) -> &'static [(&'static str, &'static str)] {
        IGNORES
    }
    fn handle_format(&self) -> (usize, &'static str) {
        (2, "netease:<meetingUniqueId>:<meetingId>")
    }
    fn create_room<'a>(&'a self, m: &'a Meeting, options: &'a RoomOptions) -> Fut<'a, Room> {
        Box::pin(create_room(m, options))
    }
    fn schedule<'a>(&'a self, m: &'a Meeting, options: &'a RoomOptions) -> Fut<'a, Room> {
        Box::pin(schedule(m, options))
    }
    fn recordings<'a>(&'a self, m: &'a Meeting, room: &'a Room) -> Fut<'a, Vec<Recording>> {
        Box::pin(recordings(m, room))
    }
    fn recordings_to_download<'a>(
        &'a self,
        m: &'a Meeting,
        room: &'a Room,
        timeout: Duration,
    ) -> Fut<'a, Vec<Recording>> {
        Box::pin(announced_recordings(m, room, timeout))
    }
    fn end<'a>(&'a self, m: &'a Meeting, room: &'a Room) -> Fut<'a, ()> {
        Box::pin(end(m, room))
    }
}

async fn create_room(m: &Meeting, options: &RoomOptions) -> Result<Room> {
    schedule_at(m, now_secs(), options).await
}

async fn schedule(m: &Meeting, options: &RoomOptions) -> Result<Room> {
    schedule_at(m, options.start.unwrap_or_default(), options).await
}

/// A type-3 meeting (random number, scheduled): unlike type 1 it carries the start and
/// length asked for.
async fn schedule_at(m: &Meeting, start: f64, options: &RoomOptions) -> Result<Room> {
    let (name, length) = (options.name.clone(), options.minutes.unwrap_or(60));
    let host = match &options.host {
        Some(h) => h.clone(),
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

async fn recordings(m: &Meeting, room: &Room) -> Result<Vec<Recording>> {
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

/// End the meeting. 2021 (会议已结束, already ended) and 2000 (no such meeting: cancelled and
/// recycled meetings disappear) mean there is nothing left to end — the `gone_codes` of the
/// NetEase lifecycle table, which `meetkit runs cleanup` reads the same way.
async fn end(m: &Meeting, room: &Room) -> Result<()> {
    let endpoint = "meeting.end_by_unique_id";
    match m.call(endpoint, json!({"meetingUniqueId": unique_id(m, room)?})).await {
        Err(e) if crate::lifecycle::says_gone(m.vendor, endpoint, &e) => {
            tracing::debug!(vendor = "netease", room = room.handle.as_str(), "already ended: {e}");
            Ok(())
        }
        other => other.map(drop),
    }
}

/// `download_recordings` looks at `meeting.record_list` again after this, then after twice as
/// long each time, up to [`POLL_MAX`].
const POLL_FIRST: Duration = Duration::from_millis(500);

/// The longest pause between two looks at `meeting.record_list`.
const POLL_MAX: Duration = Duration::from_secs(10);

/// The recordings NetEase announces for `room`, waited for at most `timeout`: NetEase
/// publishes each file on its own some time after the meeting ends (callback
/// MEETING_RECORDING, one per file) and never says how many there will be, so
/// `meeting.record_list` is polled with backoff until it lists files and the next look lists
/// the same ones (docs/assumptions.md `netease.recordings_ready`). None by the deadline is
/// [`Error::NotReady`] naming the room and the meeting's state.
async fn announced_recordings(m: &Meeting, room: &Room, timeout: Duration) -> Result<Vec<Recording>> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut pause = POLL_FIRST;
    let mut seen: Vec<Recording> = Vec::new();
    loop {
        let files = recordings(m, room).await?;
        if !files.is_empty() && same_files(&files, &seen) {
            return Ok(files);
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            if files.is_empty() {
                return Err(not_ready(m, room, timeout).await);
            }
            tracing::warn!(
                vendor = "netease",
                room = room.handle.as_str(),
                "meeting.record_list still lists new files after {}s: downloading the {} listed so far",
                timeout.as_secs_f64(),
                files.len()
            );
            return Ok(files);
        }
        seen = files;
        tokio::time::sleep(pause.min(left)).await;
        pause = (pause * 2).min(POLL_MAX);
    }
}

/// The same files (by URL), in any order.
fn same_files(a: &[Recording], b: &[Recording]) -> bool {
    fn urls(files: &[Recording]) -> Vec<&str> {
        let mut urls: Vec<&str> = files.iter().map(|f| f.url.as_str()).collect();
        urls.sort_unstable();
        urls
    }
    urls(a) == urls(b)
}

/// The timeout of [`announced_recordings`], with what the meeting's state says about why.
async fn not_ready(m: &Meeting, room: &Room, timeout: Duration) -> Error {
    let status = match unique_id(m, room) {
        Ok(id) => m.call("meeting.get", json!({"meetingUniqueId": id})).await.ok().map(|v| text_of(&v["status"])),
        Err(_) => None,
    };
    let state = match status.as_deref() {
        Some("1") => {
            "the meeting has not started: NetEase records once people join and publishes the files after it ends"
        }
        Some("2") => "the meeting is still running: NetEase publishes its recordings after it ends, so end it first",
        Some("3") => {
            "the meeting has ended: NetEase publishes the files some time after the end, and only when recording is \
             enabled for the app and someone joined the meeting"
        }
        Some("4" | "5") => "the meeting was cancelled or recycled: it has no recordings",
        _ => "NetEase publishes recordings after the meeting ends, when recording is enabled for the app",
    };
    Error::NotReady {
        vendor: m.vendor,
        endpoint: "meeting.record_list".into(),
        after: timeout,
        waiting_for: format!(
            "the recordings of {}, which meeting.record_list does not list yet ({state}); wait longer (a larger \
             `timeout`) or list them later with recordings",
            room.handle
        ),
    }
}
