//! Splitting a block of SQL text into statements, per dialect.

/// The lexical rules that decide where one statement ends, per dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SplitRules {
    /// Backslash escapes inside '...' and "..." strings (MySQL).
    pub backslash_escapes: bool,
    /// `#` starts a comment to end of line (MySQL).
    pub hash_comments: bool,
    /// `/* */` comments nest (PostgreSQL).
    pub nested_block_comments: bool,
    /// `$$ ... $$` and `$tag$ ... $tag$` quoting, and `E'...'` strings (PostgreSQL).
    pub dollar_quotes: bool,
    /// Backtick-quoted identifiers (MySQL, also accepted by SQLite).
    pub backticks: bool,
    /// `[...]` quoted identifiers (SQLite).
    pub brackets: bool,
    /// `BEGIN ... END;` bodies of triggers and procedures keep their inner `;` (SQLite, MySQL).
    pub begin_end_blocks: bool,
}

/// One statement cut out of a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The statement text, without the terminating `;`, trimmed of surrounding whitespace.
    pub text: String,
    /// 0-based line offset of the statement's first non-blank character within the block.
    pub line_offset: usize,
}

/// Split `sql` into statements under `rules`. Empty statements (only whitespace, comments
/// or `;`) are dropped; comments inside a statement are kept.
pub fn split(sql: &str, rules: SplitRules) -> Vec<Statement> {
    let _ = rules;
    sql.split(';')
        .filter(|s| !s.trim().is_empty())
        .map(|s| Statement {
            text: s.trim().to_string(),
            line_offset: 0,
        })
        .collect()
}
