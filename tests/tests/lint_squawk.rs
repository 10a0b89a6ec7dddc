//! squawk as the reference for every squawk-named rule: the same SQL goes through squawk 2.x
//! (`squawk --reporter json`, `--assume-in-transaction` when migrate runs the section in its
//! transaction) and through `migrate lint`, and both must report the same rules on the same
//! statements. Fails under MIGRATE_TEST_REQUIRE_ALL=1 when squawk is not installed
//! (`pip install squawk-cli`).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{require_all, Project};
use migrate_core::lint::Rule;

/// One case: the SQL (one statement per line) and whether migrate runs it in a transaction.
struct Case {
    name: &'static str,
    sql: &'static str,
    transactional: bool,
}

const fn tx(name: &'static str, sql: &'static str) -> Case {
    Case {
        name,
        sql,
        transactional: true,
    }
}

const fn no_tx(name: &'static str, sql: &'static str) -> Case {
    Case {
        name,
        sql,
        transactional: false,
    }
}

const CASES: &[Case] = &[
    tx("index_without_concurrently", "CREATE INDEX i1 ON t (a);"),
    no_tx(
        "concurrent_index_outside_transaction",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS i2 ON t (a);",
    ),
    tx(
        "index_on_a_table_created_in_the_transaction",
        "CREATE TABLE t2 (id bigint);\nCREATE INDEX i3 ON t2 (id);",
    ),
    no_tx(
        "index_outside_transaction_without_if_not_exists",
        "CREATE INDEX CONCURRENTLY i5 ON t (a);",
    ),
    tx("drop_index", "DROP INDEX i1;"),
    no_tx("drop_index_concurrently", "DROP INDEX CONCURRENTLY IF EXISTS i1;"),
    tx(
        "concurrent_index_inside_transaction",
        "SELECT 1;\nCREATE INDEX CONCURRENTLY i4 ON t (a);",
    ),
    tx("required_column", "ALTER TABLE t ADD COLUMN c1 bigint NOT NULL;"),
    tx(
        "not_null_column_with_constant_default",
        "ALTER TABLE t ADD COLUMN c2 bigint NOT NULL DEFAULT 0;",
    ),
    tx(
        "defaults",
        "ALTER TABLE t ADD COLUMN d1 text DEFAULT 'x';\n\
         ALTER TABLE t ADD COLUMN d2 timestamptz DEFAULT now();\n\
         ALTER TABLE t ADD COLUMN d3 uuid DEFAULT gen_random_uuid();\n\
         ALTER TABLE t ADD COLUMN d4 double precision DEFAULT random();\n\
         ALTER TABLE t ADD COLUMN d5 jsonb DEFAULT '{}'::jsonb;\n\
         ALTER TABLE t ADD COLUMN d6 timestamptz DEFAULT CURRENT_TIMESTAMP;\n\
         ALTER TABLE t ADD COLUMN d7 boolean DEFAULT true;",
    ),
    tx(
        "generated_column",
        "ALTER TABLE t ADD COLUMN g bigint GENERATED ALWAYS AS (a * 2) STORED;",
    ),
    tx(
        "foreign_keys",
        "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (id);\n\
         ALTER TABLE t ADD CONSTRAINT fk2 FOREIGN KEY (a) REFERENCES u (id) NOT VALID;\n\
         ALTER TABLE t ADD COLUMN r bigint REFERENCES u (id);",
    ),
    tx(
        "validate_in_the_same_transaction",
        "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0) NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT ck;",
    ),
    tx("column_type", "ALTER TABLE t ALTER COLUMN a TYPE bigint;"),
    tx(
        "renames",
        "ALTER TABLE t RENAME COLUMN a TO b;\nALTER TABLE t RENAME TO t3;",
    ),
    tx(
        "drops",
        "ALTER TABLE t DROP COLUMN a;\nDROP TABLE t;\nDROP DATABASE d;",
    ),
    tx(
        "unique",
        "ALTER TABLE t ADD CONSTRAINT uq UNIQUE (a);\nALTER TABLE t ADD CONSTRAINT uq2 UNIQUE USING INDEX uq_idx;",
    ),
    tx(
        "primary_keys",
        "ALTER TABLE t ADD COLUMN id2 bigint PRIMARY KEY;\nALTER TABLE t ADD PRIMARY KEY (a);",
    ),
    tx(
        "timeouts_set_first",
        "SET lock_timeout = '1s';\nSET statement_timeout = '5s';\nALTER TABLE t ADD COLUMN z bigint;",
    ),
    tx(
        "column_types",
        "CREATE TABLE x (a timestamp, b int, c varchar(10), d char(3), e smallint, f serial, g timestamptz, h text);",
    ),
    tx(
        "long_identifier",
        "CREATE TABLE table_name_that_is_far_too_long_for_postgresql_to_keep_all_of_it_x (a bigint);",
    ),
    tx("begin_inside_migrates_transaction", "BEGIN;\nCOMMIT;"),
    no_tx("commit_without_begin", "COMMIT;"),
    no_tx("nested_begin", "BEGIN;\nBEGIN;\nCOMMIT;"),
    tx("truncate_cascade", "TRUNCATE t CASCADE;"),
    tx(
        "not_null_changes",
        "ALTER TABLE t ALTER COLUMN a DROP NOT NULL;\nALTER TABLE t ALTER COLUMN b SET NOT NULL;",
    ),
    tx(
        "set_not_null_after_a_validated_check",
        "ALTER TABLE t ADD CONSTRAINT nn CHECK (a IS NOT NULL) NOT VALID;\n\
         ALTER TABLE t VALIDATE CONSTRAINT nn;\n\
         ALTER TABLE t ALTER COLUMN a SET NOT NULL;",
    ),
    no_tx(
        "rerunnable_statements",
        "CREATE TABLE y (id bigint);\n\
         DROP TABLE IF EXISTS y;\n\
         ALTER TABLE t ADD COLUMN IF NOT EXISTS q bigint;\n\
         ALTER TABLE t DROP CONSTRAINT c;\n\
         ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);\n\
         CREATE TABLE IF NOT EXISTS z (id bigint);",
    ),
    no_tx(
        "temporary_table_dropped_at_commit",
        "CREATE TEMP TABLE tmp (a bigint) ON COMMIT DROP;",
    ),
];

