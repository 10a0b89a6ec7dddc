//! Where settings come from, and in which order they win.
//!
//! Lowest to highest:
//!
//! 1. built-in defaults;
//! 2. `alembic.ini` (`-c FILE.ini`, or `alembic.ini` in the working directory when there is no
//!    `migrate.toml`): its `[alembic]` section (`script_location`, `sqlalchemy.url`,
//!    `version_locations`, `file_template`, ...), then its `[migrate]` section;
//! 3. `migrate.toml` (the working directory's, or `-c FILE.toml`); when `-c` names an
//!    `alembic.ini`, a `migrate.toml` in the working directory and one beside the ini (this one
//!    winning) may hold `url`, `lock_timeout`, `revision_format` and `[environments.*]`;
//! 4. `MIGRATE_<KEY>` variables for every key (`MIGRATE_URL`, `MIGRATE_SCRIPT_LOCATION`, ...),
//!    the process environment over the `.env` file;
//! 5. the active named environment (`[environments.NAME]` in migrate.toml, `[migrate:NAME]`
//!    in alembic.ini), chosen by `--env NAME`, else `MIGRATE_ENV`, else `TEST_ENV=true`
//!    (selects `test`): choosing an environment is explicit, so its values beat the variables;
//! 6. flags (`--url`).
//!
//! The database URL has rules of its own on top ([`database_url`]): `DATABASE_URL` and the
//! `POSTGRES_*` / libpq `PG*` variables never silently move a run to another database than
//! the one the project's files name. Every string value may use `${VAR}` and
//! `${VAR:-default}`.
//!
//! The layering itself is the `config` crate's ([`sources`]); what is hand-written is
//! `alembic.ini` reading ([`ini`]), the URL rules and the messages.

mod database_url;
pub mod ini;
pub mod lint;
mod sources;
pub mod vars;

use std::path::{Path, PathBuf};
use std::time::Duration;

use config::{Config, Map, Value, ValueKind};

use crate::error::CliError;
use database_url::Candidate;
use ini::IniFile;
use sources::{Collected, Places, Role, COMPANION_KEYS, DEFAULT_ORIGIN, FLAG_ORIGIN};
pub use vars::Vars;
use vars::{TestEnv, VarPlace};

/// The precedence, as `--help` prints it.
pub const PRECEDENCE_HELP: &str = "\
Configuration, lowest to highest precedence (`migrate config` prints every resolved
setting and where it came from):
  1. defaults
  2. alembic.ini given with -c (or found in the working directory when there is no
     migrate.toml): [alembic] script_location (relative to the working directory, %(here)s =
     the ini's folder), sqlalchemy.url (empty, or alembic init's placeholder
     driver://user:pass@localhost/dbname, = not given), version_locations, path_separator,
     recursive_version_locations, version_table, version_table_schema,
     transaction_per_migration, file_template, truncate_slug_length; then its [migrate] section
  3. migrate.toml in the working directory (or -c FILE.toml); beside an alembic.ini it may
     hold only url, lock_timeout, revision_format and [environments.NAME]
  4. MIGRATE_<KEY> variables for every key (MIGRATE_URL, MIGRATE_SCRIPT_LOCATION,
     MIGRATE_VERSION_LOCATIONS, MIGRATE_VERSION_TABLE, MIGRATE_VERSION_TABLE_SCHEMA,
     MIGRATE_RECURSIVE_VERSION_LOCATIONS, MIGRATE_TRANSACTION_PER_MIGRATION,
     MIGRATE_LOCK_TIMEOUT, MIGRATE_REVISION_FORMAT, MIGRATE_FILE_TEMPLATE,
     MIGRATE_TRUNCATE_SLUG_LENGTH): the process environment over the .env file (the working
     directory's, or --env-file)
  5. the named environment: [environments.NAME] in migrate.toml or [migrate:NAME] in
     alembic.ini, chosen by --env NAME, else MIGRATE_ENV=NAME, else TEST_ENV=true (= test;
     TEST_ENV is read as true or false in any case, 0 and empty as false, and any other
     value is an error)
  6. flags: --url
The database URL: --url, the named environment's url and MIGRATE_URL decide outright.
Otherwise the project's URL is the files' url, else one built from POSTGRES_HOST,
POSTGRES_PORT, POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB; DATABASE_URL is used when
there is no project URL or it names the same database, and when the two differ migrate
stops with an error naming both. libpq's PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE build
a URL only when nothing else gives one. upgrade, downgrade and stamp first print on stderr
which database they change and where its URL came from.
Values may use ${VAR} and ${VAR:-default} (process environment first, then .env).";

/// The settings keys, as written in migrate.toml and (upper-cased) after `MIGRATE_`.
pub const KEYS: &[&str] = &[
    "script_location",
    "url",
    "version_locations",
    "recursive_version_locations",
    "version_table",
    "version_table_schema",
    "transaction_per_migration",
    "lock_timeout",
    "revision_format",
    "file_template",
    "truncate_slug_length",
    "schema_dump",
];

/// The format `migrate revision` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevisionFormat {
    /// A native `.sql` revision.
    Sql,
    /// An Alembic `.py` revision.
    Python,
}

impl RevisionFormat {
    /// Reads `sql` or `py` (also `python`).
    pub fn parse(text: &str) -> Option<RevisionFormat> {
        match text.trim().to_ascii_lowercase().as_str() {
            "sql" => Some(RevisionFormat::Sql),
            "py" | "python" => Some(RevisionFormat::Python),
            _ => None,
        }
    }
}

/// What the command line says about configuration.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `-c FILE`: a migrate.toml or an alembic.ini.
    pub config_file: Option<PathBuf>,
    /// `--url URL`.
    pub url: Option<String>,
    /// `--env NAME`.
    pub env: Option<String>,
    /// `--env-file PATH`.
    pub env_file: Option<PathBuf>,
}

