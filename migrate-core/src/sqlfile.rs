//! Reading native `*.sql` revision files.

use std::path::Path;

use crate::error::Result;
use crate::revision::Revision;

/// Read a native SQL revision file: its comment header and its `-- migrate:` sections.
pub fn parse_sql_revision(path: &Path, text: &str) -> Result<Revision> {
    let _ = (path, text);
    Err(crate::Error::Graph(
        "sql revisions: not yet implemented".into(),
    ))
}
