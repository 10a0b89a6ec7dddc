//! `render_python` and `file_name` against real Alembic 1.20.1 output.
//!
//! Every expected file below was written by Alembic itself: `alembic init alembic` in a scratch
//! folder, then `alembic revision -m MSG --rev-id ID [--head H] [--splice] [--branch-label L]
//! [--depends-on D]`, `alembic merge heads`, and for a tuple of two branch labels
//! `alembic.command.revision(cfg, branch_label=['alpha', 'beta'], ...)`. The fields of each
//! case were read back from the generated file with Python's `ast`. Only the create date
//! differs from run to run: the case's date is fed to the renderer.

use migrate_core::render::{file_name, render_python, NewRevision};
use migrate_core::ScriptFormat;

struct Case {
    file: &'static str,
    message: &'static str,
    id: &'static str,
    down: &'static [&'static str],
    labels: &'static [&'static str],
    depends: &'static [&'static str],
    date: &'static str,
    text: &'static str,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn new_revision(case: &Case) -> NewRevision {
    NewRevision {
        id: case.id.to_string(),
        message: case.message.to_string(),
        down_revisions: strings(case.down),
        branch_labels: strings(case.labels),
        depends_on: strings(case.depends),
        create_date: case.date.to_string(),
    }
}

#[test]
fn python_files_equal_what_alembic_writes() {
    for case in CASES {
        assert_eq!(
            render_python(&new_revision(case)),
            case.text,
            "{}",
            case.file
        );
    }
}

#[test]
fn cases_cover_base_parent_merge_labels_and_dependencies() {
    assert!(CASES.iter().any(|c| c.down.is_empty()));
    assert!(CASES.iter().any(|c| c.down.len() == 2));
    assert!(CASES.iter().any(|c| c.labels.len() == 1));
    assert!(CASES.iter().any(|c| c.labels.len() == 2));
    assert!(CASES.iter().any(|c| c.depends.len() == 1));
    assert!(CASES.iter().any(|c| c.depends.len() == 2));
    assert!(CASES.iter().any(|c| c.message.is_empty()));
}

#[test]
fn file_names_equal_what_alembic_writes() {
    for case in CASES {
        assert_eq!(
            file_name(case.id, case.message, ScriptFormat::Python),
            case.file,
            "message {:?}",
            case.message
        );
        let sql = file_name(case.id, case.message, ScriptFormat::Sql);
        assert_eq!(sql, case.file.replace(".py", ".sql"));
    }
}

