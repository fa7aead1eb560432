//! The 15 documented endpoints. Each returns the envelope's `ret` (or
//! `Value::Null` when the endpoint has none).
//!
//! Code mapping (the doc never ties codes to endpoints; adopted here from
//! the codes' names): 301 missing parameter, 300 bad parameter, 1014 unknown
//! account, 1019 imAccid already has an account, 2000 unknown meeting,
//! 2002 cancelling a meeting in progress, 2011 short number in use, 2017
//! subject over 30 characters, 2021 meeting already over, 2023 bad type,
//! 2024 the personal meeting is already live, 2025 editing a meeting that
//! is not in status 1.

use rand::Rng;
use serde_json::{json, Map, Value};

use super::errors::{ApiError, ApiResult};
use super::params::{audio_all_mute, check_settings, valid_nickname, valid_short_id, Body};
use super::sign::{anonymous_authorization, checksum_matches, md5_hex};
use super::state::{digits, ms, reason, Account, Meeting, CANCELED, ENDED, IN_MEETING, NOT_START, RECYCLED};
use super::Ctx;

/// 32 random lowercase hex characters (tokens).
fn random_hex() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    hex::encode(bytes)
}

/// Maximum subject length (`30字符以内`).
const SUBJECT_MAX: usize = 30;

fn subject(b: &Body<'_>) -> ApiResult<String> {
    let s = b.str("subject")?;
    if s.chars().count() > SUBJECT_MAX {
        return Err(ApiError::new(2017));
    }
    Ok(s.to_owned())
}

fn short_id_taken(ctx: &Ctx<'_>, short_id: &str, except: Option<&str>) -> bool {
    ctx.st.accounts.values().any(|a| a.short_id.as_deref() == Some(short_id) && Some(a.account_id.as_str()) != except)
}

/// `account.create`.
pub(crate) fn account_create(ctx: &mut Ctx<'_>, b: &Body<'_>) -> ApiResult<Value> {
    let im_accid = b.opt_str("imAccid")?.filter(|s| !s.is_empty());
    let im_token = b.opt_str("imToken")?.filter(|s| !s.is_empty());
    let short_id = b.opt_str("shortId")?;
    if let Some(s) = short_id {
        if !valid_short_id(s) {
            return Err(ApiError::detail(300, "shortId"));
        }
        if short_id_taken(ctx, s, None) {
            return Err(ApiError::new(2011));
        }
    }
    // Reusing an IM account needs its token (doc: 复用的imAccid的Token).
    let im_accid = match (im_accid, im_token) {
        (Some(accid), Some(_)) => {
            if ctx.st.accounts.values().any(|a| a.im_accid == accid) {
                return Err(ApiError::new(1019));
            }
            accid.to_owned()
        }
        (Some(_), None) => return Err(ApiError::detail(301, "imToken")),
        (None, Some(_)) => return Err(ApiError::detail(301, "imAccid")),
        (None, None) => String::new(),
    };
    let account_id = loop {
        let id = digits(18).to_string();
        if !ctx.st.accounts.contains_key(&id) {
            break id;
        }
    };
    let personal_meeting_id = loop {
        let id = digits(10);
        if ctx.st.accounts.values().all(|a| a.personal_meeting_id != id) {
            break id;
        }
    };
    let im_accid = if im_accid.is_empty() { format!("nm{account_id}") } else { im_accid };
    let account = Account {
        account_id: account_id.clone(),
        account_token: random_hex(),
        im_accid,
        personal_meeting_id,
        short_id: short_id.map(str::to_owned),
    };
    let ret = account.ret();
    ctx.st.accounts.insert(account_id, account);
    Ok(ret)
}

/// `account.get_by_im_accid`.
pub(crate) fn account_get_by_im_accid(ctx: &mut Ctx<'_>, b: &Body<'_>) -> ApiResult<Value> {
    let accid = b.str("imAccid")?;
    ctx.st.accounts.values().find(|a| a.im_accid == accid).map(Account::ret).ok_or_else(|| ApiError::new(1014))
}

