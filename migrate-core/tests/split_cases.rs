//! Statement splitting under the SQLite, PostgreSQL and MySQL rule sets.

use migrate_core::split::{split, SplitRules, Statement};

fn sqlite() -> SplitRules {
    SplitRules {
        brackets: true,
        backticks: true,
        begin_end_blocks: true,
        ..SplitRules::default()
    }
}

fn postgresql() -> SplitRules {
    SplitRules {
        nested_block_comments: true,
        dollar_quotes: true,
        ..SplitRules::default()
    }
}

fn mysql() -> SplitRules {
    SplitRules {
        backslash_escapes: true,
        hash_comments: true,
        backticks: true,
        begin_end_blocks: true,
        ..SplitRules::default()
    }
}

fn texts(sql: &str, rules: SplitRules) -> Vec<String> {
    split(sql, rules).into_iter().map(|s| s.text).collect()
}

fn offsets(sql: &str, rules: SplitRules) -> Vec<usize> {
    split(sql, rules)
        .into_iter()
        .map(|s| s.line_offset)
        .collect()
}

#[test]
fn constructors_match_the_documented_rule_sets() {
    assert_eq!(migrate_core::SplitRules::sqlite(), sqlite());
    assert_eq!(migrate_core::SplitRules::postgresql(), postgresql());
    assert_eq!(migrate_core::SplitRules::mysql(), mysql());
}

// ---------------------------------------------------------------- PostgreSQL

#[test]
fn postgres_function_body_in_double_dollars_keeps_its_semicolons() {
    let sql = "CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  NEW.a := 1;\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\nSELECT 1;";
    assert_eq!(
        texts(sql, postgresql()),
        vec![
            "CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  NEW.a := 1;\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql",
            "SELECT 1",
        ]
    );
    assert_eq!(offsets(sql, postgresql()), vec![0, 6]);
}

#[test]
fn postgres_tagged_dollar_quote_ignores_inner_double_dollars() {
    let sql = "CREATE FUNCTION g() RETURNS text AS $body$\n  SELECT $$;$$ || ';';\n$body$ LANGUAGE sql;\nDROP TABLE x";
    assert_eq!(
        texts(sql, postgresql()),
        vec![
            "CREATE FUNCTION g() RETURNS text AS $body$\n  SELECT $$;$$ || ';';\n$body$ LANGUAGE sql",
            "DROP TABLE x",
        ]
    );
}

#[test]
fn postgres_positional_parameters_are_not_dollar_quotes() {
    let sql = "PREPARE p AS SELECT $1 + $2; SELECT 'a$b;'; SELECT a$b$ FROM t; SELECT 2";
    assert_eq!(
        texts(sql, postgresql()),
        vec![
            "PREPARE p AS SELECT $1 + $2",
            "SELECT 'a$b;'",
            "SELECT a$b$ FROM t",
            "SELECT 2"
        ]
    );
}

#[test]
fn postgres_block_comments_nest() {
    let sql = "/* outer /* inner; */ still comment; */ SELECT 1; SELECT /* a /* b */ ; */ 2;";
    assert_eq!(
        texts(sql, postgresql()),
        vec!["SELECT 1", "SELECT /* a /* b */ ; */ 2"]
    );
}

#[test]
fn nested_comments_do_not_nest_without_the_rule() {
    // SQLite: the first `*/` closes the comment, so the `;` after it ends a statement.
    let sql = "SELECT /* a /* b */ 1; */ 2";
    assert_eq!(texts(sql, sqlite()), vec!["SELECT /* a /* b */ 1", "*/ 2"]);
}

#[test]
fn postgres_escape_strings_take_backslashes() {
    let sql =
        "INSERT INTO t VALUES (E'it\\'s;'); INSERT INTO t VALUES (e'\\\\'); SELECT 'a\\'; SELECT 3";
    assert_eq!(
        texts(sql, postgresql()),
        vec![
            "INSERT INTO t VALUES (E'it\\'s;')",
            "INSERT INTO t VALUES (e'\\\\')",
            // A plain string: the backslash is a character, the quote ends it.
            "SELECT 'a\\'",
            "SELECT 3",
        ]
    );
}

