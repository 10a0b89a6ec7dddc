//! Shared helpers of the end-to-end tests: the built `migrate` binary, temporary projects, and
//! a fresh database per test on SQLite, PostgreSQL and MariaDB.
//!
//! PostgreSQL and MariaDB tests run when `MIGRATE_TEST_POSTGRES_URL` / `MIGRATE_TEST_MYSQL_URL`
//! name a server (e.g. `postgres://postgres@127.0.0.1:5432/test`,
//! `mysql://root@127.0.0.1:3306/test`); each test creates its own `mt_<random>` database there
//! and drops it afterwards (also when it fails), so tests run in parallel. Unset, a test says
//! `skipped: TEST: VAR is not set` on stderr and passes, unless `MIGRATE_TEST_REQUIRE_ALL=1`,
//! which makes it fail. The servers, the skips and Alembic's location come from the test kit
//! (`migrate_tests`, this crate's library), which the backends' own tests share.

#![allow(dead_code, unused_imports)] // each test file uses its own subset

pub mod executors;
pub mod json;
pub mod reference;

use std::path::{Path, PathBuf};

pub use migrate_tests::wait::{output_within, PROCESS_LIMIT};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::SystemTime;

/// The repository root (the workspace).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives inside the workspace")
        .to_path_buf()
}

/// A fixture folder under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

// ---------------------------------------------------------------------------------------------
// The binary

/// The `migrate` binary of this build profile, built first when it is missing or older than
/// the workspace's sources. `MIGRATE_BIN` names another binary instead.
pub fn migrate_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(path) = std::env::var_os("MIGRATE_BIN") {
            return PathBuf::from(path);
        }
        // The test executable is target/<profile>/deps/<name>-<hash>; the binary sits in
        // target/<profile>/.
        let exe = std::env::current_exe().expect("path of the test executable");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test executable under target/<profile>/deps")
            .to_path_buf();
        let bin = profile_dir.join(format!("migrate{}", std::env::consts::EXE_SUFFIX));
        if is_stale(&bin) {
            build_cli(&profile_dir);
        }
        assert!(bin.is_file(), "{} was not built", bin.display());
        bin
    })
}

/// Whether `bin` is missing or older than a source file of the crates it is built from.
fn is_stale(bin: &Path) -> bool {
    let Ok(built) = bin.metadata().and_then(|m| m.modified()) else {
        return true;
    };
    let root = repo_root();
    let mut newest = SystemTime::UNIX_EPOCH;
    let mut visit = vec![root.join("Cargo.lock"), root.join("Cargo.toml")];
    for krate in [
        "migrate-core",
        "migrate-sqlite",
        "migrate-postgres",
        "migrate-mysql",
        "migrate-cli",
    ] {
        visit.push(root.join(krate).join("Cargo.toml"));
        visit.push(root.join(krate).join("src"));
    }
    while let Some(path) = visit.pop() {
        let Ok(meta) = path.metadata() else { continue };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                visit.extend(entries.flatten().map(|e| e.path()));
            }
        } else if let Ok(modified) = meta.modified() {
            newest = newest.max(modified);
        }
    }
    newest > built
}

/// `cargo build -p migrate-cli` into the target folder and profile the tests were built with.
fn build_cli(profile_dir: &Path) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let target_dir = profile_dir.parent().expect("target/<profile> has a parent");
    let mut cmd = Command::new(cargo);
    cmd.current_dir(repo_root())
        .args(["build", "--quiet", "-p", "migrate-cli", "--bin", "migrate"])
        .arg("--target-dir")
        .arg(target_dir);
    match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            cmd.arg("--release");
        }
        Some(other) => {
            cmd.args(["--profile", other]);
        }
    }
    let status = cmd.status().expect("running cargo build -p migrate-cli");
    assert!(status.success(), "cargo build -p migrate-cli failed");
}

// ---------------------------------------------------------------------------------------------
// Running the binary

/// What one `migrate` run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Everything on stdout.
    pub stdout: String,
    /// Everything on stderr.
    pub stderr: String,
    /// The command, for messages.
    pub args: String,
}

