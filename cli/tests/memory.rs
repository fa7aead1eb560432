//! `meetkit run --max-memory` and `--env`: a script over its memory budget stops with exit
//! code 9 after its on_exit blocks ran; env() reads only the variables the run allows.

mod common;

use common::{text, Sim};

const GROW: &str = r#"on_exit(|| print("on_exit ran"));
let big = "................"; for i in 0..10 { big += big; }
fn grow(big) { let mine = []; for i in 0..64 { mine.push(big + i); } grow(big) }
grow(big);
"#;

#[test]
fn a_script_over_its_memory_budget_exits_9_after_on_exit() {
    let sim = Sim::start();
    let script = sim.script("grow.rhai", GROW);
    let out = sim.run(&["run", "--no-journal", "--max-memory", "16M", &script]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(9), "{stderr}");
    assert!(stderr.contains("grow.rhai:4:") && stderr.contains("memory budget of 16 MiB exceeded"), "{stderr}");
    assert!(text(&out.stdout).contains("on_exit ran"));
    for bad in ["0", "-1M", "lots"] {
        let out = sim.run(&["run", "--no-journal", &format!("--max-memory={bad}"), &script]);
        assert_eq!(out.status.code(), Some(7), "{bad}");
        assert!(text(&out.stderr).contains("--max-memory"), "{bad}: {}", text(&out.stderr));
    }
}

#[test]
fn env_reads_only_prefixed_and_allowed_variables() {
    let sim = Sim::start();
    let script = sim.script("env.rhai", "print(env(\"MEETKIT_SCRIPT_SITE\")); print(env(\"SITE_REGION\"));\n");
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "--no-journal"];
        args.extend_from_slice(extra);
        args.push(&script);
        sim.command(&args).env("MEETKIT_SCRIPT_SITE", "lab-7").env("SITE_REGION", "eu").output().unwrap()
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(6));
    assert!(text(&out.stderr).contains("meetkit run --env SITE_REGION"), "{}", text(&out.stderr));
    let out = run(&["--env", "SITE_REGION"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "lab-7\neu\n");
}
