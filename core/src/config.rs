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

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::transport::TransportConfig;
use crate::vendors::{avd::AvdConfig, kedacom::KedacomConfig, netease::NeteaseConfig, vmr::VmrConfig};
use crate::{Error, Result, Vendor};

/// The sections of a profile: one per vendor (in [`Vendor::ALL`] order), then `transport`.
pub const SECTIONS: &[&str] = &{
    let mut sections = ["transport"; Vendor::COUNT + 1];
    let mut i = 0;
    while i < Vendor::COUNT {
        sections[i] = Vendor::ALL[i].as_str();
        i += 1;
    }
    sections
};

/// One field of a profile section, read from the configuration types.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDoc {
    /// The key in `meetkit.toml`.
    pub name: String,
    /// `string`, `number`, `integer`, `boolean`, `list of strings` or `table`.
    pub ty: &'static str,
    /// Whether a section without it is an error.
    pub required: bool,
    /// Never printed (keys, passwords, PINs, tokens).
    pub secret: bool,
    /// The value when the field is absent (`None`: absent means unset).
    pub default: Option<Value>,
    /// What the field means (the type's documentation).
    pub doc: String,
}

impl FieldDoc {
    /// The environment variable that sets this field of `section`.
    pub fn env_var(&self, section: &str) -> String {
        env_var(section, &self.name)
    }

    /// The JSON value of an environment variable's text, typed by the field.
    fn parse_env_text(&self, var: &str, text: &str) -> Result<Value> {
        let bad = |expected: &str| Error::config(format!("{var}={text:?}: expected {expected}"));
        Ok(match self.ty {
            "integer" => Value::from(text.trim().parse::<i64>().map_err(|_| bad("a whole number"))?),
            "number" => {
                let n = text.trim().parse::<f64>().ok().filter(|n| n.is_finite()).ok_or_else(|| bad("a number"))?;
                serde_json::Number::from_f64(n).map(Value::Number).ok_or_else(|| bad("a number"))?
            }
            "boolean" => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Value::Bool(true),
                "false" | "0" | "no" | "off" | "" => Value::Bool(false),
                _ => return Err(bad("true or false")),
            },
            "list of strings" if text.trim_start().starts_with('[') => {
                serde_json::from_str(text).map_err(|_| bad("a JSON list of strings or a comma-separated list"))?
            }
            "list of strings" => {
                Value::Array(text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Value::from).collect())
            }
            "table" => serde_json::from_str(text).map_err(|_| bad("a JSON object, e.g. {\"room@x\": \"1234\"}"))?,
            _ => Value::String(text.to_string()),
        })
    }
}

/// The variable that overrides `field` of `section` (`avd`, ..., `transport`):
/// `MEETKIT_<SECTION>_<FIELD>` in upper case.
pub fn env_var(section: &str, field: &str) -> String {
    format!("MEETKIT_{}_{}", section.to_uppercase(), field.to_uppercase())
}

fn schema_of(section: &str) -> Option<schemars::Schema> {
    if section == "transport" {
        return Some(schemars::schema_for!(TransportConfig));
    }
    let vendor = Vendor::ALL.into_iter().find(|v| v.as_str() == section)?;
    Some(match vendor {
        Vendor::Avd => schemars::schema_for!(AvdConfig),
        Vendor::Kedacom => schemars::schema_for!(KedacomConfig),
        Vendor::Vmr => schemars::schema_for!(VmrConfig),
        Vendor::Netease => schemars::schema_for!(NeteaseConfig),
    })
}

/// Every field of a profile section (`avd`, `kedacom`, `vmr`, `netease`, `transport`), in
/// declaration order; empty for an unknown section. Read from the types once per process:
/// every profile that is built consults it.
pub fn section_fields(section: &str) -> &'static [FieldDoc] {
    static FIELDS: std::sync::OnceLock<Vec<Vec<FieldDoc>>> = std::sync::OnceLock::new();
    let all = FIELDS.get_or_init(|| SECTIONS.iter().map(|s| read_section_fields(s)).collect());
    SECTIONS.iter().position(|s| *s == section).map_or(&[], |i| &all[i])
}

