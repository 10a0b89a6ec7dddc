//! A library connection (an [`Executor`]) to a test's database, as an application holding
//! `migrate`'s executors would open it.

use migrate_core::Executor;
use migrate_mysql::MysqlExecutor;
use migrate_postgres::PostgresExecutor;
use migrate_sqlite::SqliteExecutor;

use super::{Backend, TestDb};

/// A new connection to `db` through its backend's executor.
pub async fn connect(db: &TestDb) -> Box<dyn Executor> {
    match db.backend {
        Backend::Sqlite => Box::new(
            SqliteExecutor::open(db.sqlite_path().expect("a SQLite file")).expect("SQLite opens"),
        ),
        Backend::Postgres => Box::new(
            PostgresExecutor::connect(&db.url)
                .await
                .expect("PostgreSQL connects"),
        ),
        Backend::Mysql => Box::new(
            MysqlExecutor::connect(&db.url)
                .await
                .expect("MariaDB connects"),
        ),
    }
}

/// A tokio runtime for a synchronous test that drives executors.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}
