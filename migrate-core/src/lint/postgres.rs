//! PostgreSQL lock and rewrite safety, with squawk 2.x's rule names and behaviour.
//!
//! Each revision direction is one "file" in squawk's sense. Where squawk has to assume
//! whether a statement runs inside the migration tool's transaction
//! (`--assume-in-transaction`), `migrate` knows: a statement is inside a transaction when its
//! section is transactional (`transaction=false` sections and `autocommit_block()` are not), or
//! when an explicit `BEGIN` in the revision opened one.

use std::collections::{HashMap, HashSet};

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnDef, ColumnOption, CreateTable, DataType,
    Expr, ObjectName, ObjectType, Statement, TableConstraint,
};

use super::parse::is_drop_index_concurrently;
use super::source::{Stmt, Unit};
use super::{LintOptions, Raw, Rule, Section};

/// PostgreSQL truncates names longer than this many bytes (`NAMEDATALEN - 1`).
const MAX_IDENTIFIER: usize = 63;

/// What carries over from one revision to the next in one `migrate upgrade` run.
#[derive(Default)]
pub(crate) struct RunState {
    /// Constraints added `NOT VALID` by earlier revisions, with the revision that added them.
    not_valid: HashMap<String, String>,
    /// The tables and (table, column)s the upgrade of the revision being linted creates: its
    /// downgrade dropping them undoes it, and breaks no client the upgrade did not serve.
    created_by_upgrade: (String, HashSet<String>, HashSet<(String, String)>),
}

/// The last part of a name (`public.t` -> `t`), as PostgreSQL folds it.
pub(crate) fn last(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(|p| p.as_ident())
        .map(ident_text)
        .unwrap_or_default()
}

pub(crate) fn ident_text(ident: &sqlparser::ast::Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_ascii_lowercase()
    }
}

/// Whether a statement is `BEGIN`/`START TRANSACTION`, `COMMIT`/`ROLLBACK`, or neither.
pub(crate) enum Tx {
    Begin,
    End,
    None,
}

pub(crate) fn tx(stmt: &Statement) -> Tx {
    match stmt {
        Statement::StartTransaction { .. } => Tx::Begin,
        Statement::Commit { .. } | Statement::Rollback { .. } => Tx::End,
        _ => Tx::None,
    }
}

/// Each parsed statement of `unit` with whether it runs inside a transaction (the section's,
/// or one the revision opened with `BEGIN`).
fn with_transactions<'u>(unit: &'u Unit) -> Vec<(&'u Stmt, &'u Statement, bool)> {
    let mut explicit = false;
    let mut out = Vec::new();
    for (s, p) in unit.parsed() {
        match tx(p) {
            Tx::Begin => explicit = true,
            Tx::End => explicit = false,
            Tx::None => {}
        }
        out.push((s, p, s.in_transaction || explicit));
    }
    out
}

/// Tables created inside a transaction in `unit`: later DDL on them in the same revision takes
/// no lock anyone else waits on.
fn tables_created_in_transaction(stmts: &[(&Stmt, &Statement, bool)]) -> HashSet<String> {
    stmts
        .iter()
        .filter_map(|(_, p, inside)| match p {
            Statement::CreateTable(ct) if *inside => Some(last(&ct.name)),
            _ => None,
        })
        .collect()
}

fn has_foreign_key(ct: &CreateTable) -> bool {
    ct.constraints
        .iter()
        .any(|c| matches!(c, TableConstraint::ForeignKey(_)))
        || ct.columns.iter().any(|c| {
            c.options
                .iter()
                .any(|o| matches!(o.option, ColumnOption::ForeignKey(_)))
        })
}

/// Statements that may wait on, or hold, a lock others need (squawk's "possibly slow"):
/// DDL other than a plain `CREATE TABLE`, and `COMMENT`, `TRUNCATE`, `LOCK`, `REFRESH`,
/// `REINDEX`, `CLUSTER`, `VACUUM`.
fn possibly_slow(stmt: &Stmt, parsed: &Statement) -> bool {
    if let Statement::CreateTable(ct) = parsed {
        return has_foreign_key(ct) || ct.query.is_some();
    }
    let first = super::parse::words(&stmt.text, 1);
    matches!(
        first.first().map(String::as_str),
        Some(
            "CREATE"
                | "ALTER"
                | "DROP"
                | "COMMENT"
                | "TRUNCATE"
                | "LOCK"
                | "REFRESH"
                | "REINDEX"
                | "CLUSTER"
                | "VACUUM"
        )
    )
}

