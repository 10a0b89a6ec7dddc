//! In-process costs of the core on generated histories of 100, 1,000 and 10,000 revisions:
//! reading the files (both formats, in full and headers only), building the graph, `heads`, `history`, `current`,
//! planning `upgrade head` / `downgrade base`, and splitting statements.
//!
//! `cargo bench -p migrate-core --bench graph` prints one line per measurement (median of
//! several runs). Numbers are written down in BENCHMARKS.md, never asserted.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use migrate_core::{split, Contents, RevisionMap, ScriptDirectory, SplitRules};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Median time of `runs` calls of `f`; what `f` returns is dropped after the clock stops
/// (the CLI never frees its graph, so freeing is not part of any cost measured here).
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    let mut v = Vec::with_capacity(runs);
    let mut results = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        results.push(std::hint::black_box(f()));
        v.push(t.elapsed());
    }
    drop(results);
    median(v)
}

fn id(i: usize) -> String {
    format!("{:012x}", 0x1000_0000_0000u64 + (i as u64) * 7919)
}

fn write_project(dir: &Path, n: usize, python: bool) {
    std::fs::create_dir_all(dir).expect("bench dir");
    for i in 0..n {
        let rev = id(i);
        let down = if i == 0 { None } else { Some(id(i - 1)) };
        let text = if python {
            format!(
                "\"\"\"create table t{i}\n\nRevision ID: {rev}\nRevises: {}\nCreate Date: 2026-11-25 07:00:00.000000\n\n\"\"\"\nfrom alembic import op\n\n# revision identifiers, used by Alembic.\nrevision = '{rev}'\ndown_revision = {}\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    op.execute(\"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, name VARCHAR(50))\")\n    op.execute(\"INSERT INTO t{i} (id, name) VALUES (1, 'a'), (2, 'b')\")\n\n\ndef downgrade():\n    op.execute(\"DROP TABLE t{i}\")\n",
                down.clone().unwrap_or_default(),
                down.map(|d| format!("'{d}'")).unwrap_or_else(|| "None".into())
            )
        } else {
            format!(
                "-- create table t{i}\n--\n-- Revision ID: {rev}\n-- Revises: {}\n-- Create Date: 2026-11-25 07:00:00.000000\n\n-- migrate:upgrade\nCREATE TABLE t{i} (id INTEGER PRIMARY KEY, name VARCHAR(50));\nINSERT INTO t{i} (id, name) VALUES (1, 'a'), (2, 'b');\n\n-- migrate:downgrade\nDROP TABLE t{i};\n",
                down.unwrap_or_default()
            )
        };
        let ext = if python { "py" } else { "sql" };
        std::fs::write(dir.join(format!("{rev}_create_table_t{i}.{ext}")), text).expect("write");
    }
}

fn main() {
    let root = std::env::temp_dir().join(format!("migrate-bench-{}", std::process::id()));
    println!("{:<44} {:>8} {:>12}", "measurement", "N", "median");
    for &n in &[100usize, 1_000, 10_000] {
        let runs = if n >= 10_000 { 5 } else { 11 };
        for python in [false, true] {
            let dir: PathBuf = root.join(format!("{}-{n}", if python { "py" } else { "sql" }));
            write_project(&dir, n, python);
            let fmt = if python { "py" } else { "sql" };
            let load = time(runs, || {
                ScriptDirectory::load(std::slice::from_ref(&dir), false).expect("load")
            });
            println!(
                "{:<44} {n:>8} {:>12.3?}",
                format!("load files ({fmt})"),
                load
            );
            let headers = time(runs, || {
                ScriptDirectory::load_with(std::slice::from_ref(&dir), false, Contents::Header)
                    .expect("load")
            });
            println!(
                "{:<44} {n:>8} {:>12.3?}",
                format!("load headers only ({fmt})"),
                headers
            );
            let revs = ScriptDirectory::load(std::slice::from_ref(&dir), false)
                .expect("load")
                .revisions()
                .to_vec();
            // The graph alone: the revisions are cloned before the clock starts and the maps
            // are dropped after it stops.
            let build = {
                let mut inputs: Vec<_> = (0..runs).map(|_| revs.clone()).collect();
                let mut built = Vec::with_capacity(runs);
                let mut samples = Vec::with_capacity(runs);
                while let Some(input) = inputs.pop() {
                    let t = Instant::now();
                    built.push(RevisionMap::new(input).expect("graph"));
                    samples.push(t.elapsed());
                }
                median(samples)
            };
            println!(
                "{:<44} {n:>8} {:>12.3?}",
                format!("build graph ({fmt})"),
                build
            );
            if python {
                continue;
            }
            let map = RevisionMap::new(revs).expect("graph");
            let head = vec![map.heads()[0].id.clone()];
            let rows = [
                ("heads", time(runs, || map.heads().len())),
                (
                    "history (walk all)",
                    time(runs, || map.walk_all().expect("history").len()),
                ),
                (
                    "current (branch heads of rows)",
                    time(runs, || map.current_heads(&head).expect("current").len()),
                ),
                (
                    "plan upgrade head from empty",
                    time(runs, || {
                        map.plan_upgrade(&[], "head").expect("plan").steps.len()
                    }),
                ),
                (
                    "plan upgrade head at head",
                    time(runs, || {
                        map.plan_upgrade(&head, "head").expect("plan").steps.len()
                    }),
                ),
                (
                    "plan downgrade base from head",
                    time(runs, || {
                        map.plan_downgrade(&head, "base").expect("plan").steps.len()
                    }),
                ),
            ];
            for (what, d) in rows {
                println!("{what:<44} {n:>8} {d:>12.3?}");
            }
        }
    }
    let sql = "CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(50) DEFAULT 'a;b');\n-- comment; here\nINSERT INTO t VALUES (1, 'x''y'), (2, \"q\");\n".repeat(1000);
    let d = time(11, || split(&sql, SplitRules::default()).len());
    println!(
        "{:<44} {:>8} {:>12.3?}",
        "split 2,000 statements (128 KiB)", 2000, d
    );
    let _ = std::fs::remove_dir_all(&root);
}
