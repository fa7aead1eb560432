//! The NetEase Meeting endpoint table: all 15 endpoints of the REST API (vendor doc 004), one row each.
//!
//! Every endpoint is a `POST` with a JSON body; parameters travel in the body unless marked
//! `.at(ParamIn::Header)`. The signature headers (`AppKey`, `Nonce`, `CurTime`, `CheckSum`) and
//! `meeting.anonymous_join_info`'s `authorization` header are added by the client and not listed.
//! Written from the vendor catalog and checked against the doc; the doc wins where they differ.

use crate::endpoint::{EndpointSpec, HttpMethod::*, Param, ParamIn, ParamType::*};
use crate::Vendor::Netease;

/// One entry of `settings.controls` (the doc's `controls结构`).
const CONTROL: &[Param] = &[
    Param::req("type", Str, "Control type: `audio` or `video`"),
    Param::opt("state", Int, "Global control: 1 = all turned off, 0 = lift the all-off control"),
    Param::opt("attendeeOff", Int, "Turn off on join: 0 none, 1 off, 2 off and participants cannot turn it on"),
    Param::opt("allowSelfOn", Bool, "Participants may lift the control themselves (default true)"),
];

/// One entry of `settings.scene.roleTypes` (documented as dotted names, an array of objects in the example).
const ROLE_TYPE: &[Param] = &[
    Param::opt("roleType", Int, "Scene role: 1 member, 2 host"),
    Param::opt("maxCount", Int, "Maximum number of participants with this role"),
];

const SCENE: &[Param] = &[Param::opt("roleTypes", Array, "Role limits of the scene").with(ROLE_TYPE)];

/// `settings` of meeting.create and meeting.update.
const SETTINGS: &[Param] = &[
    Param::opt("controls", Array, "Meeting controls (audio/video)").with(CONTROL),
    Param::opt("scene", Object, "Meeting scene: role limits").with(SCENE),
];

