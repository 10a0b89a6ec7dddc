//! Reading `mysql://` and `mariadb://` URLs (SQLAlchemy's `+driver` forms included) into
//! connection options, without ever echoing the password.

use migrate_core::DatabaseError;
use mysql_async::OptsBuilder;
use percent_encoding::percent_decode_str;
use url::{Host, Url};

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

fn decode(part: &str, what: &str) -> Result<String, DatabaseError> {
    percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| DatabaseError::connect(format!("the MySQL URL's {what} is not valid UTF-8")))
}

/// Parse `mysql[+driver]://[user[:password]@]host[:port][/database][?options]` (or
/// `mariadb://`). Options: `unix_socket`/`socket`; `ssl-mode` (also `ssl_mode`, `sslmode`:
/// `DISABLED`, `PREFERRED`, the default, `REQUIRED`, `VERIFY_CA`, `VERIFY_IDENTITY`) and
/// `ssl-ca` (`ssl_ca`); `lock_mode` and `lock_lease` (see [`LockMode`]). `charset` and the
/// other options of Python drivers are ignored: revision files are UTF-8 text, so the
/// connection always speaks utf8mb4.
/// Errors never contain the URL or its password.
pub fn parse_mysql_url(url: &str) -> Result<MysqlTarget, DatabaseError> {
    let parsed = Url::parse(url).map_err(|e| {
        DatabaseError::connect(format!(
            "invalid MySQL URL ({e}): expected mysql://user:password@host:port/database"
        ))
    })?;
    let scheme = parsed.scheme();
    let backend = scheme.split('+').next().unwrap_or(scheme);
    if backend != "mysql" && backend != "mariadb" {
        return Err(DatabaseError::connect(format!(
            "not a MySQL URL (scheme `{scheme}`): expected mysql:// or mariadb://"
        )));
    }
    let host = match parsed.host() {
        None => "localhost".to_string(),
        Some(Host::Domain("")) => "localhost".to_string(),
        Some(Host::Domain(name)) => decode(name, "host")?,
        Some(Host::Ipv4(ip)) => ip.to_string(),
        Some(Host::Ipv6(ip)) => ip.to_string(),
    };
    let user = match parsed.username() {
        "" => None,
        user => Some(decode(user, "user name")?),
    };
    let password = parsed
        .password()
        .map(|p| decode(p, "password"))
        .transpose()?;
    let database = match parsed.path().trim_start_matches('/') {
        "" => None,
        db => Some(decode(db, "database name")?),
    };
    let mut target = MysqlTarget {
        host,
        port: parsed.port().unwrap_or(DEFAULT_PORT),
        socket: None,
        user,
        password,
        database,
        tls: TlsSettings::default(),
        lock_mode: LockMode::default(),
        lock_lease: DEFAULT_LEASE,
    };
    for (key, value) in parsed.query_pairs() {
        match key.as_ref() {
            "unix_socket" | "socket" => target.socket = Some(value.into_owned()),
            "lock_mode" => target.lock_mode = LockMode::parse(&value)?,
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
            "ssl-mode" | "ssl_mode" | "sslmode" => target.tls.mode = SslMode::parse(&value)?,
            "ssl-ca" | "ssl_ca" => target.tls.ca = Some(PathBuf::from(value.into_owned())),
            _ => {}
        }
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_user_password_host_port_and_database() {
        let t =
            parse_mysql_url("mysql+pymysql://app:p%40ss%3Aw%2Frd@db.example:3307/my%20db").unwrap();
        assert_eq!(t.host, "db.example");
        assert_eq!(t.port, 3307);
        assert_eq!(t.user.as_deref(), Some("app"));
        assert_eq!(t.password.as_deref(), Some("p@ss:w/rd"));
        assert_eq!(t.database.as_deref(), Some("my db"));
        assert_eq!(t.address(), "db.example:3307");
    }

    #[test]
    fn defaults_and_other_forms() {
        let t = parse_mysql_url("mariadb://127.0.0.1").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("127.0.0.1", 3306));
        assert_eq!((t.user, t.password, t.database), (None, None, None));
        let t = parse_mysql_url("mysql://root@[::1]:3306/test").unwrap();
        assert_eq!(t.address(), "[::1]:3306");
        let t = parse_mysql_url("mysql:///test?unix_socket=/run/mysqld/mysqld.sock").unwrap();
        assert_eq!(t.host, "localhost");
        assert_eq!(t.address(), "socket /run/mysqld/mysqld.sock");
        let t = parse_mysql_url("mysql://u@h/d?charset=utf8mb4&ssl-mode=DISABLED").unwrap();
        assert_eq!(t.database.as_deref(), Some("d"));
        assert!(parse_mysql_url("mysql://u@h/d?charset=latin1&connect_timeout=3").is_ok());
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
    }
}
