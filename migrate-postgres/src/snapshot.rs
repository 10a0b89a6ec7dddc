//! Reading a PostgreSQL database's catalog into a [`Snapshot`], from `pg_catalog` and the
//! server's own renderers (`format_type`, `pg_get_expr`, `pg_get_constraintdef`,
//! `pg_get_indexdef`, `pg_get_viewdef`, `pg_get_functiondef`, `pg_get_triggerdef`), so every
//! expression reads the way the server prints it, whatever spelling created it.
//!
//! All queries go to the server in one simple-query round trip. System schemas, objects that
//! belong to an extension, partitions, the version table and its history table are left out;
//! objects in the session's `current_schema()` have no schema in the snapshot.

use std::collections::BTreeMap;

use migrate_core::snapshot::{
    Check, Column, EnumType, Extension, ForeignKey, Generated, Index, PrimaryKey, Routine,
    RoutineKind, Sequence, Snapshot, Table, Trigger, Unique, View,
};
use migrate_core::{DatabaseError, VersionTable};
use tokio_postgres::Client;

use crate::error::session_error;

/// The separator of lists aggregated into one text value.
const SEP: char = '\u{1f}';

/// Schemas that hold no user objects.
const USER_NAMESPACE: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'";

/// `''` for the session's schema, else the schema's name.
const SCHEMA: &str = "CASE WHEN n.nspname = (SELECT current_schema()) THEN '' ELSE n.nspname END";

/// `{alias}` (a row of `catalog`) is no extension's member. The members are read once
/// (`NOT IN` is one hashed subplan) through `pg_depend`'s index on the referenced object:
/// every `e` dependency refers to a `pg_extension` row, so this looks only at the few rows
/// of extensions instead of the whole of `pg_depend`.
fn own(alias: &str, catalog: &str) -> String {
    format!(
        "{alias}.oid NOT IN (SELECT e.objid FROM pg_depend e WHERE e.refclassid = 'pg_extension'::regclass \
         AND e.classid = '{catalog}'::regclass AND e.deptype = 'e')"
    )
}

