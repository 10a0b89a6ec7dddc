//! PostgreSQL's DDL for Alembic operations: where SQLAlchemy's PostgreSQL dialect and
//! Alembic's `PostgresqlImpl` differ from the base rules of [`migrate_core::ops::compile`]
//! (`SERIAL` columns, `CREATE TYPE ... AS ENUM` before a table, `TIMESTAMP WITH TIME ZONE`,
//! `CREATE INDEX CONCURRENTLY ... USING ... WHERE ...`, `ALTER COLUMN ... TYPE ... USING`,
//! `COMMENT ON`).

use migrate_core::ops::compile::{
    self, column_type, only_options, option_str, option_true, DdlDialect, IndexDef, Result, Table,
    TableColumn,
};
use migrate_core::ops::{
    AlterColumn, Arg, DialectOptions, DropIndex, ForeignKeyConstraint, Operation,
    PrimaryKeyConstraint, RenderError, SqlType, TableRef, UniqueConstraint, Visit,
};
use migrate_core::Dialect;

use crate::dialect::PostgresDialect;

/// SQLAlchemy's PostgreSQL DDL and type compilers and Alembic's `PostgresqlImpl`.
pub(crate) struct PostgresDdl;

/// The statements `op` runs on PostgreSQL.
pub(crate) fn render(op: &Operation) -> Result<Vec<String>> {
    compile::render(&PostgresDdl, op)
}

/// Type names PostgreSQL already has (SQLAlchemy's `ischema_names`): an enum type named like
/// one of them needs a schema, or SQLAlchemy refuses to render it.
const BUILTIN_TYPES: &[&str] = &[
    "\"char\"",
    "_array",
    "bigint",
    "bit",
    "bit varying",
    "boolean",
    "bytea",
    "character",
    "character varying",
    "cidr",
    "citext",
    "date",
    "datemultirange",
    "daterange",
    "double precision",
    "float",
    "hstore",
    "inet",
    "int4multirange",
    "int4range",
    "int8multirange",
    "int8range",
    "integer",
    "interval",
    "json",
    "jsonb",
    "macaddr",
    "macaddr8",
    "money",
    "name",
    "nummultirange",
    "numrange",
    "numeric",
    "oid",
    "real",
    "regclass",
    "regconfig",
    "smallint",
    "text",
    "time",
    "time with time zone",
    "time without time zone",
    "timestamp",
    "timestamp with time zone",
    "timestamp without time zone",
    "tsmultirange",
    "tsquery",
    "tsrange",
    "tstzmultirange",
    "tstzrange",
    "tsvector",
    "uuid",
];

impl PostgresDdl {
    /// The name of an enum type (`format_type`): quoted, with its schema.
    fn type_name(&self, ty: &SqlType) -> Result<String> {
        let Some(name) = ty.details().name.as_deref().filter(|n| !n.is_empty()) else {
            return Err(RenderError::new(format!(
                "PostgreSQL {} type requires a name (SQLAlchemy raises CompileError)",
                ty.class.class_name()
            )));
        };
        let quoted = self.quote(name);
        match &ty.details().schema {
            Some(s) => Ok(format!("{}.{quoted}", self.quote(s))),
            None if BUILTIN_TYPES.contains(&name) => Err(RenderError::new(format!(
                "the enum type name '{name}' is a built-in PostgreSQL type (SQLAlchemy asks for \
                 an explicit schema)"
            ))),
            None => Ok(quoted),
        }
    }

    /// `TIMESTAMP(p) WITH TIME ZONE` / `TIME ...`, appended to `out`.
    fn with_time_zone(out: &mut String, name: &str, ty: &SqlType) {
        out.push_str(name);
        if let Some(p) = ty.precision {
            compile::push_parenthesized(out, p);
        }
        out.push_str(if ty.timezone {
            " WITH TIME ZONE"
        } else {
            " WITHOUT TIME ZONE"
        });
    }

