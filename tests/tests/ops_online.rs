//! An autogenerate-style history (`tests/fixtures/ops_project/`: `op.create_table`,
//! `op.add_column`, `op.create_index`, ... mixed with `op.execute`) run online by `migrate` on
//! every backend: `upgrade head` leaves the schema real Alembic leaves, `downgrade base` takes
//! it all down, and Alembic then takes the same database over (reads the version `migrate`
//! wrote, downgrades and upgrades it), and `migrate` takes Alembic's over in turn.
//!
//! `alembic.ini` has the revisions SQLite can run; `alembic_server.ini` adds those SQLite cannot
//! `ALTER` (alter_column, foreign keys and unique constraints added and dropped, also in a
//! `batch_alter_table` block), run on
//! PostgreSQL and MariaDB. Needs Alembic in `/opt/alembic-venv` for the comparison and the
//! takeover (skipped without it, a failure under `MIGRATE_TEST_REQUIRE_ALL=1`).

mod common;

use common::{alembic, fixture, require_all, run_alembic, Project, Run, TestDb};

/// The project, with the `env.py` and `script.py.mako` of `tests/fixtures/alembic_project`
/// (the URL from `-x url=...`).
fn project() -> Project {
    let p = Project::empty();
    p.copy(&fixture("ops_project"), "ops_project");
    for file in ["env.py", "script.py.mako"] {
        let text = std::fs::read_to_string(fixture("alembic_project").join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        p.write(&format!("ops_project/{file}"), &text);
    }
    p
}

fn migrate(p: &Project, ini: &str, db: &TestDb, args: &[&str]) -> Run {
    let ini = format!("ops_project/{ini}");
    let mut all = vec!["-c", &ini, "--url", &db.url];
    all.extend_from_slice(args);
    p.migrate(&all)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The tables the history leaves, with `alembic_version`.
const TABLES: &[&str] = &[
    "accounts",
    "alembic_version",
    "events",
    "notes",
    "orders",
    "plans",
];

fn round_trip(db: TestDb, ini: &str, head: &str) {
    let p = project();
    migrate(&p, ini, &db, &["upgrade", "head"]).ok();
    assert_eq!(db.versions(), Some(strings(&[head])));
    assert_eq!(db.tables(), TABLES);
    assert_eq!(
        db.column("SELECT name FROM accounts"),
        ["first"],
        "the seed revision ran between the operations"
    );
    assert_eq!(db.column("SELECT COUNT(*) FROM plans"), ["2"]);
    let accounts = db.columns("accounts");
    assert!(accounts.contains(&"nickname".to_string()), "{accounts:?}");
    // Created as drafts, renamed, then a column added in a batch with its server default.
    assert_eq!(
        db.column("SELECT title FROM notes WHERE NOT pinned"),
        ["first"]
    );

    migrate(&p, ini, &db, &["downgrade", "base"]).ok();
    assert_eq!(db.versions(), Some(vec![]));
    assert_eq!(db.tables(), ["alembic_version"]);

    migrate(&p, ini, &db, &["upgrade", "head"]).ok();
    assert_eq!(db.versions(), Some(strings(&[head])));

    let Some(alembic) = alembic() else {
        assert!(
            !require_all(),
            "real Alembic is required under MIGRATE_TEST_REQUIRE_ALL=1"
        );
        return;
    };
    let ini_path = format!("ops_project/{ini}");
    // The schema Alembic itself leaves on a fresh database is the one `migrate` left.
    let Some(theirs) = TestDb::fresh(db.backend) else {
        return;
    };
    run_alembic(
        &alembic,
        p.path(),
        &ini_path,
        &theirs.url,
        &["upgrade", "head"],
    )
    .ok();
    assert_eq!(db.schema(), theirs.schema(), "the schema Alembic leaves");

    // Alembic takes over what `migrate` left: reads the version, downgrades, upgrades.
    let current = run_alembic(&alembic, p.path(), &ini_path, &db.url, &["current"]);
    assert_eq!(current.ok(), format!("{head} (head)\n"));
    run_alembic(
        &alembic,
        p.path(),
        &ini_path,
        &db.url,
        &["downgrade", "base"],
    )
    .ok();
    assert_eq!(db.tables(), ["alembic_version"]);
    run_alembic(&alembic, p.path(), &ini_path, &db.url, &["upgrade", "head"]).ok();

    // And `migrate` takes Alembic's over.
    assert_eq!(
        migrate(&p, ini, &db, &["current"]).ok(),
        format!("{head} (head)\n")
    );
    migrate(&p, ini, &db, &["downgrade", "base"]).ok();
    assert_eq!(db.tables(), ["alembic_version"]);
    assert_eq!(db.versions(), Some(vec![]));
}

fn alembic_operations_run_online(db: TestDb) {
    round_trip(db, "alembic.ini", "f0a1b2c3d4e5");
}
per_backend!(alembic_operations_run_online);

#[test]
fn alter_column_and_constraints_run_online_on_postgresql() {
    if let Some(db) = TestDb::postgres() {
        round_trip(db, "alembic_server.ini", "b8c9d0e1f2a3");
    }
}

#[test]
fn alter_column_and_constraints_run_online_on_mariadb() {
    if let Some(db) = TestDb::mysql() {
        round_trip(db, "alembic_server.ini", "b8c9d0e1f2a3");
    }
}

/// An operation Alembic cannot run on the database (SQLite cannot `ALTER` constraints) is
/// refused while planning, by file and line, before anything runs, online and offline.
#[test]
fn an_operation_without_ddl_on_the_database_is_refused_before_anything_runs() {
    let db = TestDb::sqlite();
    let p = Project::empty();
    p.write("migrate.toml", "script_location = \"m\"\n").write(
        "m/versions/a1_fk.py",
        "\"\"\"add a foreign key\"\"\"\nfrom alembic import op\n\nrevision = \"a1\"\ndown_revision = None\n\n\ndef upgrade():\n    op.execute(\"CREATE TABLE t (a INTEGER)\")\n    op.create_foreign_key(\"fk_t_o\", \"t\", \"o\", [\"a\"], [\"id\"])\n",
    );
    for args in [&["upgrade", "head"][..], &["upgrade", "head", "--sql"][..]] {
        let mut all = vec!["--url", db.url.as_str()];
        all.extend_from_slice(args);
        let run = p.migrate(&all);
        let message = run.failed();
        assert!(
            message.starts_with("m/versions/a1_fk.py:10: revision a1 cannot be run by migrate on sqlite: its op.create_foreign_key(...) has no DDL there: SQLite cannot ALTER constraints"),
            "{message}"
        );
        assert!(message.contains("`migrate stamp` past it"), "{message}");
        assert_eq!(run.stdout, "", "no partial script");
    }
    assert_eq!(
        db.versions(),
        None,
        "nothing ran, not even the CREATE TABLE"
    );
}

/// An `op.execute` text holding a PostgreSQL function body (`$$ ... $$` around `;`) runs on
/// PostgreSQL as written; on SQLite and MySQL, which have no dollar quoting, it would be cut
/// inside the body (Alembic sends the text whole), so it is refused there, online and in a
/// script, and nothing runs. The body's `END` has no `;`, so the MySQL rules alone (which keep
/// `BEGIN ... END` whole) would cut it in one place only: at the `;` after the dollars.
#[test]
fn a_dollar_quoted_body_is_refused_where_dollars_do_not_quote() {
    let p = Project::empty();
    p.write("migrate.toml", "script_location = \"m\"\n").write(
        "m/versions/a1_fn.py",
        "\"\"\"a trigger function\"\"\"\nfrom alembic import op\n\nrevision = \"a1\"\ndown_revision = None\n\n\ndef upgrade():\n    op.execute(\"CREATE TABLE t (a INTEGER)\")\n    op.execute(\"\"\"CREATE FUNCTION f() RETURNS trigger AS $$\n    BEGIN\n        RETURN NULL;\n    END\n    $$ LANGUAGE plpgsql;\"\"\")\n    op.execute(\"SELECT '$1; not a quote'\")\n",
    );
    let script = p
        .migrate(&["--url", "postgresql://u@h/d", "upgrade", "head", "--sql"])
        .ok()
        .to_string();
    assert!(
        script.contains("$$\n    BEGIN\n        RETURN NULL;\n    END\n    $$ LANGUAGE plpgsql;"),
        "one statement on PostgreSQL:\n{script}"
    );
    for (url, dialect) in [("sqlite://", "sqlite"), ("mysql://u@h/d", "mysql")] {
        let run = p.migrate(&["--url", url, "upgrade", "head", "--sql"]);
        let message = run.failed();
        assert!(
            message.starts_with(&format!("m/versions/a1_fn.py:10: revision a1 cannot be run by migrate on {dialect}: its op.execute(...) has no DDL there: op.execute text with a dollar-quoted body")),
            "{message}"
        );
        assert_eq!(run.stdout, "", "no partial script");
    }
    let db = TestDb::sqlite();
    p.migrate(&["--url", db.url.as_str(), "upgrade", "head"])
        .failed();
    assert_eq!(
        db.versions(),
        None,
        "nothing ran, not even the CREATE TABLE"
    );
}
