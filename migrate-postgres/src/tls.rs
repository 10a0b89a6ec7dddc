//! The TLS policy of libpq's `sslmode` and `sslrootcert`, built on rustls (tokio-postgres
//! itself only knows disable, prefer and require, and always verifies when given a verifying
//! connector).

use std::path::Path;
use std::sync::Arc;

use migrate_core::DatabaseError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, Error, RootCertStore, SignatureScheme,
};

use crate::url::SslMode;

/// Whether the certificate is checked, and how much of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verification {
    /// Encrypt only (libpq's `require`/`prefer` without a root certificate file).
    None,
    /// The chain must lead to a trusted root; the host name is not checked.
    Chain,
    /// Chain and host name.
    Full,
}

/// How much of the server's certificate `mode` checks, as libpq decides it: `verify-ca` the
/// chain, `verify-full` the chain and the host name, and the modes that encrypt without
/// insisting on a check (`allow`, `prefer`, `require`) the chain exactly when a root
/// certificate file is given and exists (libpq: "if a root CA file exists, the behavior of
/// sslmode=require will be the same as that of verify-ca"). A given file that does not exist
/// leaves them unchecked, as libpq (which only `stat`s it); `None` for `disable`.
fn verification(mode: SslMode, root_cert: Option<&Path>) -> Option<Verification> {
    let root_file_exists = root_cert.is_some_and(|path| std::fs::metadata(path).is_ok());
    Some(match mode {
        SslMode::Disable => return None,
        SslMode::Allow | SslMode::Prefer | SslMode::Require if root_file_exists => {
            Verification::Chain
        }
        SslMode::Allow | SslMode::Prefer | SslMode::Require => Verification::None,
        SslMode::VerifyCa => Verification::Chain,
        SslMode::VerifyFull => Verification::Full,
    })
}

/// The rustls client configuration for `mode` (see [`verification`]), or `None` for
/// `disable`. A root certificate file that is read and holds no certificate is an error in
/// every mode, as in libpq.
pub fn client_config(
    mode: SslMode,
    root_cert: Option<&Path>,
) -> Result<Option<ClientConfig>, DatabaseError> {
    let Some(verification) = verification(mode, root_cert) else {
        return Ok(None);
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| DatabaseError::connect(format!("cannot set up TLS: {e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = match verification {
        Verification::None => Arc::new(AcceptAnyCertificate { provider }),
        Verification::Chain | Verification::Full => {
            let roots = Arc::new(root_store(root_cert)?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(|e| DatabaseError::connect(format!("cannot set up TLS: {e}")))?;
            if verification == Verification::Full {
                webpki
            } else {
                Arc::new(ChainOnly { inner: webpki })
            }
        }
    };
    Ok(Some(
        builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth(),
    ))
}

/// The trusted roots: the PEM file `sslrootcert` names, else the webpki (Mozilla) roots.
fn root_store(root_cert: Option<&Path>) -> Result<RootCertStore, DatabaseError> {
    let mut store = RootCertStore::empty();
    match root_cert {
        None => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    DatabaseError::connect(format!(
                        "cannot read sslrootcert {}: {e}",
                        path.display()
                    ))
                })?;
            let (added, _ignored) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(DatabaseError::connect(format!(
                    "sslrootcert {} holds no usable PEM certificate",
                    path.display()
                )));
            }
        }
    }
    Ok(store)
}

/// Accepts any certificate but still checks that the server holds its key (the handshake
/// signatures), as libpq does for `sslmode=require` without a root certificate.
#[derive(Debug)]
struct AcceptAnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Verifies the chain through webpki but forgives a host-name mismatch (`verify-ca`).
#[derive(Debug)]
struct ChainOnly {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The modes' checks as psql 15 makes them against a server whose certificate another CA
    // signed (the outcomes over real connections are in tests/tls_roots.rs).
    #[test]
    fn a_root_file_that_exists_makes_every_encrypting_mode_check_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root.pem");
        std::fs::write(&root, "any content: existing is what counts").unwrap();
        let missing = dir.path().join("missing.pem");
        for mode in [SslMode::Allow, SslMode::Prefer, SslMode::Require] {
            assert_eq!(verification(mode, None), Some(Verification::None));
            assert_eq!(verification(mode, Some(&missing)), Some(Verification::None));
            assert_eq!(verification(mode, Some(&root)), Some(Verification::Chain));
        }
        for root in [None, Some(root.as_path()), Some(missing.as_path())] {
            assert_eq!(verification(SslMode::Disable, root), None);
            assert_eq!(
                verification(SslMode::VerifyCa, root),
                Some(Verification::Chain)
            );
            assert_eq!(
                verification(SslMode::VerifyFull, root),
                Some(Verification::Full)
            );
        }
    }

    #[test]
    fn require_with_a_root_file_without_a_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "not a certificate\n").unwrap();
        let err = client_config(SslMode::Require, Some(&garbage)).unwrap_err();
        assert!(
            err.message.contains("holds no usable PEM certificate"),
            "{}",
            err.message
        );
    }
}
