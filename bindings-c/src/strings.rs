//! Strings across the boundary: reading C arguments, handing out owned strings.
//!
//! Every string meetkit returns is a fresh NUL-terminated UTF-8 allocation that the caller
//! frees with [`meetkit_string_free`]. meetkit remembers which strings are live so that a
//! double free (or a pointer meetkit never returned) is ignored instead of corrupting the
//! heap. The set stores each address XOR-ed with a constant, so a leak checker (valgrind)
//! does not mistake the set for a reference: a string the caller forgets to free is
//! reported as definitely lost.

use std::collections::HashSet;
use std::ffi::{c_char, CStr, CString};
use std::sync::{LazyLock, Mutex, MutexGuard};

use serde_json::Value;

use crate::boundary::{guard_or, Failure};
use crate::meetkit_status;

/// Hides live string addresses from conservative leak checkers (see the module docs).
const MASK: usize = 0x5a5a_5a5a_5a5a_5a5a_u64 as usize;

static LIVE: LazyLock<Mutex<HashSet<usize>>> = LazyLock::new(Mutex::default);

fn live() -> MutexGuard<'static, HashSet<usize>> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Hands `text` to C as an owned string (interior NULs, which JSON never has, become U+FFFD).
pub(crate) fn to_c(text: String) -> *mut c_char {
    let c = CString::new(text).unwrap_or_else(|e| {
        let cleaned = String::from_utf8_lossy(&e.into_vec()).replace('\0', "\u{FFFD}");
        CString::new(cleaned).expect("NULs replaced")
    });
    let ptr = c.into_raw();
    live().insert(ptr as usize ^ MASK);
    ptr
}

/// How many strings meetkit handed out that were not freed yet.
pub(crate) fn live_count() -> usize {
    live().len()
}

/// A required string argument as `&str`.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string valid for the duration of the call.
pub(crate) unsafe fn arg<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Failure> {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        if ptr.is_null() {
            return Err(Failure::binding(meetkit_status::MEETKIT_NULL_ARGUMENT, format!("argument `{name}` is NULL")));
        }
        CStr::from_ptr(ptr).to_str().map_err(|e| {
            Failure::binding(meetkit_status::MEETKIT_INVALID_UTF8, format!("argument `{name}` is not valid UTF-8: {e}"))
        })
    }
}

/// An optional string argument: NULL is `None`.
///
/// # Safety
/// As [`arg`].
pub(crate) unsafe fn opt_arg<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>, Failure> {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        if ptr.is_null() {
            Ok(None)
        } else {
            arg(ptr, name).map(Some)
        }
    }
}

/// A JSON text argument; NULL is JSON `null` when `optional`, else `MEETKIT_NULL_ARGUMENT`.
///
/// # Safety
/// As [`arg`].
pub(crate) unsafe fn json_arg(ptr: *const c_char, name: &str, optional: bool) -> Result<Value, Failure> {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        let text = match opt_arg(ptr, name)? {
            Some(t) => t,
            None if optional => return Ok(Value::Null),
            None => arg(ptr, name)?,
        };
        serde_json::from_str(text).map_err(|e| {
            Failure::binding(meetkit_status::MEETKIT_INVALID_JSON, format!("argument `{name}` is not valid JSON: {e}"))
        })
    }
}

/// Frees a string returned by meetkit (a `char *` out-argument or return value).
///
/// NULL is ignored. A pointer meetkit did not return, or one already freed, is ignored
/// too (meetkit keeps the set of strings it handed out), but do not rely on this: after
/// a double free the same address may belong to a newer string, which would then be freed.
///
/// # Safety
/// `s` is NULL or a string returned by meetkit.
#[no_mangle]
pub unsafe extern "C" fn meetkit_string_free(s: *mut c_char) {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard_or((), || {
            if !s.is_null() && live().remove(&(s as usize ^ MASK)) {
                drop(CString::from_raw(s));
            }
        })
    }
}

/// The number of handles (clients, simulators, subscriptions, errors) and strings meetkit
/// handed out that have not been freed yet. A program that freed everything sees 0; tests
/// use it to check for leaks.
#[no_mangle]
pub extern "C" fn meetkit_live_objects() -> u64 {
    guard_or(u64::MAX, || (crate::handles::live_count() + live_count()) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_freed_once_double_frees_are_ignored_and_nuls_replaced() {
        let s = to_c("hello".into());
        let is_live = || live().contains(&(s as usize ^ MASK));
        // SAFETY: the pointers are this test's own, valid and NUL-terminated where strings; each is freed once.
        assert_eq!(unsafe { CStr::from_ptr(s) }.to_str().unwrap(), "hello");
        assert!(is_live());
        // SAFETY: the pointers are this test's own, valid and NUL-terminated where strings; each is freed once.
        unsafe { meetkit_string_free(s) };
        assert!(!is_live());
        // Ignored: the set no longer has it (nothing else allocates here, so no reuse).
        // SAFETY: the pointers are this test's own, valid and NUL-terminated where strings; each is freed once.
        unsafe { meetkit_string_free(s) };

        // Interior NULs are replaced.
        let s = to_c("a\0b".into());
        // SAFETY: the pointers are this test's own, valid and NUL-terminated where strings; each is freed once.
        assert_eq!(unsafe { CStr::from_ptr(s) }.to_str().unwrap(), "a\u{FFFD}b");
        // SAFETY: the pointers are this test's own, valid and NUL-terminated where strings; each is freed once.
        unsafe { meetkit_string_free(s) };
    }
}
