//! The SQL flavour of SQLite: quoting, splitting rules and the version table's statements.

use migrate_core::dialect::{ReservedWords, TimeoutScope, Timeouts};
use migrate_core::ops::{Operation, RenderError};
use migrate_core::{Dialect, SplitRules, VersionTable};

/// SQLite's [`Dialect`]: `"` quoting where SQLAlchemy quotes, transactional DDL, and the
/// statement-splitting rules of SQLite's tokenizer (`[...]` and backtick identifiers,
/// `BEGIN ... END` trigger bodies).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SqliteDialect;

/// Words SQLAlchemy's SQLite dialect quotes even when they are plain lowercase identifiers,
/// so that names render as they do in Alembic's output. Sorted, for binary search.
const RESERVED_WORDS: &[&str] = &[
    "add",
    "after",
    "all",
    "alter",
    "analyze",
    "and",
    "as",
    "asc",
    "attach",
    "autoincrement",
    "before",
    "begin",
    "between",
    "by",
    "cascade",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "commit",
    "conflict",
    "constraint",
    "create",
    "cross",
    "current_date",
    "current_time",
    "current_timestamp",
    "database",
    "default",
    "deferrable",
    "deferred",
    "delete",
    "desc",
    "detach",
    "distinct",
    "drop",
    "each",
    "else",
    "end",
    "escape",
    "except",
    "exclusive",
    "exists",
    "explain",
    "fail",
    "false",
    "for",
    "foreign",
    "from",
    "full",
    "glob",
    "group",
    "having",
    "if",
    "ignore",
    "immediate",
    "in",
    "index",
    "indexed",
    "initially",
    "inner",
    "insert",
    "instead",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "key",
    "left",
    "like",
    "limit",
    "match",
    "natural",
    "not",
    "notnull",
    "null",
    "of",
    "offset",
    "on",
    "or",
    "order",
    "outer",
    "plan",
    "pragma",
    "primary",
    "query",
    "raise",
    "references",
    "reindex",
    "rename",
    "replace",
    "restrict",
    "right",
    "rollback",
    "row",
    "select",
    "set",
    "table",
    "temp",
    "temporary",
    "then",
    "to",
    "transaction",
    "trigger",
    "true",
    "union",
    "unique",
    "update",
    "using",
    "vacuum",
    "values",
    "view",
    "virtual",
    "when",
    "where",
];

/// [`RESERVED_WORDS`] indexed for the quoting test.
static RESERVED: ReservedWords = ReservedWords::new(RESERVED_WORDS);

impl Dialect for SqliteDialect {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn quote_identifier(&self, ident: &str) -> String {
        RESERVED.quote(ident, '"')
    }

    fn push_quoted(&self, out: &mut String, ident: &str) {
        RESERVED.push_quoted(out, ident, '"')
    }

    /// Alembic (through SQLAlchemy 2) renders the version insert on SQLite with
    /// `RETURNING version_num`; taken from `oracle.py ... sqlite:// upgrade head --sql`.
    fn insert_version(&self, table: &VersionTable, id: &str) -> String {
        format!(
            "INSERT INTO {} (version_num) VALUES ({}) RETURNING version_num",
            self.version_table_name(table),
            self.string_literal(id)
        )
    }

    fn transactional_ddl(&self) -> bool {
        true
    }

    fn split_rules(&self) -> SplitRules {
        SplitRules::sqlite()
    }

    /// SQLite waits for another connection's write lock up to its busy timeout, set once; it
    /// has no statement timeout.
    fn timeout_statements(&self, timeouts: &Timeouts, scope: TimeoutScope) -> Vec<String> {
        match (scope, timeouts.lock) {
            (TimeoutScope::Start, Some(lock)) => {
                vec![format!("PRAGMA busy_timeout = {}", lock.as_millis())]
            }
            _ => Vec::new(),
        }
    }

    fn render_operation(&self, op: &Operation) -> Result<Vec<String>, RenderError> {
        crate::ops::render(op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_words_are_sorted_for_binary_search() {
        assert!(RESERVED_WORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn quotes_only_names_sqlalchemy_quotes() {
        let d = SqliteDialect;
        assert_eq!(d.quote_identifier("alembic_version"), "alembic_version");
        assert_eq!(d.quote_identifier("v$2"), "v$2");
        assert_eq!(d.quote_identifier("Versions"), "\"Versions\"");
        assert_eq!(d.quote_identifier("order"), "\"order\"");
        assert_eq!(d.quote_identifier("2fa"), "\"2fa\"");
        assert_eq!(d.quote_identifier("my table"), "\"my table\"");
        assert_eq!(d.quote_identifier("a\"b"), "\"a\"\"b\"");
        assert_eq!(d.quote_identifier(""), "\"\"");
    }

    // Expected text from `oracle.py DIR sqlite:// upgrade head --sql` and
    // `downgrade head:base --sql` (Alembic 1.20.1).
    #[test]
    fn version_table_statements_match_alembic() {
        let (d, t) = (SqliteDialect, VersionTable::default());
        assert_eq!(
            d.create_version_table(&t),
            "CREATE TABLE alembic_version (\n    version_num VARCHAR(32) NOT NULL, \n    \
             CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n)"
        );
        assert_eq!(
            d.insert_version(&t, "aaa111"),
            "INSERT INTO alembic_version (version_num) VALUES ('aaa111') RETURNING version_num"
        );
        assert_eq!(
            d.update_version(&t, "aaa111", "bbb222"),
            "UPDATE alembic_version SET version_num='bbb222' WHERE \
             alembic_version.version_num = 'aaa111'"
        );
        assert_eq!(
            d.delete_version(&t, "aaa111"),
            "DELETE FROM alembic_version WHERE alembic_version.version_num = 'aaa111'"
        );
    }
}
