//! Catalog snapshots: a database's schema as a plain, ordered value that can be compared and
//! printed.
//!
//! Each backend reads its own catalog into a [`Snapshot`] (through
//! [`crate::Executor::snapshot`]): SQLite's `sqlite_schema` and pragmas, PostgreSQL's
//! `pg_catalog`, MySQL's `information_schema`. The version table and its history table are
//! left out. A snapshot holds no data rows and nothing that changes when a database is rebuilt
//! from the same statements (object ids, counters, creation times), so two databases migrated
//! by the same revisions have equal snapshots, and [`diff`] lists what differs between two,
//! object by object, as typed [`Difference`]s.
//!
//! Every list is sorted (by schema, then name) once the reader calls [`Snapshot::sorted`], so a
//! snapshot prints the same way on every machine. Text a backend needs to recreate an object
//! exactly as its catalog stores it (SQLite keeps the `CREATE` statement of every object) is
//! kept in the `ddl` fields, which are neither compared nor serialized: they feed the
//! backend's `dump`.
//!
//! ```
//! use migrate_core::snapshot::{diff, Column, Snapshot, Table};
//!
//! let column = |name: &str| Column::new(name, "TEXT", true);
//! let before = Snapshot {
//!     tables: vec![Table::new(None, "tenants", vec![column("id")])],
//!     ..Snapshot::default()
//! };
//! let mut after = before.clone();
//! after.tables[0].columns.push(column("notes"));
//! let differences = diff(&before, &after);
//! assert_eq!(differences.len(), 1);
//! assert_eq!(differences[0].to_string(), "column notes on tenants is added");
//! ```

mod diff;

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

pub use diff::{diff, Change, Difference, ObjectKind, ObjectRef};

/// The schema of one database: every object `migrate` compares, each list sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// Schemas other than the connection's default one (PostgreSQL).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
    /// Installed extensions (PostgreSQL), `plpgsql` aside.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
    /// Enum types (PostgreSQL).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub enums: Vec<EnumType>,
    /// Sequences that are not a column's identity (PostgreSQL).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sequences: Vec<Sequence>,
    /// Tables, with their columns, keys, constraints and indexes.
    pub tables: Vec<Table>,
    /// Views and materialized views.
    pub views: Vec<View>,
    /// Functions and procedures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routines: Vec<Routine>,
    /// Triggers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
}

impl Snapshot {
    /// The snapshot with every list in canonical order: objects by schema and name, a
    /// table's constraints and indexes by name (unnamed ones by their content). Columns keep
    /// their position.
    pub fn sorted(mut self) -> Snapshot {
        self.schemas.sort();
        self.extensions.sort_by(|a, b| a.name.cmp(&b.name));
        self.enums
            .sort_by(|a, b| key(&a.schema, &a.name).cmp(&key(&b.schema, &b.name)));
        self.sequences
            .sort_by(|a, b| key(&a.schema, &a.name).cmp(&key(&b.schema, &b.name)));
        for table in &mut self.tables {
            table.uniques.sort_by_key(|u| u.key());
            table.checks.sort_by_key(|c| c.key());
            table.foreign_keys.sort_by_key(|f| f.key());
            table.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        }
        self.tables
            .sort_by(|a, b| key(&a.schema, &a.name).cmp(&key(&b.schema, &b.name)));
        self.views
            .sort_by(|a, b| key(&a.schema, &a.name).cmp(&key(&b.schema, &b.name)));
        self.routines.sort_by(|a, b| {
            (key(&a.schema, &a.name), &a.arguments).cmp(&(key(&b.schema, &b.name), &b.arguments))
        });
        self.triggers.sort_by(|a, b| {
            (key(&a.schema, &a.table), &a.name).cmp(&(key(&b.schema, &b.table), &b.name))
        });
        self
    }

    /// The table `name` in `schema` (`None`: the default schema).
    pub fn table(&self, schema: Option<&str>, name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.schema.as_deref() == schema && t.name == name)
    }

    /// True when the database holds none of the objects a snapshot records.
    pub fn is_empty(&self) -> bool {
        *self == Snapshot::default()
    }
}

/// The sort key of a schema-qualified name: the default schema first.
fn key<'a>(schema: &'a Option<String>, name: &'a str) -> (Option<&'a str>, &'a str) {
    (schema.as_deref(), name)
}

