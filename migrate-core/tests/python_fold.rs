//! Folding `upgrade()` bodies to SQL, checked against real Alembic and CPython.
//!
//! The expected texts below are the stdout of Alembic 1.20.1 (SQLAlchemy 2.1) via
//! `/work/shared/alembic-oracle/oracle.py tests/fixtures/python/fold sqlite:// upgrade base:heads --sql`.
//! In offline mode Alembic prints each `op.execute` text as
//! `text.replace("\t", "    ").strip() + ";\n\n"`, so the test renders the folded blocks the same
//! way. The exact bytes (before that rendering) are checked against CPython itself by running the
//! fixture's `upgrade()` with stub `alembic` and `sqlalchemy` modules that record what is executed.

mod python_common;

use migrate_core::{Migration, SqlBlock};
use python_common::{cpython_executed, parse_fixture};

/// What Alembic's offline mode prints for the blocks of one revision.
fn alembic_offline(blocks: &[SqlBlock]) -> String {
    let is_space = |c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c);
    // An empty block marks where an autocommit block ends; it holds no statement.
    blocks
        .iter()
        .filter(|b| !b.sql.is_empty())
        .map(|b| {
            format!(
                "{};\n\n",
                b.sql.replace('\t', "    ").trim_matches(is_space)
            )
        })
        .collect()
}

fn blocks(m: &Migration) -> &[SqlBlock] {
    match m {
        Migration::Sql(b) => b,
        other => panic!("expected SQL, got {other:?}"),
    }
}

/// Alembic 1.20.1 via the oracle, revision a1 (between "-- Running upgrade  -> a1" and the
/// version-table insert).
const A1_ORACLE: &str = "CREATE TABLE app.tenants (id INT);

SELECT tenants, 'it\\'s \"x\"\\t\\u200bé', 'tenants' -- {braces};

SELECT '\\d+' AS tenants;

INSERT INTO tenants VALUES ('it's \"x\"    \u{200b}é');

SELECT 'tenants', x, 100%;

SELECT 'tenants' AS col;

SELECT tenants FROM app.tenants WHERE 'tenants' = tenants;

SELECT a, tenants, 'it\\'s \"x\"\\t\\u200bé';

SELECT id, name FROM tenants;

CREATE INDEX ix ON tenants (name);
  -- indented more;

UPDATE tenants
SET name = 'a';

SELECT 'text';

SELECT 'app';

SELECT 'sqlalchemy.text';

SELECT 'implicit' AS \"concat\", 'tenants' AS raw\\n;

SELECT 'Aé😀A    ' AS escapes;

DELETE FROM tenants WHERE id = 1;

";

/// Alembic 1.20.1 via the oracle, revision b2.
const B2_ORACLE: &str = "SELECT 'conn';

SELECT 'get_bind';

CREATE TABLE a (id INT);

CREATE TABLE b (id INT);

DROP TABLE IF EXISTS t1;

DROP TABLE IF EXISTS t2;

SELECT 'autocommit';

SELECT 'after block';

commit;

SELECT 'after commit';

";

#[test]
fn fstrings_percent_format_concat_dedent_text_fold_as_alembic_runs_them() {
    let rev = parse_fixture("fold/a1_fstrings.py");
    assert_eq!(alembic_offline(blocks(&rev.upgrade)), A1_ORACLE);
    assert_eq!(rev.downgrade, Migration::Sql(vec![]));
}

#[test]
fn fold_results_are_byte_identical_to_cpython() {
    for file in ["fold/a1_fstrings.py", "fold/b2_bind.py"] {
        let rev = parse_fixture(file);
        let ours: Vec<&str> = blocks(&rev.upgrade)
            .iter()
            .map(|b| b.sql.as_str())
            .filter(|sql| !sql.is_empty())
            .collect();
        let mut python = cpython_executed(file);
        // Our blocks leave out the COMMIT statement, which only switches transactions off.
        python.retain(|s| !s.trim().eq_ignore_ascii_case("commit"));
        assert_eq!(ours, python, "{file}");
    }
}

#[test]
fn bind_loops_autocommit_and_commit_fold_as_alembic_runs_them() {
    let rev = parse_fixture("fold/b2_bind.py");
    let b = blocks(&rev.upgrade);
    // Alembic prints the COMMIT itself; we emit no block for it but run what follows outside
    // a transaction.
    let mut rendered = alembic_offline(b);
    rendered = rendered.replace(
        "SELECT 'after block';\n\n",
        "SELECT 'after block';\n\ncommit;\n\n",
    );
    assert_eq!(rendered, B2_ORACLE);
    let flags: Vec<(usize, bool)> = b.iter().map(|b| (b.line, b.transactional)).collect();
    assert_eq!(
        flags,
        vec![
            (21, true),
            (22, true),
            (24, true),
            (24, true),
            (27, true),
            (27, true),
            (29, false),
            // The autocommit block's end (the `with` line), where a transaction opens again.
            (28, true),
            (30, true),
            (32, false),
        ]
    );
}

#[test]
fn block_line_is_where_the_sql_expression_starts() {
    let rev = parse_fixture("fold/a1_fstrings.py");
    let b = blocks(&rev.upgrade);
    assert_eq!(b[0].line, 29);
    // `op.execute(\n    "SELECT 'implicit' "...`: the text starts on the next line.
    let implicit = b
        .iter()
        .find(|b| b.sql.starts_with("SELECT 'implicit'"))
        .unwrap();
    assert_eq!(implicit.line, 52);
    assert!(b.iter().all(|b| b.transactional && b.dialects.is_empty()));
}

/// Module constants the generated expressions use.
const FOLD_CONSTANTS: &str = r#"S1 = "it's"
S2 = 'say "hi"\n\x00\xe9\u200b\U000e0001\x85'
T = ("a", "b'")
D = {"k": "v\t", "q": S1}
L = ["x", 'y"']
E = ()
INDENTED = """
    SELECT 1;
      -- deeper
    \t
    SELECT 2;
"""
"#;

const FOLD_FORMS: &[&str] = &[
    "S1 + S2",
    "'%s|%r|%a' % (S1, S2, S2)",
    "'%(k)s %(q)r %%' % D",
    "'%r' % D",
    "'%s' % (T,)",
    "'%s' % L",
    "'%s' % None",
    "S2 % ()",
    "('%s' '%s') % ('a', 'b')",
    "'{0}{1!r}{k!a}'.format(S1, S2, k=S2)",
    "'{}{}{{}}'.format(S1, T)",
    "'{x!r}'.format(x=L)",
    "f'{T}|{T!r}|{D}|{L!a}|{E}|{None}'",
    "f'{S2!a}{S2!r}{S2!s}'",
    "dedent(INDENTED)",
    "dedent(INDENTED).strip()",
    "INDENTED.lstrip() + INDENTED.rstrip()",
    "', '.join(L) + '-'.join(T)",
    "textwrap.dedent('''\\\n\tx\n\t  y\n''')",
    "dedent('  a\\n\\tb')",
    "dedent(' \\n  a\\n   \\n  b\\n')",
    "dedent('\\t\\ta\\n\\t  b\\n\\t\\t c')",
    "dedent('    a\\n  \\tb\\n')",
    "'\\x1c\\u2028 padded \\u3000\\x85'.strip()",
    "text(S1 + '%')",
    "sa.text(f'{S1!r}')",
];

/// Write a revision whose `upgrade()` executes each expression, and compare with CPython.
fn compare_expressions(name: &str, exprs: &[String]) {
    let mut src = String::from(
        "from alembic import op\nimport sqlalchemy as sa\nfrom sqlalchemy import text\nimport textwrap\nfrom textwrap import dedent\nrevision = 'gen'\n",
    );
    src.push_str(FOLD_CONSTANTS);
    src.push_str("def upgrade():\n");
    for e in exprs {
        src.push_str(&format!("    op.execute({e})\n"));
    }
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, &src).unwrap();
    let rev = migrate_core::python::parse_python_revision(&path, &src).unwrap();
    let ours: Vec<&str> = blocks(&rev.upgrade)
        .iter()
        .map(|b| b.sql.as_str())
        .collect();
    let python = cpython_executed(path.to_str().unwrap());
    assert_eq!(ours.len(), python.len());
    for ((e, ours), python) in exprs.iter().zip(ours).zip(&python) {
        assert_eq!(ours, python, "expression {e}");
    }
}

