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
//! Cargo features (all on by default): `script` (Rhai workflows, [`script`]), `webhook` (the
//! NetEase callback receiver, [`vendors::netease::webhook`]) and `journal` (the run journal,
//! [`journal`]). Without them the client still calls every endpoint, runs the meeting API,
//! streams events (NetEase's need `webhook`) and downloads.
//!
//! ```no_run
//! # async fn demo() -> meetkit::Result<()> {
//! use serde_json::json;
//! let client = meetkit::Client::from_profile(&meetkit::config::Profile::from_env()?)?;
//! let room = client.call("avd", "room.create", json!({"room_id": "weekly", "user_id": "ops"})).await?;
//! println!("{}", room["room_id"]);
//! # Ok(()) }
//! ```

pub mod blocking;
pub mod capture;
pub mod client;
pub mod config;
pub mod doctor;
pub mod download;
pub mod endpoint;
pub mod error;
pub mod events;
#[cfg(feature = "journal")]
pub mod journal;
pub mod json;
pub mod lifecycle;
pub mod meeting;
pub mod memory;
pub mod reference;
#[cfg(feature = "script")]
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
///
/// The enum is the one list of vendors: [`Vendor::ALL`] and [`Vendor::COUNT`] are derived from
/// it, and every per-vendor table is a `match` without a wildcard or a `[T; Vendor::COUNT]`, so
/// a new variant fails to compile until each table has its entry (see `CONTRIBUTING.md`).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    strum::EnumCount,
    strum::VariantArray,
)]
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
    /// How many vendors there are.
    pub const COUNT: usize = <Vendor as strum::EnumCount>::COUNT;

    /// Every vendor, in documentation (declaration) order, read from the enum itself.
    pub const ALL: [Vendor; Vendor::COUNT] = {
        let variants = <Vendor as strum::VariantArray>::VARIANTS;
        let mut all = [Vendor::Avd; Vendor::COUNT];
        let mut i = 0;
        while i < Vendor::COUNT {
            all[i] = variants[i];
            i += 1;
        }
        all
    };

    /// The vendor's position in [`Vendor::ALL`]: its slot in a per-vendor array
    /// (`[T; Vendor::COUNT]`).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The public id: `avd`, `kedacom`, `vmr`, `netease`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Vendor::Avd => "avd",
            Vendor::Kedacom => "kedacom",
            Vendor::Vmr => "vmr",
            Vendor::Netease => "netease",
        }
    }

    /// The vendor's product name, for humans.
    pub const fn title(self) -> &'static str {
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
        Vendor::ALL.into_iter().find(|v| v.as_str().eq_ignore_ascii_case(s.trim())).ok_or_else(|| {
            let ids: Vec<&str> = Vendor::ALL.iter().map(|v| v.as_str()).collect();
            Error::config(format!("unknown vendor `{s}`: expected one of {}", ids.join(", ")))
        })
    }
}

// `Verb::ALL` (the unified meeting API's verbs) lists every variant exactly once: a verb added
// to the enum but not to the list fails to compile here.
const _: () = {
    use strum::EnumCount;
    let all = meeting::Verb::ALL;
    assert!(all.len() == meeting::Verb::COUNT, "Verb::ALL must list every Verb");
    let mut seen = [false; meeting::Verb::COUNT];
    let mut i = 0;
    while i < all.len() {
        assert!(!seen[all[i] as usize], "Verb::ALL lists a verb twice");
        seen[all[i] as usize] = true;
        i += 1;
    }
};

#[cfg(test)]
mod vendor_tests {
    use super::Vendor;

    #[test]
    fn all_is_every_variant_once_in_index_order() {
        for (i, v) in Vendor::ALL.into_iter().enumerate() {
            assert_eq!(v.index(), i);
            assert_eq!(v.as_str().parse::<Vendor>().unwrap(), v);
            assert_eq!(serde_json::to_value(v).unwrap(), v.as_str());
        }
        let e = "zoom".parse::<Vendor>().unwrap_err().to_string();
        assert!(e.contains("expected one of avd, kedacom, vmr, netease"), "{e}");
    }
}
