//! Documented AVD behaviour, exercised over HTTP against a started simulator.

mod common;

use std::time::Duration;

use base64::Engine;
use common::{ret, Env};
use md5::{Digest, Md5};
use meetkit_sim::{AvdOptions, SimOptions};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn sim_invented_profile_and_health() {
    let env = Env::start().await;
    let p = env.sim.profile();
    assert_eq!(p["avd"]["base_url"], env.base);
    assert_eq!(p["avd"]["access_key"], "sim-access-key");
    assert_eq!(p["avd"]["secret_key"], "sim-secret-key");
    assert!(env.base.starts_with("http://127.0.0.1:"));
    assert_eq!(env.admin_get("/_sim/health").await, json!({"ok": true}));
    env.sim.shutdown().await;
}

#[tokio::test]
async fn sim_invented_fixed_port_base() {
    let (sim, port) = common::start_on_fixed_ports(SimOptions::default()).await;
    let env = Env::from_sim(sim);
    assert_eq!(env.base, format!("http://127.0.0.1:{port}"));
    assert_eq!(ret(&env.get("/room/list", &[]).await), 40003);
    env.sim.shutdown().await;
}

#[tokio::test]
async fn token_flow_and_expiry() {
    let env = Env::start().await;
    let ok = env.get("/app/get_token", &[("access_key", "sim-access-key"), ("secret_key", "sim-secret-key")]).await;
    assert_eq!(ok["ret"], 0);
    assert!(ok.get("msg").is_none(), "get_token success has no msg: {ok}");
    let token = ok["token"].as_str().unwrap().to_owned();
    assert!(token.ends_with('='), "padded base64: {token}");
    let raw = base64::engine::general_purpose::STANDARD.decode(&token).unwrap();
    assert_eq!(raw.len(), 40);
    assert!(raw.iter().all(u8::is_ascii_hexdigit));

    let bad = env.get("/app/get_token", &[("access_key", "x"), ("secret_key", "y")]).await;
    assert_eq!(bad, json!({"ret": 401, "msg": "授权错误!"}));
    let missing = env.get("/app/get_token", &[("access_key", "x")]).await;
    assert_eq!(ret(&missing), 40002);

    // Missing / unknown token.
    assert_eq!(ret(&env.get("/room/list", &[]).await), 40003);
    assert_eq!(ret(&env.call("bm9wZQ==", "/room/list", &[]).await), 40003);
    assert_eq!(ret(&env.call(&token, "/room/list", &[]).await), 0);

    // Expiry after token_ttl (2 h) of virtual time.
    env.advance(2.0 * 3600.0 - 60.0).await;
    assert_eq!(ret(&env.call(&token, "/room/list", &[]).await), 0);
    env.advance(61.0).await;
    let expired = env.call(&token, "/room/list", &[]).await;
    assert_eq!(expired, json!({"ret": 40003, "msg": "access token invalid"}));

    // A new token works; the admin API can expire it at once.
    let fresh = env.token().await;
    assert_ne!(fresh, token);
    assert_eq!(ret(&env.call(&fresh, "/room/list", &[]).await), 0);
    env.admin("/_sim/avd/tokens/expire", json!({})).await;
    assert_eq!(ret(&env.call(&fresh, "/room/list", &[]).await), 40003);
}

#[tokio::test]
async fn room_crud() {
    let env = Env::start().await;
    let t = env.token().await;
    let created = env
        .call(
            &t,
            "/room/create",
            &[
                ("room_id", "12345123456"),
                ("user_id", "10"),
                ("topic", "no"),
                ("enable_auto_cloud_recording", "true"),
                ("enable_auto_avc", "true"),
            ],
        )
        .await;
    assert_eq!(created, json!({"ret": 0, "msg": "success", "room_id": "12345123456"}));
    let dup = env.call(&t, "/room/create", &[("room_id", "12345123456"), ("user_id", "10")]).await;
    assert_eq!(dup, json!({"ret": 40005, "msg": "room_id exists"}));
    let bad_bool =
        env.call(&t, "/room/create", &[("room_id", "1"), ("user_id", "10"), ("enable_auto_avc", "yes")]).await;
    assert_eq!(ret(&bad_bool), 40002);
    assert_eq!(ret(&env.call(&t, "/room/create", &[("room_id", "1")]).await), 40002);

    // room_id omitted: generated.
    let gen = env.call(&t, "/room/create", &[("user_id", "10")]).await;
    assert_eq!(gen["ret"], 0);
    assert_eq!(gen["room_id"].as_str().unwrap().len(), 11);

    let read = env.call(&t, "/room/read", &[("room_id", "12345123456")]).await;
    assert_eq!(
        read["data"],
        json!({"enable_auto_avc": true, "enable_voice_activated": false, "user_id": "10",
               "enable_auto_cloud_recording": true, "topic": "no"})
    );
    let upd = env
        .call(
            &t,
            "/room/update",
            &[("room_id", "12345123456"), ("topic", "nothing_test"), ("enable_auto_cloud_recording", "false")],
        )
        .await;
    assert_eq!(upd, json!({"ret": 0, "msg": "success"}));
    let read = env.call(&t, "/room/read", &[("room_id", "12345123456")]).await;
    assert_eq!(read["data"]["topic"], "nothing_test");
    assert_eq!(read["data"]["enable_auto_cloud_recording"], false);

    let unknown = env.call(&t, "/room/update", &[("room_id", "999"), ("topic", "x")]).await;
    assert_eq!(unknown, json!({"ret": 40004, "msg": "no such room_id"}));
    assert_eq!(ret(&env.call(&t, "/room/del", &[("room_id", "12345123456")]).await), 0);
    assert_eq!(
        env.call(&t, "/room/read", &[("room_id", "12345123456")]).await,
        json!({"ret": 40004, "msg": "no such room"})
    );
    assert_eq!(ret(&env.call(&t, "/room/del", &[("room_id", "12345123456")]).await), 40004);
}

