//! Meeting files: multipart upload (one file, <= 20 MB, <= 10 per
//! meeting, 13 documented types), list, delete, and download of the real
//! bytes at the relative `file_url` with Content-Length, Content-MD5
//! (RFC 1864) and single-range `Range` support.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use md5::{Digest, Md5};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::{json, Value};

use super::errors::{self, ApiError, ApiResult};
use super::params::fmt_time;
use super::state::MeetingFile;
use super::{done, payload, Ctx, Kedacom, Payload, Req};

/// Doc: each file at most 20 MB.
pub(crate) const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
/// Doc: a meeting keeps at most 10 files.
pub(crate) const MAX_FILES: usize = 10;
/// Doc file types, code = index + 1.
const TYPES: [&str; 13] =
    ["txt", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "pdf", "rar", "zip", "jpg", "png", "bmp"];

/// Download route (state: the Kedacom simulator).
pub(crate) fn routes() -> Router<Arc<Kedacom>> {
    Router::new().route("/files/meeting/{file_id}/{name}", get(download))
}

/// `/files/meeting/{file_id}/{file_name}` (relative, as the doc's `file_url`).
fn file_url(f: &MeetingFile) -> String {
    format!("/files/meeting/{}/{}", f.file_id, utf8_percent_encode(&f.file_name, NON_ALPHANUMERIC))
}

fn describe(f: &MeetingFile) -> Value {
    json!({
        "file_id": f.file_id,
        "meeting_id": f.meeting_id,
        "file_name": f.file_name,
        "file_type": f.type_code.to_string(),
        "extension_name": f.ext,
        "file_url": file_url(f),
        // Doc: size in M.
        "file_size": format!("{:.3}", f.bytes.len() as f64 / (1024.0 * 1024.0)),
        "creator_moid": f.creator.moid,
        "creator_name": f.creator.username,
        "create_time": fmt_time(f.created),
    })
}

/// `POST /meeting_files/{meeting_id}` (multipart, part `file`).
pub(crate) fn upload(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    if !ctx.st.meetings.contains_key(&req.key) {
        return Err(ApiError::new(errors::NO_MEETING));
    }
    let [file] = req.files.as_slice() else {
        return Err(ApiError::new(errors::NO_FILE_PART));
    };
    if file.name.is_empty() || file.data.is_empty() {
        return Err(ApiError::new(errors::NO_FILE_PART));
    }
    if file.data.len() > MAX_FILE_BYTES {
        return Err(ApiError::new(errors::FILE_TOO_LARGE));
    }
    let ext = file.name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let Some(index) = TYPES.iter().position(|t| *t == ext) else {
        return Err(ApiError::new(errors::FILE_TYPE));
    };
    if ctx.st.files.values().filter(|f| f.meeting_id == req.key).count() >= MAX_FILES {
        return Err(ApiError::new(errors::TOO_MANY_FILES));
    }
    let f = MeetingFile {
        file_id: ctx.k.ids.hex32("file"),
        meeting_id: req.key.clone(),
        file_name: file.name.clone(),
        ext,
        type_code: index as u8 + 1,
        creator: ctx.user.clone(),
        created: ctx.now,
        bytes: file.data.clone(),
        md5: Md5::digest(&file.data).into(),
    };
    let out = describe(&f);
    ctx.st.files.insert(f.file_id.clone(), f);
    Ok(payload(json!({"description": "success", "meeting_file": out})))
}

/// `GET /meeting_files/{meeting_id}` (oldest first).
pub(crate) fn list(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    if !ctx.st.meetings.contains_key(&req.key) {
        return Err(ApiError::new(errors::NO_MEETING));
    }
    let mut files: Vec<&MeetingFile> = ctx.st.files.values().filter(|f| f.meeting_id == req.key).collect();
    files.sort_by(|a, b| a.created.total_cmp(&b.created));
    let items: Vec<Value> = files.into_iter().map(describe).collect();
    Ok(payload(json!({"total": items.len(), "meeting_files": items})))
}

/// `DELETE /meeting_files/{file_id}`.
pub(crate) fn delete(ctx: &mut Ctx<'_>, req: &Req) -> ApiResult<Payload> {
    ctx.st.files.remove(&req.key).ok_or_else(|| ApiError::new(errors::NO_FILE))?;
    Ok(done())
}

fn content_type(ext: &str) -> &'static str {
    match ext {
        "txt" => "text/plain; charset=utf-8",
        "pdf" => "application/pdf",
        "jpg" => "image/jpeg",
        "png" => "image/png",
        "bmp" => "image/bmp",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

/// `GET /files/meeting/{file_id}/{name}`.
async fn download(
    State(k): State<Arc<Kedacom>>,
    Path((file_id, _name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(f) = k.with_state(|st, _| st.files.get(&file_id).cloned()) else {
        return (StatusCode::NOT_FOUND, "404 Not Found\n").into_response();
    };
    let body = Arc::new(crate::common::files::FileBody::stored(f.bytes.clone()));
    crate::common::files::serve(body, content_type(&f.ext), &f.file_name, &headers).await
}
