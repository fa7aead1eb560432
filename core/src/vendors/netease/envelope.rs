//! NetEase response envelopes (doc 004, 公共响应参数), with the doc's deviations.
//!
//! * `{code, msg, requestId, costTime, ret}`: `code` 200 is success, `ret` the payload;
//! * bare `{"code": 200}` (meeting.update/cancel/end_by_*) and `{"code": 501, "msg": ...}` without
//!   `requestId`: the payload is `{}`;
//! * `ret` as a JSON array (meeting.record_list), and record entries either flat or nested under
//!   `fileInfo` (the field table) — normalised by [`normalize_records`];
//! * `costTime` as text with a unit (`"406ms"`) or a number;
//! * `code`/`msg` repeated inside `ret` (meeting.anonymous_join_info): an inner non-200 code is an error too;
//! * trailing commas and `//` comments ([`crate::json::parse_lenient`]).

use std::time::Duration;

use crate::json::{as_int, text};
use serde_json::{Map, Value};

use crate::endpoint::EndpointSpec;
use crate::json::parse_lenient;
use crate::transport::RawResponse;
use crate::{Error, Result, Vendor};

/// A decoded NetEase envelope.
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope {
    /// `code`: 200 on success.
    pub code: i64,
    /// `msg`, when sent.
    pub msg: Option<String>,
    /// `requestId` (request serial number, e.g. `mc_932241123450`), when sent.
    pub request_id: Option<String>,
    /// `costTime` (server processing time), when sent and readable.
    pub cost_time: Option<Duration>,
    /// `ret`, or `Value::Null` when absent.
    pub ret: Value,
}

impl Envelope {
    /// Read an envelope from a response body. `None` when the body is not a JSON object
    /// with an integer `code`.
    pub fn parse(body: &[u8]) -> Option<Envelope> {
        let Ok(Value::Object(mut map)) = parse_lenient(body) else { return None };
        let code = as_int(map.get("code")?)?;
        Some(Envelope {
            code,
            msg: map.remove("msg").as_ref().map(text),
            request_id: map.remove("requestId").filter(|v| !v.is_null()).as_ref().map(text),
            cost_time: map.get("costTime").and_then(parse_cost_time),
            ret: map.remove("ret").unwrap_or(Value::Null),
        })
    }
}

/// `costTime` as the doc shows it (`"406ms"`), or a bare number of milliseconds (`406`, `"406"`), or seconds (`"1.2s"`).
pub fn parse_cost_time(v: &Value) -> Option<Duration> {
    match v {
        Value::Number(n) => n.as_f64().and_then(|ms| Duration::try_from_secs_f64(ms / 1000.0).ok()),
        Value::String(s) => {
            let s = s.trim();
            let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
                (n, 0.001)
            } else if let Some(n) = s.strip_suffix('s') {
                (n, 1.0)
            } else {
                (s, 0.001)
            };
            // An absurd value (negative, NaN, 1e300) is no duration: None, never a panic.
            num.trim().parse::<f64>().ok().and_then(|f| Duration::try_from_secs_f64(f * scale).ok())
        }
        _ => None,
    }
}

/// Decode one response into its payload (`ret`, `{}` when absent) or an [`Error::Api`] (with the
/// documented meaning and `requestId`), [`Error::Http`] or [`Error::Decode`].
pub fn decode(spec: &EndpointSpec, resp: &RawResponse) -> Result<Value> {
    decode_parsed(spec, resp, Envelope::parse(&resp.body))
}

/// [`decode`] of a response whose envelope the caller already read with [`Envelope::parse`]
/// (`None`: the body is no envelope), so that the body is parsed once.
pub fn decode_parsed(spec: &EndpointSpec, resp: &RawResponse, env: Option<Envelope>) -> Result<Value> {
    let ok_status = (200..300).contains(&resp.status);
    let Some(env) = env else {
        if !ok_status {
            return Err(resp.http_error(Vendor::Netease, spec.id));
        }
        return Err(decode_error(spec, describe_bad_body(&resp.body)));
    };
    tracing::debug!(endpoint = spec.id, code = env.code, request_id = env.request_id.as_deref(), cost = ?env.cost_time, "netease envelope");
    if env.code != 200 {
        return Err(api_error(spec, env.code, env.msg.unwrap_or_default(), env.request_id));
    }
    let mut ret = match env.ret {
        Value::Null => Value::Object(Map::new()),
        other => other,
    };
    // anonymousJoinInfo repeats code/msg inside ret.
    if let Some(inner) = ret.get("code").and_then(as_int) {
        if inner != 200 {
            let msg = ret.get("msg").map(text).unwrap_or_default();
            return Err(api_error(spec, inner, msg, env.request_id));
        }
    }
    if spec.id == "meeting.record_list" {
        ret = normalize_records(ret);
    }
    Ok(ret)
}

