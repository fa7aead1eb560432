//! The one error type of meetkit.
//!
//! Every failure a user can see is an [`Error`]. Each variant has a stable
//! machine-readable [`Error::kind`] (used by the CLI's exit codes, the Rhai error
//! maps, the Python exception classes and the C status enum) and answers
//! [`Error::is_retryable`]. No variant ever carries a secret: messages are built
//! from parameter *names*, vendor codes and vendor messages, never from
//! credentials or tokens.

use std::path::PathBuf;
use std::time::Duration;

use crate::Vendor;

/// Result alias used across meetkit.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in meetkit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A profile or setting is missing or malformed (config file, environment variable).
    #[error("configuration error: {message}")]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },

    /// The endpoint id is not in the vendor's endpoint table.
    #[error("{vendor}: unknown endpoint `{endpoint}`{}", suggest(.suggestions))]
    UnknownEndpoint {
        /// The vendor that was asked.
        vendor: Vendor,
        /// The id that was given.
        endpoint: String,
        /// The closest known ids, best first.
        suggestions: Vec<&'static str>,
    },

    /// Parameters failed validation before anything was sent.
    #[error("{vendor} {endpoint}: invalid parameter `{param}`: {reason}")]
    InvalidParams {
        /// The vendor.
        vendor: Vendor,
        /// The endpoint id.
        endpoint: String,
        /// The parameter at fault (a dotted path for nested parameters).
        param: String,
        /// What is wrong and what is expected.
        reason: String,
    },

    /// The request could not be delivered or its response could not be read
    /// (DNS, connection refused/reset, TLS, body cut off).
    #[error("{vendor} {endpoint}: transport error: {message}")]
    Transport {
        /// The vendor.
        vendor: Vendor,
        /// The endpoint id (or `download`).
        endpoint: String,
        /// The underlying cause, without URLs' query strings.
        message: String,
        /// True when the failure happened before the request reached the server
        /// (so resending cannot duplicate an action).
        before_send: bool,
    },

    /// A request that changes something (a create, a start) was sent, but its answer was lost
    /// (connection reset mid-way, no answer in time): the server may have done it. Never
    /// retried by meetkit; look the object up before trying again.
    #[error("{vendor} {endpoint}: outcome unknown: sent; the server may have done it ({message})")]
    OutcomeUnknown {
        /// The vendor.
        vendor: Vendor,
        /// The endpoint id.
        endpoint: String,
        /// What happened to the answer.
        message: String,
    },

    /// No answer within the configured time.
    #[error("{vendor} {endpoint}: timed out after {}", humantime(*.after))]
    Timeout {
        /// The vendor.
        vendor: Vendor,
        /// The endpoint id.
        endpoint: String,
        /// The limit that was hit.
        after: Duration,
    },

    /// Something a vendor publishes later did not appear within the time allowed (NetEase's
    /// recordings, listed only after a meeting ends, which `download_recordings` waits for).
    /// Nothing was downloaded. Its [`Error::code`] is `timeout`.
    #[error("{vendor} {endpoint}: timed out after {} waiting for {waiting_for}", humantime(*.after))]
    NotReady {
        /// The vendor.
        vendor: Vendor,
        /// The endpoint that was polled.
        endpoint: String,
        /// The limit that was hit.
        after: Duration,
        /// What was still missing, for which room, and what to do.
        waiting_for: String,
    },

    /// The server answered with an HTTP status that carries no vendor envelope.
    #[error("{vendor} {endpoint}: HTTP {status}{}", body_suffix(.body))]
    Http {
        /// The vendor.
        vendor: Vendor,
        /// The endpoint id.
        endpoint: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the response body (at most 200 characters), for diagnosis.
        body: String,
    },

    /// The vendor answered with an error in its envelope.
    #[error("{vendor} {endpoint}: error {code}: {message}{}", meaning_suffix(.meaning, .message))]
    Api {
        /// The vendor.
        vendor: Vendor,
        /// The endpoint id.
        endpoint: String,
        /// The vendor's error code, as text (`"40005"`, `"200001"`).
        code: String,
        /// The vendor's message, as sent.
        message: String,
        /// The documented meaning of `code`, when the vendor documents it.
        meaning: Option<&'static str>,
        /// The vendor's request id, when it sends one (for support tickets).
        request_id: Option<String>,
        /// Whether `code` reports a passing server-side condition (busy, rate limited, internal
        /// error) that may succeed when tried again later: decided by the vendor module that
        /// decoded the envelope, from the codes it documents as such ([`Error::is_retryable`]).
        retryable: bool,
    },

    /// Credentials were refused, or the session could not be (re)established.
    #[error("{vendor}: authentication failed: {message}")]
    Auth {
        /// The vendor.
        vendor: Vendor,
        /// What the server said (vendor code and message), never the credentials.
        message: String,
    },

    /// The response was not in any shape the vendor documents.
    #[error("{vendor} {endpoint}: cannot decode response: {message}")]
    Decode {
        /// The vendor.
        vendor: Vendor,
        /// The endpoint id.
        endpoint: String,
        /// What was wrong.
        message: String,
    },

    /// A Rhai script failed (syntax, runtime, limits, `fail()`).
    #[error("{}", script_message(.message, .file, *.line, *.column))]
    Script {
        /// What went wrong.
        message: String,
        /// The script file, when known.
        file: Option<String>,
        /// 1-based line, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
    },

    /// A meetkit error that a script raised and did not catch. It keeps the original
    /// error's kind (so the CLI's exit code, Python's exception class and C's status keep
    /// their category: an uncaught vendor error is still `api`, bad credentials still
    /// `auth`) and adds where the script was.
    #[error("{}", script_message(&.0.detail, &.0.file, .0.line, .0.column))]
    Uncaught(Box<Uncaught>),

    /// A script ran past its wall-clock limit (`meetkit run --timeout`); its `on_exit`
    /// blocks still ran.
    #[error("{}", script_message(&format!("script stopped: time limit of {}s reached (--timeout)", .limit.as_secs_f64()), .file, *.line, *.column))]
    TimeLimit {
        /// The limit that was reached.
        limit: Duration,
        /// The script file, when known.
        file: Option<String>,
        /// 1-based line, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
    },

    /// A script used more heap memory than its budget (`meetkit run --max-memory`); it was
    /// stopped and its `on_exit` blocks still ran.
    #[error("{}", script_message(&format!("script stopped: memory budget of {} exceeded ({} in use; --max-memory)", crate::memory::human(*.limit), crate::memory::human(*.used)), .file, *.line, *.column))]
    MemoryLimit {
        /// The budget in bytes.
        limit: u64,
        /// What the script was using when it was stopped, in bytes.
        used: u64,
        /// The script file, when known.
        file: Option<String>,
        /// 1-based line, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
    },

    /// The operation was cancelled (Ctrl-C, a progress callback, a script's wall-clock limit).
    #[error("cancelled: {reason}")]
    Cancelled {
        /// Why.
        reason: String,
    },

    /// A downloaded file did not match its expected size or checksum.
    #[error("integrity check failed for {}: expected {what} {expected}, got {actual}", .path.display())]
    Integrity {
        /// The final path the file would have had (nothing is left there).
        path: PathBuf,
        /// `size` or `md5`.
        what: &'static str,
        /// What was expected.
        expected: String,
        /// What arrived.
        actual: String,
    },

    /// The unified meeting API cannot do this verb on this vendor (nothing was sent).
    #[error("{vendor} cannot `{verb}` through the unified meeting API: {hint}")]
    Unsupported {
        /// The vendor.
        vendor: Vendor,
        /// The verb (`start_live`, ...).
        verb: &'static str,
        /// The nearest vendor-specific way, naming its endpoint.
        hint: String,
    },

    /// A download (a recording's or file's URL) failed before its bytes could be checked: the
    /// URL or the target directory was refused, or the transfer failed (HTTP status, transport,
    /// stall). Its [`Error::kind`] is the kind it carries (`invalid_params`, `http`, `transport`,
    /// `timeout`), so exit codes and exception classes are those of the same failure of a call;
    /// the endpoint is `download` and the vendor is the one whose listing gave the URL (none for
    /// a bare URL).
    #[error("{0}")]
    Download(Box<DownloadError>),

    /// A local file operation failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// The details of an [`Error::Uncaught`]: the error a script did not catch, and where.
