//! Typed NetEase values: meeting states (doc 004, 会议状态机 / `MeetingStatus`) and callback
//! events (消息抄送, `MsgTypeEnum` 1–7).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A meeting's `status` (the doc's `MeetingStatus` enum, codes 1–5).
///
/// Response tables also document `0 = invalid`, which the enum does not name: it is not a
/// `MeetingStatus` ([`MeetingStatus::from_code`] gives `None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub enum MeetingStatus {
    /// 1 `NOT_START` (未开始): the meeting exists, no AV room is open.
    NotStart,
    /// 2 `IN_MEETING` (进行中): the AV room is open.
    InMeeting,
    /// 3 `ENDED` (已终止).
    Ended,
    /// 4 `CANCELED` (已取消).
    Canceled,
    /// 5 `RECYCLED` (已回收): the meeting number went back to the pool.
    Recycled,
}

impl MeetingStatus {
    /// Every state, in code order.
    pub const ALL: [MeetingStatus; 5] = [
        MeetingStatus::NotStart,
        MeetingStatus::InMeeting,
        MeetingStatus::Ended,
        MeetingStatus::Canceled,
        MeetingStatus::Recycled,
    ];

    /// The state of a `status` code; `None` for 0 (invalid) and unknown codes.
    pub fn from_code(code: i64) -> Option<MeetingStatus> {
        MeetingStatus::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The state of a meeting object (`{"status": 2, ...}`, as meeting.get/create/list return it).
    pub fn of(meeting: &Value) -> Option<MeetingStatus> {
        meeting.get("status").and_then(crate::json::as_int).and_then(MeetingStatus::from_code)
    }

    /// The wire code, 1–5.
    pub fn code(self) -> i64 {
        match self {
            MeetingStatus::NotStart => 1,
            MeetingStatus::InMeeting => 2,
            MeetingStatus::Ended => 3,
            MeetingStatus::Canceled => 4,
            MeetingStatus::Recycled => 5,
        }
    }

    /// The doc's enum name, e.g. `IN_MEETING`.
    pub fn name(self) -> &'static str {
        match self {
            MeetingStatus::NotStart => "NOT_START",
            MeetingStatus::InMeeting => "IN_MEETING",
            MeetingStatus::Ended => "ENDED",
            MeetingStatus::Canceled => "CANCELED",
            MeetingStatus::Recycled => "RECYCLED",
        }
    }

    /// Whether the meeting can never open an AV room again (cancelled or recycled: the doc says
    /// the meeting "disappears"). `ENDED` is not final: the doc lets a still-existing meeting
    /// open a room again.
    pub fn is_gone(self) -> bool {
        matches!(self, MeetingStatus::Canceled | MeetingStatus::Recycled)
    }
}

impl TryFrom<i64> for MeetingStatus {
    type Error = String;
    fn try_from(code: i64) -> Result<Self, String> {
        MeetingStatus::from_code(code).ok_or_else(|| format!("unknown NetEase meeting status {code} (expected 1-5)"))
    }
}

impl From<MeetingStatus> for i64 {
    fn from(s: MeetingStatus) -> i64 {
        s.code()
    }
}

impl std::fmt::Display for MeetingStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Fields of the meeting callbacks (msgType 1–4: 会议抄送). All but the common ones are optional.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeetingInfo {
    /// Unique meeting record id.
    pub meeting_unique_id: i64,
    /// Meeting number.
    #[serde(default)]
    pub meeting_id: String,
    /// Meeting short number.
    #[serde(default)]
    pub short_id: Option<String>,
    /// Event time, epoch milliseconds.
    #[serde(default)]
    pub time: i64,
    /// Meeting type: 1 quick, 2 personal, 3 scheduled.
    #[serde(default, rename = "type")]
    pub meeting_type: Option<i64>,
    /// Meeting subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// Scheduled start, epoch milliseconds.
    #[serde(default)]
    pub reserve_start_time: Option<i64>,
    /// Scheduled end, epoch milliseconds.
    #[serde(default)]
    pub reserve_end_time: Option<i64>,
    /// Room start, epoch milliseconds.
    #[serde(default)]
    pub room_create_time: Option<i64>,
    /// End/recycle reason: 1 host ended, 2 everyone left, 3 time limit, 4 server API.
    #[serde(default)]
    pub reason: Option<i64>,
}

