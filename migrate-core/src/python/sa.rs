//! SQLAlchemy constructs in revision files (`sa.Column(...)`, `sa.String(50)`,
//! `postgresql.JSONB()`, `sa.ForeignKey(...)`, `sa.func.now()`, ...) read as values of the
//! operation model, with the argument rules of their Python signatures: positional order,
//! keyword names, defaults. Anything else is refused by name.

use super::value::Value;
use crate::ops::{
    Arg, Autoincrement, CheckConstraint, Column, DialectOption, DialectOptions, ForeignKey,
    ForeignKeyRules, PrimaryKeyConstraint, ServerDefault, SqlType, TypeClass, TypeDetails,
    TypeModule, UniqueConstraint,
};

/// A SQLAlchemy object the folder knows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Sa {
    /// A type instance (or a type class, which SQLAlchemy instantiates with no arguments).
    Type(SqlType),
    /// `sa.Column(...)`.
    Column(Column),
    /// `sa.ForeignKey(...)`.
    ForeignKey(ForeignKey),
    /// `sa.PrimaryKeyConstraint(...)`.
    PrimaryKey(PrimaryKeyConstraint),
    /// `sa.UniqueConstraint(...)`.
    Unique(UniqueConstraint),
    /// `sa.ForeignKeyConstraint(columns, refcolumns, ...)`.
    ForeignKeyConstraint {
        columns: Vec<String>,
        refcolumns: Vec<String>,
        rules: ForeignKeyRules,
    },
    /// `sa.CheckConstraint(...)`.
    Check(CheckConstraint),
    /// `sa.func.NAME()`.
    Function(String),
    /// `sa.true()` / `sa.false()`.
    Bool(bool),
}

impl Sa {
    /// The Python type name, for messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Sa::Type(_) => "SQLAlchemy type",
            Sa::Column(_) => "Column",
            Sa::ForeignKey(_) => "ForeignKey",
            Sa::PrimaryKey(_) => "PrimaryKeyConstraint",
            Sa::Unique(_) => "UniqueConstraint",
            Sa::ForeignKeyConstraint { .. } => "ForeignKeyConstraint",
            Sa::Check(_) => "CheckConstraint",
            Sa::Function(_) => "SQL function",
            Sa::Bool(_) => "SQL boolean",
        }
    }
}

/// Where a dotted SQLAlchemy path points: the module of a type, and the last name.
fn locate(path: &str) -> Option<(TypeModule, &str, &str)> {
    let rest = path.strip_prefix("sqlalchemy.")?;
    // Paths are short: a backward byte scan beats a general search.
    let (module_path, name) = match rest.bytes().rposition(|b| b == b'.') {
        Some(dot) => (&rest[..dot], &rest[dot + 1..]),
        None => ("", rest),
    };
    let module = if let Some(d) = module_path.strip_prefix("dialects.") {
        match d.split('.').next() {
            Some("postgresql") => TypeModule::Postgresql,
            Some("mysql") | Some("mariadb") => TypeModule::Mysql,
            Some("sqlite") => TypeModule::Sqlite,
            _ => return None,
        }
    } else if matches!(
        module_path,
        "" | "types"
            | "sql"
            | "sql.sqltypes"
            | "sql.expression"
            | "sql.elements"
            | "schema"
            | "sql.schema"
    ) {
        TypeModule::Generic
    } else {
        return None;
    };
    Some((module, module_path, name))
}

/// The type class a path names, looking through the dialect's own classes first and then
/// the generic ones it re-exports (`postgresql.INTEGER` is `sqlalchemy.INTEGER`).
fn type_class(path: &str) -> Option<TypeClass> {
    let (module, _, name) = locate(path)?;
    type_class_in(module, name)
}

/// [`type_class`] of the class `name` of `module` (as [`locate`] gives them).
fn type_class_in(module: TypeModule, name: &str) -> Option<TypeClass> {
    TypeClass::find(module, name).or_else(|| {
        // The dialect modules re-export the generic uppercase types.
        (module != TypeModule::Generic && name.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
            .then(|| TypeClass::find(TypeModule::Generic, name))
            .flatten()
    })
}

/// The value of a SQLAlchemy path used without a call (a type class such as `sa.Integer`).
pub(crate) fn reference(path: &str) -> Result<Value, String> {
    match type_class(path) {
        Some(class) => Ok(Value::Sa(Box::new(Sa::Type(SqlType::new(class))))),
        None => Err(format!("the SQLAlchemy name {}", short(path))),
    }
}

/// `path` without the `sqlalchemy.` prefix, for messages.
fn short(path: &str) -> &str {
    path.strip_prefix("sqlalchemy.").unwrap_or(path)
}

/// What a call is, for messages: `String(...)`, `op.create_table(...)`, `Column('x', ...)`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum What<'k> {
    /// A call of `name` (`String`, `ForeignKey`, `op.f`).
    Call(&'k str),
    /// `op.NAME(...)`.
    Op(&'k str),
    /// `sa.Column(name, ...)`.
    Column(&'k str),
}

impl std::fmt::Display for What<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            What::Call(n) => write!(f, "{n}(...)"),
            What::Op(n) => write!(f, "op.{n}(...)"),
            What::Column(n) => write!(f, "Column('{n}', ...)"),
        }
    }
}

