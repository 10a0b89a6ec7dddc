//! Reading SQLAlchemy-style `sqlite://` URLs.

use std::path::PathBuf;

use migrate_core::DatabaseError;

/// Where a SQLite URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteLocation {
    /// A private in-memory database (`sqlite://`, `sqlite:///`, `sqlite:///:memory:`).
    Memory,
    /// A database file, relative to the working directory unless absolute.
    File(PathBuf),
}

/// Parse `sqlite[+driver]://[/path][?query]` as SQLAlchemy does: `sqlite:///app.db` is the
/// relative file `app.db`, `sqlite:////srv/app.db` the absolute `/srv/app.db`, and the path is
/// percent-decoded. Query parameters (`?check_same_thread=False`, ...) are options of Python
/// drivers and are ignored.
pub fn parse_sqlite_url(url: &str) -> Result<SqliteLocation, DatabaseError> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        DatabaseError::connect(
            "not a SQLite URL: expected sqlite:///relative.db, sqlite:////absolute.db or sqlite://",
        )
    })?;
    let backend = scheme.split('+').next().unwrap_or(scheme);
    if !backend.eq_ignore_ascii_case("sqlite") {
        return Err(DatabaseError::connect(format!(
            "not a SQLite URL (scheme `{scheme}`): expected sqlite:///relative.db, \
             sqlite:////absolute.db or sqlite://"
        )));
    }
    let rest = rest.split_once('?').map_or(rest, |(path, _query)| path);
    if rest.is_empty() {
        return Ok(SqliteLocation::Memory);
    }
    let Some(path) = rest.strip_prefix('/') else {
        return Err(DatabaseError::connect(
            "a SQLite URL names no host: write sqlite:///relative.db (three slashes) or \
             sqlite:////absolute.db (four)",
        ));
    };
    let path = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| DatabaseError::connect("the SQLite URL's path is not valid UTF-8"))?;
    if path.is_empty() || path == ":memory:" {
        return Ok(SqliteLocation::Memory);
    }
    Ok(SqliteLocation::File(PathBuf::from(path.into_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> SqliteLocation {
        SqliteLocation::File(PathBuf::from(path))
    }

    // The expected paths are SQLAlchemy's `make_url(u).database` for each URL.
    #[test]
    fn reads_the_forms_sqlalchemy_accepts() {
        assert_eq!(parse_sqlite_url("sqlite:///app.db"), Ok(file("app.db")));
        assert_eq!(parse_sqlite_url("sqlite:///./app.db"), Ok(file("./app.db")));
        assert_eq!(
            parse_sqlite_url("sqlite:////abs/x.db"),
            Ok(file("/abs/x.db"))
        );
        assert_eq!(
            parse_sqlite_url("sqlite+pysqlite:///x.db"),
            Ok(file("x.db"))
        );
        assert_eq!(parse_sqlite_url("sqlite:///a%20b.db"), Ok(file("a b.db")));
        assert_eq!(
            parse_sqlite_url("sqlite:///app.db?check_same_thread=False"),
            Ok(file("app.db"))
        );
        assert_eq!(parse_sqlite_url("sqlite://"), Ok(SqliteLocation::Memory));
        assert_eq!(parse_sqlite_url("sqlite:///"), Ok(SqliteLocation::Memory));
        assert_eq!(
            parse_sqlite_url("sqlite:///:memory:"),
            Ok(SqliteLocation::Memory)
        );
    }

    #[test]
    fn refuses_other_schemes_and_hosts() {
        let err = parse_sqlite_url("postgres://localhost/x").unwrap_err();
        assert!(err.message.contains("not a SQLite URL"), "{err}");
        let err = parse_sqlite_url("sqlite://localhost/x.db").unwrap_err();
        assert!(err.message.contains("three slashes"), "{err}");
        assert!(parse_sqlite_url("app.db").is_err());
    }
}
