//! The vmr endpoint table: all 35 endpoints of vendor docs 003 (room API on mcuHost,
//! checkJoin on apiServer) and 002 (supplementary record/live API on apiServer), one row each.
//!
//! Not listed because the client adds them itself: the `token` header (and `?token=` of
//! `events.subscribe`), the supplementary `auth` header. `room` (the `{room}` path segment)
//! defaults to the profile's `account`; `meet.check_join`'s body and `session.new`'s `pin` and
//! `display_name` default to the profile's credentials.
//! Generated once from the vendor catalog and maintained by hand since; the doc wins where they differ.

use crate::endpoint::{EndpointSpec, HttpMethod::*, Param, ParamIn::*, ParamType::*};
use crate::Vendor::Vmr;

/// Which host an endpoint is sent to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    /// `api_server` of the profile (checkJoin and the record/live API).
    ApiServer,
    /// The meeting node returned by checkJoin (`results.mcuHost`): every room call.
    McuHost,
}

/// The host of an endpoint: its path says it (room calls live under `/api/services/`).
pub fn host_of(spec: &EndpointSpec) -> Host {
    if spec.path.starts_with("/api/services/") {
        Host::McuHost
    } else {
        Host::ApiServer
    }
}

/// The status codes of the supplementary API (doc 002, 公共响应状态码 and 常见响应状态码): code, meaning.
pub static STATUS_CODES: &[(&str, &str)] = &[
    ("200", "Request succeeded (请求成功)"),
    ("400", "Request parameters are invalid (请求的参数异常)"),
    ("403", "auth authentication failed: wrong auth, or someone else's auth (auth认证失败)"),
    ("500", "Internal server error; the request could not be completed (服务器内部错误)"),
    ("200001", "The meeting number does not match the current auth (会议号和当前的认证的auth不匹配)"),
    ("200002", "Live streaming is already on for this meeting (该会议已开启直播)"),
    ("200003", "Recording is already on for this meeting (该会议已开启录制)"),
    ("200004", "This meeting is not allowed to record (该会议不允许录制)"),
    ("200005", "This meeting is not allowed to live-stream (该会议不允许直播)"),
    ("200006", "This meeting has not started yet (该会议还未开启)"),
    ("200007", "Recording has not been started for this meeting (该会议未开启录制)"),
    ("200008", "This meeting does not exist (该会议不存在)"),
];

