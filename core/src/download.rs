//! Streaming file downloads (recordings, attachments) with resume, integrity checks and cancellation.
//!
//! [`download`] streams one URL into a hidden temporary file next to the final one
//! (`.<name>.<random>.part`); its blocks are written and hashed (MD5) on the runtime's blocking
//! threads, one block in flight while the next is received, so disk and checksum work overlap
//! with receiving, never block the async runtime, and hold a thread only while writing. A dropped
//! connection, a body silent for the client's read timeout (`transport.read_timeout_secs`) and
//! a 5xx/408/429 answer are resumed with `Range: bytes=<written>-` (guarded by `If-Range` when
//! the server sent a validator); a server that answers `200` instead of `206` is read again from
//! zero. Once the body is complete the
//! file is fsynced, its size and MD5 are checked, and it is renamed atomically to its final
//! name. Whatever goes wrong — HTTP status, transport, timeout, integrity, cancellation, even a
//! panic or a dropped future — nothing is left under the final name and the temporary file is
//! removed.

use std::fmt;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use md5::{Digest, Md5};
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_RANGE, ETAG, IF_RANGE, LAST_MODIFIED, RANGE};
use reqwest::StatusCode;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::error::DownloadError;
use crate::{Error, Result, Vendor};

/// Progress is reported at most this often, unless [`PROGRESS_BYTES`] arrived since the last report.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
const PROGRESS_BYTES: u64 = 256 * 1024;
/// Longest final name (bytes), leaving room for the temporary name's prefix and suffix.
const MAX_NAME_BYTES: usize = 200;

/// A progress callback: receives a [`Progress`] snapshot, returns `false` to cancel the download.
pub type ProgressCallback = Arc<dyn Fn(Progress) -> bool + Send + Sync>;

/// How [`download`] names, checks and reports a file.
#[derive(Clone)]
pub struct DownloadOptions {
    /// The final file name. Default: derived from the URL by [`file_name_from_url`]. Either way
    /// it is sanitized: only the last path component is kept, so it never leaves `dest_dir`.
    pub file_name: Option<String>,
    /// The exact size the file must have; otherwise the server's announced size is checked.
    pub expected_size: Option<u64>,
    /// The MD5 the file must have (hex). A `Content-MD5` response header is checked as well.
    pub expected_md5: Option<String>,
    /// Compute the file's MD5 and check it against `expected_md5` and `Content-MD5` (default
    /// `true`). `false` skips the hashing (MD5 runs at roughly 550 MiB/s per core: on a fast
    /// local link it, not the network, can set the pace); the size is still checked and
    /// [`Downloaded::md5`] is empty. `false` together with `expected_md5` is an error.
    pub checksum: bool,
    /// How many times a dropped or stalled connection, a body error or an HTTP 5xx/408/429
    /// answer is resumed (default 5).
    pub max_resumes: u32,
    /// Replace an existing file of the same name (default `true`); when `false` an existing
    /// file fails the download with an `AlreadyExists` [`Error::Io`].
    pub overwrite: bool,
    /// Called at the start, as bytes arrive (throttled) and once at the end; `false` cancels.
    /// `downloaded` goes back to zero when a server that ignores `Range` is read again.
    pub progress: Option<ProgressCallback>,
    /// Cancelling the token aborts the request in flight and fails with [`Error::Cancelled`].
    pub cancel: Option<CancellationToken>,
    /// The vendor whose listing gave the URL, named in errors (the endpoint is `download`);
    /// `None` (the default) for a bare URL.
    pub vendor: Option<Vendor>,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        DownloadOptions {
            file_name: None,
            expected_size: None,
            expected_md5: None,
            checksum: true,
            max_resumes: 5,
            overwrite: true,
            progress: None,
            cancel: None,
            vendor: None,
        }
    }
}

impl fmt::Debug for DownloadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DownloadOptions")
            .field("file_name", &self.file_name)
            .field("expected_size", &self.expected_size)
            .field("expected_md5", &self.expected_md5)
            .field("checksum", &self.checksum)
            .field("max_resumes", &self.max_resumes)
            .field("overwrite", &self.overwrite)
            .field("progress", &self.progress.as_ref().map(|_| "<callback>"))
            .field("cancel", &self.cancel)
            .field("vendor", &self.vendor)
            .finish()
    }
}

