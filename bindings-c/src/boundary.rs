//! The panic boundary and the failure type every exported function reports through.
//!
//! Every exported function's body runs inside [`guard`] (status-returning functions) or
//! [`guard_or`] (functions returning a value): a panic is caught before it can unwind
//! into C and becomes `MEETKIT_PANIC`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::meetkit_error;
use crate::meetkit_status;

/// Why a call failed: an error of the core, or of the C call itself.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The core reported it.
    Core(meetkit::Error),
    /// The C layer detected it (NULL, UTF-8, JSON, handles, panics).
    Binding { status: meetkit_status, message: String },
}

impl From<meetkit::Error> for Failure {
    fn from(e: meetkit::Error) -> Self {
        Failure::Core(e)
    }
}

impl Failure {
    /// A failure of the C call itself.
    pub(crate) fn binding(status: meetkit_status, message: impl Into<String>) -> Self {
        Failure::Binding { status, message: message.into() }
    }

    /// The status C sees.
    pub(crate) fn status(&self) -> meetkit_status {
        use meetkit_status::*;
        let e = match self {
            Failure::Binding { status, .. } => return *status,
            Failure::Core(e) => e,
        };
        // `Error` is non-exhaustive: its kinds are matched by their stable code.
        match e.kind() {
            "config" => MEETKIT_CONFIG,
            "unknown_endpoint" => MEETKIT_UNKNOWN_ENDPOINT,
            "invalid_params" => MEETKIT_INVALID_PARAMS,
            "transport" => MEETKIT_TRANSPORT,
            "outcome_unknown" => MEETKIT_OUTCOME_UNKNOWN,
            "timeout" => MEETKIT_TIMEOUT,
            "http" => MEETKIT_HTTP,
            "api" => MEETKIT_API,
            "auth" => MEETKIT_AUTH,
            "decode" => MEETKIT_DECODE,
            "script" => MEETKIT_SCRIPT,
            "time_limit" => MEETKIT_SCRIPT,
            "memory_limit" => MEETKIT_MEMORY_LIMIT,
            "cancelled" => MEETKIT_CANCELLED,
            "integrity" => MEETKIT_INTEGRITY,
            "io" => MEETKIT_IO,
            "unsupported" => MEETKIT_UNSUPPORTED,
            _ => MEETKIT_OTHER,
        }
    }

    /// The message: for core errors the same text the CLI prints after `error: `.
    pub(crate) fn message(&self) -> String {
        match self {
            Failure::Core(e) => e.to_string(),
            Failure::Binding { message, .. } => message.clone(),
        }
    }

    fn panic(payload: Box<dyn std::any::Any + Send>) -> Self {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".into());
        Failure::binding(meetkit_status::MEETKIT_PANIC, format!("meetkit panicked (a bug in meetkit): {what}"))
    }
}

/// Runs `body` behind the panic boundary. Clears `*err` first; on failure stores a new
/// `meetkit_error` there (when `err` is not NULL) and returns its status.
///
/// # Safety
/// `err` is NULL or valid for writing one pointer.
pub(crate) unsafe fn guard(err: *mut *mut meetkit_error, body: impl FnOnce() -> Result<(), Failure>) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        if !err.is_null() {
            *err = std::ptr::null_mut();
        }
        let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|p| Err(Failure::panic(p)));
        match outcome {
            Ok(()) => meetkit_status::MEETKIT_OK,
            Err(failure) => {
                let status = failure.status();
                if !err.is_null() {
                    // Registering cannot reasonably panic, but this runs outside the boundary.
                    if let Ok(handle) = catch_unwind(AssertUnwindSafe(|| crate::error::register(failure))) {
                        *err = handle;
                    }
                }
                status
            }
        }
    }
}

/// Runs `body` behind the panic boundary for functions that return a value: a panic
/// returns `fallback`.
pub(crate) fn guard_or<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// Checks an out-pointer argument and clears it, so it is NULL on any failure.
///
/// # Safety
/// `out` is NULL or valid for writing one pointer.
pub(crate) unsafe fn out_arg<T>(out: *mut *mut T, name: &str) -> Result<(), Failure> {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        if out.is_null() {
            return Err(Failure::binding(meetkit_status::MEETKIT_NULL_ARGUMENT, format!("argument `{name}` is NULL")));
        }
        *out = std::ptr::null_mut();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_meetkit_panic_with_an_error_object() {
        let mut err: *mut meetkit_error = std::ptr::null_mut();
        // SAFETY: the pointers are this test's own, valid and NUL-terminated where strings; each is freed once.
        let status = unsafe { guard(&mut err, || panic!("boom")) };
        assert_eq!(status, meetkit_status::MEETKIT_PANIC);
        assert!(!err.is_null());
        let message = crate::error::lookup(err).unwrap().message();
        assert!(message.contains("boom"), "{message}");
        assert_eq!(crate::error::meetkit_error_free(err), meetkit_status::MEETKIT_OK);
    }

    #[test]
    fn a_panic_in_a_value_function_returns_the_fallback() {
        assert_eq!(guard_or(7, || panic!("boom")), 7);
    }

    #[test]
    fn every_core_kind_has_its_own_status() {
        let e = meetkit::Error::Api {
            vendor: meetkit::Vendor::Avd,
            endpoint: "room.create".into(),
            code: "40005".into(),
            message: "exists".into(),
            meaning: None,
            request_id: None,
            retryable: false,
        };
        assert_eq!(Failure::from(e).status(), meetkit_status::MEETKIT_API);
        let e = meetkit::Error::Cancelled { reason: "x".into() };
        assert_eq!(Failure::from(e).status(), meetkit_status::MEETKIT_CANCELLED);
        assert_eq!(Failure::from(meetkit::Error::config("x")).status(), meetkit_status::MEETKIT_CONFIG);
    }
}
