//! Comparing two snapshots: a list of typed differences, object by object.
//!
//! [`diff`] is a pure function of two values. Objects are matched by name (unnamed constraints
//! by their content); an object only in the second snapshot is [`Change::Added`], one only in
//! the first [`Change::Removed`], and one in both whose properties differ gives one
//! [`Change::Changed`] per property. Callers word the result for their context (`verify`: "the
//! downgrade leaves ...", `drift`: "... is in the live database but ..."); [`Difference`]'s own
//! `Display` is the neutral form.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::{
    definition_hash, qualified, Check, Column, EnumType, Extension, ForeignKey, Index, PrimaryKey,
    Routine, RoutineKind, Sequence, Snapshot, Table, Trigger, Unique, View,
};

/// What kind of object a [`Difference`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ObjectKind {
    /// A schema (PostgreSQL).
    Schema,
    /// An extension (PostgreSQL).
    Extension,
    /// An enum type.
    Enum,
    /// A sequence.
    Sequence,
    /// A table.
    Table,
    /// A column of a table.
    Column,
    /// A table's primary key.
    PrimaryKey,
    /// A unique constraint.
    Unique,
    /// A check constraint.
    Check,
    /// A foreign key.
    ForeignKey,
    /// An index.
    Index,
    /// A view.
    View,
    /// A materialized view.
    MaterializedView,
    /// A function.
    Function,
    /// A procedure.
    Procedure,
    /// A trigger.
    Trigger,
}

impl ObjectKind {
    /// How the kind is written in a sentence: `index`, `foreign key`, ...
    pub fn noun(self) -> &'static str {
        match self {
            ObjectKind::Schema => "schema",
            ObjectKind::Extension => "extension",
            ObjectKind::Enum => "enum type",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::PrimaryKey => "primary key",
            ObjectKind::Unique => "unique constraint",
            ObjectKind::Check => "check constraint",
            ObjectKind::ForeignKey => "foreign key",
            ObjectKind::Index => "index",
            ObjectKind::View => "view",
            ObjectKind::MaterializedView => "materialized view",
            ObjectKind::Function => "function",
            ObjectKind::Procedure => "procedure",
            ObjectKind::Trigger => "trigger",
        }
    }
}

/// The object a [`Difference`] is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectRef {
    /// Its kind.
    pub kind: ObjectKind,
    /// Its name: for an unnamed constraint, its content (`(a, b)`); for a routine, with its
    /// argument types (`f(integer)`); empty for an unnamed primary key.
    pub name: String,
    /// The table it belongs to (schema-qualified outside the default schema), for columns,
    /// keys, constraints, indexes and triggers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// Its schema, for objects outside a table (`None`: the default one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

impl fmt::Display for ObjectRef {
    /// `index tenants_name on tenants`, `column notes on tenants`, `view audit.report`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.noun())?;
        if !self.name.is_empty() {
            write!(f, " {}", qualified(self.schema.as_deref(), &self.name))?;
        }
        if let Some(table) = &self.table {
            write!(f, " on {table}")?;
        }
        Ok(())
    }
}

/// How an object differs between the first and the second snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Change {
    /// The object is only in the second snapshot.
    Added,
    /// The object is only in the first snapshot.
    Removed,
    /// The object is in both, with one property different.
    Changed {
        /// The property, as a sentence names it: `default`, `type`, `columns`, `on delete`.
        property: String,
        /// Its value in the first snapshot, printable (`no default`, `NOT NULL`, `'x'`).
        before: String,
        /// Its value in the second snapshot.
        after: String,
    },
}

/// One difference between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The object.
    pub object: ObjectRef,
    /// How it differs.
    #[serde(flatten)]
    pub change: Change,
}

impl fmt::Display for Difference {
    /// `index tenants_name on tenants is added`, `the default of column name on tenants
    /// changed from 'a' to 'b'`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.change {
            Change::Added => write!(f, "{} is added", self.object),
            Change::Removed => write!(f, "{} is removed", self.object),
            Change::Changed {
                property,
                before,
                after,
            } => write!(
                f,
                "the {property} of {} changed from {before} to {after}",
                self.object
            ),
        }
    }
}

