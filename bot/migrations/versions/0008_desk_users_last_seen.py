"""Who is on shift: desk_users.last_seen_at, when the user last had the console open
(bot/cases/users.py mark_seen); the assign list puts those seen lately first.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, not a batch: a batch would copy desk_users on SQLite, which the rows other
# tables keep pointing at (cases, the accounts' audit log) forbid; SQLite 3.35+ drops a column in place.
def upgrade() -> None:
    op.add_column("desk_users", sa.Column("last_seen_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("desk_users", "last_seen_at")
