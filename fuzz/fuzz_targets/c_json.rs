//! The C library's JSON arguments, through its `extern "C"` functions: profiles and client
//! options (`meetkit_client_new[_with_options]`), call parameters (`meetkit_call`), meeting
//! options (`meetkit_meeting_create_room`/`schedule`), script variables
//! (`meetkit_run_script`) and simulator options (`meetkit_sim_start`). No argument may make a function panic (its boundary would turn
//! that into `MEETKIT_PANIC`; libFuzzer reports the panic itself), and every handle, error
//! and string handed out is freed again.
//!
//! Input: `<function> [vendor] [endpoint id]\n<JSON>`, the function one of `client_new`,
//! `client_options`, `call`, `create_room`, `schedule`, `script`, `sim_start` (simulator
//! options: `host` and `port_base` are dropped, so simulators bind only ephemeral loopback
//! ports). The calls go to a profile whose servers
//! refuse connections (port 9 on loopback), so valid parameters end in a transport error.
#![no_main]
use std::ffi::{c_char, CStr, CString};
use std::ptr;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use meetkit::Vendor;
use meetkit_c::*;
use serde_json::{json, Value};

const FUNCTIONS: [&str; 7] = ["client_new", "client_options", "call", "create_room", "schedule", "script", "sim_start"];
const DOWN: &str = "http://127.0.0.1:9";

fn profile() -> Value {
    json!({
        "avd": {"base_url": DOWN, "access_key": "k", "secret_key": "s"},
        "kedacom": {"base_url": DOWN, "consumer_key": "k", "consumer_secret": "s", "username": "u", "password": "p"},
        "vmr": {"api_server": DOWN, "auth": "a", "account": "room@example.com", "password": "1", "display_name": "f"},
        "netease": {"base_url": DOWN, "app_key": "k", "app_secret": "s"},
        "transport": {"max_attempts": 1, "connect_timeout_secs": 1, "request_timeout_secs": 1, "backoff_base_ms": 1, "backoff_max_ms": 1}
    })
}

struct Fixture {
    client: usize,
    script: CString,
    dir: std::path::PathBuf,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("meetkit-fuzz-c-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let script = dir.join("vars.rhai");
        std::fs::write(&script, "42").expect("the script file");
        let text = CString::new(profile().to_string()).expect("no NUL");
        let mut client = ptr::null_mut();
        let status = unsafe { meetkit_client_new(text.as_ptr(), &mut client, ptr::null_mut()) };
        assert_eq!(status, meetkit_status::MEETKIT_OK);
        let script = CString::new(script.to_string_lossy().into_owned()).expect("no NUL");
        Fixture { client: client as usize, script, dir }
    })
}

/// Checks a status, frees the error and the result string.
fn finish(status: meetkit_status, err: *mut meetkit_error, out: *mut c_char) {
    assert_ne!(status, meetkit_status::MEETKIT_PANIC, "a C function panicked");
    if status == meetkit_status::MEETKIT_OK {
        assert!(err.is_null());
    } else if !err.is_null() {
        let message = meetkit_error_message(err);
        assert!(!message.is_null());
        unsafe { meetkit_string_free(message) };
        assert_eq!(meetkit_error_free(err), meetkit_status::MEETKIT_OK);
    }
    unsafe { meetkit_string_free(out) };
}

/// Client options with file paths moved into the fixture's directory, so the fuzzer never
/// writes elsewhere.
fn confine(options: &[u8]) -> Vec<u8> {
    let Ok(mut value) = serde_json::from_slice::<Value>(options) else { return options.to_vec() };
    if let Value::Object(map) = &mut value {
        for (key, v) in map.iter_mut() {
            if v.is_string() {
                *v = Value::String(fixture().dir.join(format!("{key}.out")).to_string_lossy().into_owned());
            }
        }
    }
    value.to_string().into_bytes()
}

