//! 3tee AVD (`/sdkapi/v2`, vendor doc 000).
//!
//! * Requests: `GET {base_url}/sdkapi/v2{path}?token=...&params` — the doc allows GET or
//!   POST, every example is a GET with the parameters (token included) in the query
//!   string; booleans as `true`/`false`, integers as decimal text, JSON-valued parameters
//!   as JSON text. `/uploadfile` is a multipart POST at the host root (no `/sdkapi/v2`, no
//!   token) with the file in the `file` part and `path`/`storage_only_cluster` in the query
//!   string (the doc: "参数格式为Parmas").
//! * Where a table and its own request example name a parameter differently, both names
//!   are sent with the same value: `device.call`'s `url` (table) and `uri` (example);
//!   `room.mix_record.update_layout`'s layout items' `zorder` (every other layout in the
//!   doc) and `order` (its example).
//! * Auth: `app.get_token` once, lazily; the token is cached and shared by every concurrent
//!   call ([`CredentialCache`]); when the server answers 40003 (token expired or invalid)
//!   exactly one caller fetches a new token and every caller refused with the old one resends
//!   once with it. The doc states no token lifetime, so none is assumed.
//! * Envelopes: see [`envelope`]. Every decision the doc leaves open is listed under "AVD" in
//!   `docs/assumptions.md`.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;
use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

use crate::endpoint::EndpointSpec;
use crate::secret::Secret;
use crate::transport::Transport;
use crate::vendors::toolkit::{split, AutoIn, BaseUrl, CredentialCache};
use crate::vendors::VendorApi;
use crate::{Error, Result, Vendor};

pub mod endpoints;
pub mod envelope;
pub mod lifecycle;

/// An AVD connection in a profile (`[profiles.<name>.avd]`).
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AvdConfig {
    /// Host root, e.g. `https://avd.example.com:9610` (a trailing `/sdkapi/v2` is accepted and ignored).
    pub base_url: String,
    /// The access key from AVD's system management backend.
    pub access_key: String,
    /// The matching secret key. Never printed.
    pub secret_key: Secret,
    /// Re-point absolute `/attachment` and `/videoPlayer` URLs in responses that name
    /// another host or port at `base_url`'s scheme, host and port (for servers behind NAT
    /// that report internal addresses). Default false: the doc's own examples serve files
    /// from another port than the API (`/room/record/get`: `http://...:9609/attachment`),
    /// so URLs are used as the server gives them. Relative `/attachment?...` URLs are always
    /// made absolute against `base_url`. See `avd.attachment_urls` in `docs/assumptions.md`.
    #[serde(default)]
    pub rewrite_attachment_urls: bool,
}

/// The cheap authenticated call `meetkit doctor` makes. List the meetings in progress: needs a token, so it proves access_key/secret_key.
pub const HEALTH_CHECK: &str = "room.list";

/// AVD codes for server-side failures that may pass (redis, mysql, internal timeout).
pub const RETRYABLE_CODES: &[&str] = &["41001", "41002", "41003"];

/// The documented meaning of an AVD error code.
pub fn error_meaning(code: &str) -> Option<&'static str> {
    let code: i64 = code.parse().ok()?;
    endpoints::ERROR_CODES.iter().find(|(c, _, _)| *c == code).map(|(_, _, meaning)| *meaning)
}

/// Build the AVD client for a profile section.
pub(crate) fn connect(config: AvdConfig, transport: Arc<Transport>) -> Result<Arc<dyn VendorApi>> {
    Ok(Arc::new(AvdClient::new(config, transport)?))
}

/// The AVD client: builds requests from the endpoint table, keeps the token.
#[derive(Debug)]
pub struct AvdClient {
    config: AvdConfig,
    base: BaseUrl,
    transport: Arc<Transport>,
    token: CredentialCache<Secret>,
}

impl AvdClient {
    /// Connect (lazily: nothing is sent until the first call).
    pub fn new(config: AvdConfig, transport: Arc<Transport>) -> Result<Self> {
        let base = BaseUrl::from_profile(
            "avd.base_url",
            &config.base_url,
            Some("/sdkapi/v2"),
            "https://avd.example.com:9610",
        )?;
        if config.access_key.is_empty() || config.secret_key.is_empty() {
            return Err(Error::config("avd.access_key and avd.secret_key must not be empty"));
        }
        Ok(AvdClient { config, base, transport, token: CredentialCache::new("avd token") })
    }

    /// The host root all URLs are built on (with a trailing slash).
    pub fn root(&self) -> &Url {
        self.base.url()
    }

