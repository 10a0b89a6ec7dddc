#!/usr/bin/env python3
"""Ask real Alembic 1.20 for the plans that `migrate-core`'s planner must reproduce.

Run with the oracle's venv (see ../../../../shared/alembic-oracle/setup.sh):

    PYTHONHASHSEED=0 /opt/alembic-venv/bin/python gen_plan_cases.py > plan_cases.txt

For every graph below it writes the revisions, then replays command sequences from an empty
version table through Alembic's own planner (`ScriptDirectory._upgrade_revs`,
`_downgrade_revs`, `_stamp_revs`) and its `HeadMaintainer`, recording each step's revision and
version-table changes, the rows after each command, or the error Alembic raises. Alembic sees
no database here: the rows are carried from command to command, exactly as the version table
would carry them.
"""
import os
import sys
import tempfile

from alembic import util
from alembic.config import Config
from alembic.runtime.migration import HeadMaintainer, RevisionStep
from alembic.script import ScriptDirectory

# name -> list of (rev, down_revisions, depends_on, branch_labels); file order = list order
GRAPHS = {
    "linear": [
        ("a1a1", [], [], []),
        ("b2b2", ["a1a1"], [], []),
        ("c3c3", ["b2b2"], [], []),
        ("d4d4", ["c3c3"], [], []),
    ],
    "two_roots": [
        ("a1a1", [], [], ["alpha"]),
        ("a2a2", ["a1a1"], [], []),
        ("b1b1", [], [], ["beta"]),
        ("b2b2", ["b1b1"], [], []),
    ],
    "branch_merge": [
        ("base0000", [], [], []),
        ("left1111", ["base0000"], [], []),
        ("right222", ["base0000"], [], []),
        ("left3333", ["left1111"], [], []),
        ("merge444", ["left3333", "right222"], [], []),
        ("top55555", ["merge444"], [], []),
    ],
    "merge3": [
        ("root0000", [], [], []),
        ("pa111111", ["root0000"], [], []),
        ("pb222222", ["root0000"], [], []),
        ("pc333333", ["root0000"], [], []),
        ("m3444444", ["pa111111", "pb222222", "pc333333"], [], []),
    ],
    "labels": [
        ("core0001", [], [], ["core"]),
        ("core0002", ["core0001"], [], []),
        ("core0003", ["core0002"], [], []),
        ("feat0001", ["core0001"], [], ["feature"]),
        ("feat0002", ["feat0001"], [], []),
    ],
    "depends": [
        ("usr00001", [], [], ["users"]),
        ("usr00002", ["usr00001"], [], []),
        ("ord00001", [], ["usr00002"], ["orders"]),
        ("ord00002", ["ord00001"], [], []),
        ("usr00003", ["usr00002"], [], []),
    ],
    "depends_label": [
        ("aaaa0001", [], [], ["auth"]),
        ("aaaa0002", ["aaaa0001"], [], []),
        ("bbbb0001", [], ["auth"], ["billing"]),
        ("bbbb0002", ["bbbb0001"], ["aaaa0001"], []),
    ],
    "branch_point_walk": [
        ("r0000000", [], [], []),
        ("r1000000", ["r0000000"], [], []),
        ("x2000000", ["r1000000"], [], ["xb"]),
        ("y2000000", ["r1000000"], [], ["yb"]),
        ("x3000000", ["x2000000"], [], []),
    ],
}

def _diamonds(n):
    """Every third revision a branch point, the next two its branches, then a merge; plus a
    second root joined by a dependency, so that walks meet several heads at once."""
    revs, prev = [], None
    for i in range(n):
        rid = "d%03d%04d" % (i, i)
        if i % 4 == 1 or i % 4 == 2:
            down = [prev_bp]
        elif i % 4 == 3:
            down = [revs[-2][0], revs[-1][0]]
        else:
            down = [prev] if prev else []
        deps = ["e0000000"] if i == 9 else []
        revs.append((rid, down, deps, []))
        if i % 4 == 0:
            prev_bp = rid
        prev = rid
    revs.append(("e0000000", [], [], ["side"]))
    revs.append(("e1111111", ["e0000000"], [], []))
    return revs


GRAPHS["diamonds"] = _diamonds(33)

