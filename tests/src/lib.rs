//! End-to-end tests of `migrate`: the built binary and the library against SQLite, PostgreSQL
//! and MariaDB/MySQL. The tests live under `tests/tests/`, one file per subject:
//!
//! - `commands.rs`: the whole command set on the project's own `migrations/`;
//! - `alembic_project.rs`: an Alembic project (`tests/fixtures/alembic_project/`) up, inspected,
//!   down, and interoperating with real Alembic both ways;
//! - `offline.rs`: `--sql` scripts fed to `sqlite3`, `psql` and `mariadb`;
//! - `failures.rs`: the errors users meet, on their messages and exit codes;
//! - `concurrency.rs`: eight `upgrade head` processes at once on one database;
//! - `seed_layout.rs`: the `infrastructure/migrations/` + `.env` + `TEST_ENV=true` setup;
//! - `library.rs`: the library in-process on in-memory SQLite.
//!
//! Run them with `cargo test -p migrate-tests` (or `cargo nextest run -p migrate-tests`). The
//! binary is built on first use when it is missing or older than the sources (`MIGRATE_BIN`
//! names another one). PostgreSQL and MariaDB tests need
//! `MIGRATE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test` and
//! `MIGRATE_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test`; each test creates its own
//! `mt_<random>` database and drops it afterwards. Without them those tests print
//! `skipped: VAR not set`, unless `MIGRATE_TEST_REQUIRE_ALL=1` makes that a failure. Tests that
//! compare with real Alembic use `/opt/alembic-venv` and skip with a message when it is absent.
