//! `docs/scripting.md`'s reference section is generated from the runtime; this fails when it
//! is stale. Regenerate with `MEETKIT_UPDATE_DOCS=1 cargo test -p meetkit-core --test scripting_docs`.
#![cfg(feature = "script")]

use std::path::Path;

const START: &str = "<!-- reference:start -->\n";
const END: &str = "<!-- reference:end -->";

#[test]
fn scripting_reference_is_fresh() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/scripting.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let (head, rest) = text.split_once(START).expect("start marker");
    let (_, tail) = rest.split_once(END).expect("end marker");
    let fresh = format!("{head}{START}{}{END}{tail}", meetkit::script::reference_markdown());
    if std::env::var_os("MEETKIT_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    assert!(
        text == fresh,
        "docs/scripting.md is stale: run `MEETKIT_UPDATE_DOCS=1 cargo test -p meetkit-core --test scripting_docs`"
    );
    for f in meetkit::script::stdlib::FUNCTIONS {
        assert!(text.contains(f.signature), "{} is not documented", f.signature);
    }
}

#[test]
fn definition_files_document_functions_and_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let files = meetkit::script::write_definitions(dir.path()).unwrap();
    let names: Vec<String> = files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["meetkit-endpoints.d.rhai", "meetkit.d.rhai", "rhai-standard.d.rhai"]);
    let standard = std::fs::read_to_string(&files[2]).unwrap();
    assert!(standard.contains("fn abs(x: int) -> int;"), "Rhai's standard library, with script types");
    assert!(!standard.contains("fn wait_until("), "meetkit's functions are in meetkit.d.rhai only");
    let all: String = files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect();
    assert!(all.contains("fn wait_until(condition: Fn, timeout_secs: float, interval_secs: float)"), "wait_until");
    assert!(all.contains("fn vendor(name: String) -> Fn;"));
    assert!(all.contains("const avd_room_mix_record_start: String;"));
    assert!(!all.contains("EvalAltResult"), "return types must be readable");
}
