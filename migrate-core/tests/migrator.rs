//! The migrator over a scripted in-memory executor: transactions, version-table changes,
//! failures and what they leave behind, refusals before anything runs, the lock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use migrate_core::{
    DatabaseError, Dialect, Error, Executor, MigrateOptions, Migration, Migrator, Revision,
    RevisionMap, ScriptFormat, SplitRules, SqlBlock, Unrunnable, VersionTable,
};

struct FakeDialect {
    transactional: bool,
}

impl Dialect for FakeDialect {
    fn name(&self) -> &'static str {
        if self.transactional {
            "postgresql"
        } else {
            "mysql"
        }
    }
    fn quote_identifier(&self, ident: &str) -> String {
        ident.to_string()
    }
    fn transactional_ddl(&self) -> bool {
        self.transactional
    }
    fn split_rules(&self) -> SplitRules {
        SplitRules::default()
    }
}

/// A database that keeps a list of "tables" created by `CREATE x` statements and the version
/// rows, with real commit/rollback of both (when transactional), and fails any statement
/// containing `FAIL`.
#[derive(Default, Clone)]
struct Db {
    tables: Vec<String>,
    versions: Option<Vec<String>>,
}

struct FakeExecutor {
    dialect: FakeDialect,
    committed: Db,
    working: Db,
    in_tx: bool,
    log: Arc<Mutex<Vec<String>>>,
    locked: bool,
}

impl FakeExecutor {
    fn new(transactional: bool) -> Self {
        FakeExecutor {
            dialect: FakeDialect { transactional },
            committed: Db::default(),
            working: Db::default(),
            in_tx: false,
            log: Arc::default(),
            locked: false,
        }
    }
    fn autocommit(&mut self) {
        if !self.in_tx || !self.dialect.transactional {
            self.committed = self.working.clone();
        }
    }
}

#[async_trait]
impl Executor for FakeExecutor {
    fn dialect(&self) -> &dyn Dialect {
        &self.dialect
    }
    async fn execute(&mut self, sql: &str) -> Result<(), DatabaseError> {
        self.log.lock().unwrap().push(sql.to_string());
        if sql.contains("FAIL") {
            return Err(DatabaseError::statement(
                "ERROR: syntax error at or near \"FAIL\"",
            ));
        }
        let words: Vec<&str> = sql.split_whitespace().collect();
        match words.as_slice() {
            ["CREATE", "TABLE", "alembic_version", ..] => self.working.versions = Some(vec![]),
            ["INSERT", "INTO", "alembic_version", ..] => {
                let v = sql.split('\'').nth(1).unwrap().to_string();
                self.working.versions.as_mut().unwrap().push(v);
            }
            ["UPDATE", "alembic_version", ..] => {
                let parts: Vec<&str> = sql.split('\'').collect();
                let (to, from) = (parts[1].to_string(), parts[3]);
                for r in self.working.versions.as_mut().unwrap().iter_mut() {
                    if r == from {
                        *r = to.clone();
                    }
                }
            }
            ["DELETE", "FROM", "alembic_version", "WHERE", ..] => {
                let v = sql.split('\'').nth(1).unwrap();
                self.working.versions.as_mut().unwrap().retain(|r| r != v);
            }
            ["DELETE", "FROM", "alembic_version"] => self.working.versions = Some(vec![]),
            ["CREATE", name] => self.working.tables.push(name.to_string()),
            ["DROP", name] => self.working.tables.retain(|t| t != name),
            _ => {}
        }
        // DDL commits implicitly on a non-transactional dialect.
        self.autocommit();
        Ok(())
    }
    async fn begin(&mut self) -> Result<(), DatabaseError> {
        self.in_tx = true;
        Ok(())
    }
    async fn commit(&mut self) -> Result<(), DatabaseError> {
        self.in_tx = false;
        self.committed = self.working.clone();
        Ok(())
    }
    async fn rollback(&mut self) -> Result<(), DatabaseError> {
        self.in_tx = false;
        self.working = self.committed.clone();
        Ok(())
    }
    async fn read_versions(
        &mut self,
        _table: &VersionTable,
    ) -> Result<Option<Vec<String>>, DatabaseError> {
        Ok(self.working.versions.clone())
    }
    async fn lock(&mut self, _table: &VersionTable, _wait: Duration) -> Result<(), DatabaseError> {
        assert!(!self.locked, "lock taken twice");
        self.locked = true;
        Ok(())
    }
    async fn unlock(&mut self, _table: &VersionTable) -> Result<(), DatabaseError> {
        assert!(self.locked, "unlock without lock");
        self.locked = false;
        Ok(())
    }
}

