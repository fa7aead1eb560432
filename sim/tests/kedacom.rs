//! Documented Kedacom behaviour (会管API + the login flow), exercised over
//! HTTP against a started simulator.

mod common;

use std::time::Duration;

use base64::Engine;
use md5::{Digest, Md5};
use meetkit_sim::{KedacomOptions, SimOptions, Simulator};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

const BOOKED_PARAMS: &str = include_str!("testdata/kedacom/booked_confs_create.params.json");
const CONF_PARAMS: &str = include_str!("testdata/kedacom/confs_create.params.json");
const VMR_PARAMS: &str = include_str!("testdata/kedacom/vmr_create.params.json");
const BOOKED_GET: &str = include_str!("testdata/kedacom/booked_confs_get.response.json");

/// A started simulator, an HTTP client and the Kedacom base URL.
struct Kd {
    sim: Simulator,
    http: reqwest::Client,
    base: String,
}

/// A logged-in session: token + SSO cookie.
#[derive(Clone)]
struct Session {
    token: String,
    cookie: String,
}

impl Kd {
    async fn start() -> Kd {
        Kd::start_with(KedacomOptions::default()).await
    }

    async fn start_with(kedacom: KedacomOptions) -> Kd {
        let sim = Simulator::start(SimOptions { kedacom, ..Default::default() }).await.expect("start");
        let base = sim.kedacom_base_url();
        let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().expect("client");
        Kd { sim, http, base }
    }

    /// The JSON answer: HTTP 200, or HTTP 401 for expiry (10002, 10004; the default
    /// `KedacomOptions::expiry_code` None).
    async fn json(resp: reqwest::Response) -> Value {
        let status = resp.status();
        let v: Value = resp.json().await.expect("json body");
        if status == StatusCode::UNAUTHORIZED {
            assert!(matches!(v["error_code"].as_i64(), Some(10002 | 10004)), "401 only for expiry: {v}");
        } else {
            assert_eq!(status, StatusCode::OK, "{v}");
        }
        v
    }

    async fn form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(format!("{}{path}", self.base)).form(form).send().await.expect("send")
    }

    async fn token(&self) -> String {
        let v = Kd::json(
            self.form(
                "/api/v1/system/token",
                &[("oauth_consumer_key", "sim-consumer-key"), ("oauth_consumer_secret", "sim-consumer-secret")],
            )
            .await,
        )
        .await;
        assert_eq!(v["success"], 1, "{v}");
        v["account_token"].as_str().expect("account_token").to_owned()
    }

    async fn login_as(&self, user: &str, password: &str) -> Session {
        let token = self.token().await;
        let resp = self
            .form("/api/v1/system/login", &[("account_token", &token), ("username", user), ("password", password)])
            .await;
        let set_cookie = resp.headers().get(header::SET_COOKIE).expect("Set-Cookie").to_str().unwrap().to_owned();
        let v = Kd::json(resp).await;
        assert_eq!(v["success"], 1, "{v}");
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        assert!(cookie.starts_with("SSO_COOKIE_KEY="), "{set_cookie}");
        Session { token, cookie }
    }

    async fn login(&self) -> Session {
        self.login_as("sim-admin", "sim-password").await
    }

    async fn get(&self, s: &Session, path: &str, query: &[(&str, &str)]) -> Value {
        let mut q = vec![("account_token", s.token.as_str())];
        q.extend_from_slice(query);
        let req = self.http.get(format!("{}/api/v1/mc{path}", self.base)).query(&q);
        Kd::json(req.header(header::COOKIE, &s.cookie).send().await.expect("send")).await
    }

    async fn post(&self, s: &Session, path: &str, params: &Value) -> Value {
        let text = params.to_string();
        let form = [("account_token", s.token.as_str()), ("params", text.as_str())];
        let req = self.http.post(format!("{}/api/v1/mc{path}", self.base)).form(&form);
        Kd::json(req.header(header::COOKIE, &s.cookie).send().await.expect("send")).await
    }

    /// A real DELETE with the token in the query string.
    async fn delete(&self, s: &Session, path: &str) -> Value {
        let req = self.http.delete(format!("{}/api/v1/mc{path}", self.base)).query(&[("account_token", &s.token)]);
        Kd::json(req.header(header::COOKIE, &s.cookie).send().await.expect("send")).await
    }

    /// The doc's substitute: POST with `_method=DELETE`.
    async fn post_delete(&self, s: &Session, path: &str) -> Value {
        let form = [("account_token", s.token.as_str()), ("_method", "DELETE")];
        let req = self.http.post(format!("{}/api/v1/mc{path}", self.base)).form(&form);
        Kd::json(req.header(header::COOKIE, &s.cookie).send().await.expect("send")).await
    }

    async fn upload(&self, s: &Session, meeting_id: &str, name: &str, data: Vec<u8>) -> Value {
        let form = reqwest::multipart::Form::new()
            .text("account_token", s.token.clone())
            .part("file", reqwest::multipart::Part::bytes(data).file_name(name.to_owned()));
        let req = self.http.post(format!("{}/api/v1/mc/meeting_files/{meeting_id}", self.base)).multipart(form);
        Kd::json(req.header(header::COOKIE, &s.cookie).send().await.expect("send")).await
    }

    async fn admin(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let resp = self.http.post(format!("{}{path}", self.base)).json(&body).send().await.expect("send");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn advance(&self, seconds: f64) {
        let (s, _) = self.admin("/_sim/clock/advance", json!({ "seconds": seconds })).await;
        assert_eq!(s, StatusCode::OK);
    }

    async fn now(&self) -> f64 {
        let v: Value = self.http.get(format!("{}/_sim/clock", self.base)).send().await.unwrap().json().await.unwrap();
        v["now"].as_f64().expect("now")
    }

    async fn state(&self) -> Value {
        self.http.get(format!("{}/_sim/state", self.base)).send().await.unwrap().json().await.unwrap()
    }
}

/// `error_code` of a failure answer (asserting the failure envelope).
fn code(v: &Value) -> i64 {
    assert_eq!(v["success"], 0, "{v}");
    assert!(v["description"].is_string(), "{v}");
    v["error_code"].as_i64().unwrap_or_else(|| panic!("no error_code in {v}"))
}

fn ok(v: &Value) {
    assert_eq!(v["success"], 1, "{v}");
}

/// Unix seconds as the server's ISO 8601 (+08:00).
fn iso(unix: f64) -> String {
    let t = unix.floor() as i64 + 8 * 3600;
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+08:00", secs / 3600, secs % 3600 / 60, secs % 60)
}

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture")
}

