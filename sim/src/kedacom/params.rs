//! Request parameters (query string and form body), validation of the
//! `params` JSON against the doc's tables, ISO 8601 times and paging.
//!
//! Conditionally required fields (the doc marks them `*` but its text
//! makes them conditional) are checked by [`conditional`]:
//! `encrypted_key` only with AES (`encrypted_type` 2), `mix.members` only
//! for custom mixing (mode 2), `vmp.members` only for custom composition
//! (mode 1), `vmp.members[].name/account/account_type` only for
//! `member_type` 1; `vmp.except_self`, `vmp.mt_name_style.*`,
//! `invite_members[].bitrate` and `auto_end` have documented defaults.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::errors::{ApiError, ApiResult, PARAMS_NOT_JSON};
use crate::common::timefmt::civil;

/// The server's UTC offset: the doc's examples are all `+08:00`.
pub(crate) const SERVER_UTC_OFFSET: i64 = 8 * 3600;

/// Merged request parameters (form body values override the query).
#[derive(Debug, Default, Clone)]
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    /// Parse a query string and an optional form body.
    pub(crate) fn parse(query: Option<&str>, form: Option<&[u8]>) -> Self {
        let mut p = Params::default();
        for source in [query.map(str::as_bytes), form].into_iter().flatten() {
            p.extend(url::form_urlencoded::parse(source).map(|(k, v)| (k.into_owned(), v.into_owned())));
        }
        p
    }

    /// Add (or override) values.
    pub(crate) fn extend(&mut self, pairs: impl IntoIterator<Item = (String, String)>) {
        self.0.extend(pairs);
    }

    /// Drop a value.
    pub(crate) fn remove(&mut self, name: &str) {
        self.0.remove(name);
    }

    /// A non-empty value.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// A required value ([`super::errors::PARAM_MISSING`]).
    pub(crate) fn req(&self, name: &str) -> ApiResult<&str> {
        self.get(name).ok_or_else(|| ApiError::missing(name))
    }

    /// Optional non-negative decimal integer.
    pub(crate) fn uint(&self, name: &str) -> ApiResult<Option<u64>> {
        self.get(name).map(|v| v.trim().parse::<u64>().map_err(|_| ApiError::invalid(name))).transpose()
    }

    /// Optional integer among `allowed`.
    pub(crate) fn int_in(&self, name: &str, allowed: &[i64]) -> ApiResult<Option<i64>> {
        match self.get(name).map(|v| v.trim().parse::<i64>()) {
            None => Ok(None),
            Some(Ok(v)) if allowed.contains(&v) => Ok(Some(v)),
            Some(_) => Err(ApiError::invalid(name)),
        }
    }

    /// Optional ISO 8601 time (Unix seconds).
    pub(crate) fn time(&self, name: &str) -> ApiResult<Option<f64>> {
        self.get(name).map(|v| parse_time(v).ok_or_else(|| ApiError::invalid(name))).transpose()
    }

    /// The `params` form field: URL-decoded JSON text of an object.
    pub(crate) fn json_params(&self) -> ApiResult<Map<String, Value>> {
        let text = self.req("params")?;
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(ApiError::new(PARAMS_NOT_JSON)),
        }
    }
}

/// Length limit of a string field.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Len {
    /// No documented limit.
    Any,
    /// At most this many UTF-8 bytes (`个字节`).
    Bytes(usize),
    /// At most this many characters (`个字符`).
    Chars(usize),
}