/// Everything that differs from `before` to `after`, in a stable order (by object kind in
/// the order of [`Snapshot`]'s fields, then name). Empty when the two are equal in everything
/// a snapshot compares.
pub fn diff(before: &Snapshot, after: &Snapshot) -> Vec<Difference> {
    let mut out = Differ::default();
    out.list(
        &before.schemas,
        &after.schemas,
        |s| s.clone(),
        |s| object(ObjectKind::Schema, s, None, None),
        |_, _, _| {},
    );
    out.list(
        &before.extensions,
        &after.extensions,
        |e| e.name.clone(),
        |e| object(ObjectKind::Extension, &e.name, None, None),
        |a: &Extension, b: &Extension, p| {
            p.text("version", &a.version, &b.version);
            p.opt("schema", &a.schema, &b.schema, "the default schema");
        },
    );
    out.list(
        &before.enums,
        &after.enums,
        |e| qualified(e.schema.as_deref(), &e.name),
        |e| object(ObjectKind::Enum, &e.name, e.schema.as_deref(), None),
        |a: &EnumType, b: &EnumType, p| p.list("labels", &a.labels, &b.labels),
    );
    out.list(
        &before.sequences,
        &after.sequences,
        |s| qualified(s.schema.as_deref(), &s.name),
        |s| object(ObjectKind::Sequence, &s.name, s.schema.as_deref(), None),
        sequence,
    );
    out.list(
        &before.tables,
        &after.tables,
        |t| qualified(t.schema.as_deref(), &t.name),
        |t| object(ObjectKind::Table, &t.name, t.schema.as_deref(), None),
        |_, _, _| {},
    );
    for a in &before.tables {
        if let Some(b) = after.table(a.schema.as_deref(), &a.name) {
            out.table(a, b);
        }
    }
    out.list(
        &before.views,
        &after.views,
        |v| qualified(v.schema.as_deref(), &v.name),
        view_ref,
        |a: &View, b: &View, p| {
            p.flag(
                "materialization",
                a.materialized,
                b.materialized,
                "materialized",
                "not materialized",
            );
            p.text("definition", &a.definition, &b.definition);
            p.opt("comment", &a.comment, &b.comment, "no comment");
        },
    );
    out.list(
        &before.routines,
        &after.routines,
        |r| {
            format!(
                "{}({})",
                qualified(r.schema.as_deref(), &r.name),
                r.arguments
            )
        },
        routine_ref,
        |a: &Routine, b: &Routine, p| p.hashed("definition", &a.definition, &b.definition),
    );
    out.list(
        &before.triggers,
        &after.triggers,
        |t| format!("{}.{}", qualified(t.schema.as_deref(), &t.table), t.name),
        |t: &Trigger| {
            object(
                ObjectKind::Trigger,
                &t.name,
                None,
                Some(qualified(t.schema.as_deref(), &t.table)),
            )
        },
        |a: &Trigger, b: &Trigger, p| p.hashed("definition", &a.definition, &b.definition),
    );
    out.differences
}

fn object(kind: ObjectKind, name: &str, schema: Option<&str>, table: Option<String>) -> ObjectRef {
    ObjectRef {
        kind,
        name: name.to_string(),
        table,
        schema: schema.map(str::to_string),
    }
}

fn view_ref(v: &View) -> ObjectRef {
    let kind = if v.materialized {
        ObjectKind::MaterializedView
    } else {
        ObjectKind::View
    };
    object(kind, &v.name, v.schema.as_deref(), None)
}

fn routine_ref(r: &Routine) -> ObjectRef {
    let kind = match r.kind {
        RoutineKind::Procedure => ObjectKind::Procedure,
        RoutineKind::Function => ObjectKind::Function,
    };
    object(
        kind,
        &format!("{}({})", r.name, r.arguments),
        r.schema.as_deref(),
        None,
    )
}

fn sequence(a: &Sequence, b: &Sequence, p: &mut Properties) {
    p.text("type", &a.data_type, &b.data_type);
    p.text("start", &a.start.to_string(), &b.start.to_string());
    p.text(
        "increment",
        &a.increment.to_string(),
        &b.increment.to_string(),
    );
    p.text("minimum", &a.min.to_string(), &b.min.to_string());
    p.text("maximum", &a.max.to_string(), &b.max.to_string());
    p.text("cache", &a.cache.to_string(), &b.cache.to_string());
    p.flag("cycling", a.cycle, b.cycle, "CYCLE", "NO CYCLE");
    p.opt("owner", &a.owned_by, &b.owned_by, "no owner");
}

fn column(a: &Column, b: &Column, p: &mut Properties) {
    p.text("type", &a.data_type, &b.data_type);
    p.flag("nullability", a.nullable, b.nullable, "NULL", "NOT NULL");
    p.opt("default", &a.default, &b.default, "no default");
    let generated = |c: &Column| {
        c.generated.as_ref().map(|g| {
            format!(
                "{} {}",
                g.expression,
                if g.stored { "STORED" } else { "VIRTUAL" }
            )
        })
    };
    p.opt(
        "generated expression",
        &generated(a),
        &generated(b),
        "not generated",
    );
    p.opt("identity", &a.identity, &b.identity, "no identity");
    p.opt(
        "character set",
        &a.charset,
        &b.charset,
        "the default character set",
    );
    p.opt(
        "collation",
        &a.collation,
        &b.collation,
        "the default collation",
    );
    p.opt("on update", &a.on_update, &b.on_update, "none");
    p.opt("comment", &a.comment, &b.comment, "no comment");
}

