//! vmr's three envelope decoders (room API, check_join, record/live API) on arbitrary bodies
//! and statuses, each endpoint through the decoder the client uses for it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use meetkit::vendors::vmr::endpoints::{host_of, Host};
use meetkit::vendors::vmr::envelope;
use meetkit::Vendor;
use meetkit_fuzz::{endpoint, render, response, split};

fuzz_target!(|data: &[u8]| {
    let Some((status, id, body)) = split(data) else { return };
    let spec = endpoint(Vendor::Vmr, id);
    let resp = response(status, body);
    // The decoder the client uses for this endpoint.
    let decoded = if spec.id == "meet.check_join" {
        envelope::decode_check_join(spec, &resp)
    } else if host_of(spec) == Host::McuHost {
        envelope::decode_room(spec, &resp)
    } else {
        envelope::decode_supplementary(spec, &resp)
    };
    match decoded {
        Ok(v) => {
            let _ = envelope::normalise_bool(v);
        }
        Err(err) => render(&err),
    }
});
