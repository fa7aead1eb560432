//! `docs/assumptions.md` and the profile options stay in step.
//!
//! Every entry has the four fields (Doc, meetkit, Option, Simulator); every option an entry
//! names is a real field of that profile section; and every profile field that changes how
//! meetkit reads a vendor doc (everything but addresses, credentials and names) is named by
//! at least one entry — so a new option cannot ship without its decision written down.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use meetkit::config::Profile;
use serde_json::json;

/// Profile fields that only say where and who (addresses, credentials, display names):
/// they decide nothing the docs leave open.
const PLAIN_SETTINGS: &[(&str, &str)] = &[
    ("avd", "base_url"),
    ("avd", "access_key"),
    ("avd", "secret_key"),
    ("kedacom", "base_url"),
    ("kedacom", "consumer_key"),
    ("kedacom", "consumer_secret"),
    ("kedacom", "username"),
    ("kedacom", "password"),
    ("vmr", "api_server"),
    ("vmr", "auth"),
    ("vmr", "account"),
    ("vmr", "password"),
    ("vmr", "display_name"),
    ("netease", "base_url"),
    ("netease", "app_key"),
    ("netease", "app_secret"),
    ("netease", "callback_listen"),
    ("netease", "callback_path"),
    ("netease", "callback_max_connections"),
    ("netease", "callback_header_timeout_secs"),
    ("netease", "callback_body_timeout_secs"),
    ("transport", "connect_timeout_secs"),
    ("transport", "request_timeout_secs"),
    ("transport", "read_timeout_secs"),
    ("transport", "max_attempts"),
    ("transport", "backoff_base_ms"),
    ("transport", "backoff_max_ms"),
    ("transport", "ca_cert"),
    ("transport", "insecure"),
    ("transport", "max_connections"),
    ("transport", "max_downloads"),
];

const SECTIONS: &[&str] = &["avd", "kedacom", "vmr", "netease", "transport"];

/// The fields a profile section accepts, read from the configuration types themselves (an
/// unknown key's error lists every known one).
fn fields_of(section: &str) -> BTreeSet<String> {
    let e = Profile::from_json("probe", &json!({ section: { "__probe__": 0 } })).unwrap_err().to_string();
    let (_, list) = e.split_once("expected one of ").unwrap_or_else(|| panic!("{section}: {e}"));
    list.split(", ").map(|f| f.trim().trim_matches(|c| c == '`' || c == ')').to_string()).collect()
}

struct Entry {
    key: String,
    fields: BTreeMap<String, String>,
}

fn entries(text: &str) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for line in text.lines() {
        if let Some(head) = line.strip_prefix("### ") {
            let key = head.split('`').nth(1).unwrap_or_else(|| panic!("entry heading without a `key`: {line}"));
            out.push(Entry { key: key.to_string(), fields: BTreeMap::new() });
        } else if let (Some(entry), Some(rest)) = (out.last_mut(), line.strip_prefix("- **")) {
            if let Some((name, value)) = rest.split_once("**:") {
                entry.fields.insert(name.to_string(), value.trim().to_string());
            }
        }
    }
    out
}