/// A snapshot passed to [`DownloadOptions::progress`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The final file name.
    pub file_name: String,
    /// Bytes written so far.
    pub downloaded: u64,
    /// The full size, once the server has announced it.
    pub total: Option<u64>,
    /// How many times the transfer has been resumed or restarted so far.
    pub resumed: u32,
}

/// A completed, verified download.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Downloaded {
    /// Where the file is: `dest_dir` joined with the sanitized name.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Its MD5, lowercase hex (empty when [`DownloadOptions::checksum`] is off).
    pub md5: String,
    /// How many times the transfer was resumed or restarted.
    pub resumed: u32,
}

/// Downloads `url` into `dest_dir` (created if missing) and returns the verified file.
///
/// Errors: [`Error::Download`] of kind `invalid_params` (bad URL, no usable file name,
/// malformed `expected_md5`), `http` (a non-2xx status; 5xx, 408 and 429 once `max_resumes` is
/// used up), `transport` / `timeout` (dropped or stalled — silent for the client's read timeout —
/// once `max_resumes` is used up); [`Error::Integrity`] (size or MD5 mismatch),
/// [`Error::Cancelled`], [`Error::Io`]. On any error no file exists under the final name and no temporary file remains
/// (an existing file is only replaced by a verified download).
pub async fn download(http: &reqwest::Client, url: &str, dest_dir: &Path, opts: DownloadOptions) -> Result<Downloaded> {
    let invalid = |param: &str, reason: String| invalid_param(opts.vendor, url_shown(url), param, reason);
    let parsed = Url::parse(url).map_err(|e| invalid("url", format!("not an absolute URL: {e}")))?;
    let name = match &opts.file_name {
        Some(n) => {
            sanitize_file_name(n).ok_or_else(|| invalid("file_name", format!("`{n}` is not a usable file name")))?
        }
        None => file_name_from_url(url)
            .ok_or_else(|| invalid("file_name", "cannot derive a file name from the URL; set one".into()))?,
    };
    let expected_md5 = match &opts.expected_md5 {
        Some(m) => Some(parse_hex_md5(m).ok_or_else(|| invalid("expected_md5", "expected 32 hex digits".into()))?),
        None => None,
    };
    if expected_md5.is_some() && !opts.checksum {
        return Err(invalid("checksum", "expected_md5 needs checksum on: drop one of them".into()));
    }
    if opts.cancel.as_ref().is_some_and(CancellationToken::is_cancelled) {
        return Err(cancelled("download cancelled"));
    }
    tokio::fs::create_dir_all(dest_dir).await.map_err(|e| Error::io(dest_dir, e))?;
    let final_path = dest_dir.join(&name);
    if !opts.overwrite && tokio::fs::try_exists(&final_path).await.unwrap_or(false) {
        return Err(already_exists(&final_path));
    }

    let mut transfer = Transfer::create(&opts, &parsed, name, dest_dir).await?;
    tracing::debug!(url = %transfer.shown_url, path = %final_path.display(), "download: start");
    transfer.report(true)?;
    match &opts.cancel {
        Some(token) => tokio::select! {
            biased;
            _ = token.cancelled() => Err(cancelled("download cancelled")),
            r = transfer.fetch(http) => r,
        },
        None => transfer.fetch(http).await,
    }?;
    let done = transfer.finish(&final_path, expected_md5.as_deref()).await?;
    tracing::debug!(path = %done.path.display(), bytes = done.bytes, md5 = %done.md5, resumed = done.resumed, "download: done");
    Ok(done)
}

