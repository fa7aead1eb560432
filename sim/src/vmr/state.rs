//! The vmr state: rooms (conference properties and participants), token
//! sessions, event streams, sub-calls, recordings with their files, lives.
//!
//! Time-driven transitions (token expiry, dial-outs answering or timing
//! out, recordings being cut into files) are applied by [`VmrState::tick`]
//! before every request and by a background ticker, so open event streams
//! see them without any request.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedSender;

use crate::avd::files::FileBody;
use crate::common::timefmt::civil;
use crate::VmrOptions;
use crate::VmrRoomSeed;

/// The vendor's servers run on China Standard Time (timestamps in
/// `checkJoin` and `getRecords` are local "yyyy-MM-dd HH:mm:ss").
pub(crate) const SERVER_UTC_OFFSET: i64 = 8 * 3600;
/// dial: "nothing answers within 30 seconds → the platform deletes the
/// would-be participant" (003, dial section).
pub(crate) const DIAL_TIMEOUT_SECS: f64 = 30.0;
/// Vendor string of API (control) participants, from the doc's
/// participant_create example.
const API_VENDOR: &str = "CloudConnect/2.0.0-25227.0.0 (Windows NT 6.1; WOW64) nwjs/0.12.2 Chrome/41.0.2272.76";

/// `yyyy-MM-dd HH:mm:ss` in server time.
pub(crate) fn fmt_time(unix: f64) -> String {
    let c = civil(unix.floor() as i64, SERVER_UTC_OFFSET);
    format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", c.year, c.month, c.day, c.hour, c.minute, c.second)
}

/// A random RFC 4122 version-4 UUID string.
pub(crate) fn uuid4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// An opaque token shaped like the doc's sample: base64 with `+` and `=`
/// already percent-escaped (`%2B`, `%3D`), `/` left raw.
pub(crate) fn new_token() -> String {
    use base64::Engine;
    let a: [u8; 32] = rand::random();
    let b: [u8; 31] = rand::random();
    let raw = [&a[..], &b[..]].concat();
    base64::engine::general_purpose::STANDARD.encode(raw).replace('+', "%2B").replace('=', "%3D")
}

/// Participant role as the room API writes it in participant objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Host (`chair`; `HOST` in new_session).
    Chair,
    /// Guest (`guest`; `GUEST` in new_session).
    Guest,
}

impl Role {
    /// `chair` / `guest`.
    pub(crate) fn wire(self) -> &'static str {
        match self {
            Role::Chair => "chair",
            Role::Guest => "guest",
        }
    }

    /// `HOST` / `GUEST` (new_session, refresh_session).
    pub(crate) fn session_wire(self) -> &'static str {
        match self {
            Role::Chair => "HOST",
            Role::Guest => "GUEST",
        }
    }

    /// Parse `chair` / `guest`.
    pub(crate) fn parse(s: &str) -> Option<Role> {
        match s {
            "chair" => Some(Role::Chair),
            "guest" => Some(Role::Guest),
            _ => None,
        }
    }
}

/// How a dial-out will end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum DialOutcome {
    /// The callee answers at this virtual time.
    AnswerAt(f64),
    /// The callee rejects at this virtual time.
    RejectAt(f64),
    /// Nobody answers (removed after 30 s).
    Never,
}

/// A dial-out still ringing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ringing {
    pub outcome: DialOutcome,
    /// Removal time when unanswered.
    pub deadline: f64,
}

/// One participant of a room.
#[derive(Debug, Clone)]
pub(crate) struct Participant {
    pub uuid: String,
    pub display_name: String,
    pub role: Role,
    /// connecting | waiting_room | ivr | conference | gateway.
    pub service_type: &'static str,
    /// in | out.
    pub call_direction: &'static str,
    pub protocol: String,
    pub muted: bool,
    /// 0, or the UNIX second it was spotlighted.
    pub spotlight: i64,
    pub rx_presentation: bool,
    pub presenting: bool,
    pub has_media: bool,
    pub audio_only: bool,
    pub streaming: bool,
    pub start_time: i64,
    pub uri: String,
    pub vendor: String,
    /// new_session with hideme "yes": not listed, no events about it.
    pub hidden: bool,
    /// Session (token holder) behind this participant, if any.
    pub session: Option<u64>,
    pub ringing: Option<Ringing>,
}

