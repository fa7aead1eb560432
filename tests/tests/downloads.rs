//! Downloads that cannot hang or lie, over real HTTP against the AVD simulator's file server:
//! a stalled body is a timeout (and resumed when the stall passes), 5xx answers and resets
//! mid-body are resumed (with `Range`, or from zero where the server ignores it), a wrong body
//! is refused with nothing left at the final path, a script's directory leading out of `--out`
//! is refused before anything is created, and errors name the listing's vendor or none.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use md5::{Digest, Md5};
use meetkit::download::{DownloadOptions, Progress};
use meetkit::script::ScriptOptions;
use meetkit::{Client, Error, Vendor};
use meetkit_sim::{SimOptions, Simulator};
use serde_json::{json, Value};

/// A file of this size is uploaded to the simulator and downloaded back.
const SIZE: usize = 300_000;
/// Every download here ends well before this; reaching it means a download hung.
const HANG: Duration = Duration::from_secs(60);

struct Sim {
    sim: Simulator,
    http: reqwest::Client,
    /// The uploaded file's URL and content.
    url: String,
    data: Vec<u8>,
    _files: tempfile::TempDir,
}

impl Sim {
    async fn start() -> Sim {
        let sim = Simulator::start(SimOptions::default()).await.expect("simulator starts");
        let files = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..SIZE).map(|i| (i * 7 % 251) as u8).collect();
        let clip = files.path().join("clip.mp4");
        std::fs::write(&clip, &data).unwrap();
        let mut sim = Sim { sim, http: reqwest::Client::new(), url: String::new(), data, _files: files };
        let up = sim.client(60.0).call("avd", "uploadfile", json!({"file": clip.to_str().unwrap()})).await.unwrap();
        sim.url = up["download_url"].as_str().unwrap().to_string();
        sim
    }

    /// A client whose calls and transfers give up after `read_timeout` seconds of silence.
    fn client(&self, read_timeout: f64) -> Client {
        let mut profile = common::fast_profile(&self.sim.profile());
        profile.transport.read_timeout_secs = read_timeout;
        Client::from_profile(&profile).unwrap()
    }

    async fn fault(&self, spec: Value) {
        common::admin(&self.http, &self.sim.avd_base_url(), reqwest::Method::POST, "faults", spec).await;
    }

    async fn attachment_hits(&self) -> u64 {
        let base = self.sim.avd_base_url();
        let stats = common::admin(&self.http, &base, reqwest::Method::GET, "stats", Value::Null).await;
        stats["requests"]["/attachment"].as_u64().unwrap_or(0)
    }

    fn md5(&self) -> String {
        hex::encode(Md5::digest(&self.data))
    }
}

/// Download `url` into `dir`, recording every progress report; fails the test if it hangs.
async fn fetch(client: &Client, url: &str, dir: &Path, opts: DownloadOptions) -> (meetkit::Result<PathBuf>, Vec<u64>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let opts = DownloadOptions {
        progress: Some(Arc::new(move |p: Progress| {
            sink.lock().unwrap().push(p.downloaded);
            true
        })),
        ..opts
    };
    let result = tokio::time::timeout(HANG, client.download(url, dir, opts)).await.expect("the download hung");
    let seen = seen.lock().unwrap().clone();
    (result.map(|d| d.path), seen)
}

/// Every entry of `dir` (temporary files included).
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