fn sql(text: &str) -> Migration {
    Migration::Sql(vec![SqlBlock {
        operation: None,
        sql: text.to_string(),
        line: 10,
        transactional: true,
        dialects: vec![],
    }])
}

fn rev(id: &str, down: &[&str], up: &str, downgrade: &str) -> Revision {
    Revision {
        id: id.into(),
        down_revisions: down.iter().map(|s| s.to_string()).collect(),
        branch_labels: vec![],
        depends_on: vec![],
        message: format!("make {id}"),
        doc: String::new(),
        path: format!("versions/{id}.sql").into(),
        format: ScriptFormat::Sql,
        upgrade: sql(up),
        downgrade: sql(downgrade),
    }
}

fn chain() -> RevisionMap {
    RevisionMap::new(vec![
        rev("aaaa", &[], "CREATE a1; CREATE a2", "DROP a2; DROP a1"),
        rev("bbbb", &["aaaa"], "CREATE b1", "DROP b1"),
        rev(
            "cccc",
            &["bbbb"],
            "CREATE c1;\nCREATE c2;\nCREATE FAIL",
            "DROP c2; DROP c1",
        ),
    ])
    .unwrap()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn upgrade_runs_every_statement_and_moves_the_version_table() {
    let map = RevisionMap::new(vec![
        rev("aaaa", &[], "CREATE a1; CREATE a2", "DROP a2; DROP a1"),
        rev("bbbb", &["aaaa"], "CREATE b1", "DROP b1"),
    ])
    .unwrap();
    let mut exec = FakeExecutor::new(true);
    let migrator = Migrator::new(&map, MigrateOptions::default());
    let mut events = Vec::new();
    let report =
        block_on(migrator.upgrade(&mut exec, "head", &mut |e| events.push(e.clone()))).unwrap();
    assert_eq!(report.heads, ["bbbb"]);
    assert_eq!(report.applied.len(), 2);
    assert_eq!(exec.committed.tables, ["a1", "a2", "b1"]);
    assert_eq!(exec.committed.versions, Some(vec!["bbbb".to_string()]));
    assert!(!exec.locked, "the lock is released");
    let started = events
        .iter()
        .filter(|e| matches!(e, migrate_core::Event::MigrationStarted { .. }))
        .count();
    assert_eq!(started, 2);

    let report = block_on(migrator.downgrade(&mut exec, "base", &mut |_| {})).unwrap();
    assert!(report.heads.is_empty());
    assert!(exec.committed.tables.is_empty());
    assert_eq!(exec.committed.versions, Some(vec![]));
}

#[test]
fn a_failing_third_statement_rolls_the_whole_run_back() {
    let map = chain();
    let mut exec = FakeExecutor::new(true);
    let migrator = Migrator::new(&map, MigrateOptions::default());
    let err = block_on(migrator.upgrade(&mut exec, "head", &mut |_| {})).unwrap_err();
    let Error::Database { message, report } = &err else {
        panic!("unexpected error {err}")
    };
    assert!(message.starts_with("versions/cccc.sql:12: statement 3 of revision cccc (upgrade) failed: ERROR: syntax error"), "{message}");
    assert!(message.contains("nothing was applied"), "{message}");
    assert!(report.applied.is_empty());
    assert_eq!(exec.committed.tables, Vec::<String>::new());
    assert_eq!(
        exec.committed.versions, None,
        "the version table's creation is rolled back too"
    );
    assert!(!exec.locked);
}

#[test]
fn per_migration_transactions_keep_what_completed() {
    let map = chain();
    let mut exec = FakeExecutor::new(true);
    let options = MigrateOptions {
        transaction_per_migration: true,
        ..MigrateOptions::default()
    };
    let migrator = Migrator::new(&map, options);
    let err = block_on(migrator.upgrade(&mut exec, "head", &mut |_| {})).unwrap_err();
    let Error::Database { message, report } = &err else {
        panic!("unexpected error {err}")
    };
    assert!(
        message.contains(
            "2 migrations were (aaaa, bbbb) committed before it; the version table is at bbbb"
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
    let mut exec = FakeExecutor::new(false);
    let migrator = Migrator::new(&map, MigrateOptions::default());
    let err = block_on(migrator.upgrade(&mut exec, "head", &mut |_| {})).unwrap_err();
    let Error::Database { message, report } = &err else {
        panic!("unexpected error {err}")
    };
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

#[test]
fn an_unrunnable_revision_is_refused_before_anything_runs() {
    let mut revs = vec![
        rev("aaaa", &[], "CREATE a1", "DROP a1"),
        rev("bbbb", &["aaaa"], "CREATE b1", "DROP b1"),
    ];
    revs[1].upgrade = Migration::Unrunnable(Unrunnable {
        line: 21,
        column: 5,
        construct: "op.create_table(...)".into(),
    });
    revs[0].downgrade = Migration::Missing;
    let map = RevisionMap::new(revs).unwrap();
    let mut exec = FakeExecutor::new(true);
    let log = exec.log.clone();
    let migrator = Migrator::new(&map, MigrateOptions::default());
    let err = block_on(migrator.upgrade(&mut exec, "head", &mut |_| {})).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("versions/bbbb.sql:21:5: revision bbbb cannot be run by migrate"),
        "{text}"
    );
    assert!(
        text.contains("op.create_table(...)") && text.contains("stamp"),
        "{text}"
    );
    assert!(
        log.lock().unwrap().is_empty(),
        "nothing ran: {:?}",
        log.lock().unwrap()
    );
    assert!(!exec.locked);

    // Stamping past it works, and a downgrade through a revision without one is refused.
    block_on(migrator.stamp(&mut exec, &["bbbb".into()], false, &mut |_| {})).unwrap();
    assert_eq!(exec.committed.versions, Some(vec!["bbbb".to_string()]));
    let err = block_on(migrator.downgrade(&mut exec, "base", &mut |_| {})).unwrap_err();
    // bbbb's downgrade is plain SQL, but aaaa has none: refused before bbbb's runs.
    let before = log.lock().unwrap().len();
    assert!(
        err.to_string().contains("revision aaaa has no downgrade"),
        "{err}"
    );
    assert_eq!(log.lock().unwrap().len(), before);
    assert_eq!(exec.committed.versions, Some(vec!["bbbb".to_string()]));
}

#[test]
fn stamp_purge_replaces_every_row() {
    let map = chain();
    let mut exec = FakeExecutor::new(true);
    let migrator = Migrator::new(&map, MigrateOptions::default());
    block_on(migrator.stamp(&mut exec, &["aaaa".into()], false, &mut |_| {})).unwrap();
    exec.working
        .versions
        .as_mut()
        .unwrap()
        .push("zzzz-unknown".into());
    exec.committed = exec.working.clone();
    block_on(migrator.stamp(&mut exec, &["bbbb".into()], true, &mut |_| {})).unwrap();
    assert_eq!(exec.committed.versions, Some(vec!["bbbb".to_string()]));
    assert!(exec.committed.tables.is_empty(), "stamp runs no migration");
}

#[test]
fn non_transactional_blocks_run_outside_the_transaction() {
    let mut r = rev("aaaa", &[], "CREATE a1", "DROP a1");
    r.upgrade = Migration::Sql(vec![
        SqlBlock {
            operation: None,
            sql: "CREATE a1".into(),
            line: 3,
            transactional: true,
            dialects: vec![],
        },
        SqlBlock {
            operation: None,
            sql: "CREATE idx".into(),
            line: 6,
            transactional: false,
            dialects: vec![],
        },
    ]);
    let map = RevisionMap::new(vec![r]).unwrap();
    let mut exec = FakeExecutor::new(true);
    let log = exec.log.clone();
    let migrator = Migrator::new(&map, MigrateOptions::default());
    block_on(migrator.upgrade(&mut exec, "head", &mut |_| {})).unwrap();
    assert_eq!(exec.committed.tables, ["a1", "idx"]);
    assert_eq!(log.lock().unwrap().len(), 4, "{:?}", log.lock().unwrap());
}
