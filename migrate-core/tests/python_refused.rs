//! Bodies `migrate` cannot turn into SQL: the revision is still read (header and all), and the
//! direction is `Migration::Unrunnable` with the line, column and construct.

mod python_common;

use migrate_core::{Migration, Unrunnable};
use python_common::parse_text;

/// Lines 1-6 of every test file; the body starts on line 7.
const PRELUDE: &str = "from alembic import op
import sqlalchemy as sa
revision = \"r1\"
TABLE = compute_table_name()
NAME = \"t\"
def upgrade():
";

/// Parse a file whose `upgrade()` body is `body` and return why it is unrunnable.
fn refused(body: &str) -> Unrunnable {
    let text = format!("{PRELUDE}{body}\ndef downgrade():\n    pass\n");
    let rev = parse_text("refused.py", &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rev.id, "r1", "the header is still read");
    assert_eq!(rev.downgrade, Migration::Sql(vec![]));
    match rev.upgrade {
        Migration::Unrunnable(u) => u,
        other => panic!("expected unrunnable, got {other:?}"),
    }
}

fn assert_refused(body: &str, line: usize, column: usize, construct: &str) {
    let u = refused(body);
    assert_eq!(
        (u.line, u.column, u.construct.as_str()),
        (line, column, construct),
        "body:\n{body}"
    );
}

#[test]
fn other_op_calls() {
    assert_refused(
        "    op.execute(\"SELECT 1\")\n    op.bulk_insert(t, [{\"id\": 1}])",
        8,
        5,
        "op.bulk_insert(...)",
    );
    assert_refused(
        "    op.create_primary_key('pk', 't', ['id'])",
        7,
        5,
        "op.create_primary_key(...)",
    );
    assert_refused(
        "    with open('x') as f:\n        op.execute(f.read())",
        7,
        5,
        "with statement (only `with op.get_context().autocommit_block():` is folded)",
    );
}

#[test]
fn sqlalchemy_core_expressions() {
    assert_refused(
        "    op.execute(sa.table('t').delete())",
        7,
        16,
        "sa.table(...)",
    );
    assert_refused(
        "    op.execute(sa.text('SELECT 1').execution_options(x=1))",
        7,
        35,
        ".execution_options(...) on a text() clause",
    );
}

#[test]
fn calls_into_the_application() {
    assert_refused("    seed_tenants(op.get_bind())", 7, 5, "seed_tenants(...)");
    assert_refused("    conn = engine.connect()", 7, 12, "engine.connect(...)");
}

#[test]
fn conditionals_and_other_statements() {
    assert_refused(
        "    if op.get_context().dialect.name == 'sqlite':\n        op.execute('SELECT 1')",
        7,
        5,
        "if statement",
    );
    assert_refused("    while True:\n        pass", 7, 5, "while statement");
    assert_refused(
        "    try:\n        pass\n    except Exception:\n        pass",
        7,
        5,
        "try statement",
    );
    assert_refused("    return", 7, 5, "return statement");
    assert_refused(
        "    with open('x') as f:\n        pass",
        7,
        5,
        "with statement (only `with op.get_context().autocommit_block():` is folded)",
    );
}

#[test]
fn loops_over_non_constant_things() {
    assert_refused(
        "    for t in get_tables():\n        op.execute(t)",
        7,
        14,
        "get_tables(...)",
    );
    assert_refused(
        "    for c in NAME:\n        op.execute(c)",
        7,
        14,
        "for loop over a str",
    );
    assert_refused(
        "    for a.b in [('x', 'y')]:\n        pass",
        7,
        9,
        "a for target other than names",
    );
    // CPython raises ValueError here.
    assert_refused(
        "    for a, b in [('x', 'y', 'z')]:\n        pass",
        7,
        5,
        "ValueError: unpacking 3 values into 2 names",
    );
    assert_refused(
        "    for a, b in [1]:\n        pass",
        7,
        5,
        "TypeError: cannot unpack non-iterable int object",
    );
}

#[test]
fn names_that_are_not_string_constants() {
    assert_refused(
        "    op.execute(\"DROP TABLE \" + TABLE)",
        7,
        32,
        "name 'TABLE' is not a constant",
    );
    // Inside an f-string the position is the construct inside the replacement field.
    assert_refused(
        "    op.execute(f\"DROP TABLE {TABLE}\")",
        7,
        30,
        "name 'TABLE' is not a constant",
    );
    assert_refused(
        "    op.execute(UNDEFINED)",
        7,
        16,
        "name 'UNDEFINED' is not a constant",
    );
}

