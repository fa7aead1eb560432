//! Kedacom-specific checks, run after [`crate::endpoint::EndpointSpec::validate`] and
//! before anything is sent:
//!
//! * enumerated values ([`super::endpoints::ENUM_PARAMS`]): flags and enums are integers
//!   from the documented set (`account_type` has no 2/3, `call_mode` is 0/2, ...);
//! * times ([`super::endpoints::TIME_PARAMS`]) are ISO 8601 with an offset
//!   (`2020-07-24T15:30:00+08:00`, the doc's 'ISO8601:2000标准');
//! * conditional requirements the doc states in prose: `confs.create`'s '*' fields for
//!   instant conferences only, `template_id` otherwise; `mt_supported_protocol` for
//!   `conf_type` 4; `mix.members` for custom mixing; `vmp.members[].name/account/account_type`
//!   for `member_type` 1.
//!
//! Every error is [`Error::InvalidParams`] naming the parameter path (`vmp.members[1].name`).

use serde_json::{Map, Value};

use super::endpoints::{Allowed, CONFS_CREATE_INSTANT_REQUIRED, ENUM_PARAMS, TIME_PARAMS};
use crate::endpoint::EndpointSpec;
use crate::{Error, Result, Vendor};

/// Check `params` of `spec` beyond types and required fields (see the module docs).
pub fn check(spec: &EndpointSpec, params: &Map<String, Value>) -> Result<()> {
    for (_, path, allowed) in ENUM_PARAMS.iter().filter(|(id, _, _)| *id == spec.id) {
        for (at, value) in collect(params, path) {
            check_enum(spec, &at, value, allowed)?;
        }
    }
    for (_, path) in TIME_PARAMS.iter().filter(|(id, _)| *id == spec.id) {
        for (at, value) in collect(params, path) {
            match value.as_str() {
                Some(s) if is_iso8601_with_offset(s) => {}
                _ => {
                    return Err(invalid(
                        spec,
                        &at,
                        format!(
                            "expected an ISO 8601 time with an offset, e.g. 2020-07-24T15:30:00+08:00; got {value}"
                        ),
                    ))
                }
            }
        }
    }
    if spec.id == "confs.create" {
        // Doc (confs.create 说明): the '*' marks apply to create_type 1; for other create types
        // template_id is required and everything else is optional.
        let create_type = params.get("create_type").and_then(Value::as_i64).unwrap_or(1);
        if create_type == 1 {
            for name in CONFS_CREATE_INSTANT_REQUIRED {
                require(spec, params, name, "for an instant conference (create_type 1, the default)")?;
            }
        } else {
            require(spec, params, "template_id", &format!("when create_type is {create_type}"))?;
        }
    }
    if params.get("conf_type").and_then(Value::as_i64) == Some(4) && spec.param("mt_supported_protocol").is_some() {
        require(spec, params, "mt_supported_protocol", "when conf_type is 4 (auto)")?;
    }
    if let Some(Value::Object(mix)) = params.get("mix") {
        if mix.get("mode").and_then(Value::as_i64) == Some(2) && spec.param("mix").is_some_and(|p| p.children.len() > 1)
        {
            require_at(spec, mix, "mix.", "members", "for custom mixing (mix.mode 2)")?;
        }
    }
    if let Some(Value::Array(members)) = params.get("vmp").and_then(|v| v.get("members")) {
        for (i, m) in members.iter().enumerate() {
            if let Some(m) = m.as_object().filter(|m| m.get("member_type").and_then(Value::as_i64) == Some(1)) {
                for name in ["name", "account", "account_type"] {
                    require_at(spec, m, &format!("vmp.members[{i}]."), name, "when member_type is 1")?;
                }
            }
        }
    }
    Ok(())
}

/// Every value at dotted `path` in `params`, with its concrete path; arrays on the way
/// (and an array at the end) are walked element by element.
fn collect<'a>(params: &'a Map<String, Value>, path: &str) -> Vec<(String, &'a Value)> {
    let segs: Vec<&str> = path.split('.').collect();
    let mut out = Vec::new();
    if let Some(v) = params.get(segs[0]).filter(|v| !v.is_null()) {
        walk(v, &segs[1..], segs[0].to_string(), &mut out);
    }
    out
}

fn walk<'a>(v: &'a Value, segs: &[&str], at: String, out: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, segs, format!("{at}[{i}]"), out);
            }
        }
        Value::Object(m) if !segs.is_empty() => {
            if let Some(child) = m.get(segs[0]).filter(|c| !c.is_null()) {
                walk(child, &segs[1..], format!("{at}.{}", segs[0]), out);
            }
        }
        _ if segs.is_empty() => out.push((at, v)),
        _ => {}
    }
}