impl Run {
    fn from_output(args: String, out: Output) -> Run {
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            args,
        }
    }

    /// Asserts exit code 0; returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code,
            Some(0),
            "`migrate {}` failed\n--- stdout\n{}--- stderr\n{}",
            self.args,
            self.stdout,
            self.stderr
        );
        &self.stdout
    }

    /// Asserts a failure `migrate` reports (exit code 1: a migration or check failed, 2: a
    /// usage, configuration or input error, 3: the database unreachable or its lock not had;
    /// not a panic's 101 or a signal) and a `FAILED: ` line; returns that line's message.
    #[track_caller]
    pub fn failed(&self) -> String {
        assert!(
            matches!(self.code, Some(1..=3)) && !self.stderr.contains("panicked"),
            "`migrate {}` should have failed with exit code 1, 2 or 3 (code {:?})\n--- stdout\n{}--- stderr\n{}",
            self.args,
            self.code,
            self.stdout,
            self.stderr
        );
        let at = self.stderr.find("FAILED: ").unwrap_or_else(|| {
            panic!(
                "`migrate {}`: no FAILED line on stderr:\n{}",
                self.args, self.stderr
            )
        });
        self.stderr[at + "FAILED: ".len()..].trim_end().to_string()
    }

    /// [`Run::failed`] with exactly exit code `code`.
    #[track_caller]
    pub fn failed_with(&self, code: i32) -> String {
        let message = self.failed();
        assert_eq!(self.code, Some(code), "`migrate {}`: {message}", self.args);
        message
    }
}

/// Environment variables a developer's shell may hold that would change what `migrate` does;
/// every run starts without them, and a test adds back what it means to set.
fn is_configuration_variable(name: &str) -> bool {
    name == "DATABASE_URL"
        || name == "TEST_ENV"
        || name.starts_with("MIGRATE_")
        || name.starts_with("PG")
        || name.starts_with("POSTGRES_")
}

/// A `migrate` command in `dir` with a clean configuration environment.
pub fn migrate_command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(migrate_bin());
    cmd.current_dir(dir).args(args);
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(is_configuration_variable) {
            cmd.env_remove(name);
        }
    }
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs `migrate ARGS` in `dir` with `env` added.
pub fn migrate_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let child = migrate_command(dir, args, env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running migrate");
    let what = format!("`migrate {}`", args.join(" "));
    let out = output_within(child, PROCESS_LIMIT, &what);
    Run::from_output(args.join(" "), out)
}

// ---------------------------------------------------------------------------------------------
// Projects

/// A temporary project folder, removed at the end of the test.
pub struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    /// An empty project folder.
    pub fn empty() -> Project {
        Project {
            dir: tempfile::Builder::new()
                .prefix("migrate-e2e-")
                .tempdir()
                .expect("temporary folder"),
        }
    }

    /// A copy of the repository's `migrations/` with a `migrate.toml` pointing at `url`.
    pub fn example(url: &str) -> Project {
        let project = Project::empty();
        copy_dir(
            &repo_root().join("migrations"),
            &project.path().join("migrations"),
        );
        project.write(
            "migrate.toml",
            &format!("script_location = \"migrations\"\nurl = \"{url}\"\n"),
        );
        project
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `text` to `rel`, creating folders.
    pub fn write(&self, rel: &str, text: &str) -> &Project {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("creating folders");
        }
        std::fs::write(&path, text).expect("writing a project file");
        self
    }

    /// Reads `rel`.
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel))
            .unwrap_or_else(|e| panic!("reading {rel}: {e}"))
    }

    /// Copies the folder `from` to `rel`.
    pub fn copy(&self, from: &Path, rel: &str) -> &Project {
        copy_dir(from, &self.path().join(rel));
        self
    }

    /// Runs `migrate ARGS` in the project folder.
    pub fn migrate(&self, args: &[&str]) -> Run {
        migrate_in(self.path(), args, &[])
    }

    /// Runs `migrate ARGS` in the project folder with `env` added.
    pub fn migrate_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        migrate_in(self.path(), args, env)
    }

    /// Starts `migrate ARGS` without waiting (stdout and stderr piped).
    pub fn spawn(&self, args: &[&str]) -> Child {
        migrate_command(self.path(), args, &[])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting migrate")
    }

    /// The files of `rel`, sorted by name.
    pub fn files(&self, rel: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path().join(rel))
            .unwrap_or_else(|e| panic!("listing {rel}: {e}"))
            .flatten()
            .filter(|e| e.path().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// Waits for a spawned run (at most [`PROCESS_LIMIT`]).
/// Follows a spawned child's stderr: each line as it comes on the receiver, and all of it
/// from the thread once the child closes it.
pub fn follow_stderr(
    child: &mut Child,
) -> (
    std::sync::mpsc::Receiver<String>,
    std::thread::JoinHandle<String>,
) {
    use std::io::{BufRead, BufReader};
    let stderr = child.stderr.take().expect("stderr is piped");
    let (line_tx, lines) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            all.push_str(&line);
            all.push('\n');
            let _ = line_tx.send(line);
        }
        all
    });
    (lines, reader)
}

