//! `meetkit_meeting`: the unified meeting API (`meetkit::meeting`) from C.
//!
//! A thin layer: each function parses its arguments, runs one [`Meeting`] verb on the
//! shared runtime and hands its result to C as JSON. Rooms cross the boundary as handle
//! strings (`"avd:weekly"`), parsed with [`Room::from_handle`]; which vendor can do which
//! verb is the core's capability table, and a verb the vendor cannot do fails with the
//! core's `Error::Unsupported` (`MEETKIT_UNSUPPORTED`) before any request.

use std::ffi::{c_char, c_void};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use meetkit::meeting::{capabilities_json, Meeting, Room, Verb};
use meetkit::{Error, Vendor};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::boundary::{guard, guard_or, out_arg, Failure};
use crate::client::{client_of, download_options, meetkit_client, meetkit_progress_callback};
use crate::error::meetkit_error;
use crate::handles::{self, Object};
use crate::meetkit_status;
use crate::runtime::block_on;
use crate::strings::{arg, json_arg, to_c};

/// The unified meeting API on one vendor of a client (opaque): the same verbs
/// (`create_room`, `invite`, `start_recording`, ...) on every vendor. Thread-safe. Created by
/// `meetkit_meeting_new`, owned by the caller, freed with `meetkit_meeting_free`. It
/// remembers the recordings it started (vmr lists a room's files by them), so list and
/// download recordings through the same `meetkit_meeting` that started them.
pub struct meetkit_meeting {
    _opaque: [u8; 0],
}

/// What a `meetkit_meeting` handle stands for.
pub(crate) struct MeetingObject {
    meeting: Meeting,
}

const TYPE: &str = "meetkit_meeting";

fn lookup(meeting: *const meetkit_meeting) -> Result<Meeting, Failure> {
    match handles::get(meeting as usize, TYPE)? {
        Object::Meeting(m) => Ok(m.meeting.clone()),
        _ => unreachable!("handles::get checks the type"),
    }
}

/// A room handle argument, parsed (`MEETKIT_CONFIG` when it is not a handle).
///
/// # Safety
/// As [`arg`].
unsafe fn room_arg(room_handle: *const c_char) -> Result<Room, Failure> {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers the call below.
    unsafe { Ok(Room::from_handle(arg(room_handle, "room_handle")?)?) }
}

/// An options argument: a JSON object, or NULL / `null` for none.
///
/// # Safety
/// As [`arg`].
unsafe fn options_arg(options_json: *const c_char) -> Result<Map<String, Value>, Failure> {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        match json_arg(options_json, "options_json", true)? {
            Value::Object(m) => Ok(m),
            Value::Null => Ok(Map::new()),
            other => Err(Error::config(format!("options_json must be a JSON object, not `{other}`")).into()),
        }
    }
}

/// Runs one verb on the shared runtime, limited by `timeout_ms` (0: no limit).
fn run<T: Send>(
    meeting: &Meeting,
    verb: Verb,
    timeout_ms: u32,
    fut: impl Future<Output = meetkit::Result<T>> + Send,
) -> Result<T, Failure> {
    let vendor = meeting.vendor();
    let on_timeout = move |after| Error::Timeout { vendor, endpoint: format!("meeting.{verb}"), after };
    block_on(timeout_ms, on_timeout, fut)
}

/// Stores `value` as JSON text in `*out`.
///
/// # Safety
/// `out` was checked by [`out_arg`].
unsafe fn put_json<T: Serialize>(out: *mut *mut c_char, value: &T) -> Result<(), Failure> {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        let text = serde_json::to_string(value)
            .map_err(|e| Failure::binding(meetkit_status::MEETKIT_OTHER, format!("cannot encode the result: {e}")))?;
        *out = to_c(text);
        Ok(())
    }
}

