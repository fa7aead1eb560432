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
//! - `GET /_sim/clock`, `POST /_sim/clock/advance {"seconds": f64}` (from Rust:
//!   [`Simulator::advance_clock`])
//! - `GET /_sim/state`: JSON dump of the vendor state
//! - `GET /_sim/stats` -> `{"requests": {"<path>": n}}` (`DELETE` clears)
//! - `GET|POST|DELETE /_sim/faults`: list / arm one more / disarm all
//!   faults (`latency_ms`, `error_rate`, `error_status`, `error_code`,
//!   `drop_rate`, `malformed_rate`, `drop_after_bytes`, `retry_after`,
//!   `content_type`, `stall_after_bytes`, `stall_ms`, `ignore_range`, `paths`, `count`,
//!   `seed`)
//!
//! AVD extras: `POST /_sim/avd/tokens/expire`,
//! `POST /_sim/avd/rooms/{room_id}/join {"user_id","user_name","type"}`,
//! `POST /_sim/avd/rooms/{room_id}/leave {"user_id"}`,
//! `POST /_sim/avd/rooms/{room_id}/chat {"from_id","message","from_name"?}`,
//! `POST /_sim/avd/calls/{call_id}/hangup`.
//!
//! NetEase extras: `POST /_sim/netease/callback_url {"url": "..."|null}`,
//! `GET /_sim/netease/callbacks` (deliveries and their attempts, the attached receivers),
//! `POST /_sim/netease/receivers/attach {"url"}` / `.../detach {"url"}` (a further receiver
//! of every later event, beside the callback URL: one per command sharing a simulator),
//! `POST /_sim/netease/meetings/{meetingUniqueId}/start` (open the AV room
//! now), `.../join {"accountId","deviceId"?}`, `.../leave {"accountId"}`,
//! `.../end {"reason": 1|2|3}`.
//! vmr extras (on both apiServer and mcuHost): `POST /_sim/vmr/tokens/expire`,
//! `POST /_sim/vmr/events/drop {"every_ms"?, "for_secs"?, "stop"?}` (now, or on a schedule),
//! `POST /_sim/vmr/rooms/{room}/join {"display_name"?, "role"?, "protocol"?, "uri"?, "audio_only"?}`,
//! `POST /_sim/vmr/rooms/{room}/participants/{uuid}/{leave|answer|reject|speak}`,
//! `POST /_sim/vmr/rooms/{room}/presentation/{start {"uuid"}|frame|stop}`,
//! `POST /_sim/vmr/calls/{call_uuid}/disconnect {"reason"?}`.
//! Kedacom extras: `POST /_sim/kedacom/tokens/expire`,
//! `POST /_sim/kedacom/tokens {"username"?}` (a ready, logged-in token that
//! needs no cookie, for clients configured with `account_token`),
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
mod json_options;
mod kedacom;
mod netease;
mod vmr;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use common::Clock;
pub use json_options::WiredOptions;

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
    /// vmr cloud simulator options.
    pub vmr: VmrOptions,
    /// Kedacom meeting-management simulator options.
    pub kedacom: KedacomOptions,
    /// Strict mode (the default): wherever the vendor docs are ambiguous or silent, accept
    /// only the one reading meetkit's client sends (each is listed in `docs/assumptions.md`),
    /// so no test can pass by the simulator's leniency. `false` (`meetkit sim` without
    /// `--strict`) accepts every plausible reading, for users who point their own code at it.
    pub strict: bool,
    /// Serve every vendor over HTTPS (default false) with a certificate signed by a CA
    /// generated at start; [`Simulator::profile`] then carries `transport.ca_cert`, a PEM file
    /// of that CA the simulator writes (and removes when it stops). NetEase callbacks the
    /// simulator sends stay plain HTTP: they go to the caller's own receiver.
    pub tls: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port_base: None,
            avd: AvdOptions::default(),
            netease: NeteaseOptions::default(),
            vmr: VmrOptions::default(),
            kedacom: KedacomOptions::default(),
            strict: true,
            tls: false,
        }
    }
}

