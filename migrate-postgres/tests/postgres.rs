//! Against a real server named by `MIGRATE_TEST_POSTGRES_URL` (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`). Each test works in its own fresh database,
//! dropped when the test ends (also when it fails). What every executor must do is in
//! `tests/tests/conformance.rs`; this file holds what is PostgreSQL's own.

use std::time::Duration;

use migrate_core::{DatabaseErrorKind, Executor, VersionTable};
use migrate_postgres::PostgresExecutor;
use migrate_tests::need::skip;
use migrate_tests::servers::{server_url, Server, ServerDatabase, POSTGRES_VAR};
use migrate_tests::wait::{wait_until_async, PATIENCE};

/// The admin URL, or `None` (after saying so on stderr; a failure under
/// `MIGRATE_TEST_REQUIRE_ALL=1`) when the suite is skipped.
fn admin_url() -> Option<String> {
    server_url(POSTGRES_VAR)
}

/// `url` with its database and query replaced.
fn with_db(url: &str, db: &str, query: Option<&str>) -> String {
    let mut u = url::Url::parse(url).expect("MIGRATE_TEST_POSTGRES_URL is a URL");
    u.set_path(&format!("/{db}"));
    u.set_query(query);
    u.to_string()
}

/// `url` (the server's own database) with its query replaced.
fn with_query(url: &str, query: Option<&str>) -> String {
    let mut u = url::Url::parse(url).expect("MIGRATE_TEST_POSTGRES_URL is a URL");
    u.set_query(query);
    u.to_string()
}

/// A fresh database, dropped when the value is (or by [`TestDb::finish`]).
struct TestDb {
    #[allow(dead_code)] // for tests that name the database in SQL
    name: String,
    url: String,
    /// A session on the server's admin database, for watching and ending other sessions.
    admin: PostgresExecutor,
    _db: ServerDatabase,
}

impl TestDb {
    async fn create(admin_url: &str) -> TestDb {
        let db = ServerDatabase::create_on(
            Server::Postgres,
            admin_url,
            &migrate_tests::servers::random_name(),
        );
        TestDb {
            name: db.name.clone(),
            url: db.url.clone(),
            admin: PostgresExecutor::connect(admin_url).await.unwrap(),
            _db: db,
        }
    }

    async fn connect(&self) -> PostgresExecutor {
        PostgresExecutor::connect(&self.url).await.unwrap()
    }

    /// A connection whose URL has the query `query` (`lock_mode=transaction`, ...).
    async fn connect_with(&self, query: &str) -> PostgresExecutor {
        let url = format!("{}?{query}", self.url);
        PostgresExecutor::connect(&url).await.unwrap()
    }

    /// Drops the database now (dropping the value does the same).
    async fn finish(self) {
        drop(self);
    }
}

