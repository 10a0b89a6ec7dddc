//! How an [`Operation`] becomes DDL: Alembic's sequence of statements per operation and
//! SQLAlchemy's base DDL compiler, with every place a SQLAlchemy dialect overrides the base
//! behaviour a method of [`DdlDialect`] that a backend overrides the same way.
//!
//! This module names no backend: its defaults are SQLAlchemy's `DDLCompiler`,
//! `GenericTypeCompiler` and Alembic's `DefaultImpl`; `migrate-sqlite`, `migrate-postgres`
//! and `migrate-mysql` implement [`DdlDialect`] with their dialect's differences and call
//! [`render`]. Statements come out as Alembic's offline mode prints them: stripped, tabs as
//! four spaces, without the `;`.

use std::borrow::Cow;

use super::{
    AddColumn, AlterColumn, Arg, Autoincrement, Batch, CheckConstraint, Column, ConstraintKind,
    CreateIndex, CreateTable, DialectOptions, DropConstraint, DropIndex, ForeignKeyConstraint,
    ForeignKeyRules, IndexExpr, Operation, PrimaryKeyConstraint, RenameTable, RenderError,
    ServerDefault, SqlType, TableElement, TableRef, UniqueConstraint, Visit,
};

/// The result of rendering.
pub type Result<T> = std::result::Result<T, RenderError>;

/// A constraint of a table being created or altered, as SQLAlchemy holds it: borrowed from
/// the operation that declares it, or owned when a column generates it (`unique=True`,
/// `sa.ForeignKey`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint<'a> {
    /// `PRIMARY KEY (...)`.
    PrimaryKey(Cow<'a, PrimaryKeyConstraint>),
    /// `UNIQUE (...)`.
    Unique(Cow<'a, UniqueConstraint>),
    /// `FOREIGN KEY(...) REFERENCES ...`.
    ForeignKey(Cow<'a, ForeignKeyConstraint>),
    /// `CHECK (...)`.
    Check(Cow<'a, CheckConstraint>),
}

/// An index to create: `op.create_index`'s (borrowed from it), or one a column of a table
/// being created generates (`index=True`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDef<'a> {
    /// The name (`ix_<table>_<column>` for a column's index).
    pub name: Cow<'a, str>,
    /// The table.
    pub table: &'a TableRef,
    /// The expressions.
    pub expressions: Cow<'a, [IndexExpr]>,
    /// Unique index.
    pub unique: bool,
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// Dialect options.
    pub options: &'a DialectOptions,
}

/// No dialect options, for what a column generates.
static NO_OPTIONS: DialectOptions = DialectOptions(Vec::new());

/// The `Table` SQLAlchemy builds for an operation: `op.create_table`'s, or the one-column
/// table Alembic builds around `op.add_column`'s column.
#[derive(Debug, Clone)]
pub struct Table<'a> {
    /// Name and schema.
    pub name: &'a TableRef,
    /// The columns, in order, with their nullability as the table decides it.
    pub columns: Vec<TableColumn<'a>>,
    /// The primary key: its constraint (explicit, or generated from `primary_key=True`).
    pub primary_key: Option<Cow<'a, PrimaryKeyConstraint>>,
    /// Whether the primary key came from column flags (SQLAlchemy's `_implicit_generated`).
    pub primary_key_implicit: bool,
    /// The other constraints in SQLAlchemy's order (explicit ones as written, then those the
    /// columns generate, column by column).
    pub constraints: Vec<Constraint<'a>>,
    /// Indexes the columns generate, column by column.
    pub indexes: Vec<IndexDef<'a>>,
    /// Index of the column SQLAlchemy makes the autoincrement column.
    pub autoincrement: Option<usize>,
    /// Table options (`sqlite_autoincrement=`, `mysql_engine=`, ...).
    pub options: &'a DialectOptions,
    /// `comment=`.
    pub comment: Option<&'a str>,
}

/// A column inside its [`Table`].
#[derive(Debug, Clone)]
pub struct TableColumn<'a> {
    /// The column as written.
    pub column: &'a Column,
    /// Part of the primary key.
    pub primary_key: bool,
    /// Accepts NULL.
    pub nullable: bool,
}

impl<'a> Table<'a> {
    /// Build the table of `op.create_table`.
    pub fn for_create(op: &'a CreateTable) -> Result<Table<'a>> {
        // One allocation: room for every element.
        let mut columns: Vec<&Column> = Vec::with_capacity(op.elements.len());
        columns.extend(op.elements.iter().filter_map(|e| match e {
            TableElement::Column(c) => Some(c),
            _ => None,
        }));
        Table::build(
            &op.table,
            columns,
            &op.elements,
            &op.options,
            op.comment.as_deref(),
        )
    }

    /// Build the one-column table Alembic makes for `op.add_column`.
    pub fn for_add_column(op: &'a AddColumn, options: &'a DialectOptions) -> Result<Table<'a>> {
        Table::build(&op.table, vec![&op.column], &[], options, None)
    }