impl SimOptions {
    /// The defaults of a simulator wired to a meetkit client ([`Simulator::start_wired`], what
    /// `meetkit --sim`, `meetkit sim start`, Python's `meetkit.Simulator` and C's
    /// `meetkit_sim_start` use): [`SimOptions::default`], but NetEase recordings appear 3 s
    /// (virtual time) after a meeting ends instead of a minute.
    pub fn wired() -> SimOptions {
        let mut o = SimOptions::default();
        o.netease.record_delay = Duration::from_secs(3);
        o
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
    /// Root URL (`http://host:port`) put in `/attachment` and `/videoPlayer` URLs instead of
    /// the address the client reached, like the doc's `/room/record/get` example that serves
    /// files from another port (`:9609`) than the API. Default none.
    pub attachment_base: Option<String>,
}

impl Default for AvdOptions {
    fn default() -> Self {
        AvdOptions {
            access_key: "sim-access-key".into(),
            secret_key: "sim-secret-key".into(),
            token_ttl: Duration::from_secs(2 * 3600),
            invite_delay: Duration::from_secs(1),
            record_bytes_per_second: 32 * 1024,
            attachment_base: None,
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
    /// Multiplier of the resend waits (1.0 = as scheduled; tests use e.g.
    /// 0.01). The waits are measured on the virtual clock, so advancing it
    /// (`POST /_sim/clock/advance`) brings a due resend at once.
    pub callback_time_scale: f64,
    /// Sign every resend anew (fresh Nonce, CurTime of the resend) instead
    /// of repeating the first attempt's Nonce, CurTime and CheckSum. The doc
    /// (消息抄送) does not say; default false, the harder case for a
    /// receiver: its 1 h resends carry a CurTime 1 h and 2 h old (see
    /// docs/assumptions.md `netease.callback_resend_signing`).
    pub resign_resends: bool,
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
            resign_resends: false,
            record_delay: Duration::from_secs(60),
            max_meeting_duration: Duration::from_secs(2 * 3600),
            record_bytes_per_second: 16 * 1024,
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
    /// Path of the token request (default `/api/v1/system/token`). The
    /// login flow is not in doc 001; a deployment's gateway may differ,
    /// so the three paths can be changed (they must not collide with
    /// `/api/v1/mc/*`).
    pub token_path: String,
    /// Path of the login request (default `/api/v1/system/login`). Empty:
    /// no login step; a token is the administrator's session already.
    pub login_path: String,
    /// Path of the heartbeat, with the token as the `{account_token}`
    /// segment (default `/api/v1/system/token/{account_token}/heartbeat`).
    /// Empty: no heartbeat route.
    pub heartbeat_path: String,
    /// How an unknown, expired or logged-out token (10002) or a missing
    /// login cookie (10004) is answered. `None` (default): HTTP 401 with
    /// the failure envelope; `Some(code)`: HTTP 200 with `error_code` =
    /// `code` (a gateway that reports expiry in the envelope).
    pub expiry_code: Option<i64>,
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
            token_path: "/api/v1/system/token".into(),
            login_path: "/api/v1/system/login".into(),
            heartbeat_path: "/api/v1/system/token/{account_token}/heartbeat".into(),
            expiry_code: None,
        }
    }
}

/// A room seeded into the vmr simulator.
#[derive(Debug, Clone)]
pub struct VmrRoomSeed {
    /// Globally unique email-format address, e.g. `meetkit@sim.vmr`.
    pub alias: String,
    /// Globally unique all-numeric meeting id (short number), e.g. `1061`.
    pub id: String,
    /// Room name (checkJoin `conferenceName`).
    pub name: String,
    /// Host PIN (new_session `pin` header / checkJoin `joinPwd`).
    pub host_pin: String,
    /// Guest PIN; `None`: guests join without a PIN.
    pub guest_pin: Option<String>,
    /// Guests may join at all (checkJoin `allowGuest`).
    pub allow_guest: bool,
    /// Recording allowed (checkJoin `isRecord`; else openRecord 200004).
    pub allow_record: bool,
    /// Live streaming allowed (checkJoin `isLive`; else openLive 200005).
    pub allow_live: bool,
    /// Owning tenant's `auth` key; `None`: [`VmrOptions::auth_key`].
    pub auth: Option<String>,
    /// Owning enterprise id (checkJoin `companyId`, getRecords `entId`).
    pub company_id: i64,
    /// The meeting node the room lives on: 0 = the first mcuHost
    /// ([`Simulator::vmr_mcu_base_url`]), 1 = the second
    /// ([`Simulator::vmr_mcu2_base_url`]). checkJoin reports that node's
    /// mcuHost; the other node answers 404 for the room.
    pub node: usize,
}

/// Options of the vmr cloud simulator (apiServer + mcuHost).
#[derive(Debug, Clone)]
pub struct VmrOptions {
    /// Tenant `auth` key of the supplementary API (default `sim-vmr-auth`).
    pub auth_key: String,
    /// Seeded rooms. Default: `meetkit@sim.vmr` / `1061` (host PIN
    /// `123456`, no guest PIN), `guests@sim.vmr` / `1062` (host PIN
    /// `654321`, guest PIN `1111`, recording and live not allowed) and
    /// `foreign@sim.vmr` / `1063` (host PIN `999999`, owned by tenant
    /// `sim-vmr-other-auth`). `guests@sim.vmr` lives on the second meeting
    /// node, the others on the first.
    pub rooms: Vec<VmrRoomSeed>,
    /// Token lifetime in virtual time (doc: expires "120").
    pub token_ttl: Duration,
    /// How long a token replaced by refresh_session keeps working
    /// (default 5 s, virtual time).
    pub refresh_grace: Duration,
    /// Real-time interval of `: keepalive` comments on event streams
    /// (default 10 s).
    pub keepalive_interval: Duration,
    /// Virtual time a dialled endpoint rings before it answers (or, for a
    /// destination containing `busy` / `reject`, rejects). Destinations
    /// containing `noanswer` never answer and are removed after 30 s.
    /// Default 2 s.
    pub dial_answer_delay: Duration,
    /// Size of produced record files per recorded (virtual) second
    /// (default 32 KiB).
    pub record_bytes_per_second: u64,
    /// Longest record file; longer recordings are cut into several files
    /// (default 1 h).
    pub record_segment: Duration,
}

impl Default for VmrOptions {
    fn default() -> Self {
        let room = |alias: &str, id: &str, name: &str, host_pin: &str| VmrRoomSeed {
            alias: alias.into(),
            id: id.into(),
            name: name.into(),
            host_pin: host_pin.into(),
            guest_pin: None,
            allow_guest: true,
            allow_record: true,
            allow_live: true,
            auth: None,
            company_id: 52,
            node: 0,
        };
        VmrOptions {
            auth_key: "sim-vmr-auth".into(),
            rooms: vec![
                room("meetkit@sim.vmr", "1061", "MeetKit Room", "123456"),
                VmrRoomSeed {
                    guest_pin: Some("1111".into()),
                    allow_record: false,
                    allow_live: false,
                    node: 1,
                    ..room("guests@sim.vmr", "1062", "Guest Room", "654321")
                },
                VmrRoomSeed {
                    auth: Some("sim-vmr-other-auth".into()),
                    company_id: 77,
                    ..room("foreign@sim.vmr", "1063", "Other Tenant Room", "999999")
                },
            ],
            token_ttl: Duration::from_secs(120),
            refresh_grace: Duration::from_secs(5),
            keepalive_interval: Duration::from_secs(10),
            dial_answer_delay: Duration::from_secs(2),
            record_bytes_per_second: 32 * 1024,
            record_segment: Duration::from_secs(3600),
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
            .field("resign_resends", &self.resign_resends)
            .field("record_delay", &self.record_delay)
            .field("max_meeting_duration", &self.max_meeting_duration)
            .field("record_bytes_per_second", &self.record_bytes_per_second)
            .finish()
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
            .field("token_path", &self.token_path)
            .field("login_path", &self.login_path)
            .field("heartbeat_path", &self.heartbeat_path)
            .field("expiry_code", &self.expiry_code)
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
    vmr_api_addr: SocketAddr,
    vmr_mcu_addr: SocketAddr,
    vmr_mcu2_addr: SocketAddr,
    vmr_opts: VmrOptions,
    kedacom_addr: SocketAddr,
    kedacom_opts: KedacomOptions,
    /// The virtual clock every vendor server of this simulator shares.
    clock: Arc<Clock>,
    /// `https` under [`SimOptions::tls`], else `http`.
    scheme: &'static str,
    /// The CA's PEM file and the folder made for it (under [`SimOptions::tls`]).
    ca: Option<(PathBuf, PathBuf)>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Simulator {
    /// Bind every vendor server and serve them on the current tokio
    /// runtime in background tasks.
    pub async fn start(opts: SimOptions) -> std::io::Result<Simulator> {
        let clock = Arc::new(Clock::default());
        let shared_clock = clock.clone();
        let (stop, stop_rx) = watch::channel(false);

        // Ports: avd n, kedacom n+1, vmr apiServer n+2 and mcuHost n+3, netease n+4, vmr second
        // mcuHost n+5.
        // The servers take port_base .. port_base + 5: refuse a base that would wrap past 65535.
        if opts.port_base.is_some_and(|n| n.checked_add(5).is_none() || n == 0) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "port base {} leaves no room for the 6 ports the simulators use (1..=65530)",
                    opts.port_base.unwrap_or(0)
                ),
            ));
        }
        let port = |offset: u16| opts.port_base.map_or(0, |n| n + offset);
        let bind = |offset: u16| TcpListener::bind(SocketAddr::new(opts.host, port(offset)));
        let tls = if opts.tls { Some(common::tls::generate(opts.host)?) } else { None };
        let ca = match &tls {
            Some(t) => Some(write_ca(&t.ca_pem)?),
            None => None,
        };
        let acceptor = tls.map(|t| t.acceptor);
        let scheme = if opts.tls { "https" } else { "http" };
        let base_url = |addr: SocketAddr| base_url(scheme, addr);

