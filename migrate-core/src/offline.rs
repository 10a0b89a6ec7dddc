//! Offline mode (`--sql`): the SQL script of an upgrade, downgrade or stamp, printed instead of
//! run, with the version table's DDL and every version update, in Alembic's layout
//! (`-- Running upgrade a1 -> b2` before each migration).

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::graph::RevisionMap;
use crate::migrator::{check_runnable, runnable_blocks, step_log, MigrateOptions};
use crate::plan::{Plan, VersionChange};

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
    render(map, dialect, &plan, options, false)
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
        return Err(Error::Plan(
            "downgrade with --sql requires <fromrev>:<torev> (for example `head:base`), since no database is read".into(),
        ));
    }
    let rows = start_rows(map, start)?;
    let plan = map.plan_downgrade(&rows, end)?;
    render(map, dialect, &plan, options, false)
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
        return Err(Error::Plan("Can't use --purge with --sql mode".into()));
    }
    let (start, end) = split_range(range);
    let rows = start_rows(map, start)?;
    let targets: Vec<String> = end.split(',').map(str::to_string).collect();
    let plan = map.plan_stamp(&rows, &targets, false)?;
    render(map, dialect, &plan, options, true)
}

fn render(
    map: &RevisionMap,
    dialect: &dyn Dialect,
    plan: &Plan,
    options: &MigrateOptions,
    stamp: bool,
) -> Result<String> {
    check_runnable(map, plan, dialect, false)?;
    let table = &options.version_table;
    let transactional = dialect.transactional_ddl();
    let per_migration = options.transaction_per_migration;
    let mut out = String::new();
    let stmt = |out: &mut String, sql: &str| {
        out.push_str(sql.trim_end());
        out.push_str(";\n\n");
    };
    let begin = dialect.begin_statement();
    let commit = dialect.commit_statement();
    let mut in_tx = false;
    if transactional && !per_migration {
        stmt(&mut out, begin);
        in_tx = true;
    }
    if plan.start.is_empty() && (!plan.steps.is_empty() || stamp) {
        stmt(&mut out, &dialect.create_version_table(table));
    }
    for step in &plan.steps {
        if transactional && per_migration {
            stmt(&mut out, begin);
            in_tx = true;
        }
        out.push_str(&format!("-- Running {}\n\n", step_log(map, step)));
        if let Some(id) = &step.revision {
            if let Some(rev) = map.get(id) {
                for block in runnable_blocks(rev, step.direction, dialect.name())? {
                    if !block.transactional && in_tx {
                        stmt(&mut out, commit);
                        in_tx = false;
                    }
                    for s in crate::ops::block_statements(rev, block, dialect)? {
                        stmt(&mut out, &s.text);
                    }
                    if !block.transactional && transactional {
                        stmt(&mut out, begin);
                        in_tx = true;
                    }
                }
            }
        }
        for change in &step.changes {
            let sql = match change {
                VersionChange::Insert(v) => dialect.insert_version(table, v),
                VersionChange::Update { from, to } => dialect.update_version(table, from, to),
                VersionChange::Delete(v) => dialect.delete_version(table, v),
            };
            stmt(&mut out, &sql);
        }
        if transactional && per_migration && in_tx {
            stmt(&mut out, commit);
            in_tx = false;
        }
    }
    if in_tx {
        stmt(&mut out, commit);
    }
    Ok(out)
}
