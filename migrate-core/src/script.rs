//! Finding and reading the revision files of a project's version locations.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::graph::RevisionMap;
use crate::python::parse_python_revision;
use crate::revision::Revision;
use crate::sqlfile::parse_sql_revision;

/// The parsed revision files of one or more version folders.
#[derive(Debug, Clone)]
pub struct ScriptDirectory {
    revisions: Vec<Revision>,
}

/// True for the files Alembic (and `migrate`) read as revisions: `*.py` and `*.sql`, not
/// `__init__.py`, not hidden or editor files.
fn is_revision_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    if name.starts_with('.') || name.starts_with("__init__") || name.starts_with(".#") {
        return false;
    }
    name.ends_with(".py") || name.ends_with(".sql")
}

fn list_dir(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> Result<()> {
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io)?;
        if kind.is_dir() || (kind.is_symlink() && path.is_dir()) {
            if path.file_name().is_some_and(|n| n != "__pycache__") {
                dirs.push(path);
            }
        } else if is_revision_file(&path) {
            files.push(path);
        }
    }
    files.sort();
    out.extend(files);
    if recursive {
        dirs.sort();
        for d in dirs {
            list_dir(&d, true, out)?;
        }
    }
    Ok(())
}

/// Read and parse `files`, in order. Large folders are read by a few threads at once (reading
/// and parsing one small file costs about as much as the system calls that open it, so the
/// work divides well); the result keeps the files' order.
fn load_all(files: &[PathBuf]) -> Result<Vec<Revision>> {
    const PER_THREAD: usize = 256;
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(files.len() / PER_THREAD)
        .min(8);
    if threads <= 1 {
        return files
            .iter()
            .map(|p| ScriptDirectory::load_file(p))
            .collect();
    }
    let chunk = files.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|p| ScriptDirectory::load_file(p))
                        .collect::<Result<Vec<Revision>>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(files.len());
        for worker in workers {
            match worker.join() {
                Ok(part) => out.extend(part?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(out)
    })
}

impl ScriptDirectory {
    /// Read every revision file (`*.py`, `*.sql`) of `locations`, in Alembic's order (each
    /// folder's files sorted by name, sub-folders after when `recursive`). A location that does
    /// not exist is skipped, as Alembic does; a file that is not a valid revision is an error
    /// naming it.
    pub fn load(locations: &[PathBuf], recursive: bool) -> Result<ScriptDirectory> {
        // A folder named twice (or nested in another with `recursive`) is read once, as Alembic
        // warns and skips files loaded twice; folders are compared by their real path.
        let mut files = Vec::new();
        let mut seen_dirs = std::collections::HashSet::new();
        for loc in locations {
            if loc.is_dir() {
                let real = std::fs::canonicalize(loc).unwrap_or_else(|_| loc.clone());
                if seen_dirs.insert(real) {
                    list_dir(loc, recursive, &mut files)?;
                }
            }
        }
        let mut seen_files = std::collections::HashSet::new();
        files.retain(|path| seen_files.insert(path.clone()));
        let revisions = load_all(&files)?;
        Ok(ScriptDirectory { revisions })
    }

    /// Read one revision file.
    pub fn load_file(path: &Path) -> Result<Revision> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if path.extension().is_some_and(|e| e == "sql") {
            parse_sql_revision(path, &text)
        } else {
            parse_python_revision(path, &text)
        }
    }

    /// Build from revisions already in memory (tests, embedded migrations).
    pub fn from_revisions(revisions: Vec<Revision>) -> ScriptDirectory {
        ScriptDirectory { revisions }
    }

    /// The revisions, in the order their files were read.
    pub fn revisions(&self) -> &[Revision] {
        &self.revisions
    }

    /// Build and validate the revision graph.
    pub fn into_map(self) -> Result<RevisionMap> {
        RevisionMap::new(self.revisions)
    }
}
