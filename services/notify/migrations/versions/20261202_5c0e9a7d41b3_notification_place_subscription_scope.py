"""notification place and webhook subscription scope (issue 9: every caller stays inside its scope)

Revision ID: 5c0e9a7d41b3
Revises: dbf1ced73aa1
Create Date: 2026-12-02 02:30:00.000000

Rows written before this revision were written by city-wide callers only, so they get the city
root (``CITY_ROOT``): existing subscriptions keep receiving every event, existing notifications are
readable city-wide and, by a district, through their deliveries to its people.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from services.notify.config import Settings

revision: str = "5c0e9a7d41b3"
down_revision: str | None = "dbf1ced73aa1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    root = Settings().city_root
    for table, column in (("notification", "org_unit"), ("webhook_subscription", "scope")):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    column,
                    sqlmodel.sql.sqltypes.AutoString(length=400),
                    nullable=False,
                    server_default=root,
                )
            )
        with op.batch_alter_table(table, schema=None) as batch_op:
            # The default only filled existing rows; new rows always name their place.
            batch_op.alter_column(column, server_default=None)
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def downgrade() -> None:
    for table, column in (("webhook_subscription", "scope"), ("notification", "org_unit")):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
            batch_op.drop_column(column)
