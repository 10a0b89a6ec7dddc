//! The migration lock: its key, the ways PostgreSQL can hold it, and the lock held on a
//! connection of its own (the one that survives a pooler in transaction mode).
//!
//! Every kind of lock is the same advisory lock (one 64-bit key per database, schema and
//! version table), so runs holding it in different modes still exclude each other: a
//! session-level and a transaction-level advisory lock on one key conflict.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use migrate_core::DatabaseError;
use tokio::task::JoinHandle;
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::error::describe;

/// FNV-1a, 64 bits: small, stable across builds and platforms (unlike `std`'s hashers).
fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(PRIME)
    })
}

/// The `pg_advisory_lock` key of the version table `table` in `schema` of `database`: the
/// FNV-1a 64 hash of `migrate:` + database + NUL + schema + NUL + table, as a signed bigint.
pub fn advisory_lock_key(database: &str, schema: &str, table: &str) -> i64 {
    let text = format!("migrate:{database}\0{schema}\0{table}");
    i64::from_ne_bytes(fnv1a_64(text.as_bytes()).to_ne_bytes())
}

/// How the migration lock is held: the URL's `?lock_mode=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LockMode {
    /// `session` when `migrate` talks to the server directly, `transaction` when the server
    /// did not see the address `migrate` connected to (a pooler or proxy in between).
    #[default]
    Auto,
    /// A session-level advisory lock on the migration's own connection. Needs one server
    /// session for the whole run: a direct connection, or a pooler in session mode.
    Session,
    /// A transaction-level advisory lock held in an open transaction on a second connection
    /// of its own, kept alive by a heartbeat. Holds behind a pooler in transaction mode
    /// (PgBouncer's `pool_mode = transaction`) and everywhere else, for one more connection.
    Transaction,
}

impl LockMode {
    /// The URL spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LockMode::Auto => "auto",
            LockMode::Session => "session",
            LockMode::Transaction => "transaction",
        }
    }

    /// Read the URL's value.
    pub(crate) fn parse(value: &str) -> Result<LockMode, DatabaseError> {
        match value {
            "auto" => Ok(LockMode::Auto),
            "session" => Ok(LockMode::Session),
            "transaction" => Ok(LockMode::Transaction),
            other => Err(DatabaseError::connect(format!(
                "unknown lock_mode `{other}` in the PostgreSQL URL; use auto, session or transaction"
            ))),
        }
    }
}

/// How often the lock connection proves it is alive: far below any sensible
/// `idle_in_transaction_session_timeout` (or PgBouncer `idle_transaction_timeout`), which
/// would otherwise end its transaction and with it the lock.
pub(crate) const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(2);

/// Why the lock was lost, once it is; shared by the heartbeat and the executor.
pub(crate) type LostReason = Arc<Mutex<Option<String>>>;

/// A transaction-level advisory lock held on a connection of its own.
///
/// The connection sits in an open transaction that has only taken the lock: it writes
/// nothing, holds no snapshot between statements (so it never holds back vacuum) and, behind
/// a pooler in transaction mode, keeps its server connection for as long as it is open.
/// When the process dies, the server (or PgBouncer, which closes a server connection whose
/// client left mid-transaction) ends the transaction, and the lock goes with it.
pub(crate) struct ConnectionLock {
    client: Arc<Client>,
    heartbeat: JoinHandle<()>,
    lost: LostReason,
}

impl std::fmt::Debug for ConnectionLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionLock")
            .field("lost", &self.lost_reason())
            .finish_non_exhaustive()
    }
}

/// The result of one attempt at the lock.
pub(crate) enum Attempt {
    /// Taken: the connection now holds it.
    Held(ConnectionLock),
    /// Another run holds it; the connection is given back for the next attempt.
    Busy(Client),
}

