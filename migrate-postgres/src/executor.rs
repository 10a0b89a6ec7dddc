//! [`PostgresExecutor`]: one connection driven by the migrator.

use std::time::Duration;

use async_trait::async_trait;
use migrate_core::{DatabaseError, Dialect, Executor, Snapshot, VersionTable};
use tokio::time::Instant;
use tokio_postgres::{Client, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::dialect::PostgresDialect;
use crate::error::{describe, session_error, statement_error};
use crate::lock::advisory_lock_key;
use crate::tls;
use crate::url::{ConnectOptions, Host, SslMode};

/// How often a waiting [`Executor::lock`] asks again.
const LOCK_POLL_INTERVAL: Duration = Duration::from_millis(75);

/// A connection to a PostgreSQL database.
pub struct PostgresExecutor {
    client: Client,
    dialect: PostgresDialect,
    /// The advisory-lock key taken by [`Executor::lock`], until [`Executor::unlock`].
    held_lock: Option<i64>,
}

impl std::fmt::Debug for PostgresExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresExecutor")
            .field("held_lock", &self.held_lock)
            .finish_non_exhaustive()
    }
}

impl PostgresExecutor {
    /// Connect to `url` (`postgres://`, `postgresql://` or `postgresql+DRIVER://`), honouring
    /// `sslmode`, `sslrootcert`, `connect_timeout`, `application_name` and `host=/socket/dir`.
    /// The connection task is spawned on the current tokio runtime. Errors are one line
    /// and never contain the password or the URL.
    pub async fn connect(url: &str) -> Result<Self, DatabaseError> {
        let options = ConnectOptions::parse(url)?;
        Self::connect_with(&options).await
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
        let failed = |mut cause: String| {
            if cause.contains("UnknownIssuer") {
                cause.push_str(if options.sslrootcert.is_some() {
                    " (the sslrootcert file does not hold the CA that signed the server's certificate)"
                } else {
                    " (give the CA that signed the server's certificate with sslrootcert=PATH)"
                });
            }
            DatabaseError::connect(format!(
                "cannot connect to PostgreSQL at {} as {} (database {}, sslmode={}): {cause}",
                options.describe_server(),
                options.user,
                options.dbname,
                options.sslmode.as_str()
            ))
        };
        let client = match tls::client_config(options.sslmode, options.sslrootcert.as_deref())? {
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
                let optional = matches!(options.sslmode, SslMode::Allow | SslMode::Prefer);
                match config.connect(MakeRustlsConnect::new(tls_config)).await {
                    Ok((client, connection)) => {
                        runtime.spawn(async move {
                            let _ = connection.await;
                        });
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
        Ok(Self::from_client(client))
    }

    /// Wrap a connection the caller already holds (its connection task must be running).
    pub fn from_client(client: Client) -> Self {
        PostgresExecutor {
            client,
            dialect: PostgresDialect,
            held_lock: None,
        }
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The schema `table` lives in: its own, or the session's `current_schema()`.
    async fn schema_of(&self, table: &VersionTable) -> Result<String, DatabaseError> {
        if let Some(schema) = &table.schema {
            return Ok(schema.clone());
        }
        let row = self
            .client
            .query_one("SELECT current_schema()::text", &[])
            .await
            .map_err(|e| session_error("reading current_schema()", &e))?;
        let schema: Option<String> = row.get(0);
        schema.ok_or_else(|| {
            DatabaseError::other(
                "the session has no current schema (search_path names no existing schema); set version_table_schema",
            )
        })
    }

    /// The advisory-lock key for `table` in this database.
    async fn lock_key(&self, table: &VersionTable) -> Result<(i64, String), DatabaseError> {
        let schema = self.schema_of(table).await?;
        let row = self
            .client
            .query_one("SELECT current_database()::text", &[])
            .await
            .map_err(|e| session_error("reading current_database()", &e))?;
        let database: String = row.get(0);
        let key = advisory_lock_key(&database, &schema, &table.name);
        Ok((key, format!("{database}.{schema}.{}", table.name)))
    }
}

/// Whether connecting failed in the TLS handshake (not in the server's login checks).
fn is_tls_handshake_failure(error: &tokio_postgres::Error) -> bool {
    error.as_db_error().is_none() && error.to_string().contains("TLS handshake")
}

#[async_trait]
impl Executor for PostgresExecutor {
    fn dialect(&self) -> &dyn Dialect {
        &self.dialect
    }

    async fn execute(&mut self, sql: &str) -> Result<(), DatabaseError> {
        self.client
            .batch_execute(sql)
            .await
            .map_err(|e| statement_error(&e))
    }

    async fn begin(&mut self) -> Result<(), DatabaseError> {
        self.execute("BEGIN").await
    }

    async fn commit(&mut self) -> Result<(), DatabaseError> {
        self.execute("COMMIT").await
    }

    async fn rollback(&mut self) -> Result<(), DatabaseError> {
        self.execute("ROLLBACK").await
    }

    async fn read_versions(
        &mut self,
        table: &VersionTable,
    ) -> Result<Option<Vec<String>>, DatabaseError> {
        let schema = self.schema_of(table).await?;
        let exists = self
            .client
            .query_opt(
                "SELECT 1 FROM pg_catalog.pg_class c \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = $1 AND c.relname = $2 \
                 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
                &[&schema, &table.name],
            )
            .await
            .map_err(|e| session_error("looking for the version table", &e))?;
        if exists.is_none() {
            return Ok(None);
        }
        let qualified = VersionTable {
            name: table.name.clone(),
            schema: Some(schema),
        };
        let sql = format!(
            "SELECT version_num FROM {}",
            self.dialect.version_table_name(&qualified)
        );
        let rows = self
            .client
            .query(sql.as_str(), &[])
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

    async fn lock(&mut self, table: &VersionTable, wait: Duration) -> Result<(), DatabaseError> {
        let (key, what) = self.lock_key(table).await?;
        let deadline = Instant::now() + wait;
        loop {
            let row = self
                .client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                .await
                .map_err(|e| session_error("taking the migration lock", &e))?;
            if row.get::<_, bool>(0) {
                self.held_lock = Some(key);
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(DatabaseError::lock_timeout(format!(
                    "another migration holds the lock on {what} (advisory lock key {key}); gave up after {:.1} s. \
                     See who holds it: SELECT pid, granted FROM pg_locks WHERE locktype = 'advisory' \
                     AND ((classid::bigint << 32) | objid::bigint) = {key}",
                    wait.as_secs_f64()
                )));
            }
            tokio::time::sleep(LOCK_POLL_INTERVAL.min(deadline - now)).await;
        }
    }

    async fn unlock(&mut self, table: &VersionTable) -> Result<(), DatabaseError> {
        let key = match self.held_lock {
            Some(key) => key,
            None => self.lock_key(table).await?.0,
        };
        let row = self
            .client
            .query_one("SELECT pg_advisory_unlock($1)", &[&key])
            .await
            .map_err(|e| session_error("releasing the migration lock", &e))?;
        self.held_lock = None;
        if row.get::<_, bool>(0) {
            Ok(())
        } else {
            Err(DatabaseError::other(format!(
                "the migration lock (advisory lock key {key}) was not held by this session"
            )))
        }
    }

    /// Reads `pg_catalog` in one round trip (see the `snapshot` module).
    async fn snapshot(&mut self, table: &VersionTable) -> Result<Snapshot, DatabaseError> {
        crate::snapshot::read_snapshot(&self.client, table).await
    }
}
