//! The generated endpoint reference (`docs/endpoints.md`), written from the tables, and the
//! vendor docs' own example bodies ([`doc_examples`]).
//!
//! One endpoint "whole" is: method, path, parameters, the response fields
//! ([`crate::endpoint::ResponseField`], paths as the vendor sends the body), what meetkit returns
//! of that body ([`returns`]), and the doc's example response — or the plain statement that the
//! docs give none. Nothing is invented: the examples are the ones in each vendor folder's
//! `testdata/doc_examples.json`, embedded in the library.

use std::fmt::Write;
use std::sync::OnceLock;

use serde_json::Value;

use crate::endpoint::{EndpointSpec, Param, ParamIn, ResponseField};
use crate::vendors;
use crate::vendors::vmr::endpoints::{host_of, Host};
use crate::Vendor;

/// What a doc example shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExampleKind {
    /// A successful response (the docs' 成功示例 / 正确响应 / 成功回复示例).
    Success,
    /// A failure response (失败示例).
    Error,
}

impl ExampleKind {
    /// `success` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExampleKind::Success => "success",
            ExampleKind::Error => "error",
        }
    }
}

/// One example response body from a vendor doc.
#[derive(Clone, Debug)]
pub struct DocExample {
    /// The vendor.
    pub vendor: Vendor,
    /// The endpoint id it belongs to.
    pub endpoint: String,
    /// Success or failure.
    pub kind: ExampleKind,
    /// The body as the doc prints it (page breaks, comments and all).
    pub text: String,
    /// The body as JSON, when it reads as JSON after the lenient pass (trailing commas and `//`
    /// comments removed, [`crate::json::parse_lenient`]); `None` when the doc's text is broken.
    pub json: Option<Value>,
}

/// The doc examples of every vendor, embedded from `vendors/<v>/testdata/doc_examples.json`
/// (`{endpoint, kind, body}`; Kedacom names its success examples `response` and also lists
/// request examples, `params`, which are not responses and are left out).
fn all_examples() -> &'static [DocExample] {
    static ALL: OnceLock<Vec<DocExample>> = OnceLock::new();
    ALL.get_or_init(|| {
        let files = [
            (Vendor::Avd, include_str!("vendors/avd/testdata/doc_examples.json")),
            (Vendor::Kedacom, include_str!("vendors/kedacom/testdata/doc_examples.json")),
            (Vendor::Vmr, include_str!("vendors/vmr/testdata/doc_examples.json")),
            (Vendor::Netease, include_str!("vendors/netease/testdata/doc_examples.json")),
        ];
        let mut all = Vec::new();
        for (vendor, file) in files {
            let rows: Vec<Value> = serde_json::from_str(file).expect("embedded doc_examples.json is JSON");
            for row in rows {
                let kind = match row["kind"].as_str() {
                    Some("success" | "response") => ExampleKind::Success,
                    Some("error") => ExampleKind::Error,
                    _ => continue,
                };
                let (Some(endpoint), Some(text)) = (row["endpoint"].as_str(), row["body"].as_str()) else { continue };
                let json = crate::json::parse_lenient(text.as_bytes()).ok();
                all.push(DocExample { vendor, endpoint: endpoint.to_string(), kind, text: text.to_string(), json });
            }
        }
        all
    })
}

/// The doc's example responses of `e`, success examples first, in the doc's order. Empty when
/// the docs give none.
pub fn doc_examples(e: &EndpointSpec) -> Vec<&'static DocExample> {
    let mine = all_examples().iter().filter(|x| x.vendor == e.vendor && x.endpoint == e.id);
    let (mut success, error): (Vec<_>, Vec<_>) = mine.partition(|x| x.kind == ExampleKind::Success);
    success.extend(error);
    success
}

/// The examples shown with an endpoint: every success example, or, when the doc gives none,
/// its error examples.
fn shown_examples(e: &EndpointSpec) -> Vec<&'static DocExample> {
    let all = doc_examples(e);
    let success: Vec<_> = all.iter().copied().filter(|x| x.kind == ExampleKind::Success).collect();
    if success.is_empty() {
        all
    } else {
        success
    }
}

