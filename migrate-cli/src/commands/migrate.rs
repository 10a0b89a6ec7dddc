//! `upgrade`, `downgrade`, `stamp`: online through the migrator, or `--sql` offline scripts.

use migrate_core::{offline, Contents, Event, Migrator};

use super::Context;
use crate::backend;
use crate::error::CliError;
use crate::progress::Progress;

/// Prints an offline script on stdout; connects to nothing.
fn print_script(script: &str) {
    print!("{script}");
    if !script.ends_with('\n') && !script.is_empty() {
        println!();
    }
}

/// `upgrade [REV] [--sql]`.
pub async fn upgrade(ctx: &Context, target: &str, sql: bool) -> Result<(), CliError> {
    if sql {
        let map = ctx.map(Contents::Full)?;
        let url = ctx.database_url()?;
        let dialect = backend::dialect(url.backend())?;
        let script = offline::upgrade_sql(map, dialect.as_ref(), target, &ctx.options())?;
        print_script(&script);
        return Ok(());
    }
    if target.contains(':') {
        ctx.map(Contents::Full)?;
        return Err(CliError::Usage(
            "Range revision not allowed (a START:END range needs --sql)".to_string(),
        ));
    }
    let (map, (url, mut exec)) = ctx.map_alongside(Contents::Full, ctx.connect()).await?;
    let migrator = Migrator::new(map, ctx.options());
    let mut progress = Progress::to_stderr(ctx.verbosity);
    let result = migrator
        .upgrade(exec.as_mut(), target, &mut |e: &Event| progress.event(e))
        .await;
    progress.finish();
    result?;
    super::dump::write_schema_dump(ctx, &url, exec.as_mut()).await
}

/// `downgrade REV [--sql]`.
pub async fn downgrade(ctx: &Context, target: &str, sql: bool) -> Result<(), CliError> {
    if sql {
        let map = ctx.map(Contents::Full)?;
        let url = ctx.database_url()?;
        let dialect = backend::dialect(url.backend())?;
        let script = offline::downgrade_sql(map, dialect.as_ref(), target, &ctx.options())?;
        print_script(&script);
        return Ok(());
    }
    if target.contains(':') {
        ctx.map(Contents::Full)?;
        return Err(CliError::Usage(
            "Range revision not allowed (a FROM:TO range needs --sql)".to_string(),
        ));
    }
    let (map, (url, mut exec)) = ctx.map_alongside(Contents::Full, ctx.connect()).await?;
    let migrator = Migrator::new(map, ctx.options());
    let mut progress = Progress::to_stderr(ctx.verbosity);
    let result = migrator
        .downgrade(exec.as_mut(), target, &mut |e: &Event| progress.event(e))
        .await;
    progress.finish();
    result?;
    super::dump::write_schema_dump(ctx, &url, exec.as_mut()).await
}

/// Alembic's reading of `stamp --sql` arguments: each may be `START:END`, with one start for
/// all; the core takes `START:END1,END2`.
pub fn offline_stamp_range(revisions: &[String]) -> Result<String, CliError> {
    let mut start: Option<&str> = None;
    let mut ends = Vec::new();
    for rev in revisions {
        match rev.split_once(':') {
            Some((s, e)) => {
                match start {
                    None => start = Some(s),
                    Some(prev) if prev != s => {
                        return Err(CliError::Usage(
                            "Stamp operation with --sql only supports a single starting revision at a time"
                                .to_string(),
                        ))
                    }
                    Some(_) => {}
                }
                ends.push(e);
            }
            None => ends.push(rev.as_str()),
        }
    }
    Ok(match start {
        Some(s) => format!("{s}:{}", ends.join(",")),
        None => ends.join(","),
    })
}

/// `stamp REVS... [--sql] [--purge]`.
pub async fn stamp(
    ctx: &Context,
    revisions: &[String],
    sql: bool,
    purge: bool,
) -> Result<(), CliError> {
    if sql {
        let map = ctx.map(Contents::Header)?;
        let range = offline_stamp_range(revisions)?;
        let url = ctx.database_url()?;
        let dialect = backend::dialect(url.backend())?;
        let script = offline::stamp_sql(map, dialect.as_ref(), &range, purge, &ctx.options())?;
        print_script(&script);
        return Ok(());
    }
    let (map, (_, mut exec)) = ctx.map_alongside(Contents::Header, ctx.connect()).await?;
    let migrator = Migrator::new(map, ctx.options());
    let mut progress = Progress::to_stderr(ctx.verbosity);
    let result = migrator
        .stamp(exec.as_mut(), revisions, purge, &mut |e: &Event| {
            progress.event(e)
        })
        .await;
    progress.finish();
    result?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn offline_stamp_ranges_share_one_start() {
        assert_eq!(offline_stamp_range(&strings(&["head"])).unwrap(), "head");
        assert_eq!(
            offline_stamp_range(&strings(&["base:a", "base:b"])).unwrap(),
            "base:a,b"
        );
        assert_eq!(
            offline_stamp_range(&strings(&["x:a", "b"])).unwrap(),
            "x:a,b"
        );
        let err = offline_stamp_range(&strings(&["x:a", "y:b"]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "Stamp operation with --sql only supports a single starting revision at a time"
        );
    }
}
