//! Scratch databases for `verify` and `drift`: a private in-memory database, empty or a copy
//! of a database file.

use std::path::Path;

use migrate_core::{DatabaseError, Dialect, VersionTable};
use rusqlite::Connection;

use crate::executor::SqliteExecutor;

impl SqliteExecutor {
    /// A private in-memory copy of the database file at `path` (read with SQLite's backup
    /// API; the file is not changed). Without `keep_data`, every table but the version table
    /// `table` and its history table is emptied, so the copy holds the schema and the version
    /// rows only.
    pub fn copy_of(
        path: &Path,
        keep_data: bool,
        table: &VersionTable,
    ) -> Result<SqliteExecutor, DatabaseError> {
        if !path.is_file() {
            return Err(DatabaseError::connect(format!(
                "cannot copy SQLite database {}: no such file",
                path.display()
            )));
        }
        let mut conn = Connection::open_in_memory().map_err(|e| {
            DatabaseError::connect(format!("cannot open an in-memory SQLite database: {e}"))
        })?;
        conn.restore(
            rusqlite::MAIN_DB,
            path,
            None::<fn(rusqlite::backup::Progress)>,
        )
        .map_err(|e| {
            DatabaseError::connect(format!(
                "cannot copy SQLite database {}: {e}",
                path.display()
            ))
        })?;
        if !keep_data {
            empty_tables(&conn, table)?;
        }
        SqliteExecutor::from_connection(conn)
    }
}

/// Deletes the rows of every table but the version and history tables. Twice, since a
/// trigger may write into a table already emptied.
fn empty_tables(conn: &Connection, table: &VersionTable) -> Result<(), DatabaseError> {
    let failed = |e: rusqlite::Error| DatabaseError::other(format!("emptying the copy: {e}"));
    let history = format!("{}_history", table.name);
    let mut stmt = conn
        .prepare(
            "SELECT name FROM pragma_table_list WHERE schema = 'main' \
             AND type IN ('table', 'virtual') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        )
        .map_err(failed)?;
    let names: Vec<String> = stmt
        .query_map([], |row| row.get(0))
        .map_err(failed)?
        .collect::<Result<_, _>>()
        .map_err(failed)?;
    let dialect = crate::dialect::SqliteDialect;
    for _ in 0..2 {
        for name in names.iter().filter(|n| **n != table.name && **n != history) {
            conn.execute_batch(&format!("DELETE FROM {}", dialect.quote_identifier(name)))
                .map_err(failed)?;
        }
    }
    Ok(())
}
