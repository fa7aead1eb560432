//! Device invites (`/device/*`): call, invite status, kick and in-call
//! controls.
//!
//! An invite resolves after `invite_delay` of virtual time: a url whose
//! scheme is one the doc names (sip, rtsp, h323/323, pstn, rtmp) connects
//! (invite_status 1, the device joins the meeting and opens the room);
//! any other scheme fails (3), since only the device side can refuse it.
//! A url with no `scheme:` part at all is rejected at once with 40032
//! (appendix "invalid address").

use serde_json::json;

use super::errors::{ApiError, ApiResult};
use super::params::Params;
use super::state::{CallState, DeviceCall, Participant};
use super::{payload, Ctx, Payload};

/// Schemes the doc lists for device addresses.
const SCHEMES: [&str; 6] = ["sip", "rtsp", "h323", "323", "pstn", "rtmp"];

/// `scheme` of `scheme:rest`, if well formed.
fn scheme(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once(':')?;
    let ok = !scheme.is_empty()
        && !rest.is_empty()
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    ok.then(|| scheme.to_ascii_lowercase())
}

/// `/device/call` -> `call_id`, `user_id`. The table names the address `url`, the
/// request example `uri`. meetkit sends both with the same value: strict mode requires
/// exactly that (one of them alone is 40002 "arg ... required", two different values
/// 40002 invalid); lenient mode takes either (`url` first).
pub(crate) fn call(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let name = p.req("name")?;
    let room_id = p.req("room_id")?;
    let url = if p.strict() {
        let (url, uri) = (p.req("url")?, p.req("uri")?);
        if url != uri {
            return Err(ApiError::arg_invalid("uri"));
        }
        url
    } else {
        p.get("url").or_else(|| p.get("uri")).ok_or_else(|| ApiError::arg_required("url"))?
    };
    if p.one_of("resolution_rate", &["640", "1080", "1280"]).is_err() {
        return Err(ApiError::new(40038));
    }
    if p.int("frame_rate")?.is_some_and(|f| !(1..=60).contains(&f)) {
        return Err(ApiError::new(40039));
    }
    if p.int("video_rate")?.is_some_and(|r| !(1..=4).contains(&r)) {
        return Err(ApiError::msg(40038, "video_rate set too low or too high for 1M-4M properly"));
    }
    p.int("voice_multiple")?;
    ctx.room(room_id)?;
    let scheme = scheme(url).ok_or_else(|| ApiError::new(40032))?;
    let user_id = match p.get("user_id") {
        Some(u) => u.to_owned(),
        None => ctx.avd.ids.uuid("device-user"),
    };
    let in_room = ctx.st.sessions.get(room_id).is_some_and(|s| s.participants.iter().any(|u| u.user_id == user_id));
    let inviting =
        ctx.st.calls.values().any(|c| c.room_id == room_id && c.user_id == user_id && c.state == CallState::Inviting);
    if in_room || inviting {
        return Err(ApiError::new(40031));
    }
    let call_id = ctx.avd.ids.uuid("call");
    let will_fail = !SCHEMES.contains(&scheme.as_str());
    ctx.st.calls.insert(
        call_id.clone(),
        DeviceCall {
            call_id: call_id.clone(),
            room_id: room_id.to_owned(),
            user_id: user_id.clone(),
            name: name.to_owned(),
            url: url.to_owned(),
            scheme,
            created: ctx.now,
            resolve_at: ctx.now + ctx.avd.opts.invite_delay.as_secs_f64(),
            will_fail,
            state: CallState::Inviting,
        },
    );
    Ok(payload(json!({ "call_id": call_id, "user_id": user_id })))
}

/// The most recent call of `user_id` into `room_id` (40004 unknown room,
/// 40033 never invited).
fn call_of(ctx: &Ctx<'_>, p: &Params) -> ApiResult<DeviceCall> {
    let room_id = p.req("room_id")?;
    let user_id = p.req("user_id")?;
    ctx.room(room_id)?;
    ctx.st
        .calls
        .values()
        .filter(|c| c.room_id == room_id && c.user_id == user_id)
        .max_by(|a, b| a.created.total_cmp(&b.created))
        .cloned()
        .ok_or_else(|| ApiError::msg(40033, "no invite info for this user_id"))
}

/// `/device/kick`: hang up (also cancels a pending invite).
pub(crate) fn kick(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let call = call_of(ctx, p)?;
    match call.state {
        CallState::Inviting => {
            if let Some(c) = ctx.st.calls.get_mut(&call.call_id) {
                c.state = CallState::HungUp;
            }
        }
        CallState::InCall => {
            ctx.st.leave(&call.room_id, &call.user_id, ctx.now);
        }
        CallState::HungUp | CallState::Failed => return Err(ApiError::new(40008)),
    }
    Ok(payload(json!({ "call_id": call.call_id, "user_id": call.user_id })))
}

/// Apply `f` to the device's participant entry (40008 unless in the call).
fn with_device(ctx: &mut Ctx<'_>, p: &Params, f: impl FnOnce(&mut Vec<Participant>, usize)) -> ApiResult<Payload> {
    let call = call_of(ctx, p)?;
    if call.state != CallState::InCall {
        return Err(ApiError::new(40008));
    }
    let session = ctx.st.sessions.get_mut(&call.room_id).ok_or_else(|| ApiError::new(40008))?;
    let idx =
        session.participants.iter().position(|u| u.user_id == call.user_id).ok_or_else(|| ApiError::new(40008))?;
    f(&mut session.participants, idx);
    Ok(Payload::new())
}

/// `/device/video/focus` (one focused video per room).
pub(crate) fn video_focus(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    with_device(ctx, p, |ps, idx| {
        for (i, u) in ps.iter_mut().enumerate() {
            u.focused = i == idx;
        }
    })
}

/// `/device/video/unfocus`.
pub(crate) fn video_unfocus(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    with_device(ctx, p, |ps, idx| ps[idx].focused = false)
}

/// `/device/video/close`.
pub(crate) fn video_close(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    with_device(ctx, p, |ps, idx| ps[idx].video_open = false)
}

/// `/device/video/open`.
pub(crate) fn video_open(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    with_device(ctx, p, |ps, idx| ps[idx].video_open = true)
}

/// `/device/audio/mute`.
pub(crate) fn audio_mute(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    with_device(ctx, p, |ps, idx| ps[idx].audio_muted = true)
}

/// `/device/audio/unmute`.
pub(crate) fn audio_unmute(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    with_device(ctx, p, |ps, idx| ps[idx].audio_muted = false)
}

/// `/device/get_invite_status` -> `invite_status`. Unknown call_id: the
/// appendix's 40037 "no such call record" (the doc's example, 40004 "no
/// such room_id", is a copy-paste: the endpoint takes no room_id).
pub(crate) fn get_invite_status(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let call_id = p.req("call_id")?;
    let call = ctx.st.calls.get(call_id).ok_or_else(|| ApiError::new(40037))?;
    Ok(payload(json!({ "invite_status": call.state.code() })))
}

#[cfg(test)]
mod tests {
    use super::scheme;

    #[test]
    fn schemes() {
        assert_eq!(scheme("sip:1001@192.168.3.104").as_deref(), Some("sip"));
        assert_eq!(scheme("rtsp://cam/1").as_deref(), Some("rtsp"));
        assert_eq!(scheme("HTTP://x").as_deref(), Some("http"));
        assert_eq!(scheme("1001@192.168.3.104"), None);
        assert_eq!(scheme("sip:"), None);
    }
}