/// The lock a statement takes, for messages.
fn lock_of(stmt: &Stmt, parsed: &Statement) -> &'static str {
    match parsed {
        Statement::AlterTable(at) => {
            let only = |f: fn(&AlterTableOperation) -> bool| at.operations.iter().all(f);
            if only(|op| matches!(op, AlterTableOperation::ValidateConstraint { .. })) {
                "SHARE UPDATE EXCLUSIVE"
            } else if only(|op| {
                matches!(
                    op,
                    AlterTableOperation::AddConstraint {
                        constraint: TableConstraint::ForeignKey(_),
                        ..
                    }
                )
            }) {
                "SHARE ROW EXCLUSIVE"
            } else {
                "ACCESS EXCLUSIVE"
            }
        }
        Statement::CreateIndex(ci) if ci.concurrently => "SHARE UPDATE EXCLUSIVE",
        Statement::CreateIndex(_) => "SHARE",
        Statement::Drop { .. } if is_drop_index_concurrently(&stmt.text) => {
            "SHARE UPDATE EXCLUSIVE"
        }
        Statement::Drop { .. } | Statement::Truncate(_) => "ACCESS EXCLUSIVE",
        _ => "",
    }
}

/// Run every PostgreSQL rule on `unit`.
pub(crate) fn check(unit: &Unit, options: &LintOptions, run: &mut RunState, out: &mut Vec<Raw>) {
    let stmts = with_transactions(unit);
    let created = tables_created_in_transaction(&stmts);
    let version = options.version();
    timeouts(&stmts, options, out);
    transaction_nesting(&stmts, out);
    not_valid_then_validate(unit, &stmts, options, run, out);
    not_null_with_check(&stmts, version.major >= 12, out);
    let several = unit.stmts.len() > 1;
    if unit.section == Section::Upgrade {
        run.created_by_upgrade = created_objects(unit);
    }
    let undoes = |table: &str, column: Option<&str>| {
        let (rev, tables, columns) = &run.created_by_upgrade;
        unit.section == Section::Downgrade
            && *rev == unit.rev.id
            && match column {
                None => tables.contains(table),
                Some(c) => columns.contains(&(table.to_string(), c.to_string())),
            }
    };
    for (s, p, inside) in &stmts {
        let line = s.line;
        match p {
            Statement::CreateIndex(ci) => {
                if !ci.concurrently && !created.contains(&last(&ci.table_name)) {
                    out.push(Raw::at(
                        Rule::RequireConcurrentIndexCreation,
                        line,
                        "building an index without CONCURRENTLY blocks every write to the table until it is built",
                        "use CREATE INDEX CONCURRENTLY in a `transaction=false` section (or an autocommit_block())",
                    ));
                }
                if ci.concurrently && *inside && (several || s.in_transaction) {
                    out.push(Raw::at(
                        Rule::BanConcurrentIndexCreationInTransaction,
                        line,
                        "CREATE INDEX CONCURRENTLY cannot run inside a transaction, and this one runs inside migrate's",
                        "move it to a section marked `transaction=false` (in .py: `with op.get_context().autocommit_block():`)",
                    ));
                }
                if let Some(name) = &ci.name {
                    too_long(&last(name), line, out);
                }
            }
            Statement::Drop {
                object_type, names, ..
            } => match object_type {
                    ObjectType::Index if !is_drop_index_concurrently(&s.text) => out.push(Raw::at(
                        Rule::RequireConcurrentIndexDeletion,
                        line,
                        "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock: reads and writes of the table wait",
                        "use DROP INDEX CONCURRENTLY in a `transaction=false` section",
                    )),
                    ObjectType::Table if !names.iter().all(|n| undoes(&last(n), None)) => out.push(Raw::at(
                        Rule::BanDropTable,
                        line,
                        "dropping a table breaks the clients still reading or writing it",
                        "stop every use of the table in a release before the one that drops it",
                    )),
                    ObjectType::Database => out.push(Raw::at(
                        Rule::BanDropDatabase,
                        line,
                        "dropping a database loses everything in it",
                        "drop databases by hand, never from a migration",
                    )),
                _ => {}
            },
            Statement::Truncate(t) => {
                if matches!(t.cascade, Some(sqlparser::ast::CascadeOption::Cascade)) {
                    out.push(Raw::at(
                        Rule::BanTruncateCascade,
                        line,
                        "TRUNCATE ... CASCADE also empties every table with a foreign key to this one, and theirs in turn",
                        "drop CASCADE and name each table to empty",
                    ));
                }
            }
            Statement::CreateTable(ct) => {
                too_long(&last(&ct.name), line, out);
                for col in &ct.columns {
                    too_long(&ident_text(&col.name), line, out);
                    column_type(&col.data_type, line, out);
                }
                for c in &ct.constraints {
                    if let Some(name) = constraint_name(c) {
                        too_long(&name, line, out);
                    }
                }
            }
            Statement::AlterTable(at) => {
                let table = last(&at.name);
                for op in &at.operations {
                    if let AlterTableOperation::DropColumn { column_names, .. } = op {
                        let name = |c: &sqlparser::ast::Ident| ident_text(c);
                        if column_names.iter().all(|c| undoes(&table, Some(&name(c)))) {
                            continue;
                        }
                    }
                    alter_operation(op, &table, &created, line, version.major, out);
                }
            }
            _ => {}
        }
    }
}

