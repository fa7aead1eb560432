//! `meetkit_error`: the details of a failed call.

use std::ffi::c_char;
use std::sync::Arc;

use crate::boundary::{guard_or, Failure};
use crate::handles::{self, Object};
use crate::meetkit_status;
use crate::strings::to_c;

/// The details of a failed call (opaque). Every function that can fail takes a
/// `meetkit_error **err` last argument: when it is not NULL, it is set to NULL on success
/// and to a new `meetkit_error` on failure, which the caller owns and frees with
/// `meetkit_error_free`. Read it with the `meetkit_error_*` functions; they may be called
/// from any thread.
pub struct meetkit_error {
    _opaque: [u8; 0],
}

const TYPE: &str = "meetkit_error";

/// Registers a failure and returns its handle.
pub(crate) fn register(failure: Failure) -> *mut meetkit_error {
    handles::insert(Object::Error(Arc::new(failure))) as *mut meetkit_error
}

/// The failure behind a handle.
pub(crate) fn lookup(err: *const meetkit_error) -> Result<Arc<Failure>, Failure> {
    match handles::get(err as usize, TYPE)? {
        Object::Error(f) => Ok(f),
        _ => unreachable!("handles::get checks the type"),
    }
}

/// The status of the failed call: a value of `meetkit_status` other than `MEETKIT_OK`.
/// Returns `MEETKIT_NULL_ARGUMENT` for NULL and `MEETKIT_INVALID_HANDLE` for a freed or
/// unknown `err`.
#[no_mangle]
pub extern "C" fn meetkit_error_status(err: *const meetkit_error) -> meetkit_status {
    guard_or(meetkit_status::MEETKIT_PANIC, || lookup(err).map_or_else(|f| f.status(), |f| f.status()))
}

/// The error message, UTF-8: the same text the `meetkit` CLI prints after `error: `
/// (e.g. `avd room.create: error 40005: room_id exists (Room id already exists)`).
/// The caller owns the returned string: free it with `meetkit_string_free`.
/// Returns NULL when `err` is NULL, freed or unknown.
#[no_mangle]
pub extern "C" fn meetkit_error_message(err: *const meetkit_error) -> *mut c_char {
    guard_or(std::ptr::null_mut(), || lookup(err).map_or(std::ptr::null_mut(), |f| to_c(f.message())))
}

/// The vendor involved (`"avd"`, `"kedacom"`, `"vmr"`, `"netease"`), or NULL when the error
/// involves no vendor (or `err` is invalid). The caller frees the string with
/// `meetkit_string_free`.
#[no_mangle]
pub extern "C" fn meetkit_error_vendor(err: *const meetkit_error) -> *mut c_char {
    core_text(err, |e| e.vendor().map(|v| v.to_string()))
}

/// The endpoint id involved (`"room.create"`, or `"download"`), or NULL when none (or `err`
/// is invalid). The caller frees the string with `meetkit_string_free`.
#[no_mangle]
pub extern "C" fn meetkit_error_endpoint(err: *const meetkit_error) -> *mut c_char {
    core_text(err, |e| e.endpoint().map(str::to_string))
}

/// The vendor's own error code as text (`"40005"`) for `MEETKIT_API`, the HTTP status
/// (`"502"`) for `MEETKIT_HTTP`, else NULL (also when `err` is invalid). The caller frees
/// the string with `meetkit_string_free`.
#[no_mangle]
pub extern "C" fn meetkit_error_vendor_code(err: *const meetkit_error) -> *mut c_char {
    core_text(err, |e| e.vendor_code())
}

/// Whether trying the same thing again later may succeed (a timeout, a 5xx, a vendor's
/// transient server error). It says nothing about whether resending is safe. False for an
/// invalid `err`.
#[no_mangle]
pub extern "C" fn meetkit_error_retryable(err: *const meetkit_error) -> bool {
    guard_or(false, || matches!(lookup(err).as_deref(), Ok(Failure::Core(e)) if e.is_retryable()))
}

/// Frees an error. NULL is accepted (`MEETKIT_OK`); a freed or unknown `err` returns
/// `MEETKIT_INVALID_HANDLE` and changes nothing.
#[no_mangle]
pub extern "C" fn meetkit_error_free(err: *mut meetkit_error) -> meetkit_status {
    guard_or(meetkit_status::MEETKIT_PANIC, || {
        if err.is_null() {
            return meetkit_status::MEETKIT_OK;
        }
        handles::remove(err as usize, TYPE).map_or_else(|f| f.status(), |_| meetkit_status::MEETKIT_OK)
    })
}

fn core_text(err: *const meetkit_error, pick: impl FnOnce(&meetkit::Error) -> Option<String>) -> *mut c_char {
    guard_or(std::ptr::null_mut(), || match lookup(err).as_deref() {
        Ok(Failure::Core(e)) => pick(e).map_or(std::ptr::null_mut(), to_c),
        _ => std::ptr::null_mut(),
    })
}
