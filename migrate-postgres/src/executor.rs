//! [`PostgresExecutor`]: one connection driven by the migrator.

use std::time::Duration;

use async_trait::async_trait;
use migrate_core::held_locks::HeldLocks;
use migrate_core::url::DatabaseUrl;
use migrate_core::{
    Canceller, DatabaseError, Dialect, Executor, Preflight, Snapshot, VersionColumn, VersionTable,
};
use tokio::time::Instant;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};
use tokio_postgres_rustls::MakeRustlsConnect;

use tokio_postgres::error::SqlState;

use crate::dialect::PostgresDialect;
use crate::error::{describe, session_error, statement_error};
use crate::lock::{
    advisory_lock_key, first_row, first_value, lock_error, Attempt, ConnectionLock, LockMode,
};
use crate::pooling::{pooler_evidence, resolve, SessionFacts, SESSION_FACTS_QUERY};
use crate::tls;
use crate::url::{ConnectOptions, Host, SslMode};

/// How often a waiting [`Executor::lock`] asks again.
const LOCK_POLL_INTERVAL: Duration = Duration::from_millis(75);

/// A connection to a PostgreSQL database.
///
/// Its own queries never use protocol-level named prepared statements (the simple protocol,
/// or unnamed statements; the catalog queries it repeats are SQL `PREPARE`s that it prepares
/// again in whichever server session answers), so it works behind PgBouncer in transaction
/// mode; the migration lock is
/// chosen by `lock_mode` (see [`LockMode`]).
pub struct PostgresExecutor {
    client: Client,
    dialect: PostgresDialect,
    /// The settings it connected with, to open the lock's own connection (`None` for
    /// [`PostgresExecutor::from_client`]).
    options: Option<ConnectOptions>,
    /// The TLS connector the connection was made with (`None`: plaintext, or a client the
    /// caller connected), for the cancel request's own connection.
    tls: Option<MakeRustlsConnect>,
    /// The locks taken by [`Executor::lock`], each until [`Executor::unlock`] of its last
    /// version table, under its advisory lock key.
    locks: HeldLocks<i64, HeldLock>,
    /// The prefix of the catalog queries' prepared statements this session holds, once a
    /// snapshot has prepared them (see [`crate::snapshot::read_snapshot`]).
    snapshot_prepared: Option<String>,
    /// Whether [`Executor::read_versions`] looked for the version table before: from the
    /// second time on (`verify` runs hundreds of migrations in one session) the lookup is a
    /// prepared statement, which spares the server its planning.
    looked_up: bool,
    /// The prefix of that prepared lookup, once prepared.
    lookup_prepared: Option<String>,
    /// The version table the last lookup found and its schema: the next lookup reads that
    /// table's rows in the same round trip.
    version_schema: Option<(VersionTable, String)>,
    /// What [`Executor::read_versions`] read for [`Executor::preflight`] in the same round
    /// trip, for the version table it names; forgotten by anything but a read
    /// ([`Executor::query_text`]) in between.
    preflight_read: Option<(VersionTable, Preflight)>,
}

/// A migration lock this executor holds.
#[derive(Debug)]
enum HeldLock {
    /// A session-level advisory lock on the executor's connection, taken by server
    /// session (backend) `pid`.
    Session { pid: i32 },
    /// A transaction-level advisory lock (key `key`) on a connection of its own.
    Connection { key: i64, lock: ConnectionLock },
}

impl std::fmt::Debug for PostgresExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresExecutor")
            .field("options", &self.options)
            .field("locks", &self.locks)
            .finish_non_exhaustive()
    }
}

impl PostgresExecutor {
    /// Connect to `url` (`postgres://`, `postgresql://` or `postgresql+DRIVER://`), honouring
    /// `sslmode`, `sslrootcert`, `connect_timeout`, `application_name`, `host=/socket/dir`,
    /// `password`, `options` and `lock_mode`.
    /// The connection task is spawned on the current tokio runtime. Errors are one line
    /// and never contain the password or the URL.
    pub async fn connect(url: &str) -> Result<Self, DatabaseError> {
        Self::connect_url(&DatabaseUrl::parse(url)?).await
    }

    /// Connect to the database a parsed URL names (see [`ConnectOptions::from_url`]).
    pub async fn connect_url(url: &DatabaseUrl) -> Result<Self, DatabaseError> {
        Self::connect_with(&ConnectOptions::from_url(url)?).await
    }

