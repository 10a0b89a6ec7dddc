//! MySQL and MariaDB: DDL commits implicitly, and some `ALTER TABLE` forms copy the table.

use sqlparser::ast::{AlterTableAlgorithm, AlterTableOperation, ColumnOption, Statement};

use super::parse::words;
use super::source::Unit;
use super::{LintOptions, Raw, Rule, ServerVersion};

/// Whether the statement changes the schema (and so commits implicitly).
fn is_ddl(text: &str) -> bool {
    matches!(
        words(text, 1).first().map(String::as_str),
        Some("CREATE" | "ALTER" | "DROP" | "RENAME" | "TRUNCATE")
    )
}

/// Whether the statement changes rows.
fn is_dml(p: &Statement) -> bool {
    matches!(
        p,
        Statement::Insert(_) | Statement::Update { .. } | Statement::Delete(_)
    )
}

/// What `op` costs on `v` when no `ALGORITHM` is given: `None` when MySQL does it in place
/// without a copy (or instantly), else a description of the copy or rebuild.
fn copies(op: &AlterTableOperation, v: ServerVersion) -> Option<&'static str> {
    let instant_anywhere = if v.mariadb {
        v.at_least(10, 4, 0)
    } else {
        v.at_least(8, 0, 29)
    };
    let instant_last = if v.mariadb {
        v.at_least(10, 3, 2)
    } else {
        v.at_least(8, 0, 12)
    };
    match op {
        AlterTableOperation::AddColumn {
            column_def,
            column_position,
            ..
        } => {
            let stored = column_def.options.iter().any(|o| {
                matches!(
                    &o.option,
                    ColumnOption::Generated {
                        generation_expr_mode: Some(sqlparser::ast::GeneratedExpressionMode::Stored),
                        ..
                    }
                )
            });
            if stored {
                Some("adding a STORED generated column copies the table")
            } else if instant_anywhere || (instant_last && column_position.is_none()) {
                None
            } else {
                Some("adding a column rebuilds the table on this server version (INSTANT needs MySQL 8.0.29 / MariaDB 10.4, or 8.0.12 / 10.3 for a last column)")
            }
        }
        AlterTableOperation::DropColumn { .. } if !instant_anywhere => {
            Some("dropping a column rebuilds the table on this server version (INSTANT needs MySQL 8.0.29 / MariaDB 10.4)")
        }
        AlterTableOperation::ModifyColumn { .. } | AlterTableOperation::ChangeColumn { .. } => {
            Some("changing a column's definition copies the table when its type changes")
        }
        AlterTableOperation::DropPrimaryKey { .. } => {
            Some("dropping the primary key copies the table")
        }
        _ => None,
    }
}

/// Run the MySQL rules on `unit`.
pub(crate) fn check(unit: &Unit, options: &LintOptions, out: &mut Vec<Raw>) {
    let version = options.version();
    let mut lock_wait_set = false;
    let mut lock_wait_reported = false;
    let mut first_ddl = None;
    let mut first_dml = None;
    for (s, p) in unit.parsed() {
        if let Statement::Set(sqlparser::ast::Set::SingleAssignment { variable, .. }) = p {
            if super::postgres::last(variable) == "lock_wait_timeout" {
                lock_wait_set = true;
            }
            continue;
        }
        if is_ddl(&s.text) {
            first_ddl.get_or_insert(s.line);
            let locks = matches!(
                p,
                Statement::AlterTable(_) | Statement::CreateIndex(_) | Statement::Drop { .. }
            ) || matches!(
                words(&s.text, 1).first().map(String::as_str),
                Some("RENAME" | "TRUNCATE")
            );
            if locks && !lock_wait_set && !lock_wait_reported {
                lock_wait_reported = true;
                out.push(Raw::at(
                    Rule::MysqlLockWaitTimeout,
                    s.line,
                    "no `SET SESSION lock_wait_timeout` before this DDL: while it waits for the table's metadata lock (default: a year), every query on the table queues behind it",
                    "start the revision with `SET SESSION lock_wait_timeout = 5;` and retry the migration when it times out",
                ));
            }
        } else if is_dml(p) {
            first_dml.get_or_insert(s.line);
        }
        if let Statement::AlterTable(at) = p {
            let algorithm = at.operations.iter().find_map(|op| match op {
                AlterTableOperation::Algorithm { algorithm, .. } => Some(*algorithm),
                _ => None,
            });
            match algorithm {
                Some(AlterTableAlgorithm::Instant | AlterTableAlgorithm::Inplace) => {}
                Some(AlterTableAlgorithm::Copy) => out.push(Raw::at(
                    Rule::MysqlTableCopy,
                    s.line,
                    "ALGORITHM=COPY copies the whole table while writes to it wait",
                    "use ALGORITHM=INPLACE or INSTANT where the change allows it, or an online schema change tool",
                )),
                _ => {
                    if let Some(why) = at.operations.iter().find_map(|op| copies(op, version)) {
                        out.push(Raw::at(
                            Rule::MysqlTableCopy,
                            s.line,
                            format!("{why} on {version}; writes to the table wait meanwhile"),
                            "state ALGORITHM=INPLACE, LOCK=NONE (or ALGORITHM=INSTANT) so the server refuses rather than copies, or use an online schema change tool (gh-ost, pt-online-schema-change)",
                        ));
                    }
                }
            }
        }
    }
    if let (Some(_), Some(dml)) = (first_ddl, first_dml) {
        out.push(Raw::at(
            Rule::MysqlMixedDdlDml,
            dml,
            "this revision changes the schema and the data: MySQL commits each DDL statement at once, so a failure leaves part of the revision applied",
            "put the data change in a revision of its own, or make every statement rerunnable",
        ));
    }
}