/// Creates the unified meeting API for `vendor` (`"avd"`, `"kedacom"`, `"vmr"`,
/// `"netease"`) on `client`. Nothing is sent.
///
/// On success `*out` receives a new `meetkit_meeting` the caller owns (free it with
/// `meetkit_meeting_free`; it keeps the client's connection alive until then). Errors:
/// `MEETKIT_CONFIG` (unknown vendor, or no connection for it in the client's profile),
/// `MEETKIT_INVALID_HANDLE`, and the argument errors.
///
/// # Safety
/// `vendor` is NULL or NUL-terminated; `out` and `err` are NULL or valid for writing one
/// pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_meeting_new(
    client: *const meetkit_client,
    vendor: *const c_char,
    out: *mut *mut meetkit_meeting,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard(err, || {
            out_arg(out, "out")?;
            let client = client_of(client)?;
            let vendor: Vendor = arg(vendor, "vendor")?.parse()?;
            let meeting = Meeting::new(&client, vendor)?;
            *out = handles::insert(Object::Meeting(Arc::new(MeetingObject { meeting }))) as *mut meetkit_meeting;
            Ok(())
        })
    }
}

/// Frees a meeting API handle (rooms stay as they are on the server). Calls running on it
/// on other threads finish normally. NULL is accepted (`MEETKIT_OK`); a freed or unknown
/// handle returns `MEETKIT_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn meetkit_meeting_free(meeting: *mut meetkit_meeting) -> meetkit_status {
    guard_or(meetkit_status::MEETKIT_PANIC, || {
        if meeting.is_null() {
            return meetkit_status::MEETKIT_OK;
        }
        handles::remove(meeting as usize, TYPE).map_or_else(|f| f.status(), |_| meetkit_status::MEETKIT_OK)
    })
}

/// True when the vendor can do `verb` (`"create_room"`, `"schedule"`, `"start"`, `"invite"`,
/// `"participants"`, `"mute"`, `"unmute"`, `"start_recording"`, `"stop_recording"`,
/// `"recordings"`, `"download_recordings"`, `"start_live"`, `"stop_live"`, `"end"`).
/// False for an unknown verb and for a NULL, freed or unknown handle.
///
/// # Safety
/// `verb` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn meetkit_meeting_can(meeting: *const meetkit_meeting, verb: *const c_char) -> bool {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard_or(false, || {
            let Ok(meeting) = lookup(meeting) else { return false };
            arg(verb, "verb").ok().and_then(|v| v.parse::<Verb>().ok()).is_some_and(|v| meeting.can(v))
        })
    }
}

/// The vendor's capability table as a JSON object, one member per verb:
/// `{"invite": {"supported": false, "endpoints": [], "note": "", "hint": "use ...",
/// "options": [], "ignored": {}}, ...}`; `endpoints` are the endpoint ids a supported verb
/// calls, `note` what differs on this vendor, `hint` (null when supported) what to use
/// instead, `options` the portable options `create_room`/`schedule` use on this vendor and
/// `ignored` those it ignores (option -> why). The same shape as the CLI's `meetkit
/// capabilities --output json`. The caller owns the returned string: free it with
/// `meetkit_string_free`. Returns NULL for a NULL, freed or unknown handle.
#[no_mangle]
pub extern "C" fn meetkit_meeting_capabilities(meeting: *const meetkit_meeting) -> *mut c_char {
    guard_or(std::ptr::null_mut(), || {
        let Ok(meeting) = lookup(meeting) else { return std::ptr::null_mut() };
        to_c(capabilities_json(meeting.vendor()).to_string())
    })
}

/// Creates a room usable now. `options_json` is a JSON object with the options every vendor
/// takes: `name` (required), `id`, `minutes`, `invite`, `record`, `live`, `host`. One the
/// vendor cannot use is ignored with one warning per process (the capability table's
/// `ignored` says which and why); any other key is `MEETKIT_INVALID_PARAMS`.
/// Blocking; `timeout_ms` limits the whole call (0: no limit).
///
/// On success `*room_json` receives the room as JSON text,
/// `{"handle": "avd:weekly", "vendor": "avd", "id": "weekly", "secondary_id": null,
///   "name": "Weekly", "raw": {...}}`, owned by the caller (free it with
/// `meetkit_string_free`). Pass `handle` as `room_handle` to the other verbs; it stays valid
/// across runs. Errors: any status.
///
/// # Safety
/// `options_json` is NULL or NUL-terminated; `room_json` and `err` are NULL or valid for
/// writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_meeting_create_room(
    meeting: *const meetkit_meeting,
    options_json: *const c_char,
    timeout_ms: u32,
    room_json: *mut *mut c_char,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard(err, || {
            out_arg(room_json, "room_json")?;
            let meeting = lookup(meeting)?;
            let options = options_arg(options_json)?;
            let m = meeting.clone();
            let room = run(&meeting, Verb::CreateRoom, timeout_ms, async move { m.create_room(&options).await })?;
            put_json(room_json, &room)
        })
    }
}