/// The directory `sub` of `root` (`""`: `root` itself), created — but only after checking,
/// before anything is created, that it stays inside `root`: `sub` must be relative without `..`,
/// and every part of it that already exists must, symlinks resolved, lie inside `root` (a
/// symlink leading elsewhere, or nowhere, is refused). `root` itself is created if missing.
///
/// Errors: [`Error::Download`] of kind `invalid_params` with `param` = `subdir` (naming
/// `vendor`), or [`Error::Io`].
pub fn dir_inside(root: &Path, sub: &str, vendor: Option<Vendor>) -> Result<PathBuf> {
    let refuse = |reason: String| invalid_param(vendor, format!("into `{sub}`"), "subdir", reason);
    let rel = Path::new(sub);
    if rel.components().any(|c| !matches!(c, Component::Normal(_) | Component::CurDir)) {
        return Err(refuse("must be relative to the run's out directory, without `..` or a root".into()));
    }
    std::fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
    let real_root = root.canonicalize().map_err(|e| Error::io(root, e))?;
    let inside = |path: &Path| -> Result<()> {
        match path.canonicalize() {
            Ok(real) if real.starts_with(&real_root) => Ok(()),
            Ok(_) => Err(refuse(format!("`{}` leads outside the run's out directory (a symlink?)", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(refuse(format!("`{}` is a symlink that leads nowhere", path.display())))
            }
            Err(e) => Err(Error::io(path, e)),
        }
    };
    let mut path = root.to_path_buf();
    for part in rel.components().filter(|c| matches!(c, Component::Normal(_))) {
        path.push(part);
        match std::fs::symlink_metadata(&path) {
            Ok(_) => inside(&path)?,
            // Nothing more exists below: what is created from here on is inside the checked part.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
            Err(e) => return Err(Error::io(&path, e)),
        }
    }
    let target = root.join(rel);
    std::fs::create_dir_all(&target).map_err(|e| Error::io(&target, e))?;
    // A symlink swapped in meanwhile is still caught before any file is written.
    inside(&target)?;
    Ok(target)
}

/// The file name a URL points at: the basename of a `file` (or `filename`) query value when
/// there is one (`…/attachment?file=/home/data/x/y.mp4` → `y.mp4`), else the last non-empty,
/// percent-decoded path segment. Sanitized like [`DownloadOptions::file_name`]; `None` when
/// nothing usable remains.
pub fn file_name_from_url(url: &str) -> Option<String> {
    let url = Url::parse(url).ok()?;
    let from_query = url.query_pairs().find(|(k, _)| k == "file" || k == "filename");
    if let Some(name) = from_query.and_then(|(_, v)| sanitize_file_name(&v)) {
        return Some(name);
    }
    let segment = url.path_segments()?.rev().find(|s| !s.is_empty())?;
    sanitize_file_name(&percent_encoding::percent_decode_str(segment).decode_utf8_lossy())
}

/// One download in progress: the temporary file and everything known about the transfer.
struct Transfer<'a> {
    opts: &'a DownloadOptions,
    url: &'a Url,
    /// The URL with credentials and secret-looking query values removed, for logs and errors.
    shown_url: String,
    name: String,
    /// Declared before `temp`: dropped first (a write in flight finishes on its own thread; on
    /// Unix into the unlinked file).
    sink: Sink,
    written: u64,
    total: Option<u64>,
    content_md5: Option<String>,
    validator: Option<HeaderValue>,
    resumed: u32,
    last_report: (Instant, u64),
    temp: TempFile,
}

impl<'a> Transfer<'a> {
    async fn create(opts: &'a DownloadOptions, url: &'a Url, name: String, dir: &Path) -> Result<Self> {
        let path = dir.join(format!(".{name}.{:016x}.part", rand::random::<u64>()));
        let file = tokio::fs::OpenOptions::new().write(true).create_new(true).open(&path).await;
        let file = file.map_err(|e| Error::io(&path, e))?.into_std().await;
        Ok(Transfer {
            opts,
            url,
            shown_url: crate::secret::redact_url(url.as_str()),
            name,
            sink: Sink::start(file, path.clone(), opts.checksum),
            written: 0,
            total: None,
            content_md5: None,
            validator: None,
            resumed: 0,
            last_report: (Instant::now(), 0),
            temp: TempFile { path, armed: true },
        })
    }

    /// Runs attempts until the body is complete, resuming interrupted ones.
    async fn fetch(&mut self, http: &reqwest::Client) -> Result<()> {
        loop {
            let err = match self.attempt(http).await {
                Ok(()) => return Ok(()),
                // Dropped, stalled, or a passing server failure (5xx, 408, 429): resume.
                Err(e @ Error::Download(_)) if e.is_retryable() => e,
                Err(e) => return Err(e),
            };
            if self.written > 0 && self.total == Some(self.written) {
                tracing::debug!(url = %self.shown_url, error = %err, "download: connection dropped after the last byte");
                return Ok(());
            }
            if self.resumed >= self.opts.max_resumes {
                return Err(err);
            }
            self.resumed += 1;
            tracing::debug!(url = %self.shown_url, written = self.written, resumed = self.resumed, error = %err, "download: resuming");
            tokio::time::sleep(Duration::from_millis(100 << (self.resumed - 1).min(4))).await;
        }
    }

    /// One request: from byte `written` on (a `Range` request) or from zero.
    async fn attempt(&mut self, http: &reqwest::Client) -> Result<()> {
        let started = Instant::now();
        let ranged = self.written > 0;
        let mut request = http.get(self.url.clone());
        if ranged {
            request = request.header(RANGE, format!("bytes={}-", self.written));
            if let Some(v) = &self.validator {
                request = request.header(IF_RANGE, v.clone());
            }
        }
        let request = request.build().map_err(|e| self.net_error(e, started))?;
        let mut capture = crate::capture::DownloadRecord::start(&request);
        let response = http.execute(request).await.map_err(|e| self.net_error(e, started))?;
        capture.response(&response);
        let status = response.status();
        if !status.is_success() {
            return Err(self.http_error(response).await);
        }
        if status == StatusCode::PARTIAL_CONTENT {
            match content_range(response.headers()) {
                Some((start, total)) if ranged && start == self.written => self.total = total.or(self.total),
                _ => {
                    self.restart().await?;
                    return Err(self.transport("unexpected 206 Content-Range; restarting from zero".into()));
                }
            }
        } else {
            if ranged {
                tracing::debug!(url = %self.shown_url, "download: server ignored Range; restarting from zero");
                self.restart().await?;
            }
            self.total = response.content_length();
            self.content_md5 = response.headers().get("content-md5").and_then(parse_content_md5);
            let etag = response.headers().get(ETAG).filter(|v| !v.as_bytes().starts_with(b"W/"));
            self.validator = etag.or_else(|| response.headers().get(LAST_MODIFIED)).cloned();
        }
        self.report(true)?;
        // Small network chunks are gathered into blocks of SINK_BLOCK bytes: one hand-over to
        // the writer thread and one write(2) per block instead of per chunk.
        let mut body = response.bytes_stream();
        let mut block = BytesMut::new();
        let received = loop {
            let chunk = match body.next().await {
                Some(Ok(chunk)) => chunk,
                Some(Err(e)) => break Err(self.net_error(e, started)),
                None => break Ok(()),
            };
            self.written += chunk.len() as u64;
            capture.received(chunk.len());
            if block.is_empty() && chunk.len() >= SINK_BLOCK {
                self.sink.write(chunk).await?;
            } else {
                block.extend_from_slice(&chunk);
                if block.len() >= SINK_BLOCK {
                    self.sink.write(block.split().freeze()).await?;
                }
            }
            self.report(false)?;
        };
        // Whatever arrived is written, also before resuming after an error (resume starts at `written`).
        if !block.is_empty() {
            self.sink.write(block.freeze()).await?;
        }
        received
    }

    /// Empties the temporary file and the hash, for a server that sends the whole body again.
    async fn restart(&mut self) -> Result<()> {
        self.sink.restart().await?;
        self.written = 0;
        Ok(())
    }

    /// Calls the progress callback (throttled unless `force`); `false` from it cancels.
    fn report(&mut self, force: bool) -> Result<()> {
        let Some(callback) = &self.opts.progress else { return Ok(()) };
        let now = Instant::now();
        let (at, bytes) = self.last_report;
        if !force && now.duration_since(at) < PROGRESS_EVERY && self.written.abs_diff(bytes) < PROGRESS_BYTES {
            return Ok(());
        }
        self.last_report = (now, self.written);
        let progress = Progress {
            file_name: self.name.clone(),
            downloaded: self.written,
            total: self.total,
            resumed: self.resumed,
        };
        if callback(progress) {
            Ok(())
        } else {
            Err(cancelled("progress callback returned false"))
        }
    }

    /// Flushes, verifies and renames the temporary file to `final_path`.
    async fn finish(mut self, final_path: &Path, expected_md5: Option<&str>) -> Result<Downloaded> {
        let md5 = self.sink.finish().await?;
        self.report(true)?;
        let mismatch = |what, expected: String, actual: String| Error::Integrity {
            path: final_path.to_path_buf(),
            what,
            expected,
            actual,
        };
        if let Some(size) = self.opts.expected_size.or(self.total).filter(|&size| size != self.written) {
            return Err(mismatch("size", size.to_string(), self.written.to_string()));
        }
        let checked = [expected_md5, self.content_md5.as_deref()];
        for expected in checked.into_iter().flatten().filter(|_| self.opts.checksum) {
            if expected != md5 {
                return Err(mismatch("md5", expected.to_string(), md5));
            }
        }
        if !self.opts.overwrite && tokio::fs::try_exists(final_path).await.unwrap_or(false) {
            return Err(already_exists(final_path));
        }
        let Transfer { mut temp, written, resumed, .. } = self;
        std::fs::rename(&temp.path, final_path).map_err(|e| Error::io(final_path, e))?;
        temp.armed = false;
        #[cfg(unix)]
        if let Some(dir) = final_path.parent().and_then(|d| std::fs::File::open(d).ok()) {
            let _ = dir.sync_all();
        }
        Ok(Downloaded { path: final_path.to_path_buf(), bytes: written, md5, resumed })
    }

    fn net_error(&self, e: reqwest::Error, started: Instant) -> Error {
        if e.is_timeout() {
            let after = Duration::from_millis(started.elapsed().as_millis() as u64);
            let message = format!("no bytes for the read timeout, {} bytes in", self.written);
            return self.failure("timeout", None, Some(after), message);
        }
        if e.is_builder() {
            let reason = crate::error::error_chain(&e.without_url());
            return invalid_param(self.opts.vendor, self.shown_url.clone(), "url", reason);
        }
        self.transport(crate::error::error_chain(&e.without_url()))
    }

    fn transport(&self, cause: String) -> Error {
        self.failure("transport", None, None, cause)
    }

    fn failure(&self, kind: &'static str, status: Option<u16>, after: Option<Duration>, message: String) -> Error {
        Error::Download(Box::new(DownloadError {
            kind,
            vendor: self.opts.vendor,
            target: self.shown_url.clone(),
            param: None,
            status,
            after,
            message,
        }))
    }

    async fn http_error(&self, response: reqwest::Response) -> Error {
        let status = response.status().as_u16();
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while body.len() < 1024 {
            match stream.next().await {
                Some(Ok(chunk)) => body.extend_from_slice(&chunk),
                _ => break,
            }
        }
        let body = crate::secret::redact_body(String::from_utf8_lossy(&body).trim().as_bytes(), 200);
        self.failure("http", Some(status), None, body)
    }
}

/// The writer of one transfer: writes (and hashes) chunks in order, off the runtime. Each
/// write is its own blocking task, and at most one is in flight while the next block is read
/// from the network: a transfer holds a blocking thread only while it writes, so ten thousand
/// concurrent downloads do not queue their bodies in memory waiting for one of the runtime's
/// blocking threads. A write error is returned by the next operation.
struct Sink {
    /// The file and the hash, when no write is in flight.
    idle: Option<SinkState>,
    /// The write in flight, which gives the file and the hash back.
    pending: Option<tokio::task::JoinHandle<std::io::Result<SinkState>>>,
    /// The temporary file, named in errors.
    path: PathBuf,
    checksum: bool,
}

/// Size of the blocks handed to the writer (one write(2) per block instead of per chunk).
const SINK_BLOCK: usize = 256 * 1024;

struct SinkState {
    file: std::fs::File,
    hasher: Option<Md5>,
}

impl Sink {
    fn start(file: std::fs::File, path: PathBuf, checksum: bool) -> Sink {
        Sink { idle: Some(SinkState { file, hasher: checksum.then(Md5::new) }), pending: None, path, checksum }
    }

    /// The file and the hash once the write in flight (if any) has finished.
    async fn state(&mut self) -> Result<SinkState> {
        if let Some(pending) = self.pending.take() {
            let done = pending.await.unwrap_or_else(|e| Err(std::io::Error::other(format!("the writer failed: {e}"))));
            return done.map_err(|e| Error::io(&self.path, e));
        }
        self.idle.take().ok_or_else(|| Error::io(&self.path, std::io::Error::other("the download's writer stopped")))
    }

    /// Run `op` on the file off the runtime and wait for it.
    async fn run<T: Send + 'static>(
        &mut self,
        op: impl FnOnce(&mut SinkState) -> std::io::Result<T> + Send + 'static,
    ) -> Result<T> {
        let mut state = self.state().await?;
        let done = tokio::task::spawn_blocking(move || op(&mut state).map(|v| (v, state))).await;
        let (value, state) = done
            .unwrap_or_else(|e| Err(std::io::Error::other(format!("the writer failed: {e}"))))
            .map_err(|e| Error::io(&self.path, e))?;
        self.idle = Some(state);
        Ok(value)
    }

    /// Queue `chunk`: it is written while the caller reads the next one.
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        let mut state = self.state().await?;
        self.pending = Some(tokio::task::spawn_blocking(move || {
            state.file.write_all(&chunk)?;
            if let Some(h) = state.hasher.as_mut() {
                h.update(&chunk);
            }
            Ok(state)
        }));
        Ok(())
    }

    /// Empty the file and the hash (the server sends the whole body again).
    async fn restart(&mut self) -> Result<()> {
        let checksum = self.checksum;
        self.run(move |s| {
            s.file.set_len(0)?;
            s.file.seek(SeekFrom::Start(0))?;
            s.hasher = checksum.then(Md5::new);
            Ok(())
        })
        .await
    }

    /// fsync and return the MD5 (hex; empty without checksum).
    async fn finish(&mut self) -> Result<String> {
        self.run(|s| {
            let md5 = s.hasher.take().map(|h| hex::encode(h.finalize())).unwrap_or_default();
            s.file.sync_all().map(|()| md5)
        })
        .await
    }
}

