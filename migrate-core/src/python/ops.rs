//! `op.create_table(...)`, `op.add_column(...)` and the other supported Alembic operations,
//! read from their folded arguments into [`Operation`]s by Alembic's signatures.

use super::sa::{self, bind, sql_type, strings, Bound, Sa, What};
use super::value::Value;
use crate::ops::{
    AddColumn, AlterColumn, ConstraintKind, CreateForeignKey, CreateIndex, CreateTable,
    CreateUniqueConstraint, DropColumn, DropConstraint, DropIndex, DropTable, ForeignKeyConstraint,
    ForeignKeyRules, IndexExpr, Operation, TableElement, TableRef, UniqueConstraint,
};

/// The `op.` functions read into operations.
pub(crate) const OPERATIONS: &[&str] = &[
    "create_table",
    "drop_table",
    "add_column",
    "drop_column",
    "create_index",
    "drop_index",
    "alter_column",
    "create_foreign_key",
    "create_unique_constraint",
    "drop_constraint",
];

/// Dialect options SQLAlchemy accepts on `CREATE TABLE` that `migrate` carries.
const TABLE_OPTIONS: &[&str] = &[
    "sqlite_autoincrement",
    "sqlite_with_rowid",
    "sqlite_strict",
    "mysql_engine",
    "mysql_charset",
    "mysql_default_charset",
    "mysql_collate",
    "mysql_row_format",
    "mysql_comment",
    "postgresql_partition_by",
    "postgresql_inherits",
    "postgresql_with_oids",
    "postgresql_on_commit",
    "postgresql_tablespace",
    "postgresql_using",
    "postgresql_with",
];

/// Dialect options SQLAlchemy accepts on an index.
const INDEX_OPTIONS: &[&str] = &[
    "postgresql_where",
    "postgresql_using",
    "postgresql_concurrently",
    "postgresql_ops",
    "postgresql_include",
    "postgresql_with",
    "postgresql_tablespace",
    "postgresql_nulls_not_distinct",
    "mysql_length",
    "mysql_prefix",
    "mysql_using",
    "mysql_with_parser",
    "sqlite_where",
    "mssql_clustered",
    "mssql_include",
    "mssql_where",
    "mssql_columnstore",
];

