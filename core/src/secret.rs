//! Secrets that must never be printed: keys, passwords, pins, tokens.
//!
//! [`Secret`] wraps a string whose `Debug` and `Display` print `***`; the value is
//! reachable only through [`Secret::expose`]. [`redact_url`] hides the values of
//! sensitive query parameters before a URL reaches a log line or an error.
//!
//! Results handed to scripts, Python, C and `meetkit call` have their secret fields (the
//! `SECRET_RESPONSE` list of each vendor's endpoint table, see [`secret_response`]) replaced
//! by [`REDACTED`] unless the caller allows secrets ([`redact_result`]). HTTP error bodies are
//! shown through [`redact_body`]; every value meetkit knows to be secret (a profile's keys,
//! passwords and PINs, tokens seen in results) is remembered ([`remember`]) and replaced in
//! error text and log lines ([`redact_known`], [`RedactingWriter`]).

use std::borrow::Cow;
use std::fmt;
use std::sync::RwLock;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::Vendor;

/// What a secret value is shown as.
pub const REDACTED: &str = "***";

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

/// Names that contain a sensitive part but name identifiers users need: vmr's `conferenceKey`
/// (the meeting number of a recording) and `sipkey` (a room's short number), NetEase's
/// `meetingKey` (the meeting's unique key).
const NOT_SECRET: &[&str] = &["conferencekey", "sipkey", "meetingkey"];

/// Whether a parameter/header name carries a secret (case-insensitive; a PIN is a name that
/// ends in `pin` — `pin`, `host_pin`, `guestPin` — the others anywhere in the name, except the
/// identifiers `conferenceKey`, `sipkey` and `meetingKey`).
pub fn is_sensitive(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    if NOT_SECRET.contains(&name.as_str()) {
        return false;
    }
    name.ends_with("pin") || SENSITIVE_PARTS.iter().any(|p| name.contains(p))
}

/// The response fields of `vendor`'s endpoint `endpoint` that carry secrets, from the
/// `SECRET_RESPONSE` list of the vendor's endpoint table. Each is a path into the decoded
/// result: `/`-separated keys, `key[]` for every element of an array, `*` for any key.
pub fn secret_response(vendor: Vendor, endpoint: &str) -> &'static [&'static str] {
    let table = match vendor {
        Vendor::Avd => crate::vendors::avd::endpoints::SECRET_RESPONSE,
        Vendor::Kedacom => crate::vendors::kedacom::endpoints::SECRET_RESPONSE,
        Vendor::Vmr => crate::vendors::vmr::endpoints::SECRET_RESPONSE,
        Vendor::Netease => crate::vendors::netease::endpoints::SECRET_RESPONSE,
    };
    table.iter().find(|(id, _)| *id == endpoint).map_or(&[], |(_, paths)| paths)
}

/// Replace the secret fields of a result of `vendor`'s `endpoint` ([`secret_response`]) by
/// [`REDACTED`], remembering their values ([`remember`]) so they are also hidden in error text
/// and logs. Empty strings and `null` stay as they are (they say "no password"). Returns
/// whether anything was replaced.
pub fn redact_result(vendor: Vendor, endpoint: &str, result: &mut Value) -> bool {
    let mut replaced = false;
    for path in secret_response(vendor, endpoint) {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        redact_at(result, &segments, &mut replaced);
    }
    replaced
}

fn redact_at(value: &mut Value, path: &[&str], replaced: &mut bool) {
    let Some((first, rest)) = path.split_first() else {
        let secret = match value {
            Value::String(s) if !s.is_empty() && s != REDACTED => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return,
        };
        remember(&secret);
        *value = Value::String(REDACTED.into());
        *replaced = true;
        return;
    };
    let (key, each) = match first.strip_suffix("[]") {
        Some(key) => (key, true),
        None => (*first, false),
    };
    let Value::Object(map) = value else { return };
    let children: Vec<&mut Value> = match key {
        "*" => map.values_mut().collect(),
        key => map.get_mut(key).into_iter().collect(),
    };
    for child in children {
        match (each, child) {
            (true, Value::Array(items)) => items.iter_mut().for_each(|item| redact_at(item, rest, replaced)),
            (true, _) => {}
            (false, child) => redact_at(child, rest, replaced),
        }
    }
}

/// Replace the value of every secret-named field ([`is_sensitive`]), at any depth, by
/// [`REDACTED`] (`null` stays `null`).
pub fn redact_named(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_sensitive(k) && !v.is_null() && !v.is_object() && !v.is_array() {
                    *v = Value::String(REDACTED.into());
                } else {
                    redact_named(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_named),
        _ => {}
    }
}

/// The start of an HTTP body (at most `max_chars` characters), for an error message or a log
/// line, with its secrets hidden: a JSON body has every secret-named field replaced
/// ([`redact_named`]); in any other text the values after secret-looking names (`token=...`,
/// `"password": "..."`) are replaced; and every remembered secret value ([`redact_known`]).
pub fn redact_body(body: &[u8], max_chars: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let shown = match serde_json::from_str::<Value>(text.trim()) {
        Ok(mut json) if json.is_object() || json.is_array() => {
            redact_named(&mut json);
            json.to_string()
        }
        _ => redact_assignments(&text),
    };
    redact_known(&shown).chars().take(max_chars).collect()
}

