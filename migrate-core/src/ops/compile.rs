//! How an [`Operation`] becomes DDL: Alembic's sequence of statements per operation and
//! SQLAlchemy's base DDL compiler, with every place a SQLAlchemy dialect overrides the base
//! behaviour a method of [`DdlDialect`] that a backend overrides the same way.
//!
//! This module names no backend: its defaults are SQLAlchemy's `DDLCompiler`,
//! `GenericTypeCompiler` and Alembic's `DefaultImpl`; `migrate-sqlite`, `migrate-postgres`
//! and `migrate-mysql` implement [`DdlDialect`] with their dialect's differences and call
//! [`render`]. Statements come out as Alembic's offline mode prints them: stripped, tabs as
//! four spaces, without the `;`.

use super::{
    AddColumn, AlterColumn, Arg, Autoincrement, Batch, CheckConstraint, Column, ConstraintKind,
    CreateIndex, CreateTable, DialectOptions, DropConstraint, DropIndex, ForeignKeyConstraint,
    ForeignKeyRules, IndexExpr, Operation, PrimaryKeyConstraint, RenameTable, RenderError,
    ServerDefault, SqlType, TableElement, TableRef, UniqueConstraint, Visit,
};

/// The result of rendering.
pub type Result<T> = std::result::Result<T, RenderError>;

/// A constraint of a table being created or altered, as SQLAlchemy holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    /// `PRIMARY KEY (...)`.
    PrimaryKey(PrimaryKeyConstraint),
    /// `UNIQUE (...)`.
    Unique(UniqueConstraint),
    /// `FOREIGN KEY(...) REFERENCES ...`.
    ForeignKey(ForeignKeyConstraint),
    /// `CHECK (...)`.
    Check(CheckConstraint),
}

/// An index of a table being created (`index=True` on a column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDef {
    /// The name (`ix_<table>_<column>` for a column's index).
    pub name: String,
    /// The table.
    pub table: TableRef,
    /// The expressions.
    pub expressions: Vec<IndexExpr>,
    /// Unique index.
    pub unique: bool,
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// Dialect options.
    pub options: DialectOptions,
}

