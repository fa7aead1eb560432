//! The Rhai runtime's safety and standard library, end to end against the AVD simulator:
//! limits, cancellation, on_exit, sandboxing, parallel, retry, wait_until.

use std::path::Path;
use std::time::Duration;

use meetkit::config::Profile;
use meetkit::script::Limits;
use meetkit::{Client, Error};
use meetkit_sim::{SimOptions, Simulator};
use serde_json::{json, Value};

mod common;
use common::run_script as run;

async fn sim() -> (Simulator, Client) {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let client = Client::from_profile(&Profile::from_json("sim", &sim.profile()).unwrap()).unwrap();
    (sim, client)
}

async fn admin(sim: &Simulator, path: &str, body: Value) {
    let url = format!("{}/_sim/{path}", sim.avd_base_url());
    let resp = reqwest::Client::new().post(url).json(&body).send().await.unwrap();
    assert!(resp.status().is_success());
}

fn files_in(dir: &Path) -> Vec<String> {
    fn walk(d: &Path, acc: &mut Vec<String>) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                walk(&e.path(), acc);
            } else {
                acc.push(e.path().display().to_string());
            }
        }
    }
    let mut acc = Vec::new();
    walk(dir, &mut acc);
    acc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runaway_loop_is_stopped_by_the_operation_limit() {
    let (_sim, client) = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let (r, _) = run(&client, "let x = 0;\nloop { x += 1; }", dir.path(), |o| {
        o.limits = Limits { max_operations: 100_000, ..Limits::default() }
    })
    .await;
    let e = r.unwrap_err();
    assert!(matches!(&e, Error::Script { line: Some(2), .. }), "{e:?}");
    assert!(e.to_string().contains("more than 100000 operations"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wall_clock_limit_stops_busy_and_sleeping_scripts() {
    let (_sim, client) = sim().await;
    let dir = tempfile::tempdir().unwrap();
    // The limit is a real-time limit, so real time passes (0.3 s a script). The sleeping
    // scripts would sleep an hour if the limit did not interrupt them.
    for source in ["loop { }", "loop { sleep(0.05); }", "sleep(3600);"] {
        let cancel = tokio_util::sync::CancellationToken::new();
        let script = run(&client, source, dir.path(), |o| {
            o.limits = Limits { timeout: Some(Duration::from_millis(300)), ..Limits::default() };
            o.cancel = cancel.clone();
        });
        let (r, _) = hang_guard(script, &cancel, source).await;
        let e = r.unwrap_err().to_string();
        assert!(e.contains("time limit of 0.3s reached"), "{source}: {e}");
    }
}

/// Await `script`; if it has not returned within [`common::HANG`], cancel it and fail: a guard
/// against a hang (the test would otherwise wait for the script's hour-long sleep), not a timing
/// claim.
async fn hang_guard<T>(
    script: impl std::future::Future<Output = T>,
    cancel: &tokio_util::sync::CancellationToken,
    what: &str,
) -> T {
    match tokio::time::timeout(common::HANG, script).await {
        Ok(done) => done,
        Err(_) => {
            cancel.cancel();
            panic!("{what}: hung, still running after {:?}", common::HANG);
        }
    }
}

/// How many requests for `path` the AVD server has seen.
async fn hits(sim: &Simulator, path: &str) -> u64 {
    let url = format!("{}/_sim/stats", sim.avd_base_url());
    let stats: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    stats["requests"][path].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_exit_runs_after_an_error_last_registered_first() {
    let (_sim, client) = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let source = r#"
        let avd = vendor("avd");
        on_exit(|| print("first registered"));
        on_exit(|| { avd.call("room.create", #{ room_id: "cleanup-ran", user_id: "ops" }); print("cleanup"); });
        fail("boom");
    "#;
    let (r, printed) = run(&client, source, dir.path(), |_| {}).await;
    assert!(r.unwrap_err().to_string().contains("boom"));
    assert_eq!(printed, vec!["cleanup", "first registered"]);
    client
        .call("avd", "room.read", json!({"room_id": "cleanup-ran"}))
        .await
        .expect("the on_exit call reached the server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_mid_download_leaves_no_file_and_still_runs_on_exit() {
    let (sim, client) = sim().await;
    let dir = tempfile::tempdir().unwrap();
    // A file to download: upload one, then make the attachment server slow.
    let upload = dir.path().join("clip.mp4");
    std::fs::write(&upload, vec![7u8; 200_000]).unwrap();
    let up = client.call("avd", "uploadfile", json!({"file": upload.to_str().unwrap()})).await.unwrap();
    let url = up["download_url"].as_str().unwrap().to_string();
    // The attachment server answers only after ten minutes: only a cancellation that
    // interrupts the request in flight ends the script before the hang guard.
    admin(&sim, "faults", json!({"latency_ms": 600_000, "paths": ["/attachment"]})).await;

    let out = dir.path().join("out");
    let cancel = tokio_util::sync::CancellationToken::new();
    let source = format!(
        r#"on_exit(|| print("on_exit ran"));
           download("{url}");
           print("not reached");"#
    );
    let script = run(&client, &source, &out, |o| o.cancel = cancel.clone());
    let trigger = async {
        // Cancel once the download's request is at the server (and held there).
        common::wait_until("the download's request", || async { (hits(&sim, "/attachment").await > 0).then_some(()) })
            .await;
        cancel.cancel();
    };
    let ((r, printed), ()) = hang_guard(async { tokio::join!(script, trigger) }, &cancel, "download").await;
    assert!(matches!(r, Err(Error::Cancelled { .. })), "{r:?}");
    assert_eq!(printed, vec!["on_exit ran"]);
    assert!(files_in(&out).is_empty(), "left behind: {:?}", files_in(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_cannot_escape_the_out_dir() {
    let (_sim, client) = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::symlink(dir.path(), out.join("up")).unwrap();
    for sub in ["../x", "/tmp", "up"] {
        let source = format!(r#"download("http://127.0.0.1:1/a.mp4", "{sub}")"#);
        let (r, _) = run(&client, &source, &out, |_| {}).await;
        let e = r.unwrap_err().to_string();
        assert!(e.contains("without `..`") || e.contains("leads outside"), "{sub}: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_collects_values_and_errors_in_order() {
    let (_sim, client) = sim().await;
    client.call("avd", "room.create", json!({"room_id": "p1", "user_id": "ops"})).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let source = r#"
        let avd = vendor("avd");
        let rs = parallel([
            || avd.call("room.read", #{ room_id: "p1" }),
            || avd.call("room.read", #{ room_id: "missing" }),
            || 42,
        ]);
        [rs[0].ok, rs[1].ok, rs[1].error.code, rs[2].value]
    "#;
    let (r, _) = run(&client, source, dir.path(), |_| {}).await;
    assert_eq!(r.unwrap(), json!([true, false, "40004", 42]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_repeats_until_success_and_rethrows_the_last_error() {
    let (sim, client) = sim().await;
    admin(&sim, "faults", json!({"error_status": 503, "paths": ["/sdkapi/v2/room/create"], "count": 2})).await;
    let dir = tempfile::tempdir().unwrap();
    let source = r#"
        let avd = vendor("avd");
        let tries = 0;
        let room = retry(|| { tries += 1; avd.call("room.create", #{ room_id: "r1", user_id: "ops" }) }, 5, 0.01);
        let last = ();
        try { retry(|| avd.call("room.read", #{ room_id: "nope" }), 2, 0.01); } catch (e) { last = e.code; }
        [room.room_id, last]
    "#;
    let (r, _) = run(&client, source, dir.path(), |_| {}).await;
    assert_eq!(r.unwrap(), json!(["r1", "40004"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_until_returns_the_value_or_throws_a_timeout_map() {
    let (_sim, client) = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let source = r#"
        let n = 0;
        let v = wait_until(|| { n += 1; if n == 3 { "ready" } }, 5, 0.01);
        let kind = ();
        try { wait_until(|| false, 0.1, 0.02); } catch (e) { kind = e.kind; }
        [v, n, kind]
    "#;
    let (r, _) = run(&client, source, dir.path(), |_| {}).await;
    assert_eq!(r.unwrap(), json!(["ready", 3, "timeout"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_cannot_read_secrets_eval_or_import() {
    let (_sim, client) = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let (r, _) = run(&client, r#"env("MEETKIT_AVD_SECRET_KEY")"#, dir.path(), |_| {}).await;
    assert!(r.unwrap_err().to_string().contains("looks like a secret"));
    let (r, _) = run(&client, r#"env("HOME")"#, dir.path(), |_| {}).await;
    assert!(r.unwrap_err().to_string().contains("--env HOME"));
    let (r, _) = run(&client, r#"env("HOME")"#, dir.path(), |o| o.env_allow = vec!["HOME".into()]).await;
    assert!(r.unwrap().is_string());
    let (r, _) = run(&client, r#"eval("1 + 1")"#, dir.path(), |_| {}).await;
    assert!(r.is_err());
    let (r, _) = run(&client, r#"import "os" as os;"#, dir.path(), |_| {}).await;
    assert!(r.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameter_errors_name_the_parameter_and_show_the_signature() {
    let (_sim, client) = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let (r, _) =
        run(&client, "let avd = vendor(\"avd\");\navd.call(\"room.create\", #{ rom_id: \"x\" });", dir.path(), |_| {})
            .await;
    let e = r.unwrap_err().to_string();
    assert!(e.starts_with("t.rhai:2:"), "{e}");
    assert!(
        e.contains("`rom_id`") && e.contains("did you mean `room_id`") && e.contains("room.create(user_id: string"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_retries_only_retryable_errors_unless_told_otherwise() {
    let (_sim, client) = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let source = r#"
        let avd = vendor("avd");
        let refused = 0;
        try { retry(|| { refused += 1; avd.call("room.read", #{ room_id: "nope" }) }, 4, 0.01); } catch (e) {}
        let failed = 0;
        try { retry(|| { failed += 1; fail("broken") }, 4, 0.01); } catch (e) {}
        let forced = 0;
        try { retry(|| { forced += 1; fail("broken") }, 4, 0.01, true); } catch (e) {}
        [refused, failed, forced]
    "#;
    let (r, _) = run(&client, source, dir.path(), |_| {}).await;
    // A vendor refusal (40004, not retryable) and a script failure run once; any_error retries.
    assert_eq!(r.unwrap(), json!([1, 1, 4]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_branches_may_share_captured_handles() {
    let (_sim, client) = sim().await;
    let dir = tempfile::tempdir().unwrap();
    // The documented pattern: closures capturing one vendor handle, one meeting handle, and
    // a nested parallel, 64 branches, 20 runs: no branch may fail.
    let source = r#"
        let avd = vendor("avd");
        let m = meeting("avd");
        avd.call("room.create", #{ room_id: "shared", user_id: "ops" });
        let failures = 0;
        for run in 0..20 {
            let blocks = [];
            for i in 0..64 {
                if i % 8 == 0 {
                    blocks.push(|| parallel([|| avd.call("room.read", #{ room_id: "shared" }), || m.can("invite")]));
                } else if i % 2 == 0 {
                    blocks.push(|| m.can("start_recording"));
                } else {
                    blocks.push(|| avd.call("room.read", #{ room_id: "shared" }));
                }
            }
            for r in parallel(blocks) {
                if !r.ok { failures += 1; print(`${r.error}`); }
            }
        }
        failures
    "#;
    let (r, printed) = run(&client, source, dir.path(), |_| {}).await;
    assert_eq!(r.unwrap(), json!(0), "{printed:?}");
}

/// This test binary does not install `meetkit::memory::CountingAlloc`: runs have no memory
/// budget by default, and one given explicitly is refused before the script starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_budget_needs_the_counting_allocator() {
    let (_sim, client) = sim().await;
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(Limits::default().max_memory, None);
    let (r, printed) = run(&client, "print(\"started\");", dir.path(), |o| {
        o.limits = Limits { max_memory: Some(64 << 20), ..Limits::default() }
    })
    .await;
    let e = r.unwrap_err();
    assert_eq!(e.kind(), "config");
    assert!(e.to_string().contains("CountingAlloc"), "{e}");
    assert!(printed.is_empty());
}

/// Every error a script can catch has the same keys, whatever raised it: the vendor, the
/// parameter check, a download path, a meetkit function given a bad argument, `fail`, an
/// unsupported verb, and Rhai itself (division by zero, a missing function, an index out of
/// bounds, a property of `()`) — inside `parallel` branches too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_caught_error_is_the_same_map() {
    let (_sim, client) = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let source = r#"
        let avd = vendor("avd");
        let seen = [];
        try { avd.call("room.read", #{ room_id: "missing" }); } catch (err) { seen.push(err); }
        try { avd.call("room.read", #{}); } catch (err) { seen.push(err); }
        try { download("http://127.0.0.1:1/a.mp4", "../x"); } catch (err) { seen.push(err); }
        try { sleep(-1); } catch (err) { seen.push(err); }
        try { fail("stop here"); } catch (err) { seen.push(err); }
        try { meeting("avd").schedule(#{ name: "x", start: 1 }); } catch (err) { seen.push(err); }
        try { let z = 1 / 0; } catch (err) { seen.push(err); }
        try { no_such_function(3); } catch (err) { seen.push(err); }
        try { let a = [1]; a[5]; } catch (err) { seen.push(err); }
        try { let u = (); u.field; } catch (err) { seen.push(err); }
        let divide = |x| x / 0;
        try { divide.call(1); } catch (err) { seen.push(err); }
        let branch = parallel([|| 1 / 0]);
        seen.push(branch[0].error);
        seen
    "#;
    let (r, _) = run(&client, source, dir.path(), |_| {}).await;
    let seen = r.unwrap();
    let seen = seen.as_array().unwrap();
    assert_eq!(seen.len(), 12);
    let want = [
        ("api", "40004"),
        ("invalid_params", "invalid_params"),
        ("invalid_params", "invalid_params"),
        ("script", "invalid_argument"),
        ("script", "fail"),
        ("unsupported", "unsupported"),
        ("script", "arithmetic"),
        ("script", "function_not_found"),
        ("script", "array_bounds"),
        ("script", "dot_expr"),
        ("script", "in_function_call"),
        ("script", "arithmetic"),
    ];
    for (e, (kind, code)) in seen.iter().zip(want) {
        for key in ["kind", "code", "message", "vendor", "endpoint", "retryable", "detail"] {
            assert!(e.get(key).is_some(), "`{key}` missing from {e}");
        }
        assert_eq!((e["kind"].as_str(), e["code"].as_str()), (Some(kind), Some(code)), "{e}");
        assert_eq!(e["retryable"], json!(false), "{e}");
        assert!(!e["message"].as_str().unwrap().is_empty(), "{e}");
    }
    assert_eq!((seen[0]["vendor"].as_str(), seen[0]["endpoint"].as_str()), (Some("avd"), Some("room.read")));
    assert_eq!(seen[4]["message"], json!("stop here"));
    // Rhai's own errors say where they happened.
    assert_eq!(seen[6]["line"], json!(10), "{}", seen[6]);
    assert!(seen[6]["detail"].as_str().unwrap().starts_with("t.rhai:10:"), "{}", seen[6]);
    assert!(seen[6]["vendor"].is_null() && seen[6]["endpoint"].is_null());
    // In a closure: where the inner error happened, and its message.
    assert_eq!(
        (&seen[10]["line"], &seen[10]["message"]),
        (&json!(14), &json!("Division by zero: 1 / 0")),
        "{}",
        seen[10]
    );
}

/// A failing `on_exit` block is reported once, as the run's error, naming the line that
/// registered it and the line where it failed — never the closure's internal name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_on_exit_block_is_reported_once_by_its_lines() {
    let (_sim, client) = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let source = "let x = 1;\non_exit(|| {\n    let y = x / 0;\n});\nprint(\"done\");";
    let (r, printed) = run(&client, source, dir.path(), |_| {}).await;
    assert_eq!(printed, vec!["done"]);
    let e = r.unwrap_err();
    let text = e.to_string();
    assert!(text.starts_with("t.rhai:3:"), "{text}");
    assert!(text.contains("on_exit block registered at line 2 failed: Division by zero"), "{text}");
    assert!(!text.contains("anon$"), "{text}");
    // A vendor error in on_exit keeps its kind (the CLI's exit code depends on it).
    let source = "on_exit(|| vendor(\"avd\").call(\"room.read\", #{ room_id: \"gone\" }));";
    let (r, _) = run(&client, source, dir.path(), |_| {}).await;
    let e = r.unwrap_err();
    assert_eq!(e.kind(), "api", "{e}");
    assert!(e.to_string().contains("on_exit block registered at line 1 failed"), "{e}");
}