fn index(a: &Index, b: &Index, p: &mut Properties) {
    p.list("columns", &a.columns, &b.columns);
    p.flag("uniqueness", a.unique, b.unique, "UNIQUE", "not unique");
    p.opt("predicate", &a.predicate, &b.predicate, "no predicate");
    p.opt("method", &a.method, &b.method, "the default method");
    p.list("included columns", &a.include, &b.include);
}

fn foreign_key(a: &ForeignKey, b: &ForeignKey, p: &mut Properties) {
    p.list("columns", &a.columns, &b.columns);
    p.text("referenced table", &a.referenced_table, &b.referenced_table);
    p.list(
        "referenced columns",
        &a.referenced_columns,
        &b.referenced_columns,
    );
    p.text("on update action", &a.on_update, &b.on_update);
    p.text("on delete action", &a.on_delete, &b.on_delete);
    p.text("options", &a.options, &b.options);
}

/// The property-by-property comparison of one pair of objects.
#[derive(Default)]
struct Properties {
    changes: Vec<(String, String, String)>,
}

impl Properties {
    fn text(&mut self, property: &str, a: &str, b: &str) {
        if a != b {
            self.changes
                .push((property.to_string(), shown(a), shown(b)));
        }
    }

    fn opt(&mut self, property: &str, a: &Option<String>, b: &Option<String>, none: &str) {
        if a != b {
            let show = |v: &Option<String>| v.as_deref().map_or_else(|| none.to_string(), shown);
            self.changes.push((property.to_string(), show(a), show(b)));
        }
    }

    fn flag(&mut self, property: &str, a: bool, b: bool, yes: &str, no: &str) {
        if a != b {
            let show = |v: bool| if v { yes } else { no }.to_string();
            self.changes.push((property.to_string(), show(a), show(b)));
        }
    }

    fn list(&mut self, property: &str, a: &[String], b: &[String]) {
        if a != b {
            let show = |v: &[String]| format!("({})", v.join(", "));
            self.changes.push((property.to_string(), show(a), show(b)));
        }
    }

    fn hashed(&mut self, property: &str, a: &str, b: &str) {
        if a != b {
            let show = |v: &str| format!("sha256 {}", &definition_hash(v)[..12]);
            self.changes.push((property.to_string(), show(a), show(b)));
        }
    }
}

/// A value as a sentence shows it: empty text as `''`.
fn shown(v: &str) -> String {
    if v.is_empty() {
        "''".to_string()
    } else {
        v.to_string()
    }
}

#[derive(Default)]
struct Differ {
    differences: Vec<Difference>,
}

impl Differ {
    /// Matches `before` and `after` by `key` and records what was added, removed and changed.
    fn list<T>(
        &mut self,
        before: &[T],
        after: &[T],
        key: impl Fn(&T) -> String,
        object: impl Fn(&T) -> ObjectRef,
        properties: impl Fn(&T, &T, &mut Properties),
    ) {
        let after_by_key: BTreeMap<String, &T> = after.iter().map(|b| (key(b), b)).collect();
        let before_keys: BTreeMap<String, &T> = before.iter().map(|a| (key(a), a)).collect();
        for (k, a) in &before_keys {
            match after_by_key.get(k) {
                None => self.push(object(a), Change::Removed),
                Some(b) => {
                    let mut p = Properties::default();
                    properties(a, b, &mut p);
                    for (property, before, after) in p.changes {
                        self.push(
                            object(b),
                            Change::Changed {
                                property,
                                before,
                                after,
                            },
                        );
                    }
                }
            }
        }
        for (k, b) in &after_by_key {
            if !before_keys.contains_key(k) {
                self.push(object(b), Change::Added);
            }
        }
    }

    fn push(&mut self, object: ObjectRef, change: Change) {
        self.differences.push(Difference { object, change });
    }

