//! NetEase simulator state: accounts, meetings with their status machine
//! (1 NOT_START, 2 IN_MEETING, 3 ENDED, 4 CANCELED, 5 RECYCLED), AV-room
//! members, recordings, and the callback events transitions produce.
//!
//! Time-based transitions (a scheduled meeting reaching its `startTime`,
//! the single-meeting time limit, recordings appearing after the end) are
//! computed lazily from the virtual clock in [`State::tick`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rand::Rng;
use serde_json::{json, Map, Value};

use crate::avd::files::FileBody;
use crate::NeteaseOptions;

/// Meeting status `NOT_START`.
pub(crate) const NOT_START: u8 = 1;
/// Meeting status `IN_MEETING`.
pub(crate) const IN_MEETING: u8 = 2;
/// Meeting status `ENDED`.
pub(crate) const ENDED: u8 = 3;
/// Meeting status `CANCELED`.
pub(crate) const CANCELED: u8 = 4;
/// Meeting status `RECYCLED`.
pub(crate) const RECYCLED: u8 = 5;

/// Callback `msgType`s (MsgTypeEnum).
pub(crate) mod msg {
    /// MEETING_ROOM_START.
    pub const ROOM_START: u8 = 1;
    /// MEETING_CANCEL.
    pub const CANCEL: u8 = 2;
    /// MEETING_ROOM_END.
    pub const ROOM_END: u8 = 3;
    /// MEETING_RECYCLE.
    pub const RECYCLE: u8 = 4;
    /// MEETING_JOIN.
    pub const JOIN: u8 = 5;
    /// MEETING_LEAVE.
    pub const LEAVE: u8 = 6;
    /// MEETING_RECORDING.
    pub const RECORDING: u8 = 7;
}

/// End reasons of callbacks 3/4.
pub(crate) mod reason {
    /// Ended by the host.
    pub const HOST: u8 = 1;
    /// Everyone left.
    pub const ALL_LEFT: u8 = 2;
    /// Single-meeting time limit exceeded.
    pub const TIME_LIMIT: u8 = 3;
    /// Ended through the server API (deleteBy*).
    pub const SERVER_API: u8 = 4;
}

/// A meeting account.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub account_id: String,
    pub account_token: String,
    pub im_accid: String,
    pub personal_meeting_id: u64,
    pub short_id: Option<String>,
}

impl Account {
    /// The `ret` of create / getBy*.
    pub(crate) fn ret(&self) -> Value {
        let mut m = Map::new();
        m.insert("accountId".into(), self.account_id.clone().into());
        m.insert("accountToken".into(), self.account_token.clone().into());
        m.insert("personalMeetingId".into(), self.personal_meeting_id.into());
        if let Some(s) = &self.short_id {
            m.insert("shortId".into(), s.clone().into());
        }
        Value::Object(m)
    }
}

/// A participant in a meeting's AV room.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub device_id: String,
    pub room_uid: u64,
}

/// One meeting record.
#[derive(Debug, Clone)]
pub(crate) struct Meeting {
    pub unique_id: u64,
    pub meeting_id: String,
    /// 1 random-number instant, 2 personal-number instant, 3 scheduled.
    pub kind: u8,
    pub host: String,
    pub owner: String,
    pub subject: String,
    /// Scheduled start, epoch ms.
    pub start_ms: i64,
    /// Scheduled end, epoch ms; -1 unlimited.
    pub end_ms: i64,
    pub password: String,
    pub settings: Value,
    pub short_id: Option<String>,
    pub status: u8,
    /// Virtual time of creation.
    pub created: f64,
    /// Virtual time the AV room opened / closed.
    pub room_started: Option<f64>,
    pub room_ended: Option<f64>,
    /// AV room id (allocated at creation).
    pub av_room_cid: String,
    /// accountId -> member, in the AV room now.
    pub members: BTreeMap<String, Member>,
    /// Virtual time the recordings become available.
    pub recordings_due: Option<f64>,
}

impl Meeting {
    /// Status 1 or 2: the meeting number is in use.
    pub(crate) fn is_live(&self) -> bool {
        matches!(self.status, NOT_START | IN_MEETING)
    }

