//! `dump [-o FILE]`, and the `schema_dump` setting's dump after `upgrade` and `downgrade`.

use std::path::Path;

use migrate_core::Executor;
use serde::Serialize;

use super::Context;
use crate::backend;
use crate::cli::{DumpArgs, ReportFormat};
use crate::error::CliError;
use crate::progress::Verbosity;
use crate::url::DatabaseUrl;

/// The JSON form of a dump: the catalog snapshot and the version rows.
#[derive(Serialize)]
struct DumpDocument<'a> {
    format_version: u32,
    command: &'static str,
    /// `sqlite`, `postgresql` or `mysql`.
    dialect: &'static str,
    /// The version table's rows; `null` when it does not exist.
    versions: Option<&'a [String]>,
    snapshot: &'a migrate_core::Snapshot,
}

/// The dump of the database `exec` is connected to, in `format`.
async fn render(
    ctx: &Context,
    url: &DatabaseUrl,
    exec: &mut dyn Executor,
    format: ReportFormat,
) -> Result<String, CliError> {
    let table = ctx.options().version_table;
    let mut rows = exec.read_versions(&table).await?;
    if let Some(rows) = rows.as_mut() {
        rows.sort();
    }
    let snapshot = exec.snapshot(&table).await?;
    Ok(match format {
        ReportFormat::Text => backend::dump(url.backend(), &snapshot, &table, rows.as_deref())?,
        ReportFormat::Json => super::json(&DumpDocument {
            format_version: 1,
            command: "dump",
            dialect: exec.dialect().name(),
            versions: rows.as_deref(),
            snapshot: &snapshot,
        })?,
    })
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text).map_err(|e| {
        CliError::io(
            format!("cannot write the schema dump {}", path.display()),
            e,
        )
    })
}

/// `dump [-o FILE] [--format text|json]`.
pub async fn dump(ctx: &Context, args: &DumpArgs) -> Result<(), CliError> {
    let (url, mut exec) = ctx.connect().await?;
    let text = render(ctx, &url, exec.as_mut(), args.format).await?;
    match &args.output {
        Some(path) => write(path, &text),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// After a successful `upgrade` or `downgrade`: the dump to the `schema_dump` file, when the
/// setting is there (as dbmate writes `schema.sql` after every migration).
pub async fn write_schema_dump(
    ctx: &Context,
    url: &DatabaseUrl,
    exec: &mut dyn Executor,
) -> Result<(), CliError> {
    let Some(path) = &ctx.settings.schema_dump else {
        return Ok(());
    };
    let text = render(ctx, url, exec, ReportFormat::Text).await?;
    write(path, &text)?;
    if ctx.verbosity != Verbosity::Quiet {
        eprintln!("Wrote the schema dump to {}", path.display());
    }
    Ok(())
}
