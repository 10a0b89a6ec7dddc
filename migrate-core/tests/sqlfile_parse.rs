//! Reading native `.sql` revision files: header fields, sections, dialect variants, errors.

use std::path::Path;

use migrate_core::sqlfile::parse_sql_revision;
use migrate_core::{Error, Migration, Revision, ScriptFormat, SqlBlock};

const FULL: &str = "-- Create the tenants table
--
-- Revision ID: 1975ea83b712
-- Revises:
-- Branch Labels:
-- Depends On:
-- Create Date: 2026-11-25 07:30:00.123456
--
-- Purpose: every row of the application belongs to a tenant.
-- Impact: new table, no existing data touched.

-- migrate:upgrade dialect=sqlite,postgresql
CREATE TABLE tenants (id CHAR(36) PRIMARY KEY);

-- migrate:upgrade dialect=mysql
CREATE TABLE tenants (id CHAR(36) PRIMARY KEY) ENGINE=InnoDB;

-- migrate:upgrade dialect=postgresql transaction=false
CREATE INDEX CONCURRENTLY tenants_name ON tenants (name);

-- migrate:downgrade
DROP TABLE tenants;
";

fn parse(text: &str) -> Revision {
    parse_sql_revision(Path::new("versions/x.sql"), text).expect("parses")
}

