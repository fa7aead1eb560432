//! Kedacom response envelopes: flat JSON objects `{success, error_code, description, ...}`.
//!
//! * `success` 1 is success (the doc's examples); the payload is the object without
//!   `success`, `error_code` and `description`, returned as is — a list keeps its `total`
//!   beside its array (`{total, booked_confs: [...]}`).
//! * `success` 0 (never shown in the doc; presumed) carries `error_code` (int) and
//!   `description`; it becomes [`Error::Api`] with the code's meaning from [`super::error_meaning`].
//!   `version.get`'s failure has no `description`.
//! * The doc indents its examples with U+00A0 (no-break space), which is not JSON
//!   whitespace; such bodies are read after replacing it outside strings, and trailing
//!   commas / `//` comments are tolerated as everywhere ([`crate::json::parse_lenient`]).

use crate::json::{snippet, text};
use serde_json::{Map, Value};

use crate::json::parse_lenient;
use crate::transport::RawResponse;
use crate::{Error, Result, Vendor};

/// Decode one Kedacom response of `endpoint` (an endpoint id, or `system.token` /
/// `system.login` / `system.heartbeat` for the login flow) into its payload.
pub fn decode(endpoint: &str, resp: &RawResponse) -> Result<Map<String, Value>> {
    let value = match parse(&resp.body) {
        Ok(v) => v,
        Err(_) if !(200..300).contains(&resp.status) => return Err(resp.http_error(Vendor::Kedacom, endpoint)),
        Err(e) => return Err(decode_error(endpoint, format!("not JSON ({e}); body starts {:?}", snippet(&resp.body)))),
    };
    let Value::Object(mut map) = value else {
        if !(200..300).contains(&resp.status) {
            return Err(resp.http_error(Vendor::Kedacom, endpoint));
        }
        return Err(decode_error(endpoint, format!("expected a JSON object, got {}", crate::endpoint::kind(&value))));
    };
    let success = match map.get("success") {
        Some(v) => match flag(v) {
            Some(s) => Some(s),
            None => return Err(decode_error(endpoint, format!("`success` is neither 1 nor 0: {v}"))),
        },
        None => None,
    };
    let has_code = map.get("error_code").is_some_and(|c| !c.is_null());
    match success {
        Some(true) if (200..300).contains(&resp.status) => {}
        // An error envelope (success 0, or an error_code without success).
        Some(false) | None if has_code || success == Some(false) => {
            let code = map.get("error_code").map(text).filter(|c| !c.is_empty()).unwrap_or_else(|| "unknown".into());
            let message = map.get("description").map(text).unwrap_or_default();
            return Err(Error::Api {
                vendor: Vendor::Kedacom,
                endpoint: endpoint.to_string(),
                meaning: super::error_meaning(&code),
                retryable: super::RETRYABLE_CODES.contains(&code.trim()),
                code,
                message,
                request_id: None,
            });
        }
        // success 1 with a failing HTTP status, or no envelope at all.
        _ if !(200..300).contains(&resp.status) => return Err(resp.http_error(Vendor::Kedacom, endpoint)),
        _ => return Err(decode_error(endpoint, "the response has no `success` field".into())),
    }
    map.remove("success");
    map.remove("error_code");
    map.remove("description");
    Ok(map)
}

/// Parse leniently, then once more with U+00A0 outside strings turned into spaces.
fn parse(body: &[u8]) -> Result<Value, serde_json::Error> {
    match parse_lenient(body) {
        Ok(v) => Ok(v),
        Err(e) => {
            let text = String::from_utf8_lossy(body);
            if !text.contains('\u{a0}') {
                return Err(e);
            }
            parse_lenient(replace_nbsp_outside_strings(&text).as_bytes()).map_err(|_| e)
        }
    }
}

