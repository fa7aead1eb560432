use super::*;
use std::collections::HashSet;
use std::sync::Mutex;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::json;

const SECRET: &str = "AppSecretExample0001";

#[test]
fn table_has_the_catalogs_15_unique_ids() {
    assert_eq!(ENDPOINTS.len(), 15);
    let ids: HashSet<&str> = ENDPOINTS.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 15, "duplicate endpoint ids");
    for id in ["account.create", "meeting.create", "meeting.end_by_short_id", "meeting.record_list", "meeting.list"] {
        assert!(ids.contains(id), "{id}");
    }
    for e in ENDPOINTS {
        assert_eq!(e.method, crate::endpoint::HttpMethod::Post, "{}", e.id);
        assert!(e.path.starts_with("/v1/") || e.path.starts_with("/v2/"), "{}", e.id);
    }
}

#[test]
fn all_59_error_codes_have_meanings() {
    assert_eq!(endpoints::ERROR_CODES.len(), 59);
    let codes: HashSet<i64> = endpoints::ERROR_CODES.iter().map(|c| c.0).collect();
    assert_eq!(codes.len(), 59);
    assert_eq!(error_meaning("2000"), Some("Meeting does not exist"));
    assert_eq!(error_meaning("401"), Some("Request failed verification (authentication)"));
    assert_eq!(error_meaning("4001"), Some("App has reached its concurrency limit"));
    assert_eq!(error_meaning("200"), None);
    assert_eq!(error_meaning("abc"), None);
}

