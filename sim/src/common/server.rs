//! HTTP/1.1 accept loop with a per-connection kill switch (so a fault can
//! close a connection without answering) and graceful shutdown; over TLS
//! when given an acceptor (`meetkit sim --tls`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// Request extension: notify it to drop the underlying TCP connection
/// without sending (the rest of) an answer.
#[derive(Clone, Default)]
pub(crate) struct ConnKill(pub Arc<Notify>);

/// Serve `app` on `listener` until `shutdown` flips to `true` (or its
/// sender is dropped). Open connections get a graceful shutdown and at
/// most 5 s to finish.
pub(crate) fn serve(
    listener: TcpListener,
    app: Router,
    mut shutdown: watch::Receiver<bool>,
    tls: Option<TlsAcceptor>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut conns = JoinSet::new();
        let conn_shutdown = shutdown.clone();
        loop {
            while conns.try_join_next().is_some() {}
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, peer)) = accepted else { continue };
                    conns.spawn(connection(stream, peer, app.clone(), conn_shutdown.clone(), tls.clone()));
                }
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
        }
        drop(listener);
        let drain = async { while conns.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(5), drain).await.is_err() {
            conns.abort_all();
        }
    })
}

async fn connection(
    stream: tokio::net::TcpStream,
    _peer: SocketAddr,
    app: Router,
    shutdown: watch::Receiver<bool>,
    tls: Option<TlsAcceptor>,
) {
    let _ = stream.set_nodelay(true);
    match tls {
        None => exchange(stream, app, shutdown).await,
        // A client that does not finish its handshake in time (or rejects our certificate)
        // is dropped.
        Some(acceptor) => {
            if let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await {
                exchange(stream, app, shutdown).await
            }
        }
    }
}

async fn exchange<S>(stream: S, app: Router, mut shutdown: watch::Receiver<bool>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let kill = ConnKill::default();
    let svc_kill = kill.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(svc_kill.clone());
        let app = app.clone();
        async move { Ok::<_, Infallible>(app.oneshot(req).await.unwrap_or_else(|e| match e {})) }
    });
    let conn =
        hyper::server::conn::http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => break,
            // Dropping `conn` closes the socket mid-exchange.
            _ = kill.0.notified() => break,
            _ = shutdown.wait_for(|stop| *stop), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}