fn replace_nbsp_outside_strings(text: &str) -> String {
    let (mut in_str, mut escaped) = (false, false);
    text.chars()
        .map(|c| {
            if in_str {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => in_str = false,
                    _ => {}
                }
                c
            } else if c == '"' {
                in_str = true;
                c
            } else if c == '\u{a0}' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// `1`/`0`, `"1"`/`"0"`, `true`/`false`.
fn flag(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().and_then(|n| match n {
            1 => Some(true),
            0 => Some(false),
            _ => None,
        }),
        Value::String(s) => match s.trim() {
            "1" | "true" => Some(true),
            "0" | "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn decode_error(endpoint: &str, message: String) -> Error {
    Error::Decode { vendor: Vendor::Kedacom, endpoint: endpoint.to_string(), message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;
    use serde_json::json;

    fn resp(status: u16, body: &str) -> RawResponse {
        RawResponse { status, headers: HeaderMap::new(), body: body.as_bytes().to_vec().into() }
    }

    fn ok(body: &str) -> Value {
        Value::Object(decode("x", &resp(200, body)).unwrap_or_else(|e| panic!("{e}\n{body}")))
    }

    /// The doc's three success examples (the only ones with content): they decode, and the
    /// envelope is gone while every payload field stays.
    #[test]
    fn every_doc_example_decodes() {
        let examples: Vec<Value> = serde_json::from_str(include_str!("testdata/doc_examples.json")).unwrap();
        let responses: Vec<&Value> = examples.iter().filter(|e| e["kind"] == "response").collect();
        assert_eq!(responses.len(), 3);
        for ex in responses {
            let id = ex["endpoint"].as_str().unwrap();
            let body = ex["body"].as_str().unwrap();
            let payload = Value::Object(decode(id, &resp(200, body)).unwrap_or_else(|e| panic!("{id}: {e}")));
            let mut expected: Value = serde_json::from_str(body).unwrap();
            expected.as_object_mut().unwrap().remove("success");
            assert_eq!(payload, expected, "{id}");
        }
    }

    #[test]
    fn doc_example_indented_with_no_break_spaces() {
        // booked_confs.get's example as the doc prints it: U+00A0 indentation, '#' in conf_id.
        let body = "{\n\u{a0}\u{a0}\u{a0}\u{a0}\"success\":1,\n\u{a0}\u{a0}\u{a0}\u{a0}\"name\":\"test\u{a0}1\",\n\
                    \u{a0}\u{a0}\u{a0}\u{a0}\"conf_id\":\"123#456\",\n}";
        assert_eq!(ok(body), json!({"name": "test\u{a0}1", "conf_id": "123#456"}));
    }

    #[test]
    fn lists_keep_their_totals() {
        let body = r#"{"success":1,"total":12,"booked_confs":[{"conf_id":"1"}]}"#;
        assert_eq!(ok(body), json!({"total": 12, "booked_confs": [{"conf_id": "1"}]}));
        assert_eq!(
            ok(r#"{"success":1,"conf_id":"7","meeting_id":"m7","description":"ok"}"#),
            json!({"conf_id": "7", "meeting_id": "m7"})
        );
        assert_eq!(ok(r#"{"success":"1","result":0}"#), json!({"result": 0}));
    }

    #[test]
    fn failures_become_api_errors_with_code_and_description() {
        match decode("booked_confs.get", &resp(200, r#"{"success":0,"error_code":20004,"description":"not found"}"#)) {
            Err(Error::Api { code, message, endpoint, .. }) => {
                assert_eq!(
                    (code.as_str(), message.as_str(), endpoint.as_str()),
                    ("20004", "not found", "booked_confs.get")
                )
            }
            other => panic!("{other:?}"),
        }
        // version.get's failure: no description.
        match decode("version.get", &resp(200, r#"{"success":0,"error_code":"5"}"#)) {
            Err(Error::Api { code, message, .. }) => assert_eq!((code.as_str(), message.as_str()), ("5", "")),
            other => panic!("{other:?}"),
        }
        // An envelope on an HTTP error status is still the vendor's error.
        assert!(matches!(
            decode("x", &resp(401, r#"{"success":0,"error_code":1,"description":"d"}"#)),
            Err(Error::Api { .. })
        ));
    }

    #[test]
    fn non_envelopes_are_http_or_decode_errors() {
        assert!(matches!(decode("x", &resp(502, "<html>bad gateway")), Err(Error::Http { status: 502, .. })));
        assert!(matches!(decode("x", &resp(401, "")), Err(Error::Http { status: 401, .. })));
        assert!(matches!(decode("x", &resp(200, "<html>")), Err(Error::Decode { .. })));
        assert!(matches!(decode("x", &resp(200, "[1]")), Err(Error::Decode { .. })));
        assert!(matches!(decode("x", &resp(200, r#"{"total":1}"#)), Err(Error::Decode { .. })));
        assert!(matches!(decode("x", &resp(200, r#"{"success":7}"#)), Err(Error::Decode { .. })));
        assert!(matches!(decode("x", &resp(500, r#"{"success":1}"#)), Err(Error::Http { status: 500, .. })));
    }

    #[test]
    fn no_kedacom_error_is_retryable() {
        // Doc 001 documents no error codes, so none is known to pass when tried again.
        for code in ["500", "10002", "5"] {
            let body = format!(r#"{{"success":0,"error_code":"{code}","description":"d"}}"#);
            let e = decode("x", &resp(200, &body)).unwrap_err();
            assert!(matches!(e, Error::Api { retryable: false, .. }) && !e.is_retryable(), "{e:?}");
        }
    }
}