        let listener = bind(0).await?;
        let avd_addr = listener.local_addr()?;
        let avd = Arc::new(avd::Avd::new(opts.avd.clone(), clock.clone(), base_url(avd_addr), opts.strict));
        let mut tasks = vec![common::launch(
            listener,
            avd::router(avd.clone()),
            avd,
            clock.clone(),
            stop_rx.clone(),
            acceptor.clone(),
        )];

        let listener = bind(1).await?;
        let kedacom_addr = listener.local_addr()?;
        let kedacom = Arc::new(kedacom::Kedacom::new(opts.kedacom.clone(), clock.clone(), opts.strict));
        let router = kedacom::router(kedacom.clone());
        tasks.push(common::launch(listener, router, kedacom, clock.clone(), stop_rx.clone(), acceptor.clone()));

        let api_listener = bind(2).await?;
        let mcu_listener = bind(3).await?;
        let mcu2_listener = bind(5).await?;
        let vmr_api_addr = api_listener.local_addr()?;
        let vmr_mcu_addr = mcu_listener.local_addr()?;
        let vmr_mcu2_addr = mcu2_listener.local_addr()?;
        let mcu_hosts = [vmr_mcu_addr, vmr_mcu2_addr].map(|a| base_url(a)[scheme.len() + 3..].to_owned());
        let vmr = Arc::new(vmr::Vmr::new(
            opts.vmr.clone(),
            clock.clone(),
            base_url(vmr_api_addr),
            mcu_hosts.to_vec(),
            opts.strict,
        ));
        tasks.push(vmr::spawn_ticker(&vmr, stop_rx.clone()));
        let api = Arc::new(vmr::ApiServer(vmr.clone()));
        let router = vmr::api_router(vmr.clone());
        tasks.push(common::launch(api_listener, router, api, clock.clone(), stop_rx.clone(), acceptor.clone()));
        for (node, listener) in [mcu_listener, mcu2_listener].into_iter().enumerate() {
            let mcu = Arc::new(vmr::McuHost(vmr.clone()));
            let router = vmr::mcu_router(vmr.clone(), node);
            tasks.push(common::launch(listener, router, mcu, clock.clone(), stop_rx.clone(), acceptor.clone()));
        }

