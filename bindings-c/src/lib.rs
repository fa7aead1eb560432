//! `libmeetkit`: the C library of meetkit.
//!
//! A thin layer over `meetkit-core` (and `meetkit-sim` for the simulator): every exported
//! function checks its arguments, looks its handles up in a registry of live handles, runs
//! the core inside a panic boundary, and turns the outcome into a [`meetkit_status`] plus an
//! optional [`meetkit_error`]. No vendor logic lives here.
//!
//! The header `include/meetkit.h` is generated from this crate by cbindgen (the `///`
//! comments below become its documentation); `tests/header.rs` checks it is up to date.
//! Conventions (ownership, errors, threads, callbacks) are in the crate's README.
//!
//! Cargo features add functions (see Cargo.toml): `sim` (`meetkit_sim_*`), `script`
//! (`meetkit_run_script*`, `meetkit_cancel_token_*`), `webhook` (NetEase events), `journal` (the `journal` client option).
//! A function of a feature that is off is not in the library, and the header declares it only
//! under `#if defined(MEETKIT_FEATURE_<NAME>)` (cbindgen.toml's `[defines]`).

#![allow(non_camel_case_types)]

mod boundary;
#[cfg(feature = "script")]
mod cancel;

/// Counts each script run's allocations, for the scripts' memory budget (without scripts the
/// program's allocator is left alone).
#[cfg(feature = "script")]
#[global_allocator]
static ALLOC: meetkit::memory::CountingAlloc = meetkit::memory::CountingAlloc;
mod client;
mod error;
mod events;
mod handles;
mod meeting;
mod runtime;
#[cfg(feature = "sim")]
mod sim;
mod strings;

#[cfg(feature = "script")]
pub use cancel::*;
pub use client::*;
pub use error::*;
pub use events::*;
pub use meeting::*;
#[cfg(feature = "sim")]
pub use sim::*;
pub use strings::*;

/// What a function did. `MEETKIT_OK` (0) is success; every other value is a failure, and
/// the function's `meetkit_error **err` argument (when not NULL) receives the details.
///
/// Values 1 to 14 are the kinds of error the meetkit core reports (the same kinds as the
/// CLI's exit codes and the Rhai error maps' `kind`); values from 100 on are failures of
/// the C call itself.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(clippy::upper_case_acronyms)]
pub enum meetkit_status {
    /// Success.
    MEETKIT_OK = 0,
    /// A profile or setting is missing or malformed (also: a vendor without events was
    /// asked for events, a JSON argument of the wrong shape for a profile or options).
    MEETKIT_CONFIG = 1,
    /// The endpoint id is not in the vendor's table; the message suggests the closest ids.
    MEETKIT_UNKNOWN_ENDPOINT = 2,
    /// Parameters failed validation before anything was sent; the message names the parameter.
    MEETKIT_INVALID_PARAMS = 3,
    /// The request could not be delivered or its response could not be read.
    MEETKIT_TRANSPORT = 4,
    /// No answer in time (the transport's timeout or the call's `timeout_ms`).
    MEETKIT_TIMEOUT = 5,
    /// The server answered with an HTTP status that carries no vendor envelope;
    /// `meetkit_error_vendor_code` gives the status.
    MEETKIT_HTTP = 6,
    /// The vendor answered with an error; `meetkit_error_vendor_code` gives its code (`"40005"`).
    MEETKIT_API = 7,
    /// Credentials were refused, or the session could not be (re)established.
    MEETKIT_AUTH = 8,
    /// The response was not in any shape the vendor documents.
    MEETKIT_DECODE = 9,
    /// A script failed (syntax, runtime, limits, its time limit, `fail()`).
    MEETKIT_SCRIPT = 10,
    /// The operation was cancelled (a progress callback returned false).
    MEETKIT_CANCELLED = 11,
    /// A downloaded file did not match its expected size or checksum.
    MEETKIT_INTEGRITY = 12,
    /// A local file operation failed.
    MEETKIT_IO = 13,
    /// The unified meeting API cannot do this verb on this vendor (nothing was sent).
    MEETKIT_UNSUPPORTED = 14,
    /// A request that changes something (a create, a start) was sent but its answer was
    /// lost: the server may have done it. meetkit never resends it; look the object up
    /// before trying again.
    MEETKIT_OUTCOME_UNKNOWN = 15,
    /// A script used more heap memory than its budget (`"max_memory"` of
    /// `meetkit_run_script_with_options`, default 512 MiB); its `on_exit` blocks still ran.
    MEETKIT_MEMORY_LIMIT = 16,
    /// A required pointer argument was NULL.
    MEETKIT_NULL_ARGUMENT = 100,
    /// A string argument was not valid UTF-8.
    MEETKIT_INVALID_UTF8 = 101,
    /// A JSON argument was not valid JSON text.
    MEETKIT_INVALID_JSON = 102,
    /// A handle was not NULL but not live: already freed, never returned by meetkit, or of
    /// another type (a `meetkit_sim *` passed as a `meetkit_client *`).
    MEETKIT_INVALID_HANDLE = 103,
    /// meetkit panicked (a bug in meetkit); the call was abandoned safely.
    MEETKIT_PANIC = 104,
    /// An error kind this build of the C library does not know (a newer core).
    MEETKIT_OTHER = 105,
}
