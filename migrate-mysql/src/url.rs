//! Turning a parsed `mysql://` or `mariadb://` URL ([`DatabaseUrl`], which owns the URL
//! rules: forms, decoding, the socket form, defaults, redaction) into mysql_async connection
//! options: the Unix socket, TLS, the lock mode and lease.

use migrate_core::url::{Backend, DatabaseUrl};
use migrate_core::DatabaseError;
use mysql_async::OptsBuilder;

use std::path::PathBuf;
use std::time::Duration;

use crate::lock::{LockMode, DEFAULT_LEASE};
use crate::tls::{SslMode, TlsSettings};

/// The default MySQL port.
pub const DEFAULT_PORT: u16 = 3306;

/// What a MySQL URL says: where to connect, as whom, and to which database.
#[derive(Clone, PartialEq, Eq)]
pub struct MysqlTarget {
    /// Host name or IP address (`localhost` when the URL names none).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Unix socket path (`?unix_socket=` or `?socket=`), used instead of TCP when set.
    pub socket: Option<String>,
    /// User name, percent-decoded.
    pub user: Option<String>,
    /// Password, percent-decoded. Never printed (see the `Debug` impl).
    pub password: Option<String>,
    /// Database (the path of the URL), percent-decoded.
    pub database: Option<String>,
    /// TLS: `?ssl-mode=` and `?ssl-ca=` (see [`SslMode`]).
    pub tls: TlsSettings,
    /// How the migration lock is held (`?lock_mode=`).
    pub lock_mode: LockMode,
    /// How long a lock row may go without a heartbeat before another run takes it over
    /// (`?lock_lease=SECONDS`; see [`LockMode::Row`]).
    pub lock_lease: Duration,
}

impl std::fmt::Debug for MysqlTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MysqlTarget")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("socket", &self.socket)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("database", &self.database)
            .field("tls", &self.tls)
            .field("lock_mode", &self.lock_mode)
            .field("lock_lease", &self.lock_lease)
            .finish()
    }
}

impl MysqlTarget {
    /// Where this target connects, for messages: `host:port` or `socket PATH`.
    pub fn address(&self) -> String {
        match &self.socket {
            Some(socket) => format!("socket {socket}"),
            None if self.host.contains(':') => format!("[{}]:{}", self.host, self.port),
            None => format!("{}:{}", self.host, self.port),
        }
    }

    /// The driver's connection options, TLS included (none over a Unix socket).
    pub fn opts(&self) -> OptsBuilder {
        let tls = match self.socket {
            Some(_) => None,
            None => self.tls.ssl_opts(None),
        };
        OptsBuilder::default()
            .ip_or_hostname(self.host.clone())
            .tcp_port(self.port)
            .socket(self.socket.clone())
            // Connect where the URL says, not to a local socket the server advertises.
            .prefer_socket(false)
            .user(self.user.clone())
            .pass(self.password.clone())
            .db_name(self.database.clone())
            .ssl_opts(tls)
    }
}

/// Parse `mysql[+driver]://[user[:password]@]host[:port][/database][?options]` (or
/// `mariadb://`; see [`MysqlTarget::from_url`]). Errors never contain the password.
pub fn parse_mysql_url(url: &str) -> Result<MysqlTarget, DatabaseError> {
    MysqlTarget::from_url(&DatabaseUrl::parse(url)?)
}

impl MysqlTarget {
    /// What a MySQL URL says, with its options: `unix_socket`/`socket` (read by the URL
    /// type); `ssl-mode` (also `ssl_mode`, `sslmode`: `DISABLED`, `PREFERRED`, the default,
    /// `REQUIRED`, `VERIFY_CA`, `VERIFY_IDENTITY`) and `ssl-ca` (`ssl_ca`); `lock_mode` and
    /// `lock_lease` (see [`LockMode`]). `charset` and the other options of Python drivers are
    /// ignored: revision files are UTF-8 text, so the connection always speaks utf8mb4.
    /// Errors never contain the URL or its password.
    pub fn from_url(url: &DatabaseUrl) -> Result<MysqlTarget, DatabaseError> {
        let Some(server) = url.server_of(Backend::Mysql) else {
            return Err(DatabaseError::connect(format!(
                "not a MySQL URL (scheme `{}`): expected mysql:// or mariadb://",
                url.scheme()
            )));
        };
        let mut target = MysqlTarget {
            host: server.host.clone(),
            port: server.port,
            socket: server.socket.clone(),
            user: server.user.clone(),
            password: server.password.clone(),
            database: server.database.clone(),
            tls: TlsSettings::default(),
            lock_mode: LockMode::default(),
            lock_lease: DEFAULT_LEASE,
        };
        for (key, value) in url.query() {
            match key.as_str() {
                "lock_mode" => target.lock_mode = LockMode::parse(value)?,
                "lock_lease" => {
                    target.lock_lease = value
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|s| s.is_finite() && *s > 0.0)
                        .map(Duration::from_secs_f64)
                        .ok_or_else(|| {
                            DatabaseError::connect(format!(
                                "lock_lease `{value}` in the MySQL URL is not a number of seconds above 0"
                            ))
                        })?
                }
                "ssl-mode" | "ssl_mode" | "sslmode" => target.tls.mode = SslMode::parse(value)?,
                "ssl-ca" | "ssl_ca" => target.tls.ca = Some(PathBuf::from(value)),
                _ => {}
            }
        }
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // What the URL itself says (forms, decoding, the socket form, defaults) is specified in
    // migrate_core::url; these are the options this backend makes of it.

