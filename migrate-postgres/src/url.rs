//! Turning a parsed `postgresql://` URL ([`DatabaseUrl`], which owns the URL rules: forms,
//! decoding, libpq's `host`/`port`/`user`/`password`/`dbname` overrides, defaults, redaction)
//! into tokio-postgres connection settings: TLS mode, socket folder, timeouts, `options` and
//! the lock mode.

use std::path::PathBuf;
use std::time::Duration;

use migrate_core::url::{hide, Backend, DatabaseUrl};
use migrate_core::DatabaseError;

use crate::lock::LockMode;

/// How hard the connection insists on TLS, as libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Never use TLS.
    Disable,
    /// Treated as `prefer` (TLS without verification when the server offers it).
    Allow,
    /// TLS without verification when the server offers it, plaintext otherwise (the default).
    #[default]
    Prefer,
    /// TLS required; the server's certificate is not verified.
    Require,
    /// TLS required; the certificate chain is verified, the host name is not.
    VerifyCa,
    /// TLS required; the certificate chain and the host name are verified.
    VerifyFull,
}

impl SslMode {
    /// The libpq spelling (`verify-full`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

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
                    "unknown sslmode `{other}` in the database URL; use disable, allow, prefer, require, verify-ca or verify-full"
                )))
            }
        })
    }
}

/// Where the server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A host name or IP address.
    Tcp(String),
    /// A folder holding the server's Unix socket (`?host=/var/run/postgresql`).
    Socket(PathBuf),
}

/// Everything a `postgresql://` URL says about a connection. Its `Debug` form shows no
/// password.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Login role; `postgres` when the URL names none.
    pub user: String,
    /// Password, percent-decoded.
    pub password: Option<String>,
    /// Server address; `localhost` when the URL names none.
    pub host: Host,
    /// Port; 5432 when the URL names none.
    pub port: u16,
    /// Database; the user name when the URL names none (as libpq).
    pub dbname: String,
    /// TLS policy.
    pub sslmode: SslMode,
    /// PEM file of trusted root certificates for `verify-ca` / `verify-full`.
    pub sslrootcert: Option<PathBuf>,
    /// Give up connecting after this long.
    pub connect_timeout: Option<Duration>,
    /// What the server shows in `pg_stat_activity.application_name`.
    pub application_name: String,
    /// libpq's `options`: command-line options for the server session, such as
    /// `-c search_path=app` (`?options=-csearch_path%3Dapp`).
    pub options: Option<String>,
    /// How the migration lock is held (`?lock_mode=`).
    pub lock_mode: LockMode,
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("host", &self.host)
            .field("port", &self.port)
            .field("dbname", &self.dbname)
            .field("sslmode", &self.sslmode)
            .field("sslrootcert", &self.sslrootcert)
            .field("connect_timeout", &self.connect_timeout)
            .field("application_name", &self.application_name)
            .field("options", &self.options)
            .field("lock_mode", &self.lock_mode)
            .finish()
    }
}

impl ConnectOptions {
    /// Parse `postgres://`, `postgresql://` and `postgresql+DRIVER://` URLs (see
    /// [`ConnectOptions::from_url`]). Errors never hold the password.
    pub fn parse(url: &str) -> Result<ConnectOptions, DatabaseError> {
        Self::from_url(&DatabaseUrl::parse(url)?)
    }

