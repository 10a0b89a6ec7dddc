//! The execution plan: one form of a run, walked by both the online [`crate::Migrator`] and the
//! offline `--sql` renderer ([`crate::offline`]).
//!
//! The planner ([`crate::plan`]) decides *which* steps run and how the version table changes;
//! the execution plan decides *what is sent*: every statement with its source position, every
//! transaction boundary, every version-table change, in order. Transaction boundaries follow
//! the dialect and the options once, here:
//!
//! - SQLite and PostgreSQL (transactional DDL): one transaction for the whole run, or one per
//!   migration with [`MigrateOptions::transaction_per_migration`]; a `transaction=false` section
//!   (or an `autocommit_block`) commits what came before, runs on its own and opens a new
//!   transaction after it.
//! - MySQL/MariaDB (DDL commits implicitly): online, each migration runs in a transaction of its
//!   own so that its data changes and its version-table change commit together; offline
//!   scripts carry no `BEGIN`/`COMMIT` there, as Alembic's do not.
//!
//! A new kind of step (a history row, a compiled operation, a retry point) is added here once
//! and both walkers see it.
//!
//! ```
//! use migrate_core::execution::{Action, ExecutionPlan, Setup};
//! use migrate_core::{MigrateOptions, Migration, Revision, RevisionMap, ScriptFormat, SqlBlock};
//! # use migrate_core::{Dialect, split::SplitRules};
//! # struct Pg;
//! # impl Dialect for Pg {
//! #     fn name(&self) -> &'static str { "postgresql" }
//! #     fn quote_identifier(&self, i: &str) -> String { i.to_string() }
//! #     fn transactional_ddl(&self) -> bool { true }
//! #     fn split_rules(&self) -> SplitRules { SplitRules::postgresql() }
//! # }
//! let sql = |text: &str| Migration::Sql(vec![SqlBlock {
//!     sql: text.into(), line: 1, transactional: true, dialects: vec![], operation: None,
//! }]);
//! let rev = Revision {
//!     id: "aaaa".into(), down_revisions: vec![], branch_labels: vec![], computed_branch_labels: vec![], depends_on: vec![],
//!     message: "create t".into(), doc: String::new(), path: "v/aaaa.sql".into(),
//!     format: ScriptFormat::Sql, upgrade: sql("CREATE TABLE t (id INT);"),
//!     downgrade: sql("DROP TABLE t;"),
//! };
//! let map = RevisionMap::new(vec![rev]).unwrap();
//! let plan = map.plan_upgrade(&[], "head").unwrap();
//! let exec = ExecutionPlan::build(&map, plan, &Pg, &MigrateOptions::default(),
//!     Setup::Offline { stamp: false }).unwrap();
//! let statements: Vec<&str> = exec.actions.iter().filter_map(|a| match a {
//!     Action::Execute(s) => Some(s.sql.as_str()),
//!     _ => None,
//! }).collect();
//! assert_eq!(statements.len(), 3); // CREATE TABLE alembic_version, CREATE TABLE t, INSERT
//! assert!(matches!(exec.actions.first(), Some(Action::Begin)));
//! assert!(matches!(exec.actions.last(), Some(Action::Commit)));
//! ```

use crate::dialect::{Dialect, TimeoutScope, Timeouts};
use crate::error::{Error, Result};
use crate::graph::RevisionMap;
use crate::migrator::MigrateOptions;
use crate::plan::{Direction, Plan, Step, VersionChange};
use crate::revision::{Migration, Revision, ScriptFormat, SqlBlock};

/// What the run starts from, which decides the version table's setup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setup {
    /// A live database: create the version table when it does not exist, empty it for
    /// `stamp --purge`.
    Online {
        /// Whether the version table exists.
        table_exists: bool,
        /// Whether to delete every row first (`stamp --purge`).
        purge: bool,
        /// Whether steps are recorded in the history table, and whether it exists.
        history: HistorySetup,
        /// Resume a step that failed halfway: its revision, from this 1-based statement.
        resume: Option<(String, usize)>,
    },
    /// A script (`--sql`): create the version table when the range starts at base.
    Offline {
        /// A stamp script creates the table even when it moves nothing.
        stamp: bool,
    },
}

