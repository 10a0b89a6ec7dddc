//! `verify` and `drift`: the checks that run the revisions on a scratch database.

use migrate_core::verify::{VerifyEvent, VerifyOptions};
use migrate_core::Contents;
use serde::Serialize;

use super::Context;
use crate::backend::{self, ScratchSource};
use crate::cli::{DriftArgs, ReportFormat, VerifyArgs};
use crate::error::CliError;
use crate::progress::Verbosity;
use crate::url::{Backend, DatabaseUrl};

/// The JSON document of a check: `format_version`, `command`, the verdict (`passed` for
/// verify, `drifted` for drift), where it ran, the report's fields, and the findings as
/// sentences.
#[derive(Serialize)]
struct CheckDocument<'a, R: Serialize> {
    format_version: u32,
    command: &'a str,
    #[serde(flatten)]
    verdict: std::collections::BTreeMap<&'a str, bool>,
    scratch: &'a str,
    #[serde(flatten)]
    report: &'a R,
    messages: &'a [String],
}

fn check_document(
    command: &str,
    flag: (&str, bool),
    scratch: &str,
    report: &impl Serialize,
    messages: &[String],
) -> Result<String, CliError> {
    super::json(&CheckDocument {
        format_version: 1,
        command,
        verdict: [flag].into_iter().collect(),
        scratch,
        report,
        messages,
    })
}

/// `--scratch-url URL`, refused when it names the configured database itself.
fn given_scratch(url: &str, configured: Option<&DatabaseUrl>) -> Result<DatabaseUrl, CliError> {
    let scratch = DatabaseUrl::parse(url)?;
    if configured.is_some_and(|c| c.as_backend_url() == scratch.as_backend_url()) {
        return Err(CliError::Usage(
            "--scratch-url names the configured database itself; the scratch database is changed freely (every downgrade runs there): give another database".to_string(),
        ));
    }
    Ok(scratch)
}

/// Whether stderr gets progress lines.
fn progress_on(ctx: &Context, format: ReportFormat) -> bool {
    match format {
        ReportFormat::Text => ctx.verbosity != Verbosity::Quiet,
        ReportFormat::Json => ctx.verbosity == Verbosity::Verbose,
    }
}

/// `result` of work done on a scratch database, once [`backend::Scratch::discard`] has run
/// (`discarded`): the work's failure wins over the drop's.
fn after_discard<T>(
    result: Result<T, migrate_core::Error>,
    discarded: Result<(), CliError>,
) -> Result<T, CliError> {
    let value = result?;
    discarded?;
    Ok(value)
}

