//! Running a plan against a database through an [`Executor`].
//!
//! The migrator takes the migration lock, reads the version table, plans, refuses a plan that
//! passes through a revision it cannot run, then runs each step's statements and version-table
//! changes, and releases the lock. Transactions follow the dialect: on SQLite and PostgreSQL
//! the SQL of a migration and its version-table change commit together (one transaction for the
//! whole run, or one per migration with [`MigrateOptions::transaction_per_migration`]); on
//! MySQL, where DDL commits implicitly, the version table is updated right after each migration
//! and a failure says exactly which statement failed and what was left behind.

use std::time::{Duration, Instant};

use crate::dialect::{VersionTable, VERSION_NUM_LENGTH};
use crate::error::{Error, Left, Result, StatementFailure};
use crate::execution::{
    runnable_blocks, statements_of, Action, ExecutionPlan, HistorySetup, Setup, StatementKind,
};
use crate::executor::{DatabaseError, DatabaseErrorKind, Executor, VersionColumn};
use crate::graph::RevisionMap;
use crate::history::{Finding, HistoryRow, Level, Origin, Outcome};
use crate::interrupt::Interrupt;
use crate::plan::{Direction, VersionChange};
use crate::report::{AppliedStep, Report, StepKind};
use crate::revision::Revision;

/// How the migrator runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrateOptions {
    /// Name and schema of the version table.
    pub version_table: VersionTable,
    /// Commit after every migration instead of once for the whole run.
    pub transaction_per_migration: bool,
    /// How long to wait for the migration lock another run holds.
    pub lock_timeout: Duration,
    /// How long a migration's statement may wait for a table lock another session holds
    /// (PostgreSQL `lock_timeout`, MySQL `lock_wait_timeout`, SQLite's busy timeout) before it
    /// fails; `None` leaves the server's setting (by default: wait forever).
    pub ddl_lock_timeout: Option<Duration>,
    /// How long one statement may run (PostgreSQL `statement_timeout`, MariaDB
    /// `max_statement_time`); `None` leaves the server's setting.
    pub statement_timeout: Option<Duration>,
    /// How often a statement that failed on the DDL lock timeout is retried (its whole
    /// transaction where DDL is transactional, the statement alone elsewhere), with
    /// exponential backoff from [`MigrateOptions::ddl_retry_delay`] and jitter.
    pub ddl_retries: u32,
    /// The wait before the first retry; each further retry waits twice as long (at most 30 s),
    /// give or take a quarter.
    pub ddl_retry_delay: Duration,
    /// Record every step in `<version_table>_history` (created on first use) and check, before
    /// a run changes anything, that applied revisions were not edited since they ran.
    pub history: bool,
    /// What an applied revision whose file now computes other SQL does to `upgrade` and
    /// `downgrade`: stop them (the default), or only warn.
    pub checksum_mismatch: MismatchPolicy,
}

/// What a checksum mismatch does to a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MismatchPolicy {
    /// Refuse to start, naming the revision and the way out.
    #[default]
    Error,
    /// Say so and run.
    Warn,
}

/// What `repair` is asked to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Repair {
    /// The current checksums of applied revisions whose recorded one differs (after a
    /// reviewed edit), and of those that have none.
    Checksums,
    /// The failed step was finished by hand: record it as done and move the version table as
    /// the step would have.
    Applied,
    /// The failed step was undone by hand: record that, and leave the version table.
    RolledBack,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        MigrateOptions {
            version_table: VersionTable::default(),
            transaction_per_migration: false,
            lock_timeout: Duration::from_secs(60),
            ddl_lock_timeout: None,
            statement_timeout: None,
            ddl_retries: 0,
            ddl_retry_delay: Duration::from_millis(500),
            history: true,
            checksum_mismatch: MismatchPolicy::Error,
        }
    }
}

impl MigrateOptions {
    /// The session timeouts a run sets, as the dialects take them.
    pub fn timeouts(&self) -> crate::dialect::Timeouts {
        crate::dialect::Timeouts {
            lock: self.ddl_lock_timeout,
            statement: self.statement_timeout,
        }
    }
}

/// Progress of a run, for the CLI to render.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Another run holds the migration lock: this one waits for it, at most `timeout`.
    WaitingForLock {
        /// How long it waits at most before failing.
        timeout: Duration,
        /// Who holds it, when the database can tell ([`Executor::lock_holder`]).
        holder: Option<String>,
    },
    /// The plan is made (under the lock, before anything runs).
    Planned {
        /// How many migrations it will run (stamps not counted).
        migrations: usize,
    },
    /// A migration is about to run.
    MigrationStarted {
        /// The revision id.
        revision: String,
        /// Up or down.
        upgrade: bool,
        /// Alembic's log line: `upgrade a1 -> b2, add a column`.
        description: String,
    },
    /// One statement of the running migration finished.
    StatementDone {
        /// The revision id.
        revision: String,
        /// 1-based number of the statement within the migration.
        index: usize,
        /// How long it took.
        elapsed: Duration,
    },
    /// A migration finished (its version change is applied, not necessarily committed yet).
    MigrationFinished {
        /// The revision id.
        revision: String,
        /// Up or down.
        upgrade: bool,
        /// How long it took.
        elapsed: Duration,
    },
    /// A stamp step moved the version table.
    Stamped {
        /// Rows before.
        from: Vec<String>,
        /// Rows after.
        to: Vec<String>,
    },
    /// A statement gave up waiting for a lock (the DDL lock timeout); it is retried.
    Retrying {
        /// The revision whose statement timed out; `None` when opening the transaction did
        /// (SQLite takes its write lock there).
        revision: Option<String>,
        /// 1-based number of the statement within the migration (0 for the `BEGIN`).
        statement: usize,
        /// This retry's number, from 1.
        attempt: u32,
        /// How many retries are allowed.
        of: u32,
        /// The wait before it.
        delay: Duration,
        /// Whether the open transaction was rolled back (and is run again from its start).
        rolled_back: bool,
        /// The database's message.
        error: String,
    },
    /// `upgrade --resume` continues a step that failed halfway: from its statement
    /// `statement`, the ones before it having stayed applied.
    Resuming {
        /// The revision of the failed step.
        revision: String,
        /// 1-based number of the statement it starts from (the one that failed).
        statement: usize,
        /// That statement's text.
        sql: String,
    },
    /// Applied revisions without a checksum in the history (applied by Alembic, or before the
    /// history existed) are recorded as adopted, with the checksum of their current files.
    Adopted {
        /// The revisions.
        revisions: Vec<String>,
    },
    /// Something worth saying that does not stop the run (a relaxed checksum mismatch).
    Warning {
        /// What.
        message: String,
    },
    /// A transaction committed: what it held is now permanent.
    Committed {
        /// The version table's rows as committed.
        heads: Vec<String>,
        /// How many steps the run has committed so far.
        steps: usize,
    },
}