/// Whether a run records its steps in the history table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HistorySetup {
    /// Record them.
    pub enabled: bool,
    /// The table exists (else it is created with the version table).
    pub exists: bool,
}

/// One thing a run does, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Open a transaction.
    Begin,
    /// Commit the open transaction.
    Commit,
    /// Step `n` of [`ExecutionPlan::steps`] starts (offline: Alembic's `-- Running ...` line).
    StepStart(usize),
    /// Send one statement.
    Execute(Statement),
    /// Step `n` is done: its statements and version changes have been sent.
    StepEnd(usize),
    /// Write the history rows of the steps done since the last one (online, before each
    /// commit; nothing is sent when there is nothing to write).
    RecordHistory,
}

impl Action {
    /// Whether this action sends something to the database (a marker does not).
    pub fn talks_to_database(&self) -> bool {
        matches!(
            self,
            Action::Begin | Action::Commit | Action::Execute(_) | Action::RecordHistory
        )
    }
}

/// One statement of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The SQL, one statement, without a trailing `;`.
    pub sql: String,
    /// What it is and where it comes from.
    pub kind: StatementKind,
}

/// What a statement is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatementKind {
    /// `CREATE TABLE` of the version table.
    CreateVersionTable,
    /// `DELETE FROM` the version table (`stamp --purge`).
    PurgeVersions,
    /// `CREATE TABLE` of the history table.
    CreateHistoryTable,
    /// A session or transaction setting: the DDL lock timeout, the statement timeout.
    Setting,
    /// A statement of a revision's SQL.
    Migration {
        /// The step it belongs to.
        step: usize,
        /// 1-based number of the statement within the migration.
        index: usize,
        /// 1-based line in the revision file where it starts.
        line: usize,
        /// False when it runs outside any transaction (`transaction=false`).
        transactional: bool,
    },
    /// A change of the version table that ends a step.
    VersionChange {
        /// The step it belongs to.
        step: usize,
        /// The change.
        change: VersionChange,
    },
}

/// One step of the plan with what it runs.
#[derive(Debug, Clone)]
pub struct PlannedStep<'m> {
    /// The planner's step (revision, direction, version rows and changes).
    pub step: Step,
    /// The revision whose SQL runs; `None` for a stamp.
    pub revision: Option<&'m Revision>,
    /// Alembic's log line for it: `upgrade a1, b2 -> c3` (`stamp_revision a1 -> b2`).
    pub log: String,
    /// How many statements of the revision it sends.
    pub statements: usize,
    /// The checksum of every statement of the revision in this direction (also those a
    /// resumed step skips), for its history row.
    pub checksum: Option<String>,
    /// The statements' texts, for the checksum of those before a failure.
    pub texts: Vec<String>,
}

impl PlannedStep<'_> {
    /// The line Alembic logs when the step starts: `upgrade a1 -> b2, add a column`.
    pub fn description(&self) -> String {
        match self.revision {
            Some(rev) => format!("{}, {}", self.log, rev.message),
            None => self.log.clone(),
        }
    }
}

/// A whole run, ready to be walked: every statement and boundary in order.
#[derive(Debug, Clone)]
pub struct ExecutionPlan<'m> {
    /// The version table's rows before the run.
    pub start: Vec<String>,
    /// The version table's rows after the run.
    pub end: Vec<String>,
    /// The steps, in order.
    pub steps: Vec<PlannedStep<'m>>,
    /// What is sent, in order.
    pub actions: Vec<Action>,
    /// Whether the whole run is one transaction.
    pub one_transaction: bool,
    /// Whether the dialect runs DDL inside transactions.
    pub transactional_ddl: bool,
    /// The dialect's name (`sqlite`, `postgresql`, `mysql`).
    pub dialect: &'static str,
    /// How often a statement that timed out waiting for a lock is retried.
    pub retries: u32,
    /// The wait before the first retry.
    pub retry_delay: std::time::Duration,
}