/// Removes the temporary file when dropped, unless it was renamed into place.
struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            if let Err(e) = std::fs::remove_file(&self.path) {
                tracing::debug!(path = %self.path.display(), error = %e, "download: cannot remove temporary file");
            }
        }
    }
}

/// The [`Error::Download`] of kind `timeout` for a download of `url` that a caller's own time
/// limit (`after`) stopped (the C library's `timeout_ms`).
pub fn timed_out(url: &str, vendor: Option<Vendor>, after: Duration) -> Error {
    Error::Download(Box::new(DownloadError {
        kind: "timeout",
        vendor,
        target: url_shown(url),
        param: None,
        status: None,
        after: Some(after),
        message: "the caller's time limit".into(),
    }))
}

/// A download's `invalid_params` error (the URL or the target directory refused).
fn invalid_param(vendor: Option<Vendor>, target: String, param: &str, reason: String) -> Error {
    Error::Download(Box::new(DownloadError {
        kind: "invalid_params",
        vendor,
        target,
        param: Some(param.into()),
        status: None,
        after: None,
        message: reason,
    }))
}

/// `url` as shown in errors: redacted when it parses (an unparsable one may hold anything).
fn url_shown(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => crate::secret::redact_url(u.as_str()),
        Err(_) => "(not a URL)".into(),
    }
}

