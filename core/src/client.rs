//! [`Client`]: one profile, every configured vendor, one transport.
//!
//! `call(vendor, endpoint_id, params)` looks the id up in the vendor's table
//! (unknown ids get suggestions), checks and normalises the parameters against the row
//! ([`EndpointSpec::normalize`]), and hands the normalised parameters to the vendor
//! module, which handles auth and envelopes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};
use tracing::Instrument;

use crate::capture::Capture;
use crate::config::Profile;
use crate::download::{DownloadOptions, Downloaded};
use crate::endpoint::{self, EndpointSpec};
#[cfg(feature = "journal")]
use crate::journal::RunJournal;
use crate::transport::Transport;
use crate::vendors::{self, VendorApi};
use crate::{Error, Result, Vendor};

/// A cheap-to-clone handle on every configured vendor of one profile.
///
/// Tokens and sessions are shared by all clones and all concurrent calls.
///
/// Secrets in results: a handle built by [`from_profile`](Self::from_profile) returns results
/// as the vendor sent them; [`with_secrets(false)`](Self::with_secrets) gives a handle whose
/// results have their secret fields (tokens, passwords, PINs, keys — the `SECRET_RESPONSE`
/// list of each endpoint table) replaced by `***`. Scripts, the Python and C bindings and
/// `meetkit call` use such a handle unless their caller allows secrets. Errors never carry a
/// profile's secrets or a redacted value, whatever the handle.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    /// The run journal every call and download of this handle is recorded in, if any.
    #[cfg(feature = "journal")]
    journal: Option<RunJournal>,
    /// Whether results keep their secret fields ([`Client::with_secrets`]).
    secrets: bool,
}

/// How [`Client::from_profile_with`] builds a client. Build it with
/// `ClientOptions { capture: Some(path), ..Default::default() }`.
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    /// Record every HTTP exchange of this client — calls and their retries, auth calls,
    /// download attempts (without their bodies), incoming NetEase callbacks — into this file
    /// as HAR 1.2, every secret redacted (see [`crate::capture`]). The file is created (or
    /// truncated) at once and is a valid HAR document after every entry.
    pub capture: Option<PathBuf>,
}

struct Inner {
    profile: String,
    transport: Arc<Transport>,
    capture: Option<Arc<Capture>>,
    /// One slot per vendor, at [`Vendor::index`]; `None` when the profile has no section.
    apis: [Option<Arc<dyn VendorApi>>; Vendor::COUNT],
    /// Vendor sections of the profile that did not parse, with the error calls to them get.
    invalid: std::collections::BTreeMap<Vendor, String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("profile", &self.inner.profile).field("vendors", &self.vendors()).finish()
    }
}

/// A weak handle on a [`Client`]: does not keep it alive; [`upgrade`](Self::upgrade) gives the
/// client back while any clone of it lives. For registries of open clients (the Python
/// binding closes every live client at interpreter exit).
#[derive(Clone)]
pub struct WeakClient(std::sync::Weak<Inner>);

impl WeakClient {
    /// The client, if any clone of it is still alive.
    pub fn upgrade(&self) -> Option<Client> {
        self.0.upgrade().map(|inner| Client {
            inner,
            #[cfg(feature = "journal")]
            journal: None,
            secrets: true,
        })
    }

    /// Whether any clone of the client is still alive.
    pub fn is_alive(&self) -> bool {
        self.0.strong_count() > 0
    }
}

impl std::fmt::Debug for WeakClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WeakClient")
    }
}

/// Anything that names a vendor: a [`Vendor`] or its id (`"avd"`).
pub trait IntoVendor {
    /// The vendor, or a configuration error naming the valid ids.
    fn into_vendor(self) -> Result<Vendor>;
}
impl IntoVendor for Vendor {
    fn into_vendor(self) -> Result<Vendor> {
        Ok(self)
    }
}
impl IntoVendor for &str {
    fn into_vendor(self) -> Result<Vendor> {
        self.parse()
    }
}
impl IntoVendor for &String {
    fn into_vendor(self) -> Result<Vendor> {
        self.parse()
    }
}

impl Client {
    /// Build a client from a profile. Nothing is sent until the first call.
    pub fn from_profile(profile: &Profile) -> Result<Client> {
        Self::from_profile_with(profile, ClientOptions::default())
    }

