//! `migrate init`: scaffolds a new project.
//!
//! The default layout is a `migrate.toml` on SQLite in the working directory and an empty
//! versions folder. `--layout alembic` writes what an Alembic project built around `.env` has
//! (`alembic.ini`, `env.py`, `script.py.mako`, `versions/`) so Alembic itself also runs the
//! folder, plus a `migrate.toml` beside them holding the `test` environment.

use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::cli::Layout;
use crate::error::CliError;

/// What `init` did, one line per file or folder, as Alembic prints it on stdout.
pub fn init(cwd: &Path, directory: &Path, layout: Layout) -> Result<Vec<String>, CliError> {
    let dir = cwd.join(directory);
    if dir.exists()
        && fs::read_dir(&dir)
            .map_err(|e| CliError::io(format!("cannot read {}", dir.display()), e))?
            .next()
            .is_some()
    {
        return Err(CliError::Usage(format!(
            "Directory {} already exists and is not empty",
            directory.display()
        )));
    }
    let shown = portable(directory);
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "migrate".to_string());
    let mut done = Vec::new();
    let versions = dir.join("versions");
    create_dir(&dir, &mut done)?;
    create_dir(&versions, &mut done)?;
    match layout {
        Layout::Migrate => {
            let toml = cwd.join("migrate.toml");
            if toml.exists() {
                done.push(format!("File {} already exists, skipping", toml.display()));
            } else {
                write(&toml, &migrate_toml(&shown, &name), &mut done)?;
            }
            write(&versions.join(".keep"), "", &mut Vec::new())?;
            done.push(format!(
                "Please edit the url in {} if SQLite is not what you want, then run `migrate revision -m \"first revision\"`.",
                toml.display()
            ));
        }
        Layout::Alembic => {
            write(&dir.join("alembic.ini"), &alembic_ini(&shown), &mut done)?;
            write(&dir.join("env.py"), ENV_PY, &mut done)?;
            write(&dir.join("script.py.mako"), SCRIPT_MAKO, &mut done)?;
            write(&dir.join("migrate.toml"), ALEMBIC_MIGRATE_TOML, &mut done)?;
            write(&versions.join(".keep"), "", &mut Vec::new())?;
            done.push(format!(
                "Put POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB (or DATABASE_URL) in .env, then run `migrate -c {}/alembic.ini upgrade head` (add TEST_ENV=true for the test database).",
                shown
            ));
        }
    }
    Ok(done)
}

/// The directory as written in configuration: forward slashes, no `./`.
fn portable(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let joined = parts.join("/");
    if path.is_absolute() && !joined.starts_with('/') {
        format!("/{}", joined.trim_start_matches('/'))
    } else {
        joined.replace("//", "/")
    }
}

fn create_dir(path: &PathBuf, done: &mut Vec<String>) -> Result<(), CliError> {
    if path.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(path)
        .map_err(|e| CliError::io(format!("cannot create {}", path.display()), e))?;
    done.push(format!(
        "Creating directory {} ...  done",
        absolute(path).display()
    ));
    Ok(())
}

