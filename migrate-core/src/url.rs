//! Database URLs, owned once: which backend a URL names, what it says about the connection
//! (user, password, host, port, database, query parameters, all percent-decoded, defaults
//! applied), how messages name the database, and the redacted form that is the only one ever
//! printed.
//!
//! Accepted forms (SQLAlchemy's, so an `alembic.ini` URL works unchanged):
//! `sqlite:///relative.db` (relative to the working directory), `sqlite:////abs.db`,
//! `sqlite://` and `sqlite:///:memory:` (in memory), `postgres://`, `postgresql://`, `mysql://`,
//! `mariadb://`, each optionally with a `+driver` part (`postgresql+psycopg2://`,
//! `mysql+pymysql://`, `sqlite+pysqlite://`) that is ignored. libpq's forms are accepted too: an
//! empty host with the socket folder in the query (`postgresql://user@/db?host=/var/run/postgresql`),
//! and the query's `host`, `port`, `user`, `password` and `dbname` override the URL's own parts,
//! as libpq reads them. A MySQL URL with an empty host names its Unix socket in the query
//! (`mysql+pymysql://user@/db?unix_socket=/run/mysqld/mysqld.sock`, SQLAlchemy's form).
//!
//! Every other query parameter is kept, decoded and in order, for the backend to read: what
//! `sslmode`, `lock_mode` or `options` mean, and which parameters a backend supports, is the
//! backend's to say (its `connect_url`). This module names the backends only as the schemes
//! a URL may have.
//!
//! Printed URLs hide every secret: the userinfo password and the value of every query parameter
//! that carries one (`password`, `sslpassword`, `..._token`, `..._secret`; see
//! [`is_secret_parameter`]).
//!
//! ```
//! use migrate_core::url::{Backend, DatabaseUrl};
//!
//! let url = DatabaseUrl::parse("postgresql+psycopg2://app:s3cret@db:5433/shop?sslmode=require")?;
//! assert_eq!(url.backend(), Backend::Postgres);
//! assert_eq!(url.describe(), "PostgreSQL db:5433/shop");
//! assert_eq!(url.redacted(), "postgresql://app:***@db:5433/shop?sslmode=require");
//! let server = url.server().expect("a server URL");
//! assert_eq!((server.user.as_deref(), server.password.as_deref()), (Some("app"), Some("s3cret")));
//! assert_eq!(url.param("sslmode"), Some("require"));
//! # Ok::<(), migrate_core::url::UrlError>(())
//! ```

use std::fmt;
use std::path::PathBuf;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::executor::DatabaseError;

/// The schemes `migrate` accepts, as listed in error messages.
pub const ACCEPTED_SCHEMES: &str = "sqlite:///relative.db, sqlite:////absolute.db, sqlite:// (in memory), \
postgresql://, postgres://, mysql://, mariadb:// (a `+driver` suffix such as postgresql+psycopg2:// is accepted and ignored)";

/// The backend a URL's scheme selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Backend {
    /// `sqlite://`: SQLite through the bundled library.
    Sqlite,
    /// `postgresql://` or `postgres://`.
    Postgres,
    /// `mysql://` or `mariadb://`: MySQL or MariaDB.
    Mysql,
}

impl Backend {
    /// The backend a scheme (without its `+driver` part, in any case) names.
    fn from_scheme(scheme: &str) -> Option<Backend> {
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            "mysql" | "mariadb" => Some(Backend::Mysql),
            _ => None,
        }
    }

    /// The canonical scheme: `sqlite`, `postgresql` or `mysql`.
    pub fn scheme(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgresql",
            Backend::Mysql => "mysql",
        }
    }

    /// How messages name it: `SQLite`, `PostgreSQL`, `MySQL`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
            Backend::Mysql => "MySQL",
        }
    }

    /// The port a server URL without one connects to: 5432, 3306; `None` for SQLite.
    pub fn default_port(self) -> Option<u16> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres => Some(5432),
            Backend::Mysql => Some(3306),
        }
    }
}

/// Where a SQLite URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteTarget {
    /// A private in-memory database: `sqlite://`, `sqlite:///`, `sqlite:///:memory:`.
    Memory,
    /// A database file; relative paths are relative to the working directory, as in SQLAlchemy.
    File(PathBuf),
}

/// What a PostgreSQL or MySQL URL says about the connection, percent-decoded, with the query's
/// overrides (PostgreSQL) and the defaults applied. Its `Debug` form shows no password.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Server {
    /// The host: a name or an IP address (IPv6 without brackets), or on PostgreSQL a socket
    /// folder (a value starting with `/`, as libpq); `localhost` when the URL names none.
    pub host: String,
    /// The port; the backend's default (5432, 3306) when the URL names none.
    pub port: u16,
    /// MySQL's Unix socket (`?unix_socket=` or `?socket=`), which replaces TCP when given.
    pub socket: Option<String>,
    /// The user name. On PostgreSQL `postgres` when the URL names none.
    pub user: Option<String>,
    /// The password (the userinfo's, or on PostgreSQL the query's `password`).
    pub password: Option<String>,
    /// The database. On PostgreSQL the user name when the URL names none (as libpq).
    pub database: Option<String>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("socket", &self.socket)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("database", &self.database)
            .finish()
    }
}

/// What a URL points at.
#[derive(Clone, PartialEq, Eq)]
enum Target {
    Sqlite(SqliteTarget),
    Server(Server),
}