/// The events sink the migrator reports to.
pub type EventSink<'a> = dyn FnMut(&Event) + Send + 'a;

/// Runs plans of one [`RevisionMap`] against databases.
///
/// ```
/// # // The executor here is a do-nothing stand-in; see migrate-sqlite for a real one.
/// use migrate_core::{RevisionMap, Revision, Migration, ScriptFormat, Migrator, MigrateOptions};
/// # let rev = |id: &str, down: &[&str]| Revision { id: id.into(),
/// #     down_revisions: down.iter().map(|s| s.to_string()).collect(), branch_labels: vec![], computed_branch_labels: vec![],
/// #     depends_on: vec![], message: String::new(), doc: String::new(), path: id.into(),
/// #     format: ScriptFormat::Sql, upgrade: Migration::Sql(vec![]),
/// #     downgrade: Migration::Sql(vec![]) };
/// let map = RevisionMap::new(vec![rev("aaaa", &[]), rev("bbbb", &["aaaa"])]).unwrap();
/// let migrator = Migrator::new(&map, MigrateOptions::default());
/// // migrator.upgrade(&mut executor, "head", &mut |event| eprintln!("{event:?}")).await?;
/// # let _ = migrator;
/// ```
pub struct Migrator<'m> {
    map: &'m RevisionMap,
    options: MigrateOptions,
    interrupt: Interrupt,
    /// The caller took the migration lock ([`Migrator::take_lock`]) and holds it across runs,
    /// so a run neither takes nor releases it.
    caller_holds_lock: bool,
}

