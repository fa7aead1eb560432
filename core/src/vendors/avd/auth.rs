//! AVD's token lifecycle: `app.get_token` once, lazily; the token is cached and
//! shared by every concurrent call; when the server answers 40003 (token expired or
//! invalid) exactly one caller fetches a new token (single-flight) and every caller
//! resends once with it.

use std::sync::RwLock;

use tokio::sync::Mutex;

use crate::secret::Secret;
use crate::Result;

/// The cached token and the lock that makes refreshes single-flight.
#[derive(Debug, Default)]
pub struct AvdAuth {
    current: RwLock<Option<Secret>>,
    refresh: Mutex<()>,
}

impl AvdAuth {
    /// The cached token, fetching one with `fetch` if there is none.
    pub async fn token<F, Fut>(&self, fetch: F) -> Result<Secret>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Secret>>,
    {
        if let Some(t) = self.cached() {
            return Ok(t);
        }
        self.renew(None, fetch).await
    }

    /// Replace `stale` (the token a call was refused with) by a fresh one. If another
    /// caller already replaced it while this one waited, its token is reused and
    /// `fetch` is not called: many callers refused at once cause one fetch.
    pub async fn renew<F, Fut>(&self, stale: Option<&Secret>, fetch: F) -> Result<Secret>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Secret>>,
    {
        let _guard = self.refresh.lock().await;
        if let Some(current) = self.cached() {
            if Some(&current) != stale {
                return Ok(current);
            }
        }
        let fresh = fetch().await?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(fresh.clone());
        tracing::debug!("avd: new token cached");
        Ok(fresh)
    }

    /// Forget the cached token.
    pub fn clear(&self) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn cached(&self) -> Option<Secret> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_callers_share_one_fetch() {
        let auth = Arc::new(AvdAuth::default());
        let fetches = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (auth, fetches) = (auth.clone(), fetches.clone());
            tasks.push(tokio::spawn(async move {
                auth.token(|| async {
                    let n = fetches.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    Ok(Secret::new(format!("t{n}")))
                })
                .await
                .unwrap()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().expose(), "t0");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);

        // All 50 refused with t0 at once: one renewal, everyone gets t1.
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (auth, fetches) = (auth.clone(), fetches.clone());
            tasks.push(tokio::spawn(async move {
                let stale = Secret::new("t0");
                auth.renew(Some(&stale), || async {
                    let n = fetches.fetch_add(1, Ordering::SeqCst);
                    Ok(Secret::new(format!("t{n}")))
                })
                .await
                .unwrap()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().expose(), "t1");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn failed_fetch_is_not_cached() {
        let auth = AvdAuth::default();
        let err =
            auth.token(|| async { Err(crate::Error::Auth { vendor: crate::Vendor::Avd, message: "no".into() }) }).await;
        assert!(err.is_err());
        assert_eq!(auth.token(|| async { Ok(Secret::new("ok")) }).await.unwrap().expose(), "ok");
    }
}
