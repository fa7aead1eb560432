//! Mixed and desktop recordings, their files, transcoding and deletion.
//!
//! One mix record, mix live or desktop record may run per room at a time
//! (appendix 40040 "room already has mix_record or mix_live", described
//! as covering desktop recording too). State errors use the appendix
//! codes 40040/40041 even where the examples show the generic 40043/40082
//! ("Internal error or set error"), because those examples do not show
//! the situation (an idle or busy room); 40041 carries the wording of the
//! update_layout examples ("room hasn't start mix_record").

use serde_json::{json, Value};

use super::errors::{ApiError, ApiResult};
use super::files::{download_url, fmt_duration, fmt_size, play_url, StoredFile};
use super::params::{check_layout, check_mixer_users, resolution, Params};
use super::state::{RecordKind, RecordOptions, Recording};
use super::{payload, Ctx, Payload};

fn not_recording() -> ApiError {
    ApiError::msg(40041, "room hasn't start mix_record")
}

fn no_record_id() -> ApiError {
    ApiError::msg(40090, "no such record_id")
}

fn is_video(t: &str) -> bool {
    matches!(t, "mp4" | "webm" | "avi")
}

fn is_audio(t: &str) -> bool {
    matches!(t, "mp3" | "wav")
}

/// `/room/mix_record/start` -> `record_id`.
pub(crate) fn mix_start(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?.to_owned();
    let mut settings = serde_json::Map::new();
    for name in [
        "enable_audio_record",
        "enable_realtime_transcode",
        "enable_transcode",
        "enable_osdts_record",
        "enable_individual_record",
        "enable_save_mix",
        "enable_backup",
        "disable_user_name",
        "marking_video_by_id",
    ] {
        if let Some(v) = p.bool(name)? {
            settings.insert(name.into(), v.into());
        }
    }
    for name in ["video_bitrate", "video_framerate"] {
        if let Some(v) = p.int(name)? {
            settings.insert(name.into(), v.into());
        }
    }
    if let Some(v) = p.get("video_resolution") {
        resolution("video_resolution", v)?;
        settings.insert("video_resolution".into(), v.into());
    }
    if let Some(videos) = p.json_array("videos")? {
        check_layout("videos", &videos)?;
        settings.insert("videos".into(), videos.into());
    }
    if let Some(osds) = p.json_object("osds")? {
        settings.insert("osds".into(), osds);
    }
    let audio_user_ids = p.json_array("audio_user_ids")?;
    if let Some(ids) = &audio_user_ids {
        if !ids.iter().all(Value::is_string) {
            return Err(ApiError::arg_invalid("audio_user_ids"));
        }
        settings.insert("audio_user_ids".into(), ids.clone().into());
    }
    if let Some(users) = p.json_array("audio_mixer_users")? {
        check_mixer_users("audio_mixer_users", &users)?;
        settings.insert("audio_mixer_users".into(), users.into());
    }
    if let Some(addr) = p.json_object("audio_data_exporter_address")? {
        settings.insert("audio_data_exporter_address".into(), addr);
    }
    let level = p.one_of("video_level", &["low", "middle", "high"])?;
    let file_type = p.one_of("audio_file_type", &["wav", "mp3"])?;
    let codec = p.one_of("audio_codec", &["pcm", "aac"])?;
    let channels = p.int_in("audio_channels", &[1, 2])?;
    let samples = p.int_in("audio_samples", &[8000, 16000, 32000, 44100, 48000])?;
    // wav needs pcm, mp3 needs aac; pcm only samples at 8000/16000.
    let codec_mismatch = matches!((file_type, codec), (Some("wav"), Some("aac")) | (Some("mp3"), Some("pcm")));
    if codec_mismatch {
        return Err(ApiError::arg_invalid("audio_codec"));
    }
    let pcm = codec == Some("pcm") || (codec.is_none() && file_type == Some("wav"));
    if pcm && samples.is_some_and(|s| s > 16000) {
        return Err(ApiError::arg_invalid("audio_samples"));
    }
    for (k, v) in [("video_level", level), ("audio_file_type", file_type), ("audio_codec", codec)] {
        if let Some(v) = v {
            settings.insert(k.into(), v.into());
        }
    }
    for (k, v) in [("audio_channels", channels), ("audio_samples", samples)] {
        if let Some(v) = v {
            settings.insert(k.into(), v.into());
        }
    }
    let flag = |k: &str| settings.get(k).and_then(Value::as_bool).unwrap_or(false);
    let opts = RecordOptions {
        audio_only: audio_user_ids.is_some(),
        audio_record: flag("enable_audio_record"),
        individual: flag("enable_individual_record"),
        backup: flag("enable_backup"),
        disable_user_name: flag("disable_user_name"),
        file_name: p.get("file_name").map(sanitize_name),
        audio_ext: file_type.unwrap_or("mp3").to_owned(),
    };

    ctx.open_room(&room_id)?;
    if ctx.st.room_busy(&room_id) {
        return Err(ApiError::new(40040));
    }
    let record_id = ctx.avd.ids.hex32("record");
    let users =
        ctx.st.sessions[&room_id].participants.iter().map(|u| (u.user_id.clone(), u.user_name.clone())).collect();
    ctx.st.recordings.push(Recording {
        record_id: record_id.clone(),
        room_id,
        kind: RecordKind::Mix,
        name: p.get("name").map(str::to_owned),
        creator: p.get("user_id").map(str::to_owned),
        started: ctx.now,
        stopped: None,
        opts,
        users,
        files: Vec::new(),
        transcode_started: None,
        settings,
    });
    Ok(payload(json!({ "record_id": record_id })))
}

