//! What every executor must do, whatever its database: one suite run against SQLite,
//! PostgreSQL and MariaDB, each test on a database of its own. The version table as its dialect
//! writes it (plain, quoted, in another schema), transactions (DML always rolls back; DDL as
//! the dialect's `transactional_ddl` says), statement errors, `execute_and_commit`, and the
//! migration lock (exclusive across connections, kept across commits and DDL, one per version
//! table, released on unlock and when the connection goes). What is a backend's own stays in
//! its crate's tests.

mod common;

use std::time::Duration;

use common::executors::connect;
use common::{Backend, TestDb};
use migrate_core::{DatabaseErrorKind, Executor, VersionTable};
use migrate_tests::wait::PATIENCE;

/// `conformance!(name)` declares the module `name` with the tests `sqlite`, `postgres` and
/// `mysql`, each awaiting `name(TestDb)` on a fresh database of its backend (the server ones
/// skip, or fail under `MIGRATE_TEST_REQUIRE_ALL=1`, without their server).
macro_rules! conformance {
    ($body:ident) => {
        mod $body {
            use super::{Backend, TestDb};

            #[tokio::test]
            async fn sqlite() {
                if let Some(db) = TestDb::fresh(Backend::Sqlite) {
                    super::$body(db).await;
                }
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(db) = TestDb::fresh(Backend::Postgres) {
                    super::$body(db).await;
                }
            }

            #[tokio::test]
            async fn mysql() {
                if let Some(db) = TestDb::fresh(Backend::Mysql) {
                    super::$body(db).await;
                }
            }
        }
    };
}

