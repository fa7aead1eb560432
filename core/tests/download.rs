//! Integration tests for `meetkit::download` against a small axum server that serves
//! deterministic bytes with Content-Length, Content-MD5, ETag and Range support, and can cut
//! the connection part-way through its first responses.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use md5::{Digest, Md5};
use meetkit::download::{download, file_name_from_url, DownloadOptions, Progress};
use meetkit::Error;
use tokio_util::sync::CancellationToken;

/// How the test server behaves.
#[derive(Clone)]
struct Behaviour {
    /// Cut the connection after this many body bytes ...
    cut_after: usize,
    /// ... on this many first requests.
    cut_requests: usize,
    /// Answer every request with 200 and the whole body, even with a Range header.
    ignore_range: bool,
    /// Answer Range requests with a 206 that starts at byte 0 anyway (a broken server).
    range_from_zero: bool,
    /// Send this Content-MD5 instead of the right one.
    content_md5: Option<String>,
    /// Body chunk size.
    chunk: usize,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            cut_after: 0,
            cut_requests: 0,
            ignore_range: false,
            range_from_zero: false,
            content_md5: None,
            chunk: 8 * 1024,
        }
    }
}

/// What a request looked like.
#[derive(Clone, Debug)]
struct Seen {
    range: Option<String>,
    if_range: Option<String>,
}

struct Server {
    data: Bytes,
    behaviour: Behaviour,
    requests: AtomicUsize,
    seen: Mutex<Vec<Seen>>,
    /// Signalled when a request reaches `/stall` (which never answers).
    stalled: tokio::sync::Notify,
}

impl Server {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + i / 251) as u8).collect()
}

fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

async fn serve(State(server): State<Arc<Server>>, headers: HeaderMap) -> Response {
    let n = server.requests.fetch_add(1, Ordering::SeqCst);
    let text = |name| headers.get(name).map(|v: &header::HeaderValue| v.to_str().unwrap().to_string());
    let range = text(header::RANGE);
    server.seen.lock().unwrap().push(Seen { range: range.clone(), if_range: text(header::IF_RANGE) });

    let b = &server.behaviour;
    let len = server.data.len();
    let start = match &range {
        Some(r) if !b.ignore_range && !b.range_from_zero => {
            r.strip_prefix("bytes=").unwrap().trim_end_matches('-').parse().unwrap()
        }
        _ => 0,
    };
    let mut response = Response::builder().header(header::CONTENT_LENGTH, len - start).header(header::ETAG, "\"v1\"");
    if range.is_some() && b.range_from_zero {
        response = response
            .status(StatusCode::PARTIAL_CONTENT)
            .header(header::CONTENT_RANGE, format!("bytes 0-{}/{len}", len - 1));
    } else if start > 0 {
        response = response
            .status(StatusCode::PARTIAL_CONTENT)
            .header(header::CONTENT_RANGE, format!("bytes {start}-{}/{len}", len - 1));
    } else {
        let right = base64::engine::general_purpose::STANDARD.encode(Md5::digest(&server.data));
        response = response.header("content-md5", b.content_md5.clone().unwrap_or(right));
    }

    let cut = (n < b.cut_requests).then_some(b.cut_after);
    let body = server.data.slice(start..start + cut.unwrap_or(len).min(len - start));
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        body.chunks(b.chunk).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    let stream = futures::stream::iter(chunks);
    let body = match cut {
        // Let the bytes reach the client, then fail the body: hyper aborts the connection.
        Some(_) => Body::from_stream(futures::StreamExt::chain(
            stream,
            futures::stream::once(async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Err(std::io::Error::other("cut"))
            }),
        )),
        None => Body::from_stream(stream),
    };
    response.body(body).unwrap()
}

