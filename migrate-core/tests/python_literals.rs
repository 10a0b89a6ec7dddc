//! String literal forms decoded exactly as CPython 3.11 decodes them.
//!
//! Each test generates literal source forms, asks `python3` (CPython 3.11) for the value of each
//! with `eval`, then reads a revision file with one `op.execute(<literal>)` per form and compares
//! the folded text byte for byte.

mod python_common;

use std::io::Write;
use std::process::{Command, Stdio};

use migrate_core::Migration;
use python_common::{hex, json_string, parse_text, Rng};

/// Module constants the f-string forms refer to (written once, evaluated by both sides).
const CONSTANTS: &str = r#"A = "it's"
B = 'say "hi"\n\x00\xe9\u200b\U0001F600\x7f\x85\xa0\U000e0001\ud7ff'
C = "both ' and \" and \\"
D = "plain"
"#;

/// CPython's value of each literal (None when CPython rejects it or it is not a str).
fn cpython_values(literals: &[String]) -> Vec<Option<String>> {
    let script = r#"
import sys, json, warnings
warnings.simplefilter("ignore")
lits = json.load(sys.stdin)
env = {}
exec(sys.argv[1], env)
for lit in lits:
    try:
        v = eval(lit, env)
    except Exception:
        print("ERR")
        continue
    print(v.encode("utf-8").hex() if isinstance(v, str) else "ERR")
"#;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(CONSTANTS)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let json = format!(
        "[{}]",
        literals
            .iter()
            .map(|l| json_string(l))
            .collect::<Vec<_>>()
            .join(",")
    );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| (l != "ERR").then(|| String::from_utf8(hex(l)).unwrap()))
        .collect()
}

/// Fold every literal through `op.execute(...)` in one revision file.
fn folded(literals: &[String]) -> Vec<String> {
    let mut src = String::from("from alembic import op\nrevision = 'lit'\n");
    src.push_str(CONSTANTS);
    src.push_str("def upgrade():\n");
    for lit in literals {
        src.push_str("    op.execute(");
        src.push_str(lit);
        src.push_str(")\n");
    }
    let rev = parse_text("literals.py", &src).unwrap_or_else(|e| panic!("{e}"));
    match rev.upgrade {
        Migration::Sql(blocks) => blocks.into_iter().map(|b| b.sql).collect(),
        other => panic!("not folded: {other:?}"),
    }
}

fn check(literals: Vec<String>) -> usize {
    let expected = cpython_values(&literals);
    let (lits, values): (Vec<String>, Vec<String>) = literals
        .into_iter()
        .zip(expected)
        .filter_map(|(l, v)| v.map(|v| (l, v)))
        .unzip();
    let ours = folded(&lits);
    assert_eq!(ours.len(), values.len());
    for ((lit, ours), python) in lits.iter().zip(&ours).zip(&values) {
        assert_eq!(ours, python, "literal {lit:?}");
    }
    values.len()
}

const PREFIXES: &[&str] = &[
    "", "", "r", "R", "u", "U", "f", "F", "rf", "fR", "Rf", "FR", "rF",
];
const QUOTES: &[&str] = &["'", "\"", "'''", "\"\"\""];
const PLAIN: &[&str] = &[
    "abc", " ", "SELECT 1", "é", "😀", "日本", "\u{200b}", "\t", "%s", "%", "#", "x\u{85}y",
    "\u{7f}",
];
const ESCAPES: &[&str] = &[
    "\\n",
    "\\t",
    "\\\\",
    "\\x41",
    "\\xe9",
    "\\u00e9",
    "\\u200B",
    "\\U0001F600",
    "\\U000e0001",
    "\\101",
    "\\0",
    "\\7",
    "\\777",
    "\\1234",
    "\\a\\b\\f\\v\\r",
    "\\d",
    "\\%",
    "\\\n",
    "\\\r\n",
    "\\x7b",
    "\\x7d",
    "\\ ",
];
const FIELDS: &[&str] = &[
    "{{", "}}", "{A}", "{B!r}", "{C!r}", "{D!s}", "{B!a}", "{ A }", "{C}", "{A!r}", "{B}",
];