fn read_section_fields(section: &str) -> Vec<FieldDoc> {
    let Some(schema) = schema_of(section) else { return Vec::new() };
    let schema = schema.as_value();
    let required: Vec<&str> =
        schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let Some(props) = schema["properties"].as_object() else { return Vec::new() };
    props
        .iter()
        .map(|(name, p)| {
            let types: Vec<&str> = match &p["type"] {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            let ty = if types.contains(&"array") {
                "list of strings"
            } else if types.contains(&"object") {
                "table"
            } else if types.contains(&"integer") {
                "integer"
            } else if types.contains(&"number") {
                "number"
            } else if types.contains(&"boolean") {
                "boolean"
            } else {
                "string"
            };
            let secret =
                p["writeOnly"] == Value::Bool(true) || p["additionalProperties"]["writeOnly"] == Value::Bool(true);
            FieldDoc {
                name: name.clone(),
                ty,
                required: required.contains(&name.as_str()),
                secret,
                default: p.get("default").filter(|d| !d.is_null()).cloned(),
                doc: p["description"].as_str().unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" "),
            }
        })
        .collect()
}

/// The profile reference (`docs/profile.md`), written from the configuration types.
pub fn reference_markdown() -> String {
    let mut out = String::from(
        "# Profile reference\n\n<!-- Generated by `meetkit profile reference`; do not edit. -->\n\n\
         A profile is a table `[profiles.NAME]` in `meetkit.toml` (from `--config`, `$MEETKIT_CONFIG` or \
         `./meetkit.toml`) with one section per vendor and a `transport` section. Every field can also be \
         set (or overridden) by the environment variable `MEETKIT_<SECTION>_<FIELD>`; lists take JSON or \
         comma-separated text, tables JSON. Secret fields are never printed (`meetkit profile show` masks \
         them).\n",
    );
    for section in SECTIONS {
        out.push_str(&format!("\n## `[profiles.NAME.{section}]`\n\n| field | type | default | variable | meaning |\n|---|---|---|---|---|\n"));
        for f in section_fields(section) {
            let default = match (&f.default, f.required) {
                (_, true) => "required".to_string(),
                (Some(Value::String(s)), _) => format!("`\"{s}\"`"),
                (Some(v), _) => format!("`{v}`"),
                (None, _) => "unset".to_string(),
            };
            let ty = if f.secret { format!("{} (secret)", f.ty) } else { f.ty.to_string() };
            out.push_str(&format!(
                "| `{}` | {ty} | {default} | `{}` | {} |\n",
                f.name,
                f.env_var(section),
                f.doc.replace('|', "\\|")
            ));
        }
    }
    out
}

/// Where a profile's text came from, for errors that point at a line.
struct Source<'a> {
    path: &'a Path,
    text: &'a str,
}

/// The 1-based line of the key `path` (`["profiles", "lab", "avd", "base_url"]`) in a TOML
/// document, else of the nearest enclosing table or key that is there.
fn locate(text: &str, path: &[&str]) -> Option<usize> {
    fn parts(s: &str) -> Vec<String> {
        s.split('.').map(|p| p.trim().trim_matches(|c| c == '"' || c == '\'').to_string()).collect()
    }
    let mut table: Vec<String> = Vec::new();
    let mut best: Option<(usize, usize)> = None; // (matched components, line)
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let full = if let Some(h) = line.strip_prefix('[') {
            let h = h.trim_start_matches('[');
            let h = h.split(']').next().unwrap_or_default();
            table = parts(h);
            table.clone()
        } else if let Some((key, _)) = line.split_once('=') {
            let mut full = table.clone();
            full.extend(parts(key));
            full
        } else {
            continue;
        };
        let matched = full.iter().zip(path).take_while(|(a, b)| a == *b).count();
        if matched == full.len() && matched > best.map_or(0, |b| b.0) {
            best = Some((matched, i + 1));
            if matched == path.len() {
                break;
            }
        }
    }
    best.filter(|(m, _)| *m >= path.len().min(3)).map(|(_, line)| line)
}

