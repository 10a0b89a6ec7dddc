//! `upgrade`, `downgrade`, `stamp` and `repair`: online through the migrator (with progress on
//! stderr, and Ctrl-C ending the run with what was committed), or `--sql` offline scripts.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use migrate_core::{offline, Canceller, Contents, Event, Interrupt, Migrator, Report};

use super::Context;
use crate::backend;
use crate::error::CliError;
use crate::progress::Progress;
use crate::render::Output;

/// An offline script: the text on stdout, or `{"sql": ...}`.
fn script(text: String) -> Result<Output, CliError> {
    let mut shown = text.clone();
    if !shown.ends_with('\n') && !shown.is_empty() {
        shown.push('\n');
    }
    #[derive(serde::Serialize)]
    struct Script {
        sql: String,
    }
    Output::new(shown, &Script { sql: text })
}

/// What a run reports in JSON: where, and the report (steps with their durations, the version
/// rows before and after).
#[derive(serde::Serialize)]
struct Ran<'r> {
    database: String,
    database_source: &'r str,
    #[serde(flatten)]
    report: &'r Report,
}

fn ran(ctx: &Context, url: &crate::url::DatabaseUrl, report: &Report) -> Result<Output, CliError> {
    let source = ctx
        .settings
        .url
        .as_ref()
        .map(|u| u.source.as_str())
        .unwrap_or_default();
    Output::new(
        "",
        &Ran {
            database: url.describe(),
            database_source: source,
            report,
        },
    )
}

/// Progress on stderr, shared between the migrator's events and the Ctrl-C handler.
type Shared = Arc<Mutex<Progress>>;

fn progress(ctx: &Context) -> (Shared, impl FnMut(&Event) + Send) {
    let shared = Arc::new(Mutex::new(Progress::to_stderr(ctx.verbosity)));
    let events = shared.clone();
    let sink = move |e: &Event| {
        if let Ok(mut p) = events.lock() {
            p.event(e);
        }
    };
    (shared, sink)
}

/// How long a run has, after Ctrl-C, to roll back and release its lock by itself before it is
/// abandoned (the database then rolls back when the connection closes, as the process exits).
const WIND_DOWN: Duration = Duration::from_secs(5);

/// Ctrl-C while a migrator call runs: a thread of its own waits for the signal (a SQLite
/// statement blocks this one), then triggers the run's [`Interrupt`] and cancels the statement
/// running on the database. A second Ctrl-C exits at once.
struct CtrlC {
    interrupt: Interrupt,
    /// Told once the first Ctrl-C has been handled.
    seen: Arc<tokio::sync::Notify>,
}

impl CtrlC {
    fn watch(canceller: Option<Box<dyn Canceller>>) -> CtrlC {
        let interrupt = Interrupt::new();
        let seen = Arc::new(tokio::sync::Notify::new());
        let (flag, told) = (interrupt.clone(), seen.clone());
        // Should the thread not start, Ctrl-C keeps its default: the process ends and the
        // database rolls back the open transaction as the connection closes.
        let _ = std::thread::Builder::new()
            .name("ctrl-c".to_string())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    if tokio::signal::ctrl_c().await.is_err() {
                        return;
                    }
                    flag.trigger();
                    if let Some(canceller) = canceller {
                        let _ = tokio::time::timeout(WIND_DOWN, canceller.cancel()).await;
                    }
                    told.notify_one();
                    if tokio::signal::ctrl_c().await.is_ok() {
                        eprintln!("FAILED: interrupted again (Ctrl-C): exiting without waiting for the run to roll back");
                        std::process::exit(130);
                    }
                });
            });
        CtrlC { interrupt, seen }
    }
}

/// Runs `run` (a migrator call made with `ctrl_c.interrupt`); after Ctrl-C it stops before its
/// next statement, rolls back and releases the lock, and the failure says what had been
/// committed and what was rolled back.
async fn interruptible(
    progress: &Shared,
    ctrl_c: CtrlC,
    run: impl Future<Output = migrate_core::Result<Report>>,
) -> Result<Report, CliError> {
    tokio::pin!(run);
    let done = tokio::select! {
        done = &mut run => Some(done),
        _ = ctrl_c.seen.notified() => tokio::time::timeout(WIND_DOWN, &mut run).await.ok(),
    };
    if let Ok(mut p) = progress.lock() {
        p.finish();
    }
    let committed = || progress.lock().map(|p| p.committed()).unwrap_or_default();
    match done {
        // A run that finished before it saw the interrupt did all it was asked.
        Some(Ok(report)) => Ok(report),
        Some(Err(e)) if ctrl_c.interrupt.is_triggered() => Err(CliError::Interrupted {
            committed: committed(),
            detail: Some(e.to_string()),
        }),
        Some(Err(e)) => Err(e.into()),
        None => Err(CliError::Interrupted {
            committed: committed(),
            detail: None,
        }),
    }
}

