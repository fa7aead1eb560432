//! One folder per vendor. Each holds `endpoints.rs` (the table), its auth
//! lifecycle, and its envelope decoding; a vendor folder never reaches into another.
//! What they all need (the credential cache, base URLs, the parameter splitter) is in
//! [`toolkit`].

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use crate::config::Profile;
use crate::endpoint::EndpointSpec;
use crate::events::EventStream;
use crate::transport::Transport;
use crate::{Error, Result, Vendor};

pub mod avd;
pub mod kedacom;
pub mod netease;
pub mod toolkit;
pub mod vmr;

/// What the [`crate::Client`] needs from a vendor: send one validated call.
pub(crate) trait VendorApi: Send + Sync {
    /// Send `spec` with already-validated `params`; return the decoded payload.
    fn call<'a>(&'a self, spec: &'static EndpointSpec, params: Map<String, Value>) -> BoxFuture<'a, Result<Value>>;

    /// Subscribe to the vendor's events (`params` say which: a room, a callback port, ...).
    /// Vendors without events keep this default.
    fn events(&self, params: Map<String, Value>) -> BoxFuture<'_, Result<EventStream>> {
        let _ = params;
        Box::pin(async {
            Err(Error::config("this vendor sends no events (vmr has an event stream, netease has callbacks)"))
        })
    }

    /// The server-side sessions open now, as `(room, participant uuid)` (vmr host sessions),
    /// so a run journal can record them and a cleanup can end them after a crash.
    #[cfg_attr(not(feature = "journal"), allow(dead_code))]
    fn open_sessions(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Release server-side sessions (vmr's `session.end`, Kedacom's logout). Called by
    /// [`crate::Client::close`]; must be safe to call more than once.
    fn close(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

/// The client of `vendor` for `profile`'s section, `None` when the profile has none.
pub(crate) fn connect(
    vendor: Vendor,
    profile: &Profile,
    transport: &Arc<Transport>,
) -> Result<Option<Arc<dyn VendorApi>>> {
    let t = transport.clone();
    match vendor {
        Vendor::Avd => profile.avd.clone().map(|c| avd::connect(c, t)).transpose(),
        Vendor::Kedacom => profile.kedacom.clone().map(|c| kedacom::connect(c, t)).transpose(),
        Vendor::Vmr => profile.vmr.clone().map(|c| vmr::connect(c, t)).transpose(),
        Vendor::Netease => profile.netease.clone().map(|c| netease::connect(c, t)).transpose(),
    }
}

/// The endpoint table of `vendor`. Vendors whose support has not landed yet have an empty table.
pub fn endpoints(vendor: Vendor) -> &'static [EndpointSpec] {
    match vendor {
        Vendor::Avd => avd::endpoints::ENDPOINTS,
        Vendor::Kedacom => kedacom::ENDPOINTS,
        Vendor::Vmr => vmr::ENDPOINTS,
        Vendor::Netease => netease::ENDPOINTS,
    }
}

/// The documented meaning of a vendor error code, if the vendor documents it.
pub fn error_meaning(vendor: Vendor, code: &str) -> Option<&'static str> {
    match vendor {
        Vendor::Avd => avd::error_meaning(code),
        Vendor::Kedacom => kedacom::error_meaning(code),
        Vendor::Vmr => vmr::error_meaning(code),
        Vendor::Netease => netease::error_meaning(code),
    }
}
