//! Vendor-neutral plumbing shared by every simulated vendor server:
//! the virtual clock, request statistics, fault injection, the `/_sim/`
//! admin routes and the HTTP accept loop.
//!
//! A vendor plugs in by implementing [`Backend`] (reset / state dump /
//! fault envelope) and handing its axum [`Router`] (vendor routes plus
//! any `/_sim/<vendor>/...` admin routes) to [`launch`].

pub(crate) mod admin;
pub(crate) mod clock;
pub(crate) mod faults;
pub(crate) mod files;
pub(crate) mod server;
pub(crate) mod timefmt;
pub(crate) mod tls;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub(crate) use admin::build_app;
pub(crate) use clock::Clock;
pub(crate) use faults::FaultSet;

/// What the shared plumbing needs from a vendor simulator.
pub(crate) trait Backend: Send + Sync + 'static {
    /// Wipe all vendor state (rooms, tokens, files, ...).
    fn reset(&self);
    /// JSON dump of the vendor state for `GET /_sim/state`.
    fn dump_state(&self) -> Value;
    /// Body of an injected `error_code` fault, in the vendor's own envelope.
    fn fault_body(&self, code: i64) -> Value;
}

/// Per-request counters, keyed by URL path (vendor requests only).
#[derive(Default)]
pub(crate) struct Stats {
    requests: Mutex<BTreeMap<String, u64>>,
}

impl Stats {
    /// Count one request to `path`.
    pub(crate) fn hit(&self, path: &str) {
        let mut map = self.requests.lock().expect("stats lock");
        *map.entry(path.to_owned()).or_default() += 1;
    }

    /// Snapshot as `{"<path>": count}`.
    pub(crate) fn snapshot(&self) -> Value {
        let map = self.requests.lock().expect("stats lock");
        Value::Object(map.iter().map(|(k, v)| (k.clone(), Value::from(*v))).collect())
    }

    /// Forget all counts.
    pub(crate) fn clear(&self) {
        self.requests.lock().expect("stats lock").clear();
    }
}

/// Everything the admin routes and the fault middleware of one vendor
/// server share.
pub(crate) struct Plumbing {
    /// Virtual clock (shared by all vendor servers of one simulator).
    pub clock: Arc<Clock>,
    /// Armed faults of this server.
    pub faults: FaultSet,
    /// Request counters of this server.
    pub stats: Stats,
    /// The vendor behind this server.
    pub backend: Arc<dyn Backend>,
}

/// Serve one vendor on `listener`: its routes, the shared `/_sim/` admin
/// routes (backed by `backend`) and the fault/statistics middleware, until
/// `stop` flips to `true`.
pub(crate) fn launch(
    listener: TcpListener,
    vendor: Router,
    backend: Arc<dyn Backend>,
    clock: Arc<Clock>,
    stop: watch::Receiver<bool>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> JoinHandle<()> {
    let plumbing = Arc::new(Plumbing { clock, faults: FaultSet::default(), stats: Stats::default(), backend });
    server::serve(listener, build_app(vendor, plumbing), stop, tls)
}
