"""Volunteers' home visits: cases.visit (the structured report) and cases.contact_name_key (the
toneless pinyin of the contact's name, indexed with the place), filled here for the cases there are.

Revision ID: 0006
Revises: 0005_case_stats
Create Date: 2026-12-04 09:00:00
"""

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005_case_stats"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_cases_jurisdiction_name_key"
BATCH = 500


def _name_key(name: object) -> str | None:
    """bot.cases.household_match.name_key as of this revision (kept here: a revision must not change)."""
    from pypinyin import Style, lazy_pinyin

    clean = unicodedata.normalize("NFKC", name if isinstance(name, str) else "").lower()
    syllables = lazy_pinyin(clean, style=Style.NORMAL, errors="default")
    return re.sub(r"[^0-9a-z]", "", "".join(syllables))[:64] or None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("contact_name_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("visit", sa.JSON(), nullable=True))
        batch.create_index(INDEX, ["jurisdiction", "contact_name_key"])

    if op.get_context().as_sql:
        # Offline (`upgrade head --sql`): the keys come from JSON read in Python, which a SQL
        # script cannot do; run `python -m bot.migrations upgrade head` once online to fill them.
        return
    cases = sa.table(
        "cases", sa.column("id", sa.Integer()), sa.column("contact", sa.JSON()), sa.column("contact_name_key")
    )
    conn = op.get_bind()
    last_id = 0
    while True:
        rows = conn.execute(
            sa.select(cases.c.id, cases.c.contact).where(cases.c.id > last_id).order_by(cases.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            key = _name_key((row.contact or {}).get("name") if isinstance(row.contact, dict) else None)
            if key:
                conn.execute(sa.update(cases).where(cases.c.id == row.id).values(contact_name_key=key))
        last_id = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index(INDEX)
        batch.drop_column("visit")
        batch.drop_column("contact_name_key")