/// `account.get_by_account_id`.
pub(crate) fn account_get_by_account_id(ctx: &mut Ctx<'_>, b: &Body<'_>) -> ApiResult<Value> {
    let id = b.str("accountId")?;
    ctx.st.accounts.get(id).map(Account::ret).ok_or_else(|| ApiError::new(1014))
}

/// `account.update_token`: the caller's value becomes the token.
pub(crate) fn account_update_token(ctx: &mut Ctx<'_>, b: &Body<'_>) -> ApiResult<Value> {
    let id = b.str("accountId")?;
    let token = b.str("accountToken")?.to_owned();
    let account = ctx.st.accounts.get_mut(id).ok_or_else(|| ApiError::new(1014))?;
    account.account_token = token;
    Ok(Value::Null)
}

/// `account.update_short_id`: omitted (or null) `shortId` clears it
/// (`不传表示清除短号`); an empty string is not a 4-8 digit number (300).
pub(crate) fn account_update_short_id(ctx: &mut Ctx<'_>, b: &Body<'_>) -> ApiResult<Value> {
    let id = b.str("accountId")?.to_owned();
    let short_id = b.opt_str("shortId")?.map(str::to_owned);
    if !ctx.st.accounts.contains_key(&id) {
        return Err(ApiError::new(1014));
    }
    if let Some(s) = &short_id {
        if !valid_short_id(s) {
            return Err(ApiError::detail(300, "shortId"));
        }
        if short_id_taken(ctx, s, Some(&id)) {
            return Err(ApiError::new(2011));
        }
    }
    ctx.st.accounts.get_mut(&id).expect("checked").short_id = short_id;
    Ok(Value::Null)
}

/// `startTime`/`endTime` pair: end is -1 (unlimited) or after start.
fn check_times(start: i64, end: i64) -> ApiResult<()> {
    if start < 0 {
        return Err(ApiError::detail(300, "startTime"));
    }
    if end != -1 && end <= start {
        return Err(ApiError::detail(300, "endTime"));
    }
    Ok(())
}

/// `meeting.create`.
pub(crate) fn meeting_create(ctx: &mut Ctx<'_>, b: &Body<'_>) -> ApiResult<Value> {
    let host = b.str("host")?.to_owned();
    let owner = b.opt_str("owner")?.filter(|s| !s.is_empty()).map(str::to_owned);
    let kind = b.opt_int_or_str("type")?.ok_or_else(|| ApiError::detail(301, "type"))?;
    let kind = match kind {
        1..=3 => kind as u8,
        _ => return Err(ApiError::new(2023)),
    };
    let subject = subject(b)?;
    let password = b.opt_str("password")?.unwrap_or_default().to_owned();
    let settings = match b.0.get("settings").filter(|v| !v.is_null()) {
        Some(s) => {
            check_settings(s)?;
            s.clone()
        }
        None => json!({}),
    };
    let (start, end) = (b.opt_i64("startTime")?, b.opt_i64("endTime")?);
    let (start_ms, end_ms) = match (kind, start, end) {
        // Doc: startTime/endTime required for type 3.
        (3, None, _) => return Err(ApiError::detail(301, "startTime")),
        (3, _, None) => return Err(ApiError::detail(301, "endTime")),
        (_, s, e) => (s.unwrap_or_else(|| ms(ctx.now)), e.unwrap_or(-1)),
    };
    check_times(start_ms, end_ms)?;
    let host_account = ctx.st.accounts.get(&host).ok_or_else(|| ApiError::detail(1014, "host"))?;
    if let Some(o) = &owner {
        if !ctx.st.accounts.contains_key(o) {
            return Err(ApiError::detail(1014, "owner"));
        }
    }
    let (meeting_id, short_id) = if kind == 2 {
        // Personal-number meeting: the host's 10-digit personal number,
        // which only one live meeting can use at a time.
        let id = host_account.personal_meeting_id.to_string();
        let short = host_account.short_id.clone();
        if ctx.st.meetings.values().any(|m| m.meeting_id == id && m.is_live()) {
            return Err(ApiError::new(2024));
        }
        (id, short)
    } else {
        (ctx.st.random_meeting_id(), None)
    };
    let unique_id = ctx.st.next_unique_id();
    let meeting = Meeting {
        unique_id,
        meeting_id,
        kind,
        owner: owner.unwrap_or_else(|| host.clone()),
        host,
        subject,
        start_ms,
        end_ms,
        password,
        settings,
        short_id,
        status: NOT_START,
        created: ctx.now,
        room_started: None,
        room_ended: None,
        av_room_cid: digits(12).to_string(),
        members: Default::default(),
        recordings_due: None,
    };
    let ret = Value::Object(meeting.ret());
    ctx.st.meetings.insert(unique_id, meeting);
    Ok(ret)
}

