//! Database URLs: which backend a URL names, the URL each backend is given, and the redacted
//! form that is the only one ever printed.
//!
//! Accepted forms (SQLAlchemy's, so an `alembic.ini` URL works unchanged):
//! `sqlite:///relative.db` (relative to the working directory), `sqlite:////abs.db`,
//! `sqlite://` and `sqlite:///:memory:` (in memory), `postgres://`, `postgresql://`, `mysql://`,
//! `mariadb://`, each optionally with a `+driver` part (`postgresql+psycopg2://`,
//! `mysql+pymysql://`, `sqlite+pysqlite://`) that is ignored. libpq's forms are accepted too: an
//! empty host with the socket folder in the query (`postgresql://user@/db?host=/var/run/postgresql`)
//! and any query option (`?options=-csearch_path%3Dapp`), which the backend reads.
//!
//! Printed URLs hide every secret: the userinfo password and the value of every query parameter
//! that carries one (`password`, `sslpassword`, `..._token`, `..._secret`; see
//! [`is_secret_parameter`]).

use std::fmt;
use std::path::PathBuf;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// The schemes `migrate` accepts, as listed in error messages.
pub const ACCEPTED_SCHEMES: &str = "sqlite:///relative.db, sqlite:////absolute.db, sqlite:// (in memory), \
postgresql://, postgres://, mysql://, mariadb:// (a `+driver` suffix such as postgresql+psycopg2:// is accepted and ignored)";

/// The backend a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite through the bundled library.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    Mysql,
}

/// Where a SQLite URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteTarget {
    /// `sqlite://` or `sqlite:///:memory:`.
    Memory,
    /// A database file; relative paths are relative to the working directory, as in SQLAlchemy.
    File(PathBuf),
}

/// A database URL that names a supported backend.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    backend: Backend,
    /// The URL with its scheme made canonical (`sqlite`, `postgresql`, `mysql`, no driver).
    canonical: String,
    sqlite: Option<SqliteTarget>,
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseUrl")
            .field("backend", &self.backend)
            .field("url", &redact(&self.canonical))
            .finish()
    }
}

/// Why a URL was refused. The message never holds the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UrlError(String);