pub(crate) fn cancelled(reason: &str) -> Error {
    Error::Cancelled { reason: reason.into() }
}

fn already_exists(path: &Path) -> Error {
    let e = std::io::Error::new(std::io::ErrorKind::AlreadyExists, "file exists and overwrite is off");
    Error::io(path, e)
}

/// Keeps only the last path component and makes it safe on every OS; `None` if nothing is left.
fn sanitize_file_name(raw: &str) -> Option<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String =
        base.chars().map(|c| if c.is_control() || r#"<>:"|?*"#.contains(c) { '_' } else { c }).collect();
    // Leading dots would hide the file (and `.`/`..` are not names); Windows drops trailing ones.
    let name = cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace());
    if name.is_empty() {
        return None;
    }
    let stem = name.split('.').next().unwrap_or_default().to_ascii_uppercase();
    let reserved = ["CON", "PRN", "AUX", "NUL"].contains(&stem.as_str())
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.ends_with(|c: char| c.is_ascii_digit()));
    let name = if reserved { format!("_{name}") } else { name.to_string() };
    if name.len() <= MAX_NAME_BYTES {
        return Some(name);
    }
    // Too long: shorten the stem, keep a short extension.
    let ext = name.rfind('.').map(|i| &name[i..]).filter(|ext| ext.len() <= 16).unwrap_or_default();
    let mut end = MAX_NAME_BYTES - ext.len();
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    Some(format!("{}{ext}", &name[..end]))
}