/// Books a meeting for later. `options_json`: `start` (Unix seconds, required) and the
/// options of `meetkit_meeting_create_room`, ignored the same way. Blocking; `timeout_ms` limits it (0: no limit).
/// On success `*room_json` receives the room as JSON text, as `meetkit_meeting_create_room`
/// (caller-owned; free it with `meetkit_string_free`). Errors: `MEETKIT_UNSUPPORTED` where
/// the vendor cannot book (the message says what to use instead), and any other status.
///
/// # Safety
/// As `meetkit_meeting_create_room`.
#[no_mangle]
pub unsafe extern "C" fn meetkit_meeting_schedule(
    meeting: *const meetkit_meeting,
    options_json: *const c_char,
    timeout_ms: u32,
    room_json: *mut *mut c_char,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard(err, || {
            out_arg(room_json, "room_json")?;
            let meeting = lookup(meeting)?;
            let options = options_arg(options_json)?;
            let m = meeting.clone();
            let room = run(&meeting, Verb::Schedule, timeout_ms, async move { m.schedule(&options).await })?;
            put_json(room_json, &room)
        })
    }
}

/// Runs a verb that takes a room and returns nothing.
///
/// # Safety
/// `room_handle` is NULL or NUL-terminated; `err` is NULL or valid for writing one pointer.
unsafe fn room_verb<F>(
    meeting: *const meetkit_meeting,
    room_handle: *const c_char,
    verb: Verb,
    timeout_ms: u32,
    err: *mut *mut meetkit_error,
    body: impl FnOnce(Meeting, Room) -> F,
) -> meetkit_status
where
    F: Future<Output = meetkit::Result<()>> + Send,
{
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard(err, || {
            let meeting = lookup(meeting)?;
            let room = room_arg(room_handle)?;
            run(&meeting, verb, timeout_ms, body(meeting.clone(), room))
        })
    }
}

/// Runs a verb that takes a room and returns a value, stored as JSON text in `*out.0`
/// (`out.1` is the out-argument's name, for the error when it is NULL).
///
/// # Safety
/// `room_handle` is NULL or NUL-terminated; `out.0` and `err` are NULL or valid for writing
/// one pointer.
unsafe fn room_query<T: Serialize + Send, F>(
    meeting: *const meetkit_meeting,
    room_handle: *const c_char,
    verb: Verb,
    timeout_ms: u32,
    (out, out_name): (*mut *mut c_char, &str),
    err: *mut *mut meetkit_error,
    body: impl FnOnce(Meeting, Room) -> F,
) -> meetkit_status
where
    F: Future<Output = meetkit::Result<T>> + Send,
{
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard(err, || {
            out_arg(out, out_name)?;
            let meeting = lookup(meeting)?;
            let room = room_arg(room_handle)?;
            let value = run(&meeting, verb, timeout_ms, body(meeting.clone(), room))?;
            put_json(out, &value)
        })
    }
}

/// Starts a created or booked meeting (`room_handle` as returned in a room's `handle`).
/// Blocking; `timeout_ms` limits it (0: no limit). Errors: `MEETKIT_UNSUPPORTED` (nothing is
/// sent; the message names what to use instead), `MEETKIT_CONFIG` (not a room handle, or a
/// room of another vendor), and any other status.
///
/// # Safety
/// `room_handle` is NULL or NUL-terminated; `err` is NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_meeting_start(
    meeting: *const meetkit_meeting,
    room_handle: *const c_char,
    timeout_ms: u32,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        room_verb(meeting, room_handle, Verb::Start, timeout_ms, err, |m, room| async move { m.start(&room).await })
    }
}

