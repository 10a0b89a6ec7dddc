#!/usr/bin/env python3
"""`migrate lint` on the 10,000-revision chain projects (.sql and .py, made by bench.py's
generator), and squawk on the same SQL (the .sql revision files, whose directives are SQL
comments), in the same run: the commands take turns, A B A B ..., so a drift in the
machine's load falls on both. Reports min / median / max of wall and CPU seconds per command
(CPU = user + system of the finished child, from wait4).

    cargo build --release -p migrate-cli
    pip install squawk-cli==2.70.0
    python3 bench/lint.py [--n 10000] [--reps 5] [--work /tmp/migrate-lint-bench]

Standard library only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the generator of the other benchmarks)

MIGRATE = bench.ROOT / "target" / "release" / "migrate"
LINT_TOML = 'script_location = "migrations"\n\n[lint]\ndialect = "postgresql"\n'


def project(work: Path, n: int, fmt: str) -> Path:
    d = work / f"chain-{n}-{fmt}"
    versions = d / "migrations" / "versions"
    if not (d / ".done").exists():
        versions.mkdir(parents=True, exist_ok=True)
        for r in bench.make_revs("chain", n):
            text = bench.render_py(r) if fmt == "py" else bench.render_sql(r)
            (versions / f"{r.id}_create_{r.table}.{fmt}").write_text(text)
        (d / "lint.toml").write_text(LINT_TOML)
        (d / ".done").write_text("")
    return d


def timed(argv: list[str], cwd: Path) -> tuple[float, float]:
    start = time.monotonic()
    p = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(p.pid, 0)
    return time.monotonic() - start, usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--work", default="/tmp/migrate-lint-bench")
    args = ap.parse_args()
    work = Path(args.work)
    sql, py = project(work, args.n, "sql"), project(work, args.n, "py")
    commands = {
        "migrate lint (.sql)": ([str(MIGRATE), "-c", "lint.toml", "lint", "--format", "json"], sql),
        "migrate lint (.py)": ([str(MIGRATE), "-c", "lint.toml", "lint", "--format", "json"], py),
        "squawk (same SQL)": (["squawk", "migrations/versions/*.sql"], sql),
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for rep in range(args.reps + 1):
        for name, (argv, cwd) in commands.items():
            t = timed(argv, cwd)
            if rep > 0:  # the first round warms the page cache
                results[name].append(t)
    print(f"N = {args.n}, {args.reps} runs each, in turn")
    print("| command | wall min / median / max (s) | CPU min / median / max (s) |")
    print("|---|---|---|")
    for name, runs in results.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        fmt = lambda xs: f"{min(xs):.3f} / {statistics.median(xs):.3f} / {max(xs):.3f}"  # noqa: E731
        print(f"| {name} | {fmt(walls)} | {fmt(cpus)} |")


if __name__ == "__main__":
    main()
