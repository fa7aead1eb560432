//! Kedacom's envelope decoder (`{success, error_code, ...}`, non-breaking spaces, ...) on
//! arbitrary bodies and statuses.
#![no_main]
use libfuzzer_sys::fuzz_target;
use meetkit::vendors::kedacom::envelope;
use meetkit::Vendor;
use meetkit_fuzz::{endpoint, render, response, split};

fuzz_target!(|data: &[u8]| {
    let Some((status, id, body)) = split(data) else { return };
    let spec = endpoint(Vendor::Kedacom, id);
    if let Err(err) = envelope::decode(spec.id, &response(status, body)) {
        render(&err);
    }
});
