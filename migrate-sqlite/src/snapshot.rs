//! Reading a SQLite database's catalog into a [`Snapshot`]: `sqlite_schema` for the objects
//! and the statements that made them, the table-valued pragmas (`pragma_table_xinfo`,
//! `pragma_index_list`, `pragma_index_xinfo`, `pragma_foreign_key_list`, `pragma_table_list`)
//! for their structure, and the `CREATE TABLE` text for what no pragma tells (check
//! constraints, column collations, generated expressions, `AUTOINCREMENT`, constraint names).
//!
//! Each pragma is joined with `sqlite_schema` in one statement for all the tables read, and a
//! table whose statements have not changed since an earlier snapshot is not read again (see
//! [`TABLES`]), so a snapshot costs one scan of `sqlite_schema` plus what changed.

use std::collections::{BTreeMap, HashMap};
use std::sync::{LazyLock, Mutex};

use migrate_core::snapshot::{
    normalize_sql, Check, Column, ForeignKey, Generated, Index, PrimaryKey, Snapshot, Table,
    Trigger, Unique, View,
};
use migrate_core::{DatabaseError, VersionTable};
use rusqlite::types::ValueRef;
use rusqlite::Connection;

/// Objects whose names SQLite reserves (`sqlite_sequence`, `sqlite_stat1`, autoindexes).
const NOT_INTERNAL: &str = "name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";

/// Tables already read, by the statements that define them: the text of the table's
/// `CREATE TABLE` and of each of its indexes' `CREATE INDEX` (`None`: a virtual table's
/// shadow table, left out). Everything the pragmas report is a function of those texts, so a
/// table whose statements are unchanged since an earlier snapshot (in this process, on any
/// connection) is not read again: `verify` takes three snapshots per revision, and each costs
/// one scan of `sqlite_schema` plus the tables the revision changed.
static TABLES: LazyLock<Mutex<HashMap<String, Option<Table>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Past this many entries the cache starts over (a guard, far above any real schema).
const CACHE_LIMIT: usize = 100_000;

/// The snapshot of the `main` database of `conn`, without the version table `table` and its
/// history table (nor their indexes and triggers).
pub fn read_snapshot(conn: &Connection, table: &VersionTable) -> Result<Snapshot, DatabaseError> {
    let skipped: Vec<String> = match table.schema.as_deref() {
        None | Some("main") => vec![table.name.clone(), format!("{}_history", table.name)],
        Some(_) => Vec::new(),
    };
    let skip = |name: &str| skipped.iter().any(|s| s == name);

    let mut table_sql: BTreeMap<String, String> = BTreeMap::new();
    let mut views = Vec::new();
    let mut triggers = Vec::new();
    let mut index_sql: BTreeMap<String, String> = BTreeMap::new();
    let mut index_keys: BTreeMap<String, String> = BTreeMap::new();
    for row in rows(
        conn,
        &format!(
            "SELECT type, name, tbl_name, sql FROM main.sqlite_schema WHERE {NOT_INTERNAL} ORDER BY name"
        ),
    )? {
        let [kind, name, tbl_name, sql] = row_of::<4>(row);
        if skip(&tbl_name) {
            continue;
        }
        match kind.as_str() {
            "table" => {
                table_sql.insert(name, sql);
            }
            "view" => views.push(View {
                schema: None,
                definition: normalize_sql(&sql),
                name,
                materialized: false,
                comment: None,
                depends_on: Vec::new(),
                ddl: Some(sql),
            }),
            "trigger" => triggers.push(Trigger {
                schema: None,
                table: tbl_name,
                name,
                definition: normalize_sql(&sql),
                ddl: Some(sql),
            }),
            "index" => {
                let key = index_keys.entry(tbl_name).or_default();
                key.push_str(&format!("\0{name}\0{sql}"));
                index_sql.insert(name, sql);
            }
            _ => {}
        }
    }

    let key = |name: &str, sql: &str| {
        format!(
            "{sql}{}",
            index_keys.get(name).map(String::as_str).unwrap_or("")
        )
    };
    let mut tables: Vec<Table> = Vec::with_capacity(table_sql.len());
    let mut missing: BTreeMap<String, String> = BTreeMap::new();
    {
        let cache = TABLES
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (name, sql) in &table_sql {
            match cache.get(&key(name, sql)) {
                Some(Some(t)) if t.name == *name => tables.push(t.clone()),
                Some(None) => {}
                _ => {
                    missing.insert(name.clone(), sql.clone());
                }
            }
        }
    }
    if !missing.is_empty() {
        let read = read_tables(conn, &missing, &index_sql)?;
        let mut cache = TABLES
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if cache.len() > CACHE_LIMIT {
            cache.clear();
        }
        for (name, sql) in &missing {
            let t = read.get(name).cloned();
            cache.insert(key(name, sql), t.clone());
            tables.extend(t);
        }
    }
    Ok(Snapshot {
        tables,
        views,
        triggers,
        ..Snapshot::default()
    }
    .sorted())
}

