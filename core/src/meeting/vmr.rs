//! vmr cloud: one provisioned room per account (the profile's), controlled through a host
//! session on its meeting node; recordings and the platform's own live stream go through the
//! supplementary API, keyed by the room's short number (conferenceKey).

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::api::{Fut, VendorMeeting};
use super::{items, obj, obj_map, text_of, Capability, Meeting, Participant, Recording, Room, RoomOptions, Verb};
use crate::{Error, Result, Vendor};
use Capability::{Supported as S, Unsupported as U};

const TABLE: &[(Verb, Capability)] = &[
    (
        Verb::CreateRoom,
        S {
            endpoints: &["meet.check_join"],
            note: "vmr rooms are provisioned accounts and cannot be created: this returns the profile's room \
                   (check_join; `name` is only a label)",
        },
    ),
    (Verb::Schedule, U { hint: "the vmr API has no booking: the profile's room is always there (meet.check_join)" }),
    (
        Verb::Start,
        S {
            endpoints: &["conference.start"],
            note: "admits the guests waiting for a host (not supported on private clouds, which answer 200 anyway)",
        },
    ),
    (
        Verb::Invite,
        S {
            endpoints: &["conference.dial", "conference.participants"],
            note: "protocol from the address (`sip:`, `h323:`, `rtsp://`, `rtmp://`, `tel:`, else auto); waits \
                   until the participant's service_type is `conference`",
        },
    ),
    (
        Verb::Participants,
        S { endpoints: &["conference.participants"], note: "hidden (hideme) sessions are not listed" },
    ),
    (Verb::Mute, S { endpoints: &["participant.mute"], note: "" }),
    (Verb::Unmute, S { endpoints: &["participant.unmute"], note: "" }),
    (
        Verb::StartRecording,
        S { endpoints: &["record.open"], note: "the room's permission decides (check_join isRecord)" },
    ),
    (Verb::StopRecording, S { endpoints: &["record.close"], note: "files are listed afterwards by recordings" }),
    (
        Verb::Recordings,
        S {
            endpoints: &["record.files"],
            note: "exact sizes, no checksums; lists the recordings started through this meeting handle \
                   (record.files needs the recordId record.open returned)",
        },
    ),
    (Verb::DownloadRecordings, S { endpoints: &["record.files"], note: "then streams each file, size-checked" }),
    (
        Verb::StartLive,
        S {
            endpoints: &["conference.dial"],
            note: "dials the push URL as an RTMP streaming participant (live.open instead starts the platform's \
                   own live stream and returns its viewing URL)",
        },
    ),
    (
        Verb::StopLive,
        S {
            endpoints: &["conference.participants", "participant.disconnect"],
            note: "disconnects the streaming participants",
        },
    ),
    (
        Verb::End,
        S {
            endpoints: &["conference.disconnect", "session.end"],
            note: "disconnects everyone, then ends meetkit's session",
        },
    ),
];

/// `params` with `room` set to the room's address (the `{room}` of room calls).
fn on(room: &Room, params: Map<String, Value>) -> Result<Value> {
    let mut params = params;
    params.insert("room".into(), room.secondary()?.into());
    Ok(Value::Object(params))
}

fn with_room(room: &Room, params: Value) -> Result<Value> {
    match params {
        Value::Object(m) => on(room, m),
        _ => on(room, Map::new()),
    }
}

/// The portable options vmr cannot use, with why.
const IGNORES: &[(&str, &str)] = &[
    ("id", "the vmr room is the profile's provisioned room (meet.check_join): it cannot be chosen"),
    ("minutes", "a vmr room is provisioned, not created: it has no length"),
    ("invite", "vmr calls devices into the open room: use invite (conference.dial) after create_room"),
    ("record", "vmr records on request: use start_recording (record.open)"),
    ("live", "vmr streams on request: use start_live (conference.dial to the push URL)"),
    ("host", "the vmr host is the profile's account (its host PIN)"),
];

/// vmr's implementation of the meeting API.
#[derive(Debug)]
pub(super) struct Vmr;