    /// Connect with settings already read from a URL.
    pub async fn connect_with(options: &ConnectOptions) -> Result<Self, DatabaseError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            DatabaseError::connect("connecting to PostgreSQL needs a running tokio runtime")
        })?;
        let mut config = tokio_postgres::Config::new();
        config
            .user(&options.user)
            .dbname(&options.dbname)
            .port(options.port)
            .application_name(&options.application_name);
        if let Some(password) = &options.password {
            config.password(password);
        }
        match &options.host {
            Host::Tcp(host) => config.host(host),
            Host::Socket(dir) => config.host_path(dir),
        };
        if let Some(timeout) = options.connect_timeout {
            config.connect_timeout(timeout);
        }
        if let Some(server_options) = &options.options {
            config.options(server_options);
        }
        let failed = |mut cause: String| {
            if cause.contains("UnknownIssuer") {
                cause.push_str(if options.sslrootcert.is_some() {
                    " (the sslrootcert file does not hold the CA that signed the server's certificate)"
                } else {
                    " (give the CA that signed the server's certificate with sslrootcert=PATH)"
                });
            }
            DatabaseError::connect(options.redact(&format!(
                "cannot connect to PostgreSQL at {} as {} (database {}, sslmode={}): {cause}",
                options.describe_server(),
                options.user,
                options.dbname,
                options.sslmode.as_str()
            )))
        };
        let optional = matches!(options.sslmode, SslMode::Allow | SslMode::Prefer);
        let tls_config = match tls::client_config(options.sslmode, options.sslrootcert.as_deref()) {
            Ok(tls_config) => tls_config,
            // As libpq: `prefer` goes on in plaintext when TLS cannot be set up (an
            // sslrootcert file without a certificate), as when the handshake fails.
            Err(_) if optional => None,
            Err(e) => return Err(failed(e.message)),
        };
        let mut tls_used = None;
        let client = match tls_config {
            None => {
                config.ssl_mode(tokio_postgres::config::SslMode::Disable);
                let (client, connection) = config
                    .connect(NoTls)
                    .await
                    .map_err(|e| failed(describe(&e)))?;
                runtime.spawn(async move {
                    let _ = connection.await;
                });
                client
            }
            Some(tls_config) => {
                config.ssl_mode(match options.sslmode {
                    SslMode::Allow | SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
                    _ => tokio_postgres::config::SslMode::Require,
                });
                let connector = MakeRustlsConnect::new(tls_config);
                match config.connect(connector.clone()).await {
                    Ok((client, connection)) => {
                        runtime.spawn(async move {
                            let _ = connection.await;
                        });
                        tls_used = Some(connector);
                        client
                    }
                    // As libpq, `prefer` retries in plaintext when the TLS handshake itself fails
                    // (a server that answers "no TLS" is already handled by tokio-postgres).
                    Err(e) if optional && is_tls_handshake_failure(&e) => {
                        config.ssl_mode(tokio_postgres::config::SslMode::Disable);
                        let (client, connection) = config
                            .connect(NoTls)
                            .await
                            .map_err(|e| failed(describe(&e)))?;
                        runtime.spawn(async move {
                            let _ = connection.await;
                        });
                        client
                    }
                    Err(e) => return Err(failed(describe(&e))),
                }
            }
        };
        let mut executor = Self::from_client(client);
        executor.options = Some(options.clone());
        executor.tls = tls_used;
        Ok(executor)
    }

    /// Wrap a connection the caller already holds (its connection task must be running).
    /// Without the settings to open a second connection, the migration lock is always a
    /// session-level advisory lock on this one (`lock_mode=session`): the connection must
    /// reach the server directly, or through a pooler in session mode.
    pub fn from_client(client: Client) -> Self {
        PostgresExecutor {
            client,
            dialect: PostgresDialect,
            options: None,
            tls: None,
            locks: HeldLocks::new(),
            snapshot_prepared: None,
            looked_up: false,
            lookup_prepared: None,
            version_schema: None,
            preflight_read: None,
        }
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The preflight's query: one row of a standby in recovery, a read-only session, whether
    /// the version table exists and its `version_num` column's type (see
    /// [`preflight_from`]).
    fn preflight_sql(&self, table: &VersionTable) -> String {
        let d = &self.dialect;
        let schema = match &table.schema {
            Some(s) => d.string_literal(s),
            None => "current_schema()".to_string(),
        };
        let name = d.string_literal(&table.name);
        format!(
            "SELECT pg_is_in_recovery()::text, current_setting('transaction_read_only'), \
             (SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n \
              ON n.oid = c.relnamespace WHERE n.nspname = {schema} AND c.relname = {name} \
              AND c.relkind IN ('r', 'p', 'v', 'm', 'f'))::text, \
             (SELECT CASE WHEN bt.typelem <> 0 AND bt.typlen = -1 THEN 'ARRAY' \
                WHEN bt.typnamespace = 'pg_catalog'::regnamespace THEN format_type(bt.oid, NULL) \
                ELSE 'USER-DEFINED' END || ':' || COALESCE(information_schema._pg_char_max_length(\
                information_schema._pg_truetypid(a.*, t.*), information_schema._pg_truetypmod(a.*, t.*))::text, '') \
              FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
              JOIN pg_catalog.pg_type t ON t.oid = a.atttypid \
              JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END \
              WHERE n.nspname = {schema} AND c.relname = {name} AND a.attname = 'version_num' \
              AND a.attnum > 0 AND NOT a.attisdropped)"
        )
    }

    /// The database, schema and server address of the session that answers (one round trip).
    async fn session_facts(&self) -> Result<SessionFacts, DatabaseError> {
        let row = first_row(&self.client, SESSION_FACTS_QUERY)
            .await
            .map_err(|e| session_error("reading the session's database and schema", &e))?;
        row.as_deref()
            .and_then(SessionFacts::from_row)
            .ok_or_else(|| {
                DatabaseError::other(
                    "reading the session's database and schema returned no usable row",
                )
            })
    }

    /// The session's facts, the version table's schema and its advisory lock key.
    async fn lock_key(
        &self,
        table: &VersionTable,
    ) -> Result<(SessionFacts, String, i64), DatabaseError> {
        let facts = self.session_facts().await?;
        let schema = match &table.schema {
            Some(schema) => schema.clone(),
            None => facts.schema.clone().ok_or_else(no_current_schema)?,
        };
        let key = advisory_lock_key(&facts.database, &schema, &table.name);
        Ok((facts, schema, key))
    }

    /// The lock to take: the URL's `lock_mode`, with `auto` decided from how the server saw
    /// this connection (see [`crate::pooling`]); `session` without connection settings.
    /// The second value says why `auto` chose `transaction`.
    async fn lock_mode_for(&self, facts: &SessionFacts) -> (LockMode, Option<String>) {
        let Some(options) = &self.options else {
            return (LockMode::Session, None);
        };
        match options.lock_mode {
            LockMode::Auto => {
                let resolved = resolve(&options.host, options.port).await;
                match pooler_evidence(&options.host, options.port, &resolved, facts) {
                    Some(why) => (LockMode::Transaction, Some(why)),
                    None => (LockMode::Session, None),
                }
            }
            mode => (mode, None),
        }
    }

    /// A second connection, used only to hold the lock; `pg_stat_activity` shows it as
    /// `<application_name> lock`.
    async fn open_lock_connection(options: &ConnectOptions) -> Result<Client, DatabaseError> {
        let mut options = options.clone();
        options.application_name.push_str(" lock");
        Ok(Self::connect_with(&options).await?.client)
    }

    /// Fails once the lock held on its own connection is lost: from then on another run
    /// may hold it, so nothing more may run under it.
    fn check_lock(&self) -> Result<(), DatabaseError> {
        for held in self.locks.locks() {
            if let HeldLock::Connection { key, lock } = held {
                if let Some(reason) = lock.lost_reason() {
                    return Err(DatabaseError::other(format!(
                        "the migration lock (advisory lock key {key}) was lost: {reason}; stopped \
                         before this statement, as another run may hold the lock now. Run the \
                         command again"
                    )));
                }
            }
        }
        Ok(())
    }

    /// `pg_advisory_unlock(key)` on this session, rolling back first when the session is
    /// in a failed transaction (which refuses every statement with SQLSTATE 25P02).
    async fn release_session_lock(&self, key: i64) -> Result<bool, DatabaseError> {
        let sql = format!("SELECT pg_advisory_unlock({key})");
        let released = match first_value(&self.client, &sql).await {
            Err(e) if e.code() == Some(&SqlState::IN_FAILED_SQL_TRANSACTION) => {
                self.client
                    .batch_execute("ROLLBACK")
                    .await
                    .map_err(|e| lock_error("releasing the migration lock", &e))?;
                first_value(&self.client, &sql).await
            }
            other => other,
        };
        released
            .map(|v| v.as_deref() == Some("t"))
            .map_err(|e| lock_error("releasing the migration lock", &e))
    }
}

