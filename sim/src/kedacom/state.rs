//! The Kedacom server's state: login tokens and sessions, meetings
//! (booked, running, ended), virtual meeting rooms, meeting room areas,
//! conference templates and meeting files.
//!
//! Time-driven transitions are applied lazily by [`KedacomState::tick`]
//! before every request: a booked conference starts (state 1 -> 2) at its
//! `start_time`, a conference with a non-zero `duration` ends (-> 3) at
//! start + duration minutes, meeting files disappear after 7 days.
//! Virtual meeting room status and resource usage are derived from the
//! running conferences on read.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use md5::{Digest, Md5};
use serde_json::{json, Map, Value};

use super::params::fmt_time;

/// Meeting files are deleted automatically after 7 days (doc, meeting_files.list).
pub(crate) const FILE_RETENTION_SECS: f64 = 7.0 * 86_400.0;

/// Deterministic id source. Never reset, so ids and tokens stay unique
/// across `/_sim/reset`.
#[derive(Debug, Default)]
pub(crate) struct Ids {
    seq: AtomicU64,
}

impl Ids {
    fn next(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// 32 lowercase hex digits (tokens, cookies, room/area/file ids).
    pub(crate) fn hex32(&self, kind: &str) -> String {
        hex::encode(Md5::digest(format!("kedacom:{kind}:{}", self.next())))
    }

    /// A conference number (`conf_id`), 7+ digits.
    pub(crate) fn conf_id(&self) -> String {
        format!("555{:04}", self.next())
    }

    /// A meeting id, 8+ digits.
    pub(crate) fn meeting_id(&self) -> String {
        format!("{}", 10_000_000 + self.next())
    }

    /// A virtual meeting room number (`e164`), 7+ digits (doc example `6669077`).
    pub(crate) fn e164(&self) -> String {
        format!("666{:04}", self.next())
    }
}

/// An account that can log in.
#[derive(Debug, Clone)]
pub(crate) struct User {
    /// Login name.
    pub username: String,
    /// Account moid (UUID-shaped, derived from the name).
    pub moid: String,
    /// Administrator (may manage meeting room areas; sees every room).
    pub admin: bool,
}

impl User {
    /// A user with a moid derived from `username`.
    pub(crate) fn new(username: &str, admin: bool) -> Self {
        let h = hex::encode(Md5::digest(format!("moid:{username}")));
        let moid = format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]);
        User { username: username.to_owned(), moid, admin }
    }

    /// `{name, account, account_type: 1 (moid), telephone, mobile}`.
    pub(crate) fn creator(&self) -> Value {
        json!({"name": self.username, "account": self.moid, "account_type": 1, "telephone": "", "mobile": ""})
    }
}

/// An `account_token` from `POST /api/v1/system/token`.
#[derive(Debug, Clone)]
pub(crate) struct TokenRec {
    /// Last successful use (virtual time); the idle timeout counts from it.
    pub last_used: f64,
    /// The user logged in with this token, if any.
    pub user: Option<User>,
    /// `SSO_COOKIE_KEY` of that login.
    pub cookie: Option<String>,
}

/// Meeting state (doc: 1 booked, 2 started, 3 ended).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MeetingState {
    /// 1
    Booked,
    /// 2
    Running,
    /// 3
    Ended,
}

impl MeetingState {
    /// The documented integer.
    pub(crate) fn code(self) -> i64 {
        match self {
            MeetingState::Booked => 1,
            MeetingState::Running => 2,
            MeetingState::Ended => 3,
        }
    }
}

/// How a meeting came to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// `booked_confs.create` (or the admin seed route).
    Booked,
    /// `confs.create` create_type 1.
    Instant,
    /// `confs.create` create_type 2/3 with this template id.
    Template(String),
    /// `confs.create` create_type 4 in this virtual meeting room.
    Room(String),
}

/// A meeting (the unified record of `meetings.*`), booked, running or ended.
#[derive(Debug, Clone)]
pub(crate) struct Meeting {
    pub meeting_id: String,
    pub conf_id: String,
    /// Conference parameters as accepted (defaults and conf_type resolved).
    pub settings: Map<String, Value>,
    /// Start (booked start, or when it was started).
    pub start: f64,
    /// Minutes; 0 = permanent.
    pub duration: i64,
    /// Set when ended by `confs.end` (or by its duration running out).
    pub ended_at: Option<f64>,
    pub state: MeetingState,
    pub origin: Origin,
    pub creator: User,
    pub created: f64,
}

impl Meeting {
    /// Name.
    pub(crate) fn name(&self) -> &str {
        self.settings.get("name").and_then(Value::as_str).unwrap_or_default()
    }

    /// Scheduled or actual end; `None` = permanent and still open.
    pub(crate) fn end(&self) -> Option<f64> {
        self.ended_at.or((self.duration > 0).then_some(self.start + self.duration as f64 * 60.0))
    }

    /// Overlaps the window `[from, to]` (`to` None = no upper bound).
    pub(crate) fn overlaps(&self, from: f64, to: Option<f64>) -> bool {
        self.end().is_none_or(|e| e >= from) && to.is_none_or(|t| self.start <= t)
    }

    /// `end_time` as ISO 8601, `""` for a permanent conference.
    pub(crate) fn end_time(&self) -> String {
        self.end().map(fmt_time).unwrap_or_default()
    }

    /// The virtual meeting room hosting it.
    pub(crate) fn room(&self) -> Option<&str> {
        match &self.origin {
            Origin::Room(id) => Some(id),
            _ => None,
        }
    }

