//! The one error type of `migrate-core`.

use std::path::PathBuf;

/// Everything that can go wrong in the core: loading files, the graph, resolving targets,
/// planning and running migrations.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A revision file is malformed (syntax, header values, directives).
    #[error("{path}:{line}:{column}: {message}{}", snippet.as_deref().map(|s| format!("\n    {s}")).unwrap_or_default())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and what is supported.
        message: String,
        /// The offending source line, when there is one.
        snippet: Option<String>,
    },
    /// The set of revisions does not form a valid history (duplicate ids, unknown parents,
    /// cycles, duplicate labels).
    #[error("{0}")]
    Graph(String),
    /// A revision identifier or target could not be resolved (Alembic's wording).
    #[error("{0}")]
    Resolution(String),
    /// `head` was asked for while there are several heads (Alembic's wording plus a hint).
    #[error("{0}")]
    MultipleHeads(String),
    /// The requested walk is impossible (overrun, target not an ancestor, unrunnable revision).
    #[error("{0}")]
    Plan(String),
    /// A new revision could not be created.
    #[error("{0}")]
    Revision(String),
    /// The database refused something; the report says what was applied before the failure.
    #[error("{message}")]
    Database {
        /// One line (or a few) describing what failed, where, and the state left behind.
        message: String,
        /// What had been committed before the failure.
        report: Box<crate::migrator::Report>,
    },
    /// A connection or session-level failure of the backend (connect, lock, version table).
    #[error("{0}")]
    Backend(#[from] crate::executor::DatabaseError),
}

/// `Result` with the core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
