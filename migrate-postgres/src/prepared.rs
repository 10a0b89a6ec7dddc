//! Catalog queries a session runs again and again (the snapshots of `verify`, the version
//! table's lookup), prepared once per server session with SQL `PREPARE` and run with
//! `EXECUTE` over the simple protocol, so that they stay usable behind PgBouncer.

use tokio_postgres::{Client, SimpleQueryMessage};

/// The rows of one statement's result, each value as text.
pub(crate) type Rows = Vec<Vec<Option<String>>>;

/// SQLSTATE 26000 (no such prepared statement) or 42P05 (one of that name exists already):
/// another server session answered than the one that prepared them.
fn another_session(error: &tokio_postgres::Error) -> bool {
    error
        .code()
        .is_some_and(|c| ["26000", "42P05"].contains(&c.code()))
}

/// The rows of each of `queries`, in order, through prepared statements of this session named
/// `migrate_<purpose>_<hash of the queries>_<i>`, then those of each statement of `tail`
/// (plain SQL sent after them in the same round trip; `""` for none). `prepared` remembers the prefix once they
/// are prepared: the next call sends only the `EXECUTE`s, one round trip. A server session
/// that does not hold them (PgBouncer gave another one, or a migration ran `DEALLOCATE ALL`)
/// makes it prepare again, or run the queries as they are.
pub(crate) async fn run_queries(
    client: &Client,
    purpose: &str,
    queries: &[String],
    tail: &str,
    prepared: &mut Option<String>,
) -> Result<Vec<Rows>, tokio_postgres::Error> {
    let prefix = format!(
        "migrate_{purpose}_{}_",
        &migrate_core::snapshot::definition_hash(&queries.join(";"))[..12]
    );
    let names: Vec<String> = (0..queries.len()).map(|i| format!("{prefix}{i}")).collect();
    let mut executes: String = names.iter().map(|n| format!("EXECUTE {n};\n")).collect();
    executes.push_str(tail);
    if prepared.as_deref() == Some(prefix.as_str()) {
        match client.simple_query(&executes).await {
            Ok(messages) => return Ok(results(messages)),
            Err(e) if another_session(&e) => *prepared = None,
            Err(e) => return Err(e),
        }
    }
    let found = client
        .simple_query(&format!(
            "SELECT name FROM pg_prepared_statements WHERE name LIKE '{prefix}%'"
        ))
        .await?;
    let have: Vec<&str> = found
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => row.get(0),
            _ => None,
        })
        .collect();
    let mut sql = String::new();
    let mut prepares = 0;
    for (name, query) in names.iter().zip(queries) {
        if !have.contains(&name.as_str()) {
            sql.push_str(&format!("PREPARE {name} AS {query};\n"));
            prepares += 1;
        }
    }
    sql.push_str(&executes);
    match client.simple_query(&sql).await {
        Ok(messages) => {
            *prepared = Some(prefix);
            // Each PREPARE completes a command with no rows.
            let mut all = results(messages);
            all.drain(..prepares.min(all.len()));
            Ok(all)
        }
        Err(e) if another_session(&e) => {
            *prepared = None;
            let mut sql = queries.join(";\n");
            if !tail.is_empty() {
                sql.push_str(";\n");
                sql.push_str(tail);
            }
            Ok(results(client.simple_query(&sql).await?))
        }
        Err(e) => Err(e),
    }
}

/// The rows of each command of one simple query, in order.
pub(crate) fn results(messages: Vec<SimpleQueryMessage>) -> Vec<Rows> {
    let mut all = Vec::new();
    let mut rows: Rows = Vec::new();
    for message in messages {
        match message {
            SimpleQueryMessage::Row(row) => rows.push(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            SimpleQueryMessage::CommandComplete(_) => all.push(std::mem::take(&mut rows)),
            _ => {}
        }
    }
    all
}
