//! Recording downloads: `GET /vod/{meetingUniqueId}/{filename}` (the URL
//! `record/list` and callback 7 give) with Content-Length, Content-MD5
//! (RFC 1864, of the body actually sent) and single `Range: bytes=`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::Netease;

/// Chunk size of streamed bodies.
const CHUNK: u64 = 64 * 1024;

/// `bytes=N-`, `bytes=N-M`, `bytes=-N` as `[start, end)`; `None`: ignore
/// the header (serve everything); `Some(Err)`: 416.
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

/// `GET /vod/{meetingUniqueId}/{filename}`.
pub(crate) async fn download(
    State(ne): State<Arc<Netease>>,
    Path((uid, filename)): Path<(u64, String)>,
    headers: HeaderMap,
) -> Response {
    let found = ne.with_state(|st, _| {
        st.recordings
            .iter()
            .find(|r| r.meeting_unique_id == uid && r.filename == filename)
            .map(|r| (r.body.clone(), r.file_type.clone()))
    });
    let Some((body, file_type)) = found else {
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
    let md5_body = body.clone();
    let partial = status == StatusCode::PARTIAL_CONTENT;
    let md5 =
        tokio::task::spawn_blocking(move || if partial { md5_body.md5_range(start, end) } else { md5_body.md5() })
            .await
            .expect("md5 task");
    let stream = futures::stream::unfold(start, move |pos| {
        let body = body.clone();
        async move {
            (pos < end).then(|| {
                let next = (pos + CHUNK).min(end);
                (Ok::<_, std::io::Error>(body.read(pos, next)), next)
            })
        }
    });
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    let content_type = match file_type.as_str() {
        "mp4" => "video/mp4",
        "aac" => "audio/aac",
        _ => "application/octet-stream",
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let md5_b64 = base64::engine::general_purpose::STANDARD.encode(md5);
    h.insert("content-md5", HeaderValue::from_str(&md5_b64).expect("base64"));
    if partial {
        let cr = format!("bytes {start}-{}/{len}", end - 1);
        h.insert(header::CONTENT_RANGE, HeaderValue::from_str(&cr).expect("ascii"));
    }
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
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
