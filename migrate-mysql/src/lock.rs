//! The migration lock: which kind a connection needs, `GET_LOCK`'s name for it, and the lock
//! row every node of a Galera cluster sees.
//!
//! `GET_LOCK` belongs to one server: on a Galera cluster (synchronous multi-master) each
//! node has its own, and runs connected to different nodes migrate together. What every node
//! does agree on is the order of committed writes: Galera certifies each transaction against
//! the writes ordered before it, and a transaction that changed a row another node changed
//! first fails at commit (`ER_LOCK_DEADLOCK`). So the cluster-wide lock is a row, in
//! `<version_table>_lock`, that a run claims by writing its own token into it while it is
//! free; of two runs claiming it at once on different nodes, one commits and the other gets
//! that error. The holder's second connection bumps a heartbeat counter in the row (every
//! tenth of the lease, at most every [`MAX_HEARTBEAT_INTERVAL`]); a run that finds the same
//! holder and counter for the whole lease ([`DEFAULT_LEASE`], or the URL's `lock_lease`)
//! takes the row over (compare-and-set on both), so a run that died holding it blocks the
//! next one for at most that long. A holder whose heartbeat finds its token gone stops at its
//! next statement.
//!
//! A heartbeat is a write, so under Galera it is ordered like any other: one queued behind a
//! long DDL statement (total-order isolation holds every commit until the DDL is done) is
//! still ordered before a later takeover, whose commit then fails certification.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use migrate_core::DatabaseError;
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How the migration lock is held: the URL's `?lock_mode=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LockMode {
    /// `row` on a Galera node (`wsrep_on` is `ON`), `session` everywhere else.
    #[default]
    Auto,
    /// `GET_LOCK` on the migration's own connection: one server's lock.
    Session,
    /// The lock row in `<version_table>_lock`, claimed and kept alive from a second
    /// connection: holds across a Galera cluster (or MySQL Group Replication in
    /// multi-primary mode), for one more connection and one small table.
    Row,
}

impl LockMode {
    /// The URL spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LockMode::Auto => "auto",
            LockMode::Session => "session",
            LockMode::Row => "row",
        }
    }

    /// Read the URL's value.
    pub(crate) fn parse(value: &str) -> Result<LockMode, DatabaseError> {
        match value {
            "auto" => Ok(LockMode::Auto),
            "session" => Ok(LockMode::Session),
            "row" => Ok(LockMode::Row),
            other => Err(DatabaseError::connect(format!(
                "unknown lock_mode `{other}` in the MySQL URL; use auto, session or row"
            ))),
        }
    }
}

/// The longest name `GET_LOCK` accepts.
const MAX_LOCK_NAME: usize = 64;

/// `migrate:<database>.<table>`, or, past [`MAX_LOCK_NAME`] characters, its start followed
/// by a stable hash of the whole name (the same in every build, so that every `migrate`
/// binary contends for the same lock).
pub(crate) fn lock_name(database: &str, table: &str) -> String {
    let full = format!("migrate:{database}.{table}");
    if full.chars().count() <= MAX_LOCK_NAME {
        return full;
    }
    // FNV-1a, 64 bits.
    let hash = full.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let head: String = full.chars().take(MAX_LOCK_NAME - 17).collect();
    format!("{head}:{hash:016x}")
}

/// The longest pause between two heartbeats of a holder.
const MAX_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(2);

/// How long a holder's row may stay unchanged before another run takes it over, unless the
/// URL's `lock_lease` says otherwise.
pub(crate) const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// The pause between heartbeats for `lease`: a tenth of it, at most two seconds.
fn heartbeat_interval(lease: Duration) -> Duration {
    (lease / 10).clamp(Duration::from_millis(50), MAX_HEARTBEAT_INTERVAL)
}

/// How often a waiting run looks at the row again.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// `ER_LOCK_DEADLOCK`: what Galera answers when certification refuses a commit.
const ER_LOCK_DEADLOCK: u16 = 1213;
/// `ER_LOCK_WAIT_TIMEOUT`.
const ER_LOCK_WAIT_TIMEOUT: u16 = 1205;

