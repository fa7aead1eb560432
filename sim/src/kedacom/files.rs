//! Meeting files: multipart upload (one file, <= 20 MB, <= 10 per
//! meeting, 13 documented types), list, delete, and download of the real
//! bytes at the relative `file_url` with Content-Length, Content-MD5
//! (RFC 1864) and single-range `Range` support.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
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

/// Parse `bytes=N-`, `bytes=N-M`, `bytes=-N` (single range). `None`:
/// ignore the header; `Some(Err)`: unsatisfiable.
fn parse_range(value: &str, len: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        return Some(if n == 0 || len == 0 { Err(()) } else { Ok((len.saturating_sub(n), len)) });
    }
    let start: u64 = a.parse().ok()?;
    let end = match b {
        "" => len,
        b => {
            let last: u64 = b.parse().ok()?;
            if last < start {
                return None;
            }
            (last + 1).min(len)
        }
    };
    Some(if start >= len { Err(()) } else { Ok((start, end)) })
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
    let len = f.bytes.len() as u64;
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok()).and_then(|v| parse_range(v, len));
    let (status, start, end) = match range {
        None => (StatusCode::OK, 0, len),
        Some(Ok((s, e))) => (StatusCode::PARTIAL_CONTENT, s, e),
        Some(Err(())) => {
            return (StatusCode::RANGE_NOT_SATISFIABLE, [(header::CONTENT_RANGE, format!("bytes */{len}"))])
                .into_response();
        }
    };
    let body = f.bytes.slice(start as usize..end as usize);
    // RFC 1864: the MD5 of the entity body actually sent.
    let md5: [u8; 16] = if status == StatusCode::OK { f.md5 } else { Md5::digest(&body).into() };
    let mut resp = Response::new(axum::body::Body::from(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&f.ext)));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let md5_b64 = base64::engine::general_purpose::STANDARD.encode(md5);
    h.insert("content-md5", HeaderValue::from_str(&md5_b64).expect("base64"));
    if status == StatusCode::PARTIAL_CONTENT {
        let cr = format!("bytes {start}-{}/{len}", end - 1);
        h.insert(header::CONTENT_RANGE, HeaderValue::from_str(&cr).expect("ascii"));
    }
    let disposition = format!("attachment; filename*=UTF-8''{}", utf8_percent_encode(&f.file_name, NON_ALPHANUMERIC));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=10-", 100), Some(Ok((10, 100))));
        assert_eq!(parse_range("bytes=10-19", 100), Some(Ok((10, 20))));
        assert_eq!(parse_range("bytes=-5", 100), Some(Ok((95, 100))));
        assert_eq!(parse_range("bytes=100-", 100), Some(Err(())));
        assert_eq!(parse_range("bytes=1-2,4-5", 100), None);
    }
}
