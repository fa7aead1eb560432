use super::*;
use crate::vendors::avd::endpoints::ENDPOINTS;
use reqwest::header::HeaderMap;
use serde_json::json;

fn spec(id: &str) -> &'static EndpointSpec {
    ENDPOINTS.iter().find(|e| e.id == id).unwrap()
}

fn resp(status: u16, body: &str) -> RawResponse {
    RawResponse { status, headers: HeaderMap::new(), body: body.as_bytes().to_vec().into() }
}

fn ok(id: &str, body: &str) -> Value {
    Value::Object(decode(spec(id), &resp(200, body)).unwrap_or_else(|e| panic!("{id}: {e}\n{body}")))
}

fn api_code(id: &str, body: &str) -> String {
    match decode(spec(id), &resp(200, body)) {
        Err(Error::Api { code, .. }) => code,
        other => panic!("{id}: expected an API error, got {other:?}"),
    }
}

/// Every example in the vendor doc that is JSON (after the lenient pass): success
/// examples decode, error examples give the example's code as an API error.
#[test]
fn every_doc_example_decodes() {
    let examples: Vec<Value> = serde_json::from_str(include_str!("../testdata/doc_examples.json")).unwrap();
    let mut checked = 0;
    for ex in &examples {
        let id = ex["endpoint"].as_str().unwrap();
        let body = ex["body"].as_str().unwrap();
        let Ok(parsed) = crate::json::parse_lenient(body.as_bytes()) else {
            // Structurally broken in the doc itself (PDF page breaks): must be a Decode error, never a panic.
            assert!(matches!(decode(spec(id), &resp(200, body)), Err(Error::Decode { .. })), "{id}");
            continue;
        };
        checked += 1;
        if ex["kind"] == "success" {
            let payload = ok(id, body);
            assert!(payload.get("ret").is_none() && payload.get("msg").is_none(), "{id}: envelope left in payload");
        } else {
            let expected = parsed.get("ret").or(parsed.get("code")).unwrap().to_string();
            assert_eq!(api_code(id, body), expected, "{id}");
        }
    }
    assert!(checked >= 120, "only {checked} examples checked");
}

#[test]
fn quirky_examples_from_the_doc() {
    // Trailing commas, exactly as room/create shows them.
    assert_eq!(
        ok("room.create", "{\n  \"ret\": 0,\n  \"msg\": \"success\",\n  \"room_id\": \"12345123456\",\n}"),
        json!({"room_id": "12345123456"})
    );
    assert_eq!(api_code("room.create", "{\n  \"ret\": 40005,\n  \"msg\": \"room_id exists\",\n}"), "40005");
    // `code` instead of `ret`.
    assert_eq!(ok("room.close", "{\n  \"code\": 200,\n  \"msg\": \"success\",\n}"), json!({}));
    assert_eq!(api_code("room.close", r#"{"code": 41005, "msg": "Internal server error:room not found"}"#), "41005");
    // No envelope at all.
    let stats = ok("room.get_statistic", r#"{"meeting_total": 2, "user_cnt": 5}"#);
    assert_eq!(stats, json!({"meeting_total": 2, "user_cnt": 5}));
    // Token without msg; the failure example's 401.
    assert_eq!(
        ok("app.get_token", r#"{"ret":0,"token":"12345678999999999999",}"#),
        json!({"token": "12345678999999999999"})
    );
    assert_eq!(api_code("app.get_token", r#"{"ret":401,"msg":"授权错误!",}"#), "401");
    // `// comments` inside the JSON.
    assert_eq!(
        ok(
            "room.mix_record.get",
            "{\"ret\": 0, \"msg\": \"success\", \"data\": [{\"file_size\": \"0.234M\", //文件大小\n}]}"
        ),
        json!({"data": [{"file_size": "0.234M"}]})
    );
}

#[test]
fn api_errors_carry_the_documented_meaning() {
    match decode(spec("room.read"), &resp(200, r#"{"ret": 40004, "msg": "no such room"}"#)) {
        Err(e @ Error::Api { .. }) => {
            let text = e.to_string();
            assert!(text.starts_with("avd room.read: error 40004: no such room (Room id does not exist"), "{text}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn non_json_bodies() {
    match decode(spec("room.read"), &resp(502, "<html>bad gateway</html>")) {
        Err(Error::Http { status: 502, body, .. }) => assert!(body.contains("bad gateway")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(decode(spec("room.read"), &resp(200, "{\"ret\": 0, ")), Err(Error::Decode { .. })));
    assert!(matches!(decode(spec("room.read"), &resp(200, "[1,2]")), Err(Error::Decode { .. })));
    assert!(matches!(decode(spec("room.read"), &resp(200, r#"{"ret": "x"}"#)), Err(Error::Decode { .. })));
}

#[test]
fn attachment_urls_are_resolved_against_the_configured_host() {
    let base = Url::parse("http://127.0.0.1:9000/").unwrap();
    let mut v = json!({"data": [{
        "download_url": "https://avd.nice2meet.cn:9610/attachment?file=/home/data/a.mp4",
        "play_url": "https://avd.nice2meet.cn:9610/videoPlayer?url=https://avd.nice2meet.cn:9610/attachment?file=/home/data/a.mp4",
        "relative": "/attachment?file=/opt/x.jpg",
        "other": "https://cdn.example.com/a.mp4",
        "push_url": "rtmp://live/x"
    }]});
    let original = v.clone();
    // Default (rewrite_attachment_urls = false): only the relative link changes.
    let mut kept = v.clone();
    resolve_attachment_urls(&mut kept, &base, false);
    let k = &kept["data"][0];
    assert_eq!(k["relative"], "http://127.0.0.1:9000/attachment?file=/opt/x.jpg");
    for field in ["download_url", "play_url", "other", "push_url"] {
        assert_eq!(k[field], original["data"][0][field], "{field}");
    }
    resolve_attachment_urls(&mut v, &base, true);
    let f = &v["data"][0];
    assert_eq!(f["download_url"], "http://127.0.0.1:9000/attachment?file=/home/data/a.mp4");
    assert_eq!(f["relative"], "http://127.0.0.1:9000/attachment?file=/opt/x.jpg");
    assert_eq!(f["other"], "https://cdn.example.com/a.mp4");
    assert_eq!(f["push_url"], "rtmp://live/x");
    let play = Url::parse(f["play_url"].as_str().unwrap()).unwrap();
    assert_eq!(play.host_str(), Some("127.0.0.1"));
    let inner = play.query_pairs().find(|(k, _)| k == "url").unwrap().1.into_owned();
    assert_eq!(inner, "http://127.0.0.1:9000/attachment?file=/home/data/a.mp4");
}

#[test]
fn redis_mysql_and_internal_timeouts_are_retryable_others_not() {
    let retryable = |code: i64| {
        let e = decode(spec("room.list"), &resp(200, &format!(r#"{{"ret":{code},"msg":"m"}}"#))).unwrap_err();
        assert!(matches!(e, Error::Api { .. }), "{e:?}");
        e.is_retryable()
    };
    assert!(retryable(41001) && retryable(41002) && retryable(41003));
    assert!(!retryable(40005) && !retryable(40003));
}