    /// The settings a PostgreSQL URL says: `sslmode`, `sslrootcert`, `connect_timeout`,
    /// `application_name`, `options` and `lock_mode` from its query, the rest as the URL type
    /// read it (a `host` starting with `/` is a socket folder). Unknown parameters and client
    /// certificates are refused by name. Errors never repeat the URL.
    pub fn from_url(url: &DatabaseUrl) -> Result<ConnectOptions, DatabaseError> {
        let Some(server) = url.server_of(Backend::Postgres) else {
            return Err(DatabaseError::connect(format!(
                "`{}://` is not a PostgreSQL URL; expected postgresql://USER:PASSWORD@HOST:PORT/DBNAME",
                url.scheme()
            )));
        };
        let user = server.user.clone().unwrap_or_else(|| "postgres".into());
        let mut options = ConnectOptions {
            dbname: server.database.clone().unwrap_or_else(|| user.clone()),
            user,
            password: server.password.clone(),
            host: if server.host.starts_with('/') {
                Host::Socket(PathBuf::from(&server.host))
            } else {
                Host::Tcp(server.host.clone())
            },
            port: server.port,
            sslmode: SslMode::default(),
            sslrootcert: None,
            connect_timeout: None,
            application_name: "migrate".into(),
            options: None,
            lock_mode: LockMode::default(),
        };
        for (key, value) in url.query() {
            let value = value.clone();
            match key.as_str() {
                "sslmode" => options.sslmode = SslMode::parse(&value)?,
                "sslrootcert" => options.sslrootcert = Some(PathBuf::from(value)),
                "connect_timeout" => {
                    let secs: u64 = value.trim().parse().map_err(|_| {
                        DatabaseError::connect(format!(
                            "connect_timeout `{value}` in the PostgreSQL URL is not a whole number of seconds"
                        ))
                    })?;
                    // libpq treats 0 as "wait forever".
                    options.connect_timeout = (secs > 0).then(|| Duration::from_secs(secs));
                }
                "application_name" => options.application_name = value,
                "options" => options.options = Some(value),
                "lock_mode" => options.lock_mode = LockMode::parse(&value)?,
                // Read by the URL type, over the URL's own parts.
                "host" | "port" | "user" | "password" | "dbname" => {}
                "sslcert" | "sslkey" | "sslpassword" => {
                    return Err(DatabaseError::connect(format!(
                        "`{key}` in the PostgreSQL URL: client certificates are not supported; \
                         log in with a password (or trust/peer authentication) instead"
                    )))
                }
                other => {
                    return Err(DatabaseError::connect(format!(
                        "unknown parameter `{other}` in the PostgreSQL URL; supported: sslmode, sslrootcert, connect_timeout, application_name, host, port, user, password, dbname, options, lock_mode"
                    )))
                }
            }
        }
        Ok(options)
    }

    /// `text` with every secret of these options (the password) replaced by `***`: for
    /// messages built from what a server or driver said.
    pub fn redact(&self, text: &str) -> String {
        hide(text, self.password.as_deref())
    }

