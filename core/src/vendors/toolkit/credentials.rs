//! [`CredentialCache`]: a credential (a token, a login session) fetched once, shared by every
//! concurrent call, and renewed once for everyone when the server refuses it.
//!
//! Modelled on octocrab's `CachedToken` (a lock around `Option<{secret, expiration}>`, valid
//! while more than a margin of its lifetime is left), plus what a vendor client needs on top:
//!
//! * **single flight**: one fetch at a time. Callers that find no usable credential queue on
//!   one lock; the first fetches, the others find its credential when they get the lock and use
//!   it. 50 callers starting at once cause one fetch.
//! * **renewal keyed by the credential that failed**: a call refused with credential `c` asks
//!   [`CredentialCache::renew`]`(c, fetch)`. If the cache no longer holds `c` (another caller
//!   already renewed it), the newer one is returned without fetching: 50 callers refused with
//!   the same credential cause one renewal, and a caller that was refused with an older
//!   credential does not throw away a newer one.
//! * **expiry with a margin**: a credential fetched with a lifetime
//!   ([`Fresh::expiring`]) is handed out until the [`Margin`] before its end; after that
//!   [`CredentialCache::get`] fetches a new one. A credential without a known lifetime
//!   ([`Fresh::new`]) is kept until it is refused or cleared.
//! * a failed fetch is not cached: it is returned to the caller that ran it, and the next
//!   caller (one of those waiting, or a later one) tries again — **except a refusal of the
//!   credentials** ([`Error::Auth`]): the callers that were already waiting for that fetch get
//!   the same refusal without fetching, so 50 calls behind a wrong password make one login, not
//!   50 (servers lock an account after a few failed logins). A caller that starts after the
//!   refusal tries again.
//!
//! What a vendor does with the credential — AVD's 40003 renewal, Kedacom's heartbeat and
//! re-login, vmr's refresh at half-life and `session.end` — stays in the vendor's module; those
//! that need more than get/renew (vmr refreshes a due token instead of fetching a new one) take
//! the flight lock themselves with [`CredentialCache::lock`] and store through the [`Flight`].

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::{Error, Result, Vendor};

/// When a credential with a known lifetime stops being handed out, before it expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Margin {
    /// This long before its end (at once when the lifetime is shorter): a clock-skew allowance.
    Fixed(Duration),
    /// When `1/n` of its lifetime is left: `Part(2)` renews at half-life (vmr's session tokens).
    Part(u32),
}

impl Margin {
    fn of(self, lifetime: Duration) -> Duration {
        match self {
            Margin::Fixed(d) => d.min(lifetime),
            Margin::Part(n) => lifetime / n.max(1),
        }
    }
}

/// A credential just fetched, with its lifetime when the server states one.
#[derive(Debug)]
pub struct Fresh<T> {
    value: T,
    lifetime: Option<Duration>,
}

impl<T> Fresh<T> {
    /// A credential without a known lifetime: kept until refused or cleared.
    pub fn new(value: T) -> Self {
        Fresh { value, lifetime: None }
    }

    /// A credential that expires `lifetime` from now.
    pub fn expiring(value: T, lifetime: Duration) -> Self {
        Fresh { value, lifetime: Some(lifetime) }
    }
}

impl<T> From<T> for Fresh<T> {
    fn from(value: T) -> Self {
        Fresh::new(value)
    }
}

#[derive(Debug)]
struct Entry<T> {
    value: Arc<T>,
    /// When it stops being handed out by [`CredentialCache::get`] (`None`: never).
    renew_at: Option<Instant>,
    /// When it expires (`None`: not known).
    expires_at: Option<Instant>,
}

impl<T> Entry<T> {
    fn is_due(&self, now: Instant) -> bool {
        self.renew_at.is_some_and(|at| now >= at)
    }
}

/// One cached credential and the lock that makes fetching it single-flight. See the
/// [module documentation](self).
#[derive(Debug)]
pub struct CredentialCache<T> {
    /// What the credential is, for logs (`avd token`, `kedacom session`).
    what: &'static str,
    margin: Margin,
    slot: RwLock<Option<Entry<T>>>,
    /// The flight lock; it guards the last fetch the server refused (`Error::Auth`): its number
    /// (in `finished`), vendor and message. Callers that were already waiting before it finished
    /// get its answer instead of fetching again: a hundred calls behind a wrong password make
    /// one login, not a hundred (servers lock accounts after a few failed logins).
    flight: tokio::sync::Mutex<Option<Refusal>>,
    /// Fetches finished so far.
    finished: AtomicU64,
}