/// `schema.name`, or `name` in the default schema.
pub fn qualified(schema: Option<&str>, name: &str) -> String {
    match schema {
        Some(s) => format!("{s}.{name}"),
        None => name.to_string(),
    }
}

/// A table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Table {
    /// Its schema; `None` for the connection's default schema (always `None` on SQLite and
    /// MySQL, whose snapshot covers one database).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Its name.
    pub name: String,
    /// Columns, in their order in the table.
    pub columns: Vec<Column>,
    /// The primary key, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<PrimaryKey>,
    /// Unique constraints (MySQL's unique keys are [`Index`]es with `unique`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub uniques: Vec<Unique>,
    /// Check constraints.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    /// Foreign keys.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKey>,
    /// Indexes that are not a primary key's or a unique constraint's own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    /// Table options that change behaviour: `WITHOUT ROWID`, `STRICT` (SQLite); `ENGINE=InnoDB`,
    /// `DEFAULT CHARSET=utf8mb4`, `COLLATE=...` (MySQL); `UNLOGGED`, `PARTITION BY ...`
    /// (PostgreSQL).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// The table's comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The statement the catalog keeps for the table (SQLite), for dumps; not compared.
    #[serde(skip)]
    pub ddl: Option<String>,
}

impl Table {
    /// A table with `columns` and nothing else.
    pub fn new(schema: Option<&str>, name: &str, columns: Vec<Column>) -> Table {
        Table {
            schema: schema.map(str::to_string),
            name: name.to_string(),
            columns,
            ..Table::default()
        }
    }

    /// The column `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A column of a table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its type as the catalog spells it (`character varying(255)`, `varchar(255)`,
    /// `VARCHAR(255)` for SQLite's declared type).
    pub data_type: String,
    /// Whether it accepts NULL.
    pub nullable: bool,
    /// Its default, as the catalog renders the expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// A generated column's expression and kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated: Option<Generated>,
    /// How values are numbered automatically: `GENERATED ALWAYS AS IDENTITY` (PostgreSQL),
    /// `AUTO_INCREMENT` (MySQL), `AUTOINCREMENT` (SQLite).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The character set, where the backend has one per column (MySQL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charset: Option<String>,
    /// The collation, when it is not the type's or the table's default (on MySQL: always, for
    /// text columns).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// MySQL's `ON UPDATE` expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_update: Option<String>,
    /// The column's comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl Column {
    /// A plain column: no default, nothing generated.
    pub fn new(name: &str, data_type: &str, nullable: bool) -> Column {
        Column {
            name: name.to_string(),
            data_type: data_type.to_string(),
            nullable,
            ..Column::default()
        }
    }
}

/// A generated (computed) column's definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Generated {
    /// The expression, as the catalog renders it.
    pub expression: String,
    /// True when the value is stored, false when computed on read (virtual).
    pub stored: bool,
}

/// A primary key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrimaryKey {
    /// The constraint's name, where the catalog keeps one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its columns, in key order.
    pub columns: Vec<String>,
    /// The catalog's own definition (PostgreSQL's `pg_get_constraintdef`), for dumps; not
    /// compared.
    #[serde(skip)]
    pub ddl: Option<String>,
}

/// A unique constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unique {
    /// The constraint's name, where the catalog keeps one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its columns, in order.
    pub columns: Vec<String>,
    /// The catalog's own definition, for dumps; not compared.
    #[serde(skip)]
    pub ddl: Option<String>,
}

impl Unique {
    fn key(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("({})", self.columns.join(", ")))
    }
}

/// A check constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// The constraint's name, where the catalog keeps one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The condition, as the catalog renders it.
    pub expression: String,
}

impl Check {
    fn key(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("CHECK ({})", self.expression))
    }
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForeignKey {
    /// The constraint's name, where the catalog keeps one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The referenced table (schema-qualified outside the default schema).
    pub referenced_table: String,
    /// The referenced columns; empty when the key names none (SQLite: the primary key).
    pub referenced_columns: Vec<String>,
    /// `ON UPDATE` action (`NO ACTION`, `CASCADE`, ...).
    pub on_update: String,
    /// `ON DELETE` action.
    pub on_delete: String,
    /// Deferral and match options where the backend has them (`DEFERRABLE INITIALLY
    /// DEFERRED`, `MATCH FULL`); empty otherwise.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub options: String,
    /// The catalog's own definition, for dumps; not compared.
    #[serde(skip)]
    pub ddl: Option<String>,
}

