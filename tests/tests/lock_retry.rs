//! The DDL lock timeout with retry, on every backend: another session holds a lock on the table
//! a migration alters; with `ddl_lock_timeout` and `ddl_retries` the migration gives up
//! waiting after the timeout, says so, and is retried until the lock is released; without
//! retries it fails with the `ddl_lock_timeout` error (worth retrying: exit class 3) and leaves
//! the database as it was.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::{Backend, Project, TestDb};
use migrate_core::{Error, ErrorClass, Event, Executor, MigrateOptions, Migrator, ScriptDirectory};

/// The one revision: alter a table another session holds.
fn project(backend: Backend) -> Project {
    let column = match backend {
        Backend::Sqlite => "INTEGER",
        _ => "INT",
    };
    let project = Project::empty();
    project.write(
        "versions/a1_add_c.sql",
        &format!(
            "-- add c\n-- Revision ID: a1a1a1a1a1a1\n-- Revises:\n\n-- migrate:upgrade\nALTER TABLE t ADD COLUMN c {column};\n\n-- migrate:downgrade\nALTER TABLE t DROP COLUMN c;\n"
        ),
    );
    project
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

async fn connect(db: &TestDb) -> Box<dyn Executor> {
    match db.backend {
        Backend::Sqlite => Box::new(migrate_sqlite::SqliteExecutor::from_url(&db.url).unwrap()),
        Backend::Postgres => Box::new(
            migrate_postgres::PostgresExecutor::connect(&db.url)
                .await
                .unwrap(),
        ),
        Backend::Mysql => Box::new(
            migrate_mysql::MysqlExecutor::connect(&db.url)
                .await
                .unwrap(),
        ),
    }
}

/// Holds a lock on `t` in another session for `hold`, from when `locked` is signalled.
fn hold_lock(db: &TestDb, hold: Duration, locked: mpsc::Sender<()>) -> std::thread::JoinHandle<()> {
    let (backend, url, path) = (
        db.backend,
        db.url.clone(),
        db.sqlite_path().map(|p| p.to_path_buf()),
    );
    std::thread::spawn(move || match backend {
        Backend::Sqlite => {
            let conn = rusqlite::Connection::open(path.expect("a file")).unwrap();
            conn.execute_batch("BEGIN IMMEDIATE").unwrap();
            locked.send(()).unwrap();
            std::thread::sleep(hold);
            conn.execute_batch("COMMIT").unwrap();
        }
        Backend::Postgres => runtime().block_on(async {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            client
                .batch_execute("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
                .await
                .unwrap();
            locked.send(()).unwrap();
            tokio::time::sleep(hold).await;
            client.batch_execute("COMMIT").await.unwrap();
        }),
        Backend::Mysql => runtime().block_on(async {
            use mysql_async::prelude::Queryable;
            let mut conn = mysql_async::Conn::from_url(url.as_str()).await.unwrap();
            // An open transaction that read `t` holds its metadata lock: ALTER waits for it.
            conn.query_drop("START TRANSACTION").await.unwrap();
            conn.query_drop("SELECT * FROM t").await.unwrap();
            locked.send(()).unwrap();
            tokio::time::sleep(hold).await;
            conn.query_drop("COMMIT").await.unwrap();
            let _ = conn.disconnect().await;
        }),
    })
}

fn options(retries: u32) -> MigrateOptions {
    MigrateOptions {
        ddl_lock_timeout: Some(Duration::from_secs(1)),
        ddl_retries: retries,
        ddl_retry_delay: Duration::from_millis(400),
        ..MigrateOptions::default()
    }
}

fn prepare(db: &TestDb) {
    let create = match db.backend {
        Backend::Sqlite => "CREATE TABLE t (id INTEGER PRIMARY KEY)",
        _ => "CREATE TABLE t (id INT PRIMARY KEY)",
    };
    db.query(create);
}

fn retried_until_released(db: TestDb) {
    prepare(&db);
    let project = project(db.backend);
    let map = ScriptDirectory::load(&[project.path().join("versions")], false)
        .and_then(ScriptDirectory::into_map)
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let holder = hold_lock(&db, Duration::from_secs(3), tx);
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the lock is taken");
    let mut events = Vec::new();
    let result = runtime().block_on(async {
        let mut exec = connect(&db).await;
        Migrator::new(&map, options(6))
            .upgrade(exec.as_mut(), "head", &mut |e: &Event| {
                events.push(e.clone())
            })
            .await
    });
    holder.join().unwrap();
    let report = result.unwrap_or_else(|e| panic!("the retried upgrade failed: {e}"));
    assert_eq!(report.heads, ["a1a1a1a1a1a1"]);
    let retries: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(e, Event::Retrying { .. }))
        .collect();
    assert!(!retries.is_empty(), "no retry was reported: {events:?}");
    let Event::Retrying {
        revision,
        statement,
        attempt,
        of,
        rolled_back,
        ..
    } = retries[0]
    else {
        unreachable!()
    };
    assert_eq!((*attempt, *of), (1, 6));
    match db.backend {
        // PostgreSQL: the transaction is rolled back and run again from its BEGIN.
        Backend::Postgres => {
            assert_eq!(
                (revision.as_deref(), *statement, *rolled_back),
                (Some("a1a1a1a1a1a1"), 1, true)
            )
        }
        // MySQL: DDL commits itself; the statement, which never started, is sent again.
        Backend::Mysql => {
            assert_eq!(
                (revision.as_deref(), *statement, *rolled_back),
                (Some("a1a1a1a1a1a1"), 1, false)
            )
        }
        // SQLite takes its write lock when the transaction opens: that is what waits.
        Backend::Sqlite => assert_eq!(
            (revision.as_deref(), *statement, *rolled_back),
            (None, 0, false)
        ),
    }
    assert!(
        db.columns("t").contains(&"c".to_string()),
        "{:?}",
        db.columns("t")
    );
    assert_eq!(db.versions(), Some(vec!["a1a1a1a1a1a1".to_string()]));
}

fn without_retries_it_fails_on_the_timeout_and_changes_nothing(db: TestDb) {
    prepare(&db);
    let project = project(db.backend);
    let map = ScriptDirectory::load(&[project.path().join("versions")], false)
        .and_then(ScriptDirectory::into_map)
        .unwrap();
    let before = db.schema();
    let (tx, rx) = mpsc::channel();
    let holder = hold_lock(&db, Duration::from_secs(4), tx);
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the lock is taken");
    let result = runtime().block_on(async {
        let mut exec = connect(&db).await;
        Migrator::new(&map, options(0))
            .upgrade(exec.as_mut(), "head", &mut |_: &Event| {})
            .await
    });
    holder.join().unwrap();
    let err = result.expect_err("the lock was held past the timeout");
    assert_eq!(err.code(), "ddl_lock_timeout", "{err}");
    assert_eq!(err.class(), ErrorClass::Unavailable, "{err}");
    let text = err.to_string();
    match &err {
        Error::StatementFailed(f) => {
            assert_eq!((f.revision.as_str(), f.index), ("a1a1a1a1a1a1", 1));
            assert!(
                text.contains("statement 1 of revision a1a1a1a1a1a1 (upgrade) failed"),
                "{text}"
            );
        }
        // SQLite waits for its write lock when the transaction begins, before any statement.
        Error::Database { error, .. } => {
            assert_eq!(db.backend, Backend::Sqlite, "{text}");
            assert!(error.message.contains("locked"), "{text}");
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(!db.columns("t").contains(&"c".to_string()));
    let after: Vec<String> = db
        .schema()
        .into_iter()
        .filter(|l| !l.contains("alembic_version"))
        .collect();
    let before: Vec<String> = before
        .into_iter()
        .filter(|l| !l.contains("alembic_version"))
        .collect();
    assert_eq!(after, before);
    assert!(db.versions().unwrap_or_default().is_empty());
}

per_backend!(retried_until_released);
per_backend!(without_retries_it_fails_on_the_timeout_and_changes_nothing);
