//! The PostgreSQL executor against a real server (`MIGRATE_TEST_POSTGRES_URL`), each test in a
//! database of its own.

use std::time::{Duration, Instant};

use migrate_core::{DatabaseErrorKind, Dialect, Executor, VersionTable};
use migrate_postgres::PostgresExecutor;

/// The admin URL, or `None` (after saying so) when the server is not configured.
fn admin_url() -> Option<String> {
    match std::env::var("MIGRATE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("MIGRATE_TEST_REQUIRE_ALL").as_deref() == Ok("1") {
                panic!("MIGRATE_TEST_POSTGRES_URL is not set and MIGRATE_TEST_REQUIRE_ALL=1");
            }
            eprintln!("skipped: MIGRATE_TEST_POSTGRES_URL not set");
            None
        }
    }
}

/// A fresh database, dropped when the guard goes.
struct TempDb {
    admin: String,
    name: String,
    url: String,
}

impl TempDb {
    async fn new(admin: &str) -> TempDb {
        let name = format!(
            "mt_pg_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        let mut exec = PostgresExecutor::connect(admin).await.unwrap();
        exec.execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let base = admin.rsplit_once('/').unwrap().0;
        TempDb {
            admin: admin.to_string(),
            url: format!("{base}/{name}"),
            name,
        }
    }

    async fn drop(self) {
        let mut exec = PostgresExecutor::connect(&self.admin).await.unwrap();
        exec.execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .await
        .unwrap();
    }
}

fn with_param(url: &str, param: &str) -> String {
    if url.contains('?') {
        format!("{url}&{param}")
    } else {
        format!("{url}?{param}")
    }
}

#[tokio::test]
async fn sslmode_require_uses_tls_and_disable_does_not() {
    let Some(admin) = admin_url() else { return };
    let ssl_of = |exec: PostgresExecutor| async move {
        exec.client()
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .await
            .unwrap()
            .get::<_, bool>(0)
    };
    let exec = PostgresExecutor::connect(&with_param(&admin, "sslmode=require"))
        .await
        .unwrap();
    assert!(ssl_of(exec).await, "sslmode=require must encrypt");
    let exec = PostgresExecutor::connect(&with_param(&admin, "sslmode=disable"))
        .await
        .unwrap();
    assert!(!ssl_of(exec).await);
    // The local server's certificate is self-signed: verify-full must refuse it.
    let err = PostgresExecutor::connect(&with_param(&admin, "sslmode=verify-full"))
        .await
        .err()
        .expect("a self-signed certificate is not trusted");
    assert_eq!(err.kind, DatabaseErrorKind::Connect);
    assert!(
        err.message.starts_with("cannot connect to PostgreSQL at"),
        "{}",
        err.message
    );
    assert!(
        err.message.to_lowercase().contains("certificate"),
        "{}",
        err.message
    );
    assert!(!err.message.contains('\n'));
}

#[tokio::test]
async fn connection_failures_are_one_clear_line_without_the_password() {
    let Some(admin) = admin_url() else { return };
    let cases = [
        "postgresql://someone:s3cret-pw@127.0.0.1:1/test?connect_timeout=5".to_string(),
        "postgresql://someone:s3cret-pw@nonexistent.invalid:5432/test?connect_timeout=5"
            .to_string(),
        admin.replace("/test", "/no_such_database_here"),
        {
            let (_, rest) = admin.split_once("://").unwrap();
            let host = rest.split_once('@').map(|x| x.1).unwrap_or(rest);
            format!("postgresql://no_such_role_x:s3cret-pw@{host}")
        },
    ];
    for url in cases {
        let err = PostgresExecutor::connect(&url)
            .await
            .err()
            .expect("must fail");
        assert_eq!(err.kind, DatabaseErrorKind::Connect, "{url}");
        assert!(
            err.message.starts_with("cannot connect to PostgreSQL at"),
            "{}",
            err.message
        );
        assert!(!err.message.contains("s3cret-pw"), "{}", err.message);
        assert!(!err.message.contains('\n'), "{}", err.message);
    }
}

#[tokio::test]
async fn version_table_in_a_schema_and_transactions() {
    let Some(admin) = admin_url() else { return };
    let db = TempDb::new(&admin).await;
    let mut exec = PostgresExecutor::connect(&db.url).await.unwrap();
    let table = VersionTable {
        name: "alembic_version".into(),
        schema: Some("ops".into()),
    };
    exec.execute("CREATE SCHEMA ops").await.unwrap();
    assert_eq!(exec.read_versions(&table).await.unwrap(), None);
    assert_eq!(
        exec.read_versions(&VersionTable::default()).await.unwrap(),
        None
    );
    let d = migrate_postgres::PostgresDialect;
    exec.begin().await.unwrap();
    exec.execute(&d.create_version_table(&table)).await.unwrap();
    exec.execute(&d.insert_version(&table, "aaaa"))
        .await
        .unwrap();
    exec.execute(&d.update_version(&table, "aaaa", "bbbb"))
        .await
        .unwrap();
    exec.execute("CREATE TABLE ops.t (id int)").await.unwrap();
    exec.commit().await.unwrap();
    assert_eq!(
        exec.read_versions(&table).await.unwrap(),
        Some(vec!["bbbb".into()])
    );
    assert_eq!(
        exec.read_versions(&VersionTable::default()).await.unwrap(),
        None,
        "other schema"
    );

    exec.begin().await.unwrap();
    exec.execute("DROP TABLE ops.t").await.unwrap();
    exec.execute(&d.delete_version(&table, "bbbb"))
        .await
        .unwrap();
    exec.rollback().await.unwrap();
    assert_eq!(
        exec.read_versions(&table).await.unwrap(),
        Some(vec!["bbbb".into()])
    );
    exec.execute("SELECT * FROM ops.t")
        .await
        .expect("the DROP was rolled back");

    let err = exec.execute("SELEC 1").await.unwrap_err();
    assert_eq!(err.kind, DatabaseErrorKind::Statement);
    assert_eq!(
        err.message,
        "ERROR: syntax error at or near \"SELEC\" (SQLSTATE 42601)"
    );
    drop(exec);
    db.drop().await;
}

#[tokio::test]
async fn the_advisory_lock_excludes_a_second_run_and_survives_commits() {
    let Some(admin) = admin_url() else { return };
    let db = TempDb::new(&admin).await;
    let table = VersionTable::default();
    let mut first = PostgresExecutor::connect(&db.url).await.unwrap();
    let mut second = PostgresExecutor::connect(&db.url).await.unwrap();
    first.lock(&table, Duration::from_secs(1)).await.unwrap();
    first.begin().await.unwrap();
    first.execute("CREATE TABLE x (id int)").await.unwrap();
    first.commit().await.unwrap();
    let started = Instant::now();
    let err = second
        .lock(&table, Duration::from_millis(400))
        .await
        .unwrap_err();
    assert_eq!(err.kind, DatabaseErrorKind::LockTimeout);
    assert!(
        err.message.contains("another migration run holds"),
        "{}",
        err.message
    );
    assert!(started.elapsed() >= Duration::from_millis(400));
    first.unlock(&table).await.unwrap();
    second.lock(&table, Duration::from_secs(2)).await.unwrap();
    second.unlock(&table).await.unwrap();
    drop((first, second));
    db.drop().await;
}
