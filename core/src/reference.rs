//! The generated endpoint reference (`docs/endpoints.md`), written from the tables.

use std::fmt::Write;

use crate::endpoint::{EndpointSpec, Param, ParamIn};
use crate::vendors;
use crate::Vendor;

/// Markdown reference of every endpoint of `vendors` (all vendors with a table when empty).
pub fn markdown(only: &[Vendor]) -> String {
    let list: Vec<Vendor> = if only.is_empty() {
        Vendor::ALL.into_iter().filter(|v| !vendors::endpoints(*v).is_empty()).collect()
    } else {
        only.to_vec()
    };
    let mut out = String::new();
    out.push_str("# meetkit endpoint reference\n\n");
    out.push_str("Generated from meetkit's endpoint tables by `meetkit endpoints --markdown`; do not edit by hand.\n");
    out.push_str("Call any endpoint with `meetkit call <vendor> <id> --params '{...}'`, from Rhai with\n");
    out.push_str("`vendor(\"<vendor>\").call(\"<id>\", #{...})`. Parameters marked *required* are checked before\n");
    out.push_str("anything is sent; auth parameters (tokens, signatures) are added by meetkit and not listed.\n\n");
    for v in &list {
        let table = vendors::endpoints(*v);
        let _ = writeln!(out, "- [{} (`{}`)](#{}) — {} endpoints", v.title(), v, v, table.len());
    }
    for v in list {
        let table = vendors::endpoints(v);
        let _ = writeln!(out, "\n## {v}\n\n{} — {} endpoints.\n", v.title(), table.len());
        out.push_str("| id | method | path | retried | summary |\n|---|---|---|---|---|\n");
        for e in table {
            let _ = writeln!(
                out,
                "| [`{}`](#{}) | {} | `{}` | {} | {} |",
                e.id,
                anchor(v, e.id),
                e.method.as_str(),
                e.path,
                if e.idempotent { "yes" } else { "no" },
                cell(e.summary)
            );
        }
        for e in table {
            let _ = write!(out, "\n### <a id=\"{}\"></a>", anchor(v, e.id));
            endpoint_body(&mut out, e);
        }
    }
    out
}

/// One endpoint in full (`meetkit endpoints <vendor> <id>`): the same section as the reference.
pub fn endpoint_markdown(e: &EndpointSpec) -> String {
    let mut out = String::new();
    let _ = write!(out, "### {} ", e.vendor);
    endpoint_body(&mut out, e);
    let _ = writeln!(out, "\nRetried after a timeout or 5xx: {}.", if e.idempotent { "yes" } else { "no" });
    let _ = writeln!(out, "Signature: {}", e.signature());
    out
}

/// One endpoint as JSON (`meetkit endpoints --output json`): vendor, id, method, path,
/// whether it is retried, summary, signature and its parameters (object fields nested).
pub fn endpoint_json(e: &EndpointSpec) -> serde_json::Value {
    fn params(ps: &[Param]) -> Vec<serde_json::Value> {
        ps.iter()
            .map(|p| {
                let mut v =
                    serde_json::json!({"name": p.name, "type": p.ty.as_str(), "required": p.required, "doc": p.doc});
                if !p.children.is_empty() {
                    v["fields"] = serde_json::Value::from(params(p.children));
                }
                v
            })
            .collect()
    }
    serde_json::json!({
        "vendor": e.vendor.as_str(),
        "id": e.id,
        "method": e.method.as_str(),
        "path": e.path,
        "idempotent": e.idempotent,
        "summary": e.summary,
        "signature": e.signature(),
        "params": params(e.params),
    })
}

fn endpoint_body(out: &mut String, e: &EndpointSpec) {
    let _ = writeln!(out, "`{}` — {} `{}`\n\n{}\n", e.id, e.method.as_str(), e.path, e.summary);
    if e.params.is_empty() {
        out.push_str("No parameters.\n");
        return;
    }
    out.push_str("| parameter | type | required | in | description |\n|---|---|---|---|---|\n");
    params(out, e.params, "");
}

fn params(out: &mut String, ps: &[Param], prefix: &str) {
    for p in ps {
        let at = match p.at {
            ParamIn::Auto => "",
            ParamIn::Path => "path",
            ParamIn::Query => "query",
            ParamIn::Header => "header",
            ParamIn::Body => "body",
        };
        let _ = writeln!(
            out,
            "| `{prefix}{}` | {} | {} | {} | {} |",
            p.name,
            p.ty.as_str(),
            if p.required { "required" } else { "" },
            at,
            cell(p.doc)
        );
        params(out, p.children, &format!("{prefix}{}.", p.name));
    }
}

fn anchor(v: Vendor, id: &str) -> String {
    format!("{v}-{}", id.replace(['.', '_'], "-"))
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