fn meeting<'a>(ctx: &'a Ctx<'_>, uid: u64) -> ApiResult<&'a Meeting> {
    ctx.st.meetings.get(&uid).ok_or_else(|| ApiError::new(2000))
}

/// `meeting.get`: any record, `valid` true while status is 1 or 2.
pub(crate) fn meeting_get(ctx: &mut Ctx<'_>, b: &Body<'_>) -> ApiResult<Value> {
    let m = meeting(ctx, b.unique_id()?)?;
    let mut ret = m.ret();
    ret.insert("valid".into(), m.is_live().into());
    ret.insert("avRoomCid".into(), m.av_room_cid.clone().into());
    Ok(Value::Object(ret))
}

/// `meeting.update` (`/v2/meeting/edit`): only while not started.
pub(crate) fn meeting_update(ctx: &mut Ctx<'_>, b: &Body<'_>) -> ApiResult<Value> {
    let uid = b.unique_id()?;
    let m = meeting(ctx, uid)?;
    if m.status != NOT_START {
        return Err(ApiError::new(2025));
    }
    let subject = subject(b)?;
    let start_ms = b.opt_i64("startTime")?.unwrap_or(m.start_ms);
    let end_ms = b.opt_i64("endTime")?.unwrap_or(m.end_ms);
    check_times(start_ms, end_ms)?;
    let password = b.opt_str("password")?.map(str::to_owned);
    let settings = b.0.get("settings").filter(|v| !v.is_null()).cloned();
    if let Some(s) = &settings {
        check_settings(s)?;
    }
    let m = ctx.st.meetings.get_mut(&uid).expect("checked");
    m.subject = subject;
    m.start_ms = start_ms;
    m.end_ms = end_ms;
    if let Some(p) = password {
        m.password = p;
    }
    if let Some(s) = settings {
        // Full replacement (doc: settings must be sent complete).
        m.settings = s;
    }
    Ok(Value::Null)
}

/// `meeting.cancel`: status 1 -> 4 with callback 2.
pub(crate) fn meeting_cancel(ctx: &mut Ctx<'_>, b: &Body<'_>) -> ApiResult<Value> {
    let uid = b.unique_id()?;
    match meeting(ctx, uid)?.status {
        NOT_START => {
            ctx.st.cancel(uid, ctx.now);
            Ok(Value::Null)
        }
        IN_MEETING => Err(ApiError::new(2002)),
        _ => Err(ApiError::new(2021)),
    }
}

/// End (and maybe recycle) a meeting through the server API (reason 4).
fn end_meeting(ctx: &mut Ctx<'_>, uid: u64, b: &Body<'_>) -> ApiResult<Value> {
    let recycle = b.opt_bool("recycle")?.unwrap_or(false);
    let m = meeting(ctx, uid)?;
    // Personal meeting numbers are never recycled (会议号回收是指随机号).
    let recycle = recycle && m.kind != 2;
    match (m.status, recycle) {
        (NOT_START | IN_MEETING, _) | (ENDED, true) => {
            ctx.st.end(uid, ctx.now, reason::SERVER_API, recycle, ctx.opts);
            Ok(Value::Null)
        }
        _ => Err(ApiError::new(2021)),
    }
}

