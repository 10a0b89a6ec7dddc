//! The shared test kit of `migrate`, and the home of its end-to-end tests.
//!
//! The library is what every crate's tests need and none should write again: whether a
//! prerequisite may be missing ([`need`]), the test servers and a database of its own per test
//! ([`servers`]), a PostgreSQL server of the test's own ([`instance`]), certificates for TLS
//! tests ([`certs`]), real Alembic ([`alembic`]) and bounded waits ([`wait`]). It depends on no
//! `migrate-*` crate, so the backends' own tests use it too (as a dev-dependency).
//!
//! ```no_run
//! use migrate_tests::servers::{Server, ServerDatabase};
//!
//! // A fresh PostgreSQL database, dropped when `db` goes out of scope; `None` (after saying
//! // so on stderr) when MIGRATE_TEST_POSTGRES_URL is unset, a failure under
//! // MIGRATE_TEST_REQUIRE_ALL=1.
//! if let Some(db) = ServerDatabase::create(Server::Postgres) {
//!     let rows = migrate_tests::servers::pg_query(&db.url, "SELECT 1");
//!     assert_eq!(rows, [[Some("1".to_string())]]);
//! }
//! ```
//!
//! The end-to-end tests live under `tests/tests/`, one file per subject, and share
//! `tests/tests/common/mod.rs` (the built binary, temporary projects, `TestDb`, `per_backend!`):
//!
//! - `commands.rs`: the whole command set on the project's own `migrations/`;
//! - `alembic_project.rs`: an Alembic project (`tests/fixtures/alembic_project/`) up, inspected,
//!   down, and interoperating with real Alembic both ways;
//! - `offline.rs`: `--sql` scripts fed to `sqlite3`, `psql` and `mariadb`;
//!   `offline_alembic.rs`: the same scripts against Alembic's `--sql`, whole;
//! - `failures.rs`: the errors users meet, on their messages and exit codes;
//! - `check.rs`: `migrate check`, and revisions it cannot run refused before anything runs;
//! - `concurrency.rs`: eight `upgrade head` processes at once on one database;
//! - `locking.rs`: a run that cannot have the lock, through the library and the binary;
//! - `seed_layout.rs`: the `infrastructure/migrations/` + `.env` + `TEST_ENV=true` setup;
//! - `precedence.rs`: which configuration wins when several sources name the same setting;
//! - `conformance.rs`: one suite every executor (SQLite, PostgreSQL, MariaDB) must pass;
//! - `dialect_alembic.rs`: each dialect's version-table SQL against Alembic's;
//! - `references.rs`: the committed Alembic references regenerate unchanged;
//! - `library.rs`: the library in-process on in-memory SQLite.
//! - `urls.rs`: database URL forms through the CLI to the backend they name.
//!
//! Run them with `cargo test -p migrate-tests`. The binary is built on first use when it is
//! missing or older than the sources (`MIGRATE_BIN` names another one). PostgreSQL and MariaDB
//! tests need `MIGRATE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test` and
//! `MIGRATE_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test`; each test creates its own
//! `mt_<random>` database and drops it afterwards. Tests that compare with real Alembic use the
//! virtualenv `$VENV` (default `/opt/alembic-venv`). Whatever a test needs and cannot find (a
//! server, Alembic, a client program) makes it say `skipped: ...` on stderr, or fail under
//! `MIGRATE_TEST_REQUIRE_ALL=1`, which CI sets.

pub mod alembic;
pub mod certs;
pub mod instance;
pub mod need;
pub mod servers;
pub mod wait;
