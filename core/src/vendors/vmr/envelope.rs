//! vmr response envelopes, as the docs show them.
//!
//! * Room API (003): `{"status": "success", "result": ...}`; `result` is an object, an array,
//!   or true/false — written in the doc as JSON `true`, the string `"true"` or quoted forms, so
//!   the strings `"true"`/`"false"` are read as booleans. The doc's prose says a command's
//!   result is `true` on success "otherwise false": a `false` result is an [`Error::Api`] with
//!   code `false`. Any other `status` is an error (its literal is undocumented).
//! * checkJoin: `{"code": "200", "timeStamp": ..., "results": {...}}` (`results`, plural).
//! * Supplementary API (002): `{"code": "200", "data": ..., "message": null, "state": 1}`;
//!   codes 200/400/403/500 and 200001–200008 carry the documented meanings.
//!
//! All three go through [`crate::json::parse_lenient`] (trailing commas appear in the doc).

use crate::json::{as_int, snippet, text};
use serde_json::{Map, Value};

use crate::endpoint::EndpointSpec;
use crate::json::parse_lenient;
use crate::transport::RawResponse;
use crate::{Error, Result, Vendor};

/// Decode a room-API response (`{status, result}`) into its `result`, booleans normalised.
pub fn decode_room(spec: &EndpointSpec, resp: &RawResponse) -> Result<Value> {
    let mut map = object(spec, resp)?;
    let Some(status) = map.get("status").map(text) else {
        return Err(no_envelope(spec, resp, "`status`"));
    };
    let result = map.remove("result").map(normalise_bool).unwrap_or(Value::Null);
    if !status.eq_ignore_ascii_case("success") {
        // Failure literal and HTTP statuses are undocumented: prefer the HTTP status as the code
        // when the server sent one, else the `status` literal.
        let code = if (200..300).contains(&resp.status) { status } else { resp.status.to_string() };
        let message = match &result {
            Value::Null => map.get("message").map(text).unwrap_or_default(),
            other => text(other),
        };
        return Err(api(spec, code, message, None));
    }
    if result == Value::Bool(false) {
        return Err(api(
            spec,
            "false".into(),
            "the command returned false".into(),
            Some("the server did not carry out the command (doc: result is true on success, otherwise false)"),
        ));
    }
    Ok(result)
}

/// Decode checkJoin's `{code, timeStamp, results}`: the envelope without `code`.
pub fn decode_check_join(spec: &EndpointSpec, resp: &RawResponse) -> Result<Value> {
    let mut map = object(spec, resp)?;
    let Some(code) = map.get("code").map(text) else {
        return Err(no_envelope(spec, resp, "`code`"));
    };
    if code.trim() != "200" {
        let message = ["message", "msg", "results"].iter().find_map(|k| map.get(*k)).map(text).unwrap_or_default();
        return Err(api(spec, code.trim().to_string(), message, None));
    }
    map.remove("code");
    Ok(Value::Object(map))
}

/// Decode the supplementary API's `{code, data, message, state}` into `data` (`null` when absent).
pub fn decode_supplementary(spec: &EndpointSpec, resp: &RawResponse) -> Result<Value> {
    let mut map = object(spec, resp)?;
    let Some(code) = map.get("code").map(text) else {
        return Err(no_envelope(spec, resp, "`code`"));
    };
    let code = code.trim().to_string();
    let failed_state = map.get("state").and_then(as_int) == Some(0);
    if code != "200" || failed_state {
        let message = map.get("message").filter(|m| !m.is_null()).map(text).unwrap_or_default();
        let meaning = super::error_meaning(&code);
        return Err(api(spec, code, message, meaning));
    }
    Ok(map.remove("data").unwrap_or(Value::Null))
}

