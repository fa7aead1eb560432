//! `meetkit-sim`: stateful HTTP simulators of the vendor APIs meetkit
//! talks to, written from the vendors' documentation.
//!
//! Each vendor is served on its own port, together with a vendor-neutral
//! admin API under `/_sim/` (health, reset, virtual clock, state dump,
//! request statistics, fault injection) and vendor-specific admin routes
//! under `/_sim/<vendor>/`.
//!
//! Admin API (every server, same port as the vendor):
//!
//! - `GET /_sim/health` -> `{"ok":true}`
//! - `POST /_sim/reset`: wipe vendor state, faults and statistics (the
//!   virtual clock keeps its offset)
//! - `GET /_sim/clock`, `POST /_sim/clock/advance {"seconds": f64}`
//! - `GET /_sim/state`: JSON dump of the vendor state
//! - `GET /_sim/stats` -> `{"requests": {"<path>": n}}` (`DELETE` clears)
//! - `GET|POST|DELETE /_sim/faults`: list / arm one more / disarm all
//!   faults (`latency_ms`, `error_rate`, `error_status`, `error_code`,
//!   `drop_rate`, `malformed_rate`, `drop_after_bytes`, `paths`, `count`,
//!   `seed`)
//!
//! AVD extras: `POST /_sim/avd/tokens/expire`,
//! `POST /_sim/avd/rooms/{room_id}/join {"user_id","user_name","type"}`,
//! `POST /_sim/avd/rooms/{room_id}/leave {"user_id"}`,
//! `POST /_sim/avd/rooms/{room_id}/chat {"from_id","message","from_name"?}`,
//! `POST /_sim/avd/calls/{call_id}/hangup`.
//!
//! NetEase extras: `POST /_sim/netease/callback_url {"url": "..."|null}`,
//! `GET /_sim/netease/callbacks` (deliveries and their attempts),
//! `POST /_sim/netease/meetings/{meetingUniqueId}/start` (open the AV room
//! now), `.../join {"accountId","deviceId"?}`, `.../leave {"accountId"}`,
//! `.../end {"reason": 1|2|3}`.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sim = meetkit_sim::Simulator::start(Default::default()).await?;
//! println!("AVD at {}", sim.avd_base_url());
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod avd;
mod common;
mod netease;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use common::Clock;

/// Options for [`Simulator::start`].
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Address to bind every vendor server to (default `127.0.0.1`).
    pub host: IpAddr,
    /// `None`: ephemeral ports. `Some(n)`: AVD on `n`, later vendors on
    /// `n + 1`, `n + 2`, ...
    pub port_base: Option<u16>,
    /// AVD (3tee) simulator options.
    pub avd: AvdOptions,
    /// NetEase Meeting simulator options.
    pub netease: NeteaseOptions,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port_base: None,
            avd: AvdOptions::default(),
            netease: NeteaseOptions::default(),
        }
    }
}

/// Options of the AVD (3tee `sdkapi/v2`) simulator.
#[derive(Debug, Clone)]
pub struct AvdOptions {
    /// Accepted `access_key` of `/app/get_token` (default `sim-access-key`).
    pub access_key: String,
    /// Accepted `secret_key` of `/app/get_token` (default `sim-secret-key`).
    pub secret_key: String,
    /// Token lifetime in virtual time (default 2 hours).
    pub token_ttl: Duration,
    /// Virtual time a device invite stays in status 0 before it connects
    /// (status 1) or fails (status 3). Default 1 s.
    pub invite_delay: Duration,
    /// Size of produced recording files per recorded (virtual) second.
    /// Default 32 KiB.
    pub record_bytes_per_second: u64,
}

impl Default for AvdOptions {
    fn default() -> Self {
        AvdOptions {
            access_key: "sim-access-key".into(),
            secret_key: "sim-secret-key".into(),
            token_ttl: Duration::from_secs(2 * 3600),
            invite_delay: Duration::from_secs(1),
            record_bytes_per_second: 32 * 1024,
        }
    }
}

/// Options of the NetEase Meeting simulator.
#[derive(Clone)]
pub struct NeteaseOptions {
    /// Accepted `AppKey` (default `sim-app-key`).
    pub app_key: String,
    /// `AppSecret` paired with the key (default `sim-app-secret`); never
    /// printed by `Debug`.
    pub app_secret: String,
    /// Where signed callbacks are POSTed (default none; replaceable at run
    /// time with `POST /_sim/netease/callback_url`).
    pub callback_url: Option<String>,
    /// Waits before the resends of a callback that did not get HTTP 200,
    /// each from the previous attempt (doc: 2 s, 4 s, 6 s, 1 h, 1 h).
    pub callback_schedule: Vec<Duration>,
    /// Multiplier of the real-time resend waits (1.0 = as scheduled; tests
    /// use e.g. 0.01).
    pub callback_time_scale: f64,
    /// Virtual time between a meeting's end and its recordings appearing
    /// (default 60 s).
    pub record_delay: Duration,
    /// Single-meeting time limit after the AV room opens (virtual time;
    /// doc default 2 h), ended with reason 3.
    pub max_meeting_duration: Duration,
    /// Size of the mixed mp4 recording per recorded (virtual) second; the
    /// aac file is an eighth of it (default 16 KiB).
    pub record_bytes_per_second: u64,
}

