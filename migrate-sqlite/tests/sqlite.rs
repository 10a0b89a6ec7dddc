//! The SQLite executor against real database files: what is SQLite's own (attached databases,
//! the lock file, in-memory databases, URLs, opening errors, trigger bodies). What every
//! executor must do is in `tests/tests/conformance.rs`.

use std::path::Path;
use std::time::Duration;

use migrate_core::{split, DatabaseErrorKind, Dialect, Executor, VersionTable};
use migrate_sqlite::{SqliteDialect, SqliteExecutor};
use migrate_tests::wait::PATIENCE;

fn table() -> VersionTable {
    VersionTable::default()
}

async fn run(exec: &mut SqliteExecutor, sql: &str) {
    exec.execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn count(exec: &SqliteExecutor, sql: &str) -> i64 {
    exec.connection()
        .query_row(sql, [], |row| row.get(0))
        .unwrap()
}

fn open(path: &Path) -> SqliteExecutor {
    SqliteExecutor::open(path).unwrap()
}

#[tokio::test]
async fn version_table_with_a_quoted_name_in_an_attached_database() {
    let dir = tempfile::tempdir().unwrap();
    let mut exec = open(&dir.path().join("app.db"));
    let other = dir.path().join("other.db");
    run(
        &mut exec,
        &format!("ATTACH DATABASE '{}' AS other", other.display()),
    )
    .await;
    let t = VersionTable {
        name: "Version Table".into(),
        schema: Some("other".into()),
    };
    let d = SqliteDialect;
    assert_eq!(exec.read_versions(&t).await.unwrap(), None);
    run(&mut exec, &d.create_version_table(&t)).await;
    run(&mut exec, &d.insert_version(&t, "aaa111")).await;
    assert_eq!(
        exec.read_versions(&t).await.unwrap(),
        Some(vec!["aaa111".into()])
    );
    // The table lives in the attached file, not in main.
    assert_eq!(exec.read_versions(&table()).await.unwrap(), None);

    // The lock of an attached version table is taken next to the attached file.
    exec.lock(&t, Duration::ZERO).await.unwrap();
    assert!(dir.path().join("other.db.migrate-lock").exists());
    assert!(!dir.path().join("app.db.migrate-lock").exists());
    exec.unlock(&t).await.unwrap();
}

#[tokio::test]
async fn a_failing_statement_reports_sqlites_message_on_one_line() {
    let mut exec = SqliteExecutor::in_memory().unwrap();
    let err = exec.execute("CREAT TABLE t (id INT)").await.unwrap_err();
    assert_eq!(err.kind, DatabaseErrorKind::Statement);
    assert_eq!(err.message, "near \"CREAT\": syntax error");

    let err = exec
        .execute("INSERT INTO\n  missing\nVALUES (1)")
        .await
        .unwrap_err();
    assert_eq!(err.message, "no such table: missing");
}

#[tokio::test]
async fn the_lock_is_held_across_commits_until_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let (mut first, mut second) = (open(&db), open(&db));
    let (t, d) = (table(), SqliteDialect);
    first.lock(&t, Duration::from_secs(5)).await.unwrap();
    for (i, sql) in [
        d.create_version_table(&t),
        d.insert_version(&t, "aaa111"),
        d.update_version(&t, "aaa111", "bbb222"),
    ]
    .iter()
    .enumerate()
    {
        first.begin().await.unwrap();
        run(&mut first, sql).await;
        first.commit().await.unwrap();
        let err = second.lock(&t, Duration::ZERO).await.unwrap_err();
        assert_eq!(err.kind, DatabaseErrorKind::LockTimeout, "after commit {i}");
    }
    // The lock does not block readers of the database itself.
    assert_eq!(
        second.read_versions(&t).await.unwrap(),
        Some(vec!["bbb222".into()])
    );
    first.unlock(&t).await.unwrap();
    second.lock(&t, Duration::ZERO).await.unwrap();
}

#[tokio::test]
async fn dropping_the_executor_releases_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let mut first = open(&db);
    first.lock(&table(), Duration::ZERO).await.unwrap();
    drop(first);
    // An unbounded wait is allowed, and a free lock is taken at once (the test itself waits
    // no longer than PATIENCE: a lock that was not released fails it instead of hanging).
    let mut second = open(&db);
    tokio::time::timeout(PATIENCE, second.lock(&table(), Duration::MAX))
        .await
        .expect("the dropped executor's lock was released")
        .unwrap();
}

/// What the migrator does, reduced: under the lock, apply each missing migration in its own
/// transaction together with its version-table change. A migration applied twice would fail
/// on its `CREATE TABLE`.
fn migrate_to_head(db: &Path, migrations: usize) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (t, d) = (table(), SqliteDialect);
        let mut exec = open(db);
        exec.lock(&t, Duration::from_secs(60)).await.unwrap();
        let mut applied = 0;
        let mut current = match exec.read_versions(&t).await.unwrap() {
            None => {
                run(&mut exec, &d.create_version_table(&t)).await;
                None
            }
            Some(rows) => rows.first().map(|v| v[1..].parse::<usize>().unwrap()),
        };
        let start = current.map_or(0, |c| c + 1);
        for n in start..migrations {
            exec.begin().await.unwrap();
            run(&mut exec, &format!("CREATE TABLE t{n} (id INTEGER)")).await;
            let sql = match current {
                None => d.insert_version(&t, &format!("r{n}")),
                Some(c) => d.update_version(&t, &format!("r{c}"), &format!("r{n}")),
            };
            run(&mut exec, &sql).await;
            exec.commit().await.unwrap();
            current = Some(n);
            applied += 1;
        }
        exec.unlock(&t).await.unwrap();
        applied
    })
}

