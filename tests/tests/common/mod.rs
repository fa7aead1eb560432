//! Helpers shared by the end-to-end tests (each test file includes this module).
#![allow(dead_code)] // each test file uses its own subset

use meetkit::config::Profile;
use serde_json::Value;

/// The simulator's profile with retry backoff shortened to milliseconds, so retry tests are fast.
pub fn fast_profile(value: &Value) -> Profile {
    let mut profile = Profile::from_json("sim", value).unwrap();
    profile.transport.backoff_base_ms = 1;
    profile.transport.backoff_max_ms = 5;
    profile
}

/// Call a simulator admin route (`<base>/_sim/<path>`); asserts success, returns the JSON answer.
pub async fn admin(http: &reqwest::Client, base: &str, method: reqwest::Method, path: &str, body: Value) -> Value {
    let url = format!("{base}/_sim/{path}");
    let resp = http.request(method, url).json(&body).send().await.unwrap();
    assert!(resp.status().is_success(), "admin {path}: {}", resp.status());
    resp.json().await.unwrap_or(Value::Null)
}

/// The vendor code of an expected API error.
pub fn api_code(r: meetkit::Result<Value>) -> String {
    match r {
        Err(meetkit::Error::Api { code, .. }) => code,
        other => panic!("expected an API error, got {other:?}"),
    }
}