#[test]
fn string_expressions_fold_byte_identical_to_cpython() {
    let exprs: Vec<String> = FOLD_FORMS.iter().map(|s| s.to_string()).collect();
    compare_expressions("forms.py", &exprs);
}

#[test]
fn generated_combinations_fold_byte_identical_to_cpython() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let exprs: Vec<String> = (0..400)
        .map(|_| {
            let n = 1 + next() % 3;
            (0..n)
                .map(|_| {
                    let form = FOLD_FORMS[(next() % (FOLD_FORMS.len() as u64 - 2)) as usize];
                    match next() % 3 {
                        0 => format!("({form})"),
                        1 => format!("({form}).strip()"),
                        _ => format!("'<{{!r}}>'.format({form})"),
                    }
                })
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect();
    compare_expressions("generated.py", &exprs);
}

/// Alembic 1.20.1 via the oracle (`upgrade b2:c3 --sql`, sqlite://), revision c3: the two
/// forms the issue names (an integer module constant in an f-string; a loop over a dict
/// constant's `.items()` with `json.dumps` of its values), and more number and container forms.
const C3_UPGRADE_ORACLE: &str = r#"UPDATE apps SET kind = 'checkin' WHERE system_app_type = 1;

INSERT INTO roles (name, spec) VALUES ('admin', '{"can": ["read", "write"], "level": 10}');

INSERT INTO roles (name, spec) VALUES ('viewer', '{"can": ["read"], "level": 1.5, "note": "sees \"all\" \u00e9"}');

COMMENT ON COLUMN t.id IS 'position 1';

COMMENT ON COLUMN t.name IS 'position 2';

COMMENT ON COLUMN t.kind IS 'position 3';

SELECT 'id', 'name', 'kind', 0.25, True, None;

SELECT 2 ['viewer', 'admin'];

"#;

/// The same, `downgrade c3:b2 --sql`.
const C3_DOWNGRADE_ORACLE: &str = "DELETE FROM roles WHERE name IN ('admin', 'viewer');\n\n";

#[test]
fn numbers_dict_loops_and_json_fold_as_alembic_runs_them() {
    let rev = parse_fixture("fold/c3_values.py");
    assert_eq!(alembic_offline(blocks(&rev.upgrade)), C3_UPGRADE_ORACLE);
    assert_eq!(alembic_offline(blocks(&rev.downgrade)), C3_DOWNGRADE_ORACLE);
    let ours: Vec<&str> = blocks(&rev.upgrade)
        .iter()
        .map(|b| b.sql.as_str())
        .collect();
    assert_eq!(ours, cpython_executed("fold/c3_values.py"));
}
