//! Compare the reader with CPython on a folder of real revision files (not in the repository).
//!
//! `PY_CORPUS=/path/to/files cargo test -p migrate-core --test python_corpus -- --ignored --nocapture`
//! reads every `*.py` there, and checks against CPython (`python3`): the four header values (via
//! `ast.literal_eval`), the message (the docstring as Alembic's `Script.doc` computes it), and,
//! for every direction we fold, the exact strings `upgrade()`/`downgrade()` pass to `execute`
//! when run with stub `alembic`/`sqlalchemy`/application modules.

mod python_common;

use std::io::Write;
use std::process::{Command, Stdio};

use migrate_core::Migration;
use python_common::{json_string, parse_text};

fn list(items: &[String]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|s| json_string(s))
            .collect::<Vec<_>>()
            .join(",")
    )
}

fn migration(m: &Migration) -> String {
    match m {
        Migration::Sql(blocks) => list(&blocks.iter().map(|b| b.sql.clone()).collect::<Vec<_>>()),
        Migration::Missing => "\"missing\"".into(),
        Migration::Unrunnable(_) => "null".into(),
        Migration::NotRead => panic!("the corpus is read in full"),
    }
}

const CHECK: &str = r#"
import ast, builtins, json, sys, types, warnings
warnings.simplefilter("ignore")

class Mock:
    def __init__(self, path, *rest): self._path = path if isinstance(path, str) else "class"
    def __getattr__(self, name):
        if name.startswith("__"): raise AttributeError(name)
        if name == "text" and self._path.startswith("sqlalchemy"): return lambda s: s
        if name == "dedent" and self._path == "textwrap": import textwrap; return textwrap.dedent
        return Mock(self._path + "." + name)
    def __call__(self, *a, **k): return Mock(self._path + "()")
    def __getitem__(self, k): return Mock(self._path + "[]")
    def __iter__(self): return iter(())
    def __or__(self, o): return self
    def __ror__(self, o): return self

executed = []
class Bind:
    def execute(self, x, *a, **k): executed.append(x)
    def __getattr__(self, name): return Mock("bind." + name)
class Ctx:
    def autocommit_block(self):
        import contextlib
        return contextlib.nullcontext()
    def __getattr__(self, name): return Mock("ctx." + name)
class Op:
    def execute(self, x, *a, **k): executed.append(x)
    def get_bind(self): return Bind()
    def get_context(self): return Ctx()
    def __getattr__(self, name): return Mock("op." + name)

real_import = builtins.__import__
def fake_import(name, globals=None, locals=None, fromlist=(), level=0):
    top = name.split(".")[0]
    if level == 0 and top in sys.stdlib_module_names and top not in ("sqlite3",):
        return real_import(name, globals, locals, fromlist, level)
    if name == "alembic" or name.startswith("alembic."):
        m = Mock("alembic")
        m.op = Op()
        object.__setattr__(m, "op", Op())
        return m
    return Mock(name if fromlist else top)

def header(tree, var):
    value = None
    for node in tree.body:
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        for t in targets:
            if isinstance(t, ast.Name) and t.id == var:
                value = ast.literal_eval(node.value)
    if value is None: return []
    if isinstance(value, str): return [value]
    return list(value)

bad = 0
for line in sys.stdin:
    ours = json.loads(line)
    path = ours["path"]
    src = open(path, encoding="utf-8").read()
    tree = ast.parse(src)
    doc = ast.get_docstring(tree, clean=False) or ""
    theirs = {
        "id": header(tree, "revision")[0],
        "down": header(tree, "down_revision"),
        "labels": header(tree, "branch_labels"),
        "depends": header(tree, "depends_on"),
        "message": doc.strip().split("\n\n")[0],
    }
    for k, v in theirs.items():
        if ours[k] != v:
            bad += 1
            print(f"MISMATCH {path} {k}: ours {ours[k]!r} python {v!r}")
    for fn in ("upgrade", "downgrade"):
        if not isinstance(ours[fn], list):
            continue
        builtins.__import__ = fake_import
        executed.clear()
        try:
            ns = {"__name__": "rev"}
            exec(compile(src, path, "exec"), ns)
            ns[fn]()
        except Exception as e:
            bad += 1
            print(f"MISMATCH {path} {fn}: python raised {e!r}")
            continue
        finally:
            builtins.__import__ = real_import
        got = [s for s in executed if not (isinstance(s, str) and s.strip().lower() == "commit")]
        if got != ours[fn]:
            bad += 1
            print(f"MISMATCH {path} {fn}: ours {ours[fn]!r} python {got!r}")
print(f"checked, {bad} mismatches")
sys.exit(1 if bad else 0)
"#;

#[test]
#[ignore = "needs PY_CORPUS=<folder of revision files>"]
fn real_revision_files_read_as_cpython_reads_them() {
    let Ok(dir) = std::env::var("PY_CORPUS") else {
        panic!("set PY_CORPUS to a folder of Alembic revision files");
    };
    let mut files: Vec<_> = walk(std::path::Path::new(&dir));
    files.sort();
    let mut lines = String::new();
    let (mut folded, mut unrunnable, mut errors) = (0, 0, 0);
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        match parse_text(&path.to_string_lossy(), &text) {
            Ok(rev) => {
                for m in [&rev.upgrade, &rev.downgrade] {
                    match m {
                        Migration::Sql(_) => folded += 1,
                        Migration::Unrunnable(u) => {
                            unrunnable += 1;
                            if std::env::var("PY_CORPUS_VERBOSE").is_ok() {
                                println!(
                                    "{}:{}:{}: {}",
                                    path.display(),
                                    u.line,
                                    u.column,
                                    u.construct
                                );
                            }
                        }
                        Migration::Missing => {}
                        Migration::NotRead => panic!("the corpus is read in full"),
                    }
                }
                lines.push_str(&format!(
                    "{{\"path\":{},\"id\":{},\"down\":{},\"labels\":{},\"depends\":{},\"message\":{},\"upgrade\":{},\"downgrade\":{}}}\n",
                    json_string(&path.to_string_lossy()),
                    json_string(&rev.id),
                    list(&rev.down_revisions),
                    list(&rev.branch_labels),
                    list(&rev.depends_on),
                    json_string(&rev.message),
                    migration(&rev.upgrade),
                    migration(&rev.downgrade),
                ));
            }
            Err(e) => {
                errors += 1;
                println!("ERROR {e}");
            }
        }
    }
    println!(
        "{} files: {folded} directions folded, {unrunnable} unrunnable, {errors} errors",
        files.len()
    );
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(CHECK)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(lines.as_bytes())
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success() && errors == 0);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
    out
}
