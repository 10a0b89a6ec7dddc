//! Reading native `*.sql` revision files.
//!
//! ```sql
//! -- Create the tenants table
//! --
//! -- Revision ID: 1975ea83b712
//! -- Revises:
//! -- Branch Labels:
//! -- Depends On:
//! -- Create Date: 2026-11-25 07:30:00.123456
//! --
//! -- Purpose: every row of the application belongs to a tenant.
//!
//! -- migrate:upgrade
//! CREATE TABLE tenants (id CHAR(36) PRIMARY KEY);
//!
//! -- migrate:upgrade dialect=mysql
//! CREATE TABLE tenants (id CHAR(36) PRIMARY KEY) ENGINE=InnoDB;
//!
//! -- migrate:downgrade
//! DROP TABLE tenants;
//! ```
//!
//! The header is the file's leading run of `--` lines: its first non-empty line is the message,
//! `Key: value` lines give the revision's fields, every other line is free text kept in
//! [`Revision::doc`]. Each `-- migrate:upgrade` / `-- migrate:downgrade` line starts a section
//! (one [`SqlBlock`]) running to the next directive; options `dialect=NAME[,NAME]` and
//! `transaction=false` may follow the directive.

use std::path::Path;

use crate::error::{Error, Result};
use crate::revision::{Contents, Migration, Revision, ScriptFormat, SqlBlock};

/// What the header and directive errors say is supported.
const HEADER_HINT: &str = "a .sql revision starts with a `--` comment header holding \
`-- Revision ID: <id>` and optionally `-- Revises:`, `-- Branch Labels:`, `-- Depends On:` \
(comma-separated, empty or None) and `-- Create Date:`";
const DIRECTIVE_HINT: &str = "supported directives are `-- migrate:upgrade` and \
`-- migrate:downgrade`, optionally followed by `dialect=sqlite|postgresql|mysql[,...]` and \
`transaction=false`";

/// Read a native SQL revision file: its comment header and its `-- migrate:` sections.
///
/// `path` is only used in the revision and in errors; `text` is the file's content. Errors are
/// [`Error::Parse`] with the line, column and text of the offending line and what is supported.
pub fn parse_sql_revision(path: &Path, text: &str) -> Result<Revision> {
    parse(path, text, Contents::Full)
}

/// [`parse_sql_revision`], reading the header only when `contents` is [`Contents::Header`].
pub(crate) fn parse(path: &Path, text: &str, contents: Contents) -> Result<Revision> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = Lines::new(body).peekable();

    // Room for a typical header's text, which otherwise grows by doubling from a few bytes.
    let mut header = Header {
        doc: String::with_capacity(256),
        ..Header::default()
    };
    // Leading blank lines, then the run of `--` lines (a directive ends it).
    while lines.next_if(|l| l.text.trim().is_empty()).is_some() {}
    while let Some(line) = lines.peek() {
        let trimmed = line.text.trim_start();
        let Some(comment) = trimmed.strip_prefix("--") else {
            break;
        };
        if directive_name(trimmed).is_some() {
            break;
        }
        header.line(path, line, comment)?;
        lines.next();
    }

    let id = match header.id.take() {
        Some(id) => id,
        None => {
            let first = Lines::new(body).next();
            return Err(parse_error(
                path,
                first.as_ref(),
                1,
                format!("no `-- Revision ID:` line in the header; {HEADER_HINT}"),
            ));
        }
    };

    let mut doc = header.doc;
    doc.truncate(doc.trim_end().len());
    let mut revision = Revision {
        id,
        down_revisions: header.revises,
        branch_labels: header.branch_labels,
        computed_branch_labels: Vec::new(),
        depends_on: header.depends_on,
        message: header.message.unwrap_or_default(),
        doc,
        path: path.to_path_buf(),
        format: ScriptFormat::Sql,
        upgrade: Migration::NotRead,
        downgrade: Migration::NotRead,
    };
    let mut upgrade: Option<Vec<SqlBlock>> = None;
    let mut downgrade: Option<Vec<SqlBlock>> = None;
    // The section being read: its direction, block, and the byte where its SQL starts.
    let mut open: Option<(Direction, SqlBlock, usize)> = None;
    // A header-only read still checks every directive (cheap, and a typo is better found by
    // `migrate heads` than by the deploy), but copies no SQL.
    // `Contents::Upgrade`/`Downgrade` read both sections: copying one costs next to nothing.
    let full = contents != Contents::Header;
    let mut sections = Sections::default();
    for line in lines {
        let trimmed = line.text.trim_start();
        if let Some(name_at) = directive_name(trimmed) {
            if let Some((dir, mut block, start)) = open.take().filter(|_| full) {
                block.sql = body[start..line.start].trim_end().to_string();
                push(&mut upgrade, &mut downgrade, dir, block);
            }
            let indent = line.text.len() - trimmed.len();
            let (dir, block) = directive(path, &line, indent + name_at)?;
            sections.seen(dir, &line, indent + 1, &block.dialects);
            open = Some((dir, block, line.next));
        } else if open.is_none() && !trimmed.is_empty() && !trimmed.starts_with("--") {
            let column = line.text.len() - trimmed.len() + 1;
            return Err(parse_error(
                path,
                Some(&line),
                column,
                format!("SQL before the first `-- migrate:` directive; {DIRECTIVE_HINT}"),
            ));
        }
    }
    sections.check(path)?;
    if !full {
        return Ok(revision);
    }
    if let Some((dir, mut block, start)) = open.take() {
        block.sql = body[start.min(body.len())..].trim_end().to_string();
        push(&mut upgrade, &mut downgrade, dir, block);
    }

    revision.upgrade = upgrade.map_or(Migration::Missing, Migration::Sql);
    revision.downgrade = downgrade.map_or(Migration::Missing, Migration::Sql);
    Ok(revision)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Upgrade,
    Downgrade,
}

