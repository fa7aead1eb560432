//! vmr cloud (vendor docs 003 + 002). The client lands with the vmr issue; until then this
//! folder holds the profile section and an empty endpoint table.

use std::sync::Arc;

use serde::Deserialize;

use crate::endpoint::EndpointSpec;
use crate::secret::Secret;
use crate::transport::Transport;
use crate::vendors::VendorApi;
use crate::Result;

/// A vmr connection in a profile (`[profiles.<name>.vmr]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VmrConfig {
    /// The apiServer root, e.g. `https://api.vmr.example.com` (check_join and the record/live API).
    pub api_server: String,
    /// The `auth` key of the supplementary record/live API. Never printed.
    pub auth: Secret,
    /// The room account (address `name@domain` or number) used by check_join.
    pub account: String,
    /// The room's host or guest PIN. Never printed.
    pub password: Secret,
    /// The display name meetkit's session appears under.
    #[serde(default = "default_display_name")]
    pub display_name: String,
}

fn default_display_name() -> String {
    "meetkit".into()
}

/// The vmr endpoint table.
pub static ENDPOINTS: &[EndpointSpec] = &[];

/// The documented meaning of a vmr status code.
pub fn error_meaning(_code: &str) -> Option<&'static str> {
    None
}

/// Build the client for a profile section (until the client lands: an honest "unsupported").
pub(crate) fn connect(_config: VmrConfig, _transport: Arc<Transport>) -> Result<Arc<dyn VendorApi>> {
    Ok(Arc::new(crate::vendors::NotYetSupported(crate::Vendor::Vmr)))
}