/// serde's wording of an expected type, in the words of the profile reference.
fn plain(message: &str) -> String {
    let mut m = message.to_string();
    for (from, to) in [
        ("expected f64", "expected a number"),
        ("expected u64", "expected a whole number"),
        ("expected u32", "expected a whole number"),
        ("expected u16", "expected a whole number"),
        ("expected i64", "expected a whole number"),
    ] {
        m = m.replace(from, to);
    }
    if m.starts_with("invalid type: null") && m.contains("expected a") {
        // TOML's nan and inf arrive as null.
        m = m.replacen("invalid type: null", "invalid value: not a finite number (nan or inf)", 1);
    }
    m
}

/// One named set of vendor connections and transport settings.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    /// The profile's name (`sim` for the simulator, `env` when built from the environment only).
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
    pub transport: TransportConfig,
    /// Vendor sections that did not parse, with the error (naming the file, line, section and
    /// field): calls to those vendors fail with it; the other vendors work.
    pub invalid: BTreeMap<Vendor, String>,
    /// Where each field came from (`section.field` → `file`, `env:VAR` or `json`).
    pub origins: BTreeMap<String, String>,
    /// The sections as given (file or JSON, environment applied), secrets masked: for
    /// [`Profile::describe`].
    raw: Map<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    default_profile: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, Value>,
}

/// The profiles of a config file, for `meetkit profile list`.
#[derive(Clone, Debug, Default)]
pub struct ProfileList {
    /// The file read (`None`: no file was found).
    pub path: Option<PathBuf>,
    /// The file's `default_profile`.
    pub default_profile: Option<String>,
    /// Each profile's name and the sections it has.
    pub profiles: Vec<(String, Vec<String>)>,
}

/// The config file the CLI reads: `config`, else `$MEETKIT_CONFIG`, else `./meetkit.toml` if
/// present; with its text and parsed profiles.
fn read_config(config: Option<&Path>) -> Result<(Option<PathBuf>, String, ConfigFile)> {
    let env_path = std::env::var_os("MEETKIT_CONFIG").map(PathBuf::from);
    let path = match (config, env_path) {
        (Some(p), _) => Some(p.to_path_buf()),
        (None, Some(p)) => Some(p),
        (None, None) => Some(PathBuf::from("meetkit.toml")).filter(|p| p.exists()),
    };
    let Some(p) = path else { return Ok((None, String::new(), ConfigFile::default())) };
    let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
    let file = toml::from_str::<ConfigFile>(&text)
        .map_err(|e| Error::config(format!("{}: {}", p.display(), e.to_string().trim())))?;
    Ok((Some(p), text, file))
}

impl Profile {
    /// The profiles of the config file the CLI would read (see [`Profile::load`]).
    pub fn list(config: Option<&Path>) -> Result<ProfileList> {
        let (path, _, file) = read_config(config)?;
        let profiles = file
            .profiles
            .iter()
            .map(|(name, v)| (name.clone(), v.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()))
            .collect();
        Ok(ProfileList { path, default_profile: file.default_profile, profiles })
    }

