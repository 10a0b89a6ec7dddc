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
    let path = fixtures().join(rel);
    let script = r#"
import sys, types
executed = []
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
ns = {"__name__": "revision"}
exec(compile(open(sys.argv[1], encoding="utf-8").read(), sys.argv[1], "exec"), ns)
ns["upgrade"]()
for s in executed:
    print(s.encode("utf-8").hex())
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| String::from_utf8(hex(l)).unwrap())
        .collect()
}

/// Decode lowercase hex.
pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}
