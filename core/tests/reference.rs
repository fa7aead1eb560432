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
