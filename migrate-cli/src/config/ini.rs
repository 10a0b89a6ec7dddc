//! Reading `alembic.ini` as Python's `configparser` reads it for Alembic.
//!
//! Hand-written rather than through the config crate's ini format, because Alembic's files
//! depend on three configparser behaviours that format lacks: `%(here)s` / `%(name)s`
//! interpolation (`%%` for a literal `%`), values continued on indented lines (how
//! `version_locations` is written with `path_separator = newline`), and keys such as
//! `sqlalchemy.url` that hold dots.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::CliError;

/// One ini file: sections of `key -> value`, keys lowercased, values as written (not yet
/// interpolated), in file order of sections.
#[derive(Debug, Clone, Default)]
pub struct IniFile {
    defaults: BTreeMap<String, String>,
    sections: Vec<(String, BTreeMap<String, String>)>,
}

impl IniFile {
    /// Parses ini text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<IniFile, CliError> {
        let mut file = IniFile::default();
        // Which map the current key goes to: None = before any section.
        let mut current: Option<usize> = None;
        let mut in_defaults = false;
        let mut last_key: Option<String> = None;
        for (index, raw_line) in text.lines().enumerate() {
            let line_no = index + 1;
            let trimmed = raw_line.trim();
            let indented = raw_line.starts_with([' ', '\t']);
            if trimmed.is_empty() {
                // configparser keeps empty lines inside multi-line values but strips trailing
                // ones; dropping them changes nothing Alembic's settings read.
                continue;
            }
            if trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            if indented {
                if let Some(key) = &last_key {
                    let value = file
                        .target(in_defaults, current)
                        .and_then(|map| map.get_mut(key));
                    if let Some(value) = value {
                        value.push('\n');
                        value.push_str(trimmed);
                        continue;
                    }
                }
            }
            if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
                let name = name.trim().to_string();
                last_key = None;
                if name == "DEFAULT" {
                    in_defaults = true;
                    continue;
                }
                in_defaults = false;
                current = Some(match file.sections.iter().position(|(n, _)| *n == name) {
                    Some(i) => i,
                    None => {
                        file.sections.push((name, BTreeMap::new()));
                        file.sections.len() - 1
                    }
                });
                continue;
            }
            let Some(split) = trimmed.find(['=', ':']) else {
                return Err(CliError::Config {
                    message: format!(
                        "{}:{line_no}: expected `key = value` or a `[section]` header, found `{trimmed}`",
                        origin.display()
                    ),
                });
            };
            let key = trimmed[..split].trim().to_ascii_lowercase();
            let value = trimmed[split + 1..].trim().to_string();
            let Some(map) = file.target(in_defaults, current) else {
                return Err(CliError::Config {
                    message: format!(
                        "{}:{line_no}: `{key}` comes before any `[section]` header (Alembic's settings go under [alembic])",
                        origin.display()
                    ),
                });
            };
            map.insert(key.clone(), value);
            last_key = Some(key);
        }
        Ok(file)
    }

    /// The map keys go to: `[DEFAULT]`, the current section, or none before any header.
    fn target(
        &mut self,
        in_defaults: bool,
        current: Option<usize>,
    ) -> Option<&mut BTreeMap<String, String>> {
        if in_defaults {
            Some(&mut self.defaults)
        } else {
            current.map(|i| &mut self.sections[i].1)
        }
    }

    /// Reads and parses the file at `path`.
    pub fn read(path: &Path) -> Result<IniFile, CliError> {
        let text = std::fs::read_to_string(path).map_err(|e| CliError::Config {
            message: format!("cannot read {}: {e}", path.display()),
        })?;
        IniFile::parse(&text, path)
    }

    /// Section names in file order.
    pub fn section_names(&self) -> impl Iterator<Item = &str> {
        self.sections.iter().map(|(n, _)| n.as_str())
    }

    /// Whether the section exists.
    pub fn has_section(&self, section: &str) -> bool {
        self.sections.iter().any(|(n, _)| n == section)
    }

    /// Keys of a section (defaults excluded), sorted.
    pub fn keys(&self, section: &str) -> Vec<&str> {
        self.sections
            .iter()
            .find(|(n, _)| n == section)
            .map(|(_, m)| m.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// The raw value of `key` in `section` (or `[DEFAULT]`), before interpolation.
    fn raw(&self, section: &str, key: &str) -> Option<&str> {
        self.sections
            .iter()
            .find(|(n, _)| n == section)
            .and_then(|(_, m)| m.get(key))
            .or_else(|| self.defaults.get(key))
            .map(String::as_str)
    }

    /// The value of `key` in `section`, with configparser's `%(name)s` interpolation: `names`
    /// are extra defaults (Alembic passes `here`), then the section's own keys and `[DEFAULT]`.
    pub fn get(
        &self,
        section: &str,
        key: &str,
        names: &BTreeMap<String, String>,
        origin: &Path,
    ) -> Result<Option<String>, CliError> {
        match self.raw(section, key) {
            None => Ok(None),
            Some(raw) => self
                .interpolate(section, key, raw, names, origin, 0)
                .map(Some),
        }
    }

    fn interpolate(
        &self,
        section: &str,
        key: &str,
        raw: &str,
        names: &BTreeMap<String, String>,
        origin: &Path,
        depth: usize,
    ) -> Result<String, CliError> {
        let fail = |what: String| CliError::Config {
            message: format!("{}: [{section}] {key}: {what}", origin.display()),
        };
        if depth > 10 {
            return Err(fail(
                "interpolation nested too deeply (a `%(name)s` loop?)".into(),
            ));
        }
        let mut out = String::new();
        let mut rest = raw;
        while let Some(pos) = rest.find('%') {
            out.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            if let Some(stripped) = after.strip_prefix('%') {
                out.push('%');
                rest = stripped;
            } else if let Some(body) = after.strip_prefix('(') {
                let Some(close) = body.find(")s") else {
                    return Err(fail("bad interpolation syntax: expected `%(name)s` (write `%%` for a literal `%`)".into()));
                };
                let name = body[..close].to_ascii_lowercase();
                let value = match self.raw(section, &name).filter(|_| name != key) {
                    Some(v) => self.interpolate(section, &name, v, names, origin, depth + 1)?,
                    None => match names.get(&name) {
                        Some(v) => v.clone(),
                        None => {
                            return Err(fail(format!(
                            "`%({name})s` names no key of the section, of [DEFAULT], nor `here`"
                        )))
                        }
                    },
                };
                out.push_str(&value);
                rest = &body[close + 2..];
            } else {
                return Err(fail(
                    "a `%` must be followed by `%` or `(name)s` (write `%%` for a literal `%`)"
                        .into(),
                ));
            }
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn here(dir: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("here".to_string(), dir.to_string())])
    }

    #[test]
    fn reads_sections_keys_with_dots_and_here_interpolation() {
        let text = "\
# A generic, single database configuration.
[alembic]
script_location = %(here)s/migrations
sqlalchemy.url =
Version_Table: my_versions
file_template = %%(rev)s_%%(slug)s

[loggers]
keys = root
";
        let ini = IniFile::parse(text, Path::new("alembic.ini")).unwrap();
        let get = |k: &str| {
            ini.get("alembic", k, &here("/proj"), Path::new("alembic.ini"))
                .unwrap()
        };
        assert_eq!(get("script_location").as_deref(), Some("/proj/migrations"));
        assert_eq!(get("sqlalchemy.url").as_deref(), Some(""));
        assert_eq!(get("version_table").as_deref(), Some("my_versions"));
        assert_eq!(get("file_template").as_deref(), Some("%(rev)s_%(slug)s"));
        assert_eq!(get("missing"), None);
        assert_eq!(
            ini.section_names().collect::<Vec<_>>(),
            ["alembic", "loggers"]
        );
    }

    #[test]
    fn continuation_lines_join_with_newlines() {
        let text = "[alembic]\nversion_locations =\n    %(here)s/a\n    %(here)s/b\npath_separator = newline\n";
        let ini = IniFile::parse(text, Path::new("x.ini")).unwrap();
        let v = ini
            .get(
                "alembic",
                "version_locations",
                &here("/p"),
                Path::new("x.ini"),
            )
            .unwrap();
        assert_eq!(v.as_deref(), Some("\n/p/a\n/p/b"));
    }

    #[test]
    fn default_section_and_cross_references_interpolate() {
        let text =
            "[DEFAULT]\nbase = /srv\n[alembic]\nscript_location = %(base)s/%(name)s\nname = mig\n";
        let ini = IniFile::parse(text, Path::new("x.ini")).unwrap();
        let v = ini
            .get(
                "alembic",
                "script_location",
                &BTreeMap::new(),
                Path::new("x.ini"),
            )
            .unwrap();
        assert_eq!(v.as_deref(), Some("/srv/mig"));
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let err = IniFile::parse("[alembic]\njunk line\n", Path::new("a.ini"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("a.ini:2:"), "{err}");
        let err = IniFile::parse("x = 1\n", Path::new("a.ini"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("before any `[section]`"), "{err}");
        let ini = IniFile::parse("[alembic]\nurl = %(nope)s\n", Path::new("a.ini")).unwrap();
        let err = ini
            .get("alembic", "url", &BTreeMap::new(), Path::new("a.ini"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("%(nope)s"), "{err}");
    }
}