/// `text` with the value after every secret-looking name followed by `=` or `:` replaced
/// (`token=abc&x=1` → `token=***&x=1`, `"pin": "1234"` → `"pin": "***"`).
fn redact_assignments(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !word(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && word(chars[i]) {
            i += 1;
        }
        let name: String = chars[start..i].iter().collect();
        out.push_str(&name);
        if !is_sensitive(&name) {
            continue;
        }
        // Optional closing quote, spaces, then `=` or `:`, spaces and an opening quote.
        let mut j = i;
        if j < chars.len() && (chars[j] == '"' || chars[j] == '\'') {
            j += 1;
        }
        while j < chars.len() && chars[j] == ' ' {
            j += 1;
        }
        if j >= chars.len() || (chars[j] != '=' && chars[j] != ':') {
            continue;
        }
        j += 1;
        while j < chars.len() && (chars[j] == ' ' || chars[j] == '"' || chars[j] == '\'') {
            j += 1;
        }
        let value_start = j;
        while j < chars.len()
            && !matches!(chars[j], '"' | '\'' | '&' | ',' | ';' | '<' | '}' | ']' | ' ' | '\n' | '\r' | '\t')
        {
            j += 1;
        }
        if j == value_start {
            continue;
        }
        out.extend(&chars[i..value_start]);
        out.push_str(REDACTED);
        i = j;
    }
    out
}

/// Secret values known to this process, longest first.
static KNOWN: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// At most this many values are remembered (the oldest are forgotten first).
const KNOWN_MAX: usize = 4096;

/// Values shorter than this are not remembered: replacing them would hide ordinary text.
const KNOWN_MIN_CHARS: usize = 4;

/// Remember `value` as a secret of this process: [`redact_known`] (used for HTTP error
/// bodies, errors reaching callers and log lines) replaces it from now on. Profile secrets are
/// remembered when a [`crate::Client`] is built; secret result fields when they are redacted.
pub fn remember(value: &str) {
    if value.chars().count() < KNOWN_MIN_CHARS || value == REDACTED {
        return;
    }
    let Ok(mut known) = KNOWN.write() else { return };
    if known.iter().any(|k| k == value) {
        return;
    }
    if known.len() >= KNOWN_MAX {
        known.remove(0);
    }
    known.push(value.to_string());
}

/// `text` with every remembered secret value ([`remember`]) replaced by [`REDACTED`], where it
/// stands on its own: not inside a longer run of letters and digits (the PIN `123456` is
/// hidden in `pin 123456,` but not in the room number `12345123456`).
pub fn redact_known(text: &str) -> Cow<'_, str> {
    let Ok(known) = KNOWN.read() else { return Cow::Borrowed(text) };
    let mut found: Vec<&String> = known.iter().filter(|k| text.contains(k.as_str())).collect();
    if found.is_empty() {
        return Cow::Borrowed(text);
    }
    found.sort_by_key(|k| std::cmp::Reverse(k.len()));
    let mut out = text.to_string();
    for k in found {
        out = replace_standalone(&out, k);
    }
    if out == text {
        return Cow::Borrowed(text);
    }
    Cow::Owned(out)
}

/// `text` with each occurrence of `secret` not preceded or followed by a letter or digit
/// replaced by [`REDACTED`].
fn replace_standalone(text: &str, secret: &str) -> String {
    let alnum_edge = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric());
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(secret) {
        let before = out.chars().next_back().filter(|_| i == 0).or_else(|| rest[..i].chars().next_back());
        let after = rest[i + secret.len()..].chars().next();
        out.push_str(&rest[..i]);
        let joins_before = alnum_edge(before) && secret.starts_with(|c: char| c.is_alphanumeric());
        let joins_after = alnum_edge(after) && secret.ends_with(|c: char| c.is_alphanumeric());
        if joins_before || joins_after {
            out.push_str(secret);
        } else {
            out.push_str(REDACTED);
        }
        rest = &rest[i + secret.len()..];
    }
    out.push_str(rest);
    out
}

/// A writer (for log lines) that replaces every remembered secret value ([`redact_known`])
/// before passing the text on. Each `write` is redacted on its own: log formatters write one
/// whole line per call.
#[derive(Debug)]
pub struct RedactingWriter<W>(pub W);

impl<W: std::io::Write> std::io::Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match std::str::from_utf8(buf) {
            Ok(text) => {
                self.0.write_all(redact_known(text).as_bytes())?;
                Ok(buf.len())
            }
            Err(_) => self.0.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
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

    #[test]
    fn identifiers_named_like_keys_are_not_secrets() {
        for name in ["conferenceKey", "sipkey", "meetingKey"] {
            assert!(!is_sensitive(name), "{name}");
        }
        assert!(is_sensitive("encrypted_key") && is_sensitive("secret_key") && is_sensitive("accountToken"));
    }

