//! The endpoint table: one [`EndpointSpec`] row per documented vendor endpoint.
//!
//! Each vendor folder has an `endpoints.rs` holding `ENDPOINTS: &[EndpointSpec]`.
//! That table alone drives parameter checking and normalisation ([`EndpointSpec::normalize`]), how the
//! vendor module builds the HTTP request, the Rhai and binding surfaces, the CLI's
//! `endpoints` listing and the generated reference in `docs/`. Adding an endpoint is
//! adding a row.
//!
//! Parameters are described by [`Param`]: a name, a [`ParamType`], whether it is
//! required, where it travels ([`ParamIn`]) and, for nested JSON bodies, children.
//! Path placeholders (`/confs/{conf_id}`) are ordinary parameters whose `at` is
//! [`ParamIn::Path`].
//!
//! What comes back is described by [`ResponseField`]s: every field of the response body the
//! vendor doc describes for that endpoint, envelope included, one row per field with its
//! dotted path (`data[].download_url`, see [`ResponseField::path`]).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value};

use crate::{Error, Result, Vendor};

/// Everything but unreserved characters (RFC 3986) is encoded in a path segment; `@` is
/// kept because vmr room addresses (`name@domain`) travel in paths unescaped.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'@');

/// HTTP method of an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpMethod {
    /// GET
    Get,
    /// POST
    Post,
    /// DELETE
    Delete,
}

impl HttpMethod {
    /// `GET`, `POST`, `DELETE`.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Delete => "DELETE",
        }
    }
}

/// The type a parameter must have, checked before anything is sent; also the documented type
/// of a [`ResponseField`] (never checked: it says what the doc promises).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    /// A JSON string.
    Str,
    /// A JSON integer.
    Int,
    /// A JSON number (integer or float).
    Number,
    /// `true`/`false`.
    Bool,
    /// A JSON value that travels as JSON *text* in one parameter (AVD's `videos`):
    /// give an object/array (meetkit serialises it) or a string holding valid JSON.
    JsonText,
    /// A JSON object (nested body).
    Object,
    /// A JSON array.
    Array,
    /// A local file path to upload (multipart).
    File,
    /// Anything (documented as untyped).
    Any,
}

impl ParamType {
    /// The name used in messages and docs.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::Str => "string",
            ParamType::Int => "int",
            ParamType::Number => "number",
            ParamType::Bool => "bool",
            ParamType::JsonText => "json",
            ParamType::Object => "object",
            ParamType::Array => "array",
            ParamType::File => "file",
            ParamType::Any => "any",
        }
    }
}

/// Where a parameter travels. `Auto` lets the vendor module decide (AVD: the query
/// string; JSON-body vendors: the body).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamIn {
    /// The vendor's default place.
    Auto,
    /// A `{name}` placeholder in the path (percent-encoded as one segment).
    Path,
    /// The query string.
    Query,
    /// An HTTP header.
    Header,
    /// The request body (JSON or form, per vendor).
    Body,
}

/// One parameter of an endpoint.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// The name on the wire.
    pub name: &'static str,
    /// Its type.
    pub ty: ParamType,
    /// Must it be given? (For children: when the parent is present.)
    pub required: bool,
    /// Where it travels.
    pub at: ParamIn,
    /// One line from the vendor doc.
    pub doc: &'static str,
    /// Fields of an `Object` (or of each element of an `Array` of objects).
    pub children: &'static [Param],
}

impl Param {
    /// A required parameter in the vendor's default place.
    pub const fn req(name: &'static str, ty: ParamType, doc: &'static str) -> Param {
        Param { name, ty, required: true, at: ParamIn::Auto, doc, children: &[] }
    }
    /// An optional parameter in the vendor's default place.
    pub const fn opt(name: &'static str, ty: ParamType, doc: &'static str) -> Param {
        Param { name, ty, required: false, at: ParamIn::Auto, doc, children: &[] }
    }
    /// The same parameter, travelling elsewhere.
    pub const fn at(mut self, at: ParamIn) -> Param {
        self.at = at;
        self
    }
    /// The same parameter, with nested fields.
    pub const fn with(mut self, children: &'static [Param]) -> Param {
        self.children = children;
        self
    }
}

