//! The only place that names the backends: a URL in, an executor or a dialect out.
//!
//! Each backend reads its own URL forms (query options, TLS modes); the CLI hands it the URL
//! with the scheme made canonical and the `+driver` part removed.

use migrate_core::{Dialect, Executor};
use migrate_mysql::{MysqlDialect, MysqlExecutor};
use migrate_postgres::{PostgresDialect, PostgresExecutor};
use migrate_sqlite::{SqliteDialect, SqliteExecutor};

use crate::error::CliError;
use crate::url::{Backend, DatabaseUrl};

/// Connects to the database `url` names.
pub async fn connect(url: &DatabaseUrl) -> Result<Box<dyn Executor>, CliError> {
    let raw = url.as_backend_url();
    Ok(match url.backend() {
        Backend::Sqlite => Box::new(SqliteExecutor::from_url(raw)?),
        Backend::Postgres => Box::new(PostgresExecutor::connect(raw).await?),
        Backend::Mysql => Box::new(MysqlExecutor::connect(raw).await?),
    })
}

/// The SQL flavour of `backend`, for offline scripts.
pub fn dialect(backend: Backend) -> Box<dyn Dialect> {
    match backend {
        Backend::Sqlite => Box::new(SqliteDialect),
        Backend::Postgres => Box::new(PostgresDialect),
        Backend::Mysql => Box::new(MysqlDialect),
    }
}
