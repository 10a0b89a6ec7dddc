//! The variables configuration may read: the process environment, then a `.env` file.
//!
//! The process environment always wins over `.env`, as with the usual dotenv tools; nothing
//! here changes the process environment.

use std::collections::HashMap;
use std::path::Path;

use crate::error::CliError;

/// Process environment plus the `.env` file's values, looked up process-first.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    process: HashMap<String, String>,
    dotenv: HashMap<String, String>,
    /// The `.env` file read, as it is named in messages (`.env`, or `--env-file`'s path).
    dotenv_name: Option<String>,
}

/// Where a variable's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarPlace {
    /// The process environment.
    Process,
    /// The `.env` file.
    DotEnv,
}

/// What `TEST_ENV` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestEnv {
    /// Unset, empty, `false` or `0`: no test environment.
    Off,
    /// `true` (in any case): the `test` environment.
    On,
}

impl Vars {
    /// The current process environment (non-UTF-8 entries are skipped) and no `.env` values.
    pub fn from_process() -> Vars {
        Vars {
            process: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
            dotenv: HashMap::new(),
            dotenv_name: None,
        }
    }

    /// Variables given explicitly (tests).
    #[cfg(test)]
    pub fn new(process: HashMap<String, String>, dotenv: HashMap<String, String>) -> Vars {
        Vars {
            process,
            dotenv,
            dotenv_name: Some(".env".to_string()),
        }
    }

    /// Reads a `.env` file's assignments as a lower layer under the process environment;
    /// `name` is how messages name the file.
    pub fn load_dotenv(&mut self, path: &Path, name: &str) -> Result<(), CliError> {
        self.dotenv_name = Some(name.to_string());
        let iter = dotenvy::from_path_iter(path).map_err(|e| CliError::Config {
            message: format!("cannot read {}: {}", path.display(), dotenv_message(&e)),
        })?;
        for item in iter {
            let (key, value) = item.map_err(|e| CliError::Config {
                message: format!("cannot read {}: {}", path.display(), dotenv_message(&e)),
            })?;
            self.dotenv.insert(key, value);
        }
        Ok(())
    }

