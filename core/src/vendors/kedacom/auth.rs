//! Kedacom's login session, shared by every concurrent call.
//!
//! The doc (001) leaves the login out; meetkit follows Kedacom's published flow by default,
//! every step a profile option ([`super::KedacomConfig`]):
//! `POST /api/v1/system/token` (`token_path`; form `oauth_consumer_key`,
//! `oauth_consumer_secret`) gives the `account_token`; `POST /api/v1/system/login`
//! (`login_path`; form `account_token`, `username`, `password`) binds it to the user and sets
//! the `SSO_COOKIE_KEY` cookie. Both travel on every later request. A profile's ready
//! `account_token` replaces both steps. The client keeps that [`Session`] in a
//! [`crate::vendors::toolkit::CredentialCache`]: it logs in lazily, and when the server says
//! the session expired ([`is_expired`]) exactly one caller logs in again (single-flight) while
//! the others wait and reuse its session. The heartbeat (see [`super`]) forgets a session the
//! server dropped, so the next call logs in.

use reqwest::header::HeaderMap;

use crate::secret::Secret;
use crate::Error;

/// Whether `err` (the answer to a request sent with a session) means the session is gone:
/// HTTP 401, or an error code among `expiry_codes` (the profile's `expiry_codes`; none by
/// default: the doc documents no error codes, so no code is assumed to mean expiry).
pub fn is_expired(err: &Error, expiry_codes: &[String]) -> bool {
    match err {
        Error::Http { status: 401, .. } => true,
        Error::Api { code, .. } => expiry_codes.iter().any(|c| c.trim() == code.trim()),
        _ => false,
    }
}

/// One login: the token and the cookies the server set with it.
#[derive(Debug, PartialEq, Eq)]
pub struct Session {
    /// The `account_token`.
    pub token: Secret,
    /// The `Cookie` header value (`SSO_COOKIE_KEY=...`), when the server set cookies.
    pub cookie: Option<Secret>,
}

/// The `Cookie` header value for the cookies in `headers`' `Set-Cookie` lines, added to
/// (and replacing same-named entries of) `previous`. Attributes (`Path`, `HttpOnly`, ...)
/// are dropped; cookies set to an empty value are removed.
pub fn merge_cookies(previous: Option<&str>, headers: &HeaderMap) -> Option<String> {
    let mut jar: Vec<(String, String)> = previous
        .unwrap_or_default()
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for line in headers.get_all(reqwest::header::SET_COOKIE) {
        let Ok(line) = line.to_str() else { continue };
        let Some((name, value)) = line.split(';').next().and_then(|nv| nv.trim().split_once('=')) else { continue };
        let (name, value) = (name.trim(), value.trim().trim_matches('"'));
        jar.retain(|(k, _)| k != name);
        if !value.is_empty() && !name.is_empty() {
            jar.push((name.to_string(), value.to_string()));
        }
    }
    let header: Vec<String> = jar.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    (!header.is_empty()).then(|| header.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_http_401_or_a_listed_code() {
        let api = |code: &str| Error::Api {
            vendor: crate::Vendor::Kedacom,
            endpoint: "x".into(),
            code: code.into(),
            message: String::new(),
            meaning: None,
            request_id: None,
            retryable: false,
        };
        let listed = vec!["10002".to_string()];
        assert!(is_expired(&api("10002"), &listed));
        assert!(!is_expired(&api("10002"), &[]), "no code means expiry by default");
        assert!(!is_expired(&api("99999"), &listed));
        let http =
            |status| Error::Http { vendor: crate::Vendor::Kedacom, endpoint: "x".into(), status, body: "".into() };
        assert!(is_expired(&http(401), &[]));
        assert!(!is_expired(&http(403), &listed));
    }

    #[test]
    fn cookies_are_kept_without_attributes() {
        let mut h = HeaderMap::new();
        h.append("set-cookie", "SSO_COOKIE_KEY=abc123; Path=/; HttpOnly".parse().unwrap());
        h.append("set-cookie", "lang=zh".parse().unwrap());
        let jar = merge_cookies(None, &h).unwrap();
        assert_eq!(jar, "SSO_COOKIE_KEY=abc123; lang=zh");
        let mut h2 = HeaderMap::new();
        h2.append("set-cookie", "SSO_COOKIE_KEY=def; Max-Age=1800".parse().unwrap());
        h2.append("set-cookie", "lang=; Max-Age=0".parse().unwrap());
        assert_eq!(merge_cookies(Some(&jar), &h2).unwrap(), "SSO_COOKIE_KEY=def");
        assert_eq!(merge_cookies(None, &HeaderMap::new()), None);
    }
}
