"""problem revision: the snapshot counter of rectification.problem.changed

`revision` grows with every change of a problem (and when it becomes overdue); each change sends a
full snapshot of the problem to reporting with it, and reporting keeps the highest. Problems
recorded before this revision start at 0: their next change sends revision 1.

Revision ID: 7b3e5f1a2c40
Revises: f6d819b540a4
Create Date: 2026-12-02 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7b3e5f1a2c40"
down_revision: str | None = "f6d819b540a4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("problem", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("problem", schema=None) as batch_op:
        batch_op.drop_column("revision")