impl Participant {
    /// The participant object of participant_create / participants.
    pub(crate) fn to_json(&self, room_alias: &str) -> Value {
        let yn = |b: bool| if b { "YES" } else { "NO" };
        json!({
            "api_url": format!("/participants/{}", self.uuid),
            "call_direction": self.call_direction,
            "display_name": self.display_name,
            "encryption": "On",
            "has_media": self.has_media,
            "is_audio_only_call": yn(self.audio_only),
            "is_external": self.protocol == "mssip",
            "is_muted": yn(self.muted),
            "is_presenting": yn(self.presenting),
            "is_streaming_conference": self.streaming,
            "is_video_call": yn(self.has_media && !self.audio_only),
            "local_alias": room_alias,
            "overlay_text": self.display_name,
            "presentation_supported": yn(self.has_media && !self.audio_only),
            "protocol": self.protocol,
            "role": self.role.wire(),
            "rx_presentation_policy": if self.rx_presentation { "ALLOW" } else { "DENY" },
            "service_type": self.service_type,
            "spotlight": self.spotlight,
            "start_time": self.start_time,
            "uri": self.uri,
            "uuid": self.uuid,
            "vendor": self.vendor,
        })
    }

    /// A new API (control) participant as created by new_session.
    pub(crate) fn api(uuid: String, display_name: String, role: Role, hidden: bool, now: f64) -> Self {
        Participant {
            uuid,
            uri: format!("CloudConnect_{display_name}"),
            display_name,
            role,
            service_type: "conference",
            call_direction: "in",
            protocol: "api".into(),
            muted: false,
            spotlight: 0,
            rx_presentation: true,
            presenting: false,
            has_media: false,
            audio_only: false,
            streaming: false,
            start_time: now.floor() as i64,
            vendor: API_VENDOR.into(),
            hidden,
            session: None,
            ringing: None,
        }
    }

    /// A media endpoint (dialled out, or dialling in by itself).
    pub(crate) fn endpoint(
        uuid: String,
        display_name: String,
        role: Role,
        protocol: String,
        uri: String,
        now: f64,
    ) -> Self {
        Participant {
            uuid,
            display_name,
            role,
            service_type: "conference",
            call_direction: "in",
            vendor: format!("SimEndpoint/1.0 ({protocol})"),
            protocol,
            muted: false,
            spotlight: 0,
            rx_presentation: true,
            presenting: false,
            has_media: true,
            audio_only: false,
            streaming: false,
            start_time: now.floor() as i64,
            uri,
            hidden: false,
            session: None,
            ringing: None,
        }
    }
}

/// An active recording of a room.
#[derive(Debug, Clone)]
pub(crate) struct ActiveRecording {
    pub record_id: String,
    pub start: f64,
}

/// One layout of override_layout.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub audience: String,
    pub layout: String,
    pub actors: Vec<String>,
    pub vad_backfill: bool,
    pub plus_n: String,
}

/// One room: its definition and the conference in progress.
#[derive(Debug, Clone)]
pub(crate) struct Room {
    pub seed: VmrRoomSeed,
    /// Tenant auth key owning the room.
    pub tenant: String,
    pub locked: bool,
    pub guests_muted: bool,
    /// start_service was called or a host joined; cleared when the room empties.
    pub started: bool,
    pub participants: Vec<Participant>,
    pub layouts: Vec<Layout>,
    /// uuid of the presenter while a presentation runs.
    pub presenter: Option<String>,
    /// Presentation frames produced so far in this presentation.
    pub frames: u64,
    pub recording: Option<ActiveRecording>,
    /// Live id while live streaming.
    pub live: Option<String>,
}

impl Room {
    fn new(seed: VmrRoomSeed, default_tenant: &str) -> Self {
        let tenant = seed.auth.clone().unwrap_or_else(|| default_tenant.to_owned());
        Room {
            seed,
            tenant,
            locked: false,
            guests_muted: false,
            started: false,
            participants: Vec::new(),
            layouts: Vec::new(),
            presenter: None,
            frames: 0,
            recording: None,
            live: None,
        }
    }

    /// Participant by uuid.
    pub(crate) fn participant(&self, uuid: &str) -> Option<&Participant> {
        self.participants.iter().find(|p| p.uuid == uuid)
    }

