//! Helpers shared by the end-to-end tests (each test file includes this module).
#![allow(dead_code)] // each test file uses its own subset

use std::future::Future;
use std::time::Duration;

use meetkit::config::Profile;
use serde_json::Value;

/// How long a test waits for work done in real time (a simulator's background sender, a child
/// process, a socket) before calling it a hang. Generous on purpose: it bounds a hang, it is not
/// a claim about speed, so a busy machine never trips it.
pub const HANG: Duration = Duration::from_secs(60);

/// Await `fut`, failing with "hung: `what`" if it has not finished within [`HANG`].
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(HANG, fut).await.unwrap_or_else(|_| panic!("hung: no {what} after {HANG:?}"))
}

/// Poll `check` until it returns `Some`, failing with "hung: `what`" after [`HANG`]. For state
/// that real time changes (a background task, another process); state that the simulator's
/// virtual clock changes is reached by advancing the clock instead.
pub async fn wait_until<T, F: Future<Output = Option<T>>>(what: &str, mut check: impl FnMut() -> F) -> T {
    let deadline = tokio::time::Instant::now() + HANG;
    loop {
        if let Some(done) = check().await {
            return done;
        }
        assert!(tokio::time::Instant::now() < deadline, "hung: still waiting for {what} after {HANG:?}");
        // The poll interval of a wait for real-time work, not a wait for time to pass.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

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

/// Run script `source` (named `t.rhai`) on a blocking thread; returns the result and everything printed.
pub async fn run_script(
    client: &meetkit::Client,
    source: &str,
    out: &std::path::Path,
    tweak: impl FnOnce(&mut meetkit::script::ScriptOptions),
) -> (meetkit::Result<Value>, Vec<String>) {
    let printed = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = printed.clone();
    let mut options = meetkit::script::ScriptOptions {
        out_dir: out.to_path_buf(),
        print: std::sync::Arc::new(move |s| sink.lock().unwrap().push(s.to_string())),
        ..meetkit::script::ScriptOptions::default()
    };
    tweak(&mut options);
    let (client, source) = (client.clone(), source.to_string());
    let handle = tokio::runtime::Handle::current();
    let result = tokio::task::spawn_blocking(move || {
        meetkit::script::run_source(&source, Some("t.rhai"), &client, handle, options)
    })
    .await
    .unwrap();
    let printed = printed.lock().unwrap().clone();
    (result, printed)
}
