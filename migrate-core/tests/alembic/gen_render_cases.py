#!/usr/bin/env python3
"""Ask real Alembic 1.20.1 for the `.py` revision files `migrate revision --format py` writes.

Run with the oracle's venv (`$VENV`, default /opt/alembic-venv):

    PYTHONHASHSEED=0 /opt/alembic-venv/bin/python gen_render_cases.py > render_cases.txt

`alembic init` makes a scratch project (the `generic` template), then `alembic revision` and
`alembic merge` (through `alembic.command`) create the revisions below in order, each with the
create date given here instead of the clock's. For each file it writes what the renderer is
given (read back from the file with `ast`, as Alembic resolved `--head`, `--splice` and
`merge heads`) and what Alembic wrote:

    === ID
    message<TAB>MESSAGE      (empty for none: `alembic revision` without `-m`)
    down<TAB>ID...           (tab-separated, possibly none)
    labels<TAB>LABEL...
    depends<TAB>ID...
    date<TAB>CREATE DATE
    file<TAB>FILE NAME
    text N                   (then the N lines of the file)
"""
import ast
import contextlib
import datetime
import io
import os
import tempfile
from unittest import mock

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

# (command, id, create date, keyword arguments); in order, each on what came before
CASES = [
    ("revision", "1975ea83b712", "2026-11-25 08:27:41.025458", dict(message="create tenants table")),
    ("revision", "2a2b3c4d5e6f", "2026-11-25 08:27:42.357835",
     dict(message="add column, it's \"quoted\" \u2014 \u00fcn\u00ef")),
    ("revision", "3b00000000aa", "2026-11-25 08:27:43.666027",
     dict(message="branch b", head="1975ea83b712", splice=True, branch_label="feature",
          depends_on="1975ea83b712")),
    ("merge", "4c00000000bb", "2026-11-25 08:27:44.784332", dict(message="merge heads", revisions="heads")),
    ("revision", "5d00000000cc", "2026-11-25 08:27:46.082454",
     dict(message="two labels", branch_label="x,y", depends_on=["1975ea83b712", "3b00000000aa"])),
    ("revision", "6e00000000dd", "2026-11-25 08:27:47.391521", dict(message=None)),
    ("revision", "7f00000000ee", "2026-11-25 08:27:48.748376",
     dict(message="A very long message that will certainly be truncated by the slug rules!")),
    ("revision", "8a00000000ff", "2026-11-25 08:34:19.837051",
     dict(message="Supercalifragilisticexpialidocious_and_more_words_here")),
    ("revision", "9b0000000011", "2026-11-25 08:34:20.781973",
     dict(message="abcdefghij" * 5)),
    ("revision", "ab0000000022", "2026-11-25 08:34:22.046097",
     dict(message="  --Add  \u0130STANBUL's 2nd table!! (v2)  ")),
    ("revision", "bc0000000033", "2026-11-25 08:34:23.273179", dict(message="labels", branch_label="it's")),
    ("revision", "cd0000000044", "2026-11-25 08:34:27.421130",
     dict(message="two labels tuple", branch_label=["alpha", "beta"])),
]


def as_list(value):
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def header(path):
    """The four header values of a revision file, as Python reads them."""
    values = {}
    for node in ast.parse(open(path, encoding="utf-8").read()).body:
        if isinstance(node, ast.AnnAssign):
            values[node.target.id] = ast.literal_eval(node.value)
        elif isinstance(node, ast.Assign):
            values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


def main():
    with tempfile.TemporaryDirectory() as tmp:
        directory = os.path.join(tmp, "alembic")
        # Alembic's progress lines ("Generating ... done") are not part of the reference.
        quiet = io.StringIO()
        cfg = Config(file_=os.path.join(tmp, "alembic.ini"), stdout=quiet)
        with contextlib.redirect_stdout(quiet):
            command.init(cfg, directory, template="generic")
        cfg = Config(file_=os.path.join(tmp, "alembic.ini"), stdout=quiet)
        for verb, rev_id, date, kwargs in CASES:
            when = datetime.datetime.strptime(date, "%Y-%m-%d %H:%M:%S.%f")
            with mock.patch.object(ScriptDirectory, "_generate_create_date", lambda self: when), \
                    contextlib.redirect_stdout(quiet):
                script = getattr(command, verb)(cfg, rev_id=rev_id, **kwargs)
            path = script.path
            values = header(path)
            text = open(path, encoding="utf-8").read()
            print(f"=== {rev_id}")
            print(f"message\t{kwargs['message'] or ''}")
            print("\t".join(["down"] + as_list(values["down_revision"])))
            print("\t".join(["labels"] + as_list(values["branch_labels"])))
            print("\t".join(["depends"] + as_list(values["depends_on"])))
            print(f"date\t{date}")
            print(f"file\t{os.path.basename(path)}")
            lines = text.split("\n")
            assert lines[-1] == "", "the file ends with a newline"
            print(f"text {len(lines) - 1}")
            print(text, end="")


if __name__ == "__main__":
    main()