    /// [`from_profile`](Self::from_profile) with options (a traffic capture).
    ///
    /// Errors: as `from_profile`, and [`Error::Io`] when the capture file cannot be created.
    pub fn from_profile_with(profile: &Profile, options: ClientOptions) -> Result<Client> {
        for secret in profile_secrets(profile) {
            crate::secret::remember(secret);
        }
        let capture = match &options.capture {
            Some(path) => {
                let capture = Capture::create(path)?;
                for secret in profile_secrets(profile) {
                    capture.redact_value(secret);
                }
                Some(capture)
            }
            None => None,
        };
        let transport = Arc::new(Transport::new(profile.transport.clone())?.with_capture(capture.clone()));
        let mut apis: [Option<Arc<dyn VendorApi>>; Vendor::COUNT] = Default::default();
        for vendor in Vendor::ALL {
            apis[vendor.index()] = vendors::connect(vendor, profile, &transport)?;
        }
        let invalid = profile.invalid.clone();
        for (vendor, e) in &invalid {
            tracing::warn!(profile = %profile.name, %vendor, "calls to {vendor} will fail: {e}");
        }
        let inner = Arc::new(Inner { profile: profile.name.clone(), transport, capture, apis, invalid });
        Ok(Client {
            inner,
            #[cfg(feature = "journal")]
            journal: None,
            secrets: true,
        })
    }

    /// This client, recording every call, what each starts and stops, and every download in
    /// `journal` (see [`crate::journal`]). Sessions and tokens stay shared with `self`.
    #[cfg(feature = "journal")]
    pub fn with_journal(&self, journal: RunJournal) -> Client {
        Client { inner: self.inner.clone(), journal: Some(journal), secrets: self.secrets }
    }

    /// This client, whose results keep their secret fields (`allowed`) or show them as `***`
    /// (see [`crate::secret::redact_result`]). Sessions, tokens and the journal stay shared
    /// with `self`; meetkit's own auth always uses the real values.
    pub fn with_secrets(&self, allowed: bool) -> Client {
        Client {
            inner: self.inner.clone(),
            #[cfg(feature = "journal")]
            journal: self.journal.clone(),
            secrets: allowed,
        }
    }

    /// Whether this handle's results keep their secret fields ([`Client::with_secrets`]).
    pub fn secrets_allowed(&self) -> bool {
        self.secrets
    }

    /// The run journal this client records in, if any.
    #[cfg(feature = "journal")]
    pub fn journal(&self) -> Option<&RunJournal> {
        self.journal.as_ref()
    }

    /// A [`WeakClient`] for this client.
    pub fn downgrade(&self) -> WeakClient {
        WeakClient(Arc::downgrade(&self.inner))
    }

    /// The traffic capture this client writes, if it has one ([`ClientOptions::capture`]).
    pub fn capture(&self) -> Option<&Arc<Capture>> {
        self.inner.capture.as_ref()
    }

    /// The profile's name.
    pub fn profile_name(&self) -> &str {
        &self.inner.profile
    }

    /// The vendors this client has connections for.
    pub fn vendors(&self) -> Vec<Vendor> {
        Vendor::ALL.into_iter().filter(|v| self.api(*v).is_ok()).collect()
    }

