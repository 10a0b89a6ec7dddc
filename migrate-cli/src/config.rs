//! Where settings come from, and in which order they win.
//!
//! Lowest to highest:
//!
//! 1. built-in defaults;
//! 2. `alembic.ini` (`-c FILE.ini`, or `alembic.ini` in the working directory when there is no
//!    `migrate.toml`): its `[alembic]` section (`script_location`, `sqlalchemy.url`,
//!    `version_locations`, ...), then its `[migrate]` section;
//! 3. `migrate.toml` (the working directory's, or `-c FILE.toml`); when `-c` names an
//!    `alembic.ini`, a `migrate.toml` in the working directory and one beside the ini (this one
//!    winning) are read for `url`, `lock_timeout`, `revision_format` and `[environments.*]`;
//! 4. environment variables: `DATABASE_URL`, then `MIGRATE_<KEY>` for every key
//!    (`MIGRATE_URL`, `MIGRATE_SCRIPT_LOCATION`, ...); the process environment first, then the
//!    `.env` file;
//! 5. the active named environment (`[environments.NAME]` in migrate.toml, `[migrate:NAME]`
//!    in alembic.ini), chosen by `--env NAME`, else `MIGRATE_ENV`, else `TEST_ENV=true`
//!    (selects `test`): choosing an environment is explicit, so its values beat the variables;
//! 6. flags (`--url`).
//!
//! When no URL results, PostgreSQL's libpq variables (`PGHOST`, `PGPORT`, `PGUSER`,
//! `PGPASSWORD`, `PGDATABASE`) and then the container-image ones (`POSTGRES_HOST`,
//! `POSTGRES_PORT`, `POSTGRES_USER`, `POSTGRES_PASSWORD`, `POSTGRES_DB`) make one. Every string
//! value may use `${VAR}` and `${VAR:-default}`.

pub mod ini;
pub mod vars;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::CliError;
use crate::url::PostgresParts;
use ini::IniFile;
pub use vars::Vars;

/// The precedence, as `--help` prints it.
pub const PRECEDENCE_HELP: &str = "\
Configuration, lowest to highest precedence:
  1. defaults
  2. alembic.ini given with -c (or found in the working directory when there is no
     migrate.toml): [alembic] script_location (relative to the working directory, %(here)s =
     the ini's folder), sqlalchemy.url (empty = not given), version_locations,
     path_separator, recursive_version_locations, version_table, version_table_schema,
     transaction_per_migration; then its [migrate] section
  3. migrate.toml in the working directory (or -c FILE.toml); beside an alembic.ini it is
     read for url, lock_timeout, revision_format and [environments.NAME]
  4. environment variables, then the .env file (the working directory's or --env-file):
     DATABASE_URL, then MIGRATE_<KEY> for every key (MIGRATE_URL, MIGRATE_SCRIPT_LOCATION,
     MIGRATE_VERSION_LOCATIONS, MIGRATE_VERSION_TABLE, MIGRATE_VERSION_TABLE_SCHEMA,
     MIGRATE_RECURSIVE_VERSION_LOCATIONS, MIGRATE_TRANSACTION_PER_MIGRATION,
     MIGRATE_LOCK_TIMEOUT, MIGRATE_REVISION_FORMAT)
  5. the named environment: [environments.NAME] in migrate.toml or [migrate:NAME] in
     alembic.ini, chosen by --env NAME, else MIGRATE_ENV=NAME, else TEST_ENV=true (= test)
  6. flags: --url
When no URL is configured: PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE, then
POSTGRES_HOST/POSTGRES_PORT/POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB build a
postgresql:// URL. Values may use ${VAR} and ${VAR:-default} (process environment first,
then .env).";

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
    "schema_dump",
];

/// The format `migrate revision` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevisionFormat {
    /// A native `.sql` revision (the default).
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
    /// Where it came from, e.g. `migrate.toml` or `DATABASE_URL`.
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
    /// The version table's name.
    pub version_table: String,
    /// The version table's schema.
    pub version_table_schema: Option<String>,
    /// One transaction per migration instead of one for the run.
    pub transaction_per_migration: bool,
    /// How long to wait for the migration lock.
    pub lock_timeout: Duration,
    /// The format `migrate revision` writes.
    pub revision_format: RevisionFormat,
    /// Where `upgrade` and `downgrade` write the schema dump after they run (`schema_dump`).
    pub schema_dump: Option<PathBuf>,
    /// The named environment in force, if any.
    pub environment: Option<ActiveEnvironment>,
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

    /// The URL, or an error saying every way to give one.
    pub fn require_url(&self) -> Result<&ConfiguredUrl, CliError> {
        self.url.as_ref().ok_or_else(|| {
            CliError::config(
                "no database URL configured: pass --url, set DATABASE_URL or MIGRATE_URL, add `url = \"...\"` to \
                 migrate.toml (or sqlalchemy.url to alembic.ini), or set PGHOST/PGDATABASE or POSTGRES_HOST/POSTGRES_DB",
            )
        })
    }
}

