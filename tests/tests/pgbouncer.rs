//! Issue 16: behind PgBouncer in transaction pooling mode, where each transaction may run on
//! another server connection, `migrate` still works and its lock still excludes: its own
//! queries use no named prepared statements, and `lock_mode=auto` sees the pooler (the
//! server was reached at another port than the URL's) and holds a transaction-level advisory
//! lock on a connection of its own.
//!
//! PgBouncer is the one `MIGRATE_TEST_PGBOUNCER_URL` names (`.ci/run` starts it with
//! `tests/servers/pgbouncer.sh`), else one these tests start the same way and stop.

mod common;
mod concurrent_runs;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{pg_query, random_name, repo_root, require_all, server_url, with_database, TestDb};
use concurrent_runs::{
    assert_all_succeeded, each_revision_once, log_project, upgrade_all_at_once, APPLIED_COUNTS,
};
use migrate_core::{DatabaseErrorKind, Executor, VersionTable};
use migrate_postgres::{ConnectOptions, Host, PostgresExecutor};

const REVISIONS: usize = 30;
const PROCESSES: usize = 8;

/// The variable naming a PgBouncer in transaction mode in front of the test server.
const PGBOUNCER_VAR: &str = "MIGRATE_TEST_PGBOUNCER_URL";

/// A PgBouncer in transaction mode in front of the server of `MIGRATE_TEST_POSTGRES_URL`;
/// one started by the test is stopped when this is dropped, also when the test fails.
struct Bouncer {
    url: String,
    own: Option<tempfile::TempDir>,
}

fn script() -> PathBuf {
    repo_root().join("tests/servers/pgbouncer.sh")
}

impl Bouncer {
    /// The PgBouncer to use, or `None` when the test is skipped (a failure under
    /// `MIGRATE_TEST_REQUIRE_ALL=1`).
    fn start(admin: &str) -> Option<Bouncer> {
        if let Some(url) = std::env::var(PGBOUNCER_VAR)
            .ok()
            .filter(|u| !u.trim().is_empty())
        {
            return Some(Bouncer { url, own: None });
        }
        let server = ConnectOptions::parse(admin).expect("the test server's URL parses");
        let Host::Tcp(host) = &server.host else {
            panic!("{admin}: the PgBouncer tests need a TCP server URL");
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = tempfile::Builder::new()
            .prefix("migrate-pgbouncer-")
            .tempdir()
            .expect("temporary folder");
        let out = Command::new(script())
            .arg("start")
            .arg(dir.path())
            .arg(port.to_string())
            .arg(host)
            .arg(server.port.to_string())
            .arg(&server.user)
            .output()
            .expect("running tests/servers/pgbouncer.sh");
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr);
            assert!(
                !require_all(),
                "cannot start PgBouncer, and MIGRATE_TEST_REQUIRE_ALL=1 requires it: {why}"
            );
            eprintln!("skipped: {PGBOUNCER_VAR} not set and PgBouncer cannot start: {why}");
            return None;
        }
        let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Some(Bouncer {
            url,
            own: Some(dir),
        })
    }

    /// The URL of database `name` through PgBouncer.
    fn url_of(&self, name: &str) -> String {
        with_database(&self.url, name)
    }
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        if let Some(dir) = &self.own {
            let _ = Command::new(script()).arg("stop").arg(dir.path()).status();
        }
    }
}

/// The advisory locks held in database `name`, as `pid application_name` lines.
fn advisory_locks(admin: &str, name: &str) -> Vec<String> {
    pg_query(
        admin,
        &format!(
            "SELECT l.pid::text || ' ' || COALESCE(a.application_name, '') FROM pg_locks l \
             JOIN pg_database d ON d.oid = l.database \
             LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND d.datname = '{name}'"
        ),
    )
    .into_iter()
    .map(|row| row.into_iter().flatten().collect::<Vec<_>>().join(" "))
    .collect()
}

/// A fresh database, reached directly (`admin`) and through PgBouncer (`url`).
struct Setup {
    admin: String,
    name: String,
    url: String,
    db: TestDb,
    _bouncer: Bouncer,
}

/// The test's database and PgBouncer, or `None` when the test is skipped.
fn setup() -> Option<Setup> {
    let admin = server_url(common::POSTGRES_VAR)?;
    let bouncer = Bouncer::start(&admin)?;
    let db = TestDb::postgres_named(&random_name())?;
    let name = db.name.clone().expect("a server database has a name");
    Some(Setup {
        url: bouncer.url_of(&name),
        admin,
        name,
        db,
        _bouncer: bouncer,
    })
}

/// Eight runs at once through PgBouncer, with `config` in `migrate.toml`.
fn eight_runs_through_pgbouncer(config: &str) {
    // Bound whole: PgBouncer runs and the database exists until the end of the test.
    let Some(Setup {
        admin,
        name,
        url,
        db,
        _bouncer,
    }) = setup()
    else {
        return;
    };
    let project = log_project(REVISIONS, config);
    let runs = upgrade_all_at_once(&project, &vec![url; PROCESSES]);

    assert_all_succeeded(&runs);
    assert_eq!(
        db.query(APPLIED_COUNTS),
        each_revision_once(REVISIONS),
        "every revision exactly once"
    );
    assert_eq!(
        db.versions(),
        Some(vec![concurrent_runs::revision_id(REVISIONS)])
    );
    assert_eq!(
        advisory_locks(&admin, &name),
        Vec::<String>::new(),
        "no lock left"
    );
}

#[test]
fn eight_runs_in_one_transaction_each_apply_every_revision_once() {
    eight_runs_through_pgbouncer("");
}

#[test]
fn eight_runs_committing_per_migration_apply_every_revision_once() {
    // Thirty transactions per run: each may land on another server connection.
    eight_runs_through_pgbouncer("transaction_per_migration = true\n");
}

#[test]
fn the_lock_is_held_on_its_own_connection_and_released_after_a_failed_statement() {
    let Some(Setup {
        admin,
        name,
        url,
        db: _db,
        _bouncer,
    }) = setup()
    else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let table = VersionTable::default();

    let mut first = runtime
        .block_on(PostgresExecutor::connect(&url))
        .expect("connects through PgBouncer");
    runtime
        .block_on(first.lock(&table, Duration::from_secs(5)))
        .expect("takes the lock");
    let held = advisory_locks(&admin, &name);
    assert_eq!(held.len(), 1, "{held:?}");
    // auto saw the pooler and took the lock on a connection of its own.
    assert!(held[0].ends_with(" migrate lock"), "{held:?}");

    // Another run, through the same PgBouncer, finds it taken.
    let mut second = runtime
        .block_on(PostgresExecutor::connect(&url))
        .expect("connects through PgBouncer");
    let err = runtime
        .block_on(second.lock(&table, Duration::ZERO))
        .expect_err("the lock is taken");
    assert_eq!(err.kind, DatabaseErrorKind::LockTimeout, "{err}");

    // A statement fails inside the run's transaction; the lock is released all the same.
    runtime.block_on(first.begin()).expect("BEGIN");
    let failed = runtime.block_on(first.execute("SELECT 1 / 0"));
    assert!(failed.is_err());
    runtime
        .block_on(first.unlock(&table))
        .expect("releases after a failed statement");
    assert_eq!(advisory_locks(&admin, &name), Vec::<String>::new());
    runtime
        .block_on(second.lock(&table, Duration::from_secs(5)))
        .expect("the next run takes it");
    runtime.block_on(second.unlock(&table)).expect("unlock");
    assert_eq!(advisory_locks(&admin, &name), Vec::<String>::new());
}