/// Reads the tables `wanted` (name to `CREATE TABLE` text) from the pragmas and their text;
/// a virtual table's shadow tables are left out of the result.
fn read_tables(
    conn: &Connection,
    wanted: &BTreeMap<String, String>,
    index_sql: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Table>, DatabaseError> {
    let names: Vec<String> = wanted
        .keys()
        .map(|n| format!("'{}'", n.replace('\'', "''")))
        .collect();
    let only = format!("IN ({})", names.join(", "));
    let kinds = table_kinds(conn, &only)?;
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for (name, sql) in wanted {
        let kind = kinds.get(name).map(String::as_str).unwrap_or("table");
        if kind == "shadow" {
            continue; // a virtual table's storage, recreated with it
        }
        let mut t = Table::new(None, name, Vec::new());
        t.options = kinds_options(kinds.get(&format!("{name}\u{0}options")));
        if kind == "virtual" {
            t.options.push("VIRTUAL".to_string());
        }
        t.ddl = Some(sql.clone());
        tables.insert(name.clone(), t);
    }
    read_columns(conn, &mut tables, &only)?;
    for t in tables.values_mut() {
        let Some(sql) = t.ddl.clone() else { continue };
        apply_table_text(t, &sql);
    }
    read_indexes(conn, &mut tables, index_sql, &only)?;
    read_foreign_keys(conn, &mut tables, &only)?;
    Ok(tables)
}

/// Every value of every row of `sql`, as text (`NULL` as empty text: no column read here
/// tells NULL from empty, save `dflt_value` and `to`, read with [`nullable_rows`]).
fn rows(conn: &Connection, sql: &str) -> Result<Vec<Vec<String>>, DatabaseError> {
    Ok(nullable_rows(conn, sql)?
        .into_iter()
        .map(|r| r.into_iter().map(Option::unwrap_or_default).collect())
        .collect())
}

fn nullable_rows(conn: &Connection, sql: &str) -> Result<Vec<Vec<Option<String>>>, DatabaseError> {
    text_rows(conn, sql, |e| {
        DatabaseError::other(format!("reading the SQLite catalog ({sql}): {e}"))
    })
}

/// Every row of `sql`, each value as text (`NULL` as `None`, blobs read as UTF-8); `failed`
/// turns SQLite's error into the caller's.
pub(crate) fn text_rows(
    conn: &Connection,
    sql: &str,
    failed: impl Fn(rusqlite::Error) -> DatabaseError,
) -> Result<Vec<Vec<Option<String>>>, DatabaseError> {
    let mut stmt = conn.prepare(sql).map_err(&failed)?;
    let n = stmt.column_count();
    let mut out = Vec::new();
    let mut q = stmt.query([]).map_err(&failed)?;
    while let Some(row) = q.next().map_err(&failed)? {
        let mut values = Vec::with_capacity(n);
        for i in 0..n {
            values.push(match row.get_ref(i).map_err(&failed)? {
                ValueRef::Null => None,
                ValueRef::Integer(v) => Some(v.to_string()),
                ValueRef::Real(v) => Some(v.to_string()),
                ValueRef::Text(t) | ValueRef::Blob(t) => {
                    Some(String::from_utf8_lossy(t).into_owned())
                }
            });
        }
        out.push(values);
    }
    Ok(out)
}

fn row_of<const N: usize>(row: Vec<String>) -> [String; N] {
    let mut it = row.into_iter();
    std::array::from_fn(|_| it.next().unwrap_or_default())
}

/// `pragma_table_list`'s kind of each table (`table`, `virtual`, `shadow`), and under
/// `<name>\0options` its `WITHOUT ROWID` and `STRICT` flags.
fn table_kinds(conn: &Connection, only: &str) -> Result<BTreeMap<String, String>, DatabaseError> {
    let mut kinds = BTreeMap::new();
    for row in rows(
        conn,
        &format!("SELECT name, type, wr, strict FROM pragma_table_list WHERE schema = 'main' AND name {only}"),
    )? {
        let [name, kind, wr, strict] = row_of::<4>(row);
        let mut flags = String::new();
        if wr == "1" {
            flags.push('w');
        }
        if strict == "1" {
            flags.push('s');
        }
        kinds.insert(format!("{name}\u{0}options"), flags);
        kinds.insert(name, kind);
    }
    Ok(kinds)
}

fn kinds_options(flags: Option<&String>) -> Vec<String> {
    let flags = flags.map(String::as_str).unwrap_or("");
    let mut options = Vec::new();
    if flags.contains('w') {
        options.push("WITHOUT ROWID".to_string());
    }
    if flags.contains('s') {
        options.push("STRICT".to_string());
    }
    options
}

fn read_columns(
    conn: &Connection,
    tables: &mut BTreeMap<String, Table>,
    only: &str,
) -> Result<(), DatabaseError> {
    let mut pk: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for row in nullable_rows(
        conn,
        &format!(
            "SELECT m.name, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk, p.hidden \
             FROM main.sqlite_schema m JOIN pragma_table_xinfo(m.name) p \
             WHERE m.type = 'table' AND m.name {only} ORDER BY m.name, p.cid"
        ),
    )? {
        let mut it = row.into_iter();
        let mut next = || it.next().flatten();
        let (table, name, data_type, notnull, default, pk_pos, hidden) = (
            next().unwrap_or_default(),
            next().unwrap_or_default(),
            next().unwrap_or_default(),
            next().unwrap_or_default(),
            next(),
            next().unwrap_or_default(),
            next().unwrap_or_default(),
        );
        let Some(t) = tables.get_mut(&table) else {
            continue;
        };
        if hidden == "1" {
            continue; // a virtual table's hidden column
        }
        let mut column = Column::new(&name, &data_type, notnull != "1");
        column.default = default.map(|d| normalize_sql(&d));
        if hidden == "2" || hidden == "3" {
            column.generated = Some(Generated {
                expression: String::new(),
                stored: hidden == "3",
            });
        }
        if let Ok(position) = pk_pos.parse::<i64>() {
            if position > 0 {
                pk.entry(table.clone()).or_default().push((position, name));
            }
        }
        t.columns.push(column);
    }
    for (table, mut columns) in pk {
        if let Some(t) = tables.get_mut(&table) {
            columns.sort();
            t.primary_key = Some(PrimaryKey {
                name: None,
                columns: columns.into_iter().map(|(_, c)| c).collect(),
                ddl: None,
            });
        }
    }
    Ok(())
}

fn read_indexes(
    conn: &Connection,
    tables: &mut BTreeMap<String, Table>,
    index_sql: &BTreeMap<String, String>,
    only: &str,
) -> Result<(), DatabaseError> {
    struct Found {
        table: String,
        unique: bool,
        origin: String,
        parts: Vec<String>,
    }
    let mut found: BTreeMap<String, Found> = BTreeMap::new();
    for row in rows(
        conn,
        &format!(
            "SELECT m.name, il.name, il.\"unique\", il.origin, ii.cid, ii.name, ii.\"desc\", ii.coll \
             FROM main.sqlite_schema m JOIN pragma_index_list(m.name) il \
             JOIN pragma_index_xinfo(il.name) ii \
             WHERE m.type = 'table' AND m.name {only} AND ii.key = 1 \
             ORDER BY m.name, il.name, ii.seqno"
        ),
    )? {
        let [table, index, unique, origin, cid, column, desc, coll] = row_of::<8>(row);
        // A key part takes its column's collation unless it names another one.
        let inherited = tables
            .get(&table)
            .and_then(|t| t.column(&column))
            .and_then(|c| c.collation.as_deref())
            .unwrap_or("BINARY")
            .eq_ignore_ascii_case(&coll);
        let entry = found.entry(index.clone()).or_insert_with(|| Found {
            table,
            unique: unique == "1",
            origin,
            parts: Vec::new(),
        });
        let position = entry.parts.len();
        let mut part = match cid.as_str() {
            "-2" => index_sql
                .get(&index)
                .and_then(|sql| index_parts(sql).into_iter().nth(position))
                .unwrap_or_else(|| "<expression>".to_string()),
            "-1" => "rowid".to_string(),
            _ => column,
        };
        if cid != "-2" {
            if !inherited {
                part.push_str(&format!(" COLLATE {coll}"));
            }
            if desc == "1" {
                part.push_str(" DESC");
            }
        }
        entry.parts.push(part);
    }
    for (name, f) in found {
        let Some(t) = tables.get_mut(&f.table) else {
            continue;
        };
        match f.origin.as_str() {
            "pk" => {}
            "u" => t.uniques.push(Unique {
                name: None,
                columns: f.parts,
                ddl: None,
            }),
            _ => {
                let sql = index_sql.get(&name).cloned();
                t.indexes.push(Index {
                    predicate: sql.as_deref().and_then(index_predicate),
                    name,
                    columns: f.parts,
                    unique: f.unique,
                    method: None,
                    include: Vec::new(),
                    ddl: sql,
                });
            }
        }
    }
    Ok(())
}

fn read_foreign_keys(
    conn: &Connection,
    tables: &mut BTreeMap<String, Table>,
    only: &str,
) -> Result<(), DatabaseError> {
    let mut keys: BTreeMap<(String, i64), ForeignKey> = BTreeMap::new();
    for row in nullable_rows(
        conn,
        &format!(
            "SELECT m.name, f.id, f.\"table\", f.\"from\", f.\"to\", f.on_update, f.on_delete, f.\"match\" \
             FROM main.sqlite_schema m JOIN pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table' AND m.name {only} ORDER BY m.name, f.id, f.seq"
        ),
    )? {
        let mut it = row.into_iter();
        let mut next = || it.next().flatten();
        let table = next().unwrap_or_default();
        let id: i64 = next().and_then(|v| v.parse().ok()).unwrap_or_default();
        let (target, from, to, on_update, on_delete, matching) =
            (next(), next(), next(), next(), next(), next());
        let key = keys.entry((table, id)).or_insert_with(|| ForeignKey {
            name: None,
            columns: Vec::new(),
            referenced_table: target.unwrap_or_default(),
            referenced_columns: Vec::new(),
            on_update: on_update.unwrap_or_default(),
            on_delete: on_delete.unwrap_or_default(),
            options: matching
                .filter(|m| m != "NONE")
                .map(|m| format!("MATCH {m}"))
                .unwrap_or_default(),
            ddl: None,
        });
        key.columns.push(from.unwrap_or_default());
        if let Some(to) = to {
            key.referenced_columns.push(to);
        }
    }
    for ((table, _), key) in keys {
        if let Some(t) = tables.get_mut(&table) {
            t.foreign_keys.push(key);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// What only the CREATE TABLE text tells

/// One token of SQLite's SQL, with its byte span.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    kind: TokenKind,
    start: usize,
    end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    /// A bare word: a keyword or an unquoted name.
    Word,
    /// `"x"`, `` `x` `` or `[x]`.
    Quoted,
    /// `'...'`.
    String,
    /// `(`.
    Open,
    /// `)`.
    Close,
    /// `,`.
    Comma,
    /// Anything else (operators, numbers).
    Other,
}

/// The tokens of `sql`, comments dropped.
fn tokens(sql: &str) -> Vec<Token> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        let kind = match c {
            _ if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i = (i + 2).min(b.len());
                continue;
            }
            b'\'' | b'"' | b'`' | b'[' => {
                let close = if c == b'[' { b']' } else { c };
                i += 1;
                while i < b.len() {
                    if b[i] == close {
                        if close != b']' && b.get(i + 1) == Some(&close) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i = (i + 1).min(b.len());
                if c == b'\'' {
                    TokenKind::String
                } else {
                    TokenKind::Quoted
                }
            }
            b'(' => {
                i += 1;
                TokenKind::Open
            }
            b')' => {
                i += 1;
                TokenKind::Close
            }
            b',' => {
                i += 1;
                TokenKind::Comma
            }
            _ if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || b[i] == b'_'
                        || b[i] == b'$'
                        || b[i] >= 0x80)
                {
                    i += 1;
                }
                TokenKind::Word
            }
            _ => {
                i += 1;
                TokenKind::Other
            }
        };
        out.push(Token {
            kind,
            start,
            end: i,
        });
    }
    out
}

