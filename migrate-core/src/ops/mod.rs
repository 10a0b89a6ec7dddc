//! Alembic operations (`op.create_table(...)`, `op.add_column(...)`, ...) as data.
//!
//! The Python reader turns each supported `op.*` call of a revision into an [`Operation`]: the
//! arguments as Alembic receives them, SQLAlchemy's dialect keyword arguments
//! (`postgresql_where=`, `mysql_length=`) kept as [`DialectOption`]s. No SQL is written here.
//! A backend's [`Dialect::render_operation`] turns an
//! operation into the statements Alembic's offline mode prints for that database, through the
//! shared [`compile`] rules that each backend overrides where its SQLAlchemy dialect does.
//!
//! An operation travels in a revision's blocks like SQL text does ([`SqlBlock::operation`]);
//! [`statements`] is the one place a block becomes statements for a dialect.

pub mod compile;
mod types;

pub use types::{SqlType, TypeClass, TypeDetails, TypeModule, Visit};

use crate::dialect::Dialect;
use crate::revision::{Revision, SqlBlock};
use crate::split::{split, Statement};

/// One Alembic operation, with the arguments that decide its DDL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operation {
    /// `op.create_table(name, *columns_and_constraints, **kw)`.
    CreateTable(CreateTable),
    /// `op.drop_table(name)`.
    DropTable(DropTable),
    /// `op.add_column(table, column)`.
    AddColumn(Box<AddColumn>),
    /// `op.drop_column(table, column)`.
    DropColumn(DropColumn),
    /// `op.create_index(name, table, columns)`.
    CreateIndex(CreateIndex),
    /// `op.drop_index(name, table_name=)`.
    DropIndex(DropIndex),
    /// `op.alter_column(table, column, ...)`.
    AlterColumn(Box<AlterColumn>),
    /// `op.create_foreign_key(name, source, referent, local_cols, remote_cols)`.
    CreateForeignKey(CreateForeignKey),
    /// `op.create_unique_constraint(name, table, columns)`.
    CreateUniqueConstraint(CreateUniqueConstraint),
    /// `op.drop_constraint(name, table, type_=)`.
    DropConstraint(DropConstraint),
    /// `op.rename_table(old, new, schema=)`.
    RenameTable(RenameTable),
    /// `op.create_check_constraint(name, table, condition)`.
    CreateCheckConstraint(CreateCheckConstraint),
    /// `with op.batch_alter_table(table) as batch_op:` and the `batch_op.*` calls in it.
    Batch(Batch),
}

impl Operation {
    /// The `op.` function the operation was written as (`create_table`), for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::CreateTable(_) => "create_table",
            Operation::DropTable(_) => "drop_table",
            Operation::AddColumn(_) => "add_column",
            Operation::DropColumn(_) => "drop_column",
            Operation::CreateIndex(_) => "create_index",
            Operation::DropIndex(_) => "drop_index",
            Operation::AlterColumn(_) => "alter_column",
            Operation::CreateForeignKey(_) => "create_foreign_key",
            Operation::CreateUniqueConstraint(_) => "create_unique_constraint",
            Operation::DropConstraint(_) => "drop_constraint",
            Operation::RenameTable(_) => "rename_table",
            Operation::CreateCheckConstraint(_) => "create_check_constraint",
            Operation::Batch(_) => "batch_alter_table",
        }
    }
}

/// A table name and its schema (`schema=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRef {
    /// The table.
    pub name: String,
    /// The schema, when given.
    pub schema: Option<String>,
}

/// A value of a dialect keyword argument (or another argument kept as data).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Arg {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// `True` / `False`.
    Bool(bool),
    /// `None`.
    None,
    /// `sa.text("...")`.
    Text(String),
    /// A list or tuple.
    List(Vec<Arg>),
    /// A dict.
    Dict(Vec<(Arg, Arg)>),
}

/// A SQLAlchemy dialect keyword argument: `postgresql_where=sa.text("x")` is dialect
/// `postgresql`, name `where`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialectOption {
    /// The dialect the argument is for (`postgresql`, `mysql`, `sqlite`, `mssql`, ...).
    pub dialect: String,
    /// The argument without its dialect prefix.
    pub name: String,
    /// Its value.
    pub value: Arg,
}

/// The dialect options of one object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DialectOptions(pub Vec<DialectOption>);

