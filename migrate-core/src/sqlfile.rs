//! Reading native `*.sql` revision files.
//!
//! ```sql
//! -- Create the tenants table
//! --
//! -- Revision ID: 1975ea83b712
//! -- Revises:
//! -- Create Date: 2026-11-25 07:30:00.123456
//! --
//! -- Purpose: every row of the application belongs to a tenant.
//!
//! -- migrate:upgrade
//! CREATE TABLE tenants (id CHAR(36) PRIMARY KEY);
//!
//! -- migrate:upgrade dialect=postgresql
//! CREATE TABLE tenants (id UUID PRIMARY KEY);
//!
//! -- migrate:downgrade
//! DROP TABLE tenants;
//! ```
//!
//! The header is the file's leading run of `--` lines: its first non-empty line is the message,
//! `Key: value` lines give `Revision ID`, `Revises`, `Branch Labels`, `Depends On` and
//! `Create Date`, everything else is free text. `-- migrate:upgrade` / `-- migrate:downgrade`
//! lines start sections, with the options `dialect=NAME[,NAME]` and `transaction=false`.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::revision::{Migration, Revision, ScriptFormat, SqlBlock};

const DIRECTIVE: &str = "-- migrate:";
const SUPPORTED: &str = "supported: `-- migrate:upgrade` and `-- migrate:downgrade`, each optionally followed by `dialect=sqlite|postgresql|mysql[,...]` and `transaction=false`";

/// The dialect names a section may be limited to, with their aliases.
fn dialect_name(name: &str) -> Option<&'static str> {
    match name.to_ascii_lowercase().as_str() {
        "sqlite" => Some("sqlite"),
        "postgresql" | "postgres" | "pg" => Some("postgresql"),
        "mysql" | "mariadb" => Some("mysql"),
        _ => None,
    }
}

fn list(value: &str) -> Vec<String> {
    let v = value.trim();
    if v.is_empty() || v.eq_ignore_ascii_case("none") || v == "<base>" {
        return Vec::new();
    }
    v.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

struct Section {
    upgrade: bool,
    block: SqlBlock,
}

/// Read a native SQL revision file: its comment header and its `-- migrate:` sections.
pub fn parse_sql_revision(path: &Path, text: &str) -> Result<Revision> {
    let err = |line: usize, column: usize, message: String, snippet: &str| Error::Parse {
        path: path.to_path_buf(),
        line,
        column,
        message,
        snippet: Some(snippet.to_string()),
    };
    let lines: Vec<&str> = text.split('\n').collect();

    // The header: leading comment lines, up to the first directive or non-comment line.
    let mut doc_lines: Vec<&str> = Vec::new();
    let mut id: Option<String> = None;
    let mut down = Vec::new();
    let mut labels = Vec::new();
    let mut depends = Vec::new();
    let mut body_start = lines.len();
    for (n, raw) in lines.iter().enumerate() {
        let line = raw.trim_end_matches('\r').trim();
        if line.starts_with(DIRECTIVE) || !(line.starts_with("--") || line.is_empty()) {
            body_start = n;
            break;
        }
        let content = line.strip_prefix("--").unwrap_or(line);
        let content = content.strip_prefix(' ').unwrap_or(content);
        if let Some((key, value)) = content.split_once(':') {
            let value = value.trim();
            match key.trim().to_ascii_lowercase().as_str() {
                "revision id" => {
                    if value.is_empty() {
                        return Err(err(n + 1, 1, "`Revision ID:` is empty".into(), raw));
                    }
                    id = Some(value.to_string());
                }
                "revises" => down = list(value),
                "branch labels" => labels = list(value),
                "depends on" => depends = list(value),
                _ => {}
            }
        }
        doc_lines.push(content.trim_end());
    }
    while doc_lines.last().is_some_and(|l| l.is_empty()) {
        doc_lines.pop();
    }
    while doc_lines.first().is_some_and(|l| l.is_empty()) {
        doc_lines.remove(0);
    }
    let Some(id) = id else {
        return Err(Error::Parse {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: "not a revision file: no `-- Revision ID: <id>` line in the header comment at the top of the file".into(),
            snippet: lines.first().map(|l| l.to_string()),
        });
    };
    let message = doc_lines.first().map(|l| l.to_string()).unwrap_or_default();

    // The sections.
    let mut sections: Vec<Section> = Vec::new();
    let mut current: Option<(Section, Vec<&str>)> = None;
    let finish = |current: Option<(Section, Vec<&str>)>, sections: &mut Vec<Section>| {
        if let Some((mut section, body)) = current {
            section.block.sql = body.join("\n").trim_end().to_string();
            sections.push(section);
        }
    };
    for (n, raw) in lines.iter().enumerate().skip(body_start) {
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix(DIRECTIVE) {
            let column = line.len() - line.trim_start().len() + 1;
            let mut words = rest.split_whitespace();
            let upgrade = match words.next() {
                Some("upgrade") => true,
                Some("downgrade") => false,
                other => {
                    return Err(err(
                        n + 1,
                        column,
                        format!(
                            "unknown directive `-- migrate:{}`; {SUPPORTED}",
                            other.unwrap_or("")
                        ),
                        line,
                    ))
                }
            };
            let mut block = SqlBlock {
                sql: String::new(),
                line: n + 2,
                transactional: true,
                dialects: Vec::new(),
            };
            for option in words {
                match option.split_once('=') {
                    Some(("dialect", names)) => {
                        for name in names.split(',').filter(|s| !s.is_empty()) {
                            match dialect_name(name) {
                                Some(d) => block.dialects.push(d.to_string()),
                                None => {
                                    return Err(err(
                                        n + 1,
                                        column,
                                        format!("unknown dialect `{name}`; the dialects are sqlite, postgresql (or postgres) and mysql (or mariadb)"),
                                        line,
                                    ))
                                }
                            }
                        }
                    }
                    Some(("transaction", v)) if v.eq_ignore_ascii_case("false") => {
                        block.transactional = false
                    }
                    Some(("transaction", v)) if v.eq_ignore_ascii_case("true") => {}
                    _ => {
                        return Err(err(
                            n + 1,
                            column,
                            format!("unknown option `{option}`; {SUPPORTED}"),
                            line,
                        ))
                    }
                }
            }
            finish(current.take(), &mut sections);
            current = Some((Section { upgrade, block }, Vec::new()));
            continue;
        }
        match current.as_mut() {
            Some((_, body)) => body.push(line),
            None => {
                if !trimmed.is_empty() && !trimmed.starts_with("--") {
                    let column = line.len() - line.trim_start().len() + 1;
                    return Err(err(
                        n + 1,
                        column,
                        format!("SQL before the first section; start it with `-- migrate:upgrade` ({SUPPORTED})"),
                        line,
                    ));
                }
            }
        }
    }
    finish(current, &mut sections);

    let mut up: Option<Vec<SqlBlock>> = None;
    let mut downgrade: Option<Vec<SqlBlock>> = None;
    for s in sections {
        let target = if s.upgrade { &mut up } else { &mut downgrade };
        // An empty section is kept: for its dialects it means "nothing to run".
        target.get_or_insert_with(Vec::new).push(s.block);
    }
    let checksum = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Revision {
        id,
        down_revisions: down,
        branch_labels: labels,
        depends_on: depends,
        message,
        doc: doc_lines.join("\n"),
        path: path.to_path_buf(),
        format: ScriptFormat::Sql,
        checksum,
        upgrade: up.map(Migration::Sql).unwrap_or(Migration::Missing),
        downgrade: downgrade.map(Migration::Sql).unwrap_or(Migration::Missing),
    })
}
