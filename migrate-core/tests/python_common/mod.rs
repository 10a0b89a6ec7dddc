//! Helpers shared by the `python_*` tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use migrate_core::python::parse_python_revision;
use migrate_core::Revision;

/// The folder of the Python fixtures.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python")
}

/// Parse a fixture file, panicking on errors.
pub fn parse_fixture(rel: &str) -> Revision {
    let path = fixtures().join(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    parse_python_revision(&path, &text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Parse source text as if it were the file `name`.
pub fn parse_text(name: &str, text: &str) -> migrate_core::Result<Revision> {
    parse_python_revision(Path::new(name), text)
}

/// Run the fixture's `upgrade()` under CPython with stub `alembic` and `sqlalchemy` modules and
/// return the strings passed to `execute`, in order.
pub fn cpython_executed(rel: &str) -> Vec<String> {
    let text = std::fs::read_to_string(fixtures().join(rel)).unwrap();
    cpython_runs(&[text])
        .pop()
        .flatten()
        .unwrap_or_else(|| panic!("CPython raised running {rel}"))
}

/// Decode lowercase hex.
pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Run the `upgrade()` of each module source under CPython (with stub `alembic`, `sqlalchemy`
/// and `sqlalchemy.dialects` modules, and the real `json` and `textwrap`), each in a fresh
/// namespace: the strings it passed to `execute`, in order, or `None` when CPython raised.
pub fn cpython_runs(sources: &[String]) -> Vec<Option<Vec<String>>> {
    let script = r#"
import sys, types, json
sources = json.load(sys.stdin)
class Bind:
    def execute(self, x):
        executed.append(x)
class Ctx:
    def autocommit_block(self):
        import contextlib
        return contextlib.nullcontext()
class Op:
    def execute(self, x):
        executed.append(x)
    def get_bind(self):
        return Bind()
    def get_context(self):
        return Ctx()
alembic = types.ModuleType("alembic")
alembic.op = Op()
sys.modules["alembic"] = alembic
sa = types.ModuleType("sqlalchemy")
sa.text = lambda s: s
sys.modules["sqlalchemy"] = sa
for src in sources:
    executed = []
    try:
        ns = {"__name__": "revision"}
        exec(compile(src, "revision.py", "exec"), ns)
        ns["upgrade"]()
    except Exception:
        print("ERR")
        continue
    print(" ".join(["OK"] + ["x" + s.encode("utf-8").hex() for s in executed]))
"#;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let json = format!(
        "[{}]",
        sources
            .iter()
            .map(|s| json_string(s))
            .collect::<Vec<_>>()
            .join(",")
    );
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(json.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Option<Vec<String>>> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            (l != "ERR").then(|| {
                l.split(' ')
                    .skip(1)
                    .map(|h| String::from_utf8(hex(&h[1..])).unwrap())
                    .collect()
            })
        })
        .collect();
    assert_eq!(lines.len(), sources.len());
    lines
}

/// `s` as a JSON string (for handing sources to Python).
pub fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// What `migrate` folds the `upgrade()` of `source` to: the SQL texts, or `None` when it
/// refuses the body (the refusal is printed, for a failing test's reader).
pub fn folded(source: &str) -> Option<Vec<String>> {
    let rev = parse_text("revision.py", source).unwrap_or_else(|e| panic!("{e}\n{source}"));
    match rev.upgrade {
        migrate_core::Migration::Sql(blocks) => Some(blocks.into_iter().map(|b| b.sql).collect()),
        migrate_core::Migration::Unrunnable(u) => {
            eprintln!("refused: {}:{} {}", u.line, u.column, u.construct);
            None
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// A small deterministic generator (xorshift: no external crates, same forms on every run).
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// One of `items`.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}
