//! Reading a MySQL or MariaDB database's catalog into a [`Snapshot`], from
//! `information_schema` (`TABLES`, `COLUMNS`, `STATISTICS`, `TABLE_CONSTRAINTS`,
//! `CHECK_CONSTRAINTS`, `KEY_COLUMN_USAGE`, `REFERENTIAL_CONSTRAINTS`, `VIEWS`, `ROUTINES`,
//! `TRIGGERS`) for the connection's database, and `SHOW CREATE` for routine bodies.
//!
//! The database's own name is taken out of view definitions (MySQL writes every reference as
//! `` `db`.`table` ``), so a scratch database compares equal to the live one. Column defaults
//! are kept as SQL expressions, as MariaDB reports them; MySQL 8's bare values are quoted to
//! match.

use std::collections::BTreeMap;

use migrate_core::snapshot::{
    Check, Column, ForeignKey, Generated, Index, PrimaryKey, Routine, RoutineKind, Snapshot, Table,
    Trigger, View,
};
use migrate_core::{DatabaseError, Dialect, VersionTable};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, Value};

use crate::dialect::MysqlDialect;

type Rows = Vec<Vec<Option<String>>>;

/// The rows of each of `queries`, sent in one packet.
async fn batch(conn: &mut Conn, queries: &[String]) -> Result<Vec<Rows>, DatabaseError> {
    let failed = |e: mysql_async::Error| {
        DatabaseError::other(format!("reading information_schema failed: {e}"))
    };
    let mut result = conn.query_iter(queries.join(";\n")).await.map_err(failed)?;
    let mut sets = Vec::with_capacity(queries.len());
    loop {
        let rows: Vec<Row> = result.collect().await.map_err(failed)?;
        sets.push(rows.into_iter().map(values).collect());
        if result.is_empty() {
            break;
        }
    }
    Ok(sets)
}

fn values(row: Row) -> Vec<Option<String>> {
    row.unwrap_raw()
        .into_iter()
        .map(|v| v.and_then(text_of))
        .collect()
}

async fn rows(conn: &mut Conn, sql: &str) -> Result<Rows, DatabaseError> {
    let result: Vec<Row> = conn
        .query(sql)
        .await
        .map_err(|e| DatabaseError::other(format!("reading information_schema failed: {e}")))?;
    Ok(result.into_iter().map(values).collect())
}

fn text_of(v: Value) -> Option<String> {
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Double(f) => Some(f.to_string()),
        other => Some(other.as_sql(true)),
    }
}

fn opt(row: &[Option<String>], i: usize) -> Option<String> {
    row.get(i).cloned().flatten()
}

fn text(row: &[Option<String>], i: usize) -> String {
    opt(row, i).unwrap_or_default()
}

