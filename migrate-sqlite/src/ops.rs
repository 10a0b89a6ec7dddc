//! SQLite's DDL for Alembic operations: where SQLAlchemy's SQLite dialect and Alembic's
//! `SQLiteImpl` differ from the base rules of [`migrate_core::ops::compile`].
//!
//! SQLite cannot `ALTER` constraints, so Alembic refuses `create_foreign_key`,
//! `create_unique_constraint`, `drop_constraint` and a column's own foreign key or unique flag
//! in `add_column` there (its batch mode is the way); `migrate` refuses them the same way.

use migrate_core::ops::compile::{
    self, column_type, is_word, only_options, option_true, Constraint, DdlDialect, IndexDef,
    Result, Table, TableColumn,
};
use migrate_core::ops::{
    AlterColumn, DropConstraint, ForeignKeyConstraint, Operation, PrimaryKeyConstraint,
    RenderError, SqlType, TableRef, UniqueConstraint, Visit,
};
use migrate_core::Dialect;

use crate::dialect::SqliteDialect;

/// SQLAlchemy's SQLite DDL compiler and Alembic's `SQLiteImpl`.
pub(crate) struct SqliteDdl;

/// The statements `op` runs on SQLite.
pub(crate) fn render(op: &Operation) -> Result<Vec<String>> {
    compile::render(&SqliteDdl, op)
}

/// SQLAlchemy wraps a default in parentheses unless it starts with a quote or a parenthesis,
/// or is a single word (`re.match(r".*\W.*", default)`).
fn needs_parentheses(default: &str) -> bool {
    let starts_quoted = default.trim_start().starts_with(['\'', '"', '(']);
    !starts_quoted && default.chars().any(|c| !is_word(c))
}

fn not_alterable() -> RenderError {
    RenderError::new(
        "SQLite cannot ALTER constraints (Alembic raises NotImplementedError; its batch mode \
         recreates the table instead)",
    )
}

impl DdlDialect for SqliteDdl {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn quote(&self, ident: &str) -> String {
        SqliteDialect.quote_identifier(ident)
    }

    fn push_quoted(&self, out: &mut String, ident: &str) {
        SqliteDialect.push_quoted(out, ident)
    }

    fn supports_comments(&self) -> bool {
        false
    }

    fn supports_alter(&self) -> bool {
        false
    }

    fn supports_native_boolean(&self) -> bool {
        false
    }

    fn visit_type(&self, out: &mut String, visit: Visit, ty: &SqlType) -> Result<()> {
        match visit {
            Visit::LargeBinary => self.visit_type(out, Visit::Blob, ty),
            Visit::Json => {
                out.push_str("JSON");
                Ok(())
            }
            Visit::Jsonb => {
                out.push_str("JSONB");
                Ok(())
            }
            _ => compile::generic_visit_type(self, out, visit, ty),
        }
    }

    fn function(&self, name: &str) -> String {
        if name.eq_ignore_ascii_case("now") {
            "CURRENT_TIMESTAMP".into()
        } else {
            compile::generic_function(name)
        }
    }

    fn column_specification(
        &self,
        spec: &mut String,
        table: &Table<'_>,
        col: &TableColumn<'_>,
    ) -> Result<()> {
        let c = col.column;
        self.push_quoted(spec, &c.name);
        spec.push(' ');
        column_type(self, spec, c)?;
        if let Some(d) = &c.server_default {
            spec.push_str(" DEFAULT ");
            let start = spec.len();
            self.push_default_sql(spec, d)?;
            if needs_parentheses(&spec[start..]) {
                spec.insert(start, '(');
                spec.push(')');
            }
        }
        if !col.nullable {
            spec.push_str(" NOT NULL");
        }
        if col.primary_key {
            let pk_len = table.primary_key.as_ref().map_or(0, |p| p.columns.len());
            if c.autoincrement == migrate_core::ops::Autoincrement::Yes && pk_len != 1 {
                return Err(RenderError::new(
                    "SQLite does not support autoincrement for composite primary keys",
                ));
            }
            if inline_primary_key(table, col) {
                spec.push_str(" PRIMARY KEY AUTOINCREMENT");
            }
        }
        Ok(())
    }

    fn primary_key_constraint(
        &self,
        out: &mut String,
        table: &Table<'_>,
        pk: &PrimaryKeyConstraint,
    ) -> Result<()> {
        only_options(&pk.options, "sqlite", &[], "PrimaryKeyConstraint")?;
        if let [only] = pk.columns.as_slice() {
            if table
                .column(only)
                .is_some_and(|c| inline_primary_key(table, c))
            {
                return Ok(());
            }
        }
        compile::primary_key_text(self, out, table, pk, "")
    }

    fn unique_constraint(&self, out: &mut String, u: &UniqueConstraint) -> Result<()> {
        only_options(&u.options, "sqlite", &[], "UniqueConstraint")?;
        compile::unique_text(self, out, u, "", "")
    }

    fn foreign_key_constraint(
        &self,
        out: &mut String,
        table: &TableRef,
        fk: &ForeignKeyConstraint,
    ) -> Result<()> {
        // SQLite leaves out a foreign key to a table in another schema (attached database).
        if table.schema != fk.referent.schema {
            return Ok(());
        }
        compile::foreign_key_text(self, out, fk, false)
    }

