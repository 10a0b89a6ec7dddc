//! `migrate`: Alembic-compatible, SQL-first database migrations.

mod config;
mod error;
mod output;
mod url;

fn main() {}
