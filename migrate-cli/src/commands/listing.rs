//! `current`, `heads`, `branches`, `history`, `show` and `check`: the core orders and decides,
//! [`crate::output`] formats Alembic's lines, and each returns its revisions as data too.

use migrate_core::history::HistoryRow;
use migrate_core::migrator::read_current;
use migrate_core::{Contents, Revision, RevisionMap};

use super::Context;
use crate::error::CliError;
use crate::output::{self, Entry};
use crate::render::Output;

/// The listing view of `rev`; `current` marks it `(current)` (`history -i`).
fn entry<'a>(map: &'a RevisionMap, rev: &'a Revision, current: bool) -> Entry<'a> {
    Entry {
        id: &rev.id,
        down_revisions: &rev.down_revisions,
        depends_on: &rev.depends_on,
        // A label Python computes is shown as its expression (`cli.EXPAND_BRANCH`), after
        // the labels written as strings.
        branch_labels: map
            .branch_labels(&rev.id)
            .into_iter()
            .chain(map.computed_branch_labels(&rev.id))
            .collect(),
        longdoc: if rev.doc.trim().is_empty() {
            &rev.message
        } else {
            &rev.doc
        },
        path: &rev.path,
        children: map
            .children(&rev.id)
            .iter()
            .map(|c| c.id.as_str())
            .collect(),
        has_dependents: !map.dependents(&rev.id).is_empty(),
        current,
    }
}

/// One revision as `--format json` shows it.
#[derive(Debug, serde::Serialize)]
pub struct RevisionView {
    /// The revision id.
    pub id: String,
    /// `down_revision`: its parents (none for a base, several for a merge).
    pub parents: Vec<String>,
    /// `depends_on`, as declared.
    pub depends_on: Vec<String>,
    /// Its branch labels, own and inherited.
    pub branch_labels: Vec<String>,
    /// Its branch labels that Python computes, own and inherited, as written
    /// (`cli.EXPAND_BRANCH`); left out when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub computed_branch_labels: Vec<String>,
    /// The first line of its docstring or header.
    pub message: String,
    /// Its file.
    pub path: std::path::PathBuf,
    /// Its children through `down_revision`.
    pub children: Vec<String>,
    /// No child (a head).
    pub is_head: bool,
    /// No parent (a base).
    pub is_base: bool,
    /// Several children.
    pub is_branch_point: bool,
    /// Several parents.
    pub is_merge_point: bool,
    /// The database is at it (`current`, `history -i`, `show current`).
    pub current: bool,
}

fn owned(labels: Vec<&str>) -> Vec<String> {
    labels.into_iter().map(str::to_string).collect()
}

fn view(map: &RevisionMap, rev: &Revision, current: bool) -> RevisionView {
    let e = entry(map, rev, current);
    RevisionView {
        id: rev.id.clone(),
        parents: rev.down_revisions.clone(),
        depends_on: rev.depends_on.clone(),
        branch_labels: owned(map.branch_labels(&rev.id)),
        computed_branch_labels: owned(map.computed_branch_labels(&rev.id)),
        message: rev.message.clone(),
        path: rev.path.clone(),
        children: e.children.iter().map(|c| c.to_string()).collect(),
        is_head: e.is_head(),
        is_base: rev.down_revisions.is_empty(),
        is_branch_point: e.is_branch_point(),
        is_merge_point: e.is_merge_point(),
        current,
    }
}

/// The listing's revisions for `--format json`.
#[derive(serde::Serialize)]
struct Revisions {
    revisions: Vec<RevisionView>,
}

/// The redacted URL and the version table's rows.
async fn current_rows(ctx: &Context) -> Result<(String, Vec<String>), CliError> {
    let (url, mut exec) = ctx.connect().await?;
    let rows = read_current(exec.as_mut(), &ctx.options().version_table).await?;
    Ok((url.redacted(), rows))
}

