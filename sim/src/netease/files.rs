//! Recording downloads: `GET /vod/{meetingUniqueId}/{filename}` (the URL
//! `record/list` and callback 7 give) with Content-Length, Content-MD5
//! (RFC 1864, of the body actually sent) and single `Range: bytes=`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::Netease;

/// `GET /vod/{meetingUniqueId}/{filename}`.
pub(crate) async fn download(
    State(ne): State<Arc<Netease>>,
    Path((uid, filename)): Path<(u64, String)>,
    headers: HeaderMap,
) -> Response {
    let found = ne.with_state(|st, _| {
        st.recordings
            .iter()
            .find(|r| r.meeting_unique_id == uid && r.filename == filename)
            .map(|r| (r.body.clone(), r.file_type.clone()))
    });
    let Some((body, file_type)) = found else {
        return (StatusCode::NOT_FOUND, "file not found\n").into_response();
    };
    let content_type = match file_type.as_str() {
        "mp4" => "video/mp4",
        "aac" => "audio/aac",
        _ => "application/octet-stream",
    };
    crate::common::files::serve(body, content_type, &filename, &headers).await
}