impl VendorMeeting for Vmr {
    fn vendor(&self) -> Vendor {
        Vendor::Vmr
    }
    fn table(&self) -> &'static [(Verb, Capability)] {
        TABLE
    }
    fn ignores(&self) -> &'static [(&'static str, &'static str)] {
        IGNORES
    }
    fn handle_format(&self) -> (usize, &'static str) {
        (2, "vmr:<conferenceKey>:<room>")
    }
    fn create_room<'a>(&'a self, m: &'a Meeting, options: &'a RoomOptions) -> Fut<'a, Room> {
        Box::pin(create_room(m, options))
    }
    fn start<'a>(&'a self, m: &'a Meeting, room: &'a Room) -> Fut<'a, ()> {
        Box::pin(async move { m.call("conference.start", on(room, Map::new())?).await.map(drop) })
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
        let id = if mute { "participant.mute" } else { "participant.unmute" };
        Box::pin(async move { m.call(id, on(room, obj_map([("uuid", participant.into())]))?).await.map(drop) })
    }
    fn start_recording<'a>(&'a self, m: &'a Meeting, room: &'a Room) -> Fut<'a, Value> {
        Box::pin(start_recording(m, room))
    }
    fn stop_recording<'a>(&'a self, m: &'a Meeting, room: &'a Room) -> Fut<'a, Vec<Recording>> {
        Box::pin(async move {
            m.call("record.close", obj([("conferenceKey", room.id.clone().into())])).await?;
            Ok(Vec::new())
        })
    }
    fn recordings<'a>(&'a self, m: &'a Meeting, room: &'a Room) -> Fut<'a, Vec<Recording>> {
        Box::pin(recordings(m, room))
    }
    fn recordings_to_download<'a>(&'a self, m: &'a Meeting, room: &'a Room, _: Duration) -> Fut<'a, Vec<Recording>> {
        Box::pin(recordings(m, room))
    }
    fn start_live<'a>(&'a self, m: &'a Meeting, room: &'a Room, push_url: &'a str) -> Fut<'a, Value> {
        Box::pin(start_live(m, room, push_url))
    }
    fn stop_live<'a>(&'a self, m: &'a Meeting, room: &'a Room) -> Fut<'a, ()> {
        Box::pin(stop_live(m, room))
    }
    fn end<'a>(&'a self, m: &'a Meeting, room: &'a Room) -> Fut<'a, ()> {
        Box::pin(end(m, room))
    }
}

async fn create_room(m: &Meeting, options: &RoomOptions) -> Result<Room> {
    let raw = m.call("meet.check_join", json!({})).await?;
    let results = &raw["results"];
    let field = |key: &str| {
        results[key].as_str().filter(|s| !s.is_empty()).map(str::to_string).ok_or_else(|| Error::Decode {
            vendor: m.vendor,
            endpoint: "meet.check_join".into(),
            message: format!("the answer has no results.{key}"),
        })
    };
    Ok(Room::new(m.vendor, field("sipkey")?, Some(field("alias")?), Some(options.name.clone()), raw.clone()))
}

/// The dial protocol an address asks for (the doc's `protocol` values).
fn protocol(address: &str) -> &'static str {
    let lower = address.to_ascii_lowercase();
    [
        ("sip:", "sip"),
        ("h323:", "h323"),
        ("rtsp://", "rtsp"),
        ("rtmp://", "rtmp"),
        ("rtmps://", "rtmp"),
        ("tel:", "phone"),
    ]
    .iter()
    .find(|(prefix, _)| lower.starts_with(prefix))
    .map_or("auto", |(_, p)| p)
}

/// Dial, then poll the participant list: a dialled participant appears as `connecting`, turns
/// `conference` when it answers, and is removed when it rejects or does not answer (doc).
async fn invite(m: &Meeting, room: &Room, address: &str, timeout: Duration) -> Result<Participant> {
    let dial = json!({"role": "guest", "destination": address, "protocol": protocol(address)});
    let dialled = m.call("conference.dial", with_room(room, dial)?).await?;
    let uuid = dialled.as_array().and_then(|a| a.first()).map(text_of).filter(|u| !u.is_empty()).ok_or_else(|| {
        Error::Decode { vendor: m.vendor, endpoint: "conference.dial".into(), message: "no participant uuid".into() }
    })?;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let list = participants(m, room).await?;
        match list.into_iter().find(|p| p.id == uuid) {
            Some(p) if p.raw["service_type"] == "conference" => return Ok(p),
            Some(_) if tokio::time::Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(250)).await,
            Some(_) => {
                return Err(Error::Timeout { vendor: m.vendor, endpoint: "conference.dial".into(), after: timeout })
            }
            None => {
                return Err(Error::Api {
                    vendor: m.vendor,
                    endpoint: "conference.participants".into(),
                    code: "removed".into(),
                    message: format!("{address} did not join {}: the call was rejected or not answered", room.handle),
                    meaning: Some("a dialled participant that rejects or does not answer in 30 s is removed"),
                    request_id: None,
                    retryable: false,
                })
            }
        }
    }
}