/// The named environment in force and what chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveEnvironment {
    /// Its name, e.g. `test`.
    pub name: String,
    /// What chose it: `--env`, `MIGRATE_ENV` or `TEST_ENV=true`.
    pub chosen_by: String,
}

/// The database URL and where it came from.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfiguredUrl {
    /// The URL, interpolated (it may hold a password: print only [`crate::url::redact`]ed).
    pub url: String,
    /// Where it came from, e.g. `url in migrate.toml` or `DATABASE_URL in the environment`.
    pub source: String,
}

impl std::fmt::Debug for ConfiguredUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfiguredUrl")
            .field("url", &crate::url::redact(&self.url))
            .field("source", &self.source)
            .finish()
    }
}

/// One resolved setting as `migrate config` shows it: never a password.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ResolvedSetting {
    /// The key, as in migrate.toml (`url`, `script_location`, ...), or `config_file` and
    /// `environment`.
    pub key: &'static str,
    /// The value as text (URLs redacted); `None` when not set.
    pub value: Option<String>,
    /// Where it came from: `default`, `--url`, `url in migrate.toml`, ...
    pub source: String,
}

/// Every setting a command needs, merged from all sources.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The configuration file read first (`-c`, or the one found in the working directory).
    pub config_file: Option<PathBuf>,
    /// The folder holding `versions/` (Alembic's `script_location`); `None` when unset.
    pub script_location: Option<PathBuf>,
    /// The folders revision files are read from: `version_locations`, else
    /// `<script_location>/versions`.
    pub version_locations: Vec<PathBuf>,
    /// Whether version locations are read recursively.
    pub recursive_version_locations: bool,
    /// The database URL, when one is configured.
    pub url: Option<ConfiguredUrl>,
    /// Why there is no URL although sources named some (two that disagree, the placeholder).
    pub url_problem: Option<String>,
    /// The version table's name.
    pub version_table: String,
    /// The version table's schema.
    pub version_table_schema: Option<String>,
    /// One transaction per migration instead of one for the run.
    pub transaction_per_migration: bool,
    /// How long to wait for the migration lock.
    pub lock_timeout: Duration,
    /// The format `migrate revision` writes, when configured.
    pub revision_format: Option<RevisionFormat>,
    /// Alembic's `file_template` for new revision files, when configured.
    pub file_template: Option<String>,
    /// Alembic's `truncate_slug_length`, when configured.
    pub truncate_slug_length: Option<usize>,
    /// Where `upgrade` and `downgrade` write the schema dump after they run (`schema_dump`).
    pub schema_dump: Option<PathBuf>,
    /// The named environment in force, if any.
    pub environment: Option<ActiveEnvironment>,
    /// Where each setting came from, in [`KEYS`] order, plus the config file and environment.
    pub resolved: Vec<ResolvedSetting>,
    /// Sources that were set but not used (a stray `PGHOST`, the placeholder URL).
    pub notes: Vec<String>,
    /// The `[lint]` table.
    pub lint: lint::LintSettings,
}

