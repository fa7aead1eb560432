//! The request shapes and the session lifecycle over real HTTP, against a tiny recording
//! server that speaks the login flow and answers every other request `{success: 1}`.

use std::sync::atomic::{AtomicI64, Ordering};

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::*;
use crate::endpoint::{lookup, ParamIn};

/// What the server saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    /// Path and query exactly as sent (still percent-encoded).
    uri: String,
    cookie: String,
    content_type: String,
    body: Vec<u8>,
}

impl Seen {
    fn form(&self) -> Map<String, Value> {
        url::form_urlencoded::parse(&self.body).map(|(k, v)| (k.into_owned(), Value::String(v.into_owned()))).collect()
    }
    fn query(&self) -> Map<String, Value> {
        let q = self.uri.split_once('?').map(|(_, q)| q).unwrap_or_default();
        url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect()
    }
    fn path(&self) -> &str {
        self.uri.split('?').next().unwrap_or_default()
    }
}

#[derive(Default)]
struct Fake {
    seen: Mutex<Vec<Seen>>,
    /// Tokens issued so far; the valid one is `tok-{issued}`.
    issued: AtomicI64,
    api_level: AtomicI64,
}

impl Fake {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
    fn count(&self, path_prefix: &str) -> usize {
        self.seen().iter().filter(|s| s.path().starts_with(path_prefix)).count()
    }
    fn logins(&self) -> usize {
        self.seen().iter().filter(|s| s.path() == "/api/v1/system/token").count()
    }
    fn last(&self, path_prefix: &str) -> Seen {
        self.seen().into_iter().rev().find(|s| s.path().starts_with(path_prefix)).expect("request seen")
    }
}

async fn handle(State(fake): State<Arc<Fake>>, req: Request) -> Response {
    let seen = {
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        Seen {
            method: req.method().to_string(),
            uri: req.uri().to_string(),
            cookie: header("cookie"),
            content_type: header("content-type"),
            body: Vec::new(),
        }
    };
    let body = to_bytes(req.into_body(), usize::MAX).await.unwrap().to_vec();
    let seen = Seen { body, ..seen };
    fake.seen.lock().unwrap().push(seen.clone());
    let valid = format!("tok-{}", fake.issued.load(Ordering::SeqCst));
    let path = seen.path().to_string();
    let token = seen.query().get("account_token").or(seen.form().get("account_token")).cloned();
    let ok = |v: Value| axum::Json(v).into_response();
    match path.as_str() {
        "/api/v1/system/token" => {
            if seen.form().get("oauth_consumer_secret") != Some(&json!("s3cret")) {
                return ok(json!({"success": 0, "error_code": 10001, "description": "bad consumer"}));
            }
            let n = fake.issued.fetch_add(1, Ordering::SeqCst) + 1;
            ok(json!({"success": 1, "account_token": format!("tok-{n}")}))
        }
        "/api/v1/system/login" => {
            let n = fake.issued.load(Ordering::SeqCst);
            let mut resp = ok(json!({"success": 1}));
            resp.headers_mut()
                .insert("set-cookie", format!("SSO_COOKIE_KEY=ck-{n}; Path=/; HttpOnly").parse().unwrap());
            resp
        }
        "/api/mc/version" => {
            ok(json!({"success": 1, "version": "V6.1", "api_level": fake.api_level.load(Ordering::SeqCst)}))
        }
        p if p.ends_with("/heartbeat") => {
            if p.contains(&valid) {
                ok(json!({"success": 1}))
            } else {
                ok(json!({"success": 0, "error_code": 10002, "description": "token invalid"}))
            }
        }
        _ if seen.method == "POST" && seen.content_type.starts_with("multipart/") => {
            ok(json!({"success": 1, "meeting_file": {"file_id": "f1", "file_url": "/files/f1/agenda.txt"}}))
        }
        _ if token != Some(Value::String(valid)) => {
            ok(json!({"success": 0, "error_code": 10002, "description": "account_token invalid"}))
        }
        _ => ok(json!({"success": 1, "total": 0, "items": []})),
    }
}

struct Harness {
    fake: Arc<Fake>,
    client: KedacomClient,
}