impl ForeignKey {
    fn key(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            format!(
                "({}) -> {}({})",
                self.columns.join(", "),
                self.referenced_table,
                self.referenced_columns.join(", ")
            )
        })
    }
}

/// An index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Index {
    /// Its name.
    pub name: String,
    /// Its key parts in order, each as the backend renders it: a column name or an
    /// expression, with `DESC`, a collation or a prefix length where they apply
    /// (`name DESC`, `lower(name)`, `name(10)`).
    pub columns: Vec<String>,
    /// Whether it is unique.
    pub unique: bool,
    /// A partial index's condition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// The access method where the backend has several (`btree`, `gin`, `FULLTEXT`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Non-key columns carried by the index (PostgreSQL `INCLUDE`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// The statement the catalog keeps or renders for the index, for dumps; not compared.
    #[serde(skip)]
    pub ddl: Option<String>,
}

/// A view or materialized view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct View {
    /// Its schema (`None`: the default one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Its name.
    pub name: String,
    /// True for a materialized view (PostgreSQL).
    pub materialized: bool,
    /// Its query, as the catalog renders it.
    pub definition: String,
    /// Its comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Other views this one reads, for the order of a dump; not compared.
    #[serde(skip)]
    pub depends_on: Vec<String>,
    /// The statement the catalog keeps for the view (SQLite), for dumps; not compared.
    #[serde(skip)]
    pub ddl: Option<String>,
}

/// A sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sequence {
    /// Its schema (`None`: the default one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Its name.
    pub name: String,
    /// Its type (`bigint`).
    pub data_type: String,
    /// `START WITH`.
    pub start: i64,
    /// `INCREMENT BY`.
    pub increment: i64,
    /// `MINVALUE`.
    pub min: i64,
    /// `MAXVALUE`.
    pub max: i64,
    /// `CACHE`.
    pub cache: i64,
    /// `CYCLE`.
    pub cycle: bool,
    /// The column owning it (`table.column`), as a `serial` column's sequence is owned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
}

/// An enum type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnumType {
    /// Its schema (`None`: the default one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Its name.
    pub name: String,
    /// Its labels, in sort order.
    pub labels: Vec<String>,
}

/// An installed extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extension {
    /// Its name.
    pub name: String,
    /// The installed version.
    pub version: String,
    /// The schema its objects live in (`None`: the default one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

/// Whether a routine is a function or a procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RoutineKind {
    /// A function (returns a value).
    Function,
    /// A procedure (`CALL`ed).
    Procedure,
}

/// A function or procedure, compared by its definition (printed as a hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Routine {
    /// Its schema (`None`: the default one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Its name.
    pub name: String,
    /// Function or procedure.
    pub kind: RoutineKind,
    /// Its argument types, which tell overloads apart (`integer, text`).
    pub arguments: String,
    /// The complete statement that creates it, as the catalog renders it; serialized as its
    /// SHA-256.
    #[serde(rename = "definition_sha256", serialize_with = "serialize_hash")]
    pub definition: String,
}

/// A trigger, compared by its definition (printed as a hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trigger {
    /// The schema of its table (`None`: the default one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The table it fires on.
    pub table: String,
    /// Its name.
    pub name: String,
    /// Its definition, as the catalog renders it; serialized as its SHA-256.
    #[serde(rename = "definition_sha256", serialize_with = "serialize_hash")]
    pub definition: String,
    /// The statement the catalog keeps for the trigger, for dumps; not compared.
    #[serde(skip)]
    pub ddl: Option<String>,
}

