//! Writing new revisions (`migrate revision`, `migrate merge`) with Alembic's rules.
//!
//! Data in: the [`RevisionMap`] of the existing files, the project's [`ProjectLayout`]
//! (version locations, `script.py.mako`, `file_template`, `truncate_slug_length`) and a
//! [`RevisionRequest`]; out: a [`PreparedRevision`], the file's path and text, that
//! [`PreparedRevision::write`] puts on disk. The rules, each as Alembic applies them:
//!
//! - the id: `--rev-id` or 12 random hex characters; never `@ - + :` (Alembic's words), nor
//!   whitespace or `,` (which the `.sql` header could not hold), nor longer than the version
//!   table's `version_num VARCHAR(32)`, nor an id already present;
//! - the parents: `--head` resolved (a head unless `--splice`), or for a merge every named
//!   revision, each once;
//! - the folder: `--version-path` (one of the version locations), else the only version
//!   location, else the first parent's;
//! - the file name: `file_template` (default `%(rev)s_%(slug)s`) over the message's slug, the
//!   id and the date, plus `.py` or `.sql`; a `/` in it makes sub-folders;
//! - the format ([`choose_format`]): the flag, else `revision_format`, else `.py` when the
//!   configuration is an `alembic.ini` or every existing revision is `.py`, else `.sql`;
//! - the text: `.py` from the project's `script.py.mako` ([`mako`]), else Alembic's default
//!   template; `.sql` in the native format.

pub mod file_template;
pub mod mako;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::graph::RevisionMap;
use crate::render::{self, CreateDate, NewRevision};
use crate::revision::ScriptFormat;

pub use file_template::{slug, FileTemplateError, DEFAULT_FILE_TEMPLATE};
pub use mako::{Template, TemplateError};

/// The longest revision id the version table holds: `version_num VARCHAR(32)`.
pub const MAX_REVISION_ID_LENGTH: usize = 32;

/// Characters Alembic refuses in a revision id.
const ALEMBIC_ILLEGAL: [char; 4] = ['@', '-', '+', ':'];