    /// Fields shared by create / get / list.
    pub(crate) fn ret(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("meetingUniqueId".into(), self.unique_id.into());
        m.insert("meetingId".into(), self.meeting_id.clone().into());
        m.insert("subject".into(), self.subject.clone().into());
        m.insert("startTime".into(), self.start_ms.into());
        m.insert("endTime".into(), self.end_ms.into());
        m.insert("password".into(), self.password.clone().into());
        m.insert("settings".into(), self.settings.clone());
        m.insert("status".into(), self.status.into());
        m.insert("shortId".into(), self.short_id.clone().unwrap_or_default().into());
        m
    }

    /// Common + meeting fields of callbacks 1-4 (without `time`).
    fn callback_body(&self) -> Map<String, Value> {
        let mut m = self.callback_common();
        m.insert("type".into(), self.kind.into());
        m.insert("subject".into(), self.subject.clone().into());
        m.insert("reserveStartTime".into(), self.start_ms.into());
        m.insert("reserveEndTime".into(), self.end_ms.into());
        if let Some(at) = self.room_started {
            m.insert("roomCreateTime".into(), ms(at).into());
        }
        m
    }

    /// The common callback fields (without `time`).
    fn callback_common(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("meetingUniqueId".into(), self.unique_id.into());
        m.insert("meetingId".into(), self.meeting_id.clone().into());
        if let Some(s) = &self.short_id {
            m.insert("shortId".into(), s.clone().into());
        }
        m
    }
}

/// A recording file of a meeting.
#[derive(Debug, Clone)]
pub(crate) struct Recording {
    pub meeting_unique_id: u64,
    pub filename: String,
    /// aac / mp4.
    pub file_type: String,
    /// 1 mixed, 2 single person.
    pub mix: u8,
    pub piece_index: u32,
    /// Virtual time it appeared.
    pub created: f64,
    pub body: Arc<FileBody>,
}

impl Recording {
    /// `record/list` item / callback `fileInfo`, with the URL under `base`.
    pub(crate) fn info(&self, base: &str) -> Value {
        json!({
            "filename": self.filename,
            "md5": hex::encode(self.body.md5()),
            "size": self.body.len(),
            "type": self.file_type,
            "url": file_url(base, self.meeting_unique_id, &self.filename),
            "mix": self.mix,
            "pieceIndex": self.piece_index,
        })
    }
}

/// Download URL of a recording.
pub(crate) fn file_url(base: &str, unique_id: u64, filename: &str) -> String {
    format!("{base}/vod/{unique_id}/{filename}")
}

/// A callback to deliver: `{"msgType", "msgBody"}` at virtual time `at`.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub at: f64,
    pub msg_type: u8,
    pub body: Map<String, Value>,
}

impl Event {
    /// The callback body as sent (compact JSON).
    pub(crate) fn to_json(&self) -> String {
        let mut body = self.body.clone();
        body.insert("time".into(), ms(self.at).into());
        json!({"msgType": self.msg_type, "msgBody": body}).to_string()
    }
}

/// Virtual seconds to epoch milliseconds.
pub(crate) fn ms(t: f64) -> i64 {
    (t * 1000.0).floor() as i64
}

/// All vendor state.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub accounts: BTreeMap<String, Account>,
    pub meetings: BTreeMap<u64, Meeting>,
    pub recordings: Vec<Recording>,
    /// Callbacks produced since the last drain.
    pub events: Vec<Event>,
    next_unique_id: u64,
}

/// `n` random decimal digits without a leading zero.
pub(crate) fn digits(n: u32) -> u64 {
    let lo = 10u64.pow(n - 1);
    rand::rng().random_range(lo..lo * 10)
}

impl State {
    /// A new meetingUniqueId (Long).
    pub(crate) fn next_unique_id(&mut self) -> u64 {
        if self.next_unique_id == 0 {
            self.next_unique_id = 26_775;
        }
        self.next_unique_id += 1;
        self.next_unique_id
    }

    /// A 9-digit random meeting number not used by a meeting record that
    /// still holds its number (cancelled/recycled records returned theirs).
    pub(crate) fn random_meeting_id(&self) -> String {
        let taken: BTreeSet<&str> = self
            .meetings
            .values()
            .filter(|m| !matches!(m.status, CANCELED | RECYCLED))
            .map(|m| m.meeting_id.as_str())
            .collect();
        loop {
            let id = digits(9).to_string();
            if !taken.contains(id.as_str()) {
                return id;
            }
        }
    }

