//! The vmr endpoint table: all 35 endpoints of vendor docs 003 (room API on mcuHost,
//! checkJoin on apiServer) and 002 (supplementary record/live API on apiServer), one row each.
//!
//! Not listed because the client adds them itself: the `token` header (and `?token=` of
//! `events.subscribe`), the supplementary `auth` header. `room` (the `{room}` path segment)
//! defaults to the profile's `account`; `meet.check_join`'s body and `session.new`'s `pin` and
//! `display_name` default to the profile's credentials.
//! Generated once from the vendor catalog and maintained by hand since; the doc wins where they differ.

use crate::endpoint::{rf, EndpointSpec, HttpMethod::*, Param, ParamIn::*, ParamType::*};
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
        response: &[
            rf("code", Str, "\"200\" (a string) on success; failures are undocumented."),
            rf("timeStamp", Str, "Server time, format \"yyyy-MM-dd HH:mm:ss\" (example \"2017-05-24 15:41:30\")."),
            rf("results", Object, "The join information (note the plural: results)."),
            rf("results.isDot", Bool, "Whether this is a point-to-point call: true / false."),
            rf("results.sipkey", Str, "Short number of the meeting room / user / endpoint (会议室/用户入网/终端入网短号)."),
            rf("results.alias", Str, "Communication address, email format (e.g. xxx@xxx.com)."),
            rf("results.password", Str, "Authentication password; empty string for point-to-point calls."),
            rf("results.participantName", Str, "Participant display name."),
            rf("results.roleType", Str, "Participant role type: host (主持人) or guest (访客); empty string for point-to-point calls."),
            rf("results.mcuHost", Str, "Resource-pool request address (资源池请求地址): the meeting node host to use for all later room API requests (example \"xxx.xxx.cn\")."),
            rf("results.companyId", Int, "Owning enterprise ID."),
            rf("results.isRecord", Bool, "Whether recording permission is enabled; false for point-to-point calls."),
            rf("results.isLive", Bool, "Whether live-streaming permission is enabled; false for point-to-point calls."),
            rf("results.conferenceName", Str, "Meeting room name / user name / endpoint registered name. Listed in the table but absent from the example."),
            rf("results.allowGuest", Str, "Whether guests are allowed: yes / no, default yes. Listed in the table but absent from the example."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Object, "The command's result."),
            rf("result.token", Str, "Token used to authenticate subsequent requests. Opaque; the example value is percent-encoded (contains %2B, %3D) and contains a stray space (extraction artefact)."),
            rf("result.expires", Str, "Token lifetime in seconds; example \"120\" (a string). refresh_session must be called before it expires."),
            rf("result.participant_uuid", Str, "Newly generated uuid that uniquely identifies this participant on the platform."),
            rf("result.version", Object, "Version of the meeting node connected to; example {\"pseudo_version\": \"22112.0.0\", \"version_id\": \"3\"}."),
            rf("result.version.pseudo_version", Str, "Version string, e.g. \"22112.0.0\"."),
            rf("result.version.version_id", Str, "Version id, e.g. \"3\"."),
            rf("result.role", Str, "This participant's join identity: \"HOST\" (host) or \"GUEST\" (guest). Upper-case, unlike chair/guest elsewhere."),
            rf("result.chat_enabled", Bool, "Whether text chat is allowed in the meeting."),
            rf("result.service_type", Str, "Service type of this call: \"conference\" multipoint meeting; \"gateway\" point-to-point call."),
            rf("result.stun", Any, "STUN server(s) designated by the platform for WebRTC/SIP firewall traversal. Listed in the table but absent from the example; structure not given."),
            rf("result.display_name", Str, "Participant's name in the meeting."),
            rf("result.analytics_enabled", Bool, "Whether audio/video statistics are sent automatically."),
            rf("result.current_service_type", Str, "Service currently connected: 'conference' in meeting; 'gateway' in point-to-point; 'waiting_room' meeting locked, waiting for host authorisation; 'ivr' waiting for PIN entry."),
            rf("result.allow_1080p", Bool, "Whether 1080p is allowed (doc: 'Ture or false 是否运行 1080P', typos)."),
            rf("result.bandwidth_in", Int, "Call bandwidth (呼叫带宽; presumably inbound); example 512. Unit not stated."),
            rf("result.bandwidth_out", Int, "Outbound bandwidth (呼出带宽); example 512. Unit not stated."),
            rf("result.call_type", Str, "Call type; example \"video\"."),
            rf("result.fecc_enabled", Bool, "No description in the doc (example true)."),
            rf("result.guests_can_present", Bool, "Whether guests may send the second (presentation) stream."),
            rf("result.owner", Str, "IP address of the MCU actually used by WebRTC; example \"120.132.87.97\"."),
            rf("result.rtmp_enabled", Bool, "Whether RTMP is enabled."),
            rf("result.rtsp_enabled", Bool, "Whether RTSP is enabled."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Object, "The command's result."),
            rf("result.token", Str, "New token for subsequent communication."),
            rf("result.expires", Str, "Lifetime of the new token in seconds; example \"120\" (string)."),
            rf("result.role", Str, "Role (table row 'Role'; absent from the example; value set not stated, presumably HOST/GUEST as in new_session)."),
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
        response: &[
            rf("", Any, "Undocumented: the doc says to ignore every answer to this request (应忽略所有应答)."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Array, "uuids of the newly created participant(s); normally exactly one, more only if fork calling is configured on the platform."),
            rf("result[]", Str, "uuid of a new participant."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Object, "The command's result."),
            rf("result.guests_muted", Bool, "Whether guests are muted."),
            rf("result.locked", Bool, "Whether the conference is locked (table spells it 'Locked')."),
            rf("result.started", Any, "No description in the doc (presumably whether the conference has been started — cf. start_service)."),
            rf("result.whiteboard", Bool, "Whether the whiteboard is on (true/false)."),
            rf("result.wb_url", Str, "Returned when whiteboard is true (presumably the whiteboard URL). Cloud cells left blank in the doc."),
            rf("result.live_status", Any, "Table row 'Live_status', no description, private cloud only. Exact key casing and value set unknown."),
            rf("result.record_status", Any, "Table row 'Record_status', no description, private cloud only. Exact key casing and value set unknown."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Bool, "true on success, false otherwise (doc); the examples write the text \"true\" (meetkit accepts both and raises false as an error)."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Bool, "true on success, false otherwise (doc); the examples write the text \"true\" (meetkit accepts both and raises false as an error)."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Bool, "true on success, false otherwise (doc); the examples write the text \"true\" (meetkit accepts both and raises false as an error)."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Bool, "true on success, false otherwise (doc); the examples write the text \"true\" (meetkit accepts both and raises false as an error)."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Bool, "true on success, false otherwise (doc); the examples write the text \"true\" (meetkit accepts both and raises false as an error)."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Bool, "true on success, false otherwise (doc); the examples write the text \"true\" (meetkit accepts both and raises false as an error)."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Bool, "true on success, false otherwise (doc); the examples write the text \"true\" (meetkit accepts both and raises false as an error)."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Array, "All participants; each element has the fields of the participant_create event (uuid, display_name, role, service_type, is_muted, spotlight, rx_presentation_policy, ...)."),
            rf("result[].api_url", Str, "Relative URL of the participant, e.g. \"/participants/<uuid>\". Example only (not in the field table)."),
            rf("result[].call_direction", Str, "\"in\": dialled in; \"out\": dialled out (table writes \" out\" with a leading space)."),
            rf("result[].display_name", Str, "Participant display name."),
            rf("result[].encryption", Str, "Whether the participant's media is encrypted: table says on/off, example \"On\"."),
            rf("result[].has_media", Bool, "Whether the participant has audio/video media capability (false for API/control participants, per the example)."),
            rf("result[].is_audio_only_call", Str, "YES if the participant is audio only."),
            rf("result[].is_external", Bool, "Whether it is an external participant, e.g. from Lync."),
            rf("result[].is_muted", Str, "YES if muted."),
            rf("result[].is_presenting", Str, "YES if currently presenting (sending the second stream)."),
            rf("result[].is_streaming_conference", Bool, "Whether it is a streaming (recording/broadcast) participant."),
            rf("result[].is_video_call", Str, "YES if the participant has video capability."),
            rf("result[].local_alias", Str, "Example only (\"meet.alice\"); no description."),
            rf("result[].overlay_text", Str, "Example only (\"Alice\"); no description."),
            rf("result[].presentation_supported", Str, "Example only (\"NO\"); no description."),
            rf("result[].protocol", Str, "Protocol the participant joined with (example \"api\" — an API/control session)."),
            rf("result[].role", Str, "chair (host) or guest (table: 'guest(f)', typo)."),
            rf("result[].rx_presentation_policy", Str, "Whether receiving the presentation stream is allowed."),
            rf("result[].service_type", Str, "connecting = being dialled out; waiting_room = waiting for host approval (locked); ivr = waiting for PIN entry; conference = joined; gateway = point-to-point call."),
            rf("result[].spotlight", Int, "If spotlighted, the time it was spotlighted (UNIX seconds); example 0."),
            rf("result[].start_time", Int, "Join time (UNIX seconds)."),
            rf("result[].uri", Str, "Participant address."),
            rf("result[].uuid", Str, "Participant's unique uuid."),
            rf("result[].vendor", Str, "Vendor/user-agent string of the endpoint or browser."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Array, "The doc says it returns the participant list (see participant_create) — apparently copy-pasted from the participants command; real response content is uncertain."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Bool, "true on success, false otherwise (doc); the examples write the text \"true\" (meetkit accepts both and raises false as an error)."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Bool, "true on success, false otherwise (doc); the examples write the text \"true\" (meetkit accepts both and raises false as an error)."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Bool, "true on success, false otherwise (doc); the examples write the text \"true\" (meetkit accepts both and raises false as an error)."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Bool, "true on success, false otherwise (doc); the examples write the text \"true\" (meetkit accepts both and raises false as an error)."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Bool, "true on success, false otherwise (doc); the examples write the text \"true\" (meetkit accepts both and raises false as an error)."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Bool, "true on success, false otherwise (doc); the examples write the text \"true\" (meetkit accepts both and raises false as an error)."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Bool, "true on success, false otherwise (doc); the examples write the text \"true\" (meetkit accepts both and raises false as an error)."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Bool, "true on success, false otherwise (doc); the examples write the text \"true\" (meetkit accepts both and raises false as an error)."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal). Presumably: the doc gives no response for dtmf (one row in its summary table)."),
            rf("result", Bool, "Presumably true on success, as the other participant commands (undocumented for dtmf)."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Object, "The command's result."),
            rf("result.call_uuid", Str, "ID uniquely identifying this call (sub-call); usable for later control of the call. Both call types."),
            rf("result.sdp", Str, "WebRTC only: SDP answer."),
            rf("result.url", Str, "RTMP only: RTMP URL for audio/video."),
            rf("result.secure_url", Str, "RTMP only: RTMPS (encrypted) URL."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Bool, "true on success, false otherwise (doc); the examples write the text \"true\" (meetkit accepts both and raises false as an error)."),
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
        response: &[
            rf("status", Str, "Call status: \"success\"; any other value is a failure (the doc shows no failure literal)."),
            rf("result", Bool, "true on success, false otherwise (doc); the examples write the text \"true\" (meetkit accepts both and raises false as an error)."),
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
        response: &[
            rf("", Any, "An event stream (participant, presentation, layout, message, stage, service and disconnect events); the doc does not describe its framing."),
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
        response: &[
            rf("", Any, "The newest presentation frame as a JPEG image (content type not stated by the doc)."),
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
        response: &[
            rf("code", Str, "\"200\" on success (a string); otherwise a status code: 400/403/500 or 200001-200008 (doc 002)."),
            rf("data", Object, "The result."),
            rf("data.recordId", Str, "Unique ID of this recording (example is a 36-char UUID)."),
            rf("message", Str, "Error message; null on success."),
            rf("state", Int, "1 = success, 0 = failure."),
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
        response: &[
            rf("code", Str, "\"200\" on success (a string); otherwise a status code: 400/403/500 or 200001-200008 (doc 002)."),
            rf("data", Object, "The result."),
            rf("data.recordId", Str, "Unique ID of this recording."),
            rf("message", Str, "Error message; null on success."),
            rf("state", Int, "1 = success, 0 = failure."),
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
        response: &[
            rf("code", Str, "\"200\" on success (a string); otherwise a status code: 400/403/500 or 200001-200008 (doc 002)."),
            rf("data", Array, "The example returns an array (the table reads as if it were one object)."),
            rf("data[].recordId", Str, "Unique ID of the recording."),
            rf("data[].conferenceKey", Str, "Meeting number."),
            rf("data[].entId", Int, "Enterprise ID or tenant ID."),
            rf("data[].startTime", Str, "Recording start time, format 2019-05-31 01:43:09 (type written 'varcharvarchar')."),
            rf("data[].fileSize", Number, "File size in bytes (examples are integers)."),
            rf("data[].stopTime", Str, "Recording stop time, same format (the doc's description says '录制的开始时间' = start time, a copy-paste error)."),
            rf("data[].downUrl", Str, "Download URL of the recording file (examples are signed http:// URLs on *.cossh.myqcloud.com)."),
            rf("data[].cid", Str, "Appears only in the second example element (a UUID); not in the table, meaning unknown."),
            rf("message", Str, "Error message; null on success."),
            rf("state", Int, "1 = success, 0 = failure."),
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
        response: &[
            rf("code", Str, "\"200\" on success (a string); otherwise a status code: 400/403/500 or 200001-200008 (doc 002)."),
            rf("data", Object, "The result."),
            rf("data.recordId", Str, "Unique ID of the recording."),
            rf("message", Str, "Error message; null on success."),
            rf("state", Int, "1 = success, 0 = failure."),
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
        response: &[
            rf("code", Str, "\"200\" on success (a string); otherwise a status code: 400/403/500 or 200001-200008 (doc 002)."),
            rf("data", Object, "The result."),
            rf("data.liveurl", Str, "Live viewing URL (key is all lower-case 'liveurl'); example https://vapi.myvmr.cn/live/xxxx."),
            rf("message", Str, "Error message; null on success."),
            rf("state", Int, "1 = success, 0 = failure."),
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
        response: &[
            rf("code", Str, "\"200\" on success (a string); otherwise a status code: 400/403/500 or 200001-200008 (doc 002)."),
            rf("message", Str, "Error message; null on success."),
            rf("state", Int, "1 = success, 0 = failure."),
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