    /// The table of `columns`, with the constraints among `elements` (its columns are
    /// `columns`).
    fn build(
        name: &'a TableRef,
        columns: Vec<&'a Column>,
        elements: &'a [TableElement],
        options: &'a DialectOptions,
        comment: Option<&'a str>,
    ) -> Result<Table<'a>> {
        for (n, c) in columns.iter().enumerate() {
            if columns[..n].iter().any(|d| d.name == c.name) {
                return Err(RenderError::new(format!(
                    "table '{}' has two columns named '{}'",
                    name.name, c.name
                )));
            }
        }
        let mut explicit_pk = None;
        let mut constraints = Vec::new();
        for e in elements {
            match e {
                TableElement::PrimaryKey(pk) => {
                    if explicit_pk.is_some() {
                        return Err(RenderError::new(format!(
                            "table '{}' has two PrimaryKeyConstraint arguments",
                            name.name
                        )));
                    }
                    explicit_pk = Some(pk)
                }
                TableElement::Unique(u) => constraints.push(Constraint::Unique(Cow::Borrowed(u))),
                TableElement::ForeignKey(f) => {
                    constraints.push(Constraint::ForeignKey(Cow::Borrowed(f)))
                }
                TableElement::Check(c) => constraints.push(Constraint::Check(Cow::Borrowed(c))),
                TableElement::Column(_) => {}
            }
        }
        let flagged: Vec<&str> = columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.name.as_str())
            .collect();
        let (primary_key, implicit) = match explicit_pk {
            Some(pk) => {
                if !flagged.is_empty()
                    && !flagged
                        .iter()
                        .copied()
                        .eq(pk.columns.iter().map(String::as_str))
                {
                    // SQLAlchemy warns and its result depends on the order of arguments.
                    return Err(RenderError::new(format!(
                        "table '{}' marks columns primary_key=True and also has a different \
                         PrimaryKeyConstraint",
                        name.name
                    )));
                }
                for c in &pk.columns {
                    if !columns.iter().any(|col| &col.name == c) {
                        return Err(RenderError::new(format!(
                            "PrimaryKeyConstraint names column '{c}', which table '{}' does not have",
                            name.name
                        )));
                    }
                }
                (Some(Cow::Borrowed(pk)), false)
            }
            None if flagged.is_empty() => (None, true),
            None => (
                Some(Cow::Owned(PrimaryKeyConstraint {
                    name: None,
                    columns: flagged.iter().map(|c| c.to_string()).collect(),
                    deferrable: None,
                    initially: None,
                    options: DialectOptions::default(),
                })),
                true,
            ),
        };
        let pk_cols: &[String] = primary_key.as_ref().map_or(&[], |p| &p.columns);
        let table_columns: Vec<TableColumn> = columns
            .iter()
            .map(|c| {
                let in_pk = pk_cols.contains(&c.name);
                TableColumn {
                    column: c,
                    primary_key: in_pk,
                    nullable: c.nullable.unwrap_or(!in_pk),
                }
            })
            .collect();
        for c in &constraints {
            let cols: &[String] = match c {
                Constraint::Unique(u) => &u.columns,
                Constraint::ForeignKey(f) => &f.columns,
                Constraint::PrimaryKey(p) => &p.columns,
                Constraint::Check(_) => &[],
            };
            for col in cols {
                if !columns.iter().any(|c| &c.name == col) {
                    return Err(RenderError::new(format!(
                        "a constraint of table '{}' names column '{col}', which the table does not have",
                        name.name
                    )));
                }
            }
        }
        // What the columns generate, column by column: a unique constraint (unless the
        // column also has index=True, which makes the index unique), then its foreign keys.
        let mut indexes = Vec::new();
        for c in &columns {
            let index = c.index == Some(true);
            if c.unique == Some(true) && !index {
                constraints.push(Constraint::Unique(Cow::Owned(UniqueConstraint {
                    name: None,
                    columns: vec![c.name.clone()],
                    deferrable: None,
                    initially: None,
                    options: DialectOptions::default(),
                })));
            }
            for fk in &c.foreign_keys {
                let (referent, column) = split_target(&fk.target)?;
                constraints.push(Constraint::ForeignKey(Cow::Owned(ForeignKeyConstraint {
                    columns: vec![c.name.clone()],
                    referent,
                    referent_columns: vec![column],
                    rules: fk.rules.clone(),
                })));
            }
            if index {
                indexes.push(IndexDef {
                    // The default naming convention, `ix_%(column_0_label)s`.
                    name: Cow::Owned(match &name.schema {
                        Some(s) => format!("ix_{}_{}_{}", s.replace('.', "_"), name.name, c.name),
                        None => format!("ix_{}_{}", name.name, c.name),
                    }),
                    table: name,
                    expressions: Cow::Owned(vec![IndexExpr::Column(c.name.clone())]),
                    unique: c.unique == Some(true),
                    if_not_exists: false,
                    options: &NO_OPTIONS,
                });
            }
        }
        let mut table = Table {
            name,
            columns: table_columns,
            primary_key,
            primary_key_implicit: implicit,
            constraints,
            indexes,
            autoincrement: None,
            options,
            comment,
        };
        table.autoincrement = table.autoincrement_column()?;
        Ok(table)
    }

    /// SQLAlchemy's `Table._autoincrement_column`.
    fn autoincrement_column(&self) -> Result<Option<usize>> {
        let Some(pk) = &self.primary_key else {
            return Ok(None);
        };
        let pk_index = || {
            pk.columns
                .iter()
                .filter_map(|n| self.columns.iter().position(|c| &c.column.name == n))
        };
        // SQLAlchemy 2.1's `_validate_autoinc`.
        let valid = |i: usize, explicit: bool| -> Result<bool> {
            let col = self.columns[i].column;
            let ty = col.type_.as_ref();
            if ty.is_some_and(SqlType::is_numeric) {
                if explicit && ty.and_then(|t| t.scale) != Some(0) {
                    return Err(RenderError::new(format!(
                        "column '{}' has a Numeric type without scale 0, which is not \
                         compatible with autoincrement=True",
                        col.name
                    )));
                }
                return Ok(explicit);
            }
            if !ty.is_some_and(SqlType::is_integer) {
                if explicit {
                    return Err(RenderError::new(format!(
                        "the type of column '{}' is not compatible with autoincrement=True",
                        col.name
                    )));
                }
                return Ok(false);
            }
            if !explicit && (col.has_default || col.server_default.is_some()) {
                return Ok(false);
            }
            if self.has_foreign_key(&col.name)
                && !matches!(
                    col.autoincrement,
                    Autoincrement::Yes | Autoincrement::IgnoreFk
                )
            {
                return Ok(false);
            }
            Ok(true)
        };
        let mut found = pk_index();
        if let (Some(only), None) = (found.next(), found.next()) {
            return Ok(match self.columns[only].column.autoincrement {
                Autoincrement::Yes => {
                    valid(only, true)?;
                    Some(only)
                }
                Autoincrement::Auto | Autoincrement::IgnoreFk if valid(only, false)? => Some(only),
                _ => None,
            });
        }
        let mut found = None;
        for i in pk_index() {
            if self.columns[i].column.autoincrement == Autoincrement::Yes {
                valid(i, true)?;
                if found.is_some() {
                    return Err(RenderError::new(
                        "only one column may be marked autoincrement=True",
                    ));
                }
                found = Some(i);
            }
        }
        Ok(found)
    }

    /// True when column `name` is part of a foreign key: its own `sa.ForeignKey`, or a
    /// table-level `sa.ForeignKeyConstraint` (SQLAlchemy's `column.foreign_keys`).
    pub fn has_foreign_key(&self, name: &str) -> bool {
        self.constraints.iter().any(|c| match c {
            Constraint::ForeignKey(f) => f.columns.iter().any(|c| c == name),
            _ => false,
        })
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&TableColumn<'a>> {
        self.columns.iter().find(|c| c.column.name == name)
    }

    /// True when `col` is the table's autoincrement column.
    pub fn is_autoincrement(&self, col: &TableColumn<'_>) -> bool {
        self.autoincrement
            .is_some_and(|i| self.columns[i].column.name == col.column.name)
    }
}

/// `"schema.table.column"` / `"table.column"` as SQLAlchemy's `ForeignKey` reads it.
pub fn split_target(target: &str) -> Result<(TableRef, String)> {
    let parts: Vec<&str> = target.split('.').collect();
    match parts.as_slice() {
        [table, column] => Ok((
            TableRef {
                name: table.to_string(),
                schema: None,
            },
            column.to_string(),
        )),
        [schema @ .., table, column] if !schema.is_empty() => Ok((
            TableRef {
                name: table.to_string(),
                schema: Some(schema.join(".")),
            },
            column.to_string(),
        )),
        _ => Err(RenderError::new(format!(
            "ForeignKey '{target}' does not name a table and a column ('table.column')"
        ))),
    }
}