/// Type of a `params` field.
#[derive(Debug)]
pub(crate) enum T {
    /// JSON integer; when the slice is not empty, one of these codes.
    Int(&'static [i64]),
    /// JSON string with a length limit.
    Str(Len),
    /// JSON string, one of these values.
    StrEnum(&'static [&'static str]),
    /// ISO 8601 time with offset, e.g. `2020-07-24T15:30:00+08:00`.
    Time,
    /// JSON object with these fields.
    Obj(&'static [F]),
    /// JSON array of this element type.
    Arr(&'static T),
}

/// One documented `params` field.
#[derive(Debug)]
pub(crate) struct F {
    /// Field name.
    pub name: &'static str,
    /// Marked `*` (and not conditionally required).
    pub req: bool,
    /// Type.
    pub ty: T,
}

/// Check `obj` against `fields`: types and enums always, required fields
/// when `enforce_required`. Unknown fields are ignored (kept as sent).
pub(crate) fn validate(fields: &[F], obj: &Map<String, Value>, enforce_required: bool) -> ApiResult<()> {
    validate_obj(fields, obj, enforce_required, "")?;
    conditional(obj, enforce_required)
}

/// Lenient mode: integer fields (per `fields`) sent as numeric strings or
/// booleans become JSON integers (`"1"` -> 1, `true` -> 1, `false` -> 0).
pub(crate) fn coerce_ints(fields: &[F], obj: &mut Map<String, Value>) {
    for f in fields {
        if let Some(v) = obj.get_mut(f.name) {
            coerce_value(&f.ty, v);
        }
    }
}

fn coerce_value(ty: &T, v: &mut Value) {
    match ty {
        T::Int(_) => match v {
            Value::String(s) => {
                if let Ok(i) = s.trim().parse::<i64>() {
                    *v = i.into();
                }
            }
            Value::Bool(b) => *v = i64::from(*b).into(),
            _ => {}
        },
        T::Obj(fields) => {
            if let Some(o) = v.as_object_mut() {
                coerce_ints(fields, o);
            }
        }
        T::Arr(item) => {
            if let Some(items) = v.as_array_mut() {
                items.iter_mut().for_each(|it| coerce_value(item, it));
            }
        }
        T::Str(_) | T::StrEnum(_) | T::Time => {}
    }
}

fn path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

fn validate_obj(fields: &[F], obj: &Map<String, Value>, req: bool, prefix: &str) -> ApiResult<()> {
    for f in fields {
        let at = path(prefix, f.name);
        match obj.get(f.name) {
            None | Some(Value::Null) if f.req && req => return Err(ApiError::missing(&at)),
            None | Some(Value::Null) => {}
            Some(v) => validate_value(&f.ty, v, req, &at)?,
        }
    }
    Ok(())
}

fn validate_value(ty: &T, v: &Value, req: bool, at: &str) -> ApiResult<()> {
    let ok = match ty {
        T::Int(codes) => v.as_i64().is_some_and(|i| codes.is_empty() || codes.contains(&i)),
        T::Str(len) => v.as_str().is_some_and(|s| match len {
            Len::Any => true,
            Len::Bytes(n) => s.len() <= *n,
            Len::Chars(n) => s.chars().count() <= *n,
        }),
        T::StrEnum(values) => v.as_str().is_some_and(|s| values.contains(&s)),
        T::Time => v.as_str().and_then(parse_time).is_some(),
        T::Obj(fields) => match v.as_object() {
            Some(o) => return validate_obj(fields, o, req, at),
            None => false,
        },
        T::Arr(item) => match v.as_array() {
            Some(items) => {
                for (i, it) in items.iter().enumerate() {
                    validate_value(item, it, req, &format!("{at}[{i}]"))?;
                }
                true
            }
            None => false,
        },
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(at))
    }
}

fn int(obj: &Map<String, Value>, name: &str) -> Option<i64> {
    obj.get(name).and_then(Value::as_i64)
}

fn has(obj: &Map<String, Value>, name: &str) -> bool {
    obj.get(name).is_some_and(|v| !v.is_null())
}

/// The conditionally required fields (see the module doc).
fn conditional(obj: &Map<String, Value>, req: bool) -> ApiResult<()> {
    if !req {
        return Ok(());
    }
    if int(obj, "encrypted_type") == Some(2)
        && obj.get("encrypted_key").and_then(Value::as_str).is_none_or(str::is_empty)
    {
        return Err(ApiError::missing("encrypted_key"));
    }
    if let Some(mix) = obj.get("mix").and_then(Value::as_object) {
        if int(mix, "mode") == Some(2) && !has(mix, "members") {
            return Err(ApiError::missing("mix.members"));
        }
    }
    if let Some(vmp) = obj.get("vmp").and_then(Value::as_object) {
        if int(vmp, "mode") == Some(1) && !has(vmp, "members") {
            return Err(ApiError::missing("vmp.members"));
        }
        let members = vmp.get("members").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        for (i, m) in members.iter().filter_map(Value::as_object).enumerate() {
            if int(m, "member_type") == Some(1) {
                for name in ["name", "account", "account_type"] {
                    if !has(m, name) {
                        return Err(ApiError::missing(&format!("vmp.members[{i}].{name}")));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Parse `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM|±HHMM)` (ISO 8601 with an
/// offset; a time without offset is rejected) into Unix seconds.
pub(crate) fn parse_time(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes().all(|c| c.is_ascii_digit()).then(|| t.parse().ok())?
    };
    let (y, mo, d, h, mi, se) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &s[19..];
    let mut frac = 0.0;
    if let Some(r) = rest.strip_prefix('.') {
        let digits = r.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        frac = format!("0.{}", &r[..digits]).parse().ok()?;
        rest = &r[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let t = rest[1..].replace(':', "");
            if t.len() != 4 || !t.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let (oh, om): (i64, i64) = (t[..2].parse().ok()?, t[2..].parse().ok()?);
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    let days_in_month = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    if d < 1 || d > days_in_month || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let local = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se;
    Some((local - offset) as f64 + frac)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Format Unix seconds as `2016-11-11T15:30:00+08:00` (server time).
pub(crate) fn fmt_time(unix: f64) -> String {
    let c = civil(unix.floor() as i64, SERVER_UTC_OFFSET);
    let (oh, om) = (SERVER_UTC_OFFSET / 3600, SERVER_UTC_OFFSET % 3600 / 60);
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+{oh:02}:{om:02}", c.year, c.month, c.day, c.hour, c.minute, c.second)
}

/// `start` / `count` / `order` of a list endpoint (doc: start default 0,
/// count default 10 with 0 = all; order 0 ascending, 1 descending).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paging {
    /// Row offset.
    pub start: usize,
    /// Rows to return, `None` = all.
    pub count: Option<usize>,
    /// Descending order.
    pub descending: bool,
}

impl Paging {
    /// Read the paging parameters (invalid values: [`super::errors::PARAM_INVALID`]).
    pub(crate) fn from(p: &Params) -> ApiResult<Paging> {
        let mut paging = Self::unordered(p)?;
        paging.descending = p.int_in("order", &[0, 1])? == Some(1);
        Ok(paging)
    }

    /// `start` / `count` only (`order` reserved: ignored).
    pub(crate) fn unordered(p: &Params) -> ApiResult<Paging> {
        let start = p.uint("start")?.unwrap_or(0) as usize;
        let count = match p.uint("count")?.unwrap_or(10) {
            0 => None,
            n => Some(n as usize),
        };
        Ok(Paging { start, count, descending: false })
    }

    /// Apply to an already sorted (ascending) list; returns `(total, page)`.
    pub(crate) fn page<X>(&self, mut items: Vec<X>) -> (usize, Vec<X>) {
        let total = items.len();
        if self.descending {
            items.reverse();
        }
        let page = items.into_iter().skip(self.start).take(self.count.unwrap_or(usize::MAX)).collect();
        (total, page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_round_trip() {
        let t = parse_time("2016-11-11T15:30:00+08:00").unwrap();
        assert_eq!(t, 1_478_849_400.0);
        assert_eq!(parse_time("2016-11-11T07:30:00Z"), Some(t));
        assert_eq!(parse_time("2016-11-11T02:30:00-0500"), Some(t));
        assert_eq!(fmt_time(t), "2016-11-11T15:30:00+08:00");
        assert_eq!(parse_time("2016-11-11T15:30:00"), None);
        assert_eq!(parse_time("2016-02-30T15:30:00+08:00"), None);
        assert_eq!(parse_time("2016-11-11 15:30:00+08:00"), None);
        assert_eq!(parse_time("1478849400"), None);
    }

    #[test]
    fn schema_checks_types_enums_and_required() {
        static S: &[F] = &[
            F { name: "name", req: true, ty: T::Str(Len::Bytes(4)) },
            F { name: "n", req: false, ty: T::Int(&[0, 2]) },
            F { name: "a", req: false, ty: T::Arr(&T::Obj(&[F { name: "x", req: true, ty: T::Time }])) },
        ];
        let obj = |v: Value| v.as_object().unwrap().clone();
        assert!(validate(S, &obj(serde_json::json!({"name": "abcd", "n": 2})), true).is_ok());
        assert_eq!(validate(S, &obj(serde_json::json!({"n": 2})), true).unwrap_err().code, 20001);
        assert!(validate(S, &obj(serde_json::json!({"n": 2})), false).is_ok());
        assert_eq!(validate(S, &obj(serde_json::json!({"name": "abcde"})), true).unwrap_err().code, 20002);
        assert_eq!(validate(S, &obj(serde_json::json!({"name": "a", "n": 1})), true).unwrap_err().code, 20002);
        assert_eq!(validate(S, &obj(serde_json::json!({"name": "a", "n": true})), true).unwrap_err().code, 20002);
        let e = validate(S, &obj(serde_json::json!({"name": "a", "a": [{"x": "2020-01-01"}]})), true).unwrap_err();
        assert_eq!(e.description, "invalid parameter: a[0].x");
    }
}
