//! `migrate dump` for PostgreSQL: the snapshot as canonical DDL, built from the server's own
//! renderings (types from `format_type`, defaults from `pg_get_expr`, constraints, indexes,
//! views, functions and triggers from their `pg_get_*def`), in an order that applies to an
//! empty database: schemas, extensions, enum types, sequences, functions, tables, sequence
//! owners, keys and checks, indexes, foreign keys, views (each after the views it reads),
//! triggers, comments, then the version table and its rows.

use migrate_core::snapshot::{
    push_statements, version_table_statements, views_in_dependency_order, Snapshot, Table,
};
use migrate_core::{Dialect, VersionTable};

use crate::dialect::PostgresDialect;

fn quote(name: &str) -> String {
    PostgresDialect.quote_identifier(name)
}

/// `schema.name` quoted, or `name` in the session's schema.
fn name(schema: Option<&str>, name: &str) -> String {
    match schema {
        Some(s) => format!("{}.{}", quote(s), quote(name)),
        None => quote(name),
    }
}

fn literal(text: &str) -> String {
    PostgresDialect.string_literal(text)
}

/// The dump of `snapshot`, with the version table `table` and its `rows` when it exists.
/// Stable: the same schema gives the same bytes on every run and machine.
pub fn dump(snapshot: &Snapshot, table: &VersionTable, rows: Option<&[String]>) -> String {
    let mut out = String::from(
        "-- Schema of the database, written by `migrate dump` (PostgreSQL): every object in a\n\
         -- canonical order, as the server renders it, then the version table.\n\
         -- Applied to an empty database it recreates this schema (no data besides the version rows).\n\
         \n\
         SET check_function_bodies = false;\n",
    );
    let mut section = |statements: Vec<String>| push_statements(&mut out, &statements);
    section(
        snapshot
            .schemas
            .iter()
            .map(|s| format!("CREATE SCHEMA {}", quote(s)))
            .collect(),
    );
    section(
        snapshot
            .extensions
            .iter()
            .map(|e| {
                let schema = e
                    .schema
                    .as_deref()
                    .map(|s| format!(" SCHEMA {}", quote(s)))
                    .unwrap_or_default();
                format!(
                    "CREATE EXTENSION IF NOT EXISTS {} WITH{schema} VERSION {}",
                    quote(&e.name),
                    literal(&e.version)
                )
            })
            .collect(),
    );
    section(
        snapshot
            .enums
            .iter()
            .map(|e| {
                let labels: Vec<String> = e.labels.iter().map(|l| literal(l)).collect();
                format!(
                    "CREATE TYPE {} AS ENUM ({})",
                    name(e.schema.as_deref(), &e.name),
                    labels.join(", ")
                )
            })
            .collect(),
    );
    section(
        snapshot
            .sequences
            .iter()
            .map(|s| {
                format!(
                    "CREATE SEQUENCE {} AS {} START WITH {} INCREMENT BY {} MINVALUE {} MAXVALUE {} CACHE {}{}",
                    name(s.schema.as_deref(), &s.name),
                    s.data_type,
                    s.start,
                    s.increment,
                    s.min,
                    s.max,
                    s.cache,
                    if s.cycle { " CYCLE" } else { " NO CYCLE" }
                )
            })
            .collect(),
    );
    section(
        snapshot
            .routines
            .iter()
            .map(|r| r.definition.clone())
            .collect(),
    );
    section(snapshot.tables.iter().map(create_table).collect());
    section(
        snapshot
            .sequences
            .iter()
            .filter_map(|s| {
                let owner = s.owned_by.as_deref()?;
                let (table, column) = owner.rsplit_once('.')?;
                Some(format!(
                    "ALTER SEQUENCE {} OWNED BY {}.{}",
                    name(s.schema.as_deref(), &s.name),
                    qualified_quoted(table),
                    quote(column)
                ))
            })
            .collect(),
    );
    let mut keys = Vec::new();
    let mut indexes = Vec::new();
    let mut foreign = Vec::new();
    for t in &snapshot.tables {
        let on = name(t.schema.as_deref(), &t.name);
        let add = |constraint: &Option<String>, definition: &str| {
            format!(
                "ALTER TABLE {on} ADD {}{definition}",
                constraint
                    .as_deref()
                    .map(|c| format!("CONSTRAINT {} ", quote(c)))
                    .unwrap_or_default()
            )
        };
        if let Some(pk) = &t.primary_key {
            keys.push(add(&pk.name, pk.ddl.as_deref().unwrap_or_default()));
        }
        for u in &t.uniques {
            keys.push(add(&u.name, u.ddl.as_deref().unwrap_or_default()));
        }
        for c in &t.checks {
            let definition = if c.expression.starts_with("EXCLUDE") {
                c.expression.clone()
            } else {
                format!("CHECK {}", c.expression)
            };
            keys.push(add(&c.name, &definition));
        }
        indexes.extend(t.indexes.iter().filter_map(|i| i.ddl.clone()));
        for f in &t.foreign_keys {
            foreign.push(add(&f.name, f.ddl.as_deref().unwrap_or_default()));
        }
    }
    section(keys);
    section(indexes);
    section(foreign);
    section(
        views_in_dependency_order(&snapshot.views)
            .into_iter()
            .map(|v| {
                format!(
                    "CREATE {}VIEW {} AS\n{}",
                    if v.materialized { "MATERIALIZED " } else { "" },
                    name(v.schema.as_deref(), &v.name),
                    v.definition
                )
            })
            .collect(),
    );
    section(
        snapshot
            .triggers
            .iter()
            .map(|t| t.definition.clone())
            .collect(),
    );
    let mut comments = Vec::new();
    for t in &snapshot.tables {
        let on = name(t.schema.as_deref(), &t.name);
        if let Some(c) = &t.comment {
            comments.push(format!("COMMENT ON TABLE {on} IS {}", literal(c)));
        }
        for col in &t.columns {
            if let Some(c) = &col.comment {
                comments.push(format!(
                    "COMMENT ON COLUMN {on}.{} IS {}",
                    quote(&col.name),
                    literal(c)
                ));
            }
        }
    }
    for v in &snapshot.views {
        if let Some(c) = &v.comment {
            comments.push(format!(
                "COMMENT ON {}VIEW {} IS {}",
                if v.materialized { "MATERIALIZED " } else { "" },
                name(v.schema.as_deref(), &v.name),
                literal(c)
            ));
        }
    }
    section(comments);
    if let Some(rows) = rows {
        section(version_table_statements(&PostgresDialect, table, rows));
    }
    out
}

