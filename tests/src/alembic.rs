//! Real Alembic, the reference every expected Alembic value in the tests comes from.
//!
//! It lives in a virtualenv: `$VENV`, default `/opt/alembic-venv`, where
//! `../shared/alembic-oracle/setup.sh` and `.ci/run` install Alembic 1.20.1 with SQLAlchemy 2,
//! psycopg2 and PyMySQL. Values the tests compare with are written by committed generators
//! (Python scripts run with that venv); [`assert_regenerates`] checks that a committed file is
//! still what its generator prints.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::need::skip;

/// The Alembic release the references come from.
pub const VERSION: &str = "1.20.1";

/// The virtualenv holding Alembic: `$VENV`, default `/opt/alembic-venv`.
pub fn venv() -> PathBuf {
    std::env::var_os("VENV")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/alembic-venv"))
}

/// Why the venv cannot serve as the reference, or `None` when it can (checked once).
fn unusable() -> Option<&'static str> {
    static CHECK: OnceLock<Option<String>> = OnceLock::new();
    CHECK
        .get_or_init(|| {
            let venv = venv();
            let python = venv.join("bin/python");
            let probe = format!(
                "import alembic, sqlalchemy, psycopg2, pymysql; \
                 assert alembic.__version__ == {VERSION:?}, alembic.__version__"
            );
            let out = Command::new(&python)
                .args(["-c", &probe])
                .stdin(Stdio::null())
                .output();
            let why = match out {
                Err(e) => format!("cannot run {}: {e}", python.display()),
                Ok(o) if o.status.success() => return None,
                Ok(o) => String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
                    .to_string(),
            };
            Some(format!(
                "real Alembic {VERSION} (with SQLAlchemy, psycopg2 and PyMySQL) is not installed \
                 in {} ({why}); install it with .ci/run or `VENV={} bash \
                 ../shared/alembic-oracle/setup.sh`",
                venv.display(),
                venv.display()
            ))
        })
        .as_deref()
}

/// The venv's Python, when it has Alembic; `None` after [`skip`]ping otherwise.
#[track_caller]
pub fn python() -> Option<PathBuf> {
    match unusable() {
        None => Some(venv().join("bin/python")),
        Some(why) => {
            skip(why);
            None
        }
    }
}

/// The venv's `alembic` command, when it has Alembic; `None` after [`skip`]ping otherwise.
#[track_caller]
pub fn alembic() -> Option<PathBuf> {
    python().map(|_| venv().join("bin/alembic"))
}

/// Runs the generator `script` (`python SCRIPT ARGS`, in the script's folder, with
/// `PYTHONHASHSEED=0` so that Python's set order is the same every run) and returns its
/// stdout; `None` after [`skip`]ping when Alembic is missing. Panics when the script fails.
#[track_caller]
pub fn run_generator(script: &Path, args: &[&str]) -> Option<String> {
    let python = python()?;
    let dir = script.parent().expect("the generator is in a folder");
    let out = Command::new(python)
        .current_dir(dir)
        .arg(script)
        .args(args)
        .env("PYTHONHASHSEED", "0")
        .env("VENV", venv())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} failed:\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("the generator prints UTF-8"))
}

/// Asserts that `committed` holds exactly what the generator `script` prints now (see
/// [`run_generator`]); says which line differs first, and how to regenerate the file.
#[track_caller]
pub fn assert_regenerates(script: &Path, args: &[&str], committed: &Path) {
    let Some(fresh) = run_generator(script, args) else {
        return;
    };
    let stored = std::fs::read_to_string(committed)
        .unwrap_or_else(|e| panic!("reading {}: {e}", committed.display()));
    if fresh == stored {
        return;
    }
    let line = fresh
        .lines()
        .zip(stored.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| fresh.lines().count().min(stored.lines().count()));
    panic!(
        "{} is not what {} prints now: first difference at line {}\n  committed: {:?}\n  alembic:   {:?}\n\
         Regenerate it: cd {} && PYTHONHASHSEED=0 {}/bin/python {} {} > {}",
        committed.display(),
        script.display(),
        line + 1,
        stored.lines().nth(line).unwrap_or("(end of file)"),
        fresh.lines().nth(line).unwrap_or("(end of output)"),
        script.parent().map(Path::display).expect("a folder"),
        venv().display(),
        script.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
        args.join(" "),
        committed.display(),
    );
}
