//! NetEase error codes (the doc's `错误码` table) and the error type the
//! handlers return.

/// Message of a code from the doc's error table (200 is the success code
/// of the common response; 501 uses the endpoint examples' wording).
pub(crate) fn code_msg(code: i64) -> &'static str {
    match code {
        200 => "success",
        300 => "非法的参数",
        301 => "参数为空",
        302 => "非法header",
        303 => "非法字符集参数",
        401 => "请求未通过验证",
        402 => "服务未开通",
        // The endpoint examples say 服务器内部错误; the table 服务器内部异常.
        501 => "服务器内部错误",
        510 => "请求过于频繁",
        512 => "服务繁忙",
        652 => "直播设置错误",
        701 => "匿名账号分配失败，稍后重试",
        1000 => "分配帐号失败",
        1014 => "帐号不存在",
        1019 => "会议帐号已被创建",
        1021 => "IM未绑定",
        2000 => "该会议不存在",
        2001 => "会议已达人数上限",
        2002 => "该会议已在进行中",
        2003 => "昵称格式不正确",
        2004 => "成员视频状态错误",
        2005 => "成员音频状态错误",
        2007 => "该用户未拥有会议码",
        2010 => "会议被锁定",
        2011 => "会议id已被占用",
        2014 => "会议密码错误",
        2017 => "会议主题格式错误",
        2018 => "请输入会议密码",
        2021 => "会议已结束",
        2022 => "个人会议号未设置",
        2023 => "非法会议类型",
        2024 => "会议已存在",
        2025 => "会议信息不能被修改",
        3001 => "客户端类型错误",
        4001 => "该应用已达并发上限",
        _ => "error",
    }
}

/// A business error: answered with HTTP 200 and `code`/`msg` in the body
/// (the doc documents no HTTP error statuses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// Error code from the doc's table.
    pub code: i64,
    /// Message (the table's text, sometimes with a detail appended).
    pub msg: String,
}

impl ApiError {
    /// The table's message for `code`.
    pub(crate) fn new(code: i64) -> Self {
        ApiError { code, msg: code_msg(code).to_owned() }
    }

    /// The table's message for `code` plus a detail naming the culprit.
    pub(crate) fn detail(code: i64, detail: impl std::fmt::Display) -> Self {
        ApiError { code, msg: format!("{}: {detail}", code_msg(code)) }
    }
}

/// Handler result.
pub(crate) type ApiResult<T> = Result<T, ApiError>;
