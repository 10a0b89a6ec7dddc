//! The migrator over a recording in-memory executor: every call it makes (lock, read_versions,
//! begin, execute, execute_and_commit, commit, rollback, unlock), in order, for each kind of
//! dialect and option; failures and what they leave behind; refusals before anything runs; the
//! lock, released however the run ends.
//!
//! The fake dialect writes the version table's statements in a short form (`INSERT VERSION
//! aaaa`, `UPDATE VERSION aaaa -> bbbb`) so that each sequence reads as what the migrator
//! did; the real dialects' SQL is checked against Alembic's in `tests/tests/dialect_alembic.rs`.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use migrate_core::{
    DatabaseError, DatabaseErrorKind, Dialect, Error, Event, Executor, MigrateOptions, Migration,
    Migrator, Report, Revision, RevisionMap, SplitRules, Unrunnable, VersionTable,
};
use support::{block, map, rev, FakeDialect, RevisionExt};

/// [`FakeDialect`] with identifiers as written and version-table statements that name
/// themselves, so that the executor's log reads plainly.
struct PlainDialect(FakeDialect);

impl Dialect for PlainDialect {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn quote_identifier(&self, ident: &str) -> String {
        ident.to_string()
    }
    fn transactional_ddl(&self) -> bool {
        self.0.transactional_ddl()
    }
    fn split_rules(&self) -> SplitRules {
        self.0.split_rules()
    }
    fn create_version_table(&self, _table: &VersionTable) -> String {
        "CREATE VERSION TABLE".into()
    }
    fn insert_version(&self, _table: &VersionTable, id: &str) -> String {
        format!("INSERT VERSION {id}")
    }
    fn update_version(&self, _table: &VersionTable, from: &str, to: &str) -> String {
        format!("UPDATE VERSION {from} -> {to}")
    }
    fn delete_version(&self, _table: &VersionTable, id: &str) -> String {
        format!("DELETE VERSION {id}")
    }
    fn purge_versions(&self, _table: &VersionTable) -> String {
        "PURGE VERSIONS".into()
    }
}

/// What the database holds: "tables" made by `CREATE x` statements, and the version rows
/// (`None` before the version table exists).
#[derive(Default, Clone, Debug, PartialEq)]
struct Db {
    tables: Vec<String>,
    versions: Option<Vec<String>>,
}

impl Db {
    fn rows(&mut self) -> &mut Vec<String> {
        self.versions.as_mut().expect("the version table exists")
    }

    fn apply(&mut self, sql: &str) {
        let words: Vec<&str> = sql.split_whitespace().collect();
        match words.as_slice() {
            ["CREATE", "VERSION", "TABLE"] => self.versions = Some(vec![]),
            ["INSERT", "VERSION", id] => self.rows().push(id.to_string()),
            ["UPDATE", "VERSION", from, "->", to] => {
                for r in self.rows().iter_mut().filter(|r| r == from) {
                    *r = to.to_string();
                }
            }
            ["DELETE", "VERSION", id] => self.rows().retain(|r| r != id),
            ["PURGE", "VERSIONS"] => self.rows().clear(),
            ["CREATE", name] => self.tables.push(name.to_string()),
            ["DROP", name] => self.tables.retain(|t| t != name),
            other => panic!("the fake database does not know {other:?}"),
        }
    }
}

/// What the fake is told to fail.
#[derive(Default)]
struct Failures {
    /// Statements containing this text fail (in `execute` and `execute_and_commit`).
    statement: Option<&'static str>,
    /// `lock` fails with this error.
    lock: Option<DatabaseError>,
    /// `read_versions` fails.
    read_versions: bool,
    /// The n-th `commit` (1-based, `execute_and_commit` included) fails.
    commit: Option<usize>,
    /// `unlock` fails.
    unlock: bool,
}

/// An executor that records every call into a shared log (which the events of the run are
/// written to as well) and keeps a committed and a working [`Db`].
struct FakeExecutor {
    dialect: PlainDialect,
    committed: Db,
    working: Db,
    in_tx: bool,
    locked: bool,
    commits: usize,
    fail: Failures,
    log: Log,
}

/// The calls and events of a run, one line each.
type Log = Arc<Mutex<Vec<String>>>;

