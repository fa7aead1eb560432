//! The AVD server's state: room definitions, meetings in progress,
//! device calls, recordings, stored files, players, lives, AVC, SIP.
//!
//! Time-driven transitions (device invites connecting, players finishing)
//! are applied lazily by [`AvdState::tick`] before every request; status
//! values that only depend on time (recording and transcode status,
//! token expiry) are computed on read.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use md5::{Digest, Md5};
use serde_json::{json, Value};

use super::files::{FileBody, StoredFile};

/// Seconds a new recording stays in status 0 ("started") before it
/// reports 1 ("recording").
pub(crate) const RECORD_WARMUP_SECS: f64 = 1.0;
/// Virtual seconds a transcode (`/room/record/transfer`) takes.
pub(crate) const TRANSCODE_SECS: f64 = 2.0;
/// Where recordings are written (the doc's examples use
/// `/home/data/recorder/files/<site>/<yyyymmdd>/`).
pub(crate) const RECORD_ROOT: &str = "/home/data/recorder/files/sim";
/// The vendor's servers run on China Standard Time (the doc pairs
/// `start_time` 1638324431 with a file stamped `2021-12-01-10-07-11`).
pub(crate) const SERVER_UTC_OFFSET: i64 = 8 * 3600;

/// Deterministic id source. Never reset, so ids (and tokens) stay unique
/// across `/_sim/reset`.
#[derive(Debug, Default)]
pub(crate) struct Ids {
    seq: AtomicU64,
}

impl Ids {
    /// 32 lowercase hex digits (record ids, video resource ids).
    pub(crate) fn hex32(&self, kind: &str) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        hex::encode(Md5::digest(format!("{kind}:{n}")))
    }

    /// UUID-formatted id (call ids, device user ids, play ids).
    pub(crate) fn uuid(&self, kind: &str) -> String {
        let h = self.hex32(kind);
        format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
    }
}

/// A room definition (`/room/create`).
#[derive(Debug, Clone)]
pub(crate) struct RoomDef {
    pub room_id: String,
    pub user_id: String,
    pub topic: String,
    pub enable_auto_cloud_recording: bool,
    pub enable_voice_activated: bool,
    pub enable_auto_avc: bool,
    pub resolution: String,
    pub enable_transcode_video: String,
    pub created: f64,
}

/// Someone in a meeting.
#[derive(Debug, Clone)]
pub(crate) struct Participant {
    pub user_id: String,
    pub user_name: String,
    /// Terminal type: web, ios, android, pc, box, other, or the device
    /// url scheme (sip, rtsp, ...) for invited devices.
    pub kind: String,
    pub node_id: u64,
    pub joined_at: f64,
    pub video_open: bool,
    pub audio_muted: bool,
    pub focused: bool,
    /// Set for invited devices.
    pub call_id: Option<String>,
}

/// A meeting in progress ("open" room).
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub create_time: f64,
    pub participants: Vec<Participant>,
    pub next_node_id: u64,
    /// Index into [`AvdState::session_log`].
    pub log_index: usize,
}

/// History entry for `/room/get_statistic`.
#[derive(Debug, Clone)]
pub(crate) struct SessionLog {
    pub room_id: String,
    pub start: f64,
    pub end: Option<f64>,
    /// Terminal type of every join.
    pub joins: Vec<String>,
}

/// Device invite status (`/device/get_invite_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallState {
    /// 0
    Inviting,
    /// 1
    InCall,
    /// 2
    HungUp,
    /// 3
    Failed,
}

impl CallState {
    /// The documented integer.
    pub(crate) fn code(self) -> i64 {
        match self {
            CallState::Inviting => 0,
            CallState::InCall => 1,
            CallState::HungUp => 2,
            CallState::Failed => 3,
        }
    }
}

/// A device invited with `/device/call`.
#[derive(Debug, Clone)]
pub(crate) struct DeviceCall {
    pub call_id: String,
    pub room_id: String,
    pub user_id: String,
    pub name: String,
    pub url: String,
    pub scheme: String,
    pub created: f64,
    /// When the invite resolves (connects or fails).
    pub resolve_at: f64,
    /// The invite will fail (unsupported url scheme).
    pub will_fail: bool,
    pub state: CallState,
}

/// Kind of a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordKind {
    /// `/room/mix_record/start`
    Mix,
    /// `/room/desktop_record/start`
    Desktop,
}

