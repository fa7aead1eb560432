//! Script documentation generated from the runtime itself: the function reference in
//! `docs/scripting.md` and Rhai definition files for editors (`meetkit script-api`).

use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::stdlib::FUNCTIONS;
use crate::{Error, Result, Vendor};

/// The Markdown reference of every script function, with an example each.
pub fn reference_markdown() -> String {
    let mut out = String::from("| function | what it does |\n|---|---|\n");
    for f in FUNCTIONS {
        let _ = writeln!(out, "| `{}` | {} |", f.signature, f.summary.replace('|', "\\|"));
    }
    for f in FUNCTIONS {
        let _ = write!(out, "\n### `{}`\n\n{}\n\n```rhai\n{}\n```\n", f.signature, f.summary, f.example);
    }
    out
}

/// Write Rhai definition files (`*.d.rhai`) into `dir`: Rhai's own built-ins, meetkit's
/// functions, and `meetkit-endpoints.d.rhai` with every vendor's endpoint ids and
/// signatures as documented constants. Returns the files written.
pub fn write_definitions(dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    // Registration needs a runtime handle; nothing runs on it here.
    let own_runtime = match tokio::runtime::Handle::try_current() {
        Ok(_) => None,
        Err(_) => Some(
            tokio::runtime::Builder::new_current_thread()
                .build()
                .map_err(|e| Error::config(format!("cannot start a runtime: {e}")))?,
        ),
    };
    let handle = own_runtime.as_ref().map_or_else(tokio::runtime::Handle::current, |r| r.handle().clone());
    let client = crate::Client::from_profile(&crate::config::Profile::default())?;
    let host = super::Host::new(client, handle, super::ScriptOptions::default());
    let engine = super::build_engine(&host);
    engine
        .definitions()
        .with_headers(true)
        .include_standard_packages(true)
        .write_to_dir(dir)
        .map_err(|e| Error::io(dir, e))?;

    let mut endpoints = String::from(
        "module static;\n\n// meetkit vendor endpoints: call them as vendor(\"<vendor>\").call(\"<id>\", #{ ... }).\n",
    );
    for vendor in Vendor::ALL {
        for e in crate::vendors::endpoints(vendor) {
            let _ = write!(
                endpoints,
                "\n/// `{vendor}`: {}\n///\n/// `{}`\nconst {}_{}: String;\n",
                e.summary,
                e.signature(),
                vendor,
                e.id.replace('.', "_")
            );
        }
    }
    let path = dir.join("meetkit-endpoints.d.rhai");
    std::fs::write(&path, endpoints).map_err(|e| Error::io(&path, e))?;

    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".d.rhai"))
        .collect();
    files.sort();
    Ok(files)
}
