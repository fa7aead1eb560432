//! Kedacom meeting management (vendor doc 001). The client lands with the Kedacom issue;
//! until then this folder holds the profile section and an empty endpoint table.

use std::sync::Arc;

use serde::Deserialize;

use crate::endpoint::EndpointSpec;
use crate::secret::Secret;
use crate::transport::Transport;
use crate::vendors::VendorApi;
use crate::Result;

/// A Kedacom connection in a profile (`[profiles.<name>.kedacom]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KedacomConfig {
    /// Server root, e.g. `https://kedacom.example.com` (meetkit adds `/api/...`).
    pub base_url: String,
    /// OAuth consumer key for `POST /api/v1/system/token`.
    pub consumer_key: String,
    /// OAuth consumer secret. Never printed.
    pub consumer_secret: Secret,
    /// Login user name.
    pub username: String,
    /// Login password. Never printed.
    pub password: Secret,
    /// Send DELETE as `POST` with `_method=DELETE` (for gateways that refuse DELETE).
    #[serde(default)]
    pub delete_via_post: bool,
}

/// The Kedacom endpoint table.
pub static ENDPOINTS: &[EndpointSpec] = &[];

/// The documented meaning of a Kedacom error code.
pub fn error_meaning(_code: &str) -> Option<&'static str> {
    None
}

/// Build the client for a profile section (until the client lands: an honest "unsupported").
pub(crate) fn connect(_config: KedacomConfig, _transport: Arc<Transport>) -> Result<Arc<dyn VendorApi>> {
    Ok(Arc::new(crate::vendors::NotYetSupported(crate::Vendor::Kedacom)))
}
