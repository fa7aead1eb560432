//! Client tests against a small in-process vmr server (real HTTP): routing, session lifecycle,
//! single-flight, refresh, lost tokens, close/drop, and the event stream with drops.

use super::*;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap as AxHeaders, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use bytes::Bytes;
use futures::channel::mpsc as fmpsc;
use serde_json::json;

use crate::endpoint::lookup;
use crate::events::Event;
use crate::testutil::{until, within};
use futures::StreamExt;

#[derive(Default)]
struct Mock {
    tokens: Mutex<HashSet<String>>,
    next: AtomicUsize,
    hits: Mutex<HashMap<String, usize>>,
    expires: Mutex<String>,
    paths: Mutex<Vec<String>>,
    event_tokens: Mutex<Vec<String>>,
    streams: Mutex<Vec<fmpsc::UnboundedSender<std::result::Result<Bytes, std::io::Error>>>>,
    mcu: Mutex<String>,
    /// end_session never answers.
    hang_end: std::sync::atomic::AtomicBool,
    /// refresh_session leaves the replaced token working (a server's grace period).
    refresh_grace: std::sync::atomic::AtomicBool,
}

type M = Arc<Mock>;

impl Mock {
    fn hit(&self, op: &str) {
        *self.hits.lock().unwrap().entry(op.into()).or_default() += 1;
    }
    fn hits(&self, op: &str) -> usize {
        self.hits.lock().unwrap().get(op).copied().unwrap_or(0)
    }
    fn mint(&self) -> Json<Value> {
        let t = format!("tok+{}/=", self.next.fetch_add(1, Ordering::SeqCst));
        self.tokens.lock().unwrap().insert(t.clone());
        Json(
            json!({"status": "success", "result": {"token": t, "expires": *self.expires.lock().unwrap(), "participant_uuid": "p0", "role": "HOST"}}),
        )
    }
    fn valid(&self, h: &AxHeaders) -> Option<String> {
        let t = h.get("token")?.to_str().ok()?.to_string();
        self.tokens.lock().unwrap().contains(&t).then_some(t)
    }
    /// Push raw bytes to every open event stream.
    fn push(&self, bytes: &str) {
        for tx in self.streams.lock().unwrap().iter() {
            let _ = tx.unbounded_send(Ok(Bytes::from(bytes.to_string())));
        }
    }
    /// Abort every open event stream mid-way.
    fn drop_streams(&self) {
        for tx in self.streams.lock().unwrap().drain(..) {
            let _ = tx.unbounded_send(Err(std::io::Error::other("dropped")));
        }
    }
}

fn refused() -> Response {
    (StatusCode::FORBIDDEN, Json(json!({"status": "failure", "result": "Invalid token"}))).into_response()
}

