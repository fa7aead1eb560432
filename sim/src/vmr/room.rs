//! The room API on mcuHost: `/api/services/<room>/<cmd>` and
//! `/api/services/<room>/participants/<uuid>/<cmd>`.
//!
//! Success: `{"status": "success", "result": ...}`. The doc shows command
//! results as `‘true’` (curly single quotes) while its prose says "result
//! 返回 true": those commands answer the JSON boolean `true`; `message`'s
//! example writes `“true”` (double quotes), so it answers the string
//! `"true"`. Failures are undocumented: `{"status": "failed", "result":
//! "<message>"}` with HTTP 400 / 403 / 404.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::state::{
    new_token, uuid4, DialOutcome, Layout, LogEntry, Participant, Ringing, Role, Session, SubCall, VmrState,
    DIAL_TIMEOUT_SECS,
};
use super::Vmr;

/// The presentation frame served by presentation.jpeg (a real 32x24 JPEG).
pub(crate) const FRAME_JPEG: &[u8] = include_bytes!("presentation.jpg");

/// A failed room API call.
#[derive(Debug)]
pub(crate) struct RoomError {
    status: StatusCode,
    msg: String,
}

impl RoomError {
    fn new(status: StatusCode, msg: impl Into<String>) -> Self {
        RoomError { status, msg: msg.into() }
    }
    pub(crate) fn bad(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, msg)
    }
    pub(crate) fn forbidden(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, msg)
    }
    pub(crate) fn not_found(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, msg)
    }
    pub(crate) fn invalid_token() -> Self {
        Self::forbidden("Invalid token")
    }
}

impl IntoResponse for RoomError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"status": "failed", "result": self.msg}))).into_response()
    }
}

type RoomResult = Result<Value, RoomError>;

fn success(result: Value) -> Response {
    Json(json!({"status": "success", "result": result})).into_response()
}

/// The authenticated caller of a room call.
pub(crate) struct Caller {
    pub session: u64,
    /// Canonical room id.
    pub room: String,
    pub participant: String,
}

impl Caller {
    fn role(&self, st: &VmrState) -> Role {
        st.room(&self.room).participant(&self.participant).map_or(Role::Guest, |p| p.role)
    }

    fn require_host(&self, st: &VmrState) -> Result<(), RoomError> {
        match self.role(st) {
            Role::Chair => Ok(()),
            Role::Guest => Err(RoomError::forbidden("Only hosts may use this command")),
        }
    }
}

/// Resolve the room (404) and the token (403) of a call.
pub(crate) fn authorize(st: &VmrState, room: &str, token: Option<&str>, now: f64) -> Result<Caller, RoomError> {
    let room = st.resolve(room).ok_or_else(|| RoomError::not_found("Conference not found"))?;
    let token = token.filter(|t| !t.is_empty()).ok_or_else(RoomError::invalid_token)?;
    let sid = st.session_by_token(token, now).ok_or_else(RoomError::invalid_token)?;
    let s = &st.sessions[&sid];
    if s.room != room {
        return Err(RoomError::invalid_token());
    }
    Ok(Caller { session: sid, room, participant: s.participant.clone() })
}

fn header_token(headers: &HeaderMap) -> Option<&str> {
    // Header names are case-insensitive: `token` and `Token` both match.
    headers.get("token").and_then(|v| v.to_str().ok()).map(str::trim)
}

/// JSON body (empty body = `{}`); anything else is a 400.
fn json_body(body: &Bytes) -> Result<Value, RoomError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(RoomError::bad("Request body must be a JSON object")),
        Err(e) => Err(RoomError::bad(format!("Malformed JSON body: {e}"))),
    }
}

fn str_field<'a>(body: &'a Value, name: &str) -> Result<Option<&'a str>, RoomError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(RoomError::bad(format!("{name} must be a string"))),
    }
}

