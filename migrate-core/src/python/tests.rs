//! Unit tests of the pieces that have no public surface.

use super::repr::repr;
use super::value::{dedent, format, percent, Value};

#[test]
fn repr_picks_quotes_like_python() {
    assert_eq!(repr("a'b"), "\"a'b\"");
    assert_eq!(repr("a'b\""), "'a\\'b\"'");
    assert_eq!(repr("\x00\n\u{e9}\u{200b}"), "'\\x00\\n\u{e9}\\u200b'");
}

#[test]
fn dedent_matches_textwrap() {
    assert_eq!(dedent("  a\n    b\n  \n"), "a\n  b\n\n");
    assert_eq!(dedent("\ta\n  b"), "\ta\n  b");
}

#[test]
fn percent_and_format() {
    let s = |x: &str| Value::Str(x.into());
    assert_eq!(
        percent("%s-%r %%", &Value::Tuple(vec![s("a"), s("b")])).unwrap(),
        "a-'b' %"
    );
    assert!(percent("x", &s("a")).is_err());
    assert!(format("{}{{{0!r}", &[s("a")], &[]).is_err());
    assert_eq!(
        format("{0}{{{0!r}}}{k}", &[s("a")], &[("k", s("z"))]).unwrap(),
        "a{'a'}z"
    );
}

#[test]
#[ignore = "prints a cost breakdown; run with --release --ignored --nocapture"]
fn cost_breakdown() {
    let text = r#""""Add table number 5

Revision ID: 000000000005
Revises: 000000000004
Create Date: 2026-11-25 07:30:00.123456

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '000000000005'
down_revision: Union[str, Sequence[str], None] = '000000000004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute("CREATE TABLE t5 (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    op.execute("CREATE INDEX ix_t5_name ON t5 (name)")


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TABLE t5")
"#;
    let n = 20000;
    let time = |what: &str, f: &mut dyn FnMut()| {
        let t = std::time::Instant::now();
        for _ in 0..n {
            f();
        }
        println!("{what}: {:?}", t.elapsed() / n);
    };
    let toks = super::lexer::tokenize(text).unwrap();
    time("tokenize", &mut || {
        std::hint::black_box(super::lexer::tokenize(text).unwrap());
    });
    time("module level", &mut || {
        std::hint::black_box(super::module::scan(text, &toks).unwrap());
    });
    time("whole file", &mut || {
        std::hint::black_box(
            super::parse_python_revision(std::path::Path::new("x.py"), text).unwrap(),
        );
    });
}