/// Calls a device (a SIP/H.323 address such as `"sip:1001@10.0.0.5"`) into the meeting and
/// waits until it is connected, at most `timeout_ms` (0: 60 s), which also limits the call.
///
/// On success `*participant_json` receives the device as JSON text,
/// `{"id": "...", "name": "...", "muted": null, "raw": {...}}` (`id` is what mute/unmute
/// take), owned by the caller (free it with `meetkit_string_free`). Errors:
/// `MEETKIT_UNSUPPORTED` (nothing is sent), `MEETKIT_CONFIG` (bad room handle),
/// `MEETKIT_TIMEOUT`, and any other status.
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `participant_json` and `err` are NULL or
/// valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_meeting_invite(
    meeting: *const meetkit_meeting,
    room_handle: *const c_char,
    address: *const c_char,
    timeout_ms: u32,
    participant_json: *mut *mut c_char,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard(err, || {
            out_arg(participant_json, "participant_json")?;
            let meeting = lookup(meeting)?;
            let room = room_arg(room_handle)?;
            let address = arg(address, "address")?.to_string();
            let wait = if timeout_ms == 0 {
                meetkit::meeting::INVITE_TIMEOUT
            } else {
                Duration::from_millis(timeout_ms.into())
            };
            let m = meeting.clone();
            let device = run(&meeting, Verb::Invite, timeout_ms, async move { m.invite(&room, &address, wait).await })?;
            put_json(participant_json, &device)
        })
    }
}

/// Lists who is in the meeting. Blocking; `timeout_ms` limits it (0: no limit).
///
/// On success `*participants_json` receives a JSON array of participants
/// (`[{"id", "name", "muted", "raw"}, ...]`), owned by the caller (free it with
/// `meetkit_string_free`). Errors: `MEETKIT_UNSUPPORTED`, `MEETKIT_CONFIG` (bad room handle),
/// and any other status.
///
/// # Safety
/// `room_handle` is NULL or NUL-terminated; `participants_json` and `err` are NULL or valid
/// for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_meeting_participants(
    meeting: *const meetkit_meeting,
    room_handle: *const c_char,
    timeout_ms: u32,
    participants_json: *mut *mut c_char,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        room_query(
            meeting,
            room_handle,
            Verb::Participants,
            timeout_ms,
            (participants_json, "participants_json"),
            err,
            |m, room| async move { m.participants(&room).await },
        )
    }
}

/// Mutes one participant's audio (`participant_id`: a participant's `id`). Blocking;
/// `timeout_ms` limits it (0: no limit). Errors: `MEETKIT_UNSUPPORTED`, `MEETKIT_CONFIG`
/// (bad room handle), and any other status.
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `err` is NULL or valid for writing one
/// pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_meeting_mute(
    meeting: *const meetkit_meeting,
    room_handle: *const c_char,
    participant_id: *const c_char,
    timeout_ms: u32,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers the call below.
    unsafe { set_muted(meeting, room_handle, participant_id, true, timeout_ms, err) }
}

/// Unmutes one participant's audio; as `meetkit_meeting_mute`.
///
/// # Safety
/// As `meetkit_meeting_mute`.
#[no_mangle]
pub unsafe extern "C" fn meetkit_meeting_unmute(
    meeting: *const meetkit_meeting,
    room_handle: *const c_char,
    participant_id: *const c_char,
    timeout_ms: u32,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers the call below.
    unsafe { set_muted(meeting, room_handle, participant_id, false, timeout_ms, err) }
}

