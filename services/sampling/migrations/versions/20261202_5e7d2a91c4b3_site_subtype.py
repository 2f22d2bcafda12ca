"""site subtype (hospital, school, …) for quota groups

Revision ID: 5e7d2a91c4b3
Revises: dc515d04f641
Create Date: 2026-12-02 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "5e7d2a91c4b3"
down_revision: str | None = "dc515d04f641"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subtype", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.create_index(batch_op.f("ix_site_subtype"), ["subtype"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_subtype"))
        batch_op.drop_column("subtype")