impl Direction {
    fn name(self) -> &'static str {
        match self {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
        }
    }
}

/// Every dialect a section can name, in the order messages list them.
const DIALECTS: [&str; 3] = ["sqlite", "postgresql", "mysql"];

/// The first section of each direction without `dialect=`, and the first with it: a direction
/// holding both is ambiguous (see [`Sections::check`]).
#[derive(Default)]
struct Sections {
    /// Per direction: (line number, column, text) of the first section naming no dialect.
    generic: [Option<(usize, usize, String)>; 2],
    /// Per direction: the first section naming dialects, and every dialect named.
    specific: [Option<usize>; 2],
    named: [Vec<&'static str>; 2],
}

impl Sections {
    fn seen(&mut self, dir: Direction, line: &Line, column: usize, dialects: &[String]) {
        let d = dir as usize;
        if dialects.is_empty() {
            if self.generic[d].is_none() {
                self.generic[d] = Some((line.index + 1, column, line.text.to_string()));
            }
        } else {
            self.specific[d].get_or_insert(line.index + 1);
            for name in dialects {
                if let Some(known) = DIALECTS.iter().find(|k| *k == name) {
                    if !self.named[d].contains(known) {
                        self.named[d].push(known);
                    }
                }
            }
        }
    }

    /// Refuse a direction that has sections for every database and sections for some: the
    /// old rule ran only the dialect's own sections where it had any, so a generic
    /// `CREATE TABLE` beside a `dialect=postgresql` `CREATE EXTENSION` was silently skipped
    /// on PostgreSQL. Whether the dialect sections replace or add to the generic ones cannot
    /// be read from the file, so the author says it.
    fn check(&self, path: &Path) -> Result<()> {
        for dir in [Direction::Upgrade, Direction::Downgrade] {
            let d = dir as usize;
            let (Some((line, column, text)), Some(specific)) = (&self.generic[d], self.specific[d])
            else {
                continue;
            };
            let named: Vec<&str> = DIALECTS
                .iter()
                .copied()
                .filter(|k| self.named[d].contains(k))
                .collect();
            let others: Vec<&str> = DIALECTS
                .iter()
                .copied()
                .filter(|k| !named.contains(k))
                .collect();
            let dialects = named.join(", ");
            let message = if others.is_empty() {
                format!(
                    "this `-- migrate:{dir}` section names no dialect, but every database has {dir} sections of its own ({dialects}, from line {specific}), so it would never run: remove it, or give it `dialect=` to run it beside them",
                    dir = dir.name()
                )
            } else {
                format!(
                    "this `-- migrate:{dir}` section names no dialect, but the {dir} also has sections for {dialects} (line {specific}), and whether those replace this one there or run beside it cannot be told. Name the dialects of every {dir} section: `-- migrate:{dir} dialect={}` to run this one only where no other section is given, or `dialect=sqlite,postgresql,mysql` to run it everywhere",
                    others.join(","),
                    dir = dir.name()
                )
            };
            return Err(Error::Parse {
                path: path.to_path_buf(),
                line: *line,
                column: *column,
                message,
                snippet: Some(text.clone()),
            });
        }
        Ok(())
    }
}

fn push(
    upgrade: &mut Option<Vec<SqlBlock>>,
    downgrade: &mut Option<Vec<SqlBlock>>,
    dir: Direction,
    block: SqlBlock,
) {
    let target = match dir {
        Direction::Upgrade => upgrade,
        Direction::Downgrade => downgrade,
    };
    target.get_or_insert_with(Vec::new).push(block);
}

/// The fields read from the header so far.
#[derive(Default)]
struct Header {
    message: Option<String>,
    id: Option<String>,
    revises: Vec<String>,
    branch_labels: Vec<String>,
    depends_on: Vec<String>,
    /// The header's lines without their `-- `, each ending with a newline.
    doc: String,
    /// The fields given so far, one bit per [`Field`].
    seen: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    RevisionId,
    Revises,
    BranchLabels,
    DependsOn,
    CreateDate,
}

impl Field {
    fn from_key(key: &str) -> Option<Field> {
        let key = key.trim();
        [
            ("Revision ID", Field::RevisionId),
            ("Revises", Field::Revises),
            ("Branch Labels", Field::BranchLabels),
            ("Depends On", Field::DependsOn),
            ("Create Date", Field::CreateDate),
        ]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(key))
        .map(|(_, field)| field)
    }
}