    /// Mutable participant by uuid.
    pub(crate) fn participant_mut(&mut self, uuid: &str) -> Option<&mut Participant> {
        self.participants.iter_mut().find(|p| p.uuid == uuid)
    }

    /// Visible participants as objects.
    pub(crate) fn participants_json(&self) -> Vec<Value> {
        self.participants.iter().filter(|p| !p.hidden).map(|p| p.to_json(&self.seed.alias)).collect()
    }

    /// `{locked, guests_muted, started, whiteboard}`.
    pub(crate) fn status_json(&self) -> Value {
        json!({"guests_muted": self.guests_muted, "locked": self.locked, "started": self.started, "whiteboard": false})
    }

    /// Stage order: spotlighted participants by spotlight time, then the
    /// others in join order; only those in the conference with media.
    pub(crate) fn stage(&self) -> Vec<String> {
        let mut on: Vec<&Participant> =
            self.participants.iter().filter(|p| p.service_type == "conference" && p.has_media).collect();
        on.sort_by_key(|p| if p.spotlight > 0 { (0, p.spotlight) } else { (1, 0) });
        on.into_iter().map(|p| p.uuid.clone()).collect()
    }
}

/// A token session (new_session ... end_session).
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub id: u64,
    /// Canonical room id (numeric).
    pub room: String,
    pub participant: String,
    pub token: String,
    pub expires: f64,
    /// The token before the last refresh and until when it still works.
    pub previous: Option<(String, f64)>,
}

/// What an event stream receives.
#[derive(Debug)]
pub(crate) enum Frame {
    /// Ready-to-send SSE bytes.
    Data(String),
    /// End the stream cleanly.
    Close,
    /// Cut the connection (admin drop).
    Abort,
}

/// An open event stream.
#[derive(Debug)]
pub(crate) struct Stream {
    pub room: String,
    pub session: u64,
    pub tx: UnboundedSender<Frame>,
}

/// A sub-call made with participants/<uuid>/calls.
#[derive(Debug, Clone)]
pub(crate) struct SubCall {
    pub call_uuid: String,
    pub room: String,
    pub participant: String,
    pub call_type: String,
}

/// One produced recording file.
#[derive(Debug, Clone)]
pub(crate) struct RecordFile {
    /// Download path on apiServer (`/records/<date>/<key>_<HHMMSS>.mp4`).
    pub path: String,
    /// `sign` query value the download URL must carry.
    pub sign: String,
    pub start: f64,
    pub stop: f64,
    pub body: Arc<FileBody>,
}

/// A recording (openRecord → closeRecord → getRecords → delRecordFile).
#[derive(Debug, Clone)]
pub(crate) struct Recording {
    pub record_id: String,
    /// Canonical room id.
    pub room: String,
    pub conference_key: String,
    pub tenant: String,
    pub ent_id: i64,
    pub start: f64,
    pub stop: Option<f64>,
    pub files: Vec<RecordFile>,
}

/// A logged conference message or DTMF (for `/_sim/state`).
#[derive(Debug, Clone)]
pub(crate) struct LogEntry {
    pub room: String,
    pub from: String,
    pub kind: String,
    pub body: Value,
    pub at: f64,
}

/// Everything the vmr servers know.
#[derive(Debug, Default)]
pub(crate) struct VmrState {
    /// Rooms by canonical id.
    pub rooms: BTreeMap<String, Room>,
    pub sessions: BTreeMap<u64, Session>,
    pub streams: Vec<Stream>,
    pub calls: Vec<SubCall>,
    pub recordings: BTreeMap<String, Recording>,
    pub log: Vec<LogEntry>,
    /// Event-stream connections cut by `/_sim/vmr/events/drop` so far.
    pub stream_drops: u64,
    /// (bytes per recorded second, max seconds per file).
    pub record_params: (u64, f64),
    next_id: u64,
}

impl VmrState {
    /// Fresh state with the seeded rooms.
    pub(crate) fn new(opts: &VmrOptions) -> Self {
        let mut st = VmrState {
            record_params: (opts.record_bytes_per_second, opts.record_segment.as_secs_f64().max(1.0)),
            ..VmrState::default()
        };
        for seed in &opts.rooms {
            st.rooms.insert(seed.id.clone(), Room::new(seed.clone(), &opts.auth_key));
        }
        st
    }