/// Output options of a mixed recording.
#[derive(Debug, Clone, Default)]
pub(crate) struct RecordOptions {
    /// `audio_user_ids` given: only mp3, no mp4.
    pub audio_only: bool,
    /// `enable_audio_record`: also a separate mp3.
    pub audio_record: bool,
    /// `enable_individual_record`: per-user split files.
    pub individual: bool,
    /// `enable_backup`: keep the `.tms` source.
    pub backup: bool,
    /// `disable_user_name`: split files named by user id only.
    pub disable_user_name: bool,
    /// `file_name`: base name of the mixed files.
    pub file_name: Option<String>,
    /// Audio container: `mp3` (default) or `wav` (`audio_file_type`).
    pub audio_ext: String,
}

/// A mixed or desktop recording.
#[derive(Debug, Clone)]
pub(crate) struct Recording {
    pub record_id: String,
    pub room_id: String,
    pub kind: RecordKind,
    /// `name` parameter (mix) or desktop recording name.
    pub name: Option<String>,
    pub creator: Option<String>,
    pub started: f64,
    pub stopped: Option<f64>,
    pub opts: RecordOptions,
    /// (user_id, user_name) of everyone present while recording.
    pub users: Vec<(String, String)>,
    /// Server paths of the produced files (after stop).
    pub files: Vec<String>,
    pub transcode_started: Option<f64>,
    /// Echo of the request parameters (layouts, codecs...) for the state dump.
    pub settings: serde_json::Map<String, Value>,
}

impl Recording {
    /// `record_status`: 0 started, 1 recording, 2 stopped (3/4 never occur).
    pub(crate) fn status(&self, now: f64) -> i64 {
        match self.stopped {
            Some(_) => 2,
            None if now - self.started >= RECORD_WARMUP_SECS => 1,
            None => 0,
        }
    }

    /// `/transcode/query` status: 0 not transcoded, 1 transcoding, 2 done.
    pub(crate) fn transcode_status(&self, now: f64) -> i64 {
        match self.transcode_started {
            None => 0,
            Some(t) if now - t < TRANSCODE_SECS => 1,
            Some(_) => 2,
        }
    }

    /// Whether the recording is still running.
    pub(crate) fn running(&self) -> bool {
        self.stopped.is_none()
    }
}

/// `/room/mix_live/start` state.
#[derive(Debug, Clone)]
pub(crate) struct MixLive {
    pub push_url: String,
    pub rtmp_url: Option<String>,
    pub videos: Option<Value>,
    pub started: f64,
}

/// `/room/live/start` state of one room.
#[derive(Debug, Clone, Default)]
pub(crate) struct LiveState {
    pub running: Option<Value>,
    /// A live was stopped and none started since (40065 on a second stop).
    pub stopped: bool,
}

/// AVC (composited video) settings of a room.
#[derive(Debug, Clone)]
pub(crate) struct Avc {
    pub enable_manual_avc: bool,
    pub max_video_number: Option<String>,
    pub layout_mode: i64,
    pub video_name: String,
    pub framerate: i64,
    pub bitrate: Option<i64>,
    pub width: i64,
    pub height: i64,
    pub main_video_resource_id: Option<String>,
    pub focus_resource_id: Option<String>,
    pub videos: Vec<Value>,
    pub view_stream_id: String,
}

/// Player state (`/media/*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlayState {
    /// Created, nothing played yet.
    Idle,
    Playing,
    Paused,
    /// Playback ended; the player still exists.
    Finished,
}

impl PlayState {
    /// Integer `status` of `/media/get_media_info` (undocumented; the only
    /// example shows 2 for a player whose file had been played).
    pub(crate) fn code(self) -> i64 {
        match self {
            PlayState::Idle => 0,
            PlayState::Playing => 1,
            PlayState::Finished => 2,
            PlayState::Paused => 3,
        }
    }

    /// Name for the state dump.
    pub(crate) fn name(self) -> &'static str {
        match self {
            PlayState::Idle => "idle",
            PlayState::Playing => "playing",
            PlayState::Paused => "paused",
            PlayState::Finished => "finished",
        }
    }
}

/// Media facts of a playable file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MediaInfo {
    pub duration_ms: i64,
    pub has_audio: bool,
    pub has_video: bool,
    pub width: String,
    pub height: String,
}

/// One file a player has played.
#[derive(Debug, Clone)]
pub(crate) struct PlayFile {
    pub url: String,
    pub info: MediaInfo,
    pub play_count: i64,
    pub created: f64,
    pub updated: f64,
}