        let listener = bind(4).await?;
        let netease_addr = listener.local_addr()?;
        let netease =
            Arc::new(netease::Netease::new(opts.netease.clone(), clock.clone(), base_url(netease_addr), opts.strict));
        tasks.extend(netease.spawn_workers(stop_rx.clone()));
        tasks.push(common::launch(listener, netease::router(netease.clone()), netease, clock, stop_rx, acceptor));

        Ok(Simulator {
            avd_addr,
            avd_opts: opts.avd,
            kedacom_addr,
            kedacom_opts: opts.kedacom,
            vmr_api_addr,
            vmr_mcu_addr,
            vmr_mcu2_addr,
            vmr_opts: opts.vmr,
            netease_addr,
            netease_opts: opts.netease,
            clock: shared_clock,
            scheme,
            ca,
            stop,
            tasks,
        })
    }

    /// Start the simulators wired to a meetkit client, the one start every surface shares
    /// (`meetkit --sim`, `meetkit sim start`, Python's `meetkit.Simulator`, C's
    /// `meetkit_sim_start`): NetEase callbacks go to `http://<netease_listen>/netease/callback`
    /// (a free loopback port when `None`). Returns the simulator and its profile, whose
    /// `netease` section names the receiver (`callback_listen`, `callback_path`), so
    /// `wait_event("netease", ...)` gets the simulator's callbacks. Pass
    /// [`SimOptions::wired`] (or [`WiredOptions::from_json`]'s options) for the wired defaults.
    pub async fn start_wired(
        mut opts: SimOptions,
        netease_listen: Option<String>,
    ) -> std::io::Result<(Simulator, Value)> {
        let listen = match netease_listen {
            Some(l) => l,
            None => std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.to_string(),
        };
        opts.netease.callback_url = Some(netease_callback_url(&listen));
        let sim = Simulator::start(opts).await?;
        let mut profile = sim.profile();
        if let Some(netease) = profile.get_mut("netease").and_then(Value::as_object_mut) {
            netease.insert("callback_listen".into(), Value::String(listen));
            netease.insert("callback_path".into(), Value::String(NETEASE_CALLBACK_PATH.into()));
        }
        Ok((sim, profile))
    }

