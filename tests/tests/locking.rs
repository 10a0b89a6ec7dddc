//! A run that cannot have the migration lock, on every backend: another connection holds it
//! (as another replica's `migrate upgrade` would), the run waits its `lock_timeout`, then fails
//! with a lock-timeout error, having read and changed nothing; once the lock is free the same
//! run goes through. Through the library (the migrator over a real executor) and through the
//! binary (`lock_timeout` in migrate.toml).

mod common;

use std::time::Duration;

use common::executors::{connect, runtime};
use common::{Project, TestDb};
use migrate_core::{DatabaseErrorKind, Error, MigrateOptions, Migrator, ScriptDirectory};

fn example_map() -> migrate_core::RevisionMap {
    ScriptDirectory::load(&[common::repo_root().join("migrations/versions")], false)
        .and_then(ScriptDirectory::into_map)
        .expect("the example migrations load")
}

fn library_run_times_out_while_another_connection_holds_the_lock(db: TestDb) {
    let map = example_map();
    let options = MigrateOptions {
        lock_timeout: Duration::from_millis(300),
        ..MigrateOptions::default()
    };
    let table = options.version_table.clone();
    runtime().block_on(async {
        let mut holder = connect(&db).await;
        holder
            .lock(&table, Duration::ZERO)
            .await
            .expect("the lock is free");

        let mut runner = connect(&db).await;
        let migrator = Migrator::new(&map, options.clone());
        let err = migrator
            .upgrade(runner.as_mut(), "head", &mut |_| {})
            .await
            .expect_err("the lock is held elsewhere");
        match &err {
            Error::Database { error: e, report } => {
                assert_eq!(e.kind, DatabaseErrorKind::LockTimeout, "{e}");
                assert!(!e.message.contains('\n'), "one line: {e}");
                assert!(report.is_none(), "nothing had started: {report:?}");
            }
            other => panic!("expected a lock timeout, got {other:?}"),
        }
        assert!(
            err.to_string().contains("another migration"),
            "says why: {err}"
        );
        assert_eq!(db.versions(), None, "nothing was created");

        holder.unlock(&table).await.expect("unlock");
        let report = migrator
            .upgrade(runner.as_mut(), "head", &mut |_| {})
            .await
            .expect("the lock is free again");
        assert_eq!(report.heads, ["8c2b4e6f1a90"]);
    });
    assert_eq!(db.versions(), Some(vec!["8c2b4e6f1a90".to_string()]));
}
per_backend!(library_run_times_out_while_another_connection_holds_the_lock);

fn cli_run_times_out_while_another_connection_holds_the_lock(db: TestDb) {
    let p = Project::example(&db.url);
    p.write(
        "migrate.toml",
        &format!(
            "script_location = \"migrations\"\nurl = \"{}\"\nlock_timeout = 1\n",
            db.url
        ),
    );
    let rt = runtime();
    let table = migrate_core::VersionTable::default();
    let mut holder = rt.block_on(connect(&db));
    rt.block_on(holder.lock(&table, Duration::ZERO))
        .expect("the lock is free");

    // While it waits, the run says so and, where the database can tell, who holds the lock.
    let holder_is = match db.backend {
        common::Backend::Sqlite => None,
        common::Backend::Postgres => Some(format!(
            " (server process {} of user ",
            holder_id(&rt, holder.as_mut(), "SELECT pg_backend_pid()")
        )),
        common::Backend::Mysql => Some(format!(
            " (connection {} of user ",
            holder_id(&rt, holder.as_mut(), "SELECT CONNECTION_ID()")
        )),
    };
    let run = p.migrate(&["upgrade", "head"]);
    let message = run.failed();
    assert!(message.contains("another migration"), "says why: {message}");
    assert!(!message.contains('\n'), "one line: {message}");
    let waiting = "Another migration holds this database's migration lock";
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with(waiting))
        .unwrap_or_else(|| panic!("says it waits: {}", run.stderr));
    match holder_is {
        Some(holder) => assert!(
            line.starts_with(&format!("{waiting}{holder}")),
            "names the holder: {line}"
        ),
        None => assert_eq!(
            line,
            format!("{waiting}; waiting up to 1.00 s for it (lock_timeout)")
        ),
    }
    assert!(
        line.ends_with("; waiting up to 1.00 s for it (lock_timeout)"),
        "{line}"
    );
    assert_eq!(db.versions(), None, "nothing was created");

    rt.block_on(holder.unlock(&table)).expect("unlock");
    p.migrate(&["upgrade", "head"]).ok();
    assert_eq!(db.versions(), Some(vec!["8c2b4e6f1a90".to_string()]));
}
per_backend!(cli_run_times_out_while_another_connection_holds_the_lock);

/// The holder connection's own id, as `sql` reads it.
fn holder_id(
    rt: &tokio::runtime::Runtime,
    holder: &mut dyn migrate_core::Executor,
    sql: &str,
) -> String {
    let rows = rt
        .block_on(holder.query_text(sql))
        .expect("the holder's id");
    rows[0][0].clone().expect("an id")
}