    async fn call_spec(&self, spec: &'static EndpointSpec, mut params: Map<String, Value>) -> Result<Value> {
        match spec.id {
            "app.get_token" => {
                self.fill_credentials(&mut params, true);
                return self.send(spec, &params, None).await;
            }
            "app.get_key_licence" => self.fill_credentials(&mut params, false),
            "uploadfile" => return self.upload(spec, &params).await,
            "device.call" => mirror(&mut params, "url", "uri"),
            "room.mix_record.update_layout" => mirror_layout_order(&mut params),
            _ => {}
        }
        let token = self.token.get(|| self.fetch_token()).await?;
        match self.send(spec, &params, Some(&token)).await {
            Err(Error::Api { code, message, retryable, .. })
                if code == "40003" && reports_unknown_room(spec, &message) =>
            {
                Err(Error::Api {
                    vendor: Vendor::Avd,
                    endpoint: spec.id.to_string(),
                    code,
                    message,
                    meaning: Some("Room id does not exist (room.get_statistic reports unknown rooms with 40003)"),
                    request_id: None,
                    retryable,
                })
            }
            Err(Error::Api { code, .. }) if code == "40003" => {
                tracing::debug!(endpoint = spec.id, "avd: token refused (40003), renewing once");
                let fresh = self.token.renew(&token, || self.fetch_token()).await?;
                match self.send(spec, &params, Some(&fresh)).await {
                    // A token fresh from app.get_token refused again: the credentials (or the
                    // server's clock) are the problem, not the call.
                    Err(Error::Api { code, message, .. })
                        if code == "40003" && !reports_unknown_room(spec, &message) =>
                    {
                        Err(Error::Auth {
                            vendor: Vendor::Avd,
                            message: format!(
                                "{}: a token fresh from app.get_token was refused again (40003 {message})",
                                spec.id
                            ),
                        })
                    }
                    other => other,
                }
            }
            other => other,
        }
    }

    fn fill_credentials(&self, params: &mut Map<String, Value>, with_secret: bool) {
        params.entry("access_key").or_insert_with(|| Value::String(self.config.access_key.clone()));
        if with_secret {
            params.entry("secret_key").or_insert_with(|| Value::String(self.config.secret_key.expose().to_string()));
        }
    }

    async fn fetch_token(&self) -> Result<Secret> {
        let spec = crate::endpoint::lookup(Vendor::Avd, endpoints::ENDPOINTS, "app.get_token")?;
        let mut params = Map::new();
        self.fill_credentials(&mut params, true);
        let payload = self.send(spec, &params, None).await.map_err(|e| match e {
            Error::Api { code, message, .. } => Error::Auth {
                vendor: Vendor::Avd,
                message: format!(
                    "app.get_token refused the profile's access_key/secret_key: error {code}: {message} \
                     (check the avd credentials of the profile)"
                ),
            },
            other => other,
        })?;
        match payload.get("token").and_then(Value::as_str) {
            Some(t) if !t.is_empty() => Ok(Secret::new(t)),
            _ => Err(Error::Auth { vendor: Vendor::Avd, message: "app.get_token answered without a token".into() }),
        }
    }

    async fn send(
        &self,
        spec: &'static EndpointSpec,
        params: &Map<String, Value>,
        token: Option<&Secret>,
    ) -> Result<Value> {
        let split = split(spec, params.clone(), AutoIn::Query)?;
        let mut url = self.base.join_url(&format!("/sdkapi/v2{}", split.path))?;
        // The query is written into the URL once, not re-serialised on every attempt.
        if token.is_some() || !split.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            if let Some(t) = token {
                pairs.append_pair("token", t.expose());
            }
            pairs.extend_pairs(&split.query);
        }
        let resp = self.transport.send(Vendor::Avd, spec.id, spec.idempotent, |c| c.get(url.clone())).await?;
        self.finish(spec, &resp)
    }

    /// `/uploadfile`: multipart with the file's bytes in the `file` part; the other
    /// parameters (`path`, `storage_only_cluster`) in the query string.
    async fn upload(&self, spec: &'static EndpointSpec, params: &Map<String, Value>) -> Result<Value> {
        let path = params.get("file").and_then(Value::as_str).unwrap_or_default();
        let bytes = tokio::fs::read(path).await.map_err(|e| Error::io(path, e))?;
        let name = std::path::Path::new(path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let url = self.base.join(spec.path);
        let mut query = split(spec, params.clone(), AutoIn::Query)?.query;
        query.retain(|(k, _)| k != "file");
        let resp = self
            .transport
            .send(Vendor::Avd, spec.id, spec.idempotent, |c| {
                let form = reqwest::multipart::Form::new()
                    .part("file", reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.clone()));
                c.post(&url).query(&query).multipart(form)
            })
            .await?;
        self.finish(spec, &resp)
    }

    fn finish(&self, spec: &'static EndpointSpec, resp: &crate::transport::RawResponse) -> Result<Value> {
        let mut payload = Value::Object(envelope::decode(spec, resp)?);
        envelope::resolve_attachment_urls(&mut payload, self.base.url(), self.config.rewrite_attachment_urls);
        Ok(payload)
    }
}

