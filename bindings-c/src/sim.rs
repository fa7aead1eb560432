//! `meetkit_sim`: the vendor simulators, served from the library's runtime.

use std::ffi::c_char;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ::meetkit_sim::{Simulator, WiredOptions};
use meetkit::Error;

use crate::boundary::{guard, guard_or, out_arg, Failure};
use crate::error::meetkit_error;
use crate::handles::{self, Object};
use crate::meetkit_status;
use crate::runtime::{block_on, runtime};
use crate::strings::{json_arg, to_c};

/// A running set of simulated vendor servers on loopback (opaque): the same simulators as
/// `meetkit sim`. Created by `meetkit_sim_start`, owned by the caller, stopped and freed
/// with `meetkit_sim_free`.
pub struct meetkit_sim {
    _opaque: [u8; 0],
}

/// What a `meetkit_sim` handle stands for; `None` once stopped.
pub(crate) struct SimObject {
    sim: Mutex<Option<Simulator>>,
    profile: String,
}

const TYPE: &str = "meetkit_sim";

/// Starts the simulators on the library's runtime, wired to a client as `meetkit --sim` wires
/// them: NetEase callbacks go to the receiver the profile names (`netease.callback_listen`, a
/// free loopback port unless `netease.callback_listen` is given), so a client made from
/// `meetkit_sim_profile` gets them with `meetkit_events_subscribe(client, "netease", ...)`,
/// and NetEase recordings appear 3 s (virtual time) after a meeting ends.
///
/// `options_json` (NULL, `"null"` or `"{}"`: defaults) is a JSON object, every key optional:
/// - `host` (default `"127.0.0.1"`), `port_base` (default: ephemeral ports; else AVD on
///   `port_base`, the other servers on the next five ports), `strict` (default true: accept
///   only the reading of each ambiguous vendor doc line that meetkit sends), `tls` (default
///   false; true: HTTPS with a CA generated at start, named in the profile's
///   `transport.ca_cert`; NetEase callbacks stay plain HTTP)
/// - `avd`: {`access_key`, `secret_key`, `token_ttl_secs`, `invite_delay_ms` (how long a
///   called device takes to connect, default 1000), `record_bytes_per_second`,
///   `attachment_base`}
/// - `netease`: {`app_key`, `app_secret`, `callback_listen` (`"host:port"` of the client's
///   receiver), `callback_schedule_secs` (resend waits, default [2, 4, 6, 3600, 3600]),
///   `callback_time_scale`, `resign_resends`, `record_delay_secs` (default 3),
///   `max_meeting_duration_secs`, `record_bytes_per_second`}
/// - `vmr`: {`auth_key`, `token_ttl_secs`, `refresh_grace_secs`, `keepalive_interval_secs`,
///   `dial_answer_delay_ms`, `record_bytes_per_second`, `record_segment_secs`, `rooms`
///   (replaces the seeded rooms: [{`alias`, `id`, `host_pin`, `name`, `guest_pin`,
///   `allow_guest`, `allow_record`, `allow_live`, `auth`, `company_id`, `node` (0 or 1)}])}
/// - `kedacom`: {`consumer_key`, `consumer_secret`, `username`, `password`,
///   `guest_username`, `guest_password`, `token_idle_timeout_secs`, `api_level`,
///   `resources_per_size`, `platform_rtc`, `token_path`, `login_path`, `heartbeat_path`,
///   `expiry_code`}
///
/// On success `*out` receives the simulator, owned by the caller (stop and free it with
/// `meetkit_sim_free`). Errors: `MEETKIT_INVALID_UTF8`, `MEETKIT_INVALID_JSON`,
/// `MEETKIT_CONFIG` (an unknown option, a wrong type or an impossible value, named in the
/// message, e.g. `avd.token_ttl_secs = 0`; or a port cannot be bound).
///
/// # Safety
/// `options_json` is NULL or NUL-terminated; `out` and `err` are NULL or valid for writing
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_sim_start(
    options_json: *const c_char,
    out: *mut *mut meetkit_sim,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard(err, || {
            out_arg(out, "out")?;
            let value = json_arg(options_json, "options_json", true)?;
            let wired =
                WiredOptions::from_json(&value).map_err(|e| Error::config(format!("simulator options: {e}")))?;
            let start = async move {
                Simulator::start_wired(wired.options, wired.netease_listen)
                    .await
                    .map_err(|e| Error::config(format!("cannot start the simulator: {e}")))
            };
            let (sim, profile) = block_on(0, |_| unreachable!("no timeout"), start)?;
            let object = SimObject { sim: Mutex::new(Some(sim)), profile: profile.to_string() };
            *out = handles::insert(Object::Sim(Arc::new(object))) as *mut meetkit_sim;
            Ok(())
        })
    }
}

fn lookup(sim: *const meetkit_sim) -> Result<Arc<SimObject>, Failure> {
    match handles::get(sim as usize, TYPE)? {
        Object::Sim(s) => Ok(s),
        _ => unreachable!("handles::get checks the type"),
    }
}

/// The profile that connects a client to this simulator, as JSON text (the line
/// `meetkit sim` prints; pass it to `meetkit_client_new`). The caller owns the returned
/// string: free it with `meetkit_string_free`. Returns NULL when `sim` is NULL, freed or
/// unknown.
#[no_mangle]
pub extern "C" fn meetkit_sim_profile(sim: *const meetkit_sim) -> *mut c_char {
    guard_or(std::ptr::null_mut(), || lookup(sim).map_or(std::ptr::null_mut(), |s| to_c(s.profile.clone())))
}

/// Stops the simulators (open connections get up to 2 s to finish) and frees `sim`. NULL
/// is accepted (`MEETKIT_OK`); a freed or unknown handle returns `MEETKIT_INVALID_HANDLE`.
/// Free the clients that use it first, or their next calls fail with `MEETKIT_TRANSPORT`.
#[no_mangle]
pub extern "C" fn meetkit_sim_free(sim: *mut meetkit_sim) -> meetkit_status {
    guard_or(meetkit_status::MEETKIT_PANIC, || {
        if sim.is_null() {
            return meetkit_status::MEETKIT_OK;
        }
        let object = match handles::remove(sim as usize, TYPE) {
            Ok(Object::Sim(s)) => s,
            Ok(_) => unreachable!("handles::remove checks the type"),
            Err(f) => return f.status(),
        };
        let taken = object.sim.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let (Some(sim), Ok(rt)) = (taken, runtime()) {
            let stop = async move {
                let _ = tokio::time::timeout(Duration::from_secs(2), sim.shutdown()).await;
            };
            if crate::runtime::blocking(|_| rt.block_on(stop)).is_err() {
                return meetkit_status::MEETKIT_OTHER;
            }
        }
        meetkit_status::MEETKIT_OK
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    #[test]
    fn a_zero_token_lifetime_is_a_config_error_naming_the_option() {
        let options = CString::new(r#"{"avd": {"token_ttl_secs": 0}}"#).unwrap();
        let (mut sim, mut err) = (std::ptr::null_mut(), std::ptr::null_mut());
        // SAFETY: the pointers are this test's own, valid and NUL-terminated where strings; each is freed once.
        let status = unsafe { meetkit_sim_start(options.as_ptr(), &mut sim, &mut err) };
        assert_eq!(status, meetkit_status::MEETKIT_CONFIG);
        assert!(sim.is_null());
        let message = crate::error::lookup(err).unwrap().message();
        assert!(message.contains("avd.token_ttl_secs"), "{message}");
        assert_eq!(crate::error::meetkit_error_free(err), meetkit_status::MEETKIT_OK);
    }
}
