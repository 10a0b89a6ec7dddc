//! `migrate dump` for MySQL and MariaDB: the snapshot as canonical DDL in the form `SHOW
//! CREATE TABLE` uses (every identifier between backticks), in an order that applies to an
//! empty database: tables with their keys, indexes and checks, then foreign keys, views (each
//! after the views it reads), routines and triggers between `DELIMITER ;;` lines (which the
//! `mysql`/`mariadb` client and `migrate`'s own splitter read), then the version table.

use migrate_core::snapshot::{
    push_statements, version_table_statements, views_in_dependency_order, Snapshot, Table,
};
use migrate_core::{Dialect, VersionTable};

use crate::dialect::MysqlDialect;
use crate::snapshot::quote;

fn literal(text: &str) -> String {
    MysqlDialect.string_literal(text)
}

fn names(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(",")
}

/// The dump of `snapshot`, with the version table `table` and its `rows` when it exists.
/// Stable: the same schema gives the same bytes on every run and machine.
pub fn dump(snapshot: &Snapshot, table: &VersionTable, rows: Option<&[String]>) -> String {
    let mut out = String::from(
        "-- Schema of the database, written by `migrate dump` (MySQL/MariaDB): every object in a\n\
         -- canonical order, as the server reports it, then the version table.\n\
         -- Applied to an empty database it recreates this schema (no data besides the version rows).\n",
    );
    let tables: Vec<String> = snapshot.tables.iter().map(create_table).collect();
    push_statements(&mut out, &tables);
    let mut foreign = Vec::new();
    for t in &snapshot.tables {
        for f in &t.foreign_keys {
            let referenced = match f.referenced_table.split_once('.') {
                Some((schema, name)) => format!("{}.{}", quote(schema), quote(name)),
                None => quote(&f.referenced_table),
            };
            foreign.push(format!(
                "ALTER TABLE {} ADD {}FOREIGN KEY ({}) REFERENCES {referenced} ({}) ON DELETE {} ON UPDATE {}",
                quote(&t.name),
                f.name
                    .as_deref()
                    .map(|n| format!("CONSTRAINT {} ", quote(n)))
                    .unwrap_or_default(),
                names(&f.columns),
                names(&f.referenced_columns),
                f.on_delete,
                f.on_update
            ));
        }
    }
    push_statements(&mut out, &foreign);
    let views: Vec<String> = views_in_dependency_order(&snapshot.views)
        .into_iter()
        .map(|v| format!("CREATE VIEW {} AS {}", quote(&v.name), v.definition))
        .collect();
    push_statements(&mut out, &views);
    let bodies: Vec<&str> = snapshot
        .routines
        .iter()
        .map(|r| r.definition.as_str())
        .chain(snapshot.triggers.iter().map(|t| t.definition.as_str()))
        .collect();
    if !bodies.is_empty() {
        out.push_str("\nDELIMITER ;;\n");
        for body in bodies {
            out.push_str(body.trim_end());
            out.push_str(";;\n");
        }
        out.push_str("DELIMITER ;\n");
    }
    if let Some(rows) = rows {
        push_statements(
            &mut out,
            &version_table_statements(&MysqlDialect, table, rows),
        );
    }
    out
}

fn create_table(t: &Table) -> String {
    let mut lines: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            let mut line = format!("  {} {}", quote(&c.name), c.data_type);
            if let Some(charset) = &c.charset {
                line.push_str(&format!(" CHARACTER SET {charset}"));
            }
            if let Some(collation) = &c.collation {
                line.push_str(&format!(" COLLATE {collation}"));
            }
            if let Some(g) = &c.generated {
                line.push_str(&format!(
                    " GENERATED ALWAYS AS ({}) {}",
                    g.expression,
                    if g.stored { "STORED" } else { "VIRTUAL" }
                ));
            } else {
                line.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
            }
            if let Some(default) = &c.default {
                line.push_str(&format!(" DEFAULT {default}"));
            }
            if let Some(on_update) = &c.on_update {
                line.push_str(&format!(" ON UPDATE {on_update}"));
            }
            if c.identity.is_some() {
                line.push_str(" AUTO_INCREMENT");
            }
            if let Some(comment) = &c.comment {
                line.push_str(&format!(" COMMENT {}", literal(comment)));
            }
            line
        })
        .collect();
    if let Some(pk) = &t.primary_key {
        lines.push(format!("  PRIMARY KEY ({})", key_parts(&pk.columns)));
    }
    for i in &t.indexes {
        let kind = match (i.unique, i.method.as_deref()) {
            (_, Some("FULLTEXT")) => "FULLTEXT KEY",
            (_, Some("SPATIAL")) => "SPATIAL KEY",
            (true, _) => "UNIQUE KEY",
            (false, _) => "KEY",
        };
        let using = match i.method.as_deref() {
            Some(m @ "HASH") => format!(" USING {m}"),
            _ => String::new(),
        };
        lines.push(format!(
            "  {kind} {} ({}){using}",
            quote(&i.name),
            key_parts(&i.columns)
        ));
    }
    for c in &t.checks {
        lines.push(format!(
            "  {}CHECK ({})",
            c.name
                .as_deref()
                .map(|n| format!("CONSTRAINT {} ", quote(n)))
                .unwrap_or_default(),
            c.expression
        ));
    }
    let mut options = t.options.join(" ");
    if let Some(comment) = &t.comment {
        options.push_str(&format!(" COMMENT={}", literal(comment)));
    }
    format!(
        "CREATE TABLE {} (\n{}\n) {}",
        quote(&t.name),
        lines.join(",\n"),
        options.trim()
    )
    .trim_end()
    .to_string()
}

/// Key parts as the snapshot writes them (`name`, `name(10)`, `name DESC`), quoted.
fn key_parts(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| {
            let (column, rest) = match p.find(['(', ' ']) {
                Some(at) => (&p[..at], &p[at..]),
                None => (p.as_str(), ""),
            };
            format!("{}{rest}", quote(column))
        })
        .collect::<Vec<_>>()
        .join(",")
}