pub fn wait(child: Child, args: &str) -> Run {
    let out = output_within(child, PROCESS_LIMIT, &format!("`migrate {args}`"));
    Run::from_output(args.to_string(), out)
}

/// Copies a folder recursively (skipping `__pycache__`).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("creating a folder");
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.expect("reading a folder entry");
        let path = entry.path();
        if entry.file_name() == "__pycache__" {
            continue;
        }
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).expect("copying a file");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Databases

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// PostgreSQL (`MIGRATE_TEST_POSTGRES_URL`).
    Postgres,
    /// MariaDB or MySQL (`MIGRATE_TEST_MYSQL_URL`).
    Mysql,
}

pub use migrate_tests::need::{program, require_all, skip};
pub use migrate_tests::servers::{
    mysql_query, pg_query, random_name, server_url, sqlite_query, with_database, MYSQL_VAR,
    POSTGRES_VAR,
};
use migrate_tests::servers::{Server, ServerDatabase};

/// The companion table `migrate` records its steps in (Alembic neither creates nor reads it).
pub const HISTORY_TABLE: &str = "alembic_version_history";

/// Whether `table` is a history table `migrate` keeps beside a version table
/// (`<version_table>_history`; the tests name no table of their own so).
pub fn is_history_table(table: &str) -> bool {
    table.ends_with("_history")
}

