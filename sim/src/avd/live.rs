//! Mixed live (`/room/mix_live/*`), focus-user live (`/room/live/*`) and
//! AVC composited video (`/room/avc/*`).
//!
//! AVC state errors use the appendix (40050 already on, 40051 not on);
//! the doc's examples show 40045 "internal server error", a code not in
//! the appendix, for situations they do not describe.

use serde_json::{json, Value};

use super::errors::{ApiError, ApiResult};
use super::params::{check_layout, resolution, Params};
use super::state::{Avc, LiveState, MixLive};
use super::{payload, Ctx, Payload};

/// `/room/mix_live/start`.
pub(crate) fn mix_live_start(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let push_url = p.req("push_url")?;
    let videos = p.json_array("videos")?;
    if let Some(v) = &videos {
        check_layout("videos", v)?;
    }
    let rtmp_url = p.get("rtmp_url");
    ctx.open_room(room_id)?;
    if ctx.st.room_busy(room_id) {
        return Err(ApiError::new(40040));
    }
    ctx.st.mix_lives.insert(
        room_id.to_owned(),
        MixLive {
            push_url: push_url.to_owned(),
            rtmp_url: rtmp_url.map(str::to_owned),
            videos: videos.map(Value::from),
            started: ctx.now,
        },
    );
    Ok(Payload::new())
}

/// `/room/mix_live/stop` -> `data: {}`.
pub(crate) fn mix_live_stop(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    if !ctx.st.rooms.contains_key(room_id) {
        return Err(ApiError::msg(40004, "no such room"));
    }
    ctx.st.mix_lives.remove(room_id).ok_or_else(|| ApiError::new(40041))?;
    Ok(payload(json!({ "data": {} })))
}

/// `/room/live/start`: live stream focused on `user_id`.
pub(crate) fn live_start(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let user_id = p.req("user_id")?;
    let push_url = p.req("push_url")?;
    let rtmp_url = p.get("rtmp_url");
    let hls_url = p.get("hls_url");
    ctx.open_room(room_id)?;
    let present = ctx.st.sessions[room_id].participants.iter().any(|u| u.user_id == user_id);
    if !present {
        return Err(ApiError::new(40008));
    }
    let live = ctx.st.lives.entry(room_id.to_owned()).or_default();
    if live.running.is_some() {
        return Err(ApiError::new(40060));
    }
    *live = LiveState {
        running: Some(json!({
            "user_id": user_id, "push_url": push_url,
            "rtmp_url": rtmp_url, "hls_url": hls_url, "started": ctx.now,
        })),
        stopped: false,
    };
    Ok(Payload::new())
}

/// `/room/live/stop`: 40061 if never started, 40065 if already stopped.
pub(crate) fn live_stop(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    ctx.room(room_id)?;
    let live = ctx.st.lives.entry(room_id.to_owned()).or_default();
    if live.running.take().is_some() {
        live.stopped = true;
        Ok(Payload::new())
    } else if live.stopped {
        Err(ApiError::new(40065))
    } else {
        Err(ApiError::new(40061))
    }
}

/// `/room/avc/start`. The table marks `enable_manual_avc`,
/// `max_video_number` and `layout_mode` required, but documents defaults
/// and the request example sends none of them: all optional here.
pub(crate) fn avc_start(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let manual = p.bool("enable_manual_avc")?.unwrap_or(false);
    let max = p.get("max_video_number");
    if max.is_some_and(|m| m.parse::<u32>().map_or(true, |n| n == 0)) {
        return Err(ApiError::arg_invalid("max_video_number"));
    }
    let layout_mode = p.int_in("layout_mode", &[0, 1, 2])?.unwrap_or(1);
    let framerate = p.int("video_framerate")?.unwrap_or(25);
    let bitrate = p.int("video_bitrate")?;
    let (width, height) = match p.get("video_resolution") {
        Some(r) => resolution("video_resolution", r)?,
        None => (1920, 1080),
    };
    let video_name = p.get("video_name").unwrap_or_default().to_owned();
    ctx.open_room(room_id)?;
    if ctx.st.avc.contains_key(room_id) {
        return Err(ApiError::new(40050));
    }
    let view_stream_id = ctx.avd.ids.uuid("avc");
    ctx.st.avc.insert(
        room_id.to_owned(),
        Avc {
            enable_manual_avc: manual,
            max_video_number: max.map(str::to_owned),
            layout_mode,
            video_name,
            framerate,
            bitrate,
            width,
            height,
            main_video_resource_id: None,
            focus_resource_id: None,
            videos: Vec::new(),
            view_stream_id,
        },
    );
    Ok(Payload::new())
}