fn sanitize_name(s: &str) -> String {
    s.chars().map(|c| if c == '/' || c == '\\' || c.is_control() { '_' } else { c }).collect()
}

/// Index of a recording of `room_id` by id (40090 if unknown).
fn find_record(ctx: &Ctx<'_>, room_id: &str, record_id: &str) -> ApiResult<usize> {
    ctx.st.recordings.iter().position(|r| r.record_id == record_id && r.room_id == room_id).ok_or_else(no_record_id)
}

/// One produced file as `mix_record/stop` and `desktop_record/get` list it.
fn file_entry(ctx: &Ctx<'_>, f: &StoredFile, name: &str) -> Value {
    let dl = download_url(ctx.base, &f.path);
    json!({
        "download_url": dl,
        "duration": fmt_duration(f.duration),
        "play_url": play_url(ctx.base, &dl),
        "file_size": fmt_size(f.body.len()),
        "start_time": (f.start.floor() as i64).to_string(),
        "end_time": (f.end.floor() as i64).to_string(),
        "room_id": f.room_id,
        "file_type": f.file_type,
        "name": name,
    })
}

fn files_of<'a>(ctx: &'a Ctx<'_>, rec: &'a Recording) -> impl Iterator<Item = &'a StoredFile> + 'a {
    rec.files.iter().filter_map(|p| ctx.st.files.get(p))
}

/// `/room/mix_record/stop` -> produced files in `data`.
pub(crate) fn mix_stop(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let stream_type = p.one_of("stream_type", &["audio", "video", "desktop"])?;
    let record_id = p.get("record_id");
    ctx.room(room_id)?;
    let idx = match record_id {
        Some(id) => {
            let idx = find_record(ctx, room_id, id)?;
            if !ctx.st.recordings[idx].running() {
                return Err(not_recording());
            }
            idx
        }
        None => {
            let kind = match stream_type {
                Some("desktop") => RecordKind::Desktop,
                _ => RecordKind::Mix,
            };
            ctx.st.running_recording(room_id, kind).ok_or_else(not_recording)?
        }
    };
    let bps = ctx.avd.opts.record_bytes_per_second;
    let paths = ctx.st.stop_recording(idx, ctx.now, bps);
    let data: Vec<Value> =
        paths.iter().filter_map(|path| ctx.st.files.get(path)).map(|f| file_entry(ctx, f, &f.name)).collect();
    Ok(payload(json!({ "data": data })))
}

/// Main file of a recording: the `.tms` source if kept, else the first file.
fn main_file<'a>(ctx: &'a Ctx<'_>, rec: &'a Recording) -> Option<&'a StoredFile> {
    files_of(ctx, rec).find(|f| f.file_type == "tms").or_else(|| files_of(ctx, rec).next())
}

fn total_size(ctx: &Ctx<'_>, rec: &Recording) -> u64 {
    files_of(ctx, rec).map(|f| f.body.len()).sum()
}

