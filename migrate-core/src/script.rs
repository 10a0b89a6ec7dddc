//! Finding and reading the revision files of a project's version locations.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};
use crate::graph::RevisionMap;
use crate::revision::{Contents, Revision};

/// The parsed revision files of one or more version folders.
#[derive(Debug, Clone)]
pub struct ScriptDirectory {
    revisions: Vec<Revision>,
}

/// True for the file names Alembic (and `migrate`) read as revisions: `*.py` and `*.sql`, not
/// `__init__.py`, not hidden or editor files.
fn is_revision_file(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    if name.starts_with('.') || name.starts_with("__init__") {
        return false;
    }
    name.ends_with(".py") || name.ends_with(".sql")
}

/// Append the revision files of `dir` to `out`, sorted by name as Python's `sorted()` sorts
/// them (by code point, which for UTF-8 names is byte order), then those of its sub-folders
/// when `recursive`.
fn list_dir(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> Result<()> {
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files: Vec<OsString> = Vec::new();
    let mut dirs: Vec<OsString> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        let kind = entry.file_type().map_err(io)?;
        if kind.is_dir() {
            if name != "__pycache__" {
                dirs.push(name);
            }
        } else if kind.is_symlink() && dir.join(&name).is_dir() {
            // `os.walk` lists a link to a folder among the folders and does not enter it.
        } else if is_revision_file(&name) {
            files.push(name);
        }
    }
    let by_bytes = |a: &OsString, b: &OsString| a.as_encoded_bytes().cmp(b.as_encoded_bytes());
    files.sort_unstable_by(by_bytes);
    out.reserve(files.len());
    // `dir.join(name)` parses `name` for a root first; a listed name is one plain component.
    let base = dir.as_os_str();
    out.extend(files.iter().map(|name| {
        let mut path = OsString::with_capacity(base.len() + 1 + name.len());
        path.push(base);
        let last = base.as_encoded_bytes().last().copied();
        if last.is_some_and(|b| b != b'/' && b != std::path::MAIN_SEPARATOR as u8) {
            path.push(std::path::MAIN_SEPARATOR_STR);
        }
        path.push(name);
        PathBuf::from(path)
    }));
    if recursive {
        dirs.sort_unstable_by(by_bytes);
        for d in dirs {
            list_dir(&dir.join(d), true, out)?;
        }
    }
    Ok(())
}

/// Read the whole file at `path` into `buf` (reused from file to file, so most files cost no
/// allocation and no `stat`), returning how many bytes it holds.
fn read_file(path: &Path, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut file = std::fs::File::open(path)?;
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize((buf.len() * 2).max(16 * 1024), 0);
        }
        match file.read(&mut buf[len..]) {
            Ok(0) => return Ok(len),
            Ok(read) => len += read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Read and parse one file, with `buf` as scratch space.
fn load_one(path: &Path, buf: &mut Vec<u8>, contents: Contents) -> Result<Revision> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let len = read_file(path, buf).map_err(io)?;
    let text = std::str::from_utf8(&buf[..len]).map_err(|e| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "the file is not valid UTF-8 (byte {}); save it as UTF-8",
                e.valid_up_to()
            ),
        ))
    })?;
    if path.extension().is_some_and(|e| e == "sql") {
        crate::sqlfile::parse(path, text, contents)
    } else {
        crate::python::parse(path, text, contents)
    }
}

/// Read and parse `files`, keeping their order. Large folders are read by a few threads at
/// once: reading and parsing one small file costs about as much as the system calls that open
/// it, so the work divides well. Threads take batches of files from a shared counter, so a
/// slow thread does not hold the others up; when files fail, the error of the first failing
/// file in order is returned, as a sequential read would.
fn load_all(files: &[PathBuf], contents: Contents) -> Result<Vec<Revision>> {
    const BATCH: usize = 64;
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(files.len() / (4 * BATCH))
        .min(8);
    if threads <= 1 {
        let mut buf = Vec::new();
        return files
            .iter()
            .map(|p| load_one(p, &mut buf, contents))
            .collect();
    }
    let next = AtomicUsize::new(0);
    // The first batch holding a failure: batches after it need not be read.
    let first_failure = AtomicUsize::new(usize::MAX);
    let work = || {
        let mut buf = Vec::new();
        let mut done: Vec<(usize, Result<Vec<Revision>>)> = Vec::new();
        loop {
            let batch = next.fetch_add(1, Ordering::Relaxed);
            let start = batch * BATCH;
            if start >= files.len() || batch > first_failure.load(Ordering::Relaxed) {
                return done;
            }
            let part = &files[start..(start + BATCH).min(files.len())];
            let loaded = part
                .iter()
                .map(|p| load_one(p, &mut buf, contents))
                .collect::<Result<Vec<Revision>>>();
            if loaded.is_err() {
                first_failure.fetch_min(batch, Ordering::Relaxed);
            }
            done.push((batch, loaded));
        }
    };
    let mut batches = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut batches = work();
        for helper in helpers {
            match helper.join() {
                Ok(part) => batches.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        batches
    });
    batches.sort_unstable_by_key(|(batch, _)| *batch);
    let mut out = Vec::with_capacity(files.len());
    for (_, loaded) in batches {
        out.extend(loaded?);
    }
    Ok(out)
}

impl ScriptDirectory {
    /// Read every revision file (`*.py`, `*.sql`) of `locations`, in Alembic's order (each
    /// folder's files sorted by name, sub-folders after when `recursive`; like Alembic's
    /// `os.walk`, links to folders are not followed). A location that does not exist is
    /// skipped, as Alembic does; a file that is not a valid revision is an error naming it.
    pub fn load(locations: &[PathBuf], recursive: bool) -> Result<ScriptDirectory> {
        ScriptDirectory::load_with(locations, recursive, Contents::Full)
    }

    /// [`ScriptDirectory::load`], reading only as much of each file as `contents` says:
    /// [`Contents::Header`] is enough for every command that runs no SQL, and costs about half
    /// as much for `.py` files.
    pub fn load_with(
        locations: &[PathBuf],
        recursive: bool,
        contents: Contents,
    ) -> Result<ScriptDirectory> {
        // A folder named twice is read once; folders are compared by their real path.
        let mut files = Vec::new();
        let mut seen_dirs = HashSet::new();
        for loc in locations {
            if loc.is_dir() {
                let real = std::fs::canonicalize(loc).unwrap_or_else(|_| loc.clone());
                if seen_dirs.insert(real) {
                    list_dir(loc, recursive, &mut files)?;
                }
            }
        }
        // With several folders, one may hold another (`recursive`) or reach the same file
        // through a link: as Alembic does, a file whose real path was already read is skipped.
        // One folder cannot list a file twice, so the common case pays for no `realpath`.
        if seen_dirs.len() > 1 {
            let mut seen_files = HashSet::new();
            files.retain(|path| {
                seen_files.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone()))
            });
        }
        let revisions = load_all(&files, contents)?;
        Ok(ScriptDirectory { revisions })
    }

    /// Read one revision file.
    pub fn load_file(path: &Path) -> Result<Revision> {
        load_one(path, &mut Vec::new(), Contents::Full)
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