/// A dialect's DDL rules. Every method with a body is SQLAlchemy's (or Alembic's) base
/// behaviour; a backend overrides the methods its SQLAlchemy dialect overrides.
pub trait DdlDialect {
    /// The dialect's name as SQLAlchemy names it (`sqlite`, `postgresql`, `mysql`): the prefix
    /// of the dialect options it reads.
    fn name(&self) -> &'static str;

    /// Quote an identifier where SQLAlchemy quotes it.
    fn quote(&self, ident: &str) -> String;

    /// [`DdlDialect::quote`], appended to `out`.
    fn push_quoted(&self, out: &mut String, ident: &str) {
        out.push_str(&self.quote(ident));
    }

    /// The longest constraint or index name the dialect accepts (SQLAlchemy raises beyond it).
    fn max_identifier_length(&self) -> usize {
        9999
    }

    /// True when Alembic's offline output doubles every `%` for the driver's `pyformat`
    /// parameters (psycopg2, PyMySQL): `migrate` then refuses DDL holding a `%`, since the
    /// offline script and what Alembic runs online would differ.
    fn doubles_percents(&self) -> bool {
        false
    }

    /// A string literal (`render_literal_value` of a `String`).
    fn string_literal(&self, value: &str) -> String {
        format!("'{}'", value.replace('\'', "''"))
    }

    /// Whether the dialect has comments at all (SQLite: no).
    fn supports_comments(&self) -> bool {
        true
    }

    /// Whether comments are part of the column definition (MySQL) rather than separate
    /// `COMMENT ON` statements (PostgreSQL).
    fn inline_comments(&self) -> bool {
        false
    }

    /// Whether the dialect can `ALTER TABLE ... ADD CONSTRAINT` (SQLite: no), which decides
    /// whether `use_alter=True` foreign keys are left out of `CREATE TABLE`.
    fn supports_alter(&self) -> bool {
        true
    }

    /// Whether a native `BOOLEAN` exists (`sa.true()` renders `true` rather than `1`).
    fn supports_native_boolean(&self) -> bool {
        true
    }

    /// Whether a native `UUID` type exists (`sa.Uuid()` renders `UUID` rather than
    /// `CHAR(32)`).
    fn supports_native_uuid(&self) -> bool {
        false
    }

    /// A quoted, schema-qualified table name (`format_table`).
    fn table_name(&self, t: &TableRef) -> String {
        let mut text = String::with_capacity(t.name.len() + 2);
        self.push_table_name(&mut text, t);
        text
    }

    /// [`DdlDialect::table_name`], appended to `out`.
    fn push_table_name(&self, out: &mut String, t: &TableRef) {
        if let Some(s) = &t.schema {
            push_quoted_dotted(self, out, s);
            out.push('.');
        }
        self.push_quoted(out, &t.name);
    }

    /// A constraint or index name, quoted, refused beyond the dialect's length limit.
    fn constraint_name(&self, name: &str) -> Result<String> {
        let mut text = String::with_capacity(name.len() + 2);
        self.push_constraint_name(&mut text, name)?;
        Ok(text)
    }

    /// [`DdlDialect::constraint_name`], appended to `out`.
    fn push_constraint_name(&self, out: &mut String, name: &str) -> Result<()> {
        // A name has at least as many bytes as characters: count them only when it may be
        // too long.
        let max = self.max_identifier_length();
        if name.len() > max && name.chars().count() > max {
            return Err(RenderError::new(format!(
                "the name '{name}' is longer than the {} characters {} allows (SQLAlchemy raises \
                 IdentifierError)",
                self.max_identifier_length(),
                self.name()
            )));
        }
        self.push_quoted(out, name);
        Ok(())
    }

    /// The SQL of a type (SQLAlchemy's type compiler, dispatching on `visit`), appended to
    /// `out`.
    fn visit_type(&self, out: &mut String, visit: Visit, ty: &SqlType) -> Result<()> {
        generic_visit_type(self, out, visit, ty)
    }

    /// The SQL of `ty`, appended to `out` (see [`type_text`] for it as a string).
    fn type_sql(&self, out: &mut String, ty: &SqlType) -> Result<()> {
        self.visit_type(out, ty.class.visit(), ty)
    }

    /// A SQL function call without arguments (`sa.func.now()`).
    fn function(&self, name: &str) -> String {
        generic_function(name)
    }

    /// What follows `DEFAULT` for `default` (`get_column_default_string`).
    fn default_sql(&self, default: &ServerDefault) -> Result<String> {
        let mut text = String::new();
        self.push_default_sql(&mut text, default)?;
        Ok(text)
    }

    /// [`DdlDialect::default_sql`], appended to `out`.
    fn push_default_sql(&self, out: &mut String, default: &ServerDefault) -> Result<()> {
        match default {
            ServerDefault::Literal(s) => out.push_str(&self.string_literal(s)),
            ServerDefault::Text(s) => out.push_str(s),
            ServerDefault::Function(f) => out.push_str(&self.function(f)),
            ServerDefault::Bool(b) if self.supports_native_boolean() => {
                out.push_str(if *b { "true" } else { "false" })
            }
            ServerDefault::Bool(b) => out.push_str(if *b { "1" } else { "0" }),
        }
        Ok(())
    }

    /// The column definition inside `CREATE TABLE` / `ADD COLUMN`
    /// (`get_column_specification`), appended to `out`: `name TYPE [DEFAULT x] [NOT NULL]`.
    fn column_specification(
        &self,
        out: &mut String,
        table: &Table<'_>,
        col: &TableColumn<'_>,
    ) -> Result<()> {
        self.push_quoted(out, &col.column.name);
        out.push(' ');
        column_type(self, out, col.column)?;
        if let Some(d) = &col.column.server_default {
            out.push_str(" DEFAULT ");
            self.push_default_sql(out, d)?;
        }
        if !col.nullable {
            out.push_str(" NOT NULL");
        }
        let _ = table;
        Ok(())
    }

    /// `PRIMARY KEY (...)` inside `CREATE TABLE`, appended to `out`; nothing to leave it out.
    fn primary_key_constraint(
        &self,
        out: &mut String,
        table: &Table<'_>,
        pk: &PrimaryKeyConstraint,
    ) -> Result<()> {
        primary_key_text(self, out, table, pk, "")
    }

    /// `UNIQUE (...)`, appended to `out`.
    fn unique_constraint(&self, out: &mut String, u: &UniqueConstraint) -> Result<()> {
        unique_text(self, out, u, "", "")
    }

