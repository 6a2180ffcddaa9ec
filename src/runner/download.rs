//! HTTP(S) downloads of Pyodide's packages from a package base URL.
//!
//! The client is `ureq` (blocking, rustls): one agent per process, the
//! proxy taken from `ALL_PROXY`/`HTTPS_PROXY`/`HTTP_PROXY` (upper or lower
//! case, `NO_PROXY` honoured), Mozilla's root certificates unless
//! `SSL_CERT_FILE` names a PEM bundle to trust instead (as OpenSSL and
//! Python do). A failure is either [`Failure::Unreachable`] (no connection
//! was made: the name does not resolve, the connection is refused or times
//! out) or [`Failure::Failed`] (the server answered with an error status,
//! TLS refused the peer, the body broke off, or writing it failed).

use std::io::{self, Write};
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::anyhow;

/// The largest file we accept from a package server.
pub const MAX_DOWNLOAD: u64 = 2 << 30;

/// Why a download did not happen.
#[derive(Debug)]
pub enum Failure {
    /// No connection could be made (the reason, one line).
    Unreachable(String),
    /// Anything else: an error status, TLS, a broken body, our own writes.
    Failed(anyhow::Error),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Unreachable(why) => write!(f, "cannot be reached: {why}"),
            Failure::Failed(e) => write!(f, "{e:#}"),
        }
    }
}

fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        let roots = match std::env::var_os("SSL_CERT_FILE") {
            Some(path) => match std::fs::read(&path) {
                Ok(pem) => {
                    let certs: Vec<_> = ureq::tls::parse_pem(&pem)
                        .filter_map(|item| match item {
                            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                            _ => None,
                        })
                        .collect();
                    if certs.is_empty() {
                        ureq::tls::RootCerts::WebPki
                    } else {
                        ureq::tls::RootCerts::new_with_certs(&certs)
                    }
                }
                Err(_) => ureq::tls::RootCerts::WebPki,
            },
            None => ureq::tls::RootCerts::WebPki,
        };
        let tls = ureq::tls::TlsConfig::builder().root_certs(roots).build();
        ureq::Agent::config_builder()
            .tls_config(tls)
            .user_agent(concat!("pyodide-test/", env!("CARGO_PKG_VERSION")))
            .timeout_resolve(Some(Duration::from_secs(15)))
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .timeout_per_read(Some(Duration::from_secs(60)))
            .build()
            .new_agent()
    })
}

/// GET `url` and write its body to `out`; returns the number of bytes.
pub fn get(url: &str, out: &mut dyn Write) -> Result<u64, Failure> {
    let mut response = agent().get(url).call().map_err(|e| classify(url, e))?;
    let mut reader = response
        .body_mut()
        .with_config()
        .limit(MAX_DOWNLOAD)
        .reader();
    io::copy(&mut reader, out).map_err(|e| Failure::Failed(anyhow!("reading {url}: {e}")))
}

/// Sort a request's error into "no connection" and the rest.
fn classify(url: &str, e: ureq::Error) -> Failure {
    use ureq::Error as E;
    use ureq::Timeout as T;
    match e {
        E::HostNotFound => Failure::Unreachable("its host name does not resolve".into()),
        E::ConnectionFailed => Failure::Unreachable("no connection could be made".into()),
        E::ConnectProxyFailed(why) => Failure::Unreachable(format!("the proxy refused: {why}")),
        E::Timeout(T::Resolve) => Failure::Unreachable("resolving its host name timed out".into()),
        E::Timeout(T::Connect) => Failure::Unreachable("connecting timed out".into()),
        // I/O before any response: resolving (getaddrinfo's errors are
        // I/O errors) or connecting.
        E::Io(io) => Failure::Unreachable(io.to_string()),
        E::StatusCode(code) => Failure::Failed(anyhow!("{url}: HTTP status {code}")),
        other => Failure::Failed(anyhow!("{url}: {other}")),
    }
}

/// Whether `s` is an absolute URL (`scheme://...`) rather than a path.
pub fn is_url(s: &str) -> bool {
    match s.split_once("://") {
        Some((scheme, _)) => {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        assert!(is_url("http://127.0.0.1:8000/x/"));
        assert!(is_url("file:///srv/pkgs/"));
        assert!(!is_url("/srv/pkgs/"));
        assert!(!is_url("pkgs/a://b"));
    }

    #[test]
    fn a_refused_connection_is_unreachable() {
        // A port nobody listens on: bind one, then let it go.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut sink = Vec::new();
        match get(&format!("http://127.0.0.1:{port}/x.whl"), &mut sink) {
            Err(Failure::Unreachable(_)) => {}
            other => panic!("expected unreachable, got {other:?}"),
        }
    }
}