/// A database URL that names a supported backend: parsed once, then read by the CLI (which
/// backend, how to name it) and by the backend it names (how to connect).
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    backend: Backend,
    /// The `+driver` part of the scheme, as written.
    driver: Option<String>,
    /// The URL with its scheme made canonical (`sqlite`, `postgresql`, `mysql`, no driver).
    canonical: String,
    target: Target,
    /// The query's parameters, decoded, in order.
    query: Vec<(String, String)>,
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseUrl")
            .field("backend", &self.backend)
            .field("url", &self.redacted())
            .finish()
    }
}

/// Why a URL was refused. Every URL in it is redacted: no variant holds the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
#[non_exhaustive]
pub enum UrlError {
    /// No `SCHEME://` at all.
    #[error(
        "malformed database URL `{url}`: expected SCHEME://...; accepted schemes: {}",
        ACCEPTED_SCHEMES
    )]
    NoScheme {
        /// The URL, redacted.
        url: String,
    },
    /// A scheme no backend reads.
    #[error(
        "unsupported database URL scheme `{scheme}` in `{url}`; accepted schemes: {}",
        ACCEPTED_SCHEMES
    )]
    UnsupportedScheme {
        /// The scheme as written (`oracle`, `driver`).
        scheme: String,
        /// The URL, redacted.
        url: String,
    },
    /// A server URL that cannot be read (a bad port, a bad host).
    #[error(
        "malformed database URL `{url}`: {reason}; accepted schemes: {}",
        ACCEPTED_SCHEMES
    )]
    Malformed {
        /// The URL, redacted.
        url: String,
        /// What is wrong (`invalid port number`, ...).
        reason: String,
    },
    /// A SQLite URL that names a host (`sqlite://host/x.db`).
    #[error(
        "malformed SQLite URL `{url}`: a SQLite URL has no host (found `{host}`): write \
         sqlite:///relative.db (three slashes) or sqlite:////absolute.db (four); accepted schemes: {}",
        ACCEPTED_SCHEMES
    )]
    SqliteHost {
        /// The URL, redacted.
        url: String,
        /// What stood where a host would be.
        host: String,
    },
    /// A part that is not UTF-8 once percent-decoded.
    #[error("malformed database URL `{url}`: the {part} is not valid UTF-8 once percent-decoded (expected UTF-8 text, percent-encoded)")]
    NotUtf8 {
        /// The URL, redacted.
        url: String,
        /// Which part: `user name`, `password`, `host`, `database name`, `file path`.
        part: &'static str,
    },
    /// A query `port` that is not a port number.
    #[error("malformed database URL `{url}`: port `{value}` in the query is not a port number (expected 0 to 65535)")]
    QueryPort {
        /// The URL, redacted.
        url: String,
        /// The value given.
        value: String,
    },
    /// A MySQL URL with neither a host nor a Unix socket.
    #[error(
        "malformed database URL `{url}`: no host (expected mysql://USER:PASSWORD@HOST:PORT/DATABASE, \
         or ?unix_socket=PATH with an empty host for a Unix socket)"
    )]
    NoHost {
        /// The URL, redacted.
        url: String,
    },
}

/// A URL a backend cannot use is a connection that cannot be made.
impl From<UrlError> for DatabaseError {
    fn from(e: UrlError) -> Self {
        DatabaseError::connect(e.to_string())
    }
}

impl DatabaseUrl {
    /// Reads `url`, choosing the backend from its scheme. Errors show the URL redacted.
    pub fn parse(url: &str) -> Result<DatabaseUrl, UrlError> {
        let url = url.trim();
        let shown = || redact(url);
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(UrlError::NoScheme { url: shown() });
        };
        let (base, driver) = match scheme.split_once('+') {
            Some((base, driver)) => (base, Some(driver.to_string())),
            None => (scheme, None),
        };
        let Some(backend) = Backend::from_scheme(base) else {
            return Err(UrlError::UnsupportedScheme {
                scheme: scheme.to_string(),
                url: shown(),
            });
        };
        let canonical = format!("{}://{rest}", backend.scheme());
        let (target, query) = match backend {
            Backend::Sqlite => {
                let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
                let target = sqlite_target(path).map_err(|problem| match problem {
                    SqliteProblem::Host(host) => UrlError::SqliteHost { url: shown(), host },
                    SqliteProblem::NotUtf8 => UrlError::NotUtf8 {
                        url: shown(),
                        part: "file path",
                    },
                })?;
                let query = url::form_urlencoded::parse(query.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                (Target::Sqlite(target), query)
            }
            _ => {
                let (server, query) = read_server(backend, &canonical, &shown)?;
                (Target::Server(server), query)
            }
        };
        Ok(DatabaseUrl {
            backend,
            driver,
            canonical,
            target,
            query,
        })
    }

