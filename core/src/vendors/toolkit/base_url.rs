//! [`BaseUrl`]: a vendor server's root, from a profile field (`avd.base_url`,
//! `vmr.api_server`, ...) or a server's answer (vmr's `mcuHost`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use url::Url;

use crate::{Error, Result};

/// How many joined URLs a [`BaseUrl`] remembers: every fixed path of an endpoint table, while
/// paths holding ids (one per room) stop being remembered once it is full.
const JOINED_KEPT: usize = 512;

/// A server root: an `http`/`https` URL with a host and no query or fragment, kept without a
/// trailing slash. Paths from the endpoint tables (absolute, already percent-encoded) are
/// appended to it as they are ([`BaseUrl::join`]): a root with a path prefix
/// (`https://gw.example.com/meetings`) keeps it.
#[derive(Clone)]
pub struct BaseUrl {
    /// The root with one trailing slash (what [`Url`] makes of a bare host anyway).
    url: Url,
    /// The same without the trailing slash.
    text: String,
    /// [`BaseUrl::join_url`]'s answers by path (shared by the clones).
    joined: Arc<RwLock<HashMap<String, Url>>>,
}

impl BaseUrl {
    /// Read the profile field `field` (`avd.base_url`): surrounding spaces and trailing slashes
    /// are dropped, then `suffix` when the value ends with it (the path meetkit adds itself,
    /// which users copy from the vendor doc: AVD's `/sdkapi/v2`). Anything but an http(s) URL
    /// with a host is a configuration error naming the field, the value and `example`.
    pub fn from_profile(field: &str, value: &str, suffix: Option<&str>, example: &str) -> Result<BaseUrl> {
        let trimmed = value.trim().trim_end_matches('/');
        let trimmed = suffix.and_then(|s| trimmed.strip_suffix(s)).unwrap_or(trimmed);
        match Url::parse(trimmed) {
            Ok(u) if u.query().is_some() || u.fragment().is_some() => Err(Error::config(format!(
                "{field} `{value}` has a query or fragment; give the server root only, e.g. {example}"
            ))),
            _ => Self::parse(trimmed).ok_or_else(|| {
                Error::config(format!("{field} `{value}` is not an http(s) URL; expected e.g. {example}"))
            }),
        }
    }

    /// `text` (an absolute URL, trailing slashes allowed) as a root, if it is an http(s) URL
    /// with a host and no query or fragment.
    pub fn parse(text: &str) -> Option<BaseUrl> {
        let text = text.trim().trim_end_matches('/');
        let url = Url::parse(&format!("{text}/")).ok()?;
        let usable = matches!(url.scheme(), "http" | "https")
            && url.host().is_some()
            && url.query().is_none()
            && url.fragment().is_none();
        usable.then(|| BaseUrl { text: url.as_str().trim_end_matches('/').to_string(), url, joined: Arc::default() })
    }

    /// A root from a bare `host[:port]` (given `scheme`) or a full http(s) URL (its own scheme).
    pub fn from_host(host: &str, scheme: &str) -> Option<BaseUrl> {
        let host = host.trim();
        if host.contains("://") {
            Self::parse(host)
        } else {
            Self::parse(&format!("{scheme}://{host}"))
        }
    }

    /// The root with a trailing slash (for [`Url::join`] of relative references, origin checks).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The root without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The root followed by `path`, which is used as it is (its percent-encoding and `@` kept);
    /// a missing leading `/` is added.
    pub fn join(&self, path: &str) -> String {
        format!("{}/{}", self.text, path.trim_start_matches('/'))
    }

    /// [`join`](Self::join) as a parsed [`Url`] (an error when `path` makes it invalid).
    pub fn join_url(&self, path: &str) -> Result<Url> {
        // `join(path)` is this URL's text followed by `path`: with no `?` or `#` in `path`, the
        // same URL comes from setting the path, without parsing the scheme and host again
        // (the host's IDNA check is most of a URL parse, paid on every call otherwise).
        // Each path is built once: later calls clone the URL (no percent-encoding pass either).
        if !path.contains(['?', '#']) {
            if let Some(url) = self.joined.read().unwrap_or_else(|p| p.into_inner()).get(path) {
                return Ok(url.clone());
            }
            let mut url = self.url.clone();
            url.set_path(&format!("{}{}", self.url.path(), path.trim_start_matches('/')));
            let mut joined = self.joined.write().unwrap_or_else(|p| p.into_inner());
            if joined.len() < JOINED_KEPT {
                joined.insert(path.to_string(), url.clone());
            }
            return Ok(url);
        }
        Url::parse(&self.join(path))
            .map_err(|e| Error::config(format!("cannot build a URL from {self} and `{path}`: {e}")))
    }
}