/// A media player in a room.
#[derive(Debug, Clone)]
pub(crate) struct Player {
    pub play_id: String,
    pub room_id: String,
    pub name: String,
    pub user_id: String,
    pub created: f64,
    pub auto_publish_mock_audio: bool,
    pub out_audio_codec: Option<String>,
    pub state: PlayState,
    pub current_url: Option<String>,
    pub enable_auto_close_stream: bool,
    /// `replay_times` of the last play (0 once, -1 loop, n plays).
    pub replay_times: i64,
    /// Virtual time the current playing stretch began.
    pub seg_start: f64,
    /// Seconds played before `seg_start`.
    pub progressed: f64,
    /// Total seconds to play (duration x plays; infinite when looping).
    pub total: f64,
    pub files: Vec<PlayFile>,
}

/// A SIP gateway.
#[derive(Debug, Clone)]
pub(crate) struct Gate {
    pub id: i64,
    pub name: String,
    pub url: String,
}

/// A SIP account on a gateway.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub id: i64,
    pub gate_id: i64,
    pub name: String,
    pub password: String,
    pub number: String,
}

/// A chat message (injected through the admin API).
#[derive(Debug, Clone)]
pub(crate) struct ChatMessage {
    pub id: i64,
    pub room_id: String,
    pub session_id: String,
    pub from_id: String,
    pub from_name: String,
    pub message: String,
    pub timestamp: i64,
}

/// Everything the AVD simulator remembers.
#[derive(Debug, Default)]
pub(crate) struct AvdState {
    /// token -> expiry (virtual Unix seconds).
    pub tokens: HashMap<String, f64>,
    pub rooms: BTreeMap<String, RoomDef>,
    pub sessions: BTreeMap<String, Session>,
    pub session_log: Vec<SessionLog>,
    pub calls: BTreeMap<String, DeviceCall>,
    /// In start order.
    pub recordings: Vec<Recording>,
    pub files: BTreeMap<String, StoredFile>,
    pub mix_lives: BTreeMap<String, MixLive>,
    pub lives: BTreeMap<String, LiveState>,
    pub avc: BTreeMap<String, Avc>,
    /// In creation order.
    pub players: Vec<Player>,
    pub gates: BTreeMap<i64, Gate>,
    pub accounts: BTreeMap<i64, Account>,
    pub next_gate_id: i64,
    pub next_account_id: i64,
    pub chat: Vec<ChatMessage>,
    pub next_chat_id: i64,
    pub permits: BTreeSet<String>,
}

/// Who joins a meeting.
pub(crate) struct Joiner {
    pub user_id: String,
    pub user_name: String,
    pub kind: String,
    pub call_id: Option<String>,
}

impl AvdState {
    /// Apply every time-driven transition due at `now`: invites resolve,
    /// players finish.
    pub(crate) fn tick(&mut self, now: f64) {
        let mut due: Vec<(f64, String)> = self
            .calls
            .values()
            .filter(|c| c.state == CallState::Inviting && c.resolve_at <= now)
            .map(|c| (c.resolve_at, c.call_id.clone()))
            .collect();
        due.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        for (at, call_id) in due {
            let call = self.calls.get(&call_id).expect("due call").clone();
            if call.will_fail || !self.rooms.contains_key(&call.room_id) {
                self.set_call_state(&call_id, CallState::Failed);
                continue;
            }
            self.set_call_state(&call_id, CallState::InCall);
            self.join(
                &call.room_id,
                Joiner {
                    user_id: call.user_id.clone(),
                    user_name: call.name.clone(),
                    kind: call.scheme.clone(),
                    call_id: Some(call_id.clone()),
                },
                at,
            );
        }
        for p in &mut self.players {
            if p.state == PlayState::Playing && p.progressed + (now - p.seg_start) >= p.total {
                p.state = PlayState::Finished;
            }
        }
    }

    fn set_call_state(&mut self, call_id: &str, state: CallState) {
        if let Some(c) = self.calls.get_mut(call_id) {
            c.state = state;
        }
    }

    /// Whether a meeting is in progress in `room_id`.
    pub(crate) fn is_open(&self, room_id: &str) -> bool {
        self.sessions.contains_key(room_id)
    }