#[test]
fn postgres_identifier_ending_in_e_is_not_an_escape_string() {
    // `name'...'` is not valid SQL, but must not be read as E'..' with backslash escapes.
    let sql = "SELECT some'\\'; SELECT 2";
    assert_eq!(
        texts(sql, postgresql()),
        vec!["SELECT some'\\'", "SELECT 2"]
    );
}

#[test]
fn postgres_begin_is_a_transaction_not_a_block() {
    let sql = "BEGIN;\nCREATE TABLE t (a int);\nCOMMIT;";
    assert_eq!(
        texts(sql, postgresql()),
        vec!["BEGIN", "CREATE TABLE t (a int)", "COMMIT"]
    );
}

// ---------------------------------------------------------------- SQLite

#[test]
fn sqlite_trigger_body_is_one_statement() {
    let sql = "CREATE TABLE log (msg TEXT);\n\nCREATE TRIGGER trg AFTER INSERT ON t\nBEGIN\n  INSERT INTO log VALUES ('a;');\n  UPDATE t SET n = CASE WHEN n > 1 THEN 0 ELSE n END;\n  DELETE FROM log;\nEND;\nINSERT INTO t VALUES (1);";
    let stmts = split(sql, sqlite());
    assert_eq!(
        stmts,
        vec![
            Statement {
                text: "CREATE TABLE log (msg TEXT)".into(),
                line_offset: 0
            },
            Statement {
                text: "CREATE TRIGGER trg AFTER INSERT ON t\nBEGIN\n  INSERT INTO log VALUES ('a;');\n  UPDATE t SET n = CASE WHEN n > 1 THEN 0 ELSE n END;\n  DELETE FROM log;\nEND".into(),
                line_offset: 2
            },
            Statement {
                text: "INSERT INTO t VALUES (1)".into(),
                line_offset: 8
            },
        ]
    );
}

#[test]
fn sqlite_temp_trigger_if_not_exists_with_when_case() {
    let sql = "create temp trigger if not exists main.t2 before update on t when case when new.a then 1 else 0 end begin select raise(abort, 'no;'); end; select 1";
    assert_eq!(
        texts(sql, sqlite()),
        vec![
            "create temp trigger if not exists main.t2 before update on t when case when new.a then 1 else 0 end begin select raise(abort, 'no;'); end",
            "select 1"
        ]
    );
}

#[test]
fn sqlite_begin_transaction_is_not_a_block() {
    let sql = "BEGIN TRANSACTION;\nCREATE TABLE a (x);\nEND TRANSACTION;\nBEGIN;\nCOMMIT;";
    assert_eq!(
        texts(sql, sqlite()),
        vec![
            "BEGIN TRANSACTION",
            "CREATE TABLE a (x)",
            "END TRANSACTION",
            "BEGIN",
            "COMMIT"
        ]
    );
    assert_eq!(offsets(sql, sqlite()), vec![0, 1, 2, 3, 4]);
}

#[test]
fn sqlite_quoted_identifiers() {
    let sql = "CREATE TABLE [a;b] (`c;d` TEXT, \"e;\"\"f\" TEXT); SELECT 1";
    assert_eq!(
        texts(sql, sqlite()),
        vec![
            "CREATE TABLE [a;b] (`c;d` TEXT, \"e;\"\"f\" TEXT)",
            "SELECT 1"
        ]
    );
}

#[test]
fn brackets_are_plain_characters_without_the_rule() {
    let sql = "SELECT a[1]; SELECT b[2]";
    assert_eq!(texts(sql, postgresql()), vec!["SELECT a[1]", "SELECT b[2]"]);
    let sql = "SELECT '[' ; SELECT 2";
    assert_eq!(texts(sql, sqlite()), vec!["SELECT '['", "SELECT 2"]);
}

// ---------------------------------------------------------------- MySQL