/// One field of an endpoint's response body, as the vendor doc describes it.
///
/// Rows are written with [`rf`]: `rf("data[].download_url", Str, "Download URL")`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseField {
    /// Where the field sits in the response body *as the vendor sends it*, envelope included
    /// (what meetkit returns is described per vendor in `docs/endpoints.md`):
    ///
    /// * object members are joined with `.`: `data.room_id`, `results.mcuHost`;
    /// * `[]` after a name stands for every element of that array: `data[].download_url` is
    ///   the `download_url` of each element of `data`, `result[]` an element itself (an array
    ///   of strings);
    /// * the empty path is the body itself, for the few endpoints whose answer is not a JSON
    ///   object (an image, an event stream, an answer the doc says to ignore).
    ///
    /// A parent is listed before its children (`data`, then `data[].name`). An `object` or
    /// `array` field without rows below it is documented as a whole (its `doc` says what is
    /// inside, e.g. keys that are data, like terminal types).
    pub path: &'static str,
    /// Its documented type (`any` where the doc gives none).
    pub ty: ParamType,
    /// One line from the vendor doc: meaning, unit, values, and where the doc contradicts itself.
    pub doc: &'static str,
}

/// One [`ResponseField`] row: `rf("data.room_id", Str, "The room id")`.
pub const fn rf(path: &'static str, ty: ParamType, doc: &'static str) -> ResponseField {
    ResponseField { path, ty, doc }
}

/// One documented endpoint of one vendor.
#[derive(Clone, Copy, Debug)]
pub struct EndpointSpec {
    /// The vendor.
    pub vendor: Vendor,
    /// Stable public id, e.g. `room.mix_record.start`.
    pub id: &'static str,
    /// HTTP method used to send it.
    pub method: HttpMethod,
    /// Path relative to the vendor's base (placeholders as `{name}`).
    pub path: &'static str,
    /// Parameters, excluding the ones the auth layer adds (tokens, signatures).
    pub params: &'static [Param],
    /// The fields of a successful response body, in the doc's order, parents first.
    pub response: &'static [ResponseField],
    /// Safe to resend after a timeout or 5xx (reads, and writes that set a state).
    pub idempotent: bool,
    /// One line from the vendor doc.
    pub summary: &'static str,
}