/// # Safety
/// As `meetkit_meeting_mute`.
unsafe fn set_muted(
    meeting: *const meetkit_meeting,
    room_handle: *const c_char,
    participant_id: *const c_char,
    mute: bool,
    timeout_ms: u32,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard(err, || {
            let meeting = lookup(meeting)?;
            let room = room_arg(room_handle)?;
            let id = arg(participant_id, "participant_id")?.to_string();
            let verb = if mute { Verb::Mute } else { Verb::Unmute };
            let m = meeting.clone();
            run(&meeting, verb, timeout_ms, async move { m.set_muted(&room, &id, mute).await })
        })
    }
}

/// Starts recording. Blocking; `timeout_ms` limits it (0: no limit).
///
/// On success `*result_json` receives the vendor's answer as JSON text (its recording id,
/// where it has one), owned by the caller (free it with `meetkit_string_free`). Errors:
/// `MEETKIT_UNSUPPORTED` (nothing is sent), `MEETKIT_CONFIG` (bad room handle), and any other
/// status.
///
/// # Safety
/// `room_handle` is NULL or NUL-terminated; `result_json` and `err` are NULL or valid for
/// writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_meeting_start_recording(
    meeting: *const meetkit_meeting,
    room_handle: *const c_char,
    timeout_ms: u32,
    result_json: *mut *mut c_char,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        room_query(meeting, room_handle, Verb::StartRecording, timeout_ms, (result_json, "result_json"), err, {
            |m, room| async move { m.start_recording(&room).await }
        })
    }
}

/// Stops recording. Blocking; `timeout_ms` limits it (0: no limit).
///
/// On success `*recordings_json` receives a JSON array of the files the recording produced,
/// where the vendor says at once (AVD), else `[]` (list them with
/// `meetkit_meeting_recordings` once published): `[{"url", "file_name", "size", "md5",
/// "raw"}, ...]` (`size` and `md5` null when the vendor does not give them). Owned by the
/// caller (free it with `meetkit_string_free`). Errors: as `meetkit_meeting_start_recording`.
///
/// # Safety
/// `room_handle` is NULL or NUL-terminated; `recordings_json` and `err` are NULL or valid for
/// writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_meeting_stop_recording(
    meeting: *const meetkit_meeting,
    room_handle: *const c_char,
    timeout_ms: u32,
    recordings_json: *mut *mut c_char,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        room_query(meeting, room_handle, Verb::StopRecording, timeout_ms, (recordings_json, "recordings_json"), err, {
            |m, room| async move { m.stop_recording(&room).await }
        })
    }
}

/// Lists the meeting's recordings (`[]` while the vendor has not published them yet; poll).
/// Blocking; `timeout_ms` limits it (0: no limit).
///
/// On success `*recordings_json` receives a JSON array as in `meetkit_meeting_stop_recording`,
/// owned by the caller (free it with `meetkit_string_free`). Errors: `MEETKIT_UNSUPPORTED`,
/// `MEETKIT_CONFIG` (bad room handle; on vmr also: this `meetkit_meeting` started no
/// recording in the room), and any other status.
///
/// # Safety
/// `room_handle` is NULL or NUL-terminated; `recordings_json` and `err` are NULL or valid for
/// writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_meeting_recordings(
    meeting: *const meetkit_meeting,
    room_handle: *const c_char,
    timeout_ms: u32,
    recordings_json: *mut *mut c_char,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        room_query(meeting, room_handle, Verb::Recordings, timeout_ms, (recordings_json, "recordings_json"), err, {
            |m, room| async move { m.recordings(&room).await }
        })
    }
}