/// Every vmr endpoint, in the order of the vendor docs (003, then 002).
pub static ENDPOINTS: &[EndpointSpec] = &[
    EndpointSpec {
        vendor: Vmr,
        id: "meet.check_join",
        method: Post,
        path: "/api/v3/meet/checkJoin.shtml",
        idempotent: true,
        summary: "Validates the user's join information (meeting number/address, password, display name) and returns the join info including mcuHost, the meeting nod...",
        params: &[
            Param::opt("joinAccount", Str, "Meeting short number or communication address to join (入会短号/通讯地址).").at(Body),
            Param::opt("joinPwd", Str, "Join authentication password; ignored for point-to-point calls (点对点呼叫时,此参数无效).").at(Body),
            Param::opt("participantName", Str, "Display name after joining (入会后显示姓名).").at(Body),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "session.new",
        method: Post,
        path: "/api/services/{room}/new_session",
        idempotent: false,
        summary: "Obtains a communication token (valid 120 s) for the room and creates a participant for the caller; the only room call that needs no token.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
            Param::opt("pin", Str, "Host or guest PIN, if the room has a join password (如果设置了入会密码，这是主持人或访客密码); example 123456. The doc says new_session needs 'the following several' h...").at(Header),
            Param::opt("display_name", Str, "Participant name (example value Jiang / jiang). The doc does not state whether it is required.").at(Body),
            Param::opt("hideme", Str, "\"yes\": hide this participant — it is not shown in the participant list; \"no\": do not hide. Added in doc version 2.1.7 (2018/08/30). Default not sta...").at(Body),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "session.refresh",
        method: Post,
        path: "/api/services/{room}/refresh_session",
        idempotent: false,
        summary: "Exchanges the current valid token for a new token with a fresh 120-second lifetime.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "session.end",
        method: Post,
        path: "/api/services/{room}/end_session",
        idempotent: false,
        summary: "Releases the token obtained from the platform, effectively disconnecting from the room.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "conference.dial",
        method: Post,
        path: "/api/services/{room}/dial",
        idempotent: false,
        summary: "Dials out from the room to an endpoint or user (SIP, H.323, RTMP, MS-SIP/Lync, RTSP, phone or auto) and returns the uuid(s) of the new participant(s).",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
            Param::req("role", Str, "Role of the dialled participant: \"guest\" or \"chair\" (host). Not marked optional (requiredness inferred).").at(Body),
            Param::req("destination", Str, "Address, short number or mobile number of the endpoint to dial. Not marked optional (requiredness inferred).").at(Body),
            Param::req("protocol", Str, "Call protocol: \"sip\", \"h323\", \"rtmp\", \"mssip\", \"rtsp\" (surveillance/监控) — the doc's '(lync)' annotation sits after rtsp but presumably belongs to m...").at(Body),
            Param::opt("presentation_url", Str, "(Optional) For RTMP calls: URL to which the second (presentation) stream is pushed.").at(Body),
            Param::opt("streaming", Str, "For RTMP calls: whether the RTMP call is a streaming call. Default \"no\"; set \"yes\" for RTMP calls. (Description changed in doc version 2.1.4.)").at(Body),
            Param::opt("dtmf_sequence", Str, "(Optional) DTMF sequence sent to the target endpoint immediately after the call connects.").at(Body),
            Param::opt("source_display_name", Str, "(Optional) Room name shown on the called endpoint.").at(Body),
            Param::opt("source", Str, "(Optional) Room address or short number to use as the calling identity.").at(Body),
            Param::opt("call_type", Str, "(Optional) Media capability of the call, default \"video\": \"video\" = main + presentation (dual stream); \"video-only\" = main video only; \"audio\" = au...").at(Body),
            Param::opt("keep_conference_alive", Str, "Whether the conference continues when all other non-ADP (non-automatically-dialled) participants have left: keep_conference_alive = conference cont...").at(Body),
            Param::opt("remote_display_name", Str, "(Optional) Name of this participant as shown in the participant list.").at(Body),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "conference.status",
        method: Get,
        path: "/api/services/{room}/service_status",
        idempotent: true,
        summary: "Returns the room's conference status (locked, guests_muted, and further fields listed in the table).",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "conference.lock",
        method: Post,
        path: "/api/services/{room}/lock",
        idempotent: true,
        summary: "Locks the conference so that newly joining guests wait for host approval.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "conference.unlock",
        method: Post,
        path: "/api/services/{room}/unlock",
        idempotent: true,
        summary: "Unlocks the conference so that new participants can join without host approval.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "conference.start",
        method: Post,
        path: "/api/services/{room}/start_service",
        idempotent: true,
        summary: "Starts the conference and admits all waiting guests, allowing a host joined only as a control (no audio/video) session to open the meeting.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "conference.mute_guests",
        method: Post,
        path: "/api/services/{room}/muteguests",
        idempotent: true,
        summary: "Mutes all guests in the conference.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "conference.unmute_guests",
        method: Post,
        path: "/api/services/{room}/unmuteguests",
        idempotent: true,
        summary: "Unmutes all guests, allowing them to speak.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "conference.disconnect",
        method: Post,
        path: "/api/services/{room}/disconnect",
        idempotent: false,
        summary: "Ends the conference by disconnecting all participants, including the caller.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "conference.message",
        method: Post,
        path: "/api/services/{room}/message",
        idempotent: false,
        summary: "Broadcasts a text message to all participants.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
            Param::req("type", Str, "MIME type of the text, e.g. text/plain (table spells the field 'Type'). The doc marks neither field optional; both appear in the example.").at(Body),
            Param::req("payload", Str, "Text content to broadcast (table spells the field 'Payload'). The doc marks neither field optional; both appear in the example.").at(Body),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "conference.participants",
        method: Get,
        path: "/api/services/{room}/participants",
        idempotent: true,
        summary: "Returns the list of all participants in the conference.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "conference.override_layout",
        method: Post,
        path: "/api/services/{room}/override_layout",
        idempotent: true,
        summary: "Overrides the video layout separately for hosts and for guests (layout type, pinned actors, VAD backfill).",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
            Param::req("layouts", Array, "One entry per audience (the example sends two: hosts and guests).").at(Body).with(&[Param::req("audience", Str, "\"hosts\": host layout; \"\" (empty string): guest layout. Corrected from 'host' to 'hosts' in doc version 2.1.6."), Param::req("actors", Array, "Participant uuids to show on screen; [] means everybody may be shown."), Param::req("vad_backfill", Bool, "Participants in 'actors' are shown first in actors order; when some leave, gaps appear — whether the remaining participants fill the gaps by voice-..."), Param::req("layout", Str, "Layout type."), Param::req("plus_n", Str, "\"off\" when actors is non-empty; \"auto\" otherwise."), Param::req("actors_overlay_text", Str, "Set to \"auto\".")]),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "participant.disconnect",
        method: Post,
        path: "/api/services/{room}/participants/{uuid}/disconnect",
        idempotent: false,
        summary: "Disconnects (kicks) the specified participant from the conference.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
            Param::req("uuid", Str, "Participant uuid").at(Path),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "participant.mute",
        method: Post,
        path: "/api/services/{room}/participants/{uuid}/mute",
        idempotent: true,
        summary: "Mutes the specified participant.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
            Param::req("uuid", Str, "Participant uuid").at(Path),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "participant.unmute",
        method: Post,
        path: "/api/services/{room}/participants/{uuid}/unmute",
        idempotent: true,
        summary: "Unmutes the specified participant.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
            Param::req("uuid", Str, "Participant uuid").at(Path),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "participant.allow_rx_presentation",
        method: Post,
        path: "/api/services/{room}/participants/{uuid}/allowrxpresentation",
        idempotent: true,
        summary: "Allows the specified participant to receive the presentation (second) stream.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
            Param::req("uuid", Str, "Participant uuid").at(Path),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "participant.deny_rx_presentation",
        method: Post,
        path: "/api/services/{room}/participants/{uuid}/denyrxpresentation",
        idempotent: true,
        summary: "Forbids the specified participant from receiving the presentation (second) stream.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
            Param::req("uuid", Str, "Participant uuid").at(Path),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "participant.spotlight_on",
        method: Post,
        path: "/api/services/{room}/participants/{uuid}/spotlighton",
        idempotent: true,
        summary: "Makes the specified participant a spotlight ('focus') participant, locking it into a prominent layout position.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
            Param::req("uuid", Str, "Participant uuid").at(Path),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "participant.spotlight_off",
        method: Post,
        path: "/api/services/{room}/participants/{uuid}/spotlightoff",
        idempotent: true,
        summary: "Removes the spotlight ('focus') from the specified participant.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
            Param::req("uuid", Str, "Participant uuid").at(Path),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "participant.unlock",
        method: Post,
        path: "/api/services/{room}/participants/{uuid}/unlock",
        idempotent: true,
        summary: "Admits the specified waiting participant into a locked conference.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
            Param::req("uuid", Str, "Participant uuid").at(Path),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "participant.dtmf",
        method: Post,
        path: "/api/services/{room}/participants/{uuid}/dtmf",
        idempotent: false,
        summary: "Sends a DTMF digit sequence to the specified participant.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
            Param::req("uuid", Str, "Participant uuid").at(Path),
            // The doc has only a summary row for dtmf, no body: `digits` is our decision (Pexip-style name).
            Param::opt("digits", Str, "DTMF digits to send (field name undocumented; see the module docs)").at(Body),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "participant.calls",
        method: Post,
        path: "/api/services/{room}/participants/{uuid}/calls",
        idempotent: false,
        summary: "Adds an audio/video channel (sub-call) for the specified WebRTC or RTMP participant and returns the call_uuid plus an SDP answer (WebRTC) or RTMP/R...",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
            Param::req("uuid", Str, "Participant uuid").at(Path),
            Param::req("call_type", Str, "Call type: WebRTC or RTMP (table text 'WebRTC 或 RTMP'; example value \"WEBRTC\"). Exact accepted casing not stated.").at(Body),
            Param::opt("sdp", Str, "SDP offer (audio/video handshake). Applies to WebRTC.").at(Body),
            Param::opt("present", Str, "Optional. 'Send' or 'receive': this call adds the presentation (second) stream rather than the main stream. Applies to RTMP. Casing as written: 'Se...").at(Body),
            Param::opt("streaming", Bool, "true/false: whether this call is handled as streaming media. Applies to RTMP. Not marked optional.").at(Body),
            Param::opt("bandwidth", Number, "Optional. Maximum bandwidth of the new channel. Applies to RTMP. Unit not stated.").at(Body),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "participant.role",
        method: Post,
        path: "/api/services/{room}/participants/{uuid}/role",
        idempotent: true,
        summary: "Changes the specified participant's role between chair (host) and guest.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
            Param::req("uuid", Str, "Participant uuid").at(Path),
            Param::req("role", Str, "chair: host; guest: guest.").at(Body),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "participant.transfer",
        method: Post,
        path: "/api/services/{room}/participants/{uuid}/transfer",
        idempotent: false,
        summary: "Transfers the specified participant from this conference to another meeting room.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
            Param::req("uuid", Str, "Participant uuid").at(Path),
            Param::req("role", Str, "Role in the target room: chair (host) or guest.").at(Body),
            Param::req("conference_alias", Str, "Target room address or short number.").at(Body),
            Param::opt("pin", Str, "Join password of the target room for that role (example \"1234\").").at(Body),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "events.subscribe",
        method: Get,
        path: "/api/services/{room}/events",
        idempotent: true,
        summary: "Subscribes to the room's event stream (participant, presentation, layout, message, stage, service and disconnect events).",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "presentation.jpeg",
        method: Get,
        path: "/api/services/{room}/presentation.jpeg",
        idempotent: true,
        summary: "Fetches the latest presentation (second-stream) frame as a JPEG image, announced by the presentation_frame event.",
        params: &[
            Param::opt("room", Str, "Room address (name@domain) or numeric id; defaults to the profile's account").at(Path),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "record.open",
        method: Post,
        path: "/meeting/openRecord",
        idempotent: false,
        summary: "Starts recording of a meeting and returns the recording's unique recordId.",
        params: &[
            Param::req("conferenceKey", Str, "Meeting short number (doc: '会议是短号', a typo for 会议短号).").at(Body),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "record.close",
        method: Post,
        path: "/meeting/closeRecord",
        idempotent: false,
        summary: "Stops the recording of a meeting (identified by its short number) and returns the recordId.",
        params: &[
            Param::req("conferenceKey", Str, "Meeting short number (doc: '会议是短号', a typo for 会议短号).").at(Body),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "record.files",
        method: Post,
        path: "/meeting/getRecords",
        idempotent: true,
        summary: "Lists the recording files produced for a recordId, with times, sizes and download URLs.",
        params: &[
            Param::req("recordId", Str, "Unique ID produced by the recording. Declared length 15, although example IDs are 32 hex chars and openRecord returns a 36-char UUID.").at(Body),
            Param::opt("origin", Str, "Description column says only 'https://apiServer'; meaning unclear (perhaps the base/origin URL for download links).").at(Body),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "record.delete",
        method: Post,
        path: "/meeting/delRecordFile",
        idempotent: false,
        summary: "Deletes the recording file(s) of a recordId.",
        params: &[
            Param::req("recordId", Str, "Unique ID produced by the recording.").at(Body),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "live.open",
        method: Post,
        path: "/meeting/openLive",
        idempotent: false,
        summary: "Starts live streaming of a meeting and returns the viewing URL.",
        params: &[
            Param::req("conferenceKey", Str, "Meeting short number (doc: '会议是短号', a typo for 会议短号).").at(Body),
        ],
    },
    EndpointSpec {
        vendor: Vmr,
        id: "live.close",
        method: Post,
        path: "/meeting/closeLive",
        idempotent: false,
        summary: "Stops live streaming of a meeting.",
        params: &[
            Param::req("conferenceKey", Str, "Meeting short number (doc: '会议是短号', a typo for 会议短号).").at(Body),
        ],
    },

];

/// Response fields that carry secrets, per endpoint id (paths into the decoded result:
/// `/`-separated keys, `key[]` for each element of an array, `*` for any key). Scripts, Python,
/// C and `meetkit call` see them as `***` unless the caller allows secrets
/// ([`crate::secret::redact_result`]); meetkit's own auth keeps the real values.
pub static SECRET_RESPONSE: &[(&str, &[&str])] = &[
    // 003 "验证用户信息并获取会议服务器地址": the room's authentication password (the host PIN).
    ("meet.check_join", &["results/password", "result/password"]),
    // 003: the session token, new and refreshed.
    ("session.new", &["token", "result/token"]),
    ("session.refresh", &["token", "result/token"]),
];