#[tokio::test]
async fn envelope_deviations_and_meetings() {
    let env = Env::start().await;
    let t = env.token().await;
    env.create_room(&t, "500").await;

    // Not open: code-envelope errors.
    let close = env.call(&t, "/room/close", &[("room_id", "500")]).await;
    assert_eq!(close, json!({"code": 41005, "msg": "Internal server error:room not found or opened"}));
    let list = env.call(&t, "/room/participate/list", &[("room_id", "500")]).await;
    assert_eq!(list["code"], 41005);
    assert!(list.get("ret").is_none());
    let kick = env.call(&t, "/room/participate/kick", &[("room_id", "404"), ("user_id", "1")]).await;
    assert_eq!(kick, json!({"code": 40004, "msg": "no such room_id"}));

    env.join("500", "16", "web").await;
    env.join("500", "17", "ios").await;
    let list = env.call(&t, "/room/participate/list", &[("room_id", "500")]).await;
    assert_eq!(list["code"], 200);
    assert_eq!(list["msg"], "success");
    let ps = list["participates"].as_array().unwrap();
    assert_eq!(ps.len(), 2);
    assert_eq!(ps[0]["user_id"], "16");
    assert_eq!(ps[0]["type"], "web");
    assert_eq!(ps[0]["videos"][0]["status"], "published");
    assert!(ps[0]["videos"][0]["id"].as_str().unwrap().starts_with("16_"));

    let rooms = env.call(&t, "/room/list", &[]).await;
    assert_eq!(rooms["rooms"][0]["room_id"], "500");
    assert_eq!(rooms["rooms"][0]["users"].as_array().unwrap().len(), 2);
    assert!(rooms["rooms"][0]["create_time"].is_i64());

    let kick = env.call(&t, "/room/participate/kick", &[("room_id", "500"), ("user_id", "17")]).await;
    assert_eq!(kick, json!({"code": 200, "msg": "success"}));
    let again = env.call(&t, "/room/participate/kick", &[("room_id", "500"), ("user_id", "17")]).await;
    assert_eq!(again["code"], 40008);

    // Chat injected through the admin API.
    env.admin("/_sim/avd/rooms/500/chat", json!({"from_id": "16", "message": "123456"})).await;
    let log = env.call(&t, "/room/get_chat_message_log", &[("room_id", "500")]).await;
    let m = &log["data"][0]["messages"][0];
    assert_eq!(m["message"], "123456");
    assert_eq!(m["fromName"], "name-16");
    assert_eq!(
        env.call(&t, "/room/get_chat_message_log", &[]).await,
        json!({"ret": 40002, "msg": "arg room_id required"})
    );

    env.advance(30.0).await;
    let close = env.call(&t, "/room/close", &[("room_id", "500")]).await;
    assert_eq!(close, json!({"code": 200, "msg": "success"}));
    assert_eq!(env.call(&t, "/room/list", &[]).await, json!({"ret": 0, "msg": "success", "rooms": []}));

    // get_statistic: bare counters on success.
    let stat = env
        .call(&t, "/room/get_statistic", &[("room_id", "500"), ("start_time", "0"), ("end_time", "99999999999")])
        .await;
    assert!(stat.get("ret").is_none() && stat.get("msg").is_none(), "{stat}");
    assert_eq!(stat["meeting_total"], 1);
    assert_eq!(stat["user_cnt"], 2);
    assert_eq!(stat["web_cnt"], 1);
    assert_eq!(stat["ios_cnt"], 1);
    assert!(stat["time_total"].as_i64().unwrap() >= 30);
    let stat =
        env.call(&t, "/room/get_statistic", &[("room_id", "nope"), ("start_time", "0"), ("end_time", "1")]).await;
    assert_eq!(stat, json!({"ret": 40003, "msg": "no such room_id"}));
}

async fn invite_status(env: &Env, t: &str, call_id: &str) -> i64 {
    let v = env.call(t, "/device/get_invite_status", &[("call_id", call_id)]).await;
    assert_eq!(v["ret"], 0, "{v}");
    v["invite_status"].as_i64().unwrap()
}

