//! The configuration sources, each turned into a `config` crate source, and where each value
//! came from.
//!
//! The `config` crate does the layering it is made for: built-in defaults, the files (TOML read
//! by its own parser), the `MIGRATE_` environment variables (its `Environment` source, fed from
//! the process environment and, underneath, the `.env` file), the named environment's table and
//! the `--url` override, merged in that order, every value keeping its origin. Two things are
//! hand-written because the crate cannot do them: reading `alembic.ini` (its ini format lacks
//! configparser's `%(here)s` interpolation, continuation lines and dotted keys, see
//! [`super::ini`]), and describing an origin the way messages name it (`sqlalchemy.url in
//! [alembic] of alembic.ini`, `MIGRATE_URL in .env`), which [`Places`] keeps beside the values.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use config::{Map, Source, Value, ValueKind};

use super::ini::IniFile;
use super::vars::{VarPlace, Vars};
use super::{ini_bool_text, split_locations, KEYS};
use crate::error::CliError;

/// What kind of source a place is; it decides how a value from it is described and how much
/// weight the URL rules give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The built-in default.
    Default,
    /// A configuration file (`migrate.toml`, a section of `alembic.ini`).
    File,
    /// A named environment's table in a file (`[environments.NAME]`, `[migrate:NAME]`).
    Environment,
    /// `MIGRATE_<KEY>` variables (process environment or `.env`).
    Variables,
    /// A command-line flag.
    Flag,
}

/// One place values come from.
#[derive(Debug, Clone)]
pub struct Place {
    /// How messages name it: `migrate.toml`, `[alembic] of db/alembic.ini`, `.env`, ...
    pub name: String,
    /// What kind of source it is.
    pub role: Role,
    /// What relative paths from it are relative to (empty = the working directory).
    pub base: PathBuf,
    /// Whether it is an `alembic.ini` `[alembic]` section, where the URL key is `sqlalchemy.url`.
    pub alembic_section: bool,
}

/// Every place read, by the origin string its values carry.
#[derive(Debug, Default)]
pub struct Places {
    by_origin: HashMap<String, Place>,
}

/// The origin of built-in defaults.
pub const DEFAULT_ORIGIN: &str = "default";
/// The origin of `--url`.
pub const FLAG_ORIGIN: &str = "--url";

impl Places {
    /// Places with the default and the flag registered.
    pub fn new() -> Places {
        let mut places = Places::default();
        for (name, role) in [(DEFAULT_ORIGIN, Role::Default), (FLAG_ORIGIN, Role::Flag)] {
            places.add(Place {
                name: name.to_string(),
                role,
                base: PathBuf::new(),
                alembic_section: false,
            });
        }
        places
    }

    /// Registers `place`; its name is the origin its values carry.
    pub fn add(&mut self, place: Place) -> String {
        let origin = place.name.clone();
        self.by_origin.insert(origin.clone(), place);
        origin
    }

    /// The place a value came from.
    pub fn of(&self, value: &Value) -> Option<&Place> {
        value.origin().and_then(|o| self.by_origin.get(o))
    }

    /// How messages name where `key`'s `value` came from: `default`, `--url`,
    /// `url in migrate.toml`, `sqlalchemy.url in [alembic] of alembic.ini`,
    /// `MIGRATE_URL in the environment`.
    pub fn describe(&self, key: &str, value: &Value) -> String {
        match self.of(value) {
            None => "unknown".to_string(),
            Some(place) => match place.role {
                Role::Default | Role::Flag => place.name.clone(),
                Role::Variables => {
                    format!("MIGRATE_{} in {}", key.to_ascii_uppercase(), place.name)
                }
                Role::File | Role::Environment => {
                    let key = if place.alembic_section && key == "url" {
                        "sqlalchemy.url"
                    } else {
                        key
                    };
                    format!("{key} in {}", place.name)
                }
            },
        }
    }
}

/// A source whose values are already read and labelled with their origin.
#[derive(Debug, Clone, Default)]
pub struct Collected(pub Map<String, Value>);

impl Source for Collected {
    fn clone_into_box(&self) -> Box<dyn Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<Map<String, Value>, config::ConfigError> {
        Ok(self.0.clone())
    }
}

/// `value` (and everything inside it) labelled with `origin`.
fn relabel(value: Value, origin: &String) -> Value {
    let kind = match value.kind {
        ValueKind::Table(table) => ValueKind::Table(
            table
                .into_iter()
                .map(|(k, v)| (k, relabel(v, origin)))
                .collect(),
        ),
        ValueKind::Array(items) => {
            ValueKind::Array(items.into_iter().map(|v| relabel(v, origin)).collect())
        }
        other => other,
    };
    Value::new(Some(origin), kind)
}