#[test]
fn nested_settings_are_validated_before_sending() {
    let spec = crate::endpoint::lookup(Vendor::Netease, ENDPOINTS, "meeting.create").unwrap();
    let good = json!({"host": "h", "type": 1, "subject": "随机会议", "settings": {
        "scene": {"roleTypes": [{"roleType": 2, "maxCount": 1}, {"roleType": 1, "maxCount": 1}]},
        "controls": [{"type": "audio", "attendeeOff": 1}, {"type": "video", "attendeeOff": 2}]}});
    spec.validate(&good).unwrap();
    let e = spec
        .validate(&json!({"host": "h", "type": 1, "subject": "s", "settings": {"controls": [{"attendeeOff": 1}]}}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("`settings.controls[0].type`"), "{e}");
    let e = spec
        .validate(&json!({"host": "h", "type": 1, "subject": "s", "settings": {"scene": {"roleTypes": [{"role": 1}]}}}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("`settings.scene.roleTypes[0].role`") && e.contains("did you mean `roleType`"), "{e}");
}

fn check(id: &str, params: Value) -> Result<()> {
    let spec = crate::endpoint::lookup(Vendor::Netease, ENDPOINTS, id).unwrap();
    spec.validate(&params)?;
    check_params(spec, params.as_object().unwrap())
}

fn bad_param(r: Result<()>) -> String {
    match r {
        Err(Error::InvalidParams { param, .. }) => param,
        other => panic!("expected InvalidParams, got {other:?}"),
    }
}

#[test]
fn vendor_rules_are_checked_before_sending() {
    check("meeting.create", json!({"host": "h", "type": "1", "subject": "s"})).unwrap();
    assert_eq!(bad_param(check("meeting.create", json!({"host": "h", "type": 4, "subject": "s"}))), "type");
    assert_eq!(bad_param(check("meeting.create", json!({"host": "h", "type": true, "subject": "s"}))), "type");
    assert_eq!(bad_param(check("meeting.create", json!({"host": "h", "type": 3, "subject": "s"}))), "startTime");
    let long = "x".repeat(31);
    assert_eq!(bad_param(check("meeting.create", json!({"host": "h", "type": 1, "subject": long}))), "subject");
    let sched = json!({"host": "h", "type": 3, "subject": "s", "startTime": 2000, "endTime": 1000});
    assert_eq!(bad_param(check("meeting.create", sched)), "endTime");
    check("meeting.update", json!({"meetingUniqueId": 1, "subject": "s", "startTime": 5, "endTime": -1})).unwrap();
    assert_eq!(bad_param(check("account.create", json!({"shortId": "12"}))), "shortId");
    assert_eq!(bad_param(check("account.update_short_id", json!({"accountId": "a", "shortId": "12ab"}))), "shortId");
    check("meeting.end_by_short_id", json!({"shortId": "10000"})).unwrap();
    assert_eq!(bad_param(check("meeting.list", json!({"pageSize": 101}))), "pageSize");
    assert_eq!(bad_param(check("meeting.list", json!({"statusList": [1, "x"]}))), "statusList");
    let join = json!({"clientType": 6, "deviceId": "d", "meetingId": "123456789", "nickName": "hello", "video": 1, "audio": 3});
    assert_eq!(bad_param(check("meeting.anonymous_join_info", join)), "audio");
    let bad_control = json!({"meetingUniqueId": 1, "subject": "s", "settings": {"controls": [{"type": "screen"}]}});
    assert_eq!(bad_param(check("meeting.update", bad_control)), "settings.controls[0].type");
}

/// What a fake NetEase server saw.
#[derive(Default)]
struct Seen {
    requests: Vec<(HeaderMap, String, String)>,
}

/// A fake NetEase: checks the signature of every request; answers `answer(path)` with extra headers.
async fn fake(
    answer: impl Fn(&str) -> (Value, Option<&'static str>) + Clone + Send + Sync + 'static,
) -> (NeteaseClient, Arc<Mutex<Seen>>) {
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let s = seen.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri, headers: HeaderMap, body: String| {
        let (s, answer) = (s.clone(), answer.clone());
        async move {
            let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            let good =
                sign::request_checksum(SECRET, &h("Nonce"), &h("CurTime")) == h("CheckSum") && h("AppKey") == "ak";
            s.lock().unwrap().requests.push((headers.clone(), uri.path().to_string(), body));
            let (mut value, date) = answer(uri.path());
            if !good {
                value = json!({"code": 401, "msg": "bad signature"});
            }
            let mut out = HeaderMap::new();
            if let Some(d) = date {
                out.insert("date", HeaderValue::from_static(d));
            }
            (StatusCode::OK, out, value.to_string())
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let config = NeteaseConfig {
        base_url: base,
        app_key: "ak".into(),
        app_secret: Secret::new(SECRET),
        callback_listen: None,
        callback_path: default_callback_path(),
        callback_max_age_secs: 300,
        callback_max_connections: None,
        callback_header_timeout_secs: None,
        callback_body_timeout_secs: None,
    };
    (NeteaseClient::new(config, Arc::new(Transport::new(Default::default()).unwrap())).unwrap(), seen)
}

fn spec(id: &str) -> &'static EndpointSpec {
    crate::endpoint::lookup(Vendor::Netease, ENDPOINTS, id).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_request_is_signed_with_a_fresh_nonce_under_50_concurrent_callers() {
    let (client, seen) = fake(|_| (json!({"code": 200, "ret": {"meetingUniqueId": 1, "status": 1}}), None)).await;
    let client = Arc::new(client);
    let calls = (0..50).map(|i| {
        let c = client.clone();
        tokio::spawn(async move {
            let mut p = Map::new();
            p.insert("meetingUniqueId".into(), json!(i));
            c.call_spec(spec("meeting.get"), p).await
        })
    });
    for r in futures::future::join_all(calls).await {
        assert_eq!(MeetingStatus::of(&r.unwrap().unwrap()), Some(MeetingStatus::NotStart));
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.requests.len(), 50);
    let nonces: HashSet<String> =
        seen.requests.iter().map(|(h, _, _)| h["Nonce"].to_str().unwrap().to_string()).collect();
    assert!(nonces.len() >= 49, "nonces must be fresh per request");
    let now = unix_secs();
    for (h, path, body) in seen.requests.iter() {
        assert_eq!(path, "/v2/meeting/get");
        assert_eq!(h["content-type"], "application/json;charset=utf-8");
        let cur: i64 = h["CurTime"].to_str().unwrap().parse().unwrap();
        assert!((now - cur).abs() <= 5, "CurTime in seconds");
        assert!(body.starts_with("{\"meetingUniqueId\":"), "{body}");
    }
}

#[tokio::test]
async fn anonymous_join_info_sends_its_extra_headers() {
    let (client, seen) = fake(|_| (json!({"code": 200, "ret": {"code": 200, "meetingId": "123456789"}}), None)).await;
    let params = json!({"clientType": 6, "deviceId": "dev-1", "meetingId": "123456789", "nickName": "hello", "video": 1, "audio": 2});
    let ret = client.call_spec(spec("meeting.anonymous_join_info"), params.as_object().unwrap().clone()).await.unwrap();
    assert_eq!(ret["meetingId"], "123456789");
    let seen = seen.lock().unwrap();
    let (h, path, body) = &seen.requests[0];
    assert_eq!(path, "/v1/meeting/anonymousJoinInfo");
    assert_eq!((h["clientType"].to_str().unwrap(), h["deviceId"].to_str().unwrap()), ("6", "dev-1"));
    assert_eq!(h["authorization"].to_str().unwrap(), sign::md5_hex(format!("{body}@163").as_bytes()));
    let sent: Value = serde_json::from_str(body).unwrap();
    assert_eq!(sent, json!({"meetingId": "123456789", "nickName": "hello", "video": 1, "audio": 2}));
}

fn auth_message(r: Result<Value>) -> String {
    match r {
        Err(Error::Auth { message, .. }) => message,
        other => panic!("expected an auth error, got {other:?}"),
    }
}

#[tokio::test]
async fn clock_skew_is_reported_with_the_implied_skew() {
    // The server's Date is 2020: this machine looks years ahead.
    let (client, _) = fake(|_| {
        (json!({"code": 401, "msg": "请求未通过验证", "requestId": "mc_9"}), Some("Mon, 13 Jul 2020 11:17:16 GMT"))
    })
    .await;
    let m = auth_message(client.call_spec(spec("meeting.list"), Map::new()).await);
    assert!(m.contains("clock skew") && m.contains("ahead of the server") && m.contains("1594639036"), "{m}");
    assert!(m.contains("requestId mc_9"), "{m}");
    let expected = unix_secs() - 1_594_639_036;
    assert!(m.contains(&format!("{expected} s")) || m.contains(&format!("{} s", expected + 1)), "{m}");
}

#[tokio::test]
async fn a_refused_signature_without_date_says_so() {
    let (client, _) = fake(|_| (json!({"code": 200}), None)).await;
    let mut bad = client.config.clone();
    bad.app_secret = Secret::new("wrong");
    let mut wrong = NeteaseClient::new(bad, client.transport.clone()).unwrap();
    wrong.base.clone_from(&client.base);
    let m = auth_message(wrong.call_spec(spec("meeting.list"), Map::new()).await);
    // hyper adds a Date header of its own: the clock is fine, so the credentials are at fault.
    assert!(m.contains("not clock skew") && m.contains("app_secret"), "{m}");
    assert!(!m.contains("wrong"), "the secret must not leak: {m}");

    let date_less = signature_refused(
        spec("meeting.get"),
        &envelope::Envelope::parse(br#"{"code":401,"msg":"signature expired"}"#).unwrap(),
        &RawResponse { status: 200, headers: Default::default(), body: Default::default() },
        1_700_000_000,
    );
    let m = date_less.to_string();
    assert!(m.contains("clock skew") && m.contains("no Date header") && m.contains("1700000000"), "{m}");
}

#[tokio::test]
async fn api_errors_are_typed_with_request_id() {
    let (client, _) =
        fake(|_| (json!({"code": 2000, "msg": "该会议不存在", "requestId": "mc_1", "costTime": "2ms"}), None)).await;
    let mut p = Map::new();
    p.insert("meetingUniqueId".into(), json!(1));
    match client.call_spec(spec("meeting.get"), p).await {
        Err(Error::Api { code, meaning, request_id, .. }) => {
            assert_eq!(
                (code.as_str(), meaning, request_id.as_deref()),
                ("2000", Some("Meeting does not exist"), Some("mc_1"))
            )
        }
        other => panic!("{other:?}"),
    }
}

#[cfg(feature = "webhook")]
#[tokio::test]
async fn events_need_a_listen_address_then_stream_verified_callbacks() {
    let (client, _) = fake(|_| (json!({"code": 200}), None)).await;
    let e = match client.subscribe(Map::new()).await {
        Err(e) => e.to_string(),
        Ok(_) => panic!("no listen address configured"),
    };
    assert!(e.contains("callback_listen"), "{e}");
    let mut p = Map::new();
    p.insert("listen".into(), json!("127.0.0.1:0"));
    let mut events = client.subscribe(p).await.unwrap();
    let url = client.running.lock().await.as_ref().unwrap().url();
    assert!(url.ends_with("/netease/callback"), "{url}");
    let body = r#"{"msgType":1,"msgBody":{"meetingUniqueId":3,"meetingId":"123456789","time":1}}"#;
    let (nonce, cur) = ("n1", (unix_secs() * 1000).to_string());
    let status = reqwest::Client::new()
        .post(&url)
        .header("AppKey", "ak")
        .header("Nonce", nonce)
        .header("CurTime", &cur)
        .header("CheckSum", sign::callback_checksum(SECRET, nonce, &cur, body.as_bytes()))
        .body(body)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    use futures::StreamExt;
    let ev = events.next().await.unwrap().unwrap();
    assert_eq!((ev.vendor, ev.kind.as_str()), (Vendor::Netease, "MEETING_ROOM_START"));
}

/// A signed callback whose `CurTime` is the smallest or largest i64 overflowed the age
/// arithmetic (a panic in the handler, the connection dropped); it is now refused as stale or
/// ahead with 401. A `max_age` beyond i64 milliseconds no longer wraps to "everything stale".
#[cfg(feature = "webhook")]
#[tokio::test]
async fn extreme_cur_times_and_windows_are_refused_or_accepted_without_overflow() {
    let body = r#"{"msgType":1,"msgBody":{"meetingUniqueId":3,"meetingId":"123456789","time":1}}"#;
    let post = |url: String, cur: String| async move {
        reqwest::Client::new()
            .post(&url)
            .header("AppKey", "ak")
            .header("Nonce", "n1")
            .header("CurTime", &cur)
            .header("CheckSum", sign::callback_checksum(SECRET, "n1", &cur, body.as_bytes()))
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
    };
    let receiver = CallbackReceiver::new(CallbackConfig::new("ak", Secret::new(SECRET)));
    let running = receiver.serve("127.0.0.1:0", "/cb").await.unwrap();
    for cur in [i64::MIN, i64::MAX, i64::MIN + 1] {
        assert_eq!(post(running.url(), cur.to_string()).await, 401, "CurTime {cur}");
    }
    let mut wide = CallbackConfig::new("ak", Secret::new(SECRET));
    wide.max_age = Duration::MAX;
    let receiver = CallbackReceiver::new(wide);
    let running = receiver.serve("127.0.0.1:0", "/cb").await.unwrap();
    assert_eq!(post(running.url(), "1".into()).await, 200, "a 1970 CurTime is within an unbounded window");

    let mut config = NeteaseConfig {
        base_url: "http://127.0.0.1:9".into(),
        app_key: "ak".into(),
        app_secret: Secret::new(SECRET),
        callback_listen: None,
        callback_path: default_callback_path(),
        callback_max_age_secs: u64::MAX,
        callback_max_connections: None,
        callback_header_timeout_secs: None,
        callback_body_timeout_secs: None,
    };
    let transport = Arc::new(Transport::new(Default::default()).unwrap());
    let e = NeteaseClient::new(config.clone(), transport.clone()).map(drop).unwrap_err().to_string();
    assert!(e.contains("callback_max_age_secs"), "{e}");
    config.callback_max_age_secs = 0;
    let e = NeteaseClient::new(config, transport).map(drop).unwrap_err().to_string();
    assert!(e.contains("callback_max_age_secs"), "{e}");
}
