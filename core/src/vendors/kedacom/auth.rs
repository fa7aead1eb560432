//! Kedacom's login session, shared by every concurrent call.
//!
//! The doc (001) leaves the login out; meetkit follows Kedacom's published flow by default,
//! every step a profile option ([`super::KedacomConfig`]):
//! `POST /api/v1/system/token` (`token_path`; form `oauth_consumer_key`,
//! `oauth_consumer_secret`) gives the `account_token`; `POST /api/v1/system/login`
//! (`login_path`; form `account_token`, `username`, `password`) binds it to the user and sets
//! the `SSO_COOKIE_KEY` cookie. Both travel on every later request. A profile's ready
//! `account_token` replaces both steps. [`KedacomAuth`] caches that [`Session`], logs in lazily, and when
//! the server says the session expired exactly one caller logs in again (single-flight)
//! while the others wait and reuse its session.

use std::sync::{Arc, RwLock};

use reqwest::header::HeaderMap;
use tokio::sync::Mutex;

use crate::secret::Secret;
use crate::{Error, Result};

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

/// The cached session and the lock that makes logins single-flight.
#[derive(Debug, Default)]
pub struct KedacomAuth {
    current: RwLock<Option<Arc<Session>>>,
    login: Mutex<()>,
}

impl KedacomAuth {
    /// The cached session, logging in with `login` if there is none.
    pub async fn session<F, Fut>(&self, login: F) -> Result<Arc<Session>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Session>>,
    {
        if let Some(s) = self.current() {
            return Ok(s);
        }
        self.renew(None, login).await
    }

    /// Replace `stale` (the session a call was refused with) by a new login. If another
    /// caller already replaced it while this one waited, that session is returned and
    /// `login` is not called: many callers refused at once cause one login.
    pub async fn renew<F, Fut>(&self, stale: Option<&Arc<Session>>, login: F) -> Result<Arc<Session>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Session>>,
    {
        let _guard = self.login.lock().await;
        if let Some(current) = self.current() {
            if stale.is_none_or(|s| !Arc::ptr_eq(s, &current)) {
                return Ok(current);
            }
        }
        let fresh = Arc::new(login().await?);
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(fresh.clone());
        tracing::debug!("kedacom: logged in, session cached");
        Ok(fresh)
    }

    /// The cached session, if any.
    pub fn current(&self) -> Option<Arc<Session>> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Forget `session` if it is still the cached one (the heartbeat found it expired).
    pub fn invalidate(&self, session: &Arc<Session>) {
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, session)) {
            *current = None;
        }
    }

    /// Forget the cached session, whatever it is; returns it.
    pub fn clear(&self) -> Option<Arc<Session>> {
        self.current.write().unwrap_or_else(|p| p.into_inner()).take()
    }
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
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn session(n: usize) -> Session {
        Session { token: Secret::new(format!("t{n}")), cookie: Some(Secret::new(format!("SSO_COOKIE_KEY=c{n}"))) }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn fifty_concurrent_callers_share_one_login_and_one_relogin() {
        let auth = Arc::new(KedacomAuth::default());
        let logins = Arc::new(AtomicUsize::new(0));
        let login = |logins: Arc<AtomicUsize>| async move {
            let n = logins.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            Ok(session(n))
        };
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (auth, logins) = (auth.clone(), logins.clone());
                tokio::spawn(async move { auth.session(|| login(logins)).await.unwrap() })
            })
            .collect();
        let mut first = Vec::new();
        for t in tasks {
            first.push(t.await.unwrap());
        }
        assert!(first.iter().all(|s| s.token.expose() == "t0"));
        assert_eq!(logins.load(Ordering::SeqCst), 1);

        // All 50 refused with session 0 at once: one re-login, everyone gets session 1.
        let tasks: Vec<_> = first
            .into_iter()
            .map(|stale| {
                let (auth, logins) = (auth.clone(), logins.clone());
                tokio::spawn(async move { auth.renew(Some(&stale), || login(logins)).await.unwrap() })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().token.expose(), "t1");
        }
        assert_eq!(logins.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn failed_logins_are_not_cached_and_invalidate_is_targeted() {
        let auth = KedacomAuth::default();
        let failed = auth
            .session(|| async { Err(Error::Auth { vendor: crate::Vendor::Kedacom, message: "refused".into() }) })
            .await;
        assert!(failed.is_err());
        let s0 = auth.session(|| async { Ok(session(0)) }).await.unwrap();
        let other = Arc::new(session(9));
        auth.invalidate(&other);
        assert!(auth.current().is_some(), "a different session does not evict the cached one");
        auth.invalidate(&s0);
        assert!(auth.current().is_none());
    }

    #[test]
    fn expiry_is_http_401_or_a_listed_code() {
        let api = |code: &str| Error::Api {
            vendor: crate::Vendor::Kedacom,
            endpoint: "x".into(),
            code: code.into(),
            message: String::new(),
            meaning: None,
            request_id: None,
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