/// Why a new revision cannot be written. Messages are Alembic's where it has them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthoringError {
    /// The id holds characters revision identifiers cannot.
    #[error("Character(s) '{}' not allowed in revision identifier '{id}'", .characters.join(", "))]
    IllegalCharacters {
        /// The id given.
        id: String,
        /// The characters refused, sorted as Alembic lists them.
        characters: Vec<String>,
    },
    /// The id does not fit the version table's column.
    #[error(
        "revision id '{id}' is {length} characters long, but the version table's version_num column holds at \
         most {max} (VARCHAR({max})), so upgrading to it would fail; choose a shorter --rev-id"
    )]
    IdTooLong {
        /// The id given.
        id: String,
        /// Its length in characters.
        length: usize,
        /// The column's length.
        max: usize,
    },
    /// A revision with this id exists.
    #[error("Revision {id} is already present; choose another --rev-id")]
    IdExists {
        /// The id given.
        id: String,
    },
    /// A `--branch-label` is already a label or the id of a revision in the folder (Alembic
    /// writes the file and then refuses to load the folder; this refuses before writing).
    #[error("Branch name '{label}' already used by revision {revision} ({}); choose another --branch-label", .path.display())]
    LabelExists {
        /// The label given.
        label: String,
        /// The revision that has it (as a label or as its id).
        revision: String,
        /// That revision's file.
        path: PathBuf,
    },
    /// A merge names the same revision twice.
    #[error("Duplicate head revisions specified")]
    DuplicateHeads,
    /// No folder can be chosen.
    #[error("Multiple version locations present, please specify --version-path")]
    MultipleVersionLocations,
    /// `--version-path` is not a version location.
    #[error("Path {} is not represented in current version locations", .path.display())]
    NotAVersionLocation {
        /// The folder given.
        path: PathBuf,
    },
    /// The file to write exists.
    #[error("{} already exists; choose another --rev-id or message", .path.display())]
    FileExists {
        /// The file.
        path: PathBuf,
    },
    /// `script.py.mako` could not be rendered.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// `file_template` could not be applied.
    #[error(transparent)]
    FileTemplate(#[from] FileTemplateError),
    /// Resolving `--head`, a merge's revisions or `--depends-on` failed.
    #[error(transparent)]
    Revision(#[from] crate::Error),
    /// A file or folder could not be read or written.
    #[error("{what} {}: {source}", .path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Where the new revision goes and how it is named.
#[derive(Debug, Clone, Default)]
pub struct ProjectLayout {
    /// The folders revisions are read from.
    pub version_locations: Vec<PathBuf>,
    /// The folder holding `script.py.mako` (Alembic's `script_location`), when configured.
    pub script_location: Option<PathBuf>,
    /// Alembic's `file_template`; `None` for `%(rev)s_%(slug)s`.
    pub file_template: Option<String>,
    /// Alembic's `truncate_slug_length`; `None` (or 0) for 40.
    pub truncate_slug_length: Option<usize>,
}

/// What the new revision builds on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parents {
    /// `revision --head REV [--splice]`.
    Head {
        /// The identifier (`head`, `base`, an id, `label@head`).
        head: String,
        /// Whether `head` may be a revision that is not a head (a new branch).
        splice: bool,
    },
    /// `merge REVS...`: every revision they name.
    Merge(Vec<String>),
}

/// What the caller asks for.
#[derive(Debug, Clone)]
pub struct RevisionRequest {
    /// `-m`; `None` writes Alembic's `empty message`.
    pub message: Option<String>,
    /// `--rev-id`; `None` or empty for a generated one.
    pub rev_id: Option<String>,
    /// The parents.
    pub parents: Parents,
    /// `--branch-label`s.
    pub branch_labels: Vec<String>,
    /// `--depends-on`s, as given (partial ids become full ids, labels stay).
    pub depends_on: Vec<String>,
    /// `--version-path`.
    pub version_path: Option<PathBuf>,
    /// The format, from [`choose_format`].
    pub format: ScriptFormat,
    /// When it is created.
    pub create_date: CreateDate,
}

/// A revision ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedRevision {
    /// Its id.
    pub id: String,
    /// Its format.
    pub format: ScriptFormat,
    /// The file to write.
    pub path: PathBuf,
    /// The file's text.
    pub text: String,
    /// Folders to create first (the version location, `file_template` sub-folders).
    pub new_directories: Vec<PathBuf>,
    /// The template the text was rendered from, when the project's own.
    pub template: Option<PathBuf>,
}

impl PreparedRevision {
    /// Creates the folders and writes the file (never over an existing one).
    pub fn write(&self) -> Result<(), AuthoringError> {
        for dir in &self.new_directories {
            std::fs::create_dir_all(dir).map_err(|source| AuthoringError::Io {
                what: "cannot create",
                path: dir.clone(),
                source,
            })?;
        }
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&self.path)
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::AlreadyExists => AuthoringError::FileExists {
                    path: self.path.clone(),
                },
                _ => AuthoringError::Io {
                    what: "cannot write",
                    path: self.path.clone(),
                    source,
                },
            })?;
        file.write_all(self.text.as_bytes())
            .map_err(|source| AuthoringError::Io {
                what: "cannot write",
                path: self.path.clone(),
                source,
            })
    }
}

/// Why [`choose_format`] chose what it chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatReason {
    /// `--format`.
    Flag,
    /// `revision_format` in the configuration.
    Configured,
    /// The configuration is an `alembic.ini`.
    AlembicIni,
    /// Every existing revision is a `.py` file.
    PythonFolder,
    /// None of the above: the native format.
    Default,
}