/// meeting.record_list's `ret` as one flat array of file objects, whatever the server sent:
/// the example's array of flat objects, the field table's `{fileInfo: {...}, accountId}` (one
/// object or an array of them), or an object holding such an array under any key.
pub fn normalize_records(ret: Value) -> Value {
    fn flatten(item: Value) -> Value {
        let Value::Object(mut map) = item else { return item };
        if let Some(Value::Object(info)) = map.remove("fileInfo") {
            for (k, v) in info {
                map.entry(k).or_insert(v);
            }
        }
        Value::Object(map)
    }
    match ret {
        Value::Array(items) => Value::Array(items.into_iter().map(flatten).collect()),
        Value::Object(map) if map.contains_key("fileInfo") || map.contains_key("url") => {
            Value::Array(vec![flatten(Value::Object(map))])
        }
        Value::Object(map) if map.is_empty() => Value::Array(Vec::new()),
        Value::Object(map) => match map.into_iter().find(|(_, v)| v.is_array()) {
            Some((_, Value::Array(items))) => Value::Array(items.into_iter().map(flatten).collect()),
            _ => Value::Array(Vec::new()),
        },
        Value::Null => Value::Array(Vec::new()),
        other => other,
    }
}

fn api_error(spec: &EndpointSpec, code: i64, message: String, request_id: Option<String>) -> Error {
    Error::Api {
        vendor: Vendor::Netease,
        endpoint: spec.id.to_string(),
        code: code.to_string(),
        message,
        meaning: super::error_meaning(&code.to_string()),
        request_id,
        retryable: super::RETRYABLE_CODES.contains(&code.to_string().as_str()),
    }
}

fn describe_bad_body(body: &[u8]) -> String {
    match parse_lenient(body) {
        Err(e) => format!("not JSON ({e}); body starts {:?}", crate::json::snippet(body)),
        Ok(Value::Object(m)) => match m.get("code") {
            Some(c) => format!("`code` is not an integer: {c}"),
            None => "no `code` in the response".to_string(),
        },
        Ok(other) => format!("expected a JSON object, got {}", crate::endpoint::kind(&other)),
    }
}