/// The tables `unit` creates and the columns it adds.
fn created_objects(unit: &Unit) -> (String, HashSet<String>, HashSet<(String, String)>) {
    let mut tables = HashSet::new();
    let mut columns = HashSet::new();
    for (_, p) in unit.parsed() {
        match p {
            Statement::CreateTable(ct) => {
                tables.insert(last(&ct.name));
            }
            Statement::AlterTable(at) => {
                for op in &at.operations {
                    if let AlterTableOperation::AddColumn { column_def, .. } = op {
                        columns.insert((last(&at.name), ident_text(&column_def.name)));
                    }
                }
            }
            _ => {}
        }
    }
    (unit.rev.id.clone(), tables, columns)
}

pub(crate) fn constraint_name(c: &TableConstraint) -> Option<String> {
    let name = match c {
        TableConstraint::Unique(u) => u.name.as_ref(),
        TableConstraint::PrimaryKey(p) => p.name.as_ref(),
        TableConstraint::ForeignKey(f) => f.name.as_ref(),
        TableConstraint::Check(c) => c.name.as_ref(),
        TableConstraint::UniqueUsingIndex(c) | TableConstraint::PrimaryKeyUsingIndex(c) => {
            c.name.as_ref()
        }
        _ => None,
    };
    name.map(ident_text)
}

