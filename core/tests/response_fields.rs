//! The response fields of the endpoint tables against the vendor docs' own example bodies:
//! every endpoint documents what comes back, the rows form a tree, and every key of every
//! success example is a documented field.

use meetkit::endpoint::{EndpointSpec, ParamType, ResponseField};
use meetkit::reference::{doc_examples, ExampleKind};
use meetkit::{vendors, Vendor};
use serde_json::Value;

fn all_endpoints() -> impl Iterator<Item = &'static EndpointSpec> {
    Vendor::ALL.into_iter().flat_map(vendors::endpoints)
}

/// Keys in doc examples that no response table lists, each a documented inconsistency of the
/// vendor doc (endpoint id, example path, why). Empty today: every key the examples show is
/// a row, with the contradiction in its description (e.g. AVD `android_cnt`, spelled
/// `andronid_cnt` in the table). A new entry needs its reason.
const NOT_IN_TABLES: &[(&str, &str, &str)] = &[];

#[test]
fn every_endpoint_of_every_vendor_documents_its_response() {
    let mut fields = 0;
    for e in all_endpoints() {
        assert!(!e.response.is_empty(), "{} {}: no response fields", e.vendor, e.id);
        fields += e.response.len();
        for f in e.response {
            assert!(!f.doc.trim().is_empty(), "{} {} `{}`: no description", e.vendor, e.id, f.path);
        }
    }
    // ~720 fields in the vendor catalogs, plus the envelopes the catalogs leave out.
    assert!(fields > 900, "only {fields} response fields");
}

/// `data[].name` needs an array `data` before it, `data.name` an object `data`, and a path
/// appears once; the empty path (the body itself) stands alone.
#[test]
fn response_rows_form_a_tree_parents_first() {
    for e in all_endpoints() {
        let who = format!("{} {}", e.vendor, e.id);
        for (i, f) in e.response.iter().enumerate() {
            let earlier = &e.response[..i];
            assert!(earlier.iter().all(|g| g.path != f.path), "{who}: `{}` twice", f.path);
            if f.path.is_empty() {
                assert_eq!(e.response.len(), 1, "{who}: the body itself is its only field");
                continue;
            }
            let Some((parent, ty)) = parent_of(f.path) else { continue };
            let found = earlier.iter().find(|g| g.path == parent);
            let found = found.unwrap_or_else(|| panic!("{who}: `{}` comes before its parent `{parent}`", f.path));
            assert_eq!(found.ty, ty, "{who}: `{parent}` holds `{}`, so it must be {}", f.path, ty.as_str());
        }
    }
}

/// The parent path of `path` and the type it must have.
fn parent_of(path: &str) -> Option<(&str, ParamType)> {
    if let Some(array) = path.strip_suffix("[]") {
        return Some((array, ParamType::Array));
    }
    let (left, _) = path.rsplit_once('.')?;
    Some(match left.strip_suffix("[]") {
        Some(array) => (array, ParamType::Array),
        None => (left, ParamType::Object),
    })
}

/// Every key of the example (objects by `.`, array elements by `[]`), descending only below
/// fields the table documents member by member: an object documented as a whole (AVD
/// `detail`, keyed by terminal type) is not walked.
fn example_paths(v: &Value, prefix: &str, documented: &[&str], out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                if documented.iter().any(|d| d.starts_with(&format!("{p}.")) || d.starts_with(&format!("{p}[]"))) {
                    example_paths(x, &p, documented, out);
                }
                out.push(p);
            }
        }
        Value::Array(items) => {
            for item in items.iter().filter(|x| x.is_object()) {
                example_paths(item, &format!("{prefix}[]"), documented, out);
            }
        }
        _ => {}
    }
}