async fn server() -> (M, String) {
    let mock: M = Arc::new(Mock { expires: Mutex::new("120".into()), ..Default::default() });
    let app = axum::Router::new()
        .route(
            "/api/v3/meet/checkJoin.shtml",
            post(|State(m): State<M>, Json(body): Json<Value>| async move {
                m.hit("check_join");
                let other = body["joinAccount"] == "other@myvmr.cn" && body["joinPwd"] == "5678";
                let main = body["joinAccount"] == "zjvmr@myvmr.cn" || body["joinAccount"] == "1061";
                if !other && (!main || body["joinPwd"] != "1234") {
                    return Json(json!({"code": "404", "message": "no such room"}));
                }
                Json(json!({"code": "200", "timeStamp": "2017-05-24 15:41:30", "results": {"mcuHost": *m.mcu.lock().unwrap(), "sipkey": "1061"}}))
            }),
        )
        .route(
            "/api/services/{room}/new_session",
            post(|State(m): State<M>, Path(room): Path<String>, h: AxHeaders, Json(body): Json<Value>| async move {
                m.hit("new");
                let pin = if room == "other@myvmr.cn" { "5678" } else { "1234" };
                m.paths.lock().unwrap().push(room);
                if h.get("pin").and_then(|v| v.to_str().ok()) != Some(pin) || body["display_name"] != "bot" {
                    return (StatusCode::FORBIDDEN, Json(json!({"status": "failure", "result": "bad pin"}))).into_response();
                }
                // Latency of the fake server, so concurrent first callers overlap this request.
                tokio::time::sleep(Duration::from_millis(20)).await;
                m.mint().into_response()
            }),
        )
        .route(
            "/api/services/{room}/refresh_session",
            post(|State(m): State<M>, h: AxHeaders| async move {
                m.hit("refresh");
                let Some(old) = m.valid(&h) else { return refused() };
                if !m.refresh_grace.load(Ordering::SeqCst) {
                    m.tokens.lock().unwrap().remove(&old);
                }
                m.mint().into_response()
            }),
        )
        .route(
            "/api/services/{room}/end_session",
            post(|State(m): State<M>, h: AxHeaders| async move {
                m.hit("end");
                if m.hang_end.load(Ordering::SeqCst) {
                    std::future::pending::<()>().await;
                }
                if let Some(t) = m.valid(&h) {
                    m.tokens.lock().unwrap().remove(&t);
                }
                Json(json!({"status": "success", "result": true}))
            }),
        )
        .route(
            "/api/services/{room}/lock",
            post(|State(m): State<M>, h: AxHeaders| async move {
                m.hit("lock");
                if m.valid(&h).is_none() {
                    return refused();
                }
                Json(json!({"status": "success", "result": "true"})).into_response()
            }),
        )
        .route(
            "/api/services/{room}/participants/{uuid}/dtmf",
            post(|State(m): State<M>, h: AxHeaders, Json(body): Json<Value>| async move {
                if m.valid(&h).is_none() {
                    return refused();
                }
                Json(json!({"status": "success", "result": body["digits"] == "123#"})).into_response()
            }),
        )
        .route(
            "/api/services/{room}/events",
            get(|State(m): State<M>, Query(q): Query<HashMap<String, String>>| async move {
                let t = q.get("token").cloned().unwrap_or_default();
                m.hit("events");
                if !m.tokens.lock().unwrap().contains(&t) {
                    return refused();
                }
                m.event_tokens.lock().unwrap().push(t);
                let (tx, rx) = fmpsc::unbounded();
                let _ = tx.unbounded_send(Ok(Bytes::from_static(b": hello\n\n")));
                m.streams.lock().unwrap().push(tx);
                Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(axum::body::Body::from_stream(rx))
                    .unwrap()
            }),
        )
        .route(
            "/meeting/openRecord",
            post(|h: AxHeaders, Json(body): Json<Value>| async move {
                if h.get("auth").and_then(|v| v.to_str().ok()) != Some("800") {
                    return Json(json!({"code": "403", "message": "auth error", "state": 0}));
                }
                if body["conferenceKey"] == "1061" {
                    Json(json!({"code": "200", "data": {"recordId": "r1"}, "message": null, "state": 1}))
                } else {
                    Json(json!({"code": "200008", "message": "no meeting", "state": 0}))
                }
            }),
        )
        .with_state(mock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    *mock.mcu.lock().unwrap() = addr.to_string();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (mock, format!("http://{addr}"))
}

fn client(base: &str) -> VmrClient {
    let config = VmrConfig {
        api_server: base.into(),
        auth: Secret::new("800"),
        account: "zjvmr@myvmr.cn".into(),
        password: Secret::new("1234"),
        display_name: "bot".into(),
        mcu_scheme: Some("http".into()),
        pins: Default::default(),
    };
    let transport = Transport::new(crate::transport::TransportConfig {
        backoff_base_ms: 1,
        backoff_max_ms: 5,
        ..Default::default()
    })
    .unwrap();
    VmrClient::new(config, Arc::new(transport)).unwrap()
}

async fn call(c: &VmrClient, id: &str, params: Value) -> Result<Value> {
    let spec = lookup(Vendor::Vmr, ENDPOINTS, id)?;
    spec.validate(&params)?;
    c.call(spec, params.as_object().cloned().unwrap_or_default()).await
}

#[test]
fn table_has_the_catalog_count_and_unique_ids() {
    assert_eq!(ENDPOINTS.len(), 35);
    let ids: HashSet<&str> = ENDPOINTS.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 35, "duplicate endpoint ids");
    for e in ENDPOINTS {
        assert_eq!(e.vendor, Vendor::Vmr);
        if e.path.contains("{room}") {
            let room = e.param("room").unwrap_or_else(|| panic!("{}", e.id));
            assert!(!room.required && room.at == ParamIn::Path, "{}", e.id);
        }
        assert!(e.param("token").is_none() && e.param("auth").is_none(), "{}: auth params are the client's", e.id);
    }
    assert_eq!(ENDPOINTS.iter().filter(|e| host_of(e) == Host::ApiServer).count(), 7);
}