/// `upgrade [REV] [--sql] [--resume]`.
pub async fn upgrade(
    ctx: &Context,
    target: &str,
    sql: bool,
    resume: bool,
) -> Result<Output, CliError> {
    if sql {
        let map = ctx.map(Contents::Upgrade)?;
        let url = ctx.database_url()?;
        let dialect = backend::dialect(url.backend())?;
        return script(offline::upgrade_sql(
            map,
            dialect.as_ref(),
            target,
            &ctx.options(),
        )?);
    }
    // Refused before connecting: a range is for --sql scripts only.
    if target.contains(':') {
        ctx.map(Contents::Header)?;
        migrate_core::plan::refuse_range(target)?;
    }
    let (map, (url, mut exec)) = ctx.map_alongside(Contents::Full, ctx.connect()).await?;
    let ctrl_c = CtrlC::watch(exec.canceller());
    let migrator = Migrator::new(map, ctx.options()).with_interrupt(ctrl_c.interrupt.clone());
    let (shared, mut sink) = progress(ctx);
    let report = if resume {
        interruptible(
            &shared,
            ctrl_c,
            migrator.upgrade_resume(exec.as_mut(), target, &mut sink),
        )
        .await
    } else {
        interruptible(
            &shared,
            ctrl_c,
            migrator.upgrade(exec.as_mut(), target, &mut sink),
        )
        .await
    }?;
    super::dump::write_schema_dump(ctx, &url, exec.as_mut()).await?;
    ran(ctx, &url, &report)
}

/// `downgrade REV [--sql]`.
pub async fn downgrade(ctx: &Context, target: &str, sql: bool) -> Result<Output, CliError> {
    if sql {
        let map = ctx.map(Contents::Downgrade)?;
        let url = ctx.database_url()?;
        let dialect = backend::dialect(url.backend())?;
        return script(offline::downgrade_sql(
            map,
            dialect.as_ref(),
            target,
            &ctx.options(),
        )?);
    }
    // Refused before connecting: a range is for --sql scripts only.
    if target.contains(':') {
        ctx.map(Contents::Header)?;
        migrate_core::plan::refuse_range(target)?;
    }
    let (map, (url, mut exec)) = ctx.map_alongside(Contents::Full, ctx.connect()).await?;
    let ctrl_c = CtrlC::watch(exec.canceller());
    let migrator = Migrator::new(map, ctx.options()).with_interrupt(ctrl_c.interrupt.clone());
    let (shared, mut sink) = progress(ctx);
    let report = interruptible(
        &shared,
        ctrl_c,
        migrator.downgrade(exec.as_mut(), target, &mut sink),
    )
    .await?;
    super::dump::write_schema_dump(ctx, &url, exec.as_mut()).await?;
    ran(ctx, &url, &report)
}

/// `stamp REVS... [--sql] [--purge]`.
pub async fn stamp(
    ctx: &Context,
    revisions: &[String],
    sql: bool,
    purge: bool,
) -> Result<Output, CliError> {
    if sql {
        let map = ctx.map(Contents::Header)?;
        let range = offline::stamp_range(revisions)?;
        let url = ctx.database_url()?;
        let dialect = backend::dialect(url.backend())?;
        return script(offline::stamp_sql(
            map,
            dialect.as_ref(),
            &range,
            purge,
            &ctx.options(),
        )?);
    }
    // A stamp records the checksums of what it marks applied, so it reads the bodies too.
    let (map, (url, mut exec)) = ctx.map_alongside(Contents::Full, ctx.connect()).await?;
    let ctrl_c = CtrlC::watch(exec.canceller());
    let migrator = Migrator::new(map, ctx.options()).with_interrupt(ctrl_c.interrupt.clone());
    let (shared, mut sink) = progress(ctx);
    let report = interruptible(
        &shared,
        ctrl_c,
        migrator.stamp(exec.as_mut(), revisions, purge, &mut sink),
    )
    .await?;
    ran(ctx, &url, &report)
}

/// `repair [--applied | --rolled-back]`.
pub async fn repair(ctx: &Context, applied: bool, rolled_back: bool) -> Result<Output, CliError> {
    let what = if applied {
        migrate_core::migrator::Repair::Applied
    } else if rolled_back {
        migrate_core::migrator::Repair::RolledBack
    } else {
        migrate_core::migrator::Repair::Checksums
    };
    let (map, (_, mut exec)) = ctx.map_alongside(Contents::Full, ctx.connect()).await?;
    let migrator = Migrator::new(map, ctx.options());
    let rows = migrator.repair(exec.as_mut(), what, &mut |_| {}).await?;
    let mut text = String::new();
    if rows.is_empty() {
        text.push_str("nothing to repair: every applied revision's checksum matches its file\n");
    }
    for row in &rows {
        text.push_str(&format!(
            "recorded {} {} of {}\n",
            row.outcome.as_str(),
            row.direction,
            row.revision
        ));
    }
    #[derive(serde::Serialize)]
    struct Repaired<'r> {
        rows: &'r [migrate_core::history::HistoryRow],
    }
    Output::new(text, &Repaired { rows: &rows })
}
