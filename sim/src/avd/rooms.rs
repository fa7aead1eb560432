//! Room definitions, meetings in progress, participants, statistics, chat.

use md5::{Digest, Md5};
use serde_json::{json, Value};

use super::errors::{ApiError, ApiResult};
use super::params::Params;
use super::state::RoomDef;
use super::{payload, Ctx, Payload};

/// `/room/create`. `room_id` may be omitted (the doc: the server then
/// generates one, although its table marks it required).
pub(crate) fn create(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let user_id = p.req("user_id")?.to_owned();
    let topic = p.get("topic").unwrap_or_default().to_owned();
    let enable_auto_cloud_recording = p.bool("enable_auto_cloud_recording")?.unwrap_or(false);
    let enable_voice_activated = p.bool("enable_voice_activated")?.unwrap_or(false);
    let enable_auto_avc = p.bool("enable_auto_avc")?.unwrap_or(false);
    let resolution = p.get("resolution").unwrap_or_default().to_owned();
    let enable_transcode_video = p.get("enable_transcode_video").unwrap_or_default().to_owned();
    let room_id = match p.get("room_id") {
        Some(id) => id.to_owned(),
        None => generate_room_id(ctx),
    };
    if ctx.st.rooms.contains_key(&room_id) {
        return Err(ApiError::msg(40005, "room_id exists"));
    }
    ctx.st.rooms.insert(
        room_id.clone(),
        RoomDef {
            room_id: room_id.clone(),
            user_id,
            topic,
            enable_auto_cloud_recording,
            enable_voice_activated,
            enable_auto_avc,
            resolution,
            enable_transcode_video,
            created: ctx.now,
        },
    );
    Ok(payload(json!({ "room_id": room_id })))
}

/// An unused 11-digit room id, like the doc's examples.
fn generate_room_id(ctx: &Ctx<'_>) -> String {
    loop {
        let hex = ctx.avd.ids.hex32("room");
        let n = u64::from_str_radix(&hex[..15], 16).expect("hex") % 90_000_000_000 + 10_000_000_000;
        let id = n.to_string();
        if !ctx.st.rooms.contains_key(&id) {
            return id;
        }
    }
}

/// `/room/update`.
pub(crate) fn update(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let topic = p.get("topic");
    let auto_rec = p.bool("enable_auto_cloud_recording")?;
    let user_id = p.get("user_id");
    let auto_avc = p.bool("enable_auto_avc")?;
    let room = ctx.st.rooms.get_mut(room_id).ok_or_else(ApiError::no_room)?;
    if let Some(t) = topic {
        room.topic = t.to_owned();
    }
    if let Some(v) = auto_rec {
        room.enable_auto_cloud_recording = v;
    }
    if let Some(u) = user_id {
        room.user_id = u.to_owned();
    }
    if let Some(v) = auto_avc {
        room.enable_auto_avc = v;
    }
    Ok(Payload::new())
}

/// `/room/del`. Deleting a room with a meeting in progress closes the
/// meeting first (the doc does not say).
pub(crate) fn del(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    ctx.room(room_id)?;
    let bps = ctx.avd.opts.record_bytes_per_second;
    ctx.st.close_room(room_id, ctx.now, bps);
    ctx.st.rooms.remove(room_id);
    ctx.st.lives.remove(room_id);
    Ok(Payload::new())
}

/// `/room/read`: settings under `data`.
pub(crate) fn read(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let r = ctx.st.rooms.get(room_id).ok_or_else(|| ApiError::msg(40004, "no such room"))?;
    Ok(payload(json!({
        "data": {
            "enable_auto_avc": r.enable_auto_avc,
            "enable_voice_activated": r.enable_voice_activated,
            "user_id": r.user_id,
            "enable_auto_cloud_recording": r.enable_auto_cloud_recording,
            "topic": r.topic,
        }
    })))
}

/// `/room/close` (code envelope): not found or not open -> 41005.
pub(crate) fn close(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    if !ctx.st.rooms.contains_key(room_id) || !ctx.st.is_open(room_id) {
        return Err(ApiError::msg(41005, "Internal server error:room not found or opened"));
    }
    let bps = ctx.avd.opts.record_bytes_per_second;
    ctx.st.close_room(room_id, ctx.now, bps);
    Ok(Payload::new())
}