impl Settings {
    /// The script location, or Alembic's error when none is configured.
    pub fn require_script_location(&self) -> Result<&Path, CliError> {
        self.script_location.as_deref().ok_or_else(|| {
            CliError::config(
                "No 'script_location' key found in configuration. \
                 (no migrate.toml or alembic.ini in the working directory: run `migrate init migrations`, \
                 pass -c path/to/alembic.ini, or set MIGRATE_SCRIPT_LOCATION)",
            )
        })
    }

    /// The URL, or an error saying why there is none and every way to give one.
    pub fn require_url(&self) -> Result<&ConfiguredUrl, CliError> {
        if let Some(problem) = &self.url_problem {
            return Err(CliError::config(problem.clone()));
        }
        self.url.as_ref().ok_or_else(|| {
            CliError::config(
                "no database URL configured: pass --url, set DATABASE_URL or MIGRATE_URL, add `url = \"...\"` to \
                 migrate.toml (or sqlalchemy.url to alembic.ini), or set POSTGRES_HOST/POSTGRES_DB or PGHOST/PGDATABASE",
            )
        })
    }

    /// Whether the configuration file is an `alembic.ini` (anything but a `.toml`).
    pub fn is_alembic_ini(&self) -> bool {
        self.config_file
            .as_ref()
            .is_some_and(|p| p.extension().is_none_or(|e| e != "toml"))
    }
}

/// Reads every source and merges them. `cwd` is the working directory, `vars` the process
/// environment (a `.env` file is added here).
pub fn load(cwd: &Path, flags: &Flags, mut vars: Vars) -> Result<Settings, CliError> {
    read_dotenv(cwd, flags, &mut vars)?;
    if flags.url.as_deref().is_some_and(|u| u.trim().is_empty()) {
        return Err(CliError::config(
            "--url is empty: give the database URL, or leave the flag out to use the configuration's",
        ));
    }
    let environment = select_environment(flags, &vars)?;
    let files = ConfigFiles::find(cwd, flags)?;
    let mut places = Places::new();

    let mut file_sources: Vec<Collected> = Vec::new();
    if let Some(ini_path) = &files.ini {
        let ini = IniFile::read(ini_path)?;
        file_sources.extend(sources::ini_sources(
            &ini,
            ini_path,
            &shown(ini_path, cwd),
            cwd,
            &mut places,
        )?);
        // migrate.toml in the working directory, then beside the ini, for url and environments.
        let ini_dir = ini_path.parent().unwrap_or(Path::new("")).to_path_buf();
        let mut companions = vec![cwd.join("migrate.toml")];
        let beside = ini_dir.join("migrate.toml");
        if !same_file(&beside, &companions[0]) {
            companions.push(beside);
        }
        for path in companions.into_iter().filter(|p| p.is_file()) {
            file_sources.push(sources::toml_source(
                &path,
                &shown(&path, cwd),
                &base_of(&path, cwd),
                Some(COMPANION_KEYS),
                &mut places,
            )?);
        }
    }
    if let Some(toml_path) = &files.toml {
        file_sources.push(sources::toml_source(
            toml_path,
            &shown(toml_path, cwd),
            &base_of(toml_path, cwd),
            None,
            &mut places,
        )?);
    }

    let mut builder = Config::builder();
    for (key, kind) in [
        ("version_table", ValueKind::from("alembic_version")),
        ("recursive_version_locations", ValueKind::Boolean(false)),
        ("transaction_per_migration", ValueKind::Boolean(false)),
        ("lock_timeout", ValueKind::U64(60)),
    ] {
        builder = builder
            .set_default(key, Value::new(Some(&DEFAULT_ORIGIN.to_string()), kind))
            .map_err(config_error)?;
    }
    for source in file_sources {
        builder = builder.add_source(source);
    }
    let from_files = builder.build_cloned().map_err(config_error)?;
    builder = builder
        .add_source(sources::variables_source(
            &vars,
            VarPlace::DotEnv,
            &mut places,
        )?)
        .add_source(sources::variables_source(
            &vars,
            VarPlace::Process,
            &mut places,
        )?);
    if let Some(active) = &environment {
        let tables = environments(&from_files);
        let Some(table) = tables.get(&active.name) else {
            let mut names: Vec<&str> = tables.keys().map(String::as_str).collect();
            names.sort_unstable();
            return Err(undefined_environment(active, &names, files.is_ini()));
        };
        builder = builder.add_source(Collected(table.clone()));
    }
    if let Some(url) = &flags.url {
        builder = builder
            .set_override("url", sources::string_value(FLAG_ORIGIN, url.clone()))
            .map_err(config_error)?;
    }
    let merged = builder.build().map_err(config_error)?;
    let top = match merged.cache.kind {
        ValueKind::Table(table) => table,
        _ => Map::new(),
    };
    Resolver {
        top,
        places: &places,
        vars: &vars,
    }
    .settings(files, environment)
}