/// The comment of the relation `oid`, or of its column `subid` (`0`: the relation's own): a
/// lookup in `pg_description`'s unique index, which reads only the user's rows where a join
/// reads the whole catalog (thousands of rows describing the system's own objects).
fn comment(oid: &str, subid: &str) -> String {
    format!(
        "(SELECT ds.description FROM pg_description ds WHERE ds.objoid = {oid} \
         AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = {subid})"
    )
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The statements of one snapshot, in the order [`read_snapshot`] reads their results.
///
/// Each statement starts from the user's relations (one pass over `pg_class`) or from a catalog
/// that holds only user rows (`pg_enum`, `pg_sequence`, `pg_trigger`) and reaches the large
/// catalogs (`pg_attribute`, `pg_type`, `pg_description`, `pg_depend`, `pg_proc`) through their
/// indexes: those are mostly about the system's own objects, and reading them whole made a
/// snapshot of an empty database cost nearly as much as one of a hundred tables. The small
/// ones (`pg_attrdef`, `pg_constraint`, `pg_index`) are left to the planner's hash joins.
/// `LATERAL (... OFFSET 0)` keeps a subquery one index lookup per outer row (the planner would
/// otherwise flatten it into a hash join over the whole catalog), and an `OFFSET 0` subquery
/// of the user's relations is filtered before anything joins it; the generic plans of the
/// prepared statements were checked to keep this shape.
fn queries(table: &VersionTable) -> Vec<String> {
    let vt_schema = table
        .schema
        .as_deref()
        .map(literal)
        .unwrap_or_else(|| "(SELECT current_schema())".to_string());
    let skipped = format!(
        "NOT (n.nspname = {vt_schema} AND c.relname IN ({}, {}))",
        literal(&table.name),
        literal(&format!("{}_history", table.name))
    );
    let relation = format!(
        "{USER_NAMESPACE} AND {skipped} AND {} AND NOT c.relispartition",
        own("c", "pg_class")
    );
    // The names of the columns `array` lists, in its order: one index lookup per key, and for
    // the usual key of one column a single lookup without the aggregate's machinery.
    let cols = |array: &str, rel: &str| {
        format!(
            "CASE WHEN {array} IS NULL THEN NULL \
             WHEN cardinality({array}) = 1 THEN \
               (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = {rel} AND a.attnum = ({array})[1]) \
             ELSE (SELECT string_agg((SELECT a.attname FROM pg_attribute a WHERE a.attrelid = {rel} AND a.attnum = k.num), \
               chr(31) ORDER BY k.ord) FROM unnest({array}) WITH ORDINALITY k(num, ord)) END"
        )
    };
    vec![
        format!(
            "SELECT n.nspname FROM pg_namespace n WHERE {USER_NAMESPACE} AND n.nspname <> (SELECT current_schema()) AND {}",
            own("n", "pg_namespace")
        ),
        "SELECT e.extname, e.extversion, CASE WHEN n.nspname = (SELECT current_schema()) THEN '' ELSE n.nspname END \
         FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql'"
            .to_string(),
        format!(
            "SELECT {SCHEMA}, t.typname, string_agg(e.enumlabel, chr(31) ORDER BY e.enumsortorder) \
             FROM pg_enum e \
             CROSS JOIN LATERAL (SELECT t.oid, t.typname, t.typnamespace FROM pg_type t WHERE t.oid = e.enumtypid OFFSET 0) t \
             JOIN pg_namespace n ON n.oid = t.typnamespace \
             WHERE {USER_NAMESPACE} AND {} GROUP BY 1, 2",
            own("t", "pg_type")
        ),
        format!(
            "SELECT {SCHEMA}, c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, \
             s.seqmax, s.seqcache, s.seqcycle, \
             (SELECT CASE WHEN tn.nspname = (SELECT current_schema()) THEN '' ELSE tn.nspname || '.' END || tc.relname || '.' || a.attname \
              FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = tc.relnamespace \
              JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass \
              AND d.deptype = 'a' LIMIT 1) \
             FROM pg_sequence s \
             CROSS JOIN LATERAL (SELECT * FROM pg_class c WHERE c.oid = s.seqrelid OFFSET 0) c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {relation} AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
             AND d.objid = c.oid AND d.deptype = 'i' OFFSET 0)"
        ),
        format!(
            "SELECT {SCHEMA}, c.relname, c.relkind, c.relpersistence, \
             CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, {} \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND {relation}",
            comment("c.oid", "0")
        ),
        format!(
            "SELECT CASE WHEN a.nspname = (SELECT current_schema()) THEN '' ELSE a.nspname END, a.relname, a.attname, \
             t.type, a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid), \
             a.attgenerated, a.attidentity, \
             CASE WHEN a.attcollation <> t.typcollation THEN \
               (SELECT CASE WHEN cn.nspname = 'pg_catalog' THEN quote_ident(co.collname) \
                ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END \
                FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END, \
             {} \
             FROM (SELECT n.nspname, c.relname, a.attrelid, a.attnum, a.attname, a.atttypid, a.atttypmod, \
               a.attnotnull, a.attgenerated, a.attidentity, a.attcollation \
               FROM (SELECT c.oid, c.relname, c.relnamespace FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'p') AND {relation} OFFSET 0) c \
               JOIN pg_namespace n ON n.oid = c.relnamespace \
               CROSS JOIN LATERAL (SELECT * FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 \
                 AND NOT a.attisdropped OFFSET 0) a OFFSET 0) a \
             CROSS JOIN LATERAL (SELECT t.typcollation, format_type(a.atttypid, a.atttypmod) AS type \
               FROM pg_type t WHERE t.oid = a.atttypid OFFSET 0) t \
             LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
             ORDER BY 1, 2, a.attnum",
            comment("a.attrelid", "a.attnum")
        ),
        format!(
            "SELECT {SCHEMA}, c.relname, co.conname, co.contype, pg_get_constraintdef(co.oid, true), {}, \
             CASE WHEN co.confrelid <> 0 THEN \
               (SELECT CASE WHEN fn.nspname = (SELECT current_schema()) THEN '' ELSE fn.nspname || '.' END || fc.relname \
                FROM pg_class fc JOIN pg_namespace fn ON fn.oid = fc.relnamespace WHERE fc.oid = co.confrelid) END, \
             {}, co.confupdtype, co.confdeltype, co.condeferrable, co.condeferred, co.confmatchtype \
             FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE co.contype IN ('p', 'u', 'c', 'f', 'x') AND c.relkind IN ('r', 'p') AND {relation}",
            cols("co.conkey", "co.conrelid"),
            cols("co.confkey", "co.confrelid")
        ),
        format!(
            "SELECT {SCHEMA}, c.relname, i.relname, ix.indisunique, am.amname, pg_get_expr(ix.indpred, ix.indrelid), \
             pg_get_indexdef(i.oid), \
             (SELECT string_agg(pg_get_indexdef(i.oid, k, true) \
                || CASE WHEN ix.indoption[k - 1] & 1 = 1 THEN ' DESC' ELSE '' END \
                || CASE WHEN ix.indoption[k - 1] & 3 = 2 THEN ' NULLS FIRST' \
                        WHEN ix.indoption[k - 1] & 3 = 1 THEN ' NULLS LAST' ELSE '' END, chr(31) ORDER BY k) \
              FROM generate_series(1, ix.indnkeyatts) k), \
             (SELECT string_agg(pg_get_indexdef(i.oid, k, true), chr(31) ORDER BY k) \
              FROM generate_series(ix.indnkeyatts + 1, ix.indnatts) k) \
             FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class c ON c.oid = ix.indrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am am ON am.oid = i.relam \
             WHERE c.relkind IN ('r', 'p') AND {relation} AND NOT EXISTS (SELECT 1 FROM pg_constraint co \
             WHERE co.conrelid = c.oid AND co.conindid = ix.indexrelid AND co.contype IN ('p', 'u', 'x'))"
        ),
        format!(
            "SELECT {SCHEMA}, c.relname, c.relkind = 'm', pg_get_viewdef(c.oid, true), {}, \
             (SELECT string_agg(DISTINCT CASE WHEN dn.nspname = (SELECT current_schema()) THEN '' ELSE dn.nspname || '.' END || dc.relname, chr(31)) \
              FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid \
              JOIN pg_class dc ON dc.oid = d.refobjid JOIN pg_namespace dn ON dn.oid = dc.relnamespace \
              WHERE r.ev_class = c.oid AND dc.oid <> c.oid AND dc.relkind IN ('v', 'm')) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('v', 'm') AND {relation}",
            comment("c.oid", "0")
        ),
        // Routines through their schema's `n` entries in `pg_depend` (the server records one for
        // every routine outside a pinned schema, and only system schemas are pinned), not a
        // scan of the thousands of rows of `pg_proc`.
        format!(
            "SELECT {SCHEMA}, p.proname, p.prokind, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid) \
             FROM pg_namespace n \
             CROSS JOIN LATERAL (SELECT p.* FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid \
               WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = n.oid AND d.classid = 'pg_proc'::regclass \
               AND d.deptype = 'n' AND p.pronamespace = n.oid OFFSET 0) p \
             WHERE p.prokind IN ('f', 'p') AND {USER_NAMESPACE} AND {}",
            own("p", "pg_proc")
        ),
        format!(
            "SELECT {SCHEMA}, c.relname, t.tgname, pg_get_triggerdef(t.oid, true) \
             FROM pg_trigger t \
             CROSS JOIN LATERAL (SELECT * FROM pg_class c WHERE c.oid = t.tgrelid OFFSET 0) c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE NOT t.tgisinternal AND {relation}"
        ),
    ]
}

