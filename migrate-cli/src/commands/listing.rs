//! `current`, `heads`, `branches`, `history`, `show`: the core orders, [`crate::output`] formats.

use migrate_core::migrator::read_current;
use migrate_core::{Contents, Revision, RevisionMap};

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
pub async fn current(ctx: &Context, verbose: bool) -> Result<(), CliError> {
    let (map, (url, rows)) = ctx
        .map_alongside(Contents::Header, current_rows(ctx))
        .await?;
    if verbose {
        println!("{}", output::current_header(&url));
    }
    for rev in map.current_heads(&rows)? {
        println!("{}", output::current_item(&entry(map, rev, false), verbose));
    }
    Ok(())
}

/// `heads [-v] [--resolve-dependencies]`.
pub fn heads(ctx: &Context, verbose: bool, resolve_dependencies: bool) -> Result<(), CliError> {
    let map = ctx.map(Contents::Header)?;
    let heads = if resolve_dependencies {
        map.resolve("heads")?
    } else {
        map.heads()
    };
    for rev in heads {
        println!("{}", output::heads_item(&entry(map, rev, false), verbose));
    }
    Ok(())
}

/// `branches [-v]`.
pub fn branches(ctx: &Context, verbose: bool) -> Result<(), CliError> {
    let map = ctx.map(Contents::Header)?;
    for rev in map.walk_all()? {
        if !map.is_branch_point(&rev.id) {
            continue;
        }
        let point = entry(map, rev, false);
        let children: Vec<Entry> = map
            .children(&rev.id)
            .into_iter()
            .map(|child| entry(map, child, false))
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
    // One write for the whole listing: a write per line costs more than the rest of
    // `history` on a long one.
    let mut out = String::new();
    for rev in map.history(range, &rows)? {
        let current = indicate_current && rows.contains(&rev.id);
        output::push_history_item(&mut out, &entry(map, rev, current), verbose);
        out.push('\n');
    }
    print!("{out}");
    Ok(())
}

/// `show REV` (`show current` reads the database).
pub async fn show(ctx: &Context, ident: &str) -> Result<(), CliError> {
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
    for rev in revisions {
        println!("{}", output::show_item(&entry(map, rev, false)));
    }
    Ok(())
}

/// `check`: one line per revision, newest first: `ok`, or why a direction cannot be run.
pub fn check(ctx: &Context) -> Result<(), CliError> {
    use migrate_core::migrator::unrunnable_reason;
    use migrate_core::Direction;
    let map = ctx.map(Contents::Full)?;
    let revisions = map.walk_all()?;
    let mut refused = 0;
    for rev in &revisions {
        let up = unrunnable_reason(rev, Direction::Up);
        let down = unrunnable_reason(rev, Direction::Down);
        if up.is_none() && down.is_none() {
            println!("{}: ok", rev.id);
            continue;
        }
        refused += 1;
        let mut parts = Vec::new();
        for (name, why) in [("upgrade", up), ("downgrade", down)] {
            match why {
                None => parts.push(format!("{name} ok")),
                Some(why) => parts.push(format!("{name} cannot run: {why}")),
            }
        }
        println!("{}: {}", rev.id, parts.join("; "));
    }
    if refused > 0 {
        return Err(CliError::Usage(format!(
            "{refused} of {} revisions cannot be run by migrate in one direction or both (listed above)",
            revisions.len()
        )));
    }
    Ok(())
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
