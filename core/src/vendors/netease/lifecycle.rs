//! What NetEase calls start and how to stop them (see [`crate::lifecycle`]).

use crate::lifecycle::{Lifecycle, ResourceKind::*, Source::*};

/// The NetEase lifecycle table: a meeting is ended by its unique id (2021 会议已结束: it has
/// already ended; 2000 该会议不存在: no such meeting — cancelled and recycled meetings
/// disappear — i.e. nothing left to end).
pub static LIFECYCLE: &[Lifecycle] = &[Lifecycle {
    kind: Meeting,
    start: "meeting.create",
    stop: "meeting.end_by_unique_id",
    stop_params: &[("meetingUniqueId", Result("/meetingUniqueId"))],
    gone_codes: &["2021", "2000"],
    also_stopped_by: &[],
}];