    /// Add someone to a meeting, opening it if needed. A user already in
    /// the meeting is replaced (rejoin).
    pub(crate) fn join(&mut self, room_id: &str, who: Joiner, at: f64) -> u64 {
        if !self.sessions.contains_key(room_id) {
            self.session_log.push(SessionLog { room_id: room_id.to_owned(), start: at, end: None, joins: Vec::new() });
            self.sessions.insert(
                room_id.to_owned(),
                Session {
                    create_time: at,
                    participants: Vec::new(),
                    next_node_id: 10,
                    log_index: self.session_log.len() - 1,
                },
            );
        }
        let session = self.sessions.get_mut(room_id).expect("session");
        session.participants.retain(|p| p.user_id != who.user_id);
        let node_id = session.next_node_id;
        session.next_node_id += 1;
        self.session_log[session.log_index].joins.push(who.kind.clone());
        for rec in self.recordings.iter_mut().filter(|r| r.room_id == room_id && r.running()) {
            if !rec.users.iter().any(|(id, _)| *id == who.user_id) {
                rec.users.push((who.user_id.clone(), who.user_name.clone()));
            }
        }
        session.participants.push(Participant {
            user_id: who.user_id,
            user_name: who.user_name,
            kind: who.kind,
            node_id,
            joined_at: at,
            video_open: true,
            audio_muted: false,
            focused: false,
            call_id: who.call_id,
        });
        node_id
    }

    /// Remove someone from a meeting; a device's call becomes "hung up".
    /// The meeting ends when the last participant leaves (recordings keep
    /// running: the doc requires them to be stopped explicitly).
    pub(crate) fn leave(&mut self, room_id: &str, user_id: &str, at: f64) -> Option<Participant> {
        let session = self.sessions.get_mut(room_id)?;
        let idx = session.participants.iter().position(|p| p.user_id == user_id)?;
        let gone = session.participants.remove(idx);
        let empty = session.participants.is_empty();
        if let Some(call_id) = &gone.call_id {
            let call_id = call_id.clone();
            self.set_call_state(&call_id, CallState::HungUp);
        }
        if empty {
            self.end_session(room_id, at);
        }
        Some(gone)
    }

    fn end_session(&mut self, room_id: &str, at: f64) {
        if let Some(session) = self.sessions.remove(room_id) {
            self.session_log[session.log_index].end = Some(at);
        }
    }

    /// `/room/close`: hang up pending invites, kick everyone, stop
    /// recordings, lives, AVC and players. The room definition stays.
    pub(crate) fn close_room(&mut self, room_id: &str, now: f64, bytes_per_sec: u64) {
        let pending: Vec<String> = self
            .calls
            .values()
            .filter(|c| c.room_id == room_id && c.state == CallState::Inviting)
            .map(|c| c.call_id.clone())
            .collect();
        for call_id in pending {
            self.set_call_state(&call_id, CallState::HungUp);
        }
        let users: Vec<String> = self
            .sessions
            .get(room_id)
            .map(|s| s.participants.iter().map(|p| p.user_id.clone()).collect())
            .unwrap_or_default();
        for user_id in users {
            self.leave(room_id, &user_id, now);
        }
        self.end_session(room_id, now);
        let running: Vec<usize> = self
            .recordings
            .iter()
            .enumerate()
            .filter(|(_, r)| r.room_id == room_id && r.running())
            .map(|(i, _)| i)
            .collect();
        for idx in running {
            self.stop_recording(idx, now, bytes_per_sec);
        }
        self.mix_lives.remove(room_id);
        if let Some(live) = self.lives.get_mut(room_id) {
            if live.running.take().is_some() {
                live.stopped = true;
            }
        }
        self.avc.remove(room_id);
        self.players.retain(|p| p.room_id != room_id);
    }

    /// Index of the running recording of `kind` in `room_id`.
    pub(crate) fn running_recording(&self, room_id: &str, kind: RecordKind) -> Option<usize> {
        self.recordings.iter().position(|r| r.room_id == room_id && r.kind == kind && r.running())
    }

    /// Whether a mix record, mix live or desktop record runs in the room
    /// (appendix 40040: one of them at a time).
    pub(crate) fn room_busy(&self, room_id: &str) -> bool {
        self.mix_lives.contains_key(room_id) || self.recordings.iter().any(|r| r.room_id == room_id && r.running())
    }

