//! apiServer: checkJoin, the supplementary recording / live API and the
//! produced record files.
//!
//! Supplementary envelope `{code, data, message, state}`: `code` is a
//! string, `state` 1/0, `message` null on success; answers are always HTTP
//! 200 (the doc does not say whether its codes are HTTP statuses; they are
//! carried in `code`). closeLive's success has no `data` key, as in the
//! doc's example.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::state::{fmt_time, uuid4, ActiveRecording, Recording, Role, VmrState};
use super::Vmr;
use crate::avd::files::request_base;

/// Message of a supplementary status code (the doc's two tables).
pub(crate) fn code_message(code: &str) -> &'static str {
    match code {
        "200" => "请求成功。",
        "400" => "请求的参数异常。",
        "403" => "auth认证失败（auth错误；冒用他人的auth）",
        "500" => "服务器内部错误，无法完成请求。",
        "200001" => "会议号和当前的认证的auth不匹配",
        "200002" => "该会议已开启直播",
        "200003" => "该会议已开启录制",
        "200004" => "该会议不允许录制",
        "200005" => "该会议不允许直播",
        "200006" => "该会议还未开启",
        "200007" => "该会议未开启录制",
        "200008" => "该会议不存在",
        _ => "未知错误",
    }
}

/// A failed supplementary call: (code, message).
struct Fail(&'static str, String);

impl Fail {
    fn code(code: &'static str) -> Self {
        Fail(code, code_message(code).to_owned())
    }
    fn bad(msg: impl Into<String>) -> Self {
        Fail("400", format!("{}{}", code_message("400"), msg.into()))
    }
}

fn fail_body(f: Fail) -> Value {
    json!({"code": f.0, "data": null, "message": f.1, "state": 0})
}

/// Parse the request's parameters. The docs say "Body" (checkJoin:
/// 请求参数 (Body)) without naming the encoding; meetkit sends a JSON object
/// (`application/json`, the room API's stated format): strict mode accepts
/// only that. Lenient mode also accepts `application/x-www-form-urlencoded`
/// and, with `query_ok` (checkJoin), the parameters in the query string.
fn parse_body(
    strict: bool,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &Bytes,
    query_ok: bool,
) -> Option<serde_json::Map<String, Value>> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let is_json = content_type.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/json");
    if strict && !is_json {
        return None;
    }
    if !strict && content_type.starts_with("application/x-www-form-urlencoded") {
        let pairs = url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())));
        return Some(pairs.collect());
    }
    if !strict && query_ok && body.iter().all(u8::is_ascii_whitespace) {
        let q = query.unwrap_or_default();
        if !q.is_empty() {
            let pairs =
                url::form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())));
            return Some(pairs.collect());
        }
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

fn field<'a>(body: &'a serde_json::Map<String, Value>, name: &str, max: usize) -> Result<Option<&'a str>, Fail> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() > max => Err(Fail::bad(format!(" {name} 超长 (>{max})"))),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Fail::bad(format!(" {name} 须为字符串"))),
    }
}

fn required<'a>(body: &'a serde_json::Map<String, Value>, name: &str, max: usize) -> Result<&'a str, Fail> {
    field(body, name, max)?.ok_or_else(|| Fail::bad(format!(" 缺少 {name}")))
}

