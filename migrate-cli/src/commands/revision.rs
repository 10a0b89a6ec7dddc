//! `revision` and `merge`: write a new revision file with Alembic's rules for its parents and
//! its folder.

use std::path::{Path, PathBuf};

use migrate_core::render::{self, NewRevision};
use migrate_core::{Contents, RevisionMap, ScriptFormat};

use super::Context;
use crate::cli::{Format, MergeArgs, RevisionArgs};
use crate::config::RevisionFormat;
use crate::error::CliError;

/// Characters Alembic refuses in a revision id.
const ILLEGAL_ID_CHARS: [char; 4] = ['@', '-', '+', ':'];

/// What a new revision needs besides its parents.
struct Request<'a> {
    message: Option<&'a str>,
    rev_id: Option<&'a str>,
    branch_labels: &'a [String],
    depends_on: Vec<String>,
    version_path: Option<&'a Path>,
    format: Option<Format>,
}

/// `revision -m MSG [--head H] [--splice] ...`.
pub fn revision(ctx: &Context, args: &RevisionArgs) -> Result<(), CliError> {
    let map = ctx.map(Contents::Header)?;
    let parents = map.new_revision_parents(&args.head, args.splice)?;
    let depends_on = map.resolve_depends_on(&args.depends_on)?;
    create(
        ctx,
        map,
        parents,
        Request {
            message: args.message.as_deref(),
            rev_id: args.rev_id.as_deref(),
            branch_labels: &args.branch_label,
            depends_on,
            version_path: args.version_path.as_deref(),
            format: args.format,
        },
    )
}

/// `merge REVS... -m MSG`.
pub fn merge(ctx: &Context, args: &MergeArgs) -> Result<(), CliError> {
    let map = ctx.map(Contents::Header)?;
    let mut parents: Vec<String> = Vec::new();
    for rev in &args.revisions {
        for id in map.new_revision_parents(rev, false)? {
            if parents.contains(&id) {
                return Err(CliError::Usage(
                    "Duplicate head revisions specified".to_string(),
                ));
            }
            parents.push(id);
        }
    }
    create(
        ctx,
        map,
        parents,
        Request {
            message: args.message.as_deref(),
            rev_id: args.rev_id.as_deref(),
            branch_labels: &args.branch_label,
            depends_on: Vec::new(),
            version_path: None,
            format: args.format,
        },
    )
}

fn create(
    ctx: &Context,
    map: &RevisionMap,
    parents: Vec<String>,
    request: Request,
) -> Result<(), CliError> {
    let id = match request.rev_id {
        Some(id) => {
            let bad: Vec<String> = ILLEGAL_ID_CHARS
                .iter()
                .filter(|c| id.contains(**c))
                .map(|c| c.to_string())
                .collect();
            if !bad.is_empty() {
                return Err(CliError::Usage(format!(
                    "Character(s) '{}' not allowed in revision identifier '{id}'",
                    bad.join(", ")
                )));
            }
            if map.get(id).is_some() {
                return Err(CliError::Usage(format!(
                    "Revision {id} is already present; choose another --rev-id"
                )));
            }
            id.to_string()
        }
        None => render::generate_revision_id(),
    };
    let format = match request.format {
        Some(Format::Sql) => ScriptFormat::Sql,
        Some(Format::Py) => ScriptFormat::Python,
        None => match ctx.settings.revision_format {
            Some(RevisionFormat::Python) => ScriptFormat::Python,
            Some(RevisionFormat::Sql) => ScriptFormat::Sql,
            None if ctx.settings.is_alembic_ini() => ScriptFormat::Python,
            None => ScriptFormat::Sql,
        },
    };
    let message = request.message.unwrap_or("empty message").to_string();
    let folder = version_folder(ctx, map, &parents, request.version_path)?;
    let new = NewRevision {
        id: id.clone(),
        message: message.clone(),
        down_revisions: parents,
        branch_labels: request.branch_labels.to_vec(),
        depends_on: request.depends_on,
        create_date: render::now_create_date(),
    };
    let text = match format {
        ScriptFormat::Sql => render::render_sql(&new),
        ScriptFormat::Python => render::render_python(&new),
    };
    let path = folder.join(render::file_name(&id, &message, format));
    if path.exists() {
        return Err(CliError::Usage(format!(
            "{} already exists; choose another --rev-id or message",
            path.display()
        )));
    }
    std::fs::write(&path, text)
        .map_err(|e| CliError::io(format!("cannot write {}", path.display()), e))?;
    let shown = std::path::absolute(&path).unwrap_or(path);
    println!("Generating {} ...  done", shown.display());
    Ok(())
}

/// Alembic's choice of folder: `--version-path` (which must be a version location), else the
/// only version location, else the folder of the first parent's file (a folder inside a
/// version location is accepted, for `recursive_version_locations`).
fn version_folder(
    ctx: &Context,
    map: &RevisionMap,
    parents: &[String],
    explicit: Option<&Path>,
) -> Result<PathBuf, CliError> {
    let locations = &ctx.settings.version_locations;
    let chosen: PathBuf = match explicit {
        Some(path) => path.to_path_buf(),
        None if locations.len() == 1 => locations[0].clone(),
        None => parents
            .iter()
            .filter_map(|p| map.get(p))
            .filter_map(|rev| rev.path.parent().map(Path::to_path_buf))
            .next()
            .ok_or_else(|| {
                CliError::Usage(
                    "Multiple version locations present, please specify --version-path".to_string(),
                )
            })?,
    };
    let normalized = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    if !locations
        .iter()
        .any(|loc| normalized(&chosen).starts_with(normalized(loc)))
    {
        return Err(CliError::Usage(format!(
            "Path {} is not represented in current version locations",
            chosen.display()
        )));
    }
    if !chosen.is_dir() {
        std::fs::create_dir_all(&chosen)
            .map_err(|e| CliError::io(format!("cannot create {}", chosen.display()), e))?;
    }
    Ok(chosen)
}
