//! The SQL flavour of PostgreSQL: quoting, splitting rules and the version table's statements.

use migrate_core::{Dialect, SplitRules, VersionTable};

/// PostgreSQL's [`Dialect`]: `"` quoting where SQLAlchemy quotes, transactional DDL, nested
/// comments, dollar quoting and `E'...'` strings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PostgresDialect;

/// PostgreSQL's reserved words that SQLAlchemy quotes; sorted, for binary search.
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
    "binary",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "collation",
    "column",
    "concurrently",
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
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "natural",
    "not",
    "notnull",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
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
    "tablesample",
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

fn needs_quotes(ident: &str) -> bool {
    let mut chars = ident.chars();
    let plain = matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    !plain || RESERVED_WORDS.binary_search(&ident).is_ok()
}

impl Dialect for PostgresDialect {
    fn name(&self) -> &'static str {
        "postgresql"
    }

    fn quote_identifier(&self, ident: &str) -> String {
        if needs_quotes(ident) {
            format!("\"{}\"", ident.replace('"', "\"\""))
        } else {
            ident.to_string()
        }
    }

    /// As Alembic 1.20 with SQLAlchemy 2 writes it for PostgreSQL.
    fn insert_version(&self, table: &VersionTable, id: &str) -> String {
        let name = self.version_table_name(table);
        format!(
            "INSERT INTO {name} (version_num) VALUES ({}) RETURNING {}.version_num",
            self.string_literal(id),
            name
        )
    }

    fn transactional_ddl(&self) -> bool {
        true
    }

    fn split_rules(&self) -> SplitRules {
        SplitRules::postgresql()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_words_are_sorted_and_quoted() {
        let mut sorted = RESERVED_WORDS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, RESERVED_WORDS);
        let d = PostgresDialect;
        assert_eq!(d.quote_identifier("alembic_version"), "alembic_version");
        assert_eq!(d.quote_identifier("user"), "\"user\"");
        assert_eq!(d.quote_identifier("MyTable"), "\"MyTable\"");
        let t = VersionTable {
            name: "alembic_version".into(),
            schema: Some("Ops".into()),
        };
        assert_eq!(d.version_table_name(&t), "\"Ops\".alembic_version");
    }
}
