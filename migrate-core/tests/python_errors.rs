//! Files that are not readable revisions: a non-literal header value, no `revision`, or invalid
//! Python. Each error names the file, line and column and shows the line.

mod python_common;

use migrate_core::Error;
use python_common::parse_text;

/// Parse `text` as `versions/broken.py` and return the error's fields and its display.
fn error(text: &str) -> (usize, usize, String, Option<String>, String) {
    match parse_text("versions/broken.py", text) {
        Err(e @ Error::Parse { .. }) => {
            let shown = e.to_string();
            let Error::Parse {
                line,
                column,
                message,
                snippet,
                path,
            } = e
            else {
                unreachable!()
            };
            assert_eq!(path, std::path::Path::new("versions/broken.py"));
            assert!(
                shown.starts_with(&format!("versions/broken.py:{line}:{column}: ")),
                "{shown}"
            );
            (line, column, message, snippet, shown)
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn non_literal_header_value_names_the_variable() {
    let (line, column, message, snippet, _) =
        error("revision = 'a'\ndown_revision = get_parent()\nbranch_labels = None\n");
    assert_eq!((line, column), (2, 17));
    assert_eq!(
        message,
        "`down_revision` must be a literal (a string, None, or a tuple or list of strings), found `get_parent()`"
    );
    assert_eq!(snippet.as_deref(), Some("down_revision = get_parent()"));
}

#[test]
fn header_values_built_from_names_or_fstrings_are_not_literals() {
    let (line, column, message, ..) = error("BASE = 'a'\nrevision = f'{BASE}1'\n");
    assert_eq!((line, column), (2, 12));
    assert!(
        message.starts_with("`revision` must be a literal"),
        "{message}"
    );
    let (line, _, message, ..) = error("revision = 'b'\ndepends_on = ('a', BASE)\n");
    assert_eq!(line, 2);
    assert!(
        message.starts_with("`depends_on` must be a literal"),
        "{message}"
    );
    let (line, column, message, ..) = error("revision: str = 'b'; branch_labels = 'x' + 'y'\n");
    assert_eq!((line, column), (1, 38));
    assert!(
        message.starts_with("`branch_labels` must be a literal"),
        "{message}"
    );
}

#[test]
fn revision_must_be_a_string() {
    let (line, column, message, ..) = error("revision = None\n");
    assert_eq!(
        (line, column, message.as_str()),
        (1, 12, "`revision` must be a string")
    );
}

#[test]
fn header_assigned_in_a_block_is_refused() {
    let (line, _, message, ..) = error("revision = 'a'\nif X:\n    down_revision = 'b'\n");
    assert_eq!(line, 3);
    assert!(
        message.starts_with("`down_revision` is bound inside a block"),
        "{message}"
    );
}

#[test]
fn a_file_without_revision_is_not_a_revision_file() {
    let (line, _, message, _, shown) = error("\"\"\"A helper module.\"\"\"\nVALUE = 1\n");
    assert_eq!(line, 1);
    assert!(
        message.starts_with("not a revision file: no `revision = ...` found; "),
        "{message}"
    );
    assert!(shown.contains("versions/broken.py"));
}

#[test]
fn unterminated_strings() {
    let (line, column, message, snippet, _) = error("revision = 'a'\nX = \"open\n");
    assert_eq!((line, column), (2, 5));
    assert_eq!(
        message,
        "invalid Python: unterminated string literal (detected at line 2)"
    );
    assert_eq!(snippet.as_deref(), Some("X = \"open"));
    let (line, column, message, ..) =
        error("revision = 'a'\ndef upgrade():\n    op.execute('''\n    SELECT 1\n");
    assert_eq!((line, column), (3, 16));
    assert_eq!(
        message,
        "invalid Python: unterminated triple-quoted string literal"
    );
}

#[test]
fn bad_indentation() {
    let (line, _, message, ..) = error("revision = 'a'\ndef upgrade():\n        pass\n    pass\n");
    assert_eq!(line, 4);
    assert_eq!(
        message,
        "invalid Python: unindent does not match any outer indentation level"
    );
    let (line, _, message, ..) = error("revision = 'a'\n  x = 1\n");
    assert_eq!(line, 2);
    assert_eq!(message, "invalid Python: unexpected indent");
    let (line, _, message, ..) = error("revision = 'a'\ndef upgrade():\npass\n");
    assert_eq!(line, 3);
    assert!(
        message.starts_with("invalid Python: expected an indented block"),
        "{message}"
    );
    let (line, _, message, ..) = error("revision = 'a'\nif x:\n        a = 1\n\tb = 2\n");
    assert_eq!(line, 4);
    assert_eq!(
        message,
        "invalid Python: inconsistent use of tabs and spaces in indentation"
    );
}

#[test]
fn unbalanced_brackets_and_bad_escapes() {
    let (line, column, message, ..) = error("revision = 'a'\nX = foo(1,\n  2\n");
    assert_eq!((line, column), (2, 8));
    assert_eq!(message, "invalid Python: '(' was never closed");
    let (line, _, message, ..) = error("revision = 'a'\nX = 1)\n");
    assert_eq!(line, 2);
    assert_eq!(message, "invalid Python: unmatched ')'");
    let (line, column, message, ..) = error("revision = 'a\\x4'\n");
    assert_eq!((line, column), (1, 14));
    assert!(message.contains("truncated \\xXX escape"), "{message}");
}

#[test]
fn a_syntax_error_inside_a_function_body_is_an_error_too() {
    let (line, _, message, ..) = error(
        "from alembic import op\nrevision = 'a'\ndef upgrade():\n    op.execute('\\U00110000')\n",
    );
    assert_eq!(line, 4);
    assert!(message.contains("illegal Unicode character"), "{message}");
}