    /// Connection profile for clients:
    /// `{"avd": {"base_url", "access_key", "secret_key"},
    ///   "kedacom": {"base_url", "consumer_key", "consumer_secret", "username", "password"},
    ///   "vmr": {"api_server", "auth", "account", "password", "display_name", "mcu_scheme"},
    ///   "netease": {"base_url", "app_key", "app_secret"}}`
    /// (vmr: the first seeded room's address and its host PIN), and under
    /// [`SimOptions::tls`] `"transport": {"ca_cert": "<the CA's PEM file>"}`.
    pub fn profile(&self) -> Value {
        let room = self.vmr_opts.rooms.first();
        let mut profile = json!({
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
            },
            "netease": {
                "base_url": self.netease_base_url(),
                "app_key": self.netease_opts.app_key,
                "app_secret": self.netease_opts.app_secret,
            },
            "vmr": {
                "api_server": self.vmr_base_url(),
                "auth": self.vmr_opts.auth_key,
                "account": room.map(|r| r.alias.clone()).unwrap_or_default(),
                "password": room.map(|r| r.host_pin.clone()).unwrap_or_default(),
                "display_name": "meetkit",
                // check_join reports mcuHost without a scheme; the simulator's own scheme.
                "mcu_scheme": self.scheme,
            }
        });
        if let (Some((pem, _)), Some(map)) = (&self.ca, profile.as_object_mut()) {
            map.insert("transport".into(), json!({ "ca_cert": pem.display().to_string() }));
        }
        profile
    }

    /// The PEM file of the CA that signed the simulator's certificate (under
    /// [`SimOptions::tls`]; removed when the simulator stops).
    pub fn ca_cert_path(&self) -> Option<&Path> {
        self.ca.as_ref().map(|(pem, _)| pem.as_path())
    }

    /// Root URL of the Kedacom server, e.g. `http://127.0.0.1:40124`
    /// (paths start with `/api/`).
    pub fn kedacom_base_url(&self) -> String {
        base_url(self.scheme, self.kedacom_addr)
    }

    /// Root URL of the AVD server, e.g. `http://127.0.0.1:40123` (without
    /// the `/sdkapi/v2` prefix).
    pub fn avd_base_url(&self) -> String {
        base_url(self.scheme, self.avd_addr)
    }

    /// Root URL of the NetEase server, e.g. `http://127.0.0.1:40127` (the
    /// API lives under `/v1/...` and `/v2/...`).
    pub fn netease_base_url(&self) -> String {
        base_url(self.scheme, self.netease_addr)
    }

    /// Root URL of the vmr apiServer (checkJoin, supplementary API), e.g.
    /// `http://127.0.0.1:40125`.
    pub fn vmr_base_url(&self) -> String {
        base_url(self.scheme, self.vmr_api_addr)
    }

    /// Root URL of the vmr mcuHost (room API, events); checkJoin reports
    /// it as `results.mcuHost` without the scheme (`127.0.0.1:40126`).
    pub fn vmr_mcu_base_url(&self) -> String {
        base_url(self.scheme, self.vmr_mcu_addr)
    }

    /// Root URL of the second vmr meeting node (the rooms seeded with
    /// `node: 1`, by default `guests@sim.vmr`); same API as the first.
    pub fn vmr_mcu2_base_url(&self) -> String {
        base_url(self.scheme, self.vmr_mcu2_addr)
    }

    /// Move the virtual clock every vendor server shares forward by `by`, like
    /// `POST /_sim/clock/advance` on any of them: invites connect, recordings grow, tokens
    /// expire and NetEase resends fall due without waiting in real time.
    pub fn advance_clock(&self, by: Duration) {
        self.clock.advance(by.as_secs_f64());
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
        if let Some((_, dir)) = self.ca.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The path a wired simulator POSTs NetEase callbacks to on the client's receiver.
pub const NETEASE_CALLBACK_PATH: &str = "/netease/callback";

/// The URL a wired simulator POSTs NetEase callbacks to for a receiver listening on `listen`
/// (`host:port`; an unspecified address is reached through loopback):
/// `http://127.0.0.1:8788/netease/callback`.
pub fn netease_callback_url(listen: &str) -> String {
    let reach = match listen.rsplit_once(':') {
        Some(("0.0.0.0", port)) => format!("127.0.0.1:{port}"),
        Some(("[::]", port)) => format!("[::1]:{port}"),
        _ => listen.to_owned(),
    };
    format!("http://{reach}{NETEASE_CALLBACK_PATH}")
}

/// Write the CA's PEM into a new folder under the temporary directory; (file, folder).
fn write_ca(pem: &str) -> std::io::Result<(PathBuf, PathBuf)> {
    let dir = std::env::temp_dir().join(format!("meetkit-sim-{}-{:016x}", std::process::id(), rand::random::<u64>()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("ca.pem");
    std::fs::write(&file, pem)?;
    Ok((file, dir))
}

/// `<scheme>://host:port` for a bound address; unspecified addresses are
/// reached through loopback.
fn base_url(scheme: &str, addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("{scheme}://{}", SocketAddr::new(ip, addr.port()))
}
