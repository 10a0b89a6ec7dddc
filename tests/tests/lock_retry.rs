//! The DDL lock timeout with retry, on every backend: another session holds a lock on the table
//! a migration alters; with `ddl_lock_timeout` and `ddl_retries` the migration gives up
//! waiting after the timeout, says so, and is retried until the lock is released; without
//! retries it fails with the `ddl_lock_timeout` error (worth retrying: exit class 3) and leaves
//! the database as it was. Through the library and through the binary (`ddl_lock_timeout = 1`,
//! `ddl_retries = 5` in migrate.toml); and, the point of the timeout, readers that queue behind
//! the waiting ALTER wait at most about the timeout instead of as long as the holder holds.

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

/// The binary with `ddl_lock_timeout = 1` and `ddl_retries` in migrate.toml.
fn cli_project(db: &TestDb, retries: u32) -> Project {
    let p = project(db.backend);
    p.write(
        "migrate.toml",
        &format!(
            "script_location = \".\"\nurl = \"{}\"\nddl_lock_timeout = 1\nddl_retries = {retries}\n",
            db.url
        ),
    );
    p
}

fn cli_retries_and_succeeds_once_the_lock_is_released(db: TestDb) {
    prepare(&db);
    let p = cli_project(&db, 5);
    let (tx, rx) = mpsc::channel();
    let holder = hold_lock(&db, Duration::from_secs(3), tx);
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the lock is taken");
    let run = p.migrate(&["upgrade", "head"]);
    holder.join().unwrap();
    run.ok();
    let retries: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("Lock timeout on "))
        .collect();
    assert!(!retries.is_empty(), "says it retries: {}", run.stderr);
    assert!(retries[0].ends_with("(retry 1 of 5)"), "{}", retries[0]);
    assert!(db.columns("t").contains(&"c".to_string()));
    assert_eq!(db.versions(), Some(vec!["a1a1a1a1a1a1".to_string()]));
}
per_backend!(cli_retries_and_succeeds_once_the_lock_is_released);

fn cli_without_retries_fails_after_the_timeout_and_changes_nothing(db: TestDb) {
    prepare(&db);
    let p = cli_project(&db, 0);
    let before = db.schema();
    let (tx, rx) = mpsc::channel();
    let holder = hold_lock(&db, Duration::from_secs(6), tx);
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the lock is taken");
    let started = std::time::Instant::now();
    let run = p.migrate(&["upgrade", "head"]);
    let took = started.elapsed();
    holder.join().unwrap();
    // Exit 3: the database was not available in time; worth running again.
    let message = run.failed_with(3);
    // It gave up on the timeout, long before the holder let go.
    assert!(took < Duration::from_secs(5), "took {took:?}");
    match db.backend {
        Backend::Sqlite => assert!(message.contains("locked"), "{message}"),
        _ => assert!(
            message.contains("statement 1 of revision a1a1a1a1a1a1 (upgrade) failed"),
            "{message}"
        ),
    }
    assert!(!db.columns("t").contains(&"c".to_string()));
    let unchanged = |schema: Vec<String>| -> Vec<String> {
        schema
            .into_iter()
            .filter(|l| !l.contains("alembic_version"))
            .collect()
    };
    assert_eq!(unchanged(db.schema()), unchanged(before));
    assert!(db.versions().unwrap_or_default().is_empty());
}
per_backend!(cli_without_retries_fails_after_the_timeout_and_changes_nothing);

/// The outage the timeout prevents: a long transaction that read `t` holds a shared lock, the
/// ALTER queues for its exclusive lock, and every reader of `t` queues behind the ALTER. With
/// `ddl_lock_timeout = 1` the ALTER steps out of the queue after a second (and retries later),
/// so no reader waits much longer than that, although the holder keeps its lock for 5 s.
fn readers_never_queue_behind_the_waiting_alter_longer_than_the_timeout(db: TestDb) {
    if db.backend == Backend::Sqlite {
        return; // SQLite has one writer and no lock queue for readers.
    }
    prepare(&db);
    db.query("INSERT INTO t (id) VALUES (1)");
    let p = cli_project(&db, 10);
    let hold = Duration::from_secs(5);
    let (tx, rx) = mpsc::channel();
    let holder = match db.backend {
        Backend::Postgres => {
            let url = db.url.clone();
            std::thread::spawn(move || {
                runtime().block_on(async {
                    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                        .await
                        .unwrap();
                    tokio::spawn(conn);
                    client
                        .batch_execute("BEGIN; SELECT * FROM t")
                        .await
                        .unwrap();
                    tx.send(()).unwrap();
                    tokio::time::sleep(hold).await;
                    client.batch_execute("COMMIT").await.unwrap();
                })
            })
        }
        _ => hold_lock(&db, hold, tx),
    };
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the lock is taken");
    let migration = p.spawn(&["upgrade", "head"]);
    // A reader on its own connection, querying `t` until the migration is done.
    let reader_url = db.url.clone();
    let backend = db.backend;
    let reader = std::thread::spawn(move || {
        runtime().block_on(async move {
            let deadline = std::time::Instant::now() + hold + Duration::from_secs(2);
            let mut longest = Duration::ZERO;
            let mut reads = 0;
            let mut exec = match backend {
                Backend::Postgres => Box::new(
                    migrate_postgres::PostgresExecutor::connect(&reader_url)
                        .await
                        .unwrap(),
                ) as Box<dyn Executor>,
                _ => Box::new(
                    migrate_mysql::MysqlExecutor::connect(&reader_url)
                        .await
                        .unwrap(),
                ),
            };
            while std::time::Instant::now() < deadline {
                let started = std::time::Instant::now();
                exec.query_text("SELECT count(*) FROM t").await.unwrap();
                longest = longest.max(started.elapsed());
                reads += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (longest, reads)
        })
    });
    let (longest, reads) = reader.join().unwrap();
    holder.join().unwrap();
    common::wait(migration, "upgrade head").ok();
    assert!(db.columns("t").contains(&"c".to_string()));
    assert!(reads > 10, "the reader kept reading: {reads} reads");
    // Without the timeout a reader would wait for the whole 5 s hold.
    assert!(
        longest < Duration::from_millis(2500),
        "a reader waited {longest:?} behind the ALTER"
    );
}
per_backend!(readers_never_queue_behind_the_waiting_alter_longer_than_the_timeout);