/// The configuration files found: the main one, and what it is.
struct ConfigFiles {
    /// The file named by `-c` or found, as given.
    main: Option<PathBuf>,
    /// How it was found: `-c` or `found in the working directory`.
    found_by: &'static str,
    /// The alembic.ini to read, if any.
    ini: Option<PathBuf>,
    /// The migrate.toml read as the main file, if any.
    toml: Option<PathBuf>,
}

impl ConfigFiles {
    fn find(cwd: &Path, flags: &Flags) -> Result<ConfigFiles, CliError> {
        if let Some(given) = &flags.config_file {
            let path = cwd.join(given);
            if !path.is_file() {
                return Err(CliError::config(format!(
                    "config file {} not found (-c takes a migrate.toml or an alembic.ini)",
                    path.display()
                )));
            }
            let is_toml = path.extension().is_some_and(|e| e == "toml");
            return Ok(ConfigFiles {
                main: Some(path.clone()),
                found_by: "-c",
                ini: (!is_toml).then(|| path.clone()),
                toml: is_toml.then_some(path),
            });
        }
        let toml = cwd.join("migrate.toml");
        let ini = cwd.join("alembic.ini");
        let found_by = "found in the working directory";
        Ok(if toml.is_file() {
            ConfigFiles {
                main: Some(toml.clone()),
                found_by,
                ini: None,
                toml: Some(toml),
            }
        } else if ini.is_file() {
            ConfigFiles {
                main: Some(ini.clone()),
                found_by,
                ini: Some(ini),
                toml: None,
            }
        } else {
            ConfigFiles {
                main: None,
                found_by: "none",
                ini: None,
                toml: None,
            }
        })
    }

    fn is_ini(&self) -> bool {
        self.ini.is_some()
    }
}

/// The `.env` file: `--env-file`'s (which must exist), else the working directory's when present.
fn read_dotenv(cwd: &Path, flags: &Flags, vars: &mut Vars) -> Result<(), CliError> {
    match &flags.env_file {
        Some(given) => {
            let path = cwd.join(given);
            if !path.is_file() {
                return Err(CliError::config(format!(
                    "--env-file {}: no such file",
                    path.display()
                )));
            }
            vars.load_dotenv(&path, &given.display().to_string())
        }
        None => {
            let path = cwd.join(".env");
            if path.is_file() {
                vars.load_dotenv(&path, ".env")?;
            }
            Ok(())
        }
    }
}

fn config_error(e: config::ConfigError) -> CliError {
    CliError::config(e.to_string())
}

/// The `[environments.NAME]` tables the files define, by name.
fn environments(files: &Config) -> Map<String, Map<String, Value>> {
    let ValueKind::Table(top) = &files.cache.kind else {
        return Map::new();
    };
    let Some(ValueKind::Table(envs)) = top.get("environments").map(|v| &v.kind) else {
        return Map::new();
    };
    envs.iter()
        .filter_map(|(name, v)| match &v.kind {
            ValueKind::Table(t) => Some((name.clone(), t.clone())),
            _ => None,
        })
        .collect()
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The relative form of `dir` against `cwd` when it is inside it, so printed paths stay short
/// (`migrations/versions/x.py`, as Alembic prints them).
fn base_of(file: &Path, cwd: &Path) -> PathBuf {
    let dir = file.parent().unwrap_or(Path::new(""));
    match dir.strip_prefix(cwd) {
        Ok(rel) => rel.to_path_buf(),
        Err(_) => dir.to_path_buf(),
    }
}

/// A file as messages name it: relative to the working directory when inside it.
fn shown(file: &Path, cwd: &Path) -> String {
    match file.strip_prefix(cwd) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => file.display().to_string(),
    }
}