#[tokio::test]
async fn sim_invented_device_invite_follows_the_clock() {
    let opts = SimOptions {
        avd: AvdOptions { invite_delay: Duration::from_secs(30), ..Default::default() },
        ..Default::default()
    };
    let env = Env::start_with(opts).await;
    let t = env.token().await;
    env.create_room(&t, "12345123456").await;

    let sip = "sip:1001@192.168.3.104";
    let call =
        env.call(&t, "/device/call", &[("name", "sip"), ("room_id", "12345123456"), ("url", sip), ("uri", sip)]).await;
    assert_eq!(call["ret"], 0);
    assert_eq!(call["msg"], "successs");
    let call_id = call["call_id"].as_str().unwrap().to_owned();
    let user_id = call["user_id"].as_str().unwrap().to_owned();
    assert_eq!(invite_status(&env, &t, &call_id).await, 0);
    // Not connected yet: controls answer "user not in room".
    let early = env.call(&t, "/device/audio/mute", &[("room_id", "12345123456"), ("user_id", &user_id)]).await;
    assert_eq!(ret(&early), 40008);

    env.advance(31.0).await;
    assert_eq!(invite_status(&env, &t, &call_id).await, 1);
    let list = env.call(&t, "/room/participate/list", &[("room_id", "12345123456")]).await;
    assert_eq!(list["participates"][0]["user_id"], user_id.as_str());
    assert_eq!(list["participates"][0]["type"], "sip");

    for path in ["/device/audio/mute", "/device/video/close", "/device/video/focus"] {
        let v = env.call(&t, path, &[("room_id", "12345123456"), ("user_id", &user_id)]).await;
        assert_eq!(v, json!({"ret": 0, "msg": "success"}), "{path}");
    }
    let list = env.call(&t, "/room/participate/list", &[("room_id", "12345123456")]).await;
    assert_eq!(list["participates"][0]["videos"][0]["status"], "init");
    assert_eq!(list["participates"][0]["audios"][0]["status"], "init");

    let never = env.call(&t, "/device/video/focus", &[("room_id", "12345123456"), ("user_id", "nobody")]).await;
    assert_eq!(never, json!({"ret": 40033, "msg": "no invite info for this user_id"}));
    let no_room = env.call(&t, "/device/video/open", &[("room_id", "1"), ("user_id", &user_id)]).await;
    assert_eq!(no_room, json!({"ret": 40004, "msg": "no such room_id"}));

    let kick = env.call(&t, "/device/kick", &[("room_id", "12345123456"), ("user_id", &user_id)]).await;
    assert_eq!(kick["call_id"], call_id.as_str());
    assert_eq!(invite_status(&env, &t, &call_id).await, 2);

    // Unsupported scheme: accepted, then fails. Malformed address: 40032.
    let odd = env
        .call(
            &t,
            "/device/call",
            &[("name", "x"), ("room_id", "12345123456"), ("url", "ftp://cam"), ("uri", "ftp://cam")],
        )
        .await;
    let odd_id = odd["call_id"].as_str().unwrap().to_owned();
    env.advance(31.0).await;
    assert_eq!(invite_status(&env, &t, &odd_id).await, 3);
    let bad = env
        .call(&t, "/device/call", &[("name", "x"), ("room_id", "12345123456"), ("url", "cam"), ("uri", "cam")])
        .await;
    assert_eq!(ret(&bad), 40032);
    let unknown = env.call(&t, "/device/get_invite_status", &[("call_id", "nope")]).await;
    assert_eq!(ret(&unknown), 40037);

    // room/close hangs up connected devices.
    let rtsp = "rtsp://10.0.0.1/s";
    let c2 = env
        .call(&t, "/device/call", &[("name", "rtsp"), ("room_id", "12345123456"), ("url", rtsp), ("uri", rtsp)])
        .await;
    let c2 = c2["call_id"].as_str().unwrap().to_owned();
    env.advance(31.0).await;
    assert_eq!(invite_status(&env, &t, &c2).await, 1);
    let close = env.call(&t, "/room/close", &[("room_id", "12345123456")]).await;
    assert_eq!(close["code"], 200);
    assert_eq!(invite_status(&env, &t, &c2).await, 2);
}

async fn fetch(env: &Env, url: &str, range: Option<&str>) -> reqwest::Response {
    let mut req = env.http.get(url);
    if let Some(r) = range {
        req = req.header("Range", r);
    }
    req.send().await.expect("download")
}

fn md5_b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(bytes))
}