/// `/room/get_statistic` (bare counters). An unknown room answers
/// `{"ret":40003,"msg":"no such room_id"}` exactly as the doc's failure
/// example does, although the appendix defines 40003 as a token error.
pub(crate) fn get_statistic(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let start = p.req_int("start_time")? as f64;
    let end = p.req_int("end_time")? as f64;
    if !ctx.st.rooms.contains_key(room_id) {
        return Err(ApiError::msg(40003, "no such room_id"));
    }
    let (mut meetings, mut seconds, mut users) = (0i64, 0f64, 0i64);
    let mut by_kind = [0i64; 6]; // ios, pc, other, android, box, web
    for log in ctx.st.session_log.iter().filter(|l| l.room_id == room_id) {
        let log_end = log.end.unwrap_or(ctx.now);
        if log.start > end || log_end < start {
            continue;
        }
        meetings += 1;
        seconds += log_end - log.start;
        for kind in &log.joins {
            users += 1;
            let slot = match kind.as_str() {
                "ios" => 0,
                "pc" => 1,
                "android" => 3,
                "box" => 4,
                "web" => 5,
                _ => 2,
            };
            by_kind[slot] += 1;
        }
    }
    Ok(payload(json!({
        "meeting_total": meetings,
        "ios_cnt": by_kind[0],
        "pc_cnt": by_kind[1],
        "user_cnt": users,
        "other_cnt": by_kind[2],
        "android_cnt": by_kind[3],
        "time_total": seconds.round() as i64,
        "box_cnt": by_kind[4],
        "web_cnt": by_kind[5],
    })))
}

/// `/room/participate/kick` (code envelope).
pub(crate) fn kick(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let user_id = p.req("user_id")?;
    ctx.room(room_id)?;
    ctx.st.leave(room_id, user_id, ctx.now).ok_or_else(|| ApiError::new(40008))?;
    Ok(Payload::new())
}

/// `/room/participate/list` (code envelope): 41005 unless a meeting is in
/// progress.
pub(crate) fn participants(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let session = ctx
        .st
        .sessions
        .get(room_id)
        .filter(|_| ctx.st.rooms.contains_key(room_id))
        .ok_or_else(|| ApiError::msg(41005, "Internal server error:room not found"))?;
    let list: Vec<Value> = session
        .participants
        .iter()
        .map(|u| {
            let state = |on: bool| if on { "published" } else { "init" };
            json!({
                "user_name": u.user_name,
                "user_id": u.user_id,
                "status": 1,
                "videos": [{
                    "level": 0,
                    "status": state(u.video_open),
                    "id": video_resource_id(&u.user_id),
                    "type": "video",
                    "ctype": "unknown",
                    "name": if u.call_id.is_some() { "Device Video" } else { "Camera" },
                    "description": "",
                }],
                "type": u.kind,
                "audios": [{
                    "type": "Audio",
                    "status": state(!u.audio_muted),
                    "name": "Microphone",
                    "id": format!("{}_default", u.user_id),
                }],
                "user_data": "",
            })
        })
        .collect();
    Ok(payload(json!({ "participates": list })))
}

/// `<user_id>_<64 hex>` as in the doc's examples.
pub(crate) fn video_resource_id(user_id: &str) -> String {
    let a = hex::encode(Md5::digest(user_id.as_bytes()));
    let b = hex::encode(Md5::digest(format!("{user_id}#video1").as_bytes()));
    format!("{user_id}_{a}{b}")
}

/// `/room/list`: meetings in progress.
pub(crate) fn list(ctx: &mut Ctx<'_>, _p: &Params) -> ApiResult<Payload> {
    let rooms: Vec<Value> = ctx
        .st
        .sessions
        .iter()
        .map(|(room_id, s)| {
            let users: Vec<Value> = s
                .participants
                .iter()
                .map(|u| json!({"node_id": u.node_id, "user_name": u.user_name, "user_id": u.user_id}))
                .collect();
            json!({
                "room_id": room_id,
                "create_time": s.create_time.floor() as i64,
                "users": users,
            })
        })
        .collect();
    Ok(payload(json!({ "rooms": rooms })))
}

/// `/room/get_chat_message_log`: messages grouped by meeting session.
pub(crate) fn chat_log(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let from = p.get("fromId");
    let start = p.int("start_time")?;
    let end = p.int("end_time")?;
    ctx.room(room_id)?;
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    for m in ctx.st.chat.iter().filter(|m| {
        m.room_id == room_id
            && from.is_none_or(|f| f == m.from_id)
            && start.is_none_or(|s| m.timestamp >= s)
            && end.is_none_or(|e| m.timestamp <= e)
    }) {
        let msg = json!({
            "fromId": m.from_id,
            "id": m.id,
            "status": 0,
            "message": m.message,
            "timestamp": m.timestamp,
            "room_id": m.room_id,
            "session_type": 0,
            "message_type": 0,
            "fromName": m.from_name,
            "dst_name": "",
            "dst": m.room_id,
        });
        match groups.iter_mut().find(|(sid, _)| *sid == m.session_id) {
            Some((_, msgs)) => msgs.push(msg),
            None => groups.push((m.session_id.clone(), vec![msg])),
        }
    }
    let data: Vec<Value> = groups.into_iter().map(|(sid, msgs)| json!({"session_id": sid, "messages": msgs})).collect();
    Ok(payload(json!({ "data": data })))
}
