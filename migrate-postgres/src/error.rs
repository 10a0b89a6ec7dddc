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
    if let Some(advice) = advice(db.code().code(), db.message()) {
        text.push_str(if text.ends_with('.') { " " } else { "; " });
        text.push_str(advice);
    }
    text
}

/// What `migrate` can add to a server error that has a remedy in its own settings.
fn advice(sqlstate: &str, message: &str) -> Option<&'static str> {
    // A transaction holds a lock on every table it creates or alters until it ends; a long
    // run in one transaction exhausts the lock table (about 3,000 new tables with the default
    // max_locks_per_transaction of 64).
    (sqlstate == "53200" && message.contains("shared memory")).then_some(
        "Migrate runs every migration in one transaction by default: set \
         `transaction_per_migration = true` (or MIGRATE_TRANSACTION_PER_MIGRATION=true) to \
         commit after each migration, or raise max_locks_per_transaction on the server",
    )
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
/// `55P03 lock_not_available` (the `lock_timeout` expired) is a lock wait, which may be
/// retried, and class `57P` (the server ended the session) a lost connection; the SQLSTATE is
/// kept either way.
pub fn statement_error(error: &tokio_postgres::Error) -> DatabaseError {
    if let Some(db) = error.as_db_error() {
        let code = db.code().code();
        let described = describe(error);
        let e = if code == "55P03" {
            DatabaseError::lock_wait(described)
        } else if code.starts_with("57P") {
            // admin_shutdown, crash_shutdown, cannot_connect_now, database_dropped,
            // idle_session_timeout: the server ended the session.
            DatabaseError::connection_lost(described)
        } else {
            DatabaseError::statement(described)
        };
        e.with_sqlstate(code)
    } else if error.is_closed() {
        DatabaseError::connection_lost(format!(
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

#[cfg(test)]
mod tests {
    use super::advice;

    #[test]
    fn running_out_of_lock_slots_points_at_transaction_per_migration() {
        // What PostgreSQL 15 reports at the 3,182nd CREATE TABLE of one transaction.
        let text = advice("53200", "out of shared memory").expect("advice for 53200");
        assert!(text.contains("transaction_per_migration = true"), "{text}");
        assert!(text.contains("max_locks_per_transaction"), "{text}");
        assert_eq!(advice("53200", "out of memory"), None);
        assert_eq!(advice("42P01", "relation \"t\" does not exist"), None);
    }
}
