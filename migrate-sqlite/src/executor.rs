//! [`SqliteExecutor`]: the migrator's connection to one SQLite database.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use migrate_core::{DatabaseError, Dialect, Executor, Snapshot, VersionTable};
use rusqlite::{Connection, OptionalExtension};

use crate::dialect::SqliteDialect;
use crate::lock::SidecarLock;
use crate::url::{parse_sqlite_url, SqliteLocation};

/// How long a statement waits for another connection's write lock before failing with
/// `database is locked`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A SQLite connection driven by the migrator. SQLite is embedded, so every method runs
/// synchronously inside its `async fn`; only the lock wait yields.
#[derive(Debug)]
pub struct SqliteExecutor {
    conn: Connection,
    dialect: SqliteDialect,
    lock: Option<SidecarLock>,
}

impl SqliteExecutor {
    /// Open the database a `sqlite[+driver]://` URL names (see [`crate::parse_sqlite_url`]),
    /// creating the file when it does not exist, as Alembic does.
    pub fn from_url(url: &str) -> Result<Self, DatabaseError> {
        match parse_sqlite_url(url)? {
            SqliteLocation::Memory => Self::in_memory(),
            SqliteLocation::File(path) => Self::open(path),
        }
    }

    /// Open (or create) the database file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, DatabaseError> {
        let path = path.as_ref();
        let cannot_open = |e: rusqlite::Error| {
            let shown = path.display().to_string();
            let reason = message(&e);
            // rusqlite appends the path to the reason; say it once.
            let reason = reason
                .strip_suffix(&format!(": {shown}"))
                .unwrap_or(&reason);
            DatabaseError::connect(format!("cannot open SQLite database {shown}: {reason}"))
        };
        let exec = Self::from_connection(Connection::open(path).map_err(cannot_open)?)?;
        // SQLite reads the file on the first statement; read it now, so that a file that is
        // not a database fails here, and so that the schema (which SQLite parses whole: 30 ms
        // for 10,000 tables) is read while the caller may still be reading revision files.
        exec.conn
            .prepare("SELECT 1 FROM sqlite_master LIMIT 1")
            .map(drop)
            .map_err(cannot_open)?;
        Ok(exec)
    }

    /// A new private in-memory database.
    pub fn in_memory() -> Result<Self, DatabaseError> {
        let conn = Connection::open_in_memory().map_err(|e| {
            DatabaseError::connect(format!(
                "cannot open an in-memory SQLite database: {}",
                message(&e)
            ))
        })?;
        Self::from_connection(conn)
    }

    /// Drive an existing connection (for a program that migrates its own database). Sets a
    /// busy timeout of [`BUSY_TIMEOUT`].
    pub fn from_connection(conn: Connection) -> Result<Self, DatabaseError> {
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| DatabaseError::connect(message(&e)))?;
        Ok(SqliteExecutor {
            conn,
            dialect: SqliteDialect,
            lock: None,
        })
    }

    /// The underlying connection.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Give the connection back (releasing the migration lock if it is still held).
    pub fn into_connection(self) -> Connection {
        self.conn
    }

    /// The file holding the database `schema` (`main` when `None`), or `None` for in-memory
    /// and temporary databases.
    fn database_file(&self, schema: Option<&str>) -> Result<Option<PathBuf>, DatabaseError> {
        let schema = schema.unwrap_or("main");
        let mut stmt = self
            .conn
            .prepare("SELECT file FROM pragma_database_list WHERE name = ?1")
            .map_err(other)?;
        let file: Option<String> = stmt
            .query_row([schema], |row| row.get(0))
            .optional()
            .map_err(other)?;
        match file {
            None => Err(DatabaseError::other(format!(
                "no attached SQLite database is named `{schema}` (the version table's schema)"
            ))),
            Some(file) if file.is_empty() => Ok(None),
            Some(file) => Ok(Some(PathBuf::from(file))),
        }
    }
}

/// SQLite's own message for `e`, on one line.
fn message(e: &rusqlite::Error) -> String {
    let text = match e {
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => other.to_string(),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn statement(e: rusqlite::Error) -> DatabaseError {
    DatabaseError::statement(message(&e))
}

fn other(e: rusqlite::Error) -> DatabaseError {
    DatabaseError::other(message(&e))
}

#[async_trait]
impl Executor for SqliteExecutor {
    fn dialect(&self) -> &dyn Dialect {
        &self.dialect
    }

    /// Runs the text as given; rows a statement returns (`RETURNING`, some `PRAGMA`s) are
    /// discarded.
    async fn execute(&mut self, sql: &str) -> Result<(), DatabaseError> {
        self.conn.execute_batch(sql).map_err(statement)
    }

    /// `BEGIN IMMEDIATE`: takes SQLite's write lock at once, so a concurrent writer fails
    /// (after the busy timeout) before any migration SQL runs rather than in the middle.
    async fn begin(&mut self) -> Result<(), DatabaseError> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(other)
    }

    async fn commit(&mut self) -> Result<(), DatabaseError> {
        self.conn.execute_batch("COMMIT").map_err(other)
    }

    async fn rollback(&mut self) -> Result<(), DatabaseError> {
        self.conn.execute_batch("ROLLBACK").map_err(other)
    }

    async fn read_versions(
        &mut self,
        table: &VersionTable,
    ) -> Result<Option<Vec<String>>, DatabaseError> {
        let master = match &table.schema {
            Some(schema) => format!("{}.sqlite_master", self.dialect.quote_identifier(schema)),
            None => "sqlite_master".to_string(),
        };
        let exists = self
            .conn
            .query_row(
                &format!("SELECT count(*) FROM {master} WHERE type = 'table' AND name = ?1"),
                [&table.name],
                |row| row.get::<_, i64>(0),
            )
            .map_err(other)?;
        if exists == 0 {
            return Ok(None);
        }
        let sql = format!(
            "SELECT version_num FROM {}",
            self.dialect.version_table_name(table)
        );
        let mut stmt = self.conn.prepare(&sql).map_err(other)?;
        let rows = stmt
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(other)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(other)?;
        Ok(Some(rows))
    }

    /// Locks `<database file>.migrate-lock` (see the `lock` module for why a sidecar file).
    /// In-memory databases are private to their connection and need no lock.
    async fn lock(&mut self, table: &VersionTable, wait: Duration) -> Result<(), DatabaseError> {
        if self.lock.is_some() {
            return Ok(());
        }
        if let Some(file) = self.database_file(table.schema.as_deref())? {
            let path = SidecarLock::path_for(&file);
            self.lock = Some(SidecarLock::acquire(path, wait).await?);
        }
        Ok(())
    }

    async fn unlock(&mut self, _table: &VersionTable) -> Result<(), DatabaseError> {
        match self.lock.take() {
            Some(lock) => lock.release(),
            None => Ok(()),
        }
    }

    /// Reads `sqlite_schema` and the pragmas of the `main` database (see the `snapshot` module).
    async fn snapshot(&mut self, table: &VersionTable) -> Result<Snapshot, DatabaseError> {
        crate::snapshot::read_snapshot(&self.conn, table)
    }
}
