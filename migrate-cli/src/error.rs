//! The one error type of the `migrate` binary; `main` prints it as one `FAILED: ...` line.

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
    /// A check (`verify`, `drift`) found problems; its report is already on stdout.
    #[error("{0}")]
    Findings(String),
}

impl CliError {
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