fn required<'a>(body: &'a Value, name: &str) -> Result<&'a str, RoomError> {
    str_field(body, name)?.filter(|s| !s.is_empty()).ok_or_else(|| RoomError::bad(format!("Missing {name}")))
}

fn method_not_allowed() -> Response {
    RoomError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed").into_response()
}

/// `/api/services/<room>/<cmd>`.
pub(crate) async fn room_command(
    State(vmr): State<Arc<Vmr>>,
    Path((room, cmd)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let want_get = matches!(cmd.as_str(), "service_status" | "participants");
    let known = want_get
        || matches!(
            cmd.as_str(),
            "new_session"
                | "refresh_session"
                | "end_session"
                | "dial"
                | "lock"
                | "unlock"
                | "start_service"
                | "muteguests"
                | "unmuteguests"
                | "disconnect"
                | "message"
                | "override_layout"
        );
    if !known {
        return RoomError::not_found(format!("Unknown command {cmd}")).into_response();
    }
    if (want_get && method != Method::GET) || (!want_get && method != Method::POST) {
        return method_not_allowed();
    }
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    if cmd == "new_session" {
        let pin = headers.get("pin").and_then(|v| v.to_str().ok()).map(str::trim);
        return match vmr.with_state(|st, now| new_session(&vmr, st, &room, pin, &body, now)) {
            Ok(v) => success(v),
            Err(e) => e.into_response(),
        };
    }
    let token = header_token(&headers);
    let result = vmr.with_state(|st, now| {
        let caller = authorize(st, &room, token, now)?;
        match cmd.as_str() {
            "refresh_session" => refresh_session(&vmr, st, &caller, now),
            "end_session" => {
                st.remove_participant(&caller.room, &caller.participant, "API session ended", now);
                Ok(Value::Bool(true))
            }
            "dial" => dial(&vmr, st, &caller, &body, now),
            "service_status" => Ok(st.room(&caller.room).status_json()),
            "lock" | "unlock" => lock(st, &caller, cmd == "lock"),
            "start_service" => {
                caller.require_host(st)?;
                st.start_conference(&caller.room);
                Ok(Value::Bool(true))
            }
            "muteguests" | "unmuteguests" => mute_guests(st, &caller, cmd == "muteguests"),
            "disconnect" => {
                caller.require_host(st)?;
                let all: Vec<String> = st.room(&caller.room).participants.iter().map(|p| p.uuid.clone()).collect();
                for uuid in all.iter().filter(|u| **u != caller.participant).chain([&caller.participant]) {
                    st.remove_participant(&caller.room, uuid, "API initiated conference disconnect", now);
                }
                Ok(Value::Bool(true))
            }
            "message" => message(st, &caller, &body, now),
            "participants" => Ok(Value::Array(st.room(&caller.room).participants_json())),
            "override_layout" => override_layout(st, &caller, &body),
            _ => unreachable!("command list checked above"),
        }
    });
    match result {
        Ok(v) => success(v),
        Err(e) => e.into_response(),
    }
}

fn new_session(vmr: &Vmr, st: &mut VmrState, room: &str, pin: Option<&str>, body: &Value, now: f64) -> RoomResult {
    let room = st.resolve(room).ok_or_else(|| RoomError::not_found("Conference not found"))?;
    let seed = &st.room(&room).seed;
    let role = match pin.filter(|p| !p.is_empty()) {
        Some(p) if p == seed.host_pin => Role::Chair,
        Some(p) if seed.guest_pin.as_deref() == Some(p) && seed.allow_guest => Role::Guest,
        Some(_) => return Err(RoomError::forbidden("Invalid PIN")),
        // No guest PIN set: guests join without one (when guests are allowed).
        None if seed.guest_pin.is_none() && seed.allow_guest => Role::Guest,
        None => return Err(RoomError::forbidden("PIN required")),
    };
    // The doc does not say whether display_name is required; meetkit always
    // sends it: strict requires it, lenient names the participant "API".
    let display_name = match str_field(body, "display_name")? {
        Some(n) if !n.is_empty() => n.to_owned(),
        _ if vmr.strict => return Err(RoomError::bad("Missing display_name")),
        _ => "API".to_owned(),
    };
    let hidden = match str_field(body, "hideme")? {
        None | Some("no") => false,
        Some("yes") => true,
        Some(_) => return Err(RoomError::bad("hideme must be \"yes\" or \"no\"")),
    };
    let uuid = uuid4();
    let token = new_token();
    let sid = st.next_id();
    let mut p = Participant::api(uuid.clone(), display_name.clone(), role, hidden, now);
    p.service_type = st.landing(&room, role);
    p.session = Some(sid);
    let current = p.service_type;
    let expires = now + vmr.opts.token_ttl.as_secs_f64();
    st.sessions.insert(
        sid,
        Session {
            id: sid,
            room: room.clone(),
            participant: uuid.clone(),
            token: token.clone(),
            expires,
            previous: None,
        },
    );
    st.add_participant(&room, p);
    let owner = vmr.mcu_host(0).split(':').next().unwrap_or("127.0.0.1").to_owned();
    Ok(json!({
        "allow_1080p": true,
        "bandwidth_in": 512,
        "guests_can_present": true,
        "expires": vmr.expires_str(),
        "bandwidth_out": 512,
        "owner": owner,
        "rtmp_enabled": true,
        "call_type": "video",
        "participant_uuid": uuid,
        "display_name": display_name,
        "fecc_enabled": true,
        "analytics_enabled": false,
        "rtsp_enabled": true,
        "token": token,
        "version": {"pseudo_version": "22112.0.0", "version_id": "3"},
        "role": role.session_wire(),
        "service_type": "conference",
        "chat_enabled": true,
        // Where the session landed right now (the participant's service_type).
        "current_service_type": current,
    }))
}

fn refresh_session(vmr: &Vmr, st: &mut VmrState, caller: &Caller, now: f64) -> RoomResult {
    let role = caller.role(st);
    let token = new_token();
    let grace = vmr.opts.refresh_grace.as_secs_f64();
    let s = st.sessions.get_mut(&caller.session).expect("authorized session");
    // Undocumented: the replaced token keeps working for `refresh_grace`
    // (requests already in flight), never beyond its own expiry.
    let old_until = (now + grace).min(s.expires);
    s.previous = Some((std::mem::replace(&mut s.token, token.clone()), old_until));
    s.expires = now + vmr.opts.token_ttl.as_secs_f64();
    Ok(json!({"token": token, "expires": vmr.expires_str(), "role": role.session_wire()}))
}

const PROTOCOLS: [&str; 7] = ["sip", "h323", "rtmp", "mssip", "rtsp", "phone", "auto"];

fn dial(vmr: &Vmr, st: &mut VmrState, caller: &Caller, body: &Value, now: f64) -> RoomResult {
    caller.require_host(st)?;
    let role = Role::parse(required(body, "role")?).ok_or_else(|| RoomError::bad("role must be guest or chair"))?;
    let destination = required(body, "destination")?.to_owned();
    let protocol = required(body, "protocol")?;
    if !PROTOCOLS.contains(&protocol) {
        return Err(RoomError::bad(format!("Unsupported protocol {protocol}")));
    }
    let call_type = str_field(body, "call_type")?.unwrap_or("video");
    if !["video", "video-only", "audio"].contains(&call_type) {
        return Err(RoomError::bad("call_type must be video, video-only or audio"));
    }
    let streaming = match str_field(body, "streaming")? {
        None | Some("no") => false,
        Some("yes") => true,
        Some(_) => return Err(RoomError::bad("streaming must be \"yes\" or \"no\"")),
    };
    if let Some(k) = str_field(body, "keep_conference_alive")? {
        let ok = ["keep_conference_alive", "keep_conference_alive_if_multiple", "keep_conference_alive_never"];
        if !ok.contains(&k) {
            return Err(RoomError::bad("Invalid keep_conference_alive"));
        }
    }
    for name in ["presentation_url", "dtmf_sequence", "source_display_name", "source"] {
        str_field(body, name)?;
    }
    let display = str_field(body, "remote_display_name")?.unwrap_or(&destination).to_owned();
    let uuid = uuid4();
    let mut p = Participant::endpoint(uuid.clone(), display, role, protocol.to_owned(), destination.clone(), now);
    p.call_direction = "out";
    p.service_type = "connecting";
    p.audio_only = call_type == "audio";
    p.streaming = streaming;
    let delay = vmr.opts.dial_answer_delay.as_secs_f64();
    // Simulated callee behaviour is chosen by the destination (see VmrOptions).
    let lower = destination.to_ascii_lowercase();
    let outcome = if lower.contains("noanswer") {
        DialOutcome::Never
    } else if lower.contains("busy") || lower.contains("reject") {
        DialOutcome::RejectAt(now + delay)
    } else {
        DialOutcome::AnswerAt(now + delay)
    };
    p.ringing = Some(Ringing { outcome, deadline: now + DIAL_TIMEOUT_SECS });
    st.add_participant(&caller.room, p);
    Ok(json!([uuid]))
}

fn lock(st: &mut VmrState, caller: &Caller, lock: bool) -> RoomResult {
    caller.require_host(st)?;
    let r = st.room_mut(&caller.room);
    let changed = r.locked != lock;
    r.locked = lock;
    let started = r.started;
    if changed {
        st.emit_service_update(&caller.room);
    }
    if !lock && started {
        // Undocumented: unlocking admits the guests held in the waiting room.
        st.start_conference(&caller.room);
    }
    Ok(Value::Bool(true))
}

fn mute_guests(st: &mut VmrState, caller: &Caller, mute: bool) -> RoomResult {
    caller.require_host(st)?;
    let r = st.room_mut(&caller.room);
    r.guests_muted = mute;
    let changed: Vec<String> = r
        .participants
        .iter_mut()
        .filter(|p| p.role == Role::Guest && p.muted != mute)
        .map(|p| {
            p.muted = mute;
            p.uuid.clone()
        })
        .collect();
    for uuid in changed {
        st.emit_update(&caller.room, &uuid);
    }
    st.emit_service_update(&caller.room);
    Ok(Value::Bool(true))
}

fn message(st: &mut VmrState, caller: &Caller, body: &Value, now: f64) -> RoomResult {
    let kind = required(body, "type")?.to_owned();
    let payload = str_field(body, "payload")?.ok_or_else(|| RoomError::bad("Missing payload"))?.to_owned();
    let origin = st.room(&caller.room).participant(&caller.participant).map(|p| p.display_name.clone());
    let data =
        json!({"origin": origin.unwrap_or_default(), "uuid": caller.participant, "type": kind, "payload": payload});
    st.log.push(LogEntry {
        room: caller.room.clone(),
        from: caller.participant.clone(),
        kind: "message".into(),
        body: data.clone(),
        at: now,
    });
    st.emit(&caller.room, "message", &data);
    // The doc's message example writes “true” (a string), unlike the other commands.
    Ok(Value::String("true".into()))
}

const LAYOUTS: [&str; 5] = ["1:0", "4:0", "1:7", "1:21", "2:21"];

fn override_layout(st: &mut VmrState, caller: &Caller, body: &Value) -> RoomResult {
    caller.require_host(st)?;
    let Some(Value::Array(items)) = body.get("layouts") else {
        return Err(RoomError::bad("layouts must be an array"));
    };
    let room = st.room(&caller.room);
    let mut layouts = Vec::new();
    for item in items {
        let audience = required_or_empty(item, "audience")?;
        if audience != "hosts" && !audience.is_empty() {
            return Err(RoomError::bad("audience must be \"hosts\" or \"\""));
        }
        let layout = required(item, "layout")?;
        if !LAYOUTS.contains(&layout) {
            return Err(RoomError::bad(format!("Unsupported layout {layout}")));
        }
        let actors: Vec<String> = match item.get("actors") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| RoomError::bad("actors must be uuids")))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(RoomError::bad("actors must be an array")),
        };
        if let Some(unknown) = actors.iter().find(|u| room.participant(u).is_none()) {
            return Err(RoomError::not_found(format!("Participant {unknown} not found")));
        }
        let vad_backfill = match item.get("vad_backfill") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s == "true" || s == "false" => s == "true",
            Some(_) => return Err(RoomError::bad("vad_backfill must be true or false")),
        };
        let plus_n = str_field(item, "plus_n")?.unwrap_or(if actors.is_empty() { "auto" } else { "off" }).to_owned();
        if plus_n != "off" && plus_n != "auto" {
            return Err(RoomError::bad("plus_n must be off or auto"));
        }
        if plus_n != "off" && !actors.is_empty() {
            // Doc: plus_n must be "off" when actors is non-empty.
            return Err(RoomError::bad("plus_n must be off when actors are given"));
        }
        if let Some(t) = str_field(item, "actors_overlay_text")? {
            if t != "auto" {
                return Err(RoomError::bad("actors_overlay_text must be auto"));
            }
        }
        layouts.push(Layout { audience: audience.to_owned(), layout: layout.to_owned(), actors, vad_backfill, plus_n });
    }
    if layouts.is_empty() {
        return Err(RoomError::bad("layouts must not be empty"));
    }
    st.room_mut(&caller.room).layouts = layouts;
    st.emit_layout(&caller.room);
    // Doc: "returns the participant list" (result [...]).
    Ok(Value::Array(st.room(&caller.room).participants_json()))
}