    /// The variable's value: the process environment's, else the `.env` file's.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.process
            .get(name)
            .or_else(|| self.dotenv.get(name))
            .map(String::as_str)
    }

    /// The variable's value when it is set and not empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Where the value [`Vars::get`] returns comes from.
    pub fn place(&self, name: &str) -> Option<VarPlace> {
        if self.process.contains_key(name) {
            Some(VarPlace::Process)
        } else if self.dotenv.contains_key(name) {
            Some(VarPlace::DotEnv)
        } else {
            None
        }
    }

    /// How messages name a place: `the environment`, or the `.env` file's name.
    pub fn place_name(&self, place: VarPlace) -> &str {
        match place {
            VarPlace::Process => "the environment",
            VarPlace::DotEnv => self.dotenv_name.as_deref().unwrap_or(".env"),
        }
    }

    /// `NAME in the environment` / `NAME in .env`, for messages; `NAME` when unset.
    pub fn describe(&self, name: &str) -> String {
        match self.place(name) {
            Some(place) => format!("{name} in {}", self.place_name(place)),
            None => name.to_string(),
        }
    }

    /// The variables of one place whose names start with `prefix`.
    pub fn with_prefix(&self, place: VarPlace, prefix: &str) -> Vec<(&str, &str)> {
        let map = match place {
            VarPlace::Process => &self.process,
            VarPlace::DotEnv => &self.dotenv,
        };
        let mut found: Vec<(&str, &str)> = map
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        found.sort_unstable();
        found
    }

    /// `TEST_ENV` read exactly as the Alembic `.env` setup `migrate` follows reads it
    /// (`os.environ.get("TEST_ENV", "").lower() == "true"`): `true` in any case selects the
    /// test environment; unset, empty, `false` and `0` do not; any other value (`1`, `yes`,
    /// ` true`) is an error rather than a guess, since the two tools would disagree on it.
    pub fn test_env(&self) -> Result<TestEnv, CliError> {
        let Some(value) = self.get("TEST_ENV") else {
            return Ok(TestEnv::Off);
        };
        match value.to_ascii_lowercase().as_str() {
            "true" => Ok(TestEnv::On),
            "" | "false" | "0" => Ok(TestEnv::Off),
            _ => Err(CliError::config(format!(
                "{} is set to `{value}`, which is neither `true` nor `false`: the Alembic setup migrate follows \
                 switches to the test database only for TEST_ENV=true (any case), so migrate will not guess; nothing was run. \
                 Write TEST_ENV=true for the test environment (or --env test, MIGRATE_ENV=test), or unset it",
                self.describe("TEST_ENV")
            ))),
        }
    }

    /// Fills `${VAR}` and `${VAR:-default}` in `text`; `key` names the setting for errors.
    ///
    /// `${VAR:-default}` takes the default when `VAR` is unset or empty; `${VAR}` with `VAR`
    /// unset is an error (write `${VAR:-}` for "empty when unset"). `$$` is a literal `$`; a `$`
    /// not followed by `{` is kept as written.
    pub fn interpolate(&self, key: &str, text: &str) -> Result<String, CliError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(pos) = rest.find('$') {
            out.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            if let Some(stripped) = after.strip_prefix('$') {
                out.push('$');
                rest = stripped;
                continue;
            }
            let Some(body) = after.strip_prefix('{') else {
                out.push('$');
                rest = after;
                continue;
            };
            let Some(close) = body.find('}') else {
                return Err(CliError::Config {
                    message: format!("setting `{key}`: unclosed `${{` in the value (write `${{VAR}}` or `${{VAR:-default}}`)"),
                });
            };
            let expr = &body[..close];
            let (name, default) = match expr.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (expr, None),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(CliError::Config {
                    message: format!("setting `{key}`: `${{{expr}}}` is not a variable reference (write `${{VAR}}` or `${{VAR:-default}}`)"),
                });
            }
            match (self.get(name), default) {
                (Some(""), Some(d)) => out.push_str(d),
                (Some(v), _) => out.push_str(v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => {
                    return Err(CliError::Config {
                        message: format!(
                            "setting `{key}` uses ${{{name}}}, which is set neither in the environment nor in .env \
                             (set it, or write ${{{name}:-default}})"
                        ),
                    })
                }
            }
            rest = &body[close + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// A dotenvy error as one line, without echoing values (a value may be a password).
fn dotenv_message(e: &dotenvy::Error) -> String {
    match e {
        dotenvy::Error::LineParse(_, index) => {
            format!("cannot parse the line at byte {index} (expected KEY=VALUE)")
        }
        dotenvy::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(process: &[(&str, &str)], dotenv: &[(&str, &str)]) -> Vars {
        let map = |kv: &[(&str, &str)]| {
            kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>()
        };
        Vars::new(map(process), map(dotenv))
    }

    #[test]
    fn process_environment_wins_over_dotenv() {
        let v = vars(&[("A", "process")], &[("A", "dotenv"), ("B", "dotenv")]);
        assert_eq!(v.get("A"), Some("process"));
        assert_eq!(v.get("B"), Some("dotenv"));
        assert_eq!(v.get("C"), None);
    }

    #[test]
    fn interpolation_fills_variables_and_defaults() {
        let v = vars(&[("HOST", "db"), ("EMPTY", "")], &[("PORT", "5433")]);
        assert_eq!(
            v.interpolate("url", "postgresql://${HOST}:${PORT}/${DB:-app}")
                .unwrap(),
            "postgresql://db:5433/app"
        );
        assert_eq!(
            v.interpolate("url", "${EMPTY:-fallback}").unwrap(),
            "fallback"
        );
        assert_eq!(v.interpolate("url", "${EMPTY}").unwrap(), "");
        assert_eq!(v.interpolate("url", "${MISSING:-}x").unwrap(), "x");
        assert_eq!(
            v.interpolate("url", "pa$word $$ ${HOST}").unwrap(),
            "pa$word $ db"
        );
    }

    #[test]
    fn unset_variable_without_default_is_an_error_naming_it() {
        let v = vars(&[], &[]);
        let err = v
            .interpolate("url", "postgresql://${PGHOST}/x")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`url`")
                && err.contains("${PGHOST}")
                && err.contains("${PGHOST:-default}"),
            "{err}"
        );
        let err = v.interpolate("url", "${oops").unwrap_err().to_string();
        assert!(err.contains("unclosed"), "{err}");
    }

    #[test]
    fn dotenv_file_is_read_without_touching_the_process_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(
            &path,
            "# comment\nPOSTGRES_USER=app\nexport POSTGRES_PASSWORD=\"s3 cret\"\nMIGRATE_CLI_TEST_ONLY_VAR='x'\n",
        )
        .unwrap();
        let mut v = vars(&[("POSTGRES_USER", "from-process")], &[]);
        v.load_dotenv(&path, ".env").unwrap();
        assert_eq!(v.place("POSTGRES_USER"), Some(VarPlace::Process));
        assert_eq!(v.describe("POSTGRES_PASSWORD"), "POSTGRES_PASSWORD in .env");
        assert_eq!(v.get("POSTGRES_USER"), Some("from-process"));
        assert_eq!(v.get("POSTGRES_PASSWORD"), Some("s3 cret"));
        assert_eq!(v.get("MIGRATE_CLI_TEST_ONLY_VAR"), Some("x"));
        assert!(std::env::var("MIGRATE_CLI_TEST_ONLY_VAR").is_err());
    }

    #[test]
    fn test_env_is_true_in_any_case_and_refuses_other_values() {
        let test_env = |process: &[(&str, &str)], dotenv: &[(&str, &str)]| {
            vars(process, dotenv).test_env().map_err(|e| e.to_string())
        };
        assert_eq!(test_env(&[("TEST_ENV", "true")], &[]), Ok(TestEnv::On));
        assert_eq!(test_env(&[], &[("TEST_ENV", "True")]), Ok(TestEnv::On));
        assert_eq!(test_env(&[("TEST_ENV", "TRUE")], &[]), Ok(TestEnv::On));
        for off in ["false", "False", "0", ""] {
            assert_eq!(
                test_env(&[("TEST_ENV", off)], &[]),
                Ok(TestEnv::Off),
                "{off}"
            );
        }
        assert_eq!(test_env(&[], &[]), Ok(TestEnv::Off));
        for unclear in ["1", "yes", "on", " true", "test"] {
            let err = test_env(&[("TEST_ENV", unclear)], &[]).unwrap_err();
            assert!(
                err.contains(&format!(
                    "TEST_ENV in the environment is set to `{unclear}`"
                )) && err.contains("nothing was run")
                    && err.contains("TEST_ENV=true"),
                "{err}"
            );
        }
        let err = test_env(&[], &[("TEST_ENV", "1")]).unwrap_err();
        assert!(err.starts_with("TEST_ENV in .env is set to `1`"), "{err}");
    }
}