impl std::fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("BaseUrl").field(&self.text).finish()
    }
}

impl PartialEq for BaseUrl {
    fn eq(&self, other: &Self) -> bool {
        self.url == other.url
    }
}

impl Eq for BaseUrl {}

impl std::fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(value: &str, suffix: Option<&str>) -> Result<BaseUrl> {
        BaseUrl::from_profile("avd.base_url", value, suffix, "https://avd.example.com:9610")
    }

    #[test]
    fn roots_are_normalised_without_a_trailing_slash() {
        for (given, root) in [
            ("https://h:9610", "https://h:9610"),
            ("  https://h:9610/  ", "https://h:9610"),
            ("https://h:9610/sdkapi/v2/", "https://h:9610"),
            ("https://h:9610/sdkapi/v2", "https://h:9610"),
            ("http://gw.example.com/meetings//", "http://gw.example.com/meetings"),
            ("HTTPS://H.example.com", "https://h.example.com"),
        ] {
            let b = profile(given, Some("/sdkapi/v2")).unwrap();
            assert_eq!(b.as_str(), root, "{given}");
            assert_eq!(b.url().as_str(), format!("{root}/"), "{given}");
        }
    }

    #[test]
    fn paths_are_appended_as_rendered() {
        let b = BaseUrl::parse("https://h/prefix/").unwrap();
        assert_eq!(
            b.join("/api/services/room@x.com/conference_status"),
            "https://h/prefix/api/services/room@x.com/conference_status"
        );
        assert_eq!(b.join("uploadfile"), "https://h/prefix/uploadfile");
        let u = b.join_url("/confs/123%23456").unwrap();
        assert_eq!(u.path(), "/prefix/confs/123%23456");
    }

    #[test]
    fn join_url_is_the_parsed_join() {
        for root in ["https://h", "http://127.0.0.1:8080/", "https://h/prefix/", "http://[::1]:9/a%20b"] {
            let b = BaseUrl::parse(root).unwrap();
            for path in [
                "/room/list",
                "room/list",
                "//x",
                "/confs/123%23456/x",
                "/a b/ü/%zz",
                "/api/services/room@x.com/s",
                "/../up",
                "/a\\b",
                "",
                "/x?y=1",
                "/x#f",
            ] {
                let parsed = Url::parse(&b.join(path)).unwrap();
                assert_eq!(b.join_url(path).unwrap(), parsed, "{root} + {path}");
            }
        }
    }

    #[test]
    fn anything_but_an_http_root_is_refused_naming_the_field_and_an_example() {
        for bad in ["avd.example.com", "ftp://h", "", "https://", "https://h/?x=1", "https://h/#top", "not a url"] {
            let e = profile(bad, None).unwrap_err().to_string();
            assert!(e.starts_with("configuration error: avd.base_url `"), "{bad}: {e}");
            assert!(e.contains("e.g. https://avd.example.com:9610"), "{bad}: {e}");
        }
        let e = profile("avd.example.com", None).unwrap_err().to_string();
        assert!(e.contains("is not an http(s) URL"), "{e}");
        let e = profile("https://h/?x=1", None).unwrap_err().to_string();
        assert!(e.contains("has a query or fragment"), "{e}");
    }

    #[test]
    fn hosts_take_the_given_scheme_unless_they_have_one() {
        assert_eq!(BaseUrl::from_host("node1:8443", "https").unwrap().as_str(), "https://node1:8443");
        assert_eq!(BaseUrl::from_host("http://node1/", "https").unwrap().as_str(), "http://node1");
        assert!(BaseUrl::from_host("", "https").is_none());
        assert!(BaseUrl::from_host("ftp://node1", "https").is_none());
    }

    #[test]
    fn a_joined_url_is_built_once_and_the_same_every_time() {
        let b = BaseUrl::parse("https://h/prefix").unwrap();
        let first = b.join_url("/room/list").unwrap();
        let again = b.clone().join_url("/room/list").unwrap();
        assert_eq!((first.as_str(), again.as_str()), ("https://h/prefix/room/list", "https://h/prefix/room/list"));
        assert_eq!(b.joined.read().unwrap().len(), 1, "clones share what was built");
        for i in 0..JOINED_KEPT + 10 {
            assert_eq!(b.join_url(&format!("/rooms/{i}")).unwrap().path(), format!("/prefix/rooms/{i}"));
        }
        assert_eq!(b.joined.read().unwrap().len(), JOINED_KEPT, "bounded");
        assert_eq!(format!("{b:?}"), "BaseUrl(\"https://h/prefix\")");
    }
}
