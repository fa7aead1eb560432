//! `meetkit profile`: which profiles exist, what one holds (secrets masked), the reference.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use meetkit::config::{self, Profile};
use serde_json::{json, Value};

use crate::Output;

#[derive(Args, Debug)]
pub struct ProfileArgs {
    #[command(subcommand)]
    command: ProfileCommand,
    /// Config file (default: $MEETKIT_CONFIG, else ./meetkit.toml).
    #[arg(long, global = true, env = "MEETKIT_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum ProfileCommand {
    /// The profiles of the config file, the default marked.
    List,
    /// One profile as meetkit reads it (file, then MEETKIT_* variables, then defaults):
    /// every field, where it came from, secrets masked; a broken vendor section shows its error.
    Show {
        /// The profile (default: $MEETKIT_PROFILE, the file's default_profile, its only profile,
        /// else the environment alone).
        #[arg(env = "MEETKIT_PROFILE")]
        name: Option<String>,
    },
    /// Every field of every section: type, default, variable, meaning (docs/profile.md).
    Reference,
}

pub fn profile(args: ProfileArgs, output: Output) -> meetkit::Result<()> {
    let mut out = std::io::stdout().lock();
    match args.command {
        ProfileCommand::List => {
            let list = Profile::list(args.config.as_deref())?;
            let is_default = |n: &str| {
                list.default_profile.as_deref() == Some(n)
                    || (list.profiles.len() == 1 && list.default_profile.is_none())
            };
            match output {
                Output::Json => {
                    let profiles: Vec<Value> = list
                        .profiles
                        .iter()
                        .map(|(n, s)| json!({"name": n, "sections": s, "default": is_default(n)}))
                        .collect();
                    let v =
                        json!({"config": list.path.as_ref().map(|p| p.display().to_string()), "profiles": profiles});
                    let _ = writeln!(out, "{}", serde_json::to_string_pretty(&v).unwrap_or_default());
                }
                Output::Table => {
                    match &list.path {
                        Some(p) => {
                            let _ = writeln!(out, "# {}", p.display());
                        }
                        None => {
                            let _ = writeln!(
                                out,
                                "# no config file (--config, $MEETKIT_CONFIG, ./meetkit.toml); MEETKIT_<VENDOR>_* \
                                 variables alone make the profile `env`; see `meetkit profile reference`"
                            );
                        }
                    }
                    for (name, sections) in &list.profiles {
                        let mark = if is_default(name) { "*" } else { " " };
                        let _ = writeln!(out, "{mark} {name:<20} {}", sections.join(", "));
                    }
                }
            }
        }
        ProfileCommand::Show { name } => {
            let p = Profile::load(args.config.as_deref(), name.as_deref())?;
            let d = p.describe();
            match output {
                Output::Json => {
                    let _ = writeln!(out, "{}", serde_json::to_string_pretty(&d).unwrap_or_default());
                }
                Output::Table => {
                    let _ = writeln!(out, "profile {}", p.name);
                    for (section, body) in d["sections"].as_object().into_iter().flatten() {
                        let _ = writeln!(out, "\n[{section}]");
                        if let Some(e) = body["error"].as_str() {
                            let _ = writeln!(out, "  ! {e}");
                        }
                        for (field, v) in body["fields"].as_object().into_iter().flatten() {
                            let value = match &v["value"] {
                                Value::String(s) => format!("{s:?}"),
                                other => other.to_string(),
                            };
                            let _ = writeln!(out, "  {field:<24} = {value:<40} # {}", v["from"].as_str().unwrap_or(""));
                        }
                    }
                }
            }
        }
        ProfileCommand::Reference => match output {
            Output::Table => {
                let _ = write!(out, "{}", config::reference_markdown());
            }
            Output::Json => {
                let sections: serde_json::Map<String, Value> = config::SECTIONS
                    .iter()
                    .map(|s| {
                        let fields: Vec<Value> = config::section_fields(s)
                            .iter()
                            .map(|f| {
                                json!({"name": f.name, "type": f.ty, "required": f.required, "secret": f.secret,
                                       "default": f.default, "variable": f.env_var(s), "doc": f.doc})
                            })
                            .collect();
                        (s.to_string(), Value::from(fields))
                    })
                    .collect();
                let _ = writeln!(out, "{}", serde_json::to_string_pretty(&sections).unwrap_or_default());
            }
        },
    }
    Ok(())
}