#[derive(Debug, Clone)]
pub struct Uncaught {
    /// The original error's [`Error::kind`] (`api`, `auth`, `transport`, ...).
    pub kind: &'static str,
    /// The vendor involved, if any.
    pub vendor: Option<Vendor>,
    /// The endpoint involved, if any.
    pub endpoint: Option<String>,
    /// The vendor's own code (or HTTP status), if any.
    pub vendor_code: Option<String>,
    /// Whether the original error was retryable.
    pub retryable: bool,
    /// The original error's text.
    pub detail: String,
    /// The script file, when known.
    pub file: Option<String>,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
}

/// The details of an [`Error::Download`].
#[derive(Debug, Clone)]
pub struct DownloadError {
    /// `invalid_params`, `http`, `transport` or `timeout` (see [`DownloadError::KINDS`]).
    pub kind: &'static str,
    /// The vendor whose listing gave the URL; `None` for a bare URL.
    pub vendor: Option<Vendor>,
    /// The URL (credentials and secret-looking query values removed), or the path refused.
    pub target: String,
    /// The parameter at fault (`url`, `file_name`, `subdir`, ...), for `invalid_params`.
    pub param: Option<String>,
    /// The HTTP status, for `http`.
    pub status: Option<u16>,
    /// For `timeout`: the limit that was hit.
    pub after: Option<Duration>,
    /// What went wrong (for `http`: the start of the response body).
    pub message: String,
}

