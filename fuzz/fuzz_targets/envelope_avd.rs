//! Input: `[status byte][endpoint id]\n[body]` (see `meetkit_fuzz::split`).
//!
//! AVD's envelope decoder (`{ret, msg, ...}`) on arbitrary bodies and statuses, then the
//! attachment-URL rewriting on what it decoded.
#![no_main]
use libfuzzer_sys::fuzz_target;
use meetkit::vendors::avd::envelope;
use meetkit::Vendor;
use meetkit_fuzz::{endpoint, render, response, split};

fuzz_target!(|data: &[u8]| {
    let Some((status, id, body)) = split(data) else { return };
    let spec = endpoint(Vendor::Avd, id);
    match envelope::decode(spec, &response(status, body)) {
        Ok(map) => {
            let base = url::Url::parse("https://avd.example.com:9610/sdkapi/v2/").expect("a valid URL");
            let mut value = serde_json::Value::Object(map);
            envelope::resolve_attachment_urls(&mut value.clone(), &base, false);
            envelope::resolve_attachment_urls(&mut value, &base, true);
        }
        Err(err) => render(&err),
    }
});