/// The format a new revision is written in: `flag`, else `configured`, else `.py` when the
/// configuration is an `alembic.ini` or every revision of `map` is `.py` (there is at least
/// one), else `.sql`.
pub fn choose_format(
    flag: Option<ScriptFormat>,
    configured: Option<ScriptFormat>,
    alembic_ini: bool,
    map: &RevisionMap,
) -> (ScriptFormat, FormatReason) {
    if let Some(format) = flag {
        return (format, FormatReason::Flag);
    }
    if let Some(format) = configured {
        return (format, FormatReason::Configured);
    }
    if alembic_ini {
        return (ScriptFormat::Python, FormatReason::AlembicIni);
    }
    let revisions = map.revisions();
    if !revisions.is_empty() && revisions.iter().all(|r| r.format == ScriptFormat::Python) {
        return (ScriptFormat::Python, FormatReason::PythonFolder);
    }
    (ScriptFormat::Sql, FormatReason::Default)
}

/// Checks an id given with `--rev-id`: Alembic's characters, migrate's (whitespace and `,`,
/// which a `.sql` header's `Revises:` list could not hold), the version column's length.
pub fn check_revision_id(id: &str) -> Result<(), AuthoringError> {
    let mut bad: Vec<char> = id
        .chars()
        .filter(|c| ALEMBIC_ILLEGAL.contains(c) || c.is_whitespace() || *c == ',')
        .collect();
    bad.sort_unstable();
    bad.dedup();
    if !bad.is_empty() {
        return Err(AuthoringError::IllegalCharacters {
            id: id.to_string(),
            characters: bad.into_iter().map(String::from).collect(),
        });
    }
    let length = id.chars().count();
    if length > MAX_REVISION_ID_LENGTH {
        return Err(AuthoringError::IdTooLong {
            id: id.to_string(),
            length,
            max: MAX_REVISION_ID_LENGTH,
        });
    }
    Ok(())
}

/// Applies every rule and renders the file; nothing is written.
pub fn prepare(
    map: &RevisionMap,
    layout: &ProjectLayout,
    request: RevisionRequest,
) -> Result<PreparedRevision, AuthoringError> {
    let id = match request.rev_id.as_deref().filter(|id| !id.is_empty()) {
        Some(id) => {
            check_revision_id(id)?;
            if map.get(id).is_some() {
                return Err(AuthoringError::IdExists { id: id.to_string() });
            }
            id.to_string()
        }
        None => render::generate_revision_id(),
    };
    let parents = match &request.parents {
        Parents::Head { head, splice } => map.new_revision_parents(head, *splice)?,
        Parents::Merge(revisions) => {
            let mut parents: Vec<String> = Vec::new();
            for rev in revisions {
                for parent in map.new_revision_parents(rev, false)? {
                    if parents.contains(&parent) {
                        return Err(AuthoringError::DuplicateHeads);
                    }
                    parents.push(parent);
                }
            }
            parents
        }
    };
    for label in &request.branch_labels {
        let holder = map.get(label).or_else(|| {
            map.revisions()
                .iter()
                .find(|r| r.branch_labels.iter().any(|l| l == label))
        });
        if let Some(r) = holder {
            return Err(AuthoringError::LabelExists {
                label: label.clone(),
                revision: r.id.clone(),
                path: r.path.clone(),
            });
        }
    }
    let depends_on = map.resolve_depends_on(&request.depends_on)?;
    let (folder, mut new_directories) = version_folder(
        map,
        &layout.version_locations,
        &parents,
        request.version_path.as_deref(),
    )?;

    let truncate = layout
        .truncate_slug_length
        .filter(|n| *n > 0)
        .unwrap_or(render::TRUNCATE_SLUG_LENGTH);
    let slug = slug(request.message.as_deref().unwrap_or(""), truncate);
    let template = layout
        .file_template
        .as_deref()
        .unwrap_or(DEFAULT_FILE_TEMPLATE);
    let stem = file_template::apply(template, &id, &slug, &request.create_date)?;
    let path = folder.join(format!("{stem}.{}", render::extension(request.format)));
    if let Some(parent) = path.parent().filter(|p| !p.is_dir()) {
        if !new_directories.iter().any(|d| d == parent) {
            new_directories.push(parent.to_path_buf());
        }
    }
    if path.exists() {
        return Err(AuthoringError::FileExists { path });
    }

    let new = NewRevision {
        id: id.clone(),
        message: request
            .message
            .clone()
            .unwrap_or_else(|| "empty message".to_string()),
        down_revisions: parents,
        branch_labels: request.branch_labels.clone(),
        depends_on,
        create_date: request.create_date.to_string(),
    };
    let mako = layout
        .script_location
        .as_ref()
        .map(|dir| dir.join("script.py.mako"))
        .filter(|p| p.is_file());
    let (text, template) = match (request.format, mako) {
        (ScriptFormat::Sql, _) => (render::render_sql(&new), None),
        (ScriptFormat::Python, None) => (render::render_python(&new), None),
        (ScriptFormat::Python, Some(mako)) => {
            let source = std::fs::read_to_string(&mako).map_err(|source| AuthoringError::Io {
                what: "cannot read",
                path: mako.clone(),
                source,
            })?;
            let template = Template::parse(&source, &mako.display().to_string())?;
            let vars = template_vars(&new, request.message.as_deref(), &request.create_date);
            (template.render(&vars)?, Some(mako))
        }
    };
    Ok(PreparedRevision {
        id,
        format: request.format,
        path,
        text,
        new_directories,
        template,
    })
}