    /// The record `deleteByMeetingId` / `anonymousJoinInfo` mean by a
    /// number: the live one, else the most recent one.
    pub(crate) fn by_meeting_id(&self, meeting_id: &str) -> Option<u64> {
        self.pick(|m| m.meeting_id == meeting_id)
    }

    /// Same as [`by_meeting_id`](Self::by_meeting_id) for short numbers.
    pub(crate) fn by_short_id(&self, short_id: &str) -> Option<u64> {
        self.pick(|m| m.short_id.as_deref() == Some(short_id))
    }

    fn pick(&self, f: impl Fn(&Meeting) -> bool) -> Option<u64> {
        let mut found: Vec<&Meeting> = self.meetings.values().filter(|m| f(m)).collect();
        // Prefer in progress, then not started, then the newest record.
        found.sort_by_key(|m| (m.status != IN_MEETING, m.status != NOT_START, std::cmp::Reverse(m.unique_id)));
        found.first().map(|m| m.unique_id)
    }

    fn emit(&mut self, at: f64, msg_type: u8, body: Map<String, Value>) {
        self.events.push(Event { at, msg_type, body });
    }

    /// Open the AV room: status 2, callback 1.
    pub(crate) fn start_room(&mut self, uid: u64, at: f64) {
        let Some(m) = self.meetings.get_mut(&uid) else { return };
        if m.status != NOT_START {
            return;
        }
        m.status = IN_MEETING;
        m.room_started = Some(at);
        let body = m.callback_body();
        self.emit(at, msg::ROOM_START, body);
    }

    /// End a meeting in status 1/2 (or recycle one in 1/2/3): status 3 with
    /// callback 3, or status 5 with callback 4. Schedules recordings if
    /// the AV room was open.
    pub(crate) fn end(&mut self, uid: u64, at: f64, why: u8, recycle: bool, opts: &NeteaseOptions) {
        let Some(m) = self.meetings.get_mut(&uid) else { return };
        let was_open = m.status == IN_MEETING;
        m.status = if recycle { RECYCLED } else { ENDED };
        let mut leavers = Vec::new();
        if was_open {
            m.room_ended = Some(at);
            m.recordings_due = Some(at + opts.record_delay.as_secs_f64());
            leavers = std::mem::take(&mut m.members).into_iter().collect::<Vec<_>>();
        }
        let common = m.callback_common();
        let mut body = m.callback_body();
        body.insert("reason".into(), why.into());
        for (account_id, member) in leavers {
            let mut b = common.clone();
            b.insert("accountId".into(), account_id.into());
            b.insert("deviceId".into(), member.device_id.into());
            b.insert("roomUid".into(), member.room_uid.into());
            self.emit(at, msg::LEAVE, b);
        }
        self.emit(at, if recycle { msg::RECYCLE } else { msg::ROOM_END }, body);
    }

    /// Cancel a not-started meeting: status 4, callback 2.
    pub(crate) fn cancel(&mut self, uid: u64, at: f64) {
        let Some(m) = self.meetings.get_mut(&uid) else { return };
        m.status = CANCELED;
        let body = m.callback_body();
        self.emit(at, msg::CANCEL, body);
    }

    /// A member joins the AV room (opening it first if needed): callback 5.
    /// Returns the member's roomUid.
    pub(crate) fn join(&mut self, uid: u64, account_id: &str, device_id: &str, at: f64) -> Option<u64> {
        self.start_room(uid, at);
        let m = self.meetings.get_mut(&uid).filter(|m| m.status == IN_MEETING)?;
        if let Some(existing) = m.members.get(account_id) {
            return Some(existing.room_uid);
        }
        let member = Member { device_id: device_id.to_owned(), room_uid: digits(15) };
        let room_uid = member.room_uid;
        m.members.insert(account_id.to_owned(), member);
        let mut b = m.callback_common();
        b.insert("accountId".into(), account_id.into());
        b.insert("deviceId".into(), device_id.into());
        b.insert("roomUid".into(), room_uid.into());
        self.emit(at, msg::JOIN, b);
        Some(room_uid)
    }

