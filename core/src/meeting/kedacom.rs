//! Kedacom meeting management: conferences are created (or booked) with their whole
//! configuration — the devices to call (`invite_members`) and recording/live streaming
//! (`recorder`) included. The API has no conference control: nothing can be added, muted or
//! recorded once a conference runs, and recordings live on the VRS, which the API cannot list.

use serde_json::{json, Map, Value};

use super::api::{Fut, VendorMeeting};
use super::{items, text_of, Capability, Meeting, Participant, Room, RoomOptions, Verb};
use crate::{Error, Result, Vendor};
use Capability::{Supported as S, Unsupported as U};

const TABLE: &[(Verb, Capability)] = &[
    (
        Verb::CreateRoom,
        S {
            endpoints: &["confs.create"],
            note: "an instant conference (create_type 1) running at once; devices (`invite`) and recording \
                   (`record`) or live streaming (`live`) can only be set here",
        },
    ),
    (
        Verb::Schedule,
        S {
            endpoints: &["booked_confs.create"],
            note: "takes the same `invite` / `record` / `live` options as create_room",
        },
    ),
    (Verb::Start, S { endpoints: &["confs.create"], note: "starts a booked conference early (create_type 5)" }),
    (
        Verb::Invite,
        U {
            hint: "Kedacom cannot add a member to a running conference: list the device when creating it \
                   (create_room/schedule option `invite`, i.e. invite_members of confs.create / booked_confs.create)",
        },
    ),
    (
        Verb::Participants,
        S {
            endpoints: &["meetings.get"],
            note: "the meeting's members (the invited devices), not live presence; no mute state",
        },
    ),
    (
        Verb::Mute,
        U {
            hint: "Kedacom has no per-participant control: set `mute`/`force_mute` when creating \
                   (confs.create / booked_confs.create)",
        },
    ),
    (
        Verb::Unmute,
        U { hint: "Kedacom has no per-participant control: create the conference with `mute` 0 (confs.create)" },
    ),
    (
        Verb::StartRecording,
        U {
            hint: "Kedacom records only when told at creation: create_room/schedule option `record: true` \
                   (recorder.recorder_mode of confs.create / booked_confs.create)",
        },
    ),
    (Verb::StopRecording, U { hint: "a Kedacom recording runs as long as the conference: end it (confs.end)" }),
    (
        Verb::Recordings,
        U {
            hint: "the Kedacom API has no recording-file endpoints (recordings stay on the VRS); \
                   meeting_files.list lists the meeting's shared documents, not recordings",
        },
    ),
    (
        Verb::DownloadRecordings,
        U {
            hint: "the Kedacom API has no recording-file endpoints; shared documents download from \
                   meeting_files.list's file_url",
        },
    ),
    (
        Verb::StartLive,
        U {
            hint: "Kedacom streams live only when told at creation, to its own VRS (no push URL): \
                   create_room/schedule option `live: true` (recorder.recorder_mode of confs.create)",
        },
    ),
    (Verb::StopLive, U { hint: "a Kedacom live stream runs as long as the conference: end it (confs.end)" }),
    (Verb::End, S { endpoints: &["confs.end"], note: "" }),
];

/// The portable options Kedacom cannot use, with why.
const IGNORES: &[(&str, &str)] = &[
    ("id", "Kedacom numbers conferences itself (the conf_id and meeting_id confs.create answers)"),
    (
        "host",
        "a Kedacom conference belongs to the logged-in account and has no host account (its chairman is a \
         terminal, set with confs.create directly)",
    ),
];

/// Kedacom's implementation of the meeting API.
#[derive(Debug)]
pub(super) struct Kedacom;

