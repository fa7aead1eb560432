//! Stored files: recordings (deterministic generated content) and
//! uploads, served by `GET /attachment?file=<server path>` with
//! `Content-MD5` and `Range: bytes=` support; `/uploadfile`;
//! `/videoPlayer`.

use std::sync::{Arc, OnceLock};

use axum::extract::{FromRequest, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use base64::Engine;
use bytes::{Bytes, BytesMut};
use md5::{Digest, Md5};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::json;

use super::errors::ApiError;
use super::params::Params;
use super::state::extension;
use super::Avd;

/// Chunk size of streamed file bodies.
const CHUNK: usize = 64 * 1024;
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

enum Data {
    /// Pseudo-random bytes keyed by the file's path.
    Generated { seed: u64, len: u64 },
    /// Uploaded content.
    Stored(Bytes),
}

/// The bytes of a stored file, with a lazily computed MD5.
pub(crate) struct FileBody {
    data: Data,
    md5: OnceLock<[u8; 16]>,
}

impl std::fmt::Debug for FileBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileBody").field("len", &self.len()).finish()
    }
}

impl FileBody {
    /// Deterministic content of `len` bytes derived from `path`.
    pub(crate) fn generated(path: &str, len: u64) -> Self {
        let digest = Md5::digest(path.as_bytes());
        let seed = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"));
        FileBody { data: Data::Generated { seed, len }, md5: OnceLock::new() }
    }

    /// Uploaded content.
    pub(crate) fn stored(bytes: Bytes) -> Self {
        FileBody { data: Data::Stored(bytes), md5: OnceLock::new() }
    }

    /// Size in bytes.
    pub(crate) fn len(&self) -> u64 {
        match &self.data {
            Data::Generated { len, .. } => *len,
            Data::Stored(b) => b.len() as u64,
        }
    }

