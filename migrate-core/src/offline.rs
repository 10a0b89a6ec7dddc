//! Offline mode (`--sql`): the SQL script of an upgrade, downgrade or stamp, printed instead of
//! run, with the version table's DDL and every version update, in Alembic's layout
//! (`-- Running upgrade a1 -> b2` before each migration).

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::execution::{Action, ExecutionPlan, Setup};
use crate::graph::RevisionMap;
use crate::migrator::MigrateOptions;
use crate::plan::Plan;
use crate::resolve::check_target;

/// Split `start:end`; a missing start is `None`.
fn split_range(range: &str) -> (Option<&str>, &str) {
    match range.split_once(':') {
        Some((s, e)) => (Some(s).filter(|s| !s.is_empty()), e),
        None => (None, range),
    }
}

/// The version rows an offline range starts from: `base` (or nothing) is an empty table, an
/// identifier is resolved to full revision ids.
fn start_rows(map: &RevisionMap, start: Option<&str>) -> Result<Vec<String>> {
    match start {
        None | Some("base") => Ok(Vec::new()),
        Some(s) => {
            let mut rows = Vec::new();
            for part in s.split(',') {
                check_target(part, "range start")?;
                for rev in map.resolve(part)? {
                    rows.push(rev.id.clone());
                }
            }
            Ok(rows)
        }
    }
}

/// The script of `upgrade RANGE --sql` (`head`, `base:head`, `ae10:+2`).
pub fn upgrade_sql(
    map: &RevisionMap,
    dialect: &dyn Dialect,
    range: &str,
    options: &MigrateOptions,
) -> Result<String> {
    let (start, end) = split_range(range);
    let rows = start_rows(map, start)?;
    let plan = map.plan_upgrade(&rows, end)?;
    render(map, dialect, plan, options, false)
}

/// The script of `downgrade FROM:TO --sql`; the starting revision must be given, since no
/// database is read.
pub fn downgrade_sql(
    map: &RevisionMap,
    dialect: &dyn Dialect,
    range: &str,
    options: &MigrateOptions,
) -> Result<String> {
    let (start, end) = split_range(range);
    if start.is_none() || !range.contains(':') {
        return Err(Error::Usage(
            "downgrade with --sql requires <fromrev>:<torev> (for example `head:base`), since no database is read".into(),
        ));
    }
    let rows = start_rows(map, start)?;
    let plan = map.plan_downgrade(&rows, end)?;
    render(map, dialect, plan, options, false)
}

/// The script of `stamp [FROM:]TO --sql`.
pub fn stamp_sql(
    map: &RevisionMap,
    dialect: &dyn Dialect,
    range: &str,
    purge: bool,
    options: &MigrateOptions,
) -> Result<String> {
    if purge {
        return Err(Error::Usage("Can't use --purge with --sql mode".into()));
    }
    let (start, end) = split_range(range);
    let rows = start_rows(map, start)?;
    let targets: Vec<String> = end.split(',').map(str::to_string).collect();
    let plan = map.plan_stamp(&rows, &targets, false)?;
    render(map, dialect, plan, options, true)
}

/// Prints the execution plan of `plan` as a script, in Alembic's layout.
fn render(
    map: &RevisionMap,
    dialect: &dyn Dialect,
    plan: Plan,
    options: &MigrateOptions,
    stamp: bool,
) -> Result<String> {
    let plan = ExecutionPlan::build(map, plan, dialect, options, Setup::Offline { stamp })?;
    plan.check_revision_ids(crate::dialect::VERSION_NUM_LENGTH)?;
    let mut out = String::new();
    for action in &plan.actions {
        match action {
            Action::Begin => statement(&mut out, dialect, dialect.begin_statement()),
            Action::Commit => statement(&mut out, dialect, dialect.commit_statement()),
            Action::StepStart(n) => {
                out.push_str("-- Running ");
                out.push_str(&plan.steps[*n].log);
                out.push_str("\n\n");
            }
            Action::Execute(s) => statement(&mut out, dialect, &s.sql),
            Action::StepEnd(_) | Action::RecordHistory => {}
        }
    }
    Ok(out)
}

/// One statement of a script, as the dialect's own client reads it.
fn statement(out: &mut String, dialect: &dyn Dialect, sql: &str) {
    out.push_str(&dialect.script_statement(sql.trim_end()));
    out.push_str("\n\n");
}
