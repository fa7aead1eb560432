//! `meetkit webhook` against the internet: a callback captured and replayed after the receiver
//! restarted with the same dedup journal is answered 200 and not printed again (with
//! `--no-journal` it is), and a flood of unsigned requests writes a bounded number of WARN lines
//! that carry counts.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use meetkit::vendors::netease::sign;
use serde_json::{json, Value};

const APP_KEY: &str = "hook-app-key";
const APP_SECRET: &str = "hook-app-secret-value";

/// A callback as NetEase signs it: the exact headers and body, to replay byte for byte.
struct Captured {
    nonce: String,
    cur_time: String,
    checksum: String,
    body: String,
}

fn capture(unique: i64) -> Captured {
    let body = json!({"msgType": 1, "msgBody": {"meetingUniqueId": unique, "meetingId": "123", "type": 3}}).to_string();
    let cur_time = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis().to_string();
    let nonce = format!("nonce{unique}");
    let checksum = sign::callback_checksum(APP_SECRET, &nonce, &cur_time, body.as_bytes());
    Captured { nonce, cur_time, checksum, body }
}

/// A `meetkit webhook` process, killed when dropped; its stdout lines arrive on a channel.
struct Receiver {
    child: Child,
    lines: mpsc::Receiver<String>,
    port: u16,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &Path, extra: &[&str]) -> Receiver {
    // Its own statement: the probe listener must be closed before the receiver binds the port.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    start_on(dir, port, extra)
}

/// [`start`] on `port` (a restart of a receiver listens where it did before).
fn start_on(dir: &Path, port: u16, extra: &[&str]) -> Receiver {
    let profile = dir.join("profile.json");
    let line = json!({"netease": {"base_url": "http://127.0.0.1:9", "app_key": APP_KEY, "app_secret": APP_SECRET}});
    std::fs::write(&profile, line.to_string()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_meetkit"))
        .args(["webhook", "netease", "--port", &port.to_string(), "--profile-json", profile.to_str().unwrap()])
        .args(extra)
        .env("MEETKIT_JOURNAL", dir.join("default-journal.db"))
        .env_remove("MEETKIT_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout: ChildStdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    Receiver { child, lines, port }
}

/// POST the callback (retrying while the receiver is still binding); the HTTP status.
fn send(rt: &tokio::runtime::Runtime, port: u16, c: &Captured, signed: bool) -> u16 {
    let url = format!("http://127.0.0.1:{port}/netease/callback");
    rt.block_on(async {
        let started = Instant::now();
        loop {
            let mut req = reqwest::Client::new().post(&url).body(c.body.clone());
            if signed {
                req = req
                    .header("AppKey", APP_KEY)
                    .header("Nonce", &c.nonce)
                    .header("CurTime", &c.cur_time)
                    .header("CheckSum", &c.checksum);
            }
            match req.send().await {
                Ok(r) => return r.status().as_u16(),
                Err(e) if e.is_connect() && started.elapsed() < Duration::from_secs(30) => {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                Err(e) => panic!("cannot reach the receiver: {e}"),
            }
        }
    })
}

/// The `meetingUniqueId` of the next printed event.
fn next_unique(r: &Receiver) -> i64 {
    let line = r.lines.recv_timeout(Duration::from_secs(30)).expect("an event line");
    let v: Value = serde_json::from_str(&line).unwrap();
    v["data"]["msgBody"]["meetingUniqueId"].as_i64().unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn a_replayed_callback_is_not_printed_again_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let journal = dir.path().join("dedup.db");
    let journal_arg = ["--journal", journal.to_str().unwrap()];
    let captured = capture(41);

    let first = start(dir.path(), &journal_arg);
    let port = first.port;
    assert_eq!(send(&rt, first.port, &captured, true), 200);
    assert_eq!(next_unique(&first), 41);
    drop(first);

    // Restarted on the same journal and port: the replay is answered 200 (so NetEase stops
    // resending) but not printed; the next event printed is the new one.
    let second = start_on(dir.path(), port, &journal_arg);
    assert_eq!(send(&rt, second.port, &captured, true), 200);
    assert_eq!(send(&rt, second.port, &capture(42), true), 200);
    assert_eq!(next_unique(&second), 42, "the replayed callback was printed again");
    drop(second);

    // The default dedup store is the run journal ($MEETKIT_JOURNAL here), and it too survives.
    let third = start(dir.path(), &[]);
    let port = third.port;
    assert_eq!(send(&rt, third.port, &captured, true), 200);
    assert_eq!(next_unique(&third), 41, "first delivery through the default journal");
    drop(third);
    let fourth = start_on(dir.path(), port, &[]);
    assert_eq!(send(&rt, fourth.port, &captured, true), 200);
    assert_eq!(send(&rt, fourth.port, &capture(43), true), 200);
    assert_eq!(next_unique(&fourth), 43);
    drop(fourth);

    // --no-journal: a restart forgets, and the replay is printed.
    let forgetful = start(dir.path(), &["--no-journal"]);
    assert_eq!(send(&rt, forgetful.port, &captured, true), 200);
    assert_eq!(next_unique(&forgetful), 41);
}

#[test]
fn a_flood_of_unsigned_requests_writes_few_warn_lines_with_counts() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut r = start(dir.path(), &["--no-journal"]);
    let junk = capture(1);
    for _ in 0..200 {
        assert_eq!(send(&rt, r.port, &junk, false), 401);
    }
    // A signed event after the flood: once it is printed, the refusals were all handled.
    assert_eq!(send(&rt, r.port, &capture(2), true), 200);
    assert_eq!(next_unique(&r), 2);
    let _ = r.child.kill();
    let _ = r.child.wait();
    let mut stderr = String::new();
    r.child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let warns: Vec<&str> = stderr.lines().filter(|l| l.contains("refused since the last report")).collect();
    // One line per 10 s interval (the default): the run takes far less than 10 s per line.
    assert!(!warns.is_empty() && warns.len() <= 3, "{stderr}");
    assert!(warns[0].contains("1 request(s) refused"), "{stderr}");
    assert!(!stderr.contains(APP_SECRET), "{stderr}");
}
