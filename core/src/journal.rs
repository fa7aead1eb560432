//! The run journal: what every run did and what it left running, crash-safe.
//!
//! A [`Journal`] is one SQLite file (default `$XDG_STATE_HOME/meetkit/runs.db`, or
//! `~/.local/state/meetkit/runs.db`; `MEETKIT_JOURNAL` or `--journal` to change) in WAL
//! mode. A run ([`RunJournal`]) records, as it happens:
//!
//! * the run: id, script, profile name and where the profile came from (never a secret),
//!   process id, start, end and status (`running`, `ok`, `failed`; `interrupted` when its
//!   process died without ending it);
//! * every call: vendor, endpoint, outcome (`ok` or the error kind), vendor code, duration;
//! * every resource a call created or started, from the vendor's lifecycle table
//!   ([`crate::lifecycle`]): rooms, meetings, recordings, lives, device calls, vmr host
//!   sessions, with the call that stops it, and whether it was stopped;
//! * every file downloaded (path, size, MD5).
//!
//! Each record is committed before the call's result reaches the caller, so a `kill -9`
//! loses at most the call in flight. [`cleanup`] stops what a run left running.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::endpoint::EndpointSpec;
use crate::lifecycle::{self, ResourceKind};
use crate::{Client, Error, Result, Vendor};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    script TEXT NOT NULL,
    profile TEXT NOT NULL,
    profile_source TEXT NOT NULL,
    pid INTEGER NOT NULL,
    pid_start TEXT,
    started_at REAL NOT NULL,
    ended_at REAL,
    status TEXT NOT NULL,
    error TEXT
);
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    vendor TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    started_at REAL NOT NULL,
    duration_ms REAL NOT NULL,
    outcome TEXT NOT NULL,
    code TEXT
);
CREATE TABLE IF NOT EXISTS resources (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    vendor TEXT NOT NULL,
    kind TEXT NOT NULL,
    start_endpoint TEXT NOT NULL,
    stop_endpoint TEXT NOT NULL,
    stop_params TEXT NOT NULL,
    started_at REAL NOT NULL,
    stopped_at REAL,
    stopped_by TEXT
);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    md5 TEXT,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_run ON calls(run_id);
CREATE INDEX IF NOT EXISTS resources_run ON resources(run_id);
CREATE INDEX IF NOT EXISTS files_run ON files(run_id);
CREATE TABLE IF NOT EXISTS callback_dedup (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    delivered_at_ms INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
";

/// One journal file, shared by every run that writes to it (also across processes).
pub struct Journal {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

/// The journal of one run, attached to a [`Client`] with [`Client::with_journal`].
#[derive(Clone, Debug)]
pub struct RunJournal {
    journal: Arc<Journal>,
    id: String,
    /// Whether this run has recorded a host session yet (until then, syncing sessions after
    /// a call reads nothing from the database).
    has_sessions: Arc<std::sync::atomic::AtomicBool>,
}

/// How a run ended (or that it has not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Still running (its process is alive).
    Running,
    /// Ended without an error.
    Ok,
    /// Ended with an error (or was cancelled).
    Failed,
    /// Its process died without ending it (`kill -9`, power loss).
    Interrupted,
}

impl RunStatus {
    /// `running`, `ok`, `failed`, `interrupted`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Ok => "ok",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> RunStatus {
        match s {
            "ok" => RunStatus::Ok,
            "failed" => RunStatus::Failed,
            "interrupted" => RunStatus::Interrupted,
            _ => RunStatus::Running,
        }
    }
}

/// One run, as `meetkit runs list` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    /// The run id.
    pub id: String,
    /// The script that ran.
    pub script: String,
    /// The profile's name.
    pub profile: String,
    /// Where the profile came from: `config`, `json:<file>`, `env`, `sim` (a fresh in-process
    /// simulator) or `sim:<dir>` (the simulator `meetkit sim start` runs from that folder).
    pub profile_source: String,
    /// The process that ran it.
    pub pid: u32,
    /// Start, seconds since the Unix epoch.
    pub started_at: f64,
    /// End, seconds since the Unix epoch.
    pub ended_at: Option<f64>,
    /// How it ended.
    pub status: RunStatus,
    /// The error it ended with.
    pub error: Option<String>,
    /// How many calls it made.
    pub calls: u64,
    /// How many of the things it started are still running (as far as the journal knows).
    pub left_running: u64,
}