/// Every NetEase endpoint, in the order of the vendor doc.
pub static ENDPOINTS: &[EndpointSpec] = &[
    EndpointSpec {
        vendor: Netease,
        id: "account.create",
        method: Post,
        path: "/v1/account/create",
        idempotent: false,
        summary: "Registers (creates) a meeting account, optionally reusing an existing IM account (imAccid/imToken) and optionally setting a personal meeting short number.",
        params: &[
            Param::opt("imAccid", Str, "Existing IM accid to reuse"),
            Param::opt("imToken", Str, "Token of the reused imAccid"),
            Param::opt("shortId", Str, "Personal meeting short number, 4-8 digits"),
        ],
    },
    EndpointSpec {
        vendor: Netease,
        id: "account.get_by_im_accid",
        method: Post,
        path: "/v1/account/getByImAccid",
        idempotent: true,
        summary: "Looks up one meeting account of this enterprise (app) by its IM accid.",
        params: &[Param::req("imAccid", Str, "IM accid")],
    },
    EndpointSpec {
        vendor: Netease,
        id: "account.get_by_account_id",
        method: Post,
        path: "/v1/account/getByAccountId",
        idempotent: true,
        summary: "Looks up one meeting account of this enterprise (app) by its meeting accountId.",
        params: &[Param::req("accountId", Str, "Meeting account id")],
    },
    EndpointSpec {
        vendor: Netease,
        id: "account.update_token",
        method: Post,
        path: "/v1/account/updateToken",
        idempotent: true,
        summary: "Sets a new account token for a meeting account (the caller supplies the new token value).",
        params: &[
            Param::req("accountId", Str, "Meeting account id"),
            Param::req("accountToken", Str, "The new account token"),
        ],
    },
    EndpointSpec {
        vendor: Netease,
        id: "account.update_short_id",
        method: Post,
        path: "/v1/account/updateShortId",
        idempotent: true,
        summary: "Sets or clears the personal meeting short number of a meeting account.",
        params: &[
            Param::req("accountId", Str, "Meeting account id"),
            Param::opt("shortId", Str, "Personal meeting short number, 4-8 digits; omit it to clear the short number"),
        ],
    },
    EndpointSpec {
        vendor: Netease,
        id: "meeting.create",
        method: Post,
        path: "/v2/meeting/create",
        idempotent: false,
        summary: "Creates a meeting of type 1 (random-number instant), 2 (personal-number instant) or 3 (random-number scheduled) with optional password and settings.",
        params: &[
            Param::req("host", Str, "Meeting host (a meeting accountId)"),
            Param::opt("owner", Str, "Meeting owner; defaults to host"),
            // Declared String in the doc, but its request example sends the number 1: both are accepted (1, 2, 3).
            Param::req("type", Any, "Meeting type: 1 random-number instant, 2 personal-number instant, 3 random-number scheduled"),
            Param::opt("password", Str, "Meeting password; empty string for none"),
            Param::opt("settings", Object, "Meeting settings").with(SETTINGS),
            Param::req("subject", Str, "Meeting subject, at most 30 characters"),
            Param::opt("startTime", Int, "Scheduled start, epoch milliseconds (required for type 3)"),
            Param::opt("endTime", Int, "Scheduled end, epoch milliseconds (required for type 3)"),
        ],
    },
    EndpointSpec {
        vendor: Netease,
        id: "meeting.anonymous_join_info",
        method: Post,
        path: "/v1/meeting/anonymousJoinInfo",
        idempotent: false,
        summary: "Returns the credentials and room information an anonymous participant needs to join a meeting (allocates an anonymous meeting/IM account and AV-room tokens).",
        params: &[
            Param::req("clientType", Int, "Client type: 1 TV, 2 iOS, 3 Android, 4 PC, 5 Mac, 6 Web, 7 SIP, 8 Linux").at(ParamIn::Header),
            Param::req("deviceId", Str, "Client device id").at(ParamIn::Header),
            Param::req("meetingId", Str, "Meeting number"),
            Param::req("nickName", Str, "Nickname, at most 10 Chinese characters, letters or digits"),
            Param::req("video", Int, "Video: 1 on, 2 off"),
            Param::req("audio", Int, "Audio: 1 on, 2 off"),
            Param::opt("password", Str, "Meeting password"),
            Param::opt("roleType", Int, "Role: 1 member, 4 shadow"),
        ],
    },
    EndpointSpec {
        vendor: Netease,
        id: "meeting.get",
        method: Post,
        path: "/v2/meeting/get",
        idempotent: true,
        summary: "Returns one meeting by its meetingUniqueId.",
        params: &[Param::req("meetingUniqueId", Int, "Unique meeting id")],
    },
    EndpointSpec {
        vendor: Netease,
        id: "meeting.update",
        method: Post,
        path: "/v2/meeting/edit",
        idempotent: true,
        summary: "Modifies a scheduled meeting (subject, times, password, settings).",
        params: &[
            Param::req("meetingUniqueId", Int, "Unique meeting id"),
            Param::req("subject", Str, "Meeting subject, at most 30 characters (required even when unchanged)"),
            Param::opt("startTime", Int, "Scheduled start, epoch milliseconds"),
            Param::opt("endTime", Int, "Scheduled end, epoch milliseconds; -1 = unlimited"),
            Param::opt("password", Str, "Meeting password; empty string clears it"),
            Param::opt("settings", Object, "Meeting settings; when changed, send all of them (full replacement)").with(SETTINGS),
        ],
    },
    EndpointSpec {
        vendor: Netease,
        id: "meeting.cancel",
        method: Post,
        path: "/v2/meeting/cancel",
        idempotent: false,
        summary: "Cancels a scheduled meeting.",
        params: &[Param::req("meetingUniqueId", Int, "Unique meeting id")],
    },
    EndpointSpec {
        vendor: Netease,
        id: "meeting.end_by_unique_id",
        method: Post,
        path: "/v2/meeting/deleteByMeetingUniqueId",
        idempotent: false,
        summary: "Ends a meeting identified by its meetingUniqueId, optionally recycling it.",
        params: &[
            Param::req("meetingUniqueId", Int, "Unique meeting id"),
            Param::opt("recycle", Bool, "Also recycle the meeting (number); default false"),
        ],
    },
    EndpointSpec {
        vendor: Netease,
        id: "meeting.end_by_meeting_id",
        method: Post,
        path: "/v2/meeting/deleteByMeetingId",
        idempotent: false,
        summary: "Ends the meeting identified by its meeting number (meetingId), optionally recycling it.",
        params: &[
            Param::req("meetingId", Str, "Meeting number"),
            Param::opt("recycle", Bool, "Also recycle the meeting (number); default false"),
        ],
    },
    EndpointSpec {
        vendor: Netease,
        id: "meeting.end_by_short_id",
        method: Post,
        path: "/v2/meeting/deleteByMeetingShortId",
        idempotent: false,
        summary: "Ends the meeting identified by its short number (shortId), optionally recycling it.",
        params: &[
            Param::req("shortId", Str, "Meeting short number"),
            Param::opt("recycle", Bool, "Also recycle the meeting (number); default false"),
        ],
    },
    EndpointSpec {
        vendor: Netease,
        id: "meeting.record_list",
        method: Post,
        path: "/v2/meeting/record/list",
        idempotent: true,
        summary: "Lists the recording files of a meeting.",
        params: &[Param::req("meetingUniqueId", Int, "Unique meeting id")],
    },
    EndpointSpec {
        vendor: Netease,
        id: "meeting.list",
        method: Post,
        path: "/v2/meeting/list",
        idempotent: true,
        summary: "Lists available meetings with optional filters and pagination.",
        params: &[
            Param::opt("meetingUniqueId", Int, "Filter: unique meeting id"),
            Param::opt("meetingId", Str, "Filter: meeting number"),
            Param::opt("minStartTime", Int, "Filter: earliest start, epoch milliseconds"),
            Param::opt("maxStartTime", Int, "Filter: latest start, epoch milliseconds"),
            Param::opt("statusList", Array, "Filter: meeting statuses (1 not started, 2 in progress)"),
            // Declared String like meeting.create's `type`; numbers are accepted too.
            Param::opt("type", Any, "Filter: meeting type 1, 2 or 3"),
            Param::opt("pageIndex", Int, "Page, 0-based; default 0"),
            Param::opt("pageSize", Int, "Page size 1-100; default 20"),
        ],
    },
];