    /// `host:port` (or the socket folder) for messages; never holds the password.
    pub fn describe_server(&self) -> String {
        match &self.host {
            Host::Tcp(h) if h.contains(':') => format!("[{h}]:{}", self.port),
            Host::Tcp(h) => format!("{h}:{}", self.port),
            Host::Socket(dir) => format!("socket {}/.s.PGSQL.{}", dir.display(), self.port),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // What the URL itself says (forms, decoding, defaults, libpq's query overrides) is
    // specified in migrate_core::url; these are the settings this backend makes of it.

    #[test]
    fn full_url() {
        let o = ConnectOptions::parse(
            "postgresql://app:p%40ss%2Fw@db.example.com:6543/orders?sslmode=verify-full&sslrootcert=/etc/ca.pem&connect_timeout=5&application_name=deploy",
        )
        .unwrap();
        assert_eq!(o.user, "app");
        assert_eq!(o.password.as_deref(), Some("p@ss/w"));
        assert_eq!(o.host, Host::Tcp("db.example.com".into()));
        assert_eq!(o.port, 6543);
        assert_eq!(o.dbname, "orders");
        assert_eq!(o.sslmode, SslMode::VerifyFull);
        assert_eq!(o.sslrootcert, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(o.connect_timeout, Some(Duration::from_secs(5)));
        assert_eq!(o.application_name, "deploy");
    }

    #[test]
    fn defaults() {
        let o = ConnectOptions::parse("postgres://localhost").unwrap();
        assert_eq!(o.user, "postgres");
        assert_eq!(o.password, None);
        assert_eq!(o.port, 5432);
        assert_eq!(o.dbname, "postgres");
        assert_eq!(o.sslmode, SslMode::Prefer);
        assert_eq!(o.application_name, "migrate");
        let o = ConnectOptions::parse("postgresql://bob@127.0.0.1").unwrap();
        assert_eq!(o.dbname, "bob");
    }

    #[test]
    fn driver_suffix_and_ipv6() {
        let o = ConnectOptions::parse("postgresql+psycopg2://u:pw@[::1]:5433/test").unwrap();
        assert_eq!(o.host, Host::Tcp("::1".into()));
        assert_eq!(o.port, 5433);
        assert_eq!(o.describe_server(), "[::1]:5433");
    }

    #[test]
    fn socket_folder_in_query() {
        let o = ConnectOptions::parse("postgresql:///test?host=/var/run/postgresql").unwrap();
        assert_eq!(o.host, Host::Socket(PathBuf::from("/var/run/postgresql")));
        assert_eq!(o.dbname, "test");
        let o = ConnectOptions::parse("postgresql://bob:pw@/app?host=/tmp").unwrap();
        assert_eq!(o.host, Host::Socket(PathBuf::from("/tmp")));
        assert_eq!((o.user.as_str(), o.dbname.as_str()), ("bob", "app"));
        let o = ConnectOptions::parse("postgresql://bob@:6000/app").unwrap();
        assert_eq!(o.host, Host::Tcp("localhost".into()));
        assert_eq!(o.port, 6000);
    }

    #[test]
    fn sqlalchemy_socket_form_and_libpq_options() {
        let o = ConnectOptions::parse(
            "postgresql+psycopg2://app@/orders?host=/var/run/postgresql&options=-csearch_path%3Dbilling%2Cpublic",
        )
        .unwrap();
        assert_eq!(o.host, Host::Socket(PathBuf::from("/var/run/postgresql")));
        assert_eq!((o.user.as_str(), o.dbname.as_str()), ("app", "orders"));
        assert_eq!(o.options.as_deref(), Some("-csearch_path=billing,public"));
        assert_eq!(
            o.describe_server(),
            "socket /var/run/postgresql/.s.PGSQL.5432"
        );
    }

    #[test]
    fn password_and_lock_mode_in_the_query() {
        let o = ConnectOptions::parse(
            "postgresql://app@db/orders?password=s%26cret&lock_mode=transaction",
        )
        .unwrap();
        assert_eq!(o.password.as_deref(), Some("s&cret"));
        assert_eq!(o.lock_mode, LockMode::Transaction);
        assert_eq!(
            ConnectOptions::parse("postgresql://db/o")
                .unwrap()
                .lock_mode,
            LockMode::Auto
        );
        let e = ConnectOptions::parse("postgresql://db/o?lock_mode=table").unwrap_err();
        assert!(
            e.message.contains("unknown lock_mode `table`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn debug_and_redaction_hide_every_secret() {
        let o = ConnectOptions::parse("postgresql://app:Hunter2@db/orders").unwrap();
        assert!(!format!("{o:?}").contains("Hunter2"), "{o:?}");
        assert_eq!(
            o.redact("FATAL: role app (password Hunter2) refused"),
            "FATAL: role app (password ***) refused"
        );
        // A client key's passphrase is refused by name, never echoed.
        let e = ConnectOptions::parse("postgresql://db/o?sslpassword=Key4").unwrap_err();
        assert!(
            e.message.contains("`sslpassword`") && !e.message.contains("Key4"),
            "{}",
            e.message
        );
    }

    #[test]
    fn errors_never_repeat_the_password() {
        for url in [
            "mysql://u:secret@h/db",
            "postgresql://u:secret@h/db?sslmode=maybe",
            "postgresql://u:secret@h/db?connect_timeout=soon",
            "postgresql://u:secret@h/db?frobnicate=1",
            "postgresql://u:secret@h:99999/db",
        ] {
            let e = ConnectOptions::parse(url).unwrap_err();
            assert!(!e.message.contains("secret"), "{}", e.message);
            assert!(!e.message.contains('\n'), "{}", e.message);
        }
        let e = ConnectOptions::parse("postgresql://u:secret@h/db?sslmode=maybe").unwrap_err();
        assert!(
            e.message.contains("unknown sslmode `maybe`"),
            "{}",
            e.message
        );
        let e = ConnectOptions::parse("mariadb://u:secret@h/db").unwrap_err();
        assert!(
            e.message
                .starts_with("`mysql://` is not a PostgreSQL URL; expected postgresql://"),
            "{}",
            e.message
        );
        let e = ConnectOptions::parse("sqlite:///x.db").unwrap_err();
        assert!(
            e.message.contains("is not a PostgreSQL URL"),
            "{}",
            e.message
        );
    }
}
