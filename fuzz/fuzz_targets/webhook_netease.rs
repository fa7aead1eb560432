//! The NetEase callback receiver: header and signature checks, the CurTime window, the body
//! parse and the de-duplication, through its axum router as NetEase would call it.
//!
//! Input: `[flags][nonce]\n[curTime]\n[body...]`. Flag bit 0 signs the request correctly
//! (else the CheckSum is the fuzzer's nonce line reused), bit 1 sends a wrong AppKey, bit 2
//! leaves out the CheckSum header, bit 3 posts the same request twice. An empty curTime
//! line means the receiver's "now".
#![no_main]
use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

use axum::body::Body;
use http::{Request, StatusCode};
use libfuzzer_sys::fuzz_target;
use meetkit::secret::Secret;
use meetkit::vendors::netease::sign;
use meetkit::vendors::netease::{CallbackClock, CallbackConfig, CallbackReceiver};
use tower::ServiceExt;

const NOW_MS: u64 = 1_700_000_000_000;
const SECRET: &str = "fuzz-secret";

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime"))
}

fn lines(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let (nonce, rest) = lines(rest);
    let (cur_time, body) = lines(rest);
    let cur_time = if cur_time.is_empty() { NOW_MS.to_string().into_bytes() } else { cur_time.to_vec() };

    let mut config = CallbackConfig::new("fuzz-key", Secret::new(SECRET));
    config.clock = CallbackClock::from_fn(|| UNIX_EPOCH + Duration::from_millis(NOW_MS));
    config.buffer = 4;
    config.handoff_timeout = Duration::from_millis(1);
    let receiver = CallbackReceiver::new(config);
    let router = receiver.router("/cb");

    let checksum = if flags & 1 == 1 {
        sign::callback_checksum(SECRET, &String::from_utf8_lossy(nonce), &String::from_utf8_lossy(&cur_time), body)
            .into_bytes()
    } else {
        nonce.to_vec()
    };
    let app_key: &[u8] = if flags & 2 == 2 { b"other-key" } else { b"fuzz-key" };
    let mut request = Request::post("/cb");
    for (name, value) in [("AppKey", app_key), ("Nonce", nonce), ("CurTime", &cur_time), ("CheckSum", &checksum)] {
        if name == "CheckSum" && flags & 4 == 4 {
            continue;
        }
        if let Ok(value) = http::HeaderValue::from_bytes(value) {
            request = request.header(name, value);
        }
    }
    let Ok(request) = request.body(Body::from(body.to_vec())) else { return };
    let (parts, body) = request.into_parts();
    let body = runtime().block_on(axum::body::to_bytes(body, usize::MAX)).expect("an in-memory body");
    let times = if flags & 8 == 8 { 2 } else { 1 };
    for _ in 0..times {
        let mut again = Request::from_parts(parts.clone(), Body::from(body.clone()));
        *again.headers_mut() = parts.headers.clone();
        let answer = runtime().block_on(router.clone().oneshot(again)).expect("the router answers");
        let status = answer.status();
        assert!(
            [StatusCode::OK, StatusCode::BAD_REQUEST, StatusCode::UNAUTHORIZED, StatusCode::SERVICE_UNAVAILABLE]
                .contains(&status),
            "unexpected status {status}"
        );
        if flags & 7 != 1 {
            assert_ne!(status, StatusCode::OK, "an unsigned or misaddressed callback was accepted");
        }
    }
    let _ = receiver.stats();
});