impl DialectOptions {
    /// The value of `<dialect>_<name>`, if given.
    pub fn get(&self, dialect: &str, name: &str) -> Option<&Arg> {
        self.0
            .iter()
            .rev()
            .find(|o| o.dialect == dialect && o.name == name)
            .map(|o| &o.value)
    }
}

/// A server-side default (`server_default=`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerDefault {
    /// A string, rendered as a string literal.
    Literal(String),
    /// `sa.text("...")`: SQL rendered as written.
    Text(String),
    /// `sa.func.NAME()` without arguments.
    Function(String),
    /// `sa.true()` / `sa.false()`.
    Bool(bool),
}

/// `Column(autoincrement=)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Autoincrement {
    /// `"auto"` (the default): the single integer primary key column without a default.
    Auto,
    /// `True`.
    Yes,
    /// `False`.
    No,
    /// `"ignore_fk"`.
    IgnoreFk,
}

/// `sa.ForeignKey("table.column", ...)` on a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// The referenced column as written: `"table.column"` or `"schema.table.column"`.
    pub target: String,
    /// The constraint's rules and name.
    pub rules: ForeignKeyRules,
}

/// What a foreign key constraint declares besides its columns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForeignKeyRules {
    /// `name=`.
    pub name: Option<String>,
    /// `ondelete=`.
    pub ondelete: Option<String>,
    /// `onupdate=`.
    pub onupdate: Option<String>,
    /// `deferrable=`.
    pub deferrable: Option<bool>,
    /// `initially=`.
    pub initially: Option<String>,
    /// `match=`.
    pub match_: Option<String>,
    /// `use_alter=True`.
    pub use_alter: bool,
    /// `postgresql_not_valid=`, ...
    pub options: DialectOptions,
}

/// `sa.Column(name, type, *constraints, **kw)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column name.
    pub name: String,
    /// The type; `None` when the column declares none (SQLAlchemy's `NullType`).
    pub type_: Option<SqlType>,
    /// `nullable=`; `None` for the default (nullable unless part of the primary key).
    pub nullable: Option<bool>,
    /// `primary_key=True`.
    pub primary_key: bool,
    /// `server_default=`.
    pub server_default: Option<ServerDefault>,
    /// `default=` was given (a Python-side default: no DDL, but it rules out autoincrement).
    pub has_default: bool,
    /// `autoincrement=`.
    pub autoincrement: Autoincrement,
    /// `unique=`.
    pub unique: Option<bool>,
    /// `index=`.
    pub index: Option<bool>,
    /// `comment=`.
    pub comment: Option<String>,
    /// `sa.ForeignKey(...)` arguments, in order.
    pub foreign_keys: Vec<ForeignKey>,
    /// `sqlite_on_conflict_not_null=`, ...
    pub options: DialectOptions,
}

impl Column {
    /// Whether the column accepts NULL, as SQLAlchemy decides it.
    pub fn is_nullable(&self) -> bool {
        self.nullable.unwrap_or(!self.primary_key)
    }
}

/// A constraint over columns of one table: `sa.PrimaryKeyConstraint(*columns, name=)`,
/// `sa.UniqueConstraint(*columns, name=)`, `op.create_unique_constraint`'s constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyConstraint {
    /// `name=`.
    pub name: Option<String>,
    /// The columns.
    pub columns: Vec<String>,
    /// `deferrable=`.
    pub deferrable: Option<bool>,
    /// `initially=`.
    pub initially: Option<String>,
    /// `postgresql_include=`, `postgresql_nulls_not_distinct=`, `mysql_using=`, ...
    pub options: DialectOptions,
}

/// A primary key constraint.
pub type PrimaryKeyConstraint = KeyConstraint;

/// A unique constraint.
pub type UniqueConstraint = KeyConstraint;

/// `sa.ForeignKeyConstraint(columns, refcolumns)` or `op.create_foreign_key`'s constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKeyConstraint {
    /// The local columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub referent: TableRef,
    /// The referenced columns.
    pub referent_columns: Vec<String>,
    /// Name and rules.
    pub rules: ForeignKeyRules,
}

/// One argument of `op.create_table` after the name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TableElement {
    /// A column.
    Column(Column),
    /// A primary key constraint.
    PrimaryKey(PrimaryKeyConstraint),
    /// A unique constraint.
    Unique(UniqueConstraint),
    /// A foreign key constraint.
    ForeignKey(ForeignKeyConstraint),
    /// A check constraint.
    Check(CheckConstraint),
}

