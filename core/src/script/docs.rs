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
    // meetkit's functions, then Rhai's standard library (what the first leaves out).
    let ours = definitions(&engine, false, None)?;
    let path = dir.join("meetkit.d.rhai");
    std::fs::write(&path, &ours.0).map_err(|e| Error::io(&path, e))?;
    let (builtins, _) = definitions(&engine, true, Some(&ours.1))?;
    let path = dir.join("rhai-standard.d.rhai");
    std::fs::write(&path, builtins).map_err(|e| Error::io(&path, e))?;

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

/// A definition file (`module static;` and one `fn name(param: type, ...) -> type;` per
/// function, with its doc comment) from the engine's function metadata — Rhai's stable
/// `metadata` API, not its unstable `internals` — and the signatures written. `skip` leaves
/// out functions already written elsewhere.
fn definitions(
    engine: &rhai::Engine,
    include_standard: bool,
    skip: Option<&std::collections::HashSet<String>>,
) -> Result<(String, std::collections::HashSet<String>)> {
    let json = engine
        .gen_fn_metadata_to_json(include_standard)
        .map_err(|e| Error::config(format!("cannot describe the script functions: {e}")))?;
    let meta: serde_json::Value =
        serde_json::from_str(&json).map_err(|e| Error::config(format!("cannot read Rhai's metadata: {e}")))?;
    let mut out = String::from("module static;\n");
    let mut written = std::collections::HashSet::new();
    for f in meta["functions"].as_array().into_iter().flatten() {
        let name = f["name"].as_str().unwrap_or_default();
        // Operators, getters/setters and indexers are syntax, not functions to call by name.
        if name.is_empty() || !name.starts_with(|c: char| c.is_alphabetic() || c == '_') || name.contains('$') {
            continue;
        }
        let params: Vec<String> = f["params"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, p)| {
                let pname =
                    p["name"].as_str().filter(|n| !n.is_empty() && *n != "_").map_or(format!("arg{i}"), str::to_string);
                format!("{pname}: {}", rhai_type(p["type"].as_str().unwrap_or("?")))
            })
            .collect();
        let ret = rhai_type(f["returnType"].as_str().unwrap_or("()"));
        let signature = format!(
            "fn {name}({}){};",
            params.join(", "),
            if ret == "()" { String::new() } else { format!(" -> {ret}") }
        );
        if skip.is_some_and(|s| s.contains(&signature)) || !written.insert(signature.clone()) {
            continue;
        }
        out.push('\n');
        for line in f["docComments"].as_array().into_iter().flatten().filter_map(|c| c.as_str()) {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(&signature);
        out.push('\n');
    }
    Ok((out, written))
}

/// A Rust type name from Rhai's metadata (`&mut rhai::Array`, `ImmutableString`,
/// `RhaiResultOf<INT>`) as a script author writes it (`array`, `String`, `int`).
fn rhai_type(rust: &str) -> String {
    let t = rust.trim().trim_start_matches("&mut ").trim_start_matches('&').trim();
    let t = t.rsplit("::").next().unwrap_or(t);
    for wrapper in ["RhaiResultOf<", "Result<", "Option<"] {
        if let Some(inner) = t.strip_prefix(wrapper).and_then(|r| r.strip_suffix('>')) {
            let inner = inner.split(", Box<").next().unwrap_or(inner);
            return rhai_type(inner);
        }
    }
    match t {
        "" => "?".into(),
        "INT" | "i64" | "i32" | "u64" | "u32" | "usize" | "isize" | "u8" | "i8" | "u16" | "i16" => "int".into(),
        "FLOAT" | "f64" | "f32" => "float".into(),
        "ImmutableString" | "String" | "str" => "String".into(),
        "Array" | "Vec<Dynamic>" => "array".into(),
        "Map" | "BTreeMap<SmartString, Dynamic>" => "map".into(),
        "Blob" | "Vec<u8>" => "blob".into(),
        "FnPtr" => "Fn".into(),
        "Dynamic" | "RhaiResult" => "?".into(),
        "char" | "bool" | "()" => t.into(),
        other => other.into(),
    }
}