/// `room.get_statistic` answers an unknown room with 40003 "no such room_id" (its error
/// example in the doc) — the code that otherwise means "token expired". Such an answer is
/// not a token problem: no renewal, and the right meaning.
fn reports_unknown_room(spec: &EndpointSpec, message: &str) -> bool {
    spec.id == "room.get_statistic" && message.to_ascii_lowercase().contains("room")
}

/// Send `value` under both `a` and `b` when the caller gave one of them (the doc's table and
/// its request example disagree on the name). Giving both with different values is left to
/// the server to refuse.
fn mirror(params: &mut Map<String, Value>, a: &str, b: &str) {
    let given = params.get(a).or_else(|| params.get(b)).filter(|v| !v.is_null()).cloned();
    if let Some(v) = given {
        params.entry(a).or_insert_with(|| v.clone());
        params.entry(b).or_insert(v);
    }
}

/// `room.mix_record.update_layout`: each layout item's `zorder` is also sent as `order`
/// (and the other way round), since the endpoint's example names it `order`. A `videos`
/// given as JSON text is parsed, mirrored and sent as JSON text again.
fn mirror_layout_order(params: &mut Map<String, Value>) {
    let Some(videos) = params.get_mut("videos") else { return };
    let mut parsed = match &*videos {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(v) => v,
            Err(_) => return,
        },
        other => other.clone(),
    };
    if let Value::Array(items) = &mut parsed {
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            mirror(item, "zorder", "order");
        }
    }
    *videos = parsed;
}

impl VendorApi for AvdClient {
    fn call<'a>(&'a self, spec: &'static EndpointSpec, params: Map<String, Value>) -> BoxFuture<'a, Result<Value>> {
        self.call_spec(spec, params).boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::ParamType;

    #[test]
    fn table_is_complete_and_uses_only_avd_wire_types() {
        assert_eq!(endpoints::ENDPOINTS.len(), 69);
        let mut ids: Vec<&str> = endpoints::ENDPOINTS.iter().map(|e| e.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 69, "duplicate endpoint ids");
        for e in endpoints::ENDPOINTS {
            for p in e.params {
                assert!(
                    matches!(
                        p.ty,
                        ParamType::Str | ParamType::Int | ParamType::Bool | ParamType::JsonText | ParamType::File
                    ),
                    "{}.{}",
                    e.id,
                    p.name
                );
            }
        }
    }

    #[test]
    fn table_and_example_names_are_both_sent() {
        let mut p = serde_json::json!({"url": "sip:1@h", "name": "d"}).as_object().unwrap().clone();
        mirror(&mut p, "url", "uri");
        assert_eq!(Value::Object(p), serde_json::json!({"url": "sip:1@h", "uri": "sip:1@h", "name": "d"}));
        let mut p = Map::new();
        mirror(&mut p, "url", "uri");
        assert!(p.is_empty(), "nothing given, nothing added");

        let layout = |videos: Value| serde_json::json!({"room_id": "r", "videos": videos}).as_object().unwrap().clone();
        let mut p = layout(
            serde_json::json!([{"video_name": "a", "zorder": 1}, {"video_name": "b", "order": 2}, {"video_name": "c"}]),
        );
        mirror_layout_order(&mut p);
        assert_eq!(
            p["videos"],
            serde_json::json!([{"video_name": "a", "zorder": 1, "order": 1}, {"video_name": "b", "order": 2, "zorder": 2}, {"video_name": "c"}])
        );
        // JSON text is parsed and mirrored; the wire form is JSON text again.
        let mut p = layout(Value::String(r#"[{"video_name":"a","zorder":0}]"#.into()));
        mirror_layout_order(&mut p);
        assert_eq!(crate::json::text(&p["videos"]), r#"[{"video_name":"a","zorder":0,"order":0}]"#);
    }

    #[test]
    fn attachment_rewriting_is_off_unless_configured() {
        let cfg: AvdConfig = toml::from_str("base_url = 'http://h'\naccess_key = 'a'\nsecret_key = 's'\n").unwrap();
        assert!(!cfg.rewrite_attachment_urls);
    }

    #[test]
    fn error_codes_have_meanings() {
        assert_eq!(
            error_meaning("40003"),
            Some("access_token expired or invalid (example msg: 'access token invalid')")
        );
        assert!(error_meaning("99999").is_none());
        assert!(endpoints::ERROR_CODES.len() >= 64);
    }

    #[test]
    fn base_url_forms() {
        let t = Arc::new(Transport::new(Default::default()).unwrap());
        let cfg = |u: &str| AvdConfig {
            base_url: u.into(),
            access_key: "a".into(),
            secret_key: Secret::new("s"),
            rewrite_attachment_urls: false,
        };
        let c = AvdClient::new(cfg("https://h:9610/sdkapi/v2/"), t.clone()).unwrap();
        assert_eq!(c.root().as_str(), "https://h:9610/");
        let e = AvdClient::new(cfg("avd.example.com"), t).unwrap_err().to_string();
        assert!(e.contains("not an http(s) URL"), "{e}");
    }
}