    /// The endpoint table of a vendor.
    pub fn endpoints(vendor: Vendor) -> &'static [EndpointSpec] {
        vendors::endpoints(vendor)
    }

    /// Look up one endpoint; an unknown id is an error that suggests the closest ids.
    pub fn spec(vendor: Vendor, id: &str) -> Result<&'static EndpointSpec> {
        endpoint::lookup(vendor, vendors::endpoints(vendor), id)
    }

    /// Call one endpoint. `params` is a JSON object (or `null` for none); the
    /// result is the vendor's payload without its envelope, its secret fields shown as `***`
    /// unless this handle allows secrets ([`Client::with_secrets`]). An error's text never
    /// holds a profile's secret nor a value meetkit redacted.
    pub async fn call(&self, vendor: impl IntoVendor, endpoint_id: &str, params: Value) -> Result<Value> {
        let vendor = vendor.into_vendor()?;
        match self.call_raw(vendor, endpoint_id, params).await {
            Ok(mut value) => {
                if self.secrets {
                    // Still remembered, so that no log line or error shows them.
                    crate::secret::redact_result(vendor, endpoint_id, &mut value.clone());
                } else {
                    crate::secret::redact_result(vendor, endpoint_id, &mut value);
                }
                Ok(value)
            }
            Err(e) => Err(e.redact_known()),
        }
    }

    async fn call_raw(&self, vendor: Vendor, endpoint_id: &str, params: Value) -> Result<Value> {
        let spec = Self::spec(vendor, endpoint_id)?;
        let params = match spec.normalize(params)? {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let api = self.api(vendor)?;
        let span = tracing::debug_span!("call", %vendor, endpoint = spec.id);
        #[cfg(feature = "journal")]
        if let Some(journal) = &self.journal {
            // Recorded before the result reaches the caller: a run killed right after a call
            // still knows what the call started.
            let (started, clock) = (std::time::SystemTime::now(), std::time::Instant::now());
            let result = api.call(spec, params.clone()).instrument(span.clone()).await;
            let _in_call = span.enter(); // no await while entered
            journal.call(vendor, spec, &params, &result, started, clock.elapsed());
            journal.sessions(vendor, &api.open_sessions());
            return result;
        }
        api.call(spec, params).instrument(span).await
    }

    /// Subscribe to a vendor's events (see [`crate::events`]); `params` select the source,
    /// as the vendor documents. With a run journal, NetEase callbacks are de-duplicated in it
    /// (`dedup_journal`, unless `params` name another file).
    pub async fn events(&self, vendor: impl IntoVendor, params: Value) -> Result<crate::events::EventStream> {
        let vendor = vendor.into_vendor()?;
        #[cfg_attr(not(feature = "journal"), allow(unused_mut))]
        let mut params = match params {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        // A run journal also keeps the NetEase callback receiver's de-duplication across restarts.
        #[cfg(feature = "journal")]
        if let (Some(journal), Vendor::Netease, false) = (&self.journal, vendor, params.contains_key("dedup_journal")) {
            let path = journal.journal().path().display().to_string();
            params.insert("dedup_journal".into(), Value::String(path));
        }
        crate::capture::scope(self.inner.capture.clone(), self.api(vendor)?.events(params)).await
    }

    /// Release every vendor's server-side sessions. Calls after `close` open new sessions.
    /// Returns the first error, after trying every vendor.
    pub async fn close(&self) -> Result<()> {
        let mut first = Ok(());
        for vendor in Vendor::ALL {
            let Some(api) = &self.inner.apis[vendor.index()] else { continue };
            match api.close().await {
                // Only sessions known to be ended are marked so: after a failed close the
                // journal keeps them as possibly open, for a cleanup.
                Ok(()) => {
                    #[cfg(feature = "journal")]
                    if let Some(journal) = &self.journal {
                        journal.sessions(vendor, &api.open_sessions());
                    }
                    #[cfg(not(feature = "journal"))]
                    let _ = vendor;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "closing a vendor session failed");
                    if first.is_ok() {
                        first = Err(e);
                    }
                }
            }
        }
        first
    }

    /// Download `url` into `dir` (streamed, resumable, checked; see [`crate::download`]).
    ///
    /// Waits first for a free slot of `transport.max_downloads` (per vendor, `options.vendor`;
    /// per process): nothing is opened or sent while it waits, and `options.cancel` ends the
    /// wait.
    pub async fn download(&self, url: &str, dir: &Path, options: DownloadOptions) -> Result<Downloaded> {
        let slot = self.inner.transport.download_slot(options.vendor);
        let _slot = match &options.cancel {
            Some(token) => tokio::select! {
                biased;
                _ = token.cancelled() => return Err(crate::download::cancelled("download cancelled")),
                slot = slot => slot,
            },
            None => slot.await,
        };
        let download = crate::download::download(self.inner.transport.http(), url, dir, options);
        let done = crate::capture::scope(self.inner.capture.clone(), download).await?;
        #[cfg(feature = "journal")]
        if let Some(journal) = &self.journal {
            journal.file(&done.path, done.bytes, Some(done.md5.as_str()).filter(|m| !m.is_empty()));
        }
        Ok(done)
    }

    /// Ok if this client has a connection for `vendor`; else the error saying how to add one.
    pub fn require(&self, vendor: Vendor) -> Result<()> {
        self.api(vendor).map(|_| ())
    }

    /// The shared transport.
    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    fn api(&self, vendor: Vendor) -> Result<&dyn VendorApi> {
        let slot = self.inner.apis[vendor.index()].as_deref();
        slot.ok_or_else(|| {
            if let Some(e) = self.inner.invalid.get(&vendor) {
                return Error::config(e.clone());
            }
            if self.inner.profile == "env" {
                return Error::config(format!(
                    "no {vendor} connection: no config file was found (--config, $MEETKIT_CONFIG, ./meetkit.toml) \
                     and no MEETKIT_{}_* variables are set; add a profile (see docs/profile.md) or use --sim",
                    vendor.as_str().to_uppercase()
                ));
            }
            Error::config(format!(
                "profile `{}` has no {vendor} connection: add [profiles.{}.{vendor}] to meetkit.toml, set the \
                 MEETKIT_{}_* variables, or use --sim",
                self.inner.profile,
                self.inner.profile,
                vendor.as_str().to_uppercase()
            ))
        })
    }
}

/// Every secret a profile holds (identifiers such as access keys and app keys are not secrets).
/// One arm per vendor: a new vendor's secrets cannot be forgotten here.
fn profile_secrets(p: &Profile) -> Vec<&str> {
    let mut out = Vec::new();
    for vendor in Vendor::ALL {
        match vendor {
            Vendor::Avd => out.extend(p.avd.iter().map(|c| c.secret_key.expose())),
            Vendor::Kedacom => {
                if let Some(c) = &p.kedacom {
                    let secrets = [&c.consumer_secret, &c.password, &c.account_token];
                    out.extend(secrets.into_iter().flatten().map(|s| s.expose()));
                }
            }
            Vendor::Vmr => {
                if let Some(c) = &p.vmr {
                    out.extend([c.auth.expose(), c.password.expose()]);
                    out.extend(c.pins.values().map(|s| s.expose()));
                }
            }
            Vendor::Netease => out.extend(p.netease.iter().map(|c| c.app_secret.expose())),
        }
    }
    out
}