/// The variables Alembic's `generate_revision` gives `script.py.mako`: `up_revision`,
/// `down_revision` (a string for one parent, a tuple for several, `None`), `branch_labels` (a
/// tuple or `None`), `depends_on` (a string for one, a list for several, `None`),
/// `create_date`, `message` (`empty message` without `-m`), `comma` and `config`.
pub fn template_vars(
    rev: &NewRevision,
    message: Option<&str>,
    create_date: &CreateDate,
) -> BTreeMap<String, mako::Value> {
    use mako::Value;
    let strings = |items: &[String]| items.iter().cloned().map(Value::Str).collect::<Vec<_>>();
    let scalar_or = |items: &[String], many: fn(Vec<Value>) -> Value| match items {
        [] => Value::None,
        [one] => Value::Str(one.clone()),
        _ => many(strings(items)),
    };
    BTreeMap::from([
        ("up_revision".to_string(), Value::Str(rev.id.clone())),
        (
            "down_revision".to_string(),
            scalar_or(&rev.down_revisions, Value::Tuple),
        ),
        (
            "branch_labels".to_string(),
            if rev.branch_labels.is_empty() {
                Value::None
            } else {
                Value::Tuple(strings(&rev.branch_labels))
            },
        ),
        (
            "depends_on".to_string(),
            scalar_or(&rev.depends_on, Value::List),
        ),
        ("create_date".to_string(), Value::DateTime(*create_date)),
        (
            "message".to_string(),
            Value::Str(message.unwrap_or("empty message").to_string()),
        ),
        ("comma".to_string(), Value::Function(mako::Function::Comma)),
        (
            "config".to_string(),
            Value::Opaque("Alembic's config object"),
        ),
    ])
}

/// Alembic's choice of folder: `explicit` (which must be a version location, or inside one for
/// `recursive_version_locations`), else the only version location, else the folder of the
/// first parent's file; with the folders to create.
fn version_folder(
    map: &RevisionMap,
    locations: &[PathBuf],
    parents: &[String],
    explicit: Option<&Path>,
) -> Result<(PathBuf, Vec<PathBuf>), AuthoringError> {
    let chosen: PathBuf = match explicit {
        Some(path) => path.to_path_buf(),
        None if locations.len() == 1 => locations[0].clone(),
        None => parents
            .iter()
            .filter_map(|p| map.get(p))
            .filter_map(|rev| rev.path.parent().map(Path::to_path_buf))
            .next()
            .ok_or(AuthoringError::MultipleVersionLocations)?,
    };
    let normalized = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    if !locations
        .iter()
        .any(|loc| normalized(&chosen).starts_with(normalized(loc)))
    {
        return Err(AuthoringError::NotAVersionLocation { path: chosen });
    }
    let create = if chosen.is_dir() {
        Vec::new()
    } else {
        vec![chosen.clone()]
    };
    Ok((chosen, create))
}

#[cfg(test)]
mod tests;