/// Alembic's `short_log` of a step: `upgrade a1, b2 -> c3`.
pub(crate) fn step_log(map: &RevisionMap, step: &Step) -> String {
    match &step.revision {
        Some(id) => {
            let versioned = map
                .get(id)
                .map(|r| r.down_revisions.join(", "))
                .unwrap_or_default();
            match step.direction {
                Direction::Up => format!("upgrade {versioned} -> {id}"),
                Direction::Down => format!("downgrade {id} -> {versioned}"),
            }
        }
        None => format!(
            "stamp_revision {} -> {}",
            step.from.join(", "),
            step.to.join(", ")
        ),
    }
}

/// The blocks one direction of `rev` runs on `dialect`, or why it cannot run.
pub fn runnable_blocks<'r>(
    rev: &'r Revision,
    direction: Direction,
    dialect: &str,
) -> Result<Vec<&'r SqlBlock>> {
    let migration = match direction {
        Direction::Up => &rev.upgrade,
        Direction::Down => &rev.downgrade,
    };
    match migration {
        Migration::Sql(_) => Ok(migration.blocks_for(dialect).unwrap_or_default()),
        Migration::Missing => Err(Error::MissingDirection {
            revision: rev.id.clone(),
            direction,
            path: rev.path.clone(),
            python: rev.format == ScriptFormat::Python,
        }),
        Migration::Unrunnable(u) => Err(Error::Unrunnable {
            revision: rev.id.clone(),
            direction,
            path: rev.path.clone(),
            line: u.line,
            column: u.column,
            construct: u.construct.clone(),
        }),
        Migration::NotRead => Err(Error::NotRead {
            revision: rev.id.clone(),
            path: rev.path.clone(),
        }),
    }
}

/// The statements one direction of `rev` sends on `dialect`, in order, or why it cannot run.
pub fn statements_of(
    rev: &Revision,
    direction: Direction,
    dialect: &dyn Dialect,
) -> Result<Vec<crate::split::Statement>> {
    let mut out = Vec::new();
    for block in runnable_blocks(rev, direction, dialect.name())? {
        out.extend(crate::ops::block_statements(rev, block, dialect)?);
    }
    Ok(out)
}

/// Appends actions, keeping track of whether a transaction is open.
struct Builder<'d> {
    actions: Vec<Action>,
    in_tx: bool,
    dialect: &'d dyn Dialect,
    timeouts: Timeouts,
    history: bool,
}

impl Builder<'_> {
    fn begin(&mut self) {
        self.actions.push(Action::Begin);
        self.in_tx = true;
        self.settings(TimeoutScope::Transaction);
    }
    /// The timeout settings that apply at `scope`, when any timeout is asked for.
    fn settings(&mut self, scope: TimeoutScope) {
        if self.timeouts.any() {
            for sql in self.dialect.timeout_statements(&self.timeouts, scope) {
                self.execute(sql, StatementKind::Setting);
            }
        }
    }
    fn commit(&mut self) {
        if self.history {
            self.actions.push(Action::RecordHistory);
        }
        self.actions.push(Action::Commit);
        self.in_tx = false;
    }
    fn execute(&mut self, sql: String, kind: StatementKind) {
        self.actions.push(Action::Execute(Statement { sql, kind }));
    }
}

impl<'m> ExecutionPlan<'m> {
    /// The execution plan of `plan` on `dialect`. Fails, before anything is sent, when a step
    /// passes through a revision `migrate` cannot run there.
    pub fn build(
        map: &'m RevisionMap,
        plan: Plan,
        dialect: &dyn Dialect,
        options: &MigrateOptions,
        setup: Setup,
    ) -> Result<ExecutionPlan<'m>> {
        let table = &options.version_table;
        let transactional = dialect.transactional_ddl();
        let one_transaction = transactional && !options.transaction_per_migration;
        let online = matches!(setup, Setup::Online { .. });
        // Online, every migration runs in a transaction, also where DDL commits itself, so
        // that its data changes and its version change commit together.
        let wraps = transactional || online;