#[tokio::test]
async fn mixed_recording_produces_real_files() {
    let env = Env::start().await;
    let t = env.token().await;
    env.create_room(&t, "98765432100").await;
    let not_open = env.call(&t, "/room/mix_record/start", &[("room_id", "98765432100")]).await;
    assert_eq!(ret(&not_open), 40009);
    assert_eq!(ret(&env.call(&t, "/room/mix_record/start", &[("room_id", "x")]).await), 40004);

    env.join("98765432100", "16", "web").await;
    env.join("98765432100", "56", "android").await;
    let bad_json =
        env.call(&t, "/room/mix_record/start", &[("room_id", "98765432100"), ("videos", "[{\"video_name\":")]).await;
    assert_eq!(ret(&bad_json), 40002);

    let start = env
        .call(
            &t,
            "/room/mix_record/start",
            &[
                ("room_id", "98765432100"),
                ("enable_audio_record", "true"),
                ("enable_individual_record", "true"),
                ("user_id", "16"),
                ("videos", r#"[{"video_name":"16_video1","zorder":0,"x":0,"y":0,"w":1,"h":1}]"#),
            ],
        )
        .await;
    assert_eq!(start["ret"], 0);
    let record_id = start["record_id"].as_str().unwrap().to_owned();
    assert_eq!(record_id.len(), 32);
    let status = |v: Value| v["record_status"].as_i64().unwrap();
    let st = env.call(&t, "/room/record/status", &[("record_id", &record_id)]).await;
    assert_eq!(status(st), 0);
    env.advance(1.0).await;
    let st = env.call(&t, "/room/record/status", &[("record_id", &record_id)]).await;
    assert_eq!(status(st), 1);

    let again = env.call(&t, "/room/mix_record/start", &[("room_id", "98765432100")]).await;
    assert_eq!(ret(&again), 40040);
    let layout = env
        .call(
            &t,
            "/room/mix_record/update_audio_layout",
            &[("room_id", "98765432100"), ("audio_mixer_users", r#"[{"user_id":"16","channel":1}]"#)],
        )
        .await;
    assert_eq!(ret(&layout), 0);

    env.advance(39.0).await;
    let stop = env.call(&t, "/room/mix_record/stop", &[("room_id", "98765432100")]).await;
    assert_eq!(stop["ret"], 0, "{stop}");
    let files = stop["data"].as_array().unwrap();
    // mixed mp4 + mixed mp3 + per-user mp4/mp3 for 2 users
    assert_eq!(files.len(), 6, "{stop}");
    let st = env.call(&t, "/room/record/status", &[("record_id", &record_id)]).await;
    assert_eq!(status(st), 2);
    let none = env.call(&t, "/room/mix_record/stop", &[("room_id", "98765432100")]).await;
    assert_eq!(none, json!({"ret": 40041, "msg": "room hasn't start mix_record"}));
    let no_layout =
        env.call(&t, "/room/mix_record/update_layout", &[("room_id", "98765432100"), ("videos", "[]")]).await;
    assert_eq!(ret(&no_layout), 40041);

    let state = env.admin_get("/_sim/state").await;
    let stored = state["avd"]["files"].as_array().unwrap().clone();
    for f in files {
        let url = f["download_url"].as_str().unwrap();
        assert!(url.starts_with(&format!("{}/attachment?file=/home/data/recorder/files/", env.base)));
        assert_eq!(f["play_url"].as_str().unwrap(), format!("{}/videoPlayer?url={url}", env.base));
        let secs: f64 = f["duration"].as_str().unwrap().trim_end_matches('s').parse().unwrap();
        assert!((40.0..41.0).contains(&secs), "{f}");
        assert!(f["file_size"].as_str().unwrap().ends_with('M'));
        assert_eq!(f["room_id"], "98765432100");

        let resp = fetch(&env, url, None).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let header_md5 = resp.headers()["content-md5"].to_str().unwrap().to_owned();
        let len: u64 = resp.headers()["content-length"].to_str().unwrap().parse().unwrap();
        let body = resp.bytes().await.unwrap();
        assert_eq!(body.len() as u64, len);
        assert_eq!(md5_b64(&body), header_md5);
        let path = url.split_once("file=").unwrap().1;
        let entry = stored.iter().find(|s| s["path"] == path).expect("in state");
        assert_eq!(entry["size"], len);
        assert_eq!(entry["md5"], hex::encode(Md5::digest(&body)));
        // size = recorded seconds x 32 KiB (duration is shown to the ms)
        let expected = secs * 32.0 * 1024.0;
        assert!((len as f64 - expected).abs() <= 33.0, "{len} vs {expected}");
    }

    // Range resume on the first file.
    let url = files[0]["download_url"].as_str().unwrap();
    let full = fetch(&env, url, None).await.bytes().await.unwrap();
    let part = fetch(&env, url, Some("bytes=1000-")).await;
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()["content-range"].to_str().unwrap(),
        format!("bytes 1000-{}/{}", full.len() - 1, full.len())
    );
    let tail = part.bytes().await.unwrap();
    assert_eq!(&tail[..], &full[1000..]);
    let past = fetch(&env, url, Some(&format!("bytes={}-", full.len()))).await;
    assert_eq!(past.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let missing = fetch(&env, &format!("{}/attachment?file=/nope.mp4", env.base), None).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let player = fetch(&env, files[0]["play_url"].as_str().unwrap(), None).await;
    assert!(player.text().await.unwrap().contains("<video"));

    // Listings.
    let got = env.call(&t, "/room/mix_record/get", &[("room_id", "98765432100")]).await;
    assert_eq!(got["data"][0]["record_id"], record_id.as_str());
    assert_eq!(got["data"][0]["transcode_files"].as_array().unwrap().len(), 6);
    let audio_only = env.call(&t, "/room/mix_record/get", &[("room_id", "98765432100"), ("record_type", "2")]).await;
    assert_eq!(audio_only["data"][0]["transcode_files"].as_array().unwrap().len(), 3);
    let list = env.call(&t, "/room/get_record_list", &[]).await;
    assert_eq!(list["data"][0]["record_type"], "server");
    let rec = env
        .call(
            &t,
            "/room/get_record",
            &[("room_id", "98765432100"), ("record_start_time", "0"), ("record_end_time", "99999999999")],
        )
        .await;
    assert_eq!(rec["record_files"][0]["creator_id"], "16");
    assert_eq!(rec["record_files"][0]["transcode_files"]["file_infos"].as_array().unwrap().len(), 6);
    let mp3 = env.call(&t, "/room/record/get", &[("room_id", "98765432100")]).await;
    assert_eq!(mp3["data"].as_array().unwrap().len(), 3);
    assert_eq!(mp3["data"][0]["file_type"], "mp3");

    // Transcoding 0 -> 1 -> 2.
    let q = [("room_id", "98765432100"), ("record_id", record_id.as_str())];
    assert_eq!(env.call(&t, "/transcode/query", &q).await["status"], 0);
    assert_eq!(ret(&env.call(&t, "/room/record/transfer", &q).await), 0);
    assert_eq!(env.call(&t, "/transcode/query", &q).await["status"], 1);
    env.advance(5.0).await;
    assert_eq!(env.call(&t, "/transcode/query", &q).await["status"], 2);
    let unknown = env.call(&t, "/transcode/query", &[("room_id", "98765432100"), ("record_id", "x")]).await;
    assert_eq!(ret(&unknown), 40090);

    // Deleting one file, then all.
    let gone = env.call(&t, "/room/delete_record", &[("room_id", "98765432100"), ("url", "/home/none.mp4")]).await;
    assert_eq!(gone, json!({"ret": 40094, "msg": "no such record"}));
    let path = url.split_once("file=").unwrap().1;
    let del = env.call(&t, "/room/delete_record", &[("room_id", "98765432100"), ("url", path)]).await;
    assert_eq!(ret(&del), 0);
    assert_eq!(fetch(&env, url, None).await.status(), StatusCode::NOT_FOUND);
    let del = env.call(&t, "/room/del_record", &[("room_id", "98765432100")]).await;
    assert_eq!(ret(&del), 0);
    let list = env.call(&t, "/room/get_record_list", &[]).await;
    assert_eq!(list["data"], json!([]));
}

#[tokio::test]
async fn close_stops_recordings_and_lives() {
    let env = Env::start().await;
    let t = env.token().await;
    env.create_room(&t, "50000000000").await;
    env.join("50000000000", "16", "web").await;
    let r = env
        .call(
            &t,
            "/room/desktop_record/start",
            &[("room_id", "50000000000"), ("enable_realtime_transcode", "true"), ("name", "test")],
        )
        .await;
    assert_eq!(ret(&r), 0);
    let live = env
        .call(&t, "/room/mix_live/start", &[("room_id", "50000000000"), ("push_url", "rtmp://1.2.3.4/live/x")])
        .await;
    assert_eq!(ret(&live), 40040);
    let focus_live = env
        .call(&t, "/room/live/start", &[("room_id", "50000000000"), ("user_id", "16"), ("push_url", "rtmp://h/l")])
        .await;
    assert_eq!(ret(&focus_live), 0);
    let avc = env.call(&t, "/room/avc/start", &[("room_id", "50000000000")]).await;
    assert_eq!(ret(&avc), 0);
    assert_eq!(ret(&env.call(&t, "/room/avc/start", &[("room_id", "50000000000")]).await), 40050);
    let setting = env.call(&t, "/room/avc/get_avc_setting", &[("room_id", "50000000000")]).await;
    assert_eq!(setting["data"]["view_width"], 1920);
    env.advance(20.0).await;
    env.call(&t, "/room/close", &[("room_id", "50000000000")]).await;
    let got = env.call(&t, "/room/desktop_record/get", &[("room_id", "50000000000"), ("name", "test")]).await;
    assert_eq!(got["data"][0]["name"], "test");
    assert_eq!(got["data"][0]["file_type"], "mp4");
    assert_eq!(ret(&env.call(&t, "/room/live/stop", &[("room_id", "50000000000")]).await), 40065);
    assert_eq!(ret(&env.call(&t, "/room/avc/stop", &[("room_id", "50000000000")]).await), 40051);
    assert_eq!(ret(&env.call(&t, "/room/desktop_record/stop", &[("room_id", "50000000000")]).await), 40041);
}

#[tokio::test]
async fn sip_gateways_and_accounts() {
    let env = Env::start().await;
    let t = env.token().await;
    let g = env.call(&t, "/sip/gate/create", &[("name", "334"), ("url", "121.41.102.126:50601")]).await;
    assert_eq!(g, json!({"ret": 0, "msg": "success", "url": "121.41.102.126:50601", "name": "334", "gate_id": 1}));
    let dup = env.call(&t, "/sip/gate/create", &[("name", "x"), ("url", "121.41.102.126:50601")]).await;
    assert_eq!(dup, json!({"ret": 40019, "msg": "sip gate url exists"}));
    let g2 = env.call(&t, "/sip/gate/create", &[("name", "b"), ("url", "10.0.0.1:5060")]).await;
    assert_eq!(g2["gate_id"], 2);
    let clash =
        env.call(&t, "/sip/gate/update", &[("sip_gate_id", "2"), ("name", "b"), ("url", "121.41.102.126:50601")]).await;
    assert_eq!(ret(&clash), 40019);
    let upd = env
        .call(&t, "/sip/gate/update", &[("sip_gate_id", "1"), ("name", "coco"), ("url", "121.41.102.126:50603")])
        .await;
    assert_eq!(ret(&upd), 0);
    let read = env.call(&t, "/sip/gate/read", &[("sip_gate_id", "1")]).await;
    assert_eq!(read["id"], 1);
    assert_eq!(read["name"], "coco");
    assert_eq!(
        env.call(&t, "/sip/gate/read", &[("sip_gate_id", "9")]).await,
        json!({"ret": 40020, "msg": "no such sip_gate_id"})
    );
    assert_eq!(ret(&env.call(&t, "/sip/gate/read", &[("sip_gate_id", "abc")]).await), 40002);
    let list = env.call(&t, "/sip/gate/list", &[]).await;
    assert_eq!(list["sip_gates"].as_array().unwrap().len(), 2);

    let acc = env
        .call(
            &t,
            "/sip/account/create",
            &[("name", "ceshi"), ("password", "123456"), ("number", "23"), ("sip_gate_id", "1")],
        )
        .await;
    assert_eq!(acc["account_id"], 1);
    assert_eq!(acc["sip_gate_id"], 1);
    let dup = env
        .call(&t, "/sip/account/create", &[("name", "x"), ("password", "1"), ("number", "23"), ("sip_gate_id", "2")])
        .await;
    assert_eq!(ret(&dup), 40021);
    let no_gate = env
        .call(&t, "/sip/account/create", &[("name", "x"), ("password", "1"), ("number", "24"), ("sip_gate_id", "7")])
        .await;
    assert_eq!(no_gate, json!({"ret": 40020, "msg": "no such sip_gate"}));
    let upd = env
        .call(
            &t,
            "/sip/account/update",
            &[("account_id", "1"), ("name", "xiangbin"), ("password", "123123"), ("number", "23")],
        )
        .await;
    assert_eq!(ret(&upd), 0);
    let read = env.call(&t, "/sip/account/read", &[("account_id", "1"), ("sip_gate_id", "1")]).await;
    assert_eq!(read["phone_number"], "23");
    assert_eq!(read["phone_name"], "xiangbin");
    assert_eq!(read["gate_id"], 1);
    // Deleting the gateway deletes its accounts.
    assert_eq!(ret(&env.call(&t, "/sip/gate/del", &[("sip_gate_id", "1")]).await), 0);
    let read = env.call(&t, "/sip/account/read", &[("account_id", "1"), ("sip_gate_id", "1")]).await;
    assert_eq!(read, json!({"ret": 40022, "msg": "no such account_id"}));
    assert_eq!(ret(&env.call(&t, "/sip/account/del", &[("account_id", "1")]).await), 40022);
    assert_eq!(ret(&env.call(&t, "/sip/gate/del", &[("sip_gate_id", "1")]).await), 40020);
}

#[tokio::test]
async fn upload_and_media_player() {
    let env = Env::start().await;
    let t = env.token().await;
    let upload = |name: &'static str, bytes: Vec<u8>| {
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name(name));
        env.http.post(format!("{}/uploadfile?path=/opt/data/resources", env.base)).multipart(form).send()
    };
    let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let ok: Value = upload("test.mp4", body.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(ok["ret"], 0);
    assert_eq!(ok["download_url"], format!("{}/attachment?file=/opt/data/resources/test.mp4", env.base));
    let served = fetch(&env, ok["download_url"].as_str().unwrap(), None).await.bytes().await.unwrap();
    assert_eq!(&served[..], &body[..]);
    let crx: Value = upload("x.crx", vec![1, 2, 3]).await.unwrap().json().await.unwrap();
    assert_eq!(crx, json!({"ret": 10911, "msg": "not support file type: crx"}));
    let not_multipart: Value =
        env.http.post(format!("{}/uploadfile", env.base)).body("hello").send().await.unwrap().json().await.unwrap();
    assert_eq!(ret(&not_multipart), 10910);

    env.create_room(&t, "50000000000").await;
    env.join("50000000000", "1", "web").await;
    let created = env.call(&t, "/media/create", &[("room_id", "50000000000"), ("name", "realtime_play")]).await;
    let play_id = created["play_id"].as_str().unwrap().to_owned();
    assert_eq!(
        ret(&env.call(&t, "/media/create", &[("room_id", "50000000000"), ("name", "realtime_play")]).await),
        40080
    );
    let ids = [("room_id", "50000000000"), ("play_id", play_id.as_str())];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut v: Vec<(&str, &str)> = ids.to_vec();
        v.extend_from_slice(extra);
        v
    };
    assert_eq!(ret(&env.call(&t, "/media/pause", &ids).await), 40082);
    let missing = env.call(&t, "/media/play", &with(&[("url", "/root/456.mp4")])).await;
    assert_eq!(ret(&missing), 40084);
    let play = env.call(&t, "/media/play", &with(&[("url", "/opt/data/resources/test.mp4")])).await;
    assert_eq!(play["ret"], 0, "{play}");
    let ms = play["data"]["duration"].as_i64().unwrap();
    assert!(ms >= 1000);
    assert_eq!(ret(&env.call(&t, "/media/pause", &ids).await), 0);
    assert_eq!(ret(&env.call(&t, "/media/replay", &ids).await), 40082);
    assert_eq!(ret(&env.call(&t, "/media/resume", &ids).await), 0);
    env.advance(ms as f64 / 1000.0 + 1.0).await;
    let info = env.call(&t, "/media/get_media_info", &with(&[("url", "/opt/data/resources/test.mp4")])).await;
    assert_eq!(info["data"][0]["status"], 2);
    assert_eq!(info["data"][0]["play_files"][0]["play_count"], 1);
    assert_eq!(ret(&env.call(&t, "/media/replay", &ids).await), 0);
    assert_eq!(ret(&env.call(&t, "/media/stop", &ids).await), 0);
    assert_eq!(ret(&env.call(&t, "/media/stop", &ids).await), 40081);
}

#[tokio::test]
async fn licence_counts_connected_users() {
    let env = Env::start().await;
    let t = env.token().await;
    env.create_room(&t, "7").await;
    env.join("7", "a", "web").await;
    env.join("7", "b", "web").await;
    env.join("7", "c", "android").await;
    let info = env.call(&t, "/app/get_licence_info", &[]).await;
    assert_eq!(info["active_usernum"], 3);
    assert_eq!(info["max_users"], 500);
    let key = env.call(&t, "/app/get_key_licence", &[("access_key", "sim-access-key")]).await;
    assert_eq!(key["usernum"], 3);
    assert_eq!(key["detail"]["web"]["count"], 2);
    let sys = env.call(&t, "/app/get_system_info", &[]).await;
    let cert = format!("{}$abcdef", sys["sys_info"].as_str().unwrap());
    assert_eq!(ret(&env.call(&t, "/app/apply_file_permit", &[("licence_cert", &cert)]).await), 0);
    assert_eq!(ret(&env.call(&t, "/app/delete_file_permit", &[("licence_cert", &cert)]).await), 0);
    assert_eq!(ret(&env.call(&t, "/app/delete_file_permit", &[("licence_cert", &cert)]).await), 40072);
}

#[tokio::test]
async fn sim_invented_reset_wipes_state() {
    let env = Env::start().await;
    let t = env.token().await;
    env.create_room(&t, "1").await;
    let (s, _) = env.admin("/_sim/reset", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ret(&env.call(&t, "/room/list", &[]).await), 40003);
    let t = env.token().await;
    assert_eq!(ret(&env.call(&t, "/room/read", &[("room_id", "1")]).await), 40004);
    let (s, _) = env.admin("/_sim/avd/rooms/1/join", json!({"user_id": "x"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// Strict mode (the default) accepts only what meetkit sends where the doc allows several
/// readings; lenient mode (`meetkit sim` without `--strict`) accepts every plausible one.
async fn strict_and_lenient() -> (Env, Env) {
    let lenient = Env::start_with(SimOptions { strict: false, ..Default::default() }).await;
    (Env::start().await, lenient)
}

#[tokio::test]
async fn strict_takes_get_with_query_parameters_only_assumption_avd_http_method() {
    let (strict, lenient) = strict_and_lenient().await;
    for (env, ok) in [(&strict, false), (&lenient, true)] {
        let t = env.token().await;
        env.create_room(&t, "12345123456").await;
        let resp = env
            .http
            .post(format!("{}/sdkapi/v2/room/update", env.base))
            .form(&[("token", t.as_str()), ("room_id", "12345123456"), ("topic", "posted")])
            .send()
            .await
            .unwrap();
        if ok {
            assert_eq!(resp.json::<Value>().await.unwrap(), json!({"ret": 0, "msg": "success"}));
            let read = env.call(&t, "/room/read", &[("room_id", "12345123456")]).await;
            assert_eq!(read["data"]["topic"], "posted");
        } else {
            assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
            assert_eq!(resp.headers()["allow"], "GET");
        }
    }
}

#[tokio::test]
async fn strict_device_call_needs_url_and_uri_alike_assumption_avd_device_call_url_uri() {
    let (strict, lenient) = strict_and_lenient().await;
    let sip = "sip:1001@192.168.3.104";
    let room = [("name", "sip"), ("room_id", "12345123456")];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut v = room.to_vec();
        v.extend_from_slice(extra);
        v
    };
    for env in [&strict, &lenient] {
        let t = env.token().await;
        env.create_room(&t, "12345123456").await;
        let both = env.call(&t, "/device/call", &with(&[("url", sip), ("uri", sip)])).await;
        assert_eq!(both["ret"], 0, "{both}");
    }
    let t = strict.token().await;
    let only_url = strict.call(&t, "/device/call", &with(&[("url", sip)])).await;
    assert_eq!(only_url, json!({"ret": 40002, "msg": "arg uri required"}));
    let only_uri = strict.call(&t, "/device/call", &with(&[("uri", sip)])).await;
    assert_eq!(only_uri, json!({"ret": 40002, "msg": "arg url required"}));
    let differ = strict.call(&t, "/device/call", &with(&[("url", sip), ("uri", "sip:1002@192.168.3.104")])).await;
    assert_eq!(ret(&differ), 40002);

    let t = lenient.token().await;
    for one in [("url", "sip:1003@10.0.0.1"), ("uri", "sip:1004@10.0.0.1")] {
        let v = lenient.call(&t, "/device/call", &with(&[one])).await;
        assert_eq!(v["ret"], 0, "{one:?}: {v}");
    }
}

#[tokio::test]
async fn strict_upload_takes_path_in_the_query_only_assumption_avd_uploadfile_params() {
    let (strict, lenient) = strict_and_lenient().await;
    let post = |env: &Env, query: &str, fields: &[(&'static str, &'static str)]| {
        let mut form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(vec![7u8; 1000]).file_name("a.jpg"));
        for (k, v) in fields {
            form = form.text(*k, *v);
        }
        let url = format!("{}/uploadfile{query}", env.base);
        let http = env.http.clone();
        async move { http.post(url).multipart(form).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    for env in [&strict, &lenient] {
        let v = post(env, "?path=/opt/q&storage_only_cluster=false", &[]).await;
        assert_eq!(v["download_url"], format!("{}/attachment?file=/opt/q/a.jpg", env.base), "{v}");
    }
    let refused = json!({"ret": 10910, "msg": "上传文件信息错误, 请求体存放错误"});
    assert_eq!(post(&strict, "", &[("path", "/opt/f")]).await, refused);
    assert_eq!(post(&strict, "?path=/opt/q", &[("storage_only_cluster", "false")]).await, refused);
    // Booleans: strict takes only the doc's `true`/`false`.
    assert_eq!(post(&strict, "?storage_only_cluster=False", &[]).await, refused);

    let v = post(&lenient, "", &[("path", "/opt/f")]).await;
    assert_eq!(v["download_url"], format!("{}/attachment?file=/opt/f/a.jpg", lenient.base), "{v}");
    assert_eq!(post(&lenient, "?storage_only_cluster=False", &[]).await["ret"], 0);
}

#[tokio::test]
async fn strict_reads_booleans_keys_and_ids_as_meetkit_writes_them_assumptions_avd() {
    let (strict, lenient) = strict_and_lenient().await;
    for (env, strict_mode) in [(&strict, true), (&lenient, false)] {
        let t = env.token().await;
        let expect = |v: &Value| assert_eq!(ret(v), if strict_mode { 40002 } else { 0 }, "strict {strict_mode}: {v}");
        // Booleans other than `true`/`false`.
        for (i, b) in ["TRUE", "1"].iter().enumerate() {
            let room = format!("b{i}");
            let v = env.call(&t, "/room/create", &[("room_id", &room), ("user_id", "1"), ("enable_auto_avc", b)]).await;
            expect(&v);
        }
        // Integers with spaces.
        env.create_room(&t, "r1").await;
        env.join("r1", "u1", "web").await;
        let v = env.call(&t, "/room/avc/start", &[("room_id", "r1"), ("layout_mode", " 1")]).await;
        expect(&v);
        // The table's garbled `record_idstring` for record_id.
        let rec = env.call(&t, "/room/mix_record/start", &[("room_id", "r1")]).await;
        let id = rec["record_id"].as_str().unwrap().to_owned();
        assert_eq!(ret(&env.call(&t, "/room/mix_record/stop", &[("room_id", "r1")]).await), 0);
        let v = env.call(&t, "/transcode/query", &[("room_id", "r1"), ("record_idstring", &id)]).await;
        expect(&v);
        let v = env.call(&t, "/transcode/query", &[("room_id", "r1"), ("record_id", &id)]).await;
        assert_eq!(v["ret"], 0, "{v}");
    }
    // A key with a leading space (the avc/update_layout example's `&%20video_resolution=`) is
    // not `video_resolution` in strict mode: the bad value is never read.
    for (env, code) in [(&strict, 0), (&lenient, 40002)] {
        let t = env.token().await;
        env.create_room(&t, "k").await;
        env.join("k", "u1", "web").await;
        let v = env.call(&t, "/room/avc/start", &[("room_id", "k"), (" video_resolution", "huge")]).await;
        assert_eq!(ret(&v), code, "{v}");
    }
}

#[tokio::test]
async fn strict_update_layout_needs_zorder_and_order_alike_assumption_avd_update_layout_order() {
    let (strict, lenient) = strict_and_lenient().await;
    let both = r#"[{"video_name":"u1_video1","zorder":0,"order":0,"x":0,"y":0,"w":1,"h":1}]"#;
    let zorder = r#"[{"video_name":"u1_video1","zorder":0,"x":0,"y":0,"w":1,"h":1}]"#;
    let order = r#"[{"video_name":"u1_video1","order":0,"x":0,"y":0,"w":1,"h":1}]"#;
    let differ = r#"[{"video_name":"u1_video1","zorder":0,"order":1}]"#;
    for (env, strict_mode) in [(&strict, true), (&lenient, false)] {
        let t = env.token().await;
        env.create_room(&t, "L").await;
        env.join("L", "u1", "web").await;
        assert_eq!(ret(&env.call(&t, "/room/mix_record/start", &[("room_id", "L")]).await), 0);
        let update = |videos: &'static str| {
            let t = t.clone();
            async move {
                ret(&env.call(&t, "/room/mix_record/update_layout", &[("room_id", "L"), ("videos", videos)]).await)
            }
        };
        assert_eq!(update(both).await, 0);
        let one = if strict_mode { 40002 } else { 0 };
        assert_eq!(update(zorder).await, one);
        assert_eq!(update(order).await, one);
        assert_eq!(update(differ).await, if strict_mode { 40002 } else { 0 });
    }
}