#[test]
fn assumptions_and_profile_options_are_in_step() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/assumptions.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let entries = entries(&text);
    assert!(entries.len() >= 20, "docs/assumptions.md has only {} entries", entries.len());

    let known: BTreeMap<&str, BTreeSet<String>> = SECTIONS.iter().map(|s| (*s, fields_of(s))).collect();
    let mut named: BTreeSet<(String, String)> = BTreeSet::new();
    let mut keys = BTreeSet::new();
    let mut per_vendor: BTreeMap<String, usize> = BTreeMap::new();
    for e in &entries {
        assert!(keys.insert(e.key.clone()), "entry `{}` appears twice", e.key);
        let prefix = e.key.split('.').next().unwrap_or_default();
        assert!(
            ["avd", "kedacom", "vmr", "netease", "common"].contains(&prefix),
            "entry `{}`: the key starts with a vendor id or `common`",
            e.key
        );
        *per_vendor.entry(prefix.to_string()).or_default() += 1;
        for field in ["Doc", "meetkit", "Option", "Simulator"] {
            let value = e.fields.get(field).unwrap_or_else(|| panic!("entry `{}` has no **{field}**", e.key));
            assert!(!value.is_empty(), "entry `{}`: **{field}** is empty", e.key);
        }
        let option = &e.fields["Option"];
        // Every `[profiles.P.<section>] <field>` the Option names (prose may follow, e.g. a default).
        let named_here: Vec<(String, String)> = option
            .split("[profiles.P.")
            .skip(1)
            .map(|rest| {
                let (section, after) = rest.split_once(']').unwrap_or_else(|| panic!("entry `{}`: {option}", e.key));
                let field: String =
                    after.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                (section.split('.').next().unwrap_or_default().to_string(), field)
            })
            .collect();
        if named_here.is_empty() {
            assert!(
                option.starts_with("none"),
                "entry `{}`: Option must name `[profiles.P.<section>] <field>` or be `none`, got {option}",
                e.key
            );
            continue;
        }
        for (section, field) in named_here {
            let fields = known
                .get(section.as_str())
                .unwrap_or_else(|| panic!("entry `{}`: no profile section `{section}`", e.key));
            assert!(
                fields.contains(&field),
                "entry `{}` names `[profiles.P.{section}] {field}`, which the profile does not have (it has: {})",
                e.key,
                fields.iter().cloned().collect::<Vec<_>>().join(", ")
            );
            named.insert((section, field));
        }
    }
    for vendor in ["avd", "kedacom", "vmr", "netease"] {
        assert!(per_vendor.get(vendor).copied().unwrap_or(0) >= 3, "too few {vendor} entries: {per_vendor:?}");
    }
    let mut missing = Vec::new();
    for (section, fields) in &known {
        for field in fields {
            let plain = PLAIN_SETTINGS.contains(&(*section, field.as_str()));
            if !plain && !named.contains(&(section.to_string(), field.clone())) {
                missing.push(format!("[profiles.P.{section}] {field}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "these profile options change how meetkit reads a vendor doc but no entry of docs/assumptions.md names \
         them: {} — add an entry (or list the option in PLAIN_SETTINGS if it only says where/who)",
        missing.join(", ")
    );
}

/// Every `.rs` file under `dir` (recursively), skipping build output.
fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() && path.file_name().is_some_and(|n| n != "target") {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The test-name labels of tests/README.md point at real entries: `_assumption_<key>` (the
/// key with `.` as `_`) names an entry of docs/assumptions.md, `_assumptions_<vendor>` a vendor
/// with entries. A renamed or removed entry fails here until the tests that cite it follow.
#[test]
fn test_names_cite_existing_assumptions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("docs/assumptions.md")).unwrap();
    let keys: BTreeSet<String> = entries(&text).iter().map(|e| e.key.replace('.', "_")).collect();
    let vendors: BTreeSet<String> = keys.iter().filter_map(|k| k.split('_').next()).map(str::to_string).collect();
    let mut files = Vec::new();
    for dir in ["tests/tests", "cli/tests", "core/src", "core/tests", "sim/src", "sim/tests"] {
        rust_files(&root.join(dir), &mut files);
    }
    let (mut cited, mut unknown) = (0, Vec::new());
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        for line in source.lines() {
            let Some(rest) =
                line.trim_start().strip_prefix("async fn ").or_else(|| line.trim_start().strip_prefix("fn "))
            else {
                continue;
            };
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            let label = if let Some((_, vendor)) = name.split_once("_assumptions_") {
                vendors.contains(vendor).then_some(()).ok_or(format!("_assumptions_{vendor}"))
            } else if let Some((_, key)) = name.split_once("_assumption_") {
                keys.contains(key).then_some(()).ok_or(format!("_assumption_{key}"))
            } else {
                continue;
            };
            cited += 1;
            if let Err(label) = label {
                unknown.push(format!("{}: {name} ({label})", file.strip_prefix(&root).unwrap_or(file).display()));
            }
        }
    }
    assert!(cited >= 20, "only {cited} tests cite an assumption; is the scan looking in the right places?");
    assert!(unknown.is_empty(), "tests citing no entry of docs/assumptions.md:\n{}", unknown.join("\n"));
}