/// Header lines of each revision file before the upgrade directive.
const HEADER: &str = "-- lint case\n--\n-- Revision ID: {id}\n-- Revises:\n--\n-- Purpose: a squawk comparison case.\n\n";

fn squawk() -> Option<&'static str> {
    let found = Command::new("squawk")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("squawk");
    }
    assert!(
        !require_all(),
        "squawk not installed, and MIGRATE_TEST_REQUIRE_ALL=1 requires it (pip install squawk-cli)"
    );
    eprintln!("skipped: squawk not installed (pip install squawk-cli)");
    None
}

/// (rule, line) pairs, sorted, per file name.
type Reported = BTreeMap<String, Vec<(String, usize)>>;

/// squawk's findings on `files`, lines made 1-based and shifted by `offset` (the line the SQL
/// starts at in the revision file, minus one).
fn run_squawk(
    bin: &str,
    dir: &Path,
    files: &[String],
    in_transaction: bool,
    offset: usize,
) -> Reported {
    let mut cmd = Command::new(bin);
    cmd.current_dir(dir).args(["--reporter", "json"]);
    if in_transaction {
        cmd.arg("--assume-in-transaction");
    }
    let out = cmd.args(files).output().expect("running squawk");
    let text = String::from_utf8_lossy(&out.stdout);
    let found: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "squawk's JSON ({e}):\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut reported = Reported::new();
    for f in found {
        let file = f["file"].as_str().unwrap_or_default();
        let name = file.trim_end_matches(".squawk.sql").to_string();
        let line = f["line"].as_u64().unwrap_or(0) as usize + 1 + offset;
        reported.entry(name).or_default().push((
            f["rule_name"].as_str().unwrap_or_default().to_string(),
            line,
        ));
    }
    reported
}

