//! `migrate lint`: which revisions, for which database, with which levels; the core's rules
//! do the rest, and the findings are printed in the compiler style or as one JSON document.

use std::collections::HashSet;

use migrate_core::lint::{self, Finding, LintOptions, LintReport, Target};
use migrate_core::migrator::read_current;
use migrate_core::{Contents, Revision, RevisionMap, ScriptFormat};

use super::Context;
use crate::backend;
use crate::cli::LintArgs;
use crate::error::CliError;
use crate::render::Output;
use crate::url::{Backend, DatabaseUrl};

/// The JSON fields of `lint`.
#[derive(serde::Serialize)]
struct Linted<'r> {
    revisions: usize,
    statements: usize,
    findings: &'r [Finding],
}

/// Runs `migrate lint`.
pub async fn lint(ctx: &Context, args: &LintArgs) -> Result<Output, CliError> {
    let (options, dialect) = options(ctx)?;
    let (map, rows) = if args.pending {
        let (map, rows) = ctx
            .map_alongside(Contents::Full, async {
                let (_, mut exec) = ctx.connect().await?;
                Ok(read_current(exec.as_mut(), &ctx.options().version_table).await?)
            })
            .await?;
        (map, Some(rows))
    } else {
        (ctx.map(Contents::Full)?, None)
    };
    let revisions = select(map, &args.revisions, rows.as_deref())?;
    let comments = py_comments(&revisions)?;
    let report = lint::lint(map, &revisions, &comments, &options, dialect.as_ref());
    let errors = report
        .findings
        .iter()
        .filter(|f| f.level == lint::Level::Error)
        .count();
    let failure = (errors > 0).then(|| CliError::Findings {
        code: "lint_failed",
        message: format!(
            "lint found {errors} error{} in {} revision{} (listed {})",
            plural(errors),
            report.revisions,
            plural(report.revisions),
            ctx.listed_where()
        ),
    });
    let (text, summary) = text(&report);
    Ok(Output::new(
        text,
        &Linted {
            revisions: report.revisions,
            statements: report.statements,
            findings: &report.findings,
        },
    )?
    .with_note(summary)
    .failing(failure))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The target database (`[lint] dialect`, else the configured URL's, else PostgreSQL) and
/// the levels, versions and transaction mode from the settings, with the target's dialect
/// (which renders `.py` revisions' operations).
fn options(ctx: &Context) -> Result<(LintOptions, Box<dyn migrate_core::Dialect>), CliError> {
    let lint = &ctx.settings.lint;
    let backend = match lint.dialect {
        Some(Target::Sqlite) => Backend::Sqlite,
        Some(Target::Mysql) => Backend::Mysql,
        Some(_) => Backend::Postgres,
        None => match &ctx.settings.url {
            Some(configured) => DatabaseUrl::parse(&configured.url)
                .map(|u| u.backend())
                .unwrap_or(Backend::Postgres),
            None => Backend::Postgres,
        },
    };
    let dialect = backend::dialect(backend)?;
    let mut options = LintOptions::for_dialect(dialect.as_ref()).ok_or_else(|| {
        CliError::config(format!(
            "lint has no rules for the {} dialect",
            dialect.name()
        ))
    })?;
    options.levels = lint.levels.clone();
    options.server_version = lint.version(options.target);
    options.transaction_per_migration = ctx.settings.transaction_per_migration;
    // With ddl_lock_timeout / statement_timeout set, migrate sets them before every migration.
    options.sets_lock_timeout = ctx.settings.ddl_lock_timeout.is_some();
    options.sets_statement_timeout = ctx.settings.statement_timeout.is_some();
    Ok((options, dialect))
}

/// The revisions to lint, oldest first: those named (and only those), those the database
/// lacks (`rows` = its version table), or all.
fn select<'m>(
    map: &'m RevisionMap,
    named: &[String],
    rows: Option<&[String]>,
) -> Result<Vec<&'m Revision>, CliError> {
    let mut all = map.walk_all()?;
    all.reverse();
    if let Some(rows) = rows {
        let plan = map.plan_upgrade(rows, "heads")?;
        let pending: HashSet<&str> = plan
            .steps
            .iter()
            .filter_map(|s| s.revision.as_deref())
            .collect();
        return Ok(all
            .into_iter()
            .filter(|r| pending.contains(r.id.as_str()))
            .collect());
    }
    if named.is_empty() {
        return Ok(all);
    }
    let mut wanted = HashSet::new();
    for ident in named {
        for rev in map.resolve(ident)? {
            wanted.insert(rev.id.as_str());
        }
    }
    Ok(all
        .into_iter()
        .filter(|r| wanted.contains(r.id.as_str()))
        .collect())
}

/// The `# migrate:lint-ignore` comments of the `.py` revisions (a `.sql` file keeps its
/// comments in its sections).
fn py_comments(revisions: &[&Revision]) -> Result<Vec<(String, Vec<lint::Comment>)>, CliError> {
    let mut out = Vec::new();
    for rev in revisions
        .iter()
        .filter(|r| r.format == ScriptFormat::Python)
    {
        let text = std::fs::read_to_string(&rev.path)
            .map_err(|e| CliError::io(format!("cannot read {}", rev.path.display()), e))?;
        let found = lint::comments(rev, &text);
        if !found.is_empty() {
            out.push((rev.id.clone(), found));
        }
    }
    Ok(out)
}

/// Compiler-style lines for stdout (written at once: 10,000 revisions can have 50,000
/// findings), and the summary for stderr.
fn text(report: &LintReport) -> (String, String) {
    use std::fmt::Write;
    let mut text = String::with_capacity(report.findings.len() * 200);
    for f in &report.findings {
        let direction = match f.direction {
            Some(lint::Section::Upgrade) => " (upgrade)",
            Some(lint::Section::Downgrade) => " (downgrade)",
            _ => "",
        };
        let _ = writeln!(
            text,
            "{}:{}: {}[{}]: {}{direction}\n  = help: {}",
            f.file.display(),
            f.line,
            f.level.name(),
            f.rule,
            f.message,
            f.help
        );
    }
    let warnings = report
        .findings
        .iter()
        .filter(|f| f.level == lint::Level::Warn)
        .count();
    let errors = report.findings.len() - warnings;
    let summary = format!(
        "{} revision{}, {} statement{}: {errors} error{}, {warnings} warning{}",
        report.revisions,
        plural(report.revisions),
        report.statements,
        plural(report.statements),
        plural(errors),
        plural(warnings)
    );
    (text, summary)
}
