//! Conferences: booked conferences (`booked_confs.*`), the unified meeting
//! view (`meetings.*`), running conferences (`confs.create` / `confs.end`)
//! and the name check (`valid_conf_name.get`).

use serde_json::{json, Map, Value};

use super::errors::{self, ApiError, ApiResult};
use super::params::{fmt_time, parse_time, validate, Paging, Params};
use super::schema::{BOOKED_CONF, CONF_CREATE};
use super::state::{KedacomState, Meeting, MeetingState, Origin, Template, User};
use super::{done, payload, Ctx, Payload, Req};

/// The one platform of the simulated domain (`platforms.list`); its id is
/// the doc examples' `platform_id`.
pub(crate) const PLATFORM_ID: &str = "4b6864c4-a5e4-4bc5-a305-36c80ca9e5df";
/// Seeded public template (`create_type` 2).
pub(crate) const PUBLIC_TEMPLATE: &str = "sim-public-template";
/// Seeded personal template of the administrator (`create_type` 3).
pub(crate) const PERSONAL_TEMPLATE: &str = "sim-personal-template";
/// Grace period for a booked `start_time` slightly behind the server clock.
const START_GRACE_SECS: f64 = 60.0;

/// Integer conference settings and their defaults when never set (the
/// doc: `mute_filter` defaults to on; self-built deployments default
/// `video_quality` to 0, quality first).
const CONF_INTS: &[(&str, i64)] = &[
    ("conf_type", 0),
    ("enable_rtc", 0),
    ("bitrate", 0),
    ("closed_conf", 0),
    ("safe_conf", 0),
    ("encrypted_type", 0),
    ("encrypted_auth", 0),
    ("mute", 0),
    ("force_mute", 0),
    ("mute_filter", 1),
    ("fec_mode", 0),
    ("silence", 0),
    ("video_quality", 0),
    ("dual_mode", 0),
    ("doubleflow", 0),
    ("voice_activity_detection", 0),
    ("vacinterval", 0),
    ("public_conf", 0),
    ("call_times", 0),
    ("call_interval", 0),
    ("cascade_mode", 0),
    ("cascade_upload", 0),
    ("cascade_return", 0),
    ("cascade_return_para", 0),
    ("max_join_mt", 8),
    ("anonymous_mt", 0),
    ("multi_stream", 0),
    ("sms", 0),
    ("email", 0),
    ("wechat", 0),
    ("one_reforming", 0),
    ("auto_end", 0),
    ("preoccupy_resource", 0),
];

/// Seed the two templates (their API is not in the doc).
pub(crate) fn seed_templates(st: &mut KedacomState, admin: &str) {
    let base = json!({
        "duration": 0, "bitrate": 2048, "closed_conf": 0, "safe_conf": 0, "encrypted_type": 0,
        "conf_type": 0, "enable_rtc": 0, "call_mode": 2, "call_times": 3, "call_interval": 20,
        "mute": 0, "force_mute": 0, "silence": 0, "video_quality": 0, "dual_mode": 1,
        "voice_activity_detection": 0, "cascade_mode": 0, "cascade_upload": 0, "cascade_return": 0,
        "cascade_return_para": 0, "public_conf": 0, "max_join_mt": 32, "auto_end": 0,
        "preoccupy_resource": 0, "one_reforming": 0,
        "video_formats": [{"format": 4, "resolution": 12, "frame": 30, "bitrate": 2048}],
    });
    for (id, name, owner) in
        [(PUBLIC_TEMPLATE, "Public template", None), (PERSONAL_TEMPLATE, "Personal template", Some(admin.to_owned()))]
    {
        let mut settings = base.as_object().cloned().unwrap_or_default();
        settings.insert("name".into(), name.into());
        st.templates.insert(id.into(), Template { id: id.into(), owner, settings });
    }
}

fn int(s: &Map<String, Value>, name: &str) -> Option<i64> {
    s.get(name).and_then(Value::as_i64)
}