fn alter_operation(
    op: &AlterTableOperation,
    table: &str,
    created: &HashSet<String>,
    line: usize,
    pg_major: u32,
    out: &mut Vec<Raw>,
) {
    let new_table = created.contains(table);
    match op {
        AlterTableOperation::AddColumn { column_def, .. } => {
            add_column(column_def, line, pg_major, out);
        }
        AlterTableOperation::AddConstraint {
            constraint,
            not_valid,
        } => {
            if let Some(name) = constraint_name(constraint) {
                too_long(&name, line, out);
            }
            let using_index = matches!(
                constraint,
                TableConstraint::UniqueUsingIndex(_) | TableConstraint::PrimaryKeyUsingIndex(_)
            );
            if !new_table && !not_valid && !using_index {
                out.push(Raw::at(
                    Rule::ConstraintMissingNotValid,
                    line,
                    "adding a constraint checks every row while writes to the table wait",
                    "add it NOT VALID, then VALIDATE CONSTRAINT in a later revision (validation lets writes through)",
                ));
            }
            match constraint {
                TableConstraint::ForeignKey(_) if !not_valid && !new_table => out.push(Raw::at(
                    Rule::AddingForeignKeyConstraint,
                    line,
                    "a new foreign key is checked against every row under a SHARE ROW EXCLUSIVE lock on both tables: writes to them wait",
                    "add the foreign key NOT VALID, then VALIDATE CONSTRAINT in a later revision",
                )),
                TableConstraint::Unique(_) if !new_table => out.push(Raw::at(
                    Rule::DisallowedUniqueConstraint,
                    line,
                    "a UNIQUE constraint builds its index under an ACCESS EXCLUSIVE lock: reads and writes wait",
                    "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... UNIQUE USING INDEX",
                )),
                TableConstraint::PrimaryKey(_) => out.push(Raw::at(
                    Rule::AddingSerialPrimaryKeyField,
                    line,
                    "a new primary key builds its index under an ACCESS EXCLUSIVE lock: reads and writes wait",
                    "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... PRIMARY KEY USING INDEX",
                )),
                _ => {}
            }
        }
        AlterTableOperation::AlterColumn { op, .. } => match op {
            AlterColumnOperation::SetDataType { data_type, .. } => {
                out.push(Raw::at(
                    Rule::ChangingColumnType,
                    line,
                    "changing a column's type rewrites the table under an ACCESS EXCLUSIVE lock, and may break its readers",
                    "add a new column, backfill it, and switch readers over in later releases",
                ));
                column_type(data_type, line, out);
            }
            AlterColumnOperation::DropNotNull => out.push(Raw::at(
                Rule::BanDropNotNull,
                line,
                "dropping NOT NULL breaks the readers that count on the column having a value",
                "make sure no reader relies on the column being set before dropping NOT NULL",
            )),
            _ => {}
        },
        AlterTableOperation::RenameColumn {
            new_column_name, ..
        } => {
            too_long(&ident_text(new_column_name), line, out);
            out.push(Raw::at(
                Rule::RenamingColumn,
                line,
                "renaming a column breaks the clients still using the old name",
                "add the new column, copy the data, and drop the old one once nothing uses it",
            ));
        }
        AlterTableOperation::RenameTable { .. } => out.push(Raw::at(
            Rule::RenamingTable,
            line,
            "renaming a table breaks the clients still using the old name",
            "create the new table (or a view under the old name) and move clients over first",
        )),
        AlterTableOperation::DropColumn { .. } => out.push(Raw::at(
            Rule::BanDropColumn,
            line,
            "dropping a column breaks the clients still reading or writing it",
            "stop every use of the column in a release before the one that drops it",
        )),
        _ => {}
    }
}

/// The rules about a column added by `ALTER TABLE ... ADD COLUMN`.
fn add_column(col: &ColumnDef, line: usize, pg_major: u32, out: &mut Vec<Raw>) {
    too_long(&ident_text(&col.name), line, out);
    column_type(&col.data_type, line, out);
    let options = || col.options.iter().map(|o| &o.option);
    let generated = options().any(|o| matches!(o, ColumnOption::Generated { .. }));
    let not_null = options().any(|o| matches!(o, ColumnOption::NotNull));
    let default = options().find_map(|o| match o {
        ColumnOption::Default(e) => Some(e),
        _ => None,
    });
    if not_null && default.is_none() && !generated {
        out.push(Raw::at(
            Rule::AddingRequiredField,
            line,
            "a new NOT NULL column without a default makes every insert that does not name it fail",
            "add the column nullable (or with a non-volatile DEFAULT) and set NOT NULL later",
        ));
    }
    let rewrite = "adding this column rewrites the table under an ACCESS EXCLUSIVE lock (PostgreSQL 11+ only skips the rewrite for non-volatile defaults)";
    let rewrite_help =
        "add the column nullable without the default, backfill it in batches, then set the default";
    if let Some(expr) = default {
        if pg_major < 11 || !non_volatile(expr) {
            out.push(Raw::at(
                Rule::AddingFieldWithDefault,
                line,
                rewrite,
                rewrite_help,
            ));
        }
    }
    for o in options() {
        match o {
            ColumnOption::Generated { .. } => {
                out.push(Raw::at(Rule::AddingFieldWithDefault, line, rewrite, rewrite_help))
            }
            ColumnOption::ForeignKey(_) => out.push(Raw::at(
                Rule::AddingForeignKeyConstraint,
                line,
                "a column added with REFERENCES is checked under a SHARE ROW EXCLUSIVE lock on both tables",
                "add the column first, then the foreign key NOT VALID, then VALIDATE CONSTRAINT in a later revision",
            )),
            ColumnOption::Unique(_) => out.push(Raw::at(
                Rule::DisallowedUniqueConstraint,
                line,
                "a column added UNIQUE builds its index under an ACCESS EXCLUSIVE lock: reads and writes wait",
                "add the column, CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX",
            )),
            ColumnOption::PrimaryKey(_) => out.push(Raw::at(
                Rule::AddingSerialPrimaryKeyField,
                line,
                "a column added as PRIMARY KEY builds its index under an ACCESS EXCLUSIVE lock: reads and writes wait",
                "add the column, CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... PRIMARY KEY USING INDEX",
            )),
            _ => {}
        }
    }
}

