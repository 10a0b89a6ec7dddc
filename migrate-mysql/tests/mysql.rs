//! The MySQL executor against a real MySQL or MariaDB server, when `MIGRATE_TEST_MYSQL_URL`
//! names one (e.g. `mysql://root@127.0.0.1:3306/test`). Each test works in a database of its
//! own, created here and dropped when the test ends, so the tests run in parallel. What every
//! executor must do is in `tests/tests/conformance.rs`; this file holds what is MySQL's own.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migrate_core::{split, DatabaseErrorKind, Dialect, Executor, VersionTable};
use migrate_mysql::{MysqlDialect, MysqlExecutor};
use mysql_async::prelude::Queryable;

/// The server URL, or `None` (after saying so on stderr; a failure under
/// `MIGRATE_TEST_REQUIRE_ALL=1`) when the tests should skip.
fn server_url() -> Option<String> {
    migrate_tests::servers::server_url(migrate_tests::servers::MYSQL_VAR)
}

/// A name no other test uses: `<prefix>_<12 hex>`.
fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    format!("{prefix}_{:012x}", hasher.finish() & 0xffff_ffff_ffff)
}

/// The server URL with its path (database) replaced, and optionally its credentials.
fn with_database(server: &str, database: &str) -> String {
    let mut url = url::Url::parse(server).unwrap();
    url.set_path(&format!("/{database}"));
    url.to_string()
}

/// Run statements on the server as the URL's (administrative) user.
fn admin(server: &str, statements: Vec<String>) {
    let server = server.to_string();
    // A thread of its own, so that it also works from `Drop` during a panic.
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut exec = MysqlExecutor::connect(&server).await.unwrap();
            for sql in statements {
                exec.execute(&sql)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            exec.into_conn().disconnect().await.unwrap();
        })
    })
    .join()
    .unwrap();
}

/// A database created for one test and dropped when it ends.
struct TestDb {
    server: String,
    name: String,
    url: String,
}

impl TestDb {
    fn create() -> Option<TestDb> {
        let server = server_url()?;
        let name = unique("migrate_t");
        admin(&server, vec![format!("CREATE DATABASE {name}")]);
        let url = with_database(&server, &name);
        Some(TestDb { server, name, url })
    }

    async fn connect(&self) -> MysqlExecutor {
        MysqlExecutor::connect(&self.url).await.unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        admin(
            &self.server,
            vec![format!("DROP DATABASE IF EXISTS {}", self.name)],
        );
    }
}