async fn harness(tweak: impl FnOnce(&mut KedacomConfig)) -> Harness {
    let fake = Arc::new(Fake::default());
    fake.api_level.store(3, Ordering::SeqCst);
    let app = axum::Router::new().fallback(handle).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut config = KedacomConfig {
        consumer_key: Some("key".into()),
        consumer_secret: Some(Secret::new("s3cret")),
        username: Some("ops".into()),
        password: Some(Secret::new("pa55")),
        // The fake answers expiry with error 10002 in an HTTP 200 envelope.
        expiry_codes: vec!["10002".into()],
        ..KedacomConfig::new(base)
    };
    tweak(&mut config);
    let transport = crate::transport::TransportConfig { backoff_base_ms: 1, backoff_max_ms: 2, ..Default::default() };
    let client = KedacomClient::new(config, Arc::new(Transport::new(transport).unwrap())).unwrap();
    Harness { fake, client }
}

impl Harness {
    async fn call(&self, id: &str, params: Value) -> Result<Value> {
        let spec = lookup(Vendor::Kedacom, ENDPOINTS, id)?;
        spec.validate(&params)?;
        self.client.call(spec, params.as_object().cloned().unwrap_or_default()).await
    }
}

#[tokio::test]
async fn get_sends_token_cookie_and_encoded_query_and_path() {
    let h = harness(|_| {}).await;
    h.call("booked_confs.get", json!({"conf_id": "123#456"})).await.unwrap();
    let seen = h.fake.last("/api/v1/mc/booked_confs");
    assert_eq!((seen.method.as_str(), seen.path()), ("GET", "/api/v1/mc/booked_confs/123%23456"));
    assert_eq!(seen.query().get("account_token"), Some(&json!("tok-1")));
    assert_eq!(seen.cookie, "SSO_COOKIE_KEY=ck-1");

    let start = "2020-07-24T15:30:00+08:00";
    h.call("valid_conf_name.get", json!({"conf_name": "周会 a+b", "start_time": start})).await.unwrap();
    let seen = h.fake.last("/api/v1/mc/valid_conf_name");
    assert!(seen.uri.contains("%2B08%3A00"), "`+` must travel as %2B: {}", seen.uri);
    assert_eq!(seen.query().get("start_time"), Some(&json!(start)));
    assert_eq!(seen.query().get("conf_name"), Some(&json!("周会 a+b")));
    assert_eq!(h.fake.logins(), 1, "one login for both calls");
}

#[tokio::test]
async fn post_sends_params_as_json_text_in_a_form() {
    let h = harness(|_| {}).await;
    let body = json!({"name": "Room 1", "max_join_mt": 8, "force_mute": 0, "preoccupy_resource": 0,
                      "video_formats": [{"format": 4, "resolution": 12, "frame": 30, "bitrate": 2048}]});
    let mut params = body.clone();
    params["id"] = json!("vmr/1");
    h.call("virtual_meeting_rooms.update", params).await.unwrap();
    let seen = h.fake.last("/api/v1/mc/virtual_meeting_rooms");
    assert_eq!((seen.method.as_str(), seen.path()), ("POST", "/api/v1/mc/virtual_meeting_rooms/vmr%2F1"));
    assert!(seen.content_type.starts_with("application/x-www-form-urlencoded"), "{}", seen.content_type);
    let form = seen.form();
    assert_eq!(form.get("account_token"), Some(&json!("tok-1")));
    let sent: Value = serde_json::from_str(form["params"].as_str().unwrap()).unwrap();
    assert_eq!(sent, body, "the path key stays out of params; integers stay integers");
}

#[tokio::test]
async fn deletes_go_as_delete_or_as_post_with_method_override() {
    let h = harness(|_| {}).await;
    h.call("confs.end", json!({"conf_id": "123#456"})).await.unwrap();
    let seen = h.fake.last("/api/v1/mc/confs");
    assert_eq!((seen.method.as_str(), seen.path()), ("DELETE", "/api/v1/mc/confs/123%23456"));
    assert_eq!(seen.query().get("account_token"), Some(&json!("tok-1")));

    let h = harness(|c| c.delete_via_post = true).await;
    h.call("meeting_files.delete", json!({"file_id": "f1"})).await.unwrap();
    let seen = h.fake.last("/api/v1/mc/meeting_files");
    assert_eq!((seen.method.as_str(), seen.path()), ("POST", "/api/v1/mc/meeting_files/f1"));
    assert_eq!(seen.form().get("_method"), Some(&json!("DELETE")));
    assert_eq!(seen.form().get("account_token"), Some(&json!("tok-1")));
}