/// `op.create_table`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateTable {
    /// The table.
    pub table: TableRef,
    /// Columns and constraints, in the order written.
    pub elements: Vec<TableElement>,
    /// `comment=`.
    pub comment: Option<String>,
    /// `if_not_exists=`.
    pub if_not_exists: bool,
    /// `mysql_engine=`, `sqlite_autoincrement=`, `postgresql_partition_by=`, ...
    pub options: DialectOptions,
}

/// `op.drop_table`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropTable {
    /// The table.
    pub table: TableRef,
    /// `if_exists=`.
    pub if_exists: bool,
}

/// `op.add_column`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddColumn {
    /// The table.
    pub table: TableRef,
    /// The new column.
    pub column: Column,
    /// `if_not_exists=`.
    pub if_not_exists: bool,
}

/// `op.drop_column`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropColumn {
    /// The table.
    pub table: TableRef,
    /// The column.
    pub column: String,
    /// `if_exists=`.
    pub if_exists: bool,
}

/// One expression of an index.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexExpr {
    /// A column name.
    Column(String),
    /// `sa.text("...")`: SQL rendered as written.
    Text(String),
}

/// `op.create_index`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateIndex {
    /// The index name (`op.f(...)` included).
    pub name: String,
    /// The table.
    pub table: TableRef,
    /// The indexed expressions.
    pub expressions: Vec<IndexExpr>,
    /// `unique=`.
    pub unique: bool,
    /// `if_not_exists=`.
    pub if_not_exists: bool,
    /// `postgresql_where=`, `postgresql_using=`, `mysql_length=`, ...
    pub options: DialectOptions,
}

/// `op.drop_index`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropIndex {
    /// The index name.
    pub name: String,
    /// `table_name=` (and `schema=`), when given.
    pub table: Option<TableRef>,
    /// The schema when no table is given.
    pub schema: Option<String>,
    /// `if_exists=`.
    pub if_exists: bool,
    /// `postgresql_concurrently=`, ...
    pub options: DialectOptions,
}

/// `op.alter_column`. `None` in a `modify` field means "not changed".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterColumn {
    /// The table.
    pub table: TableRef,
    /// The column.
    pub column: String,
    /// `nullable=`.
    pub nullable: Option<bool>,
    /// `server_default=`: `Some(None)` drops the default.
    pub server_default: Option<Option<ServerDefault>>,
    /// `new_column_name=`.
    pub new_column_name: Option<String>,
    /// `type_=`.
    pub type_: Option<SqlType>,
    /// `comment=`: `Some(None)` drops the comment.
    pub comment: Option<Option<String>>,
    /// `autoincrement=` (MySQL only).
    pub autoincrement: Option<bool>,
    /// `existing_type=`.
    pub existing_type: Option<SqlType>,
    /// `existing_server_default=`.
    pub existing_server_default: Option<ServerDefault>,
    /// `existing_nullable=`.
    pub existing_nullable: Option<bool>,
    /// `existing_comment=`.
    pub existing_comment: Option<String>,
    /// `existing_autoincrement=` (MySQL only).
    pub existing_autoincrement: Option<bool>,
    /// `postgresql_using=`, ...
    pub options: DialectOptions,
}

/// `op.create_foreign_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateForeignKey {
    /// The table the constraint is on (`source_schema=` included).
    pub table: TableRef,
    /// The constraint.
    pub constraint: ForeignKeyConstraint,
}

/// `op.create_unique_constraint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateUniqueConstraint {
    /// The table.
    pub table: TableRef,
    /// The constraint.
    pub constraint: UniqueConstraint,
}

/// `op.drop_constraint(type_=)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConstraintKind {
    /// `"foreignkey"`.
    ForeignKey,
    /// `"primary"`.
    Primary,
    /// `"unique"`.
    Unique,
    /// `"check"`.
    Check,
}

/// `op.drop_constraint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropConstraint {
    /// The constraint name.
    pub name: String,
    /// The table.
    pub table: TableRef,
    /// `type_=`, when given.
    pub kind: Option<ConstraintKind>,
    /// `if_exists=`.
    pub if_exists: bool,
}

/// `sa.CheckConstraint(condition, name=)` or `op.create_check_constraint`'s constraint, its
/// condition SQL text (a string or `sa.text(...)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckConstraint {
    /// `name=`.
    pub name: Option<String>,
    /// The condition, rendered as written.
    pub condition: String,
    /// `deferrable=`.
    pub deferrable: Option<bool>,
    /// `initially=`.
    pub initially: Option<String>,
}