fn check_enum(spec: &EndpointSpec, at: &str, value: &Value, allowed: &Allowed) -> Result<()> {
    let ok = match allowed {
        Allowed::Ints(values) => value.as_i64().is_some_and(|n| values.iter().any(|(v, _)| *v == n)),
        Allowed::Strs(values) => value.as_str().is_some_and(|s| values.iter().any(|(v, _)| *v == s)),
    };
    if ok {
        return Ok(());
    }
    let choices: Vec<String> = match allowed {
        Allowed::Ints(values) => values.iter().map(|(v, label)| format!("{v} ({label})")).collect(),
        Allowed::Strs(values) => values.iter().map(|(v, label)| format!("\"{v}\" ({label})")).collect(),
    };
    Err(invalid(spec, at, format!("expected one of {}; got {value}", choices.join(", "))))
}

fn require(spec: &EndpointSpec, params: &Map<String, Value>, name: &str, when: &str) -> Result<()> {
    require_at(spec, params, "", name, when)
}

fn require_at(spec: &EndpointSpec, map: &Map<String, Value>, prefix: &str, name: &str, when: &str) -> Result<()> {
    match map.get(name) {
        None | Some(Value::Null) => Err(invalid(spec, &format!("{prefix}{name}"), format!("required {when}"))),
        Some(Value::String(s)) if s.is_empty() && name == "template_id" => {
            Err(invalid(spec, &format!("{prefix}{name}"), format!("must not be empty {when}")))
        }
        _ => Ok(()),
    }
}

fn invalid(spec: &EndpointSpec, param: &str, reason: String) -> Error {
    Error::InvalidParams { vendor: Vendor::Kedacom, endpoint: spec.id.to_string(), param: param.to_string(), reason }
}