    /// Load a profile the way the CLI does.
    ///
    /// * `config`: an explicit file (must exist); else `MEETKIT_CONFIG` (must exist); else
    ///   `./meetkit.toml` if present.
    /// * `name`: the profile; else `MEETKIT_PROFILE`; else the file's `default_profile`;
    ///   else the only profile in the file; else a profile from environment variables alone.
    ///
    /// Environment variables are applied on top either way.
    pub fn load(config: Option<&Path>, name: Option<&str>) -> Result<Profile> {
        let (path, text, file) = read_config(config)?;
        let wanted = name.map(str::to_string).or_else(|| std::env::var("MEETKIT_PROFILE").ok());
        let wanted = wanted
            .or(file.default_profile.clone())
            .or_else(|| (file.profiles.len() == 1).then(|| file.profiles.keys().next().cloned()).flatten());
        let (name, value) = match wanted {
            Some(n) => {
                let mut profiles = file.profiles;
                let known: Vec<String> = profiles.keys().cloned().collect();
                let value = profiles.remove(&n).ok_or_else(|| {
                    let place = path.as_ref().map_or(
                        "no config file was found: --config, $MEETKIT_CONFIG or ./meetkit.toml".to_string(),
                        |p| {
                            format!(
                                "{} has: {}",
                                p.display(),
                                if known.is_empty() { "none".into() } else { known.join(", ") }
                            )
                        },
                    );
                    Error::config(format!("no profile named `{n}` ({place}); add [profiles.{n}] or use --sim"))
                })?;
                (n, value)
            }
            None => ("env".to_string(), Value::Object(Default::default())),
        };
        let source = path.as_deref().map(|path| Source { path, text: &text });
        Self::build_from(&name, value, |k| std::env::var(k).ok(), source.as_ref())
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
        let value: Value = toml::from_str(text).map_err(|e| Error::config(format!("profile `{name}`: {e}")))?;
        Self::build(name, value, |_| None)
    }

    /// Overlay `MEETKIT_<SECTION>_<FIELD>` variables (read through `env`) on a profile
    /// object, then type it. Errors name the profile, the section, the field and the variable
    /// to set. A vendor section that does not type goes to [`Profile::invalid`]; the
    /// profile is an error only when the transport section is wrong or every vendor section is.
    pub fn build(name: &str, value: Value, env: impl Fn(&str) -> Option<String>) -> Result<Profile> {
        Self::build_from(name, value, env, None)
    }