/// `POST /api/v3/meet/checkJoin.shtml`.
///
/// Errors are undocumented; they use the same envelope with `results:
/// null`, a `message`, and codes from the supplementary tables: "400"
/// (missing joinAccount / participantName), "200008" (unknown account),
/// "403" (wrong or missing password).
pub(crate) async fn check_join(
    State(vmr): State<Arc<Vmr>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Json<Value> {
    let result = vmr.with_state(|st, _| check_join_inner(&vmr, st, &headers, query.as_deref(), &body));
    let now = vmr.clock.now();
    Json(match result {
        Ok(results) => json!({"code": "200", "timeStamp": fmt_time(now), "results": results}),
        Err(f) => json!({"code": f.0, "timeStamp": fmt_time(now), "message": f.1, "results": null}),
    })
}

fn check_join_inner(
    vmr: &Vmr,
    st: &VmrState,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &Bytes,
) -> Result<Value, Fail> {
    let body = parse_body(vmr.strict, headers, query, body, true).ok_or_else(|| Fail::bad(" 请求体须为 JSON 对象"))?;
    let account = required(&body, "joinAccount", 60)?;
    let pwd = field(&body, "joinPwd", 15)?;
    let name = required(&body, "participantName", 50)?;
    let room = st.resolve(account).ok_or_else(|| Fail::code("200008"))?;
    let r = st.room(&room);
    let seed = &r.seed;
    let role = match pwd {
        Some(p) if p == seed.host_pin => Role::Chair,
        Some(p) if seed.guest_pin.as_deref() == Some(p) && seed.allow_guest => Role::Guest,
        None if seed.guest_pin.is_none() && seed.allow_guest => Role::Guest,
        _ => return Err(Fail("403", "入会密码错误".into())),
    };
    Ok(json!({
        "isDot": false,
        "sipkey": seed.id,
        "alias": seed.alias,
        "password": pwd.unwrap_or_default(),
        "participantName": name,
        "roleType": match role { Role::Chair => "host", Role::Guest => "guest" },
        "mcuHost": vmr.mcu_host(vmr.node_of(seed.node)),
        "companyId": seed.company_id,
        "isRecord": seed.allow_record,
        "isLive": seed.allow_live,
        "conferenceName": seed.name,
        "allowGuest": if seed.allow_guest { "yes" } else { "no" },
    }))
}

/// `POST /meeting/<op>` (header `auth`).
pub(crate) async fn meeting(
    State(vmr): State<Arc<Vmr>>,
    Path(op): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    const OPS: [&str; 6] = ["openRecord", "closeRecord", "getRecords", "delRecordFile", "openLive", "closeLive"];
    if !OPS.contains(&op.as_str()) {
        return (StatusCode::NOT_FOUND, Json(fail_body(Fail("404", "接口不存在".into())))).into_response();
    }
    if method != Method::POST {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let base = request_base(&headers, &vmr.api_base);
    let auth = headers.get("auth").and_then(|v| v.to_str().ok()).map(str::trim).unwrap_or_default().to_owned();
    let result = vmr.with_state(|st, now| {
        if auth.is_empty() || !known_auth(&vmr, st, &auth) {
            return Err(Fail::code("403"));
        }
        let body =
            parse_body(vmr.strict, &headers, None, &body, false).ok_or_else(|| Fail::bad(" 请求体须为 JSON 对象"))?;
        match op.as_str() {
            "openRecord" => open_record(st, &auth, &body, now),
            "closeRecord" => close_record(st, &auth, &body, now),
            "getRecords" => get_records(st, &auth, &body, &base),
            "delRecordFile" => del_record(st, &auth, &body),
            "openLive" => open_live(st, &auth, &body, &base),
            "closeLive" => close_live(st, &auth, &body),
            _ => unreachable!("op list checked"),
        }
    });
    Json(match result {
        Ok(Some(data)) => json!({"code": "200", "data": data, "message": null, "state": 1}),
        Ok(None) => json!({"code": "200", "message": null, "state": 1}),
        Err(f) => fail_body(f),
    })
    .into_response()
}

/// Tenant keys: the main one and every seeded room's own.
fn known_auth(vmr: &Vmr, st: &VmrState, auth: &str) -> bool {
    auth == vmr.opts.auth_key || st.rooms.values().any(|r| r.tenant == auth)
}

/// conferenceKey → room owned by `auth` (200008 / 200001).
fn tenant_room(st: &VmrState, auth: &str, body: &serde_json::Map<String, Value>) -> Result<String, Fail> {
    let key = required(body, "conferenceKey", 50)?;
    // The doc says "short number"; the room's address is accepted too.
    let room = st.resolve(key).ok_or_else(|| Fail::code("200008"))?;
    if st.room(&room).tenant != auth {
        return Err(Fail::code("200001"));
    }
    Ok(room)
}

type OpResult = Result<Option<Value>, Fail>;

fn open_record(st: &mut VmrState, auth: &str, body: &serde_json::Map<String, Value>, now: f64) -> OpResult {
    let room = tenant_room(st, auth, body)?;
    let r = st.room(&room);
    if !r.seed.allow_record {
        return Err(Fail::code("200004"));
    }
    if !r.started {
        return Err(Fail::code("200006"));
    }
    if r.recording.is_some() {
        return Err(Fail::code("200003"));
    }
    let record_id = uuid4();
    let rec = Recording {
        record_id: record_id.clone(),
        room: room.clone(),
        conference_key: r.seed.id.clone(),
        tenant: r.tenant.clone(),
        ent_id: r.seed.company_id,
        start: now,
        stop: None,
        files: Vec::new(),
    };
    st.recordings.insert(record_id.clone(), rec);
    st.room_mut(&room).recording = Some(ActiveRecording { record_id: record_id.clone(), start: now });
    Ok(Some(json!({"recordId": record_id})))
}

fn close_record(st: &mut VmrState, auth: &str, body: &serde_json::Map<String, Value>, now: f64) -> OpResult {
    let room = tenant_room(st, auth, body)?;
    let Some(active) = st.room_mut(&room).recording.take() else {
        return Err(Fail::code("200007"));
    };
    st.finish_recording(&active.record_id, now);
    Ok(Some(json!({"recordId": active.record_id})))
}

fn owned_recording<'a>(
    st: &'a VmrState,
    auth: &str,
    body: &serde_json::Map<String, Value>,
) -> Result<&'a Recording, Fail> {
    let id = required(body, "recordId", 50)?;
    // Undocumented: an unknown (or deleted) recordId is a parameter error.
    let rec = st.recordings.get(id).ok_or_else(|| Fail::bad(" recordId 不存在"))?;
    if rec.tenant != auth {
        return Err(Fail::code("200001"));
    }
    Ok(rec)
}

