//! Revisions for the core's tests, built one way: `rev(id, parents)` and chained changes.
//!
//! ```ignore
//! let map = support::map(vec![
//!     rev("aaaa", &[]).labels(&["core"]),
//!     rev("bbbb", &["aaaa"]).upgrade_sql("CREATE TABLE b (id INT)"),
//! ]);
//! ```
//!
//! Integration tests cannot import each other; each test file that builds revisions says
//! `mod support;` (the end-to-end tests in `tests/` include this file the same way).

#![allow(dead_code)] // each test file uses its own subset

use migrate_core::{Dialect, Migration, Revision, RevisionMap, ScriptFormat, SplitRules, SqlBlock};

/// A revision `id` on `parents`: the native file `versions/{id}.sql`, message `make {id}`,
/// no labels or dependencies, and empty (runnable) upgrade and downgrade.
pub fn rev(id: &str, parents: &[&str]) -> Revision {
    Revision {
        id: id.into(),
        down_revisions: strings(parents),
        branch_labels: vec![],
        computed_branch_labels: vec![],
        depends_on: vec![],
        message: format!("make {id}"),
        doc: String::new(),
        path: format!("versions/{id}.sql").into(),
        format: ScriptFormat::Sql,
        upgrade: Migration::Sql(vec![]),
        downgrade: Migration::Sql(vec![]),
    }
}

/// The graph of `revisions`, which must be valid.
pub fn map(revisions: Vec<Revision>) -> RevisionMap {
    RevisionMap::new(revisions).expect("the test's revisions form a valid graph")
}

/// One transactional block of `sql`, starting at line 10 of its file.
pub fn sql(text: &str) -> Migration {
    Migration::Sql(vec![block(text, 10, true)])
}

/// A block of `sql` starting at `line`, in a transaction or not, for every dialect.
pub fn block(text: &str, line: usize, transactional: bool) -> SqlBlock {
    SqlBlock {
        sql: text.to_string(),
        line,
        transactional,
        dialects: vec![],
        operation: None,
    }
}

/// `items` borrowed, for the builders' `&[&str]` arguments.
pub fn strs(items: &[String]) -> Vec<&str> {
    items.iter().map(String::as_str).collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Changes to a [`rev`], chained.
pub trait RevisionExt: Sized {
    /// An Alembic file instead: `versions/{id}.py`, format Python.
    fn python(self) -> Self;
    /// The branch labels.
    fn labels(self, labels: &[&str]) -> Self;
    /// The `depends_on` revisions.
    fn depends_on(self, revisions: &[&str]) -> Self;
    /// The message (the docstring's or header's first line).
    fn message(self, message: &str) -> Self;
    /// The file's path.
    fn path(self, path: &str) -> Self;
    /// The upgrade.
    fn upgrade(self, migration: Migration) -> Self;
    /// The downgrade.
    fn downgrade(self, migration: Migration) -> Self;
    /// The upgrade as one block of SQL ([`sql`]).
    fn upgrade_sql(self, text: &str) -> Self {
        self.upgrade(sql(text))
    }
    /// The downgrade as one block of SQL ([`sql`]).
    fn downgrade_sql(self, text: &str) -> Self {
        self.downgrade(sql(text))
    }
}

impl RevisionExt for Revision {
    fn python(mut self) -> Self {
        self.format = ScriptFormat::Python;
        self.path = self.path.with_extension("py");
        self
    }
    fn labels(mut self, labels: &[&str]) -> Self {
        self.branch_labels = strings(labels);
        self
    }
    fn depends_on(mut self, revisions: &[&str]) -> Self {
        self.depends_on = strings(revisions);
        self
    }
    fn message(mut self, message: &str) -> Self {
        self.message = message.to_string();
        self
    }
    fn path(mut self, path: &str) -> Self {
        self.path = path.into();
        self
    }
    fn upgrade(mut self, migration: Migration) -> Self {
        self.upgrade = migration;
        self
    }
    fn downgrade(mut self, migration: Migration) -> Self {
        self.downgrade = migration;
        self
    }
}

/// A dialect that quotes identifiers with `"` only when they are not plain lowercase, with or
/// without transactional DDL; its version-table statements are the trait's (Alembic's).
pub struct FakeDialect {
    /// Like PostgreSQL (named so), else like MySQL.
    pub transactional: bool,
}

impl Dialect for FakeDialect {
    fn name(&self) -> &'static str {
        if self.transactional {
            "postgresql"
        } else {
            "mysql"
        }
    }
    fn quote_identifier(&self, ident: &str) -> String {
        static NONE: migrate_core::dialect::ReservedWords =
            migrate_core::dialect::ReservedWords::new(&[]);
        NONE.quote(ident, '"')
    }
    fn transactional_ddl(&self) -> bool {
        self.transactional
    }
    fn split_rules(&self) -> SplitRules {
        SplitRules::default()
    }
}
