//! Request parameters: query string merged with an
//! `application/x-www-form-urlencoded` body, all values as text.

use std::collections::HashMap;

use serde_json::Value;

use super::errors::{ApiError, ApiResult};

/// Merged request parameters (form body values override the query).
#[derive(Debug, Default, Clone)]
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    /// Parse a query string and an optional form body. Keys are trimmed
    /// (one doc example sends `&%20video_resolution=`).
    pub(crate) fn parse(query: Option<&str>, form: Option<&[u8]>) -> Self {
        let mut map = HashMap::new();
        let sources = [query.map(str::as_bytes), form];
        for source in sources.into_iter().flatten() {
            for (k, v) in url::form_urlencoded::parse(source) {
                map.insert(k.trim().to_owned(), v.into_owned());
            }
        }
        Params(map)
    }

    /// A non-empty value.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// A required value (missing or empty: 40002).
    pub(crate) fn req(&self, name: &str) -> ApiResult<&str> {
        self.get(name).ok_or_else(|| ApiError::arg_required(name))
    }

    /// Optional `true`/`false`.
    pub(crate) fn bool(&self, name: &str) -> ApiResult<Option<bool>> {
        self.get(name).map(|v| parse_bool(name, v)).transpose()
    }

    /// Required `true`/`false`.
    pub(crate) fn req_bool(&self, name: &str) -> ApiResult<bool> {
        parse_bool(name, self.req(name)?)
    }

    /// Optional decimal integer.
    pub(crate) fn int(&self, name: &str) -> ApiResult<Option<i64>> {
        self.get(name).map(|v| parse_int(name, v)).transpose()
    }

    /// Required decimal integer.
    pub(crate) fn req_int(&self, name: &str) -> ApiResult<i64> {
        parse_int(name, self.req(name)?)
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

fn parse_bool(name: &str, v: &str) -> ApiResult<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ApiError::arg_invalid(name)),
    }
}

fn parse_int(name: &str, v: &str) -> ApiResult<i64> {
    v.trim().parse().map_err(|_| ApiError::arg_invalid(name))
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
                && ["zorder", "x", "y", "w", "h"].iter().all(|k| o.get(*k).is_none_or(Value::is_number))
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
        let p = Params::parse(Some("a=1&b=true&%20c=x&j=%5B1%5D"), Some(b"a=2&d=%7B%7D".as_slice()));
        assert_eq!(p.req_int("a").unwrap(), 2);
        assert_eq!(p.bool("b").unwrap(), Some(true));
        assert_eq!(p.get("c"), Some("x"));
        assert_eq!(p.json_array("j").unwrap().unwrap().len(), 1);
        assert!(p.json_object("d").unwrap().is_some());
        assert_eq!(p.req("zz").unwrap_err().code, 40002);
        assert_eq!(p.bool("c").unwrap_err().code, 40002);
    }
}