fn decode_error(spec: &EndpointSpec, message: String) -> Error {
    Error::Decode { vendor: Vendor::Netease, endpoint: spec.id.to_string(), message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::netease::endpoints::ENDPOINTS;
    use reqwest::header::HeaderMap;
    use serde_json::json;

    fn spec(id: &str) -> &'static EndpointSpec {
        ENDPOINTS.iter().find(|e| e.id == id).unwrap()
    }

    fn resp(status: u16, body: &str) -> RawResponse {
        RawResponse { status, headers: HeaderMap::new(), body: body.as_bytes().to_vec().into() }
    }

    fn ok(id: &str, body: &str) -> Value {
        decode(spec(id), &resp(200, body)).unwrap_or_else(|e| panic!("{id}: {e}\n{body}"))
    }

    fn api(id: &str, status: u16, body: &str) -> (String, Option<&'static str>, Option<String>) {
        match decode(spec(id), &resp(status, body)) {
            Err(Error::Api { code, meaning, request_id, .. }) => (code, meaning, request_id),
            other => panic!("{id}: expected an API error, got {other:?}"),
        }
    }

    /// Every response example of the doc: successes decode, errors give the example's code.
    #[test]
    fn every_doc_example_decodes() {
        let examples: Vec<Value> = serde_json::from_str(include_str!("testdata/doc_examples.json")).unwrap();
        assert_eq!(examples.len(), 12);
        for ex in &examples {
            let id = ex["endpoint"].as_str().unwrap();
            let body = ex["body"].as_str().unwrap();
            if ex["kind"] == "success" {
                let payload = ok(id, body);
                assert!(payload.is_object() || payload.is_array(), "{id}: {payload}");
            } else {
                let (code, meaning, _) = api(id, 200, body);
                assert_eq!(code, "501", "{id}");
                assert_eq!(meaning, Some("Internal server error"));
            }
        }
    }

    #[test]
    fn bare_code_200_is_an_empty_payload() {
        assert_eq!(ok("meeting.update", r#"{"code":200}"#), json!({}));
        assert_eq!(ok("meeting.cancel", r#"{"code":"200","msg":"ok"}"#), json!({}));
    }

    #[test]
    fn record_list_as_in_the_doc_with_comments_and_cost_time() {
        // The doc's block as written: `//` comments and the flat array under ret.
        let body = "//成功结果示例\n{\n \"code\": 200,\n \"ret\": [\n  {\"filename\": \"0-1234-0-mix.aac\", \"md5\": \"xxxxxx\", \
                    \"size\": 12345667, \"type\": \"aac\", \"url\": \"http://xiazai.vod.126.net/xiazai/0-1234-0-mix.aac\", \
                    \"mix\": 1, \"pieceIndex\": 0},\n ],\n \"requestId\": \"mc_932241123450\",\n \"costTime\": \"406ms\"\n}";
        let files = ok("meeting.record_list", body);
        assert_eq!(files[0]["filename"], "0-1234-0-mix.aac");
        let env = Envelope::parse(body.as_bytes()).unwrap();
        assert_eq!(env.cost_time, Some(Duration::from_millis(406)));
        assert_eq!(env.request_id.as_deref(), Some("mc_932241123450"));
    }

    #[test]
    fn record_list_field_table_shape_is_flattened() {
        let body =
            r#"{"code":200,"ret":{"fileInfo":{"filename":"a.mp4","url":"http://h/a.mp4","size":3},"accountId":"u1"}}"#;
        assert_eq!(
            ok("meeting.record_list", body),
            json!([{"accountId": "u1", "filename": "a.mp4", "url": "http://h/a.mp4", "size": 3}])
        );
        let body = r#"{"code":200,"ret":[{"fileInfo":{"filename":"b.aac"},"accountId":"u2"}]}"#;
        assert_eq!(ok("meeting.record_list", body), json!([{"accountId": "u2", "filename": "b.aac"}]));
        assert_eq!(ok("meeting.record_list", r#"{"code":200}"#), json!([]));
        assert_eq!(ok("meeting.record_list", r#"{"code":200,"ret":{"list":[{"url":"u"}]}}"#), json!([{"url": "u"}]));
    }

    #[test]
    fn errors_keep_request_id_and_meaning() {
        let (code, meaning, rid) =
            api("meeting.get", 200, r#"{"code":2000,"msg":"该会议不存在","requestId":"mc_1","costTime":"3ms"}"#);
        assert_eq!((code.as_str(), meaning, rid.as_deref()), ("2000", Some("Meeting does not exist"), Some("mc_1")));
        // An envelope with a non-2xx status is still the vendor's error.
        assert_eq!(api("meeting.get", 500, r#"{"code":501,"msg":"服务器内部错误"}"#).0, "501");
    }

    #[test]
    fn anonymous_join_info_inner_code() {
        let body = r#"{"code":200,"ret":{"code":200,"msg":"ok","meetingId":"123456789","avRoomUid":7}}"#;
        assert_eq!(ok("meeting.anonymous_join_info", body)["avRoomUid"], 7);
        let body = r#"{"code":200,"requestId":"r9","ret":{"code":701,"msg":"匿名账号分配失败"}}"#;
        let (code, meaning, rid) = api("meeting.anonymous_join_info", 200, body);
        assert_eq!((code.as_str(), rid.as_deref()), ("701", Some("r9")));
        assert_eq!(meaning, Some("Anonymous account allocation failed, retry later"));
    }

    #[test]
    fn non_envelopes() {
        assert!(matches!(
            decode(spec("meeting.get"), &resp(502, "<html>bad gateway</html>")),
            Err(Error::Http { status: 502, .. })
        ));
        assert!(matches!(decode(spec("meeting.get"), &resp(200, "<html>")), Err(Error::Decode { .. })));
        let e = decode(spec("meeting.get"), &resp(200, r#"{"ret":{}}"#)).unwrap_err().to_string();
        assert!(e.contains("no `code`"), "{e}");
    }

    #[test]
    fn cost_time_forms() {
        assert_eq!(parse_cost_time(&json!("406ms")), Some(Duration::from_millis(406)));
        assert_eq!(parse_cost_time(&json!(12)), Some(Duration::from_millis(12)));
        assert_eq!(parse_cost_time(&json!("7")), Some(Duration::from_millis(7)));
        assert_eq!(parse_cost_time(&json!("1.5s")), Some(Duration::from_millis(1500)));
        assert_eq!(parse_cost_time(&json!("soon")), None);
    }

    #[test]
    fn busy_and_internal_errors_are_retryable_others_not() {
        let retryable = |code: i64| {
            let e = decode(spec("meeting.list"), &resp(200, &format!(r#"{{"code":{code},"msg":"m"}}"#))).unwrap_err();
            assert!(matches!(e, Error::Api { .. }), "{e:?}");
            e.is_retryable()
        };
        assert!(retryable(501) && retryable(510) && retryable(512));
        assert!(!retryable(2000) && !retryable(401));
    }
}