/// `meeting.end_by_unique_id` (`deleteByMeetingUniqueId`).
pub(crate) fn end_by_unique_id(ctx: &mut Ctx<'_>, b: &Body<'_>) -> ApiResult<Value> {
    let uid = b.unique_id()?;
    end_meeting(ctx, uid, b)
}

/// `meeting.end_by_meeting_id` (`deleteByMeetingId`): the live record
/// with that number, else the newest one.
pub(crate) fn end_by_meeting_id(ctx: &mut Ctx<'_>, b: &Body<'_>) -> ApiResult<Value> {
    let id = b.str("meetingId")?;
    let uid = ctx.st.by_meeting_id(id).ok_or_else(|| ApiError::new(2000))?;
    end_meeting(ctx, uid, b)
}

/// `meeting.end_by_short_id` (`deleteByMeetingShortId`).
pub(crate) fn end_by_short_id(ctx: &mut Ctx<'_>, b: &Body<'_>) -> ApiResult<Value> {
    let id = b.str("shortId")?;
    let uid = ctx.st.by_short_id(id).ok_or_else(|| ApiError::new(2000))?;
    end_meeting(ctx, uid, b)
}

/// `meeting.record_list`: `ret` is an array of flat file objects (the
/// doc's example), empty until the recordings appear.
pub(crate) fn record_list(ctx: &mut Ctx<'_>, b: &Body<'_>) -> ApiResult<Value> {
    let uid = b.unique_id()?;
    meeting(ctx, uid)?;
    let files = ctx.st.recordings.iter().filter(|r| r.meeting_unique_id == uid).map(|r| r.info(ctx.base)).collect();
    Ok(Value::Array(files))
}

/// `meeting.list`. The doc never names the meeting array: it is
/// `meetingList`. Default `statusList` [1, 2] ("available" meetings);
/// start-time bounds inclusive; pageSize outside 1-100 is 300.
pub(crate) fn meeting_list(ctx: &mut Ctx<'_>, b: &Body<'_>) -> ApiResult<Value> {
    let uid = b.opt_i64("meetingUniqueId")?;
    let meeting_id = b.opt_str("meetingId")?.filter(|s| !s.is_empty());
    let min = b.opt_i64("minStartTime")?;
    let max = b.opt_i64("maxStartTime")?;
    let kind = b.opt_int_or_str("type")?;
    if kind.is_some_and(|k| !(1..=3).contains(&k)) {
        return Err(ApiError::new(2023));
    }
    let statuses: Vec<i64> = match b.0.get("statusList").filter(|v| !v.is_null()) {
        None => vec![1, 2],
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_i64().filter(|s| (0..=5).contains(s)))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| ApiError::detail(300, "statusList"))?,
        Some(_) => return Err(ApiError::detail(300, "statusList")),
    };
    let page_index = b.opt_i64("pageIndex")?.unwrap_or(0);
    let page_size = b.opt_i64("pageSize")?.unwrap_or(20);
    if page_index < 0 {
        return Err(ApiError::detail(300, "pageIndex"));
    }
    if !(1..=100).contains(&page_size) {
        return Err(ApiError::detail(300, "pageSize"));
    }
    let mut found: Vec<&Meeting> = ctx
        .st
        .meetings
        .values()
        .filter(|m| statuses.contains(&i64::from(m.status)))
        .filter(|m| uid.is_none_or(|u| m.unique_id as i64 == u))
        .filter(|m| meeting_id.is_none_or(|id| m.meeting_id == id))
        .filter(|m| min.is_none_or(|t| m.start_ms >= t) && max.is_none_or(|t| m.start_ms <= t))
        .filter(|m| kind.is_none_or(|k| i64::from(m.kind) == k))
        .collect();
    found.sort_by_key(|m| (m.start_ms, m.unique_id));
    let total = found.len() as i64;
    let items: Vec<Value> = found
        .into_iter()
        .skip((page_index * page_size) as usize)
        .take(page_size as usize)
        .map(|m| Value::Object(m.ret()))
        .collect();
    Ok(json!({
        "pageIndex": page_index,
        "pageSize": page_size,
        "totalNum": total,
        "totalPages": (total + page_size - 1) / page_size,
        "meetingList": items,
    }))
}