    /// The backend the scheme selects.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The canonical scheme (`sqlite`, `postgresql`, `mysql`).
    pub fn scheme(&self) -> &'static str {
        self.backend.scheme()
    }

    /// The `+driver` part of the scheme, as written (`psycopg2`), which `migrate` ignores.
    pub fn driver(&self) -> Option<&str> {
        self.driver.as_deref()
    }

    /// The URL with its scheme made canonical and the driver removed, otherwise as written:
    /// two URLs that are equal here name the same database. Contains the password: never
    /// print it (print [`DatabaseUrl::redacted`]).
    pub fn as_backend_url(&self) -> &str {
        &self.canonical
    }

    /// Where a SQLite URL points; `None` for the server backends.
    pub fn sqlite_target(&self) -> Option<&SqliteTarget> {
        match &self.target {
            Target::Sqlite(target) => Some(target),
            Target::Server(_) => None,
        }
    }

    /// What a PostgreSQL or MySQL URL says about the connection; `None` for SQLite.
    pub fn server(&self) -> Option<&Server> {
        match &self.target {
            Target::Server(server) => Some(server),
            Target::Sqlite(_) => None,
        }
    }

    /// [`DatabaseUrl::server`], when the URL names `backend` (a backend's `connect_url`
    /// refuses any other).
    pub fn server_of(&self, backend: Backend) -> Option<&Server> {
        self.server().filter(|_| self.backend == backend)
    }

    /// Every query parameter, decoded, in the order written (the backend says which it
    /// supports).
    pub fn query(&self) -> &[(String, String)] {
        &self.query
    }

    /// The value of query parameter `name` (the last, when it is given more than once).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The URL with its password and secret query values replaced by `***`.
    pub fn redacted(&self) -> String {
        redact(&self.canonical)
    }

    /// `text` (a driver's or server's message) with every secret of this URL (the password,
    /// the value of every secret query parameter) replaced by `***`.
    pub fn redact_text(&self, text: &str) -> String {
        let password = self.server().and_then(|s| s.password.as_deref());
        let secrets = self
            .query
            .iter()
            .filter(|(k, _)| is_secret_parameter(k))
            .map(|(_, v)| v.as_str());
        hide(text, password.into_iter().chain(secrets))
    }

    /// How banners and messages name the database, without user or password:
    /// `PostgreSQL db:5432/app`, `MySQL 127.0.0.1:3306/test`, `MySQL socket
    /// /run/mysqld/mysqld.sock/test`, `SQLite file app.db`, `SQLite in memory`.
    pub fn describe(&self) -> String {
        match &self.target {
            Target::Sqlite(SqliteTarget::Memory) => "SQLite in memory".to_string(),
            Target::Sqlite(SqliteTarget::File(path)) => {
                format!("SQLite file {}", path.display())
            }
            Target::Server(server) => {
                let database = server.database.as_deref().unwrap_or_default();
                let place = match &server.socket {
                    Some(socket) => format!("socket {socket}"),
                    None if server.host.contains(':') => {
                        format!("[{}]:{}", server.host, server.port)
                    }
                    None => format!("{}:{}", server.host, server.port),
                };
                format!("{} {place}/{database}", self.backend.name())
            }
        }
    }
}

/// Why a SQLite URL's path was refused.
enum SqliteProblem {
    /// It names a host.
    Host(String),
    /// It is not UTF-8 once decoded.
    NotUtf8,
}

/// SQLAlchemy's reading of what follows `sqlite://` (the query already removed):
/// `/relative.db`, `//absolute.db`, nothing or `/:memory:` for memory, percent-decoded.
fn sqlite_target(rest: &str) -> Result<SqliteTarget, SqliteProblem> {
    if rest.is_empty() {
        return Ok(SqliteTarget::Memory);
    }
    let Some(path) = rest.strip_prefix('/') else {
        return Err(SqliteProblem::Host(
            rest.split('/').next().unwrap_or_default().to_string(),
        ));
    };
    let decoded = percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| SqliteProblem::NotUtf8)?;
    if decoded.is_empty() || decoded == ":memory:" {
        return Ok(SqliteTarget::Memory);
    }
    Ok(SqliteTarget::File(PathBuf::from(decoded.as_ref())))
}

/// Reads a PostgreSQL or MySQL URL (`canonical`, its scheme made canonical).
fn read_server(
    backend: Backend,
    canonical: &str,
    shown: &dyn Fn() -> String,
) -> Result<(Server, Vec<(String, String)>), UrlError> {
    let malformed = |e: url::ParseError| UrlError::Malformed {
        url: shown(),
        reason: e.to_string(),
    };
    // libpq accepts `postgresql://user@/db?host=/socket/dir`, and SQLAlchemy
    // `mysql://user@/db?unix_socket=...`; the url crate (WHATWG rules) refuses an empty host
    // after user info, so such a URL is read with a placeholder host that is then ignored.
    let (parsed, host_given) = match url::Url::parse(canonical) {
        Err(url::ParseError::EmptyHost) => (
            url::Url::parse(&with_placeholder_host(canonical)).map_err(malformed)?,
            false,
        ),
        other => (other.map_err(malformed)?, true),
    };
    let decode = |s: &str, part: &'static str| {
        percent_decode_str(s)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| UrlError::NotUtf8 { url: shown(), part })
    };
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let mut user = match parsed.username() {
        "" => None,
        u => Some(decode(u, "user name")?),
    };
    let mut password = parsed
        .password()
        .map(|p| decode(p, "password"))
        .transpose()?;
    let mut host = match parsed.host().filter(|_| host_given) {
        Some(url::Host::Domain(d)) if !d.is_empty() => Some(decode(d, "host")?),
        Some(url::Host::Ipv4(ip)) => Some(ip.to_string()),
        Some(url::Host::Ipv6(ip)) => Some(ip.to_string()),
        _ => None,
    };
    let mut port = parsed.port();
    let mut database = match parsed.path().trim_start_matches('/') {
        "" => None,
        path => Some(decode(path, "database name")?),
    };
    let query: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut socket = None;
    for (key, value) in &query {
        match (backend, key.as_str()) {
            // libpq: the query's connection parameters override the URL's parts.
            (Backend::Postgres, "host") => host = non_empty(value),
            (Backend::Postgres, "port") => {
                port = Some(value.trim().parse().map_err(|_| UrlError::QueryPort {
                    url: shown(),
                    value: value.clone(),
                })?)
            }
            (Backend::Postgres, "user") => user = non_empty(value),
            (Backend::Postgres, "password") => password = Some(value.clone()),
            (Backend::Postgres, "dbname") => database = non_empty(value),
            (Backend::Mysql, "unix_socket" | "socket") => socket = non_empty(value),
            _ => {}
        }
    }
    // Without a host, PyMySQL connects to localhost over TCP but mysqlclient and the mysql
    // client to the default Unix socket: which server that is depends on the driver, so an
    // empty host needs the socket named.
    if backend == Backend::Mysql && host.is_none() && socket.is_none() {
        return Err(UrlError::NoHost { url: shown() });
    }
    if backend == Backend::Postgres {
        user = user.or_else(|| Some("postgres".to_string()));
        database = database.or_else(|| user.clone());
    }
    let server = Server {
        host: host.unwrap_or_else(|| "localhost".to_string()),
        port: port.or(backend.default_port()).unwrap_or_default(),
        socket,
        user,
        password,
        database,
    };
    Ok((server, query))
}