impl DownloadError {
    /// The kinds a download error can have.
    pub const KINDS: [&'static str; 4] = ["invalid_params", "http", "transport", "timeout"];

    fn retryable(&self) -> bool {
        match self.kind {
            "transport" | "timeout" => true,
            "http" => self.status.is_some_and(|s| s >= 500 || s == 429 || s == 408),
            _ => false,
        }
    }
}

impl std::fmt::Display for DownloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(vendor) = self.vendor {
            write!(f, "{vendor} ")?;
        }
        write!(f, "download {}: ", self.target)?;
        match (self.kind, &self.param, self.status, self.after) {
            ("invalid_params", Some(param), _, _) => write!(f, "invalid parameter `{param}`: {}", self.message),
            ("http", _, Some(status), _) => write!(f, "HTTP {status}{}", body_suffix(&self.message)),
            ("timeout", _, _, Some(after)) => write!(f, "timed out: {} ({})", self.message, humantime(after)),
            ("transport", ..) => write!(f, "transport error: {}", self.message),
            _ => write!(f, "{}", self.message),
        }
    }
}

fn suggest(s: &[&'static str]) -> String {
    if s.is_empty() {
        " (run `meetkit endpoints <vendor>` for the list)".to_string()
    } else {
        format!("; did you mean {}?", s.iter().map(|x| format!("`{x}`")).collect::<Vec<_>>().join(", "))
    }
}

fn humantime(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

fn body_suffix(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

fn meaning_suffix(meaning: &Option<&'static str>, message: &str) -> String {
    match meaning {
        Some(m) if !m.eq_ignore_ascii_case(message) => format!(" ({m})"),
        _ => String::new(),
    }
}

fn script_message(message: &str, file: &Option<String>, line: Option<usize>, column: Option<usize>) -> String {
    match (file, line, column) {
        (Some(f), Some(l), Some(c)) => format!("{f}:{l}:{c}: {message}"),
        (Some(f), Some(l), None) => format!("{f}:{l}: {message}"),
        (Some(f), None, _) => format!("{f}: {message}"),
        (None, Some(l), Some(c)) => format!("line {l}, column {c}: {message}"),
        _ => message.to_string(),
    }
}

impl Error {
    /// This error with every value meetkit knows to be secret (a profile's keys, passwords and
    /// PINs, redacted result fields; see [`crate::secret::remember`]) replaced by `***` in its
    /// text. [`crate::Client::call`] returns its errors through this.
    pub fn redact_known(self) -> Error {
        fn r(text: &mut String) {
            if let std::borrow::Cow::Owned(redacted) = crate::secret::redact_known(text) {
                *text = redacted;
            }
        }
        let mut e = self;
        match &mut e {
            Error::Config { message }
            | Error::Transport { message, .. }
            | Error::OutcomeUnknown { message, .. }
            | Error::Api { message, .. }
            | Error::Auth { message, .. }
            | Error::Decode { message, .. }
            | Error::Script { message, .. } => r(message),
            Error::InvalidParams { reason, .. } => r(reason),
            Error::Http { body, .. } => r(body),
            Error::Uncaught(u) => r(&mut u.detail),
            Error::Cancelled { reason } => r(reason),
            Error::Unsupported { hint, .. } => r(hint),
            _ => {}
        }
        e
    }

    /// A stable machine-readable name of the variant: `config`, `unknown_endpoint`,
    /// `invalid_params`, `transport`, `timeout`, `outcome_unknown`, `http`, `api`, `auth`, `decode`,
    /// `script`, `time_limit`, `memory_limit`, `cancelled`, `integrity`, `unsupported`, `io` (all in
    /// [`Error::KINDS`]). An [`Error::Uncaught`] reports the kind of the error it carries.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Config { .. } => "config",
            Error::UnknownEndpoint { .. } => "unknown_endpoint",
            Error::InvalidParams { .. } => "invalid_params",
            Error::Transport { .. } => "transport",
            Error::Timeout { .. } | Error::NotReady { .. } => "timeout",
            Error::OutcomeUnknown { .. } => "outcome_unknown",
            Error::Http { .. } => "http",
            Error::Api { .. } => "api",
            Error::Auth { .. } => "auth",
            Error::Decode { .. } => "decode",
            Error::Script { .. } => "script",
            Error::Uncaught(u) => u.kind,
            Error::TimeLimit { .. } => "time_limit",
            Error::MemoryLimit { .. } => "memory_limit",
            Error::Cancelled { .. } => "cancelled",
            Error::Integrity { .. } => "integrity",
            Error::Unsupported { .. } => "unsupported",
            Error::Download(d) => d.kind,
            Error::Io { .. } => "io",
        }
    }

    /// The error as the one map every surface shows: a script's `catch` (see
    /// [`crate::script`]), `meetkit call/run --output json` on stderr, Python's `e.to_dict()`:
    /// `{kind, code, message, vendor, endpoint, retryable, detail}` (`vendor`/`endpoint` null
    /// where none applies; `code` the vendor's code, else the kind; `message` the vendor's own
    /// message for API errors; `detail` the whole sentence).
    pub fn to_json(&self) -> serde_json::Value {
        let message = match self {
            Error::Api { message, .. } => message.clone(),
            other => other.to_string(),
        };
        serde_json::json!({
            "kind": self.kind(),
            "code": self.vendor_code().unwrap_or_else(|| self.kind().to_string()),
            "message": message,
            "vendor": self.vendor().map(|v| v.as_str()),
            "endpoint": self.endpoint(),
            "retryable": self.is_retryable(),
            "detail": self.to_string(),
        })
    }

    /// Whether trying the same thing again later may succeed. This says nothing
    /// about whether a retry is *safe* (that depends on the endpoint; see
    /// [`crate::transport::RetryPolicy`]).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { .. } | Error::Timeout { .. } | Error::NotReady { .. } => true,
            Error::Http { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            // Vendors' passing server-side failures (busy, rate limited, internal errors), as
            // the vendor's envelope decoding judged them.
            Error::Api { retryable, .. } => *retryable,
            Error::Integrity { .. } => true,
            Error::Uncaught(u) => u.retryable,
            Error::Download(d) => d.retryable(),
            _ => false,
        }
    }

    /// The vendor involved, if any.
    pub fn vendor(&self) -> Option<Vendor> {
        match self {
            Error::UnknownEndpoint { vendor, .. }
            | Error::InvalidParams { vendor, .. }
            | Error::Transport { vendor, .. }
            | Error::Timeout { vendor, .. }
            | Error::NotReady { vendor, .. }
            | Error::OutcomeUnknown { vendor, .. }
            | Error::Http { vendor, .. }
            | Error::Api { vendor, .. }
            | Error::Auth { vendor, .. }
            | Error::Decode { vendor, .. }
            | Error::Unsupported { vendor, .. } => Some(*vendor),
            Error::Uncaught(u) => u.vendor,
            Error::Download(d) => d.vendor,
            _ => None,
        }
    }

    /// The endpoint id involved, if any.
    pub fn endpoint(&self) -> Option<&str> {
        match self {
            Error::UnknownEndpoint { endpoint, .. }
            | Error::InvalidParams { endpoint, .. }
            | Error::Transport { endpoint, .. }
            | Error::Timeout { endpoint, .. }
            | Error::NotReady { endpoint, .. }
            | Error::OutcomeUnknown { endpoint, .. }
            | Error::Http { endpoint, .. }
            | Error::Api { endpoint, .. }
            | Error::Decode { endpoint, .. } => Some(endpoint),
            Error::Uncaught(u) => u.endpoint.as_deref(),
            Error::Download(_) => Some("download"),
            _ => None,
        }
    }

    /// The vendor's own error code (for `Api`) or the HTTP status (for `Http`), as text.
    pub fn vendor_code(&self) -> Option<String> {
        match self {
            Error::Api { code, .. } => Some(code.clone()),
            Error::Http { status, .. } => Some(status.to_string()),
            Error::Uncaught(u) => u.vendor_code.clone(),
            Error::Download(d) => d.status.map(|s| s.to_string()),
            _ => None,
        }
    }

    /// Every value [`Error::kind`] can return.
    pub const KINDS: &'static [&'static str] = &[
        "config",
        "unknown_endpoint",
        "invalid_params",
        "transport",
        "timeout",
        "outcome_unknown",
        "http",
        "api",
        "auth",
        "decode",
        "script",
        "time_limit",
        "memory_limit",
        "cancelled",
        "integrity",
        "unsupported",
        "io",
    ];

    /// The kind named `name`, as the `'static` string [`Error::kind`] returns.
    pub fn kind_named(name: &str) -> Option<&'static str> {
        Self::KINDS.iter().copied().find(|k| *k == name)
    }

    /// Shorthand for a configuration error.
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config { message: message.into() }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