/// `verify [TARGET] [--allow-branches] [--from FILE] [--scratch-url URL] [--data]`.
pub async fn verify(ctx: &Context, args: &VerifyArgs) -> Result<(), CliError> {
    let target = args
        .target
        .clone()
        .unwrap_or_else(|| if args.allow_branches { "heads" } else { "head" }.to_string());
    let map = ctx.map(Contents::Full)?;
    let options = ctx.options();
    // The configured URL chooses the backend and server; --scratch-url and --from stand in
    // for it when none is configured.
    let configured = match ctx.settings.url {
        Some(_) => Some(ctx.database_url()?),
        None => None,
    };
    let scratch_url = match &args.scratch_url {
        Some(url) => Some(given_scratch(url, configured.as_ref())?),
        None => None,
    };
    let source = if let Some(url) = &scratch_url {
        ScratchSource::Given(url)
    } else if let Some(path) = &args.from {
        if let Some(c) = configured
            .as_ref()
            .filter(|c| c.backend() != Backend::Sqlite)
        {
            return Err(CliError::Usage(format!(
                "--from FILE copies a SQLite database file, but the configured database is {}; for PostgreSQL or MySQL, restore a copy into a database of its own and give it with --scratch-url",
                c.describe()
            )));
        }
        ScratchSource::CopyOf {
            path,
            keep_data: args.data,
        }
    } else {
        match &configured {
            Some(url) => ScratchSource::Beside(url),
            None => {
                return Err(CliError::config(
                    "no database URL configured: verify creates its scratch database beside the configured one \
                     (pass --url, set DATABASE_URL or MIGRATE_URL, or add `url = \"...\"` to migrate.toml), \
                     or runs on --from FILE or --scratch-url URL",
                ))
            }
        }
    };
    let mut scratch = backend::scratch(source, &options.version_table).await?;
    let progress = progress_on(ctx, args.format);
    if progress {
        eprintln!("Verifying up to {target} on {}", scratch.description);
    }
    let description = scratch.description.clone();
    let verify_options = VerifyOptions {
        target,
        allow_branches: args.allow_branches,
    };
    let mut events = |e: &VerifyEvent| {
        if let VerifyEvent::Passed { revision, elapsed } = e {
            if progress {
                eprintln!(
                    "  {revision}: upgrade, downgrade, upgrade: same schema ({:.1} ms)",
                    elapsed.as_secs_f64() * 1000.0
                );
            }
        }
    };
    let result = migrate_core::verify::verify(
        map,
        &options,
        &verify_options,
        scratch.exec.as_mut(),
        &mut events,
    )
    .await;
    let report = after_discard(result, scratch.discard().await)?;
    let messages: Vec<String> = report.findings.iter().flat_map(|f| f.lines()).collect();
    match args.format {
        ReportFormat::Text => {
            for v in &report.verified {
                println!("{}: ok", v.revision);
            }
            for line in &messages {
                println!("{line}");
            }
            if report.passed() && report.verified.is_empty() && progress {
                eprintln!(
                    "Nothing to verify: the scratch database is already at {}",
                    report.target
                );
            }
        }
        ReportFormat::Json => println!(
            "{}",
            check_document(
                "verify",
                ("passed", report.passed()),
                &description,
                &report,
                &messages
            )?
        ),
    }
    if report.passed() {
        Ok(())
    } else {
        Err(CliError::Findings(format!(
            "verify found {} (listed {})",
            count(messages.len(), "problem"),
            listed_where(args.format)
        )))
    }
}

/// `drift [--scratch-url URL]`.
pub async fn drift(ctx: &Context, args: &DriftArgs) -> Result<(), CliError> {
    let (map, (url, mut live)) = ctx.map_alongside(Contents::Full, ctx.connect()).await?;
    let options = ctx.options();
    let scratch_url = match &args.scratch_url {
        Some(given) => Some(given_scratch(given, Some(&url))?),
        None => None,
    };
    let source = match &scratch_url {
        Some(s) => ScratchSource::Given(s),
        None => ScratchSource::Beside(&url),
    };
    let mut scratch = backend::scratch(source, &options.version_table).await?;
    let description = scratch.description.clone();
    if progress_on(ctx, args.format) {
        eprintln!(
            "Replaying the revisions of {} on {description}",
            url.describe()
        );
    }
    let result =
        migrate_core::drift::drift(map, &options, live.as_mut(), scratch.exec.as_mut()).await;
    let report = after_discard(result, scratch.discard().await)?;
    let messages = report.lines();
    match args.format {
        ReportFormat::Text => {
            for line in &messages {
                println!("{line}");
            }
            if !report.drifted() {
                println!(
                    "no drift: the database has the schema its revisions give ({})",
                    if report.versions.is_empty() {
                        "no revision applied".to_string()
                    } else {
                        report.versions.join(", ")
                    }
                );
            }
        }
        ReportFormat::Json => println!(
            "{}",
            check_document(
                "drift",
                ("drifted", report.drifted()),
                &description,
                &report,
                &messages
            )?
        ),
    }
    if report.drifted() {
        Err(CliError::Findings(format!(
            "drift: {} the revisions do not give (listed {})",
            count(messages.len(), "difference"),
            listed_where(args.format)
        )))
    } else {
        Ok(())
    }
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn listed_where(format: ReportFormat) -> &'static str {
    match format {
        ReportFormat::Text => "above",
        ReportFormat::Json => "in the JSON document on stdout",
    }
}
