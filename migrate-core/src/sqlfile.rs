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

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::revision::{Migration, Revision, ScriptFormat, SqlBlock};

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
    let checksum = hex_sha256(text.as_bytes());
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines = Lines::new(body);

    let mut header = Header::default();
    let mut index = 0;
    // Leading blank lines, then the run of `--` lines (a directive ends it).
    while index < lines.len() && lines.text(index).trim().is_empty() {
        index += 1;
    }
    while index < lines.len() {
        let line = lines.text(index).trim_start();
        let Some(comment) = line.strip_prefix("--") else {
            break;
        };
        if directive_name(line).is_some() {
            break;
        }
        header.line(path, &lines, index, comment)?;
        index += 1;
    }

    let id = match header.id.take() {
        Some(id) => id,
        None => {
            return Err(parse_error(
                path,
                &lines,
                0,
                1,
                format!("no `-- Revision ID:` line in the header; {HEADER_HINT}"),
            ))
        }
    };

    let mut upgrade: Option<Vec<SqlBlock>> = None;
    let mut downgrade: Option<Vec<SqlBlock>> = None;
    // The section being read: its direction, block, and the byte where its SQL starts.
    let mut open: Option<(Direction, SqlBlock, usize)> = None;
    for i in index..lines.len() {
        let line = lines.text(i);
        let trimmed = line.trim_start();
        if let Some(name_at) = directive_name(trimmed) {
            if let Some((dir, mut block, start)) = open.take() {
                block.sql = body[start..lines.start(i)].trim_end().to_string();
                push(&mut upgrade, &mut downgrade, dir, block);
            }
            let indent = line.len() - trimmed.len();
            let (dir, block) = directive(path, &lines, i, indent + name_at)?;
            open = Some((dir, block, lines.next_start(i)));
        } else if open.is_none() && !trimmed.is_empty() && !trimmed.starts_with("--") {
            let column = line.len() - trimmed.len() + 1;
            return Err(parse_error(
                path,
                &lines,
                i,
                column,
                format!("SQL before the first `-- migrate:` directive; {DIRECTIVE_HINT}"),
            ));
        }
    }
    if let Some((dir, mut block, start)) = open.take() {
        block.sql = body[start.min(body.len())..].trim_end().to_string();
        push(&mut upgrade, &mut downgrade, dir, block);
    }

    Ok(Revision {
        id,
        down_revisions: header.revises,
        branch_labels: header.branch_labels,
        depends_on: header.depends_on,
        message: header.message.unwrap_or_default(),
        doc: header.doc.join("\n").trim_end().to_string(),
        path: path.to_path_buf(),
        format: ScriptFormat::Sql,
        checksum,
        upgrade: upgrade.map_or(Migration::Missing, Migration::Sql),
        downgrade: downgrade.map_or(Migration::Missing, Migration::Sql),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Upgrade,
    Downgrade,
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
    doc: Vec<String>,
    seen: Vec<Field>,
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
    fn line(&mut self, path: &Path, lines: &Lines, index: usize, comment: &str) -> Result<()> {
        let text = comment.strip_prefix(' ').unwrap_or(comment).trim_end();
        self.doc.push(text.to_string());
        let field = text
            .split_once(':')
            .and_then(|(key, value)| Some((Field::from_key(key)?, value.trim())));
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
        if self.seen.contains(&field) {
            let column = lines.text(index).find(text.trim()).unwrap_or(0) + 1;
            return Err(parse_error(
                path,
                lines,
                index,
                column,
                "this header field is given twice; keep one".to_string(),
            ));
        }
        self.seen.push(field);
        match field {
            Field::RevisionId => {
                if value.is_empty() {
                    let column = lines.text(index).trim_end().len() + 1;
                    return Err(parse_error(
                        path,
                        lines,
                        index,
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
    Some(line.len() - name.len())
}

/// Parse the directive on line `index`, whose name starts at byte `name_at`.
fn directive(
    path: &Path,
    lines: &Lines,
    index: usize,
    name_at: usize,
) -> Result<(Direction, SqlBlock)> {
    let line = lines.text(index);
    let mut words = Words::new(line, name_at);
    let (name_col, name) = words.next().unwrap_or((name_at, ""));
    let dir = match name {
        "upgrade" => Direction::Upgrade,
        "downgrade" => Direction::Downgrade,
        _ => {
            return Err(parse_error(
                path,
                lines,
                index,
                name_col + 1,
                format!("unknown directive `migrate:{name}`; {DIRECTIVE_HINT}"),
            ))
        }
    };
    let mut block = SqlBlock {
        sql: String::new(),
        line: index + 2,
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
                                lines,
                                index,
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
                    lines,
                    index,
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

/// The file's lines with their byte offsets (without `\n` or `\r\n`).
struct Lines<'a> {
    src: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(src: &'a str) -> Lines<'a> {
        let mut starts = vec![0];
        starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        if starts.last() == Some(&src.len()) && !src.is_empty() {
            starts.pop();
        }
        Lines { src, starts }
    }

    fn len(&self) -> usize {
        self.starts.len()
    }

    fn start(&self, index: usize) -> usize {
        self.starts[index]
    }

    /// Where the line after `index` starts (the end of the text for the last line).
    fn next_start(&self, index: usize) -> usize {
        self.starts
            .get(index + 1)
            .copied()
            .unwrap_or(self.src.len())
    }

    fn text(&self, index: usize) -> &'a str {
        let line = &self.src[self.starts[index]..self.next_start(index)];
        let line = line.strip_suffix('\n').unwrap_or(line);
        line.strip_suffix('\r').unwrap_or(line)
    }
}

fn parse_error(path: &Path, lines: &Lines, index: usize, column: usize, message: String) -> Error {
    let snippet = if index < lines.len() {
        Some(lines.text(index).to_string())
    } else {
        None
    };
    Error::Parse {
        path: path.to_path_buf(),
        line: index + 1,
        column,
        message,
        snippet,
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
    }
    out
}