fn required_or_empty<'a>(body: &'a Value, name: &str) -> Result<&'a str, RoomError> {
    str_field(body, name)?.ok_or_else(|| RoomError::bad(format!("Missing {name}")))
}

/// `/api/services/<room>/participants/<uuid>/<cmd>`.
pub(crate) async fn participant_command(
    State(vmr): State<Arc<Vmr>>,
    Path((room, uuid, cmd)): Path<(String, String, String)>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    const CMDS: [&str; 12] = [
        "disconnect",
        "mute",
        "unmute",
        "allowrxpresentation",
        "denyrxpresentation",
        "spotlighton",
        "spotlightoff",
        "unlock",
        "role",
        "transfer",
        "dtmf",
        "calls",
    ];
    if !CMDS.contains(&cmd.as_str()) {
        return RoomError::not_found(format!("Unknown command {cmd}")).into_response();
    }
    if method != Method::POST {
        return method_not_allowed();
    }
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let token = header_token(&headers);
    let result = vmr.with_state(|st, now| {
        let caller = authorize(st, &room, token, now)?;
        if st.room(&caller.room).participant(&uuid).is_none() {
            return Err(RoomError::not_found("Participant not found"));
        }
        match cmd.as_str() {
            "dtmf" => dtmf(&vmr, st, &caller, &uuid, &body, now),
            "calls" => calls(&vmr, st, &caller, &uuid, &body),
            _ => {
                caller.require_host(st)?;
                host_participant_command(st, &caller, &uuid, &cmd, &body, now)
            }
        }
    });
    match result {
        Ok(v) => success(v),
        Err(e) => e.into_response(),
    }
}