/// What meetkit returns of `e`'s response body (`meetkit call` prints it, Rhai and the
/// bindings get it as a map): the envelope is checked and removed.
pub fn returns(e: &EndpointSpec) -> &'static str {
    match e.vendor {
        Vendor::Avd => "the body without `ret` (or `code`) and `msg`",
        Vendor::Kedacom => "the body without `success`, `error_code` and `description`",
        Vendor::Vmr if e.id == "meet.check_join" => "the body without `code`",
        Vendor::Vmr if e.id == "session.end" => "the answer, which the doc says to ignore (`null` when there is none)",
        Vendor::Vmr if e.id == "events.subscribe" => {
            "`{room, subscribed: true}` once the stream is open; the events come through `wait_event`/`events()`"
        }
        Vendor::Vmr if e.id == "presentation.jpeg" => "`{content_type, size, data_base64}`: the image, base64-encoded",
        Vendor::Vmr => match host_of(e) {
            Host::ApiServer => "`data` (`null` when absent)",
            Host::McuHost => "`result` (the text \"true\"/\"false\" read as a boolean)",
        },
        Vendor::Netease if e.id == "meeting.record_list" => "`ret` as one flat array of files (`fileInfo` unwrapped)",
        Vendor::Netease => "`ret` (`{}` when absent)",
    }
}

/// How a vendor's responses are wrapped and how its failures look, once per vendor.
fn envelope_notes(v: Vendor) -> &'static str {
    match v {
        Vendor::Avd => {
            "Envelope: `{ret, msg, ...}`; `ret` 0 is success. `room.close`, `room.participate.kick` and \
             `room.participate.list` send `code` (200 = success) instead of `ret`, and `room.get_statistic` \
             sends its counters bare. A failure is `{ret: <code>, msg}`; meetkit raises it as an API error \
             with the code's documented meaning."
        }
        Vendor::Kedacom => {
            "Envelope: flat objects with `success` (1 = success) beside the payload fields. A failure is \
             `{success: 0, error_code, description}` (`version.get`: no `description`); meetkit raises it as \
             an API error. The doc shows the content of only three success examples and no failure example."
        }
        Vendor::Vmr => {
            "Envelopes: the room API (mcuHost) answers `{status: \"success\", result}`; any other `status`, \
             or a command's `result` false, is a failure. `meet.check_join` answers `{code: \"200\", \
             timeStamp, results}`. The record/live API answers `{code: \"200\", data, message, state: 1}`; \
             another `code` (400/403/500, 200001-200008) or `state` 0 is a failure. meetkit raises failures \
             as API errors."
        }
        Vendor::Netease => {
            "Envelope (公共响应参数): `{code, msg, requestId, costTime, ret}`; `code` 200 is success and the \
             business fields live in `ret`. A failure is `{code: <code>, msg}`; meetkit raises it as an API \
             error carrying `requestId`."
        }
    }
}

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
    out.push_str("Response fields are the fields of a successful response body as the vendor sends it, envelope\n");
    out.push_str("included: `a.b` is member `b` of object `a`, `a[].b` is `b` in every element of array `a`, and\n");
    out.push_str("*(the body)* is a body that is not a JSON object. Each endpoint says what meetkit returns of that\n");
    out.push_str("body, and shows the vendor doc's own example response where the doc gives one.\n\n");
    for v in &list {
        let table = vendors::endpoints(*v);
        let _ = writeln!(out, "- [{} (`{}`)](#{}) — {} endpoints", v.title(), v, v, table.len());
    }
    for v in list {
        let table = vendors::endpoints(v);
        let _ = writeln!(out, "\n## {v}\n\n{} — {} endpoints.\n", v.title(), table.len());
        let _ = writeln!(out, "{}\n", envelope_notes(v));
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
            endpoint_body(&mut out, e, Fold::Details);
        }
    }
    out
}