/// One source's values, strings not yet interpolated.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Layer {
    script_location: Option<String>,
    url: Option<String>,
    version_locations: Option<Vec<String>>,
    recursive_version_locations: Option<bool>,
    version_table: Option<String>,
    version_table_schema: Option<String>,
    transaction_per_migration: Option<bool>,
    lock_timeout: Option<u64>,
    revision_format: Option<String>,
    schema_dump: Option<String>,
    environments: Option<BTreeMap<String, Layer>>,
    /// Where the values came from (for messages); not a key.
    #[serde(skip)]
    origin: String,
    /// What relative paths are relative to; empty = the working directory.
    #[serde(skip)]
    base: PathBuf,
}

/// Reads every source and merges them. `cwd` is the working directory, `vars` the process
/// environment (a `.env` file is added here).
pub fn load(cwd: &Path, flags: &Flags, mut vars: Vars) -> Result<Settings, CliError> {
    match &flags.env_file {
        Some(path) => {
            let path = cwd.join(path);
            if !path.is_file() {
                return Err(CliError::config(format!(
                    "--env-file {}: no such file",
                    path.display()
                )));
            }
            vars.load_dotenv(&path)?;
        }
        None => {
            let path = cwd.join(".env");
            if path.is_file() {
                vars.load_dotenv(&path)?;
            }
        }
    }

    let mut layers: Vec<Layer> = Vec::new();
    // Environments in the order read; a later definition of a name wins.
    let mut environments: Vec<(String, Layer)> = Vec::new();
    let mut config_file = None;

    let explicit = flags.config_file.as_ref().map(|p| cwd.join(p));
    let (toml_main, ini_main) = match &explicit {
        Some(path) => {
            if !path.is_file() {
                return Err(CliError::config(format!(
                    "config file {} not found (-c takes a migrate.toml or an alembic.ini)",
                    path.display()
                )));
            }
            if path.extension().is_some_and(|e| e == "toml") {
                (Some(path.clone()), None)
            } else {
                (None, Some(path.clone()))
            }
        }
        None => {
            let toml = cwd.join("migrate.toml");
            let ini = cwd.join("alembic.ini");
            if toml.is_file() {
                (Some(toml), None)
            } else if ini.is_file() {
                (None, Some(ini))
            } else {
                (None, None)
            }
        }
    };

    if let Some(ini_path) = &ini_main {
        config_file = Some(ini_path.clone());
        let ini = IniFile::read(ini_path)?;
        let from_ini = ini_layers(&ini, ini_path, cwd)?;
        layers.push(from_ini.alembic);
        layers.push(from_ini.migrate);
        environments.extend(from_ini.environments);
        // migrate.toml in the working directory, then beside the ini, for url and environments.
        let ini_dir = ini_path.parent().unwrap_or(Path::new("")).to_path_buf();
        let mut companions = vec![cwd.join("migrate.toml")];
        let beside = ini_dir.join("migrate.toml");
        if !same_file(&beside, &companions[0]) {
            companions.push(beside);
        }
        for path in companions.into_iter().filter(|p| p.is_file()) {
            let mut layer = read_toml(&path, cwd)?;
            environments.extend(
                layer
                    .environments
                    .take()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(name, mut env)| {
                        env.origin = format!("[environments.{name}] in {}", path.display());
                        env.base = layer.base.clone();
                        (name, env)
                    }),
            );
            layers.push(Layer {
                url: layer.url,
                lock_timeout: layer.lock_timeout,
                revision_format: layer.revision_format,
                origin: layer.origin,
                base: layer.base,
                ..Layer::default()
            });
        }
    }
    if let Some(toml_path) = &toml_main {
        config_file = Some(toml_path.clone());
        let mut layer = read_toml(toml_path, cwd)?;
        environments.extend(
            layer
                .environments
                .take()
                .unwrap_or_default()
                .into_iter()
                .map(|(name, mut env)| {
                    env.origin = format!("[environments.{name}] in {}", toml_path.display());
                    env.base = layer.base.clone();
                    (name, env)
                }),
        );
        layers.push(layer);
    }

    layers.push(env_var_layer(&vars)?);

    let environment = select_environment(flags, &vars);
    if let Some(active) = &environment {
        let defined: Vec<&Layer> = environments
            .iter()
            .filter(|(n, _)| *n == active.name)
            .map(|(_, l)| l)
            .collect();
        if defined.is_empty() {
            return Err(undefined_environment(active, &environments, &config_file));
        }
        for layer in defined {
            if layer.environments.is_some() {
                return Err(CliError::config(format!(
                    "{}: an environment cannot hold environments",
                    layer.origin
                )));
            }
            layers.push(layer.clone());
        }
    }

    layers.push(Layer {
        url: flags.url.clone(),
        origin: "--url".to_string(),
        ..Layer::default()
    });

    merge(layers, &vars, config_file, environment)
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