fn write(path: &Path, text: &str, done: &mut Vec<String>) -> Result<(), CliError> {
    fs::write(path, text)
        .map_err(|e| CliError::io(format!("cannot write {}", path.display()), e))?;
    done.push(format!("Generating {} ...  done", absolute(path).display()));
    Ok(())
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn migrate_toml(script_location: &str, name: &str) -> String {
    format!(
        r#"# migrate configuration. Precedence, lowest first: this file, then MIGRATE_<KEY> variables
# (a .env file is read too), then the named environment chosen with --env NAME / MIGRATE_ENV /
# TEST_ENV=true, then --url. A DATABASE_URL that names another database than `url` below is an
# error (set MIGRATE_URL or pass --url to override). `migrate config` shows what is in force.
# Values may use ${{VAR}} and ${{VAR:-default}}.

# The folder holding versions/.
script_location = "{script_location}"
# SQLite file relative to the working directory; postgresql://user:pass@host/db and
# mysql://user:pass@host/db work too.
url = "sqlite:///{name}.db"

# version_table = "alembic_version"
# transaction_per_migration = false
# revision_format = "sql"      # what `migrate revision` writes: "sql" or "py"

# [environments.test]
# url = "sqlite:///{name}_test.db"

# A first revision: `migrate revision -m "create tenants"` writes
# {script_location}/versions/<id>_create_tenants.sql; fill in its sections:
#
#   -- create tenants
#   --
#   -- Revision ID: 1975ea83b712
#   -- Revises:
#   -- Create Date: 2026-11-25 07:30:00.123456
#
#   -- migrate:upgrade
#   CREATE TABLE tenants (id CHAR(36) PRIMARY KEY, name VARCHAR(255) NOT NULL);
#
#   -- migrate:downgrade
#   DROP TABLE tenants;
#
# then `migrate upgrade head`, `migrate current`, `migrate history`.
"#
    )
}

fn alembic_ini(script_location: &str) -> String {
    format!(
        r#"# Alembic configuration, also read by `migrate -c {script_location}/alembic.ini ...`.
# Run both tools from the project root: script_location is relative to the working directory.

[alembic]
script_location = {script_location}
prepend_sys_path = .
path_separator = os

# Left empty: env.py builds the URL from DATABASE_URL or the POSTGRES_* variables of .env, and
# migrate reads the same variables (see migrate.toml beside this file).
sqlalchemy.url =

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
datefmt = %H:%M:%S
"#
    )
}

const ALEMBIC_MIGRATE_TOML: &str = r#"# migrate's settings for this Alembic folder; alembic.ini stays the source of script_location.
#
# Production: no url here, so migrate takes --url or MIGRATE_URL, else the POSTGRES_* variables
# (from the environment or .env) or DATABASE_URL, refusing the two when they differ, exactly as
# env.py does; a stray PGHOST or PGDATABASE in the shell is not used.
#
# TEST_ENV=true (or --env test, or MIGRATE_ENV=test) selects this environment; env.py uses
# the same database name: POSTGRES_DB with "_test" appended.
[environments.test]
url = "postgresql://${POSTGRES_USER:-postgres}:${POSTGRES_PASSWORD:-}@${POSTGRES_HOST:-localhost}:${POSTGRES_PORT:-5432}/${POSTGRES_DB:-postgres}_test"
"#;

const ENV_PY: &str = r##""""Alembic environment: builds the database URL from the POSTGRES_* variables or DATABASE_URL
(read from the process environment, then from .env in the working directory) with the rules
migrate applies, so either tool runs this folder against the same database. TEST_ENV=true
points at the test database, POSTGRES_DB with "_test" appended (see migrate.toml beside this
file)."""
import os
from logging.config import fileConfig
from urllib.parse import quote

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)


def read_dotenv(path=".env"):
    """Values of a .env file, without overriding the process environment."""
    try:
        from dotenv import dotenv_values

        values = dotenv_values(path)
    except ImportError:
        values = {}
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    line = line.strip()
                    if not line or line.startswith("#") or "=" not in line:
                        continue
                    key, _, value = line.partition("=")
                    key = key.strip()
                    if key.startswith("export "):
                        key = key[len("export "):].strip()
                    values[key] = value.strip().strip("'\"")
    return {k: v for k, v in values.items() if v is not None}


def setting(name, default=None):
    return os.environ.get(name) or DOTENV.get(name) or default


def test_env():
    """TEST_ENV as migrate reads it: true (any case) means the test database; unset, empty,
    false and 0 mean production; any other value stops rather than guessing."""
    value = os.environ.get("TEST_ENV", DOTENV.get("TEST_ENV", ""))
    if value.lower() == "true":
        return True
    if value.lower() in ("", "false", "0"):
        return False
    raise SystemExit("TEST_ENV=%s is neither true nor false: write TEST_ENV=true, or unset it" % value)


DOTENV = read_dotenv()
TEST = test_env()


def postgres_url(suffix=""):
    user = setting("POSTGRES_USER", "postgres")
    password = setting("POSTGRES_PASSWORD", "")
    host = setting("POSTGRES_HOST", "localhost")
    port = setting("POSTGRES_PORT", "5432")
    name = setting("POSTGRES_DB", "postgres") + suffix
    auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    return "%s://%s@%s:%s/%s" % (postgres_scheme(), auth, host, port, quote(name, safe=""))


def without_driver(url):
    scheme, _, rest = url.partition("://")
    scheme = scheme.split("+")[0]
    return ("postgresql" if scheme == "postgres" else scheme) + "://" + rest


def database_url():
    """The URL as migrate chooses it: the project's (sqlalchemy.url, else the POSTGRES_*
    variables), DATABASE_URL when there is none or it names the same database; two that
    differ stop the run."""
    if TEST:
        return postgres_url("_test")
    project = config.get_main_option("sqlalchemy.url") or (
        postgres_url() if setting("POSTGRES_HOST") or setting("POSTGRES_DB") else None
    )
    ambient = setting("DATABASE_URL")
    if project and ambient and without_driver(project) != without_driver(ambient):
        raise SystemExit(
            "DATABASE_URL and the project's URL name different databases: unset one of them"
        )
    if not (project or ambient):
        raise SystemExit(
            "no database URL: set POSTGRES_HOST/POSTGRES_DB (or DATABASE_URL) in .env"
        )
    return project or ambient


def postgres_scheme():
    """The SQLAlchemy scheme of whichever PostgreSQL driver is installed."""
    for module, scheme in (("psycopg", "postgresql+psycopg"), ("psycopg2", "postgresql+psycopg2")):
        try:
            __import__(module)
            return scheme
        except ImportError:
            continue
    return "postgresql"


def run_migrations_offline():
    context.configure(url=database_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
"##;

const SCRIPT_MAKO: &str = r#""""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from alembic import op