/// `YYYY-MM-DDTHH:MM[:SS[.fff]]` followed by `Z` or `±HH:MM` (or `±HHMM`), with real
/// calendar dates (leap years included).
pub fn is_iso8601_with_offset(s: &str) -> bool {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let part = b.get(from..from + len)?;
        part.iter().all(u8::is_ascii_digit).then(|| part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let (Some(year), Some(month), Some(day)) = (num(0, 4), num(5, 2), num(8, 2)) else { return false };
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || b.get(10) != Some(&b'T') {
        return false;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    let (Some(hour), Some(minute)) = (num(11, 2), num(14, 2)) else { return false };
    if day == 0 || day > days || b.get(13) != Some(&b':') || hour > 23 || minute > 59 {
        return false;
    }
    let mut i = 16;
    if b.get(i) == Some(&b':') {
        match num(i + 1, 2) {
            Some(sec) if sec <= 60 => i += 3,
            _ => return false,
        }
        if b.get(i) == Some(&b'.') {
            let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return false;
            }
            i += 1 + digits;
        }
    }
    match &b[i..] {
        [b'Z'] => true,
        [sign, h1, h2, b':', m1, m2] | [sign, h1, h2, m1, m2] if matches!(sign, b'+' | b'-') => {
            let digits = [*h1, *h2, *m1, *m2];
            digits.iter().all(u8::is_ascii_digit)
                && u32::from(h1 - b'0') * 10 + u32::from(h2 - b'0') <= 14
                && u32::from(m1 - b'0') * 10 + u32::from(m2 - b'0') <= 59
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::kedacom::endpoints::ENDPOINTS;
    use serde_json::json;

    fn spec(id: &str) -> &'static EndpointSpec {
        ENDPOINTS.iter().find(|e| e.id == id).unwrap()
    }

    /// Table validation plus the Kedacom checks, as the client runs them.
    fn full(id: &str, params: Value) -> Result<()> {
        spec(id).validate(&params)?;
        check(spec(id), params.as_object().unwrap())
    }

    fn err(id: &str, params: Value) -> (String, String) {
        match full(id, params) {
            Err(Error::InvalidParams { param, reason, .. }) => (param, reason),
            other => panic!("{id}: expected InvalidParams, got {other:?}"),
        }
    }

    /// The doc's request examples (`params示例`) pass every check.
    #[test]
    fn doc_params_examples_are_valid() {
        let examples: Vec<Value> = serde_json::from_str(include_str!("testdata/doc_examples.json")).unwrap();
        let mut checked = 0;
        for ex in examples.iter().filter(|e| e["kind"] == "params") {
            let id = ex["endpoint"].as_str().unwrap();
            let mut params: Value = serde_json::from_str(ex["body"].as_str().unwrap()).unwrap();
            if id.ends_with(".update") {
                let key = spec(id).params.iter().find(|p| p.at == crate::endpoint::ParamIn::Path).unwrap().name;
                params[key] = json!("123#456");
            }
            full(id, params).unwrap_or_else(|e| panic!("{id}: {e}"));
            checked += 1;
        }
        assert_eq!(checked, 5);
    }

    #[test]
    fn enums_outside_the_documented_set_are_refused_with_their_path() {
        let (param, reason) = err("meetings.list", json!({"state": 4}));
        assert_eq!(param, "state");
        assert!(
            reason.contains("expected one of 1 (booked), 2 (started), 3 (ended), 6 (pending approval)"),
            "{reason}"
        );
        assert!(reason.ends_with("got 4"), "{reason}");
        let mut p = booked();
        p["vmp"] = json!({"mode": 1, "layout": 23, "voice_hint": 0, "broadcast": 1, "show_mt_name": 0,
                          "members": [{"member_type": 2, "chn_idx": 0},
                                      {"member_type": 1, "chn_idx": 1, "name": "a", "account": "a", "account_type": 2}]});
        assert_eq!(err("booked_confs.create", p).0, "vmp.members[1].account_type");
        let mut p = booked();
        p["audio_formats"] = json!([1, 14]);
        assert_eq!(err("booked_confs.create", p).0, "audio_formats[1]");
        let mut p = booked();
        p["mt_supported_protocol"] = json!(["rtc", "webrtc"]);
        let (param, reason) = err("booked_confs.create", p);
        assert_eq!(param, "mt_supported_protocol[1]");
        assert!(reason.contains("\"h323\" (H.323)"), "{reason}");
        // Flags are integers, not booleans (the table's type check).
        let mut p = booked();
        p["mute"] = json!(true);
        assert_eq!(err("booked_confs.create", p).0, "mute");
        // call_mode is 0 or 2.
        let mut p = booked();
        p["call_mode"] = json!(1);
        assert_eq!(err("booked_confs.create", p).0, "call_mode");
    }

    #[test]
    fn times_must_be_iso8601_with_an_offset() {
        for good in [
            "2020-07-24T15:30:00+08:00",
            "2020-07-24T15:30:00Z",
            "2020-07-24T15:30+0800",
            "2024-02-29T00:00:00.125-05:30",
        ] {
            assert!(is_iso8601_with_offset(good), "{good}");
        }
        for bad in [
            "2020-07-24 15:30:00+08:00",
            "2020-07-24T15:30:00",
            "2023-02-29T10:00:00+08:00",
            "2020-13-01T10:00:00+08:00",
            "2020-07-24T24:00:00+08:00",
            "2020-07-24T15:30:00+8",
            "2020-07-24T15:30:00.+08:00",
            "24/07/2020",
            "",
        ] {
            assert!(!is_iso8601_with_offset(bad), "{bad}");
        }
        let (param, reason) = err("valid_conf_name.get", json!({"conf_name": "x", "end_time": "2020-07-24 15:30"}));
        assert_eq!(param, "end_time");
        assert!(reason.contains("ISO 8601"), "{reason}");
        let mut p = booked();
        p["start_time"] = json!("tomorrow");
        assert_eq!(err("booked_confs.create", p).0, "start_time");
    }

    #[test]
    fn confs_create_requirements_depend_on_create_type() {
        // Starting a booked conference early needs template_id only.
        full("confs.create", json!({"create_type": 5, "template_id": "b1"})).unwrap();
        assert_eq!(err("confs.create", json!({"create_type": 4})).0, "template_id");
        assert_eq!(err("confs.create", json!({"create_type": 4, "template_id": ""})).0, "template_id");
        // An instant conference (the default) needs the doc's '*' fields.
        let (param, reason) = err("confs.create", json!({"name": "x"}));
        assert_eq!(param, "duration");
        assert!(reason.contains("instant conference"), "{reason}");
        assert_eq!(err("confs.create", json!({"create_type": 7, "template_id": "t"})).0, "create_type");
    }

    #[test]
    fn prose_conditions_are_checked() {
        let mut p = booked();
        p["conf_type"] = json!(4);
        assert_eq!(err("booked_confs.create", p.clone()).0, "mt_supported_protocol");
        p["mt_supported_protocol"] = json!(["sip"]);
        full("booked_confs.create", p).unwrap();
        let mut p = booked();
        p["mix"] = json!({"mode": 2});
        assert_eq!(err("booked_confs.create", p.clone()).0, "mix.members");
        p["mix"] = json!({"mode": 1});
        full("booked_confs.create", p).unwrap();
        let mut p = booked();
        p["vmp"] = json!({"mode": 1, "layout": 1, "voice_hint": 0, "broadcast": 1, "show_mt_name": 0,
                          "members": [{"member_type": 1, "chn_idx": 0, "name": "a", "account_type": 1}]});
        assert_eq!(err("booked_confs.create", p).0, "vmp.members[0].account");
    }

    /// A minimal valid booked_confs.create body.
    fn booked() -> Value {
        json!({
            "name": "weekly", "start_time": "2030-01-01T09:00:00+08:00", "duration": 60, "bitrate": 2048,
            "closed_conf": 0, "safe_conf": 0, "encrypted_type": 0, "conf_type": 0, "call_mode": 0,
            "call_times": 0, "call_interval": 20, "mute": 0, "force_mute": 0, "silence": 0, "video_quality": 0,
            "encrypted_key": "", "dual_mode": 0, "voice_activity_detection": 0, "cascade_mode": 0,
            "cascade_upload": 0, "cascade_return": 0, "cascade_return_para": 0, "public_conf": 0,
            "max_join_mt": 8, "auto_end": 0, "preoccupy_resource": 0, "one_reforming": 0,
            "video_formats": [{"format": 4, "resolution": 12, "frame": 30, "bitrate": 2048}]
        })
    }
}
