//! Typed access to a JSON request body, with the doc's validation codes:
//! 301 参数为空 for a missing/null/empty required parameter, 300 非法的参数
//! for a present parameter of the wrong type or out of range.

use serde_json::{Map, Value};

use super::errors::{ApiError, ApiResult};

/// The request body object.
pub(crate) struct Body<'a>(pub &'a Map<String, Value>);

impl Body<'_> {
    fn present(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// Optional string (300 if not a string).
    pub(crate) fn opt_str(&self, name: &str) -> ApiResult<Option<&str>> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::detail(300, name)),
        }
    }

    /// Required non-empty string.
    pub(crate) fn str(&self, name: &str) -> ApiResult<&str> {
        match self.opt_str(name)? {
            None | Some("") => Err(ApiError::detail(301, name)),
            Some(s) => Ok(s),
        }
    }

    /// Optional Long: a JSON integer (300 otherwise).
    pub(crate) fn opt_i64(&self, name: &str) -> ApiResult<Option<i64>> {
        match self.present(name) {
            None => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| ApiError::detail(300, name)),
        }
    }

    /// Required Long.
    pub(crate) fn i64(&self, name: &str) -> ApiResult<i64> {
        self.opt_i64(name)?.ok_or_else(|| ApiError::detail(301, name))
    }

    /// Required `meetingUniqueId` (a positive Long).
    pub(crate) fn unique_id(&self) -> ApiResult<u64> {
        u64::try_from(self.i64("meetingUniqueId")?).map_err(|_| ApiError::detail(300, "meetingUniqueId"))
    }

    /// Optional Boolean (300 if not a JSON boolean).
    pub(crate) fn opt_bool(&self, name: &str) -> ApiResult<Option<bool>> {
        match self.present(name) {
            None => Ok(None),
            Some(v) => v.as_bool().map(Some).ok_or_else(|| ApiError::detail(300, name)),
        }
    }

    /// Optional integer given as a JSON number or a numeric string (the
    /// doc declares meeting `type` a String but its example sends 1).
    pub(crate) fn opt_int_or_str(&self, name: &str) -> ApiResult<Option<i64>> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| ApiError::detail(300, name)),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| ApiError::detail(300, name)),
        }
    }
}

/// 4-8 decimal digits (`个人会议短号，4-8位`).
pub(crate) fn valid_short_id(s: &str) -> bool {
    (4..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// Validate `settings` (a JSON object; `controls` an array of objects with
/// `type` audio|video, `state` 0|1, `attendeeOff` 0|1|2, `allowSelfOn`
/// boolean). Stored and echoed as sent.
pub(crate) fn check_settings(settings: &Value) -> ApiResult<()> {
    let bad = |what: &str| ApiError::detail(300, format!("settings.{what}"));
    let obj = settings.as_object().ok_or_else(|| bad("object"))?;
    if let Some(controls) = obj.get("controls").filter(|v| !v.is_null()) {
        for c in controls.as_array().ok_or_else(|| bad("controls"))? {
            let c = c.as_object().ok_or_else(|| bad("controls"))?;
            match c.get("type").and_then(Value::as_str) {
                Some("audio" | "video") => {}
                None => return Err(ApiError::detail(301, "settings.controls[].type")),
                Some(_) => return Err(bad("controls[].type")),
            }
            let int_in = |name: &str, max: i64| match c.get(name).filter(|v| !v.is_null()) {
                None => true,
                Some(v) => v.as_i64().is_some_and(|n| (0..=max).contains(&n)),
            };
            if !int_in("state", 1) {
                return Err(bad("controls[].state"));
            }
            if !int_in("attendeeOff", 2) {
                return Err(bad("controls[].attendeeOff"));
            }
            if c.get("allowSelfOn").is_some_and(|v| !v.is_null() && !v.is_boolean()) {
                return Err(bad("controls[].allowSelfOn"));
            }
        }
    }
    if let Some(scene) = obj.get("scene").filter(|v| !v.is_null()) {
        let roles = scene.get("roleTypes").filter(|v| !v.is_null());
        for r in roles.map(|r| r.as_array().ok_or_else(|| bad("scene.roleTypes"))).transpose()?.into_iter().flatten() {
            let role = r.get("roleType").and_then(Value::as_i64);
            let count = r.get("maxCount").map(|v| v.as_i64().is_some_and(|n| n >= 0)).unwrap_or(true);
            if !matches!(role, Some(1 | 2)) || !count {
                return Err(bad("scene.roleTypes"));
            }
        }
    }
    Ok(())
}

/// Whether the `audio` control of `settings` has the all-off state on.
pub(crate) fn audio_all_mute(settings: &Value) -> bool {
    settings["controls"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "audio" && c["state"].as_i64() == Some(1))
}

/// Nickname rule: at most 10 CJK characters, letters or digits.
pub(crate) fn valid_nickname(s: &str) -> bool {
    let n = s.chars().count();
    (1..=10).contains(&n) && s.chars().all(|c| c.is_ascii_alphanumeric() || ('\u{4e00}'..='\u{9fff}').contains(&c))
}