/// `url` with `localhost` put where its authority names no host (right after `user@`).
fn with_placeholder_host(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let host_at = rest[..end].rfind('@').map_or(0, |at| at + 1);
    let (user_info, tail) = rest.split_at(host_at);
    format!("{scheme}://{user_info}localhost{tail}")
}

/// How banners and messages name the database `url` points at, without user or password
/// (see [`DatabaseUrl::describe`]); the redacted URL when it does not parse.
pub fn describe_url(url: &str) -> String {
    match DatabaseUrl::parse(url) {
        Ok(parsed) => parsed.describe(),
        Err(_) => redact(url),
    }
}

/// Whether a URL query parameter carries a secret whose value is never printed: `password`,
/// `pass`, `pwd`, and every name holding `password`, `passwd`, `secret`, `token` or ending in
/// `apikey`/`api_key` (`sslpassword`, `client_secret`, `auth_token`, ...), in any case.
pub fn is_secret_parameter(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(name.as_str(), "pass" | "pwd")
        || ["password", "passwd", "secret", "token"]
            .iter()
            .any(|word| name.contains(word))
        || name.ends_with("apikey")
        || name.ends_with("api_key")
}

/// `text` with every occurrence of each non-empty value of `secrets` replaced by `***`: for
/// messages a driver or server wrote, which may quote what they were given.
pub fn hide<'a>(text: &str, secrets: impl IntoIterator<Item = &'a str>) -> String {
    let mut secrets: Vec<&str> = secrets.into_iter().filter(|s| !s.is_empty()).collect();
    // The longest first, so that a secret holding another is hidden whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets
        .into_iter()
        .fold(text.to_string(), |text, secret| text.replace(secret, "***"))
}

/// `url` with the password (what follows `user:` before `@`) and the value of every secret
/// query parameter ([`is_secret_parameter`]) replaced by `***`.
///
/// Works on malformed URLs too, so an error message can always show the redacted form.
pub fn redact(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[start..];
    // The userinfo ends at an '@'. A password may hold unescaped '@', '/', '?' or '#', so take
    // the last '@' of the whole URL: when a query holds one too, more is hidden than needed,
    // never less.
    let (mut out, after) = match rest.rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            let shown = match userinfo.find(':') {
                Some(colon) => format!("{}:***", &userinfo[..colon]),
                None => userinfo.to_string(),
            };
            (format!("{}{shown}", &url[..start]), &rest[at..])
        }
        None => (url[..start].to_string(), rest),
    };
    match after.split_once('?') {
        Some((before, query)) => {
            out.push_str(before);
            out.push('?');
            out.push_str(&redact_query(query));
        }
        None => out.push_str(after),
    }
    out
}

/// A query string with the values of its secret parameters replaced by `***`. A value runs to
/// the next `&` (a `#` in it is taken as part of it, hiding more rather than less).
fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) => {
                let decoded = percent_decode_str(name).decode_utf8_lossy();
                if is_secret_parameter(&decoded) {
                    format!("{name}=***")
                } else {
                    pair.to_string()
                }
            }
            None => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `text` with the secrets of every URL in it replaced by `***` (see [`redact`]): the last
/// guard before a message is printed, whatever produced it.
pub fn scrub_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        // The URL starts after the last separator before the scheme.
        let start = rest[..pos]
            .rfind(|c: char| c.is_whitespace() || matches!(c, '`' | '\'' | '"' | '(' | '<' | '='))
            .map(|i| i + 1)
            .unwrap_or(0);
        let end = rest[pos..]
            .find(|c: char| c.is_whitespace() || matches!(c, '`' | '\'' | '"' | ')' | '>'))
            .map(|i| pos + i)
            .unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        out.push_str(&redact(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Characters escaped in a user name, password or database name put into a URL.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The parts of a server connection given as separate values (the `POSTGRES_*` variables of
/// a `.env`, libpq's `PG*`), to be made into a URL.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct ServerParts {
    /// Host name; `localhost` when absent.
    pub host: Option<String>,
    /// Port; the backend's default when absent.
    pub port: Option<String>,
    /// User name; on PostgreSQL `postgres` when absent.
    pub user: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Database name; on PostgreSQL the user name when absent (as the server does).
    pub database: Option<String>,
}

impl fmt::Debug for ServerParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerParts")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("database", &self.database)
            .finish()
    }
}

