//! NetEase checksums: the request rule `sha1(AppSecret + Nonce + CurTime)`,
//! the callback rule `sha1(appSecret + nonce + curTime + md5(body))` and
//! the `anonymousJoinInfo` body signature `md5(body + "@163")`; all as
//! lowercase hex over UTF-8 bytes.

use md5::{Digest, Md5};
use sha1::Sha1;

/// Lowercase hex SHA-1 of `s`.
fn sha1_hex(s: &str) -> String {
    hex::encode(Sha1::digest(s.as_bytes()))
}

/// Lowercase hex MD5 of `bytes`.
pub(crate) fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

/// Request CheckSum (签名验证): the body is not covered.
pub(crate) fn request_checksum(app_secret: &str, nonce: &str, cur_time: &str) -> String {
    sha1_hex(&format!("{app_secret}{nonce}{cur_time}"))
}

/// Callback CheckSum (消息抄送): `cur_time` is in milliseconds.
pub(crate) fn callback_checksum(app_secret: &str, nonce: &str, cur_time: &str, body: &[u8]) -> String {
    sha1_hex(&format!("{app_secret}{nonce}{cur_time}{}", md5_hex(body)))
}

/// `authorization` header of `anonymousJoinInfo`: `md5(body.toJsonString()@163)`,
/// read as the MD5 of the raw body string followed by the literal `@163`.
pub(crate) fn anonymous_authorization(body: &[u8]) -> String {
    let mut data = body.to_vec();
    data.extend_from_slice(b"@163");
    md5_hex(&data)
}

/// Compare a presented checksum with the expected one (hex case ignored,
/// the doc asks for lowercase but hex digits are case-insensitive).
pub(crate) fn checksum_matches(presented: &str, expected: &str) -> bool {
    presented.len() == expected.len() && presented.eq_ignore_ascii_case(expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalog's `checksum_vectors`.
    #[test]
    fn request_vectors() {
        let vectors = [
            ("c8b1f7e0a5d94e2b9f3a", "12345678", "1594639036", "d11e2f261a5c92a42bbd942404fb8948f64fefd7"),
            ("AppSecretExample0001", "87654321", "1700000000", "68ba18c14438b552cebc6905f6ec81ee32aa4444"),
            ("9f86d081884c7d659a2f", "10000001", "1735689600", "e539c95e3e1c367009e5adae76eb5fef8b02f60d"),
        ];
        for (secret, nonce, cur, sum) in vectors {
            assert_eq!(request_checksum(secret, nonce, cur), sum);
            assert!(checksum_matches(&sum.to_uppercase(), &request_checksum(secret, nonce, cur)));
        }
    }

    #[test]
    fn callback_vector() {
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
    fn anonymous_authorization_appends_suffix() {
        assert_eq!(anonymous_authorization(b"{}"), md5_hex(b"{}@163"));
    }
}