fn read_toml(path: &Path, cwd: &Path) -> Result<Layer, CliError> {
    let built = config::Config::builder()
        .add_source(config::File::from(path.to_path_buf()).format(config::FileFormat::Toml))
        .build()
        .map_err(|e| CliError::config(format!("{}: {e}", path.display())))?;
    let mut layer: Layer = built.try_deserialize().map_err(|e| {
        CliError::config(format!(
            "{}: {e} (known keys: {}, and [environments.NAME] tables)",
            path.display(),
            KEYS.join(", ")
        ))
    })?;
    layer.origin = path.display().to_string();
    layer.base = base_of(path, cwd);
    Ok(layer)
}

/// The layers an alembic.ini gives.
struct IniLayers {
    /// From `[alembic]`.
    alembic: Layer,
    /// From `[migrate]`.
    migrate: Layer,
    /// From each `[migrate:NAME]`.
    environments: Vec<(String, Layer)>,
}

/// The `[alembic]` layer, the `[migrate]` layer and the `[migrate:NAME]` environments.
fn ini_layers(ini: &IniFile, path: &Path, cwd: &Path) -> Result<IniLayers, CliError> {
    let here_dir = path
        .parent()
        .map(|p| cwd.join(p))
        .unwrap_or_else(|| cwd.to_path_buf());
    let here_dir = here_dir.canonicalize().unwrap_or(here_dir);
    let names = BTreeMap::from([("here".to_string(), here_dir.display().to_string())]);
    let get = |section: &str, key: &str| ini.get(section, key, &names, path);

    let mut alembic = Layer {
        origin: format!("[alembic] in {}", path.display()),
        // Alembic resolves script_location against the working directory.
        base: PathBuf::new(),
        ..Layer::default()
    };
    if ini.has_section("alembic") {
        alembic.script_location = get("alembic", "script_location")?;
        alembic.url = get("alembic", "sqlalchemy.url")?.filter(|u| !u.trim().is_empty());
        if let Some(raw) = get("alembic", "version_locations")?.filter(|v| !v.trim().is_empty()) {
            let separator = match get("alembic", "path_separator")? {
                Some(sep) => Some(("path_separator", sep)),
                None => {
                    get("alembic", "version_path_separator")?.map(|s| ("version_path_separator", s))
                }
            };
            alembic.version_locations = Some(split_locations(&raw, separator, path)?);
        }
        alembic.recursive_version_locations = ini_bool(
            get("alembic", "recursive_version_locations")?,
            "recursive_version_locations",
            path,
        )?;
        alembic.version_table = get("alembic", "version_table")?;
        alembic.version_table_schema = get("alembic", "version_table_schema")?;
        alembic.transaction_per_migration = ini_bool(
            get("alembic", "transaction_per_migration")?,
            "transaction_per_migration",
            path,
        )?;
    }

    let section_layer = |section: &str, origin: String| -> Result<Layer, CliError> {
        let mut layer = Layer {
            origin,
            base: PathBuf::new(),
            ..Layer::default()
        };
        for key in ini.keys(section) {
            let value = get(section, key)?.unwrap_or_default();
            set_from_string(&mut layer, key, value)
                .map_err(|e| CliError::config(format!("{}: [{section}] {e}", path.display())))?;
        }
        Ok(layer)
    };
    let migrate = section_layer("migrate", format!("[migrate] in {}", path.display()))?;
    let mut environments = Vec::new();
    for section in ini.section_names() {
        if let Some(name) = section.strip_prefix("migrate:") {
            let name = name.trim();
            environments.push((
                name.to_string(),
                section_layer(section, format!("[migrate:{name}] in {}", path.display()))?,
            ));
        }
    }
    Ok(IniLayers {
        alembic,
        migrate,
        environments,
    })
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

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "on" => Some(true),
        "0" | "no" | "false" | "off" => Some(false),
        _ => None,
    }
}