#[test]
fn string_operations_that_are_not_folded() {
    assert_refused(
        "    op.execute(f\"{NAME:>10}\")",
        7,
        18,
        "f-string format spec {NAME:>10}",
    );
    assert_refused(
        "    op.execute(f\"{NAME.upper()}\")",
        7,
        23,
        "str.upper(...)",
    );
    assert_refused(
        "    op.execute(\"%d\" % NAME)",
        7,
        21,
        "'%' formatting: TypeError: %d format: a real number is required, not str",
    );
    assert_refused(
        "    op.execute(\"%x\" % 1)",
        7,
        21,
        "'%' formatting: the % conversion '%x' (only %s, %r, %a, %d, %i and %% are folded)",
    );
    assert_refused(
        "    op.execute(\"%s %s\" % NAME)",
        7,
        24,
        "'%' formatting: not enough arguments for format string",
    );
    assert_refused("    op.execute(NAME.upper())", 7, 20, "str.upper(...)");
    assert_refused(
        "    op.execute(\"{:>3}\".format(NAME))",
        7,
        23,
        ".format(...): the format spec ':>3'",
    );
    assert_refused("    op.execute(NAME * 2)", 7, 21, "operator '*'");
    assert_refused("    op.execute(b\"SELECT 1\")", 7, 16, "a bytes literal");
}

#[test]
fn escapes_migrate_does_not_decode() {
    assert_refused(
        "    op.execute(\"SELECT '\\N{BULLET}'\")",
        7,
        25,
        "a \\N{...} escape (named Unicode character)",
    );
    assert_refused(
        "    op.execute(\"SELECT '\\ud800'\")",
        7,
        25,
        "a lone surrogate escape \\ud800",
    );
}

#[test]
fn bind_parameters_that_text_would_need_values_for() {
    assert_refused(
        "    op.execute(\"UPDATE t SET a = :value\")",
        7,
        16,
        "SQL with the bind parameter ':value' (Alembic runs op.execute text through text(), which needs a value for it)",
    );
}

#[test]
fn execute_with_more_than_the_sql() {
    assert_refused(
        "    op.execute('SELECT 1', execution_options={'x': 1})",
        7,
        28,
        "execute() with more than one argument",
    );
}

#[test]
fn decorated_upgrade() {
    let text =
        "from alembic import op\nrevision = 'r'\n@some_decorator\ndef upgrade():\n    pass\n";
    let rev = parse_text("decorated.py", text).unwrap();
    assert_eq!(
        rev.upgrade,
        Migration::Unrunnable(Unrunnable {
            line: 3,
            column: 1,
            construct: "a decorated or async upgrade() function".into()
        })
    );
    assert_eq!(rev.downgrade, Migration::Missing);
}

#[test]
fn missing_downgrade_is_missing_not_unrunnable() {
    let rev = parse_text(
        "nodown.py",
        "revision = 'r'\ndef upgrade():\n    '''Docstring only.'''\n",
    )
    .unwrap();
    assert_eq!(rev.upgrade, Migration::Sql(vec![]));
    assert_eq!(rev.downgrade, Migration::Missing);
}

#[test]
fn a_name_rebound_in_a_block_is_not_a_constant() {
    let text = "from alembic import op\nrevision = 'r'\nT = 'a'\nif flag:\n    T = 'b'\ndef upgrade():\n    op.execute(T)\n";
    let rev = parse_text("rebound.py", text).unwrap();
    assert_eq!(
        rev.upgrade,
        Migration::Unrunnable(Unrunnable {
            line: 7,
            column: 16,
            construct: "name 'T' is not a constant".into()
        })
    );
}

#[test]
fn text_must_come_from_sqlalchemy() {
    let text = "from alembic import op\nrevision = 'r'\ndef text(s):\n    return s.upper()\ndef upgrade():\n    op.execute(text('x'))\n";
    let rev = parse_text("owntext.py", text).unwrap();
    assert_eq!(
        rev.upgrade,
        Migration::Unrunnable(Unrunnable {
            line: 6,
            column: 16,
            construct: "text(...)".into()
        })
    );
}

#[test]
fn a_name_the_function_assigns_later_is_local_throughout() {
    // CPython raises UnboundLocalError here: `NAME` is local to upgrade() because it is
    // assigned in it, so the module constant is not what the first line sees.
    assert_refused(
        "    op.execute(NAME)\n    NAME = 'other'",
        7,
        16,
        "local variable 'NAME' referenced before assignment",
    );
}

#[test]
fn upgrade_with_parameters() {
    let text = "revision = 'r'\ndef upgrade(engine_name: str) -> None:\n    pass\n";
    let rev = parse_text("params.py", text).unwrap();
    assert_eq!(
        rev.upgrade,
        Migration::Unrunnable(Unrunnable {
            line: 2,
            column: 13,
            construct: "upgrade() with parameters".into()
        })
    );
}