impl EndpointSpec {
    /// Look up a parameter by name.
    pub fn param(&self, name: &str) -> Option<&'static Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Look up a response field by its path (`data[].download_url`).
    pub fn response_field(&self, path: &str) -> Option<&'static ResponseField> {
        self.response.iter().find(|f| f.path == path)
    }

    /// A one-line signature for error messages and docs:
    /// `room.create(user_id: string, room_id: string, topic?: string, ...)`.
    pub fn signature(&self) -> String {
        let ps: Vec<String> = self
            .params
            .iter()
            .map(|p| format!("{}{}: {}", p.name, if p.required { "" } else { "?" }, p.ty.as_str()))
            .collect();
        format!("{}({})", self.id, ps.join(", "))
    }

    /// Check `params` against the table without keeping the normalised form: the same
    /// checks and errors as [`EndpointSpec::normalize`].
    pub fn validate(&self, params: &Value) -> Result<()> {
        self.normalize(params.clone()).map(|_| ())
    }

    /// Check `params` against the table and bring every value to its declared type, before
    /// sending: every required parameter present, no unknown names, every value of its
    /// declared type or convertible to it (recursively for nested objects and arrays of
    /// objects). `null` counts as absent. Returns the normalised parameters as an object
    /// (`null` becomes `{}`); the vendor modules send exactly that.
    ///
    /// The conversions (the rule is `common.param_types` in `docs/assumptions.md`):
    ///
    /// * `string` (and `file`): an integer becomes its decimal text (`12345` → `"12345"`), since
    ///   room ids, conference ids, room numbers and SIP extensions are digits and callers
    ///   (`-p`, Rhai, Python, C) naturally give them as numbers. Floats and booleans are
    ///   refused: their text is not unique (`1.0`/`1`, `true`/`1`).
    /// * `int`: a string of decimal digits with an optional sign (`"42"`, `"-1"`) becomes the
    ///   integer; a float with no fractional part within ±2^53 (`5.0`) becomes the integer.
    /// * `number`: a string holding a finite decimal number (`"1.5"`, `"7"`) becomes that number.
    /// * `bool`: exactly `"true"` or `"false"` becomes the boolean; nothing else (no `1`/`0`,
    ///   no `"yes"`, no other case).
    /// * `json`: an object or array, or a string that parses as JSON (kept as given).
    /// * `object`/`array`/`any`: no conversion.
    ///
    /// Anything else is an [`Error::InvalidParams`] naming the parameter (dotted path for
    /// nested ones), the expected type and the value given.
    pub fn normalize(&self, params: Value) -> Result<Value> {
        let mut map = match params {
            Value::Null => Map::new(),
            Value::Object(m) => m,
            other => {
                return Err(self.invalid("(params)", format!("expected an object of parameters, got {}", kind(&other))))
            }
        };
        self.normalize_fields(self.params, &mut map, "")?;
        Ok(Value::Object(map))
    }

    fn normalize_fields(&self, specs: &'static [Param], map: &mut Map<String, Value>, prefix: &str) -> Result<()> {
        for (name, value) in map.iter_mut() {
            let Some(spec) = specs.iter().find(|p| p.name == name) else {
                let known: Vec<&str> = specs.iter().map(|p| p.name).collect();
                let hint = match closest(name, &known, 1).first() {
                    Some(best) => format!("did you mean `{best}`? "),
                    None => String::new(),
                };
                return Err(self.invalid(
                    &format!("{prefix}{name}"),
                    format!("unknown parameter; {hint}signature: {}", self.signature()),
                ));
            };
            if !value.is_null() {
                self.normalize_value(spec, value, &format!("{prefix}{name}"))?;
            }
        }
        for spec in specs.iter().filter(|p| p.required) {
            if map.get(spec.name).is_none_or(Value::is_null) {
                return Err(self.invalid(
                    &format!("{prefix}{}", spec.name),
                    format!("required {} parameter is missing; signature: {}", spec.ty.as_str(), self.signature()),
                ));
            }
        }
        Ok(())
    }

    fn normalize_value(&self, spec: &'static Param, value: &mut Value, path: &str) -> Result<()> {
        if let Some(converted) = convert(spec.ty, value) {
            *value = converted;
        }
        let ok = match spec.ty {
            ParamType::Str | ParamType::File => value.is_string(),
            ParamType::Int => value.is_i64() || value.is_u64(),
            ParamType::Number => value.is_number(),
            ParamType::Bool => value.is_boolean(),
            ParamType::Object => value.is_object(),
            ParamType::Array => value.is_array(),
            ParamType::Any => true,
            ParamType::JsonText => match value {
                Value::Object(_) | Value::Array(_) => true,
                Value::String(s) => {
                    if let Err(e) = serde_json::from_str::<Value>(s) {
                        return Err(
                            self.invalid(path, format!("expected JSON text, but the string does not parse: {e}"))
                        );
                    }
                    true
                }
                _ => false,
            },
        };
        if !ok {
            return Err(self.invalid(path, format!("expected {}, got {} ({})", spec.ty.as_str(), kind(value), value)));
        }
        if spec.children.is_empty() {
            return Ok(());
        }
        match value {
            Value::Object(m) => self.normalize_fields(spec.children, m, &format!("{path}.")),
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    match item {
                        Value::Object(m) => self.normalize_fields(spec.children, m, &format!("{path}[{i}].")),
                        other => {
                            return Err(
                                self.invalid(&format!("{path}[{i}]"), format!("expected object, got {}", kind(other)))
                            )
                        }
                    }?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The path with every `{name}` placeholder replaced by its parameter, percent-encoded
    /// as one path segment (`123#456` → `123%23456`); those parameters are removed from
    /// `params`. A missing placeholder value is an `InvalidParams` error.
    pub fn render_path(&self, params: &mut Map<String, Value>) -> Result<String> {
        let mut out = String::with_capacity(self.path.len() + 16);
        let mut rest = self.path;
        while let Some(start) = rest.find('{') {
            let end = rest[start..].find('}').map(|e| start + e).unwrap_or(rest.len());
            out.push_str(&rest[..start]);
            let name = &rest[start + 1..end];
            let value = match params.remove(name) {
                Some(Value::String(s)) if !s.is_empty() => s,
                Some(Value::Number(n)) => n.to_string(),
                _ => {
                    return Err(
                        self.invalid(name, format!("path parameter is missing; signature: {}", self.signature()))
                    )
                }
            };
            out.extend(percent_encoding::utf8_percent_encode(&value, PATH_SEGMENT));
            rest = rest.get(end + 1..).unwrap_or("");
        }
        out.push_str(rest);
        Ok(out)
    }

    fn invalid(&self, param: &str, reason: String) -> Error {
        Error::InvalidParams { vendor: self.vendor, endpoint: self.id.to_string(), param: param.to_string(), reason }
    }
}

/// Find `id` in a vendor table; an unknown id is an error that suggests the closest ids.
pub fn lookup(vendor: Vendor, table: &'static [EndpointSpec], id: &str) -> Result<&'static EndpointSpec> {
    table.iter().find(|e| e.id == id).ok_or_else(|| {
        let ids: Vec<&'static str> = table.iter().map(|e| e.id).collect();
        Error::UnknownEndpoint { vendor, endpoint: id.to_string(), suggestions: closest(id, &ids, 3) }
    })
}

/// The `n` candidates closest to `word` (Jaro-Winkler, plus prefix/suffix matches), best first.
pub fn closest<'a>(word: &str, candidates: &[&'a str], n: usize) -> Vec<&'a str> {
    let mut scored: Vec<(f64, &'a str)> = candidates
        .iter()
        .map(|c| {
            let mut s = strsim::jaro_winkler(word, c);
            if c.ends_with(word) || c.starts_with(word) {
                s += 0.2;
            }
            (s, *c)
        })
        .filter(|(s, _)| *s >= 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(n).map(|(_, c)| c).collect()
}

/// `value` converted to `ty` where [`EndpointSpec::normalize`] allows it; `None` when it is
/// already of that type or cannot be converted (the caller reports the latter).
fn convert(ty: ParamType, value: &Value) -> Option<Value> {
    /// Integers up to this magnitude are exact in an `f64`.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match (ty, value) {
        (ParamType::Str | ParamType::File, Value::Number(n)) if n.is_i64() || n.is_u64() => {
            Some(Value::String(n.to_string()))
        }
        (ParamType::Int, Value::Number(n)) if !(n.is_i64() || n.is_u64()) => {
            let f = n.as_f64()?;
            (f.is_finite() && f.fract() == 0.0 && f.abs() <= EXACT).then(|| Value::from(f as i64))
        }
        (ParamType::Int | ParamType::Number, Value::String(s)) => {
            if let Ok(i) = s.parse::<i64>() {
                return Some(Value::from(i));
            }
            if let Ok(u) = s.parse::<u64>() {
                return Some(Value::from(u));
            }
            if ty != ParamType::Number || !s.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) {
                return None;
            }
            let f: f64 = s.parse().ok().filter(|f: &f64| f.is_finite())?;
            serde_json::Number::from_f64(f).map(Value::Number)
        }
        (ParamType::Bool, Value::String(s)) => match s.as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => None,
    }
}