# command sequences, each from an empty version table
SEQUENCES = {
    "linear": [
        ["upgrade head", "downgrade base"],
        ["upgrade +2", "upgrade +1", "downgrade -1", "downgrade -2", "upgrade heads"],
        ["upgrade b2b2", "upgrade d4d4", "downgrade b2b2", "downgrade c3c3"],
        ["upgrade c3c3+1", "downgrade d4d4-3", "downgrade -1"],
        ["upgrade +5"],
        ["upgrade head", "downgrade -5"],
        ["downgrade -1"],
        ["upgrade zzzz"],
        ["upgrade b2"],
        ["stamp c3c3", "upgrade head", "stamp b2b2", "stamp base"],
        ["stamp head", "stamp d4d4 --purge"],
        ["upgrade head", "upgrade head", "upgrade d4d4"],
    ],
    "two_roots": [
        ["upgrade heads", "downgrade base"],
        ["upgrade head"],
        ["upgrade alpha@head", "upgrade beta@head", "downgrade alpha@base", "downgrade beta@-1"],
        ["upgrade a1a1", "upgrade b1b1", "upgrade heads", "downgrade a1a1"],
        ["upgrade beta@+1", "upgrade alpha@+2"],
        ["stamp heads", "downgrade alpha@base", "stamp base"],
        ["upgrade heads", "downgrade b1b1"],
        ["stamp a2a2 b2b2", "stamp alpha@base"],
    ],
    "branch_merge": [
        ["upgrade head", "downgrade base"],
        ["upgrade left3333", "upgrade right222", "upgrade head", "downgrade merge444", "downgrade -1"],
        ["upgrade right222", "upgrade left1111", "downgrade base"],
        ["upgrade head", "downgrade right222", "downgrade base"],
        ["upgrade head", "downgrade left1111"],
        ["upgrade merge444", "downgrade base0000"],
        ["upgrade +2"],
        ["upgrade base0000", "upgrade +1"],
        ["upgrade right222", "upgrade left1111", "upgrade +1"],
        ["upgrade top55555", "downgrade -2", "downgrade -1"],
        ["stamp left3333", "stamp right222", "upgrade heads"],
        ["stamp head", "stamp left1111", "stamp base"],
        ["upgrade left1111", "stamp merge444", "downgrade base"],
    ],
    "merge3": [
        ["upgrade head", "downgrade base"],
        ["upgrade pa111111", "upgrade pb222222", "upgrade pc333333", "upgrade head", "downgrade -1"],
        ["upgrade head", "downgrade pb222222"],
        ["upgrade head", "downgrade root0000"],
        ["upgrade pa111111", "upgrade head"],
    ],
    "labels": [
        ["upgrade heads", "downgrade feature@base", "downgrade core@base"],
        ["upgrade core@head", "upgrade feature@head", "downgrade core@-1", "downgrade feature@-1"],
        ["upgrade feature@+1", "upgrade feature@+1", "upgrade core@+1"],
        ["upgrade head"],
        ["upgrade core@feat0002"],
        ["upgrade heads", "downgrade core0001"],
        ["upgrade feat0002", "downgrade base"],
        ["upgrade core0003", "stamp feature@head", "downgrade base"],
    ],
    "depends": [
        ["upgrade heads", "downgrade base"],
        ["upgrade ord00002", "downgrade usr00001"],
        ["upgrade orders@head", "downgrade users@base"],
        ["upgrade usr00003", "upgrade orders@head", "downgrade orders@base", "downgrade base"],
        ["upgrade heads", "downgrade usr00002"],
        ["upgrade ord00001", "upgrade usr00003", "downgrade -1"],
        ["stamp ord00002", "upgrade heads"],
    ],
    "depends_label": [
        ["upgrade heads", "downgrade base"],
        ["upgrade bbbb0002", "downgrade auth@base"],
        ["upgrade billing@head", "upgrade auth@head", "downgrade billing@base"],
    ],
    "diamonds": [
        ["upgrade heads", "downgrade base"],
        ["upgrade d013" + "0013", "upgrade heads", "downgrade d004" + "0004"],
        ["upgrade side@head", "upgrade d021" + "0021", "downgrade side@base"],
    ],
    "branch_point_walk": [
        ["upgrade +2", "upgrade +1"],
        ["upgrade +2", "upgrade xb@+1", "upgrade yb@+1", "downgrade xb@-1", "downgrade yb@-2"],
        ["upgrade heads", "downgrade -1"],
        ["upgrade xb@head", "upgrade yb@head", "downgrade r1000000"],
        ["upgrade heads", "downgrade xb@base"],
        ["upgrade head"],
        ["upgrade r1000000+2"],
        ["upgrade x3000000", "downgrade -3", "upgrade xb@+3"],
    ],
}

# history ranges (as `history -r RANGE`), per graph, after the generic ones
HISTORY_GENERIC = [None, "base:heads", "base:", ":heads", "-1:", "-2:", "-100:"]
HISTORY = {
    "diamonds": ["d008" + "0008:", ":d017" + "0017", "side@base:"],
    "linear": ["b2b2:d4d4", "b2b2:", ":c3c3", "c3c3:b2b2", "b2b2:+1", "a1a1+1:", "zzzz:"],
    "two_roots": ["alpha@base:alpha@head", "beta@base:", "a1a1:b2b2"],
    "branch_merge": ["left1111:", ":right222", "right222:top55555", "left1111:right222"],
    "merge3": ["pa111111:", ":m3444444"],
    "labels": ["core@base:core@head", "feature@base:feature@head", "feat0001:"],
    "depends": ["usr00002:", "orders@base:orders@head", ":ord00002"],
    "depends_label": ["aaaa0001:", ":bbbb0002"],
    "branch_point_walk": ["xb@base:xb@head", "r1000000:", ":y2000000"],
}

