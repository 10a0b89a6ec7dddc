//! The MySQL and MariaDB backend of `migrate`: a [`Dialect`](migrate_core::Dialect) and an
//! [`Executor`](migrate_core::Executor) over [mysql_async].
//!
//! [`MysqlDialect`] only produces SQL text and facts (backtick quoting, splitting rules, the
//! version table's statements); [`MysqlExecutor`] only talks to the server: it runs
//! statements, opens and closes transactions, reads the version table and holds the
//! migration lock (`GET_LOCK`, per session, so it survives DDL's implicit commits; on a
//! Galera cluster a lock row every node sees, see [`LockMode`]). MySQL
//! has no transactional DDL; what that means for a failed run is the migrator's business, in
//! `migrate-core`. The executor reads `information_schema` into a
//! [`Snapshot`](migrate_core::Snapshot), [`dump`] prints one as DDL, and [`ScratchDatabase`]
//! is the temporary database `verify` and `drift` run on.
//!
//! ```no_run
//! use migrate_core::{Executor, VersionTable};
//! use migrate_mysql::MysqlExecutor;
//!
//! # async fn example() -> Result<(), migrate_core::DatabaseError> {
//! let mut exec = MysqlExecutor::connect("mysql://app:secret@127.0.0.1:3306/app").await?;
//! let heads = exec.read_versions(&VersionTable::default()).await?;
//! # Ok(())
//! # }
//! ```

mod dialect;
mod dump;
mod executor;
mod lock;
mod ops;
mod scratch;
mod snapshot;
mod tls;
mod url;

pub use dialect::MysqlDialect;
pub use dump::dump;
pub use executor::{MysqlExecutor, CONNECT_TIMEOUT};
pub use lock::LockMode;
pub use scratch::ScratchDatabase;
pub use tls::{SslMode, TlsSettings};
pub use url::{parse_mysql_url, MysqlTarget, DEFAULT_PORT};