fn host_participant_command(
    st: &mut VmrState,
    caller: &Caller,
    uuid: &str,
    cmd: &str,
    body: &Value,
    now: f64,
) -> RoomResult {
    let room = caller.room.as_str();
    match cmd {
        "disconnect" => {
            st.remove_participant(room, uuid, "API initiated participant disconnect", now);
        }
        "mute" | "unmute" | "allowrxpresentation" | "denyrxpresentation" | "spotlighton" | "spotlightoff" => {
            let p = st.room_mut(room).participant_mut(uuid).expect("checked");
            let before = (p.muted, p.rx_presentation, p.spotlight);
            match cmd {
                "mute" => p.muted = true,
                "unmute" => p.muted = false,
                "allowrxpresentation" => p.rx_presentation = true,
                "denyrxpresentation" => p.rx_presentation = false,
                "spotlighton" if p.spotlight == 0 => p.spotlight = now.floor() as i64,
                "spotlightoff" => p.spotlight = 0,
                _ => {}
            }
            let spot_changed = before.2 != p.spotlight;
            if before != (p.muted, p.rx_presentation, p.spotlight) {
                st.emit_update(room, uuid);
            }
            if spot_changed {
                st.emit_stage(room, None);
                st.emit_layout(room);
            }
        }
        "unlock" => st.admit(room, uuid),
        "role" => {
            let role =
                Role::parse(required(body, "role")?).ok_or_else(|| RoomError::bad("role must be chair or guest"))?;
            let p = st.room_mut(room).participant_mut(uuid).expect("checked");
            if p.role != role {
                p.role = role;
                let in_conference = p.service_type == "conference";
                st.emit_update(room, uuid);
                if role == Role::Chair && in_conference && !st.room(room).started {
                    st.start_conference(room);
                }
            }
        }
        "transfer" => transfer(st, caller, uuid, body, now)?,
        _ => unreachable!("command list checked"),
    }
    Ok(Value::Bool(true))
}