impl ConnectionLock {
    /// Try once to take the lock `key` on `client` (a connection used for nothing else):
    /// `BEGIN` and `pg_try_advisory_xact_lock` in one round trip; when the lock is busy, the
    /// transaction is rolled back at once, so a waiting run pins no server connection of a
    /// pool while it sleeps.
    pub(crate) async fn try_take(client: Client, key: i64) -> Result<Attempt, DatabaseError> {
        let sql = format!("BEGIN; SELECT pg_try_advisory_xact_lock({key})");
        let got = first_value(&client, &sql)
            .await
            .map_err(|e| lock_error("taking the migration lock", &e))?;
        if got.as_deref() != Some("t") {
            client
                .batch_execute("ROLLBACK")
                .await
                .map_err(|e| lock_error("taking the migration lock", &e))?;
            return Ok(Attempt::Busy(client));
        }
        let client = Arc::new(client);
        let lost: LostReason = Arc::default();
        let heartbeat = tokio::spawn(heartbeat(client.clone(), lost.clone()));
        Ok(Attempt::Held(ConnectionLock {
            client,
            heartbeat,
            lost,
        }))
    }

    /// Why the lock was lost (its connection failed), if it was.
    pub(crate) fn lost_reason(&self) -> Option<String> {
        self.lost
            .lock()
            .map(|r| r.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// End the transaction (which releases the lock) and close the connection. A connection
    /// that has already failed took the lock with it.
    pub(crate) async fn release(self) {
        self.heartbeat.abort();
        let _ = self.client.batch_execute("ROLLBACK").await;
    }
}

impl Drop for ConnectionLock {
    fn drop(&mut self) {
        // Dropping the client closes the connection, which releases the lock; the heartbeat
        // must not keep it alive.
        self.heartbeat.abort();
    }
}

/// Every [`HEARTBEAT_INTERVAL`], one `SELECT 1` inside the lock's transaction; the first
/// failure is recorded and ends the heartbeat.
async fn heartbeat(client: Arc<Client>, lost: LostReason) {
    let mut ticks = tokio::time::interval(HEARTBEAT_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await; // the first tick is immediate
    loop {
        ticks.tick().await;
        if let Err(e) = client.batch_execute("SELECT 1").await {
            let reason = format!("its connection failed: {}", describe(&e));
            match lost.lock() {
                Ok(mut slot) => *slot = Some(reason),
                Err(poisoned) => *poisoned.into_inner() = Some(reason),
            }
            return;
        }
    }
}

/// The first column of the first row `sql` returns (simple protocol: no prepared
/// statement, so it works behind any pooler), `None` for NULL or no row.
pub(crate) async fn first_value(
    client: &Client,
    sql: &str,
) -> Result<Option<String>, tokio_postgres::Error> {
    Ok(first_row(client, sql)
        .await?
        .and_then(|row| row.into_iter().next().flatten()))
}

/// The values of the first row `sql` returns, as text (simple protocol).
pub(crate) async fn first_row(
    client: &Client,
    sql: &str,
) -> Result<Option<Vec<Option<String>>>, tokio_postgres::Error> {
    for message in client.simple_query(sql).await? {
        if let SimpleQueryMessage::Row(row) = message {
            return Ok(Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ));
        }
    }
    Ok(None)
}

/// A failure while taking or releasing the lock.
pub(crate) fn lock_error(doing: &str, error: &tokio_postgres::Error) -> DatabaseError {
    DatabaseError::other(format!("{doing} failed: {}", describe(error)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn key_depends_on_every_part() {
        let base = advisory_lock_key("app", "public", "alembic_version");
        assert_eq!(base, advisory_lock_key("app", "public", "alembic_version"));
        assert_ne!(base, advisory_lock_key("app2", "public", "alembic_version"));
        assert_ne!(base, advisory_lock_key("app", "tenant", "alembic_version"));
        assert_ne!(base, advisory_lock_key("app", "public", "other_version"));
    }

    #[test]
    fn lock_modes_round_trip_and_unknown_ones_are_refused() {
        for mode in [LockMode::Auto, LockMode::Session, LockMode::Transaction] {
            assert_eq!(LockMode::parse(mode.as_str()).unwrap(), mode);
        }
        let err = LockMode::parse("advisory").unwrap_err();
        assert!(
            err.message.contains("unknown lock_mode `advisory`"),
            "{err}"
        );
    }
}
