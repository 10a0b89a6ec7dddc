//! The project's own practices: reruns that work, a downgrade and a documented header for
//! every revision, ids that fit the version table, one head.

use sqlparser::ast::{AlterTableOperation, ObjectType, OnInsert, Statement};

use super::postgres::{constraint_name, ident_text, tx, Tx};
use super::source::Unit;
use super::{LintOptions, Raw, Rule};
use crate::graph::RevisionMap;
use crate::revision::{Migration, Revision};

/// The header fields a revision's docstring or comment header holds besides its purpose.
const FIELDS: &[&str] = &[
    "revision id:",
    "revises:",
    "create date:",
    "branch labels:",
    "depends on:",
];

/// Whether `doc` says anything beyond the message and the header fields.
fn documented(doc: &str) -> bool {
    doc.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .skip(1)
        .any(|l| {
            let lower = l.to_ascii_lowercase();
            !FIELDS.iter().any(|f| lower.starts_with(f))
                && !lower.starts_with("migrate:lint-ignore")
        })
}

/// The rules about a revision as a whole.
pub(crate) fn revision_rules(map: &RevisionMap, rev: &Revision, options: &LintOptions) -> Vec<Raw> {
    let mut out = Vec::new();
    let whole = |rule, message: String, help: &str| Raw {
        rule,
        line: None,
        message,
        help: help.to_string(),
    };
    if rev.downgrade == Migration::Missing {
        out.push(whole(
            Rule::MissingDowngrade,
            "the revision has no downgrade, so nothing can be rolled back through it".into(),
            "add a `-- migrate:downgrade` section (in .py: a downgrade() function); leave it empty when there is nothing to undo",
        ));
    }
    if !documented(&rev.doc) {
        out.push(whole(
            Rule::UndocumentedRevision,
            "the header says nothing beyond the message: no purpose, no impact on existing data".into(),
            "add lines to the header (the .py docstring) saying why the change is made and what it does to existing rows and running clients",
        ));
    }
    if rev.id.len() > options.version_column_length {
        out.push(whole(
            Rule::RevisionIdTooLong,
            format!(
                "the revision id is {} characters long; the version table's version_num column holds {}",
                rev.id.len(),
                options.version_column_length
            ),
            "choose a shorter id (Alembic's are 12 hexadecimal digits)",
        ));
    }
    let heads = map.heads();
    if heads.len() > 1 && heads.iter().any(|h| h.id == rev.id) {
        let ids: Vec<&str> = heads.iter().map(|h| h.id.as_str()).collect();
        out.push(whole(
            Rule::MultipleHeads,
            format!("the history has {} heads: {}", ids.len(), ids.join(", ")),
            "merge them: `migrate merge heads -m \"merge\"`",
        ));
    }
    out
}

/// `prefer-robust-stmts`: where no transaction protects a statement (MySQL DDL, a
/// `transaction=false` section, an `autocommit_block()`), a failure halfway leaves the
/// statements before it applied, and the rerun must get past them: `IF NOT EXISTS`,
/// `IF EXISTS`, and for seed rows `ON CONFLICT DO NOTHING` (`INSERT IGNORE` on MySQL,
/// `INSERT OR IGNORE` on SQLite). squawk's rule, plus the seed rows.
pub(crate) fn statement_rules(unit: &Unit, options: &LintOptions, out: &mut Vec<Raw>) {
    if options.level(Rule::PreferRobustStmts).is_none() {
        return;
    }
    let mut explicit = false;
    // Constraints dropped earlier in the revision: re-adding them is a rerunnable pair.
    let mut dropped: Vec<String> = Vec::new();
    let rerun = "a rerun after a failure halfway fails on this statement";
    for (s, p) in unit.parsed() {
        match tx(p) {
            Tx::Begin => explicit = true,
            Tx::End => explicit = false,
            Tx::None => {}
        }
        let inside = s.in_transaction || explicit;
        let mut report = |what: &str, help: &str| {
            out.push(Raw::at(
                Rule::PreferRobustStmts,
                s.line,
                format!("{what}: {rerun}, since no transaction undoes the statements before it"),
                help,
            ))
        };
        match p {
            Statement::AlterTable(at) => {
                for op in &at.operations {
                    let (what, help) = match op {
                        AlterTableOperation::DropConstraint { if_exists, name, .. } => {
                            dropped.push(ident_text(name));
                            if *if_exists {
                                continue;
                            }
                            ("DROP CONSTRAINT without IF EXISTS", "write DROP CONSTRAINT IF EXISTS")
                        }
                        AlterTableOperation::AddColumn { if_not_exists, .. } => {
                            if *if_not_exists {
                                continue;
                            }
                            ("ADD COLUMN without IF NOT EXISTS", "write ADD COLUMN IF NOT EXISTS")
                        }
                        AlterTableOperation::DropColumn { if_exists, .. } => {
                            if *if_exists {
                                continue;
                            }
                            ("DROP COLUMN without IF EXISTS", "write DROP COLUMN IF EXISTS")
                        }
                        AlterTableOperation::AddConstraint { constraint, .. } => {
                            let name = constraint_name(constraint);
                            if let Some(i) = name.and_then(|n| dropped.iter().position(|d| *d == n)) {
                                dropped.remove(i);
                                continue;
                            }
                            ("ALTER TABLE outside a transaction", "run it in a transactional section, or drop the constraint IF EXISTS first")
                        }
                        AlterTableOperation::ValidateConstraint { name } => {
                            if dropped.contains(&ident_text(name)) {
                                continue;
                            }
                            ("ALTER TABLE outside a transaction", "run it in a transactional section")
                        }
                        _ => ("ALTER TABLE outside a transaction", "run it in a transactional section"),
                    };
                    if !inside {
                        report(what, help);
                    }
                }
            }
            Statement::CreateIndex(ci)
                if !ci.if_not_exists && ci.name.is_some() && (ci.concurrently || !inside) =>
            {
                report("CREATE INDEX without IF NOT EXISTS", "write CREATE INDEX IF NOT EXISTS (a concurrent build that failed leaves an invalid index: drop it IF EXISTS first)")
            }
            Statement::CreateTable(ct) if !ct.if_not_exists && !inside => {
                let temp_dropped_at_commit = ct.temporary
                    && matches!(ct.on_commit, Some(sqlparser::ast::OnCommit::Drop));
                if !temp_dropped_at_commit {
                    report("CREATE TABLE without IF NOT EXISTS", "write CREATE TABLE IF NOT EXISTS")
                }
            }
            Statement::Drop {
                object_type: ObjectType::Index | ObjectType::Table | ObjectType::Type,
                if_exists: false,
                ..
            } if !inside => report("DROP without IF EXISTS", "write DROP ... IF EXISTS"),
            Statement::Insert(ins) if !inside => {
                let handled = ins.ignore
                    || ins.or.is_some()
                    || matches!(ins.on, Some(OnInsert::OnConflict(_) | OnInsert::DuplicateKeyUpdate(_)));
                if !handled {
                    report(
                        "INSERT of seed rows without conflict handling",
                        "write INSERT ... ON CONFLICT DO NOTHING (MySQL: INSERT IGNORE; SQLite: INSERT OR IGNORE)",
                    )
                }
            }
            _ => {}
        }
    }
}