#[test]
fn status_codes_have_meanings() {
    assert!(error_meaning("200007").unwrap().contains("Recording has not been started"));
    assert!(error_meaning("403").unwrap().contains("auth"));
    assert!(error_meaning("999").is_none());
}

#[test]
fn mcu_host_forms() {
    assert_eq!(mcu_url("mcu.example.cn", None).unwrap().url().as_str(), "https://mcu.example.cn/");
    assert_eq!(mcu_url("10.0.0.1:8443", Some("http")).unwrap().url().as_str(), "http://10.0.0.1:8443/");
    assert_eq!(mcu_url("http://h:1/prefix/", None).unwrap().url().as_str(), "http://h:1/prefix/");
    assert!(matches!(mcu_url("", None), Err(Error::Auth { .. })));
    assert!(matches!(mcu_url("ftp://h", None), Err(Error::Decode { .. })));
}

#[test]
fn config_is_checked_and_secrets_stay_out_of_debug() {
    let t = Arc::new(Transport::new(Default::default()).unwrap());
    let cfg = |api: &str, scheme: Option<&str>| VmrConfig {
        api_server: api.into(),
        auth: Secret::new("AUTHKEY"),
        account: "1061".into(),
        password: Secret::new("PINPIN"),
        display_name: "m".into(),
        mcu_scheme: scheme.map(str::to_string),
        pins: [("other@x".to_string(), Secret::new("OTHERPIN"))].into_iter().collect(),
    };
    assert!(VmrClient::new(cfg("api.example.com", None), t.clone())
        .unwrap_err()
        .to_string()
        .contains("not an http(s) URL"));
    assert!(VmrClient::new(cfg("https://a", Some("ftp")), t.clone()).is_err());
    let c = VmrClient::new(cfg("https://a/", None), t).unwrap();
    let debug = format!("{c:?} {:?}", c.inner.config);
    assert!(!debug.contains("AUTHKEY") && !debug.contains("PINPIN") && !debug.contains("OTHERPIN"), "{debug}");
    // PINs: pins by the room as addressed (addresses case-insensitive), else the password.
    let config = &c.inner.config;
    assert_eq!(config.pin_for("OTHER@x").0.map(Secret::expose), Some("OTHERPIN"));
    assert_eq!(config.pin_for("OTHER@x").1, PinSource::Pins);
    assert_eq!(config.pin_for("1061").0.map(Secret::expose), Some("PINPIN"));
    assert_eq!(config.pin_for("1061").1, PinSource::Password);
    assert_eq!(config.pin_for("2000").1, PinSource::PasswordFallback);
    assert!(config.pin_hint("2000").contains("pins"));
}

/// 50 concurrent first calls: one check_join, one new_session; `@` travels unescaped.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_session_for_fifty_concurrent_callers_assumption_vmr_token_refused() {
    let (mock, base) = server().await;
    let c = Arc::new(client(&base));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { call(&c, "conference.lock", json!({})).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), json!(true));
    }
    assert_eq!((mock.hits("check_join"), mock.hits("new"), mock.hits("lock")), (1, 1, 50));
    assert_eq!(mock.paths.lock().unwrap()[0], "zjvmr@myvmr.cn");

    // The server forgets every token: 50 refused callers cause one new session, and all succeed.
    mock.tokens.lock().unwrap().clear();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { call(&c, "conference.lock", json!({})).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), json!(true));
    }
    assert_eq!(mock.hits("new"), 2);
    assert_eq!(mock.hits("lock"), 150);
    // The refused token's session was ended (once, best effort) after the renewal.
    assert_eq!(mock.hits("end"), 1);
    assert_eq!(mock.tokens.lock().unwrap().len(), 1);
}

