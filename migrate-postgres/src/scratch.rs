//! Temporary databases for `verify` and `drift`: created on the configured server, dropped
//! afterwards.

use migrate_core::{DatabaseError, Dialect};

use crate::dialect::PostgresDialect;
use crate::error::session_error;
use crate::executor::PostgresExecutor;
use crate::url::ConnectOptions;

/// A database created for one run, on the server of the configured URL. The connection it was
/// created through stays open to drop it ([`ScratchDatabase::drop_database`]).
pub struct ScratchDatabase {
    admin: PostgresExecutor,
    name: String,
}

impl ScratchDatabase {
    /// Creates `migrate_scratch_<random>` through a connection to `url` (which needs the
    /// `CREATEDB` privilege), sets `synchronous_commit = off` on it (nothing there needs to
    /// survive a crash) and connects to it with the same settings.
    pub async fn create(url: &str) -> Result<(ScratchDatabase, PostgresExecutor), DatabaseError> {
        let options = ConnectOptions::parse(url)?;
        let admin = PostgresExecutor::connect_with(&options).await?;
        let name = migrate_core::verify::scratch_database_name();
        admin
            .client()
            .batch_execute(&format!("CREATE DATABASE {}", PostgresDialect.quote_identifier(&name)))
            .await
            .map_err(|e| {
                let mut error = session_error(&format!("creating the temporary database {name}"), &e);
                error.message.push_str(
                    " (the role needs the CREATEDB privilege; or give an existing database with --scratch-url)",
                );
                error
            })?;
        let scratch = ScratchDatabase { admin, name };
        // Nothing on a database dropped at the end needs to outlive a crash: commits need not
        // wait for the WAL to reach the disk. `verify` commits three times per revision (each
        // run its own transaction): 300 commits waited 1.9 s for the flush on a busy disk,
        // 0.25 s without it. What the catalog holds is the same either way.
        // A server that refuses (a setting pinned by a managed service) only makes it slower.
        let quoted = PostgresDialect.quote_identifier(&scratch.name);
        let _ = scratch
            .admin
            .client()
            .batch_execute(&format!(
                "ALTER DATABASE {quoted} SET synchronous_commit = off"
            ))
            .await;
        let connected = PostgresExecutor::connect_with(&ConnectOptions {
            dbname: scratch.name.clone(),
            ..options
        })
        .await;
        match connected {
            Ok(exec) => Ok((scratch, exec)),
            Err(e) => {
                let _ = scratch.drop_database().await;
                Err(e)
            }
        }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database, ending any session still connected to it.
    pub async fn drop_database(self) -> Result<(), DatabaseError> {
        let quoted = PostgresDialect.quote_identifier(&self.name);
        let forced = self
            .admin
            .client()
            .batch_execute(&format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
            .await;
        match forced {
            Ok(()) => Ok(()),
            // Before PostgreSQL 13 there is no FORCE: the scratch connection is closed by now.
            Err(e) if e.code().is_some_and(|c| c.code() == "42601") => self
                .admin
                .client()
                .batch_execute(&format!("DROP DATABASE IF EXISTS {quoted}"))
                .await
                .map_err(|e| {
                    session_error(
                        &format!("dropping the temporary database {}", self.name),
                        &e,
                    )
                }),
            Err(e) => Err(session_error(
                &format!("dropping the temporary database {}", self.name),
                &e,
            )),
        }
    }
}
