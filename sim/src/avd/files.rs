//! Stored files: recordings (deterministic generated content) and
//! uploads, served by `GET /attachment?file=<server path>` with
//! `Content-MD5` and `Range: bytes=` support; `/uploadfile`;
//! `/videoPlayer`.

use std::sync::Arc;

use axum::extract::{FromRequest, RawQuery, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::json;

use super::errors::ApiError;
use super::params::Params;
use super::state::extension;
use super::Avd;
pub(crate) use crate::common::files::FileBody;

/// Upload size limit without `storage_only_cluster` (doc: <= 50M).
pub(crate) const UPLOAD_LIMIT: usize = 50 * 1024 * 1024;
/// nginx `client_max_body_size` default quoted by the doc (200m).
pub(crate) const BODY_LIMIT: usize = 200 * 1024 * 1024;
/// Default upload directory (doc: /opt/3tee/resources).
const UPLOAD_DIR: &str = "/opt/3tee/resources";
/// Upload types the doc allows.
const UPLOAD_TYPES: [&str; 5] = ["png", "jpg", "mp3", "mp4", "avi"];

/// Characters left raw in `file=` query values (paths stay readable).
const PATH_SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// A file on the simulated server.
#[derive(Debug, Clone)]
pub(crate) struct StoredFile {
    /// Absolute server path (the `file=` value).
    pub path: String,
    /// File name as listed by the API.
    pub name: String,
    /// Extension, e.g. `mp4`.
    pub file_type: String,
    pub room_id: Option<String>,
    pub record_id: Option<String>,
    /// Recording start/end (virtual Unix seconds); upload time for uploads.
    pub start: f64,
    pub end: f64,
    /// Recorded seconds (0 for uploads).
    pub duration: f64,
    pub body: Arc<FileBody>,
}

/// `<base>/attachment?file=<path>`.
pub(crate) fn download_url(base: &str, path: &str) -> String {
    format!("{base}/attachment?file={}", utf8_percent_encode(path, PATH_SET))
}

/// `<base>/videoPlayer?url=<download url>` (as in the doc, not encoded).
pub(crate) fn play_url(base: &str, download_url: &str) -> String {
    format!("{base}/videoPlayer?url={download_url}")
}

/// `"40.005s"`.
pub(crate) fn fmt_duration(secs: f64) -> String {
    format!("{secs:.3}s")
}

/// `"3.484M"` (MiB, three decimals).
pub(crate) fn fmt_size(bytes: u64) -> String {
    format!("{:.3}M", bytes as f64 / (1024.0 * 1024.0))
}

/// Root URL of produced file URLs: the configured `attachment_base`, else the server
/// root as the client reached it.
pub(crate) fn file_base(avd: &Avd, headers: &HeaderMap) -> String {
    match &avd.opts.attachment_base {
        Some(base) => base.trim_end_matches('/').to_owned(),
        None => request_base(headers, &avd.base_url),
    }
}

/// Server root URL as the client reached it (Host header), falling back
/// to the bound address; the scheme is the bound address's (https under `--tls`).
pub(crate) fn request_base(headers: &HeaderMap, fallback: &str) -> String {
    let scheme = if fallback.starts_with("https://") { "https" } else { "http" };
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
        .map(|h| format!("{scheme}://{h}"))
        .unwrap_or_else(|| fallback.to_owned())
}

fn content_type(path: &str) -> &'static str {
    match extension(path).as_str() {
        "mp4" => "video/mp4",
        "mp3" => "audio/mpeg",
        "avi" => "video/x-msvideo",
        "webm" => "video/webm",
        "png" => "image/png",
        "jpg" => "image/jpeg",
        _ => "application/octet-stream",
    }
}

/// `GET /attachment?file=<server path>`.
pub(crate) async fn attachment(State(avd): State<Arc<Avd>>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let params = Params::parse(query.as_deref(), None, avd.strict);
    let Some(path) = params.get("file").map(str::to_owned) else {
        return (StatusCode::NOT_FOUND, "file not found\n").into_response();
    };
    let Some((body, name)) = avd.with_state(|st, _| st.files.get(&path).map(|f| (f.body.clone(), f.name.clone())))
    else {
        return (StatusCode::NOT_FOUND, "file not found\n").into_response();
    };
    crate::common::files::serve(body, content_type(&path), &name, &headers).await
}

