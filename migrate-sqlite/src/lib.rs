//! The SQLite backend of `migrate`: a [`Dialect`](migrate_core::Dialect) and an
//! [`Executor`](migrate_core::Executor) over [rusqlite] with a bundled SQLite.
//!
//! [`SqliteDialect`] only produces SQL text and facts (quoting, splitting rules, version-table
//! statements); [`SqliteExecutor`] only talks to the database: it runs statements, opens and
//! closes transactions, reads the version table and holds the migration lock (an OS lock on
//! `<database file>.migrate-lock`, so that concurrent `migrate upgrade` processes apply each
//! migration once). The migration loop itself lives in `migrate-core`. The executor also reads
//! the catalog into a [`Snapshot`](migrate_core::Snapshot) ([`dump`] prints it as SQLite's own
//! statements), and [`SqliteExecutor::copy_of`] opens an in-memory copy of a database file for
//! `verify --from`.
//!
//! ```
//! use migrate_core::{Executor, VersionTable};
//! use migrate_sqlite::SqliteExecutor;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let mut exec = SqliteExecutor::from_url("sqlite://")?; // in memory
//! assert_eq!(exec.read_versions(&VersionTable::default()).await?, None);
//! # Ok::<(), migrate_core::DatabaseError>(())
//! # }).unwrap();
//! ```

mod dialect;
mod dump;
mod executor;
mod lock;
mod ops;
mod scratch;
mod snapshot;

pub use dialect::SqliteDialect;
pub use dump::dump;
pub use executor::{SqliteExecutor, BUSY_TIMEOUT};