/// Alembic's splitting of `version_locations` (1.16+ `path_separator`, the older
/// `version_path_separator`, else the legacy split on spaces and commas).
fn split_locations(
    raw: &str,
    separator: Option<(&str, String)>,
    path: &Path,
) -> Result<Vec<String>, CliError> {
    let Some((name, sep)) = separator else {
        return Ok(raw
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect());
    };
    let sep = match sep.trim() {
        "space" => " ",
        "newline" => "\n",
        "os" => if cfg!(windows) { ";" } else { ":" },
        ":" => ":",
        ";" => ";",
        other => {
            return Err(CliError::config(format!(
                "{}: '{other}' is not a valid value for {name}; expected 'space', 'newline', 'os', ':', ';'",
                path.display()
            )))
        }
    };
    Ok(raw
        .split(sep)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect())
}

/// configparser's booleans, as Alembic reads them.
fn ini_bool_text(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "on" => Some(true),
        "0" | "no" | "false" | "off" => Some(false),
        _ => None,
    }
}

fn select_environment(flags: &Flags, vars: &Vars) -> Result<Option<ActiveEnvironment>, CliError> {
    if let Some(name) = flags.env.as_deref() {
        if name.trim().is_empty() {
            return Err(CliError::config(
                "--env is empty: name the environment ([environments.NAME]), or leave the flag out; nothing was run",
            ));
        }
        return Ok(Some(ActiveEnvironment {
            name: name.to_string(),
            chosen_by: "--env".to_string(),
        }));
    }
    if let Some(name) = vars.non_empty("MIGRATE_ENV") {
        return Ok(Some(ActiveEnvironment {
            name: name.to_string(),
            chosen_by: "MIGRATE_ENV".to_string(),
        }));
    }
    if vars.test_env()? == TestEnv::On {
        return Ok(Some(ActiveEnvironment {
            name: "test".to_string(),
            chosen_by: "TEST_ENV=true".to_string(),
        }));
    }
    Ok(None)
}

fn undefined_environment(active: &ActiveEnvironment, defined: &[&str], is_ini: bool) -> CliError {
    let defined = if defined.is_empty() {
        "none is defined".to_string()
    } else {
        format!("defined: {}", defined.join(", "))
    };
    let name = &active.name;
    let how = if is_ini {
        format!(
            "add `[environments.{name}]` with `url = \"...\"` to a migrate.toml beside the ini or in the working directory, or a `[migrate:{name}]` section with `url = ...` to the ini"
        )
    } else {
        format!("add `[environments.{name}]` with `url = \"...\"` to migrate.toml")
    };
    CliError::config(format!(
        "environment `{name}` (chosen by {}) is not defined ({defined}); nothing was run. To define it, {how}",
        active.chosen_by
    ))
}

/// Turns the merged values into typed settings, with messages naming each value's source.
struct Resolver<'a> {
    top: Map<String, Value>,
    places: &'a Places,
    vars: &'a Vars,
}