fn avc_mut<'a>(ctx: &'a mut Ctx<'_>, room_id: &str) -> ApiResult<&'a mut Avc> {
    if !ctx.st.rooms.contains_key(room_id) {
        return Err(ApiError::msg(40004, "no such room id"));
    }
    ctx.st.avc.get_mut(room_id).ok_or_else(|| ApiError::new(40051))
}

/// `/room/avc/stop`.
pub(crate) fn avc_stop(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    avc_mut(ctx, room_id)?;
    ctx.st.avc.remove(room_id);
    Ok(Payload::new())
}

/// `/room/avc/select_media` (`layout_mode` here: 0 manual, 1 automatic).
pub(crate) fn avc_select_media(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let videos = p.json_array("videos")?.ok_or_else(|| ApiError::arg_required("videos"))?;
    check_layout("videos", &videos)?;
    p.int_in("layout_mode", &[0, 1])?;
    avc_mut(ctx, room_id)?.videos = videos;
    Ok(Payload::new())
}

/// `/room/avc/set_focus_video`.
pub(crate) fn avc_set_focus_video(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let resource_id = p.req("resource_id")?.to_owned();
    avc_mut(ctx, room_id)?.focus_resource_id = Some(resource_id);
    Ok(Payload::new())
}

/// `/room/avc/update_layout`.
pub(crate) fn avc_update_layout(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let main = p.req("main_video_resource_id")?.to_owned();
    let layout_mode = p.int_in("layout_mode", &[0, 1, 2])?;
    let framerate = p.int("video_framerate")?;
    let bitrate = p.int("video_bitrate")?;
    let res = p.get("video_resolution").map(|r| resolution("video_resolution", r)).transpose()?;
    let name = p.get("video_name").map(str::to_owned);
    let avc = avc_mut(ctx, room_id)?;
    avc.main_video_resource_id = Some(main);
    if let Some(m) = layout_mode {
        avc.layout_mode = m;
    }
    if let Some(f) = framerate {
        avc.framerate = f;
    }
    if bitrate.is_some() {
        avc.bitrate = bitrate;
    }
    if let Some((w, h)) = res {
        avc.width = w;
        avc.height = h;
    }
    if let Some(n) = name {
        avc.video_name = n;
    }
    Ok(Payload::new())
}

/// `/room/avc/get_avc_setting`. The doc's example is truncated after
/// `"videos": {`; videos are keyed by `video_name` here. Only the speaker
/// layout name (`Outgoing_View_Layout_Auto_Orato`) appears in the doc;
/// the fixed/gallery names follow its pattern.
pub(crate) fn avc_get_setting(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let avc = avc_mut(ctx, room_id)?;
    let layout = match avc.layout_mode {
        0 => "Outgoing_View_Layout_Fixed",
        1 => "Outgoing_View_Layout_Auto_Gallery",
        _ => "Outgoing_View_Layout_Auto_Orato",
    };
    let videos: serde_json::Map<String, Value> = avc
        .videos
        .iter()
        .filter_map(|v| {
            let name = v.get("video_name")?.as_str()?.to_owned();
            Some((name, v.clone()))
        })
        .collect();
    Ok(payload(json!({
        "data": {
            "view_width": avc.width,
            "layoutMode": layout,
            "exporter_name": avc.video_name,
            "view_bitrate": true,
            "view_height": avc.height,
            "room_id": room_id,
            "view_fps": avc.framerate,
            "view_stream_id": avc.view_stream_id,
            "videos": videos,
        }
    })))
}