/// The revisions' headers, and the version table's rows when `needs_database` (read at the
/// same time); no rows otherwise.
async fn headers_and_rows(
    ctx: &Context,
    needs_database: bool,
) -> Result<(&'static RevisionMap, Vec<String>), CliError> {
    if !needs_database {
        return Ok((ctx.map(Contents::Header)?, Vec::new()));
    }
    let (map, (_, rows)) = ctx
        .map_alongside(Contents::Header, current_rows(ctx))
        .await?;
    Ok((map, rows))
}

/// `current [-v]`.
pub async fn current(ctx: &Context, verbose: bool) -> Result<Output, CliError> {
    let (map, (url, rows)) = ctx
        .map_alongside(Contents::Header, current_rows(ctx))
        .await?;
    let mut text = String::new();
    if verbose {
        text.push_str(&output::current_header(&url));
        text.push('\n');
    }
    let revisions = map.current_heads(&rows)?;
    for rev in &revisions {
        text.push_str(&output::current_item(&entry(map, rev, false), verbose));
        text.push('\n');
    }
    #[derive(serde::Serialize)]
    struct Current {
        database: String,
        version_rows: Vec<String>,
        revisions: Vec<RevisionView>,
    }
    Output::new(
        text,
        &Current {
            database: url,
            version_rows: rows,
            revisions: revisions.iter().map(|r| view(map, r, true)).collect(),
        },
    )
}

/// `heads [-v] [--resolve-dependencies]`.
pub fn heads(ctx: &Context, verbose: bool, resolve_dependencies: bool) -> Result<Output, CliError> {
    let map = ctx.map(Contents::Header)?;
    let heads = if resolve_dependencies {
        map.resolve("heads")?
    } else {
        map.heads()
    };
    let mut text = String::new();
    for rev in &heads {
        text.push_str(&output::heads_item(&entry(map, rev, false), verbose));
        text.push('\n');
    }
    Output::new(
        text,
        &Revisions {
            revisions: heads.iter().map(|r| view(map, r, false)).collect(),
        },
    )
}

/// `branches [-v]`.
pub fn branches(ctx: &Context, verbose: bool) -> Result<Output, CliError> {
    let map = ctx.map(Contents::Header)?;
    let mut text = String::new();
    let mut points = Vec::new();
    for rev in map.walk_all()? {
        if !map.is_branch_point(&rev.id) {
            continue;
        }
        let point = entry(map, rev, false);
        let children: Vec<&Revision> = map.children(&rev.id);
        let child_entries: Vec<Entry> = children.iter().map(|c| entry(map, c, false)).collect();
        text.push_str(&output::branches_item(&point, &child_entries, verbose));
        text.push('\n');
        points.push(view(map, rev, false));
    }
    Output::new(text, &Revisions { revisions: points })
}

/// `history [-r RANGE] [-v] [-i]`.
pub async fn history(
    ctx: &Context,
    range: Option<&str>,
    verbose: bool,
    indicate_current: bool,
) -> Result<Output, CliError> {
    if let Some(r) = range {
        if !r.contains(':') {
            return Err(CliError::Usage(
                "History range requires [start]:[end], [start]:, or :[end]".to_string(),
            ));
        }
    }
    let needs_database =
        indicate_current || range.is_some_and(|r| r.split(':').any(|end| end.trim() == "current"));
    let (map, rows) = headers_and_rows(ctx, needs_database).await?;
    // One buffer for the whole listing: a write per line costs more than the rest of
    // `history` on a long one.
    let mut text = String::new();
    let listed = map.history(range, &rows)?;
    let mut revisions = Vec::with_capacity(listed.len());
    for rev in listed {
        let current = indicate_current && rows.contains(&rev.id);
        output::push_history_item(&mut text, &entry(map, rev, current), verbose);
        text.push('\n');
        revisions.push(view(map, rev, current));
    }
    Output::new(text, &Revisions { revisions })
}

