//! Profiles: which servers to talk to, with which credentials.
//!
//! A profile comes from `meetkit.toml` (path from `--config`, `MEETKIT_CONFIG`, or
//! `./meetkit.toml`), from a JSON object of the same shape (what `meetkit sim`
//! prints), or from environment variables alone. Environment variables override
//! the file per vendor:
//!
//! | vendor | variables |
//! |---|---|
//! | avd | `MEETKIT_AVD_BASE_URL`, `MEETKIT_AVD_ACCESS_KEY`, `MEETKIT_AVD_SECRET_KEY` |
//! | kedacom | `MEETKIT_KEDACOM_BASE_URL`, `MEETKIT_KEDACOM_CONSUMER_KEY`, `MEETKIT_KEDACOM_CONSUMER_SECRET`, `MEETKIT_KEDACOM_USERNAME`, `MEETKIT_KEDACOM_PASSWORD` |
//! | vmr | `MEETKIT_VMR_API_SERVER`, `MEETKIT_VMR_AUTH`, `MEETKIT_VMR_ACCOUNT`, `MEETKIT_VMR_PASSWORD`, `MEETKIT_VMR_DISPLAY_NAME` |
//! | netease | `MEETKIT_NETEASE_BASE_URL`, `MEETKIT_NETEASE_APP_KEY`, `MEETKIT_NETEASE_APP_SECRET` |
//!
//! Each variable is `MEETKIT_<VENDOR>_<FIELD>` for a field of that vendor's table.
//!
//! ```toml
//! default_profile = "lab"
//!
//! [profiles.lab.avd]
//! base_url = "https://avd.example.com:9610"   # host root; meetkit adds /sdkapi/v2
//! access_key = "my-access-key"
//! secret_key = "my-secret-key"
//!
//! [profiles.lab.transport]
//! request_timeout_secs = 20
//! max_attempts = 3
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use serde_json::Value;

use crate::transport::TransportConfig;
use crate::vendors::{avd::AvdConfig, kedacom::KedacomConfig, netease::NeteaseConfig, vmr::VmrConfig};
use crate::{Error, Result, Vendor};

/// The environment variables of each vendor, as `(vendor, field)`; the variable is
/// `MEETKIT_<VENDOR>_<FIELD>` in upper case.
pub const ENV_FIELDS: &[(Vendor, &[&str])] = &[
    (Vendor::Avd, &["base_url", "access_key", "secret_key"]),
    (Vendor::Kedacom, &["base_url", "consumer_key", "consumer_secret", "username", "password"]),
    (Vendor::Vmr, &["api_server", "auth", "account", "password", "display_name"]),
    (Vendor::Netease, &["base_url", "app_key", "app_secret"]),
];

/// The variable that overrides `field` of `vendor`'s section.
pub fn env_var(vendor: Vendor, field: &str) -> String {
    format!("MEETKIT_{}_{}", vendor.as_str().to_uppercase(), field.to_uppercase())
}

/// One named set of vendor connections and transport settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The profile's name (`sim` for the simulator, `env` when built from the environment only).
    #[serde(skip)]
    pub name: String,
    /// 3tee AVD connection.
    pub avd: Option<AvdConfig>,
    /// Kedacom meeting management connection.
    pub kedacom: Option<KedacomConfig>,
    /// vmr cloud connection.
    pub vmr: Option<VmrConfig>,
    /// NetEase Meeting connection.
    pub netease: Option<NeteaseConfig>,
    /// Timeouts, retries, TLS.
    #[serde(default)]
    pub transport: TransportConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    default_profile: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, Value>,
}

