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
//! Kedacom extras: `POST /_sim/kedacom/tokens/expire`,
//! `POST /_sim/kedacom/booked_confs` (seed a booked conference).
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
mod kedacom;

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
    /// Kedacom meeting-management simulator options.
    pub kedacom: KedacomOptions,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port_base: None,
            avd: AvdOptions::default(),
            kedacom: KedacomOptions::default(),
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

/// Options of the Kedacom meeting-management (会管API) simulator.
#[derive(Clone)]
pub struct KedacomOptions {
    /// Accepted `oauth_consumer_key` of `/api/v1/system/token` (default `sim-consumer-key`).
    pub consumer_key: String,
    /// Accepted `oauth_consumer_secret` (default `sim-consumer-secret`).
    pub consumer_secret: String,
    /// Administrator login of `/api/v1/system/login` (default `sim-admin`).
    pub username: String,
    /// The administrator's password (default `sim-password`).
    pub password: String,
    /// A non-administrator login (default `sim-guest`): no meeting room
    /// area changes, sees only guest rooms (`public_conf` 1).
    pub guest_username: String,
    /// The guest's password (default `sim-guest-password`).
    pub guest_password: String,
    /// A token expires after this much virtual time without use
    /// (default 30 min).
    pub token_idle_timeout: Duration,
    /// `api_level` of `/api/mc/version`; endpoints needing a higher level
    /// fail (default 3, the doc's level).
    pub api_level: i64,
    /// Conference resources (licences) per size 8/32/64/192 (default 10).
    pub resources_per_size: u32,
    /// The platform supports RTC access (default true); without it
    /// `enable_rtc` 1 is refused and auto conferences fall back.
    pub platform_rtc: bool,
}

impl Default for KedacomOptions {
    fn default() -> Self {
        KedacomOptions {
            consumer_key: "sim-consumer-key".into(),
            consumer_secret: "sim-consumer-secret".into(),
            username: "sim-admin".into(),
            password: "sim-password".into(),
            guest_username: "sim-guest".into(),
            guest_password: "sim-guest-password".into(),
            token_idle_timeout: Duration::from_secs(30 * 60),
            api_level: 3,
            resources_per_size: 10,
            platform_rtc: true,
        }
    }
}

impl std::fmt::Debug for KedacomOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KedacomOptions")
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &"<redacted>")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("guest_username", &self.guest_username)
            .field("guest_password", &"<redacted>")
            .field("token_idle_timeout", &self.token_idle_timeout)
            .field("api_level", &self.api_level)
            .field("resources_per_size", &self.resources_per_size)
            .field("platform_rtc", &self.platform_rtc)
            .finish()
    }
}

/// A running set of simulated vendor servers. Stops when
/// [`shutdown`](Simulator::shutdown) is awaited or when dropped.
pub struct Simulator {
    avd_addr: SocketAddr,
    avd_opts: AvdOptions,
    kedacom_addr: SocketAddr,
    kedacom_opts: KedacomOptions,
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

        let kedacom_port = opts.port_base.map_or(0, |n| n + 1);
        let listener = TcpListener::bind(SocketAddr::new(opts.host, kedacom_port)).await?;
        let kedacom_addr = listener.local_addr()?;
        let kedacom = Arc::new(kedacom::Kedacom::new(opts.kedacom.clone(), clock.clone()));
        tasks.push(common::launch(listener, kedacom::router(kedacom.clone()), kedacom, clock, stop_rx));
        // Further vendors: bind `port_base + 2`, `+ 3`, ... and `launch`
        // them with the same clock and stop signal.

        Ok(Simulator { avd_addr, avd_opts: opts.avd, kedacom_addr, kedacom_opts: opts.kedacom, stop, tasks })
    }

    /// Connection profile for clients:
    /// `{"avd": {"base_url", "access_key", "secret_key"}, "kedacom":
    /// {"base_url", "consumer_key", "consumer_secret", "username", "password"}}`.
    pub fn profile(&self) -> Value {
        json!({
            "avd": {
                "base_url": self.avd_base_url(),
                "access_key": self.avd_opts.access_key,
                "secret_key": self.avd_opts.secret_key,
            },
            "kedacom": {
                "base_url": self.kedacom_base_url(),
                "consumer_key": self.kedacom_opts.consumer_key,
                "consumer_secret": self.kedacom_opts.consumer_secret,
                "username": self.kedacom_opts.username,
                "password": self.kedacom_opts.password,
            }
        })
    }

    /// Root URL of the Kedacom server, e.g. `http://127.0.0.1:40124`
    /// (paths start with `/api/`).
    pub fn kedacom_base_url(&self) -> String {
        base_url(self.kedacom_addr)
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