/// `op.create_check_constraint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateCheckConstraint {
    /// The table.
    pub table: TableRef,
    /// The constraint.
    pub constraint: CheckConstraint,
}

/// `op.rename_table`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameTable {
    /// The table as it is named now (`schema=` included).
    pub table: TableRef,
    /// The new name (in the same schema).
    pub new_name: String,
}

/// `with op.batch_alter_table(table, schema=) as batch_op:`: the operations its `batch_op`
/// calls recorded, in order, each already on the batch's table. Alembic runs them when the
/// block ends, as plain operations where it does not recreate the table (PostgreSQL and MySQL
/// always; SQLite only for added columns and indexes), and recreates the table otherwise,
/// which needs a live database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// The batch's table.
    pub table: TableRef,
    /// The operations, in the order called.
    pub operations: Vec<Operation>,
}

/// Why an operation has no DDL on a dialect: what Alembic refuses there (`ALTER` of
/// constraints on SQLite), what SQLAlchemy cannot compile (`postgresql.JSONB` on MySQL), or
/// what `migrate` does not render exactly yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RenderError {
    /// What cannot be rendered, and why; says what to do when there is something to do.
    pub message: String,
}

impl RenderError {
    /// An error with `message`.
    pub fn new(message: impl Into<String>) -> RenderError {
        RenderError {
            message: message.into(),
        }
    }
}

/// The statements `block` runs on `dialect`: its SQL text split into statements, or its
/// operation rendered to the DDL Alembic emits there (each statement on line offset 0, the
/// operation's line).
pub fn statements(block: &SqlBlock, dialect: &dyn Dialect) -> Result<Vec<Statement>, RenderError> {
    match &block.operation {
        None => Ok(split(&block.sql, dialect.split_rules())),
        Some(op) => Ok(dialect
            .render_operation(op)?
            .into_iter()
            .map(|text| Statement {
                text,
                line_offset: 0,
            })
            .collect()),
    }
}

/// Why the `op.execute` text `block` of a `.py` revision cannot be cut into statements on `dialect`,
/// when it cannot: Alembic sends such a text to the database whole, and `migrate` runs it
/// statement by statement. On a dialect without dollar quoting (SQLite, MySQL), a PostgreSQL
/// body (`$$ ... $$`) with `;` inside would be cut in the middle, so that text is refused
/// rather than run (or printed) in pieces Alembic never sends.
fn python_text_refusal(block: &SqlBlock, dialect: &dyn Dialect) -> Option<RenderError> {
    if block.operation.is_some() || !block.sql.contains('$') {
        return None;
    }
    let rules = dialect.split_rules();
    if rules.dollar_quotes {
        return None;
    }
    // `BEGIN ... END` bodies are kept whole by the MySQL and SQLite rules, and so would be
    // a PostgreSQL body written with BEGIN/END inside its dollars: compare without them.
    let plain = crate::split::SplitRules {
        begin_end_blocks: false,
        ..rules
    };
    let with_dollars = crate::split::SplitRules {
        dollar_quotes: true,
        ..plain
    };
    if split(&block.sql, plain).len() == split(&block.sql, with_dollars).len() {
        return None;
    }
    Some(RenderError::new(format!(
        "op.execute text with a dollar-quoted body ($$ ... $$) holding `;`: {} has no dollar \
         quoting, so its statements cannot be told apart (Alembic sends the text whole; give \
         each dialect its own section in a .sql revision, or run this one on PostgreSQL only)",
        dialect.name()
    )))
}

/// [`statements`] for a block of `rev`, with a refused operation as the planning error that
/// names the file, the line, the operation and why.
pub(crate) fn block_statements(
    rev: &Revision,
    block: &SqlBlock,
    dialect: &dyn Dialect,
) -> crate::Result<Vec<Statement>> {
    let python = rev.format == crate::revision::ScriptFormat::Python;
    python
        .then(|| python_text_refusal(block, dialect))
        .flatten()
        .map_or_else(|| statements(block, dialect), Err)
        .map_err(|e| {
            crate::Error::NoDdl(Box::new(crate::error::NoDdl {
                revision: rev.id.clone(),
                path: rev.path.clone(),
                line: block.line,
                operation: block
                    .operation
                    .as_ref()
                    .map_or(if python { "execute" } else { "SQL" }, |o| o.name())
                    .to_string(),
                dialect: dialect.name(),
                reason: e.message,
            }))
        })
}