#[tokio::test]
async fn a_stalled_body_is_a_timeout_error_and_a_passing_stall_is_resumed_meetkit_policy() {
    let sim = Sim::start().await;
    let client = sim.client(0.3);
    let dir = tempfile::tempdir().unwrap();

    // Stalls on every request: each attempt times out, then the error, with nothing on disk.
    sim.fault(json!({"stall_after_bytes": 1000, "stall_ms": 600_000, "paths": ["/attachment"], "count": 2})).await;
    let opts = DownloadOptions { max_resumes: 1, ..Default::default() };
    let (result, _) = fetch(&client, &sim.url, dir.path(), opts).await;
    let err = result.unwrap_err();
    assert_eq!((err.kind(), err.endpoint(), err.vendor()), ("timeout", Some("download"), None), "{err}");
    assert!(err.is_retryable() && err.to_string().starts_with("download http://"), "{err}");
    assert!(matches!(&err, Error::Download(d) if d.after.is_some()), "{err:?}");
    assert_eq!(entries(dir.path()), Vec::<String>::new());
    assert_eq!(sim.attachment_hits().await, 2);

    // One stall: resumed from where it stopped, the file complete and correct.
    sim.fault(json!({"stall_after_bytes": 1000, "stall_ms": 600_000, "paths": ["/attachment"], "count": 1})).await;
    let (path, progress) = fetch(&client, &sim.url, dir.path(), DownloadOptions::default()).await;
    assert_eq!(std::fs::read(path.unwrap()).unwrap(), sim.data);
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "resumed with Range, not from zero: {progress:?}");

    // An API call whose answer stalls is a timeout of that call, after its retries.
    sim.fault(json!({"stall_after_bytes": 5, "stall_ms": 600_000, "paths": ["/sdkapi/v2/room/list"]})).await;
    let call = tokio::time::timeout(HANG, client.call("avd", "room.list", Value::Null)).await.expect("hung");
    match call.unwrap_err() {
        Error::Timeout { vendor: Vendor::Avd, endpoint, after } => {
            assert_eq!((endpoint.as_str(), after), ("room.list", Duration::from_millis(300)));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn server_errors_are_retried_and_a_lasting_one_is_an_http_error_meetkit_policy() {
    let sim = Sim::start().await;
    let client = sim.client(60.0);
    let dir = tempfile::tempdir().unwrap();

    sim.fault(json!({"error_status": 500, "paths": ["/attachment"], "count": 1})).await;
    let (path, _) = fetch(&client, &sim.url, dir.path(), DownloadOptions::default()).await;
    assert_eq!(std::fs::read(path.unwrap()).unwrap(), sim.data);
    assert_eq!(sim.attachment_hits().await, 2, "one 500, then the file");

    let dir = tempfile::tempdir().unwrap();
    sim.fault(json!({"error_status": 503, "paths": ["/attachment"], "count": 3})).await;
    let opts = DownloadOptions { max_resumes: 2, vendor: Some(Vendor::Avd), ..Default::default() };
    let err = fetch(&client, &sim.url, dir.path(), opts).await.0.unwrap_err();
    assert_eq!((err.kind(), err.vendor_code().as_deref(), err.vendor()), ("http", Some("503"), Some(Vendor::Avd)));
    assert!(err.to_string().starts_with("avd download http://") && err.is_retryable(), "{err}");
    assert_eq!(entries(dir.path()), Vec::<String>::new());

    // A 4xx is final at once.
    let missing = format!("{}/attachment?file=/nope/missing.mp4", sim.sim.avd_base_url());
    let before = sim.attachment_hits().await;
    let err = fetch(&client, &missing, dir.path(), DownloadOptions::default()).await.0.unwrap_err();
    assert_eq!((err.kind(), err.vendor_code().as_deref(), err.is_retryable()), ("http", Some("404"), false));
    assert_eq!(sim.attachment_hits().await, before + 1);
}

#[tokio::test]
async fn a_reset_mid_body_is_resumed_with_range_or_from_zero_where_range_is_ignored_assumption_avd_download_range() {
    let sim = Sim::start().await;
    let client = sim.client(60.0);

    let dir = tempfile::tempdir().unwrap();
    sim.fault(json!({"drop_after_bytes": 100_000, "paths": ["/attachment"], "count": 1})).await;
    let (path, progress) = fetch(&client, &sim.url, dir.path(), DownloadOptions::default()).await;
    assert_eq!(std::fs::read(path.unwrap()).unwrap(), sim.data);
    assert_eq!(sim.attachment_hits().await, 2);
    // Each attempt reports when its answer starts: the second one started at the first's end.
    assert!(progress.contains(&100_000), "the second request asked for the rest: {progress:?}");
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");

    // A server without Range support sends the whole file again: read from zero.
    let dir = tempfile::tempdir().unwrap();
    sim.fault(json!({"drop_after_bytes": 100_000, "paths": ["/attachment"], "count": 1})).await;
    sim.fault(json!({"ignore_range": true, "paths": ["/attachment"], "count": 2})).await;
    let (path, progress) = fetch(&client, &sim.url, dir.path(), DownloadOptions::default()).await;
    assert_eq!(std::fs::read(path.unwrap()).unwrap(), sim.data);
    assert_eq!(sim.attachment_hits().await, 4);
    assert!(!progress.iter().any(|&n| n > 0 && n < SIZE as u64), "the second answer started from zero: {progress:?}");
    assert_eq!(entries(dir.path()), vec!["clip.mp4".to_string()]);
}

#[tokio::test]
async fn a_wrong_body_is_refused_against_the_listed_size_or_md5_and_nothing_is_left() {
    let sim = Sim::start().await;
    let client = sim.client(60.0);
    let dir = tempfile::tempdir().unwrap();

    // A 200 with a 44-byte body instead of the file.
    sim.fault(json!({"malformed_rate": 1.0, "paths": ["/attachment"], "count": 1})).await;
    let opts = DownloadOptions { expected_size: Some(SIZE as u64), ..Default::default() };
    let err = fetch(&client, &sim.url, dir.path(), opts).await.0.unwrap_err();
    match &err {
        Error::Integrity { what: "size", expected, actual, path } => {
            assert_eq!((expected.as_str(), actual.as_str()), (SIZE.to_string().as_str(), "44"));
            assert!(!path.exists());
        }
        other => panic!("expected a size mismatch, got {other:?}"),
    }
    assert_eq!(entries(dir.path()), Vec::<String>::new());

    sim.fault(json!({"malformed_rate": 1.0, "paths": ["/attachment"], "count": 1})).await;
    let opts = DownloadOptions { expected_md5: Some(sim.md5()), ..Default::default() };
    let err = fetch(&client, &sim.url, dir.path(), opts).await.0.unwrap_err();
    assert!(matches!(&err, Error::Integrity { what: "md5", .. }), "{err:?}");
    assert_eq!(entries(dir.path()), Vec::<String>::new());

    // The right file passes both checks.
    let opts =
        DownloadOptions { expected_size: Some(SIZE as u64), expected_md5: Some(sim.md5()), ..Default::default() };
    let (path, _) = fetch(&client, &sim.url, dir.path(), opts).await;
    assert_eq!(std::fs::read(path.unwrap()).unwrap(), sim.data);
}

fn run_script(client: &Client, source: &str, out: &Path) -> meetkit::Result<Value> {
    let options = ScriptOptions { out_dir: out.to_path_buf(), print: Arc::new(|_| {}), ..ScriptOptions::default() };
    meetkit::script::run_source(source, Some("dl.rhai"), client, tokio::runtime::Handle::current(), options)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_get_typed_error_maps_naming_the_right_vendor_and_nothing_outside_out() {
    let sim = Sim::start().await;
    let client = sim.client(60.0);
    let base = tempfile::tempdir().unwrap();
    let (out, elsewhere) = (base.path().join("out"), base.path().join("elsewhere"));
    std::fs::create_dir_all(&out).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("link")).unwrap();
    sim.fault(json!({"malformed_rate": 1.0, "paths": ["/attachment"], "count": 1})).await;
    let missing = format!("{}/attachment?file=/nope/x.mp4", sim.sim.avd_base_url());
    let source = format!(
        r#"
        let url = "{url}";
        let missing = "{missing}";
        let seen = #{{}};
        try {{ download(url, "link/newdir"); }} catch (e) {{ seen.escape = e; }}
        try {{ download(url, "../up"); }} catch (e) {{ seen.dotdot = e; }}
        try {{ download(url, "", #{{ size: {size}, vendor: "avd" }}); }} catch (e) {{ seen.wrong = e; }}
        try {{ download(missing); }} catch (e) {{ seen.bare = e; }}
        try {{ download(missing, "sub", #{{ vendor: "netease" }}); }} catch (e) {{ seen.listed = e; }}
        seen.ok = download(url, "kept", #{{ size: {size}, md5: "{md5}" }});
        seen
    "#,
        url = sim.url,
        size = SIZE,
        md5 = sim.md5(),
    );
    let (c, o) = (client.clone(), out.clone());
    let seen = tokio::task::spawn_blocking(move || run_script(&c, &source, &o)).await.unwrap().unwrap();

    for key in ["escape", "dotdot"] {
        let e = &seen[key];
        assert_eq!(
            (&e["kind"], &e["endpoint"], &e["vendor"]),
            (&json!("invalid_params"), &json!("download"), &Value::Null)
        );
        assert!(e["message"].as_str().unwrap().contains("`subdir`"), "{e}");
    }
    assert!(seen["escape"]["message"].as_str().unwrap().contains("leads outside"), "{}", seen["escape"]);
    assert_eq!(entries(&elsewhere), Vec::<String>::new(), "nothing created through the symlink");
    assert!(!base.path().join("up").exists());
    assert_eq!((&seen["wrong"]["kind"], &seen["wrong"]["retryable"]), (&json!("integrity"), &json!(true)));
    assert_eq!(
        (&seen["bare"]["kind"], &seen["bare"]["code"], &seen["bare"]["vendor"]),
        (&json!("http"), &json!("404"), &Value::Null)
    );
    assert_eq!((&seen["listed"]["vendor"], &seen["listed"]["endpoint"]), (&json!("netease"), &json!("download")));
    assert_eq!(seen["ok"]["md5"], sim.md5());
    assert_eq!(entries(&out), vec!["kept".to_string(), "link".to_string(), "sub".to_string()]);
    assert_eq!(entries(&out.join("kept")), vec!["clip.mp4".to_string()]);
}

#[tokio::test]
async fn downloads_beyond_max_downloads_wait_before_opening_anything_and_a_cancel_ends_the_wait_meetkit_policy() {
    let sim = Sim::start().await;
    let mut profile = common::fast_profile(&sim.sim.profile());
    profile.transport.max_downloads = 1;
    // A setting of its own, so no other test's downloads share these slots.
    profile.transport.connect_timeout_secs = 9.5;
    let client = Client::from_profile(&profile).unwrap();
    let (first_dir, second_dir, third_dir) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());

    // The first download stalls mid-body and keeps the only slot.
    sim.fault(json!({"stall_after_bytes": 1000, "stall_ms": 600_000, "paths": ["/attachment"], "count": 1})).await;
    let first = {
        let (client, url, dir) = (client.clone(), sim.url.clone(), first_dir.path().to_path_buf());
        tokio::spawn(async move { client.download(&url, &dir, DownloadOptions::default()).await })
    };
    common::wait_until("the first download to reach the server", || async {
        (sim.attachment_hits().await >= 1).then_some(())
    })
    .await;

    // The second waits: no request, no temporary file, until it is cancelled.
    let cancel = tokio_util::sync::CancellationToken::new();
    let second = {
        let (client, url, dir) = (client.clone(), sim.url.clone(), second_dir.path().to_path_buf());
        let opts = DownloadOptions { cancel: Some(cancel.clone()), ..Default::default() };
        tokio::spawn(async move { client.download(&url, &dir, opts).await })
    };
    // The window in which an unlimited download would have opened its file and sent its request.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sim.attachment_hits().await, 1);
    assert_eq!(entries(second_dir.path()), Vec::<String>::new());
    cancel.cancel();
    let err = tokio::time::timeout(HANG, second).await.expect("the cancel did not end the wait").unwrap().unwrap_err();
    assert!(matches!(err, Error::Cancelled { .. }), "{err:?}");

    // Dropping the stalled download frees its slot (and removes its temporary file).
    first.abort();
    let _ = first.await;
    let (path, _) = fetch(&client, &sim.url, third_dir.path(), DownloadOptions::default()).await;
    assert_eq!(std::fs::read(path.unwrap()).unwrap(), sim.data);
    assert_eq!(sim.attachment_hits().await, 2, "the cancelled download never sent its request");
    assert_eq!(entries(first_dir.path()), Vec::<String>::new());
}