impl<T: PartialEq> CredentialCache<T> {
    /// An empty cache of `what` (named in debug logs), renewing [`Margin::Fixed`]`(0)` before
    /// expiry: at expiry itself.
    pub fn new(what: &'static str) -> Self {
        Self::with_margin(what, Margin::Fixed(Duration::ZERO))
    }

    /// An empty cache whose credentials are renewed `margin` before they expire.
    pub fn with_margin(what: &'static str, margin: Margin) -> Self {
        CredentialCache {
            what,
            margin,
            slot: RwLock::new(None),
            flight: tokio::sync::Mutex::new(None),
            finished: AtomicU64::new(0),
        }
    }

    /// The cached credential if it is not due for renewal, else one from `fetch` (run by one
    /// caller at a time; those waiting meanwhile get its credential).
    pub async fn get<F, Fut, R>(&self, fetch: F) -> Result<Arc<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<R>>,
        R: Into<Fresh<T>>,
    {
        if let Some(fresh) = self.fresh() {
            return Ok(fresh);
        }
        let waiting_since = self.finished.load(Ordering::SeqCst);
        let mut flight = self.lock().await;
        if let Some(fresh) = flight.fresh() {
            return Ok(fresh);
        }
        let fetched = flight.fetch_once(waiting_since, fetch).await?;
        Ok(flight.store(fetched.into()))
    }

    /// Replace `stale`, a credential the server refused, by one from `fetch` — unless the cache
    /// already holds another credential that is not due (a caller refused with the same one renewed
    /// it while this one waited): that one is returned and `fetch` is not run.
    pub async fn renew<F, Fut, R>(&self, stale: &T, fetch: F) -> Result<Arc<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<R>>,
        R: Into<Fresh<T>>,
    {
        let waiting_since = self.finished.load(Ordering::SeqCst);
        let mut flight = self.lock().await;
        if let Some(fresh) = flight.fresh().filter(|c| **c != *stale) {
            return Ok(fresh);
        }
        tracing::debug!("{}: renewing the refused credential", self.what);
        let fetched = flight.fetch_once(waiting_since, fetch).await?;
        Ok(flight.store(fetched.into()))
    }

    /// The cached credential, if there is one and it is not due for renewal.
    pub fn fresh(&self) -> Option<Arc<T>> {
        let slot = self.slot.read().unwrap_or_else(|p| p.into_inner());
        slot.as_ref().filter(|e| !e.is_due(Instant::now())).map(|e| e.value.clone())
    }

    /// The cached credential, due for renewal or not.
    pub fn current(&self) -> Option<Arc<T>> {
        let slot = self.slot.read().unwrap_or_else(|p| p.into_inner());
        slot.as_ref().map(|e| e.value.clone())
    }

    /// When the cached credential becomes due for renewal (`None`: nothing cached, or a
    /// credential without a known lifetime).
    pub fn renew_at(&self) -> Option<Instant> {
        self.slot.read().unwrap_or_else(|p| p.into_inner()).as_ref().and_then(|e| e.renew_at)
    }

    /// Whether the cached credential is past its lifetime (false when there is none, or its
    /// lifetime is not known).
    pub fn is_expired(&self) -> bool {
        let slot = self.slot.read().unwrap_or_else(|p| p.into_inner());
        slot.as_ref().and_then(|e| e.expires_at).is_some_and(|at| Instant::now() >= at)
    }

    /// Forget the cached credential if it is `stale` (equal to it); a newer one is kept.
    /// Returns whether it was forgotten.
    pub fn invalidate(&self, stale: &T) -> bool {
        self.take_if(|c| c == stale).is_some()
    }

    /// Forget the cached credential if `pred` holds for it; returns it.
    pub fn take_if(&self, pred: impl FnOnce(&T) -> bool) -> Option<Arc<T>> {
        let mut slot = self.slot.write().unwrap_or_else(|p| p.into_inner());
        if slot.as_ref().is_some_and(|e| pred(&e.value)) {
            return slot.take().map(|e| e.value);
        }
        None
    }

