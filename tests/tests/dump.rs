//! Issue 18: `migrate dump` prints the database's schema as canonical DDL in the backend's own
//! SQL: the same bytes on every run, and a database built from it has the same catalog
//! snapshot (and dumps to the same bytes again). `schema_dump = "schema.sql"` writes it after
//! every `upgrade` and `downgrade`.

mod common;

use common::{fixture, Backend, Project, TestDb};
use migrate_core::Executor;

/// The catalog fixture (nearly every kind of object) on `db`, upgraded to its head.
fn catalog_project(db: &TestDb) -> Project {
    let p = Project::empty();
    p.copy(&fixture("catalog_project"), "m").write(
        "migrate.toml",
        &format!("script_location = \"m\"\nurl = \"{}\"\n", db.url),
    );
    p.migrate(&["upgrade", "head"]).ok();
    p
}

/// Runs `sql` (a dump) on `db` statement by statement, split by the core's splitter for
/// the backend (dollar quotes, `DELIMITER` lines), through the library's executors.
fn apply(db: &TestDb, sql: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let mut exec: Box<dyn Executor> = match db.backend {
            Backend::Sqlite => Box::new(
                migrate_sqlite::SqliteExecutor::open(db.sqlite_path().unwrap()).expect("opening"),
            ),
            Backend::Postgres => Box::new(
                migrate_postgres::PostgresExecutor::connect(&db.url)
                    .await
                    .expect("connecting"),
            ),
            Backend::Mysql => Box::new(
                migrate_mysql::MysqlExecutor::connect(&db.url)
                    .await
                    .expect("connecting"),
            ),
        };
        let rules = exec.dialect().split_rules();
        for statement in migrate_core::split(sql, rules) {
            if let Err(e) = exec.execute(&statement.text).await {
                panic!("applying the dump failed at\n{}\n{e}", statement.text);
            }
        }
    });
}

fn dump_is_stable_and_recreates_the_same_snapshot(db: TestDb) {
    let p = catalog_project(&db);
    let first = p.migrate(&["dump"]).ok().to_string();
    let second = p.migrate(&["dump"]).ok().to_string();
    assert_eq!(first, second, "two dumps of one database differ");
    assert!(
        first.contains("c0ffee000002"),
        "the version row is in the dump:\n{first}"
    );

    let copy = TestDb::fresh(db.backend).expect("a second database");
    apply(&copy, &first);
    let snapshot = |url: &str| {
        p.migrate(&["--url", url, "dump", "--format", "json"])
            .ok()
            .to_string()
    };
    let (original, rebuilt) = (snapshot(&db.url), snapshot(&copy.url));
    let parsed: serde_json::Value = serde_json::from_str(&original).expect("one JSON document");
    assert_eq!(parsed["command"], "dump");
    assert_eq!(parsed["versions"], serde_json::json!(["c0ffee000002"]));
    assert!(
        parsed["snapshot"]["tables"]
            .as_array()
            .is_some_and(|t| t.len() >= 3),
        "{original}"
    );
    assert_eq!(
        original, rebuilt,
        "the database built from the dump has another snapshot"
    );
    assert_eq!(p.migrate(&["--url", &copy.url, "dump"]).ok(), first);
    // And the rebuilt database is at the same revision, as far as migrate can tell.
    assert_eq!(
        p.migrate(&["--url", &copy.url, "current"]).ok(),
        "c0ffee000002 (head)\n"
    );
}
per_backend!(dump_is_stable_and_recreates_the_same_snapshot);

fn dump_to_a_file_and_after_every_run(db: TestDb) {
    let p = Project::example(&db.url);
    p.write(
        "migrate.toml",
        &format!(
            "script_location = \"migrations\"\nurl = \"{}\"\nschema_dump = \"schema.sql\"\n",
            db.url
        ),
    );
    let run = p.migrate(&["upgrade", "head"]);
    run.ok();
    assert!(
        run.stderr.contains("Wrote the schema dump to schema.sql"),
        "{}",
        run.stderr
    );
    let after_upgrade = p.read("schema.sql");
    assert_eq!(after_upgrade, p.migrate(&["dump"]).ok());
    assert!(after_upgrade.contains("tenants"), "{after_upgrade}");

    p.migrate(&["downgrade", "base"]).ok();
    let after_downgrade = p.read("schema.sql");
    assert!(!after_downgrade.contains("tenants"), "{after_downgrade}");
    assert!(
        after_downgrade.contains("alembic_version"),
        "{after_downgrade}"
    );

    p.migrate(&["dump", "-o", "out.sql"]).ok();
    assert_eq!(p.read("out.sql"), after_downgrade);
}
per_backend!(dump_to_a_file_and_after_every_run);