    /// `FOREIGN KEY(...) REFERENCES ...`, appended to `out`; nothing to leave it out of
    /// `CREATE TABLE` (the text of a foreign key is never empty).
    fn foreign_key_constraint(
        &self,
        out: &mut String,
        table: &TableRef,
        fk: &ForeignKeyConstraint,
    ) -> Result<()> {
        let _ = table;
        foreign_key_text(self, out, fk, true)
    }

    /// ` MATCH x`, appended to `out`.
    fn constraint_match(&self, out: &mut String, rules: &ForeignKeyRules) -> Result<()> {
        if let Some(m) = &rules.match_ {
            out.push_str(" MATCH ");
            out.push_str(sql_phrase(m)?);
        }
        Ok(())
    }

    /// ` ON DELETE x`, appended to `out`.
    fn ondelete(&self, out: &mut String, action: &str) -> Result<()> {
        out.push_str(" ON DELETE ");
        out.push_str(sql_phrase(action)?);
        Ok(())
    }

    /// ` ON DELETE x ON UPDATE y`, appended to `out`.
    fn constraint_cascades(&self, out: &mut String, rules: &ForeignKeyRules) -> Result<()> {
        if let Some(d) = &rules.ondelete {
            self.ondelete(out, d)?;
        }
        if let Some(u) = &rules.onupdate {
            out.push_str(" ON UPDATE ");
            out.push_str(sql_phrase(u)?);
        }
        Ok(())
    }

    /// What follows `CREATE TABLE ... )` (table options).
    fn post_create_table(&self, table: &Table<'_>) -> Result<String> {
        let _ = table;
        Ok(String::new())
    }

    /// Statements before `CREATE TABLE` (PostgreSQL's `CREATE TYPE` for enums).
    fn before_create_table(&self, table: &Table<'_>) -> Result<Vec<String>> {
        let _ = table;
        Ok(Vec::new())
    }

    /// `CREATE INDEX`.
    fn create_index(&self, ix: &IndexDef<'_>) -> Result<String> {
        let mut text = create_index_head(ix, "", "");
        self.push_constraint_name(&mut text, &ix.name)?;
        text.push_str(" ON ");
        self.push_table_name(&mut text, ix.table);
        text.push_str(" (");
        index_expressions(self, &mut text, &ix.expressions)?;
        text.push(')');
        Ok(text)
    }

    /// `DROP INDEX`.
    fn drop_index(&self, ix: &DropIndex) -> Result<String> {
        let mut text = String::with_capacity(32 + ix.name.len());
        text.push_str("DROP INDEX ");
        if ix.if_exists {
            text.push_str("IF EXISTS ");
        }
        schema_qualified_index(self, &mut text, ix)?;
        Ok(text)
    }

    /// `ALTER TABLE t ADD <constraint>`. `explicit` is false for the constraints a column
    /// generates (`op.add_column` with `unique=True` or a `ForeignKey`).
    fn add_constraint(
        &self,
        table: &TableRef,
        constraint: &Constraint<'_>,
        explicit: bool,
    ) -> Result<Option<String>> {
        let _ = explicit;
        if let Constraint::PrimaryKey(_) = constraint {
            return Err(RenderError::new("adding a primary key constraint"));
        }
        let mut text = String::with_capacity(96);
        text.push_str("ALTER TABLE ");
        self.push_table_name(&mut text, table);
        text.push_str(" ADD ");
        let start = text.len();
        match constraint {
            Constraint::Unique(u) => self.unique_constraint(&mut text, u)?,
            Constraint::ForeignKey(f) => {
                self.foreign_key_constraint(&mut text, table, f)?;
                if text.len() == start {
                    return Ok(None);
                }
            }
            Constraint::Check(c) => check_text(self, &mut text, c)?,
            Constraint::PrimaryKey(_) => {}
        }
        Ok(Some(text))
    }

    /// `ALTER TABLE t DROP CONSTRAINT name`.
    fn drop_constraint(&self, op: &DropConstraint) -> Result<String> {
        Ok(format!(
            "ALTER TABLE {} DROP CONSTRAINT {}{}",
            self.table_name(&op.table),
            if op.if_exists { "IF EXISTS " } else { "" },
            self.constraint_name(&op.name)?
        ))
    }

    /// The statements of `op.alter_column` (Alembic's `DefaultImpl.alter_column`): nullable,
    /// default, type, comment, then the new name, each its own `ALTER TABLE`.
    fn alter_column(&self, op: &AlterColumn) -> Result<Vec<String>> {
        generic_alter_column(self, op)
    }

    /// `COMMENT ON COLUMN t.c IS '...'` (for dialects with separate comment statements).
    fn column_comment(&self, table: &TableRef, column: &str, comment: Option<&str>) -> String {
        format!(
            "COMMENT ON COLUMN {}.{} IS {}",
            self.table_name(table),
            self.quote(column),
            comment.map_or_else(|| "NULL".to_string(), |c| self.string_literal(c))
        )
    }

    /// `COMMENT ON TABLE t IS '...'`.
    fn table_comment(&self, table: &TableRef, comment: &str) -> String {
        format!(
            "COMMENT ON TABLE {} IS {}",
            self.table_name(table),
            self.string_literal(comment)
        )
    }

    /// The statements of `op.add_column` (Alembic's `add_column` implementation): the
    /// `ADD COLUMN`, then the constraints and indexes the column generates, then its comment.
    fn add_column(&self, op: &AddColumn) -> Result<Vec<String>> {
        generic_add_column(self, op)
    }

    /// The statements of `op.create_table`.
    fn create_table(&self, op: &CreateTable) -> Result<Vec<String>> {
        generic_create_table(self, op)
    }

    /// `ALTER TABLE t RENAME TO new` (the new name in the table's schema).
    fn rename_table(&self, op: &RenameTable) -> Result<String> {
        Ok(format!(
            "ALTER TABLE {} RENAME TO {}",
            self.table_name(&op.table),
            self.table_name(&TableRef {
                name: op.new_name.clone(),
                schema: op.table.schema.clone(),
            })
        ))
    }

    /// The statements of a batch: Alembic's `requires_recreate_in_batch` is false on the base
    /// implementation, so the batch's operations run as plain operations, in order.
    fn batch(&self, op: &Batch) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for o in &op.operations {
            out.extend(render(self, o)?);
        }
        Ok(out)
    }
}

/// `CHECK (condition)` with its name and deferrability, appended to `out`.
pub fn check_text<D: DdlDialect + ?Sized>(
    d: &D,
    out: &mut String,
    c: &CheckConstraint,
) -> Result<()> {
    constraint_preamble(d, out, &c.name)?;
    out.push_str("CHECK (");
    out.push_str(&c.condition);
    out.push(')');
    deferrability(out, c.deferrable, &c.initially)
}

/// A dotted schema name quoted part by part (Alembic's `quote_dotted`).
pub fn quote_dotted<D: DdlDialect + ?Sized>(d: &D, name: &str) -> String {
    let mut text = String::with_capacity(name.len() + 2);
    push_quoted_dotted(d, &mut text, name);
    text
}

