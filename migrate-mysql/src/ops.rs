//! MySQL's DDL for Alembic operations: where SQLAlchemy's MySQL dialect and Alembic's
//! `MySQLImpl` differ from the base rules of [`migrate_core::ops::compile`] (column options
//! in MySQL's order with `AUTO_INCREMENT` and inline `COMMENT`, table options, `ALTER TABLE
//! ... MODIFY`/`CHANGE` with the whole column definition, `DROP FOREIGN KEY`/`DROP INDEX`,
//! `DROP INDEX ... ON table`, prefix lengths of index columns).
//!
//! The rendering is Alembic's for a `mysql://` URL, which is also what it runs on MariaDB for
//! every construct here except `drop_constraint(type_="check")` (refused, see below).

use migrate_core::ops::compile::{
    self, column_type, only_options, option_str, DdlDialect, IndexDef, Result, Table, TableColumn,
};
use migrate_core::ops::{
    AlterColumn, Arg, ConstraintKind, DropConstraint, DropIndex, ForeignKeyRules, IndexExpr,
    Operation, PrimaryKeyConstraint, RenderError, ServerDefault, SqlType, TypeModule, Visit,
};
use migrate_core::Dialect;

use crate::dialect::MysqlDialect;

/// SQLAlchemy's MySQL DDL and type compilers and Alembic's `MySQLImpl`.
pub(crate) struct MysqlDdl;

/// The statements `op` runs on MySQL / MariaDB.
pub(crate) fn render(op: &Operation) -> Result<Vec<String>> {
    compile::render(&MysqlDdl, op)
}

/// True for the MySQL dialect's own string and numeric classes, which carry `unsigned`,
/// `charset`, ... (`_mysql_type`).
fn mysql_type(ty: &SqlType) -> bool {
    ty.class.module() == TypeModule::Mysql
}

impl MysqlDdl {
    /// `_extend_numeric`: ` UNSIGNED`, ` ZEROFILL` on MySQL's numeric classes.
    fn numeric(ty: &SqlType, spec: String) -> String {
        let mut spec = spec;
        if mysql_type(ty) {
            if ty.details().unsigned {
                spec.push_str(" UNSIGNED");
            }
            if ty.details().zerofill {
                spec.push_str(" ZEROFILL");
            }
        }
        spec
    }

    /// `_extend_string`: character set and collation annotations.
    fn string(ty: &SqlType, national: bool, spec: String) -> String {
        let own = mysql_type(ty);
        let charset = if own && ty.details().charset.is_some() {
            ty.details()
                .charset
                .as_ref()
                .map(|c| format!("CHARACTER SET {c}"))
        } else if own && ty.details().ascii {
            Some("ASCII".into())
        } else if own && ty.details().unicode {
            Some("UNICODE".into())
        } else {
            None
        };
        let collation = if let Some(c) = &ty.collation {
            Some(format!("COLLATE {c}"))
        } else if own && ty.details().binary {
            Some("BINARY".into())
        } else {
            None
        };
        let parts: Vec<String> = if national || (own && ty.details().national) {
            [Some("NATIONAL".to_string()), Some(spec), collation]
                .into_iter()
                .flatten()
                .collect()
        } else {
            [Some(spec), charset, collation]
                .into_iter()
                .flatten()
                .collect()
        };
        parts.join(" ")
    }

    /// `ENUM('a','b')` / `SET(...)`.
    fn enumerated(&self, name: &str, ty: &SqlType) -> String {
        let values: Vec<String> = ty
            .details()
            .values
            .iter()
            .map(|v| format!("'{}'", v.replace('\'', "''").replace('\\', "\\\\")))
            .collect();
        Self::string(ty, false, format!("{name}({})", values.join(",")))
    }

    /// The integer types: `NAME(display_width)` on MySQL's own classes.
    fn integer(name: &str, ty: &SqlType) -> String {
        let spec = match ty.details().display_width {
            Some(w) if mysql_type(ty) => format!("{name}({w})"),
            _ => name.to_string(),
        };
        Self::numeric(ty, spec)
    }

    /// Alembic's `_mysql_colspec` for `MODIFY` / `CHANGE`.
    fn alter_colspec(
        &self,
        ty: &SqlType,
        nullable: bool,
        default: Option<&ServerDefault>,
        autoincrement: bool,
        comment: Option<&str>,
    ) -> Result<String> {
        let mut spec = format!(
            "{} {}",
            compile::type_text(self, ty)?,
            if nullable { "NULL" } else { "NOT NULL" }
        );
        if autoincrement {
            spec.push_str(" AUTO_INCREMENT");
        }
        if let Some(d) = default {
            spec.push_str(&format!(" DEFAULT {}", self.default_sql(d)?));
        }
        if let Some(c) = comment {
            spec.push_str(&format!(" COMMENT {}", self.string_literal(c)));
        }
        Ok(spec)
    }
}