/// An error and its causes as `a: b: c`, skipping causes already quoted by their parent.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_names_vendor_endpoint_code_and_meaning() {
        let e = Error::Api {
            vendor: Vendor::Avd,
            endpoint: "room.create".into(),
            code: "40005".into(),
            message: "room_id exists".into(),
            meaning: Some("Room id already exists"),
            request_id: None,
            retryable: false,
        };
        assert_eq!(e.to_string(), "avd room.create: error 40005: room_id exists (Room id already exists)");
        assert_eq!(e.kind(), "api");
        assert!(!e.is_retryable());
    }

    #[test]
    fn an_api_error_is_retryable_when_its_envelope_said_so() {
        let api = |retryable| Error::Api {
            vendor: Vendor::Avd,
            endpoint: "x".into(),
            code: "41001".into(),
            message: String::new(),
            meaning: None,
            request_id: None,
            retryable,
        };
        assert!(api(true).is_retryable());
        assert_eq!(api(true).to_json()["retryable"], true);
        assert!(!api(false).is_retryable());
    }

    #[test]
    fn unknown_endpoint_suggests() {
        let e = Error::UnknownEndpoint {
            vendor: Vendor::Avd,
            endpoint: "room.creat".into(),
            suggestions: vec!["room.create"],
        };
        assert_eq!(e.to_string(), "avd: unknown endpoint `room.creat`; did you mean `room.create`?");
    }
}