/// A database of its own for one test, dropped at the end (also when the test fails).
pub struct TestDb {
    /// The backend.
    pub backend: Backend,
    /// The URL `migrate` is given.
    pub url: String,
    /// The database name on a server (`None` for SQLite).
    pub name: Option<String>,
    /// The server database, dropped with this value.
    server: Option<ServerDatabase>,
    sqlite_path: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A fresh SQLite file in a temporary folder of its own.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::Builder::new()
            .prefix("migrate-e2e-db-")
            .tempdir()
            .expect("temporary folder");
        let path = dir.path().join("test.db");
        TestDb::sqlite_at(&path, Some(dir))
    }

    /// A SQLite database at `path` (created on first use).
    pub fn sqlite_at(path: &Path, dir: Option<tempfile::TempDir>) -> TestDb {
        TestDb {
            backend: Backend::Sqlite,
            url: format!("sqlite:///{}", path.display()),
            name: None,
            server: None,
            sqlite_path: Some(path.to_path_buf()),
            _dir: dir,
        }
    }

    /// A fresh PostgreSQL database, or `None` when the test is skipped.
    pub fn postgres() -> Option<TestDb> {
        TestDb::postgres_named(&random_name())
    }

    /// A fresh PostgreSQL database called `name` (which must be unique to the test), or
    /// `None` when the test is skipped.
    pub fn postgres_named(name: &str) -> Option<TestDb> {
        TestDb::on_server(ServerDatabase::create_named(Server::Postgres, name)?)
    }

    /// A fresh MariaDB/MySQL database, or `None` when the test is skipped.
    pub fn mysql() -> Option<TestDb> {
        TestDb::on_server(ServerDatabase::create(Server::Mysql)?)
    }

    fn on_server(db: ServerDatabase) -> Option<TestDb> {
        Some(TestDb {
            backend: match db.server {
                Server::Postgres => Backend::Postgres,
                Server::Mysql => Backend::Mysql,
            },
            url: db.url.clone(),
            name: Some(db.name.clone()),
            server: Some(db),
            sqlite_path: None,
            _dir: None,
        })
    }

    /// A fresh database of `backend`, or `None` when the test is skipped.
    pub fn fresh(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => Some(TestDb::sqlite()),
            Backend::Postgres => TestDb::postgres(),
            Backend::Mysql => TestDb::mysql(),
        }
    }

    /// The SQLite file, for SQLite databases.
    pub fn sqlite_path(&self) -> Option<&Path> {
        self.sqlite_path.as_deref()
    }

    /// Runs `sql` (one statement) and returns its rows, every value as text (`None` = NULL).
    pub fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        match self.backend {
            Backend::Sqlite => {
                sqlite_query(self.sqlite_path.as_deref().unwrap_or(Path::new("")), sql)
            }
            Backend::Postgres => pg_query(&self.url, sql),
            Backend::Mysql => mysql_query(&self.url, sql),
        }
    }

    /// The first column of every row of `sql`, NULL as `"NULL"`.
    pub fn column(&self, sql: &str) -> Vec<String> {
        self.query(sql)
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .next()
                    .flatten()
                    .unwrap_or_else(|| "NULL".to_string())
            })
            .collect()
    }

    /// The user tables (not views) of the database, sorted; `migrate`'s history table (the
    /// companion `alembic_version_history`, which Alembic neither creates nor reads) is left
    /// out, so the lists compare with Alembic's: [`TestDb::history`] reads it.
    pub fn tables(&self) -> Vec<String> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
            }
            Backend::Mysql => {
                "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name"
            }
        };
        let mut tables = self.column(sql);
        tables.retain(|t| !is_history_table(t));
        tables
    }

    /// The rows of the history table as `revision direction outcome`, oldest first; `None`
    /// when it does not exist.
    pub fn history(&self) -> Option<Vec<String>> {
        let sql = match self.backend {
            Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version_history'",
            Backend::Postgres => "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'alembic_version_history'",
            Backend::Mysql => "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'alembic_version_history'",
        };
        if self.column(sql).is_empty() {
            return None;
        }
        Some(
            self.query(
                "SELECT revision, direction, outcome FROM alembic_version_history ORDER BY id",
            )
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|v| v.unwrap_or_else(|| "NULL".into()))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect(),
        )
    }

    /// The views of the database, sorted.
    pub fn views(&self) -> Vec<String> {
        let sql = match self.backend {
            Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name",
            Backend::Postgres => {
                "SELECT table_name FROM information_schema.views WHERE table_schema = 'public' ORDER BY table_name"
            }
            Backend::Mysql => {
                "SELECT table_name FROM information_schema.views WHERE table_schema = DATABASE() ORDER BY table_name"
            }
        };
        self.column(sql)
    }

    /// The columns of `table`, in order.
    pub fn columns(&self, table: &str) -> Vec<String> {
        let sql = match self.backend {
            Backend::Sqlite => format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"),
            Backend::Postgres => format!(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '{table}' ORDER BY ordinal_position"
            ),
            Backend::Mysql => format!(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '{table}' ORDER BY ordinal_position"
            ),
        };
        self.column(&sql)
    }

    /// A comparable description of the schema: every table and view, every column with its
    /// type, nullability and default, and every constraint (by name where the database names
    /// them), one sorted line each.
    pub fn schema(&self) -> Vec<String> {
        let mut lines = Vec::new();
        match self.backend {
            Backend::Sqlite => {
                for row in self.query(
                    "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
                ) {
                    let kind = row[0].clone().unwrap_or_default();
                    let name = row[1].clone().unwrap_or_default();
                    lines.push(format!("{kind} {name}"));
                    if kind == "table" || kind == "view" {
                        for col in self.query(&format!(
                            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('{name}')"
                        )) {
                            let col: Vec<String> =
                                col.into_iter().map(|v| v.unwrap_or_else(|| "NULL".into())).collect();
                            lines.push(format!("{name}.{}", col.join(" ")));
                        }
                    }
                }
            }
            Backend::Postgres => {
                lines.extend(self.column(
                    "SELECT table_name || ' ' || table_type FROM information_schema.tables \
                     WHERE table_schema = 'public'",
                ));
                lines.extend(self.column(
                    "SELECT table_name || '.' || column_name || ' ' || data_type || \
                     COALESCE('(' || character_maximum_length || ')', '') || ' ' || is_nullable || \
                     ' ' || COALESCE(column_default, '-') FROM information_schema.columns \
                     WHERE table_schema = 'public'",
                ));
                lines.extend(self.column(
                    "SELECT conrelid::regclass::text || ' ' || conname || ' ' || contype::text \
                     FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
                ));
            }
            Backend::Mysql => {
                lines.extend(self.column(
                    "SELECT CONCAT(table_name, ' ', table_type) FROM information_schema.tables \
                     WHERE table_schema = DATABASE()",
                ));
                lines.extend(self.column(
                    "SELECT CONCAT(table_name, '.', column_name, ' ', column_type, ' ', is_nullable, \
                     ' ', COALESCE(column_default, '-'), ' ', column_key) \
                     FROM information_schema.columns WHERE table_schema = DATABASE()",
                ));
                lines.extend(self.column(
                    "SELECT CONCAT(table_name, ' ', constraint_name, ' ', constraint_type) \
                     FROM information_schema.table_constraints WHERE table_schema = DATABASE()",
                ));
            }
        }
        // The history table is migrate's own; see `tables`.
        lines.retain(|l| {
            let object = l
                .split([' ', '.'])
                .find(|w| !matches!(*w, "table" | "index" | "view"));
            !object.is_some_and(is_history_table)
        });
        lines.sort();
        lines
    }

    /// The rows of `alembic_version`, sorted; `None` when the table does not exist.
    pub fn versions(&self) -> Option<Vec<String>> {
        if !self.tables().iter().any(|t| t == "alembic_version") {
            return None;
        }
        let mut rows = self.column("SELECT version_num FROM alembic_version");
        rows.sort();
        Some(rows)
    }

    /// `tenants` as `id|name|is_active` lines, for the example migrations.
    pub fn tenants(&self) -> Vec<String> {
        let active = match self.backend {
            Backend::Postgres => "CASE WHEN is_active THEN 1 ELSE 0 END",
            _ => "is_active",
        };
        self.query(&format!(
            "SELECT CAST(id AS {}), name, {active} FROM tenants ORDER BY name",
            match self.backend {
                Backend::Mysql => "CHAR",
                _ => "VARCHAR(36)",
            }
        ))
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|v| v.unwrap_or_else(|| "NULL".into()))
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Real Alembic