/// `name` between backticks, as `SHOW CREATE` writes every identifier.
pub(crate) fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// The snapshot of the connection's database, without the version table `table` and its
/// history table.
pub async fn read_snapshot(
    conn: &mut Conn,
    table: &VersionTable,
) -> Result<Snapshot, DatabaseError> {
    let info = rows(conn, "SELECT DATABASE(), VERSION()").await?;
    let database = info.first().and_then(|r| opt(r, 0)).ok_or_else(|| {
        DatabaseError::other(
            "the connection has no database selected: name one in the URL (mysql://HOST/DATABASE)",
        )
    })?;
    let mariadb = info
        .first()
        .and_then(|r| opt(r, 1))
        .is_some_and(|v| v.contains("MariaDB"));
    let dialect = MysqlDialect;
    let skipped: Vec<String> = match table.schema.as_deref() {
        Some(s) if s != database => Vec::new(),
        _ => vec![table.name.clone(), format!("{}_history", table.name)],
    };
    let not_skipped = |column: &str| {
        if skipped.is_empty() {
            "TRUE".to_string()
        } else {
            let names: Vec<String> = skipped.iter().map(|s| dialect.string_literal(s)).collect();
            format!("{column} NOT IN ({})", names.join(", "))
        }
    };

    // The database's name as a literal: MariaDB reads only that database's tables for
    // `TABLE_SCHEMA = 'name'`, but every database's for `TABLE_SCHEMA = DATABASE()`.
    let db = dialect.string_literal(&database);
    // MariaDB names check constraints per table; MySQL per schema (and has no TABLE_NAME there).
    let checks = if mariadb {
        format!("SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS \
         WHERE CONSTRAINT_SCHEMA = {db}")
    } else {
        format!("SELECT tc.TABLE_NAME, cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE FROM information_schema.TABLE_CONSTRAINTS tc \
         JOIN information_schema.CHECK_CONSTRAINTS cc ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA \
         AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME \
         WHERE tc.CONSTRAINT_SCHEMA = {db} AND tc.CONSTRAINT_TYPE = 'CHECK'")
    };
    // Every query in one round trip (the connection allows several statements per packet).
    let queries = [
        format!(
            "SELECT t.TABLE_NAME, t.ENGINE, t.TABLE_COLLATION, \
             (SELECT c.CHARACTER_SET_NAME FROM information_schema.COLLATIONS c WHERE c.COLLATION_NAME = t.TABLE_COLLATION), \
             t.TABLE_COMMENT FROM information_schema.TABLES t \
             WHERE t.TABLE_SCHEMA = {db} AND t.TABLE_TYPE = 'BASE TABLE' AND {}",
            not_skipped("t.TABLE_NAME")
        ),
        format!("SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, \
         GENERATION_EXPRESSION, CHARACTER_SET_NAME, COLLATION_NAME, COLUMN_COMMENT \
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = {db} \
         ORDER BY TABLE_NAME, ORDINAL_POSITION"),
        format!("SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, COLLATION, INDEX_TYPE \
         FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = {db} \
         ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"),
        checks,
        // Foreign keys: their columns, then their rules, joined here. Joined in the query,
        // MariaDB reads REFERENTIAL_CONSTRAINTS of every database (250 ms beside 28 others).
        format!(
            "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_SCHEMA, \
             REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE \
             WHERE TABLE_SCHEMA = {db} AND REFERENCED_TABLE_NAME IS NOT NULL \
             ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION"
        ),
        format!(
            "SELECT TABLE_NAME, CONSTRAINT_NAME, UPDATE_RULE, DELETE_RULE \
             FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = {db}"
        ),
        format!(
            "SELECT TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION FROM information_schema.VIEWS \
             WHERE TABLE_SCHEMA = {db} AND {}",
            not_skipped("TABLE_NAME")
        ),
        format!("SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = {db}"),
        // Trigger, Event, Table, Statement, Timing, ...: cheaper than information_schema.TRIGGERS,
        // which opens every table of every database.
        "SHOW TRIGGERS".to_string(),
    ];
    let mut sets = batch(conn, &queries).await?.into_iter();

    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for r in sets.next().unwrap_or_default() {
        let mut t = Table::new(None, &text(&r, 0), Vec::new());
        if let Some(engine) = opt(&r, 1) {
            t.options.push(format!("ENGINE={engine}"));
        }
        if let Some(charset) = opt(&r, 3) {
            t.options.push(format!("DEFAULT CHARSET={charset}"));
        }
        if let Some(collation) = opt(&r, 2) {
            t.options.push(format!("COLLATE={collation}"));
        }
        t.comment = opt(&r, 4).filter(|c| !c.is_empty());
        tables.insert(t.name.clone(), t);
    }

    for r in sets.next().unwrap_or_default() {
        let Some(t) = tables.get_mut(&text(&r, 0)) else {
            continue; // a view's column, or the version table's
        };
        let extra = text(&r, 5);
        let lower = extra.to_ascii_lowercase();
        let mut column = Column::new(&text(&r, 1), &text(&r, 2), text(&r, 3) == "YES");
        let generated = lower.contains("generated") && !lower.contains("default_generated");
        if generated {
            column.generated = Some(Generated {
                expression: text(&r, 6),
                stored: lower.contains("stored"),
            });
        } else {
            column.default = opt(&r, 4).map(|d| {
                if mariadb {
                    d
                } else {
                    mysql8_default(&d, lower.contains("default_generated"))
                }
            });
        }
        if lower.contains("auto_increment") {
            column.identity = Some("AUTO_INCREMENT".to_string());
        }
        column.on_update = lower
            .find("on update ")
            .map(|at| extra[at + "on update ".len()..].trim().to_string());
        column.charset = opt(&r, 7);
        column.collation = opt(&r, 8);
        column.comment = opt(&r, 9).filter(|c| !c.is_empty());
        t.columns.push(column);
    }

    let mut found: BTreeMap<(String, String), (bool, String, Vec<String>)> = BTreeMap::new();
    for r in sets.next().unwrap_or_default() {
        let entry = found
            .entry((text(&r, 0), text(&r, 1)))
            .or_insert_with(|| (text(&r, 2) == "0", text(&r, 6), Vec::new()));
        let mut part = text(&r, 3);
        if let Some(length) = opt(&r, 4) {
            part.push_str(&format!("({length})"));
        }
        if text(&r, 5) == "D" {
            part.push_str(" DESC");
        }
        entry.2.push(part);
    }
    for ((table_name, index), (unique, method, columns)) in found {
        let Some(t) = tables.get_mut(&table_name) else {
            continue;
        };
        if index == "PRIMARY" {
            t.primary_key = Some(PrimaryKey {
                name: None,
                columns,
                ddl: None,
            });
        } else {
            t.indexes.push(Index {
                name: index,
                columns,
                unique,
                predicate: None,
                method: Some(method).filter(|m| m != "BTREE"),
                include: Vec::new(),
                ddl: None,
            });
        }
    }

    for r in sets.next().unwrap_or_default() {
        if let Some(t) = tables.get_mut(&text(&r, 0)) {
            t.checks.push(Check {
                name: opt(&r, 1),
                expression: text(&r, 2),
            });
        }
    }

    let mut keys: BTreeMap<(String, String), ForeignKey> = BTreeMap::new();
    let key_columns = sets.next().unwrap_or_default();
    let rules: BTreeMap<(String, String), (String, String)> = sets
        .next()
        .unwrap_or_default()
        .iter()
        .map(|r| ((text(r, 0), text(r, 1)), (text(r, 2), text(r, 3))))
        .collect();
    for r in key_columns {
        let (on_update, on_delete) = rules
            .get(&(text(&r, 0), text(&r, 1)))
            .cloned()
            .unwrap_or_default();
        let referenced = match opt(&r, 3) {
            Some(schema) if schema != database => format!("{schema}.{}", text(&r, 4)),
            _ => text(&r, 4),
        };
        let key = keys
            .entry((text(&r, 0), text(&r, 1)))
            .or_insert_with(|| ForeignKey {
                name: opt(&r, 1),
                columns: Vec::new(),
                referenced_table: referenced,
                referenced_columns: Vec::new(),
                on_update,
                on_delete,
                options: String::new(),
                ddl: None,
            });
        key.columns.push(text(&r, 2));
        key.referenced_columns.push(text(&r, 5));
    }
    for ((table_name, _), key) in keys {
        if let Some(t) = tables.get_mut(&table_name) {
            t.foreign_keys.push(key);
        }
    }

    let own_prefix = format!("{}.", quote(&database));
    let view_rows = sets.next().unwrap_or_default();
    let view_names: Vec<String> = view_rows.iter().map(|r| text(r, 0)).collect();
    let views = view_rows
        .iter()
        .map(|r| {
            let mut definition = text(r, 1).replace(&own_prefix, "");
            match text(r, 2).as_str() {
                "CASCADED" => definition.push_str(" WITH CASCADED CHECK OPTION"),
                "LOCAL" => definition.push_str(" WITH LOCAL CHECK OPTION"),
                _ => {}
            }
            let name = text(r, 0);
            let depends_on = view_names
                .iter()
                .filter(|v| **v != name && definition.contains(&quote(v)))
                .cloned()
                .collect();
            View {
                schema: None,
                name,
                materialized: false,
                definition,
                comment: None,
                depends_on,
                ddl: None,
            }
        })
        .collect();

    let mut routines = Vec::new();
    for r in sets.next().unwrap_or_default() {
        let (name, kind) = (text(&r, 0), text(&r, 1));
        let create = rows(conn, &format!("SHOW CREATE {kind} {}", quote(&name))).await?;
        let definition = create
            .first()
            .and_then(|row| opt(row, 2))
            .map(|ddl| without_definer(&ddl))
            .unwrap_or_default();
        routines.push(Routine {
            schema: None,
            name,
            kind: if kind == "PROCEDURE" {
                RoutineKind::Procedure
            } else {
                RoutineKind::Function
            },
            arguments: String::new(),
            definition,
        });
    }

    let triggers = sets
        .next()
        .unwrap_or_default()
        .iter()
        .filter(|r| !skipped.contains(&text(r, 2)))
        .map(|r| Trigger {
            schema: None,
            table: text(r, 2),
            definition: format!(
                "CREATE TRIGGER {} {} {} ON {} FOR EACH ROW {}",
                quote(&text(r, 0)),
                text(r, 4),
                text(r, 1),
                quote(&text(r, 2)),
                text(r, 3).replace(&own_prefix, "")
            ),
            name: text(r, 0),
            ddl: None,
        })
        .collect();

    Ok(Snapshot {
        tables: tables.into_values().collect(),
        views,
        routines,
        triggers,
        ..Snapshot::default()
    }
    .sorted())
}

