//! The connection to one database, as the [`crate::Migrator`] drives it.
//!
//! An executor only talks to its database: it runs statements, opens and closes
//! transactions, reads the version table and holds the migration lock. Everything else
//! (planning, version bookkeeping, error reports) lives once, in the migrator.

use std::time::Duration;

use async_trait::async_trait;

use crate::dialect::{Dialect, VersionTable};
use crate::snapshot::Snapshot;

/// An error reported by a database or its driver, already free of any password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{message}")]
pub struct DatabaseError {
    /// The server's or driver's message, one line where possible.
    pub message: String,
    /// What kind of failure this is.
    pub kind: DatabaseErrorKind,
    /// The SQLSTATE the server gave (`42P07`, `23000`, ...), when it gave one.
    pub sqlstate: Option<String>,
}

/// The kind of a [`DatabaseError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DatabaseErrorKind {
    /// The database could not be reached or refused the login.
    Connect,
    /// The migration lock could not be had in time.
    LockTimeout,
    /// A statement failed.
    Statement,
    /// A statement gave up waiting for a lock another session holds (the DDL lock timeout:
    /// PostgreSQL `lock_timeout`, MySQL `lock_wait_timeout`, SQLite's busy timeout).
    LockWait,
    /// The connection was lost while the run went on.
    ConnectionLost,
    /// The run was interrupted (Ctrl-C, [`crate::interrupt::Interrupt`]) before this action.
    Interrupted,
    /// Anything else.
    Other,
}

impl DatabaseError {
    /// A [`DatabaseErrorKind::Statement`] error.
    pub fn statement(message: impl Into<String>) -> Self {
        DatabaseError {
            message: message.into(),
            kind: DatabaseErrorKind::Statement,
            sqlstate: None,
        }
    }

    /// A [`DatabaseErrorKind::Connect`] error.
    pub fn connect(message: impl Into<String>) -> Self {
        DatabaseError {
            message: message.into(),
            kind: DatabaseErrorKind::Connect,
            sqlstate: None,
        }
    }

    /// A [`DatabaseErrorKind::LockTimeout`] error.
    pub fn lock_timeout(message: impl Into<String>) -> Self {
        DatabaseError {
            message: message.into(),
            kind: DatabaseErrorKind::LockTimeout,
            sqlstate: None,
        }
    }

    /// A [`DatabaseErrorKind::LockWait`] error.
    pub fn lock_wait(message: impl Into<String>) -> Self {
        DatabaseError {
            message: message.into(),
            kind: DatabaseErrorKind::LockWait,
            sqlstate: None,
        }
    }

    /// A [`DatabaseErrorKind::Interrupted`] error.
    pub fn interrupted(message: impl Into<String>) -> Self {
        DatabaseError {
            message: message.into(),
            kind: DatabaseErrorKind::Interrupted,
            sqlstate: None,
        }
    }

    /// A [`DatabaseErrorKind::ConnectionLost`] error.
    pub fn connection_lost(message: impl Into<String>) -> Self {
        DatabaseError {
            message: message.into(),
            kind: DatabaseErrorKind::ConnectionLost,
            sqlstate: None,
        }
    }

    /// The same error with the server's SQLSTATE.
    pub fn with_sqlstate(mut self, sqlstate: impl Into<String>) -> Self {
        self.sqlstate = Some(sqlstate.into());
        self
    }

    /// A [`DatabaseErrorKind::Other`] error.
    pub fn other(message: impl Into<String>) -> Self {
        DatabaseError {
            message: message.into(),
            kind: DatabaseErrorKind::Other,
            sqlstate: None,
        }
    }
}

/// What a database says about itself before a run changes it (see [`Executor::preflight`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preflight {
    /// Why the server refuses writes (a standby in recovery, `read_only`, a read-only file),
    /// when it does.
    pub read_only: Option<String>,
    /// The version table's `version_num` column, when the table exists; `Some(None)` when the
    /// table exists without such a column.
    pub version_column: Option<Option<VersionColumn>>,
}

/// The version table's `version_num` column as the catalog describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionColumn {
    /// Its declared type, e.g. `character varying` or `VARCHAR(32)`.
    pub data_type: String,
    /// The longest value it holds, when the type says (`VARCHAR(32)`: 32).
    pub max_length: Option<usize>,
}

/// A live connection to one database, driven by the migrator.
#[async_trait]
pub trait Executor: Send {
    /// The SQL flavour of this connection.
    fn dialect(&self) -> &dyn Dialect;

    /// Run one statement (no result rows are read).
    async fn execute(&mut self, sql: &str) -> Result<(), DatabaseError>;

