//! TLS for MySQL and MariaDB connections: the MySQL client's `ssl-mode` values on the
//! driver's rustls support.
//!
//! | `ssl-mode` | encrypted | certificate checked |
//! |---|---|---|
//! | `DISABLED` | no | - |
//! | `PREFERRED` (default) | when the server offers TLS | no |
//! | `REQUIRED` | yes, or the connection fails | no |
//! | `VERIFY_CA` | yes | chain up to `ssl-ca` (or the public web roots) |
//! | `VERIFY_IDENTITY` | yes | chain, and the host name of the URL |
//!
//! Unix-socket connections are never encrypted (the socket does not leave the machine, and
//! MySQL counts it as secure transport), whatever the mode.

use std::path::PathBuf;

use migrate_core::DatabaseError;
use mysql_async::SslOpts;
use rustls::CertificateError;

/// How hard the connection insists on TLS: the MySQL client's `--ssl-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SslMode {
    /// Never encrypt.
    Disabled,
    /// Encrypt when the server offers TLS, without checking its certificate (the default).
    #[default]
    Preferred,
    /// Encrypt or fail; the certificate is not checked.
    Required,
    /// Encrypt, and check that the certificate chain leads to a trusted root.
    VerifyCa,
    /// Encrypt, check the chain, and check that the certificate names the URL's host.
    VerifyIdentity,
}

impl SslMode {
    /// The MySQL spelling (`VERIFY_IDENTITY`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disabled => "DISABLED",
            SslMode::Preferred => "PREFERRED",
            SslMode::Required => "REQUIRED",
            SslMode::VerifyCa => "VERIFY_CA",
            SslMode::VerifyIdentity => "VERIFY_IDENTITY",
        }
    }

    /// Read a URL's value: any case, `-` or `_` between words.
    pub(crate) fn parse(value: &str) -> Result<SslMode, DatabaseError> {
        match value.to_ascii_uppercase().replace('-', "_").as_str() {
            "DISABLED" => Ok(SslMode::Disabled),
            "PREFERRED" => Ok(SslMode::Preferred),
            "REQUIRED" => Ok(SslMode::Required),
            "VERIFY_CA" => Ok(SslMode::VerifyCa),
            "VERIFY_IDENTITY" => Ok(SslMode::VerifyIdentity),
            _ => Err(DatabaseError::connect(format!(
                "unknown ssl-mode `{value}` in the MySQL URL; use DISABLED, PREFERRED, REQUIRED, \
                 VERIFY_CA or VERIFY_IDENTITY"
            ))),
        }
    }
}

/// The TLS settings of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsSettings {
    /// How hard to insist (`?ssl-mode=`).
    pub mode: SslMode,
    /// PEM file of the trusted roots for `VERIFY_CA`/`VERIFY_IDENTITY` (`?ssl-ca=`); without
    /// it, the public web roots.
    pub ca: Option<PathBuf>,
}

impl TlsSettings {
    /// The driver's TLS options for a TCP connection, or `None` for a plaintext one.
    /// `name` replaces the URL's host as the name the certificate is checked against.
    pub(crate) fn ssl_opts(&self, name: Option<&str>) -> Option<SslOpts> {
        let opts = SslOpts::default();
        let opts = match self.mode {
            SslMode::Disabled => return None,
            SslMode::Preferred | SslMode::Required => opts.with_danger_accept_invalid_certs(true),
            SslMode::VerifyCa | SslMode::VerifyIdentity => match &self.ca {
                Some(ca) => opts
                    .with_root_certs(vec![ca.clone().into()])
                    .with_disable_built_in_roots(true),
                None => opts,
            },
        };
        Some(match name {
            Some(name) => opts.with_danger_tls_hostname_override(Some(name.to_string())),
            None => opts,
        })
    }