async fn start(len: usize, behaviour: Behaviour) -> (String, Arc<Server>) {
    let server = Arc::new(Server {
        data: Bytes::from(data(len)),
        behaviour,
        requests: AtomicUsize::new(0),
        seen: Mutex::new(Vec::new()),
        stalled: tokio::sync::Notify::new(),
    });
    let app = Router::new()
        .route("/files/{name}", get(serve))
        .route("/attachment", get(serve))
        .route("/missing", get(|| async { (StatusCode::NOT_FOUND, "no such recording") }))
        .route(
            "/stall",
            get(|State(s): State<Arc<Server>>| async move {
                s.stalled.notify_one();
                std::future::pending::<&'static str>().await
            }),
        )
        .with_state(server.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, server)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn entries(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test]
async fn plain_download_matches_served_bytes_and_md5() {
    let (base, server) = start(100_000, Behaviour::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("nested/out");
    let got = download(&client(), &format!("{base}/files/rec.bin"), &dir, DownloadOptions::default()).await.unwrap();

    assert_eq!(got.path, dir.join("rec.bin"));
    assert_eq!(got.bytes, 100_000);
    assert_eq!(got.md5, md5_hex(&server.data));
    assert_eq!(got.resumed, 0);
    assert_eq!(std::fs::read(&got.path).unwrap(), server.data);
    assert_eq!(entries(&dir), vec!["rec.bin"]);
    assert_eq!(server.seen().len(), 1);
    assert!(server.seen()[0].range.is_none());
}

#[tokio::test]
async fn resumes_after_dropped_connections_with_range() {
    let behaviour = Behaviour { cut_after: 30_000, cut_requests: 2, ..Default::default() };
    let (base, server) = start(100_000, behaviour).await;
    let tmp = tempfile::tempdir().unwrap();
    let got =
        download(&client(), &format!("{base}/files/rec.bin"), tmp.path(), DownloadOptions::default()).await.unwrap();

    assert_eq!(got.resumed, 2);
    assert_eq!(std::fs::read(&got.path).unwrap(), server.data);
    assert_eq!(got.md5, md5_hex(&server.data));
    let seen = server.seen();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen[0].range.is_none());
    let starts: Vec<u64> = seen[1..]
        .iter()
        .map(|s| s.range.as_deref().unwrap().strip_prefix("bytes=").unwrap().trim_end_matches('-').parse().unwrap())
        .collect();
    assert!(0 < starts[0] && starts[0] < starts[1] && starts[1] <= 60_000, "{seen:?}");
    assert!(seen[1..].iter().all(|s| s.if_range.as_deref() == Some("\"v1\"")), "{seen:?}");
    assert_eq!(entries(tmp.path()), vec!["rec.bin"]);
}

#[tokio::test]
async fn server_ignoring_range_restarts_from_zero() {
    let behaviour = Behaviour { cut_after: 40_000, cut_requests: 1, ignore_range: true, ..Default::default() };
    let (base, server) = start(100_000, behaviour).await;
    let tmp = tempfile::tempdir().unwrap();
    let got =
        download(&client(), &format!("{base}/files/rec.bin"), tmp.path(), DownloadOptions::default()).await.unwrap();

    assert_eq!(got.resumed, 1);
    assert_eq!(got.bytes, 100_000);
    assert_eq!(got.md5, md5_hex(&server.data));
    assert_eq!(std::fs::read(&got.path).unwrap(), server.data);
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen[1].range.is_some(), "a Range request was made: {seen:?}");
}

#[tokio::test]
async fn a_206_from_the_wrong_offset_restarts_from_zero() {
    let behaviour = Behaviour { cut_after: 40_000, cut_requests: 1, range_from_zero: true, ..Default::default() };
    let (base, server) = start(100_000, behaviour).await;
    let tmp = tempfile::tempdir().unwrap();
    let got =
        download(&client(), &format!("{base}/files/rec.bin"), tmp.path(), DownloadOptions::default()).await.unwrap();

    assert_eq!(std::fs::read(&got.path).unwrap(), server.data);
    assert_eq!(got.md5, md5_hex(&server.data));
    let ranges: Vec<_> = server.seen().into_iter().map(|s| s.range.is_some()).collect();
    assert_eq!(ranges, vec![false, true, false], "ranged, rejected, then read again from zero");
    assert_eq!(got.resumed, 2);
}

