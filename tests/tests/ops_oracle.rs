//! Alembic operations rendered by each backend's dialect, statement for statement as Alembic
//! 1.20.1 prints them offline.
//!
//! The fixtures are `tests/fixtures/ops/GROUP/versions/*.py` (one operation per revision,
//! written from `GROUP.txt` by `regenerate.py`), and the expected statements
//! `GROUP/expected/DIALECT.txt` are Alembic's own `upgrade base:head --sql` output on
//! `sqlite://`, `postgresql://` and `mysql://`, recorded through the oracle by the same script
//! (where Alembic raises, the file says so, and `migrate` must refuse that revision there).

mod common;

use std::path::Path;

use migrate_core::ops::statements;
use migrate_core::python::parse_python_revision;
use migrate_core::{Dialect, Migration};
use migrate_mysql::MysqlDialect;
use migrate_postgres::PostgresDialect;
use migrate_sqlite::SqliteDialect;

/// What one revision gives on one dialect.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// The statements, each followed by `;\n\n` as in Alembic's script.
    Statements(String),
    /// Refused (Alembic raised / `migrate` cannot render it), with the reason.
    Refused(String),
}

/// Revisions `migrate` refuses although Alembic renders them, and why: a statement Alembic
/// prints that does not do what it says on every server the backend serves, or a construct
/// whose rendering is left to a later issue (never a guess).
const DELIBERATE_REFUSALS: &[(&str, &str, &str)] = &[
    (
        "cn011",
        "mysql",
        "Alembic writes DROP CHECK for mysql://, which MariaDB rejects (DROP CONSTRAINT there)",
    ),
    (
        "tb022",
        "postgresql",
        "a '%' Alembic doubles in its offline script for psycopg2, but not when it runs",
    ),
    ("tb022", "mysql", "a '%' Alembic doubles for PyMySQL"),
    (
        "ty114",
        "postgresql",
        "ARRAY of an Enum: left to the issue of enum changes",
    ),
    (
        "ty030",
        "mysql",
        "Uuid(): CHAR(32) for mysql://, but Alembic runs UUID on MariaDB 10.7+",
    ),
    ("ty119", "mysql", "Uuid(as_uuid=False): the same"),
    ("tb007", "mysql", "a Uuid() column: the same"),
    (
        "ty122",
        "*",
        "Boolean(create_constraint=True): CHECK constraints are the next issue",
    ),
    (
        "ty123",
        "*",
        "Enum(create_constraint=True): CHECK constraints are the next issue",
    ),
    (
        "ck004",
        "*",
        "a bind parameter in a CHECK condition, which Alembic renders as NULL",
    ),
    (
        "ck008",
        "*",
        "a CheckConstraint inside a Column (rendered in the column): not in the model yet",
    ),
    (
        "bt013",
        "*",
        "create_primary_key: not in the operation model yet",
    ),
];

fn expected(group: &str, dialect: &str) -> Vec<(String, Outcome)> {
    let path = common::fixture("ops")
        .join(group)
        .join("expected")
        .join(format!("{dialect}.txt"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out: Vec<(String, Outcome)> = Vec::new();
    for line in text.split_inclusive('\n') {
        if let Some(header) = line.strip_prefix("-- ") {
            let header = header.trim_end();
            let (rev, rest) = header.split_once(' ').unwrap_or((header, ""));
            let outcome = match rest.strip_prefix("refused by Alembic: ") {
                Some(why) => Outcome::Refused(why.to_string()),
                None => Outcome::Statements(String::new()),
            };
            out.push((rev.to_string(), outcome));
        } else if let Some((_, Outcome::Statements(s))) = out.last_mut() {
            s.push_str(line);
        }
    }
    out
}

fn ours(group: &str, dialect: &dyn Dialect) -> Vec<(String, Outcome)> {
    let dir = common::fixture("ops").join(group).join("versions");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let rev = parse(path);
            let Migration::Sql(blocks) = &rev.upgrade else {
                return (rev.id, Outcome::Refused(format!("{:?}", rev.upgrade)));
            };
            let mut text = String::new();
            for block in blocks {
                match statements(block, dialect) {
                    Ok(stmts) => {
                        for s in stmts {
                            text.push_str(&s.text);
                            text.push_str(";\n\n");
                        }
                    }
                    Err(e) => return (rev.id, Outcome::Refused(e.message)),
                }
            }
            (rev.id, Outcome::Statements(text))
        })
        .collect()
}

fn parse(path: &Path) -> migrate_core::Revision {
    let text = std::fs::read_to_string(path).unwrap();
    parse_python_revision(path, &text).unwrap_or_else(|e| panic!("{e}"))
}

fn check(group: &str) {
    let dialects: [&dyn Dialect; 3] = [&SqliteDialect, &PostgresDialect, &MysqlDialect];
    let mut failures = Vec::new();
    let mut compared = 0;
    for dialect in dialects {
        let want = expected(group, dialect.name());
        let got = ours(group, dialect);
        assert_eq!(
            want.iter().map(|(r, _)| r).collect::<Vec<_>>(),
            got.iter().map(|(r, _)| r).collect::<Vec<_>>(),
            "{group}: the revisions and the recorded output disagree; run regenerate.py"
        );
        for ((rev, want), (_, got)) in want.iter().zip(&got) {
            compared += 1;
            let deliberate = DELIBERATE_REFUSALS
                .iter()
                .any(|(r, d, _)| r == rev && (*d == "*" || *d == dialect.name()));
            match (want, got) {
                (Outcome::Statements(a), Outcome::Statements(b)) if a == b => {}
                (Outcome::Refused(_), Outcome::Refused(_)) => {}
                (Outcome::Statements(_), Outcome::Refused(_)) if deliberate => {}
                _ => failures.push(format!(
                    "{group}/{rev} on {}:\n  Alembic: {want:?}\n  migrate: {got:?}",
                    dialect.name()
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn create_table_and_drop_table_render_as_alembic_prints_them() {
    check("tables");
}

#[test]
fn add_column_and_drop_column_render_as_alembic_prints_them() {
    check("columns");
}

#[test]
fn create_index_and_drop_index_render_as_alembic_prints_them() {
    check("indexes");
}

#[test]
fn alter_column_renders_as_alembic_prints_it() {
    check("alter");
}

#[test]
fn foreign_keys_unique_constraints_and_drop_constraint_render_as_alembic_prints_them() {
    check("constraints");
}

#[test]
fn every_type_renders_on_each_dialect_as_alembic_prints_it() {
    check("types");
}

#[test]
fn check_constraints_and_rename_table_render_as_alembic_prints_them() {
    check("checks");
}

#[test]
fn batch_alter_table_renders_as_alembic_prints_it_where_alembic_does_not_recreate() {
    check("batch");
}
