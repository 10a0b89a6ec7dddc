//! Temporary databases for `verify` and `drift`: created on the configured server (with the
//! configured database's character set and collation), dropped afterwards.

use migrate_core::DatabaseError;
use mysql_async::prelude::Queryable;

use crate::executor::MysqlExecutor;
use crate::snapshot::quote;
use crate::url::{parse_mysql_url, MysqlTarget};

/// A database created for one run on the server of the configured URL. The connection it was
/// created through stays open to drop it ([`ScratchDatabase::drop_database`]).
pub struct ScratchDatabase {
    admin: MysqlExecutor,
    name: String,
}

fn failed(doing: &str, e: mysql_async::Error) -> DatabaseError {
    DatabaseError::other(format!("{doing} failed: {e}"))
}

impl ScratchDatabase {
    /// Creates `migrate_scratch_<random>` through a connection to `url` (whose user needs the
    /// `CREATE` and `DROP` privileges on it) and connects to it.
    pub async fn create(url: &str) -> Result<(ScratchDatabase, MysqlExecutor), DatabaseError> {
        let target = parse_mysql_url(url)?;
        let mut admin = MysqlExecutor::connect_to(&target).await?;
        let name = migrate_core::verify::scratch_database_name();
        let defaults: Option<(String, String)> = admin
            .conn_mut()
            .query_first("SELECT @@character_set_database, @@collation_database")
            .await
            .map_err(|e| failed("reading the database's character set", e))?;
        let (charset, collation) = defaults.unwrap_or_default();
        let mut create = format!("CREATE DATABASE {}", quote(&name));
        if !charset.is_empty() && !collation.is_empty() {
            create.push_str(&format!(" CHARACTER SET {charset} COLLATE {collation}"));
        }
        admin.conn_mut().query_drop(create).await.map_err(|e| {
            let mut error = failed(&format!("creating the temporary database {name}"), e);
            error.message.push_str(
                " (the user needs the CREATE privilege; or give an existing database with --scratch-url)",
            );
            error
        })?;
        let scratch = ScratchDatabase { admin, name };
        let connected = MysqlExecutor::connect_to(&MysqlTarget {
            database: Some(scratch.name.clone()),
            ..target
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

    /// Drops the database.
    pub async fn drop_database(mut self) -> Result<(), DatabaseError> {
        let sql = format!("DROP DATABASE IF EXISTS {}", quote(&self.name));
        self.admin
            .conn_mut()
            .query_drop(sql)
            .await
            .map_err(|e| failed(&format!("dropping the temporary database {}", self.name), e))
    }
}
