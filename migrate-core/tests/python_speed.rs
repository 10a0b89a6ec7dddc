//! How long reading one revision file takes. Prints the cost per file (run with `--nocapture`,
//! and `--release` for meaningful numbers); it asserts only that every file was read.

mod python_common;

use std::time::Instant;

use migrate_core::Migration;
use python_common::parse_text;

/// A typical ~30-line revision, as `alembic revision` writes it, with SQL bodies.
fn revision_file(n: usize) -> String {
    let down = if n == 0 {
        "None".to_string()
    } else {
        format!("'{:012x}'", n - 1)
    };
    format!(
        r#""""Add table number {n}

Revision ID: {n:012x}
Revises: {n:012x}
Create Date: 2026-11-25 07:30:00.123456

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '{n:012x}'
down_revision: Union[str, Sequence[str], None] = {down}
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute("CREATE TABLE t{n} (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    op.execute("CREATE INDEX ix_t{n}_name ON t{n} (name)")


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TABLE t{n}")
"#
    )
}

#[test]
fn cost_per_file() {
    let files: Vec<String> = (0..4000).map(revision_file).collect();
    let mut rounds = 0;
    let start = Instant::now();
    let mut read = 0usize;
    while rounds < 5 {
        for (n, text) in files.iter().enumerate() {
            let rev = parse_text("speed.py", text).unwrap();
            assert_eq!(rev.id, format!("{n:012x}"));
            assert!(matches!(rev.upgrade, Migration::Sql(ref b) if b.len() == 2));
            read += 1;
        }
        rounds += 1;
    }
    let per_file = start.elapsed() / read as u32;
    println!("python revision parse: {read} files, {per_file:?} per file (header + both bodies + SHA-256)");
}
