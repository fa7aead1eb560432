//! NetEase Meeting (vendor doc 004). The client lands with the NetEase issue; until then this
//! folder holds the profile section and an empty endpoint table.

use std::sync::Arc;

use serde::Deserialize;

use crate::endpoint::EndpointSpec;
use crate::secret::Secret;
use crate::transport::Transport;
use crate::vendors::VendorApi;
use crate::Result;

/// A NetEase connection in a profile (`[profiles.<name>.netease]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeteaseConfig {
    /// API root, e.g. `https://meeting-api.netease.im`.
    pub base_url: String,
    /// The AppKey.
    pub app_key: String,
    /// The AppSecret. Never printed.
    pub app_secret: Secret,
}

/// The NetEase endpoint table.
pub static ENDPOINTS: &[EndpointSpec] = &[];

/// The documented meaning of a NetEase error code.
pub fn error_meaning(_code: &str) -> Option<&'static str> {
    None
}

/// Build the client for a profile section (until the client lands: an honest "unsupported").
pub(crate) fn connect(_config: NeteaseConfig, _transport: Arc<Transport>) -> Result<Arc<dyn VendorApi>> {
    Ok(Arc::new(crate::vendors::NotYetSupported(crate::Vendor::Netease)))
}