impl FakeExecutor {
    fn new(transactional: bool) -> Self {
        FakeExecutor {
            dialect: PlainDialect(FakeDialect { transactional }),
            committed: Db::default(),
            working: Db::default(),
            in_tx: false,
            locked: false,
            commits: 0,
            fail: Failures::default(),
            log: Log::default(),
        }
    }

    fn failing(mut self, fail: Failures) -> Self {
        self.fail = fail;
        self
    }

    fn record(&self, call: String) {
        self.log.lock().unwrap().push(call);
    }

    /// The log so far, emptied.
    fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    fn run_statement(&mut self, sql: &str) -> Result<(), DatabaseError> {
        if self.fail.statement.is_some_and(|s| sql.contains(s)) {
            return Err(DatabaseError::statement(format!(
                "ERROR: the fake refuses {sql:?}"
            )));
        }
        self.working.apply(sql);
        // Without transactional DDL every statement commits at once.
        if !self.in_tx || !self.dialect.0.transactional {
            self.committed = self.working.clone();
        }
        Ok(())
    }

    fn finish_transaction(&mut self) -> Result<(), DatabaseError> {
        self.in_tx = false;
        self.commits += 1;
        if self.fail.commit == Some(self.commits) {
            self.working = self.committed.clone();
            return Err(DatabaseError::other("the fake's commit failed"));
        }
        self.committed = self.working.clone();
        Ok(())
    }
}