/// Functions without arguments that PostgreSQL does not mark volatile: a default calling one is
/// computed once, so PostgreSQL 11+ adds the column without a rewrite.
const NON_VOLATILE_CALLS: &[&str] = &[
    "current_catalog",
    "current_database",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "localtime",
    "localtimestamp",
    "now",
    "pi",
    "session_user",
    "statement_timestamp",
    "transaction_timestamp",
    "user",
    "version",
];

/// Whether a default expression is a constant or calls only non-volatile functions.
fn non_volatile(expr: &Expr) -> bool {
    match expr {
        Expr::Value(_) | Expr::Array(_) | Expr::TypedString { .. } => true,
        Expr::BinaryOp { left, right, .. } => non_volatile(left) && non_volatile(right),
        Expr::Cast { expr, .. } | Expr::Collate { expr, .. } | Expr::Nested(expr) => {
            non_volatile(expr)
        }
        Expr::Function(f) => {
            let no_args = match &f.args {
                sqlparser::ast::FunctionArguments::None => true,
                sqlparser::ast::FunctionArguments::List(l) => l.args.is_empty(),
                sqlparser::ast::FunctionArguments::Subquery(_) => false,
            };
            no_args && NON_VOLATILE_CALLS.contains(&last(&f.name).as_str())
        }
        Expr::Identifier(i) => NON_VOLATILE_CALLS.contains(&ident_text(i).as_str()),
        _ => false,
    }
}

/// Type rules on one column type.
fn column_type(ty: &DataType, line: usize, out: &mut Vec<Raw>) {
    let ty = match ty {
        DataType::Array(sqlparser::ast::ArrayElemTypeDef::SquareBracket(inner, _))
        | DataType::Array(sqlparser::ast::ArrayElemTypeDef::AngleBracket(inner)) => inner.as_ref(),
        other => other,
    };
    let custom = match ty {
        DataType::Custom(name, _) => last(name),
        _ => String::new(),
    };
    let int = matches!(
        ty,
        DataType::Int(_) | DataType::Integer(_) | DataType::Int4(_)
    ) || matches!(custom.as_str(), "serial" | "serial4");
    let small = matches!(ty, DataType::SmallInt(_) | DataType::Int2(_))
        || matches!(custom.as_str(), "smallserial" | "serial2");
    if int {
        out.push(Raw::at(
            Rule::PreferBigintOverInt,
            line,
            "a 32-bit integer column runs out at 2,147,483,647, and widening it later rewrites the table",
            "use bigint (or bigserial / a bigint identity column)",
        ));
    }
    if small {
        out.push(Raw::at(
            Rule::PreferBigintOverSmallint,
            line,
            "a 16-bit integer column runs out at 32,767, and widening it later rewrites the table",
            "use bigint",
        ));
    }
    if matches!(
        custom.as_str(),
        "serial" | "serial2" | "serial4" | "serial8" | "smallserial" | "bigserial"
    ) {
        out.push(Raw::at(
            Rule::PreferIdentity,
            line,
            "serial columns own a separate sequence with its own permissions and dump quirks",
            "use `bigint GENERATED BY DEFAULT AS IDENTITY`",
        ));
    }
    match ty {
        DataType::Varchar(Some(_)) | DataType::CharacterVarying(Some(_)) => out.push(Raw::at(
            Rule::PreferTextField,
            line,
            "changing the length of a varchar(n) column later takes an ACCESS EXCLUSIVE lock",
            "use text with a CHECK (length(...) <= n) constraint, which can be changed without a rewrite",
        )),
        DataType::Char(_) | DataType::Character(_) => char_field(line, out),
        DataType::Custom(..) if custom == "bpchar" => char_field(line, out),
        DataType::Timestamp(_, tz)
            if !matches!(
                tz,
                sqlparser::ast::TimezoneInfo::Tz | sqlparser::ast::TimezoneInfo::WithTimeZone
            ) =>
        {
            out.push(Raw::at(
                Rule::PreferTimestampTz,
                line,
                "timestamp without time zone drops the UTC offset: two instants hours apart can be stored as the same value",
                "use timestamptz",
            ))
        }
        _ => {}
    }
}