/// `platform_id`, when given, must be one of `platforms.list`.
fn check_platform(s: &Map<String, Value>) -> ApiResult<()> {
    match s.get("platform_id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() && id != PLATFORM_ID => Err(ApiError::invalid("platform_id")),
        _ => Ok(()),
    }
}

/// Resolve `conf_type` 4 (auto) and `enable_rtc` to what the simulated
/// platform runs (confs.create 自动会议类型规则 and the enable_rtc rules):
/// the platform has port permission and SFU; RTC access per `rtc`.
fn resolve_media(s: &mut Map<String, Value>, rtc: bool) -> ApiResult<()> {
    let h265 = s
        .get("video_formats")
        .and_then(Value::as_array)
        .is_some_and(|v| v.iter().any(|f| f.get("format").and_then(Value::as_i64) == Some(6)));
    // Doc: H.265 and the national ciphers SM4/SM1 are incompatible with RTC.
    let incompatible = h265 || matches!(int(s, "encrypted_type"), Some(3 | 4));
    let (conf_type, rtc_on) = match int(s, "conf_type").unwrap_or(0) {
        4 => {
            let protocols: Vec<&str> = s
                .get("mt_supported_protocol")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if protocols.is_empty() {
                return Err(ApiError::missing("mt_supported_protocol"));
            }
            let rtc_only = protocols.iter().all(|p| *p == "rtc");
            match (rtc, rtc_only) {
                (true, _) => (1, !incompatible),
                (false, true) => (2, false),
                (false, false) => (1, false),
            }
        }
        2 => (2, false),
        ct => match int(s, "enable_rtc") {
            None => (ct, rtc && !incompatible),
            Some(0) => (ct, false),
            Some(_) if !rtc => return Err(ApiError::new(errors::CONF_TYPE_UNSUPPORTED)),
            Some(_) => (ct, !incompatible),
        },
    };
    s.insert("conf_type".into(), conf_type.into());
    s.insert("enable_rtc".into(), i64::from(rtc_on).into());
    Ok(())
}

fn person(v: Option<&Value>) -> Value {
    let get = |k: &str| v.and_then(|v| v.get(k)).cloned();
    json!({
        "name": get("name").unwrap_or_else(|| "".into()),
        "account": get("account").unwrap_or_else(|| "".into()),
        "account_type": get("account_type").unwrap_or_else(|| 1.into()),
    })
}

/// Response fields of a conference record, by name.
fn conf_fields(m: &Meeting, names: &[&str]) -> Payload {
    let s = &m.settings;
    let mut out = Map::new();
    for &name in names {
        let v = match name {
            "name" => m.name().into(),
            "conf_id" => m.conf_id.clone().into(),
            "meeting_id" => m.meeting_id.clone().into(),
            "start_time" => fmt_time(m.start).into(),
            "end_time" => m.end_time().into(),
            "duration" => m.duration.into(),
            "state" => m.state.code().into(),
            "video" | "video_meeting" => 1.into(),
            "password" | "encrypted_key" => s.get(name).cloned().unwrap_or_else(|| "".into()),
            "creator" => m.creator.creator(),
            "speaker" => person(s.get("speaker")),
            "chairman" => s
                .get("chairman")
                .map(|c| person(Some(c)))
                .unwrap_or_else(|| json!({"name": m.creator.username, "account": m.creator.moid, "account_type": 1})),
            "video_formats" => s.get("video_formats").cloned().unwrap_or_else(|| json!([])),
            "invited_mt_num" => s.get("invite_members").and_then(Value::as_array).map_or(0, Vec::len).into(),
            "vmp_enable" => i64::from(s.get("vmp").is_some_and(Value::is_object)).into(),
            "mix_enable" => i64::from(s.get("mix").is_some_and(Value::is_object)).into(),
            "poll_enable" => i64::from(s.get("poll").is_some_and(Value::is_object)).into(),
            "members" => Value::Array(
                s.get("invite_members")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().map(|p| person(Some(p))).collect())
                    .unwrap_or_default(),
            ),
            // No endpoint of the doc attaches rooms to a meeting.
            "rooms" => json!([]),
            other => {
                let default = CONF_INTS.iter().find(|(n, _)| *n == other).map_or(0, |(_, d)| *d);
                int(s, other).unwrap_or(default).into()
            }
        };
        out.insert(name.to_owned(), v);
    }
    out
}

