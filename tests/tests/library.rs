//! The library in-process, as a Rust test suite uses it: load the project's `migrations/`,
//! migrate an in-memory SQLite database, read the version rows, go back down. No binary, no
//! file.

mod common;

use migrate_core::{Event, MigrateOptions, Migrator, ScriptDirectory};
use migrate_sqlite::SqliteExecutor;

fn rows(exec: &SqliteExecutor, sql: &str) -> Vec<String> {
    let mut stmt = exec.connection().prepare(sql).expect("a query");
    let rows = stmt
        .query_map([], |row| row.get::<_, String>(0))
        .expect("rows");
    rows.map(|r| r.expect("a text value")).collect()
}

#[tokio::test]
async fn migrates_in_memory_sqlite_in_process() {
    let versions = common::repo_root().join("migrations/versions");
    let map = ScriptDirectory::load(&[versions], false)
        .expect("the example migrations load")
        .into_map()
        .expect("they form a history");
    let migrator = Migrator::new(&map, MigrateOptions::default());
    let mut exec = SqliteExecutor::in_memory().expect("an in-memory database");

    let mut events = Vec::new();
    migrator
        .upgrade(&mut exec, "head", &mut |e: &Event| {
            events.push(format!("{e:?}"))
        })
        .await
        .expect("upgrade head");
    assert_eq!(
        migrator.current(&mut exec).await.expect("current"),
        ["8c2b4e6f1a90"]
    );
    assert_eq!(
        rows(
            &exec,
            "SELECT id || '|' || name || '|' || is_active FROM tenants"
        ),
        ["00000000-0000-0000-0000-000000000001|system|1"]
    );
    let started = events
        .iter()
        .filter(|e| e.starts_with("MigrationStarted"))
        .count();
    assert_eq!(started, 2, "one event per migration: {events:?}");

    migrator
        .downgrade(&mut exec, "base", &mut |_: &Event| {})
        .await
        .expect("downgrade base");
    assert!(migrator
        .current(&mut exec)
        .await
        .expect("current")
        .is_empty());
    assert!(rows(
        &exec,
        "SELECT name FROM sqlite_master WHERE name = 'tenants'"
    )
    .is_empty());
}
