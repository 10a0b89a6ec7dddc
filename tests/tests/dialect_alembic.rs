//! Each backend's version-table statements are Alembic's, byte for byte (with the `;` an
//! offline script ends them with): CREATE, INSERT, UPDATE, DELETE and the purge's DELETE, for
//! plain, quoted and reserved table names and for a plain and a quoted schema. The reference,
//! `tests/alembic/version_sql.txt`, is what `tests/alembic/gen_version_sql.py` has Alembic
//! 1.20.1 write (regenerated and compared by `references.rs`).

use migrate_core::{Dialect, VersionTable};
use migrate_mysql::MysqlDialect;
use migrate_postgres::PostgresDialect;
use migrate_sqlite::SqliteDialect;

/// The statement `what` (`create`, `insert ID`, `update FROM TO`, `delete ID`, `purge`) as
/// `dialect` writes it.
fn ours(dialect: &dyn Dialect, table: &VersionTable, what: &str) -> String {
    let words: Vec<&str> = what.split_whitespace().collect();
    let sql = match words.as_slice() {
        ["create"] => dialect.create_version_table(table),
        ["insert", id] => dialect.insert_version(table, id),
        ["update", from, to] => dialect.update_version(table, from, to),
        ["delete", id] => dialect.delete_version(table, id),
        ["purge"] => dialect.purge_versions(table),
        other => panic!("unknown statement {other:?} in version_sql.txt"),
    };
    format!("{sql};\n")
}

#[test]
fn version_table_statements_are_alembics() {
    let reference = include_str!("../alembic/version_sql.txt");
    let mut checked = 0;
    let mut failures = Vec::new();
    for record in reference.split("=== ").skip(1) {
        let (header, alembic) = record.split_once('\n').expect("a header line");
        let fields: Vec<&str> = header.split(" | ").collect();
        let [dialect_name, name, schema, what] = fields[..] else {
            panic!("malformed header {header:?}");
        };
        let dialect: &dyn Dialect = match dialect_name {
            "sqlite" => &SqliteDialect,
            "postgresql" => &PostgresDialect,
            "mysql" => &MysqlDialect,
            other => panic!("unknown dialect {other}"),
        };
        let table = VersionTable {
            name: name.to_string(),
            schema: (schema != "-").then(|| schema.to_string()),
        };
        let ours = ours(dialect, &table, what);
        checked += 1;
        if ours != alembic {
            failures.push(format!(
                "{dialect_name}, table {name:?}, schema {schema}, {what}:\n  ours:    {ours:?}\n  Alembic: {alembic:?}"
            ));
        }
    }
    assert_eq!(checked, 90, "3 dialects x 6 tables x 5 statements");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