const BOOKED_ITEM: &[&str] = &[
    "name",
    "conf_id",
    "meeting_id",
    "conf_type",
    "enable_rtc",
    "start_time",
    "end_time",
    "duration",
    "bitrate",
    "closed_conf",
    "safe_conf",
    "encrypted_type",
    "encrypted_auth",
    "password",
    "mute",
    "force_mute",
    "silence",
    "video_quality",
    "one_reforming",
    "encrypted_key",
    "dual_mode",
    "voice_activity_detection",
    "public_conf",
    "invited_mt_num",
    "max_join_mt",
    "anonymous_mt",
    "creator",
];

/// Shared by booked_confs.get and meetings.get.
const DETAIL: &[&str] = &[
    "name",
    "conf_id",
    "meeting_id",
    "conf_type",
    "enable_rtc",
    "start_time",
    "end_time",
    "duration",
    "bitrate",
    "closed_conf",
    "safe_conf",
    "password",
    "encrypted_type",
    "encrypted_auth",
    "encrypted_key",
    "mute",
    "force_mute",
    "mute_filter",
    "fec_mode",
    "silence",
    "video_quality",
    "dual_mode",
    "doubleflow",
    "voice_activity_detection",
    "vacinterval",
    "public_conf",
    "call_times",
    "call_interval",
    "cascade_mode",
    "cascade_upload",
    "cascade_return",
    "cascade_return_para",
    "max_join_mt",
    "anonymous_mt",
    "multi_stream",
    "sms",
    "email",
    "wechat",
    "creator",
    "speaker",
    "chairman",
    "video_formats",
    "one_reforming",
    "auto_end",
    "preoccupy_resource",
];

const MEETING_ITEM: &[&str] = &["name", "conf_id", "meeting_id", "start_time", "end_time", "state", "video", "creator"];

fn booked_detail(m: &Meeting) -> Payload {
    let mut out = conf_fields(m, DETAIL);
    out.extend(conf_fields(m, &["vmp_enable", "mix_enable", "poll_enable", "invited_mt_num"]));
    out
}

fn meeting_detail(m: &Meeting) -> Payload {
    let mut out = conf_fields(m, &["video_meeting", "state"]);
    out.extend(conf_fields(m, DETAIL));
    out.extend(conf_fields(m, &["members", "rooms"]));
    out
}

fn is_booked(m: &Meeting) -> bool {
    m.origin == Origin::Booked && matches!(m.state, MeetingState::Booked | MeetingState::Running)
}

/// The booked conference `conf_id` (booked or running).
fn booked_mut<'a>(st: &'a mut KedacomState, conf_id: &str) -> ApiResult<&'a mut Meeting> {
    st.meetings
        .values_mut()
        .find(|m| m.conf_id == conf_id && is_booked(m))
        .ok_or_else(|| ApiError::new(errors::NO_BOOKED_CONF))
}

/// The list time window: `start_time` (default now) .. `end_time`.
fn window(p: &Params, now: f64) -> ApiResult<(f64, Option<f64>)> {
    Ok((p.time("start_time")?.unwrap_or(now), p.time("end_time")?))
}

fn sorted(mut items: Vec<&Meeting>) -> Vec<&Meeting> {
    items.sort_by(|a, b| a.start.total_cmp(&b.start).then_with(|| a.meeting_id.cmp(&b.meeting_id)));
    items
}

