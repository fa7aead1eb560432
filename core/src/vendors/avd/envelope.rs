//! AVD response envelopes, as the doc really shows them.
//!
//! * the usual `{ret, msg, ...payload}`: `ret` 0 is success, anything else an error code;
//! * `{code, msg, ...}` on `/room/close`, `/room/participate/kick`,
//!   `/room/participate/list`: `code` 200 (or 0) is success;
//! * no envelope at all (`/room/get_statistic`'s counters): success;
//! * `/app/get_token`'s success without `msg`;
//! * trailing commas and `//` comments (see [`crate::json::parse_lenient`]).
//!
//! The payload returned to the caller is the object without its envelope fields.

use crate::json::{as_int, snippet, text};
use serde_json::{Map, Value};
use url::Url;

use crate::endpoint::EndpointSpec;
use crate::json::parse_lenient;
use crate::transport::RawResponse;
use crate::{Error, Result, Vendor};

/// Decode one AVD response into its payload or an [`Error::Api`] / [`Error::Http`] / [`Error::Decode`].
pub fn decode(spec: &EndpointSpec, resp: &RawResponse) -> Result<Map<String, Value>> {
    let value = match parse_lenient(&resp.body) {
        Ok(v) => v,
        Err(_) if !(200..300).contains(&resp.status) => return Err(resp.http_error(Vendor::Avd, spec.id)),
        Err(e) => return Err(decode_error(spec, format!("not JSON ({e}); body starts {:?}", snippet(&resp.body)))),
    };
    let Value::Object(mut map) = value else {
        return Err(decode_error(spec, format!("expected a JSON object, got {}", crate::endpoint::kind(&value))));
    };
    let (code_key, ok_codes): (&str, &[i64]) =
        if map.contains_key("ret") { ("ret", &[0]) } else { ("code", &[0, 200]) };
    match map.get(code_key) {
        Some(code) => {
            let Some(n) = as_int(code) else {
                return Err(decode_error(spec, format!("`{code_key}` is not an integer: {code}")));
            };
            if !ok_codes.contains(&n) {
                let message = map.get("msg").map(text).unwrap_or_default();
                let code = n.to_string();
                return Err(Error::Api {
                    vendor: Vendor::Avd,
                    endpoint: spec.id.to_string(),
                    meaning: super::error_meaning(&code),
                    retryable: super::RETRYABLE_CODES.contains(&code.as_str()),
                    code,
                    message,
                    request_id: None,
                });
            }
            map.remove(code_key);
            map.remove("msg");
        }
        // No envelope (room.get_statistic): the body is the payload.
        None if (200..300).contains(&resp.status) => {}
        None => return Err(resp.http_error(Vendor::Avd, spec.id)),
    }
    Ok(map)
}

/// Make every attachment/player URL in `value` usable from here: relative
/// `/attachment?file=...` links become absolute against `base`; with `rewrite_hosts`
/// (the profile's `rewrite_attachment_urls`), absolute ones naming another host or port
/// (an internal address behind NAT) are re-pointed at `base`'s scheme, host and port.
pub fn resolve_attachment_urls(value: &mut Value, base: &Url, rewrite_hosts: bool) {
    match value {
        Value::String(s) => {
            if let Some(fixed) = resolve_one(s, base, rewrite_hosts) {
                *s = fixed;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| resolve_attachment_urls(v, base, rewrite_hosts)),
        Value::Object(map) => map.values_mut().for_each(|v| resolve_attachment_urls(v, base, rewrite_hosts)),
        _ => {}
    }
}

fn resolve_one(s: &str, base: &Url, rewrite_hosts: bool) -> Option<String> {
    let is_served = |path: &str| path.starts_with("/attachment") || path.starts_with("/videoPlayer");
    if s.starts_with('/') && is_served(s) {
        return base.join(s).ok().map(String::from);
    }
    if !rewrite_hosts {
        return None;
    }
    let mut url = Url::parse(s).ok()?;
    if !matches!(url.scheme(), "http" | "https") || !is_served(url.path()) || same_origin(&url, base) {
        return None;
    }
    url.set_scheme(base.scheme()).ok()?;
    url.set_host(base.host_str()).ok()?;
    url.set_port(base.port()).ok()?;
    // A player URL wraps an attachment URL in its query: fix that one too.
    if url.path().starts_with("/videoPlayer") {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "url" { resolve_one(&v, base, true).unwrap_or(v.into_owned()) } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    Some(url.into())
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
}

fn decode_error(spec: &EndpointSpec, message: String) -> Error {
    Error::Decode { vendor: Vendor::Avd, endpoint: spec.id.to_string(), message }
}

#[cfg(test)]
mod tests;