/// `views` ordered so that each comes after the views it reads ([`View::depends_on`]),
/// otherwise in name order: the order a dump creates them in.
pub fn views_in_dependency_order(views: &[View]) -> Vec<&View> {
    let key = |v: &View| qualified(v.schema.as_deref(), &v.name);
    let known: std::collections::BTreeSet<String> = views.iter().map(key).collect();
    let mut done = std::collections::BTreeSet::new();
    let mut out = Vec::with_capacity(views.len());
    while out.len() < views.len() {
        let before = out.len();
        for v in views {
            if !done.contains(&key(v))
                && v.depends_on
                    .iter()
                    .all(|d| done.contains(d) || !known.contains(d))
            {
                done.insert(key(v));
                out.push(v);
            }
        }
        if out.len() == before {
            // A cycle: no database lets one be created; keep the rest in name order anyway.
            out.extend(views.iter().filter(|v| !done.contains(&key(v))));
            break;
        }
    }
    out
}

/// Appends a blank line and `statements`, each ended by `;` and a newline (nothing when there
/// are none): how the backends' dumps lay out each group of statements.
pub fn push_statements(out: &mut String, statements: &[String]) {
    if statements.is_empty() {
        return;
    }
    out.push('\n');
    for s in statements {
        out.push_str(s.trim_end().trim_end_matches(';').trim_end());
        out.push_str(";\n");
    }
}

/// The version table's `CREATE TABLE` (as Alembic lays it out) and one plain `INSERT` per row,
/// rows sorted: how a dump ends, so that a database loaded from it is at those revisions.
pub fn version_table_statements(
    dialect: &dyn crate::Dialect,
    table: &crate::VersionTable,
    rows: &[String],
) -> Vec<String> {
    let mut rows = rows.to_vec();
    rows.sort();
    let name = dialect.version_table_name(table);
    std::iter::once(dialect.create_version_table(table))
        .chain(rows.iter().map(|row| {
            format!(
                "INSERT INTO {name} (version_num) VALUES ({})",
                dialect.string_literal(row)
            )
        }))
        .collect()
}

/// The SHA-256 of `text`, in lowercase hex: how routine and trigger definitions are printed.
pub fn definition_hash(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn serialize_hash<S: Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&definition_hash(text))
}

/// `sql` with every run of whitespace outside quotes and comments made one space, and no
/// space inside parentheses: how a backend that keeps the text of an expression as it was
/// written (SQLite) makes two spellings of the same text compare equal.
///
/// ```
/// use migrate_core::snapshot::normalize_sql;
/// assert_eq!(normalize_sql("  price >  0\n  AND ( qty<>'a  b' )"), "price > 0 AND (qty<>'a  b')");
/// ```
pub fn normalize_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    let mut pending_space = false;
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space && !out.is_empty() && !out.ends_with(['(', ',']) && c != ')' && c != ',' {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
        if matches!(c, '\'' | '"' | '`' | '[') {
            let close = if c == '[' { ']' } else { c };
            for inner in chars.by_ref() {
                out.push(inner);
                if inner == close {
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_orders_objects_by_schema_and_name_and_keeps_column_order() {
        let snap = Snapshot {
            tables: vec![
                Table::new(Some("audit"), "a", vec![]),
                Table::new(
                    None,
                    "b",
                    vec![Column::new("z", "int", true), Column::new("a", "int", true)],
                ),
                Table::new(None, "a", vec![]),
            ],
            ..Snapshot::default()
        }
        .sorted();
        let names: Vec<String> = snap
            .tables
            .iter()
            .map(|t| qualified(t.schema.as_deref(), &t.name))
            .collect();
        assert_eq!(names, ["a", "b", "audit.a"]);
        let columns: Vec<&str> = snap.tables[1]
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(columns, ["z", "a"]);
    }

    #[test]
    fn normalize_sql_keeps_quoted_text() {
        assert_eq!(normalize_sql("a\t=\n'x\n y'"), "a = 'x\n y'");
        assert_eq!(normalize_sql("f( a , b )"), "f(a,b)");
        assert_eq!(normalize_sql("f(a,b)"), "f(a,b)");
    }

    #[test]
    fn definitions_serialize_as_their_hash() {
        let trigger = Trigger {
            schema: None,
            table: "t".into(),
            name: "trg".into(),
            definition: "abc".into(),
            ddl: None,
        };
        let json = serde_json::to_string(&trigger).unwrap();
        // sha256("abc"), as `printf abc | sha256sum` prints it.
        assert!(
            json.contains("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            "{json}"
        );
    }
}