/// Stopped recordings of a room (optionally one id) of `kind`.
fn stopped<'a>(
    ctx: &'a Ctx<'_>,
    room_id: Option<&'a str>,
    kind: Option<RecordKind>,
    record_id: Option<&'a str>,
) -> impl Iterator<Item = &'a Recording> + 'a {
    ctx.st.recordings.iter().filter(move |r| {
        !r.running()
            && room_id.is_none_or(|id| r.room_id == id)
            && kind.is_none_or(|k| r.kind == k)
            && record_id.is_none_or(|id| r.record_id == id)
    })
}

/// `/room/mix_record/get`: per recording, the source file and its
/// transcoded files (`record_type` 0 all, 1 video, 2 audio).
pub(crate) fn mix_get(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let record_type = p.int_in("record_type", &[0, 1, 2])?.unwrap_or(0);
    let record_id = p.get("record_id");
    ctx.room(room_id)?;
    if let Some(id) = record_id {
        find_record(ctx, room_id, id)?;
    }
    let data: Vec<Value> = stopped(ctx, Some(room_id), Some(RecordKind::Mix), record_id)
        .filter_map(|rec| {
            let main = main_file(ctx, rec)?;
            let transcoded: Vec<Value> = files_of(ctx, rec)
                .filter(|f| f.file_type != "tms")
                .filter(|f| match record_type {
                    1 => is_video(&f.file_type),
                    2 => is_audio(&f.file_type),
                    _ => true,
                })
                .map(|f| {
                    let dl = download_url(ctx.base, &f.path);
                    json!({
                        "download_url": dl,
                        "duration": fmt_duration(f.duration),
                        "file_size": fmt_size(f.body.len()),
                        "play_url": play_url(ctx.base, &dl),
                    })
                })
                .collect();
            Some(json!({
                "download_url": download_url(ctx.base, &main.path),
                "transcode_files": transcoded,
                "play_url": "",
                "file_size": fmt_size(total_size(ctx, rec)),
                "start_time": (rec.started.floor() as i64).to_string(),
                "end_time": (rec.stopped.unwrap_or(rec.started).floor() as i64).to_string(),
                "room_id": rec.room_id,
                "file_type": main.file_type,
                "name": rec.name.clone().unwrap_or_else(|| stem(&main.name)),
                "record_id": rec.record_id,
            }))
        })
        .collect();
    Ok(payload(json!({ "data": data })))
}

fn stem(name: &str) -> String {
    name.rsplit_once('.').map_or(name, |(s, _)| s).to_owned()
}

/// The `transcode_files` object of `/room/get_record(_list)`.
fn transcode_object(ctx: &Ctx<'_>, rec: &Recording) -> Value {
    let files: Vec<&StoredFile> = files_of(ctx, rec).filter(|f| f.file_type != "tms").collect();
    let down: Vec<String> = files.iter().map(|f| download_url(ctx.base, &f.path)).collect();
    let play: Vec<String> = down.iter().map(|d| play_url(ctx.base, d)).collect();
    let infos: Vec<Value> = files
        .iter()
        .map(|f| {
            json!({
                "duration": fmt_duration(f.duration),
                "file_size": fmt_size(f.body.len()),
                "file_name": f.name,
            })
        })
        .collect();
    json!({ "down_url": down, "play_url": play, "file_infos": infos })
}

fn record_summary(ctx: &Ctx<'_>, rec: &Recording) -> Option<Value> {
    let main = main_file(ctx, rec)?;
    Some(json!({
        "transcode_files": transcode_object(ctx, rec),
        "record_type": "server",
        "creator_id": rec.creator.clone().unwrap_or_else(|| "nil".into()),
        "file_size": fmt_size(total_size(ctx, rec)),
        "start_time": (rec.started.floor() as i64).to_string(),
        "end_time": (rec.stopped.unwrap_or(rec.started).floor() as i64).to_string(),
        "room_id": rec.room_id,
        "down_url": download_url(ctx.base, &main.path),
        "record_id": rec.record_id,
        "file_type": main.file_type,
    }))
}

/// `/room/get_record`: recordings of a room overlapping a time range.
pub(crate) fn get_record(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let from = p.req_int("record_start_time")? as f64;
    let to = p.req_int("record_end_time")? as f64;
    let creator = p.get("record_creator_id");
    p.bool("value_same_as_box")?;
    let record_id = p.get("record_id");
    ctx.room(room_id)?;
    let files: Vec<Value> = stopped(ctx, Some(room_id), None, record_id)
        .filter(|r| r.started <= to && r.stopped.unwrap_or(r.started) >= from)
        .filter(|r| creator.is_none_or(|c| r.creator.as_deref() == Some(c)))
        .filter_map(|r| record_summary(ctx, r))
        .collect();
    Ok(payload(json!({ "record_files": files })))
}

