//! [`MysqlExecutor`]: the migrator's connection to one MySQL or MariaDB database.

use std::time::Duration;

use async_trait::async_trait;
use migrate_core::held_locks::HeldLocks;
use migrate_core::url::{hide, DatabaseUrl};
use migrate_core::{
    Canceller, DatabaseError, Dialect, Executor, Preflight, Snapshot, VersionColumn, VersionTable,
};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use crate::dialect::MysqlDialect;
use crate::lock::{lock_name, LockMode, RowLock, DEFAULT_LEASE};
use crate::tls::SslMode;
use crate::url::{parse_mysql_url, MysqlTarget};

/// How long [`MysqlExecutor::connect`] waits for the server to answer.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// A MySQL/MariaDB connection driven by the migrator.
///
/// Round trips are what a migration costs beyond the server's own work, so the executor
/// saves two per migration: [`Executor::begin`] sends nothing and `START TRANSACTION` travels
/// with the next statement, and [`Executor::execute_and_commit`] sends the version-table
/// change and `COMMIT` together (the connection allows several statements per packet; the
/// server stops at the first that fails, and the executor tells which one it was).
///
/// The migration lock is `GET_LOCK` on this connection, or on a Galera cluster a lock row
/// claimed from a second connection (see [`LockMode`]).
#[derive(Debug)]
pub struct MysqlExecutor {
    conn: Conn,
    dialect: MysqlDialect,
    /// How the lock is taken (the URL's `lock_mode`).
    lock_mode: LockMode,
    /// The lease of a lock row (the URL's `lock_lease`).
    lock_lease: Duration,
    /// The locks this executor holds, under their `GET_LOCK` names (the key of a lock row,
    /// too), each until [`Executor::unlock`] of its last version table.
    locks: HeldLocks<String, HeldLock>,
    /// `begin` was called and `START TRANSACTION` is still to be sent.
    begin_pending: bool,
    /// A statement since `begin` committed implicitly (DDL), so no transaction is open: the
    /// bookkeeping that ends the migration opens one again, so that the version change and
    /// its history rows commit together.
    tx_ended: bool,
}

/// Whether MySQL commits the open transaction implicitly for `sql`: the DDL statements
/// (`CREATE`, `ALTER`, `DROP`, `RENAME`, `TRUNCATE`; not `CREATE`/`DROP TEMPORARY TABLE`).
/// Leading comments are skipped; an executable comment (`/*! ... */`) counts as not knowing,
/// and not knowing answers false (the bookkeeping then runs as it did before).
fn commits_implicitly(sql: &str) -> bool {
    let mut rest = sql;
    loop {
        rest = rest.trim_start();
        if rest.starts_with("--") || rest.starts_with('#') {
            rest = rest.split_once('\n').map_or("", |(_, after)| after);
        } else if rest.starts_with("/*") && !rest.starts_with("/*!") {
            rest = rest.split_once("*/").map_or("", |(_, after)| after);
        } else {
            break;
        }
    }
    if rest.starts_with("/*!") {
        return false;
    }
    let mut words = rest
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty());
    let first = words.next().unwrap_or("").to_ascii_uppercase();
    match first.as_str() {
        "ALTER" | "RENAME" | "TRUNCATE" => true,
        "CREATE" | "DROP" => !words
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case("TEMPORARY")),
        _ => false,
    }
}

/// A migration lock an executor holds.
#[derive(Debug)]
enum HeldLock {
    /// `GET_LOCK(name)` on the executor's connection.
    Session,
    /// The lock row, held from a connection of its own; `galera` when this connection's
    /// `wsrep_sync_wait` was raised for the run and must be put back.
    Row { lock: RowLock, galera: bool },
}

impl MysqlExecutor {
    /// Connect to the database a `mysql://` or `mariadb://` URL names (see
    /// [`crate::parse_mysql_url`]). Failures (unknown host, closed port, access denied, unknown
    /// database) come back as one line naming the address, never the URL or the password.
    pub async fn connect(url: &str) -> Result<Self, DatabaseError> {
        Self::connect_to(&parse_mysql_url(url)?).await
    }

    /// Connect to the database a parsed URL names (see [`MysqlTarget::from_url`]).
    pub async fn connect_url(url: &DatabaseUrl) -> Result<Self, DatabaseError> {
        Self::connect_to(&MysqlTarget::from_url(url)?).await
    }