    fn build_from(
        name: &str,
        mut value: Value,
        env: impl Fn(&str) -> Option<String>,
        source: Option<&Source>,
    ) -> Result<Profile> {
        let Value::Object(map) = &mut value else {
            return Err(Error::config(format!("profile `{name}` must be a table/object")));
        };
        let mut origins = BTreeMap::new();
        for (section, fields) in map.iter() {
            if !SECTIONS.contains(&section.as_str()) {
                let line = source.and_then(|s| locate(s.text, &["profiles", name, section]));
                return Err(Error::config(format!(
                    "{}unknown section `{section}`; a profile has: {}",
                    Self::place(name, section, None, source, line),
                    SECTIONS.join(", ")
                )));
            }
            if let Value::Object(fields) = fields {
                for f in fields.keys() {
                    origins
                        .insert(format!("{section}.{f}"), if source.is_some() { "file" } else { "json" }.to_string());
                }
            }
        }
        let mut from_env_only = Vec::new();
        for section in SECTIONS {
            for field in section_fields(section) {
                let var = field.env_var(section);
                let Some(text) = env(&var) else { continue };
                let v = field.parse_env_text(&var, &text)?;
                let entry = map.entry(section.to_string()).or_insert_with(|| {
                    from_env_only.push(*section);
                    Value::Object(Default::default())
                });
                let Value::Object(entry) = entry else {
                    return Err(Error::config(format!("profile `{name}`: `{section}` must be a table")));
                };
                entry.insert(field.name.clone(), v);
                origins.insert(format!("{section}.{}", field.name), format!("env:{var}"));
            }
        }
        // What `describe` shows: the sections with every secret already masked.
        let mut raw = map.clone();
        for (section, fields) in raw.iter_mut() {
            let Value::Object(fields) = fields else { continue };
            for f in section_fields(section).iter().filter(|f| f.secret) {
                if let Some(v) = fields.get_mut(&f.name) {
                    *v = mask(v);
                }
            }
        }
        let mut profile = Profile { name: name.to_string(), raw, ..Default::default() };
        let section = |s: &str| map.get(s).cloned();
        let describe = |s: &str, e: serde_path_to_error::Error<serde_json::Error>| -> String {
            let path = e.path().to_string();
            let field = (path != ".").then_some(path);
            let mut at = vec!["profiles", name, s];
            at.extend(field.as_deref().into_iter().flat_map(|f| f.split('.')));
            let line = source.and_then(|src| locate(src.text, &at));
            let mut message =
                format!("{}{}", Self::place(name, s, field.as_deref(), source, line), plain(&e.inner().to_string()));
            let top = field.as_deref().map(|f| f.split('.').next().unwrap_or(f));
            if let Some(var) = top.and_then(|f| origins.get(&format!("{s}.{f}"))).and_then(|o| o.strip_prefix("env:")) {
                message.push_str(&format!(" (set by {var})"));
            }
            if from_env_only.contains(&s) {
                let required: Vec<String> =
                    section_fields(s).iter().filter(|f| f.required).map(|f| f.env_var(s)).collect();
                message.push_str(&format!(
                    " (a section built from environment variables needs all of: {})",
                    required.join(", ")
                ));
            }
            message
        };
        if let Some(v) = section("transport") {
            profile.transport = typed(v).map_err(|e| Error::config(describe("transport", e)))?;
        }
        let mut valid = 0;
        for vendor in Vendor::ALL {
            let Some(v) = section(vendor.as_str()) else { continue };
            let outcome = match vendor {
                Vendor::Avd => typed(v).map(|c| profile.avd = Some(c)),
                Vendor::Kedacom => typed(v).map(|c| profile.kedacom = Some(c)),
                Vendor::Vmr => typed(v).map(|c| profile.vmr = Some(c)),
                Vendor::Netease => typed(v).map(|c| profile.netease = Some(c)),
            };
            match outcome {
                Ok(()) => valid += 1,
                Err(e) => {
                    profile.invalid.insert(vendor, describe(vendor.as_str(), e));
                }
            }
        }
        if valid == 0 && !profile.invalid.is_empty() {
            let all: Vec<&str> = profile.invalid.values().map(String::as_str).collect();
            return Err(Error::config(all.join("; ")));
        }
        profile.origins = origins;
        Ok(profile)
    }

    /// `FILE:LINE: [profiles.P.section] field: ` (or the profile's name where there is no file,
    /// or the variables where the profile is the environment alone).
    fn place(name: &str, section: &str, field: Option<&str>, source: Option<&Source>, line: Option<usize>) -> String {
        let field = field.map(|f| format!(" {f}")).unwrap_or_default();
        match source {
            Some(src) => {
                let at = line.map(|l| format!(":{l}")).unwrap_or_default();
                format!("{}{at}: [profiles.{name}.{section}]{field}: ", src.path.display())
            }
            None if name == "env" => format!(
                "no config file (--config, $MEETKIT_CONFIG, ./meetkit.toml) and the MEETKIT_{}_* variables: {section}{field}: ",
                section.to_uppercase()
            ),
            None => format!("profile `{name}` [{section}]{field}: "),
        }
    }

    /// The profile as `section → field → value` with every secret masked as `"***"`, each
    /// value with where it came from; invalid sections carry their error.
    pub fn describe(&self) -> Value {
        let mut out = Map::new();
        for section in SECTIONS {
            let given = self.raw.get(*section).and_then(Value::as_object);
            if given.is_none() && *section != "transport" {
                continue;
            }
            let mut fields = Map::new();
            for f in section_fields(section) {
                let key = format!("{section}.{}", f.name);
                let (value, origin) = match given.and_then(|g| g.get(&f.name)) {
                    Some(v) => (v.clone(), self.origins.get(&key).cloned().unwrap_or_else(|| "file".into())),
                    None => match &f.default {
                        Some(d) => (d.clone(), "default".to_string()),
                        None => continue,
                    },
                };
                fields.insert(f.name.clone(), serde_json::json!({"value": value, "from": origin}));
            }
            let mut entry = serde_json::json!({ "fields": fields });
            if let Some(e) = section.parse::<Vendor>().ok().and_then(|v| self.invalid.get(&v)) {
                entry["error"] = Value::from(e.clone());
            }
            out.insert(section.to_string(), entry);
        }
        serde_json::json!({ "name": self.name, "sections": out })
    }
}

