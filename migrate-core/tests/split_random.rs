//! Randomized: statements built from tricky literals, joined by `;`, split back to themselves.

use migrate_core::split::{split, SplitRules};
use proptest::prelude::*;

/// Pieces every dialect reads the same way: each holds a `;` or a comment opener that must
/// not end the statement.
const COMMON: &[&str] = &[
    "1",
    "'a;b'",
    "'it''s; ok'",
    "'--;'",
    "'/*;'",
    "\"col;umn\"",
    "\"q\"\"q;\"",
    "/* ; ' \" */ 2",
    "x -- trailing; comment 'quote\n + 3",
    "'é;ü'",
    "CASE WHEN a THEN 'b;' ELSE 'c' END",
];

const POSTGRES: &[&str] = &[
    "$$;$$",
    "$tag$ $$ ; $tag$",
    "E'it\\'s;'",
    "/* a /* nested; */ ; */ 4",
    "$1",
];

const SQLITE: &[&str] = &["[a;b]", "`c;d`"];

const MYSQL: &[&str] = &[
    "'back\\'slash;'",
    "\"dq \\\" ;\"",
    "`e;f`",
    "5 # hash; comment\n",
];

fn statements(extra: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
    let piece = prop::sample::select(COMMON.iter().chain(extra).copied().collect::<Vec<_>>());
    let statement = prop::collection::vec(piece, 1..5)
        .prop_map(|pieces| format!("SELECT {}", pieces.join(", ")));
    prop::collection::vec(statement, 1..8)
}

fn separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        ";",
        ";\n",
        " ;\n\n",
        ";;",
        ";\n-- between; 'x\n",
        ";/* ; */",
    ])
}

fn check(stmts: Vec<String>, seps: Vec<&'static str>, rules: SplitRules, final_sep: bool) {
    let mut sql = String::new();
    for (i, s) in stmts.iter().enumerate() {
        sql.push_str(s);
        if i + 1 < stmts.len() || final_sep {
            sql.push_str(seps[i % seps.len()]);
        }
    }
    let got: Vec<String> = split(&sql, rules).into_iter().map(|s| s.text).collect();
    let want: Vec<String> = stmts.iter().map(|s| s.trim().to_string()).collect();
    assert_eq!(got, want, "input: {sql:?}");
}

proptest! {
    #[test]
    fn postgres_round_trip(stmts in statements(POSTGRES), seps in prop::collection::vec(separator(), 1..4), final_sep: bool) {
        check(stmts, seps, migrate_core::SplitRules::postgresql(), final_sep);
    }

    #[test]
    fn sqlite_round_trip(stmts in statements(SQLITE), seps in prop::collection::vec(separator(), 1..4), final_sep: bool) {
        check(stmts, seps, migrate_core::SplitRules::sqlite(), final_sep);
    }

    #[test]
    fn mysql_round_trip(stmts in statements(MYSQL), seps in prop::collection::vec(separator(), 1..4), final_sep: bool) {
        check(stmts, seps, migrate_core::SplitRules::mysql(), final_sep);
    }
}