#[test]
fn mysql_procedure_with_nested_if_loop_case() {
    let sql = "CREATE DEFINER=`root`@`localhost` PROCEDURE p(IN n INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  DROP TEMPORARY TABLE IF EXISTS tmp;
  lbl: LOOP
    SET i = i + 1;
    IF i > n THEN
      LEAVE lbl;
    ELSEIF i = 2 THEN
      SELECT IF(i > 1, 'a;', 'b');
    ELSE
      CASE i
        WHEN 3 THEN SELECT 3;
        ELSE BEGIN SELECT REPEAT('x;', 2); END;
      END CASE;
    END IF;
    WHILE i < 0 DO
      SET i = i + 1;
    END WHILE;
    REPEAT
      SET i = i - 1;
    UNTIL i < 5 END REPEAT;
  END LOOP lbl;
END;
CALL p(3);";
    let stmts = split(sql, mysql());
    assert_eq!(stmts.len(), 2, "{stmts:#?}");
    assert!(stmts[0].text.starts_with("CREATE DEFINER"));
    assert!(stmts[0].text.ends_with("END LOOP lbl;\nEND"));
    assert_eq!(stmts[1].text, "CALL p(3)");
    assert_eq!(stmts[1].line_offset, 24);
}

#[test]
fn mysql_function_without_begin_is_one_statement() {
    let sql = "CREATE FUNCTION f() RETURNS INT DETERMINISTIC RETURN 1;\nSELECT f();";
    assert_eq!(
        texts(sql, mysql()),
        vec![
            "CREATE FUNCTION f() RETURNS INT DETERMINISTIC RETURN 1",
            "SELECT f()"
        ]
    );
}

#[test]
fn mysql_trigger_and_event_bodies() {
    let sql =
        "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; SET NEW.b = 2; END;
CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM x; DELETE FROM y; END;
SELECT 1";
    assert_eq!(
        texts(sql, mysql()),
        vec![
            "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; SET NEW.b = 2; END",
            "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM x; DELETE FROM y; END",
            "SELECT 1"
        ]
    );
}

#[test]
fn mysql_delimiter_lines_change_the_terminator() {
    let sql = "DROP PROCEDURE IF EXISTS p;
DELIMITER //
CREATE PROCEDURE p()
BEGIN
  SELECT 1; SELECT '//';
END //
CREATE PROCEDURE q() SELECT 2//
delimiter ;
SELECT 3;";
    let stmts = split(sql, mysql());
    assert_eq!(
        stmts,
        vec![
            Statement {
                text: "DROP PROCEDURE IF EXISTS p".into(),
                line_offset: 0
            },
            Statement {
                text: "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1; SELECT '//';\nEND".into(),
                line_offset: 2
            },
            Statement {
                text: "CREATE PROCEDURE q() SELECT 2".into(),
                line_offset: 6
            },
            Statement {
                text: "SELECT 3".into(),
                line_offset: 8
            },
        ]
    );
}

#[test]
fn mysql_dollar_delimiter() {
    let sql = "DELIMITER $$\nCREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END$$\nSELECT 2$$\nDELIMITER ;\nSELECT 1";
    assert_eq!(
        texts(sql, mysql()),
        vec![
            "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END",
            "SELECT 2",
            "SELECT 1"
        ]
    );
}

#[test]
fn delimiter_is_an_ordinary_word_outside_mysql() {
    let sql = "DELIMITER //\nSELECT 1";
    assert_eq!(texts(sql, sqlite()), vec!["DELIMITER //\nSELECT 1"]);
}

#[test]
fn mysql_backslash_escapes_and_double_quoted_strings() {
    let sql =
        r#"INSERT INTO t VALUES ('it\'s; fine', "say \"hi;\"", 'a''b;'); SELECT '\\'; SELECT 2"#;
    assert_eq!(
        texts(sql, mysql()),
        vec![
            r#"INSERT INTO t VALUES ('it\'s; fine', "say \"hi;\"", 'a''b;')"#,
            r"SELECT '\\'",
            "SELECT 2"
        ]
    );
}

