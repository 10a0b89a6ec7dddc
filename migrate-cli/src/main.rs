//! `migrate`: Alembic-compatible, SQL-first database migrations.

mod config;
mod error;
mod url;

fn main() {}
