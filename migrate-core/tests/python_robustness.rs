//! Arbitrary input never panics: it is read, refused as unrunnable, or reported as an error.

mod python_common;

use proptest::prelude::*;
use python_common::parse_text;

/// Characters that matter to the tokenizer, plus some multi-byte ones.
const ALPHABET: &str = "[ \t\n\r\\\\'\"#(){}\\[\\]:;,.=+%!@*<>fFrRbBuUaxN0-9_é日😀\u{c}-]{0,160}";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn any_module_text_is_read_or_refused_without_panicking(text in ALPHABET) {
        let _ = parse_text("fuzz.py", &text);
        let _ = parse_text("fuzz.py", &format!("revision = 'a'\n{text}"));
    }

    #[test]
    fn any_execute_argument_is_folded_or_refused_without_panicking(arg in ALPHABET) {
        let text = format!(
            "from alembic import op\nrevision = 'a'\nX = 'x'\ndef upgrade():\n    op.execute({arg})\n    op.execute(f\"{arg}\")\n"
        );
        let _ = parse_text("fuzz.py", &text);
    }
}

/// Pieces of Python source; random sequences of them are sometimes valid modules.
const PIECES: &[&str] = &[
    "x",
    "y",
    " = ",
    "'a'",
    "\"b\"",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "\n",
    "\n    ",
    "\n        ",
    ":",
    "if x",
    "def f()",
    "def upgrade()",
    "pass",
    " #c",
    "\\\n",
    "1",
    "0x1F",
    "1.5e-3",
    ", ",
    "; ",
    "f'{x}'",
    "\"\"\"d\n  \"\"\"",
    "r'\\''",
    "lambda: 0",
    "\n@d\n",
    "class C",
    "else",
    ".",
    " + ",
    " % ",
    "\t",
    "\r\n",
    "import os",
    "from a import b as c",
    "for i in y",
    "with op.get_context().autocommit_block()",
    "op.execute(",
    "return",
    "...",
    "u'é'",
    "b'x'",
    "'''t\n'''",
    "\n\n",
    "try",
    "except",
    "while 1",
    "async def g()",
    "await x",
    "*",
    "**",
];

#[test]
fn every_module_cpython_compiles_is_read_without_a_syntax_error() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut state = 0x5555_aaaa_3333_cccc_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let texts: Vec<String> = (0..20000)
        .map(|_| {
            let n = 2 + next() % 14;
            let body: String = (0..n)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            format!("revision = 'a'\n{body}\n")
        })
        .collect();
    let script = r#"
import sys, json, warnings
warnings.simplefilter("ignore")
for t in json.load(sys.stdin):
    try:
        compile(t, "m.py", "exec")
        print("ok")
    except (SyntaxError, ValueError):
        print("err")
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let json: Vec<String> = texts
        .iter()
        .map(|t| {
            let mut s = String::from("\"");
            for c in t.chars() {
                match c {
                    '"' => s.push_str("\\\""),
                    '\\' => s.push_str("\\\\"),
                    c if (c as u32) < 0x20 => s.push_str(&format!("\\u{:04x}", c as u32)),
                    c => s.push(c),
                }
            }
            s + "\""
        })
        .collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("[{}]", json.join(",")).as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let verdicts: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(verdicts.len(), texts.len());
    let mut valid = 0;
    for (text, verdict) in texts.iter().zip(verdicts) {
        if verdict == "ok" {
            valid += 1;
            if let Err(e) = parse_text("valid.py", text) {
                panic!("CPython compiles this module but we refused it: {e}\n---\n{text}---");
            }
        }
    }
    assert!(
        valid > 300,
        "only {valid} generated modules were valid Python"
    );
}