#[test]
fn concurrent_migrators_apply_every_migration_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || migrate_to_head(&db, 20))
        })
        .collect();
    let applied: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(applied, 20);
    let exec = open(&db);
    assert_eq!(
        count(
            &exec,
            "SELECT count(*) FROM sqlite_master WHERE name LIKE 't%'"
        ),
        20
    );
}

#[tokio::test]
async fn in_memory_databases_need_no_lock() {
    let t = table();
    let mut first = SqliteExecutor::in_memory().unwrap();
    let mut second = SqliteExecutor::in_memory().unwrap();
    first.lock(&t, Duration::ZERO).await.unwrap();
    second.lock(&t, Duration::ZERO).await.unwrap();
    first.unlock(&t).await.unwrap();
}

#[tokio::test]
async fn from_url_opens_absolute_relative_and_memory_databases() {
    let dir = tempfile::tempdir().unwrap();
    let abs = dir.path().join("abs.db");
    let mut exec = SqliteExecutor::from_url(&format!("sqlite:///{}", abs.display())).unwrap();
    run(&mut exec, "CREATE TABLE t (id INTEGER)").await;
    assert!(abs.exists());

    let with_driver = dir.path().join("driver.db");
    SqliteExecutor::from_url(&format!("sqlite+pysqlite:///{}", with_driver.display())).unwrap();
    assert!(with_driver.exists());

    // Relative to the working directory (the package root under `cargo test`).
    let here = tempfile::Builder::new()
        .prefix(".url-test-")
        .tempdir_in(".")
        .unwrap();
    let name = here.path().file_name().unwrap().to_str().unwrap();
    SqliteExecutor::from_url(&format!("sqlite:///{name}/rel%20db.db")).unwrap();
    assert!(here.path().join("rel db.db").exists());

    for url in ["sqlite://", "sqlite:///:memory:", "sqlite+pysqlite://"] {
        let mut exec = SqliteExecutor::from_url(url).unwrap();
        run(&mut exec, "CREATE TABLE t (id INTEGER)").await;
        let file: String = exec
            .connection()
            .query_row(
                "SELECT file FROM pragma_database_list WHERE name = 'main'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(file, "", "{url} should be in memory");
    }
    assert!(!Path::new(":memory:").exists());
}

#[test]
fn from_url_reports_an_unopenable_file_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("x.db");
    let err = SqliteExecutor::from_url(&format!("sqlite:///{}", path.display())).unwrap_err();
    assert_eq!(err.kind, DatabaseErrorKind::Connect);
    assert_eq!(
        err.message,
        format!(
            "cannot open SQLite database {}: unable to open database file",
            path.display()
        )
    );
}

#[test]
fn a_file_that_is_not_a_database_fails_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    std::fs::write(&path, "these are notes, not a database\n".repeat(200)).unwrap();
    let err = SqliteExecutor::open(&path).unwrap_err();
    assert_eq!(err.kind, DatabaseErrorKind::Connect);
    assert_eq!(
        err.message,
        format!(
            "cannot open SQLite database {}: file is not a database",
            path.display()
        )
    );
    // Nothing was written to it.
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .starts_with("these are notes"));
}

#[tokio::test]
async fn a_trigger_body_survives_the_splitter() {
    let sql = "
CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
CREATE TABLE audit (account INTEGER, note TEXT);
CREATE TRIGGER accounts_audit AFTER UPDATE ON accounts
BEGIN
    INSERT INTO audit VALUES (NEW.id, 'was; ' || OLD.balance);
    INSERT INTO audit VALUES (NEW.id, 'now; ' || NEW.balance);
END;
INSERT INTO accounts VALUES (1, 10);
UPDATE accounts SET balance = 20 WHERE id = 1;
";
    let statements = split(sql, SqliteDialect.split_rules());
    assert_eq!(statements.len(), 5, "{statements:#?}");
    let mut exec = SqliteExecutor::in_memory().unwrap();
    for statement in &statements {
        run(&mut exec, &statement.text).await;
    }
    let notes: String = exec
        .connection()
        .query_row("SELECT group_concat(note, '|') FROM audit", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(notes, "was; 10|now; 20");
}

#[test]
fn from_url_refuses_other_schemes_and_hosts() {
    for (url, says) in [
        (
            "postgres://localhost/x",
            "not a SQLite URL (scheme `postgresql`)",
        ),
        ("sqlite://localhost/x.db", "(three slashes)"),
        ("app.db", "expected SCHEME://"),
    ] {
        let err = SqliteExecutor::from_url(url).unwrap_err();
        assert_eq!(err.kind, DatabaseErrorKind::Connect, "{url}");
        assert!(err.message.contains(says), "{url}: {err}");
    }
}