const CASES: &[Case] = &[
    Case {
        file: r####"1975ea83b712_create_tenants_table.py"####,
        message: r####"create tenants table"####,
        id: r####"1975ea83b712"####,
        down: &[],
        labels: &[],
        depends: &[],
        date: r####"2026-11-25 08:27:41.025458"####,
        text: r####""""create tenants table

Revision ID: 1975ea83b712
Revises: 
Create Date: 2026-11-25 08:27:41.025458

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1975ea83b712'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    pass


def downgrade() -> None:
    """Downgrade schema."""
    pass
"####,
    },
    Case {
        file: r####"2a2b3c4d5e6f_add_column_it_s_quoted_ünï.py"####,
        message: r####"add column, it's "quoted" — ünï"####,
        id: r####"2a2b3c4d5e6f"####,
        down: &[r####"1975ea83b712"####],
        labels: &[],
        depends: &[],
        date: r####"2026-11-25 08:27:42.357835"####,
        text: r####""""add column, it's "quoted" — ünï

Revision ID: 2a2b3c4d5e6f
Revises: 1975ea83b712
Create Date: 2026-11-25 08:27:42.357835

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '2a2b3c4d5e6f'
down_revision: Union[str, Sequence[str], None] = '1975ea83b712'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    pass


def downgrade() -> None:
    """Downgrade schema."""
    pass
"####,
    },
    Case {
        file: r####"3b00000000aa_branch_b.py"####,
        message: r####"branch b"####,
        id: r####"3b00000000aa"####,
        down: &[r####"1975ea83b712"####],
        labels: &[r####"feature"####],
        depends: &[r####"1975ea83b712"####],
        date: r####"2026-11-25 08:27:43.666027"####,
        text: r####""""branch b

Revision ID: 3b00000000aa
Revises: 1975ea83b712
Create Date: 2026-11-25 08:27:43.666027

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '3b00000000aa'
down_revision: Union[str, Sequence[str], None] = '1975ea83b712'
branch_labels: Union[str, Sequence[str], None] = ('feature',)
depends_on: Union[str, Sequence[str], None] = '1975ea83b712'


def upgrade() -> None:
    """Upgrade schema."""
    pass


def downgrade() -> None:
    """Downgrade schema."""
    pass
"####,
    },
    Case {
        file: r####"4c00000000bb_merge_heads.py"####,
        message: r####"merge heads"####,
        id: r####"4c00000000bb"####,
        down: &[r####"2a2b3c4d5e6f"####, r####"3b00000000aa"####],
        labels: &[],
        depends: &[],
        date: r####"2026-11-25 08:27:44.784332"####,
        text: r####""""merge heads

Revision ID: 4c00000000bb
Revises: 2a2b3c4d5e6f, 3b00000000aa
Create Date: 2026-11-25 08:27:44.784332

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '4c00000000bb'
down_revision: Union[str, Sequence[str], None] = ('2a2b3c4d5e6f', '3b00000000aa')
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    pass


def downgrade() -> None:
    """Downgrade schema."""
    pass
"####,
    },
    Case {
        file: r####"5d00000000cc_two_labels.py"####,
        message: r####"two labels"####,
        id: r####"5d00000000cc"####,
        down: &[r####"4c00000000bb"####],
        labels: &[r####"x,y"####],
        depends: &[r####"1975ea83b712"####, r####"3b00000000aa"####],
        date: r####"2026-11-25 08:27:46.082454"####,
        text: r####""""two labels

Revision ID: 5d00000000cc
Revises: 4c00000000bb
Create Date: 2026-11-25 08:27:46.082454

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '5d00000000cc'
down_revision: Union[str, Sequence[str], None] = '4c00000000bb'
branch_labels: Union[str, Sequence[str], None] = ('x,y',)
depends_on: Union[str, Sequence[str], None] = ['1975ea83b712', '3b00000000aa']


def upgrade() -> None:
    """Upgrade schema."""
    pass


def downgrade() -> None:
    """Downgrade schema."""
    pass
"####,
    },
    Case {
        file: r####"6e00000000dd_.py"####,
        message: r####""####,
        id: r####"6e00000000dd"####,
        down: &[r####"5d00000000cc"####],
        labels: &[],
        depends: &[],
        date: r####"2026-11-25 08:27:47.391521"####,
        text: r####""""empty message

Revision ID: 6e00000000dd
Revises: 5d00000000cc
Create Date: 2026-11-25 08:27:47.391521

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '6e00000000dd'
down_revision: Union[str, Sequence[str], None] = '5d00000000cc'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    pass


def downgrade() -> None:
    """Downgrade schema."""
    pass
"####,
    },
    Case {
        file: r####"7f00000000ee_a_very_long_message_that_will_certainly_.py"####,
        message: r####"A very long message that will certainly be truncated by the slug rules!"####,
        id: r####"7f00000000ee"####,
        down: &[r####"6e00000000dd"####],
        labels: &[],
        depends: &[],
        date: r####"2026-11-25 08:27:48.748376"####,
        text: r####""""A very long message that will certainly be truncated by the slug rules!

Revision ID: 7f00000000ee
Revises: 6e00000000dd
Create Date: 2026-11-25 08:27:48.748376

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '7f00000000ee'
down_revision: Union[str, Sequence[str], None] = '6e00000000dd'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    pass


def downgrade() -> None:
    """Downgrade schema."""
    pass
"####,
    },
    Case {
        file: r####"8a00000000ff_supercalifragilisticexpialidocious_and_.py"####,
        message: r####"Supercalifragilisticexpialidocious_and_more_words_here"####,
        id: r####"8a00000000ff"####,
        down: &[r####"7f00000000ee"####],
        labels: &[],
        depends: &[],
        date: r####"2026-11-25 08:34:19.837051"####,
        text: r####""""Supercalifragilisticexpialidocious_and_more_words_here

Revision ID: 8a00000000ff
Revises: 7f00000000ee
Create Date: 2026-11-25 08:34:19.837051

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '8a00000000ff'
down_revision: Union[str, Sequence[str], None] = '7f00000000ee'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    pass


def downgrade() -> None:
    """Downgrade schema."""
    pass
"####,
    },
    Case {
        file: r####"9b0000000011_abcdefghijabcdefghijabcdefghijabcdefghij_.py"####,
        message: r####"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"####,
        id: r####"9b0000000011"####,
        down: &[r####"8a00000000ff"####],
        labels: &[],
        depends: &[],
        date: r####"2026-11-25 08:34:20.781973"####,
        text: r####""""abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij

Revision ID: 9b0000000011
Revises: 8a00000000ff
Create Date: 2026-11-25 08:34:20.781973

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '9b0000000011'
down_revision: Union[str, Sequence[str], None] = '8a00000000ff'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    pass


def downgrade() -> None:
    """Downgrade schema."""
    pass
"####,
    },
    Case {
        file: r####"ab0000000022_add_i̇stanbul_s_2nd_table_v2.py"####,
        message: r####"  --Add  İSTANBUL's 2nd table!! (v2)  "####,
        id: r####"ab0000000022"####,
        down: &[r####"9b0000000011"####],
        labels: &[],
        depends: &[],
        date: r####"2026-11-25 08:34:22.046097"####,
        text: r####""""  --Add  İSTANBUL's 2nd table!! (v2)  

Revision ID: ab0000000022
Revises: 9b0000000011
Create Date: 2026-11-25 08:34:22.046097

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'ab0000000022'
down_revision: Union[str, Sequence[str], None] = '9b0000000011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    pass


def downgrade() -> None:
    """Downgrade schema."""
    pass
"####,
    },
    Case {
        file: r####"bc0000000033_labels.py"####,
        message: r####"labels"####,
        id: r####"bc0000000033"####,
        down: &[r####"ab0000000022"####],
        labels: &[r####"it's"####],
        depends: &[],
        date: r####"2026-11-25 08:34:23.273179"####,
        text: r####""""labels

Revision ID: bc0000000033
Revises: ab0000000022
Create Date: 2026-11-25 08:34:23.273179

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'bc0000000033'
down_revision: Union[str, Sequence[str], None] = 'ab0000000022'
branch_labels: Union[str, Sequence[str], None] = ("it's",)
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    pass


def downgrade() -> None:
    """Downgrade schema."""
    pass
"####,
    },
    Case {
        file: r####"cd0000000044_two_labels_tuple.py"####,
        message: r####"two labels tuple"####,
        id: r####"cd0000000044"####,
        down: &[r####"bc0000000033"####],
        labels: &[r####"alpha"####, r####"beta"####],
        depends: &[],
        date: r####"2026-11-25 08:34:27.421130"####,
        text: r####""""two labels tuple

Revision ID: cd0000000044
Revises: bc0000000033
Create Date: 2026-11-25 08:34:27.421130

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'cd0000000044'
down_revision: Union[str, Sequence[str], None] = 'bc0000000033'
branch_labels: Union[str, Sequence[str], None] = ('alpha', 'beta')
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    pass


def downgrade() -> None:
    """Downgrade schema."""
    pass
"####,
    },
];
