//! What Kedacom calls start and how to stop them (see [`crate::lifecycle`]).

use crate::lifecycle::{Lifecycle, ResourceKind::*, Source::*};

/// The Kedacom lifecycle table. Doc 001 lists no error codes for a conference that has
/// already ended, so a stop that fails is reported and tried again by the next cleanup.
pub static LIFECYCLE: &[Lifecycle] = &[
    Lifecycle {
        kind: Meeting,
        start: "confs.create",
        stop: "confs.end",
        stop_params: &[("conf_id", Result("/conf_id"))],
        gone_codes: &[],
        also_stopped_by: &[],
    },
    Lifecycle {
        kind: Meeting,
        start: "booked_confs.create",
        stop: "booked_confs.delete",
        stop_params: &[("conf_id", Result("/conf_id"))],
        gone_codes: &[],
        also_stopped_by: &[],
    },
    Lifecycle {
        kind: Room,
        start: "virtual_meeting_rooms.create",
        stop: "virtual_meeting_rooms.delete",
        stop_params: &[("id", Result("/id"))],
        gone_codes: &[],
        also_stopped_by: &[],
    },
];