/// Arguments bound to a Python signature, in place: the call's keyword vector holds the
/// named values and its positional vector what is left over, so binding allocates nothing
/// (the folder reuses both vectors for the next call).
pub(crate) struct Bound<'k, 'v> {
    /// What the call is, for messages.
    what: What<'v>,
    /// Named values (positional ones bound to their parameter names, first).
    values: &'v mut Vec<(&'k str, Value)>,
    /// Positional arguments beyond the named parameters (`*args`).
    pub(crate) rest: &'v mut Vec<Value>,
    /// Dialect keyword arguments (`postgresql_where=`).
    pub(crate) dialect: Vec<(&'k str, Value)>,
}

/// The dialect prefixes SQLAlchemy knows.
const DIALECTS: &[&str] = &[
    "postgresql",
    "mysql",
    "mariadb",
    "sqlite",
    "mssql",
    "oracle",
];

/// True for a dialect keyword argument (`postgresql_where`, `mysql_length`).
fn is_dialect_keyword(k: &str) -> bool {
    k.split_once('_')
        .is_some_and(|(d, rest)| DIALECTS.contains(&d) && !rest.is_empty())
}

/// The refusal of parameter `name` given a `got` where `wanted` was expected.
fn expected(what: &What<'_>, name: &str, wanted: &str, got: &Value) -> String {
    format!(
        "{what} with {name}= a {} (expected {wanted})",
        got.type_name()
    )
}

/// The refusal of a dialect keyword argument `k` the call does not take (or `migrate`
/// does not render).
fn unknown_dialect_option(what: &What<'_>, k: &str) -> String {
    format!(
        "{what} with {k}= (not an argument SQLAlchemy knows there, or not rendered by migrate yet)"
    )
}