impl Profile {
    /// Load a profile the way the CLI does.
    ///
    /// * `config`: an explicit file (must exist); else `MEETKIT_CONFIG` (must exist); else
    ///   `./meetkit.toml` if present.
    /// * `name`: the profile; else `MEETKIT_PROFILE`; else the file's `default_profile`;
    ///   else the only profile in the file; else a profile from environment variables alone.
    ///
    /// Environment variables are applied on top either way.
    pub fn load(config: Option<&Path>, name: Option<&str>) -> Result<Profile> {
        let env_path = std::env::var_os("MEETKIT_CONFIG").map(PathBuf::from);
        let path = match (config, env_path) {
            (Some(p), _) => Some(p.to_path_buf()),
            (None, Some(p)) => Some(p),
            (None, None) => Some(PathBuf::from("meetkit.toml")).filter(|p| p.exists()),
        };
        let file = match &path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
                let table: toml::Table = toml::from_str(&text)
                    .map_err(|e| Error::config(format!("{}: {}", p.display(), e.to_string().trim())))?;
                check_finite(&table, "").map_err(|e| Error::config(format!("{}: {e}", p.display())))?;
                ConfigFile::deserialize(toml::Value::Table(table))
                    .map_err(|e| Error::config(format!("{}: {}", p.display(), e.to_string().trim())))?
            }
            None => ConfigFile::default(),
        };
        let wanted = name.map(str::to_string).or_else(|| std::env::var("MEETKIT_PROFILE").ok());
        let wanted = wanted
            .or(file.default_profile.clone())
            .or_else(|| (file.profiles.len() == 1).then(|| file.profiles.keys().next().cloned()).flatten());
        let (name, value) = match wanted {
            Some(n) => {
                let mut profiles = file.profiles;
                let known: Vec<String> = profiles.keys().cloned().collect();
                let value = profiles.remove(&n).ok_or_else(|| {
                    let place = path.as_ref().map_or("no config file was found".to_string(), |p| {
                        format!(
                            "{} has: {}",
                            p.display(),
                            if known.is_empty() { "none".into() } else { known.join(", ") }
                        )
                    });
                    Error::config(format!("no profile named `{n}` ({place}); add [profiles.{n}] or use --sim"))
                })?;
                (n, value)
            }
            None => ("env".to_string(), Value::Object(Default::default())),
        };
        Self::build(&name, value, |k| std::env::var(k).ok())
    }

    /// A profile from environment variables only.
    pub fn from_env() -> Result<Profile> {
        Self::build("env", Value::Object(Default::default()), |k| std::env::var(k).ok())
    }

    /// A profile from a JSON object of the same shape as a `meetkit.toml` profile
    /// (this is what `meetkit sim` prints: `{"avd": {"base_url": ..., ...}}`).
    /// Environment variables are *not* applied.
    pub fn from_json(name: &str, value: &Value) -> Result<Profile> {
        Self::build(name, value.clone(), |_| None)
    }

    /// A profile from a TOML document holding one profile's tables (`[avd]`, `[transport]`).
    /// Environment variables are *not* applied.
    pub fn from_toml(name: &str, text: &str) -> Result<Profile> {
        let table: toml::Table = toml::from_str(text).map_err(|e| Error::config(format!("profile `{name}`: {e}")))?;
        check_finite(&table, "").map_err(|e| Error::config(format!("profile `{name}`: {e}")))?;
        let value = Value::deserialize(toml::Value::Table(table))
            .map_err(|e| Error::config(format!("profile `{name}`: {e}")))?;
        Self::build(name, value, |_| None)
    }

    /// Overlay `MEETKIT_<VENDOR>_<FIELD>` variables (read through `env`) on a profile
    /// object, then type it. Errors name the profile, the field and the variable to set.
    pub fn build(name: &str, mut value: Value, env: impl Fn(&str) -> Option<String>) -> Result<Profile> {
        let Value::Object(map) = &mut value else {
            return Err(Error::config(format!("profile `{name}` must be a table/object")));
        };
        let mut from_env_only = Vec::new();
        for (vendor, fields) in ENV_FIELDS {
            let set: Vec<(&str, String)> =
                fields.iter().filter_map(|f| env(&env_var(*vendor, f)).map(|v| (*f, v))).collect();
            if set.is_empty() {
                continue;
            }
            let section = map.entry(vendor.as_str()).or_insert_with(|| {
                from_env_only.push(*vendor);
                Value::Object(Default::default())
            });
            let Value::Object(section) = section else {
                return Err(Error::config(format!("profile `{name}`: `{vendor}` must be a table")));
            };
            for (field, v) in set {
                section.insert(field.to_string(), Value::String(v));
            }
        }
        let mut profile: Profile = serde_path_to_error::deserialize(value).map_err(|e| {
            let e = match e.path().to_string() {
                path if path == "." => e.into_inner().to_string(),
                path => format!("{path}: {}", e.into_inner()),
            };
            let hint = match from_env_only.as_slice() {
                [] => String::new(),
                vs => format!(
                    " (a section built from environment variables needs all of: {})",
                    vs.iter()
                        .flat_map(|v| ENV_FIELDS
                            .iter()
                            .filter(move |(x, _)| x == v)
                            .flat_map(|(v, fs)| fs.iter().map(|f| env_var(*v, f))))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            Error::config(format!("profile `{name}`: {e}{hint}"))
        })?;
        profile.name = name.to_string();
        Ok(profile)
    }
}

/// TOML allows `nan` and `inf`, which JSON (what a profile is typed from) cannot hold: they
/// would turn into `null` and an error that names no field. Refuse them here, by their path.
fn check_finite(table: &toml::Table, prefix: &str) -> std::result::Result<(), String> {
    fn walk(value: &toml::Value, path: &str) -> std::result::Result<(), String> {
        match value {
            toml::Value::Float(f) if !f.is_finite() => Err(format!("{path} = {f}: expected a finite number")),
            toml::Value::Table(t) => check_finite(t, &format!("{path}.")),
            toml::Value::Array(items) => {
                items.iter().enumerate().try_for_each(|(i, item)| walk(item, &format!("{path}[{i}]")))
            }
            _ => Ok(()),
        }
    }
    table.iter().try_for_each(|(key, value)| walk(value, &format!("{prefix}{key}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn toml_profile_and_env_override() {
        let text = "[avd]\nbase_url = \"https://a:9610\"\naccess_key = \"ak\"\nsecret_key = \"sk\"\n[transport]\nmax_attempts = 5\n";
        let value: Value = toml::from_str(text).unwrap();
        let p = Profile::build("lab", value, env(&[("MEETKIT_AVD_BASE_URL", "http://b")])).unwrap();
        assert_eq!(p.transport.max_attempts, 5);
        let avd = p.avd.as_ref().unwrap();
        assert_eq!((avd.base_url.as_str(), avd.access_key.as_str(), avd.secret_key.expose()), ("http://b", "ak", "sk"));
    }

    #[test]
    fn env_alone_needs_every_variable_of_the_vendor() {
        let empty = || Value::Object(Default::default());
        let e = Profile::build("env", empty(), env(&[("MEETKIT_AVD_BASE_URL", "http://b")])).unwrap_err().to_string();
        assert!(e.contains("missing field `access_key`") && e.contains("MEETKIT_AVD_SECRET_KEY"), "{e}");
        let vars = [("MEETKIT_AVD_BASE_URL", "u"), ("MEETKIT_AVD_ACCESS_KEY", "a"), ("MEETKIT_AVD_SECRET_KEY", "s")];
        assert!(Profile::build("env", empty(), env(&vars)).unwrap().avd.is_some());
        let vars =
            [("MEETKIT_NETEASE_BASE_URL", "u"), ("MEETKIT_NETEASE_APP_KEY", "k"), ("MEETKIT_NETEASE_APP_SECRET", "s")];
        let p = Profile::build("env", empty(), env(&vars)).unwrap();
        assert_eq!(p.netease.unwrap().app_secret.expose(), "s");
    }

    #[test]
    fn debug_redacts_secrets() {
        let p = Profile::from_json(
            "sim",
            &serde_json::json!({"avd": {"base_url": "http://x", "access_key": "ak", "secret_key": "TOPSECRET"}}),
        )
        .unwrap();
        let dbg = format!("{p:?}");
        assert!(!dbg.contains("TOPSECRET") && dbg.contains("ak"), "{dbg}");
    }

    #[test]
    fn non_finite_numbers_and_wrong_types_are_errors_naming_the_field() {
        for (text, field) in [
            ("[transport]\nrequest_timeout_secs = nan\n", "transport.request_timeout_secs = NaN"),
            ("[transport]\nconnect_timeout_secs = -inf\n", "transport.connect_timeout_secs = -inf"),
            ("[kedacom]\nheartbeat_secs = inf\n", "kedacom.heartbeat_secs = inf"),
            ("[transport]\nrequest_timeout_secs = \"soon\"\n", "transport.request_timeout_secs: invalid type"),
            ("[transport]\nmax_attempts = -1\n", "transport.max_attempts: invalid value"),
        ] {
            let e = Profile::from_toml("x", text).unwrap_err();
            assert!(matches!(e, Error::Config { .. }) && e.to_string().contains(field), "{text}: {e}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meetkit.toml");
        std::fs::write(&path, "[profiles.lab.transport]\nrequest_timeout_secs = nan\n").unwrap();
        let e = Profile::load(Some(&path), Some("lab")).unwrap_err().to_string();
        assert!(e.contains("profiles.lab.transport.request_timeout_secs = NaN: expected a finite number"), "{e}");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = Profile::from_toml("x", "[avd]\nbase_url='u'\naccess_key='a'\nsecret='s'\n").unwrap_err().to_string();
        assert!(e.contains("unknown field `secret`"), "{e}");
    }

    #[test]
    fn missing_profile_lists_known_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meetkit.toml");
        std::fs::write(&path, "[profiles.a.avd]\nbase_url='u'\naccess_key='a'\nsecret_key='s'\n").unwrap();
        let e = Profile::load(Some(&path), Some("b")).unwrap_err().to_string();
        assert!(e.contains("no profile named `b`") && e.contains("has: a"), "{e}");
        assert_eq!(Profile::load(Some(&path), Some("a")).unwrap().name, "a");
    }
}