/// `GET /booked_confs`.
pub(crate) fn booked_list(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    let paging = Paging::from(&req.params)?;
    let (from, to) = window(&req.params, ctx.now)?;
    let items = sorted(ctx.st.meetings.values().filter(|m| is_booked(m) && m.overlaps(from, to)).collect());
    let (total, page) = paging.page(items);
    let list: Vec<Value> = page.into_iter().map(|m| Value::Object(conf_fields(m, BOOKED_ITEM))).collect();
    Ok(payload(json!({"total": total, "booked_confs": list})))
}

/// `GET /booked_confs/{conf_id}`.
pub(crate) fn booked_get(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    Ok(booked_detail(booked_mut(ctx.st, &req.key)?))
}

/// Validate a booked conference's `params` (create and full update).
fn booked_settings(ctx: &Ctx<'_>, req: &Req) -> ApiResult<(Map<String, Value>, f64, i64)> {
    let mut s = req.json_params(BOOKED_CONF)?;
    validate(BOOKED_CONF, &s, true)?;
    check_platform(&s)?;
    let start = s
        .get("start_time")
        .and_then(Value::as_str)
        .and_then(parse_time)
        .ok_or_else(|| ApiError::invalid("start_time"))?;
    if start < ctx.now - START_GRACE_SECS {
        return Err(ApiError::new(errors::START_IN_PAST));
    }
    let duration = int(&s, "duration").unwrap_or(0);
    if duration < 0 {
        return Err(ApiError::invalid("duration"));
    }
    resolve_media(&mut s, ctx.k.opts.platform_rtc)?;
    Ok((s, start, duration))
}

/// `POST /booked_confs`.
pub(crate) fn booked_create(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    let (settings, start, duration) = booked_settings(ctx, req)?;
    let m = new_meeting(ctx, settings, start, duration, MeetingState::Booked, Origin::Booked, None);
    Ok(created(&m))
}

fn created(m: &Meeting) -> Payload {
    payload(json!({"conf_id": m.conf_id, "meeting_id": m.meeting_id, "description": "success"}))
}

fn new_meeting(
    ctx: &mut Ctx<'_>,
    settings: Map<String, Value>,
    start: f64,
    duration: i64,
    state: MeetingState,
    origin: Origin,
    conf_id: Option<String>,
) -> Meeting {
    let m = Meeting {
        meeting_id: ctx.k.ids.meeting_id(),
        conf_id: conf_id.unwrap_or_else(|| ctx.k.ids.conf_id()),
        settings,
        start,
        duration,
        ended_at: None,
        state,
        origin,
        creator: ctx.user.clone(),
        created: ctx.now,
    };
    ctx.st.meetings.insert(m.meeting_id.clone(), m.clone());
    m
}

/// `POST /booked_confs/{conf_id}`: full replacement (全量更新).
pub(crate) fn booked_update(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    booked_mut(ctx.st, &req.key)?;
    let (settings, start, duration) = booked_settings(ctx, req)?;
    let m = booked_mut(ctx.st, &req.key)?;
    if m.state != MeetingState::Booked {
        return Err(ApiError::new(errors::CONF_STARTED));
    }
    m.settings = settings;
    m.start = start;
    m.duration = duration;
    Ok(created(m))
}

/// `DELETE /booked_confs/{conf_id}` (also removes the meeting's files).
pub(crate) fn booked_delete(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    let m = booked_mut(ctx.st, &req.key)?;
    if m.state != MeetingState::Booked {
        return Err(ApiError::new(errors::CONF_STARTED));
    }
    let id = m.meeting_id.clone();
    ctx.st.meetings.remove(&id);
    ctx.st.files.retain(|_, f| f.meeting_id != id);
    Ok(done())
}

/// `GET /meetings`.
pub(crate) fn meetings_list(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    let paging = Paging::from(&req.params)?;
    let (from, to) = window(&req.params, ctx.now)?;
    let state = req.params.int_in("state", &[1, 2, 3, 6, 7])?;
    let items = sorted(
        ctx.st
            .meetings
            .values()
            .filter(|m| state.is_none_or(|s| m.state.code() == s) && m.overlaps(from, to))
            .collect(),
    );
    let (total, page) = paging.page(items);
    let list: Vec<Value> = page.into_iter().map(|m| Value::Object(conf_fields(m, MEETING_ITEM))).collect();
    Ok(payload(json!({"total": total, "meetings": list})))
}

