"""visits on working days: assignment.visit_on, round.max_visits_per_day

Revision ID: 5a7e1c0d9b31
Revises: 5e7d2a91c4b3
Create Date: 2026-12-02 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5a7e1c0d9b31"
down_revision: str | None = "5e7d2a91c4b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_visits_per_day", sa.Integer(), nullable=False, server_default="6"))
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visit_on", sa.Date(), nullable=True))
    # Visits drawn before this revision keep their window; their day is its first day.
    op.execute("UPDATE assignment SET visit_on = visit_from WHERE visit_on IS NULL")
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.alter_column("visit_on", existing_type=sa.Date(), nullable=False)
        batch_op.create_index("ix_assignment_team_visit_on", ["team_id", "visit_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_assignment_team_visit_on")
        batch_op.drop_column("visit_on")
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.drop_column("max_visits_per_day")
