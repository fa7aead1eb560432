//! `docs/vendors.md`'s verbs × vendors table is generated from the capability tables; this fails
//! when it is stale. Regenerate with `MEETKIT_UPDATE_DOCS=1 cargo test -p meetkit-core --test vendors_docs`.

use std::path::Path;

const START: &str = "<!-- capabilities:start -->\n";
const END: &str = "<!-- capabilities:end -->";

#[test]
fn vendors_table_is_fresh() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/vendors.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let (head, rest) = text.split_once(START).expect("start marker");
    let (_, tail) = rest.split_once(END).expect("end marker");
    let fresh = format!("{head}{START}{}{END}{tail}", meetkit::meeting::capabilities_markdown());
    if std::env::var_os("MEETKIT_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    assert!(
        text == fresh,
        "docs/vendors.md is stale: run `MEETKIT_UPDATE_DOCS=1 cargo test -p meetkit-core --test vendors_docs`"
    );
}