/// `GET /videoPlayer?url=...`: a minimal HTML5 player page.
pub(crate) async fn video_player(RawQuery(query): RawQuery) -> Html<String> {
    let params = Params::parse(query.as_deref(), None, false);
    let url = params.get("url").unwrap_or_default();
    let escaped = url.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;");
    Html(format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>videoPlayer</title></head>\
         <body><video controls autoplay src=\"{escaped}\"></video></body></html>\n"
    ))
}

fn upload_error(e: ApiError) -> Response {
    Json(json!({"ret": e.code, "msg": e.msg})).into_response()
}

/// `POST /uploadfile`: multipart with the file in the `file` part; `path` and
/// `storage_only_cluster` in the query string (the doc: "参数格式为Parmas"). Lenient mode
/// also takes those two as multipart fields; strict mode refuses such a field with 10910
/// ("上传文件信息错误, 请求体存放错误": upload info error, misplaced in the request body).
pub(crate) async fn upload(State(avd): State<Arc<Avd>>, req: Request) -> Response {
    let query = Params::parse(req.uri().query(), None, avd.strict);
    let base = file_base(&avd, req.headers());
    let mut dir = query.get("path").map(str::to_owned);
    let mut cluster = query.get("storage_only_cluster").map(str::to_owned);
    let mut file: Option<(String, Bytes)> = None;

    let Ok(mut multipart) = axum::extract::Multipart::from_request(req, &()).await else {
        return upload_error(ApiError::new(10910));
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return (StatusCode::PAYLOAD_TOO_LARGE, "413 Request Entity Too Large\n").into_response();
            }
            Err(_) => return upload_error(ApiError::new(10910)),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let data = match field.bytes().await {
            Ok(d) => d,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return (StatusCode::PAYLOAD_TOO_LARGE, "413 Request Entity Too Large\n").into_response();
            }
            Err(_) => return upload_error(ApiError::new(10913)),
        };
        match name.as_str() {
            "file" => file = filename.map(|f| (f, data)),
            "path" | "storage_only_cluster" if avd.strict => return upload_error(ApiError::new(10910)),
            "path" => dir = Some(String::from_utf8_lossy(&data).trim().to_owned()),
            "storage_only_cluster" => cluster = Some(String::from_utf8_lossy(&data).trim().to_owned()),
            _ => {}
        }
    }
    let Some((filename, data)) = file else {
        return upload_error(ApiError::new(10911));
    };
    // Keep only the last path component of the client's file name.
    let filename = filename.rsplit(['/', '\\']).next().unwrap_or_default().to_owned();
    if filename.is_empty() || data.is_empty() {
        return upload_error(ApiError::new(10911));
    }
    let ext = extension(&filename);
    if !UPLOAD_TYPES.contains(&ext.as_str()) {
        // The doc's failure example: {"ret":10911,"msg":"not support file type: crx"}.
        return upload_error(ApiError::msg(10911, format!("not support file type: {ext}")));
    }
    let cluster = match cluster.as_deref().filter(|c| !c.is_empty()) {
        None => false,
        Some(c) => match super::params::parse_bool("storage_only_cluster", c, avd.strict) {
            Ok(b) => b,
            Err(_) => return upload_error(ApiError::new(10910)),
        },
    };
    if data.len() > UPLOAD_LIMIT && !cluster {
        return upload_error(ApiError::msg(
            10912,
            "文件存储失败: file larger than 50M requires storage_only_cluster=true",
        ));
    }
    let dir = dir.filter(|d| !d.is_empty()).unwrap_or_else(|| UPLOAD_DIR.into());
    if !dir.starts_with('/') || dir.split('/').any(|c| c == "..") {
        return upload_error(ApiError::msg(10912, "文件存储失败: path must be absolute"));
    }
    let path = format!("{}/{}", dir.trim_end_matches('/'), filename);
    let url = download_url(&base, &path);
    avd.with_state(|st, now| {
        st.files.insert(
            path.clone(),
            StoredFile {
                path: path.clone(),
                name: filename.clone(),
                file_type: ext.clone(),
                room_id: None,
                record_id: None,
                start: now,
                end: now,
                duration: 0.0,
                body: Arc::new(FileBody::stored(data)),
            },
        );
    });
    Json(json!({"ret": 0, "msg": "success", "download_url": url})).into_response()
}
