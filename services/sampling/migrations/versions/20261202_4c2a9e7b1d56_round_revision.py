"""round revision: the snapshot counter of sampling.round.drawn

`revision` grows with every draw, redraw, publication and move of a visit (team or day); each sends
reporting a full snapshot of the round's sample with it, and reporting keeps the highest. Rounds
recorded before this revision start at 0: their next change sends revision 1.

Revision ID: 4c2a9e7b1d56
Revises: 5a7e1c0d9b31
Create Date: 2026-12-02 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4c2a9e7b1d56"
down_revision: str | None = "5a7e1c0d9b31"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.drop_column("revision")