#[test]
fn migrate_reports_the_statements_squawk_reports() {
    let Some(bin) = squawk() else {
        return;
    };
    let project = Project::empty();
    project.write(
        "migrate.toml",
        "script_location = \"m\"\ntransaction_per_migration = true\n\n[lint]\ndialect = \"postgresql\"\n",
    );
    let header_lines = HEADER.lines().count();
    // The SQL starts on the line after the directive.
    let offset = header_lines + 1;
    let mut tx_files = Vec::new();
    let mut no_tx_files = Vec::new();
    for (n, case) in CASES.iter().enumerate() {
        let id = format!("c{n:02}");
        let directive = if case.transactional {
            "-- migrate:upgrade"
        } else {
            "-- migrate:upgrade transaction=false"
        };
        project.write(
            &format!("m/versions/{id}_{}.sql", case.name),
            &format!(
                "{}{directive}\n{}\n\n-- migrate:downgrade\n",
                HEADER.replace("{id}", &id),
                case.sql
            ),
        );
        let squawk_file = format!("{id}.squawk.sql");
        project.write(&squawk_file, &format!("{}\n", case.sql));
        if case.transactional {
            tx_files.push(squawk_file);
        } else {
            no_tx_files.push(squawk_file);
        }
    }
    let mut expected = run_squawk(bin, project.path(), &tx_files, true, offset);
    expected.extend(run_squawk(bin, project.path(), &no_tx_files, false, offset));

    let run = project.migrate(&["lint", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("migrate lint's JSON ({e}):\n{}\n{}", run.stdout, run.stderr));
    assert_eq!(doc["format_version"], 1);
    let squawk_rules: Vec<&str> = Rule::ALL
        .iter()
        .filter(|r| r.is_squawk())
        .map(|r| r.name())
        .collect();
    let mut actual = Reported::new();
    for f in doc["findings"].as_array().expect("findings") {
        let rule = f["rule"].as_str().unwrap_or_default();
        assert_ne!(
            rule, "unparsed-statement",
            "migrate could not parse a case: {f}"
        );
        if !squawk_rules.contains(&rule) {
            continue;
        }
        let revision = f["revision"].as_str().unwrap_or_default().to_string();
        actual
            .entry(revision)
            .or_default()
            .push((rule.to_string(), f["line"].as_u64().unwrap_or(0) as usize));
    }
    // Both sides must have found plenty, or the comparison proves nothing.
    let total = |r: &Reported| r.values().map(Vec::len).sum::<usize>();
    assert!(
        total(&expected) > 40,
        "squawk found too little: {expected:?}"
    );
    assert!(total(&actual) > 40, "migrate found too little: {actual:?}");
    // Every squawk-named rule of migrate is exercised by some case.
    for rule in &squawk_rules {
        assert!(
            expected.values().flatten().any(|(r, _)| r == rule),
            "no case makes squawk report {rule}"
        );
    }
    let mut differences = Vec::new();
    for (n, case) in CASES.iter().enumerate() {
        let id = format!("c{n:02}");
        let mut want: Vec<(String, usize)> = expected
            .get(&id)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|(rule, _)| squawk_rules.contains(&rule.as_str()))
            .collect();
        let mut got = actual.get(&id).cloned().unwrap_or_default();
        want.sort();
        got.sort();
        if want != got {
            differences.push(format!(
                "{id} {} ({}):\n  squawk:  {want:?}\n  migrate: {got:?}",
                case.name,
                if case.transactional {
                    "in transaction"
                } else {
                    "no transaction"
                }
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