/// `/room/get_record_list`: every recording on the server.
pub(crate) fn get_record_list(ctx: &mut Ctx<'_>, _p: &Params) -> ApiResult<Payload> {
    let data: Vec<Value> = stopped(ctx, None, None, None).filter_map(|r| record_summary(ctx, r)).collect();
    Ok(payload(json!({ "data": data })))
}

/// `/room/record/get`: the audio (mp3) files of a room.
pub(crate) fn audio_get(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let record_id = p.get("record_id");
    ctx.room(room_id)?;
    let data: Vec<Value> = stopped(ctx, Some(room_id), None, record_id)
        .flat_map(|r| files_of(ctx, r))
        .filter(|f| is_audio(&f.file_type))
        .map(|f| {
            json!({
                "start_time": (f.start.floor() as i64).to_string(),
                "end_time": (f.end.floor() as i64).to_string(),
                "room_id": f.room_id,
                "play_url": "",
                "download_url": download_url(ctx.base, &f.path),
                "file_type": f.file_type,
                "file_size": fmt_size(f.body.len()),
                "name": f.name,
            })
        })
        .collect();
    Ok(payload(json!({ "data": data })))
}

/// `/room/record/status` -> `record_status`.
pub(crate) fn status(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let record_id = p.req("record_id")?;
    let rec = ctx.st.recordings.iter().find(|r| r.record_id == record_id).ok_or_else(no_record_id)?;
    Ok(payload(json!({ "record_status": rec.status(ctx.now) })))
}

/// `/room/mix_record/update_layout` (`videos` and/or `audio_user_ids`).
pub(crate) fn update_layout(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let videos = p.json_array("videos")?;
    let audio = p.json_array("audio_user_ids")?;
    if let Some(v) = &videos {
        check_layout("videos", v)?;
        check_layout_order(v, p.strict())?;
    }
    if audio.as_ref().is_some_and(|a| !a.iter().all(Value::is_string)) {
        return Err(ApiError::arg_invalid("audio_user_ids"));
    }
    if videos.is_none() && audio.is_none() {
        return Err(ApiError::arg_required("videos"));
    }
    ctx.room(room_id)?;
    let idx = ctx.st.running_recording(room_id, RecordKind::Mix).ok_or_else(not_recording)?;
    let settings = &mut ctx.st.recordings[idx].settings;
    if let Some(v) = videos {
        settings.insert("videos".into(), v.into());
    }
    if let Some(a) = audio {
        settings.insert("audio_user_ids".into(), a.into());
    }
    Ok(Payload::new())
}

/// The stacking order of `update_layout`'s items: its table says `zorder` (as every other
/// layout in the doc), its request example `order`. meetkit sends both with the same value;
/// strict mode requires exactly that of any item that has either, lenient mode takes either
/// (`zorder` first).
fn check_layout_order(items: &[Value], strict: bool) -> ApiResult<()> {
    let ok = !strict
        || items.iter().filter_map(Value::as_object).all(|o| match (o.get("zorder"), o.get("order")) {
            (Some(a), Some(b)) => a == b,
            (None, None) => true,
            _ => false,
        });
    if ok {
        Ok(())
    } else {
        Err(ApiError::arg_invalid("videos"))
    }
}

/// `/room/mix_record/update_audio_layout`.
pub(crate) fn update_audio_layout(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let users = p.json_array("audio_mixer_users")?.ok_or_else(|| ApiError::arg_required("audio_mixer_users"))?;
    check_mixer_users("audio_mixer_users", &users)?;
    ctx.room(room_id)?;
    let idx = match p.get("record_id") {
        Some(id) => {
            let idx = find_record(ctx, room_id, id)?;
            if !ctx.st.recordings[idx].running() {
                return Err(not_recording());
            }
            idx
        }
        None => ctx.st.running_recording(room_id, RecordKind::Mix).ok_or_else(not_recording)?,
    };
    ctx.st.recordings[idx].settings.insert("audio_mixer_users".into(), users.into());
    Ok(Payload::new())
}