/// Fields of the member callbacks (msgType 5 and 6).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberInfo {
    /// Unique meeting record id.
    pub meeting_unique_id: i64,
    /// Meeting number.
    #[serde(default)]
    pub meeting_id: String,
    /// Meeting short number.
    #[serde(default)]
    pub short_id: Option<String>,
    /// Event time, epoch milliseconds.
    #[serde(default)]
    pub time: i64,
    /// The member's account id.
    #[serde(default)]
    pub account_id: String,
    /// The member's device id.
    #[serde(default)]
    pub device_id: String,
    /// The member's AV-room uid.
    #[serde(default)]
    pub room_uid: Option<i64>,
}

/// One recording file (callback msgType 7's `fileInfo`, one entry of meeting.record_list).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingFile {
    /// User id (optional).
    #[serde(default)]
    pub account_id: Option<String>,
    /// File name.
    #[serde(default)]
    pub filename: String,
    /// File MD5 (hex).
    #[serde(default)]
    pub md5: Option<String>,
    /// Size in bytes (the doc says "characters, convertible to Long").
    #[serde(default, deserialize_with = "lenient_i64")]
    pub size: Option<i64>,
    /// Extension: aac, gz, mp4 or flv.
    #[serde(default, rename = "type")]
    pub file_type: Option<String>,
    /// Download URL.
    pub url: String,
    /// 1 mixed recording, 2 single-person recording.
    #[serde(default)]
    pub mix: Option<i64>,
    /// Slice index.
    #[serde(default)]
    pub piece_index: Option<i64>,
}

/// Fields of the recording callback (msgType 7).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingInfo {
    /// Unique meeting record id.
    pub meeting_unique_id: i64,
    /// Meeting number.
    #[serde(default)]
    pub meeting_id: String,
    /// Meeting short number.
    #[serde(default)]
    pub short_id: Option<String>,
    /// Event time, epoch milliseconds.
    #[serde(default)]
    pub time: i64,
    /// The file.
    pub file_info: RecordingFile,
}

/// One NetEase callback, typed by its `msgType` (the doc's `MsgTypeEnum`).
#[derive(Clone, Debug, PartialEq)]
pub enum CallbackEvent {
    /// 1 `MEETING_ROOM_START`: an AV room was opened for the meeting.
    MeetingRoomStart(MeetingInfo),
    /// 2 `MEETING_CANCEL`: cancelled, meeting number recycled.
    MeetingCancel(MeetingInfo),
    /// 3 `MEETING_ROOM_END`: the AV room closed.
    MeetingRoomEnd(MeetingInfo),
    /// 4 `MEETING_RECYCLE`: recycled, meeting number recycled.
    MeetingRecycle(MeetingInfo),
    /// 5 `MEETING_JOIN`: a member joined the AV room.
    MeetingJoin(MemberInfo),
    /// 6 `MEETING_LEAVE`: a member left the AV room.
    MeetingLeave(MemberInfo),
    /// 7 `MEETING_RECORDING`: a recording file is ready.
    MeetingRecording(RecordingInfo),
    /// A `msgType` the doc does not define, kept as sent.
    Other {
        /// The `msgType`.
        msg_type: i64,
        /// The `msgBody`.
        body: Value,
    },
}

/// The doc's names of msgType 1–7, index = msgType - 1.
pub const MSG_TYPE_NAMES: [&str; 7] = [
    "MEETING_ROOM_START",
    "MEETING_CANCEL",
    "MEETING_ROOM_END",
    "MEETING_RECYCLE",
    "MEETING_JOIN",
    "MEETING_LEAVE",
    "MEETING_RECORDING",
];

