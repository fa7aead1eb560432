//! Parameter validation and normalisation (`EndpointSpec::validate`/`normalize`, the path
//! rendering, Kedacom's extra checks) on arbitrary JSON for arbitrary endpoints.
//!
//! Input: `<vendor> <endpoint id>\n<JSON params>`. An unknown vendor picks one by the
//! line's length; an unknown endpoint id must give suggestions, not a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use meetkit::endpoint::lookup;
use meetkit::vendors::{self, kedacom};
use meetkit::{EndpointSpec, Vendor};
use meetkit_fuzz::render;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let (head, json) = meetkit_fuzz::line(data);
    let head = String::from_utf8_lossy(head);
    let (v, id) = head.split_once(' ').unwrap_or((&head, ""));
    let vendor = v.parse().unwrap_or(Vendor::ALL[head.len() % Vendor::ALL.len()]);
    let spec: &'static EndpointSpec = match lookup(vendor, vendors::endpoints(vendor), id) {
        Ok(spec) => spec,
        Err(err) => return render(&err),
    };
    let Ok(params) = serde_json::from_slice::<Value>(json) else { return };
    let checked = spec.validate(&params);
    match spec.normalize(params) {
        Ok(normal) => {
            assert!(checked.is_ok(), "validate refused what normalize accepted");
            // Normalising is idempotent: a normalised value passes again unchanged.
            let again = spec.normalize(normal.clone()).expect("a normalised value normalises again");
            assert_eq!(again, normal);
            let Value::Object(mut map) = normal else { panic!("normalize returned a non-object") };
            if vendor == Vendor::Kedacom {
                if let Err(err) = kedacom::validate::check(spec, &map) {
                    render(&err);
                }
            }
            if let Err(err) = spec.render_path(&mut map) {
                render(&err);
            }
        }
        Err(err) => {
            assert!(checked.is_err(), "validate accepted what normalize refused");
            render(&err);
        }
    }
});