impl Header {
    /// One header line; `comment` is the text after `--`.
    fn line(&mut self, path: &Path, line: &Line, comment: &str) -> Result<()> {
        let text = comment.strip_prefix(' ').unwrap_or(comment).trim_end();
        // Each line ends with a newline; the last ones are trimmed when the header ends.
        self.doc.push_str(text);
        self.doc.push('\n');
        let field = memchr::memchr(b':', text.as_bytes())
            .and_then(|at| Some((Field::from_key(&text[..at])?, text[at + 1..].trim())));
        if self.message.is_none() && !text.trim().is_empty() {
            // The first non-empty line is the message, unless it already is a field.
            self.message = Some(if field.is_some() {
                String::new()
            } else {
                text.trim().to_string()
            });
        }
        let Some((field, value)) = field else {
            return Ok(());
        };
        let bit = 1u8 << field as u8;
        if self.seen & bit != 0 {
            let column = line.text.find(text.trim()).unwrap_or(0) + 1;
            return Err(parse_error(
                path,
                Some(line),
                column,
                "this header field is given twice; keep one".to_string(),
            ));
        }
        self.seen |= bit;
        match field {
            Field::RevisionId => {
                if value.is_empty() {
                    let column = line.text.trim_end().len() + 1;
                    return Err(parse_error(
                        path,
                        Some(line),
                        column,
                        format!("`Revision ID:` has no value; {HEADER_HINT}"),
                    ));
                }
                self.id = Some(value.to_string());
            }
            Field::Revises => self.revises = list(value),
            Field::BranchLabels => self.branch_labels = list(value),
            Field::DependsOn => self.depends_on = list(value),
            Field::CreateDate => {}
        }
        Ok(())
    }
}

/// A comma-separated header list; empty or `None` means none.
fn list(value: &str) -> Vec<String> {
    if value.is_empty() || value == "None" {
        return Vec::new();
    }
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}

/// When `line` (already trimmed at the start) is a `-- migrate:` directive, the byte offset
/// of the directive's name within it.
fn directive_name(line: &str) -> Option<usize> {
    let rest = line.strip_prefix("--")?;
    let after_dashes = rest.trim_start_matches([' ', '\t']);
    let name = after_dashes.strip_prefix("migrate:")?;
    // `-- migrate:lint-ignore RULE` is a comment for `migrate lint`, kept in the section.
    if name.starts_with("lint-ignore") {
        return None;
    }
    Some(line.len() - name.len())
}