    /// A member leaves: callback 6; the last one leaving ends the meeting
    /// (reason 2). False if the member was not in the room.
    pub(crate) fn leave(&mut self, uid: u64, account_id: &str, at: f64, opts: &NeteaseOptions) -> bool {
        let Some(m) = self.meetings.get_mut(&uid) else { return false };
        let Some(member) = m.members.remove(account_id) else { return false };
        let empty = m.members.is_empty();
        let mut b = m.callback_common();
        b.insert("accountId".into(), account_id.into());
        b.insert("deviceId".into(), member.device_id.into());
        b.insert("roomUid".into(), member.room_uid.into());
        self.emit(at, msg::LEAVE, b);
        if empty {
            self.end(uid, at, reason::ALL_LEFT, false, opts);
        }
        true
    }

    /// Apply every time-based transition due by `now`, in time order.
    pub(crate) fn tick(&mut self, now: f64, opts: &NeteaseOptions, base: &str) {
        let limit = opts.max_meeting_duration.as_secs_f64();
        let ids: Vec<u64> = self.meetings.keys().copied().collect();
        for uid in ids {
            let m = &self.meetings[&uid];
            // Scheduled meetings open their room at startTime.
            if m.kind == 3 && m.status == NOT_START && (m.start_ms as f64) / 1000.0 <= now {
                let at = m.start_ms as f64 / 1000.0;
                self.start_room(uid, at);
            }
            let m = &self.meetings[&uid];
            if let (IN_MEETING, Some(started)) = (m.status, m.room_started) {
                if started + limit <= now {
                    self.end(uid, started + limit, reason::TIME_LIMIT, false, opts);
                }
            }
            let m = &self.meetings[&uid];
            if let Some(due) = m.recordings_due.filter(|due| *due <= now) {
                self.produce_recordings(uid, due, opts, base);
            }
        }
        self.events.sort_by(|a, b| a.at.total_cmp(&b.at));
    }

    /// The meeting's mixed mp4 and aac files; one callback 7 per file.
    fn produce_recordings(&mut self, uid: u64, at: f64, opts: &NeteaseOptions, base: &str) {
        let Some(m) = self.meetings.get_mut(&uid) else { return };
        m.recordings_due = None;
        let seconds = match (m.room_started, m.room_ended) {
            (Some(s), Some(e)) => (e - s).max(1.0),
            _ => 1.0,
        };
        let common = m.callback_common();
        let video = (seconds * opts.record_bytes_per_second as f64) as u64;
        for (file_type, len) in [("aac", (video / 8).max(1024)), ("mp4", video.max(1024))] {
            let filename = format!("0-{uid}-0-mix.{file_type}");
            let body = Arc::new(FileBody::generated(&format!("netease/{uid}/{filename}"), len));
            let rec = Recording {
                meeting_unique_id: uid,
                filename,
                file_type: file_type.into(),
                mix: 1,
                piece_index: 0,
                created: at,
                body,
            };
            let mut b = common.clone();
            b.insert("fileInfo".into(), rec.info(base));
            self.recordings.push(rec);
            self.emit(at, msg::RECORDING, b);
        }
    }

    /// `GET /_sim/state` (account tokens left out).
    pub(crate) fn dump(&self) -> Value {
        let accounts: Vec<Value> = self
            .accounts
            .values()
            .map(|a| {
                json!({"accountId": a.account_id, "imAccid": a.im_accid,
                       "personalMeetingId": a.personal_meeting_id, "shortId": a.short_id})
            })
            .collect();
        let meetings: Vec<Value> = self
            .meetings
            .values()
            .map(|m| {
                let mut v = m.ret();
                v.insert("type".into(), m.kind.into());
                v.insert("host".into(), m.host.clone().into());
                v.insert("owner".into(), m.owner.clone().into());
                v.insert("roomStarted".into(), json!(m.room_started));
                v.insert("roomEnded".into(), json!(m.room_ended));
                v.insert("members".into(), json!(m.members.keys().collect::<Vec<_>>()));
                v.insert("recordingsDue".into(), json!(m.recordings_due));
                Value::Object(v)
            })
            .collect();
        let recordings: Vec<Value> = self
            .recordings
            .iter()
            .map(|r| {
                json!({"meetingUniqueId": r.meeting_unique_id, "filename": r.filename,
                       "size": r.body.len(), "md5": hex::encode(r.body.md5()), "created": r.created})
            })
            .collect();
        json!({"accounts": accounts, "meetings": meetings, "recordings": recordings})
    }
}