    /// Open a transaction.
    async fn begin(&mut self) -> Result<(), DatabaseError>;

    /// Commit the open transaction.
    async fn commit(&mut self) -> Result<(), DatabaseError>;

    /// Roll back the open transaction.
    async fn rollback(&mut self) -> Result<(), DatabaseError>;

    /// Run `statements` in order (the bookkeeping that ends a transaction: the version-table
    /// change, the history rows) and commit the open transaction, stopping at the first that
    /// fails. A backend where each round trip to the server counts sends them all at once;
    /// the default runs [`Executor::execute`] for each, then [`Executor::commit`].
    async fn execute_and_commit(&mut self, statements: &[&str]) -> Result<(), DatabaseError> {
        for sql in statements {
            self.execute(sql).await?;
        }
        self.commit().await
    }

    /// [`Executor::execute_and_commit`] telling what failed: the error carries the index of
    /// the statement (`statements.len()` for the COMMIT), and `done(i)` is called as statement
    /// `i` completes, in order. The default runs [`Executor::execute`] for each but the last,
    /// then [`Executor::execute_and_commit`] with the last (a failure there counts as the last
    /// statement's).
    async fn execute_and_commit_each(
        &mut self,
        statements: &[&str],
        done: &mut (dyn FnMut(usize) + Send),
    ) -> Result<(), (usize, DatabaseError)> {
        let Some((last, before)) = statements.split_last() else {
            return self.commit().await.map_err(|e| (0, e));
        };
        for (i, sql) in before.iter().enumerate() {
            self.execute(sql).await.map_err(|e| (i, e))?;
            done(i);
        }
        self.execute_and_commit(&[last])
            .await
            .map_err(|e| (before.len(), e))?;
        done(before.len());
        Ok(())
    }

    /// The rows of the version table, or `None` when the table does not exist.
    async fn read_versions(
        &mut self,
        table: &VersionTable,
    ) -> Result<Option<Vec<String>>, DatabaseError>;

    /// Take the migration lock, waiting at most `wait`; fail with
    /// [`DatabaseErrorKind::LockTimeout`] when it cannot be had. Held until [`Executor::unlock`].
    async fn lock(&mut self, table: &VersionTable, wait: Duration) -> Result<(), DatabaseError>;

    /// Release the migration lock.
    async fn unlock(&mut self, table: &VersionTable) -> Result<(), DatabaseError>;

    /// A handle that stops the statement this executor is running, from another task or
    /// thread (Ctrl-C), or `None` when the backend cannot (the default).
    fn canceller(&self) -> Option<Box<dyn Canceller>> {
        None
    }

    /// Who holds the migration lock of `table` when this executor could not take it, in words
    /// for people (a server process or connection, its user, client address and since when),
    /// or `None` when the database cannot tell (the default) or nobody holds it now.
    async fn lock_holder(&mut self, table: &VersionTable) -> Result<Option<String>, DatabaseError> {
        let _ = table;
        Ok(None)
    }

    /// Run one query and return its rows, every value as text (`None` for NULL). What the
    /// core reads beyond the version table (the history) goes through this.
    async fn query_text(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DatabaseError>;

    /// Whether the database accepts writes and what the version table's column looks like,
    /// read before a run changes anything (one round trip where the backend can). The default
    /// knows nothing, and the run then relies on the database's own errors.
    async fn preflight(&mut self, table: &VersionTable) -> Result<Preflight, DatabaseError> {
        let _ = table;
        Ok(Preflight::default())
    }

    /// Read the database's catalog into a [`Snapshot`] (tables, columns, keys, constraints,
    /// indexes, views, routines, triggers...), leaving out the version table `table` and its
    /// history table `<table>_history`. Changes nothing. The default refuses: a backend that
    /// can read its catalog overrides it.
    async fn snapshot(&mut self, table: &VersionTable) -> Result<Snapshot, DatabaseError> {
        let _ = table;
        Err(DatabaseError::other(format!(
            "the {} backend cannot read its catalog, which verify, dump and drift need",
            self.dialect().name()
        )))
    }
}

/// Stops the statement an executor's connection is running, from outside it: PostgreSQL's
/// cancel request, MySQL's `KILL QUERY`, SQLite's interrupt. The statement then fails on its
/// connection as any failed statement does, and the run rolls back what it can. Nothing
/// happens when no statement is running.
#[async_trait]
pub trait Canceller: Send + Sync {
    /// Ask the database to stop the running statement.
    async fn cancel(&self) -> Result<(), DatabaseError>;
}
