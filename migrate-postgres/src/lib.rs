//! The PostgreSQL backend of `migrate`: [`PostgresDialect`] (quoting, version-table SQL,
//! splitting rules) and [`PostgresExecutor`] (a tokio-postgres connection with libpq's
//! `sslmode` policy implemented on rustls, and an advisory migration lock that holds behind
//! PgBouncer in transaction mode too: see [`LockMode`]). The executor reads `pg_catalog` into a
//! [`Snapshot`](migrate_core::Snapshot), [`dump`] prints one as DDL, and [`ScratchDatabase`] is
//! the temporary database `verify` and `drift` run on.

#![warn(missing_docs)]

mod dialect;
mod dump;
mod error;
mod executor;
mod lock;
mod ops;
mod pooling;
mod prepared;
mod scratch;
mod snapshot;
mod tls;
mod url;

pub use dialect::PostgresDialect;
pub use dump::dump;
pub use executor::PostgresExecutor;
pub use lock::{advisory_lock_key, LockMode};
pub use scratch::ScratchDatabase;
pub use url::{ConnectOptions, Host, SslMode};