impl Resolver<'_> {
    fn value(&self, key: &str) -> Option<&Value> {
        self.top
            .get(key)
            .filter(|v| !matches!(v.kind, ValueKind::Nil))
    }

    fn source(&self, key: &str) -> String {
        match self.value(key) {
            Some(value) => self.places.describe(key, value),
            None => "not set".to_string(),
        }
    }

    fn invalid(&self, key: &str, value: &Value, what: &str) -> CliError {
        CliError::config(format!(
            "{}: `{}` is not {what}",
            self.source(key),
            show(value)
        ))
    }

    fn text(&self, key: &str) -> Result<Option<String>, CliError> {
        match self.value(key) {
            None => Ok(None),
            Some(value) => match &value.kind {
                ValueKind::String(s) => self.vars.interpolate(key, s).map(Some),
                _ => Err(self.invalid(key, value, "a string")),
            },
        }
    }

    fn flag(&self, key: &str) -> Result<bool, CliError> {
        let Some(value) = self.value(key) else {
            return Ok(false);
        };
        match &value.kind {
            ValueKind::Boolean(b) => Ok(*b),
            ValueKind::String(s) => ini_bool_text(&self.vars.interpolate(key, s)?)
                .ok_or_else(|| self.invalid(key, value, "true or false")),
            _ => Err(self.invalid(key, value, "true or false")),
        }
    }

    fn number(&self, key: &str, what: &str) -> Result<Option<u64>, CliError> {
        let Some(value) = self.value(key) else {
            return Ok(None);
        };
        let n = match &value.kind {
            ValueKind::I64(n) => u64::try_from(*n).ok(),
            ValueKind::U64(n) => Some(*n),
            ValueKind::String(s) => self.vars.interpolate(key, s)?.trim().parse().ok(),
            _ => None,
        };
        n.map(Some).ok_or_else(|| self.invalid(key, value, what))
    }

    /// The `[lint]` table: rule levels and server versions, checked by [`lint::parse`].
    fn lint(&self) -> Result<lint::LintSettings, CliError> {
        let Some(value) = self.value("lint") else {
            return Ok(lint::LintSettings::default());
        };
        let table = value
            .clone()
            .into_table()
            .map_err(|_| self.invalid("lint", value, "a table ([lint])"))?;
        let mut entries = std::collections::BTreeMap::new();
        for (key, item) in table {
            let text = match &item.kind {
                ValueKind::String(s) => self.vars.interpolate("lint", s)?,
                ValueKind::I64(n) => n.to_string(),
                ValueKind::U64(n) => n.to_string(),
                ValueKind::Float(f) => f.to_string(),
                _ => return Err(self.invalid("lint", &item, "a string")),
            };
            entries.insert(key, text);
        }
        lint::parse(&entries, &self.source("lint"))
    }

    fn base(&self, key: &str) -> PathBuf {
        self.value(key)
            .and_then(|v| self.places.of(v))
            .map(|p| p.base.clone())
            .unwrap_or_default()
    }

    fn path(&self, key: &str) -> Result<Option<PathBuf>, CliError> {
        Ok(self.text(key)?.map(|t| self.base(key).join(t)))
    }

    fn paths(&self, key: &str) -> Result<Option<Vec<PathBuf>>, CliError> {
        let Some(value) = self.value(key) else {
            return Ok(None);
        };
        let base = self.base(key);
        let items: Vec<String> = match &value.kind {
            ValueKind::Array(items) => items
                .iter()
                .map(|item| match &item.kind {
                    ValueKind::String(s) => self.vars.interpolate(key, s),
                    _ => Err(self.invalid(key, item, "a path")),
                })
                .collect::<Result<_, _>>()?,
            // From a variable: the platform's path list (`a:b`).
            ValueKind::String(s) => std::env::split_paths(&self.vars.interpolate(key, s)?)
                .map(|p| p.display().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
            _ => return Err(self.invalid(key, value, "a list of paths")),
        };
        Ok(Some(items.into_iter().map(|i| base.join(i)).collect()))
    }

    fn settings(
        self,
        files: ConfigFiles,
        environment: Option<ActiveEnvironment>,
    ) -> Result<Settings, CliError> {
        let script_location = self.path("script_location")?;
        let explicit_locations = self.paths("version_locations")?;
        let version_locations = match &explicit_locations {
            Some(list) => list.clone(),
            None => script_location.iter().map(|s| s.join("versions")).collect(),
        };
        let revision_format = match self.text("revision_format")? {
            None => None,
            Some(text) => Some(RevisionFormat::parse(&text).ok_or_else(|| {
                CliError::config(format!(
                    "{}: revision_format = \"{text}\": expected \"sql\" or \"py\"",
                    self.source("revision_format")
                ))
            })?),
        };
        let lock_timeout = self
            .number("lock_timeout", "a whole number of seconds")?
            .unwrap_or(60);
        let truncate_slug_length = self
            .number("truncate_slug_length", "a whole number of characters")?
            .map(|n| n as usize);

        // The URL: the winner of the layering, then the URL rules.
        let (explicit, from_files) = match (self.text("url")?, self.value("url")) {
            (Some(url), Some(value)) => {
                let candidate = Candidate {
                    url,
                    source: self.source("url"),
                };
                match self.places.of(value).map(|p| p.role) {
                    Some(Role::Flag | Role::Environment | Role::Variables) => {
                        (Some(candidate), None)
                    }
                    _ => (None, Some(candidate)),
                }
            }
            _ => (None, None),
        };
        let decision = database_url::decide(explicit, from_files, self.vars);

        let mut settings = Settings {
            config_file: files.main.clone(),
            script_location,
            version_locations,
            recursive_version_locations: self.flag("recursive_version_locations")?,
            url: decision.url,
            url_problem: decision.problem,
            version_table: self
                .text("version_table")?
                .unwrap_or_else(|| "alembic_version".to_string()),
            version_table_schema: self.text("version_table_schema")?.filter(|s| !s.is_empty()),
            transaction_per_migration: self.flag("transaction_per_migration")?,
            lock_timeout: Duration::from_secs(lock_timeout),
            revision_format,
            file_template: self.text("file_template")?,
            truncate_slug_length,
            schema_dump: self.path("schema_dump")?,
            environment,
            resolved: Vec::new(),
            notes: decision.notes,
            lint: self.lint()?,
        };
        settings.resolved = self.report(&settings, &files, explicit_locations.is_some());
        Ok(settings)
    }

    /// Every setting with its value and source, for `migrate config`.
    fn report(
        &self,
        s: &Settings,
        files: &ConfigFiles,
        explicit_locations: bool,
    ) -> Vec<ResolvedSetting> {
        let entry = |key: &'static str, value: Option<String>, source: String| ResolvedSetting {
            key,
            value,
            source,
        };
        let shown_path = |p: &Path| p.display().to_string();
        let mut out = vec![
            entry(
                "config_file",
                files.main.as_deref().map(shown_path),
                files.found_by.to_string(),
            ),
            entry(
                "environment",
                s.environment.as_ref().map(|e| e.name.clone()),
                s.environment
                    .as_ref()
                    .map(|e| format!("chosen by {}", e.chosen_by))
                    .unwrap_or_else(|| "none chosen (--env, MIGRATE_ENV, TEST_ENV)".to_string()),
            ),
        ];
        for key in KEYS {
            let (value, source) = match *key {
                "script_location" => (
                    s.script_location.as_deref().map(shown_path),
                    self.source(key),
                ),
                "version_locations" => (
                    (!s.version_locations.is_empty()).then(|| {
                        s.version_locations
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }),
                    if explicit_locations {
                        self.source(key)
                    } else {
                        "default: <script_location>/versions".to_string()
                    },
                ),
                "recursive_version_locations" => (
                    Some(s.recursive_version_locations.to_string()),
                    self.source(key),
                ),
                "url" => match (&s.url, &s.url_problem) {
                    (Some(url), _) => (Some(crate::url::redact(&url.url)), url.source.clone()),
                    (None, Some(problem)) => (None, problem.clone()),
                    (None, None) => (None, "not set".to_string()),
                },
                "version_table" => (Some(s.version_table.clone()), self.source(key)),
                "version_table_schema" => (s.version_table_schema.clone(), self.source(key)),
                "transaction_per_migration" => (
                    Some(s.transaction_per_migration.to_string()),
                    self.source(key),
                ),
                "lock_timeout" => (Some(s.lock_timeout.as_secs().to_string()), self.source(key)),
                "revision_format" => (
                    s.revision_format.map(|f| {
                        match f {
                            RevisionFormat::Sql => "sql",
                            RevisionFormat::Python => "py",
                        }
                        .to_string()
                    }),
                    self.source(key),
                ),
                "file_template" => (s.file_template.clone(), self.source(key)),
                "truncate_slug_length" => (
                    s.truncate_slug_length.map(|n| n.to_string()),
                    self.source(key),
                ),
                "schema_dump" => (s.schema_dump.as_deref().map(shown_path), self.source(key)),
                _ => (None, self.source(key)),
            };
            out.push(entry(key, value, source));
        }
        out
    }
}

/// A config value as text for messages.
fn show(value: &Value) -> String {
    match &value.kind {
        ValueKind::String(s) => s.clone(),
        ValueKind::Nil => "nothing".to_string(),
        ValueKind::Boolean(b) => b.to_string(),
        ValueKind::I64(n) => n.to_string(),
        ValueKind::I128(n) => n.to_string(),
        ValueKind::U64(n) => n.to_string(),
        ValueKind::U128(n) => n.to_string(),
        ValueKind::Float(f) => f.to_string(),
        ValueKind::Table(_) => "a table".to_string(),
        ValueKind::Array(_) => "a list".to_string(),
    }
}

#[cfg(test)]
mod tests;