/// Why the lock was lost, once it is; shared by the heartbeat and the executor.
pub(crate) type LostReason = Arc<Mutex<Option<String>>>;

/// The current text of `lost`, if any.
pub(crate) fn lost_reason(lost: &LostReason) -> Option<String> {
    match lost.lock() {
        Ok(reason) => reason.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

fn set_lost(lost: &LostReason, reason: String) {
    match lost.lock() {
        Ok(mut slot) => *slot = Some(reason),
        Err(poisoned) => *poisoned.into_inner() = Some(reason),
    }
}

/// Whether `e` only means "someone else wrote the row first": try again later.
fn is_conflict(e: &mysql_async::Error) -> bool {
    matches!(e, mysql_async::Error::Server(s) if s.code == ER_LOCK_DEADLOCK || s.code == ER_LOCK_WAIT_TIMEOUT)
}

/// Run one write of the lock protocol and say whether it changed a row; losing to another
/// node's write of the row (a conflict) counts as not changing it.
async fn wrote(
    conn: &mut Conn,
    sql: &str,
    params: impl Into<mysql_async::Params> + Send,
) -> Result<bool, mysql_async::Error> {
    match conn.exec_drop(sql, params).await {
        Ok(()) => Ok(conn.affected_rows() >= 1),
        Err(e) if is_conflict(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The statements of one lock table (`table` is its quoted, qualified name).
struct Statements {
    insert: String,
    claim: String,
    take_over: String,
    look: String,
    beat: String,
    release: String,
}

impl Statements {
    fn new(table: &str) -> Statements {
        // The owner column says who holds it, for people; the token is what runs compare.
        let owner = "CONCAT(?, ', ', USER(), ', connection ', CONNECTION_ID(), ' on ', @@hostname)";
        Statements {
            insert: format!("INSERT IGNORE INTO {table} (name) VALUES (?)"),
            claim: format!(
                "UPDATE {table} SET holder = ?, owner = {owner}, beat = beat + 1, since = NOW(6), \
                 beat_at = NOW(6) WHERE name = ? AND holder IS NULL"
            ),
            take_over: format!(
                "UPDATE {table} SET holder = ?, owner = {owner}, beat = beat + 1, since = NOW(6), \
                 beat_at = NOW(6) WHERE name = ? AND holder = ? AND beat = ?"
            ),
            look: format!(
                "SELECT holder, beat, owner, CAST(since AS CHAR) FROM {table} WHERE name = ?"
            ),
            beat: format!(
                "UPDATE {table} SET beat = beat + 1, beat_at = NOW(6) WHERE name = ? AND holder = ?"
            ),
            release: format!(
                "UPDATE {table} SET holder = NULL, owner = NULL, beat = beat + 1, beat_at = NOW(6) \
                 WHERE name = ? AND holder = ?"
            ),
        }
    }
}

/// The DDL of the lock table `table` (quoted, qualified).
pub(crate) fn create_lock_table(table: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (\
         name VARCHAR(64) NOT NULL PRIMARY KEY, \
         holder VARCHAR(64) NULL, \
         owner VARCHAR(255) NULL, \
         beat BIGINT NOT NULL DEFAULT 0, \
         since DATETIME(6) NULL, \
         beat_at DATETIME(6) NULL\
         ) ENGINE=InnoDB"
    )
}

/// A token no other run will have: this process, the time, and `std`'s random seed.
fn new_token() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    format!("pid {} #{:016x}", std::process::id(), h.finish())
}

/// The lock row, held: its heartbeat owns the lock's connection until [`RowLock::release`].
pub(crate) struct RowLock {
    stop: Option<oneshot::Sender<()>>,
    heartbeat: Option<JoinHandle<Conn>>,
    lost: LostReason,
    release_sql: String,
    name: String,
    token: String,
    lease: Duration,
}

impl std::fmt::Debug for RowLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowLock")
            .field("name", &self.name)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

/// The lock row as `Statements::look` reads it: holder token, heartbeat count, owner, since.
type LockRow = (Option<String>, i64, Option<String>, Option<String>);

/// Who holds the row, as the last look saw it.
#[derive(PartialEq)]
struct Holder {
    token: String,
    beat: i64,
}

impl RowLock {
    /// Claim row `name` of the lock table `table` (quoted, qualified) on `conn`, a connection
    /// used for nothing else, waiting at most `wait`. The table and its row are created
    /// first when missing. `what` names the lock in messages.
    pub(crate) async fn take(
        mut conn: Conn,
        table: &str,
        name: &str,
        what: &str,
        wait: Duration,
        lease: Duration,
        galera: bool,
    ) -> Result<RowLock, DatabaseError> {
        let failed = |e: mysql_async::Error| {
            DatabaseError::other(format!(
                "taking the migration lock row in {table} failed: {}",
                crate::executor::message(&e)
            ))
        };
        let sql = Statements::new(table);
        let token = new_token();
        if galera {
            // Galera applies other nodes' writes a little after they commit; reads and
            // claims wait for what the cluster has committed, so a release is seen at once.
            conn.query_drop("SET SESSION wsrep_sync_wait = 3")
                .await
                .map_err(failed)?;
        }
        conn.query_drop(create_lock_table(table))
            .await
            .map_err(failed)?;
        let deadline = Instant::now() + wait;
        let mut seen: Option<(Holder, Instant)> = None;
        let mut owner = None;
        let mut row_exists = false;
        loop {
            if !row_exists {
                // Two nodes inserting it at once: one of them gets a conflict, and the
                // row exists all the same.
                wrote(&mut conn, &sql.insert, (name,))
                    .await
                    .map_err(failed)?;
            }
            if wrote(&mut conn, &sql.claim, (&token, &token, name))
                .await
                .map_err(failed)?
            {
                break;
            }
            let row: Option<LockRow> = match conn.exec_first(&sql.look, (name,)).await {
                Ok(row) => row,
                Err(e) if is_conflict(&e) => None,
                Err(e) => return Err(failed(e)),
            };
            row_exists = row.is_some();
            if let Some((Some(holder), beat, who, since)) = row {
                owner = Some(match since {
                    Some(since) => format!("{} since {since}", who.unwrap_or(holder.clone())),
                    None => who.unwrap_or(holder.clone()),
                });
                let now = Holder {
                    token: holder,
                    beat,
                };
                match &seen {
                    Some((last, since)) if *last == now => {
                        let params = (&token, &token, name, &now.token, beat);
                        if since.elapsed() >= lease
                            && wrote(&mut conn, &sql.take_over, params)
                                .await
                                .map_err(failed)?
                        {
                            break;
                        }
                    }
                    _ => seen = Some((now, Instant::now())),
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(DatabaseError::lock_timeout(format!(
                    "another migration holds the lock row of {what} in {table} ({}); gave up \
                     after {:.1} s. A run that died holding it is taken over after {} s \
                     without a heartbeat; see it with SELECT * FROM {table}",
                    owner.as_deref().unwrap_or("holder unknown"),
                    wait.as_secs_f64(),
                    lease.as_secs_f64()
                )));
            }
            tokio::time::sleep(POLL_INTERVAL.min(deadline - now)).await;
        }
        let lost = LostReason::default();
        let (stop, stopped) = oneshot::channel();
        let heartbeat = tokio::spawn(heartbeat(
            conn,
            Beat {
                sql: sql.beat,
                name: name.to_string(),
                token: token.clone(),
                lease,
            },
            lost.clone(),
            stopped,
        ));
        Ok(RowLock {
            stop: Some(stop),
            heartbeat: Some(heartbeat),
            lost,
            release_sql: sql.release,
            name: name.to_string(),
            token,
            lease,
        })
    }

    /// Why the lock was lost, if it was.
    pub(crate) fn lost_reason(&self) -> Option<String> {
        lost_reason(&self.lost)
    }

    /// Stop the heartbeat, free the row (if it is still ours) and close the connection.
    pub(crate) async fn release(mut self) -> Result<(), DatabaseError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let Some(heartbeat) = self.heartbeat.take() else {
            return Ok(());
        };
        let Ok(mut conn) = heartbeat.await else {
            return Ok(()); // the connection is gone; the row is taken over after the lease
        };
        let lost = self.lost_reason().is_some();
        let mut result = Ok(());
        for _ in 0..20 {
            result = conn
                .exec_drop(&self.release_sql, (&self.name, &self.token))
                .await;
            match &result {
                Err(e) if is_conflict(e) => tokio::time::sleep(POLL_INTERVAL).await,
                _ => break,
            }
        }
        let _ = conn.disconnect().await;
        if lost {
            // Taken over, or its connection failed: nothing of ours to release, or nothing
            // that can be released from here.
            return Ok(());
        }
        result.map_err(|e| {
            DatabaseError::other(format!(
                "releasing the migration lock row failed: {}; the next run takes it over after {} s",
                crate::executor::message(&e),
                self.lease.as_secs_f64()
            ))
        })
    }
}

impl Drop for RowLock {
    fn drop(&mut self) {
        // Not released (the executor was dropped): end the heartbeat, which closes the
        // connection; the row is then taken over after the lease.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// What the heartbeat writes: the `beat` statement for row `name` held by `token`.
struct Beat {
    sql: String,
    name: String,
    token: String,
    lease: Duration,
}

/// Bump the row every [`heartbeat_interval`] while it still holds the token; record why when
/// it no longer does (taken over) or cannot be written for half the lease. Returns the
/// connection when told to stop.
async fn heartbeat(
    mut conn: Conn,
    beat: Beat,
    lost: LostReason,
    mut stop: oneshot::Receiver<()>,
) -> Conn {
    let mut ticks = tokio::time::interval(heartbeat_interval(beat.lease));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await; // the first tick is immediate
    let mut last_beat = Instant::now();
    loop {
        tokio::select! {
            _ = &mut stop => return conn,
            _ = ticks.tick() => {}
        }
        if lost_reason(&lost).is_some() {
            continue; // nothing more to prove; wait to be stopped
        }
        match conn.exec_drop(&beat.sql, (&beat.name, &beat.token)).await {
            Ok(()) if conn.affected_rows() >= 1 => last_beat = Instant::now(),
            Ok(()) => set_lost(
                &lost,
                "another run took the lock row over (this run's heartbeat stopped for too long)"
                    .into(),
            ),
            Err(e) if is_conflict(&e) && last_beat.elapsed() < beat.lease / 2 => {}
            Err(e) => set_lost(
                &lost,
                format!("its heartbeat failed: {}", crate::executor::message(&e)),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_names_fit_get_lock() {
        assert_eq!(
            lock_name("test", "alembic_version"),
            "migrate:test.alembic_version"
        );
        let long = lock_name(&"d".repeat(64), &"t".repeat(64));
        assert_eq!(long.chars().count(), MAX_LOCK_NAME);
        assert_ne!(long, lock_name(&"d".repeat(64), &"u".repeat(64)));
        assert_eq!(long, lock_name(&"d".repeat(64), &"t".repeat(64)));
    }

    #[test]
    fn lock_modes_round_trip_and_unknown_ones_are_refused() {
        for mode in [LockMode::Auto, LockMode::Session, LockMode::Row] {
            assert_eq!(LockMode::parse(mode.as_str()).unwrap(), mode);
        }
        let err = LockMode::parse("transaction").unwrap_err();
        assert!(
            err.message.contains("unknown lock_mode `transaction`"),
            "{err}"
        );
    }

    #[test]
    fn heartbeats_come_ten_times_per_lease_at_most_two_seconds_apart() {
        assert_eq!(heartbeat_interval(DEFAULT_LEASE), Duration::from_secs(2));
        assert_eq!(
            heartbeat_interval(Duration::from_secs(5)),
            Duration::from_millis(500)
        );
        assert_eq!(
            heartbeat_interval(Duration::ZERO),
            Duration::from_millis(50)
        );
    }

    #[test]
    fn tokens_differ_and_fit_the_holder_column() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(a.len() <= 64, "{a}");
    }
}