    /// The quoted names of a `postgresql_<option>=` that is a name or a list of names.
    fn names(&self, options: &DialectOptions, option: &str) -> Result<Vec<String>> {
        let name = |a: &Arg| match a {
            Arg::Str(s) => Ok(self.quote(s)),
            _ => Err(RenderError::new(format!(
                "postgresql_{option}= with something other than names"
            ))),
        };
        match options.get("postgresql", option) {
            None | Some(Arg::None) => Ok(Vec::new()),
            Some(Arg::List(items)) => items.iter().map(name).collect(),
            Some(other) => Ok(vec![name(other)?]),
        }
    }

    /// ` INCLUDE (a, b)` of `postgresql_include=`.
    fn include(&self, options: &DialectOptions) -> Result<String> {
        let names = self.names(options, "include")?;
        Ok(if names.is_empty() {
            String::new()
        } else {
            format!(" INCLUDE ({})", names.join(", "))
        })
    }

    /// `NULLS NOT DISTINCT` / `NULLS DISTINCT` of `postgresql_nulls_not_distinct=`.
    fn nulls_distinct(options: &DialectOptions) -> &'static str {
        match options.get("postgresql", "nulls_not_distinct") {
            Some(Arg::Bool(true)) => "NULLS NOT DISTINCT",
            Some(Arg::Bool(false)) => "NULLS DISTINCT",
            _ => "",
        }
    }
}

/// PostgreSQL's `ON DELETE` pattern: keywords, optionally followed by a column list
/// (`SET NULL (a, b)`).
fn ondelete_phrase(action: &str) -> bool {
    let (words, cols) = match action.find('(') {
        Some(p) => (action[..p].trim_end(), Some(&action[p..])),
        None => (action, None),
    };
    if compile::sql_phrase(words).is_err() {
        return false;
    }
    let Some(cols) = cols else {
        return true;
    };
    let Some(inner) = cols
        .strip_prefix('(')
        .and_then(|s| s.trim_end().strip_suffix(')'))
    else {
        return false;
    };
    inner.split(',').all(|c| {
        let c = c.trim();
        (!c.is_empty() && c.chars().all(|ch| compile::is_word(ch) || ch == '$'))
            || (c.len() >= 2 && c.starts_with('"') && c.ends_with('"'))
    })
}