/// The event kind ([`crate::events::Event::kind`]) of a `msgType`: the doc's enum name
/// (`MEETING_ROOM_START`, ...), or `MSG_TYPE_<n>` for undocumented types.
pub fn kind_of(msg_type: i64) -> String {
    usize::try_from(msg_type - 1)
        .ok()
        .and_then(|i| MSG_TYPE_NAMES.get(i))
        .map_or_else(|| format!("MSG_TYPE_{msg_type}"), |n| n.to_string())
}

impl CallbackEvent {
    /// Type a callback body `{msgType, msgBody}`. Errors say which field is wrong.
    pub fn from_body(body: &Value) -> Result<CallbackEvent, String> {
        let msg_type = body
            .get("msgType")
            .and_then(crate::json::as_int)
            .ok_or_else(|| "callback body has no integer `msgType`".to_string())?;
        let msg_body = body.get("msgBody").cloned().unwrap_or(Value::Null);
        if !msg_body.is_object() {
            return Err("callback body has no `msgBody` object".into());
        }
        fn typed<T: serde::de::DeserializeOwned>(v: Value, t: i64) -> Result<T, String> {
            serde_json::from_value(v).map_err(|e| format!("msgType {t}: {e}"))
        }
        Ok(match msg_type {
            1 => CallbackEvent::MeetingRoomStart(typed(msg_body, 1)?),
            2 => CallbackEvent::MeetingCancel(typed(msg_body, 2)?),
            3 => CallbackEvent::MeetingRoomEnd(typed(msg_body, 3)?),
            4 => CallbackEvent::MeetingRecycle(typed(msg_body, 4)?),
            5 => CallbackEvent::MeetingJoin(typed(msg_body, 5)?),
            6 => CallbackEvent::MeetingLeave(typed(msg_body, 6)?),
            7 => CallbackEvent::MeetingRecording(typed(msg_body, 7)?),
            other => CallbackEvent::Other { msg_type: other, body: msg_body },
        })
    }

    /// Type a meetkit event from the NetEase receiver (its `data` is the callback body).
    pub fn from_event(event: &crate::events::Event) -> Result<CallbackEvent, String> {
        CallbackEvent::from_body(&event.data)
    }

    /// The `msgType`.
    pub fn msg_type(&self) -> i64 {
        match self {
            CallbackEvent::MeetingRoomStart(_) => 1,
            CallbackEvent::MeetingCancel(_) => 2,
            CallbackEvent::MeetingRoomEnd(_) => 3,
            CallbackEvent::MeetingRecycle(_) => 4,
            CallbackEvent::MeetingJoin(_) => 5,
            CallbackEvent::MeetingLeave(_) => 6,
            CallbackEvent::MeetingRecording(_) => 7,
            CallbackEvent::Other { msg_type, .. } => *msg_type,
        }
    }

    /// The meeting this event is about (`None` only for undocumented types without one).
    pub fn meeting_unique_id(&self) -> Option<i64> {
        match self {
            CallbackEvent::MeetingRoomStart(m)
            | CallbackEvent::MeetingCancel(m)
            | CallbackEvent::MeetingRoomEnd(m)
            | CallbackEvent::MeetingRecycle(m) => Some(m.meeting_unique_id),
            CallbackEvent::MeetingJoin(m) | CallbackEvent::MeetingLeave(m) => Some(m.meeting_unique_id),
            CallbackEvent::MeetingRecording(r) => Some(r.meeting_unique_id),
            CallbackEvent::Other { body, .. } => body.get("meetingUniqueId").and_then(crate::json::as_int),
        }
    }
}

