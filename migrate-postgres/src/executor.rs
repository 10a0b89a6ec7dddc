//! The connection to a PostgreSQL server, as the migrator drives it.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use migrate_core::{DatabaseError, Dialect, Executor, VersionTable};
use tokio_postgres::config::{Host, SslMode as PgSslMode};
use tokio_postgres::{Client, NoTls};

use crate::dialect::PostgresDialect;
use crate::tls::connector;
use crate::url::{parse_postgres_url, PostgresTarget, SslMode};

/// How often a waiting run asks for the advisory lock again.
const LOCK_POLL: Duration = Duration::from_millis(100);

/// A [`migrate_core::Executor`] over one tokio-postgres connection.
pub struct PostgresExecutor {
    client: Client,
    dialect: PostgresDialect,
    locked: Option<i64>,
}

/// One line for a tokio-postgres error: the server's message with its SQLSTATE, detail and
/// hint, or the driver's reason.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
        if let Some(detail) = db.detail() {
            s.push_str(&format!("; DETAIL: {detail}"));
        }
        if let Some(hint) = db.hint() {
            s.push_str(&format!("; HINT: {hint}"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = inner.source();
    }
    s
}

fn where_to(target: &PostgresTarget) -> String {
    let host = match target.config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = target.config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{host}:{port} as {} (database {})",
        target.config.get_user().unwrap_or("?"),
        target.config.get_dbname().unwrap_or("?")
    )
}

/// FNV-1a, 64 bits: a stable hash, so every replica derives the same advisory-lock key.
fn fnv1a(text: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash as i64
}

impl PostgresExecutor {
    /// Connect with a `postgres://` / `postgresql://` URL (`sslmode`, `sslrootcert`,
    /// `connect_timeout`, `application_name` understood). The connection runs on the current
    /// tokio runtime. Errors are one line and never contain the password.
    pub async fn connect(url: &str) -> Result<Self, DatabaseError> {
        let target = parse_postgres_url(url)?;
        Self::connect_to(&target).await
    }

    /// Connect to an already parsed target.
    pub async fn connect_to(target: &PostgresTarget) -> Result<Self, DatabaseError> {
        let mut config = target.config.clone();
        let fail = |e: tokio_postgres::Error| {
            DatabaseError::connect(format!(
                "cannot connect to PostgreSQL at {}: {}",
                where_to(target),
                describe(&e)
            ))
        };
        let client = match connector(target)? {
            None => {
                config.ssl_mode(PgSslMode::Disable);
                let (client, connection) = config.connect(NoTls).await.map_err(fail)?;
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                client
            }
            Some(tls) => {
                config.ssl_mode(match target.ssl_mode {
                    SslMode::Allow | SslMode::Prefer => PgSslMode::Prefer,
                    _ => PgSslMode::Require,
                });
                let (client, connection) = config.connect(tls).await.map_err(fail)?;
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                client
            }
        };
        Ok(Self::from_client(client))
    }

    /// Use a connection the caller already holds (its connection task must be running).
    pub fn from_client(client: Client) -> Self {
        PostgresExecutor {
            client,
            dialect: PostgresDialect,
            locked: None,
        }
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Give the client back.
    pub fn into_client(self) -> Client {
        self.client
    }

    async fn lock_key(&self, table: &VersionTable) -> Result<i64, DatabaseError> {
        let row = self
            .client
            .query_one("SELECT current_database()::text", &[])
            .await
            .map_err(|e| DatabaseError::other(describe(&e)))?;
        let db: String = row.get(0);
        Ok(fnv1a(&format!(
            "migrate:{db}:{}.{}",
            table.schema.as_deref().unwrap_or(""),
            table.name
        )))
    }
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
            .map_err(|e| DatabaseError::statement(describe(&e)))
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
        let exists = self
            .client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = COALESCE($1::text, current_schema()) AND tablename = $2::text)",
                &[&table.schema, &table.name],
            )
            .await
            .map_err(|e| DatabaseError::other(describe(&e)))?;
        if !exists.get::<_, bool>(0) {
            return Ok(None);
        }
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT version_num FROM {}",
                    self.dialect.version_table_name(table)
                ),
                &[],
            )
            .await
            .map_err(|e| DatabaseError::other(describe(&e)))?;
        Ok(Some(rows.iter().map(|r| r.get::<_, String>(0)).collect()))
    }

    /// A session-level advisory lock keyed from the database, schema and table: it survives
    /// commits, and dies with the connection if the process does.
    async fn lock(&mut self, table: &VersionTable, wait: Duration) -> Result<(), DatabaseError> {
        let key = self.lock_key(table).await?;
        let started = Instant::now();
        loop {
            let row = self
                .client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                .await
                .map_err(|e| DatabaseError::other(describe(&e)))?;
            if row.get::<_, bool>(0) {
                self.locked = Some(key);
                return Ok(());
            }
            if started.elapsed() >= wait {
                return Err(DatabaseError::lock_timeout(format!(
                    "could not take the migration lock within {} s: another migration run holds PostgreSQL advisory lock {key} (see `SELECT pid, granted FROM pg_locks WHERE locktype = 'advisory'`); wait for it to finish, or raise lock_timeout",
                    wait.as_secs()
                )));
            }
            tokio::time::sleep(LOCK_POLL.min(wait.saturating_sub(started.elapsed()))).await;
        }
    }

    async fn unlock(&mut self, _table: &VersionTable) -> Result<(), DatabaseError> {
        if let Some(key) = self.locked.take() {
            self.client
                .query_one("SELECT pg_advisory_unlock($1)", &[&key])
                .await
                .map_err(|e| DatabaseError::other(describe(&e)))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_are_stable() {
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325_u64 as i64);
        assert_eq!(
            fnv1a("migrate:test:.alembic_version"),
            fnv1a("migrate:test:.alembic_version")
        );
        assert_ne!(fnv1a("migrate:a:.t"), fnv1a("migrate:b:.t"));
    }
}
