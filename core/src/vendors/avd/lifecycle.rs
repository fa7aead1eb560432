//! What AVD calls start and how to stop them (see [`crate::lifecycle`]).

use crate::lifecycle::{Lifecycle, ResourceKind::*, Source::*};

/// Codes of 000's appendix with which a stop says there is nothing (left) to stop:
/// 40004 no such room, 40009 room not open, 40041 no mixed recording/live running,
/// 40051 not in AVC mode, 40061 no live running, 40065 live already stopped,
/// 40008 user not in room, 40033 no invite for this user.
const GONE: &[&str] = &["40004", "40009", "40041", "40051", "40061", "40065", "40008", "40033"];

/// `room.close` of a room nobody opened answers 41005 with "room not found or opened" (the
/// appendix's own example message for 41005): nothing to close.
const ROOM_GONE: &[&str] = &["40004", "40009", "41005"];

/// The AVD lifecycle table.
pub static LIFECYCLE: &[Lifecycle] = &[
    Lifecycle {
        kind: Room,
        start: "room.create",
        stop: "room.close",
        stop_params: &[("room_id", ParamOrResult("room_id", "/room_id"))],
        gone_codes: ROOM_GONE,
        also_stopped_by: &["room.del"],
    },
    Lifecycle {
        kind: Recording,
        start: "room.mix_record.start",
        stop: "room.mix_record.stop",
        stop_params: &[("room_id", Param("room_id"))],
        gone_codes: GONE,
        also_stopped_by: &[],
    },
    Lifecycle {
        kind: Recording,
        start: "room.desktop_record.start",
        stop: "room.desktop_record.stop",
        stop_params: &[("room_id", Param("room_id"))],
        gone_codes: GONE,
        also_stopped_by: &[],
    },
    Lifecycle {
        kind: Live,
        start: "room.mix_live.start",
        stop: "room.mix_live.stop",
        stop_params: &[("room_id", Param("room_id"))],
        gone_codes: GONE,
        also_stopped_by: &[],
    },
    Lifecycle {
        kind: Live,
        start: "room.live.start",
        stop: "room.live.stop",
        stop_params: &[("room_id", Param("room_id"))],
        gone_codes: GONE,
        also_stopped_by: &[],
    },
    Lifecycle {
        kind: Media,
        start: "room.avc.start",
        stop: "room.avc.stop",
        stop_params: &[("room_id", Param("room_id"))],
        gone_codes: GONE,
        also_stopped_by: &[],
    },
    Lifecycle {
        kind: Media,
        start: "media.create",
        stop: "media.stop",
        stop_params: &[("room_id", Param("room_id")), ("play_id", Result("/play_id"))],
        gone_codes: GONE,
        also_stopped_by: &[],
    },
    Lifecycle {
        kind: DeviceCall,
        start: "device.call",
        stop: "device.kick",
        stop_params: &[("room_id", Param("room_id")), ("user_id", ParamOrResult("user_id", "/user_id"))],
        gone_codes: GONE,
        also_stopped_by: &[],
    },
];
