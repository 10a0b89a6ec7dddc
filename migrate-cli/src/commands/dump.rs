//! `dump [-o FILE]`, and the `schema_dump` setting's dump after `upgrade` and `downgrade`.

use std::path::Path;

use migrate_core::Executor;
use serde::Serialize;

use super::Context;
use crate::backend;
use crate::cli::DumpArgs;
use crate::error::CliError;
use crate::progress::Verbosity;
use crate::render::Output;
use crate::url::DatabaseUrl;

/// The JSON form of a dump: the catalog snapshot and the version rows.
#[derive(Serialize)]
struct DumpFields<'a> {
    /// `sqlite`, `postgresql` or `mysql`.
    dialect: &'static str,
    /// The version table's rows; `null` when it does not exist.
    versions: Option<&'a [String]>,
    snapshot: &'a migrate_core::Snapshot,
}

/// The dump of the database `exec` is connected to: its DDL, and its snapshot in JSON.
async fn render(
    ctx: &Context,
    url: &DatabaseUrl,
    exec: &mut dyn Executor,
) -> Result<Output, CliError> {
    let table = ctx.options().version_table;
    let mut rows = exec.read_versions(&table).await?;
    if let Some(rows) = rows.as_mut() {
        rows.sort();
    }
    let snapshot = exec.snapshot(&table).await?;
    Output::new(
        backend::dump(url.backend(), &snapshot, &table, rows.as_deref())?,
        &DumpFields {
            dialect: exec.dialect().name(),
            versions: rows.as_deref(),
            snapshot: &snapshot,
        },
    )
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
pub async fn dump(ctx: &Context, args: &DumpArgs) -> Result<Output, CliError> {
    let (url, mut exec) = ctx.connect().await?;
    let mut out = render(ctx, &url, exec.as_mut()).await?;
    if let Some(path) = &args.output {
        // -o writes the DDL there; stdout (text) or the document (JSON) says where.
        write(path, &out.text)?;
        out.text = String::new();
        out.json
            .insert("written_to".to_string(), path.display().to_string().into());
    }
    Ok(out)
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
    let out = render(ctx, url, exec).await?;
    write(path, &out.text)?;
    if ctx.verbosity != Verbosity::Quiet {
        eprintln!("Wrote the schema dump to {}", path.display());
    }
    Ok(())
}
