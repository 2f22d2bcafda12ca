"""delivery leases: the holder of each lease, and an index for claims bounded per subscription

Revision ID: 5e1f0c2a9b7d
Revises: 5c0e9a7d41b3
Create Date: 2026-12-02 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "5e1f0c2a9b7d"
down_revision: str | None = "5c0e9a7d41b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("leased_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )
        batch_op.create_index(
            "ix_delivery_subscription_due", ["subscription_id", "status", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_subscription_due")
        batch_op.drop_column("leased_by")
