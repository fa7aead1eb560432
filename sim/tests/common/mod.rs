//! Helpers shared by the simulator's integration tests.
#![allow(dead_code)]

use std::time::Duration;

use meetkit_sim::{SimOptions, Simulator};
use reqwest::StatusCode;
use serde_json::Value;

/// Start the simulators on fixed ports (`port_base` .. `port_base + 5`), trying bases below
/// the OS's ephemeral range (so no port another test was just handed can be in the way)
/// until one whose six ports are all free is found. Returns the simulator and its base.
pub async fn start_on_fixed_ports(opts: SimOptions) -> (Simulator, u16) {
    for attempt in 0..64u32 {
        let base = 20_000 + (std::process::id().wrapping_mul(7919).wrapping_add(attempt * 151) % 10_000) as u16;
        if let Ok(sim) = Simulator::start(SimOptions { port_base: Some(base), ..opts.clone() }).await {
            return (sim, base);
        }
    }
    panic!("no six free ports found for the simulator");
}

/// A started simulator plus an HTTP client.
pub struct Env {
    pub sim: Simulator,
    pub http: reqwest::Client,
    pub base: String,
}

impl Env {
    pub async fn start() -> Env {
        Env::start_with(SimOptions::default()).await
    }

    pub async fn start_with(opts: SimOptions) -> Env {
        Env::from_sim(Simulator::start(opts).await.expect("start simulator"))
    }

    pub fn from_sim(sim: Simulator) -> Env {
        let base = sim.avd_base_url();
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
        Env { sim, http, base }
    }

    /// GET `/sdkapi/v2<path>` with query parameters; the JSON answer.
    pub async fn get(&self, path: &str, params: &[(&str, &str)]) -> Value {
        let resp = self.http.get(format!("{}/sdkapi/v2{path}", self.base)).query(params).send().await.expect("send");
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        resp.json().await.expect("json body")
    }

    /// POST `/sdkapi/v2<path>` with a form body.
    pub async fn post_form(&self, path: &str, params: &[(&str, &str)]) -> Value {
        let resp = self.http.post(format!("{}/sdkapi/v2{path}", self.base)).form(params).send().await.expect("send");
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        resp.json().await.expect("json body")
    }

    /// A fresh token for the default credentials.
    pub async fn token(&self) -> String {
        let v = self.get("/app/get_token", &[("access_key", "sim-access-key"), ("secret_key", "sim-secret-key")]).await;
        v["token"].as_str().expect("token").to_owned()
    }

    /// Authenticated GET.
    pub async fn call(&self, token: &str, path: &str, params: &[(&str, &str)]) -> Value {
        let mut all = vec![("token", token)];
        all.extend_from_slice(params);
        self.get(path, &all).await
    }

    /// POST an admin JSON body; (status, JSON answer).
    pub async fn admin(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let resp = self.http.post(format!("{}{path}", self.base)).json(&body).send().await.expect("send");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn admin_get(&self, path: &str) -> Value {
        self.http.get(format!("{}{path}", self.base)).send().await.expect("send").json().await.expect("json")
    }

    pub async fn advance(&self, seconds: f64) {
        let (s, _) = self.admin("/_sim/clock/advance", serde_json::json!({ "seconds": seconds })).await;
        assert_eq!(s, StatusCode::OK);
    }

    pub async fn join(&self, room: &str, user_id: &str, kind: &str) {
        let (s, _) = self
            .admin(
                &format!("/_sim/avd/rooms/{room}/join"),
                serde_json::json!({"user_id": user_id, "user_name": format!("name-{user_id}"), "type": kind}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
    }

    /// Create a room owned by user 1.
    pub async fn create_room(&self, token: &str, room: &str) {
        let v = self.call(token, "/room/create", &[("room_id", room), ("user_id", "1")]).await;
        assert_eq!(v["ret"], 0, "{v}");
    }
}

/// `ret` (or `code`) of an answer.
pub fn ret(v: &Value) -> i64 {
    v.get("ret").or_else(|| v.get("code")).and_then(Value::as_i64).unwrap_or_else(|| panic!("no ret/code in {v}"))
}