/// A secret's value as `"***"` (an empty one stays empty; a table of PINs keeps its keys).
fn mask(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), mask(v))).collect()),
        Value::String(s) if s.is_empty() => v.clone(),
        Value::Null => Value::Null,
        _ => Value::from("***"),
    }
}

fn typed<T: DeserializeOwned>(v: Value) -> std::result::Result<T, serde_path_to_error::Error<serde_json::Error>> {
    serde_path_to_error::deserialize(v)
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
            (
                "[transport]\nrequest_timeout_secs = nan\n",
                "[transport] request_timeout_secs: invalid value: not a finite",
            ),
            (
                "[transport]\nconnect_timeout_secs = -inf\n",
                "[transport] connect_timeout_secs: invalid value: not a finite",
            ),
            ("[kedacom]\nheartbeat_secs = inf\n", "[kedacom] heartbeat_secs: invalid value: not a finite"),
            ("[transport]\nrequest_timeout_secs = \"soon\"\n", "[transport] request_timeout_secs: invalid type"),
            ("[transport]\nmax_attempts = -1\n", "[transport] max_attempts: invalid value"),
        ] {
            let e = Profile::from_toml("x", text).unwrap_err();
            assert!(matches!(e, Error::Config { .. }) && e.to_string().contains(field), "{text}: {e}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meetkit.toml");
        std::fs::write(&path, "[profiles.lab.transport]\nrequest_timeout_secs = nan\n").unwrap();
        let e = Profile::load(Some(&path), Some("lab")).unwrap_err().to_string();
        assert!(e.contains(":2: [profiles.lab.transport] request_timeout_secs: invalid value: not a finite"), "{e}");
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

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meetkit.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    const LAB: &str = "default_profile = \"lab\"\n\
[profiles.lab.avd]\n\
base_url = \"http://a\"\n\
access_key = \"ak\"\n\
secret_key = \"sk\"\n\
\n\
[profiles.lab.kedacom]\n\
base_url = \"http://k\"\n\
heartbeat_secs = \"30\"\n\
\n\
[profiles.lab.vmr]\n\
api_server = \"http://v\"\n\
auth = \"AUTHKEY\"\n\
account = \"room@x\"\n";

    #[test]
    fn a_broken_vendor_section_names_file_line_section_and_field_and_spares_the_others() {
        let (_dir, path) = write(LAB);
        let p = Profile::load(Some(&path), None).unwrap();
        assert!(p.avd.is_some(), "avd still works");
        let kedacom = &p.invalid[&Vendor::Kedacom];
        let at = format!("{}:9: [profiles.lab.kedacom] heartbeat_secs: ", path.display());
        assert!(kedacom.starts_with(&at), "{kedacom}");
        assert!(kedacom.contains("expected a number"), "{kedacom}");
        let vmr = &p.invalid[&Vendor::Vmr];
        assert!(vmr.starts_with(&format!("{}:11: [profiles.lab.vmr]", path.display())), "{vmr}");
        assert!(vmr.contains("missing field `password`"), "{vmr}");
        // The client refuses only those vendors, with that error.
        let client = crate::Client::from_profile(&p).unwrap();
        assert!(client.vendors().contains(&Vendor::Avd));
    }

    #[test]
    fn nan_and_every_field_from_the_environment() {
        let (_dir, path) = write("[profiles.x.transport]\nrequest_timeout_secs = nan\n[profiles.x.avd]\nbase_url='u'\naccess_key='a'\nsecret_key='s'\n");
        let e = Profile::load(Some(&path), Some("x")).unwrap_err().to_string();
        assert!(
            e.contains(":2: [profiles.x.transport] request_timeout_secs: ") && e.contains("not a finite number"),
            "{e}"
        );

        let vars = [
            ("MEETKIT_VMR_API_SERVER", "http://v"),
            ("MEETKIT_VMR_AUTH", "k"),
            ("MEETKIT_VMR_ACCOUNT", "r@x"),
            ("MEETKIT_VMR_PASSWORD", "1234"),
            ("MEETKIT_VMR_MCU_SCHEME", "http"),
            ("MEETKIT_VMR_PINS", "{\"b@x\": \"99\"}"),
            ("MEETKIT_TRANSPORT_MAX_ATTEMPTS", "5"),
            ("MEETKIT_TRANSPORT_INSECURE", "true"),
            ("MEETKIT_KEDACOM_BASE_URL", "http://k"),
            ("MEETKIT_KEDACOM_ACCOUNT_TOKEN", "t"),
            ("MEETKIT_KEDACOM_EXPIRY_CODES", "10002, 10003"),
            ("MEETKIT_KEDACOM_HEARTBEAT_SECS", "12.5"),
        ];
        let p = Profile::build("env", Value::Object(Default::default()), env(&vars)).unwrap();
        let vmr = p.vmr.as_ref().unwrap();
        assert_eq!(vmr.mcu_scheme.as_deref(), Some("http"));
        assert_eq!(vmr.pins["b@x"].expose(), "99");
        assert_eq!((p.transport.max_attempts, p.transport.insecure), (5, true));
        let k = p.kedacom.as_ref().unwrap();
        assert_eq!((k.expiry_codes.clone(), k.heartbeat_secs), (vec!["10002".to_string(), "10003".into()], 12.5));
        assert_eq!(p.origins["vmr.mcu_scheme"], "env:MEETKIT_VMR_MCU_SCHEME");

        let e = Profile::build(
            "env",
            Value::Object(Default::default()),
            env(&[("MEETKIT_TRANSPORT_MAX_ATTEMPTS", "lots")]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("MEETKIT_TRANSPORT_MAX_ATTEMPTS") && e.contains("a whole number"), "{e}");
    }

    #[test]
    fn every_field_of_every_section_has_a_variable_and_a_meaning() {
        for section in SECTIONS {
            let fields = section_fields(section);
            assert!(!fields.is_empty(), "{section}");
            for f in fields {
                assert!(!f.doc.is_empty(), "{section}.{} has no documentation", f.name);
                assert!(f.env_var(section).starts_with("MEETKIT_"));
            }
        }
        let secret = |s: &str, f: &str| section_fields(s).iter().find(|x| x.name == f).unwrap().secret;
        assert!(secret("avd", "secret_key") && secret("vmr", "pins") && secret("kedacom", "password"));
        assert!(!secret("avd", "access_key") && !secret("netease", "app_key"));
    }

    #[test]
    fn describe_masks_every_secret_and_says_where_values_came_from() {
        let (_dir, path) = write(LAB);
        let p = Profile::load(Some(&path), None).unwrap();
        let d = p.describe();
        let text = d.to_string();
        assert!(!text.contains("AUTHKEY") && !text.contains("\"sk\""), "{text}");
        assert_eq!(d["sections"]["avd"]["fields"]["secret_key"]["value"], "***");
        assert_eq!(d["sections"]["avd"]["fields"]["access_key"]["value"], "ak");
        assert_eq!(d["sections"]["transport"]["fields"]["max_attempts"]["from"], "default");
        assert!(d["sections"]["kedacom"]["error"].as_str().unwrap().contains("heartbeat_secs"));
    }

    #[test]
    fn without_a_config_file_errors_do_not_invent_a_profile() {
        let e = Profile::build("env", Value::Object(Default::default()), env(&[("MEETKIT_AVD_BASE_URL", "u")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no config file") && !e.contains("profile `env`"), "{e}");
    }
}