    fn table(&mut self, a: &Table, b: &Table) {
        let table = qualified(a.schema.as_deref(), &a.name);
        let on = |kind, name: &str| object(kind, name, None, Some(table.clone()));
        let mut p = Properties::default();
        p.list("options", &a.options, &b.options);
        p.opt("comment", &a.comment, &b.comment, "no comment");
        let names = |t: &Table| t.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        let (mut sorted_a, mut sorted_b) = (names(a), names(b));
        let order_differs = sorted_a != sorted_b;
        sorted_a.sort();
        sorted_b.sort();
        if order_differs && sorted_a == sorted_b {
            p.list("column order", &names(a), &names(b));
        }
        for (property, before, after) in p.changes {
            self.push(
                object(ObjectKind::Table, &a.name, a.schema.as_deref(), None),
                Change::Changed {
                    property,
                    before,
                    after,
                },
            );
        }
        self.list(
            &a.columns,
            &b.columns,
            |c| c.name.clone(),
            |c| on(ObjectKind::Column, &c.name),
            column,
        );
        let pk = |k: &PrimaryKey| k.name.clone().unwrap_or_default();
        self.list(
            a.primary_key.as_slice(),
            b.primary_key.as_slice(),
            |_| String::new(),
            |k| on(ObjectKind::PrimaryKey, &pk(k)),
            |x: &PrimaryKey, y: &PrimaryKey, p| {
                p.opt("name", &x.name, &y.name, "no name");
                p.list("columns", &x.columns, &y.columns);
            },
        );
        self.list(
            &a.uniques,
            &b.uniques,
            Unique::key,
            |u| on(ObjectKind::Unique, &u.key()),
            |x: &Unique, y: &Unique, p| p.list("columns", &x.columns, &y.columns),
        );
        self.list(
            &a.checks,
            &b.checks,
            Check::key,
            |c| on(ObjectKind::Check, &c.key()),
            |x: &Check, y: &Check, p| p.text("condition", &x.expression, &y.expression),
        );
        self.list(
            &a.foreign_keys,
            &b.foreign_keys,
            ForeignKey::key,
            |k| on(ObjectKind::ForeignKey, &k.key()),
            foreign_key,
        );
        self.list(
            &a.indexes,
            &b.indexes,
            |i| i.name.clone(),
            |i| on(ObjectKind::Index, &i.name),
            index,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenants() -> Table {
        let mut name = Column::new("name", "VARCHAR(255)", false);
        name.default = Some("'x'".into());
        Table {
            primary_key: Some(PrimaryKey {
                name: Some("tenants_pkey".into()),
                columns: vec!["id".into()],
                ddl: None,
            }),
            indexes: vec![Index {
                name: "tenants_name".into(),
                columns: vec!["name".into()],
                unique: false,
                predicate: None,
                method: None,
                include: vec![],
                ddl: None,
            }],
            ..Table::new(
                None,
                "tenants",
                vec![Column::new("id", "INTEGER", false), name],
            )
        }
    }

    fn snapshot(tables: Vec<Table>) -> Snapshot {
        Snapshot {
            tables,
            ..Snapshot::default()
        }
        .sorted()
    }

    #[test]
    fn equal_snapshots_have_no_difference() {
        assert!(diff(&snapshot(vec![tenants()]), &snapshot(vec![tenants()])).is_empty());
    }

    #[test]
    fn an_index_left_behind_is_added_and_named_with_its_table() {
        let mut bare = tenants();
        bare.indexes.clear();
        let d = diff(&snapshot(vec![bare]), &snapshot(vec![tenants()]));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].change, Change::Added);
        assert_eq!(d[0].object.to_string(), "index tenants_name on tenants");
    }

    #[test]
    fn a_changed_default_names_the_property_and_both_values() {
        let mut changed = tenants();
        changed.columns[1].default = None;
        let d = diff(&snapshot(vec![tenants()]), &snapshot(vec![changed]));
        assert_eq!(
            d.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["the default of column name on tenants changed from 'x' to no default"]
        );
    }

    #[test]
    fn a_dropped_table_is_one_difference_not_one_per_column() {
        let d = diff(&snapshot(vec![tenants()]), &snapshot(vec![]));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].to_string(), "table tenants is removed");
    }

    #[test]
    fn column_order_is_compared() {
        let mut swapped = tenants();
        swapped.columns.swap(0, 1);
        let d = diff(&snapshot(vec![tenants()]), &snapshot(vec![swapped]));
        assert_eq!(
            d.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["the column order of table tenants changed from (id, name) to (name, id)"]
        );
    }

    #[test]
    fn unnamed_constraints_are_matched_by_content() {
        let check = |e: &str| Check {
            name: None,
            expression: e.into(),
        };
        let mut a = tenants();
        a.checks = vec![check("id > 0")];
        let mut b = tenants();
        b.checks = vec![check("id > 1")];
        let d: Vec<String> = diff(&snapshot(vec![a]), &snapshot(vec![b]))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            d,
            [
                "check constraint CHECK (id > 0) on tenants is removed",
                "check constraint CHECK (id > 1) on tenants is added"
            ]
        );
    }

    #[test]
    fn differences_serialize_with_kind_and_change() {
        let mut bare = tenants();
        bare.indexes.clear();
        let d = diff(&snapshot(vec![bare]), &snapshot(vec![tenants()]));
        assert_eq!(
            serde_json::to_string(&d[0]).unwrap(),
            r#"{"object":{"kind":"index","name":"tenants_name","table":"tenants"},"change":"added"}"#
        );
    }
}
