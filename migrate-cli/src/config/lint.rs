//! The `[lint]` table of migrate.toml: a level per rule and the target server.
//!
//! ```toml
//! [lint]
//! postgres_version = "15"          # or mysql_version = "10.11-mariadb", sqlite_version = "3.45"
//! dialect = "postgresql"           # default: the configured URL's database
//! ban-drop-column = "warn"         # error, warn or off
//! prefer-robust-stmts = "off"
//! ```

use std::collections::BTreeMap;

use migrate_core::lint::{Rule, ServerVersion, Setting, Target};

use crate::error::CliError;

/// The keys of `[lint]` that are not rule names.
const KEYS: &[&str] = &[
    "dialect",
    "postgres_version",
    "mysql_version",
    "sqlite_version",
];

/// What `[lint]` says, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintSettings {
    /// A level per rule named.
    pub levels: BTreeMap<Rule, Setting>,
    /// The database to lint for, when given.
    pub dialect: Option<Target>,
    /// The server version of each database, when given.
    pub versions: BTreeMap<&'static str, ServerVersion>,
}

impl LintSettings {
    /// The configured server version of `target`.
    pub fn version(&self, target: Target) -> Option<ServerVersion> {
        self.versions.get(target.name()).copied()
    }
}

/// Check the `[lint]` table read from `origin`.
pub fn parse(table: &BTreeMap<String, String>, origin: &str) -> Result<LintSettings, CliError> {
    let mut out = LintSettings::default();
    for (key, value) in table {
        let bad = |what: String| {
            CliError::config(format!("{origin}: [lint] {key} = \"{value}\": {what}"))
        };
        match key.as_str() {
            "dialect" => {
                out.dialect = Some(match value.trim().to_ascii_lowercase().as_str() {
                    "sqlite" => Target::Sqlite,
                    "postgresql" | "postgres" => Target::Postgresql,
                    "mysql" | "mariadb" => Target::Mysql,
                    _ => return Err(bad("expected sqlite, postgresql or mysql".into())),
                });
            }
            "postgres_version" | "mysql_version" | "sqlite_version" => {
                let version = ServerVersion::parse(value).ok_or_else(|| {
                    bad("expected a version such as \"15\", \"8.0.35\" or \"10.11-mariadb\"".into())
                })?;
                let target = match key.as_str() {
                    "postgres_version" => Target::Postgresql,
                    "mysql_version" => Target::Mysql,
                    _ => Target::Sqlite,
                };
                out.versions.insert(target.name(), version);
            }
            name => {
                let rule = Rule::from_name(name).ok_or_else(|| {
                    let names: Vec<&str> = Rule::ALL.iter().map(|r| r.name()).collect();
                    CliError::config(format!(
                        "{origin}: [lint] {name}: no such rule or key (keys: {}; rules: {})",
                        KEYS.join(", "),
                        names.join(", ")
                    ))
                })?;
                let setting = Setting::parse(value)
                    .ok_or_else(|| bad("expected \"error\", \"warn\" or \"off\"".into()))?;
                out.levels.insert(rule, setting);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_core::lint::Level;

    fn table(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn rules_versions_and_dialect_are_read() {
        let s = parse(
            &table(&[
                ("ban-drop-column", "warn"),
                ("prefer-timestamptz", "off"),
                ("postgres_version", "11"),
                ("mysql_version", "10.11.6-MariaDB"),
                ("dialect", "postgres"),
            ]),
            "migrate.toml",
        )
        .unwrap();
        assert_eq!(s.levels[&Rule::BanDropColumn], Setting::On(Level::Warn));
        assert_eq!(s.levels[&Rule::PreferTimestampTz], Setting::Off);
        assert_eq!(
            s.version(Target::Postgresql),
            Some(ServerVersion::new(11, 0, 0))
        );
        let maria = s.version(Target::Mysql).unwrap();
        assert!(maria.mariadb && maria.at_least(10, 11, 6));
        assert_eq!(s.dialect, Some(Target::Postgresql));
    }

    #[test]
    fn unknown_rules_and_levels_are_errors_that_say_what_is_accepted() {
        let e = parse(&table(&[("ban-drop-colum", "off")]), "migrate.toml").unwrap_err();
        assert!(e.to_string().contains("no such rule"), "{e}");
        assert!(e.to_string().contains("ban-drop-column"), "{e}");
        let e = parse(&table(&[("ban-drop-column", "fatal")]), "migrate.toml").unwrap_err();
        assert!(
            e.to_string().contains("\"error\", \"warn\" or \"off\""),
            "{e}"
        );
    }
}
