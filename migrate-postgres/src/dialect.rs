//! The PostgreSQL SQL flavour: quoting, the version table's statements, splitting rules.

use migrate_core::dialect::quote_if_needed;
use migrate_core::ops::{Operation, RenderError};
use migrate_core::{Dialect, SplitRules, VersionTable};

/// PostgreSQL as revision files name it (`postgresql`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PostgresDialect;

/// Words SQLAlchemy's PostgreSQL dialect quotes whenever they are used as identifiers
/// (sorted, for a binary search).
const RESERVED_WORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "binary",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "natural",
    "new",
    "not",
    "notnull",
    "null",
    "of",
    "off",
    "offset",
    "old",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "over",
    "overlaps",
    "placing",
    "primary",
    "references",
    "returning",
    "right",
    "select",
    "session_user",
    "similar",
    "some",
    "symmetric",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
];

impl Dialect for PostgresDialect {
    fn name(&self) -> &'static str {
        "postgresql"
    }

    fn quote_identifier(&self, ident: &str) -> String {
        quote_if_needed(ident, RESERVED_WORDS, '"')
    }

    /// Alembic's PostgreSQL `INSERT` carries `RETURNING <table>.version_num`.
    fn insert_version(&self, table: &VersionTable, id: &str) -> String {
        let name = self.version_table_name(table);
        format!(
            "INSERT INTO {name} (version_num) VALUES ({}) RETURNING {name}.version_num",
            self.string_literal(id)
        )
    }

    fn transactional_ddl(&self) -> bool {
        true
    }

    fn split_rules(&self) -> SplitRules {
        SplitRules::postgresql()
    }

    fn render_operation(&self, op: &Operation) -> Result<Vec<String>, RenderError> {
        crate::ops::render(op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_words_are_sorted() {
        assert!(RESERVED_WORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn quotes_only_when_needed() {
        let d = PostgresDialect;
        assert_eq!(d.quote_identifier("alembic_version"), "alembic_version");
        assert_eq!(d.quote_identifier("v$2"), "v$2");
        assert_eq!(d.quote_identifier("Versions"), "\"Versions\"");
        assert_eq!(d.quote_identifier("user"), "\"user\"");
        assert_eq!(d.quote_identifier("2fa"), "\"2fa\"");
        assert_eq!(d.quote_identifier("my table"), "\"my table\"");
        assert_eq!(d.quote_identifier("a\"b"), "\"a\"\"b\"");
        assert_eq!(d.quote_identifier(""), "\"\"");
    }

    // Expected texts taken from `oracle.py DIR postgresql://postgres@127.0.0.1/test upgrade head --sql`
    // and `downgrade b2:base --sql` (Alembic 1.20.1).
    #[test]
    fn version_table_statements_match_alembic() {
        let d = PostgresDialect;
        let t = VersionTable::default();
        assert_eq!(
            d.create_version_table(&t),
            "CREATE TABLE alembic_version (\n    version_num VARCHAR(32) NOT NULL, \n    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n)"
        );
        assert_eq!(
            d.insert_version(&t, "a1"),
            "INSERT INTO alembic_version (version_num) VALUES ('a1') RETURNING alembic_version.version_num"
        );
        assert_eq!(
            d.update_version(&t, "a1", "b2"),
            "UPDATE alembic_version SET version_num='b2' WHERE alembic_version.version_num = 'a1'"
        );
        assert_eq!(
            d.delete_version(&t, "a1"),
            "DELETE FROM alembic_version WHERE alembic_version.version_num = 'a1'"
        );
    }

    #[test]
    fn schema_qualifies_the_version_table() {
        let d = PostgresDialect;
        let t = VersionTable {
            name: "alembic_version".into(),
            schema: Some("Tenant".into()),
        };
        assert_eq!(d.version_table_name(&t), "\"Tenant\".alembic_version");
    }
}
