//! [`MysqlExecutor`]: the migrator's connection to one MySQL or MariaDB database.

use std::time::Duration;

use async_trait::async_trait;
use migrate_core::{DatabaseError, Dialect, Executor, Snapshot, VersionTable};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use crate::dialect::MysqlDialect;
use crate::url::{parse_mysql_url, MysqlTarget};

/// How long [`MysqlExecutor::connect`] waits for the server to answer.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest name `GET_LOCK` accepts.
const MAX_LOCK_NAME: usize = 64;

/// A MySQL/MariaDB connection driven by the migrator.
///
/// Round trips are what a migration costs beyond the server's own work, so the executor
/// saves two per migration: [`Executor::begin`] sends nothing and `START TRANSACTION` travels
/// with the next statement, and [`Executor::execute_and_commit`] sends the version-table
/// change and `COMMIT` together (the connection allows several statements per packet; the
/// server stops at the first that fails, and the executor tells which one it was).
#[derive(Debug)]
pub struct MysqlExecutor {
    conn: Conn,
    dialect: MysqlDialect,
    /// The `GET_LOCK` name this session holds, if any.
    lock: Option<String>,
    /// `begin` was called and `START TRANSACTION` is still to be sent.
    begin_pending: bool,
}

impl MysqlExecutor {
    /// Connect to the database a `mysql://` or `mariadb://` URL names (see
    /// [`crate::parse_mysql_url`]). Failures (unknown host, closed port, access denied, unknown
    /// database) come back as one line naming the address, never the URL or the password.
    pub async fn connect(url: &str) -> Result<Self, DatabaseError> {
        let target = parse_mysql_url(url)?;
        Self::connect_to(&target).await
    }

    /// Connect to an already parsed target.
    pub async fn connect_to(target: &MysqlTarget) -> Result<Self, DatabaseError> {
        let fail = |reason: String| {
            let mut message = format!(
                "cannot connect to MySQL at {}{}: {reason}",
                target.address(),
                target
                    .user
                    .as_deref()
                    .map(|u| format!(" as {u}"))
                    .unwrap_or_default()
            );
            // No driver or server message should carry it, but never take the chance.
            if let Some(password) = target.password.as_deref().filter(|p| !p.is_empty()) {
                message = message.replace(password, "***");
            }
            DatabaseError::connect(message)
        };
        let conn = tokio::time::timeout(CONNECT_TIMEOUT, Conn::new(target.opts()))
            .await
            .map_err(|_| fail(format!("no answer after {} s", CONNECT_TIMEOUT.as_secs())))?
            .map_err(|e| fail(message(&e)))?;
        Ok(Self::from_conn(conn))
    }

    /// Drive an existing connection (for a program that migrates its own database).
    pub fn from_conn(conn: Conn) -> Self {
        MysqlExecutor {
            conn,
            dialect: MysqlDialect,
            lock: None,
            begin_pending: false,
        }
    }

    /// The underlying connection, for queries of your own.
    pub fn conn_mut(&mut self) -> &mut Conn {
        &mut self.conn
    }

    /// Give the connection back. A migration lock still held stays held until the
    /// connection closes.
    pub fn into_conn(self) -> Conn {
        self.conn
    }

    /// Send `statements` in one packet and read every result. On failure, the index of the
    /// statement that failed: the server runs none after it.
    ///
    /// The results are read in order. Moving past one statement's result reads the next
    /// one's; when that is an error, the driver keeps it for the next read instead of
    /// returning it, so the loop stops at the last result and `drop_result` (which reads
    /// everything left) returns it. Only statements that return one result each may precede
    /// the last (a `CALL` returns several).
    async fn batch(&mut self, statements: &[&str]) -> Result<(), (usize, mysql_async::Error)> {
        let sql = statements.join(";\n");
        let last = statements.len() - 1;
        let mut result = self.conn.query_iter(sql).await.map_err(|e| (0, e))?;
        let mut read = 0;
        loop {
            result
                .for_each(|_| ())
                .await
                .map_err(|e| ((read + 1).min(last), e))?;
            if result.is_empty() {
                break;
            }
            read += 1;
        }
        result
            .drop_result()
            .await
            .map_err(|e| ((read + 1).min(last), e))
    }