fn char_field(line: usize, out: &mut Vec<Raw>) {
    out.push(Raw::at(
        Rule::BanCharField,
        line,
        "char(n) pads values with spaces and compares them in surprising ways",
        "use text (or varchar)",
    ));
}

fn too_long(name: &str, line: usize, out: &mut Vec<Raw>) {
    if name.len() > MAX_IDENTIFIER {
        out.push(Raw::at(
            Rule::IdentifierTooLong,
            line,
            format!(
                "`{name}` is {} bytes long; PostgreSQL keeps only the first {MAX_IDENTIFIER}, so the object gets another name than the one written",
                name.len()
            ),
            format!("choose a name of at most {MAX_IDENTIFIER} bytes"),
        ));
    }
}

/// `require-lock-timeout` and `require-statement-timeout`: once per revision direction, at the
/// first statement that may wait on a lock when no `SET lock_timeout` / `SET statement_timeout`
/// came before it.
fn timeouts(stmts: &[(&Stmt, &Statement, bool)], options: &LintOptions, out: &mut Vec<Raw>) {
    let mut lock = options.sets_lock_timeout;
    let mut statement = options.sets_statement_timeout;
    for (s, p, _) in stmts {
        if lock && statement {
            return;
        }
        if let Statement::Set(sqlparser::ast::Set::SingleAssignment { variable, .. }) = p {
            if variable.0.len() == 1 {
                match last(variable).as_str() {
                    "lock_timeout" => lock = true,
                    "statement_timeout" => statement = true,
                    _ => {}
                }
            }
            continue;
        }
        if !possibly_slow(s, p) {
            continue;
        }
        let kind = lock_of(s, p);
        let kind = if kind.is_empty() {
            String::new()
        } else {
            format!(" (it takes a {kind} lock)")
        };
        if !lock {
            out.push(Raw::at(
                Rule::RequireLockTimeout,
                s.line,
                format!("no `SET lock_timeout` before this statement{kind}: while it waits for its lock, every query behind it waits too"),
                "start the revision with `SET lock_timeout = '2s';` and retry the migration when it times out",
            ));
            lock = true;
        }
        if !statement {
            out.push(Raw::at(
                Rule::RequireStatementTimeout,
                s.line,
                "no `SET statement_timeout` before this statement: nothing bounds how long it holds its locks",
                "start the revision with `SET statement_timeout = '5s';` (longer for known slow steps)",
            ));
            statement = true;
        }
    }
}

/// `transaction-nesting`: `BEGIN` inside a transaction (migrate's or the revision's own),
/// `COMMIT`/`ROLLBACK` with none open, or ending migrate's.
fn transaction_nesting(stmts: &[(&Stmt, &Statement, bool)], out: &mut Vec<Raw>) {
    let mut explicit = false;
    for (s, p, _) in stmts {
        let mut nesting = |message: &str, help: &str| {
            out.push(Raw::at(Rule::TransactionNesting, s.line, message, help));
        };
        match tx(p) {
            Tx::Begin => {
                if s.in_transaction {
                    nesting(
                        "BEGIN inside the transaction migrate runs this revision in",
                        "remove the BEGIN/COMMIT: migrate already runs the section in a transaction (or mark the section `transaction=false`)",
                    );
                } else if explicit {
                    nesting(
                        "BEGIN while the revision's own transaction is still open",
                        "COMMIT the first transaction before starting another",
                    );
                }
                explicit = true;
            }
            Tx::End => {
                if s.in_transaction {
                    nesting(
                        "this ends the transaction migrate runs the revision in: what follows, and the version table update, are no longer atomic with it",
                        "remove it, or put the statements that need their own transactions in a `transaction=false` section",
                    );
                } else if !explicit {
                    nesting(
                        "COMMIT or ROLLBACK with no transaction open",
                        "BEGIN a transaction before it, or remove it",
                    );
                }
                explicit = false;
            }
            Tx::None => {}
        }
    }
}

