//! SQLite: the few `ALTER TABLE` forms it has, and which need a newer SQLite.

use sqlparser::ast::{AlterTableOperation, ColumnOption, Expr, Statement, Value};

use super::source::Unit;
use super::{LintOptions, Raw, Rule};

const REBUILD: &str = "rebuild the table: CREATE TABLE new_t (...), INSERT INTO new_t SELECT ... FROM t, DROP TABLE t, ALTER TABLE new_t RENAME TO t (in one transaction, with foreign keys off)";

/// Run the SQLite rules on `unit`.
pub(crate) fn check(unit: &Unit, options: &LintOptions, out: &mut Vec<Raw>) {
    let v = options.version();
    for (s, p) in unit.parsed() {
        let Statement::AlterTable(at) = p else {
            continue;
        };
        let mut refuse = |message: String| {
            out.push(Raw::at(Rule::SqliteAlterTable, s.line, message, REBUILD));
        };
        if at.operations.len() > 1 {
            refuse(
                "SQLite's ALTER TABLE makes one change at a time; this one makes several".into(),
            );
            continue;
        }
        let Some(op) = at.operations.first() else {
            continue;
        };
        match op {
            AlterTableOperation::RenameTable { .. } => {}
            AlterTableOperation::RenameColumn { .. } if !v.at_least(3, 25, 0) => {
                refuse(format!("RENAME COLUMN needs SQLite 3.25.0; the target is {v}"))
            }
            AlterTableOperation::RenameColumn { .. } => {}
            AlterTableOperation::DropColumn { .. } if !v.at_least(3, 35, 0) => {
                refuse(format!("DROP COLUMN needs SQLite 3.35.0; the target is {v}"))
            }
            AlterTableOperation::DropColumn { .. } => {}
            AlterTableOperation::AddColumn { column_def, .. } => {
                let options: Vec<&ColumnOption> =
                    column_def.options.iter().map(|o| &o.option).collect();
                let default = options.iter().find_map(|o| match o {
                    ColumnOption::Default(e) => Some(e),
                    _ => None,
                });
                if options
                    .iter()
                    .any(|o| matches!(o, ColumnOption::PrimaryKey(_) | ColumnOption::Unique(_)))
                {
                    refuse("SQLite cannot add a PRIMARY KEY or UNIQUE column".into());
                } else if options.iter().any(|o| matches!(o, ColumnOption::NotNull))
                    && default.is_none_or(|e| matches!(e, Expr::Value(v) if v.value == Value::Null))
                {
                    refuse("SQLite cannot add a NOT NULL column without a non-NULL default".into());
                } else if default.is_some_and(|e| !matches!(e, Expr::Value(_) | Expr::UnaryOp { .. })) {
                    refuse("SQLite only adds a column whose default is a constant (not CURRENT_TIMESTAMP or an expression)".into());
                } else if options.iter().any(|o| {
                    matches!(
                        o,
                        ColumnOption::Generated {
                            generation_expr_mode: Some(sqlparser::ast::GeneratedExpressionMode::Stored),
                            ..
                        }
                    )
                }) {
                    refuse("SQLite cannot add a STORED generated column (VIRTUAL works)".into());
                }
            }
            _ => refuse(format!(
                "SQLite's ALTER TABLE cannot do this (`{}`): it only renames tables and columns, adds columns and drops columns",
                s.text.lines().next().unwrap_or("").trim()
            )),
        }
    }
}