#[tokio::test]
async fn upload_is_multipart_with_the_file_and_is_checked_first() {
    let h = harness(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agenda.txt");
    std::fs::write(&file, "1. budget\n").unwrap();
    let out = h.call("meeting_files.upload", json!({"meeting_id": "m 1", "file": file})).await.unwrap();
    assert_eq!(out["meeting_file"]["file_url"], json!(format!("{}/files/f1/agenda.txt", h.client.base())));
    let seen = h.fake.last("/api/v1/mc/meeting_files");
    assert_eq!((seen.method.as_str(), seen.path()), ("POST", "/api/v1/mc/meeting_files/m%201"));
    assert!(seen.content_type.starts_with("multipart/form-data"), "{}", seen.content_type);
    let body = String::from_utf8_lossy(&seen.body);
    assert!(body.contains("name=\"file\"; filename=\"agenda.txt\"") && body.contains("1. budget"), "{body}");
    assert!(body.contains("name=\"account_token\"\r\n\r\ntok-1"), "{body}");

    let before = h.fake.seen().len();
    let md = dir.path().join("notes.md");
    std::fs::write(&md, "x").unwrap();
    let e = h.call("meeting_files.upload", json!({"meeting_id": "m1", "file": md})).await.unwrap_err();
    assert!(matches!(&e, Error::InvalidParams { param, .. } if param == "file"), "{e}");
    assert!(e.to_string().contains("txt, doc, docx"), "{e}");
    let missing = dir.path().join("gone.pdf");
    assert!(matches!(
        h.call("meeting_files.upload", json!({"meeting_id": "m1", "file": missing})).await,
        Err(Error::Io { .. })
    ));
    assert_eq!(h.fake.seen().len(), before, "nothing sent for a refused upload");
}

#[tokio::test]
async fn endpoints_above_the_server_api_level_fail_before_sending() {
    let h = harness(|_| {}).await;
    h.fake.api_level.store(2, Ordering::SeqCst);
    let e = h.call("booked_confs.delete", json!({"conf_id": "1"})).await.unwrap_err();
    assert!(e.to_string().contains("needs API level 3, but the server reports API level 2"), "{e}");
    h.call("meetings.list", json!({})).await.unwrap();
    h.call("booked_confs.list", json!({})).await.unwrap();
    assert!(h.call("valid_conf_name.get", json!({"conf_name": "x"})).await.is_err());
    assert_eq!(h.fake.count("/api/mc/version"), 1, "the level is read once");
    assert_eq!(h.fake.count("/api/v1/mc/booked_confs/"), 0);
    assert_eq!(h.call("version.get", json!({})).await.unwrap(), json!({"version": "V6.1", "api_level": 2}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expired_sessions_are_renewed_once_for_many_concurrent_calls_assumption_kedacom_expiry_codes() {
    let h = Arc::new(harness(|_| {}).await);
    h.call("platforms.list", json!({})).await.unwrap();
    // The server forgets the session: the next valid token is tok-2.
    h.fake.issued.fetch_add(1, Ordering::SeqCst);
    let calls: Vec<_> = (0..30)
        .map(|_| {
            let h = h.clone();
            tokio::spawn(async move { h.call("resources.get", json!({})).await })
        })
        .collect();
    for c in calls {
        c.await.unwrap().unwrap();
    }
    assert_eq!(h.fake.logins(), 2, "one login, then exactly one re-login");
    assert_eq!(h.fake.count("/api/v1/system/login"), 2);
    assert_eq!(h.fake.last("/api/v1/mc/resources").cookie, "SSO_COOKIE_KEY=ck-3");
}

/// Real time throughout: the heartbeat runs on the client's own timer (tokio's) and judges
/// idleness by the system clock; nothing here can move either.
#[tokio::test]
async fn heartbeat_runs_while_in_use_and_stops_on_close_or_idle_assumption_kedacom_heartbeat() {
    let h = harness(|c| c.heartbeat_secs = 0.05).await;
    h.call("platforms.list", json!({})).await.unwrap();
    crate::testutil::until("three heartbeats", || h.fake.count("/api/v1/system/token/") >= 3).await;
    let seen = h.fake.last("/api/v1/system/token/");
    assert_eq!((seen.method.as_str(), seen.path()), ("POST", "/api/v1/system/token/tok-1/heartbeat"));
    assert_eq!(seen.cookie, "SSO_COOKIE_KEY=ck-1");
    h.client.close().await.unwrap();
    h.client.close().await.unwrap();
    let after_close = h.fake.count("/api/v1/system/token/");
    tokio::time::sleep(Duration::from_millis(200)).await; // four heartbeat intervals
    assert_eq!(h.fake.count("/api/v1/system/token/"), after_close, "no heartbeat after close");
    // Calls after close log in again.
    h.call("platforms.list", json!({})).await.unwrap();
    assert_eq!(h.fake.logins(), 2);

    let h = harness(|c| {
        c.heartbeat_secs = 0.05;
        c.idle_timeout_secs = 0.12;
    })
    .await;
    h.call("platforms.list", json!({})).await.unwrap();
    crate::testutil::until("a heartbeat before going idle", || h.fake.count("/api/v1/system/token/") >= 1).await;
    tokio::time::sleep(Duration::from_millis(400)).await; // past the 0.12 s idle timeout
    let beats = h.fake.count("/api/v1/system/token/");
    tokio::time::sleep(Duration::from_millis(200)).await; // four heartbeat intervals
    assert_eq!(h.fake.count("/api/v1/system/token/"), beats, "idle: heartbeat stopped");
}

#[tokio::test]
async fn refused_login_is_an_auth_error_without_secrets() {
    let h = harness(|c| c.consumer_secret = Some(Secret::new("wrong-secret"))).await;
    let e = h.call("platforms.list", json!({})).await.unwrap_err();
    assert!(matches!(e, Error::Auth { .. }), "{e:?}");
    let text = format!("{e} {e:?}");
    assert!(text.contains("error 10001: bad consumer"), "{text}");
    assert!(!text.contains("wrong-secret") && !text.contains("pa55"), "{text}");
    assert!(!format!("{:?}", h.client).contains("wrong-secret"));
}

#[test]
fn table_is_complete_with_unique_ids() {
    assert_eq!(ENDPOINTS.len(), 25);
    let mut ids: Vec<&str> = ENDPOINTS.iter().map(|e| e.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 25, "duplicate endpoint ids");
    for e in ENDPOINTS {
        assert!(e.params.iter().all(|p| p.at != ParamIn::Auto), "{}: every parameter says where it travels", e.id);
        for name in e.path.split('{').skip(1).filter_map(|s| s.split('}').next()) {
            assert_eq!(e.param(name).map(|p| p.at), Some(ParamIn::Path), "{}: {name}", e.id);
        }
    }
    for (id, _) in endpoints::MIN_API_LEVELS {
        assert!(ENDPOINTS.iter().any(|e| e.id == *id), "{id}");
    }
    for (id, path, _) in endpoints::ENUM_PARAMS {
        assert!(ENDPOINTS.iter().any(|e| e.id == *id), "{id} {path}");
    }
}

#[test]
fn no_error_code_is_given_a_meaning_the_doc_does_not_give() {
    for code in ["10001", "10002", "10003", "10004", "424242"] {
        assert!(error_meaning(code).is_none(), "{code}");
    }
}

#[tokio::test]
async fn without_listed_codes_an_error_code_is_not_expiry() {
    let h = harness(|c| c.expiry_codes.clear()).await;
    h.call("platforms.list", json!({})).await.unwrap();
    h.fake.issued.fetch_add(1, Ordering::SeqCst);
    let e = h.call("platforms.list", json!({})).await.unwrap_err();
    assert!(matches!(&e, Error::Api { code, .. } if code == "10002"), "{e:?}");
    assert_eq!(h.fake.logins(), 1, "no re-login for an unlisted code");
}

#[tokio::test]
async fn a_ready_account_token_skips_the_login_and_cannot_be_renewed() {
    let h = harness(|c| {
        c.account_token = Some(Secret::new("tok-1"));
        c.consumer_key = None;
        c.consumer_secret = None;
        c.username = None;
        c.password = None;
    })
    .await;
    h.fake.issued.store(1, Ordering::SeqCst);
    h.call("platforms.list", json!({})).await.unwrap();
    let seen = h.fake.last("/api/v1/mc/platforms");
    assert_eq!((seen.query().get("account_token"), seen.cookie.as_str()), (Some(&json!("tok-1")), ""));
    assert_eq!(h.fake.count("/api/v1/system/"), 0, "no token or login request");
    h.fake.issued.store(2, Ordering::SeqCst);
    let e = h.call("platforms.list", json!({})).await.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, Error::Auth { .. }) && text.contains("set a new account_token"), "{text}");
    assert!(!text.contains("tok-1") && !format!("{:?}", h.client).contains("tok-1"), "{text}");
    assert_eq!(h.fake.count("/api/v1/system/"), 0);
}

#[test]
fn auth_options_are_checked() {
    let t = Arc::new(Transport::new(Default::default()).unwrap());
    let err = |c: KedacomConfig| KedacomClient::new(c, t.clone()).unwrap_err().to_string();
    let e = err(KedacomConfig { consumer_key: Some("k".into()), ..KedacomConfig::new("http://h") });
    assert!(e.contains("account_token") && e.contains("missing: consumer_secret, username, password"), "{e}");
    let token_only = KedacomConfig { account_token: Some(Secret::new("t")), ..KedacomConfig::new("http://h") };
    assert!(KedacomClient::new(token_only.clone(), t.clone()).is_ok());
    let no_login = KedacomConfig {
        consumer_key: Some("k".into()),
        consumer_secret: Some(Secret::new("s")),
        login_path: String::new(),
        ..KedacomConfig::new("http://h")
    };
    assert!(KedacomClient::new(no_login, t.clone()).is_ok(), "no login step: no username/password needed");
    let e = err(KedacomConfig { heartbeat_path: "/gw/keepalive/{account_token}".into(), ..token_only.clone() });
    assert!(e.contains("heartbeat_path") && e.contains("redact"), "{e}");
    let e = err(KedacomConfig { heartbeat_path: "/gw/token/x{account_token}".into(), ..token_only.clone() });
    assert!(e.contains("whole segment"), "{e}");
    assert!(KedacomClient::new(
        KedacomConfig { heartbeat_path: "/gw/token/{account_token}/keepalive".into(), ..token_only.clone() },
        t.clone()
    )
    .is_ok());
    let e = err(KedacomConfig { token_path: "api/token".into(), ..token_only.clone() });
    assert!(e.contains("token_path") && e.contains("start with `/`"), "{e}");
    let e = err(KedacomConfig { expiry_codes: vec![" ".into()], ..token_only });
    assert!(e.contains("expiry_codes"), "{e}");
    // From TOML: the new fields, and the old ones still read.
    let cfg: KedacomConfig = serde_json::from_value(json!({
        "base_url": "http://h", "account_token": "t", "expiry_codes": ["10002"], "heartbeat_secs": 60.0
    }))
    .unwrap();
    assert_eq!(
        (cfg.token_path.as_str(), cfg.expiry_codes.as_slice()),
        (DEFAULT_TOKEN_PATH, &["10002".to_string()][..])
    );
}

#[test]
fn base_url_forms() {
    let t = Arc::new(Transport::new(Default::default()).unwrap());
    let cfg = |u: &str| KedacomConfig {
        consumer_key: Some("k".into()),
        consumer_secret: Some(Secret::new("s")),
        username: Some("u".into()),
        password: Some(Secret::new("p")),
        ..KedacomConfig::new(u)
    };
    assert_eq!(KedacomClient::new(cfg("https://h:8080/api/v1/mc/"), t.clone()).unwrap().base(), "https://h:8080");
    assert_eq!(KedacomClient::new(cfg("http://h/prefix/"), t.clone()).unwrap().base(), "http://h/prefix");
    let e = KedacomClient::new(cfg("kedacom.example.com"), t).unwrap_err().to_string();
    assert!(e.contains("not an http(s) URL"), "{e}");
}
