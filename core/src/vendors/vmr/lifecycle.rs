//! What vmr calls start and how to stop them (see [`crate::lifecycle`]).

use crate::lifecycle::{Lifecycle, ResourceKind::*, Source::*};

/// 002's codes: 200006 meeting not started, 200007 recording not started, 200008 no such
/// meeting.
const GONE: &[&str] = &["200006", "200007", "200008"];

/// 003: disconnecting a participant that has already left answers 404 ("Participant not found").
const PARTICIPANT_GONE: &[&str] = &["404"];

/// The vmr lifecycle table. Host sessions are journaled by the client itself (they are
/// opened implicitly); a dialled participant is stopped by disconnecting it.
pub static LIFECYCLE: &[Lifecycle] = &[
    Lifecycle {
        kind: DeviceCall,
        start: "conference.dial",
        stop: "participant.disconnect",
        stop_params: &[("room", Param("room")), ("uuid", Result("/0"))],
        gone_codes: PARTICIPANT_GONE,
        also_stopped_by: &[],
    },
    Lifecycle {
        kind: Recording,
        start: "record.open",
        stop: "record.close",
        stop_params: &[("conferenceKey", Param("conferenceKey"))],
        gone_codes: GONE,
        also_stopped_by: &[],
    },
    Lifecycle {
        kind: Live,
        start: "live.open",
        stop: "live.close",
        stop_params: &[("conferenceKey", Param("conferenceKey"))],
        gone_codes: GONE,
        also_stopped_by: &[],
    },
];