/// The doc's booked_confs.create example, starting at `start` for `minutes`.
fn booked(start: f64, minutes: i64, name: &str) -> Value {
    let mut p = fixture(BOOKED_PARAMS);
    p["start_time"] = iso(start).into();
    p["duration"] = minutes.into();
    p["name"] = name.into();
    p
}

#[tokio::test]
async fn profile_ports_and_version() {
    let (sim, port) = common::start_on_fixed_ports(SimOptions::default()).await;
    assert_eq!(sim.kedacom_base_url(), format!("http://127.0.0.1:{}", port + 1));
    let p = sim.profile();
    assert_eq!(
        p["kedacom"],
        json!({"base_url": sim.kedacom_base_url(), "consumer_key": "sim-consumer-key",
               "consumer_secret": "sim-consumer-secret", "username": "sim-admin", "password": "sim-password"})
    );
    // version.get: /api/mc/version, no /v1/, no auth.
    let v: Value =
        reqwest::get(format!("{}/api/mc/version", sim.kedacom_base_url())).await.unwrap().json().await.unwrap();
    assert_eq!(v, json!({"success": 1, "version": "V6.1.0.4.0.20211123", "api_level": 3}));
    sim.shutdown().await;
}

#[tokio::test]
async fn login_lifecycle_cookie_and_idle_timeout_assumption_kedacom_login_cookie() {
    let kd = Kd::start().await;
    let bad = Kd::json(
        kd.form("/api/v1/system/token", &[("oauth_consumer_key", "sim-consumer-key"), ("oauth_consumer_secret", "x")])
            .await,
    )
    .await;
    assert_eq!(code(&bad), 10001);
    let token = kd.token().await;
    let wrong = Kd::json(
        kd.form("/api/v1/system/login", &[("account_token", &token), ("username", "sim-admin"), ("password", "no")])
            .await,
    )
    .await;
    assert_eq!(code(&wrong), 10003);
    let unknown = Kd::json(
        kd.form(
            "/api/v1/system/login",
            &[("account_token", "nope"), ("username", "sim-admin"), ("password", "sim-password")],
        )
        .await,
    )
    .await;
    assert_eq!(code(&unknown), 10002);

    let s = kd.login().await;
    ok(&kd.get(&s, "/platforms", &[]).await);
    // Token without the cookie, cookie of another login, unknown token.
    let no_cookie = Session { cookie: String::new(), ..s.clone() };
    assert_eq!(code(&kd.get(&no_cookie, "/platforms", &[]).await), 10004);
    let other = kd.login().await;
    let mixed = Session { cookie: other.cookie.clone(), ..s.clone() };
    assert_eq!(code(&kd.get(&mixed, "/platforms", &[]).await), 10004);
    let fake = Session { token: "0".repeat(32), ..s.clone() };
    assert_eq!(code(&kd.get(&fake, "/platforms", &[]).await), 10002);
    let missing = kd.http.get(format!("{}/api/v1/mc/platforms", kd.base)).header(header::COOKIE, &s.cookie);
    assert_eq!(code(&Kd::json(missing.send().await.unwrap()).await), 10002);

    // Idle timeout: 30 min since the last use; calls and heartbeats keep it alive.
    kd.advance(29.0 * 60.0).await;
    ok(&kd.get(&s, "/platforms", &[]).await);
    kd.advance(29.0 * 60.0).await;
    let hb = kd.http.post(format!("{}/api/v1/system/token/{}/heartbeat", kd.base, s.token)).send().await.unwrap();
    ok(&Kd::json(hb).await);
    kd.advance(29.0 * 60.0).await;
    let hb = kd.http.post(format!("{}/api/v1/system/token/{}/heartbeat", kd.base, s.token)).send().await.unwrap();
    ok(&Kd::json(hb).await);
    kd.advance(29.0 * 60.0).await;
    ok(&kd.get(&s, "/platforms", &[]).await);
    // `other` was last used before all that.
    assert_eq!(code(&kd.get(&other, "/platforms", &[]).await), 10002);
    kd.advance(30.0 * 60.0 + 1.0).await;
    assert_eq!(code(&kd.get(&s, "/platforms", &[]).await), 10002);
    let hb = kd.http.post(format!("{}/api/v1/system/token/{}/heartbeat", kd.base, s.token)).send().await.unwrap();
    assert_eq!(hb.status(), StatusCode::UNAUTHORIZED, "expiry is HTTP 401 by default");
    assert_eq!(code(&Kd::json(hb).await), 10002);

    // Admin expiry and logout.
    let s = kd.login().await;
    let (st, v) = kd.admin("/_sim/kedacom/tokens/expire", json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(code(&kd.get(&s, "/platforms", &[]).await), 10002);
    let s = kd.login().await;
    let out = kd.http.post(format!("{}/api/v1/system/logout", kd.base)).header(header::COOKIE, &s.cookie);
    ok(&Kd::json(out.form(&[("account_token", &s.token)]).send().await.unwrap()).await);
    assert_eq!(code(&kd.get(&s, "/platforms", &[]).await), 10002);
}

#[tokio::test]
async fn short_idle_timeout_and_api_level() {
    let opts = KedacomOptions { token_idle_timeout: Duration::from_secs(5), api_level: 2, ..Default::default() };
    let kd = Kd::start_with(opts).await;
    let s = kd.login().await;
    let v: Value = kd.http.get(format!("{}/api/mc/version", kd.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["api_level"], 2);
    // Level-3 endpoints are unavailable on a level-2 server; level 2 works.
    let now = kd.now().await;
    assert_eq!(code(&kd.post(&s, "/booked_confs", &booked(now + 3600.0, 60, "x")).await), 10006);
    assert_eq!(code(&kd.get(&s, "/valid_conf_name", &[("conf_name", "x")]).await), 10006);
    ok(&kd.get(&s, "/meetings", &[]).await);
    kd.advance(6.0).await;
    assert_eq!(code(&kd.get(&s, "/meetings", &[]).await), 10002);
}

#[tokio::test]
async fn transport_and_params_validation() {
    let kd = Kd::start().await;
    let s = kd.login().await;
    let now = kd.now().await;
    let good = booked(now + 3600.0, 60, "transport");

    // params must be a form field with JSON text.
    let as_json = kd
        .http
        .post(format!("{}/api/v1/mc/booked_confs?account_token={}", kd.base, s.token))
        .header(header::COOKIE, &s.cookie)
        .json(&good)
        .send()
        .await
        .unwrap();
    let v = Kd::json(as_json).await;
    assert_eq!(code(&v), 20001);
    assert!(v["description"].as_str().unwrap().contains("params"), "{v}");
    let form = [("account_token", s.token.as_str()), ("params", "{not json")];
    let req = kd.http.post(format!("{}/api/v1/mc/booked_confs", kd.base)).header(header::COOKIE, &s.cookie);
    assert_eq!(code(&Kd::json(req.form(&form).send().await.unwrap()).await), 20003);

    // Required fields, integer flags, enums, lengths, ISO 8601 with offset.
    let cases: Vec<(&str, Value, i64)> = vec![
        ("name", Value::Null, 20001),
        ("video_formats", Value::Null, 20001),
        ("mute", json!(true), 20002),
        ("mute", json!("1"), 20002),
        ("conf_type", json!(3), 20002),
        ("call_mode", json!(1), 20002),
        ("max_join_mt", json!(16), 20002),
        ("name", json!("x".repeat(65)), 20002),
        ("start_time", json!("2030-07-24 15:30:00"), 20002),
        ("start_time", json!("2030-07-24T15:30:00"), 20002),
        ("mt_supported_protocol", json!(["rtc", "webrtc"]), 20002),
        ("platform_id", json!("unknown-platform"), 20002),
        ("encrypted_key", Value::Null, 20001),
    ];
    for (field, value, expected) in cases {
        let mut p = good.clone();
        match value {
            Value::Null => p.as_object_mut().unwrap().remove(field),
            v => p.as_object_mut().unwrap().insert(field.into(), v),
        };
        let v = kd.post(&s, "/booked_confs", &p).await;
        assert_eq!(code(&v), expected, "{field}: {v}");
        assert!(v["description"].as_str().unwrap().contains(field), "{v}");
    }
    // Nested: vmp member of type 1 needs name/account; a type-6 member does not.
    let mut p = good.clone();
    p["vmp"]["members"][0].as_object_mut().unwrap().remove("account");
    assert_eq!(code(&kd.post(&s, "/booked_confs", &p).await), 20001);
    let mut p = good.clone();
    p["video_formats"][1]["resolution"] = json!(5);
    let v = kd.post(&s, "/booked_confs", &p).await;
    assert_eq!(code(&v), 20002);
    assert!(v["description"].as_str().unwrap().contains("video_formats[1].resolution"), "{v}");
    // Not AES: encrypted_key may be omitted.
    let mut p = good.clone();
    p["encrypted_type"] = json!(0);
    p.as_object_mut().unwrap().remove("encrypted_key");
    ok(&kd.post(&s, "/booked_confs", &p).await);
    // A start in the past is refused; the doc example (2020) as is, too.
    assert_eq!(code(&kd.post(&s, "/booked_confs", &fixture(BOOKED_PARAMS)).await), 30011);
    // Paging values must be integers; unknown routes are 404.
    assert_eq!(code(&kd.get(&s, "/booked_confs", &[("count", "ten")]).await), 20002);
    assert_eq!(code(&kd.get(&s, "/meetings", &[("state", "4")]).await), 20002);
    let r = kd.http.get(format!("{}/api/v1/mc/nothing", kd.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn doc_conf_id_round_trips_percent_encoded() {
    let kd = Kd::start().await;
    let s = kd.login().await;
    let mut seed = fixture(BOOKED_GET);
    let now = kd.now().await;
    seed["start_time"] = iso(now + 86_400.0).into();
    let (st, v) = kd.admin("/_sim/kedacom/booked_confs", seed).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["conf_id"], "123#456");
    let got = kd.get(&s, "/booked_confs/123%23456", &[]).await;
    ok(&got);
    let doc = fixture(BOOKED_GET);
    for field in ["name", "conf_id", "meeting_id", "bitrate", "password", "encrypted_key", "video_formats", "speaker"] {
        assert_eq!(got[field], doc[field], "{field}");
    }
    assert_eq!(got["duration"], 240);
    assert_eq!(got["start_time"], iso(now + 86_400.0));
    assert_eq!(got["end_time"], iso(now + 86_400.0 + 240.0 * 60.0));
    // Unencoded '#' never reaches the server as part of the path.
    let cut = kd
        .http
        .get(format!("{}/api/v1/mc/booked_confs/123#456", kd.base))
        .query(&[("account_token", &s.token)])
        .header(header::COOKIE, &s.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(code(&Kd::json(cut).await), 30001);
    // Delete through the POST substitute, with the encoded key.
    ok(&kd.post_delete(&s, "/booked_confs/123%23456").await);
    assert_eq!(code(&kd.get(&s, "/booked_confs/123%23456", &[]).await), 30001);
}

#[tokio::test]
async fn booked_conference_lifecycle_with_the_clock() {
    let kd = Kd::start().await;
    let s = kd.login().await;
    let now = kd.now().await;
    let start = now + 3600.0;
    let created = kd.post(&s, "/booked_confs", &booked(start, 90, "weekly")).await;
    ok(&created);
    assert_eq!(created["description"], "success");
    let conf_id = created["conf_id"].as_str().unwrap().to_owned();
    let meeting_id = created["meeting_id"].as_str().unwrap().to_owned();
    assert_ne!(conf_id, meeting_id);

    let got = kd.get(&s, &format!("/booked_confs/{conf_id}"), &[]).await;
    assert_eq!(got["name"], "weekly");
    assert_eq!(got["meeting_id"], meeting_id.as_str());
    assert_eq!(got["start_time"], iso(start));
    assert_eq!(got["end_time"], iso(start + 90.0 * 60.0));
    assert_eq!(got["invited_mt_num"], 2);
    assert_eq!(
        (got["vmp_enable"].clone(), got["mix_enable"].clone(), got["poll_enable"].clone()),
        (json!(1), json!(1), json!(1))
    );
    assert_eq!(got["creator"]["name"], "sim-admin");
    assert_eq!(got["conf_type"], 0);
    assert_eq!(got["enable_rtc"], 0);
    // meeting_id is not a conf_id.
    assert_eq!(code(&kd.get(&s, &format!("/booked_confs/{meeting_id}"), &[]).await), 30001);
    let m = kd.get(&s, &format!("/meetings/{meeting_id}"), &[]).await;
    assert_eq!((m["state"].clone(), m["video_meeting"].clone()), (json!(1), json!(1)));
    assert_eq!(m["members"].as_array().unwrap().len(), 2);
    assert_eq!(code(&kd.get(&s, &format!("/meetings/{conf_id}"), &[]).await), 30002);

    // Name check: taken in the window, free for itself, free elsewhere in time.
    let check = |q: Vec<(&'static str, String)>| {
        let kd = &kd;
        let s = &s;
        async move {
            let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
            kd.get(s, "/valid_conf_name", &q).await
        }
    };
    assert_eq!(check(vec![("conf_name", "weekly".into())]).await, json!({"success": 1, "result": 0}));
    assert_eq!(check(vec![("conf_name", "weekly".into()), ("meeting_id", meeting_id.clone())]).await["result"], 1);
    assert_eq!(check(vec![("conf_name", "other".into())]).await["result"], 1);
    let later =
        vec![("conf_name", "weekly".into()), ("start_time", iso(start + 7200.0)), ("end_time", iso(start + 9000.0))];
    assert_eq!(check(later).await["result"], 1);

    // Full-replacement update: every required field again.
    let mut upd = booked(start + 600.0, 30, "weekly-2");
    upd["conf_type"] = json!(4);
    assert_eq!(code(&kd.post(&s, &format!("/booked_confs/{conf_id}"), &json!({"name": "partial"})).await), 20001);
    let u = kd.post(&s, &format!("/booked_confs/{conf_id}"), &upd).await;
    assert_eq!(u, json!({"success": 1, "conf_id": conf_id, "meeting_id": meeting_id, "description": "success"}));
    let got = kd.get(&s, &format!("/booked_confs/{conf_id}"), &[]).await;
    assert_eq!((got["name"].clone(), got["duration"].clone()), (json!("weekly-2"), json!(30)));
    // Auto (4) with rtc/sip/h323 terminals on an RTC platform: port + RTC.
    assert_eq!((got["conf_type"].clone(), got["enable_rtc"].clone()), (json!(1), json!(1)));
    let start = start + 600.0;

    // Default window "from now": listed; a window after its end: not listed.
    let list = kd.get(&s, "/booked_confs", &[]).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["booked_confs"][0]["conf_id"], conf_id.as_str());
    let after = kd.get(&s, "/booked_confs", &[("start_time", &iso(start + 3600.0))]).await;
    assert_eq!(after["total"], 0);

    // At start_time it runs (state 2), still a booked conference, no longer editable.
    kd.advance(start - kd.now().await + 1.0).await;
    let s = kd.login().await; // the old token idled out meanwhile
    let m = kd.get(&s, &format!("/meetings/{meeting_id}"), &[]).await;
    assert_eq!(m["state"], 2);
    ok(&kd.get(&s, &format!("/booked_confs/{conf_id}"), &[]).await);
    assert_eq!(code(&kd.post(&s, &format!("/booked_confs/{conf_id}"), &upd).await), 30009);
    assert_eq!(code(&kd.delete(&s, &format!("/booked_confs/{conf_id}")).await), 30009);
    let running = kd.get(&s, "/meetings", &[("state", "2")]).await;
    assert_eq!(running["total"], 1);

    // After start + duration it has ended (state 3).
    kd.advance(29.0 * 60.0).await;
    ok(&kd.get(&s, "/meetings", &[]).await);
    kd.advance(60.0).await;
    assert_eq!(kd.get(&s, &format!("/meetings/{meeting_id}"), &[]).await["state"], 3);
    assert_eq!(code(&kd.get(&s, &format!("/booked_confs/{conf_id}"), &[]).await), 30001);
    assert_eq!(kd.get(&s, "/meetings", &[]).await["total"], 0);
    let past = kd.get(&s, "/meetings", &[("start_time", &iso(start - 60.0)), ("state", "3")]).await;
    assert_eq!(past["total"], 1);
    assert_eq!(past["meetings"][0]["end_time"], iso(start + 30.0 * 60.0));
    assert_eq!(code(&kd.delete(&s, &format!("/confs/{conf_id}")).await), 30003);
}

#[tokio::test]
async fn booked_list_paging_and_delete() {
    let kd = Kd::start().await;
    let s = kd.login().await;
    let now = kd.now().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let v = kd.post(&s, "/booked_confs", &booked(now + 3600.0 * f64::from(5 - i), 60, &format!("c{i}"))).await;
        ids.push(v["conf_id"].as_str().unwrap().to_owned());
    }
    let page = kd.get(&s, "/booked_confs", &[("start", "1"), ("count", "2")]).await;
    assert_eq!(page["total"], 5);
    let names: Vec<&str> =
        page["booked_confs"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["c3", "c2"]); // ascending by start time
    let desc = kd.get(&s, "/booked_confs", &[("order", "1"), ("count", "1")]).await;
    assert_eq!(desc["booked_confs"][0]["name"], "c0");
    let all = kd.get(&s, "/booked_confs", &[("count", "0")]).await;
    assert_eq!(all["booked_confs"].as_array().unwrap().len(), 5);
    assert_eq!(kd.get(&s, "/booked_confs", &[]).await["booked_confs"].as_array().unwrap().len(), 5);
    let window = kd.get(&s, "/booked_confs", &[("end_time", &iso(now + 2.5 * 3600.0))]).await;
    assert_eq!(window["total"], 2);
    // Meetings view lists them as state 1.
    let m = kd.get(&s, "/meetings", &[("state", "1"), ("count", "0")]).await;
    assert_eq!(m["total"], 5);
    assert!(m["meetings"].as_array().unwrap().iter().all(|x| x["state"] == 1 && x["video"] == 1));
    // DELETE and the POST substitute.
    ok(&kd.delete(&s, &format!("/booked_confs/{}", ids[0])).await);
    ok(&kd.post_delete(&s, &format!("/booked_confs/{}", ids[1])).await);
    assert_eq!(code(&kd.delete(&s, &format!("/booked_confs/{}", ids[0])).await), 30001);
    assert_eq!(kd.get(&s, "/booked_confs", &[]).await["total"], 3);
    assert_eq!(kd.get(&s, "/meetings", &[]).await["total"], 3);
}

fn vmr(name: &str, public: i64) -> Value {
    let mut p = fixture(VMR_PARAMS);
    p["name"] = name.into();
    p["public_conf"] = public.into();
    p
}

#[tokio::test]
async fn conferences_five_ways_rooms_and_resources() {
    let kd = Kd::start_with(KedacomOptions { resources_per_size: 2, ..Default::default() }).await;
    let s = kd.login().await;
    let guest = kd.login_as("sim-guest", "sim-guest-password").await;

    // 1: instant, the doc's example (max_join_mt 192).
    let c1 = kd.post(&s, "/confs", &fixture(CONF_PARAMS)).await;
    ok(&c1);
    let m1 = kd.get(&s, &format!("/meetings/{}", c1["meeting_id"].as_str().unwrap()), &[]).await;
    assert_eq!(
        (m1["state"].clone(), m1["name"].clone(), m1["duration"].clone()),
        (json!(2), json!("name"), json!(240))
    );
    // enable_rtc 0 given explicitly: no RTC.
    assert_eq!(m1["enable_rtc"], 0);
    let mut missing = fixture(CONF_PARAMS);
    missing.as_object_mut().unwrap().remove("bitrate");
    assert_eq!(code(&kd.post(&s, "/confs", &missing).await), 20001);
    // enable_rtc unspecified -> hybrid; H.265 forces RTC off; auto needs protocols.
    let mut p = fixture(CONF_PARAMS);
    p.as_object_mut().unwrap().remove("enable_rtc");
    let m = kd.post(&s, "/confs", &p).await;
    assert_eq!(kd.get(&s, &format!("/meetings/{}", m["meeting_id"].as_str().unwrap()), &[]).await["enable_rtc"], 1);
    p["video_formats"] = json!([{"format": 6, "resolution": 13, "frame": 30, "bitrate": 4096}]);
    p["enable_rtc"] = json!(1);
    p["max_join_mt"] = json!(64);
    let m = kd.post(&s, "/confs", &p).await;
    assert_eq!(kd.get(&s, &format!("/meetings/{}", m["meeting_id"].as_str().unwrap()), &[]).await["enable_rtc"], 0);
    p["conf_type"] = json!(4);
    p.as_object_mut().unwrap().remove("mt_supported_protocol");
    let v = kd.post(&s, "/confs", &p).await;
    assert_eq!(code(&v), 20001);

    // Resources: two 192-party licences.
    let res = kd.get(&s, "/resources", &[]).await;
    assert_eq!(res["resource_type"], 1);
    let big = res["resources"].as_array().unwrap().iter().find(|r| r["max_join_mt"] == 192).unwrap().clone();
    assert_eq!((big["total"].clone(), big["used"].clone()), (json!(2), json!(2)));
    assert_eq!(code(&kd.post(&s, "/confs", &fixture(CONF_PARAMS)).await), 30010);
    // End via DELETE: the licence is free again.
    ok(&kd.delete(&s, &format!("/confs/{}", c1["conf_id"].as_str().unwrap())).await);
    assert_eq!(code(&kd.delete(&s, &format!("/confs/{}", c1["conf_id"].as_str().unwrap())).await), 30003);
    let m1 = kd.get(&s, &format!("/meetings/{}", c1["meeting_id"].as_str().unwrap()), &[]).await;
    assert_eq!(m1["state"], 3);

    // 2 / 3: templates (public for everyone, personal only for its owner).
    let t2 = kd
        .post(&s, "/confs", &json!({"create_type": 2, "template_id": "sim-public-template", "name": "from tpl"}))
        .await;
    ok(&t2);
    let m2 = kd.get(&s, &format!("/meetings/{}", t2["meeting_id"].as_str().unwrap()), &[]).await;
    assert_eq!(
        (m2["name"].clone(), m2["max_join_mt"].clone(), m2["end_time"].clone()),
        (json!("from tpl"), json!(32), json!(""))
    );
    assert_eq!(code(&kd.post(&s, "/confs", &json!({"create_type": 2})).await), 20001);
    assert_eq!(
        code(&kd.post(&s, "/confs", &json!({"create_type": 2, "template_id": "sim-personal-template"})).await),
        30007
    );
    ok(&kd.post(&s, "/confs", &json!({"create_type": 3, "template_id": "sim-personal-template"})).await);
    assert_eq!(
        code(&kd.post(&guest, "/confs", &json!({"create_type": 3, "template_id": "sim-personal-template"})).await),
        30007
    );
    assert_eq!(code(&kd.post(&s, "/confs", &json!({"create_type": 6, "template_id": "x"})).await), 20002);

    // 4: in a virtual meeting room; the room shows status 1 while it runs.
    let room = kd.post(&s, "/virtual_meeting_rooms", &vmr("room-a", 1)).await;
    let room_id = room["id"].as_str().unwrap().to_owned();
    let r = kd.get(&s, &format!("/virtual_meeting_rooms/{room_id}"), &[]).await;
    assert_eq!((r["status"].clone(), r["conf_name"].clone()), (json!(0), json!("")));
    let c4 = kd.post(&s, "/confs", &json!({"create_type": 4, "template_id": room_id, "name": "in the room"})).await;
    ok(&c4);
    assert_eq!(c4["conf_id"], r["e164"]);
    let r = kd.get(&s, &format!("/virtual_meeting_rooms/{room_id}"), &[]).await;
    assert_eq!((r["status"].clone(), r["conf_name"].clone()), (json!(1), json!("in the room")));
    let listed = kd.get(&s, "/virtual_meeting_rooms", &[]).await;
    assert_eq!(listed["virtual_meeting_rooms"][0]["status"], 1);
    assert_eq!(code(&kd.post(&s, "/confs", &json!({"create_type": 4, "template_id": room_id})).await), 30008);
    assert_eq!(code(&kd.delete(&s, &format!("/virtual_meeting_rooms/{room_id}")).await), 30008);
    assert_eq!(code(&kd.post(&s, "/confs", &json!({"create_type": 4, "template_id": "nope"})).await), 30004);
    // Ended with POST + _method=DELETE: the room is idle again.
    ok(&kd.post_delete(&s, &format!("/confs/{}", c4["conf_id"].as_str().unwrap())).await);
    let r = kd.get(&s, &format!("/virtual_meeting_rooms/{room_id}"), &[]).await;
    assert_eq!((r["status"].clone(), r["conf_name"].clone()), (json!(0), json!("")));

    // 5: start a booked conference early; it keeps its ids and duration.
    let now = kd.now().await;
    let b = kd.post(&s, "/booked_confs", &booked(now + 86_400.0, 60, "early")).await;
    let c5 = kd.post(&s, "/confs", &json!({"create_type": 5, "template_id": b["conf_id"]})).await;
    assert_eq!((c5["conf_id"].clone(), c5["meeting_id"].clone()), (b["conf_id"].clone(), b["meeting_id"].clone()));
    let m5 = kd.get(&s, &format!("/meetings/{}", b["meeting_id"].as_str().unwrap()), &[]).await;
    assert_eq!(m5["state"], 2);
    assert_eq!(m5["start_time"], iso(kd.now().await));
    assert_eq!(code(&kd.post(&s, "/confs", &json!({"create_type": 5, "template_id": b["conf_id"]})).await), 30009);
    assert_eq!(code(&kd.post(&s, "/confs", &json!({"create_type": 5, "template_id": "nope"})).await), 30001);
    kd.advance(3601.0).await;
    let s = kd.login().await;
    assert_eq!(kd.get(&s, &format!("/meetings/{}", b["meeting_id"].as_str().unwrap()), &[]).await["state"], 3);
}

#[tokio::test]
async fn rtc_less_platform() {
    let kd = Kd::start_with(KedacomOptions { platform_rtc: false, ..Default::default() }).await;
    let s = kd.login().await;
    let mut p = fixture(CONF_PARAMS);
    p["enable_rtc"] = json!(1);
    assert_eq!(code(&kd.post(&s, "/confs", &p).await), 30012);
    p["conf_type"] = json!(4);
    p["mt_supported_protocol"] = json!(["rtc"]);
    let c = kd.post(&s, "/confs", &p).await;
    let m = kd.get(&s, &format!("/meetings/{}", c["meeting_id"].as_str().unwrap()), &[]).await;
    assert_eq!((m["conf_type"].clone(), m["enable_rtc"].clone()), (json!(2), json!(0)));
}

#[tokio::test]
async fn virtual_meeting_rooms_crud_and_guest_visibility() {
    let kd = Kd::start().await;
    let s = kd.login().await;
    let guest = kd.login_as("sim-guest", "sim-guest-password").await;
    let a = kd.post(&s, "/virtual_meeting_rooms", &vmr("hidden", 0)).await;
    let b = kd.post(&s, "/virtual_meeting_rooms", &vmr("guest-room", 1)).await;
    let (a, b) = (a["id"].as_str().unwrap().to_owned(), b["id"].as_str().unwrap().to_owned());
    let got = kd.get(&s, &format!("/virtual_meeting_rooms/{a}"), &[]).await;
    assert!(got.get("id").is_none());
    assert_eq!(got["encrypted_key"], "234556666");
    assert_eq!(got["exclusive_users"][0]["name"], "llwu233");
    assert!(got["e164"].as_str().unwrap().len() >= 7);
    let all = kd.get(&s, "/virtual_meeting_rooms", &[]).await;
    assert_eq!(all["total"], 2);
    assert_eq!(all["virtual_meeting_rooms"][0]["resolution"], 3);
    assert_eq!(
        kd.get(&s, "/virtual_meeting_rooms", &[("order", "1")]).await["virtual_meeting_rooms"][0]["id"],
        b.as_str()
    );
    assert_eq!(
        kd.get(&s, "/virtual_meeting_rooms", &[("start", "1")]).await["virtual_meeting_rooms"][0]["id"],
        b.as_str()
    );
    // A guest sees only guest rooms.
    let g = kd.get(&guest, "/virtual_meeting_rooms", &[]).await;
    assert_eq!(g["total"], 1);
    assert_eq!(g["virtual_meeting_rooms"][0]["name"], "guest-room");
    assert_eq!(code(&kd.get(&guest, &format!("/virtual_meeting_rooms/{a}"), &[]).await), 30004);
    // Update replaces everything: omitted optional fields fall back to 0.
    let upd = json!({"name": "renamed", "video_formats": [{"format": 5, "resolution": 12, "frame": 25, "bitrate": 1024}],
                     "max_join_mt": 32, "force_mute": 0, "preoccupy_resource": 0, "status": 1});
    ok(&kd.post(&s, &format!("/virtual_meeting_rooms/{a}"), &upd).await);
    let got = kd.get(&s, &format!("/virtual_meeting_rooms/{a}"), &[]).await;
    assert_eq!(
        (got["name"].clone(), got["bitrate"].clone(), got["status"].clone()),
        (json!("renamed"), json!(0), json!(0))
    );
    assert!(got.get("encrypted_key").is_none(), "no AES, no key: {got}");
    assert_eq!(code(&kd.post(&s, &format!("/virtual_meeting_rooms/{a}"), &json!({"name": "x"})).await), 20001);
    assert_eq!(code(&kd.post(&s, "/virtual_meeting_rooms", &json!({"name": "x", "max_join_mt": 8})).await), 20001);
    // Both delete forms.
    ok(&kd.delete(&s, &format!("/virtual_meeting_rooms/{a}")).await);
    ok(&kd.post_delete(&s, &format!("/virtual_meeting_rooms/{b}")).await);
    assert_eq!(code(&kd.get(&s, &format!("/virtual_meeting_rooms/{a}"), &[]).await), 30004);
    assert_eq!(kd.get(&s, "/virtual_meeting_rooms", &[]).await["total"], 0);
    let p = kd.get(&s, "/platforms", &[]).await;
    assert_eq!(p["platforms"][0]["platform_id"], "4b6864c4-a5e4-4bc5-a305-36c80ca9e5df");
}

#[tokio::test]
async fn meeting_room_areas_are_admin_only() {
    let kd = Kd::start().await;
    let s = kd.login().await;
    let guest = kd.login_as("sim-guest", "sim-guest-password").await;
    assert_eq!(code(&kd.post(&guest, "/meeting_room_areas", &json!({"area": "A"})).await), 10005);
    let a = kd.post(&s, "/meeting_room_areas", &json!({"area": "三楼东区"})).await;
    ok(&a);
    let id = a["id"].as_str().unwrap().to_owned();
    kd.post(&s, "/meeting_room_areas", &json!({"area": "B"})).await;
    // 60 characters (not bytes) allowed, 61 not.
    ok(&kd.post(&s, "/meeting_room_areas", &json!({"area": "区".repeat(60)})).await);
    assert_eq!(code(&kd.post(&s, "/meeting_room_areas", &json!({"area": "区".repeat(61)})).await), 20002);
    assert_eq!(code(&kd.post(&s, "/meeting_room_areas", &json!({})).await), 20001);
    // Guests may list.
    let list = kd.get(&guest, "/meeting_room_areas", &[("count", "2")]).await;
    assert_eq!(list["total"], 3);
    assert_eq!(
        list["meeting_room_areas"],
        json!([{"id": id, "area": "三楼东区"}, {"id": list["meeting_room_areas"][1]["id"], "area": "B"}])
    );
    assert_eq!(code(&kd.post(&guest, &format!("/meeting_room_areas/{id}"), &json!({"area": "C"})).await), 10005);
    ok(&kd.post(&s, &format!("/meeting_room_areas/{id}"), &json!({"area": "C"})).await);
    assert_eq!(kd.get(&s, "/meeting_room_areas", &[]).await["meeting_room_areas"][0]["area"], "C");
    assert_eq!(code(&kd.delete(&guest, &format!("/meeting_room_areas/{id}")).await), 10005);
    ok(&kd.post_delete(&s, &format!("/meeting_room_areas/{id}")).await);
    assert_eq!(code(&kd.delete(&s, &format!("/meeting_room_areas/{id}")).await), 30005);
    assert_eq!(code(&kd.post(&s, "/meeting_room_areas/nope", &json!({"area": "C"})).await), 30005);
}

#[tokio::test]
async fn meeting_files_upload_download_limits_and_expiry() {
    let kd = Kd::start().await;
    let s = kd.login().await;
    let c = kd.post(&s, "/confs", &fixture(CONF_PARAMS)).await;
    let mid = c["meeting_id"].as_str().unwrap().to_owned();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let up = kd.upload(&s, &mid, "议程 v1.pdf", data.clone()).await;
    ok(&up);
    let f = up["meeting_file"].clone();
    assert_eq!((f["meeting_id"].clone(), f["file_name"].clone()), (json!(mid), json!("议程 v1.pdf")));
    assert_eq!((f["file_type"].clone(), f["extension_name"].clone()), (json!("8"), json!("pdf")));
    assert_eq!((f["file_size"].clone(), f["creator_name"].clone()), (json!("0.095"), json!("sim-admin")));
    let url = f["file_url"].as_str().unwrap();
    assert!(url.starts_with('/'), "relative: {url}");

    // Download: bytes, Content-Length, Content-MD5, Range.
    let resp = kd.http.get(format!("{}{url}", kd.base)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[header::CONTENT_LENGTH], "100000");
    let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(&data));
    assert_eq!(resp.headers()["content-md5"], md5.as_str());
    assert_eq!(resp.bytes().await.unwrap(), data);
    let part = kd.http.get(format!("{}{url}", kd.base)).header(header::RANGE, "bytes=1000-1999").send().await.unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.headers()[header::CONTENT_RANGE], "bytes 1000-1999/100000");
    let part_md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(&data[1000..2000]));
    assert_eq!(part.headers()["content-md5"], part_md5.as_str());
    assert_eq!(part.bytes().await.unwrap(), data[1000..2000]);
    let state = kd.state().await;
    assert_eq!(state["meeting_files"][0]["size"], 100_000);
    assert_eq!(state["meeting_files"][0]["md5"], hex::encode(Md5::digest(&data)));

    // Limits: type, 20 MB, one file, 10 files, unknown meeting.
    assert_eq!(code(&kd.upload(&s, &mid, "tool.exe", vec![1; 10]).await), 40003);
    assert_eq!(code(&kd.upload(&s, &mid, "big.zip", vec![0; 20 * 1024 * 1024 + 1]).await), 40001);
    assert_eq!(code(&kd.upload(&s, "nope", "a.txt", vec![1; 10]).await), 30002);
    let no_file = reqwest::multipart::Form::new().text("account_token", s.token.clone());
    let req = kd.http.post(format!("{}/api/v1/mc/meeting_files/{mid}", kd.base)).multipart(no_file);
    assert_eq!(code(&Kd::json(req.header(header::COOKIE, &s.cookie).send().await.unwrap()).await), 40004);
    for i in 1..10 {
        ok(&kd.upload(&s, &mid, &format!("n{i}.txt"), vec![b'x'; 10]).await);
    }
    assert_eq!(code(&kd.upload(&s, &mid, "n10.txt", vec![b'x'; 10]).await), 40002);
    let list = kd.get(&s, &format!("/meeting_files/{mid}"), &[]).await;
    assert_eq!(list["total"], 10);
    assert_eq!(list["meeting_files"][0]["file_id"], f["file_id"]);

    // Delete by file_id (DELETE and POST _method=DELETE on the same path shape).
    let fid = f["file_id"].as_str().unwrap();
    ok(&kd.delete(&s, &format!("/meeting_files/{fid}")).await);
    assert_eq!(code(&kd.delete(&s, &format!("/meeting_files/{fid}")).await), 30006);
    assert_eq!(kd.http.get(format!("{}{url}", kd.base)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let second = list["meeting_files"][1]["file_id"].as_str().unwrap().to_owned();
    ok(&kd.post_delete(&s, &format!("/meeting_files/{second}")).await);
    assert_eq!(kd.get(&s, &format!("/meeting_files/{mid}"), &[]).await["total"], 8);

    // Files go away after 7 days.
    kd.advance(7.0 * 86_400.0).await;
    let s = kd.login().await;
    assert_eq!(kd.get(&s, &format!("/meeting_files/{mid}"), &[]).await["total"], 0);
}

#[tokio::test]
async fn sim_invented_fault_injection_uses_the_vendor_envelope() {
    let kd = Kd::start().await;
    let s = kd.login().await;
    let (st, v) =
        kd.admin("/_sim/faults", json!({"error_code": 30010, "paths": ["/api/v1/mc/confs"], "count": 1})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let v = kd.post(&s, "/confs", &fixture(CONF_PARAMS)).await;
    assert_eq!(v, json!({"success": 0, "error_code": 30010, "description": "no free conference resource"}));
    ok(&kd.post(&s, "/confs", &fixture(CONF_PARAMS)).await);
    // Reset wipes meetings (templates stay seeded).
    kd.admin("/_sim/reset", json!({})).await;
    let s = kd.login().await;
    assert_eq!(kd.get(&s, "/meetings", &[]).await["total"], 0);
    ok(&kd.post(&s, "/confs", &json!({"create_type": 2, "template_id": "sim-public-template"})).await);
    kd.sim.shutdown().await;
}

/// Expiry is HTTP 401 by default; `expiry_code` makes it HTTP 200 with that code (both for an
/// expired token and for a missing login cookie).
#[tokio::test]
async fn expiry_answer_is_http_401_or_the_configured_code_assumption_kedacom_expiry_codes() {
    let kd = Kd::start().await;
    let s = kd.login().await;
    let fake = Session { token: "0".repeat(32), ..s.clone() };
    let q = [("account_token", fake.token.as_str())];
    let r = kd.http.get(format!("{}/api/v1/mc/platforms", kd.base)).query(&q).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(&r.json().await.unwrap()), 10002);

    for configured in [10002, 777] {
        let kd = Kd::start_with(KedacomOptions { expiry_code: Some(configured), ..Default::default() }).await;
        let s = kd.login().await;
        let fake = Session { token: "0".repeat(32), ..s.clone() };
        let r = kd.http.get(format!("{}/api/v1/mc/platforms", kd.base)).query(&[("account_token", &fake.token)]);
        let r = r.header(header::COOKIE, &s.cookie).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(code(&r.json().await.unwrap()), configured);
        let no_cookie = kd.http.get(format!("{}/api/v1/mc/platforms", kd.base)).query(&[("account_token", &s.token)]);
        let v: Value = no_cookie.send().await.unwrap().json().await.unwrap();
        assert_eq!(code(&v), configured, "a missing login cookie too");
        ok(&kd.get(&s, "/platforms", &[]).await);
    }
}

/// The login-flow paths are options; a token issued out of band needs no login and no cookie.
#[tokio::test]
async fn custom_login_paths_and_out_of_band_tokens_assumption_kedacom_login_flow() {
    let opts = KedacomOptions {
        token_path: "/gw/oauth/token".into(),
        login_path: "/gw/session".into(),
        heartbeat_path: "/gw/token/{account_token}/keepalive".into(),
        ..Default::default()
    };
    let kd = Kd::start_with(opts).await;
    let creds = [("oauth_consumer_key", "sim-consumer-key"), ("oauth_consumer_secret", "sim-consumer-secret")];
    assert_eq!(kd.form("/api/v1/system/token", &creds).await.status(), StatusCode::NOT_FOUND);
    let v = Kd::json(kd.form("/gw/oauth/token", &creds).await).await;
    let token = v["account_token"].as_str().unwrap().to_owned();
    let login = [("account_token", token.as_str()), ("username", "sim-admin"), ("password", "sim-password")];
    let resp = kd.form("/gw/session", &login).await;
    let cookie = resp.headers()[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    ok(&Kd::json(resp).await);
    let s = Session { token: token.clone(), cookie };
    ok(&kd.get(&s, "/platforms", &[]).await);
    let hb = kd.http.post(format!("{}/gw/token/{token}/keepalive", kd.base)).send().await.unwrap();
    ok(&Kd::json(hb).await);

    // Out of band: a ready token, no cookie; the guest's is a guest session.
    let (st, v) = kd.admin("/_sim/kedacom/tokens", json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let ready = Session { token: v["account_token"].as_str().unwrap().to_owned(), cookie: String::new() };
    ok(&kd.get(&ready, "/platforms", &[]).await);
    let (_, v) = kd.admin("/_sim/kedacom/tokens", json!({"username": "sim-guest"})).await;
    let guest = Session { token: v["account_token"].as_str().unwrap().to_owned(), cookie: String::new() };
    assert_eq!(code(&kd.post(&guest, "/meeting_room_areas", &json!({"area": "x"})).await), 10005);
    let (st, _) = kd.admin("/_sim/kedacom/tokens", json!({"username": "nobody"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // It idles out like any token.
    kd.advance(31.0 * 60.0).await;
    assert_eq!(code(&kd.get(&ready, "/platforms", &[]).await), 10002);
}

/// Where doc 001 is open, strict mode accepts only what meetkit sends; lenient mode the rest.
#[tokio::test]
async fn strict_and_lenient_readings_of_doc_001_assumptions_kedacom() {
    for strict in [true, false] {
        let sim = Simulator::start(SimOptions { strict, ..Default::default() }).await.unwrap();
        let base = sim.kedacom_base_url();
        let kd = Kd { sim, http: reqwest::Client::new(), base };
        let s = kd.login().await;
        let now = kd.now().await;
        let accepted = |v: &Value, what: &str| {
            if strict {
                assert_eq!(v["success"], 0, "strict refuses {what}: {v}");
            } else {
                assert_eq!(v["success"], 1, "lenient accepts {what}: {v}");
            }
        };
        // meetkit's readings pass in both modes.
        let created = kd.post(&s, "/booked_confs", &booked(now + 3600.0, 60, "form")).await;
        ok(&created);
        ok(&kd.delete(&s, &format!("/booked_confs/{}", created["conf_id"].as_str().unwrap())).await);
        let created = kd.post(&s, "/booked_confs", &booked(now + 3600.0, 60, "form2")).await;
        ok(&kd.post_delete(&s, &format!("/booked_confs/{}", created["conf_id"].as_str().unwrap())).await);

        // A JSON body instead of the `params` form field.
        let url = format!("{}/api/v1/mc/booked_confs?account_token={}", kd.base, s.token);
        let r = kd.http.post(&url).header(header::COOKIE, &s.cookie).json(&booked(now + 7200.0, 60, "json"));
        let v = Kd::json(r.send().await.unwrap()).await;
        accepted(&v, "a JSON body");
        // `params` in the query string of a POST.
        let text = booked(now + 9000.0, 60, "query").to_string();
        let r = kd.http.post(format!("{}/api/v1/mc/booked_confs", kd.base)).header(header::COOKIE, &s.cookie);
        let v =
            Kd::json(r.query(&[("params", text.as_str())]).form(&[("account_token", &s.token)]).send().await.unwrap())
                .await;
        accepted(&v, "params in the query string");
        // Integer flags as strings and booleans.
        let mut p = booked(now + 11_000.0, 60, "strings");
        p["mute"] = json!("1");
        p["silence"] = json!(false);
        p["max_join_mt"] = json!("8");
        let v = kd.post(&s, "/booked_confs", &p).await;
        accepted(&v, "integer flags as strings/booleans");
        if !strict {
            let got = kd.get(&s, &format!("/booked_confs/{}", v["conf_id"].as_str().unwrap()), &[]).await;
            assert_eq!((got["mute"].clone(), got["max_join_mt"].clone()), (json!(1), json!(8)), "{got}");
        }
        // A DELETE whose account_token is only in a form body.
        let created = kd.post(&s, "/booked_confs", &booked(now + 13_000.0, 60, "del")).await;
        let url = format!("{}/api/v1/mc/booked_confs/{}", kd.base, created["conf_id"].as_str().unwrap());
        let r = kd.http.delete(&url).header(header::COOKIE, &s.cookie).form(&[("account_token", &s.token)]);
        let v = Kd::json(r.send().await.unwrap()).await;
        accepted(&v, "a DELETE body");
        // `_method=DELETE` in the query string of a POST.
        let created = kd.post(&s, "/booked_confs", &booked(now + 15_000.0, 60, "m")).await;
        let url = format!("{}/api/v1/mc/booked_confs/{}", kd.base, created["conf_id"].as_str().unwrap());
        let r = kd.http.post(&url).header(header::COOKIE, &s.cookie).query(&[("_method", "DELETE")]);
        let r = r.form(&[("account_token", &s.token)]).send().await.unwrap();
        if strict {
            assert_eq!(code(&Kd::json(r).await), 20001, "a POST to a keyed path is an update");
        } else {
            ok(&Kd::json(r).await);
        }
        // The heartbeat by GET.
        let hb = kd.http.get(format!("{}/api/v1/system/token/{}/heartbeat", kd.base, s.token)).send().await.unwrap();
        if strict {
            assert_eq!(hb.status(), StatusCode::METHOD_NOT_ALLOWED);
        } else {
            ok(&Kd::json(hb).await);
        }
    }
}