async fn ssl_in_use(exec: &PostgresExecutor) -> bool {
    exec.client()
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn sslmode_require_encrypts_and_disable_does_not() {
    let Some(admin) = admin_url() else { return };
    let required = PostgresExecutor::connect(&with_query(&admin, Some("sslmode=require")))
        .await
        .unwrap();
    assert!(ssl_in_use(&required).await);
    let plain = PostgresExecutor::connect(&with_query(&admin, Some("sslmode=disable")))
        .await
        .unwrap();
    assert!(!ssl_in_use(&plain).await);
    // The default, prefer, takes TLS when the server offers it (this one does).
    let preferred = PostgresExecutor::connect(&with_query(&admin, None))
        .await
        .unwrap();
    assert!(ssl_in_use(&preferred).await);
}

#[tokio::test]
async fn application_name_defaults_to_migrate() {
    let Some(admin) = admin_url() else { return };
    let exec = PostgresExecutor::connect(&with_query(&admin, None))
        .await
        .unwrap();
    let name: String = exec
        .client()
        .query_one("SELECT current_setting('application_name')", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(name, "migrate");
}

/// A connect error: one line, kind Connect, no password, containing `needle`.
async fn assert_connect_error(url: &str, needle: &str) {
    let err = PostgresExecutor::connect(url).await.unwrap_err();
    assert_eq!(err.kind, DatabaseErrorKind::Connect, "{}", err.message);
    assert!(!err.message.contains('\n'), "{}", err.message);
    assert!(!err.message.contains("s3cret"), "{}", err.message);
    assert!(!err.message.contains("://"), "{}", err.message);
    assert!(
        err.message.contains(needle),
        "{needle:?} not in {}",
        err.message
    );
}

#[tokio::test]
async fn verify_full_refuses_the_self_signed_certificate() {
    let Some(admin) = admin_url() else { return };
    let mut u = url::Url::parse(&with_query(&admin, Some("sslmode=verify-full"))).unwrap();
    u.set_password(Some("s3cret")).unwrap();
    assert_connect_error(u.as_str(), "sslrootcert=PATH").await;
}

/// The server's own certificate file, when this process can read it (the local server's is
/// the self-signed snakeoil certificate, issued for `localhost`).
async fn server_certificate(admin: &str) -> Option<String> {
    let exec = PostgresExecutor::connect(admin).await.unwrap();
    let path: String = exec
        .client()
        .query_one("SELECT current_setting('ssl_cert_file')", &[])
        .await
        .unwrap()
        .get(0);
    std::fs::metadata(&path).ok().map(|_| path)
}

#[tokio::test]
async fn verify_ca_and_verify_full_with_the_server_certificate_as_root() {
    let Some(admin) = admin_url() else { return };
    let Some(cert) = server_certificate(&admin).await else {
        skip("the server's certificate file (ssl_cert_file) is not readable here");
        return;
    };
    let host = url::Url::parse(&admin)
        .unwrap()
        .host_str()
        .unwrap()
        .to_string();
    if host != "127.0.0.1" {
        skip("a server at 127.0.0.1 (its certificate names localhost, which must be another name for it)");
        return;
    }
    // verify-ca checks the chain only: 127.0.0.1 is not the certificate's name, yet it connects.
    let ca = PostgresExecutor::connect(&with_query(
        &admin,
        Some(&format!("sslmode=verify-ca&sslrootcert={cert}")),
    ))
    .await
    .unwrap();
    assert!(ssl_in_use(&ca).await);
    // verify-full also checks the name: 127.0.0.1 is refused...
    assert_connect_error(
        &with_query(
            &admin,
            Some(&format!("sslmode=verify-full&sslrootcert={cert}")),
        ),
        "certificate",
    )
    .await;
    // ...and localhost, the certificate's name, is accepted.
    let mut u = url::Url::parse(&with_query(
        &admin,
        Some(&format!("sslmode=verify-full&sslrootcert={cert}")),
    ))
    .unwrap();
    u.set_host(Some("localhost")).unwrap();
    let full = PostgresExecutor::connect(u.as_str()).await.unwrap();
    assert!(ssl_in_use(&full).await);
}

// The local server trusts every login from 127.0.0.1 (pg_hba.conf: `host all all
// 127.0.0.1/32 trust`), so a wrong password cannot be observed; an unknown role and a missing
// database stand in for refused logins.
#[tokio::test]
async fn unknown_role_and_missing_database_are_one_line() {
    let Some(admin) = admin_url() else { return };
    let mut u = url::Url::parse(&with_query(&admin, None)).unwrap();
    u.set_username("no_such_role_migrate").unwrap();
    u.set_password(Some("s3cret")).unwrap();
    assert_connect_error(u.as_str(), "no_such_role_migrate").await;

    let mut u = url::Url::parse(&with_db(&admin, "no_such_db_migrate", None)).unwrap();
    u.set_password(Some("s3cret")).unwrap();
    assert_connect_error(u.as_str(), "does not exist").await;
}

#[tokio::test]
async fn unknown_host_and_closed_port_are_one_line() {
    if admin_url().is_none() {
        return;
    }
    assert_connect_error(
        "postgresql://postgres:s3cret@nonexistent.invalid/test?connect_timeout=5",
        "nonexistent.invalid",
    )
    .await;
    assert_connect_error(
        "postgresql://postgres:s3cret@127.0.0.1:1/test?connect_timeout=5",
        "127.0.0.1:1",
    )
    .await;
}

#[tokio::test]
async fn version_table_in_a_custom_schema() {
    let Some(admin) = admin_url() else { return };
    let db = TestDb::create(&admin).await;
    let mut exec = db.connect().await;
    exec.execute("CREATE SCHEMA \"Tenant\"").await.unwrap();
    let table = VersionTable {
        name: "alembic_version".into(),
        schema: Some("Tenant".into()),
    };
    assert_eq!(exec.read_versions(&table).await.unwrap(), None);
    let create = exec.dialect().create_version_table(&table);
    exec.execute(&create).await.unwrap();
    let insert = exec.dialect().insert_version(&table, "b2");
    exec.execute(&insert).await.unwrap();
    assert_eq!(
        exec.read_versions(&table).await.unwrap(),
        Some(vec!["b2".to_string()])
    );
    // The table in "Tenant" is not the one in the current schema (public).
    assert_eq!(
        exec.read_versions(&VersionTable::default()).await.unwrap(),
        None
    );
    drop(exec);
    db.finish().await;
}

#[tokio::test]
async fn statement_errors_carry_sqlstate_detail_and_hint() {
    let Some(admin) = admin_url() else { return };
    let db = TestDb::create(&admin).await;
    let mut exec = db.connect().await;
    let err = exec
        .execute("SELECT * FROM missing_table")
        .await
        .unwrap_err();
    assert_eq!(err.kind, DatabaseErrorKind::Statement);
    assert_eq!(
        err.message,
        "ERROR: relation \"missing_table\" does not exist (SQLSTATE 42P01)"
    );

    exec.execute("CREATE TABLE t (id int PRIMARY KEY)")
        .await
        .unwrap();
    exec.execute("INSERT INTO t VALUES (1)").await.unwrap();
    let err = exec.execute("INSERT INTO t VALUES (1)").await.unwrap_err();
    assert_eq!(
        err.message,
        "ERROR: duplicate key value violates unique constraint \"t_pkey\" (SQLSTATE 23505); DETAIL: Key (id)=(1) already exists."
    );

    let err = exec
        .execute("DO $$ BEGIN RAISE EXCEPTION 'boom' USING DETAIL = 'line one\nline two', HINT = 'try again'; END $$")
        .await
        .unwrap_err();
    assert_eq!(
        err.message,
        "ERROR: boom (SQLSTATE P0001); DETAIL: line one line two; HINT: try again"
    );
    drop(exec);
    db.finish().await;
}

#[tokio::test]
async fn lock_contention_times_out_then_succeeds_after_unlock() {
    let Some(admin) = admin_url() else { return };
    let db = TestDb::create(&admin).await;
    let mut first = db.connect().await;
    let mut second = db.connect().await;
    let table = VersionTable::default();
    first.lock(&table, Duration::from_secs(5)).await.unwrap();

    let err = second
        .lock(&table, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert_eq!(err.kind, DatabaseErrorKind::LockTimeout);
    assert!(
        err.message.contains("another migration holds the lock"),
        "{}",
        err.message
    );
    assert!(err.message.contains("pg_locks"), "{}", err.message);
    assert!(!err.message.contains('\n'), "{}", err.message);

    // The lock is session-level: a transaction committing in between does not release it.
    first.begin().await.unwrap();
    first.execute("CREATE TABLE t (id int)").await.unwrap();
    first.commit().await.unwrap();
    let err = second.lock(&table, Duration::ZERO).await.unwrap_err();
    assert_eq!(err.kind, DatabaseErrorKind::LockTimeout);

    // A different version table is a different lock.
    let other = VersionTable {
        name: "other_version".into(),
        schema: None,
    };
    second.lock(&other, Duration::ZERO).await.unwrap();
    second.unlock(&other).await.unwrap();

    first.unlock(&table).await.unwrap();
    second.lock(&table, Duration::from_secs(5)).await.unwrap();
    second.unlock(&table).await.unwrap();
    drop(first);
    drop(second);
    db.finish().await;
}

/// The pid of the session behind `exec`.
async fn backend_pid(exec: &PostgresExecutor) -> i32 {
    exec.client()
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn waiting_lock_is_granted_when_released() {
    let Some(admin) = admin_url() else { return };
    let db = TestDb::create(&admin).await;
    let mut first = db.connect().await;
    let mut second = db.connect().await;
    let table = VersionTable::default();
    first.lock(&table, Duration::ZERO).await.unwrap();
    let waiter_pid = backend_pid(&second).await;
    let waiter = tokio::spawn(async move {
        let result = second.lock(&table, PATIENCE).await;
        (second, result)
    });
    // Released only once the waiter has asked for the lock (and been refused, since `first`
    // holds it), so that the waiting path is the one tested.
    let watcher = first.client();
    wait_until_async(
        "the second session to ask for the lock",
        PATIENCE,
        || async {
            let query: Option<String> = watcher
                .query_one(
                    "SELECT query FROM pg_stat_activity WHERE pid = $1",
                    &[&waiter_pid],
                )
                .await
                .unwrap()
                .get(0);
            query.is_some_and(|q| q.contains("pg_try_advisory_lock"))
        },
    )
    .await;
    assert!(!waiter.is_finished(), "the lock was granted while held");
    first.unlock(&VersionTable::default()).await.unwrap();
    let (second, result) = waiter.await.unwrap();
    result.unwrap();
    drop(first);
    drop(second);
    db.finish().await;
}

/// The server's first socket folder and its port.
async fn socket_folder(admin: &str) -> (String, String) {
    let exec = PostgresExecutor::connect(admin).await.unwrap();
    let setting = |name: &'static str| {
        let client = exec.client();
        async move {
            let value: String = client
                .query_one("SELECT current_setting($1)", &[&name])
                .await
                .unwrap()
                .get(0);
            value
        }
    };
    let dirs = setting("unix_socket_directories").await;
    let port = setting("port").await;
    let dir = dirs.split(',').next().unwrap_or("").trim().to_string();
    (dir, port)
}

#[tokio::test]
async fn unix_socket_folder_in_the_query() {
    let Some(admin) = admin_url() else { return };
    let (dir, port) = socket_folder(&admin).await;
    let socket = std::path::Path::new(&dir).join(format!(".s.PGSQL.{port}"));
    if dir.is_empty() || !socket.exists() {
        skip(&format!(
            "the server's socket {} (unix_socket_directories) is not reachable here",
            socket.display()
        ));
        return;
    }
    let u = url::Url::parse(&admin).unwrap();
    let url = format!(
        "postgresql://{}@{}?host={dir}&port={port}",
        u.username(),
        u.path()
    );
    let exec = PostgresExecutor::connect(&url).await.unwrap();
    let over_socket: bool = exec
        .client()
        .query_one("SELECT inet_client_addr() IS NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert!(over_socket);
}

/// The advisory locks held in the test database, as (pid, application_name).
async fn advisory_locks(db: &TestDb) -> Vec<(i32, String)> {
    db.admin
        .client()
        .query(
            "SELECT l.pid, COALESCE(a.application_name, '') FROM pg_locks l \
             JOIN pg_database d ON d.oid = l.database \
             LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND d.datname = $1",
            &[&db.name],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

#[tokio::test]
async fn the_lock_is_released_after_a_failed_statement_in_every_mode() {
    let Some(admin) = admin_url() else { return };
    let db = TestDb::create(&admin).await;
    let table = VersionTable::default();
    for query in [
        None,
        Some("lock_mode=session"),
        Some("lock_mode=transaction"),
    ] {
        let mut exec = PostgresExecutor::connect(&with_db(&admin, &db.name, query))
            .await
            .unwrap();
        exec.lock(&table, Duration::from_secs(5)).await.unwrap();
        assert_eq!(advisory_locks(&db).await.len(), 1, "{query:?}");
        exec.begin().await.unwrap();
        let failed = exec.execute("SELECT 1 / 0").await.unwrap_err();
        assert!(failed.message.contains("22012"), "{}", failed.message);
        // The session is now in a failed transaction, which refuses pg_advisory_unlock
        // (SQLSTATE 25P02): the lock must be released all the same.
        exec.unlock(&table)
            .await
            .unwrap_or_else(|e| panic!("{query:?}: {e}"));
        assert_eq!(advisory_locks(&db).await, vec![], "{query:?}");
    }
    db.finish().await;
}

#[tokio::test]
async fn auto_takes_a_session_lock_on_a_direct_connection() {
    let Some(admin) = admin_url() else { return };
    let db = TestDb::create(&admin).await;
    let mut exec = db.connect().await;
    let table = VersionTable::default();
    exec.lock(&table, Duration::from_secs(5)).await.unwrap();
    // The server saw the address and port of the URL: no pooler, so no second connection.
    assert_eq!(
        advisory_locks(&db).await,
        vec![(backend_pid(&exec).await, "migrate".to_string())]
    );
    exec.unlock(&table).await.unwrap();
    assert_eq!(advisory_locks(&db).await, vec![]);
    drop(exec);
    db.finish().await;
}

#[tokio::test]
async fn transaction_mode_holds_the_lock_on_a_connection_of_its_own() {
    let Some(admin) = admin_url() else { return };
    let db = TestDb::create(&admin).await;
    let mut exec = db.connect_with("lock_mode=transaction").await;
    let table = VersionTable::default();
    exec.lock(&table, Duration::from_secs(5)).await.unwrap();
    let held = advisory_locks(&db).await;
    assert_eq!(held.len(), 1);
    assert_ne!(held[0].0, backend_pid(&exec).await);
    assert_eq!(held[0].1, "migrate lock");

    // The migration's own transactions come and go; the lock stays.
    exec.begin().await.unwrap();
    exec.execute("CREATE TABLE t (id int)").await.unwrap();
    exec.commit().await.unwrap();
    exec.begin().await.unwrap();
    exec.execute("INSERT INTO t VALUES (1)").await.unwrap();
    exec.commit().await.unwrap();
    assert_eq!(advisory_locks(&db).await, held);

    // A run holding it in the other mode is excluded, both ways round.
    let mut session = db.connect().await;
    let err = session.lock(&table, Duration::ZERO).await.unwrap_err();
    assert_eq!(err.kind, DatabaseErrorKind::LockTimeout);
    assert!(err.message.contains("session-level"), "{}", err.message);
    exec.unlock(&table).await.unwrap();
    assert_eq!(advisory_locks(&db).await, vec![]);
    session.lock(&table, Duration::ZERO).await.unwrap();
    let mut other = db.connect_with("lock_mode=transaction").await;
    let err = other.lock(&table, Duration::ZERO).await.unwrap_err();
    assert_eq!(err.kind, DatabaseErrorKind::LockTimeout);
    assert!(err.message.contains("transaction-level"), "{}", err.message);
    session.unlock(&table).await.unwrap();
    drop((exec, session, other));
    db.finish().await;
}

/// Two version tables locked through one executor hold two locks in every mode, each on
/// its own until its table is unlocked (the conformance suite checks the default mode
/// against another connection; here the locks the server holds are counted).
#[tokio::test]
async fn two_version_tables_hold_two_locks_in_every_mode() {
    let Some(admin) = admin_url() else { return };
    let db = TestDb::create(&admin).await;
    let table = VersionTable::default();
    let other = VersionTable {
        name: "other_version".into(),
        schema: None,
    };
    for query in ["lock_mode=session", "lock_mode=transaction"] {
        let mut exec = db.connect_with(query).await;
        exec.lock(&table, Duration::from_secs(5)).await.unwrap();
        exec.lock(&other, Duration::from_secs(5)).await.unwrap();
        assert_eq!(advisory_locks(&db).await.len(), 2, "{query}");
        // Locking a table held already takes nothing more.
        exec.lock(&other, Duration::ZERO).await.unwrap();
        assert_eq!(advisory_locks(&db).await.len(), 2, "{query}");
        exec.unlock(&other).await.unwrap();
        assert_eq!(advisory_locks(&db).await.len(), 1, "{query}");
        let mut rival = db.connect_with(query).await;
        rival.lock(&other, Duration::ZERO).await.unwrap();
        let err = rival.lock(&table, Duration::ZERO).await.unwrap_err();
        assert_eq!(err.kind, DatabaseErrorKind::LockTimeout, "{query}: {err}");
        rival.unlock(&other).await.unwrap();
        exec.unlock(&table).await.unwrap();
        assert_eq!(advisory_locks(&db).await, vec![], "{query}");
    }
    db.finish().await;
}

#[tokio::test]
async fn statements_stop_once_the_lock_connection_is_lost() {
    let Some(admin) = admin_url() else { return };
    let mut db = TestDb::create(&admin).await;
    let mut exec = db.connect_with("lock_mode=transaction").await;
    let table = VersionTable::default();
    exec.lock(&table, Duration::from_secs(5)).await.unwrap();
    let (holder, _) = advisory_locks(&db).await[0].clone();
    db.admin
        .execute(&format!("SELECT pg_terminate_backend({holder})"))
        .await
        .unwrap();
    // The heartbeat notices within a few seconds; until then statements still run.
    let mut refused = None;
    for _ in 0..300 {
        match exec.execute("SELECT 1").await {
            Ok(()) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let err = refused.expect("statements are refused once the lock is lost");
    assert!(err.message.contains("was lost"), "{}", err.message);
    assert!(
        err.message.contains("Run the command again"),
        "{}",
        err.message
    );
    exec.begin().await.unwrap_err();
    exec.rollback().await.unwrap();
    exec.unlock(&table).await.unwrap();
    drop(exec);
    db.finish().await;
}

#[tokio::test]
async fn libpq_options_reach_the_server_session() {
    let Some(admin) = admin_url() else { return };
    let db = TestDb::create(&admin).await;
    let mut setup = db.connect().await;
    setup.execute("CREATE SCHEMA billing").await.unwrap();
    let mut exec = db.connect_with("options=-csearch_path%3Dbilling").await;
    let path: String = exec
        .client()
        .query_one("SELECT current_setting('search_path')", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(path, "billing");
    // So the version table goes where the search path says.
    exec.execute("CREATE TABLE alembic_version (version_num varchar(32) NOT NULL)")
        .await
        .unwrap();
    let schema: String = setup
        .client()
        .query_one(
            "SELECT table_schema::text FROM information_schema.tables WHERE table_name = 'alembic_version'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(schema, "billing");
    assert_eq!(
        exec.read_versions(&VersionTable::default()).await.unwrap(),
        Some(vec![])
    );
    drop((exec, setup));
    db.finish().await;
}

/// The rows of `sql` on a session of its own, as text.
async fn rows_elsewhere(db: &TestDb, sql: &str) -> Vec<Vec<Option<String>>> {
    let mut other = db.connect().await;
    other.query_text(sql).await.unwrap()
}

#[tokio::test]
async fn execute_and_commit_commits_the_statement_or_nothing() {
    let Some(admin) = admin_url() else { return };
    let db = TestDb::create(&admin).await;
    let mut exec = db.connect().await;
    exec.execute("CREATE TABLE t (x int UNIQUE)").await.unwrap();
    exec.begin().await.unwrap();
    exec.execute("INSERT INTO t VALUES (1)").await.unwrap();
    // A trailing comment does not swallow the COMMIT.
    exec.execute_and_commit(&["INSERT INTO t VALUES (2) -- the second"])
        .await
        .unwrap();
    let committed = rows_elsewhere(&db, "SELECT x::text FROM t ORDER BY x").await;
    assert_eq!(
        committed,
        [[Some("1".to_string())], [Some("2".to_string())]]
    );
    // A failing statement stops before the COMMIT: the transaction is rolled back whole.
    exec.begin().await.unwrap();
    exec.execute("INSERT INTO t VALUES (3)").await.unwrap();
    let err = exec
        .execute_and_commit(&["INSERT INTO t VALUES (1)"])
        .await
        .unwrap_err();
    assert_eq!(err.sqlstate.as_deref(), Some("23505"), "{err:?}");
    exec.rollback().await.unwrap();
    let after = rows_elsewhere(&db, "SELECT count(*)::text FROM t").await;
    assert_eq!(after, [[Some("2".to_string())]]);
    drop(exec);
    db.finish().await;
}

#[tokio::test]
async fn snapshots_survive_prepared_statements_dropped_under_them() {
    let Some(admin) = admin_url() else { return };
    let db = TestDb::create(&admin).await;
    let mut exec = db.connect().await;
    let table = VersionTable::default();
    exec.execute("CREATE TABLE a (id int PRIMARY KEY)")
        .await
        .unwrap();
    let first = exec.snapshot(&table).await.unwrap();
    assert_eq!(first.tables.len(), 1);
    // The second snapshot runs the statements the first prepared.
    exec.execute("CREATE TABLE b (id int)").await.unwrap();
    let second = exec.snapshot(&table).await.unwrap();
    assert_eq!(second.tables.len(), 2, "{second:?}");
    // A migration that drops every prepared statement: the next snapshot prepares again.
    exec.execute("DEALLOCATE ALL").await.unwrap();
    let third = exec.snapshot(&table).await.unwrap();
    assert_eq!(third, second);
    exec.execute("DISCARD ALL").await.unwrap();
    exec.execute("DROP TABLE b").await.unwrap();
    let fourth = exec.snapshot(&table).await.unwrap();
    assert_eq!(fourth, first);
    drop(exec);
    db.finish().await;
}

#[tokio::test]
async fn snapshot_reads_the_users_objects_and_leaves_out_extension_members_and_partitions() {
    let Some(admin) = admin_url() else { return };
    let db = TestDb::create(&admin).await;
    let mut exec = db.connect().await;
    exec.execute(
        "CREATE EXTENSION btree_gist; CREATE EXTENSION pg_buffercache;
         CREATE SCHEMA sales;
         CREATE TABLE sales.regions (code text, sub int, name text NOT NULL,
             PRIMARY KEY (code, sub), UNIQUE (name) INCLUDE (sub));
         CREATE TABLE sales.shops (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
             region text, region_sub int, gone int, label text,
             FOREIGN KEY (region, region_sub) REFERENCES sales.regions (code, sub)
                 MATCH FULL ON DELETE SET NULL DEFERRABLE);
         ALTER TABLE sales.shops DROP COLUMN gone;
         COMMENT ON COLUMN sales.shops.label IS 'short';
         CREATE SEQUENCE sales.counter OWNED BY sales.shops.region_sub;
         CREATE TABLE m (id bigint, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
         CREATE TABLE m_2025 PARTITION OF m FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
         CREATE TABLE bookings (room int, during tsrange, EXCLUDE USING gist (room WITH =, during WITH &&));
         CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql AS 'SELECT a + b';
         CREATE FUNCTION add(a numeric, b numeric) RETURNS numeric LANGUAGE sql AS 'SELECT a + b';
         CREATE TYPE sales.status AS ENUM ('b', 'a');
         ALTER TYPE sales.status ADD VALUE 'aa' BEFORE 'a';",
    )
    .await
    .unwrap();
    let snap = exec.snapshot(&VersionTable::default()).await.unwrap();
    let names: Vec<String> = snap
        .tables
        .iter()
        .map(|t| migrate_core::snapshot::qualified(t.schema.as_deref(), &t.name))
        .collect();
    assert_eq!(names, ["bookings", "m", "sales.regions", "sales.shops"]);
    assert!(
        snap.views.is_empty(),
        "the extension's view: {:?}",
        snap.views
    );
    let routines: Vec<(&str, &str)> = snap
        .routines
        .iter()
        .map(|r| (r.name.as_str(), r.arguments.as_str()))
        .collect();
    assert_eq!(
        routines,
        [
            ("add", "a integer, b integer"),
            ("add", "a numeric, b numeric")
        ]
    );
    assert_eq!(snap.schemas, ["sales"]);
    assert_eq!(snap.enums[0].labels, ["b", "aa", "a"]);
    assert_eq!(
        snap.sequences.len(),
        1,
        "the identity's own sequence is not listed"
    );
    assert_eq!(
        snap.sequences[0].owned_by.as_deref(),
        Some("sales.shops.region_sub")
    );

    let partitioned = snap.table(None, "m").unwrap();
    assert_eq!(partitioned.options, ["PARTITION BY RANGE (at)"]);
    let pk = partitioned.primary_key.as_ref().unwrap();
    assert_eq!(pk.columns, ["id", "at"]);
    let regions = snap.table(Some("sales"), "regions").unwrap();
    assert_eq!(regions.uniques[0].columns, ["name"]);
    let shops = snap.table(Some("sales"), "shops").unwrap();
    let columns: Vec<&str> = shops.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(columns, ["id", "region", "region_sub", "label"]);
    assert_eq!(shops.columns[3].comment.as_deref(), Some("short"));
    let fk = &shops.foreign_keys[0];
    assert_eq!(fk.columns, ["region", "region_sub"]);
    assert_eq!(fk.referenced_table, "sales.regions");
    assert_eq!(fk.referenced_columns, ["code", "sub"]);
    assert_eq!(fk.on_delete, "SET NULL");
    assert_eq!(fk.options, "MATCH FULL DEFERRABLE");
    let bookings = snap.table(None, "bookings").unwrap();
    assert!(
        bookings.checks[0]
            .expression
            .starts_with("EXCLUDE USING gist"),
        "{:?}",
        bookings.checks
    );
    assert!(bookings.indexes.is_empty(), "the constraint's index");
    drop(exec);
    db.finish().await;
}

#[tokio::test]
async fn repeated_version_table_lookups_answer_what_is_there_now() {
    let Some(admin) = admin_url() else { return };
    let db = TestDb::create(&admin).await;
    let mut exec = db.connect().await;
    let table = VersionTable::default();
    // The first lookup is a plain query, the later ones a prepared statement.
    assert_eq!(exec.read_versions(&table).await.unwrap(), None);
    exec.execute("CREATE TABLE alembic_version (version_num varchar(32) NOT NULL); INSERT INTO alembic_version VALUES ('a1')")
        .await
        .unwrap();
    assert_eq!(
        exec.read_versions(&table).await.unwrap(),
        Some(vec!["a1".to_string()])
    );
    // A migration that drops every prepared statement: the lookup prepares again.
    exec.execute("DEALLOCATE ALL; UPDATE alembic_version SET version_num = 'b2'")
        .await
        .unwrap();
    assert_eq!(
        exec.read_versions(&table).await.unwrap(),
        Some(vec!["b2".to_string()])
    );
    exec.execute("DROP TABLE alembic_version").await.unwrap();
    assert_eq!(exec.read_versions(&table).await.unwrap(), None);
    drop(exec);
    db.finish().await;
}
