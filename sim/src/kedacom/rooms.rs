//! Virtual meeting rooms, meeting room areas, resources and platforms.

use serde_json::{json, Map, Value};

use super::confs::{visible, PLATFORM_ID};
use super::errors::{self, ApiError, ApiResult};
use super::params::{validate, Paging, F, T};
use super::schema::{AREA, VMR_CREATE, VMR_UPDATE};
use super::state::{Area, Vmr};
use super::{done, payload, Ctx, Payload, Req};

/// Validated room settings; the doc: non-required parameters default to 0
/// (参数中非必填项默认值为0), `audio_formats` omitted = all (`[]`).
fn vmr_settings(req: &Req, schema: &[F]) -> ApiResult<Map<String, Value>> {
    let mut s = req.json_params(schema)?;
    validate(schema, &s, true)?;
    for f in schema {
        if matches!(f.ty, T::Int(_)) && s.get(f.name).is_none_or(Value::is_null) {
            s.insert(f.name.into(), 0.into());
        }
    }
    for list in ["audio_formats", "exclusive_users"] {
        if s.get(list).is_none_or(Value::is_null) {
            s.insert(list.into(), json!([]));
        }
    }
    // `status` is accepted by update but follows the running conference.
    s.remove("status");
    Ok(s)
}

/// The room `id` as this user may see it.
fn room<'a>(ctx: &'a Ctx<'_>, id: &str) -> ApiResult<&'a Vmr> {
    ctx.st
        .vmrs
        .get(id)
        .filter(|r| visible(&ctx.user, r.int("public_conf")))
        .ok_or_else(|| ApiError::new(errors::NO_VMR))
}

/// `(status, conf_name)` of a room.
fn status(ctx: &Ctx<'_>, r: &Vmr) -> (i64, String) {
    match ctx.st.room_conf(&r.id) {
        Some(m) => (1, m.name().to_owned()),
        None => (0, String::new()),
    }
}

/// `POST /virtual_meeting_rooms`.
pub(crate) fn vmr_create(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    let settings = vmr_settings(req, VMR_CREATE)?;
    let id = ctx.k.ids.hex32("vmr");
    let e164 = ctx.k.ids.e164();
    ctx.st.vmrs.insert(id.clone(), Vmr { id: id.clone(), e164, settings, created: ctx.now });
    Ok(payload(json!({"id": id, "description": "success"})))
}

/// `POST /virtual_meeting_rooms/{id}`: full replacement, like
/// booked_confs.update (the doc does not say; omitted fields reset to 0).
pub(crate) fn vmr_update(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    room(ctx, &req.key)?;
    let settings = vmr_settings(req, VMR_UPDATE)?;
    if let Some(r) = ctx.st.vmrs.get_mut(&req.key) {
        r.settings = settings;
    }
    Ok(done())
}

/// `DELETE /virtual_meeting_rooms/{id}` (a room in use cannot be deleted).
pub(crate) fn vmr_delete(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    room(ctx, &req.key)?;
    if ctx.st.room_conf(&req.key).is_some() {
        return Err(ApiError::new(errors::VMR_BUSY));
    }
    ctx.st.vmrs.remove(&req.key);
    Ok(done())
}

fn aes_key(r: &Vmr) -> Option<Value> {
    (r.int("encrypted_type") == 2).then(|| r.settings.get("encrypted_key").cloned().unwrap_or_else(|| "".into()))
}

