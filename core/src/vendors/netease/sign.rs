//! NetEase signatures (doc 004, 签名验证 and 消息抄送).
//!
//! * Requests: `CheckSum = lowercase_hex(SHA1(AppSecret + Nonce + CurTime))`, `CurTime` in
//!   **seconds**; the body is not covered. See [`request_checksum`].
//! * Callbacks: `CheckSum = lowercase_hex(SHA1(appSecret + nonce + curTime + md5_hex(body)))`,
//!   `curTime` in **milliseconds**, `body` the raw bytes received. See [`callback_checksum`].
//! * `meeting.anonymous_join_info`: `authorization = md5(body.toJsonString()@163)`. See
//!   [`anonymous_authorization`].

use md5::{Digest, Md5};
use sha1::Sha1;

/// Lowercase hex SHA-1 of the concatenation of `parts`.
pub fn sha1_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha1::new();
    for p in parts {
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// Lowercase hex MD5 of `data`.
pub fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

/// The request `CheckSum`: `sha1(AppSecret + Nonce + CurTime)` in lowercase hex (CurTime in seconds).
pub fn request_checksum(app_secret: &str, nonce: &str, cur_time_secs: &str) -> String {
    sha1_hex(&[app_secret.as_bytes(), nonce.as_bytes(), cur_time_secs.as_bytes()])
}

/// The callback `CheckSum`: `sha1(appSecret + nonce + curTime + md5_hex(body))` in lowercase hex,
/// over the raw body bytes (CurTime in milliseconds).
pub fn callback_checksum(app_secret: &str, nonce: &str, cur_time_ms: &str, body: &[u8]) -> String {
    let body_md5 = md5_hex(body);
    sha1_hex(&[app_secret.as_bytes(), nonce.as_bytes(), cur_time_ms.as_bytes(), body_md5.as_bytes()])
}

/// `meeting.anonymous_join_info`'s `authorization` header: the doc writes
/// `md5(body.toJsonString()@163)`; read as the lowercase-hex MD5 of the exact JSON body text
/// followed by the literal `@163` (the doc states no hex case; lowercase like every other digest).
pub fn anonymous_authorization(body_json: &str) -> String {
    md5_hex(format!("{body_json}@163").as_bytes())
}

/// A fresh nonce: 8 digits, the first non-zero (the doc: "random 8-digit positive integer, e.g.
/// 12345678"). The doc does not say whether the server refuses a nonce it has seen; so that no
/// two requests of this process share one (independent random draws would collide after a few
/// thousand requests), nonces are a process-wide sequence from a random start, wrapping within
/// the 90,000,000 eight-digit values.
pub fn nonce() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::OnceLock;
    const LOW: u32 = 10_000_000;
    const SPAN: u32 = 90_000_000;
    static NEXT: OnceLock<AtomicU32> = OnceLock::new();
    let next = NEXT.get_or_init(|| AtomicU32::new(rand::random_range(0..SPAN)));
    let n = next.fetch_add(1, Ordering::Relaxed) % SPAN;
    (LOW + n).to_string()
}

/// Compare two hex digests without leaking where they differ; case-insensitive.
pub fn digest_eq(a: &str, b: &str) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x.to_ascii_lowercase() ^ y.to_ascii_lowercase())) == 0
}

/// Seconds since the Unix epoch of an HTTP `Date` header (IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn parse_http_date(s: &str) -> Option<i64> {
    let t = httpdate::parse_http_date(s.trim()).ok()?;
    t.duration_since(std::time::UNIX_EPOCH).ok().map(|d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalog's `checksum_vectors` (three request vectors, one callback vector).
    #[test]
    fn catalog_checksum_vectors() {
        let requests = [
            ("c8b1f7e0a5d94e2b9f3a", "12345678", "1594639036", "d11e2f261a5c92a42bbd942404fb8948f64fefd7"),
            ("AppSecretExample0001", "87654321", "1700000000", "68ba18c14438b552cebc6905f6ec81ee32aa4444"),
            ("9f86d081884c7d659a2f", "10000001", "1735689600", "e539c95e3e1c367009e5adae76eb5fef8b02f60d"),
        ];
        for (secret, nonce, time, sum) in requests {
            assert_eq!(request_checksum(secret, nonce, time), sum);
        }
        let body = "{\"msgType\":3,\"msgBody\":{\"type\":1,\"meetingId\":\"123456789\",\"meetingUniqueId\":26775,\
                    \"subject\":\"周会\",\"time\":1605857677012,\"reason\":4}}";
        assert_eq!(body.len(), 133);
        assert_eq!(md5_hex(body.as_bytes()), "b11944f3e096c420c8ab8f6d5e3b6c53");
        assert_eq!(
            callback_checksum("c8b1f7e0a5d94e2b9f3a", "a8f3c2d1", "1605857677012", body.as_bytes()),
            "0e1919c33c552474badc0350fc31fcc6d400ddaa"
        );
    }

    #[test]
    fn nonce_is_eight_random_digits() {
        let a = nonce();
        assert!(a.len() == 8 && a.bytes().all(|b| b.is_ascii_digit()) && !a.starts_with('0'), "{a}");
        assert!((0..20).map(|_| nonce()).any(|n| n != a));
    }

    #[test]
    fn nonces_do_not_repeat_within_a_process() {
        let many: std::collections::HashSet<String> = (0..20_000).map(|_| nonce()).collect();
        assert_eq!(many.len(), 20_000);
        assert!(many.iter().all(|n| n.len() == 8 && !n.starts_with('0')));
    }

    #[test]
    fn anonymous_authorization_is_md5_of_body_and_suffix() {
        assert_eq!(anonymous_authorization("{}"), md5_hex(b"{}@163"));
    }

    #[test]
    fn digests_compare_case_insensitively() {
        assert!(digest_eq("0e19AB", "0e19ab"));
        assert!(!digest_eq("0e19ab", "0e19ac"));
        assert!(!digest_eq("0e19ab", "0e19a"));
    }
}