    /// Bytes `[start, end)`.
    pub(crate) fn read(&self, start: u64, end: u64) -> Bytes {
        match &self.data {
            Data::Stored(b) => b.slice(start as usize..end as usize),
            Data::Generated { seed, .. } => {
                let mut out = BytesMut::with_capacity((end - start) as usize);
                let mut pos = start;
                while pos < end {
                    let block = splitmix64(seed ^ (pos / 8).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                    let bytes = block.to_le_bytes();
                    let from = (pos % 8) as usize;
                    let to = (from + (end - pos) as usize).min(8);
                    out.extend_from_slice(&bytes[from..to]);
                    pos += (to - from) as u64;
                }
                out.freeze()
            }
        }
    }

    /// MD5 of `[start, end)`.
    pub(crate) fn md5_range(&self, start: u64, end: u64) -> [u8; 16] {
        let mut h = Md5::new();
        let mut pos = start;
        while pos < end {
            let next = (pos + CHUNK as u64 * 16).min(end);
            h.update(self.read(pos, next));
            pos = next;
        }
        h.finalize().into()
    }

    /// MD5 of the whole file (computed once).
    pub(crate) fn md5(&self) -> [u8; 16] {
        *self.md5.get_or_init(|| self.md5_range(0, self.len()))
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

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

/// Server root URL as the client reached it (Host header), falling back
/// to the bound address.
pub(crate) fn request_base(headers: &HeaderMap, fallback: &str) -> String {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
        .map(|h| format!("http://{h}"))
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

/// Parse `bytes=N-` / `bytes=N-M` (single range). `None`: ignore header.
fn parse_range(value: &str, len: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        // Suffix range: last N bytes.
        let n: u64 = b.parse().ok()?;
        if n == 0 {
            return Some(Err(()));
        }
        return Some(Ok((len.saturating_sub(n), len)));
    }
    let start: u64 = a.parse().ok()?;
    let end = if b.is_empty() {
        len
    } else {
        let last: u64 = b.parse().ok()?;
        if last < start {
            return None;
        }
        (last + 1).min(len)
    };
    if start >= len {
        return Some(Err(()));
    }
    Some(Ok((start, end)))
}

/// `GET /attachment?file=<server path>`.
pub(crate) async fn attachment(State(avd): State<Arc<Avd>>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let params = Params::parse(query.as_deref(), None);
    let Some(path) = params.get("file").map(str::to_owned) else {
        return (StatusCode::NOT_FOUND, "file not found\n").into_response();
    };
    let Some((body, name)) = avd.with_state(|st, _| st.files.get(&path).map(|f| (f.body.clone(), f.name.clone())))
    else {
        return (StatusCode::NOT_FOUND, "file not found\n").into_response();
    };
    let len = body.len();
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok()).and_then(|v| parse_range(v, len));
    let (status, start, end) = match range {
        None => (StatusCode::OK, 0, len),
        Some(Ok((s, e))) => (StatusCode::PARTIAL_CONTENT, s, e),
        Some(Err(())) => {
            return (StatusCode::RANGE_NOT_SATISFIABLE, [(header::CONTENT_RANGE, format!("bytes */{len}"))])
                .into_response();
        }
    };
    // RFC 1864: the MD5 of the entity body actually sent.
    let md5_body = body.clone();
    let md5 = tokio::task::spawn_blocking(move || {
        if status == StatusCode::OK {
            md5_body.md5()
        } else {
            md5_body.md5_range(start, end)
        }
    })
    .await
    .expect("md5 task");
    let stream = futures::stream::unfold(start, move |pos| {
        let body = body.clone();
        async move {
            (pos < end).then(|| {
                let next = (pos + CHUNK as u64).min(end);
                (Ok::<_, std::io::Error>(body.read(pos, next)), next)
            })
        }
    });
    let mut resp = Response::new(axum::body::Body::from_stream(stream));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&path)));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let md5_b64 = base64::engine::general_purpose::STANDARD.encode(md5);
    h.insert("content-md5", HeaderValue::from_str(&md5_b64).expect("base64"));
    if status == StatusCode::PARTIAL_CONTENT {
        let cr = format!("bytes {start}-{}/{len}", end - 1);
        h.insert(header::CONTENT_RANGE, HeaderValue::from_str(&cr).expect("ascii"));
    }
    let disposition = format!("attachment; filename*=UTF-8''{}", utf8_percent_encode(&name, NON_ALPHANUMERIC));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// `GET /videoPlayer?url=...`: a minimal HTML5 player page.
pub(crate) async fn video_player(RawQuery(query): RawQuery) -> Html<String> {
    let params = Params::parse(query.as_deref(), None);
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

/// `POST /uploadfile` (multipart: `file`, `path`, `storage_only_cluster`;
/// the latter two may also come in the query).
pub(crate) async fn upload(State(avd): State<Arc<Avd>>, req: Request) -> Response {
    let query = Params::parse(req.uri().query(), None);
    let base = request_base(req.headers(), &avd.base_url);
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
        Some(c) if c.eq_ignore_ascii_case("true") => true,
        Some(c) if c.eq_ignore_ascii_case("false") => false,
        Some(_) => return upload_error(ApiError::new(10910)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_content_is_deterministic_and_random_access() {
        let a = FileBody::generated("/x/y.mp4", 1000);
        let b = FileBody::generated("/x/y.mp4", 1000);
        assert_eq!(a.read(0, 1000), b.read(0, 1000));
        let whole = a.read(0, 1000);
        assert_eq!(a.read(13, 501), whole.slice(13..501));
        assert_eq!(a.md5(), <[u8; 16]>::from(Md5::digest(&whole)));
        assert_ne!(FileBody::generated("/x/z.mp4", 1000).read(0, 1000), whole);
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=10-", 100), Some(Ok((10, 100))));
        assert_eq!(parse_range("bytes=10-19", 100), Some(Ok((10, 20))));
        assert_eq!(parse_range("bytes=-5", 100), Some(Ok((95, 100))));
        assert_eq!(parse_range("bytes=100-", 100), Some(Err(())));
        assert_eq!(parse_range("bytes=1-2,4-5", 100), None);
        assert_eq!(parse_range("items=1-2", 100), None);
    }
}