async fn run(exec: &mut MysqlExecutor, sql: &str) {
    exec.execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn ints(exec: &mut MysqlExecutor, sql: &str) -> Vec<i64> {
    exec.conn_mut().query(sql).await.unwrap()
}

#[tokio::test]
async fn version_table_is_absent_then_holds_the_rows_the_dialect_writes() {
    let Some(db) = TestDb::create() else { return };
    let mut exec = db.connect().await;
    let (t, d) = (VersionTable::default(), MysqlDialect);
    assert_eq!(exec.read_versions(&t).await.unwrap(), None);

    run(&mut exec, &d.create_version_table(&t)).await;
    assert_eq!(exec.read_versions(&t).await.unwrap(), Some(vec![]));
    run(&mut exec, &d.insert_version(&t, "aaa111")).await;
    run(&mut exec, &d.insert_version(&t, "bbb222")).await;
    run(&mut exec, &d.update_version(&t, "aaa111", "ccc333")).await;
    let mut rows = exec.read_versions(&t).await.unwrap().unwrap();
    rows.sort();
    assert_eq!(rows, ["bbb222", "ccc333"]);
    run(&mut exec, &d.delete_version(&t, "bbb222")).await;
    assert_eq!(
        exec.read_versions(&t).await.unwrap(),
        Some(vec!["ccc333".into()])
    );
    run(&mut exec, &d.purge_versions(&t)).await;
    assert_eq!(exec.read_versions(&t).await.unwrap(), Some(vec![]));

    // The table as the server stores it is the one Alembic's DDL gives (`SHOW CREATE TABLE`
    // after `oracle.py DIR mysql://root@127.0.0.1/DB upgrade head` on MariaDB 10.11).
    let (_, ddl): (String, String) = exec
        .conn_mut()
        .query_first("SHOW CREATE TABLE alembic_version")
        .await
        .unwrap()
        .unwrap();
    let ddl_head = ddl.split(" ENGINE=").next().unwrap();
    assert_eq!(
        ddl_head,
        "CREATE TABLE `alembic_version` (\n  `version_num` varchar(32) NOT NULL,\n  \
         PRIMARY KEY (`version_num`)\n)"
    );
}

#[tokio::test]
async fn version_table_with_a_quoted_name_in_a_named_schema() {
    let Some(db) = TestDb::create() else { return };
    // Connected without a default database: the schema says where the table is.
    let mut exec = MysqlExecutor::connect(&with_database(&db.server, ""))
        .await
        .unwrap();
    let t = VersionTable {
        name: "Version Table".into(),
        schema: Some(db.name.clone()),
    };
    let d = MysqlDialect;
    assert_eq!(exec.read_versions(&t).await.unwrap(), None);
    run(&mut exec, &d.create_version_table(&t)).await;
    run(&mut exec, &d.insert_version(&t, "aaa111")).await;
    assert_eq!(
        exec.read_versions(&t).await.unwrap(),
        Some(vec!["aaa111".into()])
    );
    let mut other = db.connect().await;
    assert_eq!(
        other.read_versions(&VersionTable::default()).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn a_failing_statement_reports_the_server_error_on_one_line() {
    let Some(db) = TestDb::create() else { return };
    let mut exec = db.connect().await;
    let err = exec
        .execute("CREAT TABLE t (\n  id INT\n)")
        .await
        .unwrap_err();
    assert_eq!(err.kind, DatabaseErrorKind::Statement);
    assert!(
        err.message
            .starts_with("ERROR 1064 (42000): You have an error in your SQL syntax;"),
        "{err}"
    );
    assert!(!err.message.contains('\n'), "{err}");

    let err = exec.execute("SELECT * FROM missing").await.unwrap_err();
    assert_eq!(
        err.message,
        format!(
            "ERROR 1146 (42S02): Table '{}.missing' doesn't exist",
            db.name
        )
    );
}

#[tokio::test]
async fn a_second_session_times_out_on_the_lock_then_gets_it_after_unlock() {
    let Some(db) = TestDb::create() else { return };
    let (mut first, mut second) = (db.connect().await, db.connect().await);
    let t = VersionTable::default();
    first.lock(&t, Duration::from_secs(5)).await.unwrap();

    let err = second.lock(&t, Duration::from_secs(1)).await.unwrap_err();
    assert_eq!(err.kind, DatabaseErrorKind::LockTimeout);
    let name = format!("migrate:{}.alembic_version", db.name);
    assert!(err.message.contains(&name), "{err}");
    assert!(
        err.message.contains("another migration is running"),
        "{err}"
    );

    first.unlock(&t).await.unwrap();
    second.lock(&t, Duration::ZERO).await.unwrap();
    // Other version tables have locks of their own.
    let other = VersionTable {
        name: "other_version".into(),
        schema: None,
    };
    first.lock(&other, Duration::ZERO).await.unwrap();
    second.unlock(&t).await.unwrap();
    first.unlock(&other).await.unwrap();
}

#[tokio::test]
async fn a_procedure_and_a_trigger_survive_the_splitter() {
    let Some(db) = TestDb::create() else { return };
    let mut exec = db.connect().await;
    let sql = r#"
CREATE TABLE accounts (id INT PRIMARY KEY, balance INT NOT NULL);
CREATE TABLE audit (note VARCHAR(100)); # notes; one per change
CREATE TRIGGER accounts_audit AFTER UPDATE ON accounts FOR EACH ROW
BEGIN
    INSERT INTO audit VALUES (CONCAT('was; ', OLD.balance));
    INSERT INTO audit VALUES (CONCAT('now; ', NEW.balance));
END;
CREATE PROCEDURE open_account(IN account INT)
BEGIN
    INSERT INTO accounts VALUES (account, 10);
    UPDATE accounts SET balance = 20 WHERE id = account AND 'it\'s;' <> '';
END;
CALL open_account(1);
"#;
    let statements = split(sql, MysqlDialect.split_rules());
    assert_eq!(statements.len(), 5, "{statements:#?}");
    for statement in &statements {
        run(&mut exec, &statement.text).await;
    }
    let notes: Vec<String> = exec
        .conn_mut()
        .query("SELECT note FROM audit")
        .await
        .unwrap();
    assert_eq!(notes, ["was; 10", "now; 20"]);
}

#[tokio::test]
async fn connecting_to_a_closed_port_says_where_without_the_password() {
    let err = MysqlExecutor::connect("mysql://root:Secret-pw-1@127.0.0.1:1/test")
        .await
        .unwrap_err();
    assert_eq!(err.kind, DatabaseErrorKind::Connect);
    assert!(
        err.message
            .starts_with("cannot connect to MySQL at 127.0.0.1:1 as root: "),
        "{err}"
    );
    assert!(err.message.contains("refused"), "{err}");
    assert!(!err.message.contains("Secret-pw-1"), "{err}");
}

#[tokio::test]
async fn connecting_to_an_unknown_host_says_so_without_the_password() {
    let err = MysqlExecutor::connect("mysql+pymysql://app:Secret-pw-1@no-such-host.invalid/app")
        .await
        .unwrap_err();
    assert_eq!(err.kind, DatabaseErrorKind::Connect);
    assert!(
        err.message
            .starts_with("cannot connect to MySQL at no-such-host.invalid:3306 as app: "),
        "{err}"
    );
    assert!(!err.message.contains("Secret-pw-1"), "{err}");
    assert!(!err.message.contains('\n'), "{err}");
}

#[tokio::test]
async fn login_uses_the_decoded_password_and_a_refusal_never_shows_it() {
    let Some(db) = TestDb::create() else { return };
    let user = unique("migrate_u");
    let password = "p@ss:w/rd%Ω";
    admin(
        &db.server,
        vec![
            format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'"),
            format!("CREATE USER '{user}'@'localhost' IDENTIFIED BY '{password}'"),
            format!("GRANT ALL ON {}.* TO '{user}'@'%'", db.name),
            format!("GRANT ALL ON {}.* TO '{user}'@'localhost'", db.name),
        ],
    );
    let drop_user = |server: &str| {
        admin(
            server,
            vec![
                format!("DROP USER IF EXISTS '{user}'@'%'"),
                format!("DROP USER IF EXISTS '{user}'@'localhost'"),
            ],
        )
    };
    let mut url = url::Url::parse(&db.url).unwrap();
    url.set_username(&user).unwrap();
    // `Url` percent-encodes what the userinfo cannot hold: `@`, `:`, `/`, `%`, `Ω`.
    url.set_password(Some(password)).unwrap();
    let right = MysqlExecutor::connect(url.as_str()).await;

    url.set_password(Some("Wrong-pw-%41")).unwrap();
    let wrong = MysqlExecutor::connect(url.as_str()).await;
    url.set_username(&unique("nobody")).unwrap();
    let nobody = MysqlExecutor::connect(url.as_str()).await;
    drop_user(&db.server);

    let mut exec = right.unwrap();
    let current: Option<String> = exec
        .conn_mut()
        .query_first("SELECT DATABASE()")
        .await
        .unwrap();
    assert_eq!(current, Some(db.name.clone()));

    for (err, who) in [
        (wrong.unwrap_err(), user.as_str()),
        (nobody.unwrap_err(), ""),
    ] {
        assert_eq!(err.kind, DatabaseErrorKind::Connect);
        assert!(
            err.message.contains(" (28000): Access denied for user '"),
            "{err}"
        );
        assert!(err.message.contains(who), "{err}");
        for secret in ["Wrong-pw", "%41", "WrongpwA", password] {
            assert!(!err.message.contains(secret), "{err}");
        }
    }
}

/// `result` is a statement failure whose server message starts with `code`.
fn expect_statement_error(result: Result<(), migrate_core::DatabaseError>, code: &str) {
    let err = result.expect_err("the statement should fail");
    assert_eq!(err.kind, DatabaseErrorKind::Statement);
    assert!(err.message.starts_with(code), "{err}");
}

/// `begin` sends nothing: `START TRANSACTION` travels with the next statement, and a failure
/// of that statement is reported as the statement's own.
#[tokio::test]
async fn a_transaction_opened_with_the_next_statement_still_rolls_back() {
    let Some(db) = TestDb::create() else { return };
    let mut exec = db.connect().await;
    run(&mut exec, "CREATE TABLE t (id INT) ENGINE=InnoDB").await;

    exec.begin().await.unwrap();
    run(&mut exec, "INSERT INTO t VALUES (1)").await;
    expect_statement_error(
        exec.execute("INSERT INTO missing VALUES (2)").await,
        "ERROR 1146 (42S02)",
    );
    exec.rollback().await.unwrap();
    assert_eq!(ints(&mut exec, "SELECT id FROM t").await, Vec::<i64>::new());

    // The first statement after `begin` fails: the statement's error, not the transaction's.
    exec.begin().await.unwrap();
    expect_statement_error(exec.execute("SELEC 1").await, "ERROR 1064 (42000)");
    exec.rollback().await.unwrap();

    // Nothing ran between begin and commit/rollback: nothing to send, no error.
    exec.begin().await.unwrap();
    exec.commit().await.unwrap();
    exec.begin().await.unwrap();
    exec.rollback().await.unwrap();
    run(&mut exec, "INSERT INTO t VALUES (3)").await;
    assert_eq!(ints(&mut exec, "SELECT id FROM t").await, [3]);
}

/// The version change and `COMMIT` go in one packet: both apply, or, when the change fails,
/// neither does and the open transaction can still be rolled back.
#[tokio::test]
async fn execute_and_commit_commits_or_reports_the_failed_statement() {
    let Some(db) = TestDb::create() else { return };
    let mut exec = db.connect().await;
    let (t, d) = (VersionTable::default(), MysqlDialect);
    run(&mut exec, "CREATE TABLE data (id INT) ENGINE=InnoDB").await;
    run(&mut exec, &d.create_version_table(&t)).await;

    exec.begin().await.unwrap();
    run(&mut exec, "INSERT INTO data VALUES (1)").await;
    exec.execute_and_commit(&[d.insert_version(&t, "aaa111").as_str()])
        .await
        .unwrap();
    let mut other = db.connect().await;
    assert_eq!(ints(&mut other, "SELECT id FROM data").await, [1]);
    assert_eq!(
        other.read_versions(&t).await.unwrap(),
        Some(vec!["aaa111".into()])
    );

    exec.begin().await.unwrap();
    run(&mut exec, "INSERT INTO data VALUES (2)").await;
    expect_statement_error(
        exec.execute_and_commit(&["UPDATE missing SET version_num = 'x'"])
            .await,
        "ERROR 1146 (42S02)",
    );
    exec.rollback().await.unwrap();
    assert_eq!(ints(&mut other, "SELECT id FROM data").await, [1]);

    // Straight after `begin`: START TRANSACTION, the change and COMMIT in one packet; the
    // change fails, so COMMIT never runs.
    exec.begin().await.unwrap();
    expect_statement_error(
        exec.execute_and_commit(&["DELETE FROM missing"]).await,
        "ERROR 1146 (42S02)",
    );
    exec.rollback().await.unwrap();

    exec.begin().await.unwrap();
    exec.execute_and_commit(&[d.update_version(&t, "aaa111", "bbb222").as_str()])
        .await
        .unwrap();
    assert_eq!(
        other.read_versions(&t).await.unwrap(),
        Some(vec!["bbb222".into()])
    );
}

impl TestDb {
    /// A connection whose URL has the query `query` (`lock_mode=row`, ...).
    async fn connect_with(&self, query: &str) -> MysqlExecutor {
        MysqlExecutor::connect(&format!("{}?{query}", self.url))
            .await
            .unwrap()
    }
}

/// The lock row of the default version table: (holder token, owner).
async fn lock_row(exec: &mut MysqlExecutor) -> Vec<(Option<String>, Option<String>)> {
    exec.conn_mut()
        .query("SELECT holder, owner FROM alembic_version_lock")
        .await
        .unwrap()
}

#[tokio::test]
async fn auto_uses_get_lock_on_a_server_outside_a_cluster() {
    let Some(db) = TestDb::create() else { return };
    let mut exec = db.connect().await;
    let t = VersionTable::default();
    exec.lock(&t, Duration::from_secs(5)).await.unwrap();
    let name = format!("migrate:{}.alembic_version", db.name);
    let holder = ints(&mut exec, &format!("SELECT IS_USED_LOCK('{name}')")).await;
    let me = ints(&mut exec, "SELECT CONNECTION_ID()").await;
    assert_eq!(holder, me);
    let lock_tables = ints(
        &mut exec,
        "SELECT COUNT(*) FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_name = 'alembic_version_lock'",
    )
    .await;
    assert_eq!(lock_tables, vec![0], "no lock row outside a cluster");
    exec.unlock(&t).await.unwrap();
}

#[tokio::test]
async fn row_mode_claims_the_lock_row_and_frees_it_after_a_failed_statement() {
    let Some(db) = TestDb::create() else { return };
    let mut first = db.connect_with("lock_mode=row").await;
    let mut second = db.connect_with("lock_mode=row").await;
    let t = VersionTable::default();
    first.lock(&t, Duration::from_secs(5)).await.unwrap();
    let rows = lock_row(&mut second).await;
    assert_eq!(rows.len(), 1);
    let owner = rows[0].1.clone().expect("the owner is recorded");
    assert!(rows[0].0.is_some());
    assert!(owner.contains("connection"), "{owner}");

    let err = second
        .lock(&t, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert_eq!(err.kind, DatabaseErrorKind::LockTimeout);
    assert!(err.message.contains(&owner), "{err}");
    assert!(err.message.contains("SELECT * FROM"), "{err}");

    first.begin().await.unwrap();
    expect_statement_error(
        first.execute("SELECT * FROM missing_table").await,
        "ERROR 1146",
    );
    first.rollback().await.unwrap();
    first.unlock(&t).await.unwrap();
    assert_eq!(lock_row(&mut second).await, vec![(None, None)]);
    second.lock(&t, Duration::ZERO).await.unwrap();
    second.unlock(&t).await.unwrap();
}

/// Two version tables locked through one executor hold two locks in both modes (two
/// `GET_LOCK` names, or two lock rows), each until its own table is unlocked.
#[tokio::test]
async fn two_version_tables_hold_two_locks_in_both_modes() {
    let Some(db) = TestDb::create() else { return };
    let t = VersionTable::default();
    let other = VersionTable {
        name: "other_version".into(),
        schema: None,
    };
    for query in ["lock_mode=session", "lock_mode=row"] {
        let mut first = db.connect_with(query).await;
        let mut second = db.connect_with(query).await;
        first.lock(&t, Duration::from_secs(5)).await.unwrap();
        first.lock(&other, Duration::from_secs(5)).await.unwrap();
        let err = second.lock(&other, Duration::ZERO).await.unwrap_err();
        assert_eq!(err.kind, DatabaseErrorKind::LockTimeout, "{query}: {err}");
        first.unlock(&other).await.unwrap();
        second.lock(&other, Duration::ZERO).await.unwrap();
        let err = second.lock(&t, Duration::ZERO).await.unwrap_err();
        assert_eq!(err.kind, DatabaseErrorKind::LockTimeout, "{query}: {err}");
        // The first table's lock still guards the first connection's statements.
        first.execute("SELECT 1").await.unwrap();
        second.unlock(&other).await.unwrap();
        first.unlock(&t).await.unwrap();
        second.lock(&t, Duration::ZERO).await.unwrap();
        second.unlock(&t).await.unwrap();
    }
}

#[tokio::test]
async fn a_lock_row_without_heartbeat_is_taken_over_and_its_holder_stops() {
    let Some(db) = TestDb::create() else { return };
    let mut first = db.connect_with("lock_mode=row&lock_lease=1").await;
    let mut second = db.connect_with("lock_mode=row&lock_lease=1").await;
    let t = VersionTable::default();
    first.lock(&t, Duration::from_secs(5)).await.unwrap();
    // The holder's lock connection dies: its heartbeat stops, its row stays.
    let owner = lock_row(&mut second).await[0].1.clone().unwrap();
    let connection: u64 = owner
        .split("connection ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no connection id in {owner}"));
    run(&mut second, &format!("KILL {connection}")).await;

    // Unchanged for the whole lease (1 s), the row is taken over.
    second.lock(&t, Duration::from_secs(20)).await.unwrap();
    let rows = lock_row(&mut second).await;
    assert_ne!(rows[0].1.as_deref(), Some(owner.as_str()));
    let err = first.execute("SELECT 1").await.unwrap_err();
    assert!(err.message.contains("was lost"), "{err}");
    first.unlock(&t).await.unwrap();
    second.unlock(&t).await.unwrap();
    assert_eq!(lock_row(&mut second).await, vec![(None, None)]);
}

#[test]
fn lock_mode_and_lease_in_the_url() {
    use migrate_mysql::{parse_mysql_url, LockMode};
    let t = parse_mysql_url("mysql://u@h/d?lock_mode=row&lock_lease=90").unwrap();
    assert_eq!(t.lock_mode, LockMode::Row);
    assert_eq!(t.lock_lease, Duration::from_secs(90));
    assert_eq!(
        parse_mysql_url("mysql://u@h/d").unwrap().lock_mode,
        LockMode::Auto
    );
    for bad in ["lock_mode=advisory", "lock_lease=0", "lock_lease=soon"] {
        let err = parse_mysql_url(&format!("mysql://u@h/d?{bad}")).unwrap_err();
        assert!(err.message.contains("lock_"), "{bad}: {err}");
    }
}

/// The first row of `sql` (two text columns), as `SHOW VARIABLES` and `SHOW STATUS` give it.
async fn setting(exec: &mut MysqlExecutor, sql: &str) -> String {
    let rows: Vec<(String, String)> = exec.conn_mut().query(sql).await.unwrap();
    rows.into_iter().next().map(|(_, v)| v).unwrap_or_default()
}

#[tokio::test]
async fn preferred_encrypts_only_when_the_server_offers_tls_and_required_insists() {
    let Some(db) = TestDb::create() else { return };
    // The default ssl-mode is PREFERRED.
    let mut exec = db.connect().await;
    let offers_tls = setting(&mut exec, "SHOW VARIABLES LIKE 'have_ssl'").await == "YES";
    let cipher = setting(&mut exec, "SHOW SESSION STATUS LIKE 'Ssl_cipher'").await;
    let required = MysqlExecutor::connect(&format!("{}?ssl-mode=REQUIRED", db.url)).await;
    if offers_tls {
        assert!(
            !cipher.is_empty(),
            "PREFERRED encrypts when the server offers TLS"
        );
        assert!(required.is_ok());
    } else {
        // A server without TLS: PREFERRED falls back to plaintext, REQUIRED refuses.
        assert_eq!(cipher, "");
        let err = required.unwrap_err();
        assert_eq!(err.kind, DatabaseErrorKind::Connect);
        assert!(err.message.contains("(ssl-mode=REQUIRED)"), "{err}");
        assert!(err.message.contains("SSL"), "{err}");
    }
}