/// One endpoint in full (`meetkit endpoints <vendor> <id>`): the same section as the reference,
/// with the vendor's envelope notes and the example unfolded.
pub fn endpoint_markdown(e: &EndpointSpec) -> String {
    let mut out = String::new();
    let _ = write!(out, "### {} ", e.vendor);
    endpoint_body(&mut out, e, Fold::Open);
    let _ = writeln!(out, "\n{}", envelope_notes(e.vendor));
    let _ = writeln!(out, "\nRetried after a timeout or 5xx: {}.", if e.idempotent { "yes" } else { "no" });
    let _ = writeln!(out, "Signature: {}", e.signature());
    out
}

/// One endpoint as JSON (`meetkit endpoints --output json`): vendor, id, method, path,
/// whether it is retried, summary, signature, its parameters (object fields nested), its
/// response fields (`path`, `type`, `doc`), what meetkit returns of the body, and the doc's
/// example responses (`kind`, `text` as printed, `json` or `null` when the text is broken).
pub fn endpoint_json(e: &EndpointSpec) -> Value {
    fn params(ps: &[Param]) -> Vec<Value> {
        ps.iter()
            .map(|p| {
                let mut v =
                    serde_json::json!({"name": p.name, "type": p.ty.as_str(), "required": p.required, "doc": p.doc});
                if !p.children.is_empty() {
                    v["fields"] = Value::from(params(p.children));
                }
                v
            })
            .collect()
    }
    let response: Vec<Value> =
        e.response.iter().map(|f| serde_json::json!({"path": f.path, "type": f.ty.as_str(), "doc": f.doc})).collect();
    let examples: Vec<Value> = shown_examples(e)
        .into_iter()
        .map(|x| serde_json::json!({"kind": x.kind.as_str(), "text": x.text, "json": x.json}))
        .collect();
    serde_json::json!({
        "vendor": e.vendor.as_str(),
        "id": e.id,
        "method": e.method.as_str(),
        "path": e.path,
        "idempotent": e.idempotent,
        "summary": e.summary,
        "signature": e.signature(),
        "params": params(e.params),
        "response": response,
        "returns": returns(e),
        "examples": examples,
    })
}

/// How the example sits in the Markdown: folded (`<details>`, the long reference) or open.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fold {
    Details,
    Open,
}

fn endpoint_body(out: &mut String, e: &EndpointSpec, fold: Fold) {
    let _ = writeln!(out, "`{}` — {} `{}`\n\n{}\n", e.id, e.method.as_str(), e.path, e.summary);
    if e.params.is_empty() {
        out.push_str("No parameters.\n");
    } else {
        out.push_str("| parameter | type | required | in | description |\n|---|---|---|---|---|\n");
        params(out, e.params, "");
    }
    let _ = writeln!(out, "\nResponse fields — meetkit returns {}:\n", returns(e));
    out.push_str("| field | type | description |\n|---|---|---|\n");
    for f in e.response {
        let _ = writeln!(out, "| {} | {} | {} |", field_path(f), f.ty.as_str(), cell(f.doc));
    }
    out.push('\n');
    let examples = shown_examples(e);
    if examples.is_empty() {
        out.push_str("The docs give no example response.\n");
    }
    for x in examples {
        let title = match x.kind {
            ExampleKind::Success => "Example response (from the vendor doc)",
            ExampleKind::Error => "Example error response (from the vendor doc; it gives no success example)",
        };
        let (lang, body, note) = match &x.json {
            Some(v) => ("json", serde_json::to_string_pretty(v).unwrap_or_default(), ""),
            None => ("text", x.text.trim_end().to_string(), " — as printed, not valid JSON"),
        };
        match fold {
            Fold::Details => {
                let _ =
                    writeln!(out, "<details><summary>{title}{note}</summary>\n\n```{lang}\n{body}\n```\n\n</details>");
            }
            Fold::Open => {
                let _ = writeln!(out, "{title}{note}:\n\n```{lang}\n{body}\n```");
            }
        }
    }
}

fn field_path(f: &ResponseField) -> String {
    if f.path.is_empty() {
        "*(the body)*".to_string()
    } else {
        format!("`{}`", f.path)
    }
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