impl DatabaseUrl {
    /// Reads `url`, choosing the backend from its scheme.
    pub fn parse(url: &str) -> Result<DatabaseUrl, UrlError> {
        let url = url.trim();
        let shown = redact(url);
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(UrlError(format!(
                "malformed database URL `{shown}`: expected SCHEME://...; accepted schemes: {ACCEPTED_SCHEMES}"
            )));
        };
        let base = scheme
            .split('+')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let backend = match base.as_str() {
            "sqlite" => Backend::Sqlite,
            "postgres" | "postgresql" => Backend::Postgres,
            "mysql" | "mariadb" => Backend::Mysql,
            _ => {
                return Err(UrlError(format!(
                    "unsupported database URL scheme `{scheme}` in `{shown}`; accepted schemes: {ACCEPTED_SCHEMES}"
                )))
            }
        };
        match backend {
            Backend::Sqlite => {
                let target = sqlite_target(rest).map_err(|why| {
                    UrlError(format!(
                        "malformed SQLite URL `{shown}`: {why}; accepted schemes: {ACCEPTED_SCHEMES}"
                    ))
                })?;
                Ok(DatabaseUrl {
                    backend,
                    canonical: format!("sqlite://{rest}"),
                    sqlite: Some(target),
                })
            }
            Backend::Postgres | Backend::Mysql => {
                let canonical = format!("{}://{rest}", backend_scheme(backend));
                let parsed = match backend {
                    Backend::Postgres => parse_server_url(&canonical),
                    _ => url::Url::parse(&canonical),
                }
                .map_err(|e| {
                    UrlError(format!(
                        "malformed database URL `{shown}`: {e}; accepted schemes: {ACCEPTED_SCHEMES}"
                    ))
                })?;
                if backend == Backend::Mysql && parsed.host_str().unwrap_or("").is_empty() {
                    return Err(UrlError(format!(
                        "malformed database URL `{shown}`: no host (expected mysql://USER:PASSWORD@HOST:PORT/DATABASE)"
                    )));
                }
                Ok(DatabaseUrl {
                    backend,
                    canonical,
                    sqlite: None,
                })
            }
        }
    }

    /// The backend the scheme selects.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL to hand to the backend: canonical scheme, driver removed. Contains the password.
    pub fn as_backend_url(&self) -> &str {
        &self.canonical
    }

    /// Where a SQLite URL points; `None` for other backends.
    #[cfg(test)]
    pub fn sqlite_target(&self) -> Option<&SqliteTarget> {
        self.sqlite.as_ref()
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted(&self) -> String {
        redact(&self.canonical)
    }

    /// A short description of the database for banners: `host:port/database` (no user, no
    /// password), the file for SQLite.
    pub fn describe(&self) -> String {
        match &self.sqlite {
            Some(SqliteTarget::Memory) => "SQLite in memory".to_string(),
            Some(SqliteTarget::File(path)) => format!("SQLite file {}", path.display()),
            None => match parse_server_url(&self.canonical) {
                Ok(u) => {
                    let default_port = match self.backend {
                        Backend::Postgres => 5432,
                        _ => 3306,
                    };
                    // libpq reads `host`, `port` and `dbname` from the query too, over the
                    // authority's (the Unix-socket form puts the socket folder there).
                    let query = |name: &str| {
                        (self.backend == Backend::Postgres)
                            .then(|| {
                                u.query_pairs()
                                    .find(|(k, _)| k == name)
                                    .map(|(_, v)| v.into_owned())
                            })
                            .flatten()
                            .filter(|v| !v.is_empty())
                    };
                    let host = query("host")
                        .or_else(|| u.host_str().filter(|h| !h.is_empty()).map(String::from))
                        .unwrap_or_else(|| "localhost".to_string());
                    let port = query("port")
                        .unwrap_or_else(|| u.port().unwrap_or(default_port).to_string());
                    let path = u.path().trim_start_matches('/');
                    let db = query("dbname").unwrap_or_else(|| {
                        percent_encoding::percent_decode_str(path)
                            .decode_utf8_lossy()
                            .into_owned()
                    });
                    let kind = match self.backend {
                        Backend::Postgres => "PostgreSQL",
                        _ => "MySQL",
                    };
                    format!("{kind} {host}:{port}/{db}")
                }
                Err(_) => self.redacted(),
            },
        }
    }
}

fn backend_scheme(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgresql",
        Backend::Mysql => "mysql",
    }
}

/// A server URL as the `url` crate reads it, also in libpq's form with an empty host and
/// credentials (`postgresql://user@/db?host=/socket/folder`), which the WHATWG rules the crate
/// follows refuse: that form is read with `localhost` standing in for the empty host, which
/// [`DatabaseUrl::describe`] then takes from the query.
fn parse_server_url(canonical: &str) -> Result<url::Url, url::ParseError> {
    match url::Url::parse(canonical) {
        Err(url::ParseError::EmptyHost) => {
            let (scheme, rest) = canonical.split_once("://").unwrap_or((canonical, ""));
            let at = rest.rfind('@').map(|i| i + 1).unwrap_or(0);
            if !rest[at..].is_empty() && !rest[at..].starts_with(['/', '?']) {
                return Err(url::ParseError::EmptyHost);
            }
            url::Url::parse(&format!(
                "{scheme}://{}localhost{}",
                &rest[..at],
                &rest[at..]
            ))
        }
        other => other,
    }
}

/// SQLAlchemy's reading of what follows `sqlite://`.
fn sqlite_target(rest: &str) -> Result<SqliteTarget, String> {
    let rest = rest.split('?').next().unwrap_or_default();
    if rest.is_empty() {
        return Ok(SqliteTarget::Memory);
    }
    let Some(path) = rest.strip_prefix('/') else {
        return Err(format!(
            "a SQLite URL has no host (found `{}`): write sqlite:///relative.db or sqlite:////absolute.db",
            rest.split('/').next().unwrap_or_default()
        ));
    };
    if path.is_empty() || path == ":memory:" {
        return Ok(SqliteTarget::Memory);
    }
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| "the file path is not valid UTF-8 once decoded".to_string())?;
    Ok(SqliteTarget::File(PathBuf::from(decoded.as_ref())))
}

/// How banners and messages name the database `url` points at, without user or password:
/// `PostgreSQL db:5432/app`, `SQLite file app.db`; the redacted URL when it does not parse.
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
                let decoded = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
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

