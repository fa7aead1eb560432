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

use crate::secret::Secret;
use crate::transport::TransportConfig;
use crate::vendors::avd::AvdConfig;
use crate::{Error, Result};

/// One named set of vendor connections and transport settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The profile's name (`sim` for the simulator, `env` when built from the environment only).
    #[serde(skip)]
    pub name: String,
    /// 3tee AVD connection.
    pub avd: Option<AvdConfig>,
    /// Timeouts, retries, TLS.
    #[serde(default)]
    pub transport: TransportConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    default_profile: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
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
                toml::from_str::<ConfigFile>(&text)
                    .map_err(|e| Error::config(format!("{}: {}", p.display(), e.to_string().trim())))?
            }
            None => ConfigFile::default(),
        };
        let wanted = name.map(str::to_string).or_else(|| std::env::var("MEETKIT_PROFILE").ok());
        let wanted = wanted
            .or(file.default_profile.clone())
            .or_else(|| (file.profiles.len() == 1).then(|| file.profiles.keys().next().cloned()).flatten());
        let mut profile = match wanted {
            Some(n) => {
                let mut profiles = file.profiles;
                let known: Vec<String> = profiles.keys().cloned().collect();
                let mut p = profiles.remove(&n).ok_or_else(|| {
                    let place = path.as_ref().map_or("no config file was found".to_string(), |p| {
                        format!(
                            "{} has: {}",
                            p.display(),
                            if known.is_empty() { "none".into() } else { known.join(", ") }
                        )
                    });
                    Error::config(format!("no profile named `{n}` ({place}); add [profiles.{n}] or use --sim"))
                })?;
                p.name = n;
                p
            }
            None => Profile { name: "env".into(), ..Profile::default() },
        };
        profile.apply_env(|k| std::env::var(k).ok())?;
        Ok(profile)
    }

    /// A profile from environment variables only.
    pub fn from_env() -> Result<Profile> {
        let mut p = Profile { name: "env".into(), ..Profile::default() };
        p.apply_env(|k| std::env::var(k).ok())?;
        Ok(p)
    }

    /// A profile from a JSON object of the same shape as a `meetkit.toml` profile
    /// (this is what `meetkit sim` prints: `{"avd": {"base_url": ..., ...}}`).
    pub fn from_json(name: &str, value: &serde_json::Value) -> Result<Profile> {
        let mut p: Profile = serde_json::from_value(value.clone())
            .map_err(|e| Error::config(format!("profile `{name}` is not a valid profile object: {e}")))?;
        p.name = name.to_string();
        Ok(p)
    }

    /// A profile from a TOML document holding one profile's tables (`[avd]`, `[transport]`).
    pub fn from_toml(name: &str, text: &str) -> Result<Profile> {
        let mut p: Profile = toml::from_str(text).map_err(|e| Error::config(format!("profile `{name}`: {e}")))?;
        p.name = name.to_string();
        Ok(p)
    }

    /// Apply `MEETKIT_<VENDOR>_*` overrides read through `get`.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<()> {
        let base = get("MEETKIT_AVD_BASE_URL");
        let access = get("MEETKIT_AVD_ACCESS_KEY");
        let secret = get("MEETKIT_AVD_SECRET_KEY");
        if base.is_none() && access.is_none() && secret.is_none() {
            return Ok(());
        }
        match &mut self.avd {
            Some(avd) => {
                if let Some(v) = base {
                    avd.base_url = v;
                }
                if let Some(v) = access {
                    avd.access_key = v;
                }
                if let Some(v) = secret {
                    avd.secret_key = Secret::new(v);
                }
            }
            None => {
                let need = |v: Option<String>, name: &str| {
                    v.ok_or_else(|| {
                        Error::config(format!(
                            "{name} is not set: the avd connection needs MEETKIT_AVD_BASE_URL, MEETKIT_AVD_ACCESS_KEY \
                             and MEETKIT_AVD_SECRET_KEY together (or an [avd] table in the profile)"
                        ))
                    })
                };
                self.avd = Some(AvdConfig {
                    base_url: need(base, "MEETKIT_AVD_BASE_URL")?,
                    access_key: need(access, "MEETKIT_AVD_ACCESS_KEY")?,
                    secret_key: Secret::new(need(secret, "MEETKIT_AVD_SECRET_KEY")?),
                    rewrite_attachment_urls: true,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn toml_profile_and_env_override() {
        let mut p = Profile::from_toml(
            "lab",
            "[avd]\nbase_url = \"https://a:9610\"\naccess_key = \"ak\"\nsecret_key = \"sk\"\n[transport]\nmax_attempts = 5\n",
        )
        .unwrap();
        assert_eq!(p.transport.max_attempts, 5);
        p.apply_env(env(&[("MEETKIT_AVD_BASE_URL", "http://b")])).unwrap();
        let avd = p.avd.as_ref().unwrap();
        assert_eq!((avd.base_url.as_str(), avd.access_key.as_str(), avd.secret_key.expose()), ("http://b", "ak", "sk"));
    }

    #[test]
    fn env_alone_needs_all_three_variables() {
        let mut p = Profile::default();
        let e = p.apply_env(env(&[("MEETKIT_AVD_BASE_URL", "http://b")])).unwrap_err().to_string();
        assert!(e.contains("MEETKIT_AVD_ACCESS_KEY is not set"), "{e}");
        p.apply_env(env(&[
            ("MEETKIT_AVD_BASE_URL", "u"),
            ("MEETKIT_AVD_ACCESS_KEY", "a"),
            ("MEETKIT_AVD_SECRET_KEY", "s"),
        ]))
        .unwrap();
        assert!(p.avd.is_some());
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