fn ini_bool(value: Option<String>, key: &str, path: &Path) -> Result<Option<bool>, CliError> {
    match value {
        None => Ok(None),
        Some(v) => parse_bool(&v).map(Some).ok_or_else(|| {
            CliError::config(format!(
                "{}: {key} = {v}: expected true or false",
                path.display()
            ))
        }),
    }
}

/// Sets one key from a string (ini sections and environment variables).
fn set_from_string(layer: &mut Layer, key: &str, value: String) -> Result<(), String> {
    let bool_of =
        |v: &str| parse_bool(v).ok_or_else(|| format!("{key} = {v}: expected true or false"));
    match key {
        "script_location" => layer.script_location = Some(value),
        "url" | "sqlalchemy.url" => layer.url = Some(value).filter(|v| !v.trim().is_empty()),
        "version_locations" => {
            layer.version_locations = Some(
                std::env::split_paths(&value)
                    .map(|p| p.display().to_string())
                    .filter(|p| !p.is_empty())
                    .collect(),
            )
        }
        "recursive_version_locations" => layer.recursive_version_locations = Some(bool_of(&value)?),
        "version_table" => layer.version_table = Some(value),
        "version_table_schema" => layer.version_table_schema = Some(value),
        "transaction_per_migration" => layer.transaction_per_migration = Some(bool_of(&value)?),
        "lock_timeout" => {
            layer.lock_timeout = Some(value.trim().parse().map_err(|_| {
                format!("lock_timeout = {value}: expected a whole number of seconds")
            })?)
        }
        "revision_format" => layer.revision_format = Some(value),
        "schema_dump" => layer.schema_dump = Some(value).filter(|v| !v.trim().is_empty()),
        other => {
            return Err(format!(
                "unknown key `{other}` (known keys: {})",
                KEYS.join(", ")
            ))
        }
    }
    Ok(())
}

/// `DATABASE_URL` and `MIGRATE_<KEY>` (MIGRATE_URL above DATABASE_URL).
fn env_var_layer(vars: &Vars) -> Result<Layer, CliError> {
    let mut layer = Layer {
        origin: "environment variables".to_string(),
        base: PathBuf::new(),
        ..Layer::default()
    };
    let mut url_source = None;
    if let Some(url) = vars.non_empty("DATABASE_URL") {
        layer.url = Some(url.to_string());
        url_source = Some("DATABASE_URL");
    }
    for key in KEYS {
        let name = format!("MIGRATE_{}", key.to_ascii_uppercase());
        if let Some(value) = vars.get(&name) {
            if value.is_empty() {
                continue;
            }
            set_from_string(&mut layer, key, value.to_string())
                .map_err(|e| CliError::config(format!("{name}: {e}")))?;
            if *key == "url" {
                url_source = Some("MIGRATE_URL");
            }
        }
    }
    if let Some(source) = url_source {
        layer.origin = source.to_string();
    }
    Ok(layer)
}

fn select_environment(flags: &Flags, vars: &Vars) -> Option<ActiveEnvironment> {
    if let Some(name) = flags.env.as_deref().filter(|n| !n.is_empty()) {
        return Some(ActiveEnvironment {
            name: name.to_string(),
            chosen_by: "--env".to_string(),
        });
    }
    if let Some(name) = vars.non_empty("MIGRATE_ENV") {
        return Some(ActiveEnvironment {
            name: name.to_string(),
            chosen_by: "MIGRATE_ENV".to_string(),
        });
    }
    if vars.is_true("TEST_ENV") {
        return Some(ActiveEnvironment {
            name: "test".to_string(),
            chosen_by: "TEST_ENV=true".to_string(),
        });
    }
    None
}