/// `text` with the password of every URL in it replaced by `***`: the last guard before a
/// message is printed, whatever produced it.
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

/// Characters escaped in a user name or password put into a URL.
const USERINFO: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The parts of a PostgreSQL connection given as separate variables.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PostgresParts {
    /// Host name; `localhost` when absent.
    pub host: Option<String>,
    /// Port; 5432 when absent.
    pub port: Option<String>,
    /// User name.
    pub user: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Database name; the user name when absent (as the server does).
    pub database: Option<String>,
}

impl PostgresParts {
    /// A `postgresql://` URL from the parts, user and password escaped.
    pub fn to_url(&self) -> String {
        let host = self
            .host
            .as_deref()
            .filter(|h| !h.is_empty())
            .unwrap_or("localhost");
        let port = self
            .port
            .as_deref()
            .filter(|p| !p.is_empty())
            .unwrap_or("5432");
        let user = self
            .user
            .as_deref()
            .filter(|u| !u.is_empty())
            .unwrap_or("postgres");
        let database = self
            .database
            .as_deref()
            .filter(|d| !d.is_empty())
            .unwrap_or(user);
        let auth = match self.password.as_deref() {
            Some(pw) if !pw.is_empty() => format!(
                "{}:{}@",
                utf8_percent_encode(user, USERINFO),
                utf8_percent_encode(pw, USERINFO)
            ),
            _ => format!("{}@", utf8_percent_encode(user, USERINFO)),
        };
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        format!(
            "postgresql://{auth}{host}:{port}/{}",
            utf8_percent_encode(database, USERINFO)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(url: &str) -> Backend {
        DatabaseUrl::parse(url).unwrap().backend()
    }

    #[test]
    fn schemes_select_backends_and_drivers_are_ignored() {
        assert_eq!(backend("sqlite:///x.db"), Backend::Sqlite);
        assert_eq!(backend("sqlite+pysqlite:///x.db"), Backend::Sqlite);
        assert_eq!(backend("postgres://u@h/db"), Backend::Postgres);
        assert_eq!(backend("postgresql://u@h/db"), Backend::Postgres);
        assert_eq!(
            backend("postgresql+psycopg2://u:p@h:5433/db"),
            Backend::Postgres
        );
        assert_eq!(backend("mysql://root@127.0.0.1:3306/test"), Backend::Mysql);
        assert_eq!(backend("mariadb://root@127.0.0.1/test"), Backend::Mysql);
        assert_eq!(backend("mysql+pymysql://root:pw@h/test"), Backend::Mysql);
    }

    #[test]
    fn backend_url_has_canonical_scheme_without_driver() {
        let u = DatabaseUrl::parse("postgresql+psycopg2://u:p@h:5433/db").unwrap();
        assert_eq!(u.as_backend_url(), "postgresql://u:p@h:5433/db");
        let u = DatabaseUrl::parse("postgres://u@h/db").unwrap();
        assert_eq!(u.as_backend_url(), "postgresql://u@h/db");
        let u = DatabaseUrl::parse("mariadb+pymysql://root@h/test").unwrap();
        assert_eq!(u.as_backend_url(), "mysql://root@h/test");
        let u = DatabaseUrl::parse("sqlite+pysqlite:///x.db").unwrap();
        assert_eq!(u.as_backend_url(), "sqlite:///x.db");
    }

    #[test]
    fn sqlite_paths_read_as_sqlalchemy_does() {
        let target = |u: &str| {
            DatabaseUrl::parse(u)
                .unwrap()
                .sqlite_target()
                .cloned()
                .unwrap()
        };
        assert_eq!(
            target("sqlite:///relative.db"),
            SqliteTarget::File("relative.db".into())
        );
        assert_eq!(
            target("sqlite:///dir/rel.db"),
            SqliteTarget::File("dir/rel.db".into())
        );
        assert_eq!(
            target("sqlite:////abs/x.db"),
            SqliteTarget::File("/abs/x.db".into())
        );
        assert_eq!(target("sqlite://"), SqliteTarget::Memory);
        assert_eq!(target("sqlite:///:memory:"), SqliteTarget::Memory);
        assert_eq!(
            target("sqlite:///x.db?mode=ro"),
            SqliteTarget::File("x.db".into())
        );
    }

    #[test]
    fn unknown_scheme_is_one_line_listing_accepted_schemes() {
        let err = DatabaseUrl::parse("oracle://scott:tiger@h/db")
            .unwrap_err()
            .to_string();
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
    }

    #[test]
    fn malformed_urls_are_refused_without_the_password() {
        for bad in [
            "not a url",
            "postgresql://user:s3cret@host:notaport/db",
            "sqlite://host/x.db",
            "mysql://:s3cret@/db",
        ] {
            let err = DatabaseUrl::parse(bad).unwrap_err().to_string();
            assert!(
                err.contains("accepted schemes") || err.contains("expected"),
                "{err}"
            );
            assert!(!err.contains("s3cret"), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

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
        let u = DatabaseUrl::parse("postgresql+psycopg2://u:topsecret@h/db").unwrap();
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
        // Percent-encoded names are recognised; other parameters stay as written.
        assert_eq!(
            redact("postgresql://u@h/db?pass%77ord=x&options=-csearch_path%3Dapp"),
            "postgresql://u@h/db?pass%77ord=***&options=-csearch_path%3Dapp"
        );
        assert_eq!(
            redact("postgresql://u@/db?host=/var/run/postgresql&password=s"),
            "postgresql://u@/db?host=/var/run/postgresql&password=***"
        );
        let u = DatabaseUrl::parse("postgresql://u@h/db?password=topsecret").unwrap();
        assert!(!u.redacted().contains("topsecret"));
        assert!(!format!("{u:?}").contains("topsecret"));
        assert!(!u.describe().contains("topsecret"));
    }

    #[test]
    fn libpq_socket_and_options_forms_are_accepted() {
        let u = DatabaseUrl::parse("postgresql://app@/shop?host=/var/run/postgresql").unwrap();
        assert_eq!(u.backend(), Backend::Postgres);
        assert_eq!(
            u.as_backend_url(),
            "postgresql://app@/shop?host=/var/run/postgresql"
        );
        assert_eq!(u.describe(), "PostgreSQL /var/run/postgresql:5432/shop");
        let u =
            DatabaseUrl::parse("postgresql+psycopg2://app:pw@/shop?host=%2Ftmp&port=5433").unwrap();
        assert_eq!(u.describe(), "PostgreSQL /tmp:5433/shop");
        let u = DatabaseUrl::parse("postgresql:///shop").unwrap();
        assert_eq!(u.describe(), "PostgreSQL localhost:5432/shop");
        let u = DatabaseUrl::parse(
            "postgresql://app@db:5432/shop?options=-csearch_path%3Dtenant_a%2Cpublic",
        )
        .unwrap();
        assert_eq!(
            u.as_backend_url(),
            "postgresql://app@db:5432/shop?options=-csearch_path%3Dtenant_a%2Cpublic"
        );
        assert_eq!(u.describe(), "PostgreSQL db:5432/shop");
        // An empty MySQL host stays refused (the MySQL backend needs one).
        assert!(DatabaseUrl::parse("mysql://root@/test").is_err());
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

    #[test]
    fn describe_names_host_port_and_database_never_the_password() {
        let u = DatabaseUrl::parse("postgresql://app:pw@db.internal/app_test").unwrap();
        assert_eq!(u.describe(), "PostgreSQL db.internal:5432/app_test");
        let u = DatabaseUrl::parse("mysql://root:pw@127.0.0.1:3307/t").unwrap();
        assert_eq!(u.describe(), "MySQL 127.0.0.1:3307/t");
        let u = DatabaseUrl::parse("sqlite:///test.db").unwrap();
        assert_eq!(u.describe(), "SQLite file test.db");
    }

    #[test]
    fn postgres_parts_make_an_escaped_url() {
        let parts = PostgresParts {
            host: Some("db".into()),
            port: Some("5433".into()),
            user: Some("app".into()),
            password: Some("p@ss:w/rd".into()),
            database: Some("main".into()),
        };
        let url = parts.to_url();
        assert_eq!(url, "postgresql://app:p%40ss%3Aw%2Frd@db:5433/main");
        let parsed = DatabaseUrl::parse(&url).unwrap();
        assert_eq!(parsed.redacted(), "postgresql://app:***@db:5433/main");
        let defaults = PostgresParts {
            user: Some("me".into()),
            ..Default::default()
        };
        assert_eq!(defaults.to_url(), "postgresql://me@localhost:5432/me");
    }
}