impl VendorMeeting for Kedacom {
    fn vendor(&self) -> Vendor {
        Vendor::Kedacom
    }
    fn table(&self) -> &'static [(Verb, Capability)] {
        TABLE
    }
    fn ignores(&self) -> &'static [(&'static str, &'static str)] {
        IGNORES
    }
    fn handle_format(&self) -> (usize, &'static str) {
        (2, "kedacom:<conf_id>:<meeting_id>")
    }
    fn create_room<'a>(&'a self, m: &'a Meeting, options: &'a RoomOptions) -> Fut<'a, Room> {
        Box::pin(create_room(m, options))
    }
    fn schedule<'a>(&'a self, m: &'a Meeting, options: &'a RoomOptions) -> Fut<'a, Room> {
        Box::pin(schedule(m, options))
    }
    fn start<'a>(&'a self, m: &'a Meeting, room: &'a Room) -> Fut<'a, ()> {
        Box::pin(start(m, room))
    }
    fn participants<'a>(&'a self, m: &'a Meeting, room: &'a Room) -> Fut<'a, Vec<Participant>> {
        Box::pin(participants(m, room))
    }
    fn end<'a>(&'a self, m: &'a Meeting, room: &'a Room) -> Fut<'a, ()> {
        Box::pin(end(m, room))
    }
}

async fn create_room(m: &Meeting, options: &RoomOptions) -> Result<Room> {
    let mut params = settings(options);
    params.insert("create_type".into(), 1.into());
    let raw = m.call("confs.create", Value::Object(params)).await?;
    room(m, &raw, options.name.clone())
}

async fn schedule(m: &Meeting, options: &RoomOptions) -> Result<Room> {
    let mut params = settings(options);
    params.insert("start_time".into(), iso_utc(options.start.unwrap_or_default() as i64).into());
    let raw = m.call("booked_confs.create", Value::Object(params)).await?;
    room(m, &raw, options.name.clone())
}

/// Start a booked conference early. Doc: create_type 5's template_id is "the booked conference
/// id" without saying which; the conf_id is what booked_confs.* are keyed by.
async fn start(m: &Meeting, room: &Room) -> Result<()> {
    let raw = m.call("confs.create", json!({"create_type": 5, "template_id": room.id})).await?;
    let same = |key: &str, expected: &str| raw[key].as_str().is_none_or(|got| got == expected);
    if !same("conf_id", &room.id) || !same("meeting_id", room.secondary()?) {
        return Err(Error::Decode {
            vendor: m.vendor,
            endpoint: "confs.create".into(),
            message: format!(
                "starting {} answered conf_id {} / meeting_id {}: the handle no longer names the running conference",
                room.handle, raw["conf_id"], raw["meeting_id"]
            ),
        });
    }
    Ok(())
}

/// End the conference. Doc 001 has no error codes, so a refused `confs.end` is read by the
/// meeting's state: 3 (ended) means it had already ended, and ending it again succeeds.
async fn end(m: &Meeting, room: &Room) -> Result<()> {
    let refused = match m.call("confs.end", json!({"conf_id": room.id})).await {
        Ok(_) => return Ok(()),
        Err(e @ Error::Api { .. }) => e,
        Err(e) => return Err(e),
    };
    let meeting = m.call("meetings.get", json!({"meeting_id": room.secondary()?})).await;
    if meeting.is_ok_and(|v| v["state"] == ENDED) {
        tracing::debug!(vendor = "kedacom", conf_id = room.id.as_str(), "already ended: {refused}");
        return Ok(());
    }
    Err(refused)
}

/// `meetings.get` state 3: the meeting has ended.
const ENDED: i64 = 3;

async fn participants(m: &Meeting, room: &Room) -> Result<Vec<Participant>> {
    let raw = m.call("meetings.get", json!({"meeting_id": room.secondary()?})).await?;
    Ok(items(&raw["members"])
        .map(|p| Participant { id: text_of(&p["account"]), name: text_of(&p["name"]), muted: None, raw: p.clone() })
        .collect())
}