/// [`quote_dotted`], appended to `out`.
pub fn push_quoted_dotted<D: DdlDialect + ?Sized>(d: &D, out: &mut String, name: &str) {
    for (k, part) in name.split('.').enumerate() {
        if k > 0 {
            out.push('.');
        }
        d.push_quoted(out, part);
    }
}

/// Quoted names joined by `, `.
pub fn quoted_list<D: DdlDialect + ?Sized>(d: &D, names: &[String]) -> String {
    let mut text = String::with_capacity(names.iter().map(|n| n.len() + 4).sum());
    push_quoted_list(d, &mut text, names);
    text
}

/// [`quoted_list`], appended to `out`.
pub fn push_quoted_list<D: DdlDialect + ?Sized>(d: &D, out: &mut String, names: &[String]) {
    for (k, n) in names.iter().enumerate() {
        if k > 0 {
            out.push_str(", ");
        }
        d.push_quoted(out, n);
    }
}

/// `PRIMARY KEY (cols)` with its name and deferrability, appended to `out` (nothing for a
/// primary key without columns); `extra` goes before the deferrability (PostgreSQL's
/// `INCLUDE`).
pub fn primary_key_text<D: DdlDialect + ?Sized>(
    d: &D,
    out: &mut String,
    table: &Table<'_>,
    pk: &PrimaryKeyConstraint,
    extra: &str,
) -> Result<()> {
    if pk.columns.is_empty() {
        return Ok(());
    }
    constraint_preamble(d, out, &pk.name)?;
    primary_key_body(d, out, table, pk);
    out.push_str(extra);
    deferrability(out, pk.deferrable, &pk.initially)
}

/// `UNIQUE (cols)` with its name and deferrability, appended to `out` (nothing for a
/// constraint without columns); `distinct` goes after `UNIQUE ` (PostgreSQL's
/// `NULLS NOT DISTINCT `), `extra` before the deferrability.
pub fn unique_text<D: DdlDialect + ?Sized>(
    d: &D,
    out: &mut String,
    u: &UniqueConstraint,
    distinct: &str,
    extra: &str,
) -> Result<()> {
    if u.columns.is_empty() {
        return Ok(());
    }
    constraint_preamble(d, out, &u.name)?;
    out.push_str("UNIQUE ");
    out.push_str(distinct);
    out.push('(');
    push_quoted_list(d, out, &u.columns);
    out.push(')');
    out.push_str(extra);
    deferrability(out, u.deferrable, &u.initially)
}

/// `FOREIGN KEY(cols) REFERENCES remote (cols)` with its name, match, cascades and
/// deferrability, appended to `out`. The remote table is schema-qualified when `qualified`,
/// else its bare name (SQLite's).
pub fn foreign_key_text<D: DdlDialect + ?Sized>(
    d: &D,
    out: &mut String,
    fk: &ForeignKeyConstraint,
    qualified: bool,
) -> Result<()> {
    constraint_preamble(d, out, &fk.rules.name)?;
    out.push_str("FOREIGN KEY(");
    push_quoted_list(d, out, &fk.columns);
    out.push_str(") REFERENCES ");
    if qualified {
        d.push_table_name(out, &fk.referent);
    } else {
        d.push_quoted(out, &fk.referent.name);
    }
    out.push_str(" (");
    push_quoted_list(d, out, &fk.referent_columns);
    out.push(')');
    d.constraint_match(out, &fk.rules)?;
    d.constraint_cascades(out, &fk.rules)?;
    deferrability(out, fk.rules.deferrable, &fk.rules.initially)
}

/// `CREATE [UNIQUE] [prefix ]INDEX [modifier ][IF NOT EXISTS] ` (MySQL's prefix,
/// PostgreSQL's `CONCURRENTLY`).
pub fn create_index_head(ix: &IndexDef<'_>, prefix: &str, modifier: &str) -> String {
    // Room for the rest of a usual statement.
    let mut text = String::with_capacity(96);
    text.push_str("CREATE ");
    if ix.unique {
        text.push_str("UNIQUE ");
    }
    if !prefix.is_empty() {
        text.push_str(prefix);
        text.push(' ');
    }
    text.push_str("INDEX ");
    if !modifier.is_empty() {
        text.push_str(modifier);
        text.push(' ');
    }
    if ix.if_not_exists {
        text.push_str("IF NOT EXISTS ");
    }
    text
}

/// `CONSTRAINT name ` when the constraint is named, appended to `out`.
pub fn constraint_preamble<D: DdlDialect + ?Sized>(
    d: &D,
    out: &mut String,
    name: &Option<String>,
) -> Result<()> {
    if let Some(n) = name {
        out.push_str("CONSTRAINT ");
        d.push_constraint_name(out, n)?;
        out.push(' ');
    }
    Ok(())
}

/// `PRIMARY KEY (cols)`, the autoincrement column first for a generated primary key,
/// appended to `out`.
pub fn primary_key_body<D: DdlDialect + ?Sized>(
    d: &D,
    out: &mut String,
    table: &Table<'_>,
    pk: &PrimaryKeyConstraint,
) {
    let first = if table.primary_key_implicit {
        table.autoincrement.and_then(|i| {
            let name = &table.columns[i].column.name;
            pk.columns.iter().position(|c| c == name)
        })
    } else {
        None
    };
    out.push_str("PRIMARY KEY (");
    let mut separator = "";
    if let Some(p) = first {
        d.push_quoted(out, &pk.columns[p]);
        separator = ", ";
    }
    for (k, c) in pk.columns.iter().enumerate() {
        if Some(k) == first {
            continue;
        }
        out.push_str(separator);
        separator = ", ";
        d.push_quoted(out, c);
    }
    out.push(')');
}

/// ` DEFERRABLE` / ` NOT DEFERRABLE`, ` INITIALLY x`, appended to `out`.
pub fn deferrability(
    out: &mut String,
    deferrable: Option<bool>,
    initially: &Option<String>,
) -> Result<()> {
    match deferrable {
        Some(true) => out.push_str(" DEFERRABLE"),
        Some(false) => out.push_str(" NOT DEFERRABLE"),
        None => {}
    }
    if let Some(i) = initially {
        out.push_str(" INITIALLY ");
        out.push_str(sql_phrase(i)?);
    }
    Ok(())
}

/// Python's `\w` for one character (letters and digits of any script, `_`).
pub fn is_word(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// SQLAlchemy's `validate_sql_phrase`: keywords separated by whitespace (`SET NULL`), else
/// its `CompileError`.
pub fn sql_phrase(phrase: &str) -> Result<&str> {
    // The usual one-word phrase (`CASCADE`) is ASCII word characters only.
    if !phrase.is_empty()
        && phrase
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Ok(phrase);
    }
    let ok = phrase
        .split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty())
        .all(|w| w.chars().all(is_word))
        && phrase.chars().next().is_some_and(is_word)
        && phrase.chars().last().is_some_and(is_word);
    if ok {
        Ok(phrase)
    } else {
        Err(RenderError::new(format!(
            "the SQL phrase {phrase:?} (SQLAlchemy accepts only keywords here)"
        )))
    }
}