    #[test]
    fn the_target_takes_the_urls_parts() {
        let t =
            parse_mysql_url("mysql+pymysql://app:p%40ss%3Aw%2Frd@db.example:3307/my%20db").unwrap();
        assert_eq!(
            (
                t.user.as_deref(),
                t.password.as_deref(),
                t.database.as_deref()
            ),
            (Some("app"), Some("p@ss:w/rd"), Some("my db"))
        );
        assert_eq!(t.address(), "db.example:3307");
        let t = parse_mariadb("mariadb://127.0.0.1");
        assert_eq!(t.address(), "127.0.0.1:3306");
        assert_eq!((t.user, t.password, t.database), (None, None, None));
        let t = parse_mariadb("mysql://root@[::1]:3306/test");
        assert_eq!(t.address(), "[::1]:3306");
        let t = parse_mariadb("mysql:///test?unix_socket=/run/mysqld/mysqld.sock");
        assert_eq!(t.host, "localhost");
        assert_eq!(t.address(), "socket /run/mysqld/mysqld.sock");
        let t = parse_mariadb("mysql://u@h/d?charset=utf8mb4&ssl-mode=DISABLED");
        assert_eq!(t.database.as_deref(), Some("d"));
        assert!(parse_mysql_url("mysql://u@h/d?charset=latin1&connect_timeout=3").is_ok());
    }

    fn parse_mariadb(url: &str) -> MysqlTarget {
        parse_mysql_url(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    #[test]
    fn ssl_mode_and_ssl_ca() {
        let t = parse_mysql_url("mysql://u@h/d").unwrap();
        assert_eq!(t.tls.mode, SslMode::Preferred);
        let t =
            parse_mysql_url("mysql+pymysql://u@h/d?ssl_mode=verify_identity&ssl_ca=/etc/ca.pem")
                .unwrap();
        assert_eq!(t.tls.mode, SslMode::VerifyIdentity);
        assert_eq!(t.tls.ca, Some(PathBuf::from("/etc/ca.pem")));
        let t = parse_mysql_url("mysql://u@h/d?ssl-mode=REQUIRED&ssl-ca=%2Fca.pem").unwrap();
        assert_eq!(
            (t.tls.mode, t.tls.ca),
            (SslMode::Required, Some(PathBuf::from("/ca.pem")))
        );
        // A socket connection stays local: no TLS whatever the mode.
        let t = parse_mysql_url("mysql://u@h/d?ssl-mode=REQUIRED&socket=/run/m.sock").unwrap();
        assert!(mysql_async::Opts::from(t.opts()).ssl_opts().is_none());
        let t = parse_mysql_url("mysql://u@h/d?ssl-mode=REQUIRED").unwrap();
        assert!(mysql_async::Opts::from(t.opts()).ssl_opts().is_some());
    }

    #[test]
    fn errors_never_show_the_password() {
        for url in [
            "postgres://u:Secret99@h/d",
            "mysql://u:Secret99@h/d?ssl-mode=ALWAYS",
            "mysql://u:Secret99@h:99999/d",
            "mysql://u:Secret99@h/d?lock_lease=never",
        ] {
            let err = parse_mysql_url(url).unwrap_err();
            assert!(!err.message.contains("Secret99"), "{url}: {err}");
        }
        let t = parse_mysql_url("mysql://u:Secret99@h/d").unwrap();
        assert!(!format!("{t:?}").contains("Secret99"));
        let err = parse_mysql_url("postgresql://u:Secret99@h/d").unwrap_err();
        assert!(
            err.message
                .starts_with("not a MySQL URL (scheme `postgresql`)"),
            "{err}"
        );
        // An empty host names its socket (see migrate_core::url): refused without one.
        let err = parse_mysql_url("mysql://u:Secret99@/d").unwrap_err();
        assert!(err.message.contains("?unix_socket=PATH"), "{err}");
    }
}