    /// Forget the cached credential, whatever it is; returns it.
    pub fn clear(&self) -> Option<Arc<T>> {
        self.slot.write().unwrap_or_else(|p| p.into_inner()).take().map(|e| e.value)
    }

    /// Wait for the flight lock: while the returned [`Flight`] lives, no other caller fetches,
    /// renews or stores. For lifecycles that need more than [`get`](Self::get) and
    /// [`renew`](Self::renew) (vmr refreshes a due token before opening a new session).
    pub async fn lock(&self) -> Flight<'_, T> {
        Flight { cache: self, refused: self.flight.lock().await }
    }

    fn entry(&self, fresh: Fresh<T>) -> Entry<T> {
        let now = Instant::now();
        Entry {
            value: Arc::new(fresh.value),
            renew_at: fresh.lifetime.map(|l| now + (l - self.margin.of(l))),
            expires_at: fresh.lifetime.map(|l| now + l),
        }
    }
}

/// The flight lock of a [`CredentialCache`], held: the only way to store a credential.
#[derive(Debug)]
pub struct Flight<'a, T> {
    cache: &'a CredentialCache<T>,
    /// The lock's guard, and the last refused fetch it guards.
    refused: tokio::sync::MutexGuard<'a, Option<Refusal>>,
}

/// A fetch the server refused (`Error::Auth`): its number (in `finished`), vendor and message.
#[derive(Debug)]
struct Refusal {
    number: u64,
    vendor: Vendor,
    message: String,
}