/// One indexed expression: a quoted column name, `sa.text` as written.
pub fn index_expression<D: DdlDialect + ?Sized>(d: &D, e: &IndexExpr) -> Result<String> {
    let mut text = String::new();
    push_index_expression(d, &mut text, e);
    Ok(text)
}

/// [`index_expression`], appended to `out`.
pub fn push_index_expression<D: DdlDialect + ?Sized>(d: &D, out: &mut String, e: &IndexExpr) {
    match e {
        IndexExpr::Column(c) => d.push_quoted(out, c),
        IndexExpr::Text(t) => out.push_str(t),
    }
}

/// The indexed expressions, joined by `, `, appended to `out`.
pub fn index_expressions<D: DdlDialect + ?Sized>(
    d: &D,
    out: &mut String,
    exprs: &[IndexExpr],
) -> Result<()> {
    for (k, e) in exprs.iter().enumerate() {
        if k > 0 {
            out.push_str(", ");
        }
        push_index_expression(d, out, e);
    }
    Ok(())
}

/// `schema.name` of the index `op.drop_index` names (its table's schema, or `schema=`),
/// appended to `out`.
pub fn schema_qualified_index<D: DdlDialect + ?Sized>(
    d: &D,
    out: &mut String,
    ix: &DropIndex,
) -> Result<()> {
    let schema = ix
        .table
        .as_ref()
        .and_then(|t| t.schema.as_ref())
        .or(ix.schema.as_ref());
    if let Some(s) = schema {
        d.push_quoted(out, s);
        out.push('.');
    }
    d.push_constraint_name(out, &ix.name)
}

/// The table `op.drop_index` names (`no_table` when none is given, as Alembic builds it).
pub fn drop_index_table(ix: &DropIndex) -> TableRef {
    match &ix.table {
        Some(t) => t.clone(),
        None => TableRef {
            name: "no_table".into(),
            schema: ix.schema.clone(),
        },
    }
}

/// The type of a column, appended to `out`, or SQLAlchemy's error for a column without one.
pub fn column_type<D: DdlDialect + ?Sized>(d: &D, out: &mut String, col: &Column) -> Result<()> {
    match &col.type_ {
        Some(t) => d.type_sql(out, t),
        None => Err(RenderError::new(format!(
            "column '{}' has no type (SQLAlchemy cannot generate DDL for NullType)",
            col.name
        ))),
    }
}

/// The SQL of `ty` on `d`, as a string.
pub fn type_text<D: DdlDialect + ?Sized>(d: &D, ty: &SqlType) -> Result<String> {
    let mut text = String::with_capacity(16);
    d.type_sql(&mut text, ty)?;
    Ok(text)
}

/// `n` in decimal, appended to `out` (as `format!("{n}")` writes it).
pub fn push_number(out: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in &digits[i..] {
        out.push(b as char);
    }
}

/// `(n)`, appended to `out`.
pub fn push_parenthesized(out: &mut String, n: u32) {
    out.push('(');
    push_number(out, n);
    out.push(')');
}

/// SQLAlchemy's ANSI functions, which render without parentheses.
const ANSI_FUNCTIONS: &[&str] = &[
    "current_date",
    "current_time",
    "current_timestamp",
    "current_user",
    "localtime",
    "localtimestamp",
    "session_user",
    "sysdate",
    "user",
];

/// `name()`, or the bare keyword for SQLAlchemy's ANSI functions (`CURRENT_TIMESTAMP`).
pub fn generic_function(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if ANSI_FUNCTIONS.contains(&lower.as_str()) {
        lower.to_ascii_uppercase()
    } else {
        format!("{name}()")
    }
}

/// `NAME(length) COLLATE x` (`_render_string_type`).
pub fn string_type<D: DdlDialect + ?Sized>(
    d: &D,
    out: &mut String,
    name: &str,
    length: Option<u32>,
    collation: &Option<String>,
) {
    out.push_str(name);
    if let Some(l) = length.filter(|l| *l > 0) {
        push_parenthesized(out, l);
    }
    if let Some(c) = collation {
        out.push_str(" COLLATE ");
        d.push_quoted(out, c);
    }
}

/// `NAME`, `NAME(p)` or `NAME(p, s)`, appended to `out`.
fn numeric_type(out: &mut String, name: &str, ty: &SqlType) {
    out.push_str(name);
    if let Some(p) = ty.precision {
        out.push('(');
        push_number(out, p);
        if let Some(s) = ty.scale {
            out.push_str(", ");
            push_number(out, s);
        }
        out.push(')');
    }
}

/// A type the dialect cannot render (SQLAlchemy's `UnsupportedCompilationError`).
pub fn unsupported<D: DdlDialect + ?Sized>(d: &D, ty: &SqlType) -> RenderError {
    RenderError::new(format!(
        "the type {} has no DDL on {} (SQLAlchemy cannot compile it there)",
        ty.class.class_name(),
        d.name()
    ))
}

