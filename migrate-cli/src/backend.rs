//! The only place that names the backends: a URL in, an executor or a dialect out.
//!
//! The URL is parsed once ([`DatabaseUrl`]); each backend turns it into its own connection
//! options (query options, TLS modes) in its `connect_url`.

use migrate_core::{Dialect, Executor};
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
