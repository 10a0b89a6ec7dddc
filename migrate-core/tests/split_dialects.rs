//! Statement splitting over tricky SQL, with each backend's rules.

use migrate_core::{split, SplitRules};

const SQLITE: SplitRules = SplitRules {
    backslash_escapes: false,
    hash_comments: false,
    nested_block_comments: false,
    dollar_quotes: false,
    backticks: true,
    brackets: true,
    begin_end_blocks: true,
};
const POSTGRES: SplitRules = SplitRules {
    backslash_escapes: false,
    hash_comments: false,
    nested_block_comments: true,
    dollar_quotes: true,
    backticks: false,
    brackets: false,
    begin_end_blocks: false,
};
const MYSQL: SplitRules = SplitRules {
    backslash_escapes: true,
    hash_comments: true,
    nested_block_comments: false,
    dollar_quotes: false,
    backticks: true,
    brackets: false,
    begin_end_blocks: true,
};

fn texts(sql: &str, rules: SplitRules) -> Vec<String> {
    split(sql, rules).into_iter().map(|s| s.text).collect()
}

#[test]
fn postgres_function_bodies_in_dollar_quotes() {
    let sql = "CREATE FUNCTION touch() RETURNS trigger AS $$\nBEGIN\n  NEW.updated_at = now();\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\nCREATE FUNCTION g() RETURNS text AS $body$ SELECT 'a;b'; $x$ $body$ LANGUAGE sql;\nSELECT $1::int, 'x'";
    let got = texts(sql, POSTGRES);
    assert_eq!(got.len(), 3, "{got:#?}");
    assert!(got[0].ends_with("$$ LANGUAGE plpgsql"));
    assert!(got[1].contains("$x$ $body$ LANGUAGE sql"));
    assert_eq!(got[2], "SELECT $1::int, 'x'");
}

#[test]
fn postgres_nested_comments_and_escape_strings() {
    let sql = "/* outer /* inner; */ still comment; */ SELECT 1; SELECT E'it\\'s; fine'; SELECT 'plain\\'; SELECT 2";
    let got = texts(sql, POSTGRES);
    assert_eq!(
        got,
        [
            "SELECT 1",
            "SELECT E'it\\'s; fine'",
            "SELECT 'plain\\'",
            "SELECT 2"
        ]
    );
}

#[test]
fn sqlite_trigger_keeps_its_body_and_begin_transaction_is_a_statement() {
    let sql = "BEGIN TRANSACTION;\nCREATE TRIGGER t_upd AFTER UPDATE ON t\nBEGIN\n  UPDATE t SET n = CASE WHEN n > 1 THEN 1 ELSE 2 END WHERE id = NEW.id;\n  INSERT INTO log VALUES ('x;y');\nEND;\nCOMMIT;\nSELECT [odd;name] FROM `t;t`";
    let got = texts(sql, SQLITE);
    assert_eq!(got.len(), 4, "{got:#?}");
    assert_eq!(got[0], "BEGIN TRANSACTION");
    assert!(got[1].starts_with("CREATE TRIGGER") && got[1].ends_with("END"));
    assert_eq!(got[2], "COMMIT");
    assert_eq!(got[3], "SELECT [odd;name] FROM `t;t`");
}

#[test]
fn mysql_procedures_with_nested_blocks() {
    let sql = "DROP PROCEDURE IF EXISTS p;\nCREATE PROCEDURE p(IN n INT)\nBEGIN\n  DECLARE i INT DEFAULT 0;\n  l1: LOOP\n    SET i = i + 1;\n    IF (i > n) THEN\n      LEAVE l1;\n    END IF;\n    SELECT IF(i > 2, 'a', 'b'), REPEAT('x', 2);\n    CASE i WHEN 1 THEN SELECT 1; ELSE SELECT 2; END CASE;\n  END LOOP l1;\n  WHILE i > 0 DO SET i = i - 1; END WHILE;\nEND;\nSELECT 'done'";
    let got = texts(sql, MYSQL);
    assert_eq!(got.len(), 3, "{got:#?}");
    assert_eq!(got[0], "DROP PROCEDURE IF EXISTS p");
    assert!(got[1].starts_with("CREATE PROCEDURE") && got[1].ends_with("END"));
    assert_eq!(got[2], "SELECT 'done'");
}

#[test]
fn mysql_delimiter_lines() {
    let sql = "DELIMITER //\nCREATE PROCEDURE q() BEGIN SELECT 1; SELECT 2; END //\nDELIMITER ;\nSELECT 3;";
    let got = texts(sql, MYSQL);
    assert_eq!(
        got,
        [
            "CREATE PROCEDURE q() BEGIN SELECT 1; SELECT 2; END",
            "SELECT 3"
        ]
    );
}

#[test]
fn quotes_in_comments_and_comments_in_quotes() {
    for rules in [SQLITE, POSTGRES, MYSQL] {
        let sql = "SELECT '--;' AS a; -- it's a comment; really\nSELECT \"x;\" /* ' ; */ FROM t;\n\n;;\nSELECT 'it''s';";
        let got = texts(sql, rules);
        assert_eq!(got.len(), 3, "{rules:?}: {got:#?}");
        assert_eq!(got[0], "SELECT '--;' AS a");
        // Comments before a statement belong to none; comments inside one are kept.
        assert_eq!(got[1], "SELECT \"x;\" /* ' ; */ FROM t");
        assert_eq!(got[2], "SELECT 'it''s'");
    }
    let got = texts("SELECT 'a\\';b'; # hash; comment\nSELECT 2", MYSQL);
    assert_eq!(got, ["SELECT 'a\\';b'", "SELECT 2"]);
}

#[test]
fn line_offsets_point_at_the_statement() {
    let sql = "\n-- first\nCREATE TABLE a (id INT);\n\n/* c */\nCREATE TABLE b (id INT);  CREATE TABLE c (id INT)\n";
    let got = split(sql, SQLITE);
    let offsets: Vec<usize> = got.iter().map(|s| s.line_offset).collect();
    assert_eq!(offsets, [2, 5, 5]);
    assert!(split("  -- only a comment\n;\n", SQLITE).is_empty());
}

#[test]
fn random_statements_split_back_to_themselves() {
    let pieces = [
        "SELECT 1",
        "SELECT 'a;b'",
        "SELECT \"c;d\"",
        "INSERT INTO t VALUES ('x''y;')",
        "SELECT 1 /* ; */ + 2",
        "UPDATE t SET a = 'b' -- trailing; comment\n WHERE c = 1",
        "CREATE TABLE `q;r` (id INT)",
    ];
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    for _ in 0..500 {
        let mut chosen = Vec::new();
        for _ in 0..(seed % 6 + 1) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            chosen.push(pieces[(seed % pieces.len() as u64) as usize]);
        }
        let sql = chosen.join(";\n");
        for rules in [SQLITE, MYSQL] {
            assert_eq!(texts(&sql, rules), chosen, "{sql}");
        }
        let pg: Vec<&str> = chosen
            .iter()
            .copied()
            .filter(|s| !s.contains('`'))
            .collect();
        assert_eq!(texts(&pg.join(";\n"), POSTGRES), pg);
    }
}