    /// An integer setting (0 when absent).
    pub(crate) fn int(&self, name: &str) -> i64 {
        self.settings.get(name).and_then(Value::as_i64).unwrap_or(0)
    }
}

/// A virtual meeting room.
#[derive(Debug, Clone)]
pub(crate) struct Vmr {
    pub id: String,
    pub e164: String,
    /// Parameters as accepted (non-required fields default to 0).
    pub settings: Map<String, Value>,
    pub created: f64,
}

impl Vmr {
    /// An integer setting (0 when absent).
    pub(crate) fn int(&self, name: &str) -> i64 {
        self.settings.get(name).and_then(Value::as_i64).unwrap_or(0)
    }
}

/// A meeting room area.
#[derive(Debug, Clone)]
pub(crate) struct Area {
    pub id: String,
    pub area: String,
}

/// A conference template (`confs.create` create_type 2 / 3).
#[derive(Debug, Clone)]
pub(crate) struct Template {
    pub id: String,
    /// `None`: public template; `Some(username)`: that user's personal template.
    pub owner: Option<String>,
    pub settings: Map<String, Value>,
}

/// An uploaded meeting file.
#[derive(Debug, Clone)]
pub(crate) struct MeetingFile {
    pub file_id: String,
    pub meeting_id: String,
    pub file_name: String,
    /// Lower-case extension.
    pub ext: String,
    /// Doc code 1-13 (txt .. bmp).
    pub type_code: u8,
    pub creator: User,
    pub created: f64,
    pub bytes: Bytes,
    pub md5: [u8; 16],
}

/// Everything the server keeps.
#[derive(Debug, Default)]
pub(crate) struct KedacomState {
    /// account_token -> record.
    pub tokens: HashMap<String, TokenRec>,
    /// meeting_id -> meeting, in creation order of ids.
    pub meetings: BTreeMap<String, Meeting>,
    /// id -> room.
    pub vmrs: BTreeMap<String, Vmr>,
    /// Areas in creation order.
    pub areas: Vec<Area>,
    /// id -> template.
    pub templates: BTreeMap<String, Template>,
    /// file_id -> file.
    pub files: BTreeMap<String, MeetingFile>,
}

impl KedacomState {
    /// Apply every transition due at `now`.
    pub(crate) fn tick(&mut self, now: f64) {
        for m in self.meetings.values_mut() {
            if m.state == MeetingState::Booked && now >= m.start {
                m.state = MeetingState::Running;
            }
            if m.state == MeetingState::Running {
                if let Some(end) = m.end().filter(|e| now >= *e) {
                    m.state = MeetingState::Ended;
                    m.ended_at = Some(end);
                }
            }
        }
        self.files.retain(|_, f| now < f.created + FILE_RETENTION_SECS);
    }

    /// The running conference hosted by a room.
    pub(crate) fn room_conf(&self, vmr_id: &str) -> Option<&Meeting> {
        self.meetings.values().find(|m| m.state == MeetingState::Running && m.room() == Some(vmr_id))
    }

    /// Running conferences of a size (`max_join_mt`).
    pub(crate) fn used(&self, max_join_mt: i64) -> usize {
        self.meetings
            .values()
            .filter(|m| m.state == MeetingState::Running && m.int("max_join_mt") == max_join_mt)
            .count()
    }

    /// JSON dump for `/_sim/state` (no token or cookie values).
    pub(crate) fn dump(&self, now: f64, idle_timeout: f64) -> Value {
        let tokens: Vec<Value> = self
            .tokens
            .values()
            .map(|t| {
                json!({
                    "user": t.user.as_ref().map(|u| u.username.clone()),
                    "logged_in": t.cookie.is_some(),
                    "idle_seconds": now - t.last_used,
                    "expired": now - t.last_used >= idle_timeout,
                })
            })
            .collect();
        let meetings: Vec<Value> = self
            .meetings
            .values()
            .map(|m| {
                json!({
                    "meeting_id": m.meeting_id, "conf_id": m.conf_id, "name": m.name(),
                    "state": m.state.code(), "start_time": fmt_time(m.start), "end_time": m.end_time(),
                    "duration": m.duration, "created": fmt_time(m.created), "origin": format!("{:?}", m.origin), "creator": m.creator.username,
                    "conf_type": m.int("conf_type"), "enable_rtc": m.int("enable_rtc"),
                })
            })
            .collect();
        let vmrs: Vec<Value> = self
            .vmrs
            .values()
            .map(|v| {
                let conf = self.room_conf(&v.id);
                json!({"id": v.id, "e164": v.e164, "name": v.settings.get("name"),
                       "status": i64::from(conf.is_some()), "conf_id": conf.map(|c| c.conf_id.clone())})
            })
            .collect();
        let files: Vec<Value> = self
            .files
            .values()
            .map(|f| {
                json!({"file_id": f.file_id, "meeting_id": f.meeting_id, "file_name": f.file_name,
                       "size": f.bytes.len(), "md5": hex::encode(f.md5), "create_time": fmt_time(f.created)})
            })
            .collect();
        json!({
            "tokens": tokens,
            "meetings": meetings,
            "virtual_meeting_rooms": vmrs,
            "meeting_room_areas": self.areas.iter().map(|a| json!({"id": a.id, "area": a.area})).collect::<Vec<_>>(),
            "templates": self.templates.values().map(|t| json!({"id": t.id, "owner": t.owner})).collect::<Vec<_>>(),
            "meeting_files": files,
        })
    }
}