/// `"true"`/`"false"` (any case) as booleans; everything else unchanged.
pub fn normalise_bool(v: Value) -> Value {
    match &v {
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Value::Bool(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Value::Bool(false),
        _ => v,
    }
}

/// The body as a JSON object; a non-JSON body is an [`Error::Http`] on a non-2xx status and
/// an [`Error::Decode`] otherwise.
fn object(spec: &EndpointSpec, resp: &RawResponse) -> Result<Map<String, Value>> {
    match parse_lenient(&resp.body) {
        Ok(Value::Object(map)) => Ok(map),
        _ if !(200..300).contains(&resp.status) => Err(resp.http_error(Vendor::Vmr, spec.id)),
        Ok(other) => Err(decode_error(spec, format!("expected a JSON object, got {}", crate::endpoint::kind(&other)))),
        Err(e) => Err(decode_error(spec, format!("not JSON ({e}); body starts {:?}", snippet(&resp.body)))),
    }
}

fn no_envelope(spec: &EndpointSpec, resp: &RawResponse, field: &str) -> Error {
    if (200..300).contains(&resp.status) {
        decode_error(spec, format!("the response has no {field} field; body starts {:?}", snippet(&resp.body)))
    } else {
        resp.http_error(Vendor::Vmr, spec.id)
    }
}

fn api(spec: &EndpointSpec, code: String, message: String, meaning: Option<&'static str>) -> Error {
    let retryable = super::RETRYABLE_CODES.contains(&code.as_str());
    Error::Api {
        vendor: Vendor::Vmr,
        endpoint: spec.id.to_string(),
        code,
        message,
        meaning,
        request_id: None,
        retryable,
    }
}

fn decode_error(spec: &EndpointSpec, message: String) -> Error {
    Error::Decode { vendor: Vendor::Vmr, endpoint: spec.id.to_string(), message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::vmr::endpoints::{host_of, Host, ENDPOINTS};
    use reqwest::header::HeaderMap;
    use serde_json::json;

    fn spec(id: &str) -> &'static EndpointSpec {
        ENDPOINTS.iter().find(|e| e.id == id).unwrap()
    }

    fn resp(status: u16, body: &str) -> RawResponse {
        RawResponse { status, headers: HeaderMap::new(), body: body.as_bytes().to_vec().into() }
    }

    fn decode(id: &str, status: u16, body: &str) -> Result<Value> {
        let s = spec(id);
        match (id, host_of(s)) {
            ("meet.check_join", _) => decode_check_join(s, &resp(status, body)),
            (_, Host::ApiServer) => decode_supplementary(s, &resp(status, body)),
            (_, Host::McuHost) => decode_room(s, &resp(status, body)),
        }
    }

    /// Every doc example that parses (after the lenient pass) decodes: success examples to
    /// their payload, and the structurally broken ones to a Decode error, never a panic.
    #[test]
    fn every_doc_example_decodes() {
        let examples: Vec<Value> = serde_json::from_str(include_str!("testdata/doc_examples.json")).unwrap();
        let mut checked = 0;
        for ex in &examples {
            let id = ex["endpoint"].as_str().unwrap();
            let body = ex["body"].as_str().unwrap();
            let Ok(parsed) = parse_lenient(body.as_bytes()) else {
                assert!(matches!(decode(id, 200, body), Err(Error::Decode { .. })), "{id}: {body}");
                continue;
            };
            checked += 1;
            let payload = decode(id, 200, body).unwrap_or_else(|e| panic!("{id}: {e}\n{body}"));
            let expected = match (id, host_of(spec(id))) {
                ("meet.check_join", _) => json!({"timeStamp": parsed["timeStamp"], "results": parsed["results"]}),
                (_, Host::ApiServer) => parsed.get("data").cloned().unwrap_or(Value::Null),
                (_, Host::McuHost) => normalise_bool(parsed["result"].clone()),
            };
            assert_eq!(payload, expected, "{id}");
        }
        assert!(checked >= 25, "only {checked} examples checked");
    }

    #[test]
    fn true_results_in_every_spelling() {
        for body in [
            r#"{"status": "success", "result": true}"#,
            r#"{"status": "success", "result": "true"}"#,
            r#"{"status": "success", "result": " TRUE "}"#,
        ] {
            assert_eq!(decode("conference.lock", 200, body).unwrap(), json!(true), "{body}");
        }
        for body in [r#"{"status": "success", "result": false}"#, r#"{"status": "success", "result": "false"}"#] {
            match decode("participant.mute", 200, body) {
                Err(Error::Api { code, meaning: Some(_), .. }) => assert_eq!(code, "false"),
                other => panic!("{body}: {other:?}"),
            }
        }
        // Arrays and objects pass through; `expires` stays the doc's string.
        assert_eq!(
            decode("conference.dial", 200, r#"{"status":"success","result":["u1","u2"]}"#).unwrap(),
            json!(["u1", "u2"])
        );
        let s = decode("session.refresh", 200, r#"{"status":"success","result":{"token":"t","expires":"120"}}"#);
        assert_eq!(s.unwrap(), json!({"token": "t", "expires": "120"}));
    }

    #[test]
    fn room_failures_are_typed() {
        match decode("conference.lock", 403, r#"{"status": "failure", "result": "Invalid token"}"#) {
            Err(Error::Api { code, message, .. }) => {
                assert_eq!((code.as_str(), message.as_str()), ("403", "Invalid token"))
            }
            other => panic!("{other:?}"),
        }
        match decode("conference.lock", 200, r#"{"status": "failed", "result": "not a host"}"#) {
            Err(Error::Api { code, .. }) => assert_eq!(code, "failed"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(decode("conference.lock", 401, "Unauthorized"), Err(Error::Http { status: 401, .. })));
        assert!(matches!(decode("conference.lock", 200, "<html>"), Err(Error::Decode { .. })));
        assert!(matches!(decode("conference.lock", 200, r#"{"result": true}"#), Err(Error::Decode { .. })));
    }

    #[test]
    fn check_join_envelope() {
        let ok = decode(
            "meet.check_join",
            200,
            r#"{"code": "200", "timeStamp": "2017-05-24 15:41:30", "results": {"mcuHost": "mcu.example.cn", "isDot": false}}"#,
        )
        .unwrap();
        assert_eq!(ok["results"]["mcuHost"], "mcu.example.cn");
        assert!(ok.get("code").is_none());
        match decode("meet.check_join", 200, r#"{"code": "404", "message": "no such room"}"#) {
            Err(Error::Api { code, message, .. }) => {
                assert_eq!((code.as_str(), message.as_str()), ("404", "no such room"))
            }
            other => panic!("{other:?}"),
        }
        // The doc example itself has unquoted xxxx placeholders: a Decode error, not a panic.
        assert!(matches!(
            decode("meet.check_join", 200, r#"{"code": "200", "results": {"isDot": xxxx}}"#),
            Err(Error::Decode { .. })
        ));
    }

    #[test]
    fn supplementary_codes_have_meanings() {
        let trailing =
            "{\n \"code\": \"200\",\n \"data\": {\"recordId\": \"r1\",},\n \"message\": null,\n \"state\": 1,\n}";
        assert_eq!(decode("record.close", 200, trailing).unwrap(), json!({"recordId": "r1"}));
        assert_eq!(decode("live.close", 200, r#"{"code": "200", "message": null, "state": 1}"#).unwrap(), Value::Null);
        for (code, word) in [
            ("200001", "auth"),
            ("200002", "Live streaming is already on"),
            ("200003", "Recording is already on"),
            ("200004", "not allowed to record"),
            ("200005", "not allowed to live-stream"),
            ("200006", "not started"),
            ("200007", "Recording has not been started"),
            ("200008", "does not exist"),
            ("400", "parameters"),
            ("403", "auth"),
            ("500", "Internal"),
        ] {
            let body = format!(r#"{{"code": "{code}", "data": null, "message": "x", "state": 0}}"#);
            match decode("record.open", 200, &body) {
                Err(e @ Error::Api { .. }) => {
                    let Error::Api { code: c, meaning, .. } = &e else { unreachable!() };
                    assert_eq!(c, code);
                    assert!(meaning.unwrap().contains(word), "{code}: {meaning:?}");
                    assert!(e.to_string().contains(word), "{e}");
                }
                other => panic!("{code}: {other:?}"),
            }
        }
        // Numeric code, and an HTTP 403 carrying the envelope: the envelope's code wins.
        match decode("live.open", 403, r#"{"code": 403, "message": "auth error", "state": 0}"#) {
            Err(Error::Api { code, .. }) => assert_eq!(code, "403"),
            other => panic!("{other:?}"),
        }
        // state 0 with code 200 is still a failure.
        assert!(matches!(decode("live.open", 200, r#"{"code": "200", "state": 0}"#), Err(Error::Api { .. })));
    }

    #[test]
    fn the_supplementary_apis_500_is_retryable_others_not() {
        let api_server = ENDPOINTS.iter().find(|e| host_of(e) == Host::ApiServer && e.id != "meet.check_join").unwrap();
        let retryable = |code: &str| {
            let body = format!(r#"{{"code":"{code}","message":"m","data":null}}"#);
            let e = decode(api_server.id, 200, &body).unwrap_err();
            assert!(matches!(e, Error::Api { .. }), "{e:?}");
            e.is_retryable()
        };
        assert!(retryable("500"));
        assert!(!retryable("200007") && !retryable("403"));
    }
}