/// Parse the directive on line `index`, whose name starts at byte `name_at`.
fn directive(path: &Path, line: &Line, name_at: usize) -> Result<(Direction, SqlBlock)> {
    let mut words = Words::new(line.text, name_at);
    let (name_col, name) = words.next().unwrap_or((name_at, ""));
    let dir = match name {
        "upgrade" => Direction::Upgrade,
        "downgrade" => Direction::Downgrade,
        _ => {
            return Err(parse_error(
                path,
                Some(line),
                name_col + 1,
                format!("unknown directive `migrate:{name}`; {DIRECTIVE_HINT}"),
            ))
        }
    };
    let mut block = SqlBlock {
        sql: String::new(),
        operation: None,
        line: line.index + 2,
        transactional: true,
        dialects: Vec::new(),
    };
    for (col, word) in words {
        match word.split_once('=') {
            Some(("dialect", names)) => {
                let mut at = col + "dialect=".len();
                for name in names.split(',') {
                    match normalise_dialect(name) {
                        Some(d) => {
                            if !block.dialects.iter().any(|x| x == d) {
                                block.dialects.push(d.to_string());
                            }
                        }
                        None => {
                            return Err(parse_error(
                                path,
                                Some(line),
                                at + 1,
                                format!(
                                    "unknown dialect `{name}`; supported dialects are `sqlite`, \
                                     `postgresql` (or `postgres`) and `mysql` (or `mariadb`), \
                                     comma-separated"
                                ),
                            ))
                        }
                    }
                    at += name.len() + 1;
                }
            }
            Some(("transaction", "false")) => block.transactional = false,
            Some(("transaction", "true")) => block.transactional = true,
            _ => {
                return Err(parse_error(
                    path,
                    Some(line),
                    col + 1,
                    format!("unknown option `{word}`; {DIRECTIVE_HINT}"),
                ))
            }
        }
    }
    Ok((dir, block))
}

/// The canonical name of a dialect named in a `dialect=` option.
fn normalise_dialect(name: &str) -> Option<&'static str> {
    match name.to_ascii_lowercase().as_str() {
        "sqlite" => Some("sqlite"),
        "postgresql" | "postgres" => Some("postgresql"),
        "mysql" | "mariadb" => Some("mysql"),
        _ => None,
    }
}

/// Whitespace-separated words of a line from a byte offset, with their byte offsets.
struct Words<'a> {
    line: &'a str,
    pos: usize,
}

impl<'a> Words<'a> {
    fn new(line: &'a str, pos: usize) -> Words<'a> {
        Words { line, pos }
    }
}

impl<'a> Iterator for Words<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<(usize, &'a str)> {
        let rest = &self.line[self.pos..];
        let start = self.pos + (rest.len() - rest.trim_start().len());
        let rest = &self.line[start..];
        if rest.is_empty() {
            self.pos = self.line.len();
            return None;
        }
        let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        self.pos = start + len;
        Some((start, &rest[..len]))
    }
}

/// One line of the file: its 0-based index, where it starts, where the next one starts, and
/// its text without `\n` or `\r\n`.
struct Line<'a> {
    index: usize,
    start: usize,
    next: usize,
    text: &'a str,
}

/// The lines of a text, in order; a final newline does not start another line, and an empty
/// text has one empty line.
struct Lines<'a> {
    src: &'a str,
    pos: usize,
    index: usize,
}

impl<'a> Lines<'a> {
    fn new(src: &'a str) -> Lines<'a> {
        Lines {
            src,
            pos: 0,
            index: 0,
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        let len = self.src.len();
        if self.pos > len || (self.pos == len && self.index > 0) {
            return None;
        }
        let start = self.pos;
        let rest = &self.src[start..];
        // `memchr` rather than `str::find`: a third of the instructions on a file's short lines.
        let (raw, next) = match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(at) => (&rest[..at], start + at + 1),
            None => (rest, len + 1),
        };
        let line = Line {
            index: self.index,
            start,
            next: next.min(len),
            text: raw.strip_suffix('\r').unwrap_or(raw),
        };
        self.pos = next;
        self.index += 1;
        Some(line)
    }
}

fn parse_error(path: &Path, line: Option<&Line>, column: usize, message: String) -> Error {
    Error::Parse {
        path: path.to_path_buf(),
        line: line.map_or(1, |l| l.index + 1),
        column,
        message,
        snippet: line.map(|l| l.text.to_string()),
    }
}
