//! The PostgreSQL and MariaDB/MySQL servers the tests run against, a database of its own for
//! each test, and plain queries for looking at what a test left behind.
//!
//! The servers are named by `MIGRATE_TEST_POSTGRES_URL` (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`) and `MIGRATE_TEST_MYSQL_URL` (e.g.
//! `mysql://root@127.0.0.1:3306/test`); unset, a test [`skip`]s. Every query helper runs on a
//! thread of its own, so it works from synchronous tests, from inside `#[tokio::test]`s and from
//! `Drop` while a test panics.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use crate::need::skip;

/// The variable naming the PostgreSQL server.
pub const POSTGRES_VAR: &str = "MIGRATE_TEST_POSTGRES_URL";
/// The variable naming the MariaDB/MySQL server.
pub const MYSQL_VAR: &str = "MIGRATE_TEST_MYSQL_URL";

/// Rows of a query, every value as text (`None` = NULL).
pub type Rows = Vec<Vec<Option<String>>>;

/// The server URL in `var`, or `None` after [`skip`]ping (a failure under
/// `MIGRATE_TEST_REQUIRE_ALL=1`).
#[track_caller]
pub fn server_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            skip(&format!("{var} is not set"));
            None
        }
    }
}

/// A name no other test uses, lowercase: `mt_<16 hex>`.
pub fn random_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    format!("mt_{:016x}", h.finish())
}

/// `url` with its database (path) replaced by `name`, keeping any query string.
pub fn with_database(url: &str, name: &str) -> String {
    let scheme_end = url.find("://").map(|i| i + 3).unwrap_or(0);
    let (main, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let authority_end = main[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(main.len());
    format!("{}/{name}{query}", &main[..authority_end])
}

/// Runs `f` on a thread of its own and returns what it returns (its panic, re-raised, when it
/// panics): a tokio runtime can be started there even when the caller runs inside one.
fn on_own_thread<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Runs one statement on SQLite and returns its rows as text.
pub fn sqlite_query(path: &Path, sql: &str) -> Rows {
    use rusqlite::types::ValueRef;
    let conn = rusqlite::Connection::open(path).expect("opening the SQLite file");
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let n = stmt.column_count();
    let mut rows = stmt.query([]).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut out = Vec::new();
    while let Some(row) = rows.next().unwrap_or_else(|e| panic!("{sql}: {e}")) {
        out.push(
            (0..n)
                .map(|i| match row.get_ref(i).expect("a column") {
                    ValueRef::Null => None,
                    ValueRef::Integer(v) => Some(v.to_string()),
                    ValueRef::Real(v) => Some(v.to_string()),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Some(String::from_utf8_lossy(t).into_owned())
                    }
                })
                .collect(),
        );
    }
    out
}

/// Runs SQL (simple query protocol, several statements allowed) on PostgreSQL; returns the
/// rows of every statement as text.
pub fn pg_query(url: &str, sql: &str) -> Rows {
    on_own_thread(|| {
        runtime().block_on(async {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| panic!("connecting to PostgreSQL ({POSTGRES_VAR}): {e}"));
            let task = tokio::spawn(connection);
            let messages =
                client
                    .simple_query(sql)
                    .await
                    .unwrap_or_else(|e| match e.as_db_error() {
                        Some(db) => panic!("{sql}: {}", db.message()),
                        None => panic!("{sql}: {e}"),
                    });
            drop(client);
            let _ = task.await;
            messages
                .into_iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                        (0..row.len())
                            .map(|i| row.get(i).map(str::to_string))
                            .collect(),
                    ),
                    _ => None,
                })
                .collect()
        })
    })
}

/// Runs one statement on MariaDB/MySQL (text protocol); returns its rows as text.
pub fn mysql_query(url: &str, sql: &str) -> Rows {
    use mysql_async::prelude::Queryable;
    on_own_thread(|| {
        runtime().block_on(async {
            let mut conn = mysql_async::Conn::from_url(url)
                .await
                .unwrap_or_else(|e| panic!("connecting to MariaDB ({MYSQL_VAR}): {e}"));
            let rows: Vec<mysql_async::Row> = conn
                .query(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            let _ = conn.disconnect().await;
            rows.into_iter()
                .map(|row| {
                    row.unwrap()
                        .into_iter()
                        .map(|v| match v {
                            mysql_async::Value::NULL => None,
                            mysql_async::Value::Bytes(b) => {
                                Some(String::from_utf8_lossy(&b).into_owned())
                            }
                            mysql_async::Value::Int(i) => Some(i.to_string()),
                            mysql_async::Value::UInt(i) => Some(i.to_string()),
                            other => Some(format!("{other:?}")),
                        })
                        .collect()
                })
                .collect()
        })
    })
}

/// A database server the tests use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// PostgreSQL (`MIGRATE_TEST_POSTGRES_URL`).
    Postgres,
    /// MariaDB or MySQL (`MIGRATE_TEST_MYSQL_URL`).
    Mysql,
}

impl Server {
    /// The variable naming the server.
    pub fn var(self) -> &'static str {
        match self {
            Server::Postgres => POSTGRES_VAR,
            Server::Mysql => MYSQL_VAR,
        }
    }

    /// The server's URL, or `None` after [`skip`]ping.
    #[track_caller]
    pub fn url(self) -> Option<String> {
        server_url(self.var())
    }

    /// Runs `sql` on the server at `url` ([`pg_query`] or [`mysql_query`]).
    pub fn query(self, url: &str, sql: &str) -> Rows {
        match self {
            Server::Postgres => pg_query(url, sql),
            Server::Mysql => mysql_query(url, sql),
        }
    }
}

/// A database of its own for one test, created on the server and dropped when this value
/// is, also when the test fails.
#[derive(Debug)]
pub struct ServerDatabase {
    /// The server.
    pub server: Server,
    /// The database's name.
    pub name: String,
    /// The server URL with this database as its path.
    pub url: String,
    /// The server URL as configured (its own database), for administrative statements.
    pub admin_url: String,
}

impl ServerDatabase {
    /// A fresh database with a random name, or `None` after [`skip`]ping.
    #[track_caller]
    pub fn create(server: Server) -> Option<ServerDatabase> {
        ServerDatabase::create_named(server, &random_name())
    }

    /// A fresh database called `name` (unique to the test), or `None` after [`skip`]ping.
    #[track_caller]
    pub fn create_named(server: Server, name: &str) -> Option<ServerDatabase> {
        let admin_url = server.url()?;
        Some(ServerDatabase::create_on(server, &admin_url, name))
    }

    /// A fresh database called `name` on the server at `admin_url`.
    pub fn create_on(server: Server, admin_url: &str, name: &str) -> ServerDatabase {
        server.query(admin_url, &format!("CREATE DATABASE {name}"));
        ServerDatabase {
            server,
            name: name.to_string(),
            url: with_database(admin_url, name),
            admin_url: admin_url.to_string(),
        }
    }

    /// Runs `sql` in this database.
    pub fn query(&self, sql: &str) -> Rows {
        self.server.query(&self.url, sql)
    }
}

impl Drop for ServerDatabase {
    fn drop(&mut self) {
        let sql = match self.server {
            Server::Postgres => format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            Server::Mysql => format!("DROP DATABASE IF EXISTS {}", self.name),
        };
        // A failing drop must not hide the test's own failure.
        let dropped = std::panic::catch_unwind(|| self.server.query(&self.admin_url, &sql));
        if dropped.is_err() {
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("could not drop test database {}\n", self.name).as_bytes(),
            );
        }
    }
}