fn no_current_schema() -> DatabaseError {
    DatabaseError::other(
        "the session has no current schema (search_path names no existing schema); set version_table_schema",
    )
}

/// A [`Preflight`] from the row of [`PostgresExecutor::preflight_sql`]: recovery, read-only,
/// how many relations have the version table's name, `version_num`'s `type:length`.
fn preflight_from(row: &[Option<&str>]) -> Preflight {
    let at = |i: usize| row.get(i).copied().flatten();
    let read_only = if at(0) == Some("true") {
        Some("the server is a standby in recovery (pg_is_in_recovery())".to_string())
    } else if at(1) == Some("on") {
        Some("the session is read-only (transaction_read_only = on)".to_string())
    } else {
        None
    };
    let version_column = if at(2) == Some("0") {
        None
    } else {
        Some(at(3).map(|column| {
            let (data_type, length) = column.rsplit_once(':').unwrap_or((column, ""));
            VersionColumn {
                data_type: data_type.to_string(),
                max_length: length.parse().ok(),
            }
        }))
    };
    Preflight {
        read_only,
        version_column,
    }
}

/// Whether connecting failed in the TLS handshake (not in the server's login checks).
fn is_tls_handshake_failure(error: &tokio_postgres::Error) -> bool {
    error.as_db_error().is_none() && error.to_string().contains("TLS handshake")
}