impl ServerParts {
    /// A `postgresql://` or `mysql://` URL (as `backend` says) from the parts, with the same
    /// defaults [`DatabaseUrl::parse`] applies written out, and user, password and database
    /// percent-encoded. SQLite has no server: its scheme with no path, in memory.
    pub fn to_url(&self, backend: Backend) -> String {
        fn given(part: &Option<String>) -> Option<&str> {
            part.as_deref().filter(|p| !p.is_empty())
        }
        let Some(default_port) = backend.default_port() else {
            return format!("{}://", backend.scheme());
        };
        let host = given(&self.host).unwrap_or("localhost");
        let port = given(&self.port)
            .map(String::from)
            .unwrap_or_else(|| default_port.to_string());
        let postgres = backend == Backend::Postgres;
        let user = given(&self.user).or(postgres.then_some("postgres"));
        let database = given(&self.database).or(if postgres { user } else { None });
        let auth = match (user, given(&self.password)) {
            (Some(user), Some(pw)) => format!(
                "{}:{}@",
                utf8_percent_encode(user, COMPONENT),
                utf8_percent_encode(pw, COMPONENT)
            ),
            (Some(user), None) => format!("{}@", utf8_percent_encode(user, COMPONENT)),
            (None, Some(pw)) => format!(":{}@", utf8_percent_encode(pw, COMPONENT)),
            (None, None) => String::new(),
        };
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        format!(
            "{}://{auth}{host}:{port}/{}",
            backend.scheme(),
            utf8_percent_encode(database.unwrap_or_default(), COMPONENT)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> DatabaseUrl {
        DatabaseUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    fn backend(url: &str) -> Backend {
        parse(url).backend()
    }

    fn server(url: &str) -> Server {
        parse(url).server().cloned().expect("a server URL")
    }

    fn error(url: &str) -> String {
        DatabaseUrl::parse(url)
            .expect_err("the URL is refused")
            .to_string()
    }

    // Schemes and drivers.

    #[test]
    fn schemes_select_backends_and_drivers_are_ignored() {
        assert_eq!(backend("sqlite:///x.db"), Backend::Sqlite);
        assert_eq!(backend("sqlite+pysqlite:///x.db"), Backend::Sqlite);
        assert_eq!(backend("SQLite:///x.db"), Backend::Sqlite);
        assert_eq!(backend("postgres://u@h/db"), Backend::Postgres);
        assert_eq!(backend("postgresql://u@h/db"), Backend::Postgres);
        assert_eq!(
            backend("postgresql+psycopg2://u:p@h:5433/db"),
            Backend::Postgres
        );
        assert_eq!(backend("mysql://root@127.0.0.1:3306/test"), Backend::Mysql);
        assert_eq!(backend("mariadb://root@127.0.0.1/test"), Backend::Mysql);
        assert_eq!(backend("mysql+pymysql://root:pw@h/test"), Backend::Mysql);
        assert_eq!(
            parse("postgresql+psycopg2://u@h/db").driver(),
            Some("psycopg2")
        );
        assert_eq!(parse("postgres://u@h/db").driver(), None);
    }

    #[test]
    fn backend_url_has_canonical_scheme_without_driver() {
        let u = parse("postgresql+psycopg2://u:p@h:5433/db");
        assert_eq!(u.as_backend_url(), "postgresql://u:p@h:5433/db");
        assert_eq!(u.scheme(), "postgresql");
        let u = parse("postgres://u@h/db");
        assert_eq!(u.as_backend_url(), "postgresql://u@h/db");
        let u = parse("mariadb+pymysql://root@h/test");
        assert_eq!(u.as_backend_url(), "mysql://root@h/test");
        let u = parse("sqlite+pysqlite:///x.db");
        assert_eq!(u.as_backend_url(), "sqlite:///x.db");
    }

    #[test]
    fn unknown_scheme_is_one_line_listing_accepted_schemes() {
        let err = error("oracle://scott:tiger@h/db");
        assert!(
            err.contains("unsupported database URL scheme `oracle`"),
            "{err}"
        );
        assert!(
            err.contains("postgresql://") && err.contains("mariadb://"),
            "{err}"
        );
        assert!(!err.contains("tiger"), "{err}");
        assert!(!err.contains('\n'));
        assert_eq!(
            DatabaseUrl::parse("oracle://scott:tiger@h/db"),
            Err(UrlError::UnsupportedScheme {
                scheme: "oracle".into(),
                url: "oracle://scott:***@h/db".into()
            })
        );
    }

    #[test]
    fn malformed_urls_are_refused_without_the_password() {
        for bad in [
            "not a url",
            "postgresql://user:s3cret@host:notaport/db",
            "postgresql://u:s3cret@h:99999/db",
            "postgresql://u:s3cret@h/db?port=many",
            "sqlite://host/x.db",
            "mysql://:s3cret@/db",
            "mysql://u:s3cret@h:99999/d",
            "postgresql://u:s3cret@h/%FF",
        ] {
            let err = error(bad);
            assert!(
                err.contains("accepted schemes") || err.contains("expected"),
                "{err}"
            );
            assert!(err.starts_with("malformed"), "{err}");
            assert!(!err.contains("s3cret"), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
        assert!(
            error("postgresql://u@h/%FF").contains("the database name is not valid UTF-8"),
            "names the part"
        );
        assert!(error("postgresql://u@h/d?port=many").contains("port `many` in the query"));
    }

    // SQLite: the expected paths are SQLAlchemy's `make_url(u).database` for each URL.

    #[test]
    fn sqlite_paths_read_as_sqlalchemy_does() {
        let target = |u: &str| parse(u).sqlite_target().cloned().unwrap();
        let file = |p: &str| SqliteTarget::File(PathBuf::from(p));
        assert_eq!(target("sqlite:///relative.db"), file("relative.db"));
        assert_eq!(target("sqlite:///./app.db"), file("./app.db"));
        assert_eq!(target("sqlite:///dir/rel.db"), file("dir/rel.db"));
        assert_eq!(target("sqlite:////abs/x.db"), file("/abs/x.db"));
        assert_eq!(target("sqlite+pysqlite:///x.db"), file("x.db"));
        assert_eq!(target("sqlite:///a%20b.db"), file("a b.db"));
        assert_eq!(target("sqlite:///x.db?mode=ro"), file("x.db"));
        assert_eq!(
            target("sqlite:///app.db?check_same_thread=False"),
            file("app.db")
        );
        assert_eq!(target("sqlite://"), SqliteTarget::Memory);
        assert_eq!(target("sqlite:///"), SqliteTarget::Memory);
        assert_eq!(target("sqlite:///:memory:"), SqliteTarget::Memory);
        assert_eq!(parse("sqlite:///x.db").server(), None);
        assert_eq!(parse("sqlite:///x.db").server_of(Backend::Sqlite), None);
        assert_eq!(parse("sqlite:///x.db?mode=ro").param("mode"), Some("ro"));
    }

    #[test]
    fn sqlite_urls_with_a_host_are_refused() {
        let err = error("sqlite://localhost/x.db");
        assert!(err.contains("found `localhost`"), "{err}");
        assert!(err.contains("three slashes"), "{err}");
        assert!(error("app.db").contains("expected SCHEME://"));
        assert!(error("sqlite:///%FF.db").contains("file path is not valid UTF-8"));
    }

    // Server URLs.

    #[test]
    fn server_parts_are_decoded_with_defaults() {
        let s = server(
            "postgresql://app:p%40ss%2Fw@db.example.com:6543/orders?sslmode=verify-full&application_name=deploy",
        );
        assert_eq!(s.user.as_deref(), Some("app"));
        assert_eq!(s.password.as_deref(), Some("p@ss/w"));
        assert_eq!((s.host.as_str(), s.port), ("db.example.com", 6543));
        assert_eq!(s.database.as_deref(), Some("orders"));
        let s = server("mysql+pymysql://app:p%40ss%3Aw%2Frd@db.example:3307/my%20db");
        assert_eq!(s.password.as_deref(), Some("p@ss:w/rd"));
        assert!(!format!("{s:?}").contains("p@ss"), "{s:?}");
        assert_eq!(s.database.as_deref(), Some("my db"));
        assert_eq!(s.port, 3307);
        // PostgreSQL: user `postgres`, database the user, port 5432; MySQL: port 3306 only.
        let s = server("postgres://localhost");
        assert_eq!(
            (s.user.as_deref(), s.database.as_deref(), s.port),
            (Some("postgres"), Some("postgres"), 5432)
        );
        assert_eq!(
            server("postgresql://bob@127.0.0.1").database.as_deref(),
            Some("bob")
        );
        assert!(parse("postgres://localhost")
            .server_of(Backend::Mysql)
            .is_none());
        assert!(parse("postgres://localhost")
            .server_of(Backend::Postgres)
            .is_some());
        let s = server("mariadb://127.0.0.1");
        assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 3306));
        assert_eq!((s.user, s.password, s.database), (None, None, None));
        // IPv6 without its brackets.
        assert_eq!(
            server("postgresql+psycopg2://u:pw@[::1]:5433/test").host,
            "::1"
        );
        assert_eq!(server("mysql://root@[::1]:3306/test").host, "::1");
    }

    #[test]
    fn query_parameters_are_kept_decoded_in_order() {
        let u = parse("postgresql://app@db/orders?options=-csearch_path%3Dbilling%2Cpublic&lock_mode=transaction&lock_mode=session");
        assert_eq!(
            u.param("options"),
            Some("-csearch_path=billing,public"),
            "percent-decoded"
        );
        assert_eq!(u.param("lock_mode"), Some("session"), "the last one");
        assert_eq!(u.param("sslmode"), None);
        assert_eq!(u.query().len(), 3);
        assert_eq!(u.query()[0].0, "options");
    }

    #[test]
    fn libpq_query_parameters_override_the_urls_parts() {
        let s = server("postgresql://app@db/orders?password=s%26cret");
        assert_eq!(s.password.as_deref(), Some("s&cret"));
        let s = server("postgresql://bob:pw@db:5432/app?host=other&port=6000&user=eve&dbname=shop");
        assert_eq!((s.host.as_str(), s.port), ("other", 6000));
        assert_eq!(
            (s.user.as_deref(), s.database.as_deref()),
            (Some("eve"), Some("shop"))
        );
        // A database named by neither falls back to the user the query names.
        assert_eq!(
            server("postgresql://db?user=eve").database.as_deref(),
            Some("eve")
        );
        // MySQL has no such parameters: they are the backend's (and ignored there).
        assert_eq!(server("mysql://u@h/d?host=other&port=1").host, "h");
    }

    #[test]
    fn libpq_socket_and_options_forms_are_accepted() {
        let u = parse("postgresql://app@/shop?host=/var/run/postgresql");
        assert_eq!(u.backend(), Backend::Postgres);
        assert_eq!(
            u.as_backend_url(),
            "postgresql://app@/shop?host=/var/run/postgresql"
        );
        assert_eq!(u.server().unwrap().host, "/var/run/postgresql");
        assert_eq!(u.describe(), "PostgreSQL /var/run/postgresql:5432/shop");
        let u = parse("postgresql+psycopg2://app:pw@/shop?host=%2Ftmp&port=5433");
        assert_eq!(u.describe(), "PostgreSQL /tmp:5433/shop");
        let u = parse("postgresql:///shop");
        assert_eq!(u.describe(), "PostgreSQL localhost:5432/shop");
        let s = server("postgresql://bob:pw@/app?host=/tmp");
        assert_eq!(
            (s.host.as_str(), s.user.as_deref(), s.database.as_deref()),
            ("/tmp", Some("bob"), Some("app"))
        );
        let s = server("postgresql://bob@:6000/app");
        assert_eq!((s.host.as_str(), s.port), ("localhost", 6000));
        let u = parse("postgresql://app@db:5432/shop?options=-csearch_path%3Dtenant_a%2Cpublic");
        assert_eq!(
            u.as_backend_url(),
            "postgresql://app@db:5432/shop?options=-csearch_path%3Dtenant_a%2Cpublic"
        );
        assert_eq!(u.describe(), "PostgreSQL db:5432/shop");
    }

    // Where the CLI (which refused an empty MySQL host) and migrate-mysql (which read it as
    // localhost) disagreed: an empty host is accepted exactly when the query names the Unix
    // socket, SQLAlchemy's documented socket form. Without one the drivers disagree too
    // (PyMySQL: TCP to localhost; mysqlclient and the mysql client: the default socket), so
    // the URL is refused with both ways out named.
    #[test]
    fn an_empty_mysql_host_needs_a_unix_socket() {
        for url in [
            "mysql://root@/test",
            "mysql:///test",
            "mariadb+pymysql://u:pw@/d",
        ] {
            let err = error(url);
            assert!(err.contains("no host"), "{url}: {err}");
            assert!(err.contains("?unix_socket=PATH"), "{url}: {err}");
        }
        let u = parse("mysql+pymysql://app:pw@/shop?unix_socket=/run/mysqld/mysqld.sock");
        let s = u.server().unwrap();
        assert_eq!(s.socket.as_deref(), Some("/run/mysqld/mysqld.sock"));
        assert_eq!(
            (s.host.as_str(), s.database.as_deref()),
            ("localhost", Some("shop"))
        );
        assert_eq!(u.describe(), "MySQL socket /run/mysqld/mysqld.sock/shop");
        let s = server("mysql:///test?socket=/tmp/m.sock");
        assert_eq!(s.socket.as_deref(), Some("/tmp/m.sock"));
        // A host and a socket: the socket is used (the host stays for messages).
        let s = server("mysql://u@h/d?socket=/run/m.sock");
        assert_eq!(
            (s.host.as_str(), s.socket.as_deref()),
            ("h", Some("/run/m.sock"))
        );
    }

    #[test]
    fn describe_names_host_port_and_database_never_the_password() {
        let u = parse("postgresql://app:pw@db.internal/app_test");
        assert_eq!(u.describe(), "PostgreSQL db.internal:5432/app_test");
        let u = parse("mysql://root:pw@127.0.0.1:3307/t");
        assert_eq!(u.describe(), "MySQL 127.0.0.1:3307/t");
        assert_eq!(parse("mysql://root@h").describe(), "MySQL h:3306/");
        assert_eq!(
            parse("postgresql://u@[::1]/d").describe(),
            "PostgreSQL [::1]:5432/d"
        );
        assert_eq!(parse("sqlite:///test.db").describe(), "SQLite file test.db");
        assert_eq!(parse("sqlite://").describe(), "SQLite in memory");
        assert_eq!(
            describe_url("postgresql://u:pw@h:x/d"),
            "postgresql://u:***@h:x/d"
        );
    }

    // Redaction.

    #[test]
    fn redact_hides_passwords_only() {
        assert_eq!(
            redact("postgresql://u:pw@h:5432/db"),
            "postgresql://u:***@h:5432/db"
        );
        assert_eq!(redact("postgresql://u@h/db"), "postgresql://u@h/db");
        assert_eq!(
            redact("mysql://root:p@ss/w0rd@h/test"),
            "mysql://root:***@h/test"
        );
        assert_eq!(redact("sqlite:///x.db"), "sqlite:///x.db");
        assert_eq!(
            redact("postgresql://u:pw@h/db?sslmode=require"),
            "postgresql://u:***@h/db?sslmode=require"
        );
        assert_eq!(redact("garbage"), "garbage");
        assert_eq!(redact("not a url:pw@"), "not a url:pw@");
        let u = parse("postgresql+psycopg2://u:topsecret@h/db");
        assert_eq!(u.redacted(), "postgresql://u:***@h/db");
        assert!(!format!("{u:?}").contains("topsecret"));
    }

    #[test]
    fn redact_hides_secret_query_parameters() {
        assert_eq!(
            redact("postgresql://u@h/db?password=hunter2&sslmode=require"),
            "postgresql://u@h/db?password=***&sslmode=require"
        );
        assert_eq!(
            redact("postgresql://u:pw@h/db?sslmode=verify-full&sslpassword=k3y&PassWord=x"),
            "postgresql://u:***@h/db?sslmode=verify-full&sslpassword=***&PassWord=***"
        );
        assert_eq!(
            redact("mysql://root@h/t?pass=a&pwd=b&auth_token=c&client_secret=d&apikey=e"),
            "mysql://root@h/t?pass=***&pwd=***&auth_token=***&client_secret=***&apikey=***"
        );
        assert_eq!(
            redact("postgresql://app:Hunter2@db:5432/orders?sslmode=require&password=Hunter3&sslpassword=Key4&application_name=x"),
            "postgresql://app:***@db:5432/orders?sslmode=require&password=***&sslpassword=***&application_name=x"
        );
        // Percent-encoded names are recognised; other parameters stay as written.
        assert_eq!(
            redact("postgresql://u@h/db?pass%77ord=x&options=-csearch_path%3Dapp"),
            "postgresql://u@h/db?pass%77ord=***&options=-csearch_path%3Dapp"
        );
        assert_eq!(
            redact("postgresql://u@/db?host=/var/run/postgresql&password=s"),
            "postgresql://u@/db?host=/var/run/postgresql&password=***"
        );
        let u = parse("postgresql://u@h/db?password=topsecret");
        assert!(!u.redacted().contains("topsecret"));
        assert!(!format!("{u:?}").contains("topsecret"));
        assert!(!u.describe().contains("topsecret"));
    }

    #[test]
    fn redact_text_hides_every_secret_of_the_url_in_a_message() {
        let u =
            parse("postgresql://app:Hunter2@db/orders?client_secret=abc%26d&application_name=app");
        assert_eq!(
            u.redact_text("FATAL: role app (password Hunter2, secret abc&d) refused"),
            "FATAL: role app (password ***, secret ***) refused"
        );
        assert_eq!(
            parse("mysql://u@h/d").redact_text("nothing to hide"),
            "nothing to hide"
        );
        assert_eq!(
            hide("a hunter2 b hunter", ["hunter", "hunter2", ""]),
            "a *** b ***"
        );
    }

    #[test]
    fn scrub_hides_every_password_in_a_message() {
        assert_eq!(
            scrub_passwords(
                "cannot reach `postgresql://u:pw@h/db` nor mysql://root:x@m/t (timeout)"
            ),
            "cannot reach `postgresql://u:***@h/db` nor mysql://root:***@m/t (timeout)"
        );
        assert_eq!(
            scrub_passwords("at postgresql://u@h/db?sslpassword=k3y&password=pw (refused)"),
            "at postgresql://u@h/db?sslpassword=***&password=*** (refused)"
        );
        assert_eq!(scrub_passwords("no url here"), "no url here");
        assert_eq!(scrub_passwords("url=sqlite:///x.db"), "url=sqlite:///x.db");
    }

    // Building a URL from parts.

    #[test]
    fn server_parts_make_an_escaped_url_that_parses_back() {
        let parts = ServerParts {
            host: Some("db".into()),
            port: Some("5433".into()),
            user: Some("app".into()),
            password: Some("p@ss:w/rd".into()),
            database: Some("main".into()),
        };
        let url = parts.to_url(Backend::Postgres);
        assert_eq!(url, "postgresql://app:p%40ss%3Aw%2Frd@db:5433/main");
        let parsed = parse(&url);
        assert_eq!(parsed.redacted(), "postgresql://app:***@db:5433/main");
        assert_eq!(
            parsed.server().unwrap().password.as_deref(),
            Some("p@ss:w/rd")
        );
        assert!(!format!("{parts:?}").contains("p@ss"));
        let defaults = ServerParts {
            user: Some("me".into()),
            ..Default::default()
        };
        assert_eq!(
            defaults.to_url(Backend::Postgres),
            "postgresql://me@localhost:5432/me"
        );
        assert_eq!(
            ServerParts::default().to_url(Backend::Mysql),
            "mysql://localhost:3306/"
        );
        let v6 = ServerParts {
            host: Some("::1".into()),
            ..Default::default()
        };
        assert_eq!(
            v6.to_url(Backend::Postgres),
            "postgresql://postgres@[::1]:5432/postgres"
        );
        assert_eq!(
            parse(&v6.to_url(Backend::Postgres)).server().unwrap().host,
            "::1"
        );
    }

    #[test]
    fn errors_are_data_and_become_connect_errors() {
        let err = DatabaseUrl::parse("mysql://root:pw@/test").unwrap_err();
        assert_eq!(
            err,
            UrlError::NoHost {
                url: "mysql://root:***@/test".into()
            }
        );
        let db: DatabaseError = err.clone().into();
        assert_eq!(db.kind, crate::DatabaseErrorKind::Connect);
        assert_eq!(db.message, err.to_string());
    }
}