    /// Stop a recording and produce its files. Returns their paths.
    pub(crate) fn stop_recording(&mut self, idx: usize, now: f64, bytes_per_sec: u64) -> Vec<String> {
        let rec = &mut self.recordings[idx];
        if rec.stopped.is_some() {
            return rec.files.clone();
        }
        rec.stopped = Some(now);
        let rec = rec.clone();
        let produced = planned_files(&rec);
        let duration = (now - rec.started).max(0.0);
        let len = (duration.max(1.0) * bytes_per_sec as f64).round() as u64;
        for (path, name) in &produced {
            let file = StoredFile {
                path: path.clone(),
                name: name.clone(),
                file_type: extension(path),
                room_id: Some(rec.room_id.clone()),
                record_id: Some(rec.record_id.clone()),
                start: rec.started,
                end: now,
                duration,
                body: Arc::new(FileBody::generated(path, len)),
            };
            self.files.insert(path.clone(), file);
        }
        let paths: Vec<String> = produced.into_iter().map(|(p, _)| p).collect();
        self.recordings[idx].files = paths.clone();
        paths
    }

    /// Meeting participants over all open rooms, by terminal type.
    pub(crate) fn online_by_kind(&self) -> BTreeMap<String, i64> {
        let mut counts = BTreeMap::new();
        for p in self.sessions.values().flat_map(|s| &s.participants) {
            *counts.entry(p.kind.clone()).or_default() += 1;
        }
        counts
    }

    /// Recordings currently running (each occupies an `avd_record` terminal).
    pub(crate) fn running_recorders(&self) -> i64 {
        self.recordings.iter().filter(|r| r.running()).count() as i64
    }

    /// JSON dump for `/_sim/state`.
    pub(crate) fn dump(&self, now: f64) -> Value {
        let rooms: Vec<Value> = self
            .rooms
            .values()
            .map(|r| {
                json!({
                    "room_id": r.room_id, "user_id": r.user_id, "topic": r.topic,
                    "enable_auto_cloud_recording": r.enable_auto_cloud_recording,
                    "enable_voice_activated": r.enable_voice_activated,
                    "enable_auto_avc": r.enable_auto_avc,
                    "resolution": r.resolution,
                    "enable_transcode_video": r.enable_transcode_video,
                    "created": r.created,
                    "open": self.is_open(&r.room_id),
                })
            })
            .collect();
        let sessions: serde_json::Map<String, Value> = self
            .sessions
            .iter()
            .map(|(id, s)| {
                let ps: Vec<Value> = s
                    .participants
                    .iter()
                    .map(|p| {
                        json!({
                            "user_id": p.user_id, "user_name": p.user_name, "type": p.kind,
                            "node_id": p.node_id, "joined_at": p.joined_at,
                            "video_open": p.video_open, "audio_muted": p.audio_muted,
                            "focused": p.focused, "call_id": p.call_id,
                        })
                    })
                    .collect();
                (id.clone(), json!({"create_time": s.create_time, "participants": ps}))
            })
            .collect();
        let calls: Vec<Value> = self
            .calls
            .values()
            .map(|c| {
                json!({
                    "call_id": c.call_id, "room_id": c.room_id, "user_id": c.user_id,
                    "name": c.name, "url": c.url, "invite_status": c.state.code(),
                })
            })
            .collect();
        let recordings: Vec<Value> = self
            .recordings
            .iter()
            .map(|r| {
                json!({
                    "record_id": r.record_id, "room_id": r.room_id,
                    "kind": match r.kind { RecordKind::Mix => "mix", RecordKind::Desktop => "desktop" },
                    "name": r.name, "status": r.status(now),
                    "transcode_status": r.transcode_status(now),
                    "started": r.started, "stopped": r.stopped, "files": r.files,
                    "settings": r.settings,
                })
            })
            .collect();
        let files: Vec<Value> = self
            .files
            .values()
            .map(|f| {
                json!({
                    "path": f.path, "size": f.body.len(), "md5": hex::encode(f.body.md5()),
                    "room_id": f.room_id, "record_id": f.record_id, "duration": f.duration,
                })
            })
            .collect();
        let players: Vec<Value> = self
            .players
            .iter()
            .map(|p| {
                json!({
                    "play_id": p.play_id, "room_id": p.room_id, "name": p.name,
                    "state": p.state.name(), "url": p.current_url,
                    "auto_publish_mock_audio": p.auto_publish_mock_audio,
                    "player_out_audio_codec": p.out_audio_codec,
                    "enable_auto_close_stream": p.enable_auto_close_stream,
                })
            })
            .collect();
        let gates: Vec<Value> =
            self.gates.values().map(|g| json!({"gate_id": g.id, "name": g.name, "url": g.url})).collect();
        let accounts: Vec<Value> = self
            .accounts
            .values()
            .map(|a| {
                json!({"account_id": a.id, "sip_gate_id": a.gate_id, "name": a.name,
                       "number": a.number, "password": a.password})
            })
            .collect();
        let mix_lives: serde_json::Map<String, Value> = self
            .mix_lives
            .iter()
            .map(|(room, m)| {
                let v = json!({"push_url": m.push_url, "rtmp_url": m.rtmp_url,
                               "videos": m.videos, "started": m.started});
                (room.clone(), v)
            })
            .collect();
        let avc: serde_json::Map<String, Value> = self
            .avc
            .iter()
            .map(|(room, a)| {
                let v = json!({
                    "enable_manual_avc": a.enable_manual_avc,
                    "max_video_number": a.max_video_number,
                    "layout_mode": a.layout_mode,
                    "main_video_resource_id": a.main_video_resource_id,
                    "focus_resource_id": a.focus_resource_id,
                    "videos": a.videos,
                    "bitrate": a.bitrate,
                });
                (room.clone(), v)
            })
            .collect();
        json!({
            "avd": {
                "now": now,
                "tokens": self.tokens.len(),
                "rooms": rooms,
                "sessions": sessions,
                "calls": calls,
                "recordings": recordings,
                "files": files,
                "mix_lives": mix_lives,
                "lives": self.lives.iter().filter(|(_, l)| l.running.is_some()).map(|(k, _)| k).collect::<Vec<_>>(),
                "avc": avc,
                "players": players,
                "gateways": gates,
                "accounts": accounts,
                "chat_messages": self.chat.len(),
                "file_permits": self.permits.len(),
            }
        })
    }
}