    #[test]
    fn every_secret_response_row_names_an_endpoint_of_its_table() {
        for vendor in Vendor::ALL {
            let table = crate::vendors::endpoints(vendor);
            let list = match vendor {
                Vendor::Avd => crate::vendors::avd::endpoints::SECRET_RESPONSE,
                Vendor::Kedacom => crate::vendors::kedacom::endpoints::SECRET_RESPONSE,
                Vendor::Vmr => crate::vendors::vmr::endpoints::SECRET_RESPONSE,
                Vendor::Netease => crate::vendors::netease::endpoints::SECRET_RESPONSE,
            };
            assert!(!list.is_empty(), "{vendor}");
            for (id, paths) in list {
                assert!(table.iter().any(|e| e.id == *id), "{vendor}: {id} is not in the table");
                assert!(!paths.is_empty(), "{vendor} {id}");
            }
        }
    }

    #[test]
    fn results_have_their_listed_fields_redacted() {
        let mut token = serde_json::json!({"token": "tok-1234567", "msg": "success"});
        assert!(redact_result(Vendor::Avd, "app.get_token", &mut token));
        assert_eq!(token, serde_json::json!({"token": "***", "msg": "success"}));
        // The value is remembered: error text and logs hide it from now on.
        assert_eq!(redact_known("HTTP 401: bad tok-1234567"), "HTTP 401: bad ***");

        let mut joined =
            serde_json::json!({"results": {"password": "vmr-pin-654321", "sipkey": "1061", "alias": "a@b"}});
        redact_result(Vendor::Vmr, "meet.check_join", &mut joined);
        assert_eq!(joined, serde_json::json!({"results": {"password": "***", "sipkey": "1061", "alias": "a@b"}}));

        // Arrays, and any key (`*[]`) where the doc does not name the array.
        let mut confs = serde_json::json!({"total": 2, "booked_confs": [
            {"conf_id": "1", "password": "kd-pass-2222", "encrypted_key": 987654321012u64, "encrypted_auth": 1},
            {"conf_id": "2", "password": ""}]});
        redact_result(Vendor::Kedacom, "booked_confs.list", &mut confs);
        assert_eq!(confs["booked_confs"][0]["password"], "***");
        assert_eq!(confs["booked_confs"][0]["encrypted_key"], "***");
        assert_eq!(confs["booked_confs"][0]["encrypted_auth"], 1);
        // An empty password says "no password": kept.
        assert_eq!(confs["booked_confs"][1]["password"], "");
        let mut list = serde_json::json!({"meetingList": [{"meetingId": 5, "password": "ne-pass-7788"}]});
        redact_result(Vendor::Netease, "meeting.list", &mut list);
        assert_eq!(list, serde_json::json!({"meetingList": [{"meetingId": 5, "password": "***"}]}));

        // Endpoints without secrets are untouched.
        let mut room = serde_json::json!({"room_id": "r", "password": "not listed"});
        assert!(!redact_result(Vendor::Avd, "room.read", &mut room));
        assert_eq!(room["password"], "not listed");
    }

    #[test]
    fn http_bodies_are_shown_without_secrets() {
        let json = br#"{"code":401,"token":"abc","nested":{"password":"p1"},"conferenceKey":"1866","msg":"no"}"#;
        let shown = redact_body(json, 200);
        assert!(!shown.contains("abc") && !shown.contains("p1"), "{shown}");
        assert!(shown.contains(r#""token":"***""#) && shown.contains("1866") && shown.contains("no"), "{shown}");

        let text = br#"<html>denied: token=abc123&room=r1; "password": "hunter22", pin:9876</html>"#;
        let shown = redact_body(text, 200);
        assert_eq!(shown, "<html>denied: token=***&room=r1; \"password\": \"***\", pin:***</html>");
        // Cut after redaction: no half secret at the end.
        assert_eq!(redact_body(b"token=abcdefgh", 8), "token=**");
        assert_eq!(redact_body(b"no secrets here", 200), "no secrets here");
    }

    #[test]
    fn remembered_values_are_replaced_longest_first_and_short_ones_ignored() {
        remember("zq-secret-9f");
        remember("zq-secret-9f-longer");
        remember("abc");
        assert_eq!(redact_known("a zq-secret-9f-longer b zq-secret-9f c abc"), "a *** b *** c abc");
        // Only where the value stands on its own.
        remember("918273");
        assert_eq!(redact_known("pin 918273, room 55918273 or 9182734"), "pin ***, room 55918273 or 9182734");
        assert_eq!(redact_known("918273"), "***");
        let mut out = Vec::new();
        std::io::Write::write_all(&mut RedactingWriter(&mut out), b"log zq-secret-9f\n").unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "log ***\n");
    }

    #[test]
    fn errors_lose_remembered_values() {
        remember("err-secret-7731");
        let e = crate::Error::Auth { vendor: Vendor::Vmr, message: "refused err-secret-7731".into() };
        assert_eq!(e.redact_known().to_string(), "vmr: authentication failed: refused ***");
    }
}
