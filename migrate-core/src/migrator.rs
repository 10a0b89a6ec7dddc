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
use crate::execution::{runnable_blocks, Action, ExecutionPlan, Setup, StatementKind};
use crate::executor::{DatabaseError, DatabaseErrorKind, Executor, VersionColumn};
use crate::graph::RevisionMap;
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
/// #     down_revisions: down.iter().map(|s| s.to_string()).collect(), branch_labels: vec![],
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
}

enum Command<'a> {
    Upgrade(&'a str),
    Downgrade(&'a str),
    Stamp(&'a [String], bool),
}

/// Why `migrate` cannot run one direction of `rev` (on any database), or `None` when it can.
///
/// ```
/// # use migrate_core::{Revision, Migration, ScriptFormat, Direction, Unrunnable};
/// # let mut rev = Revision { id: "ae10".into(), down_revisions: vec![], branch_labels: vec![],
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
        Migrator { map, options }
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
        self.run(exec, Command::Upgrade(target), events).await
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

    /// Takes the lock (saying so when another run holds it), runs, and always releases it.
    async fn run(
        &self,
        exec: &mut dyn Executor,
        command: Command<'_>,
        events: &mut EventSink<'_>,
    ) -> Result<Report> {
        let table = self.options.version_table.clone();
        match exec.lock(&table, Duration::ZERO).await {
            Ok(()) => {}
            Err(e) if e.kind == DatabaseErrorKind::LockTimeout => {
                events(&Event::WaitingForLock {
                    timeout: self.options.lock_timeout,
                });
                exec.lock(&table, self.options.lock_timeout).await?;
            }
            Err(e) => return Err(e.into()),
        }
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
        let (plan, purge) = match command {
            Command::Upgrade(t) => (self.map.plan_upgrade(&rows, t)?, false),
            Command::Downgrade(t) => (self.map.plan_downgrade(&rows, t)?, false),
            Command::Stamp(t, purge) => (self.map.plan_stamp(&rows, t, purge)?, purge),
        };
        let plan = ExecutionPlan::build(
            self.map,
            plan,
            exec.dialect(),
            &self.options,
            Setup::Online {
                table_exists: existing.is_some(),
                purge,
            },
        )?;
        if plan.changes_anything() {
            preflight(exec, table, &plan).await?;
        }
        events(&Event::Planned {
            migrations: plan.migrations(),
        });
        walk(exec, &plan, events).await
    }
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
async fn walk(
    exec: &mut dyn Executor,
    plan: &ExecutionPlan<'_>,
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
    let mut commit_sent = false;
    let actions = &plan.actions;
    // Where the open transaction began, and how often its statements were retried.
    let mut tx_begin = 0;
    let mut retries = 0;
    let mut at = 0;
    while at < actions.len() {
        let action = &actions[at];
        let outcome = match action {
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
                    events(&Event::Committed {
                        heads: state.committed_heads.clone(),
                        steps: state.applied.len(),
                    });
                }
                sent
            }
            Action::StepStart(n) => {
                step_started = Instant::now();
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
                if let Some(id) = &step.revision {
                    events(&Event::MigrationFinished {
                        revision: id.clone(),
                        upgrade: step.direction == Direction::Up,
                        elapsed,
                    });
                }
                Ok(())
            }
            Action::Execute(statement) => {
                let started = Instant::now();
                let sent = match &statement.kind {
                    StatementKind::VersionChange { change, .. } => {
                        // The last version change of a transaction and its COMMIT go together
                        // (one round trip where the backend can).
                        let commit_follows = actions[at + 1..]
                            .iter()
                            .find(|a| a.talks_to_database())
                            .is_some_and(|a| *a == Action::Commit);
                        let sent = if commit_follows {
                            commit_sent = true;
                            exec.execute_and_commit(&statement.sql).await
                        } else {
                            exec.execute(&statement.sql).await
                        };
                        if sent.is_ok() {
                            apply_change(&mut state.heads, change);
                        }
                        sent
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
            if state.in_tx {
                let _ = exec.rollback().await;
            }
            state.in_tx = false;
            return Err(failure(plan, action, error, &state));
        }
        at += 1;
    }
    Ok(state.report(&plan.start))
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
