//! `meetkit_cancel_token`: stops a script run from another thread.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::boundary::{guard, guard_or, out_arg, Failure};
use crate::error::meetkit_error;
use crate::handles::{self, Object};
use crate::meetkit_status;

/// A switch that stops script runs from another thread (opaque). Created by
/// `meetkit_cancel_token_new`, owned by the caller, freed with `meetkit_cancel_token_free`;
/// passed to `meetkit_run_script_cancellable`. Thread-safe. Once cancelled it stays so.
pub struct meetkit_cancel_token {
    _opaque: [u8; 0],
}

/// What a `meetkit_cancel_token` handle stands for.
pub(crate) struct CancelObject {
    token: CancellationToken,
}

const TYPE: &str = "meetkit_cancel_token";

/// The token behind a handle.
pub(crate) fn token_of(cancel: *const meetkit_cancel_token) -> Result<CancellationToken, Failure> {
    match handles::get(cancel as usize, TYPE)? {
        Object::CancelToken(c) => Ok(c.token.clone()),
        _ => unreachable!("handles::get checks the type"),
    }
}

/// Creates a cancel token, not cancelled.
///
/// On success `*out` receives the new token, owned by the caller (free it with
/// `meetkit_cancel_token_free`). Errors: `MEETKIT_NULL_ARGUMENT` when `out` is NULL.
///
/// # Safety
/// `out` and `err` are NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_cancel_token_new(
    out: *mut *mut meetkit_cancel_token,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard(err, || {
            out_arg(out, "out")?;
            let object = CancelObject { token: CancellationToken::new() };
            *out = handles::insert(Object::CancelToken(Arc::new(object))) as *mut meetkit_cancel_token;
            Ok(())
        })
    }
}

/// Cancels every run given this token, now or as soon as it starts: the script stops, its
/// `on_exit` blocks run (within their limit), and the run returns `MEETKIT_CANCELLED`. Any
/// thread may call it, but not a signal handler (it takes a lock): from a handler, set a flag
/// that a thread of yours turns into this call. Returns `MEETKIT_INVALID_HANDLE` for a freed
/// or unknown handle, `MEETKIT_NULL_ARGUMENT` for NULL.
#[no_mangle]
pub extern "C" fn meetkit_cancel_token_cancel(cancel: *const meetkit_cancel_token) -> meetkit_status {
    guard_or(meetkit_status::MEETKIT_PANIC, || match token_of(cancel) {
        Ok(token) => {
            token.cancel();
            meetkit_status::MEETKIT_OK
        }
        Err(f) => f.status(),
    })
}

/// True once `meetkit_cancel_token_cancel` was called on it; false for a NULL, freed or
/// unknown handle.
#[no_mangle]
pub extern "C" fn meetkit_cancel_token_is_cancelled(cancel: *const meetkit_cancel_token) -> bool {
    guard_or(false, || token_of(cancel).is_ok_and(|t| t.is_cancelled()))
}

/// Frees a cancel token; runs that were given it go on (they can no longer be cancelled
/// through it). NULL is accepted (`MEETKIT_OK`); a freed or unknown handle returns
/// `MEETKIT_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn meetkit_cancel_token_free(cancel: *mut meetkit_cancel_token) -> meetkit_status {
    guard_or(meetkit_status::MEETKIT_PANIC, || {
        if cancel.is_null() {
            return meetkit_status::MEETKIT_OK;
        }
        handles::remove(cancel as usize, TYPE).map_or_else(|f| f.status(), |_| meetkit_status::MEETKIT_OK)
    })
}