/// Bind `args`/`kwargs` to `positional` parameter names (then `*args` when `varargs`) and
/// `keyword` names; dialect keyword arguments are kept apart when `dialect_kw`. The vectors
/// are the call's own: `kwargs` becomes the named values (positional ones first, then the
/// keywords in the order written), `args` keeps the extra positional values.
pub(crate) fn bind<'k, 'v>(
    what: What<'v>,
    args: &'v mut Vec<Value>,
    kwargs: &'v mut Vec<(&'k str, Value)>,
    positional: &[&'k str],
    keyword: &[&'k str],
    varargs: bool,
    dialect_kw: bool,
) -> Result<Bound<'k, 'v>, String> {
    if args.len() > positional.len() && !varargs {
        return Err(format!(
            "{what} with more than {} positional arguments",
            positional.len()
        ));
    }
    if args.is_empty() && kwargs.is_empty() {
        // `sa.Integer()`: nothing to bind.
        return Ok(Bound {
            what,
            values: kwargs,
            rest: args,
            dialect: Vec::new(),
        });
    }
    let named = &positional[..args.len().min(positional.len())];
    let mut dialect = Vec::new();
    // Keywords kept so far are at `..kept`; a dialect one is moved out, a refused one stops.
    let mut kept = 0;
    for j in 0..kwargs.len() {
        let k = kwargs[j].0;
        if named.contains(&k) || kwargs[..kept].iter().any(|(n, _)| *n == k) {
            return Err(format!("{what} with '{k}' given twice"));
        }
        if positional.contains(&k) || keyword.contains(&k) {
            kwargs.swap(kept, j);
            kept += 1;
        } else if dialect_kw && is_dialect_keyword(k) {
            dialect.push((k, std::mem::replace(&mut kwargs[j].1, Value::None)));
        } else {
            return Err(format!("{what} with the keyword argument '{k}'"));
        }
    }
    kwargs.truncate(kept);
    // The positional values go first, in order (as a refusal of what is left names them).
    kwargs.extend(named.iter().copied().zip(args.drain(..named.len())));
    kwargs.rotate_right(named.len());
    Ok(Bound {
        what,
        values: kwargs,
        rest: args,
        dialect,
    })
}

impl Bound<'_, '_> {
    /// The value of parameter `name`, if given.
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Take parameter `name`.
    pub(crate) fn take(&mut self, name: &str) -> Option<Value> {
        let i = self.values.iter().position(|(n, _)| *n == name)?;
        Some(self.values.remove(i).1)
    }

    fn fail(&self, name: &str, wanted: &str, got: &Value) -> String {
        expected(&self.what, name, wanted, got)
    }

    /// A required string parameter.
    pub(crate) fn str(&mut self, name: &str) -> Result<String, String> {
        match self.take(name) {
            Some(Value::Str(s)) => Ok(s),
            Some(other) => Err(self.fail(name, "a string", &other)),
            None => Err(format!("{} without {name}", self.what)),
        }
    }

    /// An optional string parameter (`None` allowed).
    pub(crate) fn opt_str(&mut self, name: &str) -> Result<Option<String>, String> {
        match self.take(name) {
            Some(Value::Str(s)) => Ok(Some(s)),
            Some(Value::None) | None => Ok(None),
            Some(other) => Err(self.fail(name, "a string or None", &other)),
        }
    }

    /// An optional bool parameter (`None` allowed).
    pub(crate) fn opt_bool(&mut self, name: &str) -> Result<Option<bool>, String> {
        match self.take(name) {
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(Value::None) | None => Ok(None),
            Some(other) => Err(self.fail(name, "True, False or None", &other)),
        }
    }

    /// A bool parameter with a default.
    pub(crate) fn bool_or(&mut self, name: &str, default: bool) -> Result<bool, String> {
        Ok(self.opt_bool(name)?.unwrap_or(default))
    }

    /// An optional non-negative int parameter.
    pub(crate) fn opt_uint(&mut self, name: &str) -> Result<Option<u32>, String> {
        match self.take(name) {
            Some(Value::Int(n)) if (0..=u32::MAX as i128).contains(&n) => Ok(Some(n as u32)),
            Some(Value::None) | None => Ok(None),
            Some(other) => Err(self.fail(name, "a non-negative int or None", &other)),
        }
    }

    /// A list of strings (a list or tuple of `str`).
    pub(crate) fn str_list(&mut self, name: &str) -> Result<Vec<String>, String> {
        match self.take(name) {
            Some(v) => into_strings(v).map_err(|v| self.fail(name, "a list of strings", &v)),
            None => Err(format!("{} without {name}", self.what)),
        }
    }

    /// Refuse what is left: parameters the model does not carry (they change DDL, or
    /// `migrate` does not know whether they do).
    pub(crate) fn done(self, ignored: &[&str]) -> Result<(), String> {
        if let Some((n, _)) = self.values.iter().find(|(n, _)| !ignored.contains(n)) {
            return Err(format!(
                "{} with {n}= (not rendered by migrate yet)",
                self.what
            ));
        }
        if let Some(v) = self.rest.first() {
            return Err(format!(
                "{} with a positional {} argument",
                self.what,
                v.type_name()
            ));
        }
        Ok(())
    }

    /// The dialect keyword arguments, checked against `known` (`"postgresql_where"`, ...).
    pub(crate) fn dialect_options(&mut self, known: &[&str]) -> Result<DialectOptions, String> {
        let mut out = DialectOptions::default();
        for (k, v) in std::mem::take(&mut self.dialect) {
            let (dialect, name) = k.split_once('_').unwrap_or((k, ""));
            let dialect = if dialect == "mariadb" {
                "mysql"
            } else {
                dialect
            };
            let canonical = format!("{dialect}_{name}");
            if !known.contains(&canonical.as_str()) {
                return Err(unknown_dialect_option(&self.what, k));
            }
            out.0.push(DialectOption {
                dialect: dialect.to_string(),
                name: name.to_string(),
                value: to_arg(&v)
                    .ok_or_else(|| format!("{} with {k}= a {}", self.what, v.type_name()))?,
            });
        }
        Ok(out)
    }
}

/// A list or tuple of strings, taken out of `v` (which is given back when it is not one).
fn into_strings(v: Value) -> Result<Vec<String>, Value> {
    match v {
        Value::List(items) | Value::Tuple(items)
            if items.iter().all(|i| matches!(i, Value::Str(_))) =>
        {
            Ok(items
                .into_iter()
                .filter_map(|i| match i {
                    Value::Str(s) => Some(s),
                    _ => None,
                })
                .collect())
        }
        other => Err(other),
    }
}

/// A list or tuple of strings.
pub(crate) fn strings(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::List(items) | Value::Tuple(items) => items
            .iter()
            .map(|i| match i {
                Value::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// A folded value as an operation argument.
pub(crate) fn to_arg(v: &Value) -> Option<Arg> {
    Some(match v {
        Value::Str(s) => Arg::Str(s.clone()),
        Value::Int(n) => Arg::Int(i64::try_from(*n).ok()?),
        Value::Bool(b) => Arg::Bool(*b),
        Value::None => Arg::None,
        Value::Text(s) => Arg::Text(s.clone()),
        Value::List(items) | Value::Tuple(items) => {
            Arg::List(items.iter().map(to_arg).collect::<Option<_>>()?)
        }
        Value::Dict(pairs) => Arg::Dict(
            pairs
                .iter()
                .map(|(k, v)| Some((to_arg(k)?, to_arg(v)?)))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

/// A server default value; `what` names the argument in the message when it is refused
/// (`{what} a {type}`), and is only called then.
pub(crate) fn server_default(
    v: Value,
    what: impl FnOnce() -> String,
) -> Result<Option<ServerDefault>, String> {
    Ok(Some(match v {
        Value::None => return Ok(None),
        Value::Str(s) => ServerDefault::Literal(s),
        Value::Text(s) => ServerDefault::Text(s),
        Value::Sa(sa) => match *sa {
            Sa::Function(f) => ServerDefault::Function(f),
            Sa::Bool(b) => ServerDefault::Bool(b),
            other => return Err(format!("{} a {}", what(), other.type_name())),
        },
        other => return Err(format!("{} a {}", what(), other.type_name())),
    }))
}

/// A type argument (`type_=`, `existing_type=`, a column's type).
pub(crate) fn sql_type(v: Value) -> Option<SqlType> {
    match v {
        Value::Sa(sa) => match *sa {
            Sa::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

/// A call of the SQLAlchemy `path` (or `op.f`); `Err(None)` when the folder does not know
/// what `path` is.
pub(crate) fn call(
    path: &str,
    args: &mut Vec<Value>,
    kwargs: &mut Vec<(&str, Value)>,
) -> Result<Value, Option<String>> {
    known_call(path, args, kwargs)?.ok_or(None)
}

fn known_call(
    path: &str,
    args: &mut Vec<Value>,
    kwargs: &mut Vec<(&str, Value)>,
) -> Result<Option<Value>, String> {
    if path == "alembic.op.f" {
        let mut b = bind(
            What::Call("op.f"),
            args,
            kwargs,
            &["name"],
            &[],
            false,
            false,
        )?;
        let name = b.str("name")?;
        b.done(&[])?;
        return Ok(Some(Value::Str(name)));
    }
    let sa = |s: Sa| Ok(Some(Value::Sa(Box::new(s))));
    if let Some(f) = path
        .strip_prefix("sqlalchemy.func.")
        .or_else(|| path.strip_prefix("sqlalchemy.sql.func."))
        .or_else(|| path.strip_prefix("sqlalchemy.sql.expression.func."))
    {
        if !args.is_empty() || !kwargs.is_empty() || f.contains('.') {
            return Err(format!("func.{f}(...) with arguments"));
        }
        return sa(Sa::Function(f.to_string()));
    }
    let Some((module, _, name)) = locate(path) else {
        return Ok(None);
    };
    known_in(module, name, args, kwargs)
}

/// A call of `sqlalchemy.NAME(...)` (the generic module's `NAME`), as [`call`] reads
/// `sqlalchemy.NAME`, for the folder's `sa.NAME(...)` without building the path. `NAME` is
/// not `text`, which [`call`] does not read.
pub(crate) fn call_generic(
    name: &str,
    args: &mut Vec<Value>,
    kwargs: &mut Vec<(&str, Value)>,
) -> Result<Value, Option<String>> {
    known_in(TypeModule::Generic, name, args, kwargs)?.ok_or(None)
}

/// [`known_call`] of the class or function `name` of `module` (as [`locate`] gives them).
fn known_in(
    module: TypeModule,
    name: &str,
    args: &mut Vec<Value>,
    kwargs: &mut Vec<(&str, Value)>,
) -> Result<Option<Value>, String> {
    let sa = |s: Sa| Ok(Some(Value::Sa(Box::new(s))));
    if let Some(class) = type_class_in(module, name) {
        return sa(Sa::Type(type_call(class, args, kwargs)?));
    }
    if module != TypeModule::Generic {
        return Ok(None);
    }
    match name {
        "true" | "false" if args.is_empty() && kwargs.is_empty() => sa(Sa::Bool(name == "true")),
        "Column" => sa(Sa::Column(column(args, kwargs)?)),
        "ForeignKey" => sa(Sa::ForeignKey(foreign_key(args, kwargs)?)),
        "PrimaryKeyConstraint" => {
            let (name, columns, deferrable, initially, options) =
                column_constraint(What::Call("PrimaryKeyConstraint"), args, kwargs, PK_OPTIONS)?;
            sa(Sa::PrimaryKey(PrimaryKeyConstraint {
                name,
                columns,
                deferrable,
                initially,
                options,
            }))
        }
        "UniqueConstraint" => {
            let (name, columns, deferrable, initially, options) =
                column_constraint(What::Call("UniqueConstraint"), args, kwargs, UNIQUE_OPTIONS)?;
            sa(Sa::Unique(UniqueConstraint {
                name,
                columns,
                deferrable,
                initially,
                options,
            }))
        }
        "CheckConstraint" => sa(Sa::Check(check_constraint(args, kwargs)?)),
        "ForeignKeyConstraint" => {
            let mut b = bind(
                What::Call("ForeignKeyConstraint"),
                args,
                kwargs,
                &[
                    "columns",
                    "refcolumns",
                    "name",
                    "onupdate",
                    "ondelete",
                    "deferrable",
                    "initially",
                    "use_alter",
                    "link_to_name",
                    "match",
                ],
                &["info", "comment"],
                false,
                true,
            )?;
            let columns = b.str_list("columns")?;
            let refcolumns = b.str_list("refcolumns")?;
            if columns.len() != refcolumns.len() || columns.is_empty() {
                return Err(
                    "ForeignKeyConstraint(...) with column lists of different lengths".into(),
                );
            }
            let rules = fk_rules(&mut b, FK_OPTIONS)?;
            b.done(&["info", "comment"])?;
            sa(Sa::ForeignKeyConstraint {
                columns,
                refcolumns,
                rules,
            })
        }
        _ => Ok(None),
    }
}

/// Dialect options SQLAlchemy accepts on a primary key constraint.
const PK_OPTIONS: &[&str] = &[
    "postgresql_include",
    "mysql_using",
    "sqlite_on_conflict",
    "mssql_clustered",
];
/// ... on a unique constraint.
pub(crate) const UNIQUE_OPTIONS: &[&str] = &[
    "postgresql_include",
    "postgresql_nulls_not_distinct",
    "sqlite_on_conflict",
    "mssql_clustered",
];
/// ... on a foreign key.
const FK_OPTIONS: &[&str] = &["postgresql_not_valid"];

type ColumnConstraint = (
    Option<String>,
    Vec<String>,
    Option<bool>,
    Option<String>,
    DialectOptions,
);

fn column_constraint(
    what: What<'_>,
    args: &mut Vec<Value>,
    kwargs: &mut Vec<(&str, Value)>,
    known: &[&str],
) -> Result<ColumnConstraint, String> {
    let mut b = bind(
        what,
        args,
        kwargs,
        &[],
        &["name", "deferrable", "initially", "info", "comment"],
        true,
        true,
    )?;
    let columns = b
        .rest
        .drain(..)
        .map(|v| match v {
            Value::Str(s) => Ok(s),
            other => Err(format!(
                "{what} with a {} as a column (give column names)",
                other.type_name()
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let name = b.opt_str("name")?;
    let deferrable = b.opt_bool("deferrable")?;
    let initially = b.opt_str("initially")?;
    let options = b.dialect_options(known)?;
    b.done(&["info", "comment"])?;
    Ok((name, columns, deferrable, initially, options))
}

pub(crate) fn fk_rules(b: &mut Bound, known: &[&str]) -> Result<ForeignKeyRules, String> {
    let rules = ForeignKeyRules {
        name: b.opt_str("name")?,
        onupdate: b.opt_str("onupdate")?,
        ondelete: b.opt_str("ondelete")?,
        deferrable: b.opt_bool("deferrable")?,
        initially: b.opt_str("initially")?,
        match_: b.opt_str("match")?,
        use_alter: b.bool_or("use_alter", false)?,
        options: b.dialect_options(known)?,
    };
    if b.bool_or("link_to_name", false)? {
        return Err(format!("{} with link_to_name=True", b.what));
    }
    Ok(rules)
}

/// `sa.CheckConstraint(sqltext, name=, deferrable=, initially=)`.
fn check_constraint(
    args: &mut Vec<Value>,
    kwargs: &mut Vec<(&str, Value)>,
) -> Result<CheckConstraint, String> {
    let what = What::Call("CheckConstraint");
    let mut b = bind(
        what,
        args,
        kwargs,
        &["sqltext", "name", "deferrable", "initially"],
        &["info"],
        false,
        true,
    )?;
    let condition = check_condition(b.take("sqltext"), what)?;
    let name = b.opt_str("name")?;
    let deferrable = b.opt_bool("deferrable")?;
    let initially = b.opt_str("initially")?;
    b.dialect_options(&[])?;
    b.done(&["info"])?;
    Ok(CheckConstraint {
        name,
        condition,
        deferrable,
        initially,
    })
}

/// A check constraint's condition: a string or `sa.text(...)` (SQLAlchemy makes a string a
/// `text()`), without the bind parameters its compiler would look for.
pub(crate) fn check_condition(v: Option<Value>, what: What<'_>) -> Result<String, String> {
    match v {
        Some(Value::Str(s) | Value::Text(s)) => match super::fold::bind_parameter(&s) {
            Some(p) => Err(format!(
                "{what} whose condition holds the bind parameter '{p}' (SQLAlchemy compiles \
                 the text and needs a value for it)"
            )),
            None => Ok(s),
        },
        Some(other) => Err(format!(
            "{what} with a {} as its condition (only a string or sa.text(...) is rendered)",
            other.type_name()
        )),
        None => Err(format!("{what} without a condition")),
    }
}

fn foreign_key(
    args: &mut Vec<Value>,
    kwargs: &mut Vec<(&str, Value)>,
) -> Result<ForeignKey, String> {
    let mut b = bind(
        What::Call("ForeignKey"),
        args,
        kwargs,
        &[
            "column",
            "_constraint",
            "use_alter",
            "name",
            "onupdate",
            "ondelete",
            "deferrable",
            "initially",
            "link_to_name",
            "match",
            "info",
        ],
        &["comment"],
        false,
        true,
    )?;
    let target = match b.take("column") {
        Some(Value::Str(s)) => s,
        Some(other) => {
            return Err(format!(
                "ForeignKey(...) of a {} (give the column as \"table.column\")",
                other.type_name()
            ))
        }
        None => return Err("ForeignKey(...) without a column".into()),
    };
    if !matches!(b.take("_constraint"), None | Some(Value::None)) {
        return Err("ForeignKey(_constraint=...)".into());
    }
    let rules = fk_rules(&mut b, FK_OPTIONS)?;
    b.done(&["info", "comment"])?;
    Ok(ForeignKey { target, rules })
}

/// `sa.Column`'s keyword arguments: how many, and the slot of each (see [`column`]).
const COLUMN_KEYWORDS: usize = 18;
const C_TYPE: usize = 0;
const C_NULLABLE: usize = 1;
const C_PRIMARY_KEY: usize = 2;
const C_SERVER_DEFAULT: usize = 3;
const C_DEFAULT: usize = 4;
const C_AUTOINCREMENT: usize = 5;
const C_UNIQUE: usize = 6;
const C_INDEX: usize = 7;
const C_COMMENT: usize = 8;
const C_KEY: usize = 9;
const C_INFO: usize = 10;
const C_DOC: usize = 11;
const C_ONUPDATE: usize = 12;
const C_SERVER_ONUPDATE: usize = 13;
const C_INSERT_DEFAULT: usize = 14;
const C_QUOTE: usize = 15;
const C_SYSTEM: usize = 16;
const C_SORT_ORDER: usize = 17;

fn column(args: &mut Vec<Value>, kwargs: &mut Vec<(&str, Value)>) -> Result<Column, String> {
    let mut args = args.drain(..);
    let name = match args.next() {
        Some(Value::Str(s)) => s,
        Some(other) => {
            return Err(format!(
                "Column(...) whose first argument is a {} (give its name)",
                other.type_name()
            ))
        }
        None => return Err("Column(...) without a name".into()),
    };
    let mut type_ = None;
    let mut foreign_keys = Vec::new();
    for (n, v) in args.enumerate() {
        match v {
            Value::Sa(sa) => match *sa {
                Sa::Type(t) if n == 0 => type_ = Some(t),
                Sa::ForeignKey(fk) => foreign_keys.push(fk),
                other => {
                    return Err(format!(
                        "Column('{name}', ...) with a {} argument",
                        other.type_name()
                    ))
                }
            },
            other => {
                return Err(format!(
                    "Column('{name}', ...) with a {} argument",
                    other.type_name()
                ))
            }
        }
    }
    let what = What::Column(&name);
    // One pass over the keywords, each matched once to its slot (with the order it was
    // written in, for the refusal of what is left), then read in the order `bind` and
    // `take` would read them: the same refusals, in the same order.
    let mut slots: [Option<(usize, &str, Value)>; COLUMN_KEYWORDS] =
        [const { None }; COLUMN_KEYWORDS];
    let mut dialect: Option<&str> = None;
    for (n, (k, v)) in kwargs.drain(..).enumerate() {
        let slot = match k {
            "type_" => C_TYPE,
            "nullable" => C_NULLABLE,
            "primary_key" => C_PRIMARY_KEY,
            "server_default" => C_SERVER_DEFAULT,
            "default" => C_DEFAULT,
            "autoincrement" => C_AUTOINCREMENT,
            "unique" => C_UNIQUE,
            "index" => C_INDEX,
            "comment" => C_COMMENT,
            "key" => C_KEY,
            "info" => C_INFO,
            "doc" => C_DOC,
            "onupdate" => C_ONUPDATE,
            "server_onupdate" => C_SERVER_ONUPDATE,
            "insert_default" => C_INSERT_DEFAULT,
            "quote" => C_QUOTE,
            "system" => C_SYSTEM,
            "sort_order" => C_SORT_ORDER,
            _ if is_dialect_keyword(k) => {
                dialect.get_or_insert(k);
                continue;
            }
            _ => return Err(format!("{what} with the keyword argument '{k}'")),
        };
        if slots[slot].is_some() {
            return Err(format!("{what} with '{k}' given twice"));
        }
        slots[slot] = Some((n, k, v));
    }
    let mut take = |slot: usize| slots[slot].take().map(|(_, _, v)| v);
    if let Some(t) = take(C_TYPE) {
        type_ = Some(
            sql_type(t)
                .ok_or_else(|| format!("{what} with type_= that is not a SQLAlchemy type"))?,
        );
    }
    let nullable = match take(C_NULLABLE) {
        Some(Value::Bool(v)) => Some(v),
        None => None,
        Some(other) => return Err(format!("{what} with nullable= a {}", other.type_name())),
    };
    let primary_key = match take(C_PRIMARY_KEY) {
        Some(Value::Bool(b)) => b,
        Some(Value::None) | None => false,
        Some(other) => {
            return Err(expected(
                &what,
                "primary_key",
                "True, False or None",
                &other,
            ))
        }
    };
    let server_default = match take(C_SERVER_DEFAULT) {
        Some(v) => server_default(v, || format!("{what} with server_default="))?,
        None => None,
    };
    let has_default = !matches!(take(C_DEFAULT), None | Some(Value::None))
        || !matches!(take(C_INSERT_DEFAULT), None | Some(Value::None));
    let autoincrement = match take(C_AUTOINCREMENT) {
        None => Autoincrement::Auto,
        Some(Value::Bool(true)) => Autoincrement::Yes,
        Some(Value::Bool(false)) => Autoincrement::No,
        Some(Value::Str(s)) if s == "auto" => Autoincrement::Auto,
        Some(Value::Str(s)) if s == "ignore_fk" => Autoincrement::IgnoreFk,
        Some(other) => {
            return Err(format!(
                "{what} with autoincrement= {}",
                other.to_repr(false).unwrap_or_default()
            ))
        }
    };
    let opt_bool = |v: Option<Value>, name: &str| match v {
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::None) | None => Ok(None),
        Some(other) => Err(expected(&what, name, "True, False or None", &other)),
    };
    let unique = opt_bool(take(C_UNIQUE), "unique")?;
    let index = opt_bool(take(C_INDEX), "index")?;
    let comment = match take(C_COMMENT) {
        Some(Value::Str(s)) => Some(s),
        Some(Value::None) | None => None,
        Some(other) => return Err(expected(&what, "comment", "a string or None", &other)),
    };
    if let Some(k) = take(C_KEY) {
        if !matches!(&k, Value::Str(k) if *k == name) {
            return Err(format!("{what} with a key= other than its name"));
        }
    }
    if let Some(v) = take(C_SERVER_ONUPDATE) {
        // A server-side ON UPDATE marker has no DDL of its own.
        if !matches!(v, Value::None | Value::Text(_)) {
            return Err(format!("{what} with server_onupdate= a {}", v.type_name()));
        }
    }
    if let Some(k) = dialect {
        return Err(unknown_dialect_option(&what, k));
    }
    // What is left, but `info=`, `doc=` and `onupdate=` (no DDL): refused, the first
    // written first.
    let left = [C_INSERT_DEFAULT, C_QUOTE, C_SYSTEM, C_SORT_ORDER]
        .into_iter()
        .filter_map(|slot| slots[slot].as_ref().map(|(n, k, _)| (*n, *k)))
        .min();
    if let Some((_, k)) = left {
        return Err(format!("{what} with {k}= (not rendered by migrate yet)"));
    }
    let options = DialectOptions::default();
    Ok(Column {
        name,
        type_,
        nullable,
        primary_key,
        server_default,
        has_default,
        autoincrement,
        unique,
        index,
        comment,
        foreign_keys,
        options,
    })
}

/// Read `class(*args, **kwargs)` by the class's signature.
fn type_call(
    class: TypeClass,
    args: &mut Vec<Value>,
    kwargs: &mut Vec<(&str, Value)>,
) -> Result<SqlType, String> {
    use TypeClass as C;
    let what = What::Call(class.class_name());
    let mut t = SqlType::new(class);
    let mut d = TypeDetails::default();
    // Without arguments every detail keeps its default (checked in debug builds below).
    let plain = args.is_empty() && kwargs.is_empty();
    let module = class.module();
    let string_kw: &[&str] = if module == TypeModule::Mysql {
        &[
            "collation",
            "charset",
            "ascii",
            "binary",
            "unicode",
            "national",
        ]
    } else {
        &["collation"]
    };
    let mut b = match class {
        C::String
        | C::Text
        | C::Unicode
        | C::UnicodeText
        | C::Varchar
        | C::Nvarchar
        | C::Char
        | C::Nchar
        | C::TextUpper
        | C::Clob
        | C::MyVarchar
        | C::MyChar
        | C::MyNvarchar
        | C::MyNchar
        | C::MyText => {
            let positional: &[&str] = if module == TypeModule::Mysql {
                &["length"]
            } else {
                &["length", "collation"]
            };
            let mut b = bind(what, args, kwargs, positional, string_kw, false, false)?;
            t.length = b.opt_uint("length")?;
            string_options(&mut b, &mut t, &mut d)?;
            b
        }
        C::MyTinytext | C::MyMediumtext | C::MyLongtext => {
            let mut b = bind(what, args, kwargs, &[], string_kw, false, false)?;
            string_options(&mut b, &mut t, &mut d)?;
            b
        }
        C::MyEnum | C::MySet | C::Enum | C::PgEnum => {
            let keyword: &[&str] = match class {
                C::Enum | C::PgEnum => &[
                    "name",
                    "create_type",
                    "native_enum",
                    "create_constraint",
                    "length",
                    "schema",
                    "validate_strings",
                    "inherit_schema",
                    "metadata",
                    "quote",
                    "omit_aliases",
                ],
                _ => &[
                    "collation",
                    "charset",
                    "ascii",
                    "binary",
                    "unicode",
                    "national",
                    "quoting",
                    "retrieve_as_bitwise",
                    "validate_strings",
                    "length",
                    "native_enum",
                    "create_constraint",
                    "name",
                ],
            };
            if class == C::Enum && kwargs.iter().any(|(k, _)| *k == "create_type") {
                // Only postgresql.ENUM takes it; sqlalchemy.Enum raises TypeError.
                return Err(format!("{what} with the keyword argument 'create_type'"));
            }
            let mut b = bind(what, args, kwargs, &[], keyword, true, false)?;
            let mut values = Vec::new();
            for v in std::mem::take(b.rest) {
                match v {
                    Value::Str(s) => values.push(s),
                    Value::List(_) | Value::Tuple(_) if values.is_empty() => {
                        values = strings(&v)
                            .ok_or_else(|| format!("{what} with values that are not strings"))?;
                    }
                    other => {
                        return Err(format!(
                            "{what} with a {} value (give the values as strings)",
                            other.type_name()
                        ))
                    }
                }
            }
            d.values = values;
            d.name = b.opt_str("name")?;
            d.schema = b.opt_str("schema")?;
            d.native_enum = b.bool_or("native_enum", true)?;
            d.create_constraint = b.bool_or("create_constraint", false)?;
            d.create_type = b.bool_or("create_type", true)?;
            t.length = b.opt_uint("length")?;
            if class == C::MyEnum || class == C::MySet {
                string_options(&mut b, &mut t, &mut d)?;
            }
            if b.take("inherit_schema") == Some(Value::Bool(true)) {
                return Err(format!("{what} with inherit_schema=True"));
            }
            b.take("validate_strings");
            b
        }
        C::Integer
        | C::SmallInteger
        | C::BigInteger
        | C::IntegerUpper
        | C::Int
        | C::Smallint
        | C::Bigint
        | C::Date
        | C::DateUpper
        | C::PgInet
        | C::PgCidr
        | C::PgMacaddr
        | C::PgTsvector
        | C::PgCitext
        | C::PgMoney
        | C::PgOid
        | C::MyTinyblob
        | C::MyMediumblob
        | C::MyLongblob
        | C::BooleanUpper
        | C::LiteDate => {
            let keyword: &[&str] = if matches!(class, C::BooleanUpper) {
                &["create_constraint", "name"]
            } else {
                &[]
            };
            let mut b = bind(what, args, kwargs, &[], keyword, false, false)?;
            d.create_constraint = b.bool_or("create_constraint", false)?;
            b.take("name");
            b
        }
        C::Boolean => {
            let mut b = bind(
                what,
                args,
                kwargs,
                &["create_constraint", "name"],
                &[],
                false,
                false,
            )?;
            d.create_constraint = b.bool_or("create_constraint", false)?;
            b.take("name");
            b
        }
        C::MyTinyint | C::MySmallint | C::MyMediumint | C::MyInteger | C::MyBigint => {
            let mut b = bind(
                what,
                args,
                kwargs,
                &["display_width"],
                &["unsigned", "zerofill"],
                false,
                false,
            )?;
            d.display_width = b.opt_uint("display_width")?;
            d.unsigned = b.bool_or("unsigned", false)?;
            d.zerofill = b.bool_or("zerofill", false)?;
            b
        }
        C::MyYear => {
            let mut b = bind(what, args, kwargs, &["display_width"], &[], false, false)?;
            d.display_width = b.opt_uint("display_width")?;
            b
        }
        C::DateTime | C::DatetimeUpper | C::Timestamp | C::Time | C::TimeUpper => {
            let mut b = bind(what, args, kwargs, &["timezone"], &[], false, false)?;
            t.timezone = b.bool_or("timezone", false)?;
            b
        }
        C::PgTimestamp | C::PgTime => {
            let mut b = bind(
                what,
                args,
                kwargs,
                &["timezone", "precision"],
                &[],
                false,
                false,
            )?;
            t.timezone = b.bool_or("timezone", false)?;
            t.precision = b.opt_uint("precision")?;
            b
        }
        C::MyDatetime | C::MyTimestamp | C::MyTime => {
            let mut b = bind(what, args, kwargs, &["timezone", "fsp"], &[], false, false)?;
            t.timezone = b.bool_or("timezone", false)?;
            d.fsp = b.opt_uint("fsp")?;
            b
        }
        C::LiteDatetime | C::LiteTime => bind(what, args, kwargs, &[], &[], false, false)?,
        C::Numeric | C::NumericUpper | C::Decimal => {
            let mut b = bind(
                what,
                args,
                kwargs,
                &["precision", "scale", "decimal_return_scale", "asdecimal"],
                &[],
                false,
                false,
            )?;
            t.precision = b.opt_uint("precision")?;
            t.scale = b.opt_uint("scale")?;
            b.take("decimal_return_scale");
            b.take("asdecimal");
            b
        }
        C::Float | C::FloatUpper | C::Double | C::DoubleUpper | C::Real | C::DoublePrecision => {
            let mut b = bind(
                what,
                args,
                kwargs,
                &["precision", "asdecimal", "decimal_return_scale"],
                &[],
                false,
                false,
            )?;
            t.precision = b.opt_uint("precision")?;
            b.take("decimal_return_scale");
            b.take("asdecimal");
            b
        }
        C::MyDecimal | C::MyNumeric | C::MyFloat | C::MyDouble | C::MyReal => {
            let mut b = bind(
                what,
                args,
                kwargs,
                &["precision", "scale", "asdecimal"],
                &["unsigned", "zerofill"],
                false,
                false,
            )?;
            t.precision = b.opt_uint("precision")?;
            t.scale = b.opt_uint("scale")?;
            d.unsigned = b.bool_or("unsigned", false)?;
            d.zerofill = b.bool_or("zerofill", false)?;
            b.take("asdecimal");
            b
        }
        C::LargeBinary | C::Blob | C::Binary | C::Varbinary | C::PgBytea | C::MyBit => {
            let mut b = bind(what, args, kwargs, &["length"], &[], false, false)?;
            t.length = b.opt_uint("length")?;
            b
        }
        C::PgBit => {
            let mut b = bind(
                what,
                args,
                kwargs,
                &["length", "varying"],
                &[],
                false,
                false,
            )?;
            t.length = b.opt_uint("length")?;
            d.varying = b.bool_or("varying", false)?;
            if t.length.is_none() && !d.varying {
                t.length = Some(1);
            }
            b
        }
        C::Json | C::PgJson | C::PgJsonb | C::MyJson | C::LiteJson => {
            let positional: &[&str] = if matches!(class, C::PgJson | C::PgJsonb) {
                &["none_as_null", "astext_type"]
            } else {
                &["none_as_null"]
            };
            let mut b = bind(what, args, kwargs, positional, &[], false, false)?;
            b.take("none_as_null");
            if let Some(a) = b.take("astext_type") {
                if !matches!(a, Value::None) && sql_type(a).is_none() {
                    return Err(format!("{what} with astext_type= that is not a type"));
                }
            }
            b
        }
        C::PgHstore => {
            let mut b = bind(what, args, kwargs, &["text_type"], &[], false, false)?;
            b.take("text_type");
            b
        }
        C::Uuid | C::UuidUpper => {
            let positional: &[&str] = if class == C::Uuid {
                &["as_uuid", "native_uuid"]
            } else {
                &["as_uuid"]
            };
            let mut b = bind(what, args, kwargs, positional, &[], false, false)?;
            b.take("as_uuid");
            d.native_uuid = b.bool_or("native_uuid", true)?;
            b
        }
        C::Array | C::PgArray => {
            let mut b = bind(
                what,
                args,
                kwargs,
                &["item_type", "as_tuple", "dimensions", "zero_indexes"],
                &[],
                false,
                false,
            )?;
            let item = b
                .take("item_type")
                .and_then(sql_type)
                .ok_or_else(|| format!("{what} without an item type"))?;
            d.item = Some(Box::new(item));
            d.dimensions = b.opt_uint("dimensions")?;
            b.take("as_tuple");
            b.take("zero_indexes");
            b
        }
        C::Interval => {
            let mut b = bind(
                what,
                args,
                kwargs,
                &["native", "second_precision", "day_precision"],
                &[],
                false,
                false,
            )?;
            d.native = b.bool_or("native", true)?;
            t.precision = b.opt_uint("second_precision")?;
            if b.opt_uint("day_precision")?.is_some() {
                return Err(format!("{what} with day_precision="));
            }
            b
        }
        C::PgInterval => {
            let mut b = bind(
                what,
                args,
                kwargs,
                &["precision", "fields"],
                &[],
                false,
                false,
            )?;
            t.precision = b.opt_uint("precision")?;
            d.fields = b.opt_str("fields")?;
            b
        }
    };
    b.take("metadata");
    b.take("omit_aliases");
    if matches!(b.get("quote"), Some(Value::Bool(_))) {
        return Err(format!("{what} with quote="));
    }
    b.take("quote");
    b.done(&[])?;
    if plain {
        debug_assert!(d == TypeDetails::default(), "{what} changed a detail");
    } else {
        t.set_details(d);
    }
    Ok(t)
}

fn string_options(b: &mut Bound, t: &mut SqlType, d: &mut TypeDetails) -> Result<(), String> {
    t.collation = b.opt_str("collation")?;
    d.charset = b.opt_str("charset")?;
    d.ascii = b.bool_or("ascii", false)?;
    d.binary = b.bool_or("binary", false)?;
    d.unicode = b.bool_or("unicode", false)?;
    d.national = b.bool_or("national", false)?;
    Ok(())
}
