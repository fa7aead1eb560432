//! [`split`]: validated parameters to path, headers, query string and body.

use serde_json::{Map, Value};

use crate::endpoint::{EndpointSpec, HttpMethod, ParamIn};
use crate::json::text;
use crate::Result;

/// Where a vendor sends the parameters its table leaves at [`ParamIn::Auto`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoIn {
    /// The query string, whatever the method (AVD: every call is a GET, an upload's other
    /// parameters go in its query string).
    Query,
    /// The body, whatever the method (NetEase: every call is a POST with a JSON body).
    Body,
    /// The query string of a GET, the body of anything else (vmr, Kedacom).
    ByMethod,
}

/// One call's parameters, each where its table row says it travels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Split {
    /// The endpoint's path with its `{name}` placeholders filled in, percent-encoded
    /// ([`EndpointSpec::render_path`]).
    pub path: String,
    /// Header parameters, as `(name, text)`.
    pub headers: Vec<(String, String)>,
    /// Query-string parameters, as `(name, text)`, in the order given.
    pub query: Vec<(String, String)>,
    /// Body parameters, values as given (the vendor encodes them: JSON, a form, a `params` field).
    pub body: Map<String, Value>,
}

/// Distribute `params` (already checked by [`EndpointSpec::normalize`]) by their rows'
/// [`ParamIn`]: path placeholders into the path, then headers, query and body; `Auto` (and
/// names the table does not list) where `auto` says. `null` values are left out. Header and
/// query values travel as text: strings as they are, numbers and booleans as JSON
/// (`42`, `true`), objects and arrays as compact JSON text.
pub fn split(spec: &EndpointSpec, mut params: Map<String, Value>, auto: AutoIn) -> Result<Split> {
    let path = spec.render_path(&mut params)?;
    let mut out = Split { path, ..Split::default() };
    for (name, value) in params {
        if value.is_null() {
            continue;
        }
        let at = spec.param(&name).map_or(ParamIn::Auto, |p| p.at);
        let at = match (at, auto) {
            (ParamIn::Header | ParamIn::Query | ParamIn::Body, _) => at,
            // `Path` here names no placeholder of the path (a table test forbids it): like Auto.
            (ParamIn::Auto | ParamIn::Path, AutoIn::Query) => ParamIn::Query,
            (ParamIn::Auto | ParamIn::Path, AutoIn::Body) => ParamIn::Body,
            (ParamIn::Auto | ParamIn::Path, AutoIn::ByMethod) if spec.method == HttpMethod::Get => ParamIn::Query,
            (ParamIn::Auto | ParamIn::Path, AutoIn::ByMethod) => ParamIn::Body,
        };
        match at {
            ParamIn::Header => out.headers.push((name, text(&value))),
            ParamIn::Query => out.query.push((name, text(&value))),
            _ => {
                out.body.insert(name, value);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::{Param, ParamType::*};
    use crate::Vendor;
    use serde_json::json;

    const PARAMS: &[Param] = &[
        Param::req("conf_id", Str, "").at(ParamIn::Path),
        Param::opt("token", Str, "").at(ParamIn::Header),
        Param::opt("count", Int, "").at(ParamIn::Query),
        Param::opt("name", Str, "").at(ParamIn::Body),
        Param::opt("flag", Bool, ""),
        Param::opt("layout", Object, ""),
    ];

    fn spec(method: HttpMethod) -> EndpointSpec {
        EndpointSpec {
            vendor: Vendor::Kedacom,
            id: "x.y",
            method,
            path: "/confs/{conf_id}/x",
            params: PARAMS,
            idempotent: true,
            summary: "",
            response: &[],
        }
    }

    fn params() -> Map<String, Value> {
        json!({"conf_id": "12#3", "token": "t", "count": 5, "name": "n", "flag": true, "layout": {"a": 1}, "gone": null})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn each_parameter_travels_where_its_row_says() {
        let s = split(&spec(HttpMethod::Post), params(), AutoIn::ByMethod).unwrap();
        assert_eq!(s.path, "/confs/12%233/x");
        assert_eq!(s.headers, vec![("token".to_string(), "t".to_string())]);
        assert_eq!(s.query, vec![("count".to_string(), "5".to_string())]);
        assert_eq!(Value::Object(s.body), json!({"name": "n", "flag": true, "layout": {"a": 1}}));
    }

    #[test]
    fn auto_parameters_follow_the_vendor_default() {
        let get = split(&spec(HttpMethod::Get), params(), AutoIn::ByMethod).unwrap();
        let text = |pairs: &[(String, String)]| pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>();
        assert_eq!(text(&get.query), ["count=5", "flag=true", r#"layout={"a":1}"#]);
        assert_eq!(Value::Object(get.body), json!({"name": "n"}), "an explicit Body stays in the body");

        let query = split(&spec(HttpMethod::Post), params(), AutoIn::Query).unwrap();
        assert_eq!(text(&query.query), ["count=5", "flag=true", r#"layout={"a":1}"#]);
        let body = split(&spec(HttpMethod::Get), params(), AutoIn::Body).unwrap();
        assert_eq!(text(&body.query), ["count=5"]);
        assert_eq!(Value::Object(body.body), json!({"name": "n", "flag": true, "layout": {"a": 1}}));
    }

    #[test]
    fn a_missing_path_parameter_is_an_error_naming_it() {
        let mut p = params();
        p.remove("conf_id");
        let e = split(&spec(HttpMethod::Get), p, AutoIn::ByMethod).unwrap_err().to_string();
        assert!(e.contains("invalid parameter `conf_id`"), "{e}");
    }

    #[test]
    fn every_path_parameter_of_every_table_names_a_placeholder_and_back() {
        for vendor in Vendor::ALL {
            for e in crate::vendors::endpoints(vendor) {
                for p in e.params.iter().filter(|p| p.at == ParamIn::Path) {
                    assert!(e.path.contains(&format!("{{{}}}", p.name)), "{vendor} {}: {}", e.id, p.name);
                }
                let mut rest = e.path;
                while let Some(start) = rest.find('{') {
                    let end = rest[start..].find('}').map_or(rest.len(), |i| start + i);
                    let name = &rest[start + 1..end];
                    assert!(e.param(name).is_some(), "{vendor} {}: placeholder {{{name}}} has no parameter", e.id);
                    rest = rest.get(end + 1..).unwrap_or("");
                }
            }
        }
    }
}
