//! [`SqliteExecutor`]: the migrator's connection to one SQLite database.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use migrate_core::held_locks::HeldLocks;
use migrate_core::url::{Backend, DatabaseUrl, SqliteTarget};
use migrate_core::{
    Canceller, DatabaseError, Dialect, Executor, Preflight, Snapshot, VersionColumn, VersionTable,
};
use rusqlite::{Connection, OptionalExtension};

use crate::dialect::SqliteDialect;
use crate::lock::SidecarLock;

/// How long a statement waits for another connection's write lock before failing with
/// `database is locked`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A SQLite connection driven by the migrator. SQLite is embedded, so every method runs
/// synchronously inside its `async fn`; only the lock wait yields.
#[derive(Debug)]
pub struct SqliteExecutor {
    conn: Connection,
    dialect: SqliteDialect,
    /// The migration locks held, under their lock files: one per database file, whichever
    /// version tables of it were locked.
    locks: HeldLocks<PathBuf, SidecarLock>,
}

impl SqliteExecutor {
    /// Open the database a `sqlite[+driver]://` URL names (see [`Self::open_url`]).
    pub fn from_url(url: &str) -> Result<Self, DatabaseError> {
        Self::open_url(&DatabaseUrl::parse(url)?)
    }

    /// Open the database a parsed `sqlite://` URL names (SQLAlchemy's reading of the path,
    /// see [`migrate_core::url`]), creating the file when it does not exist, as Alembic does.
    /// Query parameters (`?check_same_thread=False`, ...) are options of Python drivers and
    /// are ignored.
    pub fn open_url(url: &DatabaseUrl) -> Result<Self, DatabaseError> {
        match (url.backend(), url.sqlite_target()) {
            (Backend::Sqlite, Some(SqliteTarget::Memory)) => Self::in_memory(),
            (Backend::Sqlite, Some(SqliteTarget::File(path))) => Self::open(path),
            _ => Err(DatabaseError::connect(format!(
                "not a SQLite URL (scheme `{}`): expected sqlite:///relative.db, \
                 sqlite:////absolute.db or sqlite://",
                url.scheme()
            ))),
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
            locks: HeldLocks::new(),
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

/// The length in a declared type such as `VARCHAR(32)`.
fn declared_length(data_type: &str) -> Option<usize> {
    let open = data_type.find('(')?;
    let close = data_type[open..].find(')')? + open;
    data_type[open + 1..close].trim().parse().ok()
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

/// A failed statement; `SQLITE_BUSY` (another connection held the write lock past the busy
/// timeout) is a lock wait, which may be retried.
fn statement(e: rusqlite::Error) -> DatabaseError {
    if is_busy(&e) {
        return DatabaseError::lock_wait(message(&e));
    }
    DatabaseError::statement(message(&e))
}

/// A failure of the executor's own statements (`BEGIN IMMEDIATE` waits for the write lock
/// too, and may give up on it).
fn other(e: rusqlite::Error) -> DatabaseError {
    if is_busy(&e) {
        return DatabaseError::lock_wait(message(&e));
    }
    DatabaseError::other(message(&e))
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy)
}

#[async_trait]
impl Executor for SqliteExecutor {
    fn dialect(&self) -> &dyn Dialect {
        &self.dialect
    }

    /// SQLite's interrupt: the running statement fails with `SQLITE_INTERRUPT`.
    fn canceller(&self) -> Option<Box<dyn Canceller>> {
        Some(Box::new(SqliteCanceller(self.conn.get_interrupt_handle())))
    }

    /// Runs the text as given; rows a statement returns (`RETURNING`, some `PRAGMA`s) are
    /// discarded.
    async fn execute(&mut self, sql: &str) -> Result<(), DatabaseError> {
        self.conn.execute_batch(sql).map_err(statement)
    }

    async fn query_text(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DatabaseError> {
        crate::snapshot::text_rows(&self.conn, sql, statement)
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

    /// Locks `<database file>.migrate-lock` (see the `lock` module for why a sidecar file)
    /// of the file holding `table` (an attached database has a file, and a lock, of its own).
    /// In-memory databases are private to their connection and need no lock.
    async fn lock(&mut self, table: &VersionTable, wait: Duration) -> Result<(), DatabaseError> {
        if self.locks.holds(table) {
            return Ok(());
        }
        if let Some(file) = self.database_file(table.schema.as_deref())? {
            let path = SidecarLock::path_for(&file);
            if !self.locks.join(&path, table) {
                let lock = SidecarLock::acquire(path.clone(), wait).await?;
                self.locks.insert(path, table.clone(), lock);
            }
        }
        Ok(())
    }

    /// Releases the lock file of `table`, unless another version table of the same database
    /// file is still locked.
    async fn unlock(&mut self, table: &VersionTable) -> Result<(), DatabaseError> {
        match self.locks.release(table) {
            Some((_, lock)) => lock.release(),
            None => Ok(()),
        }
    }

    /// A file SQLite opened read-only, and the declared type of `version_num` (SQLite does
    /// not enforce `VARCHAR(32)`, but the other databases do, so the declared length counts).
    async fn preflight(&mut self, table: &VersionTable) -> Result<Preflight, DatabaseError> {
        let schema = table.schema.as_deref().unwrap_or("main");
        let read_only = match self.conn.is_readonly(schema) {
            Ok(true) => Some(match self.database_file(table.schema.as_deref())? {
                Some(file) => format!("the SQLite file {} is opened read-only", file.display()),
                None => "the SQLite database is opened read-only".to_string(),
            }),
            _ => None,
        };
        let exists: i64 = self
            .conn
            .query_row(
                &format!(
                    "SELECT count(*) FROM {}.sqlite_master WHERE type = 'table' AND name = ?1",
                    self.dialect.quote_identifier(schema)
                ),
                [&table.name],
                |row| row.get(0),
            )
            .map_err(other)?;
        let version_column = if exists == 0 {
            None
        } else {
            let declared: Option<String> = self
                .conn
                .query_row(
                    "SELECT type FROM pragma_table_info(?1, ?2) WHERE name = 'version_num'",
                    [table.name.as_str(), schema],
                    |row| row.get(0),
                )
                .optional()
                .map_err(other)?;
            Some(declared.map(|data_type| VersionColumn {
                max_length: declared_length(&data_type),
                data_type,
            }))
        };
        Ok(Preflight {
            read_only,
            version_column,
        })
    }

    /// Reads `sqlite_schema` and the pragmas of the `main` database (see the `snapshot` module).
    async fn snapshot(&mut self, table: &VersionTable) -> Result<Snapshot, DatabaseError> {
        crate::snapshot::read_snapshot(&self.conn, table)
    }
}

/// Interrupts the statement running on one connection ([`Executor::canceller`]).
struct SqliteCanceller(rusqlite::InterruptHandle);

#[async_trait]
impl Canceller for SqliteCanceller {
    async fn cancel(&self) -> Result<(), DatabaseError> {
        self.0.interrupt();
        Ok(())
    }
}