/// `statements` and `COMMIT` as one simple query. The line break ends a trailing `--`
/// comment; an empty statement is harmless.
fn with_commit(statements: &[&str]) -> String {
    let mut sql = String::new();
    for statement in statements {
        sql.push_str(statement);
        sql.push_str("\n;\n");
    }
    sql.push_str("COMMIT");
    sql
}

#[async_trait]
impl Executor for PostgresExecutor {
    fn dialect(&self) -> &dyn Dialect {
        &self.dialect
    }

    async fn execute(&mut self, sql: &str) -> Result<(), DatabaseError> {
        self.preflight_read = None;
        self.check_lock()?;
        self.client
            .batch_execute(sql)
            .await
            .map_err(|e| statement_error(&e))
    }

    /// [`Executor::execute_and_commit`]'s one simple query, read as it comes: the server
    /// completes the statements in turn and stops at the first that fails, whose index is the
    /// number of commands completed before it (each statement is one command: the migrator's
    /// statements come out of the splitter).
    async fn execute_and_commit_each(
        &mut self,
        statements: &[&str],
        done: &mut (dyn FnMut(usize) + Send),
    ) -> Result<(), (usize, DatabaseError)> {
        self.preflight_read = None;
        self.check_lock().map_err(|e| (0, e))?;
        let stream = self
            .client
            .simple_query_raw(&with_commit(statements))
            .await
            .map_err(|e| (0, statement_error(&e)))?;
        let mut stream = std::pin::pin!(stream);
        let mut completed = 0;
        while let Some(message) =
            std::future::poll_fn(|cx| futures_core::Stream::poll_next(stream.as_mut(), cx)).await
        {
            match message {
                Ok(SimpleQueryMessage::CommandComplete(_)) => {
                    if completed < statements.len() {
                        done(completed);
                    }
                    completed += 1;
                }
                Ok(_) => {}
                Err(e) => {
                    return Err((completed.min(statements.len()), statement_error(&e)));
                }
            }
        }
        Ok(())
    }