/// The object keys in a body the doc prints as broken JSON: every string literal followed by
/// `:` (ASCII or full-width).
fn keys_in_text(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut keys = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '"' {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        let mut s = String::new();
        while j < chars.len() && chars[j] != '"' && chars[j] != '\n' {
            if chars[j] == '\\' {
                j += 1;
            }
            if let Some(c) = chars.get(j) {
                s.push(*c);
            }
            j += 1;
        }
        let mut k = j + 1;
        while k < chars.len() && chars[k] == ' ' {
            k += 1;
        }
        if chars.get(j) == Some(&'"') && matches!(chars.get(k), Some(':' | '：')) {
            keys.push(s);
        }
        i = j + 1;
    }
    keys
}

fn last_segment(f: &ResponseField) -> &str {
    let p = f.path.trim_end_matches("[]");
    p.rsplit_once('.').map_or(p, |(_, name)| name).trim_end_matches("[]")
}

#[test]
fn every_key_of_every_doc_success_example_is_a_documented_field() {
    let (mut parsed, mut broken) = (0, 0);
    let mut missing = Vec::new();
    for e in all_endpoints() {
        let documented: Vec<&str> = e.response.iter().map(|f| f.path).collect();
        let allowed = |p: &str| NOT_IN_TABLES.iter().any(|(id, path, _)| *id == e.id && *path == p);
        for x in doc_examples(e).into_iter().filter(|x| x.kind == ExampleKind::Success) {
            match &x.json {
                Some(body) => {
                    parsed += 1;
                    let mut paths = Vec::new();
                    example_paths(body, "", &documented, &mut paths);
                    assert!(!paths.is_empty() || body.as_object().is_some_and(|m| m.is_empty()), "{}", x.text);
                    for p in paths.into_iter().filter(|p| !documented.contains(&p.as_str()) && !allowed(p)) {
                        missing.push(format!("{} {}: `{p}`", e.vendor, e.id));
                    }
                }
                // Broken in the doc (page breaks, `...`, unquoted placeholders): at least every
                // key name must be the name of a documented field.
                None => {
                    broken += 1;
                    let names: Vec<&str> = e.response.iter().map(last_segment).collect();
                    let keys = keys_in_text(&x.text);
                    assert!(!keys.is_empty(), "{} {}: no keys found in {}", e.vendor, e.id, x.text);
                    for k in keys.into_iter().filter(|k| !names.contains(&k.as_str()) && !allowed(k)) {
                        missing.push(format!("{} {}: `{k}` (broken example, by name)", e.vendor, e.id));
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "keys of the doc's success examples that the response tables do not list \
         (add a row, or an entry with its reason to NOT_IN_TABLES):\n{}",
        missing.join("\n")
    );
    // 69 AVD + 3 Kedacom + 33 vmr + 6 NetEase success examples; 15 of them are broken in the docs.
    assert_eq!((parsed + broken, broken), (111, 15), "the embedded doc examples changed");
}

#[test]
fn keys_are_read_from_broken_examples() {
    let keys = keys_in_text("{\n \"ret\": 0, \"data\": [\n {\"url\": \"a:b\", //x\n \"n\" ：1 }, ...");
    assert_eq!(keys, ["ret", "data", "url", "n"]);
}

#[test]
fn every_doc_example_belongs_to_an_endpoint_of_the_table() {
    // doc_examples() is looked up by endpoint id: an example under an id the table does not
    // have would never be shown.
    let shown: usize = all_endpoints().map(|e| doc_examples(e).len()).sum();
    // 137 AVD (69 success + 68 error), 3 Kedacom, 33 vmr, 12 NetEase.
    assert_eq!(shown, 185);
    let create = vendors::endpoints(Vendor::Avd).iter().find(|e| e.id == "room.create").unwrap();
    let kinds: Vec<ExampleKind> = doc_examples(create).iter().map(|x| x.kind).collect();
    assert_eq!(kinds, [ExampleKind::Success, ExampleKind::Error], "success first");
    assert_eq!(doc_examples(create)[0].json.as_ref().unwrap()["room_id"], "12345123456");
}