/// One call of a run.
#[derive(Clone, Debug, Serialize)]
pub struct CallRecord {
    /// Vendor id.
    pub vendor: String,
    /// Endpoint id.
    pub endpoint: String,
    /// Start, seconds since the Unix epoch.
    pub started_at: f64,
    /// How long it took.
    pub duration_ms: f64,
    /// `ok`, or the error kind (`api`, `transport`, ...).
    pub outcome: String,
    /// The vendor's code (or HTTP status) of a failed call.
    pub code: Option<String>,
}

/// Something a run started. It reads back from its JSON form (a record handed to another
/// process, e.g. in a Temporal activity's heartbeat, is stopped with [`stop_resources`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResourceRecord {
    /// Its number in the journal (0 for a record not read from one).
    #[serde(default)]
    pub id: i64,
    /// Vendor id.
    pub vendor: String,
    /// `room`, `meeting`, `recording`, `live`, `device_call`, `media`, `session`.
    pub kind: String,
    /// The call that started it.
    pub start_endpoint: String,
    /// The call that stops it.
    pub stop_endpoint: String,
    /// The stopping call's parameters.
    pub stop_params: Map<String, Value>,
    /// When it was started.
    #[serde(default)]
    pub started_at: f64,
    /// When it was seen stopped (by the run, by a cleanup, or found gone).
    #[serde(default)]
    pub stopped_at: Option<f64>,
    /// `run`, `cleanup` or `gone` (the vendor said it was already stopped).
    #[serde(default)]
    pub stopped_by: Option<String>,
}

/// A file a run downloaded.
#[derive(Clone, Debug, Serialize)]
pub struct FileRecord {
    /// Where it was written.
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its MD5, when checked.
    pub md5: Option<String>,
}

/// Everything the journal knows of one run.
#[derive(Clone, Debug, Serialize)]
pub struct RunDetail {
    /// The run.
    pub run: RunSummary,
    /// Its calls, in order.
    pub calls: Vec<CallRecord>,
    /// What it started, in order.
    pub resources: Vec<ResourceRecord>,
    /// What it downloaded.
    pub files: Vec<FileRecord>,
}

