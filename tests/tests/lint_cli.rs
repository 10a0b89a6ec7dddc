//! `migrate lint` from the command line: compiler-style text, one JSON document, exit code 1
//! on error-level findings only, `[lint]` levels, `--pending` against a real database, named
//! revisions, and the project's own migrations linting clean.

mod common;

use common::{repo_root, Project, TestDb};

const REV_A: &str = "-- create the accounts table\n-- Revision ID: aa01\n-- Revises:\n-- Purpose: accounts.\n\n-- migrate:upgrade\nCREATE TABLE accounts (id bigint PRIMARY KEY, name text);\n\n-- migrate:downgrade\nDROP TABLE accounts;\n";
const REV_B: &str = "-- index the names\n-- Revision ID: bb02\n-- Revises: aa01\n-- Purpose: faster lookups by name.\n\n-- migrate:upgrade\nCREATE INDEX accounts_name ON accounts (name);\n\n-- migrate:downgrade\nDROP INDEX accounts_name;\n";

fn project(lint: &str) -> Project {
    let p = Project::empty();
    p.write(
        "migrate.toml",
        &format!("script_location = \"m\"\n\n[lint]\ndialect = \"postgresql\"\n{lint}"),
    );
    p.write("m/versions/aa01_accounts.sql", REV_A);
    p.write("m/versions/bb02_index.sql", REV_B);
    p
}