async fn participants(m: &Meeting, room: &Room) -> Result<Vec<Participant>> {
    let raw = m.call("conference.participants", on(room, Map::new())?).await?;
    Ok(items(&raw)
        .map(|p| Participant {
            id: text_of(&p["uuid"]),
            name: text_of(&p["display_name"]),
            muted: p["is_muted"].as_str().map(|s| s.eq_ignore_ascii_case("yes")),
            raw: p.clone(),
        })
        .collect())
}

async fn start_recording(m: &Meeting, room: &Room) -> Result<Value> {
    let raw = m.call("record.open", obj([("conferenceKey", room.id.clone().into())])).await?;
    let id = raw["recordId"].as_str().filter(|s| !s.is_empty()).ok_or_else(|| Error::Decode {
        vendor: m.vendor,
        endpoint: "record.open".into(),
        message: "the answer has no recordId".into(),
    })?;
    m.remember_recording(room, id.to_string());
    Ok(raw)
}

async fn recordings(m: &Meeting, room: &Room) -> Result<Vec<Recording>> {
    let ids = m.recordings_started(room);
    if ids.is_empty() {
        return Err(Error::config(format!(
            "no recording of {} was started through this meeting handle, and vmr lists files only by recordId: \
             call record.files with the recordId record.open returned",
            room.handle
        )));
    }
    let mut out = Vec::new();
    for id in ids {
        let raw = m.call("record.files", obj([("recordId", id.into())])).await?;
        for f in items(&raw) {
            let Some(url) = f["downUrl"].as_str() else { continue };
            let mut r = Recording::at(url, None, f);
            // fileSize is a double of bytes (doc); only whole numbers are exact.
            r.size = f["fileSize"].as_f64().filter(|s| *s >= 0.0 && s.fract() == 0.0).map(|s| s as u64);
            out.push(r);
        }
    }
    Ok(out)
}

async fn start_live(m: &Meeting, room: &Room, push_url: &str) -> Result<Value> {
    let dial = json!({"role": "guest", "destination": push_url, "protocol": "rtmp", "streaming": "yes"});
    m.call("conference.dial", with_room(room, dial)?).await
}

async fn stop_live(m: &Meeting, room: &Room) -> Result<()> {
    let streams: Vec<Participant> = participants(m, room)
        .await?
        .into_iter()
        .filter(|p| p.raw["is_streaming_conference"] == true || p.raw["is_streaming_conference"] == "YES")
        .collect();
    if streams.is_empty() {
        return Err(Error::InvalidParams {
            vendor: m.vendor,
            endpoint: "meeting.stop_live".into(),
            param: "room".into(),
            reason: format!("no live stream (streaming participant) is running in {}", room.handle),
        });
    }
    for p in streams {
        m.call("participant.disconnect", on(room, super::obj_map([("uuid", p.id.into())]))?).await?;
    }
    Ok(())
}

async fn end(m: &Meeting, room: &Room) -> Result<()> {
    m.call("conference.disconnect", on(room, Map::new())?).await?;
    m.call("session.end", on(room, Map::new())?).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_follow_the_address() {
        assert_eq!(protocol("sip:1001@10.0.0.5"), "sip");
        assert_eq!(protocol("H323:10.0.0.7"), "h323");
        assert_eq!(protocol("rtsp://cam/1"), "rtsp");
        assert_eq!(protocol("tel:+8613800000000"), "phone");
        assert_eq!(protocol("1001"), "auto");
    }
}