/// Tokens living one second: calls over several lifetimes, with idle gaps longer than a
/// lifetime, never fail and never need a second session (refreshed in the background).
///
/// Real time, 3.5 s: the client refreshes on its own timer (tokio's) and judges a token's age
/// by the system clock; nothing here can move either.
#[tokio::test]
async fn session_outlives_many_token_lifetimes_assumption_vmr_session_refresh() {
    let (mock, base) = server().await;
    *mock.expires.lock().unwrap() = "1".into();
    let c = client(&base);
    for i in 0..8 {
        call(&c, "conference.lock", json!({})).await.unwrap_or_else(|e| panic!("call {i}: {e}"));
        let pause = if i % 4 == 3 { 1300 } else { 150 };
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
    assert_eq!(mock.hits("new"), 1);
    // No token outlives its second, so one session spanning 3.5 s took at least 3 refreshes.
    assert!(mock.hits("refresh") >= 3, "refreshes: {}", mock.hits("refresh"));
    // Explicit calls by id get raw results and keep the managed session coherent.
    let raw = call(&c, "session.refresh", json!({})).await.unwrap();
    assert_eq!(raw["expires"], "1");
    call(&c, "conference.lock", json!({})).await.unwrap();
    assert_eq!(mock.hits("new"), 1);
}

#[tokio::test]
async fn explicit_session_calls_close_and_drop() {
    let (mock, base) = server().await;
    let c = client(&base);
    let raw = call(&c, "session.new", json!({"hideme": "yes"})).await.unwrap();
    assert_eq!((raw["role"].as_str(), raw["expires"].as_str()), (Some("HOST"), Some("120")));
    call(&c, "conference.lock", json!({})).await.unwrap();
    assert_eq!(mock.hits("new"), 1, "the explicit session is the managed one");
    assert_eq!(call(&c, "session.end", json!({})).await.unwrap(), json!(true));
    assert_eq!(call(&c, "session.end", json!({})).await.unwrap(), Value::Null);
    assert!(mock.tokens.lock().unwrap().is_empty());
    call(&c, "conference.lock", json!({})).await.unwrap();
    assert_eq!(mock.hits("new"), 2);
    c.close().await.unwrap();
    assert_eq!(mock.hits("end"), 2);
    assert!(mock.tokens.lock().unwrap().is_empty());
    c.close().await.unwrap();
    assert_eq!(mock.hits("end"), 2, "close twice ends nothing twice");

    call(&c, "conference.lock", json!({})).await.unwrap();
    drop(c);
    until("dropping the client to end its session", || mock.hits("end") >= 3).await;
    assert_eq!(mock.hits("end"), 3, "dropping the client ends its session, once");
}

#[tokio::test]
async fn bad_credentials_and_bodies() {
    let (_mock, base) = server().await;
    let mut c = client(&base);
    Arc::get_mut(&mut c.inner).unwrap().config.password = Secret::new("wrong");
    let e = call(&c, "conference.lock", json!({})).await.unwrap_err();
    assert!(matches!(&e, Error::Auth { message, .. } if message.contains("no such room")), "{e}");
    assert!(!e.to_string().contains("wrong"));

    let c = client(&base);
    assert_eq!(call(&c, "participant.dtmf", json!({"uuid": "u", "digits": "123#"})).await.unwrap(), json!(true));
    let e = call(&c, "participant.dtmf", json!({"uuid": "u", "digits": "9"})).await.unwrap_err();
    assert!(matches!(&e, Error::Api { code, .. } if code == "false"), "{e}");
    assert_eq!(call(&c, "record.open", json!({"conferenceKey": "1061"})).await.unwrap(), json!({"recordId": "r1"}));
    let e = call(&c, "record.open", json!({"conferenceKey": "1"})).await.unwrap_err();
    assert!(e.to_string().contains("200008") && e.to_string().contains("does not exist"), "{e}");
    let check = call(&c, "meet.check_join", json!({})).await.unwrap();
    assert_eq!(check["results"]["sipkey"], "1061");

    // The account's PIN from `pins`; check_join teaches its number, which then shares it.
    let mut c = client(&base);
    let config = &mut Arc::get_mut(&mut c.inner).unwrap().config;
    config.password = Secret::new("wrong");
    config.pins.insert("ZJVMR@myvmr.cn".into(), Secret::new("1234"));
    assert_eq!(c.inner.pin("1061").map(|p| p.expose().to_string()).as_deref(), Some("wrong"));
    call(&c, "meet.check_join", json!({})).await.unwrap();
    assert_eq!(c.inner.pin("1061").map(|p| p.expose().to_string()).as_deref(), Some("1234"));
    assert_eq!(call(&c, "conference.lock", json!({"room": "1061"})).await.unwrap(), json!(true));
}

async fn next_event(stream: &mut EventStream) -> Event {
    within("event", stream.next()).await.expect("open").unwrap()
}

async fn wait_streams(mock: &Mock, n: usize) {
    until(&format!("event stream {n}"), || mock.streams.lock().unwrap().len() >= n).await;
}

/// Events split anywhere, a stream dropped mid-event, a reconnect with the CURRENT token
/// (refreshed meanwhile), and events kept between subscription and consumption.
#[tokio::test]
async fn event_stream_survives_drops_with_the_current_token_assumption_vmr_reconnect_policy() {
    let (mock, base) = server().await;
    *mock.expires.lock().unwrap() = "1".into();
    // A refresh may be in flight when the stream reconnects: the token it replaces keeps
    // working meanwhile, as on a real server.
    mock.refresh_grace.store(true, Ordering::SeqCst);
    let c = client(&base);
    call(&c, "events.subscribe", json!({})).await.unwrap();
    wait_streams(&mock, 1).await;
    // Sent before anyone consumes: kept in the backlog.
    mock.push("event: participant_create\r\ndata: {\"uuid\": \"d1\",\r\n");
    mock.push("data: \"role\": \"guest\"}\r\n\r\nevent: Stage\ndata: []\n\n");
    // Real time: the client reads the stream in the background and shows no sign of having
    // queued the events; this gives it the time to, so they come from the backlog.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut events = c.events(Map::new()).await.unwrap();
    let e = next_event(&mut events).await;
    assert_eq!((e.kind.as_str(), &e.data), ("participant_create", &json!({"uuid": "d1", "role": "guest"})));
    assert!(matches!(event::VmrEvent::from_event(&e).kind, event::VmrEventKind::ParticipantCreate(_)));
    assert_eq!(next_event(&mut events).await.kind, "stage");

    // Half an event, then the stream drops; let tokens rotate before the reconnect.
    mock.push("event: participant_delete\ndata: {\"uuid\": \"half");
    // The refreshes follow each other: once the second is sent the first one's token is the
    // client's.
    until("two token refreshes", || mock.hits("refresh") >= 2).await;
    mock.drop_streams();
    wait_streams(&mock, 1).await;
    mock.push("event: participant_delete\ndata: {\"uuid\": \"d1\"}\n\n");
    let e = next_event(&mut events).await;
    assert_eq!((e.kind.as_str(), &e.data), ("participant_delete", &json!({"uuid": "d1"})));
    let used = mock.event_tokens.lock().unwrap().clone();
    assert_eq!(used.len(), 2);
    assert_ne!(used[0], used[1], "the reconnect used the refreshed token");
    assert!(mock.hits("refresh") >= 1);

    // Closing the client ends the stream: a final `disconnected`, then the end.
    c.close().await.unwrap();
    let e = next_event(&mut events).await;
    assert_eq!((e.kind.as_str(), e.data["reason"].as_str()), ("disconnected", Some("client closed")));
    assert!(within("end of the stream", events.next()).await.is_none());
}

/// Drain `stream` until it ends (bounded); the events' kinds.
async fn rest(stream: &mut EventStream) -> Vec<Event> {
    let mut out = Vec::new();
    while let Some(item) = within("event or end of the stream", stream.next()).await {
        out.push(item.unwrap());
    }
    out
}

/// The server's `disconnect` ends the stream with `disconnected` (its reason), and nothing is
/// reopened: no reconnect, no new session.
#[tokio::test]
async fn disconnect_event_ends_the_stream_without_rejoining_assumption_vmr_reconnect_policy() {
    let (mock, base) = server().await;
    let c = client(&base);
    let mut events = c.events(Map::new()).await.unwrap();
    wait_streams(&mock, 1).await;
    mock.push("event: disconnect\ndata: {\"reason\": \"API initiated participant disconnect\"}\n\n");
    mock.streams.lock().unwrap().clear(); // the server closes the stream
    let got = rest(&mut events).await;
    let kinds: Vec<&str> = got.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["disconnect", "disconnected"]);
    assert!(got[1].data["reason"].as_str().unwrap().contains("API initiated participant disconnect"), "{:?}", got[1]);
    assert_eq!(got[1].data["room"], "zjvmr@myvmr.cn");
    // Real time: a stray reconnect would come from the client's background task; give it the
    // chance to show.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!((mock.hits("new"), mock.hits("events")), (1, 1), "no new session, no reconnect");
    // The session is known gone: the next call opens a new one (a call may; the stream may not).
    call(&c, "conference.lock", json!({})).await.unwrap();
    assert_eq!(mock.hits("new"), 2);
}

