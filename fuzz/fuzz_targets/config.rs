//! Config parsing: arbitrary text as a `meetkit.toml` file (`Profile::load`) and as one
//! profile's tables (`Profile::from_toml`), then the client built from what parsed (which
//! checks timeouts and attempts). A document holding a non-finite number must be refused.
#![no_main]
use std::io::Write;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use meetkit::config::Profile;
use meetkit::Client;
use meetkit_fuzz::render;

fn file() -> &'static std::path::Path {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("meetkit-fuzz-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        dir.join("meetkit.toml")
    })
}

fn has_non_finite(v: &toml::Value) -> bool {
    match v {
        toml::Value::Float(f) => !f.is_finite(),
        toml::Value::Array(items) => items.iter().any(has_non_finite),
        toml::Value::Table(t) => t.values().any(has_non_finite),
        _ => false,
    }
}

fn check(profile: meetkit::Result<Profile>) {
    match profile {
        Ok(profile) => match Client::from_profile(&profile) {
            Ok(client) => drop(client),
            Err(err) => render(&err),
        },
        Err(err) => render(&err),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let non_finite = text.parse::<toml::Table>().is_ok_and(|t| t.values().any(has_non_finite));

    let one = Profile::from_toml("fuzz", text);
    if non_finite {
        assert!(one.is_err(), "a profile with a non-finite number was accepted");
    }
    check(one);

    let path = file();
    std::fs::File::create(path).and_then(|mut f| f.write_all(data)).expect("the temporary config file");
    check(Profile::load(Some(path), None));
});
