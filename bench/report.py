#!/usr/bin/env python3
"""Summarises one or more results files of bench.py as Markdown tables (medians).

    python3 bench/report.py bench/results/RUN.jsonl [MORE.jsonl ...]

Later files win for the same measurement (so a re-run of one backend can replace its rows).
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict

BACKENDS = ["sqlite", "postgresql", "mariadb"]
NAMES = {"sqlite": "SQLite (file)", "postgresql": "PostgreSQL", "mariadb": "MariaDB"}


def load(paths):
    groups: dict[tuple, dict] = {}
    machines = []
    for p in paths:
        per_file: dict[tuple, list] = defaultdict(list)
        with open(p) as f:
            for line in f:
                rec = json.loads(line)
                if "machine" in rec:
                    machines.append(rec["machine"])
                    continue
                if "command" not in rec:
                    continue
                key = (rec["backend"], rec["n"], rec["shape"], rec["format"], rec["tool"],
                       rec["mode"], rec["command"])
                per_file[key].append(rec)
        groups.update(per_file)
    return groups, machines


def fmt_t(x):
    if x is None:
        return "-"
    if x < 1:
        return f"{x * 1000:.0f} ms" if x >= 0.1 else f"{x * 1000:.1f} ms"
    return f"{x:.2f} s" if x < 10 else f"{x:.1f} s"


def fmt_mem(kib):
    return "-" if kib is None else f"{kib / 1024:.1f}"


class Stats:
    def __init__(self, groups):
        self.g = groups

    def recs(self, *key):
        return [r for r in self.g.get(key, []) if r.get("ok")]

    def med(self, *key):
        rs = self.recs(*key)
        return statistics.median(r["wall"] for r in rs) if rs else None

    def peak(self, *key):
        rs = self.recs(*key)
        return max(r["rss_kib"] for r in rs) if rs else None

    def count(self, *key):
        return len(self.recs(*key))

    def failed(self, *key):
        return [r for r in self.g.get(key, []) if not r.get("ok")]


def ratio(a, b):
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def times(alembic, migrate):
    """How many times longer Alembic takes."""
    if alembic is None or migrate is None or migrate == 0:
        return "-"
    x = alembic / migrate
    return f"{x:.1f}x" if x < 10 else f"{x:.0f}x"


def main(paths):
    groups, machines = load(paths)
    st = Stats(groups)
    ns = sorted({k[1] for k in groups})
    shapes = [s for s in ("chain", "graph") if any(k[2] == s for k in groups)]
    out = []
    w = out.append
    if machines:
        m = machines[-1]
        w(f"Machine: {m.get('nproc')} cores, {m.get('cpu')}, {m.get('memory')}; {m.get('date')}; "
          f"load average at start {m.get('loadavg')}; migrate {m.get('migrate_version', '?')} "
          f"({m.get('migrate_commit', '?')}); {m.get('alembic', '?')}")
        w("")

    for cmd in ("upgrade", "downgrade"):
        w(f"### `{cmd} {'head' if cmd == 'upgrade' else 'base'}` (median wall time; ratio = migrate / floor of the same transaction mode; Alembic / migrate = how many times longer Alembic takes)")
        w("")
        w("| backend | N | shape | floor one tx | migrate default (.sql) | ratio | migrate default (.py) | floor tx per rev | migrate per-migration (.sql) | ratio | Alembic (.py) | Alembic / migrate | runs |")
        w("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for be in BACKENDS:
            for n in ns:
                for shape in shapes:
                    f1 = st.med(be, n, shape, "-", "floor", "one-tx", cmd)
                    fp = st.med(be, n, shape, "-", "floor", "per-migration", cmd)
                    ms = st.med(be, n, shape, "sql", "migrate", "default", cmd)
                    mp = st.med(be, n, shape, "py", "migrate", "default", cmd)
                    mps = st.med(be, n, shape, "sql", "migrate", "per-migration", cmd)
                    al = st.med(be, n, shape, "py", "alembic", "default", cmd)
                    if all(x is None for x in (f1, fp, ms, mp, mps, al)):
                        continue
                    runs = st.count(be, n, shape, "sql", "migrate", "default", cmd) or st.count(
                        be, n, shape, "-", "floor", "one-tx", cmd)
                    w(f"| {NAMES[be]} | {n:,} | {shape} | {fmt_t(f1)} | {fmt_t(ms)} | {ratio(ms, f1)} | {fmt_t(mp)} | "
                      f"{fmt_t(fp)} | {fmt_t(mps)} | {ratio(mps, fp)} | {fmt_t(al)} | {times(al, ms if ms is not None else mp)} | {runs} |")
        w("")

    w("### Fixed costs and listings (median wall time; migrate reads the .sql project unless marked)")
    w("")
    w("| backend | N | shape | command | migrate (.sql) | migrate (.py) | Alembic | Alembic / migrate | runs |")
    w("|---|---|---|---|---|---|---|---|---|")
    for be in BACKENDS:
        for n in ns:
            for shape in shapes:
                for cmd in ("upgrade-at-head", "current", "heads", "history"):
                    ms = st.med(be, n, shape, "sql", "migrate", "default", cmd)
                    mp = st.med(be, n, shape, "py", "migrate", "default", cmd)
                    al = st.med(be, n, shape, "py", "alembic", "default", cmd)
                    if ms is None and mp is None and al is None:
                        continue
                    runs = st.count(be, n, shape, "sql", "migrate", "default", cmd)
                    w(f"| {NAMES[be]} | {n:,} | {shape} | {cmd.replace('upgrade-at-head', 'upgrade head (at head)')} | "
                      f"{fmt_t(ms)} | {fmt_t(mp)} | {fmt_t(al)} | {times(al, ms if ms is not None else mp)} | {runs} |")
    for n in ns:
        g = st.med("-", n, "chain", "sql", "grep", "-", "read-all-files")
        if g is not None:
            w(f"| (grep) | {n:,} | chain | `grep -rh '^-- Revision ID:'` over versions/ | {fmt_t(g)} | | | | |")
    w("")

    w("### Peak memory (MiB, max RSS over the runs; the floor's is the client process only)")
    w("")
    w("| backend | N | shape | command | floor (one tx) | migrate default (.sql) | migrate default (.py) | migrate per-migration (.sql) | Alembic |")
    w("|---|---|---|---|---|---|---|---|---|")
    for be in BACKENDS:
        for n in ns:
            for shape in shapes:
                for cmd in ("upgrade", "downgrade", "upgrade-at-head", "current", "heads", "history"):
                    vals = [st.peak(be, n, shape, "-", "floor", "one-tx", cmd),
                            st.peak(be, n, shape, "sql", "migrate", "default", cmd),
                            st.peak(be, n, shape, "py", "migrate", "default", cmd),
                            st.peak(be, n, shape, "sql", "migrate", "per-migration", cmd),
                            st.peak(be, n, shape, "py", "alembic", "default", cmd)]
                    if all(v is None for v in vals):
                        continue
                    w(f"| {NAMES[be]} | {n:,} | {shape} | {cmd} | " + " | ".join(fmt_mem(v) for v in vals) + " |")
    w("")

    w("### Growth from 100 to 10,000 revisions (chain; time at N / time at 100; linear = 10x, 100x)")
    w("")
    w("| backend | tool | mode | command | " + " | ".join(f"N={n:,}" for n in ns) + " | 1,000/100 | 10,000/1,000 |")
    w("|---|---|---|---|" + "---|" * len(ns) + "---|---|")
    for be in BACKENDS:
        for tool, fmt, mode in (("floor", "-", "one-tx"), ("floor", "-", "per-migration"),
                                ("migrate", "sql", "default"), ("migrate", "sql", "per-migration"),
                                ("migrate", "py", "default"), ("alembic", "py", "default")):
            for cmd in ("upgrade", "downgrade", "upgrade-at-head", "current", "heads", "history"):
                vals = {n: st.med(be, n, "chain", fmt, tool, mode, cmd) for n in ns}
                if sum(v is not None for v in vals.values()) < 2:
                    continue
                label = f"{tool} ({fmt})" if tool == "migrate" else tool
                w(f"| {NAMES[be]} | {label} | {mode} | {cmd} | " + " | ".join(fmt_t(vals[n]) for n in ns) +
                  f" | {ratio(vals.get(1000), vals.get(100))} | {ratio(vals.get(10000), vals.get(1000))} |")
    w("")

    fails = [r for rs in groups.values() for r in rs if not r.get("ok")]
    if fails:
        w(f"### Failed runs ({len(fails)})")
        w("")
        for r in fails:
            w(f"- {r['tool']} {r['command']} {r['backend']} N={r['n']} {r['shape']} {r['format']} {r['mode']}: "
              f"{' '.join(r.get('error', '').split())[-300:]}")
        w("")
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