/// A dropped stream whose token the server now refuses ends with `disconnected` instead of
/// opening a new session; so does our own participant's `participant_delete`.
#[tokio::test]
async fn refused_reconnect_and_own_delete_end_the_stream_assumption_vmr_reconnect_policy() {
    let (mock, base) = server().await;
    let c = client(&base);
    let mut events = c.events(Map::new()).await.unwrap();
    wait_streams(&mock, 1).await;
    mock.tokens.lock().unwrap().clear();
    mock.drop_streams();
    let got = rest(&mut events).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].kind, "disconnected");
    assert!(got[0].data["reason"].as_str().unwrap().contains("refused"), "{:?}", got[0]);
    assert_eq!((mock.hits("new"), mock.hits("events")), (1, 2));

    let mut events = c.events(Map::new()).await.unwrap();
    assert_eq!(mock.hits("new"), 2, "subscribing is a call: it may open a session");
    wait_streams(&mock, 1).await;
    mock.push("event: participant_delete\ndata: {\"uuid\": \"someone\"}\n\n");
    mock.push("event: participant_delete\ndata: {\"uuid\": \"p0\"}\n\n");
    let got = rest(&mut events).await;
    let kinds: Vec<&str> = got.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["participant_delete", "participant_delete", "disconnected"]);
    assert_eq!(mock.hits("new"), 2);
}

