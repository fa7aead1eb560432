//! Request parameters: query string merged with an
//! `application/x-www-form-urlencoded` body (lenient mode only), all values as text.
//!
//! Strict mode reads values exactly as meetkit writes them: keys as sent, booleans as
//! `true`/`false`, integers as plain decimal text. Lenient mode also trims keys (one doc
//! example sends `&%20video_resolution=`) and integer values, and takes booleans in any
//! case or as `1`/`0`.

use std::collections::HashMap;

use serde_json::Value;

use super::errors::{ApiError, ApiResult};

/// Merged request parameters (form body values override the query).
#[derive(Debug, Default, Clone)]
pub(crate) struct Params {
    map: HashMap<String, String>,
    strict: bool,
}

impl Params {
    /// Parse a query string and an optional form body. Lenient mode trims keys
    /// (one doc example sends `&%20video_resolution=`); strict mode keeps them as sent.
    pub(crate) fn parse(query: Option<&str>, form: Option<&[u8]>, strict: bool) -> Self {
        let mut map = HashMap::new();
        let sources = [query.map(str::as_bytes), form];
        for source in sources.into_iter().flatten() {
            for (k, v) in url::form_urlencoded::parse(source) {
                let key = if strict { k.into_owned() } else { k.trim().to_owned() };
                map.insert(key, v.into_owned());
            }
        }
        Params { map, strict }
    }

    /// Strict mode (see the module doc).
    pub(crate) fn strict(&self) -> bool {
        self.strict
    }

    /// A non-empty value.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// A required value (missing or empty: 40002).
    pub(crate) fn req(&self, name: &str) -> ApiResult<&str> {
        self.get(name).ok_or_else(|| ApiError::arg_required(name))
    }

    /// A required value that the doc also spells `alias` somewhere: strict mode takes only
    /// `name` (what meetkit sends), lenient mode either.
    pub(crate) fn req_or_alias(&self, name: &str, alias: &str) -> ApiResult<&str> {
        match self.get(name) {
            Some(v) => Ok(v),
            None if !self.strict => self.get(alias).ok_or_else(|| ApiError::arg_required(name)),
            None => Err(ApiError::arg_required(name)),
        }
    }

    /// Optional `true`/`false`.
    pub(crate) fn bool(&self, name: &str) -> ApiResult<Option<bool>> {
        self.get(name).map(|v| parse_bool(name, v, self.strict)).transpose()
    }

    /// Required `true`/`false`.
    pub(crate) fn req_bool(&self, name: &str) -> ApiResult<bool> {
        parse_bool(name, self.req(name)?, self.strict)
    }

    /// Optional decimal integer.
    pub(crate) fn int(&self, name: &str) -> ApiResult<Option<i64>> {
        self.get(name).map(|v| parse_int(name, v, self.strict)).transpose()
    }

    /// Required decimal integer.
    pub(crate) fn req_int(&self, name: &str) -> ApiResult<i64> {
        parse_int(name, self.req(name)?, self.strict)
    }

    /// Optional integer restricted to `allowed`.
    pub(crate) fn int_in(&self, name: &str, allowed: &[i64]) -> ApiResult<Option<i64>> {
        match self.int(name)? {
            Some(v) if !allowed.contains(&v) => Err(ApiError::arg_invalid(name)),
            other => Ok(other),
        }
    }

    /// Optional text restricted to `allowed`.
    pub(crate) fn one_of(&self, name: &str, allowed: &[&str]) -> ApiResult<Option<&str>> {
        match self.get(name) {
            Some(v) if !allowed.contains(&v) => Err(ApiError::arg_invalid(name)),
            other => Ok(other),
        }
    }

    /// Optional JSON-valued parameter.
    pub(crate) fn json(&self, name: &str) -> ApiResult<Option<Value>> {
        self.get(name).map(|v| serde_json::from_str(v).map_err(|_| ApiError::arg_invalid(name))).transpose()
    }

    /// Optional JSON array parameter.
    pub(crate) fn json_array(&self, name: &str) -> ApiResult<Option<Vec<Value>>> {
        match self.json(name)? {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(_) => Err(ApiError::arg_invalid(name)),
        }
    }

    /// Optional JSON object parameter.
    pub(crate) fn json_object(&self, name: &str) -> ApiResult<Option<Value>> {
        match self.json(name)? {
            Some(v) if !v.is_object() => Err(ApiError::arg_invalid(name)),
            other => Ok(other),
        }
    }
}