/// SQLAlchemy's `GenericTypeCompiler`, appending to `out`.
pub fn generic_visit_type<D: DdlDialect + ?Sized>(
    d: &D,
    out: &mut String,
    visit: Visit,
    ty: &SqlType,
) -> Result<()> {
    use Visit as V;
    let name = match visit {
        V::FloatUpper => "FLOAT",
        V::DoubleUpper => "DOUBLE",
        V::Float => return d.visit_type(out, V::FloatUpper, ty),
        V::Double => return d.visit_type(out, V::DoubleUpper, ty),
        V::DoublePrecision => "DOUBLE PRECISION",
        V::Real => "REAL",
        V::NumericUpper => {
            numeric_type(out, "NUMERIC", ty);
            return Ok(());
        }
        V::Numeric => return d.visit_type(out, V::NumericUpper, ty),
        V::Decimal => {
            numeric_type(out, "DECIMAL", ty);
            return Ok(());
        }
        V::IntegerUpper => "INTEGER",
        V::Smallint => "SMALLINT",
        V::Bigint => "BIGINT",
        V::Integer => return d.visit_type(out, V::IntegerUpper, ty),
        V::SmallInteger => return d.visit_type(out, V::Smallint, ty),
        V::BigInteger => return d.visit_type(out, V::Bigint, ty),
        V::Timestamp => "TIMESTAMP",
        V::DatetimeUpper => "DATETIME",
        V::DateUpper => "DATE",
        V::TimeUpper => "TIME",
        V::DateTime => return d.visit_type(out, V::DatetimeUpper, ty),
        V::Date => return d.visit_type(out, V::DateUpper, ty),
        V::Time => return d.visit_type(out, V::TimeUpper, ty),
        V::Clob => "CLOB",
        V::Char | V::Nchar | V::Varchar | V::Nvarchar | V::TextUpper => {
            let name = match visit {
                V::Char => "CHAR",
                V::Nchar => "NCHAR",
                V::Varchar => "VARCHAR",
                V::Nvarchar => "NVARCHAR",
                _ => "TEXT",
            };
            string_type(d, out, name, ty.length, &ty.collation);
            return Ok(());
        }
        V::UuidUpper => "UUID",
        V::Blob => "BLOB",
        V::Binary | V::Varbinary => {
            out.push_str(if visit == V::Binary {
                "BINARY"
            } else {
                "VARBINARY"
            });
            if let Some(l) = ty.length.filter(|l| *l > 0) {
                push_parenthesized(out, l);
            }
            return Ok(());
        }
        V::BooleanUpper => "BOOLEAN",
        V::Uuid if !ty.details().native_uuid || !d.supports_native_uuid() => {
            string_type(d, out, "CHAR", Some(32), &None);
            return Ok(());
        }
        V::Uuid => return d.visit_type(out, V::UuidUpper, ty),
        V::LargeBinary => return d.visit_type(out, V::Blob, ty),
        V::Boolean => return d.visit_type(out, V::BooleanUpper, ty),
        V::String | V::Unicode => return d.visit_type(out, V::Varchar, ty),
        V::Text | V::UnicodeText => return d.visit_type(out, V::TextUpper, ty),
        V::Enum => return d.visit_type(out, V::Varchar, &enum_as_string(ty)),
        // An emulated type over `DateTime` (PostgreSQL adapts it to its native INTERVAL).
        V::Interval => {
            return d.visit_type(out, V::DateTime, &SqlType::new(super::TypeClass::DateTime))
        }
        _ => return Err(unsupported(d, ty)),
    };
    out.push_str(name);
    Ok(())
}

/// A non-native `Enum` as the `VARCHAR` it renders as: `length` is the longest value unless
/// given.
pub fn enum_as_string(ty: &SqlType) -> SqlType {
    let mut s = ty.clone();
    s.length = Some(ty.length.unwrap_or_else(|| {
        ty.details()
            .values
            .iter()
            .map(|v| v.chars().count() as u32)
            .max()
            .unwrap_or(0)
    }));
    s
}

/// The `CREATE TABLE` statement and what Alembic runs around it.
pub fn generic_create_table<D: DdlDialect + ?Sized>(
    d: &D,
    op: &CreateTable,
) -> Result<Vec<String>> {
    let table = Table::for_create(op)?;
    check_schema_types(&table)?;
    let mut out = d.before_create_table(&table)?;
    // About a line a column: one allocation for most tables.
    let mut text = String::with_capacity(64 * (table.columns.len() + table.constraints.len() + 1));
    text.push_str("CREATE TABLE ");
    if op.if_not_exists {
        text.push_str("IF NOT EXISTS ");
    }
    d.push_table_name(&mut text, &op.table);
    text.push_str(" (");
    let mut separator = "\n";
    for col in &table.columns {
        text.push_str(separator);
        separator = ", \n";
        text.push_str("    ");
        d.column_specification(&mut text, &table, col)?;
    }
    // Each constraint on its line after the columns, rendered in place; one that renders
    // to nothing takes its separator back.
    let mut item = |text: &mut String, render: &mut dyn FnMut(&mut String) -> Result<()>| {
        let mark = text.len();
        text.push_str(separator);
        text.push_str("    ");
        let start = text.len();
        render(text)?;
        if text.len() == start {
            text.truncate(mark);
        } else {
            separator = ", \n";
        }
        Ok::<(), RenderError>(())
    };
    if let Some(pk) = &table.primary_key {
        item(&mut text, &mut |t| d.primary_key_constraint(t, &table, pk))?;
    }
    for c in &table.constraints {
        match c {
            Constraint::Unique(u) => item(&mut text, &mut |t| d.unique_constraint(t, u))?,
            Constraint::ForeignKey(f) => {
                if f.rules.use_alter && d.supports_alter() {
                    continue;
                }
                item(&mut text, &mut |t| {
                    d.foreign_key_constraint(t, &op.table, f)
                })?;
            }
            Constraint::Check(c) => item(&mut text, &mut |t| check_text(d, t, c))?,
            Constraint::PrimaryKey(_) => {}
        }
    }
    text.push_str("\n)");
    text.push_str(&d.post_create_table(&table)?);
    out.push(text);
    for ix in &table.indexes {
        out.push(d.create_index(ix)?);
    }
    if d.supports_comments() && !d.inline_comments() {
        if let Some(c) = op.comment.as_deref() {
            out.push(d.table_comment(&op.table, c));
        }
        for col in &table.columns {
            if let Some(c) = &col.column.comment {
                out.push(d.column_comment(&op.table, &col.column.name, Some(c)));
            }
        }
    }
    finish(d, out)
}

/// Refuse the SQLAlchemy types whose DDL is more than their name (the `CHECK` constraint of
/// `Boolean(create_constraint=True)` / `Enum(create_constraint=True)`).
fn check_schema_types(table: &Table<'_>) -> Result<()> {
    for c in &table.columns {
        if let Some(t) = &c.column.type_ {
            check_type(t)?;
        }
    }
    Ok(())
}

fn check_type(t: &SqlType) -> Result<()> {
    if t.details().create_constraint {
        return Err(RenderError::new(format!(
            "{}(create_constraint=True) (its CHECK constraint is not rendered by migrate yet)",
            t.class.class_name()
        )));
    }
    if let Some(item) = &t.details().item {
        check_type(item)?;
    }
    Ok(())
}

/// `op.add_column`: `ALTER TABLE t ADD COLUMN ...`, the constraints and index the column
/// generates (unique, then foreign keys: Alembic's order among these varies from run to run,
/// so one fixed order is used), then its comment.
pub fn generic_add_column<D: DdlDialect + ?Sized>(d: &D, op: &AddColumn) -> Result<Vec<String>> {
    let table = Table::for_add_column(op, &NO_OPTIONS)?;
    check_schema_types(&table)?;
    let col = &table.columns[0];
    let mut text = String::with_capacity(96);
    text.push_str("ALTER TABLE ");
    d.push_table_name(&mut text, &op.table);
    text.push_str(" ADD COLUMN ");
    if op.if_not_exists {
        text.push_str("IF NOT EXISTS ");
    }
    d.column_specification(&mut text, &table, col)?;
    let mut out = vec![text];
    for c in &table.constraints {
        if let Some(s) = d.add_constraint(&op.table, c, false)? {
            out.push(s);
        }
    }
    for ix in &table.indexes {
        out.push(d.create_index(ix)?);
    }
    if d.supports_comments() && !d.inline_comments() {
        if let Some(c) = &op.column.comment {
            out.push(d.column_comment(&op.table, &op.column.name, Some(c)));
        }
    }
    finish(d, out)
}

