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
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions { host: IpAddr::V4(Ipv4Addr::LOCALHOST), port_base: None, avd: AvdOptions::default() }
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

/// A running set of simulated vendor servers. Stops when
/// [`shutdown`](Simulator::shutdown) is awaited or when dropped.
pub struct Simulator {
    avd_addr: SocketAddr,
    avd_opts: AvdOptions,
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
        let tasks = vec![common::launch(listener, avd::router(avd.clone()), avd, clock, stop_rx)];
        // Further vendors: bind `port_base + 1`, `+ 2`, ... and `launch`
        // them with the same clock and stop signal.

        Ok(Simulator { avd_addr, avd_opts: opts.avd, stop, tasks })
    }

    /// Connection profile for clients:
    /// `{"avd": {"base_url", "access_key", "secret_key"}}`.
    pub fn profile(&self) -> Value {
        json!({
            "avd": {
                "base_url": self.avd_base_url(),
                "access_key": self.avd_opts.access_key,
                "secret_key": self.avd_opts.secret_key,
            }
        })
    }

    /// Root URL of the AVD server, e.g. `http://127.0.0.1:40123` (without
    /// the `/sdkapi/v2` prefix).
    pub fn avd_base_url(&self) -> String {
        base_url(self.avd_addr)
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
