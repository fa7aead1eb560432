//! HTTPS for `meetkit sim --tls`: a CA generated at start (rcgen), a server certificate it
//! signs for `localhost`, `127.0.0.1`, `::1` and the bound address, and the rustls acceptor
//! every vendor server wraps its connections in. Clients trust the CA through its PEM
//! (`transport.ca_cert` in the simulator's profile).

use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// The simulator's TLS identity: the acceptor and the CA certificate that signed it.
#[derive(Clone)]
pub(crate) struct SimTls {
    pub acceptor: TlsAcceptor,
    /// The CA certificate, PEM.
    pub ca_pem: String,
}

fn invalid(what: &str, e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("simulator TLS: {what}: {e}"))
}

/// A fresh CA and a server certificate for `host` (and loopback) signed by it.
pub(crate) fn generate(host: IpAddr) -> std::io::Result<SimTls> {
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(|e| invalid("CA parameters", e))?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "meetkit-sim test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_key = KeyPair::generate().map_err(|e| invalid("CA key", e))?;
    let ca_cert = ca.self_signed(&ca_key).map_err(|e| invalid("CA certificate", e))?;

    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    if !host.is_unspecified() && !host.is_loopback() {
        names.push(host.to_string());
    }
    let mut leaf = CertificateParams::new(names).map_err(|e| invalid("server certificate parameters", e))?;
    // `new` makes DNS names of everything; the addresses must be IP SANs to match an https://IP URL.
    leaf.subject_alt_names = leaf
        .subject_alt_names
        .into_iter()
        .map(|san| match &san {
            SanType::DnsName(name) => name.as_str().parse::<IpAddr>().map(SanType::IpAddress).unwrap_or(san),
            _ => san,
        })
        .collect();
    leaf.distinguished_name.push(DnType::CommonName, "meetkit-sim");
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    let leaf_key = KeyPair::generate().map_err(|e| invalid("server key", e))?;
    let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key).map_err(|e| invalid("server certificate", e))?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid("protocol versions", e))?
        .with_no_client_auth()
        .with_single_cert(vec![leaf_cert.der().clone(), ca_cert.der().clone()], key)
        .map_err(|e| invalid("server certificate chain", e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(SimTls { acceptor: TlsAcceptor::from(Arc::new(config)), ca_pem: ca_cert.pem() })
}