fn lenient_i64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(v) => crate::json::as_int(&v),
        None => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses_round_trip() {
        for (i, s) in MeetingStatus::ALL.into_iter().enumerate() {
            assert_eq!(s.code(), i as i64 + 1);
            assert_eq!(serde_json::to_value(s).unwrap(), json!(i + 1));
            assert_eq!(serde_json::from_value::<MeetingStatus>(json!(i + 1)).unwrap(), s);
        }
        assert_eq!(MeetingStatus::from_code(0), None);
        assert!(serde_json::from_value::<MeetingStatus>(json!(6)).is_err());
        assert_eq!(MeetingStatus::of(&json!({"status": "2"})), Some(MeetingStatus::InMeeting));
        assert_eq!(MeetingStatus::InMeeting.to_string(), "IN_MEETING");
        assert!(MeetingStatus::Recycled.is_gone() && !MeetingStatus::Ended.is_gone());
    }

    /// The doc's four callback examples type correctly.
    #[test]
    fn doc_callback_examples() {
        let examples: Vec<Value> = serde_json::from_str(include_str!("testdata/callback_examples.json")).unwrap();
        assert_eq!(examples.len(), 4);
        for ex in &examples {
            let body: Value = serde_json::from_str(ex["body"].as_str().unwrap()).unwrap();
            let ev = CallbackEvent::from_body(&body).unwrap();
            assert_eq!(ev.msg_type(), ex["msgType"].as_i64().unwrap());
            match ev {
                CallbackEvent::MeetingRoomEnd(m) => {
                    assert_eq!((m.meeting_unique_id, m.reason, m.subject.as_deref()), (26775, Some(1), Some("DEMO")))
                }
                CallbackEvent::MeetingJoin(m) | CallbackEvent::MeetingLeave(m) => {
                    assert_eq!((m.account_id.as_str(), m.room_uid), ("146558916040335360", Some(162123717474551)))
                }
                CallbackEvent::MeetingRecording(r) => {
                    assert_eq!((r.file_info.filename.as_str(), r.file_info.size), ("1234-0.mp4", Some(250224434)));
                    assert_eq!(r.file_info.url, "http://xiazai.vod.126.net/xxxx/1234-0.mp4");
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn every_msg_type_is_typed() {
        let common = json!({"meetingUniqueId": 5, "meetingId": "123456789", "time": 1});
        for t in 1..=4 {
            let ev = CallbackEvent::from_body(&json!({"msgType": t, "msgBody": common})).unwrap();
            assert_eq!((ev.msg_type(), ev.meeting_unique_id()), (t, Some(5)));
        }
        let member = json!({"meetingUniqueId": 5, "accountId": "a", "deviceId": "d", "roomUid": 9});
        assert!(matches!(
            CallbackEvent::from_body(&json!({"msgType": 6, "msgBody": member})).unwrap(),
            CallbackEvent::MeetingLeave(MemberInfo { room_uid: Some(9), .. })
        ));
        let rec = json!({"meetingUniqueId": 5, "fileInfo": {"filename": "f", "url": "u", "size": "12"}});
        match CallbackEvent::from_body(&json!({"msgType": 7, "msgBody": rec})).unwrap() {
            CallbackEvent::MeetingRecording(r) => assert_eq!(r.file_info.size, Some(12)),
            other => panic!("{other:?}"),
        }
        let other = CallbackEvent::from_body(&json!({"msgType": 9, "msgBody": {"meetingUniqueId": 3}})).unwrap();
        assert_eq!((other.msg_type(), other.meeting_unique_id()), (9, Some(3)));
        assert!(CallbackEvent::from_body(&json!({"msgBody": {}})).unwrap_err().contains("msgType"));
        assert!(CallbackEvent::from_body(&json!({"msgType": 7, "msgBody": {"meetingUniqueId": 1}})).is_err());
        assert_eq!(kind_of(1), "MEETING_ROOM_START");
        assert_eq!(kind_of(7), "MEETING_RECORDING");
        assert_eq!(kind_of(0), "MSG_TYPE_0");
    }
}
