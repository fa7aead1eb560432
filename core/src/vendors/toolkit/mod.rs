//! What every vendor module needs and none should write again.
//!
//! * [`CredentialCache`]: a token or login session fetched once for all concurrent calls,
//!   renewed once for everyone when refused, renewed a margin before it expires (AVD's token,
//!   Kedacom's login session, vmr's session tokens).
//! * [`BaseUrl`]: a server root from a profile (`base_url`, `api_server`) parsed, checked
//!   (http or https, a host, no query) and joined with the table's paths.
//! * [`split`]: validated parameters distributed to path, headers, query string and body by
//!   their row's [`crate::endpoint::ParamIn`].
//!
//! A vendor's own lifecycle (AVD's 40003 renewal, Kedacom's heartbeat, vmr's refresh at
//! half-life and `session.end`, NetEase's signatures), envelope and quirks stay in its folder.
//! `CONTRIBUTING.md` shows how a new vendor uses these.

mod base_url;
mod credentials;
mod params;

pub use base_url::BaseUrl;
pub use credentials::{CredentialCache, Flight, Fresh, Margin};
pub use params::{split, AutoIn, Split};