enum Command<'a> {
    Upgrade(&'a str, bool),
    Downgrade(&'a str),
    Stamp(&'a [String], bool),
}

/// Why `migrate` cannot run one direction of `rev` (on any database), or `None` when it can.
///
/// ```
/// # use migrate_core::{Revision, Migration, ScriptFormat, Direction, Unrunnable};
/// # let mut rev = Revision { id: "ae10".into(), down_revisions: vec![], branch_labels: vec![], computed_branch_labels: vec![],
/// #     depends_on: vec![], message: String::new(), doc: String::new(), path: "v/ae10.py".into(),
/// #     format: ScriptFormat::Python, upgrade: Migration::Sql(vec![]),
/// #     downgrade: Migration::Missing };
/// assert!(migrate_core::migrator::unrunnable_reason(&rev, Direction::Up).is_none());
/// let why = migrate_core::migrator::unrunnable_reason(&rev, Direction::Down).unwrap();
/// assert!(why.to_string().contains("has no downgrade"));
/// ```
pub fn unrunnable_reason(rev: &Revision, direction: Direction) -> Option<Error> {
    runnable_blocks(rev, direction, "").err()
}

/// The rows of the version table `table` (empty when it does not exist yet), as
/// [`Migrator::current`] reads them; needs no [`RevisionMap`], so it can run while the revision
/// files are still being read. Changes nothing.
pub async fn read_current(exec: &mut dyn Executor, table: &VersionTable) -> Result<Vec<String>> {
    Ok(read_rows(exec, table).await?.unwrap_or_default())
}

impl<'m> Migrator<'m> {
    /// A migrator over `map`.
    pub fn new(map: &'m RevisionMap, options: MigrateOptions) -> Self {
        Migrator {
            map,
            options,
            interrupt: Interrupt::new(),
            caller_holds_lock: false,
        }
    }

    /// Takes the migration lock for a series of runs (`verify` on a scratch database): saying
    /// so when another run holds it, as a run does, then waiting at most the lock timeout.
    /// The returned migrator's runs neither take nor release it; the caller releases it with
    /// [`Executor::unlock`] once the series is done.
    pub(crate) async fn take_lock(
        mut self,
        exec: &mut dyn Executor,
        events: &mut EventSink<'_>,
    ) -> Result<Migrator<'m>> {
        self.lock(exec, events).await?;
        self.caller_holds_lock = true;
        Ok(self)
    }

    /// Takes the lock, saying so when another run holds it and then waiting for it.
    async fn lock(&self, exec: &mut dyn Executor, events: &mut EventSink<'_>) -> Result<()> {
        let table = &self.options.version_table;
        match exec.lock(table, Duration::ZERO).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind == DatabaseErrorKind::LockTimeout => {
                // Naming the holder is a courtesy: a failure to read it does not stop the run.
                let holder = exec.lock_holder(table).await.unwrap_or(None);
                events(&Event::WaitingForLock {
                    timeout: self.options.lock_timeout,
                    holder,
                });
                Ok(exec.lock(table, self.options.lock_timeout).await?)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Stops the run when `interrupt` is triggered: before its next action that talks to the
    /// database it rolls back the open transaction and fails with
    /// [`DatabaseErrorKind::Interrupted`], the error saying what had been committed. (Pair it
    /// with the executor's [`Executor::canceller`] to stop a statement already running.)
    pub fn with_interrupt(mut self, interrupt: Interrupt) -> Self {
        self.interrupt = interrupt;
        self
    }

    /// The options in force.
    pub fn options(&self) -> &MigrateOptions {
        &self.options
    }

    /// Upgrade to `target` (`head`, `heads`, an id, `+2`, `label@head`, ...).
    pub async fn upgrade(
        &self,
        exec: &mut dyn Executor,
        target: &str,
        events: &mut EventSink<'_>,
    ) -> Result<Report> {
        self.run(exec, Command::Upgrade(target, false), events)
            .await
    }

    /// `upgrade --resume`: finish the step that failed halfway (on MySQL/MariaDB, or in a
    /// `transaction=false` section) from the statement that failed, when the statements before
    /// it are unchanged, then go on to `target`.
    pub async fn upgrade_resume(
        &self,
        exec: &mut dyn Executor,
        target: &str,
        events: &mut EventSink<'_>,
    ) -> Result<Report> {
        self.run(exec, Command::Upgrade(target, true), events).await
    }

    /// Downgrade to `target` (`base`, an id, `-1`, `label@base`, ...).
    pub async fn downgrade(
        &self,
        exec: &mut dyn Executor,
        target: &str,
        events: &mut EventSink<'_>,
    ) -> Result<Report> {
        self.run(exec, Command::Downgrade(target), events).await
    }

    /// Set the version table to `targets` without running any migration; `purge` empties the
    /// table first.
    pub async fn stamp(
        &self,
        exec: &mut dyn Executor,
        targets: &[String],
        purge: bool,
        events: &mut EventSink<'_>,
    ) -> Result<Report> {
        self.run(exec, Command::Stamp(targets, purge), events).await
    }

    /// The version table's rows (empty when the table does not exist yet). Changes nothing.
    pub async fn current(&self, exec: &mut dyn Executor) -> Result<Vec<String>> {
        read_current(exec, &self.options.version_table).await
    }

    /// Takes the lock (saying so when another run holds it), runs, and always releases it;
    /// under a lock the caller holds ([`Migrator::take_lock`]) it only runs.
    async fn run(
        &self,
        exec: &mut dyn Executor,
        command: Command<'_>,
        events: &mut EventSink<'_>,
    ) -> Result<Report> {
        if self.caller_holds_lock {
            return self.run_locked(exec, command, events).await;
        }
        let table = self.options.version_table.clone();
        self.lock(exec, events).await?;
        let result = self.run_locked(exec, command, events).await;
        let unlocked = exec.unlock(&table).await;
        let report = result?;
        unlocked?;
        Ok(report)
    }

    async fn run_locked(
        &self,
        exec: &mut dyn Executor,
        command: Command<'_>,
        events: &mut EventSink<'_>,
    ) -> Result<Report> {
        let table = &self.options.version_table;
        let existing = read_rows(exec, table).await?;
        let rows = existing.clone().unwrap_or_default();
        // `stamp` is how a version table is put right, so the history's findings never stop it.
        let (plan, purge, resume, checked) = match command {
            Command::Upgrade(t, resume) => (self.map.plan_upgrade(&rows, t)?, false, resume, true),
            Command::Downgrade(t) => (self.map.plan_downgrade(&rows, t)?, false, false, true),
            Command::Stamp(t, purge) => {
                (self.map.plan_stamp(&rows, t, purge)?, purge, false, false)
            }
        };
        let needs_work = !plan.steps.is_empty() || existing.is_none() || purge || resume;
        let mut history = HistorySetup::default();
        let mut todo = Vec::new();
        let mut resume_at = None;
        if self.options.history && needs_work {
            let found = read_history(exec, table, true).await?;
            history = HistorySetup {
                enabled: true,
                exists: found.is_some(),
            };
            let found = found.unwrap_or_default();
            let applied = self.map.applied(&rows);
            let dialect = exec.dialect();
            let findings = crate::history::verify(self.map, dialect, &rows, &applied, &found);
            if resume {
                let (revision, statement, sql) = resume_point(self.map, dialect, &plan, &found)?;
                events(&Event::Resuming {
                    revision: revision.clone(),
                    statement,
                    sql,
                });
                resume_at = Some((revision, statement));
            }
            let resumed = resume_at.as_ref().map(|(id, _)| id.as_str());
            let mut blocking = Vec::new();
            let mut adopt = Vec::new();
            for finding in findings {
                match &finding {
                    Finding::Unrecorded { revision } => adopt.push(revision.clone()),
                    Finding::FailedStep { revision, .. } if Some(revision.as_str()) == resumed => {}
                    Finding::ChecksumMismatch { .. }
                        if self.options.checksum_mismatch == MismatchPolicy::Warn =>
                    {
                        events(&Event::Warning {
                            message: finding.to_string(),
                        })
                    }
                    _ if finding.level() == Level::Error => blocking.push(finding),
                    _ => {}
                }
            }
            if checked && !blocking.is_empty() {
                return Err(Error::History { findings: blocking });
            }
            // Only a migration records adoptions: a stamp is about to change what is applied.
            if checked && !adopt.is_empty() {
                let origin = Origin::here();
                let now = crate::clock::Timestamp::now();
                for id in &adopt {
                    todo.push(current_row(
                        self.map,
                        dialect,
                        HistoryRow::new(
                            &origin,
                            id.clone(),
                            Direction::Up,
                            Outcome::Adopted,
                            // Recording moves no version: before and after are the rows.
                            rows.clone(),
                            rows.clone(),
                            None,
                            now,
                            Duration::ZERO,
                        ),
                    ));
                }
                events(&Event::Adopted { revisions: adopt });
            }
        }
        let plan = ExecutionPlan::build(
            self.map,
            plan,
            exec.dialect(),
            &self.options,
            Setup::Online {
                table_exists: existing.is_some(),
                purge,
                history,
                resume: resume_at,
            },
        )?;
        if plan.changes_anything() {
            preflight(exec, table, &plan).await?;
        }
        events(&Event::Planned {
            migrations: plan.migrations(),
        });
        let writer = history.enabled.then(|| HistoryWriter {
            table: table.clone(),
            origin: Origin::here(),
            todo,
            in_tx: Vec::new(),
        });
        walk(exec, &plan, writer, &self.interrupt, events).await
    }

    /// What holding the database's version table and history against the revision files
    /// finds (`migrate check` with a database). Changes nothing.
    pub async fn check(&self, exec: &mut dyn Executor) -> Result<Vec<Finding>> {
        let table = &self.options.version_table;
        let rows = read_current(exec, table).await?;
        let found = read_history(exec, table, false).await?.unwrap_or_default();
        let applied = self.map.applied(&rows);
        Ok(crate::history::verify(
            self.map,
            exec.dialect(),
            &rows,
            &applied,
            &found,
        ))
    }

    /// The history table's rows, oldest first (empty when it does not exist). Changes nothing.
    pub async fn history_rows(&self, exec: &mut dyn Executor) -> Result<Vec<HistoryRow>> {
        Ok(read_history(exec, &self.options.version_table, false)
            .await?
            .unwrap_or_default())
    }

    /// `migrate repair`: record what is true after a reviewed edit or a step finished or
    /// undone by hand. Returns the rows written.
    pub async fn repair(
        &self,
        exec: &mut dyn Executor,
        what: Repair,
        events: &mut EventSink<'_>,
    ) -> Result<Vec<HistoryRow>> {
        let table = self.options.version_table.clone();
        exec.lock(&table, self.options.lock_timeout).await?;
        let result = self.repair_locked(exec, what, events).await;
        let unlocked = exec.unlock(&table).await;
        let rows = result?;
        unlocked?;
        Ok(rows)
    }

    async fn repair_locked(
        &self,
        exec: &mut dyn Executor,
        what: Repair,
        events: &mut EventSink<'_>,
    ) -> Result<Vec<HistoryRow>> {
        let table = &self.options.version_table;
        let existing = read_rows(exec, table).await?;
        let rows = existing.clone().unwrap_or_default();
        let found = read_history(exec, table, true).await?;
        let exists = found.is_some();
        let found = found.unwrap_or_default();
        let origin = Origin::here();
        let now = crate::clock::Timestamp::now();
        let dialect = exec.dialect();
        let mut written = Vec::new();
        let mut version_sql = Vec::new();
        match what {
            Repair::Checksums => {
                let applied = self.map.applied(&rows);
                for finding in crate::history::verify(self.map, dialect, &rows, &applied, &found) {
                    if let Finding::ChecksumMismatch { revision, .. }
                    | Finding::Unrecorded { revision } = finding
                    {
                        written.push(current_row(
                            self.map,
                            dialect,
                            HistoryRow::new(
                                &origin,
                                revision.clone(),
                                Direction::Up,
                                Outcome::Repaired,
                                rows.clone(),
                                rows.clone(),
                                None,
                                now,
                                Duration::ZERO,
                            ),
                        ));
                    }
                }
            }
            Repair::Applied | Repair::RolledBack => {
                let summary = crate::history::summarize(&found);
                let Some(failed) = summary.unresolved.last() else {
                    return Err(Error::Usage(
                        "no failed step is recorded in the history; nothing to repair".to_string(),
                    ));
                };
                let outcome = if what == Repair::Applied {
                    Outcome::Repaired
                } else {
                    Outcome::RolledBack
                };
                let mut row = current_row(
                    self.map,
                    dialect,
                    HistoryRow::new(
                        &origin,
                        failed.revision.clone(),
                        failed.direction,
                        outcome,
                        failed.from_versions.clone(),
                        failed.to_versions.clone(),
                        None,
                        now,
                        Duration::ZERO,
                    ),
                );
                if what == Repair::Applied {
                    // Move the version table as the finished step would have.
                    let plan = match failed.direction {
                        Direction::Up => self.map.plan_upgrade(&rows, &failed.revision)?,
                        Direction::Down => self
                            .map
                            .plan_downgrade(&rows, &format!("{}-1", failed.revision))?,
                    };
                    let [step] = plan.steps.as_slice() else {
                        return Err(Error::Usage(format!(
                            "the version table ({}) is not where the failed {} of {} left it; nothing was changed",
                            crate::error::rows_text(&rows),
                            failed.direction,
                            failed.revision
                        )));
                    };
                    for change in &step.changes {
                        version_sql.push(match change {
                            VersionChange::Insert(v) => dialect.insert_version(table, v),
                            VersionChange::Update { from, to } => {
                                dialect.update_version(table, from, to)
                            }
                            VersionChange::Delete(v) => dialect.delete_version(table, v),
                        });
                    }
                    row.from_versions = plan.start.clone();
                    row.to_versions = plan.end.clone();
                } else {
                    row.to_versions = rows.clone();
                }
                written.push(row);
            }
        }
        if written.is_empty() {
            return Ok(written);
        }
        let mut statements = Vec::new();
        if existing.is_none() {
            statements.push(dialect.create_version_table(table));
        }
        if !exists {
            statements.push(crate::history::create_table_sql(dialect, table));
        }
        statements.extend(version_sql);
        statements.push(crate::history::insert_sql(dialect, table, &written));
        exec.begin().await?;
        for sql in &statements {
            if let Err(e) = exec.execute(sql).await {
                let _ = exec.rollback().await;
                return Err(e.into());
            }
        }
        exec.commit().await?;
        events(&Event::Committed {
            heads: rows,
            steps: 0,
        });
        Ok(written)
    }
}

/// `row` with the checksum and statements its revision's file computes now in its
/// direction (none when `migrate` cannot compute them).
fn current_row(
    map: &RevisionMap,
    dialect: &dyn crate::dialect::Dialect,
    row: HistoryRow,
) -> HistoryRow {
    match crate::history::revision_statements(map, &row.revision, row.direction, dialect) {
        Some(statements) => {
            let mut row = row.keeping(statements.iter().map(String::as_str));
            row.checksum = Some(crate::checksum::checksum(
                statements.iter().map(String::as_str),
            ));
            row.checksum_version = Some(crate::checksum::CHECKSUM_VERSION);
            row
        }
        None => row,
    }
}

/// The history's rows, or `None` when the table does not exist. A table made before
/// `statements_sql` existed is read without it, and, when `upgrade` (a run about to write
/// rows), given the column first.
async fn read_history(
    exec: &mut dyn Executor,
    table: &VersionTable,
    upgrade: bool,
) -> Result<Option<Vec<HistoryRow>>> {
    let history = crate::history::history_table(table);
    let exists = exec
        .query_text(&exec.dialect().table_exists_sql(&history))
        .await?;
    if exists.is_empty() {
        return Ok(None);
    }
    let sql = crate::history::select_sql(exec.dialect(), table, true);
    let rows = match exec.query_text(&sql).await {
        Ok(rows) => rows,
        Err(error) => {
            let old = crate::history::select_sql(exec.dialect(), table, false);
            let Ok(rows) = exec.query_text(&old).await else {
                if error.kind != crate::executor::DatabaseErrorKind::Statement {
                    return Err(error.into());
                }
                // The server refused both this layout and the one before `statements_sql`:
                // another table of that name.
                return Err(Error::HistoryTableShape {
                    table: exec.dialect().version_table_name(&history),
                    problem: format!("cannot be read as migrate's history ({})", error.message),
                });
            };
            if upgrade {
                let alter = crate::history::add_kept_sql_column(exec.dialect(), table);
                exec.execute(&alter).await?;
            }
            rows
        }
    };
    crate::history::parse_rows(&exec.dialect().version_table_name(&history), rows).map(Some)
}

/// Where `upgrade --resume` starts: the revision that failed halfway, the number of the
/// statement that failed and its text, when the statements before it are unchanged and the
/// plan starts with that revision.
fn resume_point(
    map: &RevisionMap,
    dialect: &dyn crate::dialect::Dialect,
    plan: &crate::plan::Plan,
    rows: &[HistoryRow],
) -> Result<(String, usize, String)> {
    let summary = crate::history::summarize(rows);
    let Some(failed) = summary
        .unresolved
        .iter()
        .rev()
        .find(|r| r.direction == Direction::Up)
    else {
        return Err(Error::Usage(
            "nothing to resume: no upgrade step is recorded as failed halfway (on SQLite and PostgreSQL a failed step is rolled back whole; run `migrate upgrade` again)".to_string(),
        ));
    };
    let refuse = |why: String| Error::ResumeRefused {
        revision: failed.revision.clone(),
        reason: why,
    };
    let Some(index) = failed.statement_index else {
        return Err(refuse(
            "its history row names no failed statement".to_string(),
        ));
    };
    if plan.steps.first().and_then(|s| s.revision.as_deref()) != Some(failed.revision.as_str()) {
        return Err(refuse(
            "the upgrade does not start with it (the version table moved since it failed)"
                .to_string(),
        ));
    }
    let rev = map
        .get(&failed.revision)
        .ok_or_else(|| refuse("its file is gone".to_string()))?;
    let statements = statements_of(rev, Direction::Up, dialect)?;
    if statements.len() < index {
        return Err(refuse(format!(
            "its upgrade now has {} statements, fewer than the {index} it had reached",
            statements.len()
        )));
    }
    let prefix = crate::checksum::checksum(statements[..index - 1].iter().map(|s| s.text.as_str()));
    if failed.prefix_checksum.as_deref() != Some(prefix.as_str()) {
        return Err(refuse(format!(
            "{} since {} ran; finish or undo the step by hand and say so with `migrate repair --applied` or `--rolled-back`",
            match index - 1 {
                1 => "statement 1 changed".to_string(),
                n => format!("statements 1 to {n} changed"),
            },
            if index - 1 == 1 { "it" } else { "they" }
        )));
    }
    Ok((
        failed.revision.clone(),
        index,
        statements[index - 1].text.clone(),
    ))
}

/// Refuse, before anything runs, a run that the database would stop halfway: a server that
/// refuses writes, a version table that is not Alembic's, an id the version column cannot
/// hold.
async fn preflight(
    exec: &mut dyn Executor,
    table: &VersionTable,
    plan: &ExecutionPlan<'_>,
) -> Result<()> {
    let found = exec.preflight(table).await?;
    if let Some(reason) = found.read_only {
        return Err(Error::ReadOnly { reason });
    }
    let max = version_column_length(exec, table, &found.version_column)?;
    plan.check_revision_ids(max)
}

/// How long an id the version column holds, or why the table is not Alembic's.
fn version_column_length(
    exec: &dyn Executor,
    table: &VersionTable,
    column: &Option<Option<VersionColumn>>,
) -> Result<usize> {
    let shape = |problem: String| Error::VersionTableShape {
        table: exec.dialect().version_table_name(table),
        problem,
    };
    match column {
        None => Ok(VERSION_NUM_LENGTH),
        Some(None) => Err(shape("has no version_num column".to_string())),
        Some(Some(column)) => {
            let kind = column.data_type.to_ascii_lowercase();
            if kind.contains("char") || kind.contains("text") {
                Ok(column.max_length.unwrap_or(usize::MAX))
            } else {
                Err(shape(format!(
                    "its version_num column is {}, not text",
                    column.data_type
                )))
            }
        }
    }
}

/// The version table's rows; when reading them fails because a table of that name is not
/// Alembic's, says that instead of the database's "no such column".
async fn read_rows(exec: &mut dyn Executor, table: &VersionTable) -> Result<Option<Vec<String>>> {
    match exec.read_versions(table).await {
        Ok(rows) => Ok(rows),
        Err(e) => {
            if let Ok(found) = exec.preflight(table).await {
                version_column_length(exec, table, &found.version_column)?;
            }
            Err(e.into())
        }
    }
}

/// What a walk has done so far.
struct RunState {
    /// Rows as the open transaction sees them.
    heads: Vec<String>,
    /// Rows as committed.
    committed_heads: Vec<String>,
    /// Steps committed.
    applied: Vec<AppliedStep>,
    /// Steps done in the open transaction.
    pending: Vec<AppliedStep>,
    in_tx: bool,
}

impl RunState {
    fn commit(&mut self) {
        self.in_tx = false;
        self.committed_heads = self.heads.clone();
        self.applied.append(&mut self.pending);
    }

    fn report(&self, start: &[String]) -> Report {
        Report {
            applied: self.applied.clone(),
            start: start.to_vec(),
            heads: self.committed_heads.clone(),
        }
    }
}

/// Runs an execution plan online. On failure the open transaction is rolled back and the
/// error carries what had been committed.
/// The history rows a walk writes.
struct HistoryWriter {
    table: VersionTable,
    origin: Origin,
    /// Rows not sent yet.
    todo: Vec<HistoryRow>,
    /// Rows sent in the open transaction.
    in_tx: Vec<HistoryRow>,
}

impl HistoryWriter {
    /// After a rollback: the steps run again and write their rows again; adoption rows stay due.
    fn rolled_back(&mut self) {
        let mut keep: Vec<HistoryRow> = self.in_tx.drain(..).collect();
        keep.append(&mut self.todo);
        keep.retain(|r| r.outcome == Outcome::Adopted);
        self.todo = keep;
    }
}

async fn walk(
    exec: &mut dyn Executor,
    plan: &ExecutionPlan<'_>,
    mut history: Option<HistoryWriter>,
    interrupt: &Interrupt,
    events: &mut EventSink<'_>,
) -> Result<Report> {
    let mut state = RunState {
        heads: plan.start.clone(),
        committed_heads: plan.start.clone(),
        applied: Vec::new(),
        pending: Vec::new(),
        in_tx: false,
    };
    let mut step_started = Instant::now();
    let mut step_clock = crate::clock::Timestamp::now();
    let mut commit_sent = false;
    // A version change sent with the history rows and COMMIT that follow it (its index).
    let mut deferred_change: Option<usize> = None;
    let actions = &plan.actions;
    // Where the open transaction began, and how often its statements were retried.
    let mut tx_begin = 0;
    let mut retries = 0;
    let mut at = 0;
    // The version change sent ahead with the statement before it and the COMMIT (its index).
    let mut change_sent: Option<usize> = None;
    while at < actions.len() {
        let mut action = &actions[at];
        let sent_already = change_sent == Some(at) || (commit_sent && *action == Action::Commit);
        let outcome = match action {
            _ if !sent_already && action.talks_to_database() && interrupt.is_triggered() => Err(
                DatabaseError::interrupted("interrupted before this action (Ctrl-C)"),
            ),
            Action::Execute(crate::execution::Statement {
                kind: StatementKind::VersionChange { change, .. },
                ..
            }) if change_sent == Some(at) => {
                change_sent = None;
                apply_change(&mut state.heads, change);
                Ok(())
            }
            // A migration's last statement goes to the database with the step's version
            // change and the COMMIT; what fails is handled as if it had been sent alone.
            Action::Execute(_)
                if state.in_tx && history.is_none() && ends_with_commit(plan, at) =>
            {
                match send_with_commit(exec, plan, at, events).await {
                    Ok(()) => {
                        change_sent = Some(at + 1);
                        commit_sent = true;
                        Ok(())
                    }
                    Err((i, error)) => {
                        // The statement, the version change, or the COMMIT after the step's end.
                        at += [0, 1, 3][i.min(2)];
                        action = &actions[at];
                        Err(error)
                    }
                }
            }
            Action::Begin => {
                state.in_tx = true;
                tx_begin = at;
                exec.begin().await
            }
            Action::Commit => {
                let sent = if std::mem::take(&mut commit_sent) {
                    Ok(())
                } else {
                    exec.commit().await
                };
                if sent.is_ok() {
                    state.commit();
                    retries = 0;
                    if let Some(h) = history.as_mut() {
                        h.in_tx.clear();
                    }
                    events(&Event::Committed {
                        heads: state.committed_heads.clone(),
                        steps: state.applied.len(),
                    });
                }
                sent
            }
            Action::StepStart(n) => {
                step_started = Instant::now();
                step_clock = crate::clock::Timestamp::now();
                let planned = &plan.steps[*n];
                match &planned.step.revision {
                    Some(id) => events(&Event::MigrationStarted {
                        revision: id.clone(),
                        upgrade: planned.step.direction == Direction::Up,
                        description: planned.description(),
                    }),
                    None => events(&Event::Stamped {
                        from: planned.step.from.clone(),
                        to: planned.step.to.clone(),
                    }),
                }
                Ok(())
            }
            Action::StepEnd(n) => {
                let planned = &plan.steps[*n];
                let elapsed = step_started.elapsed();
                let step = &planned.step;
                state.pending.push(AppliedStep {
                    revision: step.revision.clone().unwrap_or_else(|| step.to.join(", ")),
                    kind: if step.revision.is_some() {
                        StepKind::Migration
                    } else {
                        StepKind::Stamp
                    },
                    direction: step.direction,
                    from: step.from.clone(),
                    to: step.to.clone(),
                    elapsed,
                });
                if let Some(h) = history.as_mut() {
                    let mut row = HistoryRow::new(
                        &h.origin,
                        step.revision.clone().unwrap_or_else(|| step.to.join(",")),
                        step.direction,
                        if step.revision.is_some() {
                            Outcome::Applied
                        } else {
                            Outcome::Stamped
                        },
                        step.from.clone(),
                        step.to.clone(),
                        planned.checksum.clone(),
                        step_clock,
                        elapsed,
                    );
                    row.statements = step.revision.as_ref().map(|_| planned.statements);
                    if step.revision.is_some() && planned.checksum.is_some() {
                        row = row.keeping(planned.texts.iter().map(String::as_str));
                    }
                    h.todo.push(row);
                }
                if let Some(id) = &step.revision {
                    events(&Event::MigrationFinished {
                        revision: id.clone(),
                        upgrade: step.direction == Direction::Up,
                        elapsed,
                    });
                }
                Ok(())
            }
            Action::RecordHistory => {
                // The version change held back for this round trip (see `Execute` below).
                let deferred = deferred_change.take().and_then(|i| match &actions[i] {
                    Action::Execute(crate::execution::Statement {
                        sql,
                        kind: StatementKind::VersionChange { change, .. },
                    }) => Some((sql.as_str(), change)),
                    _ => None,
                });
                match history.as_mut() {
                    Some(h) if !h.todo.is_empty() || deferred.is_some() => {
                        let insert = (!h.todo.is_empty())
                            .then(|| crate::history::insert_sql(exec.dialect(), &h.table, &h.todo));
                        let statements: Vec<&str> = deferred
                            .map(|(sql, _)| sql)
                            .into_iter()
                            .chain(insert.as_deref())
                            .collect();
                        let commit_follows = actions[at + 1..]
                            .iter()
                            .find(|a| a.talks_to_database())
                            .is_some_and(|a| *a == Action::Commit);
                        let sent = if commit_follows {
                            commit_sent = true;
                            exec.execute_and_commit(&statements).await
                        } else {
                            let mut sent = Ok(());
                            for sql in &statements {
                                sent = exec.execute(sql).await;
                                if sent.is_err() {
                                    break;
                                }
                            }
                            sent
                        };
                        if sent.is_ok() {
                            if let Some((_, change)) = deferred {
                                apply_change(&mut state.heads, change);
                            }
                            let mut rows: Vec<HistoryRow> = h.todo.drain(..).collect();
                            h.in_tx.append(&mut rows);
                        } else {
                            commit_sent = false;
                        }
                        sent
                    }
                    _ => Ok(()),
                }
            }
            Action::Execute(statement) => {
                let started = Instant::now();
                let sent = match &statement.kind {
                    StatementKind::VersionChange { change, .. } => {
                        // The last version change of a transaction and its COMMIT go together
                        // (one round trip where the backend can); with the history on, the
                        // step's history rows go in the same round trip, between them: the
                        // change is held back until `RecordHistory`, which sends all three.
                        let mut next = actions[at + 1..].iter().filter(|a| a.talks_to_database());
                        let first = next.next();
                        let commit_follows = first.is_some_and(|a| *a == Action::Commit);
                        let history_then_commit = history.is_some()
                            && first.is_some_and(|a| *a == Action::RecordHistory)
                            && next.next().is_some_and(|a| *a == Action::Commit);
                        if history_then_commit {
                            deferred_change = Some(at);
                            Ok(())
                        } else {
                            let sent = if commit_follows {
                                commit_sent = true;
                                exec.execute_and_commit(&[statement.sql.as_str()]).await
                            } else {
                                exec.execute(&statement.sql).await
                            };
                            if sent.is_ok() {
                                apply_change(&mut state.heads, change);
                            }
                            sent
                        }
                    }
                    _ => exec.execute(&statement.sql).await,
                };
                if let (Ok(()), StatementKind::Migration { step, index, .. }) =
                    (&sent, &statement.kind)
                {
                    if let Some(id) = &plan.steps[*step].step.revision {
                        events(&Event::StatementDone {
                            revision: id.clone(),
                            index: *index,
                            elapsed: started.elapsed(),
                        });
                    }
                }
                sent
            }
        };
        if let Err(error) = outcome {
            if let Some(retry) = retry_point(plan, action, &error, &state, retries, tx_begin, at) {
                retries += 1;
                if retry.rolls_back {
                    let _ = exec.rollback().await;
                    state.in_tx = false;
                    state.heads = state.committed_heads.clone();
                    state.pending.clear();
                    if let Some(h) = history.as_mut() {
                        h.rolled_back();
                    }
                }
                let delay = backoff(plan.retry_delay, retries);
                events(&Event::Retrying {
                    revision: retry.revision,
                    statement: retry.statement,
                    attempt: retries,
                    of: plan.retries,
                    delay,
                    rolled_back: retry.rolls_back,
                    error: error.message.clone(),
                });
                tokio::time::sleep(delay).await;
                at = retry.resume_at;
                continue;
            }
            let rolled_back = state.in_tx;
            if rolled_back {
                let _ = exec.rollback().await;
            }
            state.in_tx = false;
            let err = failure(plan, action, error, &state, history.is_some());
            if let Some(mut h) = history {
                if rolled_back {
                    h.rolled_back();
                }
                record_failure(exec, plan, &err, h, (step_clock, step_started.elapsed())).await;
            }
            return Err(err);
        }
        at += 1;
    }
    Ok(state.report(&plan.start))
}

/// Whether the action at `at` is a migration's last statement, inside the open transaction
/// of a database whose DDL is transactional (so a failure rolls back all of it), followed by
/// the step's version change, its end and the COMMIT: [`send_with_commit`] then sends the
/// three together. The statements before a migration's last go one by one: the server reports
/// the statements of one message done only when the whole message is, so sending several at
/// once would hide which one is running from `-v` progress, `pg_stat_activity` and Ctrl-C.
fn ends_with_commit(plan: &ExecutionPlan<'_>, at: usize) -> bool {
    plan.transactional_ddl
        && matches!(
            plan.actions.get(at..at + 4),
            Some([
                Action::Execute(crate::execution::Statement {
                    kind: StatementKind::Migration {
                        transactional: true,
                        ..
                    },
                    ..
                }),
                Action::Execute(crate::execution::Statement {
                    kind: StatementKind::VersionChange { .. },
                    ..
                }),
                Action::StepEnd(_),
                Action::Commit
            ])
        )
}

/// Sends the statement at `at` and the version change after it, then commits, through
/// [`Executor::execute_and_commit_each`], the statement reported done as it completes. A
/// failure carries the index of what failed: 0 the statement, 1 the version change, 2 the
/// COMMIT.
async fn send_with_commit(
    exec: &mut dyn Executor,
    plan: &ExecutionPlan<'_>,
    at: usize,
    events: &mut EventSink<'_>,
) -> std::result::Result<(), (usize, DatabaseError)> {
    let sql: Vec<&str> = plan.actions[at..at + 2]
        .iter()
        .filter_map(|a| match a {
            Action::Execute(statement) => Some(statement.sql.as_str()),
            _ => None,
        })
        .collect();
    let started = Instant::now();
    let mut done = |i: usize| {
        if let (
            0,
            Action::Execute(crate::execution::Statement {
                kind: StatementKind::Migration { step, index, .. },
                ..
            }),
        ) = (i, &plan.actions[at])
        {
            if let Some(id) = &plan.steps[*step].step.revision {
                events(&Event::StatementDone {
                    revision: id.clone(),
                    index: *index,
                    elapsed: started.elapsed(),
                });
            }
        }
    };
    exec.execute_and_commit_each(&sql, &mut done).await
}

/// After a failed statement: the history row saying where it stopped (with the checksum of
/// the statements before it, for `upgrade --resume`; `started` and `elapsed` are the failed
/// step's), and the adoption rows still due. Written
/// on its own, outside the failed transaction; a failure to write it (the history table's
/// creation was rolled back with the run) leaves the original error as it is.
async fn record_failure(
    exec: &mut dyn Executor,
    plan: &ExecutionPlan<'_>,
    err: &Error,
    mut history: HistoryWriter,
    (started, elapsed): (crate::clock::Timestamp, Duration),
) {
    if let Error::StatementFailed(f) = err {
        if let Some(planned) = plan
            .steps
            .iter()
            .find(|s| s.step.revision.as_deref() == Some(f.revision.as_str()))
        {
            let left_half = matches!(
                f.left,
                Left::OutsideTransaction { ran_before } | Left::ImplicitCommit { ran_before } if ran_before > 0
            );
            let mut row = HistoryRow::new(
                &history.origin,
                f.revision.clone(),
                f.direction,
                if left_half {
                    Outcome::Failed
                } else {
                    Outcome::RolledBack
                },
                planned.step.from.clone(),
                planned.step.to.clone(),
                planned.checksum.clone(),
                started,
                elapsed,
            );
            let before = f.index.saturating_sub(1).min(planned.texts.len());
            row.prefix_checksum = Some(crate::checksum::checksum(
                planned.texts[..before].iter().map(String::as_str),
            ));
            row.statements = Some(planned.statements);
            row.statement_index = Some(f.index);
            row.error = Some(f.error.message.clone());
            history.todo.push(row);
        }
    }
    if history.todo.is_empty() {
        return;
    }
    let sql = crate::history::insert_sql(exec.dialect(), &history.table, &history.todo);
    let _ = exec.execute(&sql).await;
}

/// Where a failed lock wait is retried from.
struct Retry {
    revision: Option<String>,
    statement: usize,
    /// The open transaction is rolled back and run again from its `BEGIN`.
    rolls_back: bool,
    resume_at: usize,
}

/// When `error` is a statement giving up on a lock and retries are left: where to go on from.
/// Inside a transaction of a database with transactional DDL, the transaction is rolled back
/// and run again (nothing of it had committed); elsewhere (MySQL, `transaction=false`) the
/// statement alone is sent again, since it never started.
fn retry_point(
    plan: &ExecutionPlan<'_>,
    action: &Action,
    error: &DatabaseError,
    state: &RunState,
    retries: u32,
    tx_begin: usize,
    at: usize,
) -> Option<Retry> {
    if error.kind != DatabaseErrorKind::LockWait || retries >= plan.retries {
        return None;
    }
    let statement = match action {
        // Opening the transaction waited (SQLite's write lock): nothing was done, open again.
        Action::Begin => {
            return Some(Retry {
                revision: None,
                statement: 0,
                rolls_back: false,
                resume_at: at,
            })
        }
        Action::Execute(statement) => statement,
        _ => return None,
    };
    let StatementKind::Migration {
        step,
        index,
        transactional,
        ..
    } = statement.kind
    else {
        return None;
    };
    let revision = plan.steps[step].step.revision.clone();
    let rolls_back = plan.transactional_ddl && transactional && state.in_tx;
    Some(Retry {
        revision,
        statement: index,
        rolls_back,
        resume_at: if rolls_back { tx_begin } else { at },
    })
}

/// The wait before retry `attempt` (1-based): `base` doubled each time, at most 30 s, give or
/// take a quarter so that replicas retrying together spread out.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let doubled = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let capped = doubled.min(Duration::from_secs(30));
    // A little entropy from the clock and the process: enough to spread replicas.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
        ^ std::process::id().rotate_left(16);
    let mut x = u64::from(seed) | 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    // A factor in [0.75, 1.25).
    let factor = 0.75 + (x % 1000) as f64 / 2000.0;
    capped.mul_f64(factor)
}

/// The error for `action` failing with `error`, with what the run left behind.
fn failure(
    plan: &ExecutionPlan<'_>,
    action: &Action,
    error: DatabaseError,
    state: &RunState,
    recorded: bool,
) -> Error {
    let report = state.report(&plan.start);
    if let Action::Execute(statement) = action {
        if let StatementKind::Migration {
            step,
            index,
            line,
            transactional,
        } = statement.kind
        {
            let planned = &plan.steps[step];
            if let Some(rev) = planned.revision {
                let left = if !plan.transactional_ddl {
                    Left::ImplicitCommit {
                        ran_before: index - 1,
                    }
                } else if !transactional {
                    Left::OutsideTransaction {
                        ran_before: index - 1,
                    }
                } else if plan.one_transaction && report.applied.is_empty() {
                    Left::NothingApplied
                } else {
                    Left::MigrationRolledBack
                };
                return Error::StatementFailed(Box::new(StatementFailure {
                    revision: rev.id.clone(),
                    direction: planned.step.direction,
                    path: rev.path.clone(),
                    line,
                    index,
                    statement: statement.sql.clone(),
                    error,
                    left,
                    dialect: plan.dialect,
                    report,
                    resumable: recorded && planned.step.direction == Direction::Up,
                }));
            }
        }
    }
    Error::Database {
        error,
        report: Some(Box::new(report)),
    }
}

pub(crate) fn apply_change(rows: &mut Vec<String>, change: &VersionChange) {
    match change {
        VersionChange::Insert(v) => rows.push(v.clone()),
        VersionChange::Delete(v) => rows.retain(|r| r != v),
        VersionChange::Update { from, to } => {
            for r in rows.iter_mut() {
                if r == from {
                    *r = to.clone();
                }
            }
        }
    }
}
