//! Reading a `postgresql://` URL into connection settings.

use std::path::PathBuf;
use std::time::Duration;

use migrate_core::DatabaseError;
use percent_encoding::percent_decode_str;

use crate::lock::LockMode;

/// Query parameters whose values are secrets: accepted where libpq accepts them, never
/// printed (see [`ConnectOptions::redact`]).
const SECRET_PARAMETERS: &[&str] = &["password", "sslpassword"];

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
    /// Parse `postgres://`, `postgresql://` and `postgresql+DRIVER://` URLs. Errors never
    /// repeat the URL (it may hold a password).
    pub fn parse(url: &str) -> Result<ConnectOptions, DatabaseError> {
        // libpq accepts `postgresql://user@/db?host=/socket/dir`; the url crate refuses an empty
        // host after user info, so such a URL is read with a placeholder host that is then ignored.
        let (parsed, host_given) = match url::Url::parse(url) {
            Err(url::ParseError::EmptyHost) => {
                (url::Url::parse(&with_placeholder_host(url)), false)
            }
            other => (other, true),
        };
        let parsed = parsed.map_err(|e| {
            DatabaseError::connect(format!(
                "the PostgreSQL URL is malformed ({e}); expected postgresql://USER:PASSWORD@HOST:PORT/DBNAME"
            ))
        })?;
        let scheme = parsed.scheme();
        let base = scheme.split('+').next().unwrap_or(scheme);
        if base != "postgres" && base != "postgresql" {
            return Err(DatabaseError::connect(format!(
                "`{scheme}://` is not a PostgreSQL URL; expected postgresql://USER:PASSWORD@HOST:PORT/DBNAME"
            )));
        }
        let decode = |s: &str, what: &str| {
            percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| {
                    DatabaseError::connect(format!(
                        "the {what} in the PostgreSQL URL is not valid UTF-8 after percent-decoding"
                    ))
                })
        };
        let user = match parsed.username() {
            "" => None,
            u => Some(decode(u, "user name")?),
        };
        let password = match parsed.password() {
            None => None,
            Some(p) => Some(decode(p, "password")?),
        };
        let mut host = match parsed.host().filter(|_| host_given) {
            Some(url::Host::Domain(d)) if !d.is_empty() => Some(Host::Tcp(decode(d, "host")?)),
            Some(url::Host::Ipv4(ip)) => Some(Host::Tcp(ip.to_string())),
            Some(url::Host::Ipv6(ip)) => Some(Host::Tcp(ip.to_string())),
            _ => None,
        };
        let mut port = parsed.port();
        let path = parsed.path().trim_start_matches('/');
        let mut dbname = if path.is_empty() {
            None
        } else {
            Some(decode(path, "database name")?)
        };
        let mut options = ConnectOptions {
            user: String::new(),
            password,
            host: Host::Tcp("localhost".into()),
            port: 5432,
            dbname: String::new(),
            sslmode: SslMode::default(),
            sslrootcert: None,
            connect_timeout: None,
            application_name: "migrate".into(),
            options: None,
            lock_mode: LockMode::default(),
        };
        let mut user = user;
        for (key, value) in parsed.query_pairs() {
            let value = value.into_owned();
            match key.as_ref() {
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
                "host" => {
                    host = Some(if value.starts_with('/') {
                        Host::Socket(PathBuf::from(value))
                    } else {
                        Host::Tcp(value)
                    })
                }
                "port" => {
                    port = Some(value.parse().map_err(|_| {
                        DatabaseError::connect(format!(
                            "port `{value}` in the PostgreSQL URL is not a port number"
                        ))
                    })?)
                }
                "user" => user = Some(value),
                "dbname" => dbname = Some(value),
                "password" => options.password = Some(value),
                "options" => options.options = Some(value),
                "lock_mode" => options.lock_mode = LockMode::parse(&value)?,
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
        options.user = user.unwrap_or_else(|| "postgres".into());
        options.dbname = dbname.unwrap_or_else(|| options.user.clone());
        if let Some(host) = host {
            options.host = host;
        }
        if let Some(port) = port {
            options.port = port;
        }
        Ok(options)
    }

    /// `text` with every secret of these options (the password) replaced by `***`: for
    /// messages built from what a server or driver said.
    pub fn redact(&self, text: &str) -> String {
        match self.password.as_deref().filter(|p| !p.is_empty()) {
            Some(password) => text.replace(password, "***"),
            None => text.to_string(),
        }
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

/// `url` with its password, and the value of every secret-carrying query parameter
/// (`password`, `sslpassword`), replaced by `***`; everything else as written. Works on
/// malformed URLs too, so any message can show what was configured.
pub fn redact_url(url: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    let mut out = match head.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(end);
            let authority = match authority.rsplit_once('@') {
                Some((user_info, host)) => match user_info.split_once(':') {
                    Some((user, _password)) => format!("{user}:***@{host}"),
                    None => authority.to_string(),
                },
                None => authority.to_string(),
            };
            format!("{scheme}://{authority}{path}")
        }
        None => head.to_string(),
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| {
                let key = pair.split('=').next().unwrap_or_default();
                let decoded = percent_decode_str(key).decode_utf8_lossy();
                if SECRET_PARAMETERS.contains(&decoded.as_ref()) {
                    format!("{key}=***")
                } else {
                    pair.to_string()
                }
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

/// `url` with `localhost` put where its authority names no host (right after `user@`).
fn with_placeholder_host(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let host_at = rest[..end].rfind('@').map_or(0, |at| at + 1);
    let (user_info, tail) = rest.split_at(host_at);
    format!("{scheme}://{user_info}{PLACEHOLDER_HOST}{tail}")
}

/// Stands in for a missing host while parsing; never used to connect.
const PLACEHOLDER_HOST: &str = "localhost";

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            redact_url("postgresql://app:Hunter2@db:5432/orders?sslmode=require&password=Hunter3&sslpassword=Key4&application_name=x"),
            "postgresql://app:***@db:5432/orders?sslmode=require&password=***&sslpassword=***&application_name=x"
        );
        assert_eq!(
            redact_url("postgresql://app@/orders?host=/tmp"),
            "postgresql://app@/orders?host=/tmp"
        );
        assert_eq!(redact_url("not a url:pw@"), "not a url:pw@");
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
    }
}