/// A string value from `origin`.
pub fn string_value(origin: &str, text: impl Into<String>) -> Value {
    Value::new(Some(&origin.to_string()), ValueKind::String(text.into()))
}

/// The keys a companion `migrate.toml` (beside an `alembic.ini`) may hold; the ini owns the
/// rest.
pub const COMPANION_KEYS: &[&str] = &[
    "url",
    "lock_timeout",
    "revision_format",
    "ddl_lock_timeout",
    "statement_timeout",
    "ddl_retries",
    "checksum_mismatch",
    "history",
    "schema_dump",
    "lint",
    "environments",
];

/// Tables of migrate.toml that hold settings of their own (checked where they are read).
pub const TABLES: &[&str] = &["lint"];

/// A `migrate.toml`, read by the config crate's TOML format: its keys (which must be known, and
/// in `allowed` when given), and each `[environments.NAME]` table labelled as its own place.
pub fn toml_source(
    path: &Path,
    shown: &str,
    base: &Path,
    allowed: Option<&[&str]>,
    places: &mut Places,
) -> Result<Collected, CliError> {
    let file = config::File::from(path.to_path_buf()).format(config::FileFormat::Toml);
    let map = file
        .collect()
        .map_err(|e| CliError::config(format!("{shown}: {e}")))?;
    let origin = places.add(Place {
        name: shown.to_string(),
        role: Role::File,
        base: base.to_path_buf(),
        alembic_section: false,
    });
    let mut out = Map::new();
    for (key, value) in map {
        if key == "environments" {
            let tables = value.into_table().map_err(|_| {
                CliError::config(format!(
                    "{shown}: `environments` must hold tables: write [environments.NAME]"
                ))
            })?;
            let mut environments = Map::new();
            for (name, table) in tables {
                let env_origin = places.add(Place {
                    name: format!("[environments.{name}] of {shown}"),
                    role: Role::Environment,
                    base: base.to_path_buf(),
                    alembic_section: false,
                });
                let table = table.into_table().map_err(|_| {
                    CliError::config(format!(
                        "{shown}: `environments.{name}` must be a table: write [environments.{name}]"
                    ))
                })?;
                for inner in table.keys() {
                    check_key(inner, &format!("[environments.{name}] of {shown}"), None)?;
                }
                environments.insert(
                    name,
                    relabel(Value::new(None, ValueKind::Table(table)), &env_origin),
                );
            }
            out.insert(
                key,
                Value::new(Some(&origin), ValueKind::Table(environments)),
            );
            continue;
        }
        check_key(&key, shown, allowed)?;
        out.insert(key, relabel(value, &origin));
    }
    Ok(Collected(out))
}

/// An unknown key, or one a companion file may not hold, is an error naming the file.
fn check_key(key: &str, shown: &str, allowed: Option<&[&str]>) -> Result<(), CliError> {
    if key == "environments" {
        return Err(CliError::config(format!(
            "{shown}: an environment cannot hold environments"
        )));
    }
    if !KEYS.contains(&key) && !TABLES.contains(&key) {
        return Err(CliError::config(format!(
            "{shown}: unknown key `{key}` (known keys: {}, and [environments.NAME] and [lint] tables)",
            KEYS.join(", ")
        )));
    }
    if let Some(allowed) = allowed {
        if !allowed.contains(&key) {
            return Err(CliError::config(format!(
                "{shown}: `{key}` comes from the alembic.ini beside it; a migrate.toml next to an alembic.ini holds only {} and [environments.NAME]",
                allowed[..allowed.len() - 1].join(", ")
            )));
        }
    }
    Ok(())
}

/// The `alembic.ini` keys `migrate` reads from `[alembic]`, with the setting each sets.
const ALEMBIC_KEYS: &[(&str, &str)] = &[
    ("script_location", "script_location"),
    ("sqlalchemy.url", "url"),
    ("version_locations", "version_locations"),
    ("recursive_version_locations", "recursive_version_locations"),
    ("version_table", "version_table"),
    ("version_table_schema", "version_table_schema"),
    ("transaction_per_migration", "transaction_per_migration"),
    ("file_template", "file_template"),
    ("truncate_slug_length", "truncate_slug_length"),
];