impl Default for NeteaseOptions {
    fn default() -> Self {
        NeteaseOptions {
            app_key: "sim-app-key".into(),
            app_secret: "sim-app-secret".into(),
            callback_url: None,
            callback_schedule: [2, 4, 6, 3600, 3600].map(Duration::from_secs).to_vec(),
            callback_time_scale: 1.0,
            record_delay: Duration::from_secs(60),
            max_meeting_duration: Duration::from_secs(2 * 3600),
            record_bytes_per_second: 16 * 1024,
        }
    }
}

impl std::fmt::Debug for NeteaseOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NeteaseOptions")
            .field("app_key", &self.app_key)
            .field("app_secret", &"<redacted>")
            .field("callback_url", &self.callback_url)
            .field("callback_schedule", &self.callback_schedule)
            .field("callback_time_scale", &self.callback_time_scale)
            .field("record_delay", &self.record_delay)
            .field("max_meeting_duration", &self.max_meeting_duration)
            .field("record_bytes_per_second", &self.record_bytes_per_second)
            .finish()
    }
}

/// A running set of simulated vendor servers. Stops when
/// [`shutdown`](Simulator::shutdown) is awaited or when dropped.
pub struct Simulator {
    avd_addr: SocketAddr,
    avd_opts: AvdOptions,
    netease_addr: SocketAddr,
    netease_opts: NeteaseOptions,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Simulator {
    /// Bind every vendor server and serve them on the current tokio
    /// runtime in background tasks.
    pub async fn start(opts: SimOptions) -> std::io::Result<Simulator> {
        let clock = Arc::new(Clock::default());
        let (stop, stop_rx) = watch::channel(false);

        let avd_port = opts.port_base.unwrap_or(0);
        let listener = TcpListener::bind(SocketAddr::new(opts.host, avd_port)).await?;
        let avd_addr = listener.local_addr()?;
        let avd = Arc::new(avd::Avd::new(opts.avd.clone(), clock.clone(), base_url(avd_addr)));
        let mut tasks = vec![common::launch(listener, avd::router(avd.clone()), avd, clock.clone(), stop_rx.clone())];
        // Further vendors: bind `port_base + 1`, `+ 2`, ... and `launch`
        // them with the same clock and stop signal.

        let netease_port = opts.port_base.map(|n| n + 4).unwrap_or(0);
        let listener = TcpListener::bind(SocketAddr::new(opts.host, netease_port)).await?;
        let netease_addr = listener.local_addr()?;
        let netease = Arc::new(netease::Netease::new(opts.netease.clone(), clock.clone(), base_url(netease_addr)));
        tasks.extend(netease.spawn_workers(stop_rx.clone()));
        tasks.push(common::launch(listener, netease::router(netease.clone()), netease, clock, stop_rx));

        Ok(Simulator { avd_addr, avd_opts: opts.avd, netease_addr, netease_opts: opts.netease, stop, tasks })
    }

    /// Connection profile for clients:
    /// `{"avd": {"base_url", "access_key", "secret_key"},
    ///   "netease": {"base_url", "app_key", "app_secret"}}`.
    pub fn profile(&self) -> Value {
        json!({
            "avd": {
                "base_url": self.avd_base_url(),
                "access_key": self.avd_opts.access_key,
                "secret_key": self.avd_opts.secret_key,
            },
            "netease": {
                "base_url": self.netease_base_url(),
                "app_key": self.netease_opts.app_key,
                "app_secret": self.netease_opts.app_secret,
            }
        })
    }

    /// Root URL of the AVD server, e.g. `http://127.0.0.1:40123` (without
    /// the `/sdkapi/v2` prefix).
    pub fn avd_base_url(&self) -> String {
        base_url(self.avd_addr)
    }

    /// Root URL of the NetEase server, e.g. `http://127.0.0.1:40127` (the
    /// API lives under `/v1/...` and `/v2/...`).
    pub fn netease_base_url(&self) -> String {
        base_url(self.netease_addr)
    }

    /// Stop accepting, let open connections finish (at most 5 s) and wait
    /// for the server tasks.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// `http://host:port` for a bound address; unspecified addresses are
/// reached through loopback.
fn base_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}