impl DdlDialect for PostgresDdl {
    fn name(&self) -> &'static str {
        "postgresql"
    }

    fn quote(&self, ident: &str) -> String {
        PostgresDialect.quote_identifier(ident)
    }

    fn push_quoted(&self, out: &mut String, ident: &str) {
        PostgresDialect.push_quoted(out, ident)
    }

    fn max_identifier_length(&self) -> usize {
        63
    }

    fn doubles_percents(&self) -> bool {
        true
    }

    fn supports_native_uuid(&self) -> bool {
        true
    }

    fn visit_type(&self, out: &mut String, visit: Visit, ty: &SqlType) -> Result<()> {
        use Visit as V;
        let text: String = match visit {
            V::Tsvector => "TSVECTOR".into(),
            V::Inet => "INET".into(),
            V::Cidr => "CIDR".into(),
            V::Citext => "CITEXT".into(),
            V::Macaddr => "MACADDR".into(),
            V::Money => "MONEY".into(),
            V::Oid => "OID".into(),
            V::FloatUpper => match ty.precision.filter(|p| *p > 0) {
                Some(p) => format!("FLOAT({p})"),
                None => "FLOAT".into(),
            },
            V::Double => "DOUBLE PRECISION".into(),
            V::Hstore => "HSTORE".into(),
            V::Json => "JSON".into(),
            V::Jsonb => "JSONB".into(),
            V::DateTime => return self.visit_type(out, V::Timestamp, ty),
            V::Enum if ty.details().native_enum => return self.visit_type(out, V::EnumUpper, ty),
            V::EnumUpper => self.type_name(ty)?,
            V::Timestamp => {
                Self::with_time_zone(out, "TIMESTAMP", ty);
                return Ok(());
            }
            V::TimeUpper => {
                Self::with_time_zone(out, "TIME", ty);
                return Ok(());
            }
            V::IntervalUpper => {
                let mut text = String::from("INTERVAL");
                if let Some(f) = &ty.details().fields {
                    text.push(' ');
                    text.push_str(f);
                }
                if let Some(p) = ty.precision {
                    text.push_str(&format!(" ({p})"));
                }
                text
            }
            // The generic `Interval` adapts to the native INTERVAL, its second_precision the
            // precision.
            V::Interval if ty.details().native => {
                let mut native = SqlType::new(migrate_core::ops::TypeClass::PgInterval);
                native.precision = ty.precision;
                return self.visit_type(out, V::IntervalUpper, &native);
            }
            V::Bit if ty.class != migrate_core::ops::TypeClass::PgBit => {
                return Err(RenderError::new(
                    "mysql.BIT on PostgreSQL (SQLAlchemy fails: it has no 'varying')",
                ))
            }
            V::Bit if ty.details().varying => format!(
                "BIT VARYING{}",
                ty.length.map(|l| format!("({l})")).unwrap_or_default()
            ),
            V::Bit => format!("BIT({})", ty.length.unwrap_or(1)),
            V::UuidUpper => "UUID".into(),
            V::LargeBinary | V::Bytea => "BYTEA".into(),
            V::Array => {
                let Some(item) = &ty.details().item else {
                    return Err(RenderError::new("ARRAY without an item type"));
                };
                if item.is_enum() || item.details().item.is_some() {
                    return Err(RenderError::new(
                        "ARRAY of an enum or of an ARRAY (not rendered by migrate yet)",
                    ));
                }
                let inner = compile::type_text(self, item)?;
                let brackets = "[]".repeat(ty.details().dimensions.unwrap_or(1) as usize);
                match inner.find(" COLLATE") {
                    Some(p) => format!("{}{brackets}{}", &inner[..p], &inner[p..]),
                    None => format!("{inner}{brackets}"),
                }
            }
            _ => return compile::generic_visit_type(self, out, visit, ty),
        };
        out.push_str(&text);
        Ok(())
    }

    fn column_specification(
        &self,
        spec: &mut String,
        table: &Table<'_>,
        col: &TableColumn<'_>,
    ) -> Result<()> {
        let c = col.column;
        self.push_quoted(spec, &c.name);
        let serial = col.primary_key && table.is_autoincrement(col) && !c.has_default;
        match (&c.type_, serial) {
            (Some(t), true) if t.is_big_integer() => spec.push_str(" BIGSERIAL"),
            (Some(t), true) if t.is_small_integer() => spec.push_str(" SMALLSERIAL"),
            (Some(_), true) => spec.push_str(" SERIAL"),
            _ => {
                spec.push(' ');
                column_type(self, spec, c)?;
                if let Some(d) = &c.server_default {
                    spec.push_str(" DEFAULT ");
                    self.push_default_sql(spec, d)?;
                }
            }
        }
        if !col.nullable {
            spec.push_str(" NOT NULL");
        }
        Ok(())
    }

    fn primary_key_constraint(
        &self,
        out: &mut String,
        table: &Table<'_>,
        pk: &PrimaryKeyConstraint,
    ) -> Result<()> {
        only_options(
            &pk.options,
            "postgresql",
            &["include"],
            "PrimaryKeyConstraint",
        )?;
        compile::primary_key_text(self, out, table, pk, &self.include(&pk.options)?)
    }

    fn unique_constraint(&self, out: &mut String, u: &UniqueConstraint) -> Result<()> {
        only_options(
            &u.options,
            "postgresql",
            &["include", "nulls_not_distinct"],
            "UniqueConstraint",
        )?;
        let distinct = match Self::nulls_distinct(&u.options) {
            "" => String::new(),
            d => format!("{d} "),
        };
        compile::unique_text(self, out, u, &distinct, &self.include(&u.options)?)
    }

    fn foreign_key_constraint(
        &self,
        out: &mut String,
        table: &TableRef,
        fk: &ForeignKeyConstraint,
    ) -> Result<()> {
        let _ = table;
        only_options(
            &fk.rules.options,
            "postgresql",
            &["not_valid"],
            "a foreign key",
        )?;
        compile::foreign_key_text(self, out, fk, true)?;
        if option_true(&fk.rules.options, "postgresql", "not_valid") {
            out.push_str(" NOT VALID");
        }
        Ok(())
    }

    fn ondelete(&self, out: &mut String, action: &str) -> Result<()> {
        if ondelete_phrase(action) {
            out.push_str(" ON DELETE ");
            out.push_str(action);
            Ok(())
        } else {
            Err(RenderError::new(format!(
                "the ON DELETE phrase {action:?} (SQLAlchemy accepts only keywords here)"
            )))
        }
    }

    fn post_create_table(&self, table: &Table<'_>) -> Result<String> {
        only_options(
            table.options,
            "postgresql",
            &["partition_by", "tablespace", "using", "inherits"],
            "create_table",
        )?;
        let mut opts = String::new();
        let inherits = self.names(table.options, "inherits")?;
        if !inherits.is_empty() {
            opts.push_str(&format!("\n INHERITS ({})", inherits.join(", ")));
        }
        if let Some(p) =
            option_str(table.options, "postgresql", "partition_by").filter(|p| !p.is_empty())
        {
            opts.push_str(&format!("\n PARTITION BY {p}"));
        }
        if let Some(u) = option_str(table.options, "postgresql", "using").filter(|u| !u.is_empty())
        {
            opts.push_str(&format!("\n USING {u}"));
        }
        if let Some(t) =
            option_str(table.options, "postgresql", "tablespace").filter(|t| !t.is_empty())
        {
            opts.push_str(&format!("\n TABLESPACE {}", self.quote(t)));
        }
        Ok(opts)
    }

    fn before_create_table(&self, table: &Table<'_>) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut created: Vec<String> = Vec::new();
        for col in &table.columns {
            let Some(t) = &col.column.type_ else {
                continue;
            };
            let native = match t.class {
                migrate_core::ops::TypeClass::Enum => t.details().native_enum,
                migrate_core::ops::TypeClass::PgEnum => t.details().create_type,
                _ => false,
            };
            if !native {
                continue;
            }
            let name = self.type_name(t)?;
            if created.contains(&name) {
                continue;
            }
            let values: Vec<String> = t
                .details()
                .values
                .iter()
                .map(|v| self.string_literal(v))
                .collect();
            out.push(format!(
                "CREATE TYPE {name} AS ENUM ({})",
                values.join(", ")
            ));
            created.push(name);
        }
        Ok(out)
    }

    fn create_index(&self, ix: &IndexDef<'_>) -> Result<String> {
        only_options(
            ix.options,
            "postgresql",
            &[
                "where",
                "using",
                "concurrently",
                "ops",
                "include",
                "nulls_not_distinct",
                "tablespace",
            ],
            "create_index",
        )?;
        let concurrently = if option_true(ix.options, "postgresql", "concurrently") {
            "CONCURRENTLY"
        } else {
            ""
        };
        let mut text = compile::create_index_head(ix, "", concurrently);
        self.push_constraint_name(&mut text, &ix.name)?;
        text.push_str(" ON ");
        self.push_table_name(&mut text, ix.table);
        text.push(' ');
        match ix.options.get("postgresql", "using") {
            None | Some(Arg::None) => {}
            Some(Arg::Str(u)) if u.is_empty() => {}
            Some(Arg::Str(u)) if u.chars().all(compile::is_word) => {
                text.push_str(&format!("USING {} ", u.to_lowercase()))
            }
            Some(_) => {
                return Err(RenderError::new(
                    "postgresql_using= that is not an index method name",
                ))
            }
        }
        let ops = match ix.options.get("postgresql", "ops") {
            None | Some(Arg::None) => Vec::new(),
            Some(Arg::Dict(pairs)) => pairs
                .iter()
                .map(|(k, v)| match (k, v) {
                    (Arg::Str(k), Arg::Str(v)) => Ok((k.as_str(), v.as_str())),
                    _ => Err(RenderError::new(
                        "postgresql_ops= that is not a dict of names",
                    )),
                })
                .collect::<Result<Vec<_>>>()?,
            Some(_) => return Err(RenderError::new("postgresql_ops= that is not a dict")),
        };
        // SQLAlchemy names a column by its name and an `sa.text(...)` element by its text
        // (Alembic's textual index element): an operator class goes after the one it names.
        let opclass = |key: &str| ops.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| *v);
        if let Some((key, _)) = ops.iter().find(|(k, _)| {
            !ix.expressions.iter().any(|e| match e {
                migrate_core::ops::IndexExpr::Column(c) | migrate_core::ops::IndexExpr::Text(c) => {
                    c == *k
                }
                _ => false,
            })
        }) {
            return Err(RenderError::new(format!(
                "postgresql_ops= naming {key}, which is not one of the index's columns or expressions"
            )));
        }
        text.push('(');
        for (k, e) in ix.expressions.iter().enumerate() {
            if k > 0 {
                text.push_str(", ");
            }
            compile::push_index_expression(self, &mut text, e);
            let key = match e {
                migrate_core::ops::IndexExpr::Column(c) | migrate_core::ops::IndexExpr::Text(c) => {
                    Some(c.as_str())
                }
                _ => None,
            };
            if let Some(class) = key.and_then(opclass) {
                text.push(' ');
                text.push_str(class);
            }
        }
        text.push(')');
        text.push_str(&self.include(ix.options)?);
        let distinct = Self::nulls_distinct(ix.options);
        if !distinct.is_empty() {
            text.push(' ');
            text.push_str(distinct);
        }
        if let Some(t) =
            option_str(ix.options, "postgresql", "tablespace").filter(|t| !t.is_empty())
        {
            text.push_str(&format!(" TABLESPACE {}", self.quote(t)));
        }
        match ix.options.get("postgresql", "where") {
            None | Some(Arg::None) => {}
            Some(Arg::Text(w)) => text.push_str(&format!(" WHERE {w}")),
            Some(_) => {
                return Err(RenderError::new(
                    "postgresql_where= other than sa.text(...) (SQLAlchemy wants a SQL expression)",
                ))
            }
        }
        Ok(text)
    }

    fn drop_index(&self, ix: &DropIndex) -> Result<String> {
        only_options(&ix.options, "postgresql", &["concurrently"], "drop_index")?;
        let mut text = String::from("DROP INDEX ");
        if option_true(&ix.options, "postgresql", "concurrently") {
            text.push_str("CONCURRENTLY ");
        }
        if ix.if_exists {
            text.push_str("IF EXISTS ");
        }
        compile::schema_qualified_index(self, &mut text, ix)?;
        Ok(text)
    }

    fn alter_column(&self, op: &AlterColumn) -> Result<Vec<String>> {
        only_options(&op.options, "postgresql", &["using"], "alter_column")?;
        let using = match op.options.get("postgresql", "using") {
            None | Some(Arg::None) => None,
            Some(Arg::Str(s)) => Some(s.as_str()),
            Some(Arg::Text(s)) => Some(s.as_str()),
            Some(_) => return Err(RenderError::new("postgresql_using= that is not a string")),
        };
        let mut out = Vec::new();
        match (&op.type_, using) {
            (Some(t), using) => out.push(format!(
                "ALTER TABLE {} ALTER COLUMN {} TYPE {} {}",
                self.table_name(&op.table),
                self.quote(&op.column),
                compile::type_text(self, t)?,
                using.map(|u| format!("USING {u}")).unwrap_or_default()
            )),
            (None, Some(_)) => {
                return Err(RenderError::new(
                    "postgresql_using must be used with the type_ parameter (Alembic raises CommandError)",
                ))
            }
            (None, None) => {}
        }
        out.extend(compile::alter_column_statements(self, op, false)?);
        Ok(out)
    }
    /// Alembic's PostgreSQL rename leaves the new name unqualified (`RENAME TO "new"`).
    fn rename_table(&self, op: &migrate_core::ops::RenameTable) -> Result<String> {
        Ok(format!(
            "ALTER TABLE {} RENAME TO {}",
            self.table_name(&op.table),
            self.quote(&op.new_name)
        ))
    }
}