fn room(m: &Meeting, raw: &Value, name: String) -> Result<Room> {
    let id = |key: &str| {
        raw[key].as_str().filter(|s| !s.is_empty()).map(str::to_string).ok_or_else(|| Error::Decode {
            vendor: m.vendor,
            endpoint: "confs.create".into(),
            message: format!("the answer has no {key}"),
        })
    };
    Ok(Room::new(m.vendor, id("conf_id")?, Some(id("meeting_id")?), Some(name), raw.clone()))
}

const BITRATE: i64 = 2048;

/// Every field confs.create (create_type 1) and booked_confs.create mark required, with
/// plain defaults (one 720p H.264 format, automatic calling, nothing encrypted or cascaded),
/// plus the devices and recording the options ask for.
fn settings(options: &RoomOptions) -> Map<String, Value> {
    let (name, duration) = (&options.name, options.minutes.unwrap_or(60));
    let members: Vec<Value> = options.invite.iter().map(|a| member(a)).collect();
    let (record, live) = (options.record, options.live);
    let mut p = json!({
        "name": name, "duration": duration, "bitrate": BITRATE,
        "closed_conf": 0, "safe_conf": 0, "encrypted_type": 0, "encrypted_key": "", "conf_type": 0,
        "call_mode": 2, "call_times": 3, "call_interval": 20, "mute": 0, "force_mute": 0, "silence": 0,
        "video_quality": 0, "dual_mode": 1, "voice_activity_detection": 0, "cascade_mode": 0,
        "cascade_upload": 0, "cascade_return": 0, "cascade_return_para": 0, "public_conf": 0,
        "max_join_mt": 8, "auto_end": 0, "preoccupy_resource": 0, "one_reforming": 0,
        "video_formats": [{"format": 4, "resolution": 12, "frame": 30, "bitrate": BITRATE}],
    });
    if !members.is_empty() {
        p["invite_members"] = Value::Array(members);
    }
    if record || live {
        // recorder_mode: 1 recording, 2 live streaming, 3 both.
        let mode = i64::from(record) + 2 * i64::from(live);
        p["recorder"] = json!({"recorder_mode": mode, "publish_mode": 0, "dual_stream": 0, "anonymous": 0});
    }
    match p {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

/// An address as an `invite_members` entry. Our decision (the doc only lists the account
/// types): a `sip:`/`h323:` prefix picks the protocol (default SIP); then digits are an E.164
/// number (5), an IPv4 address is type 7, `alias@host` is alias@ip (8), anything else a moid (1).
fn member(address: &str) -> Value {
    let (protocol, account) = match address.split_once(':') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("h323") => (0, rest),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("sip") => (1, rest),
        _ => (1, address),
    };
    let account_type = if !account.is_empty() && account.chars().all(|c| c.is_ascii_digit()) {
        5
    } else if account.parse::<std::net::Ipv4Addr>().is_ok() {
        7
    } else if account.contains('@') {
        8
    } else {
        1
    };
    json!({"name": address, "account": account, "account_type": account_type, "bitrate": BITRATE, "protocol": protocol})
}

/// Unix seconds as ISO 8601 in UTC with an explicit offset (`2030-07-24T08:00:00+00:00`).
fn iso_utc(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+00:00", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00+00:00");
        assert_eq!(iso_utc(1_900_000_000), "2030-03-17T17:46:40+00:00");
        assert_eq!(iso_utc(951_782_400), "2000-02-29T00:00:00+00:00");
    }

    #[test]
    fn addresses_become_members() {
        let m = member("sip:1001@10.0.0.5");
        assert_eq!(
            (m["protocol"].as_i64(), m["account"].as_str(), m["account_type"].as_i64()),
            (Some(1), Some("1001@10.0.0.5"), Some(8))
        );
        let m = member("h323:10.0.0.7");
        assert_eq!((m["protocol"].as_i64(), m["account_type"].as_i64()), (Some(0), Some(7)));
        assert_eq!(member("0512110000001")["account_type"], 5);
        assert_eq!(member("a1b2c3-moid")["account_type"], 1);
    }
}
