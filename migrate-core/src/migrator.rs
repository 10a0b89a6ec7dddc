//! Running a plan against a database through an [`Executor`].
//!
//! The migrator takes the migration lock, reads the version table, plans, refuses a plan that
//! passes through a revision it cannot run, then runs each step's statements and version-table
//! changes, and releases the lock. Transactions follow the dialect: on SQLite and PostgreSQL
//! the SQL of a migration and its version-table change commit together (one transaction for the
//! whole run, or one per migration with [`MigrateOptions::transaction_per_migration`]); on
//! MySQL, where DDL commits implicitly, the version table is updated right after each migration
//! and a failure says exactly which statement failed and what was left behind.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::dialect::{Dialect, VersionTable};
use crate::error::{Error, Result};
use crate::executor::Executor;
use crate::graph::RevisionMap;
use crate::plan::{Direction, Plan, Step, VersionChange};
use crate::revision::{Migration, Revision, SqlBlock};

/// What a run did before it ended: the steps committed, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Steps whose SQL and version change were committed, in the order they ran.
    pub applied: Vec<AppliedStep>,
    /// The version table's rows when the run ended (as committed).
    pub heads: Vec<String>,
}

/// One committed step of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedStep {
    /// The revision id (for a stamp, the rows it moved to, comma-separated).
    pub revision: String,
    /// True for an upgrade, false for a downgrade.
    pub upgrade: bool,
    /// How long the step took.
    pub elapsed: Duration,
}

/// How the migrator runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrateOptions {
    /// Name and schema of the version table.
    pub version_table: VersionTable,
    /// Commit after every migration instead of once for the whole run.
    pub transaction_per_migration: bool,
    /// How long to wait for the migration lock another run holds.
    pub lock_timeout: Duration,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        MigrateOptions {
            version_table: VersionTable::default(),
            transaction_per_migration: false,
            lock_timeout: Duration::from_secs(60),
        }
    }
}

/// Progress of a run, for the CLI to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
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