/// The sources an `alembic.ini` gives: `[alembic]`, then `[migrate]` and each `[migrate:NAME]`
/// (under `environments.NAME`). Values are interpolated as configparser does (`%(here)s` is
/// the ini's folder); paths stay relative to the working directory, as Alembic resolves them.
pub fn ini_sources(
    ini: &IniFile,
    path: &Path,
    shown: &str,
    cwd: &Path,
    places: &mut Places,
) -> Result<Vec<Collected>, CliError> {
    let here_dir = path
        .parent()
        .map(|p| cwd.join(p))
        .unwrap_or_else(|| cwd.to_path_buf());
    let here_dir = here_dir.canonicalize().unwrap_or(here_dir);
    let names =
        std::collections::BTreeMap::from([("here".to_string(), here_dir.display().to_string())]);
    let get = |section: &str, key: &str| ini.get(section, key, &names, path);

    let alembic_origin = places.add(Place {
        name: format!("[alembic] of {shown}"),
        role: Role::File,
        base: PathBuf::new(),
        alembic_section: true,
    });
    let mut alembic = Map::new();
    if ini.has_section("alembic") {
        for (ini_key, key) in ALEMBIC_KEYS {
            let Some(text) = get("alembic", ini_key)? else {
                continue;
            };
            let value = match *key {
                // An empty sqlalchemy.url (or version_locations) means "not given".
                "url" | "version_locations" if text.trim().is_empty() => continue,
                "version_locations" => {
                    let separator = match get("alembic", "path_separator")? {
                        Some(sep) => Some(("path_separator", sep)),
                        None => get("alembic", "version_path_separator")?
                            .map(|s| ("version_path_separator", s)),
                    };
                    let items = split_locations(&text, separator, path)?;
                    Value::new(
                        Some(&alembic_origin),
                        ValueKind::Array(
                            items
                                .into_iter()
                                .map(|i| string_value(&alembic_origin, i))
                                .collect(),
                        ),
                    )
                }
                "recursive_version_locations" | "transaction_per_migration" => {
                    let flag = ini_bool_text(&text).ok_or_else(|| {
                        CliError::config(format!(
                            "{shown}: {ini_key} = {text}: expected true or false"
                        ))
                    })?;
                    Value::new(Some(&alembic_origin), ValueKind::Boolean(flag))
                }
                _ => string_value(&alembic_origin, text),
            };
            alembic.insert(key.to_string(), value);
        }
    }

    let section = |section: &str, origin: &String| -> Result<Map<String, Value>, CliError> {
        let mut map = Map::new();
        for key in ini.keys(section) {
            let value = get(section, key)?.unwrap_or_default();
            let key = if key == "sqlalchemy.url" { "url" } else { key };
            check_key(key, &format!("[{section}] of {shown}"), None)?;
            if key == "url" && value.trim().is_empty() {
                continue;
            }
            map.insert(key.to_string(), string_value(origin, value));
        }
        Ok(map)
    };
    let migrate_origin = places.add(Place {
        name: format!("[migrate] of {shown}"),
        role: Role::File,
        base: PathBuf::new(),
        alembic_section: false,
    });
    let migrate = section("migrate", &migrate_origin)?;
    let mut environments = Map::new();
    for name in ini.section_names() {
        let Some(env) = name.strip_prefix("migrate:") else {
            continue;
        };
        let env = env.trim();
        let origin = places.add(Place {
            name: format!("[migrate:{env}] of {shown}"),
            role: Role::Environment,
            base: PathBuf::new(),
            alembic_section: false,
        });
        let table = section(name, &origin)?;
        environments.insert(
            env.to_string(),
            Value::new(Some(&origin), ValueKind::Table(table)),
        );
    }
    let mut sources = vec![Collected(alembic), Collected(migrate)];
    if !environments.is_empty() {
        sources.push(Collected(Map::from_iter([(
            "environments".to_string(),
            Value::new(Some(&migrate_origin), ValueKind::Table(environments)),
        )])));
    }
    Ok(sources)
}

/// The `MIGRATE_<KEY>` variables of one place, read by the config crate's `Environment`
/// source (prefix `MIGRATE_`, names lowercased into keys); other `MIGRATE_*` variables
/// (`MIGRATE_ENV`, the test suite's) are not settings and are left out.
pub fn variables_source(
    vars: &Vars,
    place: VarPlace,
    places: &mut Places,
) -> Result<Collected, CliError> {
    let wanted: Map<String, String> = vars
        .with_prefix(place, "MIGRATE_")
        .into_iter()
        .filter(|(name, _)| KEYS.contains(&name["MIGRATE_".len()..].to_ascii_lowercase().as_str()))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    let origin = places.add(Place {
        name: vars.place_name(place).to_string(),
        role: Role::Variables,
        base: PathBuf::new(),
        alembic_section: false,
    });
    let map = config::Environment::with_prefix("MIGRATE")
        .prefix_separator("_")
        .ignore_empty(true)
        .source(Some(wanted))
        .collect()
        .map_err(|e| CliError::config(format!("{}: {e}", vars.place_name(place))))?;
    Ok(Collected(
        map.into_iter()
            .map(|(k, v)| (k, relabel(v, &origin)))
            .collect(),
    ))
}
