#!/usr/bin/env python3
"""Ask real Alembic 1.20.1 how it words the graph's load and resolution errors.

Run with the oracle's venv (`$VENV`, default /opt/alembic-venv):

    PYTHONHASHSEED=0 /opt/alembic-venv/bin/python gen_graph_errors.py > graph_errors.txt

For every case below it writes the revisions as `.py` files in a scratch versions folder,
loads them with Alembic's ScriptDirectory, then does what the case asks (nothing more than
loading the graph, planning `upgrade`/`downgrade` from given rows, or creating a revision),
and writes what Alembic said: each warning, then the error (its first line) or `ok`:

    === CASE
    warning: MESSAGE
    error: MESSAGE

Alembic names the two revisions of a branch label used twice in either order (it walks a
set); that message is written with them in name order, and a line `note: either order`.
"""
import re
import os
import tempfile
import warnings

from alembic import command, util
from alembic.config import Config
from alembic.script import ScriptDirectory

HEADER = '''"""rev {rev}"""
revision = {rev!r}
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = {deps!r}
'''

MAKO = '''"""${message}"""
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}
'''


def rev(id, down=(), deps=(), labels=(), file=None):
    return dict(rev=id, down=down, deps=deps, labels=labels, file=file or id)


# name -> (revisions, action); an action is ("load",), ("upgrade", TARGET, ROWS),
# ("downgrade", TARGET, ROWS) or ("revision", HEAD, SPLICE)
CASES = {
    "duplicate_id": ([rev("aaaa"), rev("aaaa", file="other")], ("load",)),
    "unknown_parent": ([rev("aaaa"), rev("bbbb", ["zzzz"])], ("load",)),
    "unknown_dependency": ([rev("aaaa"), rev("bbbb", ["aaaa"], deps=["nope"])], ("load",)),
    "cycle": ([rev("aaaa", ["bbbb"]), rev("bbbb", ["aaaa"])], ("load",)),
    "cycle_without_head": (
        [rev("root"), rev("aaaa", ["root", "bbbb"]), rev("bbbb", ["aaaa"])],
        ("load",),
    ),
    "self_loop": ([rev("aaaa", ["aaaa"])], ("load",)),
    "dependency_cycle": (
        [rev("aaaa", deps=["bbbb"]), rev("bbbb", deps=["aaaa"])],
        ("load",),
    ),
    "label_used_twice": (
        [rev("aaaa", labels=["core"]), rev("bbbb", labels=["core"])],
        ("load",),
    ),
    "illegal_character": ([rev("ab-cd")], ("load",)),
    "ambiguous_prefix": (
        [rev("ae1027a6acf"), rev("ae10bbbbbbb", ["ae1027a6acf"]), rev("ae10ccccccc", ["ae1027a6acf"])],
        ("upgrade", "ae10", []),
    ),
    "multiple_heads": (
        [rev("ae1027a6acf"), rev("ae10bbbbbbb", ["ae1027a6acf"]), rev("ae10ccccccc", ["ae1027a6acf"])],
        ("upgrade", "head", []),
    ),
    "unknown_revision": (
        [rev("ae1027a6acf"), rev("ae10bbbbbbb", ["ae1027a6acf"]), rev("ae10ccccccc", ["ae1027a6acf"])],
        ("upgrade", "ffff", []),
    ),
    "relative_past_branch": (
        [rev("ae1027a6acf"), rev("ae10bbbbbbb", ["ae1027a6acf"]), rev("ae10ccccccc", ["ae1027a6acf"])],
        ("upgrade", "+2", []),
    ),
    "relative_overrun": ([rev("aaaa"), rev("bbbb", ["aaaa"])], ("upgrade", "+4", [])),
    "downgrade_not_below": (
        [rev("ae1027a6acf"), rev("ae10bbbbbbb", ["ae1027a6acf"]), rev("ae10ccccccc", ["ae1027a6acf"])],
        ("downgrade", "ae10bbbb", ["ae1027a6acf"]),
    ),
    "new_revision_not_on_a_head": (
        [rev("aaaa"), rev("bbbb", ["aaaa"])],
        ("revision", "aaaa", False),
    ),
}


def tup(xs):
    xs = list(xs)
    if not xs:
        return None
    return xs[0] if len(xs) == 1 else tuple(xs)


def first_line(e):
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def run(revs, action):
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        versions = os.path.join(tmp, "versions")
        os.makedirs(versions)
        for r in revs:
            with open(os.path.join(versions, r["file"] + ".py"), "w") as f:
                f.write(HEADER.format(rev=r["rev"], down=tup(r["down"]), deps=tup(r["deps"]),
                                      labels=tup(r["labels"])))
        with open(os.path.join(tmp, "script.py.mako"), "w") as f:
            f.write(MAKO)
        cfg = Config()
        cfg.set_main_option("script_location", tmp)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                script = ScriptDirectory.from_config(cfg)
                if action[0] == "load":
                    script.revision_map.heads  # noqa: B018 - builds and checks the graph
                elif action[0] == "upgrade":
                    list(script._upgrade_revs(action[1], tuple(action[2])))
                elif action[0] == "downgrade":
                    list(script._downgrade_revs(action[1], tuple(action[2])))
                elif action[0] == "revision":
                    command.revision(cfg, message="new", rev_id="cccc", head=action[1],
                                     splice=action[2])
                result = "ok"
            except (util.CommandError, Exception) as e:  # noqa: BLE001 - Alembic's own error
                result = "error: " + first_line(e)
        for w in caught:
            out.append("warning: " + str(w.message).splitlines()[0])
        out.append(result)
    return out


LABEL_TWICE = re.compile(r"(.* in revision )(\S+)( already used by revision )(\S+)(.*)")


def main():
    for name, (revs, action) in CASES.items():
        print(f"=== {name}")
        for line in run(revs, action):
            match = LABEL_TWICE.fullmatch(line)
            if match:
                before, a, middle, b, after = match.groups()
                a, b = sorted([a, b])
                line = f"{before}{a}{middle}{b}{after}"
            print(line)
            if match:
                print("note: either order")


if __name__ == "__main__":
    main()