#[test]
fn mysql_hash_comments_and_executable_comments() {
    let sql = "# a comment; with semicolon\nSELECT 1; # trailing ;\n/*!40101 SET NAMES utf8 */;\n/* just a comment; */;";
    let stmts = split(sql, mysql());
    assert_eq!(
        stmts,
        vec![
            Statement {
                text: "SELECT 1".into(),
                line_offset: 1
            },
            Statement {
                text: "/*!40101 SET NAMES utf8 */".into(),
                line_offset: 2
            },
        ]
    );
}

#[test]
fn hash_is_an_operator_outside_mysql() {
    let sql = "SELECT a # b; SELECT 2";
    assert_eq!(texts(sql, postgresql()), vec!["SELECT a # b", "SELECT 2"]);
}

// ---------------------------------------------------------------- every dialect

#[test]
fn quotes_in_comments_and_comments_in_quotes() {
    for rules in [sqlite(), postgresql(), mysql()] {
        let sql =
            "SELECT '--;' AS a; -- it's a comment; really\nSELECT 2 /* ' ; */ ; SELECT '/*', ';*/'";
        assert_eq!(
            texts(sql, rules),
            vec![
                "SELECT '--;' AS a",
                "SELECT 2 /* ' ; */",
                "SELECT '/*', ';*/'"
            ],
            "{rules:?}"
        );
    }
}

#[test]
fn doubled_quotes_stay_inside_literals() {
    for rules in [sqlite(), postgresql(), mysql()] {
        let sql = "SELECT 'a'';b', \"c\"\";d\"; SELECT ''";
        assert_eq!(
            texts(sql, rules),
            vec!["SELECT 'a'';b', \"c\"\";d\"", "SELECT ''"],
            "{rules:?}"
        );
    }
}

#[test]
fn trailing_statement_without_terminator_and_empty_statements() {
    for rules in [sqlite(), postgresql(), mysql()] {
        let sql = ";;\n  ;\n-- only a comment\n;\nSELECT 1;;\n\n   SELECT 2\n  -- tail comment\n";
        let stmts = split(sql, rules);
        assert_eq!(
            stmts,
            vec![
                Statement {
                    text: "SELECT 1".into(),
                    line_offset: 4
                },
                Statement {
                    text: "SELECT 2\n  -- tail comment".into(),
                    line_offset: 6
                },
            ],
            "{rules:?}"
        );
    }
}

#[test]
fn nothing_but_blanks_and_comments_gives_no_statement() {
    for rules in [sqlite(), postgresql(), mysql()] {
        assert!(split("", rules).is_empty());
        assert!(split("  \n\t\n", rules).is_empty());
        assert!(split("-- a\n/* b */\n;", rules).is_empty());
    }
}

#[test]
fn line_offset_skips_leading_comments_and_text_starts_at_the_sql() {
    let sql = "\n\n-- explain the next statement\n/* more\n   lines */\n  UPDATE t\n  SET a = 1 -- why\n  WHERE b;";
    let stmts = split(sql, postgresql());
    assert_eq!(
        stmts,
        vec![Statement {
            text: "UPDATE t\n  SET a = 1 -- why\n  WHERE b".into(),
            line_offset: 5
        }]
    );
}

#[test]
fn unterminated_quote_runs_to_the_end() {
    let sql = "SELECT 1; SELECT 'open; SELECT 2";
    assert_eq!(
        texts(sql, sqlite()),
        vec!["SELECT 1", "SELECT 'open; SELECT 2"]
    );
}

#[test]
fn crlf_line_endings() {
    let sql = "SELECT 1;\r\n\r\nSELECT 2;\r\n";
    let stmts = split(sql, mysql());
    assert_eq!(stmts[1].text, "SELECT 2");
    assert_eq!(stmts[1].line_offset, 2);
}

#[test]
fn non_ascii_text_is_kept_intact() {
    let sql = "INSERT INTO t VALUES ('héllo; wörld'); SELECT 'ü'";
    assert_eq!(
        texts(sql, postgresql()),
        vec!["INSERT INTO t VALUES ('héllo; wörld')", "SELECT 'ü'"]
    );
}
