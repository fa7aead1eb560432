//! API calls straight over hyper-util's pooled HTTP/1.1 client.
//!
//! reqwest wraps every request in layers an API call does not use: a redirect policy that
//! parses the request's URL again on the way out and the final URL on the way back (about a
//! fifth of the instructions of a small call, whatever the policy), a boxed timeout future and
//! a timeout wrapper around the body. Measured on this machine, a hand-written hyper-util loop
//! runs 1.5× the calls of the same loop on reqwest (BENCHMARKS.md). So API calls go through
//! [`DirectClient`]: vendors still build a `reqwest::Request` (URL, query, headers, form,
//! JSON or multipart body), which is converted to an `http::Request` and sent on hyper-util's
//! pool with the same TLS trust as the transport's reqwest client (the webpki roots plus
//! `ca_cert`), the same connect timeout and the same default headers; the whole exchange runs
//! under one deadline.
//!
//! Where reqwest does something this path does not — a proxy from the environment
//! (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`), `insecure = true` — the transport keeps sending
//! calls through reqwest ([`usable`]). Downloads and event streams always use reqwest.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use reqwest::header::{HeaderValue, ACCEPT, USER_AGENT};

use super::{secs, Answer, Failed, TransportConfig};
use crate::{Error, Result};

/// The variables reqwest reads for a proxy (either case).
const PROXY_VARIABLES: [&str; 3] = ["http_proxy", "https_proxy", "all_proxy"];

/// Whether calls may take the direct path for `config`, given the environment lookup `env`:
/// not with `insecure` (reqwest's certificate-ignoring mode stays the only one) and not when a
/// proxy variable is set (reqwest routes through it).
pub(super) fn usable(config: &TransportConfig, env: impl Fn(&str) -> Option<String>) -> bool {
    let proxied = PROXY_VARIABLES.iter().any(|name| {
        [name.to_string(), name.to_ascii_uppercase()].iter().any(|v| env(v).is_some_and(|v| !v.is_empty()))
    });
    !config.insecure && !proxied
}

/// hyper-util's pooled client with the transport's TLS trust and connect timeout.
#[derive(Clone)]
pub(super) struct DirectClient {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, reqwest::Body>,
}

/// A failed exchange on the direct path.
#[derive(Debug)]
pub(super) enum DirectError {
    /// The request could not be sent or no answer arrived (`is_connect` says whether it never
    /// reached the server).
    Send(hyper_util::client::legacy::Error),
    /// The answer's body was cut off.
    Body(hyper::Error),
    /// The request's `reqwest::Request` could not be converted.
    Build(String),
    /// No whole answer within the request timeout.
    Elapsed(Duration),
}

impl DirectError {
    /// Whether the request never reached the server (refused or failed connection).
    pub(super) fn is_connect(&self) -> bool {
        matches!(self, DirectError::Send(e) if e.is_connect())
    }

    /// Whether the request timeout ran out.
    pub(super) fn is_timeout(&self) -> bool {
        matches!(self, DirectError::Elapsed(_))
    }

    /// The error with its causes, for messages (there is no URL in it).
    pub(super) fn describe(&self) -> String {
        match self {
            DirectError::Send(e) => crate::error::error_chain(e),
            DirectError::Body(e) => crate::error::error_chain(e),
            DirectError::Build(m) => m.clone(),
            DirectError::Elapsed(after) => format!("operation timed out after {}s", after.as_secs_f64()),
        }
    }

    /// The error as a cause chain, for the certificate check.
    pub(super) fn as_error(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DirectError::Send(e) => Some(e),
            DirectError::Body(e) => Some(e),
            DirectError::Build(_) | DirectError::Elapsed(_) => None,
        }
    }
}

impl DirectClient {
    /// The client for `config`, trusting the webpki roots and the certificates of `ca_pem`.
    pub(super) fn new(config: &TransportConfig, ca_pem: Option<&[u8]>) -> Result<DirectClient> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let (Some(pem), Some(path)) = (ca_pem, &config.ca_cert) {
            use rustls::pki_types::pem::PemObject;
            for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| {
                    Error::config(format!("transport.ca_cert {}: not a PEM bundle: {e}", path.display()))
                })?;
                roots.add(cert).map_err(|e| {
                    Error::config(format!("transport.ca_cert {}: not a usable CA certificate: {e}", path.display()))
                })?;
            }
        }
        let provider = rustls::crypto::CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::config(format!("cannot set up TLS: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(secs(config.connect_timeout_secs)));
        http.set_nodelay(true);
        // HTTP/1.1 only, as reqwest is built here; hyper-rustls then offers no ALPN (reqwest
        // offers `http/1.1`): a server answers HTTP/1.1 either way.
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(90)).build(https);
        Ok(DirectClient { client })
    }

    /// Sends `request` (sent at `started`) and reads its whole answer, all within `timeout`.
    pub(super) async fn exchange(
        &self,
        request: reqwest::Request,
        timeout: Duration,
        started: std::time::Instant,
    ) -> std::result::Result<Answer, Failed> {
        let mut request = http::Request::<reqwest::Body>::try_from(request)
            .map_err(|e| Failed::Direct(DirectError::Build(e.to_string())))?;
        let headers = request.headers_mut();
        headers.entry(USER_AGENT).or_insert(HeaderValue::from_static(super::USER_AGENT_VALUE));
        headers.entry(ACCEPT).or_insert(HeaderValue::from_static("*/*"));
        let exchange = async {
            let response = self.client.request(request).await.map_err(DirectError::Send)?;
            let waited = started.elapsed();
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map(|b| b.to_bytes()).map_err(|e| Failed::Direct(DirectError::Body(e)));
            Ok(Answer { status: parts.status.as_u16(), version: parts.version, headers: parts.headers, waited, body })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or(Err(DirectError::Elapsed(timeout)))
            .map_err(Failed::Direct)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_variable_or_insecure_keeps_calls_on_reqwest() {
        let plain = TransportConfig::default();
        assert!(usable(&plain, |_| None));
        for name in ["HTTP_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
            let env = |v: &str| (v == name).then(|| "http://proxy.internal:3128".to_string());
            assert!(!usable(&plain, env), "{name}");
        }
        assert!(usable(&plain, |v| (v == "HTTP_PROXY").then(String::new)), "an empty variable is no proxy");
        assert!(!usable(&TransportConfig { insecure: true, ..Default::default() }, |_| None));
    }
}