/// `GET /virtual_meeting_rooms` (order 0 ascending / 1 descending by creation).
pub(crate) fn vmr_list(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    let paging = Paging::from(&req.params)?;
    let mut rooms: Vec<&Vmr> = ctx.st.vmrs.values().filter(|r| visible(&ctx.user, r.int("public_conf"))).collect();
    rooms.sort_by(|a, b| a.created.total_cmp(&b.created).then_with(|| a.e164.cmp(&b.e164)));
    let (total, page) = paging.page(rooms);
    let items: Vec<Value> = page
        .into_iter()
        .map(|r| {
            let (status, conf_name) = status(ctx, r);
            let resolution = r
                .settings
                .get("video_formats")
                .and_then(|v| v.pointer("/0/resolution"))
                .cloned()
                .unwrap_or_else(|| 0.into());
            let mut item = json!({
                "id": r.id, "name": r.settings.get("name"), "bitrate": r.int("bitrate"),
                "exclusive": r.int("exclusive"), "exclusive_users": r.settings.get("exclusive_users"),
                "e164": r.e164, "conf_name": conf_name, "status": status, "max_join_mt": r.int("max_join_mt"),
                "resolution": resolution, "conf_type": r.int("conf_type"), "enable_rtc": r.int("enable_rtc"),
            });
            if let (Some(key), Some(obj)) = (aes_key(r), item.as_object_mut()) {
                obj.insert("encrypted_key".into(), key);
            }
            item
        })
        .collect();
    Ok(payload(json!({"total": total, "virtual_meeting_rooms": items})))
}

/// `GET /virtual_meeting_rooms/{id}`: the settings plus e164, conf_name and
/// status (the doc's answer has no id).
pub(crate) fn vmr_get(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    let r = room(ctx, &req.key)?;
    let (status, conf_name) = status(ctx, r);
    let mut out = r.settings.clone();
    out.remove("encrypted_key");
    if let Some(key) = aes_key(r) {
        out.insert("encrypted_key".into(), key);
    }
    out.insert("e164".into(), r.e164.clone().into());
    out.insert("conf_name".into(), conf_name.into());
    out.insert("status".into(), status.into());
    Ok(out)
}

/// `GET /resources`: resource_type 1 (party count only); `used` counts the
/// running conferences of each size.
pub(crate) fn resources(ctx: &mut Ctx<'_>, _req: &Req) -> ApiResult<Payload> {
    let total = ctx.k.opts.resources_per_size;
    let list: Vec<Value> = [(8, "小型8方会议"), (32, "32方会议"), (64, "64方会议"), (192, "大型192方会议")]
        .into_iter()
        .map(|(size, name)| json!({"name": name, "max_join_mt": size, "total": total, "used": ctx.st.used(size)}))
        .collect();
    Ok(payload(json!({"resource_type": 1, "resources": list})))
}

/// `GET /platforms`: the one simulated private-cloud platform.
pub(crate) fn platforms(_ctx: &mut Ctx<'_>, _req: &Req) -> ApiResult<Payload> {
    Ok(payload(json!({"platforms": [{"name": "sim-platform", "platform_id": PLATFORM_ID, "type": 1}]})))
}

/// `GET /meeting_room_areas` (order is reserved: creation order).
pub(crate) fn area_list(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    let paging = Paging::unordered(&req.params)?;
    let (total, page) = paging.page(ctx.st.areas.iter().collect());
    let items: Vec<Value> = page.into_iter().map(|a| json!({"id": a.id, "area": a.area})).collect();
    Ok(payload(json!({"total": total, "meeting_room_areas": items})))
}

fn area_name(req: &Req) -> ApiResult<String> {
    let p = req.json_params(AREA)?;
    validate(AREA, &p, true)?;
    let name = p.get("area").and_then(Value::as_str).unwrap_or_default();
    if name.trim().is_empty() {
        return Err(ApiError::missing("area"));
    }
    Ok(name.to_owned())
}

/// `POST /meeting_room_areas` (administrators only).
pub(crate) fn area_create(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    let area = area_name(req)?;
    let id = ctx.k.ids.hex32("area");
    ctx.st.areas.push(Area { id: id.clone(), area });
    Ok(payload(json!({"id": id, "description": "success"})))
}

/// `POST /meeting_room_areas/{id}` (administrators only).
pub(crate) fn area_update(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    let i = ctx.st.areas.iter().position(|a| a.id == req.key).ok_or_else(|| ApiError::new(errors::NO_AREA))?;
    ctx.st.areas[i].area = area_name(req)?;
    Ok(done())
}

/// `DELETE /meeting_room_areas/{id}` (administrators only).
pub(crate) fn area_delete(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    let i = ctx.st.areas.iter().position(|a| a.id == req.key).ok_or_else(|| ApiError::new(errors::NO_AREA))?;
    ctx.st.areas.remove(i);
    Ok(done())
}
