//! Pre-flight checks: what would stop a run halfway is refused before anything runs, with one
//! clear error and nothing changed.

mod common;

use common::{Backend, Project, TestDb};

/// A project whose second revision has a 40-character id (the version column holds 32).
fn long_id_project(db: &TestDb) -> Project {
    let project = Project::empty();
    project.write(
        "migrate.toml",
        &format!("script_location = \"m\"\nurl = \"{}\"\n", db.url),
    );
    project.write(
        "m/versions/a_first.sql",
        "-- first\n-- Revision ID: a1a1a1a1a1a1\n-- Revises:\n\n-- migrate:upgrade\nCREATE TABLE first_t (id INT);\n\n-- migrate:downgrade\nDROP TABLE first_t;\n",
    );
    project.write(
        "m/versions/b_long.sql",
        &format!(
            "-- long id\n-- Revision ID: {}\n-- Revises: a1a1a1a1a1a1\n\n-- migrate:upgrade\nCREATE TABLE long_t (id INT);\n\n-- migrate:downgrade\nDROP TABLE long_t;\n",
            "b".repeat(40)
        ),
    );
    project
}

/// The 40-character id is found before the first revision runs: on MariaDB its DDL would
/// commit and then the version row fail; everywhere the database stays as it was.
fn a_revision_id_longer_than_the_version_column_is_refused_before_anything_runs(db: TestDb) {
    let project = long_id_project(&db);
    let before = db.schema();
    let run = project.migrate(&["upgrade", "head"]);
    let message = run.failed();
    assert!(
        message.contains(&format!(
            "revision {} (m/versions/b_long.sql) has a 40-character id, longer than the version table's column holds (32); nothing was run",
            "b".repeat(40)
        )),
        "{message}"
    );
    assert_eq!(db.schema(), before, "nothing was created");
    assert_eq!(db.versions(), None);

    // The offline script is refused the same way.
    let run = project.migrate(&["upgrade", "base:head", "--sql"]);
    assert!(run.failed().contains("40-character id"), "{}", run.stderr);
}

per_backend!(a_revision_id_longer_than_the_version_column_is_refused_before_anything_runs);

/// A version table that is not Alembic's (another tool's table of the same name) is refused
/// before anything runs.
fn a_version_table_without_version_num_is_refused(db: TestDb) {
    let project = Project::example(&db.url);
    db.query("CREATE TABLE alembic_version (id INT)");
    let before = db.schema();
    let message = project.migrate(&["upgrade", "head"]).failed();
    assert!(
        message.contains("the version table alembic_version exists but has no version_num column"),
        "{message}"
    );
    assert_eq!(db.schema(), before);
}

per_backend!(a_version_table_without_version_num_is_refused);

/// A read-only session (what a standby gives) is refused before anything runs; at head with
/// nothing to do, the command still succeeds.
#[test]
fn a_read_only_postgres_database_is_refused_before_anything_runs() {
    let Some(db) = TestDb::fresh(Backend::Postgres) else {
        return;
    };
    let project = Project::example(&db.url);
    let name = db.name.clone().expect("a server database");
    db.query(&format!(
        "ALTER DATABASE {name} SET default_transaction_read_only = on"
    ));
    let message = project.migrate(&["upgrade", "head"]).failed();
    assert!(
        message.contains("the database refuses writes (the session is read-only (transaction_read_only = on)); nothing was run"),
        "{message}"
    );
    assert!(db.tables().is_empty());
}

/// A SQLite file opened read-only (how a test suite may share a fixture) is refused before
/// anything runs, naming the file; the file is unchanged.
#[tokio::test]
async fn a_read_only_sqlite_file_is_refused_before_anything_runs() {
    use migrate_core::{Error, MigrateOptions, Migrator, ScriptDirectory};
    use rusqlite::{Connection, OpenFlags};

    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("fixture.db");
    Connection::open(&path)
        .and_then(|c| c.execute_batch("CREATE TABLE kept (id INTEGER)"))
        .expect("a database file");
    let before = std::fs::read(&path).expect("the file");
    let versions = common::repo_root().join("migrations/versions");
    let map = ScriptDirectory::load(&[versions], false)
        .expect("the example migrations load")
        .into_map()
        .expect("they form a history");
    let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("the file opened read-only");
    let mut exec = migrate_sqlite::SqliteExecutor::from_connection(conn).expect("an executor");
    let err = Migrator::new(&map, MigrateOptions::default())
        .upgrade(&mut exec, "head", &mut |_| {})
        .await
        .expect_err("a read-only file is refused");
    assert!(matches!(err, Error::ReadOnly { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&format!(
            "the database refuses writes (the SQLite file {} is opened read-only); nothing was run",
            path.display()
        )),
        "{message}"
    );
    drop(exec);
    assert_eq!(std::fs::read(&path).expect("the file"), before);
}

/// A MariaDB server started with `read_only` (what a replica runs with) is refused before
/// anything runs, also for root, whom `read_only` itself would let write.
#[test]
fn a_read_only_mariadb_server_is_refused_before_anything_runs() {
    #[path = "../../migrate-mysql/tests/support/mariadb.rs"]
    mod mariadb;

    let settings = mariadb::Settings {
        name: "readonly".into(),
        lines: vec!["read_only=1".into()],
        initialize: true,
        args: Vec::new(),
    };
    let server = match mariadb::MariaDb::start(settings) {
        Ok(server) => server,
        Err(why) => {
            assert!(
                !common::require_all(),
                "cannot start a MariaDB server, and MIGRATE_TEST_REQUIRE_ALL=1 requires it: {why}"
            );
            eprintln!("skipped: cannot start a MariaDB server: {why}");
            return;
        }
    };
    let admin = server.url("mysql", "");
    migrate_tests::servers::mysql_query(&admin, "CREATE DATABASE app");
    let url = server.url("app", "");
    let project = Project::example(&url);
    let message = project.migrate(&["upgrade", "head"]).failed();
    assert!(
        message.contains(
            "the database refuses writes (the server is read-only (@@read_only = 1: a replica?)); nothing was run"
        ),
        "{message}"
    );
    let tables = migrate_tests::servers::mysql_query(
        &admin,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'app'",
    );
    assert!(tables.is_empty(), "{tables:?}");
}
