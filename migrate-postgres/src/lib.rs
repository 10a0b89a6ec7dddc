//! The PostgreSQL backend of `migrate`: [`PostgresDialect`] (quoting, version-table SQL,
//! splitting rules) and [`PostgresExecutor`] (a tokio-postgres connection with libpq's
//! `sslmode` policy implemented on rustls, and an advisory migration lock).

#![warn(missing_docs)]

mod dialect;
mod error;
mod executor;
mod lock;
mod ops;
mod tls;
mod url;

pub use dialect::PostgresDialect;
pub use executor::PostgresExecutor;
pub use lock::advisory_lock_key;
pub use url::{ConnectOptions, Host, SslMode};
