//! The only place that names the backends: a URL in, an executor or a dialect out.

use migrate_core::{Dialect, Executor};

use crate::error::CliError;
use crate::url::{Backend, DatabaseUrl};

/// Connects to the database `url` names.
pub async fn connect(url: &DatabaseUrl) -> Result<Box<dyn Executor>, CliError> {
    Err(CliError::config(format!(
        "the {} backend is not built into this binary yet ({})",
        url.backend().dialect_name(),
        url.redacted()
    )))
}

/// The SQL flavour of `backend`, for offline scripts.
pub fn dialect(backend: Backend) -> Result<Box<dyn Dialect>, CliError> {
    Err(CliError::config(format!(
        "the {} backend is not built into this binary yet",
        backend.dialect_name()
    )))
}