/// `history --applied`: the history table's rows, oldest first.
pub async fn applied(ctx: &Context) -> Result<Output, CliError> {
    let (map, (_, mut exec)) = ctx.map_alongside(Contents::Header, ctx.connect()).await?;
    let migrator = migrate_core::Migrator::new(map, ctx.options());
    let rows = migrator.history_rows(exec.as_mut()).await?;
    let mut text = String::new();
    for row in &rows {
        text.push_str(&history_row_line(row));
        text.push('\n');
    }
    #[derive(serde::Serialize)]
    struct Applied<'r> {
        rows: &'r [HistoryRow],
    }
    Output::new(text, &Applied { rows: &rows })
}

/// `2026-12-01T21:59:00.123456Z upgrade a1 -> b2 applied (12.3 ms, checksum 1a2b3c4d5e6f) by
/// user@host with migrate 0.1.0`.
pub fn history_row_line(row: &HistoryRow) -> String {
    let moved = format!(
        "{} -> {}",
        if row.from_versions.is_empty() {
            "<base>".to_string()
        } else {
            row.from_versions.join(", ")
        },
        if row.to_versions.is_empty() {
            "<base>".to_string()
        } else {
            row.to_versions.join(", ")
        }
    );
    let mut details = Vec::new();
    if let Some(ms) = row.duration_ms {
        details.push(format!("{ms} ms"));
    }
    if let Some(sum) = &row.checksum {
        details.push(format!("checksum {}", &sum[..12.min(sum.len())]));
    }
    if let Some(i) = row.statement_index {
        details.push(format!("at statement {i}"));
    }
    let mut line = format!(
        "{} {} {} {} {}",
        row.finished_at,
        row.direction,
        // A stamp to base names no revision.
        if row.revision.is_empty() {
            "<base>"
        } else {
            &row.revision
        },
        moved,
        row.outcome.as_str()
    );
    if !details.is_empty() {
        line.push_str(&format!(" ({})", details.join(", ")));
    }
    line.push_str(&format!(
        " by {}@{} with {}",
        row.os_user, row.host, row.tool_version
    ));
    if let Some(error) = &row.error {
        line.push_str(&format!(": {error}"));
    }
    line
}

/// `show REV` (`show current` reads the database).
pub async fn show(ctx: &Context, ident: &str) -> Result<Output, CliError> {
    let (map, rows) = headers_and_rows(ctx, ident == "current").await?;
    let revisions: Vec<&Revision> = if ident == "current" {
        let mut out = Vec::new();
        for row in &rows {
            out.extend(map.resolve(row)?);
        }
        out
    } else {
        map.resolve(ident)?
    };
    let mut text = String::new();
    for rev in &revisions {
        text.push_str(&output::show_item(&entry(map, rev, false)));
        text.push('\n');
    }
    Output::new(
        text,
        &Revisions {
            revisions: revisions
                .iter()
                .map(|r| view(map, r, ident == "current"))
                .collect(),
        },
    )
}

/// `check [--offline] [--single-head]`: one line per revision, newest first (`ok`, or why a
/// direction cannot be run), then, with a database, what holding its history against the
/// files finds.
pub async fn check(ctx: &Context, offline: bool, single_head: bool) -> Result<Output, CliError> {
    let use_database = !offline && ctx.settings.url.is_some();
    let (map, findings) = if use_database {
        let (map, (_, mut exec)) = ctx.map_alongside(Contents::Full, ctx.connect()).await?;
        let migrator = migrate_core::Migrator::new(map, ctx.options());
        (map, migrator.check(exec.as_mut()).await?)
    } else {
        (ctx.map(Contents::Full)?, Vec::new())
    };
    let report = migrate_core::check::check(map, &findings, single_head)?;
    let mut text = String::new();
    for line in report.lines() {
        text.push_str(&line);
        text.push('\n');
    }
    let failure = report.failure().map(|message| CliError::Findings {
        code: "check_failed",
        message,
    });
    #[derive(serde::Serialize)]
    struct Checked<'r> {
        ok: bool,
        database_checked: bool,
        #[serde(flatten)]
        report: &'r migrate_core::check::CheckReport,
    }
    Ok(Output::new(
        text,
        &Checked {
            ok: failure.is_none(),
            database_checked: use_database,
            report: &report,
        },
    )?
    .failing(failure))
}