# revision identifiers, used by Alembic and migrate.
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade():
    # Plain SQL keeps the revision runnable by migrate: op.execute("CREATE TABLE ...")
    ${upgrades if upgrades else "pass"}


def downgrade():
    ${downgrades if downgrades else "pass"}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_layout_writes_migrate_toml_on_sqlite_and_versions() {
        let cwd = tempfile::tempdir().unwrap();
        let lines = init(cwd.path(), Path::new("migrations"), Layout::Migrate).unwrap();
        assert!(cwd.path().join("migrations/versions").is_dir());
        let toml = fs::read_to_string(cwd.path().join("migrate.toml")).unwrap();
        assert!(toml.contains("script_location = \"migrations\""), "{toml}");
        assert!(toml.contains("url = \"sqlite:///migrations.db\""), "{toml}");
        assert!(toml.contains("-- migrate:upgrade"), "{toml}");
        assert!(lines
            .iter()
            .any(|l| l.starts_with("Generating ") && l.ends_with("migrate.toml ...  done")));
        // The written file is a valid configuration.
        let settings = crate::config::load(
            cwd.path(),
            &crate::config::Flags::default(),
            crate::config::Vars::default(),
        )
        .unwrap();
        assert_eq!(
            settings.version_locations,
            vec![PathBuf::from("migrations/versions")]
        );
    }

    #[test]
    fn init_refuses_a_non_empty_directory() {
        let cwd = tempfile::tempdir().unwrap();
        fs::create_dir_all(cwd.path().join("m")).unwrap();
        fs::write(cwd.path().join("m/file"), "x").unwrap();
        let err = init(cwd.path(), Path::new("m"), Layout::Migrate)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "Directory m already exists and is not empty");
    }

    #[test]
    fn alembic_layout_is_read_by_migrate_with_the_test_environment() {
        let cwd = tempfile::tempdir().unwrap();
        init(
            cwd.path(),
            Path::new("infrastructure/migrations"),
            Layout::Alembic,
        )
        .unwrap();
        for f in ["alembic.ini", "env.py", "script.py.mako", "migrate.toml"] {
            assert!(
                cwd.path()
                    .join("infrastructure/migrations")
                    .join(f)
                    .is_file(),
                "{f}"
            );
        }
        let flags = crate::config::Flags {
            config_file: Some("infrastructure/migrations/alembic.ini".into()),
            ..Default::default()
        };
        let vars = |pairs: &[(&str, &str)]| {
            crate::config::Vars::new(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                Default::default(),
            )
        };
        let env = [
            ("POSTGRES_HOST", "127.0.0.1"),
            ("POSTGRES_USER", "app"),
            ("POSTGRES_PASSWORD", "pw"),
            ("POSTGRES_DB", "shop"),
        ];
        let prod = crate::config::load(cwd.path(), &flags, vars(&env)).unwrap();
        assert_eq!(
            prod.script_location.as_deref(),
            Some(Path::new("infrastructure/migrations"))
        );
        assert_eq!(
            prod.url.unwrap().url,
            "postgresql://app:pw@127.0.0.1:5432/shop"
        );
        let mut with_test = env.to_vec();
        with_test.push(("TEST_ENV", "true"));
        let test = crate::config::load(cwd.path(), &flags, vars(&with_test)).unwrap();
        assert_eq!(
            test.url.unwrap().url,
            "postgresql://app:pw@127.0.0.1:5432/shop_test"
        );
    }
}
