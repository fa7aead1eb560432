//! # meetkit
//!
//! One client for four video-conferencing vendors' server APIs — 3tee AVD (`avd`),
//! Kedacom meeting management (`kedacom`), a vmr cloud (`vmr`) and NetEase Meeting
//! (`netease`) — plus a Rhai runtime that orchestrates workflows across them.
//!
//! Every endpoint of every vendor is a row in that vendor's endpoint table
//! ([`endpoint::EndpointSpec`]); the row drives parameter validation, the HTTP
//! request, the Rhai/Python/C surfaces, the CLI and the generated reference.
//!
//! ```no_run
//! # async fn demo() -> meetkit::Result<()> {
//! use serde_json::json;
//! let client = meetkit::Client::from_profile(&meetkit::config::Profile::from_env()?)?;
//! let room = client.call("avd", "room.create", json!({"room_id": "weekly", "user_id": "ops"})).await?;
//! println!("{}", room["room_id"]);
//! # Ok(()) }
//! ```

pub mod capture;
pub mod client;
pub mod config;
pub mod doctor;
pub mod download;
pub mod endpoint;
pub mod error;
pub mod events;
pub mod journal;
pub mod json;
pub mod lifecycle;
pub mod meeting;
pub mod memory;
pub mod reference;
pub mod script;
pub mod secret;
pub mod transport;
pub mod vendors;

#[cfg(test)]
mod testutil;

pub use client::Client;
pub use endpoint::{EndpointSpec, Param, ParamType};
pub use error::{Error, Result};

use std::fmt;
use std::str::FromStr;

/// The vendors meetkit speaks to. The lowercase id (`avd`, ...) is the public name
/// everywhere: CLI, scripts, Python, C, config sections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    /// 3tee AVD, `/sdkapi/v2`.
    Avd,
    /// Kedacom meeting management.
    Kedacom,
    /// vmr cloud.
    Vmr,
    /// NetEase Meeting.
    Netease,
}

impl Vendor {
    /// Every vendor, in documentation order.
    pub const ALL: [Vendor; 4] = [Vendor::Avd, Vendor::Kedacom, Vendor::Vmr, Vendor::Netease];

    /// The public id: `avd`, `kedacom`, `vmr`, `netease`.
    pub fn as_str(self) -> &'static str {
        match self {
            Vendor::Avd => "avd",
            Vendor::Kedacom => "kedacom",
            Vendor::Vmr => "vmr",
            Vendor::Netease => "netease",
        }
    }

    /// The vendor's product name, for humans.
    pub fn title(self) -> &'static str {
        match self {
            Vendor::Avd => "3tee AVD",
            Vendor::Kedacom => "Kedacom meeting management",
            Vendor::Vmr => "vmr cloud",
            Vendor::Netease => "NetEase Meeting",
        }
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Vendor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Vendor::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| Error::config(format!("unknown vendor `{s}`: expected one of avd, kedacom, vmr, netease")))
    }
}