async fn run(exec: &mut dyn Executor, sql: &str) {
    exec.execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn sorted_rows(exec: &mut dyn Executor, table: &VersionTable) -> Option<Vec<String>> {
    let mut rows = exec.read_versions(table).await.expect("read_versions")?;
    rows.sort();
    Some(rows)
}

/// The ids of `data`, through a query of the test's own (not the executor's).
fn data_ids(db: &TestDb) -> Vec<String> {
    db.column("SELECT id FROM data ORDER BY id")
}

/// Every statement the dialect writes for a version table, run in turn: the rows read back
/// are those the statements leave.
async fn exercise_version_table(exec: &mut dyn Executor, table: &VersionTable) {
    assert_eq!(exec.read_versions(table).await.unwrap(), None);
    let sql =
        |exec: &dyn Executor, f: &dyn Fn(&dyn migrate_core::Dialect) -> String| f(exec.dialect());
    let create = sql(&*exec, &|d| d.create_version_table(table));
    run(exec, &create).await;
    assert_eq!(exec.read_versions(table).await.unwrap(), Some(vec![]));
    for id in ["aaa111", "bbb222"] {
        let insert = sql(&*exec, &|d| d.insert_version(table, id));
        run(exec, &insert).await;
    }
    let update = sql(&*exec, &|d| d.update_version(table, "aaa111", "ccc333"));
    run(exec, &update).await;
    assert_eq!(
        sorted_rows(exec, table).await,
        Some(vec!["bbb222".to_string(), "ccc333".to_string()])
    );
    let delete = sql(&*exec, &|d| d.delete_version(table, "bbb222"));
    run(exec, &delete).await;
    assert_eq!(
        exec.read_versions(table).await.unwrap(),
        Some(vec!["ccc333".to_string()])
    );
    let purge = sql(&*exec, &|d| d.purge_versions(table));
    run(exec, &purge).await;
    assert_eq!(exec.read_versions(table).await.unwrap(), Some(vec![]));
}

async fn version_table_holds_the_rows_its_statements_write(db: TestDb) {
    let mut exec = connect(&db).await;
    exercise_version_table(exec.as_mut(), &VersionTable::default()).await;
    // A name that must be quoted.
    let quoted = VersionTable {
        name: "Version Table".into(),
        schema: None,
    };
    exercise_version_table(exec.as_mut(), &quoted).await;
    let mut tables = db.tables();
    tables.sort();
    assert_eq!(
        tables,
        ["Version Table", "alembic_version"],
        "exactly the two tables, under those names"
    );
}
conformance!(version_table_holds_the_rows_its_statements_write);

async fn a_version_table_in_another_schema_is_not_the_default_one(db: TestDb) {
    let mut exec = connect(&db).await;
    // The other schema: an attached file, a schema, another database.
    let other = TestDb::fresh(db.backend).expect("a second database on the same server");
    let schema = match db.backend {
        Backend::Sqlite => {
            let path = other.sqlite_path().expect("a file").display().to_string();
            run(exec.as_mut(), &format!("ATTACH DATABASE '{path}' AS other")).await;
            "other".to_string()
        }
        Backend::Postgres => {
            run(exec.as_mut(), "CREATE SCHEMA \"Tenant\"").await;
            "Tenant".to_string()
        }
        Backend::Mysql => other.name.clone().expect("a database name"),
    };
    let table = VersionTable {
        name: "alembic_version".into(),
        schema: Some(schema),
    };
    exercise_version_table(exec.as_mut(), &table).await;
    let insert = exec.dialect().insert_version(&table, "ddd444");
    run(exec.as_mut(), &insert).await;
    assert_eq!(
        exec.read_versions(&VersionTable::default()).await.unwrap(),
        None,
        "the default version table is another one"
    );
    assert_eq!(db.versions(), None);
}
conformance!(a_version_table_in_another_schema_is_not_the_default_one);

async fn rollback_undoes_dml_and_ddl_as_the_dialect_says(db: TestDb) {
    let mut exec = connect(&db).await;
    run(exec.as_mut(), "CREATE TABLE data (id INTEGER PRIMARY KEY)").await;
    run(exec.as_mut(), "INSERT INTO data (id) VALUES (1)").await;
    exec.begin().await.unwrap();
    run(exec.as_mut(), "INSERT INTO data (id) VALUES (2)").await;
    run(exec.as_mut(), "DELETE FROM data WHERE id = 1").await;
    exec.rollback().await.unwrap();
    assert_eq!(data_ids(&db), ["1"], "DML rolls back everywhere");

    let table = VersionTable::default();
    exec.begin().await.unwrap();
    run(exec.as_mut(), "CREATE TABLE more (id INTEGER)").await;
    let create = exec.dialect().create_version_table(&table);
    run(exec.as_mut(), &create).await;
    exec.rollback().await.unwrap();
    let transactional = exec.dialect().transactional_ddl();
    let versions = exec.read_versions(&table).await.unwrap();
    if transactional {
        assert_eq!(versions, None, "the version table's creation rolled back");
        assert_eq!(db.tables(), ["data"]);
    } else {
        assert_eq!(versions, Some(vec![]), "DDL commits at once");
        assert_eq!(db.tables(), ["alembic_version", "data", "more"]);
    }
    assert_eq!(
        transactional,
        db.backend != Backend::Mysql,
        "SQLite and PostgreSQL have transactional DDL, MySQL not"
    );

    exec.begin().await.unwrap();
    run(exec.as_mut(), "INSERT INTO data (id) VALUES (3)").await;
    exec.commit().await.unwrap();
    assert_eq!(data_ids(&db), ["1", "3"]);
}
conformance!(rollback_undoes_dml_and_ddl_as_the_dialect_says);

async fn a_failing_statement_is_a_one_line_statement_error(db: TestDb) {
    let mut exec = connect(&db).await;
    run(exec.as_mut(), "CREATE TABLE data (id INTEGER PRIMARY KEY)").await;
    for bad in [
        "CREAT TABLE t (\n  id INTEGER\n)",
        "SELECT * FROM missing_table",
        "INSERT INTO\n  missing_table\nVALUES (1)",
    ] {
        let err = exec.execute(bad).await.expect_err("the statement fails");
        assert_eq!(err.kind, DatabaseErrorKind::Statement, "{bad}: {err}");
        assert!(!err.message.contains('\n'), "one line: {err}");
        assert!(!err.message.is_empty());
    }
    // Inside a transaction: the failure leaves it to be rolled back, and the connection works.
    exec.begin().await.unwrap();
    run(exec.as_mut(), "INSERT INTO data (id) VALUES (1)").await;
    let err = exec
        .execute("INSERT INTO data (id) VALUES (1)")
        .await
        .expect_err("a duplicate key");
    assert_eq!(err.kind, DatabaseErrorKind::Statement, "{err}");
    exec.rollback().await.unwrap();
    assert!(data_ids(&db).is_empty());
    run(exec.as_mut(), "INSERT INTO data (id) VALUES (2)").await;
    assert_eq!(data_ids(&db), ["2"]);
}
conformance!(a_failing_statement_is_a_one_line_statement_error);

async fn execute_and_commit_commits_or_leaves_the_transaction_to_roll_back(db: TestDb) {
    let mut exec = connect(&db).await;
    let table = VersionTable::default();
    run(exec.as_mut(), "CREATE TABLE data (id INTEGER PRIMARY KEY)").await;
    let create = exec.dialect().create_version_table(&table);
    run(exec.as_mut(), &create).await;

    exec.begin().await.unwrap();
    run(exec.as_mut(), "INSERT INTO data (id) VALUES (1)").await;
    let insert = exec.dialect().insert_version(&table, "aaa111");
    exec.execute_and_commit(&[insert.as_str()]).await.unwrap();
    // Seen from another connection: committed.
    assert_eq!(data_ids(&db), ["1"]);
    assert_eq!(db.versions(), Some(vec!["aaa111".to_string()]));

    exec.begin().await.unwrap();
    run(exec.as_mut(), "INSERT INTO data (id) VALUES (2)").await;
    let err = exec
        .execute_and_commit(&["UPDATE missing_table SET version_num = 'x'"])
        .await
        .expect_err("the change fails");
    assert_eq!(err.kind, DatabaseErrorKind::Statement, "{err}");
    exec.rollback().await.unwrap();
    assert_eq!(
        data_ids(&db),
        ["1"],
        "nothing committed, the insert rolled back"
    );

    // Straight after `begin`.
    exec.begin().await.unwrap();
    let update = exec.dialect().update_version(&table, "aaa111", "bbb222");
    exec.execute_and_commit(&[update.as_str()]).await.unwrap();
    assert_eq!(db.versions(), Some(vec!["bbb222".to_string()]));

    // Several statements (the version change and the history rows): the second failing
    // leaves the first uncommitted; all succeeding commits all.
    exec.begin().await.unwrap();
    let update = exec.dialect().update_version(&table, "bbb222", "ccc333");
    let err = exec
        .execute_and_commit(&[update.as_str(), "INSERT INTO missing_table VALUES (1)"])
        .await
        .expect_err("the second statement fails");
    assert_eq!(err.kind, DatabaseErrorKind::Statement, "{err}");
    exec.rollback().await.unwrap();
    assert_eq!(db.versions(), Some(vec!["bbb222".to_string()]));
    exec.begin().await.unwrap();
    exec.execute_and_commit(&[update.as_str(), "INSERT INTO data (id) VALUES (3)"])
        .await
        .unwrap();
    assert_eq!(db.versions(), Some(vec!["ccc333".to_string()]));
    assert_eq!(data_ids(&db), ["1", "3"]);
}
conformance!(execute_and_commit_commits_or_leaves_the_transaction_to_roll_back);

async fn the_lock_is_exclusive_until_unlocked(db: TestDb) {
    let (mut first, mut second) = (connect(&db).await, connect(&db).await);
    let table = VersionTable::default();
    first.lock(&table, Duration::ZERO).await.unwrap();

    for wait in [Duration::ZERO, Duration::from_millis(200)] {
        let err = second
            .lock(&table, wait)
            .await
            .expect_err("another connection holds the lock");
        assert_eq!(err.kind, DatabaseErrorKind::LockTimeout, "{err}");
        assert!(!err.message.contains('\n'), "one line: {err}");
        assert!(err.message.contains("another migration"), "says why: {err}");
    }

    first.unlock(&table).await.unwrap();
    second.lock(&table, Duration::ZERO).await.unwrap();
    let err = first.lock(&table, Duration::ZERO).await.unwrap_err();
    assert_eq!(err.kind, DatabaseErrorKind::LockTimeout, "{err}");
    second.unlock(&table).await.unwrap();
}
conformance!(the_lock_is_exclusive_until_unlocked);

async fn the_lock_is_kept_across_commits_and_ddl(db: TestDb) {
    let (mut first, mut second) = (connect(&db).await, connect(&db).await);
    let table = VersionTable::default();
    first.lock(&table, Duration::ZERO).await.unwrap();
    let create = first.dialect().create_version_table(&table);
    let insert = first.dialect().insert_version(&table, "aaa111");
    for sql in [create, "CREATE TABLE data (id INTEGER)".to_string(), insert] {
        first.begin().await.unwrap();
        run(first.as_mut(), &sql).await;
        first.commit().await.unwrap();
        let err = second.lock(&table, Duration::ZERO).await.unwrap_err();
        assert_eq!(err.kind, DatabaseErrorKind::LockTimeout, "after {sql}");
    }
    // A failed statement and a rollback keep it too.
    first.begin().await.unwrap();
    first
        .execute("SELECT * FROM missing_table")
        .await
        .unwrap_err();
    first.rollback().await.unwrap();
    second.lock(&table, Duration::ZERO).await.unwrap_err();
    // The lock does not keep others from reading the version table.
    assert_eq!(
        second.read_versions(&table).await.unwrap(),
        Some(vec!["aaa111".to_string()])
    );
    first.unlock(&table).await.unwrap();
    second.lock(&table, Duration::ZERO).await.unwrap();
}
conformance!(the_lock_is_kept_across_commits_and_ddl);

/// The default version table and another one in the same schema.
fn two_version_tables() -> (VersionTable, VersionTable) {
    let other = VersionTable {
        name: "other_version".into(),
        schema: None,
    };
    (VersionTable::default(), other)
}

/// PostgreSQL and MySQL lock each version table on its own; SQLite locks the database file
/// (`<database>.migrate-lock`, as the README says), whichever version table it holds.
async fn each_version_table_has_a_lock_of_its_own(db: TestDb) {
    let (mut first, mut second) = (connect(&db).await, connect(&db).await);
    let (table, other) = two_version_tables();
    first.lock(&table, Duration::ZERO).await.unwrap();
    let result = second.lock(&other, Duration::ZERO).await;
    if db.backend == Backend::Sqlite {
        let err = result.expect_err("one lock per database file");
        assert_eq!(err.kind, DatabaseErrorKind::LockTimeout, "{err}");
    } else {
        result.expect("another version table, another lock");
        second.unlock(&other).await.unwrap();
    }
    first.unlock(&table).await.unwrap();
}
conformance!(each_version_table_has_a_lock_of_its_own);

async fn a_closed_connection_releases_its_lock(db: TestDb) {
    let table = VersionTable::default();
    let mut first = connect(&db).await;
    first.lock(&table, Duration::ZERO).await.unwrap();
    drop(first);
    // The server notices the closed connection shortly after; the wait is bounded.
    let mut second = connect(&db).await;
    second
        .lock(&table, PATIENCE)
        .await
        .expect("the lock was released with the connection");
    second.unlock(&table).await.unwrap();
}
conformance!(a_closed_connection_releases_its_lock);

/// One connection may hold the locks of two version tables at once (a program migrating two
/// histories through one connection): locking the second really takes its lock, and
/// unlocking one leaves the other held. SQLite's lock is the database file's, which both
/// tables share: it stays held until the last of them is unlocked.
async fn one_connection_holds_the_locks_of_two_version_tables(db: TestDb) {
    let (mut first, mut second) = (connect(&db).await, connect(&db).await);
    let (table, other) = two_version_tables();
    let refused = |result: Result<(), migrate_core::DatabaseError>, what: &str| {
        let err = result.expect_err(what);
        assert_eq!(err.kind, DatabaseErrorKind::LockTimeout, "{what}: {err}");
    };
    first.lock(&table, Duration::ZERO).await.unwrap();
    first.lock(&other, Duration::ZERO).await.unwrap();
    refused(
        second.lock(&other, Duration::ZERO).await,
        "the first connection holds the other table's lock too",
    );
    first.unlock(&other).await.unwrap();
    refused(
        second.lock(&table, Duration::ZERO).await,
        "unlocking the other table leaves this one's lock held",
    );
    if db.backend == Backend::Sqlite {
        refused(
            second.lock(&other, Duration::ZERO).await,
            "the database file stays locked for the first table",
        );
    } else {
        second.lock(&other, Duration::ZERO).await.unwrap();
        second.unlock(&other).await.unwrap();
    }
    first.unlock(&table).await.unwrap();
    second.lock(&table, Duration::ZERO).await.unwrap();
    second.lock(&other, Duration::ZERO).await.unwrap();
    second.unlock(&other).await.unwrap();
    second.unlock(&table).await.unwrap();
}
conformance!(one_connection_holds_the_locks_of_two_version_tables);

/// The default schema named outright is the same version table, so the same lock: locking
/// it under both spellings and unlocking one keeps it held.
async fn a_version_table_named_with_its_schema_shares_its_lock(db: TestDb) {
    let (mut first, mut second) = (connect(&db).await, connect(&db).await);
    let schema = match db.backend {
        Backend::Sqlite => "main".to_string(),
        Backend::Postgres => "public".to_string(),
        Backend::Mysql => db.name.clone().expect("a MariaDB database name"),
    };
    let (plain, qualified) = (
        VersionTable::default(),
        VersionTable {
            schema: Some(schema),
            ..VersionTable::default()
        },
    );
    first.lock(&plain, Duration::ZERO).await.unwrap();
    first.lock(&qualified, Duration::ZERO).await.unwrap();
    first.unlock(&plain).await.unwrap();
    let err = second
        .lock(&plain, Duration::ZERO)
        .await
        .expect_err("still held for the qualified name");
    assert_eq!(err.kind, DatabaseErrorKind::LockTimeout, "{err}");
    first.unlock(&qualified).await.unwrap();
    second.lock(&qualified, Duration::ZERO).await.unwrap();
    second.unlock(&qualified).await.unwrap();
}
conformance!(a_version_table_named_with_its_schema_shares_its_lock);