# identifiers as `show` resolves them
SHOW = ["head", "heads", "base", "a1a1", "b2b2", "c3c3", "-1", "feature@head", "core@head",
        "alpha@head", "xb@head", "xb@-1", "left", "r100", "m3444444", "auth", "orders@head"]

HEADER = '''"""rev {rev}

Revision ID: {rev}
"""
revision = {rev!r}
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = {deps!r}


def upgrade():
    pass


def downgrade():
    pass
'''


def tup(xs):
    if not xs:
        return None
    if len(xs) == 1:
        return xs[0]
    return tuple(xs)


class Recorder(HeadMaintainer):
    def __init__(self, heads):
        self.heads = set(heads)
        self.changes = []

    def _insert_version(self, version):
        assert version not in self.heads
        self.heads.add(version)
        self.changes.append("insert %s" % version)

    def _delete_version(self, version):
        self.heads.remove(version)
        self.changes.append("delete %s" % version)

    def _update_version(self, from_, to_):
        assert to_ not in self.heads
        self.heads.remove(from_)
        self.heads.add(to_)
        self.changes.append("update %s %s" % (from_, to_))


def run(script, rows, cmd):
    words = cmd.split()
    verb, args = words[0], words[1:]
    purge = "--purge" in args
    args = [a for a in args if a != "--purge"]
    if verb == "upgrade":
        steps = script._upgrade_revs(args[0], tuple(rows))
    elif verb == "downgrade":
        steps = script._downgrade_revs(args[0], tuple(rows))
    elif verb == "stamp":
        if purge:
            rows = []
        steps = script._stamp_revs(tuple(args), tuple(rows))
    else:
        raise SystemExit("unknown verb " + verb)
    rec = Recorder(rows)
    out = []
    for step in steps:
        before = len(rec.changes)
        rec.update_to_step(step)
        if isinstance(step, RevisionStep):
            label = ("up " if step.is_upgrade else "down ") + step.revision.revision
        else:
            label = "stamp"
        out.append("step %s | %s" % (label, "; ".join(rec.changes[before:])))
    return out, sorted(rec.heads)


def main():
    for name, revs in GRAPHS.items():
        tmp = tempfile.mkdtemp()
        versions = os.path.join(tmp, "versions")
        os.makedirs(versions)
        for i, (rev, down, deps, labels) in enumerate(revs):
            with open(os.path.join(versions, "%02d_%s.py" % (i, rev)), "w") as f:
                f.write(HEADER.format(rev=rev, down=tup(down), deps=tup(deps), labels=tup(labels)))
        cfg = Config()
        cfg.set_main_option("script_location", tmp)
        script = ScriptDirectory.from_config(cfg)
        print("graph %s" % name)
        for rev, down, deps, labels in revs:
            print("rev %s down=%s deps=%s labels=%s" % (rev, ",".join(down), ",".join(deps), ",".join(labels)))
        for seq in SEQUENCES[name]:
            print("sequence")
            rows = []
            for cmd in seq:
                print("cmd %s" % cmd)
                try:
                    steps, rows = run(script, rows, cmd)
                except (util.CommandError, Exception) as e:  # noqa: BLE001 - Alembic's own error
                    print("error %s: %s" % (type(e).__name__, str(e).splitlines()[0]))
                    break
                for s in steps:
                    print(s)
                print("rows %s" % " ".join(rows))
        for rng in HISTORY_GENERIC + HISTORY[name]:
            print("history %s" % (rng if rng is not None else "-"))
            try:
                if rng is None:
                    base = head = None
                else:
                    base, head = rng.split(":")
                revs = list(script.walk_revisions(base=base or "base", head=head or "heads"))
                print("ids %s" % " ".join(r.revision for r in revs))
            except Exception as e:  # noqa: BLE001 - Alembic's own error
                print("error %s: %s" % (type(e).__name__, str(e).splitlines()[0]))
        for ident in SHOW:
            print("show %s" % ident)
            try:
                revs = script.get_revisions(ident)
                print("ids %s" % " ".join(r.revision for r in revs if r is not None))
            except Exception as e:  # noqa: BLE001 - Alembic's own error
                print("error %s: %s" % (type(e).__name__, str(e).splitlines()[0]))
        print("heads %s" % " ".join(script.get_heads()))
        print("end")


if __name__ == "__main__":
    main()