        // Every step's blocks first: a revision that cannot run stops the plan before
        // anything is built, let alone sent.
        // Each block with its statements: SQL text split, an Alembic operation rendered (which
        // may refuse, here, before anything is built).
        let mut blocks_of: Vec<Vec<(&SqlBlock, Vec<crate::split::Statement>)>> =
            Vec::with_capacity(plan.steps.len());
        let mut revisions: Vec<Option<&'m Revision>> = Vec::with_capacity(plan.steps.len());
        for step in &plan.steps {
            match &step.revision {
                Some(id) => {
                    let rev = map.get(id).ok_or_else(|| Error::UnknownRevision {
                        argument: id.clone(),
                        message: "the plan names a revision the map does not hold".into(),
                        suggestions: Vec::new(),
                    })?;
                    let mut blocks = Vec::new();
                    for block in runnable_blocks(rev, step.direction, dialect.name())? {
                        blocks.push((block, crate::ops::block_statements(rev, block, dialect)?));
                    }
                    blocks_of.push(blocks);
                    revisions.push(Some(rev));
                }
                None => {
                    blocks_of.push(Vec::new());
                    revisions.push(None);
                }
            }
        }

        let mut b = Builder {
            actions: Vec::with_capacity(plan.steps.len() * 4 + 4),
            in_tx: false,
            dialect,
            timeouts: options.timeouts(),
            history: matches!(
                setup,
                Setup::Online {
                    history: HistorySetup { enabled: true, .. },
                    ..
                }
            ),
        };
        let (create, purge, create_history, resume) = match &setup {
            Setup::Online {
                table_exists,
                purge,
                history,
                resume,
            } => (
                !table_exists,
                *purge && *table_exists,
                history.enabled && !history.exists,
                resume.clone(),
            ),
            Setup::Offline { stamp } => (
                plan.start.is_empty() && (!plan.steps.is_empty() || *stamp),
                false,
                false,
                None,
            ),
        };
        let nothing_to_do = plan.steps.is_empty() && !create && !purge;
        if !(nothing_to_do && online) {
            b.settings(TimeoutScope::Start);
        }
        if nothing_to_do && online {
            // At head: nothing is sent, not even an empty transaction.
        } else if one_transaction {
            b.begin();
        } else if online && (create || purge || create_history) {
            // The table's creation commits on its own before the first migration.
            b.begin();
        }
        // An offline script with one transaction per migration creates the version table in
        // the first migration's transaction, as Alembic's does.
        let mut create_in_first_step =
            create && !online && transactional && !one_transaction && !plan.steps.is_empty();
        if create && !create_in_first_step {
            b.execute(
                dialect.create_version_table(table),
                StatementKind::CreateVersionTable,
            );
        }
        if create_history {
            b.execute(
                crate::history::create_table_sql(dialect, table),
                StatementKind::CreateHistoryTable,
            );
        }
        if purge {
            b.execute(dialect.purge_versions(table), StatementKind::PurgeVersions);
        }
        if !one_transaction && b.in_tx {
            b.commit();
        }