/// MySQL 8 reports a literal default bare (`abc`) and an expression default bare with
/// `DEFAULT_GENERATED` in `EXTRA`; MariaDB reports both as SQL (`'abc'`, `current_timestamp()`).
/// This gives MySQL's the MariaDB form.
fn mysql8_default(value: &str, expression: bool) -> String {
    if !expression {
        return MysqlDialect.string_literal(value);
    }
    if value.to_ascii_uppercase().starts_with("CURRENT_TIMESTAMP") {
        value.to_string()
    } else {
        format!("({value})")
    }
}

/// `CREATE DEFINER=`user`@`host` PROCEDURE ...` without its definer, who differs from one
/// server to the next.
fn without_definer(ddl: &str) -> String {
    match (
        ddl.find(" DEFINER="),
        ddl.find(" PROCEDURE ").or(ddl.find(" FUNCTION ")),
    ) {
        (Some(start), Some(kind)) if start < kind => format!("{}{}", &ddl[..start], &ddl[kind..]),
        _ => ddl.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definers_are_left_out() {
        assert_eq!(
            without_definer(
                "CREATE DEFINER=`root`@`localhost` PROCEDURE `p`()\nBEGIN SELECT 1; END"
            ),
            "CREATE PROCEDURE `p`()\nBEGIN SELECT 1; END"
        );
    }

    #[test]
    fn mysql8_defaults_read_as_sql() {
        assert_eq!(mysql8_default("it's", false), "'it''s'");
        assert_eq!(
            mysql8_default("CURRENT_TIMESTAMP(6)", true),
            "CURRENT_TIMESTAMP(6)"
        );
        assert_eq!(mysql8_default("uuid()", true), "(uuid())");
    }
}
