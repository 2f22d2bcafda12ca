"""calendar token scope

A feed shows only the problems inside the scope of the principal who issued its token. Tokens
issued before this revision have an empty scope, which covers nothing: their owners re-issue the
link (POST /calendar-token).

Revision ID: 5c1e7d2a9f30
Revises: 3a9bc657497b
Create Date: 2026-12-02 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "5c1e7d2a9f30"
down_revision: str | None = "3a9bc657497b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calendar_token") as batch:
        batch.add_column(
            sa.Column(
                "scope", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False, server_default=""
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("calendar_token") as batch:
        batch.drop_column("scope")