impl<T: PartialEq> Flight<'_, T> {
    /// Runs `fetch`, unless a fetch that finished after `waiting_since` (the `finished` count
    /// when the caller began to wait) was refused: then that refusal again. Records a refusal
    /// for the waiters.
    async fn fetch_once<F, Fut, R>(&mut self, waiting_since: u64, fetch: F) -> Result<R>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<R>>,
    {
        if let Some(r) = self.refused.as_ref().filter(|r| r.number > waiting_since) {
            tracing::debug!(
                "{}: the fetch this call waited for (#{}) was refused; not fetching again",
                self.cache.what,
                r.number
            );
            return Err(Error::Auth { vendor: r.vendor, message: r.message.clone() });
        }
        let fetched = fetch().await;
        let number = self.cache.finished.fetch_add(1, Ordering::SeqCst) + 1;
        *self.refused = match &fetched {
            Err(Error::Auth { vendor, message }) => Some(Refusal { number, vendor: *vendor, message: message.clone() }),
            _ => None,
        };
        fetched
    }

    /// The cached credential, if there is one and it is not due for renewal.
    pub fn fresh(&self) -> Option<Arc<T>> {
        self.cache.fresh()
    }

    /// The cached credential, due for renewal or not.
    pub fn current(&self) -> Option<Arc<T>> {
        self.cache.current()
    }

    /// Cache `fresh`; returns it as shared from now on.
    pub fn store(&mut self, fresh: Fresh<T>) -> Arc<T> {
        let entry = self.cache.entry(fresh);
        let value = entry.value.clone();
        *self.cache.slot.write().unwrap_or_else(|p| p.into_inner()) = Some(entry);
        tracing::debug!("{}: new credential cached", self.cache.what);
        value
    }

    /// Cache `fresh`; returns the credential it replaces, if any.
    pub fn replace(&mut self, fresh: Fresh<T>) -> Option<Arc<T>> {
        let entry = self.cache.entry(fresh);
        let previous = self.cache.slot.write().unwrap_or_else(|p| p.into_inner()).replace(entry);
        tracing::debug!("{}: credential replaced", self.cache.what);
        previous.map(|e| e.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::{Error, Vendor};

    /// A fetch that counts its runs, takes a moment (so callers pile up behind it) and returns
    /// `t<n>` for the n-th run.
    fn counting(fetches: &Arc<AtomicUsize>) -> impl std::future::Future<Output = Result<String>> {
        let fetches = fetches.clone();
        async move {
            let n = fetches.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(format!("t{n}"))
        }
    }

    async fn fifty<F, Fut>(f: F) -> Vec<String>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Arc<String>>> + Send + 'static,
    {
        let tasks: Vec<_> = (0..50).map(|_| tokio::spawn(f())).collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap().unwrap().to_string());
        }
        out
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn fifty_concurrent_callers_cause_one_fetch() {
        let cache = Arc::new(CredentialCache::<String>::new("test token"));
        let fetches = Arc::new(AtomicUsize::new(0));
        let got = fifty(|| {
            let (cache, fetches) = (cache.clone(), fetches.clone());
            async move { cache.get(|| counting(&fetches)).await }
        })
        .await;
        assert!(got.iter().all(|t| t == "t0"), "{got:?}");
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        // Later callers use the cached one.
        assert_eq!(*cache.get(|| counting(&fetches)).await.unwrap(), "t0");
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_refused_credential_is_renewed_once_for_all_callers_refused_with_it() {
        let cache = Arc::new(CredentialCache::<String>::new("test token"));
        let fetches = Arc::new(AtomicUsize::new(0));
        let t0 = cache.get(|| counting(&fetches)).await.unwrap();
        // All 50 were refused with t0 at once: one renewal, everyone gets t1.
        let got = fifty(|| {
            let (cache, fetches, stale) = (cache.clone(), fetches.clone(), t0.clone());
            async move { cache.renew(&stale, || counting(&fetches)).await }
        })
        .await;
        assert!(got.iter().all(|t| t == "t1"), "{got:?}");
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
        assert_eq!(*cache.current().unwrap(), "t1");
    }

    #[tokio::test]
    async fn a_stale_credentials_failure_does_not_refetch_after_another_caller_renewed() {
        let cache = CredentialCache::<String>::new("test token");
        let fetches = Arc::new(AtomicUsize::new(0));
        let t0 = cache.get(|| counting(&fetches)).await.unwrap();
        let t1 = cache.renew(&t0, || counting(&fetches)).await.unwrap();
        assert_eq!((t1.as_str(), fetches.load(Ordering::SeqCst)), ("t1", 2));
        // A slow caller now reports its refusal of t0: t1 is kept and returned, nothing fetched.
        let again = cache.renew(&t0, || counting(&fetches)).await.unwrap();
        assert!(Arc::ptr_eq(&again, &t1));
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
        // Invalidating t0 leaves t1 alone; invalidating t1 empties the cache.
        assert!(!cache.invalidate(&t0));
        assert_eq!(cache.current().as_deref().map(String::as_str), Some("t1"));
        assert!(cache.invalidate(&t1));
        assert!(cache.current().is_none());
    }

    #[tokio::test]
    async fn a_failed_fetch_is_not_cached() {
        let cache = CredentialCache::<String>::new("test token");
        let refused = cache
            .get(|| async { Err::<String, _>(Error::Auth { vendor: Vendor::Avd, message: "refused".into() }) })
            .await
            .unwrap_err();
        assert!(matches!(refused, Error::Auth { .. }), "{refused:?}");
        assert!(cache.current().is_none());
        assert_eq!(*cache.get(|| async { Ok("ok".to_string()) }).await.unwrap(), "ok");
        let failed_renewal = cache
            .renew(&"ok".to_string(), || async {
                Err::<String, _>(Error::Auth { vendor: Vendor::Avd, message: "refused".into() })
            })
            .await;
        assert!(failed_renewal.is_err());
        assert_eq!(cache.current().as_deref().map(String::as_str), Some("ok"), "the refused one stays until cleared");
    }

    #[tokio::test]
    async fn a_credential_is_renewed_its_margin_before_it_expires() {
        let cache = CredentialCache::<String>::with_margin("test token", Margin::Part(2));
        let first = cache.get(|| async { Ok(Fresh::expiring("t0".to_string(), Duration::from_millis(200))) }).await;
        assert_eq!(*first.unwrap(), "t0");
        let renew_at = cache.renew_at().unwrap();
        assert!(renew_at <= Instant::now() + Duration::from_millis(100), "half of the lifetime");
        assert!(!cache.is_expired());
        // Past the margin: no longer handed out, though not expired; get fetches a new one.
        tokio::time::sleep_until(renew_at.into()).await;
        assert!(cache.fresh().is_none());
        assert_eq!(cache.current().as_deref().map(String::as_str), Some("t0"));
        let second = cache.get(|| async { Ok(Fresh::expiring("t1".to_string(), Duration::from_secs(60))) }).await;
        assert_eq!(*second.unwrap(), "t1");

        // A fixed margin longer than the lifetime: due at once.
        let cache = CredentialCache::<String>::with_margin("test token", Margin::Fixed(Duration::from_secs(30)));
        let mut flight = cache.lock().await;
        flight.store(Fresh::expiring("short".to_string(), Duration::from_secs(10)));
        assert!(flight.fresh().is_none());
        assert!(flight.current().is_some());
        drop(flight);
        // Without a lifetime: never due.
        let cache = CredentialCache::<String>::new("test token");
        cache.get(|| async { Ok("forever".to_string()) }).await.unwrap();
        assert!(cache.renew_at().is_none() && !cache.is_expired() && cache.fresh().is_some());
    }

    #[tokio::test]
    async fn replace_returns_the_previous_credential_and_take_if_is_targeted() {
        let cache = CredentialCache::<String>::new("test token");
        let mut flight = cache.lock().await;
        assert!(flight.replace(Fresh::new("a".to_string())).is_none());
        assert_eq!(flight.replace(Fresh::new("b".to_string())).as_deref().map(String::as_str), Some("a"));
        drop(flight);
        assert!(cache.take_if(|c| c == "a").is_none());
        assert_eq!(cache.take_if(|c| c == "b").as_deref().map(String::as_str), Some("b"));
        assert!(cache.clear().is_none());
    }

    /// 50 callers of `call` (get or renew) behind a fetch that answers `answer` once a gate
    /// opens; returns how many fetches ran and each caller's error.
    async fn fifty_behind_a_failing_fetch(
        answer: fn() -> Error,
        renew: bool,
    ) -> (usize, Vec<Error>, Arc<CredentialCache<String>>, Arc<AtomicUsize>) {
        let cache = Arc::new(CredentialCache::<String>::new("test token"));
        let fetches = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (cache, fetches, gate) = (cache.clone(), fetches.clone(), gate.clone());
                tokio::spawn(async move {
                    let fetch = || async move {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        gate.acquire().await.unwrap().forget();
                        Err::<String, _>(answer())
                    };
                    if renew {
                        cache.renew(&"stale".to_string(), fetch).await
                    } else {
                        cache.get(fetch).await
                    }
                })
            })
            .collect();
        // One thread: every task reaches the flight lock (or the fetch) before the gate opens.
        while fetches.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        gate.add_permits(1000);
        let mut errors = Vec::new();
        for t in tasks {
            errors.push(t.await.unwrap().unwrap_err());
        }
        (fetches.load(Ordering::SeqCst), errors, cache, fetches)
    }

    fn refused() -> Error {
        Error::Auth { vendor: Vendor::Kedacom, message: "login refused: 10101 wrong password".into() }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn callers_waiting_for_a_refused_login_share_the_refusal_instead_of_logging_in_again_meetkit_policy() {
        for renew in [false, true] {
            let (ran, errors, cache, fetches) = fifty_behind_a_failing_fetch(refused, renew).await;
            assert_eq!(ran, 1, "one login for fifty waiting callers (renew: {renew})");
            for e in &errors {
                assert!(
                    matches!(e, Error::Auth { vendor: Vendor::Kedacom, message } if message.contains("10101")),
                    "{e:?}"
                );
            }
            // A call that starts after the refusal tries again (the server may have unlocked).
            let again = cache.get(|| async { Err::<String, _>(refused()) }).await.unwrap_err();
            assert!(matches!(again, Error::Auth { .. }));
            let fresh = cache.get(|| async { Ok::<_, Error>("t1".to_string()) }).await.unwrap();
            assert_eq!((fresh.as_str(), fetches.load(Ordering::SeqCst)), ("t1", 1));
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_failure_that_is_not_a_refusal_lets_the_next_waiter_try_again() {
        let lost = || Error::Transport {
            vendor: Vendor::Kedacom,
            endpoint: "login".into(),
            message: "connection reset".into(),
            before_send: true,
        };
        let (ran, errors, _, _) = fifty_behind_a_failing_fetch(lost, false).await;
        assert_eq!(ran, 50, "a passing network failure is not shared");
        assert!(errors.iter().all(|e| matches!(e, Error::Transport { .. })));
    }
}
