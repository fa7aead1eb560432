//! Secrets that must never be printed: keys, passwords, pins, tokens.
//!
//! [`Secret`] wraps a string whose `Debug` and `Display` print `***`; the value is
//! reachable only through [`Secret::expose`]. [`redact_url`] hides the values of
//! sensitive query parameters before a URL reaches a log line or an error.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A string that never shows itself in `Debug`, `Display` or logs.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The real value, for putting on the wire. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// In the profile schema a secret is a write-only string: `meetkit profile show` masks it and
/// the reference marks it "never printed".
impl schemars::JsonSchema for Secret {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Secret".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "writeOnly": true})
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// Parts of parameter/header names that mark a secret value, in any vendor
/// (`secret_key`, `account_token`, `CheckSum`, `auth`, `password`, `Set-Cookie`, ...).
const SENSITIVE_PARTS: &[&str] =
    &["token", "secret", "key", "sign", "password", "passwd", "pwd", "auth", "credential", "checksum", "cookie"];

/// Whether a parameter/header name carries a secret (case-insensitive; a PIN is a name that
/// ends in `pin` — `pin`, `host_pin`, `guestPin` — the others anywhere in the name).
pub fn is_sensitive(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.ends_with("pin") || SENSITIVE_PARTS.iter().any(|p| name.contains(p))
}

/// `url` without user info or fragment, and with the values of sensitive query
/// parameters replaced by `***`, for log lines and error messages.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let base = match url::Url::parse(base) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => base.to_string(),
    };
    let Some(query) = query else { return base };
    let query = query.split('#').next().unwrap_or_default();
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if is_sensitive(&percent_encoding::percent_decode_str(k).decode_utf8_lossy()) => {
                format!("{k}=***")
            }
            _ => pair.to_string(),
        })
        .collect();
    format!("{base}?{}", parts.join("&"))
}

/// `path` with every segment that follows a sensitive-looking segment replaced by `***`
/// (`/api/v1/system/token/abc/heartbeat` → `/api/v1/system/token/***/heartbeat`).
pub fn redact_path(path: &str) -> String {
    let mut previous_sensitive = false;
    path.split('/')
        .map(|segment| {
            let out = if previous_sensitive && !segment.is_empty() { "***" } else { segment };
            previous_sensitive = !segment.is_empty() && is_sensitive(segment);
            out
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "\"***\" ***");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn paths_are_redacted_after_sensitive_segments() {
        assert_eq!(redact_path("/api/v1/system/token/abc123/heartbeat"), "/api/v1/system/token/***/heartbeat");
        assert_eq!(redact_path("/api/v1/mc/confs/123"), "/api/v1/mc/confs/123");
        assert_eq!(redact_path("/"), "/");
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("http://h/sdkapi/v2/app/get_token?access_key=a&secret_key=s3cr3t&x=1"),
            "http://h/sdkapi/v2/app/get_token?access_key=***&secret_key=***&x=1"
        );
        assert_eq!(redact_url("http://h/r?token=abc%3D%3D"), "http://h/r?token=***");
        assert_eq!(redact_url("http://h/r"), "http://h/r");
        assert_eq!(
            redact_url("https://u:pw@h/a.mp4?file=/x.mp4&Sign=1&apiKey=2&pin=3#frag"),
            "https://h/a.mp4?file=/x.mp4&Sign=***&apiKey=***&pin=***"
        );
        assert!(!is_sensitive("room_id") && !is_sensitive("ping") && is_sensitive("AppSecret"));
        assert!(is_sensitive("host_pin") && is_sensitive("guestPin") && is_sensitive("joinPwd"));
    }
}
