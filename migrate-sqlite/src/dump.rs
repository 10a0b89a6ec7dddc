//! `migrate dump` for SQLite: the schema as the statements SQLite itself keeps for every
//! object, in a canonical order, then the version table and its rows.
//!
//! `sqlite_schema` stores each `CREATE` statement as it was run (SQLite rewrites it on
//! `ALTER TABLE`), so running these statements on an empty database stores the same text
//! again, and the database reads back as an equal [`Snapshot`].

use migrate_core::snapshot::version_table_statements;
use migrate_core::{Snapshot, VersionTable};

use crate::dialect::SqliteDialect;

/// The dump of `snapshot`: tables, then indexes, views and triggers, each in name order, then
/// the version table `table` with `rows` (sorted) when it exists. Stable: the same schema gives
/// the same bytes on every run and machine.
pub fn dump(snapshot: &Snapshot, table: &VersionTable, rows: Option<&[String]>) -> String {
    let mut out = String::from(
        "-- Schema of the database, written by `migrate dump` (SQLite): every table, index, view\n\
         -- and trigger in name order, as SQLite stores its statement, then the version table.\n\
         -- Applied to an empty database it recreates this schema (no data besides the version rows).\n",
    );
    let mut statement = |sql: &str| {
        out.push('\n');
        out.push_str(sql.trim_end());
        out.push_str(";\n");
    };
    for t in &snapshot.tables {
        if let Some(sql) = &t.ddl {
            statement(sql);
        }
    }
    for t in &snapshot.tables {
        for index in &t.indexes {
            if let Some(sql) = &index.ddl {
                statement(sql);
            }
        }
    }
    for v in &snapshot.views {
        if let Some(sql) = &v.ddl {
            statement(sql);
        }
    }
    for trigger in &snapshot.triggers {
        if let Some(sql) = &trigger.ddl {
            statement(sql);
        }
    }
    if let Some(rows) = rows {
        for sql in version_table_statements(&SqliteDialect, table, rows) {
            statement(&sql);
        }
    }
    out
}