    /// The `GET_LOCK` name of a version table: one per database and table, server-wide.
    async fn lock_name(&mut self, table: &VersionTable) -> Result<String, DatabaseError> {
        let database = match &table.schema {
            Some(schema) => schema.clone(),
            None => self
                .conn
                .query_first::<Option<String>, _>("SELECT DATABASE()")
                .await
                .map_err(other)?
                .flatten()
                .unwrap_or_default(),
        };
        Ok(lock_name(&database, &table.name))
    }
}

/// `migrate:<database>.<table>`, or, past [`MAX_LOCK_NAME`] characters, its start followed
/// by a stable hash of the whole name (the same in every build, so that every `migrate`
/// binary contends for the same lock).
fn lock_name(database: &str, table: &str) -> String {
    let full = format!("migrate:{database}.{table}");
    if full.chars().count() <= MAX_LOCK_NAME {
        return full;
    }
    // FNV-1a, 64 bits.
    let hash = full.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let head: String = full.chars().take(MAX_LOCK_NAME - 17).collect();
    format!("{head}:{hash:016x}")
}

/// The server's or driver's message for `e`, on one line: server errors read
/// `ERROR 1064 (42000): You have an error in your SQL syntax; ...`.
fn message(e: &mysql_async::Error) -> String {
    let text = match e {
        mysql_async::Error::Server(server) => server.to_string(),
        mysql_async::Error::Io(mysql_async::IoError::Io(io)) => io.to_string(),
        mysql_async::Error::Driver(driver) => driver.to_string(),
        other => other.to_string(),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn statement(e: mysql_async::Error) -> DatabaseError {
    DatabaseError::statement(message(&e))
}

fn other(e: mysql_async::Error) -> DatabaseError {
    DatabaseError::other(message(&e))
}

fn begin_failed(e: mysql_async::Error) -> DatabaseError {
    DatabaseError::other(format!("START TRANSACTION failed: {}", message(&e)))
}

#[async_trait]
impl Executor for MysqlExecutor {
    fn dialect(&self) -> &dyn Dialect {
        &self.dialect
    }

    /// Runs `sql`, preceded in the same packet by `START TRANSACTION` when [`Executor::begin`]
    /// was called since the last statement.
    async fn execute(&mut self, sql: &str) -> Result<(), DatabaseError> {
        if !std::mem::take(&mut self.begin_pending) {
            return self.conn.query_drop(sql).await.map_err(statement);
        }
        self.batch(&["START TRANSACTION", sql])
            .await
            .map_err(|(index, e)| match index {
                0 => begin_failed(e),
                _ => statement(e),
            })
    }

    /// Opens a transaction with the next statement (`START TRANSACTION` is sent with it).
    /// DDL inside it still commits implicitly (MySQL has no transactional DDL).
    async fn begin(&mut self) -> Result<(), DatabaseError> {
        self.begin_pending = true;
        Ok(())
    }

    async fn commit(&mut self) -> Result<(), DatabaseError> {
        if std::mem::take(&mut self.begin_pending) {
            return Ok(()); // no statement ran: no transaction was opened
        }
        self.conn.query_drop("COMMIT").await.map_err(other)
    }

    async fn rollback(&mut self) -> Result<(), DatabaseError> {
        if std::mem::take(&mut self.begin_pending) {
            return Ok(());
        }
        self.conn.query_drop("ROLLBACK").await.map_err(other)
    }

    /// One packet: (`START TRANSACTION`,) `sql`, `COMMIT`.
    async fn execute_and_commit(&mut self, sql: &str) -> Result<(), DatabaseError> {
        let begin = std::mem::take(&mut self.begin_pending);
        let statements: &[&str] = if begin {
            &["START TRANSACTION", sql, "COMMIT"]
        } else {
            &[sql, "COMMIT"]
        };
        let sql_at = usize::from(begin);
        self.batch(statements).await.map_err(|(index, e)| {
            if index < sql_at {
                begin_failed(e)
            } else if index == sql_at {
                statement(e)
            } else {
                DatabaseError::other(format!("COMMIT failed: {}", message(&e)))
            }
        })
    }

    /// Looks the table up in `information_schema` (in the table's schema, else the
    /// connection's database), then reads its rows.
    async fn read_versions(
        &mut self,
        table: &VersionTable,
    ) -> Result<Option<Vec<String>>, DatabaseError> {
        let found: Option<u64> = self
            .conn
            .exec_first(
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ?",
                (table.schema.as_deref(), table.name.as_str()),
            )
            .await
            .map_err(other)?;
        if found.unwrap_or(0) == 0 {
            return Ok(None);
        }
        let sql = format!(
            "SELECT version_num FROM {}",
            self.dialect.version_table_name(table)
        );
        let rows = self.conn.query::<String, _>(sql).await.map_err(other)?;
        Ok(Some(rows))
    }

    /// `GET_LOCK` on a name derived from the database and the version table. The lock
    /// belongs to the session, not to a transaction, so it survives the implicit commits of
    /// DDL and is released by [`Executor::unlock`] or when the connection closes.
    async fn lock(&mut self, table: &VersionTable, wait: Duration) -> Result<(), DatabaseError> {
        if self.lock.is_some() {
            return Ok(());
        }
        let name = self.lock_name(table).await?;
        // GET_LOCK counts whole seconds; round up so that we never wait less than asked.
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let got: Option<Option<i64>> = self
            .conn
            .exec_first("SELECT GET_LOCK(?, ?)", (name.as_str(), seconds))
            .await
            .map_err(other)?;
        match got.flatten() {
            Some(1) => {
                self.lock = Some(name);
                Ok(())
            }
            Some(_) => {
                let holder: Option<Option<u64>> = self
                    .conn
                    .exec_first("SELECT IS_USED_LOCK(?)", (name.as_str(),))
                    .await
                    .map_err(other)?;
                let holder = holder
                    .flatten()
                    .map(|id| format!(" (held by connection {id})"))
                    .unwrap_or_default();
                Err(DatabaseError::lock_timeout(format!(
                    "another migration is running on this database: the lock `{name}`{holder} \
                     was not free after {seconds} s; wait for it to finish and retry (the \
                     server releases the lock when its connection ends)"
                )))
            }
            None => Err(DatabaseError::other(format!(
                "the server could not take the lock `{name}` (GET_LOCK returned NULL)"
            ))),
        }
    }

    async fn unlock(&mut self, _table: &VersionTable) -> Result<(), DatabaseError> {
        if let Some(name) = self.lock.take() {
            self.conn
                .exec_drop("SELECT RELEASE_LOCK(?)", (name.as_str(),))
                .await
                .map_err(other)?;
        }
        Ok(())
    }

    /// Reads `information_schema` for the connection's database (see the `snapshot` module).
    async fn snapshot(&mut self, table: &VersionTable) -> Result<Snapshot, DatabaseError> {
        crate::snapshot::read_snapshot(&mut self.conn, table).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_names_fit_get_lock() {
        assert_eq!(
            lock_name("test", "alembic_version"),
            "migrate:test.alembic_version"
        );
        let long = lock_name(&"d".repeat(64), &"t".repeat(64));
        assert_eq!(long.chars().count(), MAX_LOCK_NAME);
        assert_ne!(long, lock_name(&"d".repeat(64), &"u".repeat(64)));
        assert_eq!(long, lock_name(&"d".repeat(64), &"t".repeat(64)));
    }
}