        let mut steps = Vec::with_capacity(plan.steps.len());
        for (n, (step, blocks)) in plan.steps.iter().zip(blocks_of).enumerate() {
            if !b.in_tx && wraps {
                b.begin();
            }
            if std::mem::take(&mut create_in_first_step) {
                b.execute(
                    dialect.create_version_table(table),
                    StatementKind::CreateVersionTable,
                );
            }
            b.actions.push(Action::StepStart(n));
            let mut index = 0;
            let mut texts = Vec::new();
            // A resumed step skips the statements that ran before its failure.
            let skip_before = match (&resume, &step.revision) {
                (Some((id, from)), Some(rev)) if id == rev && n == 0 => *from,
                _ => 1,
            };
            let mut blocks = blocks.into_iter().peekable();
            // Whether the previous block also ran outside a transaction: consecutive such
            // blocks (the `op.execute` calls of one `autocommit_block()`) run as one stretch,
            // with no empty transaction between them, as Alembic emits them.
            let mut after_outside = false;
            while let Some((block, statements)) = blocks.next() {
                let outside_next = blocks.peek().is_some_and(|(next, _)| !next.transactional);
                if !block.transactional && b.in_tx {
                    // Statements that cannot run in a transaction (CREATE INDEX
                    // CONCURRENTLY): commit what came before, run them on their own, then
                    // open a new transaction.
                    b.commit();
                }
                if !block.transactional && !after_outside {
                    b.settings(TimeoutScope::Outside);
                }
                for stmt in statements {
                    index += 1;
                    texts.push(stmt.text.clone());
                    if index < skip_before {
                        continue;
                    }
                    let kind = StatementKind::Migration {
                        step: n,
                        index,
                        line: block.line + stmt.line_offset,
                        transactional: b.in_tx,
                    };
                    b.execute(stmt.text, kind);
                }
                if !block.transactional && !outside_next {
                    b.settings(TimeoutScope::AfterOutside);
                    if wraps {
                        b.begin();
                    }
                }
                after_outside = !block.transactional;
            }
            for change in &step.changes {
                let sql = match change {
                    VersionChange::Insert(v) => dialect.insert_version(table, v),
                    VersionChange::Update { from, to } => dialect.update_version(table, from, to),
                    VersionChange::Delete(v) => dialect.delete_version(table, v),
                };
                b.execute(
                    sql,
                    StatementKind::VersionChange {
                        step: n,
                        change: change.clone(),
                    },
                );
            }
            b.actions.push(Action::StepEnd(n));
            if !one_transaction && b.in_tx {
                b.commit();
            }
            steps.push(PlannedStep {
                log: step_log(map, step),
                revision: revisions[n],
                statements: index,
                checksum: revisions[n]
                    .map(|_| crate::checksum::checksum(texts.iter().map(String::as_str))),
                texts,
                step: step.clone(),
            });
        }
        if b.in_tx {
            b.commit();
        }
        Ok(ExecutionPlan {
            start: plan.start,
            end: plan.end,
            steps,
            actions: b.actions,
            one_transaction,
            transactional_ddl: transactional,
            dialect: dialect.name(),
            retries: options.ddl_retries,
            retry_delay: options.ddl_retry_delay,
        })
    }

    /// Whether the plan changes the database at all (steps to run, a table to create or
    /// empty).
    pub fn changes_anything(&self) -> bool {
        self.actions.iter().any(|a| {
            matches!(
                a,
                Action::Execute(Statement {
                    kind: StatementKind::CreateVersionTable
                        | StatementKind::PurgeVersions
                        | StatementKind::CreateHistoryTable
                        | StatementKind::Migration { .. }
                        | StatementKind::VersionChange { .. },
                    ..
                })
            )
        })
    }

    /// Refuse, before anything runs, a revision whose id the version column cannot hold
    /// (`max` characters): its SQL would run and its version row then fail.
    pub fn check_revision_ids(&self, max: usize) -> Result<()> {
        for planned in &self.steps {
            for change in &planned.step.changes {
                let id = match change {
                    VersionChange::Insert(id) | VersionChange::Update { to: id, .. } => id,
                    VersionChange::Delete(_) => continue,
                };
                let length = id.chars().count();
                if length > max {
                    let rev = self
                        .steps
                        .iter()
                        .find_map(|s| s.revision.filter(|r| &r.id == id));
                    return Err(Error::RevisionIdTooLong {
                        revision: id.clone(),
                        path: rev.map(|r| r.path.clone()).unwrap_or_default(),
                        length,
                        max,
                    });
                }
            }
        }
        Ok(())
    }

    /// How many migrations (steps that run SQL, not stamps) the plan runs.
    pub fn migrations(&self) -> usize {
        self.steps.iter().filter(|s| s.revision.is_some()).count()
    }
}