    /// Whether `e` says the server has no TLS, which `PREFERRED` answers with plaintext.
    pub(crate) fn falls_back_to_plaintext(&self, e: &mysql_async::Error) -> bool {
        self.mode == SslMode::Preferred
            && matches!(
                e,
                mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer)
            )
    }

    /// For `VERIFY_CA`, the name to check the certificate against again when `e` refused it
    /// only for naming another host (the chain, checked first, was trusted): a name the
    /// certificate presents. The driver's own switch for skipping the name check no longer
    /// recognises rustls's error, hence this second, fully verified handshake.
    pub(crate) fn name_to_retry(&self, e: &mysql_async::Error) -> Option<String> {
        if self.mode != SslMode::VerifyCa {
            return None;
        }
        match rustls_error(e)? {
            rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
                presented,
                ..
            }) => presented.iter().find_map(|name| reference_name(name)),
            _ => None,
        }
    }

    /// What to add to a connection failure `e`: where the CA file is wrong, say so.
    pub(crate) fn advice(&self, e: &mysql_async::Error) -> Option<String> {
        match rustls_error(e)? {
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
                Some(match &self.ca {
                    Some(ca) => format!(
                        "ssl-ca {} does not hold the CA that signed the server's certificate",
                        ca.display()
                    ),
                    None => "give the CA that signed the server's certificate with ssl-ca=PATH"
                        .to_string(),
                })
            }
            rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            ) => Some(
                "the server's certificate is made for another host name: connect by a name it \
                 holds, or use ssl-mode=VERIFY_CA to check only the chain"
                    .to_string(),
            ),
            _ => None,
        }
    }
}

/// A name to connect by that matches `presented`, a subject name as webpki reports it
/// (`DnsName("db.example.com")`, `DnsName("*.example.com")`, `IpAddress(10.0.0.5)`); `None`
/// for any other form (the retry is then not made, and the connection fails).
fn reference_name(presented: &str) -> Option<String> {
    if let Some(dns) = presented
        .strip_prefix("DnsName(\"")
        .and_then(|rest| rest.strip_suffix("\")"))
    {
        // A wildcard stands for one label: any label matches it.
        return Some(match dns.strip_prefix("*.") {
            Some(domain) => format!("any.{domain}"),
            None => dns.to_string(),
        });
    }
    let ip = presented
        .strip_prefix("IpAddress(")?
        .strip_suffix(')')?
        .parse::<std::net::IpAddr>()
        .ok()?;
    Some(ip.to_string())
}

/// The rustls error behind a failed TLS handshake (the driver wraps it in an I/O error).
fn rustls_error(e: &mysql_async::Error) -> Option<&rustls::Error> {
    let mysql_async::Error::Io(mysql_async::IoError::Io(io)) = e else {
        return None;
    };
    io.get_ref()?.downcast_ref::<rustls::Error>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssl_modes_in_any_spelling() {
        for mode in [
            SslMode::Disabled,
            SslMode::Preferred,
            SslMode::Required,
            SslMode::VerifyCa,
            SslMode::VerifyIdentity,
        ] {
            assert_eq!(SslMode::parse(mode.as_str()).unwrap(), mode);
        }
        assert_eq!(
            SslMode::parse("verify-identity").unwrap(),
            SslMode::VerifyIdentity
        );
        assert_eq!(SslMode::parse("required").unwrap(), SslMode::Required);
        let err = SslMode::parse("ALWAYS").unwrap_err();
        assert!(err.message.contains("unknown ssl-mode `ALWAYS`"), "{err}");
    }

    #[test]
    fn names_webpki_reports_become_names_to_connect_by() {
        // The forms rustls-webpki 0.103 gives in a NotValidForNameContext error.
        assert_eq!(
            reference_name("DnsName(\"db.elsewhere.example\")").as_deref(),
            Some("db.elsewhere.example")
        );
        assert_eq!(
            reference_name("DnsName(\"*.example.com\")").as_deref(),
            Some("any.example.com")
        );
        assert_eq!(
            reference_name("IpAddress(10.0.0.5)").as_deref(),
            Some("10.0.0.5")
        );
        assert_eq!(reference_name("DirectoryName"), None);
        assert_eq!(reference_name("IpAddress(not an address)"), None);
    }

    #[test]
    fn each_mode_sets_the_drivers_checks() {
        let plain = TlsSettings {
            mode: SslMode::Disabled,
            ca: None,
        };
        assert!(plain.ssl_opts(None).is_none());
        let required = TlsSettings {
            mode: SslMode::Required,
            ca: Some("/ca.pem".into()),
        };
        let opts = required.ssl_opts(None).unwrap();
        assert!(opts.accept_invalid_certs());
        let verify = TlsSettings {
            mode: SslMode::VerifyIdentity,
            ca: Some("/ca.pem".into()),
        };
        let opts = verify.ssl_opts(Some("db.internal")).unwrap();
        assert!(!opts.accept_invalid_certs());
        assert!(!opts.skip_domain_validation());
        assert!(opts.disable_built_in_roots());
        assert_eq!(opts.root_certs().len(), 1);
        assert_eq!(opts.tls_hostname_override(), Some("db.internal"));
    }
}