/// A word for the JSON kind of `v`, for messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() || n.is_u64() => "int",
        Value::Number(_) => "float",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use ParamType::*;

    const CHILDREN: &[Param] = &[Param::req("type", Str, ""), Param::opt("state", Int, "")];
    const SPEC: EndpointSpec = EndpointSpec {
        vendor: Vendor::Avd,
        id: "room.create",
        method: HttpMethod::Get,
        path: "/room/create",
        params: &[
            Param::req("room_id", Str, ""),
            Param::opt("enable_auto_avc", Bool, ""),
            Param::opt("videos", JsonText, ""),
            Param::opt("controls", Array, "").with(CHILDREN),
        ],
        idempotent: false,
        summary: "",
        response: &[rf("ret", Int, ""), rf("room_id", Str, "")],
    };

    fn err(params: Value) -> String {
        SPEC.validate(&params).unwrap_err().to_string()
    }

    #[test]
    fn accepts_valid_params() {
        SPEC.validate(&json!({"room_id": "r", "enable_auto_avc": true, "videos": [{"a": 1}]})).unwrap();
        SPEC.validate(&json!({"room_id": "r", "videos": "[1,2]", "controls": [{"type": "audio"}]})).unwrap();
    }

    #[test]
    fn missing_required_names_param_and_signature() {
        let e = err(json!({}));
        assert!(e.contains("invalid parameter `room_id`"), "{e}");
        assert!(e.contains("required string parameter is missing"), "{e}");
        assert!(e.contains("room.create(room_id: string, enable_auto_avc?: bool"), "{e}");
        assert!(err(json!({"room_id": null})).contains("`room_id`"));
    }

    #[test]
    fn wrong_type_is_reported() {
        assert!(err(json!({"room_id": 1.5})).contains("`room_id`: expected string, got float (1.5)"));
        assert!(err(json!({"room_id": true})).contains("expected string, got bool (true)"));
        assert!(err(json!({"room_id": "r", "enable_auto_avc": "yes"})).contains("expected bool, got string"));
        assert!(err(json!({"room_id": "r", "videos": "{not json"})).contains("does not parse"));
        assert!(err(json!([1])).contains("expected an object of parameters"));
    }

    const TYPED: &[Param] = &[
        Param::opt("s", Str, ""),
        Param::opt("i", Int, ""),
        Param::opt("n", Number, ""),
        Param::opt("b", Bool, ""),
        Param::opt("j", JsonText, ""),
        Param::opt("o", Object, "").with(&[Param::opt("id", Str, ""), Param::opt("k", Int, "")]),
    ];

    fn norm(params: Value) -> Result<Value> {
        EndpointSpec { params: TYPED, ..SPEC }.normalize(params)
    }

    fn norm_err(params: Value) -> String {
        norm(params).unwrap_err().to_string()
    }

    #[test]
    fn integers_for_strings_become_their_decimal_text() {
        let n = SPEC.normalize(json!({"room_id": 12345})).unwrap();
        assert_eq!(n, json!({"room_id": "12345"}));
        assert_eq!(norm(json!({"s": -7})).unwrap(), json!({"s": "-7"}));
        assert_eq!(norm(json!({"s": u64::MAX})).unwrap(), json!({"s": u64::MAX.to_string()}));
        // Text stays text, leading zeros included.
        assert_eq!(norm(json!({"s": "0012"})).unwrap(), json!({"s": "0012"}));
        // Nested fields are normalised too.
        assert_eq!(norm(json!({"o": {"id": 2024, "k": "3"}})).unwrap(), json!({"o": {"id": "2024", "k": 3}}));
    }

    #[test]
    fn numeric_and_boolean_text_becomes_numbers_and_booleans() {
        assert_eq!(norm(json!({"i": "42", "n": "1.5", "b": "false"})).unwrap(), json!({"i": 42, "n": 1.5, "b": false}));
        assert_eq!(norm(json!({"i": "-3", "n": "7", "b": "true"})).unwrap(), json!({"i": -3, "n": 7, "b": true}));
        assert_eq!(norm(json!({"i": 5.0})).unwrap(), json!({"i": 5}));
        assert_eq!(norm(json!({"i": "0012"})).unwrap(), json!({"i": 12}));
        // Values already of their type are untouched; null stays absent.
        let same = json!({"s": "x", "i": 1, "n": 2.5, "b": true, "j": "[1]", "o": {}});
        assert_eq!(norm(same.clone()).unwrap(), same);
        assert_eq!(norm(Value::Null).unwrap(), json!({}));
        assert_eq!(norm(json!({"i": null})).unwrap(), json!({"i": null}));
    }

    #[test]
    fn values_that_cannot_be_converted_are_errors_naming_param_and_type() {
        assert!(norm_err(json!({"i": "4x"})).contains("`i`: expected int, got string (\"4x\")"));
        assert!(norm_err(json!({"i": " 4"})).contains("expected int"));
        assert!(norm_err(json!({"i": 4.5})).contains("expected int, got float (4.5)"));
        assert!(norm_err(json!({"i": 1e300})).contains("expected int"));
        assert!(norm_err(json!({"n": "NaN"})).contains("`n`: expected number, got string"));
        assert!(norm_err(json!({"n": "inf"})).contains("expected number"));
        assert!(norm_err(json!({"n": "1e999"})).contains("expected number"));
        assert!(norm_err(json!({"b": "True"})).contains("`b`: expected bool, got string"));
        assert!(norm_err(json!({"b": 1})).contains("expected bool, got int (1)"));
        assert!(norm_err(json!({"j": 5})).contains("`j`: expected json, got int"));
        assert!(norm_err(json!({"o": {"k": "x"}})).contains("`o.k`: expected int"));
        // validate() runs the same checks.
        assert!(SPEC.validate(&json!({"room_id": 7})).is_ok());
        assert!(SPEC.validate(&json!({"room_id": 7.5})).is_err());
    }

    #[test]
    fn nested_fields_are_checked_with_paths() {
        let e = err(json!({"room_id": "r", "controls": [{"type": "a"}, {"state": 1}]}));
        assert!(e.contains("`controls[1].type`"), "{e}");
        let e = err(json!({"room_id": "r", "controls": [{"type": "a", "stat": 1}]}));
        assert!(e.contains("`controls[0].stat`") && e.contains("did you mean `state`"), "{e}");
    }

    #[test]
    fn unknown_param_suggests_closest() {
        let e = err(json!({"rom_id": "r"}));
        assert!(e.contains("`rom_id`: unknown parameter; did you mean `room_id`?"), "{e}");
    }

    #[test]
    fn path_placeholders_are_filled_and_encoded() {
        const PATH_PARAMS: &[Param] =
            &[Param::req("conf_id", Str, "").at(ParamIn::Path), Param::req("n", Int, "").at(ParamIn::Path)];
        let spec = EndpointSpec { path: "/api/v1/mc/confs/{conf_id}/x/{n}", params: PATH_PARAMS, ..SPEC };
        let mut params = json!({"conf_id": "123#456 a/b", "n": 7, "other": 1}).as_object().unwrap().clone();
        assert_eq!(spec.render_path(&mut params).unwrap(), "/api/v1/mc/confs/123%23456%20a%2Fb/x/7");
        assert_eq!(Value::Object(params), json!({"other": 1}));
        let e = spec.render_path(&mut Map::new()).unwrap_err().to_string();
        assert!(e.contains("`conf_id`: path parameter is missing"), "{e}");
    }

    #[test]
    fn closest_ids() {
        let ids = ["room.create", "room.read", "room.mix_record.start", "room.mix_record.stop"];
        assert_eq!(closest("room.creat", &ids, 3)[0], "room.create");
        assert_eq!(closest("mix_record.start", &ids, 1), vec!["room.mix_record.start"]);
        assert!(closest("zzz", &ids, 3).is_empty());
    }
}