#[cfg(test)]
mod tests {
    //! The graph of output.rs's tests, built as a real `RevisionMap`, listed through the same
    //! adapter the commands use. Expected lines from Alembic 1.20.1 (oracle.py, `history`,
    //! `heads`, `branches` on the same graph as `.py` files).
    use super::*;
    use migrate_core::{Migration, ScriptFormat};

    fn rev(id: &str, down: &[&str], labels: &[&str], deps: &[&str], message: &str) -> Revision {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Revision {
            id: id.into(),
            down_revisions: strings(down),
            branch_labels: strings(labels),
            computed_branch_labels: vec![],
            depends_on: strings(deps),
            message: message.into(),
            doc: format!("{message}\n\nRevision ID: {id}"),
            path: format!("versions/{id}_x.py").into(),
            format: ScriptFormat::Python,
            upgrade: Migration::Sql(vec![]),
            downgrade: Migration::Sql(vec![]),
        }
    }

    fn map() -> RevisionMap {
        let (a, b, c, d, e, f) = (
            "a1a1a1a1a1a1",
            "b2b2b2b2b2b2",
            "c3c3c3c3c3c3",
            "d4d4d4d4d4d4",
            "e5e5e5e5e5e5",
            "f6f6f6f6f6f6",
        );
        RevisionMap::new(vec![
            rev(a, &[], &[], &[], "create tenants"),
            rev(b, &[a], &["feature"], &[], "add feature"),
            rev(c, &[a], &[], &[], "add column"),
            rev(d, &[b, c], &[], &[], "merge heads"),
            rev(e, &[], &["other"], &[], "other root"),
            rev(f, &[e], &[], &[b], "depends on feature"),
        ])
        .unwrap()
    }

    #[test]
    fn history_through_the_map_matches_alembic() {
        let map = map();
        let lines: Vec<String> = map
            .walk_all()
            .unwrap()
            .into_iter()
            .map(|r| {
                let mut line = String::new();
                output::push_history_item(&mut line, &entry(&map, r, false), false);
                line
            })
            .collect();
        assert_eq!(
            lines,
            [
                "b2b2b2b2b2b2, c3c3c3c3c3c3 -> d4d4d4d4d4d4 (feature) (head) (mergepoint), merge heads",
                "e5e5e5e5e5e5 (b2b2b2b2b2b2) -> f6f6f6f6f6f6 (other) (head), depends on feature",
                "<base> -> e5e5e5e5e5e5 (other), other root",
                "a1a1a1a1a1a1 -> b2b2b2b2b2b2 (feature), add feature",
                "a1a1a1a1a1a1 -> c3c3c3c3c3c3, add column",
                "<base> -> a1a1a1a1a1a1 (branchpoint), create tenants",
            ]
        );
    }

    #[test]
    fn heads_and_branches_through_the_map_match_alembic() {
        let map = map();
        let heads: Vec<String> = map
            .heads()
            .into_iter()
            .map(|r| output::heads_item(&entry(&map, r, false), false))
            .collect();
        assert_eq!(
            heads,
            [
                "d4d4d4d4d4d4 (feature) (head)",
                "f6f6f6f6f6f6 (other) (head)"
            ]
        );
        let a1 = map.get("a1a1a1a1a1a1").unwrap();
        let children: Vec<Entry> = map
            .children(&a1.id)
            .into_iter()
            .map(|c| entry(&map, c, false))
            .collect();
        assert_eq!(
            output::branches_item(&entry(&map, a1, false), &children, false),
            "a1a1a1a1a1a1 (branchpoint)\n             -> b2b2b2b2b2b2 (feature)\n             -> c3c3c3c3c3c3\n"
        );
    }
}