fn parse_err(text: &str) -> (usize, usize, String, Option<String>) {
    match parse_sql_revision(Path::new("versions/bad.sql"), text) {
        Err(Error::Parse {
            path,
            line,
            column,
            message,
            snippet,
        }) => {
            assert_eq!(path, Path::new("versions/bad.sql"));
            (line, column, message, snippet)
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
}

fn blocks(m: &Migration) -> &[SqlBlock] {
    match m {
        Migration::Sql(b) => b,
        other => panic!("expected SQL, got {other:?}"),
    }
}

#[test]
fn the_documented_example_parses() {
    let rev = parse(FULL);
    assert_eq!(rev.id, "1975ea83b712");
    assert!(rev.down_revisions.is_empty());
    assert!(rev.branch_labels.is_empty());
    assert!(rev.depends_on.is_empty());
    assert_eq!(rev.message, "Create the tenants table");
    assert_eq!(
        rev.doc,
        "Create the tenants table\n\nRevision ID: 1975ea83b712\nRevises:\nBranch Labels:\nDepends On:\nCreate Date: 2026-11-25 07:30:00.123456\n\nPurpose: every row of the application belongs to a tenant.\nImpact: new table, no existing data touched."
    );
    assert_eq!(rev.path, Path::new("versions/x.sql"));
    assert_eq!(rev.format, ScriptFormat::Sql);
    assert_eq!(
        blocks(&rev.upgrade),
        &[
            SqlBlock {
                operation: None,
                sql: "CREATE TABLE tenants (id CHAR(36) PRIMARY KEY);".into(),
                line: 13,
                transactional: true,
                dialects: vec!["sqlite".into(), "postgresql".into()],
            },
            SqlBlock {
                operation: None,
                sql: "CREATE TABLE tenants (id CHAR(36) PRIMARY KEY) ENGINE=InnoDB;".into(),
                line: 16,
                transactional: true,
                dialects: vec!["mysql".into()],
            },
            SqlBlock {
                operation: None,
                sql: "CREATE INDEX CONCURRENTLY tenants_name ON tenants (name);".into(),
                line: 19,
                transactional: false,
                dialects: vec!["postgresql".into()],
            },
        ]
    );
    assert_eq!(
        blocks(&rev.downgrade),
        &[SqlBlock {
            operation: None,
            sql: "DROP TABLE tenants;".into(),
            line: 22,
            transactional: true,
            dialects: vec![],
        }]
    );
}

#[test]
fn single_parent_labels_and_dependencies() {
    let rev = parse(
        "-- add a column\n-- Revision ID: 2a2b3c4d5e6f\n-- Revises: 1975ea83b712\n-- Branch Labels: feature, ui\n-- Depends On: 1975ea83b712\n\n-- migrate:upgrade\nSELECT 1;\n-- migrate:downgrade\nSELECT 2;\n",
    );
    assert_eq!(rev.id, "2a2b3c4d5e6f");
    assert_eq!(rev.down_revisions, vec!["1975ea83b712"]);
    assert_eq!(rev.branch_labels, vec!["feature", "ui"]);
    assert_eq!(rev.depends_on, vec!["1975ea83b712"]);
    assert_eq!(rev.message, "add a column");
}

#[test]
fn merges_list_every_parent() {
    let rev = parse(
        "-- merge heads\n-- Revision ID: 4c00000000bb\n-- Revises: 2a2b3c4d5e6f,3b00000000aa , \n-- migrate:upgrade\n-- migrate:downgrade\n",
    );
    assert_eq!(rev.down_revisions, vec!["2a2b3c4d5e6f", "3b00000000aa"]);
}

#[test]
fn none_means_no_value_and_keys_are_case_insensitive() {
    let rev = parse(
        "-- msg\n-- revision id: abc\n-- REVISES: None\n-- branch labels: None\n-- depends on:\n-- create date: whenever\n-- migrate:upgrade\n",
    );
    assert_eq!(rev.id, "abc");
    assert!(rev.down_revisions.is_empty());
    assert!(rev.branch_labels.is_empty());
    assert!(rev.depends_on.is_empty());
}

#[test]
fn message_is_the_first_non_empty_header_line() {
    let rev = parse("--\n--   \n--    Tidy up   \n-- Revision ID: x1\n-- migrate:upgrade\n");
    assert_eq!(rev.message, "Tidy up");
    let rev = parse("-- Revision ID: x1\n-- Revises: x0\n-- migrate:upgrade\n");
    assert_eq!(rev.message, "", "a field line is not a message");
}

#[test]
fn free_text_and_comments_after_the_header_are_allowed() {
    let rev = parse(
        "\n-- msg\n-- Revision ID: r\n-- Purpose: because\n\n-- a note before the sections\n\n-- migrate:upgrade\nSELECT 1; -- inline\n-- a comment inside the section\nSELECT 2;\n",
    );
    assert_eq!(rev.doc, "msg\nRevision ID: r\nPurpose: because");
    assert_eq!(
        blocks(&rev.upgrade)[0].sql,
        "SELECT 1; -- inline\n-- a comment inside the section\nSELECT 2;"
    );
    assert_eq!(blocks(&rev.upgrade)[0].line, 9);
}

#[test]
fn dialect_variants_pick_exactly_the_sections_naming_the_dialect() {
    let rev = parse(
        "-- m\n-- Revision ID: r\n\n-- migrate:upgrade dialect=postgres,mariadb\nB;\n-- migrate:upgrade dialect=sqlite\nC;\n-- migrate:upgrade dialect=PostgreSQL\nD;\n-- migrate:downgrade dialect=mysql\n-- migrate:downgrade dialect=sqlite,postgresql\nE;\n",
    );
    let sql = |dir: &Migration, d: &str| -> Vec<String> {
        dir.blocks_for(d)
            .expect("runnable")
            .into_iter()
            .map(|b| b.sql.clone())
            .collect()
    };
    assert_eq!(
        blocks(&rev.upgrade)[0].dialects,
        vec!["postgresql", "mysql"]
    );
    assert_eq!(blocks(&rev.upgrade)[2].dialects, vec!["postgresql"]);
    assert_eq!(sql(&rev.upgrade, "postgresql"), vec!["B;", "D;"]);
    assert_eq!(sql(&rev.upgrade, "mysql"), vec!["B;"]);
    assert_eq!(sql(&rev.upgrade, "sqlite"), vec!["C;"]);
    // An empty mysql downgrade section means "nothing to do" on MySQL.
    assert_eq!(sql(&rev.downgrade, "mysql"), vec![""]);
    assert_eq!(sql(&rev.downgrade, "sqlite"), vec!["E;"]);
}

/// The issue's case: a generic `CREATE TABLE orders` beside a PostgreSQL-only `CREATE
/// EXTENSION` used to skip the table on PostgreSQL without a word. Such a file is refused at
/// load, naming both sections and the two ways to say what is meant.
#[test]
fn generic_and_dialect_sections_in_one_direction_are_refused_with_the_fix() {
    let (line, column, message, snippet) = parse_err(
        "-- m\n-- Revision ID: r\n\n-- migrate:upgrade\nCREATE TABLE orders (id INT);\n\n-- migrate:upgrade dialect=postgresql\nCREATE EXTENSION pg_trgm;\n\n-- migrate:downgrade\nDROP TABLE orders;\n",
    );
    assert_eq!((line, column), (4, 1));
    assert_eq!(snippet.as_deref(), Some("-- migrate:upgrade"));
    assert_eq!(
        message,
        "this `-- migrate:upgrade` section names no dialect, but the upgrade also has sections for postgresql (line 7), and whether those replace this one there or run beside it cannot be told. Name the dialects of every upgrade section: `-- migrate:upgrade dialect=sqlite,mysql` to run this one only where no other section is given, or `dialect=sqlite,postgresql,mysql` to run it everywhere"
    );
    // Named explicitly, both readings load and do what they say.
    let beside = parse(
        "-- m\n-- Revision ID: r\n-- migrate:upgrade dialect=sqlite,postgresql,mysql\nA;\n-- migrate:upgrade dialect=postgresql\nB;\n",
    );
    let on = |d: &str| -> Vec<String> {
        beside
            .upgrade
            .blocks_for(d)
            .unwrap()
            .into_iter()
            .map(|b| b.sql.clone())
            .collect()
    };
    assert_eq!(on("postgresql"), ["A;", "B;"]);
    assert_eq!(on("sqlite"), ["A;"]);
}

#[test]
fn a_generic_section_that_could_never_run_is_refused() {
    let (line, _, message, _) = parse_err(
        "-- m\n-- Revision ID: r\n-- migrate:upgrade dialect=sqlite\nA;\n-- migrate:upgrade dialect=postgresql,mysql\nB;\n-- migrate:downgrade dialect=sqlite,postgresql,mysql\nC;\n-- migrate:downgrade\nD;\n",
    );
    assert_eq!(line, 9);
    assert_eq!(
        message,
        "this `-- migrate:downgrade` section names no dialect, but every database has downgrade sections of its own (sqlite, postgresql, mysql, from line 7), so it would never run: remove it, or give it `dialect=` to run it beside them"
    );
}

#[test]
fn transaction_false_marks_the_section() {
    let rev = parse(
        "-- m\n-- Revision ID: r\n-- migrate:upgrade transaction=false dialect=postgresql\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- migrate:upgrade dialect=postgresql\nSELECT 1;\n",
    );
    let b = blocks(&rev.upgrade);
    assert!(!b[0].transactional);
    assert_eq!(b[0].dialects, vec!["postgresql"]);
    assert!(b[1].transactional);
}

#[test]
fn missing_downgrade_section_is_missing_but_empty_is_nothing_to_do() {
    let rev = parse("-- m\n-- Revision ID: r\n-- migrate:upgrade\nSELECT 1;\n");
    assert_eq!(rev.downgrade, Migration::Missing);
    assert!(rev.downgrade.blocks_for("sqlite").is_none());

    let rev =
        parse("-- m\n-- Revision ID: r\n-- migrate:upgrade\nSELECT 1;\n-- migrate:downgrade\n\n");
    assert_eq!(
        rev.downgrade,
        Migration::Sql(vec![SqlBlock {
            operation: None,
            sql: String::new(),
            line: 6,
            transactional: true,
            dialects: vec![],
        }])
    );
}

#[test]
fn no_sections_at_all() {
    let rev = parse("-- m\n-- Revision ID: r\n");
    assert_eq!(rev.upgrade, Migration::Missing);
    assert_eq!(rev.downgrade, Migration::Missing);
}

#[test]
fn crlf_and_byte_order_mark() {
    let rev = parse("\u{feff}-- m\r\n-- Revision ID: r\r\n\r\n-- migrate:upgrade\r\nSELECT 1;\r\n-- migrate:downgrade\r\nSELECT 2;\r\n");
    assert_eq!(rev.id, "r");
    assert_eq!(rev.message, "m");
    assert_eq!(blocks(&rev.upgrade)[0].sql, "SELECT 1;");
    assert_eq!(blocks(&rev.upgrade)[0].line, 5);
    assert_eq!(blocks(&rev.downgrade)[0].sql, "SELECT 2;");
}

#[test]
fn error_without_revision_id() {
    let (line, column, message, snippet) =
        parse_err("-- just a message\n-- migrate:upgrade\nSELECT 1;\n");
    assert_eq!((line, column), (1, 1));
    assert!(message.contains("no `-- Revision ID:`"), "{message}");
    assert!(
        message.contains("Revises"),
        "hint lists the fields: {message}"
    );
    assert_eq!(snippet.as_deref(), Some("-- just a message"));

    let (line, _, message, _) = parse_err("-- m\n-- Revision ID:\n-- migrate:upgrade\n");
    assert_eq!(line, 2);
    assert!(message.contains("no value"), "{message}");
}

#[test]
fn error_on_unknown_directive() {
    let (line, column, message, snippet) = parse_err(
        "-- m\n-- Revision ID: r\n\n-- migrate:upgrade\nSELECT 1;\n-- migrate:rollback\n",
    );
    assert_eq!((line, column), (6, 12));
    assert!(
        message.contains("unknown directive `migrate:rollback`"),
        "{message}"
    );
    assert!(message.contains("-- migrate:downgrade"), "{message}");
    assert_eq!(snippet.as_deref(), Some("-- migrate:rollback"));
}

#[test]
fn error_on_unknown_option() {
    let (line, column, message, _) =
        parse_err("-- m\n-- Revision ID: r\n-- migrate:upgrade  transactional=no\n");
    assert_eq!((line, column), (3, 21));
    assert!(
        message.contains("unknown option `transactional=no`"),
        "{message}"
    );
    assert!(message.contains("transaction=false"), "{message}");
}

#[test]
fn error_on_unknown_dialect() {
    let (line, column, message, _) =
        parse_err("-- m\n-- Revision ID: r\n-- migrate:downgrade dialect=mysql,oracle\n");
    assert_eq!((line, column), (3, 36));
    assert!(message.contains("unknown dialect `oracle`"), "{message}");
    assert!(message.contains("postgresql"), "{message}");
}

#[test]
fn error_on_sql_before_the_first_directive() {
    let (line, column, message, snippet) =
        parse_err("-- m\n-- Revision ID: r\n\n  CREATE TABLE t (a int);\n-- migrate:upgrade\n");
    assert_eq!((line, column), (4, 3));
    assert!(
        message.contains("SQL before the first `-- migrate:` directive"),
        "{message}"
    );
    assert_eq!(snippet.as_deref(), Some("  CREATE TABLE t (a int);"));
}

#[test]
fn error_on_a_field_given_twice() {
    let (line, _, message, _) =
        parse_err("-- m\n-- Revision ID: r\n-- Revision ID: s\n-- migrate:upgrade\n");
    assert_eq!(line, 3);
    assert!(message.contains("twice"), "{message}");
}

#[test]
fn error_display_names_file_line_and_column() {
    let err = parse_sql_revision(
        Path::new("v/bad.sql"),
        "-- m\n-- Revision ID: r\n-- migrate:up\n",
    )
    .unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.starts_with("v/bad.sql:3:12: unknown directive"),
        "{shown}"
    );
    assert!(shown.ends_with("\n    -- migrate:up"), "{shown}");
}
