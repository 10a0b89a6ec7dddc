//! `op.create_table(...)`, `op.add_column(...)` and the other supported Alembic operations,
//! read from their folded arguments into [`Operation`]s by Alembic's signatures.

use super::sa::{self, bind, sql_type, strings, Bound, Sa, What};
use super::value::Value;
use crate::ops::{
    AddColumn, AlterColumn, CheckConstraint, ConstraintKind, CreateCheckConstraint,
    CreateForeignKey, CreateIndex, CreateTable, CreateUniqueConstraint, DialectOptions, DropColumn,
    DropConstraint, DropIndex, DropTable, ForeignKeyConstraint, ForeignKeyRules, IndexExpr,
    Operation, RenameTable, TableElement, TableRef, UniqueConstraint,
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
    "rename_table",
    "create_check_constraint",
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
    args: &mut Vec<Value>,
    kwargs: &mut Vec<(&str, Value)>,
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
            let mut elements = Vec::with_capacity(b.rest.len());
            for v in b.rest.drain(..) {
                let Value::Sa(sa) = v else {
                    return Err(format!("{what} with a {} argument", v.type_name()));
                };
                elements.push(match *sa {
                    Sa::Column(c) => TableElement::Column(c),
                    Sa::PrimaryKey(p) => TableElement::PrimaryKey(p),
                    Sa::Unique(u) => TableElement::Unique(u),
                    Sa::Check(c) => TableElement::Check(c),
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
            let (c, columns) =
                table_constraint(what, args, kwargs, ("columns", sa::UNIQUE_OPTIONS), |b| {
                    b.str_list("columns")
                })?;
            Operation::CreateUniqueConstraint(CreateUniqueConstraint {
                table: c.table,
                constraint: UniqueConstraint {
                    name: c.name,
                    columns,
                    deferrable: c.deferrable,
                    initially: c.initially,
                    options: c.options,
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
        "rename_table" => {
            let mut b = bind(
                what,
                args,
                kwargs,
                &["old_table_name", "new_table_name"],
                &["schema"],
                false,
                false,
            )?;
            let table = table_ref(&mut b, "old_table_name", "schema")?;
            let new_name = b.str("new_table_name")?;
            b.done(&[])?;
            Operation::RenameTable(RenameTable { table, new_name })
        }
        "create_check_constraint" => {
            let (c, condition) = table_constraint(what, args, kwargs, ("condition", &[]), |b| {
                sa::check_condition(b.take("condition"), what)
            })?;
            Operation::CreateCheckConstraint(CreateCheckConstraint {
                table: c.table,
                constraint: CheckConstraint {
                    name: c.name,
                    condition,
                    deferrable: c.deferrable,
                    initially: c.initially,
                },
            })
        }
        _ => return Err(what.to_string()),
    })
}

/// The `batch_op.*` operations of `with op.batch_alter_table(...) as batch_op:`, by Alembic's
/// `batch_*` signatures: the name, how many positional arguments the batch method takes,
/// where the batch's table goes among the plain operation's positional arguments, and the
/// plain operation's parameters for the table and its schema.
const BATCH_OPERATIONS: &[(&str, usize, usize, &str, &str)] = &[
    ("add_column", 1, 0, "table_name", "schema"),
    ("drop_column", 1, 0, "table_name", "schema"),
    ("alter_column", 1, 0, "table_name", "schema"),
    ("create_index", 2, 1, "table_name", "schema"),
    ("drop_index", 1, 1, "table_name", "schema"),
    ("create_unique_constraint", 2, 1, "table_name", "schema"),
    ("create_foreign_key", 4, 1, "source_table", "source_schema"),
    ("drop_constraint", 2, 1, "table_name", "schema"),
    ("create_check_constraint", 2, 1, "table_name", "schema"),
];

/// `batch_op.<name>(*args, **kwargs)` in a batch on `table`: the plain operation Alembic's
/// batch method builds (the same operation on the batch's table and schema).
pub(crate) fn batch_operation(
    name: &str,
    table: &TableRef,
    args: &mut Vec<Value>,
    kwargs: &mut Vec<(&str, Value)>,
) -> Result<Operation, String> {
    let Some(&(_, positional, at, table_kw, schema_kw)) =
        BATCH_OPERATIONS.iter().find(|b| b.0 == name)
    else {
        return Err(format!("batch_op.{name}(...)"));
    };
    if args.len() > positional {
        return Err(format!(
            "batch_op.{name}(...) with more than {positional} positional arguments"
        ));
    }
    // Where Alembic does not recreate the table, insert_before/insert_after are an error
    // (CommandError) or ignored; a given one is refused rather than guessed.
    kwargs.retain(|(k, v)| !(matches!(*k, "insert_before" | "insert_after") && *v == Value::None));
    if let Some((k, _)) = kwargs.iter().find(|(k, _)| {
        matches!(
            *k,
            "insert_before" | "insert_after" | "table_name" | "schema"
        ) || *k == table_kw
            || *k == schema_kw
    }) {
        return Err(format!("batch_op.{name}(...) with {k}="));
    }
    if args.len() >= at {
        args.insert(at, Value::Str(table.name.clone()));
    } else {
        kwargs.push((table_kw, Value::Str(table.name.clone())));
    }
    if let Some(schema) = &table.schema {
        kwargs.push((schema_kw, Value::Str(schema.clone())));
    }
    operation(name, args, kwargs).map_err(|e| format!("in a batch, {e}"))
}

/// The table of `op.batch_alter_table(table_name, schema=None, recreate="auto", ...)`, when
/// Alembic runs the batch's operations as plain ones (the arguments only used to recreate a
/// table are accepted and have no effect there).
pub(crate) fn batch_table(
    args: &mut Vec<Value>,
    kwargs: &mut Vec<(&str, Value)>,
) -> Result<TableRef, String> {
    let what = What::Op("batch_alter_table");
    let mut b = bind(
        what,
        args,
        kwargs,
        &[
            "table_name",
            "schema",
            "recreate",
            "partial_reordering",
            "copy_from",
            "table_args",
            "table_kwargs",
            "reflect_args",
            "reflect_kwargs",
            "naming_convention",
        ],
        &[],
        false,
        false,
    )?;
    let table = table_ref(&mut b, "table_name", "schema")?;
    match b.opt_str("recreate")?.as_deref() {
        None | Some("auto") => {}
        Some(other) => return Err(format!("{what} with recreate='{other}'")),
    }
    for name in ["copy_from", "naming_convention"] {
        if !matches!(b.take(name), None | Some(Value::None)) {
            return Err(format!("{what} with {name}="));
        }
    }
    b.done(&[
        "partial_reordering",
        "table_args",
        "table_kwargs",
        "reflect_args",
        "reflect_kwargs",
    ])?;
    Ok(table)
}

/// What `op.create_unique_constraint` and `op.create_check_constraint` share.
struct TableConstraint {
    name: Option<String>,
    table: TableRef,
    deferrable: Option<bool>,
    initially: Option<String>,
    options: DialectOptions,
}

/// `op.create_*_constraint(constraint_name, table_name, PART, schema=, deferrable=,
/// initially=, info=, **dialect_kw)`: the shared parameters, and the parameter `part_name`
/// read by `part` (after the table: the parameters are checked in their order); `known` are
/// the dialect options the constraint accepts.
fn table_constraint<T>(
    what: What<'_>,
    args: &mut Vec<Value>,
    kwargs: &mut Vec<(&str, Value)>,
    (part_name, known): (&'static str, &[&str]),
    part: impl FnOnce(&mut Bound) -> Result<T, String>,
) -> Result<(TableConstraint, T), String> {
    let mut b = bind(
        what,
        args,
        kwargs,
        &["constraint_name", "table_name", part_name],
        &["schema", "deferrable", "initially", "info"],
        false,
        true,
    )?;
    let name = b.opt_str("constraint_name")?;
    let table = table_ref(&mut b, "table_name", "schema")?;
    let part = part(&mut b)?;
    let deferrable = b.opt_bool("deferrable")?;
    let initially = b.opt_str("initially")?;
    let options = b.dialect_options(known)?;
    b.done(&["info"])?;
    Ok((
        TableConstraint {
            name,
            table,
            deferrable,
            initially,
            options,
        },
        part,
    ))
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
