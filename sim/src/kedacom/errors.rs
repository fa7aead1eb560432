//! The simulator's error codes and the error type handlers return.
//!
//! The doc has no error-code table (every failure example is empty), so
//! the codes are the simulator's own: distinct, stable integers grouped
//! by kind (10xxx auth, 20xxx parameters, 30xxx state, 40xxx files). The
//! table is repeated in the module doc of [`super`].

/// `oauth_consumer_key` / `oauth_consumer_secret` rejected.
pub(crate) const BAD_CONSUMER: i64 = 10001;
/// `account_token` missing, unknown, expired (idle timeout) or logged out.
pub(crate) const TOKEN_INVALID: i64 = 10002;
/// `username` / `password` rejected by `system/login`.
pub(crate) const LOGIN_FAILED: i64 = 10003;
/// No `SSO_COOKIE_KEY` cookie of a session logged in with this token.
pub(crate) const NOT_LOGGED_IN: i64 = 10004;
/// The logged-in account is not an administrator.
pub(crate) const NOT_ADMIN: i64 = 10005;
/// The endpoint's minimum API level is above the server's.
pub(crate) const API_LEVEL: i64 = 10006;
/// A required parameter (or `params` field) is missing.
pub(crate) const PARAM_MISSING: i64 = 20001;
/// A parameter has the wrong type, an undocumented enum value, is too
/// long, or is not an ISO 8601 time with offset.
pub(crate) const PARAM_INVALID: i64 = 20002;
/// `params` is not a JSON object.
pub(crate) const PARAMS_NOT_JSON: i64 = 20003;
/// No booked conference with this `conf_id` (or template id for
/// `create_type` 5).
pub(crate) const NO_BOOKED_CONF: i64 = 30001;
/// No meeting with this `meeting_id`.
pub(crate) const NO_MEETING: i64 = 30002;
/// No running conference with this `conf_id`.
pub(crate) const NO_CONF: i64 = 30003;
/// No virtual meeting room with this id (or hidden from a guest).
pub(crate) const NO_VMR: i64 = 30004;
/// No meeting room area with this id.
pub(crate) const NO_AREA: i64 = 30005;
/// No meeting file with this id.
pub(crate) const NO_FILE: i64 = 30006;
/// No conference template with this id (`create_type` 2/3).
pub(crate) const NO_TEMPLATE: i64 = 30007;
/// The virtual meeting room already hosts a running conference.
pub(crate) const VMR_BUSY: i64 = 30008;
/// The booked conference has already started (update / delete / start
/// early refused).
pub(crate) const CONF_STARTED: i64 = 30009;
/// No free conference resource of the requested size (`max_join_mt`).
pub(crate) const NO_RESOURCE: i64 = 30010;
/// A booked conference must start in the future.
pub(crate) const START_IN_PAST: i64 = 30011;
/// The platform cannot host the requested conference type (RTC/SFU rules).
pub(crate) const CONF_TYPE_UNSUPPORTED: i64 = 30012;
/// Uploaded file larger than 20 MB.
pub(crate) const FILE_TOO_LARGE: i64 = 40001;
/// The meeting already keeps 10 files.
pub(crate) const TOO_MANY_FILES: i64 = 40002;
/// File type not among the 13 documented types.
pub(crate) const FILE_TYPE: i64 = 40003;
/// Not a multipart request with exactly one `file` part.
pub(crate) const NO_FILE_PART: i64 = 40004;

/// Default description of a code.
pub(crate) fn description(code: i64) -> &'static str {
    match code {
        BAD_CONSUMER => "invalid oauth_consumer_key or oauth_consumer_secret",
        TOKEN_INVALID => "account_token is invalid or expired",
        LOGIN_FAILED => "wrong username or password",
        NOT_LOGGED_IN => "not logged in: SSO_COOKIE_KEY cookie missing or not valid for this token",
        NOT_ADMIN => "administrator permission required",
        API_LEVEL => "not supported at this API level",
        PARAM_MISSING => "required parameter missing",
        PARAM_INVALID => "invalid parameter",
        PARAMS_NOT_JSON => "params is not a JSON object",
        NO_BOOKED_CONF => "booked conference not found",
        NO_MEETING => "meeting not found",
        NO_CONF => "conference not found or not running",
        NO_VMR => "virtual meeting room not found",
        NO_AREA => "meeting room area not found",
        NO_FILE => "meeting file not found",
        NO_TEMPLATE => "conference template not found",
        VMR_BUSY => "virtual meeting room is in use",
        CONF_STARTED => "conference has already started",
        NO_RESOURCE => "no free conference resource",
        START_IN_PAST => "start_time must not be in the past",
        CONF_TYPE_UNSUPPORTED => "conference type not supported by the platform",
        FILE_TOO_LARGE => "file larger than 20MB",
        TOO_MANY_FILES => "a meeting keeps at most 10 files",
        FILE_TYPE => "file type not supported",
        NO_FILE_PART => "exactly one file in multipart field 'file' required",
        _ => "internal error",
    }
}

/// A failed call: `{"success": 0, "error_code", "description"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// `error_code`.
    pub code: i64,
    /// `description`.
    pub description: String,
}

impl ApiError {
    /// Error with the default description of `code`.
    pub(crate) fn new(code: i64) -> Self {
        ApiError { code, description: description(code).to_owned() }
    }

    /// Error whose description names the offending field.
    pub(crate) fn field(code: i64, field: &str) -> Self {
        ApiError { code, description: format!("{}: {field}", description(code)) }
    }

    /// [`PARAM_MISSING`] for `field`.
    pub(crate) fn missing(field: &str) -> Self {
        Self::field(PARAM_MISSING, field)
    }

    /// [`PARAM_INVALID`] for `field`.
    pub(crate) fn invalid(field: &str) -> Self {
        Self::field(PARAM_INVALID, field)
    }

    /// The JSON body of this error.
    pub(crate) fn body(&self) -> serde_json::Value {
        serde_json::json!({"success": 0, "error_code": self.code, "description": self.description})
    }
}

/// Result of a handler.
pub(crate) type ApiResult<T> = Result<T, ApiError>;