/// File extension (lowercase) of a path.
pub(crate) fn extension(path: &str) -> String {
    path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default()
}

/// `YYYYMMDD` and `YYYY-MM-DD-HH-MM-SS` of a virtual time, server local.
pub(crate) fn stamps(t: f64) -> (String, String) {
    let c = crate::common::timefmt::civil(t.floor() as i64, SERVER_UTC_OFFSET);
    (
        format!("{:04}{:02}{:02}", c.year, c.month, c.day),
        format!("{:04}-{:02}-{:02}-{:02}-{:02}-{:02}", c.year, c.month, c.day, c.hour, c.minute, c.second),
    )
}

/// (server path, file name) of every file a recording produces, following
/// the doc's naming: mixed `<room>-<record>-<stamp>.mp4|.mp3`, split
/// `<room>-<record>-<stamp>/<user_name>_<user_id>_v1.mp4` (`_a1.mp3`),
/// source `<room>-<record>-<stamp>.tms` with backup.
fn planned_files(rec: &Recording) -> Vec<(String, String)> {
    let (day, stamp) = stamps(rec.started);
    let dir = format!("{RECORD_ROOT}/{day}");
    let stem = format!("{}-{}-{}", rec.room_id, rec.record_id, stamp);
    let mut out = Vec::new();
    let mut push = |dir: &str, name: String| out.push((format!("{dir}/{name}"), name));
    if rec.kind == RecordKind::Desktop {
        push(&dir, format!("{stem}.mp4"));
        return out;
    }
    let o = &rec.opts;
    let mixed = o.file_name.clone().unwrap_or_else(|| stem.clone());
    let want_mp4 = !o.audio_only;
    let want_mp3 = o.audio_only || o.audio_record;
    let audio_ext = if o.audio_ext.is_empty() { "mp3" } else { o.audio_ext.as_str() };
    if want_mp4 {
        push(&dir, format!("{mixed}.mp4"));
    }
    if want_mp3 {
        push(&dir, format!("{mixed}.{audio_ext}"));
    }
    if o.individual {
        let split_dir = format!("{dir}/{stem}");
        for (user_id, user_name) in &rec.users {
            let who = if o.disable_user_name {
                sanitize(user_id)
            } else {
                format!("{}_{}", sanitize(user_name), sanitize(user_id))
            };
            if want_mp4 {
                push(&split_dir, format!("{who}_v1.mp4"));
            }
            if want_mp3 {
                push(&split_dir, format!("{who}_a1.{audio_ext}"));
            }
        }
    }
    if o.backup {
        push(&dir, format!("{stem}.tms"));
    }
    out
}

/// Make a user-supplied string safe as a file name component.
fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c == '/' || c == '\\' || c.is_control() { '_' } else { c }).collect()
}
