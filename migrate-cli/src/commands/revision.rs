//! `revision` and `merge`: flags in, [`migrate_core::authoring`] applies Alembic's rules,
//! the file is written and its path printed as Alembic prints it.

use migrate_core::authoring::{self, Parents, ProjectLayout, RevisionRequest};
use migrate_core::render::CreateDate;
use migrate_core::{Contents, ScriptFormat};

use super::Context;
use crate::cli::{FileFormat, MergeArgs, RevisionArgs};
use crate::config::RevisionFormat;
use crate::error::CliError;
use crate::render::Output;

/// `revision -m MSG [--head H] [--splice] ...`.
pub fn revision(ctx: &Context, args: &RevisionArgs) -> Result<Output, CliError> {
    create(ctx, args.revision_format, |format| {
        Ok(RevisionRequest {
            message: args.message.clone(),
            rev_id: args.rev_id.clone(),
            parents: Parents::Head {
                head: args.head.clone(),
                splice: args.splice,
            },
            branch_labels: args.branch_label.clone(),
            depends_on: args.depends_on.clone(),
            version_path: args.version_path.clone(),
            format,
            create_date: create_date()?,
        })
    })
}

/// `merge REVS... -m MSG`.
pub fn merge(ctx: &Context, args: &MergeArgs) -> Result<Output, CliError> {
    create(ctx, args.revision_format, |format| {
        Ok(RevisionRequest {
            message: args.message.clone(),
            rev_id: args.rev_id.clone(),
            parents: Parents::Merge(args.revisions.clone()),
            branch_labels: args.branch_label.clone(),
            depends_on: Vec::new(),
            version_path: None,
            format,
            create_date: create_date()?,
        })
    })
}

fn create(
    ctx: &Context,
    flag: Option<FileFormat>,
    request: impl FnOnce(ScriptFormat) -> Result<RevisionRequest, CliError>,
) -> Result<Output, CliError> {
    let map = ctx.map(Contents::Header)?;
    let settings = &ctx.settings;
    let flag = flag.map(|f| match f {
        FileFormat::Sql => ScriptFormat::Sql,
        FileFormat::Py => ScriptFormat::Python,
    });
    let configured = settings.revision_format.map(|f| match f {
        RevisionFormat::Sql => ScriptFormat::Sql,
        RevisionFormat::Python => ScriptFormat::Python,
    });
    let (format, _) = authoring::choose_format(flag, configured, settings.is_alembic_ini(), map);
    let layout = ProjectLayout {
        version_locations: settings.version_locations.clone(),
        script_location: settings.script_location.clone(),
        file_template: settings.file_template.clone(),
        truncate_slug_length: settings.truncate_slug_length,
    };
    let prepared = authoring::prepare(map, &layout, request(format)?)?;
    let created: Vec<_> = prepared
        .new_directories
        .iter()
        .filter(|d| !d.is_dir())
        .collect();
    prepared.write()?;
    let mut text = String::new();
    let created: Vec<std::path::PathBuf> = created.into_iter().map(|d| absolute(d)).collect();
    for dir in &created {
        text.push_str(&format!("Creating directory {} ...  done\n", dir.display()));
    }
    let path = absolute(&prepared.path);
    text.push_str(&format!("Generating {} ...  done\n", path.display()));
    #[derive(serde::Serialize)]
    struct Written {
        path: std::path::PathBuf,
        directories_created: Vec<std::path::PathBuf>,
    }
    Output::new(
        text,
        &Written {
            path,
            directories_created: created,
        },
    )
}

fn absolute(path: &std::path::Path) -> std::path::PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Now, or `SOURCE_DATE_EPOCH` (whole seconds) when set: the reproducible-builds convention,
/// for a `Create Date` and a `file_template` date that do not depend on when the command ran.
fn create_date() -> Result<CreateDate, CliError> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) if !value.is_empty() => value
            .trim()
            .parse::<u64>()
            .map(|secs| CreateDate::from_unix(secs, 0))
            .map_err(|_| {
                CliError::config(format!(
                    "SOURCE_DATE_EPOCH={value} is not a whole number of seconds since 1970 (unset it to date the revision now)"
                ))
            }),
        _ => Ok(CreateDate::now()),
    }
}