#[tokio::test]
async fn resumes_exhausted_gives_transport_error_and_no_file() {
    let behaviour = Behaviour { cut_after: 10_000, cut_requests: usize::MAX, ..Default::default() };
    let (base, server) = start(100_000, behaviour).await;
    let tmp = tempfile::tempdir().unwrap();
    let opts = DownloadOptions { max_resumes: 2, ..Default::default() };
    let err = download(&client(), &format!("{base}/files/rec.bin"), tmp.path(), opts).await.unwrap_err();

    assert!(matches!(&err, Error::Download(d) if d.kind == "transport" && d.vendor.is_none()), "{err:?}");
    assert_eq!((err.kind(), err.endpoint(), err.vendor()), ("transport", Some("download"), None));
    assert_eq!(server.requests.load(Ordering::SeqCst), 3);
    assert_eq!(entries(tmp.path()), Vec::<String>::new());
}

#[tokio::test]
async fn wrong_content_md5_header_is_an_integrity_error() {
    let wrong = base64::engine::general_purpose::STANDARD.encode(Md5::digest(b"something else"));
    let (base, _server) = start(50_000, Behaviour { content_md5: Some(wrong), ..Default::default() }).await;
    let tmp = tempfile::tempdir().unwrap();
    let err = download(&client(), &format!("{base}/files/rec.bin"), tmp.path(), DownloadOptions::default())
        .await
        .unwrap_err();

    match err {
        Error::Integrity { path, what, expected, .. } => {
            assert_eq!((path, what), (tmp.path().join("rec.bin"), "md5"));
            assert_eq!(expected, md5_hex(b"something else"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(entries(tmp.path()), Vec::<String>::new());
}

#[tokio::test]
async fn wrong_expected_md5_is_an_integrity_error() {
    let (base, server) = start(50_000, Behaviour::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    let opts = DownloadOptions { expected_md5: Some("00112233445566778899AABBCCDDEEFF".into()), ..Default::default() };
    let err = download(&client(), &format!("{base}/files/rec.bin"), tmp.path(), opts).await.unwrap_err();

    match err {
        Error::Integrity { what: "md5", expected, actual, .. } => {
            assert_eq!(expected, "00112233445566778899aabbccddeeff");
            assert_eq!(actual, md5_hex(&server.data));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(entries(tmp.path()), Vec::<String>::new());

    // The right one passes.
    let opts = DownloadOptions { expected_md5: Some(md5_hex(&server.data)), ..Default::default() };
    download(&client(), &format!("{base}/files/rec.bin"), tmp.path(), opts).await.unwrap();
}

#[tokio::test]
async fn checksum_off_skips_the_md5_but_still_checks_the_size() {
    let wrong = base64::engine::general_purpose::STANDARD.encode(Md5::digest(b"something else"));
    let (base, server) = start(50_000, Behaviour { content_md5: Some(wrong), ..Default::default() }).await;
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("{base}/files/rec.bin");

    let done =
        download(&client(), &url, tmp.path(), DownloadOptions { checksum: false, ..Default::default() }).await.unwrap();
    assert_eq!((done.bytes, done.md5.as_str()), (50_000, ""));
    assert_eq!(std::fs::read(&done.path).unwrap(), server.data);

    let opts = DownloadOptions { checksum: false, expected_size: Some(7), ..Default::default() };
    let err = download(&client(), &url, tmp.path(), opts).await.unwrap_err();
    assert!(matches!(&err, Error::Integrity { what: "size", .. }), "{err:?}");

    // Asking for an MD5 check with the checksum off is a contradiction, refused before any request.
    let opts = DownloadOptions { checksum: false, expected_md5: Some(md5_hex(&server.data)), ..Default::default() };
    let err = download(&client(), &url, tmp.path(), opts).await.unwrap_err();
    assert!(matches!(&err, Error::Download(d) if d.param.as_deref() == Some("checksum")), "{err:?}");
    assert_eq!(err.kind(), "invalid_params");
    assert_eq!(entries(tmp.path()), vec!["rec.bin".to_string()]);
}

#[tokio::test]
async fn expected_size_mismatch_is_an_integrity_error() {
    let (base, _server) = start(50_000, Behaviour::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    let opts = DownloadOptions { expected_size: Some(50_001), ..Default::default() };
    let err = download(&client(), &format!("{base}/files/rec.bin"), tmp.path(), opts).await.unwrap_err();

    assert!(
        matches!(&err, Error::Integrity { what: "size", expected, actual, .. } if expected == "50001" && actual == "50000"),
        "{err:?}"
    );
    assert_eq!(entries(tmp.path()), Vec::<String>::new());
}

#[tokio::test]
async fn http_404_is_an_http_error_and_leaves_no_file() {
    let (base, _server) = start(10, Behaviour::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    let opts = DownloadOptions { file_name: Some("rec.bin".into()), ..Default::default() };
    let err = download(&client(), &format!("{base}/missing"), tmp.path(), opts).await.unwrap_err();

    assert!(matches!(&err, Error::Download(d) if d.status == Some(404) && d.message == "no such recording"), "{err:?}");
    assert_eq!((err.kind(), err.vendor_code().as_deref(), err.is_retryable()), ("http", Some("404"), false));
    assert_eq!(entries(tmp.path()), Vec::<String>::new());
}

#[tokio::test]
async fn progress_is_monotonic_and_ends_at_total() {
    let len = 1024 * 1024;
    let (base, _server) = start(len, Behaviour::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    let calls = Arc::new(Mutex::new(Vec::<Progress>::new()));
    let sink = calls.clone();
    let opts = DownloadOptions {
        progress: Some(Arc::new(move |p| {
            sink.lock().unwrap().push(p);
            true
        })),
        ..Default::default()
    };
    download(&client(), &format!("{base}/files/rec.bin"), tmp.path(), opts).await.unwrap();

    let calls = calls.lock().unwrap();
    assert!(calls.len() >= 4, "start, some progress, end: {calls:?}");
    assert_eq!(calls[0].downloaded, 0);
    assert!(calls.windows(2).all(|w| w[0].downloaded <= w[1].downloaded), "{calls:?}");
    assert!(calls.iter().any(|p| p.downloaded > 0 && p.downloaded < len as u64), "{calls:?}");
    let last = calls.last().unwrap();
    assert_eq!((last.downloaded, last.total), (len as u64, Some(len as u64)));
    assert!(calls.iter().all(|p| p.file_name == "rec.bin" && p.resumed == 0));
}

#[tokio::test]
async fn progress_returning_false_cancels_and_leaves_no_file() {
    let (base, _server) = start(1024 * 1024, Behaviour::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    let opts = DownloadOptions { progress: Some(Arc::new(|p| p.downloaded == 0)), ..Default::default() };
    let err = download(&client(), &format!("{base}/files/rec.bin"), tmp.path(), opts).await.unwrap_err();

    assert!(matches!(err, Error::Cancelled { .. }), "{err:?}");
    assert_eq!(entries(tmp.path()), Vec::<String>::new());
}

#[tokio::test]
async fn cancellation_token_mid_body_leaves_no_file() {
    let (base, _server) = start(1024 * 1024, Behaviour::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    let token = CancellationToken::new();
    let trigger = token.clone();
    let opts = DownloadOptions {
        cancel: Some(token),
        progress: Some(Arc::new(move |p| {
            if p.downloaded > 0 {
                trigger.cancel();
            }
            true
        })),
        ..Default::default()
    };
    let err = download(&client(), &format!("{base}/files/rec.bin"), tmp.path(), opts).await.unwrap_err();

    assert!(matches!(err, Error::Cancelled { .. }), "{err:?}");
    assert_eq!(entries(tmp.path()), Vec::<String>::new());
}

#[tokio::test]
async fn cancellation_token_aborts_a_stalled_request() {
    let (base, server) = start(10, Behaviour::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        // Cancel once the request is at the server, which never answers it.
        server.stalled.notified().await;
        trigger.cancel();
    });
    let opts = DownloadOptions { file_name: Some("stall.bin".into()), cancel: Some(token), ..Default::default() };
    let (http, url) = (client(), format!("{base}/stall"));
    let run = download(&http, &url, tmp.path(), opts);
    // The server never answers and this client has no timeout: only the cancellation ends the
    // download (the guard turns a hang into a failure).
    let err =
        tokio::time::timeout(Duration::from_secs(60), run).await.expect("hung: cancel did not abort").unwrap_err();

    assert!(matches!(err, Error::Cancelled { .. }), "{err:?}");
    assert_eq!(entries(tmp.path()), Vec::<String>::new());
}

#[tokio::test]
async fn client_timeout_is_a_timeout_error() {
    let (base, _server) = start(10, Behaviour::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    // Real time: the timeout under test is the HTTP client's own.
    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_millis(200)).build().unwrap();
    let opts = DownloadOptions { file_name: Some("stall.bin".into()), max_resumes: 0, ..Default::default() };
    let err = download(&http, &format!("{base}/stall"), tmp.path(), opts).await.unwrap_err();

    assert!(matches!(&err, Error::Download(d) if d.after >= Some(Duration::from_millis(200))), "{err:?}");
    assert_eq!(err.kind(), "timeout");
    assert_eq!(entries(tmp.path()), Vec::<String>::new());
}

#[tokio::test]
async fn transport_errors_do_not_show_secret_query_values() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}/rec/a.mp4?token=SECRET1&sign=SECRET2");
    let opts = DownloadOptions { max_resumes: 0, ..Default::default() };
    let err = download(&client(), &url, tmp.path(), opts).await.unwrap_err();

    let text = err.to_string();
    assert!(matches!(&err, Error::Download(d) if d.kind == "transport"), "{err:?}");
    assert!(text.contains("/rec/a.mp4") && !text.contains("SECRET"), "{text}");
    assert_eq!(entries(tmp.path()), Vec::<String>::new());
}

#[tokio::test]
async fn overwrite_false_refuses_an_existing_file_without_a_request() {
    let (base, server) = start(1000, Behaviour::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("rec.bin"), b"old").unwrap();
    let opts = DownloadOptions { overwrite: false, ..Default::default() };
    let err = download(&client(), &format!("{base}/files/rec.bin"), tmp.path(), opts).await.unwrap_err();

    assert!(matches!(&err, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists), "{err:?}");
    assert_eq!(server.requests.load(Ordering::SeqCst), 0);
    assert_eq!(std::fs::read(tmp.path().join("rec.bin")).unwrap(), b"old");

    // The default replaces it.
    download(&client(), &format!("{base}/files/rec.bin"), tmp.path(), DownloadOptions::default()).await.unwrap();
    assert_eq!(std::fs::read(tmp.path().join("rec.bin")).unwrap(), server.data);
}

#[tokio::test]
async fn names_come_from_the_file_query_value_and_hostile_names_stay_inside() {
    let (base, server) = start(1000, Behaviour::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");

    let got =
        download(&client(), &format!("{base}/attachment?file=/home/data/x/y.mp4"), &dir, DownloadOptions::default())
            .await
            .unwrap();
    assert_eq!(got.path, dir.join("y.mp4"));

    let opts = DownloadOptions { file_name: Some("../../etc/passwd".into()), ..Default::default() };
    let got = download(&client(), &format!("{base}/files/rec.bin"), &dir, opts).await.unwrap();
    assert_eq!(got.path, dir.join("passwd"));
    assert_eq!(std::fs::read(&got.path).unwrap(), server.data);
    let mut names = entries(&dir);
    names.sort();
    assert_eq!(names, vec!["passwd", "y.mp4"]);
    assert_eq!(entries(tmp.path()), vec!["out"]);

    let opts = DownloadOptions { file_name: Some("../..".into()), ..Default::default() };
    let err = download(&client(), &format!("{base}/files/rec.bin"), &dir, opts).await.unwrap_err();
    assert!(matches!(&err, Error::Download(d) if d.param.as_deref() == Some("file_name")), "{err:?}");
}

#[test]
fn file_name_from_url_cases() {
    assert_eq!(file_name_from_url("http://h/attachment?file=/home/data/x/y.mp4").as_deref(), Some("y.mp4"));
    assert_eq!(file_name_from_url("http://h/rec/2024/meeting%20one.mp4?sign=abc").as_deref(), Some("meeting one.mp4"));
    assert_eq!(file_name_from_url("http://h/rec/a.mp4/").as_deref(), Some("a.mp4"));
    assert_eq!(file_name_from_url("http://h/files/..%2F..%2Fevil.sh").as_deref(), Some("evil.sh"));
    assert_eq!(file_name_from_url("http://h/"), None);
    assert_eq!(file_name_from_url("http://h/.."), None);
    assert_eq!(file_name_from_url("not a url"), None);
}
