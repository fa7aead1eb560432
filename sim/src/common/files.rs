//! Files served by the simulators (recordings, uploads): deterministic or stored bytes
//! with a lazily computed MD5, streamed with `Content-Length`, `Content-MD5` (RFC 1864, of
//! the bytes actually sent) and single-range `Range: bytes=` support — one implementation
//! for every vendor.

use std::sync::{Arc, OnceLock};

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::{Bytes, BytesMut};
use md5::{Digest, Md5};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

/// Chunk size of streamed file bodies.
const CHUNK: usize = 64 * 1024;

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

/// Parse `bytes=N-`, `bytes=N-M` or `bytes=-N` (a single range). `None`: ignore the
/// header; `Some(Err)`: unsatisfiable.
fn parse_range(value: &str, len: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        // Suffix range: the last N bytes.
        let n: u64 = b.parse().ok()?;
        return Some(if n == 0 || len == 0 { Err(()) } else { Ok((len.saturating_sub(n), len)) });
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
    Some(if start >= len { Err(()) } else { Ok((start, end)) })
}

/// Serve `body` as a download named `file_name`, honouring `Range` in `headers`.
pub(crate) async fn serve(body: Arc<FileBody>, content_type: &str, file_name: &str, headers: &HeaderMap) -> Response {
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
    let partial = status == StatusCode::PARTIAL_CONTENT;
    let md5 =
        tokio::task::spawn_blocking(move || if partial { md5_body.md5_range(start, end) } else { md5_body.md5() })
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
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let md5_b64 = base64::engine::general_purpose::STANDARD.encode(md5);
    h.insert("content-md5", HeaderValue::from_str(&md5_b64).expect("base64"));
    if partial {
        let cr = format!("bytes {start}-{}/{len}", end - 1);
        h.insert(header::CONTENT_RANGE, HeaderValue::from_str(&cr).expect("ascii"));
    }
    let disposition = format!("attachment; filename*=UTF-8''{}", utf8_percent_encode(file_name, NON_ALPHANUMERIC));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

#[cfg(test)]
mod avd_tests {
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

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-", 10), Some(Ok((0, 10))));
        assert_eq!(parse_range("bytes=2-4", 10), Some(Ok((2, 5))));
        assert_eq!(parse_range("bytes=-3", 10), Some(Ok((7, 10))));
        assert_eq!(parse_range("bytes=8-100", 10), Some(Ok((8, 10))));
        assert_eq!(parse_range("bytes=10-", 10), Some(Err(())));
        assert_eq!(parse_range("bytes=-0", 10), Some(Err(())));
        assert_eq!(parse_range("bytes=5-2", 10), None);
        assert_eq!(parse_range("bytes=0-1,3-4", 10), None);
        assert_eq!(parse_range("items=0-1", 10), None);
    }
}
