//! The only place that names the backends: a URL in, an executor or a dialect out.

use migrate_core::{Dialect, Executor};
use migrate_mysql::{MysqlDialect, MysqlExecutor};
use migrate_postgres::{PostgresDialect, PostgresExecutor};
use migrate_sqlite::{SqliteDialect, SqliteExecutor};

use crate::error::CliError;
use crate::url::{Backend, DatabaseUrl, SqliteTarget};

/// Connects to the database `url` names.
pub async fn connect(url: &DatabaseUrl) -> Result<Box<dyn Executor>, CliError> {
    Ok(match url.backend() {
        Backend::Sqlite => match url.sqlite_target() {
            Some(SqliteTarget::File(path)) => Box::new(SqliteExecutor::open(path)?),
            _ => Box::new(SqliteExecutor::in_memory()?),
        },
        Backend::Postgres => Box::new(PostgresExecutor::connect(url.as_backend_url()).await?),
        Backend::Mysql => Box::new(MysqlExecutor::connect(url.as_backend_url()).await?),
    })
}

/// The SQL flavour of `backend`, for offline scripts.
pub fn dialect(backend: Backend) -> Result<Box<dyn Dialect>, CliError> {
    Ok(match backend {
        Backend::Sqlite => Box::new(SqliteDialect),
        Backend::Postgres => Box::new(PostgresDialect),
        Backend::Mysql => Box::new(MysqlDialect),
    })
}