/// meetkit's folder for state that outlives a process: `$XDG_STATE_HOME/meetkit`, else
/// `~/.local/state/meetkit` (the run journal's default folder, and `meetkit sim start`'s).
pub fn state_dir() -> PathBuf {
    std::env::var_os("XDG_STATE_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("meetkit")
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// How long a journal access waits for another process's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether SQLite said another connection holds the lock.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

fn db_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::config(format!("run journal {}: {e}", path.display()))
}

impl Journal {
    /// Where the journal lives unless told otherwise: `$MEETKIT_JOURNAL`, else
    /// `$XDG_STATE_HOME/meetkit/runs.db`, else `~/.local/state/meetkit/runs.db`.
    pub fn default_path() -> PathBuf {
        if let Some(p) = std::env::var_os("MEETKIT_JOURNAL").filter(|p| !p.is_empty()) {
            return PathBuf::from(p);
        }
        state_dir().join("runs.db")
    }

    /// Open (or create) the journal at `path`, creating its folder.
    pub fn open(path: &Path) -> Result<Arc<Journal>> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        // Several processes opening a new journal at once (parallel `meetkit run`s on a fresh
        // machine) contend for switching it to WAL and creating its tables; SQLite answers some
        // of those BUSY at once instead of waiting (it would deadlock otherwise), so the whole
        // open is tried again, for as long as the busy timeout.
        let deadline = Instant::now() + BUSY_TIMEOUT;
        let mut pause = Duration::from_millis(5);
        let conn = loop {
            match Self::connect(path) {
                Err(e) if is_busy(&e) && Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                other => break other.map_err(|e| db_error(path, e))?,
            }
        };
        Ok(Arc::new(Journal { conn: Mutex::new(conn), path: path.to_path_buf() }))
    }

    /// One attempt at opening the journal's database: WAL, the busy timeout, the tables.
    fn connect(path: &Path) -> rusqlite::Result<Connection> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // WAL + NORMAL: a committed record survives the process being killed.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(conn)
    }

    /// The journal's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn).map_err(|e| db_error(&self.path, e))
    }

    /// Whether the callback `key` of `scope` (the receiver's vendor and AppKey) was delivered
    /// at or after `since_ms` (UNIX ms): the callback receiver's de-duplication, kept across
    /// restarts (see [`crate::vendors::netease::webhook`]).
    pub fn callback_seen(&self, scope: &str, key: &str, since_ms: i64) -> Result<bool> {
        self.with(|c| {
            c.query_row(
                "SELECT 1 FROM callback_dedup WHERE scope = ?1 AND key = ?2 AND delivered_at_ms >= ?3",
                params![scope, key, since_ms],
                |_| Ok(()),
            )
            .optional()
            .map(|row| row.is_some())
        })
    }

    /// Record that the callback `key` of `scope` was delivered at `at_ms`, and forget the
    /// scope's callbacks delivered before `forget_before_ms` (outside the accepted window).
    pub fn callback_delivered(&self, scope: &str, key: &str, at_ms: i64, forget_before_ms: i64) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO callback_dedup (scope, key, delivered_at_ms) VALUES (?1, ?2, ?3)",
                params![scope, key, at_ms],
            )?;
            c.execute(
                "DELETE FROM callback_dedup WHERE scope = ?1 AND delivered_at_ms < ?2",
                params![scope, forget_before_ms],
            )?;
            Ok(())
        })
    }

    /// Start journaling a run of `script` with the profile `profile` (its name) that came
    /// from `profile_source` (`config`, `json:<file>`, `env`, `sim`, `sim:<dir>`).
    pub fn begin_run(self: &Arc<Self>, script: &str, profile: &str, profile_source: &str) -> Result<RunJournal> {
        let pid = std::process::id();
        let pid_start = process_start(pid);
        // Ids sort by start time (milliseconds) and carry 32 random bits; many runs begun in
        // the same millisecond (a load test, a Temporal worker) can still meet, so a taken id
        // is drawn again rather than failing the run.
        let id = self.with(|c| {
            let mut attempt = 0;
            loop {
                let id = format!("{}-{:08x}", (now() * 1000.0) as u64, rand::random::<u32>());
                match c.execute(
                    "INSERT INTO runs (id, script, profile, profile_source, pid, pid_start, started_at, status)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running')",
                    params![id, script, profile, profile_source, pid, pid_start, now()],
                ) {
                    Ok(_) => return Ok(id),
                    Err(rusqlite::Error::SqliteFailure(e, _))
                        if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY && attempt < 16 =>
                    {
                        attempt += 1
                    }
                    Err(e) => return Err(e),
                }
            }
        })?;
        Ok(RunJournal { journal: self.clone(), id, has_sessions: Default::default() })
    }

    /// Every run, newest first. Runs whose process died are marked `interrupted` here.
    pub fn runs(&self) -> Result<Vec<RunSummary>> {
        self.mark_dead_runs()?;
        self.with(|c| {
            let mut stmt = c.prepare(&format!("{SUMMARY} ORDER BY r.started_at DESC"))?;
            let rows = stmt.query_map([], summary_row)?;
            rows.collect()
        })
    }

    /// One run with its calls, resources and files; an unknown id is an error listing how to
    /// find the ids.
    pub fn run(&self, id: &str) -> Result<RunDetail> {
        self.mark_dead_runs()?;
        let run = self
            .with(|c| c.query_row(&format!("{SUMMARY} WHERE r.id = ?1"), [id], summary_row).optional())?
            .ok_or_else(|| {
                Error::config(format!(
                    "no run `{id}` in the journal {} (`meetkit runs list` shows the ids)",
                    self.path.display()
                ))
            })?;
        let calls = self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT vendor, endpoint, started_at, duration_ms, outcome, code FROM calls WHERE run_id = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([id], |r| {
                Ok(CallRecord {
                    vendor: r.get(0)?,
                    endpoint: r.get(1)?,
                    started_at: r.get(2)?,
                    duration_ms: r.get(3)?,
                    outcome: r.get(4)?,
                    code: r.get(5)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        let resources = self.resources(id)?;
        let files = self.with(|c| {
            let mut stmt = c.prepare("SELECT path, size, md5 FROM files WHERE run_id = ?1 ORDER BY id")?;
            let rows = stmt.query_map([id], |r| Ok(FileRecord { path: r.get(0)?, size: r.get(1)?, md5: r.get(2)? }))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        Ok(RunDetail { run, calls, resources, files })
    }

    fn resources(&self, run: &str) -> Result<Vec<ResourceRecord>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT id, vendor, kind, start_endpoint, stop_endpoint, stop_params, started_at, stopped_at, stopped_by
                 FROM resources WHERE run_id = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([run], |r| {
                let params: String = r.get(5)?;
                Ok(ResourceRecord {
                    id: r.get(0)?,
                    vendor: r.get(1)?,
                    kind: r.get(2)?,
                    start_endpoint: r.get(3)?,
                    stop_endpoint: r.get(4)?,
                    stop_params: serde_json::from_str(&params).unwrap_or_default(),
                    started_at: r.get(6)?,
                    stopped_at: r.get(7)?,
                    stopped_by: r.get(8)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })
    }

    /// Runs marked `running` whose process is gone become `interrupted`.
    fn mark_dead_runs(&self) -> Result<()> {
        let running: Vec<(String, u32, Option<String>)> = self.with(|c| {
            let mut stmt = c.prepare("SELECT id, pid, pid_start FROM runs WHERE status = 'running'")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect()
        })?;
        for (id, pid, start) in running {
            if !process_alive(pid, start.as_deref()) {
                self.with(|c| {
                    c.execute(
                        "UPDATE runs SET status = 'interrupted', error = 'the process ended without ending the run' \
                         WHERE id = ?1 AND status = 'running'",
                        [&id],
                    )
                })?;
            }
        }
        Ok(())
    }

    fn mark_stopped(&self, resource: i64, by: &str) -> Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE resources SET stopped_at = ?1, stopped_by = ?2 WHERE id = ?3 AND stopped_at IS NULL",
                params![now(), by, resource],
            )
        })
        .map(|_| ())
    }
}

/// A run with its call count and how much it left running; rows read by [`summary_row`].
const SUMMARY: &str = "SELECT r.id, r.script, r.profile, r.profile_source, r.pid, r.started_at, r.ended_at, r.status,
        r.error, (SELECT COUNT(*) FROM calls WHERE run_id = r.id),
        (SELECT COUNT(*) FROM resources WHERE run_id = r.id AND stopped_at IS NULL)
    FROM runs r";

fn summary_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunSummary> {
    let status: String = r.get(7)?;
    Ok(RunSummary {
        id: r.get(0)?,
        script: r.get(1)?,
        profile: r.get(2)?,
        profile_source: r.get(3)?,
        pid: r.get(4)?,
        started_at: r.get(5)?,
        ended_at: r.get(6)?,
        status: RunStatus::parse(&status),
        error: r.get(8)?,
        calls: r.get(9)?,
        left_running: r.get(10)?,
    })
}

/// The start time of a process as the kernel counts it (`/proc/<pid>/stat` field 22), so a
/// reused pid is not taken for the run's process.
fn process_start(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    after.split_whitespace().nth(19).map(str::to_string)
}

fn process_alive(pid: u32, start: Option<&str>) -> bool {
    match (process_start(pid), start) {
        (Some(now), Some(then)) => now == then,
        (Some(_), None) => true,
        (None, _) => !Path::new("/proc/self").exists() && pid == std::process::id(),
    }
}

/// A string form of a parameter value for matching (`"12"` and `12` are the same id).
fn key_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl RunJournal {
    /// The run id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The journal this run writes to.
    pub fn journal(&self) -> &Arc<Journal> {
        &self.journal
    }

    /// Record one call and what it started or stopped. Failures to write are logged, never
    /// returned: the vendor's answer matters more than the journal.
    pub(crate) fn call(
        &self,
        vendor: Vendor,
        spec: &EndpointSpec,
        params: &Map<String, Value>,
        outcome: &Result<Value>,
        started: SystemTime,
        took: Duration,
    ) {
        if let Err(e) = self.try_call(vendor, spec, params, outcome, started, took) {
            tracing::warn!(error = %e, "the run journal could not record a call");
        }
    }

    fn try_call(
        &self,
        vendor: Vendor,
        spec: &EndpointSpec,
        params: &Map<String, Value>,
        outcome: &Result<Value>,
        started: SystemTime,
        took: Duration,
    ) -> Result<()> {
        let started_at = started.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        let (kind, code) = match outcome {
            Ok(_) => ("ok", None),
            Err(e) => (e.kind(), e.vendor_code()),
        };
        self.journal.with(|c| {
            c.execute(
                "INSERT INTO calls (run_id, vendor, endpoint, started_at, duration_ms, outcome, code)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![self.id, vendor.as_str(), spec.id, started_at, took.as_secs_f64() * 1000.0, kind, code],
            )
        })?;
        match outcome {
            Ok(result) => {
                if let Some(row) = lifecycle::started_by(vendor, spec.id) {
                    let stop = row.stop_call(params, result);
                    self.started(vendor, row.kind, row.start, row.stop, &stop)?;
                }
                self.stopped(vendor, spec.id, params, "run")?;
            }
            Err(e) => {
                if lifecycle::says_gone(vendor, spec.id, e) {
                    self.stopped(vendor, spec.id, params, "gone")?;
                }
                // A start whose answer was lost may have started it: record it when its stop
                // call can be made from the parameters alone, so a cleanup tries (a stop of
                // something never started ends with one of the row's "gone" codes).
                if let (Error::OutcomeUnknown { .. }, Some(row)) = (e, lifecycle::started_by(vendor, spec.id)) {
                    let stop = row.stop_call(params, &Value::Null);
                    if stop.len() == row.stop_params.len() {
                        self.started(vendor, row.kind, row.start, row.stop, &stop)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Record that something was started (vmr host sessions are recorded this way by the client).
    pub(crate) fn started(
        &self,
        vendor: Vendor,
        kind: ResourceKind,
        start: &str,
        stop: &str,
        stop_params: &Map<String, Value>,
    ) -> Result<()> {
        let params = Value::Object(stop_params.clone()).to_string();
        self.journal.with(|c| {
            c.execute(
                "INSERT INTO resources (run_id, vendor, kind, start_endpoint, stop_endpoint, stop_params, started_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![self.id, vendor.as_str(), kind.as_str(), start, stop, params, now()],
            )
        })?;
        Ok(())
    }

    /// Mark this run's resources that `endpoint` with `params` stops as stopped.
    pub(crate) fn stopped(&self, vendor: Vendor, endpoint: &str, params: &Map<String, Value>, by: &str) -> Result<()> {
        // Every resource's stop endpoint is some lifecycle row's stop (sessions use vmr's
        // participant.disconnect): an endpoint that stops nothing needs no database read.
        if lifecycle::stopped_by(vendor, endpoint).next().is_none() {
            return Ok(());
        }
        let stops = |r: &ResourceRecord| {
            r.stop_endpoint == endpoint
                || lifecycle::started_by(vendor, &r.start_endpoint)
                    .is_some_and(|row| row.also_stopped_by.contains(&endpoint))
        };
        let open = self.journal.resources(&self.id)?;
        for r in open.iter().filter(|r| r.stopped_at.is_none() && r.vendor == vendor.as_str() && stops(r)) {
            let matches = r.stop_params.iter().all(|(k, v)| params.get(k).is_some_and(|p| key_text(p) == key_text(v)));
            if matches {
                self.journal.mark_stopped(r.id, by)?;
            }
        }
        Ok(())
    }

    /// Bring the journal's view of `vendor`'s host sessions in line with `open` (`(room,
    /// participant uuid)` pairs open now): new ones are recorded as started (stopped by
    /// disconnecting their participant), recorded ones no longer open as stopped.
    pub(crate) fn sessions(&self, vendor: Vendor, open: &[(String, String)]) {
        use std::sync::atomic::Ordering;
        // Most calls (every vendor but vmr, and vmr before its first session) have nothing to sync.
        if open.is_empty() && !self.has_sessions.load(Ordering::Relaxed) {
            return;
        }
        self.has_sessions.store(true, Ordering::Relaxed);
        let result = (|| -> Result<()> {
            let known = self.journal.resources(&self.id)?;
            let known: Vec<&ResourceRecord> = known
                .iter()
                .filter(|r| r.vendor == vendor.as_str() && r.kind == ResourceKind::Session.as_str())
                .collect();
            let uuid = |r: &ResourceRecord| r.stop_params.get("uuid").and_then(Value::as_str).map(str::to_string);
            for (room, participant) in open {
                if !known.iter().any(|r| uuid(r).as_deref() == Some(participant.as_str())) {
                    let mut stop = Map::new();
                    stop.insert("room".into(), Value::String(room.clone()));
                    stop.insert("uuid".into(), Value::String(participant.clone()));
                    self.started(vendor, ResourceKind::Session, "session.new", "participant.disconnect", &stop)?;
                }
            }
            for r in known.iter().filter(|r| r.stopped_at.is_none()) {
                if !open.iter().any(|(_, p)| uuid(r).as_deref() == Some(p.as_str())) {
                    self.journal.mark_stopped(r.id, "run")?;
                }
            }
            Ok(())
        })();
        if let Err(e) = result {
            tracing::warn!(error = %e, "the run journal could not record the sessions");
        }
    }

    /// Record a downloaded file.
    pub fn file(&self, path: &Path, size: u64, md5: Option<&str>) {
        let result = self.journal.with(|c| {
            c.execute(
                "INSERT INTO files (run_id, path, size, md5, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![self.id, path.display().to_string(), size, md5, now()],
            )
        });
        if let Err(e) = result {
            tracing::warn!(error = %e, "the run journal could not record a download");
        }
    }

    /// End the run: `ok` when `error` is `None`, else `failed` with the error's text.
    pub fn finish(&self, error: Option<&Error>) {
        let (status, text) = match error {
            None => (RunStatus::Ok, None),
            Some(e) => (RunStatus::Failed, Some(e.to_string())),
        };
        let result = self.journal.with(|c| {
            c.execute(
                "UPDATE runs SET status = ?1, ended_at = ?2, error = ?3 WHERE id = ?4",
                params![status.as_str(), now(), text, self.id],
            )
        });
        if let Err(e) = result {
            tracing::warn!(error = %e, "the run journal could not record the end of the run");
        }
    }
}

/// What [`cleanup`] did (or, with `dry_run`, would do) about one resource.
#[derive(Clone, Debug, Serialize)]
pub struct CleanupStep {
    /// The resource.
    pub resource: ResourceRecord,
    /// `would_stop` (dry run), `stopped`, `already_stopped` (the vendor said so),
    /// `failed`, or `kept` (a room or meeting, without `end_rooms`).
    pub outcome: &'static str,
    /// The error of a failed stop, or the vendor code of an `already_stopped` one.
    pub detail: Option<String>,
}

/// Stop what run `run` left running, through `client` (a client for the same servers as the
/// run). Rooms and meetings are ended only with `end_rooms`. Idempotent: what is stopped is
/// marked so in the journal and not touched again. Device calls go first, then media,
/// recordings, lives and sessions, then rooms and meetings; each kind newest first.
pub async fn cleanup(
    journal: &Journal,
    client: &Client,
    run: &str,
    end_rooms: bool,
    dry_run: bool,
) -> Result<Vec<CleanupStep>> {
    let detail = journal.run(run)?;
    if detail.run.status == RunStatus::Running {
        return Err(Error::config(format!(
            "run {run} is still running (pid {}); stop it first (Ctrl-C or kill -TERM {}), it cleans up itself",
            detail.run.pid, detail.run.pid
        )));
    }
    let open: Vec<ResourceRecord> = detail.resources.into_iter().filter(|r| r.stopped_at.is_none()).collect();
    stop_each(client, open, end_rooms, dry_run, |id, by| journal.mark_stopped(id, by)).await
}

/// Stop `resources` (records of this journal's shape, from any run or process: a Temporal
/// activity's heartbeat carries them to another worker) through `client`, as [`cleanup`]
/// does, without a journal: records already marked stopped are skipped, rooms and meetings
/// are ended only with `end_rooms`, and a stop the vendor answers with one of the lifecycle
/// table's "nothing to stop" codes is `already_stopped`, so running it twice is harmless.
pub async fn stop_resources(
    client: &Client,
    resources: Vec<ResourceRecord>,
    end_rooms: bool,
    dry_run: bool,
) -> Result<Vec<CleanupStep>> {
    let open: Vec<ResourceRecord> = resources.into_iter().filter(|r| r.stopped_at.is_none()).collect();
    stop_each(client, open, end_rooms, dry_run, |_, _| Ok(())).await
}

/// Whether `code`, answered by `vendor`'s `endpoint`, means there was nothing (left) to stop:
/// one of the "gone" codes of a lifecycle row that `endpoint` stops. A compensation that
/// stops something twice treats such an answer as done.
pub fn stop_says_gone(vendor: Vendor, endpoint: &str, code: &str) -> bool {
    lifecycle::code_says_gone(vendor, endpoint, code)
}

/// The stopping shared by [`cleanup`] and [`stop_resources`]: device calls first, then media,
/// recordings, lives and sessions, then rooms and meetings; each kind newest first (by
/// journal number, then start time). `mark` records a resource as stopped (`cleanup` or `gone`).
async fn stop_each(
    client: &Client,
    mut open: Vec<ResourceRecord>,
    end_rooms: bool,
    dry_run: bool,
    mark: impl Fn(i64, &str) -> Result<()>,
) -> Result<Vec<CleanupStep>> {
    let order = |kind: &str| match ResourceKind::named(kind) {
        Some(ResourceKind::DeviceCall) => 0,
        Some(ResourceKind::Media) => 1,
        Some(ResourceKind::Recording) => 2,
        Some(ResourceKind::Live) => 3,
        Some(ResourceKind::Session) => 4,
        _ => 5,
    };
    open.sort_by(|a, b| {
        (order(&a.kind), -a.id)
            .cmp(&(order(&b.kind), -b.id))
            .then(b.started_at.partial_cmp(&a.started_at).unwrap_or(std::cmp::Ordering::Equal))
    });
    let mut steps = Vec::new();
    for resource in open {
        let is_room = ResourceKind::named(&resource.kind).is_some_and(ResourceKind::is_room);
        if is_room && !end_rooms {
            steps.push(CleanupStep { resource, outcome: "kept", detail: None });
            continue;
        }
        if dry_run {
            steps.push(CleanupStep { resource, outcome: "would_stop", detail: None });
            continue;
        }
        let vendor: Vendor = resource.vendor.parse()?;
        let params = Value::Object(resource.stop_params.clone());
        let (outcome, text) = match client.call(vendor, &resource.stop_endpoint, params).await {
            Ok(_) => {
                mark(resource.id, "cleanup")?;
                ("stopped", None)
            }
            Err(e) => {
                if lifecycle::says_gone(vendor, &resource.stop_endpoint, &e) {
                    mark(resource.id, "gone")?;
                    ("already_stopped", e.vendor_code())
                } else {
                    ("failed", Some(e.to_string()))
                }
            }
        };
        steps.push(CleanupStep { resource, outcome, detail: text });
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_first_opens_of_one_journal_at_once_all_succeed() {
        // 20 rounds: without the retry in `open`, about one round in twenty saw "database is
        // locked" (four `meetkit run`s started at once on a fresh journal hit it too).
        for round in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("runs.db");
            let opens: Vec<_> = (0..8)
                .map(|_| {
                    let path = path.clone();
                    std::thread::spawn(move || Journal::open(&path).and_then(|j| j.begin_run("s.rhai", "p", "sim")))
                })
                .collect();
            for open in opens {
                if let Err(e) = open.join().unwrap() {
                    panic!("round {round}: {e}");
                }
            }
            assert_eq!(Journal::open(&path).unwrap().runs().unwrap().len(), 8);
        }
    }

    #[test]
    fn a_run_its_calls_and_what_it_left_running() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(&dir.path().join("deep/runs.db")).unwrap();
        let run = journal.begin_run("w.rhai", "lab", "config").unwrap();
        let spec = crate::Client::spec(Vendor::Avd, "room.mix_record.start").unwrap();
        let params = serde_json::json!({"room_id": "r1"});
        let params = params.as_object().unwrap();
        run.call(
            Vendor::Avd,
            spec,
            params,
            &Ok(serde_json::json!({"record_id": "x"})),
            SystemTime::now(),
            Duration::ZERO,
        );
        let detail = journal.run(run.id()).unwrap();
        assert_eq!(detail.run.status, RunStatus::Running);
        assert_eq!(detail.calls.len(), 1);
        assert_eq!(detail.resources.len(), 1);
        assert_eq!(detail.resources[0].stop_endpoint, "room.mix_record.stop");
        assert_eq!(detail.run.left_running, 1);
        // The matching stop (with more parameters than needed) marks it stopped.
        let stop = crate::Client::spec(Vendor::Avd, "room.mix_record.stop").unwrap();
        let sp = serde_json::json!({"room_id": "r1", "record_id": "x"});
        run.call(Vendor::Avd, stop, sp.as_object().unwrap(), &Ok(Value::Null), SystemTime::now(), Duration::ZERO);
        assert_eq!(journal.run(run.id()).unwrap().run.left_running, 0);
        run.finish(None);
        let runs = journal.runs().unwrap();
        assert_eq!((runs.len(), runs[0].status), (1, RunStatus::Ok));
        assert!(journal.run("nope").unwrap_err().to_string().contains("meetkit runs list"));
    }

    #[test]
    fn runs_begun_in_the_same_millisecond_each_get_their_own_id() {
        // The load test begins a thousand runs at once; with 16 random bits two of them met
        // and the second run failed to start.
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(&dir.path().join("runs.db")).unwrap();
        let ids: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let journal = journal.clone();
                    s.spawn(move || {
                        (0..1000)
                            .map(|i| journal.begin_run(&format!("w{i}"), "p", "sim").unwrap().id().to_string())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        let unique: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), 4000);
        assert_eq!(journal.runs().unwrap().len(), 4000);
    }

    #[test]
    fn a_stop_answered_with_a_gone_code_says_gone() {
        assert!(stop_says_gone(Vendor::Avd, "room.mix_record.stop", "40041"));
        assert!(stop_says_gone(Vendor::Avd, "room.close", "41005"));
        assert!(stop_says_gone(Vendor::Vmr, "record.close", "200007"));
        assert!(!stop_says_gone(Vendor::Avd, "room.mix_record.stop", "40005"));
        assert!(!stop_says_gone(Vendor::Avd, "room.create", "40004"), "room.create stops nothing");
    }

    #[test]
    fn a_run_whose_process_died_is_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(&dir.path().join("runs.db")).unwrap();
        let run = journal.begin_run("w.rhai", "lab", "config").unwrap();
        // Pretend another process (one that has ended) wrote it.
        journal
            .with(|c| c.execute("UPDATE runs SET pid = 4194305, pid_start = 'x' WHERE id = ?1", [run.id()]))
            .unwrap();
        assert_eq!(journal.runs().unwrap()[0].status, RunStatus::Interrupted);
    }
}
