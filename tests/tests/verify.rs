//! Issue 18: `migrate verify` upgrades, downgrades and upgrades again every revision on a
//! scratch database, comparing catalog snapshots, and names the first revision whose
//! downgrade leaves something behind, changes something, or is missing. The project's own
//! `migrations/` and the fixture projects pass on every backend; the scratch database a server
//! run creates is dropped afterwards, whether the run passed or not.

mod common;

use common::{fixture, Backend, Project, TestDb};

const FIRST: &str = "aaaa00000001";
const SECOND: &str = "aaaa00000002";

/// A native revision: header, then `sections` (`-- migrate:` directives and their SQL).
fn revision(id: &str, revises: &str, sections: &str) -> String {
    format!(
        "-- revision {id}\n--\n-- Revision ID: {id}\n-- Revises: {revises}\n-- Branch Labels:\n-- Depends On:\n\n{sections}"
    )
}

/// A project on `db` whose first revision creates `tenants` (with a default on `name`) and
/// whose second runs `second` (its sections).
fn project(db: &TestDb, second: &str) -> Project {
    let p = Project::empty();
    p.write(
        "migrate.toml",
        &format!("script_location = \"m\"\nurl = \"{}\"\n", db.url),
    )
    .write(
        &format!("m/versions/{FIRST}_tenants.sql"),
        &revision(
            FIRST,
            "",
            "-- migrate:upgrade\nCREATE TABLE tenants (id INTEGER PRIMARY KEY, name VARCHAR(50) DEFAULT 'a');\n\n-- migrate:downgrade\nDROP TABLE tenants;\n",
        ),
    )
    .write(
        &format!("m/versions/{SECOND}_second.sql"),
        &revision(SECOND, FIRST, second),
    );
    p
}

/// The scratch database `verify` or `drift` says it created (`... on temporary PostgreSQL
/// database NAME`), if any.
fn scratch_name(stderr: &str) -> Option<String> {
    let at = stderr.find("database migrate_scratch_")? + "database ".len();
    Some(
        stderr[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect(),
    )
}

/// Asserts that the scratch database of `run` (on `db`'s server) no longer exists.
fn assert_scratch_dropped(db: &TestDb, run: &common::Run) {
    let sql = match db.backend {
        Backend::Sqlite => return,
        Backend::Postgres => "SELECT count(*) FROM pg_database WHERE datname = '{}'",
        Backend::Mysql => {
            "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{}'"
        }
    };
    let name = scratch_name(&run.stderr)
        .unwrap_or_else(|| panic!("no scratch database named on stderr:\n{}", run.stderr));
    assert_eq!(
        db.column(&sql.replace("{}", &name)),
        ["0"],
        "{name} was not dropped"
    );
}

fn downgrade_leaving_an_index_is_named(db: TestDb) {
    let p = project(
        &db,
        "-- migrate:upgrade\nCREATE INDEX tenants_name ON tenants (name);\n\n-- migrate:downgrade\n",
    );
    let run = p.migrate(&["verify"]);
    let message = run.failed();
    assert_eq!(message, "verify found 1 problem (listed above)");
    assert_eq!(
        run.stdout,
        format!("{FIRST}: ok\ndowngrade of {SECOND} leaves index tenants_name on tenants\n")
    );
    assert_scratch_dropped(&db, &run);
    // The configured database itself was never touched.
    assert_eq!(db.versions(), None);
}
per_backend!(downgrade_leaving_an_index_is_named);

fn downgrade_leaving_a_default_changed_is_named(db: TestDb) {
    // The downgrade sets the default to 'c' instead of restoring 'a'. SQLite has no ALTER
    // COLUMN: it rebuilds the table (which also changes how SQLite stores its name).
    let sqlite_set = |value: &str| {
        format!(
            "CREATE TABLE tenants_new (id INTEGER PRIMARY KEY, name VARCHAR(50) DEFAULT '{value}');\n\
             INSERT INTO tenants_new SELECT * FROM tenants;\nDROP TABLE tenants;\n\
             ALTER TABLE tenants_new RENAME TO tenants;\n"
        )
    };
    let server_set =
        |value: &str| format!("ALTER TABLE tenants ALTER COLUMN name SET DEFAULT '{value}';\n");
    let p = project(
        &db,
        &format!(
            "-- migrate:upgrade dialect=sqlite\n{}\n-- migrate:upgrade dialect=postgresql,mysql\n{}\n\
             -- migrate:downgrade dialect=sqlite\n{}\n-- migrate:downgrade dialect=postgresql,mysql\n{}",
            sqlite_set("b"),
            server_set("b"),
            sqlite_set("c"),
            server_set("c"),
        ),
    );
    let run = p.migrate(&["verify"]);
    run.failed();
    // Each server's own rendering of the default (PostgreSQL adds the cast).
    let (before, after) = match db.backend {
        Backend::Postgres => ("'a'::character varying", "'c'::character varying"),
        Backend::Sqlite | Backend::Mysql => ("'a'", "'c'"),
    };
    assert_eq!(
        run.stdout,
        format!(
            "{FIRST}: ok\ndowngrade of {SECOND} leaves the default of column name on tenants at {after} (before the upgrade: {before})\n"
        )
    );
    assert_scratch_dropped(&db, &run);
}
per_backend!(downgrade_leaving_a_default_changed_is_named);

fn missing_downgrade_is_named_before_anything_runs(db: TestDb) {
    let p = project(
        &db,
        "-- migrate:upgrade\nCREATE INDEX tenants_name ON tenants (name);\n",
    );
    let run = p.migrate(&["verify"]);
    assert_eq!(run.failed(), "verify found 1 problem (listed above)");
    assert_eq!(
        run.stdout,
        format!(
            "m/versions/{SECOND}_second.sql: downgrade of {SECOND} cannot be run: the file has no downgrade; every revision must be reversible: add a `-- migrate:downgrade` section (an empty one means nothing to undo)\n"
        )
    );
    assert_scratch_dropped(&db, &run);
}
per_backend!(missing_downgrade_is_named_before_anything_runs);

fn findings_as_json(db: TestDb) {
    let p = project(
        &db,
        "-- migrate:upgrade\nCREATE INDEX tenants_name ON tenants (name);\n\n-- migrate:downgrade\n",
    );
    let run = p.migrate(&["verify", "--format", "json"]);
    run.failed();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["command"], "verify");
    assert_eq!(doc["passed"], false);
    assert_eq!(doc["verified"][0]["revision"], FIRST);
    let finding = &doc["findings"][0];
    assert_eq!(finding["kind"], "downgrade_leaves");
    assert_eq!(finding["revision"], SECOND);
    assert_eq!(
        finding["differences"][0],
        serde_json::json!({"object": {"kind": "index", "name": "tenants_name", "table": "tenants"}, "change": "added"})
    );
    assert_eq!(
        doc["messages"],
        serde_json::json!([format!(
            "downgrade of {SECOND} leaves index tenants_name on tenants"
        )])
    );
    // No progress lines on stderr in JSON mode, only the one FAILED line.
    assert!(!run.stderr.contains("Verifying"), "{}", run.stderr);
}
per_backend!(findings_as_json);