    /// A process-unique counter value.
    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Canonical id of a room written as its address (case-insensitive)
    /// or its numeric id.
    pub(crate) fn resolve(&self, room: &str) -> Option<String> {
        if self.rooms.contains_key(room) {
            return Some(room.to_owned());
        }
        self.rooms.values().find(|r| r.seed.alias.eq_ignore_ascii_case(room)).map(|r| r.seed.id.clone())
    }

    /// Room by canonical id.
    pub(crate) fn room(&self, id: &str) -> &Room {
        self.rooms.get(id).expect("canonical room id")
    }

    /// Mutable room by canonical id.
    pub(crate) fn room_mut(&mut self, id: &str) -> &mut Room {
        self.rooms.get_mut(id).expect("canonical room id")
    }

    /// Session holding `token` (current, or previous within its grace).
    pub(crate) fn session_by_token(&self, token: &str, now: f64) -> Option<u64> {
        self.sessions.values().find_map(|s| {
            let current = s.token == token && s.expires > now;
            let previous = s.previous.as_ref().is_some_and(|(t, until)| t == token && *until > now);
            (current || previous).then_some(s.id)
        })
    }

    // ----- events -------------------------------------------------------

    /// Cut every open event stream's connection (a network fault); how many.
    pub(crate) fn drop_streams(&mut self) -> usize {
        let n = self.streams.len();
        for s in self.streams.drain(..) {
            let _ = s.tx.send(Frame::Abort);
        }
        self.stream_drops += n as u64;
        n
    }

    /// Send `name` with `data` to every stream of `room`.
    pub(crate) fn emit(&mut self, room: &str, name: &str, data: &Value) {
        let frame = sse_frame(name, data);
        self.streams.retain(|s| s.room != room || s.tx.send(Frame::Data(frame.clone())).is_ok());
    }

    /// Send `name` with `data` to the streams of one session.
    pub(crate) fn emit_to_session(&mut self, session: u64, name: &str, data: &Value) {
        let frame = sse_frame(name, data);
        self.streams.retain(|s| s.session != session || s.tx.send(Frame::Data(frame.clone())).is_ok());
    }

    /// participant_update with the participant's full object (not for hidden ones).
    pub(crate) fn emit_update(&mut self, room: &str, uuid: &str) {
        let r = self.room(room);
        if let Some(p) = r.participant(uuid).filter(|p| !p.hidden) {
            let data = p.to_json(&r.seed.alias);
            self.emit(room, "participant_update", &data);
        }
    }

    /// stage: speaking order, nobody speaking.
    pub(crate) fn emit_stage(&mut self, room: &str, speaking: Option<&str>) {
        let stage: Vec<Value> = self
            .room(room)
            .stage()
            .into_iter()
            .enumerate()
            .map(|(i, u)| {
                let vad = if speaking == Some(u.as_str()) { 100 } else { 0 };
                json!({"stage_index": i, "participant_uuid": u, "vad": vad})
            })
            .collect();
        self.emit(room, "stage", &Value::Array(stage));
    }

    /// layout: the hosts' layout (or 1:7 by default) and who is on screen.
    pub(crate) fn emit_layout(&mut self, room: &str) {
        let r = self.room(room);
        let host_layout = r.layouts.iter().find(|l| l.audience == "hosts");
        let view = host_layout.map_or("1:7".to_owned(), |l| l.layout.clone());
        let mut on_screen: Vec<String> = host_layout.map(|l| l.actors.clone()).unwrap_or_default();
        if on_screen.is_empty() || host_layout.is_some_and(|l| l.vad_backfill) {
            for u in r.stage() {
                if !on_screen.contains(&u) {
                    on_screen.push(u);
                }
            }
        }
        let data = json!({"view": view, "participants": on_screen});
        self.emit(room, "layout", &data);
    }

    /// service_update {locked, guests_muted}.
    pub(crate) fn emit_service_update(&mut self, room: &str) {
        let r = self.room(room);
        let data = json!({"locked": r.locked, "guests_muted": r.guests_muted});
        self.emit(room, "service_update", &data);
    }

    // ----- participants ---------------------------------------------------