fn get_records(st: &mut VmrState, auth: &str, body: &serde_json::Map<String, Value>, base: &str) -> OpResult {
    // `origin` (doc: "https://apiServer") is accepted and not used.
    field(body, "origin", 128)?;
    let rec = owned_recording(st, auth, body)?;
    // Files exist once the recording is closed; while it runs the list is empty.
    let files: Vec<Value> = rec
        .files
        .iter()
        .map(|f| {
            json!({
                "recordId": rec.record_id,
                "conferenceKey": rec.conference_key,
                "entId": rec.ent_id,
                "startTime": fmt_time(f.start),
                "fileSize": f.body.len(),
                "stopTime": fmt_time(f.stop),
                "downUrl": format!("{base}{}?sign={}", f.path, f.sign),
            })
        })
        .collect();
    Ok(Some(Value::Array(files)))
}

fn del_record(st: &mut VmrState, auth: &str, body: &serde_json::Map<String, Value>) -> OpResult {
    let rec = owned_recording(st, auth, body)?;
    if rec.stop.is_none() {
        return Err(Fail::bad(" 录制未结束，不能删除"));
    }
    let id = rec.record_id.clone();
    st.recordings.remove(&id);
    Ok(Some(json!({"recordId": id})))
}

fn open_live(st: &mut VmrState, auth: &str, body: &serde_json::Map<String, Value>, base: &str) -> OpResult {
    let room = tenant_room(st, auth, body)?;
    let r = st.room(&room);
    if !r.seed.allow_live {
        return Err(Fail::code("200005"));
    }
    if !r.started {
        return Err(Fail::code("200006"));
    }
    if r.live.is_some() {
        return Err(Fail::code("200002"));
    }
    let id = hex::encode(rand::random::<[u8; 8]>());
    st.room_mut(&room).live = Some(id.clone());
    Ok(Some(json!({"liveurl": format!("{base}/live/{id}")})))
}

fn close_live(st: &mut VmrState, auth: &str, body: &serde_json::Map<String, Value>) -> OpResult {
    let room = tenant_room(st, auth, body)?;
    if st.room_mut(&room).live.take().is_none() {
        // The doc has no "live not on" code.
        return Err(Fail::bad(" 该会议未开启直播"));
    }
    Ok(None)
}

/// `GET /live/<id>`: a minimal viewing page while the live runs.
pub(crate) async fn live_page(State(vmr): State<Arc<Vmr>>, Path(id): Path<String>) -> Response {
    let name = vmr.with_state(|st, _| {
        st.rooms.values().find(|r| r.live.as_deref() == Some(id.as_str())).map(|r| r.seed.name.clone())
    });
    match name {
        Some(n) => Html(format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{n}</title></head><body>live</body></html>\n"
        ))
        .into_response(),
        None => (StatusCode::NOT_FOUND, "live not found\n").into_response(),
    }
}

/// `GET /records/<...>.mp4?sign=...`: a record file, with Content-Length,
/// Content-MD5 (RFC 1864, of the bytes sent) and single-range support.
pub(crate) async fn download(
    State(vmr): State<Arc<Vmr>>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let path = format!("/records/{path}");
    let sign = url::form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "sign")
        .map(|(_, v)| v.into_owned());
    let found = vmr.with_state(|st, _| {
        st.recordings
            .values()
            .flat_map(|r| r.files.iter())
            .find(|f| f.path == path)
            .map(|f| (f.body.clone(), f.sign.clone()))
    });
    let Some((body, expected)) = found else {
        return (StatusCode::NOT_FOUND, "file not found\n").into_response();
    };
    if sign.as_deref() != Some(expected.as_str()) {
        return (StatusCode::FORBIDDEN, "signature mismatch\n").into_response();
    }
    let file_name = path.rsplit('/').next().unwrap_or("record.mp4").to_owned();
    crate::common::files::serve(body, "video/mp4", &file_name, &headers).await
}