/// `Content-Range: bytes <start>-<end>/<total|*>` → (start, total).
fn content_range(headers: &HeaderMap) -> Option<(u64, Option<u64>)> {
    let value = headers.get(CONTENT_RANGE)?.to_str().ok()?;
    let (range, total) = value.trim().strip_prefix("bytes ")?.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let (start, end): (u64, u64) = (start.trim().parse().ok()?, end.trim().parse().ok()?);
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    (start <= end).then_some((start, total))
}

/// `Content-MD5` is base64 of the raw digest (RFC 1864); some servers send hex instead.
fn parse_content_md5(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?.trim();
    let digest = parse_hex_md5(text).or_else(|| {
        let raw = base64::engine::general_purpose::STANDARD.decode(text).ok()?;
        (raw.len() == 16).then(|| hex::encode(raw))
    });
    if digest.is_none() {
        tracing::debug!(value = text, "download: ignoring malformed Content-MD5");
    }
    digest
}

fn parse_hex_md5(text: &str) -> Option<String> {
    let text = text.trim();
    (text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit())).then(|| text.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_names() {
        assert_eq!(sanitize_file_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(sanitize_file_name(r"..\..\win.ini").as_deref(), Some("win.ini"));
        assert_eq!(sanitize_file_name("a\u{0}b?.mp4").as_deref(), Some("a_b_.mp4"));
        assert_eq!(sanitize_file_name(".hidden").as_deref(), Some("hidden"));
        assert_eq!(sanitize_file_name("nul.txt").as_deref(), Some("_nul.txt"));
        for bad in ["", "..", ".", "a/", " / ", "x/.."] {
            assert_eq!(sanitize_file_name(bad), None, "{bad:?}");
        }
        let long = sanitize_file_name(&format!("{}.mp4", "é".repeat(300))).unwrap();
        assert!(long.len() <= MAX_NAME_BYTES && long.ends_with(".mp4"), "{long}");
    }

    #[test]
    fn parses_content_range_and_content_md5() {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_RANGE, HeaderValue::from_static("bytes 100-199/200"));
        assert_eq!(content_range(&h), Some((100, Some(200))));
        h.insert(CONTENT_RANGE, HeaderValue::from_static("bytes 5-9/*"));
        assert_eq!(content_range(&h), Some((5, None)));
        h.insert(CONTENT_RANGE, HeaderValue::from_static("bytes */200"));
        assert_eq!(content_range(&h), None);
        // md5("") = d41d8cd98f00b204e9800998ecf8427e
        let b64 = HeaderValue::from_static("1B2M2Y8AsgTpgAmY7PhCfg==");
        assert_eq!(parse_content_md5(&b64).as_deref(), Some("d41d8cd98f00b204e9800998ecf8427e"));
        let hex = HeaderValue::from_static("D41D8CD98F00B204E9800998ECF8427E");
        assert_eq!(parse_content_md5(&hex).as_deref(), Some("d41d8cd98f00b204e9800998ecf8427e"));
        assert_eq!(parse_content_md5(&HeaderValue::from_static("bm9wZQ==")), None);
    }

    #[test]
    fn dirs_are_checked_before_anything_is_created() {
        let base = tempfile::tempdir().unwrap();
        let (out, elsewhere) = (base.path().join("out"), base.path().join("elsewhere"));
        std::fs::create_dir_all(&elsewhere).unwrap();
        assert_eq!(dir_inside(&out, "", None).unwrap(), out);
        assert_eq!(dir_inside(&out, "a/./b", None).unwrap(), out.join("a/b"));
        assert!(out.join("a/b").is_dir());
        std::os::unix::fs::symlink(&elsewhere, out.join("link")).unwrap();
        std::os::unix::fs::symlink(base.path().join("nowhere"), out.join("dangling")).unwrap();
        for (sub, says) in [
            ("link/newdir", "leads outside"),
            ("link", "leads outside"),
            ("dangling/x", "leads nowhere"),
            ("../x", "without `..`"),
            ("a/../../x", "without `..`"),
            ("/etc", "without `..` or a root"),
        ] {
            let e = dir_inside(&out, sub, Some(Vendor::Netease)).unwrap_err();
            assert_eq!(
                (e.kind(), e.vendor(), e.endpoint()),
                ("invalid_params", Some(Vendor::Netease), Some("download"))
            );
            assert!(e.to_string().contains(says) && e.to_string().contains("`subdir`"), "{sub}: {e}");
        }
        assert!(!elsewhere.join("newdir").exists() && !base.path().join("nowhere").exists());
        assert!(!base.path().join("x").exists());
    }

    #[test]
    fn debug_hides_the_callback() {
        let opts = DownloadOptions { progress: Some(Arc::new(|_| true)), ..Default::default() };
        let text = format!("{opts:?}");
        assert!(text.contains("<callback>") && text.contains("max_resumes: 5"), "{text}");
    }
}