    /// Add a participant (applying guests_muted to guests) and announce it.
    pub(crate) fn add_participant(&mut self, room: &str, mut p: Participant) {
        let r = self.room_mut(room);
        if r.guests_muted && p.role == Role::Guest {
            // Public cloud: "静音当前访客及后续入会访客" (support-table remark).
            p.muted = true;
        }
        let announce = (!p.hidden).then(|| p.to_json(&r.seed.alias));
        let joins_as_host = p.role == Role::Chair && p.service_type == "conference";
        let media = p.has_media && p.service_type == "conference";
        r.participants.push(p);
        if let Some(data) = announce {
            self.emit(room, "participant_create", &data);
        }
        if joins_as_host {
            self.start_conference(room);
        }
        if media {
            self.emit_stage(room, None);
        }
    }

    /// Where a joining participant lands: hosts straight in; guests wait
    /// while the conference is locked or no host has started it.
    pub(crate) fn landing(&self, room: &str, role: Role) -> &'static str {
        let r = self.room(room);
        if role == Role::Chair || (r.started && !r.locked) {
            "conference"
        } else {
            "waiting_room"
        }
    }

    /// Mark the conference started and admit every waiting participant.
    pub(crate) fn start_conference(&mut self, room: &str) {
        let r = self.room_mut(room);
        r.started = true;
        let admitted: Vec<String> = r
            .participants
            .iter_mut()
            .filter(|p| p.service_type == "waiting_room" && !(r.locked && p.role == Role::Guest))
            .map(|p| {
                p.service_type = "conference";
                p.uuid.clone()
            })
            .collect();
        for uuid in &admitted {
            self.emit_update(room, uuid);
        }
        if !admitted.is_empty() {
            self.emit_stage(room, None);
        }
    }

    /// Admit one waiting participant (participant unlock, start_service).
    pub(crate) fn admit(&mut self, room: &str, uuid: &str) {
        if let Some(p) = self.room_mut(room).participant_mut(uuid) {
            if p.service_type == "waiting_room" {
                p.service_type = "conference";
                self.emit_update(room, uuid);
                self.emit_stage(room, None);
            }
        }
    }

    /// Remove a participant: participant_delete to the others, a
    /// disconnect event to its own session's streams (which then close),
    /// its session ends, its sub-calls end; an emptied room ends its
    /// conference. Returns whether it existed.
    pub(crate) fn remove_participant(&mut self, room: &str, uuid: &str, reason: &str, now: f64) -> bool {
        let r = self.room_mut(room);
        let Some(pos) = r.participants.iter().position(|p| p.uuid == uuid) else {
            return false;
        };
        let p = r.participants.remove(pos);
        if r.presenter.as_deref() == Some(uuid) {
            r.presenter = None;
            r.frames = 0;
            self.emit(room, "presentation_stop", &Value::Null);
        }
        let ended: Vec<String> =
            self.calls.iter().filter(|c| c.participant == uuid).map(|c| c.call_uuid.clone()).collect();
        for call in ended {
            self.end_call(&call, reason);
        }
        if let Some(sid) = p.session {
            self.emit_to_session(sid, "disconnect", &json!({"reason": reason}));
            self.close_session_streams(sid);
            self.sessions.remove(&sid);
        }
        if !p.hidden {
            self.emit(room, "participant_delete", &json!({"uuid": uuid}));
        }
        if p.has_media {
            self.emit_stage(room, None);
        }
        if self.room(room).participants.is_empty() {
            self.end_conference(room, now);
        }
        true
    }

    /// End a sub-call with call_disconnected.
    pub(crate) fn end_call(&mut self, call_uuid: &str, reason: &str) -> bool {
        let Some(pos) = self.calls.iter().position(|c| c.call_uuid == call_uuid) else {
            return false;
        };
        let call = self.calls.remove(pos);
        self.emit(&call.room, "call_disconnected", &json!({"call_uuid": call.call_uuid, "reason": reason}));
        true
    }

    /// Close (cleanly) every stream of a session.
    pub(crate) fn close_session_streams(&mut self, session: u64) {
        self.streams.retain(|s| {
            if s.session == session {
                let _ = s.tx.send(Frame::Close);
                false
            } else {
                true
            }
        });
    }

    /// The last participant left: the conference ends, its properties
    /// reset, a running recording is closed (files produced) and a live
    /// stops.
    pub(crate) fn end_conference(&mut self, room: &str, now: f64) {
        let active = self.room_mut(room).recording.take();
        if let Some(rec) = active {
            self.finish_recording(&rec.record_id, now);
        }
        let r = self.room_mut(room);
        r.started = false;
        r.locked = false;
        r.guests_muted = false;
        r.layouts.clear();
        r.presenter = None;
        r.frames = 0;
        r.live = None;
    }

    // ----- recordings -----------------------------------------------------

    /// Stop a recording at `now` and cut its files.
    pub(crate) fn finish_recording(&mut self, record_id: &str, now: f64) {
        let (bytes_per_second, segment) = self.record_params;
        let Some(rec) = self.recordings.get_mut(record_id) else { return };
        rec.stop = Some(now);
        rec.files = cut_files(rec, bytes_per_second, segment, now);
    }

    // ----- time -----------------------------------------------------------

    /// Apply every time-driven transition up to `now`.
    pub(crate) fn tick(&mut self, now: f64) {
        let expired: Vec<(u64, String, String)> = self
            .sessions
            .values()
            .filter(|s| s.expires <= now)
            .map(|s| (s.id, s.room.clone(), s.participant.clone()))
            .collect();
        for (sid, room, uuid) in expired {
            if !self.remove_participant(&room, &uuid, "Token expired", now) {
                self.close_session_streams(sid);
                self.sessions.remove(&sid);
            }
        }
        let mut answered = Vec::new();
        let mut gone = Vec::new();
        for (id, r) in &mut self.rooms {
            for p in &mut r.participants {
                let Some(ring) = p.ringing else { continue };
                match ring.outcome {
                    DialOutcome::AnswerAt(t) if t <= now && t < ring.deadline => {
                        answered.push((id.clone(), p.uuid.clone()));
                    }
                    DialOutcome::RejectAt(t) if t <= now => gone.push((id.clone(), p.uuid.clone(), "Call rejected")),
                    _ if ring.deadline <= now => gone.push((id.clone(), p.uuid.clone(), "Call timed out")),
                    _ => {}
                }
            }
        }
        for (room, uuid) in answered {
            if let Some(p) = self.room_mut(&room).participant_mut(&uuid) {
                p.ringing = None;
                p.service_type = "conference";
            }
            self.emit_update(&room, &uuid);
            self.emit_stage(&room, None);
            if self.room(&room).participant(&uuid).is_some_and(|p| p.role == Role::Chair) {
                self.start_conference(&room);
            }
        }
        for (room, uuid, reason) in gone {
            self.remove_participant(&room, &uuid, reason, now);
        }
    }
}