/// The roster replayed between participant_sync_begin/_end is marked `replay: true` and only
/// reaches subscribers that ask for it; the markers and later joins reach everyone.
#[tokio::test]
async fn replayed_roster_is_marked_and_left_out_by_default_assumption_vmr_roster_replay() {
    let (mock, base) = server().await;
    let c = client(&base);
    let mut plain = c.events(Map::new()).await.unwrap();
    let mut with_replay = c.events(json!({"replay": true}).as_object().cloned().unwrap()).await.unwrap();
    wait_streams(&mock, 1).await;
    mock.push("event: participant_sync_begin\ndata: null\n\n");
    mock.push("event: participant_create\ndata: {\"uuid\": \"old\"}\n\n");
    mock.push("event: participant_sync_end\ndata: null\n\n");
    mock.push("event: participant_create\ndata: {\"uuid\": \"new\"}\n\n");
    let seen = |e: Event| format!("{} {} {}", e.kind, e.data["uuid"], e.data["replay"]);
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(seen(next_event(&mut plain).await));
    }
    assert_eq!(
        got,
        ["participant_sync_begin null null", "participant_sync_end null null", "participant_create \"new\" null"]
    );
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(seen(next_event(&mut with_replay).await));
    }
    assert_eq!(got[1], "participant_create \"old\" true");
    assert_eq!(got[3], "participant_create \"new\" null");
    let Err(bad) = c.events(json!({"replay": "yes"}).as_object().cloned().unwrap()).await else {
        panic!("replay must be a boolean")
    };
    assert!(bad.to_string().contains("replay"), "{bad}");
}