fn undefined_environment(
    active: &ActiveEnvironment,
    environments: &[(String, Layer)],
    config_file: &Option<PathBuf>,
) -> CliError {
    let mut defined: Vec<&str> = environments.iter().map(|(n, _)| n.as_str()).collect();
    defined.sort_unstable();
    defined.dedup();
    let defined = if defined.is_empty() {
        "none is defined".to_string()
    } else {
        format!("defined: {}", defined.join(", "))
    };
    let name = &active.name;
    let is_ini = config_file
        .as_ref()
        .is_some_and(|p| p.extension().is_none_or(|e| e != "toml"));
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

fn merge(
    layers: Vec<Layer>,
    vars: &Vars,
    config_file: Option<PathBuf>,
    environment: Option<ActiveEnvironment>,
) -> Result<Settings, CliError> {
    // The highest layer holding a value wins.
    fn pick<'l, T>(
        layers: &'l [Layer],
        f: impl Fn(&'l Layer) -> Option<&'l T>,
    ) -> Option<(&'l T, &'l Layer)> {
        layers.iter().rev().find_map(|l| f(l).map(|v| (v, l)))
    }
    let text = |key: &str, value: &str| vars.interpolate(key, value);

    let script_location = match pick(&layers, |l| l.script_location.as_ref()) {
        Some((v, layer)) => Some(layer.base.join(text("script_location", v)?)),
        None => None,
    };
    let version_locations = match pick(&layers, |l| l.version_locations.as_ref()) {
        Some((list, layer)) => list
            .iter()
            .map(|v| Ok(layer.base.join(text("version_locations", v)?)))
            .collect::<Result<Vec<_>, CliError>>()?,
        None => script_location.iter().map(|s| s.join("versions")).collect(),
    };
    let url = match pick(&layers, |l| l.url.as_ref()) {
        Some((v, layer)) => Some(ConfiguredUrl {
            url: text("url", v)?,
            source: layer.origin.clone(),
        }),
        None => postgres_from_variables(vars),
    }
    .filter(|u| !u.url.trim().is_empty());
    let revision_format = match pick(&layers, |l| l.revision_format.as_ref()) {
        Some((v, layer)) => {
            let v = text("revision_format", v)?;
            RevisionFormat::parse(&v).ok_or_else(|| {
                CliError::config(format!(
                    "{}: revision_format = \"{v}\": expected \"sql\" or \"py\"",
                    layer.origin
                ))
            })?
        }
        None => RevisionFormat::Sql,
    };
    let schema_dump = match pick(&layers, |l| l.schema_dump.as_ref()) {
        Some((v, layer)) => Some(layer.base.join(text("schema_dump", v)?)),
        None => None,
    };
    let version_table = match pick(&layers, |l| l.version_table.as_ref()) {
        Some((v, _)) => text("version_table", v)?,
        None => "alembic_version".to_string(),
    };
    let version_table_schema = match pick(&layers, |l| l.version_table_schema.as_ref()) {
        Some((v, _)) => Some(text("version_table_schema", v)?).filter(|s| !s.is_empty()),
        None => None,
    };
    Ok(Settings {
        config_file,
        script_location,
        version_locations,
        recursive_version_locations: pick(&layers, |l| l.recursive_version_locations.as_ref())
            .map(|(v, _)| *v)
            .unwrap_or(false),
        url,
        version_table,
        version_table_schema,
        transaction_per_migration: pick(&layers, |l| l.transaction_per_migration.as_ref())
            .map(|(v, _)| *v)
            .unwrap_or(false),
        lock_timeout: Duration::from_secs(
            pick(&layers, |l| l.lock_timeout.as_ref())
                .map(|(v, _)| *v)
                .unwrap_or(60),
        ),
        revision_format,
        schema_dump,
        environment,
    })
}

/// A URL from the libpq variables, else from the container-image variables.
fn postgres_from_variables(vars: &Vars) -> Option<ConfiguredUrl> {
    let from = |prefix_names: [&str; 5], source: &str| -> Option<ConfiguredUrl> {
        let get = |n: &str| vars.non_empty(n).map(String::from);
        let [host, port, user, password, database] = prefix_names;
        // Needs a host or a database name to mean "connect here"; a lone password does not.
        if get(host).is_none() && get(database).is_none() {
            return None;
        }
        let parts = PostgresParts {
            host: get(host),
            port: get(port),
            user: get(user).or_else(|| (source == "PG*").then(|| get("USER")).flatten()),
            password: get(password),
            database: get(database),
        };
        Some(ConfiguredUrl {
            url: parts.to_url(),
            source: format!("{source} variables"),
        })
    };
    from(
        ["PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"],
        "PG*",
    )
    .or_else(|| {
        from(
            [
                "POSTGRES_HOST",
                "POSTGRES_PORT",
                "POSTGRES_USER",
                "POSTGRES_PASSWORD",
                "POSTGRES_DB",
            ],
            "POSTGRES_*",
        )
    })
}

#[cfg(test)]
mod tests;