fuzz_target!(|data: &[u8]| {
    let (head, json) = meetkit_fuzz::line(data);
    let head = String::from_utf8_lossy(head);
    let mut words = head.split(' ');
    // An unknown function name picks one by the line's length, so mutated names still call one.
    let function = words.next().filter(|f| FUNCTIONS.contains(f)).unwrap_or(FUNCTIONS[head.len() % FUNCTIONS.len()]);
    let vendor = words.next().and_then(|v| v.parse().ok()).unwrap_or(Vendor::ALL[head.len() % Vendor::ALL.len()]);
    let table = meetkit::vendors::endpoints(vendor);
    let endpoint =
        words.next().and_then(|id| table.iter().find(|e| e.id == id)).unwrap_or(&table[json.len() % table.len()]);
    // Interior NULs end the C string where C would.
    let text = |bytes: &[u8]| CString::new(bytes.split(|&b| b == 0).next().unwrap_or_default().to_vec()).unwrap();
    let fx = fixture();
    let client = fx.client as *const meetkit_client;
    let vendor_c = CString::new(vendor.as_str()).unwrap();
    let mut err: *mut meetkit_error = ptr::null_mut();
    let mut out: *mut c_char = ptr::null_mut();
    match function {
        "client_new" => {
            let mut c = ptr::null_mut();
            let status = unsafe { meetkit_client_new(text(json).as_ptr(), &mut c, &mut err) };
            assert_eq!(meetkit_client_free(c), meetkit_status::MEETKIT_OK);
            finish(status, err, out);
        }
        "client_options" => {
            let profile = CString::new(profile().to_string()).unwrap();
            let options = text(&confine(json));
            let mut c = ptr::null_mut();
            let status =
                unsafe { meetkit_client_new_with_options(profile.as_ptr(), options.as_ptr(), &mut c, &mut err) };
            assert_eq!(meetkit_client_free(c), meetkit_status::MEETKIT_OK);
            finish(status, err, out);
        }
        "call" => {
            let id = CString::new(endpoint.id).unwrap();
            let status = unsafe {
                meetkit_call(client, vendor_c.as_ptr(), id.as_ptr(), text(json).as_ptr(), 5000, &mut out, &mut err)
            };
            finish(status, err, out);
        }
        "create_room" | "schedule" => {
            let mut meeting = ptr::null_mut();
            let status = unsafe { meetkit_meeting_new(client, vendor_c.as_ptr(), &mut meeting, ptr::null_mut()) };
            assert_eq!(status, meetkit_status::MEETKIT_OK);
            let status = unsafe {
                if function == "create_room" {
                    meetkit_meeting_create_room(meeting, text(json).as_ptr(), 5000, &mut out, &mut err)
                } else {
                    meetkit_meeting_schedule(meeting, text(json).as_ptr(), 5000, &mut out, &mut err)
                }
            };
            finish(status, err, out);
            assert_eq!(meetkit_meeting_free(meeting), meetkit_status::MEETKIT_OK);
        }
        "script" => {
            let status = unsafe {
                meetkit_run_script(
                    client,
                    fx.script.as_ptr(),
                    text(json).as_ptr(),
                    ptr::null(),
                    5000,
                    &mut out,
                    &mut err,
                )
            };
            if status == meetkit_status::MEETKIT_OK {
                assert_eq!(unsafe { CStr::from_ptr(out) }.to_str(), Ok("42"));
            }
            finish(status, err, out);
        }
        "sim_start" => {
            let options = match serde_json::from_slice::<Value>(json) {
                Ok(Value::Object(mut map)) => {
                    map.remove("host");
                    map.remove("port_base");
                    Value::Object(map).to_string().into_bytes()
                }
                _ => json.to_vec(),
            };
            let mut sim = ptr::null_mut();
            let status = unsafe { meetkit_sim_start(text(&options).as_ptr(), &mut sim, &mut err) };
            assert_eq!(meetkit_sim_free(sim), meetkit_status::MEETKIT_OK);
            finish(status, err, out);
        }
        _ => unreachable!("one of FUNCTIONS"),
    }
});