/// `true`/`false` (the doc's examples); lenient mode also any case and `1`/`0`.
pub(crate) fn parse_bool(name: &str, v: &str, strict: bool) -> ApiResult<bool> {
    match v {
        "true" => return Ok(true),
        "false" => return Ok(false),
        _ if strict => return Err(ApiError::arg_invalid(name)),
        _ => {}
    }
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(ApiError::arg_invalid(name)),
    }
}

/// Decimal text; lenient mode also with surrounding spaces.
fn parse_int(name: &str, v: &str, strict: bool) -> ApiResult<i64> {
    let v = if strict { v } else { v.trim() };
    if strict && v.starts_with('+') {
        return Err(ApiError::arg_invalid(name));
    }
    v.parse().map_err(|_| ApiError::arg_invalid(name))
}

/// Parse a `width*height` resolution such as `1280*720`.
pub(crate) fn resolution(name: &str, v: &str) -> ApiResult<(i64, i64)> {
    v.split_once('*')
        .and_then(|(w, h)| Some((w.trim().parse().ok()?, h.trim().parse().ok()?)))
        .filter(|(w, h): &(i64, i64)| *w > 0 && *h > 0)
        .ok_or_else(|| ApiError::arg_invalid(name))
}

/// Validate a video layout array: objects with a string `video_name` and
/// numeric `zorder`/`x`/`y`/`w`/`h` where present.
pub(crate) fn check_layout(name: &str, items: &[Value]) -> ApiResult<()> {
    let ok = items.iter().all(|item| {
        item.as_object().is_some_and(|o| {
            o.get("video_name").is_some_and(Value::is_string)
                && ["zorder", "order", "x", "y", "w", "h"].iter().all(|k| o.get(*k).is_none_or(Value::is_number))
        })
    });
    if ok {
        Ok(())
    } else {
        Err(ApiError::arg_invalid(name))
    }
}

/// Validate an `audio_mixer_users` array: `{"user_id": str, "channel": 0|1|2}`.
pub(crate) fn check_mixer_users(name: &str, items: &[Value]) -> ApiResult<()> {
    let ok = items.iter().all(|item| {
        item.as_object().is_some_and(|o| {
            o.get("user_id").is_some_and(Value::is_string)
                && o.get("channel").is_none_or(|c| c.as_i64().is_some_and(|c| (0..=2).contains(&c)))
        })
    });
    if ok {
        Ok(())
    } else {
        Err(ApiError::arg_invalid(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_query_and_form_and_parses_types() {
        let p = Params::parse(Some("a=1&b=true&%20c=x&j=%5B1%5D"), Some(b"a=2&d=%7B%7D".as_slice()), false);
        assert_eq!(p.req_int("a").unwrap(), 2);
        assert_eq!(p.bool("b").unwrap(), Some(true));
        assert_eq!(p.get("c"), Some("x"));
        assert_eq!(p.json_array("j").unwrap().unwrap().len(), 1);
        assert!(p.json_object("d").unwrap().is_some());
        assert_eq!(p.req("zz").unwrap_err().code, 40002);
        assert_eq!(p.bool("c").unwrap_err().code, 40002);
    }

    #[test]
    fn strict_reads_only_what_meetkit_writes() {
        let q = Some("b=True&c=1&i=%207&%20k=v&rs=r1");
        let lenient = Params::parse(q, None, false);
        assert_eq!(lenient.bool("b").unwrap(), Some(true));
        assert_eq!(lenient.bool("c").unwrap(), Some(true));
        assert_eq!(lenient.int("i").unwrap(), Some(7));
        assert_eq!(lenient.get("k"), Some("v"));
        assert_eq!(lenient.req_or_alias("record_id", "rs").unwrap(), "r1");
        let strict = Params::parse(q, None, true);
        assert_eq!(strict.bool("b").unwrap_err().code, 40002);
        assert_eq!(strict.bool("c").unwrap_err().code, 40002);
        assert_eq!(strict.int("i").unwrap_err().code, 40002);
        assert_eq!(strict.get("k"), None);
        assert_eq!(strict.req_or_alias("record_id", "rs").unwrap_err().code, 40002);
        let exact = Params::parse(Some("b=false&i=-7&record_id=r2"), None, true);
        assert_eq!(exact.bool("b").unwrap(), Some(false));
        assert_eq!(exact.int("i").unwrap(), Some(-7));
        assert_eq!(exact.req_or_alias("record_id", "rs").unwrap(), "r2");
    }
}