fn is_word(sql: &str, t: &Token, word: &str) -> bool {
    t.kind == TokenKind::Word && sql[t.start..t.end].eq_ignore_ascii_case(word)
}

/// A name token without its quotes.
fn unquote(sql: &str, t: &Token) -> String {
    let text = &sql[t.start..t.end];
    if t.kind == TokenKind::Quoted && text.len() >= 2 {
        let q = &text[..1];
        let inner = &text[1..text.len() - 1];
        if q == "[" {
            inner.to_string()
        } else {
            inner.replace(&format!("{q}{q}"), q)
        }
    } else {
        text.to_string()
    }
}

/// The index of the `)` matching the `(` at `open`.
fn matching_close(toks: &[Token], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        match t.kind {
            TokenKind::Open => depth += 1,
            TokenKind::Close => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    toks.len().saturating_sub(1)
}

/// The items between the parentheses that start at `open`, split at top-level commas.
fn items(toks: &[Token], open: usize) -> Vec<&[Token]> {
    let close = matching_close(toks, open);
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = open + 1;
    for i in open + 1..close {
        match toks[i].kind {
            TokenKind::Open => depth += 1,
            TokenKind::Close => depth = depth.saturating_sub(1),
            TokenKind::Comma if depth == 0 => {
                out.push(&toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < close {
        out.push(&toks[start..close]);
    }
    out
}

/// The source text from token `from` to token `to` (inclusive), whitespace normalized.
fn text_of(sql: &str, toks: &[Token]) -> String {
    match (toks.first(), toks.last()) {
        (Some(a), Some(b)) => normalize_sql(&sql[a.start..b.end]),
        _ => String::new(),
    }
}

/// The text inside the parentheses opening at `toks[open]`.
fn parenthesized(sql: &str, toks: &[Token], open: usize) -> String {
    let close = matching_close(toks, open);
    text_of(sql, &toks[open + 1..close])
}

/// Adds to `t` what its `CREATE TABLE` text says and no pragma does: check constraints and
/// their names, column collations, generated expressions, `AUTOINCREMENT`, and the primary
/// key's name.
fn apply_table_text(t: &mut Table, sql: &str) {
    let toks = tokens(sql);
    let Some(open) = toks.iter().position(|k| k.kind == TokenKind::Open) else {
        return; // CREATE TABLE ... AS SELECT has no column list; its pragmas say everything
    };
    if toks[..open].iter().any(|k| is_word(sql, k, "VIRTUAL")) {
        return;
    }
    for item in items(&toks, open) {
        let Some(first) = item.first() else { continue };
        let table_constraint = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
            .iter()
            .any(|w| is_word(sql, first, w));
        let column = if table_constraint {
            None
        } else {
            Some(unquote(sql, first))
        };
        let mut name: Option<String> = None;
        let mut i = usize::from(column.is_some());
        while i < item.len() {
            let tok = &item[i];
            if tok.kind == TokenKind::Open {
                // a type's length, a default's expression: nothing to read inside
                i = matching_close(item, i) + 1;
                continue;
            }
            if is_word(sql, tok, "CONSTRAINT") && i + 1 < item.len() {
                name = Some(unquote(sql, &item[i + 1]));
                i += 2;
                continue;
            }
            if is_word(sql, tok, "CHECK")
                && item.get(i + 1).is_some_and(|k| k.kind == TokenKind::Open)
            {
                t.checks.push(Check {
                    name: name.take(),
                    expression: parenthesized(sql, item, i + 1),
                });
                i = matching_close(item, i + 1) + 1;
                continue;
            }
            if is_word(sql, tok, "PRIMARY") {
                if let (Some(n), Some(pk)) = (name.take(), t.primary_key.as_mut()) {
                    pk.name = Some(n);
                }
            }
            if let Some(col) = &column {
                if is_word(sql, tok, "COLLATE") && i + 1 < item.len() {
                    let collation = unquote(sql, &item[i + 1]);
                    if let Some(c) = t.columns.iter_mut().find(|c| &c.name == col) {
                        c.collation = Some(collation);
                    }
                    i += 2;
                    continue;
                }
                if is_word(sql, tok, "AS")
                    && item.get(i + 1).is_some_and(|k| k.kind == TokenKind::Open)
                {
                    let expression = parenthesized(sql, item, i + 1);
                    if let Some(g) = t
                        .columns
                        .iter_mut()
                        .find(|c| &c.name == col)
                        .and_then(|c| c.generated.as_mut())
                    {
                        g.expression = expression;
                    }
                    i = matching_close(item, i + 1) + 1;
                    continue;
                }
                if is_word(sql, tok, "AUTOINCREMENT") {
                    if let Some(c) = t.columns.iter_mut().find(|c| &c.name == col) {
                        c.identity = Some("AUTOINCREMENT".to_string());
                    }
                }
            }
            // A constraint name belongs to the constraint right after it.
            if [
                "UNIQUE",
                "REFERENCES",
                "FOREIGN",
                "NOT",
                "DEFAULT",
                "COLLATE",
                "GENERATED",
            ]
            .iter()
            .any(|w| is_word(sql, tok, w))
            {
                name = None;
            }
            i += 1;
        }
    }
}

/// The key parts of `CREATE INDEX ... ON table (parts) [WHERE ...]`, each normalized.
fn index_parts(sql: &str) -> Vec<String> {
    let toks = tokens(sql);
    let Some(open) = toks.iter().position(|k| k.kind == TokenKind::Open) else {
        return Vec::new();
    };
    items(&toks, open)
        .into_iter()
        .map(|item| text_of(sql, item))
        .collect()
}

/// A partial index's `WHERE` condition, normalized.
fn index_predicate(sql: &str) -> Option<String> {
    let toks = tokens(sql);
    let open = toks.iter().position(|k| k.kind == TokenKind::Open)?;
    let close = matching_close(&toks, open);
    let rest = &toks[close + 1..];
    let at = rest.iter().position(|k| is_word(sql, k, "WHERE"))?;
    Some(text_of(sql, &rest[at + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(sql: &str) -> Snapshot {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(sql).unwrap();
        read_snapshot(&conn, &VersionTable::default()).unwrap()
    }

    #[test]
    fn reads_columns_keys_checks_and_collations() {
        let snap = snapshot(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
             CREATE TABLE t (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT COLLATE NOCASE NOT NULL DEFAULT ( 'x' ),
                qty INT CONSTRAINT qty_positive CHECK (qty  >  0),
                twice INT GENERATED ALWAYS AS (qty * 2) STORED,
                parent INT REFERENCES t (id) ON DELETE CASCADE,
                UNIQUE (name, qty),
                CHECK (qty < 100)
             );
             CREATE INDEX t_lower ON t (lower(name), qty DESC) WHERE qty > 1;",
        );
        assert_eq!(snap.tables.len(), 1, "the version table is left out");
        let t = &snap.tables[0];
        let id = t.column("id").unwrap();
        assert_eq!(id.identity.as_deref(), Some("AUTOINCREMENT"));
        let name = t.column("name").unwrap();
        assert_eq!(name.collation.as_deref(), Some("NOCASE"));
        assert!(!name.nullable);
        // SQLite's own dflt_value for `DEFAULT ( 'x' )`.
        assert_eq!(name.default.as_deref(), Some("'x'"));
        let twice = t.column("twice").unwrap().generated.clone().unwrap();
        assert_eq!((twice.expression.as_str(), twice.stored), ("qty * 2", true));
        assert_eq!(t.primary_key.as_ref().unwrap().columns, ["id"]);
        let checks: Vec<(Option<&str>, &str)> = t
            .checks
            .iter()
            .map(|c| (c.name.as_deref(), c.expression.as_str()))
            .collect();
        assert_eq!(
            checks,
            [(None, "qty < 100"), (Some("qty_positive"), "qty > 0")]
        );
        assert_eq!(t.uniques[0].columns, ["name", "qty"]);
        let fk = &t.foreign_keys[0];
        assert_eq!(
            (fk.referenced_table.as_str(), fk.on_delete.as_str()),
            ("t", "CASCADE")
        );
        let index = &t.indexes[0];
        assert_eq!(index.columns, ["lower(name)", "qty DESC"]);
        assert_eq!(index.predicate.as_deref(), Some("qty > 1"));
    }

    #[test]
    fn a_table_changed_after_a_snapshot_is_read_again() {
        let conn = Connection::open_in_memory().unwrap();
        let table = VersionTable::default();
        conn.execute_batch("CREATE TABLE t (a INT); CREATE INDEX t_a ON t (a);")
            .unwrap();
        let before = read_snapshot(&conn, &table).unwrap();
        conn.execute_batch("ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'; DROP INDEX t_a;")
            .unwrap();
        let after = read_snapshot(&conn, &table).unwrap();
        let changes: Vec<String> = migrate_core::snapshot::diff(&before, &after)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            changes,
            ["column b on t is added", "index t_a on t is removed"]
        );
        // Back to the first statements: the first reading again.
        conn.execute_batch("DROP TABLE t; CREATE TABLE t (a INT); CREATE INDEX t_a ON t (a);")
            .unwrap();
        assert_eq!(read_snapshot(&conn, &table).unwrap(), before);
    }

    #[test]
    fn a_table_rebuilt_with_other_spacing_compares_equal() {
        let a = snapshot("CREATE TABLE t (a INT NOT NULL, b TEXT DEFAULT 'x', CHECK (a > 0))");
        let b = snapshot("CREATE TABLE \"t\" (\n  a   INT NOT NULL,\n  b TEXT DEFAULT 'x',\n  CHECK ( a > 0 )\n)");
        assert!(migrate_core::snapshot::diff(&a, &b).is_empty());
    }
}
