//! `meetkit::Error` → the exception classes of `meetkit.errors`.
//!
//! The classes are defined once, in Python (`python/meetkit/errors.py`, so that
//! `TimeoutError` can also subclass the builtin one); this module looks them up once and
//! fills their attributes. The message of every exception is the error's `Display` text,
//! exactly what the CLI prints.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};

use meetkit::Error;

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The Python exception for a meetkit error (needs the GIL; see [`py_err_attached`]).
pub(crate) fn py_err(py: Python<'_>, error: Error) -> PyErr {
    match build(py, &error) {
        Ok(err) => err,
        Err(lookup_failed) => lookup_failed,
    }
}

/// [`py_err`] from any thread, attaching to the interpreter for the conversion.
pub(crate) fn py_err_attached(error: Error) -> PyErr {
    Python::attach(|py| py_err(py, error))
}

/// The exception class of an error kind ([`Error::kind`]).
fn class_of_kind(kind: &str) -> &'static str {
    match kind {
        "config" => "ConfigError",
        "unknown_endpoint" => "UnknownEndpoint",
        "invalid_params" => "InvalidParams",
        "transport" => "TransportError",
        "timeout" => "TimeoutError",
        "outcome_unknown" => "OutcomeUnknownError",
        "http" => "HttpError",
        "api" => "ApiError",
        "auth" => "AuthError",
        "decode" => "DecodeError",
        "script" => "ScriptError",
        "time_limit" => "ScriptTimeoutError",
        "memory_limit" => "ScriptMemoryError",
        "cancelled" => "CancelledError",
        "integrity" => "IntegrityError",
        "unsupported" => "Unsupported",
        "io" => "IoError",
        _ => "MeetkitError",
    }
}

fn build(py: Python<'_>, error: &Error) -> PyResult<PyErr> {
    let module = ERRORS.get_or_try_init(py, || py.import("meetkit.errors").map(Bound::unbind))?.bind(py);
    let attrs = PyDict::new(py);
    attrs.set_item("kind", error.kind())?;
    attrs.set_item("retryable", error.is_retryable())?;
    attrs.set_item("vendor", error.vendor().map(|v| v.as_str()))?;
    attrs.set_item("endpoint", error.endpoint())?;
    let class = match error {
        Error::Config { .. } => "ConfigError",
        Error::UnknownEndpoint { suggestions, .. } => {
            attrs.set_item("suggestions", suggestions.clone())?;
            "UnknownEndpoint"
        }
        Error::InvalidParams { param, reason, .. } => {
            attrs.set_item("param", param)?;
            attrs.set_item("reason", reason)?;
            "InvalidParams"
        }
        Error::Transport { before_send, .. } => {
            attrs.set_item("before_send", *before_send)?;
            "TransportError"
        }
        Error::OutcomeUnknown { message, .. } => {
            attrs.set_item("message", message)?;
            "OutcomeUnknownError"
        }
        Error::Timeout { after, .. } => {
            attrs.set_item("after", after.as_secs_f64())?;
            "TimeoutError"
        }
        Error::NotReady { after, waiting_for, .. } => {
            attrs.set_item("after", after.as_secs_f64())?;
            attrs.set_item("message", waiting_for)?;
            "TimeoutError"
        }
        Error::Http { status, body, .. } => {
            attrs.set_item("status", *status)?;
            attrs.set_item("code", status.to_string())?;
            attrs.set_item("message", body)?;
            "HttpError"
        }
        Error::Api { code, message, meaning, request_id, .. } => {
            attrs.set_item("code", code)?;
            attrs.set_item("message", message)?;
            attrs.set_item("meaning", *meaning)?;
            attrs.set_item("request_id", request_id)?;
            "ApiError"
        }
        Error::Auth { message, .. } => {
            attrs.set_item("message", message)?;
            "AuthError"
        }
        Error::Decode { .. } => "DecodeError",
        Error::Script { message, file, line, column } => {
            attrs.set_item("message", message)?;
            attrs.set_item("file", file)?;
            attrs.set_item("line", *line)?;
            attrs.set_item("column", *column)?;
            "ScriptError"
        }
        Error::Cancelled { reason } => {
            attrs.set_item("reason", reason)?;
            "CancelledError"
        }
        Error::Integrity { path, what, expected, actual } => {
            attrs.set_item("path", path)?;
            attrs.set_item("what", *what)?;
            attrs.set_item("expected", expected)?;
            attrs.set_item("actual", actual)?;
            "IntegrityError"
        }
        Error::Io { path, source } => {
            attrs.set_item("path", path)?;
            attrs.set_item("errno", source.raw_os_error())?;
            "IoError"
        }
        Error::Unsupported { verb, hint, .. } => {
            attrs.set_item("verb", *verb)?;
            attrs.set_item("hint", hint)?;
            "Unsupported"
        }
        Error::Uncaught(u) => {
            // A script did not catch this error: the class of the error it carries, with the
            // script position as well.
            attrs.set_item("code", &u.vendor_code)?;
            attrs.set_item("message", &u.detail)?;
            attrs.set_item("file", &u.file)?;
            attrs.set_item("line", u.line)?;
            attrs.set_item("column", u.column)?;
            class_of_kind(u.kind)
        }
        Error::Download(d) => {
            // A failed download: the class of its kind, with that class's attributes.
            match d.kind {
                "invalid_params" => {
                    attrs.set_item("param", &d.param)?;
                    attrs.set_item("reason", &d.message)?;
                }
                "http" => {
                    attrs.set_item("status", d.status)?;
                    attrs.set_item("code", d.status.map(|s| s.to_string()))?;
                    attrs.set_item("message", &d.message)?;
                }
                "timeout" => attrs.set_item("after", d.after.map(|a| a.as_secs_f64()))?,
                "transport" => attrs.set_item("before_send", false)?,
                _ => {}
            }
            class_of_kind(d.kind)
        }
        Error::TimeLimit { limit, file, line, column } => {
            attrs.set_item("after", limit.as_secs_f64())?;
            attrs.set_item("file", file)?;
            attrs.set_item("line", *line)?;
            attrs.set_item("column", *column)?;
            "ScriptTimeoutError"
        }
        Error::MemoryLimit { limit, used, file, line, column } => {
            attrs.set_item("limit", *limit)?;
            attrs.set_item("used", *used)?;
            attrs.set_item("file", file)?;
            attrs.set_item("line", *line)?;
            attrs.set_item("column", *column)?;
            "ScriptMemoryError"
        }
        // A variant newer than this binding: still a MeetkitError with the right text.
        _ => "MeetkitError",
    };
    let exc = module.getattr(class)?.call1((error.to_string(),))?;
    for (name, value) in attrs.iter() {
        exc.setattr(name.cast::<pyo3::types::PyString>()?, value)?;
    }
    Ok(PyErr::from_value(exc))
}