/// Downloads every recording of the meeting into the directory `dir` (created if missing),
/// each file checked as `meetkit_download` checks it (size and MD5 where the vendor gives
/// them). `progress` (may be NULL) receives `userdata` and the progress of the file being
/// downloaded (it restarts at 0 for each file), on the calling thread; returning false
/// cancels (`MEETKIT_CANCELLED`; files already complete stay). Blocking; `timeout_ms` limits
/// the whole call (0: no limit). On NetEase, which publishes recordings only after the meeting
/// ends, it first waits for them (at most 300 s); none by then is `MEETKIT_TIMEOUT` with a
/// message naming the room and what is missing.
///
/// On success `*paths_json` receives a JSON array of the downloaded files' paths
/// (`["/dir/a.mp4", ...]`, `[]` when there are no recordings), owned by the caller (free it
/// with `meetkit_string_free`). Errors: `MEETKIT_UNSUPPORTED`, `MEETKIT_CONFIG` (bad room
/// handle), the download errors of `meetkit_download`, and any other status.
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `progress` is NULL or a function safe to
/// call with `userdata`; `paths_json` and `err` are NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_meeting_download_recordings(
    meeting: *const meetkit_meeting,
    room_handle: *const c_char,
    dir: *const c_char,
    progress: meetkit_progress_callback,
    userdata: *mut c_void,
    timeout_ms: u32,
    paths_json: *mut *mut c_char,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard(err, || {
            out_arg(paths_json, "paths_json")?;
            let meeting = lookup(meeting)?;
            let room = room_arg(room_handle)?;
            let dir = PathBuf::from(arg(dir, "dir")?);
            // This function's contract: `progress` is NULL or safe to call from meetkit's
            // threads with `userdata`.
            let options = download_options(progress, userdata);
            let m = meeting.clone();
            let done = run(&meeting, Verb::DownloadRecordings, timeout_ms, async move {
                m.download_recordings(&room, &dir, options).await
            })?;
            let paths: Vec<String> = done.iter().map(|d| d.path.to_string_lossy().into_owned()).collect();
            put_json(paths_json, &paths)
        })
    }
}

/// Starts a live stream of the meeting to `push_url` (`rtmp://...`). Blocking;
/// `timeout_ms` limits it (0: no limit).
///
/// On success `*result_json` receives the vendor's answer as JSON text, owned by the caller
/// (free it with `meetkit_string_free`). Errors: `MEETKIT_UNSUPPORTED`, `MEETKIT_CONFIG` (bad
/// room handle), and any other status.
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `result_json` and `err` are NULL or valid
/// for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_meeting_start_live(
    meeting: *const meetkit_meeting,
    room_handle: *const c_char,
    push_url: *const c_char,
    timeout_ms: u32,
    result_json: *mut *mut c_char,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        guard(err, || {
            out_arg(result_json, "result_json")?;
            let meeting = lookup(meeting)?;
            let room = room_arg(room_handle)?;
            let url = arg(push_url, "push_url")?.to_string();
            let m = meeting.clone();
            let value = run(&meeting, Verb::StartLive, timeout_ms, async move { m.start_live(&room, &url).await })?;
            put_json(result_json, &value)
        })
    }
}

/// Stops the live stream. Blocking; `timeout_ms` limits it (0: no limit). Errors:
/// `MEETKIT_UNSUPPORTED`, `MEETKIT_CONFIG` (bad room handle), `MEETKIT_INVALID_PARAMS` where
/// the vendor reports that nothing is streaming, and any other status.
///
/// # Safety
/// `room_handle` is NULL or NUL-terminated; `err` is NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_meeting_stop_live(
    meeting: *const meetkit_meeting,
    room_handle: *const c_char,
    timeout_ms: u32,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers each unsafe
    // operation below (the pointers it dereferences or hands on are valid as documented).
    unsafe {
        room_verb(
            meeting,
            room_handle,
            Verb::StopLive,
            timeout_ms,
            err,
            |m, room| async move { m.stop_live(&room).await },
        )
    }
}

/// Ends the meeting (everyone is disconnected). Ending a meeting that has already ended
/// succeeds, on every vendor. Blocking; `timeout_ms` limits it (0: no limit). Errors:
/// `MEETKIT_CONFIG` (bad room handle), and any other status.
///
/// # Safety
/// `room_handle` is NULL or NUL-terminated; `err` is NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn meetkit_meeting_end(
    meeting: *const meetkit_meeting,
    room_handle: *const c_char,
    timeout_ms: u32,
    err: *mut *mut meetkit_error,
) -> meetkit_status {
    // SAFETY: this function's `# Safety` contract, which its caller upholds, covers the call below.
    unsafe { room_verb(meeting, room_handle, Verb::End, timeout_ms, err, |m, room| async move { m.end(&room).await }) }
}