/// `schema.table` as the snapshot writes a reference (`schema.` only outside the session's
/// schema), quoted.
fn qualified_quoted(reference: &str) -> String {
    match reference.split_once('.') {
        Some((schema, table)) => name(Some(schema), table),
        None => quote(reference),
    }
}

fn create_table(t: &Table) -> String {
    let columns: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            let mut line = format!("    {} {}", quote(&c.name), c.data_type);
            if let Some(collation) = &c.collation {
                line.push_str(&format!(" COLLATE {collation}"));
            }
            if let Some(g) = &c.generated {
                line.push_str(&format!(" GENERATED ALWAYS AS ({}) STORED", g.expression));
            }
            if let Some(default) = &c.default {
                line.push_str(&format!(" DEFAULT {default}"));
            }
            if let Some(identity) = &c.identity {
                line.push_str(&format!(" {identity}"));
            }
            if !c.nullable {
                line.push_str(" NOT NULL");
            }
            line
        })
        .collect();
    let unlogged = t.options.iter().any(|o| o == "UNLOGGED");
    let partition = t
        .options
        .iter()
        .find_map(|o| o.strip_prefix("PARTITION BY "))
        .map(|key| format!(" PARTITION BY {key}"))
        .unwrap_or_default();
    format!(
        "CREATE {}TABLE {} (\n{}\n){partition}",
        if unlogged { "UNLOGGED " } else { "" },
        name(t.schema.as_deref(), &t.name),
        columns.join(",\n")
    )
}
