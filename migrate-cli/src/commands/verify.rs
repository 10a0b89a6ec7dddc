//! `verify` and `drift`: the checks that run the revisions on a scratch database.

use migrate_core::verify::{VerifyEvent, VerifyOptions};
use migrate_core::Contents;
use serde::Serialize;

use super::Context;
use crate::backend::{self, ScratchSource};
use crate::cli::{DriftArgs, VerifyArgs};
use crate::error::CliError;
use crate::progress::Verbosity;
use crate::render::Output;
use crate::url::{Backend, DatabaseUrl};

/// The JSON fields of a check: the verdict (`passed` for verify, `drifted` for drift), where
/// it ran, the report's fields, and the findings as sentences.
#[derive(Serialize)]
struct CheckFields<'a, R: Serialize> {
    #[serde(flatten)]
    verdict: std::collections::BTreeMap<&'a str, bool>,
    scratch: &'a str,
    #[serde(flatten)]
    report: &'a R,
    messages: &'a [String],
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

/// Whether stderr gets progress lines (never with `--format json` unless `-v`: the context's
/// verbosity already says so).
fn progress_on(ctx: &Context) -> bool {
    ctx.verbosity != Verbosity::Quiet
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
pub async fn verify(ctx: &Context, args: &VerifyArgs) -> Result<Output, CliError> {
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
    let progress = progress_on(ctx);
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
    let mut text = String::new();
    for v in &report.verified {
        text.push_str(&format!("{}: ok\n", v.revision));
    }
    for line in &messages {
        text.push_str(line);
        text.push('\n');
    }
    if report.passed() && report.verified.is_empty() && progress {
        eprintln!(
            "Nothing to verify: the scratch database is already at {}",
            report.target
        );
    }
    let failure = (!report.passed()).then(|| CliError::Findings {
        code: "verify_failed",
        message: format!(
            "verify found {} (listed {})",
            count(messages.len(), "problem"),
            ctx.listed_where()
        ),
    });
    Ok(Output::new(
        text,
        &CheckFields {
            verdict: [("passed", report.passed())].into_iter().collect(),
            scratch: &description,
            report: &report,
            messages: &messages,
        },
    )?
    .failing(failure))
}

/// `drift [--scratch-url URL]`.
pub async fn drift(ctx: &Context, args: &DriftArgs) -> Result<Output, CliError> {
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
    if progress_on(ctx) {
        eprintln!(
            "Replaying the revisions of {} on {description}",
            url.describe()
        );
    }
    let result =
        migrate_core::drift::drift(map, &options, live.as_mut(), scratch.exec.as_mut()).await;
    let report = after_discard(result, scratch.discard().await)?;
    let messages = report.lines();
    let mut text = String::new();
    for line in &messages {
        text.push_str(line);
        text.push('\n');
    }
    if !report.drifted() {
        text.push_str(&format!(
            "no drift: the database has the schema its revisions give ({})\n",
            if report.versions.is_empty() {
                "no revision applied".to_string()
            } else {
                report.versions.join(", ")
            }
        ));
    }
    let failure = report.drifted().then(|| CliError::Findings {
        code: "drift",
        message: format!(
            "drift: {} the revisions do not give (listed {})",
            count(messages.len(), "difference"),
            ctx.listed_where()
        ),
    });
    Ok(Output::new(
        text,
        &CheckFields {
            verdict: [("drifted", report.drifted())].into_iter().collect(),
            scratch: &description,
            report: &report,
            messages: &messages,
        },
    )?
    .failing(failure))
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