/// Real Alembic's executable in `$VENV` (default `/opt/alembic-venv`), or `None` after
/// [`skip`]ping (a failure under `MIGRATE_TEST_REQUIRE_ALL=1`).
#[track_caller]
pub fn alembic() -> Option<PathBuf> {
    migrate_tests::alembic::alembic()
}

/// Runs real Alembic with `-c ini -x url=URL ARGS` in `dir`; the URL gets the drivers the venv
/// has (psycopg2, PyMySQL).
pub fn run_alembic(alembic: &Path, dir: &Path, ini: &str, url: &str, args: &[&str]) -> Run {
    let x = format!("url={}", alembic_url(url));
    let mut cmd = Command::new(alembic);
    cmd.current_dir(dir)
        .args(["-c", ini, "-x", &x])
        .args(args)
        .stdin(Stdio::null());
    let out = cmd.output().expect("running alembic");
    Run::from_output(format!("(alembic) {}", args.join(" ")), out)
}

/// The stdout of several real Alembic commands (`-c ini -x url=URL ARGS` each) run in one
/// Python process, so a comparison of many listings pays Python's start-up once. Panics when
/// one of them fails.
pub fn alembic_stdouts(
    alembic: &Path,
    dir: &Path,
    ini: &str,
    url: &str,
    runs: &[&[&str]],
) -> Vec<String> {
    let x = format!("url={}", alembic_url(url));
    let runs: Vec<Vec<String>> = runs
        .iter()
        .map(|args| {
            let mut all = vec![
                "-c".to_string(),
                ini.to_string(),
                "-x".to_string(),
                x.clone(),
            ];
            all.extend(args.iter().map(|a| a.to_string()));
            all
        })
        .collect();
    alembic_runs(alembic, dir, &runs, &[])
}

