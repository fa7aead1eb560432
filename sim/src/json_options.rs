//! [`WiredOptions::from_json`]: the simulators' options as one JSON object, the form the C
//! library (`meetkit_sim_start`) and the Python package (`meetkit.Simulator(...)`) take them
//! in, so every surface accepts the same keys with the same meaning.

use std::net::IpAddr;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::{SimOptions, VmrRoomSeed};

/// What [`Simulator::start_wired`](crate::Simulator::start_wired) takes: the simulators'
/// options ([`SimOptions::wired`] plus what the JSON changed) and where the client receives
/// NetEase callbacks (`None`: a free loopback port).
#[derive(Debug, Clone)]
pub struct WiredOptions {
    /// The simulators' options.
    pub options: SimOptions,
    /// `host:port` of the client's NetEase callback receiver (`netease.callback_listen`).
    pub netease_listen: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Top {
    host: Option<IpAddr>,
    port_base: Option<u16>,
    strict: Option<bool>,
    tls: Option<bool>,
    avd: Option<Value>,
    netease: Option<Value>,
    vmr: Option<Value>,
    kedacom: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Avd {
    access_key: Option<String>,
    secret_key: Option<String>,
    token_ttl_secs: Option<f64>,
    invite_delay_ms: Option<u64>,
    record_bytes_per_second: Option<u64>,
    attachment_base: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Netease {
    app_key: Option<String>,
    app_secret: Option<String>,
    callback_listen: Option<String>,
    callback_schedule_secs: Option<Vec<f64>>,
    callback_time_scale: Option<f64>,
    resign_resends: Option<bool>,
    record_delay_secs: Option<f64>,
    max_meeting_duration_secs: Option<f64>,
    record_bytes_per_second: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Vmr {
    auth_key: Option<String>,
    rooms: Option<Vec<Room>>,
    token_ttl_secs: Option<f64>,
    refresh_grace_secs: Option<f64>,
    keepalive_interval_secs: Option<f64>,
    dial_answer_delay_ms: Option<u64>,
    record_bytes_per_second: Option<u64>,
    record_segment_secs: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Room {
    alias: String,
    id: String,
    name: Option<String>,
    host_pin: String,
    guest_pin: Option<String>,
    #[serde(default = "yes")]
    allow_guest: bool,
    #[serde(default = "yes")]
    allow_record: bool,
    #[serde(default = "yes")]
    allow_live: bool,
    auth: Option<String>,
    #[serde(default = "company")]
    company_id: i64,
    #[serde(default)]
    node: usize,
}

fn yes() -> bool {
    true
}

fn company() -> i64 {
    52
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Kedacom {
    consumer_key: Option<String>,
    consumer_secret: Option<String>,
    username: Option<String>,
    password: Option<String>,
    guest_username: Option<String>,
    guest_password: Option<String>,
    token_idle_timeout_secs: Option<f64>,
    api_level: Option<i64>,
    resources_per_size: Option<u32>,
    platform_rtc: Option<bool>,
    token_path: Option<String>,
    login_path: Option<String>,
    heartbeat_path: Option<String>,
    expiry_code: Option<i64>,
}

/// One section (`avd`, ...) of the options, its errors prefixed with its name.
fn section<T: DeserializeOwned + Default>(name: &str, value: Option<Value>) -> Result<T, String> {
    match value {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v @ Value::Object(_)) => serde_json::from_value(v).map_err(|e| format!("{name}: {e}")),
        Some(other) => Err(format!("{name}: expected an object, got {other}")),
    }
}

/// A number of seconds as a duration: finite, not negative, and (when `positive`) above 0.
fn secs(key: &str, value: f64, positive: bool) -> Result<Duration, String> {
    let least = if positive { "greater than 0" } else { "0 or more" };
    if !value.is_finite() || value < 0.0 || (positive && value == 0.0) {
        return Err(format!("{key} = {value}: expected a number of seconds {least}"));
    }
    Duration::try_from_secs_f64(value).map_err(|e| format!("{key} = {value}: {e}"))
}

/// `target = secs(value)` when the key is given.
fn set_secs(target: &mut Duration, key: &str, value: Option<f64>, positive: bool) -> Result<(), String> {
    if let Some(v) = value {
        *target = secs(key, v, positive)?;
    }
    Ok(())
}

/// `target = value` when the key is given.
fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *target = v;
    }
}

impl WiredOptions {
    /// The options of a simulator wired to a client, from a JSON object; `null` or `{}` gives
    /// [`SimOptions::wired`]. Every key is optional:
    ///
    /// - `host` (default `"127.0.0.1"`), `port_base` (default: ephemeral ports; else AVD on
    ///   `port_base`, the others on the next five ports), `strict` (default `true`: only the
    ///   reading of each ambiguous doc line meetkit sends, see `docs/assumptions.md`), `tls`
    ///   (default `false`: HTTPS with a generated CA, named in the profile's
    ///   `transport.ca_cert`)
    /// - `avd`: `access_key`, `secret_key`, `token_ttl_secs`, `invite_delay_ms` (how long a
    ///   called device takes to connect, default 1000), `record_bytes_per_second`,
    ///   `attachment_base`
    /// - `netease`: `app_key`, `app_secret`, `callback_listen` (the client's receiver,
    ///   `host:port`; default a free loopback port), `callback_schedule_secs` (resend waits,
    ///   default `[2, 4, 6, 3600, 3600]`), `callback_time_scale`, `resign_resends`,
    ///   `record_delay_secs` (default 3), `max_meeting_duration_secs`, `record_bytes_per_second`
    /// - `vmr`: `auth_key`, `token_ttl_secs`, `refresh_grace_secs`, `keepalive_interval_secs`,
    ///   `dial_answer_delay_ms`, `record_bytes_per_second`, `record_segment_secs`, `rooms`
    ///   (replaces the seeded rooms: `[{"alias", "id", "host_pin", "name"?, "guest_pin"?,
    ///   "allow_guest"?, "allow_record"?, "allow_live"?, "auth"?, "company_id"?, "node"?}]`)
    /// - `kedacom`: `consumer_key`, `consumer_secret`, `username`, `password`,
    ///   `guest_username`, `guest_password`, `token_idle_timeout_secs`, `api_level`,
    ///   `resources_per_size`, `platform_rtc`, `token_path`, `login_path`, `heartbeat_path`,
    ///   `expiry_code`
    ///
    /// Each key means what the field of the same name in [`SimOptions`] and its vendor
    /// options means. An unknown key, a wrong type or an impossible value is an error that
    /// names the key (`avd.token_ttl_secs = 0: expected a number of seconds greater than 0`).
    pub fn from_json(value: &Value) -> Result<WiredOptions, String> {
        let top: Top = match value {
            Value::Null => Top::default(),
            Value::Object(_) => serde_json::from_value(value.clone()).map_err(|e| e.to_string())?,
            other => return Err(format!("expected a JSON object, got {other}")),
        };
        let mut o = SimOptions::wired();
        set(&mut o.host, top.host);
        o.port_base = top.port_base;
        set(&mut o.strict, top.strict);
        set(&mut o.tls, top.tls);

        let a: Avd = section("avd", top.avd)?;
        set(&mut o.avd.access_key, a.access_key);
        set(&mut o.avd.secret_key, a.secret_key);
        set_secs(&mut o.avd.token_ttl, "avd.token_ttl_secs", a.token_ttl_secs, true)?;
        set(&mut o.avd.invite_delay, a.invite_delay_ms.map(Duration::from_millis));
        set(&mut o.avd.record_bytes_per_second, a.record_bytes_per_second);
        if a.attachment_base.is_some() {
            o.avd.attachment_base = a.attachment_base;
        }

        let n: Netease = section("netease", top.netease)?;
        set(&mut o.netease.app_key, n.app_key);
        set(&mut o.netease.app_secret, n.app_secret);
        if let Some(schedule) = n.callback_schedule_secs {
            o.netease.callback_schedule = schedule
                .into_iter()
                .map(|s| secs("netease.callback_schedule_secs[]", s, false))
                .collect::<Result<_, _>>()?;
        }
        if let Some(scale) = n.callback_time_scale {
            if !scale.is_finite() || scale < 0.0 {
                return Err(format!("netease.callback_time_scale = {scale}: expected a number 0 or more"));
            }
            o.netease.callback_time_scale = scale;
        }
        set(&mut o.netease.resign_resends, n.resign_resends);
        set_secs(&mut o.netease.record_delay, "netease.record_delay_secs", n.record_delay_secs, false)?;
        set_secs(
            &mut o.netease.max_meeting_duration,
            "netease.max_meeting_duration_secs",
            n.max_meeting_duration_secs,
            true,
        )?;
        set(&mut o.netease.record_bytes_per_second, n.record_bytes_per_second);
        if let Some(listen) = &n.callback_listen {
            if listen.rsplit_once(':').is_none_or(|(_, port)| port.parse::<u16>().is_err()) {
                return Err(format!("netease.callback_listen = {listen:?}: expected host:port, e.g. 127.0.0.1:8788"));
            }
        }

        let v: Vmr = section("vmr", top.vmr)?;
        set(&mut o.vmr.auth_key, v.auth_key);
        set_secs(&mut o.vmr.token_ttl, "vmr.token_ttl_secs", v.token_ttl_secs, true)?;
        set_secs(&mut o.vmr.refresh_grace, "vmr.refresh_grace_secs", v.refresh_grace_secs, false)?;
        set_secs(&mut o.vmr.keepalive_interval, "vmr.keepalive_interval_secs", v.keepalive_interval_secs, true)?;
        set(&mut o.vmr.dial_answer_delay, v.dial_answer_delay_ms.map(Duration::from_millis));
        set(&mut o.vmr.record_bytes_per_second, v.record_bytes_per_second);
        set_secs(&mut o.vmr.record_segment, "vmr.record_segment_secs", v.record_segment_secs, true)?;
        if let Some(rooms) = v.rooms {
            if let Some(r) = rooms.iter().find(|r| r.node > 1) {
                return Err(format!("vmr.rooms: room {:?} has node {}: expected 0 or 1", r.alias, r.node));
            }
            o.vmr.rooms = rooms
                .into_iter()
                .map(|r| VmrRoomSeed {
                    name: r.name.unwrap_or_else(|| r.alias.clone()),
                    alias: r.alias,
                    id: r.id,
                    host_pin: r.host_pin,
                    guest_pin: r.guest_pin,
                    allow_guest: r.allow_guest,
                    allow_record: r.allow_record,
                    allow_live: r.allow_live,
                    auth: r.auth,
                    company_id: r.company_id,
                    node: r.node,
                })
                .collect();
        }

        let k: Kedacom = section("kedacom", top.kedacom)?;
        set(&mut o.kedacom.consumer_key, k.consumer_key);
        set(&mut o.kedacom.consumer_secret, k.consumer_secret);
        set(&mut o.kedacom.username, k.username);
        set(&mut o.kedacom.password, k.password);
        set(&mut o.kedacom.guest_username, k.guest_username);
        set(&mut o.kedacom.guest_password, k.guest_password);
        set_secs(
            &mut o.kedacom.token_idle_timeout,
            "kedacom.token_idle_timeout_secs",
            k.token_idle_timeout_secs,
            true,
        )?;
        set(&mut o.kedacom.api_level, k.api_level);
        set(&mut o.kedacom.resources_per_size, k.resources_per_size);
        set(&mut o.kedacom.platform_rtc, k.platform_rtc);
        set(&mut o.kedacom.token_path, k.token_path);
        set(&mut o.kedacom.login_path, k.login_path);
        set(&mut o.kedacom.heartbeat_path, k.heartbeat_path);
        if k.expiry_code.is_some() {
            o.kedacom.expiry_code = k.expiry_code;
        }

        Ok(WiredOptions { options: o, netease_listen: n.callback_listen })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn null_and_empty_give_the_wired_defaults() {
        for v in [Value::Null, json!({})] {
            let w = WiredOptions::from_json(&v).unwrap();
            assert!(w.options.strict && !w.options.tls && w.netease_listen.is_none());
            assert_eq!(w.options.netease.record_delay, Duration::from_secs(3));
            assert_eq!(w.options.avd.invite_delay, Duration::from_secs(1));
        }
    }

    #[test]
    fn every_vendor_section_reaches_its_options() {
        let w = WiredOptions::from_json(&json!({
            "strict": false, "tls": true, "port_base": 9100,
            "avd": {"invite_delay_ms": 300, "token_ttl_secs": 60},
            "netease": {"record_delay_secs": 0.5, "callback_listen": "127.0.0.1:9999", "callback_schedule_secs": [1, 2]},
            "vmr": {"dial_answer_delay_ms": 10, "rooms": [{"alias": "a@sim.vmr", "id": "7", "host_pin": "1"}]},
            "kedacom": {"api_level": 2, "expiry_code": 10002}
        }))
        .unwrap();
        let o = &w.options;
        assert!(!o.strict && o.tls);
        assert_eq!(o.port_base, Some(9100));
        assert_eq!(o.avd.invite_delay, Duration::from_millis(300));
        assert_eq!(o.avd.token_ttl, Duration::from_secs(60));
        assert_eq!(o.netease.record_delay, Duration::from_millis(500));
        assert_eq!(o.netease.callback_schedule, vec![Duration::from_secs(1), Duration::from_secs(2)]);
        assert_eq!(w.netease_listen.as_deref(), Some("127.0.0.1:9999"));
        assert_eq!(o.vmr.dial_answer_delay, Duration::from_millis(10));
        assert_eq!(o.vmr.rooms.len(), 1);
        assert_eq!(o.vmr.rooms[0].name, "a@sim.vmr");
        assert!(o.vmr.rooms[0].allow_record);
        assert_eq!(o.kedacom.api_level, 2);
        assert_eq!(o.kedacom.expiry_code, Some(10002));
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            (json!({"avd": {"token_ttl_secs": 0}}), "avd.token_ttl_secs = 0"),
            (json!({"avd": {"tokn_ttl_secs": 5}}), "avd: unknown field `tokn_ttl_secs`"),
            (json!({"netease": {"record_delay_secs": -1}}), "netease.record_delay_secs = -1"),
            (json!({"netease": {"callback_listen": "nowhere"}}), "netease.callback_listen"),
            (json!({"vmr": {"rooms": [{"alias": "a", "id": "1", "host_pin": "2", "node": 2}]}}), "node 2"),
            (json!({"kedacom": "x"}), "kedacom: expected an object"),
            (json!({"colour": 1}), "unknown field `colour`"),
            (json!([1]), "expected a JSON object"),
        ];
        for (v, want) in cases {
            let e = WiredOptions::from_json(&v).unwrap_err();
            assert!(e.contains(want), "{v}: {e}");
        }
    }
}