/// SQLAlchemy parenthesizes a default that is an expression (`DEFAULT (now())`), not a
/// literal, a parenthesized text, an `ON UPDATE` clause or `now(n)`/`current_timestamp(n)`.
fn default_needs_parentheses(default: &str) -> bool {
    let lower = default.to_ascii_lowercase();
    let starts_quoted = default.trim_start().starts_with(['\'', '"', '(']);
    // `re.search(r"ON +UPDATE", default, re.I)`
    let on_update = lower.match_indices("on").any(|(p, _)| {
        let rest = &lower[p + 2..];
        let spaces = rest.len() - rest.trim_start_matches(' ').len();
        spaces > 0 && rest[spaces..].starts_with("update")
    });
    let timestamp_precision = ["now(", "current_timestamp("].iter().any(|f| {
        lower.strip_prefix(f).is_some_and(|rest| {
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            digits > 0 && rest[digits..].starts_with(')')
        })
    });
    !starts_quoted
        && !on_update
        && !timestamp_precision
        && default.chars().any(|c| !compile::is_word(c))
}

impl DdlDialect for MysqlDdl {
    fn name(&self) -> &'static str {
        "mysql"
    }

    fn quote(&self, ident: &str) -> String {
        MysqlDialect.quote_identifier(ident)
    }

    fn push_quoted(&self, out: &mut String, ident: &str) {
        MysqlDialect.push_quoted(out, ident)
    }

    fn max_identifier_length(&self) -> usize {
        64
    }

    fn doubles_percents(&self) -> bool {
        true
    }

    fn string_literal(&self, value: &str) -> String {
        MysqlDialect.string_literal(value)
    }

    fn inline_comments(&self) -> bool {
        true
    }

    /// MySQL's compiler writes `true`/`false` although the dialect has no native boolean.
    fn supports_native_boolean(&self) -> bool {
        true
    }

    fn visit_type(&self, out: &mut String, visit: Visit, ty: &SqlType) -> Result<()> {
        use Visit as V;
        // The generic classes' integers, without MySQL's display width and flags.
        if !mysql_type(ty) {
            let name = match visit {
                V::IntegerUpper => "INTEGER",
                V::Bigint => "BIGINT",
                V::Smallint => "SMALLINT",
                _ => "",
            };
            if !name.is_empty() {
                out.push_str(name);
                return Ok(());
            }
        }
        let num = |name: &str| -> String {
            match (ty.precision, ty.scale) {
                (None, _) => name.to_string(),
                (Some(p), None) => format!("{name}({p})"),
                (Some(p), Some(s)) => format!("{name}({p}, {s})"),
            }
        };
        let text: String = match visit {
            V::NumericUpper => Self::numeric(ty, num("NUMERIC")),
            V::Decimal => Self::numeric(ty, num("DECIMAL")),
            V::DoubleUpper | V::Real => {
                let name = if visit == V::Real { "REAL" } else { "DOUBLE" };
                match (ty.precision, ty.scale) {
                    (Some(p), Some(s)) => Self::numeric(ty, format!("{name}({p}, {s})")),
                    _ => Self::numeric(ty, name.to_string()),
                }
            }
            V::FloatUpper => match (ty.precision, ty.scale) {
                (Some(p), Some(s)) if mysql_type(ty) => {
                    Self::numeric(ty, format!("FLOAT({p}, {s})"))
                }
                (Some(p), _) => Self::numeric(ty, format!("FLOAT({p})")),
                _ => Self::numeric(ty, "FLOAT".into()),
            },
            V::IntegerUpper => Self::integer("INTEGER", ty),
            V::Bigint => Self::integer("BIGINT", ty),
            V::Mediumint => Self::integer("MEDIUMINT", ty),
            V::Tinyint => Self::integer("TINYINT", ty),
            V::Smallint => Self::integer("SMALLINT", ty),
            V::Bit => match ty.length {
                Some(l) => format!("BIT({l})"),
                None => "BIT".into(),
            },
            V::DatetimeUpper => match ty.details().fsp.filter(|f| *f > 0) {
                Some(f) => format!("DATETIME({f})"),
                None => "DATETIME".into(),
            },
            V::DateUpper => "DATE".into(),
            V::TimeUpper => match ty.details().fsp.filter(|f| *f > 0) {
                Some(f) => format!("TIME({f})"),
                None => "TIME".into(),
            },
            V::Timestamp => match ty.details().fsp.filter(|f| *f > 0) {
                Some(f) => format!("TIMESTAMP({f})"),
                None => "TIMESTAMP".into(),
            },
            V::Year => match ty.details().display_width {
                Some(w) => format!("YEAR({w})"),
                None => "YEAR".into(),
            },
            V::TextUpper => match ty.length {
                Some(l) => Self::string(ty, false, format!("TEXT({l})")),
                None => Self::string(ty, false, "TEXT".into()),
            },
            V::Tinytext => Self::string(ty, false, "TINYTEXT".into()),
            V::Mediumtext => Self::string(ty, false, "MEDIUMTEXT".into()),
            V::Longtext => Self::string(ty, false, "LONGTEXT".into()),
            V::Varchar => match ty.length {
                Some(l) => Self::string(ty, false, format!("VARCHAR({l})")),
                None => return Err(RenderError::new(
                    "VARCHAR requires a length on dialect mysql (SQLAlchemy raises CompileError)",
                )),
            },
            V::Char => match ty.length {
                Some(l) => Self::string(ty, false, format!("CHAR({l})")),
                None => Self::string(ty, false, "CHAR".into()),
            },
            V::Nvarchar => match ty.length {
                Some(l) => Self::string(ty, true, format!("VARCHAR({l})")),
                None => return Err(RenderError::new(
                    "NVARCHAR requires a length on dialect mysql (SQLAlchemy raises CompileError)",
                )),
            },
            V::Nchar => match ty.length {
                Some(l) => Self::string(ty, true, format!("CHAR({l})")),
                None => Self::string(ty, true, "CHAR".into()),
            },
            V::UuidUpper => "UUID".into(),
            // Alembic writes CHAR(32) for mysql:// but runs UUID on MariaDB 10.7 and later
            // (SQLAlchemy's MariaDB dialect has a native UUID): the DDL depends on the server.
            V::Uuid if ty.details().native_uuid => {
                return Err(RenderError::new(
                    "Uuid() on MySQL/MariaDB (CHAR(32) on MySQL, UUID on MariaDB 10.7+: give native_uuid=False for CHAR(32) on both)",
                ))
            }
            V::Varbinary => match ty.length {
                Some(l) => format!("VARBINARY({l})"),
                None => {
                    return Err(RenderError::new(
                        "VARBINARY without a length (SQLAlchemy fails)",
                    ))
                }
            },
            V::Json => "JSON".into(),
            V::LargeBinary | V::Blob => match ty.length {
                Some(l) => format!("BLOB({l})"),
                None => "BLOB".into(),
            },
            V::Tinyblob => "TINYBLOB".into(),
            V::Mediumblob => "MEDIUMBLOB".into(),
            V::Longblob => "LONGBLOB".into(),
            V::Enum if !ty.details().native_enum => {
                return compile::generic_visit_type(self, out, visit, ty)
            }
            V::Enum | V::EnumUpper => self.enumerated("ENUM", ty),
            V::Set => self.enumerated("SET", ty),
            V::BooleanUpper => "BOOL".into(),
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
        // The parts joined by spaces, in MySQL's order.
        let c = col.column;
        self.push_quoted(spec, &c.name);
        spec.push(' ');
        column_type(self, spec, c)?;
        if !col.nullable {
            spec.push_str(" NOT NULL");
        } else if c.type_.as_ref().is_some_and(SqlType::is_timestamp) {
            spec.push_str(" NULL");
        }
        if let Some(comment) = &c.comment {
            spec.push_str(" COMMENT ");
            spec.push_str(&self.string_literal(comment));
        }
        if table.is_autoincrement(col) && c.server_default.is_none() {
            spec.push_str(" AUTO_INCREMENT");
        } else if let Some(d) = &c.server_default {
            spec.push_str(" DEFAULT ");
            let start = spec.len();
            self.push_default_sql(spec, d)?;
            if default_needs_parentheses(&spec[start..]) {
                spec.insert(start, '(');
                spec.push(')');
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
        only_options(&pk.options, "mysql", &["using"], "PrimaryKeyConstraint")?;
        compile::primary_key_text(self, out, table, pk, "")?;
        if let Some(u) = option_str(&pk.options, "mysql", "using").filter(|u| !u.is_empty()) {
            out.push_str(" USING ");
            self.push_quoted(out, u);
        }
        Ok(())
    }

    fn constraint_match(&self, out: &mut String, rules: &ForeignKeyRules) -> Result<()> {
        let _ = out;
        if rules.match_.is_some() {
            return Err(RenderError::new(
                "MATCH on MySQL (SQLAlchemy raises: MySQL ignores it and then drops ON UPDATE/ON DELETE)",
            ));
        }
        Ok(())
    }

    fn post_create_table(&self, table: &Table<'_>) -> Result<String> {
        // Table options in the order written; COLLATE after any character set (SQLAlchemy
        // sorts them so), the table comment last.
        let mut opts: Vec<(String, String)> = Vec::new();
        for o in &table.options.0 {
            if o.dialect != "mysql" {
                continue;
            }
            let key = o.name.to_ascii_uppercase();
            if key.starts_with("PARTITION") || key.starts_with("SUBPARTITION") {
                return Err(RenderError::new(format!(
                    "create_table with mysql_{}= (not rendered by migrate yet)",
                    o.name
                )));
            }
            let Arg::Str(value) = &o.value else {
                return Err(RenderError::new(format!(
                    "create_table with mysql_{}= that is not a string",
                    o.name
                )));
            };
            match opts.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value.clone(),
                None => opts.push((key, value.clone())),
            }
        }
        if let Some(c) = table.comment {
            match opts.iter_mut().find(|(k, _)| k == "COMMENT") {
                Some(slot) => slot.1 = c.to_string(),
                None => opts.push(("COMMENT".into(), c.to_string())),
            }
        }
        let has_charset = opts.iter().any(|(k, _)| {
            matches!(
                k.as_str(),
                "DEFAULT_CHARSET" | "DEFAULT_CHARACTER_SET" | "CHARSET" | "CHARACTER_SET"
            )
        });
        let (later, mut first): (Vec<_>, Vec<_>) = opts
            .into_iter()
            .partition(|(k, _)| has_charset && k == "COLLATE");
        first.extend(later);
        let rendered: Vec<String> = first
            .into_iter()
            .map(|(key, value)| {
                let value = if matches!(key.as_str(), "COMMENT" | "PASSWORD" | "CONNECTION") {
                    self.string_literal(&value)
                } else {
                    value
                };
                let key = if matches!(
                    key.as_str(),
                    "DATA_DIRECTORY"
                        | "INDEX_DIRECTORY"
                        | "DEFAULT_CHARACTER_SET"
                        | "CHARACTER_SET"
                        | "DEFAULT_CHARSET"
                        | "DEFAULT_COLLATE"
                ) {
                    key.replace('_', " ")
                } else {
                    key
                };
                let joiner = if matches!(
                    key.as_str(),
                    "TABLESPACE" | "DEFAULT CHARACTER SET" | "CHARACTER SET" | "COLLATE"
                ) {
                    " "
                } else {
                    "="
                };
                format!("{key}{joiner}{value}")
            })
            .collect();
        Ok(rendered.join(" "))
    }

    fn create_index(&self, ix: &IndexDef<'_>) -> Result<String> {
        only_options(
            ix.options,
            "mysql",
            &["length", "prefix", "using", "with_parser"],
            "create_index",
        )?;
        let prefix = option_str(ix.options, "mysql", "prefix").unwrap_or("");
        let mut text = compile::create_index_head(ix, prefix, "");
        self.push_constraint_name(&mut text, &ix.name)?;
        text.push_str(" ON ");
        self.push_table_name(&mut text, ix.table);
        text.push_str(" (");
        // A prefix length for every column (an int), or by name or expression (a dict).
        let lengths = match ix.options.get("mysql", "length") {
            None | Some(Arg::None) => None,
            Some(Arg::Int(n)) => Some((Some(*n), &[][..])),
            Some(Arg::Dict(pairs)) => Some((None, pairs.as_slice())),
            Some(_) => {
                return Err(RenderError::new(
                    "mysql_length= that is not an int or a dict",
                ))
            }
        };
        let length = |pairs: &[(Arg, Arg)], key: &str| {
            pairs.iter().rev().find_map(|(k, v)| match (k, v) {
                (Arg::Str(k), Arg::Int(n)) if k == key => Some(*n),
                _ => None,
            })
        };
        for (k, e) in ix.expressions.iter().enumerate() {
            if k > 0 {
                text.push_str(", ");
            }
            let start = text.len();
            compile::push_index_expression(self, &mut text, e);
            let n = match lengths {
                None => None,
                Some((Some(n), _)) => Some(n),
                Some((None, pairs)) => match e {
                    IndexExpr::Column(c) => length(pairs, c),
                    _ => None,
                }
                .or_else(|| length(pairs, &text[start..])),
            };
            if let Some(n) = n {
                text.push('(');
                text.push_str(&n.to_string());
                text.push(')');
            }
        }
        text.push(')');
        if let Some(p) = option_str(ix.options, "mysql", "with_parser") {
            text.push_str(&format!(" WITH PARSER {p}"));
        }
        if let Some(u) = option_str(ix.options, "mysql", "using") {
            text.push_str(&format!(" USING {}", self.quote(u)));
        }
        Ok(text)
    }

    fn drop_index(&self, ix: &DropIndex) -> Result<String> {
        only_options(&ix.options, "mysql", &[], "drop_index")?;
        let mut text = String::from("DROP INDEX ");
        if ix.if_exists {
            text.push_str("IF EXISTS ");
        }
        self.push_constraint_name(&mut text, &ix.name)?;
        text.push_str(" ON ");
        match &ix.table {
            Some(t) => self.push_table_name(&mut text, t),
            None => self.push_table_name(&mut text, &compile::drop_index_table(ix)),
        }
        Ok(text)
    }

    fn drop_constraint(&self, op: &DropConstraint) -> Result<String> {
        let table = self.table_name(&op.table);
        let name = self.constraint_name(&op.name)?;
        Ok(match op.kind {
            Some(ConstraintKind::ForeignKey) => format!("ALTER TABLE {table} DROP FOREIGN KEY {name}"),
            Some(ConstraintKind::Primary) => format!("ALTER TABLE {table} DROP PRIMARY KEY"),
            Some(ConstraintKind::Unique) => format!("ALTER TABLE {table} DROP INDEX {name}"),
            Some(ConstraintKind::Check) => {
                // Alembic writes DROP CHECK for MySQL but DROP CONSTRAINT for MariaDB; the
                // statement depends on the server, which the offline script cannot know.
                return Err(RenderError::new(
                    "drop_constraint(type_=\"check\") on MySQL/MariaDB (the statement differs between the two)",
                ));
            }
            None => {
                return Err(RenderError::new(
                    "drop_constraint without type_ on MySQL (Alembic raises: no generic DROP CONSTRAINT in MySQL - please specify constraint type)",
                ))
            }
            Some(_) => return Err(RenderError::new("drop_constraint of this type on MySQL")),
        })
    }

    fn alter_column(&self, op: &AlterColumn) -> Result<Vec<String>> {
        only_options(&op.options, "mysql", &[], "alter_column")?;
        let type_ = op.type_.as_ref().or(op.existing_type.as_ref());
        let changes_default = op.server_default.is_some();
        // `server_default is not None` in Alembic is also true when it is left out (False).
        let functional_default =
            type_.is_some_and(SqlType::is_datetime) && !matches!(op.server_default, Some(None));
        let nullable = op.nullable.or(op.existing_nullable).unwrap_or(true);
        let default = match &op.server_default {
            Some(d) => d.as_ref(),
            None => op.existing_server_default.as_ref(),
        };
        let autoincrement = op
            .autoincrement
            .or(op.existing_autoincrement)
            .unwrap_or(false);
        let comment = match &op.comment {
            Some(c) => c.as_deref(),
            None => op.existing_comment.as_deref(),
        };
        let table = self.table_name(&op.table);
        let column = self.quote(&op.column);
        let need_type = |t: Option<&SqlType>| -> Result<SqlType> {
            t.cloned().ok_or_else(|| {
                RenderError::new(
                    "alter_column on MySQL without type_ or existing_type (Alembic raises: All MySQL CHANGE/MODIFY COLUMN operations require the existing type)",
                )
            })
        };
        for t in [&op.type_, &op.existing_type].into_iter().flatten() {
            if t.details().create_constraint {
                return Err(RenderError::new(format!(
                    "{}(create_constraint=True) (its CHECK constraint is not rendered by migrate yet)",
                    t.class.class_name()
                )));
            }
        }
        let statement = if op.new_column_name.is_some() || functional_default {
            let t = need_type(type_)?;
            format!(
                "ALTER TABLE {table} CHANGE {column} {} {}",
                self.quote(op.new_column_name.as_deref().unwrap_or(&op.column)),
                self.alter_colspec(&t, nullable, default, autoincrement, comment)?
            )
        } else if op.nullable.is_some()
            || op.type_.is_some()
            || op.autoincrement.is_some()
            || op.comment.is_some()
        {
            let t = need_type(type_)?;
            format!(
                "ALTER TABLE {table} MODIFY {column} {}",
                self.alter_colspec(&t, nullable, default, autoincrement, comment)?
            )
        } else if changes_default {
            match &op.server_default {
                Some(Some(d)) => format!(
                    "ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {}",
                    self.default_sql(d)?
                ),
                _ => format!("ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT"),
            }
        } else {
            return Ok(Vec::new());
        };
        Ok(vec![statement])
    }
}
