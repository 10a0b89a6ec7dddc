//! Parsing one statement with sqlparser-rs, in the target's dialect.

use sqlparser::ast::Statement;
use sqlparser::dialect::{Dialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

use super::source::Unit;
use super::{Raw, Rule, Target};

/// The first `n` words of `text` (runs of letters, digits and `_`), upper-cased.
pub(crate) fn words(text: &str, n: usize) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .take(n)
        .map(str::to_ascii_uppercase)
        .collect()
}

/// Whether `text` is `DROP INDEX CONCURRENTLY ...`.
pub(crate) fn is_drop_index_concurrently(text: &str) -> bool {
    words(text, 3) == ["DROP", "INDEX", "CONCURRENTLY"]
}

/// Parse one statement. sqlparser-rs does not read PostgreSQL's `DROP INDEX CONCURRENTLY`, so
/// that keyword is taken out before parsing (the rules read it from the text).
pub(crate) fn parse(text: &str, target: Target) -> Result<Statement, String> {
    let dialect: &dyn Dialect = match target {
        Target::Postgresql => &PostgreSqlDialect {},
        Target::Mysql => &MySqlDialect {},
        Target::Sqlite => &SQLiteDialect {},
    };
    let owned;
    let text = if target == Target::Postgresql && is_drop_index_concurrently(text) {
        let at = text.to_ascii_uppercase().find("CONCURRENTLY").unwrap_or(0);
        owned = format!("{}{}", &text[..at], &text[at + "CONCURRENTLY".len()..]);
        owned.as_str()
    } else {
        text
    };
    let mut parsed = Parser::parse_sql(dialect, text).map_err(|e| {
        e.to_string()
            .trim_start_matches("sql parser error: ")
            .to_string()
    })?;
    if parsed.len() == 1 {
        Ok(parsed.remove(0))
    } else {
        Err(format!(
            "read as {} statements where one was expected",
            parsed.len()
        ))
    }
}

/// `unparsed-statement` for every statement of `unit` the parser could not read.
pub(crate) fn unparsed(unit: &Unit, out: &mut Vec<Raw>) {
    for stmt in &unit.stmts {
        if let Err(why) = &stmt.parsed {
            let first: String = stmt
                .text
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(60)
                .collect();
            out.push(Raw::at(
                Rule::UnparsedStatement,
                stmt.line,
                format!("the SQL parser cannot read `{first}`: {why}; no rule checked this statement"),
                "check the statement by hand; if it is valid SQL for the database, silence this with \
                 `migrate:lint-ignore unparsed-statement` on the line before it",
            ));
        }
    }
}
