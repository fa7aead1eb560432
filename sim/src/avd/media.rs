//! Media players (`/media/*`): create -> play -> pause/resume/switch ->
//! finished -> replay -> stop.
//!
//! Codes: 40080 (appendix) for a second player with the same name in a
//! room, 40081 (appendix) for an unknown play_id, 40084 (appendix) for a
//! url that is not a playable file on the server, and 40082 — the code
//! every media example shows, "Internal error or set error" — for a
//! violated precondition (pause when not playing, resume when not paused,
//! replay before playback finished), which the appendix has no code for.

use serde_json::{json, Value};

use super::errors::{ApiError, ApiResult};
use super::params::Params;
use super::state::{MediaInfo, PlayFile, PlayState, Player};
use super::{payload, Ctx, Payload};

fn bad_state() -> ApiError {
    ApiError::new(40082)
}

/// Media facts of a server file (40084 when unknown or not audio/video).
fn media_info(ctx: &Ctx<'_>, url: &str) -> ApiResult<MediaInfo> {
    let f = ctx.st.files.get(url).ok_or_else(|| ApiError::new(40084))?;
    let (has_video, has_audio) = match f.file_type.as_str() {
        "mp4" | "avi" | "webm" | "tms" => (true, true),
        "mp3" | "wav" => (false, true),
        _ => return Err(ApiError::new(40084)),
    };
    let secs = if f.duration > 0.0 {
        f.duration
    } else {
        (f.body.len() as f64 / ctx.avd.opts.record_bytes_per_second.max(1) as f64).max(1.0)
    };
    let dim = |v: &str| if has_video { v.to_owned() } else { "0".into() };
    Ok(MediaInfo {
        duration_ms: (secs * 1000.0).round() as i64,
        has_audio,
        has_video,
        width: dim("960"),
        height: dim("540"),
    })
}

fn info_json(info: &MediaInfo) -> Value {
    json!({
        "width": info.width,
        "duration": info.duration_ms,
        "has_video": i64::from(info.has_video),
        "height": info.height,
        "has_audio": i64::from(info.has_audio),
    })
}

/// Room must exist (40004) and the player belong to it (40081).
fn player_idx(ctx: &Ctx<'_>, p: &Params) -> ApiResult<usize> {
    let room_id = p.req("room_id")?;
    let play_id = p.req("play_id")?;
    ctx.room(room_id)?;
    ctx.st
        .players
        .iter()
        .position(|pl| pl.play_id == play_id && pl.room_id == room_id)
        .ok_or_else(|| ApiError::new(40081))
}

/// `/media/create` -> `play_id`.
pub(crate) fn create(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let name = p.req("name")?;
    let auto_audio = p.bool("auto_publish_mock_audio")?.unwrap_or(false);
    let codec = p.one_of("player_out_audio_codec", &["pcma", "pcmu", "opus", "g722"])?;
    ctx.open_room(room_id)?;
    if ctx.st.players.iter().any(|pl| pl.room_id == room_id && pl.name == name) {
        return Err(ApiError::new(40080));
    }
    let play_id = ctx.avd.ids.uuid("player");
    let user_id = match p.get("user_id") {
        Some(u) => u.to_owned(),
        None => ctx.avd.ids.uuid("player-user"),
    };
    ctx.st.players.push(Player {
        play_id: play_id.clone(),
        room_id: room_id.to_owned(),
        name: name.to_owned(),
        user_id,
        created: ctx.now,
        auto_publish_mock_audio: auto_audio,
        out_audio_codec: codec.map(str::to_owned),
        state: PlayState::Idle,
        current_url: None,
        enable_auto_close_stream: true,
        replay_times: 0,
        seg_start: ctx.now,
        progressed: 0.0,
        total: 0.0,
        files: Vec::new(),
    });
    Ok(payload(json!({ "play_id": play_id })))
}

