//! The one error type of the `migrate` binary; [`crate::render`] prints it as one `FAILED:
//! ...` line or as the `error` object of the JSON document, and turns its class into the exit
//! code.

use migrate_core::ErrorClass;

use crate::url::UrlError;

/// Everything the CLI can fail with. No variant's message ever holds a password.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The configuration (files, environment, flags) is missing something or is malformed.
    #[error("{message}")]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The database URL is malformed or names an unsupported scheme.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// The configured database URL (flag, environment, files) is malformed or names an
    /// unsupported scheme.
    #[error("{error} (the URL came from {from})")]
    ConfiguredUrl {
        /// What is wrong with it.
        error: UrlError,
        /// Where it came from (`--url`, `url in migrate.toml`, ...).
        from: String,
    },
    /// A command was given arguments that do not fit together.
    #[error("{0}")]
    Usage(String),
    /// A file or folder could not be written or read.
    #[error("{what}: {source}")]
    Io {
        /// What was being done, with the path.
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The core refused: loading, resolving, planning or running.
    #[error(transparent)]
    Core(#[from] migrate_core::Error),
    /// The database or its driver refused.
    #[error(transparent)]
    Database(#[from] migrate_core::DatabaseError),
    /// A new revision could not be written (`revision`, `merge`).
    #[error(transparent)]
    Authoring(#[from] migrate_core::authoring::AuthoringError),
    /// Ctrl-C stopped a run.
    #[error("{}", interrupted(committed, detail.as_deref()))]
    Interrupted {
        /// What had been committed, in words.
        committed: String,
        /// How the run ended once interrupted (what it rolled back, what may have been
        /// applied), or `None` when it did not end in time and was abandoned.
        detail: Option<String>,
    },
    /// A check (`check`, `lint`, `verify`, `drift`) found problems; its report is already on
    /// stdout.
    #[error("{message}")]
    Findings {
        /// The stable code: `check_failed`, `lint_failed`, `verify_failed`, `drift`.
        code: &'static str,
        /// What was found, in one line.
        message: String,
    },
}

/// The message of an interrupted run.
fn interrupted(committed: &str, detail: Option<&str>) -> String {
    match detail {
        Some(detail) => format!("interrupted (Ctrl-C): {committed}. The run stopped: {detail}"),
        None => format!(
            "interrupted (Ctrl-C): {committed}. The run did not stop in time and was abandoned: \
             the database rolls back the open transaction as the connection closes; on \
             MySQL/MariaDB, statements of the migration that was running may have been applied \
             (see `migrate check`)"
        ),
    }
}

impl CliError {
    /// The stable, documented code of this failure (the JSON `error.code`).
    pub fn code(&self) -> &'static str {
        match self {
            CliError::Config { .. } => "config",
            CliError::Url(_) | CliError::ConfiguredUrl { .. } => "invalid_url",
            CliError::Usage(_) => "usage",
            CliError::Io { .. } => "io",
            CliError::Core(e) => e.code(),
            CliError::Database(e) => e.kind.code(),
            CliError::Authoring(_) => "new_revision",
            CliError::Findings { code, .. } => code,
            CliError::Interrupted { .. } => "interrupted",
        }
    }

    /// What a caller can do about it: the exit code's class.
    pub fn class(&self) -> ErrorClass {
        match self {
            CliError::Core(e) => e.class(),
            CliError::Database(e) => e.kind.class(),
            CliError::Findings { .. } | CliError::Interrupted { .. } => ErrorClass::Failed,
            _ => ErrorClass::Usage,
        }
    }

    /// A [`CliError::Config`] with `message`.
    pub fn config(message: impl Into<String>) -> CliError {
        CliError::Config {
            message: message.into(),
        }
    }

    /// A [`CliError::Io`] saying what was being done.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> CliError {
        CliError::Io {
            what: what.into(),
            source,
        }
    }
}