    /// Connect to an already parsed target, with its TLS policy: `PREFERRED` falls back to
    /// plaintext when the server has no TLS, and `VERIFY_CA` accepts a trusted certificate
    /// made for another host name.
    pub async fn connect_to(target: &MysqlTarget) -> Result<Self, DatabaseError> {
        let fail = |reason: String| {
            // The mode is named when it insists on TLS (then it may be why).
            let mode = match target.tls.mode {
                SslMode::Disabled | SslMode::Preferred => String::new(),
                mode => format!(" (ssl-mode={})", mode.as_str()),
            };
            let message = format!(
                "cannot connect to MySQL at {}{}{mode}: {reason}",
                target.address(),
                target
                    .user
                    .as_deref()
                    .map(|u| format!(" as {u}"))
                    .unwrap_or_default(),
            );
            // No driver or server message should carry it, but never take the chance.
            DatabaseError::connect(hide(&message, target.password.as_deref()))
        };
        let open = |opts: mysql_async::OptsBuilder| async move {
            match tokio::time::timeout(CONNECT_TIMEOUT, Conn::new(opts)).await {
                Ok(result) => result.map_err(Some),
                Err(_) => Err(None),
            }
        };
        let mut result = open(target.opts()).await;
        if let Err(Some(e)) = &result {
            if target.tls.falls_back_to_plaintext(e) {
                result = open(target.opts().ssl_opts(None)).await;
            } else if let Some(name) = target.tls.name_to_retry(e) {
                result = open(target.opts().ssl_opts(target.tls.ssl_opts(Some(&name)))).await;
            }
        }
        let conn = result.map_err(|e| match e {
            None => fail(format!("no answer after {} s", CONNECT_TIMEOUT.as_secs())),
            Some(e) => fail(match target.tls.advice(&e) {
                Some(advice) => format!("{} ({advice})", message(&e)),
                None => message(&e),
            }),
        })?;
        let mut executor = Self::from_conn(conn);
        executor.lock_mode = target.lock_mode;
        executor.lock_lease = target.lock_lease;
        Ok(executor)
    }

    /// Drive an existing connection (for a program that migrates its own database).
    pub fn from_conn(conn: Conn) -> Self {
        MysqlExecutor {
            conn,
            dialect: MysqlDialect,
            lock_mode: LockMode::Auto,
            lock_lease: DEFAULT_LEASE,
            locks: HeldLocks::new(),
            begin_pending: false,
            tx_ended: false,
        }
    }

    /// The underlying connection, for queries of your own.
    pub fn conn_mut(&mut self) -> &mut Conn {
        &mut self.conn
    }

    /// Give the connection back. A `GET_LOCK` still held stays held until the connection
    /// closes; a lock row still held is taken over by the next run after its lease.
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