/// `GET /meetings/{meeting_id}`.
pub(crate) fn meetings_get(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    let m = ctx.st.meetings.get(&req.key).ok_or_else(|| ApiError::new(errors::NO_MEETING))?;
    Ok(meeting_detail(m))
}

/// Overlay the explicitly given `params` fields on a base setting set.
fn overlay(mut base: Map<String, Value>, given: &Map<String, Value>) -> Map<String, Value> {
    for (k, v) in given {
        if !matches!(k.as_str(), "create_type" | "template_id") && !v.is_null() {
            base.insert(k.clone(), v.clone());
        }
    }
    base
}

/// A guest only sees guest rooms (`public_conf` = 1).
pub(crate) fn visible(user: &User, public_conf: i64) -> bool {
    user.admin || public_conf == 1
}

/// `POST /confs`: create_type 1 instant, 2/3 template, 4 virtual meeting
/// room, 5 start a booked conference early.
pub(crate) fn conf_create(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    let given = req.json_params(CONF_CREATE)?;
    let create_type = match given.get("create_type") {
        None | Some(Value::Null) => 1,
        Some(v) => v.as_i64().filter(|t| (1..=5).contains(t)).ok_or_else(|| ApiError::invalid("create_type"))?,
    };
    // Doc: for create_type 1 the '*' fields are required; otherwise only template_id.
    validate(CONF_CREATE, &given, create_type == 1)?;
    check_platform(&given)?;
    let template_id = given.get("template_id").and_then(Value::as_str).filter(|t| !t.is_empty());
    if create_type != 1 && template_id.is_none() {
        return Err(ApiError::missing("template_id"));
    }
    let template_id = template_id.unwrap_or_default();
    let (mut settings, origin, conf_id) = match create_type {
        1 => (overlay(Map::new(), &given), Origin::Instant, None),
        2 | 3 => {
            let owner_ok = |t: &&Template| match (&t.owner, create_type) {
                (None, 2) => true,
                (Some(owner), 3) => *owner == ctx.user.username,
                _ => false,
            };
            let t =
                ctx.st.templates.get(template_id).filter(owner_ok).ok_or_else(|| ApiError::new(errors::NO_TEMPLATE))?;
            (overlay(t.settings.clone(), &given), Origin::Template(t.id.clone()), None)
        }
        4 => {
            let room = ctx
                .st
                .vmrs
                .get(template_id)
                .filter(|r| visible(&ctx.user, r.int("public_conf")))
                .ok_or_else(|| ApiError::new(errors::NO_VMR))?;
            if ctx.st.room_conf(&room.id).is_some() {
                return Err(ApiError::new(errors::VMR_BUSY));
            }
            let mut base = room.settings.clone();
            base.remove("status");
            (overlay(base, &given), Origin::Room(room.id.clone()), Some(room.e164.clone()))
        }
        _ => return start_early(ctx, template_id),
    };
    resolve_media(&mut settings, ctx.k.opts.platform_rtc)?;
    if settings.get("name").and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err(ApiError::missing("name"));
    }
    let duration = int(&settings, "duration").unwrap_or(0);
    if duration < 0 {
        return Err(ApiError::invalid("duration"));
    }
    check_resource(ctx, int(&settings, "max_join_mt").unwrap_or(8))?;
    let now = ctx.now;
    let m = new_meeting(ctx, settings, now, duration, MeetingState::Running, origin, conf_id);
    Ok(created(&m))
}

fn check_resource(ctx: &Ctx<'_>, max_join_mt: i64) -> ApiResult<()> {
    if ctx.st.used(max_join_mt) >= ctx.k.opts.resources_per_size as usize {
        Err(ApiError::new(errors::NO_RESOURCE))
    } else {
        Ok(())
    }
}