fn transfer(st: &mut VmrState, caller: &Caller, uuid: &str, body: &Value, now: f64) -> Result<(), RoomError> {
    let role = Role::parse(required(body, "role")?).ok_or_else(|| RoomError::bad("role must be chair or guest"))?;
    let alias = required(body, "conference_alias")?;
    let pin = str_field(body, "pin")?.filter(|p| !p.is_empty());
    let target = st.resolve(alias).ok_or_else(|| RoomError::not_found("Target conference not found"))?;
    if target == caller.room {
        return Err(RoomError::bad("Participant is already in this conference"));
    }
    let seed = &st.room(&target).seed;
    let pin_ok = match role {
        Role::Chair => pin == Some(seed.host_pin.as_str()),
        Role::Guest => match &seed.guest_pin {
            Some(g) => pin == Some(g.as_str()) || pin == Some(seed.host_pin.as_str()),
            None => seed.allow_guest,
        },
    };
    if !pin_ok {
        return Err(RoomError::forbidden("Invalid PIN for the target conference"));
    }
    // Leave this room (participant_delete here), join the target with the
    // same uuid; a session behind the participant follows it.
    let source = st.room_mut(&caller.room);
    let pos = source.participants.iter().position(|p| p.uuid == uuid).expect("checked");
    let mut p = source.participants.remove(pos);
    if !p.hidden {
        st.emit(&caller.room, "participant_delete", &json!({"uuid": uuid}));
    }
    if p.has_media {
        st.emit_stage(&caller.room, None);
    }
    if st.room(&caller.room).participants.is_empty() {
        st.end_conference(&caller.room, now);
    }
    p.role = role;
    p.service_type = st.landing(&target, role);
    p.ringing = None;
    if let Some(sid) = p.session {
        if let Some(s) = st.sessions.get_mut(&sid) {
            s.room = target.clone();
        }
        for s in st.streams.iter_mut().filter(|s| s.session == sid) {
            s.room = target.clone();
        }
    }
    for c in st.calls.iter_mut().filter(|c| c.participant == uuid) {
        c.room = target.clone();
    }
    st.add_participant(&target, p);
    Ok(())
}