    /// The simple protocol: text values, no prepared statement (PgBouncer-safe).
    async fn query_text(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DatabaseError> {
        let messages = self
            .client
            .simple_query(sql)
            .await
            .map_err(|e| statement_error(&e))?;
        Ok(messages
            .iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_string))
                        .collect(),
                ),
                _ => None,
            })
            .collect())
    }

    /// `BEGIN`. Under a session-level lock it also reads the backend pid in the same round
    /// trip: a transaction on another server session than the one holding the lock means a
    /// pooler in transaction mode, where that lock excludes nobody, and the run stops.
    async fn begin(&mut self) -> Result<(), DatabaseError> {
        self.preflight_read = None;
        let session_pid = self.locks.locks().find_map(|held| match held {
            HeldLock::Session { pid } => Some(*pid),
            HeldLock::Connection { .. } => None,
        });
        let Some(pid) = session_pid else {
            return self.execute("BEGIN").await;
        };
        let now = first_value(&self.client, "BEGIN; SELECT pg_backend_pid()::text")
            .await
            .map_err(|e| statement_error(&e))?;
        if now.as_deref() == Some(pid.to_string().as_str()) {
            return Ok(());
        }
        Err(DatabaseError::other(format!(
            "the migration lock was taken by server session {pid}, but this transaction runs \
             on server session {}: the connection goes through a pooler in transaction mode \
             (PgBouncer pool_mode = transaction), where a session lock excludes no other run. \
             Add lock_mode=transaction to the database URL",
            now.as_deref().unwrap_or("(unknown)")
        )))
    }

    async fn commit(&mut self) -> Result<(), DatabaseError> {
        self.preflight_read = None;
        self.execute("COMMIT").await
    }

    /// The statements and `COMMIT` in one simple query: one round trip. Inside the open
    /// transaction the server runs them in turn and stops at the first that fails (the
    /// transaction is then aborted, and the migrator rolls it back), as when they are sent one
    /// by one.
    async fn execute_and_commit(&mut self, statements: &[&str]) -> Result<(), DatabaseError> {
        self.preflight_read = None;
        self.check_lock()?;
        self.client
            .batch_execute(&with_commit(statements))
            .await
            .map_err(|e| statement_error(&e))
    }

    async fn rollback(&mut self) -> Result<(), DatabaseError> {
        self.preflight_read = None;
        // Never held back by a lost lock: rolling back is what it calls for.
        self.client
            .batch_execute("ROLLBACK")
            .await
            .map_err(|e| statement_error(&e))
    }

    async fn read_versions(
        &mut self,
        table: &VersionTable,
    ) -> Result<Option<Vec<String>>, DatabaseError> {
        // The schema and whether the table is there in one round trip (simple protocol).
        let d = &self.dialect;
        let schema = match &table.schema {
            Some(s) => d.string_literal(s),
            None => "current_schema()".to_string(),
        };
        // The preflight's facts come along, for the run that reads the versions and then
        // asks them (one round trip fewer per run).
        let sql = format!(
            "SELECT s.name, EXISTS (SELECT 1 FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = s.name AND c.relname = {} \
             AND c.relkind IN ('r', 'p', 'v', 'm', 'f'))::text, p.* \
             FROM (SELECT {schema}::text AS name) s CROSS JOIN ({}) p",
            d.string_literal(&table.name),
            self.preflight_sql(table)
        );
        self.preflight_read = None;
        // From the second lookup on (a prepared statement), the rows of the table where the
        // last lookup found it come in the same round trip; they are used only when the
        // lookup finds it there again (see below).
        let guess = self
            .version_schema
            .as_ref()
            .filter(|(found_for, _)| found_for == table)
            .map(|(_, schema)| VersionTable {
                name: table.name.clone(),
                schema: Some(schema.clone()),
            });
        let mut guessed_rows = None;
        let row = if !std::mem::replace(&mut self.looked_up, true) {
            first_row(&self.client, &sql).await
        } else {
            let read = guess.as_ref().map(|qualified| {
                format!(
                    "SELECT version_num FROM {}",
                    self.dialect.version_table_name(qualified)
                )
            });
            let queries = std::slice::from_ref(&sql);
            let mut results = None;
            if let Some(read) = &read {
                // Failing (the table is gone), it asks again without the read.
                let prepared = &mut self.lookup_prepared;
                if let Ok(mut found) =
                    crate::prepared::run_queries(&self.client, "lookup", queries, read, prepared)
                        .await
                {
                    guessed_rows = found.pop();
                    results = Some(Ok(found));
                }
            }
            let results = match results {
                Some(found) => found,
                None => {
                    let prepared = &mut self.lookup_prepared;
                    crate::prepared::run_queries(&self.client, "lookup", queries, "", prepared)
                        .await
                }
            };
            results.map(|results| {
                results
                    .into_iter()
                    .next()
                    .and_then(|rows| rows.into_iter().next())
            })
        }
        .map_err(|e| session_error("looking for the version table", &e))?;
        let (schema, exists) = match row.as_deref() {
            Some([Some(schema), exists, preflight @ ..]) if preflight.len() == 4 => {
                let values: Vec<Option<&str>> = preflight.iter().map(Option::as_deref).collect();
                self.preflight_read = Some((table.clone(), preflight_from(&values)));
                (schema.clone(), exists.as_deref() == Some("true"))
            }
            Some([None, ..]) => return Err(no_current_schema()),
            _ => {
                return Err(DatabaseError::other(
                    "looking for the version table returned no usable row",
                ))
            }
        };
        self.version_schema = exists.then(|| (table.clone(), schema.clone()));
        if !exists {
            return Ok(None);
        }
        let qualified = VersionTable {
            name: table.name.clone(),
            schema: Some(schema),
        };
        // The rows read with the lookup (one snapshot of the catalog and the table) stand
        // when the table is where they were read from and its column is text, each value
        // present: anything else is read again as before, which says what is wrong.
        let text_column = self
            .preflight_read
            .as_ref()
            .and_then(|(_, found)| found.version_column.as_ref())
            .and_then(Option::as_ref)
            .is_some_and(|column| {
                ["character varying", "character", "text", "name"]
                    .contains(&column.data_type.as_str())
            });
        if let (Some(rows), true, true) =
            (guessed_rows, guess == Some(qualified.clone()), text_column)
        {
            let values: Option<Vec<String>> = rows
                .into_iter()
                .map(|row| row.into_iter().next().flatten())
                .collect();
            if let Some(values) = values {
                return Ok(Some(values));
            }
        }
        let sql = format!(
            "SELECT version_num FROM {}",
            self.dialect.version_table_name(&qualified)
        );
        let rows = self
            .client
            .query_typed(sql.as_str(), &[])
            .await
            .map_err(|e| session_error("reading the version table", &e))?;
        rows.iter()
            .map(|row| {
                row.try_get::<_, String>(0).map_err(|e| {
                    DatabaseError::other(format!(
                        "the version table holds a value that is not text: {e}"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// Takes the advisory lock of `table` in the way `lock_mode` says (see [`LockMode`]),
    /// asking again every [`LOCK_POLL_INTERVAL`] until `wait` has passed. The locks of other
    /// version tables this executor holds stay held beside it; a table whose lock it holds
    /// already (also under another spelling of its schema) asks nothing more.
    async fn lock(&mut self, table: &VersionTable, wait: Duration) -> Result<(), DatabaseError> {
        self.preflight_read = None;
        if self.locks.holds(table) {
            return Ok(());
        }
        let (facts, schema, key) = self.lock_key(table).await?;
        if self.locks.join(&key, table) {
            return Ok(());
        }
        let what = format!("{}.{schema}.{}", facts.database, table.name);
        let deadline = Instant::now() + wait;
        let (mode, why) = self.lock_mode_for(&facts).await;
        let mut lock_client = match (mode, &self.options) {
            (LockMode::Transaction, Some(options)) => {
                Some(Self::open_lock_connection(options).await?)
            }
            _ => None,
        };
        loop {
            match lock_client.take() {
                None => {
                    let sql = format!("SELECT pg_try_advisory_lock({key})");
                    let got = first_value(&self.client, &sql)
                        .await
                        .map_err(|e| lock_error("taking the migration lock", &e))?;
                    if got.as_deref() == Some("t") {
                        let held = HeldLock::Session { pid: facts.pid };
                        self.locks.insert(key, table.clone(), held);
                        return Ok(());
                    }
                }
                Some(client) => match ConnectionLock::try_take(client, key).await? {
                    Attempt::Held(lock) => {
                        let held = HeldLock::Connection { key, lock };
                        self.locks.insert(key, table.clone(), held);
                        return Ok(());
                    }
                    Attempt::Busy(client) => lock_client = Some(client),
                },
            }
            let now = Instant::now();
            if now >= deadline {
                let how = match (mode, why) {
                    (LockMode::Session, _) => "a session-level advisory lock".to_string(),
                    (_, Some(why)) => format!(
                        "a transaction-level advisory lock on a connection of its own, as {why}"
                    ),
                    (_, None) => {
                        "a transaction-level advisory lock on a connection of its own".to_string()
                    }
                };
                return Err(DatabaseError::lock_timeout(format!(
                    "another migration holds the lock on {what} (advisory lock key {key}, taken as {how}); gave up after {:.1} s. \
                     See who holds it: SELECT pid, granted FROM pg_locks WHERE locktype = 'advisory' \
                     AND ((classid::bigint << 32) | objid::bigint) = {key}",
                    wait.as_secs_f64()
                )));
            }
            tokio::time::sleep(LOCK_POLL_INTERVAL.min(deadline - now)).await;
        }
    }

    /// A cancel request on a connection of its own, as `psql` sends on Ctrl-C.
    fn canceller(&self) -> Option<Box<dyn Canceller>> {
        Some(Box::new(PostgresCanceller {
            token: self.client.cancel_token(),
            tls: self.tls.clone(),
        }))
    }

    /// The server process holding the advisory lock (granted, in this database), from
    /// `pg_locks` and `pg_stat_activity`: one query, simple protocol.
    async fn lock_holder(&mut self, table: &VersionTable) -> Result<Option<String>, DatabaseError> {
        let (_, _, key) = self.lock_key(table).await?;
        let sql = format!(
            "SELECT a.pid::text, a.usename::text, a.application_name, \
             COALESCE(host(a.client_addr), 'a local socket'), \
             to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' \
             FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
             AND l.database = (SELECT oid FROM pg_catalog.pg_database \
                               WHERE datname = current_database()) \
             AND ((l.classid::bigint << 32) | l.objid::bigint) = {key} LIMIT 1"
        );
        let row = first_row(&self.client, &sql)
            .await
            .map_err(|e| lock_error("reading who holds the migration lock", &e))?;
        Ok(row.map(|row| {
            let field = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
            let application = match field(2) {
                name if name.is_empty() => String::new(),
                name => format!(", application '{name}'"),
            };
            format!(
                "server process {} of user {}{application}, connected from {} since {}",
                field(0),
                field(1),
                field(3),
                field(4)
            )
        }))
    }

    /// One query (simple protocol, so it also passes a transaction-pooling PgBouncer): a
    /// standby in recovery or a read-only session, and `version_num`'s type and length as
    /// `information_schema.columns` gives them (`data_type`, `character_maximum_length`),
    /// read from `pg_catalog` the way that view computes them: the view itself costs
    /// milliseconds to plan on every run.
    async fn preflight(&mut self, table: &VersionTable) -> Result<Preflight, DatabaseError> {
        if let Some((read_for, found)) = self.preflight_read.take() {
            if read_for == *table {
                return Ok(found);
            }
        }
        let messages = self
            .client
            .simple_query(&self.preflight_sql(table))
            .await
            .map_err(|e| session_error("checking that the database accepts writes", &e))?;
        let Some(row) = messages.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        }) else {
            return Ok(Preflight::default());
        };
        let values: Vec<Option<&str>> = (0..row.len()).map(|i| row.get(i)).collect();
        Ok(preflight_from(&values))
    }

    /// Releases the lock of `table` (unless another version table this executor locked
    /// shares it), even when this session is in a failed transaction.
    async fn unlock(&mut self, table: &VersionTable) -> Result<(), DatabaseError> {
        self.preflight_read = None;
        match self.locks.release(table) {
            None => Ok(()),
            Some((_, HeldLock::Connection { lock, .. })) => {
                lock.release().await;
                Ok(())
            }
            Some((key, HeldLock::Session { .. })) => {
                if self.release_session_lock(key).await? {
                    Ok(())
                } else {
                    Err(DatabaseError::other(format!(
                        "the migration lock (advisory lock key {key}) was not held by this server \
                         session: the connection goes through a pooler in transaction mode, and \
                         the lock may still be held by one of its server connections. Use \
                         lock_mode=transaction in the database URL"
                    )))
                }
            }
        }
    }

    /// Reads `pg_catalog` in one round trip once this session has prepared the catalog
    /// queries (see the `snapshot` module).
    async fn snapshot(&mut self, table: &VersionTable) -> Result<Snapshot, DatabaseError> {
        self.preflight_read = None;
        crate::snapshot::read_snapshot(&self.client, table, &mut self.snapshot_prepared).await
    }
}

/// Cancels the statement running on one connection ([`Executor::canceller`]).
struct PostgresCanceller {
    token: tokio_postgres::CancelToken,
    tls: Option<MakeRustlsConnect>,
}

#[async_trait]
impl Canceller for PostgresCanceller {
    async fn cancel(&self) -> Result<(), DatabaseError> {
        let sent = match &self.tls {
            Some(tls) => self.token.cancel_query(tls.clone()).await,
            None => self.token.cancel_query(NoTls).await,
        };
        sent.map_err(|e| {
            DatabaseError::other(format!(
                "sending the cancel request failed: {}",
                describe(&e)
            ))
        })
    }
}
