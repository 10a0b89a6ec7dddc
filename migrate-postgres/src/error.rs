//! Turning driver errors into one-line [`DatabaseError`]s that never carry a password.

use migrate_core::DatabaseError;
use tokio_postgres::error::DbError;

/// `ERROR: message (SQLSTATE xxxxx); DETAIL: ...; HINT: ...` on one line.
pub fn describe_db_error(db: &DbError) -> String {
    let mut text = format!(
        "{}: {} (SQLSTATE {})",
        db.severity(),
        one_line(db.message()),
        db.code().code()
    );
    if let Some(detail) = db.detail() {
        text.push_str("; DETAIL: ");
        text.push_str(&one_line(detail));
    }
    if let Some(hint) = db.hint() {
        text.push_str("; HINT: ");
        text.push_str(&one_line(hint));
    }
    text
}

/// The server's report when there is one, else the driver's own description.
pub fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => describe_db_error(db),
        None => one_line(&with_causes(error)),
    }
}

/// The error's text followed by each cause the text does not already include (the driver
/// leaves TLS failures out of its own message).
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let part = c.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = c.source();
    }
    text
}

/// A failed statement (or transaction command).
pub fn statement_error(error: &tokio_postgres::Error) -> DatabaseError {
    if error.as_db_error().is_some() {
        DatabaseError::statement(describe(error))
    } else if error.is_closed() {
        DatabaseError::other(format!(
            "the connection to PostgreSQL was lost: {}",
            describe(error)
        ))
    } else {
        DatabaseError::statement(describe(error))
    }
}

/// A failure of the executor's own bookkeeping queries (version table, lock).
pub fn session_error(doing: &str, error: &tokio_postgres::Error) -> DatabaseError {
    DatabaseError::other(format!("{doing} failed: {}", describe(error)))
}

/// Newlines and runs of whitespace folded into single spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
