//! NetEase's envelope (`{code, msg, requestId, costTime, ret}`): the parser, the decoder,
//! `costTime` and the record normalisation, on arbitrary bodies and statuses.
#![no_main]
use libfuzzer_sys::fuzz_target;
use meetkit::vendors::netease::envelope::{self, Envelope};
use meetkit::Vendor;
use meetkit_fuzz::{endpoint, render, response, split};

fuzz_target!(|data: &[u8]| {
    let Some((status, id, body)) = split(data) else { return };
    if let Some(env) = Envelope::parse(body) {
        let _ = envelope::normalize_records(env.ret);
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        let _ = envelope::parse_cost_time(&v);
        if let Some(cost) = v.get("costTime") {
            let _ = envelope::parse_cost_time(cost);
        }
    }
    let spec = endpoint(Vendor::Netease, id);
    match envelope::decode(spec, &response(status, body)) {
        Ok(v) => {
            let _ = envelope::normalize_records(v);
        }
        Err(err) => render(&err),
    }
});