    /// The `GET_LOCK` name of a version table: one per database and table, server-wide (the
    /// key of its lock row, too).
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

impl MysqlExecutor {
    /// Whether this server is a node of a Galera cluster (`wsrep_on` with a provider).
    async fn is_galera_node(&mut self) -> Result<bool, DatabaseError> {
        let vars: Vec<(String, String)> = self
            .conn
            .query("SHOW VARIABLES WHERE Variable_name IN ('wsrep_on', 'wsrep_provider')")
            .await
            .map_err(other)?;
        let value = |name: &str| {
            vars.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        Ok(
            value("wsrep_on").is_some_and(|v| v.eq_ignore_ascii_case("ON"))
                && value("wsrep_provider").is_some_and(|v| !v.is_empty() && v != "none"),
        )
    }

    /// The lock to take: the URL's `lock_mode`, `auto` decided by [`Self::is_galera_node`];
    /// the flag says whether the server is a Galera node.
    async fn lock_mode_for(&mut self) -> Result<(LockMode, bool), DatabaseError> {
        let galera = match self.lock_mode {
            LockMode::Session => return Ok((LockMode::Session, false)),
            _ => self.is_galera_node().await?,
        };
        Ok(match self.lock_mode {
            LockMode::Auto if !galera => (LockMode::Session, false),
            _ => (LockMode::Row, galera),
        })
    }

    /// Whether a lock row held on a Galera node raised this connection's `wsrep_sync_wait`.
    fn raised_sync_wait(&self) -> bool {
        self.locks
            .locks()
            .any(|held| matches!(held, HeldLock::Row { galera: true, .. }))
    }

    /// Claim the lock row `name` of `table` from a second connection with this one's settings.
    async fn take_row_lock(
        &mut self,
        table: &VersionTable,
        name: &str,
        wait: Duration,
        galera: bool,
    ) -> Result<HeldLock, DatabaseError> {
        let lock_table = self.dialect.version_table_name(&VersionTable {
            name: format!("{}_lock", table.name),
            schema: table.schema.clone(),
        });
        let conn = tokio::time::timeout(CONNECT_TIMEOUT, Conn::new(self.conn.opts().clone()))
            .await
            .map_err(|_| {
                DatabaseError::connect(format!(
                    "opening the migration lock's connection: no answer after {} s",
                    CONNECT_TIMEOUT.as_secs()
                ))
            })?
            .map_err(|e| {
                DatabaseError::connect(format!(
                    "opening the migration lock's connection failed: {}",
                    message(&e)
                ))
            })?;
        let lock =
            RowLock::take(conn, &lock_table, name, name, wait, self.lock_lease, galera).await?;
        // Raised once, by the first lock row of a run that holds several, and put back with
        // the last (see `unlock`).
        if galera && !self.raised_sync_wait() {
            // This connection may reach another node than the lock's: its reads (the
            // version table first) wait for what the cluster committed before them.
            self.conn
                .query_drop(
                    "SET @migrate_sync_wait = @@SESSION.wsrep_sync_wait; \
                     SET SESSION wsrep_sync_wait = 1",
                )
                .await
                .map_err(other)?;
        }
        Ok(HeldLock::Row { lock, galera })
    }

    /// Fails once a lock row is lost: from then on another run may hold it.
    fn check_lock(&self) -> Result<(), DatabaseError> {
        for held in self.locks.locks() {
            if let HeldLock::Row { lock, .. } = held {
                if let Some(reason) = lock.lost_reason() {
                    return Err(DatabaseError::other(format!(
                        "the migration lock was lost: {reason}; stopped before this statement, \
                         as another run may hold the lock now. Run the command again"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The server's or driver's message for `e`, on one line: server errors read
/// `ERROR 1064 (42000): You have an error in your SQL syntax; ...`.
pub(crate) fn message(e: &mysql_async::Error) -> String {
    let text = match e {
        mysql_async::Error::Server(server) => server.to_string(),
        mysql_async::Error::Io(mysql_async::IoError::Io(io)) => io.to_string(),
        mysql_async::Error::Driver(driver) => driver.to_string(),
        other => other.to_string(),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A failed statement; error 1205 (`lock_wait_timeout` or `innodb_lock_wait_timeout`
/// expired) is a lock wait, which may be retried. The SQLSTATE is kept.
fn statement(e: mysql_async::Error) -> DatabaseError {
    match &e {
        mysql_async::Error::Server(server) => {
            let failed = if server.code == 1205 {
                DatabaseError::lock_wait(message(&e))
            } else {
                DatabaseError::statement(message(&e))
            };
            failed.with_sqlstate(server.state.clone())
        }
        mysql_async::Error::Io(_) => DatabaseError::connection_lost(format!(
            "the connection to MySQL was lost: {}",
            message(&e)
        )),
        _ => DatabaseError::statement(message(&e)),
    }
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

    /// `KILL QUERY` for this connection, sent on a connection of its own (as the `mysql`
    /// client does on Ctrl-C).
    fn canceller(&self) -> Option<Box<dyn Canceller>> {
        Some(Box::new(MysqlCanceller {
            opts: self.conn.opts().clone(),
            id: self.conn.id(),
        }))
    }

    /// Runs `sql`, preceded in the same packet by `START TRANSACTION` when [`Executor::begin`]
    /// was called since the last statement.
    async fn execute(&mut self, sql: &str) -> Result<(), DatabaseError> {
        self.check_lock()?;
        // The implicit commit happens before the statement runs, so also when it fails.
        self.tx_ended |= commits_implicitly(sql);
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

    /// The text protocol; values as the server sends them.
    async fn query_text(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DatabaseError> {
        let rows: Vec<mysql_async::Row> = self.conn.query(sql).await.map_err(statement)?;
        Ok(rows
            .into_iter()
            .map(|row| {
                row.unwrap()
                    .into_iter()
                    .map(|value| match value {
                        mysql_async::Value::NULL => None,
                        mysql_async::Value::Bytes(b) => {
                            Some(String::from_utf8_lossy(&b).into_owned())
                        }
                        mysql_async::Value::Int(i) => Some(i.to_string()),
                        mysql_async::Value::UInt(u) => Some(u.to_string()),
                        mysql_async::Value::Float(f) => Some(f.to_string()),
                        mysql_async::Value::Double(d) => Some(d.to_string()),
                        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
                    })
                    .collect()
            })
            .collect())
    }

    /// Opens a transaction with the next statement (`START TRANSACTION` is sent with it).
    /// DDL inside it still commits implicitly (MySQL has no transactional DDL).
    async fn begin(&mut self) -> Result<(), DatabaseError> {
        self.begin_pending = true;
        self.tx_ended = false;
        Ok(())
    }

    async fn commit(&mut self) -> Result<(), DatabaseError> {
        self.check_lock()?;
        self.tx_ended = false;
        if std::mem::take(&mut self.begin_pending) {
            return Ok(()); // no statement ran: no transaction was opened
        }
        self.conn.query_drop("COMMIT").await.map_err(other)
    }

    async fn rollback(&mut self) -> Result<(), DatabaseError> {
        self.tx_ended = false;
        if std::mem::take(&mut self.begin_pending) {
            return Ok(());
        }
        self.conn.query_drop("ROLLBACK").await.map_err(other)
    }

    /// One packet: (`START TRANSACTION`,) the statements, `COMMIT`. The transaction is
    /// opened again when DDL since `begin` ended it, so that the statements commit together.
    async fn execute_and_commit(&mut self, statements: &[&str]) -> Result<(), DatabaseError> {
        self.check_lock()?;
        let begin = std::mem::take(&mut self.begin_pending) || std::mem::take(&mut self.tx_ended);
        let mut packet: Vec<&str> = Vec::with_capacity(statements.len() + 2);
        if begin {
            packet.push("START TRANSACTION");
        }
        packet.extend_from_slice(statements);
        packet.push("COMMIT");
        let first = usize::from(begin);
        let commit_at = first + statements.len();
        self.batch(&packet).await.map_err(|(index, e)| {
            if index < first {
                begin_failed(e)
            } else if index < commit_at {
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

    /// `GET_LOCK` on a name derived from the database and the version table, or on a Galera
    /// node the lock row (see [`LockMode`]). `GET_LOCK` belongs to the session, not to a
    /// transaction, so it survives the implicit commits of DDL and is released by
    /// [`Executor::unlock`] or when the connection closes. The locks of other version tables
    /// this executor holds stay held beside it; a table whose lock it holds already (also
    /// under another spelling of its schema) asks nothing more.
    async fn lock(&mut self, table: &VersionTable, wait: Duration) -> Result<(), DatabaseError> {
        if self.locks.holds(table) {
            return Ok(());
        }
        let name = self.lock_name(table).await?;
        if self.locks.join(&name, table) {
            return Ok(());
        }
        let (mode, galera) = self.lock_mode_for().await?;
        if mode == LockMode::Row {
            let held = self.take_row_lock(table, &name, wait, galera).await?;
            self.locks.insert(name, table.clone(), held);
            return Ok(());
        }
        // GET_LOCK counts whole seconds; round up so that we never wait less than asked.
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let got: Option<Option<i64>> = self
            .conn
            .exec_first("SELECT GET_LOCK(?, ?)", (name.as_str(), seconds))
            .await
            .map_err(other)?;
        match got.flatten() {
            Some(1) => {
                self.locks.insert(name, table.clone(), HeldLock::Session);
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

    /// The connection holding the lock: `IS_USED_LOCK` and the process list for `GET_LOCK`,
    /// the lock row's owner column for the row lock.
    async fn lock_holder(&mut self, table: &VersionTable) -> Result<Option<String>, DatabaseError> {
        let name = self.lock_name(table).await?;
        let (mode, _) = self.lock_mode_for().await?;
        if mode == LockMode::Row {
            let lock_table = self.dialect.version_table_name(&VersionTable {
                name: format!("{}_lock", table.name),
                schema: table.schema.clone(),
            });
            let sql = format!(
                "SELECT owner, CAST(since AS CHAR) FROM {lock_table} \
                 WHERE name = ? AND holder IS NOT NULL"
            );
            let row: Option<(Option<String>, Option<String>)> = self
                .conn
                .exec_first(sql, (name.as_str(),))
                .await
                .map_err(other)?;
            return Ok(row.and_then(|(owner, since)| {
                let owner = owner?;
                Some(match since {
                    Some(since) => format!("{owner}, since {since}"),
                    None => owner,
                })
            }));
        }
        let row: Option<(Option<u64>, Option<String>, Option<String>)> = self
            .conn
            .exec_first(
                "SELECT l.id, p.USER, p.HOST FROM (SELECT IS_USED_LOCK(?) AS id) l \
                 LEFT JOIN information_schema.PROCESSLIST p ON p.ID = l.id",
                (name.as_str(),),
            )
            .await
            .map_err(other)?;
        Ok(row.and_then(|(id, user, host)| {
            let id = id?;
            let mut holder = format!("connection {id}");
            if let Some(user) = user {
                holder.push_str(&format!(" of user {user}"));
            }
            if let Some(host) = host {
                holder.push_str(&format!(", from {host}"));
            }
            Some(holder)
        }))
    }

    /// `read_only` (a replica), and `version_num`'s type and length, in one query.
    async fn preflight(&mut self, table: &VersionTable) -> Result<Preflight, DatabaseError> {
        let schema = table.schema.as_deref();
        let name = table.name.as_str();
        let row: Option<(Option<i64>, Option<i64>, Option<String>)> = self
            .conn
            .exec_first(
                "SELECT @@GLOBAL.read_only, \
                 (SELECT COUNT(*) FROM information_schema.tables \
                  WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ?), \
                 (SELECT CONCAT(data_type, ':', COALESCE(character_maximum_length, '')) \
                  FROM information_schema.columns WHERE table_schema = COALESCE(?, DATABASE()) \
                  AND table_name = ? AND column_name = 'version_num')",
                (schema, name, schema, name),
            )
            .await
            .map_err(other)?;
        let Some((read_only, tables, column)) = row else {
            return Ok(Preflight::default());
        };
        Ok(Preflight {
            read_only: (read_only == Some(1))
                .then(|| "the server is read-only (@@read_only = 1: a replica?)".to_string()),
            version_column: (tables.unwrap_or(0) > 0).then(|| {
                column.map(|column| {
                    let (data_type, length) = column.rsplit_once(':').unwrap_or((&column, ""));
                    VersionColumn {
                        data_type: data_type.to_string(),
                        max_length: length.parse().ok(),
                    }
                })
            }),
        })
    }

    /// Releases the lock of `table`, unless another version table this executor locked
    /// shares it.
    async fn unlock(&mut self, table: &VersionTable) -> Result<(), DatabaseError> {
        match self.locks.release(table) {
            None => Ok(()),
            Some((name, HeldLock::Session)) => self
                .conn
                .exec_drop("SELECT RELEASE_LOCK(?)", (name.as_str(),))
                .await
                .map_err(other),
            Some((_, HeldLock::Row { lock, galera })) => {
                let restored = if galera && !self.raised_sync_wait() {
                    self.conn
                        .query_drop("SET SESSION wsrep_sync_wait = @migrate_sync_wait")
                        .await
                        .map_err(other)
                } else {
                    Ok(())
                };
                lock.release().await?;
                restored
            }
        }
    }

    /// Reads `information_schema` for the connection's database (see the `snapshot` module).
    async fn snapshot(&mut self, table: &VersionTable) -> Result<Snapshot, DatabaseError> {
        crate::snapshot::read_snapshot(&mut self.conn, table).await
    }
}

/// Kills the statement running on one connection ([`Executor::canceller`]).
struct MysqlCanceller {
    opts: mysql_async::Opts,
    id: u32,
}

#[async_trait]
impl Canceller for MysqlCanceller {
    async fn cancel(&self) -> Result<(), DatabaseError> {
        let mut conn = tokio::time::timeout(CONNECT_TIMEOUT, Conn::new(self.opts.clone()))
            .await
            .map_err(|_| {
                DatabaseError::connect("opening a connection to stop the statement: no answer")
            })?
            .map_err(other)?;
        let killed = conn.query_drop(format!("KILL QUERY {}", self.id)).await;
        let _ = conn.disconnect().await;
        killed.map_err(other)
    }
}

#[cfg(test)]
mod tests {
    use super::commits_implicitly as c;

    #[test]
    fn ddl_is_known_to_commit_implicitly() {
        assert!(c("CREATE TABLE t (id INT)"));
        assert!(c("-- a table\n/* note */ alter table t ADD x INT"));
        assert!(c("  DROP INDEX i ON t"));
        assert!(c("RENAME TABLE a TO b"));
        assert!(c("TRUNCATE t"));
        assert!(!c("CREATE TEMPORARY TABLE t (id INT)"));
        assert!(!c("DROP TEMPORARY TABLE t"));
        assert!(!c("INSERT INTO t VALUES (1)"));
        assert!(!c("UPDATE created SET x = 1"));
        assert!(!c("/*!50003 CREATE */ SELECT 1"));
        assert!(!c("-- only a comment"));
    }
}