/// Alembic's `short_log` of a step: `upgrade a1, b2 -> c3`.
pub(crate) fn step_log(map: &RevisionMap, step: &Step) -> String {
    match &step.revision {
        Some(id) => {
            let rev = map.get(id);
            let versioned = rev.map(|r| r.down_revisions.join(", ")).unwrap_or_default();
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

/// The blocks a step runs on `dialect`, or the reason it cannot run.
pub(crate) fn runnable_blocks<'r>(
    rev: &'r Revision,
    direction: Direction,
    dialect: &str,
) -> Result<Vec<&'r SqlBlock>> {
    let (migration, name) = match direction {
        Direction::Up => (&rev.upgrade, "upgrade"),
        Direction::Down => (&rev.downgrade, "downgrade"),
    };
    match migration {
        Migration::Sql(_) => Ok(migration.blocks_for(dialect).unwrap_or_default()),
        Migration::Missing => Err(Error::Plan(format!(
            "{}: revision {} has no {name}; `migrate` cannot run its {name}. Add a {} to the file, or `migrate stamp` past it if the database already is in the wanted state",
            rev.path.display(),
            rev.id,
            match rev.format {
                crate::revision::ScriptFormat::Python => format!("`def {name}():`"),
                crate::revision::ScriptFormat::Sql => format!("`-- migrate:{name}` section"),
            }
        ))),
        Migration::Unrunnable(u) => Err(Error::Plan(format!(
            "{}:{}:{}: revision {} cannot be run by migrate: its {name}() uses {}, which is not SQL `migrate` can compute. Apply this step with Alembic, or, when the database already has it, `migrate stamp` past it",
            rev.path.display(),
            u.line,
            u.column,
            rev.id,
            u.construct
        ))),
        Migration::NotRead => Err(Error::Plan(format!(
            "{}: revision {} was read for its header only, without its SQL; read the folder with `ScriptDirectory::load` (or `Contents::Full`) to run it",
            rev.path.display(),
            rev.id
        ))),
    }
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
/// assert!(why.contains("has no downgrade"));
/// ```
pub fn unrunnable_reason(rev: &Revision, direction: Direction) -> Option<String> {
    runnable_blocks(rev, direction, "")
        .err()
        .map(|e| e.to_string())
}

/// The rows of the version table `table` (empty when it does not exist yet), as
/// [`Migrator::current`] reads them; needs no [`RevisionMap`], so it can run while the revision
/// files are still being read. Changes nothing.
pub async fn read_current(exec: &mut dyn Executor, table: &VersionTable) -> Result<Vec<String>> {
    Ok(exec.read_versions(table).await?.unwrap_or_default())
}

/// Refuse a plan that passes through a revision `migrate` cannot run on `dialect` before
/// anything runs; with `operations`, an Alembic operation without DDL there too (rendering
/// each once: the offline script, built whole before it is printed, leaves that to its own
/// rendering).
pub(crate) fn check_runnable(
    map: &RevisionMap,
    plan: &Plan,
    dialect: &dyn Dialect,
    operations: bool,
) -> Result<()> {
    for step in &plan.steps {
        if let Some(id) = &step.revision {
            if let Some(rev) = map.get(id) {
                for block in runnable_blocks(rev, step.direction, dialect.name())? {
                    if operations && block.operation.is_some() {
                        crate::ops::block_statements(rev, block, dialect)?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn first_line(s: &str) -> &str {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
}

/// Where a failed statement is: `versions/x.sql:12`.
fn location(path: &Path, line: usize) -> String {
    format!("{}:{}", path.display(), line)
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

    async fn run(
        &self,
        exec: &mut dyn Executor,
        command: Command<'_>,
        events: &mut EventSink<'_>,
    ) -> Result<Report> {
        let table = self.options.version_table.clone();
        exec.lock(&table, self.options.lock_timeout).await?;
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
        let existing = exec.read_versions(table).await?;
        let rows = existing.clone().unwrap_or_default();
        let (plan, purge) = match command {
            Command::Upgrade(t) => (self.map.plan_upgrade(&rows, t)?, false),
            Command::Downgrade(t) => (self.map.plan_downgrade(&rows, t)?, false),
            Command::Stamp(t, purge) => (self.map.plan_stamp(&rows, t, purge)?, purge),
        };
        check_runnable(self.map, &plan, exec.dialect(), true)?;
        events(&Event::Planned {
            migrations: plan.steps.iter().filter(|s| s.revision.is_some()).count(),
        });

        let transactional = exec.dialect().transactional_ddl();
        let whole_run = transactional && !self.options.transaction_per_migration;
        let mut state = RunState {
            committed_heads: rows.clone(),
            heads: rows,
            applied: Vec::new(),
            pending: Vec::new(),
            in_tx: false,
        };

        let setup = async {
            exec.begin().await?;
            if existing.is_none() {
                exec.execute(&exec.dialect().create_version_table(table))
                    .await?;
            }
            if purge && existing.is_some() {
                exec.execute(&exec.dialect().purge_versions(table)).await?;
            }
            Ok::<(), crate::executor::DatabaseError>(())
        };
        if let Err(e) = setup.await {
            let _ = exec.rollback().await;
            return Err(Error::Backend(e));
        }
        state.in_tx = true;
        if purge {
            state.heads.clear();
        }
        if !whole_run {
            exec.commit().await?;
            state.in_tx = false;
            state.committed_heads = state.heads.clone();
        }

        for step in &plan.steps {
            if let Err(err) = self
                .run_step(exec, step, &mut state, whole_run, events)
                .await
            {
                if state.in_tx {
                    let _ = exec.rollback().await;
                }
                return Err(err);
            }
        }
        if state.in_tx {
            exec.commit().await?;
            state.commit();
        }
        Ok(Report {
            applied: state.applied,
            heads: state.committed_heads,
        })
    }

    async fn run_step(
        &self,
        exec: &mut dyn Executor,
        step: &Step,
        state: &mut RunState,
        whole_run: bool,
        events: &mut EventSink<'_>,
    ) -> Result<()> {
        let started = Instant::now();
        if !state.in_tx {
            exec.begin().await?;
            state.in_tx = true;
        }
        let upgrade = step.direction == Direction::Up;
        if let Some(id) = &step.revision {
            let rev = self
                .map
                .get(id)
                .ok_or_else(|| Error::Plan(format!("revision {id} vanished from the map")))?;
            events(&Event::MigrationStarted {
                revision: id.clone(),
                upgrade,
                description: format!("{}, {}", step_log(self.map, step), rev.message),
            });
            let blocks = runnable_blocks(rev, step.direction, exec.dialect().name())?;
            let mut index = 0;
            for block in blocks {
                if !block.transactional && state.in_tx {
                    // Statements that cannot run in a transaction (CREATE INDEX CONCURRENTLY):
                    // commit what came before, run them on their own, then open a new one.
                    exec.commit().await?;
                    state.in_tx = false;
                    state.commit();
                }
                for stmt in crate::ops::block_statements(rev, block, exec.dialect())? {
                    index += 1;
                    let t = Instant::now();
                    if let Err(e) = exec.execute(&stmt.text).await {
                        let line = block.line + stmt.line_offset;
                        return Err(self.statement_failure(
                            exec.dialect(),
                            rev,
                            step,
                            index,
                            &location(&rev.path, line),
                            &stmt.text,
                            &e.message,
                            state,
                            whole_run,
                        ));
                    }
                    events(&Event::StatementDone {
                        revision: id.clone(),
                        index,
                        elapsed: t.elapsed(),
                    });
                }
                if !block.transactional {
                    exec.begin().await?;
                    state.in_tx = true;
                }
            }
        } else {
            events(&Event::Stamped {
                from: step.from.clone(),
                to: step.to.clone(),
            });
        }
        let table = &self.options.version_table;
        // When each migration commits on its own, its last version change and the commit go
        // together (one round trip where the backend can).
        for (i, change) in step.changes.iter().enumerate() {
            let sql = match change {
                VersionChange::Insert(v) => exec.dialect().insert_version(table, v),
                VersionChange::Update { from, to } => {
                    exec.dialect().update_version(table, from, to)
                }
                VersionChange::Delete(v) => exec.dialect().delete_version(table, v),
            };
            if !whole_run && i + 1 == step.changes.len() {
                exec.execute_and_commit(&sql).await?;
            } else {
                exec.execute(&sql).await?;
            }
            apply_change(&mut state.heads, change);
        }
        let elapsed = started.elapsed();
        let name = step.revision.clone().unwrap_or_else(|| step.to.join(", "));
        state.pending.push(AppliedStep {
            revision: name.clone(),
            upgrade,
            elapsed,
        });
        if step.revision.is_some() {
            events(&Event::MigrationFinished {
                revision: name,
                upgrade,
                elapsed,
            });
        }
        if !whole_run {
            if step.changes.is_empty() {
                exec.commit().await?;
            }
            state.in_tx = false;
            state.commit();
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn statement_failure(
        &self,
        dialect: &dyn Dialect,
        rev: &Revision,
        step: &Step,
        index: usize,
        location: &str,
        statement: &str,
        server: &str,
        state: &RunState,
        whole_run: bool,
    ) -> Error {
        let direction = match step.direction {
            Direction::Up => "upgrade",
            Direction::Down => "downgrade",
        };
        let heads = if state.committed_heads.is_empty() {
            "empty".to_string()
        } else {
            state.committed_heads.join(", ")
        };
        let done: Vec<&str> = state.applied.iter().map(|a| a.revision.as_str()).collect();
        let left = if dialect.transactional_ddl() {
            if whole_run && done.is_empty() {
                format!("The transaction was rolled back: nothing was applied and the version table is unchanged ({heads}).")
            } else {
                format!(
                    "This migration was rolled back; {} committed before it; the version table is at {heads}.",
                    if done.is_empty() {
                        "no migration was".to_string()
                    } else {
                        format!("{} ({})", plural(done.len()), done.join(", "))
                    }
                )
            }
        } else {
            format!(
                "{} commits DDL implicitly: statements 1 to {} of this migration may have been applied and are not undone; the version table still names the last completed migration ({heads}). Undo or finish those statements by hand, fix the revision, then run the command again.",
                dialect.name(),
                index.saturating_sub(1)
            )
        };
        Error::Database {
            message: format!(
                "{location}: statement {index} of revision {} ({direction}) failed: {server}\n    {}\n{left}",
                rev.id,
                first_line(statement)
            ),
            report: Box::new(Report {
                applied: state.applied.clone(),
                heads: state.committed_heads.clone(),
            }),
        }
    }
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 migration was".to_string()
    } else {
        format!("{n} migrations were")
    }
}

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
        self.committed_heads = self.heads.clone();
        self.applied.append(&mut self.pending);
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