/// Alembic's `DefaultImpl.alter_column`.
pub fn generic_alter_column<D: DdlDialect + ?Sized>(
    d: &D,
    op: &AlterColumn,
) -> Result<Vec<String>> {
    alter_column_statements(d, op, true)
}

/// The statements of `DefaultImpl.alter_column`; `with_type` false leaves out the `TYPE`
/// change (PostgreSQL renders it first, with `USING`).
pub fn alter_column_statements<D: DdlDialect + ?Sized>(
    d: &D,
    op: &AlterColumn,
    with_type: bool,
) -> Result<Vec<String>> {
    for t in [&op.type_, &op.existing_type].into_iter().flatten() {
        check_type(t)?;
    }
    let alter = format!("ALTER TABLE {}", d.table_name(&op.table));
    let column = format!("ALTER COLUMN {}", d.quote(&op.column));
    let mut out = Vec::new();
    if let Some(n) = op.nullable {
        out.push(format!(
            "{alter} {column} {}",
            if n { "DROP NOT NULL" } else { "SET NOT NULL" }
        ));
    }
    if let Some(default) = &op.server_default {
        out.push(match default {
            Some(dflt) => format!("{alter} {column} SET DEFAULT {}", d.default_sql(dflt)?),
            None => format!("{alter} {column} DROP DEFAULT"),
        });
    }
    if with_type {
        if let Some(t) = &op.type_ {
            out.push(format!("{alter} {column} TYPE {}", type_text(d, t)?));
        }
    }
    if let Some(comment) = &op.comment {
        out.push(d.column_comment(&op.table, &op.column, comment.as_deref()));
    }
    if let Some(new) = &op.new_column_name {
        out.push(format!(
            "{alter} RENAME {} TO {}",
            d.quote(&op.column),
            d.quote(new)
        ));
    }
    Ok(out)
}

/// Clean up rendered statements as Alembic's offline mode prints them (tabs as four spaces,
/// stripped), and refuse a `%` where the driver would see it doubled.
pub fn finish<D: DdlDialect + ?Sized>(d: &D, mut statements: Vec<String>) -> Result<Vec<String>> {
    for s in &mut statements {
        if s.contains('\t') {
            *s = s.replace('\t', "    ");
        }
        if s.trim().len() != s.len() {
            *s = s.trim().to_string();
        }
        if d.doubles_percents() && s.contains('%') {
            return Err(RenderError::new(format!(
                "DDL holding a '%' on {} (Alembic's offline script doubles it for the driver, so \
                 the script and what Alembic runs would differ)",
                d.name()
            )));
        }
    }
    Ok(statements)
}

/// The statements `op` renders to on `d`.
pub fn render<D: DdlDialect + ?Sized>(d: &D, op: &Operation) -> Result<Vec<String>> {
    let out = match op {
        Operation::CreateTable(t) => return d.create_table(t),
        Operation::AddColumn(a) => return d.add_column(a),
        Operation::DropTable(t) => {
            let mut text = String::with_capacity(24 + t.table.name.len());
            text.push_str("DROP TABLE ");
            if t.if_exists {
                text.push_str("IF EXISTS ");
            }
            d.push_table_name(&mut text, &t.table);
            vec![text]
        }
        Operation::DropColumn(c) => vec![format!(
            "ALTER TABLE {} DROP COLUMN {}{}",
            d.table_name(&c.table),
            if c.if_exists { "IF EXISTS " } else { "" },
            d.quote(&c.column)
        )],
        Operation::CreateIndex(ix) => vec![d.create_index(&index_def(ix))?],
        Operation::DropIndex(ix) => vec![d.drop_index(ix)?],
        Operation::AlterColumn(a) => d.alter_column(a)?,
        Operation::CreateForeignKey(f) => {
            match d.add_constraint(
                &f.table,
                &Constraint::ForeignKey(Cow::Borrowed(&f.constraint)),
                true,
            )? {
                Some(s) => vec![s],
                None => Vec::new(),
            }
        }
        Operation::CreateUniqueConstraint(u) => {
            match d.add_constraint(
                &u.table,
                &Constraint::Unique(Cow::Borrowed(&u.constraint)),
                true,
            )? {
                Some(s) => vec![s],
                None => Vec::new(),
            }
        }
        Operation::DropConstraint(c) => vec![d.drop_constraint(c)?],
        Operation::RenameTable(t) => vec![d.rename_table(t)?],
        Operation::CreateCheckConstraint(c) => {
            match d.add_constraint(
                &c.table,
                &Constraint::Check(Cow::Borrowed(&c.constraint)),
                true,
            )? {
                Some(s) => vec![s],
                None => Vec::new(),
            }
        }
        Operation::Batch(b) => d.batch(b)?,
    };
    finish(d, out)
}

/// The [`IndexDef`] of `op.create_index`.
pub fn index_def(ix: &CreateIndex) -> IndexDef<'_> {
    IndexDef {
        name: Cow::Borrowed(&ix.name),
        table: &ix.table,
        expressions: Cow::Borrowed(&ix.expressions),
        unique: ix.unique,
        if_not_exists: ix.if_not_exists,
        options: &ix.options,
    }
}

/// A dialect option's value as a string, when it is one.
pub fn option_str<'a>(options: &'a DialectOptions, dialect: &str, name: &str) -> Option<&'a str> {
    match options.get(dialect, name) {
        Some(Arg::Str(s)) => Some(s),
        _ => None,
    }
}

/// A dialect option's value as a bool (Python truthiness of `True`/`False`/`None`).
pub fn option_true(options: &DialectOptions, dialect: &str, name: &str) -> bool {
    matches!(options.get(dialect, name), Some(Arg::Bool(true)))
}

/// Refuse any dialect option of `dialect` on `options` other than `known` (what the backend
/// renders): SQLAlchemy would either render it or reject it, and `migrate` must not guess.
pub fn only_options(
    options: &DialectOptions,
    dialect: &str,
    known: &[&str],
    what: &str,
) -> Result<()> {
    for o in &options.0 {
        if o.dialect == dialect && !known.contains(&o.name.as_str()) {
            return Err(RenderError::new(format!(
                "{what} with {}_{}= (not rendered by migrate yet)",
                o.dialect, o.name
            )));
        }
    }
    Ok(())
}

/// Check a type against a drop-constraint kind requirement (used by dialects that must know
/// the constraint's type).
pub fn constraint_kind_name(kind: Option<ConstraintKind>) -> &'static str {
    match kind {
        Some(ConstraintKind::ForeignKey) => "foreignkey",
        Some(ConstraintKind::Primary) => "primary",
        Some(ConstraintKind::Unique) => "unique",
        Some(ConstraintKind::Check) => "check",
        None => "None",
    }
}