/// Response fields that carry secrets, per endpoint id (paths into the decoded result:
/// `/`-separated keys, `key[]` for each element of an array, `*` for any key). Scripts, Python,
/// C and `meetkit call` see them as `***` unless the caller allows secrets
/// ([`crate::secret::redact_result`]); meetkit's own auth keeps the real values.
pub static SECRET_RESPONSE: &[(&str, &[&str])] = &[
    // 004: the meeting account token (会议用户账号令牌).
    ("account.create", &["accountToken"]),
    ("account.get_by_im_accid", &["accountToken"]),
    ("account.get_by_account_id", &["accountToken"]),
    // The anonymous member's account token, IM password (imToken) and AV server token.
    ("meeting.anonymous_join_info", &["accountToken", "imToken", "avRoomCheckSum"]),
    // The meeting password; meeting.list's array name is not documented: any array.
    ("meeting.create", &["password"]),
    ("meeting.get", &["password"]),
    ("meeting.list", &["password", "*[]/password"]),
];

/// The 59 codes of the doc's error table: `(code, message as documented, meaning)`.
pub static ERROR_CODES: &[(i64, &str, &str)] = &[
    (300, "非法的参数", "Illegal parameter"),
    (301, "参数为空", "Parameter is empty"),
    (302, "非法header", "Illegal header"),
    (303, "非法字符集参数", "Illegal charset parameter"),
    (401, "请求未通过验证", "Request failed verification (authentication)"),
    (402, "服务未开通", "Service not activated"),
    (501, "服务器内部异常", "Internal server error"),
    (510, "请求过于频繁", "Requests too frequent (rate limited)"),
    (512, "服务繁忙", "Service busy"),
    (652, "直播设置错误", "Live-stream settings error"),
    (701, "匿名账号分配失败，稍后重试", "Anonymous account allocation failed, retry later"),
    (1000, "分配帐号失败", "Account allocation failed"),
    (1003, "手机号已被注册", "Mobile number already registered"),
    (1004, "该手机号未注册", "Mobile number not registered"),
    (1005, "登录验证失效,请重新登录", "Login verification expired, please log in again"),
    (1006, "验证码错误，请重新输入", "Wrong verification code, please re-enter"),
    (1007, "密码错误，请重新输入", "Wrong password, please re-enter"),
    (1008, "原密码错误，请重新输入", "Wrong old password, please re-enter"),
    (1009, "TV帐号不存在", "TV account does not exist"),
    (1010, "请输入正确的手机号", "Please enter a valid mobile number"),
    (1011, "获取验证码次数超过限制", "Verification-code request count exceeded"),
    (1012, "验证码失效，请重新获取", "Verification code expired, request a new one"),
    (1013, "IM帐号已下线", "IM account is offline"),
    (1014, "帐号不存在", "Account does not exist"),
    (1015, "验证码获取频繁，请稍后再试", "Verification codes requested too frequently, try later"),
    (1016, "注册超时，请重新操作", "Registration timed out, please retry"),
    (1017, "更改密码超时，请重新操作", "Password change timed out, please retry"),
    (1019, "会议帐号已被创建", "Meeting account already created"),
    (1021, "IM未绑定", "IM not bound"),
    (2000, "该会议不存在", "Meeting does not exist"),
    (2001, "会议已达人数上限", "Meeting participant limit reached"),
    (2002, "该会议已在进行中", "Meeting is already in progress"),
    (2003, "昵称格式不正确", "Invalid nickname format"),
    (2004, "成员视频状态错误", "Member video state error"),
    (2005, "成员音频状态错误", "Member audio state error"),
    (2007, "该用户未拥有会议码", "User does not own a meeting code"),
    (2009, "已达屏幕共享人数上限", "Screen-share participant limit reached"),
    (2010, "会议被锁定", "Meeting is locked"),
    (2011, "会议id已被占用", "Meeting id already occupied"),
    (2012, "会议直播配置不存在", "Meeting live-stream configuration does not exist"),
    (2014, "会议密码错误", "Wrong meeting password"),
    (2015, "同一账号并发入会错误", "Concurrent join with the same account"),
    (2017, "会议主题格式错误", "Invalid meeting subject format"),
    (2018, "请输入会议密码", "Meeting password required"),
    (2021, "会议已结束", "Meeting has ended"),
    (2022, "个人会议号未设置", "Personal meeting number not set"),
    (2023, "非法会议类型", "Illegal meeting type"),
    (2024, "会议已存在", "Meeting already exists"),
    (2025, "会议信息不能被修改", "Meeting information cannot be modified"),
    (2100, "没有主持人权限", "No host permission"),
    (2101, "该成员未在会议中", "Member is not in the meeting"),
    (2102, "会控码错误", "Wrong meeting-control code"),
    (2103, "已被主持人关闭画面，无法自行打开", "Video turned off by host; cannot turn it on yourself"),
    (2104, "该成员连接不稳定，请稍后再试", "Member connection unstable, try later"),
    (2105, "没有权限", "No permission"),
    (3001, "客户端类型错误", "Client type error"),
    (3003, "功能不支持", "Feature not supported"),
    (4000, "企业会议服务已到期", "Enterprise meeting service expired"),
    (4001, "该应用已达并发上限", "App has reached its concurrency limit"),
];