fn literal(rng: &mut Rng) -> String {
    let prefix = rng.pick(PREFIXES);
    let quote = rng.pick(QUOTES);
    let triple = quote.len() == 3;
    let q = &quote[..1];
    let other = if q == "'" { "\"" } else { "'" };
    let fstring = prefix.to_ascii_lowercase().contains('f');
    let mut body = String::new();
    for _ in 0..(rng.next() % 7) {
        let atom = match rng.next() % 8 {
            0..=2 => rng.pick(PLAIN).to_string(),
            3 | 4 => rng.pick(ESCAPES).to_string(),
            5 => {
                if fstring {
                    rng.pick(FIELDS).to_string()
                } else {
                    rng.pick(&["{", "}", "{x}"]).to_string()
                }
            }
            6 => {
                if triple {
                    rng.pick(&["\n", "\r\n", "\n  indented\n", q]).to_string() + "x"
                } else {
                    other.to_string()
                }
            }
            _ => format!("\\{q}"),
        };
        // A backslash right before a field is not a form people write (and 3.11 treats it
        // specially); keep generated forms to ones that are.
        if fstring && body.ends_with('\\') && atom.starts_with('{') {
            continue;
        }
        body.push_str(&atom);
    }
    format!("{prefix}{quote}{body}{quote}")
}

fn concatenation(rng: &mut Rng) -> String {
    let n = 1 + rng.next() % 3;
    let pieces: Vec<String> = (0..n).map(|_| literal(rng)).collect();
    match rng.next() % 3 {
        0 => pieces.join(" "),
        1 => format!("(\n        {}\n    )", pieces.join("  # comment\n        ")),
        _ => format!("({})", pieces.join("\n")),
    }
}

#[test]
fn generated_literal_forms_decode_as_cpython() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let literals: Vec<String> = (0..3000).map(|_| concatenation(&mut rng)).collect();
    let checked = check(literals);
    // Most generated forms are valid Python; make sure the comparison covered them.
    assert!(checked > 2000, "only {checked} forms were valid Python");
}

#[test]
fn listed_literal_forms_decode_as_cpython() {
    let forms = [
        r#""plain""#,
        r#"'single'"#,
        r#"u"unicode prefix""#,
        r#"U'upper'"#,
        r#"r"raw \n \x41 \\""#,
        r#"R'raw \' quote'"#,
        r#""""triple "double" with 'single'""""#,
        "'''triple\nwith newline\n'''",
        "\"\"\"crlf\r\nnewline\r\n\"\"\"",
        r#""\n\t\\\'\"\x41\u00e9\U0001F600""#,
        r#""\101\0\7\777\1234""#,
        r#""\a\b\f\v\r""#,
        r#""unknown \d \q \% escape""#,
        "\"line \\\ncontinued\"",
        "'''triple \\\ncontinued'''",
        r#"f"{A} and {B!r} and {C!r} and {D!s} and {B!a}""#,
        r#"f'{{literal braces}} {A}'"#,
        r#"rf"raw {A} \n""#,
        r#"Fr'{ D }'"#,
        r#"f"\x7b not a field \x7d""#,
        r#"f"{A!r:}""#,
        r#"("implicit " 'concatenation' f" {D}" r"\n")"#,
        "(\n    \"across \"  # comment\n    'lines'\n)",
        r#""é 日本 😀 \u200b""#,
    ];
    let literals: Vec<String> = forms.iter().map(|s| s.to_string()).collect();
    let expected = cpython_values(&literals);
    assert!(expected.iter().all(Option::is_some), "{expected:?}");
    assert_eq!(check(literals), forms.len());
}
