//! PostgreSQL URLs: `postgres://` / `postgresql://` (and SQLAlchemy's `+driver` forms) to a
//! connection configuration and a TLS policy, as libpq reads them.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use migrate_core::DatabaseError;
use tokio_postgres::Config;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Never use TLS.
    Disable,
    /// Try plain first (treated as `prefer` here: TLS when the server offers it).
    Allow,
    /// TLS when the server offers it, without verifying the certificate (libpq's default).
    Prefer,
    /// TLS or fail; the certificate is verified against `sslrootcert` when one is given.
    Require,
    /// TLS, certificate chain verified against `sslrootcert` (or the public roots).
    VerifyCa,
    /// TLS, chain and host name verified.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<SslMode, DatabaseError> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(DatabaseError::connect(format!(
                    "unknown sslmode `{other}` in the PostgreSQL URL; use disable, allow, prefer, require, verify-ca or verify-full"
                )))
            }
        })
    }
}

/// A parsed PostgreSQL URL.
#[derive(Clone)]
pub struct PostgresTarget {
    /// What tokio-postgres connects with.
    pub config: Config,
    /// The TLS policy.
    pub ssl_mode: SslMode,
    /// CA certificates (PEM) to verify the server against.
    pub root_cert: Option<PathBuf>,
}

impl std::fmt::Debug for PostgresTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresTarget")
            .field("hosts", &self.config.get_hosts())
            .field("ports", &self.config.get_ports())
            .field("user", &self.config.get_user())
            .field("dbname", &self.config.get_dbname())
            .field("ssl_mode", &self.ssl_mode)
            .field("root_cert", &self.root_cert)
            .finish_non_exhaustive()
    }
}

/// Parse a `postgres://` or `postgresql://` URL (`+driver` ignored). Query parameters:
/// `sslmode`, `sslrootcert`, `connect_timeout` (seconds), `application_name`, `host`
/// (a socket directory), `options`; others are refused by name.
pub fn parse_postgres_url(url: &str) -> Result<PostgresTarget, DatabaseError> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        DatabaseError::connect(
            "malformed PostgreSQL URL: expected postgresql://user:password@host:port/database",
        )
    })?;
    let base = scheme.split('+').next().unwrap_or(scheme);
    if base != "postgres" && base != "postgresql" {
        return Err(DatabaseError::connect(format!(
            "not a PostgreSQL URL (scheme `{scheme}`); use postgresql://user:password@host:port/database"
        )));
    }
    let (main, query) = match rest.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (rest, None),
    };
    let mut ssl_mode = SslMode::Prefer;
    let mut root_cert = None;
    let mut kept: Vec<&str> = Vec::new();
    let mut timeout = Some(Duration::from_secs(30));
    let mut app_name = Some("migrate".to_string());
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_encoding::percent_decode_str(v)
            .decode_utf8_lossy()
            .to_string();
        match k {
            "sslmode" => ssl_mode = SslMode::parse(&value)?,
            "sslrootcert" => root_cert = Some(PathBuf::from(value)),
            "connect_timeout" => {
                let secs: u64 = value.parse().map_err(|_| {
                    DatabaseError::connect(format!(
                        "connect_timeout must be a number of seconds, not `{value}`"
                    ))
                })?;
                timeout = if secs == 0 { None } else { Some(Duration::from_secs(secs)) };
            }
            "application_name" => app_name = Some(value),
            "host" | "options" | "port" | "user" | "dbname" | "target_session_attrs" => {
                kept.push(pair)
            }
            other => {
                return Err(DatabaseError::connect(format!(
                    "unsupported parameter `{other}` in the PostgreSQL URL; supported: sslmode, sslrootcert, connect_timeout, application_name, host, options"
                )))
            }
        }
    }
    let mut normalized = format!("postgresql://{main}");
    if !kept.is_empty() {
        normalized.push('?');
        normalized.push_str(&kept.join("&"));
    }
    let mut config = Config::from_str(&normalized).map_err(|e| {
        DatabaseError::connect(format!(
            "malformed PostgreSQL URL: {e}; expected postgresql://user:password@host:port/database"
        ))
    })?;
    if config.get_hosts().is_empty() {
        config.host("localhost");
    }
    if config.get_user().is_none() {
        if let Ok(user) = std::env::var("USER") {
            config.user(&user);
        }
    }
    if let Some(t) = timeout {
        config.connect_timeout(t);
    }
    if let Some(name) = app_name {
        config.application_name(&name);
    }
    Ok(PostgresTarget {
        config,
        ssl_mode,
        root_cert,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_as_libpq_reads_them() {
        let t = parse_postgres_url(
            "postgresql+psycopg2://app:p%40ss@db.example:6543/prod?sslmode=verify-full&sslrootcert=/etc/ca.pem",
        )
        .unwrap();
        assert_eq!(t.ssl_mode, SslMode::VerifyFull);
        assert_eq!(
            t.root_cert.as_deref(),
            Some(std::path::Path::new("/etc/ca.pem"))
        );
        assert_eq!(t.config.get_user(), Some("app"));
        assert_eq!(t.config.get_password(), Some(&b"p@ss"[..]));
        assert_eq!(t.config.get_dbname(), Some("prod"));
        assert_eq!(t.config.get_ports(), [6543]);
        assert!(!format!("{t:?}").contains("p@ss"));
        let t = parse_postgres_url("postgres://postgres@127.0.0.1/test").unwrap();
        assert_eq!(t.ssl_mode, SslMode::Prefer);
        let e = parse_postgres_url("postgres://x@h/d?sslmode=sometimes").unwrap_err();
        assert!(e.message.contains("unknown sslmode `sometimes`"));
        let e = parse_postgres_url("postgres://x@h/d?frobnicate=1").unwrap_err();
        assert!(e.message.contains("unsupported parameter `frobnicate`"));
        assert!(parse_postgres_url("mysql://x@h/d").is_err());
    }
}