#[test]
fn text_output_is_compiler_style_and_errors_fail_the_run() {
    let p = project("");
    let run = p.migrate(&["lint"]);
    let message = run.failed();
    assert!(message.starts_with("lint found"), "{message}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines.contains(&"m/versions/bb02_index.sql:7: error[require-concurrent-index-creation]: building an index without CONCURRENTLY blocks every write to the table until it is built (upgrade)"),
        "{}",
        run.stdout
    );
    // Every finding line is followed by its help line.
    for (n, line) in lines.iter().enumerate() {
        if line.contains(": error[") || line.contains(": warn[") {
            assert!(lines[n + 1].starts_with("  = help: "), "{}", run.stdout);
        }
    }
    // The downgrade's DROP INDEX is found in the downgrade.
    assert!(
        run.stdout
            .contains("bb02_index.sql:10: error[require-concurrent-index-deletion]"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("2 revisions, "), "{}", run.stderr);
}

#[test]
fn json_output_is_one_document_with_every_field() {
    let p = project("");
    let run = p.migrate(&["lint", "--format", "json"]);
    let message = run.failed();
    assert!(
        message.ends_with("(listed in the JSON document on stdout)"),
        "the error says where the findings are: {message}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(run.stdout.trim()).expect("one JSON document");
    assert_eq!(doc["format_version"], 1);
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "require-concurrent-index-creation")
        .expect("the index finding");
    assert_eq!(f["level"], "error");
    assert_eq!(f["revision"], "bb02");
    assert_eq!(f["direction"], "upgrade");
    assert_eq!(f["file"], "m/versions/bb02_index.sql");
    assert_eq!(f["line"], 7);
    assert!(f["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(f["help"].as_str().is_some_and(|m| !m.is_empty()));
}

#[test]
fn levels_from_the_configuration_decide_the_exit_code() {
    let off = [
        "require-concurrent-index-creation",
        "require-concurrent-index-deletion",
        "require-lock-timeout",
        "require-statement-timeout",
        "ban-drop-table",
    ];
    let lint: String = off.iter().map(|r| format!("{r} = \"warn\"\n")).collect();
    let p = project(&lint);
    let run = p.migrate(&["lint"]);
    run.ok();
    assert!(
        run.stdout
            .contains("warn[require-concurrent-index-creation]"),
        "{}",
        run.stdout
    );
    let lint: String = off.iter().map(|r| format!("{r} = \"off\"\n")).collect();
    let run = project(&lint).migrate(&["lint"]);
    assert_eq!(run.ok(), "");
    let run = project("ban-drop-tabel = \"off\"\n").migrate(&["lint"]);
    assert!(run.failed().contains("no such rule"), "{}", run.stderr);
}

#[test]
fn named_revisions_limit_what_is_linted() {
    let p = project("");
    let run = p.migrate(&["lint", "aa01", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    let revisions: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["revision"].as_str().unwrap())
        .collect();
    assert!(revisions.iter().all(|r| *r == "aa01"), "{revisions:?}");
}

#[test]
fn pending_lints_only_what_the_database_lacks() {
    let db = TestDb::sqlite();
    let p = project("");
    p.write(
        "migrate.toml",
        &format!(
            "script_location = \"m\"\nurl = \"{}\"\n\n[lint]\ndialect = \"postgresql\"\n",
            db.url
        ),
    );
    let all = p.migrate(&["lint", "--pending", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(all.stdout.trim()).unwrap();
    let count = |doc: &serde_json::Value, id: &str| {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["revision"] == id)
            .count()
    };
    assert!(count(&doc, "aa01") > 0 && count(&doc, "bb02") > 0, "{doc}");
    // The schema is PostgreSQL's, so only stamp the first revision into the SQLite database.
    p.migrate(&["stamp", "aa01"]).ok();
    let pending = p.migrate(&["lint", "--pending", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(pending.stdout.trim()).unwrap();
    assert_eq!(count(&doc, "aa01"), 0, "{doc}");
    assert!(count(&doc, "bb02") > 0, "{doc}");
}

#[test]
fn python_revisions_are_linted_without_python() {
    let p = Project::empty();
    p.write(
        "migrate.toml",
        "script_location = \"m\"\n\n[lint]\ndialect = \"postgresql\"\n",
    );
    p.write(
        "m/versions/p1_drop.py",
        "\"\"\"drop a column\n\nRevision ID: p1\nRevises:\nPurpose: unused since 2024.\n\"\"\"\nfrom alembic import op\n\nrevision = \"p1\"\ndown_revision = None\n\n\ndef upgrade():\n    op.execute(\"SET lock_timeout = '1s'\")\n    op.execute(\"SET statement_timeout = '1s'\")\n    # migrate:lint-ignore ban-drop-column\n    op.execute(\"ALTER TABLE t DROP COLUMN a\")\n    op.execute(\"ALTER TABLE t DROP COLUMN b\")\n\n\ndef downgrade():\n    pass\n",
    );
    // PATH without python: the file is read, never run.
    let run = p.migrate_env(&["lint"], &[("PATH", "/nonexistent")]);
    run.failed();
    assert!(
        run.stdout.contains("p1_drop.py:18: error[ban-drop-column]"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("p1_drop.py:17:"), "{}", run.stdout);
}

/// Alembic operations are checked as the statements they compile to on the target, on the
/// operation's line, with `# migrate:lint-ignore` working on them as on `op.execute`.
#[test]
fn alembic_operations_are_linted_as_the_statements_they_compile_to() {
    let p = Project::empty();
    p.write(
        "migrate.toml",
        "script_location = \"m\"\n\n[lint]\ndialect = \"postgresql\"\n",
    );
    p.write(
        "m/versions/p1_ops.py",
        "\"\"\"index and drop\n\nRevision ID: p1\nRevises:\nPurpose: faster lookups; b is unused.\n\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = \"p1\"\ndown_revision = None\n\n\ndef upgrade():\n    op.execute(\"SET lock_timeout = '1s'\")\n    op.execute(\"SET statement_timeout = '1s'\")\n    op.create_index(\"ix_t_a\", \"t\", [\"a\"])\n    # migrate:lint-ignore ban-drop-column\n    op.drop_column(\"t\", \"b\")\n    op.drop_column(\"t\", \"c\")\n\n\ndef downgrade():\n    op.add_column(\"t\", sa.Column(\"c\", sa.Text()))\n    op.add_column(\"t\", sa.Column(\"b\", sa.Text()))\n    op.drop_index(\"ix_t_a\", table_name=\"t\")\n",
    );
    let run = p.migrate(&["lint"]);
    run.failed();
    for expected in [
        "p1_ops.py:17: error[require-concurrent-index-creation]",
        "p1_ops.py:20: error[ban-drop-column]",
        "p1_ops.py:26: error[require-concurrent-index-deletion]",
    ] {
        assert!(run.stdout.contains(expected), "{expected}:\n{}", run.stdout);
    }
    assert!(
        !run.stdout.contains("p1_ops.py:19:"),
        "the ignore comment silences the drop below it:\n{}",
        run.stdout
    );
    // Every operation counts as the statements it runs: 5 up, 3 down.
    assert!(
        run.stderr.contains("1 revision, 8 statements"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_projects_own_migrations_lint_clean_on_every_database() {
    for dialect in ["sqlite", "postgresql", "mysql"] {
        let p = Project::empty();
        p.copy(&repo_root().join("migrations"), "migrations");
        p.write(
            "migrate.toml",
            &format!("script_location = \"migrations\"\n\n[lint]\ndialect = \"{dialect}\"\n"),
        );
        let run = p.migrate(&["lint"]);
        assert_eq!(run.ok(), "", "{dialect}: {}", run.stdout);
    }
}

#[test]
fn timeouts_migrate_sets_itself_are_not_asked_of_the_migration() {
    let with = |settings: &str| {
        let p = Project::empty();
        p.write(
            "migrate.toml",
            &format!("script_location = \"m\"\n{settings}\n[lint]\ndialect = \"postgresql\"\n"),
        );
        p.write("m/versions/aa01_accounts.sql", REV_A);
        p.migrate(&["lint", "--format", "json"])
    };
    let rules = |run: &common::Run| -> Vec<String> {
        let doc: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("JSON");
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| f["rule"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let bare = rules(&with(""));
    assert!(
        bare.contains(&"require-lock-timeout".to_owned()),
        "{bare:?}"
    );
    assert!(
        bare.contains(&"require-statement-timeout".to_owned()),
        "{bare:?}"
    );
    let set = rules(&with("ddl_lock_timeout = 2\nstatement_timeout = 300\n"));
    assert!(!set.contains(&"require-lock-timeout".to_owned()), "{set:?}");
    assert!(
        !set.contains(&"require-statement-timeout".to_owned()),
        "{set:?}"
    );
}