/// The `Table` SQLAlchemy builds for an operation: `op.create_table`'s, or the one-column
/// table Alembic builds around `op.add_column`'s column.
#[derive(Debug, Clone)]
pub struct Table<'a> {
    /// Name and schema.
    pub name: &'a TableRef,
    /// The columns, in order, with their nullability as the table decides it.
    pub columns: Vec<TableColumn<'a>>,
    /// The primary key: its constraint (explicit, or generated from `primary_key=True`).
    pub primary_key: Option<PrimaryKeyConstraint>,
    /// Whether the primary key came from column flags (SQLAlchemy's `_implicit_generated`).
    pub primary_key_implicit: bool,
    /// The other constraints in SQLAlchemy's order (explicit ones as written, then those the
    /// columns generate, column by column).
    pub constraints: Vec<Constraint>,
    /// Indexes the columns generate, column by column.
    pub indexes: Vec<IndexDef>,
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
        let columns: Vec<&Column> = op
            .elements
            .iter()
            .filter_map(|e| match e {
                TableElement::Column(c) => Some(c),
                _ => None,
            })
            .collect();
        let explicit: Vec<Constraint> = op
            .elements
            .iter()
            .filter_map(|e| match e {
                TableElement::PrimaryKey(pk) => Some(Constraint::PrimaryKey(pk.clone())),
                TableElement::Unique(u) => Some(Constraint::Unique(u.clone())),
                TableElement::ForeignKey(f) => Some(Constraint::ForeignKey(f.clone())),
                TableElement::Check(c) => Some(Constraint::Check(c.clone())),
                TableElement::Column(_) => None,
            })
            .collect();
        Table::build(
            &op.table,
            columns,
            explicit,
            &op.options,
            op.comment.as_deref(),
        )
    }

    /// Build the one-column table Alembic makes for `op.add_column`.
    pub fn for_add_column(op: &'a AddColumn, options: &'a DialectOptions) -> Result<Table<'a>> {
        Table::build(&op.table, vec![&op.column], Vec::new(), options, None)
    }

    fn build(
        name: &'a TableRef,
        columns: Vec<&'a Column>,
        explicit: Vec<Constraint>,
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
        for c in explicit {
            match c {
                Constraint::PrimaryKey(pk) => {
                    if explicit_pk.is_some() {
                        return Err(RenderError::new(format!(
                            "table '{}' has two PrimaryKeyConstraint arguments",
                            name.name
                        )));
                    }
                    explicit_pk = Some(pk)
                }
                other => constraints.push(other),
            }
        }
        let flagged: Vec<String> = columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.name.clone())
            .collect();
        let (primary_key, implicit) = match explicit_pk {
            Some(pk) => {
                if !flagged.is_empty() && flagged != pk.columns {
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
                (Some(pk), false)
            }
            None if flagged.is_empty() => (None, true),
            None => (
                Some(PrimaryKeyConstraint {
                    name: None,
                    columns: flagged,
                    deferrable: None,
                    initially: None,
                    options: DialectOptions::default(),
                }),
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
                constraints.push(Constraint::Unique(UniqueConstraint {
                    name: None,
                    columns: vec![c.name.clone()],
                    deferrable: None,
                    initially: None,
                    options: DialectOptions::default(),
                }));
            }
            for fk in &c.foreign_keys {
                let (referent, column) = split_target(&fk.target)?;
                constraints.push(Constraint::ForeignKey(ForeignKeyConstraint {
                    columns: vec![c.name.clone()],
                    referent,
                    referent_columns: vec![column],
                    rules: fk.rules.clone(),
                }));
            }
            if index {
                indexes.push(IndexDef {
                    // The default naming convention, `ix_%(column_0_label)s`.
                    name: match &name.schema {
                        Some(s) => format!("ix_{}_{}_{}", s.replace('.', "_"), name.name, c.name),
                        None => format!("ix_{}_{}", name.name, c.name),
                    },
                    table: name.clone(),
                    expressions: vec![IndexExpr::Column(c.name.clone())],
                    unique: c.unique == Some(true),
                    if_not_exists: false,
                    options: DialectOptions::default(),
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
        let pk_index: Vec<usize> = pk
            .columns
            .iter()
            .filter_map(|n| self.columns.iter().position(|c| &c.column.name == n))
            .collect();
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
        if let [only] = pk_index[..] {
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
        for i in pk_index {
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
        match &t.schema {
            Some(s) => format!("{}.{}", quote_dotted(self, s), self.quote(&t.name)),
            None => self.quote(&t.name),
        }
    }

    /// A constraint or index name, quoted, refused beyond the dialect's length limit.
    fn constraint_name(&self, name: &str) -> Result<String> {
        if name.chars().count() > self.max_identifier_length() {
            return Err(RenderError::new(format!(
                "the name '{name}' is longer than the {} characters {} allows (SQLAlchemy raises \
                 IdentifierError)",
                self.max_identifier_length(),
                self.name()
            )));
        }
        Ok(self.quote(name))
    }

    /// The SQL of a type (SQLAlchemy's type compiler, dispatching on `visit`).
    fn visit_type(&self, visit: Visit, ty: &SqlType) -> Result<String> {
        generic_visit_type(self, visit, ty)
    }

    /// The SQL of `ty`.
    fn type_sql(&self, ty: &SqlType) -> Result<String> {
        self.visit_type(ty.class.visit(), ty)
    }

    /// A SQL function call without arguments (`sa.func.now()`).
    fn function(&self, name: &str) -> String {
        generic_function(name)
    }

    /// What follows `DEFAULT` for `default` (`get_column_default_string`).
    fn default_sql(&self, default: &ServerDefault) -> Result<String> {
        Ok(match default {
            ServerDefault::Literal(s) => self.string_literal(s),
            ServerDefault::Text(s) => s.clone(),
            ServerDefault::Function(f) => self.function(f),
            ServerDefault::Bool(b) if self.supports_native_boolean() => {
                if *b { "true" } else { "false" }.to_string()
            }
            ServerDefault::Bool(b) => if *b { "1" } else { "0" }.to_string(),
        })
    }

    /// The column definition inside `CREATE TABLE` / `ADD COLUMN`
    /// (`get_column_specification`): `name TYPE [DEFAULT x] [NOT NULL]`.
    fn column_specification(&self, table: &Table<'_>, col: &TableColumn<'_>) -> Result<String> {
        let mut spec = format!(
            "{} {}",
            self.quote(&col.column.name),
            column_type(self, col.column)?
        );
        if let Some(d) = &col.column.server_default {
            spec.push_str(" DEFAULT ");
            spec.push_str(&self.default_sql(d)?);
        }
        if !col.nullable {
            spec.push_str(" NOT NULL");
        }
        let _ = table;
        Ok(spec)
    }

    /// `PRIMARY KEY (...)` inside `CREATE TABLE`, or `None` to leave it out.
    fn primary_key_constraint(
        &self,
        table: &Table<'_>,
        pk: &PrimaryKeyConstraint,
    ) -> Result<Option<String>> {
        primary_key_text(self, table, pk, "").map(Some)
    }

    /// `UNIQUE (...)`.
    fn unique_constraint(&self, u: &UniqueConstraint) -> Result<String> {
        unique_text(self, u, "", "")
    }

    /// `FOREIGN KEY(...) REFERENCES ...`, or `None` to leave it out of `CREATE TABLE`.
    fn foreign_key_constraint(
        &self,
        table: &TableRef,
        fk: &ForeignKeyConstraint,
    ) -> Result<Option<String>> {
        let _ = table;
        foreign_key_text(self, fk, &self.table_name(&fk.referent)).map(Some)
    }

    /// ` MATCH x`.
    fn constraint_match(&self, rules: &ForeignKeyRules) -> Result<String> {
        Ok(match &rules.match_ {
            Some(m) => format!(" MATCH {}", sql_phrase(m)?),
            None => String::new(),
        })
    }

    /// ` ON DELETE x`.
    fn ondelete(&self, action: &str) -> Result<String> {
        Ok(format!(" ON DELETE {}", sql_phrase(action)?))
    }

    /// ` ON DELETE x ON UPDATE y`.
    fn constraint_cascades(&self, rules: &ForeignKeyRules) -> Result<String> {
        let mut text = String::new();
        if let Some(d) = &rules.ondelete {
            text.push_str(&self.ondelete(d)?);
        }
        if let Some(u) = &rules.onupdate {
            text.push_str(&format!(" ON UPDATE {}", sql_phrase(u)?));
        }
        Ok(text)
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
    fn create_index(&self, ix: &IndexDef) -> Result<String> {
        let mut text = create_index_head(ix, "", "");
        text.push_str(&format!(
            "{} ON {} ({})",
            self.constraint_name(&ix.name)?,
            self.table_name(&ix.table),
            index_expressions(self, &ix.expressions)?
        ));
        Ok(text)
    }

    /// `DROP INDEX`.
    fn drop_index(&self, ix: &DropIndex) -> Result<String> {
        let mut text = String::from("DROP INDEX ");
        if ix.if_exists {
            text.push_str("IF EXISTS ");
        }
        text.push_str(&schema_qualified_index(self, ix)?);
        Ok(text)
    }

    /// `ALTER TABLE t ADD <constraint>`. `explicit` is false for the constraints a column
    /// generates (`op.add_column` with `unique=True` or a `ForeignKey`).
    fn add_constraint(
        &self,
        table: &TableRef,
        constraint: &Constraint,
        explicit: bool,
    ) -> Result<Option<String>> {
        let _ = explicit;
        let body = match constraint {
            Constraint::Unique(u) => self.unique_constraint(u)?,
            Constraint::ForeignKey(f) => match self.foreign_key_constraint(table, f)? {
                Some(s) => s,
                None => return Ok(None),
            },
            Constraint::Check(c) => check_text(self, c)?,
            Constraint::PrimaryKey(_) => {
                return Err(RenderError::new("adding a primary key constraint"));
            }
        };
        Ok(Some(format!(
            "ALTER TABLE {} ADD {body}",
            self.table_name(table)
        )))
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

/// `CHECK (condition)` with its name and deferrability.
pub fn check_text<D: DdlDialect + ?Sized>(d: &D, c: &CheckConstraint) -> Result<String> {
    let mut text = constraint_preamble(d, &c.name)?;
    text.push_str("CHECK (");
    text.push_str(&c.condition);
    text.push(')');
    text.push_str(&deferrability(c.deferrable, &c.initially)?);
    Ok(text)
}

/// A dotted schema name quoted part by part (Alembic's `quote_dotted`).
pub fn quote_dotted<D: DdlDialect + ?Sized>(d: &D, name: &str) -> String {
    name.split('.')
        .map(|p| d.quote(p))
        .collect::<Vec<_>>()
        .join(".")
}

/// Quoted names joined by `, `.
pub fn quoted_list<D: DdlDialect + ?Sized>(d: &D, names: &[String]) -> String {
    let mut text = String::with_capacity(names.iter().map(|n| n.len() + 4).sum());
    for (k, n) in names.iter().enumerate() {
        if k > 0 {
            text.push_str(", ");
        }
        d.push_quoted(&mut text, n);
    }
    text
}

/// `PRIMARY KEY (cols)` with its name and deferrability; `extra` goes before the
/// deferrability (PostgreSQL's `INCLUDE`).
pub fn primary_key_text<D: DdlDialect + ?Sized>(
    d: &D,
    table: &Table<'_>,
    pk: &PrimaryKeyConstraint,
    extra: &str,
) -> Result<String> {
    if pk.columns.is_empty() {
        return Ok(String::new());
    }
    let mut text = constraint_preamble(d, &pk.name)?;
    text.push_str(&primary_key_body(d, table, pk));
    text.push_str(extra);
    text.push_str(&deferrability(pk.deferrable, &pk.initially)?);
    Ok(text)
}

/// `UNIQUE (cols)` with its name and deferrability; `distinct` goes after `UNIQUE `
/// (PostgreSQL's `NULLS NOT DISTINCT `), `extra` before the deferrability.
pub fn unique_text<D: DdlDialect + ?Sized>(
    d: &D,
    u: &UniqueConstraint,
    distinct: &str,
    extra: &str,
) -> Result<String> {
    if u.columns.is_empty() {
        return Ok(String::new());
    }
    let mut text = constraint_preamble(d, &u.name)?;
    text.push_str(&format!(
        "UNIQUE {distinct}({})",
        quoted_list(d, &u.columns)
    ));
    text.push_str(extra);
    text.push_str(&deferrability(u.deferrable, &u.initially)?);
    Ok(text)
}

/// `FOREIGN KEY(cols) REFERENCES remote (cols)` with its name, match, cascades and
/// deferrability.
pub fn foreign_key_text<D: DdlDialect + ?Sized>(
    d: &D,
    fk: &ForeignKeyConstraint,
    remote: &str,
) -> Result<String> {
    let mut text = constraint_preamble(d, &fk.rules.name)?;
    text.reserve(64 + remote.len());
    text.push_str("FOREIGN KEY(");
    text.push_str(&quoted_list(d, &fk.columns));
    text.push_str(") REFERENCES ");
    text.push_str(remote);
    text.push_str(" (");
    text.push_str(&quoted_list(d, &fk.referent_columns));
    text.push(')');
    text.push_str(&d.constraint_match(&fk.rules)?);
    text.push_str(&d.constraint_cascades(&fk.rules)?);
    text.push_str(&deferrability(fk.rules.deferrable, &fk.rules.initially)?);
    Ok(text)
}

/// `CREATE [UNIQUE] [prefix ]INDEX [modifier ][IF NOT EXISTS] ` (MySQL's prefix,
/// PostgreSQL's `CONCURRENTLY`).
pub fn create_index_head(ix: &IndexDef, prefix: &str, modifier: &str) -> String {
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

/// `CONSTRAINT name ` when the constraint is named.
pub fn constraint_preamble<D: DdlDialect + ?Sized>(d: &D, name: &Option<String>) -> Result<String> {
    Ok(match name {
        Some(n) => format!("CONSTRAINT {} ", d.constraint_name(n)?),
        None => String::new(),
    })
}

/// `PRIMARY KEY (cols)`, the autoincrement column first for a generated primary key.
pub fn primary_key_body<D: DdlDialect + ?Sized>(
    d: &D,
    table: &Table<'_>,
    pk: &PrimaryKeyConstraint,
) -> String {
    let mut cols: Vec<String> = pk.columns.clone();
    if table.primary_key_implicit {
        if let Some(i) = table.autoincrement {
            let name = &table.columns[i].column.name;
            if let Some(p) = cols.iter().position(|c| c == name) {
                let c = cols.remove(p);
                cols.insert(0, c);
            }
        }
    }
    format!("PRIMARY KEY ({})", quoted_list(d, &cols))
}

/// ` DEFERRABLE` / ` NOT DEFERRABLE`, ` INITIALLY x`.
pub fn deferrability(deferrable: Option<bool>, initially: &Option<String>) -> Result<String> {
    let mut text = String::new();
    match deferrable {
        Some(true) => text.push_str(" DEFERRABLE"),
        Some(false) => text.push_str(" NOT DEFERRABLE"),
        None => {}
    }
    if let Some(i) = initially {
        text.push_str(&format!(" INITIALLY {}", sql_phrase(i)?));
    }
    Ok(text)
}

/// Python's `\w` for one character (letters and digits of any script, `_`).
pub fn is_word(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// SQLAlchemy's `validate_sql_phrase`: keywords separated by whitespace (`SET NULL`), else
/// its `CompileError`.
pub fn sql_phrase(phrase: &str) -> Result<&str> {
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
    Ok(match e {
        IndexExpr::Column(c) => d.quote(c),
        IndexExpr::Text(t) => t.clone(),
    })
}

/// The indexed expressions, joined by `, `.
pub fn index_expressions<D: DdlDialect + ?Sized>(d: &D, exprs: &[IndexExpr]) -> Result<String> {
    Ok(exprs
        .iter()
        .map(|e| index_expression(d, e))
        .collect::<Result<Vec<_>>>()?
        .join(", "))
}

/// `schema.name` of the index `op.drop_index` names (its table's schema, or `schema=`).
pub fn schema_qualified_index<D: DdlDialect + ?Sized>(d: &D, ix: &DropIndex) -> Result<String> {
    let schema = ix
        .table
        .as_ref()
        .and_then(|t| t.schema.as_ref())
        .or(ix.schema.as_ref());
    let name = d.constraint_name(&ix.name)?;
    Ok(match schema {
        Some(s) => format!("{}.{name}", d.quote(s)),
        None => name,
    })
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

/// The type of a column, or SQLAlchemy's error for a column without one.
pub fn column_type<D: DdlDialect + ?Sized>(d: &D, col: &Column) -> Result<String> {
    match &col.type_ {
        Some(t) => d.type_sql(t),
        None => Err(RenderError::new(format!(
            "column '{}' has no type (SQLAlchemy cannot generate DDL for NullType)",
            col.name
        ))),
    }
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
    name: &str,
    length: Option<u32>,
    collation: &Option<String>,
) -> String {
    let mut text = name.to_string();
    if let Some(l) = length.filter(|l| *l > 0) {
        text.push_str(&format!("({l})"));
    }
    if let Some(c) = collation {
        text.push_str(" COLLATE ");
        text.push_str(&d.quote(c));
    }
    text
}

fn numeric_type(name: &str, ty: &SqlType) -> String {
    match (ty.precision, ty.scale) {
        (None, _) => name.to_string(),
        (Some(p), None) => format!("{name}({p})"),
        (Some(p), Some(s)) => format!("{name}({p}, {s})"),
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

/// SQLAlchemy's `GenericTypeCompiler`.
pub fn generic_visit_type<D: DdlDialect + ?Sized>(
    d: &D,
    visit: Visit,
    ty: &SqlType,
) -> Result<String> {
    use Visit as V;
    Ok(match visit {
        V::FloatUpper => "FLOAT".into(),
        V::DoubleUpper => "DOUBLE".into(),
        V::Float => return d.visit_type(V::FloatUpper, ty),
        V::Double => return d.visit_type(V::DoubleUpper, ty),
        V::DoublePrecision => "DOUBLE PRECISION".into(),
        V::Real => "REAL".into(),
        V::NumericUpper => numeric_type("NUMERIC", ty),
        V::Numeric => return d.visit_type(V::NumericUpper, ty),
        V::Decimal => numeric_type("DECIMAL", ty),
        V::IntegerUpper => "INTEGER".into(),
        V::Smallint => "SMALLINT".into(),
        V::Bigint => "BIGINT".into(),
        V::Integer => return d.visit_type(V::IntegerUpper, ty),
        V::SmallInteger => return d.visit_type(V::Smallint, ty),
        V::BigInteger => return d.visit_type(V::Bigint, ty),
        V::Timestamp => "TIMESTAMP".into(),
        V::DatetimeUpper => "DATETIME".into(),
        V::DateUpper => "DATE".into(),
        V::TimeUpper => "TIME".into(),
        V::DateTime => return d.visit_type(V::DatetimeUpper, ty),
        V::Date => return d.visit_type(V::DateUpper, ty),
        V::Time => return d.visit_type(V::TimeUpper, ty),
        V::Clob => "CLOB".into(),
        V::Char => string_type(d, "CHAR", ty.length, &ty.collation),
        V::Nchar => string_type(d, "NCHAR", ty.length, &ty.collation),
        V::Varchar => string_type(d, "VARCHAR", ty.length, &ty.collation),
        V::Nvarchar => string_type(d, "NVARCHAR", ty.length, &ty.collation),
        V::TextUpper => string_type(d, "TEXT", ty.length, &ty.collation),
        V::UuidUpper => "UUID".into(),
        V::Blob => "BLOB".into(),
        V::Binary => format!(
            "BINARY{}",
            ty.length
                .filter(|l| *l > 0)
                .map(|l| format!("({l})"))
                .unwrap_or_default()
        ),
        V::Varbinary => format!(
            "VARBINARY{}",
            ty.length
                .filter(|l| *l > 0)
                .map(|l| format!("({l})"))
                .unwrap_or_default()
        ),
        V::BooleanUpper => "BOOLEAN".into(),
        V::Uuid if !ty.details().native_uuid || !d.supports_native_uuid() => {
            string_type(d, "CHAR", Some(32), &None)
        }
        V::Uuid => return d.visit_type(V::UuidUpper, ty),
        V::LargeBinary => return d.visit_type(V::Blob, ty),
        V::Boolean => return d.visit_type(V::BooleanUpper, ty),
        V::String | V::Unicode => return d.visit_type(V::Varchar, ty),
        V::Text | V::UnicodeText => return d.visit_type(V::TextUpper, ty),
        V::Enum => return d.visit_type(V::Varchar, &enum_as_string(ty)),
        // An emulated type over `DateTime` (PostgreSQL adapts it to its native INTERVAL).
        V::Interval => return d.visit_type(V::DateTime, &SqlType::new(super::TypeClass::DateTime)),
        _ => return Err(unsupported(d, ty)),
    })
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
    text.push_str(&d.table_name(&op.table));
    text.push_str(" (");
    let mut separator = "\n";
    for col in &table.columns {
        text.push_str(separator);
        separator = ", \n";
        text.push_str("    ");
        text.push_str(&d.column_specification(&table, col)?);
    }
    let mut constraints = Vec::new();
    if let Some(pk) = &table.primary_key {
        if let Some(s) = d.primary_key_constraint(&table, pk)? {
            constraints.push(s);
        }
    }
    for c in &table.constraints {
        match c {
            Constraint::Unique(u) => constraints.push(d.unique_constraint(u)?),
            Constraint::ForeignKey(f) => {
                if f.rules.use_alter && d.supports_alter() {
                    continue;
                }
                if let Some(s) = d.foreign_key_constraint(&op.table, f)? {
                    constraints.push(s);
                }
            }
            Constraint::Check(c) => constraints.push(check_text(d, c)?),
            Constraint::PrimaryKey(_) => {}
        }
    }
    let constraints: Vec<String> = constraints.into_iter().filter(|c| !c.is_empty()).collect();
    if !constraints.is_empty() {
        text.push_str(separator);
        let mut separator = "    ";
        for c in &constraints {
            text.push_str(separator);
            separator = ", \n    ";
            text.push_str(c);
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
    let no_options = DialectOptions::default();
    let table = Table::for_add_column(op, &no_options)?;
    check_schema_types(&table)?;
    let col = &table.columns[0];
    let mut text = format!("ALTER TABLE {} ADD COLUMN ", d.table_name(&op.table));
    if op.if_not_exists {
        text.push_str("IF NOT EXISTS ");
    }
    text.push_str(&d.column_specification(&table, col)?);
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
            out.push(format!("{alter} {column} TYPE {}", d.type_sql(t)?));
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
pub fn finish<D: DdlDialect + ?Sized>(d: &D, statements: Vec<String>) -> Result<Vec<String>> {
    let mut out = Vec::with_capacity(statements.len());
    for mut s in statements {
        if s.contains('\t') {
            s = s.replace('\t', "    ");
        }
        if s.trim().len() != s.len() {
            s = s.trim().to_string();
        }
        if d.doubles_percents() && s.contains('%') {
            return Err(RenderError::new(format!(
                "DDL holding a '%' on {} (Alembic's offline script doubles it for the driver, so \
                 the script and what Alembic runs would differ)",
                d.name()
            )));
        }
        out.push(s);
    }
    Ok(out)
}

/// The statements `op` renders to on `d`.
pub fn render<D: DdlDialect + ?Sized>(d: &D, op: &Operation) -> Result<Vec<String>> {
    let out = match op {
        Operation::CreateTable(t) => return d.create_table(t),
        Operation::AddColumn(a) => return d.add_column(a),
        Operation::DropTable(t) => vec![format!(
            "DROP TABLE {}{}",
            if t.if_exists { "IF EXISTS " } else { "" },
            d.table_name(&t.table)
        )],
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
                &Constraint::ForeignKey(f.constraint.clone()),
                true,
            )? {
                Some(s) => vec![s],
                None => Vec::new(),
            }
        }
        Operation::CreateUniqueConstraint(u) => {
            match d.add_constraint(&u.table, &Constraint::Unique(u.constraint.clone()), true)? {
                Some(s) => vec![s],
                None => Vec::new(),
            }
        }
        Operation::DropConstraint(c) => vec![d.drop_constraint(c)?],
        Operation::RenameTable(t) => vec![d.rename_table(t)?],
        Operation::CreateCheckConstraint(c) => {
            match d.add_constraint(&c.table, &Constraint::Check(c.constraint.clone()), true)? {
                Some(s) => vec![s],
                None => Vec::new(),
            }
        }
        Operation::Batch(b) => d.batch(b)?,
    };
    finish(d, out)
}

/// The [`IndexDef`] of `op.create_index`.
pub fn index_def(ix: &CreateIndex) -> IndexDef {
    IndexDef {
        name: ix.name.clone(),
        table: ix.table.clone(),
        expressions: ix.expressions.clone(),
        unique: ix.unique,
        if_not_exists: ix.if_not_exists,
        options: ix.options.clone(),
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
