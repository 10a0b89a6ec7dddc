//! The PostgreSQL backend of `migrate`: a [`Dialect`](migrate_core::Dialect) and an
//! [`Executor`](migrate_core::Executor) over tokio-postgres, with TLS through rustls.
//!
//! [`PostgresDialect`] only produces SQL text and facts (quoting, splitting rules, the version
//! table's statements, optionally in a schema); [`PostgresExecutor`] only talks to the server:
//! it runs statements, opens and closes transactions, reads the version table and holds the
//! migration lock (a session-level advisory lock, so it survives commits). URLs follow libpq:
//! `sslmode=disable|allow|prefer|require|verify-ca|verify-full` and `sslrootcert=PATH`.
//!
//! ```no_run
//! use migrate_core::{Executor, VersionTable};
//! use migrate_postgres::PostgresExecutor;
//!
//! # async fn example() -> Result<(), migrate_core::DatabaseError> {
//! let mut exec = PostgresExecutor::connect("postgresql://app:secret@db:5432/app?sslmode=require").await?;
//! let heads = exec.read_versions(&VersionTable::default()).await?;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod dialect;
mod executor;
mod tls;
mod url;

pub use dialect::PostgresDialect;
pub use executor::PostgresExecutor;
pub use url::{parse_postgres_url, PostgresTarget, SslMode};