    fn post_create_table(&self, table: &Table<'_>) -> Result<String> {
        only_options(
            table.options,
            "sqlite",
            &["autoincrement", "with_rowid", "strict"],
            "create_table",
        )?;
        let mut opts = Vec::new();
        if matches!(
            table.options.get("sqlite", "with_rowid"),
            Some(migrate_core::ops::Arg::Bool(false))
        ) {
            opts.push("WITHOUT ROWID");
        }
        if option_true(table.options, "sqlite", "strict") {
            opts.push("STRICT");
        }
        Ok(if opts.is_empty() {
            String::new()
        } else {
            format!("\n {}", opts.join(",\n "))
        })
    }

    fn create_index(&self, ix: &IndexDef<'_>) -> Result<String> {
        only_options(ix.options, "sqlite", &["where"], "create_index")?;
        let mut text = compile::create_index_head(ix, "", "");
        if let Some(s) = &ix.table.schema {
            self.push_quoted(&mut text, s);
            text.push('.');
        }
        self.push_constraint_name(&mut text, &ix.name)?;
        text.push_str(" ON ");
        self.push_quoted(&mut text, &ix.table.name);
        text.push_str(" (");
        compile::index_expressions(self, &mut text, &ix.expressions)?;
        text.push(')');
        match ix.options.get("sqlite", "where") {
            None | Some(migrate_core::ops::Arg::None) => {}
            Some(migrate_core::ops::Arg::Text(w)) => {
                text.push_str(" WHERE ");
                text.push_str(w);
            }
            Some(_) => {
                return Err(RenderError::new(
                    "sqlite_where= other than sa.text(...) (not rendered by migrate yet)",
                ))
            }
        }
        Ok(text)
    }

    fn add_constraint(
        &self,
        table: &TableRef,
        constraint: &Constraint<'_>,
        explicit: bool,
    ) -> Result<Option<String>> {
        let _ = (table, constraint, explicit);
        Err(not_alterable())
    }

    fn drop_constraint(&self, op: &DropConstraint) -> Result<String> {
        let _ = op;
        Err(not_alterable())
    }

    fn alter_column(&self, op: &AlterColumn) -> Result<Vec<String>> {
        // Alembic's SQLite implementation renames with RENAME COLUMN; the rest is the base
        // ALTER COLUMN text (which SQLite itself then refuses, as it does under Alembic).
        if op.comment.is_some() {
            return Err(RenderError::new(
                "alter_column(comment=...) on SQLite (Alembic has no SQLite rendering for column comments)",
            ));
        }
        let mut out = compile::generic_alter_column(self, op)?;
        if let Some(new) = &op.new_column_name {
            if let Some(last) = out.last_mut() {
                *last = format!(
                    "ALTER TABLE {} RENAME COLUMN {} TO {}",
                    self.table_name(&op.table),
                    self.quote(&op.column),
                    self.quote(new)
                );
            }
        }
        Ok(out)
    }
    /// Alembic's SQLite rename leaves the new name unqualified (`RENAME TO "new"`).
    fn rename_table(&self, op: &migrate_core::ops::RenameTable) -> Result<String> {
        Ok(format!(
            "ALTER TABLE {} RENAME TO {}",
            self.table_name(&op.table),
            self.quote(&op.new_name)
        ))
    }

    /// Alembic's `SQLiteImpl.requires_recreate_in_batch`: a batch holding only indexes and
    /// added columns (without a SQL-expression server default) runs as plain operations; any
    /// other makes Alembic recreate the table, which it cannot do offline.
    fn batch(&self, op: &migrate_core::ops::Batch) -> Result<Vec<String>> {
        use migrate_core::ops::ServerDefault;
        let recreate = op.operations.iter().any(|o| match o {
            Operation::CreateIndex(_) | Operation::DropIndex(_) => false,
            // The column's own unique flag (without index=True) or foreign key is an
            // add_constraint in the batch.
            Operation::AddColumn(a) => {
                !matches!(
                    a.column.server_default,
                    None | Some(ServerDefault::Literal(_))
                ) || (a.column.unique == Some(true) && a.column.index != Some(true))
                    || !a.column.foreign_keys.is_empty()
            }
            _ => true,
        });
        if recreate {
            return Err(RenderError::new(format!(
                "batch_alter_table on SQLite with {} (Alembic recreates the table there, which                  needs a live database to reflect it: offline it raises CommandError)",
                op.operations
                    .iter()
                    .find(|o| !matches!(
                        o,
                        Operation::CreateIndex(_) | Operation::DropIndex(_) | Operation::AddColumn(_)
                    ))
                    .map_or(
                        "an added column with a SQL-expression server_default, a unique flag \
                         or a foreign key",
                        |o| o.name()
                    )
            )));
        }
        let mut out = Vec::new();
        for o in &op.operations {
            out.extend(compile::render(self, o)?);
        }
        Ok(out)
    }
}

/// SQLite puts `PRIMARY KEY AUTOINCREMENT` on the column itself for a single integer primary
/// key without foreign keys when the table says `sqlite_autoincrement=True`.
fn inline_primary_key(table: &Table<'_>, col: &TableColumn<'_>) -> bool {
    col.primary_key
        && option_true(table.options, "sqlite", "autoincrement")
        && table
            .primary_key
            .as_ref()
            .is_some_and(|p| p.columns.len() == 1)
        && col.column.type_.as_ref().is_some_and(SqlType::is_integer)
        && !table.has_foreign_key(&col.column.name)
}
