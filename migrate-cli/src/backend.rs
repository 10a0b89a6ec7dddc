//! The only place that names the backends: a URL in, an executor, a dialect, a scratch
//! database or a schema dump out.
//!
//! The URL is parsed once ([`DatabaseUrl`]); each backend turns it into its own connection
//! options (query options, TLS modes) in its `connect_url`.

use std::path::Path;

use migrate_core::{Dialect, Executor, Snapshot, VersionTable};
use migrate_mysql::{MysqlDialect, MysqlExecutor};
use migrate_postgres::{PostgresDialect, PostgresExecutor};
use migrate_sqlite::{SqliteDialect, SqliteExecutor};

use crate::error::CliError;
use crate::url::{Backend, DatabaseUrl};

/// Connects to the database `url` names.
pub async fn connect(url: &DatabaseUrl) -> Result<Box<dyn Executor>, CliError> {
    Ok(match url.backend() {
        Backend::Sqlite => Box::new(SqliteExecutor::open_url(url)?),
        Backend::Postgres => Box::new(PostgresExecutor::connect_url(url).await?),
        Backend::Mysql => Box::new(MysqlExecutor::connect_url(url).await?),
        other => return Err(no_backend(other)),
    })
}

/// The SQL flavour of `backend`, for offline scripts and lint.
pub fn dialect(backend: Backend) -> Result<Box<dyn Dialect>, CliError> {
    Ok(match backend {
        Backend::Sqlite => Box::new(SqliteDialect),
        Backend::Postgres => Box::new(PostgresDialect),
        Backend::Mysql => Box::new(MysqlDialect),
        other => return Err(no_backend(other)),
    })
}

/// A scheme the URL type knows and this binary has no backend for.
fn no_backend(backend: Backend) -> CliError {
    CliError::config(format!(
        "this build of migrate has no {} backend",
        backend.name()
    ))
}

/// A database `verify` and `drift` may change freely: in memory, a temporary database created
/// on the configured server, or one the user named. [`Scratch::discard`] drops a temporary one.
pub struct Scratch {
    /// The connection to it.
    pub exec: Box<dyn Executor>,
    /// What it is, for messages (never a password).
    pub description: String,
    temporary: Option<Temporary>,
}

/// A temporary server database to drop.
enum Temporary {
    Postgres(Box<migrate_postgres::ScratchDatabase>),
    Mysql(migrate_mysql::ScratchDatabase),
}

/// Where a scratch database comes from.
pub enum ScratchSource<'a> {
    /// A new, empty one beside the database `url` names: SQLite in memory, or a temporary
    /// database on the same PostgreSQL or MySQL server.
    Beside(&'a DatabaseUrl),
    /// An in-memory copy of a SQLite file; its rows are kept with `keep_data`.
    CopyOf {
        /// The file.
        path: &'a Path,
        /// Keep the rows of every table.
        keep_data: bool,
    },
    /// The database `url` names, used as found.
    Given(&'a DatabaseUrl),
}

/// Opens a scratch database; `table` is the version table (a `--from` copy keeps its rows).
pub async fn scratch(source: ScratchSource<'_>, table: &VersionTable) -> Result<Scratch, CliError> {
    let (exec, description, temporary): (Box<dyn Executor>, String, Option<Temporary>) =
        match source {
            ScratchSource::Given(url) => (connect(url).await?, url.describe(), None),
            ScratchSource::CopyOf { path, keep_data } => (
                Box::new(SqliteExecutor::copy_of(path, keep_data, table)?),
                format!("an in-memory copy of {}", path.display()),
                None,
            ),
            ScratchSource::Beside(url) => match url.backend() {
                Backend::Sqlite => (
                    Box::new(SqliteExecutor::in_memory()?),
                    "SQLite in memory".to_string(),
                    None,
                ),
                Backend::Postgres => {
                    let (db, exec) =
                        migrate_postgres::ScratchDatabase::create(url.as_backend_url()).await?;
                    let description = format!("temporary PostgreSQL database {}", db.name());
                    (
                        Box::new(exec),
                        description,
                        Some(Temporary::Postgres(Box::new(db))),
                    )
                }
                Backend::Mysql => {
                    let (db, exec) =
                        migrate_mysql::ScratchDatabase::create(url.as_backend_url()).await?;
                    let description = format!("temporary MySQL database {}", db.name());
                    (Box::new(exec), description, Some(Temporary::Mysql(db)))
                }
                other => return Err(no_backend(other)),
            },
        };
    Ok(Scratch {
        exec,
        description,
        temporary,
    })
}

impl Scratch {
    /// Closes the connection and drops the database when it was created for this run.
    pub async fn discard(self) -> Result<(), CliError> {
        drop(self.exec);
        match self.temporary {
            Some(Temporary::Postgres(db)) => db.drop_database().await?,
            Some(Temporary::Mysql(db)) => db.drop_database().await?,
            None => {}
        }
        Ok(())
    }
}

/// The schema dump of `snapshot` in `backend`'s own DDL, with the version table `table` and
/// its `rows` (when it exists).
pub fn dump(
    backend: Backend,
    snapshot: &Snapshot,
    table: &VersionTable,
    rows: Option<&[String]>,
) -> Result<String, CliError> {
    Ok(match backend {
        Backend::Sqlite => migrate_sqlite::dump(snapshot, table, rows),
        Backend::Postgres => migrate_postgres::dump(snapshot, table, rows),
        Backend::Mysql => migrate_mysql::dump(snapshot, table, rows),
        other => return Err(no_backend(other)),
    })
}
