//! Documented NetEase Meeting behaviour, exercised over HTTP against a
//! started simulator: request signatures, envelopes and their deviations,
//! accounts, the meeting state machine, recordings with real bytes, and
//! signed callbacks with resends.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, StatusCode as AxStatus};
use base64::Engine;
use md5::{Digest, Md5};
use meetkit_sim::{NeteaseOptions, SimOptions, Simulator};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha1::Sha1;

const KEY: &str = "sim-app-key";
const SECRET: &str = "sim-app-secret";

fn sha1_hex(s: &str) -> String {
    hex::encode(Sha1::digest(s.as_bytes()))
}

fn md5_hex(b: &[u8]) -> String {
    hex::encode(Md5::digest(b))
}

/// The request rule: sha1(AppSecret + Nonce + CurTime).
fn request_checksum(secret: &str, nonce: &str, cur_time: &str) -> String {
    sha1_hex(&format!("{secret}{nonce}{cur_time}"))
}

/// The callback rule: sha1(appSecret + nonce + curTime + md5(body)).
fn callback_checksum(secret: &str, nonce: &str, cur_time: &str, body: &[u8]) -> String {
    sha1_hex(&format!("{secret}{nonce}{cur_time}{}", md5_hex(body)))
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

struct Env {
    sim: Simulator,
    http: reqwest::Client,
    base: String,
}

impl Env {
    async fn start() -> Env {
        Env::start_with(NeteaseOptions::default()).await
    }

    async fn start_with(netease: NeteaseOptions) -> Env {
        let sim = Simulator::start(SimOptions { netease, ..Default::default() }).await.expect("start");
        let base = sim.netease_base_url();
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
        Env { sim, http, base }
    }

    /// POST `path` with `body` and explicit headers; the JSON answer.
    async fn raw(&self, path: &str, body: &str, headers: &[(&str, String)]) -> Value {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json;charset=utf-8")
            .body(body.to_owned());
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let resp = req.send().await.expect("send");
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        // Injected faults come from the shared plumbing (plain application/json).
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        resp.json().await.expect("json")
    }

    /// Signature headers for `cur_time`, with a nonce not used before (strict mode refuses a
    /// replayed one).
    fn signed(cur_time: i64) -> Vec<(&'static str, String)> {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(10_000_000);
        let nonce = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_string();
        let cur = cur_time.to_string();
        let sum = request_checksum(SECRET, &nonce, &cur);
        vec![("AppKey", KEY.into()), ("Nonce", nonce), ("CurTime", cur), ("CheckSum", sum)]
    }

    /// A correctly signed call.
    async fn call(&self, path: &str, body: Value) -> Value {
        self.raw(path, &body.to_string(), &Env::signed(now_secs())).await
    }

    async fn admin(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let resp = self.http.post(format!("{}{path}", self.base)).json(&body).send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn admin_get(&self, path: &str) -> Value {
        self.http.get(format!("{}{path}", self.base)).send().await.unwrap().json().await.unwrap()
    }

    async fn advance(&self, seconds: f64) {
        let (s, _) = self.admin("/_sim/clock/advance", json!({ "seconds": seconds })).await;
        assert_eq!(s, StatusCode::OK);
    }

    async fn virtual_ms(&self) -> i64 {
        (self.admin_get("/_sim/clock").await["now"].as_f64().unwrap() * 1000.0) as i64
    }

    /// A new account's ret.
    async fn account(&self, body: Value) -> Value {
        let v = self.call("/v1/account/create", body).await;
        assert_eq!(v["code"], 200, "{v}");
        v["ret"].clone()
    }

    /// Create a meeting; its ret.
    async fn meeting(&self, body: Value) -> Value {
        let v = self.call("/v2/meeting/create", body).await;
        assert_eq!(v["code"], 200, "{v}");
        v["ret"].clone()
    }

    async fn get(&self, uid: &Value) -> Value {
        let v = self.call("/v2/meeting/get", json!({"meetingUniqueId": uid})).await;
        assert_eq!(v["code"], 200, "{v}");
        v["ret"].clone()
    }

    async fn status(&self, uid: &Value) -> i64 {
        self.get(uid).await["status"].as_i64().unwrap()
    }
}

fn code(v: &Value) -> i64 {
    v["code"].as_i64().unwrap_or_else(|| panic!("no code in {v}"))
}

#[test]
fn catalog_checksum_vectors() {
    // The catalog's vectors through the same rules the tests sign with.
    assert_eq!(
        request_checksum("c8b1f7e0a5d94e2b9f3a", "12345678", "1594639036"),
        "d11e2f261a5c92a42bbd942404fb8948f64fefd7"
    );
    assert_eq!(
        request_checksum("AppSecretExample0001", "87654321", "1700000000"),
        "68ba18c14438b552cebc6905f6ec81ee32aa4444"
    );
    assert_eq!(
        request_checksum("9f86d081884c7d659a2f", "10000001", "1735689600"),
        "e539c95e3e1c367009e5adae76eb5fef8b02f60d"
    );
    let body = r#"{"msgType":3,"msgBody":{"type":1,"meetingId":"123456789","meetingUniqueId":26775,"subject":"周会","time":1605857677012,"reason":4}}"#;
    assert_eq!(md5_hex(body.as_bytes()), "b11944f3e096c420c8ab8f6d5e3b6c53");
    assert_eq!(
        callback_checksum("c8b1f7e0a5d94e2b9f3a", "a8f3c2d1", "1605857677012", body.as_bytes()),
        "0e1919c33c552474badc0350fc31fcc6d400ddaa"
    );
}

#[tokio::test]
async fn sim_invented_profile_and_port() {
    let (sim, port) = common::start_on_fixed_ports(SimOptions::default()).await;
    assert_eq!(sim.netease_base_url(), format!("http://127.0.0.1:{}", port + 4));
    assert_eq!(
        sim.profile()["netease"],
        json!({"base_url": sim.netease_base_url(), "app_key": KEY, "app_secret": SECRET})
    );
    let opts = format!("{:?}", NeteaseOptions::default());
    assert!(!opts.contains(SECRET), "{opts}");
    sim.shutdown().await;
}

#[tokio::test]
async fn signature_rules() {
    let env = Env::start().await;
    let path = "/v2/meeting/list";
    let ok = env.raw(path, "{}", &Env::signed(now_secs())).await;
    assert_eq!(code(&ok), 200, "{ok}");
    // The doc's response Content-Type (with a space).
    let mut req = env.http.post(format!("{}{path}", env.base)).body("{}");
    for (k, v) in Env::signed(now_secs()) {
        req = req.header(k, v);
    }
    assert_eq!(req.send().await.unwrap().headers()["content-type"], "application/json; charset=utf-8");

    // Wrong CheckSum, wrong AppKey, wrong secret.
    let mut bad = Env::signed(now_secs());
    bad[3].1 = request_checksum("other-secret", &bad[1].1, &bad[2].1);
    let v = env.raw(path, "{}", &bad).await;
    assert_eq!(code(&v), 401, "{v}");
    assert!(v["requestId"].as_str().unwrap().starts_with("mc_"));
    let mut bad = Env::signed(now_secs());
    bad[0].1 = "other-key".into();
    assert_eq!(code(&env.raw(path, "{}", &bad).await), 401);
    // CheckSum over the body is not the request rule.
    let mut bad = Env::signed(now_secs());
    bad[3].1 = callback_checksum(SECRET, &bad[1].1, &bad[2].1, b"{}");
    assert_eq!(code(&env.raw(path, "{}", &bad).await), 401);

    // Stale / future CurTime (more than 60 s from the clock), 60 s is fine.
    assert_eq!(code(&env.raw(path, "{}", &Env::signed(now_secs() - 120)).await), 401);
    assert_eq!(code(&env.raw(path, "{}", &Env::signed(now_secs() + 120)).await), 401);
    assert_eq!(code(&env.raw(path, "{}", &Env::signed(now_secs() - 59)).await), 200);
    // Milliseconds are the callback unit, not the request unit.
    assert_eq!(code(&env.raw(path, "{}", &Env::signed(now_secs() * 1000)).await), 401);
    // The window follows the real clock: advancing virtual time does not
    // make a client signing with its system clock stale.
    env.advance(7200.0).await;
    assert_eq!(code(&env.raw(path, "{}", &Env::signed(now_secs())).await), 200);

    // Each missing header, and a non-numeric CurTime: 302.
    for i in 0..4 {
        let mut h = Env::signed(now_secs());
        let name = h.remove(i).0;
        let v = env.raw(path, "{}", &h).await;
        assert_eq!(code(&v), 302, "{name}: {v}");
    }
    let mut h = Env::signed(now_secs());
    h[2].1 = "yesterday".into();
    assert_eq!(code(&env.raw(path, "{}", &h).await), 302);

    // Body and charset errors (after a valid signature).
    assert_eq!(code(&env.raw(path, "not json", &Env::signed(now_secs())).await), 300);
    assert_eq!(code(&env.raw(path, "[1]", &Env::signed(now_secs())).await), 300);
    let mut req =
        env.http.post(format!("{}{path}", env.base)).header("Content-Type", "application/json;charset=gbk").body("{}");
    for (k, v) in Env::signed(now_secs()) {
        req = req.header(k, v);
    }
    let v: Value = req.send().await.unwrap().json().await.unwrap();
    assert_eq!(code(&v), 303);
    // Only POST; unknown paths are 404.
    let r = env.http.get(format!("{}{path}", env.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let r = env.http.post(format!("{}/v2/meeting/update", env.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn envelopes_and_accounts() {
    let env = Env::start().await;
    let v = env.call("/v1/account/create", json!({"imAccid": "abcdefghijk", "imToken": "qwer1234"})).await;
    // Common response: code, requestId "mc_" + 12 digits, costTime "<n>ms", ret; no msg.
    let rid = v["requestId"].as_str().unwrap();
    assert!(rid.len() == 15 && rid[3..].bytes().all(|b| b.is_ascii_digit()), "{rid}");
    let cost = v["costTime"].as_str().unwrap();
    assert!(cost.ends_with("ms") && cost[..cost.len() - 2].parse::<u64>().is_ok(), "{cost}");
    assert!(v.get("msg").is_none(), "{v}");
    let acc = v["ret"].clone();
    let id = acc["accountId"].as_str().unwrap().to_owned();
    assert!(acc["personalMeetingId"].is_u64());
    assert_eq!(acc["personalMeetingId"].to_string().len(), 10);
    assert!(!acc["accountToken"].as_str().unwrap().is_empty());

    let by_im = env.call("/v1/account/getByImAccid", json!({"imAccid": "abcdefghijk"})).await;
    assert_eq!(by_im["ret"], acc);
    let by_id = env.call("/v1/account/getByAccountId", json!({"accountId": id})).await;
    assert_eq!(by_id["ret"], acc);
    assert_eq!(code(&env.call("/v1/account/getByAccountId", json!({"accountId": "nope"})).await), 1014);
    assert_eq!(code(&env.call("/v1/account/getByImAccid", json!({"imAccid": "nope"})).await), 1014);
    assert_eq!(code(&env.call("/v1/account/getByImAccid", json!({})).await), 301);
    // Same imAccid twice; imAccid without its token.
    let dup = env.call("/v1/account/create", json!({"imAccid": "abcdefghijk", "imToken": "x"})).await;
    assert_eq!(code(&dup), 1019);
    assert_eq!(code(&env.call("/v1/account/create", json!({"imAccid": "zz"})).await), 301);
    // Empty body: a fresh account.
    let other = env.account(json!({})).await;
    assert_ne!(other["accountId"], acc["accountId"]);

    // updateToken: common response without ret.
    let v = env.call("/v1/account/updateToken", json!({"accountId": id, "accountToken": "new-token"})).await;
    assert_eq!(code(&v), 200);
    assert!(v.get("ret").is_none() && v["requestId"].is_string(), "{v}");
    let by_id = env.call("/v1/account/getByAccountId", json!({"accountId": id})).await;
    assert_eq!(by_id["ret"]["accountToken"], "new-token");
    assert_eq!(code(&env.call("/v1/account/updateToken", json!({"accountId": id})).await), 301);
    assert_eq!(
        code(&env.call("/v1/account/updateToken", json!({"accountId": "nope", "accountToken": "t"})).await),
        1014
    );

    // updateShortId: set, reject bad / taken, clear by omission.
    let v = env.call("/v1/account/updateShortId", json!({"accountId": id, "shortId": "10000"})).await;
    assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), ["code", "requestId", "costTime"]);
    let by_id = env.call("/v1/account/getByAccountId", json!({"accountId": id})).await;
    assert_eq!(by_id["ret"]["shortId"], "10000");
    for bad in ["123", "123456789", "12a4", ""] {
        let v = env.call("/v1/account/updateShortId", json!({"accountId": id, "shortId": bad})).await;
        assert_eq!(code(&v), 300, "{bad}");
    }
    let taken =
        env.call("/v1/account/updateShortId", json!({"accountId": other["accountId"], "shortId": "10000"})).await;
    assert_eq!(code(&taken), 2011);
    assert_eq!(code(&env.call("/v1/account/create", json!({"shortId": "10000"})).await), 2011);
    env.call("/v1/account/updateShortId", json!({"accountId": id})).await;
    let by_id = env.call("/v1/account/getByAccountId", json!({"accountId": id})).await;
    assert!(by_id["ret"].get("shortId").is_none(), "{by_id}");
}

#[tokio::test]
async fn meeting_create_validation_and_get() {
    let env = Env::start().await;
    let host = env.account(json!({"shortId": "4321"})).await;
    let h = host["accountId"].clone();
    let created = env
        .call(
            "/v2/meeting/create",
            json!({"host": h, "type": 1, "subject": "随机会议", "password": "",
                   "settings": {"scene": {"roleTypes": [{"roleType": 2, "maxCount": 1}]},
                                "controls": [{"type": "audio", "attendeeOff": 1}, {"type": "video", "attendeeOff": 2}]}}),
        )
        .await;
    assert_eq!(code(&created), 200, "{created}");
    let m = &created["ret"];
    assert_eq!(m["meetingId"].as_str().unwrap().len(), 9);
    assert_eq!(m["status"], 1);
    assert_eq!(m["endTime"], -1);
    assert_eq!(m["subject"], "随机会议");
    assert_eq!(m["settings"]["controls"][1]["attendeeOff"], 2);
    let got = env.get(&m["meetingUniqueId"]).await;
    assert_eq!(got["valid"], true);
    assert!(got["avRoomCid"].is_string());
    assert_eq!(got["meetingId"], m["meetingId"]);

    // Type as a string works too; type 2 uses the personal number and short id.
    let personal = env.meeting(json!({"host": h, "type": "2", "subject": "个人"})).await;
    assert_eq!(personal["meetingId"], host["personalMeetingId"].to_string());
    assert_eq!(personal["shortId"], "4321");
    assert_eq!(code(&env.call("/v2/meeting/create", json!({"host": h, "type": 2, "subject": "again"})).await), 2024);

    for (body, want) in [
        (json!({"type": 1, "subject": "s"}), 301),
        (json!({"host": h, "subject": "s"}), 301),
        (json!({"host": h, "type": 1}), 301),
        (json!({"host": h, "type": 7, "subject": "s"}), 2023),
        (json!({"host": h, "type": 1, "subject": "x".repeat(31)}), 2017),
        (json!({"host": "nobody", "type": 1, "subject": "s"}), 1014),
        (json!({"host": h, "owner": "nobody", "type": 1, "subject": "s"}), 1014),
        (json!({"host": h, "type": 3, "subject": "s"}), 301),
        (json!({"host": h, "type": 3, "subject": "s", "startTime": 2000, "endTime": 1000}), 300),
        (json!({"host": h, "type": 1, "subject": "s", "settings": {"controls": [{"type": "screen"}]}}), 300),
        (json!({"host": h, "type": 1, "subject": "s", "startTime": "soon"}), 300),
    ] {
        let v = env.call("/v2/meeting/create", body.clone()).await;
        assert_eq!(code(&v), want, "{body} -> {v}");
        assert!(v["requestId"].is_string());
    }
    assert_eq!(code(&env.call("/v2/meeting/get", json!({"meetingUniqueId": 1})).await), 2000);
    assert_eq!(code(&env.call("/v2/meeting/get", json!({"meetingUniqueId": "1"})).await), 300);
}

#[tokio::test]
async fn scheduled_meeting_state_machine() {
    let env = Env::start().await;
    let h = env.account(json!({})).await["accountId"].clone();
    let start = env.virtual_ms().await + 600_000;
    let m = env
        .meeting(json!({"host": h, "type": 3, "subject": "周会", "startTime": start, "endTime": start + 3_600_000}))
        .await;
    let uid = m["meetingUniqueId"].clone();
    assert_eq!(m["startTime"], start);

    // Edit while not started: bare {"code":200}; subject required.
    let v =
        env.call("/v2/meeting/edit", json!({"meetingUniqueId": uid, "subject": "新的主题", "password": "1234"})).await;
    assert_eq!(v, json!({"code": 200}));
    let bad = env.call("/v2/meeting/edit", json!({"meetingUniqueId": uid})).await;
    assert_eq!(code(&bad), 301);
    assert!(bad.get("requestId").is_none() && bad["msg"].is_string(), "{bad}");
    assert_eq!(
        env.call("/v2/meeting/edit", json!({"meetingUniqueId": 9, "subject": "x"})).await,
        json!({"code": 2000, "msg": "该会议不存在"})
    );
    let got = env.get(&uid).await;
    assert_eq!((got["subject"].as_str(), got["password"].as_str()), (Some("新的主题"), Some("1234")));

    // Reaches startTime on the virtual clock: in progress.
    env.advance(599.0).await;
    assert_eq!(env.status(&uid).await, 1);
    env.advance(2.0).await;
    assert_eq!(env.status(&uid).await, 2);
    assert_eq!(code(&env.call("/v2/meeting/edit", json!({"meetingUniqueId": uid, "subject": "x"})).await), 2025);
    assert_eq!(code(&env.call("/v2/meeting/cancel", json!({"meetingUniqueId": uid})).await), 2002);

    // End by meeting number; again: 2021; recycle the ended meeting: 5.
    let v = env.call("/v2/meeting/deleteByMeetingId", json!({"meetingId": m["meetingId"]})).await;
    assert_eq!(v, json!({"code": 200}));
    assert_eq!(env.status(&uid).await, 3);
    assert_eq!(env.get(&uid).await["valid"], false);
    assert_eq!(code(&env.call("/v2/meeting/deleteByMeetingUniqueId", json!({"meetingUniqueId": uid})).await), 2021);
    let v = env.call("/v2/meeting/deleteByMeetingUniqueId", json!({"meetingUniqueId": uid, "recycle": true})).await;
    assert_eq!(v, json!({"code": 200}));
    assert_eq!(env.status(&uid).await, 5);
    assert_eq!(
        code(&env.call("/v2/meeting/deleteByMeetingUniqueId", json!({"meetingUniqueId": uid, "recycle": true})).await),
        2021
    );
    assert_eq!(
        code(&env.call("/v2/meeting/deleteByMeetingUniqueId", json!({"meetingUniqueId": uid, "recycle": "yes"})).await),
        300
    );

    // Cancel a not-started meeting: 4; cancel again: 2021.
    let later =
        env.meeting(json!({"host": h, "type": 3, "subject": "b", "startTime": start + 7_200_000, "endTime": -1})).await;
    let v = env.call("/v2/meeting/cancel", json!({"meetingUniqueId": later["meetingUniqueId"]})).await;
    assert_eq!(v, json!({"code": 200}));
    assert_eq!(env.status(&later["meetingUniqueId"]).await, 4);
    assert_eq!(code(&env.call("/v2/meeting/cancel", json!({"meetingUniqueId": later["meetingUniqueId"]})).await), 2021);
    // A cancelled meeting never starts.
    env.advance(7200.0 * 2.0).await;
    assert_eq!(env.status(&later["meetingUniqueId"]).await, 4);

    // End by short id (personal meeting of an account with a short id).
    let acc = env.account(json!({"shortId": "55555"})).await;
    let p = env.meeting(json!({"host": acc["accountId"], "type": 2, "subject": "p"})).await;
    assert_eq!(code(&env.call("/v2/meeting/deleteByMeetingShortId", json!({"shortId": "99999"})).await), 2000);
    let v = env.call("/v2/meeting/deleteByMeetingShortId", json!({"shortId": "55555", "recycle": true})).await;
    assert_eq!(v, json!({"code": 200}));
    // Personal numbers are never recycled: ended, not recycled.
    assert_eq!(env.status(&p["meetingUniqueId"]).await, 3);
    assert_eq!(code(&env.call("/v2/meeting/deleteByMeetingId", json!({"meetingId": "000000000"})).await), 2000);
}

#[tokio::test]
async fn meeting_list_filters_and_pages() {
    let env = Env::start().await;
    let h = env.account(json!({})).await["accountId"].clone();
    let mut uids = Vec::new();
    for i in 0..5 {
        uids.push(
            env.meeting(json!({"host": h, "type": 1, "subject": format!("m{i}")})).await["meetingUniqueId"].clone(),
        );
    }
    env.call("/v2/meeting/cancel", json!({"meetingUniqueId": uids[0]})).await;
    let (s, _) = env.admin(&format!("/_sim/netease/meetings/{}/start", uids[1]), json!({})).await;
    assert_eq!(s, StatusCode::OK);

    let all = env.call("/v2/meeting/list", json!({})).await;
    assert_eq!(code(&all), 200);
    let r = &all["ret"];
    assert_eq!(
        (r["pageIndex"].as_i64(), r["pageSize"].as_i64(), r["totalNum"].as_i64(), r["totalPages"].as_i64()),
        (Some(0), Some(20), Some(4), Some(1))
    );
    assert_eq!(r["meetingList"].as_array().unwrap().len(), 4);

    let page = env.call("/v2/meeting/list", json!({"pageIndex": 1, "pageSize": 3})).await;
    assert_eq!(page["ret"]["totalPages"], 2);
    assert_eq!(page["ret"]["meetingList"].as_array().unwrap().len(), 1);
    let running = env.call("/v2/meeting/list", json!({"statusList": [2]})).await;
    let list = running["ret"]["meetingList"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["meetingUniqueId"], uids[1]);
    assert_eq!(list[0]["status"], 2);
    let cancelled = env.call("/v2/meeting/list", json!({"statusList": [4]})).await;
    assert_eq!(cancelled["ret"]["meetingList"][0]["meetingUniqueId"], uids[0]);
    let by_uid = env.call("/v2/meeting/list", json!({"meetingUniqueId": uids[2]})).await;
    assert_eq!(by_uid["ret"]["totalNum"], 1);
    let none = env.call("/v2/meeting/list", json!({"type": "3"})).await;
    assert_eq!(none["ret"]["totalNum"], 0);
    let late = env.call("/v2/meeting/list", json!({"minStartTime": env.virtual_ms().await + 60_000})).await;
    assert_eq!(late["ret"]["totalNum"], 0);
    for bad in [json!({"pageSize": 0}), json!({"pageSize": 101}), json!({"pageIndex": -1}), json!({"statusList": [9]})]
    {
        assert_eq!(code(&env.call("/v2/meeting/list", bad.clone()).await), 300, "{bad}");
    }
}

#[tokio::test]
async fn anonymous_join_info_headers_and_rules() {
    let env = Env::start().await;
    let h = env.account(json!({})).await["accountId"].clone();
    let m = env
        .meeting(json!({"host": h, "type": 1, "subject": "s", "password": "pw",
                        "settings": {"controls": [{"type": "audio", "state": 1}]}}))
        .await;
    let path = "/v1/meeting/anonymousJoinInfo";
    let join = |body: Value, auth: Option<String>, client_type: &str| {
        let raw = body.to_string();
        let mut headers = Env::signed(now_secs());
        if let Some(a) = auth.or_else(|| Some(md5_hex(format!("{raw}@163").as_bytes()))).filter(|a| !a.is_empty()) {
            headers.push(("authorization", a));
        }
        if !client_type.is_empty() {
            headers.push(("clientType", client_type.to_owned()));
        }
        headers.push(("deviceId", "dev-1".into()));
        let env = &env;
        async move { env.raw(path, &raw, &headers).await }
    };
    let body = json!({"meetingId": m["meetingId"], "nickName": "hello", "video": 1, "audio": 2, "password": "pw"});
    let ok = join(body.clone(), None, "6").await;
    assert_eq!(code(&ok), 200, "{ok}");
    let r = &ok["ret"];
    assert_eq!((r["code"].as_i64(), r["msg"].as_str()), (Some(200), Some("success")));
    assert_eq!(r["meetingUniqueId"], m["meetingUniqueId"]);
    assert_eq!(r["meetingId"], m["meetingId"]);
    assert_eq!(r["appKey"], KEY);
    assert_eq!(r["audioAllMute"], 1);
    assert!(r["avRoomUid"].is_u64() && r["createTime"].as_i64().unwrap() < 10_000_000_000);
    for key in ["accountId", "accountToken", "imAccid", "imToken", "avRoomCheckSum", "avRoomCid", "meetingKey"] {
        assert!(!r[key].as_str().unwrap_or_default().is_empty(), "{key}: {r}");
    }
    // Joining does not open the room.
    assert_eq!(env.status(&m["meetingUniqueId"]).await, 1);

    // Header rule.
    assert_eq!(code(&join(body.clone(), Some(String::new()), "6").await), 302);
    assert_eq!(code(&join(body.clone(), Some(md5_hex(body.to_string().as_bytes())), "6").await), 401);
    assert_eq!(code(&join(body.clone(), None, "").await), 302);
    assert_eq!(code(&join(body.clone(), None, "9").await), 3001);
    // Still needs the signature headers.
    let raw = body.to_string();
    let only_join_headers = vec![
        ("authorization", md5_hex(format!("{raw}@163").as_bytes())),
        ("clientType", "4".to_owned()),
        ("deviceId", "d".to_owned()),
    ];
    assert_eq!(code(&env.raw(path, &raw, &only_join_headers).await), 302);

    // Body rules.
    let with = |k: &str, v: Value| {
        let mut b = body.clone();
        b[k] = v;
        b
    };
    assert_eq!(code(&join(with("password", json!(null)), None, "6").await), 2018);
    assert_eq!(code(&join(with("password", json!("nope")), None, "6").await), 2014);
    assert_eq!(code(&join(with("nickName", json!("名字名字名字名字名字名")), None, "6").await), 2003);
    assert_eq!(code(&join(with("video", json!(0)), None, "6").await), 2004);
    assert_eq!(code(&join(with("audio", json!(3)), None, "6").await), 2005);
    assert_eq!(code(&join(with("meetingId", json!("111111111")), None, "6").await), 2000);
    assert_eq!(code(&join(with("roleType", json!(2)), None, "6").await), 300);
    assert_eq!(code(&join(with("video", json!(null)), None, "6").await), 301);
    env.call("/v2/meeting/deleteByMeetingUniqueId", json!({"meetingUniqueId": m["meetingUniqueId"]})).await;
    assert_eq!(code(&join(body.clone(), None, "6").await), 2021);
}

#[tokio::test]
async fn recordings_appear_after_the_end_with_real_bytes() {
    let env = Env::start_with(NeteaseOptions { record_bytes_per_second: 1000, ..Default::default() }).await;
    let h = env.account(json!({})).await["accountId"].clone();
    let m = env.meeting(json!({"host": h, "type": 1, "subject": "rec"})).await;
    let uid = m["meetingUniqueId"].clone();
    let list = || env.call("/v2/meeting/record/list", json!({"meetingUniqueId": uid}));
    assert_eq!(list().await["ret"], json!([]));
    let (s, v) = env.admin(&format!("/_sim/netease/meetings/{uid}/start"), json!({})).await;
    assert_eq!((s, v["status"].as_i64()), (StatusCode::OK, Some(2)));
    let (s, _) = env.admin(&format!("/_sim/netease/meetings/{uid}/start"), json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    env.advance(100.0).await;
    env.call("/v2/meeting/deleteByMeetingUniqueId", json!({"meetingUniqueId": uid})).await;
    env.advance(59.0).await;
    assert_eq!(list().await["ret"], json!([]), "not before record_delay");
    env.advance(2.0).await;
    let v = list().await;
    assert_eq!(code(&v), 200);
    assert!(v["requestId"].is_string() && v["costTime"].is_string());
    let files = v["ret"].as_array().expect("ret is an array");
    assert_eq!(files.len(), 2);
    let mp4 = files.iter().find(|f| f["type"] == "mp4").unwrap();
    assert_eq!((mp4["mix"].as_i64(), mp4["pieceIndex"].as_i64()), (Some(1), Some(0)));
    let size = mp4["size"].as_u64().unwrap();
    assert!((100_000..=101_000).contains(&size), "{size}");

    let url = mp4["url"].as_str().unwrap();
    assert!(url.starts_with(&env.base));
    let resp = env.http.get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.content_length(), Some(size));
    let header_md5 = resp.headers()["content-md5"].to_str().unwrap().to_owned();
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, size);
    assert_eq!(md5_hex(&bytes), mp4["md5"]);
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(header_md5).unwrap(), Md5::digest(&bytes).to_vec());

    let part = env.http.get(url).header("Range", "bytes=100-199").send().await.unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.headers()["content-range"], format!("bytes 100-199/{size}").as_str());
    assert_eq!(part.bytes().await.unwrap(), bytes.slice(100..200));
    let beyond = env.http.get(url).header("Range", format!("bytes={size}-")).send().await.unwrap();
    assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        env.http.get(format!("{}/vod/{uid}/nope.mp4", env.base)).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    let state = env.admin_get("/_sim/state").await;
    let rec = state["recordings"].as_array().unwrap().iter().find(|r| r["filename"] == mp4["filename"]).unwrap();
    assert_eq!((&rec["size"], &rec["md5"]), (&mp4["size"], &mp4["md5"]));
    assert_eq!(code(&env.call("/v2/meeting/record/list", json!({"meetingUniqueId": 5})).await), 2000);
}

#[tokio::test]
async fn time_limit_ends_meetings() {
    let env = Env::start().await;
    let h = env.account(json!({})).await["accountId"].clone();
    let m = env.meeting(json!({"host": h, "type": 1, "subject": "long"})).await;
    let uid = m["meetingUniqueId"].clone();
    env.admin(&format!("/_sim/netease/meetings/{uid}/start"), json!({})).await;
    env.advance(7199.0).await;
    assert_eq!(env.status(&uid).await, 2);
    env.advance(2.0).await;
    assert_eq!(env.status(&uid).await, 3);
}

#[tokio::test]
async fn sim_invented_fault_uses_the_envelope() {
    let env = Env::start().await;
    let (s, _) = env.admin("/_sim/faults", json!({"error_code": 510, "paths": ["/v2/meeting/get"], "count": 1})).await;
    assert_eq!(s, StatusCode::OK);
    let v = env.call("/v2/meeting/get", json!({"meetingUniqueId": 1})).await;
    assert_eq!((code(&v), v["msg"].as_str()), (510, Some("请求过于频繁")));
    assert!(v["requestId"].as_str().unwrap().starts_with("mc_"));
    assert_eq!(code(&env.call("/v2/meeting/get", json!({"meetingUniqueId": 1})).await), 2000);
    let base = env.base.clone();
    env.sim.shutdown().await;
    assert!(reqwest::get(format!("{base}/_sim/health")).await.is_err(), "stopped");
}

/// One callback as the receiver saw it.
#[derive(Clone)]
struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A callback receiver answering `statuses` in turn (then 200).
async fn receiver(statuses: Vec<u16>) -> (String, Arc<Mutex<Vec<Received>>>) {
    let seen: Arc<Mutex<Vec<Received>>> = Arc::default();
    let plan = Arc::new(Mutex::new(statuses.into_iter()));
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/cb",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let (log, plan) = (log.clone(), plan.clone());
            async move {
                log.lock().unwrap().push(Received { headers, body: body.to_vec() });
                AxStatus::from_u16(plan.lock().unwrap().next().unwrap_or(200)).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

/// Check a received callback's signature; its parsed body.
fn verify(r: &Received) -> Value {
    let h = |n: &str| r.headers[n].to_str().unwrap().to_owned();
    assert_eq!(h("AppKey"), KEY);
    let cur = h("CurTime");
    assert_eq!(cur.len(), 13, "CurTime in milliseconds: {cur}");
    let skew = cur.parse::<i64>().unwrap() - now_secs() * 1000;
    assert!(skew.abs() < 10_000, "{skew}");
    assert_eq!(h("CheckSum"), callback_checksum(SECRET, &h("Nonce"), &cur, &r.body));
    assert!(h("content-type").starts_with("application/json"));
    serde_json::from_slice(&r.body).unwrap()
}

/// Wait until the receiver has `n` callbacks (the simulator sends them from a background task);
/// a minute without them fails the test as hung.
async fn wait_for(seen: &Arc<Mutex<Vec<Received>>>, n: usize) -> Vec<Received> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = seen.lock().unwrap().clone();
        if got.len() >= n {
            return got;
        }
        assert!(Instant::now() < deadline, "hung: {} of {n} callbacks after a minute", got.len());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The simulator's log of delivery `i` once it is over (delivered, failed or skipped): no
/// attempt of it is still to come.
async fn finished(env: &Env, i: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let d = env.admin_get("/_sim/netease/callbacks").await["deliveries"][i].clone();
        if d["status"] != "pending" {
            return d;
        }
        assert!(Instant::now() < deadline, "hung: delivery {i} still pending after a minute: {d}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The virtual times of a delivery's attempts.
fn attempt_times(d: &Value) -> Vec<f64> {
    d["attempts"].as_array().unwrap().iter().map(|a| a["at"].as_f64().unwrap()).collect()
}

#[tokio::test]
async fn callbacks_resend_on_schedule_with_valid_signatures() {
    let (url, seen) = receiver(vec![500, 500, 200]).await;
    let scale = 0.1;
    let opts = NeteaseOptions {
        callback_url: Some(url),
        callback_time_scale: scale,
        resign_resends: true,
        ..Default::default()
    };
    let env = Env::start_with(opts).await;
    let h = env.account(json!({})).await["accountId"].clone();
    let m = env.meeting(json!({"host": h, "type": 1, "subject": "周会"})).await;
    env.call("/v2/meeting/cancel", json!({"meetingUniqueId": m["meetingUniqueId"]})).await;

    let got = wait_for(&seen, 3).await;
    assert_eq!(got.len(), 3);
    let bodies: Vec<Value> = got.iter().map(verify).collect();
    assert!(bodies.iter().all(|b| *b == bodies[0]), "the same callback is resent");
    assert_eq!(bodies[0]["msgType"], 2);
    let mb = &bodies[0]["msgBody"];
    assert_eq!(
        (&mb["meetingUniqueId"], &mb["meetingId"], &mb["subject"]),
        (&m["meetingUniqueId"], &m["meetingId"], &m["subject"])
    );
    assert_eq!(mb["type"], 1);
    assert!(mb["time"].as_i64().unwrap() > 1_600_000_000_000);
    // resign_resends: a fresh nonce per attempt.
    assert_ne!(got[0].headers["Nonce"], got[1].headers["Nonce"]);
    // Resend waits on the virtual clock: 2 s then 4 s, scaled; never earlier.
    let d = finished(&env, 0).await;
    let at = attempt_times(&d);
    for (i, secs) in [(1, 2.0), (2, 4.0)] {
        assert!(at[i] - at[i - 1] >= secs * scale, "gap {i}: {} s, due after {} s", at[i] - at[i - 1], secs * scale);
    }
    // Past every later wait of the schedule; real time: the sender looks at the virtual clock
    // every 50 ms, three looks without a resend.
    env.advance(6.0 + 7200.0).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(seen.lock().unwrap().len(), 3, "no resend after a 200");
    assert_eq!((d["status"].as_str(), d["msgType"].as_i64()), (Some("delivered"), Some(2)));
    let statuses: Vec<_> = d["attempts"].as_array().unwrap().iter().map(|a| a["httpStatus"].clone()).collect();
    assert_eq!(statuses, [json!(500), json!(500), json!(200)]);
}

#[tokio::test]
async fn callbacks_give_up_after_the_schedule_and_follow_the_url() {
    let (url, seen) = receiver(vec![503; 10]).await;
    let opts = NeteaseOptions {
        callback_schedule: vec![Duration::from_secs(1), Duration::from_secs(1)],
        callback_time_scale: 0.01,
        ..Default::default()
    };
    let env = Env::start_with(opts).await;
    let h = env.account(json!({})).await["accountId"].clone();
    // No URL yet: logged as skipped, nothing sent.
    let m = env.meeting(json!({"host": h, "type": 1, "subject": "a"})).await;
    env.call("/v2/meeting/cancel", json!({"meetingUniqueId": m["meetingUniqueId"]})).await;
    let log = env.admin_get("/_sim/netease/callbacks").await;
    assert_eq!(log["deliveries"][0]["status"], "skipped");

    let (s, _) = env.admin("/_sim/netease/callback_url", json!({"url": url})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = env.admin("/_sim/netease/callback_url", json!({"url": "not a url"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let m = env.meeting(json!({"host": h, "type": 1, "subject": "b"})).await;
    env.call("/v2/meeting/cancel", json!({"meetingUniqueId": m["meetingUniqueId"]})).await;
    // Given up: nothing more is sent (an attempt is logged once its answer is in).
    let d = finished(&env, 1).await;
    assert_eq!(d["status"], "failed");
    assert_eq!(d["attempts"].as_array().unwrap().len(), 3);
    assert_eq!(seen.lock().unwrap().len(), 3, "1 attempt + 2 resends");
}

#[tokio::test]
async fn attached_receivers_each_get_every_later_event_until_detached() {
    let (a, seen_a) = receiver(vec![]).await;
    let (b, seen_b) = receiver(vec![]).await;
    let env = Env::start_with(NeteaseOptions::default()).await;
    let h = env.account(json!({})).await["accountId"].clone();
    for url in [&a, &b, &a] {
        let (s, v) = env.admin("/_sim/netease/receivers/attach", json!({ "url": url })).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let log = env.admin_get("/_sim/netease/callbacks").await;
    assert_eq!(log["receivers"], json!([a, b]), "attached once each, in order");
    let (s, _) = env.admin("/_sim/netease/receivers/attach", json!({"url": "not a url"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let m = env.meeting(json!({"host": h, "type": 1, "subject": "both"})).await;
    env.call("/v2/meeting/cancel", json!({"meetingUniqueId": m["meetingUniqueId"]})).await;
    for seen in [&seen_a, &seen_b] {
        let got = wait_for(seen, 1).await;
        assert_eq!(verify(&got[0])["msgBody"]["subject"], "both");
    }
    let log = env.admin_get("/_sim/netease/callbacks").await;
    let urls: Vec<&Value> = log["deliveries"].as_array().unwrap().iter().map(|d| &d["url"]).collect();
    assert_eq!(urls, [&Value::Null, &json!(a), &json!(b)], "no callback URL: skipped; one delivery per receiver");

    let (_, v) = env.admin("/_sim/netease/receivers/detach", json!({ "url": a })).await;
    assert_eq!((&v["detached"], &v["receivers"]), (&json!(true), &json!([b])));
    let (_, v) = env.admin("/_sim/netease/receivers/detach", json!({ "url": a })).await;
    assert_eq!(v["detached"], false, "{v}");
    // Reset forgets deliveries, not who listens.
    env.admin("/_sim/reset", json!({})).await;
    let h = env.account(json!({})).await["accountId"].clone();
    let m = env.meeting(json!({"host": h, "type": 1, "subject": "only b"})).await;
    env.call("/v2/meeting/cancel", json!({"meetingUniqueId": m["meetingUniqueId"]})).await;
    let got = wait_for(&seen_b, 2).await;
    assert_eq!(verify(&got[1])["msgBody"]["subject"], "only b");
    let d = finished(&env, 1).await;
    assert_eq!((d["url"].as_str(), d["status"].as_str()), (Some(b.as_str()), Some("delivered")));
    assert_eq!(seen_a.lock().unwrap().len(), 1, "a detached receiver gets nothing more");

    // A receiver that is gone (its command was killed) is detached: its pending delivery ends.
    let dead = {
        let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/cb", gone.local_addr().unwrap())
    };
    env.admin("/_sim/netease/receivers/attach", json!({ "url": dead })).await;
    let m = env.meeting(json!({"host": h, "type": 1, "subject": "dead"})).await;
    env.call("/v2/meeting/cancel", json!({"meetingUniqueId": m["meetingUniqueId"]})).await;
    let to_dead = || async {
        let log = env.admin_get("/_sim/netease/callbacks").await;
        log["deliveries"].as_array().unwrap().iter().find(|d| d["url"] == json!(dead)).cloned().unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while to_dead().await["attempts"].as_array().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "hung: no attempt to the dead receiver after a minute");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (_, v) = env.admin("/_sim/netease/receivers/detach", json!({ "url": dead })).await;
    assert_eq!(v["detached"], true, "{v}");
    let d = to_dead().await;
    assert_eq!(d["status"], "detached", "{d}");
    let tried = d["attempts"].as_array().unwrap().len();
    // Past every resend of the schedule; the sender looks at the virtual clock every 50 ms.
    env.advance(6.0 + 7200.0).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(to_dead().await["attempts"].as_array().unwrap().len(), tried, "no resend after the detach");
}

#[tokio::test]
async fn lifecycle_callbacks() {
    let (url, seen) = receiver(vec![]).await;
    let env = Env::start_with(NeteaseOptions { callback_url: Some(url), ..Default::default() }).await;
    let h = env.account(json!({})).await["accountId"].clone();
    let m = env.meeting(json!({"host": h, "type": 1, "subject": "DEMO"})).await;
    let uid = m["meetingUniqueId"].clone();
    let (s, v) =
        env.admin(&format!("/_sim/netease/meetings/{uid}/join"), json!({"accountId": "a1", "deviceId": "d1"})).await;
    assert_eq!(s, StatusCode::OK);
    let room_uid = v["roomUid"].clone();
    env.admin(&format!("/_sim/netease/meetings/{uid}/join"), json!({"accountId": "a2"})).await;
    env.admin(&format!("/_sim/netease/meetings/{uid}/leave"), json!({"accountId": "a1"})).await;
    assert_eq!(env.status(&uid).await, 2);
    env.advance(30.0).await;
    env.admin(&format!("/_sim/netease/meetings/{uid}/leave"), json!({"accountId": "a2"})).await;
    assert_eq!(env.status(&uid).await, 3);
    // Recordings appear after record_delay (virtual), announced by msgType 7
    // without any API request (the simulator ticks on its own).
    env.advance(61.0).await;
    let got = wait_for(&seen, 8).await;
    let bodies: Vec<Value> = got.iter().map(verify).collect();
    let types: Vec<i64> = bodies.iter().map(|b| b["msgType"].as_i64().unwrap()).collect();
    assert_eq!(types, [1, 5, 5, 6, 6, 3, 7, 7]);
    assert_eq!(bodies[1]["msgBody"]["accountId"], "a1");
    assert_eq!(bodies[1]["msgBody"]["deviceId"], "d1");
    assert_eq!(bodies[1]["msgBody"]["roomUid"], room_uid);
    assert_eq!(bodies[5]["msgBody"]["reason"], 2);
    assert!(bodies[5]["msgBody"]["roomCreateTime"].is_i64());
    let file = &bodies[6]["msgBody"]["fileInfo"];
    let listed = env.call("/v2/meeting/record/list", json!({"meetingUniqueId": uid})).await;
    assert!(listed["ret"].as_array().unwrap().contains(file), "{file}");

    // Host end (admin) on another meeting: reason 1; API recycle: msgType 4.
    let m2 = env.meeting(json!({"host": h, "type": 1, "subject": "x"})).await;
    let (s, _) = env.admin(&format!("/_sim/netease/meetings/{}/start", m2["meetingUniqueId"]), json!({})).await;
    assert_eq!(s, StatusCode::OK);
    env.admin(&format!("/_sim/netease/meetings/{}/end", m2["meetingUniqueId"]), json!({"reason": 1})).await;
    let m3 = env.meeting(json!({"host": h, "type": 1, "subject": "y"})).await;
    env.call("/v2/meeting/deleteByMeetingUniqueId", json!({"meetingUniqueId": m3["meetingUniqueId"], "recycle": true}))
        .await;
    let got = wait_for(&seen, 11).await;
    let tail: Vec<(i64, i64)> = got[8..]
        .iter()
        .map(verify)
        .map(|b| (b["msgType"].as_i64().unwrap(), b["msgBody"]["reason"].as_i64().unwrap_or(0)))
        .collect();
    assert_eq!(tail, [(1, 0), (3, 1), (4, 4)]);
    assert_eq!(env.status(&m3["meetingUniqueId"]).await, 5);
    let (s, _) = env.admin("/_sim/netease/meetings/424242/start", json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Reset forgets the log.
    env.admin("/_sim/reset", json!({})).await;
    assert_eq!(env.admin_get("/_sim/netease/callbacks").await["deliveries"], json!([]));
}

/// The default (`resign_resends` false): every resend repeats the first attempt's Nonce, CurTime
/// and CheckSum, and the 1 h resends are due on the virtual clock (advanced, not waited for).
#[tokio::test]
async fn resends_reuse_the_first_signature_and_follow_the_virtual_clock_assumption_netease_callback_resend_signing() {
    let (url, seen) = receiver(vec![500; 10]).await;
    let env = Env::start_with(NeteaseOptions { callback_url: Some(url), ..Default::default() }).await;
    let h = env.account(json!({})).await["accountId"].clone();
    let m = env.meeting(json!({"host": h, "type": 1, "subject": "resend"})).await;
    let started = Instant::now();
    env.call("/v2/meeting/cancel", json!({"meetingUniqueId": m["meetingUniqueId"]})).await;
    assert_eq!(wait_for(&seen, 1).await.len(), 1);
    // Each resend comes when the virtual clock reaches the previous attempt + its interval.
    let schedule: [f64; 5] = [2.0, 4.0, 6.0, 3600.0, 3600.0];
    for (i, secs) in schedule.into_iter().enumerate() {
        // Not yet due well before its time. Real time: the sender looks at the virtual clock
        // every 50 ms; three looks without a resend (the margin dwarfs the real time that passes).
        let margin = (secs / 2.0).min(60.0);
        env.advance(secs - margin).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(seen.lock().unwrap().len(), i + 1, "resend {} not due before {secs} s", i + 1);
        env.advance(margin).await;
        assert_eq!(wait_for(&seen, i + 2).await.len(), i + 2, "attempt {} after {secs} s", i + 2);
    }
    let real = started.elapsed().as_secs_f64();
    // Given up after the last resend: nothing more is sent.
    let d = finished(&env, 0).await;
    assert_eq!(d["status"], "failed");
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 6, "1 attempt + 5 resends, then no more");
    let first = (&got[0].headers["Nonce"], &got[0].headers["CurTime"], &got[0].headers["CheckSum"]);
    for r in &got {
        assert_eq!((&r.headers["Nonce"], &r.headers["CurTime"], &r.headers["CheckSum"]), first);
        assert_eq!(r.body, got[0].body);
    }
    verify(&got[0]);
    // Never due before its interval (virtual time); and no later than the clock advances plus
    // the real time the test took allow.
    let at = attempt_times(&d);
    for (i, secs) in schedule.into_iter().enumerate() {
        assert!(at[i + 1] - at[i] >= secs, "resend {} came {} s after the attempt before it", i + 1, at[i + 1] - at[i]);
    }
    let age = at[5] - at[0];
    assert!(age <= 7212.0 + real + 0.01, "the last resend is 2 h 0 m 12 s (+ {real} s real) after the first: {age}");
}

/// `resign_resends`: a resend after a clock advance is signed as that much later.
#[tokio::test]
async fn resigned_resends_carry_the_virtual_time_of_the_resend_assumption_netease_callback_resend_signing() {
    let (url, seen) = receiver(vec![500, 500, 500, 500, 200]).await;
    let opts = NeteaseOptions { callback_url: Some(url), resign_resends: true, ..Default::default() };
    let env = Env::start_with(opts).await;
    let h = env.account(json!({})).await["accountId"].clone();
    let m = env.meeting(json!({"host": h, "type": 1, "subject": "resign"})).await;
    let started = Instant::now();
    env.call("/v2/meeting/cancel", json!({"meetingUniqueId": m["meetingUniqueId"]})).await;
    for (n, secs) in [(2, 2.0), (3, 4.0), (4, 6.0), (5, 3600.0)] {
        assert_eq!(wait_for(&seen, n - 1).await.len(), n - 1);
        env.advance(secs).await;
    }
    let got = wait_for(&seen, 5).await;
    let real_ms = started.elapsed().as_millis() as i64;
    assert_eq!(got.len(), 5);
    let cur = |i: usize| got[i].headers["CurTime"].to_str().unwrap().parse::<i64>().unwrap();
    let gap = cur(4) - cur(0);
    // 1 h 12 s of clock advances, plus at most the real time the test took.
    assert!((3_612_000..=3_612_010 + real_ms).contains(&gap), "signed 1 h 12 s (virtual) after the first: {gap}");
    for r in &got[1..] {
        assert_ne!(r.headers["Nonce"], got[0].headers["Nonce"]);
        let h = |n: &str| r.headers[n].to_str().unwrap().to_owned();
        assert_eq!(h("CheckSum"), callback_checksum(SECRET, &h("Nonce"), &h("CurTime"), &r.body));
    }
}

/// Strict mode accepts only what meetkit sends: lowercase CheckSum, a Nonce used once,
/// `Content-Type: application/json`. Lenient mode accepts the other readings.
#[tokio::test]
async fn strict_signature_readings_and_their_lenient_counterparts_assumptions_netease() {
    for strict in [true, false] {
        let sim = Simulator::start(SimOptions { strict, ..Default::default() }).await.unwrap();
        let base = sim.netease_base_url();
        let env = Env { base, http: reqwest::Client::new(), sim };
        let path = "/v2/meeting/list";
        let refused = |c: i64, want: i64| if strict { assert_eq!(c, want) } else { assert_eq!(c, 200) };
        // Uppercase hex CheckSum.
        let mut upper = Env::signed(now_secs());
        upper[3].1 = upper[3].1.to_uppercase();
        refused(code(&env.raw(path, "{}", &upper).await), 401);
        // The same Nonce twice within the window.
        let once = Env::signed(now_secs());
        assert_eq!(code(&env.raw(path, "{}", &once).await), 200);
        refused(code(&env.raw(path, "{}", &once).await), 401);
        // No Content-Type, and a non-JSON one.
        for ct in [None, Some("text/plain")] {
            let mut req = env.http.post(format!("{}{path}", env.base)).body("{}");
            if let Some(ct) = ct {
                req = req.header("Content-Type", ct);
            }
            for (k, v) in Env::signed(now_secs()) {
                req = req.header(k, v);
            }
            let v: Value = req.send().await.unwrap().json().await.unwrap();
            refused(code(&v), 302);
        }
        // What meetkit sends passes in both modes (`application/json;charset=utf-8`, checked by raw()).
        assert_eq!(code(&env.raw(path, "{}", &Env::signed(now_secs())).await), 200);
        drop(env);
    }
}