/// The stdout of several real Alembic command lines (each `ARGS` as after `alembic`) run in one
/// Python process in `dir`, with `env` added to its environment: listings, and the scripts
/// of `--sql` runs. Panics when one of them fails.
pub fn alembic_runs(
    alembic: &Path,
    dir: &Path,
    runs: &[Vec<String>],
    env: &[(&str, &str)],
) -> Vec<String> {
    // As `alembic.config.main` does, with the Config printing into a buffer (its default
    // stdout is the one Python had when alembic was imported); `--sql` scripts go to
    // sys.stdout, redirected into the same buffer.
    const SCRIPT: &str = r#"
import contextlib, io, sys
from alembic.config import CommandLine, Config
for run in sys.argv[1:]:
    args = run.split("\x1f")
    out = io.StringIO()
    cli = CommandLine(prog="alembic")
    options = cli.parser.parse_args(args)
    toml, ini = cli._inis_from_config(options)
    config = Config(file_=ini, toml_file=toml, ini_section=options.name, cmd_opts=options,
                    stdout=out)
    with contextlib.redirect_stdout(out):
        try:
            cli.run_cmd(config, options)
        except SystemExit as e:
            if e.code:
                sys.exit("alembic %s failed: %s\n%s" % (" ".join(args), e.code, out.getvalue()))
    sys.stdout.write(out.getvalue() + "\x1e")
"#;
    let python = alembic.with_file_name("python");
    let out = Command::new(python)
        .current_dir(dir)
        .arg("-c")
        .arg(SCRIPT)
        .args(runs.iter().map(|args| args.join("\x1f")))
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("running alembic in python");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "alembic failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut outputs: Vec<String> = stdout.split('\x1e').map(str::to_string).collect();
    outputs.pop(); // after the last separator
    assert_eq!(outputs.len(), runs.len());
    outputs
}

/// `url` with the drivers the Alembic venv has (psycopg2, PyMySQL).
fn alembic_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let driver = match scheme.split('+').next().unwrap_or(scheme) {
        "postgres" | "postgresql" => "postgresql+psycopg2",
        "mysql" | "mariadb" => "mysql+pymysql",
        other => other,
    };
    format!("{driver}://{rest}")
}

/// `per_backend!(name)` declares the module `name` with the tests `sqlite`, `postgres` and
/// `mysql`, each calling the function `name(TestDb)` on a fresh database of its backend; the
/// server ones skip when their variable is unset.
#[macro_export]
macro_rules! per_backend {
    ($body:ident) => {
        mod $body {
            use super::common::{Backend, TestDb};

            #[test]
            fn sqlite() {
                if let Some(db) = TestDb::fresh(Backend::Sqlite) {
                    super::$body(db);
                }
            }

            #[test]
            fn postgres() {
                if let Some(db) = TestDb::fresh(Backend::Postgres) {
                    super::$body(db);
                }
            }

            #[test]
            fn mysql() {
                if let Some(db) = TestDb::fresh(Backend::Mysql) {
                    super::$body(db);
                }
            }
        }
    };
}