/// `constraint-missing-not-valid` for a `VALIDATE CONSTRAINT` in the transaction that added the
/// constraint `NOT VALID`: in one revision, or (when the whole run is one transaction) in an
/// earlier revision of the same upgrade.
fn not_valid_then_validate(
    unit: &Unit,
    stmts: &[(&Stmt, &Statement, bool)],
    options: &LintOptions,
    run: &mut RunState,
    out: &mut Vec<Raw>,
) {
    let mut here: HashSet<String> = HashSet::new();
    let mut explicit = false;
    for (s, p, inside) in stmts {
        match tx(p) {
            Tx::Begin => {
                if !explicit && !s.in_transaction {
                    here.clear();
                }
                explicit = true;
                continue;
            }
            Tx::End => {
                explicit = false;
                continue;
            }
            Tx::None => {}
        }
        let Statement::AlterTable(at) = p else {
            continue;
        };
        for op in &at.operations {
            match op {
                AlterTableOperation::AddConstraint {
                    constraint,
                    not_valid: true,
                } => {
                    if let Some(name) = constraint_name(constraint) {
                        here.insert(name);
                    }
                }
                AlterTableOperation::ValidateConstraint { name } if *inside => {
                    let name = ident_text(name);
                    if here.contains(&name) {
                        out.push(Raw::at(
                            Rule::ConstraintMissingNotValid,
                            s.line,
                            "VALIDATE CONSTRAINT in the transaction that added it NOT VALID: the ACCESS EXCLUSIVE lock of the ADD is held while every row is checked",
                            "validate in a later revision, with transaction_per_migration = true",
                        ));
                    } else if let Some(added_by) = run.not_valid.get(&name) {
                        if s.in_transaction && !options.transaction_per_migration {
                            out.push(Raw::at(
                                Rule::ConstraintMissingNotValid,
                                s.line,
                                format!("revision {added_by} adds this constraint NOT VALID, and one `migrate upgrade` runs both revisions in one transaction: the lock of the ADD is held while every row is checked"),
                                "set transaction_per_migration = true, or upgrade to the first revision before the second",
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    if unit.section == Section::Upgrade {
        for name in here {
            run.not_valid.insert(name, unit.rev.id.clone());
        }
    }
}

/// `adding-not-nullable-field`: `SET NOT NULL` scans the table under an ACCESS EXCLUSIVE lock,
/// unless (PostgreSQL 12+) a validated `CHECK (col IS NOT NULL)` already proves it.
fn not_null_with_check(stmts: &[(&Stmt, &Statement, bool)], pg12: bool, out: &mut Vec<Raw>) {
    // Constraint name -> (table, column) of `CHECK (column IS NOT NULL) NOT VALID`.
    let mut checks: HashMap<String, (String, String)> = HashMap::new();
    let mut proven: HashSet<(String, String)> = HashSet::new();
    let mut tables_validated_elsewhere: HashSet<String> = HashSet::new();
    for (s, p, _) in stmts {
        let Statement::AlterTable(at) = p else {
            continue;
        };
        let table = last(&at.name);
        for op in &at.operations {
            match op {
                AlterTableOperation::AddConstraint {
                    constraint: TableConstraint::Check(c),
                    not_valid: true,
                } if pg12 => {
                    if let (Some(name), Expr::IsNotNull(inner)) = (&c.name, c.expr.as_ref()) {
                        if let Expr::Identifier(col) = inner.as_ref() {
                            checks.insert(ident_text(name), (table.clone(), ident_text(col)));
                        }
                    }
                }
                AlterTableOperation::ValidateConstraint { name } if pg12 => {
                    match checks.get(&ident_text(name)) {
                        Some((t, c)) if *t == table => {
                            proven.insert((t.clone(), c.clone()));
                        }
                        _ => {
                            tables_validated_elsewhere.insert(table.clone());
                        }
                    }
                }
                AlterTableOperation::AlterColumn {
                    column_name,
                    op: AlterColumnOperation::SetNotNull,
                } => {
                    let key = (table.clone(), ident_text(column_name));
                    if pg12
                        && (proven.contains(&key) || tables_validated_elsewhere.contains(&table))
                    {
                        continue;
                    }
                    out.push(Raw::at(
                        Rule::AddingNotNullableField,
                        s.line,
                        "SET NOT NULL checks every row under an ACCESS EXCLUSIVE lock: reads and writes wait",
                        "add CHECK (column IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL (PostgreSQL 12+ then skips the scan)",
                    ));
                }
                _ => {}
            }
        }
    }
}