/// A call's renewal replaces a refused session and ends the old one; the stream of the old
/// session follows the new one (the old one's `disconnect` is not an end).
#[tokio::test]
async fn stream_follows_a_session_replaced_by_a_call() {
    let (mock, base) = server().await;
    let c = client(&base);
    let mut events = c.events(Map::new()).await.unwrap();
    wait_streams(&mock, 1).await;
    mock.tokens.lock().unwrap().clear();
    call(&c, "conference.lock", json!({})).await.unwrap();
    assert_eq!((mock.hits("new"), mock.hits("end")), (2, 1));
    // The server's reaction to ending the old session: disconnect, then it closes that stream.
    mock.push("event: disconnect\ndata: {\"reason\": \"API session ended\"}\n\n");
    mock.streams.lock().unwrap().clear();
    wait_streams(&mock, 1).await;
    mock.push("event: layout\ndata: {\"view\": \"1:7\"}\n\n");
    let e = next_event(&mut events).await;
    assert_eq!(e.kind, "layout", "the old session's disconnect was not delivered as an end");
    assert_eq!(mock.hits("new"), 2);
    let used = mock.event_tokens.lock().unwrap().clone();
    assert_eq!(used.len(), 2);
    assert!(mock.tokens.lock().unwrap().contains(&used[1]), "reconnected with the new session's token");
}

/// close() ends every room's session concurrently and returns even when end_session hangs;
/// check_join and new_session went per room with that room's PIN.
#[tokio::test]
async fn close_ends_every_room_concurrently_and_bounded_assumption_vmr_session_end() {
    let (mock, base) = server().await;
    let mut c = client(&base);
    Arc::get_mut(&mut c.inner).unwrap().config.pins.insert("OTHER@myvmr.cn".into(), Secret::new("5678"));
    call(&c, "conference.lock", json!({})).await.unwrap();
    call(&c, "conference.lock", json!({"room": "other@myvmr.cn"})).await.unwrap();
    assert_eq!((mock.hits("check_join"), mock.hits("new")), (2, 2));
    mock.hang_end.store(true, Ordering::SeqCst);
    // A hanging end_session is reported (the session may still be open: a run journal keeps it).
    // Real time: the bound under test is the client's 2 s END_TIMEOUT on tokio's clock.
    let e = within("return from close (it is bounded)", c.close()).await.unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert_eq!(mock.hits("end"), 2, "both ends were sent");
    mock.hang_end.store(false, Ordering::SeqCst);
    c.close().await.unwrap();
    assert_eq!(mock.hits("end"), 2, "close is idempotent");

    // Without a pins entry, another room gets the password and a clear Auth error.
    let c = client(&base);
    let e = call(&c, "conference.lock", json!({"room": "other@myvmr.cn"})).await.unwrap_err();
    assert!(matches!(&e, Error::Auth { .. }), "{e}");
    let text = e.to_string();
    assert!(text.contains("other@myvmr.cn") && text.contains("pins") && !text.contains("1234"), "{text}");
}

/// Our own `session.end` (and `conference.disconnect`) end the room's stream with
/// `disconnected` even when the server keeps the connection open; nothing reconnects.
#[tokio::test]
async fn own_session_end_ends_the_stream() {
    let (mock, base) = server().await;
    let c = client(&base);
    let mut events = c.events(Map::new()).await.unwrap();
    wait_streams(&mock, 1).await;
    assert_eq!(call(&c, "session.end", json!({})).await.unwrap(), json!(true));
    let got = rest(&mut events).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].kind.as_str(), got[0].data["reason"].as_str()), ("disconnected", Some("session.end")));
    assert_eq!((mock.hits("new"), mock.hits("events")), (1, 1));
}