/// create_type 5: the booked conference (by `conf_id` or `meeting_id`; the
/// doc only says "booked conference id") starts now, keeping its duration.
fn start_early(ctx: &mut Ctx<'_>, id: &str) -> ApiResult<Payload> {
    let m = ctx
        .st
        .meetings
        .values()
        .find(|m| is_booked(m) && (m.conf_id == id || m.meeting_id == id))
        .ok_or_else(|| ApiError::new(errors::NO_BOOKED_CONF))?;
    if m.state != MeetingState::Booked {
        return Err(ApiError::new(errors::CONF_STARTED));
    }
    check_resource(ctx, m.int("max_join_mt"))?;
    let key = m.meeting_id.clone();
    let now = ctx.now;
    let m = ctx.st.meetings.get_mut(&key).ok_or_else(|| ApiError::new(errors::NO_BOOKED_CONF))?;
    m.start = now;
    m.state = MeetingState::Running;
    Ok(created(m))
}

/// `DELETE /confs/{conf_id}` (or POST with `_method=DELETE`).
pub(crate) fn conf_end(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    let now = ctx.now;
    let m = ctx
        .st
        .meetings
        .values_mut()
        .find(|m| m.conf_id == req.key && m.state == MeetingState::Running)
        .ok_or_else(|| ApiError::new(errors::NO_CONF))?;
    m.state = MeetingState::Ended;
    m.ended_at = Some(now);
    Ok(done())
}

/// `GET /valid_conf_name`: result 1 = free, 0 = a booked or running
/// conference of that name overlaps the range (the conference
/// `meeting_id` itself excluded).
pub(crate) fn valid_conf_name(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    let name = req.params.req("conf_name")?;
    let (from, to) = window(&req.params, ctx.now)?;
    let exclude = req.params.get("meeting_id");
    let duplicate = ctx.st.meetings.values().any(|m| {
        matches!(m.state, MeetingState::Booked | MeetingState::Running)
            && m.name() == name
            && Some(m.meeting_id.as_str()) != exclude
            && m.overlaps(from, to)
    });
    Ok(payload(json!({"result": i64::from(!duplicate)})))
}

/// Admin seed: a booked conference from unchecked `params`-like JSON
/// (`start_time` ISO 8601, `duration` minutes, optional fixed `conf_id` /
/// `meeting_id`). Returns (conf_id, meeting_id).
pub(crate) fn seed_booked(
    st: &mut KedacomState,
    k: &super::Kedacom,
    now: f64,
    mut s: Map<String, Value>,
) -> Result<(String, String), String> {
    let start = s
        .get("start_time")
        .and_then(Value::as_str)
        .and_then(parse_time)
        .ok_or("start_time (ISO 8601 with offset) required")?;
    let duration = int(&s, "duration").unwrap_or(0).max(0);
    let take = |s: &mut Map<String, Value>, k: &str| s.remove(k).and_then(|v| v.as_str().map(str::to_owned));
    let conf_id = take(&mut s, "conf_id").unwrap_or_else(|| k.ids.conf_id());
    let meeting_id = take(&mut s, "meeting_id").unwrap_or_else(|| k.ids.meeting_id());
    if st.meetings.contains_key(&meeting_id) || st.meetings.values().any(|m| m.conf_id == conf_id) {
        return Err("conf_id or meeting_id already in use".into());
    }
    s.entry("name").or_insert_with(|| "Seeded conference".into());
    let creator = User::new(&k.opts.username, true);
    let m = Meeting {
        meeting_id: meeting_id.clone(),
        conf_id: conf_id.clone(),
        settings: s,
        start,
        duration,
        ended_at: None,
        state: MeetingState::Booked,
        origin: Origin::Booked,
        creator,
        created: now,
    };
    st.meetings.insert(meeting_id.clone(), m);
    Ok((conf_id, meeting_id))
}