/// `/room/desktop_record/start`.
pub(crate) fn desktop_start(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let realtime = p.req_bool("enable_realtime_transcode")?;
    let name = p.req("name")?;
    let resource_id = p.get("resource_id");
    ctx.open_room(room_id)?;
    if ctx.st.room_busy(room_id) {
        return Err(ApiError::new(40040));
    }
    let mut settings = serde_json::Map::new();
    settings.insert("enable_realtime_transcode".into(), realtime.into());
    if let Some(r) = resource_id {
        settings.insert("resource_id".into(), r.into());
    }
    let record_id = ctx.avd.ids.hex32("record");
    ctx.st.recordings.push(Recording {
        record_id,
        room_id: room_id.to_owned(),
        kind: RecordKind::Desktop,
        name: Some(name.to_owned()),
        creator: None,
        started: ctx.now,
        stopped: None,
        opts: RecordOptions::default(),
        users: Vec::new(),
        files: Vec::new(),
        transcode_started: None,
        settings,
    });
    Ok(Payload::new())
}

/// `/room/desktop_record/stop`.
pub(crate) fn desktop_stop(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    ctx.room(room_id)?;
    let idx = ctx.st.running_recording(room_id, RecordKind::Desktop).ok_or_else(|| ApiError::new(40041))?;
    let bps = ctx.avd.opts.record_bytes_per_second;
    ctx.st.stop_recording(idx, ctx.now, bps);
    Ok(Payload::new())
}

/// `/room/desktop_record/get`: files of the desktop recordings named `name`.
pub(crate) fn desktop_get(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let name = p.req("name")?;
    let record_id = p.get("record_id");
    ctx.room(room_id)?;
    let data: Vec<Value> = stopped(ctx, Some(room_id), Some(RecordKind::Desktop), record_id)
        .filter(|r| r.name.as_deref() == Some(name))
        .flat_map(|r| files_of(ctx, r))
        .map(|f| file_entry(ctx, f, name))
        .collect();
    Ok(payload(json!({ "data": data })))
}

/// `/room/record/transfer`: start transcoding a stopped recording
/// (`/transcode/query` then reports 1, and 2 after [`TRANSCODE_SECS`]).
///
/// [`TRANSCODE_SECS`]: super::state::TRANSCODE_SECS
pub(crate) fn transfer(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    // The table's garbled `record_idstring` (name and type run together): lenient only.
    let record_id = p.req_or_alias("record_id", "record_idstring")?;
    ctx.room(room_id)?;
    let idx = find_record(ctx, room_id, record_id)?;
    let rec = &mut ctx.st.recordings[idx];
    if rec.running() {
        // Still recording: the example's generic error.
        return Err(ApiError::msg(40043, "Internal error or set error"));
    }
    rec.transcode_started.get_or_insert(ctx.now);
    Ok(Payload::new())
}

/// `/transcode/query` -> `status` 0 not transcoded, 1 transcoding, 2 done.
pub(crate) fn transcode_query(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    // The table's garbled `record_idstring` (name and type run together): lenient only.
    let record_id = p.req_or_alias("record_id", "record_idstring")?;
    ctx.room(room_id)?;
    let idx = find_record(ctx, room_id, record_id)?;
    Ok(payload(json!({
        "status": ctx.st.recordings[idx].transcode_status(ctx.now)
    })))
}

/// `/room/del_record`: delete every finished recording of a room.
pub(crate) fn del_record(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    ctx.room(room_id)?;
    let st = &mut *ctx.st;
    let mut doomed = Vec::new();
    st.recordings.retain(|r| {
        let delete = r.room_id == room_id && !r.running();
        if delete {
            doomed.extend(r.files.iter().cloned());
        }
        !delete
    });
    for path in doomed {
        st.files.remove(&path);
    }
    Ok(Payload::new())
}

/// `/room/delete_record`: delete one recording file by server path (a full
/// `.../attachment?file=` URL is accepted too). Unknown -> 40094.
pub(crate) fn delete_record(ctx: &mut Ctx<'_>, p: &Params) -> ApiResult<Payload> {
    let room_id = p.req("room_id")?;
    let url = p.req("url")?;
    ctx.room(room_id)?;
    let path = match url.split_once("attachment?file=") {
        Some((_, rest)) => percent_encoding::percent_decode_str(rest).decode_utf8_lossy().into_owned(),
        None => url.to_owned(),
    };
    let owned = ctx.st.files.get(&path).is_some_and(|f| f.room_id.as_deref() == Some(room_id));
    if !owned {
        return Err(ApiError::new(40094));
    }
    ctx.st.files.remove(&path);
    for rec in &mut ctx.st.recordings {
        rec.files.retain(|f| *f != path);
    }
    Ok(Payload::new())
}
