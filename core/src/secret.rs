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

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// Query parameter names whose values are secrets, in any vendor.
pub const SENSITIVE_KEYS: &[&str] = &[
    "token",
    "access_token",
    "account_token",
    "secret_key",
    "secret",
    "password",
    "pin",
    "auth",
    "appsecret",
    "app_secret",
    "checksum",
    "oauth_consumer_secret",
];

/// Whether a parameter/header name carries a secret.
pub fn is_sensitive(name: &str) -> bool {
    SENSITIVE_KEYS.iter().any(|k| k.eq_ignore_ascii_case(name))
}

/// `url` with the values of sensitive query parameters replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else { return url.to_string() };
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if is_sensitive(k) => format!("{k}=***"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{base}?{}", parts.join("&"))
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
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("http://h/sdkapi/v2/app/get_token?access_key=a&secret_key=s3cr3t&x=1"),
            "http://h/sdkapi/v2/app/get_token?access_key=a&secret_key=***&x=1"
        );
        assert_eq!(redact_url("http://h/r?token=abc%3D%3D"), "http://h/r?token=***");
        assert_eq!(redact_url("http://h/r"), "http://h/r");
    }
}