fn dtmf(vmr: &Vmr, st: &mut VmrState, caller: &Caller, uuid: &str, body: &Value, now: f64) -> RoomResult {
    // The doc names dtmf in one table row only (no body documented). meetkit
    // sends `{"digits": "..."}`: strict requires that; lenient accepts any
    // JSON object. A `digits` string, when present, must be DTMF.
    if vmr.strict && str_field(body, "digits")?.is_none() {
        return Err(RoomError::bad("Missing digits"));
    }
    if let Some(d) = str_field(body, "digits")? {
        if d.is_empty() || !d.chars().all(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D')) {
            return Err(RoomError::bad("digits must be DTMF characters (0-9 * # A-D)"));
        }
    }
    st.log.push(LogEntry {
        room: caller.room.clone(),
        from: caller.participant.clone(),
        kind: "dtmf".into(),
        body: json!({"to": uuid, "request": body}),
        at: now,
    });
    Ok(Value::Bool(true))
}

fn calls(vmr: &Vmr, st: &mut VmrState, caller: &Caller, uuid: &str, body: &Value) -> RoomResult {
    // Host for any participant (doc), or a participant for itself (WebRTC client).
    if uuid != caller.participant {
        caller.require_host(st)?;
    }
    let call_type = required(body, "call_type")?.to_ascii_uppercase();
    let call_uuid = uuid4();
    let result = match call_type.as_str() {
        "WEBRTC" => {
            let offer = required(body, "sdp")?;
            if !offer.starts_with("v=0") {
                return Err(RoomError::bad("sdp must be an SDP offer (v=0 ...)"));
            }
            let host = vmr.mcu_host(0).split(':').next().unwrap_or("127.0.0.1");
            let answer = format!(
                "v=0\r\no=- {} 2 IN IP4 {host}\r\ns=-\r\nt=0 0\r\nm=audio 40000 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 {host}\r\na=rtpmap:111 opus/48000/2\r\na=recvonly\r\n",
                rand::random::<u32>()
            );
            json!({"call_uuid": call_uuid, "sdp": answer})
        }
        "RTMP" => {
            if let Some(p) = str_field(body, "present")? {
                if !p.eq_ignore_ascii_case("send") && !p.eq_ignore_ascii_case("receive") {
                    return Err(RoomError::bad("present must be send or receive"));
                }
            }
            if body.get("streaming").is_some_and(|v| !v.is_boolean()) {
                return Err(RoomError::bad("streaming must be true or false"));
            }
            let host = vmr.mcu_host(0).split(':').next().unwrap_or("127.0.0.1");
            json!({
                "call_uuid": call_uuid,
                "url": format!("rtmp://{host}:40002/zjcloud/{call_uuid}"),
                "secure_url": format!("rtmps://{host}:40003/zjcloud/{call_uuid}"),
            })
        }
        _ => return Err(RoomError::bad("call_type must be WEBRTC or RTMP")),
    };
    st.calls.push(SubCall { call_uuid, room: caller.room.clone(), participant: uuid.to_owned(), call_type });
    Ok(result)
}

/// `GET /api/services/<room>/presentation.jpeg`: the current frame while a
/// presentation runs. Undocumented auth: the token in header `token`
/// (strict: only there, as every other room call); lenient also takes
/// query `?token=` (like the event stream).
pub(crate) async fn presentation_jpeg(
    State(vmr): State<Arc<Vmr>>,
    Path(room): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query_tokens = super::events::query_tokens(query.as_deref(), vmr.strict);
    let result = vmr.with_state(|st, now| {
        let caller = match header_token(&headers) {
            Some(t) => authorize(st, &room, Some(t), now)?,
            // Strict: the header only, like every room call (meetkit's reading).
            None if vmr.strict => authorize(st, &room, None, now)?,
            None => super::events::authorize_query(st, &room, &query_tokens, now)?,
        };
        let r = st.room(&caller.room);
        if r.presenter.is_none() {
            return Err(RoomError::not_found("No presentation in progress"));
        }
        Ok(())
    });
    match result {
        Ok(()) => (
            [(header::CONTENT_TYPE, "image/jpeg"), (header::CACHE_CONTROL, "no-cache")],
            Bytes::from_static(FRAME_JPEG),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}