#[async_trait]
impl Executor for FakeExecutor {
    fn dialect(&self) -> &dyn Dialect {
        &self.dialect
    }
    async fn execute(&mut self, sql: &str) -> Result<(), DatabaseError> {
        self.record(format!("execute: {sql}"));
        self.run_statement(sql)
    }
    async fn execute_and_commit(&mut self, statements: &[&str]) -> Result<(), DatabaseError> {
        for sql in statements {
            self.record(format!("execute_and_commit: {sql}"));
            self.run_statement(sql)?;
        }
        self.finish_transaction()
    }
    async fn begin(&mut self) -> Result<(), DatabaseError> {
        self.record("begin".into());
        assert!(!self.in_tx, "begin inside an open transaction");
        self.in_tx = true;
        Ok(())
    }
    async fn commit(&mut self) -> Result<(), DatabaseError> {
        self.record("commit".into());
        self.finish_transaction()
    }
    async fn rollback(&mut self) -> Result<(), DatabaseError> {
        self.record("rollback".into());
        self.in_tx = false;
        self.working = self.committed.clone();
        Ok(())
    }
    async fn read_versions(
        &mut self,
        _table: &VersionTable,
    ) -> Result<Option<Vec<String>>, DatabaseError> {
        self.record("read_versions".into());
        if self.fail.read_versions {
            return Err(DatabaseError::other(
                "the fake cannot read the version table",
            ));
        }
        Ok(self.working.versions.clone())
    }
    /// The fake holds no other table.
    async fn query_text(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DatabaseError> {
        self.record(format!("query_text: {sql}"));
        Ok(Vec::new())
    }
    async fn lock(&mut self, _table: &VersionTable, wait: Duration) -> Result<(), DatabaseError> {
        self.record(format!("lock (wait {wait:?})"));
        if let Some(e) = self.fail.lock.clone() {
            return Err(e);
        }
        assert!(!self.locked, "lock taken twice");
        self.locked = true;
        Ok(())
    }
    async fn unlock(&mut self, _table: &VersionTable) -> Result<(), DatabaseError> {
        self.record("unlock".into());
        assert!(self.locked, "unlock without lock");
        self.locked = false;
        if self.fail.unlock {
            return Err(DatabaseError::other("the fake cannot release the lock"));
        }
        Ok(())
    }
}

/// Migration `id` on `parent` whose upgrade is `up` (one block) and downgrade `down`.
fn sql_rev(id: &str, parents: &[&str], up: &str, down: &str) -> Revision {
    rev(id, parents).upgrade_sql(up).downgrade_sql(down)
}

/// aaaa (two statements), bbbb (one), cccc (three, the third fails).
fn chain() -> RevisionMap {
    map(vec![
        sql_rev("aaaa", &[], "CREATE a1; CREATE a2", "DROP a2; DROP a1"),
        sql_rev("bbbb", &["aaaa"], "CREATE b1", "DROP b1"),
        sql_rev(
            "cccc",
            &["bbbb"],
            "CREATE c1;\nCREATE c2;\nCREATE FAIL",
            "DROP c2; DROP c1",
        ),
    ])
}

/// aaaa and bbbb of [`chain`], which succeed.
fn two() -> RevisionMap {
    map(vec![
        sql_rev("aaaa", &[], "CREATE a1; CREATE a2", "DROP a2; DROP a1"),
        sql_rev("bbbb", &["aaaa"], "CREATE b1", "DROP b1"),
    ])
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

/// The options of these tests: the history table is left out, so the sequences show the
/// migration's own calls (what the history adds is asserted in `history.rs`, on real SQLite).
fn options() -> MigrateOptions {
    MigrateOptions {
        lock_timeout: Duration::from_secs(7),
        history: false,
        ..MigrateOptions::default()
    }
}

fn per_migration() -> MigrateOptions {
    MigrateOptions {
        transaction_per_migration: true,
        ..options()
    }
}

/// Upgrades to `target`, returning the result; the log holds the calls and the events.
fn upgrade(
    map: &RevisionMap,
    options: MigrateOptions,
    exec: &mut FakeExecutor,
    target: &str,
) -> migrate_core::Result<Report> {
    let log = exec.log.clone();
    let migrator = Migrator::new(map, options);
    block_on(migrator.upgrade(exec, target, &mut |e| {
        log.lock().unwrap().push(event_line(e))
    }))
}

/// Downgrades to `target` (events not recorded).
fn downgrade(
    map: &RevisionMap,
    options: MigrateOptions,
    exec: &mut FakeExecutor,
    target: &str,
) -> migrate_core::Result<Report> {
    block_on(Migrator::new(map, options).downgrade(exec, target, &mut |_| {}))
}

fn event_line(e: &Event) -> String {
    match e {
        Event::Planned { migrations } => format!("event: planned {migrations}"),
        Event::MigrationStarted { revision, .. } => format!("event: started {revision}"),
        Event::StatementDone {
            revision, index, ..
        } => format!("event: statement {index} of {revision} done"),
        Event::MigrationFinished { revision, .. } => format!("event: finished {revision}"),
        Event::Stamped { from, to } => format!("event: stamped {from:?} -> {to:?}"),
        #[allow(unreachable_patterns)] // for events added later (a non_exhaustive enum)
        other => format!("event: {other:?}"),
    }
}

/// The message and report of a failed statement's error (the one place that knows its shape).
fn statement_failure(err: &Error) -> (String, &Report) {
    match err {
        Error::StatementFailed(failure) => (err.to_string(), &failure.report),
        other => panic!("expected a statement failure, got {other:?}"),
    }
}

/// The log without its event lines.
fn calls(log: Vec<String>) -> Vec<String> {
    log.into_iter()
        .filter(|l| !l.starts_with("event: "))
        .collect()
}

#[test]
fn a_whole_run_is_one_transaction_with_transactional_ddl() {
    let map = two();
    let mut exec = FakeExecutor::new(true);
    let report = upgrade(&map, options(), &mut exec, "head").unwrap();
    assert_eq!(
        exec.take_log(),
        [
            "lock (wait 0ns)",
            "read_versions",
            "event: planned 2",
            "begin",
            "execute: CREATE VERSION TABLE",
            "event: started aaaa",
            "execute: CREATE a1",
            "event: statement 1 of aaaa done",
            "execute: CREATE a2",
            "event: statement 2 of aaaa done",
            "execute: INSERT VERSION aaaa",
            "event: finished aaaa",
            "event: started bbbb",
            "execute: CREATE b1",
            "event: statement 1 of bbbb done",
            "execute_and_commit: UPDATE VERSION aaaa -> bbbb",
            "event: finished bbbb",
            "event: Committed { heads: [\"bbbb\"], steps: 2 }",
            "unlock",
        ]
    );
    assert_eq!(report.heads, ["bbbb"]);
    let applied: Vec<&str> = report.applied.iter().map(|a| a.revision.as_str()).collect();
    assert_eq!(applied, ["aaaa", "bbbb"]);
    assert!(report.applied.iter().all(|a| a.is_upgrade()));
    assert_eq!(exec.committed.tables, ["a1", "a2", "b1"]);
    assert_eq!(exec.committed.versions, Some(vec!["bbbb".to_string()]));

    // Nothing left to do: the lock and one read, nothing else.
    upgrade(&map, options(), &mut exec, "head").unwrap();
    assert_eq!(
        calls(exec.take_log()),
        ["lock (wait 0ns)", "read_versions", "unlock"]
    );
}

#[test]
fn transaction_per_migration_commits_each_migration_with_its_version_change() {
    let map = two();
    let mut exec = FakeExecutor::new(true);
    upgrade(&map, per_migration(), &mut exec, "head").unwrap();
    assert_eq!(
        calls(exec.take_log()),
        [
            "lock (wait 0ns)",
            "read_versions",
            "begin",
            "execute: CREATE VERSION TABLE",
            "commit",
            "begin",
            "execute: CREATE a1",
            "execute: CREATE a2",
            "execute_and_commit: INSERT VERSION aaaa",
            "begin",
            "execute: CREATE b1",
            "execute_and_commit: UPDATE VERSION aaaa -> bbbb",
            "unlock",
        ]
    );
    assert_eq!(exec.committed.versions, Some(vec!["bbbb".to_string()]));
}

#[test]
fn without_transactional_ddl_each_migration_commits_with_its_version_change() {
    let map = two();
    let mut exec = FakeExecutor::new(false);
    upgrade(&map, options(), &mut exec, "head").unwrap();
    assert_eq!(
        calls(exec.take_log()),
        [
            "lock (wait 0ns)",
            "read_versions",
            "begin",
            "execute: CREATE VERSION TABLE",
            "commit",
            "begin",
            "execute: CREATE a1",
            "execute: CREATE a2",
            "execute_and_commit: INSERT VERSION aaaa",
            "begin",
            "execute: CREATE b1",
            "execute_and_commit: UPDATE VERSION aaaa -> bbbb",
            "unlock",
        ]
    );
}

/// aaaa: `CREATE a1` in the transaction, then `CREATE idx` outside it (a `transaction=false`
/// section, or an Alembic `autocommit_block`); bbbb: `CREATE b1`.
fn with_a_non_transactional_block() -> RevisionMap {
    map(vec![
        rev("aaaa", &[]).upgrade(Migration::Sql(vec![
            block("CREATE a1", 3, true),
            block("CREATE idx", 6, false),
        ])),
        sql_rev("bbbb", &["aaaa"], "CREATE b1", "DROP b1"),
    ])
}

#[test]
fn a_non_transactional_block_commits_what_came_before_and_reopens_after() {
    let map = with_a_non_transactional_block();
    let mut exec = FakeExecutor::new(true);
    upgrade(&map, options(), &mut exec, "head").unwrap();
    assert_eq!(
        calls(exec.take_log()),
        [
            "lock (wait 0ns)",
            "read_versions",
            "begin",
            "execute: CREATE VERSION TABLE",
            "execute: CREATE a1",
            "commit",
            "execute: CREATE idx",
            "begin",
            "execute: INSERT VERSION aaaa",
            "execute: CREATE b1",
            "execute_and_commit: UPDATE VERSION aaaa -> bbbb",
            "unlock",
        ]
    );
    assert_eq!(exec.committed.tables, ["a1", "idx", "b1"]);

    let mut exec = FakeExecutor::new(true);
    upgrade(&map, per_migration(), &mut exec, "head").unwrap();
    assert_eq!(
        calls(exec.take_log()),
        [
            "lock (wait 0ns)",
            "read_versions",
            "begin",
            "execute: CREATE VERSION TABLE",
            "commit",
            "begin",
            "execute: CREATE a1",
            "commit",
            "execute: CREATE idx",
            "begin",
            "execute_and_commit: INSERT VERSION aaaa",
            "begin",
            "execute: CREATE b1",
            "execute_and_commit: UPDATE VERSION aaaa -> bbbb",
            "unlock",
        ]
    );
}

#[test]
fn a_failing_non_transactional_block_keeps_what_committed_before_it() {
    let map = map(vec![
        sql_rev("aaaa", &[], "CREATE a1", "DROP a1"),
        rev("bbbb", &["aaaa"]).upgrade(Migration::Sql(vec![
            block("CREATE b1", 3, true),
            block("CREATE idx1; CREATE FAIL", 6, false),
        ])),
    ]);
    let mut exec = FakeExecutor::new(true).failing(Failures {
        statement: Some("FAIL"),
        ..Failures::default()
    });
    let err = upgrade(&map, options(), &mut exec, "head").unwrap_err();
    assert_eq!(
        calls(exec.take_log()),
        [
            "lock (wait 0ns)",
            "read_versions",
            "begin",
            "execute: CREATE VERSION TABLE",
            "execute: CREATE a1",
            "execute: INSERT VERSION aaaa",
            "execute: CREATE b1",
            "commit",
            "execute: CREATE idx1",
            "execute: CREATE FAIL",
            "unlock",
        ]
    );
    // aaaa and bbbb's first block committed with the block's opening commit; idx1 ran outside
    // any transaction; the version table names aaaa, the last completed migration.
    assert_eq!(exec.committed.tables, ["a1", "b1", "idx1"]);
    assert_eq!(exec.committed.versions, Some(vec!["aaaa".to_string()]));
    let (message, report) = statement_failure(&err);
    assert!(
        message.contains("statement 3 of revision bbbb (upgrade) failed"),
        "{message}"
    );
    assert_eq!(report.heads, ["aaaa"]);
}

#[test]
fn a_failing_statement_rolls_the_whole_run_back() {
    let map = chain();
    let mut exec = FakeExecutor::new(true).failing(Failures {
        statement: Some("FAIL"),
        ..Failures::default()
    });
    let err = upgrade(&map, options(), &mut exec, "head").unwrap_err();
    assert_eq!(
        calls(exec.take_log()),
        [
            "lock (wait 0ns)",
            "read_versions",
            "begin",
            "execute: CREATE VERSION TABLE",
            "execute: CREATE a1",
            "execute: CREATE a2",
            "execute: INSERT VERSION aaaa",
            "execute: CREATE b1",
            "execute: UPDATE VERSION aaaa -> bbbb",
            "execute: CREATE c1",
            "execute: CREATE c2",
            "execute: CREATE FAIL",
            "rollback",
            "unlock",
        ]
    );
    let (message, report) = statement_failure(&err);
    assert!(
        message.starts_with(
            "versions/cccc.sql:12: statement 3 of revision cccc (upgrade) failed: ERROR: the fake refuses \"CREATE FAIL\""
        ),
        "{message}"
    );
    assert!(message.contains("nothing was applied"), "{message}");
    assert!(report.applied.is_empty());
    assert_eq!(
        exec.committed,
        Db::default(),
        "the version table's creation is rolled back too"
    );
}

#[test]
fn per_migration_transactions_keep_what_completed() {
    let map = chain();
    let mut exec = FakeExecutor::new(true).failing(Failures {
        statement: Some("FAIL"),
        ..Failures::default()
    });
    let err = upgrade(&map, per_migration(), &mut exec, "head").unwrap_err();
    assert_eq!(
        calls(exec.take_log())[11..],
        [
            "execute_and_commit: UPDATE VERSION aaaa -> bbbb",
            "begin",
            "execute: CREATE c1",
            "execute: CREATE c2",
            "execute: CREATE FAIL",
            "rollback",
            "unlock",
        ]
    );
    let (message, report) = statement_failure(&err);
    assert!(
        message.contains(
            "2 migrations (aaaa, bbbb) were committed before it; the version table is at bbbb"
        ),
        "{message}"
    );
    assert_eq!(report.heads, ["bbbb"]);
    assert_eq!(exec.committed.tables, ["a1", "a2", "b1"]);
    assert_eq!(exec.committed.versions, Some(vec!["bbbb".to_string()]));
}

#[test]
fn without_transactional_ddl_the_version_table_names_the_last_completed_migration() {
    let map = chain();
    let mut exec = FakeExecutor::new(false).failing(Failures {
        statement: Some("FAIL"),
        ..Failures::default()
    });
    let err = upgrade(&map, options(), &mut exec, "head").unwrap_err();
    assert_eq!(
        calls(exec.take_log())[11..],
        [
            "execute_and_commit: UPDATE VERSION aaaa -> bbbb",
            "begin",
            "execute: CREATE c1",
            "execute: CREATE c2",
            "execute: CREATE FAIL",
            "rollback",
            "unlock",
        ]
    );
    let (message, report) = statement_failure(&err);
    assert!(
        message.contains("statement 3 of revision cccc"),
        "{message}"
    );
    assert!(
        message.contains("statements 1 to 2 of this migration may have been applied"),
        "{message}"
    );
    assert_eq!(report.heads, ["bbbb"]);
    // c1 and c2 were created and are still there: exactly what the message says.
    assert_eq!(exec.committed.tables, ["a1", "a2", "b1", "c1", "c2"]);
    assert_eq!(exec.committed.versions, Some(vec!["bbbb".to_string()]));
}

/// The version-table change after a migration's SQL fails (a trigger, a full disk, a
/// revision that dropped the table): the migration is undone with it where the dialect
/// can. Today the error is the database's message alone, without the revision.
#[test]
fn a_failing_version_table_update_rolls_back_with_the_migration() {
    let fail = || Failures {
        statement: Some("UPDATE VERSION aaaa -> bbbb"),
        ..Failures::default()
    };
    let map = two();

    let mut exec = FakeExecutor::new(true).failing(fail());
    let err = upgrade(&map, options(), &mut exec, "head").unwrap_err();
    assert_eq!(
        calls(exec.take_log())[6..],
        [
            "execute: INSERT VERSION aaaa",
            "execute: CREATE b1",
            "execute_and_commit: UPDATE VERSION aaaa -> bbbb",
            "rollback",
            "unlock",
        ]
    );
    assert_eq!(
        err.to_string(),
        "ERROR: the fake refuses \"UPDATE VERSION aaaa -> bbbb\"\nNo migration was committed; the version table is at empty."
    );
    assert_eq!(exec.committed, Db::default());

    for transactional in [true, false] {
        let mut exec = FakeExecutor::new(transactional).failing(fail());
        let options = if transactional {
            per_migration()
        } else {
            options()
        };
        upgrade(&map, options, &mut exec, "head").unwrap_err();
        assert_eq!(
            calls(exec.take_log())[9..],
            [
                "begin",
                "execute: CREATE b1",
                "execute_and_commit: UPDATE VERSION aaaa -> bbbb",
                "rollback",
                "unlock",
            ],
            "transactional DDL: {transactional}"
        );
        assert_eq!(exec.committed.versions, Some(vec!["aaaa".to_string()]));
        let expected: &[&str] = if transactional {
            &["a1", "a2"]
        } else {
            // Committed at once: b1 stays, and the version table does not claim bbbb.
            &["a1", "a2", "b1"]
        };
        assert_eq!(exec.committed.tables, expected);
    }
}

#[test]
fn a_downgrade_is_one_transaction_and_a_failing_one_leaves_everything_as_it_was() {
    let map = two();
    let mut exec = FakeExecutor::new(true);
    upgrade(&map, options(), &mut exec, "head").unwrap();
    exec.take_log();
    let report = downgrade(&map, options(), &mut exec, "base").unwrap();
    assert_eq!(
        exec.take_log(),
        [
            "lock (wait 0ns)",
            "read_versions",
            "begin",
            "execute: DROP b1",
            "execute: UPDATE VERSION bbbb -> aaaa",
            "execute: DROP a2",
            "execute: DROP a1",
            "execute_and_commit: DELETE VERSION aaaa",
            "unlock",
        ]
    );
    assert!(report.heads.is_empty());
    assert!(report.applied.iter().all(|a| !a.is_upgrade()));
    assert_eq!(
        exec.committed,
        Db {
            tables: vec![],
            versions: Some(vec![]),
        },
        "Alembic keeps the empty version table"
    );

    upgrade(&map, options(), &mut exec, "head").unwrap();
    exec.fail.statement = Some("DROP a1");
    exec.take_log();
    let err = downgrade(&map, options(), &mut exec, "base").unwrap_err();
    assert_eq!(
        exec.take_log()[5..],
        ["execute: DROP a2", "execute: DROP a1", "rollback", "unlock"]
    );
    let (message, report) = statement_failure(&err);
    assert!(
        message
            .starts_with("versions/aaaa.sql:10: statement 2 of revision aaaa (downgrade) failed"),
        "{message}"
    );
    assert!(message.contains("nothing was applied"), "{message}");
    assert_eq!(report.heads, ["bbbb"]);
    assert_eq!(exec.committed.tables, ["a1", "a2", "b1"]);
    assert_eq!(exec.committed.versions, Some(vec!["bbbb".to_string()]));
}

#[test]
fn a_failing_downgrade_without_transactional_ddl_stops_at_the_last_completed_migration() {
    let map = two();
    let mut exec = FakeExecutor::new(false);
    upgrade(&map, options(), &mut exec, "head").unwrap();
    exec.fail.statement = Some("DROP a1");
    exec.take_log();
    let err = downgrade(&map, options(), &mut exec, "base").unwrap_err();
    assert_eq!(
        exec.take_log(),
        [
            "lock (wait 0ns)",
            "read_versions",
            "begin",
            "execute: DROP b1",
            "execute_and_commit: UPDATE VERSION bbbb -> aaaa",
            "begin",
            "execute: DROP a2",
            "execute: DROP a1",
            "rollback",
            "unlock",
        ]
    );
    let (message, report) = statement_failure(&err);
    assert!(
        message.contains("statement 2 of revision aaaa (downgrade) failed"),
        "{message}"
    );
    assert!(
        message.contains("statement 1 of this migration may have been applied and is not undone"),
        "{message}"
    );
    assert!(
        message.contains("(aaaa)"),
        "names the version table's rows: {message}"
    );
    assert_eq!(report.heads, ["aaaa"]);
    assert_eq!(exec.committed.tables, ["a1"]);
    assert_eq!(exec.committed.versions, Some(vec!["aaaa".to_string()]));
}

#[test]
fn a_lock_timeout_ends_the_run_before_anything_is_read() {
    let map = two();
    let mut exec = FakeExecutor::new(true).failing(Failures {
        lock: Some(DatabaseError::lock_timeout(
            "another migration holds the lock; gave up after 7.0 s",
        )),
        ..Failures::default()
    });
    let err = upgrade(&map, options(), &mut exec, "head").unwrap_err();
    // An uncontended try first; when it fails, the wait is announced, then taken.
    assert_eq!(
        exec.take_log(),
        [
            "lock (wait 0ns)",
            "event: WaitingForLock { timeout: 7s, holder: None }",
            "lock (wait 7s)"
        ]
    );
    assert!(
        matches!(&err, Error::Database { error: e, .. } if e.kind == DatabaseErrorKind::LockTimeout),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "another migration holds the lock; gave up after 7.0 s"
    );
    assert_eq!(exec.committed, Db::default());
}

/// However a run ends after the lock was taken, the lock is released, and nothing it did not
/// commit stays.
#[test]
fn the_lock_is_released_however_the_run_ends() {
    // (what fails, the map, the target, the calls expected after `lock` and `read_versions`)
    let unrunnable = {
        let mut revs = vec![sql_rev("aaaa", &[], "CREATE a1", "DROP a1")];
        revs.push(
            rev("bbbb", &["aaaa"]).upgrade(Migration::Unrunnable(Unrunnable {
                line: 21,
                column: 5,
                construct: "op.create_table(...)".into(),
            })),
        );
        map(revs)
    };
    let cases: Vec<(&str, Failures, &RevisionMap, &str, Vec<&str>)> = vec![
        (
            "an unknown target",
            Failures::default(),
            &unrunnable,
            "ffff",
            vec!["unlock"],
        ),
        (
            "an unrunnable revision",
            Failures::default(),
            &unrunnable,
            "head",
            vec!["unlock"],
        ),
        (
            "the version table's creation",
            Failures {
                statement: Some("CREATE VERSION TABLE"),
                ..Failures::default()
            },
            &unrunnable,
            "aaaa",
            vec![
                "begin",
                "execute: CREATE VERSION TABLE",
                "rollback",
                "unlock",
            ],
        ),
        (
            "the final commit",
            Failures {
                commit: Some(1),
                ..Failures::default()
            },
            &unrunnable,
            "aaaa",
            vec![
                "begin",
                "execute: CREATE VERSION TABLE",
                "execute: CREATE a1",
                "execute_and_commit: INSERT VERSION aaaa",
                // The commit travels with the last version change; the failed pair is
                // rolled back.
                "rollback",
                "unlock",
            ],
        ),
    ];
    for (what, fail, map, target, after) in cases {
        let mut exec = FakeExecutor::new(true).failing(fail);
        upgrade(map, options(), &mut exec, target).unwrap_err();
        let mut expected = vec!["lock (wait 0ns)", "read_versions"];
        expected.extend(after);
        assert_eq!(calls(exec.take_log()), expected, "{what}");
        assert!(!exec.locked, "{what}: the lock is released");
        assert_eq!(exec.committed, Db::default(), "{what}: nothing committed");
    }

    // Reading the version table fails: nothing else is asked.
    let mut exec = FakeExecutor::new(true).failing(Failures {
        read_versions: true,
        ..Failures::default()
    });
    let err = upgrade(&two(), options(), &mut exec, "head").unwrap_err();
    assert_eq!(err.to_string(), "the fake cannot read the version table");
    assert_eq!(
        exec.take_log(),
        ["lock (wait 0ns)", "read_versions", "unlock"]
    );
}

#[test]
fn a_lock_that_cannot_be_released_fails_a_run_that_committed() {
    let mut exec = FakeExecutor::new(true).failing(Failures {
        unlock: true,
        ..Failures::default()
    });
    let err = upgrade(&two(), options(), &mut exec, "head").unwrap_err();
    assert_eq!(err.to_string(), "the fake cannot release the lock");
    assert_eq!(exec.committed.versions, Some(vec!["bbbb".to_string()]));

    // A failure of the run itself is the one reported.
    let mut exec = FakeExecutor::new(true).failing(Failures {
        unlock: true,
        statement: Some("FAIL"),
        ..Failures::default()
    });
    let err = upgrade(&chain(), options(), &mut exec, "head").unwrap_err();
    assert!(
        err.to_string().contains("statement 3 of revision cccc"),
        "{err}"
    );
}

#[test]
fn an_unrunnable_revision_is_refused_before_anything_runs() {
    let mut revs = vec![
        sql_rev("aaaa", &[], "CREATE a1", "DROP a1"),
        sql_rev("bbbb", &["aaaa"], "CREATE b1", "DROP b1"),
    ];
    revs[1].upgrade = Migration::Unrunnable(Unrunnable {
        line: 21,
        column: 5,
        construct: "op.create_table(...)".into(),
    });
    revs[0].downgrade = Migration::Missing;
    let map = map(revs);
    let mut exec = FakeExecutor::new(true);
    let err = upgrade(&map, options(), &mut exec, "head").unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("versions/bbbb.sql:21:5: revision bbbb cannot be run by migrate"),
        "{text}"
    );
    assert!(
        text.contains("op.create_table(...)") && text.contains("stamp"),
        "{text}"
    );
    assert_eq!(
        exec.take_log(),
        ["lock (wait 0ns)", "read_versions", "unlock"],
        "nothing ran"
    );

    // Stamping past it works, and a downgrade through a revision without one is refused.
    let migrator = Migrator::new(&map, options());
    block_on(migrator.stamp(&mut exec, &["bbbb".into()], false, &mut |_| {})).unwrap();
    assert_eq!(exec.committed.versions, Some(vec!["bbbb".to_string()]));
    exec.take_log();
    let err = downgrade(&map, options(), &mut exec, "base").unwrap_err();
    // bbbb's downgrade is plain SQL, but aaaa has none: refused before bbbb's runs.
    assert!(
        err.to_string().contains("revision aaaa has no downgrade"),
        "{err}"
    );
    assert_eq!(
        exec.take_log(),
        ["lock (wait 0ns)", "read_versions", "unlock"]
    );
    assert_eq!(exec.committed.versions, Some(vec!["bbbb".to_string()]));
}

#[test]
fn stamp_changes_only_the_version_table_and_purge_replaces_every_row() {
    let map = chain();
    let mut exec = FakeExecutor::new(true);
    let migrator = Migrator::new(&map, options());
    let log = exec.log.clone();
    block_on(
        migrator.stamp(&mut exec, &["aaaa".into()], false, &mut |e| {
            log.lock().unwrap().push(event_line(e))
        }),
    )
    .unwrap();
    assert_eq!(
        exec.take_log(),
        [
            "lock (wait 0ns)",
            "read_versions",
            "event: planned 0",
            "begin",
            "execute: CREATE VERSION TABLE",
            "event: stamped [] -> [\"aaaa\"]",
            "execute_and_commit: INSERT VERSION aaaa",
            "event: Committed { heads: [\"aaaa\"], steps: 1 }",
            "unlock",
        ]
    );
    exec.working
        .versions
        .as_mut()
        .unwrap()
        .push("zzzz-unknown".into());
    exec.committed = exec.working.clone();
    block_on(migrator.stamp(&mut exec, &["bbbb".into()], true, &mut |_| {})).unwrap();
    assert_eq!(
        exec.take_log(),
        [
            "lock (wait 0ns)",
            "read_versions",
            "begin",
            "execute: PURGE VERSIONS",
            "execute_and_commit: INSERT VERSION bbbb",
            "unlock",
        ]
    );
    assert_eq!(exec.committed.versions, Some(vec!["bbbb".to_string()]));
    assert!(exec.committed.tables.is_empty(), "stamp runs no migration");
}