/// Start playing `url` from the beginning.
fn start(ctx: &mut Ctx<'_>, idx: usize, url: &str) -> ApiResult<Payload> {
    let info = media_info(ctx, url)?;
    let now = ctx.now;
    let pl = &mut ctx.st.players[idx];
    let plays = match pl.replay_times {
        -1 => f64::INFINITY,
        0 => 1.0,
        n => n as f64,
    };
    pl.state = PlayState::Playing;
    pl.current_url = Some(url.to_owned());
    pl.seg_start = now;
    pl.progressed = 0.0;
    pl.total = info.duration_ms as f64 / 1000.0 * plays;
    match pl.files.iter_mut().find(|f| f.url == url) {
        Some(f) => {
            f.play_count += 1;
            f.updated = now;
        }
        None => pl.files.push(PlayFile {
            url: url.to_owned(),
            info: info.clone(),
            play_count: 1,
            created: now,
            updated: now,
        }),
    }
    Ok(payload(json!({ "data": info_json(&info) })))
}

/// `/media/play` -> media facts under `data`.
pub(crate) fn play(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let url = p.req("url")?;
    let replay_times = p.int("replay_times")?.unwrap_or(0);
    if replay_times < -1 {
        return Err(ApiError::arg_invalid("replay_times"));
    }
    let auto_close = p.bool("enable_auto_close_stream")?.unwrap_or(true);
    let idx = player_idx(ctx, p)?;
    let pl = &mut ctx.st.players[idx];
    pl.replay_times = replay_times;
    pl.enable_auto_close_stream = auto_close;
    start(ctx, idx, url)
}

/// `/media/stop`: close (destroy) the player.
pub(crate) fn stop(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let idx = player_idx(ctx, p)?;
    ctx.st.players.remove(idx);
    Ok(Payload::new())
}

/// `/media/pause` (must be playing).
pub(crate) fn pause(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let idx = player_idx(ctx, p)?;
    let now = ctx.now;
    let pl = &mut ctx.st.players[idx];
    if pl.state != PlayState::Playing {
        return Err(bad_state());
    }
    pl.progressed += now - pl.seg_start;
    pl.state = PlayState::Paused;
    Ok(Payload::new())
}

/// `/media/resume` (must be paused).
pub(crate) fn resume(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let idx = player_idx(ctx, p)?;
    let now = ctx.now;
    let pl = &mut ctx.st.players[idx];
    if pl.state != PlayState::Paused {
        return Err(bad_state());
    }
    pl.seg_start = now;
    pl.state = PlayState::Playing;
    Ok(Payload::new())
}

/// `/media/replay` (playback must have finished; `url` defaults to the
/// last file).
pub(crate) fn replay(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let idx = player_idx(ctx, p)?;
    let pl = &ctx.st.players[idx];
    if pl.state != PlayState::Finished {
        return Err(bad_state());
    }
    let url = match p.get("url") {
        Some(u) => u.to_owned(),
        None => pl.current_url.clone().ok_or_else(bad_state)?,
    };
    start(ctx, idx, &url)
}

/// `/media/switch`: play another file (any live player state).
pub(crate) fn switch(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let idx = player_idx(ctx, p)?;
    let url = match p.get("url") {
        Some(u) => u.to_owned(),
        None => ctx.st.players[idx].current_url.clone().ok_or_else(|| ApiError::arg_required("url"))?,
    };
    start(ctx, idx, &url)
}

/// `/media/get_media_info`: the player and what it played of `url`.
pub(crate) fn get_media_info(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let url = p.req("url")?;
    let idx = player_idx(ctx, p)?;
    let pl = &ctx.st.players[idx];
    let files: Vec<Value> = pl
        .files
        .iter()
        .filter(|f| f.url == url)
        .map(|f| {
            json!({
                "play_count": f.play_count,
                "duration": f.info.duration_ms,
                "has_audio": i64::from(f.info.has_audio),
                "updated": f.updated.floor() as i64,
                "width": f.info.width,
                "url": f.url,
                "has_video": i64::from(f.info.has_video),
                "height": f.info.height,
                "created": f.created.floor() as i64,
            })
        })
        .collect();
    if files.is_empty() {
        return Err(ApiError::new(40084));
    }
    Ok(payload(json!({
        "data": [{
            "created": pl.created.floor() as i64,
            "room_id": pl.room_id,
            "play_id": pl.play_id,
            "user_id": pl.user_id,
            "name": pl.name,
            "play_files": files,
            "status": pl.state.code(),
        }]
    })))
}