/// The snapshot of the database `client` is connected to.
///
/// The catalog queries are prepared once per session (`PREPARE migrate_snapshot_<hash>_<n>`,
/// the hash telling apart the texts of another version table) and then run with `EXECUTE`,
/// all in one simple-query round trip: `verify` takes three snapshots per revision, and
/// planning these queries costs about as much as running them. `prepared` is the executor's
/// memory of the prefix this session has prepared: while it holds, a snapshot is one round
/// trip of `EXECUTE`s; otherwise `pg_prepared_statements` is asked first (two round trips).
/// Where prepared statements do not survive between round trips (a pooler in transaction
/// mode, a `DISCARD ALL` in a migration), the queries run again as text.
pub(crate) async fn read_snapshot(
    client: &Client,
    table: &VersionTable,
    prepared: &mut Option<String>,
) -> Result<Snapshot, DatabaseError> {
    let queries = queries(table);
    let results = crate::prepared::run_queries(client, "snapshot", &queries, "", prepared)
        .await
        .map_err(|e| session_error("reading the catalog", &e))?;
    let mut results = results.into_iter();
    let mut next = || results.next().unwrap_or_default();
    let (
        schemas,
        extensions,
        enums,
        sequences,
        tables,
        columns,
        constraints,
        indexes,
        views,
        routines,
        triggers,
    ) = (
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
    );

    let mut snap = Snapshot {
        schemas: schemas.into_iter().map(|r| text(&r, 0)).collect(),
        ..Snapshot::default()
    };
    snap.extensions = extensions
        .iter()
        .map(|r| Extension {
            name: text(r, 0),
            version: text(r, 1),
            schema: schema(r, 2),
        })
        .collect();
    snap.enums = enums
        .iter()
        .map(|r| EnumType {
            schema: schema(r, 0),
            name: text(r, 1),
            labels: list(r, 2),
        })
        .collect();
    snap.sequences = sequences
        .iter()
        .map(|r| Sequence {
            schema: schema(r, 0),
            name: text(r, 1),
            data_type: text(r, 2),
            start: number(r, 3),
            increment: number(r, 4),
            min: number(r, 5),
            max: number(r, 6),
            cache: number(r, 7),
            cycle: flag(r, 8),
            owned_by: opt(r, 9),
        })
        .collect();

    let mut by_name: BTreeMap<(Option<String>, String), Table> = BTreeMap::new();
    for r in &tables {
        let mut t = Table::new(schema(r, 0).as_deref(), &text(r, 1), Vec::new());
        if text(r, 3) == "u" {
            t.options.push("UNLOGGED".to_string());
        }
        if text(r, 2) == "p" {
            t.options.push(format!("PARTITION BY {}", text(r, 4)));
        }
        t.comment = opt(r, 5);
        by_name.insert((t.schema.clone(), t.name.clone()), t);
    }
    for r in &columns {
        let Some(t) = by_name.get_mut(&(schema(r, 0), text(r, 1))) else {
            continue;
        };
        let mut column = Column::new(&text(r, 2), &text(r, 3), !flag(r, 4));
        let expression = opt(r, 5);
        if text(r, 6) == "s" {
            column.generated = expression.map(|expression| Generated {
                expression,
                stored: true,
            });
        } else {
            column.default = expression;
        }
        column.identity = match text(r, 7).as_str() {
            "a" => Some("GENERATED ALWAYS AS IDENTITY".to_string()),
            "d" => Some("GENERATED BY DEFAULT AS IDENTITY".to_string()),
            _ => None,
        };
        column.collation = opt(r, 8);
        column.comment = opt(r, 9);
        t.columns.push(column);
    }
    for r in &constraints {
        let Some(t) = by_name.get_mut(&(schema(r, 0), text(r, 1))) else {
            continue;
        };
        let (name, definition) = (text(r, 2), text(r, 4));
        match text(r, 3).as_str() {
            "p" => {
                t.primary_key = Some(PrimaryKey {
                    name: Some(name),
                    columns: list(r, 5),
                    ddl: Some(definition),
                })
            }
            "u" => t.uniques.push(Unique {
                name: Some(name),
                columns: list(r, 5),
                ddl: Some(definition),
            }),
            "c" => t.checks.push(Check {
                name: Some(name),
                expression: definition
                    .strip_prefix("CHECK ")
                    .unwrap_or(&definition)
                    .to_string(),
            }),
            "x" => t.checks.push(Check {
                name: Some(name),
                expression: definition,
            }),
            "f" => {
                let mut options = Vec::new();
                match text(r, 12).as_str() {
                    "f" => options.push("MATCH FULL"),
                    "p" => options.push("MATCH PARTIAL"),
                    _ => {}
                }
                match (flag(r, 10), flag(r, 11)) {
                    (true, true) => options.push("DEFERRABLE INITIALLY DEFERRED"),
                    (true, false) => options.push("DEFERRABLE"),
                    _ => {}
                }
                t.foreign_keys.push(ForeignKey {
                    name: Some(name),
                    columns: list(r, 5),
                    referenced_table: text(r, 6),
                    referenced_columns: list(r, 7),
                    on_update: action(&text(r, 8)),
                    on_delete: action(&text(r, 9)),
                    options: options.join(" "),
                    ddl: Some(definition),
                });
            }
            _ => {}
        }
    }
    for r in &indexes {
        let Some(t) = by_name.get_mut(&(schema(r, 0), text(r, 1))) else {
            continue;
        };
        t.indexes.push(Index {
            name: text(r, 2),
            unique: flag(r, 3),
            method: opt(r, 4),
            predicate: opt(r, 5),
            ddl: opt(r, 6),
            columns: list(r, 7),
            include: list(r, 8),
        });
    }
    snap.tables = by_name.into_values().collect();
    snap.views = views
        .iter()
        .map(|r| View {
            schema: schema(r, 0),
            name: text(r, 1),
            materialized: flag(r, 2),
            definition: text(r, 3).trim().trim_end_matches(';').to_string(),
            comment: opt(r, 4),
            depends_on: list(r, 5),
            ddl: None,
        })
        .collect();
    snap.routines = routines
        .iter()
        .map(|r| Routine {
            schema: schema(r, 0),
            name: text(r, 1),
            kind: if text(r, 2) == "p" {
                RoutineKind::Procedure
            } else {
                RoutineKind::Function
            },
            arguments: text(r, 3),
            definition: text(r, 4).trim_end().to_string(),
        })
        .collect();
    snap.triggers = triggers
        .iter()
        .map(|r| Trigger {
            schema: schema(r, 0),
            table: text(r, 1),
            name: text(r, 2),
            definition: text(r, 3),
            ddl: None,
        })
        .collect();
    Ok(snap.sorted())
}

fn opt(row: &[Option<String>], i: usize) -> Option<String> {
    row.get(i).cloned().flatten()
}

fn text(row: &[Option<String>], i: usize) -> String {
    opt(row, i).unwrap_or_default()
}

fn schema(row: &[Option<String>], i: usize) -> Option<String> {
    opt(row, i).filter(|s| !s.is_empty())
}

fn flag(row: &[Option<String>], i: usize) -> bool {
    text(row, i) == "t"
}

fn number(row: &[Option<String>], i: usize) -> i64 {
    text(row, i).parse().unwrap_or_default()
}

fn list(row: &[Option<String>], i: usize) -> Vec<String> {
    opt(row, i)
        .map(|v| v.split(SEP).map(str::to_string).collect())
        .unwrap_or_default()
}

/// `pg_constraint`'s action code as SQL says it.
fn action(code: &str) -> String {
    match code {
        "r" => "RESTRICT",
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        _ => "NO ACTION",
    }
    .to_string()
}
