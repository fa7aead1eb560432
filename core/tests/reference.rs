//! `docs/endpoints.md` is generated from the endpoint tables; this fails when it is stale.
//! Regenerate with `MEETKIT_UPDATE_DOCS=1 cargo test -p meetkit-core --test reference`
//! (or `meetkit endpoints --markdown > docs/endpoints.md`).

use std::path::Path;

#[test]
fn endpoint_reference_is_fresh() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/endpoints.md");
    let generated = meetkit::reference::markdown(&[]);
    if std::env::var_os("MEETKIT_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "docs/endpoints.md is stale: run `MEETKIT_UPDATE_DOCS=1 cargo test -p meetkit-core --test reference`"
    );
    for e in meetkit::vendors::endpoints(meetkit::Vendor::Avd) {
        assert!(on_disk.contains(&format!("`{}`", e.id)), "{} missing from the reference", e.id);
    }
}

fn spec(vendor: meetkit::Vendor, id: &str) -> &'static meetkit::EndpointSpec {
    meetkit::vendors::endpoints(vendor).iter().find(|e| e.id == id).unwrap()
}

#[test]
fn one_endpoint_whole_has_its_response_fields_and_the_docs_example() {
    use meetkit::Vendor;
    let get = spec(Vendor::Avd, "room.mix_record.get");
    let page = meetkit::reference::endpoint_markdown(get);
    assert!(page.contains("| `data[].download_url` | string |"), "{page}");
    assert!(page.contains("meetkit returns the body without `ret`"), "{page}");
    // The doc prints this example broken across page lines: shown as printed, and said so.
    assert!(page.contains("Example response (from the vendor doc) — as printed, not valid JSON"), "{page}");
    assert!(page.contains("20211201auto_record"), "{page}");

    let json = meetkit::reference::endpoint_json(spec(Vendor::Avd, "room.create"));
    let paths: Vec<&str> = json["response"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["ret", "msg", "room_id"]);
    assert_eq!(json["examples"][0]["kind"], "success");
    assert_eq!(json["examples"][0]["json"]["room_id"], "12345123456");
    assert_eq!(json["examples"].as_array().unwrap().len(), 1, "only the success example when there is one");

    // No example in the doc: said, not invented.
    let create = spec(Vendor::Netease, "account.create");
    assert!(meetkit::reference::endpoint_markdown(create).contains("The docs give no example response."));
    let json = meetkit::reference::endpoint_json(create);
    assert_eq!(json["examples"], serde_json::json!([]));
    assert!(json["response"].as_array().unwrap().iter().any(|f| f["path"] == "ret.accountToken"));
    assert_eq!(json["returns"], "`ret` (`{}` when absent)");
}

#[test]
fn the_reference_lists_every_response_field_of_every_endpoint() {
    let md = meetkit::reference::markdown(&[]);
    for v in meetkit::Vendor::ALL {
        for e in meetkit::vendors::endpoints(v) {
            let start = md.find(&format!("`{}` — {} `{}`", e.id, e.method.as_str(), e.path)).unwrap();
            let section = &md[start..];
            let section = &section[..section.find("\n### ").unwrap_or(section.len())];
            for f in e.response.iter().filter(|f| !f.path.is_empty()) {
                assert!(section.contains(&format!("| `{}` |", f.path)), "{v} {}: `{}` not listed", e.id, f.path);
            }
        }
    }
}