/// The operation `op.<name>(*args, **kwargs)`.
pub(crate) fn operation(
    name: &str,
    args: Vec<Value>,
    kwargs: Vec<(&str, Value)>,
) -> Result<Operation, String> {
    let what = What::Op(name);
    Ok(match name {
        "create_table" => {
            let mut b = bind(
                what,
                args,
                kwargs,
                &["table_name"],
                &["schema", "comment", "if_not_exists", "info", "prefixes"],
                true,
                true,
            )?;
            let table = table_ref(&mut b, "table_name", "schema")?;
            let rest = std::mem::take(&mut b.rest);
            let mut elements = Vec::with_capacity(rest.len());
            for v in rest {
                let Value::Sa(sa) = v else {
                    return Err(format!("{what} with a {} argument", v.type_name()));
                };
                elements.push(match *sa {
                    Sa::Column(c) => TableElement::Column(c),
                    Sa::PrimaryKey(p) => TableElement::PrimaryKey(p),
                    Sa::Unique(u) => TableElement::Unique(u),
                    Sa::ForeignKeyConstraint {
                        columns,
                        refcolumns,
                        rules,
                    } => TableElement::ForeignKey(fk_constraint(columns, &refcolumns, rules)?),
                    other => return Err(format!("{what} with a {} argument", other.type_name())),
                });
            }
            let comment = b.opt_str("comment")?;
            let if_not_exists = b.bool_or("if_not_exists", false)?;
            if matches!(b.get("prefixes"), Some(v) if !matches!(v, Value::None) && !matches!(strings(v), Some(p) if p.is_empty()))
            {
                return Err(format!("{what} with prefixes="));
            }
            b.take("prefixes");
            let options = b.dialect_options(TABLE_OPTIONS)?;
            b.done(&["info"])?;
            Operation::CreateTable(CreateTable {
                table,
                elements,
                comment,
                if_not_exists,
                options,
            })
        }
        "drop_table" => {
            let mut b = bind(
                what,
                args,
                kwargs,
                &["table_name"],
                &["schema", "if_exists"],
                false,
                false,
            )?;
            let table = table_ref(&mut b, "table_name", "schema")?;
            let if_exists = b.bool_or("if_exists", false)?;
            b.done(&[])?;
            Operation::DropTable(DropTable { table, if_exists })
        }
        "add_column" => {
            let mut b = bind(
                what,
                args,
                kwargs,
                &["table_name", "column"],
                &[
                    "schema",
                    "if_not_exists",
                    "inline_references",
                    "inline_primary_key",
                ],
                false,
                false,
            )?;
            let table = table_ref(&mut b, "table_name", "schema")?;
            let column = match b.take("column") {
                Some(Value::Sa(sa)) => match *sa {
                    Sa::Column(c) => c,
                    other => return Err(format!("{what} of a {}", other.type_name())),
                },
                Some(other) => return Err(format!("{what} of a {}", other.type_name())),
                None => return Err(format!("{what} without a column")),
            };
            let if_not_exists = b.bool_or("if_not_exists", false)?;
            for flag in ["inline_references", "inline_primary_key"] {
                if b.bool_or(flag, false)? {
                    return Err(format!(
                        "{what} with {flag}=True (not rendered by migrate yet)"
                    ));
                }
            }
            b.done(&[])?;
            Operation::AddColumn(Box::new(AddColumn {
                table,
                column,
                if_not_exists,
            }))
        }
        "drop_column" => {
            let mut b = bind(
                what,
                args,
                kwargs,
                &["table_name", "column_name"],
                &["schema", "if_exists"],
                false,
                true,
            )?;
            let table = table_ref(&mut b, "table_name", "schema")?;
            let column = b.str("column_name")?;
            let if_exists = b.bool_or("if_exists", false)?;
            // mssql_drop_check= and friends only matter on SQL Server.
            let _ = b.dialect_options(&[
                "mssql_drop_check",
                "mssql_drop_default",
                "mssql_drop_foreign_key",
            ])?;
            b.done(&[])?;
            Operation::DropColumn(DropColumn {
                table,
                column,
                if_exists,
            })
        }
        "create_index" => {
            let mut b = bind(
                what,
                args,
                kwargs,
                &["index_name", "table_name", "columns"],
                &["schema", "unique", "if_not_exists", "info"],
                false,
                true,
            )?;
            let name = match b.take("index_name") {
                Some(Value::Str(s)) => s,
                Some(Value::None) | None => {
                    return Err(format!("{what} without a name (SQLAlchemy: CREATE INDEX requires that the index have a name)"))
                }
                Some(other) => return Err(format!("{what} named by a {}", other.type_name())),
            };
            let table = table_ref(&mut b, "table_name", "schema")?;
            let expressions = match b.take("columns") {
                Some(Value::List(items) | Value::Tuple(items)) if !items.is_empty() => items
                    .into_iter()
                    .map(|v| match v {
                        Value::Str(s) => Ok(IndexExpr::Column(s)),
                        Value::Text(s) => Ok(IndexExpr::Text(s)),
                        other => Err(format!(
                            "{what} with a {} as an indexed expression",
                            other.type_name()
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                Some(Value::Str(s)) => vec![IndexExpr::Column(s)],
                Some(other) => return Err(format!("{what} with columns= a {}", other.type_name())),
                None => return Err(format!("{what} without columns")),
            };
            let unique = b.bool_or("unique", false)?;
            let if_not_exists = b.bool_or("if_not_exists", false)?;
            let options = b.dialect_options(INDEX_OPTIONS)?;
            b.done(&["info"])?;
            Operation::CreateIndex(CreateIndex {
                name,
                table,
                expressions,
                unique,
                if_not_exists,
                options,
            })
        }
        "drop_index" => {
            let mut b = bind(
                what,
                args,
                kwargs,
                &["index_name", "table_name"],
                &["schema", "if_exists"],
                false,
                true,
            )?;
            let name = b.str("index_name")?;
            let schema = b.opt_str("schema")?;
            let table = b.opt_str("table_name")?.map(|t| TableRef {
                name: t,
                schema: schema.clone(),
            });
            let if_exists = b.bool_or("if_exists", false)?;
            let options = b.dialect_options(INDEX_OPTIONS)?;
            b.done(&[])?;
            Operation::DropIndex(DropIndex {
                name,
                table,
                schema,
                if_exists,
                options,
            })
        }
        "alter_column" => {
            let mut b = bind(
                what,
                args,
                kwargs,
                &["table_name", "column_name"],
                &[
                    "nullable",
                    "comment",
                    "server_default",
                    "new_column_name",
                    "type_",
                    "existing_type",
                    "existing_server_default",
                    "existing_nullable",
                    "existing_comment",
                    "schema",
                    "autoincrement",
                    "existing_autoincrement",
                ],
                false,
                true,
            )?;
            let table = table_ref(&mut b, "table_name", "schema")?;
            let column = b.str("column_name")?;
            let nullable = b.opt_bool("nullable")?;
            let server_default = match b.take("server_default") {
                None | Some(Value::Bool(false)) => None,
                Some(v) => Some(sa::server_default(v, || {
                    format!("{what} with server_default=")
                })?),
            };
            let comment = match b.take("comment") {
                None | Some(Value::Bool(false)) => None,
                Some(Value::None) => Some(None),
                Some(Value::Str(s)) => Some(Some(s)),
                Some(other) => return Err(format!("{what} with comment= a {}", other.type_name())),
            };
            let new_column_name = b.opt_str("new_column_name")?;
            let type_ = optional_type(&mut b, "type_", what)?;
            let existing_type = optional_type(&mut b, "existing_type", what)?;
            let existing_server_default = match b.take("existing_server_default") {
                None | Some(Value::Bool(false)) => None,
                Some(v) => {
                    sa::server_default(v, || format!("{what} with existing_server_default="))?
                }
            };
            let existing_nullable = b.opt_bool("existing_nullable")?;
            let existing_comment = b.opt_str("existing_comment")?;
            let autoincrement = b.opt_bool("autoincrement")?;
            let existing_autoincrement = b.opt_bool("existing_autoincrement")?;
            let options = b.dialect_options(&["postgresql_using"])?;
            b.done(&[])?;
            Operation::AlterColumn(Box::new(AlterColumn {
                table,
                column,
                nullable,
                server_default,
                new_column_name,
                type_,
                comment,
                autoincrement,
                existing_type,
                existing_server_default,
                existing_nullable,
                existing_comment,
                existing_autoincrement,
                options,
            }))
        }
        "create_foreign_key" => {
            let mut b = bind(
                what,
                args,
                kwargs,
                &[
                    "constraint_name",
                    "source_table",
                    "referent_table",
                    "local_cols",
                    "remote_cols",
                ],
                &[
                    "onupdate",
                    "ondelete",
                    "deferrable",
                    "initially",
                    "match",
                    "source_schema",
                    "referent_schema",
                    "use_alter",
                ],
                false,
                true,
            )?;
            let name = b.opt_str("constraint_name")?;
            let table = table_ref(&mut b, "source_table", "source_schema")?;
            let referent = table_ref(&mut b, "referent_table", "referent_schema")?;
            let columns = b.str_list("local_cols")?;
            let referent_columns = b.str_list("remote_cols")?;
            if columns.len() != referent_columns.len() || columns.is_empty() {
                return Err(format!("{what} with column lists of different lengths"));
            }
            let mut rules = sa::fk_rules(&mut b, &["postgresql_not_valid"])?;
            rules.name = name;
            b.done(&[])?;
            Operation::CreateForeignKey(CreateForeignKey {
                table,
                constraint: ForeignKeyConstraint {
                    columns,
                    referent,
                    referent_columns,
                    rules,
                },
            })
        }
        "create_unique_constraint" => {
            let mut b = bind(
                what,
                args,
                kwargs,
                &["constraint_name", "table_name", "columns"],
                &["schema", "deferrable", "initially", "info"],
                false,
                true,
            )?;
            let name = b.opt_str("constraint_name")?;
            let table = table_ref(&mut b, "table_name", "schema")?;
            let columns = b.str_list("columns")?;
            let deferrable = b.opt_bool("deferrable")?;
            let initially = b.opt_str("initially")?;
            let options = b.dialect_options(&[
                "postgresql_include",
                "postgresql_nulls_not_distinct",
                "sqlite_on_conflict",
                "mssql_clustered",
            ])?;
            b.done(&["info"])?;
            Operation::CreateUniqueConstraint(CreateUniqueConstraint {
                table,
                constraint: UniqueConstraint {
                    name,
                    columns,
                    deferrable,
                    initially,
                    options,
                },
            })
        }
        "drop_constraint" => {
            let mut b = bind(
                what,
                args,
                kwargs,
                &["constraint_name", "table_name", "type_"],
                &["schema", "if_exists"],
                false,
                false,
            )?;
            let name = b.str("constraint_name")?;
            let table = table_ref(&mut b, "table_name", "schema")?;
            let kind = match b.opt_str("type_")?.as_deref() {
                None => None,
                Some("foreignkey") => Some(ConstraintKind::ForeignKey),
                Some("primary") => Some(ConstraintKind::Primary),
                Some("unique") => Some(ConstraintKind::Unique),
                Some("check") => Some(ConstraintKind::Check),
                Some(other) => {
                    return Err(format!(
                        "{what} with type_='{other}' (Alembic raises TypeError)"
                    ))
                }
            };
            let if_exists = b.bool_or("if_exists", false)?;
            b.done(&[])?;
            Operation::DropConstraint(DropConstraint {
                name,
                table,
                kind,
                if_exists,
            })
        }
        _ => return Err(what.to_string()),
    })
}

/// A table name and its schema from parameters `name` and `schema`.
fn table_ref(b: &mut Bound, name: &str, schema: &str) -> Result<TableRef, String> {
    Ok(TableRef {
        name: b.str(name)?,
        schema: b.opt_str(schema)?,
    })
}

fn optional_type(
    b: &mut Bound,
    name: &str,
    what: What<'_>,
) -> Result<Option<crate::ops::SqlType>, String> {
    match b.take(name) {
        None | Some(Value::None) => Ok(None),
        Some(v) => {
            let t = v.type_name();
            sql_type(v).map(Some).ok_or_else(|| {
                format!("{what} with {name}= a {t} (not a SQLAlchemy type migrate knows)")
            })
        }
    }
}

/// A table-level foreign key from its `refcolumns` strings (`"table.col"`, all one table).
fn fk_constraint(
    columns: Vec<String>,
    refcolumns: &[String],
    rules: ForeignKeyRules,
) -> Result<ForeignKeyConstraint, String> {
    let mut referent: Option<TableRef> = None;
    let mut referent_columns = Vec::new();
    for r in refcolumns {
        let (t, c) = crate::ops::compile::split_target(r).map_err(|e| e.message)?;
        match &referent {
            Some(existing) if *existing != t => {
                return Err("ForeignKeyConstraint(...) referring to two tables".into())
            }
            _ => referent = Some(t),
        }
        referent_columns.push(c);
    }
    Ok(ForeignKeyConstraint {
        columns,
        referent: referent.ok_or("ForeignKeyConstraint(...) without referred columns")?,
        referent_columns,
        rules,
    })
}