fn project_migrations_pass(db: TestDb) {
    let p = Project::example(&db.url);
    let run = p.migrate(&["verify"]);
    assert_eq!(run.ok(), "1975ea83b712: ok\n8c2b4e6f1a90: ok\n");
    assert_scratch_dropped(&db, &run);
}
per_backend!(project_migrations_pass);

fn alembic_fixture_passes_with_branches_allowed(db: TestDb) {
    let p = Project::empty();
    p.copy(&fixture("alembic_project"), "alembic_project");
    let args = |extra: &[&'static str]| {
        let mut v = vec![
            "-c",
            "alembic_project/alembic.ini",
            "--url",
            db.url.as_str(),
            "verify",
        ];
        v.extend_from_slice(extra);
        v
    };
    // Two heads: refused without --allow-branches, naming them.
    let run = p.migrate(&args(&[]));
    run.failed();
    assert_eq!(
        run.stdout,
        "the folder has 2 heads (b1c2d3e4f5a6, c7d8e9f0a1b2): merge them (`migrate merge heads`) or verify with --allow-branches\n"
    );
    // In Alembic's upgrade order for `heads` (oracle: `upgrade heads` runs 3f2a1b0c9d8e,
    // 7b6a5f4e3d2c, 5d4c3b2a1f0e, c7d8e9f0a1b2, 9a8b7c6d5e4f, b1c2d3e4f5a6).
    let run = p.migrate(&args(&["--allow-branches"]));
    assert_eq!(
        run.ok(),
        "3f2a1b0c9d8e: ok\n7b6a5f4e3d2c: ok\n5d4c3b2a1f0e: ok\nc7d8e9f0a1b2: ok\n9a8b7c6d5e4f: ok\nb1c2d3e4f5a6: ok\n"
    );
    assert_scratch_dropped(&db, &run);
}
per_backend!(alembic_fixture_passes_with_branches_allowed);

fn catalog_fixture_passes(db: TestDb) {
    let p = Project::empty();
    p.copy(&fixture("catalog_project"), "m").write(
        "migrate.toml",
        &format!("script_location = \"m\"\nurl = \"{}\"\n", db.url),
    );
    let run = p.migrate(&["verify"]);
    assert_eq!(run.ok(), "c0ffee000001: ok\nc0ffee000002: ok\n");
    assert_scratch_dropped(&db, &run);
}
per_backend!(catalog_fixture_passes);

