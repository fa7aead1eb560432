//! `meetkit doctor` against the simulator: every check passes on a good profile, and a wrong
//! secret or an unreachable server fails with the right exit code, a fix, and no secret shown.

mod common;

use common::{text, Sim};
use serde_json::Value;

fn checks(out: &std::process::Output) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
    v["checks"].as_array().unwrap().clone()
}

fn find<'a>(checks: &'a [Value], vendor: &str, check: &str) -> &'a Value {
    checks.iter().find(|c| c["vendor"] == vendor && c["check"] == check).unwrap_or_else(|| panic!("{vendor} {check}"))
}

#[test]
fn a_good_profile_passes_every_check_of_every_vendor() {
    let sim = Sim::start();
    let out = sim.run(&["doctor", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    let checks = checks(&out);
    for vendor in ["avd", "kedacom", "vmr", "netease"] {
        for check in ["reach", "auth", "clock"] {
            assert_eq!(find(&checks, vendor, check)["ok"], true, "{vendor} {check}");
        }
    }
    assert!(find(&checks, "kedacom", "api_level")["detail"].as_str().unwrap().contains("API level 3"));
    // The check opened no vmr session that outlives it.
    assert_eq!(sim.meetkit_left_in_vmr().0, 0);
}

#[test]
fn a_wrong_secret_fails_auth_with_a_fix_and_is_never_printed() {
    let sim = Sim::start();
    let mut profile: Value = serde_json::from_str(&std::fs::read_to_string(&sim.profile).unwrap()).unwrap();
    profile["avd"]["secret_key"] = Value::from("WRONG-SECRET-4711");
    std::fs::write(&sim.profile, profile.to_string()).unwrap();
    let out = sim.run(&["doctor", "--output", "json"]);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(5), "{all}");
    assert!(!all.contains("WRONG-SECRET-4711"), "{all}");
    let checks = checks(&out);
    let auth = find(&checks, "avd", "auth");
    assert_eq!(auth["ok"], false);
    assert!(auth["fix"].as_str().unwrap().contains("meetkit profile show"), "{auth}");
    assert_eq!(find(&checks, "avd", "reach")["ok"], true, "the server was reached");
    assert_eq!(find(&checks, "netease", "auth")["ok"], true, "other vendors are unaffected");

    // The table form says the same, with the fix on its own line.
    let out = sim.run(&["doctor"]);
    let table = text(&out.stdout);
    assert!(table.lines().any(|l| l.starts_with("FAIL avd") && l.contains("auth")), "{table}");
    assert!(table.contains("fix: "), "{table}");
}

#[test]
fn an_unreachable_server_fails_reach_with_exit_4() {
    let sim = Sim::start();
    let mut profile: Value = serde_json::from_str(&std::fs::read_to_string(&sim.profile).unwrap()).unwrap();
    // A closed loopback port: nothing listens on the discard port.
    profile["kedacom"]["base_url"] = Value::from("http://127.0.0.1:9");
    std::fs::write(&sim.profile, profile.to_string()).unwrap();
    let out = sim.run(&["doctor", "--output", "json"]);
    assert_eq!(out.status.code(), Some(4), "{}{}", text(&out.stdout), text(&out.stderr));
    let checks = checks(&out);
    let reach = find(&checks, "kedacom", "reach");
    assert_eq!(reach["ok"], false);
    assert!(reach["fix"].as_str().unwrap().contains("[profiles."), "{reach}");
    assert!(checks.iter().all(|c| c["vendor"] != "kedacom" || c["check"] == "reach"), "no call after reach fails");
    assert_eq!(find(&checks, "avd", "auth")["ok"], true);
}