/// `event: <name>` + `data:` lines + blank line. Payloads whose doc
/// examples are multi-line (participant objects, stage) are sent
/// pretty-printed over several `data:` lines, which SSE joins with `\n`.
pub(crate) fn sse_frame(name: &str, data: &Value) -> String {
    let multiline = matches!(name, "participant_create" | "participant_update" | "stage");
    let text = if multiline { serde_json::to_string_pretty(data).expect("json") } else { data.to_string() };
    let mut out = format!("event: {name}\n");
    for line in text.lines() {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}

/// Cut a stopped recording into files of at most `segment` seconds.
fn cut_files(rec: &Recording, bytes_per_second: u64, segment: f64, stop: f64) -> Vec<RecordFile> {
    let mut files = Vec::new();
    let mut start = rec.start;
    loop {
        let end = (start + segment).min(stop);
        let c = civil(start.floor() as i64, SERVER_UTC_OFFSET);
        let path = format!(
            "/records/{:04}-{:02}-{:02}/{}_{:02}{:02}{:02}_{}.mp4",
            c.year,
            c.month,
            c.day,
            rec.conference_key,
            c.hour,
            c.minute,
            c.second,
            &rec.record_id[..8],
        );
        let len = (((end - start) * bytes_per_second as f64).round() as u64).max(1024);
        let sign = hex::encode(rand::random::<[u8; 16]>());
        files.push(RecordFile { body: Arc::new(FileBody::generated(&path, len)), path, sign, start, stop: end });
        start = end;
        if start >= stop {
            break;
        }
    }
    files
}
