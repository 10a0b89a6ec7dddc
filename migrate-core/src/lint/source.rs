//! From revisions to what the rules read: each direction's statements with their file lines
//! and transactions, and the `migrate:lint-ignore` comments that silence findings.

use crate::revision::{Migration, Revision, ScriptFormat};
use crate::split::split;

use super::{LintOptions, Rule, Section};

/// One statement of a revision direction.
pub(crate) struct Stmt {
    /// The statement text, without its `;`.
    pub text: String,
    /// 1-based line in the revision file.
    pub line: usize,
    /// Whether `migrate` runs it inside its own transaction.
    pub in_transaction: bool,
    /// The parsed statement, or the parser's complaint.
    pub parsed: Result<sqlparser::ast::Statement, String>,
}

/// One direction of one revision, as the rules see it.
pub(crate) struct Unit<'r> {
    pub rev: &'r Revision,
    pub section: Section,
    pub stmts: Vec<Stmt>,
}

impl<'r> Unit<'r> {
    /// The statements `rev` runs in `section` on `options.target`, its operations rendered by
    /// `dialect`. An operation the dialect refuses adds nothing (planning refuses the revision,
    /// saying why).
    pub fn build(
        rev: &'r Revision,
        section: Section,
        options: &LintOptions,
        dialect: &dyn crate::Dialect,
    ) -> Unit<'r> {
        let migration = match section {
            Section::Upgrade => &rev.upgrade,
            Section::Downgrade => &rev.downgrade,
        };
        let mut unit = Unit {
            rev,
            section,
            stmts: Vec::new(),
        };
        let Some(blocks) = migration.blocks_for(options.target.name()) else {
            return unit;
        };
        for block in blocks {
            let in_transaction = block.transactional && options.transactional_ddl;
            let statements = match &block.operation {
                None => split(&block.sql, options.split_rules),
                Some(_) => crate::ops::statements(block, dialect).unwrap_or_default(),
            };
            for s in statements {
                let parsed = super::parse::parse(&s.text, options.target);
                unit.stmts.push(Stmt {
                    line: block.line + s.line_offset,
                    text: s.text,
                    in_transaction,
                    parsed,
                });
            }
        }
        unit
    }

    /// The parsed statements, with their lines and transactions.
    pub fn parsed(&self) -> impl Iterator<Item = (&Stmt, &sqlparser::ast::Statement)> {
        self.stmts
            .iter()
            .filter_map(|s| s.parsed.as_ref().ok().map(|p| (s, p)))
    }
}

/// A comment of a revision file, with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// 1-based line in the file.
    pub line: usize,
    /// The comment's text after `#` or `--`.
    pub text: String,
}

const MARKER: &str = "migrate:lint-ignore";

/// The comments of a `.py` revision file's text that may silence findings
/// (`# migrate:lint-ignore RULE[,RULE]`), found by the Python tokenizer, so a `#` inside a
/// string is no comment. Empty for `.sql` files, whose comments stay in their sections, and
/// for text that does not tokenize (loading the revision reports that).
pub fn comments(rev: &Revision, text: &str) -> Vec<Comment> {
    if rev.format != ScriptFormat::Python || !text.contains(MARKER) {
        return Vec::new();
    }
    crate::python::comment_lines(text)
        .into_iter()
        .filter(|(_, t)| t.contains(MARKER))
        .map(|(line, text)| Comment {
            line,
            text: text.to_string(),
        })
        .collect()
}

/// The rules one `migrate:lint-ignore` comment names, when `text` (a comment's text) is one.
fn ignored_rules(text: &str) -> Option<Vec<String>> {
    let rest = text.trim_start().strip_prefix(MARKER)?;
    Some(
        rest.split([',', ' ', '\t'])
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// The suppressions of one revision.
pub(crate) struct Suppressions {
    /// (line, rules): silences the first statement starting on or after `line`.
    at: Vec<(usize, Vec<String>)>,
    /// Rules silenced for the whole file (a `.sql` header line).
    file: Vec<String>,
    /// First line of each statement of the file, sorted, to find "the next statement".
    starts: Vec<usize>,
}

impl Suppressions {
    /// The suppressions written in `rev` (its `.sql` sections and header) plus `extra` (a
    /// `.py` file's comments).
    pub fn of(rev: &Revision, extra: &[Comment]) -> Suppressions {
        let mut s = Suppressions {
            at: Vec::new(),
            file: Vec::new(),
            starts: Vec::new(),
        };
        for line in rev.doc.lines() {
            if let Some(rules) = ignored_rules(line) {
                s.file.extend(rules);
            }
        }
        for migration in [&rev.upgrade, &rev.downgrade] {
            if let Migration::Sql(blocks) = migration {
                for block in blocks {
                    for (n, line) in block.sql.lines().enumerate() {
                        let comment = line.trim_start();
                        let comment = comment
                            .strip_prefix("--")
                            .or_else(|| comment.strip_prefix('#'));
                        if let Some(rules) = comment.and_then(ignored_rules) {
                            s.at.push((block.line + n, rules));
                        }
                    }
                }
            }
        }
        for c in extra {
            if let Some(rules) = ignored_rules(&c.text) {
                s.at.push((c.line, rules));
            }
        }
        s
    }

    /// Record the statement starts of the file (all targets' statements are not needed: the
    /// linted ones are enough to find the statement after a comment).
    pub fn add_starts(&mut self, lines: impl Iterator<Item = usize>) {
        self.starts.extend(lines);
        self.starts.sort_unstable();
        self.starts.dedup();
    }

    /// Whether a finding of `rule` at `line` (`None`: the revision as a whole) is silenced.
    pub fn covers(&self, rule: Rule, line: Option<usize>) -> bool {
        let named = |rules: &[String]| rules.iter().any(|r| Rule::from_name(r) == Some(rule));
        if named(&self.file) {
            return true;
        }
        match line {
            None => self.at.iter().any(|(_, rules)| named(rules)),
            Some(line) => self
                .at
                .iter()
                .any(|(at, rules)| named(rules) && self.statement_after(*at) == Some(line)),
        }
    }

    /// The first statement line on or after `line`.
    fn statement_after(&self, line: usize) -> Option<usize> {
        let i = self.starts.partition_point(|&s| s < line);
        self.starts.get(i).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_comments_name_one_or_several_rules() {
        assert_eq!(
            ignored_rules(" migrate:lint-ignore ban-drop-table"),
            Some(vec!["ban-drop-table".to_string()])
        );
        assert_eq!(
            ignored_rules("migrate:lint-ignore a, b,c"),
            Some(vec!["a".to_string(), "b".to_string(), "c".to_string()])
        );
        assert_eq!(ignored_rules(" drop the table"), None);
    }
}
