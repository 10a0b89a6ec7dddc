//! Reading Alembic `*.py` revision files without running Python.

use std::path::Path;

use crate::error::Result;
use crate::revision::Revision;

/// Read an Alembic revision file: its header (`revision`, `down_revision`, `branch_labels`,
/// `depends_on`), the docstring, and the SQL of `upgrade()` / `downgrade()` folded exactly as
/// Python would compute it.
pub fn parse_python_revision(path: &Path, text: &str) -> Result<Revision> {
    let _ = (path, text);
    Err(crate::Error::Graph(
        "python revisions: not yet implemented".into(),
    ))
}