/// The seed project's SQL is PostgreSQL's (`UUID`, `TIMESTAMPTZ`, `now()`, `ON CONFLICT`).
#[test]
fn seed_fixture_passes_on_postgres() {
    let Some(db) = TestDb::postgres() else {
        return;
    };
    let p = Project::empty();
    p.copy(&fixture("seed_project"), ".");
    let run = p.migrate(&[
        "-c",
        "infrastructure/migrations/alembic.ini",
        "--url",
        &db.url,
        "verify",
    ]);
    assert_eq!(run.ok(), "1975ea83b712: ok\n8c2b4e6f1a90: ok\n");
    assert_scratch_dropped(&db, &run);
}

#[test]
fn from_copies_a_sqlite_file_without_its_rows_unless_data_is_given() {
    let db = TestDb::sqlite();
    let p = project(
        &db,
        "-- migrate:upgrade\nCREATE UNIQUE INDEX tenants_name ON tenants (name);\n\n-- migrate:downgrade\nDROP INDEX tenants_name;\n",
    );
    p.migrate(&["upgrade", FIRST]).ok();
    let path = db.sqlite_path().unwrap().display().to_string();
    common::sqlite_query(
        db.sqlite_path().unwrap(),
        "INSERT INTO tenants (id, name) VALUES (1, 'dup'), (2, 'dup')",
    );
    // The copy starts at the file's revision; its rows are left out, so the index builds.
    let run = p.migrate(&["verify", "--from", &path]);
    assert_eq!(run.ok(), format!("{SECOND}: ok\n"));
    assert!(
        run.stderr.contains(&format!("an in-memory copy of {path}")),
        "{}",
        run.stderr
    );
    // With the rows, the unique index cannot be built: the upgrade's failure is the finding.
    let run = p.migrate(&["verify", "--from", &path, "--data"]);
    run.failed();
    assert!(
        run.stdout
            .starts_with(&format!("upgrade of {SECOND} failed: "))
            && run.stdout.contains("UNIQUE constraint failed"),
        "{}",
        run.stdout
    );
    // The file itself is untouched.
    assert_eq!(db.versions(), Some(vec![FIRST.to_string()]));
    assert_eq!(db.column("SELECT count(*) FROM tenants"), ["2"]);
}

#[test]
fn the_configured_database_is_refused_as_scratch_database() {
    let db = TestDb::sqlite();
    let p = project(&db, "-- migrate:upgrade\n\n-- migrate:downgrade\n");
    let message = p.migrate(&["verify", "--scratch-url", &db.url]).failed();
    assert!(
        message.starts_with("--scratch-url names the configured database itself"),
        "{message}"
    );
    assert_eq!(db.versions(), None);
}

#[test]
fn scratch_url_runs_on_the_given_database_and_keeps_it() {
    let db = TestDb::sqlite();
    let scratch = TestDb::sqlite();
    let p = project(&db, "-- migrate:upgrade\n\n-- migrate:downgrade\n");
    let run = p.migrate(&["verify", "--scratch-url", &scratch.url]);
    assert_eq!(run.ok(), format!("{FIRST}: ok\n{SECOND}: ok\n"));
    assert_eq!(scratch.versions(), Some(vec![SECOND.to_string()]));
    assert_eq!(db.versions(), None);
}

/// The autogenerate-style project (`op.create_table`, `op.rename_table`, `batch_alter_table`,
/// ...): every compiled operation's downgrade undoes it exactly, on every backend; on the
/// servers also the revisions SQLite cannot `ALTER` (`alembic_server.ini`).
fn alembic_operations_pass(db: TestDb) {
    let p = Project::empty();
    p.copy(&fixture("ops_project"), "ops_project");
    let mut expected =
        "a1b2c3d4e5f6: ok\nb2c3d4e5f6a7: ok\nc3d4e5f6a7b8: ok\nd4e5f6a7b8c9: ok\ne5f6a7b8c9d0: ok\nf0a1b2c3d4e5: ok\n"
            .to_string();
    let mut inis = vec!["alembic.ini"];
    if db.backend != Backend::Sqlite {
        inis.push("alembic_server.ini");
    }
    for ini in inis {
        if ini == "alembic_server.ini" {
            expected.push_str("f6a7b8c9d0e1: ok\na7b8c9d0e1f2: ok\nb8c9d0e1f2a3: ok\n");
        }
        let config = format!("ops_project/{ini}");
        let run = p.migrate(&["-c", &config, "--url", db.url.as_str(), "verify"]);
        assert_eq!(run.ok(), expected, "{ini}");
        assert_scratch_dropped(&db, &run);
    }
}
per_backend!(alembic_operations_pass);
