//! `current`, `heads`, `branches`, `history`, `show`: the core orders, [`crate::output`] formats.

use migrate_core::{Migrator, Revision, RevisionMap};

use super::Context;
use crate::error::CliError;
use crate::output::{self, Entry};

/// The listing view of `rev`; `current` marks it `(current)` (`history -i`).
fn entry<'a>(map: &'a RevisionMap, rev: &'a Revision, current: bool) -> Entry<'a> {
    Entry {
        id: &rev.id,
        down_revisions: &rev.down_revisions,
        depends_on: &rev.depends_on,
        branch_labels: map.branch_labels(&rev.id),
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

/// The version table's rows.
async fn current_rows(ctx: &Context, map: &RevisionMap) -> Result<(String, Vec<String>), CliError> {
    let (url, mut exec) = ctx.connect().await?;
    let migrator = Migrator::new(map, ctx.options());
    let rows = migrator.current(exec.as_mut()).await?;
    Ok((url.redacted(), rows))
}

/// `current [-v]`.
pub async fn current(ctx: &Context, verbose: bool) -> Result<(), CliError> {
    let map = ctx.map()?;
    let (url, rows) = current_rows(ctx, &map).await?;
    if verbose {
        println!("{}", output::current_header(&url));
    }
    for rev in map.current_heads(&rows)? {
        println!(
            "{}",
            output::current_item(&entry(&map, rev, false), verbose)
        );
    }
    Ok(())
}

/// `heads [-v] [--resolve-dependencies]`.
pub fn heads(ctx: &Context, verbose: bool, resolve_dependencies: bool) -> Result<(), CliError> {
    let map = ctx.map()?;
    let heads = if resolve_dependencies {
        map.resolve("heads")?
    } else {
        map.heads()
    };
    for rev in heads {
        println!("{}", output::heads_item(&entry(&map, rev, false), verbose));
    }
    Ok(())
}

/// `branches [-v]`.
pub fn branches(ctx: &Context, verbose: bool) -> Result<(), CliError> {
    let map = ctx.map()?;
    for rev in map.walk_all()? {
        if !map.is_branch_point(&rev.id) {
            continue;
        }
        let point = entry(&map, rev, false);
        let children: Vec<Entry> = map
            .children(&rev.id)
            .into_iter()
            .map(|child| entry(&map, child, false))
            .collect();
        println!("{}", output::branches_item(&point, &children, verbose));
    }
    Ok(())
}

/// `history [-r RANGE] [-v] [-i]`.
pub async fn history(
    ctx: &Context,
    range: Option<&str>,
    verbose: bool,
    indicate_current: bool,
) -> Result<(), CliError> {
    let map = ctx.map()?;
    if let Some(r) = range {
        if !r.contains(':') {
            return Err(CliError::Usage(
                "History range requires [start]:[end], [start]:, or :[end]".to_string(),
            ));
        }
    }
    let needs_database =
        indicate_current || range.is_some_and(|r| r.split(':').any(|end| end.trim() == "current"));
    let rows = if needs_database {
        current_rows(ctx, &map).await?.1
    } else {
        Vec::new()
    };
    for rev in map.history(range, &rows)? {
        let current = indicate_current && rows.contains(&rev.id);
        println!(
            "{}",
            output::history_item(&entry(&map, rev, current), verbose)
        );
    }
    Ok(())
}

/// `show REV` (`show current` reads the database).
pub async fn show(ctx: &Context, ident: &str) -> Result<(), CliError> {
    let map = ctx.map()?;
    let revisions: Vec<&Revision> = if ident == "current" {
        let (_, rows) = current_rows(ctx, &map).await?;
        let mut out = Vec::new();
        for row in &rows {
            out.extend(map.resolve(row)?);
        }
        out
    } else {
        map.resolve(ident)?
    };
    for rev in revisions {
        println!("{}", output::show_item(&entry(&map, rev, false)));
    }
    Ok(())
}