fn header<'a>(ctx: &'a Ctx<'_>, name: &str) -> ApiResult<&'a str> {
    ctx.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::detail(302, name))
}

/// `meeting.anonymous_join_info`. Besides the signature headers it needs
/// `authorization` = md5(raw body + "@163") (hex, any case), `clientType`
/// 1-8 (3001 otherwise) and `deviceId` (302 when any is missing, 401 on a
/// wrong authorization). Does not open the AV room: the participant joins
/// afterwards with the returned credentials (admin `join` emulates it).
pub(crate) fn anonymous_join_info(ctx: &mut Ctx<'_>, b: &Body<'_>) -> ApiResult<Value> {
    let authorization = header(ctx, "authorization")?;
    let client_type = header(ctx, "clientType")?;
    header(ctx, "deviceId")?;
    if !checksum_matches(authorization, &anonymous_authorization(ctx.raw)) {
        return Err(ApiError::detail(401, "authorization"));
    }
    if !client_type.parse::<u8>().is_ok_and(|t| (1..=8).contains(&t)) {
        return Err(ApiError::new(3001));
    }
    let meeting_id = b.str("meetingId")?;
    let nick = b.str("nickName")?;
    if !valid_nickname(nick) {
        return Err(ApiError::new(2003));
    }
    if !matches!(b.i64("video")?, 1 | 2) {
        return Err(ApiError::new(2004));
    }
    if !matches!(b.i64("audio")?, 1 | 2) {
        return Err(ApiError::new(2005));
    }
    if !matches!(b.opt_i64("roleType")?, None | Some(1 | 4)) {
        return Err(ApiError::detail(300, "roleType"));
    }
    let password = b.opt_str("password")?.unwrap_or_default();
    let uid = ctx.st.by_meeting_id(meeting_id).ok_or_else(|| ApiError::new(2000))?;
    let m = meeting(ctx, uid)?;
    match m.status {
        CANCELED | RECYCLED => return Err(ApiError::new(2000)),
        ENDED => return Err(ApiError::new(2021)),
        _ => {}
    }
    if !m.password.is_empty() {
        if password.is_empty() {
            return Err(ApiError::new(2018));
        }
        if password != m.password {
            return Err(ApiError::new(2014));
        }
    }
    let account_id = digits(18).to_string();
    let duration = m.room_started.map(|s| (ctx.now - s).max(0.0) as i64).unwrap_or(0);
    let mut ret = Map::new();
    for (k, v) in [
        ("code", json!(200)),
        ("msg", json!("success")),
        ("appKey", json!(ctx.opts.app_key)),
        ("imAppKey", json!(ctx.opts.app_key)),
        ("nrtcAppKey", json!(ctx.opts.app_key)),
        ("imAccid", json!(format!("nm{account_id}"))),
        ("accountId", json!(account_id)),
        ("accountToken", json!(random_hex())),
        ("imToken", json!(random_hex())),
        ("avRoomCheckSum", json!(random_hex())),
        ("avRoomCName", json!(m.unique_id.to_string())),
        ("avRoomCid", json!(m.av_room_cid)),
        ("avRoomUid", json!(digits(15))),
        ("duration", json!(duration)),
        ("createTime", json!(m.created.floor() as i64)),
        ("audioAllMute", json!(i32::from(audio_all_mute(&m.settings)))),
        ("pushUrl", json!("")),
        ("meetingKey", json!(md5_hex(format!("{}-{}", ctx.opts.app_key, m.unique_id).as_bytes()))),
        ("meetingId", json!(m.meeting_id)),
        ("shortId", json!(m.short_id.clone().unwrap_or_default())),
        ("meetingUniqueId", json!(m.unique_id)),
        ("sipCid", json!(m.meeting_id)),
    ] {
        ret.insert(k.into(), v);
    }
    Ok(Value::Object(ret))
}
