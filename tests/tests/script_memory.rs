//! A script's memory budget (`--max-memory`) and `env()`'s allowlist, end to end against the
//! AVD simulator. This test binary counts allocations like the `meetkit` binary does.

use meetkit::config::Profile;
use meetkit::script::{Limits, ScriptOptions};
use meetkit::{Client, Error};
use meetkit_sim::{SimOptions, Simulator};
use serde_json::Value;

mod common;
use common::run_script as run;

#[global_allocator]
static ALLOC: meetkit::memory::CountingAlloc = meetkit::memory::CountingAlloc;

const MIB: u64 = 1 << 20;

async fn sim() -> (Simulator, Client) {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let client = Client::from_profile(&Profile::from_json("sim", &sim.profile()).unwrap()).unwrap();
    (sim, client)
}

/// A memory budget of `limit`, and Rhai's per-value limit (which counts the strings inside an
/// array too) well above it: the budget is what stops these scripts.
fn budget(limit: u64) -> impl FnOnce(&mut ScriptOptions) {
    move |o| o.limits = Limits { max_memory: Some(limit), max_string_size: 1 << 30, ..Limits::default() }
}

/// The memory error of a run: the budget it names, and what was in use when it stopped.
fn memory_error(r: meetkit::Result<Value>) -> (u64, u64, Error) {
    match r {
        Err(e @ Error::MemoryLimit { limit, used, .. }) => (limit, used, e),
        other => panic!("expected a memory_limit error, got {other:?}"),
    }
}

#[test]
fn the_counting_allocator_is_installed_so_runs_get_the_default_budget() {
    assert!(meetkit::memory::counting());
    assert_eq!(Limits::default().max_memory, Some(meetkit::memory::DEFAULT_MAX_MEMORY));
}

// `big` is a 16 KiB string; `big + i` is a fresh copy of it each time.
const BIG: &str = r#"let big = "................"; for i in 0..10 { big += big; }
"#;

// Each level keeps its own 1 MiB of strings alive while it recurses: 64 MiB at the call
// depth limit, twice the budget of the test.
const RECURSIVE: &str = r#"
on_exit(|| print("on_exit ran"));
fn grow(level, big) {
    let mine = [];
    for i in 0..64 { mine.push(big + i); }
    grow(level + 1, big)
}
grow(0, big);
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recursive_growth_script_ends_with_the_memory_error_and_on_exit_runs() {
    let (_sim, client) = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let (r, printed) = run(&client, &format!("{BIG}{RECURSIVE}"), dir.path(), budget(32 * MIB)).await;
    let (limit, used, e) = memory_error(r);
    assert_eq!(limit, 32 * MIB);
    assert!(used > 32 * MIB, "stopped only once over the budget: {used}");
    // Stopped at the first operation over the budget (each allocates 16 KiB here).
    assert!(used < 34 * MIB, "stopped late: {used}");
    assert_eq!(e.kind(), "memory_limit");
    let text = e.to_string();
    assert!(text.contains("t.rhai:") && text.contains("memory budget of 32 MiB exceeded"), "{text}");
    assert_eq!(printed, ["on_exit ran"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_growing_parallel_branches_share_one_budget() {
    let (_sim, client) = sim().await;
    let dir = tempfile::tempdir().unwrap();
    // Each branch grows to 40 MiB, under the budget of 64 MiB; the three together pass it.
    let source = r#"
on_exit(|| print("on_exit ran"));
let grow = |big| {
    let data = [];
    for i in 0..2560 { data.push(big + i); }
    data.len()
};
parallel([|| grow.call(big), || grow.call(big), || grow.call(big)]);
print("not reached");
"#;
    let (r, printed) = run(&client, &format!("{BIG}{source}"), dir.path(), budget(64 * MIB)).await;
    let (limit, used, _) = memory_error(r);
    assert_eq!(limit, 64 * MIB);
    assert!((64 * MIB..70 * MIB).contains(&used), "{used}");
    assert_eq!(printed, ["on_exit ran"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_error_cannot_be_caught_and_retry_does_not_repeat_it() {
    let (_sim, client) = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let source = r#"
try {
    retry(|| { print("attempt"); let a = []; for i in 0..4096 { a.push(big + i); } }, 5, 0.0, true);
} catch (e) {
    print("caught");
}
"#;
    let (r, printed) = run(&client, &format!("{BIG}{source}"), dir.path(), budget(32 * MIB)).await;
    memory_error(r);
    assert_eq!(printed, ["attempt"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_exit_has_headroom_but_is_bounded_too() {
    let (_sim, client) = sim().await;
    let dir = tempfile::tempdir().unwrap();
    // The last block (it runs first) allocates 4 MiB after the script went over its budget:
    // it has room for that. The other grows to 64 MiB and is stopped as well.
    let source = r#"
on_exit(|| { let a = []; for i in 0..4096 { a.push(big + i); } print("not reached"); });
on_exit(|| { let a = []; for i in 0..256 { a.push(big + i); } print(`cleanup kept ${a.len()}`); });
let data = [];
for i in 0..4096 { data.push(big + i); }
"#;
    let (r, printed) = run(&client, &format!("{BIG}{source}"), dir.path(), budget(32 * MIB)).await;
    memory_error(r);
    assert_eq!(printed, ["cleanup kept 256"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_example_workflow_passes_under_the_default_budget() {
    let (_sim, client) = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/avd_record_meeting.rhai")).unwrap();
    let (r, printed) = run(&client, &source, dir.path(), |_| {}).await;
    r.unwrap_or_else(|e| panic!("{e}"));
    assert!(!printed.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_reads_the_prefix_and_allowed_names_only() {
    let (_sim, client) = sim().await;
    let dir = tempfile::tempdir().unwrap();
    // SAFETY (edition 2024 asks): set before any script reads the environment; the names are
    // this test's own.
    std::env::set_var("MEETKIT_SCRIPT_TEST_SITE", "lab-7");
    std::env::set_var("MEETKIT_TEST_DB_URL", "postgres://u:pass@db/x");
    let source = r#"print(env("MEETKIT_SCRIPT_TEST_SITE")); print(env("MEETKIT_SCRIPT_TEST_UNSET") ?? "unset");
print(env("MEETKIT_TEST_DB_URL"));"#;
    let (r, printed) = run(&client, source, dir.path(), |_| {}).await;
    let e = r.unwrap_err().to_string();
    assert!(e.contains("--env MEETKIT_TEST_DB_URL"), "{e}");
    assert!(!e.contains("pass@"), "{e}");
    assert_eq!(printed, ["lab-7", "unset"]);
    let (r, printed) = run(&client, source, dir.path(), |o| o.env_allow = vec!["MEETKIT_TEST_DB_URL".into()]).await;
    r.unwrap();
    assert_eq!(printed, ["lab-7", "unset", "postgres://u:pass@db/x"]);
}
