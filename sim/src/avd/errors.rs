//! AVD error codes ("SDK对应错误码" appendix plus the codes that only the
//! endpoint examples use) and the error type handlers return.

/// Appendix message of a code (the `返回内容` column; for the upload
/// codes and 40090 the appendix text is Chinese). Codes used only by
/// endpoint examples carry the example's message.
pub(crate) fn appendix_msg(code: i64) -> &'static str {
    match code {
        // [common]
        41001 => "redis error",
        41002 => "mysql error",
        41003 => "http server request timeout",
        41005 => "internal error",
        // [auth]
        40001 => "Authenticate failed, access_key or secret_key error",
        40002 => "args required or error",
        40003 => "access token check invalid",
        // [room]
        40004 => "no such room id",
        40005 => "room id exist",
        40006 => "room already start auto_record",
        40007 => "room has't start auto_record",
        // [user]
        40008 => "user not in room",
        40009 => "room not open or not exist",
        // [sip/gate]
        40019 => "sip gate url exists",
        40020 => "no such sip_gate id",
        40021 => "phone number has already exist",
        40022 => "no such account id",
        40023 => "no sip gate set",
        40024 => "account has'n been invited",
        40025 => "sip service have no rpc_port,set service first",
        40026 => "sip service no response",
        40030 => "sip service internal error",
        // [invite]
        40031 => "user is in room",
        40032 => "invalid address, check it correctly",
        40033 => "no invite info for this user id",
        40034 => "invite failed or internal error append msg",
        40035 => "connect shut down, invite refused or check service port",
        40036 => "not support this type",
        40037 => "no such call record",
        40038 => "not support this video_resolution",
        40039 => "not support this frame_rate",
        // [mix/desktop_record]
        40040 => "room already has mix_record or mix_live",
        40041 => "room hasn't start mix_record or mix_live",
        40042 => "rpc connect down, check stream_exporter service port",
        40043 => "internal error",
        // [avc]
        40050 => "room already has set avc mode",
        40051 => "room hasn't set avc mode",
        40052 => "Internal error return: room not found",
        40053 => "site has force close avc_mode",
        40054 => "no site params set, check init",
        40055 => "site has force open avc_mode",
        // [live]
        40060 => "room has already start live",
        40061 => "room hasn't start live",
        40063 => "Internal error or set error",
        40064 => "connect shut down, check service",
        40065 => "room live has been stoped",
        // [licence]
        40070 => "no company info in this site",
        40071 => "no site licence set",
        40072 => "no licence info",
        40073 => "service not available",
        // [media]
        40080 => "media has already exist",
        40081 => "room doesn't have such play_id media",
        40082 => "Internal error or set error",
        40083 => "connect shut down, check service status",
        40084 => "have no media info",
        // [transfer]
        40090 => "录制id不存在",
        // [push-stream]
        40101 => "internal server error: no such push_info",
        40102 => "no such pushing stream",
        40104 => "connect shut down, check service status",
        // upload
        10910 => "上传文件信息错误, 请求体存放错误",
        10911 => "未读取到文件信息",
        10912 => "文件存储失败",
        10913 => "文件读取失败",
        10914 => "不支持文件类型",
        // Only in endpoint examples, not in the appendix.
        401 => "授权错误!",
        40045 => "internal server error",
        40094 => "no such record",
        _ => "internal error",
    }
}

/// A failed API call: the vendor code and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// Vendor code (`ret`, or `code` on the code-envelope endpoints).
    pub code: i64,
    /// Human-readable message.
    pub msg: String,
}

impl ApiError {
    /// Error with the appendix message of `code`.
    pub(crate) fn new(code: i64) -> Self {
        ApiError { code, msg: appendix_msg(code).to_owned() }
    }

    /// Error with a specific message (the examples' wording).
    pub(crate) fn msg(code: i64, msg: impl Into<String>) -> Self {
        ApiError { code, msg: msg.into() }
    }

    /// 40002 for a missing argument (example wording `arg room_id required`).
    pub(crate) fn arg_required(name: &str) -> Self {
        Self::msg(40002, format!("arg {name} required"))
    }

    /// 40002 for an unparseable or out-of-range argument.
    pub(crate) fn arg_invalid(name: &str) -> Self {
        Self::msg(40002, format!("arg {name} error"))
    }

    /// 40003 as the examples word it.
    pub(crate) fn token_invalid() -> Self {
        Self::msg(40003, "access token invalid")
    }

    /// 40004 as most examples word it.
    pub(crate) fn no_room() -> Self {
        Self::msg(40004, "no such room_id")
    }

    /// 40009 (appendix): the room exists but no meeting is in progress.
    pub(crate) fn room_not_open() -> Self {
        Self::new(40009)
    }
}

/// Result of an AVD handler.
pub(crate) type ApiResult<T> = Result<T, ApiError>;
