//! One revision as read from its file: identity, parents, labels, message and its SQL.

use std::path::PathBuf;

/// The format a revision file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptFormat {
    /// An Alembic `*.py` revision, read (never executed).
    Python,
    /// A native `*.sql` revision with `-- migrate:` directives.
    Sql,
}

/// One revision of the history, as its file declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// The revision id (`revision = "ae1027a6acf"` / `-- Revision ID: ae1027a6acf`).
    pub id: String,
    /// The parents this revision revises (`down_revision`); empty for a base, several for a merge.
    pub down_revisions: Vec<String>,
    /// Branch labels declared on this revision (`branch_labels`).
    pub branch_labels: Vec<String>,
    /// Branch labels whose value Python computes and `migrate` does not run, as written
    /// (`branch_labels = (cli.EXPAND_BRANCH,)` gives `cli.EXPAND_BRANCH`): the revision and
    /// everything it labels carry a label `migrate` cannot name, so identifiers that could be
    /// that label (anything but a full revision id or a label written as a string) are refused.
    pub computed_branch_labels: Vec<String>,
    /// Revisions or labels this revision depends on (`depends_on`), as written.
    pub depends_on: Vec<String>,
    /// The first line of the docstring / header: what `history` prints after the comma.
    pub message: String,
    /// The whole docstring or header comment (purpose, impact), as written.
    pub doc: String,
    /// The file this revision was read from.
    pub path: PathBuf,
    /// Which format the file is written in.
    pub format: ScriptFormat,
    /// What `upgrade` runs.
    pub upgrade: Migration,
    /// What `downgrade` runs.
    pub downgrade: Migration,
}

/// The SQL one direction of a revision runs, or why `migrate` cannot run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Migration {
    /// SQL that `migrate` can run: blocks in order, possibly with per-dialect variants.
    Sql(Vec<SqlBlock>),
    /// The file defines no function / section for this direction.
    Missing,
    /// The body uses something `migrate` cannot turn into SQL (an `op.create_table`, a query
    /// result, application code): the revision stays in the graph, but running it is refused.
    Unrunnable(Unrunnable),
    /// The file was read for its header only ([`Contents::Header`]): enough for listings and
    /// planning; running it is refused until the file is read in full.
    NotRead,
}

/// How much of each revision file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contents {
    /// The header and the SQL of both directions: what running a migration needs.
    Full,
    /// The header only (id, parents, labels, dependencies, message, docstring): what listings,
    /// `current`, `stamp` and new revisions need. Both directions are [`Migration::NotRead`].
    /// A `.sql` file's directives are still checked; the code of a `.py` file's `upgrade()` /
    /// `downgrade()` is tokenized (a syntax error still fails) but not folded.
    Header,
    /// The header and the SQL of `upgrade` only: what an `upgrade --sql` script needs. A `.py`
    /// file's `downgrade()` is read as [`Contents::Header`] reads it (tokenized, not folded;
    /// [`Migration::NotRead`]); a `.sql` file is read in full.
    Upgrade,
    /// [`Contents::Upgrade`] for `downgrade` (a `downgrade --sql` script): a `.py` file's
    /// `upgrade()` is tokenized but not folded.
    Downgrade,
}

/// Why a revision's body cannot be run by `migrate`, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrunnable {
    /// 1-based line in the revision file.
    pub line: usize,
    /// 1-based column in the revision file.
    pub column: usize,
    /// The construct that was found, e.g. `op.create_table(...)`.
    pub construct: String,
}

/// A piece of SQL text from a revision file (one `op.execute` call, or one `.sql` section),
/// or one Alembic operation (`op.create_table(...)`) to be rendered per dialect.
///
/// The text may hold several statements; the executor splits it per dialect.
/// [`crate::ops::statements`] turns either kind into statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlBlock {
    /// The SQL text exactly as Python would compute it / as written in the section (empty
    /// for an operation).
    pub sql: String,
    /// The Alembic operation this block runs instead of SQL text, when it is one.
    pub operation: Option<Box<crate::ops::Operation>>,
    /// 1-based line in the revision file where the SQL text starts.
    pub line: usize,
    /// False when the block must run outside a transaction (`autocommit_block`,
    /// `-- migrate:upgrade transaction=false`).
    pub transactional: bool,
    /// Dialects this block is limited to (`sqlite`, `postgresql`, `mysql`); empty means all.
    pub dialects: Vec<String>,
}

impl Migration {
    /// The blocks to run on `dialect`: when any block names the dialect, exactly the blocks
    /// naming it; otherwise the blocks that name no dialect.
    ///
    /// Returns `None` when the direction is [`Migration::Missing`], [`Migration::Unrunnable`] or
    /// [`Migration::NotRead`].
    pub fn blocks_for(&self, dialect: &str) -> Option<Vec<&SqlBlock>> {
        match self {
            Migration::Sql(blocks) => {
                let specific = blocks
                    .iter()
                    .any(|b| b.dialects.iter().any(|d| d == dialect));
                Some(
                    blocks
                        .iter()
                        .filter(|b| {
                            if specific {
                                b.dialects.iter().any(|d| d == dialect)
                            } else {
                                b.dialects.is_empty()
                            }
                        })
                        .collect(),
                )
            }
            Migration::Missing | Migration::Unrunnable(_) | Migration::NotRead => None,
        }
    }
}
